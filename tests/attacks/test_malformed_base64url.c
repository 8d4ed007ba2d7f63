/* test_malformed_base64url.c: the compact serialization's structure and
 * encoding (RFC 7515 §2, §3.1, §7.1; RFC 4648 §5; RFC 8725 §3.11).
 *
 * A compact JWS is exactly three base64url segments without padding. Lax
 * decoders accept '=' padding, the '+' and '/' of standard base64, white
 * space, and non-zero unused bits in the last character; each gives one
 * token several spellings, so a token that was refused, revoked or cached
 * under one spelling comes back under another with the same signature
 * ("signature malleability"), and length 1 mod 4 (no byte at all in the last
 * character) reveals decoders that silently drop input. Extra or missing
 * segments are how JWS JSON serialization and JWE (five segments) get
 * confused with JWS. And a verifier that parses before checking the size
 * can be made to work on megabytes. keycard refuses all of these: the size
 * first (KC_TOK_TOO_LARGE), then the structure (KC_TOK_MALFORMED), then the
 * encoding (KC_TOK_BAD_BASE64), without trying the signature. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../common/testutil.h"
#include "token/b64url.h"

/* The header and payload are chosen so that every segment's length is not a
 * multiple of 4 (padding would apply, and the last character has unused
 * bits) and the header and payload contain both '-' and '_'. */
static const char header[] = "{\"alg\":\"ES256\",\"kid\":\"k?>~~\"}";
static const char payload[] = "\xfb\xff\xbf" "ab";

static kc_signer *s;
static kc_keyset *ks;
static char *good;          /* header.payload.signature, valid */
static char *seg[3];        /* its three segments */

static void
setup(void)
{
	char err[256] = "";
	s = kc_signer_generate(KC_ALG_ES256, "k?>~~", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	ks = kct_keyset_of(s);
	good = kct_sign_raw(s, header, payload);
	cr_assert_not_null(good);
	char *copy = strdup(good), *save = NULL;
	for (int i = 0; i < 3; i++) {
		char *t = strtok_r(i == 0 ? copy : NULL, ".", &save);
		cr_assert_not_null(t);
		seg[i] = strdup(t);
	}
	free(copy);
	cr_assert_eq(kct_jws(ks, good), KC_TOK_OK, "control token verifies");
	for (int i = 0; i < 3; i++)
		cr_assert_neq(strlen(seg[i]) % 4, 0, "segment %d length %zu", i, strlen(seg[i]));
	cr_assert(strchr(seg[0], '-') && strchr(seg[0], '_'), "header has - and _: %s", seg[0]);
	cr_assert(strchr(seg[1], '-') && strchr(seg[1], '_'), "payload has - and _: %s", seg[1]);
}

static void
teardown(void)
{
	for (int i = 0; i < 3; i++)
		free(seg[i]);
	free(good);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

TestSuite(malformed_base64url, .init = setup, .fini = teardown);

static const char *const seg_name[3] = { "header", "payload", "signature" };

/* The token with segment i replaced by repl. */
static char *
with_segment(int i, const char *repl)
{
	const char *p[3] = { seg[0], seg[1], seg[2] };
	p[i] = repl;
	char *t = malloc(strlen(p[0]) + strlen(p[1]) + strlen(p[2]) + 3);
	sprintf(t, "%s.%s.%s", p[0], p[1], p[2]);
	return t;
}

static kc_token_reason
verify_n(const char *tok, size_t len, size_t max_size)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	kc_jws_opts opts = { .max_size = max_size };
	kc_jws out;
	kc_token_reason r = kc_jws_verify(ks, tok, len, &opts, a, &out);
	kc_arena_free(a);
	return r;
}

static void
expect_segment(int i, const char *repl, kc_token_reason want, const char *what)
{
	char *t = with_segment(i, repl);
	kc_token_reason r = kct_jws(ks, t);
	cr_expect_eq(r, want, "%s %s: want %s, got %s", seg_name[i], what,
	    kc_token_reason_name(want), kc_token_reason_name(r));
	free(t);
}

/* What a lax standard-base64 decoder makes of a base64url segment. */
static size_t
lax_decode(const char *in, unsigned char *out)
{
	size_t n = strlen(in);
	char *std = malloc(n + 4);
	for (size_t i = 0; i < n; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	size_t pad = (4 - n % 4) % 4;
	memset(std + n, '=', pad);
	int len = EVP_DecodeBlock(out, (unsigned char *)std, (int)(n + pad));
	free(std);
	cr_assert_geq(len, 0);
	return (size_t)len - pad;
}

Test(malformed_base64url, padding)
{
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(seg[i]), pad = (4 - n % 4) % 4;
		char *p = malloc(n + 4);
		/* The correct standard-base64 padding, and one '=' too many or few. */
		for (size_t k = 1; k <= pad + 1; k++) {
			memcpy(p, seg[i], n);
			memset(p + n, '=', k);
			p[n + k] = '\0';
			char what[32];
			snprintf(what, sizeof what, "with %zu '='", k);
			expect_segment(i, p, KC_TOK_BAD_BASE64, what);
		}
		/* '=' inside. */
		memcpy(p, seg[i], n + 1);
		p[n / 2] = '=';
		expect_segment(i, p, KC_TOK_BAD_BASE64, "with '=' inside");
		free(p);
	}
}

/* Standard base64's '+' and '/' for base64url's '-' and '_'. */
Test(malformed_base64url, standard_alphabet)
{
	for (int i = 0; i < 3; i++) {
		const char from[2] = { '-', '_' }, to[2] = { '+', '/' };
		for (int c = 0; c < 2; c++) {
			char *p = strdup(seg[i]);
			bool changed = false;
			for (char *q = p; *q; q++)
				if (*q == from[c]) {
					*q = to[c];
					changed = true;
				}
			if (changed) {
				char what[16];
				snprintf(what, sizeof what, "with '%c'", to[c]);
				expect_segment(i, p, KC_TOK_BAD_BASE64, what);
			} else {
				cr_assert_eq(i, 2, "header and payload were chosen to contain '%c'",
				    from[c]);
			}
			free(p);
		}
	}
}

Test(malformed_base64url, whitespace)
{
	static const char *const ws[] = { " ", "\t", "\n", "\r\n", "\v", "\f" };
	for (int i = 0; i < 3; i++)
		for (size_t w = 0; w < sizeof ws / sizeof ws[0]; w++) {
			size_t n = strlen(seg[i]), wl = strlen(ws[w]);
			char *p = malloc(n + wl + 1);
			/* In the middle, at the start, at the end of the segment. */
			size_t at[3] = { n / 2, 0, n };
			for (int k = 0; k < 3; k++) {
				memcpy(p, seg[i], at[k]);
				memcpy(p + at[k], ws[w], wl);
				memcpy(p + at[k] + wl, seg[i] + at[k], n - at[k] + 1);
				char what[32];
				snprintf(what, sizeof what, "white space %zu at %zu", w, at[k]);
				expect_segment(i, p, KC_TOK_BAD_BASE64, what);
			}
			free(p);
		}
	/* The whole token followed by a newline, or preceded by a space. */
	char *t = malloc(strlen(good) + 3);
	sprintf(t, "%s\n", good);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_BAD_BASE64, "trailing newline");
	sprintf(t, " %s", good);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_BAD_BASE64, "leading space");
	free(t);
}

/* The last character of a segment whose length is 2 or 3 mod 4 carries 4 or
 * 2 unused bits. Setting one gives another spelling of the same bytes: a lax
 * decoder returns the same header, payload or signature, so the signature
 * would still verify. */
Test(malformed_base64url, non_zero_unused_bits)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(seg[i]);
		unsigned int unused = n % 4 == 2 ? 4 : 2;
		for (unsigned int bit = 0; bit < unused; bit++) {
			char *p = strdup(seg[i]);
			const char *pos = strchr(alphabet, p[n - 1]);
			cr_assert_not_null(pos);
			int v = (int)(pos - alphabet);
			cr_assert_eq(v & ((1 << unused) - 1), 0, "canonical to begin with");
			p[n - 1] = alphabet[v | (1 << bit)];
			unsigned char a[4096], b[4096];
			size_t la = lax_decode(seg[i], a), lb = lax_decode(p, b);
			cr_assert(la == lb && memcmp(a, b, la) == 0,
			    "the altered spelling decodes to the same bytes for a lax decoder");
			char what[32];
			snprintf(what, sizeof what, "unused bit %u set", bit);
			expect_segment(i, p, KC_TOK_BAD_BASE64, what);
			free(p);
		}
	}
}

/* No byte ends in the first 6 bits of a group: length 1 mod 4 is never valid. */
Test(malformed_base64url, length_one_mod_four)
{
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(seg[i]);
		char *p = malloc(n + 4);
		memcpy(p, seg[i], n);
		size_t m = n;
		while (m % 4 != 1)
			p[m++] = 'A';
		p[m] = '\0';
		expect_segment(i, p, KC_TOK_BAD_BASE64, "length 1 mod 4");
		/* Cut down to 1 mod 4 instead. */
		m = n;
		while (m % 4 != 1)
			m--;
		p[m] = '\0';
		memcpy(p, seg[i], m);
		expect_segment(i, p, KC_TOK_BAD_BASE64, "cut to length 1 mod 4");
		free(p);
	}
	expect_segment(0, "e", KC_TOK_BAD_BASE64, "one character");
	expect_segment(1, "Q", KC_TOK_BAD_BASE64, "one character");
	expect_segment(2, "A", KC_TOK_BAD_BASE64, "one character");
}

Test(malformed_base64url, characters_outside_the_alphabet)
{
	static const char bad[] = "!\"#$%&'()*,:;<>?@[\\]^`{|}~\x7f\x80\xc3\xff";
	for (int i = 0; i < 3; i++)
		for (const char *c = bad; *c; c++) {
			char *p = strdup(seg[i]);
			p[strlen(p) / 2] = *c;
			char what[32];
			snprintf(what, sizeof what, "byte 0x%02x", (unsigned char)*c);
			expect_segment(i, p, KC_TOK_BAD_BASE64, what);
			free(p);
		}
}

/* A NUL byte is not the end of the token: len counts. */
Test(malformed_base64url, nul_bytes)
{
	size_t n = strlen(good);
	char *t = malloc(n + 8);
	memcpy(t, good, n);
	memcpy(t + n, "\0AAAA", 6);
	cr_expect_neq(verify_n(t, n + 5, 0), KC_TOK_OK, "NUL and more after the signature");
	cr_expect_eq(verify_n(t, n + 1, 0), KC_TOK_BAD_BASE64, "one NUL after the signature");
	memcpy(t, good, n + 1);
	t[n / 2] = '\0';
	cr_expect_neq(verify_n(t, n, 0), KC_TOK_OK, "NUL inside");
	t[n / 2] = good[n / 2];
	cr_expect_eq(verify_n(t, n, 0), KC_TOK_OK, "control: the full length, no NUL");
	free(t);
}

Test(malformed_base64url, segment_count)
{
	size_t n = strlen(good);
	char *t = malloc(3 * n + 16);
	sprintf(t, "%s.%s", seg[0], seg[1]);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "two segments");
	sprintf(t, "%s", seg[0]);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "one segment");
	sprintf(t, "%s.", good);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "trailing dot");
	sprintf(t, ".%s", good);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "leading dot");
	sprintf(t, "%s.%s", good, seg[2]);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "four segments");
	sprintf(t, "%s.%s.%s", good, seg[2], seg[2]);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "five segments (JWE shape)");
	sprintf(t, "%s.%s..%s", seg[0], seg[1], seg[2]);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "doubled dot");
	const char *odd[] = { "", ".", "..", "...", "....", "a.b.c.d", "a..b.", "AAAA" };
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		cr_expect_eq(kct_jws(ks, odd[i]), KC_TOK_MALFORMED, "\"%s\"", odd[i]);
	free(t);
}

/* An empty header or signature is malformed; an empty payload is legal
 * (RFC 7515 appendix F, Wycheproof's emptyPayload vectors) and must still
 * be covered by the signature. */
Test(malformed_base64url, empty_segments)
{
	expect_segment(0, "", KC_TOK_MALFORMED, "empty");
	expect_segment(2, "", KC_TOK_MALFORMED, "empty");
	expect_segment(1, "", KC_TOK_BAD_SIGNATURE, "empty, signature over the original");
	char *t = kct_sign_raw(s, header, "");
	const char *d = strstr(t, "..");
	cr_assert_not_null(d, "empty payload segment");
	cr_expect_eq(kct_jws(ks, t), KC_TOK_OK, "empty payload, signed as such");
	free(t);
	t = with_segment(1, "");
	memcpy(strstr(t, "..") + 2, "", 1);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_MALFORMED, "empty payload and signature");
	free(t);
}

/* A validly signed token of exactly target bytes (payload of 'a's). */
static char *
token_of_size(size_t target)
{
	for (size_t klen = 1; klen <= 8; klen++) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"%.*s\"}", (int)klen, "kkkkkkkk");
		size_t hl = KC_B64URL_ENCODED_LEN(strlen(hdr));
		size_t fixed = hl + 1 + 1 + KC_B64URL_ENCODED_LEN(64);
		if (target <= fixed)
			continue;
		size_t pl = target - fixed;
		if (pl % 4 == 1)
			continue;
		size_t n = pl / 4 * 3 + (pl % 4 ? pl % 4 - 1 : 0);
		cr_assert_eq(KC_B64URL_ENCODED_LEN(n), pl);
		char *p = malloc(n + 1);
		memset(p, 'a', n);
		p[n] = '\0';
		char kid[9];
		snprintf(kid, sizeof kid, "%.*s", (int)klen, "kkkkkkkk");
		char err[256] = "";
		kc_signer *k = kc_signer_generate(KC_ALG_ES256, kid, err, sizeof err);
		cr_assert_not_null(k, "%s", err);
		char *t = kct_sign_raw(k, hdr, p);
		cr_assert_eq(strlen(t), target);
		kc_keyset_free(ks);
		ks = kct_keyset_of(k);
		kc_signer_free(k);
		free(p);
		return t;
	}
	cr_assert_fail("no token of %zu bytes", target);
	return NULL;
}

Test(malformed_base64url, size_limit_default)
{
	size_t max = KC_TOKEN_MAX_SIZE_DEFAULT;
	cr_assert_eq(max, 16384);
	char *t = token_of_size(max);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_OK, "exactly 16 KiB");
	cr_expect_eq(verify_n(t, max, 0), KC_TOK_OK);
	free(t);
	t = token_of_size(max + 1);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_TOO_LARGE, "16 KiB + 1, validly signed");
	cr_expect_eq(verify_n(t, max + 1, max + 1), KC_TOK_OK, "allowed by max_size");
	free(t);
	/* Size is checked before anything else: a megabyte of garbage. */
	size_t big = 1u << 20;
	char *g = malloc(big);
	memset(g, '.', big);
	cr_expect_eq(verify_n(g, big, 0), KC_TOK_TOO_LARGE);
	memset(g, 'A', big);
	cr_expect_eq(verify_n(g, big, 0), KC_TOK_TOO_LARGE);
	free(g);
}

Test(malformed_base64url, size_limit_option)
{
	size_t n = strlen(good);
	cr_expect_eq(verify_n(good, n, n), KC_TOK_OK, "max_size = length");
	cr_expect_eq(verify_n(good, n, n - 1), KC_TOK_TOO_LARGE, "max_size = length - 1");
	cr_expect_eq(verify_n(good, n, 1), KC_TOK_TOO_LARGE);
	cr_expect_eq(verify_n(good, n, 0), KC_TOK_OK, "0 means the default");
	char *t = token_of_size(20000);
	cr_expect_eq(verify_n(t, 20000, 0), KC_TOK_TOO_LARGE, "default refuses 20000 bytes");
	cr_expect_eq(verify_n(t, 20000, 32768), KC_TOK_OK, "a larger max_size admits it");
	free(t);
	/* The JWT verifier passes the option down. */
	char *jwt = kct_sign(s, "{\"sub\":\"a\"}");
	size_t jl = strlen(jwt);
	kc_verifier_opts vo = { .jws = { .max_size = jl } };
	cr_expect_eq(kct_jwt(kct_keyset_of(s), &vo, jwt, 1000), KC_TOK_OK, "JWT, max_size = length");
	vo.jws.max_size = jl - 1;
	cr_expect_eq(kct_jwt(kct_keyset_of(s), &vo, jwt, 1000), KC_TOK_TOO_LARGE,
	    "JWT, max_size = length - 1");
	free(jwt);
}
