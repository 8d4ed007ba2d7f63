/* cgi.c: run one CGI script (see cgi.h): spawn it in its own process
 * group, stream the body in and the output out through one poll(2) loop,
 * check its response headers (RFC 3875 §6) before sending anything, and
 * always reap it. */
#include "config.h"

#include "gateway/cgi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* glibc 2.34 has every spawn action we need (chdir, closefrom), and its
 * posix_spawn uses CLONE_VFORK: it does not copy the page tables of a big,
 * threaded keycard-fcgi, and it reports exec errors itself. Elsewhere (or
 * with -DKC_CGI_USE_FORK) fork + execve does the same. */
#if defined(__GLIBC__) && !defined(KC_CGI_USE_FORK) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define USE_POSIX_SPAWN 1
#endif

#define DEFAULT_TIMEOUT_MS 30000
#define IO_CHUNK (64 * 1024)     /* one pipe's worth */
#define ERR_LINE 4096            /* longer stderr lines are split */
/* A normalized header block: each line gains at most a CR and a space and
 * loses its colon-space at least, so twice the input plus the Status line
 * always fits. */
#define RESP_MAX (2 * KC_CGI_MAX_HEADER_BYTES + 256)

/* ---- response headers (RFC 3875 §6.2, §6.3) */

/* What the header block says. */
typedef struct cgi_head {
	int status;
	const char *reason;         /* the script's reason phrase, or NULL */
	size_t reason_len;
} cgi_head;

/* RFC 9110 §5.6.2: tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Takes the next line of buf[*pos..n): without its LF, and without a CR
 * right before the LF. False when no LF is left. */
static bool
next_line(const char *buf, size_t n, size_t *pos, const char **line, size_t *len)
{
	const char *start = buf + *pos;
	const char *lf = memchr(start, '\n', n - *pos);
	if (lf == NULL)
		return false;
	size_t l = (size_t)(lf - start);
	if (l > 0 && start[l - 1] == '\r')
		l--;
	*line = start;
	*len = l;
	*pos = (size_t)(lf - buf) + 1;
	return true;
}

/* Splits "Name: value" (RFC 3875 §6.3: field-name ":" [field-value]) with
 * the value's surrounding spaces and tabs trimmed. Refuses an empty name,
 * a name with non-token characters (so no space before the colon and no
 * obs-fold continuation line), and control characters in the value (HTAB
 * aside; a CR not before the LF is one). */
static bool
split_field(const char *line, size_t len, const char **name, size_t *nlen,
    const char **val, size_t *vlen)
{
	size_t i = 0;
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == len || line[i] != ':')
		return false;
	*name = line;
	*nlen = i;
	size_t b = i + 1, e = len;
	while (b < e && (line[b] == ' ' || line[b] == '\t'))
		b++;
	while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	for (size_t k = b; k < e; k++) {
		unsigned char c = (unsigned char)line[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	*val = line + b;
	*vlen = e - b;
	return true;
}

static bool
name_is(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

/* Status = 3 digits, 100-599, then nothing or SP and a reason phrase. */
static bool
parse_status(const char *v, size_t n, cgi_head *h)
{
	if (n < 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' ||
	    v[2] < '0' || v[2] > '9')
		return false;
	if (n > 3 && v[3] != ' ')
		return false;
	h->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
	h->reason = n > 4 ? v + 4 : NULL;
	h->reason_len = n > 4 ? n - 4 : 0;
	return true;
}

/* Checks a whole header block, which must end right after its blank line.
 * RFC 3875 §6.3: a CGI field (Status, Content-Type, Location) must not be
 * repeated, and we also refuse one with an empty value. */
static bool
head_check(const char *buf, size_t n, cgi_head *h)
{
	bool seen_status = false, seen_type = false, seen_loc = false;
	size_t pos = 0;
	const char *line;
	size_t len;

	h->status = 0;
	h->reason = NULL;
	h->reason_len = 0;
	while (next_line(buf, n, &pos, &line, &len)) {
		const char *name, *val;
		size_t nlen, vlen;
		if (len == 0) {
			if (pos != n || (!seen_type && !seen_loc))
				return false;
			if (!seen_status)
				h->status = seen_loc ? 302 : 200;
			return true;
		}
		if (!split_field(line, len, &name, &nlen, &val, &vlen))
			return false;
		bool *seen = name_is(name, nlen, "Status") ? &seen_status :
		    name_is(name, nlen, "Content-Type") ? &seen_type :
		    name_is(name, nlen, "Location") ? &seen_loc : NULL;
		if (seen == NULL)
			continue;
		if (*seen || vlen == 0)
			return false;
		*seen = true;
		if (seen == &seen_status && !parse_status(val, vlen, h))
			return false;
	}
	return false;
}

bool
kc_cgi_parse_headers(const char *buf, size_t n, int *status)
{
	cgi_head h;
	if (buf == NULL || !head_check(buf, n, &h))
		return false;
	if (status != NULL)
		*status = h.status;
	return true;
}

static const char *
reason_phrase(int status)
{
	static const struct { int code; const char *text; } known[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" },
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 203, "Non-Authoritative Information" }, { 204, "No Content" },
		{ 205, "Reset Content" }, { 206, "Partial Content" },
		{ 300, "Multiple Choices" }, { 301, "Moved Permanently" }, { 302, "Found" },
		{ 303, "See Other" }, { 304, "Not Modified" }, { 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
		{ 411, "Length Required" }, { 412, "Precondition Failed" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
		{ 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	static const char *const class_text[] = { "Informational", "Success",
		"Redirection", "Client Error", "Server Error" };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].code == status)
			return known[i].text;
	return class_text[status / 100 - 1];
}

static bool
put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n > cap - *len)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	return true;
}

/* Writes the checked block buf[0..n) as the gateway sends it: "Status: NNN
 * Reason", then the script's other lines as "Name: value" (value trimmed),
 * all ending in CRLF, then the blank line. */
static bool
head_emit(const char *buf, size_t n, const cgi_head *h, char *out, size_t cap, size_t *olen)
{
	char status[32];
	size_t pos = 0, len, nlen, vlen;
	const char *line, *name, *val;
	const char *reason = h->reason;
	size_t rlen = h->reason_len;

	if (reason == NULL) {
		reason = reason_phrase(h->status);
		rlen = strlen(reason);
	}
	snprintf(status, sizeof status, "Status: %03d ", h->status);
	*olen = 0;
	if (!put(out, cap, olen, status, strlen(status)) ||
	    !put(out, cap, olen, reason, rlen) || !put(out, cap, olen, "\r\n", 2))
		return false;
	while (next_line(buf, n, &pos, &line, &len) && len > 0) {
		if (!split_field(line, len, &name, &nlen, &val, &vlen))
			return false;
		if (name_is(name, nlen, "Status"))
			continue;
		if (!put(out, cap, olen, name, nlen) || !put(out, cap, olen, ": ", 2) ||
		    !put(out, cap, olen, val, vlen) || !put(out, cap, olen, "\r\n", 2))
			return false;
	}
	return put(out, cap, olen, "\r\n", 2);
}

/* ---- the run */

/* The state of one run. Everything is in fixed buffers allocated once per
 * run (about 260 KiB, too much for a worker thread's stack). */
typedef struct cgi_run {
	const kc_cgi_io *io;
	pid_t pid;
	int64_t deadline;           /* now_ms() value the whole run must end by */
	int in_fd, out_fd, err_fd;  /* our ends of the child's stdio; -1 once closed */
	bool body_done;             /* read_body said end of body */
	bool epipe;                 /* a write to stdin raised SIGPIPE (blocked) */
	bool headers_sent;
	bool stop;                  /* kill the child now: verdict is decided */
	bool failed;                /* verdict: decided, see verdict */
	kc_cgi_result verdict;
	size_t in_off, in_len;      /* the body chunk being written: in[in_off..in_len) */
	size_t hdr_len;             /* bytes of stdout held in hdr (before the headers went out) */
	size_t hdr_scan;            /* start of the first line of hdr not yet complete */
	size_t err_len;
	char in[IO_CHUNK];
	char out[IO_CHUNK];
	char err[ERR_LINE];
	char hdr[KC_CGI_MAX_HEADER_BYTES];
	char resp[RESP_MAX];
} cgi_run;

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Decides the outcome; the first decision stands. */
static void
decide(cgi_run *r, kc_cgi_result res, bool kill_now)
{
	if (!r->failed) {
		r->failed = true;
		r->verdict = res;
	}
	if (kill_now)
		r->stop = true;
}

static void
kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
}

/* Feeds the child's stdin: writes the current chunk, and only once it is
 * all written asks read_body for the next one. Stops at EAGAIN. */
static void
feed_stdin(cgi_run *r)
{
	while (r->in_fd >= 0) {
		if (r->in_off == r->in_len && !r->body_done) {
			int64_t left = r->deadline - now_ms();
			int wait = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
			ssize_t k = r->io->read_body != NULL ?
			    r->io->read_body(r->io->ctx, r->in, sizeof r->in, wait) : 0;
			if (k == KC_CGI_IO_SLOW) {
				/* The body did not come in time: the run's timeout. */
				decide(r, r->headers_sent ? KC_CGI_ABORTED : KC_CGI_TIMEOUT, true);
				return;
			}
			if (k < 0) {
				decide(r, KC_CGI_ABORTED, true);   /* the client went away */
				return;
			}
			if (k == 0)
				r->body_done = true;
			r->in_off = 0;
			r->in_len = (size_t)(k > 0 ? k : 0);
		}
		if (r->in_off == r->in_len) {
			close_fd(&r->in_fd);                /* end of body: EOF for the script */
			return;
		}
		ssize_t w = write(r->in_fd, r->in + r->in_off, r->in_len - r->in_off);
		if (w > 0) {
			r->in_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			/* EPIPE: the script stopped reading (it may answer without
			 * the body, as a CGI may); the rest of the body is not
			 * read here. */
			if (w < 0 && errno == EPIPE)
				r->epipe = true;
			close_fd(&r->in_fd);
			return;
		}
	}
}

static bool
send_out(cgi_run *r, const char *buf, size_t n)
{
	if (n == 0)
		return true;
	ssize_t w = r->io->write_out(r->io->ctx, buf, n);
	if (w < 0 || (size_t)w != n) {
		decide(r, KC_CGI_ABORTED, true);           /* the client went away */
		return false;
	}
	return true;
}

/* The header block hdr[0..end) is complete: check it, send it, then send
 * what followed it in hdr (the start of the body). */
static void
headers_done(cgi_run *r, size_t end)
{
	cgi_head h;
	size_t rlen;
	if (!head_check(r->hdr, end, &h) ||
	    !head_emit(r->hdr, end, &h, r->resp, sizeof r->resp, &rlen)) {
		decide(r, KC_CGI_FAILED, true);
		return;
	}
	r->headers_sent = true;
	if (send_out(r, r->resp, rlen))
		send_out(r, r->hdr + end, r->hdr_len - end);
}

/* Looks for the blank line (LF or CRLF) in the newly read part of hdr. */
static void
scan_headers(cgi_run *r)
{
	for (;;) {
		const char *lf = memchr(r->hdr + r->hdr_scan, '\n', r->hdr_len - r->hdr_scan);
		if (lf == NULL)
			break;
		size_t nl = (size_t)(lf - r->hdr);
		size_t len = nl - r->hdr_scan;
		if (len == 0 || (len == 1 && r->hdr[r->hdr_scan] == '\r')) {
			headers_done(r, nl + 1);
			return;
		}
		r->hdr_scan = nl + 1;
	}
	if (r->hdr_len == sizeof r->hdr)
		decide(r, KC_CGI_FAILED, true);            /* header block too big: 502 */
}

/* One read from the child's stdout. */
static void
drain_stdout(cgi_run *r)
{
	char *dst = r->headers_sent ? r->out : r->hdr + r->hdr_len;
	size_t room = r->headers_sent ? sizeof r->out : sizeof r->hdr - r->hdr_len;
	ssize_t k = read(r->out_fd, dst, room);

	if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k <= 0) {
		close_fd(&r->out_fd);
		if (!r->headers_sent)
			decide(r, KC_CGI_FAILED, false);   /* no complete header block */
		return;
	}
	if (r->headers_sent) {
		send_out(r, r->out, (size_t)k);
		return;
	}
	r->hdr_len += (size_t)k;
	scan_headers(r);
}

static void
log_line(cgi_run *r, const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (r->io->log_err != NULL)
		r->io->log_err(r->io->ctx, line, n);
}

/* One read from the child's stderr, passed on line by line. */
static void
drain_stderr(cgi_run *r)
{
	ssize_t k = read(r->err_fd, r->err + r->err_len, sizeof r->err - r->err_len);

	if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k <= 0) {
		close_fd(&r->err_fd);
		if (r->err_len > 0)
			log_line(r, r->err, r->err_len);
		r->err_len = 0;
		return;
	}
	r->err_len += (size_t)k;
	size_t start = 0;
	const char *lf;
	while ((lf = memchr(r->err + start, '\n', r->err_len - start)) != NULL) {
		size_t nl = (size_t)(lf - r->err);
		log_line(r, r->err + start, nl - start);
		start = nl + 1;
	}
	if (start == 0 && r->err_len == sizeof r->err) {
		log_line(r, r->err, r->err_len);           /* too long: split */
		start = r->err_len;
	}
	memmove(r->err, r->err + start, r->err_len - start);
	r->err_len -= start;
}

/* The poll loop: runs until stdout and stderr are closed, the verdict
 * calls for a kill, or the deadline passes (returns false then). */
static bool
pump(cgi_run *r, int64_t deadline)
{
	while ((r->out_fd >= 0 || r->err_fd >= 0) && !r->stop) {
		struct pollfd p[3];
		int n = 0, i_in = -1, i_out = -1, i_err = -1;
		int64_t left = deadline - now_ms();

		if (left <= 0)
			return false;
		if (r->in_fd >= 0) {
			i_in = n;
			p[n++] = (struct pollfd){ .fd = r->in_fd, .events = POLLOUT };
		}
		if (r->out_fd >= 0) {
			i_out = n;
			p[n++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
		}
		if (r->err_fd >= 0) {
			i_err = n;
			p[n++] = (struct pollfd){ .fd = r->err_fd, .events = POLLIN };
		}
		int got = poll(p, (nfds_t)n, left > INT_MAX ? INT_MAX : (int)left);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			decide(r, r->headers_sent ? KC_CGI_ABORTED : KC_CGI_FAILED, true);
			break;
		}
		/* POLLERR: the script closed its stdin. With nothing pending,
		 * stop without reading more body; else the write sees EPIPE. */
		if (i_in >= 0 && (p[i_in].revents & POLLERR) && r->in_off == r->in_len)
			close_fd(&r->in_fd);
		else if (i_in >= 0 && p[i_in].revents != 0)
			feed_stdin(r);
		if (i_out >= 0 && p[i_out].revents != 0 && !r->stop)
			drain_stdout(r);
		if (i_err >= 0 && p[i_err].revents != 0 && !r->stop)
			drain_stderr(r);
	}
	return true;
}

/* Waits until the child exits or the deadline passes (false then). A
 * pidfd makes the wait a poll(2); without one, short sleeps. */
static bool
wait_child(pid_t pid, int64_t deadline, int *wstatus)
{
	int pfd = -1;
	long nap_us = 100;
#ifdef SYS_pidfd_open
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (;;) {
		pid_t w = waitpid(pid, wstatus, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD)) {
			/* ECHILD: SIGCHLD is ignored and the kernel reaped it */
			if (w < 0)
				*wstatus = 0;
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			if (pfd >= 0)
				close(pfd);
			return false;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };
			poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		} else {
			struct timespec ts = { 0, nap_us * 1000 };
			nanosleep(&ts, NULL);
			nap_us = nap_us < 10000 ? nap_us * 2 : 10000;
		}
	}
	if (pfd >= 0)
		close(pfd);
	return true;
}

static void
reap(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0) {
		if (errno != EINTR) {
			*wstatus = 0;
			return;
		}
	}
}

/* A close-on-exec pipe whose ends are not 0, 1 or 2, so that the dup2s
 * onto the child's stdio cannot clobber each other. */
static int
make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		close(fds[i]);
		fds[i] = moved;
	}
	if (fds[0] < 0 || fds[1] < 0) {
		for (int i = 0; i < 2; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1;
		}
		return -1;
	}
	return 0;
}

#ifdef USE_POSIX_SPAWN
/* Starts exe with stdin, stdout, stderr on child[0..2], in its own process
 * group, with default signal dispositions and an empty mask, in dir, with
 * every other descriptor closed. Returns 0 or an errno value. */
static int
spawn_child(const char *exe, const char *argv0, const char *dir, char *const envp[],
    const int child[3], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[2] = { (char *)argv0, NULL };
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	sigfillset(&all);
	rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = posix_spawn_file_actions_adddup2(&fa, child[i], i);
	if (rc == 0)
		rc = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (rc == 0)
		rc = posix_spawn(pid, exe, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}
#else
/* The same with fork + execve. Between the two the child calls only
 * async-signal-safe functions; a close-on-exec pipe carries an exec
 * error back. */
static int
spawn_child(const char *exe, const char *argv0, const char *dir, char *const envp[],
    const int child[3], pid_t *pid)
{
	char *argv[2] = { (char *)argv0, NULL };
	long maxfd = sysconf(_SC_OPEN_MAX);
	int ep[2], err = 0;
	sigset_t none;

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	sigemptyset(&none);
	if (make_pipe(ep) < 0)
		return errno;
	pid_t p = fork();
	if (p < 0) {
		err = errno;
		close(ep[0]);
		close(ep[1]);
		return err;
	}
	if (p == 0) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		setpgid(0, 0);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int i = 0; i < 3; i++)
			if (dup2(child[i], i) < 0)
				goto fail;
		if (chdir(dir) < 0)
			goto fail;
		for (long fd = 3; fd < maxfd; fd++)
			if (fd != ep[1])
				close((int)fd);
		execve(exe, argv, envp);
fail:
		err = errno;
		(void)!write(ep[1], &err, sizeof err);
		_exit(127);
	}
	setpgid(p, p);          /* also here, so a kill cannot come before it */
	close(ep[1]);
	ssize_t k;
	while ((k = read(ep[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (k == (ssize_t)sizeof err) {
		int st;
		reap(p, &st);
		return err != 0 ? err : ECHILD;
	}
	*pid = p;
	return 0;
}
#endif

/* exe: path made absolute (the child changes directory before exec);
 * dir: opts->cwd or the directory of exe. */
static bool
resolve_paths(const char *path, const kc_cgi_opts *opts, char *exe, char *dir)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(exe, PATH_MAX, "%s", path);
	} else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return false;
		n = snprintf(exe, PATH_MAX, "%s/%s", cwd, path);
	}
	if (n < 0 || n >= PATH_MAX)
		return false;
	if (opts != NULL && opts->cwd != NULL) {
		n = snprintf(dir, PATH_MAX, "%s", opts->cwd);
		return n >= 0 && n < PATH_MAX;
	}
	memcpy(dir, exe, (size_t)n + 1);
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	return true;
}

/* Starts the child: pipes, spawn, our ends non-blocking. */
static bool
start(cgi_run *r, const char *path, char *const envp[], const kc_cgi_opts *opts)
{
	static char *const no_env[] = { NULL };
	char exe[PATH_MAX], dir[PATH_MAX];
	int p_in[2] = { -1, -1 }, p_out[2] = { -1, -1 }, p_err[2] = { -1, -1 };
	bool ok = false;

	if (!resolve_paths(path, opts, exe, dir))
		return false;
	if (make_pipe(p_in) == 0 && make_pipe(p_out) == 0 && make_pipe(p_err) == 0) {
		int child[3] = { p_in[0], p_out[1], p_err[1] };
		ok = spawn_child(exe, path, dir, envp != NULL ? envp : no_env, child, &r->pid) == 0;
	}
	int keep[3] = { p_in[1], p_out[0], p_err[0] };
	int drop[3] = { p_in[0], p_out[1], p_err[1] };
	for (int i = 0; i < 3; i++) {
		if (drop[i] >= 0)
			close(drop[i]);
		if (!ok && keep[i] >= 0)
			close(keep[i]);
	}
	if (!ok)
		return false;
	r->in_fd = keep[0];
	r->out_fd = keep[1];
	r->err_fd = keep[2];
	for (int i = 0; i < 3; i++)
		fcntl(keep[i], F_SETFL, fcntl(keep[i], F_GETFL) | O_NONBLOCK);
	return true;
}

/* SIGPIPE: a script that exits without reading its body makes our write
 * to its stdin raise SIGPIPE, which would kill keycard. The signal is
 * blocked in the calling thread only for the run (the process-wide
 * disposition is never touched, so other threads are unaffected); the
 * write then fails with EPIPE, and the SIGPIPE left pending on this thread
 * is consumed with sigtimedwait before the old mask comes back, unless one
 * was already pending before the run. The child gets an empty mask and
 * default dispositions. */
kc_cgi_result
kc_cgi_run(const char *path, char *const envp[], const kc_cgi_io *io,
    const kc_cgi_opts *opts)
{
	int timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	int64_t deadline = now_ms() + timeout;
	sigset_t pipe_set, old_mask, pending;
	kc_cgi_result res;
	int wstatus = 0;
	cgi_run *r;

	if (path == NULL || io == NULL || io->write_out == NULL)
		return KC_CGI_FAILED;
	if ((r = malloc(sizeof *r)) == NULL)
		return KC_CGI_FAILED;
	memset(r, 0, offsetof(cgi_run, in));
	r->io = io;
	r->deadline = deadline;
	r->in_fd = r->out_fd = r->err_fd = -1;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	sigpending(&pending);
	bool pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;

	if (!start(r, path, envp, opts)) {
		res = KC_CGI_FAILED;
		goto out;
	}
	feed_stdin(r);          /* starts the body; an empty one closes stdin now */
	bool timed_out = !r->stop && !pump(r, deadline);
	if (timed_out)
		decide(r, r->headers_sent ? KC_CGI_ABORTED : KC_CGI_TIMEOUT, true);
	if (r->stop)
		kill_group(r->pid);
	close_fd(&r->in_fd);
	close_fd(&r->out_fd);
	if (r->err_len > 0)
		log_line(r, r->err, r->err_len);
	close_fd(&r->err_fd);
	if (r->stop) {
		reap(r->pid, &wstatus);
	} else if (!wait_child(r->pid, deadline, &wstatus)) {
		/* output closed, but the script lingers past the deadline */
		kill_group(r->pid);
		reap(r->pid, &wstatus);
		decide(r, r->headers_sent ? KC_CGI_ABORTED : KC_CGI_TIMEOUT, false);
	}
	if (r->failed)
		res = r->verdict;
	else
		/* The response is complete (stdout reached EOF after valid
		 * headers); a non-zero exit does not change that, a crash might
		 * have cut it short. */
		res = WIFSIGNALED(wstatus) ? KC_CGI_ABORTED : KC_CGI_OK;
out:
	if (r->epipe && !pipe_was_pending) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	free(r);
	return res;
}

/* ---- which scripts may run */

bool
kc_cgi_script_allowed(const char *path, const char *const *roots, size_t n_roots,
    char *resolved)
{
	char root[PATH_MAX];
	struct stat st;

	if (resolved == NULL)
		return false;
	resolved[0] = '\0';
	if (path == NULL || roots == NULL || realpath(path, resolved) == NULL) {
		resolved[0] = '\0';
		return false;
	}
	if (stat(resolved, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0 ||
	    faccessat(AT_FDCWD, resolved, X_OK, AT_EACCESS) < 0)
		return false;
	for (size_t i = 0; i < n_roots; i++) {
		struct stat rs;
		if (roots[i] == NULL || realpath(roots[i], root) == NULL ||
		    stat(root, &rs) < 0 || !S_ISDIR(rs.st_mode))
			continue;
		size_t len = strlen(root);
		if (len == 1)           /* "/" */
			return true;
		if (strncmp(resolved, root, len) == 0 && resolved[len] == '/')
			return true;
	}
	return false;
}
