/*
 * OTLP/JSON by walking protobuf-c descriptors: one function turns any
 * decoded OTLP message into JSON, so the three request types, every metric
 * kind and nested attribute values need no per-message code. The few OTLP
 * rules that differ from proto3's JSON mapping (hex ids, the objects the
 * collector always writes) are special cases keyed by field name.
 */
#include "otlp/json.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/pbread.h"

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

static void put_base64(struct fd_json *j, const ProtobufCBinaryData *b)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = (b->len + 2) / 3 * 4;
	char *out = malloc(n + 1);
	if (!out) {
		j->error = ENOMEM;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < b->len; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16;
		if (i + 1 < b->len)
			v |= (uint32_t)b->data[i + 1] << 8;
		if (i + 2 < b->len)
			v |= b->data[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < b->len ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < b->len ? tab[v & 63] : '=';
	}
	fd_json_string_n(j, out, o);
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
