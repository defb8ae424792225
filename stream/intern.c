#include "stream/intern.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Open addressing on a power-of-two slot array holding indices into the dense
 * blob array; blobs are allocated one by one so that the pointers handed out
 * stay valid while the arrays grow.
 */
struct fd_intern {
	struct fd_blob **blobs; /* by id */
	uint64_t *hashes;       /* by id */
	uint32_t count, cap;
	uint32_t *slots; /* id + 1; 0 = empty */
	uint32_t nslots;
};

struct fd_intern *fd_intern_create(void)
{
	return calloc(1, sizeof(struct fd_intern));
}

void fd_intern_destroy(struct fd_intern *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->count; i++)
		free(t->blobs[i]);
	free(t->blobs);
	free(t->hashes);
	free(t->slots);
	free(t);
}

static const struct fd_blob *find(const struct fd_intern *t, uint64_t h, const uint8_t *data,
				  size_t len)
{
	if (!t->nslots)
		return NULL;
	for (uint32_t i = (uint32_t)h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
		uint32_t id = t->slots[i] - 1;
		const struct fd_blob *b = t->blobs[id];
		if (t->hashes[id] == h && b->len == len && (len == 0 || memcmp(b->data, data, len) == 0))
			return b;
	}
	return NULL;
}

static void insert(struct fd_intern *t, uint32_t id)
{
	uint32_t i = (uint32_t)t->hashes[id] & (t->nslots - 1);
	while (t->slots[i])
		i = (i + 1) & (t->nslots - 1);
	t->slots[i] = id + 1;
}

static int rehash(struct fd_intern *t, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	for (uint32_t id = 0; id < t->count; id++) {
		const struct fd_blob *b = t->blobs[id];
		/* a repeat stays out of the slots, as when it was added */
		if (!find(t, t->hashes[id], b->data, b->len))
			insert(t, id);
	}
	return 0;
}

/* Adds a blob with the next id. indexed: also make it findable by content
 * (false for a repeat of bytes already findable, see add_with_id). */
static struct fd_blob *append(struct fd_intern *t, uint64_t h, const uint8_t *data, size_t len,
			      bool indexed)
{
	if (len > UINT32_MAX || t->count == UINT32_MAX - 1)
		return NULL;
	if (t->count == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		struct fd_blob **blobs = realloc(t->blobs, cap * sizeof(*blobs));
		if (!blobs)
			return NULL;
		t->blobs = blobs;
		uint64_t *hashes = realloc(t->hashes, cap * sizeof(*hashes));
		if (!hashes)
			return NULL;
		t->hashes = hashes;
		t->cap = cap;
	}
	if ((uint64_t)(t->count + 1) * 2 > t->nslots) {
		if (rehash(t, t->nslots ? t->nslots * 2 : 32) < 0)
			return NULL;
	}
	/* The bytes live right after the struct: one allocation per blob. */
	struct fd_blob *b = malloc(sizeof(*b) + (len ? len : 1));
	if (!b)
		return NULL;
	uint8_t *copy = (uint8_t *)(b + 1);
	if (len)
		memcpy(copy, data, len);
	b->id = t->count;
	b->len = (uint32_t)len;
	b->data = copy;
	t->blobs[t->count] = b;
	t->hashes[t->count] = h;
	if (indexed)
		insert(t, t->count);
	t->count++;
	return b;
}

const struct fd_blob *fd_intern_add(struct fd_intern *t, const uint8_t *data, size_t len)
{
	uint64_t h = fd_hash64(data, len);
	const struct fd_blob *b = find(t, h, data, len);
	return b ? b : append(t, h, data, len, true);
}

const struct fd_blob *fd_intern_add_with_id(struct fd_intern *t, uint32_t id, const uint8_t *data,
					    size_t len)
{
	if (id != t->count)
		return NULL;
	/* Duplicates are allowed here: a recording may (wastefully) define the
	 * same bytes twice, and the ids must still line up. A repeat gets its
	 * id but no slot: the first copy is what fd_intern_add finds, and
	 * identical entries never pile up in one probe run (n repeats would
	 * cost n^2 comparisons). */
	uint64_t h = fd_hash64(data, len);
	return append(t, h, data, len, find(t, h, data, len) == NULL);
}

const struct fd_blob *fd_intern_get(const struct fd_intern *t, uint32_t id)
{
	return id < t->count ? t->blobs[id] : NULL;
}

uint32_t fd_intern_count(const struct fd_intern *t)
{
	return t->count;
}
