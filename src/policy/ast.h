/* ast.h: the syntax tree of policy files (.kc), as the parser builds it.
 *
 * Nodes live in the compile arena (kc_ast_new). Every node carries the byte
 * span it came from, so later stages can point at it precisely. The tree is
 * what was written, nothing more: names are not resolved, types not checked
 * (resolve.c and check.c do that). Lists are singly linked in source order. */
#ifndef KC_POLICY_AST_H
#define KC_POLICY_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"

typedef struct kc_ast_str {
	const char *s;      /* decoded, NUL-terminated (no NUL inside) */
	uint32_t len;
	kc_span span;
} kc_ast_str;

/* A list of strings or identifiers (e.g. `declare "a", "b";`). */
typedef struct kc_ast_strlist {
	kc_ast_str str;
	struct kc_ast_strlist *next;
} kc_ast_strlist;

/* ---- values and conditions ------------------------------------------------ */

typedef enum kc_ast_root {
	KC_ROOT_CLAIMS, KC_ROOT_TOKEN, KC_ROOT_CLIENT, KC_ROOT_REQUEST, KC_ROOT_PATH,
	KC_ROOT_LET,        /* a bare identifier: the name of a let */
} kc_ast_root;

/* One step of a reference: `.name` or `["name"]`. */
typedef struct kc_ast_field {
	kc_ast_str name;
	bool bracket;       /* written ["name"] */
	struct kc_ast_field *next;
} kc_ast_field;

typedef enum kc_ast_value_kind {
	KC_V_STRING, KC_V_INT, KC_V_DURATION, KC_V_TRUE, KC_V_FALSE,
	KC_V_ALIAS,         /* @name: a scope alias or a named list */
	KC_V_REF,           /* claims.x, request.header["h"], path.id, a let name */
	KC_V_LIST,          /* [a, b, ...] */
	KC_V_CALL,          /* builtin(args) */
	KC_V_COALESCE,      /* a ?? b */
} kc_ast_value_kind;

typedef struct kc_ast_value {
	kc_ast_value_kind kind;
	kc_span span;
	kc_ast_str str;                 /* STRING text, ALIAS name, CALL name, REF root word */
	int64_t num;                    /* INT value, DURATION in milliseconds */
	kc_ast_root root;               /* REF */
	kc_ast_field *fields;           /* REF: the path after the root */
	struct kc_ast_value *items;     /* LIST elements, CALL arguments (linked by next) */
	struct kc_ast_value *lhs, *rhs; /* COALESCE */
	struct kc_ast_value *next;      /* sibling in a list or argument list */
} kc_ast_value;

typedef enum kc_ast_cmp { KC_CMP_EQ, KC_CMP_NE, KC_CMP_LT, KC_CMP_LE, KC_CMP_GT, KC_CMP_GE } kc_ast_cmp;

typedef enum kc_ast_expr_kind {
	KC_E_OR, KC_E_AND, KC_E_NOT,
	KC_E_CMP,           /* value relop value */
	KC_E_IN,            /* value [not] in value */
	KC_E_LIKE,          /* value like "glob" */
	KC_E_HAS,           /* has(ref) */
	KC_E_SCOPE,         /* scope "s" | scope any(...) | scope all(...) */
	KC_E_VALUE,         /* a lone value that must be bool */
} kc_ast_expr_kind;

typedef enum kc_ast_scope_mode { KC_SCOPE_ONE, KC_SCOPE_ANY, KC_SCOPE_ALL } kc_ast_scope_mode;

typedef struct kc_ast_expr {
	kc_ast_expr_kind kind;
	kc_span span;
	struct kc_ast_expr *a, *b;      /* OR, AND: a and b; NOT: a */
	kc_ast_cmp op;                  /* CMP */
	bool negated;                   /* IN: `not in` */
	kc_ast_value *lhs, *rhs;        /* CMP, IN, LIKE (rhs is the glob), HAS (lhs), VALUE (lhs) */
	kc_ast_scope_mode scope_mode;   /* SCOPE */
	kc_ast_value *scopes;           /* SCOPE: STRING or ALIAS values, linked */
	kc_span op_span;                /* the operator, for carets */
} kc_ast_expr;

/* ---- rules, responses, exports -------------------------------------------- */

typedef struct kc_ast_response {
	int status;                     /* 0: not given */
	kc_span status_span;
	kc_ast_str error;               /* s == NULL: not given */
	kc_ast_str scope;
	kc_ast_str description;
	bool present;
} kc_ast_response;

typedef enum kc_ast_rule_kind { KC_RULE_ALLOW, KC_RULE_DENY, KC_RULE_REQUIRE } kc_ast_rule_kind;

typedef struct kc_ast_rule {
	kc_ast_rule_kind kind;
	kc_span span;                   /* the keyword */
	kc_ast_str label;               /* s == NULL: no `as "label"` */
	kc_ast_expr *cond;              /* NULL: unconditional allow/deny */
	kc_ast_response resp;
	struct kc_ast_rule *next;
} kc_ast_rule;

typedef struct kc_ast_export {
	kc_ast_str name;                /* variable name, or header name when header */
	bool header;
	kc_ast_value *value;
	struct kc_ast_export *next;
} kc_ast_export;

typedef struct kc_ast_let {
	kc_ast_str name;
	kc_ast_expr *expr;
	struct kc_ast_let *next;
} kc_ast_let;

typedef enum kc_ast_auth { KC_AUTH_UNSET = 0, KC_AUTH_REQUIRED, KC_AUTH_OPTIONAL, KC_AUTH_NONE } kc_ast_auth;

/* `accept jwt, issuer corp;`: which tokens a resource or route takes. */
typedef struct kc_ast_accept {
	bool issuer;                    /* `issuer NAME`; else a bare kind word ("jwt") */
	kc_ast_str name;
	struct kc_ast_accept *next;
} kc_ast_accept;

/* ---- routes and resources -------------------------------------------------- */

/* The methods of a route as a bitmask; ANY sets them all. */
enum {
	KC_M_GET = 1 << 0, KC_M_HEAD = 1 << 1, KC_M_POST = 1 << 2, KC_M_PUT = 1 << 3,
	KC_M_PATCH = 1 << 4, KC_M_DELETE = 1 << 5, KC_M_OPTIONS = 1 << 6,
	KC_M_ANY = (1 << 7) - 1,
};

typedef struct kc_ast_route {
	kc_span span;                   /* the `route` keyword */
	unsigned methods;
	kc_ast_str path;                /* as written: /devices/{id:slug} */
	kc_ast_auth auth;
	kc_span auth_span;
	kc_ast_accept *accept;          /* NULL: the resource's */
	kc_ast_let *lets;
	kc_ast_rule *rules;
	kc_ast_export *exports;
	kc_ast_strlist *hint_scopes;    /* `hint scope "..."` */
	struct kc_ast_route *next;
} kc_ast_route;

typedef struct kc_ast_resource {
	kc_ast_str name;
	kc_span span;
	kc_ast_str mount;               /* s == NULL: "/" */
	kc_ast_auth auth;
	kc_span auth_span;
	kc_ast_accept *accept;          /* NULL: any configured issuer */
	kc_ast_let *lets;
	kc_ast_rule *rules;
	kc_ast_export *exports;
	kc_ast_route *routes;
} kc_ast_resource;

/* ---- configuration ---------------------------------------------------------- */

typedef struct kc_ast_issuer {
	kc_ast_str name, iss;
	kc_span span;
	kc_ast_strlist *audiences;
	kc_ast_strlist *algorithms;     /* identifiers */
	kc_ast_str jwks_file;
	kc_ast_str pem_file;            /* `key file "x.pem"` */
	kc_ast_str secret_file;         /* `secret file "x.secret"` */
	int64_t leeway_ms;              /* -1: not given */
	kc_span leeway_span;
	kc_ast_strlist *require;        /* claim names */
	kc_ast_str typ;
} kc_ast_issuer;

typedef enum kc_ast_type {
	KC_T_STRING, KC_T_INT, KC_T_BOOL, KC_T_TIME, KC_T_LIST_STRING, KC_T_LIST_INT,
} kc_ast_type;

typedef struct kc_ast_claim {
	kc_ast_str name;
	kc_ast_type type;
	kc_span type_span;
	bool required;
	kc_ast_str from;                /* dotted path in the token */
	kc_ast_str split;               /* separator for a string read as a list */
	struct kc_ast_claim *next;
} kc_ast_claim;

typedef enum kc_ast_scope_stmt_kind {
	KC_SS_SOURCE, KC_SS_DECLARE, KC_SS_DECLARE_FILE, KC_SS_ENTITY, KC_SS_IMPLIES, KC_SS_ALIAS,
} kc_ast_scope_stmt_kind;

typedef struct kc_ast_scope_stmt {
	kc_ast_scope_stmt_kind kind;
	kc_span span;
	kc_ast_strlist *names;          /* SOURCE/DECLARE strings; ENTITY types; IMPLIES targets; ALIAS members */
	kc_ast_strlist *perms;          /* ENTITY permission letters */
	kc_ast_str imp_from, imp_to;    /* ENTITY `implies w -> r` (s NULL if absent) */
	kc_ast_str subject;             /* DECLARE_FILE path; IMPLIES source scope; ALIAS name (no '@') */
	struct kc_ast_scope_stmt *next;
} kc_ast_scope_stmt;

typedef struct kc_ast_list {
	kc_ast_str name;                /* without the @ */
	bool cidr;
	kc_ast_strlist *items;          /* inline entries */
	kc_ast_str file;                /* s == NULL: inline */
} kc_ast_list;

typedef enum kc_ast_item_kind {
	KC_I_VERSION, KC_I_REALM, KC_I_INCLUDE, KC_I_DEFAULT, KC_I_CLIENT, KC_I_CLIENTS_FILE,
	KC_I_ISSUER, KC_I_CLAIMS, KC_I_SCOPES, KC_I_LIST, KC_I_GATE, KC_I_EXPORT, KC_I_LET,
	KC_I_RESOURCE,
} kc_ast_item_kind;

typedef struct kc_ast_item {
	kc_ast_item_kind kind;
	kc_span span;                   /* the leading keyword */
	int64_t version;                /* VERSION */
	kc_ast_str str;                 /* REALM, INCLUDE pattern, CLIENTS_FILE path, CLIENT id */
	kc_ast_str str2;                /* CLIENT display name */
	kc_ast_response resp;           /* DEFAULT */
	kc_ast_issuer *issuer;
	kc_ast_claim *claims;
	kc_ast_scope_stmt *scopes;
	kc_ast_list *list;
	kc_ast_rule *rules;             /* GATE */
	kc_ast_export *exports;         /* EXPORT */
	kc_ast_let *let;                /* LET */
	kc_ast_resource *resource;
	struct kc_ast_item *next;
} kc_ast_item;

typedef struct kc_ast_file {
	const kc_source *src;
	kc_ast_item *items;
} kc_ast_file;

/* Parses one source into a tree allocated in arena; syntax errors go to
 * diag (several per run: the parser recovers at ';' and '}'). Returns the
 * tree even when there were errors (possibly partial); callers check
 * kc_diag_errors(). Defined by grammar/policy.y. */
kc_ast_file *kc_policy_parse(const kc_source *src, kc_arena *arena, kc_diag *diag);

#endif
