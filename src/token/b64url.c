/* b64url.c: strict, canonical base64url without padding (RFC 4648 §5). */
#include "config.h"

#include "token/b64url.h"

#include <stdlib.h>

static const char enc_table[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for alphabet characters, 0xff for everything else. */
static const unsigned char dec_table[256] = {
#define X 0xff
	X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X, X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,
	X,X,X,X,X,X,X,X,X,X,X,X,X,62,X,X, 52,53,54,55,56,57,58,59,60,61,X,X,X,X,X,X,
	X,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14, 15,16,17,18,19,20,21,22,23,24,25,X,X,X,X,63,
	X,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40, 41,42,43,44,45,46,47,48,49,50,51,X,X,X,X,X,
	X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X, X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,
	X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X, X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,
	X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X, X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,
	X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X, X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,X,
#undef X
};

bool
kc_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;

	if (n % 4 == 1)
		return false;
	for (; i + 4 <= n; i += 4) {
		unsigned a = dec_table[s[i]], b = dec_table[s[i + 1]];
		unsigned c = dec_table[s[i + 2]], d = dec_table[s[i + 3]];
		if ((a | b | c | d) & 0xc0)
			return false;
		unsigned v = a << 18 | b << 12 | c << 6 | d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	size_t rest = n - i;
	if (rest >= 2) {
		unsigned a = dec_table[s[i]], b = dec_table[s[i + 1]];
		unsigned c = rest == 3 ? dec_table[s[i + 2]] : 0;
		if ((a | b | c) & 0xc0)
			return false;
		/* Canonical form: the bits past the last whole byte must be zero. */
		if (rest == 2 && (b & 0x0f) != 0)
			return false;
		if (rest == 3 && (c & 0x03) != 0)
			return false;
		unsigned v = a << 18 | b << 12 | c << 6;
		out[o++] = (unsigned char)(v >> 16);
		if (rest == 3)
			out[o++] = (unsigned char)(v >> 8);
	}
	*outlen = o;
	return true;
}

size_t
kc_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = enc_table[v >> 18];
		out[o++] = enc_table[(v >> 12) & 63];
		out[o++] = enc_table[(v >> 6) & 63];
		out[o++] = enc_table[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = enc_table[v >> 18];
		out[o++] = enc_table[(v >> 12) & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = enc_table[v >> 18];
		out[o++] = enc_table[(v >> 12) & 63];
		out[o++] = enc_table[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

unsigned char *
kc_b64url_decode_alloc(const char *in, size_t n, size_t *outlen)
{
	unsigned char *out = malloc(KC_B64URL_DECODED_MAX(n) + 1);
	if (out == NULL)
		return NULL;
	if (!kc_b64url_decode(in, n, out, outlen)) {
		free(out);
		return NULL;
	}
	return out;
}

char *
kc_b64url_encode_alloc(const unsigned char *in, size_t n)
{
	char *out = malloc(KC_B64URL_ENCODED_LEN(n) + 1);
	if (out != NULL)
		kc_b64url_encode(in, n, out);
	return out;
}
