/*
 * otlp-http://HOST:PORT[/PREFIX][?options] and otlp-https://, and
 * otlp-grpc://HOST:PORT and otlp-grpcs:// (below): the record stream
 * exported over OTLP/HTTP (opentelemetry-proto
 * docs/specification.md, "OTLP/HTTP"), as an SDK or the collector's
 * otlphttp exporter does: a POST of one Export{Trace,Metrics,Logs}
 * ServiceRequest to PREFIX/v1/traces, /v1/metrics or /v1/logs.
 *
 * Options (besides the connection options of sinks/http.h):
 *   encoding=proto|json  Content-Type application/x-protobuf (the default)
 *                    or application/json (OTLP/JSON, otlp/json.h).
 *   compression=gzip|none  Content-Encoding of the body (default gzip, as
 *                    the collector's exporter).
 *   batch_records= batch_bytes= batch_window=  as the Kafka sink: a request
 *                    holds at most batch_records records (1000), at most
 *                    batch_bytes bytes before compression in the encoding
 *                    sent (1000000; a single larger record goes alone), and
 *                    records at most batch_window apart in record time (1s).
 *
 * Answers (the specification's "Failures" and "Throttling"): 2xx is
 * accepted, and its body, an Export*ServiceResponse in the request's
 * encoding, may carry a partial success: so many spans, data points or log
 * records rejected, with a message; they are counted as rejected. 429, 502,
 * 503, 504 and connection failures are retried by the pool (sinks/http.h),
 * honouring Retry-After. Any other answer is final: the request's records
 * are counted as failed, and the export goes on, except for 401 and 403,
 * which every later request would get too: they stop the stream.
 *
 * Accounting: every record written is, at close, in one of accepted,
 * rejected (partial success: spans and log records by count; for metrics
 * the receiver counts data points, reported as such) or failed (a final
 * error, given up after retries, or never sent). close fails when any
 * record was not accepted, with the counts and the first reason of each
 * kind: a run that lost data exits with status 1.
 *
 * OTLP/gRPC: the same requests as unary calls of the collector services'
 * Export (/opentelemetry.proto.collector.trace.v1.TraceService/Export...),
 * framed as gRPC over HTTP/2 says (a byte for compression, 4 bytes of
 * length, the message; Content-Type application/grpc, TE: trailers;
 * grpc-encoding gzip for compression=gzip). libcurl speaks the HTTP/2
 * (nghttp2 underneath: prior knowledge over otlp-grpc://, ALPN over
 * otlp-grpcs://), multiplexing up to `concurrency` calls on one
 * connection, and the shared pool does the rest; header= entries go as
 * metadata. Why not gRPC's C core (Debian's libgrpc-dev): its API is the
 * one the language bindings wrap, not one for applications, and it would
 * bring a second I/O stack, retry and TLS configuration beside the
 * libcurl one the other push sinks share; the gRPC wire protocol for a
 * unary call is small enough to speak directly. The status comes in the
 * grpc-status trailer: the OTLP specification's retryable codes
 * (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE,
 * DATA_LOSS) are retried, RESOURCE_EXHAUSTED only when the status details
 * carry a google.rpc.RetryInfo, whose delay is then honoured;
 * UNAUTHENTICATED and PERMISSION_DENIED stop the stream like 401 and 403;
 * other codes are final. A partial success comes in the response message.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/batch.h"
#include "otlp/json.h"
#include "otlp/pbwrite.h"
#include "sinks/batcher.h"
#include "sinks/http_sink.h"
#include "sinks/options.h"
#include "sinks/registry.h"

#define DEFAULT_BATCH_RECORDS 1000
#define DEFAULT_BATCH_BYTES 1000000
#define DEFAULT_BATCH_WINDOW 1000000000LL
#define MAX_ANSWER 65536 /* an answer's body kept for partial success */

static const char *const signal_path[FD_SIGNAL_COUNT] = {"/v1/traces", "/v1/metrics", "/v1/logs"};
static const char *const grpc_path[FD_SIGNAL_COUNT] = {
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};
/* what a partial success counts, per signal */
static const char *const rejected_unit[FD_SIGNAL_COUNT] = {"spans", "data points",
							   "log records"};

struct counts {
	uint64_t records;  /* handed to the pool */
	uint64_t accepted; /* in requests answered 2xx (rejections not subtracted) */
	uint64_t rejected; /* in the receiver's unit: spans, data points, log records */
	uint64_t failed;
};

struct otlp_http_sink {
	struct fd_http_sink hs; /* first: the interface casts between them */
	bool grpc, json, gzip;
	struct fd_batcher_limits batch;
	char *url[FD_SIGNAL_COUNT];

	struct fd_batcher *batcher;
	struct pbw pb; /* a request's protobuf */
	uint64_t body_bytes; /* encoded, before compression */

	/* Written by done() on the pool's thread under its lock; read after
	 * fd_http_pool_drain. */
	struct counts count[FD_SIGNAL_COUNT];
	uint64_t answered, failed_requests;
	char first_rejection[512], first_failure[700];
};

/* ---- answers ---- */

static uint64_t tag_of(size_t records, enum fd_signal sig)
{
	return (uint64_t)records << 2 | (uint64_t)sig;
}

/* The partial success in a 2xx answer's body: rejected count and message.
 * An empty body, or one that is not a response, counts as full success
 * (the specification: a client must accept an empty response). */
static void partial_success(const struct otlp_http_sink *s, enum fd_signal sig,
			    const struct fd_http_outcome *o, int64_t *rejected, char *msg,
			    size_t n)
{
	*rejected = 0;
	msg[0] = '\0';
	struct fd_http_outcome un = *o;
	if (s->grpc) {
		/* one length-prefixed message; a compressed one (flag 1) only
		 * when we had asked for it, which we do not */
		if (o->body_len < 5 || o->body[0] != 0)
			return;
		const uint8_t *b = (const uint8_t *)o->body;
		size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
		if (len > o->body_len - 5)
			return;
		un.body = o->body + 5;
		un.body_len = len;
		o = &un;
	}
	if (o->body_len == 0)
		return;
	if (s->json) {
		static const char *const keys[FD_SIGNAL_COUNT] = {"rejectedSpans", "rejectedDataPoints",
								  "rejectedLogRecords"};
		json_t *root = json_loadb(o->body, o->body_len, 0, NULL);
		json_t *ps = root ? json_object_get(root, "partialSuccess") : NULL;
		json_t *r = ps ? json_object_get(ps, keys[sig]) : NULL;
		json_t *m = ps ? json_object_get(ps, "errorMessage") : NULL;
		if (json_is_integer(r))
			*rejected = json_integer_value(r);
		else if (json_is_string(r))
			*rejected = strtoll(json_string_value(r), NULL, 10); /* int64 as a string */
		if (json_is_string(m))
			snprintf(msg, n, "%s", json_string_value(m));
		json_decref(root);
		return;
	}
	const uint8_t *b = (const uint8_t *)o->body;
	if (sig == FD_SIGNAL_TRACES) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
			opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
				NULL, o->body_len, b);
		if (r && r->partial_success) {
			*rejected = r->partial_success->rejected_spans;
			snprintf(msg, n, "%s", r->partial_success->error_message);
		}
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
	} else if (sig == FD_SIGNAL_METRICS) {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
				NULL, o->body_len, b);
		if (r && r->partial_success) {
			*rejected = r->partial_success->rejected_data_points;
			snprintf(msg, n, "%s", r->partial_success->error_message);
		}
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
	} else {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
			opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
				NULL, o->body_len, b);
		if (r && r->partial_success) {
			*rejected = r->partial_success->rejected_log_records;
			snprintf(msg, n, "%s", r->partial_success->error_message);
		}
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
	}
}

static int on_done(void *ctx, uint64_t tag, const struct fd_http_outcome *o, struct fd_error *err)
{
	struct otlp_http_sink *s = ctx;
	enum fd_signal sig = (enum fd_signal)(tag & 3);
	uint64_t records = tag >> 2;
	struct counts *c = &s->count[sig];
	if (o->why) {
		c->failed += records;
		s->failed_requests++;
		if (!s->first_failure[0])
			snprintf(s->first_failure, sizeof(s->first_failure), "%s: %s", s->url[sig],
				 o->why);
		/* gRPC: 16 UNAUTHENTICATED, 7 PERMISSION_DENIED */
		if (!o->cancelled && (o->status == 401 || o->status == 403 || o->grpc_status == 16 ||
				      o->grpc_status == 7))
			return fd_error_set(err, FD_ERUNTIME,
					    "sink '%s': %s refused the export: %s (stopped: every "
					    "request would be refused; check header= or user=/password=)",
					    s->hs.base.uri, s->url[sig], o->why);
		return 0;
	}
	s->answered++;
	c->accepted += records;
	int64_t rejected;
	char msg[400];
	partial_success(s, sig, o, &rejected, msg, sizeof(msg));
	if (rejected > 0) {
		c->rejected += (uint64_t)rejected;
		if (!s->first_rejection[0])
			snprintf(s->first_rejection, sizeof(s->first_rejection), "%" PRId64 " %s: %s",
				 rejected, rejected_unit[sig], msg[0] ? msg : "(no message)");
	}
	return 0;
}

/* ---- sending ---- */

/* ---- gRPC ---- */

/* The gRPC status codes the OTLP specification retries. */
static bool grpc_retryable(int code)
{
	return code == 1 || code == 4 || code == 10 || code == 11 || code == 14 || code == 15;
}

/* The RetryInfo delay among a google.rpc.Status's details; -1 when none. */
static int64_t retry_info(const uint8_t *details, size_t len)
{
	int64_t delay = -1;
	Google__Rpc__Status *st = len ? google__rpc__status__unpack(NULL, len, details) : NULL;
	for (size_t i = 0; st && i < st->n_details && delay < 0; i++) {
		const char *t = st->details[i]->type_url;
		size_t tl = t ? strlen(t) : 0;
		if (tl < 20 || strcmp(t + tl - 20, "google.rpc.RetryInfo") != 0)
			continue;
		Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(
			NULL, st->details[i]->value.len, st->details[i]->value.data);
		if (ri && ri->retry_delay && ri->retry_delay->seconds >= 0 &&
		    ri->retry_delay->seconds < 86400)
			delay = ri->retry_delay->seconds * 1000000000LL + ri->retry_delay->nanos;
		if (ri)
			google__rpc__retry_info__free_unpacked(ri, NULL);
	}
	if (st)
		google__rpc__status__free_unpacked(st, NULL);
	return delay;
}

static enum fd_http_verdict grpc_classify(const struct fd_http_answer *a, int64_t *delay_ns,
					  char *why, size_t n)
{
	if (a->status != 200) {
		/* not from a gRPC server's handler: a proxy, or no such service */
		size_t k = strcspn(a->body, "\r\n");
		snprintf(why, n, "HTTP %ld: %.*s", a->status, (int)(k > 300 ? 300 : k), a->body);
		return a->status == 429 || a->status == 502 || a->status == 503 || a->status == 504
			       ? FD_HTTP_RETRY
			       : FD_HTTP_REFUSED;
	}
	if (a->grpc_status == 0)
		return FD_HTTP_ACCEPTED;
	if (a->grpc_status < 0) {
		snprintf(why, n, "no grpc-status in the answer (not a gRPC server?)");
		return FD_HTTP_REFUSED;
	}
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};
	int c = a->grpc_status;
	snprintf(why, n, "gRPC %s: %.400s", c < 17 ? names[c] : "status", a->grpc_message);
	int64_t delay = retry_info(a->grpc_details, a->grpc_details_len);
	if (grpc_retryable(c) || (c == 8 && delay >= 0)) {
		*delay_ns = delay;
		return FD_HTTP_RETRY;
	}
	return FD_HTTP_REFUSED;
}

/* One unary call: the message behind gRPC's 5-byte prefix. */
static int send_grpc(struct otlp_http_sink *s, enum fd_signal sig, uint8_t *msg, size_t len,
		     size_t records, struct fd_error *err)
{
	uint8_t flag = 0;
	if (s->gzip) {
		uint8_t *z;
		size_t zlen;
		int rc = fd_http_gzip(msg, len, &z, &zlen);
		free(msg);
		if (rc < 0)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		msg = z;
		len = zlen;
		flag = 1;
	}
	uint8_t *body = len <= UINT32_MAX ? malloc(len + 5) : NULL;
	if (!body) {
		free(msg);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	body[0] = flag;
	body[1] = (uint8_t)(len >> 24);
	body[2] = (uint8_t)(len >> 16);
	body[3] = (uint8_t)(len >> 8);
	body[4] = (uint8_t)len;
	memcpy(body + 5, msg, len);
	free(msg);
	int rc = fd_http_pool_submit(s->hs.pool, s->url[sig], s->hs.headers, body, len + 5,
				     tag_of(records, sig), err);
	if (rc == 0)
		s->count[sig].records += records;
	return rc;
}

static int send_request(struct otlp_http_sink *s, enum fd_signal sig, uint8_t *body, size_t len,
			size_t records, struct fd_error *err)
{
	s->body_bytes += len;
	if (s->grpc)
		return send_grpc(s, sig, body, len, records, err);
	if (s->gzip) {
		uint8_t *z;
		size_t zlen;
		int rc = fd_http_gzip(body, len, &z, &zlen);
		free(body);
		if (rc < 0)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		body = z;
		len = zlen;
	}
	int rc = fd_http_pool_submit(s->hs.pool, s->url[sig], s->hs.headers, body, len,
				     tag_of(records, sig), err);
	if (rc == 0)
		s->count[sig].records += records;
	return rc;
}

/* One request of the batcher (sinks/batcher.h) in the encoding sent. The
 * batcher counts protobuf bytes; a JSON request over batch_bytes goes
 * again in halves. */
static int emit_request(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b,
			const uint8_t *key, size_t keylen, struct fd_error *err)
{
	(void)key;
	(void)keylen;
	struct otlp_http_sink *s = ctx;
	size_t n = fd_otlp_batch_count(b);
	/* the exact size is known: one allocation, no regrowth while encoding */
	pbw_reset(&s->pb);
	if (!pbw_room(&s->pb, fd_otlp_batch_size(b)) || fd_otlp_batch_encode(b, &s->pb) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (!s->json) {
		/* the buffer goes to the pool as it is; the pbw starts a new one */
		struct pbw body = s->pb;
		s->pb = (struct pbw){0};
		return send_request(s, sig, body.buf, body.len, n, err);
	}
	struct pbw text = {0};
	int rc = fd_otlp_json_encode(sig, s->pb.buf, s->pb.len, &text, err);
	if (rc == 0 && text.oom)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0 && n > 1 && text.len > s->batch.bytes)
		rc = FD_BATCHER_SPLIT;
	if (rc != 0) {
		pbw_finish(&text);
		return rc == -FD_EINPUT ? fd_error_prefix(err, "sink '%s'", s->hs.base.uri) : rc;
	}
	return send_request(s, sig, text.buf, text.len, n, err);
}

static int oh_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct otlp_http_sink *s = (struct otlp_http_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	return fd_batcher_add(s->batcher, rec, NULL, 0, err);
}

static int oh_flush(struct fd_sink *sink, struct fd_error *err)
{
	return fd_batcher_flush(((struct otlp_http_sink *)sink)->batcher, err);
}

static struct counts sum(const struct otlp_http_sink *s)
{
	struct counts t = {0};
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		t.records += s->count[i].records;
		t.accepted += s->count[i].accepted;
		t.rejected += s->count[i].rejected;
		t.failed += s->count[i].failed;
	}
	return t;
}

static int oh_close(struct fd_sink *sink, struct fd_error *err)
{
	struct otlp_http_sink *s = (struct otlp_http_sink *)sink;
	int rc = fd_http_sink_drain(&s->hs, fd_batcher_flush(s->batcher, err), err);
	if (rc < 0)
		return rc;
	uint64_t written = 0;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		written += sink->stats.records[i];
	struct counts t = sum(s);
	if (!t.failed && !t.rejected)
		return 0;
	char rej[512] = "";
	if (t.rejected)
		snprintf(rej, sizeof(rej), "; rejected by the receiver (partial success): %" PRIu64
			 " spans, %" PRIu64 " data points, %" PRIu64 " log records (first: %.300s)",
			 s->count[0].rejected, s->count[1].rejected, s->count[2].rejected,
			 s->first_rejection);
	char fail[512] = "";
	if (t.failed)
		snprintf(fail, sizeof(fail), "; %" PRIu64 " records failed in %" PRIu64
			 " requests (first: %.400s)",
			 t.failed, s->failed_requests, s->first_failure);
	return fd_error_set(err, FD_ERUNTIME, "sink '%s': not every record was accepted: of %" PRIu64
			    " records, %" PRIu64 " in accepted requests%.400s%.400s",
			    sink->uri, written, t.accepted, rej, fail);
}

static void oh_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct otlp_http_sink *s = (struct otlp_http_sink *)sink;
	struct fd_http_pool_stats ps;
	fd_http_pool_stats(s->hs.pool, &ps);
	struct counts t = sum(s);
	snprintf(buf, n,
		 "%" PRIu64 " requests (%.1f MB encoded, %.1f MB sent), %" PRIu64 " records accepted, "
		 "%" PRIu64 " rejected%s, %" PRIu64 " failed, %" PRIu64 " retries",
		 ps.requests, (double)s->body_bytes / 1e6, (double)ps.bytes / 1e6,
		 t.accepted - s->count[0].rejected - s->count[2].rejected, t.rejected,
		 s->count[1].rejected ? " (metrics: data points)" : "", t.failed, ps.retries);
}

static void oh_destroy(struct fd_sink *sink)
{
	struct otlp_http_sink *s = (struct otlp_http_sink *)sink;
	fd_http_sink_stop(&s->hs); /* first: its callbacks use the rest */
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		free(s->url[i]);
	fd_batcher_destroy(s->batcher);
	pbw_finish(&s->pb);
	fd_http_sink_finish(&s->hs);
	free(s);
}

static const struct fd_sink_impl otlp_http_impl = {
	.name = "otlp-http",
	.write = oh_write,
	.flush = oh_flush,
	.close = oh_close,
	.destroy = oh_destroy,
	.report = oh_report,
};

/* ---- options ---- */

/* ours, then the connection options */
static const char *const all_options[] = {"encoding",	   "compression",  "batch_records",
					  "batch_bytes",   "batch_window", FD_HTTP_OPTION_NAMES,
					  NULL};
#define N_OWN 5

static int on_option(void *sink, const char *key, const char *val, struct fd_error *err)
{
	struct otlp_http_sink *s = sink;
	const char *uri = s->hs.base.uri;
	int rc = fd_batcher_option(&s->batch, uri, key, val, 1000000000, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!strcmp(key, "encoding")) {
		return fd_http_encoding_option(uri, val, &s->json, err);
	} else if (!strcmp(key, "compression")) {
		return fd_http_compression_option(uri, val, &s->gzip, err);
	}
	return 0;
}

static int open_sink(const char *uri, const char *rest, bool grpc, bool tls,
		     const struct fd_sink_context *ctx, struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	const struct fd_http_sink_kind kind = {
		grpc ? (tls ? "otlp-grpcs" : "otlp-grpc") : (tls ? "otlp-https" : "otlp-http"),
		grpc ? "localhost:4317" : "localhost:4318", tls, !grpc};
	struct otlp_http_sink *s;
	int rc = fd_http_sink_new(&s, sizeof(*s), &otlp_http_impl, &kind, uri, rest, ctx, err);
	if (rc < 0)
		return rc;
	s->grpc = grpc;
	s->gzip = true;
	s->batch = (struct fd_batcher_limits){DEFAULT_BATCH_RECORDS, DEFAULT_BATCH_BYTES,
					      DEFAULT_BATCH_WINDOW};
	rc = fd_http_sink_options(s->hs.base.uri, fd_http_query(rest), all_options, N_OWN, &s->hs.http,
				  on_option, s, ctx, err);
	if (rc == 0 && grpc && s->json)
		rc = fd_error_set(err, FD_EINPUT, "sink '%s': OTLP/gRPC is protobuf only (encoding=json "
				  "is for otlp-http://)", s->hs.base.uri);
	for (int i = 0; rc == 0 && i < FD_SIGNAL_COUNT; i++) {
		const char *path = grpc ? grpc_path[i] : signal_path[i];
		size_t len = strlen(s->hs.origin) + strlen(path) + 1;
		if (!(s->url[i] = malloc(len)))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		else
			snprintf(s->url[i], len, "%s%s", s->hs.origin, path);
	}
	const char *fixed[] = {
		grpc     ? "Content-Type: application/grpc"
		: s->json ? "Content-Type: application/json"
			  : "Content-Type: application/x-protobuf",
		s->gzip ? (grpc ? "grpc-encoding: gzip" : "Content-Encoding: gzip") : NULL,
		"Expect:", /* no 100-continue round trip before large bodies */
		grpc ? "TE: trailers" : NULL,
	};
	if (rc == 0 && !(s->batcher = fd_batcher_create(&s->batch, emit_request, s)))
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0)
		rc = fd_http_sink_start(&s->hs, fixed, 4, MAX_ANSWER, on_done, err);
	if (rc == 0 && grpc)
		fd_http_pool_grpc(s->hs.pool, grpc_classify);
	if (rc < 0) {
		fd_sink_destroy(&s->hs.base);
		return rc;
	}
	*out = &s->hs.base;
	return 0;
}

static int http_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, false, false, ctx, out, err);
}

static int https_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, false, true, ctx, out, err);
}

static int grpc_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, true, false, ctx, out, err);
}

static int grpcs_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, true, true, ctx, out, err);
}

static const char otlp_help[] =
	"      encoding=proto|json (proto; otlp-grpc: proto only), compression=gzip|none\n"
	"      (gzip), batch_records=N (1000) batch_bytes=N (1000000) batch_window=D\n"
	"      (1s), and as every HTTP sink (docs/backends.md):\n"
	FD_HTTP_SINK_HELP;

const struct fd_sink_descriptor fd_sink_otlp_http_descriptor = {
	.scheme = "otlp-http",
	.synopsis = "otlp-http://HOST:PORT[/PREFIX][?options]",
	.summary = "OTLP/HTTP export: POST /v1/traces, /v1/metrics, /v1/logs",
	.options = all_options,
	.help = otlp_help,
	.open = http_open,
};

const struct fd_sink_descriptor fd_sink_otlp_https_descriptor = {
	.scheme = "otlp-https",
	.synopsis = "otlp-https://HOST:PORT[/PREFIX][?options]",
	.summary = "OTLP/HTTP export over TLS (options as otlp-http)",
	.options = all_options,
	.open = https_open,
};

const struct fd_sink_descriptor fd_sink_otlp_grpc_descriptor = {
	.scheme = "otlp-grpc",
	.synopsis = "otlp-grpc://HOST:PORT[?options]",
	.summary = "OTLP/gRPC export: the collector services' Export (options as otlp-http)",
	.options = all_options,
	.open = grpc_open,
};

const struct fd_sink_descriptor fd_sink_otlp_grpcs_descriptor = {
	.scheme = "otlp-grpcs",
	.synopsis = "otlp-grpcs://HOST:PORT[?options]",
	.summary = "OTLP/gRPC export over TLS (options as otlp-http)",
	.options = all_options,
	.open = grpcs_open,
};
