/* cache.c: the validated-token cache (see cache.h): a keyed hash of the
 * token, sharded chained hash tables over fixed entry pools, CLOCK eviction,
 * and an O(1) flush by generation number. */
#include "config.h"

#include "token/cache.h"

#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define DEFAULT_MAX_ENTRIES 10000
#define DEFAULT_TTL 300
#define DEFAULT_NEGATIVE_TTL 5
/* Entry indices are 32-bit; a bigger cache would be a configuration error. */
#define MAX_ENTRIES ((size_t)1 << 24)
#define MAX_SHARDS 16
#define KEY_BYTES 16             /* SipHash-2-4 key, random per cache */
#define NIL UINT32_MAX

/* The table.
 *
 * The 128-bit key (SipHash-2-4-128 of the token under a random key) picks a
 * shard by its low bits and a bucket in that shard by its high bits; both
 * are uniform because the key is a MAC output. Each shard has its own mutex,
 * a fixed pool of `limit` entries (allocated once at kc_token_cache_new) and
 * a power-of-two array of bucket heads; an entry is either on one bucket
 * chain (linked by `next`) or on the shard's free list. The shard limits add
 * up to max_entries exactly, so the cache never holds more; the bucket
 * arrays together have a power-of-two size >= max_entries, so chains stay
 * about one entry long.
 *
 * Eviction is CLOCK per shard: a hit sets the entry's `ref` bit; when a
 * full shard needs a slot, its hand sweeps the pool, clearing set bits and
 * taking the first entry whose bit is clear. Entries that are stale or past
 * their expiry are taken at once (they are not counted as evictions).
 *
 * Flush is O(1): it bumps the cache's generation. An entry whose `gen` is
 * not the current generation is treated as empty by every lookup and is
 * freed lazily: unlinked when a chain walk meets it, or reused when the
 * CLOCK hand reaches it. A shard resets its live count the first time it
 * sees a new generation, so the stats are right at once. */
struct entry {
	uint64_t k0, k1;         /* the keyed hash: no token bytes are kept */
	int64_t expiry;          /* served only while now < expiry */
	uint64_t gen;            /* generation it was stored in */
	char *claims;            /* malloc'd copy (KC_TOK_OK only), or NULL */
	uint32_t claims_len;
	uint32_t issuer;
	uint32_t next;           /* bucket chain or free list, NIL at the end */
	char token_hash[12];     /* the log's short hash (kc_short_hash), kept so a
	                            hit need not compute it again */
	uint8_t reason;          /* kc_token_reason */
	uint8_t ref;             /* CLOCK reference bit */
	uint8_t used;            /* on a chain (else on the free list) */
};

/* Aligned so that two shards' locks and counters never share a cache line
 * (the cache itself is allocated with that alignment). */
struct shard {
	_Alignas(64) pthread_mutex_t lock;
	struct entry *pool;      /* limit entries */
	uint32_t *heads;         /* nbuckets chain heads */
	uint32_t limit;
	uint32_t free_head;      /* free list through entry.next */
	uint32_t hand;           /* CLOCK hand, an index into pool */
	uint32_t live;           /* entries of the current generation */
	uint64_t gen;            /* generation `live` counts for */
	uint64_t hits, misses, inserts, evictions;
};

struct kc_token_cache {
	EVP_MAC_CTX *mac;        /* keyed template, duplicated per call, never used directly */
	int64_t ttl, negative_ttl;
	uint32_t nshards;        /* power of two */
	uint32_t bucket_mask;    /* per shard */
	_Atomic uint64_t gen;
	_Atomic uint64_t flushes;
	struct shard shards[MAX_SHARDS];
};

/* ---- hashing ----------------------------------------------------------- */

static EVP_MAC_CTX *
mac_template_new(void)
{
	unsigned char key[KEY_BYTES];
	if (RAND_bytes(key, sizeof(key)) != 1)
		return NULL;
	/* SipHash is a keyed PRF made for hash tables: as collision-proof as we
	 * need against an attacker who does not know the key, and three times
	 * faster than HMAC-SHA-256 on token-sized input. */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (ctx != NULL) {
		size_t size = 16;
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
			OSSL_PARAM_construct_end(),
		};
		if (EVP_MAC_init(ctx, key, sizeof(key), params) != 1) {
			EVP_MAC_CTX_free(ctx);
			ctx = NULL;
		}
	}
	/* The context holds the key from now on; no other copy stays. */
	OPENSSL_cleanse(key, sizeof(key));
	return ctx;
}

/* SipHash-2-4-128 of the token. */
static bool
token_key(const kc_token_cache *c, const char *token, size_t len, uint64_t *k0,
    uint64_t *k1)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t out_len = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(c->mac);
	if (ctx == NULL)
		return false;
	bool ok = EVP_MAC_update(ctx, (const unsigned char *)token, len) == 1 &&
	    EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1 && out_len >= 16;
	EVP_MAC_CTX_free(ctx);
	if (ok) {
		memcpy(k0, out, 8);
		memcpy(k1, out + 8, 8);
	}
	OPENSSL_cleanse(out, sizeof(out));
	return ok;
}

static struct shard *
shard_of(kc_token_cache *c, uint64_t k0)
{
	return &c->shards[k0 & (c->nshards - 1)];
}

/* ---- shard internals (called with the shard locked) --------------------- */

static uint32_t *
bucket_of(const kc_token_cache *c, struct shard *s, uint64_t k1)
{
	return &s->heads[(k1 >> 32) & c->bucket_mask];
}

/* Brings the shard to the current generation: after a flush every entry it
 * holds is stale, so none is live. Returns the current generation. */
static uint64_t
shard_sync(kc_token_cache *c, struct shard *s)
{
	uint64_t g = atomic_load_explicit(&c->gen, memory_order_acquire);
	if (s->gen != g) {
		s->gen = g;
		s->live = 0;
	}
	return g;
}

/* Takes entry i off its chain (prev is its predecessor, or NIL when it is
 * the head) onto the free list. Returns its claims for the caller to free. */
static char *
shard_release(struct shard *s, uint32_t *head, uint32_t prev, uint32_t i)
{
	struct entry *e = &s->pool[i];
	if (prev == NIL)
		*head = e->next;
	else
		s->pool[prev].next = e->next;
	char *claims = e->claims;
	e->claims = NULL;
	e->used = 0;
	e->next = s->free_head;
	s->free_head = i;
	return claims;
}

/* Walks the chain for (k0, k1), dropping stale entries on the way. Returns
 * the entry's index (and its predecessor in *prevp) or NIL. */
static uint32_t
shard_find(struct shard *s, uint32_t *head, uint64_t g, uint64_t k0, uint64_t k1,
    uint32_t *prevp)
{
	uint32_t prev = NIL;
	uint32_t i = *head;
	while (i != NIL) {
		struct entry *e = &s->pool[i];
		uint32_t next = e->next;
		if (e->gen != g) {
			free(shard_release(s, head, prev, i));
		} else if (e->k0 == k0 && e->k1 == k1) {
			*prevp = prev;
			return i;
		} else {
			prev = i;
		}
		i = next;
	}
	return NIL;
}

/* Unlinks pool entry i from whatever chain holds it. */
static char *
shard_unlink(const kc_token_cache *c, struct shard *s, uint32_t i)
{
	uint32_t *head = bucket_of(c, s, s->pool[i].k1);
	uint32_t prev = NIL;
	for (uint32_t j = *head; j != i; j = s->pool[j].next)
		prev = j;
	return shard_release(s, head, prev, i);
}

/* Finds a free entry, evicting by CLOCK when the pool is full. The evicted
 * entry's claims go to *old for the caller to free after unlocking. */
static uint32_t
shard_alloc(const kc_token_cache *c, struct shard *s, uint64_t g, int64_t now,
    char **old)
{
	*old = NULL;
	if (s->free_head == NIL) {
		/* Two sweeps at most: the first clears every reference bit. */
		for (;;) {
			uint32_t i = s->hand;
			struct entry *e = &s->pool[i];
			s->hand = i + 1 == s->limit ? 0 : i + 1;
			if (e->gen != g) {
				*old = shard_unlink(c, s, i);
				break;
			}
			if (now >= e->expiry) {
				*old = shard_unlink(c, s, i);
				s->live--;
				break;
			}
			if (!e->ref) {
				*old = shard_unlink(c, s, i);
				s->live--;
				s->evictions++;
				break;
			}
			e->ref = 0;
		}
	}
	uint32_t i = s->free_head;
	s->free_head = s->pool[i].next;
	return i;
}

/* ---- lifecycle ---------------------------------------------------------- */

static uint32_t
pow2_at_least(size_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static bool
shard_init(struct shard *s, uint32_t limit, uint32_t nbuckets)
{
	s->pool = calloc(limit, sizeof(*s->pool));
	s->heads = malloc((size_t)nbuckets * sizeof(*s->heads));
	if (s->pool == NULL || s->heads == NULL)
		return false;
	for (uint32_t i = 0; i < nbuckets; i++)
		s->heads[i] = NIL;
	for (uint32_t i = 0; i < limit; i++)
		s->pool[i].next = i + 1 < limit ? i + 1 : NIL;
	s->limit = limit;
	s->free_head = 0;
	return true;
}

kc_token_cache *
kc_token_cache_new(const kc_cache_opts *opts)
{
	kc_cache_opts o = { 0 };
	if (opts != NULL)
		o = *opts;
	if (o.ttl < 0 || o.negative_ttl < 0 || o.max_entries > MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	size_t max = o.max_entries ? o.max_entries : DEFAULT_MAX_ENTRIES;

	/* sizeof is a multiple of the alignment, as aligned_alloc requires. */
	kc_token_cache *c = aligned_alloc(_Alignof(kc_token_cache), sizeof(*c));
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->ttl = o.ttl ? o.ttl : DEFAULT_TTL;
	c->negative_ttl = o.negative_ttl ? o.negative_ttl : DEFAULT_NEGATIVE_TTL;
	atomic_init(&c->gen, 1);
	atomic_init(&c->flushes, 0);
	/* As many shards as there are entries, up to MAX_SHARDS, so that
	 * every shard can hold at least one. */
	c->nshards = 1;
	while (c->nshards < MAX_SHARDS && c->nshards * 2 <= max)
		c->nshards *= 2;
	uint32_t per = (uint32_t)(max / c->nshards);
	uint32_t extra = (uint32_t)(max % c->nshards);
	uint32_t nbuckets = pow2_at_least(per + (extra != 0));
	c->bucket_mask = nbuckets - 1;

	uint32_t inited = 0;
	bool ok = true;
	for (; inited < c->nshards && ok; inited++) {
		struct shard *s = &c->shards[inited];
		if (pthread_mutex_init(&s->lock, NULL) != 0) {
			ok = false;
			break;
		}
		s->gen = 1;
		ok = shard_init(s, per + (inited < extra), nbuckets);
	}
	c->mac = ok ? mac_template_new() : NULL;
	if (c->mac == NULL) {
		c->nshards = inited;
		kc_token_cache_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void
kc_token_cache_free(kc_token_cache *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		if (s->pool != NULL)
			for (uint32_t j = 0; j < s->limit; j++)
				free(s->pool[j].claims);
		free(s->pool);
		free(s->heads);
		pthread_mutex_destroy(&s->lock);
	}
	EVP_MAC_CTX_free(c->mac);
	free(c);
}

/* ---- get / put / flush / stats ----------------------------------------- */

bool
kc_token_cache_get(kc_token_cache *c, const char *token, size_t len, int64_t now,
    kc_arena *arena, kc_cached_token *out)
{
	uint64_t k0, k1;
	if (c == NULL || token == NULL || arena == NULL || out == NULL ||
	    !token_key(c, token, len, &k0, &k1))
		return false;
	struct shard *s = shard_of(c, k0);
	bool hit = false;
	char *drop = NULL;

	pthread_mutex_lock(&s->lock);
	uint64_t g = shard_sync(c, s);
	uint32_t *head = bucket_of(c, s, k1);
	uint32_t prev;
	uint32_t i = shard_find(s, head, g, k0, k1, &prev);
	if (i != NIL) {
		struct entry *e = &s->pool[i];
		if (now >= e->expiry) {
			/* RFC 7519 §4.1.4: a token is valid only while now < exp,
			 * and expiry <= exp, so this entry is done for good. */
			drop = shard_release(s, head, prev, i);
			s->live--;
		} else {
			/* Copied while locked: nothing outside ever points into
			 * the table. A valid token always gets a claims string. */
			const char *text = e->claims;
			if (text == NULL)
				text = "";
			out->claims = e->reason == KC_TOK_OK ?
			    kc_arena_strndup(arena, text, e->claims_len) : NULL;
			out->claims_len = out->claims ? e->claims_len : 0;
			if (e->reason != KC_TOK_OK || out->claims != NULL) {
				out->reason = (kc_token_reason)e->reason;
				out->issuer = e->issuer;
				memcpy(out->token_hash, e->token_hash, sizeof(e->token_hash));
				out->token_hash[sizeof(e->token_hash)] = '\0';
				e->ref = 1;
				hit = true;
			}
		}
	}
	if (hit)
		s->hits++;
	else
		s->misses++;
	pthread_mutex_unlock(&s->lock);
	free(drop);
	return hit;
}

static int64_t
add_sat(int64_t a, int64_t b)
{
	/* b > 0 always (ttls); saturate instead of overflowing. */
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

void
kc_token_cache_put(kc_token_cache *c, const char *token, size_t len, int64_t now,
    int64_t exp, kc_token_reason reason, uint32_t issuer, const char *claims, size_t claims_len)
{
	if (c == NULL || token == NULL || (unsigned)reason >= KC_TOK__COUNT ||
	    reason == KC_TOK_INTERNAL)
		return;
	int64_t expiry;
	char *copy = NULL;
	if (reason == KC_TOK_OK) {
		if (claims_len > KC_CACHE_MAX_CLAIMS || (claims == NULL && claims_len > 0))
			return;
		int64_t cap = add_sat(now, c->ttl);
		expiry = exp < cap ? exp : cap;
		if (expiry <= now)
			return;      /* already expired: nothing worth keeping */
		/* Allocated before locking, so the lock covers no malloc. */
		if (claims_len > 0) {
			if ((copy = malloc(claims_len)) == NULL)
				return;
			memcpy(copy, claims, claims_len);
		}
	} else {
		expiry = add_sat(now, c->negative_ttl);
		claims_len = 0;
	}
	uint64_t k0, k1;
	if (!token_key(c, token, len, &k0, &k1)) {
		free(copy);
		return;
	}
	char hash[13];
	kc_short_hash(token, len, hash);
	struct shard *s = shard_of(c, k0);
	char *old = NULL;

	pthread_mutex_lock(&s->lock);
	uint64_t g = shard_sync(c, s);
	uint32_t *head = bucket_of(c, s, k1);
	uint32_t prev;
	uint32_t i = shard_find(s, head, g, k0, k1, &prev);
	struct entry *e;
	if (i != NIL) {
		/* The same token again (e.g. verified by two threads at once):
		 * the newer outcome replaces the older. */
		e = &s->pool[i];
		old = e->claims;
	} else {
		i = shard_alloc(c, s, g, now, &old);
		e = &s->pool[i];
		e->k0 = k0;
		e->k1 = k1;
		e->gen = g;
		e->ref = 0;
		e->used = 1;
		e->next = *head;
		*head = i;
		s->live++;
	}
	e->expiry = expiry;
	memcpy(e->token_hash, hash, sizeof(e->token_hash));
	e->reason = (uint8_t)reason;
	e->issuer = issuer;
	e->claims = copy;
	e->claims_len = (uint32_t)claims_len;
	s->inserts++;
	pthread_mutex_unlock(&s->lock);
	free(old);
}

void
kc_token_cache_flush(kc_token_cache *c)
{
	if (c == NULL)
		return;
	/* O(1): see the table comment. A put that runs after this stores in
	 * the new generation even if its outcome was computed with the old
	 * keys; callers flush after publishing the new keyset, so only
	 * verifications already in flight can do that. */
	atomic_fetch_add_explicit(&c->gen, 1, memory_order_acq_rel);
	atomic_fetch_add_explicit(&c->flushes, 1, memory_order_relaxed);
}

void
kc_token_cache_stats(kc_token_cache *c, kc_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		shard_sync(c, s);
		out->hits += s->hits;
		out->misses += s->misses;
		out->inserts += s->inserts;
		out->evictions += s->evictions;
		out->entries += s->live;
		pthread_mutex_unlock(&s->lock);
	}
	out->flushes = atomic_load_explicit(&c->flushes, memory_order_relaxed);
}
