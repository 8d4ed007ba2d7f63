/* test_path.c: request path normalization (policy-language.md §2.4.1).
 * The attack: a path that keycard and the application read differently, so
 * that a rule checked against one path guards another (Envoy CVE-2019-9901:
 * "/info/../private" passed a rule for "/info/"). Every way of spelling a
 * traversal or a separator (".", "..", %2e, %2F, %5C, overlong UTF-8 such as
 * %C0%AE, "..;"), every empty segment and control byte must be a 400, and
 * what is accepted must be exactly one canonical path. The limits are tested
 * at and just over the edge, and no byte past len is ever read. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/route.h"

static kc_path path;

/* Normalizes text[0..len) from an exact-size heap copy, so that AddressSanitizer
 * catches any read past len. */
static kc_path_status
norm_n(const char *text, size_t len)
{
	char *copy = malloc(len != 0 ? len : 1);
	kc_path_status st;

	cr_assert_not_null(copy);
	memcpy(copy, text, len);
	st = kc_path_normalize(copy, len, &path);
	free(copy);
	return st;
}

static kc_path_status
norm(const char *text)
{
	return norm_n(text, strlen(text));
}

/* The decoded segments joined by '|', for comparisons. */
static const char *
segs(void)
{
	static char buf[2 * KC_PATH_MAX];
	size_t n = 0;

	for (unsigned i = 0; i < path.n_segs; i++) {
		if (i > 0)
			buf[n++] = '|';
		memcpy(buf + n, path.dec + path.seg_off[i], path.seg_len[i]);
		n += path.seg_len[i];
	}
	buf[n] = '\0';
	return buf;
}

static const struct ok_case {
	const char *raw, *norm, *segs;
	unsigned n_segs;
	bool slash;
} ok_cases[] = {
	{ "/", "/", "", 0, false },
	{ "/a", "/a", "a", 1, false },
	{ "/a/b", "/a/b", "a|b", 2, false },
	{ "/a/b/", "/a/b/", "a|b", 2, true },
	{ "/devices/123", "/devices/123", "devices|123", 2, false },
	/* unreserved characters are decoded in norm, in either hex case */
	{ "/%41%62c", "/Abc", "Abc", 1, false },
	{ "/%7e%2D%5f%2E%30", "/~-_.0", "~-_.0", 1, false },
	{ "/%61/%7A", "/a/z", "a|z", 2, false },
	/* everything else stays encoded, with upper-case hex */
	{ "/a%2ab", "/a%2Ab", "a*b", 1, false },
	{ "/a%20b", "/a%20b", "a b", 1, false },
	{ "/caf%c3%a9", "/caf%C3%A9", "caf\xc3\xa9", 1, false },
	{ "/caf\xc3\xa9", "/caf\xc3\xa9", "caf\xc3\xa9", 1, false },
	{ "/\xc3%a9", "/\xc3%A9", "\xc3\xa9", 1, false },
	{ "/%E2%82%AC", "/%E2%82%AC", "\xe2\x82\xac", 1, false },
	{ "/%F4%8F%BF%BF", "/%F4%8F%BF%BF", "\xf4\x8f\xbf\xbf", 1, false },
	{ "/%3B%3f%23", "/%3B%3F%23", ";?#", 1, false },
	/* one decoding only: %25 is '%', and what follows it is text */
	{ "/a%25b", "/a%25b", "a%b", 1, false },
	{ "/%252e%252e", "/%252e%252e", "%2e%2e", 1, false },
	{ "/%252F", "/%252F", "%2F", 1, false },
	/* dots that are not dot segments */
	{ "/...", "/...", "...", 1, false },
	{ "/.well-known/x", "/.well-known/x", ".well-known|x", 2, false },
	{ "/a../..b/.c", "/a../..b/.c", "a..|..b|.c", 3, false },
	{ "/a.%2e", "/a..", "a..", 1, false },
	{ "/a;b=c/d:e@f+g", "/a;b=c/d:e@f+g", "a;b=c|d:e@f+g", 2, false },
	{ "/x/;y", "/x/;y", "x|;y", 2, false },
};

Test(path, accepted)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];

		cr_assert_eq(norm(c->raw), KC_PATH_OK, "refused %s", c->raw);
		cr_assert_str_eq(path.norm, c->norm, "norm of %s", c->raw);
		cr_assert_eq(path.norm_len, strlen(c->norm), "norm_len of %s", c->raw);
		cr_assert_eq(path.n_segs, c->n_segs, "n_segs of %s", c->raw);
		cr_assert_str_eq(segs(), c->segs, "segments of %s", c->raw);
		cr_assert_eq(path.trailing_slash, c->slash, "trailing slash of %s", c->raw);
		for (unsigned k = 0; k < path.n_segs; k++)
			cr_assert_eq(path.dec[path.seg_off[k] + path.seg_len[k]], '\0',
			    "segment %u of %s is not NUL-terminated", k, c->raw);
	}
}

/* norm is canonical: normalizing it again changes nothing. */
Test(path, idempotent)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		char first[KC_PATH_MAX + 1], first_segs[2 * KC_PATH_MAX];

		cr_assert_eq(norm(ok_cases[i].raw), KC_PATH_OK);
		strcpy(first, path.norm);
		strcpy(first_segs, segs());
		cr_assert_eq(norm(first), KC_PATH_OK, "norm %s refused", first);
		cr_assert_str_eq(path.norm, first);
		cr_assert_str_eq(segs(), first_segs);
	}
}

/* Every spelling of one path gives one norm. */
Test(path, spellings_agree)
{
	static const char *const same[] = { "/api/v1", "/%61pi/v%31", "/%61%70%69/%76%31",
		"/ap%69/%761" };

	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		cr_assert_eq(norm(same[i]), KC_PATH_OK, "%s", same[i]);
		cr_assert_str_eq(path.norm, "/api/v1", "%s", same[i]);
	}
}

static const char *const bad_cases[] = {
	/* not an absolute path */
	"a", "a/b", "*", "%2Fa", "http://h/a", " /a",
	/* empty segments */
	"//", "//a", "/a//b", "/a//", "///", "/a///",
	/* dot segments, raw and encoded, in any case, anywhere */
	"/.", "/..", "/./", "/../", "/a/.", "/a/..", "/a/./b", "/a/../b", "/../a",
	"/info/../private", "/%2e", "/%2E", "/%2e%2e", "/%2E%2e", "/.%2e", "/%2e.",
	"/a/%2e%2e/b", "/a/%2E/b",
	/* dot segments with path parameters (servlet containers drop ";...") */
	"/..;/admin", "/..;x", "/.;", "/a/.;b/c", "/%2e%2e;x", "/%2e%2e%3b/x",
	/* overlong UTF-8 for '.' and '/' */
	"/%C0%AE", "/%c0%ae%c0%ae", "/%C0%AF", "/%E0%80%AE", "/%F0%80%80%AE", "/\xc0\xae",
	"/%C1%81",
	/* encoded separators */
	"/a%2fb", "/a%2Fb", "/%2F", "/a%5cb", "/a%5Cb", "/%5C..%5C",
	/* raw backslash (a separator to some servers) */
	"/a\\b", "/a\\..\\b", "/\\",
	/* control characters, raw and encoded */
	"/a%00b", "/a%00", "/a%0a", "/a%0D%0A", "/a%09", "/a%1f", "/a%7f", "/a%7F",
	"/a\x01", "/a\tb", "/a\nb", "/a\rb", "/a\x1f", "/a\x7f",
	/* '%' without two hex digits */
	"/a%", "/a%2", "/a%zz", "/a%g0", "/a%0g", "/%%41", "/%", "/a%/b", "/a%2/b", "/%-1",
	/* not UTF-8 after decoding */
	"/\xff", "/\x80", "/\xc3", "/%c3", "/%C3/%A9", "/\xc3/\xa9", "/\xed\xa0\x80",
	"/%ED%A0%80", "/%ED%BF%BF", "/%F4%90%80%80", "/%F5%80%80%80", "/%FE", "/\xe2\x82",
	"/%E2%82%2F",
};

Test(path, refused)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		cr_assert_eq(norm(bad_cases[i]), KC_PATH_BAD, "accepted %s", bad_cases[i]);
		cr_assert_eq(path.n_segs, 0, "segments left after refusing %s", bad_cases[i]);
	}
}

Test(path, empty_and_null)
{
	cr_assert_eq(norm_n("", 0), KC_PATH_BAD);
	cr_assert_eq(kc_path_normalize(NULL, 0, &path), KC_PATH_BAD);
	cr_assert_eq(kc_path_normalize("/a", 2, NULL), KC_PATH_BAD);
}

/* A raw NUL inside len is a control character, not the end of the path. */
Test(path, embedded_nul)
{
	cr_assert_eq(norm_n("/a\0b", 4), KC_PATH_BAD);
	cr_assert_eq(norm_n("/a\0", 3), KC_PATH_BAD);
	cr_assert_eq(norm_n("/\0/b", 4), KC_PATH_BAD);
}

/* Only len counts: the bytes after it (hex digits here) are never used. */
Test(path, stops_at_len)
{
	cr_assert_eq(norm_n("/a%41", 3), KC_PATH_BAD);
	cr_assert_eq(norm_n("/a%41", 4), KC_PATH_BAD);
	cr_assert_eq(norm_n("/a%41", 5), KC_PATH_OK);
	cr_assert_str_eq(path.norm, "/aA");
	cr_assert_eq(norm_n("/a/..", 3), KC_PATH_OK);
	cr_assert_str_eq(path.norm, "/a/");
	cr_assert(path.trailing_slash);
	cr_assert_eq(norm_n("/ab/c", 2), KC_PATH_OK);
	cr_assert_str_eq(segs(), "a");
	cr_assert_eq(norm_n("/%C3%A9", 6), KC_PATH_BAD);

	/* the same without a copy: the hex digits after len are really there */
	cr_assert_eq(kc_path_normalize("/a%41", 4, &path), KC_PATH_BAD);
	cr_assert_eq(kc_path_normalize("/a%41/b", 4, &path), KC_PATH_BAD);
	cr_assert_eq(kc_path_normalize("/a%41", 3, &path), KC_PATH_BAD);
}

Test(path, length_limit)
{
	static char buf[KC_PATH_MAX + 2];

	memset(buf, 'a', sizeof buf);
	buf[0] = '/';
	cr_assert_eq(norm_n(buf, KC_PATH_MAX), KC_PATH_OK);
	cr_assert_eq(path.norm_len, KC_PATH_MAX);
	cr_assert_eq(path.n_segs, 1);
	cr_assert_eq(path.seg_len[0], KC_PATH_MAX - 1);
	cr_assert_eq(norm_n(buf, KC_PATH_MAX + 1), KC_PATH_TOO_LONG);

	/* At the limit with every byte encoded: norm shrinks, dec fits. */
	for (size_t i = 1; i + 3 <= KC_PATH_MAX; i += 3)
		memcpy(buf + i, "%41", 3);
	cr_assert_eq(norm_n(buf, KC_PATH_MAX), KC_PATH_OK);
	cr_assert_eq(path.norm_len, 1 + (KC_PATH_MAX - 1) / 3);

	/* Encoded bytes that stay encoded: norm as long as raw. */
	for (size_t i = 1; i + 3 <= KC_PATH_MAX; i += 3)
		memcpy(buf + i, "%20", 3);
	cr_assert_eq(norm_n(buf, KC_PATH_MAX), KC_PATH_OK);
	cr_assert_eq(path.norm_len, KC_PATH_MAX);
	cr_assert_eq(path.seg_len[0], (KC_PATH_MAX - 1) / 3);
	cr_assert_eq(norm_n(buf, KC_PATH_MAX + 1), KC_PATH_TOO_LONG);
}

/* "/a" repeated n times, optionally with a trailing slash. */
static kc_path_status
norm_segments(unsigned n, bool slash)
{
	char buf[3 * 64 + 2];
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		buf[len++] = '/';
		buf[len++] = (char)('a' + i % 26);
	}
	if (slash)
		buf[len++] = '/';
	return norm_n(buf, len);
}

Test(path, segment_limit)
{
	cr_assert_eq(norm_segments(KC_PATH_MAX_SEGMENTS, false), KC_PATH_OK);
	cr_assert_eq(path.n_segs, KC_PATH_MAX_SEGMENTS);
	cr_assert_eq(path.dec[path.seg_off[KC_PATH_MAX_SEGMENTS - 1]],
	    'a' + (KC_PATH_MAX_SEGMENTS - 1) % 26);
	/* the trailing slash is not a segment */
	cr_assert_eq(norm_segments(KC_PATH_MAX_SEGMENTS, true), KC_PATH_OK);
	cr_assert(path.trailing_slash);
	cr_assert_eq(norm_segments(KC_PATH_MAX_SEGMENTS + 1, false), KC_PATH_TOO_LONG);
	cr_assert_eq(path.n_segs, 0);
	cr_assert_eq(norm_segments(64, true), KC_PATH_TOO_LONG);
}

Test(path, many_segments_long_path)
{
	static char buf[KC_PATH_MAX + 1];

	/* 2048 one-byte segments: refused for the count, without overflow */
	for (size_t i = 0; i < KC_PATH_MAX; i += 2)
		memcpy(buf + i, "/x", 2);
	cr_assert_eq(norm_n(buf, KC_PATH_MAX), KC_PATH_TOO_LONG);
}

/* Hex digits in every case, and every single byte encoded: exactly the
 * unreserved ones come out decoded, the forbidden ones are refused. */
Test(path, every_encoded_byte)
{
	for (unsigned c = 0; c < 256; c++) {
		static const char hex[] = "0123456789abcdef";
		char raw[8] = { '/', 'x', '%', hex[c >> 4], hex[c & 15] };
		kc_path_status st = norm_n(raw, 5);
		bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c >= 0x80) {
			cr_assert_eq(st, KC_PATH_BAD, "%%%02x accepted", c);
			continue;
		}
		cr_assert_eq(st, KC_PATH_OK, "%%%02x refused", c);
		cr_assert_eq(path.seg_len[0], 2);
		cr_assert_eq((unsigned char)path.dec[1], c);
		if (unreserved) {
			cr_assert_eq(path.norm_len, 3, "%%%02x not decoded", c);
			cr_assert_eq((unsigned char)path.norm[2], c);
		} else {
			char want[8] = { '/', 'x', '%', "0123456789ABCDEF"[c >> 4],
				"0123456789ABCDEF"[c & 15] };
			cr_assert_str_eq(path.norm, want, "%%%02x", c);
		}
	}
}
