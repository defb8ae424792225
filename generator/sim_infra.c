/*
 * The infrastructure under the simulation: the cluster (cluster.h) that
 * runs every instance in a pod, and the servers (datastore.h) behind the
 * services' calls. The simulation tells them what happens — an incarnation
 * starts or ends, a query runs, a scrape is due — and queues what they say
 * with the records of the services.
 *
 * Pods and incarnations. An incarnation's resource names its pod: a
 * container restart (OOM kill, crash loop) keeps the pod and changes
 * container.id; a rollout, an operator restart, a scale-out and a
 * reschedule (a lost node, an eviction, a drain) make a new pod with a new
 * name. service.instance.id is the pod's name.
 */
#include <stdio.h>
#include <string.h>

#include "generator/sim_internal.h"

static void push(void *ctx, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		 const struct fd_blob *scope, struct pbw *w)
{
	sim_push_record(ctx, t, sig, res, scope, w);
}

static void set_pod(struct fd_sim *s, struct inst *in, int pod)
{
	if (pod < 0) {
		sim_oom(s);
		return;
	}
	in->pod = pod;
	in->restarts = 0; /* the kubelet counts per pod */
	snprintf(in->id, sizeof(in->id), "%s", fd_kube_pod_name(s->kube, pod));
}

/* The cluster moved the instance's pod away (its node was lost, it was
 * evicted or drained): the incarnation ends, a new pod takes over at back. */
static void displaced(void *ctx, int svc, int idx, int64_t t, int64_t back, bool killed)
{
	struct fd_sim *s = ctx;
	struct inst *in = &s->svcs[svc].inst[idx];
	if (!in->exists || in->lost)
		return;
	sim_end_inc(in, t, killed);
	if (killed)
		sim_lifecycle(s, in, t, SEV_ERROR, "%s: connection to %s lost", in->svc->def->name, in->id);
	if (back == INT64_MAX) {
		in->lost = true;
		return;
	}
	const struct fd_resources *r = &in->svc->def->resources;
	set_pod(s, in, fd_kube_pod_start(s->kube, svc, idx, t, back, r->startup_ns, in->version, FD_POD_RESCHEDULE));
	if (sim_add_inc(s, in, back, in->version) == 0)
		sim_lifecycle(s, in, back, SEV_INFO, "started %s %s on %s (%s runtime)", in->svc->def->name,
			      in->version, in->id, in->svc->def->runtime_name);
}

int sim_infra_create(struct fd_sim *s, struct fd_error *err)
{
	struct fd_kube_out out = {.push = push, .displaced = displaced, .ctx = s};
	int rc = fd_kube_create(s->sc, s->seed, s->start, s->end, s->blobs, &out, &s->kube, err);
	if (rc < 0)
		return rc;
	return fd_stores_create(s->sc, s->seed, s->start, s->end, s->blobs, &out, &s->stores, err);
}

void sim_infra_free(struct fd_sim *s)
{
	fd_kube_destroy(s->kube);
	fd_stores_destroy(s->stores);
}

int sim_infra_initial_pod(struct fd_sim *s, struct inst *in)
{
	in->pod = fd_kube_pod_start(s->kube, in->svc->def->id, in->idx, s->start, s->start, 0, in->version,
				    FD_POD_INITIAL);
	set_pod(s, in, in->pod);
	return s->failed ? -1 : 0;
}

void sim_infra_new_pod(struct fd_sim *s, struct inst *in, int64_t floor, int64_t stop, int64_t take,
		       enum fd_pod_why why, const char *version)
{
	if (in->pod >= 0)
		fd_kube_pod_stop(s->kube, in->pod, stop,
				 why == FD_POD_ROLLOUT ? FD_STOP_ROLLOUT : FD_STOP_DELETE);
	set_pod(s, in, fd_kube_pod_start(s->kube, in->svc->def->id, in->idx, floor, take,
					 in->svc->def->resources.startup_ns, version, why));
}

void sim_infra_container_died(struct fd_sim *s, struct inst *in, int64_t t, bool oom, bool crash_loop,
			      int64_t restart_at)
{
	fd_kube_container_died(s->kube, in->pod, t, oom, crash_loop, restart_at);
}

void sim_infra_event(struct fd_sim *s, const struct fd_event *ev, int64_t t)
{
	if ((ev->kind == FD_EVENT_DEPLOY || ev->kind == FD_EVENT_ROLLBACK) && ev->service && ev->version)
		fd_kube_rollout(s->kube, ev->service->id, t, ev->version, false);
	else if (ev->kind == FD_EVENT_RESTART && ev->service && ev->instance < 0)
		fd_kube_rollout(s->kube, ev->service->id, t, s->svcs[ev->service->id].inst[0].version, true);
	fd_kube_event(s->kube, ev, t);
	fd_stores_event(s->stores, ev, t);
	/* a mitigation that fully undoes an event below the application ends
	 * it there too once its rollout is over (a damped one leaves it: the
	 * lock holder still runs, in smaller batches) */
	if (ev->mitigation && ev->undoes && ev->undoes->at_ns <= ev->at_ns &&
	    (ev->damping <= 0 || ev->damping >= 1)) {
		int64_t at = t + ev->rollout_ns;
		fd_kube_undo(s->kube, ev->undoes, at);
		fd_stores_undo(s->stores, ev->undoes, at);
	}
}

void sim_infra_step(struct fd_sim *s, int64_t t)
{
	fd_kube_step(s->kube, t);
}

void sim_infra_node_effects(const struct fd_sim *s, const struct req *rq, struct inst *in, int64_t t,
			    struct mods *m)
{
	if (!s->sc->cluster.n_nodes)
		return;
	int decl = fd_kube_node_decl(s->kube, fd_kube_pod_node(s->kube, in->pod));
	if (decl >= 0)
		sim_apply_effects(s, &s->by_node[decl], rq, in, t, m);
}

double sim_infra_slowdown(const struct fd_sim *s, const struct inst *in)
{
	return fd_kube_cpu_slowdown(s->kube, in->pod);
}

void sim_infra_query(struct fd_sim *s, const struct inst *in, const struct fd_query *q, int pool,
		     int64_t end, int64_t base_ns, int64_t lat_ns, bool failed)
{
	fd_stores_query(s->stores, q, in->svc->def->id, in->idx, pool, end, base_ns, lat_ns, failed);
}

void sim_infra_cache(struct fd_sim *s, const struct inst *in, const struct fd_cache *c,
		     enum fd_cache_op op, bool hit, int64_t t)
{
	fd_stores_cache(s->stores, c, in->svc->def->id, in->idx, op, hit, t);
}

void sim_infra_usage(struct fd_sim *s, const struct inst *in, double cores, double memory)
{
	fd_kube_pod_usage(s->kube, in->pod, cores, memory);
}

void sim_infra_scrape(struct fd_sim *s, int64_t t)
{
	fd_kube_scrape(s->kube, t, s->scrape);
	for (size_t i = 0; i < s->sc->n_queues; i++) {
		const struct queue_state *qs = &s->queues[i];
		int members = 0;
		if (qs->def->consumer) {
			const struct svc *sv = &s->svcs[qs->def->consumer->id];
			for (int k = 0; k < sv->n_inst; k++)
				members += sim_inc_at(&sv->inst[k], t, NULL) != NULL;
		}
		fd_stores_queue(s->stores, qs->def, qs->produced, qs->consumed, members);
	}
	fd_stores_scrape(s->stores, t, s->scrape);
}
