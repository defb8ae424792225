/*
 * OTLP metrics as Prometheus samples: the one conversion that the
 * OpenMetrics files (dir:?format=openmetrics), remote write (prom-rw:) and
 * the scrape endpoint (scrape:) share, so that the three ways in name every
 * series the same way.
 *
 * Naming follows the OpenTelemetry-to-Prometheus conventions as the
 * collector's Prometheus exporters apply them (pkg/translator/prometheus of
 * opentelemetry-collector-contrib, with metric suffixes on):
 *   - the metric name's non-alphanumeric runs become '_'
 *     (http.server.request.duration -> http_server_request_duration);
 *   - the unit is appended as a word unless the name already has it:
 *     s -> seconds, ms -> milliseconds, By -> bytes, ... ("By/s" ->
 *     bytes_per_second); units in braces ({request}) add nothing;
 *   - monotonic cumulative sums are counters: samples end in _total;
 *     non-monotonic sums are gauges;
 *   - gauges with unit "1" end in _ratio;
 *   - explicit-bucket histograms give _bucket{le="..."} (cumulative, the
 *     le="+Inf" bucket equal to _count), _count and _sum;
 *   - attribute keys become label names with every character outside
 *     [A-Za-z0-9_] replaced by '_' ("key_" prefixed before a leading digit,
 *     "key" before a leading "__", which Prometheus reserves);
 *     two keys that collide join their values with ';' (sorted by key);
 *     attributes with an empty value are left out, as Prometheus reads an
 *     empty label as no label;
 *   - job is service.namespace/service.name (or service.name alone),
 *     instance is service.instance.id;
 *   - the other resource attributes go on one target_info series per
 *     resource (value 1, at each time the resource reports metrics);
 *   - a resource without service.name (what the collector's
 *     infrastructure receivers report: kubeletstats' k8s.node.name /
 *     k8s.pod.name, postgresql.database.name...) also labels every point
 *     with its attributes, as the exporters' resource_to_telemetry_conversion
 *     does: without a job, nothing else tells two nodes' series apart.
 * le values and sample values are rendered by fd_format_double: the
 * shortest text that reads back as the same double ("1", "0.005", "+Inf"),
 * one spelling per value, since le="1" and le="1.0" are different series to
 * Prometheus.
 *
 * Points of one metric whose label sets coincide (duplicates in the
 * source, or keys that differ only in characters label names lose) are one
 * series to Prometheus, which rejects a second sample at the same time:
 * they are merged, counters and histograms added up (with equal bucket
 * bounds), gauges taking the last point.
 *
 * Delta temporality, exponential histograms and summaries have no
 * faithful cumulative form here; their points are skipped and counted
 * (fd_prom_conv_skipped), never guessed.
 */
#ifndef FD_PROM_SERIES_H
#define FD_PROM_SERIES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "stream/record.h"

enum fd_prom_type {
	FD_PROM_GAUGE,
	FD_PROM_COUNTER,
	FD_PROM_HISTOGRAM,
	FD_PROM_INFO, /* target_info */
};

/* The order of a sample within its metric point: buckets first (by
 * bound), then _count, then _sum. Plain gauges and counters use 0. */
#define FD_PROM_SUB_COUNT 0xfffeu
#define FD_PROM_SUB_SUM 0xffffu

struct fd_prom_label {
	const char *name, *value;
};

/* One sample. Every pointer is valid only during the emit callback. */
struct fd_prom_sample {
	/* The family as OpenMetrics names it: without _total for counters and
	 * without _info for target ("target"). The Prometheus text format
	 * names counter families with the _total (see fd_prom_text_family). */
	const char *family;
	enum fd_prom_type type;
	const char *help; /* the OTLP description; may be "" */
	const char *unit; /* the unit word appended ("seconds"), or "" */
	const char *name; /* the sample's metric name: family + suffix */
	unsigned sub;     /* see FD_PROM_SUB_* */
	/* Sorted by name, unique; job and instance included; without
	 * __name__ and without le. */
	const struct fd_prom_label *labels;
	size_t n_labels;
	const char *le; /* bucket bound for _bucket samples, else NULL */
	double value;
	int64_t time_ms; /* the data point's time, Unix milliseconds */
};

typedef int (*fd_prom_emit_fn)(void *ctx, const struct fd_prom_sample *s, struct fd_error *err);

struct fd_prom_conv;

/* NULL when out of memory. */
struct fd_prom_conv *fd_prom_conv_create(void);
void fd_prom_conv_destroy(struct fd_prom_conv *c); /* accepts NULL */

/* Converts one metrics record (other signals are ignored and return 0)
 * and calls emit once per sample: the resource's target_info first (once
 * per resource and timestamp), then the points ordered by label set, the
 * samples of a point together. Returns 0, the first negative value emit
 * returns, -FD_EINPUT for a payload or resource that does not decode as
 * OTLP (the message says which), or -FD_ERUNTIME when memory runs out. */
int fd_prom_conv_record(struct fd_prom_conv *c, const struct fd_record *rec,
			fd_prom_emit_fn emit, void *ctx, struct fd_error *err);

/* Data points skipped so far because they have no Prometheus form here
 * (delta temporality, exponential histograms, summaries, no value). */
uint64_t fd_prom_conv_skipped(const struct fd_prom_conv *c);

/* The family name the Prometheus text format (0.0.4) uses in # TYPE and
 * # HELP: the name of its samples for counters ("x_total") and info
 * ("target_info"), the family name otherwise. Writes into buf (n bytes),
 * returns buf. */
char *fd_prom_text_family(const struct fd_prom_sample *s, char *buf, size_t n);

/* The series of s as text, `name{label="value",...,le="..."}` (just the
 * name without labels), label values escaped, like snprintf: writes at most
 * n bytes with the NUL, returns the length the whole text needs. The
 * text identifies the series; the exposition formats print it as is. */
size_t fd_prom_series_text(const struct fd_prom_sample *s, char *buf, size_t n);

/* fd_prom_series_text into a growing buffer (*buf of *cap bytes, both
 * updated; start with NULL and 0, free *buf when done). Returns *buf, or
 * NULL when out of memory. */
char *fd_prom_series_render(const struct fd_prom_sample *s, char **buf, size_t *cap);

/* Writes text escaped for the exposition formats: backslash and newline,
 * and the double quote too when quote is set (OpenMetrics HELP; the 0.0.4
 * format leaves quotes in HELP alone). Returns 0 or -1 on a write error. */
int fd_prom_write_escaped(FILE *f, const char *text, int quote);

#endif
