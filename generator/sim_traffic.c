/*
 * Where work comes from: request arrivals per traffic entry (a Poisson
 * process whose rate follows the daily shape, bursts, noise and effects),
 * noise log lines, and cron jobs.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

/* ---- traffic, noise, cron ---------------------------------------------------- */

double sim_traffic_rate(struct fd_sim *s, const struct fd_traffic *tr, struct traffic_state *ts,
			   int64_t t)
{
	double rate = tr->rate;
	if (tr->shape == FD_SHAPE_DAILY) {
		/* the day's curve moves slowly: once a second is plenty (and the
		 * cosine per arrival was a few percent of generation time) */
		if (t - ts->shape_t >= NS || t < ts->shape_t) {
			int64_t day = 86400 * NS;
			int64_t tod = ((t % day) + day) % day;
			ts->shape = 1 + tr->amplitude * cos(6.283185307179586 * (double)(tod - tr->peak_ns) / (double)day);
			ts->shape_t = t;
		}
		rate *= ts->shape;
	}
	/* Demand wanders: a slow random factor (an AR(1) process on its
	 * log, stepped every 10-30 s) whose spread is the entry's noise, 4%
	 * when the scenario says nothing. */
	if (t >= ts->noise_until) {
		double sigma = tr->noise > 0 ? tr->noise : 0.03;
		ts->drift = 0.85 * ts->drift + 0.53 * sigma * fd_rng_normal(&s->rng);
		ts->noise = exp(ts->drift);
		ts->noise_until = t + (int64_t)((10 + 20 * fd_rng_uniform(&s->rng)) * (double)NS);
	}
	rate *= ts->noise > 0 ? ts->noise : 1;
	/* ... and now and then a short burst nobody planned */
	if (!ts->burst_at)
		ts->burst_at = t + (int64_t)fd_rng_exp(&s->rng, 20.0 * 60 * NS);
	if (t >= ts->burst_at) {
		ts->burst_until = ts->burst_at + (int64_t)((15 + 75 * fd_rng_uniform(&s->rng)) * (double)NS);
		ts->burst_mult = 1.05 + 0.15 * fd_rng_uniform(&s->rng);
		ts->burst_at = ts->burst_until + (int64_t)fd_rng_exp(&s->rng, 20.0 * 60 * NS);
	}
	if (t < ts->burst_until)
		rate *= ts->burst_mult;
	int64_t rel = t - s->start;
	for (size_t b = 0; b < tr->n_bursts; b++)
		if (rel >= tr->bursts[b].at_ns && rel < tr->bursts[b].at_ns + tr->bursts[b].duration_ns)
			rate *= tr->bursts[b].multiplier;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_traffic[tr->id], NULL, NULL, t, &m);
	if (!tr->background) /* a scale's background service: not part of the story */
		sim_apply_effects(s, &s->traffic_all, NULL, NULL, t, &m);
	/* --rate A..B --ramp D: every entry (background ones too) at its
	 * share of the line from A to B, then of B (the entries hold B's) */
	const struct fd_scenario_scale *k = &s->sc->scale;
	if (k->ramp_ns > 0 && rel < k->ramp_ns)
		rate *= (k->rate_from + (k->rate - k->rate_from) * ((double)rel / (double)k->ramp_ns)) / k->rate;
	return rate * m.rate;
}

void sim_arrival(struct fd_sim *s, const struct fd_traffic *tr, int64_t t)
{
	struct req rq = {.tr = tr};
	int radix = 1;
	for (size_t d = 0; d < tr->n_dimensions && d < MAX_DIMS; d++) {
		const struct fd_dimension *dim = &tr->dimensions[d];
		/* the first value whose cumulative weight is above u (the last
		 * when rounding leaves u above them all); a binary search, as a
		 * scaled dimension has up to a million values */
		double u = fd_rng_uniform(&s->rng);
		size_t lo = 0, hi = dim->n_values - 1;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (u < dim->values[mid].cum)
				hi = mid;
			else
				lo = mid + 1;
		}
		size_t v = lo;
		rq.dims[d] = (int)v;
		rq.combo += (int)v * radix;
		radix *= (int)dim->n_values;
	}
	if (tr->payload.p50 > 0)
		rq.payload = sim_sample_dist(s, &tr->payload);
	sim_random_id(s, rq.trace_id, 16);
	rq.sampled = fd_rng_chance(&s->rng, s->sc->trace_sampling);
	rq.phase = sim_phase_of(s, t);
	struct outcome o = sim_serve(s, &rq, tr->entry, t, NULL, 0, NULL);
	s->entry_requests++;
	if (s->observe)
		s->observe(s->observe_ctx, tr, t, o.end - t, o.status);
	if (rq.phase >= 0) {
		struct logh *h = &s->meas[(size_t)tr->id * NPHASES + (size_t)rq.phase];
		sim_logh_add(h, o.end - t, o.status >= 500);
	}
}

/* The author's example figures in a noise message ("took 210ms", "lag
 * 1.4s", "at 80% of quota") vary from line to line around the value
 * written, as a real system's would: a duration by a log-normal factor, a
 * percentage by a few points. Only numbers with a unit right after them;
 * "eu-2" or "v6" are names. */
static void vary_numbers(struct fd_sim *s, char *out, size_t n, const char *msg)
{
	size_t k = 0;
	const char *p = msg;
	while (*p && k + 1 < n) {
		bool starts = (*p >= '0' && *p <= '9') && (p == msg || !(isalnum((unsigned char)p[-1]) ||
									 p[-1] == '-' || p[-1] == '.'));
		if (starts) {
			const char *q = p;
			while ((*q >= '0' && *q <= '9') || (*q == '.' && q[1] >= '0' && q[1] <= '9'))
				q++;
			size_t ulen = !strncmp(q, "ms", 2) ? 2 : (*q == 's' || *q == '%') ? 1 : 0;
			if (ulen && !isalpha((unsigned char)q[ulen])) {
				const char *dot = memchr(p, '.', (size_t)(q - p));
				int decimals = dot ? (int)(q - dot - 1) : 0;
				double v = strtod(p, NULL);
				if (*q == '%')
					v = fmin(99, fmax(1, v + 6 * fd_rng_normal(&s->rng)));
				else
					v *= exp(0.3 * fd_rng_normal(&s->rng));
				int w = snprintf(out + k, n - k, "%.*f", decimals, v);
				if (w < 0 || (size_t)w >= n - k)
					break;
				k += (size_t)w;
				p = q;
				continue;
			}
			while (p < q && k + 1 < n)
				out[k++] = *p++;
			continue;
		}
		out[k++] = *p++;
	}
	out[k] = '\0';
}

/* Whether in runs version v at t (its state is stepped ahead of the
 * arrivals: in->version may already be the next incarnation's). */
static bool runs(struct inst *in, int64_t t, const char *v)
{
	struct incarnation *c = sim_inc_at(in, t, NULL);
	return c && !strcmp(c->version, v);
}

/* The version a windowed noise log belongs to: the release of its service
 * whose rollout its window starts in (NULL: none). */
static const char *noise_version(const struct fd_scenario *sc, const struct fd_noise_log *nl)
{
	const char *v = NULL;
	for (size_t i = 0; nl->at_ns > 0 && i < sc->n_events; i++) {
		const struct fd_event *e = &sc->events[i];
		if (e->kind == FD_EVENT_DEPLOY && e->service == nl->service && e->version &&
		    e->at_ns <= nl->at_ns && nl->at_ns <= e->at_ns + e->rollout_ns + 60 * NS)
			v = e->version;
	}
	return v;
}

void sim_noise_line(struct fd_sim *s, const struct fd_noise_log *nl, int64_t t)
{
	/* A flood with a window: the schedule runs all along (the same draws
	 * either way), only lines inside the window are written. */
	int64_t rel = t - s->start;
	if (rel < nl->at_ns || (nl->duration_ns > 0 && rel >= nl->at_ns + nl->duration_ns))
		return;
	struct svc *sv = &s->svcs[nl->service->id];
	struct inst *in = sim_pick_instance(s, sv, t);
	if (!in)
		return;
	/* Lines that start with a release of their service are the new
	 * version's behaviour: pods still on the old one do not write them. */
	const char *v = noise_version(s->sc, nl);
	for (int k = 1; v && in && !runs(in, t, v); k++)
		in = k < sv->n_inst ? &sv->inst[(in->idx + 1) % sv->n_inst] : NULL;
	if (!in)
		return;
	/* Warnings and errors come from work: an instance that has done none
	 * for a minute has nothing to complain about. */
	if (nl->severity >= FD_SEV_WARN && t - in->last_work > 60 * NS)
		return;
	static const int sev[] = {SEV_DEBUG, SEV_INFO, SEV_WARN, SEV_ERROR};
	char body[512];
	vary_numbers(s, body, sizeof(body), nl->message);
	sim_log_line(s, in, t, sev[nl->severity <= FD_SEV_ERROR ? nl->severity : 1], SCOPE_LOG_APP, body,
		     NULL, NULL, NULL);
}

void sim_cron_run(struct fd_sim *s, const struct fd_noise_cron *cr, int64_t t)
{
	struct svc *sv = &s->svcs[cr->service->id];
	struct inst *in = &sv->inst[0];
	struct incarnation *c = sim_inc_at(in, t, NULL);
	if (!c)
		return;
	struct req rq = {.phase = -1};
	sim_random_id(s, rq.trace_id, 16);
	rq.sampled = true; /* batch jobs are always traced: rare and interesting */
	struct span sp = {.trace_id = rq.trace_id, .kind = SPAN_INTERNAL, .start = t};
	sim_random_id(s, sp.id, 8);
	struct logctx ctx = sim_ctx(&rq, sp.id);
	sim_logf_line(s, in, t, SEV_INFO, SCOPE_LOG_APP, &ctx, "cron job %s started", cr->name);
	struct outcome o = sim_run_calls(s, &rq, in, NULL, cr->calls, cr->n_calls, t, sp.id, 1, NULL);
	int64_t end = o.end > t + cr->duration_ns ? o.end : t + cr->duration_ns;
	sp.end = end;
	sp.error = o.status >= 500;
	char name[160];
	snprintf(name, sizeof(name), "cron %s", cr->name);
	sim_span_begin(&s->w, &sp, in, name);
	otlp_attr_str(&s->w, OTLP_SPAN_ATTRIBUTES, "job.name", cr->name);
	sim_span_finish(s, &s->w, &sp, in, c->res, SCOPE_APP, NULL);
	sim_logf_line(s, in, end, SEV_INFO, SCOPE_LOG_APP, &ctx, "cron job %s finished in %.1fs", cr->name,
		      (double)(end - t) / 1e9);
}
