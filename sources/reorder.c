#include "sources/reorder.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((size_t)256 << 20)

struct entry {
	int64_t time, capture;
	uint64_t seq; /* arrival order: equal times keep it, so output is stable */
	enum fd_signal signal;
	const struct fd_blob *resource, *scope;
	uint8_t *payload;
	size_t len;
};

struct fd_reorder {
	int64_t window, newest, released; /* released: time of the last record out */
	int64_t watermark;
	bool any_in, any_out;
	size_t max_bytes, bytes;
	uint64_t seq;
	struct entry *heap;
	size_t n, cap;
	struct fd_reorder_stats stats;
};

struct fd_reorder *fd_reorder_create(int64_t window_ns, size_t max_bytes)
{
	struct fd_reorder *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->window = window_ns > 0 ? window_ns : 0;
	r->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
	r->watermark = INT64_MAX;
	return r;
}

void fd_reorder_destroy(struct fd_reorder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->heap[i].payload);
	free(r->heap);
	free(r);
}

const struct fd_reorder_stats *fd_reorder_stats(const struct fd_reorder *r)
{
	return &r->stats;
}

static bool before(const struct entry *a, const struct entry *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void sift_up(struct entry *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&h[i], &h[p]))
			break;
		struct entry t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static void sift_down(struct entry *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(&h[l], &h[m]))
			m = l;
		if (r < n && before(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		struct entry t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int emit(struct fd_reorder *r, const struct entry *e, fd_otlp_record_fn fn, void *ctx,
		struct fd_error *err)
{
	if (r->any_out && e->time < r->released) {
		r->stats.late++;
		if (r->released - e->time > r->stats.max_late)
			r->stats.max_late = r->released - e->time;
	} else {
		r->released = e->time;
		r->any_out = true;
	}
	struct fd_record rec = {.time_ns = e->time, .signal = e->signal, .resource = e->resource,
				.scope = e->scope, .payload = e->payload, .payload_len = e->len,
				.capture_ns = e->capture};
	return fn(ctx, &rec, err);
}

/* Removes the oldest record and releases it. */
static int pop(struct fd_reorder *r, fd_otlp_record_fn fn, void *ctx, struct fd_error *err)
{
	struct entry e = r->heap[0];
	r->heap[0] = r->heap[--r->n];
	sift_down(r->heap, r->n, 0);
	r->bytes -= e.len;
	int rc = emit(r, &e, fn, ctx, err);
	free(e.payload);
	return rc;
}

void fd_reorder_set_watermark(struct fd_reorder *r, int64_t wm)
{
	r->watermark = wm;
}

/* Records at or before this time are due. Saturating: a watermark of
 * INT64_MIN (a stream not heard from yet) holds everything back. */
static int64_t due_limit(const struct fd_reorder *r)
{
	int64_t t = r->newest < r->watermark ? r->newest : r->watermark;
	return t < INT64_MIN + r->window ? INT64_MIN : t - r->window;
}

int fd_reorder_add(struct fd_reorder *r, const struct fd_record *rec, fd_otlp_record_fn fn,
		   void *ctx, struct fd_error *err)
{
	if (!r->any_in || rec->time_ns > r->newest)
		r->newest = rec->time_ns;
	r->any_in = true;
	if (r->any_out && rec->time_ns < r->released) {
		/* already too late for its place: out now, counted */
		struct entry e = {.time = rec->time_ns, .capture = rec->capture_ns, .signal = rec->signal,
				  .resource = rec->resource, .scope = rec->scope,
				  .payload = (uint8_t *)rec->payload, .len = rec->payload_len};
		return emit(r, &e, fn, ctx, err);
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct entry *h = realloc(r->heap, cap * sizeof(*h));
		if (!h)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		r->heap = h;
		r->cap = cap;
	}
	uint8_t *p = malloc(rec->payload_len ? rec->payload_len : 1);
	if (!p)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rec->payload_len)
		memcpy(p, rec->payload, rec->payload_len);
	r->heap[r->n] = (struct entry){.time = rec->time_ns, .capture = rec->capture_ns,
				       .seq = r->seq++, .signal = rec->signal,
				       .resource = rec->resource, .scope = rec->scope, .payload = p,
				       .len = rec->payload_len};
	sift_up(r->heap, r->n++);
	r->bytes += rec->payload_len;
	if (r->n > r->stats.max_held)
		r->stats.max_held = r->n;
	/* due: at least a window older than the newest record seen */
	int64_t limit = due_limit(r);
	while (r->n && (r->heap[0].time <= limit || r->bytes > r->max_bytes)) {
		if (r->heap[0].time > limit)
			r->stats.forced++;
		int rc = pop(r, fn, ctx, err);
		if (rc < 0)
			return rc;
	}
	r->stats.held = r->n;
	return 0;
}

int fd_reorder_flush(struct fd_reorder *r, fd_otlp_record_fn fn, void *ctx, struct fd_error *err)
{
	while (r->n) {
		int rc = pop(r, fn, ctx, err);
		if (rc < 0)
			return rc;
	}
	r->stats.held = 0;
	return 0;
}
