/*
 * loki://HOST:PORT[/PREFIX][?options] and loki+https://: the stream's logs
 * through Loki's push API, POST PREFIX/loki/api/v1/push, as Promtail and
 * Grafana Alloy send them: a PushRequest (schemas/loki/push.proto) in
 * protobuf with snappy block compression (the default), or the same in
 * JSON ({"streams":[{"stream":{labels},"values":[[ns, line, metadata]]}]}).
 * Spans and metrics have no place in Loki: they are counted and skipped,
 * and close says so.
 *
 * Streams: Loki indexes by label set, so labels must be few and of low
 * cardinality. Each record's stream is its resource's service_name,
 * service_namespace, deployment_environment and k8s_namespace_name (those
 * of them it has; the names Loki gives these attributes when it takes
 * OTLP) plus level (from the severity, as ecs.h's fd_ecs_level). The line
 * is the record's body (text; other bodies as JSON text); trace_id and
 * span_id go as structured metadata (Loki 2.9+, schema v13), never as
 * labels. A request groups its entries by stream, each stream's entries in
 * the order they came (the record stream is in time order).
 *
 * Options (besides the connection options of sinks/http.h):
 *   encoding=proto|json    (proto)
 *   compression=gzip|none  for encoding=json (proto is always snappy)
 *   tenant=NAME            X-Scope-OrgID, for a multi-tenant Loki
 *   batch_records=N batch_bytes=N batch_window=D   entries per request
 *                          (10000), request size before compression (1MB),
 *                          record time one request may span (1s).
 *
 * Answers: 2xx is accepted. 429 (ingestion rate limits), 502, 503, 504
 * and connection failures are retried by the pool with backoff, honouring
 * Retry-After. A 400 that ends with "total ignored: N out of M" (entries
 * out of order or too old, lines too long...) took the other entries:
 * the N are counted as rejected with the first reason. 401 and 403 stop
 * the stream; any other answer fails the request's entries. close fails
 * (exit status 1) when any entry was rejected or failed.
 */
#include <inttypes.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/arena.h"
#include "otlp/attr_text.h"
#include "otlp/json.h"
#include "otlp/pbwrite.h"
#include "sinks/ecs.h"
#include "sinks/batcher.h"
#include "sinks/http_sink.h"
#include "sinks/options.h"
#include "sinks/registry.h"

#define DEFAULT_BATCH_RECORDS 10000
#define DEFAULT_BATCH_BYTES 1000000
#define DEFAULT_BATCH_WINDOW 1000000000LL
#define MAX_ANSWER 65536
#define MAX_LABELS 5

/* resource attribute -> label, in the label's name order */
static const struct {
	const char *attr, *attr2, *label;
} label_map[] = {
	{"deployment.environment", "deployment.environment.name", "deployment_environment"},
	{"k8s.namespace.name", NULL, "k8s_namespace_name"},
	{"service.name", NULL, "service_name"},
	{"service.namespace", NULL, "service_namespace"},
};
#define N_MAP (sizeof(label_map) / sizeof(label_map[0]))

struct label {
	const char *name;
	char *value;
};

/* A resource's labels, worked out once per resource blob. */
struct res_labels {
	const struct fd_blob *res;
	struct label l[N_MAP];
	size_t n;
};

struct entry {
	int64_t ts;
	size_t off, len; /* the line, in the batch's text arena */
	uint8_t trace[16], span[8];
	bool has_trace, has_span;
	size_t next; /* next entry of the same stream; SIZE_MAX: last */
};

struct stream {
	const struct res_labels *res;
	char level[32];
	size_t first, last;
};

struct loki_sink {
	struct fd_http_sink hs; /* first: the interface casts between them */
	bool json, gzip;
	struct fd_batcher_limits batch; /* as the batcher's, for entries */
	char *url;
	struct fd_pb_arena scratch;

	struct res_labels **resources;
	size_t n_resources;

	/* the batch being filled */
	struct entry *entries;
	size_t n_entries, cap_entries;
	struct stream *streams;
	size_t n_streams, cap_streams;
	char *text;
	size_t text_len, text_cap;
	size_t size;          /* the request's size as it grows (an estimate in JSON) */
	int64_t batch_first;  /* record time of its first entry */
	struct pbw pb;

	uint64_t skipped[FD_SIGNAL_COUNT];
	uint64_t sent, body_bytes;

	/* Written by done() on the pool's thread under its lock; read after
	 * fd_http_pool_drain. */
	uint64_t accepted, rejected, failed;
	char first_rejection[512], first_failure[700];
};

/* ---- answers ---- */

static int on_done(void *ctx, uint64_t n, const struct fd_http_outcome *o, struct fd_error *err)
{
	struct loki_sink *s = ctx;
	if (!o->why) {
		s->accepted += n;
		return 0;
	}
	/* Loki takes what it can of a request and lists the rest */
	const char *t = o->status == 400 ? strstr(o->body, "total ignored: ") : NULL;
	unsigned long long ignored, of;
	if (t && sscanf(t, "total ignored: %llu out of %llu", &ignored, &of) == 2 && ignored <= n) {
		s->rejected += ignored;
		s->accepted += n - ignored;
		if (!s->first_rejection[0]) {
			size_t k = strcspn(o->body, "\n");
			snprintf(s->first_rejection, sizeof(s->first_rejection), "%.*s",
				 (int)(k > 400 ? 400 : k), o->body);
		}
		return 0;
	}
	s->failed += n;
	if (!s->first_failure[0])
		snprintf(s->first_failure, sizeof(s->first_failure), "%s", o->why);
	if (!o->cancelled && (o->status == 401 || o->status == 403))
		return fd_error_set(err, FD_ERUNTIME,
				    "sink '%s': %s refused the push: %s (stopped: every request "
				    "would be refused; check tenant=, header= or user=/password=)",
				    s->hs.base.uri, s->url, o->why);
	return 0;
}

/* ---- streams ---- */

static const char *attr_string(const Opentelemetry__Proto__Resource__V1__Resource *r,
			       const char *key)
{
	for (size_t i = 0; r && key && i < r->n_attributes; i++) {
		const Opentelemetry__Proto__Common__V1__AnyValue *v = r->attributes[i]->value;
		if (!strcmp(r->attributes[i]->key, key) && v &&
		    v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE &&
		    v->string_value[0])
			return v->string_value;
	}
	return NULL;
}

static const struct res_labels *labels_of(struct loki_sink *s, const struct fd_blob *res)
{
	for (size_t i = 0; i < s->n_resources; i++)
		if (s->resources[i]->res == res)
			return s->resources[i];
	struct res_labels *rl = calloc(1, sizeof(*rl));
	struct res_labels **v = realloc(s->resources, (s->n_resources + 1) * sizeof(*v));
	if (!rl || !v) {
		free(rl);
		if (v)
			s->resources = v;
		return NULL;
	}
	s->resources = v;
	rl->res = res;
	Opentelemetry__Proto__Resource__V1__Resource *r =
		res ? (void *)fd_otlp_json_unpack(&opentelemetry__proto__resource__v1__resource__descriptor,
						  res->data, res->len, NULL)
		    : NULL;
	for (size_t i = 0; i < N_MAP; i++) {
		const char *val = attr_string(r, label_map[i].attr);
		if (!val)
			val = attr_string(r, label_map[i].attr2);
		if (val)
			rl->l[rl->n++] = (struct label){label_map[i].label, strdup(val)};
	}
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	s->resources[s->n_resources++] = rl;
	return rl;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

/* The stream's labels, sorted by name: the resource's and level. */
static size_t stream_labels(const struct stream *st, struct label out[MAX_LABELS])
{
	size_t n = 0;
	for (size_t i = 0; i < st->res->n && n < MAX_LABELS; i++)
		out[n++] = st->res->l[i];
	if (st->level[0] && n < MAX_LABELS)
		out[n++] = (struct label){"level", (char *)st->level};
	qsort(out, n, sizeof(*out), label_cmp);
	return n;
}

/* {name="value", ...}: Prometheus' label syntax, names sorted. */
static void label_text(const struct stream *st, char *out, size_t n)
{
	struct label l[MAX_LABELS];
	size_t k = stream_labels(st, l), o = 0;
	out[o++] = '{';
	for (size_t i = 0; i < k && o < n - 8; i++) {
		o += (size_t)snprintf(out + o, n - o, "%s%s=\"", i ? ", " : "", l[i].name);
		for (const char *p = l[i].value ? l[i].value : ""; *p && o < n - 4; p++) {
			if (*p == '"' || *p == '\\' || *p == '\n')
				out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p;
		}
		out[o++] = '"';
	}
	out[o++] = '}';
	out[o] = '\0';
}

/* ---- encoding ---- */

static void hex(char *out, const uint8_t *p, size_t n)
{
	fd_otlp_hex(out, p, n);
}

static int encode_proto(struct loki_sink *s, uint8_t **body, size_t *len)
{
	struct pbw *w = &s->pb;
	pbw_reset(w);
	char labels[2048], h[33];
	for (size_t i = 0; i < s->n_streams; i++) {
		const struct stream *st = &s->streams[i];
		size_t sm = pbw_begin(w, 1);
		label_text(st, labels, sizeof(labels));
		pbw_string(w, 1, labels);
		for (size_t e = st->first; e != SIZE_MAX; e = s->entries[e].next) {
			const struct entry *en = &s->entries[e];
			size_t em = pbw_begin(w, 2);
			size_t tm = pbw_begin(w, 1);
			int64_t sec = en->ts / 1000000000, ns = en->ts % 1000000000;
			if (ns < 0) {
				sec--;
				ns += 1000000000;
			}
			if (sec)
				pbw_varint(w, 1, (uint64_t)sec);
			if (ns)
				pbw_varint(w, 2, (uint64_t)ns);
			pbw_end(w, tm);
			pbw_bytes(w, 2, (const uint8_t *)s->text + en->off, en->len);
			if (en->has_trace) {
				size_t mm = pbw_begin(w, 3);
				hex(h, en->trace, 16);
				pbw_string(w, 1, "trace_id");
				pbw_string(w, 2, h);
				pbw_end(w, mm);
			}
			if (en->has_span) {
				size_t mm = pbw_begin(w, 3);
				hex(h, en->span, 8);
				pbw_string(w, 1, "span_id");
				pbw_string(w, 2, h);
				pbw_end(w, mm);
			}
			pbw_end(w, em);
		}
		pbw_end(w, sm);
	}
	if (w->oom)
		return -1;
	size_t cap = snappy_max_compressed_length(w->len);
	char *out = malloc(cap ? cap : 1);
	if (!out)
		return -1;
	if (snappy_compress((const char *)w->buf, w->len, out, &cap) != SNAPPY_OK) {
		free(out);
		return -1;
	}
	*body = (uint8_t *)out;
	*len = cap;
	return 0;
}

static int encode_json(struct loki_sink *s, uint8_t **body, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return -1;
	struct fd_json *j = malloc(sizeof(*j));
	if (!j) {
		fclose(f);
		free(buf);
		return -1;
	}
	fd_json_init(j, f, false);
	char num[32], h[33];
	fd_json_object_begin(j);
	fd_json_key(j, "streams");
	fd_json_array_begin(j);
	for (size_t i = 0; i < s->n_streams; i++) {
		const struct stream *st = &s->streams[i];
		fd_json_object_begin(j);
		fd_json_key(j, "stream");
		fd_json_object_begin(j);
		struct label l[MAX_LABELS];
		size_t nl = stream_labels(st, l);
		for (size_t k = 0; k < nl; k++) {
			fd_json_key(j, l[k].name);
			fd_json_string(j, l[k].value ? l[k].value : "");
		}
		fd_json_object_end(j);
		fd_json_key(j, "values");
		fd_json_array_begin(j);
		for (size_t e = st->first; e != SIZE_MAX; e = s->entries[e].next) {
			const struct entry *en = &s->entries[e];
			fd_json_array_begin(j);
			snprintf(num, sizeof(num), "%" PRId64, en->ts);
			fd_json_string(j, num);
			fd_json_string_n(j, s->text + en->off, en->len);
			if (en->has_trace || en->has_span) {
				fd_json_object_begin(j);
				if (en->has_trace) {
					hex(h, en->trace, 16);
					fd_json_key(j, "trace_id");
					fd_json_string(j, h);
				}
				if (en->has_span) {
					hex(h, en->span, 8);
					fd_json_key(j, "span_id");
					fd_json_string(j, h);
				}
				fd_json_object_end(j);
			}
			fd_json_array_end(j);
		}
		fd_json_array_end(j);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_object_end(j);
	int bad = j->error;
	free(j);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return -1;
	}
	*body = (uint8_t *)buf;
	*len = n;
	if (s->gzip) {
		uint8_t *z;
		size_t zlen;
		int rc = fd_http_gzip(*body, *len, &z, &zlen);
		free(buf);
		if (rc < 0)
			return -1;
		*body = z;
		*len = zlen;
	}
	return 0;
}

static int send_batch(struct loki_sink *s, struct fd_error *err)
{
	if (!s->n_entries)
		return 0;
	uint8_t *body;
	size_t len;
	if ((s->json ? encode_json(s, &body, &len) : encode_proto(s, &body, &len)) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	uint64_t n = s->n_entries;
	s->n_entries = s->n_streams = s->text_len = s->size = 0;
	s->body_bytes += len;
	int rc = fd_http_pool_submit(s->hs.pool, s->url, s->hs.headers, body, len, n, err);
	if (rc == 0)
		s->sent += n;
	return rc;
}

/* ---- the sink ---- */

static int add_text(struct loki_sink *s, const char *p, size_t n)
{
	if (s->text_cap - s->text_len < n) {
		size_t cap = s->text_cap ? s->text_cap : 65536;
		while (cap - s->text_len < n)
			cap *= 2;
		char *t = realloc(s->text, cap);
		if (!t)
			return -1;
		s->text = t;
		s->text_cap = cap;
	}
	memcpy(s->text + s->text_len, p, n);
	s->text_len += n;
	return 0;
}

static struct stream *stream_of(struct loki_sink *s, const struct res_labels *rl, const char *level)
{
	for (size_t i = 0; i < s->n_streams; i++)
		if (s->streams[i].res == rl && !strcmp(s->streams[i].level, level))
			return &s->streams[i];
	if (s->n_streams == s->cap_streams) {
		size_t cap = s->cap_streams ? 2 * s->cap_streams : 16;
		struct stream *v = realloc(s->streams, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->streams = v;
		s->cap_streams = cap;
	}
	struct stream *st = &s->streams[s->n_streams++];
	*st = (struct stream){.res = rl, .first = SIZE_MAX, .last = SIZE_MAX};
	snprintf(st->level, sizeof(st->level), "%s", level);
	s->size += 64 + 16 * rl->n; /* the stream's labels, roughly */
	return st;
}

static int lk_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct loki_sink *s = (struct loki_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	if (rec->signal != FD_SIGNAL_LOGS) {
		s->skipped[rec->signal]++;
		return 0;
	}
	if (s->n_entries && rec->time_ns - s->batch_first > s->batch.window) {
		int rc = send_batch(s, err);
		if (rc < 0)
			return rc;
	}
	fd_pb_arena_reset(&s->scratch);
	Opentelemetry__Proto__Logs__V1__LogRecord *lr = (void *)fd_otlp_json_unpack(
		&opentelemetry__proto__logs__v1__log_record__descriptor, rec->payload, rec->payload_len,
		&s->scratch);
	if (!lr)
		return fd_error_set(err, FD_EINPUT, "sink '%s': malformed LogRecord payload (%zu bytes)",
				    sink->uri, rec->payload_len);
	const struct res_labels *rl = labels_of(s, rec->resource);
	char lb[32];
	const char *level = fd_ecs_level(lr->severity_number, lr->severity_text, lb);
	struct stream *st = rl ? stream_of(s, rl, level) : NULL;
	if (!st)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct entry e = {.ts = lr->time_unix_nano           ? (int64_t)lr->time_unix_nano
				: lr->observed_time_unix_nano ? (int64_t)lr->observed_time_unix_nano
							      : rec->time_ns,
			  .off = s->text_len,
			  .next = SIZE_MAX};
	int rc = 0;
	if (lr->body && lr->body->value_case !=
			       OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE) {
		char *t = fd_otlp_attr_text(lr->body);
		rc = t ? add_text(s, t, strlen(t)) : -1;
		free(t);
	} else if (lr->body && lr->body->string_value) {
		rc = add_text(s, lr->body->string_value, strlen(lr->body->string_value));
	}
	e.len = s->text_len - e.off;
	if (lr->trace_id.len == 16) {
		memcpy(e.trace, lr->trace_id.data, 16);
		e.has_trace = true;
	}
	if (lr->span_id.len == 8) {
		memcpy(e.span, lr->span_id.data, 8);
		e.has_span = true;
	}
	fd_otlp_json_unpacked_free(&lr->base, &s->scratch);
	if (rc < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	/* the entry's encoded size, roughly: timestamp, line, metadata */
	size_t size = 24 + e.len + (e.has_trace ? 48 : 0) + (e.has_span ? 32 : 0);
	if (s->n_entries && s->size + size > s->batch.bytes) {
		/* this entry opens the next request: move its line along */
		char *line = malloc(e.len ? e.len : 1);
		if (!line)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		memcpy(line, s->text + e.off, e.len);
		s->text_len = e.off;
		rc = send_batch(s, err);
		if (rc == 0) {
			e.off = s->text_len;
			rc = add_text(s, line, e.len) < 0 ? fd_error_set(err, FD_ERUNTIME, "out of memory")
							  : 0;
		}
		free(line);
		if (rc < 0)
			return rc;
		if (!(st = stream_of(s, rl, level)))
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (s->n_entries == s->cap_entries) {
		size_t cap = s->cap_entries ? 2 * s->cap_entries : 1024;
		struct entry *v = realloc(s->entries, cap * sizeof(*v));
		if (!v)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		s->entries = v;
		s->cap_entries = cap;
	}
	if (s->n_entries == 0)
		s->batch_first = rec->time_ns;
	size_t idx = s->n_entries++;
	s->entries[idx] = e;
	if (st->last == SIZE_MAX)
		st->first = idx;
	else
		s->entries[st->last].next = idx;
	st->last = idx;
	s->size += size;
	if (s->n_entries >= s->batch.records || s->size >= s->batch.bytes)
		return send_batch(s, err);
	return 0;
}

static int lk_flush(struct fd_sink *sink, struct fd_error *err)
{
	return send_batch((struct loki_sink *)sink, err);
}

static int lk_close(struct fd_sink *sink, struct fd_error *err)
{
	struct loki_sink *s = (struct loki_sink *)sink;
	int rc = fd_http_sink_drain(&s->hs, send_batch(s, err), err);
	if (rc < 0)
		return rc;
	fd_http_sink_skipped_notice(&s->hs, "Loki", s->skipped);
	if (!s->rejected && !s->failed)
		return 0;
	char rej[512] = "", fail[512] = "";
	if (s->rejected)
		snprintf(rej, sizeof(rej), "; %" PRIu64 " rejected (first: %.400s)", s->rejected,
			 s->first_rejection);
	if (s->failed)
		snprintf(fail, sizeof(fail), "; %" PRIu64 " failed (first: %.400s)", s->failed,
			 s->first_failure);
	return fd_error_set(err, FD_ERUNTIME,
			    "sink '%s': not every log entry was accepted: of %" PRIu64 ", %" PRIu64
			    " accepted%.420s%.420s",
			    sink->uri, s->sent, s->accepted, rej, fail);
}

static void lk_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct loki_sink *s = (struct loki_sink *)sink;
	struct fd_http_pool_stats ps;
	fd_http_pool_stats(s->hs.pool, &ps);
	snprintf(buf, n,
		 "%" PRIu64 " pushes (%.1f MB sent), %" PRIu64 " entries accepted, %" PRIu64
		 " rejected, %" PRIu64 " failed, %" PRIu64 " retries",
		 ps.requests, (double)s->body_bytes / 1e6, s->accepted, s->rejected, s->failed,
		 ps.retries);
}

static void lk_destroy(struct fd_sink *sink)
{
	struct loki_sink *s = (struct loki_sink *)sink;
	fd_http_sink_stop(&s->hs); /* first: its callbacks use the rest */
	for (size_t i = 0; i < s->n_resources; i++) {
		for (size_t k = 0; k < s->resources[i]->n; k++)
			free(s->resources[i]->l[k].value);
		free(s->resources[i]);
	}
	free(s->resources);
	free(s->entries);
	free(s->streams);
	free(s->text);
	pbw_finish(&s->pb);
	fd_pb_arena_free(&s->scratch);
	free(s->url);
	fd_http_sink_finish(&s->hs);
	free(s);
}

static const struct fd_sink_impl loki_impl = {
	.name = "loki",
	.write = lk_write,
	.flush = lk_flush,
	.close = lk_close,
	.destroy = lk_destroy,
	.report = lk_report,
};

/* ---- options ---- */

/* ours, then the connection options */
static const char *const all_options[] = {"encoding",	   "compression",  "tenant",
					  "batch_records", "batch_bytes", "batch_window",
					  FD_HTTP_OPTION_NAMES,	   NULL};
#define N_OWN 6

static int on_option(void *sink, const char *key, const char *val, struct fd_error *err)
{
	struct loki_sink *s = sink;
	const char *uri = s->hs.base.uri;
	int rc = fd_batcher_option(&s->batch, uri, key, val, 1000000000, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!strcmp(key, "encoding")) {
		return fd_http_encoding_option(uri, val, &s->json, err);
	} else if (!strcmp(key, "compression")) {
		return fd_http_compression_option(uri, val, &s->gzip, err);
	} else if (!strcmp(key, "tenant")) {
		char h[512];
		if (strlen(val) > 400)
			return fd_http_bad_value(uri, key, val, "too long", err);
		snprintf(h, sizeof(h), "X-Scope-OrgID:%s", val);
		rc = fd_http_option(&s->hs.http, uri, "header", h, err);
		return rc < 0 ? rc : 0;
	}
	return 0;
}

static int open_sink(const char *uri, const char *rest, bool tls, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	const struct fd_http_sink_kind kind = {tls ? "loki+https" : "loki", "localhost:3100", tls,
					       true};
	struct loki_sink *s;
	int rc = fd_http_sink_new(&s, sizeof(*s), &loki_impl, &kind, uri, rest, ctx, err);
	if (rc < 0)
		return rc;
	fd_pb_arena_init(&s->scratch);
	s->batch = (struct fd_batcher_limits){DEFAULT_BATCH_RECORDS, DEFAULT_BATCH_BYTES,
					      DEFAULT_BATCH_WINDOW};
	rc = fd_http_sink_options(s->hs.base.uri, fd_http_query(rest), all_options, N_OWN, &s->hs.http,
				  on_option, s, ctx, err);
	if (rc == 0 && s->gzip && !s->json)
		rc = fd_error_set(err, FD_EINPUT,
				  "sink '%s': compression= applies to encoding=json (protobuf pushes "
				  "are always snappy-compressed)",
				  s->hs.base.uri);
	if (rc == 0) {
		size_t len = strlen(s->hs.origin) + 40;
		if (!(s->url = malloc(len)))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		else
			snprintf(s->url, len, "%s/loki/api/v1/push", s->hs.origin);
	}
	const char *fixed[] = {
		s->json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf",
		s->gzip ? "Content-Encoding: gzip" : NULL,
		"Expect:", /* no 100-continue round trip before large bodies */
	};
	if (rc == 0)
		rc = fd_http_sink_start(&s->hs, fixed, 3, MAX_ANSWER, on_done, err);
	if (rc < 0) {
		fd_sink_destroy(&s->hs.base);
		return rc;
	}
	*out = &s->hs.base;
	return 0;
}

static int plain_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, false, ctx, out, err);
}

static int tls_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		    struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, true, ctx, out, err);
}

const struct fd_sink_descriptor fd_sink_loki_descriptor = {
	.scheme = "loki",
	.synopsis = "loki://HOST:PORT[/PREFIX][?options]",
	.summary = "logs through Loki's push API",
	.options = all_options,
	.help = "      encoding=proto|json (proto+snappy), compression=gzip|none (json only),\n"
		"      tenant=NAME, batch_records=N (10000) batch_bytes=N (1MB)\n"
		"      batch_window=D (1s), and as every HTTP sink (docs/backends.md):\n"
		FD_HTTP_SINK_HELP,
	.open = plain_open,
};

const struct fd_sink_descriptor fd_sink_loki_https_descriptor = {
	.scheme = "loki+https",
	.synopsis = "loki+https://HOST:PORT[/PREFIX][?options]",
	.summary = "the same over TLS (options as loki)",
	.options = all_options,
	.open = tls_open,
};
