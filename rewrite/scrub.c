#include "rewrite/scrub.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[FD_SCRUB_BUILTIN_COUNT] = {
	"email", "ipv4", "ipv6", "card", "jwt", "bearer", "uuid",
};

const char *fd_scrub_kind_name(enum fd_scrub_kind k)
{
	return k < FD_SCRUB_BUILTIN_COUNT ? kind_names[k] : NULL;
}

int fd_scrub_kind_parse(const char *name, enum fd_scrub_kind *out)
{
	for (int k = 0; k < FD_SCRUB_BUILTIN_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum fd_scrub_kind)k;
			return 0;
		}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64url(char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

static bool email_local(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool find_email(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (const char *at = memchr(s + from, '@', n - from); at;
	     at = at + 1 < s + n ? memchr(at + 1, '@', (size_t)(s + n - at - 1)) : NULL) {
		size_t a = (size_t)(at - s), b = a;
		while (b > from && email_local(s[b - 1]))
			b--;
		while (b < a && s[b] == '.')
			b++;
		if (b == a)
			continue;
		size_t e = a + 1, last_dot = 0;
		while (e < n && (is_alnum(s[e]) || s[e] == '-' || s[e] == '.')) {
			if (s[e] == '.')
				last_dot = e;
			e++;
		}
		while (e > a + 1 && s[e - 1] == '.')
			e--, last_dot = 0;
		if (!last_dot) /* trailing dots trimmed: look again for the last dot */
			for (size_t i = a + 1; i < e; i++)
				if (s[i] == '.')
					last_dot = i;
		if (!last_dot || last_dot <= a + 1 || e - last_dot - 1 < 2)
			continue;
		bool tld_alpha = true;
		for (size_t i = last_dot + 1; i < e; i++)
			tld_alpha &= is_alpha(s[i]);
		if (!tld_alpha)
			continue;
		*start = b;
		*len = e - b;
		return true;
	}
	return false;
}

/* Parses d{1,3} <= 255 at s[i]; returns the index after it, or 0. */
static size_t octet(const char *s, size_t n, size_t i)
{
	unsigned v = 0, d = 0;
	while (i < n && is_digit(s[i]) && d < 4) {
		v = v * 10 + (unsigned)(s[i] - '0');
		i++, d++;
	}
	return d >= 1 && d <= 3 && v <= 255 ? i : 0;
}

static bool find_ipv4(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (size_t i = from; i < n; i++) {
		if (!is_digit(s[i]) || (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.')))
			continue;
		size_t j = i;
		int parts = 0;
		while (parts < 4) {
			size_t k = octet(s, n, j);
			if (!k)
				break;
			parts++;
			j = k;
			if (parts < 4) {
				if (j < n && s[j] == '.')
					j++;
				else
					break;
			}
		}
		if (parts == 4 && !(j < n && (is_alnum(s[j]) || (s[j] == '.' && j + 1 < n && is_digit(s[j + 1]))))) {
			*start = i;
			*len = j - i;
			return true;
		}
	}
	return false;
}

static bool find_ipv6(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (const char *c = memchr(s + from, ':', n - from); c;
	     c = c + 1 < s + n ? memchr(c + 1, ':', (size_t)(s + n - c - 1)) : NULL) {
		size_t a = (size_t)(c - s), b = a, e = a;
		while (b > from && (is_hex(s[b - 1]) || s[b - 1] == ':' || s[b - 1] == '.'))
			b--;
		while (e < n && (is_hex(s[e]) || s[e] == ':' || s[e] == '.'))
			e++;
		while (e > a && s[e - 1] == '.')
			e--;
		if ((b > 0 && is_alnum(s[b - 1])) || (e < n && is_alnum(s[e])) || e - b < 3 || e - b > 45) {
			c = s + e - 1;
			continue;
		}
		char buf[46];
		memcpy(buf, s + b, e - b);
		buf[e - b] = 0;
		int colons = 0, hexes = 0;
		for (size_t i = b; i < e; i++)
			colons += s[i] == ':', hexes += is_hex(s[i]);
		struct in6_addr addr;
		if (colons >= 2 && hexes > 0 && inet_pton(AF_INET6, buf, &addr) == 1) {
			*start = b;
			*len = e - b;
			return true;
		}
		c = s + e - 1;
	}
	return false;
}

static bool luhn(const char *digits, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(digits[n - 1 - i] - '0');
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* The issuer prefixes of the networks people paste into logs: a 19-digit
 * nanosecond timestamp passes Luhn one time in ten, but starts with none. */
static bool card_issuer(const char *d, size_t n)
{
	int two = (d[0] - '0') * 10 + (d[1] - '0');
	int four = two * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19;
	if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720))
		return n == 16;
	if (two == 34 || two == 37)
		return n == 15;
	if (four == 6011 || two == 65 || (four >= 6440 && four <= 6499) || two == 35)
		return n >= 16 && n <= 19;
	return false;
}

static bool find_card(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (size_t i = from; i < n; i++) {
		if (!is_digit(s[i]) || (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.')))
			continue;
		char digits[20];
		size_t nd = 0, j = i, end = i;
		while (j < n && nd < 20) {
			if (is_digit(s[j])) {
				digits[nd++] = s[j++];
				end = j;
			} else if ((s[j] == ' ' || s[j] == '-') && j + 1 < n && is_digit(s[j + 1]) && nd > 0) {
				j++;
			} else {
				break;
			}
		}
		if (end < n && is_alnum(s[end]))
			continue;
		if (nd >= 13 && nd <= 19 && card_issuer(digits, nd) && luhn(digits, nd)) {
			*start = i;
			*len = end - i;
			return true;
		}
		i = end > i ? end - 1 : i;
	}
	return false;
}

static bool find_jwt(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (size_t i = from; i + 3 <= n; i++) {
		if (memcmp(s + i, "eyJ", 3) != 0 || (i > 0 && is_b64url(s[i - 1])))
			continue;
		size_t j = i;
		int dots = 0;
		while (j < n && (is_b64url(s[j]) || (s[j] == '.' && dots < 2))) {
			if (s[j] == '.') {
				dots++;
				if (dots == 1 && (j + 3 >= n || memcmp(s + j + 1, "eyJ", 3) != 0))
					break;
			}
			j++;
		}
		if (dots == 2 && j - i >= 20) {
			*start = i;
			*len = j - i;
			return true;
		}
	}
	return false;
}

static bool token_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
}

static bool find_bearer(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	for (size_t i = from; i + 7 < n; i++) {
		if (strncasecmp(s + i, "bearer", 6) != 0 || (i > 0 && is_alnum(s[i - 1])))
			continue;
		size_t j = i + 6;
		if (s[j] != ' ' && s[j] != '=' && s[j] != ':')
			continue;
		while (j < n && (s[j] == ' ' || s[j] == '=' || s[j] == ':'))
			j++;
		size_t t = j;
		while (j < n && token_char(s[j]))
			j++;
		if (j - t >= 8) {
			*start = t;
			*len = j - t;
			return true;
		}
	}
	return false;
}

static bool find_uuid(const char *s, size_t n, size_t from, size_t *start, size_t *len)
{
	static const int groups[5] = {8, 4, 4, 4, 12};
	for (size_t i = from; i + 36 <= n; i++) {
		if (!is_hex(s[i]) || (i > 0 && (is_hex(s[i - 1]) || s[i - 1] == '-')))
			continue;
		size_t j = i;
		bool ok = true;
		for (int g = 0; g < 5 && ok; g++) {
			for (int k = 0; k < groups[g] && ok; k++, j++)
				ok = is_hex(s[j]);
			if (ok && g < 4)
				ok = s[j++] == '-';
		}
		if (ok && !(j < n && (is_hex(s[j]) || s[j] == '-'))) {
			*start = i;
			*len = 36;
			return true;
		}
	}
	return false;
}

static bool find_raw(enum fd_scrub_kind k, const char *s, size_t n, size_t from, size_t *start,
		     size_t *len)
{
	switch (k) {
	case FD_SCRUB_EMAIL: return find_email(s, n, from, start, len);
	case FD_SCRUB_IPV4: return find_ipv4(s, n, from, start, len);
	case FD_SCRUB_IPV6: return find_ipv6(s, n, from, start, len);
	case FD_SCRUB_CARD: return find_card(s, n, from, start, len);
	case FD_SCRUB_JWT: return find_jwt(s, n, from, start, len);
	case FD_SCRUB_BEARER: return find_bearer(s, n, from, start, len);
	case FD_SCRUB_UUID: return find_uuid(s, n, from, start, len);
	default: return false;
	}
}

/* Our own pseudonyms use forms that no real value has (a reserved TLD, the
 * reserved 240.0.0.0/4 and discard-only 100::/64 ranges, UUID version 8, a
 * "pseudo-" token), so a scan after a rewrite finds only what was missed. */
static bool is_pseudonym(enum fd_scrub_kind k, const char *s, size_t n)
{
	switch (k) {
	case FD_SCRUB_EMAIL: return n > 8 && memcmp(s + n - 8, ".invalid", 8) == 0;
	case FD_SCRUB_IPV4: return n > 4 && (memcmp(s, "24", 2) == 0 || memcmp(s, "25", 2) == 0) &&
				   s[3] == '.' && ((s[2] >= '0' && s[2] <= '9'));
	case FD_SCRUB_IPV6: return n > 5 && memcmp(s, "100::", 5) == 0;
	case FD_SCRUB_UUID: return s[14] == '8';
	case FD_SCRUB_BEARER: return n > 7 && memcmp(s, "pseudo-", 7) == 0;
	default: return false;
	}
}

bool fd_scrub_find(enum fd_scrub_kind k, const char *s, size_t n, size_t from, size_t *start,
		   size_t *len)
{
	while (from < n && find_raw(k, s, n, from, start, len)) {
		if (!is_pseudonym(k, s + *start, *len))
			return true;
		from = *start + *len;
	}
	return false;
}

static void hex(char *out, const uint8_t *h, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * n] = 0;
}

void fd_scrub_pseudonym(enum fd_scrub_kind k, const uint8_t *key, size_t key_len,
			const char *value, size_t n, char out[64])
{
	/* The kind is part of the message, so one value hashed as two kinds
	 * gives unrelated pseudonyms. */
	uint8_t msg_stack[256];
	const char *kn = k < FD_SCRUB_BUILTIN_COUNT ? kind_names[k] : "value";
	size_t kl = strlen(kn);
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hl = 0;
	uint8_t *msg = kl + 1 + n <= sizeof(msg_stack) ? msg_stack : malloc(kl + 1 + n);
	static const uint8_t no_key[1] = {0};
	if (msg) {
		memcpy(msg, kn, kl);
		msg[kl] = ':';
		memcpy(msg + kl + 1, value, n);
		HMAC(EVP_sha256(), key_len ? key : no_key, (int)key_len, msg, kl + 1 + n, h, &hl);
		if (msg != msg_stack)
			free(msg);
	}
	if (hl < 16)
		memset(h, 0, 16);
	char x[33];
	switch (k) {
	case FD_SCRUB_EMAIL:
		hex(x, h, 5);
		snprintf(out, 64, "u%s@example.invalid", x);
		break;
	case FD_SCRUB_IPV4:
		snprintf(out, 64, "%u.%u.%u.%u", 240u + (h[0] & 15), h[1], h[2], h[3] ? h[3] : 1);
		break;
	case FD_SCRUB_IPV6:
		snprintf(out, 64, "100::%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0], h[1], h[2], h[3], h[4],
			 h[5], h[6], h[7]);
		break;
	case FD_SCRUB_CARD:
		hex(x, h, 6);
		snprintf(out, 64, "card-%s", x);
		break;
	case FD_SCRUB_JWT:
		hex(x, h, 8);
		snprintf(out, 64, "pseudo-jwt-%s", x);
		break;
	case FD_SCRUB_BEARER:
		hex(x, h, 8);
		snprintf(out, 64, "pseudo-%s", x);
		break;
	case FD_SCRUB_UUID:
		h[6] = (uint8_t)((h[6] & 0x0f) | 0x80); /* version 8: "custom", never generated */
		h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
		hex(x, h, 16);
		snprintf(out, 64, "%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16, x + 20);
		break;
	default:
		hex(x, h, 8);
		snprintf(out, 64, "%s", x);
		break;
	}
}

void fd_scrub_mask(const char *s, size_t n, char out[32])
{
	if (n <= 4) {
		memset(out, '*', n);
		out[n] = 0;
		return;
	}
	size_t stars = n - 4 > 20 ? 20 : n - 4;
	size_t o = 0;
	out[o++] = s[0];
	out[o++] = s[1];
	for (size_t i = 0; i < stars; i++)
		out[o++] = '*';
	out[o++] = s[n - 2];
	out[o++] = s[n - 1];
	out[o] = 0;
	/* masked text goes to a terminal: no control characters */
	for (size_t i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}
