/* arena.h: per-request bump allocator with cleanup callbacks.
 *
 * One arena belongs to one request (one thread at a time). Allocations live
 * until kc_arena_clear(), which also runs the registered cleanups in reverse
 * order and keeps the first chunk so a reused arena does not call malloc. */
#ifndef KC_CORE_ARENA_H
#define KC_CORE_ARENA_H

#include <stddef.h>

typedef struct kc_arena kc_arena;

/* Returns NULL on allocation failure. Caller frees with kc_arena_free(). */
kc_arena *kc_arena_new(size_t first_chunk);
void kc_arena_free(kc_arena *a); /* NULL is fine */

/* 16-byte aligned memory valid until the next kc_arena_clear()/free.
 * Returns NULL on allocation failure or size overflow. */
void *kc_arena_alloc(kc_arena *a, size_t size);
char *kc_arena_strndup(kc_arena *a, const char *s, size_t n);

/* Runs fn(p) at the next clear/free. Returns 0, or -1 (and runs fn(p) at
 * once) if the cleanup record could not be allocated. */
int kc_arena_defer(kc_arena *a, void (*fn)(void *), void *p);

void kc_arena_clear(kc_arena *a);

#endif
