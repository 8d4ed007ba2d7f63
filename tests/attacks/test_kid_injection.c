/* test_kid_injection.c: attacker-controlled "kid" (RFC 7515 §4.1.4, RFC 8725 §3.10).
 *
 * "kid" is a hint chosen by whoever wrote the token. Verifiers that used it
 * to find the key got burnt: as a file name ("../../../../dev/null" gives an
 * empty HMAC secret the attacker knows), as a SQL fragment ("' UNION SELECT
 * 'secret' --" gives a secret of the attacker's choosing), as a shell
 * argument, or cut short at a NUL byte so that "good\u0000evil" matches
 * "good". keycard only ever compares kid, byte for byte, with the kids of
 * keys it has loaded. These tests send such kids, signed with the real key or
 * with the secret the injection would have produced, and check that none
 * selects a key it should not, that a kid of the wrong JSON type is a bad
 * header, and that a kid naming a different key than the signer's fails the
 * signature check instead of falling back to another key. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *
signer(kc_alg alg, const char *kid)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, kid, err, sizeof err);
	cr_assert_not_null(s, "kc_signer_generate: %s", err);
	return s;
}

/* A key set with the public keys of a (kid "a") and b (kid "b"). */
static kc_keyset *
two_keys(const kc_signer *a, const kc_signer *b)
{
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	json_t *ja = kc_signer_public_jwk(a), *jb = kc_signer_public_jwk(b);
	cr_assert_eq(kc_keyset_load_jwk(ks, ja, NULL, NULL, err, sizeof err), 1, "%s", err);
	cr_assert_eq(kc_keyset_load_jwk(ks, jb, NULL, NULL, err, sizeof err), 1, "%s", err);
	json_decref(ja);
	json_decref(jb);
	return ks;
}

static kc_token_reason
verify_algs(const kc_keyset *ks, const char *tok, kc_alg_set algs)
{
	kc_arena *ar = kc_arena_new(4096);
	cr_assert_not_null(ar);
	kc_jws_opts opts = { .algs = algs };
	kc_jws out;
	kc_token_reason r = kc_jws_verify(ks, tok, strlen(tok), &opts, ar, &out);
	kc_arena_free(ar);
	return r;
}

/* Header {"alg":"ES256","kid":<kid_json>} signed by s. */
static char *
sign_with_kid(const kc_signer *s, const char *alg, const char *kid_json)
{
	size_t n = strlen(kid_json) + 64;
	char *hdr = malloc(n);
	snprintf(hdr, n, "{\"alg\":\"%s\",\"kid\":%s}", alg, kid_json);
	char *tok = kct_sign_raw(s, hdr, claims);
	cr_assert_not_null(tok);
	free(hdr);
	return tok;
}

/* HS256 over header.payload with the given secret (what an injection would
 * have made the verifier use). */
static char *
hs256_forge(const void *secret, size_t n, const char *hdr)
{
	char *h = kc_b64url_encode_alloc((const unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	size_t inlen = strlen(h) + 1 + strlen(p);
	char *tok = malloc(inlen + 2 + 64);
	snprintf(tok, inlen + 1, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const unsigned char empty[1];
	cr_assert_not_null(HMAC(EVP_sha256(), n ? secret : empty, (int)n, (unsigned char *)tok,
	    inlen, mac, &maclen));
	tok[inlen] = '.';
	kc_b64url_encode(mac, maclen, tok + inlen + 1);
	free(h);
	free(p);
	return tok;
}

static const char *const injections[] = {
	"\"../../../../../../dev/null\"",
	"\"/dev/null\"",
	"\"../../../../etc/passwd\"",
	"\"..\\\\..\\\\..\\\\windows\\\\win.ini\"",
	"\"file:///dev/null\"",
	"\"' OR '1'='1\"",
	"\"a' OR '1'='1\"",
	"\"x' UNION SELECT 'secret' --\"",
	"\"a; DROP TABLE keys; --\"",
	"\"$(cat /etc/passwd)\"",
	"\"`id`\"",
	"\"a|id\"",
	"\"%s%s%s%n\"",
	"\"*\"",
	"\".*\"",
	"\"a*\"",
	"\"\"",
	"\" a\"",
	"\"a \"",
	"\"A\"",
	"\"a\\r\\nX-Injected: 1\"",
	"\"\\u00e9\"",
	"\"https://attacker.example/key\"",
};

/* Signed by the real key a: an injected kid must not find a (the only
 * fallback is keys without a kid, and there are none). */
Test(kid_injection, injected_kids_select_no_key)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	for (size_t i = 0; i < sizeof injections / sizeof injections[0]; i++) {
		char *tok = sign_with_kid(a, "ES256", injections[i]);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND, "kid %s", injections[i]);
		free(tok);
	}
	/* Control: the real kid. */
	char *tok = sign_with_kid(a, "ES256", "\"a\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* What the injections would produce: HS256 with an empty secret (/dev/null)
 * or a secret named in the SQL. Refused with the default allow-list (the
 * keys are ES256), and with every algorithm allowed no key is found. */
Test(kid_injection, secrets_the_injection_would_yield)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	struct { const char *kid; const char *secret; } cases[] = {
		{ "../../../../../../dev/null", "" },
		{ "/dev/null", "" },
		{ "x' UNION SELECT 'secret' --", "secret" },
		{ "a", "" },
		{ "a", "a" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char hdr[128];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", cases[i].kid);
		char *tok = hs256_forge(cases[i].secret, strlen(cases[i].secret), hdr);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NOT_ALLOWED, "%s", hdr);
		cr_expect_eq(verify_algs(ks, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND, "%s", hdr);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* With an HMAC key loaded, a traversal kid still reaches nothing: no key has
 * that kid and the only key has a kid of its own. */
Test(kid_injection, traversal_against_an_hmac_key)
{
	kc_signer *h = signer(KC_ALG_HS256, "hmac");
	kc_keyset *ks = kct_keyset_of(h);
	char *tok = hs256_forge("", 0, "{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	tok = sign_with_kid(h, "HS256", "\"../../../../dev/null\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND, "even when signed by the real key");
	free(tok);
	tok = sign_with_kid(h, "HS256", "\"hmac\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "control");
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(h);
}

/* NUL inside kid: "a\u0000..." must never be taken for "a". The strict
 * parser refuses NUL in strings; whatever the reason, not success. */
Test(kid_injection, nul_byte_in_kid)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	const char *kids[] = {
		"\"a\\u0000\"",
		"\"a\\u0000b\"",
		"\"a\\u0000../../dev/null\"",
		"\"\\u0000a\"",
		"\"\\u0000\"",
		"\"b\\u0000a\"",
	};
	for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
		char *tok = sign_with_kid(a, "ES256", kids[i]);
		kc_token_reason r = kct_jws(ks, tok);
		cr_expect_neq(r, KC_TOK_OK, "kid %s", kids[i]);
		cr_expect_neq(r, KC_TOK_INTERNAL, "kid %s", kids[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* The kid is compared after JSON decoding: an escaped spelling of the same
 * string is the same kid (and a different string is not). */
Test(kid_injection, escaped_spelling_is_the_same_kid)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	char *tok = sign_with_kid(a, "ES256", "\"\\u0061\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	tok = sign_with_kid(a, "ES256", "\"\\u0062\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "\\u0062 is b: b's key, a's signature");
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* Very long kids: refused quickly as unknown, or as too large past the limit. */
Test(kid_injection, very_long_kid)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	size_t sizes[] = { 256, 4096, 9000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *kid = malloc(sizes[i] + 3);
		kid[0] = '"';
		memset(kid + 1, 'a', sizes[i]);
		kid[sizes[i] + 1] = '"';
		kid[sizes[i] + 2] = '\0';
		char *tok = sign_with_kid(a, "ES256", kid);
		cr_assert_leq(strlen(tok), (size_t)KC_TOKEN_MAX_SIZE_DEFAULT);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND, "kid of %zu bytes", sizes[i]);
		free(tok);
		free(kid);
	}
	/* A kid that alone pushes the token over 16 KiB. */
	char *kid = malloc(20000);
	kid[0] = '"';
	memset(kid + 1, 'a', 19000);
	kid[19001] = '"';
	kid[19002] = '\0';
	char *tok = sign_with_kid(a, "ES256", kid);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_TOO_LARGE);
	free(tok);
	free(kid);
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* A long kid that matches a loaded long kid works (no truncation either way),
 * and one differing only in its last byte does not. */
Test(kid_injection, long_kid_compared_in_full)
{
	char kid[1025];
	memset(kid, 'k', 1024);
	kid[1024] = '\0';
	kc_signer *s = signer(KC_ALG_ES256, kid);
	kc_keyset *ks = kct_keyset_of(s);
	char quoted[1100];
	snprintf(quoted, sizeof quoted, "\"%s\"", kid);
	char *tok = sign_with_kid(s, "ES256", quoted);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	quoted[1024] = 'x'; /* last byte of the kid */
	tok = sign_with_kid(s, "ES256", quoted);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	quoted[1024] = '"';
	quoted[1025] = '\0'; /* one byte shorter */
	tok = sign_with_kid(s, "ES256", quoted);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* kid of the wrong JSON type is a bad header (jws.h, reason.h). */
Test(kid_injection, kid_not_a_string)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	const char *kids[] = { "null", "0", "1", "true", "false", "[\"a\"]", "[]",
		"{\"kid\":\"a\"}", "{}", "1.5", "-1" };
	for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
		char *tok = sign_with_kid(a, "ES256", kids[i]);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_HEADER, "kid %s", kids[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* Signed by a, naming b: b's key is used and the signature fails; keycard
 * does not go on to try a. */
Test(kid_injection, kid_naming_another_key)
{
	kc_signer *a = signer(KC_ALG_ES256, "a"), *b = signer(KC_ALG_ES256, "b");
	kc_keyset *ks = two_keys(a, b);
	char *tok = sign_with_kid(a, "ES256", "\"b\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	tok = sign_with_kid(b, "ES256", "\"a\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	/* Without kid two keys fit: ambiguous, not "try each". */
	tok = kct_sign_raw(a, "{\"alg\":\"ES256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_AMBIGUOUS);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* Two keys under one kid: a token naming it is ambiguous even when signed by
 * one of them. */
Test(kid_injection, duplicate_kid_is_ambiguous)
{
	kc_signer *a = signer(KC_ALG_ES256, "dup"), *b = signer(KC_ALG_ES256, "dup");
	kc_keyset *ks = two_keys(a, b);
	cr_assert_eq(kc_keyset_count(ks), 2);
	char *tok = sign_with_kid(a, "ES256", "\"dup\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_AMBIGUOUS);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(a);
	kc_signer_free(b);
}

/* A key loaded without a kid stands in for any kid (jwk.h); the kid is then
 * just a label, never a path, and only the signature decides. */
Test(kid_injection, key_without_kid_and_injected_kid)
{
	kc_signer *s = signer(KC_ALG_ES256, "s");
	kc_signer *m = signer(KC_ALG_ES256, "m");
	json_t *jwk = kc_signer_public_jwk(s);
	json_object_del(jwk, "kid");
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwk(ks, jwk, NULL, NULL, err, sizeof err), 1, "%s", err);
	json_decref(jwk);
	cr_assert_null(kc_key_kid(kc_keyset_get(ks, 0)));
	char *tok = sign_with_kid(s, "ES256", "\"../../../../etc/passwd\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	tok = sign_with_kid(m, "ES256", "\"../../../../etc/passwd\"");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	tok = hs256_forge("", 0, "{\"alg\":\"HS256\",\"kid\":\"/dev/null\"}");
	cr_expect_eq(verify_algs(ks, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(s);
	kc_signer_free(m);
}
