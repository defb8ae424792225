/*
 * Small wire-level operations on OTLP payloads, without decoding them:
 * shifting every timestamp (replay's rebase), and reading the few fields the
 * pipeline routes by (a span's trace id, a resource's service.name).
 *
 * They walk the protobuf wire format with the OTLP schema's field numbers
 * built in. Input comes from files and brokers, so every length is checked;
 * a malformed payload is reported, never read out of bounds.
 */
#ifndef FD_OTLP_WIRE_H
#define FD_OTLP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "stream/record.h"

/* Adds delta to every timestamp of the payload in place: span start/end and
 * event times; log time and observed time; metric data point start and
 * point times and exemplar times. Zero timestamps mean "unset" in OTLP and
 * stay zero. Returns 0, or -1 when the payload is not well-formed. */
int fd_otlp_rebase(enum fd_signal sig, uint8_t *payload, size_t len, int64_t delta);

/* The 16-byte trace id of a Span payload. Returns 0, or -1 when absent. */
int fd_otlp_span_trace_id(const uint8_t *payload, size_t len, const uint8_t **id);

/* The service.name attribute of a serialized Resource, copied into out
 * (NUL-terminated, truncated to n - 1). Returns 0, or -1 when absent. */
int fd_otlp_resource_service(const uint8_t *res, size_t len, char *out, size_t n);

#endif
