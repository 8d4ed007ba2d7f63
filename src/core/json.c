/* json.c: a strict, one-pass JSON parser into an arena (see json.h). */
#include "config.h"

#include "core/json.h"

#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct member;

/* One value. Arrays hold their elements and objects their members in one
 * arena block each, in document order. */
struct kc_json {
	unsigned char type;
	bool is_int;
	uint32_t n;              /* string length, or element/member count */
	int64_t i;               /* integer value when is_int */
	union {
		const char *s;
		double d;
		kc_json *items;
		struct member *members;
	} u;
};

struct member {
	const char *key;
	uint32_t key_len;
	kc_json value;
};

struct parser {
	const unsigned char *s, *end;
	kc_arena *a;
	int depth, max_depth;
	kc_json_error err;
};

static bool
fail(struct parser *p, kc_json_error e)
{
	if (p->err == KC_JSON_OK)
		p->err = e;
	return false;
}

static void
skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
		p->s++;
}

static bool parse_value(struct parser *p, kc_json *out);

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static bool
read_u16(struct parser *p, const unsigned char *q, unsigned *out)
{
	if (p->end - q < 4)
		return false;
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(q[k]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

/* p->s is just past the opening quote. */
static bool
parse_string(struct parser *p, const char **out, uint32_t *out_len)
{
	const unsigned char *start = p->s, *q = p->s;
	/* Fast path: plain ASCII without escapes. */
	while (q < p->end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
		q++;
	if (q < p->end && *q == '"') {
		size_t n = (size_t)(q - start);
		if (n > UINT32_MAX)
			return fail(p, KC_JSON_ERR_SYNTAX);
		char *s = kc_arena_strndup(p->a, (const char *)start, n);
		if (s == NULL)
			return fail(p, KC_JSON_ERR_NOMEM);
		*out = s;
		*out_len = (uint32_t)n;
		p->s = q + 1;
		return true;
	}
	/* Slow path: the decoded string is never longer than its source. */
	const unsigned char *e = q;
	while (e < p->end && *e != '"') {
		if (*e == '\\')
			e++;
		e++;
	}
	if (e >= p->end)
		return fail(p, KC_JSON_ERR_SYNTAX);
	size_t cap = (size_t)(e - start);
	if (cap > UINT32_MAX)
		return fail(p, KC_JSON_ERR_SYNTAX);
	char *buf = kc_arena_alloc(p->a, cap + 1);
	if (buf == NULL)
		return fail(p, KC_JSON_ERR_NOMEM);
	size_t o = (size_t)(q - start);
	memcpy(buf, start, o);
	while (q < e) {
		unsigned char c = *q;
		if (c < 0x20) {
			return fail(p, KC_JSON_ERR_SYNTAX);
		} else if (c == '\\') {
			if (q + 1 >= e + 1)
				return fail(p, KC_JSON_ERR_SYNTAX);
			unsigned char x = q[1];
			q += 2;
			switch (x) {
			case '"': buf[o++] = '"'; break;
			case '\\': buf[o++] = '\\'; break;
			case '/': buf[o++] = '/'; break;
			case 'b': buf[o++] = '\b'; break;
			case 'f': buf[o++] = '\f'; break;
			case 'n': buf[o++] = '\n'; break;
			case 'r': buf[o++] = '\r'; break;
			case 't': buf[o++] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (!read_u16(p, q, &cp))
					return fail(p, KC_JSON_ERR_SYNTAX);
				q += 4;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(p, KC_JSON_ERR_SYNTAX);
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (e - q < 6 || q[0] != '\\' || q[1] != 'u' ||
					    !read_u16(p, q + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
						return fail(p, KC_JSON_ERR_SYNTAX);
					q += 6;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				/* A NUL would cut every C string made from this one. */
				if (cp == 0)
					return fail(p, KC_JSON_ERR_SYNTAX);
				if (cp < 0x80) {
					buf[o++] = (char)cp;
				} else if (cp < 0x800) {
					buf[o++] = (char)(0xc0 | cp >> 6);
					buf[o++] = (char)(0x80 | (cp & 0x3f));
				} else if (cp < 0x10000) {
					buf[o++] = (char)(0xe0 | cp >> 12);
					buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
					buf[o++] = (char)(0x80 | (cp & 0x3f));
				} else {
					buf[o++] = (char)(0xf0 | cp >> 18);
					buf[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
					buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
					buf[o++] = (char)(0x80 | (cp & 0x3f));
				}
				break;
			}
			default:
				return fail(p, KC_JSON_ERR_SYNTAX);
			}
		} else if (c < 0x80) {
			buf[o++] = (char)c;
			q++;
		} else {
			size_t n = kc_utf8_seq(q, (size_t)(e - q));
			if (n == 0)
				return fail(p, KC_JSON_ERR_SYNTAX);
			memcpy(buf + o, q, n);
			o += n;
			q += n;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = (uint32_t)o;
	p->s = e + 1;
	return true;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
parse_number(struct parser *p, kc_json *out)
{
	const unsigned char *start = p->s, *q = p->s;
	bool neg = false, integer = true, overflow = false;
	uint64_t mag = 0;
	if (q < p->end && *q == '-')
		neg = true, q++;
	if (q >= p->end || *q < '0' || *q > '9')
		return fail(p, KC_JSON_ERR_SYNTAX);
	if (*q == '0') {
		q++;
	} else {
		while (q < p->end && *q >= '0' && *q <= '9') {
			unsigned d = (unsigned)(*q - '0');
			if (mag > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				mag = mag * 10 + d;
			q++;
		}
	}
	if (q < p->end && *q == '.') {
		integer = false;
		q++;
		if (q >= p->end || *q < '0' || *q > '9')
			return fail(p, KC_JSON_ERR_SYNTAX);
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < p->end && (*q == 'e' || *q == 'E')) {
		integer = false;
		q++;
		if (q < p->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= p->end || *q < '0' || *q > '9')
			return fail(p, KC_JSON_ERR_SYNTAX);
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
	}
	p->s = q;
	out->type = KC_JSON_NUMBER;
	if (integer && !overflow &&
	    (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX)) {
		out->is_int = true;
		out->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		out->u.d = (double)out->i;
		return true;
	}
	/* Everything else goes through strtod on a NUL-terminated copy. */
	size_t n = (size_t)(q - start);
	char small[64], *tmp = small;
	if (n >= sizeof(small) && (tmp = kc_arena_alloc(p->a, n + 1)) == NULL)
		return fail(p, KC_JSON_ERR_NOMEM);
	memcpy(tmp, start, n);
	tmp[n] = '\0';
	double d = strtod(tmp, NULL);
	if (!isfinite(d))
		return fail(p, KC_JSON_ERR_SYNTAX);
	out->u.d = d;
	return true;
}

static bool
literal(struct parser *p, const char *word, size_t n)
{
	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
		return fail(p, KC_JSON_ERR_SYNTAX);
	p->s += n;
	return true;
}

/* Grows an arena array of elem-sized slots from cap to 2*cap. */
static void *
grow(struct parser *p, void *old, size_t elem, uint32_t *cap)
{
	size_t ncap = *cap ? (size_t)*cap * 2 : 4;
	if (ncap > UINT32_MAX / 2)
		return NULL;
	void *n = kc_arena_alloc(p->a, ncap * elem);
	if (n != NULL && old != NULL)
		memcpy(n, old, *cap * elem);
	*cap = (uint32_t)ncap;
	return n;
}

static bool
parse_array(struct parser *p, kc_json *out)
{
	uint32_t cap = 0, n = 0;
	kc_json *items = NULL;
	out->type = KC_JSON_ARRAY;
	skip_ws(p);
	if (p->s < p->end && *p->s == ']') {
		p->s++;
		return true;
	}
	for (;;) {
		if (n == cap && (items = grow(p, items, sizeof(*items), &cap)) == NULL)
			return fail(p, KC_JSON_ERR_NOMEM);
		memset(&items[n], 0, sizeof(items[n]));
		if (!parse_value(p, &items[n]))
			return false;
		n++;
		skip_ws(p);
		if (p->s >= p->end)
			return fail(p, KC_JSON_ERR_SYNTAX);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s != ']')
			return fail(p, KC_JSON_ERR_SYNTAX);
		p->s++;
		out->u.items = items;
		out->n = n;
		return true;
	}
}

static bool
same_key(const struct member *a, const struct member *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static int
cmp_key(const void *x, const void *y)
{
	const struct member *a = *(const struct member *const *)x;
	const struct member *b = *(const struct member *const *)y;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return memcmp(a->key, b->key, a->key_len);
}

/* RFC 8259 §4 leaves repeated names to the implementation; RFC 7515 §4 and
 * RFC 7519 §4 require rejecting them, so a claim can never mean two things.
 * Large objects are sorted, not hashed: this runs before the signature is
 * checked, and an unkeyed hash lets crafted names collide into O(n²). */
static bool
has_duplicates(struct parser *p, const struct member *m, uint32_t n)
{
	if (n <= 16) {
		for (uint32_t i = 1; i < n; i++)
			for (uint32_t j = 0; j < i; j++)
				if (same_key(&m[i], &m[j]))
					return true;
		return false;
	}
	const struct member **v = kc_arena_alloc(p->a, (size_t)n * sizeof(*v));
	if (v == NULL) {
		fail(p, KC_JSON_ERR_NOMEM);
		return true;
	}
	for (uint32_t i = 0; i < n; i++)
		v[i] = &m[i];
	qsort(v, n, sizeof(*v), cmp_key);
	for (uint32_t i = 1; i < n; i++)
		if (same_key(v[i - 1], v[i]))
			return true;
	return false;
}

static bool
parse_object(struct parser *p, kc_json *out)
{
	uint32_t cap = 0, n = 0;
	struct member *m = NULL;
	out->type = KC_JSON_OBJECT;
	skip_ws(p);
	if (p->s < p->end && *p->s == '}') {
		p->s++;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (p->s >= p->end || *p->s != '"')
			return fail(p, KC_JSON_ERR_SYNTAX);
		p->s++;
		if (n == cap && (m = grow(p, m, sizeof(*m), &cap)) == NULL)
			return fail(p, KC_JSON_ERR_NOMEM);
		memset(&m[n], 0, sizeof(m[n]));
		if (!parse_string(p, &m[n].key, &m[n].key_len))
			return false;
		skip_ws(p);
		if (p->s >= p->end || *p->s != ':')
			return fail(p, KC_JSON_ERR_SYNTAX);
		p->s++;
		if (!parse_value(p, &m[n].value))
			return false;
		n++;
		skip_ws(p);
		if (p->s >= p->end)
			return fail(p, KC_JSON_ERR_SYNTAX);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s != '}')
			return fail(p, KC_JSON_ERR_SYNTAX);
		p->s++;
		if (has_duplicates(p, m, n))
			return fail(p, KC_JSON_ERR_DUPLICATE);
		out->u.members = m;
		out->n = n;
		return true;
	}
}

static bool
parse_value(struct parser *p, kc_json *out)
{
	skip_ws(p);
	if (p->s >= p->end)
		return fail(p, KC_JSON_ERR_SYNTAX);
	switch (*p->s) {
	case '{':
	case '[': {
		bool obj = *p->s == '{';
		p->s++;
		if (++p->depth > p->max_depth)
			return fail(p, KC_JSON_ERR_DEPTH);
		bool ok = obj ? parse_object(p, out) : parse_array(p, out);
		p->depth--;
		return ok;
	}
	case '"':
		p->s++;
		out->type = KC_JSON_STRING;
		return parse_string(p, &out->u.s, &out->n);
	case 't':
		out->type = KC_JSON_TRUE;
		return literal(p, "true", 4);
	case 'f':
		out->type = KC_JSON_FALSE;
		return literal(p, "false", 5);
	case 'n':
		out->type = KC_JSON_NULL;
		return literal(p, "null", 4);
	default:
		return parse_number(p, out);
	}
}

const kc_json *
kc_json_parse(kc_arena *a, const char *buf, size_t len, int max_depth, kc_json_error *err)
{
	struct parser p = {
		.s = (const unsigned char *)buf, .end = (const unsigned char *)buf + len,
		.a = a, .max_depth = max_depth, .err = KC_JSON_OK,
	};
	kc_json *root = kc_arena_alloc(a, sizeof(*root));
	if (root == NULL) {
		*err = KC_JSON_ERR_NOMEM;
		return NULL;
	}
	memset(root, 0, sizeof(*root));
	if (!parse_value(&p, root)) {
		*err = p.err ? p.err : KC_JSON_ERR_SYNTAX;
		return NULL;
	}
	skip_ws(&p);
	if (p.s != p.end) {
		*err = KC_JSON_ERR_SYNTAX;
		return NULL;
	}
	*err = KC_JSON_OK;
	return root;
}

kc_json_type kc_json_typeof(const kc_json *v) { return (kc_json_type)v->type; }
bool kc_json_is_string(const kc_json *v) { return v != NULL && v->type == KC_JSON_STRING; }
bool kc_json_is_number(const kc_json *v) { return v != NULL && v->type == KC_JSON_NUMBER; }
bool kc_json_is_object(const kc_json *v) { return v != NULL && v->type == KC_JSON_OBJECT; }
bool kc_json_is_array(const kc_json *v) { return v != NULL && v->type == KC_JSON_ARRAY; }

const char *
kc_json_string(const kc_json *v, size_t *len)
{
	if (!kc_json_is_string(v))
		return NULL;
	if (len != NULL)
		*len = v->n;
	return v->u.s;
}

bool
kc_json_string_equals(const kc_json *v, const char *s, size_t n)
{
	return kc_json_is_string(v) && v->n == n && memcmp(v->u.s, s, n) == 0;
}

double
kc_json_number(const kc_json *v)
{
	return kc_json_is_number(v) ? v->u.d : 0;
}

bool
kc_json_integer(const kc_json *v, int64_t *out)
{
	if (!kc_json_is_number(v) || !v->is_int)
		return false;
	*out = v->i;
	return true;
}

size_t
kc_json_size(const kc_json *v)
{
	return v != NULL && (v->type == KC_JSON_ARRAY || v->type == KC_JSON_OBJECT) ? v->n : 0;
}

const kc_json *
kc_json_at(const kc_json *v, size_t i)
{
	return kc_json_is_array(v) && i < v->n ? &v->u.items[i] : NULL;
}

const kc_json *
kc_json_get(const kc_json *v, const char *name)
{
	return kc_json_getn(v, name, strlen(name));
}

const kc_json *
kc_json_getn(const kc_json *v, const char *name, size_t n)
{
	if (!kc_json_is_object(v))
		return NULL;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct member *m = &v->u.members[i];
		if (m->key_len == n && memcmp(m->key, name, n) == 0)
			return &m->value;
	}
	return NULL;
}

const char *
kc_json_key_at(const kc_json *v, size_t i, const kc_json **value)
{
	if (!kc_json_is_object(v) || i >= v->n)
		return NULL;
	if (value != NULL)
		*value = &v->u.members[i].value;
	return v->u.members[i].key;
}

json_t *
kc_json_to_jansson(const kc_json *v)
{
	switch ((kc_json_type)v->type) {
	case KC_JSON_NULL: return json_null();
	case KC_JSON_FALSE: return json_false();
	case KC_JSON_TRUE: return json_true();
	case KC_JSON_NUMBER: return v->is_int ? json_integer(v->i) : json_real(v->u.d);
	case KC_JSON_STRING: return json_stringn(v->u.s, v->n);
	case KC_JSON_ARRAY: {
		json_t *a = json_array();
		for (uint32_t i = 0; a != NULL && i < v->n; i++)
			if (json_array_append_new(a, kc_json_to_jansson(&v->u.items[i])) != 0) {
				json_decref(a);
				return NULL;
			}
		return a;
	}
	case KC_JSON_OBJECT: {
		json_t *o = json_object();
		for (uint32_t i = 0; o != NULL && i < v->n; i++) {
			const struct member *m = &v->u.members[i];
			if (json_object_setn_new(o, m->key, m->key_len, kc_json_to_jansson(&m->value)) != 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	}
	return NULL;
}
