/* test_arena.c: guards the per-request arena contract (core/arena.h):
 * 16-byte alignment, growth past the first chunk, large and overflowing
 * requests, strndup, cleanups run in reverse order exactly once per clear,
 * and reuse of the first chunk after a clear. */
#include "config.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

/* An impossible request must come back as NULL, also in the sanitizer
 * build, whose allocator would otherwise abort instead of failing. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static int
is_aligned16(const void *p)
{
	return ((uintptr_t)p % 16) == 0;
}

Test(arena, new_and_free)
{
	kc_arena *a = kc_arena_new(1024);
	cr_assert_not_null(a);
	kc_arena_free(a);
	kc_arena_free(NULL); /* must be a no-op */
}

Test(arena, alignment_of_every_size)
{
	kc_arena *a = kc_arena_new(256);
	cr_assert_not_null(a);
	for (size_t size = 1; size <= 300; size++) {
		unsigned char *p = kc_arena_alloc(a, size);
		cr_assert_not_null(p, "alloc(%zu)", size);
		cr_assert(is_aligned16(p), "alloc(%zu) = %p is not 16-byte aligned", size, (void *)p);
		memset(p, 0xA5, size); /* writable to the last byte */
	}
	kc_arena_free(a);
}

Test(arena, strndup_alignment_and_copy)
{
	kc_arena *a = kc_arena_new(64);
	cr_assert_not_null(a);
	char *s = kc_arena_strndup(a, "hello world", 5);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "hello");
	/* strndup semantics: stops at the first NUL within n */
	const char buf[10] = { 'h', 'i', '\0', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
	char *t = kc_arena_strndup(a, buf, sizeof buf);
	cr_assert_not_null(t);
	cr_assert_str_eq(t, "hi");
	char *e = kc_arena_strndup(a, "abc", 0);
	cr_assert_not_null(e);
	cr_assert_str_eq(e, "");
	/* a copy, not the original */
	char src[] = "mutable";
	char *c = kc_arena_strndup(a, src, strlen(src));
	src[0] = 'X';
	cr_assert_str_eq(c, "mutable");
	kc_arena_free(a);
}

/* Allocations that do not fit the first chunk are served from new chunks;
 * earlier data stays intact and no two blocks overlap. */
Test(arena, growth_keeps_earlier_blocks)
{
	enum { N = 2000 };
	kc_arena *a = kc_arena_new(128);
	cr_assert_not_null(a);
	unsigned char *blocks[N];
	size_t sizes[N];
	for (size_t i = 0; i < N; i++) {
		sizes[i] = 1 + (i * 37) % 200;
		blocks[i] = kc_arena_alloc(a, sizes[i]);
		cr_assert_not_null(blocks[i]);
		cr_assert(is_aligned16(blocks[i]));
		memset(blocks[i], (int)(i & 0xff), sizes[i]);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < sizes[i]; j++)
			cr_assert_eq(blocks[i][j], (unsigned char)(i & 0xff),
			    "block %zu byte %zu was overwritten", i, j);
	kc_arena_free(a);
}

Test(arena, large_alloc_bigger_than_chunk)
{
	kc_arena *a = kc_arena_new(64);
	cr_assert_not_null(a);
	unsigned char *small = kc_arena_alloc(a, 16);
	cr_assert_not_null(small);
	memset(small, 0x11, 16);
	size_t big = 8u * 1024 * 1024;
	unsigned char *p = kc_arena_alloc(a, big);
	cr_assert_not_null(p);
	cr_assert(is_aligned16(p));
	memset(p, 0x5A, big);
	cr_assert_eq(p[0], 0x5A);
	cr_assert_eq(p[big - 1], 0x5A);
	/* and the arena still serves small allocations afterwards */
	unsigned char *after = kc_arena_alloc(a, 32);
	cr_assert_not_null(after);
	cr_assert(is_aligned16(after));
	memset(after, 0x22, 32);
	for (size_t i = 0; i < 16; i++)
		cr_assert_eq(small[i], 0x11);
	cr_assert_eq(p[big / 2], 0x5A);
	kc_arena_free(a);
}

Test(arena, overflowing_sizes_fail_cleanly)
{
	kc_arena *a = kc_arena_new(64);
	cr_assert_not_null(a);
	cr_assert_null(kc_arena_alloc(a, SIZE_MAX));
	cr_assert_null(kc_arena_alloc(a, SIZE_MAX - 1));
	cr_assert_null(kc_arena_alloc(a, SIZE_MAX - 15));
	cr_assert_null(kc_arena_alloc(a, SIZE_MAX / 2 + 1));
	/* the arena is still usable */
	void *p = kc_arena_alloc(a, 8);
	cr_assert_not_null(p);
	kc_arena_free(a);
}

/* ---- cleanups */

struct trace {
	int order[64];
	int n;
};

struct rec {
	struct trace *t;
	int id;
};

static void
record(void *p)
{
	struct rec *r = p;
	cr_assert_lt(r->t->n, 64);
	r->t->order[r->t->n++] = r->id;
}

Test(arena, clear_runs_cleanups_in_reverse_order)
{
	kc_arena *a = kc_arena_new(256);
	cr_assert_not_null(a);
	struct trace t = { .n = 0 };
	struct rec recs[40];
	for (int i = 0; i < 40; i++) {
		recs[i] = (struct rec){ &t, i };
		cr_assert_eq(kc_arena_defer(a, record, &recs[i]), 0);
		/* interleave allocations so cleanups span several chunks */
		cr_assert_not_null(kc_arena_alloc(a, 100));
	}
	cr_assert_eq(t.n, 0, "a cleanup ran before the clear");
	kc_arena_clear(a);
	cr_assert_eq(t.n, 40);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(t.order[i], 39 - i, "position %d ran cleanup %d", i, t.order[i]);
	/* a second clear does not run them again */
	kc_arena_clear(a);
	cr_assert_eq(t.n, 40);
	kc_arena_free(a);
	cr_assert_eq(t.n, 40, "free ran cleanups that a clear already ran");
}

Test(arena, free_runs_pending_cleanups)
{
	kc_arena *a = kc_arena_new(256);
	cr_assert_not_null(a);
	struct trace t = { .n = 0 };
	struct rec r1 = { &t, 1 }, r2 = { &t, 2 }, r3 = { &t, 3 };
	kc_arena_defer(a, record, &r1);
	kc_arena_defer(a, record, &r2);
	kc_arena_clear(a); /* runs 2, 1 */
	kc_arena_defer(a, record, &r3);
	kc_arena_free(a);  /* runs 3 */
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.order[0], 2);
	cr_assert_eq(t.order[1], 1);
	cr_assert_eq(t.order[2], 3);
}

static void
free_it(void *p)
{
	free(p);
}

/* The intended use: library objects released with the request. Leaks show
 * up under the sanitizer build. */
Test(arena, defer_frees_heap_objects)
{
	kc_arena *a = kc_arena_new(256);
	cr_assert_not_null(a);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++) {
			void *m = malloc(10);
			cr_assert_not_null(m);
			cr_assert_eq(kc_arena_defer(a, free_it, m), 0);
		}
		kc_arena_clear(a);
	}
	kc_arena_free(a);
}

/* A cleared arena is reused: the first chunk is kept, so the first block
 * after a clear is where the first block was before it, even after the arena
 * grew. */
Test(arena, reuse_after_clear)
{
	kc_arena *a = kc_arena_new(1024);
	cr_assert_not_null(a);
	for (int round = 0; round < 5; round++) {
		char *first = kc_arena_alloc(a, 64);
		cr_assert_not_null(first);
		memset(first, 'a' + round, 64);
		for (int i = 0; i < 100; i++) /* grow well past the first chunk */
			cr_assert_not_null(kc_arena_alloc(a, 200));
		kc_arena_clear(a);
		char *again = kc_arena_alloc(a, 64);
		cr_assert_eq(again, first, "round %d: the first chunk was not reused", round);
		memset(again, 'z', 64);
		kc_arena_clear(a);
	}
	kc_arena_free(a);
}

Test(arena, zero_first_chunk_size_is_usable)
{
	kc_arena *a = kc_arena_new(0);
	cr_assert_not_null(a);
	char *s = kc_arena_strndup(a, "keycard", 7);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "keycard");
	kc_arena_free(a);
}
