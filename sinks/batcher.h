/*
 * When records become export requests: the batch policy the dir:, stdout:
 * and kafka:// sinks share. Internal to sinks/.
 *
 * Each signal has its own requests. A request is cut before a record that
 * would take it over `bytes` (its exact encoded size, otlp/batch.h; a
 * request is larger only when one record alone is) or whose time is more
 * than `window` after the request's oldest record; and when it holds
 * `records` records. flush sends out what is pending, oldest request
 * first, so that a stream on one output stays in time order.
 *
 * Keyed records (a Kafka message key: a trace id, a resource hash) go
 * together by key: they are held, up to `records` records or `bytes` of
 * payload or `window` of record time, then sorted by key (arrival order
 * within a key) and cut into requests of one key each, by the same limits.
 *
 * The sink turns a request into output in its emit callback, which may
 * answer FD_BATCHER_SPLIT when the request came out too large in its own
 * encoding (OTLP JSON can be larger than the protobuf the size counts):
 * the request is then sent again as two halves, and so on down to single
 * records, which go as they are.
 */
#ifndef FD_SINK_BATCHER_H
#define FD_SINK_BATCHER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/batch.h"
#include "stream/record.h"

#define FD_BATCHER_SPLIT 1

struct fd_batcher_limits {
	size_t records; /* >= 1 */
	size_t bytes;   /* >= 1 */
	int64_t window; /* ns of record time */
};

/* One request: b holds its records, all of signal sig and, when keylen is
 * not 0, of that key. Returns 0, a negative error (which the batcher
 * returns), or FD_BATCHER_SPLIT (only when b holds more than one record). */
typedef int (*fd_batcher_emit_fn)(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b,
				  const uint8_t *key, size_t keylen, struct fd_error *err);

struct fd_batcher;

/* batch_records=N, batch_bytes=SIZE (at most max_bytes), batch_window=D
 * into l: returns 1 when key is one of them, 0 when not, -FD_EINPUT for a
 * bad value (the message names uri). */
int fd_batcher_option(struct fd_batcher_limits *l, const char *uri, const char *key,
		      const char *val, int64_t max_bytes, struct fd_error *err);

/* NULL when out of memory. */
struct fd_batcher *fd_batcher_create(const struct fd_batcher_limits *limits,
				     fd_batcher_emit_fn emit, void *ctx);
void fd_batcher_destroy(struct fd_batcher *b); /* accepts NULL */

/* Takes a copy of rec, with its key (keylen <= 16; 0: none); emits the
 * requests this completes. Errors: FD_ERUNTIME out of memory, or emit's. */
int fd_batcher_add(struct fd_batcher *b, const struct fd_record *rec, const uint8_t *key,
		   size_t keylen, struct fd_error *err);

/* Keeps *queued equal to the payload bytes held, not yet emitted (a sink's
 * live queued_bytes); NULL stops it. */
void fd_batcher_publish(struct fd_batcher *b, _Atomic int64_t *queued);
/* Emits everything pending, oldest request first. */
int fd_batcher_flush(struct fd_batcher *b, struct fd_error *err);

#endif
