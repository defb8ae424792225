#include "replay/pace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void record_late(struct fd_pacer *p, int64_t late)
{
	int64_t us = late / 1000;
	int b = 0;
	while (b < FD_PACE_LATE_BUCKETS - 1 && (us >> b) > 0)
		b++;
	p->late[b]++;
	p->n++;
	if (late > p->max_late)
		p->max_late = late;
}

int64_t fd_pacer_wait(struct fd_pacer *p, int64_t record_time, volatile int *stop)
{
	if (p->speed <= 0)
		return 0;
	int64_t now = p->clock->now(p->clock->ctx);
	if (!p->started) {
		p->started = true;
		p->wall0 = now;
		p->rec0 = record_time;
	}
	double offset = (double)(record_time - p->rec0) / p->speed;
	int64_t due = p->wall0 + (int64_t)offset;
	while (now < due) {
		if (stop && *stop)
			return -1;
		/* Sleep in slices so a stop request is noticed promptly. */
		int64_t until = due - now > 200000000 ? now + 200000000 : due;
		p->clock->sleep_until(p->clock->ctx, until);
		now = p->clock->now(p->clock->ctx);
	}
	int64_t late = now - due;
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
