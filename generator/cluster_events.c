/*
 * The cluster's Kubernetes events (see cluster.c's head for their record
 * shape) and the kubelet's readiness probes, whose failures are events too.
 *
 * Repeats. The kubelet's event correlator folds a repeated event (same
 * object, reason and message) into the event it already made: its name,
 * uid and creation time stay, its count goes up and its last timestamp
 * moves; the k8sevents receiver emits each update as a log record. A probe
 * that keeps failing therefore shows as one event with a rising
 * k8s.event.count.
 *
 * Probes. Each service container has a readiness probe (HTTP GET every
 * 10 s, 1 s timeout, first after 5 s). It fails while the process starts
 * (connection refused: nothing listens yet) and, now and then, while the
 * container is throttled hard (the probe's handler waits for CPU like the
 * requests: context deadline exceeded). It never fails three times in a
 * row: that would take the pod out of its Service, which the simulation
 * does not model.
 */
#include "generator/cluster_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "generator/infra_otlp.h"

#define PROBE_PERIOD_NS (10 * K_NS)
#define PROBE_DELAY_NS (5 * K_NS)
/* an event older than this is not folded into: the API server's event TTL */
#define EVENT_TTL_NS (3600 * K_NS)

/* "2026-01-28 21:40:03 +0000 UTC": Go's time.Time.String() of a second-
 * resolution metav1.Time, as k8s.event.start_time carries it. */
static void go_time(int64_t t, char *out, size_t n)
{
	int64_t s = t / K_NS;
	int64_t days = s / 86400, sod = s % 86400;
	/* civil from days (Howard Hinnant's algorithm) */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, n, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 " %02" PRId64 ":%02" PRId64 ":%02" PRId64
		 " +0000 UTC", y, m, d, sod / 3600, sod / 60 % 60, sod % 60);
}

static void event_v(struct fd_kube *k, int64_t t, const struct kobj *o, bool warning, const char *reason,
		    const char *action, int count, struct kube_evser *ser, const char *fmt, va_list ap)
	__attribute__((format(printf, 9, 0)));
static void event_v(struct fd_kube *k, int64_t t, const struct kobj *o, bool warning, const char *reason,
		    const char *action, int count, struct kube_evser *ser, const char *fmt, va_list ap)
{
	if (!k->sc->cluster.telemetry || t >= k->end || t < k->start)
		return;
	char msg[768], rv[24], when[48], fresh_name[256], fresh_uid[40];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(rv, sizeof(rv), "%" PRIu64, ++k->resource_version);
	struct pbw *w = &k->aux;
	pbw_reset(w);
	otlp_attr_str(w, 1, "k8s.node.name", o->host ? o->host : "");
	otlp_attr_str(w, 1, "k8s.object.kind", o->kind);
	otlp_attr_str(w, 1, "k8s.object.name", o->name);
	otlp_attr_str(w, 1, "k8s.object.uid", o->uid);
	otlp_attr_str(w, 1, "k8s.object.fieldpath", o->fieldpath ? o->fieldpath : "");
	otlp_attr_str(w, 1, "k8s.object.api_version", o->api_version);
	otlp_attr_str(w, 1, "k8s.object.resource_version", rv);
	const struct fd_blob *res = kube_intern(k, w);
	/* the event object: a new one (the object's name, a dot, 16 hex
	 * digits), or the one this repeat folds into */
	const char *name = fresh_name, *uid = fresh_uid;
	int64_t created = t;
	if (ser && ser->count > 0 && t - ser->last < EVENT_TTL_NS) {
		name = ser->name;
		uid = ser->uid;
		created = ser->first;
		count = ++ser->count;
	} else {
		/* a probe's from the probes' own stream */
		struct fd_rng *rng = ser ? &k->probe_rng : &k->rng;
		char hex[17];
		kube_rand_hex(rng, hex, 16);
		snprintf(fresh_name, sizeof(fresh_name), "%s.%s", o->name, hex);
		kube_rand_uuid(rng, fresh_uid);
		if (ser) {
			snprintf(ser->name, sizeof(ser->name), "%s", fresh_name);
			snprintf(ser->uid, sizeof(ser->uid), "%s", fresh_uid);
			ser->first = t;
			count = ser->count = 1;
		}
	}
	if (ser)
		ser->last = t;
	go_time(created, when, sizeof(when));
	w = &k->w;
	pbw_reset(w);
	/* The receiver stamps an event with its eventTime, else its
	 * lastTimestamp (getEventTimestamp). The kubelet's and the
	 * controllers' events (core/v1 recorder) have only the latter, a
	 * metav1.Time of whole seconds; the scheduler's (events.k8s.io) an
	 * eventTime in microseconds. */
	bool micro = !strcmp(reason, "Scheduled") || !strcmp(reason, "FailedScheduling");
	int64_t stamp = t - t % (micro ? 1000 : K_NS);
	if (stamp < k->start)
		stamp = k->start;
	pbw_fixed64(w, 1, (uint64_t)stamp);
	/* the receiver's watch hears of it a little later (tens to a few
	 * hundred ms); a hash, not a draw, so the other draws do not move */
	uint64_t hx = fd_hash64(rv, strlen(rv)) ^ k->seed;
	double u = (double)(fd_splitmix64(&hx) >> 11) * 0x1.0p-53;
	pbw_fixed64(w, 11, (uint64_t)(t + (int64_t)((12 + 380 * u * u * u) * K_MS)));
	pbw_varint(w, 2, warning ? 13 : 9);
	pbw_string(w, 3, warning ? "Warning" : "Normal");
	size_t b = pbw_begin(w, 5);
	pbw_string(w, 1, msg);
	pbw_end(w, b);
	otlp_attr_str(w, 6, "k8s.event.reason", reason);
	otlp_attr_str(w, 6, "k8s.event.action", action ? action : "");
	otlp_attr_str(w, 6, "k8s.event.start_time", when);
	otlp_attr_str(w, 6, "k8s.event.name", name);
	otlp_attr_str(w, 6, "k8s.event.uid", uid);
	otlp_attr_str(w, 6, "k8s.namespace.name", o->namespace ? o->namespace : "");
	if (count > 0)
		otlp_attr_int(w, 6, "k8s.event.count", count);
	kube_push(k, stamp, FD_SIGNAL_LOGS, res, k->scope_events, w); /* the record's time is its stamp */
}

void k8s_event(struct fd_kube *k, int64_t t, const struct kobj *o, bool warning, const char *reason,
	       const char *action, int count, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	event_v(k, t, o, warning, reason, action, count, NULL, fmt, ap);
	va_end(ap);
}

static void k8s_event_again(struct fd_kube *k, int64_t t, const struct kobj *o, struct kube_evser *ser,
			    const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A Warning event that folds into ser's earlier one. */
static void k8s_event_again(struct fd_kube *k, int64_t t, const struct kobj *o, struct kube_evser *ser,
			    const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	event_v(k, t, o, true, reason, "", 0, ser, fmt, ap);
	va_end(ap);
}

struct kobj pod_obj(const struct fd_kube *k, const struct kube_pod *p, bool container)
{
	static char fieldpath[200];
	const struct kube_ctl *c = &k->ctls[p->ctl];
	snprintf(fieldpath, sizeof(fieldpath), "spec.containers{%s}", c->container);
	return (struct kobj){
		.kind = "Pod", .name = p->name, .uid = p->uid, .namespace = c->namespace,
		.fieldpath = container ? fieldpath : "", .api_version = "v1",
		.host = p->node >= 0 ? k->nodes[p->node].name : "",
	};
}

struct kobj node_obj(const struct kube_node *n)
{
	/* node events name the node as their uid, as the kubelet does */
	return (struct kobj){.kind = "Node", .name = n->name, .uid = n->name, .namespace = "",
			     .api_version = "", .host = n->name};
}

struct kobj ctl_obj(const struct kube_ctl *c)
{
	return (struct kobj){
		.kind = c->kind == KK_JOB ? "Job" : c->kind == KK_DAEMONSET ? "DaemonSet" : "Deployment",
		.name = c->name, .uid = c->uid, .namespace = c->namespace,
		.api_version = c->kind == KK_JOB ? "batch/v1" : "apps/v1", .host = "",
	};
}

/* ---- readiness probes ----------------------------------------------------------- */

void kube_pod_ip(const struct fd_kube *k, struct kube_pod *p)
{
	/* the VPC CNI gives pods addresses of their node's subnet (nodes named
	 * ip-A-B-C-D); elsewhere a per-node pod range, as flannel's */
	const char *n = k->nodes[p->node].name;
	int a, b, c, d;
	uint64_t h = fd_hash64(p->uid, strlen(p->uid));
	if (sscanf(n, "ip-%d-%d-%d-%d", &a, &b, &c, &d) == 4) {
		int x = 10 + (int)(h % 240);
		if (x == d)
			x++;
		snprintf(p->ip, sizeof(p->ip), "%d.%d.%d.%d", a, b, c, x);
	} else {
		snprintf(p->ip, sizeof(p->ip), "10.244.%d.%d", p->node, 2 + (int)(h % 250));
	}
}

static const char *probe_path(const struct fd_kube *k, const struct kube_pod *p)
{
	const struct kube_ctl *c = &k->ctls[p->ctl];
	if (c->svc >= 0 && k->sc->services[c->svc].runtime == FD_RUNTIME_JAVA)
		return "/actuator/health/readiness"; /* Spring Boot's */
	return "/readyz";
}

/* Each pod probes on its own phase within the period. */
static int64_t probe_phase(const struct kube_pod *p)
{
	return (int64_t)(fd_hash64(p->name, strlen(p->name)) % (uint64_t)PROBE_PERIOD_NS);
}

void kube_startup_probes(struct fd_kube *k, struct kube_pod *p, int64_t started, int64_t ready)
{
	if (p->svc < 0 || p->node < 0)
		return;
	struct kobj o = pod_obj(k, p, true);
	/* the first probe after the initial delay, then every period */
	for (int64_t at = started + PROBE_DELAY_NS + probe_phase(p) % (2 * K_NS); at < ready;
	     at += PROBE_PERIOD_NS)
		k8s_event_again(k, at + 3 * K_MS, &o, &p->probe_refused, "Unhealthy",
				"Readiness probe failed: Get \"http://%s:8080%s\": dial tcp %s:8080: connect: connection refused",
				p->ip, probe_path(k, p), p->ip);
}

void kube_busy_probes(struct fd_kube *k, struct kube_pod *p, int64_t from, int64_t to, double throttled)
{
	if (p->svc < 0 || p->node < 0)
		return;
	/* a probe waits for CPU as long as a request does: with the container
	 * throttled in a share of its periods, some probes time out */
	double fail = 0.4 * throttled;
	int64_t first = from - (from - probe_phase(p)) % PROBE_PERIOD_NS;
	if (first <= from)
		first += PROBE_PERIOD_NS;
	for (int64_t at = first; at <= to; at += PROBE_PERIOD_NS) {
		if (fail <= 0 || p->probe_misses >= 2 || fd_rng_uniform(&k->probe_rng) >= fail) {
			p->probe_misses = 0;
			continue;
		}
		p->probe_misses++;
		struct kobj o = pod_obj(k, p, true);
		k8s_event_again(k, at + 1000 * K_MS + (int64_t)(fd_rng_uniform(&k->probe_rng) * 5 * K_MS), &o,
				&p->probe_timeout, "Unhealthy",
				"Readiness probe failed: Get \"http://%s:8080%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
				p->ip, probe_path(k, p));
	}
}
