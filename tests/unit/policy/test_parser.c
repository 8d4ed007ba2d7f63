/* test_parser.c: the policy grammar (grammar/policy.y) and the tree it builds
 * (src/policy/ast.h). It guards three things. The v1 language of the design
 * (§2.2 examples, every construct of §2.3 that v1 keeps) parses into the
 * tree later stages read, with spans that point at the right text. The
 * constructs of later issues are refused, so a policy cannot silently rely
 * on a feature that is not enforced. And syntax errors are reported the way
 * authors need them: several per run, each naming what was expected and
 * found, a missing ';' with a fix-it; the golden files in tests/policy/syntax
 * pin the exact text. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/util.h"
#include "policy/ast.h"

static kc_diag *diag;
static kc_arena *arena;

static void setup(void) { diag = kc_diag_new(); arena = kc_arena_new(16384); }
static void teardown(void) { kc_arena_free(arena); kc_diag_free(diag); }

TestSuite(parser, .init = setup, .fini = teardown);

static char *
diag_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	kc_diag_print(diag, f, false);
	fclose(f);
	return buf;
}

static kc_ast_file *
parse_as(const char *path, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	cr_assert_not_null(copy);
	memcpy(copy, text, len);
	copy[len] = '\0';
	const kc_source *src = kc_diag_add_source(diag, path, copy, len);
	cr_assert_not_null(src);
	kc_ast_file *f = kc_policy_parse(src, arena, diag);
	cr_assert_not_null(f);
	cr_assert_eq(f->src, src);
	return f;
}

static kc_ast_file *parse(const char *text) { return parse_as("t.kc", text, strlen(text)); }

static kc_ast_file *
parse_ok(const char *text)
{
	kc_ast_file *f = parse(text);
	if (kc_diag_errors(diag) != 0) {
		char *t = diag_text();
		cr_assert_fail("unexpected errors:\n%s", t);
	}
	return f;
}

static void
expect_diag(const char *needle)
{
	char *t = diag_text();
	cr_assert_not_null(strstr(t, needle), "diagnostics lack \"%s\":\n%s", needle, t);
	free(t);
}

/* The source text a span covers. */
static const char *
span_text(kc_span s)
{
	cr_assert_not_null(s.src, "a span without a source");
	size_t len;
	const char *text = kc_source_text(s.src, &len);
	cr_assert_leq(s.start, s.end);
	cr_assert_leq(s.end, len);
	return kc_arena_strndup(arena, text + s.start, s.end - s.start);
}

static size_t
n_items(const kc_ast_file *f)
{
	size_t n = 0;
	for (const kc_ast_item *it = f->items; it != NULL; it = it->next)
		n++;
	return n;
}

static const kc_ast_item *
item(const kc_ast_file *f, size_t i, kc_ast_item_kind kind)
{
	const kc_ast_item *it = f->items;
	for (size_t k = 0; k < i && it != NULL; k++)
		it = it->next;
	cr_assert_not_null(it, "no item %zu", i);
	cr_assert_eq(it->kind, kind, "item %zu is of kind %d, want %d", i, it->kind, kind);
	return it;
}

static void
expect_str(kc_ast_str s, const char *want)
{
	cr_assert_not_null(s.s, "missing string, want \"%s\"", want);
	cr_assert_str_eq(s.s, want);
	cr_assert_eq(s.len, strlen(want));
}

/* The strings of a list, NULL-terminated. */
static void
expect_strs(const kc_ast_strlist *l, ...)
{
	va_list ap;
	va_start(ap, l);
	const char *want;
	size_t i = 0;
	while ((want = va_arg(ap, const char *)) != NULL) {
		cr_assert_not_null(l, "list ends before \"%s\" (item %zu)", want, i);
		expect_str(l->str, want);
		l = l->next;
		i++;
	}
	va_end(ap);
	cr_assert_null(l, "list is longer than %zu", i);
}

static size_t
n_rules(const kc_ast_rule *r)
{
	size_t n = 0;
	for (; r != NULL; r = r->next)
		n++;
	return n;
}

static const kc_ast_route *
route_at(const kc_ast_resource *res, size_t i)
{
	const kc_ast_route *r = res->routes;
	for (size_t k = 0; k < i && r != NULL; k++)
		r = r->next;
	cr_assert_not_null(r, "no route %zu", i);
	return r;
}

/* A reference's text as written, e.g. `claims.x` or `request.header["h"]`. */
static void
expect_ref(const kc_ast_value *v, kc_ast_root root, const char *text)
{
	cr_assert_not_null(v);
	cr_assert_eq(v->kind, KC_V_REF, "%s is a reference", text);
	cr_assert_eq(v->root, root);
	cr_assert_str_eq(span_text(v->span), text);
}

/* The condition of the only rule of a one-route resource. */
static const kc_ast_expr *
cond_of(const char *expr_text)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "resource r { route GET /x { allow if %s; } }", expr_text);
	kc_ast_file *f = parse_ok(buf);
	const kc_ast_rule *r = item(f, 0, KC_I_RESOURCE)->resource->routes->rules;
	cr_assert_not_null(r->cond);
	cr_assert_str_eq(span_text(r->cond->span), expr_text, "the condition spans all of it");
	return r->cond;
}

/* ---- the design's examples (§2.2), cut to v1 ------------------------------------ */

static const char main_kc[] =
    "# main.kc: keycard main configuration for api.example.com\n"
    "keycard 1;\n"
    "realm \"api.example.com\";\n"
    "\n"
    "issuer corp \"https://id.example.com/\" {\n"
    "    audience \"https://api.example.com\";\n"
    "    algorithms RS256, ES256;\n"
    "    jwks file \"keys/corp.jwks\";\n"
    "    leeway 60s;\n"
    "    require exp, iat, sub, client_id;\n"
    "    typ \"at+jwt\";\n"
    "}\n"
    "\n"
    "claims {\n"
    "    sub            string required;\n"
    "    client_id      string required;\n"
    "    tenant         string;\n"
    "    email          string;\n"
    "    email_verified bool;\n"
    "    acr            string;\n"
    "    auth_time      time;\n"
    "    username       string;                          # introspection responses\n"
    "    groups         list<string>;\n"
    "    roles          list<string> from \"realm_access.roles\";\n"
    "}\n"
    "\n"
    "include \"common.kc\";\n"
    "include \"resources/*.kc\";\n"
    "\n"
    "export {\n"
    "    REMOTE_USER         = claims.sub;\n"
    "    KEYCARD_SUBJECT     = claims.sub;\n"
    "    KEYCARD_CLIENT_ID   = client.id;\n"
    "    KEYCARD_CLIENT_NAME = client.name;\n"
    "    KEYCARD_SCOPES      = token.scopes;\n"
    "    KEYCARD_TENANT      = claims.tenant;\n"
    "    KEYCARD_EMAIL       = claims.email;\n"
    "}\n"
    "\n"
    "default status 404;\n";

Test(parser, example_main)
{
	kc_ast_file *f = parse_ok(main_kc);
	cr_assert_eq(n_items(f), 8);
	cr_assert_eq(item(f, 0, KC_I_VERSION)->version, 1);
	expect_str(item(f, 1, KC_I_REALM)->str, "api.example.com");

	const kc_ast_item *it = item(f, 2, KC_I_ISSUER);
	cr_assert_str_eq(span_text(it->span), "issuer");
	const kc_ast_issuer *is = it->issuer;
	expect_str(is->name, "corp");
	expect_str(is->iss, "https://id.example.com/");
	expect_strs(is->audiences, "https://api.example.com", NULL);
	expect_strs(is->algorithms, "RS256", "ES256", NULL);
	expect_str(is->jwks_file, "keys/corp.jwks");
	cr_assert_null(is->pem_file.s);
	cr_assert_null(is->secret_file.s);
	cr_assert_eq(is->leeway_ms, 60000);
	cr_assert_str_eq(span_text(is->leeway_span), "60s");
	expect_strs(is->require, "exp", "iat", "sub", "client_id", NULL);
	expect_str(is->typ, "at+jwt");

	const kc_ast_claim *c = item(f, 3, KC_I_CLAIMS)->claims;
	static const struct { const char *name; kc_ast_type type; bool req; } want[] = {
		{ "sub", KC_T_STRING, true }, { "client_id", KC_T_STRING, true },
		{ "tenant", KC_T_STRING, false }, { "email", KC_T_STRING, false },
		{ "email_verified", KC_T_BOOL, false }, { "acr", KC_T_STRING, false },
		{ "auth_time", KC_T_TIME, false }, { "username", KC_T_STRING, false },
		{ "groups", KC_T_LIST_STRING, false }, { "roles", KC_T_LIST_STRING, false },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, c = c->next) {
		cr_assert_not_null(c, "claim %zu", i);
		expect_str(c->name, want[i].name);
		cr_assert_eq(c->type, want[i].type, "type of %s", want[i].name);
		cr_assert_eq(c->required, want[i].req, "required of %s", want[i].name);
		if (i == 9) {
			expect_str(c->from, "realm_access.roles");
			cr_assert_str_eq(span_text(c->type_span), "list<string>");
		} else {
			cr_assert_null(c->from.s);
		}
		cr_assert_null(c->split.s);
	}
	cr_assert_null(c);

	expect_str(item(f, 4, KC_I_INCLUDE)->str, "common.kc");
	expect_str(item(f, 5, KC_I_INCLUDE)->str, "resources/*.kc");

	it = item(f, 6, KC_I_EXPORT);
	cr_assert_str_eq(span_text(it->span), "export");
	static const struct { const char *name, *value; kc_ast_root root; } ex[] = {
		{ "REMOTE_USER", "claims.sub", KC_ROOT_CLAIMS },
		{ "KEYCARD_SUBJECT", "claims.sub", KC_ROOT_CLAIMS },
		{ "KEYCARD_CLIENT_ID", "client.id", KC_ROOT_CLIENT },
		{ "KEYCARD_CLIENT_NAME", "client.name", KC_ROOT_CLIENT },
		{ "KEYCARD_SCOPES", "token.scopes", KC_ROOT_TOKEN },
		{ "KEYCARD_TENANT", "claims.tenant", KC_ROOT_CLAIMS },
		{ "KEYCARD_EMAIL", "claims.email", KC_ROOT_CLAIMS },
	};
	const kc_ast_export *e = it->exports;
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++, e = e->next) {
		cr_assert_not_null(e);
		expect_str(e->name, ex[i].name);
		cr_assert_not(e->header);
		expect_ref(e->value, ex[i].root, ex[i].value);
		cr_assert_not_null(e->value->fields);
		cr_assert_null(e->value->fields->next);
		cr_assert_not(e->value->fields->bracket);
	}
	cr_assert_null(e);
	cr_assert_str_eq(item(f, 6, KC_I_EXPORT)->exports->value->str.s, "claims",
	    "a reference keeps its root word");

	it = item(f, 7, KC_I_DEFAULT);
	cr_assert(it->resp.present);
	cr_assert_eq(it->resp.status, 404);
	cr_assert_str_eq(span_text(it->resp.status_span), "404");
	cr_assert_null(it->resp.error.s);
}

static const char common_kc[] =
    "# common.kc: scope vocabulary, client names, lists and gates\n"
    "scopes {\n"
    "    source \"scope\", \"scp\";              # RFC 9068 string, or an array (scp)\n"
    "    declare \"read:user\", \"user:email\", \"user:follow\",\n"
    "            \"source:r\", \"source:w\",\n"
    "            \"reports:read\", \"reports:export\", \"admin\";\n"
    "    declare file \"scopes.txt\";          # more names, one per line\n"
    "    entity devices, locations, scenes perms r, w, x;   # \"x:devices:123\"\n"
    "    implies \"admin\" -> \"read:user\", \"user:email\";\n"
    "    alias @profile_readers = \"read:user\", \"user:email\";\n"
    "}\n"
    "\n"
    "client \"0oa1mobile\"  = \"Mobile app\";\n"
    "client \"0oa9kiosk\"   = \"Lobby kiosk\";\n"
    "client \"0oa2console\" = \"Admin console\";\n"
    "clients file \"clients.tsv\";             # client_id<TAB>name\n"
    "\n"
    "list @blocked_nets    cidr   file \"lists/blocked-nets.txt\";\n"
    "list @blocked_subs    string file \"lists/blocked-subjects.txt\";\n"
    "list @retired_clients string { \"0oa5scraper\", \"0oa6oldsdk\" };\n"
    "list @office_nets     cidr   { \"10.20.0.0/16\", \"2001:db8:42::/48\" };\n"
    "\n"
    "# Ordinary gates run after the token is validated.\n"
    "gate {\n"
    "    deny as \"blocked-subject\" if claims.sub in @blocked_subs status 403;\n"
    "    deny as \"retired-client\"  if claims.client_id in @retired_clients\n"
    "         status 403 description \"this client has been retired\";\n"
    "}\n";

Test(parser, example_common)
{
	kc_ast_file *f = parse_ok(common_kc);
	cr_assert_eq(n_items(f), 10);

	const kc_ast_scope_stmt *s = item(f, 0, KC_I_SCOPES)->scopes;
	cr_assert_eq(s->kind, KC_SS_SOURCE);
	cr_assert_str_eq(span_text(s->span), "source");
	expect_strs(s->names, "scope", "scp", NULL);
	s = s->next;
	cr_assert_eq(s->kind, KC_SS_DECLARE);
	expect_strs(s->names, "read:user", "user:email", "user:follow", "source:r", "source:w",
	    "reports:read", "reports:export", "admin", NULL);
	s = s->next;
	cr_assert_eq(s->kind, KC_SS_DECLARE_FILE);
	expect_str(s->subject, "scopes.txt");
	s = s->next;
	cr_assert_eq(s->kind, KC_SS_ENTITY);
	expect_strs(s->names, "devices", "locations", "scenes", NULL);
	expect_strs(s->perms, "r", "w", "x", NULL);
	cr_assert_null(s->imp_from.s);
	s = s->next;
	cr_assert_eq(s->kind, KC_SS_IMPLIES);
	expect_str(s->subject, "admin");
	expect_strs(s->names, "read:user", "user:email", NULL);
	s = s->next;
	cr_assert_eq(s->kind, KC_SS_ALIAS);
	expect_str(s->subject, "profile_readers");
	cr_assert_str_eq(span_text(s->subject.span), "@profile_readers");
	expect_strs(s->names, "read:user", "user:email", NULL);
	cr_assert_null(s->next);

	const kc_ast_item *it = item(f, 1, KC_I_CLIENT);
	expect_str(it->str, "0oa1mobile");
	expect_str(it->str2, "Mobile app");
	expect_str(item(f, 3, KC_I_CLIENT)->str2, "Admin console");
	expect_str(item(f, 4, KC_I_CLIENTS_FILE)->str, "clients.tsv");

	const kc_ast_list *l = item(f, 5, KC_I_LIST)->list;
	expect_str(l->name, "blocked_nets");
	cr_assert(l->cidr);
	expect_str(l->file, "lists/blocked-nets.txt");
	cr_assert_null(l->items);
	l = item(f, 6, KC_I_LIST)->list;
	cr_assert_not(l->cidr);
	l = item(f, 7, KC_I_LIST)->list;
	expect_str(l->name, "retired_clients");
	cr_assert_not(l->cidr);
	cr_assert_null(l->file.s);
	expect_strs(l->items, "0oa5scraper", "0oa6oldsdk", NULL);
	l = item(f, 8, KC_I_LIST)->list;
	cr_assert(l->cidr);
	expect_strs(l->items, "10.20.0.0/16", "2001:db8:42::/48", NULL);

	const kc_ast_rule *r = item(f, 9, KC_I_GATE)->rules;
	cr_assert_eq(n_rules(r), 2);
	cr_assert_eq(r->kind, KC_RULE_DENY);
	expect_str(r->label, "blocked-subject");
	cr_assert_eq(r->cond->kind, KC_E_IN);
	cr_assert_not(r->cond->negated);
	expect_ref(r->cond->lhs, KC_ROOT_CLAIMS, "claims.sub");
	cr_assert_eq(r->cond->rhs->kind, KC_V_ALIAS);
	expect_str(r->cond->rhs->str, "blocked_subs");
	cr_assert(r->resp.present);
	cr_assert_eq(r->resp.status, 403);
	r = r->next;
	expect_str(r->label, "retired-client");
	cr_assert_eq(r->resp.status, 403);
	expect_str(r->resp.description, "this client has been retired");
}

static const char devices_kc[] =
    "# resources/devices.kc: device API with SmartThings-style entity permissions\n"
    "resource devices {\n"
    "    mount /api/v1;\n"
    "    auth required;\n"
    "\n"
    "    # Every route in this file needs a tenant-bound token.\n"
    "    require as \"tenant-bound\" has(claims.tenant)\n"
    "        status 403 description \"token is not bound to a tenant\";\n"
    "\n"
    "    export {\n"
    "        KEYCARD_DEVICES_READ = entity_ids(r, devices);   # \"123,555\" or \"*\"\n"
    "    }\n"
    "\n"
    "    route GET /devices {\n"
    "        allow as \"list\" if has_entity(r, devices);\n"
    "    }\n"
    "\n"
    "    route GET|HEAD /devices/{id:slug} {\n"
    "        allow as \"read\" if scope \"r:devices:{id}\";\n"
    "    }\n"
    "\n"
    "    route PUT|PATCH /devices/{id:slug} {\n"
    "        allow as \"write\" if scope \"w:devices:{id}\";\n"
    "    }\n"
    "\n"
    "    route POST /devices/{id:slug}/commands {\n"
    "        allow as \"exec\" if scope \"x:devices:{id}\";\n"
    "        deny  as \"kiosk-read-only\" if claims.client_id == \"0oa9kiosk\"\n"
    "              status 403 error insufficient_scope;\n"
    "    }\n"
    "\n"
    "    route GET /locations/{loc:slug}/devices {\n"
    "        allow as \"by-location\" if scope \"r:locations:{loc}\" and has_entity(r, devices);\n"
    "    }\n"
    "\n"
    "    route POST /locations/{loc:slug}/scenes/{scene:slug}/execute {\n"
    "        allow as \"scene\" if scope all(\"r:locations:{loc}\", \"x:scenes:{scene}\");\n"
    "    }\n"
    "}\n";

static void
expect_call(const kc_ast_value *v, const char *name, const char *arg1, const char *arg2)
{
	cr_assert_eq(v->kind, KC_V_CALL);
	expect_str(v->str, name);
	const kc_ast_value *a = v->items;
	expect_ref(a, KC_ROOT_LET, arg1);
	expect_str(a->str, arg1);
	expect_ref(a->next, KC_ROOT_LET, arg2);
	cr_assert_null(a->next->next);
}

Test(parser, example_devices)
{
	kc_ast_file *f = parse_ok(devices_kc);
	cr_assert_eq(n_items(f), 1);
	const kc_ast_item *it = item(f, 0, KC_I_RESOURCE);
	cr_assert_str_eq(span_text(it->span), "resource");
	const kc_ast_resource *res = it->resource;
	expect_str(res->name, "devices");
	expect_str(res->mount, "/api/v1");
	cr_assert_eq(res->auth, KC_AUTH_REQUIRED);
	cr_assert_str_eq(span_text(res->auth_span), "auth required");
	cr_assert_null(res->lets);

	const kc_ast_rule *r = res->rules;
	cr_assert_eq(n_rules(r), 1);
	cr_assert_eq(r->kind, KC_RULE_REQUIRE);
	expect_str(r->label, "tenant-bound");
	cr_assert_eq(r->cond->kind, KC_E_HAS);
	expect_ref(r->cond->lhs, KC_ROOT_CLAIMS, "claims.tenant");
	cr_assert_str_eq(span_text(r->cond->span), "has(claims.tenant)");
	cr_assert_eq(r->resp.status, 403);
	expect_str(r->resp.description, "token is not bound to a tenant");

	const kc_ast_export *e = res->exports;
	expect_str(e->name, "KEYCARD_DEVICES_READ");
	expect_call(e->value, "entity_ids", "r", "devices");
	cr_assert_str_eq(span_text(e->value->span), "entity_ids(r, devices)");
	cr_assert_null(e->next);

	static const struct { unsigned methods; const char *path; size_t rules; } want[] = {
		{ KC_M_GET, "/devices", 1 },
		{ KC_M_GET | KC_M_HEAD, "/devices/{id:slug}", 1 },
		{ KC_M_PUT | KC_M_PATCH, "/devices/{id:slug}", 1 },
		{ KC_M_POST, "/devices/{id:slug}/commands", 2 },
		{ KC_M_GET, "/locations/{loc:slug}/devices", 1 },
		{ KC_M_POST, "/locations/{loc:slug}/scenes/{scene:slug}/execute", 1 },
	};
	for (size_t i = 0; i < 6; i++) {
		const kc_ast_route *rt = route_at(res, i);
		cr_assert_eq(rt->methods, want[i].methods, "methods of route %zu", i);
		expect_str(rt->path, want[i].path);
		cr_assert_eq(n_rules(rt->rules), want[i].rules);
		cr_assert_eq(rt->auth, KC_AUTH_UNSET);
		cr_assert_str_eq(span_text(rt->span), "route");
	}
	cr_assert_null(route_at(res, 5)->next);

	r = route_at(res, 0)->rules;
	cr_assert_eq(r->kind, KC_RULE_ALLOW);
	cr_assert_eq(r->cond->kind, KC_E_VALUE);
	expect_call(r->cond->lhs, "has_entity", "r", "devices");

	r = route_at(res, 1)->rules;
	cr_assert_eq(r->cond->kind, KC_E_SCOPE);
	cr_assert_eq(r->cond->scope_mode, KC_SCOPE_ONE);
	cr_assert_eq(r->cond->scopes->kind, KC_V_STRING);
	expect_str(r->cond->scopes->str, "r:devices:{id}");
	cr_assert_null(r->cond->scopes->next);

	r = route_at(res, 3)->rules->next;
	cr_assert_eq(r->kind, KC_RULE_DENY);
	expect_str(r->label, "kiosk-read-only");
	cr_assert_eq(r->cond->kind, KC_E_CMP);
	cr_assert_eq(r->cond->op, KC_CMP_EQ);
	cr_assert_str_eq(span_text(r->cond->op_span), "==");
	expect_str(r->resp.error, "insufficient_scope");
	cr_assert_eq(r->resp.status, 403);

	r = route_at(res, 4)->rules;
	cr_assert_eq(r->cond->kind, KC_E_AND);
	cr_assert_eq(r->cond->a->kind, KC_E_SCOPE);
	cr_assert_eq(r->cond->b->kind, KC_E_VALUE);

	r = route_at(res, 5)->rules;
	cr_assert_eq(r->cond->scope_mode, KC_SCOPE_ALL);
	expect_str(r->cond->scopes->str, "r:locations:{loc}");
	expect_str(r->cond->scopes->next->str, "x:scenes:{scene}");
	cr_assert_null(r->cond->scopes->next->next);
}

static const char admin_kc[] =
    "# resources/admin.kc: staff-only administration area\n"
    "resource admin {\n"
    "    mount /admin;\n"
    "    auth required;\n"
    "\n"
    "    let is_admin    = \"keycard-admins\" in claims.groups or \"admin\" in claims.roles;\n"
    "    let from_office = request.remote_addr in @office_nets;\n"
    "\n"
    "    require as \"console-only\" claims.client_id in [\"0oa2console\", \"0oa3cli\"]\n"
    "        status 403 description \"the admin API is only open to the console and CLI\";\n"
    "    require as \"verified-email\" claims.email_verified == true status 403;\n"
    "    require as \"mfa\" claims.acr in [\"urn:example:acr:mfa\", \"phr\"]\n"
    "        status 401 error insufficient_user_authentication;\n"
    "    require as \"recent-login\" age(claims.auth_time) <= 12h\n"
    "        status 401 error insufficient_user_authentication;\n"
    "\n"
    "    route GET /users {\n"
    "        allow as \"list-users\" if is_admin and scope any(@profile_readers);\n"
    "    }\n"
    "\n"
    "    route GET /users/{uid} {\n"
    "        allow as \"read-user\" if scope \"read:user\" and (is_admin or claims.sub == path.uid);\n"
    "    }\n"
    "\n"
    "    route DELETE /users/{uid} {\n"
    "        allow as \"delete-user\" if is_admin and scope \"admin\" and from_office;\n"
    "        deny  as \"no-self-delete\" if claims.sub == path.uid\n"
    "              status 403 description \"administrators cannot delete themselves\";\n"
    "    }\n"
    "\n"
    "    route GET /audit/{rest...} {\n"
    "        allow as \"audit\" if \"auditors\" in claims.groups and scope \"read:user\";\n"
    "        export { header \"X-Audit-Viewer\" = claims.email ?? claims.sub; }\n"
    "    }\n"
    "}\n";

Test(parser, example_admin)
{
	kc_ast_file *f = parse_ok(admin_kc);
	const kc_ast_resource *res = item(f, 0, KC_I_RESOURCE)->resource;
	expect_str(res->mount, "/admin");

	const kc_ast_let *l = res->lets;
	expect_str(l->name, "is_admin");
	cr_assert_eq(l->expr->kind, KC_E_OR);
	cr_assert_eq(l->expr->a->kind, KC_E_IN);
	cr_assert_eq(l->expr->a->lhs->kind, KC_V_STRING);
	expect_ref(l->expr->a->rhs, KC_ROOT_CLAIMS, "claims.groups");
	expect_ref(l->expr->b->rhs, KC_ROOT_CLAIMS, "claims.roles");
	l = l->next;
	expect_str(l->name, "from_office");
	expect_ref(l->expr->lhs, KC_ROOT_REQUEST, "request.remote_addr");
	cr_assert_null(l->next);

	const kc_ast_rule *r = res->rules;
	cr_assert_eq(n_rules(r), 4);
	cr_assert_eq(r->cond->kind, KC_E_IN);
	cr_assert_eq(r->cond->rhs->kind, KC_V_LIST);
	cr_assert_str_eq(span_text(r->cond->rhs->span), "[\"0oa2console\", \"0oa3cli\"]");
	expect_str(r->cond->rhs->items->str, "0oa2console");
	expect_str(r->cond->rhs->items->next->str, "0oa3cli");
	cr_assert_null(r->cond->rhs->items->next->next);
	r = r->next;
	expect_str(r->label, "verified-email");
	cr_assert_eq(r->cond->kind, KC_E_CMP);
	cr_assert_eq(r->cond->rhs->kind, KC_V_TRUE);
	cr_assert_eq(r->resp.status, 403);
	r = r->next;
	expect_str(r->resp.error, "insufficient_user_authentication");
	cr_assert_eq(r->resp.status, 401);
	r = r->next;
	cr_assert_eq(r->cond->kind, KC_E_CMP);
	cr_assert_eq(r->cond->op, KC_CMP_LE);
	cr_assert_eq(r->cond->lhs->kind, KC_V_CALL);
	expect_str(r->cond->lhs->str, "age");
	expect_ref(r->cond->lhs->items, KC_ROOT_CLAIMS, "claims.auth_time");
	cr_assert_eq(r->cond->rhs->kind, KC_V_DURATION);
	cr_assert_eq(r->cond->rhs->num, 12 * 3600 * 1000);

	const kc_ast_rule *ar = route_at(res, 0)->rules;
	cr_assert_eq(ar->cond->kind, KC_E_AND);
	expect_ref(ar->cond->a->lhs, KC_ROOT_LET, "is_admin");
	cr_assert_eq(ar->cond->b->scope_mode, KC_SCOPE_ANY);
	cr_assert_eq(ar->cond->b->scopes->kind, KC_V_ALIAS);
	expect_str(ar->cond->b->scopes->str, "profile_readers");

	/* scope "read:user" and (is_admin or claims.sub == path.uid) */
	ar = route_at(res, 1)->rules;
	cr_assert_eq(ar->cond->kind, KC_E_AND);
	cr_assert_eq(ar->cond->b->kind, KC_E_OR, "parentheses group");
	cr_assert_eq(ar->cond->b->b->kind, KC_E_CMP);
	expect_ref(ar->cond->b->b->rhs, KC_ROOT_PATH, "path.uid");

	/* a and b and c: left-associative */
	ar = route_at(res, 2)->rules;
	cr_assert_eq(ar->cond->kind, KC_E_AND);
	cr_assert_eq(ar->cond->a->kind, KC_E_AND);
	expect_ref(ar->cond->b->lhs, KC_ROOT_LET, "from_office");
	expect_str(ar->next->resp.description, "administrators cannot delete themselves");

	const kc_ast_route *rt = route_at(res, 3);
	expect_str(rt->path, "/audit/{rest...}");
	const kc_ast_export *e = rt->exports;
	cr_assert(e->header);
	expect_str(e->name, "X-Audit-Viewer");
	cr_assert_eq(e->value->kind, KC_V_COALESCE);
	expect_ref(e->value->lhs, KC_ROOT_CLAIMS, "claims.email");
	expect_ref(e->value->rhs, KC_ROOT_CLAIMS, "claims.sub");
	cr_assert_str_eq(span_text(e->value->span), "claims.email ?? claims.sub");
}

static const char health_kc[] =
    "# resources/health.kc: public endpoints\n"
    "resource health {\n"
    "    mount /;\n"
    "\n"
    "    route GET|HEAD /healthz {\n"
    "        auth none;          # no token is read, even if one is sent\n"
    "        allow;\n"
    "    }\n"
    "\n"
    "    route GET /status {\n"
    "        auth optional;      # anonymous is fine; a token, if sent, must be valid\n"
    "        allow;\n"
    "        export { KEYCARD_VIEWER = claims.sub; }\n"
    "    }\n"
    "}\n";

Test(parser, example_health)
{
	kc_ast_file *f = parse_ok(health_kc);
	const kc_ast_resource *res = item(f, 0, KC_I_RESOURCE)->resource;
	expect_str(res->mount, "/");
	cr_assert_eq(res->auth, KC_AUTH_UNSET);
	const kc_ast_route *rt = route_at(res, 0);
	cr_assert_eq(rt->auth, KC_AUTH_NONE);
	cr_assert_str_eq(span_text(rt->auth_span), "auth none");
	cr_assert_eq(rt->rules->kind, KC_RULE_ALLOW);
	cr_assert_null(rt->rules->cond, "an unconditional allow");
	cr_assert_null(rt->rules->label.s);
	cr_assert_not(rt->rules->resp.present);
	cr_assert_null(rt->exports);
	rt = rt->next;
	cr_assert_eq(rt->auth, KC_AUTH_OPTIONAL);
	expect_str(rt->exports->name, "KEYCARD_VIEWER");
}

static const char legacy_kc[] =
    "# resources/legacy.kc: reports app (v1: no introspection, no accept)\n"
    "resource reports {\n"
    "    mount /legacy/reports;\n"
    "    auth required;\n"
    "\n"
    "    export {\n"
    "        REMOTE_USER        = claims.username ?? claims.sub;\n"
    "        KEYCARD_TOKEN_KIND = token.kind;\n"
    "    }\n"
    "\n"
    "    route GET /{report:int} {\n"
    "        allow as \"read\" if scope \"reports:read\";\n"
    "    }\n"
    "\n"
    "    route POST /{report:int}/export {\n"
    "        allow as \"export\" if scope all(\"reports:read\", \"reports:export\");\n"
    "        deny  as \"batch-freeze\" if client.id == \"0oa7batch\"\n"
    "              status 403 description \"bulk export is disabled for the batch client\";\n"
    "    }\n"
    "}\n";

Test(parser, example_legacy)
{
	kc_ast_file *f = parse_ok(legacy_kc);
	const kc_ast_resource *res = item(f, 0, KC_I_RESOURCE)->resource;
	expect_str(res->mount, "/legacy/reports");
	const kc_ast_export *e = res->exports;
	cr_assert_eq(e->value->kind, KC_V_COALESCE);
	expect_ref(e->next->value, KC_ROOT_TOKEN, "token.kind");
	expect_str(route_at(res, 0)->path, "/{report:int}");
	const kc_ast_rule *r = route_at(res, 1)->rules->next;
	expect_ref(r->cond->lhs, KC_ROOT_CLIENT, "client.id");
}

Test(parser, all_examples_in_one_file)
{
	/* Files are independent statements: the concatenation is one file. */
	char *all = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&all, &len);
	fprintf(m, "%s%s%s%s%s%s", main_kc, common_kc, devices_kc, admin_kc, health_kc, legacy_kc);
	fclose(m);
	kc_ast_file *f = parse_ok(all);
	cr_assert_eq(n_items(f), 8 + 10 + 4);
	free(all);
}

/* ---- constructs -------------------------------------------------------------------------- */

Test(parser, empty_file)
{
	cr_assert_null(parse_ok("")->items);
	cr_assert_null(parse_ok("# nothing but a comment\n\n")->items);
}

Test(parser, spans)
{
	kc_ast_file *f = parse_ok("let  ok = not has(claims.x) ;\n"
	    "export { A = claims.a; }\n"
	    "resource r { deny as \"l\" if a not in [1, 2] status 401; }");
	const kc_ast_item *it = item(f, 0, KC_I_LET);
	cr_assert_str_eq(span_text(it->span), "let");
	expect_str(it->let->name, "ok");
	cr_assert_str_eq(span_text(it->let->name.span), "ok");
	const kc_ast_expr *e = it->let->expr;
	cr_assert_eq(e->kind, KC_E_NOT);
	cr_assert_str_eq(span_text(e->span), "not has(claims.x)");
	cr_assert_str_eq(span_text(e->op_span), "not");
	cr_assert_eq(e->a->kind, KC_E_HAS);
	cr_assert_null(e->b);
	cr_assert_str_eq(span_text(item(f, 1, KC_I_EXPORT)->span), "export");

	const kc_ast_rule *r = item(f, 2, KC_I_RESOURCE)->resource->rules;
	cr_assert_str_eq(span_text(r->span), "deny");
	cr_assert_str_eq(span_text(r->label.span), "\"l\"");
	cr_assert_eq(r->cond->kind, KC_E_IN);
	cr_assert(r->cond->negated);
	cr_assert_str_eq(span_text(r->cond->op_span), "not in");
	cr_assert_str_eq(span_text(r->cond->span), "a not in [1, 2]");
	cr_assert_eq(r->cond->rhs->items->kind, KC_V_INT);
	cr_assert_eq(r->cond->rhs->items->next->num, 2);
	cr_assert_str_eq(span_text(r->resp.status_span), "401");
}

Test(parser, keywords_may_name_things)
{
	/* Claim names, issuer and resource names, claims to require, error
	 * codes and entity words may be keywords; after '.' any word is a field. */
	kc_ast_file *f = parse_ok(
	    "issuer list \"https://x/\" { require time, scope, path; algorithms none; }\n"
	    "claims { time time; status string; scope list<string> split \" \"; }\n"
	    "scopes { entity route, file perms r, list implies list -> r; }\n"
	    "resource resource { deny if claims.status == \"x\" error status; }\n");
	const kc_ast_issuer *is = item(f, 0, KC_I_ISSUER)->issuer;
	expect_str(is->name, "list");
	expect_strs(is->require, "time", "scope", "path", NULL);
	expect_strs(is->algorithms, "none", NULL);
	const kc_ast_claim *c = item(f, 1, KC_I_CLAIMS)->claims;
	expect_str(c->name, "time");
	cr_assert_eq(c->type, KC_T_TIME);
	cr_assert_str_eq(span_text(c->name.span), "time");
	expect_str(c->next->name, "status");
	expect_str(c->next->next->name, "scope");
	cr_assert_eq(c->next->next->type, KC_T_LIST_STRING);
	expect_str(c->next->next->split, " ");
	const kc_ast_scope_stmt *s = item(f, 2, KC_I_SCOPES)->scopes;
	expect_strs(s->names, "route", "file", NULL);
	expect_strs(s->perms, "r", "list", NULL);
	expect_str(s->imp_from, "list");
	expect_str(s->imp_to, "r");
	const kc_ast_resource *res = item(f, 3, KC_I_RESOURCE)->resource;
	expect_str(res->name, "resource");
	expect_ref(res->rules->cond->lhs, KC_ROOT_CLAIMS, "claims.status");
	expect_str(res->rules->cond->lhs->fields->name, "status");
	expect_str(res->rules->resp.error, "status");
}

Test(parser, issuer_options)
{
	kc_ast_file *f = parse_ok(
	    "issuer a \"https://a/\" {\n"
	    "    audience \"x\", \"y\";\n"
	    "    audience \"z\";\n"
	    "    key file \"a.pem\";\n"
	    "    secret file \"a.secret\";\n"
	    "    algorithms ES256;\n"
	    "    algorithms EdDSA, PS256;\n"
	    "    require sub;\n"
	    "    require exp;\n"
	    "}\n"
	    "issuer b \"https://b/\" { }\n");
	const kc_ast_issuer *is = item(f, 0, KC_I_ISSUER)->issuer;
	expect_strs(is->audiences, "x", "y", "z", NULL);
	expect_strs(is->algorithms, "ES256", "EdDSA", "PS256", NULL);
	expect_strs(is->require, "sub", "exp", NULL);
	expect_str(is->pem_file, "a.pem");
	expect_str(is->secret_file, "a.secret");
	cr_assert_null(is->jwks_file.s);
	cr_assert_eq(is->leeway_ms, -1, "no leeway given");
	cr_assert_null(is->typ.s);
	is = item(f, 1, KC_I_ISSUER)->issuer;
	expect_str(is->name, "b");
	cr_assert_null(is->audiences);
	cr_assert_eq(is->leeway_ms, -1);
}

Test(parser, claim_types_and_options)
{
	kc_ast_file *f = parse_ok("claims {\n"
	    "  a int; b list<int> required from \"x.y\"; c list<string> split \",\" required;\n"
	    "}");
	const kc_ast_claim *c = item(f, 0, KC_I_CLAIMS)->claims;
	cr_assert_eq(c->type, KC_T_INT);
	cr_assert_not(c->required);
	c = c->next;
	cr_assert_eq(c->type, KC_T_LIST_INT);
	cr_assert(c->required);
	expect_str(c->from, "x.y");
	c = c->next;
	cr_assert(c->required);
	expect_str(c->split, ",");
	cr_assert_null(c->next);
	cr_assert_null(item(parse_ok("claims { }"), 0, KC_I_CLAIMS)->claims);
}

Test(parser, lists)
{
	kc_ast_file *f = parse_ok("list @none string { };\nlist @one cidr { \"10.0.0.0/8\" };");
	const kc_ast_list *l = item(f, 0, KC_I_LIST)->list;
	expect_str(l->name, "none");
	cr_assert_null(l->items);
	cr_assert_null(l->file.s);
	expect_strs(item(f, 1, KC_I_LIST)->list->items, "10.0.0.0/8", NULL);
}

Test(parser, resource_and_route_bodies)
{
	kc_ast_file *f = parse_ok(
	    "resource r {\n"
	    "  let a = true;\n"
	    "  export { A = claims.a; B = claims.b; }\n"
	    "  allow if a;\n"
	    "  route ANY /x/{id} {\n"
	    "    hint scope \"s1\", \"s2\";\n"
	    "    export { C = 1; }\n"
	    "    let b = false;\n"
	    "    deny;\n"
	    "    hint scope \"s3\";\n"
	    "    export { D = path.id; }\n"
	    "    let c = b;\n"
	    "    require c;\n"
	    "    auth optional;\n"
	    "  }\n"
	    "  let d = a;\n"
	    "  export { E = \"e\"; }\n"
	    "  route GET|POST|DELETE|OPTIONS /y { }\n"
	    "  deny if d;\n"
	    "}\n"
	    "resource empty { }\n");
	const kc_ast_resource *res = item(f, 0, KC_I_RESOURCE)->resource;
	cr_assert_null(res->mount.s, "no mount: \"/\"");
	expect_str(res->lets->name, "a");
	expect_str(res->lets->next->name, "d");
	cr_assert_null(res->lets->next->next);
	const char *names[] = { "A", "B", "E" };
	const kc_ast_export *e = res->exports;
	for (size_t i = 0; i < 3; i++, e = e->next)
		expect_str(e->name, names[i]);
	cr_assert_null(e, "export blocks join in source order");
	cr_assert_eq(n_rules(res->rules), 2);
	cr_assert_eq(res->rules->kind, KC_RULE_ALLOW);
	cr_assert_eq(res->rules->next->kind, KC_RULE_DENY);

	const kc_ast_route *rt = route_at(res, 0);
	cr_assert_eq(rt->methods, (unsigned)KC_M_ANY);
	expect_strs(rt->hint_scopes, "s1", "s2", "s3", NULL);
	expect_str(rt->exports->name, "C");
	expect_str(rt->exports->next->name, "D");
	cr_assert_null(rt->exports->next->next);
	expect_str(rt->lets->name, "b");
	expect_str(rt->lets->next->name, "c");
	cr_assert_eq(rt->rules->kind, KC_RULE_DENY);
	cr_assert_null(rt->rules->cond);
	cr_assert_eq(rt->rules->next->kind, KC_RULE_REQUIRE);
	cr_assert_eq(rt->auth, KC_AUTH_OPTIONAL);
	rt = route_at(res, 1);
	cr_assert_eq(rt->methods, (unsigned)(KC_M_GET | KC_M_POST | KC_M_DELETE | KC_M_OPTIONS));
	cr_assert_null(rt->rules);
	cr_assert_null(rt->next);

	res = item(f, 1, KC_I_RESOURCE)->resource;
	cr_assert_null(res->routes);
	cr_assert_null(res->rules);
}

Test(parser, responses)
{
	kc_ast_file *f = parse_ok(
	    "gate {\n"
	    "  deny as \"x\" if a description \"d\" scope \"s:1\" error invalid_token status 401;\n"
	    "  deny;\n"
	    "  deny error insufficient_scope;\n"
	    "  require b;\n"
	    "}\n"
	    "default status 403 description \"nope\";\n");
	const kc_ast_rule *r = item(f, 0, KC_I_GATE)->rules;
	cr_assert(r->resp.present);
	cr_assert_eq(r->resp.status, 401);
	expect_str(r->resp.error, "invalid_token");
	expect_str(r->resp.scope, "s:1");
	expect_str(r->resp.description, "d");
	r = r->next;
	cr_assert_not(r->resp.present);
	cr_assert_eq(r->resp.status, 0);
	cr_assert_null(r->label.s);
	r = r->next;
	cr_assert(r->resp.present);
	cr_assert_eq(r->resp.status, 0, "no status: the error sets it later");
	expect_str(r->resp.error, "insufficient_scope");
	r = r->next;
	cr_assert_eq(r->kind, KC_RULE_REQUIRE);
	cr_assert_not(r->resp.present);
	const kc_ast_item *it = item(f, 1, KC_I_DEFAULT);
	cr_assert_eq(it->resp.status, 403);
	expect_str(it->resp.description, "nope");
}

Test(parser, precedence)
{
	/* not > and > or; parentheses regroup. */
	const kc_ast_expr *e = cond_of("a or b and not c");
	cr_assert_eq(e->kind, KC_E_OR);
	cr_assert_str_eq(span_text(e->op_span), "or");
	cr_assert_eq(e->a->kind, KC_E_VALUE);
	cr_assert_eq(e->b->kind, KC_E_AND);
	cr_assert_eq(e->b->b->kind, KC_E_NOT);
	cr_assert_str_eq(span_text(e->b->b->span), "not c");

	e = cond_of("(a or b) and c");
	cr_assert_eq(e->kind, KC_E_AND);
	cr_assert_eq(e->a->kind, KC_E_OR);

	e = cond_of("a or b or c");
	cr_assert_eq(e->kind, KC_E_OR);
	cr_assert_eq(e->a->kind, KC_E_OR, "left-associative");

	e = cond_of("not not a");
	cr_assert_eq(e->kind, KC_E_NOT);
	cr_assert_eq(e->a->kind, KC_E_NOT);
	cr_assert_eq(e->a->a->kind, KC_E_VALUE);

	e = cond_of("not a == b");
	cr_assert_eq(e->kind, KC_E_NOT, "not applies to the whole test");
	cr_assert_eq(e->a->kind, KC_E_CMP);

	e = cond_of("x and ((a))");
	cr_assert_eq(e->b->kind, KC_E_VALUE);
	cr_assert_str_eq(span_text(e->b->span), "a", "the inner test, without parentheses");
}

Test(parser, comparisons)
{
	static const struct { const char *op; kc_ast_cmp cmp; } ops[] = {
		{ "==", KC_CMP_EQ }, { "!=", KC_CMP_NE }, { "<", KC_CMP_LT },
		{ "<=", KC_CMP_LE }, { ">", KC_CMP_GT }, { ">=", KC_CMP_GE },
	};
	for (size_t i = 0; i < 6; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "count(claims.groups) %s 3", ops[i].op);
		const kc_ast_expr *e = cond_of(buf);
		cr_assert_eq(e->kind, KC_E_CMP);
		cr_assert_eq(e->op, ops[i].cmp, "%s", ops[i].op);
		cr_assert_str_eq(span_text(e->op_span), ops[i].op);
		cr_assert_eq(e->rhs->kind, KC_V_INT);
		cr_assert_eq(e->rhs->num, 3);
	}
	const kc_ast_expr *e = cond_of("claims.sub like \"svc-*\"");
	cr_assert_eq(e->kind, KC_E_LIKE);
	cr_assert_eq(e->rhs->kind, KC_V_STRING);
	expect_str(e->rhs->str, "svc-*");
	e = cond_of("claims.x in @list");
	cr_assert_eq(e->kind, KC_E_IN);
	cr_assert_not(e->negated);
	cr_assert_eq(e->rhs->kind, KC_V_ALIAS);
}

Test(parser, values)
{
	const kc_ast_expr *e = cond_of("f() == [\"a\", 7, 5m, true, false, @l, claims.c, x]");
	cr_assert_eq(e->lhs->kind, KC_V_CALL);
	expect_str(e->lhs->str, "f");
	cr_assert_null(e->lhs->items);
	const kc_ast_value *v = e->rhs->items;
	static const kc_ast_value_kind kinds[] = { KC_V_STRING, KC_V_INT, KC_V_DURATION, KC_V_TRUE,
		KC_V_FALSE, KC_V_ALIAS, KC_V_REF, KC_V_REF };
	for (size_t i = 0; i < 8; i++, v = v->next) {
		cr_assert_not_null(v);
		cr_assert_eq(v->kind, kinds[i], "item %zu", i);
	}
	cr_assert_null(v);
	cr_assert_eq(e->rhs->items->next->next->num, 300000);

	e = cond_of("[] == g(claims.a ?? \"x\", h(1))");
	cr_assert_eq(e->lhs->kind, KC_V_LIST);
	cr_assert_null(e->lhs->items);
	v = e->rhs->items;
	cr_assert_eq(v->kind, KC_V_COALESCE);
	cr_assert_eq(v->next->kind, KC_V_CALL);
	cr_assert_null(v->next->next);

	e = cond_of("a ?? b ?? c");
	cr_assert_eq(e->kind, KC_E_VALUE);
	cr_assert_eq(e->lhs->kind, KC_V_COALESCE);
	cr_assert_eq(e->lhs->lhs->kind, KC_V_COALESCE, "left-associative");
	expect_ref(e->lhs->rhs, KC_ROOT_LET, "c");
}

Test(parser, references)
{
	const kc_ast_expr *e = cond_of("request.header[\"X-Tenant\"] == path.id");
	const kc_ast_value *v = e->lhs;
	expect_ref(v, KC_ROOT_REQUEST, "request.header[\"X-Tenant\"]");
	expect_str(v->str, "request");
	const kc_ast_field *fl = v->fields;
	expect_str(fl->name, "header");
	cr_assert_not(fl->bracket);
	expect_str(fl->next->name, "X-Tenant");
	cr_assert(fl->next->bracket);
	cr_assert_null(fl->next->next);
	expect_ref(e->rhs, KC_ROOT_PATH, "path.id");

	e = cond_of("claims.realm_access.roles");
	expect_ref(e->lhs, KC_ROOT_CLAIMS, "claims.realm_access.roles");
	expect_str(e->lhs->fields->name, "realm_access");
	expect_str(e->lhs->fields->next->name, "roles");

	e = cond_of("is_admin");
	cr_assert_eq(e->kind, KC_E_VALUE);
	expect_ref(e->lhs, KC_ROOT_LET, "is_admin");
	cr_assert_null(e->lhs->fields);

	e = cond_of("has(token.jti)");
	cr_assert_eq(e->kind, KC_E_HAS);
	expect_ref(e->lhs, KC_ROOT_TOKEN, "token.jti");
}

Test(parser, scope_tests)
{
	const kc_ast_expr *e = cond_of("scope any(\"a\", @b, \"c\")");
	cr_assert_eq(e->kind, KC_E_SCOPE);
	cr_assert_eq(e->scope_mode, KC_SCOPE_ANY);
	cr_assert_str_eq(span_text(e->op_span), "scope any");
	const kc_ast_value *v = e->scopes;
	cr_assert_eq(v->kind, KC_V_STRING);
	cr_assert_eq(v->next->kind, KC_V_ALIAS);
	expect_str(v->next->str, "b");
	expect_str(v->next->next->str, "c");
	cr_assert_null(v->next->next->next);

	/* A bare alias parses; check.c asks "any or all?" (design §2.5). */
	e = cond_of("scope @readers");
	cr_assert_eq(e->scope_mode, KC_SCOPE_ONE);
	cr_assert_eq(e->scopes->kind, KC_V_ALIAS);

	/* `scope` after a complete condition begins a response. */
	kc_ast_file *f = parse_ok("gate { deny if scope \"a\" scope \"b\"; require scope \"c\" scope \"d\"; }");
	const kc_ast_rule *r = item(f, 0, KC_I_GATE)->rules;
	expect_str(r->cond->scopes->str, "a");
	expect_str(r->resp.scope, "b");
	expect_str(r->next->cond->scopes->str, "c");
	expect_str(r->next->resp.scope, "d");
}

Test(parser, meaning_is_not_checked_here)
{
	/* Unknown names, bad codes and statuses, odd paths, typing errors,
	 * algorithm confusion: all for check.c, not syntax errors. */
	parse_ok("keycard 99;\n"
	    "issuer x \"not a url\" { algorithms none, HS256, RS256; leeway 99d; }\n"
	    "claims { x bool; x int; }\n"
	    "resource r {\n"
	    "  mount /a//b/../c;\n"
	    "  route GET /a/{1x:bogus}/{id} {\n"
	    "    allow if claims.nope == \"x\" and nosuch(1, 2, 3) and \"s\" < 3;\n"
	    "    deny if claims.x status 999 error no_such_error;\n"
	    "    export { lower_case = token.raw; PATH = \"\"; }\n"
	    "  }\n"
	    "}\n");
}

/* ---- not in v1 ---------------------------------------------------------------------------- */

Test(parser, later_constructs_are_refused)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "issuer a \"u\" { jwks url \"https://a/jwks\"; }", "expected 'file' before 'url'" },
		{ "issuer a \"u\" { jwks file \"f\" refresh 10m; }", "expected ';' before 'refresh'" },
		{ "issuer a \"u\" { max_age 5m; }", "before 'max_age'" },
		{ "introspection sso \"u\" { timeout 400ms; }",
		    "error: expected a statement before 'introspection'" },
		{ "tokens { jwt -> issuer corp; }", "error: expected a statement before 'tokens'" },
		{ "list @r string file \"f\" bloom 0.001;", "error: expected ';' before 'bloom'" },
		{ "gate early { deny; }", "error: expected '{' before 'early'" },
		{ "resource r { mode shadow; }", "before 'mode'" },
		{ "gate { deny status 401 acr_values \"x\"; }", "before 'acr_values'" },
		{ "gate { deny status 401 max_age 1h; }", "before 'max_age'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kc_diag_free(diag);
		diag = kc_diag_new();
		parse(cases[i].text);
		cr_assert_geq(kc_diag_errors(diag), 1, "%s is refused", cases[i].text);
		expect_diag(cases[i].msg);
		expect_diag("not part of policy language v1");
	}
}

/* ---- syntax errors and recovery ----------------------------------------------------------- */

Test(parser, missing_semicolon_points_after_the_rule)
{
	parse("resource health {\n"
	    "    route GET /healthz {\n"
	    "        allow\n"
	    "    }\n"
	    "}\n");
	cr_assert_eq(kc_diag_errors(diag), 1);
	char *t = diag_text();
	cr_assert_str_eq(t,
	    "t.kc:3:14: error: expected ';' to end the rule\n"
	    "    3 |         allow\n"
	    "      |              ^\n"
	    "      |              ;\n"
	    "   note: found '}' on line 4, which cannot continue a rule\n"
	    "   hint: every rule ends with ';' (insert it where shown)\n");
	free(t);
}

Test(parser, missing_semicolon_in_other_statements)
{
	parse("realm \"x\"\ninclude \"y\";\nissuer a \"u\" {\n  require exp\n}\n");
	cr_assert_eq(kc_diag_errors(diag), 2);
	expect_diag("t.kc:1:10: error: expected ';' to end the statement\n");
	expect_diag("note: found 'include' on line 2, which cannot continue a statement\n");
	/* `require` in an issuer lists claims: it is no rule. */
	expect_diag("t.kc:4:14: error: expected ';' to end the statement\n");
}

Test(parser, a_semicolon_on_the_same_line_is_not_assumed)
{
	/* `allow if a b;`: something is missing between a and b, maybe an
	 * operator: list what could come. */
	parse("gate { deny if a b; }");
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("t.kc:1:18: error: expected an operator, 'and', 'or', 'status', "
	    "'error', 'scope', 'description', '(' or ';' before 'b'\n");
}

Test(parser, expected_and_found_are_named)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "realm 5;", "t.kc:1:7: error: expected a string before '5'" },
		{ "keycard \"1\";", "error: expected an integer before '\"1\"'" },
		{ "resource r { alow; }", "   hint: did you mean 'allow'?\n" },
		{ "resource r { route GET x { } }", "error: expected a path or '|' before 'x'" },
		{ "resource r { route /x { } }", "error: expected a method before '/x'" },
		{ "claims { a strin; }", "error: expected 'string', 'int', 'bool', 'time' or 'list' "
		    "before 'strin'\n" },
		{ "claims { a strin; }", "   hint: did you mean 'string'?\n" },
		{ "claims { a list<bool>; }", "error: expected 'string' or 'int' before 'bool'" },
		{ "claims { 5 string; }", "error: expected a name or '}' before '5'" },
		{ "gate { allow if; }", "error: expected a condition before ';'" },
		{ "gate { allow if a ==; }", "error: expected a value before ';'" },
		{ "gate { allow if scope; }", "error: expected a string, an '@name', 'any' or 'all' before ';'" },
		{ "gate { allow if has(5); }", "error: expected a name, 'client', 'claims', 'token', "
		    "'request' or 'path' before '5'" },
		{ "resource r { auth maybe; }", "error: expected 'required', 'optional' or 'none' "
		    "before 'maybe'" },
		{ "scopes { implies \"a\" \"b\"; }", "error: expected '->' before '\"b\"'" },
		{ "resource r {", "t.kc:1:13: error: expected 'mount', 'auth', 'accept', 'let', 'allow', "
		    "'deny', 'require', 'export', 'route' or '}' before end of file\n" },
		{ "}", "error: expected a statement before '}'" },
		{ "realm \"a very long string that goes on and on\" x;",
		    "error: expected ';' before 'x'" },
		{ "let x = \"a very long string that goes on and on\" \"y\";",
		    "before '\"y\"'" },
		{ "let x = a == \"a very long string that goes on and on\" \"y\";", "'?" "?'" },
		{ "let x = a b \"a very long string that goes on and on\";",
		    "error: expected an operator, 'and', 'or', '(' or ';' before 'b'" },
		{ "let x = a; let y = \"0123456789012345678901234567890123456789\" ==;",
		    "error: expected a value before ';'" },
		{ "let x = a; z \"0123456789012345678901234567890123456789\";",
		    "error: expected a statement before 'z'" },
		{ "let x = y(\"0123456789012345678901234567890123456789\" \"ab\");",
		    "error: expected '?" "?', ',' or ')' before '\"ab\"'" },
		{ "let x = y ? z;", "error: unexpected character '?'" },
		{ "default status;", "error: expected an integer before ';'" },
		{ "realm \"0123456789012345678901234567890123456789\" \"0123456789012345678901234567890123456789\";",
		    "before '\"01234567890123456789012345...'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kc_diag_free(diag);
		diag = kc_diag_new();
		parse(cases[i].text);
		cr_assert_geq(kc_diag_errors(diag), 1, "%s is refused", cases[i].text);
		expect_diag(cases[i].msg);
	}
}

Test(parser, recovery_reports_every_error)
{
	/* Five independent errors, in several kinds of block: each is
	 * reported once, and what lies between them is still parsed. */
	kc_ast_file *f = parse(
	    "realm 1;\n"                                        /* 1 */
	    "issuer a \"u\" { leeway 5; typ \"at+jwt\"; }\n"    /* 2 */
	    "claims { x string; y strng; z int; }\n"            /* 3 */
	    "resource r {\n"
	    "  route GET /a { allow if ; deny; }\n"             /* 5 */
	    "  route GET /b { allow }\n"                        /* 6 */
	    "  route GET /c { allow; }\n"
	    "}\n"
	    "include 5;\n");                                    /* 9 */
	cr_assert_eq(kc_diag_errors(diag), 6, "errors: %u", kc_diag_errors(diag));
	expect_diag("t.kc:1:7: error: expected a string before '1'");
	expect_diag("t.kc:2:23: error: expected a duration before '5'");
	expect_diag("t.kc:3:22: error: expected 'string', 'int', 'bool', 'time' or 'list' before 'strng'");
	expect_diag("t.kc:5:27: error: expected a condition before ';'");
	expect_diag("t.kc:6:23: error: expected ';' to end the rule");
	expect_diag("t.kc:9:9: error: expected a string before '5'");

	cr_assert_eq(n_items(f), 3, "realm and include are lost, the blocks kept");
	expect_str(item(f, 0, KC_I_ISSUER)->issuer->typ, "at+jwt");
	const kc_ast_claim *c = item(f, 1, KC_I_CLAIMS)->claims;
	expect_str(c->name, "x");
	expect_str(c->next->name, "z");
	cr_assert_null(c->next->next);
	const kc_ast_resource *res = item(f, 2, KC_I_RESOURCE)->resource;
	cr_assert_eq(route_at(res, 0)->rules->kind, KC_RULE_DENY, "the rule after the error");
	cr_assert_null(route_at(res, 1)->rules);
	expect_str(route_at(res, 2)->path, "/c");
	cr_assert_null(route_at(res, 2)->next);
}

Test(parser, recovery_skips_a_broken_block_whole)
{
	/* An unknown statement with a block: the block goes with it, so
	 * its inner ';' and '}' do not end the recovery early. */
	kc_ast_file *f = parse(
	    "resorce r { route GET /x { allow; } deny; }\n"
	    "realm \"ok\";\n"
	    "resource s {\n"
	    "  rout GET /y { allow; deny; }\n"
	    "  route GET /z { allow; }\n"
	    "}\n"
	    "list @l string { \"a\" \"b\" };\n"
	    "include \"i\";\n");
	cr_assert_eq(kc_diag_errors(diag), 3, "errors: %u", kc_diag_errors(diag));
	expect_diag("t.kc:1:1: error: expected a statement before 'resorce'");
	expect_diag("t.kc:4:3: error: expected 'mount', 'auth', 'accept', 'let', 'allow', 'deny', "
	    "'require', 'export', 'route' or '}' before 'rout'");
	expect_diag("t.kc:7:22: error: expected ',' or '}' before '\"b\"'");
	cr_assert_eq(n_items(f), 3);
	expect_str(item(f, 0, KC_I_REALM)->str, "ok");
	const kc_ast_resource *res = item(f, 1, KC_I_RESOURCE)->resource;
	expect_str(route_at(res, 0)->path, "/z");
	cr_assert_null(route_at(res, 0)->next);
	expect_str(item(f, 2, KC_I_INCLUDE)->str, "i");
}

Test(parser, recovery_after_lexical_errors)
{
	kc_ast_file *f = parse("realm \"a\\qb\";\nrealm $;\nrealm \"ok\";\n");
	cr_assert_eq(kc_diag_errors(diag), 2);
	expect_diag("t.kc:1:9: error: unknown escape sequence '\\q'");
	expect_diag("t.kc:2:7: error: unexpected character '$'");
	cr_assert_eq(n_items(f), 2, "a bad escape keeps the string, a stray character drops the statement");
}

Test(parser, unclosed_block_points_at_its_brace)
{
	parse("resource r {\n  route GET /x {\n    allow;\n");
	cr_assert_eq(kc_diag_errors(diag), 1);
	char *t = diag_text();
	cr_assert_str_eq(t,
	    "t.kc:3:11: error: expected 'auth', 'accept', 'let', 'allow', 'deny', 'require', 'export', "
	    "'hint' or '}' before end of file\n"
	    "    3 |     allow;\n"
	    "      |           ^\n"
	    "t.kc:2:16: note: to match this '{'\n"
	    "    2 |   route GET /x {\n"
	    "      |                ^\n");
	free(t);
}

Test(parser, errors_are_capped)
{
	char text[2048] = "";
	for (int i = 0; i < 30; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "realm %d;\n", i);
	parse(text);
	cr_assert_eq(kc_diag_errors(diag), 30, "all are counted");
	char *t = diag_text();
	cr_assert_not_null(strstr(t, "t.kc:20:7: error:"));
	cr_assert_null(strstr(t, "t.kc:21:7: error:"), "only %d are kept", KC_DIAG_MAX_ERRORS);
	cr_assert_not_null(strstr(t, "keycard: 10 more errors not shown\n"));
	free(t);
}

Test(parser, nesting_is_bounded)
{
	/* Later passes recurse over conditions: the parser bounds their depth. */
	size_t n = 5000;
	char *text = malloc(16 + 2 * n + 8);
	cr_assert_not_null(text);
	strcpy(text, "let a = ");
	size_t o = strlen(text);
	for (size_t i = 0; i < n; i++)
		text[o++] = '(';
	text[o++] = 'x';
	for (size_t i = 0; i < n; i++)
		text[o++] = ')';
	strcpy(text + o, ";");
	parse(text);
	free(text);
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("error: condition nested too deeply");

	kc_diag_free(diag);
	diag = kc_diag_new();
	char buf[4096] = "let a = ";
	for (int i = 0; i < 100; i++)
		strcat(buf, "not (");
	strcat(buf, "x");
	for (int i = 0; i < 100; i++)
		strcat(buf, ")");
	strcat(buf, ";");
	const kc_ast_expr *e = item(parse_ok(buf), 0, KC_I_LET)->let->expr;
	for (int i = 0; i < 100; i++, e = e->a)
		cr_assert_eq(e->kind, KC_E_NOT);
	cr_assert_eq(e->kind, KC_E_VALUE);
}

Test(parser, long_lists_do_not_deepen_the_stack)
{
	/* Lists are left-recursive: thousands of items are fine. */
	size_t n = 20000;
	char *text = malloc(32 + n * 8);
	cr_assert_not_null(text);
	strcpy(text, "list @l string { ");
	size_t o = strlen(text);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "%s\"%zu\"", i ? "," : "", i % 1000);
	strcpy(text + o, " };");
	kc_ast_file *f = parse_ok(text);
	free(text);
	size_t k = 0;
	for (const kc_ast_strlist *l = item(f, 0, KC_I_LIST)->list->items; l != NULL; l = l->next)
		k++;
	cr_assert_eq(k, n);
}

Test(parser, oversized_source_is_refused)
{
	size_t n = (size_t)16 * 1024 * 1024 + 1;
	char *text = malloc(n);
	cr_assert_not_null(text);
	memset(text, ' ', n);
	kc_ast_file *f = parse_as("big.kc", text, n);
	free(text);
	cr_assert_null(f->items);
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("error: file too large (16777217 bytes, at most 16777216)");
}

/* ---- golden diagnostics: tests/policy/syntax/NAME.kc and NAME.err ------------------------------ */

static const char *const golden[] = {
	"bad_escape", "bad_number", "duplicate_setting", "invalid_utf8", "missing_semicolon",
	"not_in_v1", "several_errors", "stray_character", "too_many_errors", "top_level",
	"unclosed_block", "unknown_keyword", "unterminated_string",
};

static char *
read_srcdir(const char *rel, size_t *len)
{
	const char *dir = getenv("KC_SRCDIR");
	if (dir == NULL || *dir == '\0')
		dir = "../";
	char path[4096];
	size_t dl = strlen(dir);
	snprintf(path, sizeof(path), "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", rel);
	char *text = kc_file_read(path, 1024 * 1024, len);
	cr_assert_not_null(text, "cannot read %s (set KC_SRCDIR to the source tree)", path);
	return text;
}

Test(parser, golden_diagnostics)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		kc_diag_free(diag);
		diag = kc_diag_new();
		char rel[256];
		size_t kc_len, err_len;
		snprintf(rel, sizeof(rel), "tests/policy/syntax/%s.kc", golden[i]);
		char *kc = read_srcdir(rel, &kc_len);
		parse_as(rel, kc, kc_len);
		free(kc);
		cr_expect_gt(kc_diag_errors(diag), 0, "%s has errors", golden[i]);
		snprintf(rel, sizeof(rel), "tests/policy/syntax/%s.err", golden[i]);
		char *want = read_srcdir(rel, &err_len);
		char *got = diag_text();
		cr_expect_str_eq(got, want, "%s: output differs\n--- got:\n%s--- want:\n%s",
		    golden[i], got, want);
		free(got);
		free(want);
	}
}
