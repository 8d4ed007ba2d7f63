/* jws.c: compact JWS parse and verify, strictly (RFC 7515, RFC 8725). */
#include "config.h"

#include "token/jws.h"

#include <string.h>
#include <strings.h>

#include "token/b64url.h"

/* Depth of the deepest array or object, not counting brackets inside
 * strings. Done before jansson parses, so its recursion stays bounded. */
static bool
json_depth_ok(const char *buf, size_t len, int max)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

json_t *
kc_json_parse_strict(const char *buf, size_t len, kc_token_reason *why)
{
	if (!json_depth_ok(buf, len, KC_JSON_MAX_DEPTH)) {
		*why = KC_TOK_TOO_DEEP;
		return NULL;
	}
	json_error_t err;
	/* No JSON_ALLOW_NUL: a NUL inside a string is refused, so C strings
	 * taken from claims can never be cut short. */
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (v == NULL) {
		*why = json_error_code(&err) == json_error_duplicate_key ?
		    KC_TOK_DUPLICATE_MEMBER : KC_TOK_BAD_JSON;
		return NULL;
	}
	*why = KC_TOK_OK;
	return v;
}

static void
decref(void *p)
{
	json_decref(p);
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
	json_t *h = kc_json_parse_strict((const char *)header, header_len, &why);
	if (h == NULL)
		return why == KC_TOK_BAD_JSON ? KC_TOK_BAD_HEADER : why;
	if (kc_arena_defer(arena, decref, h) != 0)
		return KC_TOK_INTERNAL;
	if (!json_is_object(h))
		return KC_TOK_BAD_HEADER;

	/* RFC 7515 §4.1.1 and RFC 8725 §3.1: alg is required, exact, never none. */
	const json_t *jalg = json_object_get(h, "alg");
	if (jalg == NULL)
		return KC_TOK_ALG_NONE;
	if (!json_is_string(jalg))
		return KC_TOK_BAD_HEADER;
	const char *alg_name = json_string_value(jalg);
	size_t alg_len = json_string_length(jalg);
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
	if (json_object_get(h, "crit") != NULL)
		return KC_TOK_CRIT_UNSUPPORTED;

	if (opts && opts->typ) {
		const json_t *typ = json_object_get(h, "typ");
		if (!json_is_string(typ) ||
		    !typ_matches(opts->typ, json_string_value(typ), json_string_length(typ)))
			return KC_TOK_TYP_MISMATCH;
	} else if (json_object_get(h, "typ") != NULL && !json_is_string(json_object_get(h, "typ"))) {
		return KC_TOK_BAD_HEADER;
	}

	/* The key comes from our key set only: jku, x5u, jwk and x5c are never
	 * read (RFC 8725 §3.10), and kid is only ever compared, never used as a
	 * path, query or pattern. */
	const json_t *jkid = json_object_get(h, "kid");
	if (jkid != NULL && !json_is_string(jkid))
		return KC_TOK_BAD_HEADER;
	const kc_key *key;
	why = kc_keyset_select(ks, alg, jkid ? json_string_value(jkid) : NULL,
	    jkid ? json_string_length(jkid) : 0, &key);
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
