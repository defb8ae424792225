/*
 * Capture sources: where `firedrill record` reads export requests from.
 *
 * A source yields messages, each one serialized export request (a Kafka
 * message value, a JSON line, a length-prefixed protobuf frame) with what is
 * known about it: its signal when the topic or file name says, its encoding
 * when configured, a timestamp, and its place for error messages. Decoding
 * them into records is otlp_decode.h's job, not the source's.
 *
 * Sources (one file each): kafka://BROKERS (kafka.c), dir:PATH and
 * file:PATH (file.c), otlp-http://HOST:PORT (otlp_http.c: a receiver).
 */
#ifndef FD_SOURCE_H
#define FD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "firedrill/v1/firedrill.pb-c.h"
#include "otlp/decode.h"
#include "stream/record.h"

#define FD_SOURCE_IDLE 2 /* next(): nothing arrived within the timeout */

struct fd_source_msg {
	const uint8_t *data; /* valid until the next call to next or destroy */
	size_t len;
	int signal;                 /* enum fd_signal, or -1: detect */
	enum fd_otlp_format format; /* FD_OTLP_DETECT: decide per message */
	int64_t time_ns;            /* message timestamp (Kafka); 0 when unknown */
	char where[256];            /* "otlp_spans/3@1234", "traces.jsonl:17" */
	/* Non-NULL: the message is known to be malformed before decoding
	 * (a frame that cannot be read); the reason, to be reported. */
	const char *broken;
};

struct fd_source;

struct fd_source_impl {
	const char *name;
	/* Required. Returns 1 with *msg filled, 0 at the end of the input,
	 * FD_SOURCE_IDLE when nothing came within timeout_ms, or a negative
	 * error (the input cannot be read at all). */
	int (*next)(struct fd_source *s, struct fd_source_msg *msg, int timeout_ms,
		    struct fd_error *err);
	/* Optional. The message last handed out was decoded into `records`
	 * records whose latest time is max_time (or rejected: malformed). The
	 * file source merges its files by these times and counts per file. */
	void (*done)(struct fd_source *s, const struct fd_source_msg *msg, int records,
		     int64_t max_time, bool malformed);
	/* Optional. The record time every stream of the source (file,
	 * partition) has reached, from the times done() reported; streams at
	 * their end do not count. INT64_MIN while a stream has not been heard
	 * from; INT64_MAX when none is active. Without it: no limit. */
	int64_t (*watermark)(struct fd_source *s);
	/* Required. What to write in the recording header, as of now; the
	 * returned message is owned by the source and valid until the next
	 * call to any of its operations. */
	const Firedrill__V1__RecordSource *(*metadata)(struct fd_source *s);
	/* Required. Accepts NULL through fd_source_destroy. */
	void (*destroy)(struct fd_source *s);
};

struct fd_source {
	const struct fd_source_impl *impl;
};

/* How to read a source; what does not apply to a source is ignored. */
struct fd_source_options {
	/* Kafka topics and their signals: "NAME" (the collector's default
	 * names otlp_spans, otlp_metrics, otlp_logs) or "SIGNAL=NAME",
	 * comma-separated. NULL: the three defaults. */
	const char *topics;
	enum fd_otlp_format format;
	const char *group;          /* consumer group; NULL: assign every partition */
	enum { FD_START_BEGINNING, FD_START_END, FD_START_TIME } start;
	int64_t start_time_ns;      /* FD_START_TIME */
	const char *const *kafka_props; /* -X key=value, borrowed */
	size_t n_kafka_props;
	/* What a user should know that is not an error: librdkafka's warnings
	 * ("1/1 brokers are down"), which it retries through. May be called
	 * from librdkafka's threads. NULL = dropped. */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* Opens "kafka://HOST:PORT[,HOST:PORT...]", "dir:PATH" or "file:PATH".
 * Errors: FD_EINPUT for a malformed URI or option (the message names it),
 * FD_ERUNTIME when the input cannot be opened or reached. */
int fd_source_open(const char *uri, const struct fd_source_options *o, struct fd_source **out,
		   struct fd_error *err);
void fd_source_destroy(struct fd_source *s);

/* The per-scheme constructors fd_source_open dispatches to. */
int fd_source_file_open(const char *uri, const char *path, bool is_dir,
			const struct fd_source_options *o, struct fd_source **out,
			struct fd_error *err);
int fd_source_kafka_open(const char *uri, const char *brokers, const struct fd_source_options *o,
			 struct fd_source **out, struct fd_error *err);
/* rest: the URI after "otlp-http:" (sources/otlp_http.c, an OTLP/HTTP
 * receiver). */
int fd_source_otlp_http_open(const char *uri, const char *rest, const struct fd_source_options *o,
			     struct fd_source **out, struct fd_error *err);

#endif
