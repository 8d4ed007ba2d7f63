/* test_ecdsa_der.c: ECDSA signature encoding (RFC 7518 §3.4).
 *
 * A JWS ECDSA signature is the raw concatenation R || S, each left-padded to
 * the size of the curve (32, 48, 66 bytes); OpenSSL, like most libraries,
 * produces and checks the ASN.1 DER form SEQUENCE { INTEGER r, INTEGER s }.
 * Verifiers that hand the token's bytes to such an API unchanged accept DER
 * signatures (and with them every BER/DER malleability and parser bug), and
 * verifiers that convert sloppily accept truncated or padded values, or
 * values of the wrong length decoded "by luck". keycard accepts exactly
 * 2 x curve size bytes of raw R || S and refuses anything else as
 * KC_TOK_BAD_SIGNATURE. The DER signatures here are genuinely valid (OpenSSL
 * verifies them against the same key and input), so only the encoding is
 * wrong. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

struct curve {
	kc_alg alg;
	const char *alg_name;
	size_t len;
	const char *md;
};

static const struct curve curves[] = {
	{ KC_ALG_ES256, "ES256", 32, "SHA256" },
	{ KC_ALG_ES384, "ES384", 48, "SHA384" },
	{ KC_ALG_ES512, "ES512", 66, "SHA512" },
};

struct fixture {
	const struct curve *c;
	kc_signer *signer;
	kc_keyset *ks;
	char *input;
	unsigned char raw[132];
};

static void
fixture_init(struct fixture *f, const struct curve *c)
{
	char err[256] = "";
	f->c = c;
	f->signer = kc_signer_generate(c->alg, "ec", err, sizeof err);
	cr_assert_not_null(f->signer, "%s", err);
	f->ks = kct_keyset_of(f->signer);
	char hdr[64];
	snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"ec\"}", c->alg_name);
	char *h = kc_b64url_encode_alloc((unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	f->input = malloc(strlen(h) + strlen(p) + 2);
	sprintf(f->input, "%s.%s", h, p);
	free(h);
	free(p);
	size_t siglen = 0;
	unsigned char *sig = kc_signer_sign_bytes(f->signer, (unsigned char *)f->input,
	    strlen(f->input), &siglen);
	cr_assert_not_null(sig);
	cr_assert_eq(siglen, 2 * c->len);
	memcpy(f->raw, sig, siglen);
	free(sig);
}

static void
fixture_fini(struct fixture *f)
{
	kc_keyset_free(f->ks);
	kc_signer_free(f->signer);
	free(f->input);
}

static kc_token_reason
verify_sig(const struct fixture *f, const unsigned char *sig, size_t len)
{
	char *b = kc_b64url_encode_alloc(sig, len);
	char *t = malloc(strlen(f->input) + strlen(b) + 2);
	sprintf(t, "%s.%s", f->input, b);
	kc_token_reason r = kct_jws(f->ks, t);
	free(t);
	free(b);
	return r;
}

/* DER SEQUENCE { r, s } of the raw signature; caller OPENSSL_free()s. */
static unsigned char *
to_der(const struct fixture *f, int *len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(f->raw, (int)f->c->len, NULL);
	BIGNUM *s = BN_bin2bn(f->raw + f->c->len, (int)f->c->len, NULL);
	cr_assert(es && r && s);
	cr_assert(ECDSA_SIG_set0(es, r, s));
	unsigned char *der = NULL;
	*len = i2d_ECDSA_SIG(es, &der);
	cr_assert_gt(*len, 0);
	ECDSA_SIG_free(es);
	return der;
}

/* OpenSSL's own verdict on a DER signature over the input with the key. */
static bool
openssl_verifies_der(const struct fixture *f, const unsigned char *der, size_t len)
{
	EVP_PKEY *pk = kc_key_pkey(kc_keyset_get(f->ks, 0));
	cr_assert_not_null(pk);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	cr_assert(EVP_DigestVerifyInit_ex(ctx, NULL, f->c->md, NULL, NULL, pk, NULL) == 1);
	int ok = EVP_DigestVerify(ctx, der, len, (unsigned char *)f->input, strlen(f->input));
	EVP_MD_CTX_free(ctx);
	return ok == 1;
}

static void
run_der(const struct curve *c)
{
	struct fixture f;
	fixture_init(&f, c);
	cr_assert_eq(verify_sig(&f, f.raw, 2 * c->len), KC_TOK_OK, "%s control", c->alg_name);

	int dlen = 0;
	unsigned char *der = to_der(&f, &dlen);
	cr_assert(openssl_verifies_der(&f, der, (size_t)dlen),
	    "%s: the DER form is a valid signature for OpenSSL", c->alg_name);
	cr_assert_eq(der[0], 0x30, "a DER SEQUENCE");
	cr_expect_eq(verify_sig(&f, der, (size_t)dlen), KC_TOK_BAD_SIGNATURE,
	    "%s: DER signature of %d bytes", c->alg_name, dlen);
	const kc_key *k = kc_keyset_get(f.ks, 0);
	cr_expect_eq(kc_key_verify(k, c->alg, (unsigned char *)f.input, strlen(f.input), der,
	    (size_t)dlen), KC_TOK_BAD_SIGNATURE, "%s: kc_key_verify with DER", c->alg_name);

	/* DER cut or padded to exactly 2 x curve size: still not R || S. */
	unsigned char buf[300];
	size_t want = 2 * c->len;
	memset(buf, 0, sizeof buf);
	memcpy(buf, der, (size_t)dlen < want ? (size_t)dlen : want);
	cr_expect_eq(verify_sig(&f, buf, want), KC_TOK_BAD_SIGNATURE,
	    "%s: DER fitted to the raw length", c->alg_name);
	OPENSSL_free(der);
	fixture_fini(&f);
}

static void
run_lengths(const struct curve *c)
{
	struct fixture f;
	fixture_init(&f, c);
	size_t L = c->len, n = 2 * L;
	unsigned char buf[300];

	cr_assert_eq(verify_sig(&f, f.raw, n), KC_TOK_OK, "%s control", c->alg_name);

	/* Truncated by one byte, at either end. */
	cr_expect_eq(verify_sig(&f, f.raw, n - 1), KC_TOK_BAD_SIGNATURE, "%s: last byte cut",
	    c->alg_name);
	cr_expect_eq(verify_sig(&f, f.raw + 1, n - 1), KC_TOK_BAD_SIGNATURE,
	    "%s: first byte cut", c->alg_name);
	/* One zero byte appended or prepended: same value for a lax decoder. */
	memcpy(buf, f.raw, n);
	buf[n] = 0;
	cr_expect_eq(verify_sig(&f, buf, n + 1), KC_TOK_BAD_SIGNATURE, "%s: trailing zero",
	    c->alg_name);
	buf[0] = 0;
	memcpy(buf + 1, f.raw, n);
	cr_expect_eq(verify_sig(&f, buf, n + 1), KC_TOK_BAD_SIGNATURE, "%s: leading zero",
	    c->alg_name);
	/* r and s each with an extra leading zero byte (2L + 2). */
	buf[0] = 0;
	memcpy(buf + 1, f.raw, L);
	buf[L + 1] = 0;
	memcpy(buf + L + 2, f.raw + L, L);
	cr_expect_eq(verify_sig(&f, buf, n + 2), KC_TOK_BAD_SIGNATURE, "%s: r and s padded",
	    c->alg_name);
	/* r and s each missing their first byte (2L - 2): for P-521 this is the
	 * classic 2 x 65 mistake of rounding 521 bits down. */
	memcpy(buf, f.raw + 1, L - 1);
	memcpy(buf + L - 1, f.raw + L + 1, L - 1);
	cr_expect_eq(verify_sig(&f, buf, n - 2), KC_TOK_BAD_SIGNATURE, "%s: r and s short",
	    c->alg_name);
	/* The signature twice, and half of it. */
	memcpy(buf, f.raw, n);
	memcpy(buf + n, f.raw, n);
	cr_expect_eq(verify_sig(&f, buf, 2 * n), KC_TOK_BAD_SIGNATURE, "%s: doubled",
	    c->alg_name);
	cr_expect_eq(verify_sig(&f, f.raw, L), KC_TOK_BAD_SIGNATURE, "%s: r only", c->alg_name);
	cr_expect_eq(verify_sig(&f, f.raw, 1), KC_TOK_BAD_SIGNATURE, "%s: one byte",
	    c->alg_name);
	/* The lengths of the other curves. */
	for (size_t i = 0; i < 3; i++) {
		if (curves[i].len == L)
			continue;
		memset(buf, 0, sizeof buf);
		memcpy(buf, f.raw, n < 2 * curves[i].len ? n : 2 * curves[i].len);
		cr_expect_eq(verify_sig(&f, buf, 2 * curves[i].len), KC_TOK_BAD_SIGNATURE,
		    "%s: signature of %s length", c->alg_name, curves[i].alg_name);
	}
	fixture_fini(&f);
}

Test(ecdsa_der, es256_der_refused)
{
	run_der(&curves[0]);
}

Test(ecdsa_der, es384_der_refused)
{
	run_der(&curves[1]);
}

Test(ecdsa_der, es512_der_refused)
{
	run_der(&curves[2]);
}

Test(ecdsa_der, es256_wrong_lengths)
{
	run_lengths(&curves[0]);
}

Test(ecdsa_der, es384_wrong_lengths)
{
	run_lengths(&curves[1]);
}

Test(ecdsa_der, es512_wrong_lengths)
{
	run_lengths(&curves[2]);
}

/* A DER signature from OpenSSL's own signing, not a re-encoding: the form a
 * verifier built on a DER API would produce, e.g. from `openssl dgst -sign`. */
Test(ecdsa_der, der_from_openssl_signing)
{
	char err[256] = "";
	kc_signer *s = kc_signer_load_file(kct_data_path("keys/ec-p256.key.pem"), KC_ALG_ES256,
	    "ec", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	kc_keyset *ks = kct_keyset_of(s);
	size_t len = 0;
	char *pem = kct_data_read("keys/ec-p256.key.pem", &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *priv = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	cr_assert_not_null(priv);

	const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"ec\"}";
	char *h = kc_b64url_encode_alloc((const unsigned char *)hdr, strlen(hdr));
	char *p = kc_b64url_encode_alloc((const unsigned char *)claims, strlen(claims));
	char *input = malloc(strlen(h) + strlen(p) + 2);
	sprintf(input, "%s.%s", h, p);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	cr_assert(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, priv, NULL) == 1);
	unsigned char der[80];
	size_t dlen = sizeof der;
	cr_assert(EVP_DigestSign(ctx, der, &dlen, (unsigned char *)input, strlen(input)) == 1);
	EVP_MD_CTX_free(ctx);
	cr_assert_eq(der[0], 0x30);

	char *b = kc_b64url_encode_alloc(der, dlen);
	char *t = malloc(strlen(input) + strlen(b) + 2);
	sprintf(t, "%s.%s", input, b);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_BAD_SIGNATURE, "DER of %zu bytes", dlen);
	free(t);
	/* Control: the same key through keycard's signer verifies. */
	t = kct_sign_raw(s, hdr, claims);
	cr_expect_eq(kct_jws(ks, t), KC_TOK_OK);
	free(t);

	free(b);
	free(input);
	free(h);
	free(p);
	EVP_PKEY_free(priv);
	BIO_free(bio);
	free(pem);
	kc_keyset_free(ks);
	kc_signer_free(s);
}
