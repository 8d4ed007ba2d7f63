/* check.c: static checks that look at a whole condition, beyond names and
 * types (which compile_expr.c checks as it resolves them).
 *
 * The guard rule (policy-language.md §2.4.6): a test on a missing value is
 * false, so only negation can turn "missing" into "true". A negative test
 * (`!=`, `not in`, or a test under `not`) on an optional scalar must
 * therefore be guarded by has() on the same value in the same conjunction,
 * or read it with a `??` default; otherwise a token without the claim would
 * pass a deny untouched, or satisfy an allow by saying nothing. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "policy/compile_int.h"

/* Follows value lets (`let t = claims.tenant;`) and lower() to the value
 * they read, so the guard rule cannot be dodged through a name. */
static const kc_ast_value *
resolve(cc *c, const kc_ast_value *v)
{
	for (int depth = 0; v != NULL && depth < 16; depth++) {
		if (v->kind == KC_V_REF && v->root == KC_ROOT_LET) {
			cc_let *l = cc_let_lookup(c, v->str.s);
			if (l == NULL || l->ast->expr == NULL || l->ast->expr->kind != KC_E_VALUE)
				return v;
			v = l->ast->expr->lhs;
		} else if (v->kind == KC_V_CALL && strcmp(v->str.s, "lower") == 0 && v->items != NULL) {
			v = v->items;
		} else {
			return v;
		}
	}
	return v;
}

/* Is v an optional scalar: a claim not marked required, a header or a
 * query parameter? Lists are never missing (they are empty); a ?? default
 * is missing only when every alternative is. */
static bool
optional_scalar(cc *c, const kc_ast_value *v, const char **what)
{
	v = resolve(c, v);
	if (v != NULL && v->kind == KC_V_COALESCE) {
		const char *w2;
		return optional_scalar(c, v->lhs, what) && optional_scalar(c, v->rhs, &w2);
	}
	if (v == NULL || v->kind != KC_V_REF)
		return false;
	const kc_ast_field *f = v->fields;
	if (v->root == KC_ROOT_CLAIMS && f != NULL && f->next == NULL) {
		int i = cc_claim_index(c, f->name.s);
		if (i < 0)
			return false;
		const kc_claim_def *d = &c->p->claims[i];
		*what = "claim";
		return !d->required && d->type != KC_VT_LIST_STRING && d->type != KC_VT_LIST_INT;
	}
	if (v->root == KC_ROOT_REQUEST && f != NULL && f->next != NULL &&
	    (strcmp(f->name.s, "header") == 0 || strcmp(f->name.s, "query") == 0)) {
		*what = f->name.s[0] == 'h' ? "header" : "query parameter";
		return true;
	}
	return false;
}

static bool
same_ref(cc *c, const kc_ast_value *a, const kc_ast_value *b)
{
	a = resolve(c, a);
	b = resolve(c, b);
	if (a->kind == KC_V_COALESCE)
		a = resolve(c, a->lhs);
	if (b->kind == KC_V_COALESCE)
		b = resolve(c, b->lhs);
	if (a->kind != KC_V_REF || b->kind != KC_V_REF || a->root != b->root)
		return false;
	const kc_ast_field *x = a->fields, *y = b->fields;
	/* Header names are case-insensitive (RFC 9110 §5.1). */
	bool header = a->root == KC_ROOT_REQUEST && x != NULL && strcmp(x->name.s, "header") == 0;
	for (; x != NULL && y != NULL; x = x->next, y = y->next)
		if (header ? strcasecmp(x->name.s, y->name.s) != 0 : strcmp(x->name.s, y->name.s) != 0)
			return false;
	return x == NULL && y == NULL;
}

#define MAX_GUARDS 32

typedef struct guards {
	const kc_ast_value *refs[MAX_GUARDS];
	int n;
} guards;

static void
collect_has(const kc_ast_expr *e, guards *g)
{
	if (e->kind == KC_E_AND) {
		collect_has(e->a, g);
		collect_has(e->b, g);
	} else if (e->kind == KC_E_HAS && e->lhs != NULL && g->n < MAX_GUARDS) {
		g->refs[g->n++] = e->lhs;
	}
}

static const char *
ref_name(cc *c, const kc_ast_value *v)
{
	v = resolve(c, v);
	if (v->kind == KC_V_COALESCE)
		v = resolve(c, v->lhs);
	const kc_ast_field *f = v->fields;
	if (f == NULL)
		return v->str.s;
	if (f->next != NULL)
		return f->next->name.s;
	return f->name.s;
}

static void
need_guard(cc *c, const kc_ast_expr *e, const kc_ast_value *v, const guards *g)
{
	const char *what = NULL;
	if (!optional_scalar(c, v, &what))
		return;
	for (int i = 0; i < g->n; i++)
		if (same_ref(c, g->refs[i], v))
			return;
	const char *name = ref_name(c, v);
	kc_span at = e->op_span.src != NULL ? e->op_span : e->span;
	kc_diag_report(c->d, KC_SEV_ERROR, at, "negative test on optional %s '%s' needs a guard", what, name);
	kc_diag_note(c->d, v->span, "a test on a missing %s is false, so a request WITHOUT it would pass a deny untouched or satisfy a negated allow",
	    what);
	if (strcmp(what, "claim") == 0) {
		kc_diag_hint(c->d, "to demand the claim, test it positively (e.g. require claims.%s == ...)", name);
		kc_diag_hint(c->d, "to refuse only mismatches: add has(claims.%s) and ... in the same condition, or give a default with ??", name);
	} else {
		kc_diag_hint(c->d, "add has(...) on the same %s in the same condition, or give a default with ??", what);
	}
}

static void
walk(cc *c, const kc_ast_expr *e, bool negated, const guards *outer, int depth)
{
	if (e == NULL || depth > 32)
		return;
	guards g = *outer;
	switch (e->kind) {
	case KC_E_AND:
		/* has() guards every conjunct of its conjunction. */
		if (!negated)
			collect_has(e, &g);
		walk(c, e->a, negated, &g, depth + 1);
		walk(c, e->b, negated, &g, depth + 1);
		return;
	case KC_E_OR:
		walk(c, e->a, negated, &g, depth + 1);
		walk(c, e->b, negated, &g, depth + 1);
		return;
	case KC_E_NOT:
		walk(c, e->a, !negated, &g, depth + 1);
		return;
	case KC_E_CMP: {
		bool neg = (e->op == KC_CMP_NE) != negated;
		if (neg) {
			need_guard(c, e, e->lhs, &g);
			need_guard(c, e, e->rhs, &g);
		}
		return;
	}
	case KC_E_IN:
		if (e->negated != negated)
			need_guard(c, e, e->lhs, &g);
		return;
	case KC_E_VALUE:
		/* A condition let is checked where it is used, under the
		 * polarity and guards of that place. */
		if (e->lhs != NULL && e->lhs->kind == KC_V_REF && e->lhs->root == KC_ROOT_LET) {
			cc_let *l = cc_let_lookup(c, e->lhs->str.s);
			if (l != NULL && l->ast->expr != NULL && l->ast->expr->kind != KC_E_VALUE) {
				walk(c, l->ast->expr, negated, &g, depth + 1);
				return;
			}
		}
		/* A function's first argument is what it tests. */
		if (negated && e->lhs != NULL && e->lhs->kind == KC_V_CALL && e->lhs->items != NULL)
			need_guard(c, e, e->lhs->items, &g);
		else if (negated)
			need_guard(c, e, e->lhs, &g);
		return;
	case KC_E_LIKE:
		if (negated)
			need_guard(c, e, e->lhs, &g);
		return;
	case KC_E_HAS:
	case KC_E_SCOPE:
		return;
	}
}

void
cc_check_guards(cc *c, const kc_ast_expr *cond)
{
	guards none = { .n = 0 };
	walk(c, cond, false, &none, 0);
}
