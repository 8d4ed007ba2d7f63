/* request.c: FastCGI params or a CGI environment → kc_request. */
#include "config.h"

#include "gateway/request.h"

#include <string.h>
#include <strings.h>

_Static_assert(KC_MAX_HEADERS == 128, "KC_GW_WHY_HEADERS names the limit");

const char *
kc_gw_param(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (char *const *e = envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

kc_gw_mode
kc_gw_request_mode(char *const *envp, int role)
{
	if (role == 2)
		return KC_GW_AUTHORIZER;
	if (role == 0) {
		const char *r = kc_gw_param(envp, "FCGI_ROLE");
		if (r != NULL && strcmp(r, "AUTHORIZER") == 0)
			return KC_GW_AUTHORIZER;
	}
	const char *m = kc_gw_param(envp, "KEYCARD_MODE");
	if (m != NULL && strcasecmp(m, "authorize") == 0)
		return KC_GW_AUTHORIZE;
	return KC_GW_GATEWAY;
}

static size_t
bounded_len(const char *s)
{
	const char *z = memchr(s, '\0', KC_GW_MAX_PARAM);
	return z ? (size_t)(z - s) : KC_GW_MAX_PARAM;
}

/* A value the policy may read is refused when too long, never cut short:
 * a rule must not judge a prefix of what the app receives. */
static bool
too_long(const char *s)
{
	return memchr(s, '\0', KC_GW_MAX_PARAM) == NULL;
}

/* "HTTP_X_FORWARDED_FOR" (without the prefix) → "X-Forwarded-For". */
static char *
header_name(kc_arena *arena, const char *cgi, size_t n)
{
	char *h = kc_arena_alloc(arena, n + 1);
	if (h == NULL)
		return NULL;
	bool start = true;
	for (size_t i = 0; i < n; i++) {
		char c = cgi[i];
		if (c == '_') {
			h[i] = '-';
			start = true;
			continue;
		}
		if (!start && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		h[i] = c;
		start = false;
	}
	h[n] = '\0';
	return h;
}

/* False when the request must be refused (*why says why). */
static bool
add_header(kc_arena *arena, kc_request *req, kc_header *hdrs, const char *cgi, size_t name_len,
    const char *value, const char **why)
{
	if (name_len == 0)
		return true;
	/* Refused, not cut: a deny rule on a header must not be dodged by
	 * pushing that header past the limit. */
	if (req->n_headers >= KC_MAX_HEADERS) {
		*why = KC_GW_WHY_HEADERS;
		return false;
	}
	const char *end = memchr(value, '\0', KC_GW_MAX_PARAM);
	if (end == NULL) {
		*why = "a header value is longer than 64 KiB";
		return false;
	}
	char *name = header_name(arena, cgi, name_len);
	if (name == NULL) {
		*why = KC_GW_WHY_OOM;
		return false;
	}
	hdrs[req->n_headers++] = (kc_header){ name, name_len, value, (size_t)(end - value) };
	return true;
}

/* The path of a request target: origin-form as is, absolute-form
 * ("http://host/p") from its path on. */
static const char *
target_path(const char *t)
{
	if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
		const char *p = strstr(t, "://") + 3;
		p += strcspn(p, "/?#");
		return *p == '/' ? p : NULL;
	}
	return t[0] == '/' ? t : NULL;
}

bool
kc_gw_request_build(char *const *envp, kc_arena *arena, kc_request *req,
    kc_header hdrs[KC_MAX_HEADERS], const char **why)
{
	const char *method = NULL, *uri = NULL, *qs = NULL, *script = NULL, *info = NULL;

	req->n_headers = 0;
	req->headers = hdrs;
	req->remote_addr = NULL;
	for (char *const *e = envp; e != NULL && *e != NULL; e++) {
		const char *s = *e, *eq = strchr(s, '=');
		if (eq == NULL)
			continue;
		size_t nl = (size_t)(eq - s);
		const char *v = eq + 1;
#define IS(lit) (nl == sizeof(lit) - 1 && memcmp(s, lit, nl) == 0)
		if (nl > 5 && memcmp(s, "HTTP_", 5) == 0) {
			if (!add_header(arena, req, hdrs, s + 5, nl - 5, v, why))
				return false;
		} else if (IS("CONTENT_TYPE") || IS("CONTENT_LENGTH")) {
			if (!add_header(arena, req, hdrs, s, nl, v, why))
				return false;
		} else if (IS("REQUEST_METHOD"))
			method = v;
		else if (IS("REQUEST_URI"))
			uri = v;
		else if (IS("QUERY_STRING"))
			qs = v;
		else if (IS("SCRIPT_NAME"))
			script = v;
		else if (IS("PATH_INFO"))
			info = v;
		else if (IS("REMOTE_ADDR"))
			req->remote_addr = v[0] ? v : NULL;
#undef IS
	}
	if (method == NULL || method[0] == '\0') {
		*why = "no REQUEST_METHOD";
		return false;
	}
	req->method = method;

	const char *path = NULL;
	size_t len = 0;
	if (uri != NULL && uri[0] != '\0') {
		path = target_path(uri);
		if (path == NULL) {
			*why = "REQUEST_URI is not an origin-form target";
			return false;
		}
		if (too_long(path)) {
			*why = "REQUEST_URI is longer than 64 KiB";
			return false;
		}
		len = strcspn(path, "?#");
		if (path[len] == '?') {
			req->query = path + len + 1;
			req->query_len = strcspn(req->query, "#");
		} else {
			req->query = NULL;
			req->query_len = 0;
		}
	} else if (script != NULL || info != NULL) {
		/* A server without REQUEST_URI: rebuild it from the CGI split. */
		if ((script && too_long(script)) || (info && too_long(info))) {
			*why = "SCRIPT_NAME or PATH_INFO is longer than 64 KiB";
			return false;
		}
		size_t a = script ? bounded_len(script) : 0, b = info ? bounded_len(info) : 0;
		char *p = kc_arena_alloc(arena, a + b + 1);
		if (p == NULL) {
			*why = KC_GW_WHY_OOM;
			return false;
		}
		memcpy(p, script ? script : "", a);
		memcpy(p + a, info ? info : "", b);
		p[a + b] = '\0';
		path = p;
		len = a + b;
		req->query = NULL;
		req->query_len = 0;
	}
	if (path == NULL || path[0] != '/') {
		*why = "no request target (REQUEST_URI)";
		return false;
	}
	req->path = path;
	req->path_len = len;
	if (req->query == NULL && qs != NULL && qs[0] != '\0') {
		if (too_long(qs)) {
			*why = "QUERY_STRING is longer than 64 KiB";
			return false;
		}
		req->query = qs;
		req->query_len = bounded_len(qs);
	}
	return true;
}
