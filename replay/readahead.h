/*
 * Read-ahead for replay (issue 17): a thread of its own reads the recording
 * — file reads, checksums, zstd decompression, the check of every record —
 * while the calling thread sends the records read before it to the sinks.
 * On two cores the reading then overlaps the encoding and sending instead
 * of taking turns with them.
 *
 * The thread copies the records into chunks of about 1 MiB (a record larger
 * than that gets a chunk of its own size) and the caller takes them in the
 * reader's order: records, then the end or the reader's error, so a damaged
 * block is reported after every record before it, as the reader itself
 * does. Memory: FD_READAHEAD_CHUNKS chunks, whatever the file's size.
 */
#ifndef FD_READAHEAD_H
#define FD_READAHEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "recording/reader.h"
#include "stream/record.h"

#define FD_READAHEAD_CHUNKS 4

struct fd_readahead;

/* What the caller will not send, dropped on the thread before it is copied:
 * a replay of one signal out of a recording of three would otherwise copy
 * every payload once more only to skip it. */
struct fd_readahead_filter {
	unsigned signals; /* bit 1 << signal for each one kept; 0 keeps every signal */
	bool has_until;
	int64_t until;    /* the stream ends at the first record at or after it */
};

/* Starts a thread that seeks r to the first record at or after from
 * (fd_recording_reader_seek) and reads on, keeping what filter keeps (NULL:
 * everything). r belongs to that thread until fd_readahead_stop: the caller
 * must not use it meanwhile. Errors: FD_ERUNTIME (out of memory, no
 * thread). */
int fd_readahead_start(struct fd_recording_reader *r, int64_t from,
		       const struct fd_readahead_filter *filter, struct fd_readahead **out,
		       struct fd_error *err);

/* The next record, as fd_recording_reader_next gives it: 1 and *rec (its
 * payload valid until the next call; resource and scope until the reader
 * is destroyed), 0 at the end, or the reader's error (seek or next), or
 * FD_ERUNTIME when the read-ahead ran out of memory. */
int fd_readahead_next(struct fd_readahead *ra, struct fd_record *rec, struct fd_error *err);

/* Records the filter dropped in the chunks fd_readahead_next has taken so
 * far: after it returned 0, every record it dropped. */
uint64_t fd_readahead_dropped(const struct fd_readahead *ra);

/* Stops the thread wherever it is (the caller may stop before the end)
 * and frees everything; the reader is the caller's again. Accepts NULL. */
void fd_readahead_stop(struct fd_readahead *ra);

#endif
