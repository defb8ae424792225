#include "tests/builtin/observe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/builtin.h"
#include "stream/intern.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "generator/scenario.h"
#include "generator/sim.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 1024;
	void *v = realloc(p, *cap * size);
	if (!v)
		abort();
	return v;
}

static void attr_text(const Opentelemetry__Proto__Common__V1__AnyValue *v, char *out, size_t len)
{
	out[0] = '\0';
	if (!v)
		return;
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		snprintf(out, len, "%s", v->string_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		snprintf(out, len, "%lld", (long long)v->int_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		snprintf(out, len, "%.9g", v->double_value);
		break;
	default:
		break;
	}
}

static const KeyValue *find_attr(KeyValue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i];
	return NULL;
}

/* Resources are interned by the simulation: one pointer per incarnation. */
static int res_of(struct obs *o, const struct fd_blob *blob)
{
	for (size_t i = o->n_res; i-- > 0;)
		if (o->res[i].blob == blob)
			return (int)i;
	o->res = realloc(o->res, (o->n_res + 1) * sizeof(*o->res));
	if (!o->res)
		abort();
	struct obs_res *r = &o->res[o->n_res];
	memset(r, 0, sizeof(*r));
	r->blob = blob;
	Opentelemetry__Proto__Resource__V1__Resource *res =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, blob->len, blob->data);
	if (res) {
		const KeyValue *kv;
		if ((kv = find_attr(res->attributes, res->n_attributes, "service.name")))
			attr_text(kv->value, r->service, sizeof(r->service));
		if ((kv = find_attr(res->attributes, res->n_attributes, "service.instance.id")))
			attr_text(kv->value, r->instance, sizeof(r->instance));
		if ((kv = find_attr(res->attributes, res->n_attributes, "service.version")))
			attr_text(kv->value, r->version, sizeof(r->version));
		if ((kv = find_attr(res->attributes, res->n_attributes, "k8s.node.name")))
			attr_text(kv->value, r->node, sizeof(r->node));
		if ((kv = find_attr(res->attributes, res->n_attributes, "k8s.pod.name")))
			attr_text(kv->value, r->pod, sizeof(r->pod));
		if ((kv = find_attr(res->attributes, res->n_attributes, "k8s.namespace.name")))
			attr_text(kv->value, r->ns, sizeof(r->ns));
		if ((kv = find_attr(res->attributes, res->n_attributes, "k8s.object.name")))
			attr_text(kv->value, r->object, sizeof(r->object));
		if ((kv = find_attr(res->attributes, res->n_attributes, "k8s.object.kind")))
			attr_text(kv->value, r->kind, sizeof(r->kind));
		opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
	} else {
		o->decode_errors++;
	}
	return (int)o->n_res++;
}

static uint16_t key_of(struct obs *o, const char *key)
{
	for (size_t i = 0; i < o->n_keys; i++)
		if (!strcmp(o->keys[i], key))
			return (uint16_t)i;
	o->keys = realloc(o->keys, (o->n_keys + 1) * sizeof(*o->keys));
	if (!o->keys)
		abort();
	snprintf(o->keys[o->n_keys], sizeof(o->keys[0]), "%s", key);
	return (uint16_t)o->n_keys++;
}

static uint16_t series_of(struct obs *o, const char *key)
{
	for (size_t i = o->n_series; i-- > 0;)
		if (!strcmp(o->series[i], key))
			return (uint16_t)i;
	o->series = realloc(o->series, (o->n_series + 1) * sizeof(*o->series));
	if (!o->series)
		abort();
	snprintf(o->series[o->n_series], sizeof(o->series[0]), "%s", key);
	return (uint16_t)o->n_series++;
}

/* The metric's name (field 1, first in the record) without unpacking it. */
static bool metric_wanted(const struct obs *o, const uint8_t *p, size_t len)
{
	if (len < 2 || p[0] != 0x0a || p[1] >= 0x80 || (size_t)p[1] + 2 > len)
		return false;
	for (const char *const *m = o->metrics; m && *m; m++)
		if (strlen(*m) == p[1] && !memcmp(*m, p + 2, p[1]))
			return true;
	return false;
}

static void on_log(struct obs *o, const struct fd_record *rec, int r)
{
	Opentelemetry__Proto__Logs__V1__LogRecord *lr =
		opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec->payload_len, rec->payload);
	if (!lr) {
		o->decode_errors++;
		return;
	}
	int32_t t_ms = (int32_t)((rec->time_ns - o->start) / 1000000);
	const KeyValue *type = find_attr(lr->attributes, lr->n_attributes, "log.type");
	if (type && type->value && type->value->string_value &&
	    !strcmp(type->value->string_value, "access")) {
		char method[16] = "", route[96] = "", status[32] = "", dur[32] = "", key[192];
		const KeyValue *kv;
		if ((kv = find_attr(lr->attributes, lr->n_attributes, "http.request.method")))
			attr_text(kv->value, method, sizeof(method));
		if ((kv = find_attr(lr->attributes, lr->n_attributes, "http.route")))
			attr_text(kv->value, route, sizeof(route));
		if ((kv = find_attr(lr->attributes, lr->n_attributes, "http.response.status_code")))
			attr_text(kv->value, status, sizeof(status));
		if ((kv = find_attr(lr->attributes, lr->n_attributes, "http.server.request.duration")))
			attr_text(kv->value, dur, sizeof(dur));
		snprintf(key, sizeof(key), "%s %s %s", o->res[r].service, method, route);
		o->reqs = grow(o->reqs, &o->cap_reqs, o->n_reqs, sizeof(*o->reqs));
		o->reqs[o->n_reqs++] = (struct obs_req){
			.t_ms = t_ms, .dur_us = (int32_t)(atof(dur) * 1e6), .key = key_of(o, key),
			.status = (uint16_t)atoi(status), .inst = (uint16_t)r,
		};
	} else {
		o->logs = grow(o->logs, &o->cap_logs, o->n_logs, sizeof(*o->logs));
		const char *body = lr->body && lr->body->value_case ==
				   OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
				   ? lr->body->string_value : "";
		o->logs[o->n_logs++] = (struct obs_log){
			.t_ms = t_ms, .inst = (uint16_t)r, .severity = (uint8_t)lr->severity_number,
			.body = strdup(body),
		};
	}
	opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
}

static void push_point(struct obs *o, const char *key, uint64_t time_ns, double v)
{
	o->points = grow(o->points, &o->cap_points, o->n_points, sizeof(*o->points));
	o->points[o->n_points++] = (struct obs_point){
		/* the scrape the point belongs to: each instance collects at
		 * its own phase of the interval, by its own clock */
		.t_s = (int32_t)(llround((double)((int64_t)time_ns - o->start) / (double)o->scrape_ns) *
				 (o->scrape_ns / 1000000000)),
		.series = series_of(o, key), .v = v,
	};
}

static void on_metric(struct obs *o, const struct fd_record *rec, int r)
{
	if (!metric_wanted(o, rec->payload, rec->payload_len))
		return;
	Opentelemetry__Proto__Metrics__V1__Metric *m =
		opentelemetry__proto__metrics__v1__metric__unpack(NULL, rec->payload_len, rec->payload);
	if (!m) {
		o->decode_errors++;
		return;
	}
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dp = NULL;
	size_t n = 0;
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM) {
		/* a histogram stands for its sum here (jvm.gc.duration: GC seconds) */
		for (size_t i = 0; i < m->histogram->n_data_points; i++) {
			char key[256];
			snprintf(key, sizeof(key), "%s|%s@%s|", m->name, o->res[r].instance, o->res[r].version);
			const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = m->histogram->data_points[i];
			push_point(o, key, hp->time_unix_nano, hp->sum);
		}
	} else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
		dp = m->gauge->data_points;
		n = m->gauge->n_data_points;
	} else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) {
		dp = m->sum->data_points;
		n = m->sum->n_data_points;
	}
	for (size_t i = 0; i < n; i++) {
		char key[512];
		/* the cluster's metrics have no instance: their pod or node */
		const struct obs_res *rs = &o->res[r];
		int len = snprintf(key, sizeof(key), "%s|%s@%s|%s%s%s", m->name,
				   rs->instance[0] ? rs->instance : rs->pod[0] ? rs->pod : rs->node, rs->version,
				   rs->node[0] ? "node=" : "", rs->node, rs->node[0] ? "," : "");
		for (size_t a = 0; a < dp[i]->n_attributes && len > 0 && (size_t)len < sizeof(key); a++) {
			char v[96];
			attr_text(dp[i]->attributes[a]->value, v, sizeof(v));
			len += snprintf(key + len, sizeof(key) - (size_t)len, "%s=%s,",
					dp[i]->attributes[a]->key, v);
		}
		double v = dp[i]->value_case ==
				   OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
			   ? (double)dp[i]->as_int : dp[i]->as_double;
		push_point(o, key, dp[i]->time_unix_nano, v);
	}
	opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
}

static int emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	struct obs *o = ctx;
	if (rec->signal == FD_SIGNAL_TRACES)
		return 0;
	int r = res_of(o, rec->resource);
	if (rec->signal == FD_SIGNAL_LOGS)
		on_log(o, rec, r);
	else
		on_metric(o, rec, r);
	return 0;
}

/* action: NULL for a plain run; else a live drill's run with the action
 * taken at action_at_ns after the start */
static int run_text(struct obs *o, const char *name, const char *text, size_t len, int64_t duration_ns,
		    const char *const *metrics, const char *action, int64_t action_at_ns)
{
	memset(o, 0, sizeof(*o));
	o->metrics = metrics;
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	if (fd_scenario_parse(name, text, len, &sc, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	struct fd_sim_options opt = {.duration_ns = duration_ns, .live = action != NULL};
	struct fd_sim *sim = NULL;
	int rc = fd_sim_create(sc, &opt, &sim, &err);
	if (rc == 0 && action) {
		const struct fd_action *a = fd_scenario_find_action(sc, action);
		if (!a)
			rc = fd_error_set(&err, FD_EINPUT, "no action %s", action);
		else
			rc = fd_sim_take(sim, a, fd_sim_start(sim) + action_at_ns, &err);
	}
	if (rc == 0) {
		o->start = fd_sim_start(sim);
		o->scrape_ns = sc->scrape_interval_ns >= 1000000000 ? sc->scrape_interval_ns : 15000000000LL;
		rc = fd_sim_run(sim, emit, o, &err);
	}
	if (rc == 0) {
		const struct fd_sim_figure *f;
		o->n_figs = fd_sim_figures(sim, &f);
		o->figs = calloc(o->n_figs ? o->n_figs : 1, sizeof(*o->figs));
		for (size_t i = 0; i < o->n_figs; i++) {
			snprintf(o->figs[i].name, sizeof(o->figs[i].name), "%s", f[i].name);
			snprintf(o->figs[i].subject, sizeof(o->figs[i].subject), "%s", f[i].subject);
			snprintf(o->figs[i].phase, sizeof(o->figs[i].phase), "%s", f[i].phase);
			o->figs[i].value = f[i].value;
		}
	}
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", name, err.msg);
	fd_sim_destroy(sim);
	fd_scenario_destroy(sc);
	return rc;
}

int obs_run_text(struct obs *o, const char *name, const char *text, size_t len, int64_t duration_ns,
		 const char *const *metrics)
{
	return run_text(o, name, text, len, duration_ns, metrics, NULL, 0);
}

int obs_run_drill(struct obs *o, const char *builtin, const char *const *metrics, const char *action,
		  int64_t at_ns)
{
	const struct fd_builtin *b = fd_builtin_find(builtin);
	if (!b) {
		fprintf(stderr, "no built-in scenario %s\n", builtin);
		memset(o, 0, sizeof(*o));
		return -1;
	}
	return run_text(o, b->file, b->text, b->len, 0, metrics, action, at_ns);
}

int obs_run(struct obs *o, const char *builtin, int64_t duration_ns, const char *const *metrics)
{
	const struct fd_builtin *b = fd_builtin_find(builtin);
	if (!b) {
		fprintf(stderr, "no built-in scenario %s\n", builtin);
		memset(o, 0, sizeof(*o));
		return -1;
	}
	return obs_run_text(o, b->file, b->text, b->len, duration_ns, metrics);
}

void obs_free(struct obs *o)
{
	for (size_t i = 0; i < o->n_logs; i++)
		free(o->logs[i].body);
	free(o->logs);
	free(o->reqs);
	free(o->points);
	free(o->keys);
	free(o->series);
	free(o->res);
	free(o->figs);
	memset(o, 0, sizeof(*o));
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

struct obs_stats obs_window(const struct obs *o, const char *key, double t0, double t1,
			    const char *inst)
{
	struct obs_stats st = {.p50 = NAN, .p95 = NAN, .p99 = NAN, .error_rate = NAN};
	int k = -1;
	for (size_t i = 0; i < o->n_keys; i++)
		if (!strcmp(o->keys[i], key))
			k = (int)i;
	if (k < 0)
		return st;
	int32_t *d = malloc((o->n_reqs ? o->n_reqs : 1) * sizeof(*d));
	size_t n = 0, errors = 0;
	for (size_t i = 0; i < o->n_reqs; i++) {
		const struct obs_req *q = &o->reqs[i];
		if (q->key != k || q->t_ms < t0 * 1000 || q->t_ms >= t1 * 1000)
			continue;
		if (inst && !strstr(o->res[q->inst].instance, inst))
			continue;
		d[n++] = q->dur_us;
		errors += q->status >= 500;
	}
	if (n) {
		qsort(d, n, sizeof(*d), cmp_i32);
		st.n = n;
		st.p50 = d[(size_t)ceil(0.50 * (double)n) - 1] / 1e6;
		st.p95 = d[(size_t)ceil(0.95 * (double)n) - 1] / 1e6;
		st.p99 = d[(size_t)ceil(0.99 * (double)n) - 1] / 1e6;
		st.error_rate = (double)errors / (double)n;
	}
	free(d);
	return st;
}

static bool series_match(const struct obs *o, size_t s, const char *name, const char *filter)
{
	size_t nl = strlen(name);
	if (strncmp(o->series[s], name, nl) || o->series[s][nl] != '|')
		return false;
	return !filter || strstr(o->series[s] + nl, filter);
}

double obs_metric(const struct obs *o, const char *name, const char *filter, double t0, double t1,
		  enum obs_agg agg)
{
	bool *want = calloc(o->n_series ? o->n_series : 1, sizeof(bool));
	for (size_t s = 0; s < o->n_series; s++)
		want[s] = series_match(o, s, name, filter);
	/* sum per scrape time; points arrive in time order */
	double acc = NAN, cur = 0;
	int32_t cur_t = INT32_MIN;
	size_t scrapes = 0;
	for (size_t i = 0; i <= o->n_points; i++) {
		bool end = i == o->n_points;
		const struct obs_point *p = end ? NULL : &o->points[i];
		if (!end && (!want[p->series] || p->t_s < t0 || p->t_s >= t1))
			continue;
		if (end || p->t_s != cur_t) {
			if (cur_t != INT32_MIN) {
				scrapes++;
				if (isnan(acc))
					acc = cur;
				else if (agg == OBS_MEAN)
					acc += cur;
				else if (agg == OBS_MAX)
					acc = fmax(acc, cur);
				else if (agg == OBS_MIN)
					acc = fmin(acc, cur);
				else
					acc = cur;
			}
			if (end)
				break;
			cur_t = p->t_s;
			cur = 0;
		}
		cur += p->v;
	}
	free(want);
	if (agg == OBS_MEAN && scrapes)
		acc /= (double)scrapes;
	return acc;
}

static bool is_service(const struct obs *o, const char *name)
{
	for (size_t i = 0; i < o->n_res; i++)
		if (!strcmp(o->res[i].service, name))
			return true;
	return false;
}

size_t obs_logs(const struct obs *o, const char *who, const char *text, double t0, double t1)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_logs; i++) {
		const struct obs_log *l = &o->logs[i];
		if (l->t_ms < t0 * 1000 || l->t_ms >= t1 * 1000)
			continue;
		const struct obs_res *r = &o->res[l->inst];
		/* a Kubernetes event is about its object, on its node: not a
		 * service's own log line */
		if (who && r->object[0] ? !strstr(r->object, who) && !strstr(r->node, who)
		    : who && !strstr(r->instance, who) && strcmp(r->service, who))
			continue;
		if (who && r->object[0] && is_service(o, who))
			continue;
		if (strstr(l->body, text))
			n++;
	}
	return n;
}

double obs_figure(const struct obs *o, const char *name, const char *subject, const char *phase)
{
	for (size_t i = 0; i < o->n_figs; i++)
		if (!strcmp(o->figs[i].name, name) && strstr(o->figs[i].subject, subject) &&
		    !strcmp(o->figs[i].phase, phase))
			return o->figs[i].value;
	return NAN;
}
