/*
 * The record stream: the one in-memory type every source yields and every
 * sink consumes.
 *
 * A record is one unit of telemetry in OTLP terms: one Span, one Metric (with
 * the data points of one scrape) or one LogRecord, serialized as the OTLP
 * protobuf message of that type. Keeping the payload as OTLP bytes means a
 * sink that speaks OTLP assembles an Export*ServiceRequest by framing bytes it
 * already has, and a recording stores exactly what goes on the wire.
 *
 * The resource (service.name, instance...) and instrumentation scope of a
 * record are shared by many records, so a record points at them instead of
 * carrying a copy: struct fd_blob values owned by the source (an fd_intern
 * table, a recording reader's dictionary). They stay valid until the source is
 * destroyed; the payload stays valid only until the source yields the next
 * record. A sink that keeps a record longer copies what it keeps.
 */
#ifndef FD_RECORD_H
#define FD_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum fd_signal {
	FD_SIGNAL_TRACES = 0,
	FD_SIGNAL_METRICS = 1,
	FD_SIGNAL_LOGS = 2,
};
#define FD_SIGNAL_COUNT 3

/* An immutable, interned byte string: a serialized OTLP Resource or
 * InstrumentationScope. id is dense (0, 1, 2...) within its table, so sinks
 * can keep per-resource state in arrays. */
struct fd_blob {
	uint32_t id;
	uint32_t len;
	const uint8_t *data;
};

struct fd_record {
	/* Unix time in nanoseconds that orders the stream: span end time (when a
	 * span is exported), log record time, metric data point time. */
	int64_t time_ns;
	enum fd_signal signal;
	const struct fd_blob *resource; /* serialized opentelemetry.proto.resource.v1.Resource */
	const struct fd_blob *scope;    /* serialized opentelemetry.proto.common.v1.InstrumentationScope */
	const uint8_t *payload;         /* serialized Span, Metric or LogRecord */
	size_t payload_len;
	/* Unix time in nanoseconds when the record arrived where `record`
	 * captured it (a Kafka message's timestamp, the moment an OTLP
	 * request was received); 0 when unknown: generated records, files. */
	int64_t capture_ns;
};

/* "traces", "metrics", "logs"; NULL for an out-of-range value. */
const char *fd_signal_name(enum fd_signal s);

/* Parses "traces" / "metrics" / "logs" (also "spans", "logs"). Returns 0 and
 * sets *out, or -1 when the name is not a signal. */
int fd_signal_parse(const char *name, enum fd_signal *out);

#endif
