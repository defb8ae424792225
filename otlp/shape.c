#include "otlp/shape.h"

#include <stdbool.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "otlp/json.h"
#include "otlp/pbread.h"

/* as otlp/json.c's check before protobuf-c */
#define MAX_NEST 24

static bool packed_ok(ProtobufCType t, const uint8_t *p, size_t n)
{
	unsigned wt = fd_otlp_wire_type(t);
	if (wt == PB_FIXED64)
		return n % 8 == 0;
	if (wt == PB_FIXED32)
		return n % 4 == 0;
	for (size_t i = 0; i < n;) {
		uint64_t v;
		size_t k = fd_pb_varint(p + i, n - i, &v);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Field numbers are mostly 1, 2, 3... with a gap or two (LogRecord has no
 * 4): a look at the index, then at the one before it, before a search. */
static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint32_t num)
{
	if (num - 1 < d->n_fields && d->fields[num - 1].id == num)
		return &d->fields[num - 1];
	if (num >= 2 && num - 2 < d->n_fields && d->fields[num - 2].id == num)
		return &d->fields[num - 2];
	return protobuf_c_message_descriptor_get_field(d, num);
}

/* fd_otlp_plain_attribute for the usual bytes, where every tag and length
 * is one byte: 0a <k> key 12 <v> (0a <m> string | 10 varint | 18 varint |
 * 21 fixed64). True, with the fields the general walk would give, only
 * for bytes that walk accepts; false when it has to decide. Read through
 * fd_pb_next, the fields cost a third of this function in store-forwarding
 * stalls (num and type stored apart, compared as one 8-byte load). */
static bool plain_bytes(const uint8_t *p, size_t n, struct fd_pb_field *key,
			struct fd_pb_field *member)
{
	if (n < 6 || p[0] != 0x0a || p[1] == 0 || p[1] >= 0x80 || p[2] == 0)
		return false;
	size_t k = p[1], at = 2 + k; /* at: the value's tag */
	if (n < at + 3 || p[at] != 0x12 || p[at + 1] >= 0x80 || at + 2 + p[at + 1] != n)
		return false;
	const uint8_t *m = p + at + 3; /* the member's value */
	size_t avail = n - (at + 3);
	uint64_t v = 0;
	switch (p[at + 2]) {
	case 0x0a: /* string_value */
		if (avail == 0 || m[0] >= 0x80 || m[0] != avail - 1)
			return false;
		*member = (struct fd_pb_field){1, PB_LEN, m[0], m + 1, m[0]};
		break;
	case 0x10: /* bool_value */
	case 0x18: /* int_value */
		if (avail == 0 || fd_pb_varint(m, avail, &v) != avail)
			return false;
		*member = (struct fd_pb_field){p[at + 2] >> 3, PB_VARINT, v, m, avail};
		break;
	case 0x21: /* double_value */
		if (avail != 8)
			return false;
		for (size_t i = 0; i < 8; i++)
			v |= (uint64_t)m[i] << (8 * i);
		*member = (struct fd_pb_field){4, PB_FIXED64, v, m, 8};
		break;
	default:
		return false;
	}
	*key = (struct fd_pb_field){1, PB_LEN, k, p + 2, k};
	return true;
}

bool fd_otlp_plain_attribute(const uint8_t *p, size_t n, struct fd_pb_field *key,
			     struct fd_pb_field *member)
{
	static const unsigned wire[5] = {0, PB_LEN, PB_VARINT, PB_VARINT, PB_FIXED64};
	if (plain_bytes(p, n, key, member))
		return true;
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field val, more;
	if (fd_pb_next(&r, key) != 1 || key->num != 1 || key->type != PB_LEN || key->n == 0 ||
	    key->p[0] == 0 || fd_pb_next(&r, &val) != 1 || val.num != 2 || val.type != PB_LEN ||
	    fd_pb_next(&r, &more) != 0)
		return false;
	r = fd_pb_reader(val.p, val.n);
	return fd_pb_next(&r, member) == 1 && fd_pb_next(&r, &more) == 0 && member->num >= 1 &&
	       member->num <= 4 && member->type == wire[member->num];
}

static bool shaped(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth)
{
	if (depth > MAX_NEST || d->n_fields > 64)
		return false;
	struct fd_pb_field key, member;
	if (d == &opentelemetry__proto__common__v1__key_value__descriptor &&
	    fd_otlp_plain_attribute(p, n, &key, &member))
		return true;
	uint64_t seen = 0;
	unsigned oneofs[4], n_oneofs = 0;
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field w;
	int rc;
	while ((rc = fd_pb_next(&r, &w)) > 0) {
		const ProtobufCFieldDescriptor *f = field_of(d, w.num);
		if (!f)
			continue; /* unknown: skipped by every reader */
		unsigned wt = fd_otlp_wire_type(f->type);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (w.type == PB_LEN && wt != PB_LEN) {
				if (!packed_ok(f->type, w.p, w.n))
					return false;
				continue;
			}
		} else {
			uint64_t bit = 1ULL << (f - d->fields);
			if (seen & bit)
				return false;
			seen |= bit;
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
				for (unsigned k = 0; k < n_oneofs; k++)
					if (oneofs[k] == f->quantifier_offset)
						return false;
				if (n_oneofs == 4)
					return false;
				oneofs[n_oneofs++] = f->quantifier_offset;
			}
		}
		if (w.type != wt)
			return false;
		/* attributes, most of what is walked, without a call each (as
		 * the call's first steps would take them) */
		if (f->descriptor == &opentelemetry__proto__common__v1__key_value__descriptor &&
		    depth + 1 <= MAX_NEST && fd_otlp_plain_attribute(w.p, w.n, &key, &member))
			continue;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && !shaped(f->descriptor, w.p, w.n, depth + 1))
			return false;
	}
	return rc == 0;
}

int fd_otlp_canonical(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t n,
		      struct pbw *scratch, const uint8_t **out, size_t *out_n)
{
	if (n && !msg)
		return -1;
	if (shaped(d, msg, n, 0)) {
		*out = msg;
		*out_n = n;
		return 0;
	}
	ProtobufCMessage *m = fd_otlp_json_unpack(d, msg, n, NULL);
	if (!m)
		return -1;
	pbw_reset(scratch);
	size_t size = protobuf_c_message_get_packed_size(m);
	int rc = -1;
	if (pbw_room(scratch, size + 1)) {
		scratch->len = protobuf_c_message_pack(m, scratch->buf);
		*out = scratch->buf;
		*out_n = scratch->len;
		rc = 0;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}
