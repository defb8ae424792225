/*
 * The JSON the console page reads, shared by the live console (drill.c,
 * through the control API) and the static report (report.c), so that both
 * draw the same page from the same shapes:
 *
 *   scenario: {scenario, title, description, prompt, start, history_s,
 *              answer: {root_cause, trigger, mitigation, verification,
 *                       investigation[], red_herrings[], evidence[]},
 *              hints[], actions: [{name, title, kind, verdict, why}],
 *              endpoints[], window_s}
 *   state:    {scenario, title, offset_s, sim_time, speed, running,
 *              actions: [{name, title, taken_at, taken_time, done_at}],
 *              events: [{at_s, time, name, kind, description, action}],
 *              figures: {window_s, endpoints: [{name, windows: [{t, requests,
 *                        p50, p95, error_rate, throughput}]}]}}
 *
 * Times are scenario offsets in seconds (at_s, t, taken_at...) and RFC 3339.
 */
#ifndef FD_DRILL_VIEWS_H
#define FD_DRILL_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/json.h"
#include "drill/figures.h"
#include "firedrill/v1/firedrill.pb-c.h"

/* The scenario object, from a recording header (generator/header.h builds
 * one for a live drill). */
void fd_view_scenario(struct fd_json *j, const Firedrill__V1__RecordingHeader *h, int64_t history_ns,
		      const char *const *endpoints, size_t n_endpoints, int64_t window_ns);

/* One element of state.events. */
void fd_view_event(struct fd_json *j, int64_t start, int64_t at, const char *name, const char *kind,
		   const char *description, bool action);

/* One element of state.actions: taken_at and done_at < 0 when not taken. */
void fd_view_action(struct fd_json *j, int64_t start, const char *name, const char *title,
		    int64_t taken_at, int64_t done_at);

/* state.figures: the windows of f that start after since_s (an offset). */
void fd_view_figures(struct fd_json *j, const struct fd_figures *f, const char *const *names,
		     size_t n, int64_t start, double since_s, double throughput_scale);

/* "key": "RFC 3339 time". */
void fd_view_time(struct fd_json *j, const char *key, int64_t unix_ns);

#endif
