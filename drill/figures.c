/*
 * Windows and ranges of request figures (figures.h).
 *
 * Window w covers [w * len, (w + 1) * len) in absolute time. For the open
 * window and the FD_FIGURES_PAST - 1 before it, each subject keeps a latency
 * histogram in a ring indexed by w % FD_FIGURES_PAST; closing a window turns
 * its histogram into a summary in the summary ring. A range keeps its own
 * histograms, seeded from the ring when it opens.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drill/figures.h"

/* 1 us * 1.05^i: 425 buckets reach about 1000 s. */
#define BUCKETS 425
#define BASE_NS 1000.0
#define GROWTH 1.05

struct hist {
	uint32_t b[BUCKETS];
	uint64_t n, errors;
};

struct range {
	int64_t from, to;   /* window-aligned */
	struct hist *h;     /* [n_subjects] */
};

struct fd_figures {
	size_t n_subjects;
	int64_t len;
	size_t keep;
	int64_t open_w;      /* the newest window with a histogram; INT64_MIN: none yet */
	int64_t closed_w;    /* windows < closed_w are closed */
	struct hist *recent; /* [n_subjects][FD_FIGURES_PAST] */
	int64_t *recent_w;   /* [FD_FIGURES_PAST]: which window each slot holds */
	struct fd_window *ring; /* [n_subjects][keep] */
	size_t ring_head, ring_n; /* oldest slot, count */
	struct range *ranges;
	size_t n_ranges;
	uint64_t late;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int bucket_of(int64_t ns)
{
	if (ns <= BASE_NS)
		return 0;
	int i = (int)(log((double)ns / BASE_NS) / log(GROWTH));
	return i < 0 ? 0 : i >= BUCKETS ? BUCKETS - 1 : i;
}

/* The quantile in seconds: the geometric middle of its bucket. */
static double quantile(const struct hist *h, double q)
{
	if (!h->n)
		return 0;
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;
	if (rank == 0)
		rank = 1;
	for (int i = 0; i < BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return BASE_NS * pow(GROWTH, i + 0.5) / 1e9;
	}
	return BASE_NS * pow(GROWTH, BUCKETS) / 1e9;
}

static void hist_merge(struct hist *into, const struct hist *from)
{
	for (int i = 0; i < BUCKETS; i++)
		into->b[i] += from->b[i];
	into->n += from->n;
	into->errors += from->errors;
}

struct fd_figures *fd_figures_create(size_t n_subjects, int64_t window_ns, size_t keep)
{
	if (!n_subjects || window_ns <= 0 || !keep)
		return NULL;
	struct fd_figures *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->n_subjects = n_subjects;
	f->len = window_ns;
	f->keep = keep;
	f->open_w = INT64_MIN;
	f->closed_w = INT64_MIN;
	f->recent = calloc(n_subjects * FD_FIGURES_PAST, sizeof(*f->recent));
	f->recent_w = malloc(FD_FIGURES_PAST * sizeof(*f->recent_w));
	f->ring = calloc(n_subjects * keep, sizeof(*f->ring));
	if (!f->recent || !f->recent_w || !f->ring) {
		fd_figures_destroy(f);
		return NULL;
	}
	for (size_t i = 0; i < FD_FIGURES_PAST; i++)
		f->recent_w[i] = INT64_MIN;
	return f;
}

void fd_figures_destroy(struct fd_figures *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_ranges; i++)
		free(f->ranges[i].h);
	free(f->ranges);
	free(f->recent);
	free(f->recent_w);
	free(f->ring);
	free(f);
}

static struct hist *recent(struct fd_figures *f, size_t subject, int64_t w)
{
	size_t slot = (size_t)(w % FD_FIGURES_PAST + FD_FIGURES_PAST) % FD_FIGURES_PAST;
	return &f->recent[subject * FD_FIGURES_PAST + slot];
}

/* Makes window w the newest with a histogram (slots it reuses are emptied). */
static void open_window(struct fd_figures *f, int64_t w)
{
	if (f->open_w != INT64_MIN && w <= f->open_w)
		return;
	int64_t first = f->open_w == INT64_MIN || w - f->open_w > FD_FIGURES_PAST ? w - FD_FIGURES_PAST + 1
										    : f->open_w + 1;
	for (int64_t x = first; x <= w; x++) {
		size_t slot = (size_t)(x % FD_FIGURES_PAST + FD_FIGURES_PAST) % FD_FIGURES_PAST;
		f->recent_w[slot] = x;
		for (size_t s = 0; s < f->n_subjects; s++)
			memset(recent(f, s, x), 0, sizeof(struct hist));
	}
	f->open_w = w;
	if (f->closed_w == INT64_MIN)
		f->closed_w = w;
}

void fd_figures_add(struct fd_figures *f, size_t subject, int64_t t, int64_t duration_ns, bool error)
{
	if (subject >= f->n_subjects)
		return;
	int64_t w = floor_div(t, f->len);
	if ((f->closed_w != INT64_MIN && w < f->closed_w) ||
	    (f->open_w != INT64_MIN && w <= f->open_w - FD_FIGURES_PAST)) {
		f->late++;
		return;
	}
	open_window(f, w);
	int b = bucket_of(duration_ns);
	struct hist *h = recent(f, subject, w);
	h->b[b]++;
	h->n++;
	h->errors += error;
	for (size_t i = 0; i < f->n_ranges; i++) {
		struct range *r = &f->ranges[i];
		if (t >= r->from && t < r->to) {
			struct hist *rh = &r->h[subject];
			rh->b[b]++;
			rh->n++;
			rh->errors += error;
		}
	}
}

static void push_summary(struct fd_figures *f, int64_t w)
{
	size_t slot;
	if (f->ring_n < f->keep) {
		slot = (f->ring_head + f->ring_n) % f->keep;
		f->ring_n++;
	} else {
		slot = f->ring_head;
		f->ring_head = (f->ring_head + 1) % f->keep;
	}
	bool known = f->open_w != INT64_MIN && w <= f->open_w && w > f->open_w - FD_FIGURES_PAST;
	for (size_t s = 0; s < f->n_subjects; s++) {
		struct fd_window *x = &f->ring[s * f->keep + slot];
		memset(x, 0, sizeof(*x));
		x->start = w * f->len;
		if (!known)
			continue;
		const struct hist *h = recent(f, s, w);
		x->requests = h->n;
		x->errors = h->errors;
		x->p50 = quantile(h, 0.50);
		x->p95 = quantile(h, 0.95);
	}
}

void fd_figures_close_until(struct fd_figures *f, int64_t t)
{
	int64_t end_w = floor_div(t, f->len); /* windows < end_w end at or before t */
	if (f->closed_w == INT64_MIN) {
		/* nothing seen yet: start the windows here */
		f->closed_w = end_w;
		return;
	}
	if (end_w <= f->closed_w)
		return;
	/* a long gap: only the last `keep` windows matter */
	if (end_w - f->closed_w > (int64_t)f->keep)
		f->closed_w = end_w - (int64_t)f->keep;
	if (f->open_w == INT64_MIN || f->open_w < end_w - 1)
		open_window(f, end_w - 1);
	for (int64_t w = f->closed_w; w < end_w; w++)
		push_summary(f, w);
	f->closed_w = end_w;
}

size_t fd_figures_count(const struct fd_figures *f)
{
	return f->ring_n;
}

const struct fd_window *fd_figures_window(const struct fd_figures *f, size_t subject, size_t i)
{
	if (subject >= f->n_subjects || i >= f->ring_n)
		return NULL;
	return &f->ring[subject * f->keep + (f->ring_head + i) % f->keep];
}

int64_t fd_figures_window_ns(const struct fd_figures *f)
{
	return f->len;
}

uint64_t fd_figures_late(const struct fd_figures *f)
{
	return f->late;
}

int fd_figures_range_open(struct fd_figures *f, int64_t from, int64_t to)
{
	struct range *v = realloc(f->ranges, (f->n_ranges + 1) * sizeof(*v));
	if (!v)
		return -1;
	f->ranges = v;
	struct range *r = &v[f->n_ranges];
	r->from = floor_div(from, f->len) * f->len;
	r->to = floor_div(to + f->len - 1, f->len) * f->len;
	/* requests older than the histograms kept are gone: start later */
	if (f->open_w != INT64_MIN) {
		int64_t oldest = (f->open_w - FD_FIGURES_PAST + 1) * f->len;
		if (r->from < oldest)
			r->from = oldest;
	}
	if (r->to < r->from)
		r->to = r->from;
	if (!(r->h = calloc(f->n_subjects, sizeof(*r->h))))
		return -1;
	if (f->open_w != INT64_MIN)
		for (int64_t w = floor_div(r->from, f->len); w * f->len < r->to && w <= f->open_w; w++)
			if (w > f->open_w - FD_FIGURES_PAST)
				for (size_t s = 0; s < f->n_subjects; s++)
					hist_merge(&r->h[s], recent(f, s, w));
	return (int)f->n_ranges++;
}

void fd_figures_range_result(const struct fd_figures *f, int id, size_t subject,
			     struct fd_range_figures *out)
{
	memset(out, 0, sizeof(*out));
	if (id < 0 || (size_t)id >= f->n_ranges || subject >= f->n_subjects)
		return;
	const struct range *r = &f->ranges[id];
	const struct hist *h = &r->h[subject];
	out->from = r->from;
	int64_t closed = f->closed_w == INT64_MIN ? r->from : f->closed_w * f->len;
	out->to = closed < r->to ? (closed > r->from ? closed : r->from) : r->to;
	out->requests = h->n;
	out->errors = h->errors;
	out->p50 = quantile(h, 0.50);
	out->p95 = quantile(h, 0.95);
	if (out->to > out->from)
		out->throughput = (double)h->n / ((double)(out->to - out->from) / 1e9);
	out->error_rate = h->n ? (double)h->errors / (double)h->n : 0;
}
