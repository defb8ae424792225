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
 *     resource attributes sorted by key (ours: sinks/kafka_keys.h).
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
 *   delivery_timeout=D   how long close waits for deliveries (default 30s;
 *                     --delivery-timeout is this option).
 *   inflight_bytes=N  the most message bytes handed to librdkafka and not
 *                     yet reported delivered or failed (default 16MiB):
 *                     back-pressure, see "Producer discipline".
 *   X.KEY=VALUE       librdkafka property KEY (-X KEY=VALUE is this
 *                     option): applied after our defaults, so it overrides
 *                     them; secret values never appear in messages
 *                     (kafka/conf.h).
 *
 * Batching: sinks/batcher.h, the policy dir: uses, with the message key:
 * keyed records go in messages of one key each. Keys: sinks/kafka_keys.h.
 *
 * Producer discipline (kcat's): rd_kafka_producev; on __QUEUE_FULL poll and
 * retry, never drop; poll(0) after each send; the delivery-report callback
 * counts messages and records delivered and failed; close flushes within the
 * delivery timeout and fails with the exact count of undelivered records.
 * Idempotence is on and acks=all, so broker retries neither lose nor
 * duplicate messages.
 *
 * Back-pressure (issue 20): a replay at --speed max reads far faster than a
 * broker takes messages, and librdkafka's own queue limit (1 GiB by
 * default) held whole recordings: memory grew with the file, and since
 * message.timeout.ms counts from produce(), the tail of a long queue timed
 * out before it was ever sent (a 2 h replay into 50 partitions of a loaded
 * machine: every message failed). So before handing a message over, the
 * sink serves delivery reports until the bytes it has handed over and not
 * heard back about, plus this message, fit in inflight_bytes. A message
 * larger than the cap goes alone once nothing else is held. The wait ends:
 * every message is reported, delivered or failed, within
 * message.timeout.ms.
 *
 * Threads: librdkafka's delivery reports and error callbacks are served by
 * rd_kafka_poll / rd_kafka_flush, which only this sink calls, from the
 * caller's thread; so the counters need no locks. Logging goes to a no-op
 * callback (modules never print); errors surface through close.
 *
 * kafka://embedded (sinks/kafka_embedded.h): an in-process broker,
 * announced through ctx->notice, living until destroy (so after close a CLI
 * may still show it); destroy (after a close) keeps it up for
 * ctx->linger_ns first. close warns when it already dropped messages.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "common/suggest.h"
#include "common/units.h"
#include "kafka/conf.h"
#include "otlp/batch.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "sinks/batcher.h"
#include "sinks/ecs.h"
#include "sinks/kafka.h"
#include "sinks/kafka_embedded.h"
#include "sinks/kafka_keys.h"
#include "sinks/options.h"
#include "sinks/registry.h"

enum format { F_OTLP_PROTO, F_OTLP_JSON, F_ECS };
static const char *const format_names[] = {"otlp_proto", "otlp_json", "ecs"};

#define DEFAULT_BATCH_BYTES 1000000
#define DEFAULT_BATCH_RECORDS 1000
#define DEFAULT_BATCH_WINDOW 1000000000LL
#define DEFAULT_PARTITIONS 12
#define DEFAULT_DELIVERY_TIMEOUT_NS 30000000000LL
#define DEFAULT_INFLIGHT_BYTES (16 << 20)

static const char *const default_topics[FD_SIGNAL_COUNT] = {"otlp_spans", "otlp_metrics",
							    "otlp_logs"};

struct kafka_sink {
	struct fd_sink base; /* first: the interface casts between them */
	enum format format;
	unsigned partition; /* FD_KAFKA_KEY_* bits */
	bool ts_record;
	size_t batch_bytes, batch_records;
	int64_t batch_window;
	int64_t inflight_max; /* inflight_bytes= */
	int partitions;
	char *topic[FD_SIGNAL_COUNT];

	rd_kafka_t *rk;
	struct fd_kafka_embedded *embedded; /* kafka://embedded */
	int64_t delivery_timeout_ns, linger_ns;
	bool close_called; /* destroy lingers only after a close */
	bool warmed_up;    /* topics' metadata asked for, before the first message */
	int flush_ms; /* how long close waits for delivery reports */

	struct fd_batcher *batcher;
	struct fd_kafka_keys *keys;
	struct pbw pb;
	struct fd_ecs *ecs; /* format=ecs, made at the first record */

	struct fd_kafka_props props; /* X.KEY=VALUE; kept to redact librdkafka's texts */

	struct fd_kafka_stats stats;
	uint64_t skipped[FD_SIGNAL_COUNT];
	char first_error[512];
	char last_broker_error[512];

	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

static const struct fd_sink_impl kafka_impl;

#define notice(s, ...) fd_sink_notice((s)->notice, (s)->notice_ctx, __VA_ARGS__)

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
	fd_sink_live_add(&s->base.live.inflight_bytes, -(int64_t)m->len);
	if (m->err) {
		atomic_fetch_add_explicit(&s->base.live.errors, 1, memory_order_relaxed);
		s->stats.failed++;
		s->stats.failed_records += records;
		if (!s->first_error[0])
			snprintf(s->first_error, sizeof(s->first_error), "%s [%" PRId32 "]: %s",
				 m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition,
				 rd_kafka_err2str(m->err));
	} else {
		s->stats.delivered++;
		s->stats.delivered_records += records;
		/* produce() to acknowledgement, measured by librdkafka (µs) */
		int64_t us = rd_kafka_message_latency(m);
		if (us >= 0)
			fd_sink_live_send(&s->base, us * 1000);
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

/* librdkafka's statistics JSON: the Produce retries of every broker. A
 * broker that goes away takes its count with it, so the total never goes
 * back (a Prometheus counter must not). */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	(void)rk;
	struct kafka_sink *s = opaque;
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
	const char *name;
	json_t *b;
	uint64_t sum = 0;
	json_object_foreach(brokers, name, b) {
		json_int_t n = json_integer_value(json_object_get(b, "txretries"));
		if (n > 0)
			sum += (uint64_t)n;
	}
	json_decref(root);
	if (sum > atomic_load_explicit(&s->base.live.retries, memory_order_relaxed))
		atomic_store_explicit(&s->base.live.retries, sum, memory_order_relaxed);
	return 0; /* librdkafka frees json */
}

/* ---- options ---- */

static const char *const option_names[] = {
	"format",      "topic_traces",	   "topic_metrics", "topic_logs", "batch_bytes",
	"batch_records", "batch_window",   "partition",	    "timestamp",  "partitions",
	"compression", "delivery_timeout", "inflight_bytes", "X.*", NULL,
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
			s->partition |= FD_KAFKA_KEY_TRACE_ID;
		else if (strcmp(p, "resource") == 0)
			s->partition |= FD_KAFKA_KEY_RESOURCE;
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
	} else if (strcmp(key, "inflight_bytes") == 0) {
		if (fd_units_size(val, &s->inflight_max, &why) < 0)
			return bad_value(uri, key, val, why, err);
		if (s->inflight_max < 1)
			return bad_value(uri, key, val, "must be at least 1 byte", err);
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
	/* Back-pressure (top of file): the delivery reports served here
	 * lower inflight_bytes (on_delivery). */
	for (;;) {
		int64_t held = atomic_load_explicit(&s->base.live.inflight_bytes,
						    memory_order_relaxed);
		if (held <= 0 || held + (int64_t)len <= s->inflight_max)
			break;
		rd_kafka_poll(s->rk, 100);
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
		fd_sink_live_add(&s->base.live.inflight_bytes, (int64_t)len);
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
	atomic_fetch_add_explicit(&s->base.live.errors, 1, memory_order_relaxed);
	s->stats.failed++;
	s->stats.failed_records += records;
	if (!s->first_error[0])
		snprintf(s->first_error, sizeof(s->first_error), "%s: message of %zu bytes: %s",
			 s->topic[sig], len, rd_kafka_err2str(e));
	return 0;
}

/* One request of the batcher (sinks/batcher.h) as one message. In
 * otlp_json a request can come out larger than batch_bytes although its
 * protobuf fits: the batcher then sends it again in halves (a single
 * record goes as it is). */
static int emit(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b, const uint8_t *key,
		size_t keylen, struct fd_error *err)
{
	struct kafka_sink *s = ctx;
	/* exact size known: one allocation, no regrowth while encoding */
	pbw_reset(&s->pb);
	if (!pbw_room(&s->pb, fd_otlp_batch_size(b)) || fd_otlp_batch_encode(b, &s->pb) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	uint8_t *buf;
	size_t len;
	if (s->format == F_OTLP_PROTO) {
		/* The encoded request goes to librdkafka as it is; the pbw
		 * starts a new buffer for the next one. */
		buf = s->pb.buf;
		len = s->pb.len;
		s->pb = (struct pbw){0};
	} else {
		/* Encoded straight into the message's own buffer, sized for
		 * the usual JSON/protobuf ratio (about 2.2): no memstream, no
		 * copy (its regrowth and the copy were a third of the time). */
		struct pbw j = {0};
		if (!pbw_room(&j, s->pb.len / 2 * 5 + 64))
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		int rc = fd_otlp_json_encode(sig, s->pb.buf, s->pb.len, &j, err);
		if (rc < 0) {
			pbw_finish(&j);
			return fd_error_prefix(err, "sink '%s'", s->base.uri);
		}
		if (j.len > s->batch_bytes && fd_otlp_batch_count(b) > 1) {
			pbw_finish(&j);
			return FD_BATCHER_SPLIT;
		}
		buf = j.buf;
		len = j.len;
	}
	return produce(s, sig, buf, len, key, keylen, fd_otlp_batch_first_time(b),
		       fd_otlp_batch_count(b), err);
}

static int write_ecs(struct kafka_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	uint8_t key[16];
	uint8_t keylen;
	int rc = fd_kafka_keys_of(s->keys, rec, key, &keylen, err);
	if (rc < 0)
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	/* One encoder for the sink's life: it keeps what each resource and
	 * scope contributes to a document (sinks/ecs.h). */
	if (!s->ecs && !(s->ecs = fd_ecs_create()))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct pbw d = {0};
	rc = fd_ecs_encode(s->ecs, rec, &d, err);
	if (rc < 0) {
		pbw_finish(&d);
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	}
	return produce(s, rec->signal, d.buf, d.len, key, keylen, rec->time_ns, 1, err);
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
	uint8_t key[16];
	uint8_t keylen;
	int rc = fd_kafka_keys_of(s->keys, rec, key, &keylen, err);
	if (rc < 0)
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	return fd_batcher_add(s->batcher, rec, key, keylen, err);
}

static int kafka_flush(struct fd_sink *sink, struct fd_error *err)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	int rc = fd_batcher_flush(s->batcher, err);
	rd_kafka_poll(s->rk, 0);
	return rc;
}

static int kafka_close(struct fd_sink *sink, struct fd_error *err)
{
	struct kafka_sink *s = (struct kafka_sink *)sink;
	int rc = fd_batcher_flush(s->batcher, err);
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
	if (s->embedded)
		fd_kafka_embedded_retention(s->embedded, s->rk);
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
	if (s->close_called && s->embedded)
		fd_kafka_embedded_linger(s->embedded, s->linger_ns);
	if (s->rk) {
		/* Not closed: drop what is queued instead of waiting for it. */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
					      RD_KAFKA_PURGE_F_NON_BLOCKING);
		rd_kafka_poll(s->rk, 0);
		rd_kafka_destroy(s->rk);
	}
	fd_kafka_embedded_destroy(s->embedded);
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		free(s->topic[i]);
	fd_batcher_destroy(s->batcher);
	fd_kafka_keys_destroy(s->keys);
	fd_ecs_destroy(s->ecs);
	pbw_finish(&s->pb);
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
	const struct kafka_sink *s = (const struct kafka_sink *)sink;
	return s->embedded ? fd_kafka_embedded_address(s->embedded) : NULL;
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
	char what[600];
	snprintf(what, sizeof(what), "sink '%s'", uri);
	int rc = embedded ? 0 : fd_kafka_brokers_check(what, brokers, bn, err);
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
	s->batch_bytes = DEFAULT_BATCH_BYTES;
	s->batch_records = DEFAULT_BATCH_RECORDS;
	s->batch_window = DEFAULT_BATCH_WINDOW;
	s->partitions = DEFAULT_PARTITIONS;
	s->notice = ctx->notice;
	s->notice_ctx = ctx->notice_ctx;
	s->linger_ns = embedded ? ctx->linger_ns : 0;
	s->delivery_timeout_ns = DEFAULT_DELIVERY_TIMEOUT_NS;
	s->inflight_max = DEFAULT_INFLIGHT_BYTES;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		if (!(s->topic[i] = strdup(default_topics[i]))) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			goto fail;
		}
	if (!(conf = fd_kafka_conf_new(NULL))) {
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
	/* live statistics: librdkafka's own, once a second, for the retries */
	if (ctx->live_stats) {
		if ((rc = fd_kafka_conf_set(conf, "statistics.interval.ms", "1000", err)) < 0)
			goto fail;
		rd_kafka_conf_set_stats_cb(conf, on_stats);
	}
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
	if ((rc = fd_kafka_conf_apply(conf, what, &s->props, err)) < 0)
		goto fail;
	/* close waits message.timeout.ms (as finally configured) plus a margin
	 * for the expiry scan and the last delivery reports */
	size_t vlen = sizeof(num);
	long long mt = timeout_ms;
	if (rd_kafka_conf_get(conf, "message.timeout.ms", num, &vlen) == RD_KAFKA_CONF_OK)
		mt = strtoll(num, NULL, 10);
	s->flush_ms = mt > INT32_MAX - 5000 ? INT32_MAX : (int)mt + 5000;

	struct fd_batcher_limits limits = {s->batch_records, s->batch_bytes, s->batch_window};
	if (!(s->batcher = fd_batcher_create(&limits, emit, s)) ||
	    !(s->keys = fd_kafka_keys_create(s->partition))) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	fd_batcher_publish(s->batcher, &s->base.live.queued_bytes);
	if (embedded) {
		if ((rc = fd_kafka_embedded_start((const char *const *)s->topic, FD_SIGNAL_COUNT,
						  s->partitions, s->notice, s->notice_ctx,
						  &s->embedded, err)) < 0)
			goto fail;
		if ((rc = fd_kafka_conf_set(conf, "bootstrap.servers",
					    fd_kafka_embedded_address(s->embedded), err)) < 0)
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
		"      inflight_bytes=N   hand librdkafka at most N bytes of messages not\n"
		"                 yet delivered (16MiB): memory stays flat in the\n"
		"                 recording's size, and messages wait here, not in a\n"
		"                 queue where message.timeout.ms runs\n"
		"      X.KEY=VALUE  librdkafka property KEY; defaults acks=all and the\n"
		"                 idempotent producer; secret values are never shown\n",
	.open = kafka_open,
};
