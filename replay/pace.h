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

#include <signal.h>
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

/* A target rate in records per second, optionally ramped linearly from
 * from_rate to rate over ramp_ns (from the first record), then held. */
struct fd_rate {
	double from_rate, rate; /* records/s; rate 0 = no rate pacing */
	int64_t ramp_ns;        /* 0 = rate from the start */
};

struct fd_pacer {
	const struct fd_clock *clock;
	double speed;     /* records per record-second; 0 = as fast as possible */
	struct fd_rate rate; /* when rate.rate > 0 it replaces speed */
	uint64_t paced;   /* records paced so far (the rate schedule's position) */
	bool started;
	int64_t wall0, rec0;
	/* lateness, in power-of-two microsecond buckets */
	uint64_t late[FD_PACE_LATE_BUCKETS];
	uint64_t n;
	int64_t max_late;
	int64_t last_late; /* of the latest record */
};

void fd_pacer_init(struct fd_pacer *p, const struct fd_clock *clock, double speed);
/* Paces by count instead of record time: record k (from 0) is due when the
 * rate's integral from the first record reaches k. */
void fd_pacer_init_rate(struct fd_pacer *p, const struct fd_clock *clock, const struct fd_rate *rate);
/* The schedule: ns after the first record at which record k is due. */
int64_t fd_rate_due(const struct fd_rate *r, uint64_t k);
/* The target rate (records/s) at ns after the first record. */
double fd_rate_at(const struct fd_rate *r, int64_t t);

/* Waits until the record with this (rebased) time is due — or, pacing by
 * rate, the next record by count — and returns how late it is then (ns,
 * >= 0). The first call sets the origin. Returns at once with speed 0. stop, when non-NULL and set, cuts a wait short
 * (returns -1). */
int64_t fd_pacer_wait(struct fd_pacer *p, int64_t record_time, volatile sig_atomic_t *stop);

/* Lateness quantile q in [0,1] in ns (the upper bound of its bucket). */
int64_t fd_pacer_quantile(const struct fd_pacer *p, double q);

/* Parses "realtime", "max", "10x", "0.5x", "10". Returns 0 and sets *speed
 * (0 for max), or -1. */
int fd_pace_parse_speed(const char *s, double *speed);
/* Parses "100k/s", "2500/s", "1.5M/s" or a ramp "10k/s..200k/s" (the ramp's
 * duration is set apart). Sets from_rate = rate when there is no ramp.
 * Returns 0, or -1 with *why. */
int fd_rate_parse(const char *s, struct fd_rate *out, const char **why);

#endif
