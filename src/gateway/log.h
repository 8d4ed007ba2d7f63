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
 * KC_GW_LOG_MAX_VALUE bytes (marked with "...").
 *
 * With json set the same keys and values form one JSON object per line
 * (no "keycard: " prefix; a missing value is null, status and latency_us
 * are numbers; strings are escaped as JSON wants and bytes that are not
 * UTF-8 become U+FFFD), for log pipelines that parse JSON:
 *
 *   {"time":"2026-11-23T15:04:05Z","method":"GET","path":"/devices/7",
 *    "status":403,"decision":"deny_rule",...,"cache":"hit"} */
#ifndef KC_GATEWAY_LOG_H
#define KC_GATEWAY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"

#define KC_GW_LOG_MAX_VALUE 256
/* The longest line: 11 string values of at most KC_GW_LOG_MAX_VALUE bytes,
 * 6 bytes each once escaped, with "...", quotes and keys; and two numbers. */
#define KC_GW_LOG_MAX_LINE (11 * (KC_GW_LOG_MAX_VALUE * 6 + 32) + 128)

typedef struct kc_gw_log_entry {
	int64_t time;               /* seconds since the epoch */
	const char *method;
	const char *path;
	size_t path_len;
	int status;                 /* the status sent */
	const kc_decision *decision; /* NULL: a request that never reached kc_decide */
	const char *note;           /* extra reason (gateway failures), or NULL */
	uint64_t latency_us;
	bool json;                  /* one JSON object per line instead */
} kc_gw_log_entry;

/* The name of a verdict in the log: "allow", "deny_token", ... */
const char *kc_gw_log_verdict(kc_verdict v);

/* Escapes n bytes of s into out (cap bytes, NUL-terminated); returns the
 * length written. */
size_t kc_gw_log_escape(char *out, size_t cap, const char *s, size_t n);

/* Formats the line (with its newline) into buf; returns its length. A
 * key=value line is cut to fit a small buffer; a JSON line is never cut:
 * it needs cap >= KC_GW_LOG_MAX_LINE (0 is returned otherwise). */
size_t kc_gw_log_format(char *buf, size_t cap, const kc_gw_log_entry *e);

/* Formats and writes the line to fd 2 with one write(2). */
void kc_gw_log_decision(const kc_gw_log_entry *e);

/* A free-form line "keycard: " + msg (escaped) to fd 2. */
void kc_gw_log_msg(const char *msg);

#endif
