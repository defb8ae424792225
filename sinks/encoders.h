/*
 * Encoding on worker threads, written out in order: the dir: and stdout:
 * formats that cost more to encode than to read (OTLP/JSON, ECS, text) hand
 * runs of records to workers and write what comes back in the order the
 * records came, so the output is byte for byte that of one thread. Internal
 * to sinks/.
 *
 * Records go into a job as units: a unit is what the format encodes at once
 * (one record for a line format, one export request's records for
 * OTLP/JSON). A job goes to a worker once it holds JOB_UNITS units or
 * JOB_BYTES of payload, and on drain. Payloads are copied; the resource and
 * scope blobs are the source's, which stay valid while the sink holds
 * records (stream/record.h), as for the batcher.
 *
 * Every finished job at the head of the queue is handed to the commit
 * callback, on the sink's own thread, line by line (or run by run, see
 * runs): from add when it does not have to wait, and from drain, which
 * waits for them all. A unit that
 * fails to encode ends its job: the lines before it are committed, then
 * the error is returned (by add or drain), and every call after returns it
 * again.
 */
#ifndef FD_SINK_ENCODERS_H
#define FD_SINK_ENCODERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/pbwrite.h"
#include "stream/record.h"

/* A worker's output: lines appended to bytes, each closed by
 * fd_encoded_line (which records its end and signal). */
struct fd_encoded {
	struct pbw bytes;
	struct fd_encoded_line *lines;
	size_t n_lines, cap_lines;
};

struct fd_encoded_line {
	size_t end; /* in bytes: the line is from the previous line's end */
	enum fd_signal signal;
};

/* Closes the line appended since the last one, for signal sig. Returns 0,
 * or -1 when out of memory. */
int fd_encoded_line(struct fd_encoded *out, enum fd_signal sig);

struct fd_encoders_config {
	unsigned threads; /* workers, >= 1 */
	/* Makes one worker's own encoding state (NULL: out of memory), and
	 * frees it; called on the sink's thread. */
	void *(*worker_create)(void *ctx);
	void (*worker_destroy)(void *worker);
	/* Encodes a unit of n records into out as lines, on a worker thread.
	 * Returns 0, or a negative error with err set. */
	int (*encode)(void *worker, const struct fd_record *recs, size_t n, struct fd_encoded *out,
		      struct fd_error *err);
	/* Takes one line, on the sink's thread, in the order of the units. */
	int (*commit)(void *ctx, enum fd_signal sig, const uint8_t *line, size_t n,
		      struct fd_error *err);
	/* commit may take a run of consecutive lines of one signal at once,
	 * for a sink that writes lines as they are, wherever one ends */
	bool runs;
	void *ctx;
};

struct fd_encoders;

/* NULL when out of memory or a thread cannot start. */
struct fd_encoders *fd_encoders_create(const struct fd_encoders_config *c);
/* Stops the workers (a job being encoded is finished, the rest dropped)
 * and frees everything. Accepts NULL. */
void fd_encoders_destroy(struct fd_encoders *e);

/* Adds a copy of rec to the unit being gathered. */
int fd_encoders_record(struct fd_encoders *e, const struct fd_record *rec, struct fd_error *err);
/* Ends the unit being gathered (nothing when it is empty); may hand the
 * job to a worker and commit finished jobs. */
int fd_encoders_unit_end(struct fd_encoders *e, struct fd_error *err);
/* Hands on what is gathered, waits for every job and commits it. */
int fd_encoders_drain(struct fd_encoders *e, struct fd_error *err);

/* The number of workers a sink starts by default: one per CPU, at most 4,
 * and none on a single CPU, where a worker only adds hand-offs. */
unsigned fd_encoders_default_threads(void);

#endif
