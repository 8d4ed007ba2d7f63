/* compile_expr.c: conditions and values, from syntax to atoms and nodes.
 *
 * Names are resolved here, with did-you-mean suggestions, and types are
 * checked where a literal meets a typed value, so a typo or a mismatch is
 * a compile error and never a rule that is silently false. Equal atoms are
 * shared across the whole policy (hash-consed by a canonical signature), so
 * one request evaluates each at most once. */
#include "config.h"

#include "policy/compile_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const roots[] = { "claims", "token", "client", "request", "path" };

const char *
cc_vtype_name(kc_vtype t)
{
	switch (t) {
	case KC_VT_MISSING: return "nothing";
	case KC_VT_STRING: return "string";
	case KC_VT_INT: return "int";
	case KC_VT_BOOL: return "bool";
	case KC_VT_TIME: return "time";
	case KC_VT_DURATION: return "duration";
	case KC_VT_LIST_STRING: return "list<string>";
	case KC_VT_LIST_INT: return "list<int>";
	case KC_VT_IP: return "ip";
	case KC_VT_SCOPES: return "scopes";
	}
	return "?";
}

static void *
zalloc(cc *c, size_t n)
{
	void *p = kc_arena_alloc(c->a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

/* ---- signatures for hash-consing ------------------------------------------- */

struct sig {
	char buf[1024];
	size_t n;
	bool overflow;
};

static void
sig_add(struct sig *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sig_add(struct sig *s, const char *fmt, ...)
{
	if (s->n >= sizeof(s->buf) - 1) {
		s->overflow = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(s->buf + s->n, sizeof(s->buf) - s->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(s->buf) - s->n)
		s->overflow = true;
	else
		s->n += (size_t)r;
}

static void
sig_str(struct sig *s, const char *p, size_t len)
{
	/* Length-prefixed, so no separator can be forged by the text. */
	sig_add(s, "%zu:", len);
	if (s->n + len >= sizeof(s->buf)) {
		s->overflow = true;
		return;
	}
	memcpy(s->buf + s->n, p, len);
	s->n += len;
	s->buf[s->n] = '\0';
}

static void
sig_operand(struct sig *s, const kc_operand *o)
{
	if (o == NULL) {
		sig_add(s, "-");
		return;
	}
	sig_add(s, "(%d,%d,", (int)o->kind, (int)o->type);
	switch (o->kind) {
	case KC_OP_LIT:
		if (o->lit.t == KC_VT_STRING)
			sig_str(s, o->lit.s, o->lit.len);
		else
			sig_add(s, "%" PRId64, o->lit.i);
		break;
	case KC_OP_SLOT:
		sig_add(s, "%d,%u,", (int)o->slot, o->index);
		if (o->name.s != NULL)
			sig_str(s, o->name.s, o->name.len);
		break;
	case KC_OP_COALESCE:
		sig_operand(s, o->a);
		sig_operand(s, o->b);
		break;
	case KC_OP_LOWER:
		sig_operand(s, o->a);
		break;
	case KC_OP_ENTITY_IDS:
		sig_add(s, "%u,%u", o->perm, o->etype);
		break;
	}
	sig_add(s, ")");
}

static const kc_atom *
intern_atom(cc *c, kc_atom *a)
{
	struct sig s = { .n = 0 };
	s.buf[0] = '\0';
	sig_add(&s, "%d,%d,%d,%d,", (int)a->op, a->cmp, a->negated, a->all);
	sig_operand(&s, a->lhs);
	sig_operand(&s, a->rhs);
	for (uint32_t i = 0; i < a->set.n; i++)
		sig_str(&s, a->set.items[i].s, a->set.items[i].len);
	for (uint32_t i = 0; i < a->n_ints; i++)
		sig_add(&s, "i%" PRId64, a->ints[i]);
	sig_add(&s, "|%p|%p|", (const void *)a->ranges, (const void *)a->list);
	if (a->glob.s != NULL)
		sig_str(&s, a->glob.s, a->glob.len);
	sig_add(&s, "n%" PRId64 "|", a->number);
	for (int w = 0; w < KC_SCOPE_WORDS; w++)
		if (a->mask[w])
			sig_add(&s, "m%d:%" PRIx64, w, a->mask[w]);
	for (uint32_t i = 0; i < a->n_entities; i++) {
		const kc_entity_ref *e = &a->entities[i];
		sig_add(&s, "e%u,%u,%d,", e->etype, e->perms, e->from_capture);
		const kc_istr *id = e->from_capture ? &e->capture : &e->id;
		sig_str(&s, id->s, id->len);
	}
	for (uint32_t i = 0; i < a->n_members; i++)
		sig_add(&s, "b%x", a->members[i]);
	sig_add(&s, "h%u,%u", a->perm, a->etype);

	uint64_t h = kc_policy_hash(s.buf, s.n);
	if (!s.overflow) {
		for (uint32_t i = 0; i < c->n_atoms; i++)
			if (c->atom_hash[i] == h && c->atom_sigs[i] != NULL &&
			    strcmp(c->atom_sigs[i], s.buf) == 0)
				return c->atoms[i];
	}
	if (c->n_atoms == c->cap_atoms) {
		uint32_t cap = c->cap_atoms ? c->cap_atoms * 2 : 64;
		kc_atom **na = realloc(c->atoms, cap * sizeof(*na));
		if (na != NULL)
			c->atoms = na;
		char **ns = realloc(c->atom_sigs, cap * sizeof(*ns));
		if (ns != NULL)
			c->atom_sigs = ns;
		uint64_t *nh = realloc(c->atom_hash, cap * sizeof(*nh));
		if (nh != NULL)
			c->atom_hash = nh;
		if (na == NULL || ns == NULL || nh == NULL)
			return NULL;
		c->cap_atoms = cap;
	}
	a->id = c->n_atoms;
	c->atoms[c->n_atoms] = a;
	c->atom_sigs[c->n_atoms] = s.overflow ? NULL : kc_arena_strndup(c->tmp, s.buf, s.n);
	c->atom_hash[c->n_atoms] = h;
	c->n_atoms++;
	return a;
}

static const kc_node *
node_atom(cc *c, kc_atom *a)
{
	const kc_atom *shared = intern_atom(c, a);
	kc_node *n = zalloc(c, sizeof(*n));
	if (n == NULL || shared == NULL)
		return NULL;
	n->kind = KC_N_ATOM;
	n->atom = shared;
	n->span = a->span;
	return n;
}

static const kc_node *
node_op(cc *c, kc_node_kind kind, const kc_node *a, const kc_node *b, kc_span span)
{
	if (a == NULL || (kind != KC_N_NOT && kind != KC_N_TRUE && b == NULL))
		return NULL;
	kc_node *n = zalloc(c, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->a = a;
	n->b = b;
	n->span = span;
	return n;
}

static const kc_node *
node_const(cc *c, bool value, kc_span span)
{
	kc_node *t = zalloc(c, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->kind = KC_N_TRUE;
	t->span = span;
	return value ? t : node_op(c, KC_N_NOT, t, NULL, span);
}

static kc_atom *
atom_new(cc *c, kc_atom_op op, kc_span span)
{
	kc_atom *a = zalloc(c, sizeof(*a));
	if (a != NULL) {
		a->op = op;
		a->span = span;
	}
	return a;
}

static kc_operand *
operand_new(cc *c, kc_operand_kind kind, kc_vtype type, kc_span span)
{
	kc_operand *o = zalloc(c, sizeof(*o));
	if (o != NULL) {
		o->kind = kind;
		o->type = type;
		o->span = span;
	}
	return o;
}

/* ---- lets ---------------------------------------------------------------------- */

void
cc_let_scope_push(cc *c, int level, kc_ast_let *lets)
{
	uint32_t n = 0;
	for (kc_ast_let *l = lets; l != NULL; l = l->next)
		n++;
	c->lets[level] = n ? zalloc(c, n * sizeof(cc_let)) : NULL;
	c->n_lets[level] = 0;
	for (kc_ast_let *l = lets; l != NULL && c->lets[level] != NULL; l = l->next) {
		for (uint32_t i = 0; i < c->n_lets[level]; i++) {
			if (strcmp(c->lets[level][i].ast->name.s, l->name.s) == 0) {
				cc_err(c, l->name.span, "'%s' is defined twice", l->name.s);
				kc_diag_note(c->d, c->lets[level][i].ast->name.span, "first defined here");
			}
		}
		c->lets[level][c->n_lets[level]++].ast = l;
	}
}

static cc_let *let_find(cc *c, const char *name);

cc_let *
cc_let_lookup(cc *c, const char *name)
{
	return let_find(c, name);
}

static cc_let *
let_find(cc *c, const char *name)
{
	for (int level = 2; level >= 0; level--)
		for (uint32_t i = 0; i < c->n_lets[level]; i++)
			if (strcmp(c->lets[level][i].ast->name.s, name) == 0)
				return &c->lets[level][i];
	return NULL;
}

/* Compiles a let on first use: lets are DAG nodes shared by every rule. */
static bool
let_compile(cc *c, cc_let *l, kc_span use)
{
	l->used = true;
	if (l->state == 2)
		return l->node != NULL || l->value != NULL;
	if (l->state == 1) {
		cc_err(c, use, "'%s' is defined in terms of itself", l->ast->name.s);
		kc_diag_note(c->d, l->ast->name.span, "defined here");
		return false;
	}
	l->state = 1;
	const kc_ast_expr *e = l->ast->expr;
	if (e != NULL && e->kind == KC_E_VALUE && e->lhs != NULL && e->lhs->kind != KC_V_REF &&
	    e->lhs->kind != KC_V_CALL) {
		l->value = cc_value(c, e->lhs);
	} else if (e != NULL && e->kind == KC_E_VALUE && e->lhs != NULL) {
		/* A reference or call: a value let unless it is boolean. */
		const kc_operand *v = e->lhs->kind == KC_V_REF ? cc_value(c, e->lhs) : NULL;
		if (v != NULL && v->type != KC_VT_BOOL)
			l->value = v;
		else
			l->node = cc_expr(c, e);
	} else {
		l->node = cc_expr(c, e);
	}
	/* The guard rule is checked where the let is used (check.c descends
	 * into it with the guards of that place). */
	l->state = 2;
	return l->node != NULL || l->value != NULL;
}

/* ---- references ------------------------------------------------------------------ */

static kc_operand *
slot(cc *c, kc_slot_kind kind, kc_vtype type, kc_span span)
{
	kc_operand *o = operand_new(c, KC_OP_SLOT, type, span);
	if (o != NULL)
		o->slot = kind;
	return o;
}

static void
unknown_field(cc *c, const kc_ast_field *f, const char *root, const char *const *names, size_t n)
{
	cc_err(c, f->name.span, "unknown field '%s.%s'", root, f->name.s);
	cc_suggest(c, f->name.s, names, n);
}

static const kc_operand *
ref_value(cc *c, const kc_ast_value *v)
{
	const kc_ast_field *f = v->fields;
	switch (v->root) {
	case KC_ROOT_LET: {
		cc_let *l = let_find(c, v->str.s);
		if (l == NULL) {
			cc_err(c, v->span, "unknown name '%s'", v->str.s);
			kc_diag_note(c->d, (kc_span){ 0 },
			    "a value is claims.NAME, token.FIELD, client.FIELD, request.FIELD, path.CAPTURE or the name of a let");
			const char *cand[64];
			size_t n = 0;
			for (int level = 0; level < 3; level++)
				for (uint32_t i = 0; i < c->n_lets[level] && n < 59; i++)
					cand[n++] = c->lets[level][i].ast->name.s;
			for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
				cand[n++] = roots[i];
			cc_suggest(c, v->str.s, cand, n);
			return NULL;
		}
		if (!let_compile(c, l, v->span))
			return NULL;
		if (l->value == NULL) {
			/* A boolean let used as a value: only `x == true` style reads it. */
			cc_err(c, v->span, "'%s' is a condition, not a value", v->str.s);
			return NULL;
		}
		return l->value;
	}
	case KC_ROOT_CLAIMS: {
		if (f == NULL) {
			cc_err(c, v->span, "'claims' needs a claim name, as in claims.sub");
			return NULL;
		}
		if (f->next != NULL) {
			cc_err(c, f->next->name.span, "nested claim paths are declared, not written inline");
			kc_diag_hint(c->d, "declare it in the claims block: NAME TYPE from \"%s.%s\";",
			    f->name.s, f->next->name.s);
			return NULL;
		}
		int idx = cc_claim_index(c, f->name.s);
		if (idx < 0) {
			cc_err(c, f->name.span, "unknown claim '%s'", f->name.s);
			const char *cand[256];
			size_t n = 0;
			for (uint32_t i = 0; i < c->p->n_claims && n < 256; i++)
				cand[n++] = c->p->claims[i].name;
			cc_suggest(c, f->name.s, cand, n);
			kc_diag_note(c->d, (kc_span){ 0 },
			    "every claim a policy reads must be declared in the claims block; undeclared names are rejected so that a typo cannot silently make a rule false");
			return NULL;
		}
		kc_operand *o = slot(c, KC_SL_CLAIM, c->p->claims[idx].type, v->span);
		if (o != NULL)
			o->index = (uint32_t)idx;
		return o;
	}
	case KC_ROOT_TOKEN: {
		static const char *const names[] = { "scopes", "jti", "kind", "iss" };
		if (f == NULL || f->next != NULL)
			goto bad_token;
		if (strcmp(f->name.s, "scopes") == 0)
			return slot(c, KC_SL_TOKEN_SCOPES, KC_VT_SCOPES, v->span);
		if (strcmp(f->name.s, "jti") == 0)
			return slot(c, KC_SL_TOKEN_JTI, KC_VT_STRING, v->span);
		if (strcmp(f->name.s, "kind") == 0)
			return slot(c, KC_SL_TOKEN_KIND, KC_VT_STRING, v->span);
		if (strcmp(f->name.s, "iss") == 0)
			return slot(c, KC_SL_TOKEN_ISS, KC_VT_STRING, v->span);
		unknown_field(c, f, "token", names, 4);
		return NULL;
bad_token:
		cc_err(c, v->span, "expected token.scopes, token.jti, token.kind or token.iss");
		return NULL;
	}
	case KC_ROOT_CLIENT: {
		static const char *const names[] = { "id", "name" };
		if (f != NULL && f->next == NULL && strcmp(f->name.s, "id") == 0)
			return slot(c, KC_SL_CLIENT_ID, KC_VT_STRING, v->span);
		if (f != NULL && f->next == NULL && strcmp(f->name.s, "name") == 0)
			return slot(c, KC_SL_CLIENT_NAME, KC_VT_STRING, v->span);
		if (f != NULL && f->next == NULL)
			unknown_field(c, f, "client", names, 2);
		else
			cc_err(c, v->span, "expected client.id or client.name");
		return NULL;
	}
	case KC_ROOT_REQUEST: {
		static const char *const names[] = { "method", "path", "remote_addr", "header", "query" };
		if (f == NULL) {
			cc_err(c, v->span, "expected request.method, request.path, request.remote_addr, request.header[\"NAME\"] or request.query[\"NAME\"]");
			return NULL;
		}
		if (f->next == NULL && strcmp(f->name.s, "method") == 0)
			return slot(c, KC_SL_METHOD, KC_VT_STRING, v->span);
		if (f->next == NULL && strcmp(f->name.s, "path") == 0)
			return slot(c, KC_SL_PATH, KC_VT_STRING, v->span);
		if (f->next == NULL && strcmp(f->name.s, "remote_addr") == 0)
			return slot(c, KC_SL_REMOTE, KC_VT_IP, v->span);
		if (strcmp(f->name.s, "header") == 0 || strcmp(f->name.s, "query") == 0) {
			bool header = f->name.s[0] == 'h';
			if (f->next == NULL || !f->next->bracket || f->next->next != NULL) {
				cc_err(c, f->name.span, "expected request.%s[\"NAME\"]", f->name.s);
				return NULL;
			}
			const kc_ast_str *n = &f->next->name;
			if (n->len == 0 || n->len > 128) {
				cc_err(c, n->span, "a %s name must have 1 to 128 characters", f->name.s);
				return NULL;
			}
			char lower[129];
			for (uint32_t i = 0; i < n->len; i++) {
				char ch = n->s[i];
				/* Header names are case-insensitive (RFC 9110 §5.1). */
				lower[i] = header && ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
			}
			kc_operand *o = slot(c, header ? KC_SL_HEADER : KC_SL_QUERY, KC_VT_STRING, v->span);
			if (o != NULL)
				o->name = cc_intern(c, lower, n->len);
			return o;
		}
		unknown_field(c, f, "request", names, 5);
		return NULL;
	}
	case KC_ROOT_PATH: {
		if (f == NULL || f->next != NULL) {
			cc_err(c, v->span, "expected path.CAPTURE, as in path.id");
			return NULL;
		}
		if (c->in_gate) {
			cc_err(c, v->span, "gates apply to every route, so they cannot read path captures");
			return NULL;
		}
		kc_vtype t = KC_VT_STRING;
		if (c->route != NULL) {
			bool found = false;
			const char *cand[KC_ROUTE_MAX_CAPTURES];
			for (unsigned i = 0; i < c->route->pat.n_caps; i++) {
				cand[i] = c->route->pat.caps[i].name;
				if (strcmp(c->route->pat.caps[i].name, f->name.s) == 0) {
					found = true;
					if (c->route->pat.caps[i].type == KC_CAP_INT)
						t = KC_VT_INT;
				}
			}
			if (!found) {
				char bound[512] = "";
				size_t o = 0;
				for (unsigned i = 0; i < c->route->pat.n_caps && o < sizeof(bound) - 80; i++)
					o += (size_t)snprintf(bound + o, sizeof(bound) - o, "%s{%s}", i ? ", " : "",
					    c->route->pat.caps[i].name);
				cc_err(c, f->name.span, "'{%s}' is not a capture of this route", f->name.s);
				kc_diag_note(c->d, c->route->span, "route '%s' binds: %s", c->route->pattern,
				    c->route->pat.n_caps ? bound : "no capture");
				cc_suggest(c, f->name.s, cand, c->route->pat.n_caps);
				return NULL;
			}
		}
		if (c->n_used_caps < sizeof(c->used_caps) / sizeof(c->used_caps[0]))
			c->used_caps[c->n_used_caps++] = f->name.s;
		kc_operand *o = slot(c, KC_SL_CAPTURE, t, v->span);
		if (o != NULL)
			o->name = cc_intern(c, f->name.s, f->name.len);
		return o;
	}
	}
	return NULL;
}

/* ---- values ----------------------------------------------------------------------- */

static int
arg_count(const kc_ast_value *args)
{
	int n = 0;
	for (; args != NULL; args = args->next)
		n++;
	return n;
}

/* An identifier argument of a builtin (entity type or permission letter):
 * the parser gives it as a reference to a let of that name. */
static const char *
ident_arg(const kc_ast_value *v)
{
	if (v != NULL && v->kind == KC_V_REF && v->root == KC_ROOT_LET && v->fields == NULL)
		return v->str.s;
	return NULL;
}

static bool
entity_args(cc *c, const kc_ast_value *call, uint8_t *perm, uint8_t *etype)
{
	const kc_ast_value *a = call->items, *b = a ? a->next : NULL;
	const char *p = ident_arg(a), *t = ident_arg(b);
	if (arg_count(call->items) != 2 || p == NULL || t == NULL) {
		cc_err(c, call->span, "%s() takes a permission and an entity type, as in %s(r, devices)",
		    call->str.s, call->str.s);
		return false;
	}
	int pi = cc_perm(c, p, strlen(p)), ti = cc_etype(c, t, strlen(t));
	if (ti < 0) {
		cc_err(c, b->span, "unknown entity type '%s'", t);
		const char *cand[KC_MAX_ENTITY_TYPES];
		for (uint32_t i = 0; i < c->p->n_etypes; i++)
			cand[i] = c->p->etypes[i].name.s;
		cc_suggest(c, t, cand, c->p->n_etypes);
		return false;
	}
	if (pi < 0 || !(c->p->etypes[ti].perms & (1u << pi))) {
		cc_err(c, a->span, "'%s' is not a permission of entity type '%s'", p, t);
		return false;
	}
	*perm = (uint8_t)pi;
	*etype = (uint8_t)ti;
	return true;
}

const kc_operand *
cc_value(cc *c, const kc_ast_value *v)
{
	if (v == NULL)
		return NULL;
	switch (v->kind) {
	case KC_V_STRING: {
		kc_operand *o = operand_new(c, KC_OP_LIT, KC_VT_STRING, v->span);
		if (o != NULL) {
			kc_istr s = cc_intern(c, v->str.s, v->str.len);
			o->lit.t = KC_VT_STRING;
			o->lit.s = s.s;
			o->lit.len = s.len;
		}
		return o;
	}
	case KC_V_INT:
	case KC_V_DURATION:
	case KC_V_TRUE:
	case KC_V_FALSE: {
		kc_vtype t = v->kind == KC_V_INT ? KC_VT_INT : v->kind == KC_V_DURATION ?
		    KC_VT_DURATION : KC_VT_BOOL;
		kc_operand *o = operand_new(c, KC_OP_LIT, t, v->span);
		if (o != NULL) {
			o->lit.t = (uint8_t)t;
			o->lit.i = v->kind == KC_V_TRUE ? 1 : v->kind == KC_V_FALSE ? 0 : v->num;
		}
		return o;
	}
	case KC_V_REF:
		return ref_value(c, v);
	case KC_V_COALESCE: {
		const kc_operand *a = cc_value(c, v->lhs), *b = cc_value(c, v->rhs);
		if (a == NULL || b == NULL)
			return NULL;
		if (a->type != b->type) {
			cc_err(c, v->span, "both sides of '?" "?' must have the same type (%s and %s)",
			    cc_vtype_name(a->type), cc_vtype_name(b->type));
			return NULL;
		}
		kc_operand *o = operand_new(c, KC_OP_COALESCE, a->type, v->span);
		if (o != NULL) {
			o->a = (kc_operand *)a;
			o->b = (kc_operand *)b;
		}
		return o;
	}
	case KC_V_CALL:
		if (strcmp(v->str.s, "lower") == 0) {
			const kc_operand *a = arg_count(v->items) == 1 ? cc_value(c, v->items) : NULL;
			if (a == NULL || a->type != KC_VT_STRING) {
				if (a != NULL || arg_count(v->items) != 1)
					cc_err(c, v->span, "lower() takes one string");
				return NULL;
			}
			kc_operand *o = operand_new(c, KC_OP_LOWER, KC_VT_STRING, v->span);
			if (o != NULL)
				o->a = (kc_operand *)a;
			return o;
		}
		if (strcmp(v->str.s, "entity_ids") == 0) {
			if (!c->in_export) {
				cc_err(c, v->span, "entity_ids() gives a list for exports; in a condition use has_entity()");
				return NULL;
			}
			uint8_t perm, etype;
			if (!entity_args(c, v, &perm, &etype))
				return NULL;
			kc_operand *o = operand_new(c, KC_OP_ENTITY_IDS, KC_VT_STRING, v->span);
			if (o != NULL) {
				o->perm = perm;
				o->etype = etype;
			}
			return o;
		}
		{
			static const char *const builtins[] = { "lower", "entity_ids", "has_entity",
			    "startswith", "endswith", "contains_any", "contains_all", "any_like",
			    "count", "age" };
			bool known = false;
			for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
				if (strcmp(builtins[i], v->str.s) == 0)
					known = true;
			if (known) {
				cc_err(c, v->span, "%s() is a test, not a value", v->str.s);
			} else {
				cc_err(c, v->span, "unknown function '%s'", v->str.s);
				cc_suggest(c, v->str.s, builtins, sizeof(builtins) / sizeof(builtins[0]));
			}
		}
		return NULL;
	case KC_V_ALIAS:
		cc_err(c, v->span, "'@%s' can only follow 'in' (lists) or appear in scope any()/all() (aliases)",
		    v->str.s);
		return NULL;
	case KC_V_LIST:
		cc_err(c, v->span, "a [...] list can only follow 'in' or be a function argument");
		return NULL;
	}
	return NULL;
}

/* ---- scopes ------------------------------------------------------------------------- */

/* Adds one scope argument (literal or template) to a SCOPE atom. */
static bool
scope_arg(cc *c, kc_atom *a, const char *s, size_t len, kc_span at,
    kc_entity_ref *ents, uint32_t *n_ents, uint32_t *bits, uint32_t *n_bits)
/* bits: the members in written order (see kc_atom.members) */
{
	/* Entity shape: perm:type:id with a declared type and permission. */
	const char *c1 = memchr(s, ':', len);
	const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s)) : NULL;
	if (c1 != NULL && c2 != NULL) {
		int pi = cc_perm(c, s, (size_t)(c1 - s));
		int ti = cc_etype(c, c1 + 1, (size_t)(c2 - c1 - 1));
		const char *id = c2 + 1;
		size_t id_len = len - (size_t)(id - s);
		bool tmpl = memchr(s, '{', len) != NULL;
		if (ti >= 0 && pi >= 0 && (c->p->etypes[ti].perms & (1u << pi))) {
			if (*n_ents >= 16) {
				cc_err(c, at, "too many entity scopes in one test");
				return false;
			}
			if (*n_bits < 64)
				bits[(*n_bits)++] = KC_MEMBER_ENTITY | *n_ents;
			kc_entity_ref *e = &ents[(*n_ents)++];
			e->etype = (uint8_t)ti;
			e->perms = (uint16_t)(1u << pi);
			e->text = cc_intern(c, s, len);
			if (id_len >= 2 && id[0] == '{' && id[id_len - 1] == '}') {
				const char *name = id + 1;
				size_t nlen = id_len - 2;
				e->from_capture = true;
				e->capture = cc_intern(c, name, nlen);
				if (c->in_gate) {
					cc_err(c, at, "gates apply to every route, so they cannot use path captures");
					return false;
				}
				if (c->route != NULL) {
					bool found = false;
					for (unsigned i = 0; i < c->route->pat.n_caps; i++)
						if (strlen(c->route->pat.caps[i].name) == nlen &&
						    memcmp(c->route->pat.caps[i].name, name, nlen) == 0)
							found = true;
					if (!found) {
						kc_span cs = at;
						cs.start += (uint32_t)(id - s) + 1;  /* past the opening quote */
						cs.end = cs.start + (uint32_t)id_len;
						cc_err(c, cs, "'{%.*s}' is not a capture of this route", (int)nlen, name);
						kc_diag_note(c->d, c->route->span, "route '%s' is defined here",
						    c->route->pattern);
						return false;
					}
				}
				if (c->n_used_caps < sizeof(c->used_caps) / sizeof(c->used_caps[0]))
					c->used_caps[c->n_used_caps++] = e->capture.s;
			} else if (tmpl || memchr(id, '{', id_len) != NULL) {
				cc_err(c, at, "a scope template's id must be exactly one capture, as in \"x:devices:{id}\"");
				return false;
			} else if (id_len == 1 && id[0] == '*') {
				/* "x:devices:*" asks for the wildcard grant itself. */
				e->id = cc_intern(c, "*", 1);
			} else {
				e->id = cc_intern(c, id, id_len);
			}
			return true;
		}
		if (tmpl) {
			cc_err(c, at, "'%.*s' uses a capture but is not a declared entity scope", (int)len, s);
			kc_diag_hint(c->d, "declare the entity type in the scopes block: entity TYPE perms P, ...;");
			return false;
		}
	}
	int id = cc_scope_id(c, s, len, at, true);
	if (id < 0)
		return false;
	a->mask[id / 64] |= (uint64_t)1 << (id % 64);
	if (*n_bits < 64)
		bits[(*n_bits)++] = (uint32_t)id;
	return true;
}

static const kc_node *
scope_test(cc *c, const kc_ast_expr *e)
{
	kc_atom *a = atom_new(c, KC_A_SCOPE, e->span);
	kc_entity_ref ents[16];
	uint32_t n_ents = 0, bits[64], n_bits = 0;
	if (a == NULL)
		return NULL;
	memset(ents, 0, sizeof(ents));
	a->all = e->scope_mode != KC_SCOPE_ANY;
	bool ok = true;
	for (const kc_ast_value *v = e->scopes; v != NULL; v = v->next) {
		if (v->kind == KC_V_STRING) {
			ok &= scope_arg(c, a, v->str.s, v->str.len, v->span, ents, &n_ents, bits, &n_bits);
		} else if (v->kind == KC_V_ALIAS) {
			const cc_alias *al = cc_alias_find(c, v->str.s);
			if (al == NULL) {
				cc_err(c, v->span, "unknown scope alias '@%s'", v->str.s);
				const char *cand[64];
				for (uint32_t i = 0; i < c->n_aliases && i < 64; i++)
					cand[i] = c->aliases[i].name.s;
				cc_suggest_prefixed(c, "@", v->str.s, cand, c->n_aliases < 64 ? c->n_aliases : 64);
				ok = false;
				continue;
			}
			if (e->scope_mode == KC_SCOPE_ONE) {
				cc_err(c, v->span, "'scope @%s' is ambiguous: write scope any(@%s) or scope all(@%s)",
				    v->str.s, v->str.s, v->str.s);
				ok = false;
				continue;
			}
			for (kc_ast_strlist *m = al->members; m != NULL; m = m->next)
				ok &= scope_arg(c, a, m->str.s, m->str.len, m->str.span, ents, &n_ents,
				    bits, &n_bits);
		} else {
			cc_err(c, v->span, "scope tests take scope strings or @aliases");
			ok = false;
		}
	}
	if (!ok)
		return NULL;
	if (n_ents > 0) {
		kc_entity_ref *copy = kc_arena_alloc(c->a, n_ents * sizeof(*copy));
		if (copy == NULL)
			return NULL;
		memcpy(copy, ents, n_ents * sizeof(*copy));
		a->entities = copy;
		a->n_entities = n_ents;
	}
	if (n_bits > 0) {
		uint32_t *copy = kc_arena_alloc(c->a, n_bits * sizeof(*copy));
		if (copy == NULL)
			return NULL;
		memcpy(copy, bits, n_bits * sizeof(*copy));
		a->members = copy;
		a->n_members = n_bits;
	}
	return node_atom(c, a);
}

/* ---- comparisons and membership ---------------------------------------------------- */

static bool
is_literal(const kc_operand *o)
{
	return o->kind == KC_OP_LIT;
}

/* The source text of a span, for messages ("claims.level"). */
static const char *
text_of(cc *c, kc_span at)
{
	size_t len;
	if (at.src == NULL || at.end <= at.start || at.end - at.start > 80)
		return NULL;
	const char *t = kc_source_text(at.src, &len);
	return at.end <= len ? kc_arena_strndup(c->a, t + at.start, at.end - at.start) : NULL;
}

static const char *
article_type(kc_vtype t)
{
	switch (t) {
	case KC_VT_STRING: return "a string";
	case KC_VT_INT: return "a number";
	case KC_VT_BOOL: return "true or false";
	case KC_VT_DURATION: return "a duration";
	default: return cc_vtype_name(t);
	}
}

static void
type_mismatch(cc *c, const kc_ast_expr *e, const kc_operand *l, const kc_operand *r)
{
	const kc_operand *typed = is_literal(l) ? r : l, *lit = is_literal(l) ? l : r;
	const char *name = text_of(c, typed->span);
	kc_span at = e->op_span.src ? e->op_span : e->span;
	if (is_literal(lit) && name != NULL) {
		cc_err(c, lit->span, "cannot compare '%s' (%s) with %s", name, cc_vtype_name(typed->type),
		    article_type(lit->type));
		if (lit->type == KC_VT_STRING && typed->type == KC_VT_BOOL) {
			kc_diag_hint(c->d, "write `%s == true` (no quotes), or just `%s`", name, name);
			kc_diag_note(c->d, (kc_span){ 0 },
			    "a JSON string \"true\" in a token would be treated as missing, not as true");
		}
		return;
	}
	cc_err(c, at, "cannot compare %s with %s", cc_vtype_name(l->type), cc_vtype_name(r->type));
}

static bool
comparable(kc_vtype a, kc_vtype b)
{
	if (a == b)
		return a == KC_VT_STRING || a == KC_VT_INT || a == KC_VT_BOOL || a == KC_VT_TIME;
	/* A time compares with an epoch literal. */
	return (a == KC_VT_TIME && b == KC_VT_INT) || (a == KC_VT_INT && b == KC_VT_TIME);
}

static const kc_node *
call_cmp(cc *c, const kc_ast_expr *e)
{
	const kc_ast_value *call = e->lhs;
	const kc_ast_value *rhs = e->rhs;
	bool count = strcmp(call->str.s, "count") == 0;
	if (arg_count(call->items) != 1) {
		cc_err(c, call->span, "%s() takes one argument", call->str.s);
		return NULL;
	}
	const kc_operand *arg = cc_value(c, call->items);
	if (arg == NULL)
		return NULL;
	kc_atom *a = atom_new(c, count ? KC_A_COUNT : KC_A_AGE, e->span);
	if (a == NULL)
		return NULL;
	a->cmp = (uint8_t)e->op;
	a->lhs = (kc_operand *)arg;
	if (count) {
		if (arg->type != KC_VT_LIST_STRING && arg->type != KC_VT_LIST_INT) {
			cc_err(c, call->items->span, "count() takes a list, not %s", cc_vtype_name(arg->type));
			return NULL;
		}
		if (rhs->kind != KC_V_INT) {
			cc_err(c, rhs->span, "count() is compared with a whole number");
			return NULL;
		}
	} else {
		if (arg->type != KC_VT_TIME) {
			cc_err(c, call->items->span, "age() takes a time claim, not %s", cc_vtype_name(arg->type));
			return NULL;
		}
		if (rhs->kind != KC_V_DURATION) {
			cc_err(c, rhs->span, "age() is compared with a duration such as 12h");
			return NULL;
		}
	}
	a->number = rhs->num;
	return node_atom(c, a);
}

static bool
parse_ip_lit(const char *s, kc_cidr *out)
{
	return cc_parse_cidr(s, out);
}

static const kc_node *
in_test(cc *c, const kc_ast_expr *e)
{
	const kc_operand *l = cc_value(c, e->lhs);
	if (l == NULL)
		return NULL;
	const kc_ast_value *r = e->rhs;
	kc_atom *a = NULL;
	if (r->kind == KC_V_LIST) {
		uint32_t n = (uint32_t)arg_count(r->items);
		if (l->type == KC_VT_IP) {
			kc_cidr *items = kc_arena_alloc(c->a, (n ? n : 1) * sizeof(*items));
			uint32_t k = 0;
			bool ok = items != NULL;
			for (const kc_ast_value *it = r->items; ok && it != NULL; it = it->next) {
				if (it->kind != KC_V_STRING || !parse_ip_lit(it->str.s, &items[k])) {
					cc_err(c, it->span, "not an IP address or CIDR range");
					ok = false;
				}
				k++;
			}
			kc_cidrset *set = zalloc(c, sizeof(*set));
			if (!ok || set == NULL || !cc_cidrset_build(c, items, k, set))
				return NULL;
			a = atom_new(c, KC_A_IN_CIDR, e->span);
			if (a != NULL)
				a->ranges = set;
		} else if (l->type == KC_VT_STRING) {
			kc_istr *items = kc_arena_alloc(c->a, (n ? n : 1) * sizeof(*items));
			uint32_t k = 0;
			for (const kc_ast_value *it = r->items; items != NULL && it != NULL; it = it->next) {
				if (it->kind != KC_V_STRING) {
					cc_err(c, it->span, "expected a string: the left side is a string");
					return NULL;
				}
				items[k++] = cc_intern(c, it->str.s, it->str.len);
			}
			a = atom_new(c, KC_A_IN_SET, e->span);
			if (a != NULL && items != NULL)
				cc_strset_build(c, items, k, &a->set);
		} else if (l->type == KC_VT_INT) {
			int64_t *ints = kc_arena_alloc(c->a, (n ? n : 1) * sizeof(*ints));
			uint32_t k = 0;
			for (const kc_ast_value *it = r->items; ints != NULL && it != NULL; it = it->next) {
				if (it->kind != KC_V_INT) {
					cc_err(c, it->span, "expected a whole number: the left side is an int");
					return NULL;
				}
				ints[k++] = it->num;
			}
			a = atom_new(c, KC_A_IN_SET, e->span);
			if (a != NULL) {
				a->ints = ints;
				a->n_ints = k;
			}
		} else {
			cc_err(c, e->lhs->span, "'in [...]' needs a string, int or IP on the left, not %s",
			    cc_vtype_name(l->type));
			return NULL;
		}
	} else if (r->kind == KC_V_ALIAS) {
		const kc_named_list *list = cc_list(c, r->str.s);
		if (list == NULL) {
			if (cc_alias_find(c, r->str.s) != NULL) {
				cc_err(c, r->span, "'@%s' is a scope alias: test it with scope any(@%s) or scope all(@%s)",
				    r->str.s, r->str.s, r->str.s);
			} else {
				cc_err(c, r->span, "unknown list '@%s'", r->str.s);
				const char *cand[64];
				uint32_t n = c->p->n_lists < 64 ? c->p->n_lists : 64;
				for (uint32_t i = 0; i < n; i++)
					cand[i] = c->p->lists[i].name.s;
				cc_suggest_prefixed(c, "@", r->str.s, cand, n);
			}
			return NULL;
		}
		if (list->cidr) {
			if (l->type != KC_VT_IP) {
				cc_err(c, e->lhs->span, "@%s is a list of CIDR ranges: the left side must be an IP address (request.remote_addr)",
				    r->str.s);
				return NULL;
			}
			a = atom_new(c, KC_A_IN_CIDR, e->span);
			if (a != NULL)
				a->ranges = &list->ranges;
		} else {
			if (l->type != KC_VT_STRING) {
				cc_err(c, e->lhs->span, "@%s is a list of strings: the left side is %s",
				    r->str.s, cc_vtype_name(l->type));
				return NULL;
			}
			a = atom_new(c, KC_A_IN_SET, e->span);
			if (a != NULL)
				a->list = list;
		}
	} else {
		const kc_operand *lst = cc_value(c, r);
		if (lst == NULL)
			return NULL;
		if (lst->type == KC_VT_SCOPES) {
			cc_err(c, r->span, "test scopes with scope \"NAME\", scope any(...) or scope all(...)");
			return NULL;
		}
		if (!((lst->type == KC_VT_LIST_STRING && l->type == KC_VT_STRING) ||
		    (lst->type == KC_VT_LIST_INT && l->type == KC_VT_INT))) {
			cc_err(c, e->op_span.src ? e->op_span : e->span, "cannot test %s in %s",
			    cc_vtype_name(l->type), cc_vtype_name(lst->type));
			return NULL;
		}
		a = atom_new(c, KC_A_IN_LIST, e->span);
		if (a != NULL)
			a->rhs = (kc_operand *)lst;
	}
	if (a == NULL)
		return NULL;
	a->lhs = (kc_operand *)l;
	a->negated = e->negated;
	return node_atom(c, a);
}

static bool
valid_glob(cc *c, const kc_ast_value *g)
{
	if (g == NULL || g->kind != KC_V_STRING) {
		cc_err(c, g ? g->span : (kc_span){ 0 }, "expected a quoted glob pattern such as \"*.example.com\"");
		return false;
	}
	return true;
}

static const kc_node *
call_test(cc *c, const kc_ast_value *call, kc_span span)
{
	const char *name = call->str.s;
	int argc = arg_count(call->items);
	if (strcmp(name, "has_entity") == 0) {
		kc_atom *a = atom_new(c, KC_A_HAS_ENTITY, span);
		if (a == NULL || !entity_args(c, call, &a->perm, &a->etype))
			return NULL;
		return node_atom(c, a);
	}
	if (strcmp(name, "startswith") == 0 || strcmp(name, "endswith") == 0) {
		if (argc != 2) {
			cc_err(c, call->span, "%s() takes a string and a literal", name);
			return NULL;
		}
		const kc_operand *s = cc_value(c, call->items);
		if (s == NULL || !valid_glob(c, call->items->next))
			return NULL;
		if (s->type != KC_VT_STRING) {
			cc_err(c, call->items->span, "%s() takes a string, not %s", name, cc_vtype_name(s->type));
			return NULL;
		}
		kc_atom *a = atom_new(c, name[0] == 's' ? KC_A_STARTS : KC_A_ENDS, span);
		if (a == NULL)
			return NULL;
		a->lhs = (kc_operand *)s;
		a->glob = cc_intern(c, call->items->next->str.s, call->items->next->str.len);
		return node_atom(c, a);
	}
	if (strcmp(name, "contains_any") == 0 || strcmp(name, "contains_all") == 0 ||
	    strcmp(name, "any_like") == 0) {
		if (argc != 2) {
			cc_err(c, call->span, "%s() takes a list and %s", name,
			    name[0] == 'a' ? "a glob" : "a [...] list of strings");
			return NULL;
		}
		const kc_operand *l = cc_value(c, call->items);
		if (l == NULL)
			return NULL;
		if (l->type != KC_VT_LIST_STRING) {
			cc_err(c, call->items->span, "%s() takes a list of strings, not %s", name,
			    cc_vtype_name(l->type));
			return NULL;
		}
		const kc_ast_value *arg = call->items->next;
		kc_atom *a;
		if (name[0] == 'a') {
			if (!valid_glob(c, arg))
				return NULL;
			a = atom_new(c, KC_A_ANY_LIKE, span);
			if (a != NULL)
				a->glob = cc_intern(c, arg->str.s, arg->str.len);
		} else {
			if (arg->kind != KC_V_LIST) {
				cc_err(c, arg->span, "expected a [...] list of strings");
				return NULL;
			}
			uint32_t n = (uint32_t)arg_count(arg->items), k = 0;
			kc_istr *items = kc_arena_alloc(c->a, (n ? n : 1) * sizeof(*items));
			for (const kc_ast_value *it = arg->items; items != NULL && it != NULL; it = it->next) {
				if (it->kind != KC_V_STRING) {
					cc_err(c, it->span, "expected a string");
					return NULL;
				}
				items[k++] = cc_intern(c, it->str.s, it->str.len);
			}
			a = atom_new(c, strcmp(name, "contains_any") == 0 ? KC_A_CONTAINS_ANY :
			    KC_A_CONTAINS_ALL, span);
			if (a != NULL && items != NULL) {
				/* contains_all needs every member: kept in written order. */
				a->set.items = items;
				a->set.n = k;
			}
		}
		if (a == NULL)
			return NULL;
		a->lhs = (kc_operand *)l;
		return node_atom(c, a);
	}
	if (strcmp(name, "count") == 0 || strcmp(name, "age") == 0) {
		cc_err(c, call->span, "%s() must be compared, as in %s", name,
		    name[0] == 'c' ? "count(claims.groups) > 0" : "age(claims.auth_time) <= 12h");
		return NULL;
	}
	(void)cc_value(c, call);   /* reports the unknown function */
	return NULL;
}

const kc_node *
cc_expr(cc *c, const kc_ast_expr *e)
{
	if (e == NULL)
		return NULL;
	switch (e->kind) {
	case KC_E_OR:
	case KC_E_AND: {
		const kc_node *a = cc_expr(c, e->a), *b = cc_expr(c, e->b);
		return node_op(c, e->kind == KC_E_OR ? KC_N_OR : KC_N_AND, a, b, e->span);
	}
	case KC_E_NOT:
		return node_op(c, KC_N_NOT, cc_expr(c, e->a), NULL, e->span);
	case KC_E_SCOPE:
		return scope_test(c, e);
	case KC_E_HAS: {
		if (e->lhs == NULL || e->lhs->kind != KC_V_REF || e->lhs->root == KC_ROOT_LET) {
			cc_err(c, e->span, "has() takes a claim or request field, as in has(claims.tenant)");
			return NULL;
		}
		const kc_operand *v = cc_value(c, e->lhs);
		kc_atom *a = v ? atom_new(c, KC_A_HAS, e->span) : NULL;
		if (a == NULL)
			return NULL;
		a->lhs = (kc_operand *)v;
		return node_atom(c, a);
	}
	case KC_E_LIKE: {
		const kc_operand *v = cc_value(c, e->lhs);
		if (v == NULL || !valid_glob(c, e->rhs))
			return NULL;
		if (v->type != KC_VT_STRING) {
			cc_err(c, e->lhs->span, "'like' matches strings, not %s", cc_vtype_name(v->type));
			return NULL;
		}
		kc_atom *a = atom_new(c, KC_A_LIKE, e->span);
		if (a == NULL)
			return NULL;
		a->lhs = (kc_operand *)v;
		a->glob = cc_intern(c, e->rhs->str.s, e->rhs->str.len);
		return node_atom(c, a);
	}
	case KC_E_IN:
		return in_test(c, e);
	case KC_E_CMP: {
		if (e->lhs != NULL && e->lhs->kind == KC_V_CALL &&
		    (strcmp(e->lhs->str.s, "count") == 0 || strcmp(e->lhs->str.s, "age") == 0))
			return call_cmp(c, e);
		const kc_operand *l = cc_value(c, e->lhs), *r = cc_value(c, e->rhs);
		if (l == NULL || r == NULL)
			return NULL;
		if (!comparable(l->type, r->type)) {
			type_mismatch(c, e, l, r);
			return NULL;
		}
		if (e->op != KC_CMP_EQ && e->op != KC_CMP_NE &&
		    (l->type == KC_VT_STRING || l->type == KC_VT_BOOL)) {
			cc_err(c, e->op_span.src ? e->op_span : e->span,
			    "'<', '<=', '>' and '>=' compare numbers and times, not %s",
			    cc_vtype_name(l->type));
			return NULL;
		}
		if (l->type == KC_VT_STRING && !is_literal(l) && !is_literal(r) &&
		    e->op != KC_CMP_EQ && e->op != KC_CMP_NE) {
			cc_err(c, e->span, "two values can only be compared with == or !=");
			return NULL;
		}
		kc_atom *a = atom_new(c, KC_A_CMP, e->span);
		if (a == NULL)
			return NULL;
		a->cmp = (uint8_t)e->op;
		/* Keep the non-literal on the left, so x == "a" and "a" == x share. */
		if (is_literal(l) && !is_literal(r)) {
			static const uint8_t flip[] = { KC_CMP_EQ, KC_CMP_NE, KC_CMP_GT, KC_CMP_GE,
			    KC_CMP_LT, KC_CMP_LE };
			a->lhs = (kc_operand *)r;
			a->rhs = (kc_operand *)l;
			a->cmp = flip[e->op];
		} else {
			a->lhs = (kc_operand *)l;
			a->rhs = (kc_operand *)r;
		}
		return node_atom(c, a);
	}
	case KC_E_VALUE: {
		const kc_ast_value *v = e->lhs;
		if (v == NULL)
			return NULL;
		if (v->kind == KC_V_TRUE || v->kind == KC_V_FALSE)
			return node_const(c, v->kind == KC_V_TRUE, e->span);
		if (v->kind == KC_V_CALL)
			return call_test(c, v, e->span);
		if (v->kind == KC_V_REF && v->root == KC_ROOT_LET) {
			cc_let *l = let_find(c, v->str.s);
			if (l != NULL) {
				/* Reported once: a failed (or cyclic) let is not retried. */
				if (!let_compile(c, l, v->span))
					return NULL;
				if (l->node != NULL)
					return l->node;
			}
		}
		const kc_operand *o = cc_value(c, v);
		if (o == NULL)
			return NULL;
		if (o->type != KC_VT_BOOL) {
			cc_err(c, v->span, "a condition must be true or false, but this is %s",
			    cc_vtype_name(o->type));
			if (o->type == KC_VT_STRING)
				kc_diag_hint(c->d, "compare it with == \"...\", or test its presence with has(...)");
			return NULL;
		}
		kc_atom *a = atom_new(c, KC_A_BOOL, e->span);
		if (a == NULL)
			return NULL;
		a->lhs = (kc_operand *)o;
		return node_atom(c, a);
	}
	}
	return NULL;
}
