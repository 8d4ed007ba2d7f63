/* compile_int.h: the compiler's working state, shared by the files of the
 * compiler (compile.c: declarations and program; compile_expr.c:
 * conditions and values; check.c: static checks). */
#ifndef KC_POLICY_COMPILE_INT_H
#define KC_POLICY_COMPILE_INT_H

#include "policy/ast.h"
#include "policy/load.h"
#include "policy/policy_int.h"

typedef struct cc_let {
	const kc_ast_let *ast;
	const kc_node *node;         /* compiled condition (bool lets) */
	const kc_operand *value;     /* compiled value (value lets) */
	int state;                   /* 0 new, 1 compiling (cycle check), 2 done */
	bool used;
} cc_let;

typedef struct cc_alias {
	kc_ast_str name;
	kc_ast_strlist *members;
	kc_span span;
} cc_alias;

typedef struct cc {
	kc_policy *p;
	kc_arena *a;                 /* the program's arena: lives with the policy */
	kc_arena *tmp;               /* compile-time only: syntax trees, signatures */
	kc_diag *d;
	const kc_policy_opts *opts;
	/* scopes */
	bool declared_scopes;        /* some `declare` was written */
	cc_alias *aliases;
	uint32_t n_aliases;
	uint32_t scope_cap;
	/* lets, innermost scope last */
	cc_let *lets[3];             /* global, resource, route */
	uint32_t n_lets[3];
	/* where we are */
	const kc_route_def *route;   /* NULL outside a route */
	const kc_resource_def *resource;
	const kc_ast_resource *ast_resource;
	bool in_gate;
	bool in_export;
	/* atoms, hash-consed */
	kc_atom **atoms;
	char **atom_sigs;            /* canonical signature of each atom */
	uint64_t *atom_hash;
	uint32_t n_atoms, cap_atoms;
	/* captures referenced (for unused-capture warnings) */
	const char *used_caps[KC_ROUTE_MAX_CAPTURES * 4];
	uint32_t n_used_caps;
	const char *const *res_caps;  /* captures read by the resource's own rules */
	uint32_t n_res_caps;
} cc;

/* compile.c */
/* An error at a span of the policy (kc_diag_report with KC_SEV_ERROR). */
void cc_err(cc *c, kc_span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
kc_istr cc_intern(cc *c, const char *s, size_t len);
int cc_scope_id(cc *c, const char *s, size_t len, kc_span at, bool literal);
int cc_claim_index(const cc *c, const char *name);
const kc_named_list *cc_list(const cc *c, const char *name);
const cc_alias *cc_alias_find(const cc *c, const char *name);
void cc_suggest(cc *c, const char *name, const char *const *candidates, size_t n);
void cc_suggest_prefixed(cc *c, const char *prefix, const char *name,
    const char *const *candidates, size_t n);
/* The let of that name in scope, or NULL (compile_expr.c). */
cc_let *cc_let_lookup(cc *c, const char *name);
int cc_etype(const cc *c, const char *name, size_t len);
int cc_perm(const cc *c, const char *name, size_t len);
bool cc_parse_cidr(const char *s, kc_cidr *out);
bool cc_cidrset_build(cc *c, kc_cidr *items, uint32_t n, kc_cidrset *out);
void cc_strset_build(cc *c, kc_istr *items, uint32_t n, kc_strset *out);

/* check.c */
void cc_check_guards(cc *c, const kc_ast_expr *cond);

/* compile_expr.c */
const kc_node *cc_expr(cc *c, const kc_ast_expr *e);
const kc_operand *cc_value(cc *c, const kc_ast_value *v);
void cc_let_scope_push(cc *c, int level, kc_ast_let *lets);
const char *cc_vtype_name(kc_vtype t);

#endif
