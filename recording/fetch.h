/*
 * Fetch-ahead for the recording reader (issue 17): a thread reads the
 * blocks after the one being yielded — header, stored bytes, checksum,
 * zstd — so that decompression, two thirds of a replay's reading, runs
 * beside the decoding of records instead of before it.
 *
 * The thread only does work the reader would do itself, in file order from
 * where the reader asks, and gives up at anything unusual: a short read, a
 * header that does not decode, a block past the end of the data, the index
 * block, a block too large to hold twice. The reader then reads that block
 * itself, so every error and every cut-short file is reported exactly as
 * without the thread. Internal to recording/.
 *
 * Memory: FD_FETCH_SLOTS blocks of at most FD_FETCH_MAX_BYTES (stored and
 * raw bytes together) beside the reader's own.
 */
#ifndef FD_RECORDING_FETCH_H
#define FD_RECORDING_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recording/format.h"

#define FD_FETCH_SLOTS 2
#define FD_FETCH_MAX_BYTES (16u << 20)

struct fd_fetched {
	uint64_t off;
	bool gave_up; /* nothing below is valid: read this block yourself */
	bool oom;     /* given up for want of memory: the reader reports it */
	uint8_t header[FDR_BLOCK_HEADER_LEN];
	/* The checksum, the frame's size and the decompression all agree
	 * with the header, and raw holds the header's raw_len bytes. When
	 * false the block is damaged and the reader finds out how. */
	bool data_ok;
	uint8_t *raw; /* owned by the slot; the reader may swap it for a buffer of its own */
	size_t raw_cap;
};

struct fd_fetch;

/* Starts the thread, idle until the first get, reading fd (with pread: the
 * caller may go on reading fd itself) up to data_end. NULL when out of
 * memory or no thread can start. */
struct fd_fetch *fd_fetch_create(int fd, uint64_t data_end);

/* The block at off, waiting for the thread to read it; the thread is
 * restarted at off when it is elsewhere. The slot is the caller's until
 * fd_fetch_release. */
struct fd_fetched *fd_fetch_get(struct fd_fetch *f, uint64_t off);
void fd_fetch_release(struct fd_fetch *f);

/* Stops the thread and frees everything. Accepts NULL. */
void fd_fetch_destroy(struct fd_fetch *f);

#endif
