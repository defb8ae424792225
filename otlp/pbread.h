/*
 * The one protobuf wire reader: every walk over serialized OTLP messages
 * (rebase, routing, request splitting, the JSON, ECS and text encoders) and
 * the recording format's varints go through it, so that all of them accept
 * and refuse exactly the same bytes.
 *
 * The edge rules (tests/test_pbread.c is their table):
 *   - a varint is 1 to 10 bytes; a 10th byte above 1 would carry bits past
 *     64 and is refused, as is a varint cut short by the end of the input;
 *   - a tag is a varint of at most 5 bytes (protobuf's varint32, as
 *     protobuf-c reads it) whose value fits in 32 bits, with a field number
 *     of at least 1;
 *   - wire types 0 (varint), 1 (fixed64), 2 (length-delimited) and 5
 *     (fixed32) are read; 3 and 4 (groups, which OTLP never has) and 6 and 7
 *     (undefined) are refused;
 *   - a length-delimited field's length may not run past the end of the
 *     enclosing message, nor a fixed field's 8 or 4 bytes.
 * Unknown fields need nothing special: a caller skips what it does not
 * know, since fd_pb_next has already stepped over the value.
 *
 * Everything is inline: these run once per field of every record.
 */
#ifndef FD_OTLP_PBREAD_H
#define FD_OTLP_PBREAD_H

#include <stddef.h>
#include <stdint.h>

#include "otlp/pbwrite.h" /* PB_VARINT, PB_FIXED64, PB_LEN, PB_FIXED32 */

/* Reads a varint at p (avail bytes readable). Returns the bytes it took, or
 * 0 when it is cut short or longer than 64 bits. */
static inline size_t fd_pb_varint(const uint8_t *p, size_t avail, uint64_t *out)
{
	if (avail && p[0] < 0x80) { /* the common case: one byte */
		*out = p[0];
		return 1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < avail && i < 10; i++) {
		if (i == 9 && p[i] > 1)
			return 0;
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

/* One field as read from the wire. */
struct fd_pb_field {
	uint32_t num;     /* field number, >= 1 */
	unsigned type;    /* PB_VARINT, PB_FIXED64, PB_LEN or PB_FIXED32 */
	uint64_t v;       /* the varint, or the fixed value (little-endian); LEN: the length */
	const uint8_t *p; /* where the value starts (LEN: the body, after the length) */
	size_t n;         /* bytes of the value (LEN: of the body) */
};

/* A cursor over the fields of one message body. */
struct fd_pb_reader {
	const uint8_t *p, *end;
};

static inline struct fd_pb_reader fd_pb_reader(const uint8_t *p, size_t n)
{
	/* An empty body may come as NULL, and NULL takes no offset, not even 0. */
	struct fd_pb_reader r = {p, p ? p + n : NULL};
	return r;
}

/* Reads the next field. Returns 1 with *f filled, 0 at the end of the body,
 * or -1 when the bytes break a rule above; after -1 the reader stays where
 * the bad field began (so a walk that stops there reports the offset). */
static inline int fd_pb_next(struct fd_pb_reader *r, struct fd_pb_field *f)
{
	const uint8_t *p = r->p, *end = r->end;
	if (p == end)
		return 0;
	uint64_t tag;
	size_t k = fd_pb_varint(p, (size_t)(end - p) < 5 ? (size_t)(end - p) : 5, &tag);
	if (k == 0 || tag > UINT32_MAX || (tag >> 3) == 0)
		return -1;
	p += k;
	f->num = (uint32_t)(tag >> 3);
	f->type = (unsigned)(tag & 7);
	size_t avail = (size_t)(end - p);
	switch (f->type) {
	case PB_VARINT:
		if (!(k = fd_pb_varint(p, avail, &f->v)))
			return -1;
		f->p = p;
		f->n = k;
		break;
	case PB_LEN:
		if (!(k = fd_pb_varint(p, avail, &f->v)) || f->v > avail - k)
			return -1;
		f->p = p + k;
		f->n = (size_t)f->v;
		break;
	case PB_FIXED64:
	case PB_FIXED32:
		k = f->type == PB_FIXED64 ? 8 : 4;
		if (avail < k)
			return -1;
		f->v = 0;
		for (size_t i = 0; i < k; i++)
			f->v |= (uint64_t)p[i] << (8 * i);
		f->p = p;
		f->n = k;
		break;
	default:
		return -1;
	}
	r->p = f->p + f->n;
	return 1;
}

/* The body of the last length-delimited field num of a message, as
 * protobuf's last-one-wins reads a singular field; NULL and 0 when absent.
 * Returns 0, or -1 when the message is malformed. */
static inline int fd_pb_find(const uint8_t *msg, size_t n, uint32_t num, const uint8_t **out,
			     size_t *out_n)
{
	struct fd_pb_reader r = fd_pb_reader(msg, n);
	struct fd_pb_field f;
	int rc;
	*out = NULL;
	*out_n = 0;
	while ((rc = fd_pb_next(&r, &f)) > 0)
		if (f.num == num && f.type == PB_LEN) {
			*out = f.p;
			*out_n = f.n;
		}
	return rc;
}

#endif
