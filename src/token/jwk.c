/* jwk.c: verification keys, loaded once into EVP_PKEYs and ready contexts.
 *
 * The expensive, fallible work (decoding, curve checks, context setup) is
 * done here at load time so that kc_key_verify() on the request path only
 * copies a prepared context and runs the primitive. */
#include "config.h"

#include "token/jwk.h"

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
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/util.h"
#include "token/b64url.h"

struct kc_key {
	char *kid;                 /* NULL when the key has none */
	size_t kid_len;
	kc_keytype type;
	kc_alg alg;                /* pinned algorithm, or KC_ALG_UNKNOWN */
	kc_alg_set accepts;        /* algorithms this key verifies */
	EVP_PKEY *pkey;            /* asymmetric keys */
	unsigned char *secret;     /* oct keys */
	size_t secret_len;
	BIGNUM *order;             /* EC: the group order n, for r, s < n */
	size_t coord_len;          /* EC: bytes of one coordinate (R and S) */
	/* Prepared per-algorithm contexts, duplicated for each verification
	 * and never used directly, so that verifying is thread-safe: HMAC
	 * contexts with the key set (HS*); verify contexts with padding and
	 * digest set, fed the digest we compute with a fetched EVP_MD (RS, PS,
	 * ES: cheaper than EVP_DigestVerify, which copies its context again);
	 * a DigestVerify context for EdDSA, which hashes by itself. */
	EVP_MAC_CTX *mac[KC_ALG__COUNT];
	EVP_PKEY_CTX *pk[KC_ALG__COUNT];
	EVP_MD *digest[KC_ALG__COUNT];
	EVP_MD_CTX *md;
};

struct kc_keyset {
	kc_key **keys;
	size_t n, cap;
};

/* ---- small helpers ------------------------------------------------------ */

/* One line, printable: messages may quote input (jansson's "near '…'"). */
static void
fmt(char *buf, size_t len, const char *f, ...)
{
	if (buf == NULL || len == 0)
		return;
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* A printable, bounded rendering of an untrusted kid for messages. */
static void
kid_label(const char *kid, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	if (kid == NULL) {
		snprintf(out, outlen, "(no kid)");
		return;
	}
	out[o++] = '"';
	for (size_t i = 0; i < len && o + 6 < outlen; i++) {
		unsigned char c = (unsigned char)kid[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
		if (i == 63 && len > 64) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
	}
	if (o + 1 < outlen)
		out[o++] = '"';
	out[o < outlen ? o : outlen - 1] = '\0';
}

static void
warnf(kc_warn_fn warn, void *ctx, const char *f, ...)
{
	if (warn == NULL)
		return;
	char msg[320];
	va_list ap;
	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	warn(ctx, msg);
}

static void
key_free(kc_key *k)
{
	if (k == NULL)
		return;
	for (int a = 0; a < KC_ALG__COUNT; a++) {
		EVP_MAC_CTX_free(k->mac[a]);
		EVP_PKEY_CTX_free(k->pk[a]);
		EVP_MD_free(k->digest[a]);
	}
	EVP_MD_CTX_free(k->md);
	EVP_PKEY_free(k->pkey);
	if (k->secret != NULL)
		OPENSSL_cleanse(k->secret, k->secret_len);
	free(k->secret);
	BN_free(k->order);
	free(k->kid);
	free(k);
}

kc_keyset *
kc_keyset_new(void)
{
	return calloc(1, sizeof(kc_keyset));
}

void
kc_keyset_free(kc_keyset *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++)
		key_free(ks->keys[i]);
	free(ks->keys);
	free(ks);
}

size_t
kc_keyset_count(const kc_keyset *ks)
{
	return ks->n;
}

const kc_key *
kc_keyset_get(const kc_keyset *ks, size_t i)
{
	return i < ks->n ? ks->keys[i] : NULL;
}

kc_alg_set
kc_keyset_algs(const kc_keyset *ks)
{
	kc_alg_set set = 0;
	for (size_t i = 0; i < ks->n; i++)
		set |= ks->keys[i]->accepts;
	return set;
}

const char *kc_key_kid(const kc_key *k) { return k->kid; }
kc_keytype kc_key_type(const kc_key *k) { return k->type; }
kc_alg kc_key_alg(const kc_key *k) { return k->alg; }
EVP_PKEY *kc_key_pkey(const kc_key *k) { return k->pkey; }

bool
kc_key_accepts(const kc_key *k, kc_alg alg)
{
	return alg > KC_ALG_UNKNOWN && alg < KC_ALG__COUNT && (k->accepts & KC_ALG_BIT(alg));
}

static int
keyset_push(kc_keyset *ks, kc_key *k)
{
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;
		kc_key **nk = realloc(ks->keys, cap * sizeof(*nk));
		if (nk == NULL)
			return -1;
		ks->keys = nk;
		ks->cap = cap;
	}
	ks->keys[ks->n++] = k;
	return 0;
}

/* ---- checks on RSA keys ------------------------------------------------- */

/* ROCA (CVE-2017-15361): moduli from the flawed Infineon generator satisfy
 * n mod p ∈ <65537> (mod p) for every small prime p below; a random modulus
 * does so with negligible probability. The test of Nemec et al. */
static bool
rsa_has_roca_fingerprint(const BIGNUM *n)
{
	static const unsigned primes[] = {
		3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67,
		71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139,
		149, 151, 157, 163, 167,
	};
	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
		unsigned p = primes[i];
		BN_ULONG r = BN_mod_word(n, p);
		if (r == (BN_ULONG)-1)
			return false;
		unsigned g = 65537 % p, x = 1;
		bool in_subgroup = false;
		for (unsigned k = 0; k < p; k++) {
			if (x == r) {
				in_subgroup = true;
				break;
			}
			x = (x * g) % p;
			if (x == 1)
				break;
		}
		if (!in_subgroup)
			return false;
	}
	return true;
}

/* Returns NULL if the RSA key is acceptable, else the reason. */
static const char *
rsa_key_problem(EVP_PKEY *pkey, char *buf, size_t len)
{
	BIGNUM *n = NULL, *e = NULL;
	const char *problem = NULL;
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
		problem = "cannot read the RSA modulus and exponent";
		goto done;
	}
	int bits = BN_num_bits(n);
	if (bits < KC_RSA_MIN_BITS) {
		snprintf(buf, len, "RSA key of %d bits is too weak (at least %d required)",
		    bits, KC_RSA_MIN_BITS);
		problem = buf;
	} else if (bits > 16384) {
		problem = "RSA key larger than 16384 bits";
	} else if (BN_cmp(e, BN_value_one()) <= 0 || BN_num_bits(e) < 2 || !BN_is_odd(e)) {
		problem = "RSA public exponent must be odd and at least 3";
	} else if (BN_num_bits(e) > 256) {
		problem = "RSA public exponent is unreasonably large";
	} else if (rsa_has_roca_fingerprint(n)) {
		problem = "RSA key has the ROCA fingerprint (CVE-2017-15361)";
	}
done:
	BN_free(n);
	BN_free(e);
	return problem;
}

/* ---- preparing a key ---------------------------------------------------- */

static bool
prepare_verify_ctx(kc_key *k, kc_alg alg)
{
	if (k->type == KC_KEY_ED25519) {
		/* EdDSA signs the message itself (RFC 8037 §3.1): no digest. */
		if (k->md != NULL)
			return true;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (ctx == NULL || EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1) {
			EVP_MD_CTX_free(ctx);
			return false;
		}
		k->md = ctx;
		return true;
	}
	const char *dname = kc_alg_digest_name(alg);
	EVP_MD *md = EVP_MD_fetch(NULL, dname, NULL);
	EVP_PKEY_CTX *pctx = md ? EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL) : NULL;
	if (pctx == NULL || EVP_PKEY_verify_init(pctx) != 1)
		goto fail;
	if (alg == KC_ALG_PS256 || alg == KC_ALG_PS384 || alg == KC_ALG_PS512) {
		/* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
			goto fail;
	} else if (k->type == KC_KEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
			goto fail;
	}
	if (EVP_PKEY_CTX_set_signature_md(pctx, md) != 1)
		goto fail;
	k->pk[alg] = pctx;
	k->digest[alg] = md;
	return true;
fail:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_free(md);
	return false;
}

static bool
prepare_mac_ctx(kc_key *k, kc_alg alg)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (ctx == NULL)
		return false;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)kc_alg_digest_name(alg), 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(ctx, k->secret, k->secret_len, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return false;
	}
	k->mac[alg] = ctx;
	return true;
}

/* Completes k (type, pkey or secret, alg already set), checks it and adds it.
 * Takes ownership of k. Returns 1 if added, 0 if refused (warned), -1 on
 * allocation failure. */
static int
finish_key(kc_keyset *ks, kc_key *k, const char *label, kc_warn_fn warn, void *wctx)
{
	char buf[160];
	const char *problem = NULL;

	kc_alg_set algs = kc_keytype_algs(k->type);
	if (k->alg != KC_ALG_UNKNOWN) {
		if (!(algs & KC_ALG_BIT(k->alg))) {
			snprintf(buf, sizeof(buf), "alg %s does not fit a %s key",
			    kc_alg_name(k->alg), kc_keytype_name(k->type));
			problem = buf;
			goto refuse;
		}
		algs = KC_ALG_BIT(k->alg);
	}

	if (k->type == KC_KEY_OCT) {
		/* RFC 7518 §3.2: a key at least as long as the hash output. */
		size_t need = k->alg != KC_ALG_UNKNOWN ? kc_alg_hash_len(k->alg) : 32;
		if (k->secret_len < need) {
			snprintf(buf, sizeof(buf),
			    "HMAC secret of %zu bytes is too short (at least %zu required)",
			    k->secret_len, need);
			problem = buf;
			goto refuse;
		}
		for (int a = KC_ALG_HS256; a <= KC_ALG_HS512; a++) {
			if (!(algs & KC_ALG_BIT(a)))
				continue;
			if (k->secret_len < kc_alg_hash_len((kc_alg)a)) {
				algs &= ~KC_ALG_BIT(a);
				continue;
			}
			if (!prepare_mac_ctx(k, (kc_alg)a))
				goto internal;
		}
	} else {
		if (k->type == KC_KEY_RSA) {
			if ((problem = rsa_key_problem(k->pkey, buf, sizeof(buf))) != NULL)
				goto refuse;
		} else {
			EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
			int ok = pc != NULL && EVP_PKEY_public_check(pc) == 1;
			EVP_PKEY_CTX_free(pc);
			if (!ok) {
				problem = "public key is not a valid point on its curve";
				goto refuse;
			}
		}
		if (k->type == KC_KEY_EC_P256 || k->type == KC_KEY_EC_P384 ||
		    k->type == KC_KEY_EC_P521) {
			int nid = k->type == KC_KEY_EC_P256 ? NID_X9_62_prime256v1 :
			    k->type == KC_KEY_EC_P384 ? NID_secp384r1 : NID_secp521r1;
			EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
			if (g == NULL)
				goto internal;
			k->order = BN_dup(EC_GROUP_get0_order(g));
			k->coord_len = (size_t)(EC_GROUP_get_degree(g) + 7) / 8;
			EC_GROUP_free(g);
			if (k->order == NULL)
				goto internal;
		}
		for (int a = 1; a < KC_ALG__COUNT; a++)
			if ((algs & KC_ALG_BIT(a)) && !prepare_verify_ctx(k, (kc_alg)a))
				goto internal;
	}
	k->accepts = algs;
	if (keyset_push(ks, k) != 0) {
		key_free(k);
		return -1;
	}
	return 1;

refuse:
	warnf(warn, wctx, "%s: %s: key skipped", label, problem);
	key_free(k);
	return 0;
internal:
	warnf(warn, wctx, "%s: OpenSSL could not prepare the key: key skipped", label);
	ERR_clear_error();
	key_free(k);
	return 0;
}

static kc_key *
key_new(const char *kid, size_t kid_len, kc_alg alg)
{
	kc_key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	if (kid != NULL) {
		k->kid = malloc(kid_len + 1);
		if (k->kid == NULL) {
			free(k);
			return NULL;
		}
		memcpy(k->kid, kid, kid_len);
		k->kid[kid_len] = '\0';
		k->kid_len = kid_len;
	}
	k->alg = alg;
	return k;
}

/* Classifies an EVP_PKEY loaded from PEM, X.509 or parameters. */
kc_keytype
kc_pkey_keytype(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return KC_KEY_RSA;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return KC_KEY_ED25519;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), NULL))
			return KC_KEY_NONE;
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return KC_KEY_EC_P256;
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			return KC_KEY_EC_P384;
		if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
			return KC_KEY_EC_P521;
	}
	return KC_KEY_NONE;
}

/* ---- JWK parsing -------------------------------------------------------- */

/* Decodes a base64url JWK member; NULL if absent or malformed (then *bad). */
static unsigned char *
jwk_bytes(const json_t *jwk, const char *name, size_t *len, bool *bad)
{
	const json_t *v = json_object_get(jwk, name);
	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	unsigned char *b = kc_b64url_decode_alloc(json_string_value(v),
	    json_string_length(v), len);
	if (b == NULL)
		*bad = true;
	return b;
}

EVP_PKEY *
kc_pkey_fromdata(const char *type, int selection, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static const char *
jwk_rsa(const json_t *jwk, EVP_PKEY **out)
{
	bool bad = false;
	size_t nlen = 0, elen = 0;
	unsigned char *n = jwk_bytes(jwk, "n", &nlen, &bad);
	unsigned char *e = jwk_bytes(jwk, "e", &elen, &bad);
	const char *problem = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	if (bad || n == NULL || e == NULL || nlen == 0 || elen == 0) {
		problem = "RSA key needs base64url members \"n\" and \"e\"";
		goto done;
	}
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (*out = kc_pkey_fromdata("RSA", EVP_PKEY_PUBLIC_KEY, bld)) == NULL)
		problem = "RSA key could not be built from \"n\" and \"e\"";
done:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return problem;
}

static const char *
jwk_ec(const json_t *jwk, kc_keytype *type, EVP_PKEY **out)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	const char *group;
	size_t clen;
	if (crv == NULL)
		return "EC key without \"crv\"";
	if (strcmp(crv, "P-256") == 0) {
		*type = KC_KEY_EC_P256, group = "prime256v1", clen = 32;
	} else if (strcmp(crv, "P-384") == 0) {
		*type = KC_KEY_EC_P384, group = "secp384r1", clen = 48;
	} else if (strcmp(crv, "P-521") == 0) {
		*type = KC_KEY_EC_P521, group = "secp521r1", clen = 66;
	} else {
		return "EC curve not supported (P-256, P-384, P-521 are)";
	}
	bool bad = false;
	size_t xlen = 0, ylen = 0;
	unsigned char *x = jwk_bytes(jwk, "x", &xlen, &bad);
	unsigned char *y = jwk_bytes(jwk, "y", &ylen, &bad);
	const char *problem = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	unsigned char pt[1 + 2 * 66];
	if (bad || x == NULL || y == NULL) {
		problem = "EC key needs base64url members \"x\" and \"y\"";
		goto done;
	}
	/* RFC 7518 §6.2.1.2: each coordinate is exactly the curve size. */
	if (xlen != clen || ylen != clen) {
		problem = "EC coordinates do not have the curve's length";
		goto done;
	}
	pt[0] = 0x04;
	memcpy(pt + 1, x, clen);
	memcpy(pt + 1 + clen, y, clen);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * clen) ||
	    (*out = kc_pkey_fromdata("EC", EVP_PKEY_PUBLIC_KEY, bld)) == NULL)
		problem = "EC public key is not a valid point on its curve";
done:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return problem;
}

static const char *
jwk_okp(const json_t *jwk, EVP_PKEY **out)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	if (crv == NULL || strcmp(crv, "Ed25519") != 0)
		return "OKP curve not supported (Ed25519 is)";
	bool bad = false;
	size_t xlen = 0;
	unsigned char *x = jwk_bytes(jwk, "x", &xlen, &bad);
	const char *problem = NULL;
	if (bad || x == NULL || xlen != 32)
		problem = "Ed25519 key needs a 32-byte base64url \"x\"";
	else if ((*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen)) == NULL)
		problem = "Ed25519 public key could not be built";
	free(x);
	return problem;
}

/* Adds one JWK; label names it in warnings. allow_oct is false for a JWKS
 * that also publishes asymmetric keys. Returns 1 added, 0 skipped, -1 OOM. */
static int
add_jwk(kc_keyset *ks, const json_t *jwk, const char *where, bool allow_oct,
    kc_warn_fn warn, void *wctx)
{
	char label[160], kidbuf[96];
	const json_t *jkid = json_object_get(jwk, "kid");
	const char *kid = json_is_string(jkid) ? json_string_value(jkid) : NULL;
	size_t kid_len = kid ? json_string_length(jkid) : 0;

	kid_label(kid, kid_len, kidbuf, sizeof(kidbuf));
	snprintf(label, sizeof(label), "%s (kid %s)", where, kidbuf);

	if (!json_is_object(jwk)) {
		warnf(warn, wctx, "%s: not a JSON object: key skipped", where);
		return 0;
	}
	if (jkid != NULL && !json_is_string(jkid)) {
		warnf(warn, wctx, "%s: \"kid\" is not a string: key skipped", label);
		return 0;
	}
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	if (kty == NULL) {
		warnf(warn, wctx, "%s: no \"kty\": key skipped", label);
		return 0;
	}
	/* RFC 7517 §4.2: a key meant for encryption must not verify signatures. */
	const json_t *use = json_object_get(jwk, "use");
	if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0)) {
		warnf(warn, wctx, "%s: \"use\" is not \"sig\": key skipped", label);
		return 0;
	}
	/* RFC 7517 §4.3: when key_ops is given it must permit "verify". */
	const json_t *ops = json_object_get(jwk, "key_ops");
	if (ops != NULL) {
		bool verify = false;
		size_t i;
		const json_t *op;
		if (!json_is_array(ops)) {
			warnf(warn, wctx, "%s: \"key_ops\" is not an array: key skipped", label);
			return 0;
		}
		json_array_foreach(ops, i, op)
			if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
				verify = true;
		if (!verify) {
			warnf(warn, wctx, "%s: \"key_ops\" does not include \"verify\": key skipped", label);
			return 0;
		}
	}
	kc_alg alg = KC_ALG_UNKNOWN;
	const json_t *jalg = json_object_get(jwk, "alg");
	if (jalg != NULL) {
		if (!json_is_string(jalg) ||
		    (alg = kc_alg_from_name(json_string_value(jalg), json_string_length(jalg))) == KC_ALG_UNKNOWN) {
			warnf(warn, wctx, "%s: \"alg\" is not a supported signature algorithm: key skipped", label);
			return 0;
		}
	}

	kc_key *k = key_new(kid, kid_len, alg);
	if (k == NULL)
		return -1;
	const char *problem = NULL;
	if (strcmp(kty, "RSA") == 0) {
		k->type = KC_KEY_RSA;
		problem = jwk_rsa(jwk, &k->pkey);
	} else if (strcmp(kty, "EC") == 0) {
		problem = jwk_ec(jwk, &k->type, &k->pkey);
	} else if (strcmp(kty, "OKP") == 0) {
		k->type = KC_KEY_ED25519;
		problem = jwk_okp(jwk, &k->pkey);
	} else if (strcmp(kty, "oct") == 0) {
		k->type = KC_KEY_OCT;
		bool bad = false;
		if (!allow_oct)
			problem = "symmetric key in a key set that also holds public keys";
		else if ((k->secret = jwk_bytes(jwk, "k", &k->secret_len, &bad)) == NULL)
			problem = "oct key needs a base64url member \"k\"";
	} else {
		problem = "unsupported \"kty\"";
	}
	if (problem != NULL) {
		ERR_clear_error();
		warnf(warn, wctx, "%s: %s: key skipped", label, problem);
		key_free(k);
		return 0;
	}
	return finish_key(ks, k, label, warn, wctx);
}

int
kc_keyset_load_jwk(kc_keyset *ks, const json_t *jwk, kc_warn_fn warn, void *wctx,
    char *err, size_t errlen)
{
	if (!json_is_object(jwk)) {
		fmt(err, errlen, "a JWK must be a JSON object");
		return -1;
	}
	int r = add_jwk(ks, jwk, "JWK", true, warn, wctx);
	if (r < 0)
		fmt(err, errlen, "out of memory");
	return r;
}

int
kc_keyset_load_jwks(kc_keyset *ks, const char *text, size_t len, kc_warn_fn warn,
    void *wctx, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson quotes the text "near" the error, which may be a
		 * secret ("k"): keep its words, not the quote. */
		char *near = strstr(jerr.text, " near ");
		if (near != NULL)
			*near = '\0';
		fmt(err, errlen, "not valid JSON (line %d, column %d): %s",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	json_t *keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		json_decref(root);
		fmt(err, errlen, "not a JWK set: no \"keys\" array");
		return -1;
	}
	/* A published key set must never carry secrets; if it holds public
	 * keys too, its oct keys are refused rather than trusted. */
	bool has_asym = false;
	size_t i;
	json_t *jwk;
	json_array_foreach(keys, i, jwk) {
		const char *kty = json_string_value(json_object_get(jwk, "kty"));
		if (kty != NULL && strcmp(kty, "oct") != 0)
			has_asym = true;
	}
	int added = 0;
	json_array_foreach(keys, i, jwk) {
		char where[32];
		snprintf(where, sizeof(where), "key %zu", i + 1);
		int r = add_jwk(ks, jwk, where, !has_asym, warn, wctx);
		if (r < 0) {
			json_decref(root);
			fmt(err, errlen, "out of memory");
			return -1;
		}
		added += r;
	}
	json_decref(root);
	return added;
}

int
kc_keyset_load_jwks_file(kc_keyset *ks, const char *path, kc_warn_fn warn, void *wctx,
    char *err, size_t errlen)
{
	size_t len;
	char *text = kc_file_read(path, KC_JWKS_MAX_FILE, &len);
	if (text == NULL) {
		fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char inner[200];
	int r = kc_keyset_load_jwks(ks, text, len, warn, wctx, inner, sizeof(inner));
	OPENSSL_cleanse(text, len);   /* it may hold "oct" secrets */
	free(text);
	if (r < 0)
		fmt(err, errlen, "%s: %s", path, inner);
	return r;
}

static kc_alg
alg_arg(const char *alg, char *err, size_t errlen, bool *ok)
{
	*ok = true;
	if (alg == NULL)
		return KC_ALG_UNKNOWN;
	kc_alg a = kc_alg_from_name(alg, strlen(alg));
	if (a == KC_ALG_UNKNOWN) {
		fmt(err, errlen, "unknown algorithm '%s'", alg);
		*ok = false;
	}
	return a;
}

int
kc_keyset_load_pem_file(kc_keyset *ks, const char *path, const char *kid, const char *alg,
    kc_warn_fn warn, void *wctx, char *err, size_t errlen)
{
	bool ok;
	kc_alg a = alg_arg(alg, err, errlen, &ok);
	if (!ok)
		return -1;
	size_t len;
	char *text = kc_file_read(path, KC_JWKS_MAX_FILE, &len);
	if (text == NULL) {
		fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	EVP_PKEY *pkey = NULL;
	/* A public key ("PUBLIC KEY" or "RSA PUBLIC KEY") first, then a certificate. */
	OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
	    EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	const unsigned char *p = (const unsigned char *)text;
	size_t plen = len;
	if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &p, &plen))
		pkey = NULL;
	OSSL_DECODER_CTX_free(dctx);
	if (pkey == NULL) {
		BIO *bio = BIO_new_mem_buf(text, (int)len);
		X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		if (cert != NULL)
			pkey = X509_get_pubkey(cert);
		X509_free(cert);
		BIO_free(bio);
	}
	free(text);
	ERR_clear_error();
	if (pkey == NULL) {
		fmt(err, errlen, "%s: no PEM public key or certificate found", path);
		return -1;
	}
	kc_key *k = key_new(kid, kid ? strlen(kid) : 0, a);
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		fmt(err, errlen, "out of memory");
		return -1;
	}
	k->pkey = pkey;
	k->type = kc_pkey_keytype(pkey);
	if (k->type == KC_KEY_NONE) {
		key_free(k);
		fmt(err, errlen, "%s: key type not supported (RSA, EC P-256/384/521, Ed25519 are)", path);
		return -1;
	}
	int r = finish_key(ks, k, path, warn, wctx);
	if (r < 0)
		fmt(err, errlen, "out of memory");
	return r;
}

int
kc_keyset_add_secret(kc_keyset *ks, const unsigned char *secret, size_t len, const char *kid,
    const char *alg, kc_warn_fn warn, void *wctx, char *err, size_t errlen)
{
	bool ok;
	kc_alg a = alg_arg(alg, err, errlen, &ok);
	if (!ok)
		return -1;
	kc_key *k = key_new(kid, kid ? strlen(kid) : 0, a);
	if (k == NULL || (k->secret = malloc(len ? len : 1)) == NULL) {
		key_free(k);
		fmt(err, errlen, "out of memory");
		return -1;
	}
	memcpy(k->secret, secret, len);
	k->secret_len = len;
	k->type = KC_KEY_OCT;
	int r = finish_key(ks, k, "secret", warn, wctx);
	if (r < 0)
		fmt(err, errlen, "out of memory");
	return r;
}

int
kc_keyset_load_secret_file(kc_keyset *ks, const char *path, const char *kid, const char *alg,
    kc_warn_fn warn, void *wctx, char *err, size_t errlen)
{
	size_t len;
	char *text = kc_file_read(path, 64 * 1024, &len);
	if (text == NULL) {
		fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t file_len = len;
	if (len > 0 && text[len - 1] == '\n') {
		len--;
		if (len > 0 && text[len - 1] == '\r')
			len--;
	}
	int r = kc_keyset_add_secret(ks, (unsigned char *)text, len, kid, alg, warn, wctx,
	    err, errlen);
	OPENSSL_cleanse(text, file_len);
	free(text);
	return r;
}

/* ---- selection and verification ----------------------------------------- */

kc_token_reason
kc_keyset_select(const kc_keyset *ks, kc_alg alg, const char *kid, size_t kid_len,
    const kc_key **out)
{
	const kc_key *found = NULL;
	size_t count = 0;
	bool kid_known = false;

	*out = NULL;
	if (kid != NULL) {
		for (size_t i = 0; i < ks->n; i++) {
			const kc_key *k = ks->keys[i];
			if (k->kid == NULL || k->kid_len != kid_len || memcmp(k->kid, kid, kid_len) != 0)
				continue;
			kid_known = true;
			if (kc_key_accepts(k, alg)) {
				found = k;
				count++;
			}
		}
		if (kid_known) {
			if (count == 0)
				return KC_TOK_KEY_NOT_FOUND;
			if (count > 1)
				return KC_TOK_KEY_AMBIGUOUS;
			*out = found;
			return KC_TOK_OK;
		}
	}
	/* No key carries this kid (or the token names none): keys without a kid
	 * stand in for a token's kid; without a kid any fitting key may. */
	for (size_t i = 0; i < ks->n; i++) {
		const kc_key *k = ks->keys[i];
		if (kid != NULL && k->kid != NULL)
			continue;
		if (kc_key_accepts(k, alg)) {
			found = k;
			count++;
		}
	}
	if (count == 0)
		return KC_TOK_KEY_NOT_FOUND;
	if (count > 1)
		return KC_TOK_KEY_AMBIGUOUS;
	*out = found;
	return KC_TOK_OK;
}

static kc_token_reason
verify_hmac(const kc_key *k, kc_alg alg, const unsigned char *data, size_t len,
    const unsigned char *sig, size_t sig_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->mac[alg]);
	if (ctx == NULL)
		return KC_TOK_INTERNAL;
	int ok = EVP_MAC_update(ctx, data, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1;
	EVP_MAC_CTX_free(ctx);
	if (!ok)
		return KC_TOK_INTERNAL;
	/* RFC 7515 §10.7 / RFC 8725: compare in constant time, full length only. */
	if (sig_len != mac_len || !kc_ct_equal(mac, sig, mac_len))
		return KC_TOK_BAD_SIGNATURE;
	return KC_TOK_OK;
}

/* RFC 7518 §3.4: R||S, each exactly the curve size, turned into the DER
 * OpenSSL verifies. r and s outside [1, n-1] are refused before OpenSSL
 * sees them (CVE-2022-21449, "psychic signatures", in another library). */
static kc_token_reason
ecdsa_raw_to_der(const kc_key *k, const unsigned char *sig, size_t sig_len,
    unsigned char *der, size_t der_cap, size_t *der_len)
{
	size_t c = k->coord_len;
	if (sig_len != 2 * c)
		return KC_TOK_BAD_SIGNATURE;
	kc_token_reason r = KC_TOK_INTERNAL;
	BIGNUM *br = BN_bin2bn(sig, (int)c, NULL);
	BIGNUM *bs = BN_bin2bn(sig + c, (int)c, NULL);
	ECDSA_SIG *es = NULL;
	if (br == NULL || bs == NULL)
		goto done;
	if (BN_is_zero(br) || BN_is_zero(bs) || BN_cmp(br, k->order) >= 0 ||
	    BN_cmp(bs, k->order) >= 0) {
		r = KC_TOK_BAD_SIGNATURE;
		goto done;
	}
	if ((es = ECDSA_SIG_new()) == NULL || !ECDSA_SIG_set0(es, br, bs))
		goto done;
	br = bs = NULL;
	int n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0 || (size_t)n > der_cap)
		goto done;
	unsigned char *p = der;
	*der_len = (size_t)i2d_ECDSA_SIG(es, &p);
	r = KC_TOK_OK;
done:
	ECDSA_SIG_free(es);
	BN_free(br);
	BN_free(bs);
	return r;
}

kc_token_reason
kc_key_verify(const kc_key *k, kc_alg alg, const unsigned char *data, size_t data_len,
    const unsigned char *sig, size_t sig_len)
{
	if (!kc_key_accepts(k, alg))
		return KC_TOK_KEY_NOT_FOUND;
	if (k->type == KC_KEY_OCT)
		return verify_hmac(k, alg, data, data_len, sig, sig_len);

	unsigned char der[160];
	if (k->type == KC_KEY_EC_P256 || k->type == KC_KEY_EC_P384 || k->type == KC_KEY_EC_P521) {
		size_t der_len = 0;
		kc_token_reason r = ecdsa_raw_to_der(k, sig, sig_len, der, sizeof(der), &der_len);
		if (r != KC_TOK_OK)
			return r;
		sig = der;
		sig_len = der_len;
	} else if (k->type == KC_KEY_RSA) {
		/* RFC 8017 §8.2.2: the signature is exactly the modulus length. */
		if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey))
			return KC_TOK_BAD_SIGNATURE;
	} else if (k->type == KC_KEY_ED25519 && sig_len != 64) {
		return KC_TOK_BAD_SIGNATURE;
	}

	kc_token_reason r = KC_TOK_INTERNAL;
	if (k->type == KC_KEY_ED25519) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (ctx != NULL && EVP_MD_CTX_copy_ex(ctx, k->md) == 1)
			r = EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1 ?
			    KC_TOK_OK : KC_TOK_BAD_SIGNATURE;
		EVP_MD_CTX_free(ctx);
	} else {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int md_len = 0;
		EVP_PKEY_CTX *ctx = NULL;
		if (EVP_Digest(data, data_len, md, &md_len, k->digest[alg], NULL) == 1 &&
		    (ctx = EVP_PKEY_CTX_dup(k->pk[alg])) != NULL)
			r = EVP_PKEY_verify(ctx, sig, sig_len, md, md_len) == 1 ?
			    KC_TOK_OK : KC_TOK_BAD_SIGNATURE;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	return r;
}
