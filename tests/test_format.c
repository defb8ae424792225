/* recording/format.h: varints, zigzag, little-endian helpers, and the block
 * header codec with every rejection path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recording/crc32c.h"
#include "otlp/pbread.h"
#include "recording/format.h"

static void test_varint_values(void **state)
{
	(void)state;
	static const struct {
		uint64_t v;
		size_t len;
	} cases[] = {
		{0, 1}, {1, 1}, {127, 1}, {128, 2}, {300, 2}, {16383, 2}, {16384, 3},
		{(1ULL << 21) - 1, 3}, {1ULL << 21, 4}, {(1ULL << 28) - 1, 4}, {1ULL << 28, 5},
		{UINT32_MAX, 5}, {(1ULL << 35) - 1, 5}, {1ULL << 35, 6}, {(1ULL << 56) - 1, 8},
		{1ULL << 56, 9}, {(1ULL << 63) - 1, 9}, {1ULL << 63, 10}, {UINT64_MAX, 10},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[16];
		memset(b, 0xAA, sizeof(b));
		size_t n = fdr_put_varint(b, cases[i].v);
		assert_int_equal(n, cases[i].len);
		assert_int_equal(b[n], 0xAA); /* wrote nothing past its length */
		for (size_t k = 0; k + 1 < n; k++)
			assert_true(b[k] & 0x80);
		assert_false(b[n - 1] & 0x80);
		uint64_t out = 12345;
		assert_int_equal(fd_pb_varint(b, n, &out), n);
		assert_true(out == cases[i].v);
		/* more bytes available than needed: still stops at the end */
		assert_int_equal(fd_pb_varint(b, sizeof(b), &out), n);
		assert_true(out == cases[i].v);
		/* any shorter input is cut short */
		for (size_t k = 0; k < n; k++)
			assert_int_equal(fd_pb_varint(b, k, &out), 0);
	}
	/* protobuf's own examples */
	uint8_t b[10];
	assert_int_equal(fdr_put_varint(b, 300), 2);
	assert_int_equal(b[0], 0xAC);
	assert_int_equal(b[1], 0x02);
}

static void test_varint_rejects(void **state)
{
	(void)state;
	uint64_t out = 7;
	/* UINT64_MAX: nine 0xff and a final 0x01 is the largest valid */
	uint8_t max[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	assert_int_equal(fd_pb_varint(max, 10, &out), 10);
	assert_true(out == UINT64_MAX);
	/* a tenth byte above 1 would overflow 64 bits */
	for (unsigned last = 2; last < 0x80; last++) {
		max[9] = (uint8_t)last;
		out = 7;
		assert_int_equal(fd_pb_varint(max, 10, &out), 0);
		assert_int_equal(out, 7); /* untouched on failure */
	}
	/* eleven bytes: too long even with room */
	uint8_t eleven[11];
	memset(eleven, 0x80, 10);
	eleven[10] = 0;
	assert_int_equal(fd_pb_varint(eleven, 11, &out), 0);
	/* ten continuation bytes: unterminated */
	assert_int_equal(fd_pb_varint(eleven, 10, &out), 0);
	/* nothing available */
	assert_int_equal(fd_pb_varint(eleven, 0, &out), 0);
	/* non-minimal encodings decode (protobuf does the same) */
	uint8_t zero2[2] = {0x80, 0x00};
	assert_int_equal(fd_pb_varint(zero2, 2, &out), 2);
	assert_int_equal(out, 0);
}

static void test_zigzag(void **state)
{
	(void)state;
	assert_true(fdr_zigzag(0) == 0);
	assert_true(fdr_zigzag(-1) == 1);
	assert_true(fdr_zigzag(1) == 2);
	assert_true(fdr_zigzag(-2) == 3);
	assert_true(fdr_zigzag(2147483647) == 4294967294ULL);
	assert_true(fdr_zigzag(-2147483648LL) == 4294967295ULL);
	assert_true(fdr_zigzag(INT64_MAX) == UINT64_MAX - 1);
	assert_true(fdr_zigzag(INT64_MIN) == UINT64_MAX);
	static const int64_t vals[] = {0, 1, -1, 63, -64, 64, -65, 1000000, -1000000,
				       INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		assert_true(fdr_unzigzag(fdr_zigzag(vals[i])) == vals[i]);
		uint8_t b[10];
		uint64_t u = 0;
		size_t n = fdr_put_varint(b, fdr_zigzag(vals[i]));
		assert_int_equal(fd_pb_varint(b, n, &u), n);
		assert_true(fdr_unzigzag(u) == vals[i]);
	}
	/* small magnitudes stay one byte */
	uint8_t b[10];
	assert_int_equal(fdr_put_varint(b, fdr_zigzag(-64)), 1);
	assert_int_equal(fdr_put_varint(b, fdr_zigzag(64)), 2);
}

static void test_fixed_width(void **state)
{
	(void)state;
	uint8_t b[8];
	fdr_put_u16(b, 0xBEEF);
	assert_int_equal(b[0], 0xEF);
	assert_int_equal(b[1], 0xBE);
	assert_int_equal(fdr_get_u16(b), 0xBEEF);
	fdr_put_u32(b, 0xDEADBEEFu);
	assert_memory_equal(b, "\xEF\xBE\xAD\xDE", 4);
	assert_int_equal(fdr_get_u32(b), 0xDEADBEEFu);
	fdr_put_u64(b, 0x0123456789ABCDEFULL);
	assert_memory_equal(b, "\xEF\xCD\xAB\x89\x67\x45\x23\x01", 8);
	assert_true(fdr_get_u64(b) == 0x0123456789ABCDEFULL);
	fdr_put_u64(b, UINT64_MAX);
	assert_true(fdr_get_u64(b) == UINT64_MAX);
}

static struct fdr_block_header sample(void)
{
	return (struct fdr_block_header){
		.type = FDR_BLOCK_RECORDS,
		.compression = FDR_COMPRESSION_ZSTD,
		.stored_len = 1234,
		.raw_len = 5678,
		.count = 42,
		.data_crc = 0xCAFEF00Du,
		.min_time = -5,
		.max_time = INT64_MAX,
	};
}

static void test_block_header_roundtrip(void **state)
{
	(void)state;
	struct fdr_block_header h = sample(), d;
	uint8_t b[FDR_BLOCK_HEADER_LEN];
	fdr_block_header_encode(b, &h);
	/* the layout of docs/recording-format.md */
	assert_memory_equal(b, "FDBK", 4);
	assert_int_equal(b[4], 2);
	assert_int_equal(b[5], 1);
	assert_int_equal(b[6], 0);
	assert_int_equal(b[7], 0);
	assert_int_equal(fdr_get_u32(b + 8), 1234);
	assert_int_equal(fdr_get_u32(b + 12), 5678);
	assert_int_equal(fdr_get_u32(b + 16), 42);
	assert_int_equal(fdr_get_u32(b + 20), 0xCAFEF00Du);
	assert_true((int64_t)fdr_get_u64(b + 24) == -5);
	assert_true((int64_t)fdr_get_u64(b + 32) == INT64_MAX);
	assert_int_equal(fdr_get_u32(b + 40), fd_crc32c(0, b, 40));

	memset(&d, 0, sizeof(d));
	assert_int_equal(fdr_block_header_decode(b, &d), 0);
	assert_int_equal(d.type, h.type);
	assert_int_equal(d.compression, h.compression);
	assert_int_equal(d.stored_len, h.stored_len);
	assert_int_equal(d.raw_len, h.raw_len);
	assert_int_equal(d.count, h.count);
	assert_int_equal(d.data_crc, h.data_crc);
	assert_true(d.min_time == h.min_time);
	assert_true(d.max_time == h.max_time);

	/* every type, both compressions, the limits themselves */
	for (uint8_t t = FDR_BLOCK_DICTIONARY; t <= FDR_BLOCK_INDEX; t++) {
		h = sample();
		h.type = t;
		h.compression = FDR_COMPRESSION_NONE;
		h.stored_len = h.raw_len = FDR_MAX_RAW_LEN;
		h.min_time = h.max_time = INT64_MIN;
		fdr_block_header_encode(b, &h);
		assert_int_equal(fdr_block_header_decode(b, &d), 0);
		assert_int_equal(d.type, t);
	}
	h = sample();
	h.raw_len = FDR_MAX_RAW_LEN;
	h.stored_len = FDR_MAX_RAW_LEN + (FDR_MAX_RAW_LEN >> 7) + 4096;
	fdr_block_header_encode(b, &h);
	assert_int_equal(fdr_block_header_decode(b, &d), 0);
	h.count = 0;
	h.raw_len = h.stored_len = 0;
	fdr_block_header_encode(b, &h);
	assert_int_equal(fdr_block_header_decode(b, &d), 0);
}

/* Encodes h, sets one byte (byte < 0: none), re-seals the header CRC when
 * asked and returns what decode says. */
static int decode_edited(const struct fdr_block_header *h, int byte, uint8_t value, int reseal)
{
	uint8_t b[FDR_BLOCK_HEADER_LEN];
	struct fdr_block_header d;
	fdr_block_header_encode(b, h);
	if (byte >= 0)
		b[byte] = value;
	if (reseal)
		fdr_put_u32(b + 40, fd_crc32c(0, b, 40));
	return fdr_block_header_decode(b, &d);
}

static void test_block_header_rejects(void **state)
{
	(void)state;
	struct fdr_block_header h = sample();
	/* -1: magic, even with a valid CRC */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(decode_edited(&h, i, 'x', 1), -1);
		assert_int_equal(decode_edited(&h, i, 'x', 0), -1);
	}
	/* -2: any other byte changed without re-sealing, the CRC included */
	uint8_t b[FDR_BLOCK_HEADER_LEN];
	fdr_block_header_encode(b, &h);
	for (int i = 4; i < FDR_BLOCK_HEADER_LEN; i++)
		for (unsigned x = 1; x < 256; x <<= 1)
			assert_int_equal(decode_edited(&h, i, (uint8_t)(b[i] ^ x), 0), -2);
	/* -3: reserved bytes */
	assert_int_equal(decode_edited(&h, 6, 1, 1), -3);
	assert_int_equal(decode_edited(&h, 7, 0x80, 1), -3);
	/* -3: unknown type, unknown compression */
	assert_int_equal(decode_edited(&h, 4, 0, 1), -3);
	assert_int_equal(decode_edited(&h, 4, 4, 1), -3);
	assert_int_equal(decode_edited(&h, 4, 0xff, 1), -3);
	assert_int_equal(decode_edited(&h, 5, 2, 1), -3);
	assert_int_equal(decode_edited(&h, 5, 0xff, 1), -3);
	/* -3: sizes over the limits */
	struct fdr_block_header big = sample();
	big.raw_len = FDR_MAX_RAW_LEN + 1;
	assert_int_equal(decode_edited(&big, -1, 0, 0), -3);
	big = sample();
	big.stored_len = FDR_MAX_RAW_LEN + (FDR_MAX_RAW_LEN >> 7) + 4097;
	assert_int_equal(decode_edited(&big, -1, 0, 0), -3);
	big.stored_len = UINT32_MAX;
	assert_int_equal(decode_edited(&big, -1, 0, 0), -3);
	/* -3: uncompressed with stored != raw */
	struct fdr_block_header none = sample();
	none.compression = FDR_COMPRESSION_NONE;
	assert_int_equal(decode_edited(&none, -1, 0, 0), -3);
	none.stored_len = none.raw_len;
	assert_int_equal(decode_edited(&none, -1, 0, 0), 0);
	/* -3: inverted time range */
	struct fdr_block_header inv = sample();
	inv.min_time = 10;
	inv.max_time = 9;
	assert_int_equal(decode_edited(&inv, -1, 0, 0), -3);
	inv.max_time = 10;
	assert_int_equal(decode_edited(&inv, -1, 0, 0), 0);
	/* decode never reads past 44 bytes: checked by ASan with an exact buffer */
	uint8_t *exact = test_malloc(FDR_BLOCK_HEADER_LEN);
	fdr_block_header_encode(exact, &h);
	struct fdr_block_header d;
	assert_int_equal(fdr_block_header_decode(exact, &d), 0);
	test_free(exact);
}

static void test_constants(void **state)
{
	(void)state;
	/* the numbers docs/recording-format.md states */
	assert_int_equal(FDR_MAGIC_LEN, 8);
	assert_memory_equal(FDR_MAGIC, "\x89\x46\x44\x52\x0D\x0A\x1A\x0A", 8);
	assert_int_equal(FDR_FILE_HEADER_LEN, 20);
	assert_int_equal(FDR_BLOCK_HEADER_LEN, 44);
	assert_int_equal(FDR_TAIL_LEN, 16);
	assert_int_equal(FDR_MAX_RAW_LEN, 64u << 20);
	assert_int_equal(FDR_MAX_HEADER_LEN, 16u << 20);
	assert_memory_equal(FDR_TAIL_MAGIC, "FDRE", 4);
	assert_int_equal(FDR_BLOCK_DICTIONARY, 1);
	assert_int_equal(FDR_BLOCK_RECORDS, 2);
	assert_int_equal(FDR_BLOCK_INDEX, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_values),
		cmocka_unit_test(test_varint_rejects),
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_fixed_width),
		cmocka_unit_test(test_block_header_roundtrip),
		cmocka_unit_test(test_block_header_rejects),
		cmocka_unit_test(test_constants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
