#include "common/json.h"

#include <errno.h>
#include <math.h>
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

size_t fd_json_quote(char *out, const char *str, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	*o++ = '"';
	size_t i = 0;
	while (i < n) {
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

char *fd_format_double(char buf[32], double v)
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
