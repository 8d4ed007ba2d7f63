/* test_cgi.c: guards the CGI gateway (gateway/cgi.h, RFC 3875 §6). A
 * gateway runs scripts that misbehave for clients that push: a script that
 * writes before it reads must not deadlock against a big body (fcgiwrap
 * does); a slow one must be killed with everything it started; a crash, a
 * missing or malformed header block or an oversized one must give 502/504
 * and send nothing; a script that ignores its body must not kill keycard
 * with SIGPIPE; no child may be left unreaped; it must get exactly the
 * environment it is given. And only regular executable files under a CGI
 * root may run: no symlink or ".." escape, no prefix look-alike root. */
#include "config.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../common/testutil.h"
#include "gateway/cgi.h"

/* ---- kc_cgi_parse_headers */

typedef struct blk {
	const char *s;
	size_t n;
} blk;
#define B(lit) { lit, sizeof(lit) - 1 }

static int
parse_ok(const char *s, size_t n)
{
	int status = -1;
	cr_assert(kc_cgi_parse_headers(s, n, &status), "rejected: %.*s", (int)n, s);
	return status;
}

Test(parse, statuses)
{
	static const struct { blk b; int status; } ok[] = {
		{ B("Content-Type: text/html\n\n"), 200 },
		{ B("Content-Type: text/html\r\n\r\n"), 200 },
		{ B("Content-Type: text/html\r\nX-A: b\n\r\n"), 200 },
		{ B("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n"), 404 },
		{ B("Content-Type: a\nStatus: 201\n\n"), 201 },
		{ B("Status:201\nContent-Type: a\n\n"), 201 },
		{ B("Status: 100\nContent-Type: a\n\n"), 100 },
		{ B("Status: 599 Odd\nContent-Type: a\n\n"), 599 },
		{ B("Location: /elsewhere\n\n"), 302 },
		{ B("Location: http://example.com/\nContent-Type: text/html\n\n"), 302 },
		{ B("Status: 301 Moved\nLocation: /x\n\n"), 301 },
		{ B("status: 203\ncontent-type: a\n\n"), 203 },
		{ B("LOCATION: /x\n\n"), 302 },
		{ B("X-Empty:\nContent-Type: a\n\n"), 200 },
		{ B("X-A!#$%&'*+.^_`|~9: v\nContent-Type: a\n\n"), 200 },
		{ B("Content-Type: a\tb \t\n\n"), 200 },
		{ B("Content-Type: caf\xc3\xa9\n\n"), 200 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect_eq(parse_ok(ok[i].b.s, ok[i].b.n), ok[i].status, "%s", ok[i].b.s);
}

Test(parse, rejects)
{
	static const blk bad[] = {
		B(""),
		B("\n"),
		B("\r\n"),
		B("X-A: b\n\n"),                                 /* neither type nor location */
		B("Content-Type: text/html\n"),                  /* no blank line */
		B("Content-Type: text/html"),
		B("Content-Type: text/html\n\nbody"),            /* bytes after the block */
		B("Content-Type text/html\n\n"),                 /* no colon */
		B(": x\nContent-Type: a\n\n"),                   /* empty name */
		B("Content Type: a\n\n"),                        /* space in the name */
		B("Content-Type : a\n\n"),                       /* space before the colon */
		B("X(A): v\nContent-Type: a\n\n"),
		B("X@A: v\nContent-Type: a\n\n"),
		B("X-\0A: v\nContent-Type: a\n\n"),              /* NUL in a name */
		B("Content-Type: a\n folded\n\n"),               /* obs-fold */
		B("Content-Type: a\n\tfolded\n\n"),
		B("Content-Type: a\x01" "b\n\n"),                /* control characters */
		B("Content-Type: a\rb\n\n"),
		B("Content-Type: a\x7f\n\n"),
		B("Content-Type: a\0b\n\n"),
		B("X-A: \x1b[31m\nContent-Type: a\n\n"),
		B("Status: 99\nContent-Type: a\n\n"),            /* bad Status */
		B("Status: 099\nContent-Type: a\n\n"),
		B("Status: 600 X\nContent-Type: a\n\n"),
		B("Status: 2000\nContent-Type: a\n\n"),
		B("Status: 20\nContent-Type: a\n\n"),
		B("Status: abc\nContent-Type: a\n\n"),
		B("Status: 2x0\nContent-Type: a\n\n"),
		B("Status: 200OK\nContent-Type: a\n\n"),
		B("Status: +200\nContent-Type: a\n\n"),
		B("Status:\nContent-Type: a\n\n"),
		B("Status: 200\nStatus: 404\nContent-Type: a\n\n"),  /* repeated CGI fields */
		B("Content-Type: a\nContent-Type: b\n\n"),
		B("Location: /a\nLocation: /b\n\n"),
		B("Location:\n\n"),                              /* empty CGI fields */
		B("Content-Type:  \n\n"),
		B("HTTP/1.1 200 OK\nContent-Type: a\n\n"),       /* NPH status line */
	};
	int status;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_not(kc_cgi_parse_headers(bad[i].s, bad[i].n, &status),
		    "accepted #%zu: %.*s", i, (int)bad[i].n, bad[i].s);
}

/* ---- kc_cgi_run */

#define MAX_LINES 16

typedef struct run_ctx {
	const unsigned char *body;
	size_t body_len, body_off;
	size_t chunk;               /* read_body hands out at most this much; 0: any */
	long fail_read_at;          /* read_body fails from this offset on; -1: never */
	long fail_write_at;         /* write_out fails from this much output on; -1: never */
	long stall_at;              /* from this offset on the client sends nothing; -1: never */
	int max_wait_ms;            /* the longest wait read_body was allowed */
	int reads_after_stall;
	char *out;                  /* everything written out, NUL-terminated */
	size_t out_len, out_cap;
	char lines[MAX_LINES][8192];
	size_t n_lines;
} run_ctx;

static ssize_t
t_read_body(void *ctx, char *buf, size_t n, int wait_ms)
{
	run_ctx *c = ctx;
	if (wait_ms > c->max_wait_ms)
		c->max_wait_ms = wait_ms;
	if (c->fail_read_at >= 0 && c->body_off >= (size_t)c->fail_read_at)
		return -1;
	if (c->stall_at >= 0 && c->body_off >= (size_t)c->stall_at) {
		/* A client that has gone quiet: nothing comes within wait_ms. */
		struct timespec ts = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		c->reads_after_stall++;
		return KC_CGI_IO_SLOW;
	}
	size_t k = c->body_len - c->body_off;
	if (k > n)
		k = n;
	if (c->chunk > 0 && k > c->chunk)
		k = c->chunk;
	if (k > 0)
		memcpy(buf, c->body + c->body_off, k);
	c->body_off += k;
	return (ssize_t)k;
}

static ssize_t
t_write_out(void *ctx, const char *buf, size_t n)
{
	run_ctx *c = ctx;
	if (c->fail_write_at >= 0 && c->out_len >= (size_t)c->fail_write_at)
		return -1;
	if (c->out_len + n + 1 > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (c->out_len + n + 1 > cap)
			cap *= 2;
		c->out = realloc(c->out, cap);
		cr_assert_not_null(c->out);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	c->out[c->out_len] = '\0';
	return (ssize_t)n;
}

static void
t_log_err(void *ctx, const char *line, size_t n)
{
	run_ctx *c = ctx;
	cr_assert_lt(n, sizeof c->lines[0]);
	if (c->n_lines < MAX_LINES) {
		memcpy(c->lines[c->n_lines], line, n);
		c->lines[c->n_lines++][n] = '\0';
	}
}

static run_ctx *
ctx_new(void)
{
	run_ctx *c = calloc(1, sizeof *c);
	cr_assert_not_null(c);
	c->fail_read_at = c->fail_write_at = c->stall_at = -1;
	return c;
}

static void
ctx_free(run_ctx *c)
{
	free(c->out);
	free(c);
}

static int64_t
ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every child of this test process has been reaped. */
static void
assert_no_children(void)
{
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left unreaped");
	cr_assert_eq(errno, ECHILD);
}

/* Runs path with env, then checks that nothing is left to reap. */
static kc_cgi_result
run_path(const char *path, run_ctx *c, const kc_cgi_opts *opts, char *const env[])
{
	kc_cgi_io io = { t_read_body, t_write_out, t_log_err, c };
	kc_cgi_result r = kc_cgi_run(path, env, &io, opts);
	assert_no_children();
	return r;
}

static kc_cgi_result
run(const char *script, run_ctx *c, int timeout_ms, char *const env[])
{
	char path[PATH_MAX];
	kc_cgi_opts opts = { .timeout_ms = timeout_ms };
	snprintf(path, sizeof path, "%s", kct_data_path(script));
	return run_path(path, c, &opts, env);
}

/* The response body after the CRLF CRLF that ends the sent headers. */
static const char *
body_of(const run_ctx *c, size_t *len)
{
	cr_assert_not_null(c->out, "nothing was written out");
	const char *e = strstr(c->out, "\r\n\r\n");
	cr_assert_not_null(e, "no header block in: %s", c->out);
	e += 4;
	*len = c->out_len - (size_t)(e - c->out);
	return e;
}

static void
expect_out(const run_ctx *c, const char *want)
{
	cr_expect_eq(c->out_len, strlen(want), "output length %zu, want %zu", c->out_len,
	    strlen(want));
	cr_expect(c->out != NULL && memcmp(c->out, want, strlen(want)) == 0,
	    "output:\n%s\nwant:\n%s", c->out ? c->out : "(none)", want);
}

static unsigned char *
make_body(size_t n)
{
	unsigned char *b = malloc(n);
	uint64_t x = 0x9e3779b97f4a7c15u;
	cr_assert_not_null(b);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (unsigned char)x;
	}
	return b;
}

static void
sha256(const void *p, size_t n, unsigned char md[32])
{
	unsigned int len = 0;
	cr_assert(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL));
	cr_assert_eq(len, 32);
}

#define PATHENV "PATH=/usr/bin:/bin"
#define OKHEAD_TEXT "Content-Type: text/plain\\n\\n"
#define OKHEAD "CGI_HEAD=" OKHEAD_TEXT
#define TEN_MB (10 * 1024 * 1024)

Test(run, environment_is_exactly_envp, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, "FOO=bar baz", "REQUEST_METHOD=GET", NULL };
	char script[PATH_MAX], want[PATH_MAX + 8];

	setenv("KC_CGI_LEAK", "leaked", 1);
	cr_assert_eq(run("cgi/env.sh", c, 5000, env), KC_CGI_OK);
	cr_assert_not_null(c->out);
	cr_expect(strncmp(c->out, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n", 44) == 0,
	    "%s", c->out);
	cr_expect_not_null(strstr(c->out, "\nFOO=bar baz\n"), "%s", c->out);
	cr_expect_not_null(strstr(c->out, "\nREQUEST_METHOD=GET\n"), "%s", c->out);
	cr_expect_null(strstr(c->out, "KC_CGI_LEAK"), "parent environment leaked: %s", c->out);
	cr_expect_not_null(strstr(c->out, "\nargc=0\n"), "%s", c->out);
	/* the script runs in its own directory */
	cr_assert_not_null(realpath(kct_data_path("cgi/env.sh"), script));
	*strrchr(script, '/') = '\0';
	snprintf(want, sizeof want, "\npwd=%s\n", script);
	cr_expect_not_null(strstr(c->out, want), "want %s in %s", want, c->out);
	ctx_free(c);
}

Test(run, cwd_option_and_relative_path, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, NULL };
	char dir[PATH_MAX];
	kc_cgi_opts opts = { .timeout_ms = 5000, .cwd = "/" };

	cr_assert_eq(run_path(kct_data_path("cgi/env.sh"), c, &opts, env), KC_CGI_OK);
	cr_expect_not_null(strstr(c->out, "\npwd=/\n"), "%s", c->out);
	ctx_free(c);

	/* a relative path is taken from our directory, not the script's */
	cr_assert_not_null(realpath(kct_data_path("cgi"), dir));
	cr_assert_eq(chdir(dir), 0);
	c = ctx_new();
	opts.cwd = NULL;
	cr_assert_eq(run_path("./env.sh", c, &opts, env), KC_CGI_OK);
	char want[PATH_MAX + 8];
	snprintf(want, sizeof want, "\npwd=%s\n", dir);
	cr_expect_not_null(strstr(c->out, want), "%s", c->out);
	ctx_free(c);
}

Test(run, headers_normalized, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV,
		"CGI_HEAD=Content-Type: text/html\\nX-Test:   spaced \\t\\n\\nbody\\n", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/html\r\nX-Test: spaced\r\n\r\nbody\n");
	ctx_free(c);
}

Test(run, status_line_first, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV,
		"CGI_HEAD=X-A: 1\\r\\nStatus: 404\\r\\nContent-Type: text/plain\\r\\n\\r\\nnope", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	expect_out(c, "Status: 404 Not Found\r\nX-A: 1\r\nContent-Type: text/plain\r\n\r\nnope");
	ctx_free(c);

	c = ctx_new();
	char *env2[] = { PATHENV, "CGI_HEAD=Status: 418 Short and stout\\nContent-Type: a\\n\\n",
		NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env2), KC_CGI_OK);
	expect_out(c, "Status: 418 Short and stout\r\nContent-Type: a\r\n\r\n");
	ctx_free(c);
}

Test(run, location_redirect_is_302, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, "CGI_HEAD=Location: http://example.com/x\\n\\n", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	expect_out(c, "Status: 302 Found\r\nLocation: http://example.com/x\r\n\r\n");
	ctx_free(c);
}

Test(run, header_split_across_reads, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, "CGI_HEAD=Content-Type: text/plain\\r\\n\\r", "CGI_PAUSE=0.05",
		"CGI_HEAD2=\\nafter", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nafter");
	ctx_free(c);
}

Test(run, exit_codes, .timeout = 10)
{
	/* non-zero before the headers: 502, nothing sent, stderr kept */
	run_ctx *c = ctx_new();
	char *env1[] = { PATHENV, "CGI_STDERR=boom\\n", "CGI_EXIT=3", NULL };
	cr_expect_eq(run("cgi/respond.sh", c, 5000, env1), KC_CGI_FAILED);
	cr_expect_eq(c->out_len, 0);
	cr_expect_eq(c->n_lines, 1);
	cr_expect_str_eq(c->lines[0], "boom");
	ctx_free(c);

	/* zero with no output at all: 502 too */
	c = ctx_new();
	char *env2[] = { PATHENV, NULL };
	cr_expect_eq(run("cgi/respond.sh", c, 5000, env2), KC_CGI_FAILED);
	cr_expect_eq(c->out_len, 0);
	ctx_free(c);

	/* non-zero after a complete response: it was sent whole */
	c = ctx_new();
	char *env3[] = { PATHENV, "CGI_HEAD=Status: 500\\nContent-Type: a\\n\\nsorry", "CGI_EXIT=1",
		NULL };
	cr_expect_eq(run("cgi/respond.sh", c, 5000, env3), KC_CGI_OK);
	expect_out(c, "Status: 500 Internal Server Error\r\nContent-Type: a\r\n\r\nsorry");
	ctx_free(c);
}

Test(run, no_headers, .timeout = 10)
{
	static char *const heads[] = {
		"CGI_HEAD=just some text\\n",
		"CGI_HEAD=no newline at all",
		"CGI_HEAD=X-Only: header\\n\\nbody",             /* neither type nor location */
		"CGI_HEAD=\\nbody",                              /* empty header block */
	};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		run_ctx *c = ctx_new();
		char *env[] = { PATHENV, heads[i], NULL };
		cr_expect_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_FAILED, "%s", heads[i]);
		cr_expect_eq(c->out_len, 0, "%s", heads[i]);
		ctx_free(c);
	}
}

Test(run, bad_status, .timeout = 10)
{
	static char *const heads[] = {
		"CGI_HEAD=Status: 99\\nContent-Type: a\\n\\n",
		"CGI_HEAD=Status: 600\\nContent-Type: a\\n\\n",
		"CGI_HEAD=Status: abc\\nContent-Type: a\\n\\n",
		"CGI_HEAD=Status: 2000\\nContent-Type: a\\n\\n",
		"CGI_HEAD=Status: 200\\nContent-Type: a\\nStatus: 404\\n\\n",
		"CGI_HEAD=Content-Type: a\\0001\\n\\n",
	};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		run_ctx *c = ctx_new();
		char *env[] = { PATHENV, heads[i], NULL };
		cr_expect_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_FAILED, "%s", heads[i]);
		cr_expect_eq(c->out_len, 0, "%s", heads[i]);
		ctx_free(c);
	}
}

/* A header block of exactly KC_CGI_MAX_HEADER_BYTES passes; one byte more
 * is a 502 with nothing sent. */
Test(run, header_block_bound, .timeout = 10)
{
	static const char pre[] = "CGI_HEAD=Content-Type: a\\nX-Pad: ";
	static const char post[] = "\\n\\n";
	/* on the wire: "Content-Type: a\n" (16) "X-Pad: " (7) pad "\n\n" (2) */
	size_t pad = KC_CGI_MAX_HEADER_BYTES - 16 - 7 - 2;
	char *head = malloc(sizeof pre + pad + 1 + sizeof post);
	cr_assert_not_null(head);

	for (int extra = 0; extra <= 1; extra++) {
		size_t n = pad + (size_t)extra;
		memcpy(head, pre, sizeof pre - 1);
		memset(head + sizeof pre - 1, 'a', n);
		memcpy(head + sizeof pre - 1 + n, post, sizeof post);
		run_ctx *c = ctx_new();
		char *env[] = { PATHENV, head, NULL };
		kc_cgi_result r = run("cgi/respond.sh", c, 5000, env);
		if (extra == 0) {
			cr_expect_eq(r, KC_CGI_OK);
			cr_expect_eq(c->out_len, strlen("Status: 200 OK\r\nContent-Type: a\r\n"
			    "X-Pad: \r\n\r\n") + pad);
		} else {
			cr_expect_eq(r, KC_CGI_FAILED);
			cr_expect_eq(c->out_len, 0);
		}
		ctx_free(c);
	}
	free(head);
}

Test(run, crash, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env1[] = { PATHENV, "CGI_SIGNAL=SEGV", NULL };
	cr_expect_eq(run("cgi/respond.sh", c, 5000, env1), KC_CGI_FAILED);
	cr_expect_eq(c->out_len, 0);
	ctx_free(c);

	c = ctx_new();
	char *env2[] = { PATHENV, OKHEAD "partial", "CGI_SIGNAL=SEGV", NULL };
	cr_expect_eq(run("cgi/respond.sh", c, 5000, env2), KC_CGI_ABORTED);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npartial");
	ctx_free(c);
}

Test(run, stderr_lines, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, OKHEAD, "CGI_STDERR=one\\ntwo\\r\\n\\nfour", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	cr_assert_eq(c->n_lines, 4);
	cr_expect_str_eq(c->lines[0], "one");
	cr_expect_str_eq(c->lines[1], "two");
	cr_expect_str_eq(c->lines[2], "");
	cr_expect_str_eq(c->lines[3], "four");
	ctx_free(c);
}

Test(run, stderr_long_line_split, .timeout = 10)
{
	char var[16 + 5000];
	run_ctx *c = ctx_new();
	snprintf(var, sizeof var, "CGI_STDERR=");
	memset(var + 11, 'x', 5000);
	var[11 + 5000] = '\0';
	char *env[] = { PATHENV, OKHEAD, var, NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	cr_assert_eq(c->n_lines, 2);
	size_t a = strlen(c->lines[0]), b = strlen(c->lines[1]);
	cr_expect_eq(a + b, 5000);
	cr_expect_leq(a, 4096);
	cr_expect_leq(b, 4096);
	ctx_free(c);
}

/* The background sleep the script started is dead too (killed with the
 * process group; reaped by init, or a zombie if init does not reap). */
static void
assert_sleeper_gone(const run_ctx *c)
{
	long pid = -1;
	for (size_t i = 0; i < c->n_lines; i++)
		if (sscanf(c->lines[i], "sleeper=%ld", &pid) == 1)
			break;
	cr_assert_gt(pid, 0, "the script did not report its sleeper");
	for (int tries = 0; tries < 100; tries++) {
		char path[64], stat[512];
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return;
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		stat[n] = '\0';
		const char *paren = strrchr(stat, ')');
		if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X')
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("process %ld outlived the timeout kill", pid);
}

Test(run, timeout_before_headers, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, "CGI_SLEEP=5", NULL };
	int64_t t0 = ms_now();
	cr_assert_eq(run("cgi/respond.sh", c, 300, env), KC_CGI_TIMEOUT);
	int64_t took = ms_now() - t0;
	cr_expect_geq(took, 290);
	cr_expect_lt(took, 2000);
	cr_expect_eq(c->out_len, 0);
	assert_sleeper_gone(c);
	ctx_free(c);
}

/* A client that drips its body, then stops, must not hold the worker past
 * the run's timeout: the read is bounded by what is left of it, and a
 * read that gets nothing in that time ends the run as a timeout. */
Test(run, a_stalled_request_body_times_out, .timeout = 10)
{
	static unsigned char body[4096];
	run_ctx *c = ctx_new();
	c->body = body;
	c->body_len = sizeof body;
	c->chunk = 100;
	c->stall_at = 1000;
	char *env[] = { PATHENV, NULL };
	int64_t t0 = ms_now();
	cr_assert_eq(run("cgi/cat.sh", c, 300, env), KC_CGI_TIMEOUT);
	int64_t took = ms_now() - t0;
	cr_expect_lt(took, 2000);
	cr_expect_leq(c->max_wait_ms, 300, "read_body may wait %d ms", c->max_wait_ms);
	cr_expect_gt(c->max_wait_ms, 0);
	cr_expect_eq(c->reads_after_stall, 1, "one slow read ends the run");
	cr_expect_eq(c->out_len, 0);
	ctx_free(c);
}

Test(run, timeout_after_headers, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, OKHEAD "started", "CGI_SLEEP=5", NULL };
	int64_t t0 = ms_now();
	cr_assert_eq(run("cgi/respond.sh", c, 300, env), KC_CGI_ABORTED);
	cr_expect_lt(ms_now() - t0, 2000);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nstarted");
	assert_sleeper_gone(c);
	ctx_free(c);
}

/* Output is over but the script does not exit: the deadline still holds. */
Test(run, timeout_after_output_closed, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, OKHEAD "done", "CGI_SLEEP=5", "CGI_LINGER=1", NULL };
	int64_t t0 = ms_now();
	cr_assert_eq(run("cgi/respond.sh", c, 300, env), KC_CGI_ABORTED);
	cr_expect_lt(ms_now() - t0, 2000);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\ndone");
	assert_sleeper_gone(c);
	ctx_free(c);

	c = ctx_new();
	char *env2[] = { PATHENV, "CGI_SLEEP=5", "CGI_LINGER=1", NULL };
	cr_assert_eq(run("cgi/respond.sh", c, 300, env2), KC_CGI_FAILED);
	cr_expect_eq(c->out_len, 0);
	assert_sleeper_gone(c);
	ctx_free(c);
}

/* The script writes 1 MiB before it reads its 10 MB body. */
Test(run, no_deadlock_writes_before_reading, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, NULL };
	size_t len;
	c->body = make_body(TEN_MB);
	c->body_len = TEN_MB;
	cr_assert_eq(run("cgi/bigfirst.sh", c, 8000, env), KC_CGI_OK);
	const char *b = body_of(c, &len);
	cr_assert_eq(len, 1048576 + strlen("10485760\n"));
	for (size_t i = 0; i < 1048576; i++)
		if (b[i] != 0)
			cr_assert_fail("byte %zu of the zeros is %d", i, b[i]);
	cr_expect(memcmp(b + 1048576, "10485760\n", 9) == 0, "%.9s", b + 1048576);
	free((void *)c->body);
	ctx_free(c);
}

Test(run, ten_mb_round_trip, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, NULL };
	unsigned char in[32], out[32];
	size_t len;
	c->body = make_body(TEN_MB);
	c->body_len = TEN_MB;
	c->chunk = 7919;            /* odd sizes, so writes are partial */
	cr_assert_eq(run("cgi/cat.sh", c, 8000, env), KC_CGI_OK);
	cr_expect_eq(c->body_off, TEN_MB);
	const char *b = body_of(c, &len);
	cr_assert_eq(len, TEN_MB);
	sha256(c->body, TEN_MB, in);
	sha256(b, len, out);
	cr_expect(memcmp(in, out, 32) == 0, "the body changed on the way");
	free((void *)c->body);
	ctx_free(c);
}

/* No body at all (read_body NULL): the script's stdin is closed at once. */
Test(run, no_body, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, NULL };
	kc_cgi_io io = { NULL, t_write_out, t_log_err, c };
	kc_cgi_opts opts = { .timeout_ms = 5000 };
	cr_assert_eq(kc_cgi_run(kct_data_path("cgi/cat.sh"), env, &io, &opts), KC_CGI_OK);
	assert_no_children();
	expect_out(c, "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
	ctx_free(c);
}

/* A script that closes its stdin without reading a 10 MB body, then
 * answers: our write to its stdin fails with EPIPE; SIGPIPE (default
 * action: die) must not reach us, and our signal state must come back as
 * it was. */
Test(run, script_ignores_body_no_sigpipe, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, "CGI_CLOSE_STDIN=1", "CGI_PAUSE=0.1", "CGI_HEAD2=" OKHEAD_TEXT "ok",
		NULL };
	sigset_t before, after, pending;
	struct sigaction sa;

	signal(SIGPIPE, SIG_DFL);
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	cr_assert_not(sigismember(&before, SIGPIPE));
	c->body = make_body(TEN_MB);
	c->body_len = TEN_MB;
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_OK);
	expect_out(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok");
	cr_expect_lt(c->body_off, TEN_MB, "the body was read on after the script left");
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	cr_expect_not(sigismember(&after, SIGPIPE), "SIGPIPE left blocked");
	sigpending(&pending);
	cr_expect_not(sigismember(&pending, SIGPIPE), "SIGPIPE left pending");
	sigaction(SIGPIPE, NULL, &sa);
	cr_expect_eq(sa.sa_handler, SIG_DFL, "SIGPIPE disposition changed");
	free((void *)c->body);
	ctx_free(c);
}

Test(run, client_gone_on_write, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, OKHEAD "started", "CGI_SLEEP=5", NULL };
	c->fail_write_at = 0;
	int64_t t0 = ms_now();
	cr_assert_eq(run("cgi/respond.sh", c, 5000, env), KC_CGI_ABORTED);
	cr_expect_lt(ms_now() - t0, 2000, "the script was not killed");
	ctx_free(c);
}

Test(run, client_gone_on_read, .timeout = 10)
{
	run_ctx *c = ctx_new();
	char *env[] = { PATHENV, NULL };
	c->body = make_body(1 << 20);
	c->body_len = 1 << 20;
	c->fail_read_at = 100000;
	int64_t t0 = ms_now();
	/* cat waits for the rest of its stdin: only the kill ends it */
	cr_assert_eq(run("cgi/cat.sh", c, 5000, env), KC_CGI_ABORTED);
	cr_expect_lt(ms_now() - t0, 2000, "the script was not killed");
	free((void *)c->body);
	ctx_free(c);
}

/* ---- scripts that cannot start, and kc_cgi_script_allowed */

static char tmp[64];             /* /tmp/kc_test_cgi_XXXXXX */

static void
mkfile(const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(p, mode), 0);
}

static void
mklink(const char *target, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	cr_assert_eq(symlink(target, p), 0, "%s", p);
}

static const char *
at(const char *rel)
{
	static char p[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", tmp, rel);
	return p[i];
}

/* tmp/root/{ok.sh, noexec.sh, sub/, escape -> ../outside.sh, inner -> ok.sh,
 * noshebang.sh}, tmp/outside.sh, tmp/rootevil/a.sh, tmp/rootlink -> root. */
static void
make_tree(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/kc_test_cgi_XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_eq(mkdir(at("root"), 0755), 0);
	cr_assert_eq(mkdir(at("root/sub"), 0755), 0);
	cr_assert_eq(mkdir(at("rootevil"), 0755), 0);
	mkfile("root/ok.sh", "#!/bin/sh\nprintf 'Content-Type: a\\n\\nok'\n", 0755);
	mkfile("root/noexec.sh", "#!/bin/sh\n", 0644);
	mkfile("root/noshebang.sh", "echo hi\n", 0755);
	mkfile("outside.sh", "#!/bin/sh\n", 0755);
	mkfile("rootevil/a.sh", "#!/bin/sh\n", 0755);
	mklink("../outside.sh", "root/escape");
	mklink("ok.sh", "root/inner");
	mklink("root", "rootlink");
}

static void
remove_tree(void)
{
	static const char *const files[] = { "root/ok.sh", "root/noexec.sh",
		"root/noshebang.sh", "root/escape", "root/inner", "outside.sh",
		"rootevil/a.sh", "rootlink" };
	static const char *const dirs[] = { "root/sub", "root", "rootevil" };
	if (tmp[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(at(files[i]));
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		rmdir(at(dirs[i]));
	rmdir(tmp);
}

TestSuite(allowed, .init = make_tree, .fini = remove_tree);

static bool
allowed(const char *rel, const char *root, char *resolved)
{
	const char *roots[] = { at(root) };
	return kc_cgi_script_allowed(at(rel), roots, 1, resolved);
}

Test(allowed, regular_executable_under_root)
{
	char resolved[PATH_MAX], want[PATH_MAX];
	cr_assert(allowed("root/ok.sh", "root", resolved));
	cr_assert_not_null(realpath(at("root/ok.sh"), want));
	cr_expect_str_eq(resolved, want);
	/* a symlink that stays inside resolves to its target */
	cr_assert(allowed("root/inner", "root", resolved));
	cr_expect_str_eq(resolved, want);
	/* ".." that comes back inside is fine; a root given through a symlink too */
	cr_expect(allowed("root/sub/../ok.sh", "root", resolved));
	cr_expect(allowed("root/ok.sh", "rootlink", resolved));
	cr_expect(allowed("rootlink/ok.sh", "root", resolved));
	cr_expect_str_eq(resolved, want);
}

Test(allowed, refusals)
{
	char resolved[PATH_MAX];
	cr_expect_not(allowed("root/escape", "root", resolved), "symlink escape");
	cr_expect_not(allowed("root/../outside.sh", "root", resolved), "dot-dot escape");
	cr_expect_not(allowed("outside.sh", "root", resolved), "not under the root");
	cr_expect_not(allowed("rootevil/a.sh", "root", resolved), "prefix look-alike root");
	cr_expect_not(allowed("root/noexec.sh", "root", resolved), "not executable");
	cr_expect_not(allowed("root/sub", "root", resolved), "a directory");
	cr_expect_not(allowed("root/missing.sh", "root", resolved), "missing");
	cr_expect_not(allowed("root/ok.sh", "root/missing", resolved), "missing root");
	cr_expect_not(allowed("root/ok.sh", "root/ok.sh", resolved), "a file as root");
	const char *none[] = { NULL };
	cr_expect_not(kc_cgi_script_allowed(at("root/ok.sh"), none, 0, resolved), "no roots");
}

Test(allowed, any_of_several_roots)
{
	char resolved[PATH_MAX];
	const char *roots[] = { at("rootevil"), "/nonexistent/keycard", at("root") };
	cr_expect(kc_cgi_script_allowed(at("root/ok.sh"), roots, 3, resolved));
	cr_expect_not(kc_cgi_script_allowed(at("outside.sh"), roots, 3, resolved));
	const char *slash[] = { "/" };
	cr_expect(kc_cgi_script_allowed(at("outside.sh"), slash, 1, resolved));
}

/* What kc_cgi_script_allowed refuses also fails to run: 502, nothing sent. */
Test(allowed, unrunnable_scripts_fail, .timeout = 10)
{
	static const char *const bad[] = { "root/noexec.sh", "root/sub", "root/missing.sh",
		"root/noshebang.sh" };
	char *env[] = { PATHENV, NULL };
	kc_cgi_opts opts = { .timeout_ms = 5000 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		run_ctx *c = ctx_new();
		cr_expect_eq(run_path(at(bad[i]), c, &opts, env), KC_CGI_FAILED, "%s", bad[i]);
		cr_expect_eq(c->out_len, 0);
		ctx_free(c);
	}
	run_ctx *c = ctx_new();
	cr_expect_eq(run_path(at("root/ok.sh"), c, &opts, env), KC_CGI_OK);
	expect_out(c, "Status: 200 OK\r\nContent-Type: a\r\n\r\nok");
	ctx_free(c);
}
