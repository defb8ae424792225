#include "common/json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fd_json_init(struct fd_json *j, FILE *f, bool pretty)
{
	/* Not the 16 KiB buffer: writers are made per value in hot loops. */
	j->f = f;
	j->depth = 0;
	memset(j->need_comma, 0, sizeof(j->need_comma));
	j->after_key = false;
	j->pretty = pretty;
	j->error = 0;
	j->blen = 0;
}

void fd_json_flush(struct fd_json *j)
{
	if (j->blen && !j->error && fwrite(j->buf, 1, j->blen, j->f) != j->blen)
		j->error = errno ? errno : EIO;
	j->blen = 0;
}

static void put(struct fd_json *j, const char *s, size_t n)
{
	if (j->error)
		return;
	if (n > sizeof(j->buf) - j->blen) {
		fd_json_flush(j);
		if (n > sizeof(j->buf)) {
			if (fwrite(s, 1, n, j->f) != n)
				j->error = errno ? errno : EIO;
			return;
		}
	}
	memcpy(j->buf + j->blen, s, n);
	j->blen += n;
}

/* After each public call: a complete top-level value goes out. */
static void done(struct fd_json *j)
{
	if (j->depth == 0 && !j->after_key)
		fd_json_flush(j);
}

static void puts_(struct fd_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(struct fd_json *j)
{
	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Every value and key goes through here: a comma between siblings. */
static void before_value(struct fd_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			put(j, ",", 1);
		j->need_comma[j->depth] = true;
		newline(j);
	}
}

static void open_(struct fd_json *j, const char *c)
{
	before_value(j);
	put(j, c, 1);
	if (j->depth < FD_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct fd_json *j, const char *c)
{
	bool had = j->need_comma[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (had)
		newline(j);
	put(j, c, 1);
	if (j->depth == 0 && j->pretty)
		put(j, "\n", 1);
}

void fd_json_object_begin(struct fd_json *j) { open_(j, "{"); }
void fd_json_object_end(struct fd_json *j) { close_(j, "}"); done(j); }
void fd_json_array_begin(struct fd_json *j) { open_(j, "["); }
void fd_json_array_end(struct fd_json *j) { close_(j, "]"); done(j); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	unsigned cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

#define ONES 0x0101010101010101ULL
#define LOW7 0x7f7f7f7f7f7f7f7fULL
#define HIGH 0x8080808080808080ULL

/* The high bit of each of the 8 bytes of x that is not printable ASCII or
 * is '"' or '\\', exactly: each sum stays within its byte, so no carry
 * marks a neighbour. */
static uint64_t needs_escape(uint64_t x)
{
	uint64_t low = x & LOW7;
	uint64_t ctrl = ~(low + 0x60 * ONES); /* high bit: low 7 bits < 0x20 */
	uint64_t del = low + ONES;            /* high bit: low 7 bits == 0x7f */
	uint64_t q = x ^ (0x22 * ONES), b = x ^ (0x5c * ONES);
	uint64_t quote = ~(((q & LOW7) + LOW7) | q); /* high bit: the byte is '"' */
	uint64_t bslash = ~(((b & LOW7) + LOW7) | b);
	return (x | ctrl | del | quote | bslash) & HIGH;
}

size_t fd_json_quote(char *out, const char *str, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	*o++ = '"';
	size_t i = 0;
	while (i < n) {
		/* Strings are mostly plain: eight bytes at a time while none needs
		 * escaping. out has room for 8 more: each byte still to come has
		 * at least one of its own. */
		while (n - i >= 8) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			if (needs_escape(x))
				break;
			memcpy(o, &x, 8);
			o += 8;
			i += 8;
		}
		/* printable ASCII other than '"' and '\\' goes out as it is */
		size_t start = i;
		while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			i++;
		memcpy(o, s + start, i - start);
		o += i - start;
		if (i == n)
			break;
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t adv = utf8_len(s + i, n - i);
			if (adv) {
				memcpy(o, s + i, adv);
				o += adv;
				i += adv;
				continue;
			}
			memcpy(o, "\\ufffd", 6); /* invalid byte: replacement character */
			o += 6;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else { /* other control characters and DEL */
			memcpy(o, "\\u00", 4);
			o[4] = hexd[c >> 4];
			o[5] = hexd[c & 15];
			o += 6;
		}
		i++;
	}
	*o++ = '"';
	return (size_t)(o - out);
}

void fd_json_string_n(struct fd_json *j, const char *str, size_t n)
{
	before_value(j);
	if (j->error)
		return;
	/* Escaped straight into the buffer when it fits (one byte can become
	 * six); a longer string goes through memory of its own. */
	size_t need = FD_JSON_QUOTED_MAX(n);
	if (need > sizeof(j->buf) - j->blen)
		fd_json_flush(j);
	if (need <= sizeof(j->buf) - j->blen) {
		j->blen += fd_json_quote(j->buf + j->blen, str, n);
	} else {
		char *tmp = n < SIZE_MAX / 8 ? malloc(need) : NULL;
		if (!tmp) {
			j->error = ENOMEM;
			return;
		}
		put(j, tmp, fd_json_quote(tmp, str, n));
		free(tmp);
	}
	done(j);
}

void fd_json_string(struct fd_json *j, const char *s)
{
	if (!s) {
		fd_json_null(j);
		return;
	}
	fd_json_string_n(j, s, strlen(s));
}

void fd_json_key(struct fd_json *j, const char *key)
{
	fd_json_string(j, key);
	put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	j->after_key = true;
}

void fd_json_key_plain(struct fd_json *j, const char *key, size_t n)
{
	before_value(j);
	put(j, "\"", 1);
	put(j, key, n);
	put(j, j->pretty ? "\": " : "\":", j->pretty ? 3 : 2);
	j->after_key = true;
}

void fd_json_raw(struct fd_json *j, const char *s, size_t n)
{
	before_value(j);
	put(j, s, n);
	done(j);
}

size_t fd_format_int(char *buf, int64_t v)
{
	/* the magnitude in unsigned arithmetic: -INT64_MIN does not fit */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char t[20];
	size_t n = 0;
	do {
		t[sizeof(t) - ++n] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	size_t k = 0;
	if (v < 0)
		buf[k++] = '-';
	memcpy(buf + k, t + sizeof(t) - n, n);
	return k + n;
}

void fd_json_int(struct fd_json *j, int64_t v)
{
	char b[32];
	before_value(j);
	snprintf(b, sizeof(b), "%lld", (long long)v);
	puts_(j, b);
	done(j);
}

void fd_json_uint(struct fd_json *j, uint64_t v)
{
	char b[32];
	before_value(j);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	puts_(j, b);
	done(j);
}

/* The definition: printf and strtod. */
static char *format_double_printf(char buf[32], double v)
{
	if (isnan(v)) {
		snprintf(buf, 32, "NaN");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, 32, v > 0 ? "+Inf" : "-Inf");
		return buf;
	}
	/* The shortest %.*g that round-trips: what Prometheus and JSON readers
	 * expect, and one rendering per value (le="1", never "1.0"). */
	double a = fabs(v);
	bool plain = a == 0 || (a >= 1e-4 && a < 1e16);
	/* Fast path: any decimal of at most DBL_DIG (15) digits survives a
	 * trip through double and back at 15 digits, so when %.15g round-trips
	 * it is the shortest form already (%g drops trailing zeros). */
	snprintf(buf, 32, "%.15g", v);
	if (strtod(buf, NULL) == v && (!plain || !strchr(buf, 'e')))
		return buf;
	/* Round-tripping is monotonic in the precision: bisect for the
	 * shortest (4-5 tries instead of up to 17). */
	int lo = 1, hi = 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, 32, "%.*g", mid, v);
		if (strtod(buf, NULL) == v)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* "100", not "1e+02": exponents only where a person would use one */
	for (int prec = lo; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (!plain || !strchr(buf, 'e'))
			break;
	}
	return buf;
}

/*
 * The same text as format_double_printf without printf or strtod, for the
 * values JSON, ECS and text lines are made of (1e-4 <= |v| < 1e16, and 0):
 * those cost a %g and a strtod or more each, a tenth of an encoder's time.
 * Each step of format_double_printf is done exactly in integers: the
 * correctly rounded p-digit significand of v (glibc's printf rounds the
 * exact binary value, ties to even), and whether that decimal reads back as
 * v (strtod rounds to nearest, ties to even: it does when it lies inside
 * v's rounding interval, on its edge when v's significand is even). The
 * same precisions are tried in the same order, so the text is the same.
 * 128-bit integers hold every product: significand < 2^53, 10^s with
 * -16 <= s <= 21, and the binary exponent within [-66, 1] in this range.
 */
__extension__ typedef unsigned __int128 u128;

static u128 pow10_128(int k)
{
	static const uint64_t p[20] = {1ULL,
				       10ULL,
				       100ULL,
				       1000ULL,
				       10000ULL,
				       100000ULL,
				       1000000ULL,
				       10000000ULL,
				       100000000ULL,
				       1000000000ULL,
				       10000000000ULL,
				       100000000000ULL,
				       1000000000000ULL,
				       10000000000000ULL,
				       100000000000000ULL,
				       1000000000000000ULL,
				       10000000000000000ULL,
				       100000000000000000ULL,
				       1000000000000000000ULL,
				       10000000000000000000ULL};
	return k < 20 ? (u128)p[k] : (u128)p[19] * p[k - 19];
}

/* v = M * 2^E with M < 2^53, and the decimal exponent's first guess */
struct dparts {
	uint64_t M;
	int E, e10;
	bool pow2; /* M = 2^52 above the smallest exponent: the gap below is half */
};

/* The correctly rounded p-digit significand *m of v and its decimal
 * exponent *X (v ~ m * 10^(X - p + 1)), as %.{p}g computes them. False when
 * out of this code's range. */
static bool round_digits(struct dparts *d, int p, uint64_t *m, int *X)
{
	for (int tries = 0; tries < 4; tries++) {
		int s = p - 1 - d->e10;
		if (s > 21 || s < -16)
			return false;
		u128 N = d->M, D = 1;
		if (d->E >= 0)
			N <<= d->E;
		else
			D <<= -d->E;
		if (s >= 0)
			N *= pow10_128(s);
		else
			D *= pow10_128(-s);
		/* with E < 0 and s >= 0, D is the power of two alone: a shift
		 * and a mask, not a 128-bit division (a call of some 50
		 * cycles, for every value written with digits after the
		 * point) */
		u128 q, r;
		if (s >= 0 && d->E < 0) {
			q = N >> -d->E;
			r = N & (D - 1);
		} else {
			q = N / D;
			r = N % D;
		}
		/* the exponent from the exact value, before rounding */
		if (q < pow10_128(p - 1)) {
			d->e10--;
			continue;
		}
		if (q >= pow10_128(p)) {
			d->e10++;
			continue;
		}
		if (2 * r > D || (2 * r == D && (q & 1)))
			q++;
		if (q == pow10_128(p)) { /* 9.99.. rounded up to 10.0..: one more digit before the point */
			*m = (uint64_t)pow10_128(p - 1);
			*X = d->e10 + 1;
		} else {
			*m = (uint64_t)q;
			*X = d->e10;
		}
		return true;
	}
	return false;
}

/* Does m * 10^(X - p + 1) read back as v? */
static bool reads_back(const struct dparts *d, uint64_t m, int X, int p)
{
	int s = p - 1 - X;
	/* both sides times 2^(2 - E) * 10^max(s, 0) */
	u128 left = (u128)m;
	if (s < 0)
		left *= pow10_128(-s);
	left <<= 2 - d->E;
	u128 scale = s > 0 ? pow10_128(s) : 1;
	u128 hi = ((u128)d->M * 4 + 2) * scale;
	u128 lo = ((u128)d->M * 4 - (d->pow2 ? 1 : 2)) * scale;
	if (left > lo && left < hi)
		return true;
	return (left == lo || left == hi) && !(d->M & 1);
}

/* What "%.{p}g" prints for the significand m (p digits) and exponent X. */
static char *put_g(char *buf, bool neg, uint64_t m, int X, int p)
{
	char dig[20];
	for (int i = p - 1; i >= 0; i--) {
		dig[i] = (char)('0' + m % 10);
		m /= 10;
	}
	int nd = p; /* %g drops trailing zeros */
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	char *o = buf;
	if (neg)
		*o++ = '-';
	if (X < -4 || X >= p) {
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = X < 0 ? '-' : '+';
		int x = X < 0 ? -X : X;
		if (x >= 100)
			*o++ = (char)('0' + x / 100);
		*o++ = (char)('0' + x / 10 % 10);
		*o++ = (char)('0' + x % 10);
	} else if (X >= 0) {
		int ip = X + 1; /* integer digits, all within p */
		memcpy(o, dig, (size_t)ip);
		o += ip;
		if (nd > ip) {
			*o++ = '.';
			memcpy(o, dig + ip, (size_t)(nd - ip));
			o += nd - ip;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int k = 0; k < -X - 1; k++)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return buf;
}

char *fd_format_double(char buf[32], double v)
{
	double a = fabs(v);
	if (a == 0) {
		strcpy(buf, signbit(v) ? "-0" : "0");
		return buf;
	}
	if (!(a >= 1e-4 && a < 1e16)) /* NaN, infinities, exponents */
		return format_double_printf(buf, v);
	uint64_t bits;
	memcpy(&bits, &a, sizeof(bits));
	int ef = (int)(bits >> 52);
	struct dparts d = {.M = (bits & ((1ULL << 52) - 1)) | 1ULL << 52,
			   .E = ef - 1075,
			   .pow2 = (bits & ((1ULL << 52) - 1)) == 0 && ef > 1};
	/* a first guess: round_digits corrects it */
	d.e10 = (int)floor((ef - 1023) * 0.30102999566398120);
	bool neg = signbit(v);
	uint64_t m;
	int X;
	/* format_double_printf's steps, in its order */
	if (!round_digits(&d, 15, &m, &X))
		return format_double_printf(buf, v);
	if (reads_back(&d, m, X, 15) && X < 15)
		return put_g(buf, neg, m, X, 15);
	int lo = 1, hi = 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (!round_digits(&d, mid, &m, &X))
			return format_double_printf(buf, v);
		if (reads_back(&d, m, X, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	/* "100", not "1e+02": more digits until no exponent is needed */
	int prec = lo;
	for (;;) {
		if (!round_digits(&d, prec, &m, &X))
			return format_double_printf(buf, v);
		if (X < prec || prec == 17)
			break;
		prec++;
	}
	return put_g(buf, neg, m, X, prec);
}

void fd_json_double(struct fd_json *j, double v)
{
	if (!isfinite(v)) {
		fd_json_null(j);
		return;
	}
	char b[32];
	before_value(j);
	puts_(j, fd_format_double(b, v));
	done(j);
}

void fd_json_bool(struct fd_json *j, bool v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
	done(j);
}

void fd_json_null(struct fd_json *j)
{
	before_value(j);
	puts_(j, "null");
	done(j);
}
