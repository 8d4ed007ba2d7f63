/* b64url.h: strict base64url (RFC 4648 §5) as JWS requires (RFC 7515 §2).
 *
 * Decoding accepts only the URL-safe alphabet, no padding, no whitespace,
 * and canonical input only: a length of 1 mod 4 or non-zero unused bits in
 * the last character are errors, so every byte string has one encoding. */
#ifndef KC_TOKEN_B64URL_H
#define KC_TOKEN_B64URL_H

#include <stdbool.h>
#include <stddef.h>

/* Upper bound of the decoded size of n input characters. */
#define KC_B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)
/* Exact encoded size of n bytes, without the terminating NUL. */
#define KC_B64URL_ENCODED_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Decodes in[0..n) into out (room for KC_B64URL_DECODED_MAX(n) bytes).
 * Returns true and sets *outlen, or false on any non-canonical input. */
bool kc_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);

/* Encodes n bytes into out (room for KC_B64URL_ENCODED_LEN(n) + 1), NUL-terminated.
 * Returns the encoded length. */
size_t kc_b64url_encode(const unsigned char *in, size_t n, char *out);

/* malloc'd conveniences for tools and key loading; NULL on error. */
unsigned char *kc_b64url_decode_alloc(const char *in, size_t n, size_t *outlen);
char *kc_b64url_encode_alloc(const unsigned char *in, size_t n);

#endif
