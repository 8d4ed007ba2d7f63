/* test_alg_confusion.c: algorithm confusion (RFC 8725 §2.1, §3.1).
 *
 * The classic one (CVE-2016-10555, CVE-2016-5431, CVE-2022-29217): the
 * verifier holds an RSA public key and lets the token choose the algorithm.
 * The attacker, who can read the public key like anyone, writes "alg":"HS256"
 * and computes an HMAC with the public key's bytes (its PEM, its DER, its JWK
 * text) as the secret; a verifier that passes "the key" to HMAC accepts it.
 * In keycard an algorithm is only ever tried with a key of its own type
 * (alg.h), so this must fail by construction: the RSA key does not accept any
 * HS algorithm, the default allow-list (what the keys can verify) leaves HS*
 * out, and even with every algorithm allowed no key is found.
 *
 * The same holds between asymmetric families (an ES header over an RS key,
 * RS vs PS padding), for a key pinned to one algorithm by its JWK "alg"
 * (RFC 7517 §4.4), and for the caller's allow-list. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../common/testutil.h"
#include "token/alg.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *
rsa_signer(kc_alg alg, const char *kid)
{
	char err[256] = "";
	kc_signer *s = kc_signer_load_file(kct_data_path("keys/rsa-2048.key.pem"), alg, kid,
	    err, sizeof err);
	cr_assert_not_null(s, "kc_signer_load_file: %s", err);
	cr_assert_eq(kc_signer_alg(s), alg);
	return s;
}

static kc_signer *
gen_signer(kc_alg alg, const char *kid)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, kid, err, sizeof err);
	cr_assert_not_null(s, "kc_signer_generate: %s", err);
	return s;
}

/* The RSA public key from its PEM file, no kid, no alg: accepts every RSA alg. */
static kc_keyset *
rsa_keyset_unpinned(const char *kid)
{
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	int n = kc_keyset_load_pem_file(ks, kct_data_path("keys/rsa-2048.pub.pem"), kid, NULL,
	    NULL, NULL, err, sizeof err);
	cr_assert_eq(n, 1, "load pem: %s", err);
	return ks;
}

static kc_token_reason
verify_algs(const kc_keyset *ks, const char *tok, kc_alg_set algs)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	kc_jws_opts opts = { .algs = algs };
	kc_jws out;
	kc_token_reason r = kc_jws_verify(ks, tok, strlen(tok), &opts, a, &out);
	kc_arena_free(a);
	return r;
}

/* header.payload.HMAC(secret, header.payload), built by hand. */
static char *
hs_forge(kc_alg alg, const void *secret, size_t n, const char *hdr, const char *payload)
{
	const EVP_MD *md = alg == KC_ALG_HS256 ? EVP_sha256()
	    : alg == KC_ALG_HS384 ? EVP_sha384() : EVP_sha512();
	char *h = kc_b64url_encode_alloc((const unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)payload, strlen(payload));
	cr_assert(h && p);
	size_t inlen = strlen(h) + 1 + strlen(p);
	char *input = malloc(inlen + 1);
	snprintf(input, inlen + 1, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	cr_assert_not_null(HMAC(md, secret, (int)n, (unsigned char *)input, inlen, mac, &maclen));
	char *s = kc_b64url_encode_alloc(mac, maclen);
	char *tok = malloc(inlen + 2 + strlen(s));
	sprintf(tok, "%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(s);
	return tok;
}

struct secret {
	const char *what;
	unsigned char *bytes;
	size_t len;
	bool ossl;          /* allocated by OpenSSL */
};

/* Every form of the public key an attacker could use as the HMAC secret. */
static size_t
public_key_forms(struct secret *out, const kc_signer *rs)
{
	size_t k = 0, len = 0;
	char *pem = kct_data_read("keys/rsa-2048.pub.pem", &len);
	out[k++] = (struct secret){ "PEM file bytes", (unsigned char *)pem, len, false };
	unsigned char *trimmed = malloc(len);
	memcpy(trimmed, pem, len);
	while (len > 0 && (trimmed[len - 1] == '\n' || trimmed[len - 1] == '\r'))
		len--;
	out[k++] = (struct secret){ "PEM without final newline", trimmed, len, false };

	char *rsapub = kct_data_read("keys/rsa-2048.rsapub.pem", &len);
	out[k++] = (struct secret){ "PKCS#1 PEM bytes", (unsigned char *)rsapub, len, false };

	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	cr_assert_not_null(pk);
	unsigned char *der = NULL;
	int dlen = i2d_PUBKEY(pk, &der);
	cr_assert_gt(dlen, 0);
	out[k++] = (struct secret){ "SubjectPublicKeyInfo DER", der, (size_t)dlen, true };
	unsigned char *der1 = NULL;
	int d1len = i2d_PublicKey(pk, &der1);
	cr_assert_gt(d1len, 0);
	out[k++] = (struct secret){ "PKCS#1 DER", der1, (size_t)d1len, true };
	EVP_PKEY_free(pk);

	json_t *jwk = kc_signer_public_jwk(rs);
	cr_assert_not_null(jwk);
	char *jtext = json_dumps(jwk, JSON_COMPACT);
	out[k++] = (struct secret){ "public JWK text", (unsigned char *)jtext, strlen(jtext),
		false };
	const char *n64 = json_string_value(json_object_get(jwk, "n"));
	cr_assert_not_null(n64);
	char *ncopy = strdup(n64);
	out[k++] = (struct secret){ "JWK n member (base64url text)", (unsigned char *)ncopy,
		strlen(ncopy), false };
	size_t nlen = 0;
	unsigned char *nraw = kc_b64url_decode_alloc(n64, strlen(n64), &nlen);
	cr_assert_not_null(nraw);
	out[k++] = (struct secret){ "modulus bytes", nraw, nlen, false };
	json_decref(jwk);
	return k;
}

static void
free_forms(struct secret *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].ossl)
			OPENSSL_free(s[i].bytes);
		else
			free(s[i].bytes);
	}
}

/* The key-level guarantee the token-level tests rest on. */
Test(alg_confusion, rsa_key_never_accepts_hmac)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, "rsa-1");
	kc_keyset *pinned = kct_keyset_of(rs);
	kc_keyset *free_rsa = rsa_keyset_unpinned(NULL);
	const kc_keyset *sets[] = { pinned, free_rsa };
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(kc_keyset_count(sets[i]), 1);
		const kc_key *k = kc_keyset_get(sets[i], 0);
		cr_expect_eq(kc_key_type(k), KC_KEY_RSA);
		cr_expect_not_null(kc_key_pkey(k));
		for (kc_alg a = KC_ALG_HS256; a <= KC_ALG_HS512; a++) {
			cr_expect_not(kc_key_accepts(k, a), "RSA key accepts %s", kc_alg_name(a));
			const kc_key *sel = NULL;
			cr_expect_eq(kc_keyset_select(sets[i], a, NULL, 0, &sel), KC_TOK_KEY_NOT_FOUND);
			cr_expect_eq(kc_keyset_select(sets[i], a, "rsa-1", 5, &sel),
			    KC_TOK_KEY_NOT_FOUND);
		}
		for (kc_alg a = KC_ALG_ES256; a <= KC_ALG_EDDSA; a++)
			cr_expect_not(kc_key_accepts(k, a), "RSA key accepts %s", kc_alg_name(a));
		cr_expect_eq(kc_keyset_algs(sets[i]) &
		    (KC_ALG_BIT(KC_ALG_HS256) | KC_ALG_BIT(KC_ALG_HS384) | KC_ALG_BIT(KC_ALG_HS512)),
		    0u);
	}
	/* The unpinned key takes every RSA algorithm, the pinned one only its own. */
	const kc_key *k = kc_keyset_get(free_rsa, 0);
	for (kc_alg a = KC_ALG_RS256; a <= KC_ALG_PS512; a++)
		cr_expect(kc_key_accepts(k, a), "%s", kc_alg_name(a));
	k = kc_keyset_get(pinned, 0);
	cr_expect_eq(kc_key_alg(k), KC_ALG_RS256);
	for (kc_alg a = KC_ALG_RS256; a <= KC_ALG_PS512; a++)
		cr_expect_eq(kc_key_accepts(k, a), a == KC_ALG_RS256, "%s", kc_alg_name(a));
	cr_expect_eq(kc_keyset_algs(pinned), KC_ALG_BIT(KC_ALG_RS256));
	kc_keyset_free(pinned);
	kc_keyset_free(free_rsa);
	kc_signer_free(rs);
}

Test(alg_confusion, hs_token_keyed_with_the_rsa_public_key)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, "rsa-1");
	kc_keyset *pinned = kct_keyset_of(rs);
	kc_keyset *free_rsa = rsa_keyset_unpinned(NULL);
	struct secret forms[16];
	size_t nforms = public_key_forms(forms, rs);

	for (size_t f = 0; f < nforms; f++)
		for (kc_alg a = KC_ALG_HS256; a <= KC_ALG_HS512; a++)
			for (size_t h = 0; h < 2; h++) {
				char hdr[64];
				if (h == 0)
					snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
					    kc_alg_name(a));
				else
					snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"rsa-1\"}",
					    kc_alg_name(a));
				char *tok = hs_forge(a, forms[f].bytes, forms[f].len, hdr, claims);
				const char *what = forms[f].what;
				cr_expect_eq(kct_jws(pinned, tok), KC_TOK_ALG_NOT_ALLOWED,
				    "%s, %s, pinned key, default algs", what, hdr);
				cr_expect_eq(kct_jws(free_rsa, tok), KC_TOK_ALG_NOT_ALLOWED,
				    "%s, %s, unpinned key, default algs", what, hdr);
				/* A careless allow-list does not reopen the hole. */
				cr_expect_eq(verify_algs(pinned, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND,
				    "%s, %s, pinned key, all algs", what, hdr);
				cr_expect_eq(verify_algs(free_rsa, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND,
				    "%s, %s, unpinned key, all algs", what, hdr);
				cr_expect_eq(verify_algs(free_rsa, tok, KC_ALG_BIT(a)),
				    KC_TOK_KEY_NOT_FOUND, "%s, %s, unpinned key, only HS allowed", what,
				    hdr);
				cr_expect_eq(kct_jwt(rsa_keyset_unpinned(NULL), NULL, tok, 1000),
				    KC_TOK_ALG_NOT_ALLOWED, "%s, %s, JWT verifier", what, hdr);
				free(tok);
			}
	free_forms(forms, nforms);
	kc_keyset_free(pinned);
	kc_keyset_free(free_rsa);
	kc_signer_free(rs);
}

/* A key set holding the RSA key and, under another kid, a real HMAC secret:
 * the HS token made with the RSA key's bytes must reach neither key. */
Test(alg_confusion, rsa_and_hmac_keys_side_by_side)
{
	kc_keyset *ks = rsa_keyset_unpinned("rsa-1");
	unsigned char secret[32];
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (unsigned char)(0x5a ^ i);
	char err[256] = "";
	cr_assert_eq(kc_keyset_add_secret(ks, secret, sizeof secret, "hmac", "HS256", NULL, NULL,
	    err, sizeof err), 1, "%s", err);
	size_t len = 0;
	char *pem = kct_data_read("keys/rsa-2048.pub.pem", &len);

	char *tok = hs_forge(KC_ALG_HS256, pem, len, "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND, "kid of the RSA key");
	free(tok);
	tok = hs_forge(KC_ALG_HS256, pem, len, "{\"alg\":\"HS256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "no kid: the HMAC key, wrong MAC");
	free(tok);
	tok = hs_forge(KC_ALG_HS256, pem, len, "{\"alg\":\"HS256\",\"kid\":\"hmac\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "kid of the HMAC key, wrong MAC");
	free(tok);
	/* Control: the real secret works, so the failures above are the attack's. */
	tok = hs_forge(KC_ALG_HS256, secret, sizeof secret, "{\"alg\":\"HS256\",\"kid\":\"hmac\"}",
	    claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	free(pem);
	kc_keyset_free(ks);
}

/* ES header over an RSA signature and the reverse, with one key of each
 * type in the set. */
Test(alg_confusion, es_rs_mismatch)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, "rsa-1");
	kc_signer *es = gen_signer(KC_ALG_ES256, "ec-1");
	json_t *a = kc_signer_public_jwk(rs), *b = kc_signer_public_jwk(es);
	json_t *set = json_pack("{s:[o,o]}", "keys", a, b);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	kc_keyset *ks = kct_keyset_from_json(text);
	free(text);
	cr_assert_eq(kc_keyset_count(ks), 2);

	struct { const kc_signer *s; const char *hdr; kc_token_reason want; } cases[] = {
		{ rs, "{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", KC_TOK_KEY_NOT_FOUND },
		{ rs, "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", KC_TOK_BAD_SIGNATURE },
		{ rs, "{\"alg\":\"ES256\"}", KC_TOK_BAD_SIGNATURE },
		{ es, "{\"alg\":\"RS256\",\"kid\":\"ec-1\"}", KC_TOK_KEY_NOT_FOUND },
		{ es, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", KC_TOK_BAD_SIGNATURE },
		{ es, "{\"alg\":\"RS256\"}", KC_TOK_BAD_SIGNATURE },
		/* Algorithms no key here is pinned to. */
		{ es, "{\"alg\":\"ES384\"}", KC_TOK_ALG_NOT_ALLOWED },
		{ rs, "{\"alg\":\"PS256\"}", KC_TOK_ALG_NOT_ALLOWED },
		/* Controls. */
		{ rs, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", KC_TOK_OK },
		{ es, "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", KC_TOK_OK },
		{ rs, "{\"alg\":\"RS256\"}", KC_TOK_OK },
		{ es, "{\"alg\":\"ES256\"}", KC_TOK_OK },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *tok = kct_sign_raw(cases[i].s, cases[i].hdr, claims);
		kc_token_reason r = kct_jws(ks, tok);
		cr_expect_eq(r, cases[i].want, "%s signed by %s: want %s, got %s", cases[i].hdr,
		    kc_alg_name(kc_signer_alg(cases[i].s)), kc_token_reason_name(cases[i].want),
		    kc_token_reason_name(r));
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(rs);
	kc_signer_free(es);
}

/* RS and PS share the key type; the padding must still match the header. */
Test(alg_confusion, rs_ps_padding_confusion)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, NULL);
	kc_signer *ps = rsa_signer(KC_ALG_PS256, NULL);
	kc_keyset *ks = rsa_keyset_unpinned(NULL);

	char *tok = kct_sign_raw(rs, "{\"alg\":\"PS256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "PKCS#1 v1.5 signature as PS256");
	free(tok);
	tok = kct_sign_raw(ps, "{\"alg\":\"RS256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "PSS signature as RS256");
	free(tok);
	tok = kct_sign_raw(rs, "{\"alg\":\"RS384\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "RS256 signature as RS384");
	free(tok);
	tok = kct_sign_raw(ps, "{\"alg\":\"PS512\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "PS256 signature as PS512");
	free(tok);
	/* Controls. */
	tok = kct_sign_raw(rs, "{\"alg\":\"RS256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	tok = kct_sign_raw(ps, "{\"alg\":\"PS256\"}", claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(rs);
	kc_signer_free(ps);
}

/* A JWK's "alg" pins the key: a correct PS256 signature by the same RSA key
 * is refused when the key says RS256, and accepted when it says nothing. */
Test(alg_confusion, key_pinned_alg)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, "rsa-1");
	kc_signer *ps = rsa_signer(KC_ALG_PS256, "rsa-1");
	kc_keyset *pinned = kct_keyset_of(rs);
	cr_assert_eq(kc_key_alg(kc_keyset_get(pinned, 0)), KC_ALG_RS256);

	json_t *jwk = kc_signer_public_jwk(rs);
	json_object_del(jwk, "alg");
	json_t *set = json_pack("{s:[o]}", "keys", jwk);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	kc_keyset *unpinned = kct_keyset_from_json(text);
	free(text);
	cr_assert_eq(kc_key_alg(kc_keyset_get(unpinned, 0)), KC_ALG_UNKNOWN);

	char *tok = kct_sign_raw(ps, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", claims);
	cr_expect_eq(kct_jws(unpinned, tok), KC_TOK_OK, "control: the PS256 signature is good");
	cr_expect_eq(kct_jws(pinned, tok), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(verify_algs(pinned, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND);
	free(tok);

	tok = kct_sign_raw(rs, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", claims);
	cr_expect_eq(kct_jws(pinned, tok), KC_TOK_OK);
	cr_expect_eq(kct_jws(unpinned, tok), KC_TOK_OK);
	free(tok);

	/* Pinned through the PEM loader's alg argument as well. */
	kc_keyset *pem_pinned = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_pem_file(pem_pinned, kct_data_path("keys/rsa-2048.pub.pem"),
	    "rsa-1", "RS256", NULL, NULL, err, sizeof err), 1, "%s", err);
	tok = kct_sign_raw(ps, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", claims);
	cr_expect_eq(verify_algs(pem_pinned, tok, KC_ALG_ALL), KC_TOK_KEY_NOT_FOUND);
	free(tok);

	kc_keyset_free(pem_pinned);
	kc_keyset_free(pinned);
	kc_keyset_free(unpinned);
	kc_signer_free(rs);
	kc_signer_free(ps);
}

/* The caller's allow-list is applied before any key is looked at. */
Test(alg_confusion, allow_list)
{
	kc_signer *rs = rsa_signer(KC_ALG_RS256, NULL);
	kc_signer *ps = rsa_signer(KC_ALG_PS256, NULL);
	kc_signer *r5 = rsa_signer(KC_ALG_RS512, NULL);
	kc_keyset *ks = rsa_keyset_unpinned(NULL);
	char *t_rs = kct_sign(rs, claims), *t_ps = kct_sign(ps, claims), *t_r5 = kct_sign(r5, claims);

	cr_expect_eq(kct_jws(ks, t_rs), KC_TOK_OK);
	cr_expect_eq(kct_jws(ks, t_ps), KC_TOK_OK);
	cr_expect_eq(kct_jws(ks, t_r5), KC_TOK_OK);

	kc_alg_set only_rs256 = KC_ALG_BIT(KC_ALG_RS256);
	cr_expect_eq(verify_algs(ks, t_rs, only_rs256), KC_TOK_OK);
	cr_expect_eq(verify_algs(ks, t_ps, only_rs256), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(verify_algs(ks, t_r5, only_rs256), KC_TOK_ALG_NOT_ALLOWED);

	kc_alg_set pss = KC_ALG_BIT(KC_ALG_PS256) | KC_ALG_BIT(KC_ALG_PS384) |
	    KC_ALG_BIT(KC_ALG_PS512);
	cr_expect_eq(verify_algs(ks, t_rs, pss), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(verify_algs(ks, t_ps, pss), KC_TOK_OK);

	/* An allow-list of algorithms no key can verify admits nothing. */
	cr_expect_eq(verify_algs(ks, t_rs, KC_ALG_BIT(KC_ALG_ES256)), KC_TOK_ALG_NOT_ALLOWED);

	kc_verifier_opts vo = { .jws = { .algs = only_rs256 } };
	cr_expect_eq(kct_jwt(rsa_keyset_unpinned(NULL), &vo, t_ps, 1000), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(kct_jwt(rsa_keyset_unpinned(NULL), &vo, t_rs, 1000), KC_TOK_OK);

	free(t_rs);
	free(t_ps);
	free(t_r5);
	kc_keyset_free(ks);
	kc_signer_free(rs);
	kc_signer_free(ps);
	kc_signer_free(r5);
}
