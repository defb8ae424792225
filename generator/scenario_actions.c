/*
 * Scenario parsing, part 3: what a live drill needs. `actions:` are the
 * interventions a candidate can ask for (roll back, scale out, restart, turn
 * a flag off, raise a pool...): each is an event of the timeline's language
 * without an `at` — it happens when it is taken — plus a title and the
 * answer key's verdict. `drill:` says where a drill joins the scenario and
 * which hints the interviewer can give.
 *
 * Checks that depend on the moment (is there a deploy to roll back, does a
 * scale-out add instances) are made against the whole timeline, since an
 * action may be taken at any time: a rollback undoes the last deploy of its
 * service, a flag_off the last feature_flag of its flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/scenario_internal.h"
#include "common/suggest.h"

/* Keys of an action besides its event's (kind, description, effects). */
static const char *const action_keys[] = {"name", "title", "verdict", "why", "undoes", "damping",
					  "rollout", NULL};
/* An action of any kind may undo (or damp) an event of the timeline: a
 * fail-over undoes an outage, pausing a job undoes what it started. */
static const char *const undo_keys[] = {"undoes", "damping", "rollout", NULL};

static int action_name(struct sp *p, const struct yt_node *v, const char **out)
{
	int rc;
	if ((rc = sp_name(p, v, "name", out)) < 0)
		return rc;
	/* it is a path segment of the control API: POST /api/actions/NAME */
	for (const char *c = *out; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '.'))
			return sp_fail(p, v->pos, "name: '%s': an action's name may use letters, digits, '-', '_' and '.' only",
				       *out);
	return 0;
}

static int parse_verdict(struct sp *p, const struct yt_node *v, enum fd_verdict *out)
{
	static const char *const names[] = {"fixes", "helps", "no_effect", "worsens"};
	const char *s;
	int rc;
	if ((rc = sp_name(p, v, "verdict", &s)) < 0)
		return rc;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum fd_verdict)i;
			return 0;
		}
	const char *best = fd_suggest(s, names, 4);
	return sp_fail(p, v->pos, "verdict: '%s': expected fixes, helps, no_effect or worsens%s%s%s", s,
		       best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
}

static int parse_action(struct sp *p, const struct yt_node *node, struct fd_action *a)
{
	const struct yt_node *v;
	int rc;
	a->pos = node->pos;
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "actions: each action is a mapping with name, title, verdict and a kind (rollback, scale_out...), got %s",
			       yt_kind_name(node));
	if ((v = yt_get(node, "at")))
		return sp_fail(p, v->pos, "at: an action has no time; it happens when the candidate takes it");
	if ((v = yt_get(node, "mitigation")))
		return sp_fail(p, v->pos, "mitigation: every action is an intervention; the key is for timeline events");
	if ((rc = sp_need(p, node, "name", "action", &v)) < 0 || (rc = action_name(p, v, &a->name)) < 0 ||
	    (rc = sp_need(p, node, "title", "action", &v)) < 0 || (rc = sp_string(p, v, "title", &a->title)) < 0 ||
	    (rc = sp_need(p, node, "verdict", "action", &v)) < 0 || (rc = parse_verdict(p, v, &a->verdict)) < 0)
		return rc;
	if ((v = yt_get(node, "why")) && (rc = sp_string(p, v, "why", &a->why)) < 0)
		return rc;
	/* the event: at 0, its effects' times relative to the moment taken */
	a->event.at_ns = 0;
	a->event.id = (int)p->s->n_events + a->id;
	p->in_action = true;
	rc = sp_parse_event(p, node, &a->event, action_keys, &p->action_undoes[a->id]);
	p->in_action = false;
	if (rc < 0)
		return rc;
	/* `undoes` / `damping` beside the kind, for the kinds whose
	 * parameters do not take them */
	for (size_t k = 0; undo_keys[k]; k++)
		if ((v = yt_get(node, undo_keys[k]))) {
			const struct yt_node *params = yt_get(node, a->event.kind_name);
			if (params && params->kind == YT_MAP && yt_get(params, undo_keys[k]))
				return sp_fail(p, v->pos, "%s: given twice (here and in the %s)", undo_keys[k],
					       a->event.kind_name);
			if (k == 0) {
				const char *name;
				if ((rc = sp_name(p, v, "undoes", &name)) < 0)
					return rc;
				p->action_undoes[a->id] = v;
			} else if (k == 1) {
				if ((rc = sp_fraction(p, v, "damping", &a->event.damping)) < 0)
					return rc;
			} else if ((rc = sp_duration(p, v, "rollout", &a->event.rollout_ns)) < 0) {
				/* how long the change takes to spread: what it undoes
				 * ramps back over it */
				return rc;
			}
		}
	a->event.name = a->name;
	a->event.mitigation = true;
	if (!a->event.description)
		a->event.description = a->title;
	return 0;
}

int sp_parse_actions(struct sp *p, const struct yt_node *node)
{
	struct fd_scenario *s = p->s;
	int rc;
	if ((rc = sp_seq(p, node, "actions")) < 0)
		return rc;
	if (node->n == 0)
		return 0;
	if (node->n > 64)
		return sp_fail(p, node->pos, "actions: %zu actions; at most 64 (a console of buttons, not a menu)",
			       node->n);
	s->actions = fd_arena_array(p->arena, node->n, sizeof(*s->actions));
	p->action_nodes = calloc(node->n, sizeof(*p->action_nodes));
	p->action_undoes = calloc(node->n, sizeof(*p->action_undoes));
	if (!s->actions || !p->action_nodes || !p->action_undoes)
		return sp_oom(p);
	s->n_actions = node->n;
	for (size_t i = 0; i < node->n; i++) {
		s->actions[i].id = (int)i;
		p->action_nodes[i] = node->items[i];
		if ((rc = parse_action(p, node->items[i], &s->actions[i])) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->actions[j].name, s->actions[i].name) == 0)
				return sp_fail(p, yt_get(node->items[i], "name")->pos,
					       "name: two actions are named '%s' (the other at %d:%d)",
					       s->actions[i].name, s->actions[j].pos.line, s->actions[j].pos.col);
	}
	return 0;
}

int sp_parse_drill(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"join_at", "hints", NULL};
	struct fd_scenario *s = p->s;
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, "drill", keys)) < 0)
		return rc;
	if ((v = yt_get(node, "join_at"))) {
		if ((rc = sp_offset(p, v, "join_at", &s->join_at_ns)) < 0)
			return rc;
		if (s->join_at_ns >= s->duration_ns) {
			char a[32], d[32];
			return sp_fail(p, v->pos, "join_at: %s is not before the end of the scenario (duration %s)",
				       sp_fmt_offset(s->join_at_ns, a, sizeof(a)),
				       sp_fmt_offset(s->duration_ns, d, sizeof(d)));
		}
	}
	if ((v = yt_get(node, "hints")) && (rc = sp_string_list(p, v, "hints", &s->hints, &s->n_hints)) < 0)
		return rc;
	return 0;
}

/* ---- checks across the timeline ----------------------------------------------- */

static struct fd_event *last_event(struct fd_scenario *s, enum fd_event_kind kind,
				   const struct fd_service *svc, const char *flag)
{
	for (size_t k = s->n_events; k-- > 0;) {
		struct fd_event *e = &s->events[k];
		if (e->kind != kind)
			continue;
		if (kind == FD_EVENT_DEPLOY && e->service == svc)
			return e;
		if (kind == FD_EVENT_FEATURE_FLAG && strcmp(e->flag, flag) == 0)
			return e;
	}
	return NULL;
}

static int resolve_undoes(struct sp *p, struct fd_action *a)
{
	struct fd_scenario *s = p->s;
	struct fd_event *ev = &a->event;
	const struct yt_node *v = p->action_undoes[a->id];
	if (v) {
		struct fd_event *u = NULL;
		for (size_t k = 0; k < s->n_events && !u; k++)
			if (strcmp(s->events[k].name, v->str) == 0)
				u = &s->events[k];
		if (!u) {
			const char **names = malloc((s->n_events ? s->n_events : 1) * sizeof(*names));
			if (!names)
				return sp_oom(p);
			for (size_t k = 0; k < s->n_events; k++)
				names[k] = s->events[k].name;
			const char *best = fd_suggest(v->str, names, s->n_events);
			int rc = sp_fail(p, v->pos, "undoes: no event of the timeline is named '%s'%s%s%s",
					 v->str, best ? " (did you mean '" : "", best ? best : "",
					 best ? "'?)" : "");
			free(names);
			return rc;
		}
		if (u->mitigation)
			return sp_fail(p, v->pos, "undoes: '%s' is a mitigation itself", u->name);
		if (ev->kind == FD_EVENT_ROLLBACK &&
		    (u->kind != FD_EVENT_DEPLOY || u->service != ev->service))
			return sp_fail(p, v->pos, "undoes: a rollback of '%s' undoes a deploy of '%s', and '%s' is not one",
				       ev->service->name, ev->service->name, u->name);
		if (ev->kind == FD_EVENT_FLAG_OFF &&
		    (u->kind != FD_EVENT_FEATURE_FLAG || strcmp(u->flag, ev->flag) != 0))
			return sp_fail(p, v->pos, "undoes: flag_off of '%s' undoes a feature_flag of '%s', and '%s' is not one",
				       ev->flag, ev->flag, u->name);
		ev->undoes = u;
		return 0;
	}
	if (ev->kind == FD_EVENT_ROLLBACK) {
		if (!(ev->undoes = last_event(s, FD_EVENT_DEPLOY, ev->service, NULL)))
			return sp_fail(p, a->pos, "rollback: the timeline has no deploy of '%s' to roll back",
				       ev->service->name);
	} else if (ev->kind == FD_EVENT_FLAG_OFF) {
		if (!(ev->undoes = last_event(s, FD_EVENT_FEATURE_FLAG, NULL, ev->flag)))
			return sp_fail(p, a->pos, "flag_off: the timeline has no feature_flag '%s' to turn off",
				       ev->flag);
	}
	return 0;
}

static int check_action(struct sp *p, struct fd_action *a)
{
	struct fd_event *ev = &a->event;
	const struct yt_node *params = yt_get(p->action_nodes[a->id], ev->kind_name);
	struct fd_pos where = params ? params->pos : a->pos;
	int rc;
	if ((rc = resolve_undoes(p, a)) < 0)
		return rc;
	switch (ev->kind) {
	case FD_EVENT_ROLLBACK:
		if (!ev->version)
			ev->version = ev->undoes->previous_version;
		ev->previous_version = ev->undoes->version;
		if (strcmp(ev->version, ev->undoes->version) == 0)
			return sp_fail(p, where, "rollback: '%s' would roll back to %s, the version its deploy '%s' ships",
				       ev->service->name, ev->version, ev->undoes->name);
		return 0;
	case FD_EVENT_DEPLOY:
		ev->previous_version = ev->service->version;
		return 0;
	case FD_EVENT_SCALE_OUT:
		if (ev->instances <= ev->service->instances) {
			const struct yt_node *v = params ? yt_get(params, "instances") : NULL;
			return sp_fail(p, v ? v->pos : where, "instances: scale_out to %d, but '%s' starts with %d",
				       ev->instances, ev->service->name, ev->service->instances);
		}
		return 0;
	case FD_EVENT_INSTANCE_LOSS:
	case FD_EVENT_RESTART:
		if (ev->instance >= ev->service->instances) {
			const struct yt_node *v = params ? yt_get(params, "instance") : NULL;
			return sp_fail(p, v ? v->pos : where, "instance: %d, but '%s' has %d instance%s",
				       ev->instance, ev->service->name, ev->service->instances,
				       ev->service->instances == 1 ? "" : "s");
		}
		return 0;
	default:
		return 0;
	}
}

int sp_resolve_actions(struct sp *p)
{
	struct fd_scenario *s = p->s;
	int rc;
	for (size_t i = 0; i < s->n_actions; i++)
		if ((rc = check_action(p, &s->actions[i])) < 0)
			return rc;
	/* the hint ladder defaults to the expected investigation */
	if (!s->hints) {
		s->hints = s->answer.investigation;
		s->n_hints = s->answer.n_investigation;
	}
	return 0;
}
