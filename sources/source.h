/*
 * Capture sources: where `firedrill record` reads export requests from.
 *
 * A source yields messages, each one serialized export request (a Kafka
 * message value, a JSON line, a length-prefixed protobuf frame) with what is
 * known about it: its signal when the topic or file name says, its encoding
 * when configured, a timestamp, and its place for error messages. Decoding
 * them into records is otlp_decode.h's job, not the source's.
 *
 * Sources (one module each): kafka://BROKERS (sources/kafka.c), dir:PATH
 * and file:PATH (sources/file.c), otlp-http://HOST:PORT (sources/
 * otlp_http.c, a receiver); sources/registry.c lists their descriptors.
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
	/* When the message arrived at the capture point: the Kafka
	 * timestamp, the time a receiver took the request whole; 0 for
	 * files (which keep no such time). Becomes each record's capture_ns. */
	int64_t capture_ns;
	char where[256];            /* "otlp_spans/3@1234", "traces.jsonl:17" */
	/* Non-NULL: the message is known to be malformed before decoding
	 * (a frame that cannot be read); the reason, to be reported. */
	const char *broken;
};

struct fd_source;

struct fd_source_impl {
	const char *name; /* the kind of input: "kafka", "file" */
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

/* What a source may need besides its URI. */
struct fd_source_context {
	/* Options from command-line flags, "KEY=VALUE" each, applied as if
	 * they were in the URI's query when the source's descriptor names KEY
	 * (--topics L is "topics=L", -X K=V is "X.K=V"); the others are
	 * ignored. In command-line order; borrowed. */
	const char *const *options;
	size_t n_options;
	/* What a user should know that is not an error: librdkafka's warnings
	 * ("1/1 brokers are down"), which it retries through. May be called
	 * from librdkafka's threads. NULL = dropped. */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* rest: the URI after "scheme:" (for kafka://, it starts with "//"); uri:
 * the whole URI as messages show it. On error *out is NULL. */
typedef int (*fd_source_open_fn)(const char *uri, const char *rest,
				 const struct fd_source_context *ctx, struct fd_source **out,
				 struct fd_error *err);

/* What a source is, for fd_source_open and for the help and did-you-mean
 * texts. Each source module defines its own; sources/registry.c lists
 * them. */
struct fd_source_descriptor {
	const char *scheme;   /* the URI's part before ':': "kafka" */
	const char *synopsis; /* "kafka://HOST:PORT[,HOST:PORT...][?options]" */
	const char *summary;  /* one line */
	/* The names its URI query takes, NULL-terminated ("X.*": a family,
	 * see common/uri_options.h). */
	const char *const *options;
	/* More lines for `record --help`, each indented by 6 and at most 80
	 * columns, ending in a newline; or NULL. */
	const char *help;
	fd_source_open_fn open;
};

/* Every source, in the order help lists them; NULL-terminated. */
extern const struct fd_source_descriptor *const fd_source_descriptors[];

/* The descriptor of scheme, or NULL. */
const struct fd_source_descriptor *fd_source_descriptor_find(const char *scheme);

/* Opens SCHEME:... of one of fd_source_descriptors: kafka://HOST:PORT
 * [,HOST:PORT...][?options], dir:PATH, file:PATH. Errors: FD_EINPUT for a
 * malformed URI or option (the message names it), FD_ERUNTIME when the
 * input cannot be opened or reached. */
int fd_source_open(const char *uri, const struct fd_source_context *ctx, struct fd_source **out,
		   struct fd_error *err);

/* The operations of fd_source_impl, for callers; see there. */
int fd_source_next(struct fd_source *s, struct fd_source_msg *msg, int timeout_ms,
		   struct fd_error *err);
void fd_source_done(struct fd_source *s, const struct fd_source_msg *msg, int records,
		    int64_t max_time, bool malformed);
/* INT64_MAX (no limit) for a source without a watermark. */
int64_t fd_source_watermark(struct fd_source *s);
const Firedrill__V1__RecordSource *fd_source_metadata(struct fd_source *s);
/* What kind of input: "kafka", "file" (the recording header's
 * source_kind). */
const char *fd_source_kind(const struct fd_source *s);
void fd_source_destroy(struct fd_source *s); /* accepts NULL */

#endif
