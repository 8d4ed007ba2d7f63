/* policyfix.c: the shared policy fixture (policyfix.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/testutil.h"
#include "policyfix.h"

/* ---- fixture ---------------------------------------------------------------------- */


char dir[64];
kc_signer *signer;       /* the issuer's key */
kc_signer *stranger;     /* a key nobody trusts */
kc_policy *policy;
kc_diag *diag;           /* the policy's sources live here: freed after it */
kc_arena *arena;

/* Writes a file of the test's directory. */

void
setup(void)
{
	char err[256];
	kct_tmpdir(dir, sizeof(dir), "policy");
	signer = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof(err));
	stranger = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof(err));
	cr_assert(signer != NULL && stranger != NULL, "%s", err);
	char *jwks = kct_jwks_of(signer);
	write_file("keys.jwks", jwks);
	free(jwks);
	arena = kc_arena_new(64 * 1024);
	cr_assert_not_null(arena);
}

void
teardown(void)
{
	kc_policy_free(policy);
	kc_diag_free(diag);
	kc_arena_free(arena);
	kc_signer_free(signer);
	kc_signer_free(stranger);
	kct_rmtree(dir);
}

/* Loads policy text (as dir/main.kc); the test fails on any error. */
void
load_opts(const char *text, const kc_policy_opts *opts)
{
	write_file("main.kc", text);
	char path[512];
	snprintf(path, sizeof(path), "%s/main.kc", dir);
	kc_policy_free(policy);
	kc_diag_free(diag);
	diag = kc_diag_new();
	cr_assert_not_null(diag);
	policy = kc_policy_load(path, opts, diag);
	if (policy == NULL) {
		char *msg = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&msg, &len);
		kc_diag_print(diag, f, false);
		fclose(f);
		cr_assert_fail("policy did not load:\n%s", msg);
	}
}

void
load(const char *text)
{
	load_opts(text, NULL);
}

/* The usual claims, with extra members merged in (null removes one). */
char *
claims_json(const char *extra)
{
	json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "iss", ISS, "aud", "api",
	    "exp", (json_int_t)NOW + 3600, "iat", (json_int_t)NOW - 60, "sub", "alice",
	    "client_id", "c1");
	if (extra != NULL) {
		json_error_t je;
		json_t *x = json_loads(extra, JSON_ALLOW_NUL, &je);
		cr_assert_not_null(x, "bad extra claims %s: %s", extra, je.text);
		const char *k;
		json_t *v;
		json_object_foreach(x, k, v) {
			if (json_is_null(v))
				json_object_del(c, k);
			else
				json_object_set(c, k, v);
		}
		json_decref(x);
	}
	char *text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return text;
}

/* A token signed by s with header typ (NULL: "JWT"), copied into the
 * arena so that it lives as long as the test's decisions. */
const char *
token_by(const kc_signer *s, const char *typ, const char *extra)
{
	char *payload = claims_json(extra);
	char *tok = kc_signer_sign(s, NULL, typ, (const unsigned char *)payload, strlen(payload));
	cr_assert_not_null(tok);
	free(payload);
	char *copy = kc_arena_strndup(arena, tok, strlen(tok));
	free(tok);
	return copy;
}

const char *
token(const char *extra)
{
	return token_by(signer, NULL, extra);
}

const char *
bearer(const char *tok)
{
	size_t n = strlen(tok) + 8;
	char *h = kc_arena_alloc(arena, n);
	snprintf(h, n, "Bearer %s", tok);
	return h;
}


kc_decision
run(const rq *r)
{
	kc_request req = { 0 };
	kc_header hs[10];
	size_t nh = 0;
	req.method = r->method ? r->method : "GET";
	const char *q = strchr(r->target, '?');
	req.path = r->target;
	req.path_len = q ? (size_t)(q - r->target) : strlen(r->target);
	if (q != NULL) {
		req.query = q + 1;
		req.query_len = strlen(q + 1);
	}
	req.remote_addr = r->remote ? r->remote : "198.51.100.7";
	req.now = NOW;
	if (r->auth != NULL)
		hs[nh++] = (kc_header){ "Authorization", 13, r->auth, strlen(r->auth) };
	for (int i = 0; i < 8 && r->headers[i] != NULL; i++) {
		const char *colon = strchr(r->headers[i], ':');
		cr_assert_not_null(colon);
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		hs[nh++] = (kc_header){ r->headers[i], (size_t)(colon - r->headers[i]), v, strlen(v) };
	}
	req.headers = hs;
	req.n_headers = nh;
	char *synth = NULL;
	if (r->claims != NULL) {
		synth = claims_json(r->claims[0] ? r->claims : NULL);
		req.synthetic_claims = kc_arena_strndup(arena, synth, strlen(synth));
		req.synthetic_claims_len = strlen(synth);
		free(synth);
	}
	kc_decision d;
	kc_decide(policy, &req, arena, &d, NULL);
	return d;
}


const char *
export_of(const kc_decision *d, const char *name)
{
	for (size_t i = 0; i < d->n_exports; i++)
		if (strcmp(d->exports[i].name, name) == 0)
			return d->exports[i].value;
	return NULL;
}

const char *
verdict_name(kc_verdict v)
{
	static const char *const names[] = { "ALLOW", "DENY_PATH", "DENY_NO_ROUTE", "DENY_REQUEST",
	    "DENY_NO_TOKEN", "DENY_TOKEN", "DENY_UNAVAILABLE", "DENY_RULE", "DENY_DEFAULT" };
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}



