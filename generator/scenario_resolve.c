/*
 * Scenario checks across the whole model, once everything is parsed: queries
 * moved to their databases, event names, what each mitigation undoes, the
 * versions and instance counts along the timeline, the answer's trigger, and
 * cycles in the call graph.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/scenario_internal.h"
#include "common/suggest.h"

/* ---- queries ------------------------------------------------------------------ */

static void fix_calls(struct fd_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fd_call *c = &calls[i];
		if (c->kind == FD_CALL_DB)
			c->query = &c->query->database->queries[c->query->id];
		if (c->n_on_miss)
			fix_calls(c->on_miss, c->n_on_miss);
	}
}

int sp_finish_queries(struct sp *p)
{
	struct fd_scenario *s = p->s;
	for (size_t d = 0; d < s->n_databases; d++) {
		struct fd_database *db = &s->databases[d];
		struct sp_queries *qs = &p->queries[d];
		if (!qs->n)
			continue;
		db->queries = fd_arena_array(p->arena, qs->n, sizeof(*db->queries));
		if (!db->queries)
			return sp_oom(p);
		for (size_t i = 0; i < qs->n; i++)
			db->queries[i] = *qs->v[i];
		db->n_queries = qs->n;
	}
	/* calls still point at the temporary copies, which know their index */
	for (size_t i = 0; i < s->n_services; i++)
		for (size_t j = 0; j < s->services[i].n_endpoints; j++)
			fix_calls(s->services[i].endpoints[j].calls, s->services[i].endpoints[j].n_calls);
	for (size_t i = 0; i < s->n_noise_crons; i++)
		fix_calls(s->noise_crons[i].calls, s->noise_crons[i].n_calls);
	return 0;
}

/* ---- events ------------------------------------------------------------------- */

/* Events by name, sorted by name and then by place in the file, so that
 * duplicate names and lookups cost O(n log n) for the whole timeline (a
 * pairwise check took 23 s for 100k events). */
static int cmp_named(const void *a, const void *b)
{
	const struct sp_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int name_events(struct sp *p)
{
	struct fd_scenario *s = p->s;
	for (size_t k = 0; k < s->n_events; k++) {
		struct fd_event *ev = &s->events[k];
		if (ev->name)
			continue;
		char buf[64];
		snprintf(buf, sizeof(buf), "%s-%d", ev->kind_name, ev->id);
		if (!(ev->name = fd_arena_strdup(p->arena, buf)))
			return sp_oom(p);
	}
	struct sp_named *by = fd_arena_array(p->arena, s->n_events ? s->n_events : 1, sizeof(*by));
	if (!by)
		return sp_oom(p);
	for (size_t k = 0; k < s->n_events; k++)
		by[k] = (struct sp_named){s->events[k].name, k};
	qsort(by, s->n_events, sizeof(*by), cmp_named);
	p->events_by_name = by;
	/* The first event (in file order) whose name an earlier one has: the
	 * second of a run of equal names, earliest over all runs. */
	size_t k = s->n_events, j = 0;
	for (size_t i = 1; i < s->n_events; i++)
		if (strcmp(by[i].name, by[i - 1].name) == 0 &&
		    (i < 2 || strcmp(by[i - 1].name, by[i - 2].name) != 0) && by[i].index < k) {
			k = by[i].index;
			j = by[i - 1].index;
		}
	if (k == s->n_events)
		return 0;
	/* report at the explicit name: that is what to change */
	size_t at = yt_get(p->event_nodes[k], "name") ? k : j;
	const struct yt_node *n = yt_get(p->event_nodes[at], "name");
	const struct fd_event *other = &s->events[at == k ? j : k];
	return sp_fail(p, n ? n->pos : s->events[at].pos,
		       "name: two events are named '%s' (the other at %d:%d)", s->events[k].name,
		       other->pos.line, other->pos.col);
}

static struct fd_event *event_named(struct sp *p, const char *name)
{
	struct fd_scenario *s = p->s;
	size_t lo = 0, hi = s->n_events;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->events_by_name[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_events && strcmp(p->events_by_name[lo].name, name) == 0)
		return &s->events[p->events_by_name[lo].index];
	return NULL;
}

static int unknown_event(struct sp *p, const struct yt_node *v, const char *key)
{
	struct fd_scenario *s = p->s;
	const char **names = malloc((s->n_events ? s->n_events : 1) * sizeof(*names));
	if (!names)
		return sp_oom(p);
	for (size_t k = 0; k < s->n_events; k++)
		names[k] = s->events[k].name;
	const char *best = fd_suggest(v->str, names, s->n_events);
	int rc = sp_fail(p, v->pos, "%s: no event is named '%s'%s%s%s", key, v->str,
			 best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
	free(names);
	return rc;
}

/* What mitigation k undoes: explicit, or by its kind's rule. */
static int resolve_undoes(struct sp *p, size_t k)
{
	struct fd_scenario *s = p->s;
	struct fd_event *ev = &s->events[k];
	const struct yt_node *v = p->undoes_nodes[k];
	if (v) {
		struct fd_event *u = event_named(p, v->str);
		if (!u)
			return unknown_event(p, v, "undoes");
		if (u >= ev)
			return sp_fail(p, v->pos, "undoes: '%s' does not happen before this %s",
				       u->name, ev->kind_name);
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
		for (size_t j = k; j-- > 0;)
			if (s->events[j].kind == FD_EVENT_DEPLOY && s->events[j].service == ev->service) {
				ev->undoes = &s->events[j];
				return 0;
			}
		return sp_fail(p, ev->pos, "rollback: no deploy of '%s' before it to roll back",
			       ev->service->name);
	}
	if (ev->kind == FD_EVENT_FLAG_OFF) {
		for (size_t j = k; j-- > 0;)
			if (s->events[j].kind == FD_EVENT_FEATURE_FLAG &&
			    strcmp(s->events[j].flag, ev->flag) == 0) {
				ev->undoes = &s->events[j];
				return 0;
			}
		return sp_fail(p, ev->pos, "flag_off: no feature_flag '%s' before it to turn off",
			       ev->flag);
	}
	return 0; /* scale_out, restart: may undo nothing */
}

/* Versions and instance counts change along the timeline; walking it in
 * order gives each deploy the version it replaces and checks each event
 * against the state of its moment. */
static int walk_timeline(struct sp *p)
{
	struct fd_scenario *s = p->s;
	const char **version = calloc(s->n_services ? s->n_services : 1, sizeof(*version));
	int *count = calloc(s->n_services ? s->n_services : 1, sizeof(*count));
	int rc = 0;
	if (!version || !count) {
		rc = sp_oom(p);
		goto out;
	}
	for (size_t i = 0; i < s->n_services; i++) {
		version[i] = s->services[i].version;
		count[i] = s->services[i].instances;
	}
	for (size_t k = 0; k < s->n_events && rc == 0; k++) {
		struct fd_event *ev = &s->events[k];
		const struct yt_node *params = yt_get(p->event_nodes[k], ev->kind_name);
		struct fd_pos where = params ? params->pos : ev->pos;
		if (ev->mitigation && (rc = resolve_undoes(p, k)) < 0)
			break;
		int id = ev->service ? ev->service->id : -1;
		switch (ev->kind) {
		case FD_EVENT_DEPLOY:
			if (strcmp(version[id], ev->version) == 0) {
				const struct yt_node *v = yt_get(params, "version");
				rc = sp_fail(p, v ? v->pos : where, "version: '%s' already runs %s at that time",
					     ev->service->name, ev->version);
				break;
			}
			ev->previous_version = version[id];
			version[id] = ev->version;
			break;
		case FD_EVENT_ROLLBACK:
			if (!ev->version)
				ev->version = ev->undoes->previous_version;
			if (strcmp(version[id], ev->version) == 0) {
				rc = sp_fail(p, where, "rollback: '%s' already runs %s at that time; nothing to roll back",
					     ev->service->name, ev->version);
				break;
			}
			ev->previous_version = version[id];
			version[id] = ev->version;
			break;
		case FD_EVENT_SCALE_OUT:
			if (ev->instances <= count[id]) {
				const struct yt_node *v = yt_get(params, "instances");
				rc = sp_fail(p, v ? v->pos : where, "instances: scale_out to %d, but '%s' already has %d",
					     ev->instances, ev->service->name, count[id]);
				break;
			}
			count[id] = ev->instances;
			break;
		case FD_EVENT_INSTANCE_LOSS:
		case FD_EVENT_RESTART:
			if (ev->instance >= count[id]) {
				const struct yt_node *v = yt_get(params, "instance");
				rc = sp_fail(p, v ? v->pos : where, "instance: %d, but '%s' has %d instance%s at that time",
					     ev->instance, ev->service->name, count[id],
					     count[id] == 1 ? "" : "s");
			}
			break;
		default:
			break;
		}
	}
out:
	free(version);
	free(count);
	return rc;
}

static int resolve_trigger(struct sp *p)
{
	struct fd_scenario *s = p->s;
	const struct yt_node *v = p->trigger_node;
	if (v) {
		if (v->kind != YT_SCALAR || yt_is_null(v))
			return sp_fail(p, v->pos, "trigger_event: expected an event name, got %s",
				       yt_kind_name(v));
		s->answer.trigger_event = event_named(p, v->str);
		if (!s->answer.trigger_event)
			return unknown_event(p, v, "trigger_event");
		if (s->answer.trigger_event->mitigation)
			return sp_fail(p, v->pos, "trigger_event: '%s' is a mitigation", v->str);
		return 0;
	}
	/* by default the first change of the timeline */
	for (size_t k = 0; k < s->n_events; k++)
		if (!s->events[k].mitigation) {
			s->answer.trigger_event = &s->events[k];
			break;
		}
	return 0;
}

/* ---- call graph --------------------------------------------------------------- */

enum { WHITE, GREY, BLACK };

struct walk {
	struct sp *p;
	unsigned char *colour;          /* per endpoint id */
	const struct fd_endpoint **path;
	size_t depth;
};

static int visit(struct walk *w, const struct fd_endpoint *ep);

static int visit_calls(struct walk *w, const struct fd_call *calls, size_t n)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		const struct fd_call *c = &calls[i];
		if (c->n_on_miss && (rc = visit_calls(w, c->on_miss, c->n_on_miss)) < 0)
			return rc;
		if (c->kind != FD_CALL_ENDPOINT)
			continue;
		if (w->colour[c->endpoint->id] == GREY) {
			char msg[600];
			size_t off = 0, start = 0;
			while (w->path[start] != c->endpoint)
				start++;
			msg[0] = '\0';
			for (size_t k = start; k <= w->depth; k++) {
				const struct fd_endpoint *e = k < w->depth ? w->path[k] : c->endpoint;
				int m = snprintf(msg + off, sizeof(msg) - off, "%s%s \"%s\"",
						 k > start ? " -> " : "", e->service->name, e->key);
				if (m < 0 || (size_t)m >= sizeof(msg) - off)
					break;
				off += (size_t)m;
			}
			return sp_fail(w->p, c->pos, "call cycle: %s", msg);
		}
		if (w->colour[c->endpoint->id] == WHITE && (rc = visit(w, c->endpoint)) < 0)
			return rc;
	}
	return 0;
}

static int visit(struct walk *w, const struct fd_endpoint *ep)
{
	/* Deeper than any chain the simulation runs (scenario_limits.c says
	 * exactly where): stop here rather than recurse as deep as the file. */
	if (w->depth > FD_SCENARIO_MAX_DEPTH)
		return sp_fail(w->p, ep->pos, "%s \"%s\": its callers' chain goes over %d endpoints deep",
			       ep->service->name, ep->key, FD_SCENARIO_MAX_DEPTH);
	w->colour[ep->id] = GREY;
	w->path[w->depth++] = ep;
	int rc = visit_calls(w, ep->calls, ep->n_calls);
	w->depth--;
	w->colour[ep->id] = BLACK;
	return rc;
}

static int check_cycles(struct sp *p)
{
	struct fd_scenario *s = p->s;
	size_t n = s->n_endpoints ? s->n_endpoints : 1;
	struct walk w = {.p = p};
	int rc = 0;
	w.colour = calloc(n, 1);
	w.path = calloc(n, sizeof(*w.path));
	if (!w.colour || !w.path) {
		rc = sp_oom(p);
		goto out;
	}
	for (size_t i = 0; i < s->n_services && rc == 0; i++)
		for (size_t j = 0; j < s->services[i].n_endpoints && rc == 0; j++) {
			const struct fd_endpoint *ep = &s->services[i].endpoints[j];
			if (w.colour[ep->id] == WHITE)
				rc = visit(&w, ep);
		}
out:
	free(w.colour);
	free(w.path);
	return rc;
}

int sp_resolve(struct sp *p)
{
	int rc;
	if ((rc = check_cycles(p)) < 0 || (rc = sp_check_work(p)) < 0 || (rc = name_events(p)) < 0 ||
	    (rc = walk_timeline(p)) < 0 || (rc = resolve_trigger(p)) < 0 ||
	    (rc = sp_resolve_actions(p)) < 0)
		return rc;
	return 0;
}
