#include "compare/delay.h"

#include <stdlib.h>
#include <string.h>

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

void fd_compare_delay_of(int64_t *v, size_t n, struct fd_compare_delay *out)
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
