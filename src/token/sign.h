/* sign.h: key generation and signing, for keycard keygen/mint and tests.
 *
 * Never on a server's path: keycard-fcgi only verifies. */
#ifndef KC_TOKEN_SIGN_H
#define KC_TOKEN_SIGN_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "token/alg.h"

/* A private signing key with its algorithm. */
typedef struct kc_signer kc_signer;

/* Generates a fresh key for alg: RSA 2048 (RS and PS), EC on the alg's curve,
 * Ed25519, or a random secret of the hash size (HS*). NULL on failure. */
kc_signer *kc_signer_generate(kc_alg alg, const char *kid, char *err, size_t errlen);
/* Loads a private key from a JWK file (the output of keygen) or a PEM
 * private key file. alg may be KC_ALG_UNKNOWN to take the JWK's "alg".
 * NULL on failure, with a message in err. */
kc_signer *kc_signer_load_file(const char *path, kc_alg alg, const char *kid,
    char *err, size_t errlen);
void kc_signer_free(kc_signer *s);

kc_alg kc_signer_alg(const kc_signer *s);
const char *kc_signer_kid(const kc_signer *s);

/* JWK objects for the key (caller decrefs): the private one with "d" (or "k"),
 * and the public one (for oct keys the public JWK is the secret itself, as a
 * verifier needs it). Both carry kty, kid, alg and use "sig". */
json_t *kc_signer_private_jwk(const kc_signer *s);
json_t *kc_signer_public_jwk(const kc_signer *s);

/* Signs: returns header.payload.signature as a malloc'd NUL-terminated
 * string, with header {"alg":…,"typ":typ,"kid":…} (typ NULL: "JWT"; extra
 * header members may be given in extra_header, may be NULL). payload is the
 * exact bytes to encode. NULL on failure. */
char *kc_signer_sign(const kc_signer *s, const json_t *extra_header, const char *typ,
    const unsigned char *payload, size_t payload_len);

/* Signs data (the JWS signing input) and returns the JWS signature bytes
 * (raw R||S for ES*), malloc'd, length in *sig_len. NULL on failure. */
unsigned char *kc_signer_sign_bytes(const kc_signer *s, const unsigned char *data,
    size_t len, size_t *sig_len);

#endif
