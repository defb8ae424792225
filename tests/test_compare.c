/*
 * compare: a sent recording against a received one with planted damage —
 * drops, a duplicate, a reordered record, a record never sent, rewritten
 * and dropped attributes — must give exactly the planted counts, per
 * signal and per field; an identical copy must be clean. Planted delays
 * (capture times) give exact p50/p99/max per service and signal, measured
 * from the sent capture time when the sent recording has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare/compare.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/wire.h"
#include "recording/reader.h"
#include "recording/writer.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

#define N 2000

struct rec {
	int64_t time;
	enum fd_signal signal;
	const struct fd_blob *resource, *scope;
	uint8_t *payload;
	size_t len;
	int64_t capture; /* 0: none */
};

struct world {
	struct tu_dir_fixture *dir;
	struct fd_synth *synth;
	struct rec sent[N];
};

static void write_recording(const char *path, const struct rec *const *recs, size_t n)
{
	Firedrill__V1__RecordingHeader h = FIREDRILL__V1__RECORDING_HEADER__INIT;
	h.scenario_name = "compare-test";
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	struct fd_recording_writer_options o = {0};
	for (size_t i = 0; i < n; i++)
		o.capture_times |= recs[i]->capture != 0;
	assert_int_equal(fd_recording_writer_create(path, &h, &o, &w, &err), 0);
	for (size_t i = 0; i < n; i++) {
		struct fd_record r = {
			.time_ns = recs[i]->time,
			.signal = recs[i]->signal,
			.resource = recs[i]->resource,
			.scope = recs[i]->scope,
			.payload = recs[i]->payload,
			.payload_len = recs[i]->len,
			.capture_ns = recs[i]->capture,
		};
		assert_int_equal(fd_recording_writer_add(w, &r, &err), 0);
	}
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	if (!w || tu_dir_setup((void **)&w->dir) < 0)
		return -1;
	struct fd_synth_options o = {.seed = 7, .services = 3, .instances = 2};
	w->synth = fd_synth_create(&o);
	for (size_t i = 0; i < N; i++) {
		struct fd_record r;
		if (fd_synth_next(w->synth, &r) < 0)
			return -1;
		w->sent[i] = (struct rec){r.time_ns, r.signal, r.resource, r.scope,
					  malloc(r.payload_len), r.payload_len};
		memcpy(w->sent[i].payload, r.payload, r.payload_len);
	}
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	for (size_t i = 0; i < N; i++)
		free(w->sent[i].payload);
	fd_synth_destroy(w->synth);
	void *d = w->dir;
	tu_dir_teardown(&d);
	free(w);
	return 0;
}

static void run_with(struct world *w, const struct rec *const *sent,
		     const struct rec *const *received, size_t n, struct fd_compare_result *res)
{
	char *a = tu_path(w->dir->dir, "sent.fdr"), *b = tu_path(w->dir->dir, "received.fdr");
	write_recording(a, sent, N);
	write_recording(b, received, n);
	struct fd_recording_reader *ra, *rb;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_reader_open(a, &ra, &err), 0);
	assert_int_equal(fd_recording_reader_open(b, &rb, &err), 0);
	assert_int_equal(fd_compare_run(ra, rb, res, &err), 0);
	fd_recording_reader_destroy(ra);
	fd_recording_reader_destroy(rb);
	free(a);
	free(b);
}

static void run(struct world *w, const struct rec *const *received, size_t n,
		struct fd_compare_result *res)
{
	const struct rec *sent[N];
	for (size_t i = 0; i < N; i++)
		sent[i] = &w->sent[i];
	run_with(w, sent, received, n, res);
}

static void identical_is_clean(void **state)
{
	struct world *w = *state;
	const struct rec *recv[N];
	for (size_t i = 0; i < N; i++)
		recv[i] = &w->sent[i];
	struct fd_compare_result res;
	run(w, recv, N, &res);
	assert_true(fd_compare_clean(&res));
	uint64_t total = 0;
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		assert_int_equal(res.total[s].sent, res.total[s].matched);
		assert_int_equal(res.total[s].reordered, 0);
		total += res.total[s].sent;
	}
	assert_int_equal(total, N);
	assert_int_equal(res.n_fields, 0);
	assert_true(res.n_services == 3);
	fd_compare_result_finish(&res);
}

static void service_of(const struct rec *r, char *out, size_t n)
{
	assert_int_equal(fd_otlp_resource_service(r->resource->data, r->resource->len, out, n), 0);
}

/* A copy of a span with its first attribute's value replaced, or of a log
 * record without its first attribute; the key goes to *key. */
static struct rec damaged(const struct rec *r, char *key, size_t key_n)
{
	struct rec d = *r;
	if (r->signal == FD_SIGNAL_TRACES) {
		Opentelemetry__Proto__Trace__V1__Span *s =
			opentelemetry__proto__trace__v1__span__unpack(NULL, r->len, r->payload);
		assert_non_null(s);
		assert_true(s->n_attributes > 0);
		snprintf(key, key_n, "attributes.%s", s->attributes[0]->key);
		Opentelemetry__Proto__Common__V1__AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
		v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v.string_value = "rewritten-by-the-pipeline";
		Opentelemetry__Proto__Common__V1__AnyValue *old = s->attributes[0]->value;
		s->attributes[0]->value = &v;
		d.len = opentelemetry__proto__trace__v1__span__get_packed_size(s);
		d.payload = malloc(d.len);
		opentelemetry__proto__trace__v1__span__pack(s, d.payload);
		s->attributes[0]->value = old;
		opentelemetry__proto__trace__v1__span__free_unpacked(s, NULL);
	} else {
		Opentelemetry__Proto__Logs__V1__LogRecord *l =
			opentelemetry__proto__logs__v1__log_record__unpack(NULL, r->len, r->payload);
		assert_non_null(l);
		assert_true(l->n_attributes > 0);
		snprintf(key, key_n, "attributes.%s", l->attributes[0]->key);
		l->attributes++;
		l->n_attributes--;
		d.len = opentelemetry__proto__logs__v1__log_record__get_packed_size(l);
		d.payload = malloc(d.len);
		opentelemetry__proto__logs__v1__log_record__pack(l, d.payload);
		l->attributes--;
		l->n_attributes++;
		opentelemetry__proto__logs__v1__log_record__free_unpacked(l, NULL);
	}
	return d;
}

static const struct fd_compare_field *field(const struct fd_compare_result *res,
					    enum fd_signal sig, const char *key)
{
	for (size_t i = 0; i < res->n_fields; i++)
		if (res->fields[i].signal == sig && strcmp(res->fields[i].key, key) == 0)
			return &res->fields[i];
	return NULL;
}

static void planted_damage_counted_exactly(void **state)
{
	struct world *w = *state;
	const struct rec *recv[N + 8];
	size_t n = 0;
	uint64_t lost[FD_SIGNAL_COUNT] = {0}, dup[FD_SIGNAL_COUNT] = {0};

	/* What to damage: the first spans and logs after 700. */
	size_t spans[5], logs[2], ns = 0, nl = 0;
	for (size_t i = 700; i < N && (ns < 5 || nl < 2); i++) {
		if (w->sent[i].signal == FD_SIGNAL_TRACES && ns < 5)
			spans[ns++] = i;
		if (w->sent[i].signal == FD_SIGNAL_LOGS && nl < 2)
			logs[nl++] = i;
	}
	assert_int_equal(ns, 5);
	assert_int_equal(nl, 2);
	struct rec copies[7];
	char span_key[5][256], log_key[2][256];
	for (size_t i = 0; i < 5; i++)
		copies[i] = damaged(&w->sent[spans[i]], span_key[i], sizeof(span_key[i]));
	for (size_t i = 0; i < 2; i++)
		copies[5 + i] = damaged(&w->sent[logs[i]], log_key[i], sizeof(log_key[i]));

	/* A span never sent: a sent one with another span id. */
	size_t stranger_of = 0;
	while (w->sent[stranger_of].signal != FD_SIGNAL_TRACES)
		stranger_of++;
	Opentelemetry__Proto__Trace__V1__Span *s = opentelemetry__proto__trace__v1__span__unpack(
		NULL, w->sent[stranger_of].len, w->sent[stranger_of].payload);
	assert_non_null(s);
	s->span_id.data[0] ^= 0xff;
	struct rec stranger = w->sent[stranger_of];
	stranger.len = opentelemetry__proto__trace__v1__span__get_packed_size(s);
	stranger.payload = malloc(stranger.len);
	opentelemetry__proto__trace__v1__span__pack(s, stranger.payload);
	opentelemetry__proto__trace__v1__span__free_unpacked(s, NULL);

	/* Record 300 arrives after record 400: out of order when a record of
	 * its service and signal in between was sent later than it. */
	const size_t moved = 300, after = 400;
	char svc[128], other[128];
	service_of(&w->sent[moved], svc, sizeof(svc));
	uint64_t reordered = 0;
	for (size_t j = moved + 1; j <= after && !reordered; j++) {
		service_of(&w->sent[j], other, sizeof(other));
		if (w->sent[j].signal == w->sent[moved].signal && strcmp(svc, other) == 0 &&
		    w->sent[j].time > w->sent[moved].time)
			reordered = 1;
	}
	assert_int_equal(reordered, 1); /* the seed gives one; keep the test meaningful */

	for (size_t i = 0; i < N; i++) {
		if (i == 10 || i == 11 || i == 500) {
			lost[w->sent[i].signal]++;
			continue;
		}
		if (i == moved)
			continue;
		const struct rec *r = &w->sent[i];
		for (size_t k = 0; k < 5; k++)
			if (i == spans[k])
				r = &copies[k];
		for (size_t k = 0; k < 2; k++)
			if (i == logs[k])
				r = &copies[5 + k];
		recv[n++] = r;
		if (i == 42) {
			recv[n++] = r;
			dup[r->signal]++;
		}
		if (i == after)
			recv[n++] = &w->sent[moved];
		if (i == 1000)
			recv[n++] = &stranger;
	}

	struct fd_compare_result res;
	run(w, recv, n, &res);
	assert_false(fd_compare_clean(&res));
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
		assert_int_equal(res.total[sig].lost, lost[sig]);
		assert_int_equal(res.total[sig].duplicated, dup[sig]);
	}
	assert_int_equal(res.total[FD_SIGNAL_TRACES].unexpected, 1);
	assert_int_equal(res.total[FD_SIGNAL_METRICS].unexpected + res.total[FD_SIGNAL_LOGS].unexpected, 0);
	assert_int_equal(res.total[FD_SIGNAL_TRACES].changed, 5);
	assert_int_equal(res.total[FD_SIGNAL_LOGS].changed, 2);
	assert_int_equal(res.total[FD_SIGNAL_METRICS].changed, 0);
	uint64_t all_reordered = 0;
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++)
		all_reordered += res.total[sig].reordered;
	assert_int_equal(all_reordered, reordered);
	assert_int_equal(res.total[w->sent[moved].signal].reordered, reordered);

	/* Each planted field change, and nothing else. */
	uint64_t rewritten = 0, dropped = 0;
	for (size_t i = 0; i < res.n_fields; i++) {
		const struct fd_compare_field *f = &res.fields[i];
		assert_int_equal(f->added, 0);
		if (f->signal == FD_SIGNAL_TRACES) {
			assert_int_equal(f->dropped, 0);
			rewritten += f->rewritten;
		} else {
			assert_int_equal(f->signal, FD_SIGNAL_LOGS);
			assert_int_equal(f->rewritten, 0);
			dropped += f->dropped;
		}
	}
	assert_int_equal(rewritten, 5);
	assert_int_equal(dropped, 2);
	for (size_t k = 0; k < 5; k++)
		assert_non_null(field(&res, FD_SIGNAL_TRACES, span_key[k]));
	for (size_t k = 0; k < 2; k++)
		assert_non_null(field(&res, FD_SIGNAL_LOGS, log_key[k]));

	/* Per service: the counts add up to the totals. */
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
		uint64_t l = 0, c = 0, sent = 0;
		for (size_t i = 0; i < res.n_services; i++) {
			l += res.services[i].by_signal[sig].lost;
			c += res.services[i].by_signal[sig].changed;
			sent += res.services[i].by_signal[sig].sent;
		}
		assert_int_equal(l, res.total[sig].lost);
		assert_int_equal(c, res.total[sig].changed);
		assert_int_equal(sent, res.total[sig].sent);
	}
	fd_compare_result_finish(&res);
	for (size_t i = 0; i < 7; i++)
		free(copies[i].payload);
	free(stranger.payload);
}

/* The nearest-rank percentile straight from its definition: the smallest
 * value with at least pct% of the values at or below it. */
static int64_t by_definition(const int64_t *v, size_t n, unsigned pct)
{
	int64_t best = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t le = 0;
		for (size_t j = 0; j < n; j++)
			le += v[j] <= v[i];
		if (le * 100 >= (size_t)pct * n && v[i] < best)
			best = v[i];
	}
	return best;
}

/*
 * Every received record captured j ms after its reference, j counting the
 * records of its service and signal from 1: each (service, signal) then
 * has p50 = ceil(n/2) ms, p99 = ceil(0.99 n) ms, max = n ms. The sent
 * capture times are 7 s after the record times, so measuring from the
 * record's own time instead would be 7 s off. Without sent capture times
 * the same received recording is measured from the record times. Two lost
 * records and a duplicate are not measured.
 */
static void planted_delays_exact(void **state)
{
	struct world *w = *state;
	static struct rec sent_c[N], recv_c[N + 1];
	const struct rec *sent[N], *sent_plain[N], *recv[N + 1];
	char names[3][64] = {{0}};
	size_t per_key[3 * FD_SIGNAL_COUNT] = {0}, n = 0;
	static int64_t planted[3 * FD_SIGNAL_COUNT][N];
	for (size_t i = 0; i < N; i++) {
		char svc[64];
		service_of(&w->sent[i], svc, sizeof(svc));
		size_t s = 0;
		while (s < 3 && names[s][0] && strcmp(names[s], svc) != 0)
			s++;
		assert_true(s < 3);
		if (!names[s][0])
			snprintf(names[s], sizeof(names[s]), "%s", svc);
		sent_c[i] = w->sent[i];
		sent_c[i].capture = w->sent[i].time + 7000000000LL;
		sent[i] = &sent_c[i];
		sent_plain[i] = &w->sent[i];
		if (i == 100 || i == 200) /* lost */
			continue;
		size_t k = s * FD_SIGNAL_COUNT + w->sent[i].signal;
		int64_t d = (int64_t)(++per_key[k]) * 1000000;
		planted[k][per_key[k] - 1] = d;
		recv_c[n] = w->sent[i];
		recv_c[n].capture = sent_c[i].capture + d;
		recv[n] = &recv_c[n];
		n++;
	}
	recv_c[n] = recv_c[10]; /* a duplicate, captured much later */
	recv_c[n].capture += 3600000000000LL;
	recv[n] = &recv_c[n];
	n++;

	for (int pass = 0; pass < 2; pass++) {
		struct fd_compare_result res;
		if (pass == 0) {
			run_with(w, sent, recv, n, &res);
			assert_int_equal(res.delay_from_capture, N - 2);
			assert_int_equal(res.delay_from_time, 0);
		} else {
			/* no sent capture times: from the record's time, 7 s more */
			run_with(w, sent_plain, recv, n, &res);
			assert_int_equal(res.delay_from_capture, 0);
			assert_int_equal(res.delay_from_time, N - 2);
		}
		int64_t shift = pass == 0 ? 0 : 7000000000LL;
		for (size_t s = 0; s < 3; s++) {
			const struct fd_compare_service *svc = NULL;
			for (size_t i = 0; i < res.n_services; i++)
				if (strcmp(res.services[i].name, names[s]) == 0)
					svc = &res.services[i];
			assert_non_null(svc);
			for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
				uint64_t m = per_key[s * FD_SIGNAL_COUNT + (size_t)sig];
				const struct fd_compare_delay *d = &svc->delay[sig];
				assert_int_equal(d->measured, m);
				if (!m)
					continue;
				assert_int_equal(d->p50, shift + (int64_t)((m + 1) / 2) * 1000000);
				assert_int_equal(d->p99, shift + (int64_t)((m * 99 + 99) / 100) * 1000000);
				assert_int_equal(d->max, shift + (int64_t)m * 1000000);
			}
		}
		/* per signal, over the services */
		for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
			static int64_t all[N];
			size_t na = 0;
			int64_t max = 0;
			for (size_t s = 0; s < 3; s++) {
				size_t k = s * FD_SIGNAL_COUNT + (size_t)sig;
				for (size_t j = 0; j < per_key[k]; j++) {
					all[na++] = planted[k][j];
					if (planted[k][j] > max)
						max = planted[k][j];
				}
			}
			assert_true(na > 0);
			assert_int_equal(res.delay[sig].measured, na);
			assert_int_equal(res.delay[sig].p50, shift + by_definition(all, na, 50));
			assert_int_equal(res.delay[sig].p99, shift + by_definition(all, na, 99));
			assert_int_equal(res.delay[sig].max, shift + max);
		}
		fd_compare_result_finish(&res);
	}

	/* Neither side with capture times: nothing measured. */
	struct fd_compare_result res;
	run(w, sent_plain, N, &res);
	assert_int_equal(res.delay_from_capture + res.delay_from_time, 0);
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++)
		assert_int_equal(res.delay[sig].measured, 0);
	fd_compare_result_finish(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identical_is_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_damage_counted_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_delays_exact, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
