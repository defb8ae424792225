/* sinks/batcher: the batch policy dir:, stdout: and kafka:// share. Every
 * record comes out once, in arrival order per signal (per key when keyed);
 * requests respect records, bytes and window; keyed requests hold one key;
 * a request the sink splits comes again in halves; flush sends the oldest
 * request first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp/batch.h"
#include "sinks/batcher.h"
#include "tests/support/synth.h"

#define N 5000

/* What the sink saw. */
struct seen {
	struct fd_batcher_limits l;
	size_t split_above;      /* answer FD_BATCHER_SPLIT above this many records; 0: never */
	int64_t last_time[FD_SIGNAL_COUNT * 256]; /* per signal and key byte: order check */
	uint64_t records;        /* records emitted */
	uint64_t requests, splits;
	uint64_t payload_sum;    /* sum of payload lengths emitted */
	int64_t prev_first;      /* flush: oldest first */
	bool flushing;
};

static int emit(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b, const uint8_t *key,
		size_t keylen, struct fd_error *err)
{
	(void)err;
	struct seen *s = ctx;
	size_t n = fd_otlp_batch_count(b);
	assert_true(n >= 1);
	if (s->split_above && n > s->split_above) {
		s->splits++;
		return FD_BATCHER_SPLIT;
	}
	assert_true(n <= s->l.records);
	if (n > 1)
		assert_true(fd_otlp_batch_size(b) <= s->l.bytes);
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		struct fd_record r;
		fd_otlp_batch_get(b, i, &r);
		assert_int_equal(r.signal, sig);
		if (r.time_ns < lo)
			lo = r.time_ns;
		if (r.time_ns > hi)
			hi = r.time_ns;
		/* keyed: the key is the record's payload length modulo 7 */
		if (keylen)
			assert_int_equal(key[0], r.payload_len % 7);
		size_t slot = (size_t)sig * 256 + (keylen ? key[0] : 0);
		assert_true(r.time_ns >= s->last_time[slot]); /* arrival order kept */
		s->last_time[slot] = r.time_ns;
		s->payload_sum += r.payload_len;
	}
	if (!keylen)
		assert_true(hi - lo <= s->l.window);
	if (s->flushing && !keylen && !s->split_above) { /* halves start later */
		assert_true(fd_otlp_batch_first_time(b) >= s->prev_first);
		s->prev_first = fd_otlp_batch_first_time(b);
	}
	s->records += n;
	s->requests++;
	return 0;
}

static void run(struct seen *s, bool keyed, size_t flush_every)
{
	for (size_t i = 0; i < sizeof(s->last_time) / sizeof(s->last_time[0]); i++)
		s->last_time[i] = INT64_MIN;
	struct fd_batcher *b = fd_batcher_create(&s->l, emit, s);
	struct fd_synth *syn = fd_synth_create(NULL);
	assert_non_null(b);
	uint64_t sum = 0;
	for (int i = 0; i < N; i++) {
		struct fd_record rec;
		struct fd_error err = {0};
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		sum += rec.payload_len;
		uint8_t key[1] = {(uint8_t)(rec.payload_len % 7)};
		assert_int_equal(fd_batcher_add(b, &rec, key, keyed ? 1 : 0, &err), 0);
		if (flush_every && i % flush_every == 0) {
			s->flushing = true;
			s->prev_first = INT64_MIN;
			assert_int_equal(fd_batcher_flush(b, &err), 0);
			s->flushing = false;
		}
	}
	struct fd_error err = {0};
	s->flushing = true;
	s->prev_first = INT64_MIN;
	assert_int_equal(fd_batcher_flush(b, &err), 0);
	assert_int_equal(s->records, N);
	assert_int_equal(s->payload_sum, sum);
	fd_batcher_destroy(b);
	fd_synth_destroy(syn);
}

static void test_unkeyed_limits(void **state)
{
	(void)state;
	struct seen by_records = {.l = {100, 1 << 20, INT64_MAX / 2}};
	run(&by_records, false, 0);
	assert_true(by_records.requests >= N / 100);
	struct seen by_bytes = {.l = {100000, 3000, INT64_MAX / 2}};
	run(&by_bytes, false, 0);
	assert_true(by_bytes.requests > 10);
	struct seen by_window = {.l = {100000, 1 << 30, 50000000}}; /* 50 ms */
	run(&by_window, false, 0);
	assert_true(by_window.requests > 10);
	struct seen flushed = {.l = {512, 1 << 20, 1000000000}};
	run(&flushed, false, 97);
}

static void test_keyed(void **state)
{
	(void)state;
	struct seen s = {.l = {300, 20000, 1000000000}};
	run(&s, true, 0);
	/* grouped by key: a few requests per hold, not one per key change */
	assert_true(s.requests < N / 5);
	struct seen f = {.l = {300, 20000, 1000000000}};
	run(&f, true, 250);
}

static void test_split(void **state)
{
	(void)state;
	struct seen s = {.l = {1000, 1 << 20, INT64_MAX / 2}, .split_above = 7};
	run(&s, false, 0);
	assert_true(s.splits > 0);
	struct seen k = {.l = {1000, 1 << 20, INT64_MAX / 2}, .split_above = 3};
	run(&k, true, 0);
	assert_true(k.splits > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unkeyed_limits),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
