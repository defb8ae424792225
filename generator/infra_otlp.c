#include "generator/infra_otlp.h"

#include <math.h>
#include <stdio.h>

/* Metric: name=1 description=2 unit=3 gauge=5 sum=7; Gauge and Sum:
 * data_points=1, Sum: aggregation_temporality=2 is_monotonic=3;
 * NumberDataPoint: attributes=7 start=2 time=3 as_double=4 as_int=6. */
void infra_metric_points(struct pbw *w, int64_t t, const char *name, const char *desc,
			 const char *unit, enum infra_mtype type, bool is_int, int64_t start,
			 const struct infra_point *pts, size_t n)
{
	pbw_reset(w);
	pbw_string(w, 1, name);
	pbw_string(w, 2, desc);
	pbw_string(w, 3, unit);
	size_t mark = pbw_begin(w, type == INFRA_GAUGE ? 5 : 7);
	for (size_t p = 0; p < n; p++) {
		size_t dp = pbw_begin(w, 1);
		for (size_t i = 0; i < pts[p].n_attrs; i++) {
			const struct infra_attr *a = &pts[p].attrs[i];
			if (a->is_int)
				otlp_attr_int(w, 7, a->k, a->i);
			else
				otlp_attr_str(w, 7, a->k, a->v);
		}
		if (start > 0 && type != INFRA_GAUGE)
			pbw_fixed64(w, 2, (uint64_t)start);
		pbw_fixed64(w, 3, (uint64_t)t);
		if (is_int)
			pbw_fixed64(w, 6, (uint64_t)(int64_t)llround(pts[p].v));
		else
			pbw_double(w, 4, pts[p].v);
		pbw_end(w, dp);
	}
	if (type != INFRA_GAUGE) {
		pbw_varint(w, 2, 2); /* AGGREGATION_TEMPORALITY_CUMULATIVE */
		if (type == INFRA_COUNTER)
			pbw_varint(w, 3, 1);
	}
	pbw_end(w, mark);
}

void infra_metric_write(struct pbw *w, int64_t t, const char *name, const char *desc,
			const char *unit, enum infra_mtype type, bool is_int, double v, int64_t start,
			const struct infra_attr *attrs, size_t n_attrs)
{
	struct infra_point p = {attrs, n_attrs, v};
	infra_metric_points(w, t, name, desc, unit, type, is_int, start, &p, 1);
}

void infra_scope_write(struct pbw *w, const char *receiver)
{
	char name[160];
	snprintf(name, sizeof(name), "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/%s",
		 receiver);
	pbw_reset(w);
	pbw_string(w, 1, name);
	pbw_string(w, 2, INFRA_COLLECTOR_VERSION);
}
