#include "common/timefmt.h"

#include <stdio.h>
#include <time.h>

char *fd_format_time(char *buf, size_t n, int64_t unix_ns)
{
	int64_t sec = unix_ns / 1000000000, rem = unix_ns % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, n, "@%lld", (long long)unix_ns);
		return buf;
	}
	int year = tm.tm_year + 1900;
	if (n < 25 || year < 0 || year > 9999) {
		snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
		return buf;
	}
	/* the same digits without printf: text and ECS sinks format one time
	 * per record */
	int f[7] = {year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(rem / 1000000)};
	static const char sep[] = "--T::.Z";
	char *o = buf;
	for (int i = 0; i < 7; i++) {
		int w = i == 0 ? 4 : i == 6 ? 3 : 2;
		for (int k = w - 1; k >= 0; k--) {
			o[k] = (char)('0' + f[i] % 10);
			f[i] /= 10;
		}
		o += w;
		*o++ = sep[i];
	}
	*o = '\0';
	return buf;
}

char *fd_format_duration(char *buf, size_t n, int64_t ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{"d", 86400000000000ULL}, {"h", 3600000000000ULL}, {"m", 60000000000ULL},
		{"s", 1000000000ULL},     {"ms", 1000000ULL},
	};
	size_t used = 0;
	/* The magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t mag = (uint64_t)ns;
	if (ns < 0) {
		used += (size_t)snprintf(buf, n, "-");
		mag = -mag;
	}
	int parts = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && used < n; i++) {
		uint64_t q = mag / units[i].ns;
		if (q) {
			used += (size_t)snprintf(buf + used, n - used, "%llu%s", (unsigned long long)q,
						 units[i].unit);
			mag -= q * units[i].ns;
			parts++;
		}
	}
	if (!parts && used < n)
		snprintf(buf + used, n - used, "0s");
	return buf;
}

char *fd_format_bytes(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, n, "%.1f %s", v, units[u]);
	return buf;
}
