/*
 * drill/figures: windows, their ring, late requests, ranges seeded from the
 * past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drill/figures.h"

#define NS 1000000000LL
#define MS 1000000LL
#define W (10 * NS)

static void near(double got, double want, double rel)
{
	if (got < want * (1 - rel) || got > want * (1 + rel))
		fail_msg("got %g, want %g (within %.0f%%)", got, want, rel * 100);
}

static void test_windows(void **state)
{
	(void)state;
	struct fd_figures *f = fd_figures_create(2, W, 4);
	assert_non_null(f);
	assert_int_equal(fd_figures_window_ns(f), W);
	int64_t t0 = 1000 * W;
	/* window 0: 100 requests of subject 0, 1..100 ms, 5 errors */
	for (int i = 1; i <= 100; i++)
		fd_figures_add(f, 0, t0 + i * MS, i * MS, i % 20 == 0);
	fd_figures_add(f, 1, t0 + 5 * NS, 2 * NS, false);
	assert_int_equal(fd_figures_count(f), 0); /* nothing closed yet */
	fd_figures_close_until(f, t0 + W);
	assert_int_equal(fd_figures_count(f), 1);
	const struct fd_window *w = fd_figures_window(f, 0, 0);
	assert_int_equal(w->start, t0);
	assert_int_equal(w->requests, 100);
	assert_int_equal(w->errors, 5);
	near(w->p50, 0.050, 0.05);
	near(w->p95, 0.095, 0.05);
	w = fd_figures_window(f, 1, 0);
	assert_int_equal(w->requests, 1);
	near(w->p95, 2.0, 0.05);
	/* an empty window in between, then 7 windows: the ring keeps 4 */
	fd_figures_add(f, 0, t0 + 2 * W + 1, 300 * MS, false);
	fd_figures_close_until(f, t0 + 8 * W);
	assert_int_equal(fd_figures_count(f), 4);
	assert_int_equal(fd_figures_window(f, 0, 0)->start, t0 + 4 * W);
	assert_int_equal(fd_figures_window(f, 0, 3)->start, t0 + 7 * W);
	assert_int_equal(fd_figures_window(f, 0, 3)->requests, 0);
	assert_null(fd_figures_window(f, 0, 4));
	assert_null(fd_figures_window(f, 2, 0));
	/* a request in a closed window is late */
	fd_figures_add(f, 0, t0 + 7 * W, MS, false);
	assert_int_equal(fd_figures_late(f), 1);
	fd_figures_destroy(f);
	fd_figures_destroy(NULL);
	assert_null(fd_figures_create(0, W, 4));
	assert_null(fd_figures_create(1, 0, 4));
}

static void test_ranges(void **state)
{
	(void)state;
	struct fd_figures *f = fd_figures_create(1, W, 100);
	int64_t t0 = 500 * W;
	/* 30 windows at 100 ms, then 30 at 1 s */
	for (int k = 0; k < 60; k++) {
		for (int i = 0; i < 10; i++)
			fd_figures_add(f, 0, t0 + k * W + i * NS, k < 30 ? 100 * MS : NS, k >= 30 && i == 0);
		fd_figures_close_until(f, t0 + (k + 1) * W);
		if (k == 40) {
			/* "before": 10 windows back; "after": ahead */
			int before = fd_figures_range_open(f, t0 + 25 * W, t0 + 35 * W);
			int after = fd_figures_range_open(f, t0 + 50 * W + 3, t0 + 70 * W);
			assert_int_equal(before, 0);
			assert_int_equal(after, 1);
		}
	}
	struct fd_range_figures r;
	fd_figures_range_result(f, 0, 0, &r);
	assert_int_equal(r.from, t0 + 25 * W);
	assert_int_equal(r.to, t0 + 35 * W);
	assert_int_equal(r.requests, 100);
	assert_int_equal(r.errors, 5);
	near(r.p50, 0.1, 0.05);
	near(r.p95, 1.0, 0.05);
	near(r.throughput, 1.0, 1e-9);
	near(r.error_rate, 0.05, 1e-9);
	/* the after range: rounded out to whole windows, cut at what is closed */
	fd_figures_range_result(f, 1, 0, &r);
	assert_int_equal(r.from, t0 + 50 * W);
	assert_int_equal(r.to, t0 + 60 * W);
	assert_int_equal(r.requests, 100);
	near(r.p50, 1.0, 0.05);
	/* too far back: starts where the histograms kept begin */
	int old = fd_figures_range_open(f, t0, t0 + 60 * W);
	fd_figures_range_result(f, old, 0, &r);
	assert_int_equal(r.from, t0 + (60 - FD_FIGURES_PAST) * W);
	assert_int_equal(r.requests, FD_FIGURES_PAST * 10);
	/* unknown ranges and subjects are empty */
	fd_figures_range_result(f, 7, 0, &r);
	assert_int_equal(r.requests, 0);
	fd_figures_range_result(f, 0, 3, &r);
	assert_int_equal(r.requests, 0);
	fd_figures_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
