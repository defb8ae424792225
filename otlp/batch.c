#include "otlp/batch.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One (resource, scope) group; its payloads are a chain of indices into
 * the batch's item array, in arrival order. */
struct group {
	const struct fd_blob *resource, *scope;
	size_t first, last; /* item indices; SIZE_MAX when empty */
	size_t payload_bytes; /* sum over items of tag + length prefix + payload */
	size_t slot;     /* index of the first group of this resource */
	size_t res_body; /* in that first group: its Resource* body, all groups */
};

struct item {
	size_t off, len; /* in the arena */
	size_t next;     /* next item of the same group */
	size_t group;    /* its group, for fd_otlp_batch_get */
	int64_t time;
};

/* Direct-mapped caches of group indices plus one (0: empty), by (resource,
 * scope) and by resource: a request gathers some 400 records into tens of
 * groups, and scanning them two or three times per record was a tenth of a
 * Kafka replay's sending thread (issue 17). An entry is trusted only when
 * its group is in the batch and holds those pointers, so reset leaves the
 * caches as they are. */
#define GROUP_CACHE 256

struct fd_otlp_batch {
	uint32_t by_pair[GROUP_CACHE];
	uint32_t by_resource[GROUP_CACHE];
	struct group *groups;
	size_t n_groups, cap_groups;
	struct item *items;
	size_t n_items, cap_items;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	int64_t first_time;
	enum fd_signal signal;
	size_t total; /* the encoded request's size, kept as records come */
};

static size_t field_len(size_t body)
{
	return 1 + pbw_varint_len(body) + body; /* field numbers 1 and 2: one-byte tags */
}

static size_t blob_len(const struct fd_blob *b)
{
	return b ? b->len : 0;
}

/* Scope* body: scope = 1, then the payloads (already with their prefixes) */
static size_t scope_body(const struct group *g)
{
	return field_len(blob_len(g->scope)) + g->payload_bytes;
}

struct fd_otlp_batch *fd_otlp_batch_create(void)
{
	return calloc(1, sizeof(struct fd_otlp_batch));
}

void fd_otlp_batch_destroy(struct fd_otlp_batch *b)
{
	if (!b)
		return;
	free(b->groups);
	free(b->items);
	free(b->arena);
	free(b);
}

void fd_otlp_batch_reset(struct fd_otlp_batch *b)
{
	b->n_groups = b->n_items = b->arena_len = b->total = 0;
}

size_t fd_otlp_batch_count(const struct fd_otlp_batch *b)
{
	return b->n_items;
}

int64_t fd_otlp_batch_first_time(const struct fd_otlp_batch *b)
{
	return b->first_time;
}

enum fd_signal fd_otlp_batch_signal(const struct fd_otlp_batch *b)
{
	return b->signal;
}

const struct fd_blob *fd_otlp_batch_resource(const struct fd_otlp_batch *b)
{
	return b->n_groups ? b->groups[0].resource : NULL;
}

static size_t cache_slot(const void *a, const void *b)
{
	uint64_t h = ((uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b * 0x9E3779B97F4A7C15u) *
		     0xBF58476D1CE4E5B9u;
	return (size_t)(h >> 56);
}

static struct group *find_group(const struct fd_otlp_batch *b, const struct fd_blob *res,
				const struct fd_blob *scope)
{
	uint32_t e = b->by_pair[cache_slot(res, scope)];
	if (e && e - 1 < b->n_groups && b->groups[e - 1].resource == res &&
	    b->groups[e - 1].scope == scope)
		return &b->groups[e - 1];
	for (size_t i = b->n_groups; i-- > 0;)
		if (b->groups[i].resource == res && b->groups[i].scope == scope)
			return &b->groups[i];
	return NULL;
}

/* The first group of resource res (its slot), or SIZE_MAX. */
static size_t slot_of(const struct fd_otlp_batch *b, const struct fd_blob *res)
{
	uint32_t e = b->by_resource[cache_slot(res, NULL)];
	if (e && e - 1 < b->n_groups && b->groups[e - 1].resource == res)
		return b->groups[e - 1].slot;
	for (size_t i = 0; i < b->n_groups; i++)
		if (b->groups[i].resource == res)
			return b->groups[i].slot;
	return SIZE_MAX;
}

/* The request is one ResourceX per distinct resource, whose body is the
 * resource and one ScopeX per group of it. Adding a record changes one
 * group's ScopeX and so one resource's body: the size follows in O(1)
 * from the body before and after, instead of summing every group again
 * for every record. */
static size_t size_after(const struct fd_otlp_batch *b, const struct fd_blob *res,
			 const struct fd_blob *scope, size_t extra, size_t *new_res_body)
{
	const struct group *g = find_group(b, res, scope);
	size_t slot = g ? g->slot : slot_of(b, res);
	size_t old_body = slot == SIZE_MAX ? 0 : b->groups[slot].res_body;
	size_t body;
	if (g)
		body = old_body - field_len(scope_body(g)) + field_len(scope_body(g) + extra);
	else if (slot != SIZE_MAX)
		body = old_body + field_len(field_len(blob_len(scope)) + extra);
	else
		body = field_len(blob_len(res)) + field_len(field_len(blob_len(scope)) + extra);
	if (new_res_body)
		*new_res_body = body;
	return b->total - (slot == SIZE_MAX ? 0 : field_len(old_body)) + field_len(body);
}

size_t fd_otlp_batch_size(const struct fd_otlp_batch *b)
{
	return b->total;
}

size_t fd_otlp_batch_size_with(const struct fd_otlp_batch *b, const struct fd_record *rec)
{
	return size_after(b, rec->resource, rec->scope, field_len(rec->payload_len), NULL);
}

int fd_otlp_batch_add(struct fd_otlp_batch *b, const struct fd_record *rec)
{
	if (b->n_items == 0) {
		b->first_time = rec->time_ns;
		b->signal = rec->signal;
	} else if (rec->time_ns < b->first_time) {
		b->first_time = rec->time_ns;
	}
	size_t res_body;
	size_t total = size_after(b, rec->resource, rec->scope, field_len(rec->payload_len),
				  &res_body);
	struct group *g = find_group(b, rec->resource, rec->scope);
	if (!g) {
		size_t slot = slot_of(b, rec->resource);
		if (b->n_groups == b->cap_groups) {
			size_t cap = b->cap_groups ? b->cap_groups * 2 : 16;
			struct group *v = realloc(b->groups, cap * sizeof(*v));
			if (!v)
				return -1;
			b->groups = v;
			b->cap_groups = cap;
		}
		size_t idx = b->n_groups++;
		g = &b->groups[idx];
		*g = (struct group){.resource = rec->resource, .scope = rec->scope,
				    .first = SIZE_MAX, .last = SIZE_MAX,
				    .slot = slot == SIZE_MAX ? idx : slot};
		if (slot == SIZE_MAX)
			b->by_resource[cache_slot(rec->resource, NULL)] = (uint32_t)(idx + 1);
	}
	/* after a collision took its entry */
	b->by_pair[cache_slot(rec->resource, rec->scope)] = (uint32_t)(g - b->groups + 1);
	if (b->n_items == b->cap_items) {
		size_t cap = b->cap_items ? b->cap_items * 2 : 256;
		struct item *v = realloc(b->items, cap * sizeof(*v));
		if (!v)
			return -1;
		b->items = v;
		b->cap_items = cap;
	}
	if (b->arena_cap - b->arena_len < rec->payload_len) {
		size_t cap = b->arena_cap ? b->arena_cap : 65536;
		while (cap - b->arena_len < rec->payload_len)
			cap *= 2;
		uint8_t *p = realloc(b->arena, cap);
		if (!p)
			return -1;
		b->arena = p;
		b->arena_cap = cap;
	}
	if (rec->payload_len)
		memcpy(b->arena + b->arena_len, rec->payload, rec->payload_len);
	size_t idx = b->n_items++;
	b->items[idx] = (struct item){.off = b->arena_len, .len = rec->payload_len, .next = SIZE_MAX,
				      .group = (size_t)(g - b->groups), .time = rec->time_ns};
	b->arena_len += rec->payload_len;
	if (g->last == SIZE_MAX)
		g->first = idx;
	else
		b->items[g->last].next = idx;
	g->last = idx;
	g->payload_bytes += field_len(rec->payload_len);
	b->groups[g->slot].res_body = res_body;
	b->total = total;
	return 0;
}

void fd_otlp_batch_get(const struct fd_otlp_batch *b, size_t i, struct fd_record *out)
{
	const struct item *it = &b->items[i];
	const struct group *g = &b->groups[it->group];
	*out = (struct fd_record){.time_ns = it->time, .signal = b->signal, .resource = g->resource,
				  .scope = g->scope, .payload = b->arena + it->off,
				  .payload_len = it->len};
}

static void put_blob(struct pbw *w, unsigned field, const struct fd_blob *blob)
{
	pbw_bytes(w, field, blob ? blob->data : NULL, blob_len(blob));
}

int fd_otlp_batch_encode(const struct fd_otlp_batch *b, struct pbw *w)
{
	pbw_reset(w);
	for (size_t i = 0; i < b->n_groups; i++) {
		const struct fd_blob *res = b->groups[i].resource;
		bool first = true;
		for (size_t k = 0; k < i; k++)
			if (b->groups[k].resource == res) {
				first = false;
				break;
			}
		if (!first)
			continue;
		size_t rm = pbw_begin(w, 1); /* Resource{Spans,Metrics,Logs} */
		put_blob(w, 1, res);
		for (size_t k = i; k < b->n_groups; k++) {
			const struct group *g = &b->groups[k];
			if (g->resource != res)
				continue;
			size_t sm = pbw_begin(w, 2); /* Scope{Spans,Metrics,Logs} */
			put_blob(w, 1, g->scope);
			for (size_t it = g->first; it != SIZE_MAX; it = b->items[it].next)
				pbw_bytes(w, 2, b->items[it].len ? b->arena + b->items[it].off : NULL,
					  b->items[it].len);
			pbw_end(w, sm);
		}
		pbw_end(w, rm);
	}
	return w->oom ? -1 : 0;
}
