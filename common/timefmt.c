#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

/* The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
 * Hinnant's civil_from_days), for every day an int64_t of nanoseconds
 * reaches. Not gmtime_r: glibc's takes the time-zone lock on every call,
 * which the sinks' encoding threads, formatting a time per record, would
 * contend for. */
static void civil_from_days(int64_t days, int *y, int *m, int *d)
{
	days += 719468; /* from 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153; /* March is 0 */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

char *fd_format_time(char *buf, size_t n, int64_t unix_ns)
{
	int64_t sec = unix_ns / 1000000000, rem = unix_ns % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	int64_t days = sec / 86400, sod = sec % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int year, mon, mday;
	civil_from_days(days, &year, &mon, &mday);
	int hour = (int)(sod / 3600), min = (int)(sod / 60 % 60), s = (int)(sod % 60);
	if (n < 25 || year < 0 || year > 9999) {
		char t[128]; /* whole, then cut to n */
		snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, mon, mday, hour,
			 min, s, (int)(rem / 1000000));
		size_t k = strlen(t);
		if (n) {
			k = k < n - 1 ? k : n - 1;
			memcpy(buf, t, k);
			buf[k] = '\0';
		}
		return buf;
	}
	/* the same digits without printf: text and ECS sinks format one time
	 * per record */
	int f[7] = {year, mon, mday, hour, min, s, (int)(rem / 1000000)};
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
