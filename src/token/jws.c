/* jws.c: compact JWS parse and verify, strictly (RFC 7515, RFC 8725). */
#include "config.h"

#include "token/jws.h"

#include <string.h>
#include <strings.h>

#include "token/b64url.h"

const kc_json *
kc_jws_parse_json(kc_arena *arena, const char *buf, size_t len, kc_token_reason *why)
{
	kc_json_error err;
	const kc_json *v = kc_json_parse(arena, buf, len, KC_JSON_MAX_DEPTH, &err);
	switch (err) {
	case KC_JSON_OK: *why = KC_TOK_OK; break;
	case KC_JSON_ERR_DUPLICATE: *why = KC_TOK_DUPLICATE_MEMBER; break;
	case KC_JSON_ERR_DEPTH: *why = KC_TOK_TOO_DEEP; break;
	case KC_JSON_ERR_NOMEM: *why = KC_TOK_INTERNAL; break;
	case KC_JSON_ERR_SYNTAX: *why = KC_TOK_BAD_JSON; break;
	}
	return v;
}

/* RFC 7515 §4.1.9: typ is a media type, compared case-insensitively, and
 * "application/" may be left out. */
static bool
typ_matches(const char *want, const char *got, size_t got_len)
{
	static const char prefix[] = "application/";
	size_t plen = sizeof(prefix) - 1;
	if (strncasecmp(want, prefix, plen) == 0)
		want += plen;
	if (got_len >= plen && strncasecmp(got, prefix, plen) == 0) {
		got += plen;
		got_len -= plen;
	}
	return strlen(want) == got_len && strncasecmp(want, got, got_len) == 0;
}

kc_token_reason
kc_jws_verify(const kc_keyset *ks, const char *token, size_t len, const kc_jws_opts *opts,
    kc_arena *arena, kc_jws *out)
{
	size_t max = opts && opts->max_size ? opts->max_size : KC_TOKEN_MAX_SIZE_DEFAULT;
	memset(out, 0, sizeof(*out));
	if (len > max)
		return KC_TOK_TOO_LARGE;

	/* Exactly three segments: header.payload.signature. */
	const char *d1 = memchr(token, '.', len);
	if (d1 == NULL)
		return KC_TOK_MALFORMED;
	const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
	if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return KC_TOK_MALFORMED;
	size_t hlen = (size_t)(d1 - token);
	size_t plen = (size_t)(d2 - d1 - 1);
	size_t slen = len - (size_t)(d2 + 1 - token);
	if (hlen == 0 || slen == 0)
		return KC_TOK_MALFORMED;

	/* One arena block holds the three decoded parts. */
	size_t hcap = KC_B64URL_DECODED_MAX(hlen), pcap = KC_B64URL_DECODED_MAX(plen);
	size_t scap = KC_B64URL_DECODED_MAX(slen);
	unsigned char *buf = kc_arena_alloc(arena, hcap + pcap + scap + 3);
	if (buf == NULL)
		return KC_TOK_INTERNAL;
	unsigned char *header = buf, *payload = buf + hcap + 1, *sig = payload + pcap + 1;
	size_t header_len, payload_len, sig_len;
	if (!kc_b64url_decode(token, hlen, header, &header_len) ||
	    !kc_b64url_decode(d1 + 1, plen, payload, &payload_len) ||
	    !kc_b64url_decode(d2 + 1, slen, sig, &sig_len))
		return KC_TOK_BAD_BASE64;
	payload[payload_len] = '\0';

	kc_token_reason why;
	const kc_json *h = kc_jws_parse_json(arena, (const char *)header, header_len, &why);
	if (h == NULL)
		return why;
	if (!kc_json_is_object(h))
		return KC_TOK_BAD_HEADER;

	/* RFC 7515 §4.1.1 and RFC 8725 §3.1: alg is required, exact, never none. */
	const kc_json *jalg = kc_json_get(h, "alg");
	if (jalg == NULL)
		return KC_TOK_BAD_HEADER;
	size_t alg_len;
	const char *alg_name = kc_json_string(jalg, &alg_len);
	if (alg_name == NULL)
		return KC_TOK_BAD_HEADER;
	if (kc_alg_name_is_none(alg_name, alg_len))
		return KC_TOK_ALG_NONE;
	kc_alg alg = kc_alg_from_name(alg_name, alg_len);
	if (alg == KC_ALG_UNKNOWN)
		return KC_TOK_ALG_UNKNOWN;
	out->alg = alg;
	kc_alg_set allowed = opts && opts->algs ? opts->algs : kc_keyset_algs(ks);
	if (!(allowed & KC_ALG_BIT(alg)))
		return KC_TOK_ALG_NOT_ALLOWED;

	/* RFC 7515 §4.1.11: we implement no extension, so any crit is unknown. */
	if (kc_json_get(h, "crit") != NULL)
		return KC_TOK_CRIT_UNSUPPORTED;

	const kc_json *typ = kc_json_get(h, "typ");
	if (typ != NULL && !kc_json_is_string(typ))
		return KC_TOK_BAD_HEADER;
	if (opts && opts->typ) {
		size_t typ_len;
		const char *t = kc_json_string(typ, &typ_len);
		if (t == NULL || !typ_matches(opts->typ, t, typ_len))
			return KC_TOK_TYP_MISMATCH;
	}

	/* The key comes from our key set only: jku, x5u, jwk and x5c are never
	 * read (RFC 8725 §3.10), and kid is only ever compared, never used as a
	 * path, query or pattern. */
	const kc_json *jkid = kc_json_get(h, "kid");
	if (jkid != NULL && !kc_json_is_string(jkid))
		return KC_TOK_BAD_HEADER;
	size_t kid_len = 0;
	const char *kid = kc_json_string(jkid, &kid_len);
	const kc_key *key;
	why = kc_keyset_select(ks, alg, kid, kid_len, &key);
	if (why != KC_TOK_OK)
		return why;

	/* RFC 7515 §5.2: the signing input is the ASCII header.payload. */
	why = kc_key_verify(key, alg, (const unsigned char *)token, (size_t)(d2 - token),
	    sig, sig_len);
	if (why != KC_TOK_OK)
		return why;

	out->key = key;
	out->header = h;
	out->payload = payload;
	out->payload_len = payload_len;
	return KC_TOK_OK;
}
