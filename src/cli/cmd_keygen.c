/* cmd_keygen.c: keycard keygen: a fresh signing key for tests and demos. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "token/sign.h"

static const char usage_text[] =
"usage: keycard keygen --alg ALG [--kid KID] [--public FILE]\n"
"\n"
"Generates a signing key and prints it as a private JWK on stdout (keep it\n"
"secret: it signs tokens). --public FILE writes the matching JWK Set for\n"
"verifiers (for HS* it holds the shared secret, so keep that file private too).\n"
"\n"
"  --alg ALG      HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512\n"
"                 ES256 ES384 ES512 EdDSA (RSA keys are 2048 bits)\n"
"  --kid KID      key id (default: the RFC 7638 thumbprint of the key)\n"
"  --public FILE  write the public JWK Set {\"keys\":[...]} to FILE\n";

static int
write_json(const char *path, json_t *j, bool secret)
{
	/* Key files are created private: the public set of an oct key is a secret. */
	mode_t old = umask(secret ? 077 : 022);
	FILE *f = fopen(path, "w");
	umask(old);
	if (f == NULL)
		return -1;
	int r = json_dumpf(j, f, JSON_INDENT(2));
	fputc('\n', f);
	if (fclose(f) != 0)
		r = -1;
	return r;
}

int
kc_cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "kid", required_argument, NULL, 'k' },
		{ "public", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *alg_name = NULL, *kid = NULL, *pub_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alg_name = optarg; break;
		case 'k': kid = optarg; break;
		case 'p': pub_path = optarg; break;
		case 'h': fputs(usage_text, stdout); return KC_EXIT_OK;
		default: fputs(usage_text, stderr); return KC_EXIT_USAGE;
		}
	}
	if (optind != argc || alg_name == NULL) {
		fputs(usage_text, stderr);
		return KC_EXIT_USAGE;
	}
	kc_alg alg = kc_alg_from_name(alg_name, strlen(alg_name));
	if (alg == KC_ALG_UNKNOWN)
		return kc_cli_usage_error("--alg %s: unknown algorithm", alg_name);

	char err[256];
	kc_signer *s = kc_signer_generate(alg, kid, err, sizeof(err));
	if (s == NULL)
		return kc_cli_usage_error("%s", err);
	int status = KC_EXIT_OK;
	json_t *priv = kc_signer_private_jwk(s);
	json_t *pub = kc_signer_public_jwk(s);
	json_t *set = pub ? json_pack("{s:[O]}", "keys", pub) : NULL;
	if (priv == NULL || set == NULL) {
		status = kc_cli_usage_error("out of memory");
	} else if (pub_path != NULL && write_json(pub_path, set, alg <= KC_ALG_HS512) != 0) {
		status = kc_cli_usage_error("%s: cannot write the public key set", pub_path);
	} else {
		json_dumpf(priv, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(priv);
	json_decref(pub);
	json_decref(set);
	kc_signer_free(s);
	return status;
}
