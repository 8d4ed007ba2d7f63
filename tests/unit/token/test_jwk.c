/* test_jwk.c: guards key loading and key choice (token/jwk.h).
 *
 * Loading: a JWKS with every kty/crv, PEM "PUBLIC KEY", "RSA PUBLIC KEY" and
 * X.509 certificates, shared-secret files (one trailing newline dropped),
 * and the strict refusals listed in jwk.h, each of which must skip only the
 * bad key, with exactly one one-line warning, while the others load.
 * Choice: the kid rules of kc_keyset_select (kid match, a single fitting key
 * without kid, ambiguity, unknown kid, keys without kid), alg pinning,
 * "use"/"key_ops", and kc_keyset_algs. Keys that load are also used: tokens
 * signed with the matching private keys from tests/data/keys must verify. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>

#include "../../common/testutil.h"
#include "token/b64url.h"
#include "token/jwk.h"
#include "token/sign.h"

/* ---- warnings */

struct warns {
	int n;
	char msg[16][512];
};

static void
collect(void *ctx, const char *msg)
{
	struct warns *w = ctx;
	cr_assert_not_null(msg);
	if (w->n < 16)
		snprintf(w->msg[w->n], sizeof w->msg[0], "%s", msg);
	w->n++;
}

static void
assert_one_line(const char *msg)
{
	cr_assert_gt(strlen(msg), 0, "empty message");
	cr_assert_null(strchr(msg, '\n'), "message is not one line: \"%s\"", msg);
}

static void
assert_warned_once(const struct warns *w, const char *what)
{
	cr_assert_eq(w->n, 1, "%s: %d warnings, want 1", what, w->n);
	assert_one_line(w->msg[0]);
}

/* ---- fixtures */

static json_t *
fixture_set(const char *name)
{
	size_t len = 0;
	char *text = kct_data_read(name, &len);
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	cr_assert_not_null(j, "%s: %s", name, e.text);
	free(text);
	return j;
}

/* A deep copy of the key with this kid from tests/data/jwks/all.jwks or
 * bad-one.jwks. */
static json_t *
fixture_key(const char *kid)
{
	static const char *sets[] = { "jwks/all.jwks", "jwks/bad-one.jwks" };
	for (size_t s = 0; s < 2; s++) {
		json_t *set = fixture_set(sets[s]);
		size_t i;
		json_t *k;
		json_array_foreach(json_object_get(set, "keys"), i, k) {
			if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
				json_t *copy = json_deep_copy(k);
				json_decref(set);
				return copy;
			}
		}
		json_decref(set);
	}
	cr_assert_fail("no fixture key %s", kid);
	return NULL;
}

static char *
jwks_text(json_t *k1, json_t *k2)
{
	json_t *keys = json_array();
	if (k1)
		json_array_append(keys, k1);
	if (k2)
		json_array_append(keys, k2);
	json_t *set = json_pack("{s:o}", "keys", keys);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	cr_assert_not_null(text);
	return text;
}

/* Loads {"keys":[k]} into a fresh keyset; returns the loader's result. */
static int
load_set(kc_keyset **ksp, json_t *k1, json_t *k2, struct warns *w)
{
	char *text = jwks_text(k1, k2);
	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	char err[256] = "";
	int rc = kc_keyset_load_jwks(ks, text, strlen(text), collect, w, err, sizeof err);
	free(text);
	*ksp = ks;
	return rc;
}

/* A private key from tests/data/keys as a signer. */
static kc_signer *
fixture_signer(const char *file, kc_alg alg, const char *kid)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", kct_data_path(file));
	char err[256] = "";
	kc_signer *s = kc_signer_load_file(path, alg, kid, err, sizeof err);
	cr_assert_not_null(s, "%s: %s", file, err);
	return s;
}

static kc_token_reason
verify_with(const kc_keyset *ks, const char *file, kc_alg alg, const char *kid)
{
	kc_signer *s = fixture_signer(file, alg, kid);
	char *tok = kct_sign(s, "{\"sub\":\"alice\"}");
	cr_assert_not_null(tok);
	kc_token_reason r = kct_jws(ks, tok);
	free(tok);
	kc_signer_free(s);
	return r;
}

static const kc_key *
key_by_kid(const kc_keyset *ks, const char *kid)
{
	for (size_t i = 0; i < kc_keyset_count(ks); i++) {
		const kc_key *k = kc_keyset_get(ks, i);
		if (kc_key_kid(k) && strcmp(kc_key_kid(k), kid) == 0)
			return k;
	}
	cr_assert_fail("no key %s in the keyset", kid);
	return NULL;
}

#define RSA_ALGS (KC_ALG_BIT(KC_ALG_RS256) | KC_ALG_BIT(KC_ALG_RS384) | KC_ALG_BIT(KC_ALG_RS512) | \
	KC_ALG_BIT(KC_ALG_PS256) | KC_ALG_BIT(KC_ALG_PS384) | KC_ALG_BIT(KC_ALG_PS512))
#define HS_ALGS (KC_ALG_BIT(KC_ALG_HS256) | KC_ALG_BIT(KC_ALG_HS384) | KC_ALG_BIT(KC_ALG_HS512))

/* ---- JWKS with every kty/crv */

Test(jwks, all_fixture_loads)
{
	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	struct warns w = { 0 };
	char err[256] = "";
	size_t len = 0;
	char *text = kct_data_read("jwks/all.jwks", &len);
	int rc = kc_keyset_load_jwks(ks, text, len, collect, &w, err, sizeof err);
	free(text);
	cr_assert_eq(rc, 6, "rc %d: %s", rc, err);
	cr_assert_eq(w.n, 0, "unexpected warning: %s", w.msg[0]);
	cr_assert_eq(kc_keyset_count(ks), 6);

	static const struct { const char *kid; kc_keytype type; } want[] = {
		{ "rsa-2048", KC_KEY_RSA }, { "rsa-2048-b", KC_KEY_RSA },
		{ "ec-p256", KC_KEY_EC_P256 }, { "ec-p384", KC_KEY_EC_P384 },
		{ "ec-p521", KC_KEY_EC_P521 }, { "ed25519", KC_KEY_ED25519 },
	};
	for (size_t i = 0; i < 6; i++) {
		const kc_key *k = key_by_kid(ks, want[i].kid);
		cr_assert_eq(kc_key_type(k), want[i].type, "%s", want[i].kid);
		cr_assert_eq(kc_key_alg(k), KC_ALG_UNKNOWN, "%s: no alg in the JWK", want[i].kid);
		cr_assert_not_null(kc_key_pkey(k), "%s", want[i].kid);
		kc_alg_set fits = kc_keytype_algs(want[i].type);
		for (int a = 1; a < KC_ALG__COUNT; a++)
			cr_assert_eq(kc_key_accepts(k, (kc_alg)a), (fits & KC_ALG_BIT(a)) != 0,
			    "%s accepts %s?", want[i].kid, kc_alg_name((kc_alg)a));
	}
	cr_assert_eq(kc_keyset_algs(ks), RSA_ALGS | KC_ALG_BIT(KC_ALG_ES256) |
	    KC_ALG_BIT(KC_ALG_ES384) | KC_ALG_BIT(KC_ALG_ES512) | KC_ALG_BIT(KC_ALG_EDDSA));
	kc_keyset_free(ks);
}

/* Every key of the set verifies tokens from its private key, chosen by kid. */
Test(jwks, all_fixture_verifies_each_key)
{
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwks_file(ks, kct_data_path("jwks/all.jwks"), NULL, NULL,
	    err, sizeof err), 6, "%s", err);
	static const struct { const char *file; kc_alg alg; const char *kid; } v[] = {
		{ "keys/rsa-2048.key.pem", KC_ALG_RS256, "rsa-2048" },
		{ "keys/rsa-2048.key.pem", KC_ALG_PS512, "rsa-2048" },
		{ "keys/rsa-2048-b.key.pem", KC_ALG_RS384, "rsa-2048-b" },
		{ "keys/ec-p256.key.pem", KC_ALG_ES256, "ec-p256" },
		{ "keys/ec-p384.key.pem", KC_ALG_ES384, "ec-p384" },
		{ "keys/ec-p521.key.pem", KC_ALG_ES512, "ec-p521" },
		{ "keys/ed25519.key.pem", KC_ALG_EDDSA, "ed25519" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		cr_assert_eq(verify_with(ks, v[i].file, v[i].alg, v[i].kid), KC_TOK_OK,
		    "%s %s", v[i].file, kc_alg_name(v[i].alg));
	/* the right kid matters: rsa-2048's signature does not verify with rsa-2048-b */
	cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_RS256, "rsa-2048-b"),
	    KC_TOK_BAD_SIGNATURE);
	/* every key has a kid: an unknown kid finds nothing */
	cr_assert_eq(verify_with(ks, "keys/ec-p256.key.pem", KC_ALG_ES256, "nope"),
	    KC_TOK_KEY_NOT_FOUND);
	/* two RSA keys and a token without kid: ambiguous; one P-256 key: found */
	kc_signer *s = fixture_signer("keys/rsa-2048.key.pem", KC_ALG_RS256, "rsa-2048");
	char *tok = kct_sign_raw(s, "{\"alg\":\"RS256\"}", "{}");
	cr_assert_eq(kct_jws(ks, tok), KC_TOK_KEY_AMBIGUOUS);
	free(tok);
	kc_signer_free(s);
	s = fixture_signer("keys/ec-p256.key.pem", KC_ALG_ES256, "ec-p256");
	tok = kct_sign_raw(s, "{\"alg\":\"ES256\"}", "{}");
	cr_assert_eq(kct_jws(ks, tok), KC_TOK_OK);
	free(tok);
	kc_signer_free(s);
	kc_keyset_free(ks);
}

Test(jwks, single_jwk_object)
{
	kc_keyset *ks = kc_keyset_new();
	struct warns w = { 0 };
	char err[256] = "";
	json_t *k = fixture_key("ed25519");
	cr_assert_eq(kc_keyset_load_jwk(ks, k, collect, &w, err, sizeof err), 1, "%s", err);
	json_decref(k);
	k = fixture_key("ec-p521");
	cr_assert_eq(kc_keyset_load_jwk(ks, k, collect, &w, err, sizeof err), 1, "%s", err);
	json_decref(k);
	cr_assert_eq(kc_keyset_count(ks), 2, "loaders add to the keyset");
	cr_assert_eq(w.n, 0);
	cr_assert_eq(verify_with(ks, "keys/ed25519.key.pem", KC_ALG_EDDSA, "ed25519"), KC_TOK_OK);
	cr_assert_eq(verify_with(ks, "keys/ec-p521.key.pem", KC_ALG_ES512, "ec-p521"), KC_TOK_OK);
	kc_keyset_free(ks);
	kc_keyset_free(NULL);
}

Test(jwks, whole_input_errors)
{
	static const char *bad[] = {
		"", "not json", "[]", "{\"keys\":{}}", "{}", "{\"keys\":\"x\"}", "{\"keys\":[]",
		"{\"keys\":null}", "42",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kc_keyset *ks = kc_keyset_new();
		char err[256] = "";
		int rc = kc_keyset_load_jwks(ks, bad[i], strlen(bad[i]), NULL, NULL, err, sizeof err);
		cr_assert_eq(rc, -1, "\"%s\": rc %d", bad[i], rc);
		assert_one_line(err);
		cr_assert_eq(kc_keyset_count(ks), 0);
		kc_keyset_free(ks);
	}
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwks(ks, "{\"keys\":[]}", 11, NULL, NULL, err, sizeof err), 0);
	/* a syntax error never quotes the file: it may be a secret */
	static const char secret[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0LXNlY3JldA\" x}]}";
	cr_assert_eq(kc_keyset_load_jwks(ks, secret, strlen(secret), NULL, NULL, err, sizeof err), -1);
	cr_assert_not_null(strstr(err, "not valid JSON (line 1, column"), "%s", err);
	cr_assert_null(strstr(err, "c2Vj"), "%s", err);
	cr_assert_null(strstr(err, "near"), "%s", err);
	kc_keyset_free(ks);
}

Test(jwks, file_errors)
{
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwks_file(ks, "/nonexistent/keycard.jwks", NULL, NULL,
	    err, sizeof err), -1);
	assert_one_line(err);

	/* over KC_JWKS_MAX_FILE: refused before parsing */
	char path[] = "/tmp/kc-test-jwk-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("{\"keys\":[]", f);
	for (size_t n = 10; n <= KC_JWKS_MAX_FILE; n++)
		fputc(' ', f);
	fputs("}", f);
	fclose(f);
	err[0] = '\0';
	int rc = kc_keyset_load_jwks_file(ks, path, NULL, NULL, err, sizeof err);
	unlink(path);
	cr_assert_eq(rc, -1, "a JWKS file over KC_JWKS_MAX_FILE loaded");
	assert_one_line(err);
	kc_keyset_free(ks);
}

/* ---- one bad key among good ones */

Test(jwks, bad_one_is_skipped_with_a_warning)
{
	kc_keyset *ks = kc_keyset_new();
	struct warns w = { 0 };
	char err[256] = "";
	int rc = kc_keyset_load_jwks_file(ks, kct_data_path("jwks/bad-one.jwks"), collect, &w,
	    err, sizeof err);
	cr_assert_eq(rc, 2, "rc %d (%s)", rc, err);
	cr_assert_eq(kc_keyset_count(ks), 2);
	assert_warned_once(&w, "rsa-1024");
	cr_assert_eq(verify_with(ks, "keys/ec-p256.key.pem", KC_ALG_ES256, "ec-p256"), KC_TOK_OK);
	cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_RS256, "rsa-2048"), KC_TOK_OK);
	kc_keyset_free(ks);
}

/* Loads the good key ec-p256 plus `bad`; the bad one must be refused with
 * one warning, and the good one kept. */
static void
refused_next_to_good(json_t *bad, const char *what)
{
	struct warns w = { 0 };
	kc_keyset *ks;
	json_t *good = fixture_key("ec-p256");
	int rc = load_set(&ks, bad, good, &w);
	cr_assert_eq(rc, 1, "%s: rc %d", what, rc);
	cr_assert_eq(kc_keyset_count(ks), 1, "%s was loaded", what);
	cr_assert_eq(kc_key_type(kc_keyset_get(ks, 0)), KC_KEY_EC_P256, "%s", what);
	assert_warned_once(&w, what);
	json_decref(good);
	json_decref(bad);
	kc_keyset_free(ks);
}

static void
accepted(json_t *k, const char *what)
{
	struct warns w = { 0 };
	kc_keyset *ks;
	int rc = load_set(&ks, k, NULL, &w);
	cr_assert_eq(rc, 1, "%s: rc %d (%s)", what, rc, w.n ? w.msg[0] : "");
	cr_assert_eq(w.n, 0, "%s: %s", what, w.msg[0]);
	json_decref(k);
	kc_keyset_free(ks);
}

static json_t *
with(json_t *k, const char *member, json_t *value)
{
	if (value)
		json_object_set_new(k, member, value);
	else
		json_object_del(k, member);
	return k;
}

/* Changes one byte of a base64url member (decoded), keeping its length. */
static json_t *
tweak_b64(json_t *k, const char *member, size_t pos_from_end, unsigned char xor)
{
	const char *v = json_string_value(json_object_get(k, member));
	size_t n = 0;
	unsigned char *raw = kc_b64url_decode_alloc(v, strlen(v), &n);
	cr_assert_not_null(raw);
	raw[n - 1 - pos_from_end] ^= xor;
	char *enc = kc_b64url_encode_alloc(raw, n);
	json_object_set_new(k, member, json_string(enc));
	free(raw);
	free(enc);
	return k;
}

/* Drops the first decoded byte of a base64url member. */
static json_t *
shorten_b64(json_t *k, const char *member)
{
	const char *v = json_string_value(json_object_get(k, member));
	size_t n = 0;
	unsigned char *raw = kc_b64url_decode_alloc(v, strlen(v), &n);
	cr_assert_not_null(raw);
	char *enc = kc_b64url_encode_alloc(raw + 1, n - 1);
	json_object_set_new(k, member, json_string(enc));
	free(raw);
	free(enc);
	return k;
}

Test(refuse, weak_rsa)
{
	refused_next_to_good(fixture_key("rsa-1024"), "RSA 1024");
	refused_next_to_good(with(fixture_key("rsa-2048"), "e", json_string("AQ")), "e = 1");
	refused_next_to_good(with(fixture_key("rsa-2048"), "e", json_string("Ag")), "e = 2");
	refused_next_to_good(with(fixture_key("rsa-2048"), "e", json_string("AQAC")), "e = 65538");
	refused_next_to_good(with(fixture_key("rsa-2048"), "e", json_string("")), "e empty");
	accepted(with(fixture_key("rsa-2048"), "e", json_string("Aw")), "e = 3");
}

Test(refuse, malformed_rsa)
{
	refused_next_to_good(with(fixture_key("rsa-2048"), "n", NULL), "RSA without n");
	refused_next_to_good(with(fixture_key("rsa-2048"), "e", NULL), "RSA without e");
	refused_next_to_good(with(fixture_key("rsa-2048"), "n", json_integer(5)), "RSA n a number");
	refused_next_to_good(with(fixture_key("rsa-2048"), "n", json_string("ab+c/d==")),
	    "RSA n not base64url");
}

Test(refuse, bad_ec_points)
{
	refused_next_to_good(tweak_b64(fixture_key("ec-p384"), "y", 0, 1), "P-384 point off the curve");
	refused_next_to_good(tweak_b64(fixture_key("ec-p521"), "y", 3, 0x10), "P-521 point off the curve");
	refused_next_to_good(tweak_b64(fixture_key("ec-p256"), "x", 0, 0x80), "P-256 point off the curve");
	refused_next_to_good(shorten_b64(fixture_key("ec-p256"), "x"), "P-256 x of 31 bytes");
	refused_next_to_good(shorten_b64(fixture_key("ec-p521"), "y"), "P-521 y of 65 bytes");
	refused_next_to_good(with(fixture_key("ec-p256"), "crv", json_string("P-384")),
	    "P-256 coordinates under crv P-384");
	refused_next_to_good(with(fixture_key("ec-p256"), "crv", json_string("secp256k1")),
	    "crv secp256k1");
	refused_next_to_good(with(fixture_key("ec-p256"), "crv", NULL), "EC without crv");
	refused_next_to_good(with(fixture_key("ec-p256"), "y", NULL), "EC without y");
}

Test(refuse, bad_okp)
{
	refused_next_to_good(with(fixture_key("ed25519"), "crv", json_string("X25519")), "crv X25519");
	refused_next_to_good(with(fixture_key("ed25519"), "crv", json_string("Ed448")), "crv Ed448");
	refused_next_to_good(shorten_b64(fixture_key("ed25519"), "x"), "Ed25519 x of 31 bytes");
}

Test(refuse, unknown_kty)
{
	refused_next_to_good(with(fixture_key("ed25519"), "kty", json_string("foo")), "kty foo");
	refused_next_to_good(with(fixture_key("ed25519"), "kty", NULL), "no kty");
	refused_next_to_good(with(fixture_key("ed25519"), "kty", json_integer(1)), "kty a number");
	refused_next_to_good(with(fixture_key("ec-p256"), "kty", json_string("ec")), "kty ec (case)");
	refused_next_to_good(json_string("not an object"), "a string in keys");
	refused_next_to_good(json_integer(7), "a number in keys");
}

Test(refuse, alg_that_does_not_fit)
{
	refused_next_to_good(with(fixture_key("ec-p256"), "alg", json_string("ES384")), "P-256 with ES384");
	refused_next_to_good(with(fixture_key("ec-p521"), "alg", json_string("ES256")), "P-521 with ES256");
	refused_next_to_good(with(fixture_key("ec-p256"), "alg", json_string("RS256")), "EC with RS256");
	refused_next_to_good(with(fixture_key("rsa-2048"), "alg", json_string("HS256")), "RSA with HS256");
	refused_next_to_good(with(fixture_key("rsa-2048"), "alg", json_string("ES256")), "RSA with ES256");
	refused_next_to_good(with(fixture_key("ed25519"), "alg", json_string("ES256")), "OKP with ES256");
	refused_next_to_good(with(fixture_key("rsa-2048"), "alg", json_string("none")), "alg none");
	refused_next_to_good(with(fixture_key("rsa-2048"), "alg", json_string("RSA-OAEP")),
	    "an encryption alg");
	refused_next_to_good(with(fixture_key("rsa-2048"), "alg", json_string("rs256")), "alg rs256");
	accepted(with(fixture_key("ec-p384"), "alg", json_string("ES384")), "P-384 with ES384");
	accepted(with(fixture_key("ed25519"), "alg", json_string("EdDSA")), "Ed25519 with EdDSA");
}

Test(refuse, use_and_key_ops)
{
	refused_next_to_good(with(fixture_key("rsa-2048"), "use", json_string("enc")), "use enc");
	refused_next_to_good(with(fixture_key("ed25519"), "use", json_string("SIG")), "use SIG");
	refused_next_to_good(with(fixture_key("ec-p384"), "key_ops", json_pack("[s]", "encrypt")),
	    "key_ops [encrypt]");
	refused_next_to_good(with(fixture_key("ec-p384"), "key_ops", json_pack("[s]", "sign")),
	    "key_ops [sign]");
	refused_next_to_good(with(fixture_key("ec-p384"), "key_ops", json_array()), "key_ops []");
	accepted(with(fixture_key("ec-p384"), "key_ops", json_pack("[s]", "verify")), "key_ops [verify]");
	accepted(with(fixture_key("ec-p384"), "key_ops", json_pack("[ss]", "sign", "verify")),
	    "key_ops [sign, verify]");
	accepted(with(with(fixture_key("ed25519"), "use", json_string("sig")), "key_ops",
	    json_pack("[s]", "verify")), "use sig and key_ops [verify]");
	accepted(with(fixture_key("rsa-2048"), "use", NULL), "no use");
}

/* A published key set must not carry secrets: the oct key is refused, the
 * public key kept, and the warning does not repeat the secret. */
Test(refuse, secret_in_public_set)
{
	json_t *oct = json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "hmac",
	    "k", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0xMjM0NTY3OA");
	struct warns w = { 0 };
	kc_keyset *ks;
	json_t *good = fixture_key("ec-p256");
	cr_assert_eq(load_set(&ks, oct, good, &w), 1);
	cr_assert_eq(kc_keyset_count(ks), 1);
	cr_assert_eq(kc_key_type(kc_keyset_get(ks, 0)), KC_KEY_EC_P256);
	assert_warned_once(&w, "oct key next to an EC key");
	cr_assert_null(strstr(w.msg[0], "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0xMjM0NTY3OA"),
	    "the warning leaks the secret");
	cr_assert_null(strstr(w.msg[0], "secret-secret"), "the warning leaks the secret");
	json_decref(oct);
	json_decref(good);
	kc_keyset_free(ks);
}

/* ---- symmetric keys */

Test(oct, oct_only_set_loads)
{
	kc_keyset *ks = kc_keyset_new();
	struct warns w = { 0 };
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwks_file(ks, kct_data_path("jwks/oct.jwks"), collect, &w,
	    err, sizeof err), 1, "%s", err);
	cr_assert_eq(w.n, 0);
	const kc_key *k = kc_keyset_get(ks, 0);
	cr_assert_eq(kc_key_type(k), KC_KEY_OCT);
	cr_assert_eq(kc_key_alg(k), KC_ALG_HS256);
	cr_assert(kc_key_accepts(k, KC_ALG_HS256));
	cr_assert_not(kc_key_accepts(k, KC_ALG_HS512), "pinned to HS256");
	cr_assert_not(kc_key_accepts(k, KC_ALG_RS256));
	cr_assert_null(kc_key_pkey(k));
	cr_assert_str_eq(kc_key_kid(k), "hs256");
	cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(KC_ALG_HS256));
	kc_keyset_free(ks);
}

/* HS256 token over header/payload, MAC computed by OpenSSL's HMAC(). */
static char *
hmac_token(const EVP_MD *md, const char *alg, const char *kid,
    const unsigned char *secret, size_t secret_len)
{
	char header[128];
	snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
	char *skeleton = kct_forge(header, "{\"sub\":\"alice\"}", (const unsigned char *)"x", 1);
	char *dot = strrchr(skeleton, '.');
	cr_assert_not_null(dot);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	cr_assert_not_null(HMAC(md, secret, (int)secret_len, (unsigned char *)skeleton,
	    (size_t)(dot - skeleton), mac, &mac_len));
	char *sig = kc_b64url_encode_alloc(mac, mac_len);
	size_t n = (size_t)(dot - skeleton) + 1 + strlen(sig) + 1;
	char *tok = malloc(n);
	snprintf(tok, n, "%.*s.%s", (int)(dot - skeleton), skeleton, sig);
	free(sig);
	free(skeleton);
	return tok;
}

static kc_token_reason
hs256_check(const kc_keyset *ks, const char *kid, const void *secret, size_t len)
{
	char *tok = hmac_token(EVP_sha256(), "HS256", kid, secret, len);
	kc_token_reason r = kct_jws(ks, tok);
	free(tok);
	return r;
}

static char tmpfile_path[64];

static const char *
write_tmp(const void *data, size_t len)
{
	strcpy(tmpfile_path, "/tmp/kc-test-secret-XXXXXX");
	int fd = mkstemp(tmpfile_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return tmpfile_path;
}

Test(oct, secret_file_drops_one_trailing_newline)
{
	size_t flen = 0;
	char *file = kct_data_read("keys/hs256.secret", &flen);
	cr_assert_gt(flen, 32);
	cr_assert_eq(file[flen - 1], '\n');
	size_t slen = flen - 1;

	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	struct warns w = { 0 };
	cr_assert_eq(kc_keyset_load_secret_file(ks, kct_data_path("keys/hs256.secret"), "s1", "HS256",
	    collect, &w, err, sizeof err), 1, "%s", err);
	const kc_key *k = kc_keyset_get(ks, 0);
	cr_assert_eq(kc_key_type(k), KC_KEY_OCT);
	cr_assert_str_eq(kc_key_kid(k), "s1");
	cr_assert_eq(hs256_check(ks, "s1", file, slen), KC_TOK_OK);
	cr_assert_eq(hs256_check(ks, "s1", file, flen), KC_TOK_BAD_SIGNATURE,
	    "the newline must not be part of the secret");
	kc_keyset_free(ks);

	/* "\r\n" is dropped too */
	char *crlf = malloc(slen + 2);
	memcpy(crlf, file, slen);
	memcpy(crlf + slen, "\r\n", 2);
	const char *p = write_tmp(crlf, slen + 2);
	ks = kc_keyset_new();
	cr_assert_eq(kc_keyset_load_secret_file(ks, p, "s2", "HS256", NULL, NULL, err, sizeof err), 1,
	    "%s", err);
	unlink(p);
	cr_assert_eq(hs256_check(ks, "s2", file, slen), KC_TOK_OK);
	kc_keyset_free(ks);

	/* only one newline: "secret\n\n" is the secret "secret\n" */
	memcpy(crlf, file, slen);
	memcpy(crlf + slen, "\n\n", 2);
	p = write_tmp(crlf, slen + 2);
	ks = kc_keyset_new();
	cr_assert_eq(kc_keyset_load_secret_file(ks, p, "s3", "HS256", NULL, NULL, err, sizeof err), 1,
	    "%s", err);
	unlink(p);
	cr_assert_eq(hs256_check(ks, "s3", file, slen + 1), KC_TOK_OK);
	cr_assert_eq(hs256_check(ks, "s3", file, slen), KC_TOK_BAD_SIGNATURE);
	kc_keyset_free(ks);

	/* no newline at all: the whole file */
	p = write_tmp(file, slen);
	ks = kc_keyset_new();
	cr_assert_eq(kc_keyset_load_secret_file(ks, p, NULL, NULL, NULL, NULL, err, sizeof err), 1,
	    "%s", err);
	unlink(p);
	cr_assert_null(kc_key_kid(kc_keyset_get(ks, 0)));
	cr_assert_eq(hs256_check(ks, "any", file, slen), KC_TOK_OK, "a key without kid fits any kid");
	kc_keyset_free(ks);
	free(crlf);
	free(file);
}

Test(oct, short_secrets_refused)
{
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	struct warns w = { 0 };
	int rc = kc_keyset_load_secret_file(ks, kct_data_path("keys/short.secret"), NULL, "HS256",
	    collect, &w, err, sizeof err);
	cr_assert_leq(rc, 0, "a 16-byte HS256 secret was loaded");
	cr_assert_eq(kc_keyset_count(ks), 0);
	cr_assert(w.n > 0 || err[0] != '\0', "refused without a message");
	kc_keyset_free(ks);

	unsigned char secret[64];
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (unsigned char)(0xC0 + i);
	static const struct { const char *alg; size_t len; bool ok; } v[] = {
		{ "HS256", 31, false }, { "HS256", 32, true },
		{ "HS384", 47, false }, { "HS384", 48, true },
		{ "HS512", 63, false }, { "HS512", 64, true },
		{ NULL, 31, false }, { NULL, 32, true },
		{ "RS256", 64, false }, { "none", 64, false }, { "ES256", 64, false },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ks = kc_keyset_new();
		w.n = 0;
		err[0] = '\0';
		rc = kc_keyset_add_secret(ks, secret, v[i].len, "k", v[i].alg, collect, &w, err, sizeof err);
		if (v[i].ok) {
			cr_assert_eq(rc, 1, "%s with %zu bytes: rc %d %s", v[i].alg, v[i].len, rc, err);
			cr_assert_eq(kc_keyset_count(ks), 1);
		} else {
			cr_assert_leq(rc, 0, "%s with %zu bytes was loaded", v[i].alg ? v[i].alg : "(no alg)",
			    v[i].len);
			cr_assert_eq(kc_keyset_count(ks), 0);
			cr_assert(w.n > 0 || err[0] != '\0', "refused without a message");
		}
		kc_keyset_free(ks);
	}
}

Test(oct, pinned_and_unpinned_secrets)
{
	unsigned char secret[64];
	memset(secret, 0x42, sizeof secret);
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_add_secret(ks, secret, 64, "p", "HS384", NULL, NULL, err, sizeof err), 1);
	const kc_key *k = kc_keyset_get(ks, 0);
	cr_assert_eq(kc_key_alg(k), KC_ALG_HS384);
	cr_assert(kc_key_accepts(k, KC_ALG_HS384));
	cr_assert_not(kc_key_accepts(k, KC_ALG_HS256));
	cr_assert_not(kc_key_accepts(k, KC_ALG_HS512));
	kc_keyset_free(ks);

	ks = kc_keyset_new();
	cr_assert_eq(kc_keyset_add_secret(ks, secret, 64, "u", NULL, NULL, NULL, err, sizeof err), 1);
	k = kc_keyset_get(ks, 0);
	cr_assert_eq(kc_key_alg(k), KC_ALG_UNKNOWN);
	for (int a = 1; a < KC_ALG__COUNT; a++)
		cr_assert_eq(kc_key_accepts(k, (kc_alg)a), (HS_ALGS & KC_ALG_BIT(a)) != 0,
		    "64-byte unpinned secret accepts %s?", kc_alg_name((kc_alg)a));
	cr_assert_eq(kc_keyset_algs(ks), HS_ALGS);
	kc_keyset_free(ks);
}

/* ---- PEM */

static kc_keyset *
load_pem(const char *file, const char *kid, const char *alg, int want)
{
	kc_keyset *ks = kc_keyset_new();
	struct warns w = { 0 };
	char err[256] = "";
	int rc = kc_keyset_load_pem_file(ks, kct_data_path(file), kid, alg, collect, &w, err, sizeof err);
	cr_assert_eq(rc, want, "%s: rc %d, want %d (%s %s)", file, rc, want, err, w.n ? w.msg[0] : "");
	return ks;
}

Test(pem, rsa_forms)
{
	static const char *files[] = { "keys/rsa-2048.pub.pem", "keys/rsa-2048.rsapub.pem",
		"keys/rsa-2048.crt.pem" };
	for (size_t i = 0; i < 3; i++) {
		kc_keyset *ks = load_pem(files[i], "r1", NULL, 1);
		const kc_key *k = kc_keyset_get(ks, 0);
		cr_assert_eq(kc_key_type(k), KC_KEY_RSA, "%s", files[i]);
		cr_assert_str_eq(kc_key_kid(k), "r1");
		cr_assert_eq(kc_key_alg(k), KC_ALG_UNKNOWN);
		cr_assert_not_null(kc_key_pkey(k));
		cr_assert_eq(kc_keyset_algs(ks), RSA_ALGS, "%s", files[i]);
		cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_RS256, "r1"), KC_TOK_OK,
		    "%s", files[i]);
		cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_PS384, "r1"), KC_TOK_OK,
		    "%s", files[i]);
		cr_assert_eq(verify_with(ks, "keys/rsa-2048-b.key.pem", KC_ALG_RS256, "r1"),
		    KC_TOK_BAD_SIGNATURE, "%s", files[i]);
		kc_keyset_free(ks);
	}
}

Test(pem, ec_and_ed25519)
{
	static const struct { const char *pub, *priv; kc_alg alg; kc_keytype type; } v[] = {
		{ "keys/ec-p256.pub.pem", "keys/ec-p256.key.pem", KC_ALG_ES256, KC_KEY_EC_P256 },
		{ "keys/ec-p256.crt.pem", "keys/ec-p256.key.pem", KC_ALG_ES256, KC_KEY_EC_P256 },
		{ "keys/ec-p384.pub.pem", "keys/ec-p384.key.pem", KC_ALG_ES384, KC_KEY_EC_P384 },
		{ "keys/ec-p521.pub.pem", "keys/ec-p521.key.pem", KC_ALG_ES512, KC_KEY_EC_P521 },
		{ "keys/ed25519.pub.pem", "keys/ed25519.key.pem", KC_ALG_EDDSA, KC_KEY_ED25519 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		kc_keyset *ks = load_pem(v[i].pub, NULL, NULL, 1);
		const kc_key *k = kc_keyset_get(ks, 0);
		cr_assert_eq(kc_key_type(k), v[i].type, "%s", v[i].pub);
		cr_assert_null(kc_key_kid(k));
		cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(v[i].alg));
		/* no kid on the key: any token kid falls back to it */
		cr_assert_eq(verify_with(ks, v[i].priv, v[i].alg, "whatever"), KC_TOK_OK, "%s", v[i].pub);
		kc_keyset_free(ks);
	}
}

Test(pem, alg_pinning)
{
	kc_keyset *ks = load_pem("keys/rsa-2048.pub.pem", "r", "PS256", 1);
	const kc_key *k = kc_keyset_get(ks, 0);
	cr_assert_eq(kc_key_alg(k), KC_ALG_PS256);
	cr_assert(kc_key_accepts(k, KC_ALG_PS256));
	cr_assert_not(kc_key_accepts(k, KC_ALG_RS256));
	cr_assert_not(kc_key_accepts(k, KC_ALG_PS384));
	cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(KC_ALG_PS256));
	cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_PS256, "r"), KC_TOK_OK);
	cr_assert_neq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_RS256, "r"), KC_TOK_OK,
	    "an RS256 token verified with a key pinned to PS256");
	kc_keyset_free(ks);
}

Test(pem, refused)
{
	static const struct { const char *file, *alg; } v[] = {
		{ "keys/rsa-1024.pub.pem", NULL },     /* too weak */
		{ "keys/rsa-2048.pub.pem", "ES256" }, /* alg does not fit */
		{ "keys/rsa-2048.pub.pem", "HS256" },
		{ "keys/ec-p256.pub.pem", "ES384" },
		{ "keys/ed25519.pub.pem", "RS256" },
		{ "keys/ec-p384.pub.pem", "bogus" },
		{ "keys/hs256.secret", NULL },         /* not PEM */
		{ "jwks/all.jwks", NULL },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		kc_keyset *ks = kc_keyset_new();
		struct warns w = { 0 };
		char err[256] = "";
		int rc = kc_keyset_load_pem_file(ks, kct_data_path(v[i].file), "x", v[i].alg, collect, &w,
		    err, sizeof err);
		cr_assert_leq(rc, 0, "%s alg %s: loaded", v[i].file, v[i].alg ? v[i].alg : "-");
		cr_assert_eq(kc_keyset_count(ks), 0);
		cr_assert(w.n > 0 || err[0] != '\0', "%s: refused without a message", v[i].file);
		if (rc < 0)
			assert_one_line(err);
		kc_keyset_free(ks);
	}
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_pem_file(ks, "/nonexistent.pem", NULL, NULL, NULL, NULL, err,
	    sizeof err), -1);
	assert_one_line(err);
	kc_keyset_free(ks);
}

/* ---- key choice (kc_keyset_select) */

/* Adds a fresh ES256 (or other) public key; kid NULL: the JWK has no kid. */
static const kc_key *
add_key(kc_keyset *ks, kc_alg alg, const char *kid, bool pinned)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(alg, kid ? kid : "tmp", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	json_t *jwk = kc_signer_public_jwk(s);
	cr_assert_not_null(jwk);
	if (!kid)
		json_object_del(jwk, "kid");
	if (!pinned)
		json_object_del(jwk, "alg");
	size_t before = kc_keyset_count(ks);
	cr_assert_eq(kc_keyset_load_jwk(ks, jwk, NULL, NULL, err, sizeof err), 1, "%s", err);
	json_decref(jwk);
	kc_signer_free(s);
	cr_assert_eq(kc_keyset_count(ks), before + 1);
	return kc_keyset_get(ks, before);
}

static kc_token_reason
sel(const kc_keyset *ks, kc_alg alg, const char *kid, const kc_key **out)
{
	*out = NULL;
	return kc_keyset_select(ks, alg, kid, kid ? strlen(kid) : 0, out);
}

Test(select, kid_match)
{
	kc_keyset *ks = kc_keyset_new();
	const kc_key *a = add_key(ks, KC_ALG_ES256, "a", true);
	const kc_key *b = add_key(ks, KC_ALG_ES256, "b", true);
	const kc_key *got;
	cr_assert_eq(sel(ks, KC_ALG_ES256, "a", &got), KC_TOK_OK);
	cr_assert_eq(got, a);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "b", &got), KC_TOK_OK);
	cr_assert_eq(got, b);
	/* exact bytes: no prefix or case folding */
	cr_assert_eq(sel(ks, KC_ALG_ES256, "A", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "ab", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(kc_keyset_select(ks, KC_ALG_ES256, "ab", 1, &got), KC_TOK_OK, "kid_len counts");
	cr_assert_eq(got, a);
	cr_assert_eq(kc_keyset_select(ks, KC_ALG_ES256, "a\0b", 3, &got), KC_TOK_KEY_NOT_FOUND,
	    "a kid with a NUL matched a shorter kid");
	/* the kid names a key that does not accept the alg */
	cr_assert_eq(sel(ks, KC_ALG_ES384, "a", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(sel(ks, KC_ALG_RS256, "a", &got), KC_TOK_KEY_NOT_FOUND);
	kc_keyset_free(ks);
}

Test(select, no_kid_single_fit)
{
	kc_keyset *ks = kc_keyset_new();
	const kc_key *ec = add_key(ks, KC_ALG_ES256, "ec", true);
	const kc_key *ed = add_key(ks, KC_ALG_EDDSA, "ed", true);
	const kc_key *got;
	cr_assert_eq(sel(ks, KC_ALG_ES256, NULL, &got), KC_TOK_OK);
	cr_assert_eq(got, ec);
	cr_assert_eq(sel(ks, KC_ALG_EDDSA, NULL, &got), KC_TOK_OK);
	cr_assert_eq(got, ed);
	cr_assert_eq(sel(ks, KC_ALG_ES384, NULL, &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(sel(ks, KC_ALG_HS256, NULL, &got), KC_TOK_KEY_NOT_FOUND);
	kc_keyset_free(ks);
}

Test(select, ambiguous)
{
	kc_keyset *ks = kc_keyset_new();
	add_key(ks, KC_ALG_ES256, "a", true);
	add_key(ks, KC_ALG_ES256, "b", true);
	add_key(ks, KC_ALG_ES384, "c", true);
	const kc_key *got;
	cr_assert_eq(sel(ks, KC_ALG_ES256, NULL, &got), KC_TOK_KEY_AMBIGUOUS,
	    "two ES256 keys and a token without kid");
	cr_assert_null(got);
	cr_assert_eq(sel(ks, KC_ALG_ES384, NULL, &got), KC_TOK_OK, "only one ES384 key");
	/* a repeated kid is kept, but naming it is ambiguous */
	add_key(ks, KC_ALG_ES256, "a", true);
	cr_assert_eq(kc_keyset_count(ks), 4);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "a", &got), KC_TOK_KEY_AMBIGUOUS);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "b", &got), KC_TOK_OK);
	kc_keyset_free(ks);
}

Test(select, unknown_kid)
{
	kc_keyset *ks = kc_keyset_new();
	add_key(ks, KC_ALG_ES256, "a", true);
	const kc_key *got;
	cr_assert_eq(sel(ks, KC_ALG_ES256, "zzz", &got), KC_TOK_KEY_NOT_FOUND,
	    "an unknown kid must not fall back to a key that has another kid");
	cr_assert_eq(sel(ks, KC_ALG_ES256, "", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_null(got);
	kc_keyset_free(ks);

	ks = kc_keyset_new();
	cr_assert_eq(sel(ks, KC_ALG_ES256, NULL, &got), KC_TOK_KEY_NOT_FOUND, "empty keyset");
	kc_keyset_free(ks);
}

Test(select, keys_without_kid)
{
	kc_keyset *ks = kc_keyset_new();
	const kc_key *named = add_key(ks, KC_ALG_ES256, "named", true);
	const kc_key *anon = add_key(ks, KC_ALG_ES256, NULL, true);
	const kc_key *got;
	cr_assert_null(kc_key_kid(anon));
	/* a kid nobody has: the keys without kid */
	cr_assert_eq(sel(ks, KC_ALG_ES256, "other", &got), KC_TOK_OK);
	cr_assert_eq(got, anon);
	/* the kid of a key: that key, not the anonymous one */
	cr_assert_eq(sel(ks, KC_ALG_ES256, "named", &got), KC_TOK_OK);
	cr_assert_eq(got, named);
	/* no kid: both fit */
	cr_assert_eq(sel(ks, KC_ALG_ES256, NULL, &got), KC_TOK_KEY_AMBIGUOUS);
	/* two anonymous keys and an unknown kid: ambiguous */
	add_key(ks, KC_ALG_ES256, NULL, true);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "other", &got), KC_TOK_KEY_AMBIGUOUS);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "named", &got), KC_TOK_OK);
	cr_assert_eq(got, named);
	kc_keyset_free(ks);
}

/* A kid that names a key of another type does not fall back to the keys
 * without kid: "if no key has that kid" is false. */
Test(select, kid_of_other_type_does_not_fall_back)
{
	kc_keyset *ks = kc_keyset_new();
	add_key(ks, KC_ALG_EDDSA, "k", true);
	add_key(ks, KC_ALG_ES256, NULL, true);
	const kc_key *got;
	cr_assert_eq(sel(ks, KC_ALG_ES256, "k", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(sel(ks, KC_ALG_ES256, "unknown", &got), KC_TOK_OK);
	kc_keyset_free(ks);
}

Test(select, alg_pinning)
{
	kc_keyset *ks = kc_keyset_new();
	json_t *pinned = with(fixture_key("rsa-2048"), "alg", json_string("RS256"));
	json_t *free_rsa = fixture_key("rsa-2048-b");
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwk(ks, pinned, NULL, NULL, err, sizeof err), 1, "%s", err);
	cr_assert_eq(kc_keyset_load_jwk(ks, free_rsa, NULL, NULL, err, sizeof err), 1, "%s", err);
	json_decref(pinned);
	json_decref(free_rsa);
	const kc_key *p = key_by_kid(ks, "rsa-2048"), *f = key_by_kid(ks, "rsa-2048-b");
	cr_assert_eq(kc_key_alg(p), KC_ALG_RS256);
	for (int a = 1; a < KC_ALG__COUNT; a++)
		cr_assert_eq(kc_key_accepts(p, (kc_alg)a), a == KC_ALG_RS256, "%s", kc_alg_name((kc_alg)a));
	const kc_key *got;
	/* without kid: RS256 fits both keys, PS256 only the unpinned one */
	cr_assert_eq(sel(ks, KC_ALG_RS256, NULL, &got), KC_TOK_KEY_AMBIGUOUS);
	cr_assert_eq(sel(ks, KC_ALG_PS256, NULL, &got), KC_TOK_OK);
	cr_assert_eq(got, f);
	cr_assert_eq(sel(ks, KC_ALG_PS256, "rsa-2048", &got), KC_TOK_KEY_NOT_FOUND);
	cr_assert_eq(sel(ks, KC_ALG_RS256, "rsa-2048", &got), KC_TOK_OK);
	cr_assert_eq(got, p);
	cr_assert_eq(kc_keyset_algs(ks), RSA_ALGS);
	/* end to end: a PS256 token with the pinned key's kid is refused */
	cr_assert_neq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_PS256, "rsa-2048"), KC_TOK_OK);
	cr_assert_eq(verify_with(ks, "keys/rsa-2048.key.pem", KC_ALG_RS256, "rsa-2048"), KC_TOK_OK);
	kc_keyset_free(ks);
}

Test(keyset, algs_union)
{
	kc_keyset *ks = kc_keyset_new();
	cr_assert_eq(kc_keyset_algs(ks), 0);
	cr_assert_eq(kc_keyset_count(ks), 0);
	add_key(ks, KC_ALG_ES384, "a", false);
	cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(KC_ALG_ES384));
	add_key(ks, KC_ALG_EDDSA, "b", false);
	cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(KC_ALG_ES384) | KC_ALG_BIT(KC_ALG_EDDSA));
	json_t *rsa = with(fixture_key("rsa-2048"), "alg", json_string("PS512"));
	char err[256] = "";
	cr_assert_eq(kc_keyset_load_jwk(ks, rsa, NULL, NULL, err, sizeof err), 1);
	json_decref(rsa);
	cr_assert_eq(kc_keyset_algs(ks), KC_ALG_BIT(KC_ALG_ES384) | KC_ALG_BIT(KC_ALG_EDDSA) |
	    KC_ALG_BIT(KC_ALG_PS512));
	kc_keyset_free(ks);
}

/* ---- kc_key_verify */

Test(key_verify, es256_raw_signatures_only)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "k", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	kc_keyset *ks = kct_keyset_of(s);
	const kc_key *k = kc_keyset_get(ks, 0);
	const unsigned char data[] = "header.payload";
	size_t sig_len = 0;
	unsigned char *sig = kc_signer_sign_bytes(s, data, sizeof data - 1, &sig_len);
	cr_assert_not_null(sig);
	cr_assert_eq(sig_len, 64, "ES256 signatures are raw R||S");
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 1, sig, sig_len), KC_TOK_OK);
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 2, sig, sig_len),
	    KC_TOK_BAD_SIGNATURE);
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 1, sig, 63),
	    KC_TOK_BAD_SIGNATURE);
	sig[10] ^= 1;
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 1, sig, sig_len),
	    KC_TOK_BAD_SIGNATURE);
	sig[10] ^= 1;

	/* the same signature in DER form is refused */
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int der_len = i2d_ECDSA_SIG(es, &der);
	cr_assert_gt(der_len, 0);
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 1, der, (size_t)der_len),
	    KC_TOK_BAD_SIGNATURE, "DER-encoded ECDSA signature accepted");
	OPENSSL_free(der);
	ECDSA_SIG_free(es);

	unsigned char zeros[64] = { 0 };
	cr_assert_eq(kc_key_verify(k, KC_ALG_ES256, data, sizeof data - 1, zeros, 64),
	    KC_TOK_BAD_SIGNATURE);
	free(sig);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

Test(key_verify, hmac)
{
	unsigned char secret[32];
	memset(secret, 7, sizeof secret);
	kc_keyset *ks = kc_keyset_new();
	char err[256] = "";
	cr_assert_eq(kc_keyset_add_secret(ks, secret, 32, "h", "HS256", NULL, NULL, err, sizeof err), 1);
	const kc_key *k = kc_keyset_get(ks, 0);
	const unsigned char data[] = "a.b";
	unsigned char mac[32];
	unsigned int mac_len = 0;
	HMAC(EVP_sha256(), secret, 32, data, 3, mac, &mac_len);
	cr_assert_eq(kc_key_verify(k, KC_ALG_HS256, data, 3, mac, 32), KC_TOK_OK);
	cr_assert_eq(kc_key_verify(k, KC_ALG_HS256, data, 3, mac, 31), KC_TOK_BAD_SIGNATURE,
	    "a truncated MAC was accepted");
	cr_assert_eq(kc_key_verify(k, KC_ALG_HS256, data, 3, mac, 0), KC_TOK_BAD_SIGNATURE);
	mac[31] ^= 0x80;
	cr_assert_eq(kc_key_verify(k, KC_ALG_HS256, data, 3, mac, 32), KC_TOK_BAD_SIGNATURE);
	kc_keyset_free(ks);
}
