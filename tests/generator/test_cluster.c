/*
 * The cluster model (generator/cluster.h) and the data stores
 * (generator/datastore.h) on their own, through their records: pod names
 * follow the pod template, the scenario and the seed; a rollout makes a new
 * ReplicaSet hash and a rollback brings the old one back; a pod's start is
 * told by the events the k8sevents receiver would emit, in order, inside
 * its window; an OOM kill is a node event and a new container.id; a
 * co-tenant job raises its node's CPU and nobody else's; a lock holder
 * makes the database report waiting transactions; a mitigation that undoes
 * them ends both.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "generator/cluster.h"
#include "generator/datastore.h"
#include "generator/scenario.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "stream/intern.h"

#define NS 1000000000LL
#define T0 1768482000000000000LL

static const char scenario[] =
	"name: %s\n"
	"duration: 1h\n"
	"cluster:\n"
	"  namespace: shop\n"
	"  nodes:\n"
	"    - {name: node-a, cores: 8, memory: 32GiB}\n"
	"    - {name: node-b, cores: 8, memory: 32GiB}\n"
	"    - {name: node-c, cores: 8, memory: 32GiB}\n"
	"  workloads:\n"
	"    trainer: {kind: job, namespace: ml, cpu: 5, memory: 8GiB}\n"
	"traffic:\n"
	"  - {entry: api \"GET /x\", rate: 10/s}\n"
	"services:\n"
	"  api:\n"
	"    version: v1\n"
	"    instances: 3\n"
	"    endpoints:\n"
	"      \"GET /x\": {calls: [{db: db, query: \"UPDATE stock SET q = q - 1 WHERE id = $1\"}]}\n"
	"databases:\n"
	"  db: {system: postgresql}\n"
	"timeline:\n"
	"  - at: 10m\n"
	"    co_tenant: {node: node-b, workload: trainer}\n"
	"  - at: 20m\n"
	"    lock_holder: {target: db, table: stock, duration: 5m}\n";

/* What the modules pushed. */
struct rec {
	int64_t t;
	enum fd_signal sig;
	const struct fd_blob *res, *scope;
	uint8_t *data;
	size_t len;
};

struct sink {
	struct rec *v;
	size_t n, cap;
	int displaced;
};

static void push(void *ctx, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		 const struct fd_blob *scope, struct pbw *w)
{
	struct sink *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	struct rec *r = &s->v[s->n++];
	r->t = t;
	r->sig = sig;
	r->res = res;
	r->scope = scope;
	r->len = w->len;
	r->data = malloc(w->len ? w->len : 1);
	memcpy(r->data, w->buf, w->len);
}

static void displaced(void *ctx, int svc, int idx, int64_t t, int64_t back, bool killed)
{
	(void)svc, (void)idx, (void)t, (void)back, (void)killed;
	((struct sink *)ctx)->displaced++;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].data);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct world {
	struct fd_scenario *sc;
	struct fd_intern *blobs;
	struct fd_kube *k;
	struct fd_stores *st;
	struct sink out;
};

static void world_open(struct world *w, const char *name, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	char text[4096];
	int n = snprintf(text, sizeof(text), scenario, name);
	struct fd_error err = {0};
	if (fd_scenario_parse("test.yaml", text, (size_t)n, &w->sc, &err) < 0)
		fail_msg("%s", err.msg);
	w->blobs = fd_intern_create();
	struct fd_kube_out out = {.push = push, .displaced = displaced, .ctx = &w->out};
	assert_int_equal(fd_kube_create(w->sc, seed, T0, T0 + 3600 * NS, w->blobs, &out, &w->k, &err), 0);
	assert_int_equal(fd_stores_create(w->sc, seed, T0, T0 + 3600 * NS, w->blobs, &out, &w->st, &err), 0);
}

static void world_close(struct world *w)
{
	fd_stores_destroy(w->st);
	fd_kube_destroy(w->k);
	fd_intern_destroy(w->blobs);
	fd_scenario_destroy(w->sc);
	sink_free(&w->out);
}

/* "api-HASH-XXXXX": the pod-template-hash of a name */
static void hash_of(const char *pod, char *out)
{
	const char *a = strchr(pod, '-'), *b = strrchr(pod, '-');
	assert_non_null(a);
	assert_true(b > a);
	snprintf(out, (size_t)(b - a), "%s", a + 1);
}

static void test_pod_names(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	regex_t re;
	assert_int_equal(regcomp(&re, "^api-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$",
				 REG_EXTENDED | REG_NOSUB), 0);
	char names[3][160], h0[16], h[16];
	for (int i = 0; i < 3; i++) {
		int pod = fd_kube_pod_start(w.k, 0, i, T0, T0, 0, "v1", FD_POD_INITIAL);
		assert_true(pod >= 0);
		snprintf(names[i], sizeof(names[i]), "%s", fd_kube_pod_name(w.k, pod));
		assert_int_equal(regexec(&re, names[i], 0, NULL, 0), 0);
		hash_of(names[i], h);
		if (i == 0)
			snprintf(h0, sizeof(h0), "%s", h);
		assert_string_equal(h, h0); /* one ReplicaSet */
	}
	assert_string_not_equal(names[0], names[1]);
	/* spread: three replicas on three nodes */
	assert_int_not_equal(fd_kube_pod_node(w.k, 0 + 4), fd_kube_pod_node(w.k, 1 + 4));
	/* a deploy: a new ReplicaSet */
	fd_kube_rollout(w.k, 0, T0 + 60 * NS, "v2", false);
	int p2 = fd_kube_pod_start(w.k, 0, 0, T0 + 60 * NS, T0 + 90 * NS, 20 * NS, "v2", FD_POD_ROLLOUT);
	char h2[16];
	hash_of(fd_kube_pod_name(w.k, p2), h2);
	assert_string_not_equal(h2, h0);
	assert_int_equal(regexec(&re, fd_kube_pod_name(w.k, p2), 0, NULL, 0), 0);
	/* a rollback: the old ReplicaSet, new pods */
	fd_kube_rollout(w.k, 0, T0 + 600 * NS, "v1", false);
	int p3 = fd_kube_pod_start(w.k, 0, 0, T0 + 600 * NS, T0 + 630 * NS, 20 * NS, "v1", FD_POD_ROLLOUT);
	hash_of(fd_kube_pod_name(w.k, p3), h);
	assert_string_equal(h, h0);
	for (int i = 0; i < 3; i++)
		assert_string_not_equal(fd_kube_pod_name(w.k, p3), names[i]);
	/* a rollout restart: a new template again */
	fd_kube_rollout(w.k, 0, T0 + 900 * NS, "v1", true);
	int p4 = fd_kube_pod_start(w.k, 0, 0, T0 + 900 * NS, T0 + 930 * NS, 20 * NS, "v1", FD_POD_ROLLOUT);
	hash_of(fd_kube_pod_name(w.k, p4), h);
	assert_string_not_equal(h, h0);
	assert_string_not_equal(h, h2);
	world_close(&w);

	/* another seed, another scenario: other names */
	struct world o;
	world_open(&o, "shop-a", 2);
	int q = fd_kube_pod_start(o.k, 0, 0, T0, T0, 0, "v1", FD_POD_INITIAL);
	hash_of(fd_kube_pod_name(o.k, q), h);
	assert_string_not_equal(h, h0);
	world_close(&o);
	world_open(&o, "shop-b", 1);
	q = fd_kube_pod_start(o.k, 0, 0, T0, T0, 0, "v1", FD_POD_INITIAL);
	hash_of(fd_kube_pod_name(o.k, q), h);
	assert_string_not_equal(h, h0);
	world_close(&o);
	/* the same scenario and seed: the same names */
	world_open(&o, "shop-a", 1);
	q = fd_kube_pod_start(o.k, 0, 0, T0, T0, 0, "v1", FD_POD_INITIAL);
	assert_string_equal(fd_kube_pod_name(o.k, q), names[0]);
	world_close(&o);
	regfree(&re);
}

static const char *attr(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key) && kv[i]->value &&
		    kv[i]->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return kv[i]->value->string_value;
	return NULL;
}

/* The reasons of the events pushed, in push order, and checks on each. */
static size_t events(struct world *w, const char **reasons, int64_t *times, size_t max, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < w->out.n && n < max; i++) {
		const struct rec *r = &w->out.v[i];
		if (r->sig != FD_SIGNAL_LOGS)
			continue;
		Opentelemetry__Proto__Logs__V1__LogRecord *lr =
			opentelemetry__proto__logs__v1__log_record__unpack(NULL, r->len, r->data);
		Opentelemetry__Proto__Resource__V1__Resource *res =
			opentelemetry__proto__resource__v1__resource__unpack(NULL, r->res->len, r->res->data);
		assert_non_null(lr);
		assert_non_null(res);
		const char *k = attr(res->attributes, res->n_attributes, "k8s.object.kind");
		assert_non_null(k);
		assert_non_null(attr(lr->attributes, lr->n_attributes, "k8s.event.uid"));
		assert_non_null(attr(lr->attributes, lr->n_attributes, "k8s.event.start_time"));
		assert_non_null(attr(res->attributes, res->n_attributes, "k8s.object.resource_version"));
		if (!kind || !strcmp(k, kind)) {
			static char keep[64][32];
			snprintf(keep[n], sizeof(keep[n]), "%s", attr(lr->attributes, lr->n_attributes, "k8s.event.reason"));
			reasons[n] = keep[n];
			times[n] = (int64_t)lr->time_unix_nano;
			n++;
		}
		opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
		opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
	}
	return n;
}

static void test_pod_events(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	for (int i = 0; i < 3; i++)
		fd_kube_pod_start(w.k, 0, i, T0, T0, 0, "v1", FD_POD_INITIAL);
	assert_int_equal(w.out.n, 0); /* running before the scenario: silent */
	int64_t floor = T0 + 60 * NS, take = T0 + 95 * NS;
	fd_kube_rollout(w.k, 0, floor, "v2", false);
	int pod = fd_kube_pod_start(w.k, 0, 0, floor, take, 20 * NS, "v2", FD_POD_ROLLOUT);
	const char *reasons[64];
	int64_t times[64];
	size_t n = events(&w, reasons, times, 64, NULL);
	/* the process takes 20 s to listen: two readiness probes refused */
	const char *want[] = {"ScalingReplicaSet", "Scheduled", "Pulling", "Pulled", "Created", "Started",
			      "Unhealthy", "Unhealthy"};
	assert_int_equal(n, 8);
	/* stamped as the receiver does: the scheduler's event in microseconds,
	 * the kubelet's and controllers' in whole seconds (so within a second
	 * their order is lost, as in a real backend) */
	for (size_t i = 0; i < n; i++) {
		size_t same = 0, want_same = 0;
		for (size_t j = 0; j < n; j++) {
			same += !strcmp(reasons[j], reasons[i]);
			want_same += !strcmp(want[j], reasons[i]);
		}
		assert_int_equal(same, want_same);
		assert_true(times[i] >= floor - NS && times[i] <= take);
		if (!strcmp(reasons[i], "Scheduled"))
			assert_true(times[i] % 1000 == 0 && times[i] % NS != 0);
		else
			assert_true(times[i] % NS == 0);
	}
	/* InstrumentationScope{name, version}: the receiver's package */
	const char *scope = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/k8seventsreceiver";
	const struct fd_blob *sb = w.out.v[1].scope;
	assert_int_equal(sb->len, 2 + strlen(scope) + 2 + 7);
	assert_memory_equal(sb->data + 2, scope, strlen(scope));
	assert_memory_equal(sb->data + 4 + strlen(scope), "0.119.0", 7);
	/* the second pod of v2 on the same node: the image is cached */
	for (size_t i = 0; i < w.out.n; i++)
		free(w.out.v[i].data);
	w.out.n = 0;
	/* an OOM kill: the node says so, the container gets a new id */
	struct pbw b = {0};
	fd_kube_resource_attrs(w.k, pod, &b);
	char before[4096];
	memcpy(before, b.buf, b.len);
	size_t blen = b.len;
	fd_kube_container_died(w.k, pod, T0 + 300 * NS, true, false, T0 + 320 * NS);
	n = events(&w, reasons, times, 64, "Node");
	assert_int_equal(n, 1);
	assert_string_equal(reasons[0], "OOMKilling");
	/* Pulled (already present), Created, Started about a second after the
	 * kill; then its process starts for ~20 s, refusing readiness probes
	 * (one Unhealthy event, its count rising) */
	n = events(&w, reasons, times, 64, "Pod");
	assert_true(n >= 4);
	assert_string_equal(reasons[0], "Pulled");
	assert_string_equal(reasons[2], "Started");
	assert_true(times[0] >= T0 + 300 * NS && times[2] <= T0 + 302 * NS);
	for (size_t i = 3; i < n; i++) {
		assert_string_equal(reasons[i], "Unhealthy");
		assert_true(times[i] >= times[2] + 5 * NS && times[i] < T0 + 320 * NS);
	}
	pbw_reset(&b);
	fd_kube_resource_attrs(w.k, pod, &b);
	assert_int_equal(b.len, blen);
	assert_memory_not_equal(b.buf, before, blen); /* container.id */
	pbw_finish(&b);
	world_close(&w);
}

/* The last value of a metric pushed before `before` for a resource (or a
 * point) with attribute key=value. */
static double last_value(struct world *w, const char *name, const char *key, const char *value, int64_t before)
{
	double v = -1;
	for (size_t i = 0; i < w->out.n; i++) {
		const struct rec *r = &w->out.v[i];
		if (r->sig != FD_SIGNAL_METRICS || r->t >= before)
			continue;
		Opentelemetry__Proto__Metrics__V1__Metric *m =
			opentelemetry__proto__metrics__v1__metric__unpack(NULL, r->len, r->data);
		assert_non_null(m);
		if (!strcmp(m->name, name)) {
			Opentelemetry__Proto__Resource__V1__Resource *res =
				opentelemetry__proto__resource__v1__resource__unpack(NULL, r->res->len, r->res->data);
			Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dp =
				m->gauge ? m->gauge->data_points : m->sum->data_points;
			const char *rv = attr(res->attributes, res->n_attributes, key);
			const char *pv = attr(dp[0]->attributes, dp[0]->n_attributes, key);
			if ((rv && !strcmp(rv, value)) || (pv && !strcmp(pv, value)))
				v = dp[0]->value_case ==
						    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
					    ? (double)dp[0]->as_int : dp[0]->as_double;
			opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
		}
		opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
	}
	return v;
}

/* Events about pods with this reason in [from, to). */
static int pod_events(struct world *w, const char *reason, int64_t from, int64_t to)
{
	const char *reasons[64];
	int64_t times[64];
	size_t n = events(w, reasons, times, 64, "Pod");
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found += !strcmp(reasons[i], reason) && times[i] >= from && times[i] < to;
	return found;
}

/* The scenario's first 30 minutes: the job at 10m on node-b, the lock
 * holder 20m-25m (its statements 50 ms slower). With undo, a mitigation
 * deletes the job at 15m and ends the lock holder at 22m. Returns the
 * transactions waiting for a lock at 23m and after 27m. */
static void co_tenant_and_locks(struct world *w, bool undo, double *waits_during, double *waits_after)
{
	int pods[3];
	for (int i = 0; i < 3; i++)
		pods[i] = fd_kube_pod_start(w->k, 0, i, T0, T0, 0, "v1", FD_POD_INITIAL);
	const struct fd_query *q = &w->sc->databases[0].queries[0];
	for (int64_t t = T0 + 15 * NS; t <= T0 + 30 * 60 * NS; t += 15 * NS) {
		for (size_t e = 0; e < w->sc->n_events; e++)
			if (T0 + w->sc->events[e].at_ns > t - 15 * NS && T0 + w->sc->events[e].at_ns <= t) {
				fd_kube_event(w->k, &w->sc->events[e], T0 + w->sc->events[e].at_ns);
				fd_stores_event(w->st, &w->sc->events[e], T0 + w->sc->events[e].at_ns);
			}
		if (undo && t == T0 + 15 * 60 * NS)
			fd_kube_undo(w->k, &w->sc->events[0], t);
		if (undo && t == T0 + 22 * 60 * NS)
			fd_stores_undo(w->st, &w->sc->events[1], t);
		fd_kube_step(w->k, t);
		for (int i = 0; i < 3; i++)
			fd_kube_pod_usage(w->k, pods[i], 0.3, 300e6);
		/* 1000 statements of 4 ms per interval; 50 ms more while locked:
		 * ~3 waiting at any time */
		bool locked = t > T0 + 20 * 60 * NS && t < T0 + 25 * 60 * NS;
		for (int s = 0; s < 1000; s++)
			fd_stores_query(w->st, q, 0, s % 3, 10, t - 10 * NS, 4000000, locked ? 54000000 : 4000000, false);
		fd_kube_scrape(w->k, t, 15 * NS);
		fd_stores_scrape(w->st, t, 15 * NS);
	}
	*waits_during = *waits_after = -1;
	for (size_t i = 0; i < w->out.n; i++) {
		const struct rec *r = &w->out.v[i];
		if (r->sig != FD_SIGNAL_METRICS)
			continue;
		Opentelemetry__Proto__Metrics__V1__Metric *m =
			opentelemetry__proto__metrics__v1__metric__unpack(NULL, r->len, r->data);
		/* one record, a point per lock type, mode and relation */
		for (size_t j = 0; !strcmp(m->name, "postgresql.database.locks") && j < m->gauge->n_data_points; j++) {
			Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = m->gauge->data_points[j];
			const char *mode = attr(dp->attributes, dp->n_attributes, "mode");
			if (mode && !strcmp(mode, "ShareLock")) {
				if (r->t > T0 + 23 * 60 * NS && r->t < T0 + 24 * 60 * NS)
					*waits_during = (double)dp->as_int;
				if (r->t > T0 + 27 * 60 * NS)
					*waits_after = (double)dp->as_int;
			}
		}
		opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
	}
	fprintf(stderr, "transactions waiting for a lock: %.0f while held, %.0f after\n", *waits_during, *waits_after);
}

static void test_co_tenant_and_locks(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	double waits_during, waits_after;
	co_tenant_and_locks(&w, false, &waits_during, &waits_after);
	/* the job's node: ~5 cores more than before; the others as before */
	double b_before = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", T0 + 9 * 60 * NS);
	double b_after = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", T0 + 29 * 60 * NS);
	double a_after = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-a", T0 + 29 * 60 * NS);
	fprintf(stderr, "node-b %.2f -> %.2f cores, node-a %.2f\n", b_before, b_after, a_after);
	assert_true(b_after > b_before + 4 && a_after < 1.5);
	assert_true(pod_events(&w, "Scheduled", T0 + 600 * NS, T0 + 3600 * NS) >= 1);
	/* lock waits on the database only while the holder holds */
	assert_true(waits_during >= 1 && waits_after == 0);
	assert_int_equal(w.out.displaced, 0);
	world_close(&w);
}

/* A mitigation that undoes them (a live drill's action): the job is
 * deleted, its node quiet again; the holder's lock released, no more
 * waiting transactions although its statements are still slow. */
static void test_undo(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	double waits_during, waits_after;
	co_tenant_and_locks(&w, true, &waits_during, &waits_after);
	double b_before = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", T0 + 9 * 60 * NS);
	double b_job = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", T0 + 14 * 60 * NS);
	double b_after = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", T0 + 29 * 60 * NS);
	fprintf(stderr, "node-b %.2f -> %.2f -> %.2f cores\n", b_before, b_job, b_after);
	assert_true(b_job > b_before + 4 && b_after < b_before + 0.5);
	assert_int_equal(pod_events(&w, "Killing", T0 + 15 * 60 * NS, T0 + 16 * 60 * NS), 1);
	assert_true(waits_during == 0 && waits_after == 0);
	world_close(&w);
}

/* A node whose pods want more CPU than it has (the job's 5 cores, a
 * service pod wanting 4 of node-b's 8): each gets cores / demand of what it
 * wants, so the pods never add up to more than the node. */
static void test_oversubscribed(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	int pods[3], on_b = -1;
	for (int i = 0; i < 3; i++) {
		pods[i] = fd_kube_pod_start(w.k, 0, i, T0, T0, 0, "v1", FD_POD_INITIAL);
		if (fd_kube_node_decl(w.k, fd_kube_pod_node(w.k, pods[i])) == 1)
			on_b = i;
	}
	assert_true(on_b >= 0);
	int64_t end = T0 + 15 * 60 * NS;
	for (int64_t t = T0 + 15 * NS; t <= end; t += 15 * NS) {
		if (t == T0 + 10 * 60 * NS)
			fd_kube_event(w.k, &w.sc->events[0], t);
		fd_kube_step(w.k, t);
		for (int i = 0; i < 3; i++)
			fd_kube_pod_usage(w.k, pods[i], i == on_b ? 4.0 : 0.3, 300e6);
		fd_kube_scrape(w.k, t, 15 * NS);
	}
	double node = last_value(&w, "k8s.node.cpu.usage", "k8s.node.name", "node-b", end + 10 * NS);
	double pods_sum = 0;
	for (size_t i = 0; i < w.out.n; i++) {
		const struct rec *r = &w.out.v[i];
		if (r->sig != FD_SIGNAL_METRICS || r->t < end)
			continue;
		Opentelemetry__Proto__Metrics__V1__Metric *m =
			opentelemetry__proto__metrics__v1__metric__unpack(NULL, r->len, r->data);
		if (!strcmp(m->name, "k8s.pod.cpu.usage")) {
			Opentelemetry__Proto__Resource__V1__Resource *res =
				opentelemetry__proto__resource__v1__resource__unpack(NULL, r->res->len, r->res->data);
			const char *n = attr(res->attributes, res->n_attributes, "k8s.node.name");
			if (n && !strcmp(n, "node-b"))
				pods_sum += m->gauge->data_points[0]->as_double;
			opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
		}
		opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
	}
	fprintf(stderr, "node-b: %.2f cores used, its pods %.2f\n", node, pods_sum);
	assert_true(node > 7.9 && node <= 8);
	assert_true(pods_sum > 7 && pods_sum <= node);
	world_close(&w);
}

/* A new pod whose process takes 30 s to listen: its readiness probe is
 * refused every 10 s until then, and the kubelet folds the repeats into one
 * Unhealthy event whose count goes up. A pod running before the scenario
 * says nothing. */
static void test_startup_probes(void **state)
{
	(void)state;
	struct world w;
	world_open(&w, "shop-a", 1);
	fd_kube_pod_start(w.k, 0, 0, T0, T0, 0, "v1", FD_POD_INITIAL);
	assert_int_equal(pod_events(&w, "Unhealthy", T0 - 3600 * NS, T0 + 3600 * NS), 0);
	fd_kube_rollout(w.k, 0, T0 + 60 * NS, "v2", false);
	int pod = fd_kube_pod_start(w.k, 0, 1, T0 + 60 * NS, T0 + 100 * NS, 30 * NS, "v2", FD_POD_ROLLOUT);
	assert_true(pod >= 0);
	char ip[32] = "";
	int n = 0;
	char name[256] = "", first[64] = "";
	for (size_t i = 0; i < w.out.n; i++) {
		const struct rec *r = &w.out.v[i];
		if (r->sig != FD_SIGNAL_LOGS)
			continue;
		Opentelemetry__Proto__Logs__V1__LogRecord *lr =
			opentelemetry__proto__logs__v1__log_record__unpack(NULL, r->len, r->data);
		const char *reason = attr(lr->attributes, lr->n_attributes, "k8s.event.reason");
		if (!strcmp(reason, "Unhealthy")) {
			n++;
			const char *body = lr->body->string_value;
			fprintf(stderr, "%.3f s: %s\n", (double)((int64_t)lr->time_unix_nano - T0) / 1e9, body);
			assert_non_null(strstr(body, "Readiness probe failed: Get \"http://10.244."));
			assert_non_null(strstr(body, ":8080/readyz\": dial tcp "));
			assert_non_null(strstr(body, "connect: connection refused"));
			if (!ip[0])
				snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(body + 32, ":"), body + 32);
			assert_non_null(strstr(body + 40, ip)); /* the same address twice */
			assert_true((int64_t)lr->time_unix_nano > T0 + 60 * NS && (int64_t)lr->time_unix_nano < T0 + 100 * NS);
			assert_int_equal(lr->severity_number, 13);
			/* one event, its count going up, its start time the first's */
			const char *en = attr(lr->attributes, lr->n_attributes, "k8s.event.name");
			const char *st = attr(lr->attributes, lr->n_attributes, "k8s.event.start_time");
			if (n == 1) {
				snprintf(name, sizeof(name), "%s", en);
				snprintf(first, sizeof(first), "%s", st);
			}
			assert_string_equal(en, name);
			assert_string_equal(st, first);
			int64_t count = -1;
			for (size_t a = 0; a < lr->n_attributes; a++)
				if (!strcmp(lr->attributes[a]->key, "k8s.event.count"))
					count = lr->attributes[a]->value->int_value;
			assert_int_equal(count, n);
		}
		opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
	}
	assert_true(n >= 2 && n <= 3);
	world_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_names),
		cmocka_unit_test(test_pod_events),
		cmocka_unit_test(test_co_tenant_and_locks),
		cmocka_unit_test(test_undo),
		cmocka_unit_test(test_startup_probes),
		cmocka_unit_test(test_oversubscribed),
	};
	return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
