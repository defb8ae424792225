/*
 * The built-in scanners on a table of what they must find and what they
 * must leave alone (timestamps, versions, times, MAC addresses, ordinary
 * ids), and the pseudonyms: keyed, stable, shaped like their kind, and
 * never found again by a scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rewrite/scrub.h"

struct row {
	enum fd_scrub_kind kind;
	const char *text;
	const char *want; /* the match, or NULL for none */
};

static const struct row rows[] = {
	{FD_SCRUB_EMAIL, "mail jane.doe+x@example.co.uk now", "jane.doe+x@example.co.uk"},
	{FD_SCRUB_EMAIL, "?email=bob@corp.example.org&x=1", "bob@corp.example.org"},
	{FD_SCRUB_EMAIL, "user@localhost", NULL},
	{FD_SCRUB_EMAIL, "git@github.com:org/repo", "git@github.com"},
	{FD_SCRUB_EMAIL, "an @ sign alone", NULL},
	{FD_SCRUB_EMAIL, "pkg@1.2.3", NULL},
	{FD_SCRUB_IPV4, "from 203.0.113.7:443", "203.0.113.7"},
	{FD_SCRUB_IPV4, "version 1.2.3.4.5", NULL},
	{FD_SCRUB_IPV4, "300.1.1.1", NULL},
	{FD_SCRUB_IPV4, "v10.0.0.1", NULL},
	{FD_SCRUB_IPV4, "ip=10.0.0.1,", "10.0.0.1"},
	{FD_SCRUB_IPV6, "peer 2001:db8::1 closed", "2001:db8::1"},
	{FD_SCRUB_IPV6, "at 12:30:45 UTC", NULL},
	{FD_SCRUB_IPV6, "mac aa:bb:cc:dd:ee:ff", NULL},
	{FD_SCRUB_IPV6, "[fe80::1ff:fe23:4567:890a]:8080", "fe80::1ff:fe23:4567:890a"},
	{FD_SCRUB_CARD, "card 4111 1111 1111 1111.", "4111 1111 1111 1111"},
	{FD_SCRUB_CARD, "pan=5500-0000-0000-0004", "5500-0000-0000-0004"},
	{FD_SCRUB_CARD, "amex 378282246310005", "378282246310005"},
	{FD_SCRUB_CARD, "4111111111111112", NULL},              /* fails Luhn */
	{FD_SCRUB_CARD, "ts 1768482000000000000 ns", NULL},     /* no issuer */
	{FD_SCRUB_CARD, "order 12345678901234", NULL},
	{FD_SCRUB_JWT, "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_d", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_d"},
	{FD_SCRUB_JWT, "eyJhbGciOiJIUzI1NiJ9 alone", NULL},
	{FD_SCRUB_BEARER, "Authorization: Bearer abc.DEF_123-xyz", "abc.DEF_123-xyz"},
	{FD_SCRUB_BEARER, "bearer=s3cr3tt0ken", "s3cr3tt0ken"},
	{FD_SCRUB_BEARER, "Bearer short", NULL},
	{FD_SCRUB_UUID, "id 123e4567-e89b-12d3-a456-426614174000.", "123e4567-e89b-12d3-a456-426614174000"},
	{FD_SCRUB_UUID, "123e4567-e89b-12d3-a456-4266141740001", NULL},
	{FD_SCRUB_UUID, "not-a-uuid-at-all", NULL},
};

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t a, l;
		bool found = fd_scrub_find(r->kind, r->text, strlen(r->text), 0, &a, &l);
		if (!r->want) {
			if (found)
				fail_msg("%s in '%s': found '%.*s', want nothing", fd_scrub_kind_name(r->kind),
					 r->text, (int)l, r->text + a);
			continue;
		}
		if (!found || l != strlen(r->want) || memcmp(r->text + a, r->want, l) != 0)
			fail_msg("%s in '%s': want '%s', got %s'%.*s'", fd_scrub_kind_name(r->kind), r->text,
				 r->want, found ? "" : "nothing ", found ? (int)l : 0, found ? r->text + a : "");
	}
}

static void pseudonyms(void **state)
{
	(void)state;
	const uint8_t key[] = "k1", other[] = "k2";
	const char *values[FD_SCRUB_BUILTIN_COUNT] = {
		"jane@example.com", "203.0.113.7", "2001:db8::1", "4111 1111 1111 1111",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "abcdefgh12345678",
		"123e4567-e89b-12d3-a456-426614174000",
	};
	for (int k = 0; k < FD_SCRUB_BUILTIN_COUNT; k++) {
		char a[64], b[64], c[64];
		const char *v = values[k];
		fd_scrub_pseudonym((enum fd_scrub_kind)k, key, 2, v, strlen(v), a);
		fd_scrub_pseudonym((enum fd_scrub_kind)k, key, 2, v, strlen(v), b);
		fd_scrub_pseudonym((enum fd_scrub_kind)k, other, 2, v, strlen(v), c);
		assert_string_equal(a, b);     /* stable */
		assert_string_not_equal(a, c); /* keyed */
		assert_null(strstr(a, v));
		/* no scanner finds a pseudonym */
		for (int s = 0; s < FD_SCRUB_BUILTIN_COUNT; s++) {
			size_t x, l;
			if (fd_scrub_find((enum fd_scrub_kind)s, a, strlen(a), 0, &x, &l))
				fail_msg("pseudonym '%s' of %s is found as %s", a,
					 fd_scrub_kind_name((enum fd_scrub_kind)k),
					 fd_scrub_kind_name((enum fd_scrub_kind)s));
		}
	}
	/* shapes: an email is still an email, a UUID still a UUID */
	char e[64], u[64];
	fd_scrub_pseudonym(FD_SCRUB_EMAIL, key, 2, "a@b.io", 6, e);
	assert_non_null(strstr(e, "@example.invalid"));
	fd_scrub_pseudonym(FD_SCRUB_UUID, key, 2, values[FD_SCRUB_UUID], 36, u);
	assert_int_equal(strlen(u), 36);
	assert_true(u[8] == '-' && u[13] == '-' && u[14] == '8' && u[18] == '-' && u[23] == '-');
	char m[32];
	fd_scrub_mask("jane.doe@example.com", 20, m);
	assert_null(strstr(m, "doe"));
	assert_true(m[0] == 'j' && m[strlen(m) - 1] == 'm');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(pseudonyms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
