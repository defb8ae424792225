/*
 * A capture: a source's messages decoded into records, put in time order
 * and written to a recording — the engine of `firedrill record`.
 *
 * Malformed messages (not an export request, a request of the wrong
 * signal, a broken frame) are counted, reported through the malformed
 * callback with their place (topic/partition@offset, file:line) and
 * skipped; the capture goes on. Only the output failing (a full disk) or
 * the input becoming unreadable stops it with an error.
 *
 * The recording header names the source (RecordSource: URI, brokers,
 * topics, files, and at the end the offset range read from each partition
 * and the counts); the header is rewritten in place when the capture ends,
 * in room reserved at the start (fd_recording_writer_set_header).
 */
#ifndef FD_CAPTURE_H
#define FD_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"
#include "sources/source.h"

enum fd_capture_end {
	FD_CAPTURE_END_OF_INPUT, /* files read to the end */
	FD_CAPTURE_MAX_RECORDS,
	FD_CAPTURE_DURATION,
	FD_CAPTURE_IDLE,
	FD_CAPTURE_STOPPED, /* *stop was set (SIGINT) */
};

struct fd_capture_stats {
	uint64_t messages, bytes; /* messages read and their bytes */
	uint64_t malformed;
	uint64_t records[FD_SIGNAL_COUNT]; /* records written */
	uint64_t payload_bytes[FD_SIGNAL_COUNT];
	uint64_t late;     /* written out of order: later than the window */
	int64_t max_late;  /* ns */
	uint32_t resources;
	enum fd_capture_end end;
};

struct fd_capture_options {
	int64_t window_ns;     /* reorder window; 0: none */
	uint64_t max_records;  /* stop after this many records; 0: no limit */
	int64_t duration_ns;   /* stop after this much wall-clock time; 0: none */
	int64_t idle_ns;       /* stop when nothing arrives for this long; 0: never */
	volatile sig_atomic_t *stop;    /* set (by a signal handler) to stop cleanly; may be NULL */
	const char *generator; /* RecordingHeader.generator ("firedrill 0.1.0") */
	/* Each malformed message, as it is skipped; may be NULL. */
	void (*malformed)(void *ctx, const char *where, const char *why);
	/* About twice a second; may be NULL. */
	void (*progress)(void *ctx, const struct fd_capture_stats *st);
	void *ctx;
};

/* Reads src until a stop condition and writes the recording at path (a
 * temporary file renamed into place at the end: an error leaves nothing
 * under path). *st is filled in on success and on error.
 * Errors: FD_ERUNTIME when the recording cannot be written or the source
 * fails; FD_EINPUT for a bad option. */
int fd_capture_run(struct fd_source *src, const char *path, const struct fd_capture_options *o,
		   struct fd_capture_stats *st, struct fd_error *err);

#endif
