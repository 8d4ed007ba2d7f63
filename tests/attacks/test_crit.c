/* test_crit.c: the "crit" header parameter (RFC 7515 §4.1.11, RFC 7797).
 *
 * "crit" lists header extensions the recipient must understand and process;
 * a recipient that does not understand one must reject the JWS. Ignoring it
 * lets a token claim semantics the verifier never applies: RFC 7797's
 * "b64":false changes what was signed (the payload unencoded), and an
 * issuer may mark a time limit or binding as critical precisely so that
 * verifiers that cannot enforce it refuse the token. keycard implements no
 * extension, so any "crit", of any value or type, is refused as
 * KC_TOK_CRIT_UNSUPPORTED (jws.h), even when every other check passes.
 * Header parameters that are not marked critical are simply ignored. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *
signer(void)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "k", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	return s;
}

Test(crit, crit_present_is_refused)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"exp\"],\"exp\":4102444800}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"x-bank\"],\"x-bank\":{\"amount\":1}}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"b64\"],\"b64\":true}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"b64\"],\"b64\":false}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"exp\",\"exp\"],\"exp\":1}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"http://example.com/ext\"]}",
		/* RFC 7515 forbids these in crit: refused all the same. */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"alg\"]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"kid\",\"typ\"]}",
		"{\"crit\":[\"exp\"],\"alg\":\"ES256\",\"exp\":1}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_CRIT_UNSUPPORTED, "%s", headers[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* crit that is not an array of strings: malformed, and refused either as
 * such or as an unsupported extension, never ignored. */
Test(crit, crit_of_the_wrong_type)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *crits[] = { "\"b64\"", "\"\"", "null", "true", "false", "0", "1", "{}",
		"{\"b64\":true}", "[1]", "[null]", "[[\"b64\"]]", "[\"\"]" };
	for (size_t i = 0; i < sizeof crits / sizeof crits[0]; i++) {
		char hdr[128];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":%s}", crits[i]);
		char *tok = kct_sign_raw(s, hdr, claims);
		kc_token_reason r = kct_jws(ks, tok);
		cr_expect(r == KC_TOK_CRIT_UNSUPPORTED || r == KC_TOK_BAD_HEADER, "crit %s: %s",
		    crits[i], kc_token_reason_name(r));
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* RFC 7797 §4 example: "b64":false with a detached, unencoded payload "$.02".
 * The signature covers header "." "$.02"; keycard must neither understand
 * nor accept it, with crit (refused up front) or without (then it is just
 * a wrong signature over an empty payload). */
Test(crit, b64_false_unencoded_payload)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"b64\":false,\"crit\":[\"b64\"]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"b64\":false}",
	};
	const kc_token_reason want[] = { KC_TOK_CRIT_UNSUPPORTED, KC_TOK_BAD_SIGNATURE };
	for (size_t i = 0; i < 2; i++) {
		char *h = kc_b64url_encode_alloc((const unsigned char *)headers[i],
		    strlen(headers[i]));
		size_t hl = strlen(h);
		char *input = malloc(hl + 8);
		sprintf(input, "%s.$.02", h);
		size_t siglen = 0;
		unsigned char *sig = kc_signer_sign_bytes(s, (unsigned char *)input, strlen(input),
		    &siglen);
		cr_assert_not_null(sig);
		char *sb = kc_b64url_encode_alloc(sig, siglen);
		char *tok = malloc(hl + strlen(sb) + 3);
		sprintf(tok, "%s..%s", h, sb); /* detached */
		cr_expect_eq(kct_jws(ks, tok), want[i], "detached: %s", headers[i]);
		free(tok);
		tok = malloc(hl + strlen(sb) + 8);
		sprintf(tok, "%s.$.02.%s", h, sb); /* inline, as RFC 7797 forbids with a '.' */
		cr_expect_neq(kct_jws(ks, tok), KC_TOK_OK, "inline: %s", headers[i]);
		free(tok);
		free(sb);
		free(sig);
		free(input);
		free(h);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

Test(crit, through_the_jwt_verifier)
{
	kc_signer *s = signer();
	char *tok = kct_sign_raw(s, "{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"exp\"],\"exp\":1}",
	    claims);
	cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000), KC_TOK_CRIT_UNSUPPORTED);
	free(tok);
	kc_signer_free(s);
}

/* Controls: the same headers without crit verify, and extension parameters
 * that are not critical are ignored (RFC 7515 §4: unknown ones MUST be
 * ignored unless listed in crit). */
Test(crit, non_critical_extensions_are_ignored)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":\"ES256\",\"kid\":\"k\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"exp\":4102444800}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"x-bank\":{\"amount\":1}}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"Crit\":[\"exp\"]}", /* not "crit" */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"b64\":true}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "%s", headers[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}
