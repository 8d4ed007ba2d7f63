/* reply.h: writing a decision back to the web server; the one place that
 * turns a kc_decision into HTTP (STYLE.md §4).
 *
 * Authorizer role (lighttpd, Apache mod_authnz_fcgi): "Status: NNN" first
 * (lighttpd drops any header before it), then on allow one
 * "Variable-NAME: value" line per export and KEYCARD_DECISION=allow; on refusal WWW-Authenticate or
 * Retry-After and a short text body (under 8 KiB: Apache keeps no more).
 *
 * Responder with KEYCARD_MODE=authorize (nginx auth_request): nginx passes
 * 2xx, 401 and 403 and turns every other status into 500. So 200, 401 and
 * 403 go out as they are; any other 4xx refusal (400 for a bad path or
 * request, the policy's default response, a rule's own status) becomes 403,
 * a refusal the client must not answer by fetching a new token; 5xx (503
 * unavailable) goes out as it is and nginx makes it a 500, still a server
 * error and never a 401. The identity rides on the 200 as Variable-*
 * headers, read by auth_request_set $x $upstream_http_variable_NAME.
 *
 * Gateway refusals use the authorizer form (a CGI response). Header values
 * with control characters and names outside [A-Za-z0-9_-] are never
 * written (no header injection), whatever the decision holds. */
#ifndef KC_GATEWAY_REPLY_H
#define KC_GATEWAY_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "decide.h"
#include "gateway/request.h"

/* Sent as Variable-KEYCARD_DECISION: allow on every allow in the authorizer
 * role, so the server can strip client headers after keycard decided; a
 * policy cannot export it (it is reserved). */
#define KC_GW_DECISION_VAR "KEYCARD_DECISION"

#define KC_GW_MAX_BODY 1024         /* bytes of a refusal body; far under Apache's 8192 */

typedef struct kc_gw_out {
	/* Writes n bytes; returns n, or -1 when the peer went away. */
	ssize_t (*write)(void *ctx, const char *buf, size_t n);
	void *ctx;
} kc_gw_out;

/* The status actually sent for decision d in mode (see above). */
int kc_gw_reply_status(const kc_decision *d, kc_gw_mode mode);

/* The same for a status keycard-fcgi answers on its own (a request it
 * cannot read): nginx's auth_request gets 403 for any 4xx but 401. */
int kc_gw_status_for_mode(int status, kc_gw_mode mode);

/* Writes the answer for d in mode. In gateway mode only refusals are
 * written (an allow runs the script instead): call it only when
 * d->status != 200 there. An allow whose Variable-* lines do not fit in one
 * 8 KiB answer becomes a 500 (never an allow without its identity); *sent,
 * when not NULL, gets the status written. Returns false when a write failed. */
bool kc_gw_reply(const kc_decision *d, kc_gw_mode mode, const kc_gw_out *out, int *sent);

/* Writes a response keycard makes itself (gateway failures: 403 script not
 * allowed, 502, 504; 400 unusable request): Status, a text body. */
bool kc_gw_reply_error(int status, const char *text, const kc_gw_out *out);

/* "Unauthorized" for 401, ..., "Error" for an unknown status. */
const char *kc_gw_reason_phrase(int status);

#endif
