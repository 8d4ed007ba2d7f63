/* log.h: one line per decision, key=value, to stderr (the web server's
 * error log):
 *
 *   keycard: time=2026-11-23T15:04:05Z method=GET path=/devices/7 status=403
 *     decision=deny_rule rule=owner-only sub=alice client_id=app1
 *     client_name=- token=3f2a9c1b0d4e latency_us=41 cache=hit
 *
 * (one line). Never the token: only its short hash. Every value that came
 * from the client or the token is escaped: bytes outside printable ASCII,
 * space, '"', '\\' and '=' become \xHH, so a value can neither break the
 * line nor forge a key; a missing value is "-". Values are cut at
 * KC_GW_LOG_MAX_VALUE bytes (marked with "..."). */
#ifndef KC_GATEWAY_LOG_H
#define KC_GATEWAY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"

#define KC_GW_LOG_MAX_VALUE 256
#define KC_GW_LOG_MAX_LINE 4096

typedef struct kc_gw_log_entry {
	int64_t time;               /* seconds since the epoch */
	const char *method;
	const char *path;
	size_t path_len;
	int status;                 /* the status sent */
	const kc_decision *decision; /* NULL: a request that never reached kc_decide */
	const char *note;           /* extra reason (gateway failures), or NULL */
	uint64_t latency_us;
} kc_gw_log_entry;

/* The name of a verdict in the log: "allow", "deny_token", ... */
const char *kc_gw_log_verdict(kc_verdict v);

/* Escapes n bytes of s into out (cap bytes, NUL-terminated); returns the
 * length written. */
size_t kc_gw_log_escape(char *out, size_t cap, const char *s, size_t n);

/* Formats the line (with its newline) into buf; returns its length. */
size_t kc_gw_log_format(char *buf, size_t cap, const kc_gw_log_entry *e);

/* Formats and writes the line to fd 2 with one write(2). */
void kc_gw_log_decision(const kc_gw_log_entry *e);

/* A free-form line "keycard: " + msg (escaped) to fd 2. */
void kc_gw_log_msg(const char *msg);

#endif
