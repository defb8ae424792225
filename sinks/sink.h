/*
 * The sink interface: where a record stream goes.
 *
 * A sink is one module (one file in sinks/) that fills in a
 * struct fd_sink_impl and embeds a struct fd_sink at the start of its own
 * state. Callers use only the fd_sink_* wrappers, which count records and
 * bytes per signal, keep the first error sticky (after a failed write every
 * later call fails with the same message, so a pipeline reports the cause,
 * not the echo), and handle the optional operations.
 *
 * Lifecycle:
 *   fd_sink_open(uri)  -> write* -> [flush] -> close -> destroy
 * close commits the output (the recording is renamed into place, Kafka
 * deliveries are awaited) and is where delivery failures surface. destroy
 * frees the sink; called without a successful close it discards what can be
 * discarded (a temporary file is removed), so a failed run leaves no partial
 * output behind.
 */
#ifndef FD_SINK_H
#define FD_SINK_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

struct fd_sink;
struct Firedrill__V1__Figure;
struct Firedrill__V1__RecordingHeader;

struct fd_sink_impl {
	const char *name; /* URI scheme: "file", "dir", "kafka"... */
	/* Required. Takes the record; it may keep copies, never the pointers. */
	int (*write)(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err);
	/* Optional: push buffered data out (a time-window boundary). */
	int (*flush)(struct fd_sink *sink, struct fd_error *err);
	/* Optional: an answer-key figure measured from the stream, known only
	 * at its end (a recording stores it in its footer). */
	int (*add_figure)(struct fd_sink *sink, const struct Firedrill__V1__Figure *fig,
			  struct fd_error *err);
	/* Required: finish and commit. Called at most once. */
	int (*close)(struct fd_sink *sink, struct fd_error *err);
	/* Required: free everything; discard uncommitted output. */
	void (*destroy)(struct fd_sink *sink);
	/* Optional: one line for the run's summary, after close ("412
	 * messages, 3.1 MB, 412 delivered, 0 failed"). */
	void (*report)(struct fd_sink *sink, char *buf, size_t n);
};

/* Atomic because live statistics (--stats, --self-metrics) read them from
 * another thread while the writing thread counts; the writer adds with a
 * relaxed load and store, which costs what a plain increment does. */
struct fd_sink_stats {
	_Atomic uint64_t records[FD_SIGNAL_COUNT];
	_Atomic uint64_t bytes[FD_SIGNAL_COUNT]; /* payload bytes handed to the sink */
};

/* Send durations are counted in buckets whose upper bounds (seconds, a
 * Prometheus histogram's `le`) are fd_sink_latency_bounds; the last bucket
 * is +Inf. */
#define FD_SINK_LATENCY_BUCKETS 19
extern const double fd_sink_latency_bounds[FD_SINK_LATENCY_BUCKETS - 1];

/* What a sink is doing now, for live statistics. The sink module updates
 * it from whichever of its threads knows (a Kafka delivery report, an HTTP
 * sender thread); the statistics read it at any time. A sink that never
 * calls fd_sink_live_send has no send latency (a recording file). */
struct fd_sink_live {
	_Atomic uint64_t latency[FD_SINK_LATENCY_BUCKETS]; /* completed sends by duration */
	_Atomic uint64_t latency_sum_ns;
	_Atomic uint64_t retries;       /* sends tried again */
	_Atomic uint64_t errors;        /* sends (messages, requests) lost for good */
	_Atomic int64_t inflight_bytes; /* handed to the transport, not acknowledged */
	_Atomic int64_t queued_bytes;   /* held in the sink, not handed on yet */
};

struct fd_sink {
	const struct fd_sink_impl *impl;
	char *uri; /* as given, secrets redacted: for messages; owned */
	struct fd_sink_stats stats;
	struct fd_sink_live live;
	struct fd_error sticky; /* first failure; code 0 while healthy */
	bool closed;
};

/* What a sink may need to know about the stream besides its records. */
struct fd_sink_context {
	/* Recording metadata (scenario, seed, answer key); NULL when the
	 * source has none. Borrowed for the duration of fd_sink_open. */
	const struct Firedrill__V1__RecordingHeader *header;
	/* Options from command-line flags, "KEY=VALUE" each, applied to every
	 * sink whose descriptor names KEY as if they were in its URI (-X K=V
	 * is "X.K=V" for kafka://, --delivery-timeout D is
	 * "delivery_timeout=D"); a sink that does not know a key ignores it.
	 * In command-line order; borrowed. */
	const char *const *options;
	size_t n_options;
	/* kafka://embedded: keep the broker up this long in destroy after a
	 * close; 0 = shut down at once. firedrill's CLI leaves it 0 and waits
	 * itself between close and destroy (replay --linger), where a signal
	 * ends the wait. */
	int64_t linger_ns;
	/* Where a sink reports what a user should know but is not an error
	 * (the embedded broker's address, a retention warning). NULL = drop.
	 * Called from the thread that calls the sink. */
	void (*notice)(void *notice_ctx, const char *msg);
	void *notice_ctx;
	/* Live statistics are wanted: a sink may then measure what costs
	 * something to measure (Kafka's retries come from librdkafka's
	 * statistics, which are off otherwise). */
	bool live_stats;
	/* Set by a signal handler when the user asks to stop (SIGINT): a sink
	 * that retries stops retrying and waiting to retry (the HTTP sinks:
	 * each request never sent still gets its one attempt). NULL: never
	 * set. */
	const volatile sig_atomic_t *stop;
	/* Records come paced by a clock (a replay at --speed or --rate, a
	 * drill, generate --duration forever), maybe seconds apart: a sink
	 * writes each one out as it comes rather than gathering work for
	 * threads. */
	bool paced;
};

/* rest: the URI after "scheme:" (for kafka://, it starts with "//"). uri:
 * the whole URI as messages show it, with secrets redacted. On error *out
 * is NULL and nothing is left allocated. */
typedef int (*fd_sink_open_fn)(const char *uri, const char *rest,
			       const struct fd_sink_context *ctx, struct fd_sink **out,
			       struct fd_error *err);

/* What a sink is, for fd_sink_open and for the help and did-you-mean
 * texts. Each sink module defines one; sinks/registry.c lists them all. */
struct fd_sink_descriptor {
	const char *scheme;   /* the URI's part before ':': "kafka" */
	const char *synopsis; /* "kafka://HOST:PORT[,HOST:PORT...][?options]" */
	const char *summary;  /* one line: what it writes where */
	/* The names its URI query takes, NULL-terminated ("X.*": a family,
	 * see common/uri_options.h). */
	const char *const *options;
	/* More lines for `replay --help` (options, defaults), each indented
	 * by 6 and at most 80 columns, ending in a newline; or NULL. */
	const char *help;
	fd_sink_open_fn open; /* NULL: planned, not built yet */
};

/* Every sink, in the order help lists them; NULL-terminated. */
extern const struct fd_sink_descriptor *const fd_sink_descriptors[];

/* The descriptor of scheme, or NULL. */
const struct fd_sink_descriptor *fd_sink_descriptor_find(const char *scheme);

/* Opens the sink a URI names: SCHEME:... of one of fd_sink_descriptors, or
 * a bare path ending in .fdr (a recording). Errors: FD_EINPUT for a
 * malformed URI or an unknown scheme or option (the message names it, with
 * secrets redacted), FD_ERUNTIME when the sink cannot be created. */
int fd_sink_open(const char *uri, const struct fd_sink_context *ctx, struct fd_sink **out,
		 struct fd_error *err);

int fd_sink_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err);
int fd_sink_flush(struct fd_sink *sink, struct fd_error *err);
int fd_sink_add_figure(struct fd_sink *sink, const struct Firedrill__V1__Figure *fig,
		       struct fd_error *err);
int fd_sink_close(struct fd_sink *sink, struct fd_error *err);
/* Accepts NULL, and a sink its open function is still building (after
 * fd_sink_init, whatever else failed): every sink's destroy frees what is
 * there, so open's error paths just call this. */
void fd_sink_destroy(struct fd_sink *sink);

/* The sink's report line, or "" when it has none. */
void fd_sink_report(struct fd_sink *sink, char *buf, size_t n);

/* For sink modules: a formatted notice through notice (NULL: dropped). */
void fd_sink_notice(void (*notice)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* For sink modules: one completed send (a message acknowledged, a request
 * answered, a file write) and how long it took. Any thread. */
void fd_sink_live_send(struct fd_sink *sink, int64_t duration_ns);

/* The q quantile (0..1) in seconds of n counts in latency buckets (a
 * difference of two readings of fd_sink_live.latency), interpolated within
 * its bucket as Prometheus's histogram_quantile does; -1 when n holds no
 * count, INFINITY when it falls in the +Inf bucket. */
double fd_sink_latency_quantile(const uint64_t n[FD_SINK_LATENCY_BUCKETS], double q);

/* For sink modules: adds delta (may be negative) to a live gauge or
 * counter. Any thread. */
static inline void fd_sink_live_add(_Atomic int64_t *gauge, int64_t delta)
{
	atomic_fetch_add_explicit(gauge, delta, memory_order_relaxed);
}

/* For sink modules: set up the embedded base; uri as messages show it. On
 * failure (-1, out of memory) the base is still fit for fd_sink_destroy. */
int fd_sink_init(struct fd_sink *sink, const struct fd_sink_impl *impl, const char *uri);

#endif
