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

size_t
kc_gw_log_format(char *buf, size_t cap, const kc_gw_log_entry *e)
{
	lbuf l = { buf, cap, 0 };
	const kc_decision *d = e->decision;

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
