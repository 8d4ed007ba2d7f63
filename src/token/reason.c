/* reason.c: fixed messages for token rejections; none ever holds token bytes. */
#include "config.h"

#include "token/reason.h"

#include <stddef.h>

static const struct {
	const char *name;
	const char *message;
} reasons[KC_TOK__COUNT] = {
	[KC_TOK_OK] = { "ok", "token valid" },
	[KC_TOK_TOO_LARGE] = { "too_large", "token too large" },
	[KC_TOK_MALFORMED] = { "malformed", "token is not a compact JWS (three base64url segments)" },
	[KC_TOK_BAD_BASE64] = { "bad_base64url", "token segment is not canonical base64url" },
	[KC_TOK_BAD_JSON] = { "bad_json", "token header or payload is not valid JSON" },
	[KC_TOK_DUPLICATE_MEMBER] = { "duplicate_member", "token JSON repeats a member name" },
	[KC_TOK_TOO_DEEP] = { "too_deep", "token JSON is nested too deeply" },
	[KC_TOK_BAD_HEADER] = { "bad_header", "token header is invalid" },
	[KC_TOK_ALG_NONE] = { "alg_none", "unsigned token (alg none) refused" },
	[KC_TOK_ALG_UNKNOWN] = { "alg_unknown", "token algorithm not supported" },
	[KC_TOK_ALG_NOT_ALLOWED] = { "alg_not_allowed", "token algorithm not allowed" },
	[KC_TOK_CRIT_UNSUPPORTED] = { "crit_unsupported", "token header has unsupported critical parameters" },
	[KC_TOK_TYP_MISMATCH] = { "typ_mismatch", "token type (typ) not accepted" },
	[KC_TOK_KEY_NOT_FOUND] = { "key_not_found", "no key found for the token's kid and algorithm" },
	[KC_TOK_KEY_AMBIGUOUS] = { "key_ambiguous", "several keys match the token; it must name one with kid" },
	[KC_TOK_BAD_SIGNATURE] = { "bad_signature", "token signature invalid" },
	[KC_TOK_PAYLOAD_NOT_OBJECT] = { "payload_not_object", "token payload is not a JSON object" },
	[KC_TOK_BAD_CLAIM] = { "bad_claim", "token claim has an invalid type or value" },
	[KC_TOK_EXPIRED] = { "expired", "token expired" },
	[KC_TOK_NOT_YET_VALID] = { "not_yet_valid", "token not yet valid (nbf)" },
	[KC_TOK_ISSUER_MISMATCH] = { "issuer_mismatch", "token issuer not accepted" },
	[KC_TOK_AUDIENCE_MISMATCH] = { "audience_mismatch", "token audience not accepted" },
	[KC_TOK_MISSING_CLAIM] = { "missing_claim", "token lacks a required claim" },
	[KC_TOK_INTERNAL] = { "internal", "internal error while verifying the token" },
};

const char *
kc_token_reason_message(kc_token_reason r)
{
	return (unsigned)r < KC_TOK__COUNT ? reasons[r].message : "unknown token error";
}

const char *
kc_token_reason_name(kc_token_reason r)
{
	return (unsigned)r < KC_TOK__COUNT ? reasons[r].name : "unknown";
}

const char *
kc_token_reason_oauth_error(kc_token_reason r)
{
	/* RFC 6750 §3.1: every client-side token problem is invalid_token. */
	if (r == KC_TOK_OK || r == KC_TOK_INTERNAL)
		return NULL;
	return "invalid_token";
}

bool
kc_token_reason_is_internal(kc_token_reason r)
{
	return r == KC_TOK_INTERNAL || (unsigned)r >= KC_TOK__COUNT;
}
