/*
 * Replay: pacing against an injected clock (no wall time), rebase of every
 * timestamp inside the payloads, window and loop arithmetic, filters, and
 * shards that are disjoint and together whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream/intern.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/wire.h"
#include "replay/pace.h"
#include "replay/readahead.h"
#include "recording/format.h"
#include "recording/reader.h"
#include "replay/replay.h"
#include "recording/writer.h"
#include "sinks/sink.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

static void pacer_follows_schedule_without_drift(void **state)
{
	(void)state;
	struct tu_clock fc = {.now = 1000};
	struct fd_clock clock = {tu_clock_now, tu_clock_sleep_until, &fc};
	struct fd_pacer p;
	fd_pacer_init(&p, &clock, 1.0);
	int64_t base = 1768482000000000000LL;
	for (int k = 0; k < 100; k++) {
		assert_int_equal(fd_pacer_wait(&p, base + k * 10000000LL, NULL), 0);
		/* due = origin + offset, exactly */
		assert_int_equal(fc.now, 1000 + k * 10000000LL);
	}
	assert_int_equal(p.max_late, 0);

	/* 10x: a record 1 s later is due 100 ms later */
	fd_pacer_init(&p, &clock, 10.0);
	fc.now = 0;
	fd_pacer_wait(&p, base, NULL);
	fd_pacer_wait(&p, base + 1000000000LL, NULL);
	assert_int_equal(fc.now, 100000000LL);

	/* a sink that falls behind: lateness is measured, the schedule does
	 * not move (no cumulative drift) */
	fd_pacer_init(&p, &clock, 1.0);
	fc.now = 0;
	fd_pacer_wait(&p, base, NULL);
	fc.now += 50000000; /* the sink took 50 ms on a record due 10 ms later */
	int64_t late = fd_pacer_wait(&p, base + 10000000, NULL);
	assert_int_equal(late, 40000000);
	fd_pacer_wait(&p, base + 100000000, NULL); /* caught up: due at 100 ms */
	assert_int_equal(fc.now, 100000000);
	assert_int_equal(p.max_late, 40000000);
	assert_true(fd_pacer_quantile(&p, 0.99) >= 32000000);

	/* max: never waits */
	fd_pacer_init(&p, &clock, 0);
	int64_t sleeps = fc.sleeps;
	fd_pacer_wait(&p, base + 999999999999LL, NULL);
	assert_int_equal(fc.sleeps, sleeps);
}

/* Record times 292 years apart: the schedule saturates instead of
 * overflowing (undefined behaviour, and a wrapped due time). */
static void pacer_extreme_times(void **state)
{
	(void)state;
	struct tu_clock fc = {.now = 1000};
	struct fd_clock clock = {tu_clock_now, tu_clock_sleep_until, &fc};
	struct fd_pacer p;
	volatile int stop = 1;
	fd_pacer_init(&p, &clock, 1.0);
	assert_int_equal(fd_pacer_wait(&p, INT64_MIN + 1, &stop), 0);
	assert_int_equal(fd_pacer_wait(&p, INT64_MAX, &stop), -1); /* due at the end of time */
	fd_pacer_init(&p, &clock, 1.0);
	assert_int_equal(fd_pacer_wait(&p, INT64_MAX, &stop), 0);
	assert_true(fd_pacer_wait(&p, INT64_MIN + 1, &stop) == INT64_MAX); /* late by "forever" */
}

static void speed_parsing(void **state)
{
	(void)state;
	double s;
	assert_int_equal(fd_pace_parse_speed("realtime", &s), 0);
	assert_true(s == 1);
	assert_int_equal(fd_pace_parse_speed("max", &s), 0);
	assert_true(s == 0);
	assert_int_equal(fd_pace_parse_speed("10x", &s), 0);
	assert_true(s == 10);
	assert_int_equal(fd_pace_parse_speed("0.5x", &s), 0);
	assert_true(s == 0.5);
	assert_int_equal(fd_pace_parse_speed("fast", &s), -1);
	assert_int_equal(fd_pace_parse_speed("-2x", &s), -1);
	assert_int_equal(fd_pace_parse_speed("0x", &s), -1);
	assert_int_equal(fd_pace_parse_speed("10xx", &s), -1);
}

/* --rate: 100k records/s held for a minute on the fake clock, with a sink
 * that keeps up: every second holds the target within 1%, whatever the
 * records' own timestamps (here all equal). */
static void rate_holds_over_a_minute(void **state)
{
	(void)state;
	struct tu_clock fc = {.now = 5};
	struct fd_clock clock = {tu_clock_now, tu_clock_sleep_until, &fc};
	struct fd_pacer p;
	struct fd_rate r = {.from_rate = 100000, .rate = 100000};
	fd_pacer_init_rate(&p, &clock, &r);
	uint64_t per_second[60] = {0};
	for (uint64_t k = 0; k < 6000000; k++) {
		fd_pacer_wait(&p, 42, NULL);
		int64_t sec = (fc.now - 5) / 1000000000;
		assert_true(sec < 60);
		per_second[sec]++;
	}
	for (int s = 0; s < 60; s++)
		assert_true(per_second[s] >= 99000 && per_second[s] <= 101000);
	assert_int_equal(p.max_late, 0);
	/* the schedule is exact against the origin: record k due at k/rate */
	assert_int_equal(fd_rate_due(&r, 6000000), 60000000000LL);
}

/* A ramp 10k/s..200k/s over 10 s: each second holds the mean of the rate
 * over it (the rate at its middle), then 200k/s is held; a slow sink makes
 * records late without moving the schedule. */
static void rate_ramp_shape(void **state)
{
	(void)state;
	struct tu_clock fc = {.now = 0};
	struct fd_clock clock = {tu_clock_now, tu_clock_sleep_until, &fc};
	struct fd_pacer p;
	struct fd_rate r = {.from_rate = 10000, .rate = 200000, .ramp_ns = 10000000000LL};
	fd_pacer_init_rate(&p, &clock, &r);
	uint64_t per_second[13] = {0};
	for (;;) {
		fd_pacer_wait(&p, 0, NULL);
		int64_t sec = fc.now / 1000000000;
		if (sec >= 13)
			break;
		per_second[sec]++;
	}
	for (int s = 0; s < 13; s++) {
		double want = s < 10 ? fd_rate_at(&r, (int64_t)(s * 1e9 + 5e8)) : 200000;
		assert_true(per_second[s] >= want * 0.99 && per_second[s] <= want * 1.01 + 1);
	}
	assert_true(fd_rate_at(&r, 0) == 10000 && fd_rate_at(&r, 5000000000LL) == 105000);

	/* behind: a sink at 1 ms per record cannot hold 10k/s */
	struct fd_rate slow = {.from_rate = 10000, .rate = 10000};
	fd_pacer_init_rate(&p, &clock, &slow);
	fc.now = 0;
	fc.extra = 1000000;
	for (int k = 0; k < 1000; k++)
		fd_pacer_wait(&p, 0, NULL);
	fc.extra = 0;
	assert_true(p.max_late > 800000000); /* ~0.9 s behind after 1000 records */

	struct fd_rate parsed;
	const char *why;
	assert_int_equal(fd_rate_parse("100k/s", &parsed, &why), 0);
	assert_true(parsed.rate == 100000 && parsed.from_rate == 100000);
	assert_int_equal(fd_rate_parse("10k/s..1.5M/s", &parsed, &why), 0);
	assert_true(parsed.from_rate == 10000 && parsed.rate == 1500000);
	assert_int_equal(fd_rate_parse("2500/s", &parsed, &why), 0);
	assert_true(parsed.rate == 2500);
	assert_int_equal(fd_rate_parse("100k", &parsed, &why), -1);
	assert_int_equal(fd_rate_parse("0/s", &parsed, &why), -1);
	assert_int_equal(fd_rate_parse("10k/s..", &parsed, &why), -1);
	assert_int_equal(fd_rate_parse("fast/s", &parsed, &why), -1);
}

/* ---- rebase of payloads ---------------------------------------------- */

static void rebase_shifts_every_timestamp(void **state)
{
	(void)state;
	const int64_t d = 1000000007LL;
	/* a span with an event */
	Opentelemetry__Proto__Trace__V1__Span sp = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
	Opentelemetry__Proto__Trace__V1__Span__Event ev = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
	Opentelemetry__Proto__Trace__V1__Span__Event *evp = &ev;
	uint8_t tid[16] = {1, 2, 3}, sid[8] = {4};
	sp.trace_id.data = tid;
	sp.trace_id.len = 16;
	sp.span_id.data = sid;
	sp.span_id.len = 8;
	sp.name = (char *)"x";
	sp.start_time_unix_nano = 100;
	sp.end_time_unix_nano = 200;
	ev.time_unix_nano = 150;
	ev.name = (char *)"exception";
	sp.n_events = 1;
	sp.events = &evp;
	uint8_t buf[512];
	size_t n = opentelemetry__proto__trace__v1__span__pack(&sp, buf);
	assert_int_equal(fd_otlp_rebase(FD_SIGNAL_TRACES, buf, n, d), 0);
	Opentelemetry__Proto__Trace__V1__Span *back =
		opentelemetry__proto__trace__v1__span__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(back->start_time_unix_nano, 100 + d);
	assert_int_equal(back->end_time_unix_nano, 200 + d);
	assert_int_equal(back->events[0]->time_unix_nano, 150 + d);
	const uint8_t *id;
	assert_int_equal(fd_otlp_span_trace_id(buf, n, &id), 0);
	assert_memory_equal(id, tid, 16);
	opentelemetry__proto__trace__v1__span__free_unpacked(back, NULL);

	/* a log record: time and observed time; an unset time stays unset */
	Opentelemetry__Proto__Logs__V1__LogRecord lr = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	lr.time_unix_nano = 0;
	lr.observed_time_unix_nano = 300;
	n = opentelemetry__proto__logs__v1__log_record__pack(&lr, buf);
	assert_int_equal(fd_otlp_rebase(FD_SIGNAL_LOGS, buf, n, d), 0);
	Opentelemetry__Proto__Logs__V1__LogRecord *lb =
		opentelemetry__proto__logs__v1__log_record__unpack(NULL, n, buf);
	assert_int_equal(lb->time_unix_nano, 0);
	assert_int_equal(lb->observed_time_unix_nano, 300 + d);
	opentelemetry__proto__logs__v1__log_record__free_unpacked(lb, NULL);

	/* a histogram point with an exemplar */
	Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
	Opentelemetry__Proto__Metrics__V1__Histogram h = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint dp =
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__Exemplar ex = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dpp = &dp;
	Opentelemetry__Proto__Metrics__V1__Exemplar *exp_ = &ex;
	m.name = (char *)"h";
	m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
	m.histogram = &h;
	h.n_data_points = 1;
	h.data_points = &dpp;
	dp.start_time_unix_nano = 10;
	dp.time_unix_nano = 20;
	dp.count = 5;
	dp.n_exemplars = 1;
	dp.exemplars = &exp_;
	ex.time_unix_nano = 15;
	n = opentelemetry__proto__metrics__v1__metric__pack(&m, buf);
	assert_int_equal(fd_otlp_rebase(FD_SIGNAL_METRICS, buf, n, d), 0);
	Opentelemetry__Proto__Metrics__V1__Metric *mb =
		opentelemetry__proto__metrics__v1__metric__unpack(NULL, n, buf);
	assert_int_equal(mb->histogram->data_points[0]->start_time_unix_nano, 10 + d);
	assert_int_equal(mb->histogram->data_points[0]->time_unix_nano, 20 + d);
	assert_int_equal(mb->histogram->data_points[0]->count, 5); /* fixed64, not a time */
	assert_int_equal(mb->histogram->data_points[0]->exemplars[0]->time_unix_nano, 15 + d);
	opentelemetry__proto__metrics__v1__metric__free_unpacked(mb, NULL);

	/* garbage is refused, never read out of bounds */
	uint8_t junk[] = {0x0a, 0x7f, 0x01};
	assert_int_equal(fd_otlp_rebase(FD_SIGNAL_TRACES, junk, sizeof(junk), d), -1);
}

/* ---- the pipeline into a capturing sink --------------------------------- */

struct cap_sink {
	struct fd_sink base;
	struct tu_recs *recs;
};

static int cap_write(struct fd_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	struct cap_sink *c = (struct cap_sink *)s;
	tu_recs_add(c->recs, rec);
	return 0;
}

static int cap_close(struct fd_sink *s, struct fd_error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void cap_destroy(struct fd_sink *s)
{
	free(s);
}

static const struct fd_sink_impl cap_impl = {
	.name = "capture", .write = cap_write, .close = cap_close, .destroy = cap_destroy};

static struct fd_sink *cap_open(struct tu_recs *recs)
{
	struct cap_sink *c = calloc(1, sizeof(*c));
	fd_sink_init(&c->base, &cap_impl, "capture:");
	c->recs = recs;
	return &c->base;
}

static char *dir, *path;
static struct fd_synth_result written;

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	path = tu_path(dir, "r.fdr");
	struct fd_error err = {0};
	struct fd_synth_options o = {.seed = 3, .services = 4, .instances = 2};
	return fd_synth_write_recording(path, 20000, &o, NULL, &written, &err);
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(path);
	free(dir);
	return 0;
}

/* Replays file into a capture; err (may be NULL) gets the error. */
static int replay_file(const char *file, const struct fd_replay_options *o, struct tu_recs *out,
		       struct fd_replay_stats *st, struct fd_error *e)
{
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(file, &r, &err) < 0)
		return -1;
	struct fd_sink *s = cap_open(out);
	int rc = fd_replay_run(r, &s, 1, o, st, &err);
	if (rc < 0 && !e)
		fprintf(stderr, "replay: %s\n", err.msg);
	if (e)
		*e = err;
	fd_sink_close(s, &err);
	fd_sink_destroy(s);
	fd_recording_reader_destroy(r);
	return rc;
}

static int replay(const struct fd_replay_options *o, struct tu_recs *out, struct fd_replay_stats *st)
{
	return replay_file(path, o, out, st, NULL);
}

static uint64_t total(const uint64_t v[FD_SIGNAL_COUNT])
{
	return v[0] + v[1] + v[2];
}

static void rebase_at_time_shifts_records_and_payloads(void **state)
{
	(void)state;
	struct tu_recs a = {0}, b = {0};
	struct fd_replay_stats st;
	struct fd_replay_options none = {.speed = 0, .rebase = FD_REBASE_NONE};
	assert_int_equal(replay(&none, &a, &st), 0);
	assert_int_equal(a.n, 20000);
	assert_int_equal(st.shift, 0);
	int64_t target = 1893456000000000000LL; /* 2030-01-01 */
	struct fd_replay_options at = {.speed = 0, .rebase = FD_REBASE_AT, .rebase_at = target};
	assert_int_equal(replay(&at, &b, &st), 0);
	assert_int_equal(b.n, a.n);
	int64_t shift = target - st.first_time;
	assert_int_equal(st.shift, shift);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(b.v[i].time_ns, a.v[i].time_ns + shift);
		/* payloads differ exactly by the rebase */
		uint8_t *p = malloc(a.v[i].payload_len + 1);
		memcpy(p, a.v[i].payload, a.v[i].payload_len);
		assert_int_equal(fd_otlp_rebase(a.v[i].signal, p, a.v[i].payload_len, shift), 0);
		assert_memory_equal(p, b.v[i].payload, a.v[i].payload_len);
		free(p);
	}
	/* end-now: the last record of the window lands at "now" */
	struct tu_recs c = {0};
	struct fd_replay_options end = {.speed = 0, .rebase = FD_REBASE_END_NOW, .wall_now = target};
	assert_int_equal(replay(&end, &c, &st), 0);
	assert_int_equal(st.shift, target - st.last_time);
	tu_recs_free(&a);
	tu_recs_free(&b);
	tu_recs_free(&c);
}

static void window_and_loops(void **state)
{
	(void)state;
	struct tu_recs all = {0}, win = {0}, loops = {0};
	struct fd_replay_stats st;
	struct fd_replay_options none = {.rebase = FD_REBASE_NONE};
	assert_int_equal(replay(&none, &all, &st), 0);
	int64_t from = all.v[5000].time_ns, until = all.v[12000].time_ns;
	size_t expect = 0;
	for (size_t i = 0; i < all.n; i++)
		expect += all.v[i].time_ns >= from && all.v[i].time_ns < until;
	struct fd_replay_options w = {.rebase = FD_REBASE_NONE, .has_from = true, .from = from,
				      .has_until = true, .until = until};
	assert_int_equal(replay(&w, &win, &st), 0);
	assert_int_equal(win.n, expect);
	for (size_t i = 0; i < win.n; i++)
		assert_true(win.v[i].time_ns >= from && win.v[i].time_ns < until);

	struct fd_replay_options l = {.rebase = FD_REBASE_NONE, .has_from = true, .from = from,
				      .has_until = true, .until = until, .loops = 3};
	assert_int_equal(replay(&l, &loops, &st), 0);
	assert_int_equal(loops.n, 3 * expect);
	assert_int_equal(st.length, until - from);
	for (size_t i = 0; i < expect; i++) {
		assert_int_equal(loops.v[expect + i].time_ns, win.v[i].time_ns + (until - from));
		assert_int_equal(loops.v[2 * expect + i].time_ns, win.v[i].time_ns + 2 * (until - from));
	}
	/* loops follow each other in time order */
	for (size_t i = 1; i < loops.n; i++)
		assert_true(loops.v[i].time_ns >= loops.v[i - 1].time_ns);
	tu_recs_free(&all);
	tu_recs_free(&win);
	tu_recs_free(&loops);
}

static void shards_are_disjoint_and_whole(void **state)
{
	(void)state;
	const unsigned n = 3;
	struct tu_recs all = {0}, part[3] = {{0}};
	struct fd_replay_stats st;
	struct fd_replay_options none = {.rebase = FD_REBASE_NONE};
	assert_int_equal(replay(&none, &all, &st), 0);
	size_t sum = 0;
	for (unsigned i = 0; i < n; i++) {
		struct fd_replay_options o = {.rebase = FD_REBASE_NONE, .shard = i, .shards = n};
		assert_int_equal(replay(&o, &part[i], &st), 0);
		assert_true(part[i].n > 0);
		sum += part[i].n;
		assert_int_equal(st.filtered, all.n - part[i].n);
	}
	assert_int_equal(sum, all.n);
	/* merge the shards back by time order: the original stream, record for
	 * record (each record in exactly one shard) */
	size_t idx[3] = {0};
	for (size_t k = 0; k < all.n; k++) {
		const struct tu_rec *want = &all.v[k];
		bool found = false;
		for (unsigned i = 0; i < n && !found; i++) {
			if (idx[i] < part[i].n && part[i].v[idx[i]].time_ns == want->time_ns &&
			    part[i].v[idx[i]].payload_len == want->payload_len &&
			    !memcmp(part[i].v[idx[i]].payload, want->payload, want->payload_len)) {
				idx[i]++;
				found = true;
			}
		}
		assert_true(found);
	}
	/* spans of one trace always land in the same shard */
	for (size_t k = 0; k < all.n; k++) {
		if (all.v[k].signal != FD_SIGNAL_TRACES)
			continue;
		struct fd_blob res = {.data = all.v[k].resource, .len = (uint32_t)all.v[k].resource_len};
		struct fd_record r = {.signal = FD_SIGNAL_TRACES, .payload = all.v[k].payload,
				      .payload_len = all.v[k].payload_len, .resource = &res};
		const uint8_t *id;
		assert_int_equal(fd_otlp_span_trace_id(r.payload, r.payload_len, &id), 0);
		assert_int_equal(fd_replay_shard_of(&r, n), (unsigned)(fd_hash64(id, 16) % n));
	}
	tu_recs_free(&all);
	for (unsigned i = 0; i < n; i++)
		tu_recs_free(&part[i]);
}

static void signal_and_service_filters(void **state)
{
	(void)state;
	struct tu_recs logs = {0}, svc = {0};
	struct fd_replay_stats st;
	struct fd_replay_options o = {.rebase = FD_REBASE_NONE, .signals = 1u << FD_SIGNAL_LOGS};
	assert_int_equal(replay(&o, &logs, &st), 0);
	assert_int_equal(logs.n, written.records[FD_SIGNAL_LOGS]);
	for (size_t i = 0; i < logs.n; i++)
		assert_int_equal(logs.v[i].signal, FD_SIGNAL_LOGS);
	assert_int_equal(total(st.records), written.records[FD_SIGNAL_LOGS]);

	/* the service filter keeps exactly the records whose resource names it */
	struct fd_replay_options all_o = {.rebase = FD_REBASE_NONE};
	struct tu_recs all = {0};
	assert_int_equal(replay(&all_o, &all, &st), 0);
	char name[64], want[64] = "";
	size_t expect = 0;
	for (size_t i = 0; i < all.n; i++) {
		assert_int_equal(fd_otlp_resource_service(all.v[i].resource, all.v[i].resource_len, name,
							  sizeof(name)), 0);
		if (!want[0])
			snprintf(want, sizeof(want), "%s", name);
		expect += !strcmp(name, want);
	}
	struct fd_replay_options s = {.rebase = FD_REBASE_NONE, .service = want};
	assert_int_equal(replay(&s, &svc, &st), 0);
	assert_int_equal(svc.n, expect);
	assert_true(expect > 0 && expect < all.n);
	tu_recs_free(&logs);
	tu_recs_free(&svc);
	tu_recs_free(&all);
}

/* Issue 20: times at the ends of int64 (a crafted or odd recording) made
 * the window, rebase and pacing arithmetic overflow (undefined behaviour,
 * caught by the sanitizer build); now a rebase that cannot be done is an
 * input error and everything else is exact. */
static void extreme_times(void **state)
{
	(void)state;
	char *xp = tu_path(dir, "extreme.fdr");
	struct fd_synth_options so = {.seed = 9};
	struct fd_synth *syn = fd_synth_create(&so);
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(xp, NULL, NULL, &w, &err), 0);
	const int64_t times[] = {INT64_MIN + 1, 0, INT64_MAX};
	for (int i = 0; i < 3; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		rec.time_ns = times[i];
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	}
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
	fd_synth_destroy(syn);

	struct tu_recs got = {0};
	struct fd_replay_stats st;
	/* as they are */
	struct fd_replay_options none = {.speed = 0, .rebase = FD_REBASE_NONE};
	if (replay_file(xp, &none, &got, &st, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(got.n, 3);
	for (int i = 0; i < 3; i++)
		assert_true(got.v[i].time_ns == times[i]);
	/* the window up to a time the offset cannot reach */
	struct fd_replay_options upto = {.speed = 0, .rebase = FD_REBASE_NONE, .has_until = true,
					 .until = INT64_MAX};
	tu_recs_free(&got);
	assert_int_equal(replay_file(xp, &upto, &got, &st, &err), 0);
	assert_int_equal(got.n, 2);
	/* rebased to now: the first record would move past year 2262 */
	struct fd_replay_options now = {.speed = 0, .rebase = FD_REBASE_START_NOW};
	tu_recs_free(&got);
	assert_int_equal(replay_file(xp, &now, &got, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "cannot rebase the record time -9223372036854775807"));
	assert_int_equal(got.n, 0);
	struct fd_replay_options end = {.speed = 0, .rebase = FD_REBASE_END_NOW, .wall_now = -5};
	assert_int_equal(replay_file(xp, &end, &got, &st, &err), -FD_EINPUT);
	/* a window in the middle rebases fine, and its records land exactly */
	struct fd_replay_options mid = {.speed = 0, .rebase = FD_REBASE_AT, .rebase_at = 1000,
					.has_from = true, .from = -10, .has_until = true, .until = 10};
	assert_int_equal(replay_file(xp, &mid, &got, &st, &err), 0);
	assert_int_equal(got.n, 1);
	assert_true(got.v[0].time_ns == 1010);
	/* loops over 292 years cannot be laid end to end */
	struct fd_replay_options loops = {.speed = 0, .rebase = FD_REBASE_NONE, .loops = 2};
	assert_int_equal(replay_file(xp, &loops, &got, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "of at most 292 years"));
	tu_recs_free(&got);
	free(xp);
}

/* ---- read-ahead ------------------------------------------------------ */

/* The records of file from `from` on that keep keeps (NULL: all), read by
 * the reader itself and through the read-ahead thread: the same records in
 * the same order, the same number dropped, then the same end or the same
 * error. Also stops the read-ahead early, at a few places. Returns the number
 * of records. */
static size_t same_through_readahead(const char *file, int64_t from,
				     const struct fd_readahead_filter *keep)
{
	struct fd_error err = {0}, err2 = {0};
	struct fd_recording_reader *r;
	assert_int_equal(fd_recording_reader_open(file, &r, &err), 0);
	struct tu_recs direct = {0};
	struct fd_record rec;
	int rc = fd_recording_reader_seek(r, from, &err), rc2;
	uint64_t dropped = 0;
	while (rc == 0 && (rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		rc = 0;
		if (keep && keep->has_until && rec.time_ns >= keep->until)
			break;
		if (keep && keep->signals && !(keep->signals & (1u << rec.signal)))
			dropped++;
		else
			tu_recs_add(&direct, &rec);
	}
	fd_recording_reader_destroy(r);
	assert_int_equal(fd_recording_reader_open(file, &r, &err2), 0);
	struct fd_readahead *ra;
	assert_int_equal(fd_readahead_start(r, from, keep, &ra, &err2), 0);
	size_t i = 0;
	while ((rc2 = fd_readahead_next(ra, &rec, &err2)) > 0) {
		if (i >= direct.n)
			fail_msg("more records through the read-ahead than %zu", direct.n);
		const char *why = tu_rec_diff(&direct.v[i], &rec);
		if (why)
			fail_msg("record %zu: %s", i, why);
		i++;
	}
	assert_int_equal(i, direct.n);
	assert_int_equal(rc2, rc);
	if (rc == 0)
		assert_int_equal(fd_readahead_dropped(ra), dropped);
	if (rc < 0)
		assert_string_equal(err2.msg, err.msg);
	fd_readahead_stop(ra);
	fd_recording_reader_destroy(r);
	/* stopped early, while the thread waits for room or reads */
	for (size_t stop_at = 0; stop_at < direct.n; stop_at += direct.n / 3 + 1) {
		assert_int_equal(fd_recording_reader_open(file, &r, &err), 0);
		assert_int_equal(fd_readahead_start(r, from, keep, &ra, &err), 0);
		for (size_t k = 0; k < stop_at; k++)
			assert_int_equal(fd_readahead_next(ra, &rec, &err), 1);
		fd_readahead_stop(ra);
		fd_recording_reader_destroy(r);
	}
	size_t n = direct.n;
	tu_recs_free(&direct);
	return n;
}

/* 20,000 records go several times round the ring of chunks; a record larger
 * than a chunk (3 MiB) gets one of its own between small ones; a damaged
 * block is reported after every record before it, as the reader reports
 * it; a seek to the middle starts there. */
static void readahead_same_as_reader(void **state)
{
	(void)state;
	assert_int_equal(same_through_readahead(path, INT64_MIN, NULL), 20000);
	int64_t mid = written.first_time + (written.last_time - written.first_time) / 2;
	size_t half = same_through_readahead(path, mid, NULL);
	assert_true(half > 5000 && half < 15000);
	/* one signal of three, then two up to a time: fewer records, each
	 * dropped one counted */
	struct fd_readahead_filter logs = {.signals = 1u << FD_SIGNAL_LOGS};
	size_t n_logs = same_through_readahead(path, INT64_MIN, &logs);
	assert_true(n_logs > 0 && n_logs < 20000);
	struct fd_readahead_filter early = {
		.signals = 1u << FD_SIGNAL_TRACES | 1u << FD_SIGNAL_METRICS,
		.has_until = true,
		.until = mid};
	size_t n_early = same_through_readahead(path, INT64_MIN, &early);
	assert_true(n_early > 0 && n_early < 20000 - half);

	char *bp = tu_path(dir, "big.fdr");
	struct fd_synth *syn = fd_synth_create(NULL);
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(bp, NULL, NULL, &w, &err), 0);
	size_t big_len = 3 << 20;
	uint8_t *big = malloc(big_len);
	memset(big, 0x5a, big_len);
	int64_t t = 0;
	for (int i = 0; i < 5001; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		rec.time_ns = ++t; /* in order, whatever the synthesizer's times */
		if (i == 2500) {
			rec.payload = big; /* not OTLP: the reader does not look */
			rec.payload_len = big_len;
		}
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	}
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
	fd_synth_destroy(syn);
	free(big);
	assert_int_equal(same_through_readahead(bp, INT64_MIN, NULL), 5001);

	/* a flipped byte in the last record block's data */
	struct fd_recording_reader *r;
	assert_int_equal(fd_recording_reader_open(bp, &r, &err), 0);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	uint64_t off = 0;
	for (size_t i = 0; i < ix->n_blocks; i++)
		if (ix->blocks[i]->type == FDR_BLOCK_RECORDS)
			off = ix->blocks[i]->offset + FDR_BLOCK_HEADER_LEN + 8;
	fd_recording_reader_destroy(r);
	assert_true(off > 0);
	FILE *f = fopen(bp, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	fputc(c ^ 0xff, f);
	fclose(f);
	size_t before = same_through_readahead(bp, INT64_MIN, NULL);
	assert_true(before > 0 && before < 5001);
	/* the error comes through a filter too, after the records it keeps */
	size_t kept = same_through_readahead(bp, INT64_MIN, &logs);
	assert_true(kept < before);
	free(bp);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(pacer_follows_schedule_without_drift),
		cmocka_unit_test(pacer_extreme_times),
		cmocka_unit_test(speed_parsing),
		cmocka_unit_test(rate_holds_over_a_minute),
		cmocka_unit_test(rate_ramp_shape),
		cmocka_unit_test(rebase_shifts_every_timestamp),
	};
	const struct CMUnitTest pipeline[] = {
		cmocka_unit_test(rebase_at_time_shifts_records_and_payloads),
		cmocka_unit_test(window_and_loops),
		cmocka_unit_test(shards_are_disjoint_and_whole),
		cmocka_unit_test(signal_and_service_filters),
		cmocka_unit_test(extreme_times),
		cmocka_unit_test(readahead_same_as_reader),
	};
	int failed = cmocka_run_group_tests_name("pace and rebase", pure, NULL, NULL);
	failed += cmocka_run_group_tests_name("pipeline", pipeline, setup, teardown);
	return failed;
}
