/* util.c: file reading, constant-time compare, log-safe hashes, durations. */
#include "config.h"

#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

char *
kc_file_read(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		goto fail;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
fail:;
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

bool
kc_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* Fetched once: EVP_sha256() makes every EVP_Digest look the algorithm up
 * again, under a lock shared by all threads. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
kc_short_hash(const void *data, size_t len, char out[13])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	pthread_once(&sha256_once, fetch_sha256);
	if (sha256 == NULL || !EVP_Digest(data, len, md, &mdlen, sha256, NULL))
		memset(md, 0, sizeof(md));
	for (int i = 0; i < 6; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[12] = '\0';
}

size_t
kc_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80) return 1;
	else if (c >= 0xc2 && c <= 0xdf) len = 2;
	else if (c == 0xe0) len = 3, lo = 0xa0;
	else if (c >= 0xe1 && c <= 0xec) len = 3;
	else if (c == 0xed) len = 3, hi = 0x9f;
	else if (c >= 0xee && c <= 0xef) len = 3;
	else if (c == 0xf0) len = 4, lo = 0x90;
	else if (c >= 0xf1 && c <= 0xf3) len = 4;
	else if (c == 0xf4) len = 4, hi = 0x8f;
	else return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

bool
kc_parse_duration(const char *s, int64_t *seconds)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	int64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';
		if (v > (INT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	int64_t mult = 1;
	switch (*p) {
	case '\0': break;
	case 's': mult = 1; p++; break;
	case 'm': mult = 60; p++; break;
	case 'h': mult = 3600; p++; break;
	case 'd': mult = 86400; p++; break;
	default: return false;
	}
	if (*p != '\0' || v > INT64_MAX / mult)
		return false;
	*seconds = v * mult;
	return true;
}
