/*
 * Reading OTLP/JSON: one Export{Trace,Metrics,Logs}ServiceRequest as the
 * OpenTelemetry collector writes it (file exporter with format: json, Kafka
 * exporter with encoding otlp_json) and as sinks/otlp_json.c writes it,
 * turned into the request's protobuf bytes.
 *
 * The JSON is parsed with jansson; the conversion walks the protobuf-c
 * descriptors of the OTLP schema, so every message type is covered by one
 * routine (the mirror of the encoder). What it accepts, per protobuf's
 * proto3 JSON mapping and the OTLP/JSON rules:
 *   - keys in lowerCamelCase (resourceSpans) or the proto names
 *     (resource_spans); unknown keys are ignored, as protobuf parsers skip
 *     unknown fields (newer OTLP versions add fields);
 *   - trace_id, span_id, parent_span_id as hex strings (or, as some
 *     exporters write them under protobuf's plain mapping, base64 of 16 or
 *     8 bytes); other bytes values as base64 (standard or URL-safe, padding
 *     optional);
 *   - 64-bit integers as decimal strings or as JSON numbers; 32-bit ones as
 *     numbers or strings; doubles as numbers or "NaN", "Infinity",
 *     "-Infinity"; enums as integers or by name; null as absent.
 * The output is canonical protobuf: fields in field-number order, default
 * values of plain proto3 fields omitted, set oneof members always written,
 * repeated numbers packed. The empty objects the collector writes for an
 * absent resource, scope, span status or attribute value ("status":{}) are
 * read as absent, so encoder and reader round-trip.
 */
#ifndef FD_OTLP_JSON_READ_H
#define FD_OTLP_JSON_READ_H

#include <stddef.h>

#include "common/error.h"
#include "otlp/pbwrite.h"
#include "stream/record.h"

/* Parses text[0..len) (one JSON object; surrounding whitespace allowed) and
 * writes the request's protobuf encoding into out (reset first). *sig is
 * set from the top-level key (resourceSpans, resourceMetrics,
 * resourceLogs). An object without any of them is an error unless it is
 * empty ({}), which is an empty request of signal `expect` (when expect is
 * one of the signals; otherwise an error).
 * Returns 0; -FD_EINPUT when the text is not such a request (the message
 * says what and where: "resourceSpans[0].scopeSpans[1].spans[3].endTimeUnixNano:
 * expected a decimal string"); -FD_ERUNTIME when memory runs out. */
int fd_otlp_json_read(const char *text, size_t len, int expect, enum fd_signal *sig,
		      struct pbw *out, struct fd_error *err);

#endif
