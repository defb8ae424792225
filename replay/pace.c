#include "replay/pace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timemath.h"

static int64_t mono_now(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void mono_sleep_until(void *ctx, int64_t t)
{
	(void)ctx;
	struct timespec ts = {.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
	/* EINTR returns early on purpose: the caller checks its stop flag. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

const struct fd_clock fd_clock_monotonic = {mono_now, mono_sleep_until, NULL};

void fd_pacer_init(struct fd_pacer *p, const struct fd_clock *clock, double speed)
{
	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->speed = speed;
}

void fd_pacer_init_rate(struct fd_pacer *p, const struct fd_clock *clock, const struct fd_rate *rate)
{
	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->speed = 1; /* not "max": waits happen */
	p->rate = *rate;
}

/*
 * The ramp is linear in rate, so the count is quadratic in time:
 * N(t) = r0 t + (r1 - r0) t^2 / 2T for t <= T, then N(T) + r1 (t - T).
 * Solving N(t) = k in closed form keeps every due time exact against the
 * origin, so no error accumulates over millions of records.
 */
int64_t fd_rate_due(const struct fd_rate *r, uint64_t k)
{
	double n = (double)k, r0 = r->from_rate, r1 = r->rate;
	double T = (double)r->ramp_ns / 1e9;
	if (T > 0 && r0 != r1) {
		double nT = (r0 + r1) / 2 * T;
		if (n <= nT) {
			double a = (r1 - r0) / (2 * T);
			/* a t^2 + r0 t - n = 0, the root in [0, T], written to avoid
			 * cancellation when a is small */
			double t = 2 * n / (r0 + sqrt(r0 * r0 + 4 * a * n));
			return (int64_t)(t * 1e9);
		}
		return (int64_t)((T + (n - nT) / r1) * 1e9);
	}
	return (int64_t)(n / r1 * 1e9);
}

double fd_rate_at(const struct fd_rate *r, int64_t t)
{
	if (r->ramp_ns > 0 && t < r->ramp_ns)
		return r->from_rate + (r->rate - r->from_rate) * (double)t / (double)r->ramp_ns;
	return r->rate;
}

static void record_late(struct fd_pacer *p, int64_t late)
{
	int64_t us = late / 1000;
	int b = 0;
	while (b < FD_PACE_LATE_BUCKETS - 1 && (us >> b) > 0)
		b++;
	p->late[b]++;
	p->n++;
	p->last_late = late;
	if (late > p->max_late)
		p->max_late = late;
}

int64_t fd_pacer_wait(struct fd_pacer *p, int64_t record_time, volatile sig_atomic_t *stop)
{
	if (p->speed <= 0)
		return 0;
	int64_t now = p->clock->now(p->clock->ctx);
	if (!p->started) {
		p->started = true;
		p->wall0 = now;
		p->rec0 = record_time;
	}
	int64_t due, d;
	if (p->rate.rate > 0) {
		due = p->wall0 + fd_rate_due(&p->rate, p->paced++);
	} else {
		/* Recording times may be anything: a difference out of int64
		 * is taken in double, and a due time past the clock's range
		 * saturates. */
		double span = fd_time_sub(record_time, p->rec0, &d) ? (double)d
			      : (double)record_time - (double)p->rec0;
		due = fd_time_add_sat(p->wall0, fd_time_from_double(span / p->speed));
	}
	while (now < due) {
		if (stop && *stop)
			return -1;
		/* Sleep in slices so a stop request is noticed promptly. */
		int64_t until = due - now > 200000000 ? now + 200000000 : due;
		p->clock->sleep_until(p->clock->ctx, until);
		now = p->clock->now(p->clock->ctx);
	}
	int64_t late = fd_time_sub_sat(now, due);
	record_late(p, late);
	return late;
}

int64_t fd_pacer_quantile(const struct fd_pacer *p, double q)
{
	if (!p->n)
		return 0;
	uint64_t rank = (uint64_t)ceil(q * (double)p->n), acc = 0;
	if (!rank)
		rank = 1;
	for (int b = 0; b < FD_PACE_LATE_BUCKETS; b++) {
		acc += p->late[b];
		if (acc >= rank) {
			int64_t upper = b == 0 ? 1000 : ((int64_t)1 << b) * 1000;
			return upper < p->max_late ? upper : p->max_late;
		}
	}
	return p->max_late;
}

int fd_pace_parse_speed(const char *s, double *speed)
{
	if (!strcmp(s, "realtime")) {
		*speed = 1;
		return 0;
	}
	if (!strcmp(s, "max")) {
		*speed = 0;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v <= 0 || v > 1e9)
		return -1;
	if (*end == 'x' || *end == 'X')
		end++;
	if (*end)
		return -1;
	*speed = v;
	return 0;
}

static int parse_one_rate(const char *s, const char *end, double *out)
{
	char buf[64];
	size_t n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *e;
	errno = 0;
	double v = strtod(buf, &e);
	if (e == buf || errno || !isfinite(v) || v <= 0)
		return -1;
	if (*e == 'k' || *e == 'K')
		v *= 1e3, e++;
	else if (*e == 'M' || *e == 'm')
		v *= 1e6, e++;
	if (strcmp(e, "/s") != 0 || v > 1e9 || v < 0.001)
		return -1;
	*out = v;
	return 0;
}

int fd_rate_parse(const char *s, struct fd_rate *out, const char **why)
{
	const char *dots = strstr(s, "..");
	struct fd_rate r = {0};
	*why = "expected records per second such as 100k/s, or a ramp such as 10k/s..200k/s";
	if (dots) {
		if (parse_one_rate(s, dots, &r.from_rate) < 0 ||
		    parse_one_rate(dots + 2, dots + 2 + strlen(dots + 2), &r.rate) < 0)
			return -1;
	} else {
		if (parse_one_rate(s, s + strlen(s), &r.rate) < 0)
			return -1;
		r.from_rate = r.rate;
	}
	*out = r;
	return 0;
}
