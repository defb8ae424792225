/*
 * Writing a recording (.fdr): see docs/recording-format.md.
 *
 * The writer streams: records are appended to a block buffer that is
 * compressed and written when it reaches the block size, so memory is one
 * block plus the resource dictionary, whatever the recording's length.
 *
 * Output goes to a temporary file beside the destination ("OUT.fdr.tmp-" and six random characters)
 * which fd_recording_writer_finish renames into place; destroying a writer
 * that was not finished removes it, so a failed run never leaves a partial
 * recording under the requested name.
 */
#ifndef FD_RECORDING_WRITER_H
#define FD_RECORDING_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "firedrill/v1/firedrill.pb-c.h"
#include "stream/record.h"

struct fd_recording_writer;

struct fd_recording_writer_options {
	size_t block_size; /* raw bytes per record block; 0 = default (1 MiB) */
	int zstd_level;    /* 0 = default (1, the fastest); 3 is 8-11% smaller, 19 smaller still */
	bool single_thread; /* compress on the caller's thread (default: a
			       second thread, one block behind; same bytes) */
	/* Room for the header to grow, in bytes: the header is padded to its
	 * size plus this (RecordingHeader.padding), so that
	 * fd_recording_writer_set_header can rewrite it at close. 0: none. */
	size_t header_reserve;
	/* Keep each record's capture_ns (when not 0): the file becomes
	 * version 1.1, which 1.0 readers refuse. Without it capture_ns is
	 * ignored and the file is what it always was. */
	bool capture_times;
};

/* header: metadata written at the start (borrowed; copied into the file
 * immediately). opts may be NULL. Errors: FD_ERUNTIME when the temporary
 * file cannot be created or written. */
int fd_recording_writer_create(const char *path, const Firedrill__V1__RecordingHeader *header,
			       const struct fd_recording_writer_options *opts,
			       struct fd_recording_writer **out, struct fd_error *err);

/* Appends one record; the writer copies what it needs. Records should come in
 * time order; a record older than its predecessor is kept (block time ranges
 * stay exact) but seeking is only precise for ordered data. */
int fd_recording_writer_add(struct fd_recording_writer *w, const struct fd_record *rec,
			    struct fd_error *err);

/* Adds an answer-key figure measured from the data, stored in the footer's
 * summary. Copies the strings. */
int fd_recording_writer_add_figure(struct fd_recording_writer *w, const Firedrill__V1__Figure *fig,
				   struct fd_error *err);

/* Replaces the header written at create, in place, when the file is
 * finished (for metadata known only at the end: the Kafka offsets a capture
 * read). The new header must fit in the space create reserved; the padding
 * absorbs the difference, so no other byte of the file moves. Copies what
 * it needs. Errors: FD_EINPUT when it does not fit (the old header stays). */
int fd_recording_writer_set_header(struct fd_recording_writer *w,
				   const Firedrill__V1__RecordingHeader *header, struct fd_error *err);

/* Writes the last block and the footer index, syncs, and renames the file
 * into place. After it (successful or not) only destroy may be called. */
int fd_recording_writer_finish(struct fd_recording_writer *w, struct fd_error *err);

/* Frees the writer; removes the temporary file unless finish succeeded.
 * Accepts NULL. */
void fd_recording_writer_destroy(struct fd_recording_writer *w);

/* Records and payload bytes so far, per signal. */
uint64_t fd_recording_writer_records(const struct fd_recording_writer *w, enum fd_signal s);

#endif
