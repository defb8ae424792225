/*
 * Helpers shared by the unit tests: scratch directories, whole-file I/O,
 * in-memory FILEs, owned copies of records, and running a program.
 */
#ifndef FD_TESTUTIL_H
#define FD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stream/record.h"

/* A clock for an fd_clock (replay/pace.h) that reads no wall time:
 * every look finds `extra` ns more gone (a slow sink, a slow simulation);
 * sleeping jumps to the wake-up time and is counted. Use as
 * {tu_clock_now, tu_clock_sleep_until, &c}. */
struct tu_clock {
	int64_t now;
	int64_t sleeps;
	int64_t extra;
};
int64_t tu_clock_now(void *ctx);
void tu_clock_sleep_until(void *ctx, int64_t t);

/* A fresh directory under $TMPDIR (or /tmp); NULL on failure. */
char *tu_mkdtemp(void);
/* Removes path and, for a directory, everything below it. */
void tu_rmtree(const char *path);

/* cmocka setup/teardown: *state is a struct tu_dir_fixture with a fresh
 * temporary directory, removed with everything in it afterwards. */
struct tu_dir_fixture {
	char *dir;
};
int tu_dir_setup(void **state);
int tu_dir_teardown(void **state);
/* dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);
/* Number of entries in dir (without . and ..) whose name starts with prefix. */
int tu_count_entries(const char *dir, const char *prefix);

bool tu_exists(const char *path);
/* The whole file, malloc'd (at least 1 byte allocated); NULL on failure. */
uint8_t *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *data, size_t len);
/* A read-only stream over data[0..len) (fmemopen; tmpfile when that fails).
 * data must outlive the stream. */
FILE *tu_memfile(const uint8_t *data, size_t len);

/* An owned copy of a record. */
struct tu_rec {
	int64_t time_ns;
	enum fd_signal signal;
	uint8_t *resource, *scope, *payload;
	size_t resource_len, scope_len, payload_len;
};

struct tu_recs {
	struct tu_rec *v;
	size_t n, cap;
};

void tu_recs_add(struct tu_recs *rs, const struct fd_record *rec);
void tu_recs_free(struct tu_recs *rs);
/* NULL when equal, else what differs (a static string). */
const char *tu_rec_diff(const struct tu_rec *want, const struct fd_record *got);
const char *tu_rec_diff2(const struct tu_rec *want, const struct tu_rec *got);

/* Runs argv[0] (searched in PATH) with stdin from in_path (NULL: /dev/null),
 * stdout and stderr captured into malloc'd NUL-terminated strings (either
 * pointer may be NULL to discard). Returns the exit status, 128+signal when
 * killed, or -1 when it could not be started. */
int tu_run(char *const argv[], const char *in_path, char **out, char **err);

/* Count of occurrences of needle in hay. */
size_t tu_memcount(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n);

#endif
