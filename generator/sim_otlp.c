/*
 * OTLP encoding of what the simulation observes: the resource of an
 * instance incarnation, log records, spans and metrics, written straight
 * into the simulation's reusable buffer with pbwrite (field numbers from
 * otlp/fields.h) and queued with sim_push_record.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "otlp/fields.h"
#include "generator/sim_internal.h"

const struct fd_blob *sim_make_resource(struct fd_sim *s, const struct inst *in,
					   const char *version)
{
	struct pbw *w = &s->aux;
	pbw_reset(w);
	const struct fd_service *def = in->svc->def;
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "service.name", def->name);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "service.version", version);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "service.instance.id", in->id);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "service.namespace", s->sc->name);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "deployment.environment", s->sc->environment);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "deployment.environment.name", s->sc->environment);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "host.name", in->id);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "process.runtime.name", def->runtime_name);
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "telemetry.sdk.name", "firedrill");
	otlp_attr_str(w, OTLP_RESOURCE_ATTRIBUTES, "telemetry.sdk.language", def->runtime_name);
	if (w->oom)
		return NULL;
	return fd_intern_add(s->blobs, w->buf, w->len);
}

/* ---- logs -------------------------------------------------------------- */

void sim_log_line(struct fd_sim *s, struct inst *in, int64_t t, int severity, const char *body,
		     const uint8_t *trace_id, const uint8_t *span_id,
		     void (*attrs)(struct pbw *w, const void *ctx), const void *ctx)
{
	struct incarnation *c = sim_inc_at(in, t, NULL);
	if (!c)
		c = sim_current_inc(in);
	if (!c)
		return;
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
		attrs(w, ctx);
	if (trace_id) {
		pbw_fixed32(w, OTLP_LOG_FLAGS, OTLP_LOG_FLAGS_SAMPLED);
		pbw_bytes(w, OTLP_LOG_TRACE_ID, trace_id, 16);
		pbw_bytes(w, OTLP_LOG_SPAN_ID, span_id, 8);
	}
	pbw_fixed64(w, OTLP_LOG_OBSERVED_TIME, (uint64_t)t);
	sim_push_record(s, t, FD_SIGNAL_LOGS, c->res, w);
}

void sim_logf_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		      const uint8_t *trace_id, const uint8_t *span_id, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	sim_log_line(s, in, t, severity, body, trace_id, span_id, NULL, NULL);
}

/* ---- spans ---------------------------------------------------------------- */

/* Writes the span's leading fields; the caller appends attributes
 * (OTLP_SPAN_ATTRIBUTES) and then calls sim_span_finish. */
void sim_span_begin(struct pbw *w, const struct span *sp, const char *name)
{
	pbw_reset(w);
	pbw_bytes(w, OTLP_SPAN_TRACE_ID, sp->trace_id, 16);
	pbw_bytes(w, OTLP_SPAN_SPAN_ID, sp->id, 8);
	if (sp->parent)
		pbw_bytes(w, OTLP_SPAN_PARENT_SPAN_ID, sp->parent, 8);
	pbw_string(w, OTLP_SPAN_NAME, name);
	pbw_varint(w, OTLP_SPAN_KIND, (uint64_t)sp->kind);
	pbw_fixed64(w, OTLP_SPAN_START_TIME, (uint64_t)sp->start);
	pbw_fixed64(w, OTLP_SPAN_END_TIME, (uint64_t)sp->end);
}

void sim_span_finish(struct fd_sim *s, struct pbw *w, const struct span *sp,
			const struct fd_blob *res, const char *stack_frame)
{
	if (sp->exception_type) {
		size_t ev = pbw_begin(w, OTLP_SPAN_EVENTS);
		pbw_fixed64(w, OTLP_EVENT_TIME, (uint64_t)sp->end);
		pbw_string(w, OTLP_EVENT_NAME, "exception");
		otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.type", sp->exception_type);
		otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.message", sp->exception_msg ? sp->exception_msg : "");
		char stack[512];
		snprintf(stack, sizeof(stack),
			 "%s: %s\n\tat %s\n\tat server.handle(server:212)\n\tat runtime.main(main:1)",
			 sp->exception_type, sp->exception_msg ? sp->exception_msg : "",
			 stack_frame ? stack_frame : "handler");
		otlp_attr_str(w, OTLP_EVENT_ATTRIBUTES, "exception.stacktrace", stack);
		pbw_end(w, ev);
	}
	if (sp->link_trace) {
		size_t l = pbw_begin(w, OTLP_SPAN_LINKS);
		pbw_bytes(w, OTLP_LINK_TRACE_ID, sp->link_trace, 16);
		pbw_bytes(w, OTLP_LINK_SPAN_ID, sp->link_span, 8);
		pbw_end(w, l);
	}
	if (sp->error) {
		size_t st = pbw_begin(w, OTLP_SPAN_STATUS);
		if (sp->status_msg)
			pbw_string(w, OTLP_STATUS_MESSAGE, sp->status_msg);
		pbw_varint(w, OTLP_STATUS_CODE, OTLP_STATUS_CODE_ERROR);
		pbw_end(w, st);
	}
	pbw_fixed32(w, OTLP_SPAN_FLAGS, OTLP_SPAN_FLAGS_HAS_IS_REMOTE | OTLP_SPAN_FLAGS_SAMPLED);
	sim_push_record(s, sp->end, FD_SIGNAL_TRACES, res, w);
}

void sim_dims_attrs(struct pbw *w, unsigned field, const struct req *rq)
{
	if (!rq || !rq->tr)
		return;
	for (size_t d = 0; d < rq->tr->n_dimensions && d < MAX_DIMS; d++)
		otlp_attr_str(w, field, rq->tr->dimensions[d].name,
			      rq->tr->dimensions[d].values[rq->dims[d]].name);
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
		       bool monotonic, int64_t t, const struct fd_blob *res)
{
	if (data_field == OTLP_METRIC_SUM || data_field == OTLP_METRIC_HISTOGRAM)
		pbw_varint(w, OTLP_DATA_TEMPORALITY, OTLP_TEMPORALITY_CUMULATIVE);
	if (data_field == OTLP_METRIC_SUM && monotonic)
		pbw_varint(w, OTLP_SUM_IS_MONOTONIC, 1);
	pbw_end(w, mark);
	sim_push_record(s, t, FD_SIGNAL_METRICS, res, w);
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

