/* common/: errors as values (set, prefix, clear, truncation) and the
 * rendering of times, durations and sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/error.h"
#include "common/redact.h"
#include "common/timefmt.h"

static void test_error_set(void **state)
{
	(void)state;
	struct fd_error e = {0};
	assert_int_equal(fd_error_set(&e, FD_EINPUT, "bad %s %d", "thing", 7), -FD_EINPUT);
	assert_int_equal(e.code, FD_EINPUT);
	assert_string_equal(e.msg, "bad thing 7");
	assert_int_equal(fd_error_set(&e, FD_ERUNTIME, "io"), -FD_ERUNTIME);
	assert_int_equal(e.code, FD_ERUNTIME);
	assert_string_equal(e.msg, "io");
	/* NULL: only the code comes back */
	assert_int_equal(fd_error_set(NULL, FD_EINPUT, "dropped"), -2);
	/* exit statuses are the codes */
	assert_int_equal(FD_EINPUT, 2);
	assert_int_equal(FD_ERUNTIME, 1);
	/* a long message is truncated, still terminated */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fd_error_set(&e, FD_EINPUT, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	fd_error_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	fd_error_clear(NULL);
}

static void test_error_prefix(void **state)
{
	(void)state;
	struct fd_error e = {0};
	fd_error_set(&e, FD_EINPUT, "block 3 at byte offset 120: data checksum mismatch");
	assert_int_equal(fd_error_prefix(&e, "%s", "x.fdr"), -FD_EINPUT);
	assert_string_equal(e.msg, "x.fdr: block 3 at byte offset 120: data checksum mismatch");
	assert_int_equal(e.code, FD_EINPUT);
	fd_error_prefix(&e, "replay %d", 2);
	assert_string_equal(e.msg, "replay 2: x.fdr: block 3 at byte offset 120: data checksum mismatch");
	/* no code yet: becomes a runtime failure */
	struct fd_error f = {0};
	assert_int_equal(fd_error_prefix(&f, "ctx"), -FD_ERUNTIME);
	assert_string_equal(f.msg, "ctx: ");
	assert_int_equal(fd_error_prefix(NULL, "ctx"), -FD_ERUNTIME);
	/* a huge prefix and a full message: truncated, terminated, start kept */
	char big[2000];
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(e.msg, 'm', sizeof(e.msg) - 1);
	e.msg[sizeof(e.msg) - 1] = '\0';
	fd_error_prefix(&e, "%s", big);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_int_equal(e.msg[0], 'p');
	fd_error_set(&e, FD_EINPUT, "tail");
	fd_error_prefix(&e, "%s", big);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_int_equal(strncmp(e.msg, "ppp", 3), 0);
}

static void test_format_time(void **state)
{
	(void)state;
	char b[64];
	assert_string_equal(fd_format_time(b, sizeof(b), 0), "1970-01-01T00:00:00.000Z");
	assert_string_equal(fd_format_time(b, sizeof(b), 1768482000000000000LL),
			    "2026-01-15T13:00:00.000Z");
	assert_string_equal(fd_format_time(b, sizeof(b), 1768482000123999999LL),
			    "2026-01-15T13:00:00.123Z");
	/* before the epoch: the millisecond field stays in 0..999 */
	assert_string_equal(fd_format_time(b, sizeof(b), -1), "1969-12-31T23:59:59.999Z");
	assert_string_equal(fd_format_time(b, sizeof(b), -1000000000LL), "1969-12-31T23:59:59.000Z");
	/* leap day */
	assert_string_equal(fd_format_time(b, sizeof(b), 951782400000000000LL),
			    "2000-02-29T00:00:00.000Z");
	/* the extremes do not crash and stay terminated */
	fd_format_time(b, sizeof(b), INT64_MAX);
	assert_true(strlen(b) > 0 && strlen(b) < sizeof(b));
	fd_format_time(b, sizeof(b), INT64_MIN);
	assert_true(strlen(b) > 0 && strlen(b) < sizeof(b));
	/* a small buffer is truncated, not overrun */
	char s[8];
	fd_format_time(s, sizeof(s), 0);
	assert_string_equal(s, "1970-01");
	/* the date arithmetic against the C library's gmtime_r, on every
	 * day and at random times over the whole range of int64_t
	 * nanoseconds */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 400000; i++) {
		int64_t ns;
		if (i < 212000) {
			/* every day from 1679 to 2260, the years int64_t nanoseconds
			 * reach (1700, 1800, 1900, 2100, 2200 are not leap years,
			 * 2000 is) */
			ns = ((int64_t)(i - 106000) * 86400 + i % 86400) * 1000000000 + i % 1000 * 1000000;
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ns = (int64_t)x;
		}
		int64_t sec = ns / 1000000000, rem = ns % 1000000000;
		if (rem < 0) {
			rem += 1000000000;
			sec--;
		}
		time_t t = (time_t)sec;
		struct tm tm;
		assert_non_null(gmtime_r(&t, &tm));
		char want[64];
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
		if (strcmp(fd_format_time(b, sizeof(b), ns), want) != 0)
			fail_msg("%lld: %s, gmtime_r says %s", (long long)ns, b, want);
	}
}

static void test_format_duration(void **state)
{
	(void)state;
	char b[64];
	const int64_t ms = 1000000, s = 1000 * ms, m = 60 * s, h = 60 * m, d = 24 * h;
	assert_string_equal(fd_format_duration(b, sizeof(b), 0), "0s");
	assert_string_equal(fd_format_duration(b, sizeof(b), 999999), "0s");
	assert_string_equal(fd_format_duration(b, sizeof(b), 90 * ms), "90ms");
	assert_string_equal(fd_format_duration(b, sizeof(b), 2 * h), "2h");
	assert_string_equal(fd_format_duration(b, sizeof(b), h + 30 * m), "1h30m");
	assert_string_equal(fd_format_duration(b, sizeof(b), d + 2 * h + 3 * m + 4 * s + 5 * ms),
			    "1d2h3m4s5ms");
	assert_string_equal(fd_format_duration(b, sizeof(b), -(30 * s)), "-30s");
	assert_string_equal(fd_format_duration(b, sizeof(b), INT64_MAX), "106751d23h47m16s854ms");
	assert_string_equal(fd_format_duration(b, sizeof(b), INT64_MIN), "-106751d23h47m16s854ms");
	char t[4];
	fd_format_duration(t, sizeof(t), d + 2 * h + 3 * m);
	assert_true(strlen(t) < sizeof(t));
}

static void test_format_bytes(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fd_format_bytes(b, sizeof(b), 0), "0 B");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 512), "512 B");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1024), "1.0 KiB");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1536), "1.5 KiB");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 12897485), "12.3 MiB");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1ULL << 30), "1.0 GiB");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1ULL << 40), "1.0 TiB");
	assert_string_equal(fd_format_bytes(b, sizeof(b), 1ULL << 50), "1024.0 TiB");
}

/* ---- redaction (common/redact.h) ---- */

static void test_redact_keys(void **state)
{
	(void)state;
	static const char *const secret[] = {
		"sasl.password", "X.sasl.password", "sasl.pasword", /* a typo is still one */
		"ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
		"sasl.oauthbearer.client.secrt", "sasl.jaas.config", "sasl.oauthbearer.config",
		"ssl.key.pem", "my_password", "api_key", "token", "header", "headers",
		"Authorization", "ssl.key.passphrase",
	};
	static const char *const plain[] = {
		"acks", "bootstrap.servers", "sasl.username", "sasl.mechanisms", "security.protocol",
		"format", "topic_logs", "batch_bytes", "partition", "linger.ms", "compression",
		"ssl.ca.location", "timestamp", "max_samples",
	};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!fd_redact_secret_key(secret[i]))
			fail_msg("'%s' should be a secret", secret[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (fd_redact_secret_key(plain[i]))
			fail_msg("'%s' should not be a secret", plain[i]);
}

static void test_redact_uri(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"prom-rw:http://user:hunter2@host:9090/api/v1/write",
		 "prom-rw:http://user:***@host:9090/api/v1/write"},
		{"prom-rw:https://u:p%40ss@h/w?retries=3", "prom-rw:https://u:***@h/w?retries=3"},
		{"prom-rw:http://user@host/w", "prom-rw:http://user@host/w"}, /* no password */
		{"prom-rw:http://host/w?x=a@b:c", "prom-rw:http://host/w?x=a@b:c"},
		{"kafka://b:9092?X.sasl.password=hunter2&format=ecs",
		 "kafka://b:9092?X.sasl.password=***&format=ecs"},
		{"kafka://b:9092?X.sasl.pasword=hunter2", "kafka://b:9092?X.sasl.pasword=***"},
		{"otlp-http:http://h:4318?header=Authorization: Bearer hunter2&timeout=1s",
		 "otlp-http:http://h:4318?header=Authorization:***&timeout=1s"},
		{"otlp-http:http://h?headers=hunter2", "otlp-http:http://h?headers=***"},
		{"dir:out?format=text", "dir:out?format=text"},
		{"file:a@b:c.fdr", "file:a@b:c.fdr"},
		{"x.fdr", "x.fdr"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		fd_redact_uri(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("redact '%s': '%s', want '%s'", cases[i].in, out, cases[i].out);
	}
	/* cut short, always terminated */
	char small[12];
	fd_redact_uri("prom-rw:http://user:hunter2@host/", small, sizeof(small));
	assert_string_equal(small, "prom-rw:htt");
	fd_redact_uri("prom-rw:http://user:hunter2@host/", small, 1);
	assert_string_equal(small, "");
}

static void test_redact_values(void **state)
{
	(void)state;
	char text[] = "Invalid value \"hunter2\" for hunter2; ok";
	const char *values[] = {"hunter2", "ok", NULL};
	fd_redact_values(text, values, 3);
	assert_string_equal(text, "Invalid value \"*******\" for *******; ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set),
		cmocka_unit_test(test_error_prefix),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_bytes),
		cmocka_unit_test(test_redact_keys),
		cmocka_unit_test(test_redact_uri),
		cmocka_unit_test(test_redact_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
