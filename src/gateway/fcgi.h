/* fcgi.h: keycard-fcgi's server: the loaded program, the accept loop, one
 * request from params to answer, and the CGI gateway's environment.
 *
 * A program is a loaded policy with its own validated-token cache. Requests
 * take a reference to the current program and keep it to the end, even
 * across a reload; a reload (SIGHUP) compiles the file to the side and, on
 * success only, swaps the current program under a short lock; the old one
 * is freed by the last request that holds it. A new program starts with an
 * empty cache, which is the "flush on key reload": no request on the new
 * policy can ever see an outcome reached with the old keys. */
#ifndef KC_GATEWAY_FCGI_H
#define KC_GATEWAY_FCGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "decide.h"
#include "gateway/cgi.h"

#define KC_GW_MAX_THREADS 256
#define KC_GW_MAX_CGI_ROOTS 32
#define KC_GW_MAX_ENV 1024          /* params passed to a CGI script */

typedef struct kc_gw_config {
	const char *policy_path;
	const char *cgi_roots[KC_GW_MAX_CGI_ROOTS];
	size_t n_cgi_roots;
	int cgi_timeout_ms;         /* 0: kc_cgi_run's default */
	bool pass_authorization;    /* leave HTTP_AUTHORIZATION to the script */
	int threads;                /* 0: 4 */
	const char *listen;         /* "unix:/path", "host:port", ":port"; NULL: fd 0 */
	bool log_allow;             /* also log allowed requests (default true) */
	bool log_json;              /* decision lines as JSON objects (log.h) */
} kc_gw_config;

typedef struct kc_gw_server kc_gw_server;

/* Loads the policy (diagnostics to stderr). NULL when it does not load. The
 * config is copied, not the strings it points to. */
kc_gw_server *kc_gw_server_new(const kc_gw_config *cfg);
void kc_gw_server_free(kc_gw_server *s);

/* Compiles the policy file again; on success makes it current, otherwise
 * keeps the current one. Diagnostics and the outcome go to stderr. */
bool kc_gw_server_reload(kc_gw_server *s);

/* Serves FastCGI on the configured socket with cfg->threads threads;
 * SIGHUP reloads, SIGUSR1 logs the cache counters, SIGTERM and SIGINT end
 * the process (exit status 0; requests in progress are cut, as the signal
 * itself would). Returns only on a setup failure (an exit status). */
int kc_gw_server_run(kc_gw_server *s);

/* Serves one plain CGI request (environment envp, body on fd 0, at most
 * CONTENT_LENGTH bytes; answer on fd 1): the gateway, the script being
 * PATH_TRANSLATED (Apache Action), never SCRIPT_FILENAME (which names
 * keycard-fcgi itself there); without it, 500. Returns an exit status. */
int kc_gw_serve_cgi(kc_gw_server *s, char *const *envp);

/* One request: decide, then answer in its mode (reply.h), running the
 * script in gateway mode. role: the FastCGI role (0: unknown, 1 responder,
 * 2 authorizer). script: the script to run in gateway mode, NULL for
 * SCRIPT_FILENAME (with Apache mod_proxy_fcgi's "proxy:fcgi://host:port"
 * prefix removed). io->write_out gets the whole answer. Returns the status
 * sent (for a script that ran: 200). */
int kc_gw_handle(kc_gw_server *s, char *const *envp, int role, const char *script,
    const kc_cgi_io *io, kc_arena *arena);

/* The counters of the current program's cache. */
void kc_gw_server_cache_stats(kc_gw_server *s, kc_cache_stats *out);

/* The environment of a gateway script (RFC 3875 + exports): params minus
 * HTTP_PROXY (httpoxy), every HTTP_X_KEYCARD_*, HTTP_AUTHORIZATION unless
 * pass_auth, every param named like an export, and every identity name the
 * server or a client could pre-set (REMOTE_USER, AUTH_TYPE, KEYCARD_*:
 * nginx's stock fastcgi_params sets REMOTE_USER from an unverified Basic
 * header); plus the exports of d (values with control characters are left
 * out), SCRIPT_FILENAME = script (when not NULL) and GATEWAY_INTERFACE if
 * missing. At most KC_GW_MAX_ENV params are kept. NULL-terminated, in
 * arena; NULL when out of memory. */
char **kc_gw_env_build(char *const *params, const kc_decision *d, bool pass_auth,
    const char *script, kc_arena *arena);

#endif
