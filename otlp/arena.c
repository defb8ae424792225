#include "otlp/arena.h"

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
	/* chunks are used in order; after a reset, from the first again */
	struct fd_pb_chunk *c = a->cur;
	while (c && c->size - c->used < size)
		c = a->cur = c->next;
	if (!c) {
		size_t n = size > CHUNK_MIN ? size : CHUNK_MIN;
		c = malloc(sizeof(*c) + n);
		if (!c)
			return NULL; /* protobuf-c fails the unpack */
		c->size = n;
		c->used = 0;
		c->next = NULL;
		if (a->last)
			a->last->next = c;
		else
			a->chunks = c;
		a->last = a->cur = c;
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
	a->chunks = a->cur = a->last = NULL;
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
}

void fd_pb_arena_reset(struct fd_pb_arena *a)
{
	for (struct fd_pb_chunk *c = a->chunks; c; c = c->next)
		c->used = 0;
	a->cur = a->chunks;
}

void fd_pb_arena_free(struct fd_pb_arena *a)
{
	struct fd_pb_chunk *c = a->chunks;
	while (c) {
		struct fd_pb_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = a->cur = a->last = NULL;
}
