/* eval.c: conditions over one request, on the compiled program.
 *
 * Missing data never errors and never opens a door: a test that reads a
 * missing scalar is false (also `!=` and `not in`), a missing list is an
 * empty list, and only `not` can turn "missing" into "true", which the
 * compiler refuses without a guard. Atoms are memoized per request. No
 * allocation except slices into the request's arena. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

static const kc_val missing = { .t = KC_VT_MISSING };

/* ---- token: claims into slots, scopes into bits and grants ------------------------- */

static const kc_json *
walk(const kc_json *root, const kc_claim_def *d)
{
	const kc_json *v = root;
	for (uint32_t i = 0; v != NULL && i < d->path_len; i++)
		v = kc_json_getn(v, d->path[i], d->path_lens[i]);
	return v;
}

static bool
all_of_type(const kc_json *arr, kc_json_type t)
{
	size_t n = kc_json_size(arr);
	if (n > KC_MAX_LIST_ITEMS)
		return false;
	for (size_t i = 0; i < n; i++) {
		const kc_json *e = kc_json_at(arr, i);
		if (t == KC_JSON_NUMBER) {
			int64_t x;
			if (!kc_json_integer(e, &x))
				return false;
		} else if (kc_json_typeof(e) != t) {
			return false;
		}
	}
	return true;
}

/* Reads one claim into a slot; false when present with the wrong type. */
static bool
load_claim(const kc_claim_def *d, const kc_json *v, kc_val *out)
{
	*out = missing;
	if (v == NULL || kc_json_typeof(v) == KC_JSON_NULL)
		return true;
	switch (d->type) {
	case KC_VT_STRING: {
		size_t len;
		const char *s = kc_json_string(v, &len);
		if (s == NULL)
			return false;
		out->t = KC_VT_STRING;
		out->s = s;
		out->len = (uint32_t)len;
		return true;
	}
	case KC_VT_INT:
		if (!kc_json_integer(v, &out->i))
			return false;
		out->t = KC_VT_INT;
		return true;
	case KC_VT_BOOL:
		if (kc_json_typeof(v) != KC_JSON_TRUE && kc_json_typeof(v) != KC_JSON_FALSE)
			return false;
		out->t = KC_VT_BOOL;
		out->i = kc_json_typeof(v) == KC_JSON_TRUE;
		return true;
	case KC_VT_TIME:
		if (!kc_json_is_number(v))
			return false;
		if (!kc_json_integer(v, &out->i)) {
			double d2 = kc_json_number(v);
			if (!(d2 > -9.2e18 && d2 < 9.2e18))
				return false;
			out->i = (int64_t)d2;
		}
		out->t = KC_VT_TIME;
		return true;
	case KC_VT_LIST_STRING:
		if (d->split && kc_json_is_string(v)) {
			size_t len;
			out->s = kc_json_string(v, &len);
			out->len = (uint32_t)len;
			out->split = d->split;
			out->t = KC_VT_LIST_STRING;
			return true;
		}
		if (!kc_json_is_array(v) || !all_of_type(v, KC_JSON_STRING))
			return false;
		out->arr = v;
		out->t = KC_VT_LIST_STRING;
		return true;
	case KC_VT_LIST_INT:
		if (!kc_json_is_array(v) || !all_of_type(v, KC_JSON_NUMBER))
			return false;
		out->arr = v;
		out->t = KC_VT_LIST_INT;
		return true;
	default:
		return false;
	}
}

/* Entity shape perm:type:id with a declared type and permission. */
static bool
add_entity_scope(kc_eval_ctx *ctx, const char *s, size_t len)
{
	const kc_policy *p = ctx->p;
	const char *c1 = memchr(s, ':', len);
	if (c1 == NULL)
		return false;
	const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s));
	if (c2 == NULL || c2 + 1 == s + len)
		return false;
	int perm = -1, etype = -1;
	for (uint32_t i = 0; i < p->n_perms; i++)
		if (strlen(p->perm_letters[i]) == (size_t)(c1 - s) &&
		    memcmp(p->perm_letters[i], s, (size_t)(c1 - s)) == 0)
			perm = (int)i;
	for (uint32_t i = 0; i < p->n_etypes; i++)
		if (p->etypes[i].name.len == (size_t)(c2 - c1 - 1) &&
		    memcmp(p->etypes[i].name.s, c1 + 1, (size_t)(c2 - c1 - 1)) == 0)
			etype = (int)i;
	if (perm < 0 || etype < 0 || !(p->etypes[etype].perms & (1u << perm)))
		return false;
	uint16_t perms = p->etypes[etype].implies[perm];
	const char *id = c2 + 1;
	size_t id_len = len - (size_t)(id - s);
	if (id_len == 1 && id[0] == '*') {
		ctx->wild[etype] |= perms;
		return true;
	}
	for (uint32_t i = 0; i < ctx->n_grants; i++) {
		kc_grant *g = &ctx->grants[i];
		if (g->etype == etype && g->len == id_len && memcmp(g->id, id, id_len) == 0) {
			g->perms |= perms;
			return true;
		}
	}
	if (ctx->n_grants >= KC_MAX_GRANTS)
		return false;   /* counted as ignored: a token past the cap grants no more */
	kc_grant *g = &ctx->grants[ctx->n_grants++];
	g->etype = (uint8_t)etype;
	g->perms = perms;
	g->id = id;
	g->len = (uint32_t)id_len;
	return true;
}

/* One scope string from the token. Returns false if it repeats one seen. */
static void
add_scope(kc_eval_ctx *ctx, const char *s, size_t len, uint64_t *own)
{
	int id = kc_policy_scope_id(ctx->p, s, len);
	bool known = false;
	if (id >= 0) {
		own[id / 64] |= (uint64_t)1 << (id % 64);
		known = true;
	}
	if (add_entity_scope(ctx, s, len))
		known = true;
	if (!known)
		ctx->ignored_scopes++;
}

/* Appends s to the export text unless it is already there. */
static void
scope_text_add(char *buf, size_t *o, size_t cap, const char *s, size_t len)
{
	for (size_t i = 0; i < *o;) {
		size_t j = i;
		while (j < *o && buf[j] != ' ')
			j++;
		if (j - i == len && memcmp(buf + i, s, len) == 0)
			return;
		i = j + 1;
	}
	if (*o + len + 2 > cap)
		return;
	if (*o > 0)
		buf[(*o)++] = ' ';
	memcpy(buf + *o, s, len);
	*o += len;
	buf[*o] = '\0';
}

static void
load_scopes(kc_eval_ctx *ctx)
{
	const kc_policy *p = ctx->p;
	uint64_t own[KC_SCOPE_WORDS] = { 0 };
	const kc_json *src = NULL;
	/* The first source claim present is read (policy-language.md §2.4.7). */
	for (uint32_t i = 0; i < p->n_scope_sources && src == NULL; i++) {
		const kc_json *v = kc_json_get(ctx->claims, p->scope_sources[i]);
		if (v != NULL && (kc_json_is_string(v) || kc_json_is_array(v)))
			src = v;
	}
	size_t cap = 4096, o = 0, n = 0;
	char *text = kc_arena_alloc(ctx->arena, cap);
	if (text != NULL)
		text[0] = '\0';
	if (kc_json_is_string(src)) {
		size_t len;
		const char *s = kc_json_string(src, &len);
		for (size_t i = 0; i < len && n < KC_MAX_TOKEN_SCOPES;) {
			while (i < len && s[i] == ' ')
				i++;
			size_t j = i;
			while (j < len && s[j] != ' ')
				j++;
			if (j > i) {
				add_scope(ctx, s + i, j - i, own);
				if (text != NULL)
					scope_text_add(text, &o, cap, s + i, j - i);
				n++;
			}
			i = j;
		}
	} else if (kc_json_is_array(src)) {
		for (size_t i = 0; i < kc_json_size(src) && n < KC_MAX_TOKEN_SCOPES; i++) {
			size_t len;
			const char *s = kc_json_string(kc_json_at(src, i), &len);
			/* A scope with a space inside would read as two in exports. */
			if (s == NULL || len == 0 || memchr(s, ' ', len) != NULL)
				continue;
			add_scope(ctx, s, len, own);
			if (text != NULL)
				scope_text_add(text, &o, cap, s, len);
			n++;
		}
	}
	/* Close under `implies` with the precomputed masks. */
	memcpy(ctx->scopes, own, sizeof(own));
	for (uint32_t w = 0; w < KC_SCOPE_WORDS; w++) {
		uint64_t bits = own[w];
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			uint32_t id = w * 64 + b;
			if (id < p->n_scopes)
				for (int k = 0; k < KC_SCOPE_WORDS; k++)
					ctx->scopes[k] |= p->implies[id][k];
		}
	}
	ctx->scope_text = text != NULL && o > 0 ? text : NULL;
}

const char *
kc_eval_load_token(kc_eval_ctx *ctx)
{
	const kc_policy *p = ctx->p;
	ctx->slots = kc_arena_alloc(ctx->arena, (p->n_claims ? p->n_claims : 1) * sizeof(kc_val));
	if (ctx->slots == NULL)
		return "(out of memory)";
	for (uint32_t i = 0; i < p->n_claims; i++) {
		const kc_claim_def *d = &p->claims[i];
		if (ctx->claims == NULL) {
			ctx->slots[i] = missing;
			continue;
		}
		bool ok = load_claim(d, walk(ctx->claims, d), &ctx->slots[i]);
		/* A required claim must be there with its type: else the token is
		 * invalid (401). An optional one of the wrong type reads as missing. */
		if (d->required && (!ok || ctx->slots[i].t == KC_VT_MISSING))
			return d->name;
		if (!ok)
			ctx->wrong_type_claims++;
	}
	memset(ctx->scopes, 0, sizeof(ctx->scopes));
	memset(ctx->wild, 0, sizeof(ctx->wild));
	ctx->n_grants = 0;
	if (ctx->claims != NULL)
		load_scopes(ctx);
	return NULL;
}

/* ---- operands --------------------------------------------------------------------- */

static bool
ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static kc_val
string_val(const char *s, size_t len)
{
	kc_val v = { .t = KC_VT_STRING, .s = s, .len = (uint32_t)len };
	return v;
}

static kc_val
header_value(kc_eval_ctx *ctx, const kc_istr *name)
{
	kc_val v = missing;
	size_t n = ctx->n_headers;
	for (size_t i = 0; i < n; i++) {
		const kc_header *h = &ctx->headers[i];
		if (h->name_len == name->len && ieq(h->name, name->s, name->len)) {
			/* A repeated header reads as missing, like a repeated query
			 * parameter: no guessing which one the application will see. */
			if (v.t != KC_VT_MISSING)
				return missing;
			v = string_val(h->value, h->value_len);
		}
	}
	return v;
}

static int
hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes (and '+' to space, as forms do) into the arena; NULL if
 * malformed or if the result holds a control character. */
static const char *
query_decode(kc_eval_ctx *ctx, const char *s, size_t len, size_t *out_len)
{
	char *out = kc_arena_alloc(ctx->arena, len + 1);
	size_t o = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '%') {
			if (i + 2 >= len || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
				return NULL;
			ch = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			return NULL;
		out[o++] = ch;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static kc_val
query_value(kc_eval_ctx *ctx, const kc_istr *name)
{
	kc_val v = missing;
	const char *q = ctx->query;
	size_t len = ctx->query_len, i = 0;
	bool found = false;
	while (q != NULL && i < len) {
		size_t j = i;
		while (j < len && q[j] != '&')
			j++;
		const char *eq = memchr(q + i, '=', j - i);
		size_t klen = eq ? (size_t)(eq - (q + i)) : j - i;
		size_t dk;
		const char *key = query_decode(ctx, q + i, klen, &dk);
		if (key != NULL && dk == name->len && memcmp(key, name->s, dk) == 0) {
			if (found)
				return missing;   /* repeated: parameter pollution */
			found = true;
			size_t dv = 0;
			const char *val = eq ? query_decode(ctx, eq + 1, (size_t)(q + j - eq - 1), &dv) : "";
			v = val ? string_val(val, dv) : missing;
		}
		i = j + 1;
	}
	return v;
}

static kc_val
capture_value(kc_eval_ctx *ctx, const kc_operand *o)
{
	const kc_route_def *r = ctx->route;
	if (r == NULL || ctx->match == NULL)
		return missing;
	for (unsigned i = 0; i < r->pat.n_caps && i < ctx->match->n_values; i++) {
		if (strcmp(r->pat.caps[i].name, o->name.s) != 0)
			continue;
		kc_val v = string_val(ctx->match->values[i].s, ctx->match->values[i].len);
		if (o->type == KC_VT_INT) {
			int64_t x = 0;
			for (size_t k = 0; k < v.len; k++) {
				if (x > (INT64_MAX - 9) / 10)
					return missing;
				x = x * 10 + (v.s[k] - '0');
			}
			v.t = KC_VT_INT;
			v.i = x;
		}
		return v;
	}
	return missing;
}

static const char *
claim_string(const kc_json *claims, const char *name, size_t *len)
{
	return claims ? kc_json_string(kc_json_get(claims, name), len) : NULL;
}

static const kc_client *
find_client(const kc_policy *p, const char *id, size_t len)
{
	for (uint32_t i = 0; i < p->n_clients; i++)
		if (p->clients[i].id.len == len && memcmp(p->clients[i].id.s, id, len) == 0)
			return &p->clients[i];
	return NULL;
}

kc_val
kc_eval_operand(kc_eval_ctx *ctx, const kc_operand *o)
{
	size_t len;
	const char *s;
	switch (o->kind) {
	case KC_OP_LIT:
		return o->lit;
	case KC_OP_COALESCE: {
		kc_val v = kc_eval_operand(ctx, o->a);
		return v.t != KC_VT_MISSING ? v : kc_eval_operand(ctx, o->b);
	}
	case KC_OP_LOWER: {
		kc_val v = kc_eval_operand(ctx, o->a);
		if (v.t != KC_VT_STRING)
			return missing;
		char *out = kc_arena_alloc(ctx->arena, v.len + 1);
		if (out == NULL)
			return missing;
		for (uint32_t i = 0; i < v.len; i++)
			out[i] = v.s[i] >= 'A' && v.s[i] <= 'Z' ? (char)(v.s[i] - 'A' + 'a') : v.s[i];
		out[v.len] = '\0';
		return string_val(out, v.len);
	}
	case KC_OP_ENTITY_IDS:
		return missing;   /* rendered by kc_eval_render */
	case KC_OP_SLOT:
		break;
	}
	switch (o->slot) {
	case KC_SL_CLAIM:
		return ctx->slots != NULL && ctx->claims != NULL ? ctx->slots[o->index] : missing;
	case KC_SL_CAPTURE:
		return capture_value(ctx, o);
	case KC_SL_METHOD:
		return ctx->method ? string_val(ctx->method, strlen(ctx->method)) : missing;
	case KC_SL_PATH:
		return ctx->path ? string_val(ctx->path->norm, ctx->path->norm_len) : missing;
	case KC_SL_REMOTE: {
		if (ctx->remote_addr == NULL)
			return missing;
		kc_val v = string_val(ctx->remote_addr, strlen(ctx->remote_addr));
		v.t = KC_VT_IP;
		return v;
	}
	case KC_SL_HEADER:
		return header_value(ctx, &o->name);
	case KC_SL_QUERY:
		return query_value(ctx, &o->name);
	case KC_SL_CLIENT_ID:
		s = claim_string(ctx->claims, "client_id", &len);
		return s ? string_val(s, len) : missing;
	case KC_SL_CLIENT_NAME: {
		s = claim_string(ctx->claims, "client_id", &len);
		const kc_client *cl = s ? find_client(ctx->p, s, len) : NULL;
		return cl && cl->name ? string_val(cl->name, strlen(cl->name)) : missing;
	}
	case KC_SL_TOKEN_ISS:
		s = claim_string(ctx->claims, "iss", &len);
		return s ? string_val(s, len) : missing;
	case KC_SL_TOKEN_JTI:
		s = claim_string(ctx->claims, "jti", &len);
		return s ? string_val(s, len) : missing;
	case KC_SL_TOKEN_KIND:
		return ctx->claims ? string_val("jwt", 3) : missing;
	case KC_SL_TOKEN_SCOPES: {
		if (ctx->scope_text == NULL)
			return missing;
		kc_val v = string_val(ctx->scope_text, strlen(ctx->scope_text));
		v.t = KC_VT_SCOPES;
		return v;
	}
	}
	return missing;
}

/* ---- lists ------------------------------------------------------------------------ */

/* Iterates the elements of a list value: a JSON array or a split string. */
typedef struct list_iter {
	const kc_val *v;
	size_t i;
} list_iter;

static bool
list_next(list_iter *it, kc_val *out)
{
	const kc_val *v = it->v;
	if (v->arr != NULL) {
		if (it->i >= kc_json_size(v->arr) || it->i >= KC_MAX_LIST_ITEMS)
			return false;
		const kc_json *e = kc_json_at(v->arr, it->i++);
		size_t len;
		const char *s = kc_json_string(e, &len);
		if (s != NULL) {
			*out = string_val(s, len);
		} else {
			out->t = KC_VT_INT;
			kc_json_integer(e, &out->i);
		}
		return true;
	}
	if (v->split) {
		size_t len = v->len;
		while (it->i < len && v->s[it->i] == v->split)
			it->i++;
		if (it->i >= len)
			return false;
		size_t j = it->i;
		while (j < len && v->s[j] != v->split)
			j++;
		*out = string_val(v->s + it->i, j - it->i);
		it->i = j;
		return true;
	}
	return false;
}

static bool
same(const kc_val *a, const kc_val *b)
{
	if (a->t == KC_VT_STRING && b->t == KC_VT_STRING)
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	if ((a->t == KC_VT_INT || a->t == KC_VT_TIME) && (b->t == KC_VT_INT || b->t == KC_VT_TIME))
		return a->i == b->i;
	if (a->t == KC_VT_BOOL && b->t == KC_VT_BOOL)
		return a->i == b->i;
	return false;
}

static bool
strset_has(const kc_strset *set, const char *s, size_t len)
{
	if (set->n == 0)
		return false;
	/* A few entries: comparing beats hashing (§3.4). */
	if (set->n <= 8) {
		for (uint32_t i = 0; i < set->n; i++)
			if (set->items[i].len == len && memcmp(set->items[i].s, s, len) == 0)
				return true;
		return false;
	}
	uint64_t h = kc_policy_hash(s, len);
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const kc_istr *m = &set->items[mid];
		int c = m->hash != h ? (m->hash < h ? -1 : 1) : m->len != len ? (m->len < len ? -1 : 1) :
		    memcmp(m->s, s, len);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Parses an address; 0 when it is not one. The remote address is parsed
 * once a request (ctx), whatever the number of tests reading it. */
static int
parse_ip(const kc_val *v, unsigned char addr[16])
{
	char buf[64];
	memset(addr, 0, 16);
	if (v->len == 0 || v->len >= sizeof(buf))
		return 0;
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return 0;
	/* An IPv4-mapped address is tested as the IPv4 address it is. */
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		return 4;
	}
	return 6;
}

static bool
ip_in(kc_eval_ctx *ctx, const kc_cidrset *set, const kc_val *v)
{
	unsigned char local[16];
	const unsigned char *addr = local;
	int family;
	if (v->s == ctx->remote_addr) {
		if (ctx->remote_family == 0)
			ctx->remote_family = (int8_t)(parse_ip(v, ctx->remote_bytes) ?: -1);
		family = ctx->remote_family;
		addr = ctx->remote_bytes;
	} else {
		family = parse_ip(v, local);
	}
	if (family <= 0)
		return false;
	size_t n = family == 4 ? 4 : 16;
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const kc_cidr *c = &set->items[mid];
		if (c->family < family || (c->family == family && memcmp(c->hi, addr, n) < 0))
			lo = mid + 1;
		else if (c->family > family || memcmp(c->lo, addr, n) > 0)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* Glob with '*' and '\*' (a literal star), classic linear backtracking. */
static bool
glob_match(const char *g, size_t gl, const char *s, size_t sl)
{
	size_t gi = 0, si = 0, star_g = SIZE_MAX, star_s = 0;
	while (si < sl) {
		if (gi < gl && g[gi] == '*') {
			star_g = ++gi;
			star_s = si;
			continue;
		}
		if (gi < gl) {
			char gc = g[gi];
			size_t adv = 1;
			if (gc == '\\' && gi + 1 < gl) {
				gc = g[gi + 1];
				adv = 2;
			}
			if (gc == s[si]) {
				gi += adv;
				si++;
				continue;
			}
		}
		if (star_g == SIZE_MAX)
			return false;
		gi = star_g;
		si = ++star_s;
	}
	while (gi < gl && g[gi] == '*')
		gi++;
	return gi == gl;
}

static bool
cmp_ok(uint8_t cmp, int64_t a, int64_t b)
{
	switch (cmp) {
	case 0: return a == b;
	case 1: return a != b;
	case 2: return a < b;
	case 3: return a <= b;
	case 4: return a > b;
	case 5: return a >= b;
	}
	return false;
}

/* ---- scopes ------------------------------------------------------------------------ */

static bool
entity_holds(kc_eval_ctx *ctx, const kc_entity_ref *e)
{
	if ((ctx->wild[e->etype] & e->perms) == e->perms)
		return true;
	const char *id;
	size_t len;
	if (e->from_capture) {
		kc_operand o = { .kind = KC_OP_SLOT, .slot = KC_SL_CAPTURE, .type = KC_VT_STRING,
		    .name = e->capture };
		kc_val v = capture_value(ctx, &o);
		if (v.t == KC_VT_MISSING)
			return false;
		id = v.s;
		len = v.len;
	} else {
		id = e->id.s;
		len = e->id.len;
		if (len == 1 && id[0] == '*')
			return false;   /* the wildcard itself, checked above */
	}
	for (uint32_t i = 0; i < ctx->n_grants; i++) {
		const kc_grant *g = &ctx->grants[i];
		if (g->etype == e->etype && (g->perms & e->perms) == e->perms && g->len == len &&
		    memcmp(g->id, id, len) == 0)
			return true;
	}
	return false;
}

static bool
scope_holds(kc_eval_ctx *ctx, const kc_atom *a)
{
	if (a->all) {
		for (int w = 0; w < KC_SCOPE_WORDS; w++)
			if ((ctx->scopes[w] & a->mask[w]) != a->mask[w])
				return false;
		for (uint32_t i = 0; i < a->n_entities; i++)
			if (!entity_holds(ctx, &a->entities[i]))
				return false;
		return true;
	}
	for (int w = 0; w < KC_SCOPE_WORDS; w++)
		if (ctx->scopes[w] & a->mask[w])
			return true;
	for (uint32_t i = 0; i < a->n_entities; i++)
		if (entity_holds(ctx, &a->entities[i]))
			return true;
	return false;
}

/* Appends one member of a scope test to the hint buffer. */
static void
hint_member(kc_eval_ctx *ctx, const kc_atom *a, uint32_t m, char *buf, size_t cap, size_t *o)
{
	char one[512];
	int n;
	if (m & KC_MEMBER_ENTITY) {
		const kc_entity_ref *e = &a->entities[m & ~KC_MEMBER_ENTITY];
		if (e->from_capture) {
			kc_operand op = { .kind = KC_OP_SLOT, .slot = KC_SL_CAPTURE, .type = KC_VT_STRING,
			    .name = e->capture };
			kc_val v = capture_value(ctx, &op);
			if (v.t == KC_VT_MISSING)
				return;
			const char *t = e->text.s, *brace = memchr(t, '{', e->text.len);
			n = snprintf(one, sizeof(one), "%.*s%.*s", (int)(brace - t), t, (int)v.len, v.s);
		} else {
			n = snprintf(one, sizeof(one), "%.*s", (int)e->text.len, e->text.s);
		}
	} else {
		const kc_istr *nm = &ctx->p->scope_names[m];
		n = snprintf(one, sizeof(one), "%.*s", (int)nm->len, nm->s);
	}
	if (n <= 0 || (size_t)n >= sizeof(one) || *o + (size_t)n + 2 >= cap)
		return;
	/* The same scope named twice in a conjunction is hinted once. */
	for (size_t i = 0; i < *o;) {
		size_t j = i;
		while (j < *o && buf[j] != ' ')
			j++;
		if (j - i == (size_t)n && memcmp(buf + i, one, (size_t)n) == 0)
			return;
		i = j + 1;
	}
	if (*o)
		buf[(*o)++] = ' ';
	memcpy(buf + *o, one, (size_t)n);
	*o += (size_t)n;
}

static bool
member_holds(kc_eval_ctx *ctx, const kc_atom *a, uint32_t m)
{
	if (m & KC_MEMBER_ENTITY)
		return entity_holds(ctx, &a->entities[m & ~KC_MEMBER_ENTITY]);
	return (ctx->scopes[m / 64] >> (m % 64)) & 1;
}

static void
hint_walk(kc_eval_ctx *ctx, const kc_node *n, char *buf, size_t cap, size_t *o)
{
	if (n->kind == KC_N_AND) {
		hint_walk(ctx, n->a, buf, cap, o);
		hint_walk(ctx, n->b, buf, cap, o);
		return;
	}
	if (n->kind != KC_N_ATOM || n->atom->op != KC_A_SCOPE || scope_holds(ctx, n->atom))
		return;
	const kc_atom *a = n->atom;
	for (uint32_t i = 0; i < a->n_members; i++) {
		if (!a->all) {
			/* any(): the first member written is the hint. */
			hint_member(ctx, a, a->members[i], buf, cap, o);
			return;
		}
		if (!member_holds(ctx, a, a->members[i]))
			hint_member(ctx, a, a->members[i], buf, cap, o);
	}
}

const char *
kc_eval_scope_hint(kc_eval_ctx *ctx, const kc_node *n)
{
	char buf[1024];
	size_t o = 0;
	if (n == NULL)
		return NULL;
	hint_walk(ctx, n, buf, sizeof(buf), &o);
	buf[o] = '\0';
	/* RFC 6750 §3: scope values are %x21 / %x23-5B / %x5D-7E, space-separated:
	 * a capture with other bytes gives no hint rather than a broken header. */
	for (size_t i = 0; i < o; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e || buf[i] == '"' ||
		    buf[i] == '\\')
			return NULL;
	return o ? kc_arena_strndup(ctx->arena, buf, o) : NULL;
}

/* ---- atoms and nodes ------------------------------------------------------------------ */

static bool
atom_value(kc_eval_ctx *ctx, const kc_atom *a)
{
	kc_val l = a->lhs ? kc_eval_operand(ctx, a->lhs) : missing;
	kc_val el;
	list_iter it = { .v = &l };
	switch (a->op) {
	case KC_A_CMP: {
		kc_val r = kc_eval_operand(ctx, a->rhs);
		if (l.t == KC_VT_MISSING || r.t == KC_VT_MISSING)
			return false;
		if (l.t == KC_VT_STRING || l.t == KC_VT_BOOL)
			return a->cmp == 0 ? same(&l, &r) : a->cmp == 1 ? !same(&l, &r) : false;
		return cmp_ok(a->cmp, l.i, r.i);
	}
	case KC_A_IN_SET: {
		if (l.t == KC_VT_MISSING)
			return false;
		bool in;
		if (a->list != NULL)
			in = strset_has(&a->list->strings, l.s, l.len);
		else if (l.t == KC_VT_STRING)
			in = strset_has(&a->set, l.s, l.len);
		else {
			in = false;
			for (uint32_t i = 0; i < a->n_ints; i++)
				if (a->ints[i] == l.i)
					in = true;
		}
		return in != a->negated;
	}
	case KC_A_IN_CIDR:
		if (l.t == KC_VT_MISSING)
			return false;
		return ip_in(ctx, a->ranges, &l) != a->negated;
	case KC_A_IN_LIST: {
		if (l.t == KC_VT_MISSING)
			return false;
		kc_val r = kc_eval_operand(ctx, a->rhs);   /* a missing list is empty */
		list_iter ri = { .v = &r };
		bool in = false;
		while (!in && r.t != KC_VT_MISSING && list_next(&ri, &el))
			in = same(&l, &el);
		return in != a->negated;
	}
	case KC_A_LIKE:
		return l.t == KC_VT_STRING && glob_match(a->glob.s, a->glob.len, l.s, l.len);
	case KC_A_STARTS:
		return l.t == KC_VT_STRING && l.len >= a->glob.len && memcmp(l.s, a->glob.s, a->glob.len) == 0;
	case KC_A_ENDS:
		return l.t == KC_VT_STRING && l.len >= a->glob.len &&
		    memcmp(l.s + l.len - a->glob.len, a->glob.s, a->glob.len) == 0;
	case KC_A_HAS:
		return l.t != KC_VT_MISSING;
	case KC_A_BOOL:
		return l.t == KC_VT_BOOL && l.i;
	case KC_A_SCOPE:
		return scope_holds(ctx, a);
	case KC_A_HAS_ENTITY:
		if (ctx->wild[a->etype] & (1u << a->perm))
			return true;
		for (uint32_t i = 0; i < ctx->n_grants; i++)
			if (ctx->grants[i].etype == a->etype && (ctx->grants[i].perms & (1u << a->perm)))
				return true;
		return false;
	case KC_A_CONTAINS_ANY:
	case KC_A_CONTAINS_ALL: {
		if (l.t == KC_VT_MISSING)
			return false;
		if (a->op == KC_A_CONTAINS_ANY) {
			while (list_next(&it, &el))
				for (uint32_t i = 0; i < a->set.n; i++)
					if (el.len == a->set.items[i].len && memcmp(el.s, a->set.items[i].s, el.len) == 0)
						return true;
			return false;
		}
		for (uint32_t i = 0; i < a->set.n; i++) {
			bool found = false;
			list_iter j = { .v = &l };
			while (!found && list_next(&j, &el))
				found = el.len == a->set.items[i].len &&
				    memcmp(el.s, a->set.items[i].s, el.len) == 0;
			if (!found)
				return false;
		}
		return true;
	}
	case KC_A_ANY_LIKE:
		if (l.t == KC_VT_MISSING)
			return false;
		while (list_next(&it, &el))
			if (glob_match(a->glob.s, a->glob.len, el.s, el.len))
				return true;
		return false;
	case KC_A_COUNT: {
		int64_t n = 0;
		if (l.t != KC_VT_MISSING)
			while (list_next(&it, &el))
				n++;
		return cmp_ok(a->cmp, n, a->number);
	}
	case KC_A_AGE: {
		if (l.t == KC_VT_MISSING)
			return false;
		int64_t age_ms = (ctx->now - l.i) * 1000;
		return cmp_ok(a->cmp, age_ms, a->number);
	}
	}
	return false;
}

bool
kc_eval_atom(kc_eval_ctx *ctx, const kc_atom *a)
{
	uint8_t m = ctx->memo ? ctx->memo[a->id] : 0;
	if (m != 0)
		return m == 2;
	bool v = atom_value(ctx, a);
	if (ctx->memo)
		ctx->memo[a->id] = v ? 2 : 1;
	return v;
}

bool
kc_eval_node(kc_eval_ctx *ctx, const kc_node *n)
{
	switch (n->kind) {
	case KC_N_TRUE: return true;
	case KC_N_ATOM: return kc_eval_atom(ctx, n->atom);
	case KC_N_AND: return kc_eval_node(ctx, n->a) && kc_eval_node(ctx, n->b);
	case KC_N_OR: return kc_eval_node(ctx, n->a) || kc_eval_node(ctx, n->b);
	case KC_N_NOT: return !kc_eval_node(ctx, n->a);
	}
	return false;
}

/* ---- rendering ---------------------------------------------------------------------- */

const char *
kc_eval_render(kc_eval_ctx *ctx, const kc_operand *o)
{
	char buf[KC_MAX_EXPORT_VALUE + 1];
	size_t n = 0;
	if (o->kind == KC_OP_ENTITY_IDS) {
		/* "*" for a wildcard grant, else the granted ids comma-separated. */
		if (ctx->wild[o->etype] & (1u << o->perm))
			return "*";
		for (uint32_t i = 0; i < ctx->n_grants; i++) {
			const kc_grant *g = &ctx->grants[i];
			if (g->etype != o->etype || !(g->perms & (1u << o->perm)))
				continue;
			if (n + g->len + 2 > KC_MAX_EXPORT_VALUE)
				return NULL;
			if (n)
				buf[n++] = ',';
			memcpy(buf + n, g->id, g->len);
			n += g->len;
		}
		return n ? kc_arena_strndup(ctx->arena, buf, n) : NULL;
	}
	kc_val v = kc_eval_operand(ctx, o);
	switch (v.t) {
	case KC_VT_MISSING:
		return NULL;
	case KC_VT_STRING:
	case KC_VT_IP:
	case KC_VT_SCOPES:
		return kc_arena_strndup(ctx->arena, v.s, v.len);
	case KC_VT_INT:
	case KC_VT_TIME:
	case KC_VT_DURATION:
		snprintf(buf, sizeof(buf), "%lld", (long long)v.i);
		return kc_arena_strndup(ctx->arena, buf, strlen(buf));
	case KC_VT_BOOL:
		return v.i ? "true" : "false";
	case KC_VT_LIST_STRING:
	case KC_VT_LIST_INT: {
		list_iter it = { .v = &v };
		kc_val el;
		while (list_next(&it, &el)) {
			char one[32];
			const char *s = el.s;
			size_t len = el.len;
			if (el.t == KC_VT_INT) {
				snprintf(one, sizeof(one), "%lld", (long long)el.i);
				s = one;
				len = strlen(one);
			}
			if (n + len + 2 > KC_MAX_EXPORT_VALUE)
				return NULL;
			if (n)
				buf[n++] = ',';
			memcpy(buf + n, s, len);
			n += len;
		}
		return kc_arena_strndup(ctx->arena, buf, n);
	}
	}
	return NULL;
}
