/* alg.h: the JWS algorithms keycard knows (RFC 7518 §3, RFC 8037 §3.1).
 *
 * "none" is not among them and never will be: it has no kc_alg value, so no
 * code path can select it. */
#ifndef KC_TOKEN_ALG_H
#define KC_TOKEN_ALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kc_alg {
	KC_ALG_UNKNOWN = 0,
	KC_ALG_HS256, KC_ALG_HS384, KC_ALG_HS512,
	KC_ALG_RS256, KC_ALG_RS384, KC_ALG_RS512,
	KC_ALG_PS256, KC_ALG_PS384, KC_ALG_PS512,
	KC_ALG_ES256, KC_ALG_ES384, KC_ALG_ES512,
	KC_ALG_EDDSA,
	KC_ALG__COUNT
} kc_alg;

/* The kind of key an algorithm needs; an algorithm is only ever tried with
 * a key of its own kind, which makes RS/HS confusion impossible. */
typedef enum kc_keytype {
	KC_KEY_NONE = 0,
	KC_KEY_OCT,     /* HMAC shared secret */
	KC_KEY_RSA,
	KC_KEY_EC_P256,
	KC_KEY_EC_P384,
	KC_KEY_EC_P521,
	KC_KEY_ED25519,
} kc_keytype;

/* A set of algorithms as a bitmask: bit (1u << alg). */
typedef uint32_t kc_alg_set;
#define KC_ALG_BIT(a) ((kc_alg_set)1u << (a))
#define KC_ALG_ALL (((kc_alg_set)1u << KC_ALG__COUNT) - 2u)

/* Exact, case-sensitive lookup (RFC 7515 §4.1.1); KC_ALG_UNKNOWN otherwise. */
kc_alg kc_alg_from_name(const char *name, size_t len);
const char *kc_alg_name(kc_alg alg);
/* True for "none" in any casing: reported separately because it is an attack. */
bool kc_alg_name_is_none(const char *name, size_t len);

kc_keytype kc_alg_keytype(kc_alg alg);
const char *kc_keytype_name(kc_keytype t);
/* Digest size of the hash of HS/RS/PS/ES algorithms in bytes (0 for EdDSA). */
size_t kc_alg_hash_len(kc_alg alg);
/* Name of the digest for EVP_MD_fetch (NULL for EdDSA, which hashes itself). */
const char *kc_alg_digest_name(kc_alg alg);
/* Algorithms usable with keys of type t. */
kc_alg_set kc_keytype_algs(kc_keytype t);

#endif
