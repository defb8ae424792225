/*
 * Effects: what the timeline's events do to the draws of one request at
 * one moment. Each effect is filed under what it targets (an endpoint, a
 * service, a query...); the request path collects the ones that apply
 * into a struct mods, weighted by how far each has ramped in (or been
 * undone by a mitigation), and applies them to the latency it draws.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

/* A latency from the edge's distribution: log-normal up to its p95, with
 * its own slope beyond (sigma_tail), capped at the horizon. Notes whether
 * the draw fell in the tail, for tail effects (sim_modify_latency). */
int64_t sim_sample_dist(struct fd_sim *s, const struct fd_dist *d)
{
	s->above_p95 = false;
	if (d->p50 <= 0)
		return 0;
	if (d->sigma <= 0)
		return d->p50;
	double z = fd_rng_normal(&s->rng);
	s->above_p95 = z > 1.6449;
	double x;
	if (z <= 1.6449)
		x = d->mu + d->sigma * z;
	else
		x = d->mu + d->sigma * 1.6449 + d->sigma_tail * (z - 1.6449);
	double v = exp(x);
	/* A hop never takes longer than the edge's horizon. */
	if (!(v < (double)HORIZON_NS))
		v = (double)HORIZON_NS;
	return (int64_t)v;
}

/* ---- effects ------------------------------------------------------------ */

void sim_mods_init(struct mods *m)
{
	memset(m, 0, sizeof(*m));
	m->mult = m->thr = m->rate = m->cpu = m->tail = 1;
	m->retries = -1;
}

/* How strongly an effect acts at t (absolute): 0 before it starts, ramping
 * to 1, back to 0 as a mitigation undoes its event. */
static double effect_level(const struct fd_sim *s, const struct fd_effect *e, int64_t t)
{
	const struct event_state *es = &s->evs[e->event->id];
	int64_t now = t - s->start;
	int64_t rel = now - es->delay; /* on the event's own, late, clock */
	if (rel < e->start_ns)
		return 0;
	if (e->end_ns != FD_FOREVER && rel >= e->end_ns)
		return 0;
	double f = e->ramp_ns > 0 ? fmin(1.0, (double)(rel - e->start_ns) / (double)e->ramp_ns) : 1.0;
	if (now >= es->undo_at) {
		double g = es->undo_ramp > 0 ? fmin(1.0, (double)(now - es->undo_at) / (double)es->undo_ramp)
					     : 1.0;
		f *= 1.0 - es->damping * g;
	}
	return f;
}

static bool scope_match(const struct fd_effect *e, const struct req *rq, struct inst *in, int64_t t)
{
	const struct fd_scope *sc = &e->scope;
	for (size_t i = 0; i < sc->n_dims; i++) {
		if (!rq || !rq->tr)
			return false;
		bool ok = false;
		for (size_t d = 0; d < rq->tr->n_dimensions && d < MAX_DIMS; d++) {
			const struct fd_dimension *dim = &rq->tr->dimensions[d];
			if (strcmp(dim->name, sc->dims[i].dimension) == 0) {
				ok = strcmp(dim->values[rq->dims[d]].name, sc->dims[i].value) == 0;
				break;
			}
		}
		if (!ok)
			return false;
	}
	if (sc->instance >= 0 && (!in || in->idx != sc->instance))
		return false;
	if (sc->payload_min > 0 && (!rq || rq->payload < sc->payload_min))
		return false;
	if (sc->version != FD_VERSION_ANY) {
		const struct fd_event *ev = e->event;
		if (!in || !ev->version || (ev->service && in->svc->def != ev->service))
			return false;
		struct incarnation *c = sim_inc_at(in, t, NULL);
		const char *v = c ? c->version : in->version;
		bool is_new = strcmp(v, ev->version) == 0;
		if ((sc->version == FD_VERSION_NEW) != is_new)
			return false;
	}
	return true;
}

void sim_apply_effects(const struct fd_sim *s, const struct elist *l, const struct req *rq,
			  struct inst *in, int64_t t, struct mods *m)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fd_effect *e = l->v[i];
		double f = effect_level(s, e, t);
		if (f <= 0 || !scope_match(e, rq, in, t))
			continue;
		if (e->changes & FD_CHANGE_LATENCY_MULT)
			m->mult *= 1 + (e->latency_mult - 1) * f;
		if (e->changes & FD_CHANGE_TAIL)
			m->tail *= 1 + (e->tail_mult - 1) * f;
		if (e->changes & FD_CHANGE_LATENCY_ADD)
			m->add += (int64_t)((double)e->latency_add_ns * f);
		if (e->changes & FD_CHANGE_ERRORS) {
			m->err_level = f;
			m->err_p = e->error_probability;
			m->err_status = e->error_status;
		}
		if (e->changes & FD_CHANGE_HIT_RATIO) {
			m->hit_level = f;
			m->hit = e->hit_ratio;
		}
		if (e->changes & FD_CHANGE_POOL) {
			m->pool_level = f;
			m->pool = e->pool;
		}
		if (e->changes & FD_CHANGE_THROUGHPUT)
			m->thr *= 1 + (e->throughput_mult - 1) * f;
		if (e->changes & FD_CHANGE_RATE)
			m->rate *= 1 + (e->rate_mult - 1) * f;
		if (e->changes & FD_CHANGE_CPU)
			m->cpu *= 1 + (e->cpu_mult - 1) * f;
		if (e->changes & FD_CHANGE_MEMORY_LEAK)
			m->leak += e->memory_leak_per_s * f;
		if ((e->changes & FD_CHANGE_TIMEOUT) && f >= 0.5)
			m->timeout = e->timeout_ns;
		if ((e->changes & FD_CHANGE_RETRIES) && f >= 0.5)
			m->retries = e->retries;
	}
}

double sim_mix(double base, double level, double target)
{
	return base + (target - base) * level;
}

/* v is the value just drawn by sim_sample_dist: a tail effect applies only when
 * that draw was above the distribution's p95. */
int64_t sim_modify_latency(const struct fd_sim *s, int64_t v, const struct mods *m)
{
	double x = (double)v * m->mult * (s->above_p95 ? m->tail : 1) + (double)m->add;
	if (!(x < (double)HORIZON_NS))
		x = (double)HORIZON_NS;
	return x < 0 ? 0 : (int64_t)x;
}

/* ---- the index of effects by target ----------------------------------------- */

static int elist_add(struct elist *l, const struct fd_effect *e)
{
	const struct fd_effect **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	v[l->n++] = e;
	l->v = v;
	return 0;
}

static struct elist *target_list(struct fd_sim *s, const struct fd_target *tg)
{
	switch (tg->kind) {
	case FD_TARGET_SERVICE: return &s->by_service[tg->service->id];
	case FD_TARGET_ENDPOINT: return &s->by_endpoint[tg->endpoint->id];
	case FD_TARGET_DATABASE: return &s->by_database[tg->database->id];
	case FD_TARGET_QUERY: return &s->by_query[s->query_base[tg->query->database->id] + tg->query->id];
	case FD_TARGET_CACHE: return &s->by_cache[tg->cache->id];
	case FD_TARGET_QUEUE: return &s->by_queue[tg->queue->id];
	case FD_TARGET_DEPENDENCY: return &s->by_dependency[tg->dependency->id];
	case FD_TARGET_TRAFFIC: return tg->traffic ? &s->by_traffic[tg->traffic->id] : &s->traffic_all;
	case FD_TARGET_NODE: return &s->by_node[tg->node->id];
	}
	return NULL;
}

int sim_effects_index(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
#define ALLOC_LIST(field, n) \
	if (!(s->field = calloc((n) ? (n) : 1, sizeof(struct elist)))) \
		return -1;
	ALLOC_LIST(by_endpoint, sc->n_endpoints)
	ALLOC_LIST(by_service, sc->n_services)
	ALLOC_LIST(by_query, s->n_queries)
	ALLOC_LIST(by_database, sc->n_databases)
	ALLOC_LIST(by_cache, sc->n_caches)
	ALLOC_LIST(by_dependency, sc->n_dependencies)
	ALLOC_LIST(by_traffic, sc->n_traffic)
	ALLOC_LIST(by_queue, sc->n_queues)
	ALLOC_LIST(by_node, sc->cluster.n_nodes)
#undef ALLOC_LIST
	/* timeline events, then actions (their events' ids follow) */
	size_t n_evs = sc->n_events + sc->n_actions;
	s->evs = calloc(n_evs ? n_evs : 1, sizeof(*s->evs));
	if (!s->evs)
		return -1;
	/* Timeline events happen a little late (event_state.delay); an
	 * action's time is already when a person took it. */
	for (size_t i = 0; i < n_evs; i++) {
		s->evs[i].undo_at = INT64_MAX;
		if (i >= sc->n_events)
			continue;
		/* 0.6 s + a log-normal around 1.8 s, at most ~5.5 s */
		double d = 0.6e9 + fmin(4.9e9, 1.8e9 * exp(0.6 * fd_rng_normal(&s->rng)));
		s->evs[i].delay = (int64_t)d;
	}
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *ev = &sc->events[i];
		if (s->live && ev->mitigation)
			continue; /* left out of a live drill */
		if (ev->mitigation && ev->undoes) {
			struct event_state *es = &s->evs[ev->undoes->id];
			es->undo_at = ev->at_ns + s->evs[i].delay;
			es->undo_ramp = ev->rollout_ns;
			es->damping = ev->damping > 0 ? ev->damping : 1;
		}
		for (size_t k = 0; k < ev->n_effects; k++) {
			struct elist *l = target_list(s, &ev->effects[k].target);
			if (l && elist_add(l, &ev->effects[k]) < 0)
				return -1;
		}
	}
	return 0;
}

int sim_effects_add(struct fd_sim *s, const struct fd_effect *e)
{
	struct elist *l = target_list(s, &e->target);
	return l ? elist_add(l, e) : 0;
}

static void free_elists(struct elist *l, size_t n)
{
	if (!l)
		return;
	for (size_t i = 0; i < n; i++)
		free(l[i].v);
	free(l);
}

void sim_effects_free(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	free_elists(s->by_endpoint, sc->n_endpoints);
	free_elists(s->by_service, sc->n_services);
	free_elists(s->by_query, s->n_queries);
	free_elists(s->by_database, sc->n_databases);
	free_elists(s->by_cache, sc->n_caches);
	free_elists(s->by_dependency, sc->n_dependencies);
	free_elists(s->by_traffic, sc->n_traffic);
	free_elists(s->by_queue, sc->n_queues);
	free_elists(s->by_node, sc->cluster.n_nodes);
	free(s->traffic_all.v);
	free(s->evs);
}
