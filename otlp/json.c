/*
 * OTLP/JSON by walking protobuf-c descriptors: one function turns any
 * decoded OTLP message into JSON, so the three request types, every metric
 * kind and nested attribute values need no per-message code. The few OTLP
 * rules that differ from proto3's JSON mapping (hex ids, the objects the
 * collector always writes) are special cases keyed by field name.
 */
#include "otlp/json.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/pbread.h"
#include "otlp/shape.h"

/* Message nesting allowed in input: Export > Resource* > Scope* > Span >
 * KeyValue > AnyValue is 5, each level of nested attribute values adds 2 or
 * 3. JSON depth is at most twice this plus one (an object and an array per
 * level), which must stay below FD_JSON_MAX_DEPTH. */
#define MAX_NEST 24

/* Checks the wire framing and the nesting depth before protobuf-c sees the
 * bytes: its unpack recurses once per nested message without a limit. */
static bool wire_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int depth)
{
	if (depth > MAX_NEST)
		return false;
	struct fd_pb_reader r = fd_pb_reader(p, len);
	struct fd_pb_field f;
	int rc;
	while ((rc = fd_pb_next(&r, &f)) > 0) {
		if (f.type != PB_LEN)
			continue;
		const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(d, f.num);
		if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    !wire_ok(fd->descriptor, f.p, f.n, depth + 1))
			return false;
	}
	return rc == 0;
}

ProtobufCMessage *fd_otlp_json_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
				      size_t len, struct fd_pb_arena *scratch)
{
	if (len && !data)
		return NULL;
	if (!wire_ok(desc, data, len, 0))
		return NULL;
	return protobuf_c_message_unpack(desc, scratch ? &scratch->allocator : NULL, len, data);
}

void fd_otlp_json_unpacked_free(ProtobufCMessage *m, struct fd_pb_arena *scratch)
{
	if (m && !scratch)
		protobuf_c_message_free_unpacked(m, NULL);
}

char *fd_otlp_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

/* "start_time_unix_nano" -> "startTimeUnixNano": protobuf's JSON name.
 * Returns its length. */
static size_t camel(char *out, size_t n, const char *name)
{
	size_t o = 0;
	bool up = false;
	for (; *name && o + 1 < n; name++) {
		if (*name == '_') {
			up = true;
			continue;
		}
		out[o++] = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
		up = false;
	}
	out[o] = '\0';
	return o;
}

/* OTLP's ids (trace_id, span_id, parent_span_id in spans, links, logs and
 * exemplars) are the only bytes fields named *_id: hex, per the spec. */
bool fd_otlp_json_is_hex(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);
	return n >= 3 && strcmp(f->name + n - 3, "_id") == 0;
}

static void put_hex(struct fd_json *j, const ProtobufCBinaryData *b)
{
	char small[65];
	char *buf = b->len <= 32 ? small : malloc(2 * b->len + 1);
	if (!buf) {
		j->error = ENOMEM;
		return;
	}
	fd_json_string_n(j, fd_otlp_hex(buf, b->data, b->len), 2 * b->len);
	if (buf != small)
		free(buf);
}

/* Standard base64 with padding of n bytes into out ((n + 2) / 3 * 4 bytes).
 * Returns the length. */
static size_t base64(char *out, const uint8_t *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	return o;
}

static void put_base64(struct fd_json *j, const ProtobufCBinaryData *b)
{
	char *out = malloc((b->len + 2) / 3 * 4 + 1);
	if (!out) {
		j->error = ENOMEM;
		return;
	}
	fd_json_string_n(j, out, base64(out, b->data, b->len));
	free(out);
}

/* proto3 JSON: non-finite doubles are strings, since JSON has no literal. */
static void put_double(struct fd_json *j, double v)
{
	if (isnan(v))
		fd_json_string(j, "NaN");
	else if (isinf(v))
		fd_json_string(j, v > 0 ? "Infinity" : "-Infinity");
	else
		fd_json_double(j, v);
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default: /* 32-bit ints, float, enum (stored as int) */
		return 4;
	}
}

static void put_message(struct fd_json *j, const ProtobufCMessage *m);

static void put_value(struct fd_json *j, const ProtobufCFieldDescriptor *f, const void *p)
{
	char num[24];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fd_json_int(j, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fd_json_uint(j, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		fd_json_int(j, *(const int *)p);
		break;
	/* 64-bit integers are strings: JavaScript numbers lose precision
	 * above 2^53, and nanosecond times are far above it. */
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fd_json_string_n(j, num,
				 (size_t)snprintf(num, sizeof(num), "%lld", (long long)*(const int64_t *)p));
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fd_json_string_n(j, num, (size_t)snprintf(num, sizeof(num), "%llu",
							  (unsigned long long)*(const uint64_t *)p));
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(j, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(j, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fd_json_bool(j, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		fd_json_string(j, s ? s : "");
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		if (fd_otlp_json_is_hex(f))
			put_hex(j, p);
		else
			put_base64(j, p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m) {
			put_message(j, m);
		} else {
			fd_json_object_begin(j);
			fd_json_object_end(j);
		}
		break;
	}
	}
}

/* Message fields the collector's marshaler writes even when absent or
 * empty: its pdata keeps them by value ("resource":{}, "status":{}). */
static bool always_written(const ProtobufCFieldDescriptor *f)
{
	static const char *const names[] = {"resource", "scope", "status", "value"};
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(f->name, names[i]) == 0)
			return true;
	return false;
}

/* proto3 presence for a singular field without has_: anything but zero. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL && !always_written(f);
	default: {
		/* every bit zero; -0.0 counts as set, as in protobuf's own JSON */
		static const uint8_t zero[8];
		return memcmp(p, zero, elem_size(f->type)) == 0;
	}
	}
}

static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
			return *(void *const *)p != NULL;
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	}
	return !is_default(f, p);
}

static void put_message(struct fd_json *j, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	char key[64];
	fd_json_object_begin(j);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (n == 0)
				continue;
			const char *arr = *(char *const *)(base + f->offset);
			fd_json_key_plain(j, key, camel(key, sizeof(key), f->name));
			fd_json_array_begin(j);
			for (size_t k = 0; k < n; k++)
				put_value(j, f, arr + k * elem_size(f->type));
			fd_json_array_end(j);
		} else if (is_present(m, f)) {
			fd_json_key_plain(j, key, camel(key, sizeof(key), f->name));
			put_value(j, f, base + f->offset);
		}
	}
	fd_json_object_end(j);
}

/* ---- straight from the wire ----
 *
 * The same JSON as put_message, written while walking the protobuf bytes
 * instead of after protobuf-c has unpacked them (the unpacking, one
 * allocation per field, cost most of an OTLP/JSON replay). The walk
 * writes fields in the order they come, which is put_message's order (the
 * descriptors' fields are sorted by number) whenever a message is in the
 * shape every protobuf encoder writes: fields in ascending order, a
 * singular field once, the elements of a repeated field together, one
 * member per oneof, each field with its type's wire type. A message in any
 * other shape (protobuf allows them: the last value wins, messages merge)
 * is written again by unpacking that message alone with protobuf-c, so
 * both paths give the same bytes for every input.
 */

/* A message type with what the walk needs of each field, by field index. */
struct fnode {
	const struct node *kid; /* message fields: the field's type */
	char key[48];           /* "camelName": */
	uint8_t key_len;
	bool always;            /* a message written as {} when absent */
	bool hex;               /* bytes written as hex */
};

struct node {
	const ProtobufCMessageDescriptor *d;
	struct fnode *f;
	uint8_t idx[32]; /* field number -> index, 0xff when unknown */
};

/* Every message type reachable from the three requests: about 30 types and
 * 200 fields. Built once, read-only after. */
#define MAX_NODES 64
#define MAX_FNODES 512
static struct node nodes[MAX_NODES];
static struct fnode fnodes[MAX_FNODES];
static size_t n_nodes, n_fnodes;
static bool nodes_ok;
static pthread_once_t nodes_once = PTHREAD_ONCE_INIT;

static const struct node *node_of(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < n_nodes; i++)
		if (nodes[i].d == d)
			return &nodes[i];
	if (n_nodes == MAX_NODES || MAX_FNODES - n_fnodes < d->n_fields)
		return NULL;
	struct node *nd = &nodes[n_nodes++];
	nd->d = d;
	nd->f = &fnodes[n_fnodes];
	n_fnodes += d->n_fields;
	memset(nd->idx, 0xff, sizeof(nd->idx));
	for (unsigned i = 0; i < d->n_fields && i < 0xff; i++)
		if (d->fields[i].id < sizeof(nd->idx))
			nd->idx[d->fields[i].id] = (uint8_t)i;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		struct fnode *fn = &nd->f[i];
		char name[64];
		size_t k = camel(name, sizeof(name), f->name);
		if (k + 4 > sizeof(fn->key))
			return NULL;
		fn->key[0] = '"';
		memcpy(fn->key + 1, name, k);
		memcpy(fn->key + 1 + k, "\":", 2);
		fn->key_len = (uint8_t)(k + 3);
		fn->always = f->label == PROTOBUF_C_LABEL_NONE && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			     always_written(f);
		fn->hex = f->type == PROTOBUF_C_TYPE_BYTES && fd_otlp_json_is_hex(f);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && !(fn->kid = node_of(f->descriptor)))
			return NULL;
	}
	return nd;
}

static void build_nodes(void)
{
	nodes_ok = true;
	for (int s = 0; s < FD_SIGNAL_COUNT; s++)
		nodes_ok &= node_of(fd_otlp_request_descriptor((enum fd_signal)s)) != NULL;
}

static const struct node *request_node(const ProtobufCMessageDescriptor *d)
{
	pthread_once(&nodes_once, build_nodes);
	return nodes_ok ? node_of(d) : NULL;
}

/* Output: room is checked before each write; running out of memory is
 * sticky in o->oom and the caller reports it once. */
static inline char *room(struct pbw *o, size_t n)
{
	return pbw_room(o, n) ? (char *)o->buf + o->len : NULL;
}

static inline void put_raw(struct pbw *o, const char *s, size_t n)
{
	char *w = room(o, n);
	if (w) {
		memcpy(w, s, n);
		o->len += n;
	}
}

static inline void put_ch(struct pbw *o, char c)
{
	char *w = room(o, 1);
	if (w) {
		*w = c;
		o->len++;
	}
}

/* Strings are cut at a NUL byte: protobuf-c keeps them as C strings, so
 * that is what put_message writes. */
static void put_str(struct pbw *o, const uint8_t *p, size_t n)
{
	const uint8_t *nul = n ? memchr(p, 0, n) : NULL;
	if (nul)
		n = (size_t)(nul - p);
	char *w = room(o, FD_JSON_QUOTED_MAX(n));
	if (w)
		o->len += fd_json_quote(w, (const char *)p, n);
}

static size_t dec(char *out, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

/* A decimal integer; quoted for the 64-bit types (see put_value). */
static void put_int(struct pbw *o, uint64_t mag, bool neg, bool quote)
{
	char *w = room(o, 24);
	if (!w)
		return;
	char *s = w;
	if (quote)
		*w++ = '"';
	if (neg)
		*w++ = '-';
	w += dec(w, mag);
	if (quote)
		*w++ = '"';
	o->len += (size_t)(w - s);
}

static void put_signed(struct pbw *o, int64_t v, bool quote)
{
	put_int(o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0, quote);
}

/* Doubles recur (a histogram's bounds in every data point) and their
 * shortest form costs a printf and a strtod or more: the last ones
 * written are remembered, per thread. */
struct dbl_memo {
	uint64_t bits;
	uint8_t len; /* 0: empty */
	char text[23];
};
static _Thread_local struct dbl_memo dbl_memo[256];

static void put_dbl(struct pbw *o, double v)
{
	if (isnan(v)) {
		put_raw(o, "\"NaN\"", 5);
		return;
	}
	if (isinf(v)) {
		put_raw(o, v > 0 ? "\"Infinity\"" : "\"-Infinity\"", v > 0 ? 10 : 11);
		return;
	}
	uint64_t bits;
	memcpy(&bits, &v, 8);
	struct dbl_memo *m = &dbl_memo[(bits * 0x9e3779b97f4a7c15ULL) >> 56];
	if (m->len == 0 || m->bits != bits) {
		char b[32];
		size_t n = strlen(fd_format_double(b, v));
		if (n > sizeof(m->text)) {
			put_raw(o, b, n);
			return;
		}
		memcpy(m->text, b, n);
		m->len = (uint8_t)n;
		m->bits = bits;
	}
	put_raw(o, m->text, m->len);
}

static void put_bytes_json(struct pbw *o, const uint8_t *p, size_t n, bool hex)
{
	char *w = room(o, (hex ? 2 * n : (n + 2) / 3 * 4) + 3);
	if (!w)
		return;
	w[0] = '"';
	size_t k;
	if (hex) {
		fd_otlp_hex(w + 1, p, n);
		k = 2 * n;
	} else {
		k = base64(w + 1, p, n);
	}
	w[k + 1] = '"';
	o->len += k + 2;
}

/* What protobuf-c stores of a scalar is zero: the field's proto3 default. */
static bool scalar_zero(ProtobufCType t, uint64_t v)
{
	return elem_size(t) == 4 ? (uint32_t)v == 0 : v == 0;
}

/* One scalar, converted as protobuf-c converts it and written as
 * put_value writes it. */
static void put_scalar(struct pbw *o, ProtobufCType t, uint64_t v)
{
	uint32_t u = (uint32_t)v;
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		put_signed(o, (int32_t)u, false);
		break;
	case PROTOBUF_C_TYPE_SINT32:
		put_signed(o, (int32_t)((u >> 1) ^ -(u & 1)), false);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		put_int(o, u, false, false);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		put_signed(o, (int64_t)v, true);
		break;
	case PROTOBUF_C_TYPE_SINT64:
		put_signed(o, (int64_t)((v >> 1) ^ -(v & 1)), true);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		put_int(o, v, false, true);
		break;
	case PROTOBUF_C_TYPE_FLOAT: {
		float f;
		memcpy(&f, &u, 4);
		put_dbl(o, f);
		break;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d;
		memcpy(&d, &v, 8);
		put_dbl(o, d);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		put_raw(o, v ? "true" : "false", v ? 4 : 5);
		break;
	default:
		break;
	}
}

static int put_msg(struct pbw *o, const struct node *nd, const uint8_t *p, size_t n, int depth);

/* The packed elements of a repeated scalar field. Returns false when the
 * bytes are not whole elements (the message goes to protobuf-c). */
static bool put_packed(struct pbw *o, ProtobufCType t, const uint8_t *p, size_t n,
		       const struct fnode *fn, bool *open, bool *first)
{
	unsigned wt = fd_otlp_wire_type(t);
	size_t w = wt == PB_FIXED64 ? 8 : 4;
	if (wt != PB_VARINT && n % w)
		return false;
	for (size_t i = 0; i < n;) {
		uint64_t v = 0;
		if (wt == PB_VARINT) {
			size_t k = fd_pb_varint(p + i, n - i, &v);
			if (!k)
				return false;
			i += k;
		} else {
			for (size_t b = 0; b < w; b++)
				v |= (uint64_t)p[i + b] << (8 * b);
			i += w;
		}
		if (!*open) {
			if (!*first)
				put_ch(o, ',');
			*first = false;
			put_raw(o, fn->key, fn->key_len);
			put_ch(o, '[');
			*open = true;
		} else {
			put_ch(o, ',');
		}
		put_scalar(o, t, v);
	}
	return true;
}

/* Writing one message's fields in descriptor order. */
struct emit {
	struct pbw *o;
	const struct node *nd;
	unsigned next;     /* fields before this index are behind us */
	unsigned open;     /* the repeated field whose array is open, or UINT32_MAX */
	unsigned oneofs[4], n_oneofs;
	bool first;
};

static inline void emit_key(struct emit *e, const struct fnode *fn)
{
	/* the whole key array is copied: a fixed size the compiler inlines */
	char *w = room(e->o, sizeof(fn->key) + 1);
	if (!w)
		return;
	size_t k = 0;
	if (!e->first)
		w[k++] = ',';
	e->first = false;
	memcpy(w + k, fn->key, sizeof(fn->key));
	e->o->len += k + fn->key_len;
}

/* Moves on to field index i (at or after next): closes an open array and
 * writes the always-written messages absent before it. */
static void emit_upto(struct emit *e, unsigned i)
{
	if (e->open != UINT32_MAX && e->open != i) {
		put_ch(e->o, ']');
		e->open = UINT32_MAX;
	}
	for (unsigned k = e->next; k < i; k++)
		if (e->nd->f[k].always) {
			emit_key(e, &e->nd->f[k]);
			put_raw(e->o, "{}", 2);
		}
	if (i + 1 > e->next)
		e->next = i + 1;
}

/* Field index i, read as w; fields come in index order, the elements of a
 * repeated field one after the other. Returns 0, 1 when the message must
 * go to protobuf-c, -1 when nested too deep. */
static int emit_field(struct emit *e, unsigned i, const struct fd_pb_field *w, int depth)
{
	const ProtobufCFieldDescriptor *f = &e->nd->d->fields[i];
	const struct fnode *fn = &e->nd->f[i];
	struct pbw *o = e->o;
	if (e->open != i && i < e->next)
		return 1; /* a singular field again: the last would win, messages merge */
	emit_upto(e, i);
	if (f->label == PROTOBUF_C_LABEL_REPEATED && w->type == PB_LEN &&
	    fd_otlp_wire_type(f->type) != PB_LEN) {
		bool is_open = e->open == i;
		if (!put_packed(o, f->type, w->p, w->n, fn, &is_open, &e->first))
			return 1;
		if (is_open)
			e->open = i;
		return 0;
	}
	if (w->type != fd_otlp_wire_type(f->type))
		return 1;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (e->open == i) {
			put_ch(o, ',');
		} else {
			emit_key(e, fn);
			put_ch(o, '[');
			e->open = i;
		}
	} else {
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			for (unsigned k = 0; k < e->n_oneofs; k++)
				if (e->oneofs[k] == f->quantifier_offset)
					return 1; /* a second member: the last would win */
			if (e->n_oneofs == 4)
				return 1;
			e->oneofs[e->n_oneofs++] = f->quantifier_offset;
		} else if (f->label != PROTOBUF_C_LABEL_OPTIONAL) {
			/* proto3's implicit presence: a default is not written */
			if (f->type == PROTOBUF_C_TYPE_STRING ? w->n == 0 || w->p[0] == 0
			    : f->type == PROTOBUF_C_TYPE_BYTES ? w->n == 0
			    : f->type == PROTOBUF_C_TYPE_MESSAGE ? false
								 : scalar_zero(f->type, w->v))
				return 0;
		}
		emit_key(e, fn);
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		put_str(o, w->p, w->n);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		put_bytes_json(o, w->p, w->n, fn->hex);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (put_msg(o, fn->kid, w->p, w->n, depth + 1) < 0)
			return -1;
		break;
	default:
		put_scalar(o, f->type, w->v);
		break;
	}
	return 0;
}

static void emit_end(struct emit *e)
{
	emit_upto(e, e->nd->d->n_fields);
	put_ch(e->o, '}');
}

/* The descriptor index of field number num, or -1 when unknown. */
static int index_of(const struct node *nd, uint32_t num)
{
	if (num < sizeof(nd->idx) / sizeof(nd->idx[0]))
		return nd->idx[num] == 0xff ? -1 : nd->idx[num];
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(nd->d, num);
	return f ? (int)(f - nd->d->fields) : -1;
}

/* A message of up to this many fields is read whole first and written in
 * field order, whatever order its fields came in (the generator writes a
 * data point's attributes first); a longer one (a request, a scope's
 * records) is written as it is read and must come in order. */
#define SORT_MAX 32

/* Returns 0 when written, 1 when the message is not in a shape this walk
 * follows (the caller takes back what was written), -1 when nested too
 * deep. */
static int fast_msg(struct pbw *o, const struct node *nd, const uint8_t *p, size_t n, int depth)
{
	if (depth > MAX_NEST)
		return -1;
	struct emit e = {.o = o, .nd = nd, .open = UINT32_MAX, .first = true};
	struct {
		unsigned idx;
		struct fd_pb_field w;
	} ent[SORT_MAX];
	size_t n_ent = 0;
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field w;
	int rc;
	while ((rc = fd_pb_next(&r, &w)) > 0) {
		int i = index_of(nd, w.num);
		if (i < 0)
			continue; /* unknown: not in JSON */
		if (n_ent == SORT_MAX)
			break;
		/* insertion by index, after equal ones: the elements of a
		 * repeated field keep their order */
		size_t k = n_ent++;
		while (k > 0 && ent[k - 1].idx > (unsigned)i) {
			ent[k] = ent[k - 1];
			k--;
		}
		ent[k].idx = (unsigned)i;
		ent[k].w = w;
	}
	if (rc < 0)
		return 1; /* protobuf-c says what is wrong */
	put_ch(o, '{');
	if (rc == 0) {
		for (size_t k = 0; k < n_ent; k++)
			if ((rc = emit_field(&e, ent[k].idx, &ent[k].w, depth)) != 0)
				return rc;
		emit_end(&e);
		return 0;
	}
	/* many fields: written as read, in order */
	r = fd_pb_reader(p, n);
	while ((rc = fd_pb_next(&r, &w)) > 0) {
		int i = index_of(nd, w.num);
		if (i < 0)
			continue;
		if ((unsigned)i < e.next && (unsigned)i != e.open)
			return 1; /* out of order */
		if ((rc = emit_field(&e, (unsigned)i, &w, depth)) != 0)
			return rc;
	}
	if (rc < 0)
		return 1;
	emit_end(&e);
	return 0;
}

/* A message in another shape: protobuf-c unpacks it, put_message writes
 * it. -1 when it is malformed. */
static int slow_msg(struct pbw *o, const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
		    int depth)
{
	if (!wire_ok(d, p, n, depth))
		return -1;
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
	if (!m)
		return -1;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		struct fd_json j;
		fd_json_init(&j, f, false);
		put_message(&j, m);
		fd_json_flush(&j);
		if (fclose(f) == 0 && !j.error)
			put_raw(o, buf, len);
		else
			o->oom = true;
		free(buf);
	} else {
		o->oom = true;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* An attribute in its usual shape (otlp/shape.h), the message written most
 * often, without the general walk; returns false, having written nothing,
 * for any other shape (an empty key, an absent value, an array, fields in
 * another order or twice), which the general walk then writes. The bytes
 * are those of put_message. */
static bool fast_keyvalue(struct pbw *o, const uint8_t *p, size_t n)
{
	struct fd_pb_field key, one;
	if (!fd_otlp_plain_attribute(p, n, &key, &one))
		return false;
	static const char *const member[5] = {NULL, "{\"stringValue\":", "{\"boolValue\":",
					      "{\"intValue\":", "{\"doubleValue\":"};
	static const uint8_t member_len[5] = {0, 15, 13, 12, 15};
	put_raw(o, "{\"key\":", 7);
	put_str(o, key.p, key.n);
	put_raw(o, ",\"value\":", 9);
	put_raw(o, member[one.num], member_len[one.num]);
	switch (one.num) {
	case 1:
		put_str(o, one.p, one.n);
		break;
	case 2:
		put_scalar(o, PROTOBUF_C_TYPE_BOOL, one.v);
		break;
	case 3:
		put_scalar(o, PROTOBUF_C_TYPE_INT64, one.v);
		break;
	default:
		put_scalar(o, PROTOBUF_C_TYPE_DOUBLE, one.v);
		break;
	}
	put_raw(o, "}}", 2);
	return true;
}

static int put_msg(struct pbw *o, const struct node *nd, const uint8_t *p, size_t n, int depth)
{
	if (nd->d == &opentelemetry__proto__common__v1__key_value__descriptor && fast_keyvalue(o, p, n))
		return 0;
	size_t mark = o->len;
	int rc = fast_msg(o, nd, p, n, depth);
	if (rc <= 0)
		return rc;
	o->len = mark;
	return slow_msg(o, nd->d, p, n, depth);
}

int fd_otlp_json_encode(enum fd_signal sig, const uint8_t *req, size_t len, struct pbw *out,
			struct fd_error *err)
{
	const ProtobufCMessageDescriptor *d = fd_otlp_request_descriptor(sig);
	if (!d)
		return fd_error_set(err, FD_EINPUT, "otlp_json: unknown signal %d", (int)sig);
	size_t mark = out->len;
	const struct node *nd = request_node(d);
	int rc = len && !req ? -1 : nd ? put_msg(out, nd, req, len, 0) : slow_msg(out, d, req, len, 0);
	if (rc < 0 || out->oom) {
		out->len = mark;
		if (out->oom)
			return fd_error_set(err, FD_ERUNTIME, "otlp_json: out of memory");
		return fd_error_set(err, FD_EINPUT,
				    "otlp_json: %zu bytes are not a well-formed %s export request", len,
				    fd_signal_name(sig));
	}
	return 0;
}

const ProtobufCMessageDescriptor *fd_otlp_request_descriptor(enum fd_signal sig)
{
	switch (sig) {
	case FD_SIGNAL_TRACES:
		return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
	case FD_SIGNAL_METRICS:
		return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
	case FD_SIGNAL_LOGS:
		return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
	}
	return NULL;
}

int fd_otlp_json_export(enum fd_signal sig, const uint8_t *req, size_t len,
			struct fd_pb_arena *scratch, struct fd_json *out, struct fd_error *err)
{
	const ProtobufCMessageDescriptor *d = fd_otlp_request_descriptor(sig);
	if (!d)
		return fd_error_set(err, FD_EINPUT, "otlp_json: unknown signal %d", (int)sig);
	if (!out->pretty) {
		struct pbw buf = {0};
		int rc = fd_otlp_json_encode(sig, req, len, &buf, err);
		if (rc == 0)
			fd_json_raw(out, (const char *)buf.buf, buf.len);
		pbw_finish(&buf);
		if (rc == 0 && out->error)
			rc = fd_error_set(err, FD_ERUNTIME, "otlp_json: writing: %s", strerror(out->error));
		return rc;
	}
	/* Indented output (people reading one request) through protobuf-c. */
	if (scratch)
		fd_pb_arena_reset(scratch);
	ProtobufCMessage *m = fd_otlp_json_unpack(d, req, len, scratch);
	if (!m)
		return fd_error_set(err, FD_EINPUT,
				    "otlp_json: %zu bytes are not a well-formed %s export request", len,
				    fd_signal_name(sig));
	put_message(out, m);
	fd_otlp_json_unpacked_free(m, scratch);
	if (out->error)
		return fd_error_set(err, FD_ERUNTIME, "otlp_json: writing: %s", strerror(out->error));
	return 0;
}
