/* record/: interning (one pointer per distinct byte string, dense ids,
 * stable pointers while the table grows, recording-dictionary ids), the
 * stable hash, and signal names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream/intern.h"
#include "stream/record.h"

static void test_add_dedups(void **state)
{
	(void)state;
	struct fd_intern *t = fd_intern_create();
	assert_non_null(t);
	assert_int_equal(fd_intern_count(t), 0);
	assert_null(fd_intern_get(t, 0));

	char a1[] = "service.name=checkout", a2[] = "service.name=checkout";
	const struct fd_blob *a = fd_intern_add(t, (const uint8_t *)a1, strlen(a1));
	assert_non_null(a);
	assert_int_equal(a->id, 0);
	assert_int_equal(a->len, strlen(a1));
	assert_memory_equal(a->data, a1, a->len);
	assert_true((const void *)a->data != (const void *)a1); /* a copy */
	/* equal bytes from another buffer: the same blob */
	assert_ptr_equal(fd_intern_add(t, (const uint8_t *)a2, strlen(a2)), a);
	/* a prefix, a longer string and one differing byte are distinct */
	const struct fd_blob *b = fd_intern_add(t, (const uint8_t *)a1, 5);
	const struct fd_blob *c = fd_intern_add(t, (const uint8_t *)"service.name=checkouts", 22);
	a2[0] = 'S';
	const struct fd_blob *d = fd_intern_add(t, (const uint8_t *)a2, strlen(a2));
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_int_equal(b->id, 1);
	assert_int_equal(c->id, 2);
	assert_int_equal(d->id, 3);
	assert_int_equal(fd_intern_count(t), 4);
	assert_ptr_equal(fd_intern_get(t, 0), a);
	assert_ptr_equal(fd_intern_get(t, 3), d);
	assert_null(fd_intern_get(t, 4));
	assert_null(fd_intern_get(t, UINT32_MAX));
	/* the empty string is a value like any other, NULL data allowed */
	const struct fd_blob *e = fd_intern_add(t, NULL, 0);
	assert_non_null(e);
	assert_int_equal(e->len, 0);
	assert_int_equal(e->id, 4);
	assert_ptr_equal(fd_intern_add(t, (const uint8_t *)"", 0), e);
	/* bytes with NULs compare by length, not as C strings */
	const struct fd_blob *z1 = fd_intern_add(t, (const uint8_t *)"a\0b", 3);
	const struct fd_blob *z2 = fd_intern_add(t, (const uint8_t *)"a\0c", 3);
	assert_ptr_not_equal(z1, z2);
	assert_int_equal(fd_intern_count(t), 7);
	fd_intern_destroy(t);
	fd_intern_destroy(NULL);
}

static void test_growth_keeps_pointers(void **state)
{
	(void)state;
	enum { N = 50000 };
	struct fd_intern *t = fd_intern_create();
	const struct fd_blob **p = malloc(N * sizeof(*p));
	assert_non_null(p);
	char buf[64];
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "resource-%d", i);
		p[i] = fd_intern_add(t, (const uint8_t *)buf, (size_t)n);
		assert_non_null(p[i]);
		assert_int_equal(p[i]->id, (uint32_t)i);
	}
	assert_int_equal(fd_intern_count(t), N);
	/* after many rehashes: same pointers, same bytes, found again */
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "resource-%d", i);
		assert_ptr_equal(fd_intern_get(t, (uint32_t)i), p[i]);
		assert_int_equal(p[i]->len, (uint32_t)n);
		assert_memory_equal(p[i]->data, buf, (size_t)n);
		assert_ptr_equal(fd_intern_add(t, (const uint8_t *)buf, (size_t)n), p[i]);
	}
	assert_int_equal(fd_intern_count(t), N);
	free(p);
	fd_intern_destroy(t);
}

static void test_add_with_id(void **state)
{
	(void)state;
	struct fd_intern *t = fd_intern_create();
	/* only the next dense id is accepted */
	assert_null(fd_intern_add_with_id(t, 1, (const uint8_t *)"x", 1));
	const struct fd_blob *a = fd_intern_add_with_id(t, 0, (const uint8_t *)"x", 1);
	assert_non_null(a);
	assert_int_equal(a->id, 0);
	assert_null(fd_intern_add_with_id(t, 0, (const uint8_t *)"y", 1));
	assert_null(fd_intern_add_with_id(t, 5, (const uint8_t *)"y", 1));
	assert_null(fd_intern_add_with_id(t, UINT32_MAX, (const uint8_t *)"y", 1));
	/* a duplicate definition gets its own id, so ids stay aligned */
	const struct fd_blob *b = fd_intern_add_with_id(t, 1, (const uint8_t *)"x", 1);
	assert_non_null(b);
	assert_int_equal(b->id, 1);
	assert_ptr_not_equal(a, b);
	assert_int_equal(fd_intern_count(t), 2);
	/* and lookups by content still find one of them */
	const struct fd_blob *c = fd_intern_add(t, (const uint8_t *)"x", 1);
	assert_true(c == a || c == b);
	assert_int_equal(fd_intern_count(t), 2);
	fd_intern_destroy(t);
}

/* A recording may repeat one dictionary entry many times (issue 20: 400k
 * repeats in a 1.3 MB file took 70 s, all in one probe run). Repeats must
 * cost O(1) each: with a quadratic table this test runs for minutes and
 * meson's timeout fails it; the lookups below check nothing was lost. */
static void test_many_repeats(void **state)
{
	(void)state;
	enum { N = 400000 };
	struct fd_intern *t = fd_intern_create();
	const uint8_t same[] = "service.name=checkout,host.name=a";
	for (uint32_t i = 0; i < N; i++) {
		const struct fd_blob *b = fd_intern_add_with_id(t, i, same, sizeof(same));
		assert_non_null(b);
		assert_int_equal(b->id, i);
		if (i % 1000 == 0) { /* distinct entries in between still dedupe */
			char other[32];
			int n = snprintf(other, sizeof(other), "other-%u", i);
			const struct fd_blob *o = fd_intern_add(t, (const uint8_t *)other, (size_t)n);
			assert_non_null(o);
			assert_ptr_equal(fd_intern_add(t, (const uint8_t *)other, (size_t)n), o);
			i++;
			assert_int_equal(o->id, i);
		}
	}
	assert_int_equal(fd_intern_count(t), N);
	assert_ptr_equal(fd_intern_add(t, same, sizeof(same)), fd_intern_get(t, 0));
	assert_int_equal(fd_intern_count(t), N);
	assert_int_equal(fd_intern_get(t, N - 1)->len, sizeof(same));
	fd_intern_destroy(t);
}

static void test_hash_is_stable(void **state)
{
	(void)state;
	/* Shard assignment depends on these values: they must never change.
	 * (FNV-1a 64 with a murmur3 finalizer, computed independently.) */
	assert_true(fd_hash64("", 0) == 0xefd01f60ba992926ULL);
	assert_true(fd_hash64(NULL, 0) == 0xefd01f60ba992926ULL);
	assert_true(fd_hash64("a", 1) == 0x82a2a958a9bece5bULL);
	assert_true(fd_hash64("service.name=checkout", 21) == 0xe4dce79ad5424c4cULL);
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_true(fd_hash64(all, 256) == 0x2067db6dbd4efa06ULL);
	/* low bits are mixed: sequential keys spread over 16 buckets */
	int buckets[16] = {0};
	char buf[32];
	for (int i = 0; i < 1600; i++) {
		int n = snprintf(buf, sizeof(buf), "k%d", i);
		buckets[fd_hash64(buf, (size_t)n) & 15]++;
	}
	for (int i = 0; i < 16; i++) {
		assert_in_range(buckets[i], 60, 140);
	}
}

static void test_signal_names(void **state)
{
	(void)state;
	assert_string_equal(fd_signal_name(FD_SIGNAL_TRACES), "traces");
	assert_string_equal(fd_signal_name(FD_SIGNAL_METRICS), "metrics");
	assert_string_equal(fd_signal_name(FD_SIGNAL_LOGS), "logs");
	assert_null(fd_signal_name((enum fd_signal)3));
	assert_null(fd_signal_name((enum fd_signal)-1));
	static const struct {
		const char *name;
		enum fd_signal s;
	} ok[] = {
		{"traces", FD_SIGNAL_TRACES}, {"spans", FD_SIGNAL_TRACES}, {"trace", FD_SIGNAL_TRACES},
		{"metrics", FD_SIGNAL_METRICS}, {"metric", FD_SIGNAL_METRICS},
		{"logs", FD_SIGNAL_LOGS}, {"log", FD_SIGNAL_LOGS},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		enum fd_signal s = (enum fd_signal)99;
		assert_int_equal(fd_signal_parse(ok[i].name, &s), 0);
		assert_int_equal(s, ok[i].s);
	}
	static const char *const bad[] = {"", "Traces", "trace ", "events", "log s", "metricsx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum fd_signal s = (enum fd_signal)99;
		assert_int_equal(fd_signal_parse(bad[i], &s), -1);
		assert_int_equal(s, 99);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_dedups),
		cmocka_unit_test(test_growth_keeps_pointers),
		cmocka_unit_test(test_add_with_id),
		cmocka_unit_test(test_many_repeats),
		cmocka_unit_test(test_hash_is_stable),
		cmocka_unit_test(test_signal_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
