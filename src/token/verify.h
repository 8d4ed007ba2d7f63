/* verify.h: the whole token stage: compact JWT in, verified claims out.
 *
 * A kc_verifier is built once from keys and options and is then immutable
 * and thread-safe; kc_token_verify() allocates only from the arena it is
 * given: no malloc on the request path. */
#ifndef KC_TOKEN_VERIFY_H
#define KC_TOKEN_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/json.h"
#include "token/jwk.h"
#include "token/jws.h"
#include "token/reason.h"

typedef struct kc_verifier kc_verifier;

typedef struct kc_verifier_opts {
	kc_jws_opts jws;
	const char *issuer;          /* NULL: not checked */
	const char *const *audiences;
	size_t n_audiences;
	const char *const *required; /* claim names */
	size_t n_required;
	int64_t leeway;              /* seconds */
} kc_verifier_opts;

/* Takes ownership of ks (also on failure). Strings in opts are copied.
 * Returns NULL on allocation failure. */
kc_verifier *kc_verifier_new(kc_keyset *ks, const kc_verifier_opts *opts);
void kc_verifier_free(kc_verifier *v);
const kc_keyset *kc_verifier_keyset(const kc_verifier *v);

typedef struct kc_token {
	kc_alg alg;
	const kc_key *key;     /* borrowed from the verifier */
	const kc_json *header; /* arena memory */
	const kc_json *claims; /* arena memory, a JSON object */
} kc_token;

/* Verifies a JWT: signature layer (jws.h) then claims (claims.h).
 * detail (may be NULL) receives a short, token-free explanation for logs. */
kc_token_reason kc_token_verify(const kc_verifier *v, const char *token, size_t len,
    int64_t now, kc_arena *arena, kc_token *out, char *detail, size_t detail_len);

/* The first configured audience (NULL if none) and the allow-list (0: the
 * algorithms of the keys). For tools. */
const char *kc_verifier_audience(const kc_verifier *v);
kc_alg_set kc_verifier_algs(const kc_verifier *v);

/* Runs only the claim checks of kc_token_verify on claims given as JSON
 * (dry runs with synthetic claims: keycard eval --claims). */
kc_token_reason kc_verifier_check_claims(const kc_verifier *v, const kc_json *claims,
    int64_t now, char *detail, size_t detail_len);

#endif
