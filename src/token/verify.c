/* verify.c: the token stage end to end: JWS signature layer, then claims. */
#include "config.h"

#include "token/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token/claims.h"

struct kc_verifier {
	kc_keyset *keys;
	kc_jws_opts jws;
	char *typ;
	char *issuer;
	char **audiences;
	size_t n_audiences;
	char **required;
	size_t n_required;
	int64_t leeway;
};

static char **
strv_dup(const char *const *v, size_t n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((out[i] = strdup(v[i])) == NULL)
			return out; /* caught by the caller's count check */
	return out;
}

static void
strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
strv_complete(char **v, size_t n)
{
	if (v == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] == NULL)
			return false;
	return true;
}

kc_verifier *
kc_verifier_new(kc_keyset *ks, const kc_verifier_opts *opts)
{
	kc_verifier *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		kc_keyset_free(ks);
		return NULL;
	}
	v->keys = ks;
	if (opts != NULL) {
		v->jws = opts->jws;
		v->leeway = opts->leeway > 0 ? opts->leeway : 0;
		v->n_audiences = opts->n_audiences;
		v->n_required = opts->n_required;
		v->audiences = strv_dup(opts->audiences, opts->n_audiences);
		v->required = strv_dup(opts->required, opts->n_required);
		if ((opts->jws.typ && (v->typ = strdup(opts->jws.typ)) == NULL) ||
		    (opts->issuer && (v->issuer = strdup(opts->issuer)) == NULL) ||
		    !strv_complete(v->audiences, v->n_audiences) ||
		    !strv_complete(v->required, v->n_required)) {
			kc_verifier_free(v);
			return NULL;
		}
		v->jws.typ = v->typ;
	}
	return v;
}

void
kc_verifier_free(kc_verifier *v)
{
	if (v == NULL)
		return;
	kc_keyset_free(v->keys);
	free(v->typ);
	free(v->issuer);
	strv_free(v->audiences, v->n_audiences);
	strv_free(v->required, v->n_required);
	free(v);
}

const kc_keyset *
kc_verifier_keyset(const kc_verifier *v)
{
	return v->keys;
}

kc_token_reason
kc_token_verify(const kc_verifier *v, const char *token, size_t len, int64_t now,
    kc_arena *arena, kc_token *out, char *detail, size_t dlen)
{
	kc_jws jws;
	memset(out, 0, sizeof(*out));
	if (detail != NULL && dlen > 0)
		detail[0] = '\0';

	kc_token_reason r = kc_jws_verify(v->keys, token, len, &v->jws, arena, &jws);
	if (r != KC_TOK_OK) {
		if (jws.alg != KC_ALG_UNKNOWN && detail != NULL && dlen > 0)
			snprintf(detail, dlen, "alg %s", kc_alg_name(jws.alg));
		return r;
	}
	const kc_json *claims = kc_jws_parse_json(arena, (const char *)jws.payload,
	    jws.payload_len, &r);
	if (claims == NULL)
		return r;

	r = kc_verifier_check_claims(v, claims, now, detail, dlen);
	if (r != KC_TOK_OK)
		return r;
	out->alg = jws.alg;
	out->key = jws.key;
	out->header = jws.header;
	out->claims = claims;
	return KC_TOK_OK;
}

kc_token_reason
kc_verifier_check_claims(const kc_verifier *v, const kc_json *claims, int64_t now,
    char *detail, size_t dlen)
{
	kc_claims_opts co = {
		.issuer = v->issuer,
		.audiences = (const char *const *)v->audiences,
		.n_audiences = v->n_audiences,
		.required = (const char *const *)v->required,
		.n_required = v->n_required,
		.leeway = v->leeway,
		.now = now,
	};
	return kc_claims_check(claims, &co, detail, dlen);
}

const char *
kc_verifier_audience(const kc_verifier *v)
{
	return v->n_audiences ? v->audiences[0] : NULL;
}

kc_alg_set
kc_verifier_algs(const kc_verifier *v)
{
	return v->jws.algs ? v->jws.algs : kc_keyset_algs(v->keys);
}
