/* test_weak_keys.c: keys that must never be used to verify (jwk.h, RFC 7518
 * §3.2 and §3.3, RFC 7517 §4.2-4.3, CVE-2017-15361).
 *
 * A verifier is only as strong as its keys. A 1024-bit RSA modulus can be
 * factored by a well-funded attacker; a public exponent of 1 makes every
 * value its own signature; an even exponent is no RSA key at all; keys from
 * Infineon chips with the ROCA fingerprint can be factored cheaply; an HMAC
 * secret shorter than the hash (or empty) can be brute-forced or guessed;
 * an EC "public key" that is not a point on the curve opens invalid-curve
 * attacks; and a key published for encryption ("use":"enc", or "key_ops"
 * without "verify") must not be turned into a verification key. keycard
 * refuses each such key at load, reports it through the warn callback (one
 * line, no secret), keeps loading the rest of the set, and a token that only
 * the refused key would verify is then refused. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

struct warns {
	int n;
	bool multiline;
	char all[4096];
};

static void
on_warn(void *ctx, const char *msg)
{
	struct warns *w = ctx;
	w->n++;
	if (strchr(msg, '\n') != NULL || strchr(msg, '\r') != NULL)
		w->multiline = true;
	size_t used = strlen(w->all);
	snprintf(w->all + used, sizeof w->all - used, "%s|", msg);
}

/* Loads JWKS text into a new key set; the set as a whole must be accepted. */
static kc_keyset *
load_jwks(const char *text, int *added, struct warns *w)
{
	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	char err[256] = "";
	int n = kc_keyset_load_jwks(ks, text, strlen(text), on_warn, w, err, sizeof err);
	cr_assert_geq(n, 0, "JWKS refused as a whole: %s", err);
	cr_assert_eq((size_t)n, kc_keyset_count(ks));
	*added = n;
	return ks;
}

/* How many keys a one-key JWKS made of jwk (taken over) loads, with the
 * check that a refused key is reported in one line. */
static int
load_one(json_t *jwk, const char *what)
{
	json_t *set = json_pack("{s:[o]}", "keys", jwk);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	struct warns w = { 0 };
	int n = 0;
	kc_keyset *ks = load_jwks(text, &n, &w);
	if (n == 0)
		cr_expect_geq(w.n, 1, "%s: refused without a warning", what);
	cr_expect_not(w.multiline, "%s: warning spans lines", what);
	kc_keyset_free(ks);
	free(text);
	return n;
}

static char *
b64u_bn(const BIGNUM *bn)
{
	unsigned char buf[1024];
	int len = BN_bn2bin(bn, buf);
	return kc_b64url_encode_alloc(buf, (size_t)len);
}

/* {"kty":"RSA","n":…,"e":…} from a public PEM under tests/data, e replaced by
 * e64 when not NULL. */
static json_t *
rsa_jwk(const char *pem_name, const char *e64, const char *kid)
{
	size_t len = 0;
	char *pem = kct_data_read(pem_name, &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	cr_assert_not_null(pk, "%s", pem_name);
	BIGNUM *n = NULL, *e = NULL;
	cr_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n));
	cr_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e));
	char *n64 = b64u_bn(n), *e64own = b64u_bn(e);
	json_t *j = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", n64, "e", e64 ? e64 : e64own);
	if (kid != NULL)
		json_object_set_new(j, "kid", json_string(kid));
	free(n64);
	free(e64own);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free(pem);
	return j;
}

/* An RS256 token signed with a PEM private key under tests/data, by hand. */
static char *
rs256_token(const char *key_name, const char *hdr)
{
	size_t len = 0;
	char *pem = kct_data_read(key_name, &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	cr_assert_not_null(pk);
	char *h = kc_b64url_encode_alloc((const unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	char *input = malloc(strlen(h) + strlen(p) + 2);
	sprintf(input, "%s.%s", h, p);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	cr_assert(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, pk, NULL) == 1);
	unsigned char sig[1024];
	size_t slen = sizeof sig;
	cr_assert(EVP_DigestSign(ctx, sig, &slen, (unsigned char *)input, strlen(input)) == 1);
	char *s = kc_b64url_encode_alloc(sig, slen);
	char *tok = malloc(strlen(input) + strlen(s) + 2);
	sprintf(tok, "%s.%s", input, s);
	free(s);
	free(input);
	free(h);
	free(p);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free(pem);
	return tok;
}

static char *
hs_token(kc_alg alg, const unsigned char *secret, size_t n, const char *hdr)
{
	const EVP_MD *md = alg == KC_ALG_HS256 ? EVP_sha256()
	    : alg == KC_ALG_HS384 ? EVP_sha384() : EVP_sha512();
	char *h = kc_b64url_encode_alloc((const unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	char *tok = malloc(strlen(h) + strlen(p) + 100);
	size_t inlen = (size_t)sprintf(tok, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const unsigned char empty[1];
	cr_assert_not_null(HMAC(md, n ? secret : empty, (int)n, (unsigned char *)tok, inlen, mac,
	    &maclen));
	tok[inlen] = '.';
	kc_b64url_encode(mac, maclen, tok + inlen + 1);
	free(h);
	free(p);
	return tok;
}

/* ---- RSA ---------------------------------------------------------------- */

Test(weak_keys, rsa_1024_refused_everywhere)
{
	cr_expect_eq(load_one(rsa_jwk("keys/rsa-1024.pub.pem", NULL, "weak"), "RSA 1024 JWK"), 0);
	cr_expect_eq(load_one(rsa_jwk("keys/rsa-2048.pub.pem", NULL, "strong"), "RSA 2048 JWK"), 1,
	    "control: 2048 bits is enough");

	struct warns w = { 0 };
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	int n = kc_keyset_load_pem_file(ks, kct_data_path("keys/rsa-1024.pub.pem"), "weak", NULL,
	    on_warn, &w, err, sizeof err);
	cr_expect_leq(n, 0, "PEM loader added a 1024-bit key");
	cr_expect_eq(kc_keyset_count(ks), 0);
	cr_expect_geq(w.n + (n < 0), 1, "refusal reported");
	kc_keyset_free(ks);
}

/* The weak key next to a strong one: the set loads, without the weak key,
 * and the weak key's token finds no key. */
Test(weak_keys, rsa_1024_token_refused)
{
	json_t *set = json_pack("{s:[o,o]}", "keys", rsa_jwk("keys/rsa-1024.pub.pem", NULL, "weak"),
	    rsa_jwk("keys/rsa-2048.pub.pem", NULL, "strong"));
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	struct warns w = { 0 };
	int n = 0;
	kc_keyset *ks = load_jwks(text, &n, &w);
	cr_expect_eq(n, 1);
	cr_expect_eq(w.n, 1, "one warning for the one weak key: %s", w.all);
	char *tok = rs256_token("keys/rsa-1024.key.pem", "{\"alg\":\"RS256\",\"kid\":\"weak\"}");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	tok = rs256_token("keys/rsa-2048.key.pem", "{\"alg\":\"RS256\",\"kid\":\"strong\"}");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "control");
	free(tok);
	kc_keyset_free(ks);
	free(text);
}

/* jwk.h: exponent < 3 or even is refused; 3 and other odd values are not. */
Test(weak_keys, rsa_public_exponent)
{
	struct { const char *e64; const char *what; int want; } cases[] = {
		{ "AA", "e = 0", 0 },
		{ "AQ", "e = 1", 0 },
		{ "Ag", "e = 2", 0 },
		{ "BA", "e = 4", 0 },
		{ "AQAA", "e = 65536", 0 },
		{ "AQAC", "e = 65538", 0 },
		{ "", "empty e", 0 },
		{ "Aw", "e = 3", 1 },
		{ "BQ", "e = 5", 1 },
		{ "AQAB", "e = 65537", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect_eq(load_one(rsa_jwk("keys/rsa-2048.pub.pem", cases[i].e64, "k"),
		    cases[i].what), cases[i].want, "%s", cases[i].what);
}

/* Wycheproof's key-set vector tc7: a 2049-bit key with the ROCA fingerprint,
 * and a token it really signed (tests/data/attacks/README.md). */
Test(weak_keys, roca_fingerprint)
{
	size_t len = 0;
	char *text = kct_data_read("attacks/roca-rsa-2049.pub.jwk", &len);
	json_t *jwk = json_loadb(text, len, 0, NULL);
	free(text);
	cr_assert_not_null(jwk);
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "kty")), "RSA");
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "e")), "AQAB",
	    "refused for the fingerprint, not the exponent");
	size_t nlen = 0;
	const char *n64 = json_string_value(json_object_get(jwk, "n"));
	unsigned char *n = kc_b64url_decode_alloc(n64, strlen(n64), &nlen);
	cr_assert_not_null(n);
	cr_assert(nlen == 257 && n[0] == 0x01, "2049 bits: not refused for its size");
	free(n);

	json_t *set = json_pack("{s:[O,o]}", "keys", jwk,
	    rsa_jwk("keys/rsa-2048.pub.pem", NULL, "strong"));
	char *jwks = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	struct warns w = { 0 };
	int added = 0;
	kc_keyset *ks = load_jwks(jwks, &added, &w);
	cr_expect_eq(added, 1, "only the strong key loads");
	cr_expect_eq(w.n, 1, "%s", w.all);

	char *tok = kct_data_read("attacks/roca-rsa-2049.jws", &len);
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
		tok[--len] = '\0';
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	kc_keyset_free(ks);
	free(jwks);
	cr_expect_eq(load_one(jwk, "ROCA key alone"), 0);
}

/* ---- HMAC --------------------------------------------------------------- */

/* RFC 7518 §3.2: a key of the same size as the hash output or larger. */
Test(weak_keys, hmac_secret_length)
{
	struct { const char *alg; size_t min; } cases[] = {
		{ "HS256", 32 }, { "HS384", 48 }, { "HS512", 64 }, { NULL, 32 },
	};
	unsigned char secret[128];
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (unsigned char)(i * 7 + 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *alg = cases[i].alg ? cases[i].alg : "(none)";
		for (int d = -1; d <= 0; d++) {
			size_t len = d == -1 ? cases[i].min - 1 : cases[i].min;
			struct warns w = { 0 };
			kc_keyset *ks = kc_keyset_new();
			char err[256] = "";
			int n = kc_keyset_add_secret(ks, secret, len, "k", cases[i].alg, on_warn, &w, err,
			    sizeof err);
			if (d == -1) {
				cr_expect_leq(n, 0, "%s with %zu bytes loaded", alg, len);
				cr_expect_eq(kc_keyset_count(ks), 0, "%s with %zu bytes", alg, len);
			} else {
				cr_expect_eq(n, 1, "%s with %zu bytes: %s", alg, len, err);
			}
			kc_keyset_free(ks);

			/* The same through a JWKS "oct" key. */
			char *k = kc_b64url_encode_alloc(secret, len);
			json_t *jwk = json_pack("{s:s,s:s,s:s}", "kty", "oct", "kid", "k", "k", k);
			if (cases[i].alg)
				json_object_set_new(jwk, "alg", json_string(cases[i].alg));
			cr_expect_eq(load_one(jwk, alg), d == -1 ? 0 : 1, "JWKS %s, %zu bytes", alg, len);
			free(k);
		}
	}
	/* A 32-byte secret is too short for HS512 even though it is fine for HS256. */
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_expect_leq(kc_keyset_add_secret(ks, secret, 32, "k", "HS512", NULL, NULL, err,
	    sizeof err), 0);
	cr_expect_eq(kc_keyset_count(ks), 0);
	kc_keyset_free(ks);
}

Test(weak_keys, empty_secret)
{
	static const unsigned char nothing[1];
	const char *algs[] = { "HS256", "HS384", "HS512", NULL };
	for (size_t i = 0; i < 4; i++) {
		kc_keyset *ks = kc_keyset_new();
		char err[256] = "";
		cr_expect_leq(kc_keyset_add_secret(ks, nothing, 0, "k", algs[i], NULL, NULL, err,
		    sizeof err), 0);
		cr_expect_eq(kc_keyset_count(ks), 0);
		kc_keyset_free(ks);
		json_t *jwk = json_pack("{s:s,s:s}", "kty", "oct", "k", "");
		if (algs[i])
			json_object_set_new(jwk, "alg", json_string(algs[i]));
		cr_expect_eq(load_one(jwk, "empty k"), 0);
	}
	/* A JWK without "k" at all. */
	cr_expect_eq(load_one(json_pack("{s:s,s:s}", "kty", "oct", "alg", "HS256"), "no k"), 0);

	/* Secret files: empty, one newline, CRLF (the loader strips one). */
	const char *contents[] = { "", "\n", "\r\n" };
	for (size_t i = 0; i < 3; i++) {
		char path[] = "/tmp/kc-weak-secret-XXXXXX";
		int fd = mkstemp(path);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, contents[i], strlen(contents[i])), (ssize_t)strlen(contents[i]));
		close(fd);
		kc_keyset *ks = kc_keyset_new();
		char err[256] = "";
		int n = kc_keyset_load_secret_file(ks, path, "k", "HS256", NULL, NULL, err, sizeof err);
		cr_expect_leq(n, 0, "secret file %zu", i);
		cr_expect_eq(kc_keyset_count(ks), 0, "secret file %zu", i);
		kc_keyset_free(ks);
		unlink(path);
	}
	/* The 16-byte fixture. */
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_expect_leq(kc_keyset_load_secret_file(ks, kct_data_path("keys/short.secret"), "k",
	    "HS256", NULL, NULL, err, sizeof err), 0);
	cr_expect_eq(kc_keyset_count(ks), 0);
	kc_keyset_free(ks);
}

/* A token keyed with a refused short secret finds no key. */
Test(weak_keys, short_secret_token_refused)
{
	unsigned char weak[31], strong[32];
	memset(weak, 'w', sizeof weak);
	memset(strong, 's', sizeof strong);
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_expect_leq(kc_keyset_add_secret(ks, weak, sizeof weak, "weak", "HS256", NULL, NULL, err,
	    sizeof err), 0);
	cr_assert_eq(kc_keyset_add_secret(ks, strong, sizeof strong, "strong", "HS256", NULL, NULL,
	    err, sizeof err), 1, "%s", err);
	char *tok = hs_token(KC_ALG_HS256, weak, sizeof weak, "{\"alg\":\"HS256\",\"kid\":\"weak\"}");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	tok = hs_token(KC_ALG_HS256, strong, sizeof strong, "{\"alg\":\"HS256\",\"kid\":\"strong\"}");
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "control");
	free(tok);
	kc_keyset_free(ks);
}

/* Warnings about secrets never carry the secret. */
Test(weak_keys, warning_does_not_leak_the_secret)
{
	const char *k = "c2VjcmV0LXNlY3JldC1zZWNyZXQ"; /* 20 bytes: too short */
	json_t *set = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "keys", "kty", "oct", "kid", "k",
	    "alg", "HS256", "k", k);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	struct warns w = { 0 };
	int n = 0;
	kc_keyset *ks = load_jwks(text, &n, &w);
	cr_expect_eq(n, 0);
	cr_expect_geq(w.n, 1);
	cr_expect_null(strstr(w.all, k), "warning quotes k: %s", w.all);
	cr_expect_null(strstr(w.all, "secret-secret"), "warning quotes the secret: %s", w.all);
	kc_keyset_free(ks);
	free(text);
}

/* A JWKS that holds public keys must not carry secrets: the oct key is
 * refused, the public key loads, and a token keyed with the secret fails. */
Test(weak_keys, symmetric_key_in_public_jwks)
{
	char err[256] = "";
	kc_signer *es = kc_signer_generate(KC_ALG_ES256, "ec", err, sizeof err);
	cr_assert_not_null(es, "%s", err);
	unsigned char secret[32];
	memset(secret, 0x33, sizeof secret);
	char *k = kc_b64url_encode_alloc(secret, sizeof secret);
	json_t *set = json_pack("{s:[o,{s:s,s:s,s:s,s:s}]}", "keys", kc_signer_public_jwk(es),
	    "kty", "oct", "kid", "mac", "alg", "HS256", "k", k);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	struct warns w = { 0 };
	int n = 0;
	kc_keyset *ks = load_jwks(text, &n, &w);
	cr_expect_eq(n, 1);
	cr_expect_eq(kc_key_type(kc_keyset_get(ks, 0)), KC_KEY_EC_P256);
	cr_expect_geq(w.n, 1);
	char *tok = hs_token(KC_ALG_HS256, secret, sizeof secret, "{\"alg\":\"HS256\",\"kid\":\"mac\"}");
	cr_expect_neq(kct_jws(ks, tok), KC_TOK_OK);
	kc_arena *a = kc_arena_new(4096);
	kc_jws_opts opts = { .algs = KC_ALG_ALL };
	kc_jws out;
	cr_expect_eq(kc_jws_verify(ks, tok, strlen(tok), &opts, a, &out), KC_TOK_KEY_NOT_FOUND);
	kc_arena_free(a);
	free(tok);
	kc_keyset_free(ks);
	free(text);
	free(k);
	kc_signer_free(es);
}

/* ---- EC and OKP --------------------------------------------------------- */

static json_t *
ec_jwk(kc_alg alg)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, "ec", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	json_t *j = kc_signer_public_jwk(s);
	kc_signer_free(s);
	cr_assert_not_null(j);
	return j;
}

/* Replaces member name of jwk by the base64url of bytes. */
static void
set_b64(json_t *jwk, const char *name, const unsigned char *bytes, size_t len)
{
	char *v = kc_b64url_encode_alloc(bytes, len);
	json_object_set_new(jwk, name, json_string(v));
	free(v);
}

static size_t
get_b64(const json_t *jwk, const char *name, unsigned char *out)
{
	const char *v = json_string_value(json_object_get(jwk, name));
	cr_assert_not_null(v, "%s", name);
	size_t len = 0;
	cr_assert(kc_b64url_decode(v, strlen(v), out, &len), "%s", name);
	return len;
}

Test(weak_keys, ec_invalid_points)
{
	unsigned char x[80], y[80], buf[80];
	json_t *good = ec_jwk(KC_ALG_ES256);
	cr_expect_eq(load_one(json_deep_copy(good), "valid P-256 key"), 1, "control");
	size_t xl = get_b64(good, "x", x), yl = get_b64(good, "y", y);
	cr_assert(xl == 32 && yl == 32);

	json_t *j = json_deep_copy(good);
	memcpy(buf, y, 32);
	buf[31] ^= 1;
	set_b64(j, "y", buf, 32);
	cr_expect_eq(load_one(j, "y changed"), 0, "point off the curve");

	j = json_deep_copy(good);
	memcpy(buf, x, 32);
	buf[0] ^= 0x80;
	set_b64(j, "x", buf, 32);
	cr_expect_eq(load_one(j, "x changed"), 0, "point off the curve");

	j = json_deep_copy(good);
	memset(buf, 0, 32);
	set_b64(j, "x", buf, 32);
	set_b64(j, "y", buf, 32);
	cr_expect_eq(load_one(j, "(0,0)"), 0, "(0, 0)");

	/* Coordinates of the wrong length (RFC 7518 §6.2.1.2: exactly the
	 * field size), even when the value is the same. */
	j = json_deep_copy(good);
	buf[0] = 0;
	memcpy(buf + 1, x, 32);
	set_b64(j, "x", buf, 33);
	cr_expect_eq(load_one(j, "x of 33 bytes"), 0, "x with a leading zero");
	j = json_deep_copy(good);
	set_b64(j, "x", x + 1, 31);
	cr_expect_eq(load_one(j, "x of 31 bytes"), 0, "x short");

	/* x = p, the field prime: out of range. */
	static const unsigned char p256[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff,
	};
	j = json_deep_copy(good);
	set_b64(j, "x", p256, 32);
	cr_expect_eq(load_one(j, "x = p"), 0, "x = p");

	/* Missing y; a P-384 point labelled P-256; unknown curves. */
	j = json_deep_copy(good);
	json_object_del(j, "y");
	cr_expect_eq(load_one(j, "no y"), 0);
	json_t *p384 = ec_jwk(KC_ALG_ES384);
	json_object_set_new(p384, "crv", json_string("P-256"));
	json_object_del(p384, "alg");
	cr_expect_eq(load_one(p384, "P-384 point as P-256"), 0);
	const char *crvs[] = { "P-256K", "secp256k1", "P-224", "p-256", "" };
	for (size_t i = 0; i < sizeof crvs / sizeof crvs[0]; i++) {
		j = json_deep_copy(good);
		json_object_del(j, "alg");
		json_object_set_new(j, "crv", json_string(crvs[i]));
		cr_expect_eq(load_one(j, crvs[i]), 0, "crv \"%s\"", crvs[i]);
	}
	json_decref(good);
}

/* "use" and "key_ops" (RFC 7517 §4.2, §4.3). */
Test(weak_keys, use_and_key_ops)
{
	json_t *good = ec_jwk(KC_ALG_ES256);
	struct { const char *json; int want; } cases[] = {
		{ "{\"use\":\"enc\"}", 0 },
		{ "{\"use\":\"sig\"}", 1 },
		{ "{\"key_ops\":[\"sign\"]}", 0 },
		{ "{\"key_ops\":[\"encrypt\"]}", 0 },
		{ "{\"key_ops\":[\"encrypt\",\"wrapKey\"]}", 0 },
		{ "{\"key_ops\":[]}", 0 },
		{ "{\"key_ops\":[\"verify\"]}", 1 },
		{ "{\"key_ops\":[\"sign\",\"verify\"]}", 1 },
		{ "{\"use\":\"enc\",\"key_ops\":[\"verify\"]}", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_deep_copy(good);
		json_object_del(j, "use");
		json_t *extra = json_loads(cases[i].json, 0, NULL);
		cr_assert_not_null(extra);
		json_object_update(j, extra);
		json_decref(extra);
		cr_expect_eq(load_one(j, cases[i].json), cases[i].want, "%s", cases[i].json);
	}
	/* Wycheproof's own: an RSA encryption key (use enc, alg RSA1_5). */
	json_t *rsa = rsa_jwk("keys/rsa-2048.pub.pem", NULL, "k");
	json_object_set_new(rsa, "use", json_string("enc"));
	json_object_set_new(rsa, "alg", json_string("RSA1_5"));
	cr_expect_eq(load_one(rsa, "RSA1_5 enc key"), 0);
	json_decref(good);
}

/* An alg that does not fit the key type or curve, or is no JWS alg. */
Test(weak_keys, alg_not_fitting_the_key)
{
	json_t *ec = ec_jwk(KC_ALG_ES256);
	json_t *ed = ec_jwk(KC_ALG_EDDSA);
	cr_expect_eq(load_one(json_deep_copy(ed), "Ed25519"), 1, "control");
	const char *ec_algs[] = { "ES384", "ES512", "RS256", "HS256", "EdDSA", "ES521", "none",
		"ECDH-ES", "es256" };
	for (size_t i = 0; i < sizeof ec_algs / sizeof ec_algs[0]; i++) {
		json_t *j = json_deep_copy(ec);
		json_object_set_new(j, "alg", json_string(ec_algs[i]));
		cr_expect_eq(load_one(j, ec_algs[i]), 0, "P-256 key with alg %s", ec_algs[i]);
	}
	const char *rsa_algs[] = { "HS256", "ES256", "none", "RSA-OAEP" };
	for (size_t i = 0; i < sizeof rsa_algs / sizeof rsa_algs[0]; i++) {
		json_t *j = rsa_jwk("keys/rsa-2048.pub.pem", NULL, "k");
		json_object_set_new(j, "alg", json_string(rsa_algs[i]));
		cr_expect_eq(load_one(j, rsa_algs[i]), 0, "RSA key with alg %s", rsa_algs[i]);
	}
	unsigned char secret[64];
	memset(secret, 9, sizeof secret);
	char *k = kc_b64url_encode_alloc(secret, sizeof secret);
	const char *oct_algs[] = { "RS256", "ES256", "A256GCM", "A256KW", "none" };
	for (size_t i = 0; i < sizeof oct_algs / sizeof oct_algs[0]; i++)
		cr_expect_eq(load_one(json_pack("{s:s,s:s,s:s}", "kty", "oct", "k", k, "alg",
		    oct_algs[i]), oct_algs[i]), 0, "oct key with alg %s", oct_algs[i]);
	free(k);
	json_t *j = json_deep_copy(ed);
	json_object_set_new(j, "alg", json_string("ES256"));
	cr_expect_eq(load_one(j, "Ed25519 as ES256"), 0);
	json_decref(ec);
	json_decref(ed);
}

Test(weak_keys, unknown_kty_or_curve)
{
	json_t *ed = ec_jwk(KC_ALG_EDDSA);
	json_t *j = json_deep_copy(ed);
	json_object_set_new(j, "crv", json_string("X25519"));
	json_object_del(j, "alg");
	cr_expect_eq(load_one(j, "X25519"), 0, "X25519 is for key agreement");
	j = json_deep_copy(ed);
	json_object_set_new(j, "crv", json_string("Ed448"));
	json_object_del(j, "alg");
	cr_expect_eq(load_one(j, "Ed448 with a 32-byte x"), 0);
	j = json_deep_copy(ed);
	json_object_set_new(j, "kty", json_string("foo"));
	cr_expect_eq(load_one(j, "kty foo"), 0);
	j = json_deep_copy(ed);
	json_object_del(j, "kty");
	cr_expect_eq(load_one(j, "no kty"), 0);
	/* kty RSA with EC members (Wycheproof key-set tc24). */
	json_t *ec = ec_jwk(KC_ALG_ES256);
	json_object_set_new(ec, "kty", json_string("RSA"));
	cr_expect_eq(load_one(ec, "kty RSA, EC members"), 0);
	json_decref(ed);
}
