/*
 * The cluster under the services: Kubernetes nodes, the pods of the
 * services and of the other workloads (DaemonSets, other teams'
 * deployments, batch jobs), the scheduler, and what the cluster says about
 * them:
 *   - the attributes the collector's k8sattributes processor puts on every
 *     record of a service (fd_kube_resource_attrs);
 *   - Kubernetes events as logs, shaped as the collector's k8sevents
 *     receiver emits them (Scheduled, Pulling, Pulled, Created, Started,
 *     Killing, OOMKilling, BackOff, Unhealthy, ScalingReplicaSet,
 *     FailedScheduling, Evicted, NodeNotReady...);
 *   - node, pod and container metrics as its kubeletstats and k8s_cluster
 *     receivers name them, plus CPU throttling (infra_metrics.c).
 *
 * The simulation owns instances and their incarnations; the cluster owns
 * pods. Every incarnation runs in a pod: a container restart (OOM kill,
 * crash) keeps the pod and changes container.id; a rollout, a reschedule or
 * a scale-out makes a new pod. Pod names are Kubernetes':
 * DEPLOYMENT-<pod-template-hash>-<5 chars>; the hash changes with the pod
 * template (the version, a restart), and every name and id is drawn from
 * the scenario and the seed with the cluster's own random stream, so the
 * services' draws do not depend on the cluster.
 *
 * Time. Records go out through fd_kube_out.push, never stamped earlier than
 * FD_KUBE_LEAD_NS before the time of the call that makes them: a pod is
 * scheduled, pulled and started ahead of the moment it takes over.
 *
 * Deterministic: the same scenario, seed and calls give the same records.
 */
#ifndef FD_CLUSTER_H
#define FD_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/pbwrite.h"
#include "stream/intern.h"
#include "stream/record.h"
#include "generator/scenario.h"

#define FD_KUBE_LEAD_NS (45LL * 1000000000LL)

struct fd_kube;

struct fd_kube_out {
	/* Queues one record (payload in w) for time t. */
	void (*push)(void *ctx, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		     const struct fd_blob *scope, struct pbw *w);
	/* The pod of instance idx of service svc is gone at t (evicted, its
	 * node lost, drained): the simulation ends that incarnation and asks
	 * for a replacement with fd_kube_pod_start(..., FD_POD_RESCHEDULE)
	 * taking over at back_at (INT64_MAX: not before the scenario ends).
	 * killed: the process died (callers see connections reset), else it
	 * was stopped gracefully. */
	void (*displaced)(void *ctx, int svc, int idx, int64_t t, int64_t back_at, bool killed);
	void *ctx;
};

/* scenario is borrowed; blobs is the simulation's intern table (resources
 * and scopes go there). */
int fd_kube_create(const struct fd_scenario *sc, uint64_t seed, int64_t start, int64_t end,
		   struct fd_intern *blobs, const struct fd_kube_out *out, struct fd_kube **kp,
		   struct fd_error *err);
void fd_kube_destroy(struct fd_kube *k);

/* Whether the scenario wants the infrastructure signals (cluster.telemetry);
 * the pods, names and attributes exist either way. */
bool fd_kube_telemetry(const struct fd_kube *k);

/* ---- pods of the services ------------------------------------------------ */

enum fd_pod_why {
	FD_POD_INITIAL,    /* running before the scenario starts: no events */
	FD_POD_ROLLOUT,    /* the new ReplicaSet of a rollout (fd_kube_rollout) */
	FD_POD_SCALE_OUT,  /* one more replica of the current ReplicaSet */
	FD_POD_RESCHEDULE, /* a replacement after an eviction, a lost node, a delete */
};

enum fd_stop_why {
	FD_STOP_ROLLOUT,   /* scaled down by the rollout: Killing, ScalingReplicaSet */
	FD_STOP_DELETE,    /* an operator deleted it (restart): Killing */
	FD_STOP_LOST,      /* its node went away: no kubelet to say so */
};

/* A new pod for instance idx of service svc (0-based in the scenario) that
 * takes over at t: created, scheduled, pulled and started between floor
 * (when it was asked for: the deploy, the delete) and t (its app needs
 * startup_ns to be ready), its events stamped so. version is the image
 * tag. Returns the pod's id (>= 0) or -FD_ERUNTIME when out of memory. */
int fd_kube_pod_start(struct fd_kube *k, int svc, int idx, int64_t floor, int64_t t, int64_t startup_ns,
		      const char *version, enum fd_pod_why why);
/* The pod goes away at t. */
void fd_kube_pod_stop(struct fd_kube *k, int pod, int64_t t, enum fd_stop_why why);
/* Its container died at t (oom: killed by the kernel at its memory limit;
 * else it exited with an error) and starts again at restart_at in the same
 * pod (restart_at == INT64_MAX: never). crash_loop: the kubelet backs off
 * (BackOff events). */
void fd_kube_container_died(struct fd_kube *k, int pod, int64_t t, bool oom, bool crash_loop,
			    int64_t restart_at);
/* A rollout of service svc starts at t towards version: the next
 * FD_POD_ROLLOUT pods belong to the ReplicaSet of that pod template — the
 * one that ran it before when there is one (a rollback scales the old
 * ReplicaSet up again), else a new one with a new pod-template-hash. A
 * restart (kubectl rollout restart) always makes a new one. */
void fd_kube_rollout(struct fd_kube *k, int svc, int64_t t, const char *version, bool restart);

/* The k8sattributes processor's attributes of the pod's current container,
 * appended to a Resource being written (field 1 key-values). */
void fd_kube_resource_attrs(const struct fd_kube *k, int pod, struct pbw *w);
const char *fd_kube_pod_name(const struct fd_kube *k, int pod);
/* The node the pod runs on (an index into the cluster's nodes) and its
 * name. */
int fd_kube_pod_node(const struct fd_kube *k, int pod);
const char *fd_kube_node_name(const struct fd_kube *k, int node);
/* The declared node (fd_node.id) the cluster's node index stands for, or -1
 * for a made-up node. */
int fd_kube_node_decl(const struct fd_kube *k, int node);

/* ---- time, load and the timeline ---------------------------------------- */

/* Runs the cluster's own work up to t (jobs, other workloads, node
 * conditions, memory pressure and evictions). Call with t increasing, at
 * least once a second of simulated time. */
void fd_kube_step(struct fd_kube *k, int64_t t);
/* A timeline event at t: co_tenant, node_not_ready and cordon act here;
 * other kinds are ignored. */
void fd_kube_event(struct fd_kube *k, const struct fd_event *ev, int64_t t);
/* A mitigation undid ev (fully) from t: a co_tenant's job is deleted, a
 * NotReady node is back. Other kinds are ignored. */
void fd_kube_undo(struct fd_kube *k, const struct fd_event *ev, int64_t t);
/* What the pod used over the scrape interval ending now: CPU in cores,
 * memory in bytes. Call for every running service pod before
 * fd_kube_scrape. */
void fd_kube_pod_usage(struct fd_kube *k, int pod, double cores, double memory);
/* How much slower the pod's work runs because its node's CPU is
 * oversubscribed (1: not at all), from the last interval's demand. */
double fd_kube_cpu_slowdown(const struct fd_kube *k, int pod);
/* The node, pod and container metrics of the interval ending at t
 * (infra_metrics.c). */
void fd_kube_scrape(struct fd_kube *k, int64_t t, int64_t interval);

#endif
