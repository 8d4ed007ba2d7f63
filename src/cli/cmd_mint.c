/* cmd_mint.c: keycard mint: sign a test token. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cli/cli.h"
#include "core/util.h"
#include "token/b64url.h"
#include "token/sign.h"

static const char usage_text[] =
"usage: keycard mint --key FILE [--alg ALG] [--kid KID] [OPTIONS]\n"
"\n"
"Signs a JWT with a private key (a JWK from 'keycard keygen', or a PEM private\n"
"key) and prints it on stdout. For tests and demos: keycard never issues tokens\n"
"in production.\n"
"\n"
"  --key FILE          private JWK or PEM private key\n"
"  --alg ALG           algorithm (default: the JWK's \"alg\"; required for RSA PEM keys)\n"
"  --kid KID           kid header (default: the JWK's kid or the key's thumbprint)\n"
"  --iss ISS           issuer claim\n"
"  --sub SUB           subject claim\n"
"  --aud AUD           audience (repeatable: several make an array)\n"
"  --scope \"A B\"       scope claim, space-separated\n"
"  --ttl DURATION      lifetime: 90, 90s, 15m, 1h, 7d (default 1h)\n"
"  --no-exp            leave out exp\n"
"  --now EPOCH         issue as of EPOCH (iat; exp = now + ttl)\n"
"  --typ TYP           typ header (default JWT; at+jwt for RFC 9068)\n"
"  --claim NAME=JSON   any claim; a value that is not JSON is taken as a string\n"
"                      (repeatable; overrides the claims above)\n";

static void
set_claim(json_t *claims, const char *spec, int *bad)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL || eq == spec) {
		*bad = 1;
		return;
	}
	char *name = strndup(spec, (size_t)(eq - spec));
	json_t *v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (v == NULL)
		v = json_string(eq + 1);
	if (name == NULL || v == NULL || json_object_set_new(claims, name, v) != 0)
		*bad = 1;
	free(name);
}

int
kc_cmd_mint(int argc, char **argv)
{
	enum { O_KEY = 256, O_ALG, O_KID, O_ISS, O_SUB, O_AUD, O_SCOPE, O_TTL, O_NOEXP,
	       O_NOW, O_TYP, O_CLAIM };
	static const struct option opts[] = {
		{ "key", required_argument, NULL, O_KEY },
		{ "alg", required_argument, NULL, O_ALG },
		{ "kid", required_argument, NULL, O_KID },
		{ "iss", required_argument, NULL, O_ISS },
		{ "sub", required_argument, NULL, O_SUB },
		{ "aud", required_argument, NULL, O_AUD },
		{ "scope", required_argument, NULL, O_SCOPE },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "no-exp", no_argument, NULL, O_NOEXP },
		{ "now", required_argument, NULL, O_NOW },
		{ "typ", required_argument, NULL, O_TYP },
		{ "claim", required_argument, NULL, O_CLAIM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *kid = NULL, *typ = NULL, *iss = NULL, *sub = NULL;
	const char *scope = NULL;
	kc_alg alg = KC_ALG_UNKNOWN;
	int64_t ttl = 3600, now = (int64_t)time(NULL);
	int c, no_exp = 0, bad = 0, status = KC_EXIT_USAGE;
	json_t *auds = json_array(), *extra = json_object(), *claims = json_object();
	kc_signer *s = NULL;

	if (auds == NULL || extra == NULL || claims == NULL)
		goto out;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			status = KC_EXIT_OK;
			goto out;
		case O_KEY: key_path = optarg; break;
		case O_ALG:
			if ((alg = kc_alg_from_name(optarg, strlen(optarg))) == KC_ALG_UNKNOWN) {
				status = kc_cli_usage_error("--alg %s: unknown algorithm", optarg);
				goto out;
			}
			break;
		case O_KID: kid = optarg; break;
		case O_ISS: iss = optarg; break;
		case O_SUB: sub = optarg; break;
		case O_AUD: json_array_append_new(auds, json_string(optarg)); break;
		case O_SCOPE: scope = optarg; break;
		case O_TTL:
			if (!kc_parse_duration(optarg, &ttl)) {
				status = kc_cli_usage_error("--ttl %s: not a duration (90, 90s, 15m, 1h, 7d)", optarg);
				goto out;
			}
			break;
		case O_NOEXP: no_exp = 1; break;
		case O_NOW:
			if (kc_cli_parse_int(optarg, &now) != 0) {
				status = kc_cli_usage_error("--now %s: not a number of seconds since the epoch", optarg);
				goto out;
			}
			break;
		case O_TYP: typ = optarg; break;
		case O_CLAIM:
			set_claim(extra, optarg, &bad);
			if (bad) {
				status = kc_cli_usage_error("--claim %s: expected NAME=VALUE", optarg);
				goto out;
			}
			break;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind != argc || key_path == NULL) {
		fputs(usage_text, stderr);
		goto out;
	}
	char err[512];
	if ((s = kc_signer_load_file(key_path, alg, kid, err, sizeof(err))) == NULL) {
		status = kc_cli_usage_error("%s", err);
		goto out;
	}

	if (iss) json_object_set_new(claims, "iss", json_string(iss));
	if (sub) json_object_set_new(claims, "sub", json_string(sub));
	if (json_array_size(auds) == 1)
		json_object_set(claims, "aud", json_array_get(auds, 0));
	else if (json_array_size(auds) > 1)
		json_object_set(claims, "aud", auds);
	if (scope) json_object_set_new(claims, "scope", json_string(scope));
	json_object_set_new(claims, "iat", json_integer(now));
	if (!no_exp)
		json_object_set_new(claims, "exp", json_integer(now + ttl));
	unsigned char rnd[16];
	char jti[KC_B64URL_ENCODED_LEN(sizeof(rnd)) + 1];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		status = kc_cli_usage_error("no randomness for jti");
		goto out;
	}
	kc_b64url_encode(rnd, sizeof(rnd), jti);
	json_object_set_new(claims, "jti", json_string(jti));
	json_object_update(claims, extra);

	char *payload = json_dumps(claims, JSON_COMPACT);
	char *token = payload ? kc_signer_sign(s, NULL, typ, (unsigned char *)payload,
	    strlen(payload)) : NULL;
	if (token == NULL) {
		status = kc_cli_usage_error("signing failed");
	} else {
		puts(token);
		status = KC_EXIT_OK;
	}
	free(payload);
	free(token);
out:
	kc_signer_free(s);
	json_decref(auds);
	json_decref(extra);
	json_decref(claims);
	return status;
}
