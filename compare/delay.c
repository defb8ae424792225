#include "compare/delay.h"

#include <stdlib.h>
#include <string.h>

#include "common/grow.h"

int fd_delay_log_add(struct fd_delay_log *log, size_t key, int64_t ns)
{
	if (key >= log->n_keys) {
		size_t n = key + 1;
		struct fd_delay_values *k = realloc(log->keys, n * sizeof(*k));
		if (!k)
			return -1;
		memset(k + log->n_keys, 0, (n - log->n_keys) * sizeof(*k));
		log->keys = k;
		log->n_keys = n;
	}
	struct fd_delay_values *d = &log->keys[key];
	if (!fd_grow((void **)&d->v, &d->cap, d->n, sizeof(*d->v)))
		return -1;
	d->v[d->n++] = ns;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the ceil(p% of n)-th smallest. */
static int64_t rank(const int64_t *v, size_t n, unsigned pct)
{
	size_t r = (n * pct + 99) / 100;
	return v[r ? r - 1 : 0];
}

static void summarize(int64_t *v, size_t n, struct fd_compare_delay *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	out->measured = n;
	out->p50 = rank(v, n, 50);
	out->p99 = rank(v, n, 99);
	out->max = v[n - 1];
}

void fd_delay_log_summary(struct fd_delay_log *log, size_t key, struct fd_compare_delay *out)
{
	if (key >= log->n_keys) {
		memset(out, 0, sizeof(*out));
		return;
	}
	summarize(log->keys[key].v, log->keys[key].n, out);
}

int fd_delay_log_summary_every(const struct fd_delay_log *log, size_t stride, size_t rem,
			       struct fd_compare_delay *out)
{
	size_t n = 0;
	for (size_t k = rem; k < log->n_keys; k += stride)
		n += log->keys[k].n;
	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	int64_t *all = malloc(n * sizeof(*all));
	if (!all)
		return -1;
	size_t i = 0;
	for (size_t k = rem; k < log->n_keys; k += stride) {
		if (log->keys[k].n) /* an empty key may have no array */
			memcpy(all + i, log->keys[k].v, log->keys[k].n * sizeof(*all));
		i += log->keys[k].n;
	}
	summarize(all, n, out);
	free(all);
	return 0;
}

void fd_delay_log_finish(struct fd_delay_log *log)
{
	for (size_t k = 0; k < log->n_keys; k++)
		free(log->keys[k].v);
	free(log->keys);
	memset(log, 0, sizeof(*log));
}
