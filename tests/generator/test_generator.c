/*
 * The simulation's signals agree with each other, and the first built-in
 * scenario tells its story.
 *
 * Consistency (issue #3, part 4), on a small scenario traced at 100%:
 *  - histogram counts equal the server spans of that series;
 *  - 5xx counts equal the 5xx server spans and the 5xx access logs;
 *  - every log line's trace id belongs to a generated trace;
 *  - the p95 of span durations falls in the histogram bucket holding the
 *    histogram's p95.
 * Determinism: the same seed gives the same stream; another seed another.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "generator/builtin.h"
#include "tests/generator/collect.h"
#include "common/error.h"
#include "common/hash.h"
#include "generator/scenario.h"
#include "generator/sim.h"

static const char small[] =
	"name: consistency\n"
	"title: small system for consistency checks\n"
	"duration: 12m\n"
	"seed: 7\n"
	"trace_sampling: 1\n"
	"access_log_sampling: 1\n"
	"scrape_interval: 15s\n"
	"traffic:\n"
	"  - entry: gateway \"POST /buy\"\n"
	"    rate: 25/s\n"
	"    dimensions:\n"
	"      region: {eu: 0.5, us: 0.5}\n"
	"services:\n"
	"  gateway:\n"
	"    version: v1\n"
	"    instances: 2\n"
	"    endpoints:\n"
	"      \"POST /buy\":\n"
	"        self: {p50: 2ms, p95: 6ms}\n"
	"        calls:\n"
	"          - service: api\n"
	"            endpoint: \"POST /orders\"\n"
	"            timeout: 400ms\n"
	"            retry: {max: 2, backoff: 20ms}\n"
	"  api:\n"
	"    version: v7\n"
	"    instances: 3\n"
	"    endpoints:\n"
	"      \"POST /orders\":\n"
	"        self: {p50: 5ms, p95: 30ms}\n"
	"        errors: {rate: 2%, status: 503}\n"
	"        calls:\n"
	"          - db: main-db\n"
	"            query: \"UPDATE orders SET state = $1 WHERE id = $2\"\n"
	"            latency: {p50: 3ms, p95: 40ms}\n"
	"          - dependency: tax\n"
	"            method: GET\n"
	"            route: /v2/rates\n"
	"            timeout: 200ms\n"
	"databases:\n"
	"  main-db: {system: postgresql, pool: 4}\n"
	"dependencies:\n"
	"  tax:\n"
	"    host: tax.example\n"
	"    latency: {p50: 20ms, p95: 120ms}\n"
	"    errors: {rate: 1%, status: 502}\n"
	"timeline:\n"
	"  - at: 6m\n"
	"    name: tax-slowdown\n"
	"    dependency_slowdown: {target: tax, latency: x3}\n";

static int run(const char *text, size_t len, const struct fd_sim_options *o, struct collect *c,
	       struct fd_sim **keep)
{
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	if (fd_scenario_parse("test.yaml", text, len, &sc, &err) < 0) {
		fprintf(stderr, "parse: %s\n", err.msg);
		return -1;
	}
	struct fd_sim *sim = NULL;
	int rc = fd_sim_create(sc, o, &sim, &err);
	if (rc == 0)
		rc = fd_sim_run(sim, collect_emit, c, &err);
	if (rc < 0)
		fprintf(stderr, "sim: %s\n", err.msg);
	if (keep && rc == 0) {
		*keep = sim;
		/* the caller frees the scenario through the sim's lifetime */
		return 0;
	}
	fd_sim_destroy(sim);
	fd_scenario_destroy(sc);
	return rc;
}

static struct collect small_run;

static int setup_small(void **state)
{
	(void)state;
	collect_init(&small_run);
	return run(small, sizeof(small) - 1, NULL, &small_run, NULL);
}

static int teardown_small(void **state)
{
	(void)state;
	collect_finish(&small_run);
	return 0;
}

static void stream_is_ordered_and_decodes(void **state)
{
	(void)state;
	struct collect *c = &small_run;
	assert_false(c->out_of_order);
	assert_int_equal(c->decode_errors, 0);
	if (c->duplicate_points)
		fail_msg("%llu data points repeat another's attributes in one metric, e.g. %s",
			 (unsigned long long)c->duplicate_points, c->duplicate_example);
	assert_true(c->records[FD_SIGNAL_TRACES] > 10000);
	assert_true(c->records[FD_SIGNAL_METRICS] > 100);
	assert_true(c->records[FD_SIGNAL_LOGS] > 10000);
	assert_true(c->n_spans > 5000);
}

/* Spans with this key that ended by t. */
static uint64_t spans_until(const struct collect *c, const char *key, int64_t t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < c->n_spans; i++)
		if (c->spans[i].end <= t && !strcmp(c->spans[i].key, key))
			n++;
	return n;
}

/* The last scrape of the instance a key belongs to ("instance@version|..."). */
static int64_t last_scrape(const struct collect *c, const char *key)
{
	size_t n = strcspn(key, "|");
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < c->hist.n; i++)
		if (!strncmp(c->hist.v[i].key, key, n) && c->hist.v[i].key[n] == '|' &&
		    c->hist.v[i].last_time > last)
			last = c->hist.v[i].last_time;
	return last;
}

static uint64_t hist_count(struct collect *c, const char *key)
{
	for (size_t i = 0; i < c->hist.n; i++)
		if (!strcmp(c->hist.v[i].key, key))
			return c->hist.v[i].n;
	return 0;
}

/* Both ways: every series counts exactly its spans, and every span that
 * ended before its instance's last scrape is counted by a series. */
static void histogram_counts_equal_spans(void **state)
{
	(void)state;
	struct collect *c = &small_run;
	assert_true(c->hist.n >= 5); /* 2 gateway + 3 api instances, several statuses */
	uint64_t total = 0, spans_total = 0;
	for (size_t i = 0; i < c->hist.n; i++) {
		const struct counter *h = &c->hist.v[i];
		uint64_t spans = spans_until(c, h->key, h->last_time);
		if (h->n != spans)
			fprintf(stderr, "series %s: histogram %llu, spans %llu\n", h->key,
				(unsigned long long)h->n, (unsigned long long)spans);
		assert_int_equal(h->n, spans);
		total += h->n;
	}
	for (size_t i = 0; i < c->n_spans; i++)
		if (c->spans[i].end <= last_scrape(c, c->spans[i].key)) {
			spans_total++;
			if (!hist_count(c, c->spans[i].key))
				fail_msg("spans of %s have no histogram series", c->spans[i].key);
		}
	assert_int_equal(total, spans_total);
	assert_true(total > 5000);
}

static void errors_agree(void **state)
{
	(void)state;
	struct collect *c = &small_run;
	uint64_t hist_5xx = 0, spans_5xx = 0;
	for (size_t i = 0; i < c->hist.n; i++) {
		const struct counter *h = &c->hist.v[i];
		if (atoi(strrchr(h->key, '|') + 1) >= 500)
			hist_5xx += h->n;
	}
	for (size_t i = 0; i < c->n_spans; i++)
		if (atoi(strrchr(c->spans[i].key, '|') + 1) >= 500 &&
		    c->spans[i].end <= last_scrape(c, c->spans[i].key))
			spans_5xx++;
	assert_true(hist_5xx > 50); /* 2% of api requests, plus timeouts */
	assert_int_equal(hist_5xx, spans_5xx);
	/* every server span has its access log line, with the same status */
	assert_int_equal(c->error_access_logs, c->server_spans_5xx);
	uint64_t access = 0;
	for (size_t i = 0; i < c->access.n; i++)
		access += c->access.v[i].n;
	assert_int_equal(access, c->n_spans);
	for (size_t i = 0; i < c->access.n; i++)
		assert_int_equal(c->access.v[i].n, spans_until(c, c->access.v[i].key, INT64_MAX));
}

static void log_trace_ids_are_real(void **state)
{
	(void)state;
	struct collect *c = &small_run;
	assert_true(c->n_log_traces > 1000);
	for (size_t i = 0; i < c->n_log_traces; i++)
		assert_true(collect_has_trace(c, c->log_traces[i]));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void span_p95_in_histogram_p95_bucket(void **state)
{
	(void)state;
	static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					0.5,   0.75, 1,     2.5,  5,     7.5, 10};
	struct collect *c = &small_run;
	/* gateway POST /buy, all instances and statuses, up to the last scrape */
	uint64_t buckets[16] = {0}, count = 0;
	int64_t last = 0;
	for (size_t i = 0; i < c->hist.n; i++) {
		const struct counter *h = &c->hist.v[i];
		if (!strstr(h->key, "|/buy|"))
			continue;
		assert_int_equal(h->nbuckets, 15);
		for (int b = 0; b < 15; b++)
			buckets[b] += h->buckets[b];
		count += h->n;
		if (h->last_time > last)
			last = h->last_time;
	}
	assert_true(count > 1000);
	int64_t *durs = malloc(count * sizeof(*durs));
	size_t n = 0;
	for (size_t i = 0; i < c->n_spans; i++)
		if (strstr(c->spans[i].key, "|/buy|") && c->spans[i].end <= last && n < count)
			durs[n++] = c->spans[i].dur;
	qsort(durs, n, sizeof(*durs), cmp_i64);
	double p95 = (double)durs[(size_t)ceil(0.95 * (double)n) - 1] / 1e9;
	free(durs);
	uint64_t rank = (uint64_t)ceil(0.95 * (double)count), acc = 0;
	int b = 0;
	for (; b < 15; b++) {
		acc += buckets[b];
		if (acc >= rank)
			break;
	}
	double lo = b == 0 ? 0 : bounds[b - 1], hi = b < 14 ? bounds[b] : INFINITY;
	if (!(p95 > lo && p95 <= hi))
		fprintf(stderr, "span p95 %.4f outside histogram p95 bucket (%g, %g]\n", p95, lo, hi);
	assert_true(p95 > lo && p95 <= hi);
}

static void same_seed_same_stream(void **state)
{
	(void)state;
	struct collect again;
	collect_init(&again);
	assert_int_equal(run(small, sizeof(small) - 1, NULL, &again, NULL), 0);
	assert_true(again.hash == small_run.hash);
	assert_int_equal(again.n_spans, small_run.n_spans);
	collect_finish(&again);

	struct collect other;
	collect_init(&other);
	struct fd_sim_options o = {.seed_set = true, .seed = 8};
	assert_int_equal(run(small, sizeof(small) - 1, &o, &other, NULL), 0);
	assert_true(other.hash != small_run.hash);
	collect_finish(&other);
}

/* ---- the first built-in scenario --------------------------------------- */

static double figure(const struct fd_sim_figure *f, size_t n, const char *name,
		     const char *subject, const char *phase)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name) && strstr(f[i].subject, subject) &&
		    !strcmp(f[i].phase, phase))
			return f[i].value;
	fail_msg("no figure %s %s %s", name, subject, phase);
	return NAN;
}

struct counting {
	uint64_t n;
	int64_t last;
	bool out_of_order;
};

static int count_emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	struct counting *c = ctx;
	if (c->n && rec->time_ns < c->last)
		c->out_of_order = true;
	c->last = rec->time_ns;
	c->n++;
	return 0;
}

/* No metric reports one stream twice in a scrape, in any built-in scenario:
 * two statements with one db.query.summary are one series. */
static void no_stream_reported_twice(void **state)
{
	(void)state;
	for (const struct fd_builtin *b = fd_builtins; b->name; b++) {
		struct collect c;
		collect_init(&c);
		struct fd_sim_options o = {.duration_ns = 15 * 60 * 1000000000LL}; /* crons from 10m */
		assert_int_equal(run(b->text, b->len, &o, &c, NULL), 0);
		if (c.duplicate_points)
			fail_msg("%s: %llu data points repeat another's attributes in one metric, e.g. %s",
				 b->name, (unsigned long long)c.duplicate_points, c.duplicate_example);
		assert_true(c.records[FD_SIGNAL_METRICS] > 0);
		collect_finish(&c);
	}
}

static void latency_after_release_tells_its_story(void **state)
{
	(void)state;
	const struct fd_builtin *b = fd_builtin_find("latency-after-release");
	assert_non_null(b);
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	assert_int_equal(fd_scenario_parse(b->file, b->text, b->len, &sc, &err), 0);
	struct fd_sim *sim = NULL;
	assert_int_equal(fd_sim_create(sc, NULL, &sim, &err), 0);
	struct counting cnt = {0};
	assert_int_equal(fd_sim_run(sim, count_emit, &cnt, &err), 0);
	assert_true(cnt.n > 100000);
	assert_false(cnt.out_of_order); /* deploys, lifecycle lines and all */
	const struct fd_sim_figure *f;
	size_t nf = fd_sim_figures(sim, &f);
	const char *checkout = "gateway POST /checkout", *products = "gateway GET /products";
	double p95_before = figure(f, nf, "p95", checkout, "before");
	double p95_during = figure(f, nf, "p95", checkout, "during");
	double err_before = figure(f, nf, "error_rate", checkout, "before");
	double err_during = figure(f, nf, "error_rate", checkout, "during");
	fprintf(stderr, "checkout p95 %.3f s -> %.3f s, errors %.4f -> %.4f\n", p95_before, p95_during,
		err_before, err_during);
	assert_true(p95_before > 0.150 && p95_before < 0.260);   /* ~200 ms */
	assert_true(p95_during > 3.0 && p95_during < 5.0);       /* ~4 s */
	assert_true(err_during > err_before);                    /* slightly up */
	assert_true(err_during < 0.05);
	/* the control group stays put */
	double pb = figure(f, nf, "p95", products, "before"), pd = figure(f, nf, "p95", products, "during");
	assert_true(fabs(pd - pb) < 0.2 * pb);
	/* the added time sits in the slow query */
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, "added_time")) {
			assert_non_null(strstr(f[i].subject, "customer_id"));
			assert_true(f[i].value > 0.5);
			break;
		}
	/* the release is due at 1h; the pipeline starts it a few seconds late */
	double trig = figure(f, nf, "trigger_at", "orders-release", "");
	assert_true(trig > 3600.5 && trig < 3606);
	fd_sim_destroy(sim);
	fd_scenario_destroy(sc);
}

/* ---- emitting on a second thread ---------------------------------------- */

struct digest {
	uint64_t n, h, stop_at; /* stop_at: fail at that record (0: never) */
	unsigned yield_every;   /* let the simulation get ahead, then not */
	uint64_t late;          /* calls after the failing one (n stays at stop_at) */
	bool failed;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	return (h ^ fd_hash64(p, n)) * 0x100000001b3ULL;
}

static int digest_emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	struct digest *d = ctx;
	if (d->stop_at && d->n == d->stop_at) {
		d->late += d->failed;
		d->failed = true;
		return fd_error_set(err, FD_ERUNTIME, "sink full at record %llu",
				    (unsigned long long)d->n);
	}
	uint8_t head[9];
	memcpy(head, &rec->time_ns, 8);
	head[8] = (uint8_t)rec->signal;
	d->h = mix(d->h, head, sizeof(head));
	d->h = mix(d->h, rec->resource->data, rec->resource->len);
	d->h = mix(d->h, rec->scope->data, rec->scope->len);
	d->h = mix(d->h, rec->payload, rec->payload_len);
	d->n++;
	if (d->yield_every && d->n % d->yield_every == 0)
		usleep(d->n / d->yield_every % 2 ? 2000 : 0);
	return 0;
}

/* Runs a built-in for 12 minutes in steps of `step` s; returns fd_sim's
 * status, the error's message in msg. */
static int digest_run(const char *name, bool thread, int64_t step, struct digest *d, char *msg)
{
	const struct fd_builtin *b = fd_builtin_find(name);
	assert_non_null(b);
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	assert_int_equal(fd_scenario_parse(b->file, b->text, b->len, &sc, &err), 0);
	struct fd_sim_options o = {.duration_ns = 12 * 60 * 1000000000LL, .emit_thread = thread};
	struct fd_sim *sim = NULL;
	assert_int_equal(fd_sim_create(sc, &o, &sim, &err), 0);
	int64_t at = fd_sim_start(sim), end = fd_sim_end(sim);
	int rc = 0;
	while (rc == 0 && at < end) {
		at = end - at > step * 1000000000LL ? at + step * 1000000000LL : end;
		rc = fd_sim_advance(sim, at, digest_emit, d, &err);
	}
	if (rc == 0)
		rc = fd_sim_finish(sim, end, digest_emit, d, &err);
	snprintf(msg, sizeof(err.msg), "%s", rc < 0 ? err.msg : "");
	fd_sim_destroy(sim);
	fd_scenario_destroy(sc);
	return rc;
}

/* fd_sim_options.emit_thread: the same records in the same order, byte for
 * byte, whatever the steps and however the two threads are scheduled (an
 * emit that sleeps now and then lets the simulation fill the queue, then
 * drain it); an emit error stops the run with its message, and no record
 * is emitted after it. */
static void emit_thread_same_stream(void **state)
{
	(void)state;
	const char *names[] = {"retry-storm", "latency-after-release", "queue-backlog"};
	char msg[sizeof(((struct fd_error *)0)->msg)];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct digest one = {.h = 1}, two = {.h = 1}, slow = {.h = 1, .yield_every = 5000};
		assert_int_equal(digest_run(names[i], false, 10, &one, msg), 0);
		assert_int_equal(digest_run(names[i], true, 10, &two, msg), 0);
		assert_int_equal(digest_run(names[i], true, 7, &slow, msg), 0);
		fprintf(stderr, "%s: %llu records\n", names[i], (unsigned long long)one.n);
		assert_true(one.n > 10000);
		assert_int_equal(two.n, one.n);
		assert_int_equal(slow.n, one.n);
		assert_true(two.h == one.h);
		assert_true(slow.h == one.h);
	}
	struct digest failing = {.h = 1, .stop_at = 30000};
	assert_int_equal(digest_run("retry-storm", true, 10, &failing, msg), -FD_ERUNTIME);
	assert_string_equal(msg, "sink full at record 30000");
	assert_int_equal(failing.n, 30000);
	assert_int_equal(failing.late, 0);
}

int main(void)
{
	const struct CMUnitTest consistency[] = {
		cmocka_unit_test(stream_is_ordered_and_decodes),
		cmocka_unit_test(histogram_counts_equal_spans),
		cmocka_unit_test(errors_agree),
		cmocka_unit_test(log_trace_ids_are_real),
		cmocka_unit_test(span_p95_in_histogram_p95_bucket),
		cmocka_unit_test(same_seed_same_stream),
		cmocka_unit_test(emit_thread_same_stream),
	};
	const struct CMUnitTest story[] = {
		cmocka_unit_test(no_stream_reported_twice),
		cmocka_unit_test(latency_after_release_tells_its_story),
	};
	int failed = cmocka_run_group_tests_name("consistency", consistency, setup_small, teardown_small);
	failed += cmocka_run_group_tests_name("latency-after-release", story, NULL, NULL);
	return failed;
}
