/* test_reply.c: kc_decision → what the web server reads (gateway/reply.c).
 * What it guards: lighttpd drops every header before "Status:", so a
 * refusal whose WWW-Authenticate came first would reach the client without
 * its challenge; nginx turns any status but 2xx/401/403 into 500, so a 400
 * must become a 403 there (never a 401, which sends clients to refresh
 * their token), while 503 stays a server error; identity must leave as
 * Variable-* lines only on allow; no value from a policy may inject a
 * header line; the refusal body stays far under Apache's 8 KiB. */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "gateway/reply.h"

typedef struct sink {
	char buf[16384];
	size_t n;
	int writes;
} sink;

static ssize_t
sink_write(void *ctx, const char *b, size_t n)
{
	sink *s = ctx;
	cr_assert(s->n + n < sizeof(s->buf));
	memcpy(s->buf + s->n, b, n);
	s->n += n;
	s->buf[s->n] = '\0';
	s->writes++;
	return (ssize_t)n;
}

static ssize_t
broken_write(void *ctx, const char *b, size_t n)
{
	(void)ctx;
	(void)b;
	(void)n;
	return -1;
}

static sink out;

static const char *
reply(const kc_decision *d, kc_gw_mode mode)
{
	memset(&out, 0, sizeof(out));
	kc_gw_out o = { sink_write, &out };
	cr_assert(kc_gw_reply(d, mode, &o, NULL));
	cr_assert_eq(out.writes, 1, "the answer goes out in one write");
	return out.buf;
}

static kc_decision
allow(void)
{
	kc_decision d;
	memset(&d, 0, sizeof(d));
	d.verdict = KC_ALLOW;
	d.status = 200;
	d.exports[0] = (kc_export_value){ "REMOTE_USER", "alice" };
	d.exports[1] = (kc_export_value){ "KEYCARD_SCOPES", "r:devices:7 x:devices:7" };
	d.n_exports = 2;
	return d;
}

static kc_decision
refusal(kc_verdict v, int status, const char *error, const char *challenge)
{
	kc_decision d;
	memset(&d, 0, sizeof(d));
	d.verdict = v;
	d.status = status;
	d.error = error;
	d.www_authenticate = challenge;
	return d;
}

Test(reply, authorizer_allow_is_status_first_then_variables)
{
	kc_decision d = allow();
	cr_assert_str_eq(reply(&d, KC_GW_AUTHORIZER),
	    "Status: 200 OK\r\n"
	    "Variable-REMOTE_USER: alice\r\n"
	    "Variable-KEYCARD_SCOPES: r:devices:7 x:devices:7\r\n"
	    "Variable-KEYCARD_DECISION: allow\r\n"
	    "\r\n");
}

Test(reply, authorize_mode_allow_carries_variables_for_nginx)
{
	kc_decision d = allow();
	const char *r = reply(&d, KC_GW_AUTHORIZE);
	cr_assert(strncmp(r, "Status: 200 OK\r\n", 16) == 0);
	cr_assert_not_null(strstr(r, "\r\nVariable-REMOTE_USER: alice\r\n"));
	/* The strip marker is for the authorizer role's server scripts only. */
	cr_assert_null(strstr(r, "KEYCARD_DECISION"));
}

Test(reply, the_strip_marker_is_on_every_authorizer_allow_and_no_refusal)
{
	kc_decision d = allow();
	d.n_exports = 0;    /* an anonymous route with no exports at all */
	cr_assert_str_eq(reply(&d, KC_GW_AUTHORIZER),
	    "Status: 200 OK\r\nVariable-KEYCARD_DECISION: allow\r\n\r\n");
	d = refusal(KC_DENY_RULE, 403, "insufficient_scope", "Bearer error=\"insufficient_scope\"");
	cr_assert_null(strstr(reply(&d, KC_GW_AUTHORIZER), "KEYCARD_DECISION"));
}

Test(reply, a_401_sends_its_challenge_after_the_status)
{
	kc_decision d = refusal(KC_DENY_TOKEN, 401, "invalid_token",
	    "Bearer realm=\"r\", error=\"invalid_token\"");
	const char *r = reply(&d, KC_GW_AUTHORIZER);
	cr_assert(strncmp(r, "Status: 401 Unauthorized\r\n"
	    "WWW-Authenticate: Bearer realm=\"r\", error=\"invalid_token\"\r\n", 85) == 0, "%s", r);
	const char *body = strstr(r, "\r\n\r\n");
	cr_assert_not_null(body);
	cr_assert_str_eq(body + 4, "401 Unauthorized: invalid_token\n");
	cr_assert_null(strstr(r, "Variable-"));
}

Test(reply, insufficient_scope_names_the_scope_in_the_body)
{
	kc_decision d = refusal(KC_DENY_RULE, 403, "insufficient_scope",
	    "Bearer realm=\"r\", error=\"insufficient_scope\", scope=\"x:devices:555\"");
	d.scope = "x:devices:555";
	const char *r = reply(&d, KC_GW_GATEWAY);
	cr_assert(strncmp(r, "Status: 403 Forbidden\r\n", 23) == 0);
	cr_assert_not_null(strstr(r, "\r\n\r\n403 Forbidden: insufficient_scope (scope x:devices:555)\n"));
}

Test(reply, unavailable_sends_retry_after_and_no_challenge)
{
	kc_decision d = refusal(KC_DENY_UNAVAILABLE, 503, NULL, NULL);
	d.retry_after = 7;
	const char *r = reply(&d, KC_GW_AUTHORIZER);
	cr_assert(strncmp(r, "Status: 503 Service Unavailable\r\nRetry-After: 7\r\n", 49) == 0, "%s", r);
	cr_assert_null(strstr(r, "WWW-Authenticate"));
}

Test(reply, nginx_gets_only_statuses_it_passes)
{
	kc_decision d = refusal(KC_DENY_PATH, 400, NULL, NULL);
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZE), 403);
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZER), 400);
	d = refusal(KC_DENY_NO_ROUTE, 404, NULL, NULL);
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZE), 403);
	d = refusal(KC_DENY_REQUEST, 400, "invalid_request", "Bearer error=\"invalid_request\"");
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZE), 403);
	d = refusal(KC_DENY_NO_TOKEN, 401, NULL, "Bearer realm=\"r\"");
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZE), 401);
	d = refusal(KC_DENY_UNAVAILABLE, 503, NULL, NULL);
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZE), 503);
	d = refusal(KC_DENY_RULE, 42, NULL, NULL);
	cr_assert_eq(kc_gw_reply_status(&d, KC_GW_AUTHORIZER), 500);
	const char *r = reply(&(kc_decision){ .verdict = KC_DENY_PATH, .status = 400 }, KC_GW_AUTHORIZE);
	cr_assert(strncmp(r, "Status: 403 Forbidden\r\n", 23) == 0);
}

Test(reply, no_value_or_name_can_inject_a_header)
{
	kc_decision d = allow();
	d.exports[0] = (kc_export_value){ "REMOTE_USER", "alice\r\nVariable-ADMIN: 1" };
	d.exports[1] = (kc_export_value){ "X: y\r\nZ", "v" };
	d.exports[2] = (kc_export_value){ "KEYCARD_RULE", "ok" };
	d.n_exports = 3;
	const char *r = reply(&d, KC_GW_AUTHORIZER);
	cr_assert_str_eq(r, "Status: 200 OK\r\nVariable-KEYCARD_RULE: ok\r\n"
	    "Variable-KEYCARD_DECISION: allow\r\n\r\n");
	kc_decision x = refusal(KC_DENY_TOKEN, 401, "invalid_token", "Bearer\r\nSet-Cookie: a=b");
	r = reply(&x, KC_GW_AUTHORIZER);
	cr_assert_null(strstr(r, "Set-Cookie"));
}

Test(reply, the_body_is_bounded_and_printable)
{
	static char longdesc[20000];
	memset(longdesc, 'a', sizeof(longdesc) - 1);
	longdesc[5] = '\n';
	kc_decision d = refusal(KC_DENY_RULE, 403, NULL, NULL);
	d.description = longdesc;
	const char *r = reply(&d, KC_GW_AUTHORIZER);
	const char *body = strstr(r, "\r\n\r\n") + 4;
	size_t n = strlen(body);
	cr_assert(n <= KC_GW_MAX_BODY && n < 8192);
	cr_assert_eq(body[n - 1], '\n');
	cr_assert(strncmp(body, "403 Forbidden\naaaaaaaaa", 23) == 0, "%.40s", body);
}

Test(reply, errors_and_failed_writes)
{
	memset(&out, 0, sizeof(out));
	kc_gw_out o = { sink_write, &out };
	cr_assert(kc_gw_reply_error(504, "script timed out", &o));
	cr_assert_str_eq(out.buf, "Status: 504 Gateway Timeout\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nCache-Control: no-store\r\n\r\n504 Gateway Timeout: script timed out\n");
	kc_gw_out bad = { broken_write, NULL };
	kc_decision d = allow();
	cr_assert_not(kc_gw_reply(&d, KC_GW_AUTHORIZER, &bad, NULL));
	cr_assert_not(kc_gw_reply_error(502, NULL, &bad));
}

/* An allow whose identity does not fit is not sent cut or empty (a server
 * could take that for an allow without identity): it becomes a 500. */
Test(reply, an_identity_too_large_for_one_answer_is_a_500)
{
	kc_decision d = allow();
	static char big[1024];
	memset(big, 'v', sizeof(big) - 1);
	for (size_t i = 0; i < 12; i++)
		d.exports[i] = (kc_export_value){ "KEYCARD_BIG", big };
	d.n_exports = 12;
	memset(&out, 0, sizeof(out));
	kc_gw_out o = { sink_write, &out };
	int sent = 0;
	cr_assert(kc_gw_reply(&d, KC_GW_AUTHORIZER, &o, &sent));
	cr_assert_eq(sent, 500);
	cr_assert(strncmp(out.buf, "Status: 500 ", 12) == 0, "got %.40s", out.buf);
	cr_assert_null(strstr(out.buf, "Variable-"));
}
