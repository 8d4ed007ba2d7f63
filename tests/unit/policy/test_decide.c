/* test_decide.c: kc_decide(), the one function that turns a request into a
 * decision (ARCHITECTURE.md steps 1-5; policy-language.md §2.4, §7). What it
 * guards: the door itself. A decision that depends on the order of rules or
 * files (so that adding an allow above a deny opens access), a 401 where a
 * 403 or a 503 belongs (clients throw good tokens away and storm the
 * issuer), a challenge that leaks or misses the scope the client needs, an
 * Authorization header read two ways, a token checked with the wrong keys,
 * identity variables a client can pre-set or poison with control
 * characters, a request-only gate that a route without tokens skips. Each
 * test loads a small policy, sends requests with real signed tokens (an
 * ES256 key made for the test run) or synthetic claims, and checks the
 * verdict, the status and the exact WWW-Authenticate value. */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "../../common/testutil.h"
#include <jansson.h>

#include "decide.h"
#include "policy/policy.h"
#include "token/sign.h"

#include "policyfix.h"

/* The policy head every test starts from. */
#define HEAD \
	"keycard 1;\n" \
	"realm \"test\";\n" \
	"issuer t \"" ISS "\" { audience \"api\"; algorithms ES256; jwks file \"keys.jwks\"; }\n" \
	"claims { sub string required; client_id string; tenant string; email string; groups list<string>; level int; }\n"

TestSuite(combine, .init = setup, .fini = teardown);
TestSuite(status, .init = setup, .fini = teardown);
TestSuite(hint, .init = setup, .fini = teardown);
TestSuite(path, .init = setup, .fini = teardown);
TestSuite(routing, .init = setup, .fini = teardown);
TestSuite(auth, .init = setup, .fini = teardown);
TestSuite(credential, .init = setup, .fini = teardown);
TestSuite(token, .init = setup, .fini = teardown);
TestSuite(exports, .init = setup, .fini = teardown);
TestSuite(gates, .init = setup, .fini = teardown);

/* ---- combining rules: deny-overrides, then allow, then default deny ------------- */

Test(combine, deny_overrides_whatever_the_order)
{
	/* The same rules in every order within a route: the decision is the same. */
	static const char *const orders[] = {
		"allow as \"a\"; deny as \"d\" if claims.tenant == \"evil\";",
		"deny as \"d\" if claims.tenant == \"evil\"; allow as \"a\";",
	};
	for (size_t i = 0; i < 2; i++) {
		char text[2048];
		snprintf(text, sizeof(text), HEAD "resource r { route GET /x { %s } }\n", orders[i]);
		load(text);
		kc_decision d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"evil\"}");
		expect_verdict(d, KC_DENY_RULE, 403);
		expect_label(d, "d");
		expect_str(d.rule_kind, "deny");
		d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"good\"}");
		expect_allow(d);
		expect_label(d, "a");
	}
}

Test(combine, deny_overrides_across_levels_and_files)
{
	/* An allow at route level cannot reopen what a resource require, a
	 * resource deny or a gate in another file closes; file order is moot. */
	write_file("gate.kc", "gate { deny as \"gate\" if claims.sub == \"mallory\"; }\n");
	write_file("res.kc",
	    "resource r {\n"
	    "    require as \"tenant\" has(claims.tenant);\n"
	    "    deny as \"res-deny\" if claims.level == 0;\n"
	    "    allow as \"res-allow\" if claims.level >= 7;\n"
	    "    route GET /x { allow as \"route\"; deny as \"route-deny\" if claims.level == 8; }\n"
	    "}\n");
	for (int order = 0; order < 2; order++) {
		load(order ? HEAD "include \"res.kc\";\ninclude \"gate.kc\";\n" :
		    HEAD "include \"gate.kc\";\ninclude \"res.kc\";\n");
		kc_decision d = DECIDE(.target = "/x", .claims = "{\"sub\":\"mallory\",\"tenant\":\"t\"}");
		expect_verdict(d, KC_DENY_RULE, 403);
		expect_label(d, "gate");
		d = DECIDE(.target = "/x", .claims = "{\"level\":7}");
		expect_verdict(d, KC_DENY_RULE, 403);
		expect_label(d, "tenant");
		expect_str(d.rule_kind, "require");
		d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"t\",\"level\":0}");
		expect_verdict(d, KC_DENY_RULE, 403);
		expect_label(d, "res-deny");
		d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"t\",\"level\":7}");
		expect_allow(d);
		/* resource allows are tried before route allows */
		expect_label(d, "res-allow");
		/* and a resource allow cannot reopen what a route deny closes */
		d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"t\",\"level\":8}");
		expect_verdict(d, KC_DENY_RULE, 403);
		expect_label(d, "route-deny");
		d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"t\"}");
		expect_allow(d);
		expect_label(d, "route");
	}
}

Test(combine, first_fired_refusal_is_reported_in_fixed_order)
{
	/* gates, then resource rules, then route rules; source order within. */
	load(HEAD
	    "gate { deny as \"g1\" if claims.level == 1; deny as \"g2\" if claims.level >= 1; }\n"
	    "resource r {\n"
	    "    deny as \"r1\" if claims.level >= 2;\n"
	    "    require as \"r2\" claims.level < 3;\n"
	    "    route GET /x {\n"
	    "        allow;\n"
	    "        deny as \"x1\" if claims.level >= 3 status 429;\n"
	    "    }\n"
	    "}\n");
	expect_label(DECIDE(.target = "/x", .claims = "{\"level\":1}"), "g1");
	expect_label(DECIDE(.target = "/x", .claims = "{\"level\":5}"), "g2");
	load(HEAD
	    "resource r {\n"
	    "    deny as \"r1\" if claims.level >= 2;\n"
	    "    require as \"r2\" claims.level < 3;\n"
	    "    route GET /x {\n"
	    "        deny as \"x1\" if claims.level >= 3 status 429;\n"
	    "        allow;\n"
	    "    }\n"
	    "}\n");
	expect_label(DECIDE(.target = "/x", .claims = "{\"level\":2}"), "r1");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"level\":9}");
	expect_label(d, "r1");
	load(HEAD
	    "resource r {\n"
	    "    require as \"r2\" claims.level < 3;\n"
	    "    route GET /x { deny as \"x1\" if claims.level >= 1 status 429; allow; }\n"
	    "}\n");
	d = DECIDE(.target = "/x", .claims = "{\"level\":9}");
	expect_label(d, "r2");
	d = DECIDE(.target = "/x", .claims = "{\"level\":1}");
	expect_verdict(d, KC_DENY_RULE, 429);
	expect_label(d, "x1");
	expect_allow(DECIDE(.target = "/x", .claims = "{\"level\":0}"));
}

Test(combine, require_denies_when_the_value_is_missing)
{
	load(HEAD "resource r { require as \"t\" claims.tenant == \"acme\"; route GET /x { allow; } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_label(d, "t");
	expect_allow(DECIDE(.target = "/x", .claims = "{\"tenant\":\"acme\"}"));
}

Test(combine, allow_after_a_deny_that_did_not_fire)
{
	load(HEAD "resource r { route GET /x { deny if claims.tenant == \"evil\"; allow if claims.level > 1; } }\n");
	expect_allow(DECIDE(.target = "/x", .claims = "{\"level\":2}"));
	expect_verdict(DECIDE(.target = "/x", .claims = "{\"level\":1}"), KC_DENY_DEFAULT, 403);
}

Test(combine, rule_span_points_at_the_deciding_rule)
{
	load(HEAD "resource r { route GET /x {\n  deny as \"d\" if claims.level == 1;\n  allow as \"a\";\n} }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"level\":1}");
	unsigned line, col;
	cr_assert_not_null(d.rule_span.src);
	kc_source_position(d.rule_span.src, d.rule_span.start, &line, &col);
	cr_assert_eq(line, 6);
	cr_assert_eq(col, 3);
	d = DECIDE(.target = "/x", .claims = "{\"level\":2}");
	kc_source_position(d.rule_span.src, d.rule_span.start, &line, &col);
	cr_assert_eq(line, 7);
}

/* ---- statuses and WWW-Authenticate ---------------------------------------------------- */

Test(status, default_deny_anonymous_is_a_plain_challenge)
{
	load(HEAD "resource r { route GET /x { auth optional; allow if claims.level > 1; } }\n");
	kc_decision d = DECIDE(.target = "/x");
	expect_verdict(d, KC_DENY_DEFAULT, 401);
	expect_str(d.error, NULL);
	expect_challenge(d, "Bearer realm=\"test\"");
}

Test(status, default_deny_with_a_token_is_insufficient_scope)
{
	load(HEAD "resource r { route GET /x { allow if scope \"read\"; } }\n");
	kc_decision d = DECIDE(.target = "/x", .auth = bearer(token("{\"scope\":\"write\"}")));
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	expect_str(d.error, "insufficient_scope");
	expect_str(d.scope, "read");
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\", scope=\"read\"");
	expect_str(d.rule_label, NULL);
}

Test(status, default_deny_without_a_scope_rule_has_no_scope_attribute)
{
	load(HEAD "resource r { route GET /x { allow if claims.level > 1; } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"level\":1}");
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	expect_str(d.scope, NULL);
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\"");
}

Test(status, no_token_where_one_is_required)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	kc_decision d = DECIDE(.target = "/x");
	expect_verdict(d, KC_DENY_NO_TOKEN, 401);
	expect_str(d.error, NULL);
	/* RFC 6750 §3.1: no error code when the request had no credentials */
	expect_challenge(d, "Bearer realm=\"test\"");
}

Test(status, rule_responses)
{
	load(HEAD
	    "resource r { route GET /x {\n"
	    "    allow;\n"
	    "    deny as \"plain\" if claims.level == 1;\n"
	    "    deny as \"desc\" if claims.level == 2 status 403 description \"no access here\";\n"
	    "    deny as \"stepup\" if claims.level == 3 error insufficient_user_authentication;\n"
	    "    deny as \"badreq\" if claims.level == 4 error invalid_request;\n"
	    "    deny as \"scoped\" if claims.level == 5 error insufficient_scope scope \"admin\";\n"
	    "    deny as \"teapot\" if claims.level == 6 status 418;\n"
	    "    deny as \"unauth\" if claims.level == 7 status 401;\n"
	    "    deny as \"both\" if claims.level == 8 status 451 error invalid_token description \"gone\";\n"
	    "} }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"level\":1}");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_str(d.error, NULL);
	expect_challenge(d, NULL);   /* a plain 403 sends no challenge */
	d = DECIDE(.target = "/x", .claims = "{\"level\":2}");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_str(d.description, "no access here");
	d = DECIDE(.target = "/x", .claims = "{\"level\":3}");
	expect_verdict(d, KC_DENY_RULE, 401);
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_user_authentication\"");
	d = DECIDE(.target = "/x", .claims = "{\"level\":4}");
	expect_verdict(d, KC_DENY_RULE, 400);
	expect_challenge(d, "Bearer realm=\"test\", error=\"invalid_request\"");
	d = DECIDE(.target = "/x", .claims = "{\"level\":5}");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\", scope=\"admin\"");
	d = DECIDE(.target = "/x", .claims = "{\"level\":6}");
	expect_verdict(d, KC_DENY_RULE, 418);
	expect_challenge(d, NULL);
	d = DECIDE(.target = "/x", .claims = "{\"level\":7}");
	expect_verdict(d, KC_DENY_RULE, 401);
	expect_challenge(d, "Bearer realm=\"test\"");
	d = DECIDE(.target = "/x", .claims = "{\"level\":8}");
	expect_verdict(d, KC_DENY_RULE, 451);
	expect_challenge(d, "Bearer realm=\"test\", error=\"invalid_token\", error_description=\"gone\"");
}

Test(status, no_policy_is_503_never_401)
{
	kc_request req = { .method = "GET", .path = "/x", .path_len = 2, .now = NOW };
	kc_decision d;
	kc_decide(NULL, &req, arena, &d, NULL);
	expect_verdict(d, KC_DENY_UNAVAILABLE, 503);
	cr_assert_gt(d.retry_after, 0);
	expect_challenge(d, NULL);
}

Test(status, default_realm)
{
	load("keycard 1;\nissuer t \"" ISS "\" { audience \"api\"; jwks file \"keys.jwks\"; }\n"
	    "resource r { route GET /x { allow; } }\n");
	expect_challenge(DECIDE(.target = "/x"), "Bearer realm=\"keycard\"");
}

/* ---- the scope hint ----------------------------------------------------------------- */

#define ENTITY_HEAD HEAD \
	"scopes { entity devices, locations, scenes perms r, w, x; }\n"

Test(hint, template_with_the_capture_substituted)
{
	load(ENTITY_HEAD
	    "resource devices { mount /api/v1;\n"
	    "    route POST /devices/{id:slug}/commands { allow as \"exec\" if scope \"x:devices:{id}\"; }\n"
	    "}\n");
	const char *tok = token("{\"scope\":\"r:devices:123 r:devices:555 x:devices:123\"}");
	expect_allow(DECIDE(.method = "POST", .target = "/api/v1/devices/123/commands", .auth = bearer(tok)));
	kc_decision d = DECIDE(.method = "POST", .target = "/api/v1/devices/555/commands", .auth = bearer(tok));
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\", scope=\"x:devices:555\"");
}

Test(hint, all_lists_only_the_missing_members)
{
	load(ENTITY_HEAD
	    "resource r {\n"
	    "    route POST /l/{loc:slug}/s/{scene:slug} { allow if scope all(\"r:locations:{loc}\", \"x:scenes:{scene}\", \"audit\"); }\n"
	    "}\n");
	kc_decision d = DECIDE(.method = "POST", .target = "/l/home/s/night", .claims = "{\"scope\":\"r:locations:home\"}");
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	/* in the order written */
	expect_str(d.scope, "x:scenes:night audit");
	d = DECIDE(.method = "POST", .target = "/l/home/s/night", .claims = "{\"scope\":\"audit x:scenes:*\"}");
	expect_str(d.scope, "r:locations:home");
	expect_allow(DECIDE(.method = "POST", .target = "/l/home/s/night",
	    .claims = "{\"scope\":\"audit x:scenes:night r:locations:*\"}"));
}

Test(hint, any_uses_the_first_member)
{
	load(HEAD
	    "scopes { alias @readers = \"read:user\", \"user:email\"; }\n"
	    "resource r { route GET /x { allow if scope any(@readers); } route GET /y { allow if scope any(\"b\", \"a\"); } }\n");
	expect_str(DECIDE(.target = "/x", .claims = "").scope, "read:user");
	expect_str(DECIDE(.target = "/y", .claims = "").scope, "b");
}

/* §2.4.4 rule 3, "for any(...) the first member is used": the first as
 * written, an entity template included (plain scopes used to go first). */
Test(hint, any_first_member_is_the_first_written)
{
	load(ENTITY_HEAD "resource r { route GET /d/{id} { allow if scope any(\"x:devices:{id}\", \"admin\"); } }\n");
	expect_str(DECIDE(.target = "/d/7", .claims = "").scope, "x:devices:7");
}

Test(hint, has_entity_gives_no_hint)
{
	load(ENTITY_HEAD
	    "resource r {\n"
	    "    route GET /devices { allow if has_entity(r, devices); }\n"
	    "    route GET /l/{loc:slug}/devices { allow if scope \"r:locations:{loc}\" and has_entity(r, devices); }\n"
	    "}\n");
	kc_decision d = DECIDE(.target = "/devices", .claims = "");
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	expect_str(d.scope, NULL);
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\"");
	d = DECIDE(.target = "/l/home/devices", .claims = "");
	expect_str(d.scope, NULL);
}

Test(hint, first_allow_that_is_a_pure_scope_conjunction)
{
	load(HEAD
	    "resource r { route GET /x {\n"
	    "    allow if claims.level > 5;\n"
	    "    allow if scope \"a\" or scope \"b\";\n"
	    "    allow if scope \"c\" and scope \"d\";\n"
	    "    allow if scope \"e\";\n"
	    "} }\n");
	/* the token has d, lacks c: whichever way the conjunction is read, "c" */
	expect_str(DECIDE(.target = "/x", .claims = "{\"scope\":\"d\"}").scope, "c");
}

/* §2.4.4 rule 3 and §7.8: the hint comes from the whole conjunction of
 * scope tests and names what the token lacks, as for all() (only the first
 * scope test used to be read, so a token with "c" but not "d" got no
 * scope= at all). */
Test(hint, conjunction_names_what_is_missing)
{
	load(HEAD "resource r { route GET /x { allow if scope \"c\" and scope \"d\"; } }\n");
	expect_str(DECIDE(.target = "/x", .claims = "{\"scope\":\"c\"}").scope, "d");
}

Test(hint, resource_allow_comes_first)
{
	load(HEAD "resource r { allow if scope \"res\"; route GET /x { allow if scope \"route\"; } }\n");
	expect_str(DECIDE(.target = "/x", .claims = "").scope, "res");
}

Test(hint, route_hint_and_rule_scope_win)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /x { allow if scope \"a\"; hint scope \"a\", \"b:*\"; }\n"
	    "    route GET /y { allow if scope \"a\"; deny if claims.level == 1 error insufficient_scope scope \"z\"; }\n"
	    "    route GET /z { allow if scope \"a\"; deny if claims.level == 1 error insufficient_scope; }\n"
	    "    route GET /w { allow if scope \"a\"; deny if claims.level == 1 status 403; }\n"
	    "}\n");
	expect_str(DECIDE(.target = "/x", .claims = "").scope, "a b:*");
	kc_decision d = DECIDE(.target = "/y", .claims = "{\"level\":1}");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_str(d.scope, "z");
	/* §7.8: insufficient_scope without scope takes the derived hint */
	d = DECIDE(.target = "/z", .claims = "{\"level\":1}");
	expect_challenge(d, "Bearer realm=\"test\", error=\"insufficient_scope\", scope=\"a\"");
	/* a deny without insufficient_scope gives no hint */
	d = DECIDE(.target = "/w", .claims = "{\"level\":1}");
	expect_str(d.scope, NULL);
	expect_challenge(d, NULL);
}

Test(hint, implied_scopes_are_not_asked_for)
{
	load(HEAD "scopes { declare \"admin\", \"read\", \"write\"; implies \"admin\" -> \"read\"; }\n"
	    "resource r { route GET /x { allow if scope all(\"read\", \"write\"); } }\n");
	expect_str(DECIDE(.target = "/x", .claims = "{\"scope\":\"admin\"}").scope, "write");
}

Test(hint, capture_with_unsafe_bytes_gives_no_hint)
{
	/* A percent-encoded quote in the id must not break the header. */
	load(ENTITY_HEAD "resource r { route GET /d/{id} { allow if scope \"r:devices:{id}\"; } }\n");
	kc_decision d = DECIDE(.target = "/d/a%22b", .claims = "");
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	if (d.scope != NULL)
		cr_assert(strchr(d.scope, '"') == NULL, "%s", d.scope);
	cr_assert(d.www_authenticate != NULL);
	/* every quote in the header is one of the attribute quotes */
	unsigned quotes = 0;
	for (const char *c = d.www_authenticate; *c; c++)
		quotes += *c == '"';
	cr_assert_eq(quotes % 2, 0, "%s", d.www_authenticate);
	cr_assert(strstr(d.www_authenticate, "a\"b") == NULL, "%s", d.www_authenticate);
}

Test(hint, trace_does_not_change_the_decision)
{
	/* keycard eval passes a trace; production passes none: same answer. */
	load(ENTITY_HEAD
	    "gate { deny as \"net\" if request.remote_addr in [\"203.0.113.0/24\"]; }\n"
	    "resource r { export { KEYCARD_IDS = entity_ids(r, devices); }\n"
	    "    route GET /d/{id} { allow as \"read\" if scope \"r:devices:{id}\"; deny as \"odd\" if claims.level == 1; }\n"
	    "}\n");
	static const rq reqs[] = {
		{ .target = "/d/1", .claims = "{\"scope\":\"r:devices:1 r:devices:2\"}" },
		{ .target = "/d/3", .claims = "{\"scope\":\"r:devices:1\"}" },
		{ .target = "/d/1", .claims = "{\"scope\":\"r:devices:1\",\"level\":1}" },
		{ .target = "/d/1", .remote = "203.0.113.1" },
		{ .target = "/d/1" },
		{ .target = "/nope" },
		{ .target = "/d/../x" },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		kc_decision plain = run(&reqs[i]);
		kc_request req = { 0 };
		/* the same request again, with a trace */
		const rq *r = &reqs[i];
		char *synth = r->claims ? claims_json(r->claims) : NULL;
		req.method = "GET";
		req.path = r->target;
		req.path_len = strlen(r->target);
		req.remote_addr = r->remote ? r->remote : "198.51.100.7";
		req.now = NOW;
		req.synthetic_claims = synth;
		req.synthetic_claims_len = synth ? strlen(synth) : 0;
		kc_trace trace = { .full = true };
		kc_decision traced;
		kc_decide(policy, &req, arena, &traced, &trace);
		cr_assert_eq(traced.verdict, plain.verdict, "request %zu", i);
		cr_assert_eq(traced.status, plain.status, "request %zu", i);
		expect_str(traced.www_authenticate, plain.www_authenticate);
		expect_str(traced.rule_label, plain.rule_label);
		cr_assert_eq(traced.n_exports, plain.n_exports, "request %zu", i);
		for (size_t j = 0; j < plain.n_exports; j++)
			expect_str(export_of(&traced, plain.exports[j].name), plain.exports[j].value);
		cr_assert_not_null(trace.first, "request %zu left no trace", i);
		free(synth);
	}
}

/* ---- paths -------------------------------------------------------------------------- */

Test(path, unsafe_paths_are_400_without_challenge)
{
	load(HEAD "resource r { route GET /{rest...} { auth none; allow; } }\n");
	static const char *const bad[] = { "/a/../b", "/a/./b", "/a//b", "/a/%2Fb", "/a/%2fb",
	    "/a/%5Cb", "/a/%00", "/a/%2e%2e/b", "/%FF", "/a/%zz", "a/b", "/.." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kc_decision d = DECIDE(.target = bad[i], .auth = "Bearer x y");
		cr_assert(d.verdict == KC_DENY_PATH && d.status == 400, "%s: %s %d", bad[i],
		    verdict_name(d.verdict), d.status);
		expect_challenge(d, NULL);
		cr_assert_eq(d.n_exports, 0);
	}
	expect_allow(DECIDE(.target = "/a/%7Eb/c.d"));
}

Test(path, decoded_unreserved_characters_match_routes)
{
	load(HEAD "resource r { route GET /~me { auth none; allow as \"me\"; } }\n");
	expect_label(DECIDE(.target = "/%7Eme"), "me");
	expect_label(DECIDE(.target = "/%7eme"), "me");
}

/* ---- routing -------------------------------------------------------------------------- */

Test(routing, no_route_is_the_default_response_and_nothing_else)
{
	load(HEAD "default status 403;\n"
	    "gate { deny as \"net\" if request.remote_addr in [\"203.0.113.0/24\"]; }\n"
	    "resource r { route GET /x { allow; } }\n");
	/* no challenge, no token work: not even a malformed header is a 400 */
	kc_decision d = DECIDE(.target = "/y", .auth = "Bearer");
	expect_verdict(d, KC_DENY_NO_ROUTE, 403);
	expect_challenge(d, NULL);
	expect_str(d.error, NULL);
	/* gates run only for a matched route (§7.1) */
	d = DECIDE(.target = "/y", .remote = "203.0.113.9");
	expect_verdict(d, KC_DENY_NO_ROUTE, 403);
	/* a method no route has is the same answer: no route existence leaks */
	d = DECIDE(.method = "DELETE", .target = "/x");
	expect_verdict(d, KC_DENY_NO_ROUTE, 403);
	expect_challenge(d, NULL);
	d = DECIDE(.method = "BREW", .target = "/x");
	expect_verdict(d, KC_DENY_NO_ROUTE, 403);
}

Test(routing, default_is_404)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	expect_verdict(DECIDE(.target = "/nothing"), KC_DENY_NO_ROUTE, 404);
}

Test(routing, trailing_slash_is_significant)
{
	load(HEAD "resource r { route GET /x { auth none; allow as \"x\"; } route GET /y/ { auth none; allow as \"y\"; } }\n");
	expect_verdict(DECIDE(.target = "/x/"), KC_DENY_NO_ROUTE, 404);
	expect_verdict(DECIDE(.target = "/y"), KC_DENY_NO_ROUTE, 404);
	expect_label(DECIDE(.target = "/y/"), "y");
}

Test(routing, head_is_not_get)
{
	load(HEAD "resource r { route GET /x { auth none; allow; } route GET|HEAD /y { auth none; allow; } }\n");
	expect_verdict(DECIDE(.method = "HEAD", .target = "/x"), KC_DENY_NO_ROUTE, 404);
	expect_allow(DECIDE(.method = "HEAD", .target = "/y"));
}

Test(routing, most_specific_route_wins_whatever_the_file_order)
{
	const char *routes =
	    "resource r {\n"
	    "    route GET /u/{rest...} { auth none; allow as \"tail\"; }\n"
	    "    route GET /u/{x} { auth none; allow as \"any\"; }\n"
	    "    route GET /u/{x:slug} { auth none; allow as \"slug\"; }\n"
	    "    route GET /u/{x:hex} { auth none; allow as \"hex\"; }\n"
	    "    route GET /u/{x:int} { auth none; allow as \"int\"; }\n"
	    "    route GET /u/{x:uuid} { auth none; allow as \"uuid\"; }\n"
	    "    route GET /u/me { auth none; allow as \"literal\"; }\n"
	    "    route GET /u/{x}/edit { auth none; allow as \"any-edit\"; }\n"
	    "    route GET /u/me/{y} { auth none; allow as \"literal-any\"; }\n"
	    "}\n";
	write_file("routes.kc", routes);
	load(HEAD "include \"routes.kc\";\n");
	static const struct { const char *path, *label; } cases[] = {
		{ "/u/me", "literal" }, { "/u/123", "int" }, { "/u/abc", "hex" },
		{ "/u/abc-def", "slug" }, { "/u/caf%C3%A9", "any" }, { "/u/a/b/c", "tail" },
		{ "/u/0e8400e2-9b41-4d47-a716-446655440000", "uuid" },
		{ "/u/12345678901234567890", "hex" },   /* 20 digits: not an int */
		{ "/u/me/edit", "literal-any" },        /* the first differing segment decides */
		{ "/u/you/edit", "any-edit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kc_decision d = DECIDE(.target = cases[i].path);
		cr_assert(d.verdict == KC_ALLOW && d.rule_label && strcmp(d.rule_label, cases[i].label) == 0,
		    "%s: expected %s, got %s %s", cases[i].path, cases[i].label, verdict_name(d.verdict),
		    d.rule_label ? d.rule_label : "-");
	}
}

Test(routing, methods_filter_first)
{
	/* §7.7: the literal route has no POST, so the capture route takes it. */
	load(HEAD "resource r { route GET /u/me { auth none; allow as \"me\"; } route POST /u/{x} { auth none; allow as \"post\"; } }\n");
	expect_label(DECIDE(.method = "POST", .target = "/u/me"), "post");
	expect_label(DECIDE(.method = "GET", .target = "/u/me"), "me");
	expect_verdict(DECIDE(.method = "GET", .target = "/u/you"), KC_DENY_NO_ROUTE, 404);
}

Test(routing, mount_prefixes_the_routes)
{
	load(HEAD "resource a { mount /api/v1/; route GET /x { auth none; allow as \"a\"; } }\n"
	    "resource b { mount /; route GET /x { auth none; allow as \"b\"; } }\n");
	expect_label(DECIDE(.target = "/api/v1/x"), "a");
	expect_label(DECIDE(.target = "/x"), "b");
	expect_str(DECIDE(.target = "/api/v1/x").route, "/api/v1/x");
}

/* ---- auth none / optional --------------------------------------------------------------- */

Test(auth, none_never_reads_authorization)
{
	load(HEAD "resource r { route GET /x { auth none; allow as \"open\"; } }\n");
	/* §7.2: malformed, doubled, invalid or foreign credentials change nothing */
	kc_decision d = DECIDE(.target = "/x", .auth = "Bearer");
	expect_allow(d);
	expect_allow(DECIDE(.target = "/x", .auth = "Bearer a", .headers = { "authorization: Bearer b" }));
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, NULL))));
	d = DECIDE(.target = "/x", .auth = bearer(token(NULL)));
	expect_allow(d);
	/* and no identity is handed on from a token that was not read */
	expect_str(export_of(&d, "REMOTE_USER"), NULL);
	expect_str(export_of(&d, "KEYCARD_SUBJECT"), NULL);
	expect_str(export_of(&d, "KEYCARD_RULE"), "open");
}

Test(auth, optional_is_anonymous_without_a_token_and_strict_with_one)
{
	load(HEAD "resource r { route GET /x { auth optional; allow as \"status\"; export { KEYCARD_VIEWER = claims.sub; } } }\n");
	kc_decision d = DECIDE(.target = "/x");
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_VIEWER"), NULL);
	expect_str(export_of(&d, "REMOTE_USER"), NULL);
	expect_str(export_of(&d, "AUTH_TYPE"), NULL);   /* anonymous: no Bearer identity */
	expect_str(export_of(&d, "KEYCARD_RULE"), "status");
	d = DECIDE(.target = "/x", .auth = bearer(token(NULL)));
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_VIEWER"), "alice");
	/* a token, if sent, must be valid */
	d = DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, NULL)));
	expect_verdict(d, KC_DENY_TOKEN, 401);
	d = DECIDE(.target = "/x", .auth = "Bearer");
	expect_verdict(d, KC_DENY_REQUEST, 400);
	/* a Basic header is no bearer token: anonymous */
	expect_allow(DECIDE(.target = "/x", .auth = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
}

Test(auth, resource_default_and_route_override)
{
	load(HEAD "resource r { auth none; route GET /a { allow; } route GET /b { auth required; allow; } }\n");
	expect_allow(DECIDE(.target = "/a"));
	expect_verdict(DECIDE(.target = "/b"), KC_DENY_NO_TOKEN, 401);
}

/* ---- the Authorization header (RFC 6750 §2.1, §7.3) ---------------------------------- */

Test(credential, scheme_is_case_insensitive)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	const char *tok = token(NULL);
	static const char *const schemes[] = { "Bearer", "bearer", "BEARER", "bEaReR" };
	for (size_t i = 0; i < 4; i++) {
		char h[2048];
		snprintf(h, sizeof(h), "%s %s", schemes[i], tok);
		kc_decision d = DECIDE(.target = "/x", .auth = kc_arena_strndup(arena, h, strlen(h)));
		cr_assert_eq(d.verdict, KC_ALLOW, "%s: %s", schemes[i], verdict_name(d.verdict));
	}
	/* the header name too */
	char h[2048];
	snprintf(h, sizeof(h), "authorization: Bearer %s", tok);
	expect_allow(DECIDE(.target = "/x", .headers = { h }));
}

Test(credential, two_credentials_are_400)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	const char *tok = token(NULL);
	char h[2048];
	snprintf(h, sizeof(h), "authorization: Bearer %s", tok);
	kc_decision d = DECIDE(.target = "/x", .auth = bearer(tok), .headers = { h });
	expect_verdict(d, KC_DENY_REQUEST, 400);
	expect_str(d.error, "invalid_request");
	expect_challenge(d, "Bearer realm=\"test\", error=\"invalid_request\"");
	/* even when the second one is another scheme */
	d = DECIDE(.target = "/x", .auth = bearer(tok), .headers = { "Authorization: Basic YTpi" });
	expect_verdict(d, KC_DENY_REQUEST, 400);
}

Test(credential, malformed_bearer_is_400)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	static const char *const bad[] = { "Bearer", "Bearer ", "Bearer    ", "Bearer a b",
	    "Bearer a,b", "Bearer \"abc\"", "Bearer a=b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kc_decision d = DECIDE(.target = "/x", .auth = bad[i]);
		cr_assert(d.verdict == KC_DENY_REQUEST && d.status == 400, "«%s»: %s %d", bad[i],
		    verdict_name(d.verdict), d.status);
		expect_challenge(d, "Bearer realm=\"test\", error=\"invalid_request\"");
	}
}

Test(credential, other_schemes_are_no_token)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	static const char *const other[] = { "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Digest x=1",
	    "Bearerx abc", "Token abc" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		kc_decision d = DECIDE(.target = "/x", .auth = other[i]);
		cr_assert(d.verdict == KC_DENY_NO_TOKEN && d.status == 401, "«%s»: %s %d", other[i],
		    verdict_name(d.verdict), d.status);
		expect_challenge(d, "Bearer realm=\"test\"");
	}
}

Test(credential, token68_padding_and_trailing_space)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	const char *tok = token(NULL);
	char h[2048];
	snprintf(h, sizeof(h), "Bearer   %s  ", tok);
	expect_allow(DECIDE(.target = "/x", .auth = h));
}

/* ---- tokens ------------------------------------------------------------------------------ */

Test(token, a_valid_signed_token_is_allowed)
{
	load(HEAD "resource r { route GET /x { allow as \"ok\" if claims.sub == \"alice\"; } }\n");
	kc_decision d = DECIDE(.target = "/x", .auth = bearer(token(NULL)));
	expect_allow(d);
	cr_assert_not(d.synthetic);
	expect_str(d.subject, "alice");
	expect_str(d.issuer, ISS);
	cr_assert_eq(strlen(d.token_hash), 12);
}

Test(token, failures_are_401_invalid_token)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	const char *bad[] = {
		token_by(stranger, NULL, NULL),                          /* bad signature */
		token("{\"exp\":1600000000}"),                           /* expired */
		token("{\"exp\":null}"),                                 /* exp required by default */
		token("{\"nbf\":1800000000}"),                           /* not yet valid */
		token("{\"aud\":\"other\"}"),                            /* wrong audience */
		token("{\"iss\":\"https://other.test/\"}"),              /* no such issuer */
		token("{\"sub\":null}"),                                 /* required claim missing */
		token("{\"sub\":42}"),                                   /* required claim of the wrong type */
		"abc.def.ghi",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",              /* alg none */
		"not-a-jwt",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kc_decision d = DECIDE(.target = "/x", .auth = bearer(bad[i]));
		cr_assert(d.verdict == KC_DENY_TOKEN && d.status == 401, "case %zu: %s %d (%s)", i,
		    verdict_name(d.verdict), d.status, d.note ? d.note : "");
		expect_str(d.error, "invalid_token");
		expect_challenge(d, "Bearer realm=\"test\", error=\"invalid_token\"");
		cr_assert_neq(d.token_reason, KC_TOK_OK);
		cr_assert_eq(d.n_exports, 0);
	}
}

Test(token, synthetic_claims_skip_only_the_signature)
{
	load(HEAD "resource r { route GET /x { allow; } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "");
	expect_allow(d);
	cr_assert(d.synthetic);
	/* §7.12: every claim check still runs */
	expect_verdict(DECIDE(.target = "/x", .claims = "{\"exp\":1600000000}"), KC_DENY_TOKEN, 401);
	expect_verdict(DECIDE(.target = "/x", .claims = "{\"aud\":\"x\"}"), KC_DENY_TOKEN, 401);
	expect_verdict(DECIDE(.target = "/x", .claims = "{\"iss\":\"https://x/\"}"), KC_DENY_TOKEN, 401);
	expect_verdict(DECIDE(.target = "/x", .claims = "{\"sub\":null}"), KC_DENY_TOKEN, 401);
}

Test(token, typ_is_checked_case_insensitively)
{
	load("keycard 1;\nrealm \"test\";\n"
	    "issuer t \"" ISS "\" { audience \"api\"; jwks file \"keys.jwks\"; typ \"at+jwt\"; }\n"
	    "resource r { route GET /x { allow; } }\n");
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(signer, "at+jwt", NULL))));
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(signer, "AT+JWT", NULL))));
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(signer, "application/at+jwt", NULL))));
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token_by(signer, "JWT", NULL))), KC_DENY_TOKEN, 401);
}

Test(token, the_issuer_is_chosen_by_iss_and_its_keys_only)
{
	char *jwks = kct_jwks_of(stranger);
	write_file("other.jwks", jwks);
	free(jwks);
	load("keycard 1;\nrealm \"test\";\n"
	    "issuer a \"https://a.test/\" { audience \"api\"; jwks file \"keys.jwks\"; }\n"
	    "issuer b \"https://b.test/\" { audience \"api\"; jwks file \"other.jwks\"; }\n"
	    "resource r { route GET /x { allow if token.iss == \"https://b.test/\"; allow if claims.sub == \"alice\"; } }\n"
	    "claims { sub string required; }\n");
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(signer, NULL, "{\"iss\":\"https://a.test/\"}"))));
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, "{\"iss\":\"https://b.test/\"}"))));
	/* a's token signed with b's key: verified only with a's keys */
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, "{\"iss\":\"https://a.test/\"}"))),
	    KC_DENY_TOKEN, 401);
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token_by(signer, NULL, "{\"iss\":\"https://c.test/\"}"))),
	    KC_DENY_TOKEN, 401);
}

Test(token, override_jwks_replaces_every_issuers_keys)
{
	char *jwks = kct_jwks_of(stranger);
	kc_policy_opts opts = { .override_jwks = jwks };
	load_opts(HEAD "resource r { route GET /x { allow; } }\n", &opts);
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, NULL))));
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token(NULL))), KC_DENY_TOKEN, 401);
	free(jwks);
}

/* ---- exports -------------------------------------------------------------------------------- */

#define EXPORT_HEAD HEAD \
	"client \"c1\" = \"First client\";\n" \
	"scopes { implies \"admin\" -> \"read\"; entity devices perms r, w; }\n"

Test(exports, default_identity_on_allow)
{
	load(EXPORT_HEAD "resource r { route GET /x { allow as \"ok\"; } }\n");
	kc_decision d = DECIDE(.target = "/x",
	    .auth = bearer(token("{\"scope\":\"admin  write admin r:devices:1 unknown\"}")));
	expect_allow(d);
	expect_str(export_of(&d, "REMOTE_USER"), "alice");
	expect_str(export_of(&d, "AUTH_TYPE"), "Bearer");
	expect_str(export_of(&d, "KEYCARD_SUBJECT"), "alice");
	expect_str(export_of(&d, "KEYCARD_ISSUER"), ISS);
	expect_str(export_of(&d, "KEYCARD_CLIENT_ID"), "c1");
	expect_str(export_of(&d, "KEYCARD_CLIENT_NAME"), "First client");
	/* §7.10: the token's own scopes, in order, de-duplicated; no implies closure */
	expect_str(export_of(&d, "KEYCARD_SCOPES"), "admin write r:devices:1 unknown");
	expect_str(export_of(&d, "KEYCARD_RULE"), "ok");
}

Test(exports, client_without_a_name_and_token_without_scopes)
{
	load(EXPORT_HEAD "resource r { route GET /x { allow; } }\n");
	kc_decision d = DECIDE(.target = "/x", .auth = bearer(token("{\"client_id\":\"c9\"}")));
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_CLIENT_ID"), "c9");
	expect_str(export_of(&d, "KEYCARD_CLIENT_NAME"), NULL);
	expect_str(export_of(&d, "KEYCARD_SCOPES"), NULL);
	expect_str(export_of(&d, "KEYCARD_RULE"), NULL);   /* an allow without a label */
	/* no variable is ever set to an empty value */
	for (size_t i = 0; i < d.n_exports; i++)
		cr_assert(d.exports[i].value != NULL && d.exports[i].value[0] != '\0', "%s", d.exports[i].name);
}

Test(exports, only_on_allow)
{
	load(EXPORT_HEAD
	    "export { KEYCARD_TENANT = claims.tenant; }\n"
	    "resource r { export { KEYCARD_R = claims.sub; } route GET /x { allow if claims.level > 1; deny if claims.level == 0; export { KEYCARD_X = claims.sub; } } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"level\":0,\"tenant\":\"t\"}");
	expect_verdict(d, KC_DENY_RULE, 403);
	cr_assert_eq(d.n_exports, 0);
	d = DECIDE(.target = "/x", .claims = "{\"level\":1,\"tenant\":\"t\"}");
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	cr_assert_eq(d.n_exports, 0);
	d = DECIDE(.target = "/x", .claims = "{\"level\":2,\"tenant\":\"t\"}");
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_TENANT"), "t");
	expect_str(export_of(&d, "KEYCARD_R"), "alice");
	expect_str(export_of(&d, "KEYCARD_X"), "alice");
}

Test(exports, later_definition_replaces_earlier)
{
	load(EXPORT_HEAD
	    "export { KEYCARD_WHO = claims.sub; REMOTE_USER = claims.email; }\n"
	    "resource r {\n"
	    "    export { KEYCARD_WHO = claims.tenant; }\n"
	    "    route GET /x { allow; export { KEYCARD_WHO = claims.client_id; } }\n"
	    "    route GET /y { allow; }\n"
	    "    route GET /z { allow; export { KEYCARD_WHO = claims.email; } }\n"
	    "}\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"tenant\":\"t\",\"email\":\"a@x\"}");
	expect_str(export_of(&d, "KEYCARD_WHO"), "c1");
	/* the policy may replace a default export */
	expect_str(export_of(&d, "REMOTE_USER"), "a@x");
	d = DECIDE(.target = "/y", .claims = "{\"tenant\":\"t\"}");
	expect_str(export_of(&d, "KEYCARD_WHO"), "t");
	/* a later definition whose value is missing leaves the variable unset */
	d = DECIDE(.target = "/z", .claims = "{\"tenant\":\"t\"}");
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_WHO"), NULL);
	expect_str(export_of(&d, "REMOTE_USER"), NULL);
}

Test(exports, control_characters_and_long_values_are_dropped)
{
	load(EXPORT_HEAD "resource r { route GET /x { allow; export { KEYCARD_EMAIL = claims.email; header \"X-Tenant\" = claims.tenant; } } }\n");
	static const char *const poison[] = { "a\\nREMOTE_USER: root", "a\\rb", "a\\tb",
	    "a\\u001bb", "a\\u007fb" };
	for (size_t i = 0; i < sizeof(poison) / sizeof(poison[0]); i++) {
		char extra[256];
		snprintf(extra, sizeof(extra), "{\"email\":\"%s\",\"tenant\":\"%s\"}", poison[i], poison[i]);
		kc_decision d = DECIDE(.target = "/x", .auth = bearer(token(extra)));
		/* §7.9: dropped, and the request is still allowed */
		expect_allow(d);
		cr_assert_null(export_of(&d, "KEYCARD_EMAIL"), "%s", poison[i]);
		cr_assert_null(export_of(&d, "HTTP_X_TENANT"), "%s", poison[i]);
		expect_str(export_of(&d, "REMOTE_USER"), "alice");
		for (size_t j = 0; j < d.n_exports; j++)
			for (const char *c = d.exports[j].value; *c; c++)
				cr_assert((unsigned char)*c >= 0x20 && *c != 0x7f, "%s", d.exports[j].name);
	}
	/* NUL: the token layer refuses it outright; never a truncated "a" */
	kc_decision dn = DECIDE(.target = "/x", .auth = bearer(token("{\"email\":\"a\\u0000b\"}")));
	cr_assert(dn.verdict != KC_ALLOW || export_of(&dn, "KEYCARD_EMAIL") == NULL,
	    "KEYCARD_EMAIL=%s", export_of(&dn, "KEYCARD_EMAIL"));
	dn = DECIDE(.target = "/x", .claims = "{\"email\":\"a\\u0000b\"}");
	cr_assert(dn.verdict != KC_ALLOW || export_of(&dn, "KEYCARD_EMAIL") == NULL,
	    "KEYCARD_EMAIL=%s", export_of(&dn, "KEYCARD_EMAIL"));

	/* a subject with a newline: the default exports drop it too */
	kc_decision d = DECIDE(.target = "/x", .auth = bearer(token("{\"sub\":\"root\\nX\"}")));
	expect_allow(d);
	expect_str(export_of(&d, "REMOTE_USER"), NULL);
	expect_str(export_of(&d, "KEYCARD_SUBJECT"), NULL);

	/* UTF-8 is fine */
	d = DECIDE(.target = "/x", .auth = bearer(token("{\"email\":\"caf\\u00e9@x\"}")));
	expect_str(export_of(&d, "KEYCARD_EMAIL"), "caf\xc3\xa9@x");

	/* over the size limit: dropped */
	char *big = malloc(9000);
	cr_assert_not_null(big);
	memcpy(big, "{\"email\":\"", 10);
	memset(big + 10, 'a', 8000);
	memcpy(big + 8010, "\"}", 3);
	d = DECIDE(.target = "/x", .auth = bearer(token(big)));
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_EMAIL"), NULL);
	free(big);
}

Test(exports, header_exports_become_http_variables)
{
	load(EXPORT_HEAD "resource r { route GET /x { allow; export { header \"X-Audit-Viewer\" = claims.email ?? claims.sub; } } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "");
	expect_str(export_of(&d, "HTTP_X_AUDIT_VIEWER"), "alice");
	d = DECIDE(.target = "/x", .claims = "{\"email\":\"a@x\"}");
	expect_str(export_of(&d, "HTTP_X_AUDIT_VIEWER"), "a@x");
}

Test(exports, values_of_every_type)
{
	load(EXPORT_HEAD
	    "resource r { route GET /d/{n:int} { allow if path.n > 0; export {\n"
	    "    KEYCARD_LEVEL = claims.level; KEYCARD_GROUPS = claims.groups; KEYCARD_N = path.n;\n"
	    "    KEYCARD_READ = entity_ids(r, devices); KEYCARD_WRITE = entity_ids(w, devices);\n"
	    "    KEYCARD_ALL = token.scopes; KEYCARD_LOWER = lower(claims.email); KEYCARD_LIT = \"fixed\";\n"
	    "    KEYCARD_CLIENT = client.name; KEYCARD_METHOD = request.method;\n"
	    "} } }\n");
	kc_decision d = DECIDE(.target = "/d/42", .claims =
	    "{\"level\":-3,\"groups\":[\"a\",\"b\"],\"email\":\"A@X\",\"scope\":\"r:devices:123 w:devices:* r:devices:555\"}");
	expect_allow(d);
	expect_str(export_of(&d, "KEYCARD_LEVEL"), "-3");
	expect_str(export_of(&d, "KEYCARD_GROUPS"), "a,b");
	expect_str(export_of(&d, "KEYCARD_N"), "42");
	expect_str(export_of(&d, "KEYCARD_READ"), "123,555");
	expect_str(export_of(&d, "KEYCARD_WRITE"), "*");
	expect_str(export_of(&d, "KEYCARD_ALL"), "r:devices:123 w:devices:* r:devices:555");
	expect_str(export_of(&d, "KEYCARD_LOWER"), "a@x");
	expect_str(export_of(&d, "KEYCARD_LIT"), "fixed");
	expect_str(export_of(&d, "KEYCARD_CLIENT"), "First client");
	expect_str(export_of(&d, "KEYCARD_METHOD"), "GET");
	/* no grant at all: unset, not empty */
	d = DECIDE(.target = "/d/42", .claims = "");
	expect_str(export_of(&d, "KEYCARD_READ"), NULL);
	expect_str(export_of(&d, "KEYCARD_GROUPS"), NULL);
}

/* ---- gates ------------------------------------------------------------------------------------- */

#define GATE_HEAD HEAD \
	"gate {\n" \
	"    deny as \"net\" if request.remote_addr in [\"203.0.113.0/24\", \"2001:db8:bad::/48\"];\n" \
	"    deny as \"sub\" if claims.sub == \"mallory\";\n" \
	"    deny as \"ua\" if request.header[\"User-Agent\"] ?? \"\" == \"evil\" status 429;\n" \
	"}\n"

Test(gates, request_only_gates_run_on_auth_none_routes)
{
	load(GATE_HEAD "resource r { route GET /open { auth none; allow; } }\n");
	kc_decision d = DECIDE(.target = "/open", .remote = "203.0.113.50");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_label(d, "net");
	expect_challenge(d, NULL);
	expect_label(DECIDE(.target = "/open", .headers = { "user-agent: evil" }), "ua");
	expect_allow(DECIDE(.target = "/open", .remote = "198.51.100.1"));
	expect_label(DECIDE(.target = "/open", .remote = "2001:db8:bad::1"), "net");
	expect_label(DECIDE(.target = "/open", .remote = "::ffff:203.0.113.1"), "net");
}

Test(gates, request_only_gates_run_before_the_token)
{
	load(GATE_HEAD "resource r { route GET /x { allow; } }\n");
	/* no token: the gate's 403, not the 401 challenge */
	kc_decision d = DECIDE(.target = "/x", .remote = "203.0.113.50");
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_label(d, "net");
	/* a malformed header or a bad token: still the gate */
	expect_label(DECIDE(.target = "/x", .remote = "203.0.113.50", .auth = "Bearer"), "net");
	expect_label(DECIDE(.target = "/x", .remote = "203.0.113.50",
	    .auth = bearer(token_by(stranger, NULL, NULL))), "net");
}

Test(gates, token_gates_run_only_with_a_token)
{
	load(GATE_HEAD "resource r { route GET /opt { auth optional; allow; } route GET /x { allow; } }\n");
	expect_allow(DECIDE(.target = "/opt"));
	kc_decision d = DECIDE(.target = "/opt", .auth = bearer(token("{\"sub\":\"mallory\"}")));
	expect_verdict(d, KC_DENY_RULE, 403);
	expect_label(d, "sub");
	d = DECIDE(.target = "/x", .auth = bearer(token("{\"sub\":\"mallory\"}")));
	expect_label(d, "sub");
	/* an invalid token is a 401 before token gates are reached */
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token_by(stranger, NULL, "{\"sub\":\"mallory\"}"))),
	    KC_DENY_TOKEN, 401);
}

/* Clients refused in the same second must not all be told the same
 * second to come back; the same request still gets the same answer. */
Test(decide, retry_after_is_spread_over_clients_and_repeatable)
{
	bool seen[16] = { false };
	char addr[32];
	int distinct = 0;
	for (int i = 0; i < 256; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		int r = kc_retry_after(1795446245, addr);
		cr_assert(r >= 5 && r <= 15, "%d", r);
		cr_assert_eq(r, kc_retry_after(1795446245, addr));
		if (!seen[r]) {
			seen[r] = true;
			distinct++;
		}
	}
	cr_assert_eq(distinct, 11, "every value 5..15 is used, %d were", distinct);
	int r = kc_retry_after(0, NULL);
	cr_assert(r >= 5 && r <= 15);
}
