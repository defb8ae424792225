/*
 * The cluster's own time and the scenario's triggers on it (cluster.h):
 * jobs that start and complete, a node that goes NotReady and its pods'
 * eviction after the taint's toleration, the kubelet's evictions under
 * memory pressure, a co-tenant job, a cordon and drain, and the undoing of
 * those by a mitigation. The pods, the scheduler and the records are
 * cluster.c's; the events' shape cluster_events.c's.
 */
#include "generator/cluster_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static void start_job(struct fd_kube *k, int c, int node, double cpu, double mem, int64_t t,
		      int64_t duration)
{
	struct kube_ctl *ctl = &k->ctls[c];
	if (cpu > 0)
		ctl->cpu = cpu;
	if (mem > 0)
		ctl->mem = mem;
	if (ctl->cpu_request < ctl->cpu * 0.5)
		ctl->cpu_request = ctl->cpu * 0.5;
	int id = kube_new_pod(k, c, -1);
	if (id < 0)
		return;
	struct kube_pod *p = &k->pods[id];
	struct kobj o = ctl_obj(ctl);
	k8s_event(k, t, &o, false, "SuccessfulCreate", "", 0, "Created pod: %s", p->name);
	/* the scheduler, then a big image: a batch job's start takes a while */
	int64_t started = t + (int64_t)((8 + 20 * fd_rng_uniform(&k->rng)) * K_NS);
	kube_schedule(k, id, node, started, t + 50 * K_MS);
	p->ends_at = duration > 0 && duration != FD_FOREVER ? t + duration : INT64_MAX;
}

static void end_job(struct fd_kube *k, struct kube_pod *p, int64_t t)
{
	struct kube_ctl *c = &k->ctls[p->ctl];
	if (p->deleted) { /* stopped by an operator: its kubelet kills it */
		struct kobj oc = pod_obj(k, p, true);
		k8s_event(k, t + 2 * K_MS, &oc, false, "Killing", "", 0, "Stopping container %s", c->container);
		kube_pod_end(k, p, t, KP_FAILED);
		return;
	}
	kube_pod_end(k, p, t, KP_SUCCEEDED);
	struct kobj o = ctl_obj(c);
	k8s_event(k, t + 1200 * K_MS, &o, false, "Completed", "", 0, "Job completed");
}

static void node_lost(struct fd_kube *k, int node, int64_t t)
{
	struct kube_node *n = &k->nodes[node];
	struct kobj o = node_obj(n);
	o.host = "";
	k8s_event(k, t + 40 * K_NS, &o, false, "NodeNotReady", "", 0, "Node %s status is now: NodeNotReady", n->name);
	for (size_t i = 0; i < k->n_pods; i++) {
		struct kube_pod *p = &k->pods[i];
		if (!p->bound || p->node != node)
			continue;
		struct kobj op = pod_obj(k, p, false);
		op.host = "";
		k8s_event(k, t + 41 * K_NS, &op, true, "NodeNotReady", "", 0, "Node is not ready");
		if (p->svc >= 0 && k->out.displaced) {
			/* unreachable from now; after the taint's 300 s toleration
			 * it is evicted and its ReplicaSet makes a new pod */
			int64_t back = t + 300 * K_NS + 10 * K_NS + k->sc->services[p->svc].resources.startup_ns;
			k->out.displaced(k->out.ctx, p->svc, p->idx, t, back < k->end ? back : INT64_MAX, true);
		}
	}
}

static void evict_lost_pods(struct fd_kube *k, int node, int64_t t)
{
	for (size_t i = 0; i < k->n_pods; i++) {
		struct kube_pod *p = &k->pods[i];
		if (!p->bound || p->node != node || k->ctls[p->ctl].kind == KK_DAEMONSET)
			continue;
		struct kobj op = pod_obj(k, p, false);
		op.host = "";
		k8s_event(k, t, &op, false, "TaintManagerEviction", "", 0, "Marking for deletion Pod %s/%s",
			  k->ctls[p->ctl].namespace, p->name);
		kube_pod_end(k, p, t, KP_FAILED);
	}
}

/* The kubelet evicts under memory pressure: the pod furthest over its
 * request goes first. */
static void memory_pressure(struct fd_kube *k, int node, int64_t t)
{
	struct kube_node *n = &k->nodes[node];
	double threshold = 100 * K_MIB;
	if (n->used_mem < n->memory - threshold || t - n->last_pressure < 30 * K_NS)
		return;
	int victim = -1;
	double worst = 0;
	for (size_t i = 0; i < k->n_pods; i++) {
		const struct kube_pod *p = &k->pods[i];
		if (!p->bound || p->node != node || k->ctls[p->ctl].kind == KK_DAEMONSET)
			continue;
		double over = p->mem - kube_ctl_mem_request(k, &k->ctls[p->ctl]);
		if (victim < 0 || over > worst) {
			worst = over;
			victim = (int)i;
		}
	}
	if (victim < 0)
		return;
	n->last_pressure = t;
	struct kube_pod *p = &k->pods[victim];
	const struct kube_ctl *c = &k->ctls[p->ctl];
	struct kobj on = node_obj(n);
	k8s_event(k, t, &on, true, "EvictionThresholdMet", "", 0, "Attempting to reclaim memory");
	struct kobj op = pod_obj(k, p, false);
	k8s_event(k, t + 300 * K_MS, &op, true, "Evicted", "Evicting", 0,
		  "The node was low on resource: memory. Threshold quantity: 100Mi, available: %.0fKi. Container %s was using %.0fKi, request is %.0fKi, has larger consumption of memory.",
		  fmax(0, n->memory - n->used_mem) / 1024, c->container, p->mem / 1024,
		  kube_ctl_mem_request(k, c) / 1024);
	k8s_event(k, t + 350 * K_MS, &op, false, "Killing", "", 0, "Stopping container %s", c->container);
	kube_pod_end(k, p, t + 350 * K_MS, KP_FAILED);
	n->used_mem -= p->mem;
	if (p->svc >= 0 && k->out.displaced) {
		int64_t back = t + 3 * K_NS + k->sc->services[p->svc].resources.startup_ns;
		k->out.displaced(k->out.ctx, p->svc, p->idx, t, back < k->end ? back : INT64_MAX, true);
	}
}

/*
 * Churn, as avalanche's series churn and replay --churn: at a fraction P
 * an hour (0.05 at 5%/h) every pod of a service lives 1/P hours and is then deleted, and its
 * ReplicaSet makes a new one (a new name: new series) — what a descheduler,
 * spot reclaims or node rotation do. The instance slots take turns at even
 * intervals (slot g first at (g + 1/2) / G of a lifetime), so exactly
 * ceil(P x G x hours - 1/2) of G slots' pods are replaced in the first
 * hours whatever the seed; the new pods' names come from the seed. The
 * slots are numbered service by service, each service's instances in
 * order, as churn() walks them.
 */
int kube_churn_init(struct fd_kube *k)
{
	const struct fd_scenario *sc = k->sc;
	if (!(sc->scale.churn > 0))
		return 0;
	size_t slots = 0;
	for (size_t i = 0; i < sc->n_services; i++)
		slots += (size_t)fd_scenario_max_instances(sc, &sc->services[i]);
	k->churn_next = calloc(slots ? slots : 1, sizeof(int64_t));
	if (!k->churn_next)
		return -1;
	k->churn_life = 3600.0 * K_NS / sc->scale.churn;
	for (size_t g = 0; g < slots; g++)
		k->churn_next[g] = k->start + (int64_t)(k->churn_life * ((double)g + 0.5) / (double)slots);
	return 0;
}

/* Replaces the pods whose turn comes within the next second, as a drain
 * evicts them: deleted (Killing), and a new pod of the ReplicaSet takes
 * over once scheduled and started. */
static void churn(struct fd_kube *k, int64_t t)
{
	const struct fd_scenario *sc = k->sc;
	int64_t *next = k->churn_next;
	for (size_t svc = 0; svc < sc->n_services; svc++) {
		int n = fd_scenario_max_instances(sc, &sc->services[svc]);
		for (int idx = 0; idx < n; idx++, next++) {
			while (*next < t + K_NS && *next < k->end) {
				int64_t at = *next > t ? *next : t;
				*next += (int64_t)k->churn_life;
				int pod = -1;
				for (size_t i = k->n_pods; i-- > 0 && pod < 0;)
					if (k->pods[i].bound && k->pods[i].svc == (int)svc && k->pods[i].idx == idx)
						pod = (int)i;
				if (pod < 0)
					continue; /* not running now: its next turn */
				fd_kube_pod_stop(k, pod, at, FD_STOP_DELETE);
				if (k->out.displaced) {
					int64_t back = at + 2 * K_NS + sc->services[svc].resources.startup_ns;
					k->out.displaced(k->out.ctx, (int)svc, idx, at, back < k->end ? back : INT64_MAX,
							 false);
				}
			}
		}
	}
}

void fd_kube_step(struct fd_kube *k, int64_t t)
{
	if (t <= k->last_step)
		return;
	k->last_step = t;
	const struct fd_cluster *cl = &k->sc->cluster;
	/* jobs with their own start */
	for (size_t i = 0; i < cl->n_workloads; i++) {
		const struct fd_workload *wd = &cl->workloads[i];
		if (wd->kind == FD_WORKLOAD_JOB && wd->start_ns != FD_FOREVER && k->start + wd->start_ns <= t &&
		    k->start + wd->start_ns > t - K_NS)
			start_job(k, k->wl_ctl[i], wd->node ? wd->node->id : -1, 0, 0, k->start + wd->start_ns,
				  wd->duration_ns);
	}
	for (size_t i = 0; i < k->n_pods; i++) {
		struct kube_pod *p = &k->pods[i];
		if (!p->bound)
			continue;
		if (p->ends_at <= t)
			end_job(k, p, p->ends_at);
	}
	for (size_t n = 0; n < k->n_nodes; n++) {
		struct kube_node *nd = &k->nodes[n];
		if (!nd->ready && !nd->evicted_lost && t >= nd->not_ready_at + 300 * K_NS) {
			nd->evicted_lost = true;
			evict_lost_pods(k, (int)n, nd->not_ready_at + 300 * K_NS);
		}
		if (!nd->ready && t >= nd->ready_again_at) {
			nd->ready = true;
			struct kobj o = node_obj(nd);
			k8s_event(k, nd->ready_again_at, &o, false, "NodeReady", "", 0,
				  "Node %s status is now: NodeReady", nd->name);
			nd->not_ready_at = nd->ready_again_at = INT64_MAX;
		}
		if (nd->ready)
			memory_pressure(k, (int)n, t);
	}
	if (k->churn_life > 0)
		churn(k, t);
}

void fd_kube_event(struct fd_kube *k, const struct fd_event *ev, int64_t t)
{
	switch (ev->kind) {
	case FD_EVENT_CO_TENANT:
		if (ev->workload && ev->node)
			start_job(k, k->wl_ctl[ev->workload->id], ev->node->id, ev->workload_cpu,
				  (double)ev->workload_memory, t, ev->duration_ns);
		break;
	case FD_EVENT_NODE_NOT_READY: {
		if (!ev->node)
			break;
		struct kube_node *n = &k->nodes[ev->node->id];
		if (!n->ready)
			break;
		n->ready = false;
		n->evicted_lost = false;
		n->not_ready_at = t;
		n->ready_again_at = ev->duration_ns == FD_FOREVER ? INT64_MAX : t + ev->duration_ns;
		node_lost(k, ev->node->id, t);
		break;
	}
	case FD_EVENT_CORDON: {
		if (!ev->node)
			break;
		struct kube_node *n = &k->nodes[ev->node->id];
		n->cordoned = true;
		struct kobj o = node_obj(n);
		o.host = "";
		k8s_event(k, t, &o, false, "NodeNotSchedulable", "", 0, "Node %s status is now: NodeNotSchedulable",
			  n->name);
		if (!ev->drain)
			break;
		int moved = 0, total = 0;
		for (size_t i = 0; i < k->n_pods; i++)
			total += k->pods[i].bound && k->pods[i].node == ev->node->id && k->pods[i].svc >= 0;
		for (size_t i = 0; i < k->n_pods; i++) {
			struct kube_pod *p = &k->pods[i];
			if (!p->bound || p->node != ev->node->id || p->svc < 0)
				continue;
			/* evicted one after the other, as kubectl drain does */
			int64_t at = t + (total > 0 ? ev->rollout_ns * moved / total : 0);
			moved++;
			/* the eviction deletes the pod (its kubelet says Killing);
			 * its ReplicaSet makes a new one elsewhere. displaced() adds
			 * pods: p is not used after it */
			int svc = p->svc, idx = p->idx;
			fd_kube_pod_stop(k, (int)i, at, FD_STOP_DELETE);
			if (k->out.displaced) {
				int64_t back = at + 2 * K_NS + k->sc->services[svc].resources.startup_ns;
				k->out.displaced(k->out.ctx, svc, idx, at, back < k->end ? back : INT64_MAX, false);
			}
		}
		break;
	}
	default:
		break;
	}
}

void fd_kube_undo(struct fd_kube *k, const struct fd_event *ev, int64_t t)
{
	if (ev->kind == FD_EVENT_CO_TENANT && ev->workload && ev->node) {
		/* the job is deleted: its pod on that node stops */
		int c = k->wl_ctl[ev->workload->id];
		for (size_t i = 0; i < k->n_pods; i++) {
			struct kube_pod *p = &k->pods[i];
			if (p->ctl == c && p->bound && p->node == ev->node->id && p->ends_at > t) {
				p->ends_at = t;
				p->deleted = true;
			}
		}
	} else if (ev->kind == FD_EVENT_NODE_NOT_READY && ev->node) {
		struct kube_node *n = &k->nodes[ev->node->id];
		if (!n->ready && n->ready_again_at > t)
			n->ready_again_at = t;
	}
}
