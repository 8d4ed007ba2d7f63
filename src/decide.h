/* decide.h: kc_decide(), steps 1-5 of a request (ARCHITECTURE.md): the one
 * function keycard-fcgi and every dry-run tool call, so that a dry run
 * predicts production exactly.
 *
 *   request → normalized path → route → credential → token → gates and
 *   rules → decision (status, RFC 6750 challenge, exports)
 *
 * kc_decide never performs I/O and never allocates outside the arena it is
 * given; the policy is read-only. Thread-safe for a shared policy. */
#ifndef KC_DECIDE_H
#define KC_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/header.h"
#include "policy/policy.h"
#include "token/cache.h"
#include "token/reason.h"

#define KC_MAX_HEADERS 128
#define KC_MAX_EXPORTS 64

typedef struct kc_request {
	const char *method;         /* "GET" */
	const char *path;           /* path part of the request target, raw (not decoded) */
	size_t path_len;
	const char *query;          /* without '?', may be NULL */
	size_t query_len;
	const kc_header *headers;
	size_t n_headers;           /* at most KC_MAX_HEADERS are read */
	const char *remote_addr;    /* textual IPv4 or IPv6, may be NULL */
	int64_t now;                /* seconds since the epoch */
	/* Dry runs only: claims given as a JSON object instead of a signed token
	 * (keycard eval --claims). The signature is skipped; every claim check
	 * still runs. NULL in production. */
	const char *synthetic_claims;
	size_t synthetic_claims_len;
	/* keycard-fcgi: the validated-token cache consulted before verifying a
	 * token and filled after (never with KC_TOK_INTERNAL). NULL: no cache.
	 * The caller flushes it whenever the policy (its keys) changes. */
	kc_token_cache *cache;
} kc_request;

typedef struct kc_export_value {
	const char *name;           /* CGI variable, e.g. REMOTE_USER, HTTP_X_AUDIT */
	const char *value;
} kc_export_value;

typedef enum kc_verdict {
	KC_ALLOW = 0,
	KC_DENY_PATH,               /* 400: the path cannot be normalized safely */
	KC_DENY_NO_ROUTE,           /* the default response */
	KC_DENY_REQUEST,            /* 400 invalid_request: malformed or repeated credentials */
	KC_DENY_NO_TOKEN,           /* 401 challenge without an error code */
	KC_DENY_TOKEN,              /* 401 invalid_token */
	KC_DENY_UNAVAILABLE,        /* 503: our own failure, never a 401 */
	KC_DENY_RULE,               /* a gate, deny or require fired */
	KC_DENY_DEFAULT,            /* no allow rule matched */
} kc_verdict;

typedef struct kc_decision {
	kc_verdict verdict;
	int status;                 /* 200 on allow */
	const char *error;          /* RFC 6750/9470 error code, or NULL */
	const char *scope;          /* scope hint sent in the challenge, or NULL */
	const char *description;    /* error_description, or NULL */
	const char *www_authenticate; /* full header value, or NULL */
	int retry_after;            /* seconds, for 503 */
	/* The rule that decided (allow, or the refusing deny/require/gate). */
	const char *rule_label;
	const char *rule_kind;      /* "allow", "deny", "require", NULL */
	kc_span rule_span;
	kc_export_value exports[KC_MAX_EXPORTS + 16];
	size_t n_exports;
	/* For the log line: never the token. */
	kc_token_reason token_reason;
	const char *subject, *client_id, *client_name, *issuer;
	char token_hash[13];
	const char *route;          /* the route's pattern, or NULL */
	const char *note;           /* short reason for logs, e.g. "expired" */
	bool synthetic;             /* decided on --claims, signature not checked */
	bool cache_hit;             /* the token's outcome came from req->cache */
} kc_decision;

/* One line of a decision trace (keycard eval --explain). */
typedef struct kc_trace_line {
	const char *stage;          /* "request", "path", "route", "token", "gate",
	                               "require", "deny", "allow", "decision", ... */
	kc_span at;
	const char *label;
	const char *text;           /* what was tested or found */
	const char *detail;         /* the values seen */
	int result;                 /* -1 n/a, 0 false, 1 true */
	const char *outcome;        /* "fires", "holds", "not fired", ... */
	struct kc_trace_line *next;
} kc_trace_line;

typedef struct kc_trace {
	kc_trace_line *first, *last;
	bool full;                  /* also evaluate atoms skipped by short-circuit */
	const char *closest;        /* "closest allow" explanation, or NULL */
} kc_trace;

/* Decides one request. All memory comes from arena; out stays valid until
 * the arena is cleared. trace may be NULL (production). Never fails: an
 * internal failure is a KC_DENY_UNAVAILABLE decision. */
void kc_decide(const kc_policy *policy, const kc_request *req, kc_arena *arena,
    kc_decision *out, kc_trace *trace);

/* Retry-After for a 503, 5-15 s: spread over clients (by remote address)
 * and time, so that clients sent away together do not all come back in the
 * same second; the same inputs give the same value (dry runs repeat). */
int kc_retry_after(int64_t now, const char *remote_addr);

#endif
