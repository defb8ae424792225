/*
 * Errors as values.
 *
 * Library modules never print and never exit: they return 0 on success or a
 * negative code, and describe the failure in a caller-owned struct fd_error.
 * Only the CLI turns an error into a message on stderr and an exit status:
 * FD_EINPUT (the user gave us something wrong: a scenario, a recording, a URI,
 * an option) exits 2; FD_ERUNTIME (the world failed: I/O, broker, delivery)
 * exits 1.
 *
 * The message names the place: "file:line:col: ..." for scenarios, "block N at
 * byte offset X: ..." for recordings, "topic/partition/offset" for Kafka.
 */
#ifndef FD_ERROR_H
#define FD_ERROR_H

#include <stddef.h>

/* A place in a text file (a scenario, a rules file) that an error names. */
struct fd_pos {
	int line; /* 1-based */
	int col;  /* 1-based */
};

enum fd_error_code {
	FD_OK = 0,
	FD_EINPUT = 2,   /* bad input or usage: exit status 2 */
	FD_ERUNTIME = 1, /* runtime failure: exit status 1 */
};

struct fd_error {
	int code;       /* enum fd_error_code, 0 when no error is recorded */
	char msg[1024];
};

/* Records an error and returns -code, so callers can write
 *   return fd_error_set(err, FD_EINPUT, "bad thing %d", n);
 * err may be NULL (the message is then dropped). */
int fd_error_set(struct fd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an already recorded message (adds context on the
 * way up: the file name, the block number). Returns -err->code. */
int fd_error_prefix(struct fd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void fd_error_clear(struct fd_error *err);

#endif
