/*
 * The monotonic clock in nanoseconds, for durations (never for record
 * times, which are Unix time).
 */
#ifndef FD_COMMON_MONOTIME_H
#define FD_COMMON_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t fd_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
