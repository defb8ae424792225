/*
 * Arithmetic on int64 nanosecond times that cannot overflow. Signed
 * overflow is undefined behaviour, and a crafted recording or an option
 * such as `--until 106751d` can carry any time, so sums and differences of
 * times from outside go through these: the checked forms return false when
 * the result does not fit, the saturating forms clamp it to the range
 * (years 1677 to 2262).
 */
#ifndef FD_TIMEMATH_H
#define FD_TIMEMATH_H

#include <stdbool.h>
#include <stdint.h>

static inline bool fd_time_add(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

static inline bool fd_time_sub(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_sub_overflow(a, b, out);
}

static inline int64_t fd_time_add_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (!__builtin_add_overflow(a, b, &r))
		return r;
	return b > 0 ? INT64_MAX : INT64_MIN;
}

static inline int64_t fd_time_sub_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (!__builtin_sub_overflow(a, b, &r))
		return r;
	return b < 0 ? INT64_MAX : INT64_MIN;
}

/* A double number of nanoseconds as an int64, clamped (converting a double
 * out of range is undefined too); NaN gives 0. */
static inline int64_t fd_time_from_double(double ns)
{
	if (ns != ns)
		return 0;
	if (ns >= 9223372036854775807.0)
		return INT64_MAX;
	if (ns <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)ns;
}

#endif
