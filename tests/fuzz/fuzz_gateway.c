/* fuzz_gateway.c: libFuzzer target for the two places keycard-fcgi reads
 * bytes a web server or a CGI script chose: FastCGI params → kc_request
 * (then the whole decision and the reply), and the CGI response header
 * parser. The first input byte picks the target; the rest is its input.
 *
 * Invariants checked beyond "no crash, no leak": a request that builds has
 * a method and a path starting with '/'; the reply never carries a control
 * character in a header line and always starts with "Status: "; a header
 * block the parser accepts has a status in 100..599. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/diag.h"
#include "decide.h"
#include "gateway/cgi.h"
#include "gateway/reply.h"
#include "gateway/request.h"
#include "policy/policy.h"

#define MAX_PARAMS 256

static kc_policy *policy;
static kc_diag *diag;

struct sink {
	char buf[16384];
	size_t n;
};

static ssize_t
sink_write(void *ctx, const char *b, size_t n)
{
	struct sink *s = ctx;
	if (n > sizeof(s->buf) - s->n)
		n = sizeof(s->buf) - s->n;
	memcpy(s->buf + s->n, b, n);
	s->n += n;
	return (ssize_t)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A small policy with every route kind, so decisions go deep. */
	char dir[] = "/tmp/kc-fuzz-gw-XXXXXX";
	if (mkdtemp(dir) == NULL)
		abort();
	char path[256];
	snprintf(path, sizeof(path), "%s/keys.jwks", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"k\",\"alg\":\"HS256\",\"k\":"
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}]}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/main.kc", dir);
	f = fopen(path, "w");
	fputs("keycard 1;\nrealm \"fuzz\";\n"
	    "issuer i \"https://i/\" { audience \"a\"; jwks file \"keys.jwks\"; }\n"
	    "claims { sub string required; tenant string; }\n"
	    "scopes { entity devices perms r, x; }\n"
	    "resource r { mount /api;\n"
	    "  route GET /d/{id:slug} { allow as \"read\" if scope \"r:devices:{id}\"; }\n"
	    "  route POST /d/{id}/c { allow if scope \"x:devices:{id}\" and has(claims.tenant);\n"
	    "    export { KEYCARD_T = claims.tenant; header \"X-T\" = claims.tenant; } }\n"
	    "  route GET /open { auth none; allow; }\n"
	    "  route GET /opt { auth optional; allow; }\n"
	    "}\n", f);
	fclose(f);
	diag = kc_diag_new();
	policy = kc_policy_load(path, NULL, diag);
	if (policy == NULL) {
		kc_diag_print(diag, stderr, false);
		abort();
	}
	return 0;
}

static void
fuzz_params(const uint8_t *data, size_t size)
{
	/* NUL-separated "NAME=value" strings, as libfcgi hands them over. */
	char *copy = malloc(size + 1);
	char *envp[MAX_PARAMS + 1];
	size_t n = 0;
	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && n < MAX_PARAMS;) {
		size_t len = strlen(copy + i);
		if (len > 0 && strchr(copy + i, '=') != NULL)
			envp[n++] = copy + i;
		i += len + 1;
	}
	envp[n] = NULL;

	kc_arena *a = kc_arena_new(64 * 1024);
	kc_request req;
	kc_header hdrs[KC_MAX_HEADERS];
	const char *why = NULL;
	memset(&req, 0, sizeof(req));
	req.now = 1700000000;
	kc_gw_mode mode = kc_gw_request_mode(envp, 0);
	if (kc_gw_request_build(envp, a, &req, hdrs, &why)) {
		if (req.method == NULL || req.path == NULL || req.path_len == 0 || req.path[0] != '/')
			abort();
		kc_decision d;
		kc_decide(policy, &req, a, &d, NULL);
		struct sink s = { .n = 0 };
		kc_gw_out out = { sink_write, &s };
		if (mode != KC_GW_GATEWAY || d.status != 200) {
			kc_gw_reply(&d, mode, &out, NULL);
			if (s.n < 8 || memcmp(s.buf, "Status: ", 8) != 0)
				abort();
			/* Header lines: no control characters but the CRLF ending each. */
			for (size_t i = 0; i + 1 < s.n; i++) {
				if (s.buf[i] == '\r' && s.buf[i + 1] == '\n') {
					if (i + 3 < s.n && s.buf[i + 2] == '\r' && s.buf[i + 3] == '\n')
						break;   /* end of headers */
					i++;
					continue;
				}
				if ((unsigned char)s.buf[i] < 0x20 && s.buf[i] != '\t')
					abort();
			}
		}
	}
	kc_arena_free(a);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		fuzz_params(data + 1, size - 1);
	} else {
		int status = 0;
		if (kc_cgi_parse_headers((const char *)data + 1, size - 1, &status) &&
		    (status < 100 || status > 599))
			abort();
	}
	return 0;
}
