/* fcgi.c: keycard-fcgi's server (see fcgi.h). */
#include "config.h"

#define _GNU_SOURCE 1
#include "gateway/fcgi.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "gateway/log.h"
#include "gateway/reply.h"
#include "gateway/request.h"
#include "policy/policy.h"

/* ---- programs: a policy, its cache, its readers ------------------------------------ */

typedef struct kc_gw_program {
	kc_policy *policy;
	kc_diag *diag;              /* the policy's sources: freed after it */
	kc_token_cache *cache;
	unsigned refs;              /* requests holding it, +1 while current */
} kc_gw_program;

struct kc_gw_server {
	kc_gw_config cfg;
	pthread_mutex_t lock;       /* guards cur and every refs */
	kc_gw_program *cur;
	int listen_fd;
};

static kc_gw_program *
program_load(const char *path)
{
	kc_gw_program *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->diag = kc_diag_new();
	if (p->diag == NULL) {
		free(p);
		return NULL;
	}
	p->policy = kc_policy_load(path, NULL, p->diag);
	kc_diag_print(p->diag, stderr, false);
	fflush(stderr);
	if (p->policy != NULL)
		p->cache = kc_token_cache_new(NULL);
	if (p->policy == NULL || p->cache == NULL) {
		kc_policy_free(p->policy);
		kc_diag_free(p->diag);
		free(p);
		return NULL;
	}
	p->refs = 1;
	return p;
}

static void
program_free(kc_gw_program *p)
{
	if (p == NULL)
		return;
	kc_token_cache_free(p->cache);
	kc_policy_free(p->policy);
	kc_diag_free(p->diag);
	free(p);
}

static kc_gw_program *
program_acquire(kc_gw_server *s)
{
	pthread_mutex_lock(&s->lock);
	kc_gw_program *p = s->cur;
	p->refs++;
	pthread_mutex_unlock(&s->lock);
	return p;
}

static void
program_release(kc_gw_server *s, kc_gw_program *p)
{
	pthread_mutex_lock(&s->lock);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last)
		program_free(p);
}

kc_gw_server *
kc_gw_server_new(const kc_gw_config *cfg)
{
	kc_gw_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	if (s->cfg.threads <= 0)
		s->cfg.threads = 4;
	if (s->cfg.threads > KC_GW_MAX_THREADS)
		s->cfg.threads = KC_GW_MAX_THREADS;
	s->listen_fd = 0;
	pthread_mutex_init(&s->lock, NULL);
	s->cur = program_load(cfg->policy_path);
	if (s->cur == NULL) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void
kc_gw_server_free(kc_gw_server *s)
{
	if (s == NULL)
		return;
	program_release(s, s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool
kc_gw_server_reload(kc_gw_server *s)
{
	kc_gw_program *p = program_load(s->cfg.policy_path);
	if (p == NULL) {
		kc_gw_log_msg("reload failed: keeping the policy in use");
		return false;
	}
	pthread_mutex_lock(&s->lock);
	kc_gw_program *old = s->cur;
	s->cur = p;
	pthread_mutex_unlock(&s->lock);
	kc_cache_stats st;
	kc_token_cache_stats(old->cache, &st);
	char msg[256];
	snprintf(msg, sizeof(msg), "reloaded %s; previous cache hits=%llu misses=%llu",
	    s->cfg.policy_path, (unsigned long long)st.hits, (unsigned long long)st.misses);
	kc_gw_log_msg(msg);
	program_release(s, old);   /* the reference "current" held */
	return true;
}

void
kc_gw_server_cache_stats(kc_gw_server *s, kc_cache_stats *out)
{
	kc_gw_program *p = program_acquire(s);
	kc_token_cache_stats(p->cache, out);
	program_release(s, p);
}

/* ---- the gateway's environment --------------------------------------------------- */

static bool
name_is(const char *e, size_t nl, const char *name)
{
	return strlen(name) == nl && memcmp(e, name, nl) == 0;
}

static bool
control_free(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool
env_dropped(const char *e, size_t nl, const kc_decision *d, bool pass_auth)
{
	if (name_is(e, nl, "HTTP_PROXY") || name_is(e, nl, "REMOTE_USER") ||
	    name_is(e, nl, "AUTH_TYPE") || name_is(e, nl, "SCRIPT_FILENAME"))
		return true;
	if (!pass_auth && name_is(e, nl, "HTTP_AUTHORIZATION"))
		return true;
	if (nl >= 14 && memcmp(e, "HTTP_X_KEYCARD", 14) == 0 && (nl == 14 || e[14] == '_'))
		return true;
	if (nl >= 8 && memcmp(e, "KEYCARD_", 8) == 0)
		return true;
	for (size_t i = 0; d != NULL && i < d->n_exports; i++)
		if (d->exports[i].name != NULL && name_is(e, nl, d->exports[i].name))
			return true;
	return false;
}

static char *
env_pair(kc_arena *a, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	char *s = kc_arena_alloc(a, nl + vl + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, name, nl);
	s[nl] = '=';
	memcpy(s + nl + 1, value, vl + 1);
	return s;
}

char **
kc_gw_env_build(char *const *params, const kc_decision *d, bool pass_auth, const char *script,
    kc_arena *arena)
{
	size_t n_exp = d ? d->n_exports : 0;
	char **env = kc_arena_alloc(arena, (KC_GW_MAX_ENV + n_exp + 3) * sizeof(char *));
	size_t n = 0;
	bool have_gi = false;

	if (env == NULL)
		return NULL;
	for (char *const *e = params; e != NULL && *e != NULL && n < KC_GW_MAX_ENV; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL || eq == *e)
			continue;
		size_t nl = (size_t)(eq - *e);
		if (env_dropped(*e, nl, d, pass_auth))
			continue;
		if (name_is(*e, nl, "GATEWAY_INTERFACE"))
			have_gi = true;
		env[n++] = *e;
	}
	for (size_t i = 0; i < n_exp; i++) {
		const kc_export_value *x = &d->exports[i];
		if (x->name == NULL || x->value == NULL || x->name[0] == '\0' ||
		    strchr(x->name, '=') != NULL || !control_free(x->value))
			continue;
		if ((env[n] = env_pair(arena, x->name, x->value)) == NULL)
			return NULL;
		n++;
	}
	if (script != NULL && (env[n++] = env_pair(arena, "SCRIPT_FILENAME", script)) == NULL)
		return NULL;
	if (!have_gi && (env[n++] = env_pair(arena, "GATEWAY_INTERFACE", "CGI/1.1")) == NULL)
		return NULL;
	env[n] = NULL;
	return env;
}

/* ---- one request ------------------------------------------------------------------ */

static ssize_t
out_write(void *ctx, const char *buf, size_t n)
{
	const kc_cgi_io *io = ctx;
	return io->write_out(io->ctx, buf, n);
}

/* SCRIPT_FILENAME; Apache's mod_proxy_fcgi sends it as
 * "proxy:fcgi://host:port/path": the path is what names the script. */
static const char *
script_param(char *const *envp)
{
	const char *s = kc_gw_param(envp, "SCRIPT_FILENAME");
	if (s != NULL && strncmp(s, "proxy:fcgi://", 13) == 0) {
		s = strchr(s + 13, '/');
		if (s == NULL)
			s = "";
	}
	return s;
}

static uint64_t
elapsed_us(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

int
kc_gw_handle(kc_gw_server *s, char *const *envp, int role, const char *script,
    const kc_cgi_io *io, kc_arena *arena)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kc_gw_out out = { out_write, (void *)io };
	kc_gw_mode mode = kc_gw_request_mode(envp, role);
	kc_request req = { 0 };
	kc_header *hdrs = kc_arena_alloc(arena, KC_MAX_HEADERS * sizeof(kc_header));
	const char *why = KC_GW_WHY_OOM;
	kc_gw_log_entry le = { .time = (int64_t)time(NULL), .json = s->cfg.log_json };

	le.method = kc_gw_param(envp, "REQUEST_METHOD");
	if (hdrs == NULL || !kc_gw_request_build(envp, arena, &req, hdrs, &why)) {
		le.status = hdrs == NULL || strcmp(why, KC_GW_WHY_OOM) == 0 ? 500 :
		    strcmp(why, KC_GW_WHY_HEADERS) == 0 ? 431 : 400;
		le.status = kc_gw_status_for_mode(le.status, mode);
		le.note = why;
		kc_gw_reply_error(le.status, NULL, &out);
		le.latency_us = elapsed_us(&t0);
		kc_gw_log_decision(&le);
		return le.status;
	}
	le.path = req.path;
	le.path_len = req.path_len;
	req.now = le.time;

	kc_gw_program *prog = program_acquire(s);
	kc_decision d;
	req.cache = prog->cache;
	kc_decide(prog->policy, &req, arena, &d, NULL);
	le.decision = &d;
	le.status = kc_gw_reply_status(&d, mode);

	if (mode != KC_GW_GATEWAY || le.status != 200) {
		int sent = le.status;
		if (!kc_gw_reply(&d, mode, &out, &sent))
			le.note = "client went away";
		else if (sent != le.status)
			le.note = "the identity is too large to hand on";
		le.status = sent;
		goto done;
	}

	/* Gateway: the script, if it is one we may run. */
	if (script == NULL)
		script = script_param(envp);
	char *resolved = kc_arena_alloc(arena, PATH_MAX);
	if (script == NULL || script[0] == '\0') {
		le.status = 500;
		le.note = "no script to run (SCRIPT_FILENAME or PATH_TRANSLATED)";
		kc_gw_reply_error(le.status, NULL, &out);
		goto done;
	}
	if (resolved == NULL || !kc_cgi_script_allowed(script, s->cfg.cgi_roots,
	    s->cfg.n_cgi_roots, resolved)) {
		le.status = 403;
		le.note = "script is not an executable file under a --cgi-root";
		kc_gw_reply_error(le.status, NULL, &out);
		goto done;
	}
	char **env = kc_gw_env_build(envp, &d, s->cfg.pass_authorization, resolved, arena);
	if (env == NULL) {
		le.status = 500;
		le.note = "out of memory";
		kc_gw_reply_error(le.status, NULL, &out);
		goto done;
	}
	kc_cgi_opts opts = { .timeout_ms = s->cfg.cgi_timeout_ms, .cwd = NULL };
	switch (kc_cgi_run(resolved, env, io, &opts)) {
	case KC_CGI_OK:
		break;
	case KC_CGI_FAILED:
		le.status = 502;
		le.note = "script failed before a valid response";
		kc_gw_reply_error(le.status, NULL, &out);
		break;
	case KC_CGI_TIMEOUT:
		le.status = 504;
		le.note = "script timed out";
		kc_gw_reply_error(le.status, NULL, &out);
		break;
	case KC_CGI_ABORTED:
		le.note = "response cut short (script failed or timed out, or the client went away)";
		break;
	}
done:
	le.latency_us = elapsed_us(&t0);
	if (s->cfg.log_allow || le.status != 200 || le.note != NULL)
		kc_gw_log_decision(&le);
	program_release(s, prog);
	return le.status;
}

/* ---- FastCGI ---------------------------------------------------------------------- */

/* Output is held back while the request body is still coming in.
 *
 * libfcgi's streams block. A web server that does not read our output
 * until it has sent the whole body (nginx does so) would otherwise
 * deadlock with us: we block writing the script's output, so we stop
 * reading the body, so the server blocks sending it. Until the body has
 * been read to its end, the script's output is spooled (in memory up to
 * KC_GW_SPOOL_MEM, then in an unlinked temporary file) and sent after. The
 * script itself is still fed its body while it writes (cgi.c), and a
 * request without a body is not spooled at all. */
#define KC_GW_SPOOL_MEM (1024 * 1024)
/* Past this much held-back output the response is cut (the script wrote
 * 64 MiB before its request body was in; the disk is not a sink). */
#define KC_GW_SPOOL_MAX ((size_t)64 * 1024 * 1024)

typedef struct fcgi_ctx {
	FCGX_Request *rq;
	bool body_done;             /* the request body was read to its end */
	char *spool;                /* held-back output, in memory */
	size_t spool_len, spool_cap;
	FILE *spool_file;           /* and past KC_GW_SPOOL_MEM, on disk */
	size_t spool_file_len;      /* bytes in spool_file, at most KC_GW_SPOOL_MAX */
	bool rcvtimeo;              /* the socket has a receive timeout set */
} fcgi_ctx;

static bool
put_all(FCGX_Request *rq, const char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		int chunk = n - done > INT_MAX ? INT_MAX : (int)(n - done);
		if (FCGX_PutStr(buf + done, chunk, rq->out) != chunk)
			return false;
		done += (size_t)chunk;
	}
	return true;
}

/* Sends what was held back. */
static bool
spool_flush(fcgi_ctx *c)
{
	bool ok = true;
	if (c->spool_len > 0)
		ok = put_all(c->rq, c->spool, c->spool_len);
	c->spool_len = 0;
	if (c->spool_file != NULL) {
		char buf[16384];
		size_t r;
		rewind(c->spool_file);
		while (ok && (r = fread(buf, 1, sizeof(buf), c->spool_file)) > 0)
			ok = put_all(c->rq, buf, r);
		fclose(c->spool_file);
		c->spool_file = NULL;
	}
	c->spool_file_len = 0;
	return ok;
}

static bool
spool_add(fcgi_ctx *c, const char *buf, size_t n)
{
	if (c->spool_file == NULL && c->spool_len + n <= KC_GW_SPOOL_MEM) {
		if (c->spool_len + n > c->spool_cap) {
			size_t cap = c->spool_cap ? c->spool_cap : 16384;
			while (cap < c->spool_len + n)
				cap *= 2;
			char *ns = realloc(c->spool, cap);
			if (ns == NULL)
				return false;
			c->spool = ns;
			c->spool_cap = cap;
		}
		memcpy(c->spool + c->spool_len, buf, n);
		c->spool_len += n;
		return true;
	}
	if (c->spool_file_len + c->spool_len + n > KC_GW_SPOOL_MAX)
		return false;
	if (c->spool_file == NULL && (c->spool_file = tmpfile()) == NULL)
		return false;
	c->spool_file_len += n;
	return fwrite(buf, 1, n, c->spool_file) == n;
}

/* Bounds how long a read of the web server's socket may block: libfcgi
 * reads its buffer first and the socket only when that is empty, so a
 * receive timeout on the socket waits exactly for bytes that have not
 * come yet. (ipcFd is public in fcgiapp.h but marked internal; libfcgi has
 * no call for this.) ms <= 0 clears it. */
static void
set_read_timeout(fcgi_ctx *c, int ms)
{
	if (c->rq->ipcFd < 0 || (ms <= 0 && !c->rcvtimeo))
		return;
	struct timeval tv = { .tv_sec = ms > 0 ? ms / 1000 : 0,
	    .tv_usec = ms > 0 ? (ms % 1000) * 1000 : 0 };
	if (setsockopt(c->rq->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
		c->rcvtimeo = ms > 0;
}

static ssize_t
fcgi_read(void *ctx, char *buf, size_t n, int wait_ms)
{
	fcgi_ctx *c = ctx;
	FCGX_Request *rq = c->rq;
	if (n > INT_MAX)
		n = INT_MAX;
	if (wait_ms <= 0)
		return KC_CGI_IO_SLOW;
	set_read_timeout(c, wait_ms);
	int r = FCGX_GetStr(buf, (int)n, rq->in);
	if (r <= 0) {
		int err = FCGX_GetError(rq->in);
		if (err == EAGAIN || err == EWOULDBLOCK)
			return KC_CGI_IO_SLOW;
		if (err != 0)
			return -1;
		/* The whole body is in: what was held back may go now. */
		c->body_done = true;
		if (!spool_flush(c))
			return -1;
		return 0;
	}
	return r;
}

static ssize_t
fcgi_write(void *ctx, const char *buf, size_t n)
{
	fcgi_ctx *c = ctx;
	if (!c->body_done)
		return spool_add(c, buf, n) ? (ssize_t)n : -1;
	FCGX_Request *rq = c->rq;
	size_t done = 0;
	while (done < n) {
		int chunk = n - done > INT_MAX ? INT_MAX : (int)(n - done);
		if (FCGX_PutStr(buf + done, chunk, rq->out) != chunk)
			return -1;
		done += (size_t)chunk;
	}
	return (ssize_t)n;
}

static void
fcgi_log_err(void *ctx, const char *line, size_t n)
{
	FCGX_Request *rq = ((fcgi_ctx *)ctx)->rq;
	int len = n > 4000 ? 4000 : (int)n;
	FCGX_PutS("keycard: script: ", rq->err);
	FCGX_PutStr(line, len, rq->err);
	FCGX_PutChar('\n', rq->err);
}

static void *
worker(void *arg)
{
	kc_gw_server *s = arg;
	FCGX_Request rq;
	kc_arena *arena = kc_arena_new(64 * 1024);

	if (arena == NULL || FCGX_InitRequest(&rq, s->listen_fd, 0) != 0) {
		kc_gw_log_msg("worker: cannot initialise a request");
		kc_arena_free(arena);
		return NULL;
	}
	fcgi_ctx fc = { .rq = &rq };
	kc_cgi_io io = { fcgi_read, fcgi_write, fcgi_log_err, &fc };
	while (FCGX_Accept_r(&rq) >= 0) {
		/* No body to wait for: no spooling (RFC 3875 §4.1.2). */
		const char *cl = FCGX_GetParam("CONTENT_LENGTH", rq.envp);
		fc.body_done = cl == NULL || cl[0] == '\0' || strcmp(cl, "0") == 0;
		kc_gw_handle(s, rq.envp, rq.role, NULL, &io, arena);
		fc.body_done = true;
		spool_flush(&fc);
		set_read_timeout(&fc, 0);       /* a kept connection waits freely again */
		FCGX_Finish_r(&rq);
		kc_arena_clear(arena);
	}
	free(fc.spool);
	kc_arena_free(arena);
	return NULL;
}

static int
open_listen(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		spec += 5;
	if (spec[0] == '\0')
		return -1;
	return FCGX_OpenSocket(spec, 128);
}

int
kc_gw_server_run(kc_gw_server *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Workers inherit the mask: only the loop below takes these. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		kc_gw_log_msg("FCGX_Init failed");
		return 1;
	}
	if (s->cfg.listen != NULL) {
		s->listen_fd = open_listen(s->cfg.listen);
		if (s->listen_fd < 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "cannot listen on %s", s->cfg.listen);
			kc_gw_log_msg(msg);
			return 1;
		}
	}
	pthread_t tids[KC_GW_MAX_THREADS];
	int started = 0;
	for (int i = 0; i < s->cfg.threads; i++) {
		if (pthread_create(&tids[i], NULL, worker, s) != 0)
			break;
		pthread_detach(tids[i]);
		started++;
	}
	if (started == 0) {
		kc_gw_log_msg("cannot start any worker thread");
		return 1;
	}
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			kc_gw_server_reload(s);
		} else if (sig == SIGUSR1) {
			kc_cache_stats st;
			kc_gw_server_cache_stats(s, &st);
			char msg[256];
			snprintf(msg, sizeof(msg), "cache hits=%llu misses=%llu inserts=%llu "
			    "evictions=%llu entries=%zu", (unsigned long long)st.hits,
			    (unsigned long long)st.misses, (unsigned long long)st.inserts,
			    (unsigned long long)st.evictions, st.entries);
			kc_gw_log_msg(msg);
		} else {
			/* Workers may be inside a request: end the process as the
			 * signal would have, without freeing what they use. */
			kc_gw_log_msg(sig == SIGTERM ? "exiting on SIGTERM" : "exiting on SIGINT");
			exit(0);
		}
	}
}

/* ---- plain CGI -------------------------------------------------------------------- */

typedef struct cgi_ctx {
	int64_t left;               /* CONTENT_LENGTH bytes still to read; -1: to EOF */
} cgi_ctx;

static ssize_t
cgi_read(void *ctx, char *buf, size_t n, int wait_ms)
{
	cgi_ctx *c = ctx;
	if (c->left == 0)
		return 0;
	if (c->left > 0 && (int64_t)n > c->left)
		n = (size_t)c->left;
	struct pollfd p = { .fd = 0, .events = POLLIN };
	int got;
	do
		got = poll(&p, 1, wait_ms > 0 ? wait_ms : 0);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return KC_CGI_IO_SLOW;
	ssize_t r;
	do
		r = read(0, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0 && c->left > 0)
		c->left -= r;
	return r;
}

static ssize_t
cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(1, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static void
cgi_log_err(void *ctx, const char *line, size_t n)
{
	(void)ctx;
	int len = n > 4000 ? 4000 : (int)n;
	fprintf(stderr, "keycard: script: %.*s\n", len, line);
	fflush(stderr);
}

/* Apache's Action hands over PATH_TRANSLATED = the script's file plus the
 * request's path info (".../devices.sh/devices/123"). The script is the
 * longest prefix that is a regular file; the rest is its PATH_INFO. */
static const char *
split_translated(kc_arena *a, const char *translated, const char **rest)
{
	size_t len = strlen(translated);
	char *path = kc_arena_strndup(a, translated, len);
	*rest = "";
	if (path == NULL)
		return NULL;
	for (;;) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			*rest = translated + strlen(path);
			return path;
		}
		char *slash = strrchr(path, '/');
		if (slash == NULL || slash == path)
			return translated;   /* no file: let the root check refuse it */
		*slash = '\0';
	}
}

/* The environment the wrapped script sees under Action: SCRIPT_NAME and
 * PATH_INFO split as a server would for the script itself. */
static char **
action_env(kc_arena *a, char *const *envp, const char *rest)
{
	size_t n = 0, rl = strlen(rest);
	while (envp[n] != NULL)
		n++;
	char **env = kc_arena_alloc(a, (n + 3) * sizeof(char *));
	if (env == NULL)
		return NULL;
	const char *pi = kc_gw_param(envp, "PATH_INFO");
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "PATH_INFO=", 10) != 0 && strncmp(envp[i], "SCRIPT_NAME=", 12) != 0 &&
		    strncmp(envp[i], "PATH_TRANSLATED=", 16) != 0)
			env[k++] = envp[i];
	if (pi != NULL) {
		size_t pl = strlen(pi);
		size_t sl = pl >= rl && strcmp(pi + pl - rl, rest) == 0 ? pl - rl : pl;
		char *sn = kc_arena_alloc(a, sl + 13), *np = kc_arena_alloc(a, rl + 11);
		if (sn == NULL || np == NULL)
			return NULL;
		snprintf(sn, sl + 13, "SCRIPT_NAME=%.*s", (int)sl, pi);
		snprintf(np, rl + 11, "PATH_INFO=%s", rest);
		env[k++] = sn;
		if (rl > 0)
			env[k++] = np;
	}
	env[k] = NULL;
	return env;
}

int
kc_gw_serve_cgi(kc_gw_server *s, char *const *envp)
{
	signal(SIGPIPE, SIG_IGN);
	cgi_ctx c = { .left = -1 };
	const char *cl = kc_gw_param(envp, "CONTENT_LENGTH");
	if (cl != NULL && cl[0] != '\0') {
		char *end;
		errno = 0;
		long long v = strtoll(cl, &end, 10);
		c.left = (errno == 0 && *end == '\0' && v >= 0) ? v : 0;
	} else {
		c.left = 0;     /* RFC 3875 §4.1.2: no CONTENT_LENGTH, no body */
	}
	kc_cgi_io io = { cgi_read, cgi_write, cgi_log_err, &c };
	kc_arena *arena = kc_arena_new(64 * 1024);
	if (arena == NULL)
		return 1;
	/* Only PATH_TRANSLATED: under Action, SCRIPT_FILENAME is keycard-fcgi
	 * itself, and running it would start this again. "" answers 500. */
	const char *translated = kc_gw_param(envp, "PATH_TRANSLATED"), *rest = "";
	const char *script = translated ? split_translated(arena, translated, &rest) : "";
	char **env = action_env(arena, envp, rest);
	kc_gw_handle(s, env ? env : (char **)envp, 0, script ? script : "", &io, arena);
	/* A refused (or short-reading) request leaves its body unread; read it
	 * away, bounded, so the server does not see a reset instead of our
	 * answer (mod_cgid talks over a socket). */
	char sink[16384];
	long long drained = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t limit_us = 5 * 1000000;     /* and in at most 5 s */
	while (c.left > 0 && drained < 64LL * 1024 * 1024) {
		uint64_t spent = elapsed_us(&t0);
		if (spent >= limit_us)
			break;
		ssize_t r = cgi_read(&c, sink, sizeof(sink), (int)((limit_us - spent) / 1000) + 1);
		if (r <= 0)
			break;
		drained += r;
	}
	kc_arena_free(arena);
	return 0;
}
