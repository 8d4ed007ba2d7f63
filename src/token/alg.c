/* alg.c: the table of JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1). */
#include "config.h"

#include "token/alg.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	kc_keytype type;
	const char *digest;
	size_t hash_len;
} algs[KC_ALG__COUNT] = {
	[KC_ALG_UNKNOWN] = { NULL, KC_KEY_NONE, NULL, 0 },
	[KC_ALG_HS256] = { "HS256", KC_KEY_OCT, "SHA256", 32 },
	[KC_ALG_HS384] = { "HS384", KC_KEY_OCT, "SHA384", 48 },
	[KC_ALG_HS512] = { "HS512", KC_KEY_OCT, "SHA512", 64 },
	[KC_ALG_RS256] = { "RS256", KC_KEY_RSA, "SHA256", 32 },
	[KC_ALG_RS384] = { "RS384", KC_KEY_RSA, "SHA384", 48 },
	[KC_ALG_RS512] = { "RS512", KC_KEY_RSA, "SHA512", 64 },
	[KC_ALG_PS256] = { "PS256", KC_KEY_RSA, "SHA256", 32 },
	[KC_ALG_PS384] = { "PS384", KC_KEY_RSA, "SHA384", 48 },
	[KC_ALG_PS512] = { "PS512", KC_KEY_RSA, "SHA512", 64 },
	[KC_ALG_ES256] = { "ES256", KC_KEY_EC_P256, "SHA256", 32 },
	[KC_ALG_ES384] = { "ES384", KC_KEY_EC_P384, "SHA384", 48 },
	[KC_ALG_ES512] = { "ES512", KC_KEY_EC_P521, "SHA512", 64 },
	[KC_ALG_EDDSA] = { "EdDSA", KC_KEY_ED25519, NULL, 0 },
};

kc_alg
kc_alg_from_name(const char *name, size_t len)
{
	for (int a = 1; a < KC_ALG__COUNT; a++)
		if (strlen(algs[a].name) == len && memcmp(algs[a].name, name, len) == 0)
			return (kc_alg)a;
	return KC_ALG_UNKNOWN;
}

const char *
kc_alg_name(kc_alg alg)
{
	return alg > KC_ALG_UNKNOWN && alg < KC_ALG__COUNT ? algs[alg].name : "unknown";
}

bool
kc_alg_name_is_none(const char *name, size_t len)
{
	return len == 4 && strncasecmp(name, "none", 4) == 0;
}

kc_keytype
kc_alg_keytype(kc_alg alg)
{
	return alg > KC_ALG_UNKNOWN && alg < KC_ALG__COUNT ? algs[alg].type : KC_KEY_NONE;
}

size_t
kc_alg_hash_len(kc_alg alg)
{
	return alg > KC_ALG_UNKNOWN && alg < KC_ALG__COUNT ? algs[alg].hash_len : 0;
}

const char *
kc_alg_digest_name(kc_alg alg)
{
	return alg > KC_ALG_UNKNOWN && alg < KC_ALG__COUNT ? algs[alg].digest : NULL;
}

const char *
kc_keytype_name(kc_keytype t)
{
	switch (t) {
	case KC_KEY_OCT: return "oct";
	case KC_KEY_RSA: return "RSA";
	case KC_KEY_EC_P256: return "EC P-256";
	case KC_KEY_EC_P384: return "EC P-384";
	case KC_KEY_EC_P521: return "EC P-521";
	case KC_KEY_ED25519: return "OKP Ed25519";
	case KC_KEY_NONE: break;
	}
	return "none";
}

kc_alg_set
kc_keytype_algs(kc_keytype t)
{
	kc_alg_set set = 0;
	if (t == KC_KEY_NONE)
		return 0;
	for (int a = 1; a < KC_ALG__COUNT; a++)
		if (algs[a].type == t)
			set |= KC_ALG_BIT(a);
	return set;
}
