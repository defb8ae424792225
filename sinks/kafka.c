/*
 * kafka://HOST:PORT[,HOST:PORT][?options] and kafka://embedded[?options]:
 * the record stream as Kafka messages, the way the OpenTelemetry collector's
 * Kafka exporter writes them, so that a stock collector Kafka receiver (or
 * Logstash, for format=ecs) consumes them unchanged.
 *
 * Conventions, checked against opentelemetry-collector-contrib's
 * exporter/kafkaexporter (config.go, pdata marshalers, partition_key.go):
 *   - topics otlp_spans, otlp_metrics, otlp_logs (per-signal defaults);
 *   - each message value one Export{Trace,Metrics,Logs}ServiceRequest,
 *     encoding otlp_proto by default, or otlp_json;
 *   - no message key by default; partition_traces_by_id keys each message
 *     with the hex trace id after splitting the batch per trace;
 *     partition_{metrics,logs}_by_resource_attributes keys by a hash of the
 *     resource attributes sorted by key. Ours is fd_hash64 of the sorted
 *     "key=value" pairs as 16 hex digits: the same resource always gets the
 *     same key (and partition), but the key is not byte-equal to the
 *     collector's (pdatautil.MapHash, 16 raw bytes).
 *
 * Options (URI query, k=v&k=v):
 *   format=otlp_proto|otlp_json|ecs   ecs: logs only, one Elastic Common
 *                     Schema document per message; spans and metrics are
 *                     counted, skipped, and close says so (ctx->notice).
 *   topic_traces= topic_metrics= topic_logs=
 *   batch_bytes=      the largest message value (default 1000000, the
 *                     collector's producer.max_message_bytes and librdkafka's
 *                     message.max.bytes; a broker's default is ~1 MiB). A
 *                     request that would grow past it is cut; a single record
 *                     larger than it goes alone, and if librdkafka or the
 *                     broker refuses it, it counts as undelivered.
 *   batch_records=    records per message (default 1000).
 *   batch_window=     record time a message may span (default 1s).
 *   partition=none|trace_id|resource|trace_id,resource   message keys:
 *                     trace_id keys spans (32 hex digits; one message per
 *                     trace per batch), resource keys metrics and logs (16
 *                     hex digits; one resource per message).
 *   timestamp=produce|record   Kafka message timestamp: produce time (the
 *                     default: brokers may reject timestamps far from their
 *                     clock) or the oldest record's time in the message.
 *   compression=none|gzip|snappy|lz4|zstd   librdkafka compression.codec
 *                     (default: librdkafka's, none; zstd for kafka://embedded).
 *   partitions=N      kafka://embedded only: partitions per topic (default
 *                     12).
 * -X key=value (ctx->kafka_props) goes to librdkafka after our defaults, so
 * it overrides them; values of secret properties never appear in messages.
 *
 * Producer discipline (kcat's): rd_kafka_producev; on __QUEUE_FULL poll and
 * retry, never drop; poll(0) after each send; the delivery-report callback
 * counts messages and records delivered and failed; close flushes within the
 * delivery timeout and fails with the exact count of undelivered records.
 * Idempotence is on and acks=all, so broker retries neither lose nor
 * duplicate messages.
 *
 * Threads: librdkafka's delivery reports and error callbacks are served by
 * rd_kafka_poll / rd_kafka_flush, which only this sink calls, from the
 * caller's thread; so the counters need no locks. Logging goes to a no-op
 * callback (modules never print); errors surface through close.
 *
 * kafka://embedded: an in-process librdkafka mock cluster (rdkafka_mock.h),
 * one broker on 127.0.0.1, topics created with `partitions` partitions. It
 * is announced through ctx->notice, lives until destroy (so after close a
 * CLI may still show it), and destroy (after a close) keeps it up for
 * ctx->linger_ns first, sleeping
 * with nanosleep: a signal (SIGINT) interrupts the sleep and ends the
 * linger early, so the CLI needs no hook into the sink. The mock keeps only
 * the newest 5 MiB of message sets (and at most 100000 of them) per
 * partition (rdkafka_mock.c: mpart->max_size = 5 MiB, max_cnt = 100000),
 * dropping older ones; close reads each partition's low watermark and warns
 * when messages were already dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka/conf.h"
#include "sinks/ecs.h"
#include "stream/intern.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/batch.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "sinks/kafka.h"
#include "sinks/options.h"
#include "sinks/registry.h"
#include "common/suggest.h"
#include "common/units.h"

enum format { F_OTLP_PROTO, F_OTLP_JSON, F_ECS };
static const char *const format_names[] = {"otlp_proto", "otlp_json", "ecs"};

enum { PART_TRACE_ID = 1, PART_RESOURCE = 2 };

#define DEFAULT_BATCH_BYTES 1000000
#define DEFAULT_BATCH_RECORDS 1000
#define DEFAULT_BATCH_WINDOW 1000000000LL
#define DEFAULT_PARTITIONS 12
#define DEFAULT_DELIVERY_TIMEOUT_NS 30000000000LL
#define MOCK_PARTITION_BYTES (5u * 1024 * 1024)

static const char *const default_topics[FD_SIGNAL_COUNT] = {"otlp_spans", "otlp_metrics",
							    "otlp_logs"};

/* A record waiting for its message: payload copied into the arena, plus the
 * message key it will go under (keylen 0: no key). */
struct pend {
	const struct fd_blob *res, *scope;
	size_t off, len;
	int64_t time;
	uint64_t seq;
	uint8_t key[16];
	uint8_t keylen;
};

struct pending {
	struct pend *v;
	size_t n, cap;
	uint8_t *arena;
	size_t alen, acap;
	size_t wire;        /* sum of the payloads' encoded field sizes */
	int64_t first_time; /* oldest pending record */
};

struct kafka_sink {
	struct fd_sink base; /* first: the interface casts between them */
	enum format format;
	unsigned partition; /* PART_* bits */
	bool ts_record;
	size_t batch_bytes, batch_records;
	int64_t batch_window;
	int partitions;
	char *topic[FD_SIGNAL_COUNT];

	rd_kafka_t *rk;
	rd_kafka_t *mock_rk; /* embedded: the handle the mock cluster lives on */
	rd_kafka_mock_cluster_t *mock;
	struct fd_pb_arena scratch; /* decoding for format=otlp_json and ecs */
	char *bootstrap; /* embedded: the mock's address */
	int64_t delivery_timeout_ns, linger_ns;
	bool close_called; /* destroy lingers only after a close */
	bool warmed_up;    /* topics' metadata asked for, before the first message */
	int flush_ms; /* how long close waits for delivery reports */

	struct pending pend[FD_SIGNAL_COUNT];
	uint64_t seq;
	struct fd_otlp_batch *batch;
	struct pbw pb;
	struct fd_json json;

	/* partition=resource: key per resource blob id, computed once */
	uint8_t (*res_key)[8];
	bool *res_key_set;
	size_t n_res_key;

	struct fd_kafka_props props; /* X.KEY=VALUE; kept to redact librdkafka's texts */

	struct fd_kafka_stats stats;
	uint64_t skipped[FD_SIGNAL_COUNT];
	char first_error[512];
	char last_broker_error[512];

	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

static const struct fd_sink_impl kafka_impl;

static size_t field_len(size_t body)
{
	return 1 + pbw_varint_len(body) + body;
}

static void notice(struct kafka_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct kafka_sink *s, const char *fmt, ...)
{
	if (!s->notice)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->notice(s->notice_ctx, msg);
}

/* ---- librdkafka callbacks (served from rd_kafka_poll/flush: our thread) ---- */

/* The msg_opaque of every message carries its record count and signal, so
 * the delivery report can account for records without a lookup. */
static void *msg_opaque(size_t records, enum fd_signal sig)
{
	return (void *)(((uintptr_t)records << 2) | (uintptr_t)sig);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct kafka_sink *s = opaque;
	uint64_t records = (uintptr_t)m->_private >> 2;
	if (m->err) {
		s->stats.failed++;
		s->stats.failed_records += records;
		if (!s->first_error[0])
			snprintf(s->first_error, sizeof(s->first_error), "%s [%" PRId32 "]: %s",
				 m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition,
				 rd_kafka_err2str(m->err));
	} else {
		s->stats.delivered++;
		s->stats.delivered_records += records;
	}
	/* The payload was handed over with RD_KAFKA_MSG_F_FREE: librdkafka
	 * frees it after this callback returns. */
}

/* Broker-level errors (connection refused, authentication failed): kept
 * for the final message, since they explain why deliveries time out. */
static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	(void)rk;
	(void)code;
	struct kafka_sink *s = opaque;
	snprintf(s->last_broker_error, sizeof(s->last_broker_error), "%s", reason);
	fd_kafka_redact(s->last_broker_error, &s->props);
}

/* ---- options ---- */

static const char *const option_names[] = {
	"format",      "topic_traces",	   "topic_metrics", "topic_logs", "batch_bytes",
	"batch_records", "batch_window",   "partition",	    "timestamp",  "partitions",
	"compression", "delivery_timeout", "X.*",	    NULL,
};
#define N_OPTIONS (sizeof(option_names) / sizeof(option_names[0]) - 1)

static int bad_value(const char *uri, const char *key, const char *val, const char *why,
		     struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

static int unknown_name(const char *uri, const char *what, const char *name,
			const char *const *names, size_t n, const char *known, struct fd_error *err)
{
	const char *best = fd_suggest(name, names, n);
	return fd_error_set(err, FD_EINPUT, "sink '%s': unknown %s '%s'%s%s%s (known: %s)", uri, what,
			    name, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "",
			    known);
}

static int parse_partition(struct kafka_sink *s, const char *uri, const char *val,
			   struct fd_error *err)
{
	static const char *const names[] = {"none", "trace_id", "resource"};
	char *copy = strdup(val);
	if (!copy)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = 0;
	s->partition = 0;
	char *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p && rc == 0; p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "none") == 0)
			continue;
		else if (strcmp(p, "trace_id") == 0)
			s->partition |= PART_TRACE_ID;
		else if (strcmp(p, "resource") == 0)
			s->partition |= PART_RESOURCE;
		else
			rc = unknown_name(uri, "partition", p, names, 3, "none, trace_id, resource", err);
	}
	free(copy);
	return rc;
}

/* compression is stored in conf straight away: librdkafka validates it. */
static int set_option(struct kafka_sink *s, rd_kafka_conf_t *conf, const char *uri,
		      const char *key, const char *val, bool embedded, struct fd_error *err)
{
	const char *why = NULL;
	char errstr[512];
	if (strcmp(key, "format") == 0) {
		for (size_t i = 0; i < 3; i++)
			if (strcmp(val, format_names[i]) == 0) {
				s->format = (enum format)i;
				return 0;
			}
		return unknown_name(uri, "format", val, format_names, 3, "otlp_proto, otlp_json, ecs",
				    err);
	}
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
		static const char *const keys[] = {"topic_traces", "topic_metrics", "topic_logs"};
		if (strcmp(key, keys[sig]) != 0)
			continue;
		/* Kafka's legal topic names: [a-zA-Z0-9._-], at most 249 */
		if (strlen(val) > 249 || strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						      "0123456789._-") != strlen(val))
			return bad_value(uri, key, val,
					 "a topic name is up to 249 of [a-zA-Z0-9._-]", err);
		char *t = strdup(val);
		if (!t)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		free(s->topic[sig]);
		s->topic[sig] = t;
		return 0;
	}
	if (strcmp(key, "batch_bytes") == 0) {
		int64_t n;
		if (fd_units_size(val, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		if (n < 1 || n > 1000000000) /* librdkafka's message.max.bytes range */
			return bad_value(uri, key, val, "must be between 1 and 1000000000 bytes", err);
		s->batch_bytes = (size_t)n;
	} else if (strcmp(key, "batch_records") == 0) {
		long long n;
		if (fd_units_integer(val, 1, 10000000, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		s->batch_records = (size_t)n;
	} else if (strcmp(key, "batch_window") == 0) {
		if (fd_units_duration(val, &s->batch_window, &why) < 0)
			return bad_value(uri, key, val, why, err);
	} else if (strcmp(key, "partition") == 0) {
		return parse_partition(s, uri, val, err);
	} else if (strcmp(key, "timestamp") == 0) {
		if (strcmp(val, "produce") == 0)
			s->ts_record = false;
		else if (strcmp(val, "record") == 0)
			s->ts_record = true;
		else
			return bad_value(uri, key, val, "expected produce or record", err);
	} else if (strcmp(key, "partitions") == 0) {
		long long n;
		if (!embedded)
			return fd_error_set(err, FD_EINPUT,
					    "sink '%s': option 'partitions' applies only to "
					    "kafka://embedded (a real cluster's topics have theirs)",
					    uri);
		if (fd_units_integer(val, 1, 10000, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		s->partitions = (int)n;
	} else if (strcmp(key, "compression") == 0) {
		if (rd_kafka_conf_set(conf, "compression.codec", val, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK)
			return bad_value(uri, key, val, "expected none, gzip, snappy, lz4 or zstd", err);
	} else if (strcmp(key, "delivery_timeout") == 0) {
		if (fd_units_duration(val, &s->delivery_timeout_ns, &why) < 0)
			return bad_value(uri, key, val, why, err);
		if (s->delivery_timeout_ns < 1000000)
			return bad_value(uri, key, val, "must be at least 1ms", err);
	}
	return 0;
}

struct option_ctx {
	struct kafka_sink *s;
	rd_kafka_conf_t *conf;
	const char *uri;
	bool embedded;
};

static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	(void)idx;
	struct option_ctx *c = ctx;
	/* X.KEY: a librdkafka property, applied after our defaults so that
	 * it overrides them */
	if (strncmp(key, "X.", 2) == 0)
		return fd_kafka_props_add(&c->s->props, key + 2, val, err);
	return set_option(c->s, c->conf, c->uri, key, val, c->embedded, err);
}

/* ---- the embedded broker ---- */

static int embedded_start(struct kafka_sink *s, struct fd_error *err)
{
	char errstr[512];
	rd_kafka_conf_t *conf = fd_kafka_conf_new(NULL);
	if (!conf)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	/* The mock cluster needs a client handle to run on; this one never
	 * connects anywhere. rd_kafka_new owns conf only when it succeeds. */
	s->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!s->mock_rk) {
		rd_kafka_conf_destroy(conf);
		return fd_error_set(err, FD_ERUNTIME, "embedded broker: %s", errstr);
	}
	s->mock = rd_kafka_mock_cluster_new(s->mock_rk, 1);
	if (!s->mock)
		return fd_error_set(err, FD_ERUNTIME, "embedded broker: cannot start the mock cluster");
	s->bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(s->mock));
	if (!s->bootstrap)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(s->mock, s->topic[i], s->partitions, 1);
		if (e)
			return fd_error_set(err, FD_ERUNTIME, "embedded broker: creating topic %s: %s",
					    s->topic[i], rd_kafka_err2str(e));
	}
	notice(s,
	       "embedded Kafka broker listening on %s (topics %s, %s, %s; %d partition%s each; "
	       "each partition keeps only its newest 5 MiB)",
	       s->bootstrap, s->topic[0], s->topic[1], s->topic[2], s->partitions,
	       s->partitions == 1 ? "" : "s");
	return 0;
}

/* Messages the mock dropped already (low watermark > 0: every topic started
 * empty), per topic, with the partition count that would have kept them. */
static void embedded_check_retention(struct kafka_sink *s)
{
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		int64_t dropped = 0, total = 0;
		int parts_hit = 0;
		for (int p = 0; p < s->partitions; p++) {
			int64_t lo = 0, hi = 0;
			if (rd_kafka_query_watermark_offsets(s->rk, s->topic[i], p, &lo, &hi, 5000))
				continue;
			dropped += lo;
			total += hi;
			parts_hit += lo > 0;
		}
		if (dropped == 0)
			continue;
		notice(s,
		       "embedded broker: %" PRId64 " of %" PRId64 " messages in %s are no longer "
		       "readable: each partition keeps only its newest 5 MiB and %d of %d partitions "
		       "received more; use more partitions (partitions=N) or a real broker",
		       dropped, total, s->topic[i], parts_hit, s->partitions);
	}
}

/* Keeps the embedded broker up after close so consumers can attach. A
 * signal ends the wait early (nanosleep is never restarted after a
 * handler, whatever SA_RESTART says). */
static void embedded_linger(struct kafka_sink *s)
{
	if (!s->mock || s->linger_ns <= 0)
		return;
	notice(s, "embedded Kafka broker stays up on %s for %.0f s (interrupt to stop)", s->bootstrap,
	       (double)s->linger_ns / 1e9);
	struct timespec ts = {.tv_sec = (time_t)(s->linger_ns / 1000000000),
			      .tv_nsec = (long)(s->linger_ns % 1000000000)};
	if (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		notice(s, "embedded Kafka broker: linger interrupted");
}

/* Fetches the topics' metadata before the first message (not at open: a
 * sink opened and never written to costs nothing). Messages produced
 * before it arrives wait in librdkafka's unassigned queue, and the leader's
 * broker thread was seen to pick them up only at its next 1 s poll: every
 * short replay took a second longer. Best effort: a broker that is not up
 * yet costs at most this wait, and messages then wait for it as usual. */
static void warm_up(struct kafka_sink *s)
{
	for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->topic[sig], NULL);
		if (!rkt)
			continue;
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e = rd_kafka_metadata(s->rk, 0, rkt, &md, 1000);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
			break; /* no broker yet: one wait is enough */
	}
}

/* ---- producing ---- */

/* Hands one message to librdkafka. payload is malloc'd and passed with
 * RD_KAFKA_MSG_F_FREE: once producev succeeds librdkafka owns it and
 * free()s it after the delivery report; when producev fails it is still
 * ours and freed here. Queue full: serve delivery reports for up to 100 ms
 * and retry, never drop (messages leave the queue by delivery or by
 * message.timeout.ms, so this ends). */
static int produce(struct kafka_sink *s, enum fd_signal sig, uint8_t *payload, size_t len,
		   const uint8_t *key, size_t keylen, int64_t time_ns, size_t records,
		   struct fd_error *err)
{
	char hex[33];
	size_t hexlen = 0;
	if (keylen) {
		fd_otlp_hex(hex, key, keylen);
		hexlen = 2 * keylen;
	}
	int64_t ts_ms = s->ts_record ? time_ns / 1000000 : 0; /* 0: librdkafka stamps now */
	s->stats.messages++;
	s->stats.records += records;
	s->stats.bytes += len;
	if (!s->warmed_up) {
		warm_up(s);
		s->warmed_up = true;
	}
	rd_kafka_resp_err_t e;
	for (;;) {
		e = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(s->topic[sig]),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
				      RD_KAFKA_V_VALUE(payload, len),
				      RD_KAFKA_V_KEY(hexlen ? hex : NULL, hexlen),
				      RD_KAFKA_V_TIMESTAMP(ts_ms),
				      RD_KAFKA_V_OPAQUE(msg_opaque(records, sig)), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(s->rk, 100);
	}
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_poll(s->rk, 0); /* serve delivery reports as we go */
		return 0;
	}
	free(payload); /* refused: never handed over */
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		char why[512];
		rd_kafka_fatal_error(s->rk, why, sizeof(why));
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': Kafka producer failed: %s",
				    s->base.uri, why);
	}
	/* e.g. MSG_SIZE_TOO_LARGE: this message is lost, the stream goes on
	 * and close reports it with the others. */
	s->stats.failed++;
	s->stats.failed_records += records;
	if (!s->first_error[0])
		snprintf(s->first_error, sizeof(s->first_error), "%s: message of %zu bytes: %s",
			 s->topic[sig], len, rd_kafka_err2str(e));
	return 0;
}

/* Encodes the request in s->batch and produces it. In otlp_json a request
 * can come out larger than batch_bytes although its protobuf fits: then it
 * is rebuilt from the pending records lo..hi in two halves, each sent on
 * its own (a single record goes as it is). */
static int emit(struct kafka_sink *s, enum fd_signal sig, const struct pend *v, size_t lo,
		size_t hi, struct fd_error *err);

static int rebuild(struct kafka_sink *s, enum fd_signal sig, const struct pend *v, size_t lo,
		   size_t hi)
{
	const struct pending *p = &s->pend[sig];
	fd_otlp_batch_reset(s->batch);
	for (size_t i = lo; i < hi; i++) {
		struct fd_record r = {.time_ns = v[i].time, .signal = sig, .resource = v[i].res,
				      .scope = v[i].scope, .payload = p->arena + v[i].off,
				      .payload_len = v[i].len};
		if (fd_otlp_batch_add(s->batch, &r) < 0)
			return -1;
	}
	return 0;
}

static int emit(struct kafka_sink *s, enum fd_signal sig, const struct pend *v, size_t lo,
		size_t hi, struct fd_error *err)
{
	/* exact size known: one allocation, no regrowth while encoding */
	pbw_reset(&s->pb);
	if (!pbw_room(&s->pb, fd_otlp_batch_size(s->batch)) ||
	    fd_otlp_batch_encode(s->batch, &s->pb) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int64_t t = fd_otlp_batch_first_time(s->batch);
	uint8_t *buf;
	size_t len;
	if (s->format == F_OTLP_PROTO) {
		/* The encoded request goes to librdkafka as it is; the pbw
		 * starts a new buffer for the next one. */
		buf = s->pb.buf;
		len = s->pb.len;
		s->pb = (struct pbw){0};
	} else {
		char *jb = NULL;
		size_t jn = 0;
		FILE *f = open_memstream(&jb, &jn);
		if (!f)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		fd_json_init(&s->json, f, false);
		int rc = fd_otlp_json_export(sig, s->pb.buf, s->pb.len, &s->scratch, &s->json, err);
		if (fclose(f) != 0 && rc == 0)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		if (rc < 0) {
			free(jb);
			return fd_error_prefix(err, "sink '%s'", s->base.uri);
		}
		if (jn > s->batch_bytes && hi - lo > 1) {
			free(jb);
			size_t mid = lo + (hi - lo) / 2;
			if (rebuild(s, sig, v, lo, mid) < 0)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
			rc = emit(s, sig, v, lo, mid, err);
			if (rc == 0 && rebuild(s, sig, v, mid, hi) < 0)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
			return rc ? rc : emit(s, sig, v, mid, hi, err);
		}
		buf = (uint8_t *)jb;
		len = jn;
	}
	return produce(s, sig, buf, len, v[lo].key, v[lo].keylen, t, hi - lo, err);
}

static int cmp_pend(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	int c = memcmp(x->key, y->key, x->keylen);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Turns pending records into messages: records of one key (all records
 * when unkeyed) in arrival order, cut into requests below batch_bytes and
 * batch_records. With all false (an unkeyed signal reaching a limit), the
 * last, not yet full request stays pending to be filled further. */
static int flush_pending(struct kafka_sink *s, enum fd_signal sig, bool all,
			 struct fd_error *err)
{
	struct pending *p = &s->pend[sig];
	if (p->n == 0)
		return 0;
	bool keyed = false;
	for (size_t i = 0; i < p->n && !keyed; i++)
		keyed = p->v[i].keylen != 0;
	if (keyed) {
		qsort(p->v, p->n, sizeof(p->v[0]), cmp_pend);
		all = true; /* keeping a sorted tail would reorder records */
	}
	size_t start = 0;
	int rc = 0;
	fd_otlp_batch_reset(s->batch);
	for (size_t i = 0; i <= p->n && rc == 0; i++) {
		const struct pend *e = i < p->n ? &p->v[i] : NULL;
		bool new_key = e && i > start &&
			       (e->keylen != p->v[start].keylen ||
				memcmp(e->key, p->v[start].key, e->keylen) != 0);
		struct fd_record r = {0};
		if (e)
			r = (struct fd_record){.time_ns = e->time, .signal = sig, .resource = e->res,
					       .scope = e->scope, .payload = p->arena + e->off,
					       .payload_len = e->len};
		size_t n = i - start;
		bool cut = n > 0 && (!e || new_key || n >= s->batch_records ||
				     fd_otlp_batch_size_with(s->batch, &r) > s->batch_bytes);
		if (cut) {
			if (!e && !all && n < s->batch_records)
				break; /* keep the partial tail pending */
			rc = emit(s, sig, p->v, start, i, err);
			start = i;
			fd_otlp_batch_reset(s->batch);
		}
		if (e && rc == 0 && fd_otlp_batch_add(s->batch, &r) < 0)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc < 0)
		return rc;
	/* Unkeyed, so entries are in arrival order and their payloads are the
	 * arena's tail from v[start].off on: slide both to the front. */
	size_t keep = p->n - start;
	size_t base = keep ? p->v[start].off : p->alen;
	if (keep && base)
		memmove(p->arena, p->arena + base, p->alen - base);
	p->alen -= base;
	if (keep && start)
		memmove(p->v, p->v + start, keep * sizeof(p->v[0]));
	p->n = keep;
	p->wire = 0;
	for (size_t i = 0; i < keep; i++) {
		p->v[i].off -= base;
		p->wire += field_len(p->v[i].len);
	}
	p->first_time = keep ? p->v[0].time : 0;
	for (size_t i = 1; i < keep; i++)
		if (p->v[i].time < p->first_time)
			p->first_time = p->v[i].time;
	return 0;
}

static int flush_all(struct kafka_sink *s, struct fd_error *err)
{
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		int rc = flush_pending(s, (enum fd_signal)i, true, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* partition=resource: fd_hash64 over the resource's attributes as sorted
 * "key\0value\0" pairs (values as fd_ecs_value_text renders them), so
 * attribute order in the serialized resource does not matter. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int resource_key(struct kafka_sink *s, const struct fd_blob *res, uint8_t key[8],
			struct fd_error *err)
{
	uint32_t id = res ? res->id : UINT32_MAX;
	if (res && id < s->n_res_key && s->res_key_set[id]) {
		memcpy(key, s->res_key[id], 8);
		return 0;
	}
	uint64_t h = fd_hash64("", 0);
	if (res && res->len) {
		Opentelemetry__Proto__Resource__V1__Resource *r = (void *)fd_otlp_json_unpack(
			&opentelemetry__proto__resource__v1__resource__descriptor, res->data, res->len,
			NULL);
		if (!r)
			return fd_error_set(err, FD_EINPUT, "sink '%s': malformed resource (%u bytes)",
					    s->base.uri, res->len);
		size_t n = r->n_attributes, total = 0;
		char **pairs = calloc(n ? n : 1, sizeof(*pairs));
		int rc = pairs ? 0 : -1;
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *v = fd_ecs_value_text(r->attributes[i]->value);
			size_t kl = strlen(r->attributes[i]->key), vl = v ? strlen(v) : 0;
			pairs[i] = v ? malloc(kl + vl + 2) : NULL;
			if (pairs[i]) {
				memcpy(pairs[i], r->attributes[i]->key, kl + 1);
				memcpy(pairs[i] + kl + 1, v, vl + 1);
				total += kl + vl + 2;
			} else {
				rc = -1;
			}
			free(v);
		}
		uint8_t *buf = rc == 0 ? malloc(total ? total : 1) : NULL;
		if (buf) {
			/* sort by key then value: the key is a prefix ending in NUL */
			qsort(pairs, n, sizeof(*pairs), cmp_str);
			size_t off = 0;
			for (size_t i = 0; i < n; i++) {
				size_t kl = strlen(pairs[i]) + 1;
				size_t vl = strlen(pairs[i] + kl) + 1;
				memcpy(buf + off, pairs[i], kl + vl);
				off += kl + vl;
			}
			h = fd_hash64(buf, off);
		}
		free(buf);
		for (size_t i = 0; pairs && i < n; i++)
			free(pairs[i]);
		free(pairs);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (!buf)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(h >> (56 - 8 * i));
	if (!res)
		return 0;
	if (id >= s->n_res_key) {
		size_t n = s->n_res_key ? s->n_res_key : 64;
		while (n <= id)
			n *= 2;
		uint8_t(*k)[8] = realloc(s->res_key, n * sizeof(*k));
		if (k)
			s->res_key = k;
		bool *set = k ? realloc(s->res_key_set, n * sizeof(*set)) : NULL;
		if (!set)
			return 0; /* no cache: computed again next time */
		memset(set + s->n_res_key, 0, (n - s->n_res_key) * sizeof(*set));
		s->res_key_set = set;
		s->n_res_key = n;
	}
	memcpy(s->res_key[id], key, 8);
	s->res_key_set[id] = true;
	return 0;
}

/* The record's message key: its trace id (spans, partition=trace_id), its
 * resource's hash (metrics and logs, partition=resource), or none. */
static int record_key(struct kafka_sink *s, const struct fd_record *rec, uint8_t key[16],
		      uint8_t *keylen, struct fd_error *err)
{
	*keylen = 0;
	if (rec->signal == FD_SIGNAL_TRACES && (s->partition & PART_TRACE_ID)) {
		const uint8_t *id;
		if (fd_otlp_span_trace_id(rec->payload, rec->payload_len, &id) == 0) {
			memcpy(key, id, 16);
			*keylen = 16;
		}
		return 0;
	}
	if (rec->signal != FD_SIGNAL_TRACES && (s->partition & PART_RESOURCE)) {
		*keylen = 8;
		return resource_key(s, rec->resource, key, err);
	}
	return 0;
}

static int pend_add(struct kafka_sink *s, const struct fd_record *rec, const uint8_t *key,
		    uint8_t keylen)
{
	struct pending *p = &s->pend[rec->signal];
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct pend *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	if (p->acap - p->alen < rec->payload_len) {
		size_t cap = p->acap ? p->acap : 65536;
		while (cap - p->alen < rec->payload_len)
			cap *= 2;
		uint8_t *a = realloc(p->arena, cap);
		if (!a)
			return -1;
		p->arena = a;
		p->acap = cap;
	}
	if (rec->payload_len)
		memcpy(p->arena + p->alen, rec->payload, rec->payload_len);
	struct pend *e = &p->v[p->n++];
	*e = (struct pend){.res = rec->resource, .scope = rec->scope, .off = p->alen,
			   .len = rec->payload_len, .time = rec->time_ns, .seq = s->seq++,
			   .keylen = keylen};
	memcpy(e->key, key, keylen);
	p->alen += rec->payload_len;
	p->wire += field_len(rec->payload_len);
	if (p->n == 1 || rec->time_ns < p->first_time)
		p->first_time = rec->time_ns;
	return 0;
}

static int write_ecs(struct kafka_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	uint8_t key[16];
	uint8_t keylen;
	int rc = record_key(s, rec, key, &keylen, err);
	if (rc < 0)
		return rc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	fd_json_init(&s->json, f, false);
	rc = fd_ecs_log(rec, &s->scratch, &s->json, err);
	if (fclose(f) != 0 && rc == 0)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc < 0) {
		free(buf);
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	}
	return produce(s, rec->signal, (uint8_t *)buf, len, key, keylen, rec->time_ns, 1, err);
}

static int kafka_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	if (s->format == F_ECS) {
		if (rec->signal != FD_SIGNAL_LOGS) {
			s->skipped[rec->signal]++;
			return 0;
		}
		return write_ecs(s, rec, err);
	}
	struct pending *p = &s->pend[rec->signal];
	if (p->n && rec->time_ns - p->first_time > s->batch_window) {
		int rc = flush_pending(s, rec->signal, true, err);
		if (rc < 0)
			return rc;
	}
	uint8_t key[16];
	uint8_t keylen;
	int rc = record_key(s, rec, key, &keylen, err);
	if (rc < 0)
		return rc;
	if (pend_add(s, rec, key, keylen) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (p->n >= s->batch_records || p->wire >= s->batch_bytes)
		return flush_pending(s, rec->signal, false, err);
	return 0;
}

static int kafka_flush(struct fd_sink *sink, struct fd_error *err)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	int rc = flush_all(s, err);
	rd_kafka_poll(s->rk, 0);
	return rc;
}

static int kafka_close(struct fd_sink *sink, struct fd_error *err)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	int rc = flush_all(s, err);
	if (rc < 0)
		return rc;
	/* Wait for every delivery report; messages expire after
	 * message.timeout.ms, so a little longer than that is enough. */
	rd_kafka_flush(s->rk, s->flush_ms);
	uint64_t reported = s->stats.delivered + s->stats.failed;
	if (reported < s->stats.messages) {
		/* Still queued or in flight: purge them, which reports each
		 * as failed (__PURGE_QUEUE / __PURGE_INFLIGHT). */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(s->rk, 5000);
	}
	if (s->mock)
		embedded_check_retention(s);
	if (s->skipped[FD_SIGNAL_TRACES] || s->skipped[FD_SIGNAL_METRICS])
		notice(s, "sink '%s': format=ecs writes logs only: skipped %" PRIu64 " spans and %" PRIu64
			  " metrics",
		       sink->uri, s->skipped[FD_SIGNAL_TRACES], s->skipped[FD_SIGNAL_METRICS]);
	s->close_called = true;
	uint64_t lost_msgs = s->stats.messages - s->stats.delivered;
	uint64_t lost_recs = s->stats.records - s->stats.delivered_records;
	if (lost_msgs == 0)
		return 0;
	return fd_error_set(err, FD_ERUNTIME,
			    "sink '%s': %" PRIu64 " records in %" PRIu64 " messages not delivered "
			    "(first error: %s)%s%s",
			    sink->uri, lost_recs, lost_msgs,
			    s->first_error[0] ? s->first_error : "no delivery report",
			    s->last_broker_error[0] ? "; last broker error: " : "",
			    s->last_broker_error);
}

static void kafka_destroy(struct fd_sink *sink)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	/* Here rather than in close, so that the run's summary is printed
	 * (between close and destroy) before the wait. */
	if (s->close_called)
		embedded_linger(s);
	if (s->rk) {
		/* Not closed: drop what is queued instead of waiting for it. */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
					      RD_KAFKA_PURGE_F_NON_BLOCKING);
		rd_kafka_poll(s->rk, 0);
		rd_kafka_destroy(s->rk);
	}
	if (s->mock)
		rd_kafka_mock_cluster_destroy(s->mock);
	if (s->mock_rk)
		rd_kafka_destroy(s->mock_rk);
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		free(s->pend[i].v);
		free(s->pend[i].arena);
		free(s->topic[i]);
	}
	fd_otlp_batch_destroy(s->batch);
	fd_pb_arena_free(&s->scratch);
	pbw_finish(&s->pb);
	free(s->res_key);
	free(s->res_key_set);
	free(s->bootstrap);
	fd_kafka_props_finish(&s->props);
	free(s);
}

static void kafka_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	snprintf(buf, n, "%" PRIu64 " messages, %.1f MB, %" PRIu64 " delivered, %" PRIu64 " failed",
		 s->stats.messages, (double)s->stats.bytes / 1e6, s->stats.delivered,
		 s->stats.failed);
}

static const struct fd_sink_impl kafka_impl = {
	.name = "kafka",
	.write = kafka_write,
	.flush = kafka_flush,
	.close = kafka_close,
	.destroy = kafka_destroy,
	.report = kafka_report,
};

void fd_sink_kafka_stats(const struct fd_sink *sink, struct fd_kafka_stats *out)
{
	if (sink && sink->impl == &kafka_impl)
		*out = ((const struct kafka_sink *)sink)->stats;
	else
		*out = (struct fd_kafka_stats){0};
}

const char *fd_sink_kafka_embedded_address(const struct fd_sink *sink)
{
	if (!sink || sink->impl != &kafka_impl)
		return NULL;
	return ((const struct kafka_sink *)sink)->bootstrap;
}

/* The brokers part: "host:port[,host:port]", nothing librdkafka would take
 * as something else. */
static int check_brokers(const char *uri, const char *b, size_t n, struct fd_error *err)
{
	if (n == 0)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': kafka: needs brokers, e.g. kafka://localhost:9092 or "
				    "kafka://embedded",
				    uri);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c <= ' ' || c == '/' || c == '@' || c == 0x7f)
			return fd_error_set(err, FD_EINPUT,
					    "sink '%s': kafka: broker list '%.*s': unexpected '%c'", uri,
					    (int)n, b, c > ' ' ? c : '?');
		if (c == ',' && (i == 0 || i + 1 == n || b[i + 1] == ','))
			return fd_error_set(err, FD_EINPUT,
					    "sink '%s': kafka: broker list '%.*s' has an empty entry",
					    uri, (int)n, b);
	}
	return 0;
}

static int kafka_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	if (strncmp(rest, "//", 2) != 0)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': expected kafka://HOST:PORT[,HOST:PORT] or "
				    "kafka://embedded",
				    uri);
	const char *brokers = rest + 2;
	const char *q = strchr(brokers, '?');
	size_t bn = q ? (size_t)(q - brokers) : strlen(brokers);
	bool embedded = bn == 8 && strncmp(brokers, "embedded", 8) == 0;
	int rc = embedded ? 0 : check_brokers(uri, brokers, bn, err);
	if (rc < 0)
		return rc; /* err may be NULL */

	struct kafka_sink *s = calloc(1, sizeof(*s));
	rd_kafka_conf_t *conf = NULL;
	char num[32];
	struct option_ctx c = {s, NULL, uri, embedded};
	if (!s || fd_sink_init(&s->base, &kafka_impl, uri) < 0) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->format = F_OTLP_PROTO;
	fd_pb_arena_init(&s->scratch);
	s->batch_bytes = DEFAULT_BATCH_BYTES;
	s->batch_records = DEFAULT_BATCH_RECORDS;
	s->batch_window = DEFAULT_BATCH_WINDOW;
	s->partitions = DEFAULT_PARTITIONS;
	s->notice = ctx->notice;
	s->notice_ctx = ctx->notice_ctx;
	s->linger_ns = embedded ? ctx->linger_ns : 0;
	s->delivery_timeout_ns = DEFAULT_DELIVERY_TIMEOUT_NS;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		if (!(s->topic[i] = strdup(default_topics[i]))) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			goto fail;
		}
	if (!(s->batch = fd_otlp_batch_create()) || !(conf = fd_kafka_conf_new(NULL))) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	/* The mock's retention counts stored (compressed) bytes, and OTLP
	 * compresses about tenfold: zstd lets a consumer attaching after the
	 * replay read ten times more. compression= and -X still override. */
	if (embedded && (rc = fd_kafka_conf_set(conf, "compression.codec", "zstd", err)) < 0)
		goto fail;
	{
		bool seen[N_OPTIONS] = {false};
		c.conf = conf;
		if ((rc = fd_sink_options(uri, q ? q + 1 : NULL, option_names, N_OPTIONS, seen, NULL,
					  on_option, &c, ctx, err)) < 0)
			goto fail;
	}

	/* Our defaults first, so that -X can override any of them. */
	int64_t timeout_ms = s->delivery_timeout_ns / 1000000;
	if (timeout_ms < 1)
		timeout_ms = 1;
	if (timeout_ms > INT32_MAX)
		timeout_ms = INT32_MAX;
	snprintf(num, sizeof(num), "%" PRId64, timeout_ms);
	if ((rc = fd_kafka_conf_set(conf, "enable.idempotence", "true", err)) < 0 ||
	    (rc = fd_kafka_conf_set(conf, "acks", "all", err)) < 0 ||
	    (rc = fd_kafka_conf_set(conf, "message.timeout.ms", num, err)) < 0)
		goto fail;
	/* A message may be batch_bytes plus its key and record overhead; a
	 * larger single record fails on its own (counted undelivered). */
	snprintf(num, sizeof(num), "%zu",
		 s->batch_bytes + 1024 > 1000000 ? s->batch_bytes + 1024 : (size_t)1000000);
	if ((rc = fd_kafka_conf_set(conf, "message.max.bytes", num, err)) < 0)
		goto fail;
	/* The mock keeps 5 MiB per partition: spreading unkeyed messages over
	 * every partition (instead of librdkafka's sticky batches) keeps the
	 * most for a consumer attaching after the replay. */
	if (embedded && (rc = fd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", err)) < 0)
		goto fail;
	if (!embedded) {
		char *b = strndup(brokers, bn);
		if (!b) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			goto fail;
		}
		rc = fd_kafka_conf_set(conf, "bootstrap.servers", b, err);
		free(b);
		if (rc < 0)
			goto fail;
	}
	char what[600];
	snprintf(what, sizeof(what), "sink '%s'", uri);
	if ((rc = fd_kafka_conf_apply(conf, what, &s->props, err)) < 0)
		goto fail;
	/* close waits message.timeout.ms (as finally configured) plus a margin
	 * for the expiry scan and the last delivery reports */
	size_t vlen = sizeof(num);
	long long mt = timeout_ms;
	if (rd_kafka_conf_get(conf, "message.timeout.ms", num, &vlen) == RD_KAFKA_CONF_OK)
		mt = strtoll(num, NULL, 10);
	s->flush_ms = mt > INT32_MAX - 5000 ? INT32_MAX : (int)mt + 5000;

	if (embedded) {
		if ((rc = embedded_start(s, err)) < 0)
			goto fail;
		if ((rc = fd_kafka_conf_set(conf, "bootstrap.servers", s->bootstrap, err)) < 0)
			goto fail;
	}
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	/* fd_kafka_new owns conf once it succeeds; on failure it is still ours */
	if (!(s->rk = fd_kafka_new(RD_KAFKA_PRODUCER, conf, what, &s->props, err))) {
		rc = -FD_EINPUT;
		goto fail;
	}
	*out = &s->base;
	return 0;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	fd_sink_destroy(&s->base);
	return rc;
}

const struct fd_sink_descriptor fd_sink_kafka_descriptor = {
	.scheme = "kafka",
	.synopsis = "kafka://HOST:PORT[,HOST:PORT...][?options], kafka://embedded[?options]",
	.summary = "Kafka messages, as the collector's Kafka exporter writes them",
	.options = option_names,
	.help = "      kafka://embedded runs an in-process broker (librdkafka's mock\n"
		"      cluster); it keeps only the newest 5 MiB of each partition, so a\n"
		"      consumer that attaches late sees the end of a long replay only: give\n"
		"      it more partitions (partitions=N, default 12); a warning says when\n"
		"      messages were already dropped.\n"
		"      format=otlp_proto|otlp_json|ecs   message encoding (otlp_proto)\n"
		"      topic_traces= topic_metrics= topic_logs=\n"
		"                 topics (otlp_spans, otlp_metrics, otlp_logs)\n"
		"      partition=trace_id|resource|trace_id,resource\n"
		"                 key spans by trace id, metrics and logs by resource\n"
		"                 (default: no key, as the collector)\n"
		"      batch_bytes=N (1000000), batch_records=N (1000), batch_window=D (1s):\n"
		"                 the largest message, records and record time per message\n"
		"      timestamp=produce|record   Kafka message timestamp (produce)\n"
		"      compression=none|gzip|snappy|lz4|zstd\n"
		"      delivery_timeout=D   wait at most D for deliveries (30s)\n"
		"      X.KEY=VALUE  librdkafka property KEY; defaults acks=all and the\n"
		"                 idempotent producer; secret values are never shown\n",
	.open = kafka_open,
};
