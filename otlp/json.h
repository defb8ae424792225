/*
 * OTLP/JSON: an Export{Trace,Metrics,Logs}ServiceRequest as the OpenTelemetry
 * collector writes it (file exporter, Kafka exporter with otlp_json,
 * OTLP/HTTP with Content-Type application/json).
 *
 * The encoding follows the OTLP specification's "JSON Protobuf Encoding"
 * (opentelemetry-proto docs/specification.md) on top of protobuf's proto3
 * JSON mapping:
 *   - keys are the lowerCamelCase JSON names (resourceSpans, timeUnixNano...);
 *   - trace_id, span_id and parent_span_id are lowercase hex, not base64;
 *     other bytes values (AnyValue.bytesValue) are base64;
 *   - enums are integers;
 *   - 64-bit integers (times, counts, intValue, asInt, bucketCounts) are
 *     decimal strings; 32-bit ones and doubles are numbers (NaN and the
 *     infinities as the strings "NaN", "Infinity", "-Infinity");
 *   - fields holding their default value are omitted, except that a set
 *     oneof member is always written (asDouble 0, the histogram's sum/min/max
 *     when present), and, like the collector's pdata marshaler, the
 *     resource, scope, span status and attribute value objects are written
 *     even when empty ("status":{}).
 */
#ifndef FD_OTLP_JSON_H
#define FD_OTLP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "common/error.h"
#include "common/json.h"
#include "otlp/arena.h"
#include "otlp/pbwrite.h"
#include "stream/record.h"

/* Writes the request req[0..len) (protobuf, as fd_otlp_batch_encode makes
 * it) of signal sig as one JSON object to out (compact unless out is
 * pretty; no trailing newline). Returns 0, or -FD_EINPUT when the bytes are
 * not a well-formed request (nothing is written then), -FD_ERUNTIME when
 * out fails or memory runs out. */
int fd_otlp_json_export(enum fd_signal sig, const uint8_t *req, size_t len,
			struct fd_pb_arena *scratch, struct fd_json *out, struct fd_error *err);

/* Appends the compact JSON of the request req[0..len) of signal sig to out,
 * the same bytes as fd_otlp_json_export. Returns 0, or -FD_EINPUT when the
 * bytes are not a well-formed request, -FD_ERUNTIME when memory runs out;
 * out is as it was then. */
int fd_otlp_json_encode(enum fd_signal sig, const uint8_t *req, size_t len, struct pbw *out,
			struct fd_error *err);

/* Decodes data as desc with protobuf-c after checking that the message
 * nests no deeper than the JSON writer can follow (protobuf-c recurses
 * without a limit, so hostile input could exhaust the stack). With scratch
 * NULL the message is malloc'd (free with protobuf_c_message_free_unpacked(m,
 * NULL)); otherwise it lives in scratch until its next reset (no free).
 * NULL when data is malformed or memory runs out. Shared with the ECS and
 * text encoders. */
ProtobufCMessage *fd_otlp_json_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
				      size_t len, struct fd_pb_arena *scratch);
/* Frees m as unpacked by fd_otlp_json_unpack with the same scratch. */
void fd_otlp_json_unpacked_free(ProtobufCMessage *m, struct fd_pb_arena *scratch);

/* True for the bytes fields OTLP/JSON writes as hex instead of base64:
 * trace_id, span_id, parent_span_id (every bytes field named *_id). */
bool fd_otlp_json_is_hex(const ProtobufCFieldDescriptor *f);

/* The wire type a field of type t is written with (PB_VARINT...; repeated
 * scalars may also come packed, as PB_LEN). In line: the shape check asks
 * for every field of every record. */
static inline unsigned fd_otlp_wire_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return PB_FIXED32;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return PB_FIXED64;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return PB_LEN;
	default:
		return PB_VARINT;
	}
}

/* The protobuf-c descriptor of signal sig's Export*ServiceRequest; NULL for
 * an unknown signal. */
const ProtobufCMessageDescriptor *fd_otlp_request_descriptor(enum fd_signal sig);

/* Lowercase hex of n bytes into out (2n + 1 bytes). Returns out. */
char *fd_otlp_hex(char *out, const uint8_t *p, size_t n);

#endif
