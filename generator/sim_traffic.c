/*
 * Where work comes from: request arrivals per traffic entry (a Poisson
 * process whose rate follows the daily shape, bursts, noise and effects),
 * noise log lines, and cron jobs.
 */
#include <math.h>
#include <stdio.h>

#include "generator/sim_internal.h"

/* ---- traffic, noise, cron ---------------------------------------------------- */

double sim_traffic_rate(struct fd_sim *s, const struct fd_traffic *tr, struct traffic_state *ts,
			   int64_t t)
{
	double rate = tr->rate;
	if (tr->shape == FD_SHAPE_DAILY) {
		int64_t day = 86400 * NS;
		int64_t tod = ((t % day) + day) % day;
		rate *= 1 + tr->amplitude * cos(6.283185307179586 * (double)(tod - tr->peak_ns) / (double)day);
	}
	if (tr->noise > 0) {
		if (t >= ts->noise_until) {
			ts->noise = fmax(0.1, 1 + tr->noise * fd_rng_normal(&s->rng));
			ts->noise_until = t + 60 * NS;
		}
		rate *= ts->noise;
	}
	int64_t rel = t - s->start;
	for (size_t b = 0; b < tr->n_bursts; b++)
		if (rel >= tr->bursts[b].at_ns && rel < tr->bursts[b].at_ns + tr->bursts[b].duration_ns)
			rate *= tr->bursts[b].multiplier;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_traffic[tr->id], NULL, NULL, t, &m);
	sim_apply_effects(s, &s->traffic_all, NULL, NULL, t, &m);
	return rate * m.rate;
}

void sim_arrival(struct fd_sim *s, const struct fd_traffic *tr, int64_t t)
{
	struct req rq = {.tr = tr};
	int radix = 1;
	for (size_t d = 0; d < tr->n_dimensions && d < MAX_DIMS; d++) {
		const struct fd_dimension *dim = &tr->dimensions[d];
		double u = fd_rng_uniform(&s->rng), acc = 0;
		size_t v = dim->n_values - 1;
		for (size_t k = 0; k < dim->n_values; k++) {
			acc += dim->values[k].weight;
			if (u < acc) {
				v = k;
				break;
			}
		}
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
	static const int sev[] = {SEV_DEBUG, SEV_INFO, SEV_WARN, SEV_ERROR};
	sim_log_line(s, in, t, sev[nl->severity <= FD_SEV_ERROR ? nl->severity : 1], nl->message, NULL, NULL,
		 NULL, NULL);
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
	sim_lifecycle(s, in, t, SEV_INFO, "cron job %s started", cr->name);
	struct outcome o = sim_run_calls(s, &rq, in, NULL, cr->calls, cr->n_calls, t, sp.id, 1);
	int64_t end = o.end > t + cr->duration_ns ? o.end : t + cr->duration_ns;
	sp.end = end;
	sp.error = o.status >= 500;
	char name[160];
	snprintf(name, sizeof(name), "cron %s", cr->name);
	sim_span_begin(&s->w, &sp, name);
	otlp_attr_str(&s->w, 9, "job.name", cr->name);
	sim_span_finish(s, &s->w, &sp, c->res, "cron.run");
	sim_lifecycle(s, in, end, SEV_INFO, "cron job %s finished in %.1fs", cr->name, (double)(end - t) / 1e9);
}

