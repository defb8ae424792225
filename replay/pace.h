/*
 * Pacing a replay against a clock.
 *
 * Each record's due time is computed from its own timestamp against a fixed
 * origin — wall0 + (record time - first record time) / speed — never from the
 * previous record, so delays do not accumulate: a replay that falls behind
 * catches up, and the lateness of every record is measured against the
 * schedule (reported as p50, p99 and max).
 *
 * The clock is injectable so tests check the schedule without waiting.
 */
#ifndef FD_PACE_H
#define FD_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct fd_clock {
	int64_t (*now)(void *ctx);                  /* monotonic ns */
	void (*sleep_until)(void *ctx, int64_t t);  /* may return early (a signal) */
	void *ctx;
};

/* CLOCK_MONOTONIC and clock_nanosleep(TIMER_ABSTIME). */
extern const struct fd_clock fd_clock_monotonic;

#define FD_PACE_LATE_BUCKETS 64

struct fd_pacer {
	const struct fd_clock *clock;
	double speed;     /* records per record-second; 0 = as fast as possible */
	bool started;
	int64_t wall0, rec0;
	/* lateness, in power-of-two microsecond buckets */
	uint64_t late[FD_PACE_LATE_BUCKETS];
	uint64_t n;
	int64_t max_late;
};

void fd_pacer_init(struct fd_pacer *p, const struct fd_clock *clock, double speed);

/* Waits until the record with this (rebased) time is due and returns how
 * late it is then (ns, >= 0). The first call sets the origin. Returns at
 * once with speed 0. stop, when non-NULL and set, cuts a wait short
 * (returns -1). */
int64_t fd_pacer_wait(struct fd_pacer *p, int64_t record_time, volatile int *stop);

/* Lateness quantile q in [0,1] in ns (the upper bound of its bucket). */
int64_t fd_pacer_quantile(const struct fd_pacer *p, double q);

/* Parses "realtime", "max", "10x", "0.5x", "10". Returns 0 and sets *speed
 * (0 for max), or -1. */
int fd_pace_parse_speed(const char *s, double *speed);

#endif
