/* test_fcgi.c: keycard-fcgi's request path without a web server
 * (gateway/fcgi.c and the token-cache hook in decide.c). What it guards:
 * the environment a gateway script receives must carry keycard's identity
 * and nothing a client or a careless server config forged (X-Keycard-*,
 * headers named like an export, REMOTE_USER from nginx's stock params,
 * Proxy, the bearer token unless configured); the cache must answer exactly
 * as a fresh verification would (same decision, rules still evaluated on
 * every request, never past exp, invalid tokens too); each mode must write
 * what its server reads; a script outside the CGI roots must not run and a
 * failing or slow one must give 502/504; a reload must switch policy, keep
 * the old one on a broken file, and let a request in flight finish on the
 * program it started with. Tokens are signed at test time with an ES256
 * key made for the run; the policy is tests/data/fcgi/main.kc. */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "../../common/testutil.h"
#include "decide.h"
#include "gateway/fcgi.h"
#include "policy/policy.h"
#include "token/sign.h"

#define ISS "https://issuer.test/"

static char dir[64];
static kc_signer *signer;
static kc_arena *arena;

static const char *
in_dir(const char *rel)
{
	static char path[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, rel);
	return path[k];
}

static void
write_file(const char *rel, const char *text, mode_t mode)
{
	const char *path = in_dir(rel);
	kct_write_file(dir, rel, text);
	cr_assert_eq(chmod(path, mode), 0);
}

static void
setup(void)
{
	char err[256];
	snprintf(dir, sizeof(dir), "/tmp/kc-fcgi-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	signer = kc_signer_generate(KC_ALG_ES256, "t1", err, sizeof(err));
	cr_assert_not_null(signer, "%s", err);
	json_t *set = json_pack("{s:[o]}", "keys", kc_signer_public_jwk(signer));
	char *jwks = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	write_file("keys.jwks", jwks, 0600);
	free(jwks);
	size_t n;
	char *policy = kct_data_read("fcgi/main.kc", &n);
	write_file("main.kc", policy, 0600);
	free(policy);
	cr_assert_eq(mkdir(in_dir("cgi"), 0700), 0);
	write_file("cgi/env.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
	    "env | LC_ALL=C sort\n", 0700);
	write_file("cgi/fail.sh", "#!/bin/sh\necho oops >&2\nexit 3\n", 0700);
	write_file("cgi/slow.sh", "#!/bin/sh\nexec sleep 5\n", 0700);
	write_file("cgi/late.sh", "#!/bin/sh\n: > \"${SCRIPT_FILENAME%/*}/started\"\nsleep 0.3\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
	    "echo \"rule=$KEYCARD_RULE\"\n", 0700);
	write_file("outside.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nran\\n'\n", 0700);
	arena = kc_arena_new(64 * 1024);
	cr_assert_not_null(arena);
}

static void
teardown(void)
{
	kc_arena_free(arena);
	kc_signer_free(signer);
	kct_rmtree(dir);
}

TestSuite(env, .init = setup, .fini = teardown);
TestSuite(cache, .init = setup, .fini = teardown);
TestSuite(handle, .init = setup, .fini = teardown);

/* A token for alice with scope, valid until exp. */
static char *
mint_claims(json_t *c)
{
	char *payload = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	char *tok = kc_signer_sign(signer, NULL, NULL, (const unsigned char *)payload,
	    strlen(payload));
	free(payload);
	cr_assert_not_null(tok);
	return tok;
}

static char *
mint(const char *scope, int64_t iat, int64_t exp)
{
	return mint_claims(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "iss", ISS,
	    "aud", "api", "sub", "alice", "client_id", "c1", "scope", scope,
	    "iat", (json_int_t)iat, "exp", (json_int_t)exp));
}

/* ---- the gateway environment ------------------------------------------------------ */

static const char *
env_get(char **env, const char *name)
{
	size_t n = strlen(name);
	const char *found = NULL;
	for (char **e = env; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
			cr_assert_null(found, "%s is set twice", name);
			found = *e + n + 1;
		}
	return found;
}

Test(env, forged_identity_is_stripped_and_exports_added)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/devices/7", "QUERY_STRING=",
		"HTTP_AUTHORIZATION=Bearer secret", "HTTP_X_KEYCARD_SUBJECT=mallory",
		"HTTP_X_KEYCARD=1", "HTTP_X_KEYCARDS=kept", "HTTP_X_AUDIT=forged",
		"HTTP_PROXY=http://evil.test/", "REMOTE_USER=basic-user", "AUTH_TYPE=Basic",
		"KEYCARD_SUBJECT=server-set", "KEYCARD_MODE=authorize", "SCRIPT_FILENAME=/elsewhere",
		"HTTP_ACCEPT=text/plain", "SERVER_NAME=localhost", "bogus", NULL };
	kc_decision d;
	memset(&d, 0, sizeof(d));
	d.status = 200;
	d.exports[0] = (kc_export_value){ "REMOTE_USER", "alice" };
	d.exports[1] = (kc_export_value){ "KEYCARD_SUBJECT", "alice" };
	d.exports[2] = (kc_export_value){ "HTTP_X_AUDIT", "alice" };
	d.exports[3] = (kc_export_value){ "KEYCARD_EMAIL", "a@x\nEVIL=1" };
	d.n_exports = 4;
	char **env = kc_gw_env_build(params, &d, false, "/srv/cgi/app", arena);
	cr_assert_not_null(env);
	cr_assert_str_eq(env_get(env, "REMOTE_USER"), "alice");
	cr_assert_str_eq(env_get(env, "KEYCARD_SUBJECT"), "alice");
	cr_assert_str_eq(env_get(env, "HTTP_X_AUDIT"), "alice");
	cr_assert_null(env_get(env, "KEYCARD_EMAIL"), "a value with a newline is left out");
	cr_assert_null(env_get(env, "EVIL"));
	cr_assert_null(env_get(env, "HTTP_AUTHORIZATION"));
	cr_assert_null(env_get(env, "HTTP_X_KEYCARD_SUBJECT"));
	cr_assert_null(env_get(env, "HTTP_X_KEYCARD"));
	cr_assert_str_eq(env_get(env, "HTTP_X_KEYCARDS"), "kept");
	cr_assert_null(env_get(env, "HTTP_PROXY"));
	cr_assert_null(env_get(env, "AUTH_TYPE"));
	cr_assert_null(env_get(env, "KEYCARD_MODE"));
	cr_assert_null(env_get(env, "bogus"));
	cr_assert_str_eq(env_get(env, "SCRIPT_FILENAME"), "/srv/cgi/app");
	cr_assert_str_eq(env_get(env, "HTTP_ACCEPT"), "text/plain");
	cr_assert_str_eq(env_get(env, "SERVER_NAME"), "localhost");
	cr_assert_str_eq(env_get(env, "GATEWAY_INTERFACE"), "CGI/1.1");
	cr_assert_str_eq(env_get(env, "QUERY_STRING"), "");

	env = kc_gw_env_build(params, &d, true, NULL, arena);
	cr_assert_str_eq(env_get(env, "HTTP_AUTHORIZATION"), "Bearer secret");
	cr_assert_null(env_get(env, "SCRIPT_FILENAME"));
}

Test(env, the_number_of_params_is_bounded)
{
	static char bufs[KC_GW_MAX_ENV + 50][24];
	static char *params[KC_GW_MAX_ENV + 51];
	for (size_t i = 0; i < KC_GW_MAX_ENV + 50; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "P%zu=v", i);
		params[i] = bufs[i];
	}
	params[KC_GW_MAX_ENV + 50] = NULL;
	char **env = kc_gw_env_build(params, NULL, false, NULL, arena);
	size_t n = 0;
	while (env[n] != NULL)
		n++;
	cr_assert_eq(n, KC_GW_MAX_ENV + 1);   /* + GATEWAY_INTERFACE */
}

/* ---- the validated-token cache in kc_decide ------------------------------------------ */

typedef struct loaded {
	kc_diag *diag;
	kc_policy *policy;
} loaded;

static loaded
load_policy(void)
{
	loaded l = { kc_diag_new(), NULL };
	l.policy = kc_policy_load(in_dir("main.kc"), NULL, l.diag);
	if (l.policy == NULL)
		kc_diag_print(l.diag, stderr, false);
	cr_assert_not_null(l.policy);
	return l;
}

static kc_decision
decide(const loaded *l, kc_token_cache *c, const char *path, const char *tok, int64_t now)
{
	char auth[4096];
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	kc_header h = { "Authorization", 13, auth, strlen(auth) };
	kc_request req = { .method = "GET", .path = path, .path_len = strlen(path),
		.headers = &h, .n_headers = 1, .now = now, .cache = c };
	kc_decision d;
	kc_decide(l->policy, &req, arena, &d, NULL);
	return d;
}

Test(cache, a_hit_decides_exactly_as_a_fresh_verification)
{
	loaded l = load_policy();
	kc_token_cache *c = kc_token_cache_new(NULL);
	int64_t now = 1700000000;
	char *tok = mint("r:devices:7", now - 10, now + 600);

	kc_decision fresh = decide(&l, NULL, "/devices/7", tok, now);
	kc_decision miss = decide(&l, c, "/devices/7", tok, now);
	kc_decision hit = decide(&l, c, "/devices/7", tok, now + 1);
	cr_assert_eq(fresh.status, 200);
	cr_assert_not(fresh.cache_hit);
	cr_assert_not(miss.cache_hit);
	cr_assert(hit.cache_hit);
	cr_assert_eq(hit.status, 200);
	cr_assert_str_eq(hit.rule_label, "read");
	cr_assert_str_eq(hit.subject, "alice");
	cr_assert_str_eq(hit.token_hash, fresh.token_hash);
	cr_assert_eq(hit.n_exports, fresh.n_exports);
	for (size_t i = 0; i < hit.n_exports; i++) {
		cr_assert_str_eq(hit.exports[i].name, fresh.exports[i].name);
		cr_assert_str_eq(hit.exports[i].value, fresh.exports[i].value);
	}
	/* The rules still run on a hit: another device is refused. */
	kc_decision other = decide(&l, c, "/devices/8", tok, now + 2);
	cr_assert(other.cache_hit);
	cr_assert_eq(other.status, 403);
	cr_assert_str_eq(other.error, "insufficient_scope");

	kc_cache_stats st;
	kc_token_cache_stats(c, &st);
	cr_assert_eq(st.hits, 2);
	cr_assert_eq(st.misses, 1);
	free(tok);
	kc_token_cache_free(c);
	kc_policy_free(l.policy);
	kc_diag_free(l.diag);
}

Test(cache, never_past_exp_and_invalid_tokens_are_refused_from_the_cache_too)
{
	loaded l = load_policy();
	kc_token_cache *c = kc_token_cache_new(NULL);
	int64_t now = 1700000000;
	char *tok = mint("r:devices:7", now - 10, now + 30);
	cr_assert_eq(decide(&l, c, "/devices/7", tok, now).status, 200);
	kc_decision late = decide(&l, c, "/devices/7", tok, now + 31);
	cr_assert_not(late.cache_hit, "an entry is never used past exp");
	cr_assert_eq(late.status, 401);
	cr_assert_str_eq(late.error, "invalid_token");

	/* exp as a fraction (a NumericDate may be one): still bounded by it. */
	char *frac = mint_claims(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:f}", "iss", ISS,
	    "aud", "api", "sub", "alice", "client_id", "c1", "scope", "r:devices:7",
	    "iat", (json_int_t)(now - 10), "exp", (double)(now + 30) + 0.5));
	cr_assert_eq(decide(&l, c, "/devices/7", frac, now).status, 200);
	cr_assert(decide(&l, c, "/devices/7", frac, now + 1).cache_hit);
	kc_decision frac_late = decide(&l, c, "/devices/7", frac, now + 120);
	cr_assert_not(frac_late.cache_hit, "a fractional exp bounds the entry too");
	cr_assert_eq(frac_late.status, 401);
	free(frac);

	/* A forged signature: refused, then refused again from the cache. */
	char *bad = strdup(tok);
	size_t n = strlen(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
	kc_decision b1 = decide(&l, c, "/devices/7", bad, now);
	kc_decision b2 = decide(&l, c, "/devices/7", bad, now + 1);
	cr_assert_eq(b1.status, 401);
	cr_assert_not(b1.cache_hit);
	cr_assert_eq(b2.status, 401);
	cr_assert(b2.cache_hit);
	cr_assert_str_eq(b2.error, "invalid_token");
	free(bad);
	free(tok);
	kc_token_cache_free(c);
	kc_policy_free(l.policy);
	kc_diag_free(l.diag);
}

/* ---- kc_gw_handle, the server's request path ------------------------------------------ */

typedef struct capture {
	char buf[65536];
	size_t n;
	char err[1024];
} capture;

static ssize_t
cap_read(void *ctx, char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

static ssize_t
cap_write(void *ctx, const char *b, size_t n)
{
	capture *c = ctx;
	if (n > sizeof(c->buf) - 1 - c->n)
		return -1;
	memcpy(c->buf + c->n, b, n);
	c->n += n;
	c->buf[c->n] = '\0';
	return (ssize_t)n;
}

static void
cap_err(void *ctx, const char *line, size_t n)
{
	capture *c = ctx;
	snprintf(c->err, sizeof(c->err), "%.*s", (int)n, line);
}

/* The server keeps the config's pointers: these outlive it. */
static char policy_path[512], cgi_root[512];

static kc_gw_server *
server_with(int timeout_ms)
{
	snprintf(policy_path, sizeof(policy_path), "%s", in_dir("main.kc"));
	snprintf(cgi_root, sizeof(cgi_root), "%s", in_dir("cgi"));
	kc_gw_config cfg = { .policy_path = policy_path, .threads = 1, .log_allow = true,
		.cgi_timeout_ms = timeout_ms };
	cfg.cgi_roots[0] = cgi_root;
	cfg.n_cgi_roots = 1;
	kc_gw_server *s = kc_gw_server_new(&cfg);
	cr_assert_not_null(s);
	return s;
}

static kc_gw_server *
server(void)
{
	return server_with(300);
}

/* Runs one request; params: "NAME=value"..., NULL. */
static int
handle(kc_gw_server *s, capture *c, int role, const char *path, const char *tok,
    const char *script, const char *extra)
{
	static char uri[512], auth[4096], sf[600];
	char *params[12];
	size_t n = 0;
	snprintf(uri, sizeof(uri), "REQUEST_URI=%s", path);
	params[n++] = "REQUEST_METHOD=GET";
	params[n++] = uri;
	params[n++] = "REMOTE_ADDR=127.0.0.1";
	if (tok != NULL) {
		snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", tok);
		params[n++] = auth;
	}
	if (script != NULL) {
		snprintf(sf, sizeof(sf), "SCRIPT_FILENAME=%s", script);
		params[n++] = sf;
	}
	if (extra != NULL)
		params[n++] = (char *)extra;
	params[n] = NULL;
	memset(c, 0, sizeof(*c));
	kc_cgi_io io = { cap_read, cap_write, cap_err, c };
	int st = kc_gw_handle(s, params, role, NULL, &io, arena);
	kc_arena_clear(arena);
	return st;
}

Test(handle, authorizer_role_answers_with_variables_or_a_challenge)
{
	kc_gw_server *s = server();
	capture c;
	char *tok = mint("r:devices:7", time(NULL) - 10, time(NULL) + 600);
	cr_assert_eq(handle(s, &c, 2, "/devices/7", tok, NULL, NULL), 200);
	cr_assert(strncmp(c.buf, "Status: 200 OK\r\n", 16) == 0, "%s", c.buf);
	cr_assert_not_null(strstr(c.buf, "\r\nVariable-REMOTE_USER: alice\r\n"));
	cr_assert_not_null(strstr(c.buf, "\r\nVariable-KEYCARD_RULE: read\r\n"));

	cr_assert_eq(handle(s, &c, 2, "/devices/7", NULL, NULL, NULL), 401);
	cr_assert(strncmp(c.buf, "Status: 401 Unauthorized\r\nWWW-Authenticate: Bearer "
	    "realm=\"fcgi-test\"\r\n", 68) == 0, "%s", c.buf);
	cr_assert_eq(handle(s, &c, 2, "/nowhere", NULL, NULL, NULL), 404);
	/* nginx: the same 404 becomes a 403 */
	cr_assert_eq(handle(s, &c, 1, "/nowhere", NULL, NULL, "KEYCARD_MODE=authorize"), 403);
	cr_assert_eq(handle(s, &c, 1, "/devices/7", tok, NULL, "KEYCARD_MODE=authorize"), 200);
	cr_assert_not_null(strstr(c.buf, "\r\nVariable-REMOTE_USER: alice\r\n"));
	free(tok);
	kc_gw_server_free(s);
}

Test(handle, gateway_runs_the_script_with_the_identity)
{
	kc_gw_server *s = server();
	capture c;
	char *tok = mint("r:devices:7", time(NULL) - 10, time(NULL) + 600);
	cr_assert_eq(handle(s, &c, 1, "/devices/7", tok, in_dir("cgi/env.sh"),
	    "HTTP_X_KEYCARD_SUBJECT=mallory"), 200);
	cr_assert(strncmp(c.buf, "Status: 200", 11) == 0 || strncmp(c.buf, "Content-Type", 12) == 0,
	    "%s", c.buf);
	cr_assert_not_null(strstr(c.buf, "\nREMOTE_USER=alice\n"), "%s", c.buf);
	cr_assert_not_null(strstr(c.buf, "\nHTTP_X_AUDIT=alice\n"), "%s", c.buf);
	cr_assert_null(strstr(c.buf, "mallory"));
	cr_assert_null(strstr(c.buf, "HTTP_AUTHORIZATION"));
	/* Apache mod_proxy_fcgi names the script "proxy:fcgi://host:port/path". */
	char proxied[600];
	snprintf(proxied, sizeof(proxied), "proxy:fcgi://127.0.0.1:9000%s", in_dir("cgi/env.sh"));
	cr_assert_eq(handle(s, &c, 1, "/devices/7", tok, proxied, NULL), 200);
	cr_assert_not_null(strstr(c.buf, "\nREMOTE_USER=alice\n"), "%s", c.buf);
	/* A refusal never runs the script. */
	cr_assert_eq(handle(s, &c, 1, "/devices/8", tok, in_dir("cgi/env.sh"), NULL), 403);
	cr_assert_null(strstr(c.buf, "REMOTE_USER"));
	free(tok);
	kc_gw_server_free(s);
}

Test(handle, gateway_failures_are_403_502_504)
{
	kc_gw_server *s = server();
	capture c;
	cr_assert_eq(handle(s, &c, 1, "/public/x", NULL, in_dir("outside.sh"), NULL), 403);
	cr_assert_null(strstr(c.buf, "ran"));
	cr_assert_eq(handle(s, &c, 1, "/public/x", NULL, in_dir("cgi/../outside.sh"), NULL), 403);
	cr_assert_eq(handle(s, &c, 1, "/public/x", NULL, NULL, NULL), 500);
	cr_assert_eq(handle(s, &c, 1, "/public/x", NULL, in_dir("cgi/fail.sh"), NULL), 502);
	cr_assert(strncmp(c.buf, "Status: 502 Bad Gateway\r\n", 25) == 0, "%s", c.buf);
	cr_assert_str_eq(c.err, "oops");
	cr_assert_eq(handle(s, &c, 1, "/public/x", NULL, in_dir("cgi/slow.sh"), NULL), 504);
	cr_assert(strncmp(c.buf, "Status: 504 Gateway Timeout\r\n", 29) == 0, "%s", c.buf);
	/* A request the params cannot describe. */
	memset(&c, 0, sizeof(c));
	char *bad[] = { "REQUEST_URI=/x", NULL };
	kc_cgi_io io = { cap_read, cap_write, cap_err, &c };
	cr_assert_eq(kc_gw_handle(s, bad, 2, NULL, &io, arena), 400);
	kc_gw_server_free(s);
}

Test(handle, reload_switches_policy_and_keeps_the_last_good_one)
{
	kc_gw_server *s = server();
	capture c;
	cr_assert_eq(handle(s, &c, 2, "/public/x", NULL, NULL, NULL), 200);
	/* A broken file: the old policy stays. */
	write_file("main.kc", "keycard 1;\nresource r { route GET /x { alow; } }\n", 0600);
	cr_assert_not(kc_gw_server_reload(s));
	cr_assert_eq(handle(s, &c, 2, "/public/x", NULL, NULL, NULL), 200);
	/* A good one without the public area: now 404. */
	size_t n;
	char *text = kct_data_read("fcgi/main.kc", &n);
	char *cut = strstr(text, "resource open");
	cr_assert_not_null(cut);
	strcpy(cut, "default status 404;\n");
	write_file("main.kc", text, 0600);
	free(text);
	cr_assert(kc_gw_server_reload(s));
	cr_assert_eq(handle(s, &c, 2, "/public/x", NULL, NULL, NULL), 404);
	kc_gw_server_free(s);
}

typedef struct inflight {
	kc_gw_server *s;
	const char *tok;
	const char *script;
	capture c;
	int status;
} inflight;

static void *
run_inflight(void *arg)
{
	inflight *f = arg;
	static char auth[4096], sf[600];
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", f->tok);
	snprintf(sf, sizeof(sf), "SCRIPT_FILENAME=%s", f->script);
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/devices/7", auth, sf, NULL };
	kc_arena *a = kc_arena_new(16 * 1024);
	kc_cgi_io io = { cap_read, cap_write, cap_err, &f->c };
	f->status = kc_gw_handle(f->s, params, 1, NULL, &io, a);
	kc_arena_free(a);
	return NULL;
}

Test(handle, a_request_in_flight_finishes_on_its_program)
{
	kc_gw_server *s = server_with(5000);
	char *tok = mint("r:devices:7", time(NULL) - 10, time(NULL) + 600);
	inflight f = { .s = s, .tok = tok, .script = in_dir("cgi/late.sh") };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, run_inflight, &f), 0);
	/* Wait until the script runs: the request has decided on the old program. */
	for (int i = 0; i < 1000 && access(in_dir("cgi/started"), F_OK) != 0; i++)
		usleep(10 * 1000);
	cr_assert_eq(access(in_dir("cgi/started"), F_OK), 0, "the script never started");
	size_t n;
	char *text = kct_data_read("fcgi/main.kc", &n);
	char *label = strstr(text, "allow as \"read\"");
	cr_assert_not_null(label);
	memcpy(label, "allow as \"READ\"", 15);
	write_file("main.kc", text, 0600);
	free(text);
	cr_assert(kc_gw_server_reload(s));
	pthread_join(t, NULL);
	cr_assert_eq(f.status, 200);
	cr_assert_not_null(strstr(f.c.buf, "rule=read\n"), "%s", f.c.buf);
	capture c;
	cr_assert_eq(handle(s, &c, 2, "/devices/7", tok, NULL, NULL), 200);
	cr_assert_not_null(strstr(c.buf, "Variable-KEYCARD_RULE: READ\r\n"), "%s", c.buf);
	free(tok);
	kc_gw_server_free(s);
}
