/*
 * Reading a recording (.fdr): see docs/recording-format.md.
 *
 * The reader streams one block at a time: memory is one block (at most
 * 64 MiB raw by the format's rules, ~1 MiB as written by firedrill) plus the
 * resource dictionary, whatever the file's size.
 *
 * Broken input never crashes it. Three outcomes are distinguished:
 *  - a clean file: every record, then end of stream;
 *  - a file cut short (a crash, a full disk): every complete block is
 *    yielded, then end of stream, and fd_recording_reader_stats() reports
 *    cut_short with the byte offset where the usable data ends;
 *  - a corrupt block (checksum mismatch, undecodable data): next() fails
 *    with FD_EINPUT and a message naming the block number and its byte
 *    offset; records before it were yielded.
 */
#ifndef FD_RECORDING_READER_H
#define FD_RECORDING_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "firedrill/v1/firedrill.pb-c.h"
#include "stream/record.h"

struct fd_recording_reader;

/* What has been read so far (after the last next(), everything). */
struct fd_recording_stats {
	uint64_t blocks;           /* complete blocks read, of any type */
	uint64_t record_blocks;
	uint64_t records[FD_SIGNAL_COUNT];
	uint64_t payload_bytes[FD_SIGNAL_COUNT];
	uint64_t raw_bytes;        /* decompressed bytes of record blocks */
	uint64_t stored_bytes;     /* compressed bytes of record blocks */
	int64_t first_time, last_time; /* valid when a record was read */
	bool cut_short;            /* the file ends before its footer */
	uint64_t cut_offset;       /* where the complete data ends, when cut_short */
	char cut_reason[160];      /* why the rest is unusable, when cut_short */
};

/* Opens and checks the file header, then looks for the footer index.
 * Errors: FD_EINPUT when the file is not a recording, has an unsupported
 * major version, or its header is cut short or corrupt; FD_ERUNTIME when it
 * cannot be opened. */
int fd_recording_reader_open(const char *path, struct fd_recording_reader **out,
			     struct fd_error *err);

/* Same, on an open stream (a pipe is not enough: it must be seekable). The
 * reader takes ownership of f and closes it. name is used in messages. */
int fd_recording_reader_open_file(FILE *f, const char *name, struct fd_recording_reader **out,
				  struct fd_error *err);

/* The metadata written at the start. Never NULL after a successful open. */
const Firedrill__V1__RecordingHeader *fd_recording_reader_header(const struct fd_recording_reader *r);
void fd_recording_reader_version(const struct fd_recording_reader *r, unsigned *major,
				 unsigned *minor);
/* Whether the file's version lets records carry capture_ns (1.1): what a
 * program copying records asks its writer for, so that none is lost. */
bool fd_recording_reader_capture_times(const struct fd_recording_reader *r);
uint64_t fd_recording_reader_file_size(const struct fd_recording_reader *r);

/* The footer index with the recording's summary, or NULL when the file has
 * none (cut short before it was written). */
const Firedrill__V1__BlockIndex *fd_recording_reader_index(const struct fd_recording_reader *r);

/* Yields the next record: returns 1 and fills *rec (valid until the next call
 * to next, seek or destroy; rec->resource and rec->scope until destroy),
 * 0 at the end, or a negative error. */
int fd_recording_reader_next(struct fd_recording_reader *r, struct fd_record *rec,
			     struct fd_error *err);

/* Positions the stream so that the next record is the first with time >=
 * time_ns, using the index to jump to the first block that can hold it
 * (without an index it reads forward from the start). Exact for time-ordered
 * recordings, which is what firedrill writes. */
int fd_recording_reader_seek(struct fd_recording_reader *r, int64_t time_ns, struct fd_error *err);

const struct fd_recording_stats *fd_recording_reader_stats(const struct fd_recording_reader *r);

void fd_recording_reader_destroy(struct fd_recording_reader *r);

#endif
