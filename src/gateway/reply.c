/* reply.c: a kc_decision → Status, Variable-*, WWW-Authenticate, body. */
#include "config.h"

#include "gateway/reply.h"

#include <stdio.h>
#include <string.h>

const char *
kc_gw_reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

int
kc_gw_reply_status(const kc_decision *d, kc_gw_mode mode)
{
	return kc_gw_status_for_mode(d->status, mode);
}

int
kc_gw_status_for_mode(int s, kc_gw_mode mode)
{
	if (s < 100 || s > 599)
		s = 500;
	if (mode != KC_GW_AUTHORIZE)
		return s;
	if (s >= 200 && s < 300)
		return 200;
	if (s == 401 || s == 403 || s >= 500)
		return s;
	return 403;
}

/* A buffered writer: the whole answer goes out in one write. */
typedef struct wbuf {
	char b[8192];
	size_t n;
	bool over;
} wbuf;

static void
put(wbuf *w, const char *s, size_t n)
{
	if (w->over || n > sizeof(w->b) - w->n) {
		w->over = true;
		return;
	}
	memcpy(w->b + w->n, s, n);
	w->n += n;
}

static void
puts_(wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static bool
safe_value(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool
safe_name(const char *v)
{
	if (*v == '\0')
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static void
header(wbuf *w, const char *name, const char *value)
{
	if (value == NULL || !safe_value(value))
		return;
	puts_(w, name);
	puts_(w, ": ");
	puts_(w, value);
	puts_(w, "\r\n");
}

static void
status_line(wbuf *w, int status)
{
	char code[4] = { (char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
		(char)('0' + status % 10), ' ' };
	puts_(w, "Status: ");
	put(w, code, 4);
	puts_(w, kc_gw_reason_phrase(status));
	puts_(w, "\r\n");
}

/* "Variable-NAME: value\r\n". The value is checked here, before the
 * prefix goes out, so a dropped value leaves no half line behind. */
static void
variable(wbuf *w, const char *name, const char *value)
{
	if (value == NULL || !safe_value(value))
		return;
	puts_(w, "Variable-");
	header(w, name, value);
}

static bool
flush(wbuf *w, const kc_gw_out *out)
{
	if (w->over)
		return false;
	return out->write(out->ctx, w->b, w->n) == (ssize_t)w->n;
}

/* Appends s to the body, keeping only printable bytes (s comes from the
 * policy, but a body is no place for control characters either). */
static void
body_text(char *body, size_t cap, size_t *n, const char *s)
{
	for (; *s && *n + 1 < cap; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			body[(*n)++] = *s;
	body[*n] = '\0';
}

/* Ends a body line; the last byte of a full body becomes the newline. */
static void
body_nl(char *body, size_t cap, size_t *n)
{
	if (*n + 1 >= cap)
		*n = cap - 2;
	body[(*n)++] = '\n';
	body[*n] = '\0';
}

bool
kc_gw_reply(const kc_decision *d, kc_gw_mode mode, const kc_gw_out *out, int *sent)
{
	wbuf w = { .n = 0, .over = false };
	int status = kc_gw_reply_status(d, mode);

	if (sent != NULL)
		*sent = status;
	status_line(&w, status);
	if (status == 200) {
		for (size_t i = 0; i < d->n_exports; i++) {
			const kc_export_value *e = &d->exports[i];
			if (e->name == NULL || !safe_name(e->name) || strlen(e->name) > 128)
				continue;
			variable(&w, e->name, e->value);
		}
		/* The server's own header stripping (the mod_magnet and mod_lua
		 * scripts in examples/) runs when it sees this: no client can
		 * set a server's request environment. */
		if (mode == KC_GW_AUTHORIZER)
			variable(&w, KC_GW_DECISION_VAR, "allow");
		if (mode == KC_GW_AUTHORIZE)
			puts_(&w, "Content-Type: text/plain\r\n");
		puts_(&w, "\r\n");
		if (w.over) {
			/* An empty or cut answer could pass as an allow without
			 * the identity: fail closed. */
			if (sent != NULL)
				*sent = 500;
			return kc_gw_reply_error(500, "the identity is too large to hand on", out);
		}
		return flush(&w, out);
	}
	/* nginx copies WWW-Authenticate from a 401 only; send it on every
	 * refusal that has one (a 403 insufficient_scope names the scope). */
	header(&w, "WWW-Authenticate", d->www_authenticate);
	if (status == 503 && d->retry_after > 0) {
		char ra[24];
		snprintf(ra, sizeof(ra), "%d", d->retry_after);
		header(&w, "Retry-After", ra);
	}
	puts_(&w, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\r\n");

	char body[KC_GW_MAX_BODY];
	size_t n = 0;
	body[0] = '\0';
	char head[64];
	snprintf(head, sizeof(head), "%d %s", status, kc_gw_reason_phrase(status));
	body_text(body, sizeof(body), &n, head);
	if (d->error != NULL) {
		body_text(body, sizeof(body), &n, ": ");
		body_text(body, sizeof(body), &n, d->error);
	}
	if (d->scope != NULL) {
		body_text(body, sizeof(body), &n, " (scope ");
		body_text(body, sizeof(body), &n, d->scope);
		body_text(body, sizeof(body), &n, ")");
	}
	if (d->description != NULL) {
		body_nl(body, sizeof(body), &n);
		body_text(body, sizeof(body), &n, d->description);
	}
	body_nl(body, sizeof(body), &n);
	put(&w, body, n);
	return flush(&w, out);
}

bool
kc_gw_reply_error(int status, const char *text, const kc_gw_out *out)
{
	wbuf w = { .n = 0, .over = false };
	status_line(&w, status);
	puts_(&w, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\r\n");
	char body[KC_GW_MAX_BODY];
	size_t n = 0;
	char head[64];
	snprintf(head, sizeof(head), "%d %s", status, kc_gw_reason_phrase(status));
	body_text(body, sizeof(body), &n, head);
	if (text != NULL) {
		body_text(body, sizeof(body), &n, ": ");
		body_text(body, sizeof(body), &n, text);
	}
	body_nl(body, sizeof(body), &n);
	put(&w, body, n);
	return flush(&w, out);
}
