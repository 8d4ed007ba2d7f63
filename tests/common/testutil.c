/* testutil.c: helpers shared by the Criterion tests (see testutil.h). */
#include "config.h"

#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "core/util.h"
#include "token/b64url.h"

const char *
kct_data_path(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("KC_TEST_DATA");
	snprintf(buf, sizeof(buf), "%s/%s", dir && *dir ? dir : "tests/data", name);
	return buf;
}

char *
kct_data_read(const char *name, size_t *len)
{
	size_t n;
	char *text = kc_file_read(kct_data_path(name), 64 * 1024 * 1024, &n);
	cr_assert_not_null(text, "cannot read test data %s", kct_data_path(name));
	if (len != NULL)
		*len = n;
	return text;
}

kc_keyset *
kct_keyset_of(const kc_signer *s)
{
	json_t *pub = kc_signer_public_jwk(s);
	cr_assert_not_null(pub);
	json_t *set = json_pack("{s:[o]}", "keys", pub);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	kc_keyset *ks = kct_keyset_from_json(text);
	free(text);
	cr_assert_eq(kc_keyset_count(ks), 1, "public key of the signer did not load");
	return ks;
}

kc_keyset *
kct_keyset_from_json(const char *jwks)
{
	char err[256] = "";
	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	int r = kc_keyset_load_jwks(ks, jwks, strlen(jwks), NULL, NULL, err, sizeof(err));
	cr_assert_geq(r, 0, "not a JWKS: %s", err);
	return ks;
}

char *
kct_sign(const kc_signer *s, const char *payload)
{
	char *tok = kc_signer_sign(s, NULL, NULL, (const unsigned char *)payload, strlen(payload));
	cr_assert_not_null(tok);
	return tok;
}

static char *
signing_input(const char *header_json, const char *payload)
{
	size_t hl = strlen(header_json), pl = strlen(payload);
	char *out = malloc(KC_B64URL_ENCODED_LEN(hl) + 1 + KC_B64URL_ENCODED_LEN(pl) + 1);
	cr_assert_not_null(out);
	size_t n = kc_b64url_encode((const unsigned char *)header_json, hl, out);
	out[n++] = '.';
	kc_b64url_encode((const unsigned char *)payload, pl, out + n);
	return out;
}

char *
kct_forge(const char *header_json, const char *payload, const unsigned char *sig, size_t sig_len)
{
	char *in = signing_input(header_json, payload);
	size_t il = strlen(in);
	char *out = malloc(il + 1 + KC_B64URL_ENCODED_LEN(sig_len) + 1);
	cr_assert_not_null(out);
	memcpy(out, in, il);
	out[il] = '.';
	kc_b64url_encode(sig, sig_len, out + il + 1);
	free(in);
	return out;
}

char *
kct_sign_raw(const kc_signer *s, const char *header_json, const char *payload)
{
	char *in = signing_input(header_json, payload);
	size_t sig_len;
	unsigned char *sig = kc_signer_sign_bytes(s, (const unsigned char *)in, strlen(in), &sig_len);
	cr_assert_not_null(sig);
	char *tok = kct_forge(header_json, payload, sig, sig_len);
	free(sig);
	free(in);
	return tok;
}

kc_token_reason
kct_jws(const kc_keyset *ks, const char *token)
{
	kc_arena *a = kc_arena_new(4096);
	kc_jws jws;
	kc_jws_opts opts = { 0 };
	kc_token_reason r = kc_jws_verify(ks, token, strlen(token), &opts, a, &jws);
	kc_arena_free(a);
	return r;
}

kc_token_reason
kct_jwt(kc_keyset *ks, const kc_verifier_opts *opts, const char *token, int64_t now)
{
	kc_verifier *v = kc_verifier_new(ks, opts);
	cr_assert_not_null(v);
	kc_arena *a = kc_arena_new(4096);
	kc_token t;
	kc_token_reason r = kc_token_verify(v, token, strlen(token), now, a, &t, NULL, 0);
	kc_arena_free(a);
	kc_verifier_free(v);
	return r;
}

void
kct_tmpdir(char *dir, size_t size, const char *tag)
{
	snprintf(dir, size, "/tmp/kc-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
kct_rmtree(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
kct_write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* mkdir -p for the parents */
	for (char *s = strchr(path + strlen(dir) + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s", path);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

char *
kct_jwks_of(const kc_signer *s)
{
	json_t *set = json_pack("{s:[o]}", "keys", kc_signer_public_jwk(s));
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	cr_assert_not_null(text);
	return text;
}
