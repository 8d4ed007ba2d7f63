/* load.h: the policy's files, parsed: the main file first, then each
 * include in the order met (depth first). Internal to src/policy. */
#ifndef KC_POLICY_LOAD_H
#define KC_POLICY_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/diag.h"
#include "policy/ast.h"

typedef struct kc_policy_file {
	kc_ast_file *ast;     /* arena memory */
	const char *path;     /* as reached (relative to the including file's dir) */
} kc_policy_file;

typedef struct kc_policy_files {
	kc_policy_file *files;
	size_t n, cap;
} kc_policy_files;

/* Reads and parses path and every file it includes. Errors go to diag.
 * Returns true when every file was read and parsed without error.
 * kc_policy_files_fini() frees the array (the trees live in arena). */
bool kc_policy_files_load(const char *path, kc_arena *arena, kc_diag *diag,
    kc_policy_files *out);
void kc_policy_files_fini(kc_policy_files *f);

#endif
