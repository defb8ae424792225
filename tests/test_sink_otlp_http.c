/* sinks/otlp_http: against an in-process OTLP/HTTP receiver
 * (tests/support/otlp_receiver.c) that decodes every request with the
 * schema: every record arrives exactly once with the same bytes (as a
 * canonical multiset), in protobuf and JSON, gzip or not, under a URL
 * prefix, with header= headers; faults (503 then 200, 429 with
 * Retry-After, an answer slower than the timeout, a reset connection) are
 * retried without loss or duplicates; a partial success, a permanent 400,
 * a 401, giving up and a receiver that is not there are counted exactly
 * and fail close; secrets never show in messages; bad URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sinks/sink.h"
#include "tests/support/otlp_receiver.h"
#include "tests/support/recset.h"
#include "tests/support/synth.h"

/* Writes n records of the synthetic stream (only signal `only` when >= 0)
 * to the sink at uri, keeping what was written in *sent. Returns close's
 * result; *err has its message. */
static int push(const char *uri, size_t n, int only, struct recset *sent, struct fd_sink **out,
		struct fd_error *err)
{
	struct fd_synth_options so = {.seed = 7, .services = 4};
	struct fd_synth *syn = fd_synth_create(&so);
	assert_non_null(syn);
	struct fd_sink *s = NULL;
	int rc = fd_sink_open(uri, NULL, &s, err);
	if (rc < 0) {
		fd_synth_destroy(syn);
		return rc;
	}
	memset(sent, 0, sizeof(*sent));
	for (size_t i = 0; i < n && rc == 0;) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		if (only >= 0 && (int)rec.signal != only)
			continue;
		assert_int_equal(recset_add(sent, true, rec.signal, 0, rec.resource->data,
					    rec.resource->len, rec.scope->data, rec.scope->len,
					    rec.payload, rec.payload_len),
				 0);
		rc = fd_sink_write(s, &rec, err);
		i++;
	}
	if (rc == 0)
		rc = fd_sink_close(s, err);
	recset_sort(sent);
	fd_synth_destroy(syn);
	if (out)
		*out = s;
	else
		fd_sink_destroy(s);
	return rc;
}

static char *uri_for(const struct rcv *r, const char *rest)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf), "otlp-http://127.0.0.1:%u%s", rcv_port(r), rest);
	return buf;
}

static void expect_same(struct rcv *r, const struct recset *sent)
{
	assert_int_equal(recset_compare(rcv_records(r), sent), 0);
}

static void all_signals_protobuf_gzip(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	assert_non_null(r);
	struct recset sent;
	struct fd_error err = {0};
	int rc = push(uri_for(r, "?batch_records=300"), 5000, -1, &sent, NULL, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	expect_same(r, &sent);
	struct rcv_stats st;
	rcv_stats(r, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.gzip, st.requests);
	assert_int_equal(st.proto, st.requests);
	assert_true(st.records[0] > 0 && st.records[1] > 0 && st.records[2] > 0);
	assert_true(st.requests >= 5000 / 300);
	char agent[256];
	rcv_last_header(r, "User-Agent", agent, sizeof(agent));
	assert_non_null(strstr(agent, "firedrill/"));
	recset_free(&sent);
	rcv_stop(r);
}

/* JSON under batch_bytes: every request's JSON text fits. */
static void json_uncompressed_within_batch_bytes(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	struct recset sent;
	struct fd_error err = {0};
	assert_int_equal(push(uri_for(r, "?encoding=json&compression=none&batch_bytes=16KiB"), 3000,
			      -1, &sent, NULL, &err),
			 0);
	expect_same(r, &sent);
	struct rcv_stats st;
	rcv_stats(r, &st);
	assert_int_equal(st.json, st.requests);
	assert_int_equal(st.gzip, 0);
	assert_int_equal(st.malformed, 0);
	assert_true(st.max_len <= 16384);
	assert_true(st.max_len > 8192); /* the limit, not something far below it */
	recset_free(&sent);
	rcv_stop(r);
}

/* A path prefix and headers; the header values never show in the sink's
 * name (printed in the summary) or its report. */
static void prefix_and_headers(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	struct recset sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	assert_int_equal(push(uri_for(r, "/otlp/?header=X-Scope-OrgID:tenant1&header=Authorization:"
					 "Bearer s3cret&concurrency=2"),
			      500, -1, &sent, &s, &err),
			 0);
	expect_same(r, &sent);
	char v[256];
	rcv_last_header(r, "X-Scope-OrgID", v, sizeof(v));
	assert_string_equal(v, "tenant1");
	rcv_last_header(r, "Authorization", v, sizeof(v));
	assert_string_equal(v, "Bearer s3cret");
	assert_null(strstr(s->uri, "s3cret"));
	assert_null(strstr(s->uri, "tenant1"));
	assert_non_null(strstr(s->uri, "header=Authorization:***"));
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	assert_null(strstr(line, "s3cret"));
	fd_sink_destroy(s);
	recset_free(&sent);
	rcv_stop(r);
}

/* Each scripted fault is retried; exactly the records sent arrive, once. */
static void faults_retried(const struct rcv_answer *faults, int n, const char *opts)
{
	struct rcv *r = rcv_start();
	rcv_script(r, faults, n);
	struct recset sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	char rest[512];
	snprintf(rest, sizeof(rest), "?batch_records=200&retry_initial=1ms&retry_max=20ms%s", opts);
	int rc = push(uri_for(r, rest), 2000, -1, &sent, &s, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	expect_same(r, &sent);
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	char want[64];
	snprintf(want, sizeof(want), "%d retries", n);
	assert_non_null(strstr(line, want));
	assert_non_null(strstr(line, "0 rejected, 0 failed"));
	fd_sink_destroy(s);
	recset_free(&sent);
	rcv_stop(r);
}

static void retry_503_then_200(void **state)
{
	(void)state;
	const struct rcv_answer a[] = {{.status = 503}, {.status = 503}, {.status = 502},
				       {.status = 504}};
	faults_retried(a, 4, "");
}

static void retry_429_with_retry_after(void **state)
{
	(void)state;
	const struct rcv_answer a[] = {{.status = 429, .retry_after = 1}};
	faults_retried(a, 1, "");
}

static void retry_slow_answer_past_timeout(void **state)
{
	(void)state;
	/* the receiver answers 503 after the client gave up: not kept. The
	 * other requests must be answered within the timeout (a late 200 is
	 * a duplicate when retried): 2s leaves room for a loaded machine and
	 * the sanitizers (300ms and 1s failed under ASan at load 28). */
	const struct rcv_answer a[] = {{.status = 503, .delay_ms = 5000}};
	faults_retried(a, 1, "&timeout=2s");
}

static void slow_answers_within_timeout(void **state)
{
	(void)state;
	const struct rcv_answer a[] = {{.delay_ms = 300}, {.delay_ms = 300}, {.delay_ms = 300}};
	struct rcv *r = rcv_start();
	rcv_script(r, a, 3);
	struct recset sent;
	struct fd_error err = {0};
	assert_int_equal(push(uri_for(r, "?batch_records=100&concurrency=3"), 1000, -1, &sent, NULL,
			      &err),
			 0);
	expect_same(r, &sent);
	recset_free(&sent);
	rcv_stop(r);
}

static void retry_reset_connection(void **state)
{
	(void)state;
	const struct rcv_answer a[] = {{.reset = true}, {.reset = true}};
	faults_retried(a, 2, "");
}

/* 200 with a partial success: every record arrived, but the receiver
 * says it rejected 5; close fails and names the count. */
static void partial_success_counted(void **state)
{
	(void)state;
	for (int json = 0; json < 2; json++) {
		struct rcv *r = rcv_start();
		const struct rcv_answer a[] = {{.rejected = 5}};
		rcv_script(r, a, 1);
		struct recset sent;
		struct fd_error err = {0};
		struct fd_sink *s = NULL;
		int rc = push(uri_for(r, json ? "?encoding=json" : ""), 1000, 0, &sent, &s, &err);
		assert_int_equal(rc, -FD_ERUNTIME);
		assert_non_null(strstr(err.msg, "5 spans, 0 data points, 0 log records"));
		assert_non_null(strstr(err.msg, "test rejection"));
		char line[512];
		fd_sink_report(s, line, sizeof(line));
		assert_non_null(strstr(line, "995 records accepted, 5 rejected, 0 failed"));
		expect_same(r, &sent);
		fd_sink_destroy(s);
		recset_free(&sent);
		rcv_stop(r);
	}
}

/* A 400 is final: that request's records fail, the rest go on. */
static void permanent_400_counted(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	const struct rcv_answer a[] = {{.status = 400, .body = "bad data\nmore"}};
	rcv_script(r, a, 1);
	struct recset sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	int rc = push(uri_for(r, "?batch_records=100&concurrency=1"), 1000, 2, &sent, &s, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "100 records failed in 1 requests"));
	assert_non_null(strstr(err.msg, "HTTP 400: bad data"));
	struct rcv_stats st;
	rcv_stats(r, &st);
	assert_int_equal(st.records[2], 900);
	assert_int_equal(rcv_records(r)->n, 900);
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	assert_non_null(strstr(line, "900 records accepted, 0 rejected, 100 failed, 0 retries"));
	fd_sink_destroy(s);
	recset_free(&sent);
	rcv_stop(r);
}

/* 401: no later request could succeed; the stream stops with the reason. */
static void unauthorized_stops(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	struct rcv_answer a[64];
	for (int i = 0; i < 64; i++)
		a[i] = (struct rcv_answer){.status = 401, .body = "no token"};
	rcv_script(r, a, 64);
	struct recset sent;
	struct fd_error err = {0};
	int rc = push(uri_for(r, "?batch_records=10&concurrency=1&header=Authorization:Bearer%20x"),
		      2000, -1, &sent, NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "HTTP 401: no token"));
	assert_non_null(strstr(err.msg, "refused"));
	struct rcv_stats st;
	rcv_stats(r, &st);
	assert_true(st.requests < 64); /* stopped, not 200 requests refused one by one */
	recset_free(&sent);
	rcv_stop(r);
}

/* retry_elapsed=0: a 503 is not retried; its records fail. */
static void no_retries_when_elapsed_zero(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	const struct rcv_answer a[] = {{.status = 503}};
	rcv_script(r, a, 1);
	struct recset sent;
	struct fd_error err = {0};
	int rc = push(uri_for(r, "?batch_records=100&concurrency=1&retry_elapsed=0"), 500, 1, &sent,
		      NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "100 records failed in 1 requests"));
	assert_non_null(strstr(err.msg, "gave up after 1 attempt in"));
	assert_int_equal(rcv_records(r)->n, 400);
	recset_free(&sent);
	rcv_stop(r);
}

/* Nobody listening: every record fails once the retries are used up. */
static void receiver_absent(void **state)
{
	(void)state;
	struct rcv *r = rcv_start();
	unsigned port = rcv_port(r);
	rcv_stop(r); /* the port is now closed */
	char uri[256];
	snprintf(uri, sizeof(uri),
		 "otlp-http://127.0.0.1:%u?retry_initial=1ms&retry_max=5ms&retry_elapsed=50ms", port);
	struct recset sent;
	struct fd_error err = {0};
	int rc = push(uri, 1500, -1, &sent, NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "of 1500 records, 0 in accepted requests"));
	assert_non_null(strstr(err.msg, "1500 records failed"));
	recset_free(&sent);
}

static void bad_uris(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"otlp-http:localhost:4318",
		"otlp-http://",
		"otlp-http://?encoding=json",
		"otlp-http://h:1?encoding=xml",
		"otlp-http://h:1?compression=zstd",
		"otlp-http://h:1?bogus=1",
		"otlp-http://h:1?header=nocolon",
		"otlp-http://h:1?header=:value",
		"otlp-http://h:1?timeout=0",
		"otlp-http://h:1?concurrency=0",
		"otlp-http://h:1?encoding=json&encoding=proto",
		"otlp-http://h 1",
		"otlp-https://h:1?insecure=maybe",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fd_sink *s = NULL;
		struct fd_error err = {0};
		int rc = fd_sink_open(bad[i], NULL, &s, &err);
		if (rc != -FD_EINPUT)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		assert_int_equal(rc, -FD_EINPUT);
		assert_null(s);
		assert_non_null(strstr(err.msg, "sink '"));
	}
	/* a secret in a URI with another mistake is not quoted back */
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open("otlp-http://h:1?header=Authorization:Bearer s3cret&passwrd=x",
				      NULL, &s, &err),
			 -FD_EINPUT);
	assert_null(strstr(err.msg, "s3cret"));
	assert_non_null(strstr(err.msg, "did you mean 'password'"));
	/* and several headers, TLS options and a prefix are fine */
	assert_int_equal(fd_sink_open("otlp-https://h:1/a/b?header=A:1&header=B:2&ca=/x&cert=/y&key=/z&"
				      "insecure=true&user=u&password=p",
				      NULL, &s, &err),
			 0);
	assert_null(strstr(s->uri, "=p"));
	fd_sink_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_signals_protobuf_gzip),
		cmocka_unit_test(json_uncompressed_within_batch_bytes),
		cmocka_unit_test(prefix_and_headers),
		cmocka_unit_test(retry_503_then_200),
		cmocka_unit_test(retry_429_with_retry_after),
		cmocka_unit_test(retry_slow_answer_past_timeout),
		cmocka_unit_test(slow_answers_within_timeout),
		cmocka_unit_test(retry_reset_connection),
		cmocka_unit_test(partial_success_counted),
		cmocka_unit_test(permanent_400_counted),
		cmocka_unit_test(unauthorized_stops),
		cmocka_unit_test(no_retries_when_elapsed_zero),
		cmocka_unit_test(receiver_absent),
		cmocka_unit_test(bad_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
