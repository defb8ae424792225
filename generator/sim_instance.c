/*
 * Instances and their lifecycle. An instance lives as a series of
 * incarnations (one process each: a deploy, an OOM kill or a restart
 * starts a new one, with its own resource and counters). The state that
 * depends only on time — rollouts, restarts, crash loops, memory leaks and
 * OOM kills, queue consumers — is stepped ahead of the arrivals (see
 * sim.c), so a request knows whether its instance dies while serving it.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

/* ---- incarnations ------------------------------------------------------ */

struct incarnation *sim_inc_at(struct inst *in, int64_t t, int *idx)
{
	for (size_t i = in->n_incs; i-- > 0;) {
		struct incarnation *c = &in->incs[i];
		if (c->start <= t) {
			if (t < c->end) {
				if (idx)
					*idx = (int)i;
				return c;
			}
			return NULL;
		}
	}
	return NULL;
}

struct incarnation *sim_current_inc(struct inst *in)
{
	return in->n_incs ? &in->incs[in->n_incs - 1] : NULL;
}

int sim_add_inc(struct fd_sim *s, struct inst *in, int64_t start, const char *version)
{
	if (in->n_incs == in->cap_incs) {
		size_t cap = in->cap_incs ? in->cap_incs * 2 : 4;
		struct incarnation *v = realloc(in->incs, cap * sizeof(*v));
		if (!v)
			return sim_oom(s);
		in->incs = v;
		in->cap_incs = cap;
	}
	const struct fd_blob *res = sim_make_resource(s, in, version);
	if (!res)
		return sim_oom(s);
	in->incs[in->n_incs++] = (struct incarnation){
		.start = start, .end = INT64_MAX, .version = version, .res = res, .pod = in->pod,
	};
	in->version = version;
	in->leaked = 0;
	in->cpu_cum_ns = in->gc_cum_ns = 0;
	in->heap = 0; /* a new process: an empty heap */
	in->heap_t = start > in->heap_t ? start : in->heap_t;
	return 0;
}

void sim_end_inc(struct inst *in, int64_t t, bool killed)
{
	struct incarnation *c = sim_current_inc(in);
	if (c && c->end > t) {
		c->end = t;
		c->killed = killed;
	}
}

/* ---- instances ------------------------------------------------------- */

static bool pickable(struct inst *in, int64_t t)
{
	return sim_inc_at(in, t, NULL) || (in->crashing && in->exists);
}

/* The balancer (kube-proxy, a sidecar) picks an instance at random, each
 * with its own weight (long-lived connections stick), so the instances'
 * shares differ as they do in production; never a perfect round robin. */
struct inst *sim_pick_instance(struct fd_sim *s, struct svc *sv, int64_t t)
{
	if (sv->n_inst <= 0)
		return NULL;
	for (int tries = 0; tries < 4; tries++) {
		struct inst *in = &sv->inst[fd_rng_below(&s->rng, (uint64_t)sv->n_inst)];
		if (pickable(in, t) && fd_rng_uniform(&s->rng) * 1.25 < in->lb_weight + in->lb_drift)
			return in;
	}
	unsigned from = (unsigned)fd_rng_below(&s->rng, (uint64_t)sv->n_inst);
	for (int k = 0; k < sv->n_inst; k++) {
		struct inst *in = &sv->inst[(from + (unsigned)k) % (unsigned)sv->n_inst];
		if (pickable(in, t))
			return in;
	}
	return NULL;
}

/* ---- the runtime: heap, collections ------------------------------------------- */

/* The allocation rate of the first minute sets each instance's headroom. */
#define HEAP_LEARN_NS (60 * NS)

/* The growth that triggers a collection: the learned headroom, less as
 * the live set (baseline and leak) nears the memory limit, so a leaking
 * process collects more and more often before it is killed. */
static double headroom(const struct inst *in)
{
	const struct fd_resources *r = &in->svc->def->resources;
	double h = in->headroom > 0 ? in->headroom : 32.0 * 1048576;
	if (r->memory_limit > 0) {
		double room = 0.9 * (double)r->memory_limit - (double)r->memory_baseline * in->mem_factor - in->leaked;
		h = fmin(h, fmax(0.5 * room, 1048576.0));
	}
	return h;
}

static void collect(struct fd_sim *s, struct inst *in, int64_t t)
{
	const struct fd_resources *r = &in->svc->def->resources;
	double limit = r->memory_limit > 0 ? (double)r->memory_limit : 0;
	double pressure = limit > 0 ? fmin(0.98, ((double)r->memory_baseline + in->leaked) / limit) : 0.3;
	double work = (double)sim_sample_dist(s, &r->gc_pause) * (1 + 2 * pressure);
	/* on an oversubscribed node the collector's threads get less CPU: the
	 * same work, a longer pause */
	double crowded = sim_infra_slowdown(s, in);
	int64_t pause = (int64_t)(work * (crowded > 1 ? crowded : 1));
	in->gc_start = t;
	in->gc_until = t + pause;
	in->heap = headroom(in) * 0.05 * fd_rng_uniform(&s->rng); /* what survived */
	in->gcs++;
	struct slot *sl = &in->slots[sim_slot_of(s, t)];
	sl->gc_ns += (double)pause;
	sl->gc_counts[sim_gc_bucket(pause)]++;
	in->gc_cum_ns += (double)pause;
	/* the collector's threads work through the pause and a little after */
	sim_account_cpu(s, in, t, 1.5 * work);
}

void sim_heap_advance(struct fd_sim *s, struct inst *in, int64_t t)
{
	const struct rt_model *rt = sim_rt_model(in->svc);
	const struct fd_resources *r = &in->svc->def->resources;
	if (!rt->alloc_per_cpu_s || r->gc_interval_ns <= 0 || t <= in->heap_t)
		return;
	double bytes = rt->alloc_per_cpu_s * in->bg_cores * (double)(t - in->heap_t) / 1e9;
	in->heap_t = t;
	in->heap += bytes;
	if (t < s->start + HEAP_LEARN_NS)
		in->alloc_first += bytes;
	if (in->heap >= headroom(in))
		collect(s, in, t);
}

int64_t sim_heap_work(struct fd_sim *s, struct inst *in, int64_t t, double cpu_ns)
{
	const struct rt_model *rt = sim_rt_model(in->svc);
	const struct fd_resources *r = &in->svc->def->resources;
	if (!rt->alloc_per_cpu_s || r->gc_interval_ns <= 0)
		return 0;
	sim_heap_advance(s, in, t);
	double bytes = cpu_ns / 1e9 * rt->alloc_per_cpu_s;
	in->heap += bytes;
	if (t < s->start + HEAP_LEARN_NS) {
		in->alloc_first += bytes;
		double elapsed = (double)(t - s->start) / 1e9;
		if (elapsed >= 1)
			in->headroom = fmax(4.0 * 1048576, in->alloc_first / elapsed * (double)r->gc_interval_ns / 1e9);
	} else if (in->headroom <= 0 && in->svc->inst[0].headroom > 0) {
		in->headroom = in->svc->inst[0].headroom; /* started later: like its siblings */
	}
	/* requests are simulated whole, so a collection may already be booked
	 * later than t: only one in progress at t holds it up */
	int64_t wait = t >= in->gc_start && t < in->gc_until ? in->gc_until - t : 0;
	if (in->heap >= headroom(in)) {
		collect(s, in, t);
		wait = in->gc_until - t;
	}
	return wait;
}

/* CPU saturation: below half load a request is not slowed. Above, the
 * mean slowdown is 0.5 / (1 - rho) (capped at 20x), but not every request
 * waits: a share 2 (rho - 0.5) of them queue, for an exponentially
 * distributed time, so that the tail moves first (p99 at 60-70% busy) and
 * the median only as the instance nears saturation. */
/* How busy the instance has been: its CPU over the last few complete
 * seconds before t, per core. A few seconds, not one: a balancer's random
 * picks make one second's load jumpy, while a run queue integrates it. */
#define BUSY_SECONDS 5
static double busy_before(const struct fd_sim *s, const struct inst *in, int64_t t)
{
	int64_t now = (t - s->start) / NS;
	double ns = 0;
	int n = 0;
	for (int64_t sec = now - BUSY_SECONDS; sec < now; sec++) {
		if (sec < 0)
			continue;
		const struct cpu_sec *b = &in->cpu_ring[(uint64_t)sec % CPU_RING];
		ns += b->sec == sec ? b->ns : 0;
		n++;
	}
	double cores = in->svc->def->resources.cpu_cores > 0 ? in->svc->def->resources.cpu_cores : 1;
	return n ? ns / ((double)n * (double)NS * cores) : 0;
}

double sim_cpu_factor(struct fd_sim *s, const struct inst *in, int64_t t)
{
	double rho = busy_before(s, in, t);
	if (rho <= 0.5)
		return 1;
	if (rho > 0.975)
		rho = 0.975;
	double mean = 0.5 / (1 - rho);
	double q = fmin(1.0, 2 * (rho - 0.5));
	if (!fd_rng_chance(&s->rng, q))
		return 1;
	return 1 + (mean - 1) / q * fd_rng_exp(&s->rng, 1.0);
}

/* CPU is filed by the second it is spent in: requests are simulated whole
 * at arrival, so a hop seconds ahead files its CPU in a second the loop has
 * not reached yet, where the arrivals of that second will see it. */
void sim_account_cpu(struct fd_sim *s, struct inst *in, int64_t t, double cpu_ns)
{
	int64_t sec = (t - s->start) / NS;
	struct cpu_sec *b = &in->cpu_ring[(uint64_t)sec % CPU_RING];
	if (b->sec != sec) {
		b->sec = sec;
		b->ns = 0;
	}
	b->ns += cpu_ns;
	in->slots[sim_slot_of(s, t)].cpu_ns += cpu_ns;
	in->cpu_cum_ns += cpu_ns;
}

/* ---- queues ---------------------------------------------------------------- */

void sim_queue_step(struct fd_sim *s, int64_t t)
{
	for (size_t i = 0; i < s->sc->n_queues; i++) {
		struct queue_state *qs = &s->queues[i];
		const struct fd_queue *q = qs->def;
		if (!q->consumer) {
			qs->depth_slots[sim_slot_of(s, t)] = qs->depth;
			qs->consumed_slots[sim_slot_of(s, t)] = qs->consumed;
			continue;
		}
		struct svc *sv = &s->svcs[q->consumer->id];
		int up = 0;
		for (int k = 0; k < sv->n_inst; k++)
			up += sim_inc_at(&sv->inst[k], t, NULL) != NULL;
		struct mods m;
		sim_mods_init(&m);
		sim_apply_effects(s, &s->by_queue[i], NULL, NULL, t, &m);
		double capacity = (double)up * q->throughput * m.thr * (double)STEP_NS / (double)NS;
		double take = fmin(qs->depth, capacity);
		uint64_t n = (uint64_t)take;
		qs->depth -= (double)n;
		qs->consumed += n;
		/* Messages are handled one after another within the step. Each
		 * processing starts a trace of its own linked to its producer's
		 * (OpenTelemetry's messaging conventions): a consumer an hour
		 * behind does not make hour-long traces. */
		for (uint64_t k = 0; k < n && !s->failed; k++) {
			int64_t at = t + (int64_t)((double)STEP_NS * ((double)k + fd_rng_uniform(&s->rng)) /
						   (double)(n ? n : 1));
			struct req rq = {.phase = -1};
			struct qmsg msg = {0};
			bool have = qs->n > 0;
			if (have) {
				msg = qs->ring[qs->head];
				qs->head = (qs->head + 1) % qs->cap;
				qs->n--;
			}
			sim_random_id(s, rq.trace_id, 16);
			rq.sampled = fd_rng_chance(&s->rng, s->sc->trace_sampling);
			if (q->handler) {
				struct span link = {0};
				if (have) {
					link.link_trace = msg.trace_id;
					link.link_span = msg.span_id;
					link.link_sampled = msg.sampled;
				}
				sim_serve(s, &rq, q->handler, at, NULL, 1, &link);
			}
			if (have && at - msg.time > 60 * NS && k == 0 && sv->n_inst > 0)
				sim_logf_line(s, &sv->inst[0], at, SEV_WARN, SCOPE_LOG_MESSAGING, NULL,
					  "consumer of %s is behind: processing a message produced %.0fs ago "
					  "(lag %.0f messages)",
					  q->name, (double)(at - msg.time) / 1e9, qs->depth);
		}
		/* The handler reports each batch (a step's messages), so a
		 * consumer that stops consuming goes quiet in its logs too. */
		if (n > 0 && sv->n_inst > 0) {
			int64_t done = t + (int64_t)((0.55 + 0.44 * fd_rng_uniform(&s->rng)) * (double)STEP_NS);
			for (int k = 0; k < sv->n_inst; k++) {
				struct inst *in = &sv->inst[((t - s->start) / STEP_NS + k) % sv->n_inst];
				if (in->exists && sim_inc_at(in, done, NULL)) {
					sim_logf_line(s, in, done, SEV_INFO, SCOPE_LOG_MESSAGING, NULL,
						  "processed batch of %" PRIu64 " messages from %s (consumer group %s)",
						  n, q->name, sv->def->name);
					break;
				}
			}
		}
		qs->depth_slots[sim_slot_of(s, t)] = qs->depth;
		qs->consumed_slots[sim_slot_of(s, t)] = qs->consumed;
	}
}

/* ---- instance state (runs ahead of arrivals) -------------------------------- */

void sim_lifecycle(struct fd_sim *s, struct inst *in, int64_t t, int sev, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	sim_log_line(s, in, t, sev, SCOPE_LOG_LIFECYCLE, body, NULL, NULL, NULL);
}

static void restart_instance(struct fd_sim *s, struct inst *in, int64_t t, bool killed,
			     const char *version, int64_t downtime)
{
	sim_end_inc(in, t, killed);
	if (sim_add_inc(s, in, t + downtime, version) < 0)
		return;
	sim_lifecycle(s, in, t + downtime, SEV_INFO, "started %s %s on %s (%s runtime)", in->svc->def->name,
		  version, in->id, in->svc->def->runtime_name);
}

/* One start attempt of a crash-looping instance at `at`: the process comes
 * up, fails on its configuration CRASH_UP_NS later and is restarted after a
 * doubling backoff. Each attempt is a short incarnation ended by a kill, so
 * process.restart.count counts it. */
static void crash_attempt(struct fd_sim *s, struct inst *in, int64_t at)
{
	const struct fd_event *ev = in->crash_ev;
	if (sim_add_inc(s, in, at, ev->version) < 0)
		return;
	/* it reads its configuration for about CRASH_UP_NS, never exactly */
	int64_t die = at + (int64_t)((double)CRASH_UP_NS * (0.6 + 0.9 * fd_rng_uniform(&s->rng)));
	sim_end_inc(in, die, true);
	in->crash_n++;
	int64_t backoff = CRASH_BACKOFF_NS;
	for (int i = 1; i < in->crash_n && backoff < CRASH_BACKOFF_MAX_NS; i++)
		backoff *= 2;
	if (backoff > CRASH_BACKOFF_MAX_NS)
		backoff = CRASH_BACKOFF_MAX_NS;
	/* the kubelet's backoff, then pulling and starting the container */
	in->crash_next = die + backoff + (int64_t)(0.2e9 + 1.3e9 * fd_rng_uniform(&s->rng));
	sim_infra_container_died(s, in, die, false, true, in->crash_next);
	sim_lifecycle(s, in, at, SEV_INFO, "starting %s %s on %s (%s runtime)", in->svc->def->name, ev->version,
		  in->id, in->svc->def->runtime_name);
	sim_lifecycle(s, in, die, SEV_ERROR, "FATAL: %s; exiting with status 1",
		  ev->crash_error ? ev->crash_error : "invalid configuration");
	sim_lifecycle(s, in, die, SEV_WARN,
		  "back-off restarting failed container %s (CrashLoopBackOff): restart #%d, next attempt in %.0fs",
		  in->id, in->crash_n, (double)backoff / 1e9);
}

void sim_apply_event(struct fd_sim *s, const struct fd_event *ev, int64_t t)
{
	struct svc *sv = ev->service ? &s->svcs[ev->service->id] : NULL;
	struct inst *first = sv && sv->n_inst ? &sv->inst[0] : NULL;
	sim_infra_event(s, ev, t);
	switch (ev->kind) {
	case FD_EVENT_DEPLOY:
	case FD_EVENT_ROLLBACK:
		if (!sv || !ev->version)
			break;
		sv->target_version = ev->version;
		sv->rollout_start = t;
		sv->rollout_ns = ev->rollout_ns;
		sv->rollout_done = 0;
		sv->rollout_event = ev;
		sim_lifecycle(s, first, t, SEV_INFO, "%s of %s started: %s -> %s, rolling over %d instances in %.0fs",
			  ev->kind == FD_EVENT_DEPLOY ? "deploy" : "rollback", sv->def->name,
			  ev->previous_version ? ev->previous_version : first->version, ev->version, sv->count,
			  (double)ev->rollout_ns / 1e9);
		break;
	case FD_EVENT_SCALE_OUT:
		if (!sv)
			break;
		for (int i = sv->count; i < ev->instances && i < sv->n_inst; i++) {
			struct inst *in = &sv->inst[i];
			in->exists = true;
			/* the current version, or an older ReplicaSet's scaled back up */
			const char *v = ev->scale_version ? ev->scale_version : sv->inst[0].version;
			if (ev->scale_version) {
				in->version = v;
				in->pinned = true;
			}
			/* scheduling, image pull, start: each pod its own time */
			int64_t up = t + (int64_t)((double)sv->def->resources.startup_ns *
						   (0.8 + 0.7 * fd_rng_uniform(&s->rng))) +
				     (int64_t)(1e9 * fd_rng_uniform(&s->rng));
			sim_infra_new_pod(s, in, t, t, up, FD_POD_SCALE_OUT, v);
			if (sim_add_inc(s, in, up, v) == 0)
				sim_lifecycle(s, in, up, SEV_INFO, "started %s %s on %s (scale out)", sv->def->name, v,
					      in->id);
		}
		if (ev->instances > sv->count) {
			sim_lifecycle(s, first, t, SEV_INFO, "scaling %s out from %d to %d instances",
				  sv->def->name, sv->count, ev->instances);
			sv->count = ev->instances < sv->n_inst ? ev->instances : sv->n_inst;
		}
		break;
	case FD_EVENT_RESTART:
		if (!sv)
			break;
		for (int i = 0; i < sv->count; i++) {
			if (ev->instance >= 0 && i != ev->instance)
				continue;
			struct inst *in = &sv->inst[i];
			if (in->lost)
				continue;
			in->restart_pending_at = t + (sv->count > 1 && ev->instance < 0
						      ? ev->rollout_ns * i / sv->count : 0) +
						 (int64_t)(0.2e9 + 2.5e9 * fd_rng_uniform(&s->rng));
			in->restart_rollout = ev->instance < 0;
		}
		break;
	case FD_EVENT_INSTANCE_LOSS:
		if (!sv)
			break;
		for (int i = 0; i < sv->count; i++) {
			if (ev->instance >= 0 && i != ev->instance)
				continue;
			struct inst *in = &sv->inst[i];
			sim_end_inc(in, t, true);
			fd_kube_pod_stop(s->kube, in->pod, t, FD_STOP_LOST);
			in->lost = true;
			sim_lifecycle(s, in, t, SEV_ERROR, "node of %s became unreachable: instance lost",
				  in->id);
			if (ev->instance < 0)
				break; /* "an instance": the first */
		}
		break;
	case FD_EVENT_CACHE_FLUSH:
		if (ev->cache)
			s->cache_flushed_at[ev->cache->id] = t;
		if (s->sc->n_services)
			sim_log_line(s, &s->svcs[0].inst[0], t, SEV_WARN, SCOPE_LOG_APP, "cache flushed (FLUSHALL)",
				     NULL, NULL, NULL);
		break;
	case FD_EVENT_FEATURE_FLAG:
	case FD_EVENT_FLAG_OFF:
		if (first)
			sim_lifecycle(s, first, t, SEV_INFO, "feature flag %s turned %s", ev->flag ? ev->flag : "?",
				  ev->kind == FD_EVENT_FEATURE_FLAG && ev->flag_on ? "on" : "off");
		break;
	case FD_EVENT_CONFIG_CHANGE:
		if (first)
			sim_lifecycle(s, first, t, SEV_INFO, "configuration changed: %s = %s",
				  ev->config_key ? ev->config_key : "(config)",
				  ev->config_value ? ev->config_value : "");
		break;
	default:
		if (first && ev->description)
			sim_lifecycle(s, first, t, SEV_INFO, "%s", ev->description);
		break;
	}
}

void sim_state_step(struct fd_sim *s, int64_t t, size_t *next_event)
{
	const struct fd_scenario *sc = s->sc;
	sim_infra_step(s, t);
	/* events happen a little after the timeline says (event_state.delay) */
	while (*next_event < sc->n_events &&
	       s->start + sc->events[*next_event].at_ns + s->evs[*next_event].delay <= t) {
		const struct fd_event *ev = &sc->events[*next_event];
		if (!(s->live && ev->mitigation)) /* a drill's candidate mitigates */
			sim_apply_event(s, ev, s->start + ev->at_ns + s->evs[*next_event].delay);
		(*next_event)++;
	}
	sim_actions_apply(s, t);
	for (size_t i = 0; i < sc->n_services; i++) {
		struct svc *sv = &s->svcs[i];
		const struct fd_resources *r = &sv->def->resources;
		/* rollouts: instance k switches at start + rollout * (k+1)/n */
		while (sv->target_version && sv->rollout_done < sv->count) {
			int k = sv->rollout_done;
			/* each pod on its own schedule: the next one is replaced when
			 * the previous one is ready, give or take */
			int64_t spacing = sv->rollout_ns / sv->count;
			uint64_t x = (uint64_t)sv->rollout_start ^ (uint64_t)(k + 1) * 0x9e3779b97f4a7c15ULL;
			uint64_t h = fd_splitmix64(&x);
			int64_t at = sv->rollout_start + sv->rollout_ns * (k + 1) / sv->count +
				     (int64_t)((double)(h % 1000) / 1000.0 * 0.1 * (double)spacing) +
				     (int64_t)(300 * MS + (int64_t)((h >> 10) % 2500) * MS);
			if (at > t)
				break;
			struct inst *in = &sv->inst[k];
			const struct fd_event *rev = sv->rollout_event;
			if (!in->lost && !in->pinned && strcmp(in->version, sv->target_version) != 0) {
				if (rev->kind == FD_EVENT_DEPLOY && rev->crash_on_start) {
					sim_end_inc(in, at, false);
					sim_infra_new_pod(s, in, sv->rollout_start, at, at, FD_POD_ROLLOUT, sv->target_version);
					in->crashing = true;
					in->crash_ev = rev;
					in->crash_n = 0;
					crash_attempt(s, in, at);
				} else {
					in->crashing = false;
					sim_infra_new_pod(s, in, sv->rollout_start, at, at, FD_POD_ROLLOUT, sv->target_version);
					restart_instance(s, in, at, false, sv->target_version, 0);
				}
			}
			sv->rollout_done++;
			if (sv->rollout_done == sv->count)
				sim_lifecycle(s, &sv->inst[0], at, SEV_INFO, "%s of %s %s finished",
					  sv->rollout_event->kind == FD_EVENT_DEPLOY ? "deploy" : "rollback",
					  sv->def->name, sv->target_version);
		}
		for (int k = 0; k < sv->n_inst; k++) {
			struct inst *in = &sv->inst[k];
			if (!in->exists || in->lost)
				continue;
			if (in->restart_pending_at && in->restart_pending_at <= t) {
				int64_t at = in->restart_pending_at;
				in->restart_pending_at = 0;
				sim_lifecycle(s, in, at, SEV_INFO, "restarting %s (operator restart)", in->id);
				/* a rollout restart's new ReplicaSet, or one pod deleted
				 * and replaced */
				sim_infra_new_pod(s, in, at, at, at + r->startup_ns,
						  in->restart_rollout ? FD_POD_ROLLOUT : FD_POD_RESCHEDULE, in->version);
				/* a crash-looping process restarted crashes again */
				if (!in->crashing)
					restart_instance(s, in, at, false, in->version, r->startup_ns);
			}
			if (in->crashing && in->crash_next <= t)
				crash_attempt(s, in, in->crash_next);
			/* callers' connections to it come and go: its share of the
			 * balancer's picks wanders by several percent over minutes */
			in->lb_drift = 0.9967 * in->lb_drift + 0.0033 * fd_rng_normal(&s->rng);
			struct incarnation *c = sim_inc_at(in, t, NULL);
			if (!c)
				continue;
			struct mods m;
			sim_mods_init(&m);
			sim_apply_effects(s, &s->by_service[i], NULL, in, t, &m);
			in->leaked += m.leak * (double)STEP_NS / (double)NS;
			struct slot *sl = &in->slots[sim_slot_of(s, t)];
			sl->leaked = in->leaked;
			sl->leaked_set = true;
			if (r->memory_limit > 0 && (double)r->memory_baseline + in->leaked >= (double)r->memory_limit) {
				/* the limit is crossed somewhere within the step */
				int64_t kill = t - (int64_t)((double)STEP_NS * fd_rng_uniform(&s->rng));
				if (kill < c->start)
					kill = c->start;
				in->restarts++;
				char lim[32];
				snprintf(lim, sizeof(lim), "%.0f MiB", (double)r->memory_limit / 1048576.0);
				sim_lifecycle(s, in, kill, SEV_ERROR,
					  "OOMKilled: %s exceeded its memory limit of %s; restarting (restart #%" PRIu64 ")",
					  in->id, lim, in->restarts);
				int64_t down = (int64_t)((double)r->startup_ns * (0.85 + 0.4 * fd_rng_uniform(&s->rng)));
				sim_infra_container_died(s, in, kill, true, false, kill + down);
				restart_instance(s, in, kill, true, in->version, down);
			}
		}
	}
}

