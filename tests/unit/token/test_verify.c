/* test_verify.c: guards the whole token stage (token/verify.h) end to end
 * with a kc_verifier: a good token gives its claims; every refusal reason of
 * reason.h (except INTERNAL, keycard's own failure) is produced by a token
 * made for it, with no claims handed out and a detail that carries no token
 * text; the verifier copies its option strings and is safe to share between
 * threads. Also the fixed reason table (token/reason.h). */
#include "config.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/testutil.h"
#include "token/reason.h"
#include "token/verify.h"

#define NOW 1700000000
#define ISS "https://issuer.example"

#define ASSERT_REASON(expr, want) do { \
	kc_token_reason r_ = (expr); \
	cr_assert_eq(r_, (want), "%s: got %s, want %s", #expr, \
	    kc_token_reason_name(r_), kc_token_reason_name(want)); \
} while (0)

static kc_signer *signer;

static void
setup(void)
{
	char err[256] = "";
	signer = kc_signer_generate(KC_ALG_ES256, "k1", err, sizeof err);
	cr_assert_not_null(signer, "%s", err);
}

static void
teardown(void)
{
	kc_signer_free(signer);
}

TestSuite(verify, .init = setup, .fini = teardown);

static const char *const AUDS[] = { "api" };
static const char *const REQ[] = { "sub" };

static kc_verifier_opts
default_opts(void)
{
	kc_verifier_opts o = {
		.issuer = ISS,
		.audiences = AUDS, .n_audiences = 1,
		.required = REQ, .n_required = 1,
		.leeway = 30,
	};
	return o;
}

static kc_verifier *
verifier(const kc_verifier_opts *o)
{
	kc_verifier *v = kc_verifier_new(kct_keyset_of(signer), o);
	cr_assert_not_null(v);
	return v;
}

/* A claims text: the good claims with one member replaced or added. */
static char *
claims_with(const char *extra)
{
	char *s = malloc(512);
	snprintf(s, 512, "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"api\",\"iat\":%d,"
	    "\"exp\":%d%s%s}", NOW - 10, NOW + 600, extra[0] ? "," : "", extra);
	return s;
}

static kc_token_reason
run(const kc_verifier *v, const char *tok, char *detail, size_t dlen)
{
	kc_arena *a = kc_arena_new(2048);
	kc_token out;
	memset(&out, 0x5A, sizeof out);
	kc_token_reason r = kc_token_verify(v, tok, strlen(tok), NOW, a, &out, detail, dlen);
	if (r == KC_TOK_OK) {
		cr_assert(kc_json_is_object(out.claims));
		cr_assert(kc_json_is_object(out.header));
		cr_assert_not_null(out.key);
	} else {
		cr_assert_null(out.claims, "claims handed out for a refused token (%s)",
		    kc_token_reason_name(r));
	}
	kc_arena_free(a);
	return r;
}

Test(verify, good_token)
{
	kc_verifier_opts o = default_opts();
	kc_verifier *v = verifier(&o);
	char *claims = claims_with("\"scope\":\"read write\"");
	char *tok = kct_sign(signer, claims);
	kc_arena *a = kc_arena_new(1024);
	kc_token out;
	char detail[128] = "unchanged";
	ASSERT_REASON(kc_token_verify(v, tok, strlen(tok), NOW, a, &out, detail, sizeof detail),
	    KC_TOK_OK);
	cr_assert_eq(out.alg, KC_ALG_ES256);
	cr_assert_eq(out.key, kc_keyset_get(kc_verifier_keyset(v), 0));
	cr_assert_str_eq(kc_json_string(kc_json_get(out.claims, "sub"), NULL), "alice");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.claims, "scope"), NULL), "read write");
	cr_assert_str_eq(kc_json_string(kc_json_get(out.claims, "iss"), NULL), ISS);
	int64_t exp = 0;
	cr_assert(kc_json_integer(kc_json_get(out.claims, "exp"), &exp));
	cr_assert_eq(exp, NOW + 600);
	cr_assert_str_eq(kc_json_string(kc_json_get(out.header, "kid"), NULL), "k1");
	/* the verifier is reusable, with a cleared arena */
	for (int i = 0; i < 20; i++) {
		kc_arena_clear(a);
		ASSERT_REASON(kc_token_verify(v, tok, strlen(tok), NOW, a, &out, NULL, 0), KC_TOK_OK);
	}
	kc_arena_free(a);
	free(tok);
	free(claims);
	kc_verifier_free(v);
}

Test(verify, defaults_check_only_signature_and_dates)
{
	kc_verifier_opts o = { 0 };
	kc_verifier *v = verifier(&o);
	char *tok = kct_sign(signer, "{}");
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_OK);
	free(tok);
	/* exp is checked when present, and absent is fine unless required */
	tok = kct_sign(signer, "{\"exp\":1}");
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_EXPIRED);
	free(tok);
	kc_verifier_free(v);
}

/* ---- every refusal */

enum tweak { T_NONE, T_FLIP_SIG };

struct failure {
	const char *name;
	kc_token_reason want;
	const char *header;   /* NULL: signed with kct_sign (alg ES256, kid k1) */
	const char *claims;   /* NULL: the good claims */
	const char *extra;    /* added to the good claims */
	const char *raw;      /* a literal token instead */
	enum tweak tweak;
	bool unsigned_none;   /* forge with alg none */
	void (*opts)(kc_verifier_opts *o);
	bool two_keys;
};

static void opt_small(kc_verifier_opts *o) { o->jws.max_size = 64; }
static void opt_es384_only(kc_verifier_opts *o) { o->jws.algs = KC_ALG_BIT(KC_ALG_ES384); }
static void opt_at_jwt(kc_verifier_opts *o) { o->jws.typ = "at+jwt"; }

static const char *deep_claims(void);

static const struct failure FAILURES[] = {
	{ "too large", KC_TOK_TOO_LARGE, .extra = "", .opts = opt_small },
	{ "malformed", KC_TOK_MALFORMED, .raw = "eyJhbGciOiJFUzI1NiJ9.e30" },
	{ "bad base64", KC_TOK_BAD_BASE64, .raw = "eyJhbGciOiJFUzI1NiJ9.e30=.AAAA" },
	{ "payload not JSON", KC_TOK_BAD_JSON, .claims = "{\"sub\":\"alice\"" },
	{ "payload not JSON (text)", KC_TOK_BAD_JSON, .claims = "hello" },
	{ "duplicate claim", KC_TOK_DUPLICATE_MEMBER, .extra = "\"sub\":\"admin\"" },
	{ "too deep", KC_TOK_TOO_DEEP, .claims = "deep" },
	{ "bad header", KC_TOK_BAD_HEADER, .header = "{\"alg\":\"ES256\",\"kid\":[\"k1\"]}" },
	{ "alg none", KC_TOK_ALG_NONE, .unsigned_none = true },
	{ "alg unknown", KC_TOK_ALG_UNKNOWN, .header = "{\"alg\":\"ES256K\",\"kid\":\"k1\"}" },
	{ "alg not allowed", KC_TOK_ALG_NOT_ALLOWED, .extra = "", .opts = opt_es384_only },
	{ "crit", KC_TOK_CRIT_UNSUPPORTED,
	  .header = "{\"alg\":\"ES256\",\"kid\":\"k1\",\"crit\":[\"exp\"],\"exp\":1}" },
	{ "typ", KC_TOK_TYP_MISMATCH, .extra = "", .opts = opt_at_jwt },
	{ "unknown kid", KC_TOK_KEY_NOT_FOUND, .header = "{\"alg\":\"ES256\",\"kid\":\"k9\"}" },
	{ "ambiguous", KC_TOK_KEY_AMBIGUOUS, .header = "{\"alg\":\"ES256\"}", .two_keys = true },
	{ "bad signature", KC_TOK_BAD_SIGNATURE, .extra = "", .tweak = T_FLIP_SIG },
	{ "payload array", KC_TOK_PAYLOAD_NOT_OBJECT, .claims = "[{\"sub\":\"alice\"}]" },
	{ "payload string", KC_TOK_PAYLOAD_NOT_OBJECT, .claims = "\"alice\"" },
	{ "payload number", KC_TOK_PAYLOAD_NOT_OBJECT, .claims = "42" },
	{ "exp a string", KC_TOK_BAD_CLAIM,
	  .claims = "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":\"tomorrow\"}" },
	{ "expired past the leeway", KC_TOK_EXPIRED,
	  .claims = "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1699999970}" },
	{ "not yet valid past the leeway", KC_TOK_NOT_YET_VALID, .extra = "\"nbf\":1700000031" },
	{ "issuer", KC_TOK_ISSUER_MISMATCH,
	  .claims = "{\"iss\":\"https://evil.example\",\"sub\":\"a\",\"aud\":\"api\"}" },
	{ "audience", KC_TOK_AUDIENCE_MISMATCH,
	  .claims = "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"other\"}" },
	{ "missing sub", KC_TOK_MISSING_CLAIM, .claims = "{\"iss\":\"" ISS "\",\"aud\":\"api\"}" },
};
#define NFAILURES (sizeof FAILURES / sizeof FAILURES[0])

static const char *
deep_claims(void)
{
	static char buf[512];
	char *p = buf + sprintf(buf, "{\"sub\":\"alice\",\"x\":");
	for (int i = 0; i < KC_JSON_MAX_DEPTH; i++)
		*p++ = '[';
	for (int i = 0; i < KC_JSON_MAX_DEPTH; i++)
		*p++ = ']';
	strcpy(p, "}");
	return buf;
}

static char *
make_token(const struct failure *f)
{
	if (f->raw)
		return strdup(f->raw);
	char *claims = f->claims ? (strcmp(f->claims, "deep") == 0 ? strdup(deep_claims()) :
	    strdup(f->claims)) : claims_with(f->extra ? f->extra : "");
	char *tok;
	if (f->unsigned_none) {
		unsigned char junk[64] = { 0 };
		tok = kct_forge("{\"alg\":\"none\",\"kid\":\"k1\"}", claims, junk, sizeof junk);
	} else if (f->header) {
		tok = kct_sign_raw(signer, f->header, claims);
	} else {
		tok = kct_sign(signer, claims);
	}
	free(claims);
	if (f->tweak == T_FLIP_SIG) {
		char *sig = strrchr(tok, '.') + 1;
		sig[0] = sig[0] == 'A' ? 'B' : 'A';
	}
	return tok;
}

Test(verify, every_refusal)
{
	bool covered[KC_TOK__COUNT] = { false };
	for (size_t i = 0; i < NFAILURES; i++) {
		const struct failure *f = &FAILURES[i];
		kc_verifier_opts o = default_opts();
		if (f->opts)
			f->opts(&o);
		kc_keyset *ks = kct_keyset_of(signer);
		if (f->two_keys) {
			char err[256];
			kc_signer *other = kc_signer_generate(KC_ALG_ES256, "k2", err, sizeof err);
			json_t *pub = kc_signer_public_jwk(other);
			cr_assert_eq(kc_keyset_load_jwk(ks, pub, NULL, NULL, err, sizeof err), 1);
			json_decref(pub);
			kc_signer_free(other);
		}
		kc_verifier *v = kc_verifier_new(ks, &o);
		cr_assert_not_null(v);
		char *tok = make_token(f);
		char detail[256];
		memset(detail, 0, sizeof detail);
		kc_token_reason r = run(v, tok, detail, sizeof detail);
		cr_expect_eq(r, f->want, "%s: got %s, want %s", f->name, kc_token_reason_name(r),
		    kc_token_reason_name(f->want));
		covered[r] = true;

		/* the detail is for logs: one line, and no part of the token */
		cr_assert_null(strchr(detail, '\n'), "%s: detail \"%s\"", f->name, detail);
		const char *d1 = strchr(tok, '.');
		const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
		if (d2 && strlen(d2 + 1) >= 8) {
			char sig8[9];
			memcpy(sig8, d2 + 1, 8);
			sig8[8] = '\0';
			cr_assert_null(strstr(detail, sig8), "%s: detail \"%s\" holds the signature",
			    f->name, detail);
		}
		if (d1 && d2 && d2 - d1 > 9) {
			char pay8[9];
			memcpy(pay8, d1 + 1, 8);
			pay8[8] = '\0';
			cr_assert_null(strstr(detail, pay8), "%s: detail holds the payload", f->name);
		}
		cr_assert_null(strstr(detail, "evil.example"), "%s: detail repeats a claim value",
		    f->name);
		free(tok);
		kc_verifier_free(v);
	}
	for (int r = 1; r < KC_TOK__COUNT; r++)
		if (r != KC_TOK_INTERNAL)
			cr_expect(covered[r], "no test produced %s", kc_token_reason_name((kc_token_reason)r));
}

/* The leeway boundaries through the verifier (leeway 30). */
Test(verify, leeway_boundaries)
{
	kc_verifier_opts o = default_opts();
	kc_verifier *v = verifier(&o);
	static const struct { const char *extra; kc_token_reason want; } cases[] = {
		{ "\"nbf\":1700000030", KC_TOK_OK },
		{ "\"nbf\":1700000031", KC_TOK_NOT_YET_VALID },
	};
	for (size_t i = 0; i < 2; i++) {
		char *c = claims_with(cases[i].extra);
		char *tok = kct_sign(signer, c);
		ASSERT_REASON(run(v, tok, NULL, 0), cases[i].want);
		free(tok);
		free(c);
	}
	static const struct { int64_t exp; kc_token_reason want; } e[] = {
		{ NOW - 29, KC_TOK_OK }, { NOW - 30, KC_TOK_EXPIRED }, { NOW + 1, KC_TOK_OK },
	};
	for (size_t i = 0; i < 3; i++) {
		char c[256];
		snprintf(c, sizeof c, "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":%lld}",
		    (long long)e[i].exp);
		char *tok = kct_sign(signer, c);
		ASSERT_REASON(run(v, tok, NULL, 0), e[i].want);
		free(tok);
	}
	kc_verifier_free(v);
}

Test(verify, typ_and_allow_list_through_verifier)
{
	kc_verifier_opts o = default_opts();
	o.jws.typ = "at+jwt";
	o.jws.algs = KC_ALG_BIT(KC_ALG_ES256) | KC_ALG_BIT(KC_ALG_RS256);
	kc_verifier *v = verifier(&o);
	char *c = claims_with("");
	char *tok = kc_signer_sign(signer, NULL, "at+jwt", (const unsigned char *)c, strlen(c));
	cr_assert_not_null(tok);
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_OK);
	free(tok);
	tok = kc_signer_sign(signer, NULL, "application/at+jwt", (const unsigned char *)c, strlen(c));
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_OK);
	free(tok);
	tok = kct_sign(signer, c); /* typ JWT */
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_TYP_MISMATCH);
	free(tok);
	free(c);
	kc_verifier_free(v);
}

/* "Strings in opts are copied": changing the caller's buffers afterwards
 * changes nothing. */
Test(verify, options_are_copied)
{
	char iss[64], aud[16], req[16];
	strcpy(iss, ISS);
	strcpy(aud, "api");
	strcpy(req, "scope");
	const char *auds[1] = { aud };
	const char *reqs[1] = { req };
	char typ[16] = "at+jwt";
	kc_verifier_opts o = {
		.jws = { .typ = typ },
		.issuer = iss, .audiences = auds, .n_audiences = 1,
		.required = reqs, .n_required = 1,
	};
	kc_verifier *v = verifier(&o);
	memset(iss, 'X', sizeof iss - 1);
	memset(aud, 'Y', sizeof aud - 1);
	memset(req, 'Z', sizeof req - 1);
	memset(typ, 'W', sizeof typ - 1);
	auds[0] = "changed";
	reqs[0] = "changed";
	memset(&o, 0, sizeof o);

	char *c = claims_with("\"scope\":\"read\"");
	char *tok = kc_signer_sign(signer, NULL, "at+jwt", (const unsigned char *)c, strlen(c));
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_OK);
	free(tok);
	free(c);
	c = claims_with("");
	tok = kc_signer_sign(signer, NULL, "at+jwt", (const unsigned char *)c, strlen(c));
	ASSERT_REASON(run(v, tok, NULL, 0), KC_TOK_MISSING_CLAIM);
	free(tok);
	free(c);
	kc_verifier_free(v);
}

Test(verify, keyset_is_owned)
{
	kc_keyset *ks = kct_keyset_of(signer);
	kc_verifier_opts o = { 0 };
	kc_verifier *v = kc_verifier_new(ks, &o);
	cr_assert_not_null(v);
	cr_assert_eq(kc_verifier_keyset(v), ks);
	kc_verifier_free(v); /* frees ks; leaks show in the sanitizer build */
	kc_verifier_free(NULL);
}

/* ---- threads share one verifier */

struct job {
	const kc_verifier *v;
	const char *good, *bad;
	int failures;
};

static void *
worker(void *p)
{
	struct job *j = p;
	kc_arena *a = kc_arena_new(2048);
	for (int i = 0; i < 200; i++) {
		kc_token out;
		if (kc_token_verify(j->v, j->good, strlen(j->good), NOW, a, &out, NULL, 0) != KC_TOK_OK)
			j->failures++;
		if (kc_token_verify(j->v, j->bad, strlen(j->bad), NOW, a, &out, NULL, 0) !=
		    KC_TOK_BAD_SIGNATURE)
			j->failures++;
		kc_arena_clear(a);
	}
	kc_arena_free(a);
	return NULL;
}

Test(verify, concurrent_use)
{
	kc_verifier_opts o = default_opts();
	kc_verifier *v = verifier(&o);
	char *c = claims_with("");
	char *good = kct_sign(signer, c);
	char *bad = strdup(good);
	char *sig = strrchr(bad, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	enum { N = 4 };
	pthread_t th[N];
	struct job jobs[N];
	for (int i = 0; i < N; i++) {
		jobs[i] = (struct job){ v, good, bad, 0 };
		cr_assert_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(jobs[i].failures, 0, "thread %d: %d wrong results", i, jobs[i].failures);
	}
	free(good);
	free(bad);
	free(c);
	kc_verifier_free(v);
}

/* ---- reason.h */

Test(reason, every_reason_has_a_fixed_message)
{
	for (int i = 0; i < KC_TOK__COUNT; i++) {
		kc_token_reason r = (kc_token_reason)i;
		const char *m = kc_token_reason_message(r), *n = kc_token_reason_name(r);
		cr_assert_not_null(m, "reason %d", i);
		cr_assert_not_null(n, "reason %d", i);
		cr_assert_gt(strlen(m), 0);
		cr_assert_null(strchr(m, '\n'), "message of %s is not one line", n);
		cr_assert(islower((unsigned char)m[0]), "message \"%s\" is not lower-case", m);
		for (const char *p = n; *p; p++)
			cr_assert(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_',
			    "name \"%s\" is not an identifier", n);
		for (int j = 0; j < i; j++) {
			cr_assert_str_neq(n, kc_token_reason_name((kc_token_reason)j), "duplicate name");
			cr_assert_str_neq(m, kc_token_reason_message((kc_token_reason)j), "duplicate message");
		}
	}
	cr_assert_str_eq(kc_token_reason_name(KC_TOK_EXPIRED), "expired");
	cr_assert_str_eq(kc_token_reason_message(KC_TOK_EXPIRED), "token expired");
}

/* RFC 6750 §3.1: every client failure is invalid_token; ours is a 503. */
Test(reason, oauth_errors_and_internal)
{
	for (int i = 0; i < KC_TOK__COUNT; i++) {
		kc_token_reason r = (kc_token_reason)i;
		const char *e = kc_token_reason_oauth_error(r);
		if (r == KC_TOK_OK || r == KC_TOK_INTERNAL)
			cr_assert_null(e, "%s has an OAuth error", kc_token_reason_name(r));
		else
			cr_assert_str_eq(e, "invalid_token", "%s", kc_token_reason_name(r));
		cr_assert_eq(kc_token_reason_is_internal(r), r == KC_TOK_INTERNAL, "%s",
		    kc_token_reason_name(r));
	}
}
