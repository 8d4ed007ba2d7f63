/* test_alg_none.c: the "alg":"none" attack (RFC 7518 §3.6, RFC 8725 §2.1).
 *
 * A JWS whose header says "alg":"none" is an unsecured JWS: it carries no
 * signature, so anyone can write any claims. Libraries that let the token
 * pick its own algorithm accepted such tokens (CVE-2015-9235 and many
 * since), sometimes only for a different casing such as "NONE" or "nOnE",
 * or when a signature was still attached, or when a kid named a real key.
 * keycard has no kc_alg value for "none" and must refuse it in any casing,
 * with or without a signature, with or without kid, even when the caller's
 * allow-list names every algorithm, and report it as KC_TOK_ALG_NONE. A
 * header with no "alg", or an "alg" that is not a string, must be refused
 * too, never read as "none" or as a default algorithm. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/testutil.h"
#include "token/alg.h"

static const char *const none_spellings[] = {
	"none", "NONE", "nOnE", "None", "NoNe", "nonE",
};

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *
signer(kc_alg alg, const char *kid)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, kid, err, sizeof err);
	cr_assert_not_null(s, "kc_signer_generate: %s", err);
	return s;
}

/* Verifies with an explicit allow-list (0: default). */
static kc_token_reason
verify_algs(const kc_keyset *ks, const char *tok, kc_alg_set algs)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	kc_jws_opts opts = { .algs = algs };
	kc_jws out;
	kc_token_reason r = kc_jws_verify(ks, tok, strlen(tok), &opts, a, &out);
	kc_arena_free(a);
	return r;
}

Test(alg_none, the_library_has_no_none_algorithm)
{
	for (size_t i = 0; i < sizeof none_spellings / sizeof none_spellings[0]; i++) {
		const char *n = none_spellings[i];
		cr_expect_eq(kc_alg_from_name(n, strlen(n)), KC_ALG_UNKNOWN, "%s", n);
		cr_expect(kc_alg_name_is_none(n, strlen(n)), "%s", n);
	}
	/* Not "none": must not be flagged as such either. */
	cr_expect_not(kc_alg_name_is_none("non", 3));
	cr_expect_not(kc_alg_name_is_none("nonee", 5));
	cr_expect_not(kc_alg_name_is_none("HS256", 5));
	/* The allow-list cannot name it: every bit of KC_ALG_ALL is a real alg. */
	for (int a = 0; a < 32; a++)
		if (KC_ALG_ALL & KC_ALG_BIT(a))
			cr_expect(a > KC_ALG_UNKNOWN && a < KC_ALG__COUNT, "bit %d", a);
	cr_expect_eq(KC_ALG_ALL & KC_ALG_BIT(KC_ALG_UNKNOWN), 0u);
}

Test(alg_none, every_casing_with_a_signature_is_alg_none)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	kc_keyset *ks = kct_keyset_of(s);
	unsigned char sig[64];
	memset(sig, 0x41, sizeof sig);
	for (size_t i = 0; i < sizeof none_spellings / sizeof none_spellings[0]; i++) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", none_spellings[i]);
		char *tok = kct_forge(hdr, claims, sig, sizeof sig);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NONE, "alg %s", none_spellings[i]);
		cr_expect_eq(verify_algs(ks, tok, KC_ALG_ALL), KC_TOK_ALG_NONE,
		    "alg %s with every algorithm allowed", none_spellings[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* The classic unsecured JWS: "alg":"none" and an empty third segment. The
 * empty signature is itself refused (jws.h), so the reason may be the
 * structure or the alg, but never success. */
Test(alg_none, every_casing_without_a_signature_is_refused)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	kc_keyset *ks = kct_keyset_of(s);
	for (size_t i = 0; i < sizeof none_spellings / sizeof none_spellings[0]; i++) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\"}", none_spellings[i]);
		char *tok = kct_forge(hdr, claims, NULL, 0);
		cr_assert_eq(tok[strlen(tok) - 1], '.', "forged token ends with an empty signature");
		kc_token_reason r = kct_jws(ks, tok);
		cr_expect(r == KC_TOK_ALG_NONE || r == KC_TOK_MALFORMED || r == KC_TOK_BAD_BASE64,
		    "alg %s, no signature: %s", none_spellings[i], kc_token_reason_name(r));
		r = verify_algs(ks, tok, KC_ALG_ALL);
		cr_expect(r == KC_TOK_ALG_NONE || r == KC_TOK_MALFORMED || r == KC_TOK_BAD_BASE64,
		    "alg %s, no signature, all algs allowed: %s", none_spellings[i],
		    kc_token_reason_name(r));
		/* Nor as just two segments. */
		tok[strlen(tok) - 1] = '\0';
		cr_expect_neq(kct_jws(ks, tok), KC_TOK_OK, "alg %s, two segments", none_spellings[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* A kid naming the real key must not make "none" use (or skip) that key. */
Test(alg_none, with_the_kid_of_a_real_key)
{
	kc_signer *s = signer(KC_ALG_HS256, "real-key");
	kc_keyset *ks = kct_keyset_of(s);
	unsigned char sig[32] = { 1, 2, 3 };
	for (size_t i = 0; i < sizeof none_spellings / sizeof none_spellings[0]; i++) {
		char hdr[96];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"real-key\"}", none_spellings[i]);
		char *tok = kct_forge(hdr, claims, sig, sizeof sig);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NONE, "alg %s", none_spellings[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* Even a signature that is a correct HMAC of the signing input under the
 * real key does not make a "none" token acceptable: the header is wrong. */
Test(alg_none, with_a_correct_mac_of_the_signing_input)
{
	kc_signer *s = signer(KC_ALG_HS256, "k");
	kc_keyset *ks = kct_keyset_of(s);
	char *good = kct_sign_raw(s, "{\"alg\":\"HS256\",\"kid\":\"k\"}", claims);
	cr_assert_eq(kct_jws(ks, good), KC_TOK_OK, "control: the real token verifies");

	char *tok = kct_sign_raw(s, "{\"alg\":\"none\",\"kid\":\"k\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NONE);
	free(tok);
	tok = kct_sign_raw(s, "{\"alg\":\"NONE\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NONE);
	free(tok);
	free(good);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* The full JWT path reports the same reason. */
Test(alg_none, through_the_jwt_verifier)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	unsigned char sig[64] = { 0 };
	char *tok = kct_forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, sig, sizeof sig);
	cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000), KC_TOK_ALG_NONE);
	free(tok);
	tok = kct_forge("{\"alg\":\"nOnE\"}", claims, sig, sizeof sig);
	kc_verifier_opts vo = { .jws = { .algs = KC_ALG_ALL } };
	cr_expect_eq(kct_jwt(kct_keyset_of(s), &vo, tok, 1000), KC_TOK_ALG_NONE);
	free(tok);
	kc_signer_free(s);
}

/* No "alg" at all: refused, not defaulted to the key's algorithm. The token
 * is signed correctly by the only key, so nothing else is wrong with it. */
Test(alg_none, alg_missing)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{}",
		"{\"kid\":\"k1\"}",
		"{\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"ALG\":\"ES256\",\"kid\":\"k1\"}", /* member names are case-sensitive */
		"{\"Alg\":\"ES256\"}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		kc_token_reason r = kct_jws(ks, tok);
		/* jws.h does not name the reason for a missing alg: any of the
		 * header/alg refusals will do, success or a key lookup will not. */
		cr_expect(r == KC_TOK_BAD_HEADER || r == KC_TOK_ALG_UNKNOWN || r == KC_TOK_ALG_NONE,
		    "header %s: %s", headers[i], kc_token_reason_name(r));
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* "alg" of the wrong JSON type is a bad header (reason.h), whatever it holds. */
Test(alg_none, alg_not_a_string)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":null}",
		"{\"alg\":0}",
		"{\"alg\":1}",
		"{\"alg\":true}",
		"{\"alg\":false}",
		"{\"alg\":[\"ES256\"]}",
		"{\"alg\":[]}",
		"{\"alg\":{\"name\":\"ES256\"}}",
		"{\"alg\":[\"none\"]}",
		"{\"alg\":10.5}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_HEADER, "header %s", headers[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* Near misses of real names and of "none" are unknown algorithms, never a
 * case-insensitive match of a real one (RFC 7515 §4.1.1: case-sensitive). */
Test(alg_none, near_misses_are_unknown)
{
	kc_signer *s = signer(KC_ALG_ES256, "k1");
	kc_keyset *ks = kct_keyset_of(s);
	const char *algs[] = { "", "es256", "Es256", "ES256 ", " ES256", "ES-256", "non",
		"none ", "nonenone", "HS0", "RS1" };
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\"}", algs[i]);
		char *tok = kct_sign_raw(s, hdr, claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_UNKNOWN, "alg \"%s\"", algs[i]);
		free(tok);
	}
	/* "none" followed by a NUL: the strict parser refuses NUL in strings,
	 * and a C-string comparison must not see "none" either. */
	char *tok = kct_sign_raw(s, "{\"alg\":\"none\\u0000\"}", claims);
	cr_expect_neq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	tok = kct_sign_raw(s, "{\"alg\":\"ES256\\u0000\"}", claims);
	cr_expect_neq(kct_jws(ks, tok), KC_TOK_OK, "ES256 followed by NUL is not ES256");
	free(tok);
	/* Control: the same header without the tricks verifies. */
	tok = kct_sign_raw(s, "{\"alg\":\"ES256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(s);
}
