/* common/json: structure (commas, nesting, pretty and compact), string
 * escaping (controls, quotes, invalid UTF-8), numbers, write errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "common/json.h"

struct cap {
	char *buf;
	size_t len;
	FILE *f;
	struct fd_json j;
};

static void cap_open(struct cap *c, bool pretty)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	fd_json_init(&c->j, c->f, pretty);
}

/* Closes the stream and compares everything written with want. */
static void cap_check(struct cap *c, const char *want)
{
	assert_int_equal(fclose(c->f), 0);
	assert_int_equal(c->j.error, 0);
	assert_string_equal(c->buf, want);
	free(c->buf);
}

static void test_structure_compact(void **state)
{
	(void)state;
	struct cap c;
	cap_open(&c, false);
	struct fd_json *j = &c.j;
	fd_json_object_begin(j);
	fd_json_key(j, "a");
	fd_json_int(j, 1);
	fd_json_key(j, "b");
	fd_json_array_begin(j);
	fd_json_int(j, 1);
	fd_json_string(j, "x");
	fd_json_null(j);
	fd_json_bool(j, true);
	fd_json_bool(j, false);
	fd_json_object_begin(j);
	fd_json_object_end(j);
	fd_json_array_begin(j);
	fd_json_array_end(j);
	fd_json_array_end(j);
	fd_json_key(j, "c");
	fd_json_object_begin(j);
	fd_json_key(j, "d");
	fd_json_array_begin(j);
	fd_json_array_begin(j);
	fd_json_uint(j, 2);
	fd_json_array_end(j);
	fd_json_array_end(j);
	fd_json_object_end(j);
	fd_json_key(j, "e");
	fd_json_string(j, NULL);
	fd_json_object_end(j);
	cap_check(&c, "{\"a\":1,\"b\":[1,\"x\",null,true,false,{},[]],\"c\":{\"d\":[[2]]},\"e\":null}");
}

static void test_structure_pretty(void **state)
{
	(void)state;
	struct cap c;
	cap_open(&c, true);
	struct fd_json *j = &c.j;
	fd_json_object_begin(j);
	fd_json_key(j, "records");
	fd_json_object_begin(j);
	fd_json_key(j, "total");
	fd_json_uint(j, 3);
	fd_json_key(j, "logs");
	fd_json_uint(j, 1);
	fd_json_object_end(j);
	fd_json_key(j, "list");
	fd_json_array_begin(j);
	fd_json_string(j, "a");
	fd_json_string(j, "b");
	fd_json_array_end(j);
	fd_json_key(j, "empty");
	fd_json_array_begin(j);
	fd_json_array_end(j);
	fd_json_object_end(j);
	cap_check(&c, "{\n"
		      "  \"records\": {\n"
		      "    \"total\": 3,\n"
		      "    \"logs\": 1\n"
		      "  },\n"
		      "  \"list\": [\n"
		      "    \"a\",\n"
		      "    \"b\"\n"
		      "  ],\n"
		      "  \"empty\": []\n"
		      "}\n");
}

static void check_string(const char *in, size_t n, const char *want)
{
	struct cap c;
	cap_open(&c, false);
	fd_json_string_n(&c.j, in, n);
	cap_check(&c, want);
}

static void test_string_escapes(void **state)
{
	(void)state;
	check_string("", 0, "\"\"");
	check_string("plain", 5, "\"plain\"");
	check_string("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	check_string("\n\r\t", 3, "\"\\n\\r\\t\"");
	check_string("\x01\x1f\x7f\b\f", 5, "\"\\u0001\\u001f\\u007f\\u0008\\u000c\"");
	check_string("a\0b", 3, "\"a\\u0000b\"");
	/* valid UTF-8 passes through: 2, 3 and 4 byte sequences */
	check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5", 9, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5\"");
	/* U+10FFFF, the largest code point */
	check_string("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");
	/* invalid bytes become U+FFFD, one per byte, and never leak */
	check_string("\xff", 1, "\"\\ufffd\"");
	check_string("a\x80z", 3, "\"a\\ufffdz\"");
	check_string("\xc0\x80", 2, "\"\\ufffd\\ufffd\"");             /* overlong NUL */
	check_string("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");   /* overlong '/' */
	check_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");   /* surrogate */
	check_string("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	check_string("\xf5\x80\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* a sequence cut short by the end of the string */
	check_string("ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"");
	/* a lead byte followed by a non-continuation byte */
	check_string("\xc3(", 2, "\"\\ufffd(\"");
	/* keys are escaped the same way */
	struct cap c;
	cap_open(&c, false);
	fd_json_object_begin(&c.j);
	fd_json_key(&c.j, "k\"\n");
	fd_json_int(&c.j, 0);
	fd_json_object_end(&c.j);
	cap_check(&c, "{\"k\\\"\\n\":0}");
}

static void test_string_reads_only_n(void **state)
{
	(void)state;
	/* an exact-size heap buffer without NUL: ASan catches an overread */
	char *p = malloc(3);
	assert_non_null(p);
	memcpy(p, "ab\xe2", 3);
	check_string(p, 3, "\"ab\\ufffd\"");
	memcpy(p, "\xf0\x9f\x94", 3);
	check_string(p, 3, "\"\\ufffd\\ufffd\\ufffd\"");
	free(p);
}

/* What a string gets for one byte c among plain ones: the rules above,
 * byte by byte (a byte from 0x80 alone is not UTF-8). */
static const char *escaped(unsigned c, char buf[8])
{
	static const char *const named[128] = {['"'] = "\\\"", ['\\'] = "\\\\",
					       ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
	if (c < 128 && named[c])
		return named[c];
	if (c >= 0x80)
		return "\\ufffd";
	if (c < 0x20 || c == 0x7f)
		snprintf(buf, 8, "\\u%04x", c);
	else
		snprintf(buf, 8, "%c", (char)c);
	return buf;
}

/* fd_json_quote of in[0..n) is quote, want, quote. */
static void check_quote(const char *in, size_t n, const char *want)
{
	char *out = malloc(FD_JSON_QUOTED_MAX(n));
	assert_non_null(out);
	size_t k = fd_json_quote(out, in, n);
	assert_int_equal(k, strlen(want) + 2);
	assert_int_equal(out[0], '"');
	assert_memory_equal(out + 1, want, k - 2);
	assert_int_equal(out[k - 1], '"');
	free(out);
}

/* Plain bytes go out eight at a time: every byte value at every place of
 * strings around that size, among plain bytes that differ (so a block
 * copied from the wrong place shows), and UTF-8 sequences across the
 * blocks' edges. */
static void test_quote_every_position(void **state)
{
	(void)state;
	static const size_t lens[] = {7, 8, 9, 15, 16, 17, 24, 41};
	char in[64], want[512], buf[8];
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t n = lens[l];
		for (size_t i = 0; i < n; i++)
			in[i] = (char)(' ' + i * 7 % 95); /* ' ' to '~' */
		for (size_t pos = 0; pos < n; pos++) {
			char keep = in[pos];
			for (unsigned c = 0; c < 256; c++) {
				in[pos] = (char)c;
				size_t w = 0;
				for (size_t i = 0; i < n; i++) {
					const char *e = escaped((unsigned char)in[i], buf);
					memcpy(want + w, e, strlen(e));
					w += strlen(e);
				}
				want[w] = '\0';
				check_quote(in, n, want);
			}
			in[pos] = keep;
		}
	}
	/* 2, 3 and 4-byte sequences pass whole at every place; one cut
	 * short is a replacement character a byte */
	static const char *const seqs[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\xa5", "\xe2\x82"};
	for (size_t q = 0; q < 4; q++) {
		size_t sn = strlen(seqs[q]);
		for (size_t pos = 0; pos + sn <= 24; pos++) {
			memset(in, 'x', 24);
			memcpy(in + pos, seqs[q], sn);
			size_t w = 0;
			memset(want, 'x', pos);
			w = pos;
			if (q < 3) {
				memcpy(want + w, seqs[q], sn);
				w += sn;
			} else {
				memcpy(want + w, "\\ufffd\\ufffd", 12);
				w += 12;
			}
			memset(want + w, 'x', 24 - pos - sn);
			w += 24 - pos - sn;
			want[w] = '\0';
			check_quote(in, 24, want);
		}
	}
	/* long runs on both sides of an escape */
	char *big = malloc(2001), *bigw = malloc(2003);
	assert_non_null(big);
	assert_non_null(bigw);
	for (size_t i = 0; i < 2001; i++)
		big[i] = (char)('a' + i % 26);
	big[1000] = '\n';
	memcpy(bigw, big, 1000);
	memcpy(bigw + 1000, "\\n", 2);
	memcpy(bigw + 1002, big + 1001, 1000);
	bigw[2002] = '\0';
	check_quote(big, 2001, bigw);
	free(big);
	free(bigw);
}

static void check_number(void (*emit)(struct fd_json *), const char *want)
{
	struct cap c;
	cap_open(&c, false);
	emit(&c.j);
	cap_check(&c, want);
}

static void emit_int_min(struct fd_json *j) { fd_json_int(j, INT64_MIN); }
static void emit_int_max(struct fd_json *j) { fd_json_int(j, INT64_MAX); }
static void emit_uint_max(struct fd_json *j) { fd_json_uint(j, UINT64_MAX); }
static void emit_nan(struct fd_json *j) { fd_json_double(j, NAN); }
static void emit_inf(struct fd_json *j) { fd_json_double(j, -INFINITY); }
static void emit_tenth(struct fd_json *j) { fd_json_double(j, 0.1); }
static void emit_one(struct fd_json *j) { fd_json_double(j, 1.0); }

/* Significant digits of a rendering: mantissa digits without leading and
 * trailing zeros. */
static int sig_digits(const char *s)
{
	char d[40];
	int n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (n || *s != '0'))
			d[n++] = *s;
	while (n && d[n - 1] == '0')
		n--;
	return n ? n : 1;
}

/* The fewest %.Ng digits that read back as v: the reference, by search. */
static int shortest_digits(double v)
{
	char b[40];
	for (int p = 1; p < 17; p++) {
		snprintf(b, sizeof(b), "%.*g", p, v);
		if (strtod(b, NULL) == v)
			return sig_digits(b);
	}
	snprintf(b, sizeof(b), "%.17g", v);
	return sig_digits(b);
}

static void test_numbers(void **state)
{
	(void)state;
	check_number(emit_int_min, "-9223372036854775808");
	check_number(emit_int_max, "9223372036854775807");
	check_number(emit_uint_max, "18446744073709551615");
	check_number(emit_nan, "null");
	check_number(emit_inf, "null");
	check_number(emit_tenth, "0.1");
	check_number(emit_one, "1");

	/* fd_format_int is %lld */
	static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 99, 100, 1234567890, INT64_MAX, INT64_MIN,
				       INT64_MIN + 1};
	char b[32], p[32];
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		size_t k = fd_format_int(b, ints[i]);
		assert_int_equal(k, (size_t)snprintf(p, sizeof(p), "%lld", (long long)ints[i]));
		assert_memory_equal(b, p, k);
	}
	assert_string_equal(fd_format_double(b, 0.1), "0.1");
	assert_string_equal(fd_format_double(b, 1e-05), "1e-05");
	assert_string_equal(fd_format_double(b, 1), "1");
	assert_string_equal(fd_format_double(b, 0), "0");
	assert_string_equal(fd_format_double(b, 2.5), "2.5");
	assert_string_equal(fd_format_double(b, 0.005), "0.005");
	assert_string_equal(fd_format_double(b, 1e300), "1e+300");
	assert_string_equal(fd_format_double(b, 1.0 / 3), "0.3333333333333333");
	assert_string_equal(fd_format_double(b, NAN), "NaN");
	assert_string_equal(fd_format_double(b, INFINITY), "+Inf");
	assert_string_equal(fd_format_double(b, -INFINITY), "-Inf");
	/* shortest round trip, for many values */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		uint64_t bits = x;
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		fd_format_double(b, v);
		assert_true(strtod(b, NULL) == v);
		assert_true(strlen(b) < 32);
		assert_int_equal(sig_digits(b), shortest_digits(v));
	}
	/* and values with few digits, as measurements are: 1 to 17 digits at
	 * every scale, where the fast %.15g path and the search must agree */
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int digits = 1 + (int)(x % 17), scale = (int)((x >> 8) % 40) - 20;
		unsigned long long mod = 1;
		for (int k = 0; k < digits; k++)
			mod *= 10;
		char dec[64];
		snprintf(dec, sizeof(dec), "%llue%d", (unsigned long long)(x >> 16) % mod, scale);
		double v = strtod(dec, NULL);
		if (!isfinite(v))
			continue;
		fd_format_double(b, v);
		assert_true(strtod(b, NULL) == v);
		assert_int_equal(sig_digits(b), shortest_digits(v));
		double a = fabs(v);
		if (a == 0 || (a >= 1e-4 && a < 1e16))
			assert_null(strchr(b, 'e'));
	}
}

/* fd_format_double before it did without printf and strtod: the text it
 * must still give, byte for byte, since outputs were compared against it. */
static char *format_double_printf(char buf[32], double v)
{
	double a = fabs(v);
	bool plain = a == 0 || (a >= 1e-4 && a < 1e16);
	snprintf(buf, 32, "%.15g", v);
	if (strtod(buf, NULL) == v && (!plain || !strchr(buf, 'e')))
		return buf;
	int lo = 1, hi = 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, 32, "%.*g", mid, v);
		if (strtod(buf, NULL) == v)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (int prec = lo; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (!plain || !strchr(buf, 'e'))
			break;
	}
	return buf;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void same_as_printf(double v, unsigned long *n)
{
	char a[32], b[32];
	fd_format_double(a, v);
	format_double_printf(b, v);
	if (strcmp(a, b) != 0)
		fail_msg("%.17g (%a): '%s', printf and strtod give '%s'", v, v, a, b);
	(*n)++;
}

/* Every kind of value the encoders meet, and the edges of the integer
 * arithmetic: the same text as printf and strtod made. */
static void test_double_same_as_printf(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned long n = 0;
	const double edges[] = {1e-4, 1e16, 9.999999999999998e15, 1e15, 0.5, 1.5, 2.5, 0.125,
				9007199254740992.0, 9007199254740993.0, 4503599627370496.0,
				0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 100, 1e5, 123456789012345.6,
				0.00010000000000000002, 5e-324, 1e-300, 1e300, -0.0, 0.0};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (int k = -3; k <= 3; k++) {
			double v = edges[i];
			for (int j = 0; j < (k < 0 ? -k : k); j++)
				v = nextafter(v, k < 0 ? -INFINITY : INFINITY);
			same_as_printf(v, &n);
			same_as_printf(-v, &n);
		}
	/* powers of two (the narrower gap below) and their neighbours */
	for (int e = -20; e <= 60; e++) {
		double v = ldexp(1, e);
		same_as_printf(v, &n);
		same_as_printf(nextafter(v, 0), &n);
		same_as_printf(nextafter(v, INFINITY), &n);
	}
	for (int i = 0; i < 100000; i++) {
		/* any bits with an exponent of the fast range's and around */
		uint64_t r = xorshift(&x);
		uint64_t bits = (r & ((1ULL << 52) - 1)) | (uint64_t)(1023 - 16 + (r >> 52) % 73) << 52;
		double v;
		memcpy(&v, &bits, sizeof(v));
		same_as_printf(v, &n);
		/* durations: nanoseconds as seconds and milliseconds */
		uint64_t ns = xorshift(&x) % 100000000000ULL;
		same_as_printf((double)ns / 1e9, &n);
		same_as_printf((double)ns / 1e6, &n);
		/* decimals of 1 to 17 digits at scales around the range's ends */
		int digits = 1 + (int)(xorshift(&x) % 17), scale = (int)(xorshift(&x) % 26) - 22;
		unsigned long long mod = 1;
		for (int k = 0; k < digits; k++)
			mod *= 10;
		char dec[64];
		snprintf(dec, sizeof(dec), "%llue%d", (unsigned long long)(xorshift(&x) % mod), scale);
		same_as_printf(strtod(dec, NULL), &n);
		/* halves: ties of the rounding at some precision */
		same_as_printf((double)(xorshift(&x) % 2000001) / 2 / (double)(1 << (x % 8)), &n);
		/* integers */
		same_as_printf((double)(xorshift(&x) >> (x % 64)), &n);
	}
	assert_true(n > 500000);
}

static void test_write_error_is_sticky(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	struct fd_json j;
	fd_json_init(&j, f, false);
	fd_json_object_begin(&j);
	fd_json_key(&j, "a");
	fd_json_int(&j, 1);
	fd_json_object_end(&j);
	assert_int_not_equal(j.error, 0);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_compact),
		cmocka_unit_test(test_structure_pretty),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_string_reads_only_n),
		cmocka_unit_test(test_quote_every_position),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_double_same_as_printf),
		cmocka_unit_test(test_write_error_is_sticky),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
