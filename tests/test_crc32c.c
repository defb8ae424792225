/* CRC-32C: the standard check value, RFC 3720's vectors, and agreement with
 * a bitwise reference at every length, alignment and split point, of what
 * fd_crc32c runs on this CPU (the instruction on x86-64) and of the sliced
 * tables it falls back to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recording/crc32c.h"

static uint32_t (*crc_under_test)(uint32_t, const void *, size_t) = fd_crc32c;

static uint32_t reference(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(crc_under_test(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc_under_test(0, "", 0), 0);
	assert_int_equal(crc_under_test(0, NULL, 0), 0);
	assert_int_equal(crc_under_test(0, "a", 1), 0xC1D04330u);
}

/* RFC 3720 (iSCSI), appendix B.4. */
static void test_rfc3720(void **state)
{
	(void)state;
	uint8_t b[48];
	memset(b, 0, 32);
	assert_int_equal(crc_under_test(0, b, 32), 0x8A9136AAu);
	memset(b, 0xff, 32);
	assert_int_equal(crc_under_test(0, b, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(crc_under_test(0, b, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(crc_under_test(0, b, 32), 0x113FDB5Cu);
	static const uint8_t iscsi[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	assert_int_equal(crc_under_test(0, iscsi, 48), 0xD9963A56u);
}

static void test_matches_reference(void **state)
{
	(void)state;
	uint8_t buf[600];
	uint64_t x = 0x1234567887654321ULL;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(x >> 56);
	}
	/* every length 0..300 at every alignment 0..7 */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 300; n++)
			assert_int_equal(crc_under_test(0, buf + off, n), reference(0, buf + off, n));
	/* continuing a CRC equals computing it at once, at every split */
	uint32_t whole = crc_under_test(0, buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split += 7) {
		uint32_t c = crc_under_test(0, buf, split);
		assert_int_equal(crc_under_test(c, buf + split, sizeof(buf) - split), whole);
	}
	/* a single changed bit always changes it */
	uint32_t orig = crc_under_test(0, buf, 64);
	for (size_t i = 0; i < 64; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			assert_int_not_equal(crc_under_test(0, buf, 64), orig);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_rfc3720),
		cmocka_unit_test(test_matches_reference),
	};
	int failed = cmocka_run_group_tests_name("fd_crc32c", tests, NULL, NULL);
	crc_under_test = fd_crc32c_portable;
	failed += cmocka_run_group_tests_name("fd_crc32c_portable", tests, NULL, NULL);
	return failed;
}
