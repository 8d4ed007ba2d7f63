/* test_route.c: route patterns and route selection (policy-language.md
 * §2.4.2, §3.7, §7.6-7). The attack: a request that lands on a route other
 * than the one its author meant (a laxer one), because selection depends on
 * file order, on a capture class that matches more than it says, or on two
 * routes matching equally well. Selection must be by specificity alone,
 * segment by segment from the left, after filtering by method; equal shapes
 * with overlapping methods must be refused when the index is built; pattern
 * errors must point at the right byte. A seeded random cross-check compares
 * the trie walk with a brute-force reading of the specificity rule. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/route.h"

enum { GET = 1, HEAD = 2, POST = 4, PUT = 8, DELETE = 16, ALL = 31 };

/* ---- patterns ---------------------------------------------------------------- */

static kc_route_pattern pat;
static char err[256];
static size_t err_off;

static bool
parse(const char *p)
{
	err[0] = '\0';
	err_off = (size_t)-1;
	return kc_route_pattern_parse(p, strlen(p), &pat, err, sizeof err, &err_off);
}

Test(pattern, literals)
{
	cr_assert(parse("/"));
	cr_assert_eq(pat.n_segs, 0);
	cr_assert_eq(pat.n_caps, 0);
	cr_assert(parse("/devices"));
	cr_assert_eq(pat.n_segs, 1);
	cr_assert(parse("/api/v1/devices/"));
	cr_assert_eq(pat.n_segs, 3);
	cr_assert(parse("/caf%C3%A9/a%20b/.well-known/..."));
	cr_assert_eq(pat.n_segs, 4);
}

Test(pattern, captures)
{
	const char *p = "/a/{x}/{y:int}/{z:uuid}/lit/{h:hex}/{s:slug}/{rest...}";

	cr_assert(parse(p), "%s", err);
	cr_assert_eq(pat.n_segs, 8);
	cr_assert_eq(pat.n_caps, 6);

	static const struct { const char *name, *text; kc_capture_type type; } want[] = {
		{ "x", "{x}", KC_CAP_ANY }, { "y", "{y:int}", KC_CAP_INT },
		{ "z", "{z:uuid}", KC_CAP_UUID }, { "h", "{h:hex}", KC_CAP_HEX },
		{ "s", "{s:slug}", KC_CAP_SLUG }, { "rest", "{rest...}", KC_CAP_TAIL },
	};
	for (unsigned i = 0; i < 6; i++) {
		const kc_route_capture *c = &pat.caps[i];

		cr_assert_str_eq(c->name, want[i].name);
		cr_assert_eq(c->type, want[i].type, "type of %s", c->name);
		cr_assert_eq(c->length, strlen(want[i].text));
		cr_assert_eq(memcmp(p + c->offset, want[i].text, c->length), 0,
		    "span of %s", c->name);
	}
	cr_assert(parse("/{_a1}/{B_2:int}"));
	cr_assert_str_eq(pat.caps[0].name, "_a1");
	cr_assert(parse("/files/{rest...}/"));
	cr_assert_eq(pat.caps[0].type, KC_CAP_TAIL);
}

static const struct bad_pattern {
	const char *pattern;
	size_t offset;
	const char *msg;        /* a part of the message */
} bad_patterns[] = {
	{ "", 0, "must start with '/'" },
	{ "devices", 0, "must start with '/'" },
	{ "{id}", 0, "must start with '/'" },
	{ "//", 1, "empty path segment" },
	{ "/a//b", 3, "empty path segment" },
	{ "/a/b//", 5, "empty path segment" },
	{ "/a/{id:intt}", 7, "unknown capture type 'intt' (expected int, uuid, hex or slug)" },
	{ "/a/{id:INT}", 7, "unknown capture type 'INT'" },
	{ "/a/{id:}", 7, "expected a capture type" },
	{ "/a/{}", 4, "expected a capture name" },
	{ "/a/{:int}", 4, "expected a capture name" },
	{ "/a/{ id}", 4, "expected a capture name" },
	{ "/a/{1x}", 4, "must start with a letter" },
	{ "/a/{a-b}", 5, "expected '}'" },
	{ "/a/{id", 6, "expected '}'" },
	{ "/a/{id:int", 10, "expected '}'" },
	{ "/a/{id/b}", 6, "expected '}'" },
	{ "/a/{rest..}", 8, "expected '}'" },
	{ "/a/{rest:int...}", 12, "expected '}'" },
	{ "/a/{id}x", 7, "whole path segment" },
	{ "/a/{id}{b}", 7, "whole path segment" },
	{ "/a/x{id}", 4, "whole path segment" },
	{ "/a/}", 3, "'}' outside a capture" },
	{ "/{id}/{id}", 7, "duplicate capture name 'id'" },
	{ "/{id}/x/{id:int}", 9, "duplicate capture name 'id'" },
	{ "/{rest...}/x", 1, "tail capture 'rest' must be the last segment" },
	{ "/a/{r...}/{x}", 3, "must be the last segment" },
	{ "/.", 1, "'.' and '..'" },
	{ "/a/./b", 3, "'.' and '..'" },
	{ "/a/../b", 3, "'.' and '..'" },
	{ "/a/%2e%2E", 3, "'.' and '..'" },
	{ "/a/..;x", 3, "'.' and '..'" },
	{ "/a%2Fb", 2, "%2F" },
	{ "/a%2fb", 2, "%2F" },
	{ "/a%5Cb", 2, "'\\'" },
	{ "/a\\b", 2, "'\\'" },
	{ "/a%zz", 2, "two hex digits" },
	{ "/ab%", 3, "two hex digits" },
	{ "/a%00", 2, "control character" },
	{ "/a\tb", 2, "control character" },
	{ "/x/\xff", 3, "UTF-8" },
	{ "/x/%C0%AE", 3, "UTF-8" },
};

Test(pattern, errors)
{
	for (size_t i = 0; i < sizeof bad_patterns / sizeof bad_patterns[0]; i++) {
		const struct bad_pattern *b = &bad_patterns[i];

		cr_assert_not(parse(b->pattern), "accepted %s", b->pattern);
		cr_assert_eq(err_off, b->offset, "offset for %s: %zu, message %s", b->pattern,
		    err_off, err);
		cr_assert_not_null(strstr(err, b->msg), "message for %s: %s", b->pattern, err);
		cr_assert((err[0] >= 'a' && err[0] <= 'z') || err[0] == '\'',
		    "message starts lower-case: %s", err);
	}
}

/* The exact text the compiler will quote for the commonest mistake. */
Test(pattern, unknown_type_message)
{
	cr_assert_not(parse("/devices/{id:intt}"));
	cr_assert_str_eq(err, "unknown capture type 'intt' (expected int, uuid, hex or slug)");
	cr_assert_eq(err_off, 13);
}

Test(pattern, name_length)
{
	char p[128], name[80];

	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(p, sizeof p, "/{%s}", name);
	cr_assert(parse(p), "%s", err);
	cr_assert_str_eq(pat.caps[0].name, name);
	snprintf(p, sizeof p, "/{%sn}", name);
	cr_assert_not(parse(p));
	cr_assert_eq(err_off, 2);
	cr_assert_not_null(strstr(err, "longer than 63"));
}

Test(pattern, capture_limit)
{
	char p[512];
	size_t n = 0, at17 = 0;

	for (int i = 0; i < KC_ROUTE_MAX_CAPTURES; i++)
		n += (size_t)sprintf(p + n, "/{c%d}", i);
	cr_assert(parse(p), "%s", err);
	cr_assert_eq(pat.n_caps, KC_ROUTE_MAX_CAPTURES);
	at17 = n + 1;
	sprintf(p + n, "/{c99:int}");
	cr_assert_not(parse(p));
	cr_assert_eq(err_off, at17);
	cr_assert_not_null(strstr(err, "more than 16 captures"), "%s", err);
}

Test(pattern, segment_limit)
{
	char p[256];
	size_t n = 0;

	for (int i = 0; i < KC_PATH_MAX_SEGMENTS; i++)
		n += (size_t)sprintf(p + n, "/s");
	cr_assert(parse(p));
	cr_assert_eq(pat.n_segs, KC_PATH_MAX_SEGMENTS);
	p[n] = '/';
	p[n + 1] = '\0';
	cr_assert(parse(p), "a trailing slash is not a segment");
	sprintf(p + n, "/t");
	cr_assert_not(parse(p));
	cr_assert_eq(err_off, n + 1);
	cr_assert_not_null(strstr(err, "more than 32 path segments"), "%s", err);
}

Test(pattern, length_limit)
{
	static char p[KC_PATH_MAX + 2];

	memset(p, 'a', sizeof p);
	p[0] = '/';
	cr_assert(kc_route_pattern_parse(p, KC_PATH_MAX, &pat, err, sizeof err, &err_off));
	cr_assert_not(kc_route_pattern_parse(p, KC_PATH_MAX + 1, &pat, err, sizeof err,
	    &err_off));
	cr_assert_not_null(strstr(err, "longer than 4096"));
}

/* No error buffer, a tiny one, no offset: all allowed. */
Test(pattern, optional_outputs)
{
	char tiny[8];

	cr_assert_not(kc_route_pattern_parse("/{x:bad}", 8, &pat, NULL, 0, NULL));
	cr_assert_not(kc_route_pattern_parse("/{x:bad}", 8, &pat, tiny, sizeof tiny, NULL));
	cr_assert_str_eq(tiny, "unknown");
	cr_assert(kc_route_pattern_parse("/{x:int}", 8, NULL, NULL, 0, NULL));
	/* only len counts */
	cr_assert(kc_route_pattern_parse("/a/{x:bad}", 2, &pat, NULL, 0, NULL));
	cr_assert_eq(pat.n_segs, 1);
}

/* ---- the index ----------------------------------------------------------------- */

static kc_routes *routes;
static kc_path path;
static kc_route_match m;

static void setup(void) { routes = kc_routes_new(); cr_assert_not_null(routes); }
static void teardown(void) { kc_routes_free(routes); }

TestSuite(index, .init = setup, .fini = teardown);

static void
add(const char *pattern, unsigned methods, uint32_t id)
{
	uint32_t conflict = 0;
	char e[256] = "";
	int rc = kc_routes_add(routes, pattern, strlen(pattern), methods, id, &conflict, e,
	    sizeof e);

	cr_assert_eq(rc, 0, "adding %s: %d %s (conflict with %u)", pattern, rc, e, conflict);
}

static kc_route_result
match(const char *p, unsigned method)
{
	cr_assert_eq(kc_path_normalize(p, strlen(p), &path), KC_PATH_OK, "path %s", p);
	return kc_routes_match(routes, &path, method, &m);
}

/* The id of the route selected for p, or 0 when none. */
static uint32_t
route_of(const char *p, unsigned method)
{
	return match(p, method) == KC_ROUTE_FOUND ? m.id : 0;
}

static bool
value_is(unsigned i, const char *want)
{
	return i < m.n_values && m.values[i].len == strlen(want) &&
	    memcmp(m.values[i].s, want, m.values[i].len) == 0;
}

Test(index, literal_beats_capture)
{
	add("/a/{x}", GET, 1);
	add("/a/b", GET, 2);
	cr_assert_eq(route_of("/a/b", GET), 2);
	cr_assert_eq(m.n_values, 0);
	cr_assert_eq(route_of("/a/c", GET), 1);
	cr_assert(value_is(0, "c"));
	cr_assert_eq(route_of("/a/%62", GET), 2, "an encoded literal is the literal");
	cr_assert_eq(route_of("/a/B", GET), 1, "literals are case-sensitive");
}

Test(index, capture_ranks)
{
	static const char uuid[] = "123e4567-e89b-12d3-a456-426614174000";
	char p[64];

	add("/r/{t...}", GET, 6);
	add("/r/{u}", GET, 5);
	add("/r/{s:slug}", GET, 4);
	add("/r/{h:hex}", GET, 3);
	add("/r/{v:uuid}", GET, 7);
	add("/r/{i:int}", GET, 2);
	add("/r/7", GET, 1);

	cr_assert_eq(route_of("/r/7", GET), 1);
	cr_assert_eq(route_of("/r/123", GET), 2);
	cr_assert_eq(route_of("/r/0123456789012345678", GET), 2, "19 digits");
	cr_assert_eq(route_of("/r/01234567890123456789", GET), 3, "20 digits are hex");
	cr_assert_eq(route_of("/r/abcDEF09", GET), 3);
	snprintf(p, sizeof p, "/r/%s", uuid);
	cr_assert_eq(route_of(p, GET), 7);
	cr_assert(value_is(0, uuid));
	cr_assert_eq(route_of("/r/123E4567-E89B-12D3-A456-426614174000", GET), 7);
	cr_assert_eq(route_of("/r/123e4567-e89b-12d3-a456-42661417400", GET), 4,
	    "35 characters: a slug");
	cr_assert_eq(route_of("/r/123e4567e-89b-12d3-a456-426614174000", GET), 4,
	    "misplaced dash: a slug");
	cr_assert_eq(route_of("/r/xyz", GET), 4);
	cr_assert_eq(route_of("/r/a.b_c~d-e", GET), 4);
	cr_assert_eq(route_of("/r/%7Ex", GET), 4);
	cr_assert_eq(route_of("/r/a%20b", GET), 5);
	cr_assert(value_is(0, "a b"), "values are decoded");
	cr_assert_eq(route_of("/r/caf%C3%A9", GET), 5);
	cr_assert_eq(route_of("/r/a:b", GET), 5);
	cr_assert_eq(route_of("/r/a/b", GET), 6);
	cr_assert_eq(route_of("/r/1/2/3", GET), 6);
	cr_assert(value_is(0, "1/2/3"));
}

/* Remove the better ranks one by one: each falls through to the next. */
Test(index, rank_fallthrough)
{
	add("/r/{t...}", GET, 6);
	cr_assert_eq(route_of("/r/12", GET), 6);
	add("/r/{u}", GET, 5);
	cr_assert_eq(route_of("/r/12", GET), 5);
	add("/r/{s:slug}", GET, 4);
	cr_assert_eq(route_of("/r/12", GET), 4);
	add("/r/{h:hex}", GET, 3);
	cr_assert_eq(route_of("/r/12", GET), 3);
	add("/r/{i:int}", GET, 2);
	cr_assert_eq(route_of("/r/12", GET), 2);
	cr_assert_eq(route_of("/r/12/x", GET), 6);
}

/* The first segment that differs decides, even when a later one is better. */
Test(index, leftmost_difference_decides)
{
	add("/a/{x:int}/{y}", GET, 1);
	add("/a/{x:slug}/b", GET, 2);
	cr_assert_eq(route_of("/a/5/b", GET), 1);
	cr_assert_eq(route_of("/a/x5/b", GET), 2);
}

Test(index, backtracking)
{
	add("/a/{x:int}/b", GET, 1);
	add("/a/{y:slug}/c", GET, 2);
	cr_assert_eq(route_of("/a/5/c", GET), 2);
	cr_assert_eq(m.n_values, 1);
	cr_assert(value_is(0, "5"));
	cr_assert_eq(route_of("/a/5/b", GET), 1);
	cr_assert(value_is(0, "5"));
	cr_assert_eq(match("/a/5/d", GET), KC_ROUTE_NO_PATH);

	/* deep: a literal branch that fails at its last segment */
	add("/p/q/r/s", GET, 3);
	add("/p/{x}/r/t", GET, 4);
	add("/p/{x...}", GET, 5);
	cr_assert_eq(route_of("/p/q/r/t", GET), 4);
	cr_assert(value_is(0, "q"));
	cr_assert_eq(route_of("/p/q/r/s", GET), 3);
	cr_assert_eq(route_of("/p/q/r/u", GET), 5);
	cr_assert(value_is(0, "q/r/u"));
}

Test(index, method_mismatch)
{
	add("/a", GET, 1);
	add("/t/{rest...}", GET, 2);
	cr_assert_eq(match("/a", GET), KC_ROUTE_FOUND);
	cr_assert_eq(match("/a", POST), KC_ROUTE_NO_METHOD);
	cr_assert_eq(match("/a", HEAD), KC_ROUTE_NO_METHOD, "HEAD is not implied by GET");
	cr_assert_eq(match("/b", POST), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/a/b", GET), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/t/x/y", PUT), KC_ROUTE_NO_METHOD);
	cr_assert_eq(match("/t", GET), KC_ROUTE_NO_PATH, "a tail needs a segment");
	cr_assert_eq(m.n_values, 0);
}

/* §7.7: among the routes that have the method, the most specific wins. */
Test(index, methods_filter_first)
{
	add("/a/b", GET, 1);
	add("/a/{x}", POST, 2);
	add("/a/{rest...}", DELETE, 3);
	cr_assert_eq(route_of("/a/b", GET), 1);
	cr_assert_eq(route_of("/a/b", POST), 2);
	cr_assert(value_is(0, "b"));
	cr_assert_eq(route_of("/a/b", DELETE), 3);
	cr_assert_eq(match("/a/b", PUT), KC_ROUTE_NO_METHOD);
}

Test(index, shared_shape_disjoint_methods)
{
	add("/d/{id}", GET | HEAD, 1);
	add("/d/{dev}", PUT, 2);
	add("/d/{x}", POST | DELETE, 3);
	cr_assert_eq(route_of("/d/9", GET), 1);
	cr_assert_eq(route_of("/d/9", HEAD), 1);
	cr_assert_eq(route_of("/d/9", PUT), 2);
	cr_assert_eq(route_of("/d/9", DELETE), 3);
	cr_assert(value_is(0, "9"));
}

static int
add_rc(const char *pattern, unsigned methods, uint32_t id, uint32_t *conflict)
{
	char e[256];

	*conflict = 0xdead;
	return kc_routes_add(routes, pattern, strlen(pattern), methods, id, conflict, e,
	    sizeof e);
}

Test(index, conflicts)
{
	uint32_t c;

	add("/d/{id}", GET, 1);
	add("/d/{id:int}", GET, 2);
	add("/d/{id:slug}/x", GET | POST, 3);
	add("/aA", GET, 4);
	add("/files/{rest...}", GET, 5);
	add("/dir/", GET, 6);

	cr_assert_eq(add_rc("/d/{other}", GET | HEAD, 10, &c), -2);
	cr_assert_eq(c, 1, "names do not count");
	cr_assert_eq(add_rc("/d/{n:int}", ALL, 11, &c), -2);
	cr_assert_eq(c, 2);
	cr_assert_eq(add_rc("/d/{s:slug}/x", POST | PUT, 12, &c), -2);
	cr_assert_eq(c, 3);
	cr_assert_eq(add_rc("/a%41", GET, 13, &c), -2, "one literal, two spellings");
	cr_assert_eq(c, 4);
	cr_assert_eq(add_rc("/files/{path...}", GET, 14, &c), -2);
	cr_assert_eq(c, 5);
	cr_assert_eq(add_rc("/dir/", GET, 15, &c), -2);
	cr_assert_eq(c, 6);

	/* not conflicts: other types, other methods, the slash, other literals */
	cr_assert_eq(add_rc("/d/{id:hex}", GET, 20, &c), 0);
	cr_assert_eq(add_rc("/d/{id:uuid}", GET, 21, &c), 0);
	cr_assert_eq(add_rc("/d/{id}", PUT, 22, &c), 0);
	cr_assert_eq(add_rc("/d/{id:slug}/x", PUT, 23, &c), 0);
	cr_assert_eq(add_rc("/dir", GET, 24, &c), 0);
	cr_assert_eq(add_rc("/aa", GET, 25, &c), 0);
	cr_assert_eq(add_rc("/files/{path}", GET, 26, &c), 0);

	/* the refused routes left nothing behind */
	cr_assert_eq(route_of("/d/zz", GET), 1);
	cr_assert_eq(route_of("/d/12", GET), 2);
	cr_assert_eq(route_of("/d/s/x", POST), 3);
	cr_assert_eq(route_of("/d/s/x", PUT), 23);
	cr_assert_eq(match("/d/s/x", HEAD), KC_ROUTE_NO_METHOD);
	cr_assert_eq(route_of("/aA", GET), 4);
	cr_assert_eq(route_of("/aa", GET), 25);
	cr_assert_eq(route_of("/d/ab", GET), 20);
	cr_assert_eq(route_of("/d/zz", PUT), 22);
}

/* A refused route whose shape is new creates no nodes that could match. */
Test(index, refused_route_leaves_nothing)
{
	uint32_t c;

	cr_assert_eq(add_rc("/new/{x:intt}", GET, 1, &c), -1);
	cr_assert_eq(add_rc("/new/x", 0, 2, &c), -1);
	cr_assert_eq(match("/new/x", GET), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/new/5", GET), KC_ROUTE_NO_PATH);
}

Test(index, add_errors)
{
	char e[256] = "";

	cr_assert_eq(kc_routes_add(routes, "/a/{x:intt}", 11, GET, 1, NULL, e, sizeof e), -1);
	cr_assert_str_eq(e, "unknown capture type 'intt' (expected int, uuid, hex or slug)");
	cr_assert_eq(kc_routes_add(routes, "a", 1, GET, 1, NULL, e, sizeof e), -1);
	cr_assert_eq(kc_routes_add(routes, "/a", 2, 0, 1, NULL, e, sizeof e), -1);
	cr_assert_not_null(strstr(e, "method"));
	cr_assert_eq(kc_routes_add(routes, "/a", 2, GET, 1, NULL, NULL, 0), 0);
	cr_assert_eq(kc_routes_add(routes, "/a", 2, GET, 2, NULL, NULL, 0), -2,
	    "conflict_id may be NULL");
}

Test(index, values_in_pattern_order)
{
	add("/u/{a}/x/{b:int}/{c:hex}/{rest...}", GET, 1);
	cr_assert_eq(route_of("/u/caf%C3%A9/x/42/Ff/p/q%20r/%7E", GET), 1);
	cr_assert_eq(m.n_values, 4);
	cr_assert(value_is(0, "caf\xc3\xa9"));
	cr_assert(value_is(1, "42"));
	cr_assert(value_is(2, "Ff"));
	cr_assert(value_is(3, "p/q r/~"));
	cr_assert_eq(m.values[3].s, m.tail_buf, "a tail is rendered into tail_buf");
	cr_assert_eq(m.tail_buf[m.values[3].len], '\0');
	for (unsigned i = 0; i < 3; i++)
		cr_assert(m.values[i].s >= path.dec && m.values[i].s < path.dec + sizeof path.dec,
		    "value %u points into the path", i);
}

/* §7.6: the trailing slash is significant. */
Test(index, trailing_slash)
{
	add("/", GET, 1);
	add("/a", GET, 2);
	add("/a/", GET, 3);
	add("/b/{x}", GET, 4);
	add("/t/{rest...}/", GET, 5);
	cr_assert_eq(route_of("/", GET), 1);
	cr_assert_eq(route_of("/a", GET), 2);
	cr_assert_eq(route_of("/a/", GET), 3);
	cr_assert_eq(route_of("/b/x", GET), 4);
	cr_assert_eq(match("/b/x/", GET), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/b/x/", POST), KC_ROUTE_NO_PATH);
	cr_assert_eq(route_of("/t/x/y/", GET), 5);
	cr_assert(value_is(0, "x/y"));
	cr_assert_eq(match("/t/x/y", GET), KC_ROUTE_NO_PATH);
}

Test(index, empty_index)
{
	cr_assert_eq(match("/", GET), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/a/b", GET), KC_ROUTE_NO_PATH);
	kc_routes_free(NULL);
}

Test(index, limits)
{
	char p[512], q[512];
	size_t n = 0, k = 0;

	for (int i = 0; i < KC_ROUTE_MAX_CAPTURES; i++) {
		n += (size_t)sprintf(p + n, "/{c%d:int}", i);
		k += (size_t)sprintf(q + k, "/%d", i);
	}
	for (int i = KC_ROUTE_MAX_CAPTURES; i < KC_PATH_MAX_SEGMENTS - 1; i++) {
		n += (size_t)sprintf(p + n, "/s");
		k += (size_t)sprintf(q + k, "/s");
	}
	sprintf(p + n, "/{rest...}");
	cr_assert_not(parse(p), "a 17th capture");
	sprintf(p + n, "/end");
	sprintf(q + k, "/end");
	add(p, GET, 1);
	cr_assert_eq(route_of(q, GET), 1);
	cr_assert_eq(m.n_values, KC_ROUTE_MAX_CAPTURES);
	cr_assert(value_is(15, "15"));
	sprintf(q + k, "/other");
	cr_assert_eq(match(q, GET), KC_ROUTE_NO_PATH);
}

/* 100 routes in a scrambled order: every one is found with its values, and
 * nothing else matches. A literal level with 100 children exercises the
 * sorted insertion and the binary search. */
Test(index, hundred_routes)
{
	char p[128], want[16];
	uint32_t id = 0;

	for (unsigned k = 0; k < 100; k++) {
		unsigned i = (k * 37) % 100;    /* 37 is prime to 100: a permutation */

		switch (i % 4) {
		case 0: snprintf(p, sizeof p, "/svc%u/{id:int}", i); break;
		case 1: snprintf(p, sizeof p, "/svc%u/{id:int}/items/{item:slug}", i); break;
		case 2: snprintf(p, sizeof p, "/svc%u/x%u", i, i); break;
		default: snprintf(p, sizeof p, "/svc%u/{rest...}", i); break;
		}
		add(p, i % 3 == 0 ? GET : GET | POST, 1000 + i);
		id++;
	}
	cr_assert_eq(id, 100);
	for (unsigned i = 0; i < 100; i++) {
		bool has_path;

		switch (i % 4) {
		case 0:
			snprintf(p, sizeof p, "/svc%u/%u", i, i * 7);
			cr_assert_eq(route_of(p, GET), 1000 + i, "%s", p);
			cr_assert_eq(m.n_values, 1);
			cr_assert_eq(strtoul(m.values[0].s, NULL, 10), i * 7);
			snprintf(p, sizeof p, "/svc%u/x", i);
			cr_assert_eq(match(p, GET), KC_ROUTE_NO_PATH, "%s", p);
			break;
		case 1:
			snprintf(p, sizeof p, "/svc%u/%u/items/it-%u", i, i, i);
			cr_assert_eq(route_of(p, GET), 1000 + i, "%s", p);
			cr_assert_eq(m.n_values, 2);
			snprintf(want, sizeof want, "it-%u", i);
			cr_assert(value_is(1, want), "%s", p);
			break;
		case 2:
			snprintf(p, sizeof p, "/svc%u/x%u", i, i);
			cr_assert_eq(route_of(p, GET), 1000 + i, "%s", p);
			snprintf(p, sizeof p, "/svc%u/x%u", i, i + 1);
			cr_assert_eq(match(p, GET), KC_ROUTE_NO_PATH, "%s", p);
			break;
		case 3:
			snprintf(p, sizeof p, "/svc%u/a/b", i);
			cr_assert_eq(route_of(p, GET), 1000 + i, "%s", p);
			cr_assert(value_is(0, "a/b"));
			break;
		}
		/* /svcN/1 has a route for cases 0 and 3 */
		snprintf(p, sizeof p, "/svc%u/1", i);
		has_path = i % 4 == 0 || i % 4 == 3;
		cr_assert_eq(match(p, PUT), has_path ? KC_ROUTE_NO_METHOD : KC_ROUTE_NO_PATH,
		    "%s", p);
		cr_assert_eq(match(p, POST), !has_path ? KC_ROUTE_NO_PATH :
		    i % 3 == 0 ? KC_ROUTE_NO_METHOD : KC_ROUTE_FOUND, "%s", p);
	}
	cr_assert_eq(match("/svc100/1", GET), KC_ROUTE_NO_PATH);
	cr_assert_eq(match("/svc/1", GET), KC_ROUTE_NO_PATH);
}

/* ---- brute-force cross-check ------------------------------------------------------
 * Random routes and paths over a small alphabet, a deterministic generator.
 * The reference reads §2.4.2 and §7.7 literally: among the routes that match
 * the path and have the method, the one whose rank vector (literal 0, int and
 * uuid 1, hex 2, slug 3, untyped 4, tail 5, segment by segment) is least. */

static uint32_t rng = 12345;

static unsigned
rnd(unsigned n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) % n;
}

typedef struct ref_route {
	int kind[4];            /* -1 literal (lit[i]), else kc_capture_type */
	const char *lit[4];
	unsigned n, methods;
} ref_route;

static const char *const words[] = { "a", "12", "ff", "x-y", "a%20b",
	"123e4567-e89b-12d3-a456-426614174000" };
static const char *const words_dec[] = { "a", "12", "ff", "x-y", "a b",
	"123e4567-e89b-12d3-a456-426614174000" };

static int
rank_of(int kind)
{
	static const int rank[] = { 1, 1, 2, 3, 4, 5 };

	return kind < 0 ? 0 : rank[kind];
}

static bool
class_has(int kind, const char *s)
{
	size_t n = strlen(s);

	switch (kind) {
	case KC_CAP_INT: return strspn(s, "0123456789") == n && n <= 19;
	case KC_CAP_UUID: return strcmp(s, words_dec[5]) == 0;
	case KC_CAP_HEX: return strspn(s, "0123456789abcdefABCDEF") == n;
	case KC_CAP_SLUG:
		return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-._~") == n;
	default: return true;
	}
}

/* The rank vector of r for a path of n segments, or false if it does not match. */
static bool
ref_matches(const ref_route *r, const unsigned *seg, unsigned n, int *ranks)
{
	for (unsigned i = 0; i < r->n; i++) {
		if (r->kind[i] == KC_CAP_TAIL) {
			ranks[i] = 5;
			return i < n;
		}
		if (i >= n)
			return false;
		if (r->kind[i] < 0 ? strcmp(r->lit[i], words[seg[i]]) != 0 :
		    !class_has(r->kind[i], words_dec[seg[i]]))
			return false;
		ranks[i] = rank_of(r->kind[i]);
	}
	return r->n == n;
}

Test(index, matches_reference)
{
	for (int round = 0; round < 200; round++) {
		ref_route refs[24];
		unsigned n_refs = 0;

		kc_routes_free(routes);
		routes = kc_routes_new();
		for (int k = 0; k < 24; k++) {
			ref_route *r = &refs[n_refs];
			char p[256] = "";
			size_t pl = 0;
			uint32_t c;

			r->n = 1 + rnd(3);
			r->methods = 1 + rnd(3);
			for (unsigned i = 0; i < r->n; i++) {
				static const char *const capt[] = { ":int", ":uuid", ":hex", "",
					":slug", "..." };
				static const int capk[] = { KC_CAP_INT, KC_CAP_UUID, KC_CAP_HEX,
					KC_CAP_ANY, KC_CAP_SLUG, KC_CAP_TAIL };
				unsigned w = rnd(i + 1 == r->n ? 6 : 5);

				pl += (size_t)sprintf(p + pl, "/");
				if (rnd(2) == 0) {
					r->kind[i] = -1;
					r->lit[i] = words[rnd(3)];
					pl += (size_t)sprintf(p + pl, "%s", r->lit[i]);
				} else {
					r->kind[i] = capk[w];
					pl += (size_t)sprintf(p + pl, "{c%u%s}", i, capt[w]);
				}
			}
			int rc = add_rc(p, r->methods, n_refs, &c);

			cr_assert(rc == 0 || rc == -2, "%s: %d", p, rc);
			if (rc == 0)
				n_refs++;
		}
		for (int q = 0; q < 40; q++) {
			unsigned seg[4], n = 1 + rnd(4), method = 1u << rnd(2);
			char p[256] = "";
			size_t pl = 0;
			int best = -1, best_ranks[4] = { 0 };
			bool path_seen = false;

			for (unsigned i = 0; i < n; i++) {
				seg[i] = rnd(6);
				pl += (size_t)sprintf(p + pl, "/%s", words[seg[i]]);
			}
			for (unsigned k = 0; k < n_refs; k++) {
				int ranks[4] = { 0 };

				if (!ref_matches(&refs[k], seg, n, ranks))
					continue;
				path_seen = true;
				if ((refs[k].methods & method) == 0)
					continue;
				if (best >= 0) {
					int d = 0;

					for (unsigned i = 0; i < 4 && d == 0; i++)
						d = ranks[i] - best_ranks[i];
					cr_assert_neq(d, 0, "two routes tie for %s", p);
					if (d > 0)
						continue;
				}
				best = (int)k;
				memcpy(best_ranks, ranks, sizeof ranks);
			}
			kc_route_result res = match(p, method);
			if (best >= 0) {
				cr_assert_eq(res, KC_ROUTE_FOUND, "round %d: %s", round, p);
				cr_assert_eq(m.id, (uint32_t)best, "round %d: %s method %u", round, p,
				    method);
			} else {
				cr_assert_eq(res, path_seen ? KC_ROUTE_NO_METHOD : KC_ROUTE_NO_PATH,
				    "round %d: %s", round, p);
			}
		}
	}
}

/* ---- concurrency: matching only reads the index ------------------------------------ */

static void *
match_many(void *arg)
{
	const kc_routes *r = arg;
	static const struct { const char *p; uint32_t id; const char *v; } cases[] = {
		{ "/a/5/b", 1, "5" }, { "/a/5/c", 2, "5" }, { "/a/x/c", 2, "x" },
		{ "/f/1/2", 3, "1/2" },
	};
	kc_path *pth = malloc(sizeof *pth);
	kc_route_match *mt = malloc(sizeof *mt);
	intptr_t bad = 0;

	for (int i = 0; i < 20000; i++) {
		size_t c = (size_t)i % 4;

		if (kc_path_normalize(cases[c].p, strlen(cases[c].p), pth) != KC_PATH_OK ||
		    kc_routes_match(r, pth, GET, mt) != KC_ROUTE_FOUND || mt->id != cases[c].id ||
		    mt->values[0].len != strlen(cases[c].v) ||
		    memcmp(mt->values[0].s, cases[c].v, mt->values[0].len) != 0)
			bad++;
	}
	free(pth);
	free(mt);
	return (void *)bad;
}

Test(index, concurrent_matches)
{
	pthread_t t[4];

	add("/a/{x:int}/b", GET, 1);
	add("/a/{y:slug}/c", GET, 2);
	add("/f/{rest...}", GET, 3);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, match_many, routes), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;

		cr_assert_eq(pthread_join(t[i], &bad), 0);
		cr_assert_eq((intptr_t)bad, 0, "thread %d saw %ld wrong matches", i,
		    (long)(intptr_t)bad);
	}
}
