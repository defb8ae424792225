/*
 * Allocation-failure injection, in the manner of SQLite's malloc tests: run
 * an operation once per N, making its Nth allocation fail, until N is past
 * the last allocation it makes. Every run must return an error (never
 * crash) and free everything it allocated.
 *
 * The hooks replace malloc, calloc, realloc, strdup, strndup, free and
 * open_memstream at link time (ld --wrap), so they see every call made by
 * our own code and the test's, and none made inside shared libraries
 * (libc's own, librdkafka's, libprotobuf-c's default allocator). Only a
 * test executable linked with failalloc_dep (tests/meson.build) has them.
 *
 * The counters are shared by every thread; an operation whose threads
 * allocate at times that vary from run to run gives sweeps that vary too.
 */
#ifndef FD_TEST_FAILALLOC_H
#define FD_TEST_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The nth allocation from now fails (1: the next one); with persist, every
 * later one too. n = 0 disarms. Also starts counting and tracking: from
 * here every block allocated and not yet freed is remembered. */
void fa_arm(unsigned long n, bool persist);

/* Stops failing and tracking. Returns the number of allocations attempted
 * since fa_arm. */
unsigned long fa_disarm(void);

/* Whether an allocation failed since fa_arm. */
bool fa_fired(void);

/* Blocks allocated since fa_arm and not freed yet. */
size_t fa_live(void);

/* p was handed to code that frees it where the hooks cannot see (a shared
 * library calling libc's free, e.g. librdkafka with RD_KAFKA_MSG_F_FREE):
 * it is no longer tracked, so it does not count as leaked. */
void fa_forget(void *p);

/* The operation a sweep runs: 0 on success, or a negative code with err
 * filled. It must clean up after itself either way. */
typedef int (*fa_op)(void *ctx, struct fd_error *err);

struct fa_sweep_result {
	unsigned long allocations; /* made by one successful run */
	unsigned long runs;        /* runs with a failed allocation */
};

/* Runs op with the 1st, 2nd, ... allocation failing (one-shot, then
 * persistent), until a run makes no failing allocation, which must then
 * succeed. Fails the current cmocka test (naming what and N) when a run
 * with a failed allocation returns 0, when a run leaks, or when the
 * error's message is empty. check, when not NULL, is called after every
 * run (e.g. to see that no partial output file is left). */
void fa_sweep(const char *what, fa_op op, void *ctx, void (*check)(void *ctx, int rc),
	      struct fa_sweep_result *res);

#endif
