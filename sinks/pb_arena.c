#include "pb_arena.h"

#include <stdint.h>
#include <stdlib.h>

#define CHUNK_MIN (64 * 1024)

struct fd_pb_chunk {
	struct fd_pb_chunk *next;
	size_t size, used;
	max_align_t data[]; /* size bytes */
};

static void *arena_alloc(void *ctx, size_t size)
{
	struct fd_pb_arena *a = ctx;
	size = (size + 15) & ~(size_t)15;
	struct fd_pb_chunk *c = a->chunks;
	/* the current chunk, then any kept from before a reset */
	for (; c; c = c->next)
		if (c->size - c->used >= size)
			break;
	if (!c) {
		size_t n = size > CHUNK_MIN ? size : CHUNK_MIN;
		c = malloc(sizeof(*c) + n);
		if (!c) {
			a->failed = 1;
			return NULL;
		}
		c->size = n;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

/* Everything goes at the next reset. */
static void arena_free(void *ctx, void *p)
{
	(void)ctx, (void)p;
}

void fd_pb_arena_init(struct fd_pb_arena *a)
{
	a->chunks = NULL;
	a->failed = 0;
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
}

void fd_pb_arena_reset(struct fd_pb_arena *a)
{
	for (struct fd_pb_chunk *c = a->chunks; c; c = c->next)
		c->used = 0;
	a->failed = 0;
}

void fd_pb_arena_free(struct fd_pb_arena *a)
{
	struct fd_pb_chunk *c = a->chunks;
	while (c) {
		struct fd_pb_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = NULL;
}
