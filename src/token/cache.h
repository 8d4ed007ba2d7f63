/* cache.h: the validated-token cache (ARCHITECTURE.md, performance design).
 *
 * A token that arrives 10,000 times a day is verified once. Entries are
 * keyed by a keyed hash of the token (SipHash-2-4 with 128-bit output and a
 * random key per cache), so no raw token is ever stored. An entry
 * holds the outcome and, for a valid token, a copy of its claims text; it
 * is never used past the token's exp (nor past its own ttl), invalid
 * outcomes are kept only briefly (negative ttl), and "unavailable" (our own
 * failure) is never cached. A key reload flushes everything (a generation
 * number). Bounded: a fixed number of entries, evicted by CLOCK. Thread-safe
 * (sharded locks); lookups copy out, so no entry is ever read unlocked. */
#ifndef KC_TOKEN_CACHE_H
#define KC_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "token/reason.h"

#define KC_CACHE_MAX_CLAIMS 8192    /* bytes of claims text kept per entry */

typedef struct kc_token_cache kc_token_cache;

typedef struct kc_cache_opts {
	size_t max_entries;         /* 0: 10000 */
	int64_t ttl;                /* seconds an entry may live at most; 0: 300 */
	int64_t negative_ttl;       /* seconds for an invalid outcome; 0: 5 */
} kc_cache_opts;

typedef struct kc_cache_stats {
	uint64_t hits, misses, inserts, evictions, flushes;
	size_t entries;
} kc_cache_stats;

kc_token_cache *kc_token_cache_new(const kc_cache_opts *opts);
void kc_token_cache_free(kc_token_cache *c);

typedef struct kc_cached_token {
	kc_token_reason reason;     /* KC_TOK_OK or why it was refused */
	uint32_t issuer;            /* caller's issuer index */
	const char *claims;         /* arena copy of the claims JSON text (valid tokens) */
	size_t claims_len;
	char token_hash[13];        /* kc_short_hash of the token, for the log */
} kc_cached_token;

/* Looks the token up at time now. On a hit copies the entry into out (the
 * claims text into the arena) and returns true. */
bool kc_token_cache_get(kc_token_cache *c, const char *token, size_t len, int64_t now,
    kc_arena *arena, kc_cached_token *out);

/* Stores an outcome. exp: the token's exp, or INT64_MAX when it has none.
 * KC_TOK_INTERNAL is never stored; claims longer than KC_CACHE_MAX_CLAIMS
 * are not cached (the token is simply verified again next time). */
void kc_token_cache_put(kc_token_cache *c, const char *token, size_t len, int64_t now,
    int64_t exp, kc_token_reason reason, uint32_t issuer, const char *claims, size_t claims_len);

/* Drops every entry (keys were reloaded). */
void kc_token_cache_flush(kc_token_cache *c);
void kc_token_cache_stats(kc_token_cache *c, kc_cache_stats *out);

#endif
