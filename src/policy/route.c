/* route.c: request path normalization and the route index, a segment trie
 * matched by specificity (policy-language.md §2.4.1, §2.4.2, §3.7). */
#include "config.h"

#include "policy/route.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- characters ------------------------------------------------------------ */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3986 §2.3 unreserved: ALPHA DIGIT - . _ ~ (also the slug class). */
static bool
is_unreserved(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool
is_name_char(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

/* ---- segments -----------------------------------------------------------------
 * One segment (the bytes between two '/') is checked and decoded the same way
 * for request paths and for the literal segments of route patterns, so that a
 * literal compares equal to exactly the requests it names. */

typedef enum seg_error {
	SEG_OK,
	SEG_BAD_PERCENT,    /* '%' not followed by two hex digits */
	SEG_ENC_SLASH,      /* %2F */
	SEG_ENC_BACKSLASH,  /* %5C */
	SEG_BACKSLASH,      /* a raw '\' */
	SEG_CONTROL,        /* < 0x20 or 0x7f, raw or encoded (%00 included) */
	SEG_DOT,            /* "." or "..", also encoded or followed by ";..." */
	SEG_UTF8,           /* the decoded bytes are not UTF-8 */
} seg_error;

/* Strict UTF-8 (RFC 3629): no overlong forms (%C0%AE is not '.'), no
 * surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return false;   /* continuation byte, 0xc0, 0xc1, 0xf5.. */
		}
		if (n - i - 1 < need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* "." and ".." are what every server resolves; "..;x" is what Java servlet
 * containers resolve after dropping path parameters (the "/..;/" bypass). */
static bool
is_dot_segment(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);

	if (semi != NULL)
		n = (size_t)(semi - s);
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Decodes raw[0..n) (no '/' in it) into dec, fully percent-decoded, and, when
 * norm is not NULL, into norm with unreserved characters decoded and every
 * other %XX in upper-case hex. Neither output is longer than n. On error,
 * *bad_at is the offset within raw of the offending byte (0 for DOT, UTF8). */
static seg_error
segment_decode(const char *raw, size_t n, char *norm, size_t *norm_len, char *dec,
    size_t *dec_len, size_t *bad_at)
{
	static const char upper[] = "0123456789ABCDEF";
	size_t nl = 0, dl = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		int hi, lo;

		if (c == '%') {
			if (n - i < 3 || (hi = hex_value((unsigned char)raw[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)raw[i + 2])) < 0) {
				*bad_at = i;
				return SEG_BAD_PERCENT;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
				*bad_at = i;
				return c == '/' ? SEG_ENC_SLASH : c == '\\' ? SEG_ENC_BACKSLASH :
				    SEG_CONTROL;
			}
			if (norm != NULL) {
				if (is_unreserved(c)) {
					norm[nl++] = (char)c;
				} else {
					norm[nl++] = '%';
					norm[nl++] = upper[c >> 4];
					norm[nl++] = upper[c & 15];
				}
			}
			dec[dl++] = (char)c;
			i += 2;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\') {
			*bad_at = i;
			return c == '\\' ? SEG_BACKSLASH : SEG_CONTROL;
		}
		if (norm != NULL)
			norm[nl++] = (char)c;
		dec[dl++] = (char)c;
	}
	*bad_at = 0;
	if (is_dot_segment(dec, dl))
		return SEG_DOT;
	if (!utf8_valid((const unsigned char *)dec, dl))
		return SEG_UTF8;
	if (norm_len != NULL)
		*norm_len = nl;
	*dec_len = dl;
	return SEG_OK;
}

/* ---- paths ------------------------------------------------------------------ */

kc_path_status
kc_path_normalize(const char *raw, size_t len, kc_path *out)
{
	size_t pos = 1, nl = 1, dl = 0;

	if (out == NULL)
		return KC_PATH_BAD;
	out->norm[0] = '\0';
	out->norm_len = 0;
	out->dec[0] = '\0';
	out->n_segs = 0;
	out->trailing_slash = false;
	if (len > KC_PATH_MAX)
		return KC_PATH_TOO_LONG;
	if (raw == NULL || len == 0 || raw[0] != '/')
		return KC_PATH_BAD;
	out->norm[0] = '/';

	while (pos < len) {
		const char *slash = memchr(raw + pos, '/', len - pos);
		size_t end = slash != NULL ? (size_t)(slash - raw) : len;
		size_t snl, sdl, bad_at;

		if (end == pos)
			goto bad;       /* "//" */
		if (out->n_segs == KC_PATH_MAX_SEGMENTS) {
			out->n_segs = 0;
			out->norm[0] = '\0';
			return KC_PATH_TOO_LONG;
		}
		if (segment_decode(raw + pos, end - pos, out->norm + nl, &snl, out->dec + dl, &sdl,
		    &bad_at) != SEG_OK)
			goto bad;
		out->seg_off[out->n_segs] = (uint16_t)dl;
		out->seg_len[out->n_segs] = (uint16_t)sdl;
		out->n_segs++;
		nl += snl;
		dl += sdl;
		out->dec[dl++] = '\0';
		if (end == len)
			break;
		out->norm[nl++] = '/';
		pos = end + 1;
		/* "/a/": a route never matches it unless written with the slash */
		out->trailing_slash = pos == len;
	}
	out->norm[nl] = '\0';
	out->norm_len = nl;
	return KC_PATH_OK;

bad:
	out->n_segs = 0;
	out->trailing_slash = false;
	out->norm[0] = '\0';
	return KC_PATH_BAD;
}

/* ---- route patterns ------------------------------------------------------------ */

#define SEG_LITERAL 0xff        /* in pseg.kind; otherwise a kc_capture_type */

/* A parsed pattern as the index needs it: each segment's kind and, for a
 * literal, its decoded text in buf. */
typedef struct pseg {
	uint8_t kind;
	uint16_t off, len;      /* literal: into parsed.buf */
} pseg;

typedef struct parsed {
	kc_route_pattern pat;
	pseg segs[KC_PATH_MAX_SEGMENTS];
	bool trailing_slash;
	char buf[KC_PATH_MAX + 1];
} parsed;

typedef struct perr {
	char *msg;
	size_t msglen;
	size_t *offset;
} perr;

static bool fail(const perr *e, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(const perr *e, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (e->msg != NULL && e->msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(e->msg, e->msglen, fmt, ap);
		va_end(ap);
	}
	if (e->offset != NULL)
		*e->offset = offset;
	return false;
}

static const struct {
	const char *name;
	kc_capture_type type;
} cap_types[] = {
	{ "int", KC_CAP_INT }, { "uuid", KC_CAP_UUID }, { "hex", KC_CAP_HEX },
	{ "slug", KC_CAP_SLUG },
};

/* One capture segment p[pos..end), p[pos] == '{'. */
static bool
parse_capture(const char *p, size_t pos, size_t end, parsed *out, const perr *e)
{
	kc_route_pattern *pat = &out->pat;
	kc_route_capture *cap;
	size_t i = pos + 1, name = i, name_len;
	kc_capture_type type = KC_CAP_ANY;

	while (i < end && is_name_char((unsigned char)p[i]))
		i++;
	name_len = i - name;
	if (name_len == 0)
		return fail(e, i, "expected a capture name after '{'");
	if (is_digit((unsigned char)p[name]))
		return fail(e, name, "capture name '%.*s' must start with a letter or '_'",
		    (int)name_len, p + name);
	if (name_len >= sizeof pat->caps[0].name)
		return fail(e, name, "capture name is longer than %zu bytes",
		    sizeof pat->caps[0].name - 1);
	if (i < end && p[i] == ':') {
		size_t t = ++i;
		bool known = false;

		while (i < end && is_name_char((unsigned char)p[i]))
			i++;
		if (i == t)
			return fail(e, t, "expected a capture type after ':' (int, uuid, hex or slug)");
		for (size_t k = 0; k < sizeof cap_types / sizeof cap_types[0]; k++) {
			if (strlen(cap_types[k].name) == i - t &&
			    memcmp(cap_types[k].name, p + t, i - t) == 0) {
				type = cap_types[k].type;
				known = true;
			}
		}
		if (!known)
			return fail(e, t, "unknown capture type '%.*s' (expected int, uuid, hex or slug)",
			    (int)(i - t), p + t);
	} else if (end - i >= 3 && memcmp(p + i, "...", 3) == 0) {
		type = KC_CAP_TAIL;
		i += 3;
	}
	if (i == end)
		return fail(e, i, "expected '}' to close the capture");
	if (p[i] != '}')
		return fail(e, i, "expected '}' to close the capture, or ':' before a type");
	if (++i != end)
		return fail(e, i, "a capture must be a whole path segment");
	for (unsigned k = 0; k < pat->n_caps; k++) {
		if (strlen(pat->caps[k].name) == name_len &&
		    memcmp(pat->caps[k].name, p + name, name_len) == 0)
			return fail(e, name, "duplicate capture name '%.*s'", (int)name_len,
			    p + name);
	}
	if (pat->n_caps == KC_ROUTE_MAX_CAPTURES)
		return fail(e, pos, "more than %d captures in a route", KC_ROUTE_MAX_CAPTURES);

	cap = &pat->caps[pat->n_caps++];
	memcpy(cap->name, p + name, name_len);
	cap->name[name_len] = '\0';
	cap->type = type;
	cap->offset = (uint16_t)pos;
	cap->length = (uint16_t)(end - pos);
	out->segs[pat->n_segs].kind = (uint8_t)type;
	return true;
}

/* One literal segment p[pos..end), decoded into out->buf at *used. */
static bool
parse_literal(const char *p, size_t pos, size_t end, parsed *out, size_t *used,
    const perr *e)
{
	size_t dl, bad_at;

	for (size_t i = pos; i < end; i++) {
		if (p[i] == '{')
			return fail(e, i, "a capture must be a whole path segment");
		if (p[i] == '}')
			return fail(e, i, "'}' outside a capture");
	}
	switch (segment_decode(p + pos, end - pos, NULL, NULL, out->buf + *used, &dl, &bad_at)) {
	case SEG_OK:
		break;
	case SEG_BAD_PERCENT:
		return fail(e, pos + bad_at, "'%%' must be followed by two hex digits");
	case SEG_ENC_SLASH:
		return fail(e, pos + bad_at, "an encoded '/' (%%2F) cannot be part of a route path");
	case SEG_ENC_BACKSLASH:
	case SEG_BACKSLASH:
		return fail(e, pos + bad_at, "'\\' cannot be part of a route path");
	case SEG_CONTROL:
		return fail(e, pos + bad_at, "a control character cannot be part of a route path");
	case SEG_DOT:
		return fail(e, pos, "'.' and '..' segments cannot be part of a route path");
	case SEG_UTF8:
		return fail(e, pos, "invalid UTF-8 in a route path segment");
	}
	out->segs[out->pat.n_segs].kind = SEG_LITERAL;
	out->segs[out->pat.n_segs].off = (uint16_t)*used;
	out->segs[out->pat.n_segs].len = (uint16_t)dl;
	*used += dl;
	return true;
}

static bool
parse_pattern(const char *p, size_t len, parsed *out, const perr *e)
{
	size_t pos = 1, used = 0, tail_at = 0;
	bool tail = false;

	memset(&out->pat, 0, sizeof out->pat);
	out->trailing_slash = false;
	if (len > KC_PATH_MAX)
		return fail(e, KC_PATH_MAX, "route path is longer than %d bytes", KC_PATH_MAX);
	if (p == NULL || len == 0 || p[0] != '/')
		return fail(e, 0, "a route path must start with '/'");

	while (pos < len) {
		const char *slash = memchr(p + pos, '/', len - pos);
		size_t end = slash != NULL ? (size_t)(slash - p) : len;
		bool ok;

		if (end == pos)
			return fail(e, pos, "empty path segment ('//')");
		if (tail)
			return fail(e, tail_at, "tail capture '%s' must be the last segment",
			    out->pat.caps[out->pat.n_caps - 1].name);
		if (out->pat.n_segs == KC_PATH_MAX_SEGMENTS)
			return fail(e, pos, "more than %d path segments", KC_PATH_MAX_SEGMENTS);
		if (p[pos] == '{') {
			ok = parse_capture(p, pos, end, out, e);
			if (ok && out->pat.caps[out->pat.n_caps - 1].type == KC_CAP_TAIL) {
				tail = true;
				tail_at = pos;
			}
		} else {
			ok = parse_literal(p, pos, end, out, &used, e);
		}
		if (!ok)
			return false;
		out->pat.n_segs++;
		out->trailing_slash = end + 1 == len;   /* §7.6: significant */
		pos = end + 1;
	}
	return true;
}

bool
kc_route_pattern_parse(const char *pattern, size_t len, kc_route_pattern *out,
    char *err, size_t errlen, size_t *err_offset)
{
	perr e = { err, errlen, err_offset };
	parsed p;

	if (!parse_pattern(pattern, len, &p, &e))
		return false;
	if (out != NULL)
		*out = p.pat;
	return true;
}

/* ---- the index ------------------------------------------------------------------
 * A segment trie. The edges out of a node are the literal segments (sorted by
 * length, then bytes, and binary-searched), one child per capture type
 * (indexed by kc_capture_type, which is the rank order), and a tail child
 * (caps[KC_CAP_TAIL]) which holds only leaves. A route ends at the node its
 * shape leads to, as a leaf: (method mask, id, trailing slash). Routes of one
 * shape share the node and must have disjoint method masks, and since every
 * shape has exactly one node, no two routes can match a request equally
 * well. int and uuid are separate children but never match the same segment. */

typedef struct rt_node rt_node;

typedef struct rt_lit {
	char *s;
	size_t len;
	rt_node *child;
} rt_lit;

typedef struct rt_leaf {
	unsigned methods;
	uint32_t id;
	bool trailing_slash;
} rt_leaf;

struct rt_node {
	rt_lit *lits;
	size_t n_lits, cap_lits;
	rt_node *caps[KC_CAP_TAIL + 1];
	rt_leaf *leaves;
	size_t n_leaves;
};

struct kc_routes {
	rt_node root;
};

kc_routes *
kc_routes_new(void)
{
	return calloc(1, sizeof(kc_routes));
}

static void
node_fini(rt_node *n)
{
	for (size_t i = 0; i < n->n_lits; i++) {
		node_fini(n->lits[i].child);
		free(n->lits[i].child);
		free(n->lits[i].s);
	}
	free(n->lits);
	for (size_t t = 0; t <= KC_CAP_TAIL; t++) {
		if (n->caps[t] != NULL) {
			node_fini(n->caps[t]);
			free(n->caps[t]);
		}
	}
	free(n->leaves);
}

void
kc_routes_free(kc_routes *r)
{
	if (r == NULL)
		return;
	node_fini(&r->root);
	free(r);
}

/* Binary search by (len, bytes): the index where s is or would go. */
static size_t
lit_search(const rt_node *n, const char *s, size_t len, bool *found)
{
	size_t lo = 0, hi = n->n_lits;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const rt_lit *l = &n->lits[mid];
		int c = l->len != len ? (l->len < len ? -1 : 1) : memcmp(l->s, s, len);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The child for segment i of p, or NULL; created when create is set (NULL
 * then means out of memory). */
static rt_node *
node_child(rt_node *n, const parsed *p, unsigned i, bool create)
{
	const pseg *s = &p->segs[i];
	rt_lit *lits;
	size_t at;
	bool found;

	if (s->kind != SEG_LITERAL) {
		if (n->caps[s->kind] == NULL && create)
			n->caps[s->kind] = calloc(1, sizeof(rt_node));
		return n->caps[s->kind];
	}
	at = lit_search(n, p->buf + s->off, s->len, &found);
	if (found || !create)
		return found ? n->lits[at].child : NULL;

	if (n->n_lits == n->cap_lits) {
		size_t cap = n->cap_lits != 0 ? n->cap_lits * 2 : 4;

		if ((lits = realloc(n->lits, cap * sizeof *lits)) == NULL)
			return NULL;
		n->lits = lits;
		n->cap_lits = cap;
	}
	lits = n->lits;
	rt_lit l = { malloc(s->len + 1), s->len, calloc(1, sizeof(rt_node)) };
	if (l.s == NULL || l.child == NULL) {
		free(l.s);
		free(l.child);
		return NULL;
	}
	memcpy(l.s, p->buf + s->off, s->len);
	l.s[s->len] = '\0';
	memmove(&lits[at + 1], &lits[at], (n->n_lits - at) * sizeof *lits);
	lits[at] = l;
	n->n_lits++;
	return l.child;
}

static int
add_fail(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

int
kc_routes_add(kc_routes *r, const char *pattern, size_t len, unsigned methods,
    uint32_t id, uint32_t *conflict_id, char *err, size_t errlen)
{
	perr e = { err, errlen, NULL };
	parsed pp, *p = &pp;
	rt_node *n;
	rt_leaf *leaves;

	if (r == NULL)
		return add_fail(err, errlen, "no route index");
	if (methods == 0)
		return add_fail(err, errlen, "a route needs at least one method");
	if (!parse_pattern(pattern, len, p, &e))
		return -1;

	/* Look for a route of the same shape first, so a refused route leaves
	 * nothing behind. */
	n = &r->root;
	for (unsigned i = 0; i < p->pat.n_segs && n != NULL; i++)
		n = node_child(n, p, i, false);
	for (size_t k = 0; n != NULL && k < n->n_leaves; k++) {
		if (n->leaves[k].trailing_slash == p->trailing_slash &&
		    (n->leaves[k].methods & methods) != 0) {
			if (conflict_id != NULL)
				*conflict_id = n->leaves[k].id;
			add_fail(err, errlen, "a route of the same shape with an overlapping "
			    "method set exists");
			return -2;
		}
	}

	n = &r->root;
	for (unsigned i = 0; i < p->pat.n_segs && n != NULL; i++)
		n = node_child(n, p, i, true);
	if (n == NULL ||
	    (leaves = realloc(n->leaves, (n->n_leaves + 1) * sizeof *leaves)) == NULL)
		return add_fail(err, errlen, "out of memory");
	n->leaves = leaves;
	leaves[n->n_leaves++] = (rt_leaf){ methods, id, p->trailing_slash };
	return 0;
}

/* ---- matching ---------------------------------------------------------------- */

static bool
capture_accepts(kc_capture_type t, const unsigned char *s, size_t n)
{
	switch (t) {
	case KC_CAP_INT:
		if (n == 0 || n > 19)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!is_digit(s[i]))
				return false;
		return true;
	case KC_CAP_UUID:
		if (n != 36)
			return false;
		for (size_t i = 0; i < n; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (s[i] != '-')
					return false;
			} else if (hex_value(s[i]) < 0) {
				return false;
			}
		}
		return true;
	case KC_CAP_HEX:
		for (size_t i = 0; i < n; i++)
			if (hex_value(s[i]) < 0)
				return false;
		return n > 0;
	case KC_CAP_SLUG:
		for (size_t i = 0; i < n; i++)
			if (!is_unreserved(s[i]))
				return false;
		return n > 0;
	case KC_CAP_ANY:
	case KC_CAP_TAIL:
		return n > 0;
	}
	return false;
}

/* The state of one match, on the caller's stack: the index stays read-only. */
typedef struct walk {
	const kc_path *path;
	unsigned method;
	kc_route_match *out;
	bool path_seen;     /* a leaf had the path, maybe not the method */
} walk;

static bool
leaf_match(const rt_node *n, unsigned n_caps, walk *w)
{
	for (size_t k = 0; k < n->n_leaves; k++) {
		const rt_leaf *l = &n->leaves[k];

		if (l->trailing_slash != w->path->trailing_slash)
			continue;
		w->path_seen = true;
		if ((l->methods & w->method) != 0) {
			w->out->id = l->id;
			w->out->n_values = n_caps;
			return true;
		}
	}
	return false;
}

/* Depth-first, most specific edge first; the first leaf with the method is
 * the most specific route that has it (§7.7: methods filter first). Each
 * trie node is entered at most once, so the walk is bounded by the trie. */
static bool
walk_node(const rt_node *n, unsigned depth, unsigned n_caps, walk *w)
{
	const kc_path *path = w->path;
	const char *seg;
	size_t len, at;
	bool found;

	if (depth == path->n_segs)
		return leaf_match(n, n_caps, w);
	seg = path->dec + path->seg_off[depth];
	len = path->seg_len[depth];

	at = lit_search(n, seg, len, &found);
	if (found && walk_node(n->lits[at].child, depth + 1, n_caps, w))
		return true;
	if (n_caps == KC_ROUTE_MAX_CAPTURES)
		return false;
	for (int t = KC_CAP_INT; t < KC_CAP_TAIL; t++) {
		if (n->caps[t] == NULL || !capture_accepts((kc_capture_type)t,
		    (const unsigned char *)seg, len))
			continue;
		w->out->values[n_caps].s = seg;
		w->out->values[n_caps].len = len;
		if (walk_node(n->caps[t], depth + 1, n_caps + 1, w))
			return true;
	}
	if (n->caps[KC_CAP_TAIL] != NULL && leaf_match(n->caps[KC_CAP_TAIL], n_caps + 1, w)) {
		/* The rest of the decoded segments, joined by '/': no decoded
		 * segment holds a '/', so the join is unambiguous. */
		char *b = w->out->tail_buf;
		size_t bl = 0;

		for (unsigned i = depth; i < path->n_segs; i++) {
			if (i > depth)
				b[bl++] = '/';
			memcpy(b + bl, path->dec + path->seg_off[i], path->seg_len[i]);
			bl += path->seg_len[i];
		}
		b[bl] = '\0';
		w->out->values[n_caps].s = b;
		w->out->values[n_caps].len = bl;
		return true;
	}
	return false;
}

kc_route_result
kc_routes_match(const kc_routes *r, const kc_path *path, unsigned method,
    kc_route_match *out)
{
	walk w = { path, method, out, false };

	out->id = 0;
	out->n_values = 0;
	out->tail_buf[0] = '\0';
	if (r == NULL || path == NULL || path->n_segs > KC_PATH_MAX_SEGMENTS)
		return KC_ROUTE_NO_PATH;
	if (walk_node(&r->root, 0, 0, &w))
		return KC_ROUTE_FOUND;
	return w.path_seen ? KC_ROUTE_NO_METHOD : KC_ROUTE_NO_PATH;
}
