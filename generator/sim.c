/*
 * The incident simulation engine.
 *
 * The loop. Sources of work — request arrivals per traffic entry (Poisson,
 * with a time-varying rate), timeline events, per-second state steps, queue
 * steps, cron runs, noise lines and metric scrapes — each know their next
 * time; the loop always runs the earliest. A request is simulated whole at
 * its arrival: every hop's latency is drawn under the effects active at that
 * moment, pools and queues add waits, timeouts and retries play out, and the
 * spans, log lines and metric observations it produces are queued in a heap
 * ordered by record time.
 *
 * Time order. Work that starts at t only produces records at times >= t
 * (less a host's clock skew), so once the loop reaches t every queued record
 * older than t - DRAIN_LAG_NS is final and leaves the heap in order; the
 * heap holds only the requests in flight. A scrape at T is assembled once
 * the loop passes T + COLLECT_LAG_NS: every request that ended by an
 * instance's collection (a little after T) arrived before it and has been
 * simulated. Observations are filed by
 * end time into per-interval slots, which is why a request may run ahead of
 * the scrapes by up to HORIZON (an edge gives up by then).
 *
 * Instance state that depends only on time (memory leaks, OOM kills,
 * restarts, version rollouts) is stepped LOOKAHEAD ahead of arrivals, so a
 * request knows whether its instance is killed while serving it.
 *
 * Metrics are cumulative per instance incarnation: an OOM kill or a
 * deploy restarts the process, its counters start again from zero with a
 * new start time, as a real exporter's would.
 */
#include "generator/sim.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "fd_config.h"
#include "generator/sim_internal.h"

int fd_sim_create(const struct fd_scenario *sc, const struct fd_sim_options *opts,
		  struct fd_sim **out, struct fd_error *err)
{
	*out = NULL;
	struct fd_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->sc = sc;
	s->live = opts && opts->live;
	s->seed = opts && opts->seed_set ? opts->seed : sc->seed;
	s->start = opts && opts->start_set ? opts->start_ns : sc->start_ns;
	int64_t duration = opts && opts->duration_ns > 0 ? opts->duration_ns : sc->duration_ns;
	if (duration <= 0 || duration > INT64_MAX - s->start - 2 * HORIZON_NS) {
		free(s);
		return fd_error_set(err, FD_EINPUT, "duration must be positive and end before year 2262");
	}
	s->end = s->start + duration;
	s->advanced = s->start;
	s->scrape = sc->scrape_interval_ns >= NS ? sc->scrape_interval_ns : 15 * NS;
	s->nslots = (size_t)((HORIZON_NS + LOOKAHEAD_NS) / s->scrape) + 4;
	fd_rng_seed(&s->rng, s->seed);
	s->id_state = s->seed ^ 0x6a09e667f3bcc909ULL;

	s->blobs = fd_intern_create();
	if (!s->blobs)
		goto nomem;

	if (sim_infra_create(s, err) < 0)
		goto nomem;

	/* effects by target */
	s->query_base = calloc(sc->n_databases + 1, sizeof(int));
	if (!s->query_base)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++) {
		s->query_base[d] = (int)s->n_queries;
		s->n_queries += sc->databases[d].n_queries;
	}
	s->query_summary = calloc(s->n_queries ? s->n_queries : 1, sizeof(char *));
	if (!s->query_summary)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++)
		for (size_t q = 0; q < sc->databases[d].n_queries; q++) {
			char buf[128];
			char **slot = &s->query_summary[(size_t)s->query_base[d] + q];
			if (!(*slot = strdup(sim_db_summary(&sc->databases[d].queries[q], buf, sizeof(buf)))))
				goto nomem;
		}
	s->query_series = calloc(s->n_queries ? s->n_queries : 1, sizeof(int));
	if (!s->query_series)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++)
		for (size_t q = 0; q < sc->databases[d].n_queries; q++) {
			int g = s->query_base[d] + (int)q, first = g;
			for (int o = s->query_base[d]; o < g; o++)
				if (strcmp(s->query_summary[o], s->query_summary[g]) == 0) {
					first = o;
					break;
				}
			s->query_series[g] = first;
		}
	if (sim_effects_index(s) < 0)
		goto nomem;
	s->access_attrs = calloc(sc->n_endpoints ? sc->n_endpoints : 1, sizeof(*s->access_attrs));
	s->dims_attrs = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*s->dims_attrs));
	s->n_combos = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*s->n_combos));
	if (!s->access_attrs || !s->dims_attrs || !s->n_combos)
		goto nomem;
	for (size_t i = 0; i < sc->n_traffic; i++) {
		int n = 1;
		for (size_t d = 0; d < sc->traffic[i].n_dimensions && d < MAX_DIMS && n <= 4096; d++)
			n *= (int)sc->traffic[i].dimensions[d].n_values;
		if (n > 4096)
			continue; /* too many to keep: encoded each time */
		s->n_combos[i] = n;
		if (!(s->dims_attrs[i] = calloc((size_t)n, sizeof(**s->dims_attrs))))
			goto nomem;
	}
	s->cache_flushed_at = malloc((sc->n_caches ? sc->n_caches : 1) * sizeof(int64_t));
	if (!s->cache_flushed_at)
		goto nomem;
	for (size_t c = 0; c < sc->n_caches; c++)
		s->cache_flushed_at[c] = INT64_MIN;

	/* services and instances */
	s->svcs = calloc(sc->n_services ? sc->n_services : 1, sizeof(*s->svcs));
	if (!s->svcs)
		goto nomem;
	for (size_t i = 0; i < sc->n_services; i++) {
		struct svc *sv = &s->svcs[i];
		sv->def = &sc->services[i];
		sv->count = sv->def->instances > 0 ? sv->def->instances : 1;
		sv->n_inst = fd_scenario_max_instances(sc, sv->def);
		sv->inst = calloc((size_t)sv->n_inst, sizeof(*sv->inst));
		if (!sv->inst)
			goto nomem;
		for (int k = 0; k < sv->n_inst; k++) {
			struct inst *in = &sv->inst[k];
			in->svc = sv;
			in->idx = k;
			in->version = sv->def->version;
			for (int c = 0; c < CPU_RING; c++)
				in->cpu_ring[c].sec = -1;
			/* its host's clock: NTP keeps it within a millisecond or
			 * so, wandering by a few hundred microseconds over half an
			 * hour or so; network legs are a fraction of a millisecond,
			 * so now and then a server span starts before its client's */
			in->skew_ns = (int64_t)fmax(-CLOCK_SKEW_MAX_NS,
						    fmin(CLOCK_SKEW_MAX_NS, 0.25e6 * fd_rng_normal(&s->rng)));
			in->wander_ns = 50000 + (int64_t)fd_rng_below(&s->rng, 250000);
			in->wander_period_ns = (int64_t)(20 + fd_rng_below(&s->rng, 40)) * 60 * NS;
			in->export_phase_ns = (int64_t)fd_rng_below(
				&s->rng, (uint64_t)(s->scrape * 2 / 5 < COLLECT_PHASE_MAX_NS ? s->scrape * 2 / 5
											  : COLLECT_PHASE_MAX_NS));
			/* replicas differ: hardware, neighbours, JIT luck */
			in->cpu_eff = fmin(1.08, fmax(0.93, 1 + 0.04 * fd_rng_normal(&s->rng)));
			in->mem_factor = fmax(0.85, 1 + 0.04 * fd_rng_normal(&s->rng));
			in->bg_cores = sim_rt_model(sv)->bg_cores * (0.6 + 0.8 * fd_rng_uniform(&s->rng));
			in->lb_weight = 0.9 + 0.2 * fd_rng_uniform(&s->rng);
			in->heap_t = s->start;
			in->pod = -1; /* pods come from the cluster (sim_infra.c) */
			in->slots = calloc(s->nslots, sizeof(*in->slots));
			in->pools = calloc(sc->n_databases ? sc->n_databases : 1, sizeof(*in->pools));
			in->breakers = calloc(sc->n_breakers ? sc->n_breakers : 1, sizeof(*in->breakers));
			if (!in->slots || !in->pools || !in->breakers)
				goto nomem;
			in->exists = k < sv->count;
			if (in->exists && sim_infra_initial_pod(s, in) < 0)
				goto nomem;
			if (in->exists && sim_add_inc(s, in, s->start, sv->def->version) < 0)
				goto nomem;
		}
	}
	s->queues = calloc(sc->n_queues ? sc->n_queues : 1, sizeof(*s->queues));
	if (!s->queues)
		goto nomem;
	for (size_t q = 0; q < sc->n_queues; q++) {
		s->queues[q].def = &sc->queues[q];
		s->queues[q].depth_slots = calloc(s->nslots, sizeof(double));
		s->queues[q].consumed_slots = calloc(s->nslots, sizeof(uint64_t));
		if (!s->queues[q].depth_slots || !s->queues[q].consumed_slots)
			goto nomem;
	}
	if (sim_answer_init(s) < 0)
		goto nomem;
	if (opts && opts->emit_thread)
		(void)sim_pipe_start(s); /* without a thread, this one emits: same records */
	*out = s;
	return 0;
nomem:
	fd_sim_destroy(s);
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

/* ---- the run ----------------------------------------------------------------- */

enum work { W_NONE, W_ARRIVAL, W_NOISE, W_CRON, W_QUEUE };

/* Where the loop is between two steps (fd_sim_advance). */
struct sim_loop {
	struct traffic_state *ts;
	int64_t *noise_next, *cron_next;
	int64_t next_queue, next_state, next_scrape;
	size_t next_event;
};

static void loop_free(struct sim_loop *l)
{
	if (!l)
		return;
	free(l->ts);
	free(l->noise_next);
	free(l->cron_next);
	free(l);
}

static struct sim_loop *loop_create(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	struct sim_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ts = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*l->ts));
	l->noise_next = calloc(sc->n_noise_logs ? sc->n_noise_logs : 1, sizeof(int64_t));
	l->cron_next = calloc(sc->n_noise_crons ? sc->n_noise_crons : 1, sizeof(int64_t));
	if (!l->ts || !l->noise_next || !l->cron_next) {
		loop_free(l);
		return NULL;
	}
	for (size_t i = 0; i < sc->n_traffic; i++) {
		double r = sim_traffic_rate(s, &sc->traffic[i], &l->ts[i], s->start);
		l->ts[i].next = s->start + (r > 0 ? (int64_t)fd_rng_exp(&s->rng, 1e9 / r) : NS);
	}
	for (size_t i = 0; i < sc->n_noise_logs; i++)
		l->noise_next[i] = sc->noise_logs[i].rate > 0
				   ? s->start + (int64_t)fd_rng_exp(&s->rng, 1e9 / sc->noise_logs[i].rate)
				   : INT64_MAX;
	for (size_t i = 0; i < sc->n_noise_crons; i++)
		l->cron_next[i] = s->start + sc->noise_crons[i].first_ns;
	l->next_queue = s->start + STEP_NS;
	l->next_state = s->start;
	l->next_scrape = s->start + s->scrape;
	return l;
}

int fd_sim_advance(struct fd_sim *s, int64_t until, fd_sim_emit_fn emit, void *ctx, struct fd_error *err)
{
	const struct fd_scenario *sc = s->sc;
	s->emit = emit;
	s->emit_ctx = ctx;
	s->err = err;
	if (!s->loop && !(s->loop = loop_create(s)))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct sim_loop *l = s->loop;
	if (until > s->end)
		until = s->end;
	while (!s->failed) {
		int64_t t = l->next_queue;
		enum work what = W_QUEUE;
		size_t which = 0;
		for (size_t i = 0; i < sc->n_traffic; i++)
			if (l->ts[i].next < t) {
				t = l->ts[i].next;
				what = W_ARRIVAL;
				which = i;
			}
		for (size_t i = 0; i < sc->n_noise_logs; i++)
			if (l->noise_next[i] < t) {
				t = l->noise_next[i];
				what = W_NOISE;
				which = i;
			}
		for (size_t i = 0; i < sc->n_noise_crons; i++)
			if (l->cron_next[i] < t) {
				t = l->cron_next[i];
				what = W_CRON;
				which = i;
			}
		if (t >= until)
			break; /* the next step starts here */
		sim_actions_register(s, t);
		s->now = t;
		while (l->next_state <= t + LOOKAHEAD_NS && l->next_state < s->end) {
			sim_state_step(s, l->next_state, &l->next_event);
			l->next_state += STEP_NS;
		}
		/* each instance collects a little after T (sim_collect_at) */
		while (l->next_scrape + COLLECT_LAG_NS < t && l->next_scrape <= s->end) {
			sim_scrape(s, l->next_scrape);
			l->next_scrape += s->scrape;
		}
		/* collections and hosts whose clock is behind stamp records a
		 * little before the loop's time: hold everything back by more */
		sim_drain(s, t - DRAIN_LAG_NS);
		switch (what) {
		case W_ARRIVAL: {
			sim_arrival(s, &sc->traffic[which], t);
			double r = sim_traffic_rate(s, &sc->traffic[which], &l->ts[which], t);
			l->ts[which].next = t + (r > 1e-9 ? 1 + (int64_t)fd_rng_exp(&s->rng, 1e9 / r) : NS);
			break;
		}
		case W_NOISE:
			sim_noise_line(s, &sc->noise_logs[which], t);
			l->noise_next[which] = t + 1 + (int64_t)fd_rng_exp(&s->rng, 1e9 / sc->noise_logs[which].rate);
			break;
		case W_CRON:
			sim_cron_run(s, &sc->noise_crons[which], t);
			l->cron_next[which] = sc->noise_crons[which].every_ns > 0
					      ? t + sc->noise_crons[which].every_ns : INT64_MAX;
			break;
		case W_QUEUE:
		default:
			sim_queue_step(s, t);
			l->next_queue += STEP_NS;
			break;
		}
	}
	if (until > s->advanced)
		s->advanced = until;
	if (s->failed)
		sim_pipe_sync(s); /* nothing is emitted after an error returns */
	return s->failed;
}

int fd_sim_finish(struct fd_sim *s, int64_t end, fd_sim_emit_fn emit, void *ctx, struct fd_error *err)
{
	if (end < s->advanced || end > s->end) {
		sim_pipe_sync(s);
		return fd_error_set(err, FD_EINPUT, "the simulation cannot end before where it got to, nor after its end");
	}
	/* A live run had no end while it stepped; it has one now. */
	s->end = end;
	int rc = fd_sim_advance(s, end, emit, ctx, err);
	if (rc < 0)
		return rc;
	struct sim_loop *l = s->loop;
	while (!s->failed && l->next_state < s->end) {
		sim_state_step(s, l->next_state, &l->next_event);
		l->next_state += STEP_NS;
	}
	while (!s->failed && l->next_scrape <= s->end) {
		sim_scrape(s, l->next_scrape);
		l->next_scrape += s->scrape;
	}
	sim_drain(s, INT64_MAX);
	sim_pipe_sync(s);
	loop_free(s->loop);
	s->loop = NULL;
	if (s->failed)
		return s->failed;
	if (sim_answer_measure(s) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	return 0;
}

int fd_sim_run(struct fd_sim *s, fd_sim_emit_fn emit, void *ctx, struct fd_error *err)
{
	return fd_sim_finish(s, s->end, emit, ctx, err);
}

void fd_sim_set_observer(struct fd_sim *s, fd_sim_request_fn fn, void *ctx)
{
	s->observe = fn;
	s->observe_ctx = ctx;
}

size_t fd_sim_figures(const struct fd_sim *s, const struct fd_sim_figure **out)
{
	*out = s->figs;
	return s->n_figs;
}

int64_t fd_sim_start(const struct fd_sim *s) { return s->start; }
int64_t fd_sim_end(const struct fd_sim *s) { return s->end; }
uint64_t fd_sim_seed(const struct fd_sim *s) { return s->seed; }
uint64_t fd_sim_requests(const struct fd_sim *s) { return s->entry_requests; }

void fd_sim_destroy(struct fd_sim *s)
{
	if (!s)
		return;
	const struct fd_scenario *sc = s->sc;
	loop_free(s->loop);
	sim_actions_free(s);
	sim_pending_free(s);
	sim_stacks_free(s);
	if (s->svcs) {
		for (size_t i = 0; i < sc->n_services; i++) {
			struct svc *sv = &s->svcs[i];
			for (int k = 0; sv->inst && k < sv->n_inst; k++) {
				struct inst *in = &sv->inst[k];
				free(in->incs);
				free(in->slots);
				for (size_t j = 0; j < in->n_series; j++)
					free(in->series[j].slots);
				free(in->series);
				free(in->series_ix);
				for (size_t d = 0; in->pools && d < sc->n_databases; d++) {
					free(in->pools[d].conns);
					free(in->pools[d].slots);
				}
				free(in->pools);
				free(in->breakers);
			}
			free(sv->inst);
		}
		free(s->svcs);
	}
	if (s->queues) {
		for (size_t q = 0; q < sc->n_queues; q++) {
			free(s->queues[q].ring);
			free(s->queues[q].depth_slots);
			free(s->queues[q].consumed_slots);
		}
		free(s->queues);
	}
	sim_effects_free(s);
	for (size_t q = 0; s->query_summary && q < s->n_queries; q++)
		free(s->query_summary[q]);
	free(s->query_summary);
	free(s->query_series);
	free(s->query_base);
	free(s->cache_flushed_at);
	for (size_t e = 0; s->access_attrs && e < sc->n_endpoints; e++)
		free(s->access_attrs[e].buf);
	free(s->access_attrs);
	for (size_t i = 0; s->dims_attrs && i < sc->n_traffic; i++) {
		for (int c = 0; s->dims_attrs[i] && c < s->n_combos[i]; c++)
			free(s->dims_attrs[i][c].buf);
		free(s->dims_attrs[i]);
	}
	free(s->dims_attrs);
	free(s->n_combos);
	sim_answer_free(s);
	sim_infra_free(s);
	pbw_finish(&s->w);
	pbw_finish(&s->aux);
	fd_intern_destroy(s->blobs);
	free(s);
}
