/* policy.h: a compiled policy, loaded once and shared read-only.
 *
 * kc_policy_load() reads the main configuration file and everything it
 * includes, parses, resolves names, runs the static checks and compiles the
 * result into an immutable program. Any error makes it return NULL; the
 * diagnostics (errors, warnings, notes) are in the kc_diag given. A loaded
 * policy is never modified and may be used by any number of threads; it
 * owns the verifiers (keys) of its issuers. */
#ifndef KC_POLICY_POLICY_H
#define KC_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "core/diag.h"

#define KC_POLICY_MAX_FILE (4 * 1024 * 1024)   /* bytes of one policy file */
#define KC_POLICY_MAX_FILES 256                /* files in one policy, includes too */
#define KC_POLICY_MAX_INCLUDE_DEPTH 8

typedef struct kc_policy kc_policy;

typedef struct kc_policy_opts {
	/* Replace every issuer's keys with this JWKS text (keycard test signs
	 * its fixtures with a throwaway key). NULL: the configured keys. */
	const char *override_jwks;
} kc_policy_opts;

/* The policy refers to the sources held by diag (rule locations, traces):
 * free diag only after the policy. */
kc_policy *kc_policy_load(const char *path, const kc_policy_opts *opts, kc_diag *diag);
void kc_policy_free(kc_policy *p);

/* `keycard check --routes`: the effective route table, one route a line. */
void kc_policy_print_routes(const kc_policy *p, FILE *f);

const char *kc_policy_realm(const kc_policy *p);

/* Issuers, for keycard test: URL, first audience (or NULL) and the
 * algorithms allowed (a kc_alg_set; 0 when the keys decide). */
size_t kc_policy_issuer_count(const kc_policy *p);
void kc_policy_issuer_info(const kc_policy *p, size_t i, const char **name, const char **iss,
    const char **audience, uint32_t *algs);

/* Every rule (gates, resources, routes), for coverage reports. */
size_t kc_policy_rule_count(const kc_policy *p);
void kc_policy_rule_info(const kc_policy *p, size_t i, const char **kind, const char **label,
    kc_span *at);

#endif
