/*
 * How late matched records came out of a pipeline: each received record's
 * capture time minus a reference — the sent record's capture time when
 * the sent recording has one (both ends recorded: the delay through the
 * pipeline), else the sent record's own time (its age when it came out).
 * Kept as exact values per (service, signal) so that the percentiles are
 * exact: 8 bytes per measured record.
 */
#ifndef FD_COMPARE_DELAY_H
#define FD_COMPARE_DELAY_H

#include <stddef.h>
#include <stdint.h>

/* Nearest-rank percentiles (the smallest value with at least that share
 * of the values at or below it) of the measured delays, in ns. */
struct fd_compare_delay {
	uint64_t measured; /* matched records with a capture time */
	int64_t p50, p99, max;
};

struct fd_delay_log {
	struct fd_delay_values {
		int64_t *v;
		size_t n, cap;
	} *keys;
	size_t n_keys;
};

/* Appends a delay under key (grows to it). -1 when out of memory. */
int fd_delay_log_add(struct fd_delay_log *log, size_t key, int64_t ns);

/* The summary of key's values (sorting them in place); zeros when none. */
void fd_delay_log_summary(struct fd_delay_log *log, size_t key, struct fd_compare_delay *out);

/* The summary of the keys k with k % stride == rem together (one signal
 * over every service). -1 when out of memory. */
int fd_delay_log_summary_every(const struct fd_delay_log *log, size_t stride, size_t rem,
			       struct fd_compare_delay *out);

void fd_delay_log_finish(struct fd_delay_log *log);

#endif
