/*
 * Putting captured records in time order within a bounded window.
 *
 * Telemetry arrives roughly in time order: an SDK exports a batch every few
 * seconds, a collector batches again, Kafka partitions interleave. A
 * recording must be ordered (its blocks are seeked by time), so records are
 * held in a min-heap until the newest time seen is `window` past them, then
 * released oldest first. Memory is what arrives within one window (and at
 * most max_bytes of payload: past that the oldest are released early).
 *
 * With several input streams (files read side by side, Kafka partitions)
 * the newest time seen is not enough: one stream may be far ahead of
 * another (a metrics file whose next request is 15 s on). The caller then
 * sets a watermark, the time every stream has reached, and records are due
 * only a window behind the older of the two.
 *
 * A record older than one already released cannot be put in its place: it
 * is released at once, out of order (the recording keeps it; its block's
 * time range covers it), and counted as late with how late it was.
 */
#ifndef FD_REORDER_H
#define FD_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/decode.h"
#include "stream/record.h"

struct fd_reorder;

struct fd_reorder_stats {
	uint64_t late;      /* records released after a newer one */
	int64_t max_late;   /* the most a late record was behind, ns */
	uint64_t forced;    /* records released early because of max_bytes */
	size_t held, max_held;
};

/* window_ns >= 0 (0: no reordering); max_bytes 0 = default (256 MiB).
 * Returns NULL when out of memory. */
struct fd_reorder *fd_reorder_create(int64_t window_ns, size_t max_bytes);
/* Frees held records without releasing them. Accepts NULL. */
void fd_reorder_destroy(struct fd_reorder *r);

/* Takes a copy of the record's payload (resource and scope are kept as
 * pointers: they must outlive the buffer), then releases, through fn,
 * every record that is now due. Returns 0 or fn's error. */
int fd_reorder_add(struct fd_reorder *r, const struct fd_record *rec, fd_otlp_record_fn fn,
		   void *ctx, struct fd_error *err);

/* Limits releases to records at least a window older than wm (see above);
 * INT64_MAX: no limit (the default). */
void fd_reorder_set_watermark(struct fd_reorder *r, int64_t wm);

/* Releases every held record in time order (at the end of a capture). */
int fd_reorder_flush(struct fd_reorder *r, fd_otlp_record_fn fn, void *ctx, struct fd_error *err);

const struct fd_reorder_stats *fd_reorder_stats(const struct fd_reorder *r);

#endif
