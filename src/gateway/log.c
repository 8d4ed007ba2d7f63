/* log.c: the decision log line (see log.h). */
#include "config.h"

#include "gateway/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *
kc_gw_log_verdict(kc_verdict v)
{
	switch (v) {
	case KC_ALLOW: return "allow";
	case KC_DENY_PATH: return "deny_path";
	case KC_DENY_NO_ROUTE: return "deny_no_route";
	case KC_DENY_REQUEST: return "deny_request";
	case KC_DENY_NO_TOKEN: return "deny_no_token";
	case KC_DENY_TOKEN: return "deny_token";
	case KC_DENY_UNAVAILABLE: return "unavailable";
	case KC_DENY_RULE: return "deny_rule";
	case KC_DENY_DEFAULT: return "deny_default";
	}
	return "unknown";
}

size_t
kc_gw_log_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap == 0)
		return 0;
	if (s == NULL || n == 0) {
		if (cap > 1)
			out[o++] = '-';
		out[o] = '\0';
		return o;
	}
	bool cut = n > KC_GW_LOG_MAX_VALUE;
	if (cut)
		n = KC_GW_LOG_MAX_VALUE;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
		if (plain) {
			if (o + 2 > cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 5 > cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (cut && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

/* The line is built in place, without printf: it is written for every
 * request, and formatting was a good part of keycard's own time per
 * cached request. */
typedef struct lbuf {
	char *b;
	size_t cap, n;              /* n < cap always: room for the NUL */
} lbuf;

static void
put(lbuf *l, const char *s, size_t n)
{
	if (n > l->cap - 1 - l->n)
		n = l->cap - 1 - l->n;
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void
kv(lbuf *l, const char *key, const char *v, size_t n)
{
	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
	l->n += kc_gw_log_escape(l->b + l->n, l->cap - l->n, v, n);
}

static void
kvs(lbuf *l, const char *key, const char *v)
{
	kv(l, key, v, v ? strlen(v) : 0);
}

static void
kvu(lbuf *l, const char *key, uint64_t v)
{
	char num[24];
	size_t i = sizeof(num);
	do
		num[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	kv(l, key, num + i, sizeof(num) - i);
}

/* "2026-11-23T15:04:05Z", remembered per thread for the second it names. */
static const char *
utc_time(int64_t t)
{
	static _Thread_local int64_t last = INT64_MIN;
	static _Thread_local char text[32];
	if (t != last) {
		struct tm tm;
		time_t tt = (time_t)t;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(text, sizeof(text), "%lld", (long long)t);
		last = t;
	}
	return text;
}

/* ---- JSON: the same keys, one object per line ---------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* A JSON string (or null) of n bytes of s, cut like the key=value form;
 * bytes that are not UTF-8 become U+FFFD, so the line is always JSON. */
static void
json_str(lbuf *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (s == NULL) {
		put(l, "null", 4);
		return;
	}
	bool cut = n > KC_GW_LOG_MAX_VALUE;
	if (cut)
		n = KC_GW_LOG_MAX_VALUE;
	put(l, "\"", 1);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = utf8_seq(p + i, n - i);
		if (k == 0) {
			put(l, "\\ufffd", 6);
			i++;
		} else if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			put(l, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(l, esc, 6);
			i++;
		} else {
			put(l, s + i, k);
			i += k;
		}
	}
	if (cut)
		put(l, "...", 3);
	put(l, "\"", 1);
}

static void
jkv(lbuf *l, const char *key, const char *v, size_t n)
{
	put(l, ",\"", 2);
	put(l, key, strlen(key));
	put(l, "\":", 2);
	json_str(l, v, n);
}

static void
jkvs(lbuf *l, const char *key, const char *v)
{
	jkv(l, key, v, v ? strlen(v) : 0);
}

static void
jkvu(lbuf *l, const char *key, uint64_t v)
{
	char num[24];
	size_t i = sizeof(num);
	do
		num[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(l, ",\"", 2);
	put(l, key, strlen(key));
	put(l, "\":", 2);
	put(l, num + i, sizeof(num) - i);
}

static size_t
format_json(char *buf, size_t cap, const kc_gw_log_entry *e)
{
	/* cap >= KC_GW_LOG_MAX_LINE holds the longest line (log.h), so
	 * nothing is ever cut and the line always parses. */
	lbuf l = { buf, cap - 2, 0 };
	const kc_decision *d = e->decision;
	const char *t = utc_time(e->time);

	put(&l, "{\"time\":\"", 9);
	put(&l, t, strlen(t));
	put(&l, "\"", 1);
	jkvs(&l, "method", e->method);
	jkv(&l, "path", e->path, e->path ? e->path_len : 0);
	jkvu(&l, "status", e->status < 0 ? 0 : (uint64_t)e->status);
	jkvs(&l, "decision", d ? kc_gw_log_verdict(d->verdict) : "error");
	jkvs(&l, "rule", d ? d->rule_label : NULL);
	jkvs(&l, "sub", d ? d->subject : NULL);
	jkvs(&l, "client_id", d ? d->client_id : NULL);
	jkvs(&l, "client_name", d ? d->client_name : NULL);
	jkvs(&l, "token", d && d->token_hash[0] ? d->token_hash : NULL);
	jkvu(&l, "latency_us", e->latency_us);
	jkvs(&l, "cache", d && d->token_hash[0] ? (d->cache_hit ? "hit" : "miss") : NULL);
	if (d != NULL && d->note != NULL)
		jkvs(&l, "reason", d->note);
	if (e->note != NULL)
		jkvs(&l, "note", e->note);
	buf[l.n++] = '}';
	buf[l.n++] = '\n';
	buf[l.n] = '\0';
	return l.n;
}

size_t
kc_gw_log_format(char *buf, size_t cap, const kc_gw_log_entry *e)
{
	lbuf l = { buf, cap, 0 };
	const kc_decision *d = e->decision;

	if (e->json)
		return cap < KC_GW_LOG_MAX_LINE ? 0 : format_json(buf, cap, e);
	if (cap < 2)
		return 0;
	put(&l, "keycard: time=", 14);
	const char *t = utc_time(e->time);
	put(&l, t, strlen(t));
	kvs(&l, "method", e->method);
	kv(&l, "path", e->path, e->path ? e->path_len : 0);
	kvu(&l, "status", e->status < 0 ? 0 : (uint64_t)e->status);
	kvs(&l, "decision", d ? kc_gw_log_verdict(d->verdict) : "error");
	kvs(&l, "rule", d ? d->rule_label : NULL);
	kvs(&l, "sub", d ? d->subject : NULL);
	kvs(&l, "client_id", d ? d->client_id : NULL);
	kvs(&l, "client_name", d ? d->client_name : NULL);
	kvs(&l, "token", d && d->token_hash[0] ? d->token_hash : NULL);
	kvu(&l, "latency_us", e->latency_us);
	kvs(&l, "cache", d && d->token_hash[0] ? (d->cache_hit ? "hit" : "miss") : NULL);
	if (d != NULL && d->note != NULL)
		kvs(&l, "reason", d->note);
	if (e->note != NULL)
		kvs(&l, "note", e->note);
	if (l.n + 1 >= cap)
		l.n = cap - 2;
	buf[l.n++] = '\n';
	buf[l.n] = '\0';
	return l.n;
}

static void
write_all(const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, b, n);
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

void
kc_gw_log_decision(const kc_gw_log_entry *e)
{
	char line[KC_GW_LOG_MAX_LINE];
	size_t n = kc_gw_log_format(line, sizeof(line), e);
	write_all(line, n);
}

void
kc_gw_log_msg(const char *msg)
{
	char line[KC_GW_LOG_MAX_LINE];
	size_t n = (size_t)snprintf(line, sizeof(line), "keycard: ");
	for (const char *p = msg; *p && n + 2 < sizeof(line); p++)
		line[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
	line[n++] = '\n';
	write_all(line, n);
}
