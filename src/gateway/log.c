/* log.c: the decision log line (see log.h). */
#include "config.h"

#include "gateway/log.h"

#include "core/util.h"

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
 * cached request. One list of fields (fields() below) serves both forms. */
typedef struct lbuf {
	char *b;
	size_t cap, n;              /* n < cap always: room for the NUL */
	bool json;
} lbuf;

static void
put(lbuf *l, const char *s, size_t n)
{
	if (n > l->cap - 1 - l->n)
		n = l->cap - 1 - l->n;
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

/* A JSON string of n bytes of s, cut like the key=value form; bytes that
 * are not UTF-8 become U+FFFD, so the line is always JSON. */
static void
json_str(lbuf *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	bool cut = n > KC_GW_LOG_MAX_VALUE;
	if (cut)
		n = KC_GW_LOG_MAX_VALUE;
	put(l, "\"", 1);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = kc_utf8_seq(p + i, n - i);
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

/* One field: ' key=value' (escaped, "-" when missing) or ',"key":"value"'
 * (null when missing). */
static void
field(lbuf *l, const char *key, const char *v, size_t n)
{
	put(l, l->json ? ",\"" : " ", l->json ? 2 : 1);
	put(l, key, strlen(key));
	put(l, l->json ? "\":" : "=", l->json ? 2 : 1);
	if (!l->json)
		l->n += kc_gw_log_escape(l->b + l->n, l->cap - l->n, v, n);
	else if (v == NULL)
		put(l, "null", 4);
	else
		json_str(l, v, n);
}

static void
field_str(lbuf *l, const char *key, const char *v)
{
	field(l, key, v, v ? strlen(v) : 0);
}

/* A number: bare in both forms. */
static void
field_num(lbuf *l, const char *key, uint64_t v)
{
	char num[24];
	size_t i = sizeof(num);
	do
		num[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(l, l->json ? ",\"" : " ", l->json ? 2 : 1);
	put(l, key, strlen(key));
	put(l, l->json ? "\":" : "=", l->json ? 2 : 1);
	put(l, num + i, sizeof(num) - i);
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

/* Every field after the time, in the order log.h documents. */
static void
fields(lbuf *l, const kc_gw_log_entry *e)
{
	const kc_decision *d = e->decision;
	field_str(l, "method", e->method);
	field(l, "path", e->path, e->path ? e->path_len : 0);
	field_num(l, "status", e->status < 0 ? 0 : (uint64_t)e->status);
	field_str(l, "decision", d ? kc_gw_log_verdict(d->verdict) : "error");
	field_str(l, "rule", d ? d->rule_label : NULL);
	field_str(l, "sub", d ? d->subject : NULL);
	field_str(l, "client_id", d ? d->client_id : NULL);
	field_str(l, "client_name", d ? d->client_name : NULL);
	field_str(l, "token", d && d->token_hash[0] ? d->token_hash : NULL);
	field_num(l, "latency_us", e->latency_us);
	field_str(l, "cache", d && d->token_hash[0] ? (d->cache_hit ? "hit" : "miss") : NULL);
	if (d != NULL && d->note != NULL)
		field_str(l, "reason", d->note);
	if (e->note != NULL)
		field_str(l, "note", e->note);
}

size_t
kc_gw_log_format(char *buf, size_t cap, const kc_gw_log_entry *e)
{
	const char *t = utc_time(e->time);
	if (e->json) {
		/* cap >= KC_GW_LOG_MAX_LINE holds the longest line (log.h), so
		 * nothing is ever cut and the line always parses. */
		if (cap < KC_GW_LOG_MAX_LINE)
			return 0;
		lbuf l = { buf, cap - 2, 0, true };
		put(&l, "{\"time\":\"", 9);
		put(&l, t, strlen(t));
		put(&l, "\"", 1);
		fields(&l, e);
		buf[l.n++] = '}';
		buf[l.n++] = '\n';
		buf[l.n] = '\0';
		return l.n;
	}
	if (cap < 2)
		return 0;
	lbuf l = { buf, cap, 0, false };
	put(&l, "keycard: time=", 14);
	put(&l, t, strlen(t));
	fields(&l, e);
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
