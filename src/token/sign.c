/* sign.c: test keys and tokens for keycard keygen/mint and the tests.
 * keycard itself never signs on a request path. */
#include "config.h"

#include "token/sign.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "core/util.h"
#include "token/b64url.h"
#include "token/jwk.h"

struct kc_signer {
	kc_alg alg;
	kc_keytype type;
	char *kid;
	EVP_PKEY *pkey;
	unsigned char *secret;
	size_t secret_len;
};

static void
fmt(char *buf, size_t len, const char *f, ...)
{
	if (buf == NULL || len == 0)
		return;
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

void
kc_signer_free(kc_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);
	if (s->secret != NULL)
		OPENSSL_cleanse(s->secret, s->secret_len);
	free(s->secret);
	free(s->kid);
	free(s);
}

kc_alg kc_signer_alg(const kc_signer *s) { return s->alg; }
const char *kc_signer_kid(const kc_signer *s) { return s->kid; }

static size_t
coord_len(kc_keytype t)
{
	return t == KC_KEY_EC_P256 ? 32 : t == KC_KEY_EC_P384 ? 48 : t == KC_KEY_EC_P521 ? 66 : 0;
}

static const char *
curve_name(kc_keytype t)
{
	return t == KC_KEY_EC_P256 ? "P-256" : t == KC_KEY_EC_P384 ? "P-384" : "P-521";
}

/* A BIGNUM parameter of pkey as an unsigned big-endian base64url string,
 * padded to pad bytes when pad > 0. */
static json_t *
bn_param(const EVP_PKEY *pkey, const char *name, size_t pad)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return NULL;
	size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
	unsigned char *buf = malloc(n ? n : 1);
	json_t *out = NULL;
	if (buf != NULL && BN_bn2binpad(bn, buf, (int)n) >= 0) {
		char *s = kc_b64url_encode_alloc(buf, n);
		if (s != NULL)
			out = json_string(s);
		free(s);
	}
	if (buf != NULL)
		OPENSSL_cleanse(buf, n);
	free(buf);
	BN_clear_free(bn);
	return out;
}

static json_t *
b64_json(const unsigned char *b, size_t n)
{
	char *s = kc_b64url_encode_alloc(b, n);
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

/* Public members only, in any order. */
static json_t *
public_members(const kc_signer *s)
{
	json_t *j = json_object();
	if (j == NULL)
		return NULL;
	switch (s->type) {
	case KC_KEY_OCT:
		json_object_set_new(j, "kty", json_string("oct"));
		json_object_set_new(j, "k", b64_json(s->secret, s->secret_len));
		break;
	case KC_KEY_RSA:
		json_object_set_new(j, "kty", json_string("RSA"));
		json_object_set_new(j, "n", bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_N, 0));
		json_object_set_new(j, "e", bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
		break;
	case KC_KEY_EC_P256: case KC_KEY_EC_P384: case KC_KEY_EC_P521:
		json_object_set_new(j, "kty", json_string("EC"));
		json_object_set_new(j, "crv", json_string(curve_name(s->type)));
		json_object_set_new(j, "x", bn_param(s->pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord_len(s->type)));
		json_object_set_new(j, "y", bn_param(s->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord_len(s->type)));
		break;
	case KC_KEY_ED25519: {
		unsigned char pub[32];
		size_t len = sizeof(pub);
		json_object_set_new(j, "kty", json_string("OKP"));
		json_object_set_new(j, "crv", json_string("Ed25519"));
		if (EVP_PKEY_get_raw_public_key(s->pkey, pub, &len))
			json_object_set_new(j, "x", b64_json(pub, len));
		break;
	}
	case KC_KEY_NONE:
		break;
	}
	return j;
}

/* RFC 7638: SHA-256 over the required members in lexicographic order. */
static char *
thumbprint(const kc_signer *s)
{
	json_t *pub = public_members(s);
	if (pub == NULL)
		return NULL;
	static const char *const order[][5] = {
		[KC_KEY_OCT] = { "k", "kty", NULL },
		[KC_KEY_RSA] = { "e", "kty", "n", NULL },
		[KC_KEY_EC_P256] = { "crv", "kty", "x", "y", NULL },
		[KC_KEY_EC_P384] = { "crv", "kty", "x", "y", NULL },
		[KC_KEY_EC_P521] = { "crv", "kty", "x", "y", NULL },
		[KC_KEY_ED25519] = { "crv", "kty", "x", NULL },
	};
	json_t *canon = json_object();
	for (int i = 0; canon && order[s->type][i] != NULL; i++)
		json_object_set(canon, order[s->type][i], json_object_get(pub, order[s->type][i]));
	char *text = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
	char *out = NULL;
	if (text != NULL) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL))
			out = kc_b64url_encode_alloc(md, mdlen);
	}
	free(text);
	json_decref(canon);
	json_decref(pub);
	return out;
}

static bool
set_kid(kc_signer *s, const char *kid)
{
	free(s->kid);
	s->kid = kid ? strdup(kid) : thumbprint(s);
	return s->kid != NULL;
}

kc_signer *
kc_signer_generate(kc_alg alg, const char *kid, char *err, size_t errlen)
{
	kc_signer *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		fmt(err, errlen, "out of memory");
		return NULL;
	}
	s->alg = alg;
	s->type = kc_alg_keytype(alg);
	switch (s->type) {
	case KC_KEY_OCT:
		s->secret_len = kc_alg_hash_len(alg);
		s->secret = malloc(s->secret_len);
		if (s->secret == NULL || RAND_bytes(s->secret, (int)s->secret_len) != 1)
			goto fail;
		break;
	case KC_KEY_RSA:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case KC_KEY_EC_P256: case KC_KEY_EC_P384: case KC_KEY_EC_P521:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_name(s->type));
		break;
	case KC_KEY_ED25519:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case KC_KEY_NONE:
		fmt(err, errlen, "unknown algorithm");
		kc_signer_free(s);
		return NULL;
	}
	if (s->type != KC_KEY_OCT && s->pkey == NULL)
		goto fail;
	if (!set_kid(s, kid))
		goto fail;
	return s;
fail:
	ERR_clear_error();
	fmt(err, errlen, "key generation failed");
	kc_signer_free(s);
	return NULL;
}

/* ---- loading private keys ----------------------------------------------- */

static BIGNUM *
jwk_bn(const json_t *jwk, const char *name)
{
	const json_t *v = json_object_get(jwk, name);
	size_t len;
	unsigned char *b = json_is_string(v) ?
	    kc_b64url_decode_alloc(json_string_value(v), json_string_length(v), &len) : NULL;
	if (b == NULL)
		return NULL;
	BIGNUM *bn = BN_bin2bn(b, (int)len, NULL);
	OPENSSL_cleanse(b, len);
	free(b);
	return bn;
}

static const char *
load_private_jwk(kc_signer *s, const json_t *jwk)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	if (kty == NULL)
		return "JWK has no \"kty\"";
	if (strcmp(kty, "oct") == 0) {
		const json_t *k = json_object_get(jwk, "k");
		s->type = KC_KEY_OCT;
		if (!json_is_string(k) || (s->secret = kc_b64url_decode_alloc(json_string_value(k),
		    json_string_length(k), &s->secret_len)) == NULL)
			return "oct JWK needs a base64url \"k\"";
		return NULL;
	}
	if (strcmp(kty, "OKP") == 0) {
		const json_t *d = json_object_get(jwk, "d");
		size_t len;
		unsigned char *b;
		if (crv == NULL || strcmp(crv, "Ed25519") != 0)
			return "OKP JWK: only the Ed25519 curve is supported";
		if (!json_is_string(d) || (b = kc_b64url_decode_alloc(json_string_value(d),
		    json_string_length(d), &len)) == NULL)
			return "not a private key: JWK has no \"d\"";
		s->type = KC_KEY_ED25519;
		s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, b, len);
		OPENSSL_cleanse(b, len);
		free(b);
		return s->pkey ? NULL : "invalid Ed25519 private key";
	}
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn[8] = { NULL };
	const char *problem = NULL;
	if (bld == NULL)
		return "out of memory";
	if (strcmp(kty, "RSA") == 0) {
		static const char *const jname[8] = { "n", "e", "d", "p", "q", "dp", "dq", "qi" };
		static const char *const pname[8] = {
			OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
			OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
			OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
			OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		};
		s->type = KC_KEY_RSA;
		for (int i = 0; i < 8; i++) {
			bn[i] = jwk_bn(jwk, jname[i]);
			if (bn[i] == NULL && i < 3) {
				problem = "not a private key: RSA JWK needs \"n\", \"e\" and \"d\"";
				goto done;
			}
			if (bn[i] != NULL)
				OSSL_PARAM_BLD_push_BN(bld, pname[i], bn[i]);
		}
		if ((s->pkey = kc_pkey_fromdata("RSA", EVP_PKEY_KEYPAIR, bld)) == NULL)
			problem = "invalid RSA private key";
	} else if (strcmp(kty, "EC") == 0) {
		const char *group;
		if (crv && strcmp(crv, "P-256") == 0)
			s->type = KC_KEY_EC_P256, group = "prime256v1";
		else if (crv && strcmp(crv, "P-384") == 0)
			s->type = KC_KEY_EC_P384, group = "secp384r1";
		else if (crv && strcmp(crv, "P-521") == 0)
			s->type = KC_KEY_EC_P521, group = "secp521r1";
		else {
			problem = "EC JWK: curve not supported";
			goto done;
		}
		size_t c = coord_len(s->type);
		unsigned char pt[1 + 2 * 66];
		bn[0] = jwk_bn(jwk, "x");
		bn[1] = jwk_bn(jwk, "y");
		bn[2] = jwk_bn(jwk, "d");
		if (bn[2] == NULL) {
			problem = "not a private key: EC JWK has no \"d\"";
			goto done;
		}
		if (bn[0] == NULL || bn[1] == NULL) {
			problem = "EC JWK needs \"x\" and \"y\"";
			goto done;
		}
		pt[0] = 0x04;
		if (BN_bn2binpad(bn[0], pt + 1, (int)c) < 0 || BN_bn2binpad(bn[1], pt + 1 + c, (int)c) < 0) {
			problem = "EC JWK coordinates too long";
			goto done;
		}
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn[2]);
		if ((s->pkey = kc_pkey_fromdata("EC", EVP_PKEY_KEYPAIR, bld)) == NULL)
			problem = "invalid EC private key";
	} else {
		problem = "unsupported \"kty\"";
	}
done:
	for (int i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_BLD_free(bld);
	return problem;
}

kc_signer *
kc_signer_load_file(const char *path, kc_alg alg, const char *kid, char *err, size_t errlen)
{
	size_t len;
	char *text = kc_file_read(path, 1024 * 1024, &len);
	if (text == NULL) {
		fmt(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	kc_signer *s = calloc(1, sizeof(*s));
	const char *problem = NULL;
	kc_alg jwk_alg = KC_ALG_UNKNOWN;
	const char *jwk_kid = NULL;
	json_t *root = NULL;
	if (s == NULL) {
		problem = "out of memory";
		goto done;
	}
	size_t i = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
		i++;
	if (i < len && text[i] == '{') {
		json_error_t jerr;
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		const json_t *jwk = root;
		if (root == NULL) {
			problem = "not valid JSON";
			goto done;
		}
		/* A JWK set with exactly one key is accepted too. */
		const json_t *keys = json_object_get(root, "keys");
		if (keys != NULL) {
			if (!json_is_array(keys) || json_array_size(keys) != 1) {
				problem = "a JWK set must hold exactly one key to sign with";
				goto done;
			}
			jwk = json_array_get(keys, 0);
		}
		if ((problem = load_private_jwk(s, jwk)) != NULL)
			goto done;
		const json_t *a = json_object_get(jwk, "alg");
		if (a != NULL && (!json_is_string(a) || (jwk_alg = kc_alg_from_name(
		    json_string_value(a), json_string_length(a))) == KC_ALG_UNKNOWN)) {
			problem = "JWK \"alg\" is not a supported signature algorithm";
			goto done;
		}
		jwk_kid = json_string_value(json_object_get(jwk, "kid"));
	} else {
		OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&s->pkey, "PEM", NULL, NULL,
		    EVP_PKEY_KEYPAIR, NULL, NULL);
		const unsigned char *p = (const unsigned char *)text;
		size_t plen = len;
		if (d == NULL || !OSSL_DECODER_from_data(d, &p, &plen))
			s->pkey = NULL;
		OSSL_DECODER_CTX_free(d);
		if (s->pkey == NULL) {
			problem = "neither a JWK nor a PEM private key";
			goto done;
		}
		if ((s->type = kc_pkey_keytype(s->pkey)) == KC_KEY_NONE) {
			problem = "key type not supported";
			goto done;
		}
	}
	if (alg == KC_ALG_UNKNOWN)
		alg = jwk_alg;
	if (alg == KC_ALG_UNKNOWN) {
		/* Only an RSA key leaves the algorithm open. */
		kc_alg_set set = kc_keytype_algs(s->type);
		if (s->type == KC_KEY_EC_P256) alg = KC_ALG_ES256;
		else if (s->type == KC_KEY_EC_P384) alg = KC_ALG_ES384;
		else if (s->type == KC_KEY_EC_P521) alg = KC_ALG_ES512;
		else if (s->type == KC_KEY_ED25519) alg = KC_ALG_EDDSA;
		else if (set) {
			problem = "the key does not name its algorithm: give --alg";
			goto done;
		}
	}
	if (jwk_alg != KC_ALG_UNKNOWN && alg != jwk_alg) {
		problem = "the JWK is pinned to another algorithm";
		goto done;
	}
	if (kc_alg_keytype(alg) != s->type) {
		problem = "the algorithm does not fit the key type";
		goto done;
	}
	s->alg = alg;
	if (!set_kid(s, kid ? kid : jwk_kid))
		problem = "out of memory";
done:
	json_decref(root);
	OPENSSL_cleanse(text, len);
	free(text);
	ERR_clear_error();
	if (problem != NULL) {
		fmt(err, errlen, "%s: %s", path, problem);
		kc_signer_free(s);
		return NULL;
	}
	return s;
}

/* ---- export and signing ------------------------------------------------- */

static void
add_common(const kc_signer *s, json_t *j)
{
	json_object_set_new(j, "kid", json_string(s->kid));
	json_object_set_new(j, "use", json_string("sig"));
	json_object_set_new(j, "alg", json_string(kc_alg_name(s->alg)));
}

json_t *
kc_signer_public_jwk(const kc_signer *s)
{
	json_t *j = public_members(s);
	if (j != NULL)
		add_common(s, j);
	return j;
}

json_t *
kc_signer_private_jwk(const kc_signer *s)
{
	json_t *j = public_members(s);
	if (j == NULL)
		return NULL;
	add_common(s, j);
	switch (s->type) {
	case KC_KEY_RSA: {
		static const char *const jname[6] = { "d", "p", "q", "dp", "dq", "qi" };
		static const char *const pname[6] = {
			OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
			OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
			OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		};
		for (int i = 0; i < 6; i++) {
			json_t *v = bn_param(s->pkey, pname[i], 0);
			if (v != NULL)
				json_object_set_new(j, jname[i], v);
		}
		break;
	}
	case KC_KEY_EC_P256: case KC_KEY_EC_P384: case KC_KEY_EC_P521:
		json_object_set_new(j, "d", bn_param(s->pkey, OSSL_PKEY_PARAM_PRIV_KEY, coord_len(s->type)));
		break;
	case KC_KEY_ED25519: {
		unsigned char d[32];
		size_t len = sizeof(d);
		if (EVP_PKEY_get_raw_private_key(s->pkey, d, &len))
			json_object_set_new(j, "d", b64_json(d, len));
		OPENSSL_cleanse(d, sizeof(d));
		break;
	}
	case KC_KEY_OCT: case KC_KEY_NONE:
		break;
	}
	return j;
}

unsigned char *
kc_signer_sign_bytes(const kc_signer *s, const unsigned char *data, size_t len, size_t *sig_len)
{
	const char *dname = kc_alg_digest_name(s->alg);
	unsigned char *sig = NULL;
	size_t n = 0;

	if (s->type == KC_KEY_OCT) {
		sig = malloc(EVP_MAX_MD_SIZE);
		if (sig == NULL || EVP_Q_mac(NULL, "HMAC", NULL, dname, NULL, s->secret,
		    s->secret_len, data, len, sig, EVP_MAX_MD_SIZE, &n) == NULL) {
			free(sig);
			return NULL;
		}
		*sig_len = n;
		return sig;
	}

	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	if (ctx == NULL || EVP_DigestSignInit_ex(ctx, &pctx, dname, NULL, NULL, s->pkey, NULL) != 1)
		goto fail;
	if (s->alg == KC_ALG_PS256 || s->alg == KC_ALG_PS384 || s->alg == KC_ALG_PS512) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, dname, NULL) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
			goto fail;
	}
	if (EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || (sig = malloc(n)) == NULL ||
	    EVP_DigestSign(ctx, sig, &n, data, len) != 1)
		goto fail;
	EVP_MD_CTX_free(ctx);
	ctx = NULL;

	if (coord_len(s->type) > 0) {
		/* DER ECDSA-Sig-Value → raw R||S (RFC 7518 §3.4). */
		size_t c = coord_len(s->type);
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
		unsigned char *raw = malloc(2 * c);
		if (es == NULL || raw == NULL ||
		    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)c) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + c, (int)c) < 0) {
			ECDSA_SIG_free(es);
			free(raw);
			goto fail;
		}
		ECDSA_SIG_free(es);
		free(sig);
		sig = raw;
		n = 2 * c;
	}
	*sig_len = n;
	return sig;
fail:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(sig);
	return NULL;
}

char *
kc_signer_sign(const kc_signer *s, const json_t *extra_header, const char *typ,
    const unsigned char *payload, size_t payload_len)
{
	json_t *h = json_object();
	char *htext = NULL, *out = NULL, *pb64 = NULL, *sb64 = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	if (h == NULL)
		return NULL;
	json_object_set_new(h, "alg", json_string(kc_alg_name(s->alg)));
	json_object_set_new(h, "typ", json_string(typ ? typ : "JWT"));
	if (s->kid != NULL)
		json_object_set_new(h, "kid", json_string(s->kid));
	if (extra_header != NULL)
		json_object_update(h, (json_t *)extra_header);
	htext = json_dumps(h, JSON_COMPACT);
	if (htext == NULL)
		goto done;
	size_t hl = strlen(htext);
	size_t hb = KC_B64URL_ENCODED_LEN(hl), pb = KC_B64URL_ENCODED_LEN(payload_len);
	char *input = malloc(hb + 1 + pb + 1);
	if (input == NULL)
		goto done;
	kc_b64url_encode((const unsigned char *)htext, hl, input);
	input[hb] = '.';
	kc_b64url_encode(payload, payload_len, input + hb + 1);
	sig = kc_signer_sign_bytes(s, (unsigned char *)input, hb + 1 + pb, &sig_len);
	if (sig != NULL && (sb64 = kc_b64url_encode_alloc(sig, sig_len)) != NULL) {
		size_t sl = strlen(sb64);
		out = malloc(hb + 1 + pb + 1 + sl + 1);
		if (out != NULL) {
			memcpy(out, input, hb + 1 + pb);
			out[hb + 1 + pb] = '.';
			memcpy(out + hb + 1 + pb + 1, sb64, sl + 1);
		}
	}
	free(input);
done:
	json_decref(h);
	free(htext);
	free(pb64);
	free(sb64);
	free(sig);
	return out;
}
