/*
 * The answer key: figures measured from the simulated requests themselves
 * (not from the scenario's intent), so that the key agrees with what the
 * telemetry shows. Per traffic entry and phase (before / during / after
 * the incident): request count, p50/p95/p99 and error rate, from a log
 * histogram of 1% resolution. For the entry whose p95 grew the most, the
 * hops (an endpoint's own time, a query, a pool wait, a dependency...)
 * that gained the most time per request.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

static const char *const phase_names[NPHASES] = {"before", "during", "after"};

/* ---- measurement --------------------------------------------------------- */

int sim_phase_of(const struct fd_sim *s, int64_t t)
{
	if (!s->trigger)
		return PHASE_BEFORE;
	if (t < s->trigger_at)
		return PHASE_BEFORE;
	if (t >= s->settle_at && t < s->mitigate_at)
		return PHASE_DURING;
	if (t >= s->recovered_at)
		return PHASE_AFTER;
	return -1;
}

void sim_logh_add(struct logh *h, int64_t ns, bool error)
{
	double us = (double)ns / 1000.0;
	int b = us <= 1 ? 0 : (int)(log(us) / log(1.01)) + 1;
	if (b >= LOGH_BUCKETS)
		b = LOGH_BUCKETS - 1;
	h->b[b]++;
	h->n++;
	h->errors += error;
}

static double logh_quantile(const struct logh *h, double q)
{
	if (!h->n)
		return NAN;
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), acc = 0;
	if (rank == 0)
		rank = 1;
	for (int b = 0; b < LOGH_BUCKETS; b++) {
		acc += h->b[b];
		if (acc >= rank) {
			/* the geometric middle of the bucket, in seconds */
			double lo = b == 0 ? 0 : pow(1.01, b - 1), hi = pow(1.01, b);
			return (b == 0 ? 1.0 : sqrt(lo * hi)) / 1e6;
		}
	}
	return NAN;
}

void sim_hop_add(struct fd_sim *s, const struct req *rq, size_t hop, int64_t ns)
{
	if (rq && rq->tr && rq->phase >= 0 && hop < s->n_hops)
		s->hops[hop].ns[(size_t)rq->tr->id * NPHASES + (size_t)rq->phase] += (double)ns;
}

/* Hop numbering: endpoints' own time, then queries, pool waits per
 * database, dependencies, caches, queues. */
size_t sim_hop_query(const struct fd_sim *s, const struct fd_query *q)
{
	return s->sc->n_endpoints + (size_t)s->query_base[q->database->id] + (size_t)q->id;
}

size_t sim_hop_pool(const struct fd_sim *s, const struct fd_database *d)
{
	return s->sc->n_endpoints + s->n_queries + (size_t)d->id;
}

size_t sim_hop_dependency(const struct fd_sim *s, const struct fd_dependency *d)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + (size_t)d->id;
}

size_t sim_hop_cache(const struct fd_sim *s, const struct fd_cache *c)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + s->sc->n_dependencies +
	       (size_t)c->id;
}

size_t sim_hop_queue(const struct fd_sim *s, const struct fd_queue *q)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + s->sc->n_dependencies +
	       s->sc->n_caches + (size_t)q->id;
}

static char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xstrdup_printf(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

static int name_hops(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	s->n_hops = sc->n_endpoints + s->n_queries + sc->n_databases + sc->n_dependencies +
		    sc->n_caches + sc->n_queues;
	s->hops = calloc(s->n_hops ? s->n_hops : 1, sizeof(*s->hops));
	if (!s->hops)
		return -1;
	for (size_t i = 0; i < sc->n_services; i++)
		for (size_t j = 0; j < sc->services[i].n_endpoints; j++) {
			const struct fd_endpoint *ep = &sc->services[i].endpoints[j];
			s->hops[ep->id].name = xstrdup_printf("%s %s (own time)", sc->services[i].name, ep->key);
		}
	for (size_t d = 0; d < sc->n_databases; d++) {
		const struct fd_database *db = &sc->databases[d];
		for (size_t q = 0; q < db->n_queries; q++)
			s->hops[sim_hop_query(s, &db->queries[q])].name =
				xstrdup_printf("%s query: %s", db->name, db->queries[q].text);
		s->hops[sim_hop_pool(s, db)].name = xstrdup_printf("%s connection pool wait", db->name);
	}
	for (size_t d = 0; d < sc->n_dependencies; d++)
		s->hops[sim_hop_dependency(s, &sc->dependencies[d])].name =
			xstrdup_printf("%s (external dependency)", sc->dependencies[d].name);
	for (size_t c = 0; c < sc->n_caches; c++)
		s->hops[sim_hop_cache(s, &sc->caches[c])].name = xstrdup_printf("%s (cache)", sc->caches[c].name);
	for (size_t q = 0; q < sc->n_queues; q++)
		s->hops[sim_hop_queue(s, &sc->queues[q])].name = xstrdup_printf("%s (produce)", sc->queues[q].name);
	for (size_t h = 0; h < s->n_hops; h++) {
		s->hops[h].ns = calloc((sc->n_traffic ? sc->n_traffic : 1) * NPHASES, sizeof(double));
		if (!s->hops[h].name || !s->hops[h].ns)
			return -1;
	}
	return 0;
}

/* The trigger is the answer key's, else the first non-mitigation event
 * that changes something. "before" ends at the trigger, "during" runs
 * from when its effects have settled to the mitigation (or to the end of
 * its effects), "after" starts five minutes past the mitigation. */
static void find_trigger(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	const struct fd_event *trig = sc->answer.trigger_event;
	for (size_t i = 0; !trig && i < sc->n_events; i++)
		if (!sc->events[i].mitigation && (sc->events[i].n_effects || sc->events[i].kind == FD_EVENT_DEPLOY ||
						  sc->events[i].kind == FD_EVENT_CACHE_FLUSH ||
						  sc->events[i].kind == FD_EVENT_INSTANCE_LOSS))
			trig = &sc->events[i];
	s->trigger_at = s->settle_at = s->mitigate_at = s->recovered_at = INT64_MAX;
	if (!trig)
		return;
	s->trigger = trig;
	s->trigger_at = s->start + trig->at_ns + s->evs[trig->id].delay;
	int64_t settle = trig->rollout_ns;
	for (size_t i = 0; i < trig->n_effects; i++) {
		const struct fd_effect *e = &trig->effects[i];
		/* A delayed effect is a later stage of the incident (a load that
		 * eases in steps), not part of its onset. */
		if (e->start_ns > trig->at_ns)
			continue;
		int64_t d = e->ramp_ns;
		if (d > settle)
			settle = d;
	}
	s->settle_at = s->trigger_at + settle;
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *e = &sc->events[i];
		if (e->mitigation && e->at_ns >= trig->at_ns && !s->live) {
			s->mitigate_at = s->start + e->at_ns + s->evs[e->id].delay;
			s->recovered_at = s->mitigate_at + e->rollout_ns + 5 * 60 * NS;
			return;
		}
	}
	/* No mitigation, but an incident that ends by itself (an outage with a
	 * duration, a cache that warms up again): "after" is measured from
	 * when its last effect ends, so the answer key shows the recovery. */
	int64_t ends = trig->kind == FD_EVENT_CACHE_FLUSH && trig->cache
		       ? trig->at_ns + trig->cache->warmup_ns : 0;
	if (!trig->n_effects && trig->kind != FD_EVENT_CACHE_FLUSH)
		return;
	for (size_t i = 0; i < trig->n_effects; i++) {
		if (trig->effects[i].end_ns == FD_FOREVER)
			return;
		if (trig->effects[i].end_ns > ends)
			ends = trig->effects[i].end_ns;
	}
	s->mitigate_at = s->start + ends + s->evs[trig->id].delay;
	s->recovered_at = s->mitigate_at + 5 * 60 * NS;
}

/* A figure's four strings live in one block, owned by s->fig_text. */
static int add_figure(struct fd_sim *s, const char *name, const char *subject, const char *phase,
		      double value, const char *unit)
{
	struct fd_sim_figure *v = realloc(s->figs, (s->n_figs + 1) * sizeof(*v));
	if (!v)
		return -1;
	s->figs = v;
	char **tv = realloc(s->fig_text, (s->n_figs + 1) * sizeof(*tv));
	if (!tv)
		return -1;
	s->fig_text = tv;
	size_t ln = strlen(name) + 1, ls = strlen(subject) + 1, lp = strlen(phase) + 1,
	       lu = strlen(unit) + 1;
	char *text = malloc(ln + ls + lp + lu);
	if (!text)
		return -1;
	memcpy(text, name, ln);
	memcpy(text + ln, subject, ls);
	memcpy(text + ln + ls, phase, lp);
	memcpy(text + ln + ls + lp, unit, lu);
	tv[s->n_figs] = text;
	v[s->n_figs++] = (struct fd_sim_figure){
		.name = text, .subject = text + ln, .phase = text + ln + ls, .unit = text + ln + ls + lp,
		.value = value,
	};
	return 0;
}

int sim_answer_measure(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	int rc = 0;
	if (s->trigger) {
		char subject[256];
		snprintf(subject, sizeof(subject), "%s %s%s%s%s%s", s->trigger->kind_name, s->trigger->name,
			 s->trigger->service ? " of " : "", s->trigger->service ? s->trigger->service->name : "",
			 s->trigger->version ? " to " : "", s->trigger->version ? s->trigger->version : "");
		rc |= add_figure(s, "trigger_at", subject, "", (double)(s->trigger_at - s->start) / 1e9, "s");
	}
	/* The entry whose p95 grew the most is "the affected endpoint"; the
	 * hops that gained the added time are measured per request of it. */
	size_t worst = SIZE_MAX;
	double worst_growth = 0;
	for (size_t i = 0; i < sc->n_traffic; i++) {
		const struct fd_traffic *tr = &sc->traffic[i];
		if (tr->background)
			continue; /* scale's, not the story's */
		char subject[256];
		snprintf(subject, sizeof(subject), "%s %s", tr->entry->service->name, tr->entry->key);
		for (int p = 0; p < NPHASES; p++) {
			const struct logh *h = &s->meas[i * NPHASES + (size_t)p];
			if (!h->n)
				continue;
			rc |= add_figure(s, "requests", subject, phase_names[p], (double)h->n, "1");
			rc |= add_figure(s, "p50", subject, phase_names[p], logh_quantile(h, 0.50), "s");
			rc |= add_figure(s, "p95", subject, phase_names[p], logh_quantile(h, 0.95), "s");
			rc |= add_figure(s, "p99", subject, phase_names[p], logh_quantile(h, 0.99), "s");
			rc |= add_figure(s, "error_rate", subject, phase_names[p],
					 (double)h->errors / (double)h->n, "ratio");
		}
		const struct logh *b = &s->meas[i * NPHASES + PHASE_BEFORE];
		const struct logh *d = &s->meas[i * NPHASES + PHASE_DURING];
		if (b->n && d->n) {
			double g = logh_quantile(d, 0.95) - logh_quantile(b, 0.95);
			if (g > worst_growth) {
				worst_growth = g;
				worst = i;
			}
		}
	}
	if (worst != SIZE_MAX) {
		double nb = (double)s->meas[worst * NPHASES + PHASE_BEFORE].n;
		double nd = (double)s->meas[worst * NPHASES + PHASE_DURING].n;
		for (int rank = 0; rank < 3; rank++) {
			size_t best = SIZE_MAX;
			double best_delta = 0;
			for (size_t h = 0; h < s->n_hops; h++) {
				const double *ns = &s->hops[h].ns[worst * NPHASES];
				double delta = ns[PHASE_DURING] / nd - ns[PHASE_BEFORE] / nb;
				bool taken = false;
				for (size_t f = 0; f < s->n_figs; f++)
					if (!strcmp(s->figs[f].name, "added_time") &&
					    !strcmp(s->figs[f].subject, s->hops[h].name))
						taken = true;
				if (!taken && delta > best_delta && delta > 1e6) {
					best_delta = delta;
					best = h;
				}
			}
			if (best == SIZE_MAX)
				break;
			rc |= add_figure(s, "added_time", s->hops[best].name, "during", best_delta / 1e9, "s");
		}
	}
	return rc ? -1 : 0;
}

int sim_answer_init(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	s->meas = calloc((sc->n_traffic ? sc->n_traffic : 1) * NPHASES, sizeof(*s->meas));
	if (!s->meas)
		return -1;
	for (size_t i = 0; i < sc->n_traffic * NPHASES; i++)
		if (!(s->meas[i].b = calloc(LOGH_BUCKETS, sizeof(uint32_t))))
			return -1;
	if (name_hops(s) < 0)
		return -1;
	find_trigger(s);
	return 0;
}

void sim_answer_free(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	if (s->meas)
		for (size_t i = 0; i < sc->n_traffic * NPHASES; i++)
			free(s->meas[i].b);
	free(s->meas);
	for (size_t h = 0; s->hops && h < s->n_hops; h++) {
		free(s->hops[h].name);
		free(s->hops[h].ns);
	}
	free(s->hops);
	for (size_t f = 0; s->fig_text && f < s->n_figs; f++)
		free(s->fig_text[f]);
	free(s->fig_text);
	free(s->figs);
}
