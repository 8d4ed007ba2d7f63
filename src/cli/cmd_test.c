/* cmd_test.c: keycard test: policy test files (.kct), policy-language.md §2.7.
 *
 * Tokens in a test file are claim fixtures. keycard signs them with a
 * throwaway key that replaces the issuers' keys, so every case runs the
 * whole pipeline, signature path included, through kc_decide(): the same
 * code keycard-fcgi runs. The last line is "N passed, N failed". */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/diag.h"
#include "core/util.h"
#include "decide.h"
#include "policy/policy.h"
#include "token/sign.h"

/* ---- a small tokenizer with the policy language's lexical conventions ---------------- */

typedef enum tk { T_EOF, T_IDENT, T_STRING, T_INT, T_PATH, T_PUNCT, T_ERROR } tk;

typedef struct lexer {
	const char *src, *p, *end;
	const char *file;
	tk t;
	char text[4096];             /* decoded token text */
	size_t len;
	unsigned line, tok_line;
	char err[256];
} lexer;

static void
lex_error(lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lex_error(lexer *l, const char *fmt, ...)
{
	if (l->err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(l->err, sizeof(l->err), "%s:%u: ", l->file, l->tok_line);
	vsnprintf(l->err + n, sizeof(l->err) - (size_t)n, fmt, ap);
	va_end(ap);
	l->t = T_ERROR;
}

static void
next(lexer *l)
{
	for (;;) {
		while (l->p < l->end && isspace((unsigned char)*l->p)) {
			if (*l->p == '\n')
				l->line++;
			l->p++;
		}
		if (l->p < l->end && *l->p == '#') {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
			continue;
		}
		break;
	}
	l->tok_line = l->line;
	l->len = 0;
	l->text[0] = '\0';
	if (l->err[0]) {
		l->t = T_ERROR;
		return;
	}
	if (l->p >= l->end) {
		l->t = T_EOF;
		return;
	}
	char c = *l->p;
	if (c == '"') {
		l->p++;
		while (l->p < l->end && *l->p != '"') {
			char ch = *l->p++;
			if (ch == '\n') {
				lex_error(l, "unterminated string");
				return;
			}
			if (ch == '\\' && l->p < l->end) {
				char e = *l->p++;
				ch = e == 'n' ? '\n' : e == 't' ? '\t' : e;
			}
			if (l->len + 1 >= sizeof(l->text)) {
				lex_error(l, "string too long");
				return;
			}
			l->text[l->len++] = ch;
		}
		if (l->p >= l->end) {
			lex_error(l, "unterminated string");
			return;
		}
		l->p++;
		l->text[l->len] = '\0';
		l->t = T_STRING;
		return;
	}
	if (c == '/') {
		/* A path runs to white space or ';' (rows are not normalized). */
		while (l->p < l->end && !isspace((unsigned char)*l->p) && *l->p != ';' &&
		    l->len + 1 < sizeof(l->text))
			l->text[l->len++] = *l->p++;
		l->text[l->len] = '\0';
		l->t = T_PATH;
		return;
	}
	if (isdigit((unsigned char)c)) {
		while (l->p < l->end && isdigit((unsigned char)*l->p) && l->len + 1 < sizeof(l->text))
			l->text[l->len++] = *l->p++;
		l->text[l->len] = '\0';
		l->t = T_INT;
		return;
	}
	if (isalpha((unsigned char)c) || c == '_' || c == '@') {
		while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '-' ||
		    *l->p == '.' || *l->p == ':' || *l->p == '@') && l->len + 1 < sizeof(l->text))
			l->text[l->len++] = *l->p++;
		l->text[l->len] = '\0';
		l->t = T_IDENT;
		return;
	}
	if (c == '=' && l->p + 1 < l->end && l->p[1] == '=') {
		strcpy(l->text, "==");
		l->len = 2;
		l->p += 2;
		l->t = T_PUNCT;
		return;
	}
	if (strchr("{};[],-", c) != NULL) {
		l->text[0] = c;
		l->text[1] = '\0';
		l->len = 1;
		l->p++;
		l->t = T_PUNCT;
		return;
	}
	lex_error(l, "unexpected character '%c'", c);
}

/* Copies src into dst, cut to fit (names and titles are short). */
static void
copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool
is(lexer *l, tk t, const char *text)
{
	return l->t == t && (text == NULL || strcmp(l->text, text) == 0);
}

static bool
expect(lexer *l, tk t, const char *text, const char *what)
{
	if (is(l, t, text))
		return true;
	lex_error(l, "expected %s before '%s'", what, l->t == T_EOF ? "end of file" : l->text);
	return false;
}

/* ---- the test file ------------------------------------------------------------------- */

typedef struct fixture {
	char *name;
	json_t *claims;              /* NULL for "-" */
	char *issuer;                /* issuer name, NULL: the first */
} fixture;

typedef struct expectation {
	bool allow;
	int status;
	char *error;
	char *scope;
	char *by;
} expectation;

typedef struct suite {
	const char *path;
	char *use;
	int64_t now;
	char *remote;
	fixture *tokens;
	size_t n_tokens;
} suite;

typedef struct runner {
	kc_policy *policy;
	kc_diag *diag;
	kc_signer *signer;
	uint32_t signer_alg_bit;
	unsigned passed, failed;
	bool *decisive;              /* per rule, for --coverage */
	size_t n_rules;
	bool verbose;
} runner;

static char *
xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (d == NULL) {
		fputs("keycard: out of memory\n", stderr);
		exit(KC_EXIT_USAGE);
	}
	return d;
}

static bool
parse_time_text(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || (strcmp(end, "Z") != 0 && strcmp(end, "z") != 0))
		return kc_cli_parse_int(s, out) == 0;
	*out = (int64_t)timegm(&tm);
	return true;
}

static fixture *
find_token(suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_tokens; i++)
		if (strcmp(s->tokens[i].name, name) == 0)
			return &s->tokens[i];
	return NULL;
}

/* A claim value: "str", 123, true, false, [..], or - (remove the claim).
 * Times may be written as RFC 3339 strings for exp, nbf, iat, auth_time. */
static json_t *
parse_value(lexer *l, const char *claim, bool *remove)
{
	*remove = false;
	if (is(l, T_PUNCT, "-")) {
		*remove = true;
		next(l);
		return NULL;
	}
	if (l->t == T_STRING) {
		int64_t t;
		json_t *v;
		bool timeish = strcmp(claim, "exp") == 0 || strcmp(claim, "nbf") == 0 ||
		    strcmp(claim, "iat") == 0 || strcmp(claim, "auth_time") == 0;
		if (timeish && parse_time_text(l->text, &t))
			v = json_integer(t);
		else
			v = json_stringn(l->text, l->len);
		next(l);
		return v;
	}
	if (l->t == T_INT) {
		int64_t n;
		if (kc_cli_parse_int(l->text, &n) != 0) {
			lex_error(l, "number out of range");
			return NULL;
		}
		next(l);
		return json_integer(n);
	}
	if (is(l, T_IDENT, "true") || is(l, T_IDENT, "false")) {
		json_t *v = json_boolean(l->text[0] == 't');
		next(l);
		return v;
	}
	if (is(l, T_PUNCT, "[")) {
		json_t *arr = json_array();
		next(l);
		while (!is(l, T_PUNCT, "]") && l->t != T_ERROR && l->t != T_EOF) {
			bool rm;
			json_t *v = parse_value(l, "", &rm);
			if (v == NULL)
				break;
			json_array_append_new(arr, v);
			if (is(l, T_PUNCT, ","))
				next(l);
		}
		if (expect(l, T_PUNCT, "]", "']'"))
			next(l);
		return arr;
	}
	if (is(l, T_PUNCT, "{")) {
		/* A nested object: { name value; ... } */
		json_t *obj = json_object();
		next(l);
		while (l->t == T_IDENT) {
			char name[256];
			copy(name, sizeof(name), l->text);
			next(l);
			bool rm;
			json_t *v = parse_value(l, name, &rm);
			if (v != NULL)
				json_object_set_new(obj, name, v);
			if (!expect(l, T_PUNCT, ";", "';' after the member"))
				break;
			next(l);
		}
		if (expect(l, T_PUNCT, "}", "'}'"))
			next(l);
		return obj;
	}
	lex_error(l, "expected a claim value (string, number, true, false, [...], {...} or -)");
	return NULL;
}

static bool
parse_token_block(lexer *l, suite *s)
{
	next(l);
	if (!expect(l, T_IDENT, NULL, "a token name"))
		return false;
	char *name = xstrdup(l->text);
	next(l);
	json_t *claims = json_object();
	char *issuer = NULL;
	if (is(l, T_IDENT, "opaque")) {
		lex_error(l, "opaque tokens (introspection) are not supported yet");
		free(name);
		json_decref(claims);
		return false;
	}
	if (is(l, T_IDENT, "from")) {
		next(l);
		fixture *base = expect(l, T_IDENT, NULL, "a token name") ? find_token(s, l->text) : NULL;
		if (base == NULL || base->claims == NULL) {
			lex_error(l, "unknown token '%s'", l->text);
			free(name);
			json_decref(claims);
			return false;
		}
		json_object_update(claims, base->claims);
		issuer = base->issuer ? xstrdup(base->issuer) : NULL;
		next(l);
	}
	if (is(l, T_IDENT, "issuer")) {
		next(l);
		if (expect(l, T_IDENT, NULL, "an issuer name")) {
			free(issuer);
			issuer = xstrdup(l->text);
			next(l);
		}
	}
	if (expect(l, T_PUNCT, "{", "'{'"))
		next(l);
	while (l->t == T_IDENT) {
		char claim[256];
		copy(claim, sizeof(claim), l->text);
		next(l);
		bool remove;
		json_t *v = parse_value(l, claim, &remove);
		if (remove)
			json_object_del(claims, claim);
		else if (v != NULL)
			json_object_set_new(claims, claim, v);
		if (!expect(l, T_PUNCT, ";", "';' after the claim"))
			break;
		next(l);
	}
	if (expect(l, T_PUNCT, "}", "'}'"))
		next(l);
	if (l->t == T_ERROR) {
		free(name);
		free(issuer);
		json_decref(claims);
		return false;
	}
	fixture *nt = realloc(s->tokens, (s->n_tokens + 1) * sizeof(*nt));
	if (nt == NULL)
		return false;
	s->tokens = nt;
	s->tokens[s->n_tokens++] = (fixture){ name, claims, issuer };
	return true;
}

/* allow [by "x"] | deny INT [IDENT] [STRING] [by "x"] */
static bool
parse_expectation(lexer *l, expectation *e)
{
	memset(e, 0, sizeof(*e));
	if (is(l, T_IDENT, "allow")) {
		e->allow = true;
		e->status = 200;
		next(l);
	} else if (is(l, T_IDENT, "deny")) {
		next(l);
		if (!expect(l, T_INT, NULL, "a status after 'deny'"))
			return false;
		e->status = atoi(l->text);
		next(l);
		if (l->t == T_IDENT && strcmp(l->text, "by") != 0 && strcmp(l->text, "header") != 0 &&
		    strcmp(l->text, "from") != 0) {
			e->error = xstrdup(l->text);
			next(l);
		}
		if (l->t == T_STRING) {
			e->scope = xstrdup(l->text);
			next(l);
		}
	} else {
		lex_error(l, "expected 'allow' or 'deny' before '%s'", l->text);
		return false;
	}
	if (is(l, T_IDENT, "by")) {
		next(l);
		if (!expect(l, T_STRING, NULL, "a rule label after 'by'"))
			return false;
		e->by = xstrdup(l->text);
		next(l);
	}
	return true;
}

static void
expectation_fini(expectation *e)
{
	free(e->error);
	free(e->scope);
	free(e->by);
}

static void
describe_expectation(const expectation *e, char *buf, size_t len)
{
	if (e->allow)
		snprintf(buf, len, "allow%s%s%s", e->by ? " by \"" : "", e->by ? e->by : "", e->by ? "\"" : "");
	else
		snprintf(buf, len, "deny %d%s%s%s%s%s%s%s", e->status, e->error ? " " : "",
		    e->error ? e->error : "", e->scope ? " \"" : "", e->scope ? e->scope : "",
		    e->scope ? "\"" : "", e->by ? " by \"" : "", e->by ? e->by : "");
	if (!e->allow && e->by)
		strncat(buf, "\"", len - strlen(buf) - 1);
}

static void
describe_decision(const kc_decision *d, char *buf, size_t len)
{
	char loc[256] = "";
	if (d->rule_span.src != NULL) {
		unsigned line, col;
		kc_source_position(d->rule_span.src, d->rule_span.start, &line, &col);
		const char *p = kc_source_path(d->rule_span.src), *b = strrchr(p, '/');
		snprintf(loc, sizeof(loc), " (%s:%u)", b ? b + 1 : p, line);
	}
	if (d->verdict == KC_ALLOW)
		snprintf(buf, len, "allow%s%s%s%s", d->rule_label ? " by \"" : "",
		    d->rule_label ? d->rule_label : "", d->rule_label ? "\"" : "", loc);
	else
		snprintf(buf, len, "deny %d%s%s%s%s%s%s%s%s%s", d->status, d->error ? " " : "",
		    d->error ? d->error : "", d->scope ? " \"" : "", d->scope ? d->scope : "",
		    d->scope ? "\"" : "", d->rule_label ? " by \"" : "", d->rule_label ? d->rule_label : "",
		    d->rule_label ? "\"" : "", loc);
}

static bool
matches(const expectation *e, const kc_decision *d)
{
	if (e->allow != (d->verdict == KC_ALLOW))
		return false;
	if (!e->allow && e->status != d->status)
		return false;
	if (e->error != NULL && (d->error == NULL || strcmp(e->error, d->error) != 0))
		return false;
	if (e->scope != NULL && (d->scope == NULL || strcmp(e->scope, d->scope) != 0))
		return false;
	if (e->by != NULL && (d->rule_label == NULL || strcmp(e->by, d->rule_label) != 0))
		return false;
	return true;
}

/* ---- running one request ---------------------------------------------------------------- */

typedef struct request_spec {
	char method[16];
	char target[4096];
	const fixture *token;
	kc_header headers[16];
	char *header_store[32];
	size_t n_headers;
	char *remote;
} request_spec;

static void
request_spec_fini(request_spec *r)
{
	for (size_t i = 0; i < r->n_headers * 2; i++)
		free(r->header_store[i]);
	free(r->remote);
}

/* Optional modifiers: header "X" "v", from "ip". */
static bool
parse_modifiers(lexer *l, request_spec *r)
{
	for (;;) {
		if (is(l, T_IDENT, "header")) {
			next(l);
			if (!expect(l, T_STRING, NULL, "a header name"))
				return false;
			char *name = xstrdup(l->text);
			next(l);
			if (!expect(l, T_STRING, NULL, "a header value")) {
				free(name);
				return false;
			}
			char *value = xstrdup(l->text);
			next(l);
			if (r->n_headers >= 15) {
				free(name);
				free(value);
				lex_error(l, "too many headers");
				return false;
			}
			r->header_store[r->n_headers * 2] = name;
			r->header_store[r->n_headers * 2 + 1] = value;
			r->headers[r->n_headers++] = (kc_header){ name, strlen(name), value, strlen(value) };
		} else if (is(l, T_IDENT, "from")) {
			next(l);
			if (!expect(l, T_STRING, NULL, "an address after 'from'"))
				return false;
			free(r->remote);
			r->remote = xstrdup(l->text);
			next(l);
		} else {
			return true;
		}
	}
}

static const char *
issuer_for(runner *rn, const fixture *f, const char **aud)
{
	size_t n = kc_policy_issuer_count(rn->policy);
	for (size_t i = 0; i < n; i++) {
		const char *name, *iss;
		uint32_t algs;
		kc_policy_issuer_info(rn->policy, i, &name, &iss, aud, &algs);
		if (f->issuer == NULL || strcmp(f->issuer, name) == 0)
			return iss;
	}
	*aud = NULL;
	return NULL;
}

static char *
sign_fixture(runner *rn, const suite *s, const fixture *f)
{
	json_t *claims = json_deep_copy(f->claims);
	const char *aud = NULL, *iss = issuer_for(rn, f, &aud);
	/* Valid defaults for the issuer, unless the fixture says otherwise. */
	if (iss != NULL && json_object_get(claims, "iss") == NULL)
		json_object_set_new(claims, "iss", json_string(iss));
	if (aud != NULL && json_object_get(claims, "aud") == NULL)
		json_object_set_new(claims, "aud", json_string(aud));
	if (json_object_get(claims, "iat") == NULL)
		json_object_set_new(claims, "iat", json_integer(s->now));
	if (json_object_get(claims, "exp") == NULL)
		json_object_set_new(claims, "exp", json_integer(s->now + 3600));
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	if (payload == NULL)
		return NULL;
	char *tok = kc_signer_sign(rn->signer, NULL, "at+jwt", (unsigned char *)payload, strlen(payload));
	free(payload);
	return tok;
}

static bool
decide(runner *rn, const suite *s, request_spec *r, kc_arena *arena, kc_decision *d)
{
	kc_header headers[17];
	size_t n = r->n_headers;
	char *auth = NULL;
	memcpy(headers, r->headers, n * sizeof(*headers));
	if (r->token != NULL && r->token->claims != NULL) {
		char *tok = sign_fixture(rn, s, r->token);
		if (tok == NULL)
			return false;
		size_t tl = strlen(tok);
		auth = kc_arena_alloc(arena, tl + 8);
		if (auth == NULL) {
			free(tok);
			return false;
		}
		memcpy(auth, "Bearer ", 7);
		memcpy(auth + 7, tok, tl + 1);
		free(tok);
		headers[n++] = (kc_header){ "Authorization", 13, auth, tl + 7 };
	}
	const char *q = strchr(r->target, '?');
	kc_request req = {
		.method = r->method,
		.path = r->target,
		.path_len = q ? (size_t)(q - r->target) : strlen(r->target),
		.query = q ? q + 1 : NULL,
		.query_len = q ? strlen(q + 1) : 0,
		.headers = headers,
		.n_headers = n,
		.remote_addr = r->remote ? r->remote : s->remote,
		.now = s->now,
	};
	kc_decide(rn->policy, &req, arena, d, NULL);
	/* Coverage: which rule decided. */
	if (d->rule_span.src != NULL) {
		for (size_t i = 0; i < rn->n_rules; i++) {
			const char *kind, *label;
			kc_span at;
			kc_policy_rule_info(rn->policy, i, &kind, &label, &at);
			if (at.src == d->rule_span.src && at.start == d->rule_span.start)
				rn->decisive[i] = true;
		}
	}
	return true;
}

/* METHOD PATH ... */
static bool
parse_request_line(lexer *l, suite *s, request_spec *r, bool token_keyword)
{
	memset(r, 0, sizeof(*r));
	if (!expect(l, T_IDENT, NULL, "a method"))
		return false;
	copy(r->method, sizeof(r->method), l->text);
	next(l);
	if (!expect(l, T_PATH, NULL, "a path"))
		return false;
	copy(r->target, sizeof(r->target), l->text);
	next(l);
	if (token_keyword) {
		if (is(l, T_IDENT, "token")) {
			next(l);
		} else {
			return parse_modifiers(l, r);
		}
	}
	if (is(l, T_PUNCT, "-")) {
		next(l);
	} else if (l->t == T_IDENT) {
		r->token = find_token(s, l->text);
		if (r->token == NULL) {
			lex_error(l, "unknown token '%s'", l->text);
			return false;
		}
		next(l);
	} else {
		lex_error(l, "expected a token name or '-' before '%s'", l->text);
		return false;
	}
	return parse_modifiers(l, r);
}

static void
run_table(lexer *l, runner *rn, suite *s)
{
	next(l);
	char title[256] = "";
	if (l->t == T_STRING) {
		copy(title, sizeof(title), l->text);
		next(l);
	}
	if (!expect(l, T_PUNCT, "{", "'{'"))
		return;
	next(l);
	unsigned passed = 0, total = 0;
	char dots[512];
	size_t nd = 0;
	char failures[8192];
	size_t nf = 0;
	failures[0] = '\0';
	kc_arena *arena = kc_arena_new(64 * 1024);
	while (l->t == T_IDENT && arena != NULL) {
		unsigned line = l->tok_line;
		request_spec r;
		expectation e;
		if (!parse_request_line(l, s, &r, false) || !parse_expectation(l, &e) ||
		    !parse_modifiers(l, &r) || !expect(l, T_PUNCT, ";", "';' at the end of the row")) {
			request_spec_fini(&r);
			break;
		}
		next(l);
		kc_decision d;
		bool ok = decide(rn, s, &r, arena, &d) && matches(&e, &d);
		total++;
		if (ok) {
			passed++;
			rn->passed++;
		} else {
			char exp[512], got[512];
			describe_expectation(&e, exp, sizeof(exp));
			describe_decision(&d, got, sizeof(got));
			rn->failed++;
			int n = snprintf(failures + nf, sizeof(failures) - nf,
			    "  FAIL %s:%u  %s %s  token %s\n       expected  %s\n       got       %s\n",
			    s->path, line, r.method, r.target, r.token ? r.token->name : "-", exp, got);
			if (n > 0 && nf + (size_t)n < sizeof(failures))
				nf += (size_t)n;
		}
		if (nd + 1 < sizeof(dots))
			dots[nd++] = ok ? '.' : 'F';
		expectation_fini(&e);
		request_spec_fini(&r);
		kc_arena_clear(arena);
	}
	kc_arena_free(arena);
	dots[nd] = '\0';
	if (expect(l, T_PUNCT, "}", "'}' or a row"))
		next(l);
	printf("%s  table \"%s\" %s  %u/%u\n", s->path, title, dots, passed, total);
	fputs(failures, stdout);
}

static void
run_case(lexer *l, runner *rn, suite *s)
{
	next(l);
	char title[256] = "";
	if (l->t == T_STRING) {
		copy(title, sizeof(title), l->text);
		next(l);
	}
	if (!expect(l, T_PUNCT, "{", "'{'"))
		return;
	next(l);
	kc_arena *arena = kc_arena_new(64 * 1024);
	kc_decision d;
	bool have = false, ok = true;
	request_spec r;
	memset(&r, 0, sizeof(r));
	char why[2048] = "";
	while (l->t == T_IDENT && arena != NULL) {
		unsigned line = l->tok_line;
		if (is(l, T_IDENT, "request")) {
			next(l);
			request_spec_fini(&r);
			if (!parse_request_line(l, s, &r, true))
				break;
			have = decide(rn, s, &r, arena, &d);
		} else if (is(l, T_IDENT, "expect")) {
			next(l);
			if (!have) {
				lex_error(l, "'expect' before 'request'");
				break;
			}
			if (is(l, T_IDENT, "env") || is(l, T_IDENT, "no")) {
				bool negate = is(l, T_IDENT, "no");
				if (negate) {
					next(l);
					if (!expect(l, T_IDENT, "env", "'env'"))
						break;
				}
				next(l);
				if (!expect(l, T_IDENT, NULL, "a variable name"))
					break;
				char name[256];
				copy(name, sizeof(name), l->text);
				next(l);
				const char *value = NULL;
				for (size_t i = 0; d.verdict == KC_ALLOW && i < d.n_exports; i++)
					if (strcmp(d.exports[i].name, name) == 0)
						value = d.exports[i].value;
				if (negate) {
					if (value != NULL && ok) {
						ok = false;
						snprintf(why, sizeof(why), "%.200s:%u: expected no %.100s, got \"%.300s\"",
						    s->path, line, name, value);
					}
				} else {
					if (!expect(l, T_PUNCT, "==", "'=='"))
						break;
					next(l);
					if (!expect(l, T_STRING, NULL, "a quoted value"))
						break;
					if ((value == NULL || strcmp(value, l->text) != 0) && ok) {
						ok = false;
						snprintf(why, sizeof(why), "%.200s:%u: expected %.100s == \"%.300s\", got %s%.300s%s",
						    s->path, line, name, l->text, value ? "\"" : "", value ? value : "unset",
						    value ? "\"" : "");
					}
					next(l);
				}
			} else {
				expectation e;
				if (!parse_expectation(l, &e))
					break;
				if (!matches(&e, &d) && ok) {
					char exp[512], got[512];
					describe_expectation(&e, exp, sizeof(exp));
					describe_decision(&d, got, sizeof(got));
					ok = false;
					snprintf(why, sizeof(why), "%.200s:%u: expected %.500s, got %.500s", s->path, line,
					    exp, got);
				}
				expectation_fini(&e);
			}
		} else if (is(l, T_IDENT, "simulate")) {
			lex_error(l, "'simulate' needs JWKS URLs or introspection, which this keycard does not have yet");
			break;
		} else {
			lex_error(l, "expected request, expect or simulate before '%s'", l->text);
			break;
		}
		if (!expect(l, T_PUNCT, ";", "';'"))
			break;
		next(l);
	}
	request_spec_fini(&r);
	kc_arena_free(arena);
	if (l->t == T_ERROR)
		return;
	if (expect(l, T_PUNCT, "}", "'}'"))
		next(l);
	if (ok && have) {
		rn->passed++;
		printf("%s  case \"%s\"  ok\n", s->path, title);
	} else {
		rn->failed++;
		printf("%s  case \"%s\"  FAIL\n  FAIL %s\n", s->path, title, why[0] ? why : "no request");
	}
}

/* ---- setting up: the policy with a throwaway key ----------------------------------------- */

static char *
dir_join(const char *file, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	const char *slash = strrchr(file, '/');
	size_t dl = slash ? (size_t)(slash - file) : 0;
	size_t n = dl + strlen(rel) + 2;
	char *out = malloc(n);
	if (out == NULL)
		return NULL;
	if (slash)
		snprintf(out, n, "%.*s/%s", (int)dl, file, rel);
	else
		snprintf(out, n, "%s", rel);
	return out;
}

static bool
setup(runner *rn, suite *s)
{
	if (rn->policy != NULL)
		return true;
	if (s->use == NULL) {
		fprintf(stderr, "%s: a test file starts with: use \"main.kc\";\n", s->path);
		return false;
	}
	char *path = dir_join(s->path, s->use);
	if (path == NULL)
		return false;
	/* First load: which algorithms the issuers accept. */
	kc_diag *diag = kc_diag_new();
	kc_policy *p = diag ? kc_policy_load(path, NULL, diag) : NULL;
	if (p == NULL) {
		if (diag)
			kc_diag_print(diag, stderr, false);
		fprintf(stderr, "%s: the policy %s does not compile\n", s->path, path);
		kc_diag_free(diag);
		free(path);
		return false;
	}
	uint32_t common = 0xffffffffu;
	for (size_t i = 0; i < kc_policy_issuer_count(p); i++) {
		const char *name, *iss, *aud;
		uint32_t algs;
		kc_policy_issuer_info(p, i, &name, &iss, &aud, &algs);
		common &= algs;
	}
	kc_policy_free(p);
	kc_diag_free(diag);
	kc_alg alg = KC_ALG_ES256;
	if (!(common & KC_ALG_BIT(KC_ALG_ES256))) {
		for (int a = 1; a < KC_ALG__COUNT; a++)
			if (common & KC_ALG_BIT(a)) {
				alg = (kc_alg)a;
				break;
			}
	}
	char err[256];
	rn->signer = kc_signer_generate(alg, "keycard-test", err, sizeof(err));
	json_t *pub = rn->signer ? kc_signer_public_jwk(rn->signer) : NULL;
	json_t *set = pub ? json_pack("{s:[o]}", "keys", pub) : NULL;
	char *jwks = set ? json_dumps(set, JSON_COMPACT) : NULL;
	json_decref(set);
	if (jwks == NULL) {
		fprintf(stderr, "%s: cannot make a test key: %s\n", s->path, err);
		free(path);
		return false;
	}
	/* Second load: the same policy, every issuer's keys replaced. */
	kc_policy_opts opts = { .override_jwks = jwks };
	rn->diag = kc_diag_new();
	rn->policy = rn->diag ? kc_policy_load(path, &opts, rn->diag) : NULL;
	free(jwks);
	free(path);
	if (rn->policy == NULL) {
		if (rn->diag)
			kc_diag_print(rn->diag, stderr, false);
		return false;
	}
	rn->n_rules = kc_policy_rule_count(rn->policy);
	rn->decisive = calloc(rn->n_rules ? rn->n_rules : 1, sizeof(bool));
	return rn->decisive != NULL;
}

static void
suite_fini(suite *s)
{
	for (size_t i = 0; i < s->n_tokens; i++) {
		free(s->tokens[i].name);
		free(s->tokens[i].issuer);
		json_decref(s->tokens[i].claims);
	}
	free(s->tokens);
	free(s->use);
	free(s->remote);
}

static void
runner_reset(runner *rn)
{
	kc_policy_free(rn->policy);
	kc_diag_free(rn->diag);
	kc_signer_free(rn->signer);
	free(rn->decisive);
	rn->policy = NULL;
	rn->diag = NULL;
	rn->signer = NULL;
	rn->decisive = NULL;
	rn->n_rules = 0;
}

static void
coverage(runner *rn)
{
	size_t decisive = 0;
	for (size_t i = 0; i < rn->n_rules; i++)
		decisive += rn->decisive[i];
	printf("coverage   %zu of %zu rules decided at least one case\n", decisive, rn->n_rules);
	for (size_t i = 0; i < rn->n_rules; i++) {
		if (rn->decisive[i])
			continue;
		const char *kind, *label;
		kc_span at;
		unsigned line = 0, col = 0;
		kc_policy_rule_info(rn->policy, i, &kind, &label, &at);
		if (at.src)
			kc_source_position(at.src, at.start, &line, &col);
		printf("           never decisive: %s:%u %s%s%s%s\n", at.src ? kc_source_path(at.src) : "?",
		    line, kind, label ? " \"" : "", label ? label : "", label ? "\"" : "");
	}
}

static void
run_file(runner *rn, const char *path, bool show_coverage)
{
	size_t len;
	char *text = kc_file_read(path, 16 * 1024 * 1024, &len);
	if (text == NULL) {
		fprintf(stderr, "keycard: %s: %s\n", path, strerror(errno));
		rn->failed++;
		return;
	}
	lexer l = { .src = text, .p = text, .end = text + len, .file = path, .line = 1 };
	suite s = { .path = path, .now = (int64_t)time(NULL) };
	next(&l);
	while (l.t != T_EOF && l.t != T_ERROR) {
		if (is(&l, T_IDENT, "use") || is(&l, T_IDENT, "now") || is(&l, T_IDENT, "remote")) {
			char word[16];
			copy(word, sizeof(word), l.text);
			next(&l);
			if (!expect(&l, T_STRING, NULL, "a quoted value"))
				break;
			if (word[0] == 'u') {
				free(s.use);
				s.use = xstrdup(l.text);
			} else if (word[0] == 'n') {
				if (!parse_time_text(l.text, &s.now)) {
					lex_error(&l, "'%s' is not an RFC 3339 UTC time such as 2025-03-01T12:00:00Z", l.text);
					break;
				}
			} else {
				free(s.remote);
				s.remote = xstrdup(l.text);
			}
			next(&l);
			if (!expect(&l, T_PUNCT, ";", "';'"))
				break;
			next(&l);
		} else if (is(&l, T_IDENT, "token")) {
			if (!parse_token_block(&l, &s))
				break;
		} else if (is(&l, T_IDENT, "table") || is(&l, T_IDENT, "case")) {
			if (!setup(rn, &s)) {
				rn->failed++;
				break;
			}
			if (l.text[0] == 't')
				run_table(&l, rn, &s);
			else
				run_case(&l, rn, &s);
		} else {
			lex_error(&l, "expected use, now, remote, token, table or case before '%s'", l.text);
		}
	}
	if (l.t == T_ERROR) {
		fprintf(stderr, "%s\n", l.err);
		rn->failed++;
	}
	if (show_coverage && rn->policy != NULL)
		coverage(rn);
	suite_fini(&s);
	runner_reset(rn);
	free(text);
}

static const char usage_text[] =
"usage: keycard test [--coverage] FILE.kct...\n"
"\n"
"Runs policy test files: tables of requests with the decision each must get,\n"
"and cases that also check the identity handed to the application. Tokens\n"
"are claim fixtures signed with a throwaway key that replaces the issuers'\n"
"keys, so the whole pipeline runs. The last line is \"N passed, N failed\";\n"
"exit status 0 iff none failed.\n";

int
kc_cmd_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coverage", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool show_coverage = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': show_coverage = true; break;
		case 'h': fputs(usage_text, stdout); return KC_EXIT_OK;
		default: fputs(usage_text, stderr); return KC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return KC_EXIT_USAGE;
	}
	runner rn = { 0 };
	for (int i = optind; i < argc; i++)
		run_file(&rn, argv[i], show_coverage);
	printf("%u passed, %u failed\n", rn.passed, rn.failed);
	return rn.failed == 0 ? KC_EXIT_OK : KC_EXIT_REJECTED;
}
