/*
 * The console's JSON (views.h).
 */
#include "common/timefmt.h"
#include "drill/views.h"

void fd_view_time(struct fd_json *j, const char *key, int64_t unix_ns)
{
	char b[40];
	fd_json_key(j, key);
	fd_json_string(j, fd_format_time(b, sizeof(b), unix_ns));
}

static void strings(struct fd_json *j, const char *key, char *const *v, size_t n)
{
	fd_json_key(j, key);
	fd_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		fd_json_string(j, v[i]);
	fd_json_array_end(j);
}

/* An empty string is "not given": null. */
static void str(struct fd_json *j, const char *key, const char *s)
{
	fd_json_key(j, key);
	if (s && *s)
		fd_json_string(j, s);
	else
		fd_json_null(j);
}

void fd_view_scenario(struct fd_json *j, const Firedrill__V1__RecordingHeader *h, int64_t history_ns,
		      const char *const *endpoints, size_t n_endpoints, int64_t window_ns)
{
	const Firedrill__V1__AnswerKey *a = h->answer_key;
	fd_json_object_begin(j);
	str(j, "scenario", h->scenario_name);
	str(j, "title", h->scenario_title && *h->scenario_title ? h->scenario_title : h->scenario_name);
	str(j, "prompt", a ? a->prompt : NULL);
	fd_view_time(j, "start", (int64_t)h->start_time_unix_nano);
	fd_json_key(j, "history_s");
	fd_json_double(j, (double)history_ns / 1e9);
	fd_json_key(j, "answer");
	fd_json_object_begin(j);
	if (a) {
		str(j, "root_cause", a->root_cause);
		str(j, "trigger", a->trigger);
		str(j, "mitigation", a->mitigation);
		str(j, "verification", a->verification);
		strings(j, "investigation", a->investigation, a->n_investigation);
		strings(j, "red_herrings", a->red_herrings, a->n_red_herrings);
		strings(j, "evidence", a->evidence, a->n_evidence);
	}
	fd_json_object_end(j);
	strings(j, "hints", a ? a->hints : NULL, a ? a->n_hints : 0);
	fd_json_key(j, "actions");
	fd_json_array_begin(j);
	for (size_t i = 0; a && i < a->n_actions; i++) {
		const Firedrill__V1__DrillAction *x = a->actions[i];
		fd_json_object_begin(j);
		str(j, "name", x->name);
		str(j, "title", x->title);
		str(j, "kind", x->kind);
		str(j, "verdict", x->verdict);
		str(j, "why", x->why);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	strings(j, "endpoints", (char *const *)endpoints, n_endpoints);
	fd_json_key(j, "window_s");
	fd_json_double(j, (double)window_ns / 1e9);
	fd_json_object_end(j);
}

void fd_view_event(struct fd_json *j, int64_t start, int64_t at, const char *name, const char *kind,
		   const char *description, bool action)
{
	fd_json_object_begin(j);
	fd_json_key(j, "at_s");
	fd_json_double(j, (double)at / 1e9);
	fd_view_time(j, "time", start + at);
	str(j, "name", name);
	str(j, "kind", kind);
	str(j, "description", description);
	fd_json_key(j, "action");
	fd_json_bool(j, action);
	fd_json_object_end(j);
}

void fd_view_action(struct fd_json *j, int64_t start, const char *name, const char *title,
		    int64_t taken_at, int64_t done_at)
{
	fd_json_object_begin(j);
	str(j, "name", name);
	str(j, "title", title);
	fd_json_key(j, "taken_at");
	if (taken_at >= 0)
		fd_json_double(j, (double)taken_at / 1e9);
	else
		fd_json_null(j);
	if (taken_at >= 0)
		fd_view_time(j, "taken_time", start + taken_at);
	else
		str(j, "taken_time", NULL);
	fd_json_key(j, "done_at");
	if (taken_at >= 0 && done_at >= 0)
		fd_json_double(j, (double)done_at / 1e9);
	else
		fd_json_null(j);
	fd_json_object_end(j);
}

void fd_view_figures(struct fd_json *j, const struct fd_figures *f, const char *const *names,
		     size_t n, int64_t start, double since_s, double throughput_scale)
{
	double win_s = (double)fd_figures_window_ns(f) / 1e9;
	size_t nw = fd_figures_count(f);
	fd_json_object_begin(j);
	fd_json_key(j, "window_s");
	fd_json_double(j, win_s);
	fd_json_key(j, "endpoints");
	fd_json_array_begin(j);
	for (size_t s = 0; s < n; s++) {
		fd_json_object_begin(j);
		fd_json_key(j, "name");
		fd_json_string(j, names[s]);
		fd_json_key(j, "windows");
		fd_json_array_begin(j);
		for (size_t i = 0; i < nw; i++) {
			const struct fd_window *w = fd_figures_window(f, s, i);
			double t = (double)(w->start - start) / 1e9;
			if (t <= since_s)
				continue;
			fd_json_object_begin(j);
			fd_json_key(j, "t");
			fd_json_double(j, t);
			fd_json_key(j, "requests");
			fd_json_uint(j, w->requests);
			fd_json_key(j, "p50");
			fd_json_double(j, w->p50);
			fd_json_key(j, "p95");
			fd_json_double(j, w->p95);
			fd_json_key(j, "error_rate");
			fd_json_double(j, w->requests ? (double)w->errors / (double)w->requests : 0);
			fd_json_key(j, "throughput");
			fd_json_double(j, (double)w->requests / win_s * throughput_scale);
			fd_json_object_end(j);
		}
		fd_json_array_end(j);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_object_end(j);
}
