/* testutil.h: helpers shared by the Criterion tests. */
#ifndef KC_TESTUTIL_H
#define KC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/arena.h"
#include "token/jwk.h"
#include "token/jws.h"
#include "token/sign.h"
#include "token/verify.h"

/* Path of a file under tests/data ($KC_TEST_DATA, else "tests/data"):
 * returns a static buffer, valid until the next call. */
const char *kct_data_path(const char *name);

/* Reads a file under tests/data, NUL-terminated; aborts the test on error.
 * Caller frees. */
char *kct_data_read(const char *name, size_t *len);

/* A keyset holding only the public half of signer s (for oct: the secret). */
kc_keyset *kct_keyset_of(const kc_signer *s);
/* A keyset from JWKS text; aborts the test if the text is not a JWKS. */
kc_keyset *kct_keyset_from_json(const char *jwks);

/* Signs a JSON claims text (or any bytes) with s; caller frees. */
char *kct_sign(const kc_signer *s, const char *payload);
/* Builds a compact JWS from raw header and payload JSON texts and raw
 * signature bytes, without any checks: for forging malicious tokens. */
char *kct_forge(const char *header_json, const char *payload,
    const unsigned char *sig, size_t sig_len);
/* Signs arbitrary header/payload texts with s (the header is used as is). */
char *kct_sign_raw(const kc_signer *s, const char *header_json, const char *payload);

/* Verifies token at the JWS layer with keyset ks and default options. */
kc_token_reason kct_jws(const kc_keyset *ks, const char *token);
/* Full JWT verification with a verifier built from ks (taken over) and opts
 * (NULL: defaults), at time now. */
kc_token_reason kct_jwt(kc_keyset *ks, const kc_verifier_opts *opts,
    const char *token, int64_t now);

/* Temporary directories for tests that write policy files. */
/* Creates /tmp/kc-TAG-XXXXXX into dir (at least 64 bytes); aborts on error. */
void kct_tmpdir(char *dir, size_t size, const char *tag);
/* Removes dir and everything below it. */
void kct_rmtree(const char *dir);
/* Writes text to dir/rel, creating the parent directories. */
void kct_write_file(const char *dir, const char *rel, const char *text);
/* The public JWKS {"keys":[…]} of a signer, as text; caller frees. */
char *kct_jwks_of(const kc_signer *s);

#endif
