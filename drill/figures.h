/*
 * The figures of a drill's charts: for each subject (an entry endpoint), the
 * requests that started in each window of fixed length (10 s) — how many, how
 * many failed, their p50 and p95 — and the same over longer ranges (the
 * minutes before and after an action was taken).
 *
 * Memory is bounded whatever the drill's length: a closed window keeps only
 * its summary, in a ring of the last `keep`; the last few windows also keep a
 * latency histogram (5% resolution from 1 us to about 1000 s), so a range
 * opened up to FD_FIGURES_PAST windows in the past still sees every request.
 *
 * Requests must come in non-decreasing start time, as a simulation or a
 * time-ordered recording gives them (a request older than the open windows is
 * dropped and counted in fd_figures_late). Not thread-safe: the caller locks.
 */
#ifndef FD_DRILL_FIGURES_H
#define FD_DRILL_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many windows back a range may start. */
#define FD_FIGURES_PAST 32

struct fd_figures;

/* One closed window of one subject. Latencies in seconds; p50 and p95 are 0
 * when no request started in it. */
struct fd_window {
	int64_t start; /* unix ns, a multiple of the window length */
	uint64_t requests, errors;
	double p50, p95;
};

/* Figures over a range (fd_figures_range_result). */
struct fd_range_figures {
	int64_t from, to;  /* what was covered: to may be short of the range's end */
	uint64_t requests, errors;
	double p50, p95;   /* s; 0 without requests */
	double throughput; /* requests/s over the covered time */
	double error_rate; /* errors / requests; 0 without requests */
};

/* n_subjects >= 1, window_ns > 0, keep >= 1. NULL when out of memory. */
struct fd_figures *fd_figures_create(size_t n_subjects, int64_t window_ns, size_t keep);
void fd_figures_destroy(struct fd_figures *f); /* accepts NULL */

/* One request of subject that started at t and took duration_ns. */
void fd_figures_add(struct fd_figures *f, size_t subject, int64_t t, int64_t duration_ns,
		    bool error);

/* Closes every window that ends at or before t: no request can start in it
 * any more. */
void fd_figures_close_until(struct fd_figures *f, int64_t t);

/* How many closed windows are kept (the same for every subject), and the
 * i-th of subject, oldest first (i < count). Windows are contiguous: window
 * i + 1 starts one window length after window i. The pointer is valid until
 * the next add or close. */
size_t fd_figures_count(const struct fd_figures *f);
const struct fd_window *fd_figures_window(const struct fd_figures *f, size_t subject, size_t i);

int64_t fd_figures_window_ns(const struct fd_figures *f);
uint64_t fd_figures_late(const struct fd_figures *f);

/* Opens a range [from, to) (rounded out to whole windows) over every
 * subject; returns its id (>= 0), or -1 when out of memory. from may lie up to
 * FD_FIGURES_PAST windows before the newest window seen; older requests
 * are no longer known, and the range starts later (its result says where). */
int fd_figures_range_open(struct fd_figures *f, int64_t from, int64_t to);

/* The figures of range id for subject, covering what is closed so far. */
void fd_figures_range_result(const struct fd_figures *f, int id, size_t subject,
			     struct fd_range_figures *out);

#endif
