/* test_alg.c: guards the algorithm table (token/alg.h): names are matched
 * exactly and case-sensitively (RFC 7515 §4.1.1), "none" is recognised in
 * every casing and never maps to an algorithm, each algorithm needs exactly
 * one key type (which is what makes RS/HS key confusion impossible), and
 * hash sizes and digest names agree with OpenSSL. */
#include "config.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <string.h>

#include <openssl/evp.h>

#include "token/alg.h"

static const struct {
	const char *name;
	kc_alg alg;
	kc_keytype type;
	size_t hash_len;
} TABLE[] = {
	{ "HS256", KC_ALG_HS256, KC_KEY_OCT, 32 },
	{ "HS384", KC_ALG_HS384, KC_KEY_OCT, 48 },
	{ "HS512", KC_ALG_HS512, KC_KEY_OCT, 64 },
	{ "RS256", KC_ALG_RS256, KC_KEY_RSA, 32 },
	{ "RS384", KC_ALG_RS384, KC_KEY_RSA, 48 },
	{ "RS512", KC_ALG_RS512, KC_KEY_RSA, 64 },
	{ "PS256", KC_ALG_PS256, KC_KEY_RSA, 32 },
	{ "PS384", KC_ALG_PS384, KC_KEY_RSA, 48 },
	{ "PS512", KC_ALG_PS512, KC_KEY_RSA, 64 },
	{ "ES256", KC_ALG_ES256, KC_KEY_EC_P256, 32 },
	{ "ES384", KC_ALG_ES384, KC_KEY_EC_P384, 48 },
	{ "ES512", KC_ALG_ES512, KC_KEY_EC_P521, 64 },
	{ "EdDSA", KC_ALG_EDDSA, KC_KEY_ED25519, 0 },
};
#define NTABLE (sizeof TABLE / sizeof TABLE[0])

static kc_alg
from(const char *s)
{
	return kc_alg_from_name(s, strlen(s));
}

Test(alg, table_covers_every_alg)
{
	cr_assert_eq(NTABLE, (size_t)KC_ALG__COUNT - 1);
}

Test(alg, names_round_trip)
{
	for (size_t i = 0; i < NTABLE; i++) {
		cr_assert_eq(from(TABLE[i].name), TABLE[i].alg, "%s", TABLE[i].name);
		const char *n = kc_alg_name(TABLE[i].alg);
		cr_assert_not_null(n);
		cr_assert_str_eq(n, TABLE[i].name);
	}
}

/* Any other spelling is unknown: lower/upper case, padding, prefixes. */
Test(alg, names_are_exact_case)
{
	static const char *bad[] = {
		"hs256", "Hs256", "hS256", "rs256", "Rs256", "ps256", "es256", "Es256",
		"EDDSA", "eddsa", "Eddsa", "EdDsa", "ED25519", "Ed25519",
		"HS256 ", " HS256", "HS256\n", "HS25", "HS2566", "HS", "RS1", "ES256K",
		"HS1", "RS128", "ES521", "none", "None", "NONE", "", "RSA-OAEP", "A128KW",
		"dir", "HS256\t",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(from(bad[i]), KC_ALG_UNKNOWN, "\"%s\" was accepted", bad[i]);
}

/* The length is what counts, not a NUL: the name comes from inside a JSON
 * string, which may hold a NUL. */
Test(alg, names_are_length_bounded)
{
	cr_assert_eq(kc_alg_from_name("HS256xyz", 5), KC_ALG_HS256);
	cr_assert_eq(kc_alg_from_name("EdDSA!", 5), KC_ALG_EDDSA);
	cr_assert_eq(kc_alg_from_name("HS256\0", 6), KC_ALG_UNKNOWN);
	cr_assert_eq(kc_alg_from_name("ES256", 4), KC_ALG_UNKNOWN);
	cr_assert_eq(kc_alg_from_name("RS256", 0), KC_ALG_UNKNOWN);
}

Test(alg, none_in_every_casing)
{
	/* all 16 casings of "none" */
	for (int mask = 0; mask < 16; mask++) {
		char s[5] = "none";
		for (int i = 0; i < 4; i++)
			if (mask & (1 << i))
				s[i] = (char)toupper((unsigned char)s[i]);
		cr_assert(kc_alg_name_is_none(s, 4), "\"%s\" not seen as none", s);
		cr_assert_eq(kc_alg_from_name(s, 4), KC_ALG_UNKNOWN, "\"%s\" maps to an alg", s);
	}
	cr_assert(kc_alg_name_is_none("nonesuch", 4));
}

Test(alg, not_none)
{
	static const char *bad[] = { "non", "nonee", "none ", " none", "n0ne", "no ne", "", "HS256",
		"none\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_not(kc_alg_name_is_none(bad[i], strlen(bad[i])), "\"%s\" seen as none", bad[i]);
	cr_assert_not(kc_alg_name_is_none("none\0", 5), "\"none\\0\" (5 bytes) seen as none");
}

Test(alg, key_types)
{
	for (size_t i = 0; i < NTABLE; i++)
		cr_assert_eq(kc_alg_keytype(TABLE[i].alg), TABLE[i].type, "%s", TABLE[i].name);
	cr_assert_eq(kc_alg_keytype(KC_ALG_UNKNOWN), KC_KEY_NONE);
}

Test(alg, keytype_names)
{
	const kc_keytype types[] = { KC_KEY_OCT, KC_KEY_RSA, KC_KEY_EC_P256, KC_KEY_EC_P384,
		KC_KEY_EC_P521, KC_KEY_ED25519 };
	const size_t n = sizeof types / sizeof types[0];
	for (size_t i = 0; i < n; i++) {
		const char *a = kc_keytype_name(types[i]);
		cr_assert_not_null(a);
		cr_assert_gt(strlen(a), 0);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(a, kc_keytype_name(types[j]));
	}
}

/* kc_keytype_algs is exactly the inverse of kc_alg_keytype. */
Test(alg, keytype_algs_is_inverse)
{
	const kc_keytype types[] = { KC_KEY_NONE, KC_KEY_OCT, KC_KEY_RSA, KC_KEY_EC_P256,
		KC_KEY_EC_P384, KC_KEY_EC_P521, KC_KEY_ED25519 };
	kc_alg_set seen = 0;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		kc_alg_set want = 0;
		for (size_t i = 0; i < NTABLE; i++)
			if (TABLE[i].type == types[t])
				want |= KC_ALG_BIT(TABLE[i].alg);
		kc_alg_set got = kc_keytype_algs(types[t]);
		cr_assert_eq(got, want, "key type %d: 0x%x, want 0x%x", (int)types[t], got, want);
		cr_assert_eq(got & seen, 0, "an alg fits two key types");
		seen |= got;
	}
	cr_assert_eq(seen, KC_ALG_ALL);
	cr_assert_eq(kc_keytype_algs(KC_KEY_OCT),
	    KC_ALG_BIT(KC_ALG_HS256) | KC_ALG_BIT(KC_ALG_HS384) | KC_ALG_BIT(KC_ALG_HS512));
	cr_assert_eq(kc_keytype_algs(KC_KEY_EC_P521), KC_ALG_BIT(KC_ALG_ES512));
	cr_assert_eq(kc_keytype_algs(KC_KEY_NONE), 0);
}

Test(alg, alg_all_mask)
{
	for (size_t i = 0; i < NTABLE; i++)
		cr_assert(KC_ALG_ALL & KC_ALG_BIT(TABLE[i].alg));
	cr_assert_eq(KC_ALG_ALL & KC_ALG_BIT(KC_ALG_UNKNOWN), 0);
	cr_assert_eq(KC_ALG_ALL & KC_ALG_BIT(KC_ALG__COUNT), 0);
}

Test(alg, hash_lengths_and_digests)
{
	for (size_t i = 0; i < NTABLE; i++) {
		kc_alg a = TABLE[i].alg;
		cr_assert_eq(kc_alg_hash_len(a), TABLE[i].hash_len, "%s", TABLE[i].name);
		const char *dn = kc_alg_digest_name(a);
		if (a == KC_ALG_EDDSA) {
			cr_assert_null(dn);
			continue;
		}
		cr_assert_not_null(dn, "%s has no digest", TABLE[i].name);
		EVP_MD *md = EVP_MD_fetch(NULL, dn, NULL);
		cr_assert_not_null(md, "EVP_MD_fetch(\"%s\") failed", dn);
		cr_assert_eq((size_t)EVP_MD_get_size(md), TABLE[i].hash_len, "%s: %s", TABLE[i].name, dn);
		/* the SHA-2 family, never SHA-3 or SHA-512/256 */
		cr_assert(EVP_MD_is_a(md, TABLE[i].hash_len == 32 ? "SHA2-256" :
		    TABLE[i].hash_len == 48 ? "SHA2-384" : "SHA2-512"), "%s: %s", TABLE[i].name, dn);
		EVP_MD_free(md);
	}
}
