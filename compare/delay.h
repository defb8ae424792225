/*
 * How late matched records came out of a pipeline: each received record's
 * capture time minus a reference — the sent record's capture time when
 * the sent recording has one (both ends recorded: the delay through the
 * pipeline), else the sent record's own time (its age when it came out).
 * compare keeps the exact values per (service, signal), 8 bytes per
 * measured record, so that the percentiles are exact.
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

/* The summary of v[0..n), sorting it in place; zeros when n is 0 (v may
 * then be NULL). */
void fd_compare_delay_of(int64_t *v, size_t n, struct fd_compare_delay *out);

#endif
