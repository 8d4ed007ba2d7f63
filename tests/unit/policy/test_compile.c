/* test_compile.c: the static checks of kc_policy_load (policy-language.md
 * §2.5, §4, §7.13). What they guard: a policy that means something other
 * than what its author wrote. A typo in a claim or scope name, a "true" in
 * quotes, a capture the route does not bind or a negative test on a claim
 * that may be missing would each compile to a rule that is silently false
 * (or silently true) and opens or closes a door nobody meant to. Two routes
 * of the same shape in two files would make the decision depend on file
 * order; HS* next to public keys invites algorithm confusion; an export
 * named PATH or HTTP_* lets a policy overwrite what the web server sets.
 * Each check is driven with a small policy written to a temporary directory,
 * and the test asserts the error count and the words of the message, as
 * kc_diag_print shows it to the author (file:line:col, the line, a caret). */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../common/testutil.h"
#include <jansson.h>

#include "core/diag.h"
#include "policy/policy.h"
#include "token/sign.h"

/* ---- fixture: a temporary directory, a key set, a compile ---------------------- */

static char dir[64];
static kc_diag *diag;
static kc_policy *policy;
static char *out;               /* everything kc_diag_print wrote */
static size_t out_len;

/* Writes a file of the test's directory. */
#define write_file(rel, text) kct_write_file(dir, (rel), (text))

/* A public JWKS with one fresh ES256 key, for issuers. */
static void
write_jwks(const char *rel)
{
	char err[256];
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	json_t *set = json_pack("{s:[o]}", "keys", kc_signer_public_jwk(s));
	char *text = json_dumps(set, JSON_COMPACT);
	write_file(rel, text);
	free(text);
	json_decref(set);
	kc_signer_free(s);
}

static void
setup(void)
{
	kct_tmpdir(dir, sizeof(dir), "compile");
	write_jwks("keys.jwks");
}

static void
teardown(void)
{
	kc_policy_free(policy);
	kc_diag_free(diag);
	free(out);
	kct_rmtree(dir);
}

/* Loads dir/rel into `policy`, printing the diagnostics into `out`. */
static void
load(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	kc_policy_free(policy);
	kc_diag_free(diag);
	free(out);
	diag = kc_diag_new();
	cr_assert_not_null(diag);
	policy = kc_policy_load(path, NULL, diag);
	FILE *f = open_memstream(&out, &out_len);
	cr_assert_not_null(f);
	kc_diag_print(diag, f, false);
	fclose(f);
	/* The contract of kc_policy_load: NULL exactly when there are errors. */
	cr_assert_eq(policy == NULL, kc_diag_errors(diag) > 0,
	    "policy %s but %u errors:\n%s", policy ? "loaded" : "refused", kc_diag_errors(diag), out);
}

/* Writes main.kc and loads it. */
static void
compile(const char *text)
{
	write_file("main.kc", text);
	load("main.kc");
}

#define errors() kc_diag_errors(diag)
#define warnings() kc_diag_warnings(diag)

#define expect(s) \
	cr_assert(strstr(out, (s)) != NULL, "expected «%s» in the diagnostics:\n%s", (s), out)
#define expect_not(s) \
	cr_assert(strstr(out, (s)) == NULL, "did not expect «%s» in the diagnostics:\n%s", (s), out)
#define expect_errors(n) \
	cr_assert_eq(errors(), (unsigned)(n), "expected %u error(s), got %u:\n%s", (unsigned)(n), errors(), out)
#define expect_warnings(n) \
	cr_assert_eq(warnings(), (unsigned)(n), "expected %u warning(s), got %u:\n%s", (unsigned)(n), warnings(), out)
#define expect_clean() \
	do { expect_errors(0); expect_warnings(0); cr_assert_not_null(policy); } while (0)

/* How often s occurs in out. */
static unsigned
count_of(const char *s)
{
	unsigned n = 0;
	for (const char *p = strstr(out, s); p != NULL; p = strstr(p + 1, s))
		n++;
	return n;
}

/* Two lines of prelude, so the text of each test starts on line 3. */
#define HEAD \
	"keycard 1;\n" \
	"claims { sub string required; client_id string required; tenant string; email_verified bool; groups list<string>; level int; auth_time time; }\n"

TestSuite(compile, .init = setup, .fini = teardown);
TestSuite(names, .init = setup, .fini = teardown);
TestSuite(types, .init = setup, .fini = teardown);
TestSuite(captures, .init = setup, .fini = teardown);
TestSuite(guard, .init = setup, .fini = teardown);
TestSuite(scopes, .init = setup, .fini = teardown);
TestSuite(routes, .init = setup, .fini = teardown);
TestSuite(exports, .init = setup, .fini = teardown);
TestSuite(issuers, .init = setup, .fini = teardown);
TestSuite(includes, .init = setup, .fini = teardown);
TestSuite(lets, .init = setup, .fini = teardown);
TestSuite(duplicates, .init = setup, .fini = teardown);
TestSuite(rules, .init = setup, .fini = teardown);
TestSuite(diagnostics, .init = setup, .fini = teardown);

/* ---- a policy that uses most of the language compiles clean ------------------- */

Test(compile, full_policy_is_clean)
{
	write_file("lists/nets.txt", "# blocked\n192.0.2.0/24\n2001:db8::/32\n");
	write_file("lists/subs.txt", "mallory\n\neve\n");
	write_file("lists/clients.tsv", "c1\tFirst client\nc2\tSecond client\n");
	write_file("scopes.txt", "extra:one\nextra:two\n");
	write_file("common.kc",
	    "scopes {\n"
	    "    source \"scope\", \"scp\";\n"
	    "    declare \"read\", \"write\", \"admin\";\n"
	    "    declare file \"scopes.txt\";\n"
	    "    entity devices, locations perms r, w, x implies w -> r;\n"
	    "    implies \"admin\" -> \"read\", \"write\";\n"
	    "    alias @rw = \"read\", \"write\";\n"
	    "}\n"
	    "client \"c0\" = \"Zero\";\n"
	    "clients file \"lists/clients.tsv\";\n"
	    "list @nets cidr file \"lists/nets.txt\";\n"
	    "list @subs string file \"lists/subs.txt\";\n"
	    "list @office cidr { \"10.0.0.0/8\", \"2001:db8:42::/48\" };\n"
	    "gate {\n"
	    "    deny as \"net\" if request.remote_addr in @nets;\n"
	    "    deny as \"sub\" if claims.sub in @subs status 403 description \"blocked\";\n"
	    "}\n");
	write_file("res/devices.kc",
	    "resource devices {\n"
	    "    mount /api/v1;\n"
	    "    auth required;\n"
	    "    let office = request.remote_addr in @office;\n"
	    "    require as \"tenant\" has(claims.tenant) status 403;\n"
	    "    export { KEYCARD_DEVICES = entity_ids(r, devices); }\n"
	    "    route GET /devices { allow as \"list\" if has_entity(r, devices); }\n"
	    "    route GET|HEAD /devices/{id:slug} { allow as \"read\" if scope \"r:devices:{id}\"; }\n"
	    "    route POST /devices/{id:int}/commands {\n"
	    "        allow as \"exec\" if scope \"x:devices:{id}\" or (office and scope \"admin\");\n"
	    "        deny as \"kiosk\" if client.id == \"kiosk\" status 403 error insufficient_scope;\n"
	    "        hint scope \"x:devices:*\";\n"
	    "    }\n"
	    "    route GET /locations/{loc:slug}/devices/{d:uuid} {\n"
	    "        allow if scope all(\"r:locations:{loc}\", \"r:devices:{d}\") and scope any(@rw);\n"
	    "    }\n"
	    "}\n");
	write_file("res/other.kc",
	    "resource other {\n"
	    "    mount /other;\n"
	    "    route GET /status { auth optional; allow; export { KEYCARD_VIEWER = claims.sub; } }\n"
	    "    route GET /healthz { auth none; allow if request.method == \"GET\"; }\n"
	    "    route GET /files/{rest...} {\n"
	    "        allow if \"staff\" in claims.groups and count(claims.groups) >= 1\n"
	    "            and age(claims.auth_time) <= 12h and claims.level >= 2\n"
	    "            and lower(claims.sub) like \"a*\" and startswith(claims.sub, \"a\")\n"
	    "            and contains_any(claims.groups, [\"a\", \"b\"]) and any_like(claims.groups, \"s*\")\n"
	    "            and claims.tenant ?? \"none\" == \"acme\" and request.query[\"q\"] == \"1\";\n"
	    "        export { header \"X-User\" = claims.tenant ?? claims.sub; }\n"
	    "    }\n"
	    "}\n");
	compile(HEAD
	    "realm \"api.test\";\n"
	    "issuer t \"https://iss.test/\" { audience \"api\"; algorithms ES256; jwks file \"keys.jwks\"; leeway 30s; require exp, sub; typ \"at+jwt\"; }\n"
	    "include \"common.kc\";\n"
	    "include \"res/*.kc\";\n"
	    "export { KEYCARD_TENANT = claims.tenant; }\n"
	    "default status 404;\n");
	expect_clean();
	cr_assert_str_eq(kc_policy_realm(policy), "api.test");
	cr_assert_eq(kc_policy_issuer_count(policy), 1);
	const char *name, *iss, *aud;
	uint32_t algs;
	kc_policy_issuer_info(policy, 0, &name, &iss, &aud, &algs);
	cr_assert_str_eq(name, "t");
	cr_assert_str_eq(iss, "https://iss.test/");
	cr_assert_str_eq(aud, "api");
	/* 2 gates, 1 resource require, 1 allow + 1 deny on commands, 6 more allows */
	cr_assert_eq(kc_policy_rule_count(policy), 11);

	/* The route table names every route with its file. */
	char *routes = NULL;
	size_t rl = 0;
	FILE *f = open_memstream(&routes, &rl);
	kc_policy_print_routes(policy, f);
	fclose(f);
	cr_assert(strstr(routes, "/api/v1/devices/{id:int}/commands") != NULL, "%s", routes);
	cr_assert(strstr(routes, "GET|HEAD") != NULL, "%s", routes);
	cr_assert(strstr(routes, "/other/files/{rest...}") != NULL, "%s", routes);
	cr_assert(strstr(routes, "auth none") != NULL, "%s", routes);
	free(routes);
}

Test(compile, empty_policy_needs_version)
{
	compile("realm \"x\";\n");
	expect_errors(1);
	expect("main.kc:1:1: error: a policy starts with 'keycard 1;'");
	expect("hint: add the line 'keycard 1;' at the top of");
}

Test(compile, version_two_is_refused)
{
	compile("keycard 2;\n");
	expect_errors(1);
	expect("main.kc:1:1: error: this keycard reads version 1 policies, not version 2");
}

Test(compile, minimal_policy_without_issuer_loads)
{
	compile("keycard 1;\nresource r { route GET /x { auth none; allow; } }\n");
	expect_clean();
	cr_assert_str_eq(kc_policy_realm(policy), "keycard");
	cr_assert_eq(kc_policy_issuer_count(policy), 0);
}

/* ---- unknown names, with did-you-mean ------------------------------------------ */

Test(names, unknown_claim_with_did_you_mean)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /x {\n"
	    "        allow if claims.tenat == \"acme\";\n"
	    "    }\n"
	    "}\n");
	expect_errors(1);
	/* §4.1: the caret under the claim name only. */
	expect("main.kc:5:25: error: unknown claim 'tenat'\n"
	    "    5 |         allow if claims.tenat == \"acme\";\n"
	    "      |                         ^~~~~\n");
	expect("hint: did you mean 'tenant'?");
	expect("must be declared in the claims block");
}

Test(names, unknown_claim_far_from_everything_has_no_suggestion)
{
	compile(HEAD "resource r { route GET /x { allow if claims.zzzzzzzz == \"a\"; } }\n");
	expect_errors(1);
	expect("unknown claim 'zzzzzzzz'");
	expect_not("did you mean");
}

Test(names, unknown_token_client_request_fields)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /a { allow if token.jtl == \"x\"; }\n"
	    "    route GET /b { allow if client.nam == \"x\"; }\n"
	    "    route GET /c { allow if request.methd == \"GET\"; }\n"
	    "}\n");
	expect_errors(3);
	expect("main.kc:4:35: error: unknown field 'token.jtl'");
	expect("did you mean 'jti'?");
	expect("unknown field 'client.nam'");
	expect("did you mean 'name'?");
	expect("unknown field 'request.methd'");
	expect("did you mean 'method'?");
}

Test(names, unknown_let_function_list_alias_entity)
{
	compile(HEAD
	    "scopes { entity devices perms r, w; alias @readers = \"read\"; }\n"
	    "list @blocked string { \"a\" };\n"
	    "let trusted = has(claims.tenant);\n"
	    "resource r {\n"
	    "    route GET /a { allow if trustd; }\n"
	    "    route GET /b { allow if lowr(claims.sub) == \"a\"; }\n"
	    "    route GET /c { deny if claims.sub in @blockd; allow; }\n"
	    "    route GET /d { allow if scope any(@reader); }\n"
	    "    route GET /e { allow if has_entity(r, device); }\n"
	    "    route GET /f { allow if has_entity(x, devices); }\n"
	    "}\n");
	expect_errors(6);
	expect("main.kc:7:29: error: unknown name 'trustd'");
	expect("did you mean 'trusted'?");
	expect("unknown function 'lowr'");
	expect("did you mean 'lower'?");
	expect("main.kc:9:42: error: unknown list '@blockd'");
	expect("blocked'?");           /* with or without the '@': see the next test */
	expect("unknown scope alias '@reader'");
	expect("readers'?");
	expect("unknown entity type 'device'");
	expect("did you mean 'devices'?");
	expect("'x' is not a permission of entity type 'devices'");
	/* trusted is used only by the rule with the typo */
	expect_warnings(1);
	expect("'trusted' is never used");
}

/* DESIGN-MISMATCH (§4 "name the thing in the user's words"): a suggestion
 * for a list or an alias should be written as the author writes it, with
 * the '@'; today the hint says 'blocked' and 'readers'. */
Test(names, suggestion_for_list_and_alias_keeps_the_at_sign)
{
	compile(HEAD
	    "scopes { alias @readers = \"read\"; }\n"
	    "list @blocked string { \"a\" };\n"
	    "resource r {\n"
	    "    route GET /c { deny if claims.sub in @blockd; allow; }\n"
	    "    route GET /d { allow if scope any(@reader); }\n"
	    "}\n");
	expect_errors(2);
	expect("did you mean '@blocked'?");
	expect("did you mean '@readers'?");
}

Test(names, nested_claim_path_must_be_declared)
{
	compile(HEAD "resource r { route GET /x { allow if claims.realm_access.roles == \"a\"; } }\n");
	expect_errors(1);
	expect("nested claim paths are declared, not written inline");
	expect("hint: declare it in the claims block: NAME TYPE from \"realm_access.roles\";");
}

Test(names, claim_from_nested_path_is_fine)
{
	compile("keycard 1;\n"
	    "claims { roles list<string> from \"realm_access.roles\"; scope list<string> split \" \"; }\n"
	    "resource r { route GET /x { allow if \"admin\" in claims.roles and \"a\" in claims.scope; } }\n");
	expect_clean();
}

Test(names, bad_claim_declarations)
{
	/* One at a time, last in the block (see the next test for why). */
	compile("keycard 1;\nclaims { s string; b string split \" \"; }\n");
	expect_errors(1);
	expect("main.kc:2:35: error: 'split' reads a string claim as a list: declare it list<string>");
	compile("keycard 1;\nclaims { c list<string> split \"ab\"; }\n");
	expect_errors(1);
	expect("main.kc:2:31: error: the separator of 'split' is one character");
	compile("keycard 1;\nclaims { a string from \"x..y\"; }\n");
	expect_errors(1);
	expect("main.kc:2:24: error: 'x..y' is not a claim path");
	compile("keycard 1;\nclaims { d string from \".x\"; }\n");
	expect_errors(1);
	expect("main.kc:2:24: error: '.x' is not a claim path");
}

/* BUG: after one claim with a bad `from` path (or a bad `split`), the next
 * claims reuse its half-filled slot in declare_claim() (path_len is not
 * reset) and each gets a bogus "'b' is not a claim path" error without a
 * location, then "unknown claim" wherever it is read. One mistake, one
 * error. */
Test(names, bad_claim_path_does_not_spoil_the_next_claims)
{
	compile("keycard 1;\n"
	    "claims { a string from \"x..y\"; b string; c list<string> split \" \"; }\n"
	    "resource r { route GET /x { allow if claims.b == \"1\" and \"v\" in claims.c; } }\n");
	expect_errors(1);
	expect("'x..y' is not a claim path");
	expect_not("'b' is not a claim path");
}

/* ---- types on literal comparisons ------------------------------------------------ */

Test(types, bool_compared_with_string)
{
	compile(HEAD "resource r { route GET /x { allow if claims.email_verified == \"true\"; } }\n");
	expect_errors(1);
	/* §4.2: the caret under the string literal. */
	expect("main.kc:3:63: error: cannot compare 'claims.email_verified' (bool) with a string\n"
	    "    3 | resource r { route GET /x { allow if claims.email_verified == \"true\"; } }\n"
	    "      |                                                               ^~~~~~\n");
	expect("hint: write `claims.email_verified == true` (no quotes), or just `claims.email_verified`");
	expect("treated as missing, not as true");
}

Test(types, int_string_and_ordering_mismatches)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /a { allow if claims.level == \"3\"; }\n"
	    "    route GET /b { allow if claims.tenant < \"m\"; }\n"
	    "    route GET /c { allow if claims.groups == \"x\"; }\n"
	    "    route GET /d { allow if claims.level in [1, \"2\"]; }\n"
	    "    route GET /e { allow if claims.sub in [\"a\", 2]; }\n"
	    "    route GET /f { allow if claims.level like \"1*\"; }\n"
	    "    route GET /g { allow if claims.email_verified == 1; }\n"
	    "    route GET /h { allow if claims.sub == claims.level; }\n"
	    "}\n");
	expect_errors(8);
	expect("main.kc:4:45: error: cannot compare 'claims.level' (int) with a string");
	expect("main.kc:5:43: error: '<', '<=', '>' and '>=' compare numbers and times, not string");
	expect("main.kc:6:46: error: cannot compare 'claims.groups' (list<string>) with a string");
	expect("main.kc:7:49: error: expected a whole number: the left side is an int");
	expect("main.kc:8:49: error: expected a string: the left side is a string");
	expect("'like' matches strings, not int");
	expect("cannot compare 'claims.email_verified' (bool) with a number");
	expect("cannot compare string with int");
}

Test(types, ip_lists_and_cidr_literals)
{
	compile(HEAD
	    "list @nets cidr { \"10.0.0.0/8\", \"10.0.0.0/33\", \"banana\" };\n"
	    "list @names string { \"a\" };\n"
	    "resource r {\n"
	    "    route GET /a { deny if request.remote_addr in [\"192.0.2.0/24\", \"300.1.1.1\"]; allow; }\n"
	    "    route GET /b { deny if claims.sub in @nets; allow; }\n"
	    "    route GET /c { deny if request.remote_addr in @names; allow; }\n"
	    "    route GET /d { deny if request.remote_addr == \"10.0.0.1\"; allow; }\n"
	    "}\n");
	expect_errors(6);
	expect("main.kc:3:33: error: '10.0.0.0/33' is not an IP address or CIDR range");
	expect("main.kc:3:48: error: 'banana' is not an IP address or CIDR range");
	expect("main.kc:6:68: error: not an IP address or CIDR range");
	expect("@nets is a list of CIDR ranges: the left side must be an IP address");
	expect("@names is a list of strings: the left side is ip");
	expect("cannot compare 'request.remote_addr' (ip) with a string");
}

Test(types, bad_cidr_in_a_list_file_names_the_entry)
{
	write_file("nets.txt", "10.0.0.0/8\n# comment\n\nnot-an-ip\n");
	compile(HEAD "list @nets cidr file \"nets.txt\";\n"
	    "resource r { route GET /a { deny if request.remote_addr in @nets; allow; } }\n");
	expect_errors(1);
	expect("main.kc:3:22: error: 'not-an-ip' is not an IP address or CIDR range");
	expect("note: in nets.txt, entry 2");
}

Test(types, missing_list_file)
{
	compile(HEAD "list @nets cidr file \"nope.txt\";\n");
	expect_errors(1);
	expect("main.kc:3:22: error: cannot read '");
	expect("nope.txt': No such file or directory");
}

Test(types, duplicate_list_entries_warn)
{
	compile(HEAD "list @names string { \"a\", \"b\", \"a\" };\n"
	    "resource r { route GET /a { deny if claims.sub in @names; allow; } }\n");
	expect_errors(0);
	expect_warnings(1);
	expect("list '@names' has 1 duplicate entry");
}

Test(types, builtins_take_the_right_arguments)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /a { allow if count(claims.sub) > 0; }\n"
	    "    route GET /b { allow if age(claims.level) < 1h; }\n"
	    "    route GET /c { allow if age(claims.auth_time) < 5; }\n"
	    "    route GET /d { allow if count(claims.groups) > 1h; }\n"
	    "    route GET /e { allow if count(claims.groups); }\n"
	    "    route GET /f { allow if startswith(claims.level, \"1\"); }\n"
	    "    route GET /g { allow if contains_any(claims.sub, [\"a\"]); }\n"
	    "    route GET /h { allow if lower(claims.level) == \"a\"; }\n"
	    "    route GET /i { allow if claims.tenant ?? 3 == \"a\"; }\n"
	    "    route GET /j { allow if entity_ids(r, devices) == \"1\"; }\n"
	    "}\n");
	expect_errors(10);
	expect("count() takes a list, not string");
	expect("age() takes a time claim, not int");
	expect("age() is compared with a duration such as 12h");
	expect("count() is compared with a whole number");
	expect("count() must be compared, as in count(claims.groups) > 0");
	expect("startswith() takes a string, not int");
	expect("contains_any() takes a list of strings, not string");
	expect("lower() takes one string");
	expect("both sides of '?" "?' must have the same type (string and int)");
	expect("entity_ids() gives a list for exports; in a condition use has_entity()");
}

Test(types, condition_must_be_bool)
{
	compile(HEAD "resource r { route GET /x { allow if claims.sub; } }\n");
	expect_errors(1);
	expect("main.kc:3:38: error: a condition must be true or false, but this is string");
	expect("hint: compare it with == \"...\", or test its presence with has(...)");
}

/* ---- captures ------------------------------------------------------------------ */

Test(captures, path_capture_not_bound)
{
	compile(HEAD
	    "resource r {\n"
	    "    route POST /devices/{id:slug}/commands {\n"
	    "        allow if path.device == \"1\" and path.id == \"2\";\n"
	    "    }\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:5:23: error: '{device}' is not a capture of this route");
	/* the note points at the route and names it */
	expect("main.kc:4:5: note: route '/devices/{id:slug}/commands'");
}

/* DESIGN-MISMATCH (§4.3): the note should say which captures the route
 * binds ("binds: {id}"); today it only counts them ("binds 1 capture"). */
Test(captures, note_lists_the_bound_captures)
{
	compile(HEAD
	    "resource r {\n"
	    "    route POST /devices/{id:slug}/commands {\n"
	    "        allow if path.device == \"1\" and path.id == \"2\";\n"
	    "    }\n"
	    "}\n");
	expect_errors(1);
	expect("{id}");
	expect_not("binds 1 capture");
}

Test(captures, scope_template_capture_not_bound)
{
	compile(HEAD
	    "scopes { entity devices perms r, w, x; }\n"
	    "resource r {\n"
	    "    mount /api/v1;\n"
	    "    route POST /devices/{id:slug}/commands {\n"
	    "        allow as \"exec\" if scope \"x:devices:{device}\";\n"
	    "    }\n"
	    "}\n");
	/* §4.3: the caret under {device} inside the string */
	expect("main.kc:7:45: error: '{device}' is not a capture of this route\n"
	    "    7 |         allow as \"exec\" if scope \"x:devices:{device}\";\n"
	    "      |                                             ^~~~~~~~\n");
	expect("route '/api/v1/devices/{id:slug}/commands'");
	expect_errors(1);
}

Test(captures, unused_capture_warns_and_still_loads)
{
	compile(HEAD "resource r { route GET /users/{uid}/x/{other:int} { allow if path.uid == \"a\"; } }\n");
	expect_errors(0);
	expect_warnings(1);
	cr_assert_not_null(policy);
	expect("main.kc:3:39: warning: capture '{other}' is never used");
	expect_not("'{uid}' is never used");
}

Test(captures, tail_capture_need_not_be_used)
{
	compile(HEAD "resource r { route GET /files/{rest...} { allow; } }\n");
	expect_clean();
}

Test(captures, resource_rule_capture_must_be_bound_by_every_route)
{
	compile(HEAD
	    "resource r {\n"
	    "    require path.tenant == \"acme\";\n"
	    "    route GET /t/{tenant}/a { allow; }\n"
	    "    route GET /b { allow; }\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:6:15: error: route '/b' does not bind '{tenant}', which a rule of resource 'r' reads");
}

/* BUG: a capture that a resource-wide rule reads is used; today every route
 * of the resource gets "capture '{tenant}' is never used". */
Test(captures, capture_read_by_resource_rule_is_used)
{
	compile(HEAD
	    "resource r {\n"
	    "    require path.tenant == \"acme\";\n"
	    "    route GET /t/{tenant}/a { allow; }\n"
	    "    route GET /t/{tenant}/b { allow; }\n"
	    "}\n");
	expect_clean();
}

Test(captures, gates_cannot_read_captures)
{
	compile(HEAD
	    "scopes { entity devices perms r; }\n"
	    "gate {\n"
	    "    deny if path.id == \"1\";\n"
	    "    deny if scope \"r:devices:{id}\";\n"
	    "}\n");
	expect_errors(2);
	expect("main.kc:5:13: error: gates apply to every route, so they cannot read path captures");
	expect("gates apply to every route, so they cannot use path captures");
}

Test(captures, int_capture_compares_with_numbers)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /a/{n:int} { allow if path.n > 10 and path.n in [11, 12]; }\n"
	    "    route GET /b/{s:slug} { allow if path.s > 10; }\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:5:47: error: cannot compare 'path.s' (string) with a number");
}

Test(captures, bad_capture_type_points_into_the_path)
{
	compile(HEAD "resource r { mount /api; route GET /a/{id:intt} { allow if path.id == \"1\"; } }\n");
	expect_errors(1);
	expect("main.kc:3:43: error: unknown capture type 'intt'");
}

/* ---- the guard rule (§2.4.6, §4.4) ------------------------------------------------ */

Test(guard, not_equal_on_optional_claim)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /t/{tenant} {\n"
	    "        allow;\n"
	    "        deny  as \"other-tenant\" if claims.tenant != path.tenant;\n"
	    "    }\n"
	    "}\n");
	expect_errors(1);
	/* §4.4: the caret under the operator. */
	expect("main.kc:6:50: error: negative test on optional claim 'tenant' needs a guard\n"
	    "    6 |         deny  as \"other-tenant\" if claims.tenant != path.tenant;\n"
	    "      |                                                  ^~\n");
	expect("a request WITHOUT it would pass a deny untouched");
	expect("hint: to refuse only mismatches: add has(claims.tenant)");
}

Test(guard, every_negative_form_needs_a_guard)
{
	compile(HEAD
	    "list @names string { \"a\" };\n"
	    "resource r {\n"
	    "    route GET /a { allow; deny if claims.tenant not in @names; }\n"
	    "    route GET /b { allow; deny if claims.tenant not in [\"a\", \"b\"]; }\n"
	    "    route GET /c { allow; deny if not (claims.tenant == \"a\"); }\n"
	    "    route GET /d { allow if not claims.email_verified; }\n"
	    "    route GET /e { allow if not (claims.tenant like \"a*\"); }\n"
	    "    route GET /f { allow; deny if request.header[\"X-Tenant\"] != \"a\"; }\n"
	    "    route GET /g { allow; deny if request.query[\"t\"] not in [\"a\"]; }\n"
	    "    route GET /h { allow; deny if has(claims.tenant) or claims.tenant != \"a\"; }\n"
	    "    route GET /i { allow; deny if not (not (claims.level != 3)); }\n"
	    "}\n");
	expect_errors(9);
	cr_assert_eq(count_of("needs a guard"), 9, "%s", out);
	expect("negative test on optional header 'X-Tenant' needs a guard");
	expect("negative test on optional query parameter 't' needs a guard");
}

Test(guard, guarded_forms_and_safe_values_compile)
{
	compile(HEAD
	    "list @names string { \"a\" };\n"
	    "resource r {\n"
	    "    route GET /a { allow; deny if has(claims.tenant) and claims.tenant != \"a\"; }\n"
	    "    route GET /b { allow; deny if claims.tenant ?? \"none\" != \"a\"; }\n"
	    "    route GET /c { allow; deny if claims.sub != \"root\"; }\n"
	    "    route GET /d { allow; deny if not (\"admin\" in claims.groups); }\n"
	    "    route GET /e { allow; deny if has(claims.tenant) and (claims.tenant not in @names or claims.level != 2) and has(claims.level); }\n"
	    "    route GET /f { allow; deny if claims.tenant == \"a\"; }\n"
	    "    route GET /g { allow; deny if has(request.header[\"x-a\"]) and request.header[\"x-a\"] != \"1\"; }\n"
	    "    route GET /h/{id} { allow; deny if path.id != \"1\"; }\n"
	    "    route GET /i { allow if not (claims.client_id == \"kiosk\"); }\n"
	    "}\n");
	expect_clean();
}

/* BUG: header names are case-insensitive (RFC 9110 §5.1), and the compiler
 * reads request.header["X-A"] and request.header["x-a"] as the same header;
 * the guard check compares them case-sensitively and reports a guarded
 * test as unguarded. */
Test(guard, header_guard_ignores_case)
{
	compile(HEAD "resource r { route GET /g { allow; deny if has(request.header[\"x-a\"]) and request.header[\"X-A\"] != \"1\"; } }\n");
	expect_clean();
}

/* BUG (§2.4.6 guard rule): the check looks only at claims.X written in
 * the test itself. Read through a value let or through lower(), the same
 * optional claim escapes it, and `allow if not (t == "evil")` admits every
 * token that lacks the claim: exactly what the guard rule exists to stop. */
Test(guard, negation_through_lets_and_functions_needs_a_guard)
{
	compile(HEAD
	    "let t = claims.tenant;\n"
	    "resource r {\n"
	    "    route GET /a { allow if not (t == \"evil\"); }\n"
	    "    route GET /b { allow; deny if lower(claims.tenant) != \"acme\"; }\n"
	    "}\n");
	expect_errors(2);
	cr_assert_eq(count_of("needs a guard"), 2, "%s", out);
}

Test(guard, guard_must_be_the_same_claim)
{
	compile(HEAD "resource r { route GET /a { allow; deny if has(claims.level) and claims.tenant != \"a\"; } }\n");
	expect_errors(1);
	expect("optional claim 'tenant' needs a guard");
}

Test(guard, lets_are_checked_too)
{
	compile(HEAD
	    "let foreign = claims.tenant != \"acme\";\n"
	    "resource r { route GET /a { allow; deny if foreign; } }\n");
	expect_errors(1);
	expect("main.kc:3:29: error: negative test on optional claim 'tenant' needs a guard");
}

/* ---- scopes ------------------------------------------------------------------------ */

Test(scopes, undeclared_scope_literal)
{
	compile(HEAD
	    "scopes { declare \"read:user\", \"admin\"; }\n"
	    "resource r { route GET /a { allow if scope \"read:usr\"; } }\n");
	expect_errors(1);
	expect("main.kc:4:44: error: scope 'read:usr' is not declared");
	expect("did you mean 'read:user'?");
}

Test(scopes, without_declare_any_scope_is_fine)
{
	compile(HEAD "resource r { route GET /a { allow if scope \"whatever\" and scope any(\"a\", \"b\"); } }\n");
	expect_clean();
}

/* One error per undeclared name, however many passes read the implies
 * lines (35b0a94, which registers implies ids before the closure, reports
 * 'admin' and 'raed' twice). */
Test(scopes, alias_members_and_implies_must_be_declared)
{
	compile(HEAD
	    "scopes {\n"
	    "    declare \"read\", \"write\";\n"
	    "    alias @rw = \"read\", \"wirte\";\n"
	    "    implies \"admin\" -> \"read\";\n"
	    "    implies \"write\" -> \"raed\";\n"
	    "}\n"
	    "resource r { route GET /a { allow if scope any(@rw); } }\n");
	expect_errors(3);
	expect("main.kc:5:25: error: scope 'wirte' is not declared");
	expect("main.kc:6:13: error: scope 'admin' is not declared");
	expect("main.kc:7:24: error: scope 'raed' is not declared");
}

Test(scopes, entity_scopes_need_no_declare)
{
	compile(HEAD
	    "scopes { declare \"read\"; entity devices perms r, x; }\n"
	    "resource r { route GET /d/{id} { allow if scope any(\"x:devices:{id}\", \"r:devices:*\", \"r:devices:42\", \"read\"); } }\n");
	expect_clean();
}

Test(scopes, template_on_undeclared_entity)
{
	compile(HEAD
	    "scopes { entity devices perms r; }\n"
	    "resource r { route GET /d/{id} { allow if scope \"w:devices:{id}\" or scope \"r:device:{id}\"; } }\n");
	expect_errors(2);
	expect("'w:devices:{id}' uses a capture but is not a declared entity scope");
	expect("'r:device:{id}' uses a capture but is not a declared entity scope");
}

Test(scopes, template_id_is_one_capture)
{
	compile(HEAD
	    "scopes { entity devices perms r; }\n"
	    "resource r { route GET /d/{id} { allow if scope \"r:devices:x{id}\"; } }\n");
	expect_errors(1);
	expect("a scope template's id must be exactly one capture");
}

Test(scopes, bare_alias_is_ambiguous)
{
	compile(HEAD
	    "scopes { alias @profile = \"read:user\", \"user:email\"; }\n"
	    "resource r {\n"
	    "    route GET /a { allow if scope @profile; }\n"
	    "    route GET /b { allow if claims.sub in @profile; }\n"
	    "}\n");
	expect_errors(2);
	expect("main.kc:5:35: error: 'scope @profile' is ambiguous: write scope any(@profile) or scope all(@profile)");
	expect("'@profile' is a scope alias: test it with scope any(@profile) or scope all(@profile)");
}

Test(scopes, scopes_are_tested_with_scope)
{
	compile(HEAD "resource r { route GET /a { allow if \"read\" in token.scopes; } }\n");
	expect_errors(1);
	expect("test scopes with scope \"NAME\", scope any(...) or scope all(...)");
}

Test(scopes, entity_declarations)
{
	compile(HEAD
	    "scopes {\n"
	    "    entity devices perms r, w implies x -> r;\n"
	    "    entity devices perms r;\n"
	    "}\n");
	expect_errors(2);
	expect("'implies' names a permission not listed after 'perms'");
	expect("entity type 'devices' is declared twice");
}

/* ---- routes ------------------------------------------------------------------------- */

Test(routes, same_shape_in_two_files)
{
	write_file("resources/devices.kc",
	    "resource devices {\n"
	    "    mount /api/v1;\n"
	    "    route GET|HEAD /devices/{id:slug} {\n"
	    "        allow if path.id == \"1\";\n"
	    "    }\n"
	    "}\n");
	write_file("resources/old-devices.kc",
	    "resource old {\n"
	    "    mount /api;\n"
	    "    route GET /v1/devices/{device_id:slug} {\n"
	    "        allow if path.device_id == \"1\";\n"
	    "    }\n"
	    "}\n");
	compile("keycard 1;\ninclude \"resources/*.kc\";\n");
	expect_errors(1);
	/* glob order: devices.kc first, so old-devices.kc gets the error */
	expect("resources/old-devices.kc:3:5: error: route '/api/v1/devices/{device_id:slug}' is defined twice");
	expect("resources/devices.kc:3:5: note: also defined here (resource devices, mount /api/v1)");
	expect("keycard never picks a route by file order");
	expect("hint: delete one, or make them differ");
}

Test(routes, conflict_does_not_depend_on_include_order)
{
	/* The same two files, included the other way round: still an error. */
	write_file("a.kc", "resource a { route GET /x/{id:int} { allow if path.id == 1; } }\n");
	write_file("b.kc", "resource b { route GET|POST /x/{n:int} { allow if path.n == 2; } }\n");
	compile("keycard 1;\ninclude \"b.kc\";\ninclude \"a.kc\";\n");
	expect_errors(1);
	expect("is defined twice");
	compile("keycard 1;\ninclude \"a.kc\";\ninclude \"b.kc\";\n");
	expect_errors(1);
	expect("is defined twice");
}

Test(routes, different_methods_or_shapes_do_not_conflict)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /x/{id:int} { allow if path.id == 1; }\n"
	    "    route POST|PUT /x/{id:int} { allow if path.id == 1; }\n"
	    "    route GET /x/{id:uuid} { allow if path.id == \"1\"; }\n"
	    "    route GET /x/{id:slug} { allow if path.id == \"1\"; }\n"
	    "    route GET /x/{id} { allow if path.id == \"1\"; }\n"
	    "    route GET /x/new { allow; }\n"
	    "    route GET /x/{rest...} { allow; }\n"
	    "    route GET /x/ { allow; }\n"
	    "}\n");
	expect_clean();
}

Test(routes, any_overlaps_every_method)
{
	compile(HEAD
	    "resource r {\n"
	    "    route DELETE /x { allow; }\n"
	    "    route ANY /x { allow; }\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:5:5: error: route '/x' is defined twice");
}

Test(routes, route_without_allow_warns)
{
	compile(HEAD "resource r { route GET /x { deny; } }\n");
	expect_errors(0);
	expect_warnings(1);
	expect("route '/x' has no allow rule: it refuses every request");
}

/* ---- exports ----------------------------------------------------------------------- */

Test(exports, reserved_names)
{
	static const char *const reserved[] = { "PATH", "IFS", "GATEWAY_INTERFACE", "LD_PRELOAD",
	    "LD_LIBRARY_PATH", "SERVER_NAME", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_USER",
	    "HTTP_AUTHORIZATION", "AUTH_TYPE", "REMOTE_ADDR", "QUERY_STRING", "SCRIPT_FILENAME" };
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), HEAD "export { %s = claims.sub; }\n", reserved[i]);
		compile(text);
		expect_errors(1);
		char want[256];
		snprintf(want, sizeof(want), "main.kc:3:10: error: '%s' is reserved", reserved[i]);
		expect(want);
		/* HTTP_* gets the hint to use a header export */
		if (strncmp(reserved[i], "HTTP_", 5) == 0)
			expect("hint: to hand the application a header, write header \"X-Name\" = ...;");
	}
}

Test(exports, names_that_are_fine)
{
	compile(HEAD
	    "export { REMOTE_USER = claims.sub; KEYCARD_X = claims.tenant; X_ = claims.sub; PATHNAME = claims.sub; }\n"
	    "resource r { export { header \"X-Audit-Viewer\" = claims.sub; } route GET /x { allow; } }\n");
	expect_clean();
}

Test(exports, malformed_names)
{
	compile(HEAD
	    "export { lower_case = claims.sub; Mixed = claims.sub; }\n"
	    "resource r { export { header \"X Bad\" = claims.sub; header \"X-\xc3\xa9\" = claims.sub; header \"\" = claims.sub; } route GET /x { allow; } }\n");
	expect_errors(5);
	expect("main.kc:3:10: error: 'lower_case' is not a variable name ([A-Z_][A-Z0-9_]*)");
	expect("'Mixed' is not a variable name");
	expect("main.kc:4:30: error: 'X Bad' is not a header name");
}

Test(exports, same_name_twice_at_one_level_warns)
{
	compile(HEAD "export { KEYCARD_A = claims.sub; KEYCARD_A = claims.tenant; }\n");
	expect_errors(0);
	expect_warnings(1);
	expect("main.kc:3:34: warning: 'KEYCARD_A' is exported twice here; the last one wins");
	expect("main.kc:3:10: note: first exported here");
}

Test(exports, header_and_variable_spellings_collide)
{
	compile(HEAD "resource r { export { header \"X-Who\" = claims.sub; header \"x_who\" = claims.tenant; } route GET /x { allow; } }\n");
	expect_warnings(1);
	expect("'HTTP_X_WHO' is exported twice here");
}

/* DESIGN-MISMATCH (§2.4.8): "A later definition of the same name replaces
 * an earlier one; check reports this as a note." Today nothing is said when
 * a route export replaces a global one. */
Test(exports, replacing_across_levels_is_noted)
{
	compile(HEAD
	    "export { KEYCARD_A = claims.sub; }\n"
	    "resource r { route GET /x { allow; export { KEYCARD_A = claims.tenant; } } }\n");
	expect_errors(0);
	expect("note:");
	expect("KEYCARD_A");
}

Test(exports, conditions_cannot_be_exported)
{
	compile(HEAD "export { KEYCARD_V = claims.email_verified; }\n");
	expect_errors(1);
	expect("export a string, number or list; a condition cannot be exported");
}

/* ---- issuers --------------------------------------------------------------------------- */

Test(issuers, hs_next_to_asymmetric_algorithms)
{
	compile("keycard 1;\n"
	    "issuer mixed \"https://mixed.test/\" {\n"
	    "    audience \"api\";\n"
	    "    algorithms HS256, RS256;\n"
	    "    jwks file \"keys.jwks\";\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:2:1: error: issuer 'mixed' allows HS* next to asymmetric algorithms");
	expect("RFC 8725");
	expect("hint: use a separate issuer for the shared-secret tokens");
}

Test(issuers, secret_next_to_public_keys)
{
	write_file("hs.secret", "0123456789abcdef0123456789abcdef0123456789abcdef\n");
	compile("keycard 1;\n"
	    "issuer mixed \"https://mixed.test/\" {\n"
	    "    audience \"api\";\n"
	    "    jwks file \"keys.jwks\";\n"
	    "    secret file \"hs.secret\";\n"
	    "}\n");
	expect_errors(1);
	expect("issuer 'mixed' has a shared secret next to public keys");
}

Test(issuers, hs_alone_is_fine)
{
	write_file("hs.secret", "0123456789abcdef0123456789abcdef0123456789abcdef\n");
	compile("keycard 1;\n"
	    "issuer h \"https://h.test/\" { audience \"api\"; algorithms HS256; secret file \"hs.secret\"; }\n");
	expect_clean();
}

Test(issuers, algorithms)
{
	compile("keycard 1;\n"
	    "issuer a \"https://a.test/\" { audience \"api\"; algorithms none, ES257; jwks file \"keys.jwks\"; }\n");
	expect_errors(2);
	expect("main.kc:2:57: error: 'none' is never an algorithm keycard accepts");
	expect("main.kc:2:63: error: unknown algorithm 'ES257'");
	expect("did you mean 'ES256'?");
}

Test(issuers, keys_are_required_and_must_load)
{
	compile("keycard 1;\n"
	    "issuer a \"https://a.test/\" { audience \"api\"; }\n"
	    "issuer b \"https://b.test/\" { audience \"api\"; jwks file \"missing.jwks\"; }\n");
	expect_errors(2);
	expect("main.kc:2:1: error: issuer 'a' has no keys: give jwks file, key file or secret file");
	expect("main.kc:3:56: error: ");
	expect("missing.jwks");
}

Test(issuers, defined_twice_and_same_url)
{
	compile("keycard 1;\n"
	    "issuer a \"https://a.test/\" { audience \"api\"; jwks file \"keys.jwks\"; }\n"
	    "issuer a \"https://b.test/\" { audience \"api\"; jwks file \"keys.jwks\"; }\n"
	    "issuer c \"https://a.test/\" { audience \"api\"; jwks file \"keys.jwks\"; }\n");
	expect_errors(2);
	expect("main.kc:3:8: error: issuer 'a' is defined twice");
	expect("main.kc:2:8: note: first defined here");
	expect("main.kc:4:10: error: two issuers have the URL 'https://a.test/'");
}

Test(issuers, warnings_for_no_audience_and_long_leeway)
{
	compile("keycard 1;\n"
	    "issuer a \"https://a.test/\" { jwks file \"keys.jwks\"; leeway 10m; }\n");
	expect_errors(0);
	expect_warnings(2);
	expect("issuer 'a' has no audience");
	expect("main.kc:2:60: warning: a leeway over 5 minutes lets expired tokens through for long");
}

Test(issuers, override_jwks_replaces_the_keys)
{
	/* keycard test: the issuer's own file is not even read. */
	compile("keycard 1;\nissuer a \"https://a.test/\" { audience \"api\"; jwks file \"missing.jwks\"; }\n");
	expect_errors(1);

	char err[256];
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "t", err, sizeof(err));
	cr_assert_not_null(s);
	json_t *set = json_pack("{s:[o]}", "keys", kc_signer_public_jwk(s));
	char *jwks = json_dumps(set, JSON_COMPACT);
	kc_policy_opts opts = { .override_jwks = jwks };
	kc_diag *d = kc_diag_new();
	char path[512];
	snprintf(path, sizeof(path), "%s/main.kc", dir);
	kc_policy *p = kc_policy_load(path, &opts, d);
	cr_assert_not_null(p);
	cr_assert_eq(kc_diag_errors(d), 0);
	kc_policy_free(p);
	kc_diag_free(d);

	/* a broken override is an error of its own */
	opts.override_jwks = "{\"keys\": 3}";
	d = kc_diag_new();
	p = kc_policy_load(path, &opts, d);
	cr_assert_null(p);
	cr_assert_eq(kc_diag_errors(d), 1);
	kc_diag_free(d);
	free(jwks);
	json_decref(set);
	kc_signer_free(s);
}

/* ---- includes --------------------------------------------------------------------------- */

Test(includes, cycle)
{
	write_file("a.kc", "include \"b.kc\";\n");
	write_file("b.kc", "include \"a.kc\";\n");
	compile("keycard 1;\ninclude \"a.kc\";\n");
	expect_errors(1);
	expect("b.kc:1:9: error: include cycle: '");
	expect("a.kc' includes itself");
}

Test(includes, including_the_main_file)
{
	compile("keycard 1;\ninclude \"main.kc\";\n");
	expect_errors(1);
	expect("main.kc:2:9: error: include cycle");
}

Test(includes, glob_matching_nothing)
{
	write_file("resources/README", "no policies here\n");
	compile("keycard 1;\ninclude \"resources/*.kc\";\ninclude \"nope.kc\";\n");
	expect_errors(2);
	expect("main.kc:2:9: error: include 'resources/*.kc' matches no file");
	expect("main.kc:3:9: error: include 'nope.kc' matches no file");
}

/* DESIGN-MISMATCH (§2.5 "glob matching nothing"): a glob whose directory
 * does not exist matches nothing, like any other; today it is reported as
 * "cannot be read" (GLOB_ERR turns the missing directory into GLOB_ABORTED). */
Test(includes, glob_in_a_missing_directory_matches_nothing)
{
	write_file("resources/a.kc", "");
	compile("keycard 1;\ninclude \"resourcs/*.kc\";\n");
	expect_errors(1);
	expect("include 'resourcs/*.kc' matches no file");
}

Test(includes, relative_to_the_including_file)
{
	write_file("sub/a.kc", "include \"b.kc\";\n");
	write_file("sub/b.kc", "resource b { route GET /b { auth none; allow; } }\n");
	compile("keycard 1;\ninclude \"sub/a.kc\";\n");
	expect_clean();
}

Test(includes, diamond_is_read_once)
{
	write_file("a.kc", "include \"c.kc\";\n");
	write_file("b.kc", "include \"c.kc\";\n");
	write_file("c.kc", "resource c { route GET /c { auth none; allow; } }\n");
	compile("keycard 1;\ninclude \"a.kc\";\ninclude \"b.kc\";\n");
	expect_clean();
}

Test(includes, too_deep)
{
	/* main -> d1 -> ... -> d9: depth 9 is over the limit of 8 */
	for (int i = 1; i <= 9; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "d%d.kc", i);
		if (i < 9)
			snprintf(text, sizeof(text), "include \"d%d.kc\";\n", i + 1);
		else
			snprintf(text, sizeof(text), "\n");
		write_file(name, text);
	}
	compile("keycard 1;\ninclude \"d1.kc\";\n");
	expect_errors(1);
	expect("d8.kc:1:9: error: includes nested deeper than 8 files");

	write_file("d8.kc", "\n");   /* depth 8 is fine */
	load("main.kc");
	expect_clean();
}

Test(includes, syntax_errors_in_included_files_are_reported)
{
	write_file("a.kc", "resource a { route GET /a { allow } }\n");
	write_file("b.kc", "resource b { route GET /b { allow; } }\nbogus;\n");
	compile("keycard 1;\ninclude \"a.kc\";\ninclude \"b.kc\";\n");
	cr_assert_geq(errors(), 2, "%s", out);
	expect("a.kc:1:");
	expect("b.kc:2:");
}

/* ---- lets ------------------------------------------------------------------------------- */

/* BUG: the cycle is one mistake and gets one error; today the same error
 * is printed twice (the let is compiled once as a value, once as a
 * condition, and both meet the cycle). */
Test(lets, cycle_is_one_error)
{
	compile(HEAD
	    "let a = b and has(claims.sub);\n"
	    "let b = a;\n"
	    "resource r { route GET /x { allow if a; } }\n");
	expect_errors(1);
	expect("'a' is defined in terms of itself");
}

Test(lets, cycle_is_refused)
{
	compile(HEAD
	    "let a = b and has(claims.sub);\n"
	    "let b = a;\n"
	    "resource r { route GET /x { allow if a; } }\n");
	cr_assert_null(policy);
	expect("main.kc:4:9: error: 'a' is defined in terms of itself");
	expect("main.kc:3:5: note: defined here");
}

Test(lets, self_reference)
{
	compile(HEAD
	    "let a = a or has(claims.tenant);\n"
	    "resource r { route GET /x { allow if a; } }\n");
	cr_assert_null(policy);
	expect("'a' is defined in terms of itself");
}

Test(lets, duplicate_and_unused)
{
	compile(HEAD
	    "let x = has(claims.tenant);\n"
	    "let x = has(claims.level);\n"
	    "let unused = has(claims.sub);\n"
	    "resource r {\n"
	    "    let y = claims.level > 1;\n"
	    "    let y = claims.level > 2;\n"
	    "    route GET /x { allow if x and y; }\n"
	    "}\n");
	expect_errors(2);
	expect("main.kc:4:5: error: 'x' is defined twice");
	expect("main.kc:3:5: note: first defined here");
	expect("main.kc:8:9: error: 'y' is defined twice");
	expect("'unused' is never used");
}

Test(lets, inner_scope_shadows_and_values_work)
{
	compile(HEAD
	    "let who = claims.sub;\n"
	    "let ok = who == \"alice\";\n"
	    "resource r {\n"
	    "    let ok = claims.level > 3;\n"
	    "    route GET /x { let ok = claims.tenant == \"t\"; allow if ok; }\n"
	    "    route GET /y { allow if ok; }\n"
	    "}\n"
	    "resource s { route GET /z { allow if ok; } }\n");
	expect_errors(0);
	cr_assert_not_null(policy);
}

Test(lets, boolean_let_is_not_a_value)
{
	compile(HEAD
	    "let ok = has(claims.sub);\n"
	    "resource r { route GET /x { allow if ok == true; } }\n");
	expect_errors(1);
	expect("'ok' is a condition, not a value");
}

/* ---- duplicate definitions ---------------------------------------------------------------- */

Test(duplicates, every_kind)
{
	compile("keycard 1;\n"
	    "realm \"a\";\n"
	    "realm \"b\";\n"
	    "default status 404;\n"
	    "default status 403;\n"
	    "claims { sub string required; sub int; }\n"
	    "list @l string { \"a\" };\n"
	    "list @l string { \"b\" };\n"
	    "scopes { alias @x = \"a\"; alias @x = \"b\"; }\n"
	    "resource r { route GET /x { auth none; allow; } }\n"
	    "resource r { route GET /y { auth none; allow; } }\n");
	expect_errors(6);
	expect("main.kc:3:1: error: 'realm' is given twice");
	expect("main.kc:2:1: note: first given here");
	expect("main.kc:5:1: error: 'default' is given twice");
	expect("main.kc:6:31: error: claim 'sub' is declared twice");
	expect("main.kc:8:6: error: list '@l' is defined twice");
	expect("alias '@x' is defined twice");
	expect("main.kc:11:10: error: resource 'r' is defined twice");
	expect("main.kc:10:10: note: first defined here");
}

Test(duplicates, across_files)
{
	write_file("a.kc", "claims { tenant string; }\nresource r { route GET /a { auth none; allow; } }\n");
	write_file("b.kc", "claims { tenant int; }\nresource r { route GET /b { auth none; allow; } }\n");
	compile("keycard 1;\ninclude \"a.kc\";\ninclude \"b.kc\";\n");
	expect_errors(2);
	expect("b.kc:1:10: error: claim 'tenant' is declared twice");
	expect("a.kc:1:10: note: first declared here");
	expect("b.kc:2:10: error: resource 'r' is defined twice");
}

/* ---- rules and responses ------------------------------------------------------------------ */

Test(rules, gates_may_only_deny)
{
	compile(HEAD "gate { allow if claims.sub == \"root\"; }\n");
	expect_errors(1);
	expect("main.kc:3:8: error: gates may only deny");
}

Test(rules, auth_none_route_cannot_read_the_token)
{
	compile(HEAD
	    "scopes { declare \"read\"; }\n"
	    "resource r {\n"
	    "    route GET /a { auth none; allow if claims.sub == \"a\"; }\n"
	    "    route GET /b { auth none; allow if scope \"read\"; }\n"
	    "    route GET /c { auth none; allow if client.id == \"a\"; }\n"
	    "    route GET /d { auth none; allow if request.header[\"x\"] == \"a\"; }\n"
	    "    route GET /e { auth optional; allow if claims.sub == \"a\"; }\n"
	    "}\n");
	expect_errors(3);
	expect("main.kc:5:31: error: this rule reads the token, but route '/a' is 'auth none'");
	expect("hint: use 'auth optional' to read a token when one is sent");
}

Test(rules, resource_rules_reading_the_token_on_an_auth_none_route)
{
	compile(HEAD
	    "resource r {\n"
	    "    require has(claims.tenant);\n"
	    "    route GET /a { auth none; allow; }\n"
	    "}\n");
	expect_errors(1);
	expect("main.kc:4:5: error: this rule reads the token, but route '/a' is 'auth none'");
}

Test(rules, responses)
{
	compile(HEAD
	    "resource r {\n"
	    "    route GET /x {\n"
	    "        allow;\n"
	    "        deny if claims.level == 1 status 200;\n"
	    "        deny if claims.level == 2 error insufficent_scope;\n"
	    "        deny if claims.level == 3 description \"caf\xc3\xa9\";\n"
	    "        deny if claims.level == 4 status 600;\n"
	    "        deny as \"ok\" if claims.level == 5 status 403 error insufficient_scope scope \"a b\" description \"fine\";\n"
	    "    }\n"
	    "}\n");
	expect_errors(4);
	expect("main.kc:6:42: error: a refusal has a 4xx or 5xx status, not 200");
	expect("main.kc:7:41: error: unknown error code 'insufficent_scope'");
	expect("did you mean 'insufficient_scope'?");
	expect("a description is printable ASCII without '\"' or '\\' (it is sent in WWW-Authenticate)");
	expect("not 600");
}

/* ---- diagnostics as a whole -------------------------------------------------------------- */

Test(diagnostics, many_errors_in_one_run)
{
	/* Report all the errors you can, then refuse (STYLE.md §3). */
	compile(HEAD
	    "resource r {\n"
	    "    route GET /a { allow if claims.x == \"1\"; }\n"
	    "    route GET /b { allow if claims.level == \"1\"; }\n"
	    "    route GET /c { allow if path.nope == \"1\"; }\n"
	    "    route GET /d { deny if claims.tenant != \"a\"; allow; }\n"
	    "}\n");
	expect_errors(4);
	cr_assert_null(policy);
	const char *a = strstr(out, "main.kc:4:"), *b = strstr(out, "main.kc:5:");
	const char *c = strstr(out, "main.kc:6:"), *d = strstr(out, "main.kc:7:");
	cr_assert(a && b && c && d, "%s", out);
	cr_assert(a < b && b < c && c < d, "reported out of order:\n%s", out);
}

Test(diagnostics, error_cap)
{
	/* More than KC_DIAG_MAX_ERRORS: all counted, the rest not shown. */
	char text[8192];
	size_t o = (size_t)snprintf(text, sizeof(text), HEAD "resource r {\n");
	for (int i = 0; i < 25; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "    route GET /r%d { allow if claims.nope%d == \"1\"; }\n", i, i);
	snprintf(text + o, sizeof(text) - o, "}\n");
	compile(text);
	expect_errors(25);
	cr_assert_eq(count_of("error: unknown claim"), KC_DIAG_MAX_ERRORS, "%s", out);
	expect("keycard: 5 more errors not shown");
}

Test(diagnostics, json_output)
{
	compile(HEAD "resource r { route GET /x { allow if claims.tenat == \"a\"; } }\n");
	char *js = NULL;
	size_t jl = 0;
	FILE *f = open_memstream(&js, &jl);
	kc_diag_print(diag, f, true);
	fclose(f);
	json_error_t je;
	json_t *arr = json_loads(js, 0, &je);
	cr_assert_not_null(arr, "not JSON: %s\n%s", je.text, js);
	cr_assert(json_is_array(arr));
	cr_assert_eq(json_array_size(arr), 1);
	json_t *e = json_array_get(arr, 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "line")), 3);
	cr_assert_eq(json_integer_value(json_object_get(e, "column")), 45);
	cr_assert_str_eq(json_string_value(json_object_get(e, "severity")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "message")), "unknown claim 'tenat'");
	json_decref(arr);
	free(js);
}
