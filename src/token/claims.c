/* claims.c: registered JWT claim checks (RFC 7519 §4.1). */
#include "config.h"

#include "token/claims.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void
set_detail(char *detail, size_t len, const char *name)
{
	if (detail != NULL && len > 0)
		snprintf(detail, len, "%s", name);
}

/* A member that is absent or JSON null counts as absent. */
static const kc_json *
claim(const kc_json *claims, const char *name)
{
	const kc_json *v = kc_json_get(claims, name);
	return v != NULL && kc_json_typeof(v) == KC_JSON_NULL ? NULL : v;
}

/* now < exp + leeway, computed without overflow. */
static bool
before_exp(const kc_json *exp, int64_t now, int64_t leeway)
{
	int64_t e;
	if (kc_json_integer(exp, &e)) {
		if (e > 0 && leeway > INT64_MAX - e)
			return true;
		return now < e + leeway;
	}
	return (double)now < kc_json_number(exp) + (double)leeway;
}

/* now >= nbf - leeway, computed without overflow. */
static bool
after_nbf(const kc_json *nbf, int64_t now, int64_t leeway)
{
	int64_t n;
	if (kc_json_integer(nbf, &n)) {
		if (n < 0 && leeway > n - INT64_MIN)
			return true;
		return now >= n - leeway;
	}
	return (double)now >= kc_json_number(nbf) - (double)leeway;
}

static bool
string_equals(const kc_json *v, const char *s)
{
	return kc_json_string_equals(v, s, strlen(s));
}

kc_token_reason
kc_claims_check(const kc_json *claims, const kc_claims_opts *o, char *detail, size_t dlen)
{
	static const char *const numeric[] = { "exp", "nbf", "iat" };
	static const char *const strings[] = { "iss", "sub", "jti" };
	int64_t leeway = o->leeway > 0 ? o->leeway : 0;

	if (!kc_json_is_object(claims))
		return KC_TOK_PAYLOAD_NOT_OBJECT;

	/* RFC 7519 §2: NumericDate is a JSON number; a string, bool or null is
	 * not (a null exp must never read as "no expiry"). */
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		const kc_json *v = kc_json_get(claims, numeric[i]);
		if (v != NULL && !kc_json_is_number(v)) {
			set_detail(detail, dlen, numeric[i]);
			return KC_TOK_BAD_CLAIM;
		}
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const kc_json *v = kc_json_get(claims, strings[i]);
		if (v != NULL && !kc_json_is_string(v)) {
			set_detail(detail, dlen, strings[i]);
			return KC_TOK_BAD_CLAIM;
		}
	}
	const kc_json *aud = kc_json_get(claims, "aud");
	if (aud != NULL && !kc_json_is_string(aud)) {
		if (!kc_json_is_array(aud)) {
			set_detail(detail, dlen, "aud");
			return KC_TOK_BAD_CLAIM;
		}
		for (size_t i = 0; i < kc_json_size(aud); i++) {
			if (!kc_json_is_string(kc_json_at(aud, i))) {
				set_detail(detail, dlen, "aud");
				return KC_TOK_BAD_CLAIM;
			}
		}
	}

	for (size_t i = 0; i < o->n_required; i++) {
		if (claim(claims, o->required[i]) == NULL) {
			set_detail(detail, dlen, o->required[i]);
			return KC_TOK_MISSING_CLAIM;
		}
	}

	/* RFC 7519 §4.1.4: valid iff now < exp (+ leeway for clock skew). */
	const kc_json *exp = claim(claims, "exp");
	if (exp != NULL && !before_exp(exp, o->now, leeway)) {
		set_detail(detail, dlen, "exp");
		return KC_TOK_EXPIRED;
	}
	/* RFC 7519 §4.1.5: valid iff now >= nbf (- leeway). */
	const kc_json *nbf = claim(claims, "nbf");
	if (nbf != NULL && !after_nbf(nbf, o->now, leeway)) {
		set_detail(detail, dlen, "nbf");
		return KC_TOK_NOT_YET_VALID;
	}

	/* RFC 7519 §4.1.1: iss compared as a case-sensitive string, byte for byte. */
	if (o->issuer != NULL && !string_equals(claim(claims, "iss"), o->issuer)) {
		set_detail(detail, dlen, "iss");
		return KC_TOK_ISSUER_MISMATCH;
	}

	/* RFC 7519 §4.1.3: we must find ourselves among the audiences. */
	if (o->n_audiences > 0) {
		bool found = false;
		for (size_t j = 0; j < o->n_audiences && !found; j++) {
			if (kc_json_is_string(aud)) {
				found = string_equals(aud, o->audiences[j]);
			} else {
				for (size_t i = 0; i < kc_json_size(aud); i++)
					if (string_equals(kc_json_at(aud, i), o->audiences[j]))
						found = true;
			}
		}
		if (!found) {
			set_detail(detail, dlen, "aud");
			return KC_TOK_AUDIENCE_MISMATCH;
		}
	}
	return KC_TOK_OK;
}
