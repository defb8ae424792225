/* common/units.c, common/timefmt.c and common/suggest.c as tables: each row
 * an input and what must come out (a value, or the start of the reason it
 * is refused). A parser change that moves any row shows here with its row. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/suggest.h"
#include "common/timefmt.h"
#include "common/units.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000LL
#define S (1000 * MS)
#define MIN (60 * S)
#define H (60 * MIN)
#define D (24 * H)

/* A row: ok with the value, or refused with why starting with err. */
struct irow {
	const char *in;
	int64_t want;
	const char *err;
};

struct drow {
	const char *in;
	double want;
	const char *err;
};

static void check_why(const char *fn, const char *in, int rc, const char *why, const char *err)
{
	if (rc == 0)
		fail_msg("%s(\"%s\"): accepted, want refused with \"%s\"", fn, in, err);
	if (!why || strncmp(why, err, strlen(err)) != 0)
		fail_msg("%s(\"%s\"): refused with \"%s\", want \"%s\"", fn, in, why ? why : "(null)",
			 err);
}

static void run_irows(const char *fn, int (*parse)(const char *, int64_t *, const char **),
		      const struct irow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = -12345;
		const char *why = NULL;
		int rc = parse(rows[i].in, &v, &why);
		if (rows[i].err) {
			check_why(fn, rows[i].in, rc, why, rows[i].err);
		} else if (rc != 0) {
			fail_msg("%s(\"%s\"): refused (%s), want %lld", fn, rows[i].in, why,
				 (long long)rows[i].want);
		} else if (v != rows[i].want) {
			fail_msg("%s(\"%s\") = %lld, want %lld", fn, rows[i].in, (long long)v,
				 (long long)rows[i].want);
		}
	}
}

static void run_drows(const char *fn, int (*parse)(const char *, double *, const char **),
		      const struct drow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = -12345;
		const char *why = NULL;
		int rc = parse(rows[i].in, &v, &why);
		if (rows[i].err) {
			check_why(fn, rows[i].in, rc, why, rows[i].err);
		} else if (rc != 0) {
			fail_msg("%s(\"%s\"): refused (%s), want %.17g", fn, rows[i].in, why,
				 rows[i].want);
		} else if (fabs(v - rows[i].want) > 1e-12 * fabs(rows[i].want)) {
			fail_msg("%s(\"%s\") = %.17g, want %.17g", fn, rows[i].in, v, rows[i].want);
		}
	}
}

static void test_duration(void **state)
{
	(void)state;
	static const struct irow rows[] = {
		{"0", 0, NULL},
		{"0s", 0, NULL},
		{"10ns", 10, NULL},
		{"250us", 250000, NULL},
		{"3\xc2\xb5s", 3000, NULL}, /* µs */
		{"500ms", 500 * MS, NULL},
		{"0.5ms", 500000, NULL},
		{"90s", 90 * S, NULL},
		{"1sec", S, NULL},
		{"1.5s", 1500 * MS, NULL},
		{".5s", 500 * MS, NULL},
		{"1.000000001s", S + 1, NULL},
		{"15m", 15 * MIN, NULL},
		{"1min", MIN, NULL},
		{"2h", 2 * H, NULL},
		{"1d", D, NULL},
		{"1h30m", H + 30 * MIN, NULL},
		{"1m30s", 90 * S, NULL},
		{"1d2h3m4s5ms", D + 2 * H + 3 * MIN + 4 * S + 5 * MS, NULL},
		{"106751d", 106751 * D, NULL},
		/* refused */
		{"", 0, "empty duration"},
		{"-1s", 0, "must not be negative"},
		{"5", 0, "missing unit"},
		{"1.5", 0, "missing unit"},
		{"1m30", 0, "missing unit"},
		{"5 m", 0, "unknown unit"},
		{"1e3s", 0, "unknown unit"},
		{"0x10s", 0, "unknown unit"},
		{"2w", 0, "unknown unit"},
		{"abc", 0, "expected a duration such as 90s"},
		{"s", 0, "expected a duration such as 90s"},
		{" 5s", 0, "expected a duration such as 90s"},
		{"106752d", 0, "duration too large"},
		{"9223372036854775807ns1ns", 0, "duration too large"},
		{"99999999999999999999s", 0, "number too large"},
	};
	run_irows("fd_units_duration", fd_units_duration, rows, N(rows));
}

static void test_rate(void **state)
{
	(void)state;
	static const struct drow rows[] = {
		{"120/s", 120, NULL},
		{"2/sec", 2, NULL},
		{"1/second", 1, NULL},
		{"3/min", 0.05, NULL},
		{"60/minute", 1, NULL},
		{"60/m", 1, NULL},
		{"7200/h", 2, NULL},
		{"3600/hour", 1, NULL},
		{"86400/day", 1, NULL},
		{"86400/d", 1, NULL},
		{"5/10s", 0.5, NULL},
		{"1.5/s", 1.5, NULL},
		/* refused */
		{"0/s", 0, "must be positive"},
		{"-1/s", 0, "must be positive"},
		{"120", 0, "missing unit"},
		{"120s", 0, "expected '/'"},
		{"120/fortnight", 0, "unknown time unit"},
		{"120/0s", 0, "unknown time unit"},
		{"/s", 0, "expected a rate such as 120/s"},
		{"99999999999999999999/s", 0, "number too large"},
		{"", 0, "expected a rate such as 120/s"},
	};
	run_drows("fd_units_rate", fd_units_rate, rows, N(rows));
}

static void test_multiplier(void **state)
{
	(void)state;
	static const struct drow rows[] = {
		{"x180", 180, NULL},
		{"x0.5", 0.5, NULL},
		{"X2", 2, NULL},
		{"3x", 3, NULL},
		{"3X", 3, NULL},
		/* refused */
		{"x0", 0, "a multiplier must be greater than 0"},
		{"0x", 0, "a multiplier must be greater than 0"},
		{"180", 0, "expected a multiplier"},
		{"x", 0, "expected a multiplier"},
		{"xx2", 0, "expected a multiplier"},
		{"2xx", 0, "expected a multiplier"},
		{"x2x", 0, "expected a multiplier"},
		{"-x2", 0, "expected a multiplier"},
		{"x99999999999999999999", 0, "number too large"},
	};
	run_drows("fd_units_multiplier", fd_units_multiplier, rows, N(rows));
}

static void test_fraction(void **state)
{
	(void)state;
	static const struct drow rows[] = {
		{"0", 0, NULL},
		{"1", 1, NULL},
		{"0.05", 0.05, NULL},
		{"5%", 0.05, NULL},
		{"100%", 1, NULL},
		{"0.5%", 0.005, NULL},
		/* refused */
		{"101%", 0, "must be between 0 and 1"},
		{"1.5", 0, "must be between 0 and 1"},
		{"-0.1", 0, "must be between 0 and 1"},
		{"5%%", 0, "expected a probability"},
		{"abc", 0, "expected a probability"},
		{"99999999999999999999%", 0, "number too large"},
		{"", 0, "expected a probability"},
	};
	run_drows("fd_units_fraction", fd_units_fraction, rows, N(rows));
}

static void test_size(void **state)
{
	(void)state;
	static const struct irow rows[] = {
		{"0", 0, NULL},
		{"512", 512, NULL},
		{"512B", 512, NULL},
		{"4KB", 4000, NULL},
		{"4kB", 4000, NULL},
		{"3MB", 3000000, NULL},
		{"2GB", 2000000000, NULL},
		{"1TB", 1000000000000, NULL},
		{"512KiB", 512 * 1024, NULL},
		{"64MiB", 64LL << 20, NULL},
		{"1.5GiB", 1610612736, NULL},
		{"1TiB", 1LL << 40, NULL},
		{"4K", 4096, NULL},
		{"4Ki", 4096, NULL},
		{"1M", 1 << 20, NULL},
		{"2Gi", 2LL << 30, NULL},
		/* refused */
		{"-1", 0, "must not be negative"},
		{"4XB", 0, "unknown size unit"},
		{"4KiBs", 0, "unknown size unit"},
		{"4 KiB", 0, "unknown size unit"},
		{"KiB", 0, "expected a size"},
		{"", 0, "expected a size"},
		{"99999999TiB", 0, "size too large"},
		{"99999999999999999999", 0, "number too large"},
	};
	run_irows("fd_units_size", fd_units_size, rows, N(rows));
}

static void test_size_rate(void **state)
{
	(void)state;
	static const struct drow rows[] = {
		{"40MiB/h", 40.0 * 1048576 / 3600, NULL},
		{"1GiB/day", 1073741824.0 / 86400, NULL},
		{"1KB/s", 1000, NULL},
		{"10MB/10s", 1000000, NULL},
		/* refused */
		{"40MiB", 0, "expected a size per time"},
		{"40MiB/fortnight", 0, "unknown time unit"},
		{"40XiB/h", 0, "unknown size unit"},
	};
	run_drows("fd_units_size_rate", fd_units_size_rate, rows, N(rows));
}

static void test_timestamp(void **state)
{
	(void)state;
	const int64_t t = 1768482000LL * S; /* 2026-01-15T13:00:00Z */
	const struct irow rows[] = {
		{"2026-01-15T13:00:00Z", t, NULL},
		{"2026-01-15t13:00:00z", t, NULL},
		{"2026-01-15 13:00:00Z", t, NULL},
		{"2026-01-15T14:00:00+01:00", t, NULL},
		{"2026-01-15T08:30:00-04:30", t, NULL},
		{"2026-01-15T13:00:00.5Z", t + 500 * MS, NULL},
		{"2026-01-15T13:00:00.123456789Z", t + 123456789, NULL},
		{"2026-01-15T12:59:60Z", t, NULL}, /* a leap second reads as the next */
		{"1970-01-01T00:00:00Z", 0, NULL},
		{"2000-02-29T00:00:00Z", 951782400LL * S, NULL},
		{"2262-04-11T23:47:15Z", 9223372035LL * S, NULL},
		/* refused */
		{"2026-01-15T13:00:00", 0, "missing time zone"},
		{"2026-02-30T00:00:00Z", 0, "no such date or time"},
		{"2025-02-29T00:00:00Z", 0, "no such date or time"},
		{"2026-13-01T00:00:00Z", 0, "no such date or time"},
		{"2026-01-15T24:00:00Z", 0, "no such date or time"},
		{"2026-01-15T13:00:61Z", 0, "no such date or time"},
		{"1969-12-31T23:59:59Z", 0, "out of range"},
		{"2262-04-11T23:47:16Z", 0, "out of range"},
		{"2026-1-15T13:00:00Z", 0, "expected an RFC 3339 time"},
		{"2026-01-15T13:00Z", 0, "expected an RFC 3339 time"},
		{"2026-01-15T13:00:00.Z", 0, "expected an RFC 3339 time"},
		{"2026-01-15T13:00:00+24:00", 0, "expected an RFC 3339 time"},
		{"2026-01-15T13:00:00+0100", 0, "expected an RFC 3339 time"},
		{"2026-01-15T13:00:00Zjunk", 0, "expected an RFC 3339 time"},
		{"", 0, "expected an RFC 3339 time"},
	};
	run_irows("fd_units_timestamp", fd_units_timestamp, rows, N(rows));
}

static void test_clock(void **state)
{
	(void)state;
	static const struct irow rows[] = {
		{"0:00", 0, NULL},
		{"1:30", H + 30 * MIN, NULL},
		{"1:30:15", H + 30 * MIN + 15 * S, NULL},
		{"100:00", 100 * H, NULL},
		/* refused */
		{"1:3", 0, "expected h:mm or h:mm:ss"},
		{"1:60", 0, "expected h:mm or h:mm:ss"},
		{"1:30:60", 0, "expected h:mm or h:mm:ss"},
		{":30", 0, "expected h:mm or h:mm:ss"},
		{"1:30:", 0, "expected h:mm or h:mm:ss"},
		{"1", 0, "expected h:mm or h:mm:ss"},
		{"10000000:00", 0, "too large"},
	};
	run_irows("fd_units_clock", fd_units_clock, rows, N(rows));
}

static void test_integer(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		long long min, max, want;
		const char *err;
	} rows[] = {
		{"42", 0, 100, 42, NULL},
		{"-5", -10, 10, -5, NULL},
		{"+7", 0, 10, 7, NULL},
		{"007", 0, 10, 7, NULL},
		{"9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX, NULL},
		{"-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN, NULL},
		/* refused */
		{"9223372036854775808", LLONG_MIN, LLONG_MAX, 0, "number too large"},
		{"-9223372036854775809", LLONG_MIN, LLONG_MAX, 0, "number too large"},
		{"99999999999999999999", LLONG_MIN, LLONG_MAX, 0, "number too large"},
		{"101", 0, 100, 0, "out of range"},
		{"-1", 0, 100, 0, "out of range"},
		{"", 0, 100, 0, "expected an integer"},
		{"-", 0, 100, 0, "expected an integer"},
		{"1.0", 0, 100, 0, "expected an integer"},
		{"0x10", 0, 100, 0, "expected an integer"},
		{" 1", 0, 100, 0, "expected an integer"},
		{"1k", 0, 100, 0, "expected an integer"},
	};
	for (size_t i = 0; i < N(rows); i++) {
		long long v = -12345;
		const char *why = NULL;
		int rc = fd_units_integer(rows[i].in, rows[i].min, rows[i].max, &v, &why);
		if (rows[i].err)
			check_why("fd_units_integer", rows[i].in, rc, why, rows[i].err);
		else if (rc != 0 || v != rows[i].want)
			fail_msg("fd_units_integer(\"%s\") = %d, %lld (%s), want %lld", rows[i].in, rc, v,
				 why ? why : "", rows[i].want);
	}
}

static void test_number(void **state)
{
	(void)state;
	static const struct drow rows[] = {
		{"12", 12, NULL},
		{"0.25", 0.25, NULL},
		{".5", 0.5, NULL},
		{"0", 0, NULL},
		/* refused: no sign, exponent, words or trailing point */
		{"-1", 0, "expected a number"},
		{"+1", 0, "expected a number"},
		{"1e3", 0, "expected a number"},
		{"inf", 0, "expected a number"},
		{"nan", 0, "expected a number"},
		{"1.", 0, "expected a number"},
		{"99999999999999999999", 0, "number too large"},
		{"", 0, "expected a number"},
	};
	run_drows("fd_units_number", fd_units_number, rows, N(rows));
}

/* What fd_format_duration prints, fd_units_duration reads back (to the
 * millisecond, which is what the format keeps). */
static void test_duration_round_trip(void **state)
{
	(void)state;
	static const struct {
		int64_t ns;
		const char *text;
	} rows[] = {
		{0, "0s"},
		{999999, "0s"},
		{90 * MS, "90ms"},
		{2 * H, "2h"},
		{H + 30 * MIN, "1h30m"},
		{D + 2 * H + 3 * MIN + 4 * S + 5 * MS, "1d2h3m4s5ms"},
		{INT64_MAX, "106751d23h47m16s854ms"},
	};
	for (size_t i = 0; i < N(rows); i++) {
		char b[64];
		fd_format_duration(b, sizeof(b), rows[i].ns);
		if (strcmp(b, rows[i].text) != 0)
			fail_msg("fd_format_duration(%lld) = \"%s\", want \"%s\"",
				 (long long)rows[i].ns, b, rows[i].text);
		int64_t back;
		const char *why = NULL;
		if (fd_units_duration(b, &back, &why) != 0)
			fail_msg("\"%s\" does not read back: %s", b, why);
		if (back != rows[i].ns / MS * MS)
			fail_msg("\"%s\" reads back as %lld, want %lld", b, (long long)back,
				 (long long)(rows[i].ns / MS * MS));
	}
}

/* RFC 3339 out of fd_format_time reads back with fd_units_timestamp. */
static void test_time_round_trip(void **state)
{
	(void)state;
	static const int64_t rows[] = {0, 1768482000123000000LL, 951782400000000000LL,
				       9223372035999000000LL};
	for (size_t i = 0; i < N(rows); i++) {
		char b[64];
		fd_format_time(b, sizeof(b), rows[i]);
		int64_t back;
		const char *why = NULL;
		if (fd_units_timestamp(b, &back, &why) != 0 || back != rows[i])
			fail_msg("\"%s\" reads back as %lld (%s), want %lld", b, (long long)back,
				 why ? why : "ok", (long long)rows[i]);
	}
}

static void test_suggest(void **state)
{
	(void)state;
	static const char *const opts[] = {"max_samples", "max_delay", "retries", "timeout"};
	static const char *const sigs[] = {"traces", "metrics", "logs"};
	static const char *const fmts[] = {"otlp_json", "otlp_proto", "ecs", "bulk", "text",
					   "openmetrics", "format"};
	static const char *const short3[] = {"abc", "xyz"};
	static const char *const one[] = {"b"};
	static const char *const ties[] = {"cat", "hat"};
	static const char *const state_[] = {"state"};
	struct {
		const char *word;
		const char *const *cands;
		size_t n;
		const char *want; /* NULL: no suggestion */
	} rows[] = {
		{"retris", opts, N(opts), "retries"},
		{"timout", opts, N(opts), "timeout"},
		{"max_sample", opts, N(opts), "max_samples"},
		{"max_delya", opts, N(opts), "max_delay"}, /* a swap is two edits */
		{"retries", opts, N(opts), "retries"},      /* itself */
		{"tracse", sigs, N(sigs), "traces"},
		{"metric", sigs, N(sigs), "metrics"},
		{"log", sigs, N(sigs), "logs"},
		{"formt", fmts, N(fmts), "format"},
		{"otlp_jsn", fmts, N(fmts), "otlp_json"},
		{"ecss", fmts, N(fmts), "ecs"},
		{"stale", state_, 1, "state"},
		{"bat", ties, N(ties), "cat"}, /* a tie: the first candidate */
		/* too far, or too short to tell */
		{"xyz123", opts, N(opts), NULL},
		{"rtrs", opts, N(opts), NULL},
		{"ab", short3, N(short3), "abc"}, /* 1 edit for 3 letters or fewer */
		{"ac", short3, N(short3), "abc"},
		{"a", one, 1, NULL},              /* the distance must be below the length */
		{"ax", short3, N(short3), NULL},  /* 2 edits: too many for a short word */
		{"", sigs, N(sigs), NULL},
		{"tracse", sigs, 0, NULL},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", opts,
		 N(opts), NULL},
	};
	for (size_t i = 0; i < N(rows); i++) {
		const char *got = fd_suggest(rows[i].word, rows[i].cands, rows[i].n);
		if ((got == NULL) != (rows[i].want == NULL) ||
		    (got && strcmp(got, rows[i].want) != 0))
			fail_msg("fd_suggest(\"%s\") = %s, want %s", rows[i].word, got ? got : "NULL",
				 rows[i].want ? rows[i].want : "NULL");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_multiplier),
		cmocka_unit_test(test_fraction),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_rate),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_integer),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_duration_round_trip),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_suggest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
