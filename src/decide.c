/* decide.c: kc_decide(), steps 1-5 of ARCHITECTURE.md in one function.
 *
 * The order is fixed (policy-language.md §2.4.1 and §7): normalize the
 * path; select the route (no route: the default response, nothing else
 * runs); gates that read only the request; the credential; the token;
 * gates that read the token; the rules of the resource and the route with
 * deny-overrides; exports on allow. Every refusal is mapped to its status
 * and challenge here and nowhere else. */
#include "config.h"

#include "decide.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "policy/policy_int.h"
#include "token/b64url.h"

/* ---- small helpers -------------------------------------------------------------- */

struct kc_decide_state {
	const kc_policy *p;
	const kc_request *req;
	kc_arena *arena;
	kc_decision *out;
	kc_trace *trace;
	kc_eval_ctx ctx;
	bool have_token;
};

static void trace_add(struct kc_decide_state *st, const char *stage, kc_span at,
    const char *label, const char *text, int result, const char *outcome);
static const char *span_text(kc_arena *a, kc_span at);
static void trace_rule(struct kc_decide_state *st, const kc_rule *r, bool v, const char *outcome);
static const char *atom_detail(struct kc_decide_state *st, const kc_atom *a);
static void trace_atoms(struct kc_decide_state *st, const kc_node *n);

static char *
afmt(kc_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
afmt(kc_arena *a, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	return kc_arena_strndup(a, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static unsigned
method_bit(const char *m)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	for (unsigned i = 0; m != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(m, names[i]) == 0)
			return 1u << i;
	return 0;
}

/* RFC 6750 §3: Bearer realm="…"[, error="…"][, error_description="…"][, scope="…"]. */
static void
challenge(struct kc_decide_state *st)
{
	kc_decision *d = st->out;
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "Bearer realm=\"%s\"", st->p->realm);
	if (d->error != NULL)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", error=\"%s\"", d->error);
	if (d->description != NULL && n < (int)sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", error_description=\"%s\"", d->description);
	if (d->scope != NULL && n < (int)sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", scope=\"%s\"", d->scope);
	if (n > 0 && n < (int)sizeof(buf))
		d->www_authenticate = kc_arena_strndup(st->arena, buf, (size_t)n);
}

static void
refuse(struct kc_decide_state *st, kc_verdict v, int status, const char *error, const char *note)
{
	kc_decision *d = st->out;
	d->verdict = v;
	d->status = status;
	d->error = error;
	d->note = note;
	/* A challenge goes with every 401 and with any refusal that names an
	 * error code; a plain 403, a 404 or a 400 for a path get none. */
	if (status == 401 || error != NULL)
		challenge(st);
	trace_add(st, "decision", (kc_span){ 0 }, NULL, note, -1, NULL);
}

int
kc_retry_after(int64_t now, const char *remote_addr)
{
	/* FNV-1a over the address, mixed with the time: a different second
	 * for different clients refused in the same one. */
	uint64_t h = 1469598103934665603u;
	for (const unsigned char *p = (const unsigned char *)(remote_addr ? remote_addr : ""); *p; p++)
		h = (h ^ *p) * 1099511628211u;
	h ^= (uint64_t)now * 2654435761u;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return 5 + (int)(h % 11);
}

static void
unavailable(struct kc_decide_state *st, const char *note)
{
	kc_decision *d = st->out;
	d->verdict = KC_DENY_UNAVAILABLE;
	d->status = 503;
	d->note = note;
	d->retry_after = kc_retry_after(st->req->now, st->req->remote_addr);
	trace_add(st, "decision", (kc_span){ 0 }, NULL, note, -1, NULL);
}

static void
trace_add(struct kc_decide_state *st, const char *stage, kc_span at, const char *label,
    const char *text, int result, const char *outcome)
{
	if (st->trace == NULL)
		return;
	kc_trace_line *l = kc_arena_alloc(st->arena, sizeof(*l));
	if (l == NULL)
		return;
	memset(l, 0, sizeof(*l));
	l->stage = stage;
	l->at = at;
	l->label = label;
	l->text = text;
	l->result = result;
	l->outcome = outcome;
	if (st->trace->last)
		st->trace->last->next = l;
	else
		st->trace->first = l;
	st->trace->last = l;
}

/* ---- the credential (RFC 6750 §2.1) ---------------------------------------------- */

typedef enum cred { CRED_NONE, CRED_BEARER, CRED_BAD } cred;

static bool
token68_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

static cred
credential(const kc_request *req, const char **token, size_t *len)
{
	const kc_header *found = NULL;
	size_t n = req->n_headers < KC_MAX_HEADERS ? req->n_headers : KC_MAX_HEADERS;
	for (size_t i = 0; i < n; i++) {
		const kc_header *h = &req->headers[i];
		if (h->name_len == 13 && strncasecmp(h->name, "authorization", 13) == 0) {
			if (found != NULL)
				return CRED_BAD;   /* two credentials */
			found = h;
		}
	}
	if (found == NULL)
		return CRED_NONE;
	const char *v = found->value;
	size_t vl = found->value_len, i = 0;
	while (i < vl && v[i] != ' ')
		i++;
	/* Another scheme (Basic, …) is not a bearer token (§7.3). */
	if (i != 6 || strncasecmp(v, "Bearer", 6) != 0)
		return CRED_NONE;
	while (i < vl && v[i] == ' ')
		i++;
	size_t start = i;
	while (i < vl && token68_char(v[i]))
		i++;
	while (i < vl && v[i] == '=')
		i++;
	size_t end = i;
	while (i < vl && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (end == start || i != vl)
		return CRED_BAD;
	*token = v + start;
	*len = end - start;
	return CRED_BEARER;
}

/* The unverified iss of a compact JWT, to pick the issuer whose keys to
 * use; verification checks it again (§7.4). */
static const kc_issuer *
pick_issuer(struct kc_decide_state *st, const char *tok, size_t len, const kc_json *claims)
{
	const kc_policy *p = st->p;
	if (claims == NULL) {
		const char *d1 = memchr(tok, '.', len);
		const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
		if (d2 == NULL)
			return p->n_issuers == 1 ? &p->issuers[0] : NULL;
		size_t plen = (size_t)(d2 - d1 - 1), dl;
		unsigned char *buf = kc_arena_alloc(st->arena, KC_B64URL_DECODED_MAX(plen) + 1);
		if (buf == NULL || !kc_b64url_decode(d1 + 1, plen, buf, &dl))
			return p->n_issuers == 1 ? &p->issuers[0] : NULL;
		kc_json_error e;
		claims = kc_json_parse(st->arena, (const char *)buf, dl, KC_JSON_MAX_DEPTH, &e);
	}
	size_t il;
	const char *iss = claims ? kc_json_string(kc_json_get(claims, "iss"), &il) : NULL;
	for (uint32_t i = 0; iss != NULL && i < p->n_issuers; i++)
		if (strlen(p->issuers[i].iss) == il && memcmp(p->issuers[i].iss, iss, il) == 0)
			return &p->issuers[i];
	/* One issuer: let its verifier say what is wrong with the token. */
	return p->n_issuers == 1 ? &p->issuers[0] : NULL;
}

/* The validated-token cache (req->cache): a hit gives the outcome and the
 * issuer, and for a valid token its claims, parsed again from the cached
 * text. Only the outcome of kc_token_verify is cached; everything after it
 * (the route's issuers, required claims, rules) runs on every request. */
static bool
cached_token(struct kc_decide_state *st, const char *tok, size_t len, kc_token_reason *r,
    const kc_issuer **is, const kc_json **claims)
{
	const kc_request *req = st->req;
	kc_cached_token ct;

	if (req->cache == NULL ||
	    !kc_token_cache_get(req->cache, tok, len, req->now, st->arena, &ct))
		return false;
	*is = ct.issuer < st->p->n_issuers ? &st->p->issuers[ct.issuer] : NULL;
	*r = ct.reason;
	memcpy(st->out->token_hash, ct.token_hash, sizeof(ct.token_hash));
	*claims = NULL;
	if (ct.reason == KC_TOK_OK) {
		kc_json_error e;
		*claims = *is ? kc_json_parse(st->arena, ct.claims, ct.claims_len, KC_JSON_MAX_DEPTH,
		    &e) : NULL;
		if (*claims == NULL)
			return false;   /* cannot happen for text we stored; verify again */
	}
	st->out->cache_hit = true;
	return true;
}

static void
cache_token(struct kc_decide_state *st, const char *tok, size_t len, kc_token_reason r,
    const kc_issuer *is, const kc_json *claims)
{
	const kc_request *req = st->req;
	uint32_t idx = is ? (uint32_t)(is - st->p->issuers) : UINT32_MAX;

	if (req->cache == NULL || kc_token_reason_is_internal(r))
		return;
	if (r != KC_TOK_OK || claims == NULL) {
		kc_token_cache_put(req->cache, tok, len, req->now, INT64_MAX, r, idx, NULL, 0);
		return;
	}
	/* The claims text is the token's payload segment, decoded. */
	const char *d1 = memchr(tok, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (d2 == NULL)
		return;
	size_t plen = (size_t)(d2 - d1 - 1), dl;
	unsigned char *buf = kc_arena_alloc(st->arena, KC_B64URL_DECODED_MAX(plen) + 1);
	if (buf == NULL || !kc_b64url_decode(d1 + 1, plen, buf, &dl))
		return;
	/* exp may be any JSON number (RFC 7519 NumericDate): an entry must never
	 * outlive it, so a fractional one is cut down to whole seconds. Only a
	 * token without exp is bounded by the ttl alone. */
	int64_t exp = INT64_MAX;
	const kc_json *ej = kc_json_get(claims, "exp");
	if (ej != NULL && !kc_json_integer(ej, &exp)) {
		double d = kc_json_is_number(ej) ? kc_json_number(ej) : -1;
		if (!(d >= 0 && d < 9e18))
			return;   /* nothing sane to bound it by: do not cache */
		exp = (int64_t)d;
	}
	kc_token_cache_put(req->cache, tok, len, req->now, exp, r, idx, (const char *)buf, dl);
}

/* Returns true when the request may go on (with or without a token). */
static bool
token_stage(struct kc_decide_state *st)
{
	const kc_request *req = st->req;
	const kc_route_def *route = st->ctx.route;
	const char *tok = NULL;
	size_t len = 0;
	const kc_json *claims = NULL;
	kc_decision *d = st->out;

	if (route->auth == KC_A_NONE)
		return true;   /* §7.2: Authorization is never read */
	cred c = req->synthetic_claims ? CRED_BEARER : credential(req, &tok, &len);
	if (c == CRED_BAD) {
		refuse(st, KC_DENY_REQUEST, 400, "invalid_request", "malformed or repeated Authorization");
		return false;
	}
	if (c == CRED_NONE) {
		if (route->auth == KC_A_REQUIRED) {
			refuse(st, KC_DENY_NO_TOKEN, 401, NULL, "no bearer token");
			return false;
		}
		trace_add(st, "token", (kc_span){ 0 }, NULL, "none: anonymous (auth optional)", -1, NULL);
		return true;
	}

	kc_token_reason r;
	char detail[96] = "";
	if (req->synthetic_claims != NULL) {
		d->synthetic = true;
		if (tok != NULL)
			kc_short_hash(tok, len, d->token_hash);
		claims = kc_jws_parse_json(st->arena, req->synthetic_claims, req->synthetic_claims_len, &r);
		if (claims != NULL && !kc_json_is_object(claims))
			r = KC_TOK_PAYLOAD_NOT_OBJECT;
		const kc_issuer *is = claims && r == KC_TOK_OK ? pick_issuer(st, NULL, 0, claims) : NULL;
		if (claims != NULL && r == KC_TOK_OK && is == NULL)
			r = KC_TOK_ISSUER_MISMATCH;
		if (r == KC_TOK_OK)
			r = kc_verifier_check_claims(is->verifier, claims, req->now, detail, sizeof(detail));
		st->ctx.issuer = is;
	} else {
		const kc_issuer *is = NULL;
		if (!cached_token(st, tok, len, &r, &is, &claims)) {
			kc_short_hash(tok, len, d->token_hash);
			is = pick_issuer(st, tok, len, NULL);
			if (is == NULL) {
				r = KC_TOK_ISSUER_MISMATCH;
			} else {
				kc_token t;
				r = kc_token_verify(is->verifier, tok, len, req->now, st->arena, &t,
				    detail, sizeof(detail));
				claims = t.claims;
			}
			cache_token(st, tok, len, r, is, claims);
		}
		st->ctx.issuer = is;
	}
	if (r == KC_TOK_OK && route->accept != 0 &&
	    !(route->accept & (1u << (uint32_t)(st->ctx.issuer - st->p->issuers)))) {
		/* Valid, but from an issuer this route does not take (§7.4). */
		r = KC_TOK_ISSUER_MISMATCH;
		snprintf(detail, sizeof(detail), "issuer %s is not accepted here", st->ctx.issuer->name);
	}
	d->token_reason = r;
	if (r != KC_TOK_OK) {
		if (kc_token_reason_is_internal(r)) {
			unavailable(st, kc_token_reason_message(r));
			return false;
		}
		refuse(st, KC_DENY_TOKEN, 401, "invalid_token",
		    afmt(st->arena, "%s%s%s%s", kc_token_reason_message(r), detail[0] ? " (" : "",
		    detail, detail[0] ? ")" : ""));
		return false;
	}
	st->ctx.claims = claims;
	const char *bad = kc_eval_load_token(&st->ctx);
	if (bad != NULL) {
		d->token_reason = KC_TOK_MISSING_CLAIM;
		refuse(st, KC_DENY_TOKEN, 401, "invalid_token",
		    afmt(st->arena, "required claim '%s' is missing or of the wrong type", bad));
		return false;
	}
	st->have_token = true;
	size_t l;
	d->subject = kc_json_string(kc_json_get(claims, "sub"), &l);
	d->client_id = kc_json_string(kc_json_get(claims, "client_id"), &l);
	/* The client's display name, for the log line of any decision. */
	for (uint32_t i = 0; d->client_id != NULL && i < st->p->n_clients; i++)
		if (st->p->clients[i].id.len == l &&
		    memcmp(st->p->clients[i].id.s, d->client_id, l) == 0)
			d->client_name = st->p->clients[i].name;
	d->issuer = kc_json_string(kc_json_get(claims, "iss"), &l);
	if (st->trace != NULL)
		trace_add(st, "token", (kc_span){ 0 }, NULL, afmt(st->arena, "%s, issuer %s",
		    d->synthetic ? "SYNTHETIC claims: signature NOT checked" : "valid",
		    st->ctx.issuer ? st->ctx.issuer->name : "?"), -1, NULL);
	return true;
}

/* ---- rules -------------------------------------------------------------------------- */

static const char *
kind_name(kc_rule_kind k)
{
	return k == KC_R_ALLOW ? "allow" : k == KC_R_DENY ? "deny" : "require";
}

static void
trace_rule(struct kc_decide_state *st, const kc_rule *r, bool v, const char *outcome)
{
	if (st->trace == NULL)
		return;
	kc_trace_line *before = st->trace->last;
	trace_add(st, r->origin[0] == 'g' ? "gate" : kind_name(r->kind), r->span, r->label,
	    r->cond ? span_text(st->arena, r->cond->span) : NULL, r->cond ? v : -1, outcome);
	if (st->trace->last != before && r->cond != NULL && r->cond->kind == KC_N_ATOM)
		st->trace->last->detail = atom_detail(st, r->cond->atom);
	/* --explain=full: every atom of the rule, those short-circuit skipped too. */
	if (st->trace->full && r->cond != NULL && r->cond->kind != KC_N_ATOM)
		trace_atoms(st, r->cond);
}

/* Whether a deny or require fires. */
static bool
fires(struct kc_decide_state *st, const kc_rule *r)
{
	bool v = r->cond == NULL ? true : kc_eval_node(&st->ctx, r->cond);
	bool fired = r->kind == KC_R_REQUIRE ? !v : v;
	trace_rule(st, r, v, r->kind == KC_R_REQUIRE ? (v ? "holds" : "FIRES") :
	    (fired ? "FIRES" : "not fired"));
	return fired;
}

static void
rule_refusal(struct kc_decide_state *st, const kc_rule *r)
{
	kc_decision *d = st->out;
	const kc_response *resp = &r->resp;
	int status = resp->status ? resp->status : 403;
	d->rule_label = r->label;
	d->rule_kind = kind_name(r->kind);
	d->rule_span = r->span;
	d->description = resp->description;
	d->scope = resp->scope;
	if (d->scope == NULL && resp->error != NULL && strcmp(resp->error, "insufficient_scope") == 0)
		d->scope = NULL;   /* filled by the caller from the route's hint, §7.8 */
	refuse(st, KC_DENY_RULE, status, resp->error, afmt(st->arena, "%s %s%s%s%s", kind_name(r->kind),
	    r->label ? "\"" : "", r->label ? r->label : "", r->label ? "\" " : "",
	    r->kind == KC_R_REQUIRE ? "does not hold" : "fired"));
}

/* The derived scope hint of the route (§2.4.4 rule 3, §7.8). */
static const char *
derived_hint(struct kc_decide_state *st)
{
	const kc_route_def *route = st->ctx.route;
	if (route->hint != NULL)
		return route->hint;
	const kc_resource_def *res = route->resource;
	for (int pass = 0; pass < 2; pass++) {
		const kc_rule *rules = pass ? route->rules : res->rules;
		uint32_t n = pass ? route->n_rules : res->n_rules;
		for (uint32_t i = 0; i < n; i++)
			if (rules[i].kind == KC_R_ALLOW && rules[i].hint_node != NULL)
				return kc_eval_scope_hint(&st->ctx, rules[i].hint_node);
	}
	return NULL;
}

static bool
deny_pass(struct kc_decide_state *st, const kc_rule *rules, uint32_t n, bool token_only,
    bool request_only)
{
	for (uint32_t i = 0; i < n; i++) {
		const kc_rule *r = &rules[i];
		if (r->kind == KC_R_ALLOW)
			continue;
		if ((token_only && !r->needs_token) || (request_only && r->needs_token))
			continue;
		if (fires(st, r)) {
			rule_refusal(st, r);
			if (st->out->error != NULL && strcmp(st->out->error, "insufficient_scope") == 0 &&
			    st->out->scope == NULL) {
				st->out->scope = derived_hint(st);
				challenge(st);
			}
			return true;
		}
	}
	return false;
}

static const kc_rule *
allow_pass(struct kc_decide_state *st, const kc_rule *rules, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const kc_rule *r = &rules[i];
		if (r->kind != KC_R_ALLOW)
			continue;
		bool v = r->cond == NULL ? true : kc_eval_node(&st->ctx, r->cond);
		trace_rule(st, r, v, v ? "ALLOWS" : "not fired");
		if (v)
			return r;
	}
	return NULL;
}

/* ---- explain: values seen, every atom, the closest allow -------------------------------- */

static const char *
value_text(struct kc_decide_state *st, const kc_operand *o)
{
	if (o == NULL)
		return NULL;
	const char *v = kc_eval_render(&st->ctx, o);
	if (v == NULL)
		return o->kind == KC_OP_SLOT ? "missing" : NULL;
	if (o->type == KC_VT_STRING || o->type == KC_VT_IP)
		return afmt(st->arena, "\"%.200s\"", v);
	return v;
}

/* What an atom saw, e.g. "0oa1mobile" == "0oa9kiosk", for the trace. */
static const char *
atom_detail(struct kc_decide_state *st, const kc_atom *a)
{
	const char *l = value_text(st, a->lhs);
	switch (a->op) {
	case KC_A_CMP: {
		static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
		const char *r = value_text(st, a->rhs);
		return afmt(st->arena, "%s %s %s", l ? l : "missing", ops[a->cmp % 6], r ? r : "missing");
	}
	case KC_A_IN_SET:
	case KC_A_IN_CIDR:
	case KC_A_IN_LIST:
	case KC_A_LIKE:
	case KC_A_HAS:
	case KC_A_BOOL:
	case KC_A_STARTS:
	case KC_A_ENDS:
	case KC_A_AGE:
		return l ? afmt(st->arena, "value %s", l) : NULL;
	case KC_A_SCOPE:
	case KC_A_HAS_ENTITY:
		return st->ctx.scope_text ? afmt(st->arena, "token scopes: %.300s", st->ctx.scope_text) :
		    "the token has no scopes";
	default:
		return NULL;
	}
}

static void
trace_atoms(struct kc_decide_state *st, const kc_node *n)
{
	if (n == NULL)
		return;
	if (n->kind == KC_N_ATOM) {
		bool v = kc_eval_atom(&st->ctx, n->atom);
		kc_trace_line *before = st->trace->last;
		trace_add(st, "atom", n->span, NULL, span_text(st->arena, n->span), v, NULL);
		if (st->trace->last != before)
			st->trace->last->detail = atom_detail(st, n->atom);
		return;
	}
	trace_atoms(st, n->a);
	trace_atoms(st, n->b);
}

static const char *
span_text(kc_arena *a, kc_span at)
{
	if (at.src == NULL || at.end <= at.start)
		return NULL;
	size_t len;
	const char *text = kc_source_text(at.src, &len);
	if (at.end > len)
		return NULL;
	return kc_arena_strndup(a, text + at.start, at.end - at.start);
}

/* Flattens a conjunction into its conjuncts. */
static size_t
conjuncts(const kc_node *n, const kc_node **out, size_t cap, size_t k)
{
	if (n->kind == KC_N_AND) {
		k = conjuncts(n->a, out, cap, k);
		return conjuncts(n->b, out, cap, k);
	}
	if (k < cap)
		out[k++] = n;
	return k;
}

/* The allow rule with the fewest failing conjuncts, and which ones fail:
 * the answer to "what would this request need?" (§2.6). Explain only. */
static void
closest_allow(struct kc_decide_state *st)
{
	const kc_route_def *route = st->ctx.route;
	const kc_rule *best = NULL;
	const kc_node *best_fail[16];
	size_t best_n = SIZE_MAX;
	for (int pass = 0; pass < 2; pass++) {
		const kc_rule *rules = pass ? route->rules : route->resource->rules;
		uint32_t n = pass ? route->n_rules : route->resource->n_rules;
		for (uint32_t i = 0; i < n; i++) {
			const kc_rule *r = &rules[i];
			if (r->kind != KC_R_ALLOW || r->cond == NULL)
				continue;
			const kc_node *parts[16], *fail[16];
			size_t np = conjuncts(r->cond, parts, 16, 0), nf = 0;
			for (size_t j = 0; j < np; j++)
				if (!kc_eval_node(&st->ctx, parts[j]))
					fail[nf++] = parts[j];
			if (nf < best_n) {
				best = r;
				best_n = nf;
				memcpy(best_fail, fail, nf * sizeof(*fail));
			}
		}
	}
	if (best == NULL || st->trace == NULL)
		return;
	char buf[1024];
	size_t o = 0;
	unsigned line = 0, col = 0;
	if (best->span.src != NULL)
		kc_source_position(best->span.src, best->span.start, &line, &col);
	o += (size_t)snprintf(buf, sizeof(buf), "%s:%u %s%s%s fails only on ",
	    best->span.src ? kc_source_path(best->span.src) : "?", line,
	    best->label ? "\"" : "allow", best->label ? best->label : "", best->label ? "\"" : "");
	for (size_t i = 0; i < best_n && o < sizeof(buf); i++) {
		const char *t = span_text(st->arena, best_fail[i]->span);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " and " : "", t ? t : "?");
	}
	if (o < sizeof(buf) && best_n == 1 && best_fail[0]->kind == KC_N_ATOM &&
	    best_fail[0]->atom->op == KC_A_SCOPE) {
		const char *hint = kc_eval_scope_hint(&st->ctx, best_fail[0]);
		if (hint != NULL)
			snprintf(buf + o, sizeof(buf) - o, " (the token lacks %s)", hint);
	}
	st->trace->closest = kc_arena_strndup(st->arena, buf, strlen(buf));
}

/* ---- exports ------------------------------------------------------------------------- */

static bool
export_safe(const char *v)
{
	size_t n = 0;
	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return n <= KC_MAX_EXPORT_VALUE;
}

/* The default identity variables: distinct names, set first, so no search. */
static void
add_default_export(struct kc_decide_state *st, const char *name, const char *value)
{
	kc_decision *d = st->out;
	if (value == NULL || !export_safe(value)) {
		if (value != NULL)
			trace_add(st, "export", (kc_span){ 0 }, name, "dropped: control characters or too long",
			    -1, NULL);
		return;
	}
	d->exports[d->n_exports].name = name;
	d->exports[d->n_exports].value = value;
	d->n_exports++;
}

static void
set_export(struct kc_decide_state *st, const char *name, const char *value)
{
	kc_decision *d = st->out;
	size_t i;
	for (i = 0; i < d->n_exports; i++)
		if (strcmp(d->exports[i].name, name) == 0)
			break;
	if (value == NULL || !export_safe(value)) {
		/* Unset rather than empty or unsafe (§2.4.8, §7.9); a later
		 * definition that has no value removes an earlier one. */
		if (value != NULL)
			trace_add(st, "export", (kc_span){ 0 }, name, "dropped: control characters or too long",
			    -1, NULL);
		if (i < d->n_exports) {
			d->exports[i] = d->exports[d->n_exports - 1];
			d->n_exports--;
		}
		return;
	}
	if (i == d->n_exports) {
		if (d->n_exports >= sizeof(d->exports) / sizeof(d->exports[0]))
			return;
		d->n_exports++;
	}
	d->exports[i].name = name;
	d->exports[i].value = value;
}

static void
run_exports(struct kc_decide_state *st, const kc_export *ex, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		set_export(st, ex[i].name, kc_eval_render(&st->ctx, ex[i].value));
}

static void
exports(struct kc_decide_state *st, const kc_rule *allowed)
{
	kc_decision *d = st->out;
	const kc_route_def *route = st->ctx.route;
	if (st->have_token) {
		const char *client = d->client_id, *name = d->client_name;
		add_default_export(st, "REMOTE_USER", d->subject);
		add_default_export(st, "AUTH_TYPE", "Bearer");
		add_default_export(st, "KEYCARD_SUBJECT", d->subject);
		add_default_export(st, "KEYCARD_ISSUER", d->issuer);
		add_default_export(st, "KEYCARD_CLIENT_ID", client);
		add_default_export(st, "KEYCARD_CLIENT_NAME", name);
		add_default_export(st, "KEYCARD_SCOPES", st->ctx.scope_text);
	}
	add_default_export(st, "KEYCARD_RULE", allowed->label);
	run_exports(st, st->p->exports, st->p->n_exports);
	run_exports(st, route->resource->exports, route->resource->n_exports);
	run_exports(st, route->exports, route->n_exports);
}

/* ---- the decision --------------------------------------------------------------------- */

void
kc_decide(const kc_policy *p, const kc_request *req, kc_arena *arena, kc_decision *out,
    kc_trace *trace)
{
	/* Not zeroed whole: ctx.grants alone is 1.5 KiB, and n_grants says how
	 * much of it is used. Every other member is set here or in ctx below. */
	struct kc_decide_state st;
	st.p = p;
	st.req = req;
	st.arena = arena;
	st.out = out;
	st.trace = trace;
	st.have_token = false;
	memset(&st.ctx, 0, offsetof(kc_eval_ctx, grants));
	st.ctx.n_grants = 0;
	memset(st.ctx.wild, 0, sizeof(st.ctx.wild));
	st.ctx.scope_text = NULL;
	st.ctx.memo = NULL;
	st.ctx.remote_family = 0;
	st.ctx.ignored_scopes = 0;
	st.ctx.wrong_type_claims = 0;
	/* Everything but the export slots, which n_exports guards. */
	memset(out, 0, offsetof(kc_decision, exports));
	memset(&out->n_exports, 0, sizeof(*out) - offsetof(kc_decision, n_exports));
	if (p == NULL) {
		/* Never without a policy, never open: refuse everything. */
		unavailable(&st, "no policy loaded");
		return;
	}

	/* 1. The path, exactly as the application will get it. */
	kc_path *path = kc_arena_alloc(arena, sizeof(*path));
	kc_route_match *match = kc_arena_alloc(arena, sizeof(*match));
	if (path == NULL || match == NULL) {
		unavailable(&st, "out of memory");
		return;
	}
	if (kc_path_normalize(req->path ? req->path : "", req->path_len, path) != KC_PATH_OK) {
		refuse(&st, KC_DENY_PATH, 400, NULL, "path refused: it cannot be normalized safely");
		return;
	}
	if (trace != NULL)
		trace_add(&st, "path", (kc_span){ 0 }, NULL, afmt(arena, "%s", path->norm), -1, NULL);

	/* 2. The route; no route is the default response, before any token work. */
	unsigned m = method_bit(req->method);
	kc_route_result rr = m ? kc_routes_match(p->index, path, m, match) : KC_ROUTE_NO_PATH;
	if (rr != KC_ROUTE_FOUND) {
		/* The default response: no challenge unless it names an error. */
		out->description = p->default_resp.description;
		out->scope = p->default_resp.scope;
		refuse(&st, KC_DENY_NO_ROUTE, p->default_resp.status, p->default_resp.error,
		    rr == KC_ROUTE_NO_METHOD ? "no route for this method" : "no route");
		return;
	}
	const kc_route_def *route = &p->routes[match->id];
	out->route = route->pattern;
	trace_add(&st, "route", route->span, NULL, route->pattern, -1, NULL);

	/* The rest of ctx was cleared above: set what the request gives. */
	st.ctx.p = p;
	st.ctx.arena = arena;
	st.ctx.method = req->method;
	st.ctx.path = path;
	st.ctx.headers = req->headers;
	st.ctx.n_headers = req->n_headers < KC_MAX_HEADERS ? req->n_headers : KC_MAX_HEADERS;
	st.ctx.query = req->query;
	st.ctx.query_len = req->query_len;
	st.ctx.remote_addr = req->remote_addr;
	st.ctx.now = req->now;
	st.ctx.route = route;
	st.ctx.match = match;
	st.ctx.memo = kc_arena_alloc(arena, p->n_atoms ? p->n_atoms : 1);
	/* Slots stay NULL until a token is loaded: every claim reads as missing. */
	if (st.ctx.memo == NULL) {
		unavailable(&st, "out of memory");
		return;
	}
	memset(st.ctx.memo, 0, p->n_atoms ? p->n_atoms : 1);

	/* 3. Gates that read only the request run for every matched route. */
	if (deny_pass(&st, p->gates, p->n_gates, false, true))
		return;

	/* 4-5. The credential and the token. */
	if (!token_stage(&st))
		return;
	/* Slots loaded for a token: atoms evaluated so far read no token. */

	/* 6. Gates that read the token, then the rules: deny-overrides. */
	if (st.have_token && deny_pass(&st, p->gates, p->n_gates, true, false))
		return;
	const kc_resource_def *res = route->resource;
	if (deny_pass(&st, res->rules, res->n_rules, false, false) ||
	    deny_pass(&st, route->rules, route->n_rules, false, false))
		return;
	const kc_rule *allowed = allow_pass(&st, res->rules, res->n_rules);
	if (allowed == NULL)
		allowed = allow_pass(&st, route->rules, route->n_rules);
	if (allowed == NULL) {
		if (!st.have_token) {
			refuse(&st, KC_DENY_DEFAULT, 401, NULL, "no allow rule matched an anonymous request");
		} else {
			out->scope = derived_hint(&st);
			refuse(&st, KC_DENY_DEFAULT, 403, "insufficient_scope", "no allow rule matched");
		}
		if (trace != NULL)
			closest_allow(&st);
		return;
	}

	/* 7. Allowed: the identity for the application. */
	out->verdict = KC_ALLOW;
	out->status = 200;
	out->rule_label = allowed->label;
	out->rule_kind = "allow";
	out->rule_span = allowed->span;
	exports(&st, allowed);
	trace_add(&st, "decision", allowed->span, allowed->label, "allow", -1, NULL);
}
