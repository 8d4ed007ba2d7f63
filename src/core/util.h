/* util.h: small helpers shared by every stage: file reading, constant-time
 * comparison, a short non-reversible tag for logging secrets. */
#ifndef KC_CORE_UTIL_H
#define KC_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a whole file, at most max bytes (larger files fail with EFBIG).
 * Returns a NUL-terminated malloc'd buffer (caller frees) and sets *len,
 * or NULL with errno set. */
char *kc_file_read(const char *path, size_t max, size_t *len);

/* Constant time in n: true iff the two buffers are equal. */
bool kc_ct_equal(const void *a, const void *b, size_t n);

/* Writes a 12-hex-digit tag of SHA-256(data) into out[13]: safe to log in
 * place of a token, never enough to replay it. */
void kc_short_hash(const void *data, size_t len, char out[13]);

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlong forms,
 * no surrogates, nothing past U+10FFFF) within the n bytes left: 1 for
 * ASCII, 2-4, or 0 when s does not start one (n must be at least 1). */
size_t kc_utf8_seq(const unsigned char *s, size_t n);

/* Parses a duration such as "90", "90s", "15m", "1h", "7d" into seconds.
 * Returns false for anything else, negative values or overflow. */
bool kc_parse_duration(const char *s, int64_t *seconds);

#endif
