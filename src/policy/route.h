/* route.h: request paths and the route index (policy-language.md §2.4.1-2).
 *
 * Paths are normalized before anything else, and refused (400) when they
 * could mean different things to keycard and to the application behind it
 * (the class of CVE-2019-9901). Routes from every file go into one segment
 * trie; a request selects exactly one route by specificity, never by file
 * order, and two routes that could match the same request equally well are
 * refused when the index is built. */
#ifndef KC_POLICY_ROUTE_H
#define KC_POLICY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KC_PATH_MAX 4096        /* bytes of a request path */
#define KC_PATH_MAX_SEGMENTS 32
#define KC_ROUTE_MAX_CAPTURES 16

/* ---- paths ---------------------------------------------------------------- */

typedef enum kc_path_status {
	KC_PATH_OK = 0,
	KC_PATH_BAD,        /* 400: see kc_path_normalize */
	KC_PATH_TOO_LONG,   /* 400 too: over KC_PATH_MAX bytes or KC_PATH_MAX_SEGMENTS */
} kc_path_status;

/* A normalized request path. norm is what was matched and what the
 * application must be given (PATH_INFO): unreserved characters
 * (ALPHA DIGIT - . _ ~) percent-decoded, every other %XX kept with upper-case
 * hex. seg[i] are the segments fully percent-decoded, for matching and
 * captures. */
typedef struct kc_path {
	char norm[KC_PATH_MAX + 1];
	size_t norm_len;
	char dec[KC_PATH_MAX + 1];              /* decoded segments, NUL-separated */
	uint16_t seg_off[KC_PATH_MAX_SEGMENTS]; /* into dec */
	uint16_t seg_len[KC_PATH_MAX_SEGMENTS];
	unsigned n_segs;                        /* "/" has none */
	bool trailing_slash;                    /* "/a/b/": matches only a route
	                                           written with the slash (§7.6) */
} kc_path;

/* Normalizes raw[0..len) (the path part of the request target, no query).
 * Refused: not starting with '/'; "." or ".." segments (also when encoded);
 * empty segments ("//"); %2F, %5C and %00, and any other encoded or raw
 * control character (< 0x20, 0x7f); a '%' not followed by two hex digits;
 * bytes that are not valid UTF-8 after decoding. Never reads past len. */
kc_path_status kc_path_normalize(const char *raw, size_t len, kc_path *out);

/* ---- route patterns ----------------------------------------------------------
 * A pattern is a path whose segments are literal text or captures:
 *   {name}          untyped: any non-empty segment
 *   {name:int}      1-19 decimal digits
 *   {name:uuid}     8-4-4-4-12 hex digits
 *   {name:hex}      hex digits
 *   {name:slug}     [A-Za-z0-9._~-]+
 *   {rest...}       tail: one or more remaining segments (last segment only)
 * Specificity, from most to least specific, segment by segment from the left:
 * literal, int/uuid, hex, slug, untyped, tail. */

typedef enum kc_capture_type {
	KC_CAP_INT, KC_CAP_UUID, KC_CAP_HEX, KC_CAP_SLUG, KC_CAP_ANY, KC_CAP_TAIL,
} kc_capture_type;

typedef struct kc_route_capture {
	char name[64];
	kc_capture_type type;
	uint16_t offset, length;    /* the {…} text within the pattern, for diagnostics */
} kc_route_capture;

typedef struct kc_route_pattern {
	kc_route_capture caps[KC_ROUTE_MAX_CAPTURES];
	unsigned n_caps;
	unsigned n_segs;
} kc_route_pattern;

/* Parses a pattern. On error returns false, writes a lower-case message
 * (e.g. "unknown capture type 'intt' (expected int, uuid, hex or slug)") and
 * the byte offset within the pattern it refers to. Capture names are
 * [A-Za-z_][A-Za-z0-9_]*, unique within the pattern. Literal segments follow
 * the rules of kc_path_normalize (no "." or "..", no empty segment). */
bool kc_route_pattern_parse(const char *pattern, size_t len, kc_route_pattern *out,
    char *err, size_t errlen, size_t *err_offset);

/* ---- the index --------------------------------------------------------------- */

typedef struct kc_routes kc_routes;

kc_routes *kc_routes_new(void);
void kc_routes_free(kc_routes *r);

/* Adds a route with a method bitmask (any non-zero mask; bits are the
 * caller's) and the caller's id. Returns 0; or -1 with a message in err if
 * the pattern is invalid; or -2 when a route with the same shape (the same
 * literals and capture types position by position, names ignored) and an
 * overlapping method set was added before, and then *conflict_id is its id.
 * Not thread-safe; done once at compile time. */
int kc_routes_add(kc_routes *r, const char *pattern, size_t len, unsigned methods,
    uint32_t id, uint32_t *conflict_id, char *err, size_t errlen);

typedef struct kc_route_value {
	const char *s;      /* into the kc_path (a tail spans several segments and
	                       is rendered into tail_buf) */
	size_t len;
} kc_route_value;

typedef struct kc_route_match {
	uint32_t id;
	kc_route_value values[KC_ROUTE_MAX_CAPTURES];   /* in the pattern's capture order */
	unsigned n_values;
	char tail_buf[KC_PATH_MAX + 1];
} kc_route_match;

typedef enum kc_route_result {
	KC_ROUTE_FOUND,
	KC_ROUTE_NO_PATH,   /* no route has this path */
	KC_ROUTE_NO_METHOD, /* some route has the path, none this method */
} kc_route_result;

/* Selects the most specific route for path and method (one bit of the
 * caller's mask). Thread-safe on a built index; no allocation. */
kc_route_result kc_routes_match(const kc_routes *r, const kc_path *path, unsigned method,
    kc_route_match *out);

#endif
