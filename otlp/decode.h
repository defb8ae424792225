/*
 * Splitting OTLP export requests into records: the inverse of
 * sinks/otlp_batch.c, for `firedrill record`.
 *
 * A message (a Kafka message value, a line of a JSON file, a length-prefixed
 * protobuf frame) holds one Export{Trace,Metrics,Logs}ServiceRequest. It is
 * checked whole first (protobuf-c must decode it as the request type), so a
 * malformed message yields nothing rather than half its records; then each
 * Span, Metric or LogRecord becomes one record whose payload is the exact
 * bytes it had in the request (protobuf input is kept byte for byte; JSON
 * input is first converted to canonical protobuf, otlp_json_read.h). Its
 * resource and scope are interned, so every record of one resource shares
 * one struct fd_blob. schema_url fields have no place in a record and are
 * dropped.
 *
 * Record times (what the recording is ordered by): a span's end time (its
 * start time when the end is unset), a log record's time (its observed
 * time when unset), a metric's latest data point time. A record with none
 * of them gets the caller's fallback time (the Kafka message timestamp).
 */
#ifndef FD_OTLP_DECODE_H
#define FD_OTLP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

enum fd_otlp_format {
	FD_OTLP_DETECT = 0, /* JSON when the first non-blank byte is '{', else protobuf */
	FD_OTLP_PROTO,
	FD_OTLP_JSON,
};

/* Parses "otlp_proto", "otlp_json" or "detect". Returns 0, or -1. */
int fd_otlp_format_parse(const char *name, enum fd_otlp_format *out);
const char *fd_otlp_format_name(enum fd_otlp_format f);

struct fd_otlp_decoder;

/* Returns NULL when out of memory. */
struct fd_otlp_decoder *fd_otlp_decoder_create(void);
/* Frees the decoder and its resource and scope tables: the blobs of every
 * record it yielded become invalid. Accepts NULL. */
void fd_otlp_decoder_destroy(struct fd_otlp_decoder *d);

/* Called once per record; rec (and its payload) is valid during the call
 * only, its resource and scope until the decoder is destroyed. Returns 0 or
 * a negative error (set in err), which stops the decoding. */
typedef int (*fd_otlp_record_fn)(void *ctx, const struct fd_record *rec, struct fd_error *err);

/* Decodes one message. signal: the signal the message must carry (a
 * request of another signal is an error), or -1 to detect it: from the
 * top-level key in JSON; in protobuf by trying the three request types
 * (they share one shape on the wire, so the payloads decide: spans need
 * 16-byte trace ids and 8-byte span ids, metrics a name and data). *found
 * (may be NULL) receives the signal. Returns the number of records yielded,
 * -FD_EINPUT when the message is malformed (nothing was yielded; err says
 * why), or the callback's error. */
int fd_otlp_decode(struct fd_otlp_decoder *d, const uint8_t *msg, size_t len,
		   enum fd_otlp_format format, int signal, int64_t fallback_ns,
		   enum fd_signal *found, fd_otlp_record_fn fn, void *ctx, struct fd_error *err);

/* Distinct resources and scopes seen so far. */
uint32_t fd_otlp_decoder_resources(const struct fd_otlp_decoder *d);
uint32_t fd_otlp_decoder_scopes(const struct fd_otlp_decoder *d);

#endif
