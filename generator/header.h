/*
 * The recording header of a scenario's simulation: its identity, its text
 * (so a drill can be regenerated) and the answer key's text, actions and
 * hints — for `generate` and `drill` alike. No wall-clock time goes in, so
 * the same scenario and seed give the same bytes.
 */
#ifndef FD_GENERATOR_HEADER_H
#define FD_GENERATOR_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "firedrill/v1/firedrill.pb-c.h"
#include "generator/scenario.h"

/* Caller-owned; the strings point into the scenario, which must outlive it. */
struct fd_scenario_header {
	Firedrill__V1__RecordingHeader header;
	Firedrill__V1__AnswerKey key;
	Firedrill__V1__DrillAction *actions;
	Firedrill__V1__DrillAction **action_ptrs;
	Firedrill__V1__DrillLog log;
	Firedrill__V1__ActionTaken *taken;
	Firedrill__V1__ActionTaken **taken_ptrs;
	Firedrill__V1__ScenarioScale scale;
};

/* start and end: the simulated range, unix ns; text: the scenario's source
 * (may be NULL). Returns 0, or -1 when out of memory. */
int fd_scenario_header_init(struct fd_scenario_header *h, const struct fd_scenario *sc,
			    uint64_t seed, int64_t start, int64_t end, const char *text);

/* Sets the drill's action log (header.drill): n actions taken at at[i],
 * rolled out by done[i] (unix ns). Returns 0, or -1 when out of memory. */
int fd_scenario_header_set_log(struct fd_scenario_header *h, const struct fd_action *const *actions,
			       const int64_t *at, const int64_t *done, size_t n);

/* Stores the scale knobs given on the command line (header.scale), so
 * that readers parse the scenario text as it was simulated; nothing when
 * over is NULL or sets no knob (the header stays byte for byte as without). */
void fd_scenario_header_set_scale(struct fd_scenario_header *h, const struct fd_scenario_scale *over);

/* The knobs a recording's header stores (zeros when none): the `over` of
 * fd_scenario_parse_scaled for its scenario_source. */
void fd_scenario_header_scale(const Firedrill__V1__RecordingHeader *hdr, struct fd_scenario_scale *out);

/* Frees what init and set_log allocated; accepts a zeroed struct. */
void fd_scenario_header_finish(struct fd_scenario_header *h);

#endif
