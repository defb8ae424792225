#include "tests/generator/collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "stream/intern.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

void collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	c->last_time = INT64_MIN;
	c->hash = 1469598103934665603ULL;
}

void collect_finish(struct collect *c)
{
	free(c->spans);
	free(c->log_traces);
	free(c->sorted);
	free(c->access.v);
	free(c->hist.v);
}

struct counter *counters_get(struct counters *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, key))
			return &c->v[i];
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
	}
	struct counter *x = &c->v[c->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->key, sizeof(x->key), "%s", key);
	return x;
}

/* Attribute value as text ("" when absent). */
static void attr(KeyValue **kv, size_t n, const char *key, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i]->key, key) != 0 || !kv[i]->value)
			continue;
		const Opentelemetry__Proto__Common__V1__AnyValue *v = kv[i]->value;
		if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			snprintf(out, len, "%s", v->string_value);
		else if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			snprintf(out, len, "%lld", (long long)v->int_value);
		return;
	}
}

static void instance_of(const struct fd_blob *res, char *out, size_t len)
{
	Opentelemetry__Proto__Resource__V1__Resource *r =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, res->len, res->data);
	out[0] = '\0';
	if (!r)
		return;
	char id[96], version[64];
	attr(r->attributes, r->n_attributes, "service.instance.id", id, sizeof(id));
	attr(r->attributes, r->n_attributes, "service.version", version, sizeof(version));
	snprintf(out, len, "%s@%s", id, version);
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A data point's attributes as "k=v,k=v" in key order. */
static void attr_signature(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n, char *out,
			   size_t len)
{
	char items[32][128];
	char *sorted[32];
	size_t m = n < 32 ? n : 32;
	for (size_t i = 0; i < m; i++) {
		const Opentelemetry__Proto__Common__V1__AnyValue *v = kv[i]->value;
		if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			snprintf(items[i], sizeof(items[i]), "%s=%s", kv[i]->key, v->string_value);
		else if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			snprintf(items[i], sizeof(items[i]), "%s=%lld", kv[i]->key, (long long)v->int_value);
		else if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE)
			snprintf(items[i], sizeof(items[i]), "%s=%d", kv[i]->key, (int)v->bool_value);
		else if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE)
			snprintf(items[i], sizeof(items[i]), "%s=%.17g", kv[i]->key, v->double_value);
		else
			snprintf(items[i], sizeof(items[i]), "%s=?", kv[i]->key);
		sorted[i] = items[i];
	}
	qsort(sorted, m, sizeof(sorted[0]), cmp_str);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "", sorted[i]);
}

/* Counts points of m whose attributes repeat an earlier point's. */
static void check_duplicates(struct collect *c, const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
	size_t n = 0;
	Opentelemetry__Proto__Common__V1__KeyValue ***attrs = NULL;
	size_t *nattrs = NULL;
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM: {
		size_t np = m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
				    ? m->gauge->n_data_points : m->sum->n_data_points;
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dp =
			m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
				? m->gauge->data_points : m->sum->data_points;
		attrs = calloc(np + 1, sizeof(*attrs));
		nattrs = calloc(np + 1, sizeof(*nattrs));
		for (size_t i = 0; attrs && nattrs && i < np; i++, n++) {
			attrs[i] = dp[i]->attributes;
			nattrs[i] = dp[i]->n_attributes;
		}
		break;
	}
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM: {
		size_t np = m->histogram->n_data_points;
		attrs = calloc(np + 1, sizeof(*attrs));
		nattrs = calloc(np + 1, sizeof(*nattrs));
		for (size_t i = 0; attrs && nattrs && i < np; i++, n++) {
			attrs[i] = m->histogram->data_points[i]->attributes;
			nattrs[i] = m->histogram->data_points[i]->n_attributes;
		}
		break;
	}
	default:
		break;
	}
	char (*sig)[KEY_LEN] = n ? calloc(n, sizeof(*sig)) : NULL;
	for (size_t i = 0; sig && i < n; i++) {
		attr_signature(attrs[i], nattrs[i], sig[i], KEY_LEN);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sig[i], sig[j]) == 0) {
				if (!c->duplicate_points)
					snprintf(c->duplicate_example, KEY_LEN, "%s{%s}", m->name, sig[i]);
				c->duplicate_points++;
				break;
			}
	}
	free(sig);
	free(attrs);
	free(nattrs);
}

int collect_emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	struct collect *c = ctx;
	if (rec->time_ns < c->last_time)
		c->out_of_order = true;
	c->last_time = rec->time_ns;
	c->records[rec->signal]++;
	c->hash = (c->hash ^ fd_hash64(rec->payload, rec->payload_len)) * 1099511628211ULL;
	c->hash = (c->hash ^ (uint64_t)rec->time_ns) * 1099511628211ULL;
	char inst[160], key[KEY_LEN];
	instance_of(rec->resource, inst, sizeof(inst));

	if (rec->signal == FD_SIGNAL_TRACES) {
		Opentelemetry__Proto__Trace__V1__Span *sp =
			opentelemetry__proto__trace__v1__span__unpack(NULL, rec->payload_len, rec->payload);
		if (!sp || sp->trace_id.len != 16) {
			c->decode_errors++;
			return 0;
		}
		if ((int64_t)sp->end_time_unix_nano != rec->time_ns)
			c->decode_errors++;
		if (sp->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER) {
			char route[128], status[16];
			attr(sp->attributes, sp->n_attributes, "http.route", route, sizeof(route));
			attr(sp->attributes, sp->n_attributes, "http.response.status_code", status, sizeof(status));
			if (c->n_spans == c->cap_spans) {
				c->cap_spans = c->cap_spans ? c->cap_spans * 2 : 4096;
				c->spans = realloc(c->spans, c->cap_spans * sizeof(*c->spans));
			}
			snprintf(key, sizeof(key), "%s|%s|%s", inst, route, status);
			snprintf(c->spans[c->n_spans].key, KEY_LEN, "%s", key);
			c->spans[c->n_spans].end = (int64_t)sp->end_time_unix_nano;
			c->spans[c->n_spans].dur = (int64_t)(sp->end_time_unix_nano - sp->start_time_unix_nano);
			memcpy(c->spans[c->n_spans].trace_id, sp->trace_id.data, 16);
			c->n_spans++;
			if (atoi(status) >= 500)
				c->server_spans_5xx++;
		}
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	} else if (rec->signal == FD_SIGNAL_LOGS) {
		Opentelemetry__Proto__Logs__V1__LogRecord *lr =
			opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec->payload_len, rec->payload);
		if (!lr) {
			c->decode_errors++;
			return 0;
		}
		if (lr->trace_id.len == 16) {
			if (c->n_log_traces == c->cap_log_traces) {
				c->cap_log_traces = c->cap_log_traces ? c->cap_log_traces * 2 : 4096;
				c->log_traces = realloc(c->log_traces, c->cap_log_traces * 16);
			}
			memcpy(c->log_traces[c->n_log_traces++], lr->trace_id.data, 16);
		}
		char type[32];
		attr(lr->attributes, lr->n_attributes, "log.type", type, sizeof(type));
		if (!strcmp(type, "access")) {
			char route[128], status[16];
			attr(lr->attributes, lr->n_attributes, "http.route", route, sizeof(route));
			attr(lr->attributes, lr->n_attributes, "http.response.status_code", status, sizeof(status));
			snprintf(key, sizeof(key), "%s|%s|%s", inst, route, status);
			counters_get(&c->access, key)->n++;
			if (atoi(status) >= 500)
				c->error_access_logs++;
		}
		opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
	} else {
		Opentelemetry__Proto__Metrics__V1__Metric *m =
			opentelemetry__proto__metrics__v1__metric__unpack(NULL, rec->payload_len, rec->payload);
		if (!m) {
			c->decode_errors++;
			return 0;
		}
		check_duplicates(c, m);
		if (!strcmp(m->name, "http.server.request.duration") &&
		    m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM) {
			for (size_t i = 0; i < m->histogram->n_data_points; i++) {
				Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dp = m->histogram->data_points[i];
				char route[128], status[16];
				attr(dp->attributes, dp->n_attributes, "http.route", route, sizeof(route));
				attr(dp->attributes, dp->n_attributes, "http.response.status_code", status,
				     sizeof(status));
				/* Dimensions split a route's series; the tests compare
				 * per route and status, so sum them per scrape. */
				snprintf(key, sizeof(key), "%s|%s|%s", inst, route, status);
				struct counter *x = counters_get(&c->hist, key);
				if (x->last_time != (int64_t)dp->time_unix_nano) {
					x->last_time = (int64_t)dp->time_unix_nano;
					x->n = 0;
					memset(x->buckets, 0, sizeof(x->buckets));
				}
				x->n += dp->count;
				x->nbuckets = (int)dp->n_bucket_counts;
				for (size_t b = 0; b < dp->n_bucket_counts && b < 16; b++)
					x->buckets[b] += dp->bucket_counts[b];
			}
		}
		opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
	}
	return 0;
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

bool collect_has_trace(struct collect *c, const uint8_t id[16])
{
	if (c->n_sorted != c->n_spans) {
		free(c->sorted);
		c->sorted = malloc((c->n_spans ? c->n_spans : 1) * 16);
		for (size_t i = 0; i < c->n_spans; i++)
			memcpy(c->sorted[i], c->spans[i].trace_id, 16);
		qsort(c->sorted, c->n_spans, 16, cmp16);
		c->n_sorted = c->n_spans;
	}
	return bsearch(id, c->sorted, c->n_sorted, 16, cmp16) != NULL;
}
