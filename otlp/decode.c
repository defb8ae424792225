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

/* ---- the wire ---- */

struct field {
	uint32_t num;
	unsigned type;
	uint64_t v;        /* varint and fixed values */
	const uint8_t *p;  /* length-delimited body */
	size_t n;
};

/* The next field of a message body. The request was validated before the
 * walk, so a framing error here only ends the walk early. */
static bool next_field(const uint8_t **pp, const uint8_t *end, struct field *f)
{
	const uint8_t *p = *pp;
	uint64_t tag = 0;
	unsigned shift = 0;
	for (;;) {
		if (p == end || shift > 63)
			return false;
		uint8_t b = *p++;
		tag |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	f->num = (uint32_t)(tag >> 3);
	f->type = (unsigned)(tag & 7);
	f->v = 0;
	f->p = NULL;
	f->n = 0;
	switch (f->type) {
	case 0:
	case 2:
		shift = 0;
		for (;;) {
			if (p == end || shift > 63)
				return false;
			uint8_t b = *p++;
			f->v |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80))
				break;
		}
		if (f->type == 2) {
			if (f->v > (uint64_t)(end - p))
				return false;
			f->p = p;
			f->n = (size_t)f->v;
			p += f->n;
		}
		break;
	case 1:
	case 5: {
		size_t w = f->type == 1 ? 8 : 4;
		if ((size_t)(end - p) < w)
			return false;
		for (size_t i = 0; i < w; i++)
			f->v |= (uint64_t)p[i] << (8 * i);
		p += w;
		break;
	}
	default:
		return false;
	}
	*pp = p;
	return true;
}

/* The last value of fixed64 field num in a message (0 when absent). */
static uint64_t fixed64_field(const uint8_t *p, size_t n, uint32_t num)
{
	const uint8_t *end = p + n;
	struct field f;
	uint64_t v = 0;
	while (next_field(&p, end, &f))
		if (f.num == num && f.type == 1)
			v = f.v;
	return v;
}

/* A metric's latest data point time: Metric.{gauge 5, sum 7, histogram 9,
 * exponential_histogram 10, summary 11}.data_points (1).time_unix_nano (3). */
static uint64_t metric_time(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	struct field f;
	uint64_t t = 0;
	while (next_field(&p, end, &f)) {
		if (f.type != 2 || !(f.num == 5 || f.num == 7 || f.num == 9 || f.num == 10 || f.num == 11))
			continue;
		const uint8_t *q = f.p, *qend = f.p + f.n;
		struct field dp;
		while (next_field(&q, qend, &dp)) {
			if (dp.num != 1 || dp.type != 2)
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

/* The body of length-delimited field num (the last one; empty when absent). */
static void sub_message(const uint8_t *p, size_t n, uint32_t num, const uint8_t **out,
			size_t *out_n)
{
	const uint8_t *end = p + n;
	struct field f;
	*out = NULL;
	*out_n = 0;
	while (next_field(&p, end, &f))
		if (f.num == num && f.type == 2) {
			*out = f.p;
			*out_n = f.n;
		}
}

static int split(struct fd_otlp_decoder *d, enum fd_signal sig, const uint8_t *req, size_t len,
		 int64_t fallback, fd_otlp_record_fn fn, void *ctx, struct fd_error *err)
{
	int count = 0;
	if (len == 0)
		return 0; /* an empty request; req may be NULL (JSON "{}") */
	const uint8_t *p = req, *end = req + len;
	struct field rf;
	while (next_field(&p, end, &rf)) {
		if (rf.num != 1 || rf.type != 2)
			continue;
		const uint8_t *res;
		size_t res_n;
		sub_message(rf.p, rf.n, 1, &res, &res_n);
		const struct fd_blob *resource = fd_intern_add(d->resources, res, res_n);
		if (!resource)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		const uint8_t *q = rf.p, *qend = rf.p + rf.n;
		struct field sf;
		while (next_field(&q, qend, &sf)) {
			if (sf.num != 2 || sf.type != 2)
				continue;
			const uint8_t *sc;
			size_t sc_n;
			sub_message(sf.p, sf.n, 1, &sc, &sc_n);
			const struct fd_blob *scope = fd_intern_add(d->scopes, sc, sc_n);
			if (!scope)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
			const uint8_t *r = sf.p, *rend = sf.p + sf.n;
			struct field pf;
			while (next_field(&r, rend, &pf)) {
				if (pf.num != 2 || pf.type != 2)
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
