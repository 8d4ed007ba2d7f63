/* test_embedded_jwk.c: keys carried by the token itself (RFC 8725 §3.10).
 *
 * A JWS header may name or carry a key: "jwk" (the public key itself), "jku"
 * (a URL of a JWK set), "x5u" (a URL of a certificate) and "x5c" (a
 * certificate chain), and "x5t"/"x5t#S256" (a thumbprint). Verifiers that
 * trusted them (CVE-2018-0114 in node-jose, and others for jku/x5u) accepted
 * any token the attacker signed with their own key and embedded or linked.
 * keycard finds keys only in its configured key set and never reads these
 * members. A token signed with an attacker key that carries, names or links
 * that key must be refused; a token signed with the configured key that also
 * carries these members verifies, with the configured key, as if they were
 * not there. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *legit, *attacker;
static char *attacker_jwk;      /* JSON text, kid "legit" like the real key */
static char *attacker_jwk_kid;  /* JSON text, kid "attacker" */
static char *attacker_x5c;      /* standard base64 DER of a self-signed cert */
static char *attacker_x5t;      /* base64url SHA-1 of that DER */
static char *attacker_x5t256;   /* base64url SHA-256 of that DER */

static char *
jwk_text(const kc_signer *s, const char *kid)
{
	json_t *j = kc_signer_public_jwk(s);
	cr_assert_not_null(j);
	json_object_set_new(j, "kid", json_string(kid));
	char *t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return t;
}

/* The attacker's key and its self-signed certificate: tests/data/keys/ec-p256. */
static void
setup(void)
{
	char err[256] = "";
	legit = kc_signer_generate(KC_ALG_ES256, "legit", err, sizeof err);
	cr_assert_not_null(legit, "%s", err);
	attacker = kc_signer_load_file(kct_data_path("keys/ec-p256.key.pem"), KC_ALG_ES256,
	    "legit", err, sizeof err);
	cr_assert_not_null(attacker, "%s", err);
	attacker_jwk = jwk_text(attacker, "legit");
	attacker_jwk_kid = jwk_text(attacker, "attacker");

	size_t len = 0;
	char *pem = kct_data_read("keys/ec-p256.crt.pem", &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *crt = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	cr_assert_not_null(crt);
	unsigned char *der = NULL;
	int dlen = i2d_X509(crt, &der);
	cr_assert_gt(dlen, 0);
	attacker_x5c = malloc(4 * ((size_t)dlen / 3 + 1) + 1);
	EVP_EncodeBlock((unsigned char *)attacker_x5c, der, dlen);
	unsigned char h1[SHA_DIGEST_LENGTH], h256[SHA256_DIGEST_LENGTH];
	SHA1(der, (size_t)dlen, h1);
	SHA256(der, (size_t)dlen, h256);
	attacker_x5t = kc_b64url_encode_alloc(h1, sizeof h1);
	attacker_x5t256 = kc_b64url_encode_alloc(h256, sizeof h256);
	OPENSSL_free(der);
	X509_free(crt);
	BIO_free(bio);
	free(pem);
}

static void
teardown(void)
{
	kc_signer_free(legit);
	kc_signer_free(attacker);
	free(attacker_jwk);
	free(attacker_jwk_kid);
	free(attacker_x5c);
	free(attacker_x5t);
	free(attacker_x5t256);
}

TestSuite(embedded_jwk, .init = setup, .fini = teardown);

/* The headers under test; built by header_build(). */
enum { H_JWK, H_JWK_KID, H_JKU, H_X5U, H_X5C, H_X5T, H_ALL, H__COUNT };

static char *
header_build(int which)
{
	char *h = malloc(8192);
	switch (which) {
	case H_JWK:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"jwk\":%s}", attacker_jwk);
		break;
	case H_JWK_KID:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"kid\":\"legit\",\"jwk\":%s}", attacker_jwk);
		break;
	case H_JKU:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"kid\":\"legit\","
		    "\"jku\":\"https://attacker.example/.well-known/jwks.json\"}");
		break;
	case H_X5U:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"kid\":\"legit\","
		    "\"x5u\":\"https://attacker.example/cert.pem\"}");
		break;
	case H_X5C:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"x5c\":[\"%s\"]}", attacker_x5c);
		break;
	case H_X5T:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"x5t\":\"%s\",\"x5t#S256\":\"%s\"}",
		    attacker_x5t, attacker_x5t256);
		break;
	default:
		snprintf(h, 8192, "{\"alg\":\"ES256\",\"kid\":\"legit\",\"jwk\":%s,"
		    "\"jku\":\"https://attacker.example/jwks\",\"x5u\":\"https://attacker.example/c\","
		    "\"x5c\":[\"%s\"],\"x5t#S256\":\"%s\"}", attacker_jwk, attacker_x5c,
		    attacker_x5t256);
		break;
	}
	return h;
}

static kc_token_reason
verify_out(const kc_keyset *ks, const char *tok, kc_alg_set algs, const kc_key **key)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	kc_jws_opts opts = { .algs = algs };
	kc_jws out;
	kc_token_reason r = kc_jws_verify(ks, tok, strlen(tok), &opts, a, &out);
	if (key != NULL)
		*key = out.key;
	kc_arena_free(a);
	return r;
}

/* Signed with the attacker's key, which the header carries or points to. */
Test(embedded_jwk, attacker_signed_is_refused)
{
	kc_keyset *ks = kct_keyset_of(legit);
	for (int w = 0; w < H__COUNT; w++) {
		char *hdr = header_build(w);
		char *tok = kct_sign_raw(attacker, hdr, claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_BAD_SIGNATURE, "%s", hdr);
		cr_expect_eq(kct_jwt(kct_keyset_of(legit), NULL, tok, 1000), KC_TOK_BAD_SIGNATURE,
		    "JWT: %s", hdr);
		free(tok);
		free(hdr);
	}
	kc_keyset_free(ks);
}

/* The embedded key under a kid of its own: no configured key has that kid. */
Test(embedded_jwk, embedded_key_with_its_own_kid)
{
	kc_keyset *ks = kct_keyset_of(legit);
	char hdr[4096];
	snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"attacker\",\"jwk\":%s}",
	    attacker_jwk_kid);
	char *tok = kct_sign_raw(attacker, hdr, claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	kc_keyset_free(ks);
}

/* With no configured key at all, a self-signed token with its key embedded
 * still has nothing to verify against. */
Test(embedded_jwk, empty_keyset)
{
	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	char *hdr = header_build(H_JWK);
	char *tok = kct_sign_raw(attacker, hdr, claims);
	kc_token_reason r = kct_jws(ks, tok);
	cr_expect_neq(r, KC_TOK_OK);
	cr_expect(r == KC_TOK_ALG_NOT_ALLOWED || r == KC_TOK_KEY_NOT_FOUND, "%s",
	    kc_token_reason_name(r));
	cr_expect_eq(verify_out(ks, tok, KC_ALG_ALL, NULL), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	free(hdr);
	kc_keyset_free(ks);
}

/* An embedded symmetric key: HS256 keyed with the secret the header hands
 * over. The configured key is ES256, so HS256 is not even allowed. */
Test(embedded_jwk, embedded_oct_key)
{
	kc_keyset *ks = kct_keyset_of(legit);
	unsigned char secret[32];
	memset(secret, 0x42, sizeof secret);
	char *k = kc_b64url_encode_alloc(secret, sizeof secret);
	char hdr[512];
	snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"kid\":\"legit\","
	    "\"jwk\":{\"kty\":\"oct\",\"kid\":\"legit\",\"k\":\"%s\"}}", k);
	char *h = kc_b64url_encode_alloc((unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	char *tok = malloc(strlen(h) + strlen(p) + 64);
	size_t inlen = (size_t)sprintf(tok, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	cr_assert_not_null(HMAC(EVP_sha256(), secret, sizeof secret, (unsigned char *)tok, inlen,
	    mac, &maclen));
	tok[inlen] = '.';
	kc_b64url_encode(mac, maclen, tok + inlen + 1);

	cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(verify_out(ks, tok, KC_ALG_ALL, NULL), KC_TOK_KEY_NOT_FOUND);
	free(tok);
	free(h);
	free(p);
	free(k);
	kc_keyset_free(ks);
}

/* An RSA key embedded, alg RS256: the key set has no RSA key. */
Test(embedded_jwk, embedded_rsa_key)
{
	char err[256] = "";
	kc_signer *rsa = kc_signer_load_file(kct_data_path("keys/rsa-2048.key.pem"), KC_ALG_RS256,
	    "legit", err, sizeof err);
	cr_assert_not_null(rsa, "%s", err);
	char *j = jwk_text(rsa, "legit");
	size_t n = strlen(j) + 64;
	char *hdr = malloc(n);
	snprintf(hdr, n, "{\"alg\":\"RS256\",\"kid\":\"legit\",\"jwk\":%s}", j);
	char *tok = kct_sign_raw(rsa, hdr, claims);
	kc_keyset *ks = kct_keyset_of(legit);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_ALG_NOT_ALLOWED);
	cr_expect_eq(verify_out(ks, tok, KC_ALG_ALL, NULL), KC_TOK_KEY_NOT_FOUND);
	kc_keyset_free(ks);
	free(tok);
	free(hdr);
	free(j);
	kc_signer_free(rsa);
}

/* Signed with the configured key: the members are ignored, and the key used
 * is the configured one, not the embedded one. */
Test(embedded_jwk, legit_signature_ignores_the_members)
{
	kc_keyset *ks = kct_keyset_of(legit);
	const kc_key *configured = kc_keyset_get(ks, 0);
	for (int w = 0; w < H__COUNT; w++) {
		char *hdr = header_build(w);
		char *tok = kct_sign_raw(legit, hdr, claims);
		const kc_key *used = NULL;
		cr_expect_eq(verify_out(ks, tok, 0, &used), KC_TOK_OK, "%s", hdr);
		cr_expect_eq(used, configured, "%s: key used is not the configured key", hdr);
		cr_expect_eq(kct_jwt(kct_keyset_of(legit), NULL, tok, 1000), KC_TOK_OK, "JWT: %s", hdr);
		free(tok);
		free(hdr);
	}
	kc_keyset_free(ks);
}
