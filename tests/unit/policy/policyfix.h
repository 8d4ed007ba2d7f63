/* policyfix.h: the fixture test_eval.c and test_decide.c share: a temporary
 * directory with an issuer key, a policy loaded from text, tokens signed by
 * that key (and by a stranger's), and one call that decides a request. */
#ifndef KC_TEST_POLICYFIX_H
#define KC_TEST_POLICYFIX_H

#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/arena.h"
#include "core/diag.h"
#include "decide.h"
#include "policy/policy.h"
#include "token/sign.h"

extern char dir[64];
extern kc_signer *signer;       /* the issuer's key */
extern kc_signer *stranger;     /* a key nobody trusts */
extern kc_policy *policy;
extern kc_diag *diag;           /* the policy's sources live here: freed after it */
extern kc_arena *arena;

#define NOW 1700000000
#define ISS "https://iss.test/"
#define write_file(rel, text) kct_write_file(dir, (rel), (text))

typedef struct rq {
	const char *method;         /* default GET */
	const char *target;         /* path?query */
	const char *remote;
	const char *auth;           /* an Authorization header value */
	const char *claims;         /* synthetic claims (extra members, "" for none) */
	const char *headers[8];     /* "Name: value" */
} rq;

#define DECIDE(...) run(&(rq){ __VA_ARGS__ })

#define expect_verdict(d, v, st) \
	cr_assert((d).verdict == (v) && (d).status == (st), \
	    "expected %s %d, got %s %d (%s)", verdict_name(v), (st), verdict_name((d).verdict), \
	    (d).status, (d).note ? (d).note : "")
#define expect_allow(d) expect_verdict(d, KC_ALLOW, 200)
#define expect_str(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (w_ == NULL) \
			cr_assert_null(g_, "expected nothing, got «%s»", g_); \
		else \
			cr_assert(g_ != NULL && strcmp(g_, w_) == 0, "expected «%s», got «%s»", w_, \
			    g_ ? g_ : "(null)"); \
	} while (0)
#define expect_challenge(d, want) expect_str((d).www_authenticate, want)
#define expect_label(d, want) expect_str((d).rule_label, want)

void setup(void);
void teardown(void);
void load_opts(const char *text, const kc_policy_opts *opts);
void load(const char *text);
char *claims_json(const char *extra);
const char *token_by(const kc_signer *s, const char *typ, const char *extra);
const char *token(const char *extra);
const char *bearer(const char *tok);
kc_decision run(const rq *r);
const char *export_of(const kc_decision *d, const char *name);
const char *verdict_name(kc_verdict v);

#endif
