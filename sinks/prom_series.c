/*
 * OTLP Metric -> Prometheus samples (see prom_series.h for the naming
 * rules). Resources are decoded once per interned blob and kept by blob id;
 * every string built for one record lives in a pool freed when the record
 * is done.
 */
#include "sinks/prom_series.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/attr_text.h"
#include "common/json.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/json.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;

#define CUMULATIVE OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define NO_RECORDED_VALUE 1u /* DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK */

/* A label whose name came from an attribute key (kept to order collisions). */
struct tlabel {
	char *name, *value;
	const char *key;
};

struct resource_info {
	bool parsed;
	char *job, *instance; /* NULL when the resource has none */
	struct tlabel *target; /* target_info's labels, sorted, merged */
	size_t n_target;
	/* no service.name: the resource's attributes label every point (see
	 * prom_series.h) */
	bool promote;
	bool info_sent;
	int64_t info_ms; /* time of the last target_info emitted */
};

struct pool {
	char **v;
	size_t n, cap;
};

struct fd_prom_conv {
	struct resource_info *res; /* by blob id */
	size_t n_res;
	uint64_t skipped;
	struct pool pool;
	struct fd_prom_label *labels;
	size_t cap_labels;
};

/* ---- strings ---- */

static char *pool_keep(struct pool *p, char *s)
{
	if (!s)
		return NULL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return NULL;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = s;
	return s;
}

static void pool_clear(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	p->n = 0;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An attribute key as a label name. Names starting with "__" are
 * Prometheus' own (__name__): those get "key" in front, as a leading digit
 * gets "key_". */
static char *label_name(const char *key)
{
	size_t n = strlen(key);
	char *s = malloc(n + 5);
	if (!s)
		return NULL;
	char *o = s;
	if (is_digit(key[0])) {
		memcpy(o, "key_", 4);
		o += 4;
	} else if (n >= 2 && !is_alnum(key[0]) && !is_alnum(key[1])) {
		memcpy(o, "key", 3);
		o += 3;
	}
	for (size_t i = 0; i < n; i++)
		*o++ = is_alnum(key[i]) || key[i] == '_' ? key[i] : '_';
	*o = '\0';
	return s;
}

/* The unit words of the collector's translator (unitMap, perUnitMap). */
static const char *const unit_words[][2] = {
	{"d", "days"},       {"h", "hours"},      {"min", "minutes"},   {"s", "seconds"},
	{"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"},
	{"By", "bytes"},     {"KiBy", "kibibytes"}, {"MiBy", "mebibytes"}, {"GiBy", "gibibytes"},
	{"TiBy", "tebibytes"}, {"KBy", "kilobytes"}, {"MBy", "megabytes"}, {"GBy", "gigabytes"},
	{"TBy", "terabytes"}, {"m", "meters"},     {"V", "volts"},       {"A", "amperes"},
	{"J", "joules"},     {"W", "watts"},      {"g", "grams"},       {"Cel", "celsius"},
	{"Hz", "hertz"},     {"1", ""},           {"%", "percent"},
};
static const char *const per_unit_words[][2] = {
	{"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
	{"w", "week"},   {"mo", "month"}, {"y", "year"},
};

/* Name tokens: runs of letters and digits. */
struct tokens {
	char buf[512];
	size_t len;
	const char *tok[48];
	size_t n;
};

static void tokens_add(struct tokens *t, const char *s, size_t n)
{
	if (n == 0 || t->n == sizeof(t->tok) / sizeof(t->tok[0]) || t->len + n + 1 > sizeof(t->buf))
		return;
	memcpy(t->buf + t->len, s, n);
	t->buf[t->len + n] = '\0';
	t->tok[t->n++] = t->buf + t->len;
	t->len += n + 1;
}

static void tokens_split(struct tokens *t, const char *s)
{
	while (*s) {
		while (*s && !is_alnum(*s))
			s++;
		const char *b = s;
		while (is_alnum(*s))
			s++;
		tokens_add(t, b, (size_t)(s - b));
	}
}

static bool tokens_has(const struct tokens *t, const char *w)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->tok[i], w) == 0)
			return true;
	return false;
}

static void tokens_remove(struct tokens *t, const char *w)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->tok[i], w) != 0)
			t->tok[k++] = t->tok[i];
	t->n = k;
}

/* A unit as the translator cleans it: mapped when known, then reduced to
 * its letters and digits joined by '_'. */
static void unit_word(const char *unit, size_t n, const char *const (*map)[2], size_t n_map,
		      char *out, size_t out_n)
{
	char u[64];
	while (n && (*unit == ' ' || *unit == '\t'))
		unit++, n--;
	while (n && (unit[n - 1] == ' ' || unit[n - 1] == '\t'))
		n--;
	out[0] = '\0';
	if (n == 0 || n >= sizeof(u) || memchr(unit, '{', n) || memchr(unit, '}', n))
		return;
	memcpy(u, unit, n);
	u[n] = '\0';
	const char *w = u;
	for (size_t i = 0; i < n_map; i++)
		if (strcmp(map[i][0], u) == 0)
			w = map[i][1];
	struct tokens t = {.n = 0};
	tokens_split(&t, w);
	size_t len = 0;
	for (size_t i = 0; i < t.n; i++) {
		int k = snprintf(out + len, out_n - len, "%s%s", i ? "_" : "", t.tok[i]);
		if (k < 0 || (size_t)k >= out_n - len) {
			out[0] = '\0';
			return;
		}
		len += (size_t)k;
	}
}

struct family_name {
	char family[512]; /* OpenMetrics family */
	char name[520];   /* sample base name: family, or family_total */
	char unit[64];
};

static void family_name(const char *name, const char *unit, enum fd_prom_type type,
			struct family_name *out)
{
	struct tokens t = {.n = 0};
	tokens_split(&t, name);
	const char *slash = strchr(unit, '/');
	char main_unit[64], per[64];
	unit_word(unit, slash ? (size_t)(slash - unit) : strlen(unit), unit_words,
		  sizeof(unit_words) / sizeof(unit_words[0]), main_unit, sizeof(main_unit));
	out->unit[0] = '\0';
	if (main_unit[0] && !tokens_has(&t, main_unit)) {
		tokens_add(&t, main_unit, strlen(main_unit));
		snprintf(out->unit, sizeof(out->unit), "%s", main_unit);
	}
	if (slash) {
		unit_word(slash + 1, strlen(slash + 1), per_unit_words,
			  sizeof(per_unit_words) / sizeof(per_unit_words[0]), per, sizeof(per));
		if (per[0] && !tokens_has(&t, per)) {
			tokens_add(&t, "per", 3);
			tokens_add(&t, per, strlen(per));
		}
	}
	bool counter = type == FD_PROM_COUNTER;
	if (counter)
		tokens_remove(&t, "total");
	if (type == FD_PROM_GAUGE && strcmp(unit, "1") == 0) {
		tokens_remove(&t, "ratio");
		tokens_add(&t, "ratio", 5);
		snprintf(out->unit, sizeof(out->unit), "ratio");
	}
	size_t len = 0;
	out->family[0] = '\0';
	if (t.n && is_digit(t.tok[0][0]))
		out->family[len++] = '_';
	for (size_t i = 0; i < t.n; i++) {
		int k = snprintf(out->family + len, sizeof(out->family) - len, "%s%s", i ? "_" : "",
				 t.tok[i]);
		if (k < 0 || (size_t)k >= sizeof(out->family) - len)
			break;
		len += (size_t)k;
	}
	out->family[len] = '\0';
	snprintf(out->name, sizeof(out->name), "%s%s", out->family, counter ? "_total" : "");
}

/* ---- labels ---- */

static int tlabel_cmp(const void *a, const void *b)
{
	const struct tlabel *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->key, y->key);
}

/* Sorts v[0..*n) by name and joins the values of equal names with ';'
 * (in key order). The joined value replaces the first; names and values of
 * the merged-away entries are freed when owned. Returns 0 or -1 (OOM). */
static int tlabels_merge(struct tlabel *v, size_t *n, struct pool *owner)
{
	qsort(v, *n, sizeof(*v), tlabel_cmp);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (k && strcmp(v[k - 1].name, v[i].name) == 0) {
			size_t a = strlen(v[k - 1].value), b = strlen(v[i].value);
			char *j = malloc(a + b + 2);
			if (!j)
				return -1;
			memcpy(j, v[k - 1].value, a);
			j[a] = ';';
			memcpy(j + a + 1, v[i].value, b + 1);
			if (owner) {
				if (!pool_keep(owner, j))
					return -1;
			} else {
				free(v[k - 1].value);
				free(v[i].name);
				free(v[i].value);
			}
			v[k - 1].value = j;
			continue;
		}
		v[k++] = v[i];
	}
	*n = k;
	return 0;
}

static void resource_info_finish(struct resource_info *ri)
{
	free(ri->job);
	free(ri->instance);
	for (size_t i = 0; i < ri->n_target; i++) {
		free(ri->target[i].name);
		free(ri->target[i].value);
	}
	free(ri->target);
	memset(ri, 0, sizeof(*ri));
}

static const char *attr_string(KeyValue *const *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i]->key, key) == 0 && kv[i]->value &&
		    kv[i]->value->value_case ==
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return kv[i]->value->string_value;
	return NULL;
}

static int resource_parse(struct resource_info *ri, const struct fd_blob *b, struct fd_error *err)
{
	Opentelemetry__Proto__Resource__V1__Resource *r = (void *)fd_otlp_json_unpack(
		&opentelemetry__proto__resource__v1__resource__descriptor, b->data, b->len, NULL);
	if (!r)
		return fd_error_set(err, FD_EINPUT, "metrics resource %u (%u bytes) does not decode as OTLP",
				    b->id, b->len);
	int rc = 0;
	const char *name = attr_string(r->attributes, r->n_attributes, "service.name");
	const char *ns = attr_string(r->attributes, r->n_attributes, "service.namespace");
	const char *inst = attr_string(r->attributes, r->n_attributes, "service.instance.id");
	ri->promote = !name;
	if (name) {
		size_t n = strlen(name) + (ns ? strlen(ns) + 1 : 0) + 1;
		if ((ri->job = malloc(n)))
			snprintf(ri->job, n, "%s%s%s", ns ? ns : "", ns ? "/" : "", name);
		else
			rc = -1;
	}
	if (inst && !(ri->instance = strdup(inst)))
		rc = -1;
	ri->target = calloc(r->n_attributes + 2, sizeof(*ri->target));
	if (!ri->target)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < r->n_attributes; i++) {
		const char *k = r->attributes[i]->key;
		if (strcmp(k, "service.name") == 0 || strcmp(k, "service.namespace") == 0 ||
		    strcmp(k, "service.instance.id") == 0)
			continue;
		struct tlabel *l = &ri->target[ri->n_target];
		l->name = label_name(k);
		l->value = fd_otlp_attr_text(r->attributes[i]->value);
		l->key = k;
		if (!l->name || !l->value) {
			rc = -1;
			ri->n_target++; /* freed with the others */
		} else if (l->value[0]) {
			ri->n_target++;
		} else { /* an empty label is no label to Prometheus */
			free(l->name);
			free(l->value);
		}
	}
	if (rc == 0 && ri->job) {
		struct tlabel *l = &ri->target[ri->n_target++];
		l->name = strdup("job");
		l->value = strdup(ri->job);
		l->key = "job";
		if (!l->name || !l->value)
			rc = -1;
	}
	if (rc == 0 && ri->instance) {
		struct tlabel *l = &ri->target[ri->n_target++];
		l->name = strdup("instance");
		l->value = strdup(ri->instance);
		l->key = "instance";
		if (!l->name || !l->value)
			rc = -1;
	}
	if (rc == 0)
		rc = tlabels_merge(ri->target, &ri->n_target, NULL);
	for (size_t i = 0; i < ri->n_target; i++)
		ri->target[i].key = NULL; /* pointed into r */
	protobuf_c_message_free_unpacked(&r->base, NULL);
	if (rc < 0) {
		resource_info_finish(ri);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	ri->parsed = true;
	return 0;
}

static struct resource_info *resource(struct fd_prom_conv *c, const struct fd_blob *b,
				      struct fd_error *err)
{
	static struct resource_info none = {.parsed = true};
	if (!b)
		return &none;
	if (b->id >= c->n_res) {
		size_t n = c->n_res ? c->n_res : 16;
		while (n <= b->id)
			n *= 2;
		struct resource_info *v = realloc(c->res, n * sizeof(*v));
		if (!v) {
			fd_error_set(err, FD_ERUNTIME, "out of memory");
			return NULL;
		}
		memset(v + c->n_res, 0, (n - c->n_res) * sizeof(*v));
		c->res = v;
		c->n_res = n;
	}
	struct resource_info *ri = &c->res[b->id];
	if (!ri->parsed && resource_parse(ri, b, err) < 0)
		return NULL;
	return ri;
}

static bool labels_room(struct fd_prom_conv *c, size_t n)
{
	if (n <= c->cap_labels)
		return true;
	struct fd_prom_label *v = realloc(c->labels, n * sizeof(*v));
	if (!v)
		return false;
	c->labels = v;
	c->cap_labels = n;
	return true;
}

/* The labels of a data point: its attributes plus job and instance. */
static int point_labels(struct fd_prom_conv *c, const struct resource_info *ri,
			KeyValue *const *kv, size_t n, size_t *n_out)
{
	size_t extra = ri->promote ? ri->n_target : 0;
	struct tlabel *t = calloc(n + 2 + extra, sizeof(*t));
	if (!t || !labels_room(c, n + 2 + extra)) {
		free(t);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		t[k].name = pool_keep(&c->pool, label_name(kv[i]->key));
		t[k].value = pool_keep(&c->pool, fd_otlp_attr_text(kv[i]->value));
		t[k].key = kv[i]->key;
		if (!t[k].name || !t[k].value) {
			free(t);
			return -1;
		}
		if (t[k].value[0]) /* an empty label is no label to Prometheus */
			k++;
	}
	if (ri->job)
		t[k++] = (struct tlabel){"job", ri->job, "job"};
	if (ri->instance)
		t[k++] = (struct tlabel){"instance", ri->instance, "instance"};
	for (size_t i = 0; i < extra; i++)
		if (strcmp(ri->target[i].name, "job") != 0 && strcmp(ri->target[i].name, "instance") != 0)
			t[k++] = (struct tlabel){ri->target[i].name, ri->target[i].value, ri->target[i].name};
	int rc = tlabels_merge(t, &k, &c->pool);
	for (size_t i = 0; i < k; i++)
		c->labels[i] = (struct fd_prom_label){t[i].name, t[i].value};
	*n_out = k;
	free(t);
	return rc;
}

/* ---- conversion ---- */

struct fd_prom_conv *fd_prom_conv_create(void)
{
	return calloc(1, sizeof(struct fd_prom_conv));
}

void fd_prom_conv_destroy(struct fd_prom_conv *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_res; i++)
		resource_info_finish(&c->res[i]);
	free(c->res);
	pool_clear(&c->pool);
	free(c->pool.v);
	free(c->labels);
	free(c);
}

uint64_t fd_prom_conv_skipped(const struct fd_prom_conv *c)
{
	return c->skipped;
}

static int64_t to_ms(uint64_t ns)
{
	return (int64_t)(ns / 1000000u);
}

static int target_info(struct fd_prom_conv *c, struct resource_info *ri, int64_t ms,
		       fd_prom_emit_fn emit, void *ctx, struct fd_error *err)
{
	if (!ri->job && !ri->instance && ri->n_target == 0)
		return 0;
	if (ri->info_sent && ri->info_ms == ms)
		return 0;
	if (!labels_room(c, ri->n_target))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	for (size_t i = 0; i < ri->n_target; i++)
		c->labels[i] = (struct fd_prom_label){ri->target[i].name, ri->target[i].value};
	struct fd_prom_sample s = {
		.family = "target",
		.type = FD_PROM_INFO,
		.help = "Target metadata",
		.unit = "",
		.name = "target_info",
		.labels = c->labels,
		.n_labels = ri->n_target,
		.value = 1,
		.time_ms = ms,
	};
	ri->info_sent = true;
	ri->info_ms = ms;
	return emit(ctx, &s, err);
}

/* A data point with its labels, for grouping the points of one metric
 * that end up with the same label set. */
struct pt {
	size_t idx;
	struct fd_prom_label *labels;
	size_t n_labels;
	char *key; /* the label text: equal keys, equal series */
};

static int pt_cmp(const void *a, const void *b)
{
	const struct pt *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* pts[i] for every point of the metric (attrs(i) gives its attributes),
 * sorted by label set. The arrays live in the pool until the record ends. */
static struct pt *group_points(struct fd_prom_conv *c, const struct resource_info *ri, size_t n,
			       KeyValue **(*attrs)(const void *m, size_t i, size_t *n),
			       const void *m)
{
	struct pt *pts = calloc(n ? n : 1, sizeof(*pts));
	if (!pts || !pool_keep(&c->pool, (char *)pts))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t na;
		KeyValue **kv = attrs(m, i, &na);
		size_t k;
		if (point_labels(c, ri, kv, na, &k) < 0)
			return NULL;
		struct fd_prom_label *l = malloc((k ? k : 1) * sizeof(*l));
		if (!l || !pool_keep(&c->pool, (char *)l))
			return NULL;
		memcpy(l, c->labels, k * sizeof(*l));
		struct fd_prom_sample tmp = {.name = "", .labels = l, .n_labels = k};
		size_t len = fd_prom_series_text(&tmp, NULL, 0);
		char *key = pool_keep(&c->pool, malloc(len + 1));
		if (!key)
			return NULL;
		fd_prom_series_text(&tmp, key, len + 1);
		pts[i] = (struct pt){i, l, k, key};
	}
	qsort(pts, n, sizeof(*pts), pt_cmp);
	return pts;
}

static KeyValue **number_attrs(const void *m, size_t i, size_t *n)
{
	const Metric *x = m;
	NumberDataPoint *dp = x->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
				      ? x->gauge->data_points[i]
				      : x->sum->data_points[i];
	*n = dp->n_attributes;
	return dp->attributes;
}

static KeyValue **histogram_attrs(const void *m, size_t i, size_t *n)
{
	const HistogramDataPoint *dp = ((const Metric *)m)->histogram->data_points[i];
	*n = dp->n_attributes;
	return dp->attributes;
}

static double number_value(const NumberDataPoint *dp)
{
	return dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
		       ? (double)dp->as_int
		       : dp->as_double;
}

/* Points whose label sets coincide (true duplicates in the source, or
 * attribute keys that differ only in characters label names lose) are one
 * series to Prometheus, which would reject the second sample at the same
 * time. Counters add up (a sum of cumulative series is cumulative); for
 * gauges the last point wins. */
static int number_points(struct fd_prom_conv *c, const struct resource_info *ri, const Metric *m,
			 NumberDataPoint *const *dps, size_t n, struct fd_prom_sample *s,
			 fd_prom_emit_fn emit, void *ctx, struct fd_error *err)
{
	struct pt *pts = group_points(c, ri, n, number_attrs, m);
	if (!pts)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	for (size_t a = 0, b; a < n; a = b) {
		bool any = false;
		double v = 0;
		int64_t t = 0;
		for (b = a; b < n && strcmp(pts[b].key, pts[a].key) == 0; b++) {
			const NumberDataPoint *dp = dps[pts[b].idx];
			if (dp->flags & NO_RECORDED_VALUE ||
			    dp->value_case ==
				    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE__NOT_SET) {
				c->skipped++;
				continue;
			}
			v = s->type == FD_PROM_COUNTER && any ? v + number_value(dp) : number_value(dp);
			if (!any)
				t = to_ms(dp->time_unix_nano);
			any = true;
		}
		if (!any)
			continue;
		s->labels = pts[a].labels;
		s->n_labels = pts[a].n_labels;
		s->sub = 0;
		s->le = NULL;
		s->value = v;
		s->time_ms = t;
		int rc = emit(ctx, s, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool same_bounds(const HistogramDataPoint *a, const HistogramDataPoint *b)
{
	return a->n_explicit_bounds == b->n_explicit_bounds &&
	       (a->n_bucket_counts != 0) == (b->n_bucket_counts != 0) &&
	       (a->n_explicit_bounds == 0 ||
		memcmp(a->explicit_bounds, b->explicit_bounds,
		       a->n_explicit_bounds * sizeof(double)) == 0);
}

static bool histogram_usable(const HistogramDataPoint *dp)
{
	return !(dp->flags & NO_RECORDED_VALUE) &&
	       (dp->n_bucket_counts == 0 || dp->n_bucket_counts == dp->n_explicit_bounds + 1);
}

/* Histograms with one label set add up bucket by bucket, when their
 * bounds agree; a point with other bounds cannot join and is skipped. */
static int histogram_points(struct fd_prom_conv *c, const struct resource_info *ri,
			    const Metric *m, struct fd_prom_sample *s, const struct family_name *fn,
			    fd_prom_emit_fn emit, void *ctx, struct fd_error *err)
{
	HistogramDataPoint *const *dps = m->histogram->data_points;
	size_t n = m->histogram->n_data_points;
	char bucket[sizeof(fn->family) + 8], count[sizeof(fn->family) + 8],
		sum[sizeof(fn->family) + 8];
	snprintf(bucket, sizeof(bucket), "%s_bucket", fn->family);
	snprintf(count, sizeof(count), "%s_count", fn->family);
	snprintf(sum, sizeof(sum), "%s_sum", fn->family);
	struct pt *pts = group_points(c, ri, n, histogram_attrs, m);
	if (!pts)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	uint64_t *cum = NULL;
	size_t cum_cap = 0;
	int rc = 0;
	for (size_t a = 0, b; a < n && rc == 0; a = b) {
		const HistogramDataPoint *first = NULL;
		uint64_t total = 0;
		double total_sum = 0;
		bool has_sum = false;
		for (b = a; b < n && strcmp(pts[b].key, pts[a].key) == 0; b++) {
			const HistogramDataPoint *dp = dps[pts[b].idx];
			if (!histogram_usable(dp) || (first && !same_bounds(first, dp))) {
				c->skipped++;
				continue;
			}
			size_t nb = dp->n_explicit_bounds;
			if (!first) {
				first = dp;
				if (nb + 1 > cum_cap) {
					uint64_t *p = realloc(cum, (nb + 1) * sizeof(*p));
					if (!p) {
						rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
						break;
					}
					cum = p;
					cum_cap = nb + 1;
				}
				memset(cum, 0, (nb + 1) * sizeof(*cum));
			}
			for (size_t k = 0; k < dp->n_bucket_counts; k++)
				cum[k] += dp->bucket_counts[k];
			total += dp->count;
			if (dp->sum__case == OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM__SUM) {
				total_sum += dp->sum;
				has_sum = true;
			}
		}
		if (!first || rc < 0)
			continue;
		s->labels = pts[a].labels;
		s->n_labels = pts[a].n_labels;
		s->time_ms = to_ms(first->time_unix_nano);
		s->name = bucket;
		size_t nb = first->n_explicit_bounds;
		uint64_t running = 0;
		char le[32];
		for (size_t k = 0; k < nb && rc == 0; k++) {
			running += cum[k];
			s->sub = (unsigned)k;
			s->le = fd_format_double(le, first->explicit_bounds[k]);
			s->value = (double)running;
			rc = emit(ctx, s, err);
		}
		if (rc == 0) {
			/* +Inf is _count by definition, whatever the buckets add to. */
			s->sub = (unsigned)nb;
			s->le = "+Inf";
			s->value = (double)total;
			rc = emit(ctx, s, err);
		}
		s->le = NULL;
		if (rc == 0) {
			s->name = count;
			s->sub = FD_PROM_SUB_COUNT;
			rc = emit(ctx, s, err);
		}
		if (rc == 0 && has_sum) {
			s->name = sum;
			s->sub = FD_PROM_SUB_SUM;
			s->value = total_sum;
			rc = emit(ctx, s, err);
		}
	}
	free(cum);
	return rc;
}

static size_t points_of(const Metric *m)
{
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		return m->gauge->n_data_points;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
		return m->sum->n_data_points;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		return m->histogram->n_data_points;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
		return m->exponential_histogram->n_data_points;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
		return m->summary->n_data_points;
	default:
		return 0;
	}
}

static int convert(struct fd_prom_conv *c, const Metric *m, struct resource_info *ri,
		   int64_t rec_ms, fd_prom_emit_fn emit, void *ctx, struct fd_error *err)
{
	enum fd_prom_type type;
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		type = FD_PROM_GAUGE;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
		if (m->sum->is_monotonic && m->sum->aggregation_temporality != CUMULATIVE) {
			c->skipped += m->sum->n_data_points;
			return 0;
		}
		type = m->sum->is_monotonic ? FD_PROM_COUNTER : FD_PROM_GAUGE;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		if (m->histogram->aggregation_temporality != CUMULATIVE) {
			c->skipped += m->histogram->n_data_points;
			return 0;
		}
		type = FD_PROM_HISTOGRAM;
		break;
	default:
		c->skipped += points_of(m);
		return 0;
	}
	int rc = target_info(c, ri, rec_ms, emit, ctx, err);
	if (rc < 0)
		return rc;
	struct family_name fn;
	family_name(m->name ? m->name : "", m->unit ? m->unit : "", type, &fn);
	if (!fn.family[0]) {
		c->skipped += points_of(m);
		return 0;
	}
	struct fd_prom_sample s = {
		.family = fn.family,
		.type = type,
		.help = m->description ? m->description : "",
		.unit = fn.unit,
		.name = fn.name,
	};
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		return number_points(c, ri, m, m->gauge->data_points, m->gauge->n_data_points, &s, emit,
				     ctx, err);
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
		return number_points(c, ri, m, m->sum->data_points, m->sum->n_data_points, &s, emit, ctx,
				     err);
	default:
		return histogram_points(c, ri, m, &s, &fn, emit, ctx, err);
	}
}

int fd_prom_conv_record(struct fd_prom_conv *c, const struct fd_record *rec,
			fd_prom_emit_fn emit, void *ctx, struct fd_error *err)
{
	if (rec->signal != FD_SIGNAL_METRICS)
		return 0;
	struct resource_info *ri = resource(c, rec->resource, err);
	if (!ri)
		return -err->code;
	Metric *m = (void *)fd_otlp_json_unpack(&opentelemetry__proto__metrics__v1__metric__descriptor,
						rec->payload, rec->payload_len, NULL);
	if (!m)
		return fd_error_set(err, FD_EINPUT, "a Metric payload of %zu bytes does not decode as OTLP",
				    rec->payload_len);
	int rc = convert(c, m, ri, rec->time_ns / 1000000, emit, ctx, err);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	pool_clear(&c->pool);
	return rc;
}

/* ---- text ---- */

char *fd_prom_text_family(const struct fd_prom_sample *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", s->family,
		 s->type == FD_PROM_COUNTER ? "_total" : s->type == FD_PROM_INFO ? "_info" : "");
	return buf;
}

int fd_prom_write_escaped(FILE *f, const char *text, int quote)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*p, f);
	}
	return ferror(f) ? -1 : 0;
}

/* Appends to a bounded buffer, counting what did not fit. */
struct sb {
	char *p;
	size_t n, len;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
	if (b->len < b->n) {
		size_t k = b->n - b->len < n ? b->n - b->len : n;
		memcpy(b->p + b->len, s, k);
	}
	b->len += n;
}

static void sb_str(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_escaped(struct sb *b, const char *s)
{
	for (; *s; s++) {
		size_t run = strcspn(s, "\\\n\"");
		sb_put(b, s, run);
		s += run;
		if (!*s)
			break;
		sb_str(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
	}
}

size_t fd_prom_series_text(const struct fd_prom_sample *s, char *buf, size_t n)
{
	struct sb b = {buf, n, 0};
	sb_str(&b, s->name);
	if (s->n_labels || s->le) {
		sb_put(&b, "{", 1);
		for (size_t i = 0; i < s->n_labels; i++) {
			if (i)
				sb_put(&b, ",", 1);
			sb_str(&b, s->labels[i].name);
			sb_put(&b, "=\"", 2);
			sb_escaped(&b, s->labels[i].value);
			sb_put(&b, "\"", 1);
		}
		if (s->le) {
			sb_str(&b, s->n_labels ? ",le=\"" : "le=\"");
			sb_str(&b, s->le);
			sb_put(&b, "\"", 1);
		}
		sb_put(&b, "}", 1);
	}
	if (n)
		buf[b.len < n ? b.len : n - 1] = '\0';
	return b.len;
}

char *fd_prom_series_render(const struct fd_prom_sample *s, char **buf, size_t *cap)
{
	size_t n = fd_prom_series_text(s, *buf, *cap);
	if (n < *cap)
		return *buf;
	char *p = realloc(*buf, n + 1);
	if (!p)
		return NULL;
	*buf = p;
	*cap = n + 1;
	fd_prom_series_text(s, *buf, *cap);
	return *buf;
}
