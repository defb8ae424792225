/*
 * Records waiting for their time. A request is simulated whole at its
 * arrival, so its spans and log lines are produced ahead of the loop's
 * clock; they wait in a heap ordered by (time, sequence) until the loop
 * has passed their time, then leave in order (see sim.c on time order).
 */
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

static bool pending_less(const struct pending *a, const struct pending *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(struct heap *h, struct pending p)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		struct pending *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pending_less(&p, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = p;
	return 0;
}

static struct pending heap_pop(struct heap *h)
{
	struct pending top = h->v[0];
	struct pending last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct pending *best = &last;
		if (l < h->n && pending_less(&h->v[l], best)) {
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && pending_less(&h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}


int sim_oom(struct fd_sim *s)
{
	if (!s->failed)
		s->failed = fd_error_set(s->err, FD_ERUNTIME, "out of memory while simulating");
	return s->failed;
}

/* Queues a record whose payload is in w. */
void sim_push_record(struct fd_sim *s, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		     const struct fd_blob *scope, struct pbw *w)
{
	if (s->failed)
		return;
	if (w->oom) {
		sim_oom(s);
		return;
	}
	uint8_t *p = malloc(w->len ? w->len : 1);
	if (!p) {
		sim_oom(s);
		return;
	}
	memcpy(p, w->buf, w->len);
	struct pending rec = {
		.time = t, .seq = s->seq++, .res = res, .scope = scope, .payload = p, .len = (uint32_t)w->len,
		.signal = (uint8_t)sig,
	};
	if (heap_push(&s->heap, rec) < 0) {
		free(p);
		sim_oom(s);
	}
}

/* Emits every queued record older than t. */
void sim_drain(struct fd_sim *s, int64_t t)
{
	while (!s->failed && s->heap.n && s->heap.v[0].time < t) {
		struct pending p = heap_pop(&s->heap);
		struct fd_record rec = {
			.time_ns = p.time,
			.signal = (enum fd_signal)p.signal,
			.resource = p.res,
			.scope = p.scope,
			.payload = p.payload,
			.payload_len = p.len,
		};
		int rc = s->emit(s->emit_ctx, &rec, s->err);
		free(p.payload);
		if (rc < 0)
			s->failed = rc;
	}
}

void sim_pending_free(struct fd_sim *s)
{
	while (s->heap.n) {
		struct pending p = heap_pop(&s->heap);
		free(p.payload);
	}
	free(s->heap.v);
	s->heap.v = NULL;
	s->heap.cap = 0;
}
