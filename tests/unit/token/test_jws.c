/* test_jws.c: guards the signature layer (token/jws.h): the size limit and
 * its boundary, the three-segment structure, strict base64url, the header
 * checks in their documented order (JSON object without duplicates or deep
 * nesting, alg known and never "none", the allow-list, crit, typ for RFC 9068
 * at+jwt, kid a string), key choice and the signature; that the payload is
 * passed through as bytes; and kc_jws_parse_json for token parts. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "../../common/testutil.h"
#include "token/b64url.h"
#include "token/jws.h"

static kc_signer *es256;
static kc_keyset *ks;

static void
setup(void)
{
	char err[256] = "";
	es256 = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof err);
	cr_assert_not_null(es256, "%s", err);
	ks = kct_keyset_of(es256);
}

static void
teardown(void)
{
	kc_keyset_free(ks);
	kc_signer_free(es256);
}

TestSuite(jws, .init = setup, .fini = teardown);

static kc_token_reason
verify_opts(const char *tok, size_t len, const kc_jws_opts *opts)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	kc_jws out;
	memset(&out, 0x5A, sizeof out);
	kc_token_reason r = kc_jws_verify(ks, tok, len, opts, a, &out);
	if (r == KC_TOK_OK) {
		cr_assert_not_null(out.header);
		cr_assert_not_null(out.key);
	}
	kc_arena_free(a);
	return r;
}

static kc_token_reason
verify(const char *tok)
{
	kc_jws_opts o = { 0 };
	return verify_opts(tok, strlen(tok), &o);
}

/* Signs header/payload with the suite's ES256 key and verifies the result. */
static kc_token_reason
signed_(const char *header, const char *payload)
{
	char *tok = kct_sign_raw(es256, header, payload);
	kc_token_reason r = verify(tok);
	free(tok);
	return r;
}

static kc_token_reason
signed_typ(const char *header, const char *want_typ)
{
	char *tok = kct_sign_raw(es256, header, "{}");
	kc_jws_opts o = { .typ = want_typ };
	kc_token_reason r = verify_opts(tok, strlen(tok), &o);
	free(tok);
	return r;
}

#define EXPECT_REASON(expr, want) do { \
	kc_token_reason r_ = (expr); \
	cr_expect_eq(r_, (want), "%s: got %s, want %s", #expr, \
	    kc_token_reason_name(r_), kc_token_reason_name(want)); \
} while (0)

/* ---- accepted tokens and what comes out */

Test(jws, good_token_outputs)
{
	const char payload[] = "{\"sub\":\"alice\"}";
	char *tok = kct_sign(es256, payload);
	kc_arena *a = kc_arena_new(1024);
	kc_jws out;
	kc_jws_opts o = { 0 };
	EXPECT_REASON(kc_jws_verify(ks, tok, strlen(tok), &o, a, &out), KC_TOK_OK);
	cr_assert_eq(out.alg, KC_ALG_ES256);
	cr_assert_eq(out.key, kc_keyset_get(ks, 0));
	cr_assert(kc_json_is_object(out.header));
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "alg"), NULL), "ES256");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "kid"), NULL), "k1");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "typ"), NULL), "JWT");
	cr_assert_eq(out.payload_len, strlen(payload));
	cr_assert_eq(memcmp(out.payload, payload, out.payload_len), 0);
	kc_arena_free(a);
	free(tok);
}

/* The JWS layer accepts any payload bytes: not JSON, empty, binary, or JSON
 * that the claims layer would refuse. */
Test(jws, payload_is_opaque)
{
	static const char *payloads[] = { "hello, world", "", "[1,2,3]", "{\"a\":1,\"a\":2}",
		"\x01\x02\xff\xfe" };
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		char *tok = kct_sign_raw(es256, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", payloads[i]);
		kc_arena *a = kc_arena_new(1024);
		kc_jws out;
		kc_jws_opts o = { 0 };
		EXPECT_REASON(kc_jws_verify(ks, tok, strlen(tok), &o, a, &out), KC_TOK_OK);
		cr_assert_eq(out.payload_len, strlen(payloads[i]));
		cr_assert_eq(memcmp(out.payload, payloads[i], out.payload_len), 0);
		kc_arena_free(a);
		free(tok);
	}
}

Test(jws, arena_reuse)
{
	char *tok = kct_sign(es256, "{\"n\":1}");
	kc_arena *a = kc_arena_new(512);
	kc_jws_opts o = { 0 };
	for (int i = 0; i < 50; i++) {
		kc_jws out;
		EXPECT_REASON(kc_jws_verify(ks, tok, strlen(tok), &o, a, &out), KC_TOK_OK);
		kc_arena_clear(a);
	}
	kc_arena_free(a);
	free(tok);
}

/* ---- size */

/* A token whose length is as close to `target` as possible from below. */
static char *
token_of_length(size_t target)
{
	char *base = kct_sign(es256, "");
	size_t overhead = strlen(base); /* header . . signature */
	free(base);
	cr_assert_lt(overhead, target);
	size_t room = target - overhead; /* encoded payload characters */
	size_t n = (room / 4) * 3 + (room % 4 == 3 ? 2 : room % 4 == 2 ? 1 : 0);
	char *payload = malloc(n + 1);
	memset(payload, 'x', n);
	payload[n] = '\0';
	char *tok = kct_sign(es256, payload);
	free(payload);
	cr_assert_leq(strlen(tok), target);
	cr_assert_geq(strlen(tok) + 1, target, "could not get near %zu", target);
	return tok;
}

Test(jws, max_size_boundary)
{
	char *tok = kct_sign(es256, "{\"sub\":\"alice\",\"pad\":\"0123456789\"}");
	size_t len = strlen(tok);
	kc_jws_opts o = { .max_size = len };
	EXPECT_REASON(verify_opts(tok, len, &o), KC_TOK_OK);
	o.max_size = len - 1;
	EXPECT_REASON(verify_opts(tok, len, &o), KC_TOK_TOO_LARGE);
	o.max_size = 10;
	EXPECT_REASON(verify_opts(tok, len, &o), KC_TOK_TOO_LARGE);
	free(tok);
}

Test(jws, default_limit_is_16k)
{
	char *tok = token_of_length(KC_TOKEN_MAX_SIZE_DEFAULT);
	EXPECT_REASON(verify(tok), KC_TOK_OK);
	free(tok);
	tok = token_of_length(KC_TOKEN_MAX_SIZE_DEFAULT + 4);
	cr_assert_gt(strlen(tok), KC_TOKEN_MAX_SIZE_DEFAULT);
	EXPECT_REASON(verify(tok), KC_TOK_TOO_LARGE);
	/* a larger max_size lets it through */
	kc_jws_opts o = { .max_size = 32 * 1024 };
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_OK);
	free(tok);
}

/* The size is checked first: a huge garbage string is TOO_LARGE, not MALFORMED. */
Test(jws, size_checked_first)
{
	size_t n = 100000;
	char *junk = malloc(n + 1);
	memset(junk, '.', n);
	junk[n] = '\0';
	EXPECT_REASON(verify(junk), KC_TOK_TOO_LARGE);
	free(junk);
}

/* ---- structure and base64url */

Test(jws, segment_count)
{
	EXPECT_REASON(verify(""), KC_TOK_MALFORMED);
	EXPECT_REASON(verify("abc"), KC_TOK_MALFORMED);
	EXPECT_REASON(verify("e30.e30"), KC_TOK_MALFORMED);
	EXPECT_REASON(verify("e30.e30.c2ln.c2ln"), KC_TOK_MALFORMED);
	/* JWE compact serialization: five segments */
	EXPECT_REASON(verify("eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn"), KC_TOK_MALFORMED);
	EXPECT_REASON(verify(".."), KC_TOK_MALFORMED);

	char *tok = kct_sign(es256, "{}");
	size_t n = strlen(tok);
	char *longer = malloc(n + 2);
	snprintf(longer, n + 2, "%s.", tok);
	EXPECT_REASON(verify(longer), KC_TOK_MALFORMED);
	free(longer);
	free(tok);
}

Test(jws, empty_signature_refused)
{
	char *tok = kct_sign(es256, "{}");
	*(strrchr(tok, '.') + 1) = '\0';
	kc_token_reason r = verify(tok);
	cr_assert(r == KC_TOK_MALFORMED || r == KC_TOK_BAD_BASE64,
	    "empty signature: %s", kc_token_reason_name(r));
	free(tok);
}

Test(jws, non_canonical_base64url)
{
	char *tok = kct_sign(es256, "{}");
	char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	size_t n = strlen(tok);
	char buf[1024];
	cr_assert_lt(n + 8, sizeof buf);

	/* padding on the header */
	snprintf(buf, sizeof buf, "%.*s=%s", (int)(d1 - tok), tok, d1);
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	/* padding on the signature (ES256: 64 bytes -> 86 chars, 2 pad chars) */
	snprintf(buf, sizeof buf, "%s==", tok);
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	/* the standard alphabet */
	snprintf(buf, sizeof buf, "%s", tok);
	buf[d2 - tok + 1] = '+';
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	snprintf(buf, sizeof buf, "%s", tok);
	buf[d1 - tok + 1] = '/';
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	/* whitespace inside a segment */
	snprintf(buf, sizeof buf, "%.*s %s", (int)(d2 - tok), tok, d2);
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	/* non-zero unused bits in the last character of the signature:
	 * 86 characters carry 516 bits for 512, so 4 bits are unused */
	snprintf(buf, sizeof buf, "%s", tok);
	char *last = buf + n - 1;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int idx = (int)(strchr(alpha, *last) - alpha);
	*last = alpha[idx | 1];
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	/* an impossible length (1 mod 4) of the payload: "e30AA" */
	snprintf(buf, sizeof buf, "%.*s.e30AA%s", (int)(d1 - tok), tok, d2);
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	free(tok);
}

Test(jws, nul_inside_token)
{
	char *tok = kct_sign(es256, "{}");
	size_t n = strlen(tok);
	char *copy = malloc(n + 1);
	memcpy(copy, tok, n + 1);
	copy[5] = '\0';
	kc_jws_opts o = { 0 };
	cr_assert_neq(verify_opts(copy, n, &o), KC_TOK_OK, "a NUL inside the token was accepted");
	free(copy);
	free(tok);
}

/* ---- header */

Test(jws, header_json)
{
	EXPECT_REASON(signed_("not json", "{}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\"", "{}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\"} x", "{}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(signed_("[\"ES256\"]", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("\"ES256\"", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("null", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", "{}"), KC_TOK_DUPLICATE_MEMBER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":\"k1\",\"kid\":\"k2\"}", "{}"),
	    KC_TOK_DUPLICATE_MEMBER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"x\":{\"a\":1,\"a\":1}}", "{}"),
	    KC_TOK_DUPLICATE_MEMBER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"s\":\"a\\u0000b\"}", "{}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\"}", "{}"), KC_TOK_OK);
}

static char *
nested(const char *prefix, int depth, const char *suffix)
{
	size_t n = strlen(prefix) + 2 * (size_t)depth + strlen(suffix) + 1;
	char *s = malloc(n);
	char *p = s + sprintf(s, "%s", prefix);
	for (int i = 0; i < depth; i++)
		*p++ = '[';
	for (int i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, suffix);
	return s;
}

Test(jws, header_depth)
{
	/* the header object is one level, the arrays the rest */
	char *ok = nested("{\"alg\":\"ES256\",\"x\":", KC_JSON_MAX_DEPTH - 1, "}");
	EXPECT_REASON(signed_(ok, "{}"), KC_TOK_OK);
	char *deep = nested("{\"alg\":\"ES256\",\"x\":", KC_JSON_MAX_DEPTH, "}");
	EXPECT_REASON(signed_(deep, "{}"), KC_TOK_TOO_DEEP);
	char *deeper = nested("{\"alg\":\"ES256\",\"x\":", 5000, "}");
	EXPECT_REASON(signed_(deeper, "{}"), KC_TOK_TOO_DEEP);
	free(ok);
	free(deep);
	free(deeper);
}

Test(jws, alg_member)
{
	/* no alg at all: a malformed header, or an unsecured JWS; refused either way */
	static const char *no_alg[] = { "{}", "{\"kid\":\"k1\"}", "{\"typ\":\"JWT\",\"ALG\":\"ES256\"}" };
	for (size_t i = 0; i < 3; i++) {
		kc_token_reason r = signed_(no_alg[i], "{}");
		cr_assert(r == KC_TOK_BAD_HEADER || r == KC_TOK_ALG_NONE, "%s: %s", no_alg[i],
		    kc_token_reason_name(r));
	}
	EXPECT_REASON(signed_("{\"alg\":256}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":null}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":[\"ES256\"]}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":\"none\"}", "{}"), KC_TOK_ALG_NONE);
	EXPECT_REASON(signed_("{\"alg\":\"NONE\"}", "{}"), KC_TOK_ALG_NONE);
	EXPECT_REASON(signed_("{\"alg\":\"nOnE\"}", "{}"), KC_TOK_ALG_NONE);
	EXPECT_REASON(signed_("{\"alg\":\"es256\"}", "{}"), KC_TOK_ALG_UNKNOWN);
	EXPECT_REASON(signed_("{\"alg\":\"ES257\"}", "{}"), KC_TOK_ALG_UNKNOWN);
	EXPECT_REASON(signed_("{\"alg\":\"\"}", "{}"), KC_TOK_ALG_UNKNOWN);
	EXPECT_REASON(signed_("{\"alg\":\"RSA-OAEP\"}", "{}"), KC_TOK_ALG_UNKNOWN);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\\u0000\"}", "{}"), KC_TOK_BAD_JSON);
}

/* none with an empty signature, the classic form of the attack */
Test(jws, alg_none_unsigned)
{
	char *tok = kct_forge("{\"alg\":\"none\"}", "{\"sub\":\"admin\"}", NULL, 0);
	kc_token_reason r = verify(tok);
	cr_assert(r == KC_TOK_ALG_NONE || r == KC_TOK_MALFORMED || r == KC_TOK_BAD_BASE64,
	    "got %s", kc_token_reason_name(r));
	free(tok);
	unsigned char junk[16] = { 1 };
	tok = kct_forge("{\"alg\":\"None\",\"typ\":\"JWT\"}", "{\"sub\":\"admin\"}", junk, sizeof junk);
	EXPECT_REASON(verify(tok), KC_TOK_ALG_NONE);
	free(tok);
}

Test(jws, allow_list)
{
	char *tok = kct_sign(es256, "{}");
	kc_jws_opts o = { .algs = KC_ALG_BIT(KC_ALG_ES384) };
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_ALG_NOT_ALLOWED);
	o.algs = KC_ALG_BIT(KC_ALG_RS256) | KC_ALG_BIT(KC_ALG_HS256);
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_ALG_NOT_ALLOWED);
	o.algs = KC_ALG_BIT(KC_ALG_RS256) | KC_ALG_BIT(KC_ALG_ES256);
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_OK);
	o.algs = KC_ALG_ALL;
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_OK);
	free(tok);
}

/* algs == 0: only what the keyset can verify. An HS256 token against an EC
 * keyset is refused by the allow-list, before any key is looked at. */
Test(jws, default_allow_list_is_keyset_algs)
{
	unsigned char mac[32] = { 0 };
	char *tok = kct_forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{}", mac, sizeof mac);
	EXPECT_REASON(verify(tok), KC_TOK_ALG_NOT_ALLOWED);
	kc_jws_opts o = { .algs = KC_ALG_ALL };
	EXPECT_REASON(verify_opts(tok, strlen(tok), &o), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	unsigned char sig[96] = { 1 };
	tok = kct_forge("{\"alg\":\"ES384\",\"kid\":\"k1\"}", "{}", sig, sizeof sig);
	EXPECT_REASON(verify(tok), KC_TOK_ALG_NOT_ALLOWED);
	free(tok);
}

Test(jws, crit_refused)
{
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}"),
	    KC_TOK_CRIT_UNSUPPORTED);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":true}", "{}"),
	    KC_TOK_CRIT_UNSUPPORTED);
	kc_token_reason r = signed_("{\"alg\":\"ES256\",\"crit\":[]}", "{}");
	cr_assert(r == KC_TOK_CRIT_UNSUPPORTED || r == KC_TOK_BAD_HEADER, "crit []: %s",
	    kc_token_reason_name(r));
	r = signed_("{\"alg\":\"ES256\",\"crit\":\"x\"}", "{}");
	cr_assert(r == KC_TOK_CRIT_UNSUPPORTED || r == KC_TOK_BAD_HEADER, "crit \"x\": %s",
	    kc_token_reason_name(r));
}

Test(jws, typ_required)
{
	static const char *good[] = { "at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt",
		"APPLICATION/AT+JWT", "Application/at+JWT" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char h[128];
		snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"typ\":\"%s\"}", good[i]);
		EXPECT_REASON(signed_typ(h, "at+jwt"), KC_TOK_OK);
		EXPECT_REASON(signed_typ(h, "application/at+jwt"), KC_TOK_OK);
	}
	static const char *bad[] = { "JWT", "jwt", "application/jwt", "at+jwtx", "xat+jwt",
		"at+jw", "application/", "", "application/application/at+jwt", "at+jwt ",
		"text/at+jwt", "application at+jwt" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char h[128];
		snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"typ\":\"%s\"}", bad[i]);
		kc_token_reason r = signed_typ(h, "at+jwt");
		cr_assert_eq(r, KC_TOK_TYP_MISMATCH, "typ \"%s\": %s", bad[i], kc_token_reason_name(r));
	}
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\"}", "at+jwt"), KC_TOK_TYP_MISMATCH);
	kc_token_reason r = signed_typ("{\"alg\":\"ES256\",\"typ\":5}", "at+jwt");
	cr_assert(r == KC_TOK_BAD_HEADER || r == KC_TOK_TYP_MISMATCH, "typ 5: %s",
	    kc_token_reason_name(r));
	/* a NUL cannot hide a suffix */
	r = signed_typ("{\"alg\":\"ES256\",\"typ\":\"at+jwt\\u0000x\"}", "at+jwt");
	cr_assert_neq(r, KC_TOK_OK);
}

Test(jws, typ_not_checked_unless_required)
{
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\",\"typ\":\"whatever\"}", NULL), KC_TOK_OK);
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\"}", NULL), KC_TOK_OK);
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", "JWT"), KC_TOK_OK);
}

Test(jws, kid_member)
{
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":\"k1\"}", "{}"), KC_TOK_OK);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":1}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":null}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":[\"k1\"]}", "{}"), KC_TOK_BAD_HEADER);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":\"k2\"}", "{}"), KC_TOK_KEY_NOT_FOUND);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":\"K1\"}", "{}"), KC_TOK_KEY_NOT_FOUND);
	EXPECT_REASON(signed_("{\"alg\":\"ES256\",\"kid\":\"k1\\u0000\"}", "{}"), KC_TOK_BAD_JSON);
}

/* Each check is done in the order jws.h gives, so a header with two faults
 * reports the earlier one. */
Test(jws, check_order)
{
	/* none before crit */
	EXPECT_REASON(signed_("{\"alg\":\"none\",\"crit\":[\"x\"]}", "{}"), KC_TOK_ALG_NONE);
	/* unknown alg before crit */
	EXPECT_REASON(signed_("{\"alg\":\"XX1\",\"crit\":[\"x\"]}", "{}"), KC_TOK_ALG_UNKNOWN);
	/* allow-list before crit */
	EXPECT_REASON(signed_("{\"alg\":\"RS256\",\"crit\":[\"x\"],\"x\":1}", "{}"),
	    KC_TOK_ALG_NOT_ALLOWED);
	/* crit before typ */
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1,\"typ\":\"JWT\"}",
	    "at+jwt"), KC_TOK_CRIT_UNSUPPORTED);
	/* typ before the key */
	EXPECT_REASON(signed_typ("{\"alg\":\"ES256\",\"kid\":\"nope\",\"typ\":\"JWT\"}", "at+jwt"),
	    KC_TOK_TYP_MISMATCH);
	/* duplicates before alg */
	EXPECT_REASON(signed_("{\"alg\":\"none\",\"alg\":\"none\"}", "{}"), KC_TOK_DUPLICATE_MEMBER);
	/* base64 before JSON */
	unsigned char sig[64] = { 0 };
	char *tok = kct_forge("{\"alg\":\"none\"}", "{}", sig, sizeof sig);
	char buf[512];
	snprintf(buf, sizeof buf, "=%s", tok);
	EXPECT_REASON(verify(buf), KC_TOK_BAD_BASE64);
	free(tok);
}

/* ---- signature */

Test(jws, bad_signatures)
{
	char *tok = kct_sign(es256, "{\"sub\":\"alice\"}");
	char *sig = strrchr(tok, '.') + 1;
	/* change the first signature character (never the canonical-bits one) */
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	EXPECT_REASON(verify(tok), KC_TOK_BAD_SIGNATURE);
	free(tok);

	/* a signature of another payload */
	char *t1 = kct_sign(es256, "{\"sub\":\"alice\"}");
	char *t2 = kct_sign(es256, "{\"sub\":\"admin\"}");
	char buf[1024];
	snprintf(buf, sizeof buf, "%.*s%s", (int)(strrchr(t2, '.') - t2), t2, strrchr(t1, '.'));
	EXPECT_REASON(verify(buf), KC_TOK_BAD_SIGNATURE);
	free(t1);
	free(t2);

	/* a signature by another key with the same kid */
	char err[256];
	kc_signer *other = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof err);
	cr_assert_not_null(other);
	tok = kct_sign(other, "{}");
	EXPECT_REASON(verify(tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	kc_signer_free(other);

	/* the wrong length for ES256 */
	unsigned char s63[63] = { 1 }, s65[65] = { 1 };
	tok = kct_forge("{\"alg\":\"ES256\"}", "{}", s63, sizeof s63);
	EXPECT_REASON(verify(tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	tok = kct_forge("{\"alg\":\"ES256\"}", "{}", s65, sizeof s65);
	EXPECT_REASON(verify(tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
}

/* A key carried in the token is never trusted (RFC 8725 §3.10). */
Test(jws, embedded_keys_not_used)
{
	char err[256];
	kc_signer *attacker = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof err);
	json_t *pub = kc_signer_public_jwk(attacker);
	char *pubtext = json_dumps(pub, JSON_COMPACT);
	char header[1024];
	snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"jwk\":%s,"
	    "\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://evil.example/c.pem\"}", pubtext);
	EXPECT_REASON(signed_(header, "{}"), KC_TOK_OK); /* our key: fine, members ignored */
	char *tok = kct_sign_raw(attacker, header, "{}");
	EXPECT_REASON(verify(tok), KC_TOK_BAD_SIGNATURE);
	free(tok);
	free(pubtext);
	json_decref(pub);
	kc_signer_free(attacker);
}

/* On failure the output carries no header or payload from the token. */
Test(jws, failure_leaves_no_payload)
{
	char *tok = kct_sign(es256, "{}");
	char *sig = strrchr(tok, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	kc_arena *a = kc_arena_new(1024);
	kc_jws out;
	memset(&out, 0x5A, sizeof out); /* kc_jws_verify zeroes it */
	kc_jws_opts o = { 0 };
	EXPECT_REASON(kc_jws_verify(ks, tok, strlen(tok), &o, a, &out), KC_TOK_BAD_SIGNATURE);
	cr_assert_null(out.payload);
	cr_assert_eq(out.payload_len, 0);
	memset(&out, 0x5A, sizeof out);
	EXPECT_REASON(kc_jws_verify(ks, "e30.e30", 7, &o, a, &out), KC_TOK_MALFORMED);
	cr_assert_null(out.header);
	cr_assert_null(out.payload);
	kc_arena_free(a);
	free(tok);
}

/* ---- kc_jws_parse_json */

static kc_token_reason
parse(const char *s)
{
	kc_arena *a = kc_arena_new(1024);
	kc_token_reason why = KC_TOK__COUNT;
	const kc_json *v = kc_jws_parse_json(a, s, strlen(s), &why);
	kc_arena_free(a);
	if (v != NULL)
		return KC_TOK_OK;
	cr_assert_neq(why, KC_TOK_OK, "NULL with reason OK for %.40s", s);
	return why;
}

Test(parse_json, accepts_ordinary_json)
{
	EXPECT_REASON(parse("{}"), KC_TOK_OK);
	EXPECT_REASON(parse("{\"a\":1,\"b\":[1,2,{\"a\":2}],\"c\":{\"a\":3}}"), KC_TOK_OK);
	EXPECT_REASON(parse(" { \"a\" : \"\\u00e9\\ud83d\\ude00\" } "), KC_TOK_OK);
	/* the same name at different levels is not a duplicate */
	EXPECT_REASON(parse("{\"a\":{\"a\":{\"a\":1}}}"), KC_TOK_OK);
}

Test(parse_json, refuses)
{
	EXPECT_REASON(parse(""), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{} {}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{\"a\":1,}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{'a':1}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{\"a\":\"x\\u0000y\"}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{\"a\\u0000\":1}"), KC_TOK_BAD_JSON);
	EXPECT_REASON(parse("{\"a\":1,\"a\":1}"), KC_TOK_DUPLICATE_MEMBER);
	EXPECT_REASON(parse("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"), KC_TOK_DUPLICATE_MEMBER);
	EXPECT_REASON(parse("[{\"x\":1,\"x\":1}]"), KC_TOK_DUPLICATE_MEMBER);
	/* "\u0061" is "a": a duplicate after unescaping */
	EXPECT_REASON(parse("{\"a\":1,\"\\u0061\":2}"), KC_TOK_DUPLICATE_MEMBER);
	/* invalid UTF-8 */
	EXPECT_REASON(parse("{\"a\":\"\xff\"}"), KC_TOK_BAD_JSON);
}

/* The buffer is length-bounded: bytes after len are not read. */
Test(parse_json, length_bounded)
{
	kc_token_reason why;
	const char text[] = "{\"a\":1}GARBAGE";
	kc_arena *a = kc_arena_new(256);
	const kc_json *v = kc_jws_parse_json(a, text, 7, &why);
	cr_assert_not_null(v);
	int64_t n = 0;
	cr_assert(kc_json_integer(kc_json_get(v, "a"), &n));
	cr_assert_eq(n, 1);
	v = kc_jws_parse_json(a, text, 6, &why);
	cr_assert_null(v);
	cr_assert_eq(why, KC_TOK_BAD_JSON);
	kc_arena_free(a);
}

Test(parse_json, depth_limit)
{
	char *s = nested("", KC_JSON_MAX_DEPTH, "");
	EXPECT_REASON(parse(s), KC_TOK_OK);
	free(s);
	s = nested("", KC_JSON_MAX_DEPTH + 1, "");
	EXPECT_REASON(parse(s), KC_TOK_TOO_DEEP);
	free(s);
	s = nested("", 100000, "");
	EXPECT_REASON(parse(s), KC_TOK_TOO_DEEP);
	free(s);
	/* brackets inside strings are not nesting */
	size_t n = 3 * 1000 + 16;
	char *str = malloc(n);
	char *p = str + sprintf(str, "{\"a\":\"");
	for (int i = 0; i < 1000; i++)
		*p++ = '[';
	strcpy(p, "\"}");
	EXPECT_REASON(parse(str), KC_TOK_OK);
	free(str);
	/* objects count like arrays: 64 levels of {"a":...} */
	char obj[64 * 6 + 64 + 8];
	p = obj;
	for (int i = 0; i < KC_JSON_MAX_DEPTH; i++)
		p += sprintf(p, "{\"a\":");
	*p++ = '1';
	for (int i = 0; i < KC_JSON_MAX_DEPTH; i++)
		*p++ = '}';
	*p = '\0';
	EXPECT_REASON(parse(obj), KC_TOK_OK);
}
