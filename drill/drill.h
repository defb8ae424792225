/*
 * A live drill: the scenario's simulation run against the clock, steered by
 * the actions an interviewer takes for the candidate.
 *
 *   backfill: scenario offsets [0, history) as fast as possible
 *   then:     real time (times speed) until stopped
 *
 * The simulation always runs in scenario time from offset 0, so the -o
 * recording is the same bytes for the same scenario, seed, action log and
 * stop time, however fast it ran (a debrief regenerates it with
 * fd_drill_plan). The sinks get every record shifted by one constant so
 * that offset `history` is stamped with the wall-clock time the real-time
 * part began: the backfill ends "now", and at 1x every later record is
 * stamped with the time it is sent (at Nx the stamps run N times faster, as
 * in `replay --speed Nx`).
 *
 * Actions may be taken from any thread (the control API's): one taken while
 * the simulation is at offset P takes effect at P + FD_SIM_ACTION_LEAD_NS
 * rounded up to the second — the simulation computes requests ahead of its
 * clock, so that is the first moment it can still change.
 *
 * Threads: fd_drill_run on one thread; fd_drill_take, fd_drill_stop and the
 * JSON views from any other.
 */
#ifndef FD_DRILL_H
#define FD_DRILL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "generator/scenario.h"
#include "replay/pace.h"
#include "sinks/sink.h"

struct fd_drill;

struct fd_drill_options {
	bool seed_set;
	uint64_t seed;          /* else the scenario's */
	double speed;           /* 1 = real time, 60 = 60x, 0 = as fast as possible */
	bool history_set;
	int64_t history_ns;     /* else the scenario's drill.join_at */
	int64_t until_ns;       /* stop by itself at this offset; 0 = when asked */
	int64_t wall_now;       /* unix ns of the start of the real-time part; 0 = the real clock */
	const struct fd_clock *clock; /* NULL = fd_clock_monotonic */
	volatile sig_atomic_t *stop; /* when set (a signal), stop as fd_drill_stop does */
	const char *output;     /* the recording (-o); NULL = none */
	const char *scenario_text; /* stored in the recording's header */
	/* the command line's scale knobs the scenario was parsed with, stored
	 * in the header beside its text; NULL = none */
	const struct fd_scenario_scale *scale;
	struct fd_sink **sinks; /* the --to sinks; borrowed; flushed, never closed */
	size_t n_sinks;
	/* The timeline as written, its mitigations included, and no actions:
	 * `generate --duration forever`, a soak test's steady system that has
	 * an incident only when the scenario schedules one. */
	bool scripted;
	/* Only shard `shard` of `shards` (replay --shard's rule) reaches the
	 * sinks and the recording; shards 0 or 1 = all. */
	unsigned shard, shards;
};

/* Error codes of fd_drill_take besides FD_ERUNTIME. */
#define FD_DRILL_UNKNOWN 404 /* no action of that name */
#define FD_DRILL_TAKEN 409   /* already taken */
#define FD_DRILL_OVER 410    /* the drill has stopped */

/* scenario and o (and what it points to) are borrowed and must outlive the
 * drill. Opens the recording. Errors: FD_EINPUT (a bad option), FD_ERUNTIME. */
int fd_drill_create(const struct fd_scenario *scenario, const struct fd_drill_options *o,
		    struct fd_drill **out, struct fd_error *err);

/* For a debrief, before fd_drill_run: take action `name` at scenario offset
 * at_ns, as a live drill's log says. Errors: FD_EINPUT for an unknown action,
 * one planned twice, or planned earlier than the previous one. */
int fd_drill_plan(struct fd_drill *d, const char *name, int64_t at_ns, struct fd_error *err);

/* Runs the drill until fd_drill_stop, *o->stop or o->until_ns; then ends
 * the simulation there, flushes the sinks and finishes the recording (with
 * the action log and, per action, the key figures before and after it).
 * Errors: the simulation's, a sink's, the recording's. */
int fd_drill_run(struct fd_drill *d, struct fd_error *err);

/* Takes action `name` now; *at_ns is the scenario offset at which it takes
 * effect. Returns 0, or -FD_DRILL_UNKNOWN / -FD_DRILL_TAKEN / -FD_DRILL_OVER
 * with a message in err. */
int fd_drill_take(struct fd_drill *d, const char *name, int64_t *at_ns, struct fd_error *err);

/* Asks fd_drill_run to stop (from any thread; returns at once). */
void fd_drill_stop(struct fd_drill *d);

/* True until fd_drill_run has finished. */
bool fd_drill_running(struct fd_drill *d);

/* The scenario side of the console: title, prompt, hints, answer key,
 * actions with their verdicts, the charted endpoints. */
void fd_drill_scenario_json(struct fd_drill *d, FILE *out);

/* GET /api/state: the clock, actions, events so far and the figures of
 * the 10 s windows that start after since_s (a scenario offset; < 0 = all
 * kept). */
void fd_drill_state_json(struct fd_drill *d, double since_s, FILE *out);

/* Unix ns of scenario offset 0. */
int64_t fd_drill_start(struct fd_drill *d);

/* The scenario offset simulated so far, ns. */
int64_t fd_drill_offset(struct fd_drill *d);

/* How far the real-time part trails the clock now, in wall ns (0 when it
 * keeps up to within a tick); *max_ns, if given, the most it ever did. */
int64_t fd_drill_behind(struct fd_drill *d, int64_t *max_ns);

/* Records and bytes sent, per signal (what the -o recording got). */
void fd_drill_counts(struct fd_drill *d, uint64_t records[FD_SIGNAL_COUNT],
		     uint64_t bytes[FD_SIGNAL_COUNT]);

/* Accepts NULL. Does not close the sinks. */
void fd_drill_destroy(struct fd_drill *d);

#endif
