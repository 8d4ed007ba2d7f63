/* jws.h: JWS compact serialization, parse and verify (RFC 7515, RFC 8725).
 *
 * This is the signature layer: structure, header, algorithm, key choice and
 * signature. It says nothing about claims (claims.h) and accepts any payload
 * bytes, so it can be tested against JWS vectors whose payload is not JSON.
 *
 * Checks, in order: size limit; exactly three segments, each canonical
 * base64url (the signature may not be empty); header is a JSON object with no
 * duplicate member names and bounded depth (KC_TOK_BAD_JSON,
 * KC_TOK_DUPLICATE_MEMBER, KC_TOK_TOO_DEEP); "alg" is present (else
 * KC_TOK_BAD_HEADER) and a string naming a known
 * algorithm, never "none"; the allow-list; "crit" (no extension is supported,
 * so any "crit" is refused, RFC 7515 §4.1.11); "typ" when required; "kid", if
 * present, a string; then key selection and the signature. "jku", "x5u",
 * "jwk" and "x5c" are never used to find a key (RFC 8725 §3.10). */
#ifndef KC_TOKEN_JWS_H
#define KC_TOKEN_JWS_H

#include <stddef.h>
#include "core/arena.h"
#include "core/json.h"
#include "token/alg.h"
#include "token/jwk.h"
#include "token/reason.h"

#define KC_TOKEN_MAX_SIZE_DEFAULT (16 * 1024)
#define KC_JSON_MAX_DEPTH 64

typedef struct kc_jws_opts {
	size_t max_size;     /* 0: KC_TOKEN_MAX_SIZE_DEFAULT */
	kc_alg_set algs;     /* 0: every algorithm the keyset can verify */
	const char *typ;     /* NULL: not checked; else e.g. "at+jwt", matched
	                        case-insensitively, "application/" optional */
} kc_jws_opts;

typedef struct kc_jws {
	kc_alg alg;
	const kc_key *key;          /* borrowed from the keyset */
	const kc_json *header;      /* arena memory */
	unsigned char *payload;     /* arena memory */
	size_t payload_len;
} kc_jws;

/* Verifies a compact JWS. All memory comes from (or is registered on) the
 * arena. On failure *out is zeroed except alg, once it is known.
 * Thread-safe for a shared keyset. */
kc_token_reason kc_jws_verify(const kc_keyset *ks, const char *token, size_t len,
    const kc_jws_opts *opts, kc_arena *arena, kc_jws *out);

/* Parses a token part (header or claims) with core/json.h: no duplicate
 * member names, no NUL in strings, depth at most KC_JSON_MAX_DEPTH. Returns
 * the value (arena memory) or NULL and the reason: KC_TOK_BAD_JSON,
 * KC_TOK_DUPLICATE_MEMBER, KC_TOK_TOO_DEEP or KC_TOK_INTERNAL. */
const kc_json *kc_jws_parse_json(kc_arena *arena, const char *buf, size_t len,
    kc_token_reason *why);

#endif
