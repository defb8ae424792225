/*
 * Parsing of the values an SRE writes in a scenario: durations (90s, 1h30m),
 * rates (120/s), multipliers (x180), fractions (5% or 0.05), sizes (512KiB),
 * RFC 3339 timestamps and clock offsets (1:30).
 *
 * Every function is strict (the whole string must be consumed, no signs
 * unless stated, no exponents, no hex), checks for overflow, and returns 0
 * or -1. On -1, *why is a static string saying what is wrong, phrased to
 * follow the offending value: "'15x': <why>".
 */
#ifndef FD_UNITS_H
#define FD_UNITS_H

#include <stdint.h>

/* "0", "500ms", "90s", "15m", "2h", "1d", "1h30m", "1.5s", "250us", "10ns";
 * also "1min". Result in ns, >= 0. */
int fd_units_duration(const char *s, int64_t *ns, const char **why);

/* "120/s", "3/min", "7200/h", "5/10s". Result per second, > 0. */
int fd_units_rate(const char *s, double *per_s, const char **why);

/* "x180", "x0.5", "3x". Result > 0. */
int fd_units_multiplier(const char *s, double *x, const char **why);

/* "5%", "0.05", "1", "0". Result in [0, 1]. */
int fd_units_fraction(const char *s, double *f, const char **why);

/* "512", "512B", "4KB" (1000), "512KiB" (1024), "1.5GiB"... Result >= 0. */
int fd_units_size(const char *s, int64_t *bytes, const char **why);

/* "40MiB/h", "1GiB/day": bytes per second. */
int fd_units_size_rate(const char *s, double *bytes_per_s, const char **why);

/* "2026-01-15T13:00:00Z", with optional fraction and +hh:mm offset. Result in
 * unix ns, years 1970..2262. */
int fd_units_timestamp(const char *s, int64_t *unix_ns, const char **why);

/* "1:30" (h:mm) or "1:30:15" (h:mm:ss). Result in ns. */
int fd_units_clock(const char *s, int64_t *ns, const char **why);

/* A plain decimal integer with an optional leading '-', within [min, max]. */
int fd_units_integer(const char *s, long long min, long long max,
		     long long *out, const char **why);

/* A churn: a percentage of instances replaced per hour, "5%/h" (or "5%"),
 * from 0 to 360000%/h (instances living one second), as a fraction per
 * hour (0.05). replay --churn, generate --scale churn=, scale.churn. */
int fd_units_churn(const char *s, double *per_hour, const char **why);

/* A plain decimal number ("12", "0.25"), finite; no sign. */
int fd_units_number(const char *s, double *out, const char **why);

#endif
