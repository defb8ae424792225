/*
 * Finding personal data and secrets in text, and replacing them.
 *
 * The built-in kinds are scanned by hand rather than with regular
 * expressions: every string of a recording goes through them (millions of
 * attribute values), and each scanner first looks for the one character its
 * kind cannot do without ('@' for an email, "eyJ" for a JWT...). A match is
 * also validated the way the data is (a card number passes the Luhn check,
 * an IPv4 address has four octets <= 255), so ordinary numbers and version
 * strings are left alone.
 *
 * Replacement is by keyed pseudonym (HMAC-SHA256 with the caller's key): the
 * same value always maps to the same pseudonym, which keeps the shape of its
 * kind where tools parse it (an email stays an email, at the reserved TLD
 * .invalid; an IPv4 address becomes one in the reserved 240.0.0.0/4, IPv6 one
 * in the discard-only 100::/64; a UUID stays a UUID, of version 8), so joins,
 * group-bys and parsers keep working on scrubbed data. Those forms are never
 * real, so fd_scrub_find skips them: a scan after a rewrite finds only what
 * the rewrite missed.
 */
#ifndef FD_REWRITE_SCRUB_H
#define FD_REWRITE_SCRUB_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fd_scrub_kind {
	FD_SCRUB_EMAIL,
	FD_SCRUB_IPV4,
	FD_SCRUB_IPV6,
	FD_SCRUB_CARD,
	FD_SCRUB_JWT,
	FD_SCRUB_BEARER,
	FD_SCRUB_UUID,
	FD_SCRUB_BUILTIN_COUNT,
	FD_SCRUB_REGEX = FD_SCRUB_BUILTIN_COUNT, /* a user's POSIX extended regex */
};

/* "email", "ipv4", ... ; NULL for FD_SCRUB_REGEX. */
const char *fd_scrub_kind_name(enum fd_scrub_kind k);
/* Returns 0 and sets *out for a built-in kind's name, or -1. */
int fd_scrub_kind_parse(const char *name, enum fd_scrub_kind *out);

/* The first match of a built-in kind in s[0..n) at or after from: returns
 * true and sets *start and *len. */
bool fd_scrub_find(enum fd_scrub_kind k, const char *s, size_t n, size_t from, size_t *start,
		   size_t *len);

/* The keyed pseudonym of value (of kind k, or any value for
 * FD_SCRUB_REGEX and attribute hashing), NUL-terminated into out (64 bytes
 * are enough for every kind). */
void fd_scrub_pseudonym(enum fd_scrub_kind k, const uint8_t *key, size_t key_len,
			const char *value, size_t n, char out[64]);

/* Masks the middle of s[0..n) for showing an example: the first and last two
 * characters kept, at most 24 shown ("jo***@***om"). out needs 32 bytes. */
void fd_scrub_mask(const char *s, size_t n, char out[32]);

#endif
