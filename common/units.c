#include "common/units.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define NS_PER_S 1000000000LL

/*
 * Decimal numbers are scanned by hand rather than with strtod: strtod
 * accepts what we do not want in a scenario (hex, "inf", exponents, leading
 * blanks) and depends on the locale's decimal point.
 */
struct decimal {
	uint64_t ip;     /* integer part */
	uint64_t frac;   /* fraction digits as an integer (first 18 digits) */
	int frac_digits; /* number of digits in frac */
};

/* Scans [0-9]+(\.[0-9]+)? or \.[0-9]+ at *p. Returns -1 on no digits (the
 * caller says what it expected instead), -2 on an integer part beyond
 * uint64 (*why says so; the caller keeps it). */
static int scan_decimal(const char **p, struct decimal *d, const char **why)
{
	const char *s = *p;
	bool any = false;
	d->ip = 0;
	d->frac = 0;
	d->frac_digits = 0;
	while (*s >= '0' && *s <= '9') {
		unsigned digit = (unsigned)(*s - '0');
		if (d->ip > (UINT64_MAX - digit) / 10) {
			*why = "number too large";
			return -2;
		}
		d->ip = d->ip * 10 + digit;
		s++;
		any = true;
	}
	if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (d->frac_digits < 18) {
				d->frac = d->frac * 10 + (uint64_t)(*s - '0');
				d->frac_digits++;
			}
			s++;
		}
		any = true;
	}
	if (!any) {
		*why = "expected a number";
		return -1;
	}
	*p = s;
	return 0;
}

static double decimal_value(const struct decimal *d)
{
	return (double)d->ip + (double)d->frac / pow(10.0, d->frac_digits);
}

/* d * unit, exactly for the integer part; -1 on int64 overflow. */
static int scale(const struct decimal *d, int64_t unit, int64_t *out)
{
	if (d->ip > (uint64_t)(INT64_MAX / unit))
		return -1;
	int64_t v = (int64_t)d->ip * unit;
	long double f = (long double)d->frac * (long double)unit /
			powl(10.0L, d->frac_digits);
	int64_t fi = (int64_t)(f + 0.5L);
	if (v > INT64_MAX - fi)
		return -1;
	*out = v + fi;
	return 0;
}

struct unit {
	const char *name;
	int64_t ns;
};

static const struct unit duration_units[] = {
	{"ns", 1},
	{"us", 1000},
	{"\xc2\xb5s", 1000}, /* µs */
	{"ms", 1000000},
	{"s", NS_PER_S},
	{"sec", NS_PER_S},
	{"m", 60 * NS_PER_S},
	{"min", 60 * NS_PER_S},
	{"h", 3600 * NS_PER_S},
	{"d", 86400 * NS_PER_S},
	{NULL, 0},
};

/* Longest unit name matching at p. */
static const struct unit *match_unit(const struct unit *units, const char *p,
				     size_t *len)
{
	const struct unit *best = NULL;
	size_t best_len = 0;
	for (const struct unit *u = units; u->name; u++) {
		size_t n = strlen(u->name);
		if (n > best_len && strncmp(p, u->name, n) == 0) {
			best = u;
			best_len = n;
		}
	}
	*len = best_len;
	return best;
}

int fd_units_duration(const char *s, int64_t *ns, const char **why)
{
	const char *p = s;
	int64_t total = 0;
	if (*p == '-') {
		*why = "must not be negative";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*p == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*p) {
		struct decimal d;
		int rc = scan_decimal(&p, &d, why);
		if (rc < 0) {
			if (rc == -1 && p == s)
				*why = "expected a duration such as 90s, 15m, 2h, 500ms or 1h30m";
			return -1;
		}
		size_t len;
		const struct unit *u = match_unit(duration_units, p, &len);
		/* "1m30" style leftovers and "5 m" both land here */
		if (!u) {
			*why = *p ? "unknown unit (use ns, us, ms, s, m, h or d)"
				  : "missing unit (e.g. 90s, 15m, 2h, 500ms)";
			return -1;
		}
		p += len;
		int64_t v;
		if (scale(&d, u->ns, &v) < 0 || total > INT64_MAX - v) {
			*why = "duration too large";
			return -1;
		}
		total += v;
	}
	*ns = total;
	return 0;
}

int fd_units_rate(const char *s, double *per_s, const char **why)
{
	const char *p = s;
	struct decimal d;
	if (*p == '-') {
		*why = "must be positive";
		return -1;
	}
	int rc = scan_decimal(&p, &d, why);
	if (rc < 0) {
		if (rc == -1)
			*why = "expected a rate such as 120/s, 3/min or 7200/h";
		return -1;
	}
	if (*p != '/') {
		*why = *p ? "expected '/' and a time unit (e.g. 120/s)"
			  : "missing unit (e.g. 120/s, 3/min, 7200/h)";
		return -1;
	}
	p++;
	int64_t per_ns;
	static const struct {
		const char *name;
		int64_t ns;
	} words[] = {
		{"s", NS_PER_S}, {"sec", NS_PER_S}, {"second", NS_PER_S},
		{"m", 60 * NS_PER_S}, {"min", 60 * NS_PER_S}, {"minute", 60 * NS_PER_S},
		{"h", 3600 * NS_PER_S}, {"hour", 3600 * NS_PER_S},
		{"d", 86400 * NS_PER_S}, {"day", 86400 * NS_PER_S},
	};
	per_ns = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(p, words[i].name) == 0)
			per_ns = words[i].ns;
	if (per_ns == 0) {
		const char *w;
		if (fd_units_duration(p, &per_ns, &w) < 0 || per_ns == 0) {
			*why = "unknown time unit after '/' (use s, min, h or d)";
			return -1;
		}
	}
	double v = decimal_value(&d) * (double)NS_PER_S / (double)per_ns;
	if (!(v > 0) || !isfinite(v)) {
		*why = "must be positive";
		return -1;
	}
	*per_s = v;
	return 0;
}

int fd_units_number(const char *s, double *out, const char **why)
{
	const char *p = s;
	struct decimal d;
	int rc = scan_decimal(&p, &d, why);
	if (rc == -2)
		return -1;
	if (rc < 0 || *p) {
		*why = "expected a number";
		return -1;
	}
	*out = decimal_value(&d);
	return 0;
}

int fd_units_multiplier(const char *s, double *x, const char **why)
{
	const char *p = s;
	bool prefix = *p == 'x' || *p == 'X';
	if (prefix)
		p++;
	struct decimal d;
	int rc = scan_decimal(&p, &d, why);
	if (rc < 0) {
		if (rc == -1)
			*why = "expected a multiplier such as x180 or x0.5";
		return -1;
	}
	if (!prefix && (*p == 'x' || *p == 'X'))
		p++;
	else if (!prefix) {
		*why = "expected a multiplier such as x180 or x0.5";
		return -1;
	}
	if (*p) {
		*why = "expected a multiplier such as x180 or x0.5";
		return -1;
	}
	double v = decimal_value(&d);
	if (!(v > 0) || !isfinite(v)) {
		*why = "a multiplier must be greater than 0";
		return -1;
	}
	*x = v;
	return 0;
}

int fd_units_fraction(const char *s, double *f, const char **why)
{
	const char *p = s;
	struct decimal d;
	if (*p == '-') {
		*why = "must be between 0 and 1 (or 0% and 100%)";
		return -1;
	}
	int rc = scan_decimal(&p, &d, why);
	if (rc < 0) {
		if (rc == -1)
			*why = "expected a probability such as 0.05 or 5%";
		return -1;
	}
	double v = decimal_value(&d);
	if (*p == '%') {
		p++;
		v /= 100.0;
	}
	if (*p) {
		*why = "expected a probability such as 0.05 or 5%";
		return -1;
	}
	if (!(v >= 0.0 && v <= 1.0)) {
		*why = "must be between 0 and 1 (or 0% and 100%)";
		return -1;
	}
	*f = v;
	return 0;
}

static const struct unit size_units[] = {
	{"B", 1},
	{"KB", 1000LL}, {"kB", 1000LL}, {"MB", 1000000LL},
	{"GB", 1000000000LL}, {"TB", 1000000000000LL},
	{"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
	{"TiB", 1LL << 40},
	{"K", 1LL << 10}, {"Ki", 1LL << 10}, {"M", 1LL << 20},
	{"Mi", 1LL << 20}, {"G", 1LL << 30}, {"Gi", 1LL << 30},
	{NULL, 0},
};

int fd_units_size(const char *s, int64_t *bytes, const char **why)
{
	const char *p = s;
	struct decimal d;
	if (*p == '-') {
		*why = "must not be negative";
		return -1;
	}
	int rc = scan_decimal(&p, &d, why);
	if (rc < 0) {
		if (rc == -1)
			*why = "expected a size such as 512KiB, 64MiB or 2GiB";
		return -1;
	}
	int64_t unit = 1;
	if (*p) {
		size_t len;
		const struct unit *u = match_unit(size_units, p, &len);
		if (!u || p[len]) {
			*why = "unknown size unit (use B, KB, MB, GB, KiB, MiB, GiB)";
			return -1;
		}
		unit = u->ns;
	}
	if (scale(&d, unit, bytes) < 0) {
		*why = "size too large";
		return -1;
	}
	return 0;
}

int fd_units_size_rate(const char *s, double *bytes_per_s, const char **why)
{
	const char *slash = strchr(s, '/');
	if (!slash) {
		*why = "expected a size per time such as 40MiB/h";
		return -1;
	}
	char size[64];
	size_t n = (size_t)(slash - s);
	if (n >= sizeof(size)) {
		*why = "expected a size per time such as 40MiB/h";
		return -1;
	}
	memcpy(size, s, n);
	size[n] = '\0';
	int64_t b;
	if (fd_units_size(size, &b, why) < 0)
		return -1;
	/* Reuse the rate grammar for the denominator: "1/h" gives 1/3600. */
	char one[64];
	size_t m = strlen(slash);
	if (m + 2 > sizeof(one)) {
		*why = "unknown time unit after '/' (use s, min, h or d)";
		return -1;
	}
	one[0] = '1';
	memcpy(one + 1, slash, m + 1);
	double per;
	if (fd_units_rate(one, &per, why) < 0)
		return -1;
	*bytes_per_s = (double)b * per;
	return 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int fd_units_timestamp(const char *s, int64_t *unix_ns, const char **why)
{
	static const char *const bad =
		"expected an RFC 3339 time such as 2026-01-15T13:00:00Z";
	const char *p = s;
	int y, mo, d, h, mi, sec;
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0 ||
	    (*p != 'T' && *p != 't' && *p != ' ')) {
		*why = bad;
		return -1;
	}
	p++;
	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 ||
	    *p++ != ':' || digits(&p, 2, &sec) < 0) {
		*why = bad;
		return -1;
	}
	int64_t frac_ns = 0;
	if (*p == '.') {
		p++;
		int64_t scale_ns = 100000000;
		if (*p < '0' || *p > '9') {
			*why = bad;
			return -1;
		}
		while (*p >= '0' && *p <= '9') {
			frac_ns += (*p - '0') * scale_ns;
			scale_ns /= 10;
			p++;
		}
	}
	int offset_s = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 ||
		    oh > 23 || om > 59) {
			*why = bad;
			return -1;
		}
		offset_s = sign * (oh * 3600 + om * 60);
	} else {
		*why = "missing time zone (end with Z for UTC)";
		return -1;
	}
	if (*p) {
		*why = bad;
		return -1;
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60) {
		*why = "no such date or time";
		return -1;
	}
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		       sec - offset_s;
	/* int64 ns reach 2262-04-11 */
	if (secs < 0 || secs > 9223372036LL - 1) {
		*why = "out of range (1970 to 2262)";
		return -1;
	}
	*unix_ns = secs * NS_PER_S + frac_ns;
	return 0;
}

int fd_units_clock(const char *s, int64_t *ns, const char **why)
{
	const char *p = s;
	long long h = 0;
	int mi, sec = 0;
	if (*p < '0' || *p > '9') {
		*why = "expected h:mm or h:mm:ss";
		return -1;
	}
	while (*p >= '0' && *p <= '9') {
		h = h * 10 + (*p - '0');
		if (h > 1000000) {
			*why = "too large";
			return -1;
		}
		p++;
	}
	if (*p++ != ':' || digits(&p, 2, &mi) < 0 || mi > 59) {
		*why = "expected h:mm or h:mm:ss";
		return -1;
	}
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec) < 0 || sec > 59) {
			*why = "expected h:mm or h:mm:ss";
			return -1;
		}
	}
	if (*p) {
		*why = "expected h:mm or h:mm:ss";
		return -1;
	}
	*ns = ((int64_t)h * 3600 + mi * 60 + sec) * NS_PER_S;
	return 0;
}

int fd_units_integer(const char *s, long long min, long long max,
		     long long *out, const char **why)
{
	const char *p = s;
	bool neg = *p == '-';
	if (neg || *p == '+')
		p++;
	if (*p < '0' || *p > '9') {
		*why = "expected an integer";
		return -1;
	}
	unsigned long long v = 0;
	while (*p >= '0' && *p <= '9') {
		unsigned digit = (unsigned)(*p - '0');
		if (v > (ULLONG_MAX - digit) / 10) {
			*why = "number too large";
			return -1;
		}
		v = v * 10 + digit;
		p++;
	}
	if (*p) {
		*why = "expected an integer";
		return -1;
	}
	long long r;
	if (neg) {
		if (v > (unsigned long long)LLONG_MAX + 1) {
			*why = "number too large";
			return -1;
		}
		r = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	} else {
		if (v > (unsigned long long)LLONG_MAX) {
			*why = "number too large";
			return -1;
		}
		r = (long long)v;
	}
	if (r < min || r > max) {
		*why = "out of range";
		return -1;
	}
	*out = r;
	return 0;
}

int fd_units_churn(const char *s, double *per_hour, const char **why)
{
	static const char *const expected = "expected a percentage of instances replaced per hour, such as 5%/h";
	const char *pct = strchr(s, '%');
	char num[32];
	double v;
	if (!pct || pct == s || (size_t)(pct - s) >= sizeof(num) || (strcmp(pct, "%") && strcmp(pct, "%/h"))) {
		*why = expected;
		return -1;
	}
	memcpy(num, s, (size_t)(pct - s));
	num[pct - s] = '\0';
	if (fd_units_number(num, &v, why) < 0) {
		*why = expected;
		return -1;
	}
	if (!(v >= 0 && v <= 360000)) {
		*why = "must be between 0%/h and 360000%/h (instances living one second)";
		return -1;
	}
	*per_hour = v / 100;
	return 0;
}
