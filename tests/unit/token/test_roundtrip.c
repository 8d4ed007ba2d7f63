/* test_roundtrip.c: guards signing against verification for every algorithm
 * (token/sign.h with token/jws.h): kc_signer_generate -> kc_signer_sign ->
 * kc_jws_verify with the signer's public key, the form and size of each
 * signature, the private and public JWKs (no private member ever leaks into
 * the public one), re-loading the private JWK from a file with
 * kc_signer_load_file, and loading PEM private keys from tests/data/keys.
 * Tokens of a signer must not verify with another key of the same type. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/testutil.h"
#include "token/b64url.h"
#include "token/jws.h"
#include "token/sign.h"

#define ASSERT_REASON(expr, want) do { \
	kc_token_reason r_ = (expr); \
	cr_assert_eq(r_, (want), "%s: got %s, want %s", #expr, \
	    kc_token_reason_name(r_), kc_token_reason_name(want)); \
} while (0)

static const char PAYLOAD[] = "{\"sub\":\"alice\",\"scope\":\"read\",\"n\":42}";

/* Expected raw signature size of each algorithm (RFC 7518 §3, RFC 8037). */
static size_t
sig_size(kc_alg alg)
{
	switch (kc_alg_keytype(alg)) {
	case KC_KEY_OCT: return kc_alg_hash_len(alg);
	case KC_KEY_RSA: return 256; /* RSA 2048 */
	case KC_KEY_EC_P256: return 64;
	case KC_KEY_EC_P384: return 96;
	case KC_KEY_EC_P521: return 132;
	case KC_KEY_ED25519: return 64;
	default: return 0;
	}
}

static const char *
kty_of(kc_alg alg)
{
	switch (kc_alg_keytype(alg)) {
	case KC_KEY_OCT: return "oct";
	case KC_KEY_RSA: return "RSA";
	case KC_KEY_ED25519: return "OKP";
	default: return "EC";
	}
}

static size_t
b64_member_len(const json_t *jwk, const char *name)
{
	const char *v = json_string_value(json_object_get(jwk, name));
	cr_assert_not_null(v, "member %s missing", name);
	size_t n = 0;
	unsigned char *raw = kc_b64url_decode_alloc(v, strlen(v), &n);
	cr_assert_not_null(raw, "member %s is not base64url", name);
	free(raw);
	return n;
}

static void
check_jwk_members(const json_t *jwk, kc_alg alg, const char *kid, bool private)
{
	const char *name = kc_alg_name(alg);
	cr_assert(json_is_object(jwk), "%s", name);
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "kty")), kty_of(alg), "%s", name);
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), kid, "%s", name);
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), name);
	cr_assert_str_eq(json_string_value(json_object_get(jwk, "use")), "sig", "%s", name);
	switch (kc_alg_keytype(alg)) {
	case KC_KEY_OCT:
		cr_assert_eq(b64_member_len(jwk, "k"), kc_alg_hash_len(alg),
		    "%s: the secret is the hash size", name);
		break;
	case KC_KEY_RSA:
		cr_assert_eq(b64_member_len(jwk, "n"), 256, "%s: RSA 2048", name);
		cr_assert_gt(b64_member_len(jwk, "e"), 0);
		break;
	case KC_KEY_ED25519:
		cr_assert_str_eq(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
		cr_assert_eq(b64_member_len(jwk, "x"), 32);
		break;
	default: {
		static const char *crv[] = { [KC_KEY_EC_P256] = "P-256", [KC_KEY_EC_P384] = "P-384",
			[KC_KEY_EC_P521] = "P-521" };
		static const size_t size[] = { [KC_KEY_EC_P256] = 32, [KC_KEY_EC_P384] = 48,
			[KC_KEY_EC_P521] = 66 };
		kc_keytype t = kc_alg_keytype(alg);
		cr_assert_str_eq(json_string_value(json_object_get(jwk, "crv")), crv[t], "%s", name);
		cr_assert_eq(b64_member_len(jwk, "x"), size[t], "%s: x", name);
		cr_assert_eq(b64_member_len(jwk, "y"), size[t], "%s: y", name);
	}
	}
	if (kc_alg_keytype(alg) == KC_KEY_OCT)
		return;
	if (private) {
		cr_assert_gt(b64_member_len(jwk, "d"), 0, "%s: private JWK without d", name);
	} else {
		static const char *secret[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
		for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
			cr_assert_null(json_object_get(jwk, secret[i]),
			    "%s: public JWK carries private member \"%s\"", name, secret[i]);
	}
}

/* A keyset holding a different key of the type alg needs, with the kid
 * "rt-kid": a signature of our signer must not verify with it. */
static kc_keyset *
other_key(kc_alg alg)
{
	static const char *pem[] = {
		[KC_KEY_RSA] = "keys/rsa-2048.pub.pem", [KC_KEY_EC_P256] = "keys/ec-p256.pub.pem",
		[KC_KEY_EC_P384] = "keys/ec-p384.pub.pem", [KC_KEY_EC_P521] = "keys/ec-p521.pub.pem",
		[KC_KEY_ED25519] = "keys/ed25519.pub.pem",
	};
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	kc_keytype t = kc_alg_keytype(alg);
	if (t == KC_KEY_OCT) {
		unsigned char secret[64];
		memset(secret, 0x33, sizeof secret);
		cr_assert_eq(kc_keyset_add_secret(ks, secret, kc_alg_hash_len(alg), "rt-kid",
		    kc_alg_name(alg), NULL, NULL, err, sizeof err), 1, "%s", err);
	} else {
		cr_assert_eq(kc_keyset_load_pem_file(ks, kct_data_path(pem[t]), "rt-kid", NULL, NULL, NULL,
		    err, sizeof err), 1, "%s", err);
	}
	return ks;
}

static kc_token_reason
jws_verify(const kc_keyset *ks, const char *tok, kc_arena *a, kc_jws *out)
{
	kc_jws_opts o = { 0 };
	return kc_jws_verify(ks, tok, strlen(tok), &o, a, out);
}

static char *
write_json_tmp(const json_t *j, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "/tmp/kc-test-rt-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	char *text = json_dumps(j, JSON_INDENT(2));
	cr_assert_not_null(text);
	size_t n = strlen(text);
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	cr_assert_eq(write(fd, "\n", 1), 1);
	close(fd);
	free(text);
	return path;
}

static void
roundtrip(kc_alg alg)
{
	const char *name = kc_alg_name(alg);
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, "rt-kid", err, sizeof err);
	cr_assert_not_null(s, "%s: %s", name, err);
	cr_assert_eq(kc_signer_alg(s), alg);
	cr_assert_str_eq(kc_signer_kid(s), "rt-kid");

	/* sign and verify with the public half */
	char *tok = kc_signer_sign(s, NULL, NULL, (const unsigned char *)PAYLOAD, strlen(PAYLOAD));
	cr_assert_not_null(tok, "%s: sign failed", name);
	kc_keyset *ks = kct_keyset_of(s);
	cr_assert_eq(kc_key_alg(kc_keyset_get(ks, 0)), alg, "%s: the public JWK pins its alg", name);
	kc_arena *a = kc_arena_new(2048);
	kc_jws out;
	ASSERT_REASON(jws_verify(ks, tok, a, &out), KC_TOK_OK);
	cr_assert_eq(out.alg, alg);
	cr_assert_eq(out.payload_len, strlen(PAYLOAD));
	cr_assert_eq(memcmp(out.payload, PAYLOAD, out.payload_len), 0);
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "alg"), NULL), name);
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "typ"), NULL), "JWT");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "kid"), NULL), "rt-kid");
	kc_arena_clear(a);

	/* the signature's form: base64url of exactly the raw size */
	const char *sig = strrchr(tok, '.') + 1;
	size_t raw_len = 0;
	unsigned char *raw = kc_b64url_decode_alloc(sig, strlen(sig), &raw_len);
	cr_assert_not_null(raw);
	cr_assert_eq(raw_len, sig_size(alg), "%s: signature of %zu bytes", name, raw_len);
	free(raw);

	/* sign_bytes and kc_key_verify agree */
	size_t sl = 0;
	unsigned char *sb = kc_signer_sign_bytes(s, (const unsigned char *)"abc.def", 7, &sl);
	cr_assert_not_null(sb);
	cr_assert_eq(sl, sig_size(alg));
	ASSERT_REASON(kc_key_verify(kc_keyset_get(ks, 0), alg, (const unsigned char *)"abc.def", 7,
	    sb, sl), KC_TOK_OK);
	ASSERT_REASON(kc_key_verify(kc_keyset_get(ks, 0), alg, (const unsigned char *)"abc.deg", 7,
	    sb, sl), KC_TOK_BAD_SIGNATURE);
	free(sb);

	/* another payload under this signature */
	char *tok2 = kc_signer_sign(s, NULL, NULL, (const unsigned char *)"{\"sub\":\"admin\"}", 15);
	char swapped[4096];
	snprintf(swapped, sizeof swapped, "%.*s%s", (int)(strrchr(tok2, '.') - tok2), tok2,
	    strrchr(tok, '.'));
	ASSERT_REASON(jws_verify(ks, swapped, a, &out), KC_TOK_BAD_SIGNATURE);
	kc_arena_clear(a);
	free(tok2);

	/* another key of the same type, same kid */
	kc_keyset *other = other_key(alg);
	ASSERT_REASON(jws_verify(other, tok, a, &out), KC_TOK_BAD_SIGNATURE);
	kc_arena_clear(a);
	kc_keyset_free(other);

	/* header options: typ and extra members */
	json_t *extra = json_pack("{s:s, s:i}", "x-test", "yes", "x-n", 7);
	char *tok3 = kc_signer_sign(s, extra, "at+jwt", (const unsigned char *)PAYLOAD, strlen(PAYLOAD));
	json_decref(extra);
	cr_assert_not_null(tok3);
	kc_jws_opts typ_opts = { .typ = "at+jwt" };
	ASSERT_REASON(kc_jws_verify(ks, tok3, strlen(tok3), &typ_opts, a, &out), KC_TOK_OK);
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "typ"), NULL), "at+jwt");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "x-test"), NULL), "yes");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "alg"), NULL), name);
	kc_arena_clear(a);
	free(tok3);

	/* JWKs */
	json_t *priv = kc_signer_private_jwk(s);
	json_t *pub = kc_signer_public_jwk(s);
	check_jwk_members(priv, alg, "rt-kid", true);
	check_jwk_members(pub, alg, "rt-kid", false);

	/* the private JWK, written to a file and loaded again, is the same key */
	char path[64];
	write_json_tmp(priv, path, sizeof path);
	kc_signer *s2 = kc_signer_load_file(path, KC_ALG_UNKNOWN, NULL, err, sizeof err);
	cr_assert_not_null(s2, "%s: reload: %s", name, err);
	cr_assert_eq(kc_signer_alg(s2), alg, "%s: alg taken from the JWK", name);
	cr_assert_str_eq(kc_signer_kid(s2), "rt-kid");
	json_t *pub2 = kc_signer_public_jwk(s2);
	cr_assert(json_equal(pub, pub2), "%s: the reloaded key has another public JWK", name);
	char *tok4 = kc_signer_sign(s2, NULL, NULL, (const unsigned char *)PAYLOAD, strlen(PAYLOAD));
	ASSERT_REASON(jws_verify(ks, tok4, a, &out), KC_TOK_OK);
	kc_arena_clear(a);
	free(tok4);
	json_decref(pub2);
	kc_signer_free(s2);

	/* an explicit alg and kid */
	s2 = kc_signer_load_file(path, alg, "renamed", err, sizeof err);
	cr_assert_not_null(s2, "%s: %s", name, err);
	cr_assert_str_eq(kc_signer_kid(s2), "renamed");
	cr_assert_eq(kc_signer_alg(s2), alg);
	kc_signer_free(s2);

	/* an alg of another key type does not fit the key */
	kc_alg wrong = kc_alg_keytype(alg) == KC_KEY_OCT ? KC_ALG_ES256 : KC_ALG_HS256;
	err[0] = '\0';
	s2 = kc_signer_load_file(path, wrong, NULL, err, sizeof err);
	cr_assert_null(s2, "%s key loaded as a %s signer", name, kc_alg_name(wrong));
	cr_assert_neq(err[0], '\0');
	unlink(path);

	/* the public JWK alone is not a signing key (oct excepted: it is the secret) */
	if (kc_alg_keytype(alg) != KC_KEY_OCT) {
		write_json_tmp(pub, path, sizeof path);
		err[0] = '\0';
		s2 = kc_signer_load_file(path, KC_ALG_UNKNOWN, NULL, err, sizeof err);
		unlink(path);
		cr_assert_null(s2, "%s: a public JWK loaded as a signer", name);
		cr_assert_neq(err[0], '\0');
	}

	json_decref(priv);
	json_decref(pub);
	kc_arena_free(a);
	kc_keyset_free(ks);
	free(tok);
	kc_signer_free(s);
}

#define ROUNDTRIP(A) Test(roundtrip, A) { roundtrip(KC_ALG_##A); }
ROUNDTRIP(HS256)
ROUNDTRIP(HS384)
ROUNDTRIP(HS512)
ROUNDTRIP(RS256)
ROUNDTRIP(RS384)
ROUNDTRIP(RS512)
ROUNDTRIP(PS256)
ROUNDTRIP(PS384)
ROUNDTRIP(PS512)
ROUNDTRIP(ES256)
ROUNDTRIP(ES384)
ROUNDTRIP(ES512)
ROUNDTRIP(EDDSA)

/* Two signatures of the same input: HMAC, RSA PKCS#1 v1.5 and Ed25519 are
 * deterministic; PSS and ECDSA are randomised. Both must verify. */
Test(roundtrip, randomised_signatures_differ)
{
	char err[256];
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "k", err, sizeof err);
	char *a = kct_sign(s, PAYLOAD), *b = kct_sign(s, PAYLOAD);
	cr_assert_str_neq(a, b, "ECDSA must use a fresh nonce per signature");
	kc_keyset *ks = kct_keyset_of(s);
	ASSERT_REASON(kct_jws(ks, a), KC_TOK_OK);
	ASSERT_REASON(kct_jws(ks, b), KC_TOK_OK);
	free(a);
	free(b);
	kc_keyset_free(ks);
	kc_signer_free(s);

	s = kc_signer_generate(KC_ALG_EDDSA, "k", err, sizeof err);
	a = kct_sign(s, PAYLOAD);
	b = kct_sign(s, PAYLOAD);
	cr_assert_str_eq(a, b, "Ed25519 signatures are deterministic");
	free(a);
	free(b);
	kc_signer_free(s);
}

Test(roundtrip, generate_refuses_unknown)
{
	char err[256] = "";
	cr_assert_null(kc_signer_generate(KC_ALG_UNKNOWN, "k", err, sizeof err));
	cr_assert_neq(err[0], '\0');
}

Test(roundtrip, keys_are_fresh)
{
	char err[256];
	kc_signer *a = kc_signer_generate(KC_ALG_HS256, "k", err, sizeof err);
	kc_signer *b = kc_signer_generate(KC_ALG_HS256, "k", err, sizeof err);
	json_t *ja = kc_signer_private_jwk(a), *jb = kc_signer_private_jwk(b);
	cr_assert_str_neq(json_string_value(json_object_get(ja, "k")),
	    json_string_value(json_object_get(jb, "k")), "two generated secrets are equal");
	json_decref(ja);
	json_decref(jb);
	kc_signer_free(a);
	kc_signer_free(b);
	kc_signer_free(NULL);
}

/* ---- PEM private keys from tests/data/keys */

Test(pem_signer, each_fixture_key)
{
	static const struct { const char *priv, *pub; kc_alg alg; } v[] = {
		{ "keys/rsa-2048.key.pem", "keys/rsa-2048.pub.pem", KC_ALG_RS256 },
		{ "keys/rsa-2048.key.pem", "keys/rsa-2048.crt.pem", KC_ALG_RS512 },
		{ "keys/rsa-2048.key.pem", "keys/rsa-2048.rsapub.pem", KC_ALG_PS384 },
		{ "keys/rsa-2048-b.key.pem", "keys/rsa-2048-b.pub.pem", KC_ALG_PS256 },
		{ "keys/ec-p256.key.pem", "keys/ec-p256.pub.pem", KC_ALG_ES256 },
		{ "keys/ec-p384.key.pem", "keys/ec-p384.pub.pem", KC_ALG_ES384 },
		{ "keys/ec-p521.key.pem", "keys/ec-p521.pub.pem", KC_ALG_ES512 },
		{ "keys/ed25519.key.pem", "keys/ed25519.pub.pem", KC_ALG_EDDSA },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char priv[4096], err[256] = "";
		snprintf(priv, sizeof priv, "%s", kct_data_path(v[i].priv));
		kc_signer *s = kc_signer_load_file(priv, v[i].alg, "pem-kid", err, sizeof err);
		cr_assert_not_null(s, "%s: %s", v[i].priv, err);
		cr_assert_eq(kc_signer_alg(s), v[i].alg);
		cr_assert_str_eq(kc_signer_kid(s), "pem-kid");
		char *tok = kct_sign(s, PAYLOAD);

		kc_keyset *ks = kc_keyset_new();
		cr_assert_eq(kc_keyset_load_pem_file(ks, kct_data_path(v[i].pub), "pem-kid", NULL, NULL,
		    NULL, err, sizeof err), 1, "%s: %s", v[i].pub, err);
		ASSERT_REASON(kct_jws(ks, tok), KC_TOK_OK);
		kc_keyset_free(ks);

		/* the public JWK derived from the PEM key verifies too */
		ks = kct_keyset_of(s);
		ASSERT_REASON(kct_jws(ks, tok), KC_TOK_OK);
		kc_keyset_free(ks);

		/* and the private JWK export round-trips */
		json_t *priv_jwk = kc_signer_private_jwk(s);
		check_jwk_members(priv_jwk, v[i].alg, "pem-kid", true);
		json_decref(priv_jwk);
		free(tok);
		kc_signer_free(s);
	}
}

Test(pem_signer, refused)
{
	static const struct { const char *file; kc_alg alg; } v[] = {
		{ "keys/ec-p256.key.pem", KC_ALG_ES384 },  /* wrong curve for the alg */
		{ "keys/ec-p384.key.pem", KC_ALG_ES256 },
		{ "keys/ec-p256.key.pem", KC_ALG_RS256 },  /* wrong key type */
		{ "keys/rsa-2048.key.pem", KC_ALG_ES256 },
		{ "keys/rsa-2048.key.pem", KC_ALG_HS256 },
		{ "keys/ed25519.key.pem", KC_ALG_ES256 },
		{ "keys/rsa-2048.pub.pem", KC_ALG_RS256 }, /* public keys cannot sign */
		{ "keys/ec-p256.pub.pem", KC_ALG_ES256 },
		{ "keys/rsa-2048.crt.pem", KC_ALG_RS256 },
		{ "jwks/all.jwks", KC_ALG_RS256 },         /* a set is not a key */
		{ "keys/nonexistent.pem", KC_ALG_ES256 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char path[4096], err[256] = "";
		snprintf(path, sizeof path, "%s", kct_data_path(v[i].file));
		kc_signer *s = kc_signer_load_file(path, v[i].alg, "k", err, sizeof err);
		cr_assert_null(s, "%s loaded as a %s signer", v[i].file, kc_alg_name(v[i].alg));
		cr_assert_neq(err[0], '\0', "%s: no error message", v[i].file);
		cr_assert_null(strchr(err, '\n'), "%s: error is not one line", v[i].file);
	}
}
