/* test_duplicate_members.c: duplicate JSON member names and nesting depth
 * (RFC 7515 §5.2 step 4, RFC 7519 §4, RFC 8259 §4, RFC 8725 §3.2).
 *
 * JSON leaves duplicate member names to the parser: some keep the first,
 * most keep the last. When two components parse the same token differently,
 * {"alg":"ES256","alg":"none"} or {"sub":"alice","sub":"admin"} means one
 * thing to the check and another to the consumer (the "parser differential"
 * behind CVE-2017-12635 in CouchDB). JWS and JWT require a parser that
 * rejects duplicates or keeps only the last; keycard rejects them, in the
 * header and in the claims, at any depth, including names that are only
 * equal once their escapes are decoded, as KC_TOK_DUPLICATE_MEMBER.
 *
 * Deep nesting is the other parser attack: a header or claims set of
 * thousands of '[' exhausts a recursive parser's stack. keycard refuses JSON
 * nested deeper than KC_JSON_MAX_DEPTH (64) levels, counting the outermost
 * object as level 1, as KC_TOK_TOO_DEEP, before the parser recurses. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/testutil.h"

static const char claims[] = "{\"sub\":\"admin\",\"exp\":4102444800}";

static kc_signer *
signer(void)
{
	char err[256] = "";
	kc_signer *s = kc_signer_generate(KC_ALG_ES256, "k", err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	return s;
}

/* prefix + depth-1 nested arrays + suffix: with an object prefix, a JSON
 * value whose total depth is depth. */
static char *
nested(const char *prefix, int depth, const char *suffix)
{
	size_t n = strlen(prefix) + 2 * (size_t)depth + strlen(suffix) + 1;
	char *s = malloc(n);
	char *p = s + sprintf(s, "%s", prefix);
	for (int i = 1; i < depth; i++)
		*p++ = '[';
	for (int i = 1; i < depth; i++)
		*p++ = ']';
	strcpy(p, suffix);
	return s;
}

/* ---- duplicates --------------------------------------------------------- */

Test(duplicate_members, in_the_header)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":\"ES256\",\"alg\":\"none\"}",
		"{\"alg\":\"none\",\"alg\":\"ES256\"}",
		"{\"alg\":\"HS256\",\"alg\":\"ES256\"}",
		"{\"alg\":\"ES256\",\"alg\":\"ES256\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"kid\":\"other\"}",
		"{\"alg\":\"ES256\",\"kid\":\"other\",\"kid\":\"k\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"typ\":\"JWT\",\"typ\":\"at+jwt\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"x\"],\"crit\":null}",
		/* equal after decoding the escapes */
		"{\"alg\":\"ES256\",\"\\u0061lg\":\"none\"}",
		"{\"alg\":\"ES256\",\"\\u0061\\u006c\\u0067\":\"ES256\"}",
		"{\"kid\":\"k\",\"k\\u0069d\":\"k\",\"alg\":\"ES256\"}",
		/* nested */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"jwk\":{\"kty\":\"EC\",\"kty\":\"RSA\"}}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"x\":[1,{\"a\":1,\"b\":2,\"a\":3}]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"x\":{\"y\":{\"z\":{\"w\":1,\"w\":1}}}}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"\":1,\"\":2}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_DUPLICATE_MEMBER, "%s", headers[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* The signature layer does not read the payload (jws.h); the JWT verifier
 * does, and must refuse duplicate claims. */
Test(duplicate_members, in_the_claims)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *payloads[] = {
		"{\"sub\":\"alice\",\"sub\":\"admin\"}",
		"{\"sub\":\"admin\",\"sub\":\"admin\"}",
		"{\"sub\":\"a\",\"exp\":1,\"exp\":4102444800}",
		"{\"sub\":\"a\",\"exp\":4102444800,\"exp\":1}",
		"{\"sub\":\"a\",\"nbf\":1,\"nbf\":4102444800}",
		"{\"sub\":\"a\",\"aud\":\"x\",\"aud\":\"y\"}",
		"{\"sub\":\"a\",\"iss\":\"https://good\",\"iss\":\"https://evil\"}",
		"{\"sub\":\"a\",\"scope\":\"read\",\"scope\":\"admin\"}",
		"{\"sub\":\"alice\",\"\\u0073ub\":\"admin\"}",
		"{\"sub\":\"a\",\"cnf\":{\"jkt\":\"x\",\"jkt\":\"y\"}}",
		"{\"sub\":\"a\",\"roles\":[\"r\",{\"name\":1,\"name\":2}]}",
		"{\"sub\":\"a\",\"x\":[[[{\"deep\":{\"d\":1,\"d\":2}}]]]}",
	};
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		char *tok = kct_sign(s, payloads[i]);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "JWS layer, payload %s", payloads[i]);
		cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000), KC_TOK_DUPLICATE_MEMBER, "%s",
		    payloads[i]);
		free(tok);
	}
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* Not duplicates: names differing in case, equal names in different objects. */
Test(duplicate_members, near_misses_are_fine)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *headers[] = {
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"Alg\":\"none\",\"ALG\":\"none\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"a\":{\"x\":1},\"b\":{\"x\":2}}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"x\":[{\"a\":1},{\"a\":1}]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"alg \":\"none\"}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *tok = kct_sign_raw(s, headers[i], claims);
		cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "%s", headers[i]);
		free(tok);
	}
	char *tok = kct_sign(s, "{\"sub\":\"a\",\"Sub\":\"b\",\"o\":{\"sub\":\"c\"}}");
	cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000), KC_TOK_OK);
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* The token-part parser itself (jws.h: kc_jws_parse_json). */
static const kc_json *
parse(kc_arena *a, const char *text, kc_token_reason *why)
{
	*why = KC_TOK_INTERNAL;
	return kc_jws_parse_json(a, text, strlen(text), why);
}

Test(duplicate_members, strict_parser_directly)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	const char *dups[] = {
		"{\"a\":1,\"a\":1}",
		"[{\"a\":1,\"a\":2}]",
		"{\"a\":{\"b\":1,\"b\":2}}",
		"{\"a\":1,\"\\u0061\":2}",
		"{\"\\/\":1,\"/\":2}",
		"{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",
		"{\"\xc3\xa9\":1,\"\\u00e9\":2}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"a\":9}",
	};
	for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
		kc_token_reason why;
		cr_expect_null(parse(a, dups[i], &why), "%s parsed", dups[i]);
		cr_expect_eq(why, KC_TOK_DUPLICATE_MEMBER, "%s: %s", dups[i],
		    kc_token_reason_name(why));
	}
	/* The same name in different objects, or differing only in case or in
	 * Unicode normalization, is not a duplicate. */
	const char *fine[] = {
		"{\"a\":1,\"b\":{\"a\":2}}",
		"{\"a\":1,\"A\":2}",
		"{\"\xc3\xa9\":1,\"e\xcc\x81\":2}",
		"{\"a\":1,\"a \":2}",
	};
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		kc_token_reason why;
		cr_expect_not_null(parse(a, fine[i], &why), "%s refused", fine[i]);
		cr_expect_eq(why, KC_TOK_OK, "%s", fine[i]);
	}
	/* No NUL in strings, names included (jws.h). */
	const char *nul[] = { "{\"a\":\"x\\u0000y\"}", "{\"a\\u0000\":1}", "[\"\\u0000\"]" };
	for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
		kc_token_reason why;
		cr_expect_null(parse(a, nul[i], &why), "%s", nul[i]);
		cr_expect_eq(why, KC_TOK_BAD_JSON, "%s", nul[i]);
	}
	kc_arena_free(a);
}

/* ---- depth -------------------------------------------------------------- */

Test(duplicate_members, depth_limit_in_the_header)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	const char *pre = "{\"alg\":\"ES256\",\"kid\":\"k\",\"x\":";
	for (int depth = 2; depth <= KC_JSON_MAX_DEPTH + 3; depth++) {
		char *hdr = nested(pre, depth, "}");
		char *tok = kct_sign_raw(s, hdr, claims);
		kc_token_reason want = depth <= KC_JSON_MAX_DEPTH ? KC_TOK_OK : KC_TOK_TOO_DEEP;
		cr_expect_eq(kct_jws(ks, tok), want, "header depth %d", depth);
		free(tok);
		free(hdr);
	}
	/* Far deeper: refused, not a stack overflow. */
	char *hdr = nested(pre, 4000, "}");
	char *tok = kct_sign_raw(s, hdr, claims);
	cr_assert_leq(strlen(tok), (size_t)KC_TOKEN_MAX_SIZE_DEFAULT);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_TOO_DEEP, "header depth 4000");
	free(tok);
	free(hdr);
	/* Unbalanced: 5000 opening brackets and nothing else. */
	hdr = malloc(6000);
	strcpy(hdr, "{\"alg\":\"ES256\",\"x\":");
	size_t used = strlen(hdr);
	memset(hdr + used, '[', 5000);
	hdr[used + 5000] = '\0';
	tok = kct_sign_raw(s, hdr, claims);
	kc_token_reason r = kct_jws(ks, tok);
	cr_expect(r == KC_TOK_TOO_DEEP || r == KC_TOK_BAD_HEADER || r == KC_TOK_BAD_JSON,
	    "5000 '[': %s", kc_token_reason_name(r));
	free(tok);
	free(hdr);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

/* Depth made of objects, and brackets inside strings that are not nesting. */
Test(duplicate_members, depth_counts_objects_not_strings)
{
	kc_signer *s = signer();
	kc_keyset *ks = kct_keyset_of(s);
	for (int depth = KC_JSON_MAX_DEPTH; depth <= KC_JSON_MAX_DEPTH + 1; depth++) {
		/* {"alg":"ES256","kid":"k","o":{"o":{ ... }}} */
		char *hdr = malloc(64 + 13 * (size_t)depth);
		char *p = hdr + sprintf(hdr, "{\"alg\":\"ES256\",\"kid\":\"k\"");
		for (int i = 1; i < depth; i++)
			p += sprintf(p, ",\"o\":{\"v\":1");
		for (int i = 0; i < depth; i++)
			*p++ = '}';
		*p = '\0';
		char *tok = kct_sign_raw(s, hdr, claims);
		cr_expect_eq(kct_jws(ks, tok), depth <= KC_JSON_MAX_DEPTH ? KC_TOK_OK : KC_TOK_TOO_DEEP,
		    "object depth %d", depth);
		free(tok);
		free(hdr);
	}
	/* 200 brackets and braces inside strings, one with escaped quotes. */
	char hdr[700];
	char br[201];
	memset(br, '[', 100);
	memset(br + 100, '{', 100);
	br[200] = '\0';
	snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"k\",\"a\":\"%s\",\"b\":\"\\\"%s\\\\\"}",
	    br, br);
	char *tok = kct_sign_raw(s, hdr, claims);
	cr_expect_eq(kct_jws(ks, tok), KC_TOK_OK, "brackets inside strings");
	free(tok);
	kc_keyset_free(ks);
	kc_signer_free(s);
}

Test(duplicate_members, depth_limit_in_the_claims)
{
	kc_signer *s = signer();
	const char *pre = "{\"sub\":\"a\",\"x\":";
	for (int depth = KC_JSON_MAX_DEPTH - 1; depth <= KC_JSON_MAX_DEPTH + 1; depth++) {
		char *payload = nested(pre, depth, "}");
		char *tok = kct_sign(s, payload);
		cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000),
		    depth <= KC_JSON_MAX_DEPTH ? KC_TOK_OK : KC_TOK_TOO_DEEP, "claims depth %d", depth);
		free(tok);
		free(payload);
	}
	char *payload = nested(pre, 4000, "}");
	char *tok = kct_sign(s, payload);
	cr_expect_eq(kct_jwt(kct_keyset_of(s), NULL, tok, 1000), KC_TOK_TOO_DEEP);
	free(tok);
	free(payload);
	kc_signer_free(s);
}

Test(duplicate_members, depth_limit_parser_directly)
{
	kc_arena *a = kc_arena_new(4096);
	cr_assert_not_null(a);
	for (int depth = 1; depth <= KC_JSON_MAX_DEPTH + 1; depth++) {
		char *text = nested("[", depth, "]");
		kc_token_reason why;
		const kc_json *v = parse(a, text, &why);
		if (depth <= KC_JSON_MAX_DEPTH) {
			cr_expect_not_null(v, "depth %d", depth);
			cr_expect_eq(why, KC_TOK_OK, "depth %d", depth);
		} else {
			cr_expect_null(v, "depth %d", depth);
			cr_expect_eq(why, KC_TOK_TOO_DEEP, "depth %d", depth);
		}
		free(text);
		kc_arena_clear(a);
	}
	/* Objects count as levels too. */
	char text[1024];
	char *p = text;
	for (int i = 0; i < KC_JSON_MAX_DEPTH + 1; i++)
		p += sprintf(p, "{\"o\":");
	p += sprintf(p, "1");
	for (int i = 0; i < KC_JSON_MAX_DEPTH + 1; i++)
		*p++ = '}';
	*p = '\0';
	kc_token_reason why;
	cr_expect_null(parse(a, text, &why));
	cr_expect_eq(why, KC_TOK_TOO_DEEP);
	/* One level less, given by dropping the outermost object. */
	size_t len = strlen(text);
	text[len - 1] = '\0';
	why = KC_TOK_INTERNAL;
	cr_expect_not_null(kc_jws_parse_json(a, text + 5, strlen(text + 5), &why));
	cr_expect_eq(why, KC_TOK_OK);
	kc_arena_free(a);
}
