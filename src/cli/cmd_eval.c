/* cmd_eval.c: keycard eval: one request through kc_decide(), explained.
 * It calls exactly the decision code keycard-fcgi calls. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
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

static const char usage_text[] =
"usage: keycard eval CONFIG --request \"METHOD /path[?query]\" [OPTIONS]\n"
"\n"
"Decides one request with the policy CONFIG, as keycard-fcgi would, and\n"
"explains the decision.\n"
"\n"
"  --request \"M /p?q\"     the method and request target\n"
"  --header \"Name: v\"     a request header (repeatable)\n"
"  --remote IP            the client address\n"
"  --token JWT            sent as Authorization: Bearer JWT (fully verified)\n"
"  --token-file FILE      the same, read from FILE\n"
"  --claims FILE.json     claims without a token: the signature is NOT checked\n"
"                         (every claim check still runs)\n"
"  --now EPOCH|RFC3339    the time of the request (default: now)\n"
"  --explain=LEVEL        decision (default), rules, full or json\n"
"\n"
"exit status: 0 allowed, 1 refused (any 4xx/5xx), 2 usage, configuration or\n"
"policy error.\n";

#define MAX_HEADERS 64

/* RFC 3339 date-time in UTC ("2025-03-01T12:00:00Z") or epoch seconds. */
static bool
parse_time(const char *s, int64_t *out)
{
	if (kc_cli_parse_int(s, out) == 0)
		return true;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return false;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	long offset = 0;
	if (*end == 'Z' || *end == 'z') {
		end++;
	} else if ((*end == '+' || *end == '-') && strlen(end) == 6 && end[3] == ':') {
		int h = atoi(end + 1), m = atoi(end + 4);
		offset = (h * 3600 + m * 60) * (*end == '+' ? 1 : -1);
		end += 6;
	} else {
		return false;
	}
	if (*end != '\0')
		return false;
	*out = (int64_t)timegm(&tm) - offset;
	return true;
}

static const char *
verdict_name(const kc_decision *d)
{
	return d->verdict == KC_ALLOW ? "ALLOW" : "DENY";
}

static void
location(const kc_span *at, char *buf, size_t len)
{
	unsigned line, col;
	if (at->src == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	kc_source_position(at->src, at->start, &line, &col);
	const char *path = kc_source_path(at->src);
	const char *base = strrchr(path, '/');
	snprintf(buf, len, "%s:%u", base ? base + 1 : path, line);
}

static void
print_decision(FILE *f, const kc_decision *d)
{
	fprintf(f, "decision   %s %d", verdict_name(d), d->status);
	if (d->error)
		fprintf(f, " %s", d->error);
	if (d->rule_label)
		fprintf(f, " by \"%s\"", d->rule_label);
	if (d->note && d->verdict != KC_ALLOW)
		fprintf(f, "   (%s)", d->note);
	fputc('\n', f);
	if (d->www_authenticate)
		fprintf(f, "response   WWW-Authenticate: %s\n", d->www_authenticate);
	if (d->retry_after)
		fprintf(f, "response   Retry-After: %d\n", d->retry_after);
}

static void
print_trace(FILE *f, const kc_trace *t, bool full)
{
	for (const kc_trace_line *l = t->first; l != NULL; l = l->next) {
		if (strcmp(l->stage, "decision") == 0)
			continue;
		char loc[128];
		location(&l->at, loc, sizeof(loc));
		if (l->at.src == NULL) {
			fprintf(f, "%-10s %s%s%s\n", l->stage, l->label ? l->label : "",
			    l->label ? " " : "", l->text ? l->text : "");
			continue;
		}
		fprintf(f, "%-10s %-16s %s%s%s", l->stage, loc, l->label ? "\"" : "",
		    l->label ? l->label : "", l->label ? "\" " : "");
		if (l->text)
			fprintf(f, " %s", l->text);
		if (l->detail)
			fprintf(f, "\n%-10s %-16s   %s", "", "", l->detail);
		if (l->result >= 0)
			fprintf(f, "   -> %s", l->result ? "true" : "false");
		if (l->outcome)
			fprintf(f, "  %s", l->outcome);
		fputc('\n', f);
	}
	(void)full;
}

static json_t *
decision_json(const kc_decision *d, const kc_trace *t)
{
	char loc[256];
	json_t *o = json_object(), *ex = json_object(), *tr = json_array();
	json_object_set_new(o, "decision", json_string(d->verdict == KC_ALLOW ? "allow" : "deny"));
	json_object_set_new(o, "status", json_integer(d->status));
	json_object_set_new(o, "error", d->error ? json_string(d->error) : json_null());
	json_object_set_new(o, "scope", d->scope ? json_string(d->scope) : json_null());
	json_object_set_new(o, "rule", d->rule_label ? json_string(d->rule_label) : json_null());
	if (d->rule_span.src != NULL) {
		unsigned line, col;
		kc_source_position(d->rule_span.src, d->rule_span.start, &line, &col);
		snprintf(loc, sizeof(loc), "%s:%u", kc_source_path(d->rule_span.src), line);
		json_object_set_new(o, "location", json_string(loc));
	} else {
		json_object_set_new(o, "location", json_null());
	}
	json_object_set_new(o, "www_authenticate",
	    d->www_authenticate ? json_string(d->www_authenticate) : json_null());
	if (d->verdict == KC_ALLOW)
		for (size_t i = 0; i < d->n_exports; i++)
			json_object_set_new(ex, d->exports[i].name, json_string(d->exports[i].value));
	json_object_set_new(o, "exports", ex);
	for (const kc_trace_line *l = t->first; l != NULL; l = l->next) {
		json_t *e = json_object();
		json_object_set_new(e, "stage", json_string(l->stage));
		if (l->at.src != NULL) {
			location(&l->at, loc, sizeof(loc));
			json_object_set_new(e, "location", json_string(loc));
		}
		if (l->label)
			json_object_set_new(e, "label", json_string(l->label));
		if (l->text)
			json_object_set_new(e, "text", json_string(l->text));
		if (l->result >= 0)
			json_object_set_new(e, "result", json_boolean(l->result));
		if (l->outcome)
			json_object_set_new(e, "outcome", json_string(l->outcome));
		if (l->detail)
			json_object_set_new(e, "values", json_string(l->detail));
		json_array_append_new(tr, e);
	}
	json_object_set_new(o, "trace", tr);
	if (t->closest)
		json_object_set_new(o, "closest", json_string(t->closest));
	if (d->synthetic)
		json_object_set_new(o, "synthetic_claims", json_true());
	return o;
}

int
kc_cmd_eval(int argc, char **argv)
{
	enum { O_REQ = 256, O_HDR, O_REMOTE, O_TOKEN, O_TOKEN_FILE, O_CLAIMS, O_NOW, O_EXPLAIN };
	static const struct option opts[] = {
		{ "request", required_argument, NULL, O_REQ },
		{ "header", required_argument, NULL, O_HDR },
		{ "remote", required_argument, NULL, O_REMOTE },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "claims", required_argument, NULL, O_CLAIMS },
		{ "now", required_argument, NULL, O_NOW },
		{ "explain", optional_argument, NULL, O_EXPLAIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *request = NULL, *remote = NULL, *token = NULL, *claims_file = NULL;
	const char *explain = "decision";
	char *token_buf = NULL, *claims_buf = NULL, *auth_buf = NULL;
	size_t claims_len = 0;
	kc_header headers[MAX_HEADERS + 1];
	size_t n_headers = 0;
	int64_t now = (int64_t)time(NULL);
	int c, status = KC_EXIT_USAGE;
	kc_diag *diag = NULL;
	kc_policy *p = NULL;
	kc_arena *arena = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_REQ: request = optarg; break;
		case O_HDR: {
			const char *colon = strchr(optarg, ':');
			if (colon == NULL || colon == optarg || n_headers >= MAX_HEADERS) {
				status = kc_cli_usage_error("--header %s: expected \"Name: value\"", optarg);
				goto out;
			}
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			headers[n_headers++] = (kc_header){ optarg, (size_t)(colon - optarg), v, strlen(v) };
			break;
		}
		case O_REMOTE: remote = optarg; break;
		case O_TOKEN: token = optarg; break;
		case O_TOKEN_FILE: {
			size_t len;
			free(token_buf);
			if ((token_buf = kc_file_read(optarg, 1024 * 1024, &len)) == NULL) {
				status = kc_cli_usage_error("%s: %s", optarg, strerror(errno));
				goto out;
			}
			while (len > 0 && (token_buf[len - 1] == '\n' || token_buf[len - 1] == '\r' ||
			    token_buf[len - 1] == ' '))
				token_buf[--len] = '\0';
			token = token_buf;
			break;
		}
		case O_CLAIMS: claims_file = optarg; break;
		case O_NOW:
			if (!parse_time(optarg, &now)) {
				status = kc_cli_usage_error("--now %s: expected seconds since the epoch or an RFC 3339 time", optarg);
				goto out;
			}
			break;
		case O_EXPLAIN:
			explain = optarg ? optarg : "rules";
			if (strcmp(explain, "decision") != 0 && strcmp(explain, "rules") != 0 &&
			    strcmp(explain, "full") != 0 && strcmp(explain, "json") != 0) {
				status = kc_cli_usage_error("--explain=%s: expected decision, rules, full or json", explain);
				goto out;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			status = KC_EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || request == NULL) {
		fputs(usage_text, stderr);
		goto out;
	}
	if (token != NULL && claims_file != NULL) {
		status = kc_cli_usage_error("give --token or --claims, not both");
		goto out;
	}
	/* "METHOD /path?query" */
	const char *sp = strchr(request, ' ');
	if (sp == NULL || sp == request || sp[1] == '\0') {
		status = kc_cli_usage_error("--request %s: expected \"METHOD /path\"", request);
		goto out;
	}
	char method[16];
	if ((size_t)(sp - request) >= sizeof(method)) {
		status = kc_cli_usage_error("--request: method too long");
		goto out;
	}
	memcpy(method, request, (size_t)(sp - request));
	method[sp - request] = '\0';
	const char *target = sp + 1;
	const char *q = strchr(target, '?');

	if (token != NULL) {
		/* Exactly an Authorization header (§7.12). */
		size_t tl = strlen(token);
		auth_buf = malloc(tl + 8);
		if (auth_buf == NULL)
			goto out;
		memcpy(auth_buf, "Bearer ", 7);
		memcpy(auth_buf + 7, token, tl + 1);
		headers[n_headers++] = (kc_header){ "Authorization", 13, auth_buf, tl + 7 };
	}
	if (claims_file != NULL) {
		if ((claims_buf = kc_file_read(claims_file, 1024 * 1024, &claims_len)) == NULL) {
			status = kc_cli_usage_error("%s: %s", claims_file, strerror(errno));
			goto out;
		}
		fprintf(stderr, "keycard: warning: --claims: the signature is NOT checked (synthetic token from %s)\n",
		    claims_file);
	}

	diag = kc_diag_new();
	if (diag == NULL)
		goto out;
	p = kc_policy_load(argv[optind], NULL, diag);
	if (p == NULL) {
		kc_diag_print(diag, stderr, false);
		fprintf(stderr, "keycard: %u error%s, policy not loaded\n", kc_diag_errors(diag),
		    kc_diag_errors(diag) == 1 ? "" : "s");
		goto out;
	}
	arena = kc_arena_new(64 * 1024);
	if (arena == NULL)
		goto out;
	kc_request req = {
		.method = method,
		.path = target,
		.path_len = q ? (size_t)(q - target) : strlen(target),
		.query = q ? q + 1 : NULL,
		.query_len = q ? strlen(q + 1) : 0,
		.headers = headers,
		.n_headers = n_headers,
		.remote_addr = remote,
		.now = now,
		.synthetic_claims = claims_buf,
		.synthetic_claims_len = claims_len,
	};
	kc_decision d;
	kc_trace trace = { .full = strcmp(explain, "full") == 0 || strcmp(explain, "json") == 0 };
	bool want_trace = strcmp(explain, "decision") != 0;
	kc_decide(p, &req, arena, &d, want_trace ? &trace : NULL);

	if (strcmp(explain, "json") == 0) {
		json_t *o = decision_json(&d, &trace);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else {
		if (want_trace) {
			fprintf(stdout, "request    %s %s%s%s\n", method, target, remote ? "   remote " : "",
			    remote ? remote : "");
			if (d.synthetic)
				fprintf(stdout, "token      SYNTHETIC from %s: signature NOT checked (--claims)\n",
				    claims_file);
			print_trace(stdout, &trace, strcmp(explain, "full") == 0);
		}
		print_decision(stdout, &d);
		if (trace.closest)
			fprintf(stdout, "closest    %s\n", trace.closest);
		if (d.verdict == KC_ALLOW && strcmp(explain, "decision") != 0)
			for (size_t i = 0; i < d.n_exports; i++)
				fprintf(stdout, "export     %s=%s\n", d.exports[i].name, d.exports[i].value);
	}
	status = d.verdict == KC_ALLOW ? KC_EXIT_OK : KC_EXIT_REJECTED;
out:
	kc_arena_free(arena);
	kc_policy_free(p);
	kc_diag_free(diag);
	free(token_buf);
	free(claims_buf);
	free(auth_buf);
	return status;
}
