/* jwk.h: verification keys from JWKS (RFC 7517), PEM and shared secrets.
 *
 * Every key is turned into an EVP_PKEY (or a ready HMAC context) once, at
 * load; a loaded kc_keyset is immutable and may be shared read-only by any
 * number of threads. Loading is strict and reports each refused key through
 * the warn callback, then goes on with the others (one bad key never breaks
 * a JWKS):
 *   - RSA keys under 2048 bits, public exponent < 3 or even, or with the
 *     ROCA fingerprint (CVE-2017-15361);
 *   - HMAC secrets shorter than the output of the hash of their alg (or of
 *     SHA-256 when no alg is given), RFC 7518 §3.2;
 *   - EC points not on the curve, coordinates of the wrong length, an alg
 *     that does not fit the key type or curve;
 *   - "use" other than "sig", "key_ops" without "verify", unknown kty/crv;
 *   - symmetric keys in a JWKS that also holds public keys (a published
 *     key set must never carry secrets; mixing them invites confusion).
 * Keys that repeat a kid are kept, but a token naming such a kid is refused
 * as ambiguous (kc_keyset_select). */
#ifndef KC_TOKEN_JWK_H
#define KC_TOKEN_JWK_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "token/alg.h"
#include "token/reason.h"

#define KC_RSA_MIN_BITS 2048
#define KC_JWKS_MAX_FILE (1024 * 1024)

typedef struct kc_key kc_key;
typedef struct kc_keyset kc_keyset;

/* Called once per refused key or dubious input; msg is one line, no secrets. */
typedef void (*kc_warn_fn)(void *ctx, const char *msg);

kc_keyset *kc_keyset_new(void);        /* NULL on allocation failure */
void kc_keyset_free(kc_keyset *ks);    /* NULL is fine */

/* Each loader returns the number of keys added (0 or more), or -1 on an
 * error that concerns the input as a whole (unreadable file, not JSON, no
 * "keys" array); then a one-line message is written to err. */
int kc_keyset_load_jwks(kc_keyset *ks, const char *json, size_t len,
    kc_warn_fn warn, void *warn_ctx, char *err, size_t errlen);
int kc_keyset_load_jwks_file(kc_keyset *ks, const char *path,
    kc_warn_fn warn, void *warn_ctx, char *err, size_t errlen);
/* A single JWK object (not a set), e.g. the output of keycard keygen. */
int kc_keyset_load_jwk(kc_keyset *ks, const json_t *jwk,
    kc_warn_fn warn, void *warn_ctx, char *err, size_t errlen);
/* A PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY") or X.509 certificate.
 * kid and alg may be NULL (alg NULL: any alg fitting the key's type). */
int kc_keyset_load_pem_file(kc_keyset *ks, const char *path, const char *kid,
    const char *alg, kc_warn_fn warn, void *warn_ctx, char *err, size_t errlen);
/* A shared secret: the file's bytes, less one trailing "\n" or "\r\n". */
int kc_keyset_load_secret_file(kc_keyset *ks, const char *path, const char *kid,
    const char *alg, kc_warn_fn warn, void *warn_ctx, char *err, size_t errlen);
int kc_keyset_add_secret(kc_keyset *ks, const unsigned char *secret, size_t len,
    const char *kid, const char *alg, kc_warn_fn warn, void *warn_ctx,
    char *err, size_t errlen);

size_t kc_keyset_count(const kc_keyset *ks);
const kc_key *kc_keyset_get(const kc_keyset *ks, size_t i);
/* Union of the algorithms the loaded keys can verify. */
kc_alg_set kc_keyset_algs(const kc_keyset *ks);

/* Chooses the one key for a token with algorithm alg and optional kid:
 *   with a kid: the keys with that kid that accept alg (or, if no key has
 *   that kid, the keys without a kid that accept alg);
 *   without a kid: every key that accepts alg.
 * Exactly one must remain: none is KC_TOK_KEY_NOT_FOUND, more than one is
 * KC_TOK_KEY_AMBIGUOUS. Thread-safe. */
kc_token_reason kc_keyset_select(const kc_keyset *ks, kc_alg alg,
    const char *kid, size_t kid_len, const kc_key **out);

/* Shared with sign.c: the kind of key an EVP_PKEY is (KC_KEY_NONE when
 * keycard has no use for it), and an EVP_PKEY built from parameters with
 * EVP_PKEY_fromdata (selection EVP_PKEY_PUBLIC_KEY or EVP_PKEY_KEYPAIR). */
kc_keytype kc_pkey_keytype(EVP_PKEY *pkey);
EVP_PKEY *kc_pkey_fromdata(const char *type, int selection, OSSL_PARAM_BLD *bld);

/* Accessors; the returned pointers are borrowed from the keyset. */
const char *kc_key_kid(const kc_key *k);         /* NULL when none */
kc_keytype kc_key_type(const kc_key *k);
kc_alg kc_key_alg(const kc_key *k);              /* KC_ALG_UNKNOWN: not pinned */
bool kc_key_accepts(const kc_key *k, kc_alg alg);
EVP_PKEY *kc_key_pkey(const kc_key *k);          /* NULL for oct keys */

/* Verifies sig over data with key k and algorithm alg (which the key must
 * accept). ES* signatures are raw R||S of exactly twice the curve size with
 * r and s in [1, n-1] (RFC 7518 §3.4); DER is refused. HMAC is compared in
 * constant time. Returns KC_TOK_OK, KC_TOK_BAD_SIGNATURE, or
 * KC_TOK_INTERNAL when OpenSSL itself failed. Thread-safe. */
kc_token_reason kc_key_verify(const kc_key *k, kc_alg alg,
    const unsigned char *data, size_t data_len,
    const unsigned char *sig, size_t sig_len);

#endif
