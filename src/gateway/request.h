/* request.h: FastCGI params or a CGI environment → kc_request.
 *
 * Both arrive as a NULL-terminated list of "NAME=value" strings (libfcgi's
 * envp, or environ for a plain CGI). The request target comes from
 * REQUEST_URI (the original target: lighttpd, Apache and nginx all send it,
 * and authorizers get no PATH_INFO), its path raw and undecoded; the query
 * from REQUEST_URI, else QUERY_STRING. Headers come back from HTTP_* params
 * to HTTP names (HTTP_X_FORWARDED_FOR → X-Forwarded-For), plus
 * CONTENT_TYPE and CONTENT_LENGTH; more than KC_MAX_HEADERS is refused. Nothing
 * is copied: the request borrows from the params. */
#ifndef KC_GATEWAY_REQUEST_H
#define KC_GATEWAY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "decide.h"

#define KC_GW_MAX_PARAM 65536       /* bytes of one param value, at most */

/* The *why of kc_gw_request_build for keycard's own failure (a 500, not 400). */
#define KC_GW_WHY_OOM "out of memory"
/* ... for more than KC_MAX_HEADERS headers (431). */
#define KC_GW_WHY_HEADERS "more than 128 request headers"

/* How keycard-fcgi answers this request (ARCHITECTURE.md, "How keycard-fcgi
 * knows what to do"). */
typedef enum kc_gw_mode {
	KC_GW_AUTHORIZER = 0,       /* FastCGI AUTHORIZER role: Status + Variable-* */
	KC_GW_AUTHORIZE,            /* RESPONDER with KEYCARD_MODE=authorize (nginx auth_request) */
	KC_GW_GATEWAY,              /* RESPONDER: decide, then run the CGI script */
} kc_gw_mode;

/* The value of param name, or NULL. */
const char *kc_gw_param(char *const *envp, const char *name);

/* The mode for a request: authorizer when the FastCGI role says so (role is
 * FCGX_Request.role: 2 = FCGI_AUTHORIZER; 0 when unknown, then the
 * FCGI_ROLE param decides), else KEYCARD_MODE=authorize, else gateway. */
kc_gw_mode kc_gw_request_mode(char *const *envp, int role);

/* Fills req (method, path, query, headers, remote_addr) from envp; hdrs is
 * the caller's storage for KC_MAX_HEADERS headers, their names built in
 * arena. req->now, cache and the rest are left as they were. Returns false
 * (and a short reason in *why) when the params lack a method or a target
 * that starts with '/', when the target, query or a header value is longer
 * than KC_GW_MAX_PARAM, or when there are more than KC_MAX_HEADERS headers
 * (*why is then KC_GW_WHY_HEADERS): refused, never cut short. */
bool kc_gw_request_build(char *const *envp, kc_arena *arena, kc_request *req,
    kc_header hdrs[KC_MAX_HEADERS], const char **why);

#endif
