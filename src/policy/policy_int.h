/* policy_int.h: the compiled program, shared by compile.c, eval.c and
 * explain.c. Nothing here is visible outside src/policy and src/decide.c.
 *
 * A compiled policy is a set of flat, immutable tables built once:
 *   - interned strings with their hashes;
 *   - claim slots: every declared claim has an index, and a request fills
 *     an array of values by index from the token (nothing is looked up by
 *     name while deciding);
 *   - scope ids: every scope the policy names has a bit; a token's scopes
 *     become a bitset, closed under `implies` by OR-ing precomputed masks;
 *     entity scopes (perm:type:id) become grants;
 *   - conditions as DAGs of AND/OR/NOT nodes over atoms; equal atoms are
 *     shared across the whole policy and evaluated at most once a request;
 *   - one route index (route.h) for all resources.
 * Per request, only a kc_eval_state in the request's arena is written. */
#ifndef KC_POLICY_INT_H
#define KC_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/header.h"
#include "core/json.h"
#include "policy/policy.h"
#include "policy/route.h"
#include "token/verify.h"

#define KC_SCOPE_WORDS 16                  /* 1024 scope ids */
#define KC_MAX_SCOPE_IDS (KC_SCOPE_WORDS * 64)
#define KC_MAX_ENTITY_TYPES 64
#define KC_MAX_PERMS 16
#define KC_MAX_GRANTS 64                   /* entity grants kept per token */
#define KC_MAX_TOKEN_SCOPES 256
#define KC_MAX_LIST_ITEMS 256              /* elements of a list claim read */
#define KC_MAX_EXPORT_VALUE 4096

typedef struct kc_istr {
	const char *s;
	uint32_t len;
	uint64_t hash;
} kc_istr;

/* Static and runtime value types. */
typedef enum kc_vtype {
	KC_VT_MISSING = 0,
	KC_VT_STRING,
	KC_VT_INT,
	KC_VT_BOOL,
	KC_VT_TIME,          /* seconds since the epoch */
	KC_VT_DURATION,      /* milliseconds (literals only) */
	KC_VT_LIST_STRING,
	KC_VT_LIST_INT,
	KC_VT_IP,            /* request.remote_addr */
	KC_VT_SCOPES,        /* token.scopes: exported, tested only through scope */
} kc_vtype;

/* A runtime value: a slice into the request, the token or the program. */
typedef struct kc_val {
	uint8_t t;           /* kc_vtype; KC_VT_MISSING when absent */
	char split;          /* LIST_STRING read from a string: the separator */
	uint32_t len;
	const char *s;       /* STRING; LIST_STRING with split: the whole text */
	int64_t i;           /* INT, BOOL, TIME, DURATION */
	const kc_json *arr;  /* LIST_* from a JSON array */
} kc_val;

/* Where an operand's value comes from. */
typedef enum kc_slot_kind {
	KC_SL_CLAIM,         /* index: claim slot */
	KC_SL_CAPTURE,       /* name: capture of the selected route */
	KC_SL_METHOD, KC_SL_PATH, KC_SL_REMOTE,
	KC_SL_HEADER,        /* name: lower-case header name */
	KC_SL_QUERY,         /* name: query parameter (missing if repeated) */
	KC_SL_CLIENT_ID, KC_SL_CLIENT_NAME,
	KC_SL_TOKEN_ISS, KC_SL_TOKEN_JTI, KC_SL_TOKEN_KIND, KC_SL_TOKEN_SCOPES,
} kc_slot_kind;

typedef enum kc_operand_kind {
	KC_OP_LIT, KC_OP_SLOT, KC_OP_COALESCE, KC_OP_LOWER, KC_OP_ENTITY_IDS,
} kc_operand_kind;

typedef struct kc_operand {
	kc_operand_kind kind;
	kc_vtype type;               /* static type */
	kc_slot_kind slot;
	uint32_t index;
	kc_istr name;
	kc_val lit;
	struct kc_operand *a, *b;    /* COALESCE a ?? b; LOWER a */
	uint8_t perm, etype;         /* ENTITY_IDS */
	kc_span span;
} kc_operand;

/* A sorted set of interned strings (literal `in [...]` and string lists). */
typedef struct kc_strset {
	kc_istr *items;              /* sorted by (hash, len, bytes) */
	uint32_t n;
} kc_strset;

typedef struct kc_cidr {
	uint8_t family;              /* 4 or 6 */
	uint8_t lo[16], hi[16];      /* inclusive range, network order */
} kc_cidr;

typedef struct kc_cidrset {
	kc_cidr *items;              /* sorted by (family, lo), merged */
	uint32_t n;
} kc_cidrset;

typedef struct kc_named_list {
	kc_istr name;
	bool cidr;
	kc_strset strings;
	kc_cidrset ranges;
	kc_span span;
} kc_named_list;

/* An entity template: perm:type:{capture} or perm:type:literal. */
typedef struct kc_entity_ref {
	uint8_t etype;
	uint16_t perms;              /* bit per permission letter */
	bool from_capture;
	kc_istr capture;             /* capture name when from_capture */
	kc_istr id;                  /* literal id otherwise ("*" never here) */
	kc_istr text;                /* as written, for hints */
} kc_entity_ref;

#define KC_MEMBER_ENTITY 0x80000000u

typedef enum kc_atom_op {
	KC_A_CMP,            /* lhs relop rhs */
	KC_A_IN_SET,         /* lhs in literal string/int set (negated: not in) */
	KC_A_IN_CIDR,        /* lhs (ip) in ranges */
	KC_A_IN_LIST,        /* lhs (scalar) in list operand rhs */
	KC_A_LIKE,           /* lhs like glob */
	KC_A_HAS,            /* lhs present */
	KC_A_BOOL,           /* lhs is true */
	KC_A_SCOPE,          /* scope one/any/all: mask + entity refs */
	KC_A_HAS_ENTITY,     /* has_entity(perm, type) */
	KC_A_STARTS, KC_A_ENDS,
	KC_A_CONTAINS_ANY, KC_A_CONTAINS_ALL, KC_A_ANY_LIKE,
	KC_A_COUNT,          /* count(lhs) relop n */
	KC_A_AGE,            /* age(lhs) relop duration */
} kc_atom_op;

typedef struct kc_atom {
	kc_atom_op op;
	uint8_t cmp;                 /* kc_ast_cmp */
	bool negated;                /* `not in` */
	bool all;                    /* SCOPE: all() (else any/one) */
	kc_operand *lhs, *rhs;
	kc_strset set;               /* IN_SET, CONTAINS_*, string literal sets */
	const int64_t *ints;         /* IN_SET over ints */
	uint32_t n_ints;
	const kc_cidrset *ranges;    /* IN_CIDR (a named list's or an inline one) */
	const kc_named_list *list;   /* IN_SET over a named string list */
	kc_istr glob;                /* LIKE, STARTS, ENDS, ANY_LIKE */
	int64_t number;              /* COUNT n, AGE milliseconds */
	uint64_t mask[KC_SCOPE_WORDS];
	const kc_entity_ref *entities;
	uint32_t n_entities;
	/* SCOPE: every member in written order (for hints and signatures): a
	 * scope id, or KC_MEMBER_ENTITY | index into entities. */
	uint32_t n_members;
	const uint32_t *members;
	uint8_t perm, etype;         /* HAS_ENTITY */
	kc_span span;
	uint32_t id;                 /* index in the program's atom table (memo) */
} kc_atom;

typedef enum kc_node_kind { KC_N_TRUE, KC_N_ATOM, KC_N_AND, KC_N_OR, KC_N_NOT } kc_node_kind;

typedef struct kc_node {
	kc_node_kind kind;
	const kc_atom *atom;
	const struct kc_node *a, *b;
	kc_span span;
} kc_node;

typedef struct kc_response {
	int status;                  /* 0: the default for the situation */
	const char *error;           /* RFC 6750/9470 error code, or NULL */
	const char *scope;           /* explicit scope hint, or NULL */
	const char *description;
} kc_response;

typedef enum kc_rule_kind { KC_R_ALLOW, KC_R_DENY, KC_R_REQUIRE } kc_rule_kind;

typedef struct kc_rule {
	kc_rule_kind kind;
	const char *label;           /* NULL: none */
	const kc_node *cond;         /* NULL: unconditional */
	kc_response resp;
	kc_span span;
	const char *origin;          /* "gate", "resource", "route" */
	bool needs_token;            /* reads claims, client, token or scopes */
	/* This allow rule's condition when it is a pure conjunction of scope
	 * tests: where a default deny's scope= hint comes from. NULL otherwise. */
	const kc_node *hint_node;
} kc_rule;

typedef struct kc_export {
	const char *name;            /* CGI variable name (HTTP_X_... for headers) */
	bool header;
	const char *header_name;     /* as written, for headers */
	const kc_operand *value;
	kc_span span;
} kc_export;

typedef enum kc_auth { KC_A_REQUIRED = 1, KC_A_OPTIONAL, KC_A_NONE } kc_auth;

typedef struct kc_issuer kc_issuer;

typedef struct kc_route_def {
	uint32_t id;
	struct kc_resource_def *resource;
	unsigned methods;
	char *pattern;               /* mount + path */
	kc_route_pattern pat;
	kc_auth auth;
	uint32_t accept;             /* bit per issuer index; 0: any issuer */
	kc_rule *rules;
	uint32_t n_rules;
	kc_export *exports;
	uint32_t n_exports;
	const char *hint;            /* `hint scope` text, or NULL */
	kc_span span;
} kc_route_def;

typedef struct kc_resource_def {
	const char *name;
	const char *mount;
	kc_auth auth;
	uint32_t accept;             /* bit per issuer index; 0: any issuer */
	kc_rule *rules;
	uint32_t n_rules;
	kc_export *exports;
	uint32_t n_exports;
	kc_span span;
} kc_resource_def;

typedef struct kc_claim_def {
	const char *name;
	kc_vtype type;
	bool required;
	const char **path;           /* `from` split at '.', or just the name */
	const uint32_t *path_lens;   /* the length of each part */
	uint32_t path_len;
	char split;                  /* 0 or the separator */
	kc_span span;
} kc_claim_def;

struct kc_issuer {
	const char *name;
	const char *iss;
	kc_verifier *verifier;
	kc_span span;
};

typedef struct kc_entity_type {
	kc_istr name;
	uint16_t perms;              /* letters allowed (bit per kc_program.perm) */
	uint16_t implies[KC_MAX_PERMS]; /* perm bit -> bits it also grants */
} kc_entity_type;

typedef struct kc_client {
	kc_istr id;
	const char *name;
} kc_client;

struct kc_policy {
	kc_arena *arena;             /* everything below lives here */
	const char *realm;
	kc_response default_resp;
	/* token sources */
	kc_issuer *issuers;
	uint32_t n_issuers;
	kc_claim_def *claims;
	uint32_t n_claims;
	int sub_claim;               /* slot of "sub", or -1 */
	int client_id_claim;         /* slot of "client_id", or -1 */
	/* scopes */
	const char **scope_sources;  /* claim names read for scopes, in order */
	uint32_t n_scope_sources;
	kc_istr *scope_names;        /* id -> name */
	uint32_t n_scopes;
	uint32_t *scope_table;       /* open addressing: id + 1, 0 empty */
	uint32_t scope_table_size;
	uint64_t (*implies)[KC_SCOPE_WORDS]; /* id -> closure mask (self included) */
	kc_entity_type *etypes;
	uint32_t n_etypes;
	char perm_letters[KC_MAX_PERMS][8];  /* permission names, e.g. "r", "x" */
	uint32_t n_perms;
	/* clients and lists */
	kc_client *clients;          /* sorted by id hash */
	uint32_t n_clients;
	kc_named_list *lists;
	uint32_t n_lists;
	/* policy */
	kc_rule *gates;
	uint32_t n_gates;
	kc_export *exports;          /* global */
	uint32_t n_exports;
	kc_resource_def *resources;
	uint32_t n_resources;
	kc_route_def *routes;
	uint32_t n_routes;
	kc_routes *index;
	uint32_t n_atoms;
	kc_diag *diag;               /* sources stay alive for explain and logs */
	bool owns_diag;
};

/* Hash used for every interned string (seeded per process in compile.c). */
uint64_t kc_policy_hash(const char *s, size_t len);
/* Scope id of a name, or -1. */
int kc_policy_scope_id(const kc_policy *p, const char *s, size_t len);

/* ---- evaluation (eval.c) ---------------------------------------------------- */

typedef struct kc_grant {
	uint8_t etype;
	uint16_t perms;
	const char *id;
	uint32_t len;
} kc_grant;

/* What a decision reads, gathered by decide.c; eval.c only reads it. */
typedef struct kc_eval_ctx {
	const kc_policy *p;
	kc_arena *arena;
	/* the request */
	const char *method;
	const kc_path *path;
	const kc_header *headers;
	size_t n_headers;
	const char *query;
	size_t query_len;
	const char *remote_addr;
	int64_t now;
	/* the route */
	const kc_route_def *route;
	const kc_route_match *match;
	/* the token: NULL claims when anonymous */
	const kc_json *claims;
	const kc_issuer *issuer;
	kc_val *slots;               /* one per declared claim */
	uint64_t scopes[KC_SCOPE_WORDS];
	kc_grant grants[KC_MAX_GRANTS];
	uint32_t n_grants;
	uint16_t wild[KC_MAX_ENTITY_TYPES];
	const char *scope_text;      /* the token's scopes, deduplicated, space-separated */
	uint8_t *memo;               /* per atom: 0 unknown, 1 false, 2 true */
	int8_t remote_family;        /* remote_addr parsed: 0 not yet, -1 not an IP, 4, 6 */
	unsigned char remote_bytes[16];
	uint32_t ignored_scopes;     /* unknown scopes in the token, counted */
	uint32_t wrong_type_claims;  /* optional claims of the wrong type, counted */
} kc_eval_ctx;

/* Fills slots, scopes and grants from ctx->claims. Returns NULL, or the
 * name of a required claim that is missing or of the wrong type (then the
 * token is invalid). */
const char *kc_eval_load_token(kc_eval_ctx *ctx);
bool kc_eval_node(kc_eval_ctx *ctx, const kc_node *n);
bool kc_eval_atom(kc_eval_ctx *ctx, const kc_atom *a);
kc_val kc_eval_operand(kc_eval_ctx *ctx, const kc_operand *o);
/* Renders a value for an export or a trace; NULL when missing. */
const char *kc_eval_render(kc_eval_ctx *ctx, const kc_operand *o);
/* A scope hint from a conjunction of scope tests (or one test): for all(),
 * the members the token lacks; for any(), its first member; captures
 * substituted. NULL if none. */
const char *kc_eval_scope_hint(kc_eval_ctx *ctx, const kc_node *n);

#endif
