/* test_claims.c: guards the JWT claim checks (token/claims.h, RFC 7519 §4.1,
 * RFC 8725 §3.8-3.9): exp and nbf boundaries with and without leeway, also
 * for fractional and extreme NumericDates; the types of exp, nbf and iat;
 * iss compared byte for byte; aud as a string or an array of strings;
 * required claims; and the detail output, which names a claim and never
 * repeats token text. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "token/claims.h"

#define EXPECT_REASON(expr, want) do { \
	kc_token_reason r_ = (expr); \
	cr_expect_eq(r_, (want), "%s: got %s, want %s", #expr, \
	    kc_token_reason_name(r_), kc_token_reason_name(want)); \
} while (0)

static kc_token_reason
check_d(const char *claims, const kc_claims_opts *o, char *detail, size_t dlen)
{
	kc_arena *a = kc_arena_new(1024);
	kc_json_error err;
	const kc_json *j = kc_json_parse(a, claims, strlen(claims), 64, &err);
	cr_assert_not_null(j, "test claims are not JSON: %s", claims);
	kc_token_reason r = kc_claims_check(j, o, detail, dlen);
	kc_arena_free(a);
	return r;
}

static kc_token_reason
check(const char *claims, const kc_claims_opts *o)
{
	char detail[128];
	return check_d(claims, o, detail, sizeof detail);
}

/* Checks claims at time `now` with leeway and no other option. */
static kc_token_reason
at(const char *claims, int64_t now, int64_t leeway)
{
	kc_claims_opts o = { .now = now, .leeway = leeway };
	return check(claims, &o);
}

/* The detail written for a failure. */
static void
assert_detail(const char *claims, const kc_claims_opts *o, kc_token_reason want, const char *name)
{
	char detail[128];
	memset(detail, 'Z', sizeof detail);
	detail[sizeof detail - 1] = '\0';
	kc_token_reason r = check_d(claims, o, detail, sizeof detail);
	cr_expect_eq(r, want, "%s: got %s, want %s", claims, kc_token_reason_name(r),
	    kc_token_reason_name(want));
	if (r == want)
		cr_expect_str_eq(detail, name, "%s: detail \"%s\", want \"%s\"", claims, detail, name);
}

Test(claims, nothing_to_check)
{
	EXPECT_REASON(at("{}", 1700000000, 0), KC_TOK_OK);
	EXPECT_REASON(at("{\"sub\":\"alice\",\"foo\":[1,{\"x\":null}]}", 0, 0), KC_TOK_OK);
}

/* RFC 7519 §4.1.4: valid iff now < exp + leeway. */
Test(claims, exp_boundaries)
{
	const char *c = "{\"exp\":1000}";
	EXPECT_REASON(at(c, 0, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 999, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 1000, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at(c, 1001, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at(c, 1009, 10), KC_TOK_OK);
	EXPECT_REASON(at(c, 1010, 10), KC_TOK_EXPIRED);
	EXPECT_REASON(at(c, 4000000000, 10), KC_TOK_EXPIRED);
	EXPECT_REASON(at("{\"exp\":0}", 0, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at("{\"exp\":-5}", 1, 0), KC_TOK_EXPIRED);
}

/* RFC 7519 §4.1.5: valid iff now >= nbf - leeway. */
Test(claims, nbf_boundaries)
{
	const char *c = "{\"nbf\":1000}";
	EXPECT_REASON(at(c, 1000, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 5000, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 999, 0), KC_TOK_NOT_YET_VALID);
	EXPECT_REASON(at(c, 0, 0), KC_TOK_NOT_YET_VALID);
	EXPECT_REASON(at(c, 995, 5), KC_TOK_OK);
	EXPECT_REASON(at(c, 994, 5), KC_TOK_NOT_YET_VALID);
}

Test(claims, exp_and_nbf_window)
{
	const char *c = "{\"nbf\":100,\"iat\":100,\"exp\":200}";
	EXPECT_REASON(at(c, 99, 0), KC_TOK_NOT_YET_VALID);
	EXPECT_REASON(at(c, 100, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 199, 0), KC_TOK_OK);
	EXPECT_REASON(at(c, 200, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at(c, 95, 5), KC_TOK_OK);
	EXPECT_REASON(at(c, 204, 5), KC_TOK_OK);
	EXPECT_REASON(at(c, 205, 5), KC_TOK_EXPIRED);
}

/* NumericDate may be non-integer (RFC 7519 §2). */
Test(claims, fractional_dates)
{
	EXPECT_REASON(at("{\"exp\":1000.5}", 1000, 0), KC_TOK_OK);
	EXPECT_REASON(at("{\"exp\":1000.5}", 1001, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at("{\"exp\":1.0005e3}", 1001, 0), KC_TOK_EXPIRED);
	EXPECT_REASON(at("{\"nbf\":1000.5}", 1000, 0), KC_TOK_NOT_YET_VALID);
	EXPECT_REASON(at("{\"nbf\":1000.5}", 1001, 0), KC_TOK_OK);
	EXPECT_REASON(at("{\"exp\":1e3}", 999, 0), KC_TOK_OK);
	EXPECT_REASON(at("{\"exp\":1e3}", 1000, 0), KC_TOK_EXPIRED);
}

/* Extreme values must neither overflow (the sanitizer build traps signed
 * overflow) nor turn an expired token into a valid one. */
Test(claims, extreme_dates)
{
	static const char *far_future[] = {
		"{\"exp\":9223372036854775807}", "{\"exp\":9223372036854775808}",
		"{\"exp\":1e300}", "{\"exp\":18446744073709551616}",
	};
	for (size_t i = 0; i < sizeof far_future / sizeof far_future[0]; i++) {
		kc_token_reason r = at(far_future[i], 1700000000, 3600);
		cr_assert(r == KC_TOK_OK || r == KC_TOK_BAD_CLAIM, "%s: %s", far_future[i],
		    kc_token_reason_name(r));
	}
	static const char *far_past[] = {
		"{\"exp\":-9223372036854775808}", "{\"exp\":-9223372036854775809}", "{\"exp\":-1e300}",
	};
	for (size_t i = 0; i < sizeof far_past / sizeof far_past[0]; i++) {
		kc_token_reason r = at(far_past[i], 1700000000, 3600);
		cr_assert(r == KC_TOK_EXPIRED || r == KC_TOK_BAD_CLAIM, "%s: %s", far_past[i],
		    kc_token_reason_name(r));
	}
	kc_token_reason r = at("{\"nbf\":-9223372036854775808}", 1700000000, 3600);
	cr_assert(r == KC_TOK_OK || r == KC_TOK_BAD_CLAIM, "nbf INT64_MIN: %s", kc_token_reason_name(r));
	r = at("{\"nbf\":9223372036854775807}", 1700000000, 3600);
	cr_assert(r == KC_TOK_NOT_YET_VALID || r == KC_TOK_BAD_CLAIM, "nbf INT64_MAX: %s",
	    kc_token_reason_name(r));
	r = at("{\"nbf\":1e300}", 1700000000, 3600);
	cr_assert(r == KC_TOK_NOT_YET_VALID || r == KC_TOK_BAD_CLAIM, "nbf 1e300: %s",
	    kc_token_reason_name(r));
}

/* exp, nbf and iat are JSON numbers, never strings or anything else. */
Test(claims, numeric_date_types)
{
	static const char *values[] = { "\"1000\"", "true", "false", "[1000]", "{}", "\"\"" };
	static const char *names[] = { "exp", "nbf", "iat" };
	for (size_t n = 0; n < 3; n++) {
		for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
			char c[64];
			snprintf(c, sizeof c, "{\"%s\":%s}", names[n], values[v]);
			kc_claims_opts o = { .now = 500 };
			assert_detail(c, &o, KC_TOK_BAD_CLAIM, names[n]);
		}
	}
	/* iat is any number; only its type is checked */
	EXPECT_REASON(at("{\"iat\":5}", 1000, 0), KC_TOK_OK);
	EXPECT_REASON(at("{\"iat\":1000.25}", 1000, 0), KC_TOK_OK);
	/* a bad type is refused even when the other dates are fine */
	EXPECT_REASON(at("{\"exp\":2000,\"nbf\":\"0\"}", 1000, 0), KC_TOK_BAD_CLAIM);
}

/* null is not a number either: "exp":null must not read as "no exp". */
Test(claims, numeric_date_null)
{
	static const char *names[] = { "exp", "nbf", "iat" };
	for (size_t n = 0; n < 3; n++) {
		char c[64];
		snprintf(c, sizeof c, "{\"%s\":null}", names[n]);
		kc_claims_opts o = { .now = 500 };
		assert_detail(c, &o, KC_TOK_BAD_CLAIM, names[n]);
	}
}

/* ---- iss */

Test(claims, issuer_exact)
{
	kc_claims_opts o = { .issuer = "https://issuer.example", .now = 1000 };
	EXPECT_REASON(check("{\"iss\":\"https://issuer.example\"}", &o), KC_TOK_OK);
	/* the same string with JSON escapes */
	EXPECT_REASON(check("{\"iss\":\"https:\\/\\/issuer.example\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"iss\":\"\\u0068ttps://issuer.example\"}", &o), KC_TOK_OK);
	static const char *bad[] = {
		"{\"iss\":\"https://issuer.example/\"}", "{\"iss\":\"https://ISSUER.example\"}",
		"{\"iss\":\"HTTPS://issuer.example\"}", "{\"iss\":\"https://issuer.exampl\"}",
		"{\"iss\":\"https://issuer.example.evil\"}", "{\"iss\":\" https://issuer.example\"}",
		"{\"iss\":\"https://issuer.example \"}", "{\"iss\":\"\"}", "{}",
		"{\"sub\":\"https://issuer.example\"}", "{\"ISS\":\"https://issuer.example\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_detail(bad[i], &o, KC_TOK_ISSUER_MISMATCH, "iss");
	static const char *wrong_type[] = {
		"{\"iss\":null}", "{\"iss\":[\"https://issuer.example\"]}", "{\"iss\":5}",
		"{\"iss\":{\"https://issuer.example\":1}}",
	};
	for (size_t i = 0; i < sizeof wrong_type / sizeof wrong_type[0]; i++) {
		kc_token_reason r = check(wrong_type[i], &o);
		cr_assert(r == KC_TOK_ISSUER_MISMATCH || r == KC_TOK_BAD_CLAIM, "%s: %s",
		    wrong_type[i], kc_token_reason_name(r));
	}
}

Test(claims, issuer_not_checked_when_unset)
{
	kc_claims_opts o = { .now = 1000 };
	EXPECT_REASON(check("{\"iss\":\"https://anyone.example\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{}", &o), KC_TOK_OK);
}

/* ---- aud */

Test(claims, audience_string_and_array)
{
	const char *const auds[] = { "api" };
	kc_claims_opts o = { .audiences = auds, .n_audiences = 1, .now = 1000 };
	EXPECT_REASON(check("{\"aud\":\"api\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":[\"api\"]}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":[\"other\",\"api\"]}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":[\"api\",\"other\"]}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":\"\\u0061pi\"}", &o), KC_TOK_OK);
	static const char *bad[] = {
		"{\"aud\":\"API\"}", "{\"aud\":\"api \"}", "{\"aud\":\"ap\"}", "{\"aud\":\"apis\"}",
		"{\"aud\":\"\"}", "{\"aud\":[]}", "{\"aud\":[\"other\"]}", "{\"aud\":[\"a\",\"pi\"]}",
		"{\"aud\":\"api,other\"}", "{\"aud\":\"other api\"}", "{}", "{\"AUD\":\"api\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_detail(bad[i], &o, KC_TOK_AUDIENCE_MISMATCH, "aud");
}

/* aud is a string or an array of strings; other shapes never match. */
Test(claims, audience_wrong_types)
{
	const char *const auds[] = { "api" };
	kc_claims_opts o = { .audiences = auds, .n_audiences = 1, .now = 1000 };
	static const char *bad[] = {
		"{\"aud\":5}", "{\"aud\":null}", "{\"aud\":true}", "{\"aud\":{\"api\":true}}",
		"{\"aud\":[5]}", "{\"aud\":[[\"api\"]]}", "{\"aud\":[null]}", "{\"aud\":[{\"aud\":\"api\"}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kc_token_reason r = check(bad[i], &o);
		cr_assert(r == KC_TOK_AUDIENCE_MISMATCH || r == KC_TOK_BAD_CLAIM, "%s: %s", bad[i],
		    kc_token_reason_name(r));
	}
	/* non-string members next to the right one: the array is not an array
	 * of strings, so it may be refused; it must never be accepted for the
	 * wrong reason, and a matching string must not hide a bad type */
	static const char *mixed[] = { "{\"aud\":[\"api\",5]}", "{\"aud\":[5,\"api\"]}",
		"{\"aud\":[null,\"api\"]}" };
	for (size_t i = 0; i < sizeof mixed / sizeof mixed[0]; i++) {
		kc_token_reason r = check(mixed[i], &o);
		cr_assert(r == KC_TOK_OK || r == KC_TOK_BAD_CLAIM || r == KC_TOK_AUDIENCE_MISMATCH,
		    "%s: %s", mixed[i], kc_token_reason_name(r));
	}
	static const char *mixed_no_match[] = { "{\"aud\":[\"x\",5]}", "{\"aud\":[5,\"apix\"]}" };
	for (size_t i = 0; i < 2; i++) {
		kc_token_reason r = check(mixed_no_match[i], &o);
		cr_assert(r == KC_TOK_BAD_CLAIM || r == KC_TOK_AUDIENCE_MISMATCH, "%s: %s",
		    mixed_no_match[i], kc_token_reason_name(r));
	}
}

Test(claims, several_audiences)
{
	const char *const auds[] = { "a", "b" };
	kc_claims_opts o = { .audiences = auds, .n_audiences = 2, .now = 1000 };
	EXPECT_REASON(check("{\"aud\":\"a\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":\"b\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":[\"c\",\"b\"]}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"aud\":\"c\"}", &o), KC_TOK_AUDIENCE_MISMATCH);
	EXPECT_REASON(check("{\"aud\":[\"c\",\"ab\"]}", &o), KC_TOK_AUDIENCE_MISMATCH);
}

Test(claims, audience_not_checked_when_unset)
{
	kc_claims_opts o = { .now = 1000 };
	EXPECT_REASON(check("{\"aud\":\"whoever\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{}", &o), KC_TOK_OK);
	const char *const auds[] = { "api" };
	kc_claims_opts z = { .audiences = auds, .n_audiences = 0, .now = 1000 };
	EXPECT_REASON(check("{}", &z), KC_TOK_OK);
}

/* ---- required claims */

Test(claims, required)
{
	const char *const req[] = { "sub", "scope" };
	kc_claims_opts o = { .required = req, .n_required = 2, .now = 1000 };
	EXPECT_REASON(check("{\"sub\":\"alice\",\"scope\":\"read\"}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"sub\":\"alice\",\"scope\":\"\"}", &o), KC_TOK_OK);
	assert_detail("{\"sub\":\"alice\"}", &o, KC_TOK_MISSING_CLAIM, "scope");
	assert_detail("{\"scope\":\"read\"}", &o, KC_TOK_MISSING_CLAIM, "sub");
	assert_detail("{\"Scope\":\"read\",\"sub\":\"x\"}", &o, KC_TOK_MISSING_CLAIM, "scope");
	/* names are matched exactly, and only at the top level */
	assert_detail("{\"sub\":\"x\",\"x\":{\"scope\":\"read\"}}", &o, KC_TOK_MISSING_CLAIM, "scope");
}

/* exp/nbf are optional unless required; then a missing one is refused. */
Test(claims, required_exp_and_nbf)
{
	const char *const req[] = { "exp" };
	kc_claims_opts o = { .required = req, .n_required = 1, .now = 1000 };
	assert_detail("{\"sub\":\"alice\"}", &o, KC_TOK_MISSING_CLAIM, "exp");
	EXPECT_REASON(check("{\"exp\":2000}", &o), KC_TOK_OK);
	EXPECT_REASON(check("{\"exp\":500}", &o), KC_TOK_EXPIRED);
	const char *const req2[] = { "nbf" };
	kc_claims_opts o2 = { .required = req2, .n_required = 1, .now = 1000 };
	assert_detail("{\"exp\":2000}", &o2, KC_TOK_MISSING_CLAIM, "nbf");
	EXPECT_REASON(check("{\"nbf\":999}", &o2), KC_TOK_OK);
	/* absent and not required: not checked */
	EXPECT_REASON(at("{\"sub\":\"alice\"}", 1000, 0), KC_TOK_OK);
}

/* ---- detail */

Test(claims, detail_names_the_claim)
{
	kc_claims_opts o = { .now = 2000 };
	assert_detail("{\"exp\":1000}", &o, KC_TOK_EXPIRED, "exp");
	o.now = 10;
	assert_detail("{\"nbf\":1000}", &o, KC_TOK_NOT_YET_VALID, "nbf");
}

/* detail never carries text from the token: claim values an attacker chose
 * would otherwise reach the logs. */
Test(claims, detail_has_no_token_text)
{
	const char *const auds[] = { "api" };
	const char *const req[] = { "scope" };
	kc_claims_opts o = { .issuer = "https://issuer.example", .audiences = auds,
		.n_audiences = 1, .required = req, .n_required = 1, .now = 1000 };
	static const char *tokens[] = {
		"{\"iss\":\"EVIL-MARKER\",\"aud\":\"api\",\"scope\":\"x\"}",
		"{\"iss\":\"https://issuer.example\",\"aud\":\"EVIL-MARKER\",\"scope\":\"x\"}",
		"{\"iss\":\"https://issuer.example\",\"aud\":[\"EVIL-MARKER\"],\"scope\":\"x\"}",
		"{\"iss\":\"https://issuer.example\",\"aud\":\"api\",\"exp\":\"EVIL-MARKER\"}",
		"{\"iss\":\"https://issuer.example\",\"aud\":\"api\",\"EVIL-MARKER\":1}",
	};
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		char detail[256] = "";
		kc_token_reason r = check_d(tokens[i], &o, detail, sizeof detail);
		cr_assert_neq(r, KC_TOK_OK, "%s", tokens[i]);
		cr_assert_null(strstr(detail, "EVIL"), "detail \"%s\" repeats token text", detail);
		cr_assert_null(strchr(detail, '\n'));
	}
}

Test(claims, detail_is_bounded)
{
	const char *const req[] = { "a_rather_long_claim_name" };
	kc_claims_opts o = { .required = req, .n_required = 1, .now = 1000 };
	char buf[16];
	memset(buf, 'Q', sizeof buf);
	EXPECT_REASON(check_d("{}", &o, buf, 5), KC_TOK_MISSING_CLAIM);
	cr_assert_eq(buf[4], '\0', "detail not NUL-terminated within detail_len");
	cr_assert_eq(strncmp(buf, "a_ra", 4), 0);
	for (size_t i = 5; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 'Q', "wrote past detail_len at %zu", i);
	/* NULL detail is allowed */
	EXPECT_REASON(check_d("{}", &o, NULL, 0), KC_TOK_MISSING_CLAIM);
	/* a zero detail_len writes nothing */
	memset(buf, 'Q', sizeof buf);
	EXPECT_REASON(check_d("{}", &o, buf, 0), KC_TOK_MISSING_CLAIM);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 'Q', "wrote into a zero-length detail at %zu", i);
}
