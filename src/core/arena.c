/* arena.c: per-request bump allocator (see arena.h). */
#include "config.h"

#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KC_ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size;      /* usable bytes in data[] */
	size_t used;
	_Alignas(KC_ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct kc_arena {
	struct chunk *first;   /* kept across clears */
	struct chunk *cur;
	size_t chunk_size;
	struct cleanup *cleanups;
};

/* No single request needs more; refusing early keeps a bogus size from
 * ever reaching malloc. */
#define KC_ARENA_MAX_CHUNK ((size_t)1 << 30)

static struct chunk *
chunk_new(size_t size)
{
	if (size > KC_ARENA_MAX_CHUNK)
		return NULL;
	struct chunk *c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

kc_arena *
kc_arena_new(size_t first_chunk)
{
	kc_arena *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->chunk_size = first_chunk < 1024 ? 1024 : first_chunk;
	a->first = a->cur = chunk_new(a->chunk_size);
	if (a->first == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void *
kc_arena_alloc(kc_arena *a, size_t size)
{
	if (size > SIZE_MAX - KC_ARENA_ALIGN)
		return NULL;
	size = (size + KC_ARENA_ALIGN - 1) & ~(size_t)(KC_ARENA_ALIGN - 1);
	if (size == 0)
		size = KC_ARENA_ALIGN;
	struct chunk *c = a->cur;
	if (c->size - c->used < size) {
		/* Reuse a chunk kept from an earlier round if it is big enough. */
		struct chunk *n = c->next;
		if (n == NULL || n->size < size) {
			size_t want = size > a->chunk_size ? size : a->chunk_size;
			struct chunk *fresh = chunk_new(want);
			if (fresh == NULL)
				return NULL;
			fresh->next = c->next;
			c->next = fresh;
			n = fresh;
		}
		n->used = 0;
		a->cur = c = n;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

char *
kc_arena_strndup(kc_arena *a, const char *s, size_t n)
{
	char *p = kc_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
kc_arena_defer(kc_arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c = kc_arena_alloc(a, sizeof(*c));
	if (c == NULL) {
		fn(p);
		return -1;
	}
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

static void
run_cleanups(kc_arena *a)
{
	/* The list is LIFO, so this runs them in reverse order of registration. */
	while (a->cleanups != NULL) {
		struct cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->p);
	}
}

void
kc_arena_clear(kc_arena *a)
{
	if (a == NULL)
		return;
	run_cleanups(a);
	/* Keep the first chunk and drop the rest if a request made it grow
	 * large: an occasional big request should not pin memory forever. */
	struct chunk *c = a->first->next;
	size_t kept = 0;
	struct chunk *prev = a->first;
	while (c != NULL) {
		struct chunk *next = c->next;
		if (kept < 4 * a->chunk_size && c->size == a->chunk_size) {
			kept += c->size;
			prev = c;
		} else {
			prev->next = next;
			free(c);
		}
		c = next;
	}
	for (c = a->first; c != NULL; c = c->next)
		c->used = 0;
	a->cur = a->first;
}

void
kc_arena_free(kc_arena *a)
{
	if (a == NULL)
		return;
	run_cleanups(a);
	struct chunk *c = a->first;
	while (c != NULL) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}
