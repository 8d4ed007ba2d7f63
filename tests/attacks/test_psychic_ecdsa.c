/* test_psychic_ecdsa.c: "psychic signatures", CVE-2022-21449, and other
 * out-of-range ECDSA values (RFC 7518 §3.4, FIPS 186-4 §6.4.2).
 *
 * ECDSA verification must first check that r and s both lie in [1, n-1],
 * where n is the order of the curve. Java 15-18 skipped that check and its
 * arithmetic then accepted r = s = 0 as a valid signature of every message
 * under every key: a blank signature opened any ES256/384/512 token. The
 * same missing range check in other forms admits r or s equal to n (which is
 * 0 mod n), or r + n in place of r when the value is reduced mod n before
 * use (a second, forged encoding of a valid signature). keycard checks the
 * range itself (jwk.h: r and s in [1, n-1]) before OpenSSL verifies; every
 * value here must be refused as KC_TOK_BAD_SIGNATURE, never as an internal
 * failure, on all three curves. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "../common/testutil.h"
#include "token/b64url.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

struct curve {
	kc_alg alg;
	const char *alg_name;
	int nid;
	size_t len; /* bytes of r and of s */
};

static const struct curve curves[] = {
	{ KC_ALG_ES256, "ES256", NID_X9_62_prime256v1, 32 },
	{ KC_ALG_ES384, "ES384", NID_secp384r1, 48 },
	{ KC_ALG_ES512, "ES512", NID_secp521r1, 66 },
};

/* One curve's fixture: a key, the signing input of a token and its valid
 * signature, and the order n, all as fixed-size big-endian byte strings. */
struct fixture {
	const struct curve *c;
	kc_signer *signer;
	kc_keyset *ks;
	char *input;         /* header.payload */
	unsigned char r[66], s[66], n[66];
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
	cr_assert_eq(siglen, 2 * c->len, "raw R||S of twice the curve size");
	memcpy(f->r, sig, c->len);
	memcpy(f->s, sig + c->len, c->len);
	free(sig);

	EC_GROUP *g = EC_GROUP_new_by_curve_name(c->nid);
	cr_assert_not_null(g);
	cr_assert_eq(BN_bn2binpad(EC_GROUP_get0_order(g), f->n, (int)c->len), (int)c->len);
	EC_GROUP_free(g);
}

static void
fixture_fini(struct fixture *f)
{
	kc_keyset_free(f->ks);
	kc_signer_free(f->signer);
	free(f->input);
}

/* input.base64url(r || s) */
static char *
token(const struct fixture *f, const unsigned char *r, const unsigned char *s)
{
	unsigned char sig[132];
	memcpy(sig, r, f->c->len);
	memcpy(sig + f->c->len, s, f->c->len);
	char *b = kc_b64url_encode_alloc(sig, 2 * f->c->len);
	char *t = malloc(strlen(f->input) + strlen(b) + 2);
	sprintf(t, "%s.%s", f->input, b);
	free(b);
	return t;
}

/* v = a + b (big-endian, len bytes); false if it does not fit. */
static bool
add_be(unsigned char *v, const unsigned char *a, const unsigned char *b, size_t len)
{
	unsigned carry = 0;
	for (size_t i = len; i-- > 0;) {
		unsigned t = (unsigned)a[i] + b[i] + carry;
		v[i] = (unsigned char)t;
		carry = t >> 8;
	}
	return carry == 0;
}

static void
set_small(unsigned char *v, size_t len, unsigned x)
{
	memset(v, 0, len);
	v[len - 1] = (unsigned char)x;
}

static void
expect_bad(const struct fixture *f, const unsigned char *r, const unsigned char *s,
    const char *what)
{
	char *t = token(f, r, s);
	kc_token_reason why = kct_jws(f->ks, t);
	cr_expect_eq(why, KC_TOK_BAD_SIGNATURE, "%s %s: got %s", f->c->alg_name, what,
	    kc_token_reason_name(why));
	free(t);
}

static void
run_curve(const struct curve *c)
{
	struct fixture f;
	fixture_init(&f, c);
	size_t L = c->len;
	unsigned char zero[66] = { 0 }, one[66], nm1[66], np1[66], ff[66], tmp[66];
	set_small(one, L, 1);
	/* n - 1: n is odd, so only its last byte changes. */
	memcpy(nm1, f.n, L);
	cr_assert(nm1[L - 1] & 1);
	nm1[L - 1] ^= 1;
	cr_assert(add_be(np1, f.n, one, L), "n + 1 fits");
	memset(ff, 0xff, L);

	/* Control: the untouched signature verifies. */
	char *t = token(&f, f.r, f.s);
	cr_assert_eq(kct_jws(f.ks, t), KC_TOK_OK, "%s control", c->alg_name);
	free(t);

	expect_bad(&f, zero, zero, "r = s = 0 (CVE-2022-21449)");
	expect_bad(&f, zero, f.s, "r = 0");
	expect_bad(&f, f.r, zero, "s = 0");
	expect_bad(&f, f.n, f.n, "r = s = n");
	expect_bad(&f, f.n, f.s, "r = n");
	expect_bad(&f, f.r, f.n, "s = n");
	expect_bad(&f, zero, f.n, "r = 0, s = n");
	expect_bad(&f, f.n, zero, "r = n, s = 0");
	expect_bad(&f, np1, f.s, "r = n + 1");
	expect_bad(&f, f.r, np1, "s = n + 1");
	expect_bad(&f, ff, f.s, "r = 2^k - 1");
	expect_bad(&f, f.r, ff, "s = 2^k - 1");
	expect_bad(&f, ff, ff, "r = s = 2^k - 1");
	expect_bad(&f, one, one, "r = s = 1");
	expect_bad(&f, nm1, nm1, "r = s = n - 1");
	expect_bad(&f, one, nm1, "r = 1, s = n - 1");
	expect_bad(&f, nm1, one, "r = n - 1, s = 1");

	/* r + n and s + n: equal to r and s mod n, so a verifier that reduces
	 * before checking the range accepts them. They fit in the encoding
	 * whenever r + n < 2^(8L): always for P-521, rarely otherwise. */
	int tried = 0;
	if (add_be(tmp, f.r, f.n, L)) {
		expect_bad(&f, tmp, f.s, "r + n");
		tried++;
	}
	if (add_be(tmp, f.s, f.n, L)) {
		expect_bad(&f, f.r, tmp, "s + n");
		tried++;
	}
	if (c->alg == KC_ALG_ES512)
		cr_expect_eq(tried, 2, "P-521: r + n and s + n always fit in 66 bytes");

	/* A one-bit change of a valid signature. */
	memcpy(tmp, f.s, L);
	tmp[L / 2] ^= 0x10;
	expect_bad(&f, f.r, tmp, "s with one bit flipped");

	/* The same through the key directly and through the JWT verifier. */
	unsigned char blank[132] = { 0 };
	const kc_key *k = kc_keyset_get(f.ks, 0);
	cr_expect_eq(kc_key_verify(k, c->alg, (unsigned char *)f.input, strlen(f.input), blank,
	    2 * L), KC_TOK_BAD_SIGNATURE, "%s kc_key_verify r = s = 0", c->alg_name);
	t = token(&f, zero, zero);
	cr_expect_eq(kct_jwt(kct_keyset_of(f.signer), NULL, t, 1000), KC_TOK_BAD_SIGNATURE,
	    "%s JWT r = s = 0", c->alg_name);
	free(t);
	fixture_fini(&f);
}

Test(psychic_ecdsa, es256)
{
	run_curve(&curves[0]);
}

Test(psychic_ecdsa, es384)
{
	run_curve(&curves[1]);
}

Test(psychic_ecdsa, es512)
{
	run_curve(&curves[2]);
}

/* The blank signature must not open a token on a key set that holds one key
 * of every curve and no kid in the token (the key is chosen by alg). */
Test(psychic_ecdsa, blank_signature_every_curve_one_keyset)
{
	char err[256] = "";
	json_t *set = json_pack("{s:[]}", "keys");
	kc_signer *s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = kc_signer_generate(curves[i].alg, curves[i].alg_name, err, sizeof err);
		cr_assert_not_null(s[i], "%s", err);
		json_array_append_new(json_object_get(set, "keys"), kc_signer_public_jwk(s[i]));
	}
	char *text = json_dumps(set, JSON_COMPACT);
	kc_keyset *ks = kct_keyset_from_json(text);
	cr_assert_eq(kc_keyset_count(ks), 3);
	for (int i = 0; i < 3; i++) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\"}", curves[i].alg_name);
		unsigned char blank[132] = { 0 };
		char *t = kct_forge(hdr, claims, blank, 2 * curves[i].len);
		cr_expect_eq(kct_jws(ks, t), KC_TOK_BAD_SIGNATURE, "%s", hdr);
		free(t);
		/* Control: a real token of that curve verifies in this key set. */
		t = kct_sign_raw(s[i], hdr, claims);
		cr_expect_eq(kct_jws(ks, t), KC_TOK_OK, "%s control", hdr);
		free(t);
		kc_signer_free(s[i]);
	}
	kc_keyset_free(ks);
	free(text);
	json_decref(set);
}
