#include "timefmt.h"

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
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
	return buf;
}

char *fd_format_duration(char *buf, size_t n, int64_t ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{"d", 86400000000000LL}, {"h", 3600000000000LL}, {"m", 60000000000LL},
		{"s", 1000000000LL},     {"ms", 1000000LL},
	};
	size_t used = 0;
	if (ns < 0) {
		used += (size_t)snprintf(buf, n, "-");
		ns = -ns;
	}
	int parts = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && used < n; i++) {
		int64_t q = ns / units[i].ns;
		if (q) {
			used += (size_t)snprintf(buf + used, n - used, "%lld%s", (long long)q, units[i].unit);
			ns -= q * units[i].ns;
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
