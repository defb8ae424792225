/*
 * What a fixture test looks at, decoded from a simulation's record stream:
 * every access log line (the user-facing latency and status of every request,
 * per service and route), the points of a few named metrics, and the other
 * log lines' bodies. Queries answer "what did this look like between t0 and
 * t1" in offsets (seconds) from the scenario start, as an investigator's
 * dashboard would over a time range.
 */
#ifndef FD_TEST_OBSERVE_H
#define FD_TEST_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

struct obs_req {
	int32_t t_ms;   /* end, ms from start */
	int32_t dur_us;
	uint16_t key;   /* index into keys: "service METHOD /route" */
	uint16_t status;
	uint16_t inst;  /* index into insts */
};

struct obs_point {
	int32_t t_s;    /* seconds from start */
	uint16_t series;
	double v;
};

struct obs_log {
	int32_t t_ms;
	uint16_t inst;
	uint8_t severity;
	char *body;
};

struct obs_res {
	const void *blob;
	char service[64], instance[96], version[32];
	/* the cluster's: k8s.node.name, k8s.pod.name, k8s.namespace.name;
	 * k8s.object.name and kind on Kubernetes events */
	char node[96], pod[128], ns[64], object[128], kind[24];
};

struct obs {
	int64_t start;
	int64_t scrape_ns; /* metric points are grouped by scrape */
	const char *const *metrics; /* names to keep, NULL-terminated */
	struct obs_req *reqs;
	size_t n_reqs, cap_reqs;
	struct obs_point *points;
	size_t n_points, cap_points;
	struct obs_log *logs;
	size_t n_logs, cap_logs;
	char (*keys)[192];
	size_t n_keys;
	char (*series)[512]; /* "metric|instance|attr=v,..." */
	size_t n_series;
	struct obs_res *res;
	size_t n_res;
	int decode_errors;
	/* the answer-key figures the simulation measured (fd_sim_figures) */
	struct obs_figure {
		char name[32], subject[256], phase[16];
		double value;
	} *figs;
	size_t n_figs;
};

struct obs_stats {
	size_t n;
	double p50, p95, p99; /* seconds */
	double error_rate;
};

/* Runs a built-in scenario (duration_ns 0: its own) into o; metrics lists the
 * metric names to keep. Returns 0 or a negative error (printed). */
int obs_run(struct obs *o, const char *builtin, int64_t duration_ns, const char *const *metrics);
int obs_run_text(struct obs *o, const char *name, const char *text, size_t len, int64_t duration_ns,
		 const char *const *metrics);
/* A built-in as a live drill (the timeline's mitigations left out) in which
 * the candidate takes action at at_ns after the start. */
int obs_run_drill(struct obs *o, const char *builtin, const char *const *metrics, const char *action,
		  int64_t at_ns);
void obs_free(struct obs *o);

/* Requests of "service METHOD /route" ending in [t0, t1) seconds; svc_inst
 * restricts to instances whose id contains it (NULL: all). */
struct obs_stats obs_window(const struct obs *o, const char *key, double t0, double t1,
			    const char *inst);

enum obs_agg { OBS_MEAN, OBS_MAX, OBS_MIN, OBS_LAST };

/* The metric summed over the series whose text contains every filter
 * ("inst" part or attribute text; NULL-free list, may be NULL), per scrape,
 * then aggregated over the scrapes in [t0, t1). NAN when no point. */
double obs_metric(const struct obs *o, const char *name, const char *filter, double t0, double t1,
		  enum obs_agg agg);

/* The measured figure (subject: a substring), NAN when absent. */
double obs_figure(const struct obs *o, const char *name, const char *subject, const char *phase);

/* Log lines (not access logs) whose body contains text, from services or
 * instances containing who (NULL: any), in [t0, t1). Kubernetes events
 * are log lines too: who matches their object's name or node. */
size_t obs_logs(const struct obs *o, const char *who, const char *text, double t0, double t1);

#endif
