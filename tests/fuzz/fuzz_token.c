/* fuzz_token.c: libFuzzer target for the token stage's untrusted inputs.
 *
 * Every input goes, whole, through each parser an attacker can reach: the
 * base64url codec, keycard's own strict JSON parser (core/json.c, checked
 * against jansson), kc_jws_verify and kc_token_verify over fixed key sets (tests/fuzz/keys.jwks: RSA, P-256, P-384, P-521,
 * Ed25519; hmac.jwks: one secret), and the JWKS loader (then the valid tokens
 * of tests/fuzz/tokens.txt are verified against whatever keys it loaded).
 * Besides the sanitizers' crashes, leaks and undefined behaviour, it aborts on
 * broken contracts:
 *   - base64url: a successful decode re-encodes to exactly the input, and
 *     any bytes encode to text that decodes back to them;
 *   - JSON: kc_json_parse and jansson (duplicates refused) agree on what is
 *     JSON and on its value, except where keycard is stricter by design
 *     (depth) or jansson narrower (integers beyond 64 bits); strings hold
 *     no NUL; member lookup finds every member;
 *   - a verification that succeeds over a signing input keycard's fixtures
 *     never signed (tests/fuzz/signed.txt) is a forgery;
 *   - accepted claims satisfy the verifier's options; reasons are in range;
 *     details and warnings are one NUL-terminated line.
 * Built and run by tests/fuzz/run.sh; gen_corpus.py makes the fixtures. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/util.h"
#include "token/b64url.h"
#include "token/jwk.h"
#include "token/jws.h"
#include "token/reason.h"
#include "token/verify.h"

#ifndef KC_FUZZ_DIR
#define KC_FUZZ_DIR "tests/fuzz"
#endif
/* The clock and options gen_corpus.py minted its tokens for. */
#define KC_FUZZ_NOW 1700000000
#define KC_FUZZ_ISS "https://issuer.example/"
#define KC_FUZZ_AUD "api://fuzz"
#define KC_FUZZ_LEEWAY 60

#define MAX_TOKENS 32
#define MAX_SIGNED 512

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kc_verifier *v_pub;   /* keys.jwks, iss/aud/exp checked */
static kc_verifier *v_hmac;  /* hmac.jwks, sub required */
static kc_arena *arena;
static char *tokens[MAX_TOKENS];
static size_t n_tokens;
static unsigned char signed_inputs[MAX_SIGNED][SHA256_DIGEST_LENGTH];
static size_t n_signed;

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_token: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static const char *
fixture(const char *name)
{
	static char path[4096];
	const char *dir = getenv("KC_FUZZ_DIR");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : KC_FUZZ_DIR, name);
	return path;
}

static void
warn_fixture(void *ctx, const char *msg)
{
	die("a fixture key was refused", msg);
}

/* kc_warn_fn contract: one non-empty line. */
static void
warn_check(void *ctx, const char *msg)
{
	if (msg == NULL || msg[0] == '\0' || strchr(msg, '\n') != NULL)
		die("warning is not one line", msg);
	(*(int *)ctx)++;
}

static kc_keyset *
load_fixture(const char *name, int want)
{
	char err[256] = "";
	kc_keyset *ks = kc_keyset_new();
	if (ks == NULL)
		die("out of memory", NULL);
	int n = kc_keyset_load_jwks_file(ks, fixture(name), warn_fixture, NULL, err, sizeof(err));
	if (n != want) {
		fprintf(stderr, "fuzz_token: %s: %d keys loaded, want %d (%s)\n", fixture(name), n,
		    want, err);
		abort();
	}
	return ks;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
load_lines(void)
{
	size_t len;
	char *text = kc_file_read(fixture("tokens.txt"), 1 << 20, &len);
	if (text == NULL)
		die("cannot read", fixture("tokens.txt"));
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (n_tokens == MAX_TOKENS)
			die("too many tokens in tokens.txt", NULL);
		if ((tokens[n_tokens++] = strdup(line)) == NULL)
			die("out of memory", NULL);
	}
	free(text);

	text = kc_file_read(fixture("signed.txt"), 1 << 20, &len);
	if (text == NULL)
		die("cannot read", fixture("signed.txt"));
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (n_signed == MAX_SIGNED || strlen(line) != 2 * SHA256_DIGEST_LENGTH)
			die("bad signed.txt line", line);
		for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
			int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
			if (hi < 0 || lo < 0)
				die("bad signed.txt line", line);
			signed_inputs[n_signed][i] = (unsigned char)(hi << 4 | lo);
		}
		n_signed++;
	}
	free(text);
}

/* A verification succeeded on token: its signing input must be one that the
 * fixtures' private keys signed, or keycard accepted a forgery. */
static void
check_not_forged(const char *token, size_t len)
{
	const char *end = token + len;
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	if (d2 == NULL)
		die("accepted a token without two dots", NULL);
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, (size_t)(d2 - token), md);
	for (size_t i = 0; i < n_signed; i++)
		if (memcmp(md, signed_inputs[i], sizeof(md)) == 0)
			return;
	fprintf(stderr, "fuzz_token: FORGERY: accepted a signing input no fixture key signed: %.*s\n",
	    (int)len, token);
	abort();
}

static void
check_reason(kc_token_reason r)
{
	if ((int)r < 0 || r >= KC_TOK__COUNT)
		die("reason out of range", NULL);
	const char *m = kc_token_reason_message(r), *n = kc_token_reason_name(r);
	if (m == NULL || n == NULL || strchr(m, '\n') != NULL)
		die("bad reason message", m);
	if ((r == KC_TOK_OK || r == KC_TOK_INTERNAL) != (kc_token_reason_oauth_error(r) == NULL))
		die("oauth error code does not fit the reason", n);
}

static bool
key_in(const kc_keyset *ks, const kc_key *k)
{
	for (size_t i = 0; i < kc_keyset_count(ks); i++)
		if (kc_keyset_get(ks, i) == k)
			return true;
	return false;
}

static void
check_jws(const kc_keyset *ks, const char *in, size_t size, const kc_jws_opts *opts)
{
	kc_jws jws;
	kc_token_reason r = kc_jws_verify(ks, in, size, opts, arena, &jws);
	check_reason(r);
	if (r == KC_TOK_OK) {
		if (jws.key == NULL || !key_in(ks, jws.key) || !kc_key_accepts(jws.key, jws.alg))
			die("accepted with a key that does not fit", kc_alg_name(jws.alg));
		if (opts->algs != 0 && !(opts->algs & KC_ALG_BIT(jws.alg)))
			die("accepted an algorithm outside the allow-list", kc_alg_name(jws.alg));
		if (!kc_json_is_object(jws.header) || (jws.payload == NULL && jws.payload_len != 0))
			die("accepted without header or payload", NULL);
		check_not_forged(in, size);
	}
	kc_arena_clear(arena);
}

static bool
aud_has(const kc_json *aud, const char *want)
{
	if (kc_json_is_string(aud))
		return kc_json_string_equals(aud, want, strlen(want));
	for (size_t i = 0; i < kc_json_size(aud); i++)
		if (kc_json_string_equals(kc_json_at(aud, i), want, strlen(want)))
			return true;
	return false;
}

static void
check_token(const kc_verifier *v, const char *in, size_t size)
{
	kc_token tok;
	char detail[96];
	memset(detail, 'x', sizeof(detail));
	kc_token_reason r = kc_token_verify(v, in, size, KC_FUZZ_NOW, arena, &tok, detail,
	    sizeof(detail));
	check_reason(r);
	if (memchr(detail, '\0', sizeof(detail)) == NULL || strchr(detail, '\n') != NULL)
		die("detail is not one NUL-terminated line", NULL);
	if (r == KC_TOK_OK) {
		check_not_forged(in, size);
		if (!kc_json_is_object(tok.claims) || !kc_json_is_object(tok.header) || tok.key == NULL)
			die("accepted without claims, header or key", NULL);
		if (v == v_pub) {
			const kc_json *exp = kc_json_get(tok.claims, "exp");
			if (!kc_json_string_equals(kc_json_get(tok.claims, "iss"), KC_FUZZ_ISS,
			    strlen(KC_FUZZ_ISS)))
				die("accepted the wrong issuer", NULL);
			if (!aud_has(kc_json_get(tok.claims, "aud"), KC_FUZZ_AUD))
				die("accepted the wrong audience", NULL);
			if (!kc_json_is_number(exp) || !(KC_FUZZ_NOW < kc_json_number(exp) + KC_FUZZ_LEEWAY))
				die("accepted an expired token or one without exp", NULL);
		} else if (kc_json_get(tok.claims, "sub") == NULL) {
			die("accepted a token without the required sub", NULL);
		}
	}
	kc_arena_clear(arena);
}

static void
fuzz_b64url(const char *in, size_t size)
{
	unsigned char *dec = malloc(KC_B64URL_DECODED_MAX(size) + 1);
	char *enc = malloc(KC_B64URL_ENCODED_LEN(size) + 1);
	size_t n;
	if (dec == NULL || enc == NULL)
		die("out of memory", NULL);

	/* Decoding: canonical input only, so a success re-encodes exactly. */
	if (kc_b64url_decode(in, size, dec, &n)) {
		if (n > KC_B64URL_DECODED_MAX(size))
			die("decoded more than KC_B64URL_DECODED_MAX", NULL);
		char *re = malloc(KC_B64URL_ENCODED_LEN(n) + 1);
		if (re == NULL)
			die("out of memory", NULL);
		size_t m = kc_b64url_encode(dec, n, re);
		if (m != size || m != KC_B64URL_ENCODED_LEN(n) || re[m] != '\0' || memcmp(re, in, size) != 0)
			die("base64url decode accepted a non-canonical encoding", NULL);
		size_t n2;
		unsigned char *dup = kc_b64url_decode_alloc(in, size, &n2);
		if (dup == NULL || n2 != n || memcmp(dup, dec, n) != 0)
			die("kc_b64url_decode_alloc disagrees with kc_b64url_decode", NULL);
		free(dup);
		free(re);
	} else if (kc_b64url_decode_alloc(in, size, &n) != NULL) {
		die("kc_b64url_decode_alloc accepted what kc_b64url_decode refused", NULL);
	}

	/* Encoding any bytes, then decoding, gives them back. */
	size_t m = kc_b64url_encode((const unsigned char *)in, size, enc);
	if (m != KC_B64URL_ENCODED_LEN(size) || enc[m] != '\0' || strlen(enc) != m)
		die("encoded length is not KC_B64URL_ENCODED_LEN", NULL);
	unsigned char *back = malloc(KC_B64URL_DECODED_MAX(m) + 1);
	if (back == NULL)
		die("out of memory", NULL);
	if (!kc_b64url_decode(enc, m, back, &n) || n != size || memcmp(back, in, size) != 0)
		die("base64url does not round-trip", NULL);
	free(back);
	free(enc);
	free(dec);
}

/* Walks a parsed tree: strings are C strings of their length, integers
 * agree with their double, and lookup by name finds each member. */
static void
walk(const kc_json *v, int depth)
{
	if (depth > KC_JSON_MAX_DEPTH + 1)
		die("tree deeper than the parser's limit", NULL);
	size_t n;
	int64_t i64;
	const char *str;
	switch (kc_json_typeof(v)) {
	case KC_JSON_STRING:
		str = kc_json_string(v, &n);
		if (str == NULL || strlen(str) != n || !kc_json_string_equals(v, str, n))
			die("string with a NUL or a wrong length", NULL);
		break;
	case KC_JSON_NUMBER:
		if (kc_json_integer(v, &i64) && kc_json_number(v) != (double)i64)
			die("integer and double values disagree", NULL);
		break;
	case KC_JSON_ARRAY:
		for (size_t i = 0; i < kc_json_size(v); i++)
			walk(kc_json_at(v, i), depth + 1);
		break;
	case KC_JSON_OBJECT:
		for (size_t i = 0; i < kc_json_size(v); i++) {
			const kc_json *member;
			const char *key = kc_json_key_at(v, i, &member);
			if (key == NULL || member == NULL || kc_json_get(v, key) != member)
				die("member lookup does not find the member", key);
			walk(member, depth + 1);
		}
		break;
	case KC_JSON_NULL:
	case KC_JSON_FALSE:
	case KC_JSON_TRUE:
		break;
	default:
		die("unknown JSON type", NULL);
	}
}

static void
fuzz_json(const char *in, size_t size)
{
	kc_json_error err = KC_JSON_ERR_NOMEM;
	const kc_json *v = kc_json_parse(arena, in, size, KC_JSON_MAX_DEPTH, &err);
	json_error_t jerr;
	json_t *ref = json_loadb(in, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v != NULL) {
		if (err != KC_JSON_OK)
			die("parsed JSON with an error code", NULL);
		if (memchr(in, '\0', size) != NULL)
			die("kc_json_parse accepted a NUL byte", NULL);
		walk(v, 0);
		json_t *mine = kc_json_to_jansson(v);
		if (mine == NULL)
			die("kc_json_to_jansson failed", NULL);
		if (ref == NULL) {
			/* jansson refuses integers beyond 64 bits; keycard reads
			 * them as doubles. Any other disagreement is a bug. */
			if (json_error_code(&jerr) != json_error_numeric_overflow)
				die("kc_json_parse accepted what jansson refuses", jerr.text);
		} else if (!json_equal(mine, ref)) {
			char *a = json_dumps(mine, JSON_ENCODE_ANY | JSON_COMPACT);
			fprintf(stderr, "fuzz_token: kc_json: %s\n", a ? a : "?");
			free(a);
			die("kc_json_parse and jansson read different values", NULL);
		}
		json_decref(mine);
	} else {
		if (err == KC_JSON_OK)
			die("refused JSON without an error code", NULL);
		/* keycard's depth limit (64) is far below jansson's (2048), and
		 * jansson skips raw NUL bytes (its reader stops at them). */
		if (ref != NULL && err != KC_JSON_ERR_DEPTH && memchr(in, '\0', size) == NULL)
			die("kc_json_parse refused what jansson accepts",
			    err == KC_JSON_ERR_DUPLICATE ? "duplicate" : "syntax");
	}
	json_decref(ref);
	kc_arena_clear(arena);

	kc_token_reason why = KC_TOK__COUNT;
	v = kc_jws_parse_json(arena, in, size, &why);
	if ((v != NULL) != (why == KC_TOK_OK) || (v == NULL && why != KC_TOK_BAD_JSON &&
	    why != KC_TOK_DUPLICATE_MEMBER && why != KC_TOK_TOO_DEEP && why != KC_TOK_INTERNAL))
		die("kc_jws_parse_json: result and reason disagree", kc_token_reason_name(why));
	kc_arena_clear(arena);
}

/* The input as a JWKS (and as one JWK, and as a shared secret): load, look
 * at every key, verify the known tokens against it. */
static void
fuzz_keys(const char *in, size_t size)
{
	char err[256];
	int warnings = 0;
	kc_keyset *ks = kc_keyset_new();
	if (ks == NULL)
		die("out of memory", NULL);
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = 'x';
	int n = kc_keyset_load_jwks(ks, in, size, warn_check, &warnings, err, sizeof(err));
	if (n < 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0' || strchr(err, '\n'))
			die("a refused JWKS has no one-line error", err);
	} else if ((size_t)n != kc_keyset_count(ks)) {
		die("load count differs from kc_keyset_count", NULL);
	}

	json_t *one = json_loadb(in, size, 0, NULL);
	if (json_is_object(one) && kc_keyset_load_jwk(ks, one, warn_check, &warnings, err,
	    sizeof(err)) < 0 && memchr(err, '\0', sizeof(err)) == NULL)
		die("a refused JWK has no error", NULL);
	json_decref(one);
	if (size > 0 && size <= 256)
		kc_keyset_add_secret(ks, (const unsigned char *)in, size, NULL, NULL, warn_check,
		    &warnings, err, sizeof(err));

	kc_alg_set algs = kc_keyset_algs(ks);
	for (size_t i = 0; i < kc_keyset_count(ks); i++) {
		const kc_key *k = kc_keyset_get(ks, i);
		kc_keytype t = kc_key_type(k);
		if (t == KC_KEY_NONE || kc_keytype_name(t) == NULL)
			die("loaded a key without a type", NULL);
		if ((t == KC_KEY_OCT) != (kc_key_pkey(k) == NULL))
			die("pkey presence does not fit the key type", kc_keytype_name(t));
		for (int a = 1; a < KC_ALG__COUNT; a++) {
			if (kc_key_accepts(k, (kc_alg)a) && (kc_alg_keytype((kc_alg)a) != t ||
			    !(algs & KC_ALG_BIT(a))))
				die("key accepts an algorithm of another key type", kc_alg_name((kc_alg)a));
		}
		const kc_key *sel;
		const char *kid = kc_key_kid(k);
		for (int a = 1; a < KC_ALG__COUNT; a++) {
			kc_token_reason r = kc_keyset_select(ks, (kc_alg)a, kid, kid ? strlen(kid) : 0, &sel);
			check_reason(r);
			if (r == KC_TOK_OK && (sel == NULL || !kc_key_accepts(sel, (kc_alg)a)))
				die("selected a key that does not accept the algorithm", NULL);
		}
	}
	kc_jws_opts opts = { 0 };
	for (size_t i = 0; i < n_tokens; i++)
		check_jws(ks, tokens[i], strlen(tokens[i]), &opts);
	kc_keyset_free(ks);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const auds[] = { KC_FUZZ_AUD };
	static const char *const req_pub[] = { "exp" };
	static const char *const req_hmac[] = { "sub" };
	kc_verifier_opts po = {
		.issuer = KC_FUZZ_ISS,
		.audiences = auds,
		.n_audiences = 1,
		.required = req_pub,
		.n_required = 1,
		.leeway = KC_FUZZ_LEEWAY,
	};
	kc_verifier_opts ho = { .required = req_hmac, .n_required = 1 };

	v_pub = kc_verifier_new(load_fixture("keys.jwks", 5), &po);
	v_hmac = kc_verifier_new(load_fixture("hmac.jwks", 1), &ho);
	arena = kc_arena_new(8192);
	if (v_pub == NULL || v_hmac == NULL || arena == NULL)
		die("out of memory", NULL);
	load_lines();

	/* The fixtures must still fit together: every token of tokens.txt is
	 * valid for one of the verifiers, or the corpus starts nowhere. */
	for (size_t i = 0; i < n_tokens; i++) {
		kc_token tok;
		char detail[96];
		size_t len = strlen(tokens[i]);
		kc_token_reason r1 = kc_token_verify(v_pub, tokens[i], len, KC_FUZZ_NOW, arena, &tok,
		    detail, sizeof(detail));
		kc_arena_clear(arena);
		kc_token_reason r2 = kc_token_verify(v_hmac, tokens[i], len, KC_FUZZ_NOW, arena,
		    &tok, detail, sizeof(detail));
		kc_arena_clear(arena);
		if (r1 != KC_TOK_OK && r2 != KC_TOK_OK) {
			fprintf(stderr, "fuzz_token: tokens.txt line %zu is refused (%s / %s): "
			    "rerun tests/fuzz/gen_corpus.py\n", i + 1, kc_token_reason_name(r1),
			    kc_token_reason_name(r2));
			abort();
		}
		check_not_forged(tokens[i], len);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const kc_keyset *pub = kc_verifier_keyset(v_pub);
	const kc_keyset *hmac = kc_verifier_keyset(v_hmac);
	kc_jws_opts plain = { 0 };
	kc_jws_opts narrow = {
		.max_size = 4096,
		.algs = KC_ALG_BIT(KC_ALG_RS256) | KC_ALG_BIT(KC_ALG_PS256) |
		    KC_ALG_BIT(KC_ALG_ES256) | KC_ALG_BIT(KC_ALG_EDDSA),
		.typ = "at+jwt",
	};

	fuzz_b64url(in, size);
	fuzz_json(in, size);
	check_jws(pub, in, size, &plain);
	check_jws(pub, in, size, &narrow);
	check_jws(hmac, in, size, &plain);
	check_token(v_pub, in, size);
	check_token(v_hmac, in, size);
	fuzz_keys(in, size);
	return 0;
}
