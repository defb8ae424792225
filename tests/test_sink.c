/* record/sink + sinks/: URI parsing of fd_sink_open (file:, bare .fdr,
 * unknown and planned schemes), the file sink end to end, and the wrapper's
 * counting and sticky errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recording/reader.h"
#include "sinks/sink.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

/* a fresh temporary directory per test: tu_dir_setup / tu_dir_teardown */

/* Opening uri fails with code, and the message names the URI and says why. */
static void expect_open_error(const char *uri, int code, const char *why)
{
	struct fd_error err = {0};
	struct fd_sink *s = (struct fd_sink *)1;
	assert_int_equal(fd_sink_open(uri, NULL, &s, &err), -code);
	assert_null(s);
	assert_int_equal(err.code, code);
	char quoted[512];
	snprintf(quoted, sizeof(quoted), "'%s'", uri);
	if (!strstr(err.msg, quoted) || !strstr(err.msg, why))
		fail_msg("opening '%s': message \"%s\" should name the URI and say \"%s\"", uri,
			 err.msg, why);
}

static void test_uri_errors(void **state)
{
	(void)state;
	expect_open_error("bogus:foo", FD_EINPUT, "unknown scheme 'bogus'");
	/* the known schemes and the did-you-mean come from the descriptors */
	expect_open_error("kafak://x:1", FD_EINPUT, "unknown scheme 'kafak' (did you mean 'kafka'?)");
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	assert_int_equal(fd_sink_open("bogus:foo", NULL, &s, &err), -FD_EINPUT);
	for (const struct fd_sink_descriptor *const *d = fd_sink_descriptors; *d; d++) {
		char name[64];
		snprintf(name, sizeof(name), " %s", (*d)->scheme);
		if (!strstr(err.msg, name))
			fail_msg("'%s' not among the known schemes: %s", (*d)->scheme, err.msg);
		assert_ptr_equal(fd_sink_descriptor_find((*d)->scheme), *d);
	}
	expect_open_error("file", FD_EINPUT, "expected SCHEME:");
	expect_open_error("out.txt", FD_EINPUT, "expected SCHEME:");
	expect_open_error("", FD_EINPUT, "expected SCHEME:");
	expect_open_error(".fdr", FD_EINPUT, "expected SCHEME:");
	expect_open_error("file:", FD_EINPUT, "needs a path");
	expect_open_error("file:x.fdr?level=3", FD_EINPUT, "takes no options");
	expect_open_error("otlp-http:http://localhost:4318", FD_EINPUT,
			  "expected otlp-http://HOST:PORT[/PREFIX]");
	expect_open_error("prom-rw:localhost:9090", FD_EINPUT, "needs an http:// or https:// URL");
	expect_open_error("prom-rw:", FD_EINPUT, "needs an http:// or https:// URL");
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?retris=3", FD_EINPUT,
			  "unknown option 'retris' (did you mean 'retries'?)");
	/* the same option rules as every sink (sinks/sink_options.c) */
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?retries=1&retries=2", FD_EINPUT,
			  "option 'retries' given twice");
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?retries=1&&x", FD_EINPUT,
			  "option 'x' needs KEY=VALUE");
	expect_open_error("scrape::0?stale=1m&stale=2m", FD_EINPUT, "option 'stale' given twice");
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?max_samples=0", FD_EINPUT,
			  "option 'max_samples': '0'");
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?timeout=0s", FD_EINPUT,
			  "option 'timeout': '0s': must be at least 1ms");
	expect_open_error("prom-rw:http://localhost:9090/api/v1/write?max_delay", FD_EINPUT,
			  "option 'max_delay' needs KEY=VALUE");
}

/* fd_error_set accepts a NULL err, so every open path must too: the code is
 * still returned (kafka:// once read err->code back after a failed check). */
static void test_uri_errors_without_err(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"bogus:foo", "file:", "dir:", "stdout:nope", "kafka:", "kafka://", "kafka://a b",
		"kafka://a,,b", "prom-rw:", "scrape:x", "otlp-http:", "otlp-http://a b",
		"otlp-https://h:1?bogus=1", "otlp-http://h:1?header=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fd_sink *s = (struct fd_sink *)1;
		int rc = fd_sink_open(bad[i], NULL, &s, NULL);
		if (rc != -FD_EINPUT)
			fail_msg("opening '%s' without an error struct: %d, want %d", bad[i], rc,
				 -FD_EINPUT);
		assert_null(s);
	}
}

static void write_some(struct fd_sink *s, struct fd_synth *syn, int n, uint64_t counts[3])
{
	for (int i = 0; i < n; i++) {
		struct fd_record rec;
		struct fd_error err = {0};
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		assert_int_equal(fd_sink_write(s, &rec, &err), 0);
		counts[rec.signal]++;
	}
}

static void check_recording(const char *path, const uint64_t counts[3], const char *scenario)
{
	struct fd_recording_reader *r;
	struct fd_error err = {0};
	if (fd_recording_reader_open(path, &r, &err) != 0)
		fail_msg("%s", err.msg);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	assert_non_null(ix);
	for (size_t i = 0; i < ix->summary->n_signals; i++)
		assert_int_equal(ix->summary->signals[i]->records, counts[ix->summary->signals[i]->signal]);
	assert_string_equal(fd_recording_reader_header(r)->scenario_name, scenario);
	struct fd_record rec;
	uint64_t n = 0;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0)
		n++;
	if (rc != 0)
		fail_msg("after %llu records: %s", (unsigned long long)n, err.msg);
	assert_int_equal(n, counts[0] + counts[1] + counts[2]);
	fd_recording_reader_destroy(r);
}

static void test_file_sink(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "a.fdr");
	char uri[600];
	snprintf(uri, sizeof(uri), "file:%s", path);
	struct fd_synth_options so = {.seed = 3};
	struct fd_synth_header h;
	fd_synth_header_init(&h, &so, 500);
	struct fd_sink_context ctx = {.header = &h.header};
	struct fd_sink *s;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open(uri, &ctx, &s, &err), 0);
	assert_string_equal(s->uri, uri);
	assert_string_equal(s->impl->name, "file");
	struct fd_synth *syn = fd_synth_create(&so);
	uint64_t counts[3] = {0};
	write_some(s, syn, 500, counts);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s->stats.records[i], counts[i]);
	assert_int_equal(fd_sink_flush(s, &err), 0); /* no flush op: a no-op */
	assert_false(tu_exists(path));               /* nothing under the name yet */
	assert_int_equal(fd_sink_close(s, &err), 0);
	assert_true(s->closed);
	assert_int_equal(fd_sink_close(s, &err), 0); /* closing twice is harmless */
	fd_sink_destroy(s);
	assert_true(tu_exists(path));
	check_recording(path, counts, "synthetic");
	assert_int_equal(tu_count_entries(f->dir, ""), 1);
	fd_synth_destroy(syn);
	free(path);
	fd_sink_destroy(NULL);
}

static void test_bare_path(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "bare.fdr");
	struct fd_sink *s;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open(path, NULL, &s, &err), 0);
	struct fd_synth *syn = fd_synth_create(NULL);
	uint64_t counts[3] = {0};
	write_some(s, syn, 50, counts);
	assert_int_equal(fd_sink_close(s, &err), 0);
	fd_sink_destroy(s);
	check_recording(path, counts, ""); /* no context: an empty header */
	fd_synth_destroy(syn);
	free(path);
}

static void test_destroy_without_close_leaves_nothing(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "partial.fdr");
	struct fd_sink *s;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open(path, NULL, &s, &err), 0);
	struct fd_synth *syn = fd_synth_create(NULL);
	uint64_t counts[3] = {0};
	write_some(s, syn, 3000, counts);
	assert_int_equal(tu_count_entries(f->dir, "partial.fdr.tmp-"), 1);
	fd_sink_destroy(s);
	assert_int_equal(tu_count_entries(f->dir, ""), 0);
	fd_synth_destroy(syn);
	free(path);
}

static void test_file_sink_runtime_errors(void **state)
{
	struct tu_dir_fixture *f = *state;
	/* a directory that does not exist: the sink cannot be created */
	char *path = tu_path(f->dir, "missing/x.fdr");
	struct fd_sink *s = (struct fd_sink *)1;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open(path, NULL, &s, &err), -FD_ERUNTIME);
	assert_null(s);
	assert_int_equal(err.code, FD_ERUNTIME);
	assert_non_null(strstr(err.msg, path));
	free(path);

	/* a bad record is bad input, and the sink stays failed */
	path = tu_path(f->dir, "bad.fdr");
	assert_int_equal(fd_sink_open(path, NULL, &s, &err), 0);
	struct fd_blob b = {0, 1, (const uint8_t *)"r"};
	struct fd_record bad = {1, (enum fd_signal)7, &b, &b, (const uint8_t *)"p", 1};
	assert_int_equal(fd_sink_write(s, &bad, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "unknown signal"));
	struct fd_record good = {2, FD_SIGNAL_LOGS, &b, &b, (const uint8_t *)"p", 1};
	struct fd_error err2 = {0};
	assert_int_equal(fd_sink_write(s, &good, &err2), -FD_EINPUT);
	assert_string_equal(err2.msg, err.msg);
	assert_int_equal(fd_sink_close(s, &err2), -FD_EINPUT);
	assert_int_equal(s->stats.records[FD_SIGNAL_LOGS], 0);
	fd_sink_destroy(s);
	assert_false(tu_exists(path));
	assert_int_equal(tu_count_entries(f->dir, ""), 0);
	free(path);
}

/* A sink of our own behind the interface: fails its Nth write or its close. */
struct test_sink {
	struct fd_sink base;
	int writes, flushes, closes, fail_write_at;
	bool fail_close;
	int *destroyed;
};

static int ts_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct test_sink *t = (struct test_sink *)sink;
	(void)rec;
	t->writes++;
	if (t->writes == t->fail_write_at)
		return fd_error_set(err, FD_ERUNTIME, "boom at write %d", t->writes);
	return 0;
}

static int ts_flush(struct fd_sink *sink, struct fd_error *err)
{
	(void)err;
	((struct test_sink *)sink)->flushes++;
	return 0;
}

static int ts_close(struct fd_sink *sink, struct fd_error *err)
{
	struct test_sink *t = (struct test_sink *)sink;
	t->closes++;
	if (t->fail_close)
		return fd_error_set(err, FD_ERUNTIME, "3 records not delivered");
	return 0;
}

static void ts_destroy(struct fd_sink *sink)
{
	struct test_sink *t = (struct test_sink *)sink;
	(*t->destroyed)++;
	free(t);
}

static const struct fd_sink_impl ts_impl = {
	.name = "test", .write = ts_write, .flush = ts_flush, .close = ts_close, .destroy = ts_destroy};

static struct test_sink *ts_new(int *destroyed)
{
	struct test_sink *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(fd_sink_init(&t->base, &ts_impl, "test:x"), 0);
	t->destroyed = destroyed;
	return t;
}

static void test_sticky_errors(void **state)
{
	(void)state;
	int destroyed = 0;
	struct test_sink *t = ts_new(&destroyed);
	t->fail_write_at = 3;
	struct fd_sink *s = &t->base;
	struct fd_blob b = {0, 1, (const uint8_t *)"r"};
	struct fd_record rec = {5, FD_SIGNAL_METRICS, &b, &b, (const uint8_t *)"abc", 3};
	struct fd_error err = {0};
	assert_int_equal(fd_sink_write(s, &rec, &err), 0);
	assert_int_equal(fd_sink_write(s, &rec, &err), 0);
	assert_int_equal(fd_sink_flush(s, &err), 0);
	assert_int_equal(t->flushes, 1);
	assert_int_equal(fd_sink_write(s, &rec, &err), -FD_ERUNTIME);
	assert_string_equal(err.msg, "boom at write 3");
	/* every later call replays the first failure without calling the sink */
	for (int i = 0; i < 3; i++) {
		struct fd_error e2 = {0};
		assert_int_equal(fd_sink_write(s, &rec, &e2), -FD_ERUNTIME);
		assert_string_equal(e2.msg, "boom at write 3");
		assert_int_equal(e2.code, FD_ERUNTIME);
	}
	struct fd_error e3 = {0};
	assert_int_equal(fd_sink_flush(s, &e3), -FD_ERUNTIME);
	assert_string_equal(e3.msg, "boom at write 3");
	assert_int_equal(fd_sink_close(s, &e3), -FD_ERUNTIME);
	assert_int_equal(fd_sink_write(s, &rec, NULL), -FD_ERUNTIME);
	assert_int_equal(t->writes, 3);
	assert_int_equal(t->flushes, 1);
	assert_int_equal(t->closes, 0);
	assert_false(s->closed);
	/* only the successful writes count */
	assert_int_equal(s->stats.records[FD_SIGNAL_METRICS], 2);
	assert_int_equal(s->stats.bytes[FD_SIGNAL_METRICS], 6);
	assert_int_equal(s->stats.records[FD_SIGNAL_TRACES], 0);
	fd_sink_destroy(s);
	assert_int_equal(destroyed, 1);

	/* a failed close is sticky too, and close runs once */
	t = ts_new(&destroyed);
	t->fail_close = true;
	s = &t->base;
	assert_int_equal(fd_sink_write(s, &rec, &err), 0);
	assert_int_equal(fd_sink_close(s, &err), -FD_ERUNTIME);
	assert_string_equal(err.msg, "3 records not delivered");
	struct fd_error e4 = {0};
	assert_int_equal(fd_sink_close(s, &e4), -FD_ERUNTIME);
	assert_string_equal(e4.msg, "3 records not delivered");
	assert_int_equal(fd_sink_write(s, &rec, &e4), -FD_ERUNTIME);
	assert_int_equal(t->closes, 1);
	assert_int_equal(t->writes, 1);
	fd_sink_destroy(s);
	assert_int_equal(destroyed, 2);

	/* a healthy sink closes once however often it is asked */
	t = ts_new(&destroyed);
	s = &t->base;
	assert_int_equal(fd_sink_close(s, &err), 0);
	assert_int_equal(fd_sink_close(s, &err), 0);
	assert_int_equal(t->closes, 1);
	fd_sink_destroy(s);
	assert_int_equal(destroyed, 3);
}

/* A password in a sink's URL never shows: not in the error, not in the
 * URI the summary prints, not in the report line. */
static void test_secrets_not_shown(void **state)
{
	(void)state;
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	/* nobody listens on port 1: refused at once, and retries=0 */
	const char *uri = "prom-rw:http://user:hunter2@127.0.0.1:1/api/v1/write?retries=0&timeout=2s";
	if (fd_sink_open(uri, NULL, &s, &err) < 0)
		fail_msg("open: %s", err.msg);
	assert_null(strstr(s->uri, "hunter2"));
	assert_non_null(strstr(s->uri, "user:***@127.0.0.1:1"));
	struct fd_synth *syn = fd_synth_create(NULL);
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		rc = fd_sink_write(s, &rec, &err);
	}
	if (rc == 0)
		rc = fd_sink_close(s, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	if (strstr(err.msg, "hunter2") || !strstr(err.msg, "user:***@"))
		fail_msg("the error shows the password: %s", err.msg);
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	assert_null(strstr(line, "hunter2"));
	fd_sink_destroy(s);
	fd_synth_destroy(syn);

	/* an error at open names the URI with its secrets hidden */
	assert_int_equal(fd_sink_open("prom-rw:http://u:hunter2@h/w?retris=1", NULL, &s, &err),
			 -FD_EINPUT);
	if (strstr(err.msg, "hunter2") || !strstr(err.msg, "u:***@h"))
		fail_msg("open error: %s", err.msg);
	assert_int_equal(fd_sink_open("kafka://h:1?X.sasl.password=hunter2&formt=x", NULL, &s, &err),
			 -FD_EINPUT);
	if (strstr(err.msg, "hunter2"))
		fail_msg("open error: %s", err.msg);
}

/* Send durations land in the bucket whose bound is the first at or above
 * them; quantiles interpolate within a bucket as histogram_quantile does. */
static void test_live_latency(void **state)
{
	(void)state;
	struct fd_sink s;
	static const struct fd_sink_impl impl = {.name = "t"};
	assert_int_equal(fd_sink_init(&s, &impl, "t:"), 0);
	fd_sink_live_send(&s, 100000);      /* 100 us: exactly the first bound */
	fd_sink_live_send(&s, 100001);      /* just above: the second bucket */
	fd_sink_live_send(&s, -5);          /* a clock step back counts as 0 */
	fd_sink_live_send(&s, 90000000000); /* 90 s: +Inf */
	assert_int_equal(s.live.latency[0], 2);
	assert_int_equal(s.live.latency[1], 1);
	assert_int_equal(s.live.latency[FD_SINK_LATENCY_BUCKETS - 1], 1);
	assert_int_equal(s.live.latency_sum_ns, 100000 + 100001 + 90000000000ull);
	free(s.uri);

	uint64_t n[FD_SINK_LATENCY_BUCKETS] = {0};
	assert_true(fd_sink_latency_quantile(n, 0.5) < 0); /* nothing sent */
	n[3] = 100; /* (0.5 ms, 1 ms] */
	assert_float_equal(fd_sink_latency_quantile(n, 0.5), 0.00075, 1e-12);
	assert_float_equal(fd_sink_latency_quantile(n, 1), 0.001, 1e-12);
	n[12] = 100; /* (0.5 s, 1 s]: the median is at the top of the lower bucket */
	assert_float_equal(fd_sink_latency_quantile(n, 0.5), 0.001, 1e-12);
	assert_float_equal(fd_sink_latency_quantile(n, 0.99), 0.5 + 0.5 * 98 / 100, 1e-12);
	n[FD_SINK_LATENCY_BUCKETS - 1] = 1000;
	assert_true(isinf(fd_sink_latency_quantile(n, 0.99)));
	/* bounds increase, as a Prometheus histogram's le must */
	for (size_t i = 1; i < FD_SINK_LATENCY_BUCKETS - 1; i++)
		assert_true(fd_sink_latency_bounds[i] > fd_sink_latency_bounds[i - 1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_errors),
		cmocka_unit_test(test_uri_errors_without_err),
		cmocka_unit_test_setup_teardown(test_file_sink, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_bare_path, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_without_close_leaves_nothing, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_sink_runtime_errors, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test(test_sticky_errors),
		cmocka_unit_test(test_secrets_not_shown),
		cmocka_unit_test(test_live_latency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
