/*
 * The cluster's metrics, named, typed and attributed as the OpenTelemetry
 * collector's receivers emit them:
 *   - kubeletstats (receiver/kubeletstatsreceiver/metadata.yaml): node, pod
 *     and container CPU (usage in {cpu}, time in s) and memory (By), node
 *     network; resources k8s.node.name / k8s.pod.uid, k8s.pod.name,
 *     k8s.namespace.name / + k8s.container.name, container.id, with the
 *     attributes the k8sattributes processor adds in the same pipeline;
 *   - k8s_cluster (receiver/k8sclusterreceiver): pod phase, container
 *     restarts, readiness, requests and limits, deployment desired and
 *     available, DaemonSet and Job counts, node condition;
 *   - CPU throttling as the docker_stats receiver names the cgroup's
 *     counters (container.cpu.throttling_data.*): kubeletstats has none.
 * docs/infrastructure.md lists every name.
 *
 * The model. A node's CPU is the system's (kubelet, runtime, OS) plus its
 * pods'; its memory likewise, plus page cache. Service pods report what the
 * simulation measured (fd_kube_pod_usage); the other workloads follow their
 * declared use with a slow random walk. When the pods want more CPU than
 * the node has, every pod on it is stretched by demand / capacity (the
 * slowdown the simulation applies to the next interval's work). A
 * container near its CPU limit is throttled in a share of its 100 ms CFS
 * periods that grows with its use of the quota.
 */
#include "generator/cluster_internal.h"
#include "generator/infra_otlp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define M_GAUGE INFRA_GAUGE
#define M_COUNTER INFRA_COUNTER

/* One metric with one data point as a record. */
static void metric(struct fd_kube *k, int64_t t, const struct fd_blob *res, const struct fd_blob *scope,
		   const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		   double v, int64_t start, const struct infra_attr *attrs, size_t n_attrs)
{
	infra_metric_write(&k->w, t, name, desc, unit, type, is_int, v, start, attrs, n_attrs);
	kube_push(k, t, FD_SIGNAL_METRICS, res, scope, &k->w);
}

#define GAUGE_D(name, desc, unit, v) metric(k, ts, res, scope, name, desc, unit, M_GAUGE, false, v, 0, NULL, 0)
#define GAUGE_I(name, desc, unit, v) metric(k, ts, res, scope, name, desc, unit, M_GAUGE, true, v, 0, NULL, 0)

static double walk(struct fd_kube *k, double level, double pull, double step)
{
	level += (1 - level) * pull + step * fd_rng_normal(&k->rng);
	return level < 0.2 ? 0.2 : level > 3 ? 3 : level;
}

/* What the other workloads' pods used over the interval ending at t. */
static void workload_usage(struct fd_kube *k, int64_t t)
{
	for (size_t i = 0; i < k->n_pods; i++) {
		struct kube_pod *p = &k->pods[i];
		const struct kube_ctl *c = &k->ctls[p->ctl];
		if (p->svc >= 0 || !kube_pod_exists(p, t))
			continue;
		p->cpu_level = walk(k, p->cpu_level, 0.15, 0.06);
		double cpu = c->cpu * p->cpu_level, mem = c->mem * (0.97 + 0.06 * fd_rng_uniform(&k->rng));
		const struct kube_ctr *r = kube_ctr_at(p, t);
		if (c->kind == KK_JOB && r) {
			/* a batch job loads its data first: CPU and memory ramp
			 * up over its first minutes */
			double age = (double)(t - r->start) / 1e9;
			double f = age <= 0 ? 0 : fmin(1.0, age / 90);
			cpu = c->cpu * (0.92 + 0.08 * fd_rng_uniform(&k->rng)) * f;
			mem = c->mem * fmin(1.0, fmax(0.0, age) / 180) * (0.98 + 0.02 * fd_rng_uniform(&k->rng));
		}
		if (c->cpu_limit > 0 && cpu > c->cpu_limit)
			cpu = c->cpu_limit;
		bool up = r && t < r->end;
		p->cpu = up ? cpu : 0;
		p->mem = up ? mem : 0;
	}
}

static void node_load(struct fd_kube *k, int64_t t, int64_t interval)
{
	double secs = (double)interval / 1e9;
	for (size_t n = 0; n < k->n_nodes; n++) {
		struct kube_node *nd = &k->nodes[n];
		nd->sys_level = walk(k, nd->sys_level, 0.2, 0.08);
		double demand = k->sc->cluster.system_cpu * nd->sys_level, mem = (double)k->sc->cluster.system_memory;
		for (size_t i = 0; i < k->n_pods; i++) {
			const struct kube_pod *p = &k->pods[i];
			if (p->node == (int)n && kube_pod_exists(p, t)) {
				demand += p->cpu;
				mem += p->mem;
			}
		}
		nd->demand = demand;
		nd->used_mem = mem;
		/* oversubscribed: everyone gets cores / demand of what it wants */
		double busy = fmin(demand, nd->cores);
		nd->slowdown = demand > nd->cores ? demand / nd->cores : 1;
		nd->cpu_cum += busy * secs;
		nd->net_rx += secs * (2e5 + demand * 3.1e6) * (0.9 + 0.2 * fd_rng_uniform(&k->rng));
		nd->net_tx += secs * (1.5e5 + demand * 2.6e6) * (0.9 + 0.2 * fd_rng_uniform(&k->rng));
	}
}

static void node_metrics(struct fd_kube *k, struct kube_node *nd, int64_t ts)
{
	const struct fd_blob *res = nd->res, *scope = k->scope_kubelet;
	double cpu = fmin(nd->demand, nd->cores);
	/* page cache takes part of what the pods leave free */
	double cache = (nd->memory - nd->used_mem) * 0.22;
	if (cache < 0)
		cache = 0;
	GAUGE_D("k8s.node.cpu.usage", "Total CPU usage (sum of all cores per second) averaged over the sample window",
		"{cpu}", cpu);
	metric(k, ts, res, scope, "k8s.node.cpu.time",
	       "Total cumulative CPU time (sum of all cores) spent by the container/pod/node since its creation", "s",
	       M_COUNTER, false, nd->cpu_cum, k->start - 86400 * K_NS, NULL, 0);
	GAUGE_I("k8s.node.memory.usage", "Node memory usage", "By", nd->used_mem + cache);
	GAUGE_I("k8s.node.memory.working_set", "Node memory working_set", "By", nd->used_mem);
	GAUGE_I("k8s.node.memory.rss", "Node memory rss", "By", nd->used_mem * 0.86);
	GAUGE_I("k8s.node.memory.available", "Node memory available", "By", fmax(0, nd->memory - nd->used_mem));
	struct infra_attr rx[] = {{.k = "interface", .v = "eth0"}, {.k = "direction", .v = "receive"}};
	struct infra_attr tx[] = {{.k = "interface", .v = "eth0"}, {.k = "direction", .v = "transmit"}};
	struct infra_point io[] = {{rx, 2, nd->net_rx}, {tx, 2, nd->net_tx}};
	infra_metric_points(&k->w, ts, "k8s.node.network.io", "Node network IO", "By", M_COUNTER, true,
			    k->start - 86400 * K_NS, io, 2);
	kube_push(k, ts, FD_SIGNAL_METRICS, res, scope, &k->w);
}

/* The share of 100 ms periods in which a container at u of its CPU limit
 * hits the quota: requests come in bursts, so throttling starts well below
 * 100% on average. */
static double throttled_share(double u)
{
	if (u <= 0.45)
		return 0;
	double x = fmin(1.0, (u - 0.45) / 0.55);
	return x * x;
}

static void pod_metrics(struct fd_kube *k, struct kube_pod *p, int64_t t, int64_t ts, double secs)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	const struct fd_service *s = c->svc >= 0 ? &k->sc->services[c->svc] : NULL;
	double limit = s ? s->resources.cpu_cores : c->cpu_limit;
	double mem_limit = s ? (double)s->resources.memory_limit : c->mem_limit;
	struct kube_ctr *r = kube_ctr_at(p, t);
	bool up = r && t < r->end;
	/* on an oversubscribed node a pod gets cores / demand of what it
	 * wants: the node's pods never add up to more than its cores */
	double share = p->node >= 0 ? k->nodes[p->node].slowdown : 1;
	double cpu = up ? p->cpu / share : 0, mem = up ? p->mem : 0;
	p->pod_cpu_cum += cpu * secs;
	const struct fd_blob *res = p->res_pod, *scope = k->scope_kubelet;
	const char *usage_desc = "Total CPU usage (sum of all cores per second) averaged over the sample window";
	const char *time_desc = "Total cumulative CPU time (sum of all cores) spent by the container/pod/node since its creation";
	GAUGE_D("k8s.pod.cpu.usage", usage_desc, "{cpu}", cpu);
	metric(k, ts, res, scope, "k8s.pod.cpu.time", time_desc, "s", M_COUNTER, false, p->pod_cpu_cum,
	       p->created, NULL, 0);
	GAUGE_I("k8s.pod.memory.usage", "Pod memory usage", "By", mem * 1.08);
	GAUGE_I("k8s.pod.memory.working_set", "Pod memory working_set", "By", mem);
	if (limit > 0)
		GAUGE_D("k8s.pod.cpu_limit_utilization",
			"Pod cpu utilization as a ratio of the pod's total container limits. If any container is missing a limit the metric is not emitted.",
			"1", cpu / limit);
	if (mem_limit > 0)
		GAUGE_D("k8s.pod.memory_limit_utilization",
			"Pod memory utilization as a ratio of the pod's total container limits. If any container is missing a limit the metric is not emitted.",
			"1", mem / mem_limit);
	if (!up)
		return;
	r->cpu_cum += cpu * secs;
	res = r->res;
	GAUGE_D("container.cpu.usage", usage_desc, "{cpu}", cpu);
	metric(k, ts, res, scope, "container.cpu.time", time_desc, "s", M_COUNTER, false, r->cpu_cum, r->start,
	       NULL, 0);
	GAUGE_I("container.memory.usage", "Container memory usage", "By", mem * 1.08);
	GAUGE_I("container.memory.working_set", "Container memory working_set", "By", mem);
	GAUGE_I("container.memory.rss", "Container memory rss", "By", mem * 0.93);
	if (limit > 0) {
		/* the node's contention throttles too: work that waits for a
		 * core burns its quota later, in bursts */
		double u = cpu / limit * share;
		double periods = secs * 10, thr = periods * throttled_share(u);
		/* the next interval's readiness probes meet the same contention */
		kube_busy_probes(k, p, t, t + (int64_t)(secs * K_NS), throttled_share(u));
		r->periods += periods;
		r->throttled += thr;
		r->throttled_ns += thr * 1e8 * (0.15 + 0.5 * fmin(1.0, u));
		metric(k, ts, res, scope, "container.cpu.throttling_data.periods", "Number of periods with throttling active.",
		       "{periods}", M_COUNTER, true, r->periods, r->start, NULL, 0);
		metric(k, ts, res, scope, "container.cpu.throttling_data.throttled_periods",
		       "Number of periods when the container hits its throttling limit.", "{periods}", M_COUNTER,
		       true, r->throttled, r->start, NULL, 0);
		metric(k, ts, res, scope, "container.cpu.throttling_data.throttled_time",
		       "Aggregate time the container was throttled.", "ns", M_COUNTER, true, r->throttled_ns,
		       r->start, NULL, 0);
	}
}

static void cluster_pod_metrics(struct fd_kube *k, const struct kube_pod *p, int64_t t, int64_t ts)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	const struct fd_service *s = c->svc >= 0 ? &k->sc->services[c->svc] : NULL;
	const struct fd_blob *res = p->res_cluster_pod, *scope = k->scope_cluster;
	const struct kube_ctr *r = kube_ctr_at(p, t);
	GAUGE_I("k8s.pod.phase", "Current phase of the pod (1 - Pending, 2 - Running, 3 - Succeeded, 4 - Failed, 5 - Unknown)",
		"", r ? KP_RUNNING : KP_PENDING);
	if (!r)
		r = &p->ctrs[0];
	res = r->res_cluster;
	GAUGE_I("k8s.container.restarts",
		"How many times the container has restarted in the recent past. This value is pulled directly from the K8s API and the value can go indefinitely high and be reset to 0 at any time depending on how your kubelet is configured to prune dead containers. It is best to not depend too much on the exact value but rather look at it as either == 0, in which case you can conclude there were no restarts in the recent past, or > 0, in which case you can conclude there were restarts in the recent past, and not try and analyze the value beyond that.",
		"{restart}", (double)(r - p->ctrs));
	GAUGE_I("k8s.container.ready", "Whether a container has passed its readiness probe (0 for no, 1 for yes)", "",
		t >= r->start && t < r->end);
	const char *see = "Resource requested for the container. See https://kubernetes.io/docs/reference/generated/kubernetes-api/v1.23/#resourcerequirements-v1-core for details";
	const char *lim = "Maximum resource limit set for the container. See https://kubernetes.io/docs/reference/generated/kubernetes-api/v1.23/#resourcerequirements-v1-core for details";
	double cpu_req = s ? fmax(0.1, s->resources.cpu_cores / 2) : c->cpu_request;
	double cpu_lim = s ? s->resources.cpu_cores : c->cpu_limit;
	double mem_lim = s ? (double)s->resources.memory_limit : c->mem_limit;
	double mem_req = s ? (mem_lim > 0 ? mem_lim : 1.5 * (double)s->resources.memory_baseline) : c->mem_request;
	if (cpu_req > 0)
		GAUGE_D("k8s.container.cpu_request", see, "{cpu}", cpu_req);
	if (cpu_lim > 0)
		GAUGE_D("k8s.container.cpu_limit", lim, "{cpu}", cpu_lim);
	if (mem_req > 0)
		GAUGE_I("k8s.container.memory_request", see, "By", mem_req);
	if (mem_lim > 0)
		GAUGE_I("k8s.container.memory_limit", lim, "By", mem_lim);
}

static void controller_metrics(struct fd_kube *k, struct kube_ctl *c, int64_t t, int64_t ts)
{
	const struct fd_blob *scope = k->scope_cluster;
	if (!c->res_cluster) {
		struct pbw *w = &k->aux;
		pbw_reset(w);
		otlp_attr_str(w, 1, "k8s.namespace.name", c->namespace);
		const char *kind = c->kind == KK_JOB ? "job" : c->kind == KK_DAEMONSET ? "daemonset" : "deployment";
		char key[48];
		snprintf(key, sizeof(key), "k8s.%s.name", kind);
		otlp_attr_str(w, 1, key, c->name);
		snprintf(key, sizeof(key), "k8s.%s.uid", kind);
		otlp_attr_str(w, 1, key, c->uid);
		c->res_cluster = kube_intern(k, w);
	}
	const struct fd_blob *res = c->res_cluster;
	int running = 0, ready = 0, done = 0, failed = 0;
	for (size_t i = 0; i < k->n_pods; i++) {
		const struct kube_pod *p = &k->pods[i];
		if (k->ctls + p->ctl != c || p->node < 0 || p->created > t)
			continue;
		if (kube_pod_exists(p, t)) {
			const struct kube_ctr *r = kube_ctr_at(p, t);
			running++;
			ready += r && t < r->end && kube_node_ready_at(&k->nodes[p->node], t);
		} else {
			done += p->end_phase == KP_SUCCEEDED;
			failed += p->end_phase == KP_FAILED;
		}
	}
	if (c->kind == KK_DEPLOYMENT) {
		int desired = c->desired;
		if (c->svc >= 0) /* scale-outs: as many as the simulation runs */
			desired = running > desired ? running : desired;
		GAUGE_I("k8s.deployment.desired", "Number of desired pods in this deployment", "{pod}", desired);
		GAUGE_I("k8s.deployment.available",
			"Total number of available pods (ready for at least minReadySeconds) targeted by this deployment",
			"{pod}", ready);
	} else if (c->kind == KK_DAEMONSET) {
		GAUGE_I("k8s.daemonset.desired_scheduled_nodes",
			"Number of nodes that should be running the daemon pod (including nodes currently running the daemon pod)",
			"{node}", (double)k->n_nodes);
		GAUGE_I("k8s.daemonset.current_scheduled_nodes",
			"Number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod",
			"{node}", running);
		GAUGE_I("k8s.daemonset.ready_nodes",
			"Number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready",
			"{node}", ready);
		GAUGE_I("k8s.daemonset.misscheduled_nodes",
			"Number of nodes that are running the daemon pod, but are not supposed to run the daemon pod",
			"{node}", 0);
	} else if (running + done + failed > 0) {
		GAUGE_I("k8s.job.active_pods", "The number of actively running pods for a job", "{pod}", running);
		GAUGE_I("k8s.job.successful_pods", "The number of pods which reached phase Succeeded for a job", "{pod}", done);
		GAUGE_I("k8s.job.failed_pods", "The number of pods which reached phase Failed for a job", "{pod}", failed);
		GAUGE_I("k8s.job.desired_successful_pods",
			"The desired number of successfully finished pods the job should be run with", "{pod}", 1);
		GAUGE_I("k8s.job.max_parallel_pods", "The max desired number of pods the job should run at any given time",
			"{pod}", 1);
	}
}

void kube_metrics_scrape(struct fd_kube *k, int64_t t, int64_t interval)
{
	double secs = (double)interval / 1e9;
	workload_usage(k, t);
	node_load(k, t, interval);
	/* each receiver scrapes on its own clock: a little after the
	 * services' interval ends */
	int64_t kubelet = t + 1700 * K_MS + (int64_t)(fd_rng_uniform(&k->rng) * 400 * K_MS);
	int64_t cluster = t + 4100 * K_MS + (int64_t)(fd_rng_uniform(&k->rng) * 300 * K_MS);
	bool on = k->sc->cluster.telemetry && cluster + 10 * K_MS < k->end;
	for (size_t n = 0; on && n < k->n_nodes; n++) {
		struct kube_node *nd = &k->nodes[n];
		bool ready = kube_node_ready_at(nd, t);
		if (ready)
			node_metrics(k, nd, kubelet);
		int64_t ts = cluster;
		const struct fd_blob *res = nd->res_cluster, *scope = k->scope_cluster;
		struct infra_attr a[] = {{.k = "condition", .v = "Ready"}};
		metric(k, ts, res, scope, "k8s.node.condition", "The condition of a particular Node.", "{condition}",
		       M_GAUGE, true, ready, 0, a, 1);
	}
	for (size_t i = 0; i < k->n_pods; i++) {
		struct kube_pod *p = &k->pods[i];
		if (on && kube_pod_exists(p, t)) {
			/* no kubelet, no stats: a NotReady node reports nothing */
			if (kube_node_ready_at(&k->nodes[p->node], t))
				pod_metrics(k, p, t, kubelet, secs);
			cluster_pod_metrics(k, p, t, cluster);
		}
		p->reported = false;
	}
	for (size_t c = 0; on && c < k->n_ctls; c++)
		controller_metrics(k, &k->ctls[c], t, cluster + 2 * K_MS);
}
