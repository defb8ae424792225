/*
 * prom-rw: against an in-process remote-write receiver
 * (tests/support/http_receiver.h: libmicrohttpd on loopback, scripted
 * answers) that decodes each request with the schema
 * (schemas/prometheus/remote.proto) after snappy: the protocol's headers
 * and header= / basic auth, labels sorted and unique with __name__, every
 * series in time order across requests, every sample the converter makes
 * delivered exactly once, and the answers: 503/429 retried with the same
 * body and counted as retries, "out of order sample" dropped and counted,
 * another 4xx an error naming status and body, the timer sending a batch
 * nobody flushes, a writer not held up by a request in flight, an
 * interrupt that ends the retries, and destroy that does not wait them
 * out. The end-to-end test against a real Prometheus is
 * tests/prom/remote_write.sh.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"
#include "prometheus/remote.pb-c.h"
#include "sinks/prom_series.h"
#include "sinks/sink.h"
#include "tests/support/http_receiver.h"
#include "tests/support/synth.h"

#define MAX_SERIES 4096
#define MAX_REQUESTS 4096

/* ---- what the receiver checks (its handler runs under its lock) ---- */

struct rx {
	struct hrcv *http;
	uint64_t hash[MAX_REQUESTS]; /* each request's body as sent */
	size_t requests;
	uint64_t samples_ok, samples_all;
	char problem[1024]; /* the first thing wrong with a request */
	char tenant[64], auth[64];
	struct {
		char *key;
		int64_t last_ms;
	} series[MAX_SERIES];
	size_t n_series;
};

static void problem(struct rx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct rx *r, const char *fmt, ...)
{
	if (r->problem[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->problem, sizeof(r->problem), fmt, ap);
	va_end(ap);
}

static int64_t *series_last(struct rx *r, const char *key)
{
	for (size_t i = 0; i < r->n_series; i++)
		if (strcmp(r->series[i].key, key) == 0)
			return &r->series[i].last_ms;
	if (r->n_series == MAX_SERIES)
		return NULL;
	r->series[r->n_series].key = strdup(key);
	r->series[r->n_series].last_ms = INT64_MIN;
	return &r->series[r->n_series++].last_ms;
}

/* Decodes and checks one request; returns its sample count. Time order
 * across requests is checked for the ones accepted. */
static uint64_t check_request(struct rx *r, const struct hrcv_request *req)
{
	static const char *const want[][2] = {
		{"Content-Encoding", "snappy"},
		{"Content-Type", "application/x-protobuf"},
		{"X-Prometheus-Remote-Write-Version", "0.1.0"},
	};
	for (size_t i = 0; i < 3; i++) {
		const char *v = hrcv_header(req, want[i][0]);
		if (!v || strcmp(v, want[i][1]) != 0)
			problem(r, "header %s: %s", want[i][0], v ? v : "(none)");
	}
	const char *v = hrcv_header(req, "X-Scope-OrgID");
	snprintf(r->tenant, sizeof(r->tenant), "%s", v ? v : "");
	v = hrcv_header(req, "Authorization");
	snprintf(r->auth, sizeof(r->auth), "%s", v ? v : "");
	if (strcmp(req->method, "POST") != 0)
		problem(r, "a %s request", req->method);
	size_t raw_len;
	const char *in = (const char *)req->body;
	if (snappy_uncompressed_length(in, req->len, &raw_len) != SNAPPY_OK) {
		problem(r, "request %zu: not snappy", r->requests);
		return 0;
	}
	char *raw = malloc(raw_len ? raw_len : 1);
	if (!raw || snappy_uncompress(in, req->len, raw, &raw_len) != SNAPPY_OK) {
		free(raw);
		problem(r, "request %zu: snappy does not decompress", r->requests);
		return 0;
	}
	Prometheus__WriteRequest *wr =
		prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
	free(raw);
	if (!wr) {
		problem(r, "request %zu: not a WriteRequest", r->requests);
		return 0;
	}
	uint64_t n = 0;
	if (wr->base.n_unknown_fields)
		problem(r, "request %zu: fields outside remote write 1.0", r->requests);
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		const Prometheus__TimeSeries *ts = wr->timeseries[i];
		char key[4096];
		size_t k = 0;
		bool named = false;
		for (size_t l = 0; l < ts->n_labels; l++) {
			const Prometheus__Label *lb = ts->labels[l];
			if (l && strcmp(ts->labels[l - 1]->name, lb->name) >= 0)
				problem(r, "labels not sorted and unique: %s, %s", ts->labels[l - 1]->name,
					lb->name);
			if (!lb->value[0])
				problem(r, "label %s is empty", lb->name);
			named |= strcmp(lb->name, "__name__") == 0;
			k += (size_t)snprintf(key + k, sizeof(key) - k, "%s=%s,", lb->name, lb->value);
			if (k >= sizeof(key))
				k = sizeof(key) - 1;
		}
		if (!named)
			problem(r, "a series without __name__: %s", key);
		int64_t *last = req->keep ? series_last(r, key) : NULL;
		for (size_t s = 0; s < ts->n_samples; s++) {
			int64_t t = ts->samples[s]->timestamp;
			if (s && t < ts->samples[s - 1]->timestamp)
				problem(r, "%s: samples out of time order in one request", key);
			if (last && t < *last)
				problem(r, "%s: a sample at %lld after one at %lld", key, (long long)t,
					(long long)*last);
			if (last)
				*last = t;
			n++;
		}
	}
	prometheus__write_request__free_unpacked(wr, NULL);
	return n;
}

static void on_request(void *ctx, const struct hrcv_request *req, struct hrcv_response *resp)
{
	struct rx *r = ctx;
	if (r->requests < MAX_REQUESTS)
		r->hash[r->requests] = fd_hash64(req->body, req->len);
	uint64_t n = check_request(r, req);
	r->samples_all += n;
	if (req->keep)
		r->samples_ok += n;
	r->requests++;
	resp->status = 204;
}

static struct rx *rx_start(void)
{
	struct rx *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->http = hrcv_start(on_request, r);
	assert_non_null(r->http);
	return r;
}

/* n answers of the same kind */
static void rx_script(struct rx *r, int status, const char *body, int n)
{
	for (int i = 0; i < n; i++)
		hrcv_script(r->http, &(struct rcv_answer){.status = status, .body = body}, 1);
}

static void rx_stop(struct rx *r)
{
	hrcv_stop(r->http);
	for (size_t i = 0; i < r->n_series; i++)
		free(r->series[i].key);
	free(r);
}

struct snapshot {
	struct rx *r;
	struct rx copy;
};

static void take(void *ctx)
{
	struct snapshot *s = ctx;
	s->copy = *s->r;
}

/* The receiver's state, read under its lock. */
static struct rx *rx_state(struct rx *r)
{
	static struct snapshot s;
	s.r = r;
	hrcv_locked(r->http, take, &s);
	return &s.copy;
}

static void expect_no_problem(struct rx *r)
{
	struct rx *st = rx_state(r);
	if (st->problem[0])
		fail_msg("the receiver found: %s", st->problem);
}

/* ---- the stream ---- */

#define N_RECORDS 3000

struct stream {
	struct fd_synth *syn;
	struct fd_record rec[N_RECORDS];
	uint8_t *payload[N_RECORDS];
	uint64_t samples; /* what the converter makes of the metrics */
	size_t first_metric;
};

static int count_sample(void *ctx, const struct fd_prom_sample *s, struct fd_error *err)
{
	(void)s;
	(void)err;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int setup(void **state)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct fd_synth_options so = {.seed = 11, .services = 3};
	if (!st || !(st->syn = fd_synth_create(&so)))
		return -1;
	struct fd_prom_conv *conv = fd_prom_conv_create();
	st->first_metric = N_RECORDS;
	for (size_t i = 0; i < N_RECORDS; i++) {
		if (fd_synth_next(st->syn, &st->rec[i]) < 0)
			return -1;
		st->payload[i] = malloc(st->rec[i].payload_len + 1);
		memcpy(st->payload[i], st->rec[i].payload, st->rec[i].payload_len);
		st->rec[i].payload = st->payload[i];
		struct fd_error err = {0};
		if (st->rec[i].signal == FD_SIGNAL_METRICS) {
			if (st->first_metric == N_RECORDS)
				st->first_metric = i;
			if (fd_prom_conv_record(conv, &st->rec[i], count_sample, &st->samples, &err) < 0)
				return -1;
		}
	}
	fd_prom_conv_destroy(conv);
	*state = st;
	return st->samples > 100 ? 0 : -1;
}

static int teardown(void **state)
{
	struct stream *st = *state;
	for (size_t i = 0; i < N_RECORDS; i++)
		free(st->payload[i]);
	fd_synth_destroy(st->syn);
	free(st);
	return 0;
}

static struct fd_sink *open_sink(struct rx *r, const char *query,
				 const struct fd_sink_context *ctx)
{
	char uri[512];
	snprintf(uri, sizeof(uri), "prom-rw:http://127.0.0.1:%u/api/v1/write%s%s",
		 hrcv_port(r->http), query ? "?" : "", query ? query : "");
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	if (fd_sink_open(uri, ctx, &s, &err) < 0)
		fail_msg("%s: %s", uri, err.msg);
	return s;
}

/* Writes records [from, to); the first error is returned in err. */
static int write_range(struct fd_sink *s, struct stream *st, size_t from, size_t to,
		       struct fd_error *err)
{
	for (size_t i = from; i < to; i++) {
		int rc = fd_sink_write(s, &st->rec[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static uint64_t reported_sent(struct fd_sink *s)
{
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	unsigned long long n = 0;
	if (sscanf(line, "%llu samples", &n) != 1)
		fail_msg("report: %s", line);
	return n;
}

/* Writes the whole stream and closes: both must succeed. */
static void deliver_all(struct fd_sink *s, struct stream *st)
{
	struct fd_error err = {0};
	if (write_range(s, st, 0, N_RECORDS, &err) < 0 || fd_sink_close(s, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Writes the whole stream and closes: one of them must fail with a
 * message that holds want and also. */
static void expect_failure(struct fd_sink *s, struct stream *st, const char *want,
			   const char *also)
{
	struct fd_error err = {0};
	int rc = write_range(s, st, 0, N_RECORDS, &err);
	if (rc == 0)
		rc = fd_sink_close(s, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	if (!strstr(err.msg, want) || !strstr(err.msg, also))
		fail_msg("error: %s", err.msg);
}

/* ---- the tests ----
 * Batches are cut by max_samples (max_delay=1h) except in test_timer, so
 * that what goes in which request does not depend on the machine's speed. */

static void test_delivered(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	struct fd_sink *s = open_sink(
		r, "max_samples=100&max_delay=1h&header=X-Scope-OrgID:t1&user=u&password=pw", NULL);
	deliver_all(s, st);
	expect_no_problem(r);
	struct rx *got = rx_state(r);
	assert_int_equal(got->samples_ok, st->samples);
	assert_int_equal(got->samples_all, st->samples);
	assert_int_equal(reported_sent(s), st->samples);
	assert_int_equal(got->requests, (st->samples + 99) / 100);
	assert_string_equal(got->tenant, "t1");
	assert_string_equal(got->auth, "Basic dTpwdw=="); /* u:pw */
	assert_int_equal(s->live.retries, 0);
	assert_int_equal(s->live.inflight_bytes, 0);
	fd_sink_destroy(s);
	rx_stop(r);
}

static void test_retried(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 503, "try again later\n", 1);
	rx_script(r, 429, "slow down\n", 1);
	rx_script(r, 503, "try again later\n", 1);
	struct fd_sink *s = open_sink(r, "max_samples=1000000&max_delay=1h", NULL);
	deliver_all(s, st);
	expect_no_problem(r);
	struct rx *got = rx_state(r);
	assert_int_equal(got->requests, 4);
	for (size_t i = 1; i < 4; i++)
		assert_true(got->hash[i] == got->hash[0]); /* the same request again */
	assert_int_equal(got->samples_ok, st->samples);
	assert_int_equal(reported_sent(s), st->samples);
	assert_int_equal(s->live.retries, 3);
	assert_int_equal(s->live.errors, 0);
	fd_sink_destroy(s);
	rx_stop(r);
}

static void test_rejected(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 400, "out of order sample\n", 1);
	struct fd_sink *s = open_sink(r, "max_samples=100&max_delay=1h", NULL);
	expect_failure(s, st, "100 of ", "dropped (first: HTTP 400: out of order sample)");
	/* the summary counts them */
	char line[256];
	fd_sink_report(s, line, sizeof(line));
	if (!strstr(line, " 100 rejected"))
		fail_msg("report: %s", line);
	expect_no_problem(r);
	struct rx *got = rx_state(r);
	assert_int_equal(got->requests, (st->samples + 99) / 100);
	assert_int_equal(got->samples_ok, st->samples - 100); /* not retried: dropped */
	fd_sink_destroy(s);
	rx_stop(r);
}

static void test_other_4xx(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 404, "404 page not found\n", 1);
	struct fd_sink *s = open_sink(r, "max_samples=100&max_delay=1h", NULL);
	expect_failure(s, st, "HTTP 404: 404 page not found", "prom-rw:http://");
	assert_int_equal(rx_state(r)->requests, 1);
	fd_sink_destroy(s);
	rx_stop(r);
}

/* retries=2: three attempts, then an error that says so. */
static void test_gave_up(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 503, "try again later\n", 5);
	struct fd_sink *s = open_sink(r, "max_samples=1000000&max_delay=1h&retries=2", NULL);
	expect_failure(s, st, "gave up after 3 attempts", "HTTP 503");
	assert_int_equal(rx_state(r)->requests, 3);
	assert_int_equal(s->live.retries, 2);
	assert_int_equal(s->live.errors, 1);
	fd_sink_destroy(s);
	rx_stop(r);
}

/* A batch nobody flushes goes out once max_delay has passed. */
static void test_timer(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	struct fd_sink *s = open_sink(r, "max_delay=20ms", NULL);
	struct fd_error err = {0};
	if (write_range(s, st, 0, st->first_metric + 1, &err) < 0)
		fail_msg("%s", err.msg);
	if (!hrcv_wait_requests(r->http, 1))
		fail_msg("no request without a flush");
	if (fd_sink_close(s, &err) < 0)
		fail_msg("%s", err.msg);
	expect_no_problem(r);
	assert_true(rx_state(r)->samples_ok > 0);
	fd_sink_destroy(s);
	rx_stop(r);
}

/* A request in flight holds up nobody: the receiver keeps the first
 * request until the test has written the rest of the stream. (The sink once
 * posted under its lock, from the writer's thread or the timer's, so a
 * write waited for the receiver; here it would wait for the guard.) */
static void test_writer_not_held(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	hrcv_script(r->http, &(struct rcv_answer){.hold = true}, 1);
	/* the first batch fills about halfway; the rest fills none */
	char q[64];
	snprintf(q, sizeof(q), "max_samples=%llu&max_delay=1h",
		 (unsigned long long)(st->samples / 2 + 1));
	struct fd_sink *s = open_sink(r, q, NULL);
	struct fd_error err = {0};
	size_t i = 0;
	while (i < N_RECORDS && !hrcv_held(r->http))
		if (fd_sink_write(s, &st->rec[i++], &err) < 0)
			fail_msg("%s", err.msg);
	/* the first request may still be on its way */
	if (!hrcv_wait_held(r->http))
		fail_msg("no request held by the receiver: it never came, or a write waited for it");
	if (write_range(s, st, i, N_RECORDS, &err) < 0)
		fail_msg("%s", err.msg);
	bool still = hrcv_held(r->http);
	hrcv_release(r->http);
	if (!still)
		fail_msg("the writes waited for the request in flight");
	if (fd_sink_close(s, &err) < 0)
		fail_msg("%s", err.msg);
	expect_no_problem(r);
	assert_int_equal(rx_state(r)->samples_ok, st->samples);
	fd_sink_destroy(s);
	rx_stop(r);
}

/* After an interrupt a failed request is not retried, and the backoff
 * does not keep close waiting (it once slept through signals). */
static void test_interrupted(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 503, "try again later\n", 5);
	volatile sig_atomic_t stop = 0;
	struct fd_sink_context ctx = {.stop = &stop};
	struct fd_sink *s = open_sink(r, "max_samples=1000000&max_delay=1h&retries=4", &ctx);
	struct fd_error err = {0};
	if (write_range(s, st, 0, N_RECORDS, &err) < 0)
		fail_msg("%s", err.msg);
	stop = 1; /* as the SIGINT handler does */
	assert_int_equal(fd_sink_close(s, &err), -FD_ERUNTIME);
	if (!strstr(err.msg, "HTTP 503") || !strstr(err.msg, "interrupted"))
		fail_msg("close: %s", err.msg);
	assert_int_equal(rx_state(r)->requests, 1);
	fd_sink_destroy(s);
	rx_stop(r);
}

/* destroy without close does not wait out the retries either. */
static void test_destroy_abandons(void **state)
{
	struct stream *st = *state;
	struct rx *r = rx_start();
	rx_script(r, 503, "try again later\n", 200);
	/* the first batch fills about halfway (the writer queues it); the rest
	 * fills none, so no write waits for room */
	char q[96];
	snprintf(q, sizeof(q), "max_samples=%llu&max_delay=1h&retries=1000",
		 (unsigned long long)(st->samples / 2 + 1));
	struct fd_sink *s = open_sink(r, q, NULL);
	struct fd_error err = {0};
	if (write_range(s, st, 0, N_RECORDS, &err) < 0)
		fail_msg("%s", err.msg);
	if (!hrcv_wait_requests(r->http, 1))
		fail_msg("no request");
	fd_sink_destroy(s); /* returns: the test would time out otherwise */
	assert_true(rx_state(r)->samples_ok == 0);
	rx_stop(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivered),
		cmocka_unit_test(test_retried),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_other_4xx),
		cmocka_unit_test(test_gave_up),
		cmocka_unit_test(test_timer),
		cmocka_unit_test(test_writer_not_held),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_destroy_abandons),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
