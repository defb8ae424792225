/* otlp/pbread.h: the one protobuf wire reader, as a table of edge cases.
 * Each row is a message body and what fd_pb_next reads from it, field by
 * field, ending with 0 (the end) or -1 (refused). Then
 * fd_otlp_plain_attribute (otlp/shape.h), which reads the usual bytes
 * without it, against its rule read with it; fd_otlp_cstr_len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp/attr_text.h"
#include "otlp/pbread.h"
#include "otlp/pbwrite.h"
#include "otlp/shape.h"

struct want {
	int rc;
	uint32_t num;
	unsigned type;
	uint64_t v;
};

struct row {
	const char *what;
	const char *bytes;
	size_t n;
	struct want fields[4]; /* read in order; the last is rc 0 or -1 */
	size_t bad_at;         /* for -1: where the reader stays */
};

#define B(s) s, sizeof(s) - 1

static const struct row rows[] = {
	{"empty body", B(""), {{0, 0, 0, 0}}, 0},
	{"varint field", B("\x08\x96\x01"), {{1, 1, PB_VARINT, 150}, {0, 0, 0, 0}}, 0},
	{"length-delimited", B("\x12\x03" "abc"), {{1, 2, PB_LEN, 3}, {0, 0, 0, 0}}, 0},
	{"fixed64", B("\x19\x01\x02\x03\x04\x05\x06\x07\x08"),
	 {{1, 3, PB_FIXED64, 0x0807060504030201ULL}, {0, 0, 0, 0}}, 0},
	{"fixed32", B("\x25\x01\x02\x03\x04"), {{1, 4, PB_FIXED32, 0x04030201}, {0, 0, 0, 0}}, 0},
	{"several fields, an unknown one skipped by the caller",
	 B("\x08\x01\xfa\x3e\x02" "xy" "\x10\x02"),
	 {{1, 1, PB_VARINT, 1}, {1, 1007, PB_LEN, 2}, {1, 2, PB_VARINT, 2}, {0, 0, 0, 0}}, 0},
	{"empty length-delimited field", B("\x0a\x00"), {{1, 1, PB_LEN, 0}, {0, 0, 0, 0}}, 0},
	/* varints */
	{"truncated varint value", B("\x08\x80"), {{-1, 0, 0, 0}}, 0},
	{"truncated varint value, two bytes", B("\x08\xff\xff"), {{-1, 0, 0, 0}}, 0},
	{"10-byte varint, the largest", B("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
	 {{1, 1, PB_VARINT, UINT64_MAX}, {0, 0, 0, 0}}, 0},
	{"10-byte varint past 64 bits", B("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"),
	 {{-1, 0, 0, 0}}, 0},
	{"11-byte varint", B("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"), {{-1, 0, 0, 0}}, 0},
	{"non-minimal varint", B("\x08\x80\x80\x00"), {{1, 1, PB_VARINT, 0}, {0, 0, 0, 0}}, 0},
	/* tags */
	{"field number 0", B("\x00\x01"), {{-1, 0, 0, 0}}, 0},
	{"field number 0, length-delimited", B("\x02\x00"), {{-1, 0, 0, 0}}, 0},
	{"truncated tag", B("\x80"), {{-1, 0, 0, 0}}, 0},
	{"largest field number, 5-byte tag", B("\xf8\xff\xff\xff\x0f\x00"),
	 {{1, 536870911, PB_VARINT, 0}, {0, 0, 0, 0}}, 0},
	{"tag past 32 bits", B("\xf8\xff\xff\xff\x1f\x00"), {{-1, 0, 0, 0}}, 0},
	{"tag of 6 bytes (padded)", B("\x88\x80\x80\x80\x80\x00\x00"), {{-1, 0, 0, 0}}, 0},
	/* wire types */
	{"wire type 3 (start group)", B("\x0b\x0c"), {{-1, 0, 0, 0}}, 0},
	{"wire type 4 (end group)", B("\x0c"), {{-1, 0, 0, 0}}, 0},
	{"wire type 6", B("\x0e\x00"), {{-1, 0, 0, 0}}, 0},
	{"wire type 7", B("\x0f\x00"), {{-1, 0, 0, 0}}, 0},
	{"bad wire type after a good field", B("\x08\x01\x0f"), {{1, 1, PB_VARINT, 1}, {-1, 0, 0, 0}}, 2},
	/* lengths */
	{"length one past the end", B("\x0a\x04" "abc"), {{-1, 0, 0, 0}}, 0},
	{"length far past the end", B("\x0a\xff\xff\xff\xff\x0f" "abc"), {{-1, 0, 0, 0}}, 0},
	{"length of 2^64 - 1", B("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), {{-1, 0, 0, 0}}, 0},
	{"truncated length", B("\x0a\x80"), {{-1, 0, 0, 0}}, 0},
	{"overlong length of a nested field, after a good one", B("\x08\x01\x12\x02" "a"),
	 {{1, 1, PB_VARINT, 1}, {-1, 0, 0, 0}}, 2},
	{"fixed64 cut short", B("\x09\x01\x02\x03\x04\x05\x06\x07"), {{-1, 0, 0, 0}}, 0},
	{"fixed32 cut short", B("\x0d\x01\x02\x03"), {{-1, 0, 0, 0}}, 0},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const uint8_t *msg = (const uint8_t *)r->bytes;
		struct fd_pb_reader rd = fd_pb_reader(msg, r->n);
		print_message("%s\n", r->what);
		for (size_t k = 0;; k++) {
			const struct want *w = &r->fields[k];
			struct fd_pb_field f;
			int rc = fd_pb_next(&rd, &f);
			assert_int_equal(rc, w->rc);
			if (rc == 0)
				break;
			if (rc < 0) {
				assert_int_equal(rd.p - msg, r->bad_at);
				/* and it stays refused */
				assert_int_equal(fd_pb_next(&rd, &f), -1);
				break;
			}
			assert_int_equal(f.num, w->num);
			assert_int_equal(f.type, w->type);
			assert_true(f.v == w->v);
			if (f.type == PB_LEN)
				assert_int_equal(f.n, (size_t)w->v);
			assert_true(f.p + f.n <= msg + r->n);
		}
	}
}

/* A length-delimited body is read with the bytes that follow it out of
 * reach: a nested message cannot read into its parent's next field. */
static void test_nested_bounds(void **state)
{
	(void)state;
	/* field 1 holds "\x08" (a varint tag with no value); field 2 follows */
	static const uint8_t msg[] = {0x0a, 0x01, 0x08, 0x10, 0x05};
	struct fd_pb_reader r = fd_pb_reader(msg, sizeof(msg));
	struct fd_pb_field f;
	assert_int_equal(fd_pb_next(&r, &f), 1);
	struct fd_pb_reader in = fd_pb_reader(f.p, f.n);
	struct fd_pb_field g;
	assert_int_equal(fd_pb_next(&in, &g), -1);
	assert_int_equal(fd_pb_next(&r, &f), 1);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.v, 5);
	/* an empty body may be NULL */
	struct fd_pb_reader none = fd_pb_reader(NULL, 0);
	assert_int_equal(fd_pb_next(&none, &f), 0);
}

static void test_find(void **state)
{
	(void)state;
	/* field 1 twice: the last wins, as protobuf reads a singular field */
	static const uint8_t msg[] = {0x0a, 0x01, 'a', 0x10, 0x01, 0x0a, 0x02, 'b', 'c'};
	const uint8_t *p;
	size_t n;
	assert_int_equal(fd_pb_find(msg, sizeof(msg), 1, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "bc", 2);
	assert_int_equal(fd_pb_find(msg, sizeof(msg), 3, &p, &n), 0);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(fd_pb_find(msg, sizeof(msg) - 1, 1, &p, &n), -1);
}

/* The fields of p[0..n), at most max of them: their count, or -1 when
 * there are more or the bytes break the reader's rules. */
static int fields(const uint8_t *p, size_t n, struct fd_pb_field *f, int max)
{
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field extra;
	for (int k = 0;; k++) {
		int rc = fd_pb_next(&r, k < max ? &f[k] : &extra);
		if (rc <= 0)
			return rc < 0 ? -1 : k;
		if (k == max)
			return -1;
	}
}

/* otlp/shape.h's rule for an attribute in its usual shape, read field by
 * field. */
static bool plain_rule(const uint8_t *p, size_t n, struct fd_pb_field *key,
		       struct fd_pb_field *member)
{
	static const unsigned wire[5] = {0, PB_LEN, PB_VARINT, PB_VARINT, PB_FIXED64};
	struct fd_pb_field kv[2], m[1];
	if (fields(p, n, kv, 2) != 2 || kv[0].num != 1 || kv[0].type != PB_LEN || kv[0].n == 0 ||
	    kv[0].p[0] == 0 || kv[1].num != 2 || kv[1].type != PB_LEN)
		return false;
	if (fields(kv[1].p, kv[1].n, m, 1) != 1 || m[0].num < 1 || m[0].num > 4 ||
	    m[0].type != wire[m[0].num])
		return false;
	*key = kv[0];
	*member = m[0];
	return true;
}

static void same_field(const struct fd_pb_field *a, const struct fd_pb_field *b)
{
	assert_int_equal(a->num, b->num);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->v, b->v);
	assert_ptr_equal(a->p, b->p);
	assert_int_equal(a->n, b->n);
}

static void expect_rule(const uint8_t *p, size_t n)
{
	struct fd_pb_field k1, m1, k2, m2;
	bool want = plain_rule(p, n, &k1, &m1);
	assert_int_equal(fd_otlp_plain_attribute(p, n, &k2, &m2), want);
	if (want) {
		same_field(&k1, &k2);
		same_field(&m1, &m2);
	}
}

/* A KeyValue of this key and a value of this body, then the same with a
 * byte more and a byte less, and (when mutate) with each byte changed to
 * each of the bytes that mean something here. */
static const uint8_t alphabet[] = {0x00, 0x01, 0x02, 0x07, 0x08, 0x0a, 0x10,
				   0x12, 0x18, 0x21, 0x7f, 0x80, 0xff};

static void expect_kv(const uint8_t *key, size_t key_n, const uint8_t *body, size_t body_n,
		      bool mutate)
{
	struct pbw w = {0};
	pbw_bytes(&w, 1, key, key_n);
	pbw_bytes(&w, 2, body, body_n);
	pbw_raw(&w, "", 1);
	assert_false(w.oom);
	size_t n = w.len - 1;
	expect_rule(w.buf, n + 1);
	/* an exact-size copy: ASan sees a read past the end */
	uint8_t *p = malloc(n);
	assert_non_null(p);
	memcpy(p, w.buf, n);
	expect_rule(p, n);
	expect_rule(p, n - 1);
	for (size_t i = 0; mutate && i < n; i++) {
		uint8_t keep = p[i];
		for (size_t a = 0; a < sizeof(alphabet); a++) {
			p[i] = alphabet[a];
			expect_rule(p, n);
		}
		p[i] = keep;
	}
	free(p);
	pbw_finish(&w);
}

static void test_plain_attribute(void **state)
{
	(void)state;
	uint8_t longkey[130];
	memset(longkey, 'a', sizeof(longkey));
	const struct {
		const char *p;
		size_t n;
	} keys[] = {{"k", 1}, {"http.route", 10}, {"", 0}, {"\0k", 2}, {"k\0", 2},
		    {(const char *)longkey, 127}, {(const char *)longkey, 128}};
	/* values: every body of up to three bytes of the alphabet, then
	 * members of each kind and size */
	struct pbw v = {0};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const uint8_t *key = (const uint8_t *)keys[k].p;
		size_t na = sizeof(alphabet);
		for (size_t len = 0; len <= 3; len++) {
			size_t total = len == 0 ? 1 : len == 1 ? na : len == 2 ? na * na : na * na * na;
			for (size_t x = 0; x < total; x++) {
				uint8_t body[3];
				for (size_t i = 0, y = x; i < len; i++, y /= na)
					body[i] = alphabet[y % na];
				expect_kv(key, keys[k].n, body, len, false);
			}
		}
		static const size_t str_lens[] = {0, 1, 5, 125, 126, 127, 128};
		for (size_t i = 0; i < sizeof(str_lens) / sizeof(str_lens[0]); i++) {
			pbw_reset(&v);
			pbw_bytes(&v, 1, longkey, str_lens[i]);
			expect_kv(key, keys[k].n, v.buf, v.len, k < 2);
		}
		static const uint64_t ints[] = {0, 1, 2, 127, 128, 1ULL << 62, UINT64_MAX};
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			for (unsigned f = 2; f <= 3; f++) {
				pbw_reset(&v);
				pbw_varint(&v, f, ints[i]);
				expect_kv(key, keys[k].n, v.buf, v.len, k < 2);
			}
			pbw_reset(&v);
			pbw_fixed64(&v, 4, ints[i]);
			expect_kv(key, keys[k].n, v.buf, v.len, k < 2);
		}
		/* a varint of 11 bytes; of 10 with bits past 64 */
		static const uint8_t long_varints[2][12] = {
			{0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
			{0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}};
		expect_kv(key, keys[k].n, long_varints[0], 12, false);
		expect_kv(key, keys[k].n, long_varints[1], 11, false);
	}
	pbw_finish(&v);
}

/* fd_otlp_cstr_len (otlp/attr_text.h): a NUL at every place, or none, in
 * strings across its eight-byte steps and past its use of memchr. */
static void test_cstr_len(void **state)
{
	(void)state;
	assert_int_equal(fd_otlp_cstr_len(NULL, 0), 0);
	for (size_t n = 1; n <= 80; n++) {
		/* an exact-size buffer: ASan sees a read past the end */
		uint8_t *p = malloc(n);
		assert_non_null(p);
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(i % 3 ? 0x80 + i : 0x01); /* at the zero test's edges */
		assert_int_equal(fd_otlp_cstr_len(p, n), n);
		for (size_t at = 0; at < n; at++) {
			uint8_t keep = p[at];
			p[at] = 0;
			assert_int_equal(fd_otlp_cstr_len(p, n), at);
			p[at] = keep;
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_nested_bounds),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_plain_attribute),
		cmocka_unit_test(test_cstr_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
