/*
 * dir:PATH[?format=...] — one file per signal in a directory — and the
 * machinery stdout: shares (sink_files.h).
 *
 * Formats (format=):
 *   otlp_json   traces.jsonl, metrics.jsonl, logs.jsonl: one
 *               Export*ServiceRequest per line in OTLP/JSON, as the
 *               collector's file exporter writes with format: json. The
 *               default.
 *   otlp_proto  traces.pb, metrics.pb, logs.pb: export requests in
 *               protobuf, each preceded by its length as a 4-byte big-endian
 *               unsigned integer. That is the collector's file exporter
 *               framing for format: proto (exportMessageAsBuffer in
 *               exporter/fileexporter/file_writer.go of
 *               opentelemetry-collector-contrib), not protobuf's
 *               writeDelimitedTo (a varint prefix): we pick the collector's
 *               so that files from either tool read the same way.
 *   ecs         logs.ndjson: one Elastic Common Schema document per line
 *               (ecs.h), for Filebeat or Logstash.
 *   bulk        logs.bulk.ndjson: an Elasticsearch _bulk request body,
 *               {"create":{"_index":"logs-firedrill-default"}} then the ECS
 *               document, ready for curl --data-binary @... to _bulk. create
 *               because the index is a data stream (logs-*-* matches the
 *               built-in logs template), whose only accepted op is create.
 *   text        logs.log (and traces.log, metrics.log): one human-readable
 *               line per record.
 *   openmetrics metrics.om: the metrics as OpenMetrics text for promtool's
 *               backfill; a sink of its own (sink_openmetrics.c), taking
 *               the option buffer= instead of the batch options.
 * ecs and bulk have no form for spans and metrics: those are counted and
 * skipped, and close says so through the context's notice.
 *
 * Batching (the OTLP formats, sinks/batcher.h, the same policy as
 * kafka://): each signal has its own requests, written out when one holds
 * batch_records records (default 512), when the next record would push it
 * over batch_bytes (default 1 MiB; a request is larger only when one record
 * alone is), when the next record's time is more than batch_window
 * (default 1s) after the request's oldest, on flush and on close.
 *
 * Files are written as NAME.tmp-XXXXXX and renamed into place by close;
 * destroy without close removes them, so a failed run leaves no partial
 * output. A signal without records gets no file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/ecs.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/attr_text.h"
#include "otlp/batch.h"
#include "sinks/batcher.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "sinks/files.h"
#include "sinks/options.h"
#include "sinks/registry.h"
#include "common/suggest.h"
#include "common/timefmt.h"
#include "common/units.h"

enum format { F_OTLP_JSON, F_OTLP_PROTO, F_ECS, F_BULK, F_TEXT };

static const struct {
	const char *name;
	const char *file[FD_SIGNAL_COUNT]; /* NULL: the format has no form for the signal */
} formats[] = {
	[F_OTLP_JSON] = {"otlp_json", {"traces.jsonl", "metrics.jsonl", "logs.jsonl"}},
	[F_OTLP_PROTO] = {"otlp_proto", {"traces.pb", "metrics.pb", "logs.pb"}},
	[F_ECS] = {"ecs", {NULL, NULL, "logs.ndjson"}},
	[F_BULK] = {"bulk", {NULL, NULL, "logs.bulk.ndjson"}},
	[F_TEXT] = {"text", {"traces.log", "metrics.log", "logs.log"}},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

#define BULK_INDEX "logs-firedrill-default"

struct output {
	FILE *f;
	char *tmp, *final; /* dir: only; tmp is NULL once renamed */
};

struct files_sink {
	struct fd_sink base; /* first: the interface casts between them */
	enum format format;
	size_t batch_records, batch_bytes;
	int64_t batch_window;
	char *dir; /* NULL: standard output */
	struct output out[FD_SIGNAL_COUNT];
	struct fd_batcher *batcher; /* the OTLP formats */
	struct pbw pb;
	struct pbw line; /* one output line, reused */
	struct fd_ecs *ecs; /* format=ecs and bulk */
	struct fd_pb_arena scratch; /* decoding, reset per record or request */
	uint64_t skipped[FD_SIGNAL_COUNT];
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* ---- options ---- */

/* The OTLP and text formats' options: the first N_OPTIONS of these; buffer
 * is openmetrics.c's. */
const char *const fd_files_option_names[] = {"format", "batch_records", "batch_bytes",
					     "batch_window", "buffer", NULL};
#define option_names fd_files_option_names
#define N_OPTIONS 4

static int parse_format(const char *uri, const char *name, enum format *out, struct fd_error *err)
{
	const char *names[N_FORMATS];
	for (size_t i = 0; i < N_FORMATS; i++) {
		names[i] = formats[i].name;
		if (strcmp(name, formats[i].name) == 0) {
			*out = (enum format)i;
			return 0;
		}
	}
	const char *best = fd_suggest(name, names, N_FORMATS);
	return fd_error_set(err, FD_EINPUT,
			    "sink '%s': unknown format '%s'%s%s%s (known: otlp_json, otlp_proto, ecs, "
			    "bulk, text, openmetrics)",
			    uri, name, best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "");
}

static int bad_value(const char *uri, const char *key, const char *val, const char *why,
		     struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

static int set_option(struct files_sink *s, const char *uri, const char *key, const char *val,
		      struct fd_error *err)
{
	const char *why = NULL;
	if (strcmp(key, "format") == 0)
		return parse_format(uri, val, &s->format, err);
	if (strcmp(key, "batch_records") == 0) {
		long long n;
		if (fd_units_integer(val, 1, 100000000, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		s->batch_records = (size_t)n;
	} else if (strcmp(key, "batch_bytes") == 0) {
		int64_t n;
		if (fd_units_size(val, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		if (n < 1 || n > (int64_t)UINT32_MAX) /* the proto framing has 32 bits */
			return bad_value(uri, key, val, "must be between 1 and 4294967295 bytes", err);
		s->batch_bytes = (size_t)n;
	} else if (strcmp(key, "batch_window") == 0) {
		if (fd_units_duration(val, &s->batch_window, &why) < 0)
			return bad_value(uri, key, val, why, err);
	}
	return 0;
}

struct option_ctx {
	struct files_sink *s;
	const char *uri;
};

static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	(void)idx;
	struct option_ctx *c = ctx;
	return set_option(c->s, c->uri, key, val, err);
}

/* ---- output files ---- */

/* mkdir -p: every missing component, as a directory the user can read. */
int fd_files_make_dirs(const char *uri, const char *path, struct fd_error *err)
{
	char *p = strdup(path);
	if (!p)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			int e = errno;
			int rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot create directory %s: %s",
					      uri, p, strerror(e));
			free(p);
			return rc;
		}
		*c = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': %s is not a directory", uri, path);
	return 0;
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* The signal's output, created on first use. */
static FILE *output(struct files_sink *s, enum fd_signal sig, struct fd_error *err)
{
	struct output *o = &s->out[sig];
	if (o->f)
		return o->f;
	if (!s->dir) {
		o->f = stdout;
		return o->f;
	}
	o->final = join(s->dir, "/", formats[s->format].file[sig]);
	o->tmp = o->final ? join(o->final, ".tmp-XXXXXX", "") : NULL;
	if (!o->tmp) {
		fd_error_set(err, FD_ERUNTIME, "out of memory");
		return NULL;
	}
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot create %s: %s", s->base.uri, o->tmp,
			     strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return NULL;
	}
	/* mkstemp makes the file private (0600); the output is meant to be
	 * read by other tools and users, like any file we write. */
	(void)fchmod(fd, 0644);
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		fd_error_set(err, FD_ERUNTIME, "sink '%s': %s: %s", s->base.uri, o->tmp,
			     strerror(errno));
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	return o->f;
}

static int put_bytes(struct files_sink *s, enum fd_signal sig, const void *p, size_t n,
		     struct fd_error *err)
{
	FILE *f = output(s, sig, err);
	if (!f)
		return -err->code;
	if (n && fwrite(p, 1, n, f) != n)
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing %s: %s", s->base.uri,
				    s->dir ? s->out[sig].tmp : "standard output", strerror(errno));
	return 0;
}

/* One unit of output (a JSON line, a text line) is rendered in memory
 * first, so a record that fails to encode leaves no half line behind. */
struct unit {
	FILE *f;
	char *buf;
	size_t len;
};

static int unit_begin(struct unit *u, struct fd_error *err)
{
	u->buf = NULL;
	u->len = 0;
	u->f = open_memstream(&u->buf, &u->len);
	return u->f ? 0 : fd_error_set(err, FD_ERUNTIME, "out of memory");
}

/* Closes the unit and, when rc is 0, writes it with a final newline. */
static int unit_end(struct files_sink *s, enum fd_signal sig, struct unit *u, int rc,
		    struct fd_error *err)
{
	if (rc == 0 && fputc('\n', u->f) == EOF)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (fclose(u->f) != 0 && rc == 0)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0)
		rc = put_bytes(s, sig, u->buf, u->len, err);
	free(u->buf);
	return rc;
}

/* ---- OTLP batches ---- */

/* One request of the batcher (sinks/batcher.h), written out. */
static int emit_request(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b,
			const uint8_t *key, size_t keylen, struct fd_error *err)
{
	(void)key, (void)keylen;
	struct files_sink *s = ctx;
	if (fd_otlp_batch_encode(b, &s->pb) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc;
	if (s->format == F_OTLP_PROTO) {
		uint32_t n = (uint32_t)s->pb.len;
		uint8_t prefix[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				     (uint8_t)n};
		rc = put_bytes(s, sig, prefix, 4, err);
		if (rc == 0)
			rc = put_bytes(s, sig, s->pb.buf, s->pb.len, err);
	} else {
		/* the line is made in memory of its own, kept from one request to
		 * the next, and written whole */
		pbw_reset(&s->line);
		rc = fd_otlp_json_encode(sig, s->pb.buf, s->pb.len, &s->line, err);
		if (rc == 0 && pbw_room(&s->line, 1))
			s->line.buf[s->line.len++] = '\n';
		if (rc == 0 && s->line.oom)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		if (rc == 0)
			rc = put_bytes(s, sig, s->line.buf, s->line.len, err);
	}
	return rc;
}

/* ---- text ---- */

/* A value on a one-record line: control characters escaped so that a
 * record never spans two lines; quoted when it would not read as one word. */
static void text_put(FILE *f, const char *v, bool quote_if_needed)
{
	bool quote = quote_if_needed && (!*v || strpbrk(v, " \"=\t") != NULL);
	if (quote)
		fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		/* the plain run up to the next character to escape, in one write */
		size_t run = 0;
		while (p[run] >= 0x20 && p[run] != 0x7f && !(quote && (p[run] == '"' || p[run] == '\\')))
			run++;
		if (run) {
			fwrite(p, 1, run, f);
			p += run - 1;
			continue;
		}
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (quote && (*p == '"' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	if (quote)
		fputc('"', f);
}

static int text_attrs(FILE *f, Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *v = fd_otlp_attr_text(kv[i]->value);
		if (!v)
			return -1;
		fputc(' ', f);
		text_put(f, kv[i]->key, true);
		fputc('=', f);
		text_put(f, v, true);
		free(v);
	}
	return 0;
}

static void text_ids(FILE *f, const ProtobufCBinaryData *trace, const ProtobufCBinaryData *span)
{
	char a[65], b[65];
	if (trace->len && trace->len <= 32 && span->len <= 32)
		fprintf(f, " [trace=%s span=%s]", fd_otlp_hex(a, trace->data, trace->len),
			fd_otlp_hex(b, span->data, span->len));
}

static void text_head(FILE *f, const struct fd_record *rec, const char *kind)
{
	char ts[64], svc[128] = "-";
	if (rec->resource)
		fd_otlp_resource_service(rec->resource->data, rec->resource->len, svc, sizeof(svc));
	fprintf(f, "%s %-5s ", fd_format_time(ts, sizeof(ts), rec->time_ns), kind);
	text_put(f, svc, true);
}

static int text_log(FILE *f, const struct fd_record *rec, struct fd_pb_arena *scratch)
{
	Opentelemetry__Proto__Logs__V1__LogRecord *lr = (void *)fd_otlp_json_unpack(
		&opentelemetry__proto__logs__v1__log_record__descriptor, rec->payload, rec->payload_len,
		scratch);
	if (!lr)
		return -1;
	char buf[32], up[32];
	const char *level = fd_ecs_level(lr->severity_number, lr->severity_text, buf);
	size_t i = 0;
	for (; level[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)(level[i] >= 'a' && level[i] <= 'z' ? level[i] - 'a' + 'A' : level[i]);
	up[i] = '\0';
	text_head(f, rec, i ? up : "-");
	int rc = -1;
	char *body = lr->body ? fd_otlp_attr_text(lr->body) : strdup("");
	if (body) {
		text_ids(f, &lr->trace_id, &lr->span_id);
		fputc(' ', f);
		text_put(f, body, false);
		free(body);
		rc = text_attrs(f, lr->attributes, lr->n_attributes);
	}
	fd_otlp_json_unpacked_free(&lr->base, scratch);
	return rc;
}

static int text_span(FILE *f, const struct fd_record *rec, struct fd_pb_arena *scratch)
{
	Opentelemetry__Proto__Trace__V1__Span *sp = (void *)fd_otlp_json_unpack(&opentelemetry__proto__trace__v1__span__descriptor, rec->payload, rec->payload_len, scratch);
	if (!sp)
		return -1;
	double ms = (double)(int64_t)(sp->end_time_unix_nano - sp->start_time_unix_nano) / 1e6;
	text_head(f, rec, "SPAN");
	fputc(' ', f);
	text_put(f, sp->name, true);
	fprintf(f, " %.3fms", ms);
	text_ids(f, &sp->trace_id, &sp->span_id);
	if (sp->status && sp->status->code ==
				  OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR) {
		fputs(" status=ERROR", f);
		if (sp->status->message && *sp->status->message) {
			fputs(" status.message=", f);
			text_put(f, sp->status->message, true);
		}
	}
	int rc = text_attrs(f, sp->attributes, sp->n_attributes);
	fd_otlp_json_unpacked_free(&sp->base, scratch);
	return rc;
}

typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

/* Data point i of a metric: its value as text (the number, or count and
 * sum of a distribution) and its attributes. false past the last point. */
static bool metric_point(const Metric *m, size_t i, char *v, size_t vn, KeyValue ***kv, size_t *n)
{
	char d[32];
	unsigned long long count;
	double sum;
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM: {
		bool gauge = m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		size_t np = gauge ? m->gauge->n_data_points : m->sum->n_data_points;
		if (i >= np)
			return false;
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp =
			gauge ? m->gauge->data_points[i] : m->sum->data_points[i];
		if (dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT)
			snprintf(v, vn, "%lld", (long long)dp->as_int);
		else
			snprintf(v, vn, "%s", fd_format_double(d, dp->as_double));
		*kv = dp->attributes;
		*n = dp->n_attributes;
		return true;
	}
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		if (i >= m->histogram->n_data_points)
			return false;
		count = m->histogram->data_points[i]->count;
		sum = m->histogram->data_points[i]->sum;
		*kv = m->histogram->data_points[i]->attributes;
		*n = m->histogram->data_points[i]->n_attributes;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
		if (i >= m->exponential_histogram->n_data_points)
			return false;
		count = m->exponential_histogram->data_points[i]->count;
		sum = m->exponential_histogram->data_points[i]->sum;
		*kv = m->exponential_histogram->data_points[i]->attributes;
		*n = m->exponential_histogram->data_points[i]->n_attributes;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
		if (i >= m->summary->n_data_points)
			return false;
		count = m->summary->data_points[i]->count;
		sum = m->summary->data_points[i]->sum;
		*kv = m->summary->data_points[i]->attributes;
		*n = m->summary->data_points[i]->n_attributes;
		break;
	default:
		return false;
	}
	snprintf(v, vn, "count=%llu sum=%s", count, fd_format_double(d, sum));
	return true;
}

/* One line per data point (a metric without points still gets one). */
static int text_metric(FILE *f, const struct fd_record *rec, struct fd_pb_arena *scratch)
{
	Metric *m = (void *)fd_otlp_json_unpack(&opentelemetry__proto__metrics__v1__metric__descriptor,
						rec->payload, rec->payload_len, scratch);
	if (!m)
		return -1;
	int rc = 0;
	char v[96];
	KeyValue **kv = NULL;
	size_t n = 0;
	for (size_t i = 0; rc == 0; i++) {
		bool has = metric_point(m, i, v, sizeof(v), &kv, &n);
		if (!has && i > 0)
			break;
		if (i > 0)
			fputc('\n', f);
		text_head(f, rec, "METRIC");
		fputc(' ', f);
		text_put(f, m->name, true);
		if (!has)
			break;
		fprintf(f, " %s", v);
		rc = text_attrs(f, kv, n);
	}
	fd_otlp_json_unpacked_free(&m->base, scratch);
	return rc;
}

/* ---- the sink ---- */

/* An ECS document (a bulk action line before it) as one line. */
static int write_ecs(struct files_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	static const char action[] = "{\"create\":{\"_index\":\"" BULK_INDEX "\"}}\n";
	if (!s->ecs && !(s->ecs = fd_ecs_create()))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	pbw_reset(&s->line);
	if (s->format == F_BULK && pbw_room(&s->line, sizeof(action) - 1)) {
		memcpy(s->line.buf, action, sizeof(action) - 1);
		s->line.len = sizeof(action) - 1;
	}
	int rc = fd_ecs_encode(s->ecs, rec, &s->line, err);
	if (rc == 0 && pbw_room(&s->line, 1))
		s->line.buf[s->line.len++] = '\n';
	if (rc == 0 && s->line.oom)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc < 0) {
		fd_error_prefix(err, "sink '%s'", s->base.uri);
		return rc;
	}
	return put_bytes(s, rec->signal, s->line.buf, s->line.len, err);
}

static int write_unit(struct files_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	if (s->format == F_ECS || s->format == F_BULK)
		return write_ecs(s, rec, err);
	static const char *const what[] = {"Span", "Metric", "LogRecord"};
	struct unit u;
	int rc = unit_begin(&u, err);
	if (rc < 0)
		return rc;
	struct fd_json j;
	fd_json_init(&j, u.f, false);
	switch (s->format) {
	default: {
		int (*fn)(FILE *, const struct fd_record *, struct fd_pb_arena *) =
			rec->signal == FD_SIGNAL_TRACES ? text_span
			: rec->signal == FD_SIGNAL_METRICS ? text_metric
							   : text_log;
		fd_pb_arena_reset(&s->scratch);
		if (fn(u.f, rec, &s->scratch) < 0)
			rc = fd_error_set(err, FD_EINPUT, "text: malformed %s payload (%zu bytes)",
					  what[rec->signal], rec->payload_len);
		break;
	}
	}
	if (rc < 0)
		fd_error_prefix(err, "sink '%s'", s->base.uri);
	return unit_end(s, rec->signal, &u, rc, err);
}

static int files_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	if (!formats[s->format].file[rec->signal]) {
		s->skipped[rec->signal]++;
		return 0;
	}
	if (s->format == F_OTLP_JSON || s->format == F_OTLP_PROTO) {
		int rc = fd_batcher_add(s->batcher, rec, NULL, 0, err);
		if (rc < 0 && err && err->code == FD_EINPUT)
			fd_error_prefix(err, "sink '%s'", sink->uri);
		return rc;
	}
	return write_unit(s, rec, err);
}

static int files_flush(struct fd_sink *sink, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	int rc = s->batcher ? fd_batcher_flush(s->batcher, err) : 0;
	for (int i = 0; rc == 0 && i < FD_SIGNAL_COUNT; i++)
		if (s->out[i].f && fflush(s->out[i].f) != 0)
			rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': writing: %s", sink->uri,
					  strerror(errno));
	return rc;
}

static void report_skipped(struct files_sink *s)
{
	if (!s->notice || !(s->skipped[0] || s->skipped[1] || s->skipped[2]))
		return;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "sink '%s': format=%s writes logs only: skipped %llu spans and %llu metrics",
		 s->base.uri, formats[s->format].name, (unsigned long long)s->skipped[0],
		 (unsigned long long)s->skipped[1]);
	s->notice(s->notice_ctx, msg);
}

static int files_close(struct fd_sink *sink, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	int rc = files_flush(sink, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		struct output *o = &s->out[i];
		if (!o->f || !s->dir)
			continue;
		int e = fclose(o->f) != 0 ? errno : 0;
		o->f = NULL;
		if (e == 0 && rename(o->tmp, o->final) < 0)
			e = errno;
		if (e)
			return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing %s: %s", sink->uri,
					    o->final, strerror(e));
		free(o->tmp);
		o->tmp = NULL;
	}
	report_skipped(s);
	return 0;
}

static void files_destroy(struct fd_sink *sink)
{
	struct files_sink *s = (struct files_sink *)sink;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		struct output *o = &s->out[i];
		if (s->dir && o->f)
			fclose(o->f);
		if (o->tmp)
			unlink(o->tmp); /* not committed: no partial output */
		free(o->tmp);
		free(o->final);
	}
	fd_batcher_destroy(s->batcher);
	fd_pb_arena_free(&s->scratch);
	pbw_finish(&s->pb);
	pbw_finish(&s->line);
	fd_ecs_destroy(s->ecs);
	free(s->dir);
	free(s);
}

static const struct fd_sink_impl dir_impl = {
	.name = "dir",
	.write = files_write,
	.flush = files_flush,
	.close = files_close,
	.destroy = files_destroy,
};

static const struct fd_sink_impl stdout_impl = {
	.name = "stdout",
	.write = files_write,
	.flush = files_flush,
	.close = files_close,
	.destroy = files_destroy,
};

int fd_files_sink_open(const char *uri, const char *dir, const char *format, const char *query,
		       const struct fd_sink_context *ctx, struct fd_sink **out,
		       struct fd_error *err)
{
	*out = NULL;
	if (fd_om_requested(format, query)) {
		return fd_om_sink_open(uri, dir, format && *format, query, ctx, out, err);
	}
	struct files_sink *s = calloc(1, sizeof(*s));
	if (!s || fd_sink_init(&s->base, dir ? &dir_impl : &stdout_impl, uri) < 0) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->format = F_OTLP_JSON;
	fd_pb_arena_init(&s->scratch);
	/* stdout: one record per request by default, so that the signals'
	 * lines come out in record order, as a person watching expects. */
	s->batch_records = dir ? 512 : 1;
	s->batch_bytes = 1048576;
	s->batch_window = 1000000000;
	if (ctx) {
		s->notice = ctx->notice;
		s->notice_ctx = ctx->notice_ctx;
	}
	int rc = 0;
	if (format && *format)
		rc = parse_format(uri, format, &s->format, err);
	if (rc == 0) {
		bool seen[N_OPTIONS] = {format && *format}; /* stdout:FORMAT names the format */
		struct option_ctx c = {s, uri};
		rc = fd_sink_options(uri, query, option_names, N_OPTIONS, seen, NULL, on_option, &c,
				     ctx, err);
	}
	if (rc == 0 && (s->format == F_OTLP_JSON || s->format == F_OTLP_PROTO)) {
		struct fd_batcher_limits l = {s->batch_records, s->batch_bytes, s->batch_window};
		if (!(s->batcher = fd_batcher_create(&l, emit_request, s)))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc == 0 && dir) {
		s->dir = strdup(dir);
		rc = s->dir ? fd_files_make_dirs(uri, dir, err) : fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc < 0) {
		fd_sink_destroy(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static int dir_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		    struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (n == 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': dir: needs a path, e.g. dir:out", uri);
	char *path = strndup(rest, n);
	if (!path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = fd_files_sink_open(uri, path, NULL, q ? q + 1 : NULL, ctx, out, err);
	free(path);
	return rc;
}

const struct fd_sink_descriptor fd_sink_dir_descriptor = {
	.scheme = "dir",
	.synopsis = "dir:PATH[?options]",
	.summary = "one file per signal in PATH, as the collector's file exporter",
	.options = fd_files_option_names,
	.help = "      format=otlp_json|otlp_proto|ecs|bulk|text|openmetrics (otlp_json)\n"
		"      batch_records=N (512), batch_bytes=SIZE (1MiB), batch_window=D (1s):\n"
		"                 the most records, bytes and record time per request\n"
		"      format=openmetrics: metrics.om for promtool's backfill;\n"
		"                 buffer=SIZE before spilling to disk (64MiB)\n",
	.open = dir_open,
};
