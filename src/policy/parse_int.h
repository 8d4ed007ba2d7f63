/* parse_int.h: private to the policy parser: the state shared by the lexer
 * (grammar/policy.l), the grammar (grammar/policy.y) and the node helpers
 * (ast.c). Nothing outside those files and their unit tests includes it. */
#ifndef KC_POLICY_PARSE_INT_H
#define KC_POLICY_PARSE_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "policy/ast.h"

/* Bounds: one policy file, and the parser stack (which bounds the nesting of
 * parentheses and `not`, so later passes may recurse over an expression). */
#define KC_POLICY_MAX_SOURCE (16u * 1024 * 1024)
#define KC_PARSE_MAX_DEPTH 1000
/* Open braces remembered for "to match this '{'" notes; deeper ones are
 * counted but not remembered. */
#define KC_LEX_MAX_BRACES 64

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* The scanner's state (flex extra). Offsets are bytes into src. Besides the
 * position, it remembers the end of the last two tokens it returned: when
 * the parser meets an error on a lookahead, prev_end is the end of the token
 * before it, where a missing ';' belongs. in_rule says whether that token was
 * part of an allow/deny/require rule, for the wording of that message. */
struct kc_lex {
	kc_arena *arena;
	kc_diag *diag;
	const kc_source *src;
	const char *text;           /* the source text, len bytes */
	uint32_t len;
	uint32_t off;               /* start of the next token */
	uint32_t last_end, prev_end;
	bool last_in_rule, prev_in_rule;
	bool stmt_start;            /* the next token starts a statement */
	bool stmt_is_rule;          /* the current statement is a rule */
	int stmt_first;             /* token kind that began the current statement */
	bool after_dot;             /* the last token was '.': words are IDENTs */
	uint32_t depth;             /* open braces */
	struct {
		uint32_t open;      /* offset of the '{' */
		int stmt_first;     /* statement that opened it */
	} braces[KC_LEX_MAX_BRACES];
	bool skipping;              /* skipping a block until depth is skip_depth */
	uint32_t skip_depth;
	bool skip_silent;           /* end the skip without a ';' of its own */
	bool absorb_semi;           /* drop a ';' right after a skipped block */
	int last_tok;
	bool oom;                   /* an allocation failed: stop quietly */
	jmp_buf fatal;              /* flex's fatal errors land here (kc_lex_open) */
};

/* The parser's state (the grammar's %parse-param). */
struct kc_parse {
	kc_arena *arena;
	kc_diag *diag;
	const kc_source *src;
	struct kc_lex lex;
	kc_ast_item *items;         /* top-level items, newest first */
};

/* ---- lexer (grammar/policy.l) ------------------------------------------------ */

/* Prepares lx (arena, diag, src, text and len set by the caller) and a
 * scanner over its text. Returns 0, or -1 when out of memory. */
int kc_lex_open(struct kc_lex *lx, yyscan_t *scanner);
void kc_lex_close(yyscan_t scanner);
/* The parser threw away the '{' at offset open during error recovery: skip
 * the rest of its block (see policy.l). */
void kc_lex_skip_block(struct kc_lex *lx, uint32_t open);

/* ---- node helpers (ast.c) ------------------------------------------------------
 * All allocate zeroed memory in ps->arena; on failure they set ps->lex.oom
 * and return NULL (or false), and the grammar stops with YYNOMEM. */

void *kc_ast_alloc(struct kc_parse *ps, size_t size);
kc_ast_item *kc_ast_item_new(struct kc_parse *ps, kc_ast_item_kind kind, kc_span span);
kc_ast_value *kc_ast_value_new(struct kc_parse *ps, kc_ast_value_kind kind, kc_span span);
kc_ast_expr *kc_ast_expr_new(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span);
kc_ast_expr *kc_ast_expr_binary(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span,
    kc_span op_span, kc_ast_expr *a, kc_ast_expr *b);
/* A test: lhs op rhs (rhs NULL for has()). */
kc_ast_expr *kc_ast_expr_test(struct kc_parse *ps, kc_ast_expr_kind kind, kc_span span,
    kc_span op_span, kc_ast_value *lhs, kc_ast_value *rhs);
/* resp NULL: no response (allow). */
kc_ast_rule *kc_ast_rule_new(struct kc_parse *ps, kc_ast_rule_kind kind, kc_span span,
    kc_ast_str label, kc_ast_expr *cond, const kc_ast_response *resp);
kc_ast_scope_stmt *kc_ast_scope_stmt_new(struct kc_parse *ps, kc_ast_scope_stmt_kind kind,
    kc_span span, kc_ast_strlist *names, const kc_ast_str *subject);
/* A `list` item: inline items, or file when not NULL. */
kc_ast_item *kc_ast_list_item(struct kc_parse *ps, kc_span span, kc_ast_str name, bool cidr,
    kc_ast_strlist *items, const kc_ast_str *file);
kc_ast_strlist *kc_ast_strlist_new(struct kc_parse *ps, kc_ast_str s, kc_ast_strlist *next);
kc_ast_accept *kc_ast_accept_new(struct kc_parse *ps, bool issuer, kc_ast_str name, kc_ast_accept *next);
kc_ast_issuer *kc_ast_issuer_new(struct kc_parse *ps);
kc_ast_resource *kc_ast_resource_new(struct kc_parse *ps);
kc_ast_route *kc_ast_route_new(struct kc_parse *ps);

/* The source text of span as a string (a keyword used as a name). */
bool kc_ast_str_of_span(struct kc_parse *ps, kc_span span, kc_ast_str *out);

/* Reverses a list linked through the pointer at next_off in each node;
 * the grammar builds lists newest first and reverses them once complete. */
void *kc_ast_reverse(void *head, size_t next_off);
#define KC_AST_REVERSE(type, head) ((type *)kc_ast_reverse((head), offsetof(type, next)))
/* a followed by b (either may be NULL). */
kc_ast_strlist *kc_ast_strlist_concat(kc_ast_strlist *a, kc_ast_strlist *b);
kc_ast_accept *kc_ast_accept_concat(kc_ast_accept *a, kc_ast_accept *b);
/* Prepends the exports of list (in source order) to *rev (newest first). */
void kc_ast_exports_prepend(kc_ast_export **rev, kc_ast_export *list);

/* A setting given twice where the tree holds one: reports it at again with a
 * note at first. (The tree cannot record the repetition for check.c.) */
void kc_ast_duplicate(struct kc_parse *ps, const char *what, kc_span again, kc_span first);
/* Sets *dst to s unless it is already set (then reports a duplicate). */
void kc_ast_set_once(struct kc_parse *ps, kc_ast_str *dst, kc_ast_str s, const char *what,
    kc_span kw);

#endif
