/*
 * Actions taken during a live drill (fd_sim_take).
 *
 * An action is an event of the scenario whose time is known only when the
 * candidate takes it. Taking it at `at` copies its event and effects with
 * their times moved to `at`, and brings them into the simulation when the
 * run loop's work first reaches at - FD_SIM_ACTION_LEAD_NS — the same point
 * of the loop whether the run is stepped live or runs through with a known
 * action log, which is what makes a drill's recording reproducible. Work
 * simulated before that point (requests already under way, state stepped
 * ahead) does not see the action; everything after does, from `at` on.
 */
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

struct sim_action {
	const struct fd_action *a;
	int64_t at;             /* unix ns */
	struct fd_event ev;     /* the action's event, at its moment */
	struct fd_effect *effects;
	bool registered, applied;
};

int fd_sim_take(struct fd_sim *s, const struct fd_action *a, int64_t at, struct fd_error *err)
{
	if (at - FD_SIM_ACTION_LEAD_NS < s->advanced)
		return fd_error_set(err, FD_EINPUT,
				    "action '%s': too early; the simulation is already past what it changes",
				    a->name);
	if (s->n_acts && at < s->acts[s->n_acts - 1]->at)
		return fd_error_set(err, FD_EINPUT, "action '%s': before an action taken earlier", a->name);
	struct sim_action **v = realloc(s->acts, (s->n_acts + 1) * sizeof(*v));
	if (!v)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->acts = v;
	struct sim_action *x = calloc(1, sizeof(*x));
	if (!x)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	x->a = a;
	x->at = at;
	x->ev = a->event;
	x->ev.at_ns = at - s->start;
	if (a->event.n_effects) {
		x->effects = calloc(a->event.n_effects, sizeof(*x->effects));
		if (!x->effects) {
			free(x);
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		}
	}
	for (size_t i = 0; i < a->event.n_effects; i++) {
		struct fd_effect *e = &x->effects[i];
		*e = a->event.effects[i];
		e->event = &x->ev;
		e->start_ns += x->ev.at_ns;
		if (e->end_ns != FD_FOREVER)
			e->end_ns += x->ev.at_ns;
	}
	x->ev.effects = x->effects;
	s->acts[s->n_acts++] = x;
	return 0;
}

/* The action's effects join the index, the event it undoes starts to ramp
 * back at its moment, and the answer key's "after" follows the fix. */
static void bring_in(struct fd_sim *s, struct sim_action *x)
{
	const struct fd_event *ev = &x->ev;
	int64_t off = ev->at_ns;
	x->registered = true;
	if (ev->undoes && ev->undoes->at_ns <= off) {
		struct event_state *es = &s->evs[ev->undoes->id];
		if (es->undo_at == INT64_MAX) {
			es->undo_at = off;
			es->undo_ramp = ev->rollout_ns;
			es->damping = ev->damping > 0 ? ev->damping : 1;
		}
	}
	for (size_t i = 0; i < ev->n_effects; i++)
		if (sim_effects_add(s, &x->effects[i]) < 0) {
			sim_oom(s);
			return;
		}
	if (x->a->verdict == FD_VERDICT_FIXES && s->trigger && s->mitigate_at == INT64_MAX &&
	    x->at >= s->trigger_at) {
		s->mitigate_at = x->at;
		s->recovered_at = x->at + ev->rollout_ns + 5 * 60 * NS;
	}
}

void sim_actions_register(struct fd_sim *s, int64_t t)
{
	while (s->n_registered < s->n_acts && s->acts[s->n_registered]->at - FD_SIM_ACTION_LEAD_NS <= t)
		bring_in(s, s->acts[s->n_registered++]);
}

void sim_actions_apply(struct fd_sim *s, int64_t t)
{
	while (s->n_applied < s->n_registered && s->acts[s->n_applied]->at <= t) {
		struct sim_action *x = s->acts[s->n_applied++];
		x->applied = true;
		sim_apply_event(s, &x->ev, x->at);
	}
}

void sim_actions_free(struct fd_sim *s)
{
	for (size_t i = 0; i < s->n_acts; i++) {
		free(s->acts[i]->effects);
		free(s->acts[i]);
	}
	free(s->acts);
	s->acts = NULL;
	s->n_acts = 0;
}
