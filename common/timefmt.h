/* Rendering times and sizes for people (inspect, summaries). */
#ifndef FD_TIMEFMT_H
#define FD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3339 in UTC with milliseconds: 2026-01-15T13:00:00.000Z. */
char *fd_format_time(char *buf, size_t n, int64_t unix_ns);

/* A duration in the scenario syntax, to the millisecond: "2h", "1h30m",
 * "90ms", "0s". */
char *fd_format_duration(char *buf, size_t n, int64_t ns);

/* Bytes with a binary unit: "512 B", "12.3 MiB". */
char *fd_format_bytes(char *buf, size_t n, uint64_t bytes);

#endif
