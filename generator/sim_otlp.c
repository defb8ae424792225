/*
 * OTLP encoding of what the simulation observes: the resource of an
 * instance incarnation, log records, spans and metrics, written straight
 * into the simulation's reusable buffer with pbwrite (field numbers from
 * otlp/fields.h) and queued with sim_push_record.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/fields.h"
#include "generator/sim_internal.h"

const struct fd_blob *sim_make_resource(struct fd_sim *s, const struct inst *in,
					const char *version)
{
	struct pbw *w = &s->aux;
	pbw_reset(w);
	const struct fd_service *def = in->svc->def;
	const unsigned f = OTLP_RESOURCE_ATTRIBUTES;
	otlp_attr_str(w, f, "service.name", def->name);
	otlp_attr_str(w, f, "service.version", version);
	otlp_attr_str(w, f, "service.instance.id", in->id);
	otlp_attr_str(w, f, "service.namespace", s->sc->service_namespace);
	otlp_attr_str(w, f, "deployment.environment", s->sc->environment);
	otlp_attr_str(w, f, "deployment.environment.name", s->sc->environment);
	otlp_attr_str(w, f, "host.name", in->id);
	sim_runtime_resource(s, w, in->svc);
	fd_kube_resource_attrs(s->kube, in->pod, w); /* the k8sattributes processor's */
	if (w->oom)
		return NULL;
	return fd_intern_add(s->blobs, w->buf, w->len);
}

/* ---- logs -------------------------------------------------------------- */

/* When the collector observed a line written at t: a log agent tails each
 * instance's output every 200 ms (its own phase), reads a batch a little
 * later, and now and then falls seconds behind. A hash, not a draw, so the
 * model's random stream does not depend on how many lines there are. */
static int64_t observed_at(const struct inst *in, int64_t t)
{
	const int64_t poll = 200 * MS;
	uint64_t x = (uint64_t)in->svc->def->id * 0x9e3779b97f4a7c15ULL + (uint64_t)in->idx * 0xbf58476d1ce4e5b9ULL;
	int64_t phase = (int64_t)(fd_splitmix64(&x) % (uint64_t)poll);
	int64_t tick = (t - phase) / poll + 1;
	uint64_t y = x ^ (uint64_t)tick;
	uint64_t r = fd_splitmix64(&y);
	int64_t at = phase + tick * poll + 300000 + (int64_t)(r % (4 * MS)); /* read and ship */
	if (r >> 56 < 2) /* ~1% of batches: the agent is behind */
		at += 500 * MS + (int64_t)((r >> 20) % (3000 * MS));
	uint64_t z = (uint64_t)t ^ x;
	return at + (int64_t)(fd_splitmix64(&z) % 50000); /* line order within the batch */
}

void sim_log_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		  enum sim_scope_kind kind, const char *body, const struct logctx *ctx,
		  void (*attrs)(struct pbw *w, const void *ctx), const void *actx)
{
	struct incarnation *c = sim_inc_at(in, t, NULL);
	if (!c)
		c = sim_current_inc(in);
	if (!c)
		return;
	const struct fd_blob *scope = sim_scope(s, in->svc, kind, NULL);
	if (!scope)
		return;
	t = sim_clock(in, t);
	struct pbw *w = &s->w;
	pbw_reset(w);
	pbw_fixed64(w, OTLP_LOG_TIME, (uint64_t)t);
	pbw_varint(w, OTLP_LOG_SEVERITY_NUMBER, (uint64_t)severity);
	pbw_string(w, OTLP_LOG_SEVERITY_TEXT, severity >= SEV_ERROR ? "ERROR" : severity >= SEV_WARN ? "WARN"
			 : severity >= SEV_INFO ? "INFO" : "DEBUG");
	size_t b = pbw_begin(w, OTLP_LOG_BODY);
	pbw_string(w, OTLP_ANYVALUE_STRING, body);
	pbw_end(w, b);
	if (attrs)
		attrs(w, actx);
	if (ctx && ctx->trace_id) {
		if (ctx->sampled)
			pbw_fixed32(w, OTLP_LOG_FLAGS, OTLP_LOG_FLAGS_SAMPLED);
		pbw_bytes(w, OTLP_LOG_TRACE_ID, ctx->trace_id, 16);
		if (ctx->span_id)
			pbw_bytes(w, OTLP_LOG_SPAN_ID, ctx->span_id, 8);
	}
	pbw_fixed64(w, OTLP_LOG_OBSERVED_TIME, (uint64_t)observed_at(in, t));
	sim_push_record(s, t, FD_SIGNAL_LOGS, c->res, scope, w);
}

void sim_logf_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		   enum sim_scope_kind kind, const struct logctx *ctx, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	sim_log_line(s, in, t, severity, kind, body, ctx, NULL, NULL);
}

/* ---- spans ---------------------------------------------------------------- */

/* Writes the span's leading fields; the caller appends attributes
 * (OTLP_SPAN_ATTRIBUTES) and then calls sim_span_finish. */
void sim_span_begin(struct pbw *w, const struct span *sp, const struct inst *in, const char *name)
{
	/* times as the instance's clock reads them */
	int64_t skew = sim_clock(in, sp->start) - sp->start;
	pbw_reset(w);
	pbw_bytes(w, OTLP_SPAN_TRACE_ID, sp->trace_id, 16);
	pbw_bytes(w, OTLP_SPAN_SPAN_ID, sp->id, 8);
	if (sp->parent)
		pbw_bytes(w, OTLP_SPAN_PARENT_SPAN_ID, sp->parent, 8);
	pbw_string(w, OTLP_SPAN_NAME, name);
	pbw_varint(w, OTLP_SPAN_KIND, (uint64_t)sp->kind);
	pbw_fixed64(w, OTLP_SPAN_START_TIME, (uint64_t)(sp->start + skew));
	pbw_fixed64(w, OTLP_SPAN_END_TIME, (uint64_t)(sp->end + skew));
}

void sim_span_finish(struct fd_sim *s, struct pbw *w, const struct span *sp, struct inst *in,
		     const struct fd_blob *res, enum sim_scope_kind kind, const char *system)
{
	int64_t skew = sim_clock(in, sp->start) - sp->start;
	if (sp->exception_type) {
		size_t ev = pbw_begin(w, OTLP_SPAN_EVENTS);
		pbw_fixed64(w, OTLP_EVENT_TIME, (uint64_t)(sp->end + skew));
		pbw_string(w, OTLP_EVENT_NAME, "exception");
		otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.type", sp->exception_type);
		otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.message", sp->exception_msg ? sp->exception_msg : "");
		if (sp->stack)
			otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.stacktrace", sp->stack);
		pbw_end(w, ev);
	}
	if (sp->link_trace) {
		size_t l = pbw_begin(w, OTLP_SPAN_LINKS);
		pbw_bytes(w, OTLP_LINK_TRACE_ID, sp->link_trace, 16);
		pbw_bytes(w, OTLP_LINK_SPAN_ID, sp->link_span, 8);
		pbw_fixed32(w, OTLP_LINK_FLAGS, OTLP_SPAN_FLAGS_HAS_IS_REMOTE | OTLP_SPAN_FLAGS_IS_REMOTE |
						(sp->link_sampled ? OTLP_SPAN_FLAGS_SAMPLED : 0));
		pbw_end(w, l);
	}
	if (sp->error) {
		size_t st = pbw_begin(w, OTLP_SPAN_STATUS);
		if (sp->status_msg)
			pbw_string(w, OTLP_STATUS_MESSAGE, sp->status_msg);
		pbw_varint(w, OTLP_STATUS_CODE, OTLP_STATUS_CODE_ERROR);
		pbw_end(w, st);
	}
	/* only sampled spans are written; the parent of a server or consumer
	 * span is in the caller's process */
	pbw_fixed32(w, OTLP_SPAN_FLAGS, OTLP_SPAN_FLAGS_HAS_IS_REMOTE | OTLP_SPAN_FLAGS_SAMPLED |
					   (sp->remote_parent ? OTLP_SPAN_FLAGS_IS_REMOTE : 0));
	const struct fd_blob *scope = sim_scope(s, in->svc, kind, system);
	if (scope)
		sim_push_record(s, sp->end + skew, FD_SIGNAL_TRACES, res, scope, w);
}

void sim_dims_attrs(struct fd_sim *s, struct pbw *w, unsigned field, const struct req *rq)
{
	if (!rq || !rq->tr)
		return;
	/* a traffic entry has few combinations of values: each is encoded once
	 * for the logs (the spans' field number differs, and they are few) */
	struct sim_bytes *c = field == OTLP_LOG_ATTRIBUTES && s->dims_attrs && s->dims_attrs[rq->tr->id] &&
			      rq->combo < s->n_combos[rq->tr->id]
			      ? &s->dims_attrs[rq->tr->id][rq->combo] : NULL;
	if (c && c->buf) {
		if (pbw_room(w, c->len)) {
			memcpy(w->buf + w->len, c->buf, c->len);
			w->len += c->len;
		}
		return;
	}
	size_t from = w->len;
	for (size_t d = 0; d < rq->tr->n_dimensions && d < MAX_DIMS; d++)
		otlp_attr_str(w, field, rq->tr->dimensions[d].name,
			      rq->tr->dimensions[d].values[rq->dims[d]].name);
	if (c && !w->oom && w->len > from && (c->buf = malloc(w->len - from))) {
		memcpy(c->buf, w->buf + from, w->len - from);
		c->len = w->len - from;
	}
}

/* ---- metrics ---------------------------------------------------------------- */

/* A metric is written as sim_metric_begin (name, description, unit, then
 * the data message: OTLP_METRIC_GAUGE, _SUM or _HISTOGRAM), its points, and
 * sim_metric_end, which closes the data with its temporality and queues it. */

size_t sim_metric_begin(struct pbw *w, const char *name, const char *desc, const char *unit,
			   unsigned data_field)
{
	pbw_reset(w);
	pbw_string(w, OTLP_METRIC_NAME, name);
	pbw_string(w, OTLP_METRIC_DESCRIPTION, desc);
	pbw_string(w, OTLP_METRIC_UNIT, unit);
	return pbw_begin(w, data_field);
}

void sim_metric_end(struct fd_sim *s, struct pbw *w, size_t mark, unsigned data_field,
		    bool monotonic, int64_t t, const struct fd_blob *res, const struct fd_blob *scope)
{
	if (data_field == OTLP_METRIC_SUM || data_field == OTLP_METRIC_HISTOGRAM)
		pbw_varint(w, OTLP_DATA_TEMPORALITY, OTLP_TEMPORALITY_CUMULATIVE);
	if (data_field == OTLP_METRIC_SUM && monotonic)
		pbw_varint(w, OTLP_SUM_IS_MONOTONIC, 1);
	pbw_end(w, mark);
	sim_push_record(s, t, FD_SIGNAL_METRICS, res, scope, w);
}

void sim_histogram_values(struct pbw *w, int64_t start, int64_t t, double sum, const uint64_t *counts,
			  const double *bounds, size_t n_bounds)
{
	uint64_t count = 0;
	for (size_t k = 0; k <= n_bounds; k++)
		count += counts[k];
	pbw_fixed64(w, OTLP_HISTOGRAM_START_TIME, (uint64_t)start);
	pbw_fixed64(w, OTLP_HISTOGRAM_TIME, (uint64_t)t);
	pbw_fixed64(w, OTLP_HISTOGRAM_COUNT, count);
	pbw_double(w, OTLP_HISTOGRAM_SUM, sum);
	size_t b = pbw_begin(w, OTLP_HISTOGRAM_BUCKET_COUNTS); /* packed fixed64 */
	for (size_t k = 0; k <= n_bounds; k++)
		for (int j = 0; j < 8; j++)
			if (pbw_room(w, 1))
				w->buf[w->len++] = (uint8_t)(counts[k] >> (8 * j));
	pbw_end(w, b);
	b = pbw_begin(w, OTLP_HISTOGRAM_EXPLICIT_BOUNDS); /* packed double */
	for (size_t k = 0; k < n_bounds; k++) {
		uint64_t bits;
		memcpy(&bits, &bounds[k], 8);
		for (int j = 0; j < 8; j++)
			if (pbw_room(w, 1))
				w->buf[w->len++] = (uint8_t)(bits >> (8 * j));
	}
	pbw_end(w, b);
}

void sim_number_point(struct pbw *w, int64_t start, int64_t t, double v, bool is_int,
			 const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t dp = pbw_begin(w, OTLP_DATA_POINTS);
	if (k1)
		otlp_attr_str(w, OTLP_NUMBER_ATTRIBUTES, k1, v1);
	if (k2)
		otlp_attr_str(w, OTLP_NUMBER_ATTRIBUTES, k2, v2);
	if (start)
		pbw_fixed64(w, OTLP_NUMBER_START_TIME, (uint64_t)start);
	pbw_fixed64(w, OTLP_NUMBER_TIME, (uint64_t)t);
	if (is_int)
		pbw_fixed64(w, OTLP_NUMBER_AS_INT, (uint64_t)(int64_t)llround(v));
	else
		pbw_double(w, OTLP_NUMBER_AS_DOUBLE, v);
	pbw_end(w, dp);
}

