/*
 * Private to the cluster model: cluster.c (nodes, pods, scheduler),
 * cluster_time.c (what happens to them), cluster_events.c (events, probes)
 * and infra_metrics.c (the kubeletstats and k8s_cluster metrics of that
 * state). Not for the simulation, which uses generator/cluster.h.
 */
#ifndef FD_CLUSTER_INTERNAL_H
#define FD_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "generator/cluster.h"
#include "generator/rng.h"

#define K_NS 1000000000LL
#define K_MS 1000000LL
#define K_MIB (1024.0 * 1024.0)


enum kube_kind { KK_DEPLOYMENT, KK_DAEMONSET, KK_JOB };

struct kube_node {
	char name[96];
	char uid[40];
	double cores;
	double memory;          /* bytes allocatable */
	const char *zone;
	int decl;               /* fd_node.id, or -1 when made up */
	bool ready;
	bool cordoned;
	int64_t not_ready_at;   /* INT64_MAX while ready */
	int64_t ready_again_at; /* INT64_MAX: stays NotReady */
	bool evicted_lost;      /* its pods were evicted after NotReady */
	double req_cpu;         /* requested by the pods bound to it */
	double req_mem;
	/* the last interval (fd_kube_scrape) */
	double demand;          /* cores the pods and system wanted */
	double used_mem;        /* bytes */
	double slowdown;        /* >= 1: oversubscribed CPU stretches work */
	double cpu_cum;         /* seconds of CPU since boot */
	double psi_cum;         /* seconds some task waited for CPU */
	double net_rx, net_tx;  /* bytes since boot */
	double sys_level;       /* the system's CPU noise, a slow walk */
	int64_t last_pressure;  /* last memory-pressure eviction */
	const struct fd_blob *res;         /* kubeletstats: k8s.node.name */
	const struct fd_blob *res_cluster; /* k8s_cluster: + k8s.node.uid */
};

/* A controller: a service's Deployment or a workload's Deployment,
 * DaemonSet or Job. */
struct kube_ctl {
	enum kube_kind kind;
	const char *name;
	const char *namespace;
	const char *container;
	const char *image;      /* without the tag */
	char uid[40];
	int svc;                /* service index, or -1 */
	int wl;                 /* workload index, or -1 (system workloads: -2) */
	int rs;                 /* current ReplicaSet (deployments), -1 */
	int old_rs;             /* the one a rollout replaces, -1 */
	int generation;         /* pod-template revisions so far */
	int desired;
	double cpu;             /* workloads: cores in use */
	double mem;             /* workloads: bytes in use */
	double cpu_request, cpu_limit;
	double mem_request, mem_limit;
	const char *tag;        /* the running image tag */
	const struct fd_blob *res_cluster; /* k8s_cluster: the controller's resource */
};

struct kube_rs {
	char name[128];         /* DEPLOYMENT-HASH */
	char hash[16];
	char uid[40];
	int ctl;
	const char *tag;
	int desired, ready;
};

enum kube_phase { KP_PENDING = 1, KP_RUNNING = 2, KP_SUCCEEDED = 3, KP_FAILED = 4 };

/* One container of a pod: the first, then one per restart. */
struct kube_ctr {
	int64_t start, end;     /* it runs in [start, end) */
	char id[72];            /* container.id */
	double cpu_cum;         /* s */
	double periods, throttled, throttled_ns;
	const struct fd_blob *res, *res_cluster;
};

/* An event the kubelet keeps folding repeats into (cluster_events.c). */
struct kube_evser {
	char name[256];
	char uid[40];
	int64_t first, last;
	int count;              /* 0: none yet */
};

/* A pod. The cluster's decisions run ahead of the scrapes (the simulation
 * steps instance state ahead of arrivals), so what a scrape at t reports
 * comes from the times kept here, never from "now". */
struct kube_pod {
	char name[160];
	char uid[40];
	int ctl, rs, node;
	int svc, idx;           /* the service instance it runs, or -1 */
	enum kube_phase end_phase; /* once it is gone: succeeded or failed */
	bool bound;             /* counts on its node for the scheduler */
	bool reported;          /* usage given for this interval (services) */
	const char *tag;
	int64_t created;        /* in the API from then (k8s.pod.start_time) */
	int64_t ended_at;       /* gone from then; INT64_MAX */
	int64_t ends_at;        /* jobs: when it completes; INT64_MAX */
	bool deleted;           /* jobs: ends_at is a deletion, not completion */
	int backoffs;
	char ip[16];            /* from its node's range once bound */
	struct kube_evser probe_refused, probe_timeout;
	int probe_misses;       /* readiness probes failed in a row */
	double cpu_level;       /* workloads: a slow random walk around 1 */
	double cpu, mem;        /* the last interval: cores, bytes */
	double pod_cpu_cum;     /* s, all its containers */
	struct kube_ctr *ctrs;
	size_t n_ctrs, cap_ctrs;
	const struct fd_blob *res_pod, *res_cluster_pod;
};

static inline bool kube_pod_exists(const struct kube_pod *p, int64_t t)
{
	return p->node >= 0 && p->created <= t && t < p->ended_at;
}

/* The container started last by t, or NULL; it is up when t < its end. */
static inline struct kube_ctr *kube_ctr_at(const struct kube_pod *p, int64_t t)
{
	for (size_t i = p->n_ctrs; i-- > 0;)
		if (p->ctrs[i].start <= t)
			return &p->ctrs[i];
	return NULL;
}

static inline bool kube_node_ready_at(const struct kube_node *n, int64_t t)
{
	return !(t >= n->not_ready_at && t < n->ready_again_at);
}

struct fd_kube {
	const struct fd_scenario *sc;
	struct fd_rng rng;
	struct fd_rng probe_rng; /* its own: probes do not move other draws */
	uint64_t seed;
	int64_t start, end, now;
	struct fd_intern *blobs;
	struct fd_kube_out out;
	const char *cluster_name;
	const char *namespace;
	char cluster_buf[64];
	const struct fd_blob *scope_events, *scope_kubelet, *scope_cluster;
	uint64_t resource_version;

	struct kube_node *nodes;
	size_t n_nodes;
	struct kube_ctl *ctls;
	size_t n_ctls, cap_ctls;
	struct kube_rs *rs;
	size_t n_rs, cap_rs;
	struct kube_pod *pods;
	size_t n_pods, cap_pods;
	int *svc_ctl;           /* per service: its controller */
	int *wl_ctl;            /* per workload: its controller */
	int64_t last_step;
	struct pbw w, aux;
	bool oom;
	/* Churn (scale.churn): when the pod of each instance slot (every
	 * service's instances in turn) is next replaced; every pod lives
	 * churn_life ns (0: no churn). */
	int64_t *churn_next;
	double churn_life;
};

/* cluster.c, for infra_metrics.c */
const struct fd_blob *kube_intern(struct fd_kube *k, struct pbw *w);
void kube_push(struct fd_kube *k, int64_t t, enum fd_signal sig, const struct fd_blob *res,
	       const struct fd_blob *scope, struct pbw *w);

/* cluster.c: random ids from the cluster's stream */
void kube_rand_hex(struct fd_rng *rng, char *out, size_t n);
void kube_rand_uuid(struct fd_rng *rng, char *out);

/* cluster_time.c, for cluster.c: churn's schedule (-1: out of memory) */
int kube_churn_init(struct fd_kube *k);

/* cluster.c, for cluster_time.c: pods and the scheduler */
double kube_ctl_mem_request(const struct fd_kube *k, const struct kube_ctl *c);
/* A new pod of the controller (in ReplicaSet rs, or -1), not yet bound:
 * its index, or -1 when out of memory. */
int kube_new_pod(struct fd_kube *k, int ctl, int rs);
/* Binds the pod to a node (pinned: that node, else the scheduler's pick)
 * with its events; its container starts at started, asked for at floor. */
void kube_schedule(struct fd_kube *k, int pod, int pinned, int64_t started, int64_t floor);
/* The pod is gone at t in that phase; its node no longer counts it. */
void kube_pod_end(struct fd_kube *k, struct kube_pod *p, int64_t t, enum kube_phase phase);

/* cluster_events.c: the object an event is about */
struct kobj {
	const char *kind, *name, *uid, *namespace, *fieldpath, *api_version;
	const char *host; /* the node the event came from ("" for controllers) */
};
struct kobj pod_obj(const struct fd_kube *k, const struct kube_pod *p, bool container);
struct kobj node_obj(const struct kube_node *n);
struct kobj ctl_obj(const struct kube_ctl *c);
/* One Kubernetes event as the k8sevents receiver's log record (count 0:
 * none); nothing outside the scenario's time. */
void k8s_event(struct fd_kube *k, int64_t t, const struct kobj *o, bool warning, const char *reason,
	       const char *action, int count, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* The pod's address, once it is bound to its node. */
void kube_pod_ip(const struct fd_kube *k, struct kube_pod *p);
/* Readiness probes of a service pod whose container starts at started and
 * whose process is ready at ready: the ones that find nothing listening. */
void kube_startup_probes(struct fd_kube *k, struct kube_pod *p, int64_t started, int64_t ready);
/* Readiness probes in (from, to] of a service pod throttled in that share
 * of its CPU periods: some time out. */
void kube_busy_probes(struct fd_kube *k, struct kube_pod *p, int64_t from, int64_t to, double throttled);

/* infra_metrics.c */
void kube_metrics_scrape(struct fd_kube *k, int64_t t, int64_t interval);

#endif
