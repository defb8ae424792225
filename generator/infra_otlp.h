/*
 * One OTLP metric with one data point, as the collector's scraping
 * receivers emit them (a gauge, or a cumulative sum), written into a
 * reusable buffer: what the cluster (infra_metrics.c) and the data stores
 * (datastore.c) report each scrape.
 */
#ifndef FD_INFRA_OTLP_H
#define FD_INFRA_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp/pbwrite.h"

enum infra_mtype {
	INFRA_GAUGE,
	INFRA_SUM,     /* cumulative, not monotonic (an UpDownCounter) */
	INFRA_COUNTER, /* cumulative, monotonic */
};

/* A data point attribute: a string, or an integer when is_int. */
struct infra_attr {
	const char *k, *v;
	int64_t i;
	bool is_int;
};

/* The collector release whose receivers the infrastructure's signals
 * imitate. */
#define INFRA_COLLECTOR_VERSION "0.119.0"

/* Writes the InstrumentationScope of a collector receiver into w (reset
 * first): its Go package path and the release, as the receivers set them
 * ("kubeletstatsreceiver" ->
 * github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kubeletstatsreceiver). */
void infra_scope_write(struct pbw *w, const char *receiver);

/* One data point: its attributes and value. */
struct infra_point {
	const struct infra_attr *attrs;
	size_t n_attrs;
	double v;
};

/* Writes the Metric into w (reset first) with its points, all at t: one
 * metric of one resource at one time is one record, as the receivers emit
 * them (k8s.node.network.io's two directions, a topic's partitions...).
 * start: the cumulative sum's start time (ignored for gauges; 0: none). */
void infra_metric_points(struct pbw *w, int64_t t, const char *name, const char *desc,
			 const char *unit, enum infra_mtype type, bool is_int, int64_t start,
			 const struct infra_point *pts, size_t n);
/* Same with one point. */
void infra_metric_write(struct pbw *w, int64_t t, const char *name, const char *desc,
			const char *unit, enum infra_mtype type, bool is_int, double v, int64_t start,
			const struct infra_attr *attrs, size_t n_attrs);

#endif
