/* fuzz_policy.c: libFuzzer target for the policy compiler: every input is a
 * policy file, loaded with kc_policy_load() (scan, parse, includes, name
 * resolution, static checks, compile), then freed.
 *
 * The input is written to input.kc in a sandbox directory that holds
 * symbolic links to the entries of the source tree's policies/ (common.kc,
 * resources/, keys/, lists/, ...), so that a seed such as policies/main.kc
 * compiles whole, with its includes, keys and lists. A policy names files
 * (include globs, jwks/key/secret files, list, declare and clients files),
 * so the two ways the library reaches the file system, kc_file_read() and
 * glob(3), are wrapped at link time (-Wl,--wrap=kc_file_read,--wrap=glob):
 * anything outside the sandbox, or through a ".." or hidden segment, reads
 * as missing. A fuzzed policy cannot make the fuzzer read /dev/stdin, walk
 * the file system or depend on the machine.
 *
 * Besides the sanitizers' crashes, leaks and undefined behaviour, it aborts
 * on broken contracts:
 *   - kc_policy_load() returns a policy iff it reported no error (a refused
 *     policy always says why);
 *   - the diagnostics print, as text and as JSON;
 *   - a loaded policy decides: for a request made up for each route (its
 *     captures filled with values of their type), with claims for its first
 *     issuer, kc_decide() answers 200 iff it allows, a 4xx or 5xx
 *     otherwise, a challenge with every 401, exports only on allow and
 *     never with a control character.
 * Built and run by tests/fuzz/run.sh; seeds in tests/fuzz/corpus-policy/. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/diag.h"
#include "decide.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

#ifndef KC_FUZZ_DIR
#define KC_FUZZ_DIR "tests/fuzz"
#endif
#define KC_FUZZ_NOW 1740830400          /* 2025-03-01T12:00:00Z */
#define FUZZ_MAX_INPUT (256 * 1024)
#define MAX_ROUTES_DECIDED 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

char *__real_kc_file_read(const char *path, size_t max, size_t *len);
char *__wrap_kc_file_read(const char *path, size_t max, size_t *len);
int __real_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);

static char sandbox[PATH_MAX];          /* real path, no trailing '/' */
static size_t sandbox_len;
static char input_path[PATH_MAX + 16];
static FILE *devnull;
static kc_arena *arena;

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_policy: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* ---- the sandbox ---------------------------------------------------------------- */

/* Inside the sandbox, and no segment after it that is "..", or that
 * starts with '.' or '\' (a glob such as ".*" or "\.\." matches ".."). */
static bool
inside(const char *path)
{
	if (path == NULL || strncmp(path, sandbox, sandbox_len) != 0 || path[sandbox_len] != '/')
		return false;
	for (const char *s = path + sandbox_len; *s != '\0'; s++)
		if (s[0] == '/' && (s[1] == '.' || s[1] == '\\'))
			return false;
	return true;
}

char *
__wrap_kc_file_read(const char *path, size_t max, size_t *len)
{
	if (!inside(path)) {
		errno = ENOENT;
		return NULL;
	}
	return __real_kc_file_read(path, max, len);
}

int
__wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	if (!inside(pattern))
		return GLOB_NOMATCH;
	return __real_glob(pattern, flags, errfunc, g);
}

static void
sandbox_remove(void)
{
	DIR *d = opendir(sandbox);
	if (d != NULL) {
		struct dirent *e;
		char path[PATH_MAX + 256];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", sandbox, e->d_name);
			unlink(path);        /* only links and input.kc are made here */
		}
		closedir(d);
	}
	rmdir(sandbox);
}

static void
sandbox_make(void)
{
	const char *fixtures = getenv("KC_FUZZ_DIR");
	char src[PATH_MAX + 32], policies[PATH_MAX];
	snprintf(src, sizeof(src), "%s/../../policies", fixtures ? fixtures : KC_FUZZ_DIR);
	if (realpath(src, policies) == NULL)
		die("cannot find the policies directory", src);

	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof(tmpl), "%s/kc-fuzz-policy.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, sandbox) == NULL)
		die("cannot make the sandbox directory", strerror(errno));
	sandbox_len = strlen(sandbox);
	atexit(sandbox_remove);

	DIR *d = opendir(policies);
	if (d == NULL)
		die("cannot read", policies);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "input.kc") == 0)
			continue;
		char from[PATH_MAX + 256], to[PATH_MAX + 256];
		snprintf(from, sizeof(from), "%s/%s", policies, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", sandbox, e->d_name);
		if (symlink(from, to) != 0)
			die("cannot link into the sandbox", strerror(errno));
	}
	closedir(d);
	snprintf(input_path, sizeof(input_path), "%s/input.kc", sandbox);
}

static void
write_input(const uint8_t *data, size_t size)
{
	int fd = open(input_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("cannot write the input", strerror(errno));
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			die("cannot write the input", strerror(errno));
		}
		off += (size_t)n;
	}
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sandbox_make();
	devnull = fopen("/dev/null", "w");
	arena = kc_arena_new(64 * 1024);
	if (devnull == NULL || arena == NULL)
		die("cannot set up", NULL);
	return 0;
}

/* ---- deciding with a loaded policy ------------------------------------------------ */

/* A request path for a route pattern: every capture replaced by a value of
 * its type (the request may still select a more specific route). */
static bool
path_for(const char *pattern, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = pattern; *p != '\0';) {
		const char *put = NULL;
		size_t skip = 1;
		if (*p == '{') {
			const char *end = strchr(p, '}');
			if (end == NULL)
				return false;
			size_t n = (size_t)(end - p + 1);
			if (n >= 5 && memcmp(end - 3, "...", 3) == 0)
				put = "a/b";
			else if (n >= 5 && memcmp(end - 4, ":int", 4) == 0)
				put = "123";
			else if (n >= 6 && memcmp(end - 5, ":uuid", 5) == 0)
				put = "123e4567-e89b-12d3-a456-426614174000";
			else if (n >= 5 && memcmp(end - 4, ":hex", 4) == 0)
				put = "abc123";
			else if (n >= 6 && memcmp(end - 5, ":slug", 5) == 0)
				put = "x-1";
			else
				put = "x";
			skip = n;
		}
		size_t len = put ? strlen(put) : 1;
		if (o + len + 1 > cap)
			return false;
		memcpy(out + o, put ? put : p, len);
		o += len;
		p += skip;
	}
	out[o] = '\0';
	return true;
}

static const char *
method_of(unsigned methods)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	for (unsigned b = 0; b < 7; b++)
		if (methods & (1u << b))
			return names[b];
	return "GET";
}

/* Claims that pass the first issuer's usual checks, with the claims the
 * example policies read. NULL when the policy has no issuer. */
static char *
claims_for(const kc_policy *p)
{
	if (kc_policy_issuer_count(p) == 0)
		return NULL;
	const char *name, *iss, *aud;
	uint32_t algs;
	kc_policy_issuer_info(p, 0, &name, &iss, &aud, &algs);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:b, s:s, s:[s,s], s:{s:[s]}}",
	    "iss", iss, "sub", "alice", "client_id", "0oa1mobile", "tenant", "acme",
	    "iat", (json_int_t)KC_FUZZ_NOW - 60, "exp", (json_int_t)KC_FUZZ_NOW + 3600,
	    "auth_time", (json_int_t)KC_FUZZ_NOW - 600, "jti", "j-1", "email", "alice@example.com",
	    "email_verified", 1, "scope", "read:user admin r:devices:123 x:devices:* r:locations:x-1",
	    "groups", "staff", "keycard-admins", "realm_access", "roles", "admin");
	if (c == NULL)
		die("out of memory", NULL);
	if (aud != NULL)
		json_object_set_new(c, "aud", json_string(aud));
	char *text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (text == NULL)
		die("out of memory", NULL);
	return text;
}

static void
check_decision(const kc_decision *d, const char *method, const char *path)
{
	char what[512];
	snprintf(what, sizeof(what), "%s %s: status %d, verdict %d", method, path, d->status,
	    (int)d->verdict);
	if ((d->status == 200) != (d->verdict == KC_ALLOW))
		die("a decision is 200 iff it allows", what);
	if (d->verdict != KC_ALLOW && (d->status < 400 || d->status > 599))
		die("a refusal has a 4xx or 5xx status", what);
	if (d->status == 401 && d->www_authenticate == NULL)
		die("a 401 has a challenge", what);
	if (d->verdict != KC_ALLOW && d->n_exports != 0)
		die("exports only on allow", what);
	if (d->n_exports > sizeof(d->exports) / sizeof(d->exports[0]))
		die("too many exports", what);
	for (size_t i = 0; i < d->n_exports; i++) {
		if (d->exports[i].name == NULL || d->exports[i].value == NULL)
			die("an export without a name or value", what);
		for (const char *s = d->exports[i].value; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				die("an export with a control character", what);
	}
}

static void
decide_some(const kc_policy *p)
{
	char *claims = claims_for(p);
	static const kc_header headers[] = {
		{ "User-Agent", 10, "fuzz/1.0", 8 },
		{ "X-Tenant", 8, "acme", 4 },
	};
	for (uint32_t i = 0; i <= p->n_routes && i < MAX_ROUTES_DECIDED; i++) {
		char path[KC_PATH_MAX + 1];
		const char *method = "GET";
		if (i == p->n_routes) {
			snprintf(path, sizeof(path), "/no/such/route");
		} else {
			method = method_of(p->routes[i].methods);
			if (!path_for(p->routes[i].pattern, path, sizeof(path)))
				continue;
		}
		for (int with_claims = 0; with_claims < 2; with_claims++) {
			kc_request req = {
				.method = method,
				.path = path,
				.path_len = strlen(path),
				.query = "page=2&debug=0",
				.query_len = 14,
				.headers = headers,
				.n_headers = 2,
				.remote_addr = "198.51.100.20",
				.now = KC_FUZZ_NOW,
				.synthetic_claims = with_claims ? claims : NULL,
				.synthetic_claims_len = with_claims && claims ? strlen(claims) : 0,
			};
			kc_decision d;
			kc_decide(p, &req, arena, &d, NULL);
			check_decision(&d, method, path);
			kc_arena_clear(arena);
		}
	}
	free(claims);
}

/* ---- the target ------------------------------------------------------------------- */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	write_input(data, size);
	kc_diag *diag = kc_diag_new();
	if (diag == NULL)
		die("out of memory", NULL);
	kc_policy *p = kc_policy_load(input_path, NULL, diag);
	unsigned errors = kc_diag_errors(diag);
	if (p != NULL && errors != 0)
		die("a policy was loaded despite errors", NULL);
	if (p == NULL && errors == 0)
		die("a policy was refused without an error", NULL);
	kc_diag_print(diag, devnull, false);
	kc_diag_print(diag, devnull, true);
	if (p != NULL) {
		kc_policy_print_routes(p, devnull);
		decide_some(p);
	}
	kc_policy_free(p);
	kc_diag_free(diag);
	return 0;
}
