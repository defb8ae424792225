/*
 * A minimal protobuf encoder for the hot path: generating millions of OTLP
 * spans, log records and metrics. protobuf-c's pack walks descriptors and
 * needs the whole message tree built first; here fields are appended straight
 * to one reusable buffer.
 *
 * Nested messages: pbw_begin() writes the tag and a one-byte length
 * placeholder, pbw_end() fills it in, moving the body when the length needs
 * more than one byte (rare: attributes and events are short), so the output
 * is canonical protobuf, byte-identical to what any encoder produces.
 *
 * Running out of memory is sticky in w->oom; callers check once at the end.
 */
#ifndef FD_PBWRITE_H
#define FD_PBWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pbw {
	uint8_t *buf;
	size_t len, cap;
	bool oom;
};

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

/* Makes room for n more bytes; false (and oom set) when memory runs out. */
bool pbw_grow(struct pbw *w, size_t n);
void pbw_finish(struct pbw *w); /* frees the buffer */

static inline void pbw_reset(struct pbw *w)
{
	w->len = 0;
}

static inline bool pbw_room(struct pbw *w, size_t n)
{
	return w->cap - w->len >= n || pbw_grow(w, n);
}

/* Appends n bytes as they are. s may be NULL when n is 0 (an empty field),
 * and neither NULL nor the buffer's NULL may reach memcpy or take an offset. */
static inline void pbw_raw(struct pbw *w, const void *s, size_t n)
{
	if (n && pbw_room(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static inline size_t pbw_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void pbw_raw_varint(struct pbw *w, uint64_t v)
{
	if (!pbw_room(w, 10))
		return;
	while (v >= 0x80) {
		w->buf[w->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	w->buf[w->len++] = (uint8_t)v;
}

static inline void pbw_tag(struct pbw *w, unsigned field, unsigned type)
{
	pbw_raw_varint(w, (uint64_t)field << 3 | type);
}

static inline void pbw_varint(struct pbw *w, unsigned field, uint64_t v)
{
	pbw_tag(w, field, PB_VARINT);
	pbw_raw_varint(w, v);
}

static inline void pbw_fixed64(struct pbw *w, unsigned field, uint64_t v)
{
	pbw_tag(w, field, PB_FIXED64);
	if (!pbw_room(w, 8))
		return;
	for (int i = 0; i < 8; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

static inline void pbw_fixed32(struct pbw *w, unsigned field, uint32_t v)
{
	pbw_tag(w, field, PB_FIXED32);
	if (!pbw_room(w, 4))
		return;
	for (int i = 0; i < 4; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

static inline void pbw_double(struct pbw *w, unsigned field, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	pbw_fixed64(w, field, bits);
}

static inline void pbw_bytes(struct pbw *w, unsigned field, const void *p, size_t n)
{
	pbw_tag(w, field, PB_LEN);
	pbw_raw_varint(w, n);
	pbw_raw(w, p, n);
}

static inline void pbw_string(struct pbw *w, unsigned field, const char *s)
{
	pbw_bytes(w, field, s, strlen(s));
}

/* Starts a nested message; returns the mark pbw_end needs. */
static inline size_t pbw_begin(struct pbw *w, unsigned field)
{
	pbw_tag(w, field, PB_LEN);
	if (!pbw_room(w, 1))
		return w->len;
	w->buf[w->len++] = 0;
	return w->len;
}

void pbw_end_slow(struct pbw *w, size_t mark, size_t body);

static inline void pbw_end(struct pbw *w, size_t mark)
{
	if (w->oom)
		return;
	size_t body = w->len - mark;
	if (body < 0x80)
		w->buf[mark - 1] = (uint8_t)body;
	else
		pbw_end_slow(w, mark, body);
}

/* OTLP KeyValue helpers (common.v1): field is the KeyValue's field number in
 * the enclosing message (attributes = 9 in Span, 6 in LogRecord...). */
static inline void otlp_attr_str(struct pbw *w, unsigned field, const char *key, const char *val)
{
	size_t m = pbw_begin(w, field);
	pbw_string(w, 1, key);
	size_t a = pbw_begin(w, 2);
	pbw_string(w, 1, val); /* AnyValue.string_value */
	pbw_end(w, a);
	pbw_end(w, m);
}

static inline void otlp_attr_int(struct pbw *w, unsigned field, const char *key, int64_t val)
{
	size_t m = pbw_begin(w, field);
	pbw_string(w, 1, key);
	size_t a = pbw_begin(w, 2);
	pbw_varint(w, 3, (uint64_t)val); /* AnyValue.int_value */
	pbw_end(w, a);
	pbw_end(w, m);
}

static inline void otlp_attr_double(struct pbw *w, unsigned field, const char *key, double val)
{
	size_t m = pbw_begin(w, field);
	pbw_string(w, 1, key);
	size_t a = pbw_begin(w, 2);
	pbw_double(w, 4, val); /* AnyValue.double_value */
	pbw_end(w, a);
	pbw_end(w, m);
}

static inline void otlp_attr_bool(struct pbw *w, unsigned field, const char *key, bool val)
{
	size_t m = pbw_begin(w, field);
	pbw_string(w, 1, key);
	size_t a = pbw_begin(w, 2);
	pbw_varint(w, 2, val); /* AnyValue.bool_value */
	pbw_end(w, a);
	pbw_end(w, m);
}

#endif
