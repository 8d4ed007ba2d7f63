/* reason.h: why a token was refused, one enum for the whole token stage.
 *
 * Every reason has a fixed message that never contains token bytes, and maps
 * to an RFC 6750 §3.1 error code. KC_TOK_INTERNAL is keycard's own failure
 * (keys unavailable, out of memory): it must become a 503, never a 401. */
#ifndef KC_TOKEN_REASON_H
#define KC_TOKEN_REASON_H

#include <stdbool.h>

typedef enum kc_token_reason {
	KC_TOK_OK = 0,
	KC_TOK_TOO_LARGE,          /* longer than the configured maximum */
	KC_TOK_MALFORMED,          /* not three base64url segments */
	KC_TOK_BAD_BASE64,         /* a segment is not canonical base64url */
	KC_TOK_BAD_JSON,           /* header or payload is not valid JSON */
	KC_TOK_DUPLICATE_MEMBER,   /* a JSON object repeats a member name */
	KC_TOK_TOO_DEEP,           /* JSON nested deeper than KC_JSON_MAX_DEPTH */
	KC_TOK_BAD_HEADER,         /* header not an object, alg/kid/typ of wrong type */
	KC_TOK_ALG_NONE,           /* "none", in any casing */
	KC_TOK_ALG_UNKNOWN,        /* alg keycard does not implement */
	KC_TOK_ALG_NOT_ALLOWED,    /* alg outside the allow-list */
	KC_TOK_CRIT_UNSUPPORTED,   /* crit names an extension keycard does not implement */
	KC_TOK_TYP_MISMATCH,       /* typ is not the required one (RFC 9068 at+jwt) */
	KC_TOK_KEY_NOT_FOUND,      /* no key with this kid / none fits the alg */
	KC_TOK_KEY_AMBIGUOUS,      /* several keys fit and the token does not say which */
	KC_TOK_BAD_SIGNATURE,      /* signature does not verify (or has the wrong form) */
	KC_TOK_PAYLOAD_NOT_OBJECT, /* a JWT's claims must be a JSON object */
	KC_TOK_BAD_CLAIM,          /* a registered claim has the wrong type or range */
	KC_TOK_EXPIRED,            /* now >= exp + leeway */
	KC_TOK_NOT_YET_VALID,      /* now < nbf - leeway */
	KC_TOK_ISSUER_MISMATCH,    /* iss missing or not the configured issuer */
	KC_TOK_AUDIENCE_MISMATCH,  /* aud missing or does not name us */
	KC_TOK_MISSING_CLAIM,      /* a required claim is absent */
	KC_TOK_INTERNAL,           /* keycard's own failure: 503, never 401 */
	KC_TOK__COUNT
} kc_token_reason;

/* Fixed, lower-case, one-line message, e.g. "token expired". */
const char *kc_token_reason_message(kc_token_reason r);
/* Short stable identifier for logs and JSON, e.g. "expired". */
const char *kc_token_reason_name(kc_token_reason r);
/* RFC 6750 error code: "invalid_token", or NULL for KC_TOK_OK and KC_TOK_INTERNAL. */
const char *kc_token_reason_oauth_error(kc_token_reason r);
/* True when the failure is ours (503), not the client's (401). */
bool kc_token_reason_is_internal(kc_token_reason r);

#endif
