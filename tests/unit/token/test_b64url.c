/* test_b64url.c: guards the strict base64url codec (token/b64url.h).
 *
 * JWS compares and signs the encoded text, so a decoder that accepts more
 * than one spelling of the same bytes (padding, '+', '/', whitespace, stray
 * bits in the last character) lets an attacker vary a token without
 * invalidating it, defeating caches and replay checks keyed on the text.
 * These tests use the RFC 4648 §10 vectors (in the URL-safe alphabet), try
 * every non-canonical form, check buffer bounds, and round-trip random data
 * against OpenSSL's base64 as an independent oracle. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "token/b64url.h"

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool
decode_str(const char *in, unsigned char *out, size_t *outlen)
{
	return kc_b64url_decode(in, strlen(in), out, outlen);
}

static void
check_encode(const void *bytes, size_t n, const char *want)
{
	char out[64];
	memset(out, '#', sizeof out);
	size_t len = kc_b64url_encode(bytes, n, out);
	cr_assert_eq(len, strlen(want), "encode length %zu, want %zu", len, strlen(want));
	cr_assert_eq(len, KC_B64URL_ENCODED_LEN(n));
	cr_assert_eq(out[len], '\0');
	cr_assert_eq(out[len + 1], '#', "wrote past the terminating NUL");
	cr_assert_eq(memcmp(out, want, len), 0, "encoded \"%s\", want \"%s\"", out, want);
}

static void
check_decode(const char *in, const void *want, size_t wantlen)
{
	unsigned char out[64];
	size_t outlen = 999;
	cr_assert(decode_str(in, out, &outlen), "\"%s\" refused", in);
	cr_assert_eq(outlen, wantlen, "\"%s\" decoded to %zu bytes, want %zu", in, outlen, wantlen);
	cr_assert_eq(memcmp(out, want, wantlen), 0, "\"%s\" decoded wrongly", in);
}

static void
check_refused(const char *in, size_t n)
{
	unsigned char out[KC_B64URL_DECODED_MAX(64) + 8];
	size_t outlen = 0;
	cr_assert(n <= 64);
	cr_assert_not(kc_b64url_decode(in, n, out, &outlen),
	    "non-canonical \"%.*s\" (%zu chars) was accepted", (int)n, in, n);
}

/* RFC 4648 §10 test vectors, without the padding. */
Test(b64url, rfc4648_vectors)
{
	static const struct { const char *raw, *enc; } v[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		check_encode(v[i].raw, strlen(v[i].raw), v[i].enc);
		check_decode(v[i].enc, v[i].raw, strlen(v[i].raw));
	}
}

/* RFC 4648 §9 examples, in the URL-safe alphabet ('+' becomes '-'). */
Test(b64url, rfc4648_section9_url_safe)
{
	static const unsigned char b1[] = { 0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7e };
	check_encode(b1, 6, "FPucA9l-");
	check_decode("FPucA9l-", b1, 6);
	check_encode(b1, 5, "FPucA9k");
	check_decode("FPucA9k", b1, 5);
	check_encode(b1, 4, "FPucAw");
	check_decode("FPucAw", b1, 4);
}

Test(b64url, url_safe_characters)
{
	static const unsigned char a[] = { 0xfb, 0xff };
	static const unsigned char b[] = { 0xff, 0xfe, 0xfd };
	static const unsigned char c[] = { 0xfb, 0xef, 0xbe };
	check_encode(a, 2, "-_8");
	check_decode("-_8", a, 2);
	check_encode(b, 3, "__79");
	check_decode("__79", b, 3);
	check_encode(c, 3, "----");
	check_decode("----", c, 3);
	static const unsigned char zeros[3] = { 0 };
	check_encode(zeros, 1, "AA");
	check_encode(zeros, 3, "AAAA");
	check_decode("AAA", zeros, 2);
}

Test(b64url, padding_refused)
{
	check_refused("Zg==", 4);
	check_refused("Zg=", 3);
	check_refused("Zm8=", 4);
	check_refused("Zm9v====", 8);
	check_refused("=", 1);
	check_refused("====", 4);
	check_refused("Zm=v", 4);
}

Test(b64url, standard_alphabet_refused)
{
	check_refused("FPucA9l+", 8);
	check_refused("+/+/", 4);
	check_refused("ab/c", 4);
	check_refused("ab+c", 4);
}

Test(b64url, whitespace_and_nul_refused)
{
	check_refused(" Zg", 3);
	check_refused("Zg ", 3);
	check_refused("Zm9v\nYg", 7);
	check_refused("Zm9v\r\nYg", 8);
	check_refused("Zm9\tv", 5);
	check_refused("Zm9v\0", 5);
	check_refused("Z\0g", 3);
}

/* n % 4 == 1 can never come from an encoder. */
Test(b64url, impossible_lengths_refused)
{
	check_refused("Z", 1);
	check_refused("A", 1);
	check_refused("Zm9vY", 5);
	check_refused("AAAAAAAAA", 9);
}

/* The last character of a 2-character tail carries 4 unused bits, of a
 * 3-character tail 2 unused bits: they must be zero. Try all 64. */
Test(b64url, unused_bits_must_be_zero)
{
	for (int i = 0; i < 64; i++) {
		char two[3] = { 'Z', ALPHABET[i], 0 };
		unsigned char out[8];
		size_t outlen = 0;
		bool ok = kc_b64url_decode(two, 2, out, &outlen);
		cr_assert_eq(ok, (i % 16) == 0, "\"%s\": accepted=%d", two, ok);
		if (ok) {
			cr_assert_eq(outlen, 1);
			cr_assert_eq(out[0], (unsigned char)((25 << 2) | (i >> 4)));
		}

		char three[7] = { 'Z', 'm', '9', 'v', 'Z', ALPHABET[i], 0 };
		ok = kc_b64url_decode(three, 6, out, &outlen);
		cr_assert_eq(ok, (i % 16) == 0, "\"%s\": accepted=%d", three, ok);

		char four[4] = { 'Z', 'm', ALPHABET[i], 0 };
		ok = kc_b64url_decode(four, 3, out, &outlen);
		cr_assert_eq(ok, (i % 4) == 0, "\"%s\": accepted=%d", four, ok);
		if (ok)
			cr_assert_eq(outlen, 2);
	}
}

/* Every byte outside the alphabet is refused in every position. */
Test(b64url, every_foreign_byte_refused)
{
	for (int c = 0; c < 256; c++) {
		bool in_alphabet = c != 0 && memchr(ALPHABET, c, 64) != NULL;
		for (int pos = 0; pos < 4; pos++) {
			char in[4] = { 'A', 'A', 'A', 'A' };
			in[pos] = (char)c;
			unsigned char out[8];
			size_t outlen = 0;
			bool ok = kc_b64url_decode(in, 4, out, &outlen);
			cr_assert_eq(ok, in_alphabet, "byte 0x%02x at %d: accepted=%d", c, pos, ok);
		}
	}
}

Test(b64url, empty_input)
{
	unsigned char out[4];
	size_t outlen = 77;
	cr_assert(kc_b64url_decode("", 0, out, &outlen));
	cr_assert_eq(outlen, 0);
	char enc[2] = { '#', '#' };
	cr_assert_eq(kc_b64url_encode((const unsigned char *)"", 0, enc), 0);
	cr_assert_eq(enc[0], '\0');
}

Test(b64url, size_macros)
{
	for (size_t n = 0; n < 100; n++) {
		size_t want = (n * 4 + 2) / 3; /* ceil(4n/3) */
		cr_assert_eq(KC_B64URL_ENCODED_LEN(n), want, "n=%zu", n);
		if (n % 4 != 1)
			cr_assert_geq(KC_B64URL_DECODED_MAX(n), (n * 3) / 4, "n=%zu", n);
	}
}

/* ---- random round trips, checked against OpenSSL's base64 */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Standard base64 by OpenSSL, turned into base64url without padding. */
static size_t
oracle_encode(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	cr_assert_geq(len, 0);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return (size_t)len;
}

Test(b64url, random_round_trips)
{
	enum { MAXN = 700, GUARD = 16 };
	unsigned char data[MAXN];
	char want[MAXN * 2];
	for (int iter = 0; iter < 2000; iter++) {
		size_t n = iter < MAXN ? (size_t)iter : rng() % MAXN;
		for (size_t i = 0; i < n; i++)
			data[i] = (unsigned char)rng();
		size_t wantlen = oracle_encode(data, n, want);

		size_t enc_room = KC_B64URL_ENCODED_LEN(n) + 1;
		char *enc = malloc(enc_room + GUARD);
		cr_assert_not_null(enc);
		memset(enc, 0xEE, enc_room + GUARD);
		size_t len = kc_b64url_encode(data, n, enc);
		cr_assert_eq(len, wantlen, "n=%zu", n);
		cr_assert_eq(memcmp(enc, want, len), 0, "n=%zu: %s vs %s", n, enc, want);
		cr_assert_eq(enc[len], '\0');
		for (size_t g = enc_room; g < enc_room + GUARD; g++)
			cr_assert_eq((unsigned char)enc[g], 0xEE, "encode overran its buffer (n=%zu)", n);

		size_t dec_room = KC_B64URL_DECODED_MAX(len);
		unsigned char *dec = malloc(dec_room + GUARD);
		cr_assert_not_null(dec);
		memset(dec, 0xEE, dec_room + GUARD);
		size_t declen = 0;
		cr_assert(kc_b64url_decode(enc, len, dec, &declen), "n=%zu", n);
		cr_assert_eq(declen, n);
		cr_assert_eq(memcmp(dec, data, n), 0, "n=%zu", n);
		for (size_t g = dec_room; g < dec_room + GUARD; g++)
			cr_assert_eq(dec[g], 0xEE, "decode overran its buffer (n=%zu)", n);

		/* the alloc variants agree */
		char *enc2 = kc_b64url_encode_alloc(data, n);
		cr_assert_not_null(enc2);
		cr_assert_str_eq(enc2, want);
		if (n > 0) {
			size_t dlen2 = 0;
			unsigned char *dec2 = kc_b64url_decode_alloc(enc2, strlen(enc2), &dlen2);
			cr_assert_not_null(dec2);
			cr_assert_eq(dlen2, n);
			cr_assert_eq(memcmp(dec2, data, n), 0);
			free(dec2);
		}
		free(enc2);
		free(enc);
		free(dec);
	}
}

/* Canonical form: flipping any character of a valid encoding either is
 * refused or decodes to different bytes, never to the same ones. */
Test(b64url, one_encoding_per_byte_string)
{
	unsigned char data[32];
	char enc[64];
	for (size_t n = 1; n <= sizeof data; n++) {
		for (size_t i = 0; i < n; i++)
			data[i] = (unsigned char)rng();
		size_t len = kc_b64url_encode(data, n, enc);
		for (size_t pos = 0; pos < len; pos++) {
			char saved = enc[pos];
			for (int c = 0; c < 64; c++) {
				if (ALPHABET[c] == saved)
					continue;
				enc[pos] = ALPHABET[c];
				unsigned char out[64];
				size_t outlen = 0;
				if (kc_b64url_decode(enc, len, out, &outlen))
					cr_assert(outlen != n || memcmp(out, data, n) != 0,
					    "\"%s\" decodes to the same bytes as the canonical form", enc);
			}
			enc[pos] = saved;
		}
	}
}

Test(b64url, alloc_variants_refuse_bad_input)
{
	size_t outlen = 0;
	cr_assert_null(kc_b64url_decode_alloc("Zg==", 4, &outlen));
	cr_assert_null(kc_b64url_decode_alloc("Zh", 2, &outlen));
	cr_assert_null(kc_b64url_decode_alloc("Z", 1, &outlen));
	cr_assert_null(kc_b64url_decode_alloc("a+b/", 4, &outlen));
	unsigned char *p = kc_b64url_decode_alloc("Zm9vYmFy", 8, &outlen);
	cr_assert_not_null(p);
	cr_assert_eq(outlen, 6);
	cr_assert_eq(memcmp(p, "foobar", 6), 0);
	free(p);
}
