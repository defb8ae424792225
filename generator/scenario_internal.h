/*
 * Private to the scenario parser (scenario*.c): the parse state and the
 * helpers its files share. Not for the simulation or the CLI.
 *
 * The parse runs in passes over the YAML tree (yaml_tree.h): names first
 * (so references may point forward in the file), then bodies, then the
 * timeline, then checks across the whole model (scenario_resolve.c).
 * Every helper returns 0 (or 1 for "present") on success and a negative
 * fd_error code after recording "file:line:col: message".
 */
#ifndef FD_SCENARIO_INTERNAL_H
#define FD_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "generator/scenario.h"
#include "common/yaml_tree.h"

#define SP_NS 1000000000LL
#define SP_MS 1000000LL

/* The queries of one database while calls are being parsed: calls point at
 * individually allocated fd_query objects until sp_finish_queries moves
 * them into the database's array. */
struct sp_queries {
	struct fd_query **v;
	size_t n, cap;
};

struct sp {
	const char *file;
	struct fd_error *err;
	struct fd_arena *arena;       /* the model's: lives as long as it */
	struct fd_scenario *s;
	struct sp_queries *queries;   /* [n_databases], malloc'd */
	const struct yt_node **event_nodes; /* [n_events] as in the file */
	const struct yt_node **undoes_nodes; /* [n_events] explicit `undoes` */
	struct sp_named {
		const char *name;
		size_t index;
	} *events_by_name; /* [n_events] by name, then file order (resolve) */
	const struct yt_node *trigger_node;  /* answer.trigger_event */
	/* actions: (scenario_actions.c) */
	const struct yt_node **action_nodes;  /* [n_actions] */
	const struct yt_node **action_undoes; /* [n_actions] explicit `undoes` */
	bool in_action;               /* parsing an action: no timeline offsets */
	/* scale: (scenario_scale.c) */
	const struct fd_scenario_scale *over; /* the command line's knobs; may be NULL */
	struct fd_scenario_scale scale;       /* the file's, with over's on top */
	struct fd_pos scale_pos[7];           /* each knob's value in the file (counts, rate, churn) */
	unsigned scale_from_cli;              /* bit per knob given in over */
	size_t own_services, own_traffic;     /* written in the file */
};

/* Spans and depth per request within FD_SCENARIO_MAX_* (scenario_limits.c);
 * after the call graph was found acyclic. */
int sp_check_work(struct sp *p);

/* ---- errors (scenario.c) ---------------------------------------------------- */

int sp_fail(struct sp *p, struct fd_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sp_oom(struct sp *p);

/* circuit_breaker: {failure_ratio, window, min_calls, open_for} (scenario.c) */
int sp_breaker(struct sp *p, const struct yt_node *node, const char *key, struct fd_breaker *out);



/* ---- shape checks ------------------------------------------------------------- */

/* node must be a mapping whose keys are all in allowed (NULL-terminated);
 * what names it in messages ("service 'orders'"). An unknown key is an
 * error at the key, with a did-you-mean. */
int sp_map(struct sp *p, const struct yt_node *node, const char *what,
	   const char *const *allowed);
int sp_seq(struct sp *p, const struct yt_node *node, const char *key);
/* *out = the value of a required key; error at the map when absent. */
int sp_need(struct sp *p, const struct yt_node *map, const char *key,
	    const char *what, const struct yt_node **out);

/* ---- values: node is the value, key names it in messages -------------------- */

int sp_string(struct sp *p, const struct yt_node *node, const char *key,
	      const char **out);
/* A name: non-empty, no whitespace or quotes. */
int sp_name(struct sp *p, const struct yt_node *node, const char *key,
	    const char **out);
int sp_duration(struct sp *p, const struct yt_node *node, const char *key,
		int64_t *out);
/* A duration, or "h:mm[:ss]" as an offset on the timeline. */
int sp_offset(struct sp *p, const struct yt_node *node, const char *key,
	      int64_t *out);
int sp_rate(struct sp *p, const struct yt_node *node, const char *key,
	    double *out);
int sp_mult(struct sp *p, const struct yt_node *node, const char *key,
	    double *out);
int sp_fraction(struct sp *p, const struct yt_node *node, const char *key,
		double *out);
int sp_number(struct sp *p, const struct yt_node *node, const char *key,
	      double *out);
int sp_size(struct sp *p, const struct yt_node *node, const char *key,
	    int64_t *out);
int sp_size_rate(struct sp *p, const struct yt_node *node, const char *key,
		 double *out);
int sp_int(struct sp *p, const struct yt_node *node, const char *key,
	   long long min, long long max, int *out);
int sp_bool(struct sp *p, const struct yt_node *node, const char *key,
	    bool *out);
/* A latency (sizes: a payload size) distribution: "5ms" (constant) or
 * {p50, p95, p99}. */
int sp_dist(struct sp *p, const struct yt_node *node, const char *key,
	    bool sizes, struct fd_dist *out);
/* Fills mu / sigma / sigma_tail from the percentiles. */
void sp_dist_fit(struct fd_dist *d);
/* errors: 5% or {rate: 5%, status: 503} */
int sp_errors(struct sp *p, const struct yt_node *node, const char *key,
	      double *prob, int *status);
/* A list of strings, or one string for a list of one. */
int sp_string_list(struct sp *p, const struct yt_node *node, const char *key,
		   const char ***out, size_t *n);
int sp_retry(struct sp *p, const struct yt_node *node, const char *key,
	     struct fd_retry *out);

/* ---- references --------------------------------------------------------------- */

/* A compact reference: `name` or `name "quoted part"`. The parts' positions
 * point into the scalar when it is on one line. quoted is NULL when absent. */
struct sp_ref {
	const char *name;
	const char *quoted;
	struct fd_pos name_pos;
	struct fd_pos quoted_pos;
};
int sp_split_ref(struct sp *p, const struct yt_node *node, const char *key,
		 struct sp_ref *out);

/* Look-ups with a did-you-mean in the error; pos is the reference's. */
int sp_find_service(struct sp *p, const char *name, struct fd_pos pos,
		    struct fd_service **out);
int sp_find_endpoint(struct sp *p, struct fd_service *svc, const char *key,
		     struct fd_pos pos, struct fd_endpoint **out);
int sp_find_database(struct sp *p, const char *name, struct fd_pos pos,
		     struct fd_database **out);
int sp_find_cache(struct sp *p, const char *name, struct fd_pos pos,
		  struct fd_cache **out);
int sp_find_queue(struct sp *p, const char *name, struct fd_pos pos,
		  struct fd_queue **out);
int sp_find_dependency(struct sp *p, const char *name, struct fd_pos pos,
		       struct fd_dependency **out);
int sp_find_node(struct sp *p, const char *name, struct fd_pos pos, struct fd_node **out);
int sp_find_workload(struct sp *p, const char *name, struct fd_pos pos,
		     struct fd_workload **out);
/* `svc "METHOD /route"` as one string. */
int sp_endpoint_ref(struct sp *p, const struct yt_node *node, const char *key,
		    struct fd_endpoint **out);

/* Pretty "1h5m" for messages; buf of at least 32 bytes. */
const char *sp_fmt_offset(int64_t ns, char *buf, size_t size);

/* ---- passes ------------------------------------------------------------------- */

/* scenario_parse.c: everything but the timeline, then sp_parse_timeline. */
int sp_parse_root(struct sp *p, const struct yt_node *root);
/* scenario_parse.c: one list of calls (endpoints, on_miss, cron jobs). */
int sp_parse_calls(struct sp *p, const struct yt_node *node, const char *key,
		   struct fd_service *caller, int depth, struct fd_call **out,
		   size_t *n);
/* scenario_load.c: the traffic entry (an item of `traffic:`) and `noise:`. */
int sp_parse_traffic(struct sp *p, struct fd_traffic *tr, const struct yt_node *node);
int sp_parse_noise(struct sp *p, const struct yt_node *node);
/* scenario_timeline.c */
int sp_parse_timeline(struct sp *p, const struct yt_node *node);
/* scenario_timeline.c: one event's kind, parameters and effects (not `at`,
 * which the caller sets first). Keys in `extra` (NULL-terminated, may be
 * NULL) are the caller's and skipped; *undoes gets an explicit `undoes`. */
int sp_parse_event(struct sp *p, const struct yt_node *node, struct fd_event *ev,
		   const char *const *extra, const struct yt_node **undoes);
/* scenario_actions.c: actions: and drill: (after the timeline), and the
 * checks across them (after sp_resolve's). */
int sp_parse_actions(struct sp *p, const struct yt_node *node);
int sp_parse_drill(struct sp *p, const struct yt_node *node);
int sp_resolve_actions(struct sp *p);
/* scenario_scale.c: reads `scale:` and the overrides, and adds the
 * background services to the tree (before sp_parse_root); then, on the
 * resolved model, instances, rate, capacity and cardinality. */
int sp_scale_prepare(struct sp *p, struct fd_arena *tree, struct yt_node *root);
int sp_scale_apply(struct sp *p);
/* scenario_timeline.c, shared with scenario_infra.c: the shorthand kinds'
 * helpers */
int sp_effect_timing(struct sp *p, const struct yt_node *node, struct fd_effect *e);
int sp_latency_change(struct sp *p, const struct yt_node *v, const char *key, struct fd_effect *e);
int sp_shorthand_target(struct sp *p, const struct yt_node *params, const char *what,
			unsigned allowed, const char *allowed_text, struct fd_effect *e);
int sp_mitigation_params(struct sp *p, const struct yt_node *params, struct fd_event *ev,
			 const struct yt_node **undoes);
/* scenario_infra.c: the cluster block (before the services, whose
 * placement names its nodes), a service's placement, the parameters of the
 * kinds below the application (their key lists are sp_k_*) */
int sp_parse_cluster(struct sp *p, const struct yt_node *node);
int sp_parse_placement(struct sp *p, struct fd_service *svc, const struct yt_node *node);
int sp_parse_infra_kind(struct sp *p, const struct yt_node *params, struct fd_event *ev,
			const struct yt_node **undoes, struct fd_effect *sh, bool *has_sh);
const char *sp_query_table(struct sp *p, const struct fd_query *q);
extern const char *const sp_k_co_tenant[], *const sp_k_not_ready[], *const sp_k_cordon[],
	*const sp_k_failover[], *const sp_k_autovacuum[], *const sp_k_checkpoint[],
	*const sp_k_lock_holder[], *const sp_k_leader[], *const sp_k_eviction[];
/* scenario_resolve.c */
int sp_finish_queries(struct sp *p);
int sp_resolve(struct sp *p);

#endif
