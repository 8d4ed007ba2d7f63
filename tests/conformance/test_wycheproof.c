/* test_wycheproof.c: Project Wycheproof's JSON Web Signature and JSON Web Key
 * vectors (tests/data/wycheproof) against keycard's JWS layer.
 *
 * Every group and every vector of both files is run: the group's "public"
 * JWK (or JWK set) is loaded when present, else its "private" one (a single
 * JWK is wrapped as {"keys":[jwk]}), and the vector's "jws" is verified with
 * kc_jws_verify() and default options. "valid" must give KC_TOK_OK and
 * "invalid" must be refused, and never as KC_TOK_INTERNAL (a 503 an attacker
 * could trigger at will). A JWS in JSON serialization is fed as its text:
 * keycard accepts the compact form only.
 *
 * Where keycard is deliberately stricter than Wycheproof, or the vector
 * contradicts itself, the exceptions table below says why and states keycard's
 * own verdict, which is asserted; an entry that matches no vector, or whose
 * verdict agrees with Wycheproof, fails the test, so the table cannot rot. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/testutil.h"
#include "token/b64url.h"

/* The reason keycard must give for an exception; ANY_REJECTION when the
 * contract leaves the exact reason open. */
#define ANY_REJECTION KC_TOK__COUNT

struct exception {
	const char *file;          /* which vector file */
	int tc;                    /* its tcId */
	bool accept;               /* keycard's verdict: accepts (true) or refuses */
	kc_token_reason reason;    /* when refused: the reason, or ANY_REJECTION */
	int keys;                  /* keys the group's key set must load, -1: not checked */
	const char *why;
	int seen;
};

#define SIG "json_web_signature_test.json"
#define KEY "json_web_key_test.json"

static struct exception exceptions[] = {
	/* RFC 7520 §4.2 signs with PS384 but the key carries "alg":"PS256".
	 * keycard pins a key to its alg (RFC 7517 §4.4), so the key does not
	 * verify PS384 and the default allow-list (what the keys can verify)
	 * leaves PS384 out. */
	{ SIG, 346, false, KC_TOK_ALG_NOT_ALLOWED, 1,
	  "key pinned to PS256, token is PS384: keycard honours the key's alg", 0 },
	{ SIG, 350, false, KC_TOK_ALG_NOT_ALLOWED, 1,
	  "key pinned to PS256 (with key_ops), token is PS384: alg pinning", 0 },
	/* RFC 7520 §4.3's key says "alg":"ES521", which is no JWS algorithm
	 * (P-521 goes with ES512): keycard refuses the key at load. */
	{ SIG, 347, false, ANY_REJECTION, 0,
	  "key alg \"ES521\" is not a JWS algorithm: key refused at load", 0 },
	{ SIG, 351, false, ANY_REJECTION, 0,
	  "key alg \"ES521\" (with key_ops) is not a JWS algorithm: key refused", 0 },
	/* Byte for byte the valid tc357: Wycheproof's own contradiction. */
	{ SIG, 367, true, KC_TOK_OK, 1,
	  "same token as the valid tc357 (no padding in it at all)", 0 },
	{ SIG, 370, true, KC_TOK_OK, 1,
	  "same token as the valid tc357 (no padding in it at all)", 0 },
	/* A '?' inside a segment is not base64url (RFC 7515 §2): marked valid
	 * by Wycheproof, refused by keycard's strict decoder. */
	{ SIG, 372, false, KC_TOK_BAD_BASE64, 1,
	  "'?' inside the header segment is not base64url", 0 },
	{ SIG, 373, false, KC_TOK_BAD_BASE64, 1,
	  "'?' inside the payload segment is not base64url", 0 },
	/* The second key's "k" ends in 'e' with two non-zero unused bits: not
	 * canonical base64url, so keycard refuses that key at load and the kid
	 * names one key only; the token is the first key's and verifies. With
	 * the second key canonically encoded the kid is ambiguous and refused:
	 * see duplicate_kid_with_canonical_keys below. */
	{ KEY, 4, true, KC_TOK_OK, 1,
	  "duplicate kid, but the second key's k is not canonical base64url", 0 },
};

static struct exception *
exception_find(const char *file, int tc)
{
	for (size_t i = 0; i < sizeof exceptions / sizeof exceptions[0]; i++)
		if (exceptions[i].tc == tc && strcmp(exceptions[i].file, file) == 0)
			return &exceptions[i];
	return NULL;
}

struct counts {
	int total, valid_ok, invalid_refused, acceptable, exceptions, failures;
};

static void
count_warning(void *ctx, const char *msg)
{
	(void)msg;
	++*(int *)ctx;
}

/* Builds the key set of a group: "public" when present, else "private"; a
 * single JWK becomes a one-key JWKS. */
static kc_keyset *
group_keyset(const json_t *group, int *warnings)
{
	const json_t *jwk = json_object_get(group, "public");
	if (jwk == NULL)
		jwk = json_object_get(group, "private");
	cr_assert_not_null(jwk, "group without a key");

	json_t *set;
	if (json_object_get(jwk, "keys") != NULL)
		set = json_deep_copy(jwk);
	else
		set = json_pack("{s:[O]}", "keys", jwk);
	cr_assert_not_null(set);
	char *text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	cr_assert_not_null(text);

	kc_keyset *ks = kc_keyset_new();
	cr_assert_not_null(ks);
	char err[256] = "";
	int n = kc_keyset_load_jwks(ks, text, strlen(text), count_warning, warnings,
	    err, sizeof err);
	free(text);
	/* A refused key is a warning, never an error on the whole set. */
	cr_assert_geq(n, 0, "JWKS refused as a whole: %s", err);
	cr_assert_eq((size_t)n, kc_keyset_count(ks));
	return ks;
}

/* The text to verify: a string as is, anything else (a JWS in JSON
 * serialization) serialized. Caller frees. */
static char *
vector_text(const json_t *jws, size_t *len)
{
	char *s;
	if (json_is_string(jws)) {
		size_t n = json_string_length(jws);
		s = malloc(n + 1);
		cr_assert_not_null(s);
		memcpy(s, json_string_value(jws), n);
		s[n] = '\0';
		*len = n;
		return s;
	}
	s = json_dumps(jws, JSON_COMPACT | JSON_ENCODE_ANY);
	cr_assert_not_null(s);
	*len = strlen(s);
	return s;
}

/* For an accepted token: the payload handed back is the middle segment. */
static bool
payload_matches(const char *tok, size_t len, const kc_jws *out)
{
	const char *d1 = memchr(tok, '.', len);
	if (d1 == NULL)
		return false;
	const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
	if (d2 == NULL)
		return false;
	size_t plen = 0;
	unsigned char *p = kc_b64url_decode_alloc(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
	if (p == NULL)
		return false;
	bool ok = plen == out->payload_len &&
	    (plen == 0 || memcmp(p, out->payload, plen) == 0);
	free(p);
	return ok;
}

static void
run_vector(const char *file, const json_t *t, const kc_keyset *ks, kc_arena *arena,
    struct counts *c)
{
	int tc = (int)json_integer_value(json_object_get(t, "tcId"));
	const char *result = json_string_value(json_object_get(t, "result"));
	const char *comment = json_string_value(json_object_get(t, "comment"));
	const json_t *jws = json_object_get(t, "jws");
	cr_assert(tc > 0 && result != NULL && jws != NULL, "%s: malformed vector", file);
	if (comment == NULL)
		comment = "";

	size_t len = 0;
	char *tok = vector_text(jws, &len);
	kc_jws_opts opts = { 0 };
	kc_jws out;
	memset(&out, 0, sizeof out);
	kc_token_reason r = kc_jws_verify(ks, tok, len, &opts, arena, &out);
	c->total++;
	/* KC_WYCHEPROOF_VERBOSE=1 lists every verdict, to review why each
	 * invalid vector is refused. */
	if (getenv("KC_WYCHEPROOF_VERBOSE") != NULL)
		fprintf(stderr, "%s tc%d %s (%s): %s, %zu key(s)\n", file, tc, result, comment,
		    kc_token_reason_name(r), kc_keyset_count(ks));

	struct exception *x = exception_find(file, tc);
	if (x != NULL) {
		x->seen++;
		c->exceptions++;
		bool wyche_accepts = strcmp(result, "valid") == 0;
		cr_expect(x->accept != wyche_accepts || strcmp(result, "acceptable") == 0,
		    "%s tc%d: exception agrees with Wycheproof (%s): remove it", file, tc, result);
		if (x->accept) {
			cr_expect_eq(r, KC_TOK_OK, "%s tc%d (%s): keycard should accept (%s), got %s",
			    file, tc, comment, x->why, kc_token_reason_name(r));
		} else {
			cr_expect_neq(r, KC_TOK_OK, "%s tc%d (%s): keycard should refuse (%s)",
			    file, tc, comment, x->why);
			cr_expect_neq(r, KC_TOK_INTERNAL, "%s tc%d (%s): internal failure", file, tc,
			    comment);
			if (x->reason != ANY_REJECTION)
				cr_expect_eq(r, x->reason, "%s tc%d (%s): expected %s (%s), got %s",
				    file, tc, comment, kc_token_reason_name(x->reason), x->why,
				    kc_token_reason_name(r));
		}
		if (x->keys >= 0)
			cr_expect_eq(kc_keyset_count(ks), (size_t)x->keys,
			    "%s tc%d: expected %d key(s) loaded, got %zu", file, tc, x->keys,
			    kc_keyset_count(ks));
		if ((x->accept ? r != KC_TOK_OK : (r == KC_TOK_OK || r == KC_TOK_INTERNAL)) ||
		    (!x->accept && x->reason != ANY_REJECTION && r != x->reason))
			c->failures++;
	} else if (strcmp(result, "valid") == 0) {
		bool ok = r == KC_TOK_OK;
		cr_expect(ok, "%s tc%d (%s): valid vector refused: %s", file, tc, comment,
		    kc_token_reason_name(r));
		if (ok) {
			cr_expect(payload_matches(tok, len, &out),
			    "%s tc%d: payload returned is not the decoded middle segment", file, tc);
			cr_expect_not_null(out.key, "%s tc%d: no key reported", file, tc);
			cr_expect_neq(out.alg, KC_ALG_UNKNOWN, "%s tc%d: no alg reported", file, tc);
			c->valid_ok++;
		} else {
			c->failures++;
		}
	} else if (strcmp(result, "invalid") == 0) {
		bool ok = r != KC_TOK_OK && r != KC_TOK_INTERNAL;
		cr_expect_neq(r, KC_TOK_OK, "%s tc%d (%s): invalid vector accepted", file, tc,
		    comment);
		cr_expect_neq(r, KC_TOK_INTERNAL,
		    "%s tc%d (%s): refused as an internal failure (would be a 503)", file, tc,
		    comment);
		if (ok)
			c->invalid_refused++;
		else
			c->failures++;
	} else {
		cr_expect_str_eq(result, "acceptable", "%s tc%d: unknown result", file, tc);
		cr_expect_neq(r, KC_TOK_INTERNAL, "%s tc%d: internal failure", file, tc);
		c->acceptable++;
	}

	free(tok);
	kc_arena_clear(arena);
}

static void
run_file(const char *file)
{
	char name[128];
	snprintf(name, sizeof name, "wycheproof/%s", file);
	size_t len = 0;
	char *text = kct_data_read(name, &len);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	free(text);
	cr_assert_not_null(root, "%s: %s", file, jerr.text);

	const json_t *groups = json_object_get(root, "testGroups");
	cr_assert(json_is_array(groups) && json_array_size(groups) > 0);
	kc_arena *arena = kc_arena_new(16384);
	cr_assert_not_null(arena);

	struct counts c = { 0 };
	size_t gi;
	const json_t *g;
	int ngroups = 0;
	json_array_foreach(groups, gi, g) {
		int warnings = 0;
		kc_keyset *ks = group_keyset(g, &warnings);
		const json_t *tests = json_object_get(g, "tests");
		cr_assert(json_is_array(tests));
		size_t ti;
		const json_t *t;
		json_array_foreach(tests, ti, t)
			run_vector(file, t, ks, arena, &c);
		kc_keyset_free(ks);
		ngroups++;
	}

	json_int_t declared = json_integer_value(json_object_get(root, "numberOfTests"));
	cr_expect_eq(c.total, (int)declared, "%s: ran %d vectors, file declares %d", file,
	    c.total, (int)declared);
	for (size_t i = 0; i < sizeof exceptions / sizeof exceptions[0]; i++)
		if (strcmp(exceptions[i].file, file) == 0)
			cr_expect_eq(exceptions[i].seen, 1, "%s tc%d: exception matched %d vector(s)",
			    file, exceptions[i].tc, exceptions[i].seen);

	fprintf(stderr, "wycheproof %s: %d groups, %d vectors: %d valid accepted, "
	    "%d invalid refused, %d acceptable, %d exceptions, %d failures\n", file,
	    ngroups, c.total, c.valid_ok, c.invalid_refused, c.acceptable, c.exceptions,
	    c.failures);
	cr_expect_eq(c.failures, 0, "%s: %d vector(s) failed", file, c.failures);

	kc_arena_free(arena);
	json_decref(root);
}

Test(wycheproof, json_web_signature)
{
	run_file(SIG);
}

Test(wycheproof, json_web_key)
{
	run_file(KEY);
}

/* The tokens of tc367 and tc370 really are tc357's: if a later copy of the
 * file changes them, their exception entries must be revisited. */
Test(wycheproof, contradictory_vectors_are_what_the_table_says)
{
	size_t len = 0;
	char *text = kct_data_read("wycheproof/" SIG, &len);
	json_t *root = json_loadb(text, len, 0, NULL);
	free(text);
	cr_assert_not_null(root);
	const char *jws[400] = { 0 };
	size_t gi, ti;
	const json_t *g, *t;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
			if (tc > 0 && tc < 400)
				jws[tc] = json_string_value(json_object_get(t, "jws"));
		}
	cr_assert(jws[357] && jws[367] && jws[370] && jws[372] && jws[373]);
	cr_expect_str_eq(jws[367], jws[357]);
	cr_expect_str_eq(jws[370], jws[357]);
	cr_expect_not_null(strchr(jws[372], '?'));
	cr_expect_not_null(strchr(jws[373], '?'));
	json_decref(root);
}

/* tc4 again with its second key's "k" re-encoded canonically (the same 32
 * bytes: only the unused bits change): both keys load and the token's kid
 * names two keys, which keycard refuses as ambiguous (jwk.h). */
Test(wycheproof, duplicate_kid_with_canonical_keys)
{
	size_t len = 0;
	char *text = kct_data_read("wycheproof/" KEY, &len);
	json_t *root = json_loadb(text, len, 0, NULL);
	free(text);
	cr_assert_not_null(root);
	const json_t *group = NULL, *g, *t;
	size_t gi;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		t = json_array_get(json_object_get(g, "tests"), 0);
		if (json_integer_value(json_object_get(t, "tcId")) == 4)
			group = g;
	}
	cr_assert_not_null(group);
	json_t *set = json_deep_copy(json_object_get(group, "private"));
	json_t *keys = json_object_get(set, "keys");
	cr_assert_eq(json_array_size(keys), 2);
	json_t *second = json_array_get(keys, 1);
	const char *k = json_string_value(json_object_get(second, "k"));
	size_t klen = strlen(k);
	cr_assert_eq(klen % 4, 3, "32 bytes: the last character carries 2 unused bits");
	unsigned char raw[KC_B64URL_DECODED_MAX(64)];
	size_t rawlen = 0;
	cr_assert_not(kc_b64url_decode(k, klen, raw, &rawlen),
	    "as shipped, the second k is not canonical");
	/* Clear the two unused bits of the last character. */
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *fixed = strdup(k);
	const char *pos = strchr(alphabet, fixed[klen - 1]);
	cr_assert_not_null(pos);
	fixed[klen - 1] = alphabet[(pos - alphabet) & ~3];
	cr_assert(kc_b64url_decode(fixed, klen, raw, &rawlen));
	cr_assert_eq(rawlen, 32);
	json_object_set_new(second, "k", json_string(fixed));
	free(fixed);

	char *jwks = json_dumps(set, JSON_COMPACT);
	kc_keyset *ks = kct_keyset_from_json(jwks);
	cr_expect_eq(kc_keyset_count(ks), 2, "both keys load");
	const char *tok = json_string_value(json_object_get(
	    json_array_get(json_object_get(group, "tests"), 0), "jws"));
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_KEY_AMBIGUOUS);
	kc_keyset_free(ks);
	free(jwks);
	json_decref(set);
	json_decref(root);
}
