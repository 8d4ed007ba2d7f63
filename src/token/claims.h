/* claims.h: JWT claim checks (RFC 7519 §4.1, RFC 8725 §3.8-3.9).
 *
 * exp, nbf and iat are NumericDates and must be JSON numbers when present
 * (null is not a number); iss, sub and jti strings; the token is valid
 * iff now < exp + leeway and now >= nbf - leeway (either check is skipped
 * when the claim is absent, unless it is required; a required claim that is
 * null counts as absent). iss is compared byte for byte; aud may be a string or an
 * array of strings and must contain one of the configured audiences. */
#ifndef KC_TOKEN_CLAIMS_H
#define KC_TOKEN_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "token/reason.h"

typedef struct kc_claims_opts {
	const char *issuer;            /* NULL: not checked */
	const char *const *audiences;  /* any one must appear in aud; NULL/0: not checked */
	size_t n_audiences;
	const char *const *required;   /* claim names that must be present */
	size_t n_required;
	int64_t leeway;                /* seconds, >= 0 */
	int64_t now;                   /* seconds since the epoch */
} kc_claims_opts;

/* Checks the claims object. On failure, if detail is not NULL, writes the
 * name of the offending claim into detail: a registered claim name or one
 * from the configuration, never text from the token. */
kc_token_reason kc_claims_check(const kc_json *claims, const kc_claims_opts *opts,
    char *detail, size_t detail_len);

#endif
