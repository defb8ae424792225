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
};

/* Receives each record; the record is valid only during the call. A negative
 * return stops the simulation and is returned by fd_sim_run. */
typedef int (*fd_sim_emit_fn)(void *ctx, const struct fd_record *rec, struct fd_error *err);

/* scenario is borrowed and must outlive the simulation. */
int fd_sim_create(const struct fd_scenario *scenario, const struct fd_sim_options *opts,
		  struct fd_sim **out, struct fd_error *err);

int fd_sim_run(struct fd_sim *sim, fd_sim_emit_fn emit, void *ctx, struct fd_error *err);

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
