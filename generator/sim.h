/*
 * The incident simulation: walks every request of a scenario through its
 * call graph and projects it onto traces, logs and metrics.
 *
 * Every request is simulated once; its spans (when sampled), its log lines
 * and its metric observations all come from that one simulation, so the
 * signals agree. Records are handed out in non-decreasing time order.
 * Deterministic: the same scenario and options give the same records, byte
 * for byte.
 */
#ifndef FD_SIM_H
#define FD_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"
#include "generator/scenario.h"

struct fd_sim;

struct fd_sim_options {
	bool seed_set;
	uint64_t seed;       /* else the scenario's */
	bool start_set;
	int64_t start_ns;    /* else the scenario's */
	int64_t duration_ns; /* 0: the scenario's */
	/* A live drill: timeline events marked mitigation are left out (the
	 * candidate's actions mitigate, fd_sim_take). */
	bool live;
	/* Emit on a second thread: the records, their order and their bytes
	 * are the same, the emit callback is called from that thread (never
	 * two calls at once), fd_sim_advance may return before its records
	 * are emitted (an emit error shows at a later advance or at finish)
	 * and fd_sim_finish returns when all are, through the emit and ctx
	 * of the call that hands them over (a later one's): give every call
	 * the same. Memory in flight is bounded. Not for live drills, which
	 * need each step's records out. */
	bool emit_thread;
};

/* Receives each record; the record is valid only during the call. A negative
 * return stops the simulation and is returned by fd_sim_run. */
typedef int (*fd_sim_emit_fn)(void *ctx, const struct fd_record *rec, struct fd_error *err);

/* scenario is borrowed and must outlive the simulation. */
int fd_sim_create(const struct fd_scenario *scenario, const struct fd_sim_options *opts,
		  struct fd_sim **out, struct fd_error *err);

/* The whole run: fd_sim_finish at the end. */
int fd_sim_run(struct fd_sim *sim, fd_sim_emit_fn emit, void *ctx, struct fd_error *err);

/* ---- stepping, for live drills (drill/) -----------------------------------------
 *
 * fd_sim_advance(until) simulates the work that starts before `until` (unix
 * ns) and emits the records that are final by then; called again with a
 * later `until`, it goes on where it stopped. fd_sim_finish(end) ends the
 * simulation at `end` (no earlier than the last until): the last scrapes,
 * the records of the requests still under way, and the answer-key figures.
 * Splitting a run into steps does not change its records. */
int fd_sim_advance(struct fd_sim *sim, int64_t until, fd_sim_emit_fn emit, void *ctx,
		   struct fd_error *err);
int fd_sim_finish(struct fd_sim *sim, int64_t end, fd_sim_emit_fn emit, void *ctx,
		  struct fd_error *err);

/* The simulation computes a request whole when it arrives, so it runs up to
 * a minute ahead of its clock (instance state, requests under way). An
 * action can change what comes only this long after the last until. */
#define FD_SIM_ACTION_LEAD_NS (61 * 1000000000LL)

/* Takes action (one of the scenario's) so that it acts from `at` (unix ns,
 * >= the last until + FD_SIM_ACTION_LEAD_NS, and not before an action
 * taken earlier): its event happens at `at`, its effects count from there,
 * and the event it undoes (if that has happened) ramps back over its
 * rollout. The records are the same whether an action is taken between
 * steps of a live run or before a run that is not stepped: the simulation
 * brings it in when its work reaches at - FD_SIM_ACTION_LEAD_NS. Errors:
 * FD_EINPUT (too early, or out of order), FD_ERUNTIME. */
int fd_sim_take(struct fd_sim *sim, const struct fd_action *action, int64_t at, struct fd_error *err);

/* Called for each request at an entry endpoint as it is simulated (in
 * arrival order): when it started, how long it took, its status. */
typedef void (*fd_sim_request_fn)(void *ctx, const struct fd_traffic *entry, int64_t start,
				  int64_t duration_ns, int status);
void fd_sim_set_observer(struct fd_sim *sim, fd_sim_request_fn fn, void *ctx);

/* One answer-key figure: "p95" of "gateway POST /checkout" "during" = 4.1 "s". */
struct fd_sim_figure {
	const char *name;    /* trigger_at, requests, p50, p95, p99, error_rate, added_time */
	const char *subject; /* the endpoint, hop or event it is about */
	const char *phase;   /* before, during, after; "" for trigger_at */
	const char *unit;    /* s, 1, ratio */
	double value;
};

/* After a run: the answer-key figures measured from the simulated requests
 * (percentiles and error rates per entry endpoint before / during / after
 * the incident, the hops that gained the added time, the trigger). The
 * array and its strings belong to the simulation. */
size_t fd_sim_figures(const struct fd_sim *sim, const struct fd_sim_figure **out);

/* The simulated time range. */
int64_t fd_sim_start(const struct fd_sim *sim);
int64_t fd_sim_end(const struct fd_sim *sim);
uint64_t fd_sim_seed(const struct fd_sim *sim);

/* Number of requests simulated at entry endpoints, by outcome. */
uint64_t fd_sim_requests(const struct fd_sim *sim);

void fd_sim_destroy(struct fd_sim *sim);

#endif
