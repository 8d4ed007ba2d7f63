/* test_cache.c: the validated-token cache must never serve a token past its
 * exp (a token is valid only while now < exp), nor past the cache ttl, must
 * keep refusals only briefly and never keep keycard's own failures (a 503
 * must not turn into a cached outcome), must forget everything on a key
 * reload, must stay within max_entries, must not confuse tokens that share
 * a prefix, and must hand out copies that stay consistent under concurrent
 * use from many threads. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/util.h"
#include "token/cache.h"

#define NOW 1700000000

static kc_arena *arena;

static void
setup(void)
{
	arena = kc_arena_new(4096);
	cr_assert_not_null(arena);
}

static void
teardown(void)
{
	kc_arena_free(arena);
}

TestSuite(cache, .init = setup, .fini = teardown);

static kc_token_cache *
cache_new(size_t max, int64_t ttl, int64_t negative_ttl)
{
	kc_cache_opts o = { .max_entries = max, .ttl = ttl, .negative_ttl = negative_ttl };
	kc_token_cache *c = kc_token_cache_new(&o);
	cr_assert_not_null(c);
	return c;
}

static void
put_ok(kc_token_cache *c, const char *tok, int64_t now, int64_t exp, uint32_t iss,
    const char *claims)
{
	kc_token_cache_put(c, tok, strlen(tok), now, exp, KC_TOK_OK, iss, claims,
	    strlen(claims));
}

static bool
get(kc_token_cache *c, const char *tok, int64_t now, kc_cached_token *out)
{
	memset(out, 0xa5, sizeof(*out));
	return kc_token_cache_get(c, tok, strlen(tok), now, arena, out);
}

static kc_cache_stats
stats(kc_token_cache *c)
{
	kc_cache_stats st;
	kc_token_cache_stats(c, &st);
	return st;
}

Test(cache, hit_returns_outcome_and_claims_copy)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	char claims[] = "{\"sub\":\"alice\",\"scope\":\"read\"}";
	put_ok(c, "aaa.bbb.ccc", NOW, NOW + 100, 7, claims);
	claims[2] = 'X';  /* the cache kept its own copy */

	kc_cached_token t;
	cr_assert(get(c, "aaa.bbb.ccc", NOW + 1, &t));
	cr_assert_eq(t.reason, KC_TOK_OK);
	cr_assert_eq(t.issuer, 7);
	cr_assert_eq(t.claims_len, strlen(claims));
	cr_assert_str_eq(t.claims, "{\"sub\":\"alice\",\"scope\":\"read\"}");
	cr_assert_neq(t.claims, claims);

	/* Each get makes a fresh copy in the arena: writing to one cannot
	 * change what the next caller sees. */
	((char *)t.claims)[0] = '!';
	kc_cached_token t2;
	cr_assert(get(c, "aaa.bbb.ccc", NOW + 1, &t2));
	cr_assert_neq(t2.claims, t.claims);
	cr_assert_eq(t2.claims[0], '{');

	cr_assert_not(get(c, "aaa.bbb.ccd", NOW + 1, &t));
	kc_token_cache_free(c);
}

Test(cache, valid_while_now_before_exp_only)
{
	kc_token_cache *c = cache_new(0, 300, 0);
	put_ok(c, "tok", NOW, NOW + 10, 0, "{}");
	kc_cached_token t;
	cr_assert(get(c, "tok", NOW + 9, &t));
	cr_assert_eq(stats(c).entries, 1);
	/* RFC 7519 §4.1.4: at now == exp the token is expired. */
	cr_assert_not(get(c, "tok", NOW + 10, &t));
	/* The expired entry was dropped, not just skipped. */
	cr_assert_eq(stats(c).entries, 0);
	cr_assert_not(get(c, "tok", NOW + 9, &t));
	kc_token_cache_free(c);
}

Test(cache, already_expired_ok_is_not_stored)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	put_ok(c, "tok", NOW, NOW, 0, "{}");
	put_ok(c, "tok2", NOW, NOW - 5, 0, "{}");
	kc_cached_token t;
	cr_assert_not(get(c, "tok", NOW - 1, &t));
	cr_assert_not(get(c, "tok2", NOW - 10, &t));
	cr_assert_eq(stats(c).inserts, 0);
	kc_token_cache_free(c);
}

Test(cache, ttl_caps_long_lived_tokens)
{
	kc_token_cache *c = cache_new(0, 60, 0);
	put_ok(c, "long", NOW, NOW + 86400, 0, "{}");
	put_ok(c, "noexp", NOW, INT64_MAX, 0, "{}");
	kc_cached_token t;
	cr_assert(get(c, "long", NOW + 59, &t));
	cr_assert(get(c, "noexp", NOW + 59, &t));
	cr_assert_not(get(c, "long", NOW + 60, &t));
	cr_assert_not(get(c, "noexp", NOW + 60, &t));
	kc_token_cache_free(c);
}

Test(cache, default_ttl_is_300)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	put_ok(c, "tok", NOW, INT64_MAX, 0, "{}");
	kc_cached_token t;
	cr_assert(get(c, "tok", NOW + 299, &t));
	cr_assert_not(get(c, "tok", NOW + 300, &t));
	kc_token_cache_free(c);
}

Test(cache, ttl_does_not_overflow_near_int64_max)
{
	kc_token_cache *c = cache_new(0, 300, 0);
	int64_t late = INT64_MAX - 10;
	put_ok(c, "tok", late, INT64_MAX, 0, "{}");
	kc_cached_token t;
	cr_assert(get(c, "tok", INT64_MAX - 1, &t));
	cr_assert_not(get(c, "tok", INT64_MAX, &t));
	kc_token_cache_free(c);
}

Test(cache, refusals_kept_for_negative_ttl)
{
	kc_token_cache *c = cache_new(0, 300, 0);
	/* exp is irrelevant to a refusal: far future or long past. */
	kc_token_cache_put(c, "forged", 6, NOW, NOW + 86400, KC_TOK_BAD_SIGNATURE, 3,
	    "{\"sub\":\"x\"}", 11);
	kc_token_cache_put(c, "old", 3, NOW, NOW - 100, KC_TOK_EXPIRED, 3, NULL, 0);
	kc_cached_token t;
	cr_assert(get(c, "forged", NOW + 4, &t));
	cr_assert_eq(t.reason, KC_TOK_BAD_SIGNATURE);
	cr_assert_eq(t.issuer, 3);
	cr_assert_null(t.claims);           /* a refusal's claims are never kept */
	cr_assert_eq(t.claims_len, 0);
	cr_assert(get(c, "old", NOW + 4, &t));
	cr_assert_eq(t.reason, KC_TOK_EXPIRED);
	cr_assert_not(get(c, "forged", NOW + 5, &t));  /* default negative ttl: 5 */
	cr_assert_not(get(c, "old", NOW + 5, &t));
	kc_token_cache_free(c);
}

Test(cache, negative_ttl_option)
{
	kc_token_cache *c = cache_new(0, 300, 30);
	kc_token_cache_put(c, "bad", 3, NOW, INT64_MAX, KC_TOK_MALFORMED, 0, NULL, 0);
	kc_cached_token t;
	cr_assert(get(c, "bad", NOW + 29, &t));
	cr_assert_not(get(c, "bad", NOW + 30, &t));
	kc_token_cache_free(c);
}

Test(cache, internal_failure_never_cached)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	kc_token_cache_put(c, "tok", 3, NOW, NOW + 100, KC_TOK_INTERNAL, 0, NULL, 0);
	kc_token_cache_put(c, "tok", 3, NOW, NOW + 100, KC_TOK__COUNT, 0, NULL, 0);
	kc_token_cache_put(c, "tok", 3, NOW, NOW + 100, (kc_token_reason)-1, 0, NULL, 0);
	kc_cached_token t;
	cr_assert_not(get(c, "tok", NOW, &t));
	cr_assert_eq(stats(c).inserts, 0);
	cr_assert_eq(stats(c).entries, 0);
	kc_token_cache_free(c);
}

Test(cache, claims_limit)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	char *big = malloc(KC_CACHE_MAX_CLAIMS + 1);
	cr_assert_not_null(big);
	memset(big, 'c', KC_CACHE_MAX_CLAIMS + 1);
	kc_token_cache_put(c, "over", 4, NOW, NOW + 100, KC_TOK_OK, 0, big,
	    KC_CACHE_MAX_CLAIMS + 1);
	big[KC_CACHE_MAX_CLAIMS - 1] = 'z';
	kc_token_cache_put(c, "at", 2, NOW, NOW + 100, KC_TOK_OK, 0, big,
	    KC_CACHE_MAX_CLAIMS);
	kc_cached_token t;
	cr_assert_not(get(c, "over", NOW, &t));
	cr_assert(get(c, "at", NOW, &t));
	cr_assert_eq(t.claims_len, KC_CACHE_MAX_CLAIMS);
	cr_assert_eq(memcmp(t.claims, big, KC_CACHE_MAX_CLAIMS), 0);
	cr_assert_eq(t.claims[KC_CACHE_MAX_CLAIMS], '\0');
	free(big);
	kc_token_cache_free(c);
}

Test(cache, valid_token_with_empty_claims_gets_a_string)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	kc_token_cache_put(c, "tok", 3, NOW, NOW + 100, KC_TOK_OK, 0, NULL, 0);
	kc_cached_token t;
	cr_assert(get(c, "tok", NOW, &t));
	cr_assert_not_null(t.claims);
	cr_assert_eq(t.claims_len, 0);
	cr_assert_str_eq(t.claims, "");
	kc_token_cache_free(c);
}

Test(cache, same_prefix_tokens_do_not_collide)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	char a[600], b[600];
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 2] = 'y';            /* differs only in the last byte */
	put_ok(c, a, NOW, NOW + 100, 1, "{\"sub\":\"a\"}");
	put_ok(c, b, NOW, NOW + 100, 2, "{\"sub\":\"b\"}");
	kc_token_cache_put(c, a, 10, NOW, NOW + 100, KC_TOK_BAD_SIGNATURE, 3, NULL, 0);

	kc_cached_token t;
	cr_assert(get(c, a, NOW, &t));
	cr_assert_eq(t.issuer, 1);
	cr_assert_str_eq(t.claims, "{\"sub\":\"a\"}");
	cr_assert(get(c, b, NOW, &t));
	cr_assert_eq(t.issuer, 2);
	cr_assert_str_eq(t.claims, "{\"sub\":\"b\"}");
	/* A prefix of a token is a different token. */
	cr_assert(kc_token_cache_get(c, a, 10, NOW, arena, &t));
	cr_assert_eq(t.reason, KC_TOK_BAD_SIGNATURE);
	cr_assert_not(kc_token_cache_get(c, a, 11, NOW, arena, &t));
	cr_assert_not(kc_token_cache_get(c, a, 0, NOW, arena, &t));
	cr_assert_eq(stats(c).entries, 3);
	kc_token_cache_free(c);
}

Test(cache, put_replaces_outcome_of_same_token)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	kc_token_cache_put(c, "tok", 3, NOW, NOW + 100, KC_TOK_KEY_NOT_FOUND, 0, NULL, 0);
	put_ok(c, "tok", NOW, NOW + 100, 4, "{\"n\":1}");
	kc_cached_token t;
	cr_assert(get(c, "tok", NOW + 50, &t));
	cr_assert_eq(t.reason, KC_TOK_OK);
	cr_assert_eq(t.issuer, 4);
	cr_assert_str_eq(t.claims, "{\"n\":1}");
	put_ok(c, "tok", NOW, NOW + 100, 4, "{\"n\":2}");
	cr_assert(get(c, "tok", NOW + 50, &t));
	cr_assert_str_eq(t.claims, "{\"n\":2}");
	cr_assert_eq(stats(c).entries, 1);
	kc_token_cache_free(c);
}

Test(cache, flush_forgets_everything)
{
	/* 64 slots per shard: 40 tokens fit whatever shards they hash to. */
	kc_token_cache *c = cache_new(1024, 0, 0);
	char tok[32];
	for (int i = 0; i < 40; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		put_ok(c, tok, NOW, NOW + 100, (uint32_t)i, "{}");
	}
	cr_assert_eq(stats(c).entries, 40);
	kc_token_cache_flush(c);
	kc_cache_stats st = stats(c);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.flushes, 1);

	kc_cached_token t;
	for (int i = 0; i < 40; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		cr_assert_not(get(c, tok, NOW, &t), "%s served after flush", tok);
	}
	/* The same tokens can be stored again and are served again. */
	for (int i = 0; i < 40; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		put_ok(c, tok, NOW, NOW + 100, (uint32_t)i + 1000, "{}");
	}
	cr_assert_eq(stats(c).entries, 40);
	snprintf(tok, sizeof(tok), "token-%d", 39);
	cr_assert(get(c, tok, NOW, &t));
	cr_assert_eq(t.issuer, 1039);
	kc_token_cache_flush(c);
	kc_token_cache_flush(c);
	cr_assert_eq(stats(c).flushes, 3);
	cr_assert_not(get(c, tok, NOW, &t));
	cr_assert_eq(stats(c).evictions, 0);
	kc_token_cache_free(c);
}

Test(cache, flushed_slots_are_reused_not_evicted)
{
	/* One slot: after a flush the stale entry still occupies it until a
	 * put reclaims it; that is not an eviction. */
	kc_token_cache *c = cache_new(1, 0, 0);
	put_ok(c, "a", NOW, NOW + 100, 1, "{\"a\":1}");
	kc_token_cache_flush(c);
	put_ok(c, "b", NOW, NOW + 100, 2, "{\"b\":1}");
	kc_cache_stats st = stats(c);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.evictions, 0);
	kc_cached_token t;
	cr_assert_not(get(c, "a", NOW, &t));
	cr_assert(get(c, "b", NOW, &t));
	cr_assert_str_eq(t.claims, "{\"b\":1}");
	put_ok(c, "a", NOW, NOW + 100, 1, "{}");
	cr_assert_eq(stats(c).evictions, 1);
	cr_assert_not(get(c, "b", NOW, &t));
	kc_token_cache_free(c);
}

Test(cache, eviction_keeps_size_bounded)
{
	const size_t sizes[] = { 1, 3, 17, 100, 1000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t max = sizes[k];
		kc_token_cache *c = cache_new(max, 0, 0);
		char tok[32];
		/* Enough puts that every shard fills up (each gets about
		 * 20 times its share; the keyed hash spreads them). */
		size_t n = 20 * max + 100;
		for (size_t i = 0; i < n; i++) {
			snprintf(tok, sizeof(tok), "t%zu", i);
			put_ok(c, tok, NOW, NOW + 100, 0, "{\"x\":1}");
			cr_assert_leq(stats(c).entries, max);
		}
		kc_cache_stats st = stats(c);
		cr_assert_eq(st.entries, max, "max %zu: %zu entries", max, st.entries);
		cr_assert_eq(st.inserts, n);
		cr_assert_eq(st.evictions, n - max);
		/* The newest token is always kept. */
		kc_cached_token t;
		cr_assert(get(c, tok, NOW, &t));
		kc_token_cache_free(c);
		kc_arena_clear(arena);
	}
}

Test(cache, clock_keeps_a_hot_token)
{
	/* A token hit between every insertion always has its reference bit
	 * set when the hand reaches it, so CLOCK never evicts it (FIFO or
	 * random eviction would). */
	kc_token_cache *c = cache_new(32, 0, 0);
	put_ok(c, "hot", NOW, NOW + 100, 9, "{}");
	kc_cached_token t;
	char tok[32];
	for (int i = 0; i < 2000; i++) {
		cr_assert(get(c, "hot", NOW, &t), "hot token evicted after %d puts", i);
		snprintf(tok, sizeof(tok), "cold-%d", i);
		put_ok(c, tok, NOW, NOW + 100, 0, "{}");
	}
	cr_assert(get(c, "hot", NOW, &t));
	cr_assert_eq(t.issuer, 9);
	kc_token_cache_free(c);
}

Test(cache, expired_entries_make_room_before_live_ones)
{
	kc_token_cache *c = cache_new(1, 0, 0);
	put_ok(c, "a", NOW, NOW + 10, 0, "{}");
	put_ok(c, "b", NOW + 20, NOW + 100, 0, "{}");
	kc_cache_stats st = stats(c);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.evictions, 0);   /* "a" had expired: reclaimed, not evicted */
	kc_cached_token t;
	cr_assert(get(c, "b", NOW + 20, &t));
	kc_token_cache_free(c);
}

Test(cache, stats_count_hits_misses_inserts)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	kc_cached_token t;
	cr_assert_not(get(c, "a", NOW, &t));
	put_ok(c, "a", NOW, NOW + 100, 0, "{}");
	put_ok(c, "b", NOW, NOW + 100, 0, "{}");
	cr_assert(get(c, "a", NOW, &t));
	cr_assert(get(c, "a", NOW, &t));
	cr_assert(get(c, "b", NOW, &t));
	cr_assert_not(get(c, "c", NOW, &t));
	cr_assert_not(get(c, "b", NOW + 100, &t));   /* expired: a miss */
	kc_cache_stats st = stats(c);
	cr_assert_eq(st.hits, 3);
	cr_assert_eq(st.misses, 3);
	cr_assert_eq(st.inserts, 2);
	cr_assert_eq(st.evictions, 0);
	cr_assert_eq(st.flushes, 0);
	cr_assert_eq(st.entries, 1);
	kc_token_cache_free(c);
}

Test(cache, options_and_null_handles)
{
	kc_cache_opts bad_ttl = { .ttl = -1 };
	kc_cache_opts bad_neg = { .negative_ttl = -1 };
	kc_cache_opts huge = { .max_entries = SIZE_MAX };
	cr_assert_null(kc_token_cache_new(&bad_ttl));
	cr_assert_null(kc_token_cache_new(&bad_neg));
	cr_assert_null(kc_token_cache_new(&huge));

	kc_token_cache *c = kc_token_cache_new(NULL);     /* all defaults */
	cr_assert_not_null(c);
	char tok[32];
	for (int i = 0; i < 40000; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		put_ok(c, tok, NOW, NOW + 100, 0, "{}");
	}
	cr_assert_eq(stats(c).entries, 10000);
	kc_token_cache_free(c);

	kc_token_cache_free(NULL);
	kc_token_cache_flush(NULL);
	kc_cached_token t;
	cr_assert_not(kc_token_cache_get(NULL, "x", 1, NOW, arena, &t));
	kc_token_cache_put(NULL, "x", 1, NOW, NOW + 1, KC_TOK_OK, 0, "{}", 2);
	kc_cache_stats st;
	kc_token_cache_stats(NULL, &st);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.hits, 0);
}

/* ---- concurrency -------------------------------------------------------- */

#define MT_THREADS 4
#define MT_OPS 100000
#define MT_TOKENS 3000     /* more than the cache holds: evictions happen */
#define MT_CAPACITY 1024

struct mt_arg {
	kc_token_cache *c;
	unsigned seed;
	int id;
	uint64_t gets, hits, puts, bad;
};

/* Token i always maps to issuer i and claims naming i (or, for every fifth
 * token, a refusal), so a hit that returns anything else was torn or mixed
 * up with another entry. */
static void *
mt_worker(void *p)
{
	struct mt_arg *a = p;
	kc_arena *ar = kc_arena_new(1 << 16);
	if (ar == NULL) {
		a->bad++;
		return NULL;
	}
	char tok[64], claims[64], want[64];
	for (int op = 0; op < MT_OPS; op++) {
		a->seed = a->seed * 1103515245u + 12345u;
		unsigned r = a->seed >> 8;
		unsigned i = r % MT_TOKENS;
		int n = snprintf(tok, sizeof(tok), "eyJ.token.%u.sig", i);
		if ((r >> 20) % 4 == 0) {
			int m = snprintf(claims, sizeof(claims), "{\"sub\":\"user-%u\"}", i);
			if (i % 5 == 0)
				kc_token_cache_put(a->c, tok, (size_t)n, NOW, NOW + 1000,
				    KC_TOK_BAD_SIGNATURE, i, NULL, 0);
			else
				kc_token_cache_put(a->c, tok, (size_t)n, NOW, NOW + 1000,
				    KC_TOK_OK, i, claims, (size_t)m);
			a->puts++;
		} else {
			kc_cached_token t;
			a->gets++;
			if (kc_token_cache_get(a->c, tok, (size_t)n, NOW, ar, &t)) {
				a->hits++;
				snprintf(want, sizeof(want), "{\"sub\":\"user-%u\"}", i);
				bool ok = t.issuer == i && (i % 5 == 0 ?
				    t.reason == KC_TOK_BAD_SIGNATURE && t.claims == NULL :
				    t.reason == KC_TOK_OK && t.claims != NULL &&
				    t.claims_len == strlen(want) && strcmp(t.claims, want) == 0);
				if (!ok)
					a->bad++;
			}
		}
		if (a->id == 0 && op % 20000 == 19999)
			kc_token_cache_flush(a->c);
		if (op % 256 == 0)
			kc_arena_clear(ar);
	}
	kc_arena_free(ar);
	return NULL;
}

Test(cache, concurrent_get_put_flush, .timeout = 120)
{
	kc_token_cache *c = cache_new(MT_CAPACITY, 0, 0);
	pthread_t th[MT_THREADS];
	struct mt_arg args[MT_THREADS];
	for (int i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){ .c = c, .seed = 12345u + (unsigned)i * 7919u, .id = i };
		cr_assert_eq(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
	}
	uint64_t gets = 0, hits = 0, puts = 0, bad = 0;
	for (int i = 0; i < MT_THREADS; i++) {
		cr_assert_eq(pthread_join(th[i], NULL), 0);
		gets += args[i].gets;
		hits += args[i].hits;
		puts += args[i].puts;
		bad += args[i].bad;
	}
	cr_assert_eq(bad, 0, "%llu inconsistent hits", (unsigned long long)bad);
	cr_assert_gt(hits, 0);
	cr_assert_lt(hits, gets);
	kc_cache_stats st = stats(c);
	cr_assert_eq(st.hits, hits);
	cr_assert_eq(st.hits + st.misses, gets);
	cr_assert_eq(st.inserts, puts);
	cr_assert_eq(st.flushes, MT_OPS / 20000);
	cr_assert_leq(st.entries, MT_CAPACITY);
	cr_assert_gt(st.evictions, 0);
	kc_token_cache_free(c);
}

/* A hit hands back the token's log hash, so the hot path need not hash the
 * token again: it must be exactly what kc_short_hash gives, valid or not. */
Test(cache, a_hit_carries_the_tokens_log_hash)
{
	kc_token_cache *c = cache_new(0, 0, 0);
	char want[13];
	kc_cached_token t;
	put_ok(c, "aaa.bbb.ccc", NOW, NOW + 100, 0, "{}");
	cr_assert(get(c, "aaa.bbb.ccc", NOW, &t));
	kc_short_hash("aaa.bbb.ccc", 11, want);
	cr_assert_str_eq(t.token_hash, want);
	kc_token_cache_put(c, "forged", 6, NOW, NOW + 100, KC_TOK_BAD_SIGNATURE, 0, NULL, 0);
	cr_assert(get(c, "forged", NOW, &t));
	kc_short_hash("forged", 6, want);
	cr_assert_str_eq(t.token_hash, want);
	kc_token_cache_free(c);
}
