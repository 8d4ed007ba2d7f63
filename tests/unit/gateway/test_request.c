/* test_request.c: FastCGI params / CGI environment → kc_request
 * (gateway/request.c). What it guards: the request keycard decides on must
 * be the one the server received. A path taken from the wrong param (the
 * auth location nginx gives as SCRIPT_NAME, or a decoded PATH_INFO) would
 * let policy for one URL decide another; a header lost or renamed on the
 * way back from HTTP_* hides the token or forges one; an unbounded header
 * list would let a client outgrow the decision's fixed tables; the wrong
 * mode would send Variable-* lines to a client or run a script when the
 * server only asked for a verdict. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gateway/request.h"

static kc_arena *arena;
static kc_header hdrs[KC_MAX_HEADERS];

static void
setup(void)
{
	arena = kc_arena_new(16 * 1024);
	cr_assert_not_null(arena);
}

static void
teardown(void)
{
	kc_arena_free(arena);
}

TestSuite(request, .init = setup, .fini = teardown);

static kc_request
build_ok(char *const *envp)
{
	kc_request r = { 0 };
	const char *why = NULL;
	cr_assert(kc_gw_request_build(envp, arena, &r, hdrs, &why), "refused: %s", why);
	return r;
}

static const kc_header *
find(const kc_request *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (r->headers[i].name_len == strlen(name) &&
		    memcmp(r->headers[i].name, name, r->headers[i].name_len) == 0)
			return &r->headers[i];
	return NULL;
}

Test(request, path_and_query_come_from_request_uri_raw)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/devices/a%2Fb?x=1&y=%20",
		"QUERY_STRING=other", "SCRIPT_NAME=/auth", "PATH_INFO=/decoded/a/b",
		"REMOTE_ADDR=192.0.2.7", NULL };
	kc_request r = build_ok(env);
	cr_assert_str_eq(r.method, "GET");
	cr_assert_eq(r.path_len, strlen("/devices/a%2Fb"));
	cr_assert(memcmp(r.path, "/devices/a%2Fb", r.path_len) == 0);
	cr_assert_eq(r.query_len, strlen("x=1&y=%20"));
	cr_assert(memcmp(r.query, "x=1&y=%20", r.query_len) == 0);
	cr_assert_str_eq(r.remote_addr, "192.0.2.7");
}

Test(request, query_string_is_used_when_the_uri_has_none)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", "QUERY_STRING=a=b", NULL };
	kc_request r = build_ok(env);
	cr_assert_eq(r.path_len, 2);
	cr_assert_eq(r.query_len, 3);
	cr_assert(memcmp(r.query, "a=b", 3) == 0);
	char *none[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", "QUERY_STRING=", NULL };
	r = build_ok(none);
	cr_assert_null(r.query);
}

Test(request, absolute_form_targets_keep_only_their_path)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=http://evil.test/admin?q", NULL };
	kc_request r = build_ok(env);
	cr_assert_eq(r.path_len, 6);
	cr_assert(memcmp(r.path, "/admin", 6) == 0);
	cr_assert_eq(r.query_len, 1);
}

Test(request, without_request_uri_the_cgi_split_is_joined)
{
	char *env[] = { "REQUEST_METHOD=POST", "SCRIPT_NAME=/cgi-bin/app", "PATH_INFO=/x/y", NULL };
	kc_request r = build_ok(env);
	cr_assert_eq(r.path_len, strlen("/cgi-bin/app/x/y"));
	cr_assert(memcmp(r.path, "/cgi-bin/app/x/y", r.path_len) == 0);
}

Test(request, a_request_without_method_or_target_is_refused)
{
	kc_request r = { 0 };
	const char *why = NULL;
	char *no_method[] = { "REQUEST_URI=/x", NULL };
	cr_assert_not(kc_gw_request_build(no_method, arena, &r, hdrs, &why));
	cr_assert_not_null(why);
	char *no_target[] = { "REQUEST_METHOD=GET", NULL };
	cr_assert_not(kc_gw_request_build(no_target, arena, &r, hdrs, &why));
	char *bad_target[] = { "REQUEST_METHOD=GET", "REQUEST_URI=*", NULL };
	cr_assert_not(kc_gw_request_build(bad_target, arena, &r, hdrs, &why));
	char *empty[] = { NULL };
	cr_assert_not(kc_gw_request_build(empty, arena, &r, hdrs, &why));
}

Test(request, http_params_become_http_header_names)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_AUTHORIZATION=Bearer abc",
		"HTTP_X_FORWARDED_FOR=10.0.0.1", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=5",
		"HTTP_=nameless", "HTTPS=on", NULL };
	kc_request r = build_ok(env);
	cr_assert_eq(r.n_headers, 4);
	const kc_header *h = find(&r, "Authorization");
	cr_assert_not_null(h);
	cr_assert_eq(h->value_len, strlen("Bearer abc"));
	cr_assert(memcmp(h->value, "Bearer abc", h->value_len) == 0);
	cr_assert_not_null(find(&r, "X-Forwarded-For"));
	cr_assert_not_null(find(&r, "Content-Type"));
	cr_assert_not_null(find(&r, "Content-Length"));
}

/* A deny rule on the last header must not be dodged by pushing it past
 * the limit: one header too many refuses the request, never cuts it. */
Test(request, more_than_kc_max_headers_are_refused_not_cut)
{
	static char bufs[KC_MAX_HEADERS + 1][32];
	char *env[KC_MAX_HEADERS + 4];
	size_t n = 0;
	env[n++] = "REQUEST_METHOD=GET";
	env[n++] = "REQUEST_URI=/";
	for (size_t i = 0; i < KC_MAX_HEADERS; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "HTTP_X_H%zu=v", i);
		env[n++] = bufs[i];
	}
	env[n] = NULL;
	kc_request r = build_ok(env);
	cr_assert_eq(r.n_headers, KC_MAX_HEADERS);

	snprintf(bufs[KC_MAX_HEADERS], sizeof(bufs[0]), "HTTP_X_DENY_ME=1");
	env[n++] = bufs[KC_MAX_HEADERS];
	env[n] = NULL;
	const char *why = NULL;
	cr_assert_not(kc_gw_request_build(env, arena, &r, hdrs, &why));
	cr_assert_str_eq(why, KC_GW_WHY_HEADERS);
}

Test(request, the_mode_follows_the_role_then_keycard_mode)
{
	char *plain[] = { "REQUEST_METHOD=GET", NULL };
	char *authz_param[] = { "FCGI_ROLE=AUTHORIZER", NULL };
	char *nginx[] = { "FCGI_ROLE=RESPONDER", "KEYCARD_MODE=authorize", NULL };
	cr_assert_eq(kc_gw_request_mode(plain, 2), KC_GW_AUTHORIZER);
	cr_assert_eq(kc_gw_request_mode(plain, 1), KC_GW_GATEWAY);
	cr_assert_eq(kc_gw_request_mode(plain, 0), KC_GW_GATEWAY);
	cr_assert_eq(kc_gw_request_mode(authz_param, 0), KC_GW_AUTHORIZER);
	cr_assert_eq(kc_gw_request_mode(nginx, 1), KC_GW_AUTHORIZE);
	cr_assert_eq(kc_gw_request_mode(nginx, 0), KC_GW_AUTHORIZE);
	/* The authorizer role wins: nothing a param says turns it into a gateway. */
	cr_assert_eq(kc_gw_request_mode(nginx, 2), KC_GW_AUTHORIZER);
}

Test(request, params_are_matched_by_whole_name)
{
	char *env[] = { "REQUEST_METHODX=PUT", "REQUEST_METHOD=GET", "X=1", NULL };
	cr_assert_str_eq(kc_gw_param(env, "REQUEST_METHOD"), "GET");
	cr_assert_null(kc_gw_param(env, "REQUEST"));
	cr_assert_str_eq(kc_gw_param(env, "X"), "1");
}

/* A value the policy may read is refused when too long, never cut short. */
Test(request, an_overlong_target_query_or_header_is_refused_not_cut)
{
	static char big[KC_GW_MAX_PARAM + 64];
	static char uri[sizeof(big) + 16], qs[sizeof(big) + 16], hdr[sizeof(big) + 16];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(uri, sizeof(uri), "REQUEST_URI=/%s", big);
	snprintf(qs, sizeof(qs), "QUERY_STRING=%s", big);
	snprintf(hdr, sizeof(hdr), "HTTP_X_BIG=%s", big);
	char *long_uri[] = { "REQUEST_METHOD=GET", uri, NULL };
	char *long_qs[] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/a", qs, NULL };
	char *long_hdr[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/a", hdr, NULL };
	kc_request r = { 0 };
	const char *why = NULL;
	cr_assert_not(kc_gw_request_build(long_uri, arena, &r, hdrs, &why));
	cr_assert_str_eq(why, "REQUEST_URI is longer than 64 KiB");
	cr_assert_not(kc_gw_request_build(long_qs, arena, &r, hdrs, &why));
	cr_assert_str_eq(why, "QUERY_STRING is longer than 64 KiB");
	cr_assert_not(kc_gw_request_build(long_hdr, arena, &r, hdrs, &why));
	cr_assert_str_eq(why, "a header value is longer than 64 KiB");
	/* just under the limit is read whole */
	big[KC_GW_MAX_PARAM - 2] = '\0';
	snprintf(uri, sizeof(uri), "REQUEST_URI=/%s", big);
	r = build_ok(long_uri);
	cr_assert_eq(r.path_len, KC_GW_MAX_PARAM - 1);
}
