/* cmd_verify.c: keycard verify: one token through the token stage. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/util.h"
#include "token/verify.h"

#define MAX_LIST 32

static const char usage_text[] =
"usage: keycard verify (--jwks FILE | --pem FILE | --secret-file FILE)... [OPTIONS] TOKEN|-\n"
"\n"
"Verifies a JWT access token (JWS compact form) and prints its claims.\n"
"\n"
"keys (at least one; several may be combined):\n"
"  --jwks FILE            JSON Web Key Set (RFC 7517)\n"
"  --pem FILE             PEM public key or X.509 certificate\n"
"  --secret-file FILE     HMAC shared secret (the file's bytes, less one final newline)\n"
"  --kid KID              kid for the keys of the following --pem/--secret-file\n"
"checks:\n"
"  --issuer ISS           iss must equal ISS\n"
"  --audience AUD         aud must contain AUD (repeatable: any one suffices)\n"
"  --alg ALG              accept only these algorithms (repeatable; default: all that\n"
"                         fit the keys; never none)\n"
"  --typ TYP              header typ must be TYP (e.g. at+jwt, RFC 9068)\n"
"  --require-claim NAME   NAME must be present (repeatable; e.g. exp)\n"
"  --leeway SECONDS       clock skew allowed for exp and nbf (default 0)\n"
"  --now EPOCH            check the time claims as of EPOCH (default: now)\n"
"  --max-token-size N     refuse tokens longer than N bytes (default 16384)\n"
"\n"
"exit status: 0 valid (claims JSON on stdout), 1 rejected (reason on stderr),\n"
"2 usage or configuration error.\n";

/* Reads the token from stdin, without trailing white space. */
static char *
read_stdin_token(size_t max, size_t *len)
{
	size_t cap = max + 2, n = 0;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		return NULL;
	size_t r;
	while (n < cap && (r = fread(buf + n, 1, cap - n, stdin)) > 0)
		n += r;
	/* Past the limit: keep a limit-plus-one prefix so the size check fails. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
kc_cmd_verify(int argc, char **argv)
{
	enum { O_JWKS = 256, O_PEM, O_SECRET, O_KID, O_ISS, O_AUD, O_ALG, O_TYP, O_REQ,
	       O_LEEWAY, O_NOW, O_MAX };
	static const struct option opts[] = {
		{ "jwks", required_argument, NULL, O_JWKS },
		{ "pem", required_argument, NULL, O_PEM },
		{ "secret-file", required_argument, NULL, O_SECRET },
		{ "kid", required_argument, NULL, O_KID },
		{ "issuer", required_argument, NULL, O_ISS },
		{ "audience", required_argument, NULL, O_AUD },
		{ "alg", required_argument, NULL, O_ALG },
		{ "typ", required_argument, NULL, O_TYP },
		{ "require-claim", required_argument, NULL, O_REQ },
		{ "leeway", required_argument, NULL, O_LEEWAY },
		{ "now", required_argument, NULL, O_NOW },
		{ "max-token-size", required_argument, NULL, O_MAX },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *auds[MAX_LIST], *reqs[MAX_LIST];
	size_t n_auds = 0, n_reqs = 0;
	kc_verifier_opts vo = { 0 };
	const char *kid = NULL;
	int64_t now = (int64_t)time(NULL), v;
	char err[512];
	int c, key_sources = 0, status = KC_EXIT_USAGE;
	kc_verifier *verifier = NULL;
	kc_arena *arena = NULL;
	char *stdin_token = NULL;

	kc_keyset *ks = kc_keyset_new();
	if (ks == NULL)
		return kc_cli_usage_error("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			kc_keyset_free(ks);
			return KC_EXIT_OK;
		case O_JWKS:
			r = kc_keyset_load_jwks_file(ks, optarg, kc_cli_warn, NULL, err, sizeof(err));
			key_sources++;
			break;
		case O_PEM:
			r = kc_keyset_load_pem_file(ks, optarg, kid, NULL, kc_cli_warn, NULL, err, sizeof(err));
			key_sources++;
			break;
		case O_SECRET:
			r = kc_keyset_load_secret_file(ks, optarg, kid, NULL, kc_cli_warn, NULL, err, sizeof(err));
			key_sources++;
			break;
		case O_KID:
			kid = optarg;
			break;
		case O_ISS:
			vo.issuer = optarg;
			break;
		case O_AUD:
			if (n_auds == MAX_LIST)
				goto too_many;
			auds[n_auds++] = optarg;
			break;
		case O_REQ:
			if (n_reqs == MAX_LIST)
				goto too_many;
			reqs[n_reqs++] = optarg;
			break;
		case O_ALG: {
			kc_alg a = kc_alg_from_name(optarg, strlen(optarg));
			if (kc_alg_name_is_none(optarg, strlen(optarg))) {
				status = kc_cli_usage_error("--alg none: unsigned tokens are never accepted");
				goto out;
			}
			if (a == KC_ALG_UNKNOWN) {
				status = kc_cli_usage_error("--alg %s: unknown algorithm", optarg);
				goto out;
			}
			vo.jws.algs |= KC_ALG_BIT(a);
			break;
		}
		case O_TYP:
			vo.jws.typ = optarg;
			break;
		case O_LEEWAY:
			if (!kc_parse_duration(optarg, &vo.leeway)) {
				status = kc_cli_usage_error("--leeway %s: not a number of seconds", optarg);
				goto out;
			}
			break;
		case O_NOW:
			if (kc_cli_parse_int(optarg, &now) != 0) {
				status = kc_cli_usage_error("--now %s: not a number of seconds since the epoch", optarg);
				goto out;
			}
			break;
		case O_MAX:
			if (kc_cli_parse_int(optarg, &v) != 0 || v <= 0) {
				status = kc_cli_usage_error("--max-token-size %s: not a positive number", optarg);
				goto out;
			}
			vo.jws.max_size = (size_t)v;
			break;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
		if (r < 0) {
			status = kc_cli_usage_error("%s", err);
			goto out;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		goto out;
	}
	if (key_sources == 0) {
		status = kc_cli_usage_error("no key given: use --jwks, --pem or --secret-file");
		goto out;
	}
	if (kc_keyset_count(ks) == 0) {
		status = kc_cli_usage_error("no usable key was loaded");
		goto out;
	}

	size_t max = vo.jws.max_size ? vo.jws.max_size : KC_TOKEN_MAX_SIZE_DEFAULT;
	const char *token = argv[optind];
	size_t len = strlen(token);
	if (strcmp(token, "-") == 0) {
		if ((stdin_token = read_stdin_token(max, &len)) == NULL) {
			status = kc_cli_usage_error("cannot read the token from stdin");
			goto out;
		}
		token = stdin_token;
	}

	vo.audiences = auds;
	vo.n_audiences = n_auds;
	vo.required = reqs;
	vo.n_required = n_reqs;
	verifier = kc_verifier_new(ks, &vo);
	ks = NULL;
	arena = kc_arena_new(8192);
	if (verifier == NULL || arena == NULL) {
		status = kc_cli_usage_error("out of memory");
		goto out;
	}
	kc_token tok;
	char detail[96];
	kc_token_reason why = kc_token_verify(verifier, token, len, now, arena, &tok,
	    detail, sizeof(detail));
	if (why == KC_TOK_OK) {
		json_t *claims = kc_json_to_jansson(tok.claims);
		char *text = claims ? json_dumps(claims, JSON_INDENT(2)) : NULL;
		json_decref(claims);
		if (text == NULL) {
			status = kc_cli_usage_error("out of memory");
			goto out;
		}
		puts(text);
		free(text);
		status = KC_EXIT_OK;
	} else if (kc_token_reason_is_internal(why)) {
		status = kc_cli_usage_error("internal error: %s", kc_token_reason_message(why));
	} else {
		fprintf(stderr, "keycard: token rejected: %s%s%s%s\n", kc_token_reason_message(why),
		    detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
		status = KC_EXIT_REJECTED;
	}
	goto out;
too_many:
	status = kc_cli_usage_error("too many values (at most %d)", MAX_LIST);
out:
	kc_arena_free(arena);
	kc_verifier_free(verifier);
	kc_keyset_free(ks);
	free(stdin_token);
	return status;
}
