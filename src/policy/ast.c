/* ast.c: node constructors and list helpers for the policy grammar. Every
 * node lives in the compile arena; nothing here checks meaning (check.c). */
#include "config.h"

#include "policy/ast.h"
#include "policy/parse_int.h"

#include <string.h>

void *
kc_ast_alloc(struct kc_parse *ps, size_t size)
{
	void *p = kc_arena_alloc(ps->arena, size);
	if (p == NULL) {
		ps->lex.oom = true;
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

kc_ast_item *
kc_ast_item_new(struct kc_parse *ps, kc_ast_item_kind kind, kc_span span)
{
	kc_ast_item *it = kc_ast_alloc(ps, sizeof(*it));
	if (it != NULL) {
		it->kind = kind;
		it->span = span;
	}
	return it;
}

kc_ast_value *
kc_ast_value_new(struct kc_parse *ps, kc_ast_value_kind kind, kc_span span)
{
	kc_ast_value *v = kc_ast_alloc(ps, sizeof(*v));
	if (v != NULL) {
		v->kind = kind;
		v->span = span;
	}
	return v;
}

kc_ast_expr *
kc_ast_expr_new(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span)
{
	kc_ast_expr *e = kc_ast_alloc(ps, sizeof(*e));
	if (e != NULL) {
		e->kind = kind;
		e->span = span;
	}
	return e;
}

kc_ast_expr *
kc_ast_expr_binary(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span, kc_span op_span,
    kc_ast_expr *a, kc_ast_expr *b)
{
	kc_ast_expr *e = kc_ast_expr_new(ps, kind, span);
	if (e != NULL) {
		e->op_span = op_span;
		e->a = a;
		e->b = b;
	}
	return e;
}

kc_ast_expr *
kc_ast_expr_test(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span, kc_span op_span,
    kc_ast_value *lhs, kc_ast_value *rhs)
{
	kc_ast_expr *e = kc_ast_expr_new(ps, kind, span);
	if (e != NULL) {
		e->op_span = op_span;
		e->lhs = lhs;
		e->rhs = rhs;
	}
	return e;
}

kc_ast_rule *
kc_ast_rule_new(struct kc_parse *ps, kc_ast_rule_kind kind, kc_span span, kc_ast_str label,
    kc_ast_expr *cond, const kc_ast_response *resp)
{
	kc_ast_rule *r = kc_ast_alloc(ps, sizeof(*r));
	if (r != NULL) {
		r->kind = kind;
		r->span = span;
		r->label = label;
		r->cond = cond;
		if (resp != NULL)
			r->resp = *resp;
	}
	return r;
}

kc_ast_scope_stmt *
kc_ast_scope_stmt_new(struct kc_parse *ps, kc_ast_scope_stmt_kind kind, kc_span span,
    kc_ast_strlist *names, const kc_ast_str *subject)
{
	kc_ast_scope_stmt *st = kc_ast_alloc(ps, sizeof(*st));
	if (st != NULL) {
		st->kind = kind;
		st->span = span;
		st->names = names;
		if (subject != NULL)
			st->subject = *subject;
	}
	return st;
}

kc_ast_item *
kc_ast_list_item(struct kc_parse *ps, kc_span span, kc_ast_str name, bool cidr,
    kc_ast_strlist *items, const kc_ast_str *file)
{
	kc_ast_list *l = kc_ast_alloc(ps, sizeof(*l));
	kc_ast_item *it = l != NULL ? kc_ast_item_new(ps, KC_I_LIST, span) : NULL;
	if (it == NULL)
		return NULL;
	l->name = name;
	l->cidr = cidr;
	l->items = items;
	if (file != NULL)
		l->file = *file;
	it->list = l;
	return it;
}

kc_ast_accept *
kc_ast_accept_new(struct kc_parse *ps, bool issuer, kc_ast_str name, kc_ast_accept *next)
{
	kc_ast_accept *a = kc_ast_alloc(ps, sizeof(*a));
	if (a != NULL) {
		a->issuer = issuer;
		a->name = name;
		a->next = next;
	}
	return a;
}

kc_ast_strlist *
kc_ast_strlist_new(struct kc_parse *ps, kc_ast_str s, kc_ast_strlist *next)
{
	kc_ast_strlist *l = kc_ast_alloc(ps, sizeof(*l));
	if (l != NULL) {
		l->str = s;
		l->next = next;
	}
	return l;
}

kc_ast_issuer *
kc_ast_issuer_new(struct kc_parse *ps)
{
	kc_ast_issuer *is = kc_ast_alloc(ps, sizeof(*is));
	if (is != NULL)
		is->leeway_ms = -1;
	return is;
}

kc_ast_resource *
kc_ast_resource_new(struct kc_parse *ps)
{
	return kc_ast_alloc(ps, sizeof(kc_ast_resource));
}

kc_ast_route *
kc_ast_route_new(struct kc_parse *ps)
{
	return kc_ast_alloc(ps, sizeof(kc_ast_route));
}

bool
kc_ast_str_of_span(struct kc_parse *ps, kc_span span, kc_ast_str *out)
{
	size_t len;
	const char *text = kc_source_text(ps->src, &len);
	if (span.end < span.start || span.end > len) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	char *s = kc_arena_strndup(ps->arena, text + span.start, span.end - span.start);
	if (s == NULL) {
		ps->lex.oom = true;
		return false;
	}
	out->s = s;
	out->len = span.end - span.start;
	out->span = span;
	return true;
}

void *
kc_ast_reverse(void *head, size_t next_off)
{
	void *prev = NULL;
	while (head != NULL) {
		void *next;
		memcpy(&next, (char *)head + next_off, sizeof(next));
		memcpy((char *)head + next_off, &prev, sizeof(prev));
		prev = head;
		head = next;
	}
	return prev;
}

kc_ast_strlist *
kc_ast_strlist_concat(kc_ast_strlist *a, kc_ast_strlist *b)
{
	if (a == NULL)
		return b;
	kc_ast_strlist *t = a;
	while (t->next != NULL)
		t = t->next;
	t->next = b;
	return a;
}

void
kc_ast_exports_prepend(kc_ast_export **rev, kc_ast_export *list)
{
	while (list != NULL) {
		kc_ast_export *next = list->next;
		list->next = *rev;
		*rev = list;
		list = next;
	}
}

void
kc_ast_duplicate(struct kc_parse *ps, const char *what, kc_span again, kc_span first)
{
	kc_diag_report(ps->diag, KC_SEV_ERROR, again, "duplicate '%s'", what);
	kc_diag_note(ps->diag, first, "first given here");
}

void
kc_ast_set_once(struct kc_parse *ps, kc_ast_str *dst, kc_ast_str s, const char *what, kc_span kw)
{
	if (dst->s != NULL)
		kc_ast_duplicate(ps, what, kw, dst->span);
	else
		*dst = s;
}

kc_ast_accept *
kc_ast_accept_concat(kc_ast_accept *a, kc_ast_accept *b)
{
	if (a == NULL)
		return b;
	kc_ast_accept *t = a;
	while (t->next != NULL)
		t = t->next;
	t->next = b;
	return a;
}
