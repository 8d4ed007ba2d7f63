/* test_util.c: guards core/util.h: kc_file_read's size limit (also for
 * files whose size is not known in advance, such as pipes), kc_ct_equal,
 * the format and content of kc_short_hash, and the kc_parse_duration
 * grammar with its overflow checks. */
#include "config.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/util.h"

/* ---- temporary files */

static char tmpdir[64];

static void
make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/kc-test-util-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
remove_tmpdir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", tmpdir);
}

static const char *
tmp_path(const char *name)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static const char *
write_tmp(const char *name, const void *data, size_t len)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

TestSuite(file_read, .init = make_tmpdir, .fini = remove_tmpdir);

Test(file_read, whole_file_nul_terminated)
{
	const char text[] = "line one\nline two\n";
	const char *p = write_tmp("a.txt", text, sizeof text - 1);
	size_t len = 12345;
	char *buf = kc_file_read(p, 1024, &len);
	cr_assert_not_null(buf);
	cr_assert_eq(len, sizeof text - 1);
	cr_assert_eq(memcmp(buf, text, len), 0);
	cr_assert_eq(buf[len], '\0');
	free(buf);
}

Test(file_read, binary_content_with_nul_bytes)
{
	unsigned char data[300];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	data[10] = 0;
	const char *p = write_tmp("b.bin", data, sizeof data);
	size_t len = 0;
	char *buf = kc_file_read(p, sizeof data, &len);
	cr_assert_not_null(buf);
	cr_assert_eq(len, sizeof data);
	cr_assert_eq(memcmp(buf, data, sizeof data), 0);
	cr_assert_eq(buf[len], '\0');
	free(buf);
}

Test(file_read, limit_is_inclusive)
{
	char data[1000];
	memset(data, 'x', sizeof data);
	const char *p = write_tmp("c.txt", data, sizeof data);
	size_t len = 0;
	char *buf = kc_file_read(p, 1000, &len);
	cr_assert_not_null(buf, "a file of exactly max bytes must be read");
	cr_assert_eq(len, 1000);
	free(buf);

	errno = 0;
	buf = kc_file_read(p, 999, &len);
	cr_assert_null(buf, "a file of max + 1 bytes must be refused");
	cr_assert_eq(errno, EFBIG, "errno = %d (%s)", errno, strerror(errno));
}

Test(file_read, empty_file)
{
	const char *p = write_tmp("empty", "", 0);
	size_t len = 99;
	char *buf = kc_file_read(p, 0, &len);
	cr_assert_not_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(buf[0], '\0');
	free(buf);
}

Test(file_read, missing_file_sets_errno)
{
	size_t len = 0;
	errno = 0;
	char *buf = kc_file_read(tmp_path("does-not-exist"), 1024, &len);
	cr_assert_null(buf);
	cr_assert_eq(errno, ENOENT, "errno = %d (%s)", errno, strerror(errno));
}

Test(file_read, directory_fails)
{
	size_t len = 0;
	errno = 0;
	char *buf = kc_file_read(tmpdir, 1024, &len);
	cr_assert_null(buf);
	cr_assert_neq(errno, 0);
}

/* A pipe has no size to stat: the limit must hold for what is read, as for
 * `keycard verify --jwks <(curl ...)`. */
static char *
read_from_fifo(size_t produce, size_t max, size_t *len, int *err)
{
	const char *p = tmp_path("fifo");
	unlink(p);
	cr_assert_eq(mkfifo(p, 0600), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		int fd = open(p, O_WRONLY);
		if (fd < 0)
			_exit(1);
		char chunk[256];
		memset(chunk, 'p', sizeof chunk);
		size_t done = 0;
		while (done < produce) {
			size_t n = produce - done < sizeof chunk ? produce - done : sizeof chunk;
			ssize_t w = write(fd, chunk, n);
			if (w <= 0)
				_exit(0);
			done += (size_t)w;
		}
		close(fd);
		_exit(0);
	}
	errno = 0;
	char *buf = kc_file_read(p, max, len);
	*err = errno;
	/* unblock the writer if the reader stopped early */
	int fd = open(p, O_RDONLY | O_NONBLOCK);
	if (fd >= 0)
		close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return buf;
}

Test(file_read, pipe_within_limit)
{
	size_t len = 0;
	int err = 0;
	char *buf = read_from_fifo(3000, 4096, &len, &err);
	cr_assert_not_null(buf, "errno %d", err);
	cr_assert_eq(len, 3000);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], 'p');
	cr_assert_eq(buf[len], '\0');
	free(buf);
}

Test(file_read, pipe_over_limit)
{
	size_t len = 0;
	int err = 0;
	char *buf = read_from_fifo(5000, 1000, &len, &err);
	cr_assert_null(buf, "read %zu bytes from a pipe with max 1000", len);
	cr_assert_eq(err, EFBIG, "errno = %d (%s)", err, strerror(err));
}

/* ---- kc_ct_equal */

Test(ct_equal, equal_and_unequal)
{
	const unsigned char a[] = "0123456789abcdef";
	unsigned char b[sizeof a];
	memcpy(b, a, sizeof a);
	cr_assert(kc_ct_equal(a, b, sizeof a));
	cr_assert(kc_ct_equal(a, b, 0), "empty buffers are equal");
	for (size_t i = 0; i < sizeof a; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			cr_assert_not(kc_ct_equal(a, b, sizeof a), "byte %zu bit %d flipped", i, bit);
			/* only the first n bytes count */
			if (i > 0)
				cr_assert(kc_ct_equal(a, b, i));
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
	cr_assert(kc_ct_equal(a, b, sizeof a));
}

Test(ct_equal, high_bytes)
{
	const unsigned char a[4] = { 0x80, 0xff, 0x00, 0x7f };
	const unsigned char b[4] = { 0x80, 0xff, 0x00, 0xff };
	cr_assert_not(kc_ct_equal(a, b, 4));
	cr_assert(kc_ct_equal(a, b, 3));
}

/* ---- kc_short_hash */

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	cr_assert(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL));
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void
check_short_hash(const void *data, size_t len)
{
	char out[14];
	memset(out, '#', sizeof out);
	kc_short_hash(data, len, out);
	cr_assert_eq(out[12], '\0', "not NUL-terminated at [12]");
	cr_assert_eq(out[13], '#', "wrote past out[12]");
	cr_assert_eq(strlen(out), 12);
	for (int i = 0; i < 12; i++)
		cr_assert(isxdigit((unsigned char)out[i]), "'%c' is not a hex digit", out[i]);
	char full[65];
	sha256_hex(data, len, full);
	cr_assert_eq(strncasecmp(out, full, 12), 0, "short hash %s, SHA-256 %s", out, full);
}

Test(short_hash, known_vectors)
{
	char out[13];
	/* FIPS 180-2 test vector: SHA-256("abc") = ba7816bf8f01cfea... */
	kc_short_hash("abc", 3, out);
	cr_assert_eq(strcasecmp(out, "ba7816bf8f01"), 0, "got %s", out);
	/* SHA-256("") = e3b0c44298fc1c14... */
	kc_short_hash("", 0, out);
	cr_assert_eq(strcasecmp(out, "e3b0c44298fc"), 0, "got %s", out);
}

Test(short_hash, format_and_prefix_of_sha256)
{
	unsigned char data[200];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 31 + 7);
	for (size_t len = 0; len <= sizeof data; len += 13)
		check_short_hash(data, len);
	check_short_hash("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", 28);
}

Test(short_hash, distinct_inputs_distinct_tags)
{
	char a[13], b[13];
	kc_short_hash("token-a", 7, a);
	kc_short_hash("token-b", 7, b);
	cr_assert_str_neq(a, b);
}

/* ---- kc_parse_duration */

static void
duration_ok(const char *s, int64_t want)
{
	int64_t got = -12345;
	cr_assert(kc_parse_duration(s, &got), "\"%s\" was refused", s);
	cr_assert_eq(got, want, "\"%s\" = %lld, want %lld", s, (long long)got, (long long)want);
}

static void
duration_bad(const char *s)
{
	int64_t got = 0;
	cr_assert_not(kc_parse_duration(s, &got), "\"%s\" was accepted (%lld)", s, (long long)got);
}

Test(parse_duration, units)
{
	duration_ok("0", 0);
	duration_ok("90", 90);
	duration_ok("90s", 90);
	duration_ok("15m", 900);
	duration_ok("1h", 3600);
	duration_ok("7d", 7 * 86400);
	duration_ok("1d", 86400);
	duration_ok("0s", 0);
	duration_ok("3600", 3600);
}

Test(parse_duration, refused_forms)
{
	duration_bad("");
	duration_bad("-1");
	duration_bad("-5m");
	duration_bad("s");
	duration_bad("h");
	duration_bad("1x");
	duration_bad("1w");
	duration_bad("1.5h");
	duration_bad("1 h");
	duration_bad(" 1h");
	duration_bad("1h ");
	duration_bad("1hh");
	duration_bad("0x10");
	duration_bad("abc");
	duration_bad("+1");
}

Test(parse_duration, overflow)
{
	duration_ok("9223372036854775807", INT64_MAX);
	duration_bad("9223372036854775808");
	duration_bad("99999999999999999999999");
	duration_ok("153722867280912930m", 153722867280912930LL * 60);
	duration_bad("153722867280912931m");
	duration_ok("2562047788015215h", 2562047788015215LL * 3600);
	duration_bad("2562047788015216h");
	duration_ok("106751991167300d", 106751991167300LL * 86400);
	duration_bad("106751991167301d");
}

#define SEQ(lit) kc_utf8_seq((const unsigned char *)(lit), sizeof(lit) - 1)

/* The one UTF-8 check (the JSON parser's and the JSON log line's). */
Test(utf8, sequences_are_measured_and_malformed_ones_refused)
{
	cr_assert_eq(SEQ("a"), 1);
	cr_assert_eq(SEQ("\xc3\xa9"), 2);
	cr_assert_eq(SEQ("\xe2\x82\xac"), 3);
	cr_assert_eq(SEQ("\xf0\x9f\x98\x80"), 4);
	cr_assert_eq(SEQ("\xf4\x8f\xbf\xbf"), 4);          /* U+10FFFF */
	cr_assert_eq(SEQ("\xc0\x80"), 0);                  /* overlong NUL */
	cr_assert_eq(SEQ("\xe0\x80\xaf"), 0);              /* overlong '/' */
	cr_assert_eq(SEQ("\xed\xa0\x80"), 0);              /* surrogate */
	cr_assert_eq(SEQ("\xf4\x90\x80\x80"), 0);          /* past U+10FFFF */
	cr_assert_eq(SEQ("\x80"), 0);                      /* a lone continuation */
	cr_assert_eq(SEQ("\xe2\x82"), 0);                  /* cut short */
	cr_assert_eq(SEQ("\xe2\x28\xa1"), 0);              /* a bad continuation */
	cr_assert_eq(SEQ("\xff"), 0);
}
