/* test_eval.c: what a condition means (policy-language.md §2.4.5-2.4.7),
 * through kc_decide with synthetic claims and signed tokens, and for the
 * negative tests on missing values, atom by atom on the compiled program.
 * What it guards: a missing claim that opens a door or lets a restriction
 * slip (a test on a missing scalar is false, `!=` and `not in` included; a
 * missing list is empty; only `not` may turn "missing" into "true"), a
 * claim of the wrong type read as if it were right, a repeated header or
 * query parameter read two ways (parameter pollution), a scope granted by
 * a prefix, a case or a near-miss entity string, `implies` that is not
 * closed or runs backwards, a wildcard that grants more than its type. */
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
#include "policy/policy_int.h"
#include "token/sign.h"

#include "policyfix.h"

/* The policy head every test starts from. */
#define HEAD \
	"keycard 1;\n" \
	"realm \"test\";\n" \
	"issuer t \"" ISS "\" { audience \"api\"; algorithms ES256; jwks file \"keys.jwks\"; }\n" \
	"claims {\n" \
	"    sub string required; client_id string; tenant string; email string; verified bool;\n" \
	"    level int; groups list<string>; nums list<int>; auth_time time; jti string;\n" \
	"    roles list<string> from \"realm_access.roles\"; amr list<string> split \" \";\n" \
	"}\n"

TestSuite(missing, .init = setup, .fini = teardown);
TestSuite(values, .init = setup, .fini = teardown);
TestSuite(request, .init = setup, .fini = teardown);
TestSuite(scopes, .init = setup, .fini = teardown);
TestSuite(entities, .init = setup, .fini = teardown);
TestSuite(atoms, .init = setup, .fini = teardown);

/* Whether route GET path allows the synthetic claims (extra members):
 * anything but ALLOW or a default deny is a test failure. */
static bool
allows(const char *path, const char *claims)
{
	kc_decision d = DECIDE(.target = path, .claims = claims ? claims : "");
	cr_assert(d.verdict == KC_ALLOW || d.verdict == KC_DENY_DEFAULT,
	    "%s: unexpected %s %d (%s)", path, verdict_name(d.verdict), d.status, d.note ? d.note : "");
	return d.verdict == KC_ALLOW;
}

static const char *
shown(const char *claims)
{
	return claims != NULL ? claims : "{}";
}

#define expect_allows(path, claims) cr_assert(allows(path, claims), "%s should allow %s", path, shown(claims))
#define expect_refuses(path, claims) cr_assert(!allows(path, claims), "%s should refuse %s", path, shown(claims))

/* ---- missing values (§2.4.6): a test on a missing scalar is false ------------------ */

Test(missing, scalar_tests_are_false)
{
	load(HEAD
	    "list @names string { \"acme\" };\n"
	    "resource r {\n"
	    "    route GET /eq { allow if claims.tenant == \"acme\"; }\n"
	    "    route GET /in { allow if claims.tenant in [\"acme\", \"other\"]; }\n"
	    "    route GET /list { allow if claims.tenant in @names; }\n"
	    "    route GET /like { allow if claims.tenant like \"*\"; }\n"
	    "    route GET /starts { allow if startswith(claims.tenant, \"\"); }\n"
	    "    route GET /ends { allow if endswith(claims.tenant, \"\"); }\n"
	    "    route GET /ge { allow if claims.level >= 0; }\n"
	    "    route GET /lt { allow if claims.level < 1000; }\n"
	    "    route GET /intin { allow if claims.level in [1, 2, 3]; }\n"
	    "    route GET /bool { allow if claims.verified; }\n"
	    "    route GET /boolf { allow if claims.verified == false; }\n"
	    "    route GET /age { allow if age(claims.auth_time) >= 0s; }\n"
	    "    route GET /inlist { allow if claims.tenant in claims.groups; }\n"
	    "    route GET /slots { allow if claims.tenant == claims.email; }\n"
	    "    route GET /lower { allow if lower(claims.tenant) == \"acme\"; }\n"
	    "}\n");
	static const char *const routes[] = { "/eq", "/in", "/list", "/like", "/starts", "/ends",
	    "/ge", "/lt", "/intin", "/bool", "/boolf", "/age", "/inlist", "/slots", "/lower" };
	/* present: every test holds (so the refusals below mean something) */
	const char *present = "{\"tenant\":\"acme\",\"email\":\"acme\",\"level\":2,\"verified\":false,"
	    "\"auth_time\":1699999000,\"groups\":[\"acme\"]}";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i], "/bool") == 0)
			expect_allows(routes[i], "{\"verified\":true}");
		else
			expect_allows(routes[i], present);
	}
	/* missing: every test is false; explicit JSON null is missing too */
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		expect_refuses(routes[i], "{}");
		expect_refuses(routes[i], "{\"tenant\":null,\"email\":null,\"level\":null,\"verified\":null,\"auth_time\":null}");
	}
}

Test(missing, lists_are_empty)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /in { allow if \"a\" in claims.groups; }\n"
	    "    route GET /count0 { allow if count(claims.groups) == 0; }\n"
	    "    route GET /any { allow if contains_any(claims.groups, [\"a\", \"b\"]); }\n"
	    "    route GET /like { allow if any_like(claims.groups, \"*\"); }\n"
	    "    route GET /notin { allow if not (\"a\" in claims.groups); }\n"
	    "    route GET /ints { allow if 3 in claims.nums; }\n"
	    "    route GET /intcount { allow if count(claims.nums) < 1; }\n"
	    "}\n");
	expect_refuses("/in", NULL);
	expect_allows("/count0", NULL);
	expect_refuses("/any", NULL);
	expect_refuses("/like", NULL);
	/* lists need no guard: a missing list is an empty list */
	expect_allows("/notin", NULL);
	expect_refuses("/ints", NULL);
	expect_allows("/intcount", NULL);
	expect_allows("/in", "{\"groups\":[\"b\",\"a\"]}");
	expect_refuses("/count0", "{\"groups\":[\"b\"]}");
	expect_refuses("/notin", "{\"groups\":[\"a\"]}");
	expect_allows("/ints", "{\"nums\":[1,3]}");
}

Test(missing, has_and_coalesce)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /has { allow if has(claims.tenant); }\n"
	    "    route GET /hasnot { allow if not has(claims.tenant); }\n"
	    "    route GET /dflt { allow if claims.tenant ?? \"none\" == \"none\"; }\n"
	    "    route GET /chain { allow if claims.tenant ?? claims.email ?? \"x\" == \"e\"; }\n"
	    "    route GET /guarded { allow if has(claims.tenant) and claims.tenant != \"evil\"; }\n"
	    "    route GET /dfltne { allow if claims.tenant ?? \"evil\" != \"evil\"; }\n"
	    "}\n");
	expect_refuses("/has", NULL);
	expect_allows("/has", "{\"tenant\":\"\"}");    /* present, even empty */
	expect_allows("/hasnot", NULL);
	expect_refuses("/hasnot", "{\"tenant\":\"t\"}");
	expect_allows("/dflt", NULL);
	expect_refuses("/dflt", "{\"tenant\":\"t\"}");
	expect_allows("/chain", "{\"email\":\"e\"}");
	expect_refuses("/chain", "{\"tenant\":\"t\",\"email\":\"e\"}");
	expect_refuses("/chain", NULL);
	/* the guarded forms of a negative test: a missing claim grants nothing */
	expect_refuses("/guarded", NULL);
	expect_allows("/guarded", "{\"tenant\":\"good\"}");
	expect_refuses("/guarded", "{\"tenant\":\"evil\"}");
	expect_refuses("/dfltne", NULL);
	expect_allows("/dfltne", "{\"tenant\":\"good\"}");
}

Test(missing, optional_claims_of_the_wrong_type_are_missing)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /tenant { allow if has(claims.tenant); }\n"
	    "    route GET /level { allow if has(claims.level); }\n"
	    "    route GET /verified { allow if has(claims.verified); }\n"
	    "    route GET /groups { allow if count(claims.groups) == 0; }\n"
	    "    route GET /time { allow if has(claims.auth_time); }\n"
	    "}\n");
	expect_refuses("/tenant", "{\"tenant\":5}");
	expect_refuses("/tenant", "{\"tenant\":[\"a\"]}");
	expect_refuses("/level", "{\"level\":\"3\"}");
	expect_refuses("/level", "{\"level\":3.5}");        /* not an exact int64 */
	expect_refuses("/level", "{\"level\":1e300}");
	expect_allows("/level", "{\"level\":-9007199254740993}");
	expect_refuses("/verified", "{\"verified\":\"true\"}");
	expect_refuses("/verified", "{\"verified\":1}");
	expect_allows("/groups", "{\"groups\":\"a\"}");      /* not an array: missing, so empty */
	expect_allows("/groups", "{\"groups\":[\"a\", 1]}"); /* mixed: missing */
	expect_refuses("/time", "{\"auth_time\":\"yesterday\"}");
	expect_allows("/time", "{\"auth_time\":1699999999}");
}

Test(missing, required_claim_of_the_wrong_type_is_an_invalid_token)
{
	load(HEAD "claims { must int required; }\nresource r { route GET /x { allow; } }\n");
	kc_decision d = DECIDE(.target = "/x", .claims = "{\"must\":\"1\"}");
	expect_verdict(d, KC_DENY_TOKEN, 401);
	expect_str(d.error, "invalid_token");
	d = DECIDE(.target = "/x", .claims = "{}");
	expect_verdict(d, KC_DENY_TOKEN, 401);
	expect_allow(DECIDE(.target = "/x", .claims = "{\"must\":1}"));
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token("{\"must\":1}"))));
	expect_verdict(DECIDE(.target = "/x", .auth = bearer(token("{\"must\":null}"))), KC_DENY_TOKEN, 401);
}

/* ---- values and operators ------------------------------------------------------------ */

Test(values, int_comparisons)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /eq { allow if claims.level == 3; }\n"
	    "    route GET /lt { allow if claims.level < 3; }\n"
	    "    route GET /le { allow if claims.level <= 3; }\n"
	    "    route GET /gt { allow if claims.level > 3; }\n"
	    "    route GET /ge { allow if claims.level >= 3; }\n"
	    "    route GET /flip { allow if 3 < claims.level; }\n"
	    "    route GET /ne { allow if has(claims.level) and claims.level != 3; }\n"
	    "}\n");
	static const struct { const char *route; bool at2, at3, at4; } cases[] = {
		{ "/eq", false, true, false }, { "/lt", true, false, false }, { "/le", true, true, false },
		{ "/gt", false, false, true }, { "/ge", false, true, true }, { "/flip", false, false, true },
		{ "/ne", true, false, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(allows(cases[i].route, "{\"level\":2}"), cases[i].at2, "%s at 2", cases[i].route);
		cr_assert_eq(allows(cases[i].route, "{\"level\":3}"), cases[i].at3, "%s at 3", cases[i].route);
		cr_assert_eq(allows(cases[i].route, "{\"level\":4}"), cases[i].at4, "%s at 4", cases[i].route);
	}
}

Test(values, strings_bools_and_sets)
{
	load(HEAD
	    "list @names string { \"acme\", \"globex\" };\n"
	    "resource r {\n"
	    "    route GET /eq { allow if claims.tenant == \"Acme\"; }\n"
	    "    route GET /lower { allow if lower(claims.tenant) == \"acme\"; }\n"
	    "    route GET /in { allow if claims.tenant in [\"acme\", \"globex\"]; }\n"
	    "    route GET /named { allow if claims.tenant in @names; }\n"
	    "    route GET /notin { allow if has(claims.tenant) and claims.tenant not in @names; }\n"
	    "    route GET /true { allow if claims.verified == true; }\n"
	    "    route GET /bare { allow if claims.verified; }\n"
	    "    route GET /slots { allow if claims.tenant == claims.email; }\n"
	    "}\n");
	expect_allows("/eq", "{\"tenant\":\"Acme\"}");
	expect_refuses("/eq", "{\"tenant\":\"acme\"}");         /* exact bytes */
	expect_allows("/lower", "{\"tenant\":\"ACME\"}");
	expect_refuses("/lower", "{\"tenant\":\"\\u00c1CME\"}"); /* ASCII only */
	expect_allows("/in", "{\"tenant\":\"globex\"}");
	expect_refuses("/in", "{\"tenant\":\"glob\"}");
	expect_allows("/named", "{\"tenant\":\"acme\"}");
	expect_refuses("/named", "{\"tenant\":\"acme \"}");
	expect_allows("/notin", "{\"tenant\":\"initech\"}");
	expect_refuses("/notin", "{\"tenant\":\"acme\"}");
	expect_allows("/true", "{\"verified\":true}");
	expect_refuses("/true", "{\"verified\":false}");
	expect_allows("/bare", "{\"verified\":true}");
	expect_refuses("/bare", "{\"verified\":false}");
	expect_allows("/slots", "{\"tenant\":\"x\",\"email\":\"x\"}");
	expect_refuses("/slots", "{\"tenant\":\"x\",\"email\":\"y\"}");
}

Test(values, globs)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /a { allow if claims.email like \"*@example.com\"; }\n"
	    "    route GET /b { allow if claims.email like \"a*b*c\"; }\n"
	    "    route GET /c { allow if claims.email like \"lit\\\\*\"; }\n"
	    "    route GET /d { allow if startswith(claims.email, \"adm\") and endswith(claims.email, \".org\"); }\n"
	    "    route GET /e { allow if any_like(claims.groups, \"team-*\"); }\n"
	    "}\n");
	expect_allows("/a", "{\"email\":\"bob@example.com\"}");
	expect_allows("/a", "{\"email\":\"@example.com\"}");
	expect_refuses("/a", "{\"email\":\"bob@example.com.evil\"}");
	expect_refuses("/a", "{\"email\":\"bob@exampleXcom\"}");
	expect_allows("/b", "{\"email\":\"abc\"}");
	expect_allows("/b", "{\"email\":\"aXbYbZc\"}");
	expect_refuses("/b", "{\"email\":\"abcd\"}");
	expect_allows("/c", "{\"email\":\"lit*\"}");
	expect_refuses("/c", "{\"email\":\"litx\"}");
	expect_allows("/d", "{\"email\":\"admin@x.org\"}");
	expect_refuses("/d", "{\"email\":\"admin@x.org.uk\"}");
	expect_refuses("/d", "{\"email\":\"ad\"}");
	expect_allows("/e", "{\"groups\":[\"x\",\"team-red\"]}");
	expect_refuses("/e", "{\"groups\":[\"x\",\"teams\"]}");
}

Test(values, lists)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /all { allow if contains_all(claims.groups, [\"a\", \"b\"]); }\n"
	    "    route GET /any { allow if contains_any(claims.groups, [\"a\", \"b\"]); }\n"
	    "    route GET /count { allow if count(claims.groups) >= 2; }\n"
	    "    route GET /roles { allow if \"admin\" in claims.roles; }\n"
	    "    route GET /amr { allow if \"mfa\" in claims.amr and count(claims.amr) == 2; }\n"
	    "}\n");
	expect_allows("/all", "{\"groups\":[\"b\",\"x\",\"a\"]}");
	expect_refuses("/all", "{\"groups\":[\"b\",\"x\"]}");
	expect_allows("/any", "{\"groups\":[\"x\",\"b\"]}");
	expect_refuses("/any", "{\"groups\":[\"x\",\"ab\"]}");
	expect_allows("/count", "{\"groups\":[\"x\",\"y\"]}");
	expect_refuses("/count", "{\"groups\":[\"x\"]}");
	/* a nested claim declared with from */
	expect_allows("/roles", "{\"realm_access\":{\"roles\":[\"user\",\"admin\"]}}");
	expect_refuses("/roles", "{\"roles\":[\"admin\"]}");
	expect_refuses("/roles", "{\"realm_access\":{\"roles\":\"admin\"}}");
	/* a string read as a list with split */
	expect_allows("/amr", "{\"amr\":\"pwd  mfa\"}");
	expect_refuses("/amr", "{\"amr\":\"pwd mfa otp\"}");
	expect_allows("/amr", "{\"amr\":[\"mfa\",\"pwd\"]}");
}

Test(values, time_and_age)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /recent { allow if age(claims.auth_time) <= 12h; }\n"
	    "    route GET /old { allow if age(claims.auth_time) > 90m; }\n"
	    "    route GET /after { allow if claims.auth_time >= 1699990000; }\n"
	    "}\n");
	char c[64];
	snprintf(c, sizeof(c), "{\"auth_time\":%d}", NOW - 12 * 3600);
	expect_allows("/recent", c);
	snprintf(c, sizeof(c), "{\"auth_time\":%d}", NOW - 12 * 3600 - 1);
	expect_refuses("/recent", c);
	snprintf(c, sizeof(c), "{\"auth_time\":%d}", NOW - 90 * 60);
	expect_refuses("/old", c);
	snprintf(c, sizeof(c), "{\"auth_time\":%d}", NOW - 90 * 60 - 1);
	expect_allows("/old", c);
	expect_allows("/after", "{\"auth_time\":1699990000}");
	expect_refuses("/after", "{\"auth_time\":1699989999}");
}

Test(values, captures_and_clients)
{
	load(HEAD
	    "client \"c1\" = \"First\";\n"
	    "resource r {\n"
	    "    route GET /u/{uid} { allow if claims.sub == path.uid; }\n"
	    "    route GET /n/{n:int} { allow if path.n >= 10 and path.n in [10, 20]; }\n"
	    "    route GET /client { allow if client.id == \"c1\" and client.name == \"First\"; }\n"
	    "    route GET /iss { allow if token.iss == \"" ISS "\" and token.jti == \"j1\"; }\n"
	    "    route GET /kind { allow if token.kind == \"jwt\"; }\n"
	    "}\n");
	expect_allows("/u/alice", NULL);
	expect_refuses("/u/bob", NULL);
	expect_allows("/u/caf%C3%A9", "{\"sub\":\"caf\\u00e9\"}");  /* captures are decoded */
	expect_allows("/n/10", NULL);
	expect_allows("/n/020", NULL);
	expect_refuses("/n/11", NULL);
	expect_refuses("/n/9", NULL);
	expect_allows("/client", NULL);
	expect_refuses("/client", "{\"client_id\":\"c2\"}");
	expect_allows("/iss", "{\"jti\":\"j1\"}");
	expect_refuses("/iss", NULL);
	expect_allows("/kind", NULL);
}

Test(values, lets_are_shared_and_scoped)
{
	load(HEAD
	    "let admin = \"admins\" in claims.groups;\n"
	    "let who = claims.sub;\n"
	    "resource r {\n"
	    "    let local = claims.level > 5;\n"
	    "    route GET /a { allow if admin and who == \"alice\"; }\n"
	    "    route GET /b { allow if local or admin; }\n"
	    "    route GET /c { let local = claims.level > 50; allow if local; }\n"
	    "}\n");
	expect_allows("/a", "{\"groups\":[\"admins\"]}");
	expect_refuses("/a", "{\"groups\":[\"admins\"],\"sub\":\"bob\"}");
	expect_allows("/b", "{\"level\":6}");
	expect_allows("/b", "{\"groups\":[\"admins\"]}");
	expect_refuses("/b", "{\"level\":5}");
	/* the route's let hides the resource's */
	expect_refuses("/c", "{\"level\":6}");
	expect_allows("/c", "{\"level\":51}");
}

Test(values, boolean_structure)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /x { allow if (claims.level == 1 or claims.level == 2) and not (claims.tenant ?? \"\" == \"evil\"); }\n"
	    "    route GET /t { allow if true; }\n"
	    "    route GET /f { allow if false; }\n"
	    "}\n");
	expect_allows("/x", "{\"level\":1}");
	expect_allows("/x", "{\"level\":2,\"tenant\":\"good\"}");
	expect_refuses("/x", "{\"level\":2,\"tenant\":\"evil\"}");
	expect_refuses("/x", "{\"level\":3}");
	expect_allows("/t", NULL);
	expect_refuses("/f", NULL);
}

/* ---- request values ------------------------------------------------------------------------ */

Test(request, headers)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /h { auth none; allow if request.header[\"X-Tenant\"] == \"acme\"; }\n"
	    "    route GET /has { auth none; allow if has(request.header[\"x-tenant\"]); }\n"
	    "}\n");
	expect_allow(DECIDE(.target = "/h", .headers = { "X-Tenant: acme" }));
	expect_allow(DECIDE(.target = "/h", .headers = { "x-TENANT: acme" }));   /* names any case */
	expect_verdict(DECIDE(.target = "/h", .headers = { "X-Tenant: ACME" }), KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/h"), KC_DENY_DEFAULT, 401);
	/* a repeated header is missing: no guessing which one the application reads */
	expect_verdict(DECIDE(.target = "/h", .headers = { "X-Tenant: acme", "x-tenant: acme" }),
	    KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/has", .headers = { "X-Tenant: a", "X-Tenant: b" }),
	    KC_DENY_DEFAULT, 401);
	expect_allow(DECIDE(.target = "/has", .headers = { "X-Tenant: " }));
}

Test(request, query_parameters)
{
	load(HEAD
	    "resource r {\n"
	    "    route GET /q { auth none; allow if request.query[\"q\"] == \"a b&c\"; }\n"
	    "    route GET /has { auth none; allow if has(request.query[\"q\"]); }\n"
	    "    route GET /dflt { auth none; allow if request.query[\"q\"] ?? \"none\" == \"none\"; }\n"
	    "}\n");
	expect_allow(DECIDE(.target = "/q?q=a+b%26c"));
	expect_allow(DECIDE(.target = "/q?x=1&q=a%20b%26c&y"));
	expect_verdict(DECIDE(.target = "/q?q=a+b&c"), KC_DENY_DEFAULT, 401);
	/* a repeated parameter is missing: parameter pollution defeated */
	expect_verdict(DECIDE(.target = "/q?q=a+b%26c&q=a+b%26c"), KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/has?q=1&q=2"), KC_DENY_DEFAULT, 401);
	expect_allow(DECIDE(.target = "/dflt?q=1&q=2"));
	expect_allow(DECIDE(.target = "/has?q"));
	expect_allow(DECIDE(.target = "/has?q="));
	expect_verdict(DECIDE(.target = "/has?qq=1"), KC_DENY_DEFAULT, 401);
	/* names are decoded too, and a malformed escape or a control character is missing */
	expect_allow(DECIDE(.target = "/has?%71=1"));
	expect_verdict(DECIDE(.target = "/has?q=%0a"), KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/has?q=%zz"), KC_DENY_DEFAULT, 401);
	/* an escape cut short at the end of a value never reads past it */
	expect_verdict(DECIDE(.target = "/has?q=%4"), KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/has?q=%4&x=1"), KC_DENY_DEFAULT, 401);
	expect_verdict(DECIDE(.target = "/has?x=1&q=a%"), KC_DENY_DEFAULT, 401);
}

Test(request, remote_address_method_and_path)
{
	load(HEAD
	    "list @office cidr { \"10.20.0.0/16\", \"2001:db8:42::/48\", \"192.0.2.7\" };\n"
	    "resource r {\n"
	    "    route GET /office { auth none; allow if request.remote_addr in @office; }\n"
	    "    route GET /inline { auth none; allow if request.remote_addr in [\"172.16.0.0/12\"]; }\n"
	    "    route GET|POST /m { auth none; allow if request.method == \"POST\"; }\n"
	    "    route GET /p/{rest...} { auth none; allow if request.path == \"/p/~x/y\"; }\n"
	    "}\n");
	static const struct { const char *ip; bool in; } office[] = {
		{ "10.20.0.0", true }, { "10.20.255.255", true }, { "10.21.0.0", false },
		{ "10.19.255.255", false }, { "2001:db8:42::1", true }, { "2001:db8:43::1", false },
		{ "192.0.2.7", true }, { "192.0.2.8", false }, { "::ffff:10.20.1.1", true },
		{ "not-an-ip", false }, { "", false },
	};
	for (size_t i = 0; i < sizeof(office) / sizeof(office[0]); i++) {
		kc_decision d = DECIDE(.target = "/office", .remote = office[i].ip);
		cr_assert_eq(d.verdict == KC_ALLOW, office[i].in, "%s", office[i].ip);
	}
	expect_allow(DECIDE(.target = "/inline", .remote = "172.31.255.255"));
	expect_verdict(DECIDE(.target = "/inline", .remote = "172.32.0.0"), KC_DENY_DEFAULT, 401);
	expect_allow(DECIDE(.method = "POST", .target = "/m"));
	expect_verdict(DECIDE(.target = "/m"), KC_DENY_DEFAULT, 401);
	/* request.path is the normalized path the application gets */
	expect_allow(DECIDE(.target = "/p/%7Ex/y"));
}

Test(request, missing_remote_address)
{
	load(HEAD "resource r { route GET /x { auth none; allow if request.remote_addr in [\"0.0.0.0/0\", \"::/0\"]; } }\n");
	kc_request req = { .method = "GET", .path = "/x", .path_len = 2, .now = NOW };
	kc_decision d;
	kc_decide(policy, &req, arena, &d, NULL);
	expect_verdict(d, KC_DENY_DEFAULT, 401);
	expect_allow(DECIDE(.target = "/x", .remote = "::1"));
}

/* ---- scopes (§2.4.7) ----------------------------------------------------------------------- */

Test(scopes, sources)
{
	load(HEAD "resource r { route GET /x { allow if scope \"read\"; } }\n");
	expect_allows("/x", "{\"scope\":\"write read\"}");
	expect_allows("/x", "{\"scope\":\"  read  \"}");
	expect_allows("/x", "{\"scp\":[\"write\",\"read\"]}");
	expect_refuses("/x", "{\"scope\":\"reader\"}");
	expect_refuses("/x", "{\"scope\":\"READ\"}");
	expect_refuses("/x", "{\"scope\":\"\"}");
	expect_refuses("/x", "{\"scp\":[\"read write\"]}");   /* one element is one scope */
	/* the first source that is present is read, and only that one */
	expect_refuses("/x", "{\"scope\":\"write\",\"scp\":[\"read\"]}");
	expect_allows("/x", "{\"scope\":\"read\",\"scp\":[\"write\"]}");
	/* scopes come from the signed token too */
	expect_allow(DECIDE(.target = "/x", .auth = bearer(token("{\"scope\":\"read\"}"))));
}

Test(scopes, configured_sources)
{
	load(HEAD "scopes { source \"permissions\", \"scope\"; }\n"
	    "resource r { route GET /x { allow if scope \"read\"; } }\n");
	expect_allows("/x", "{\"permissions\":[\"read\"]}");
	expect_allows("/x", "{\"scope\":\"read\"}");
	expect_refuses("/x", "{\"permissions\":[\"write\"],\"scope\":\"read\"}");
	expect_refuses("/x", "{\"scp\":[\"read\"]}");
}

Test(scopes, any_all_and_aliases)
{
	load(HEAD
	    "scopes { alias @rw = \"read\", \"write\"; }\n"
	    "resource r {\n"
	    "    route GET /any { allow if scope any(@rw); }\n"
	    "    route GET /all { allow if scope all(@rw); }\n"
	    "    route GET /mix { allow if scope all(@rw, \"admin\"); }\n"
	    "    route GET /one { allow if scope any(\"x\", \"y\"); }\n"
	    "}\n");
	expect_allows("/any", "{\"scope\":\"write\"}");
	expect_refuses("/any", "{\"scope\":\"admin\"}");
	expect_refuses("/all", "{\"scope\":\"write\"}");
	expect_allows("/all", "{\"scope\":\"write read\"}");
	expect_refuses("/mix", "{\"scope\":\"write read\"}");
	expect_allows("/mix", "{\"scope\":\"admin write read\"}");
	expect_allows("/one", "{\"scope\":\"y\"}");
	expect_refuses("/one", NULL);
}

Test(scopes, implies_is_transitive)
{
	load(HEAD
	    "scopes {\n"
	    "    declare \"admin\", \"write\", \"read\", \"other\";\n"
	    "    implies \"admin\" -> \"write\";\n"
	    "    implies \"write\" -> \"read\";\n"
	    "}\n"
	    "resource r {\n"
	    "    route GET /read { allow if scope \"read\"; }\n"
	    "    route GET /admin { allow if scope \"admin\"; }\n"
	    "    route GET /both { allow if scope all(\"read\", \"write\"); }\n"
	    "}\n");
	expect_allows("/read", "{\"scope\":\"admin\"}");
	expect_allows("/read", "{\"scope\":\"write\"}");
	expect_allows("/both", "{\"scope\":\"admin\"}");
	expect_refuses("/admin", "{\"scope\":\"write read\"}");   /* never backwards */
	expect_refuses("/read", "{\"scope\":\"other\"}");
}

/* Without `declare`, a scope named only in implies lines ("write") must
 * still get its place in the closure, whatever the order of the lines and
 * files (it once got an id past the end of the implies table: dropped, and
 * read out of bounds). */
Test(scopes, implies_declared_in_reverse_order_and_other_files)
{
	write_file("a.kc", "scopes { implies \"write\" -> \"read\"; }\n");
	write_file("b.kc", "scopes { implies \"admin\" -> \"write\"; }\n");
	load(HEAD "include \"a.kc\";\ninclude \"b.kc\";\n"
	    "resource r { route GET /read { allow if scope \"read\"; } }\n");
	expect_allows("/read", "{\"scope\":\"admin\"}");
	load(HEAD "include \"b.kc\";\ninclude \"a.kc\";\n"
	    "resource r { route GET /read { allow if scope \"read\"; } }\n");
	expect_allows("/read", "{\"scope\":\"admin\"}");
}

Test(scopes, implies_cycle_terminates)
{
	load(HEAD
	    "scopes { implies \"a\" -> \"b\"; implies \"b\" -> \"c\"; implies \"c\" -> \"a\"; }\n"
	    "resource r { route GET /x { allow if scope all(\"a\", \"b\", \"c\"); } }\n");
	expect_allows("/x", "{\"scope\":\"b\"}");
}

/* ---- entity scopes ------------------------------------------------------------------------ */

#define ENTITY_HEAD HEAD \
	"scopes { entity devices, scenes perms r, w, x implies w -> r; entity rooms perms r; }\n"

Test(entities, templates_bind_the_capture)
{
	load(ENTITY_HEAD
	    "resource r {\n"
	    "    route GET /d/{id:slug} { allow if scope \"r:devices:{id}\"; }\n"
	    "    route POST /d/{id:slug} { allow if scope \"x:devices:{id}\"; }\n"
	    "    route GET /u/{u:uuid} { allow if scope \"r:devices:{u}\"; }\n"
	    "}\n");
	const char *c = "{\"scope\":\"r:devices:123 r:devices:555 x:devices:123\"}";
	expect_allows("/d/123", c);
	expect_allows("/d/555", c);
	expect_refuses("/d/12", c);
	expect_refuses("/d/1234", c);
	kc_decision d = DECIDE(.method = "POST", .target = "/d/123", .claims = c);
	expect_allow(d);
	d = DECIDE(.method = "POST", .target = "/d/555", .claims = c);
	expect_verdict(d, KC_DENY_DEFAULT, 403);
	expect_allows("/u/0e8400e2-9b41-4d47-a716-446655440000",
	    "{\"scope\":\"r:devices:0e8400e2-9b41-4d47-a716-446655440000\"}");
	/* another type or another permission grants nothing here */
	expect_refuses("/d/123", "{\"scope\":\"r:scenes:123 x:devices:123 r:rooms:123\"}");
}

Test(entities, wildcard_grants_every_id)
{
	load(ENTITY_HEAD
	    "resource r {\n"
	    "    route GET /d/{id} { allow if scope \"r:devices:{id}\"; }\n"
	    "    route GET /star { allow if scope \"r:devices:*\"; }\n"
	    "    route GET /lit { allow if scope \"r:devices:42\"; }\n"
	    "}\n");
	expect_allows("/d/anything", "{\"scope\":\"r:devices:*\"}");
	expect_refuses("/d/anything", "{\"scope\":\"r:scenes:*\"}");
	/* "r:devices:*" in a test asks for the wildcard grant itself */
	expect_allows("/star", "{\"scope\":\"r:devices:*\"}");
	expect_refuses("/star", "{\"scope\":\"r:devices:42\"}");
	expect_allows("/lit", "{\"scope\":\"r:devices:42\"}");
	expect_allows("/lit", "{\"scope\":\"r:devices:*\"}");
	expect_refuses("/lit", "{\"scope\":\"r:devices:4\"}");
}

Test(entities, entity_implies)
{
	load(ENTITY_HEAD
	    "resource r {\n"
	    "    route GET /d/{id} { allow if scope \"r:devices:{id}\"; }\n"
	    "    route PUT /d/{id} { allow if scope \"w:devices:{id}\"; }\n"
	    "    route GET /rooms/{id} { allow if scope \"r:rooms:{id}\"; }\n"
	    "}\n");
	/* w -> r on devices: a write grant also reads, never the other way */
	expect_allows("/d/7", "{\"scope\":\"w:devices:7\"}");
	expect_allows("/d/7", "{\"scope\":\"w:devices:*\"}");
	expect_verdict(DECIDE(.method = "PUT", .target = "/d/7", .claims = "{\"scope\":\"r:devices:7\"}"),
	    KC_DENY_DEFAULT, 403);
	expect_allow(DECIDE(.method = "PUT", .target = "/d/7", .claims = "{\"scope\":\"w:devices:7\"}"));
	/* rooms have no implies line; w is not even a permission of rooms */
	expect_refuses("/rooms/7", "{\"scope\":\"w:rooms:7\"}");
}

Test(entities, has_entity)
{
	load(ENTITY_HEAD "resource r { route GET /d { allow if has_entity(r, devices); } }\n");
	expect_allows("/d", "{\"scope\":\"r:devices:1\"}");
	expect_allows("/d", "{\"scope\":\"r:devices:*\"}");
	expect_allows("/d", "{\"scope\":\"w:devices:9\"}");      /* implies */
	expect_refuses("/d", "{\"scope\":\"x:devices:1 r:scenes:1\"}");
	expect_refuses("/d", "{\"scope\":\"r:devices:\"}");       /* no id: not a grant */
	expect_refuses("/d", "{\"scope\":\"r:gadgets:1 q:devices:1\"}");
	expect_refuses("/d", NULL);
}

Test(entities, many_grants)
{
	load(ENTITY_HEAD "resource r { route GET /d/{id} { allow if scope \"r:devices:{id}\"; } }\n");
	/* 200 grants in one token: the early ones still count */
	char *c = malloc(64 * 1024);
	cr_assert_not_null(c);
	size_t o = (size_t)sprintf(c, "{\"scope\":\"");
	for (int i = 0; i < 200; i++)
		o += (size_t)sprintf(c + o, "%sr:devices:%d", i ? " " : "", i);
	sprintf(c + o, "\"}");
	expect_allows("/d/0", c);
	expect_allows("/d/63", c);
	free(c);
}

/* ---- atoms on missing values, read directly from the compiled program --------------------
 * The compiler refuses an unguarded negative test, so through kc_decide a
 * `!=` is always next to its has(). Here the negative atom itself is
 * evaluated on a token without the value: it must be false, never true. */

static const kc_rule *
rule_of(const char *pattern, const char *label)
{
	for (uint32_t i = 0; i < policy->n_routes; i++) {
		const kc_route_def *r = &policy->routes[i];
		if (strcmp(r->pattern, pattern) != 0)
			continue;
		for (uint32_t j = 0; j < r->n_rules; j++)
			if (r->rules[j].label && strcmp(r->rules[j].label, label) == 0)
				return &r->rules[j];
	}
	cr_assert_fail("no rule %s in %s", label, pattern);
	return NULL;
}

/* The atom to the right of `has(...) and`: the negative test itself. */
static const kc_atom *
negative_atom(const char *label)
{
	const kc_rule *r = rule_of("/x", label);
	cr_assert(r->cond != NULL && r->cond->kind == KC_N_AND && r->cond->b->kind == KC_N_ATOM, "%s", label);
	return r->cond->b->atom;
}

static bool
atom_on(const kc_atom *a, const char *claims, const kc_header *hs, size_t nh, const char *query)
{
	kc_eval_ctx ctx = { .p = policy, .arena = arena, .method = "GET", .now = NOW,
	    .headers = hs, .n_headers = nh, .query = query, .query_len = query ? strlen(query) : 0 };
	kc_json_error e;
	char *text = claims_json(claims);
	ctx.claims = kc_json_parse(arena, kc_arena_strndup(arena, text, strlen(text)), strlen(text), 16, &e);
	free(text);
	cr_assert_not_null(ctx.claims);
	ctx.memo = kc_arena_alloc(arena, policy->n_atoms);
	memset(ctx.memo, 0, policy->n_atoms);
	cr_assert_null(kc_eval_load_token(&ctx));
	return kc_eval_atom(&ctx, a);
}

Test(atoms, negative_tests_on_missing_values_are_false)
{
	load(HEAD
	    "list @names string { \"acme\" };\n"
	    "resource r { route GET /x {\n"
	    "    allow;\n"
	    "    deny as \"ne\" if has(claims.tenant) and claims.tenant != \"acme\";\n"
	    "    deny as \"notin\" if has(claims.tenant) and claims.tenant not in [\"acme\"];\n"
	    "    deny as \"notlist\" if has(claims.tenant) and claims.tenant not in @names;\n"
	    "    deny as \"notinclaim\" if has(claims.tenant) and claims.tenant not in claims.groups;\n"
	    "    deny as \"intne\" if has(claims.level) and claims.level != 3;\n"
	    "    deny as \"intnotin\" if has(claims.level) and claims.level not in [3];\n"
	    "    deny as \"boolne\" if has(claims.verified) and claims.verified != true;\n"
	    "    deny as \"slots\" if has(claims.tenant) and has(claims.email) and claims.tenant != claims.email;\n"
	    "    deny as \"hdr\" if has(request.header[\"x-t\"]) and request.header[\"x-t\"] != \"a\";\n"
	    "    deny as \"qry\" if has(request.query[\"t\"]) and request.query[\"t\"] not in [\"a\"];\n"
	    "} }\n");
	static const char *const labels[] = { "ne", "notin", "notlist", "notinclaim", "intne",
	    "intnotin", "boolne", "slots", "hdr", "qry" };
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		cr_assert_not(atom_on(negative_atom(labels[i]), "{}", NULL, 0, NULL),
		    "%s is true on a missing value", labels[i]);
	/* and each is true on a present, different value (the test can fail) */
	kc_header h = { "X-T", 3, "b", 1 };
	const char *other = "{\"tenant\":\"globex\",\"level\":4,\"verified\":false,\"email\":\"e\",\"groups\":[\"x\"]}";
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		cr_assert(atom_on(negative_atom(labels[i]), other, &h, 1, "t=b"),
		    "%s is false on a different value", labels[i]);
	/* one side missing in a slot-to-slot test: false both ways */
	cr_assert_not(atom_on(negative_atom("slots"), "{\"tenant\":\"t\"}", NULL, 0, NULL));
	cr_assert_not(atom_on(negative_atom("slots"), "{\"email\":\"t\"}", NULL, 0, NULL));
	/* a repeated query parameter is missing, so not in is false */
	cr_assert_not(atom_on(negative_atom("qry"), "{}", NULL, 0, "t=b&t=c"));
}

Test(atoms, shared_atoms_are_evaluated_once_per_request)
{
	/* Two rules with the same test share one atom (hash-consed), so the
	 * memo answers the second read. */
	load(HEAD "resource r { route GET /x {\n"
	    "    allow as \"a\" if claims.tenant == \"t\" and claims.level > 1;\n"
	    "    allow as \"b\" if claims.level > 1 and claims.tenant == \"t\";\n"
	    "} }\n");
	const kc_rule *a = rule_of("/x", "a"), *b = rule_of("/x", "b");
	cr_assert_eq(a->cond->a->atom, b->cond->b->atom);
	cr_assert_eq(a->cond->b->atom, b->cond->a->atom);
	cr_assert_eq(policy->n_atoms, 2);
}
