/*
 * Export request -> records. The request is validated with protobuf-c and
 * then walked on the wire, so payload, resource and scope bytes are taken
 * as they are: a request recorded from Kafka replays byte for byte.
 *
 * The three request types share one shape (otlp_batch.h):
 *   Export*ServiceRequest { repeated Resource* = 1 }
 *   Resource*            { Resource resource = 1; repeated Scope* = 2; string schema_url = 3 }
 *   Scope*               { InstrumentationScope scope = 1; repeated <payload> = 2; ... }
 */
#include "otlp/decode.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stream/intern.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/json.h"
#include "otlp/json_read.h"
#include "otlp/arena.h"
#include "otlp/pbread.h"
#include "otlp/pbwrite.h"

struct fd_otlp_decoder {
	struct fd_intern *resources, *scopes;
	struct pbw json; /* a JSON message converted to protobuf; reused */
	struct fd_pb_arena arena; /* protobuf-c's check of each request, reset after it */
};

int fd_otlp_format_parse(const char *name, enum fd_otlp_format *out)
{
	if (!strcmp(name, "otlp_proto"))
		*out = FD_OTLP_PROTO;
	else if (!strcmp(name, "otlp_json"))
		*out = FD_OTLP_JSON;
	else if (!strcmp(name, "detect"))
		*out = FD_OTLP_DETECT;
	else
		return -1;
	return 0;
}

const char *fd_otlp_format_name(enum fd_otlp_format f)
{
	return f == FD_OTLP_PROTO ? "otlp_proto" : f == FD_OTLP_JSON ? "otlp_json" : "detect";
}

struct fd_otlp_decoder *fd_otlp_decoder_create(void)
{
	struct fd_otlp_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	fd_pb_arena_init(&d->arena);
	d->resources = fd_intern_create();
	d->scopes = fd_intern_create();
	if (!d->resources || !d->scopes) {
		fd_otlp_decoder_destroy(d);
		return NULL;
	}
	return d;
}

void fd_otlp_decoder_destroy(struct fd_otlp_decoder *d)
{
	if (!d)
		return;
	fd_intern_destroy(d->resources);
	fd_intern_destroy(d->scopes);
	pbw_finish(&d->json);
	fd_pb_arena_free(&d->arena);
	free(d);
}

uint32_t fd_otlp_decoder_resources(const struct fd_otlp_decoder *d)
{
	return fd_intern_count(d->resources);
}

uint32_t fd_otlp_decoder_scopes(const struct fd_otlp_decoder *d)
{
	return fd_intern_count(d->scopes);
}

/* ---- the wire ----
 * The request was validated before the walk, so a framing error here only
 * ends the walk early. */

/* The last value of fixed64 field num in a message (0 when absent). */
static uint64_t fixed64_field(const uint8_t *p, size_t n, uint32_t num)
{
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	uint64_t v = 0;
	while (fd_pb_next(&r, &f) > 0)
		if (f.num == num && f.type == PB_FIXED64)
			v = f.v;
	return v;
}

/* A metric's latest data point time: Metric.{gauge 5, sum 7, histogram 9,
 * exponential_histogram 10, summary 11}.data_points (1).time_unix_nano (3). */
static uint64_t metric_time(const uint8_t *p, size_t n)
{
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	uint64_t t = 0;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.type != PB_LEN || !(f.num == 5 || f.num == 7 || f.num == 9 || f.num == 10 || f.num == 11))
			continue;
		struct fd_pb_reader q = fd_pb_reader(f.p, f.n);
		struct fd_pb_field dp;
		while (fd_pb_next(&q, &dp) > 0) {
			if (dp.num != 1 || dp.type != PB_LEN)
				continue;
			uint64_t x = fixed64_field(dp.p, dp.n, 3);
			if (x > t)
				t = x;
		}
	}
	return t;
}

static int64_t record_time(enum fd_signal sig, const uint8_t *p, size_t n, int64_t fallback)
{
	uint64_t t = 0;
	switch (sig) {
	case FD_SIGNAL_TRACES:
		t = fixed64_field(p, n, 8); /* end_time_unix_nano */
		if (!t)
			t = fixed64_field(p, n, 7);
		break;
	case FD_SIGNAL_LOGS:
		t = fixed64_field(p, n, 1); /* time_unix_nano */
		if (!t)
			t = fixed64_field(p, n, 11); /* observed_time_unix_nano */
		break;
	case FD_SIGNAL_METRICS:
		t = metric_time(p, n);
		break;
	}
	/* fixed64 times above INT64_MAX (year 2262) are not times: fallback */
	return t && t <= INT64_MAX ? (int64_t)t : fallback;
}

static int split(struct fd_otlp_decoder *d, enum fd_signal sig, const uint8_t *req, size_t len,
		 int64_t fallback, fd_otlp_record_fn fn, void *ctx, struct fd_error *err)
{
	int count = 0;
	if (len == 0)
		return 0; /* an empty request; req may be NULL (JSON "{}") */
	struct fd_pb_reader rr = fd_pb_reader(req, len);
	struct fd_pb_field rf;
	while (fd_pb_next(&rr, &rf) > 0) {
		if (rf.num != 1 || rf.type != PB_LEN)
			continue;
		const uint8_t *res;
		size_t res_n;
		fd_pb_find(rf.p, rf.n, 1, &res, &res_n);
		const struct fd_blob *resource = fd_intern_add(d->resources, res, res_n);
		if (!resource)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		struct fd_pb_reader sr = fd_pb_reader(rf.p, rf.n);
		struct fd_pb_field sf;
		while (fd_pb_next(&sr, &sf) > 0) {
			if (sf.num != 2 || sf.type != PB_LEN)
				continue;
			const uint8_t *sc;
			size_t sc_n;
			fd_pb_find(sf.p, sf.n, 1, &sc, &sc_n);
			const struct fd_blob *scope = fd_intern_add(d->scopes, sc, sc_n);
			if (!scope)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
			struct fd_pb_reader pr = fd_pb_reader(sf.p, sf.n);
			struct fd_pb_field pf;
			while (fd_pb_next(&pr, &pf) > 0) {
				if (pf.num != 2 || pf.type != PB_LEN)
					continue;
				struct fd_record rec = {
					.time_ns = record_time(sig, pf.p, pf.n, fallback),
					.signal = sig,
					.resource = resource,
					.scope = scope,
					.payload = pf.p,
					.payload_len = pf.n,
				};
				int rc = fn(ctx, &rec, err);
				if (rc < 0)
					return rc;
				count++;
			}
		}
	}
	return count;
}

/* Is a decoded request of signal s plausible as that signal? The wire
 * shapes coincide, so protobuf-c may decode spans as metrics (a trace id
 * read as a name); the required parts of each payload tell them apart. */
static bool plausible(enum fd_signal s, const ProtobufCMessage *m)
{
	if (s == FD_SIGNAL_TRACES) {
		const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (const void *)m;
		for (size_t i = 0; i < r->n_resource_spans; i++)
			for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
				const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
					r->resource_spans[i]->scope_spans[j];
				for (size_t k = 0; k < ss->n_spans; k++)
					if (ss->spans[k]->trace_id.len != 16 || ss->spans[k]->span_id.len != 8)
						return false;
			}
	} else if (s == FD_SIGNAL_METRICS) {
		const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
			(const void *)m;
		for (size_t i = 0; i < r->n_resource_metrics; i++)
			for (size_t j = 0; j < r->resource_metrics[i]->n_scope_metrics; j++) {
				const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
					r->resource_metrics[i]->scope_metrics[j];
				for (size_t k = 0; k < sm->n_metrics; k++)
					if (!sm->metrics[k]->name || !sm->metrics[k]->name[0] ||
					    sm->metrics[k]->data_case ==
						    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA__NOT_SET)
						return false;
			}
	}
	return true;
}

int fd_otlp_decode(struct fd_otlp_decoder *d, const uint8_t *msg, size_t len,
		   enum fd_otlp_format format, int signal, int64_t fallback_ns,
		   enum fd_signal *found, fd_otlp_record_fn fn, void *ctx, struct fd_error *err)
{
	if (len && !msg)
		return fd_error_set(err, FD_EINPUT, "no data");
	if (format == FD_OTLP_DETECT) {
		size_t i = 0;
		while (i < len && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n'))
			i++;
		/* '{' as a protobuf tag would be field 15 starting a group, which
		 * OTLP never has: the two encodings cannot be confused. */
		format = i < len && msg[i] == '{' ? FD_OTLP_JSON : FD_OTLP_PROTO;
	}
	enum fd_signal sig;
	if (format == FD_OTLP_JSON) {
		int rc = fd_otlp_json_read((const char *)msg, len, signal, &sig, &d->json, err);
		if (rc < 0)
			return rc;
		if (signal >= 0 && (int)sig != signal)
			return fd_error_set(err, FD_EINPUT, "a %s request where %s were expected",
					    fd_signal_name(sig), fd_signal_name((enum fd_signal)signal));
		/* No second check with protobuf-c: the conversion writes only
		 * fields of the schema, typed by its descriptors, nested no
		 * deeper than the wire check allows, so the bytes decode. */
		if (found)
			*found = sig;
		return split(d, sig, d->json.buf, d->json.len, fallback_ns, fn, ctx, err);
	}
	int first = signal >= 0 ? signal : 0, last = signal >= 0 ? signal : FD_SIGNAL_COUNT - 1;
	if (first < 0 || last >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "unknown signal %d", signal);
	bool ok = false;
	for (int s = first; s <= last && !ok; s++) {
		ProtobufCMessage *m =
			fd_otlp_json_unpack(fd_otlp_request_descriptor((enum fd_signal)s), msg, len, &d->arena);
		if (m && (first == last || plausible((enum fd_signal)s, m))) {
			ok = true;
			sig = (enum fd_signal)s;
		}
		fd_pb_arena_reset(&d->arena);
	}
	if (!ok) {
		if (first == last)
			return fd_error_set(err, FD_EINPUT, "%zu bytes are not a well-formed %s export request",
					    len, fd_signal_name((enum fd_signal)first));
		return fd_error_set(err, FD_EINPUT,
				    "%zu bytes are not a well-formed traces, metrics or logs export request",
				    len);
	}
	if (found)
		*found = sig;
	return split(d, sig, msg, len, fallback_ns, fn, ctx, err);
}
