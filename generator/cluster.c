/*
 * The cluster model: nodes, controllers (the services' Deployments and the
 * other workloads), ReplicaSets, pods and the scheduler. What happens to
 * them over time and through the scenario's triggers is cluster_time.c's,
 * the Kubernetes events and readiness probes cluster_events.c's, the
 * metrics of this state infra_metrics.c's.
 *
 * Events. The collector's k8sevents receiver turns each core/v1 Event into
 * one log record: the body is the event's message, the severity its type
 * (Normal: INFO, Warning: WARN), the resource names the involved object
 * (k8s.object.kind/name/uid/fieldpath/api_version/resource_version) and the
 * node the event came from, the attributes carry k8s.event.reason, action,
 * start_time, name, uid, count and the object's namespace
 * (receiver/k8seventsreceiver/k8s_event_to_logdata.go). The messages are
 * the kubelet's, the scheduler's and the controllers' own wording.
 *
 * Randomness comes from the cluster's own stream (seeded from the seed), so
 * that the services' draws are the same with or without the cluster's
 * signals; names that must not repeat across scenarios (pod-template
 * hashes) hash the scenario's name and the seed.
 */
#include "generator/cluster_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/hash.h"
#include "generator/infra_otlp.h"

static const char k8s_alnum[] = "bcdfghjklmnpqrstvwxz2456789"; /* k8s.io/apimachinery rand */

/* ---- ids ------------------------------------------------------------------- */

static void rand_alnum(struct fd_kube *k, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = k8s_alnum[fd_rng_below(&k->rng, sizeof(k8s_alnum) - 1)];
	out[n] = '\0';
}

void kube_rand_hex(struct fd_rng *rng, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = "0123456789abcdef"[fd_rng_below(rng, 16)];
	out[n] = '\0';
}

/* A version 4 UUID, as the API server makes for every object. */
void kube_rand_uuid(struct fd_rng *rng, char *out)
{
	kube_rand_hex(rng, out, 36);
	out[8] = out[13] = out[18] = out[23] = '-';
	out[14] = '4';
	out[19] = "89ab"[fd_rng_below(rng, 4)];
}

/* The pod-template-hash: a hash of the template, spelled with the safe
 * alphabet (10 characters, as the deployment controller's are). It hashes
 * the scenario's name and the seed, so two scenarios never share pods. */
static void template_hash(const struct fd_kube *k, const struct kube_ctl *c, char *out)
{
	char key[512];
	int n = snprintf(key, sizeof(key), "%s/%" PRIu64 "/%s/%s/%d/%s", k->sc->name, k->seed,
			 c->namespace, c->name, c->generation, c->tag ? c->tag : "");
	uint64_t h = fd_hash64(key, (size_t)(n > 0 ? n : 0));
	for (int i = 0; i < 10; i++) {
		out[i] = k8s_alnum[h % (sizeof(k8s_alnum) - 1)];
		h /= sizeof(k8s_alnum) - 1;
		if (i == 5) /* 64 bits give 13 letters; mix again for the rest */
			h ^= fd_hash64(out, 6);
	}
	out[10] = '\0';
}

/* ---- records ---------------------------------------------------------------- */

const struct fd_blob *kube_intern(struct fd_kube *k, struct pbw *w)
{
	if (w->oom) {
		k->oom = true;
		return NULL;
	}
	const struct fd_blob *b = fd_intern_add(k->blobs, w->buf, w->len);
	if (!b)
		k->oom = true;
	return b;
}

void kube_push(struct fd_kube *k, int64_t t, enum fd_signal sig, const struct fd_blob *res,
	       const struct fd_blob *scope, struct pbw *w)
{
	if (!res || k->oom || w->oom) {
		k->oom = true;
		return;
	}
	k->out.push(k->out.ctx, t, sig, res, scope, w);
}

static const struct fd_blob *make_scope(struct fd_kube *k, const char *receiver)
{
	infra_scope_write(&k->aux, receiver);
	return kube_intern(k, &k->aux);
}

/* ---- growth ------------------------------------------------------------------ */

static bool room(struct fd_kube *k, void **v, size_t *cap, size_t n, size_t size)
{
	if (fd_grow(v, cap, n, size))
		return true;
	k->oom = true;
	return false;
}

/* ---- controllers and ReplicaSets --------------------------------------------- */

static int add_ctl(struct fd_kube *k, enum kube_kind kind, const char *name, const char *ns,
		   const char *container, const char *image)
{
	if (!room(k, (void **)&k->ctls, &k->cap_ctls, k->n_ctls, sizeof(*k->ctls)))
		return -1;
	struct kube_ctl *c = &k->ctls[k->n_ctls];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->name = name;
	c->namespace = ns;
	c->container = container;
	c->image = image;
	c->svc = c->wl = -1;
	c->rs = c->old_rs = -1;
	kube_rand_uuid(&k->rng, c->uid);
	return (int)k->n_ctls++;
}

static int new_rs(struct fd_kube *k, int ctl, const char *tag)
{
	if (!room(k, (void **)&k->rs, &k->cap_rs, k->n_rs, sizeof(*k->rs)))
		return -1;
	struct kube_ctl *c = &k->ctls[ctl];
	c->generation++;
	c->tag = tag;
	struct kube_rs *r = &k->rs[k->n_rs];
	memset(r, 0, sizeof(*r));
	r->ctl = ctl;
	r->tag = tag;
	template_hash(k, c, r->hash);
	snprintf(r->name, sizeof(r->name), "%s-%s", c->name, r->hash);
	kube_rand_uuid(&k->rng, r->uid);
	return (int)k->n_rs++;
}

/* ---- nodes ------------------------------------------------------------------- */

static double svc_cpu_request(const struct fd_service *s)
{
	double r = s->resources.cpu_cores / 2;
	return r < 0.1 ? 0.1 : r;
}

static double svc_mem_request(const struct fd_service *s)
{
	const struct fd_resources *r = &s->resources;
	return r->memory_limit > 0 ? (double)r->memory_limit : 1.5 * (double)r->memory_baseline;
}

static int make_nodes(struct fd_kube *k)
{
	const struct fd_cluster *cl = &k->sc->cluster;
	size_t n = cl->n_nodes;
	if (n == 0) {
		/* a pool sized so the services fill about half of it */
		double cpu = 0, mem = 0;
		for (size_t i = 0; i < k->sc->n_services; i++) {
			const struct fd_service *s = &k->sc->services[i];
			int inst = fd_scenario_max_instances(k->sc, s);
			cpu += inst * svc_cpu_request(s);
			mem += inst * svc_mem_request(s);
		}
		n = (size_t)cl->pool_nodes;
		if (n == 0) {
			double by_cpu = ceil(cpu / (cl->pool_cores * 0.5));
			double by_mem = ceil(mem / ((double)cl->pool_memory * 0.5));
			n = (size_t)fmax(3, fmax(by_cpu, by_mem));
			if (n > 200)
				n = 200;
		}
	}
	k->nodes = calloc(n, sizeof(*k->nodes));
	if (!k->nodes)
		return -1;
	k->n_nodes = n;
	int subnet = 1 + (int)fd_rng_below(&k->rng, 3) * 16;
	for (size_t i = 0; i < n; i++) {
		struct kube_node *nd = &k->nodes[i];
		if (cl->n_nodes) {
			const struct fd_node *d = &cl->nodes[i];
			snprintf(nd->name, sizeof(nd->name), "%s", d->name);
			nd->cores = d->cores;
			nd->memory = (double)d->memory;
			nd->zone = d->zone;
			nd->decl = d->id;
		} else {
			/* EKS-style names: the node's private address */
			bool dup;
			do {
				int a = subnet + (int)fd_rng_below(&k->rng, 48), b = 4 + (int)fd_rng_below(&k->rng, 250);
				snprintf(nd->name, sizeof(nd->name), "ip-10-0-%d-%d.ec2.internal", a, b);
				dup = false;
				for (size_t j = 0; j < i; j++)
					dup = dup || strcmp(k->nodes[j].name, nd->name) == 0;
			} while (dup);
			nd->cores = cl->pool_cores;
			nd->memory = (double)cl->pool_memory;
			nd->decl = -1;
		}
		kube_rand_uuid(&k->rng, nd->uid);
		nd->ready = true;
		nd->not_ready_at = nd->ready_again_at = INT64_MAX;
		nd->slowdown = 1;
		nd->sys_level = 1;
		nd->last_pressure = INT64_MIN / 2;
		/* booted hours to weeks ago */
		nd->cpu_cum = (3600 + fd_rng_uniform(&k->rng) * 20 * 86400) * 0.3 * nd->cores;
		nd->net_rx = nd->cpu_cum * 4e6;
		nd->net_tx = nd->cpu_cum * 3e6;
		struct pbw *w = &k->aux;
		pbw_reset(w);
		otlp_attr_str(w, 1, "k8s.node.name", nd->name);
		nd->res = kube_intern(k, w);
		otlp_attr_str(w, 1, "k8s.node.uid", nd->uid);
		nd->res_cluster = kube_intern(k, w);
	}
	return k->oom ? -1 : 0;
}

/* ---- pods ------------------------------------------------------------------- */

static double ctl_cpu_request(const struct fd_kube *k, const struct kube_ctl *c)
{
	return c->svc >= 0 ? svc_cpu_request(&k->sc->services[c->svc]) : c->cpu_request;
}

double kube_ctl_mem_request(const struct fd_kube *k, const struct kube_ctl *c)
{
	return c->svc >= 0 ? svc_mem_request(&k->sc->services[c->svc]) : c->mem_request;
}

static void bind(struct fd_kube *k, struct kube_pod *p, int node)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	p->node = node;
	p->bound = true;
	kube_pod_ip(k, p);
	k->nodes[node].req_cpu += ctl_cpu_request(k, c);
	k->nodes[node].req_mem += kube_ctl_mem_request(k, c);
}

static void unbind(struct fd_kube *k, struct kube_pod *p)
{
	if (!p->bound)
		return;
	const struct kube_ctl *c = &k->ctls[p->ctl];
	p->bound = false;
	k->nodes[p->node].req_cpu -= ctl_cpu_request(k, c);
	k->nodes[p->node].req_mem -= kube_ctl_mem_request(k, c);
}

/* The default scheduler, deterministically: nodes that are ready, not
 * cordoned and have room for the requests; fewest pods of the same
 * controller first (spreading), then least allocated; a hash of the names
 * breaks ties. *why_not counts the reasons when nothing fits. */
static int pick_node(struct fd_kube *k, const struct kube_pod *p, int pinned, int why_not[3])
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	double rc = ctl_cpu_request(k, c), rm = kube_ctl_mem_request(k, c);
	if (pinned >= 0 && k->nodes[pinned].ready && !k->nodes[pinned].cordoned)
		return pinned;
	int best = -1;
	double best_score = -INFINITY;
	why_not[0] = why_not[1] = why_not[2] = 0;
	for (size_t i = 0; i < k->n_nodes; i++) {
		const struct kube_node *n = &k->nodes[i];
		if (!n->ready) {
			why_not[2]++;
			continue;
		}
		if (n->cordoned) {
			why_not[1]++;
			continue;
		}
		if (n->req_cpu + rc > n->cores * 0.95 || n->req_mem + rm > n->memory * 0.92) {
			why_not[0]++;
			continue;
		}
		int same = 0;
		for (size_t j = 0; j < k->n_pods; j++)
			same += k->pods[j].bound && k->pods[j].node == (int)i && k->pods[j].ctl == p->ctl;
		char key[300];
		int len = snprintf(key, sizeof(key), "%s/%s", p->name, n->name);
		double tie = (double)(fd_hash64(key, (size_t)len) >> 11) * 0x1.0p-53;
		double score = -100.0 * same - 10 * (n->req_cpu + rc) / n->cores -
			       10 * (n->req_mem + rm) / n->memory + tie;
		if (score > best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	return best;
}

int kube_new_pod(struct fd_kube *k, int ctl, int rs)
{
	if (!room(k, (void **)&k->pods, &k->cap_pods, k->n_pods, sizeof(*k->pods)))
		return -1;
	struct kube_pod *p = &k->pods[k->n_pods];
	memset(p, 0, sizeof(*p));
	const struct kube_ctl *c = &k->ctls[ctl];
	p->ctl = ctl;
	p->rs = rs;
	p->node = -1;
	p->svc = p->idx = -1;
	p->tag = rs >= 0 ? k->rs[rs].tag : c->tag;
	p->ended_at = p->ends_at = INT64_MAX;
	p->cpu_level = 1;
	char sfx[8];
	rand_alnum(k, sfx, 5);
	if (rs >= 0)
		snprintf(p->name, sizeof(p->name), "%s-%s", k->rs[rs].name, sfx);
	else
		snprintf(p->name, sizeof(p->name), "%s-%s", c->name, sfx);
	kube_rand_uuid(&k->rng, p->uid);
	return (int)k->n_pods++;
}

/* A pod's kubeletstats resource: its identity and what the k8sattributes
 * processor adds in the same pipeline. */
static void kubelet_pod_attrs(const struct fd_kube *k, const struct kube_pod *p, struct pbw *w)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	otlp_attr_str(w, 1, "k8s.pod.uid", p->uid);
	otlp_attr_str(w, 1, "k8s.pod.name", p->name);
	otlp_attr_str(w, 1, "k8s.namespace.name", c->namespace);
	otlp_attr_str(w, 1, "k8s.node.name", p->node >= 0 ? k->nodes[p->node].name : "");
	if (c->kind == KK_DEPLOYMENT) {
		otlp_attr_str(w, 1, "k8s.deployment.name", c->name);
		if (p->rs >= 0)
			otlp_attr_str(w, 1, "k8s.replicaset.name", k->rs[p->rs].name);
	} else {
		otlp_attr_str(w, 1, c->kind == KK_DAEMONSET ? "k8s.daemonset.name" : "k8s.job.name", c->name);
	}
}

/* A pod's k8s_cluster resource: the pod object. */
static void cluster_pod_attrs(const struct fd_kube *k, const struct kube_pod *p, struct pbw *w)
{
	otlp_attr_str(w, 1, "k8s.namespace.name", k->ctls[p->ctl].namespace);
	otlp_attr_str(w, 1, "k8s.node.name", p->node >= 0 ? k->nodes[p->node].name : "");
	otlp_attr_str(w, 1, "k8s.pod.name", p->name);
	otlp_attr_str(w, 1, "k8s.pod.uid", p->uid);
}

static void pod_resources(struct fd_kube *k, struct kube_pod *p)
{
	struct pbw *w = &k->aux;
	pbw_reset(w);
	kubelet_pod_attrs(k, p, w);
	p->res_pod = kube_intern(k, w);
	pbw_reset(w);
	cluster_pod_attrs(k, p, w);
	p->res_cluster_pod = kube_intern(k, w);
}

/* A new container of the pod, running from start: a new container.id. */
static struct kube_ctr *add_ctr(struct fd_kube *k, struct kube_pod *p, int64_t start)
{
	if (!room(k, (void **)&p->ctrs, &p->cap_ctrs, p->n_ctrs, sizeof(*p->ctrs)))
		return NULL;
	struct kube_ctr *r = &p->ctrs[p->n_ctrs++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = INT64_MAX;
	kube_rand_hex(&k->rng, r->id, 64);
	const struct kube_ctl *c = &k->ctls[p->ctl];
	struct pbw *w = &k->aux;
	pbw_reset(w);
	kubelet_pod_attrs(k, p, w);
	otlp_attr_str(w, 1, "k8s.container.name", c->container);
	otlp_attr_str(w, 1, "container.id", r->id);
	r->res = kube_intern(k, w);
	pbw_reset(w);
	cluster_pod_attrs(k, p, w);
	otlp_attr_str(w, 1, "container.id", r->id);
	otlp_attr_str(w, 1, "container.image.name", c->image);
	otlp_attr_str(w, 1, "container.image.tag", p->tag ? p->tag : "latest");
	otlp_attr_str(w, 1, "k8s.container.name", c->container);
	r->res_cluster = kube_intern(k, w);
	return r;
}

/* The pod leaves the API at t (its container stops then too). */
void kube_pod_end(struct fd_kube *k, struct kube_pod *p, int64_t t, enum kube_phase phase)
{
	p->ended_at = t;
	p->end_phase = phase;
	if (p->n_ctrs && p->ctrs[p->n_ctrs - 1].end > t)
		p->ctrs[p->n_ctrs - 1].end = t;
	unbind(k, p);
}

/* Has the node run this image before (its layers are cached)? */
static bool image_cached(const struct fd_kube *k, int node, const struct kube_pod *p)
{
	for (size_t i = 0; i < k->n_pods; i++) {
		const struct kube_pod *q = &k->pods[i];
		if (q != p && q->node == node && q->ctl == p->ctl && q->tag == p->tag &&
		    (q->tag == NULL || strcmp(q->tag, p->tag) == 0) && q->created < p->created)
			return true;
	}
	return false;
}

/* The events of a pod's start, Scheduled to Started, backwards from when
 * its container starts (started); never before floor. */
static void start_events(struct fd_kube *k, struct kube_pod *p, int64_t started, int64_t floor,
			 int why_not[3], bool failed_first)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	char image[320];
	snprintf(image, sizeof(image), "%s:%s", c->image, p->tag ? p->tag : "latest");
	bool cached = image_cached(k, p->node, p);
	int64_t create = (int64_t)((0.05 + 0.25 * fd_rng_uniform(&k->rng)) * K_NS);
	int64_t pull = cached ? 0 : (int64_t)((1.2 + 6 * fd_rng_uniform(&k->rng)) * K_NS);
	int64_t sched = (int64_t)((0.02 + 0.4 * fd_rng_uniform(&k->rng)) * K_NS);
	int64_t t_created = started - create, t_pulling = t_created - pull - 30 * K_MS;
	int64_t t_sched = t_pulling - sched;
	if (t_sched < floor) { /* squeeze into the time there is */
		int64_t room = started - floor;
		double f = room > 0 ? (double)room / (double)(started - t_sched) : 0;
		t_sched = started - (int64_t)((double)(started - t_sched) * f);
		t_pulling = started - (int64_t)((double)(started - t_pulling) * f);
		t_created = started - (int64_t)((double)(started - t_created) * f);
	}
	p->created = t_sched - 3 * K_MS;
	struct kobj o = pod_obj(k, p, false), oc = pod_obj(k, p, true);
	if (failed_first) {
		int n = (int)k->n_nodes;
		char why[256] = "";
		size_t len = 0;
		static const char *const reasons[3] = {"Insufficient cpu", "node(s) were unschedulable",
						       "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"};
		for (int r = 0; r < 3; r++)
			if (why_not[r] && len < sizeof(why))
				len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%d %s", len ? ", " : "",
							why_not[r], reasons[r]);
		k8s_event(k, t_sched - 40 * K_NS > floor ? t_sched - 40 * K_NS : floor, &o, true,
			  "FailedScheduling", "Scheduling", 0,
			  "0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d No preemption victims found for incoming pod.",
			  n, why, n, n);
	}
	k8s_event(k, t_sched, &o, false, "Scheduled", "Binding", 0, "Successfully assigned %s/%s to %s",
		  c->namespace, p->name, k->nodes[p->node].name);
	if (cached) {
		k8s_event(k, t_created - 10 * K_MS, &oc, false, "Pulled", "", 0,
			  "Container image \"%s\" already present on machine", image);
	} else {
		double secs = (double)(t_created - t_pulling) / 1e9;
		k8s_event(k, t_pulling, &oc, false, "Pulling", "", 0, "Pulling image \"%s\"", image);
		k8s_event(k, t_created - 10 * K_MS, &oc, false, "Pulled", "", 0,
			  "Successfully pulled image \"%s\" in %.3fs (%.3fs including waiting). Image size: %" PRIu64 " bytes.",
			  image, secs * 0.93, secs, (uint64_t)(60e6 + fd_rng_uniform(&k->rng) * 400e6));
	}
	k8s_event(k, t_created, &oc, false, "Created", "", 0, "Created container: %s", c->container);
	k8s_event(k, started, &oc, false, "Started", "", 0, "Started container %s", c->container);
}

/* Places pod on a node (or, when none fits, has the cluster autoscaler add
 * one) and emits its start for a container starting at started. */
void kube_schedule(struct fd_kube *k, int pod, int pinned, int64_t started, int64_t floor)
{
	int why_not[3];
	struct kube_pod *p = &k->pods[pod];
	int node = pick_node(k, p, pinned, why_not);
	bool failed = node < 0;
	if (failed) {
		/* nothing fits: the least requested ready node takes it (as if
		 * the autoscaler had made room there) after FailedScheduling */
		double best = INFINITY;
		for (size_t i = 0; i < k->n_nodes; i++)
			if (k->nodes[i].ready && k->nodes[i].req_cpu / k->nodes[i].cores < best) {
				best = k->nodes[i].req_cpu / k->nodes[i].cores;
				node = (int)i;
			}
		if (node < 0)
			node = 0;
	}
	bind(k, p, node);
	pod_resources(k, p);
	add_ctr(k, p, started);
	start_events(k, p, started, floor, why_not, failed);
}

/* A pod that was running before the scenario: bound, no events. */
static int initial_pod(struct fd_kube *k, int ctl, int rs, int pinned)
{
	int id = kube_new_pod(k, ctl, rs);
	if (id < 0)
		return -1;
	struct kube_pod *p = &k->pods[id];
	int why_not[3];
	int node = pick_node(k, p, pinned, why_not);
	if (node < 0) { /* a made-up pool always fits; a declared one may not */
		node = 0;
		for (size_t i = 1; i < k->n_nodes; i++)
			if (k->nodes[i].req_cpu / k->nodes[i].cores < k->nodes[node].req_cpu / k->nodes[node].cores)
				node = (int)i;
	}
	bind(k, p, node);
	/* started hours to days ago */
	p->created = k->start - (int64_t)((2 + fd_rng_uniform(&k->rng) * 200) * 3600 * K_NS);
	pod_resources(k, p);
	struct kube_ctr *r = add_ctr(k, p, p->created + 20 * K_NS);
	if (r)
		p->pod_cpu_cum = r->cpu_cum = fd_rng_uniform(&k->rng) * 3600;
	return k->oom ? -1 : id;
}

/* ---- the public API ------------------------------------------------------------ */

static const char *intern_str(struct fd_kube *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strings the cluster makes up live in the intern table, like resources. */
static const char *intern_str(struct fd_kube *k, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const struct fd_blob *b = fd_intern_add(k->blobs, (const uint8_t *)buf, (size_t)n + 1);
	if (!b) {
		k->oom = true;
		return "";
	}
	return (const char *)b->data;
}

static int add_workload(struct fd_kube *k, const struct fd_workload *wd, int wl_index)
{
	enum kube_kind kind = wd->kind == FD_WORKLOAD_DAEMONSET ? KK_DAEMONSET
			      : wd->kind == FD_WORKLOAD_JOB ? KK_JOB : KK_DEPLOYMENT;
	const char *image = wd->image ? wd->image : intern_str(k, "%s/%s/%s", "registry.internal", wd->namespace, wd->name);
	char tag_buf[32];
	snprintf(tag_buf, sizeof(tag_buf), "%d.%d.%d", 1 + (int)fd_rng_below(&k->rng, 4),
		 (int)fd_rng_below(&k->rng, 30), (int)fd_rng_below(&k->rng, 12));
	const char *tag = intern_str(k, "%s", tag_buf);
	const char *colon = wd->image ? strrchr(wd->image, ':') : NULL;
	if (colon && !strchr(colon, '/')) {
		image = intern_str(k, "%.*s", (int)(colon - wd->image), wd->image);
		tag = intern_str(k, "%s", colon + 1);
	}
	int c = add_ctl(k, kind, wd->name, wd->namespace, wd->container, image);
	if (c < 0)
		return -1;
	struct kube_ctl *ctl = &k->ctls[c];
	ctl->wl = wl_index;
	ctl->tag = tag;
	ctl->cpu = wd->cpu;
	ctl->mem = (double)wd->memory;
	ctl->cpu_request = wd->cpu_request;
	ctl->cpu_limit = wd->cpu_limit;
	ctl->mem_request = (double)wd->memory_request;
	ctl->mem_limit = (double)wd->memory_limit;
	if (kind == KK_DEPLOYMENT) {
		ctl->rs = new_rs(k, c, tag);
		if (ctl->rs < 0)
			return -1;
		ctl->desired = wd->replicas;
		for (int r = 0; r < wd->replicas; r++)
			if (initial_pod(k, c, k->ctls[c].rs, wd->node ? wd->node->id : -1) < 0)
				return -1;
	} else if (kind == KK_DAEMONSET) {
		ctl->desired = (int)k->n_nodes;
		for (size_t n = 0; n < k->n_nodes; n++)
			if (initial_pod(k, c, -1, (int)n) < 0)
				return -1;
	}
	return c;
}

/* The DaemonSets and add-ons every EKS-like cluster runs. */
static int system_workloads(struct fd_kube *k)
{
	static const struct fd_workload sys[] = {
		{.name = "kube-proxy", .kind = FD_WORKLOAD_DAEMONSET, .namespace = "kube-system",
		 .container = "kube-proxy", .image = "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.31.3-eksbuild.2",
		 .cpu = 0.004, .memory = 34 * 1048576LL, .cpu_request = 0.1, .memory_request = 0},
		{.name = "aws-node", .kind = FD_WORKLOAD_DAEMONSET, .namespace = "kube-system",
		 .container = "aws-node", .image = "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.0-eksbuild.1",
		 .cpu = 0.006, .memory = 52 * 1048576LL, .cpu_request = 0.025, .memory_request = 0},
		{.name = "opentelemetry-collector-agent", .kind = FD_WORKLOAD_DAEMONSET, .namespace = "observability",
		 .container = "opentelemetry-collector", .image = "otel/opentelemetry-collector-contrib:" INFRA_COLLECTOR_VERSION,
		 .cpu = 0.08, .memory = 210 * 1048576LL, .cpu_request = 0.1, .memory_request = 256 * 1048576LL,
		 .cpu_limit = 1, .memory_limit = 1024 * 1048576LL},
		{.name = "coredns", .kind = FD_WORKLOAD_DEPLOYMENT, .namespace = "kube-system",
		 .container = "coredns", .image = "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2",
		 .replicas = 2, .cpu = 0.006, .memory = 24 * 1048576LL, .cpu_request = 0.1,
		 .memory_request = 70 * 1048576LL, .memory_limit = 170 * 1048576LL},
	};
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (add_workload(k, &sys[i], -2) < 0)
			return -1;
	return 0;
}

int fd_kube_create(const struct fd_scenario *sc, uint64_t seed, int64_t start, int64_t end,
		   struct fd_intern *blobs, const struct fd_kube_out *out, struct fd_kube **kp,
		   struct fd_error *err)
{
	*kp = NULL;
	struct fd_kube *k = calloc(1, sizeof(*k));
	if (!k)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	k->sc = sc;
	k->seed = seed;
	k->start = k->now = k->last_step = start;
	k->end = end;
	k->blobs = blobs;
	k->out = *out;
	/* its own stream: the services' draws do not depend on the cluster */
	fd_rng_seed(&k->rng, seed ^ 0x6b756265636c7573ULL);
	fd_rng_seed(&k->probe_rng, seed ^ 0x70726f6265730a0aULL);
	k->namespace = sc->cluster.namespace ? sc->cluster.namespace : sc->service_namespace;
	if (sc->cluster.name) {
		k->cluster_name = sc->cluster.name;
	} else {
		snprintf(k->cluster_buf, sizeof(k->cluster_buf), "%s-eks-%c%c", sc->environment,
			 k8s_alnum[fd_rng_below(&k->rng, 27)], k8s_alnum[fd_rng_below(&k->rng, 27)]);
		k->cluster_name = k->cluster_buf;
	}
	k->svc_ctl = calloc(sc->n_services ? sc->n_services : 1, sizeof(int));
	k->wl_ctl = calloc(sc->cluster.n_workloads ? sc->cluster.n_workloads : 1, sizeof(int));
	if (!k->svc_ctl || !k->wl_ctl)
		goto nomem;
	k->scope_events = make_scope(k, "k8seventsreceiver");
	k->scope_kubelet = make_scope(k, "kubeletstatsreceiver");
	k->scope_cluster = make_scope(k, "k8sclusterreceiver");
	if (k->oom || make_nodes(k) < 0)
		goto nomem;
	/* a registry per cluster: an account number from the seed */
	char registry[96];
	snprintf(registry, sizeof(registry), "%012" PRIu64 ".dkr.ecr.eu-west-1.amazonaws.com",
		 (uint64_t)((fd_rng_u64(&k->rng) % 900000000000ULL) + 100000000000ULL));
	if (sc->cluster.system_workloads && system_workloads(k) < 0)
		goto nomem;
	for (size_t i = 0; i < sc->cluster.n_workloads; i++) {
		int c = add_workload(k, &sc->cluster.workloads[i], (int)i);
		if (c < 0)
			goto nomem;
		k->wl_ctl[i] = c;
	}
	for (size_t i = 0; i < sc->n_services; i++) {
		const struct fd_service *s = &sc->services[i];
		const char *image = s->image ? s->image : intern_str(k, "%s/%s/%s", registry, k->namespace, s->name);
		int c = add_ctl(k, KK_DEPLOYMENT, s->name, k->namespace, s->name, image);
		if (c < 0)
			goto nomem;
		k->ctls[c].svc = (int)i;
		k->ctls[c].desired = s->instances;
		k->svc_ctl[i] = c;
		if ((k->ctls[c].rs = new_rs(k, c, s->version)) < 0)
			goto nomem;
	}
	if (k->oom || kube_churn_init(k) < 0)
		goto nomem;
	*kp = k;
	return 0;
nomem:
	fd_kube_destroy(k);
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

void fd_kube_destroy(struct fd_kube *k)
{
	if (!k)
		return;
	free(k->nodes);
	free(k->ctls);
	free(k->rs);
	for (size_t i = 0; i < k->n_pods; i++)
		free(k->pods[i].ctrs);
	free(k->pods);
	free(k->svc_ctl);
	free(k->wl_ctl);
	free(k->churn_next);
	pbw_finish(&k->w);
	pbw_finish(&k->aux);
	free(k);
}

bool fd_kube_telemetry(const struct fd_kube *k)
{
	return k->sc->cluster.telemetry;
}

/* The ReplicaSet a scale-out to an older version scales back up: the newest
 * one of the controller with that template; a new one (the controller's
 * current ReplicaSet unchanged) when the version never ran. */
static int rs_of_version(struct fd_kube *k, int c, const char *version)
{
	for (size_t i = k->n_rs; i-- > 0;)
		if (k->rs[i].ctl == c && k->rs[i].tag && strcmp(k->rs[i].tag, version) == 0)
			return (int)i;
	struct kube_ctl *ctl = &k->ctls[c];
	const char *tag = ctl->tag;
	int rs = new_rs(k, c, version);
	ctl->tag = tag;
	return rs;
}

int fd_kube_pod_start(struct fd_kube *k, int svc, int idx, int64_t floor, int64_t t, int64_t startup_ns,
		      const char *version, enum fd_pod_why why)
{
	int c = k->svc_ctl[svc];
	struct kube_ctl *ctl = &k->ctls[c];
	const struct fd_service *s = &k->sc->services[svc];
	int pinned = (size_t)idx < s->n_placement && s->placement[idx] ? s->placement[idx]->id : -1;
	/* the declared node's index is its id: nodes are made in order */
	if (why == FD_POD_INITIAL) {
		(void)floor;
		int id = initial_pod(k, c, ctl->rs, pinned);
		if (id < 0)
			return -FD_ERUNTIME;
		k->pods[id].svc = svc;
		k->pods[id].idx = idx;
		return id;
	}
	int rs = ctl->rs;
	if (why == FD_POD_SCALE_OUT && version && (!ctl->tag || strcmp(ctl->tag, version) != 0))
		rs = rs_of_version(k, c, version);
	int id = kube_new_pod(k, c, rs);
	if (id < 0)
		return -FD_ERUNTIME;
	struct kube_pod *p = &k->pods[id];
	p->svc = svc;
	p->idx = idx;
	if (floor < t - FD_KUBE_LEAD_NS)
		floor = t - FD_KUBE_LEAD_NS;
	if (floor > t)
		floor = t;
	int64_t ready = startup_ns < 30 * K_NS ? startup_ns : 30 * K_NS;
	int64_t started = t - ready - (int64_t)((0.3 + 1.5 * fd_rng_uniform(&k->rng)) * K_NS);
	/* the scheduler, a pull and the runtime need a few seconds */
	int64_t soonest = floor + (int64_t)((1.5 + 3 * fd_rng_uniform(&k->rng)) * K_NS);
	if (started < soonest)
		started = soonest < t ? soonest : t;
	kube_schedule(k, id, pinned, started, floor + 5 * K_MS);
	kube_startup_probes(k, &k->pods[id], started, t);
	if (why == FD_POD_ROLLOUT && ctl->rs >= 0) {
		/* the controller scaled the ReplicaSet up just before the
		 * pod was created */
		struct kube_rs *r = &k->rs[ctl->rs];
		r->desired++;
		struct kobj o = ctl_obj(ctl);
		int64_t at = k->pods[id].created - (int64_t)((5 + 40 * fd_rng_uniform(&k->rng)) * K_MS);
		k8s_event(k, at < floor ? floor : at, &o, false, "ScalingReplicaSet", "", 0,
			  "Scaled up replica set %s to %d", r->name, r->desired);
	}
	return k->oom ? -FD_ERUNTIME : id;
}

void fd_kube_pod_stop(struct fd_kube *k, int pod, int64_t t, enum fd_stop_why why)
{
	if (pod < 0 || (size_t)pod >= k->n_pods)
		return;
	struct kube_pod *p = &k->pods[pod];
	if (!p->bound)
		return;
	struct kube_ctl *c = &k->ctls[p->ctl];
	if (why == FD_STOP_ROLLOUT && p->rs >= 0) {
		/* the old ReplicaSet's count as the controller sees it */
		int left = 0;
		for (size_t i = 0; i < k->n_pods; i++)
			left += k->pods[i].bound && k->pods[i].rs == p->rs && (int)i != pod;
		struct kobj o = ctl_obj(c);
		k8s_event(k, t, &o, false, "ScalingReplicaSet", "", 0, "Scaled down replica set %s to %d from %d",
			  k->rs[p->rs].name, left, left + 1);
	}
	if (why != FD_STOP_LOST) {
		struct kobj oc = pod_obj(k, p, true);
		k8s_event(k, t + 2 * K_MS, &oc, false, "Killing", "", 0, "Stopping container %s", c->container);
	}
	kube_pod_end(k, p, t, KP_SUCCEEDED);
}

void fd_kube_container_died(struct fd_kube *k, int pod, int64_t t, bool oom, bool crash_loop,
			    int64_t restart_at)
{
	if (pod < 0 || (size_t)pod >= k->n_pods)
		return;
	struct kube_pod *p = &k->pods[pod];
	const struct kube_ctl *c = &k->ctls[p->ctl];
	if (oom && p->node >= 0) {
		const struct kube_node *n = &k->nodes[p->node];
		struct kobj o = node_obj(n);
		const struct fd_service *s = c->svc >= 0 ? &k->sc->services[c->svc] : NULL;
		double limit_kb = s && s->resources.memory_limit > 0 ? (double)s->resources.memory_limit / 1024
				  : c->mem_limit / 1024;
		const char *proc = s ? (s->runtime == FD_RUNTIME_JAVA ? "java" : s->runtime == FD_RUNTIME_PYTHON ? "python3"
					: s->runtime == FD_RUNTIME_NODE ? "node" : s->runtime == FD_RUNTIME_DOTNET ? "dotnet"
					: s->runtime == FD_RUNTIME_RUBY ? "ruby" : c->container) : c->container;
		unsigned pid = 1000 + (unsigned)fd_rng_below(&k->rng, 3000000);
		k8s_event(k, t, &o, true, "OOMKilling", "", 0,
			  "Memory cgroup out of memory: Killed process %u (%s) total-vm:%.0fkB, anon-rss:%.0fkB, file-rss:%.0fkB, shmem-rss:0kB, UID:%d pgtables:%.0fkB oom_score_adj:%d",
			  pid, proc, limit_kb * (2.2 + fd_rng_uniform(&k->rng)), limit_kb * 0.985,
			  2000 + fd_rng_uniform(&k->rng) * 30000, 1000 + 999 * (int)fd_rng_below(&k->rng, 2),
			  limit_kb / 350, 900 + (int)fd_rng_below(&k->rng, 99));
	}
	if (p->n_ctrs && p->ctrs[p->n_ctrs - 1].end > t)
		p->ctrs[p->n_ctrs - 1].end = t;
	if (crash_loop && restart_at != INT64_MAX) {
		p->backoffs++;
		struct kobj oc = pod_obj(k, p, true);
		k8s_event(k, t + (int64_t)((0.5 + fd_rng_uniform(&k->rng)) * K_NS), &oc, true, "BackOff", "",
			  p->backoffs, "Back-off restarting failed container %s in pod %s_%s(%s)", c->container,
			  p->name, c->namespace, p->uid);
	}
	if (restart_at != INT64_MAX) {
		/* the container that will start: the next incarnation's. A
		 * crash loop's starts after the back-off, just before its
		 * process; one killed after a long run is restarted about a
		 * second later (the kubelet notices the exit, no back-off) and
		 * its process takes until restart_at to listen, refusing the
		 * readiness probes meanwhile. Jitter from the probes' stream:
		 * the other draws do not move. */
		int64_t st = restart_at - 150 * K_MS;
		if (!crash_loop) {
			int64_t soon = t + (int64_t)((0.4 + fd_rng_uniform(&k->probe_rng)) * K_NS);
			if (soon < st)
				st = soon;
		}
		add_ctr(k, p, st);
		struct kobj oc = pod_obj(k, p, true);
		char image[320];
		snprintf(image, sizeof(image), "%s:%s", c->image, p->tag ? p->tag : "latest");
		k8s_event(k, st - 120 * K_MS, &oc, false, "Pulled", "", 0,
			  "Container image \"%s\" already present on machine", image);
		k8s_event(k, st - 40 * K_MS, &oc, false, "Created", "", 0, "Created container: %s", c->container);
		k8s_event(k, st, &oc, false, "Started", "", 0, "Started container %s", c->container);
		if (!crash_loop)
			kube_startup_probes(k, p, st, restart_at);
	}
}

void fd_kube_rollout(struct fd_kube *k, int svc, int64_t t, const char *version, bool restart)
{
	(void)t;
	int c = k->svc_ctl[svc];
	struct kube_ctl *ctl = &k->ctls[c];
	ctl->old_rs = ctl->rs;
	/* the newest ReplicaSet with this template (restarts make their own) */
	for (size_t i = k->n_rs; !restart && i-- > 0;)
		if (k->rs[i].ctl == c && (int)i != ctl->rs && k->rs[i].tag && strcmp(k->rs[i].tag, version) == 0) {
			ctl->rs = (int)i;
			ctl->tag = k->rs[i].tag;
			return;
		}
	int rs = new_rs(k, c, version);
	if (rs >= 0)
		ctl->rs = rs;
}

void fd_kube_resource_attrs(const struct fd_kube *k, int pod, struct pbw *w)
{
	if (pod < 0 || (size_t)pod >= k->n_pods)
		return;
	const struct kube_pod *p = &k->pods[pod];
	const struct kube_ctl *c = &k->ctls[p->ctl];
	otlp_attr_str(w, 1, "k8s.cluster.name", k->cluster_name);
	otlp_attr_str(w, 1, "k8s.namespace.name", c->namespace);
	otlp_attr_str(w, 1, "k8s.node.name", p->node >= 0 ? k->nodes[p->node].name : "");
	otlp_attr_str(w, 1, "k8s.deployment.name", c->name);
	if (p->rs >= 0)
		otlp_attr_str(w, 1, "k8s.replicaset.name", k->rs[p->rs].name);
	otlp_attr_str(w, 1, "k8s.pod.name", p->name);
	otlp_attr_str(w, 1, "k8s.pod.uid", p->uid);
	otlp_attr_str(w, 1, "k8s.container.name", c->container);
	otlp_attr_str(w, 1, "container.name", c->container);
	otlp_attr_str(w, 1, "container.id", p->n_ctrs ? p->ctrs[p->n_ctrs - 1].id : "");
	otlp_attr_str(w, 1, "container.image.name", c->image);
	otlp_attr_str(w, 1, "container.image.tag", p->tag ? p->tag : "latest");
}

const char *fd_kube_pod_name(const struct fd_kube *k, int pod)
{
	return pod >= 0 && (size_t)pod < k->n_pods ? k->pods[pod].name : "";
}

int fd_kube_pod_node(const struct fd_kube *k, int pod)
{
	return pod >= 0 && (size_t)pod < k->n_pods ? k->pods[pod].node : -1;
}

const char *fd_kube_node_name(const struct fd_kube *k, int node)
{
	return node >= 0 && (size_t)node < k->n_nodes ? k->nodes[node].name : "";
}

int fd_kube_node_decl(const struct fd_kube *k, int node)
{
	return node >= 0 && (size_t)node < k->n_nodes ? k->nodes[node].decl : -1;
}

void fd_kube_pod_usage(struct fd_kube *k, int pod, double cores, double memory)
{
	if (pod < 0 || (size_t)pod >= k->n_pods)
		return;
	k->pods[pod].cpu = cores;
	k->pods[pod].mem = memory;
	k->pods[pod].reported = true;
}

double fd_kube_cpu_slowdown(const struct fd_kube *k, int pod)
{
	if (pod < 0 || (size_t)pod >= k->n_pods || k->pods[pod].node < 0)
		return 1;
	return k->nodes[k->pods[pod].node].slowdown;
}

void fd_kube_scrape(struct fd_kube *k, int64_t t, int64_t interval)
{
	kube_metrics_scrape(k, t, interval);
}
