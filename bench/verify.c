/* verify.c: token verification throughput on one thread, in process:
 * keycard's kc_token_verify (and its signature layer kc_jws_verify alone)
 * against the raw OpenSSL primitive on the same key and signing input.
 *
 *   bench/verify [--seconds S] [--rounds N] [--alg ALG]... [--only WHAT]
 *
 * --only keycard|jws|raw-init|raw-copy times that one operation alone (for
 * perf record); its figure is printed in its own column, the others are 0.
 *
 * For each algorithm: a fresh key, one token with typical access-token claims
 * (iss, sub, aud, exp, iat, nbf, jti, client_id, scope: about 300 bytes of
 * payload), a kc_verifier that checks iss, aud, exp and the alg, and one
 * kc_arena cleared after every verification, as a server would. The raw
 * primitive is what a hand-written verifier would at least have to do:
 * EVP_DigestVerifyInit + EVP_DigestVerify over the same signing input with
 * the same EVP_PKEY (ECDSA given the DER form of the signature, converted
 * once outside the loop), and for HS* an EVP_MAC context holding the key,
 * re-initialised, updated, finalised and compared with CRYPTO_memcmp.
 * Each figure is the best of N rounds of at least S seconds, the three
 * measurements interleaved so that a noisy neighbour hurts them alike.
 *
 * Output: one tab-separated line per algorithm (bench/run-verify.sh reads it):
 *   alg  keycard/s  jws/s  raw/s  token_bytes  payload_bytes  signing_input_bytes */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/arena.h"
#include "token/alg.h"
#include "token/b64url.h"
#include "token/jwk.h"
#include "token/jws.h"
#include "token/sign.h"
#include "token/verify.h"

#define BENCH_ISS "https://auth.example.com/realms/production"
#define BENCH_AUD "https://api.example.com/orders"

struct bench_case {
	kc_alg alg;
	kc_verifier *verifier;
	const kc_keyset *keys;      /* borrowed from the verifier */
	kc_jws_opts jws_opts;
	kc_arena *arena;
	int64_t now;
	char *token;
	size_t token_len;
	size_t payload_len;
	size_t signing_len;         /* header.payload */
	unsigned char *sig;         /* as OpenSSL wants it (DER for ECDSA) */
	size_t sig_len;
	EVP_PKEY *pkey;             /* borrowed from the keyset; NULL for HS* */
	EVP_MD_CTX *md;             /* re-initialised per verification */
	EVP_MD_CTX *md_ready;       /* initialised once, copied per verification */
	EVP_MAC_CTX *mac;           /* re-initialised per verification */
	EVP_MAC_CTX *mac_ready;     /* initialised once, duplicated per verification */
};

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/verify: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double
seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the three operations ----------------------------------------------- */

static bool
op_keycard(struct bench_case *c)
{
	kc_token tok;
	kc_token_reason r = kc_token_verify(c->verifier, c->token, c->token_len, c->now,
	    c->arena, &tok, NULL, 0);
	kc_arena_clear(c->arena);
	return r == KC_TOK_OK;
}

static bool
op_jws(struct bench_case *c)
{
	kc_jws jws;
	kc_token_reason r = kc_jws_verify(c->keys, c->token, c->token_len, &c->jws_opts,
	    c->arena, &jws);
	kc_arena_clear(c->arena);
	return r == KC_TOK_OK;
}

static bool
init_md(struct bench_case *c, EVP_MD_CTX *md)
{
	EVP_PKEY_CTX *pctx = NULL;
	const char *dname = kc_alg_digest_name(c->alg);
	if (EVP_DigestVerifyInit_ex(md, &pctx, dname, NULL, NULL, c->pkey, NULL) != 1)
		return false;
	if (c->alg == KC_ALG_PS256 || c->alg == KC_ALG_PS384 || c->alg == KC_ALG_PS512)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, dname, NULL) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	return true;
}

/* Raw, the plain way: initialise for every verification. */
static bool
op_raw_init(struct bench_case *c)
{
	const unsigned char *data = (const unsigned char *)c->token;
	if (c->mac != NULL) {
		unsigned char out[EVP_MAX_MD_SIZE];
		size_t n = 0;
		/* A NULL key re-initialises HMAC with the key it already holds. */
		return EVP_MAC_init(c->mac, NULL, 0, NULL) == 1 &&
		    EVP_MAC_update(c->mac, data, c->signing_len) == 1 &&
		    EVP_MAC_final(c->mac, out, &n, sizeof(out)) == 1 &&
		    n == c->sig_len && CRYPTO_memcmp(out, c->sig, n) == 0;
	}
	bool ok = init_md(c, c->md) &&
	    EVP_DigestVerify(c->md, c->sig, c->sig_len, data, c->signing_len) == 1;
	EVP_MD_CTX_reset(c->md);
	return ok;
}

/* Raw, the quick way: copy a context initialised once (as keycard does). */
static bool
op_raw_copy(struct bench_case *c)
{
	const unsigned char *data = (const unsigned char *)c->token;
	if (c->mac_ready != NULL) {
		unsigned char out[EVP_MAX_MD_SIZE];
		size_t n = 0;
		EVP_MAC_CTX *m = EVP_MAC_CTX_dup(c->mac_ready);
		bool ok = m != NULL && EVP_MAC_update(m, data, c->signing_len) == 1 &&
		    EVP_MAC_final(m, out, &n, sizeof(out)) == 1 &&
		    n == c->sig_len && CRYPTO_memcmp(out, c->sig, n) == 0;
		EVP_MAC_CTX_free(m);
		return ok;
	}
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	bool ok = m != NULL && EVP_MD_CTX_copy_ex(m, c->md_ready) == 1 &&
	    EVP_DigestVerify(m, c->sig, c->sig_len, data, c->signing_len) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

/* Runs op in batches until at least secs have passed; operations per second. */
static double
measure(bool (*op)(struct bench_case *), struct bench_case *c, double secs)
{
	uint64_t done = 0, batch = 1;
	double start = seconds_now(), elapsed;
	for (;;) {
		double t0 = seconds_now();
		for (uint64_t i = 0; i < batch; i++)
			if (!op(c))
				die("a verification failed during the measurement", kc_alg_name(c->alg));
		done += batch;
		double t1 = seconds_now();
		elapsed = t1 - start;
		if (elapsed >= secs)
			break;
		if (t1 - t0 < 0.005) /* read the clock about every 5 ms at most */
			batch *= 2;
	}
	return (double)done / elapsed;
}

/* ---- setting a case up ---------------------------------------------------- */

static void
setup(struct bench_case *c, kc_alg alg, int64_t now)
{
	char err[256] = "", kid[32];
	memset(c, 0, sizeof(*c));
	c->alg = alg;
	c->now = now;
	snprintf(kid, sizeof(kid), "bench-%s", kc_alg_name(alg));

	kc_signer *s = kc_signer_generate(alg, kid, err, sizeof(err));
	if (s == NULL)
		die("kc_signer_generate", err);
	kc_keyset *ks = kc_keyset_new();
	json_t *pub = kc_signer_public_jwk(s);
	if (ks == NULL || pub == NULL || kc_keyset_load_jwk(ks, pub, NULL, NULL, err, sizeof(err)) != 1)
		die("loading the public JWK", err);

	/* A typical access token: ~300 bytes of claims. */
	char payload[1024];
	int n = snprintf(payload, sizeof(payload),
	    "{\"iss\":\"" BENCH_ISS "\",\"sub\":\"248289761001-e4b6f5c2\","
	    "\"aud\":\"" BENCH_AUD "\",\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,"
	    "\"jti\":\"6f1c2a9e-3b7d-4c1e-9a5f-0d8b7e2c4a13\",\"client_id\":\"orders-web-frontend\","
	    "\"scope\":\"openid profile email orders:read orders:write invoices:read\"}",
	    (long long)now + 3600, (long long)now, (long long)now);
	if (n < 0 || (size_t)n >= sizeof(payload))
		die("payload too long", NULL);
	c->payload_len = (size_t)n;
	c->token = kc_signer_sign(s, NULL, NULL, (const unsigned char *)payload, c->payload_len);
	if (c->token == NULL)
		die("kc_signer_sign", kc_alg_name(alg));
	c->token_len = strlen(c->token);
	kc_signer_free(s);

	static const char *const auds[] = { BENCH_AUD };
	static const char *const required[] = { "exp" };
	kc_verifier_opts vo = {
		.jws = { .algs = KC_ALG_BIT(alg) },
		.issuer = BENCH_ISS,
		.audiences = auds,
		.n_audiences = 1,
		.required = required,
		.n_required = 1,
		.leeway = 30,
	};
	c->jws_opts = vo.jws;
	if ((c->verifier = kc_verifier_new(ks, &vo)) == NULL)
		die("kc_verifier_new", NULL);
	c->keys = kc_verifier_keyset(c->verifier);
	if ((c->arena = kc_arena_new(8192)) == NULL)
		die("kc_arena_new", NULL);

	/* The raw side: the same signing input, signature and key. */
	const char *dot = strrchr(c->token, '.');
	c->signing_len = (size_t)(dot - c->token);
	size_t b64len = c->token_len - c->signing_len - 1;
	unsigned char *sig = kc_b64url_decode_alloc(dot + 1, b64len, &c->sig_len);
	if (sig == NULL)
		die("decoding the signature", NULL);
	const kc_key *key = kc_keyset_get(c->keys, 0);
	c->pkey = kc_key_pkey(key);
	if (kc_alg_keytype(alg) == KC_KEY_OCT) {
		/* For oct keys the public JWK is the secret itself ("k"). */
		const char *k = json_string_value(json_object_get(pub, "k"));
		size_t klen = 0;
		unsigned char *secret = k ? kc_b64url_decode_alloc(k, strlen(k), &klen) : NULL;
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		c->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac);
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
			    (char *)kc_alg_digest_name(alg), 0),
			OSSL_PARAM_construct_end(),
		};
		if (secret == NULL || c->mac == NULL || EVP_MAC_init(c->mac, secret, klen, params) != 1 ||
		    (c->mac_ready = EVP_MAC_CTX_dup(c->mac)) == NULL)
			die("HMAC key", NULL);
		OPENSSL_cleanse(secret, klen);
		free(secret);
		c->sig = sig;
	} else {
		if ((c->md = EVP_MD_CTX_new()) == NULL || (c->md_ready = EVP_MD_CTX_new()) == NULL ||
		    !init_md(c, c->md_ready))
			die("EVP_DigestVerifyInit", NULL);
		if (kc_alg_keytype(alg) == KC_KEY_EC_P256 || kc_alg_keytype(alg) == KC_KEY_EC_P384 ||
		    kc_alg_keytype(alg) == KC_KEY_EC_P521) {
			/* RFC 7518 §3.4 R||S to the DER OpenSSL verifies, once. */
			size_t half = c->sig_len / 2;
			ECDSA_SIG *es = ECDSA_SIG_new();
			BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s2 = BN_bin2bn(sig + half, (int)half, NULL);
			if (es == NULL || r == NULL || s2 == NULL || !ECDSA_SIG_set0(es, r, s2))
				die("ECDSA_SIG", NULL);
			unsigned char *der = NULL;
			int dlen = i2d_ECDSA_SIG(es, &der);
			if (dlen <= 0)
				die("i2d_ECDSA_SIG", NULL);
			ECDSA_SIG_free(es);
			free(sig);
			c->sig = malloc((size_t)dlen);
			if (c->sig == NULL)
				die("out of memory", NULL);
			memcpy(c->sig, der, (size_t)dlen);
			OPENSSL_free(der);
			c->sig_len = (size_t)dlen;
		} else {
			c->sig = sig;
		}
	}
	json_decref(pub);
}

static void
teardown(struct bench_case *c)
{
	kc_verifier_free(c->verifier);
	kc_arena_free(c->arena);
	EVP_MD_CTX_free(c->md);
	EVP_MD_CTX_free(c->md_ready);
	EVP_MAC_CTX_free(c->mac);
	EVP_MAC_CTX_free(c->mac_ready);
	free(c->sig);
	free(c->token);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench/verify [--seconds S] [--rounds N] [--alg ALG]... "
	    "[--only keycard|jws|raw-init|raw-copy]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "alg", required_argument, NULL, 'a' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double secs = 1.0;
	static const char *const op_names[4] = { "keycard", "jws", "raw-init", "raw-copy" };
	int rounds = 3, c, only_op = -1;
	kc_alg_set only = 0;
	while ((c = getopt_long(argc, argv, "s:r:a:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			secs = atof(optarg);
			if (!(secs > 0))
				usage();
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1)
				usage();
			break;
		case 'a': {
			kc_alg a = kc_alg_from_name(optarg, strlen(optarg));
			if (a == KC_ALG_UNKNOWN) {
				fprintf(stderr, "bench/verify: unknown algorithm %s\n", optarg);
				exit(2);
			}
			only |= KC_ALG_BIT(a);
			break;
		}
		case 'o':
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, op_names[i]) == 0)
					only_op = i;
			if (only_op < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	int64_t now = (int64_t)time(NULL);
	printf("# %s, jansson %s, %.1f s x %d rounds per figure (best round)\n",
	    OpenSSL_version(OPENSSL_VERSION), jansson_version_str(), secs, rounds);
	printf("# alg\tkeycard_per_s\tjws_per_s\traw_init_per_s\traw_copy_per_s\ttoken_bytes\t"
	    "payload_bytes\tsigning_input_bytes\n");
	fflush(stdout);
	for (int a = 1; a < KC_ALG__COUNT; a++) {
		if (only != 0 && !(only & KC_ALG_BIT(a)))
			continue;
		struct bench_case bc;
		setup(&bc, (kc_alg)a, now);
		/* Each side must accept the token before it is timed. */
		if (!op_keycard(&bc) || !op_jws(&bc) || !op_raw_init(&bc) || !op_raw_copy(&bc))
			die("the token does not verify", kc_alg_name((kc_alg)a));
		/* A tampered signature must fail on both raw paths, or they
		 * measure nothing. */
		bc.sig[bc.sig_len / 2] ^= 0x01;
		if (op_raw_init(&bc) || op_raw_copy(&bc))
			die("the raw path accepts a wrong signature", kc_alg_name((kc_alg)a));
		bc.sig[bc.sig_len / 2] ^= 0x01;
		ERR_clear_error();
		double best[4] = { 0, 0, 0, 0 };
		bool (*ops[4])(struct bench_case *) = { op_keycard, op_jws, op_raw_init, op_raw_copy };
		for (int r = 0; r < rounds; r++) {
			for (int i = 0; i < 4; i++) {
				if (only_op >= 0 && i != only_op)
					continue;
				double x = measure(ops[i], &bc, secs);
				best[i] = x > best[i] ? x : best[i];
			}
		}
		printf("%s\t%.0f\t%.0f\t%.0f\t%.0f\t%zu\t%zu\t%zu\n", kc_alg_name((kc_alg)a), best[0],
		    best[1], best[2], best[3], bc.token_len, bc.payload_len, bc.signing_len);
		fflush(stdout);
		teardown(&bc);
	}
	return 0;
}
