/* test_log.c: the decision log line (gateway/log.c).
 * What it guards: the line is what operators grep and ship to their log
 * pipelines, so its keys, order and form are a contract (log.h); a value
 * from the client or the token can neither break the line nor forge a key
 * (escaping); the token itself never appears, only its short hash; a long
 * value is cut with "..." and the line never outgrows its buffer. */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "gateway/log.h"

static char line[KC_GW_LOG_MAX_LINE];

static const char *
fmt(const kc_gw_log_entry *e)
{
	size_t n = kc_gw_log_format(line, sizeof(line), e);
	cr_assert_eq(n, strlen(line));
	cr_assert(n > 0 && line[n - 1] == '\n', "one line, ended by a newline");
	cr_assert_null(memchr(line, '\n', n - 1), "exactly one newline");
	return line;
}

static kc_decision
allowed(void)
{
	kc_decision d;
	memset(&d, 0, sizeof(d));
	d.verdict = KC_ALLOW;
	d.status = 200;
	d.rule_label = "owner-only";
	d.subject = "alice";
	d.client_id = "app1";
	memcpy(d.token_hash, "3f2a9c1b0d4e", 13);
	d.cache_hit = true;
	return d;
}

Test(log, the_documented_line)
{
	kc_decision d = allowed();
	kc_gw_log_entry e = { .time = 1795446245, .method = "GET", .path = "/devices/7?x=1",
		.path_len = 10, .status = 200, .decision = &d, .latency_us = 41 };
	cr_assert_str_eq(fmt(&e),
	    "keycard: time=2026-11-23T15:04:05Z method=GET path=/devices/7 status=200 "
	    "decision=allow rule=owner-only sub=alice client_id=app1 client_name=- "
	    "token=3f2a9c1b0d4e latency_us=41 cache=hit\n");
}

Test(log, a_refusal_before_any_decision_and_its_note)
{
	kc_gw_log_entry e = { .time = 0, .method = NULL, .path = NULL, .status = 400,
		.decision = NULL, .note = "a header value is longer than 64 KiB",
		.latency_us = 18446744073709551615ull };
	cr_assert_str_eq(fmt(&e),
	    "keycard: time=1970-01-01T00:00:00Z method=- path=- status=400 decision=error "
	    "rule=- sub=- client_id=- client_name=- token=- latency_us=18446744073709551615 "
	    "cache=- note=a\\x20header\\x20value\\x20is\\x20longer\\x20than\\x2064\\x20KiB\n");
}

Test(log, no_token_means_no_cache_field_and_a_reason)
{
	kc_decision d = allowed();
	d.verdict = KC_DENY_NO_TOKEN;
	d.status = 401;
	d.rule_label = NULL;
	d.subject = d.client_id = NULL;
	d.token_hash[0] = '\0';
	d.note = "no bearer token";
	kc_gw_log_entry e = { .time = 1795446245, .method = "POST", .path = "/x", .path_len = 2,
		.status = 401, .decision = &d, .latency_us = 7 };
	cr_assert_str_eq(fmt(&e),
	    "keycard: time=2026-11-23T15:04:05Z method=POST path=/x status=401 "
	    "decision=deny_no_token rule=- sub=- client_id=- client_name=- token=- "
	    "latency_us=7 cache=- reason=no\\x20bearer\\x20token\n");
}

Test(log, client_bytes_cannot_break_the_line_or_forge_a_key)
{
	kc_decision d = allowed();
	d.subject = "mallory status=200\r\nkeycard: forged=1";
	d.client_name = "caf\xc3\xa9 \"q\" \\ =";
	kc_gw_log_entry e = { .time = 1, .method = "GET", .path = "/a b\x01", .path_len = 5,
		.status = 200, .decision = &d };
	const char *l = fmt(&e);
	cr_assert_not_null(strstr(l, " sub=mallory\\x20status\\x3d200\\x0d\\x0akeycard:\\x20forged\\x3d1 "), "%s", l);
	cr_assert_not_null(strstr(l, " client_name=caf\\xc3\\xa9\\x20\\x22q\\x22\\x20\\x5c\\x20\\x3d "), "%s", l);
	cr_assert_not_null(strstr(l, " path=/a\\x20b\\x01 "), "%s", l);
	/* Every '=' left in the line is one of the line's own keys. */
	int eq = 0;
	for (const char *p = l; *p; p++)
		eq += *p == '=';
	cr_assert_eq(eq, 12, "%s", l);
}

Test(log, a_long_value_is_cut_and_marked)
{
	static char path[10000];
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	kc_decision d = allowed();
	kc_gw_log_entry e = { .time = 1, .method = "GET", .path = path,
		.path_len = sizeof(path) - 1, .status = 200, .decision = &d };
	const char *l = fmt(&e);
	const char *v = strstr(l, " path=") + 6;
	const char *end = strchr(v, ' ');
	cr_assert_eq((size_t)(end - v), KC_GW_LOG_MAX_VALUE + 3);
	cr_assert(strncmp(end - 3, "...", 3) == 0);
}

Test(log, the_line_never_outgrows_its_buffer)
{
	static char big[KC_GW_LOG_MAX_VALUE];
	memset(big, 0x01, sizeof(big) - 1);     /* every byte escaped: 4 times as long */
	kc_decision d = allowed();
	d.subject = d.client_id = d.client_name = d.rule_label = d.note = big;
	kc_gw_log_entry e = { .time = 1, .method = big, .path = big, .path_len = sizeof(big) - 1,
		.status = 200, .decision = &d, .note = big };
	const char *l = fmt(&e);
	cr_assert_lt(strlen(l), sizeof(line));
	char small[64];
	size_t n = kc_gw_log_format(small, sizeof(small), &e);
	cr_assert_eq(n, strlen(small));
	cr_assert_lt(n, sizeof(small));
	cr_assert_eq(small[n - 1], '\n');
}

Test(log, escape_reports_what_it_wrote)
{
	char out[16];
	cr_assert_eq(kc_gw_log_escape(out, sizeof(out), "ab", 2), 2);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(kc_gw_log_escape(out, sizeof(out), NULL, 0), 1);
	cr_assert_str_eq(out, "-");
	cr_assert_eq(kc_gw_log_escape(out, sizeof(out), "\n", 1), 4);
	cr_assert_str_eq(out, "\\x0a");
	/* No room for a whole escape: it is left out, never cut in half. */
	cr_assert_eq(kc_gw_log_escape(out, 7, "a\n\n", 3), 5);
	cr_assert_str_eq(out, "a\\x0a");
}

Test(log, every_verdict_has_a_name)
{
	cr_assert_str_eq(kc_gw_log_verdict(KC_ALLOW), "allow");
	cr_assert_str_eq(kc_gw_log_verdict(KC_DENY_UNAVAILABLE), "unavailable");
	cr_assert_str_eq(kc_gw_log_verdict(KC_DENY_RULE), "deny_rule");
	cr_assert_str_eq(kc_gw_log_verdict((kc_verdict)99), "unknown");
}

/* ---- --log-format json */

static json_t *
parse_line(const kc_gw_log_entry *e)
{
	size_t n = kc_gw_log_format(line, sizeof(line), e);
	cr_assert(n > 1 && line[n - 1] == '\n');
	json_error_t err;
	json_t *j = json_loadb(line, n - 1, 0, &err);
	cr_assert_not_null(j, "not JSON (%s): %s", err.text, line);
	cr_assert(json_is_object(j));
	return j;
}

Test(log_json, the_same_keys_as_one_object)
{
	kc_decision d = allowed();
	kc_gw_log_entry e = { .time = 1795446245, .method = "GET", .path = "/devices/7?x=1",
		.path_len = 10, .status = 200, .decision = &d, .latency_us = 41, .json = true };
	cr_assert_eq(kc_gw_log_format(line, sizeof(line), &e), strlen(line));
	cr_assert_str_eq(line,
	    "{\"time\":\"2026-11-23T15:04:05Z\",\"method\":\"GET\",\"path\":\"/devices/7\","
	    "\"status\":200,\"decision\":\"allow\",\"rule\":\"owner-only\",\"sub\":\"alice\","
	    "\"client_id\":\"app1\",\"client_name\":null,\"token\":\"3f2a9c1b0d4e\","
	    "\"latency_us\":41,\"cache\":\"hit\"}\n");
}

Test(log_json, client_bytes_stay_inside_their_string)
{
	kc_decision d = allowed();
	d.subject = "mallory\",\"sub\":\"root\r\n\x01";
	d.client_name = "caf\xc3\xa9 \xff\xfe \xed\xa0\x80 \xc3";     /* valid, invalid, a surrogate, cut */
	kc_gw_log_entry e = { .time = 1, .method = "GET", .path = "/\\\"", .path_len = 3,
		.status = 200, .decision = &d, .json = true };
	json_t *j = parse_line(&e);
	cr_assert_str_eq(json_string_value(json_object_get(j, "sub")), "mallory\",\"sub\":\"root\r\n\x01");
	cr_assert_str_eq(json_string_value(json_object_get(j, "client_name")),
	    "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd");
	cr_assert_str_eq(json_string_value(json_object_get(j, "path")), "/\\\"");
	cr_assert_eq(json_object_size(j), 12);
	json_decref(j);
}

Test(log_json, the_longest_line_fits_whole_and_parses)
{
	static char big[KC_GW_LOG_MAX_VALUE + 50];
	memset(big, 0x01, sizeof(big) - 1);     /* every byte escaped as \u0001 */
	kc_decision d = allowed();
	d.subject = d.client_id = d.client_name = d.rule_label = d.note = big;
	kc_gw_log_entry e = { .time = 1, .method = big, .path = big, .path_len = sizeof(big) - 1,
		.status = 599, .decision = &d, .note = big, .latency_us = 9007199254740991ull,
		.json = true };
	json_t *j = parse_line(&e);
	const char *sub = json_string_value(json_object_get(j, "sub"));
	cr_assert_eq(strlen(sub), KC_GW_LOG_MAX_VALUE + 3);
	cr_assert_str_eq(sub + KC_GW_LOG_MAX_VALUE, "...");
	cr_assert_not_null(json_object_get(j, "note"));
	cr_assert_not_null(json_object_get(j, "reason"));
	json_decref(j);
	/* A buffer that could cut it gets nothing rather than broken JSON. */
	char small[1024];
	cr_assert_eq(kc_gw_log_format(small, sizeof(small), &e), 0);
}
