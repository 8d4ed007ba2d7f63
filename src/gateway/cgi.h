/* cgi.h: run one CGI script (RFC 3875) for keycard's gateway modes.
 *
 * The request body is streamed into the script while its output streams
 * out, so a large body cannot deadlock against a script that writes
 * before it has read everything. The script's response headers are parsed
 * and checked (Status, Location, Content-Type) before anything is sent;
 * its stderr goes to the error sink line by line; a timeout kills its
 * process group; the child is always reaped. */
#ifndef KC_GATEWAY_CGI_H
#define KC_GATEWAY_CGI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KC_CGI_MAX_HEADER_BYTES (64 * 1024)

/* Where the body comes from and where the response goes. Callbacks are
 * called from the calling thread only. */
#define KC_CGI_IO_SLOW (-2)

typedef struct kc_cgi_io {
	/* Reads up to n bytes of the request body: > 0 bytes read, 0 at the
	 * end of the body, -1 on error (the client went away), KC_CGI_IO_SLOW
	 * when no byte came within wait_ms (<= 0: none may be waited for).
	 * The run's deadline bounds wait_ms: a client that drips its body
	 * cannot hold a worker past --cgi-timeout. */
	ssize_t (*read_body)(void *ctx, char *buf, size_t n, int wait_ms);
	/* Writes response bytes (headers in CGI form, "Status: 200 OK\r\n...",
	 * then the body). Returns n, or -1 when the client went away. */
	ssize_t (*write_out)(void *ctx, const char *buf, size_t n);
	/* One line of the script's stderr, without its newline. */
	void (*log_err)(void *ctx, const char *line, size_t n);
	void *ctx;
} kc_cgi_io;

typedef struct kc_cgi_opts {
	int timeout_ms;             /* whole run; 0: 30000 */
	const char *cwd;            /* NULL: the script's directory */
} kc_cgi_opts;

typedef enum kc_cgi_result {
	KC_CGI_OK = 0,              /* a response was sent */
	KC_CGI_FAILED,              /* could not start, died before a valid header,
	                               or sent invalid headers: nothing sent, answer 502 */
	KC_CGI_TIMEOUT,             /* timed out before its headers: nothing sent, answer 504 */
	KC_CGI_ABORTED,             /* failed or timed out after the headers were sent, or
	                               the client went away: the response is cut short */
} kc_cgi_result;

/* Runs path with argv {path, NULL} and exactly the environment envp
 * (NULL-terminated "NAME=value" strings; nothing else is inherited). The
 * caller has already checked that path is allowed (kc_cgi_script_allowed).
 * Returns when the child has exited and been reaped. */
kc_cgi_result kc_cgi_run(const char *path, char *const envp[], const kc_cgi_io *io,
    const kc_cgi_opts *opts);

/* True when path is a regular, executable file under one of roots (each a
 * directory; compared after realpath(3), so symlinks and ".." cannot leave
 * a root). Writes the resolved path into resolved (PATH_MAX bytes). */
bool kc_cgi_script_allowed(const char *path, const char *const *roots, size_t n_roots,
    char *resolved);

/* Parses a CGI response header block (RFC 3875 §6.2) of n bytes ending at
 * the blank line. On success writes the HTTP status (from Status, or 302
 * for a Location with no Status, else 200) and returns true; rejects lines
 * that are not "Name: value", header names with bad characters, a Status
 * that is not 3 digits (100-599), a response with neither Content-Type nor
 * Location, control characters in values. Exposed for the fuzz target. */
bool kc_cgi_parse_headers(const char *buf, size_t n, int *status);

#endif
