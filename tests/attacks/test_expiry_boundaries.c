/* test_expiry_boundaries.c: exp, nbf and iat at and around their limits
 * (RFC 7519 §4.1.4-4.1.6, §2 NumericDate; RFC 8725 §3.8; claims.h).
 *
 * Token lifetime checks fail in small ways that add up to "tokens never
 * expire": an off-by-one at the boundary (<= for <), leeway applied in the
 * wrong direction or twice, exp given as a string ("9999999999") and
 * compared as text or skipped because it is "not a number", a huge or
 * fractional value that overflows or is truncated when converted to an
 * integer (undefined behaviour in C, and a wrapped, negative "exp" that
 * never triggers), or a missing exp treated as valid when the deployment
 * requires one. The contract is: valid iff now < exp + leeway and
 * now >= nbf - leeway; exp, nbf and iat must be JSON numbers; a required
 * claim must be present. These tests walk the boundaries second by second,
 * through the full JWT verifier with a real signature. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/testutil.h"

static kc_signer *s;

static void
setup(void)
{
	char err[256] = "";
	s = kc_signer_generate(KC_ALG_HS256, "k", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
}

static void
teardown(void)
{
	kc_signer_free(s);
}

TestSuite(expiry, .init = setup, .fini = teardown);

/* Verifies claims (JSON text) signed by s at time now. */
static kc_token_reason
check(const char *claims, int64_t now, int64_t leeway, const char *const *required,
    size_t n_required)
{
	char *tok = kct_sign(s, claims);
	cr_assert_not_null(tok);
	kc_verifier_opts vo = { .leeway = leeway, .required = required, .n_required = n_required };
	kc_token_reason r = kct_jwt(kct_keyset_of(s), &vo, tok, now);
	free(tok);
	return r;
}

static kc_token_reason
at(const char *claims, int64_t now, int64_t leeway)
{
	return check(claims, now, leeway, NULL, 0);
}

#define EXPECT_AT(claims, now, leeway, want) do { \
	kc_token_reason r_ = at((claims), (now), (leeway)); \
	cr_expect_eq(r_, (want), "%s at %lld leeway %lld: want %s, got %s", (claims), \
	    (long long)(now), (long long)(leeway), kc_token_reason_name(want), \
	    kc_token_reason_name(r_)); \
} while (0)

Test(expiry, exp_boundary_without_leeway)
{
	const char *c = "{\"sub\":\"a\",\"exp\":1000}";
	EXPECT_AT(c, 0, 0, KC_TOK_OK);
	EXPECT_AT(c, 998, 0, KC_TOK_OK);
	EXPECT_AT(c, 999, 0, KC_TOK_OK);        /* exp - 1 */
	EXPECT_AT(c, 1000, 0, KC_TOK_EXPIRED);  /* exp: now < exp is false */
	EXPECT_AT(c, 1001, 0, KC_TOK_EXPIRED);
	EXPECT_AT(c, INT64_MAX, 0, KC_TOK_EXPIRED);
}

Test(expiry, exp_boundary_with_leeway)
{
	const char *c = "{\"sub\":\"a\",\"exp\":1000}";
	EXPECT_AT(c, 999, 30, KC_TOK_OK);
	EXPECT_AT(c, 1000, 30, KC_TOK_OK);       /* exp */
	EXPECT_AT(c, 1029, 30, KC_TOK_OK);       /* exp + leeway - 1 */
	EXPECT_AT(c, 1030, 30, KC_TOK_EXPIRED);  /* exp + leeway */
	EXPECT_AT(c, 1031, 30, KC_TOK_EXPIRED);
	EXPECT_AT(c, 87399, 86400, KC_TOK_OK);
	EXPECT_AT(c, 87400, 86400, KC_TOK_EXPIRED);
}

Test(expiry, nbf_boundary)
{
	const char *c = "{\"sub\":\"a\",\"nbf\":1000}";
	EXPECT_AT(c, 0, 0, KC_TOK_NOT_YET_VALID);
	EXPECT_AT(c, 999, 0, KC_TOK_NOT_YET_VALID);  /* nbf - 1 */
	EXPECT_AT(c, 1000, 0, KC_TOK_OK);            /* nbf */
	EXPECT_AT(c, 1001, 0, KC_TOK_OK);
	EXPECT_AT(c, INT64_MAX, 0, KC_TOK_OK);
	EXPECT_AT(c, 969, 30, KC_TOK_NOT_YET_VALID); /* nbf - leeway - 1 */
	EXPECT_AT(c, 970, 30, KC_TOK_OK);            /* nbf - leeway */
	EXPECT_AT(c, 999, 30, KC_TOK_OK);
}

Test(expiry, exp_and_nbf_together)
{
	const char *c = "{\"sub\":\"a\",\"nbf\":1000,\"exp\":1002}";
	EXPECT_AT(c, 999, 0, KC_TOK_NOT_YET_VALID);
	EXPECT_AT(c, 1000, 0, KC_TOK_OK);
	EXPECT_AT(c, 1001, 0, KC_TOK_OK);
	EXPECT_AT(c, 1002, 0, KC_TOK_EXPIRED);
	EXPECT_AT(c, 995, 5, KC_TOK_OK);
	EXPECT_AT(c, 994, 5, KC_TOK_NOT_YET_VALID);
	EXPECT_AT(c, 1006, 5, KC_TOK_OK);
	EXPECT_AT(c, 1007, 5, KC_TOK_EXPIRED);
	/* nbf == exp: never valid without leeway. */
	c = "{\"sub\":\"a\",\"nbf\":1000,\"exp\":1000}";
	EXPECT_AT(c, 999, 0, KC_TOK_NOT_YET_VALID);
	EXPECT_AT(c, 1000, 0, KC_TOK_EXPIRED);
	/* Other number spellings of the same instant. */
	EXPECT_AT("{\"exp\":1e3}", 999, 0, KC_TOK_OK);
	EXPECT_AT("{\"exp\":1e3}", 1000, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"exp\":1000.0}", 999, 0, KC_TOK_OK);
	EXPECT_AT("{\"exp\":1000.0}", 1000, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"exp\":10E+2}", 1000, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"nbf\":100000e-2}", 999, 0, KC_TOK_NOT_YET_VALID);
	EXPECT_AT("{\"nbf\":100000e-2}", 1000, 0, KC_TOK_OK);
}

/* NumericDate may be fractional (RFC 7519 §2): compared exactly, not
 * truncated in the token's favour. */
Test(expiry, fractional_values)
{
	EXPECT_AT("{\"exp\":1000.5}", 999, 0, KC_TOK_OK);
	EXPECT_AT("{\"exp\":1000.5}", 1000, 0, KC_TOK_OK);      /* 1000 < 1000.5 */
	EXPECT_AT("{\"exp\":1000.5}", 1001, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"exp\":999.999}", 999, 0, KC_TOK_OK);
	EXPECT_AT("{\"exp\":999.999}", 1000, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"nbf\":1000.5}", 1000, 0, KC_TOK_NOT_YET_VALID); /* 1000 >= 1000.5 is false */
	EXPECT_AT("{\"nbf\":1000.5}", 1001, 0, KC_TOK_OK);
	EXPECT_AT("{\"nbf\":999.5}", 999, 0, KC_TOK_NOT_YET_VALID);
	EXPECT_AT("{\"nbf\":999.5}", 1000, 0, KC_TOK_OK);
}

/* exp, nbf and iat must be JSON numbers. */
Test(expiry, wrong_types_are_bad_claims)
{
	const char *values[] = { "\"1000\"", "\"4102444800\"", "\"\"", "true", "false", "null",
		"[4102444800]", "[]", "{}", "{\"$numberLong\":\"4102444800\"}" };
	const char *names[] = { "exp", "nbf", "iat" };
	for (size_t n = 0; n < 3; n++)
		for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
			char c[128];
			snprintf(c, sizeof c, "{\"sub\":\"a\",\"%s\":%s}", names[n], values[i]);
			EXPECT_AT(c, 1000, 0, KC_TOK_BAD_CLAIM);
			EXPECT_AT(c, 1000, 60, KC_TOK_BAD_CLAIM);
		}
	/* Controls: numbers are fine. */
	EXPECT_AT("{\"sub\":\"a\",\"iat\":1000}", 1000, 0, KC_TOK_OK);
	EXPECT_AT("{\"sub\":\"a\",\"iat\":999.5}", 1000, 0, KC_TOK_OK);
	EXPECT_AT("{\"sub\":\"a\",\"iat\":0}", 1000, 0, KC_TOK_OK);
}

/* Not JSON numbers at all: the strict parser refuses the claims set. */
Test(expiry, invalid_number_syntax)
{
	const char *values[] = { "NaN", "Infinity", "-Infinity", "01000", "+1000", ".5", "1000.",
		"1e", "0x3e8", "1_000", "--1" };
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char c[64];
		snprintf(c, sizeof c, "{\"sub\":\"a\",\"exp\":%s}", values[i]);
		EXPECT_AT(c, 1000, 0, KC_TOK_BAD_JSON);
	}
}

/* Values at the edges of the number range. Far-future or far-past values
 * may be accepted as such or refused as out of range (BAD_CLAIM), but must
 * never wrap around into the opposite verdict, and must not trip undefined
 * behaviour (the sanitizer build turns that into a crash). */
static void
expect_one_of(const char *claims, int64_t now, int64_t leeway, kc_token_reason a,
    kc_token_reason b)
{
	kc_token_reason r = at(claims, now, leeway);
	cr_expect(r == a || r == b, "%s at %lld leeway %lld: want %s or %s, got %s", claims,
	    (long long)now, (long long)leeway, kc_token_reason_name(a), kc_token_reason_name(b),
	    kc_token_reason_name(r));
}

Test(expiry, huge_and_negative_values)
{
	/* Far future exp: not expired. */
	const char *future[] = { "1e300", "1.7976931348623157e308", "9223372036854775807",
		"9223372036854775808", "18446744073709551616", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof future / sizeof future[0]; i++) {
		char c[96];
		snprintf(c, sizeof c, "{\"sub\":\"a\",\"exp\":%s}", future[i]);
		for (int64_t leeway = 0; leeway <= 60; leeway += 60) {
			expect_one_of(c, 1000, leeway, KC_TOK_OK, KC_TOK_BAD_CLAIM);
			/* A "now" far in the future but well inside double precision. */
			expect_one_of(c, INT64_MAX / 2, leeway, KC_TOK_OK, KC_TOK_BAD_CLAIM);
		}
		/* As nbf, far future: not yet valid. */
		snprintf(c, sizeof c, "{\"sub\":\"a\",\"nbf\":%s}", future[i]);
		expect_one_of(c, 1000, 60, KC_TOK_NOT_YET_VALID, KC_TOK_BAD_CLAIM);
	}
	/* Past and far past exp: expired. */
	const char *past[] = { "-1", "0", "-1e300", "-1.7976931348623157e308",
		"-9223372036854775808", "-9223372036854775809", "-99999999999999999999999" };
	for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
		char c[96];
		snprintf(c, sizeof c, "{\"sub\":\"a\",\"exp\":%s}", past[i]);
		expect_one_of(c, 1000, 0, KC_TOK_EXPIRED, KC_TOK_BAD_CLAIM);
		expect_one_of(c, 1000, 60, KC_TOK_EXPIRED, KC_TOK_BAD_CLAIM);
		/* As nbf, far past: valid (nbf - leeway must not wrap upwards). */
		snprintf(c, sizeof c, "{\"sub\":\"a\",\"nbf\":%s}", past[i]);
		expect_one_of(c, 1000, 60, KC_TOK_OK, KC_TOK_BAD_CLAIM);
		expect_one_of(c, 1000, 0, KC_TOK_OK, KC_TOK_BAD_CLAIM);
	}
	/* Numbers too large for a double: never valid as nbf, never expired as
	 * exp, or refused outright. */
	kc_token_reason r = at("{\"sub\":\"a\",\"nbf\":1e400}", 1000, 0);
	cr_expect(r != KC_TOK_OK && r != KC_TOK_INTERNAL, "nbf 1e400: %s", kc_token_reason_name(r));
	r = at("{\"sub\":\"a\",\"exp\":-1e400}", 1000, 0);
	cr_expect(r != KC_TOK_OK && r != KC_TOK_INTERNAL, "exp -1e400: %s", kc_token_reason_name(r));
	r = at("{\"sub\":\"a\",\"exp\":1e400}", 1000, 0);
	cr_expect(r == KC_TOK_OK || r == KC_TOK_BAD_CLAIM || r == KC_TOK_BAD_JSON, "exp 1e400: %s",
	    kc_token_reason_name(r));
	/* Tiny fractions around the boundary. */
	EXPECT_AT("{\"exp\":1000.0000001}", 1000, 0, KC_TOK_OK);
	EXPECT_AT("{\"exp\":999.9999999}", 1000, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"exp\":-0}", 0, 0, KC_TOK_EXPIRED);
	EXPECT_AT("{\"exp\":-0.0}", -1, 0, KC_TOK_OK);
}

/* Absent exp/nbf are not checked unless required (claims.h); required
 * claims must be present. */
Test(expiry, required_claims)
{
	static const char *const exp_req[] = { "exp" };
	static const char *const nbf_req[] = { "nbf" };
	static const char *const many[] = { "exp", "sub", "iat" };
	const char *none = "{\"sub\":\"a\"}";
	cr_expect_eq(at(none, 1000, 0), KC_TOK_OK, "no exp, none required");
	cr_expect_eq(check(none, 1000, 0, exp_req, 1), KC_TOK_MISSING_CLAIM);
	cr_expect_eq(check(none, 1000, 0, nbf_req, 1), KC_TOK_MISSING_CLAIM);
	cr_expect_eq(check("{\"sub\":\"a\",\"exp\":2000}", 1000, 0, exp_req, 1), KC_TOK_OK);
	cr_expect_eq(check("{\"sub\":\"a\",\"exp\":1000}", 1000, 0, exp_req, 1), KC_TOK_EXPIRED);
	cr_expect_eq(check("{\"sub\":\"a\",\"nbf\":500}", 1000, 0, nbf_req, 1), KC_TOK_OK);
	cr_expect_eq(check("{\"sub\":\"a\",\"exp\":2000}", 1000, 0, many, 3), KC_TOK_MISSING_CLAIM,
	    "iat missing");
	cr_expect_eq(check("{\"sub\":\"a\",\"exp\":2000,\"iat\":900}", 1000, 0, many, 3), KC_TOK_OK);
	cr_expect_eq(check("{\"exp\":2000,\"iat\":900}", 1000, 0, many, 3), KC_TOK_MISSING_CLAIM,
	    "sub missing");
	/* Present but null is not a valid exp, whether or not it is required. */
	kc_token_reason r = check("{\"sub\":\"a\",\"exp\":null}", 1000, 0, exp_req, 1);
	cr_expect(r == KC_TOK_BAD_CLAIM || r == KC_TOK_MISSING_CLAIM, "exp null, required: %s",
	    kc_token_reason_name(r));
	/* A claim of the same name nested elsewhere does not count. */
	cr_expect_eq(check("{\"sub\":\"a\",\"x\":{\"exp\":2000}}", 1000, 0, exp_req, 1),
	    KC_TOK_MISSING_CLAIM);
	/* Member names are case-sensitive: "EXP" is not exp. */
	cr_expect_eq(check("{\"sub\":\"a\",\"EXP\":2000}", 1000, 0, exp_req, 1),
	    KC_TOK_MISSING_CLAIM);
	cr_expect_eq(at("{\"sub\":\"a\",\"EXP\":1}", 1000, 0), KC_TOK_OK, "EXP is not checked");
}

/* The claims must be an object for any of this to apply. */
Test(expiry, claims_not_an_object)
{
	const char *payloads[] = { "[{\"exp\":1}]", "\"exp\"", "1000", "null", "true" };
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
		EXPECT_AT(payloads[i], 1000, 0, KC_TOK_PAYLOAD_NOT_OBJECT);
}
