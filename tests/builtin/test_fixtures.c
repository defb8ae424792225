/*
 * Every built-in fixture tells its story in the data (issue #4): the defining
 * signal moves by the intended amount at the intended time and stays put
 * outside the window, the red herrings are there, and where the fixture
 * mitigates, the signal comes back. Figures come from the telemetry itself
 * (access logs, metrics, log lines decoded by observe.c) and from the
 * simulation's measured answer key.
 *
 * Times are offsets from the scenario start, in seconds. Windows skip the
 * minutes right after a change (rollouts, ramps, drains) so the checks do
 * not depend on exactly when a transition completes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "generator/builtin.h"
#include "tests/builtin/observe.h"

#define MIN 60.0

static void show(const char *what, struct obs_stats s)
{
	fprintf(stderr, "  %-44s n %6zu p50 %8.1f ms p95 %8.1f ms p99 %8.1f ms err %.2f%%\n", what, s.n,
		s.p50 * 1e3, s.p95 * 1e3, s.p99 * 1e3, s.error_rate * 100);
}

static struct obs_stats window(const struct obs *o, const char *key, double t0, double t1)
{
	struct obs_stats s = obs_window(o, key, t0, t1, NULL);
	char what[128];
	snprintf(what, sizeof(what), "%s [%.0fm,%.0fm)", key, t0 / MIN, t1 / MIN);
	show(what, s);
	assert_true(s.n > 100);
	return s;
}

static double metric(const struct obs *o, const char *name, const char *filter, double t0, double t1,
		     enum obs_agg agg)
{
	double v = obs_metric(o, name, filter, t0, t1, agg);
	fprintf(stderr, "  %s{%s} [%.0fm,%.0fm) = %.4g\n", name, filter ? filter : "", t0 / MIN, t1 / MIN, v);
	assert_false(isnan(v));
	return v;
}

/* A cumulative counter's mean rate per second over [t0, t1). */
static double rate(const struct obs *o, const char *name, const char *filter, double t0, double t1)
{
	double first = obs_metric(o, name, filter, t0, t1, OBS_MIN), last = obs_metric(o, name, filter, t0, t1, OBS_MAX);
	double r = (last - first) / (t1 - t0);
	fprintf(stderr, "  rate(%s{%s}) [%.0fm,%.0fm) = %.4g/s\n", name, filter ? filter : "", t0 / MIN, t1 / MIN, r);
	assert_false(isnan(r));
	return r;
}

static size_t logs(const struct obs *o, const char *who, const char *text, double t0, double t1)
{
	size_t n = obs_logs(o, who, text, t0, t1);
	fprintf(stderr, "  logs '%s' [%.0fm,%.0fm) = %zu\n", text, t0 / MIN, t1 / MIN, n);
	return n;
}

static void run(struct obs *o, const char *name, double duration_s, const char *const *metrics)
{
	fprintf(stderr, "%s:\n", name);
	assert_int_equal(obs_run(o, name, (int64_t)(duration_s * 1e9), metrics), 0);
	assert_int_equal(o->decode_errors, 0);
}

/* ---- every built-in scenario parses, has an interviewer's brief ---------- */

static void every_fixture_has_a_brief(void **state)
{
	(void)state;
	static const char *const keys[] = {"prompt:", "root_cause:", "trigger:", "mitigation:",
					   "verification:", "investigation:", "red_herrings:",
					   "evidence:"};
	size_t n = 0;
	for (const struct fd_builtin *b = fd_builtins; b->name; b++, n++) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strstr(b->text, keys[k]))
				fail_msg("%s has no %s in its answer", b->name, keys[k]);
	}
	assert_true(n >= 5);
}

/* ---- pool-exhaustion ----------------------------------------------------------- */

static void pool_exhaustion(void **state)
{
	(void)state;
	static const char *const m[] = {"db.client.connection.pending_requests", "db.client.connection.max",
					"postgresql.backends", "postgresql.database.locks", NULL};
	struct obs o;
	run(&o, "pool-exhaustion", 0, m);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 10 * MIN, 60 * MIN);
	struct obs_stats during = window(&o, k, 65 * MIN, 100 * MIN);
	struct obs_stats after = window(&o, k, 105 * MIN, 120 * MIN);
	assert_true(before.p95 < 0.4);
	assert_true(during.p95 > 3.0);            /* ~5 s: waits up to connectionTimeout */
	assert_true(during.error_rate > 0.02 && during.error_rate < 0.15);
	assert_true(before.error_rate < 0.005);
	assert_true(after.p95 < 0.4);             /* the rollback restores it */
	assert_true(after.error_rate < 0.005);
	/* the control group stays put */
	struct obs_stats sb = window(&o, "gateway GET /search", 10 * MIN, 60 * MIN);
	struct obs_stats sd = window(&o, "gateway GET /search", 65 * MIN, 100 * MIN);
	assert_true(fabs(sd.p95 - sb.p95) < 0.2 * sb.p95);
	/* saturation: requests wait for an orders-db connection, only during */
	assert_true(metric(&o, "db.client.connection.pending_requests", "orders-db", 0, 60 * MIN, OBS_MAX) < 0.5);
	assert_true(metric(&o, "db.client.connection.pending_requests", "orders-db", 65 * MIN, 100 * MIN, OBS_MEAN) > 20);
	assert_true(metric(&o, "db.client.connection.pending_requests", "orders-db", 105 * MIN, 120 * MIN, OBS_MAX) < 0.5);
	/* the pool maximum shows the config change: 2 x 40 -> 2 x 2 */
	assert_true(metric(&o, "db.client.connection.max", "orders-db", 0, 60 * MIN, OBS_MIN) == 80);
	assert_true(metric(&o, "db.client.connection.max", "orders-db", 65 * MIN, 100 * MIN, OBS_MAX) == 4);
	/* the server's side: far fewer backends (the pools' connections), and
	 * no more transactions in flight than before: it looks idle */
	assert_true(metric(&o, "postgresql.backends", "orders-db:5432@", 10 * MIN, 60 * MIN, OBS_MIN) >= 80);
	assert_true(metric(&o, "postgresql.backends", "orders-db:5432@", 70 * MIN, 100 * MIN, OBS_MAX) <= 10);
	const char *active = "orders-db:5432@|lock_type=transactionid,mode=ExclusiveLock";
	assert_true(metric(&o, "postgresql.database.locks", active, 70 * MIN, 100 * MIN, OBS_MAX) <=
		    fmax(2, metric(&o, "postgresql.database.locks", active, 10 * MIN, 60 * MIN, OBS_MAX)));
	/* the added time is pool wait, not the database */
	double wait = obs_figure(&o, "added_time", "orders-db connection pool wait", "during");
	fprintf(stderr, "  added pool wait %.3f s\n", wait);
	assert_true(wait > 2.0);
	for (size_t i = 0; i < o.n_figs; i++)
		if (!strcmp(o.figs[i].name, "added_time") && strstr(o.figs[i].subject, "query"))
			assert_true(o.figs[i].value < 0.05 * wait);
	assert_true(logs(&o, "orders", "connection pool orders-db exhausted", 0, 60 * MIN) == 0);
	assert_true(logs(&o, "orders", "connection pool orders-db exhausted", 65 * MIN, 100 * MIN) > 100);
	/* HikariCP's timeout, raised in orders (Java) */
	assert_true(logs(&o, "orders", "Connection is not available, request timed out", 65 * MIN, 100 * MIN) > 500);
	/* red herrings */
	assert_true(logs(&o, "orders", "replication lag", 0, 60 * MIN) > 100);
	assert_true(logs(&o, "orders", "cron job orders-db-vacuum started", 69 * MIN, 71 * MIN) == 1);
	obs_free(&o);
}

/* ---- cache-stampede ------------------------------------------------------------ */

static void cache_stampede(void **state)
{
	(void)state;
	static const char *const m[] = {"db.client.connection.count", "process.cpu.utilization",
					"redis.keyspace.hits", "redis.keyspace.misses", "redis.db.keys",
					"mysql.query.count", "mysql.threads", NULL};
	struct obs o;
	run(&o, "cache-stampede", 90 * MIN, m);
	const char *k = "gateway GET /products/{id}";
	struct obs_stats before = window(&o, k, 10 * MIN, 60 * MIN);
	struct obs_stats peak = window(&o, k, 60 * MIN, 64 * MIN);
	struct obs_stats after = window(&o, k, 72 * MIN, 90 * MIN);
	assert_true(before.p95 < 0.1);
	assert_true(peak.p95 > 5 * before.p95);   /* ~75 ms -> ~0.7 s */
	assert_true(peak.p99 > 0.6);
	assert_true(after.p95 < 1.2 * before.p95); /* warmed up again, nothing done */
	assert_true(peak.error_rate < 0.01);
	/* the database took the misses: catalog-db connections in use */
	double used_before = metric(&o, "db.client.connection.count", "catalog-db,db.client.connection.state=used",
				    10 * MIN, 60 * MIN, OBS_MEAN);
	double used_peak = metric(&o, "db.client.connection.count", "catalog-db,db.client.connection.state=used",
				  60 * MIN, 64 * MIN, OBS_MEAN);
	double used_after = metric(&o, "db.client.connection.count", "catalog-db,db.client.connection.state=used",
				   72 * MIN, 90 * MIN, OBS_MEAN);
	assert_true(used_peak > 30 * used_before);
	assert_true(used_after < 2 * used_before);
	assert_true(logs(&o, NULL, "cache flushed (FLUSHALL)", 59 * MIN, 61 * MIN) == 1);
	/* the servers' side: redis lost its keys and missed, MySQL ran the
	 * misses' statements */
	double miss_before = rate(&o, "redis.keyspace.misses", NULL, 10 * MIN, 60 * MIN);
	double miss_peak = rate(&o, "redis.keyspace.misses", NULL, 60 * MIN, 64 * MIN);
	double hit_before = rate(&o, "redis.keyspace.hits", NULL, 10 * MIN, 60 * MIN);
	double hit_after = rate(&o, "redis.keyspace.hits", NULL, 75 * MIN, 90 * MIN);
	double miss_after = rate(&o, "redis.keyspace.misses", NULL, 75 * MIN, 90 * MIN);
	assert_true(miss_peak > 10 * miss_before);
	assert_true(miss_before / (miss_before + hit_before) < 0.05);
	assert_true(miss_after / (miss_after + hit_after) < 0.05);
	double keys_before = metric(&o, "redis.db.keys", NULL, 10 * MIN, 60 * MIN, OBS_MIN);
	assert_true(metric(&o, "redis.db.keys", NULL, 60 * MIN, 62 * MIN, OBS_MIN) < 0.1 * keys_before);
	/* the hot set is back within minutes (hits as before) while the
	 * keyspace refills slowly */
	double keys_refill = metric(&o, "redis.db.keys", NULL, 65 * MIN, 70 * MIN, OBS_MEAN);
	assert_true(keys_refill > 1000);
	assert_true(metric(&o, "redis.db.keys", NULL, 80 * MIN, 90 * MIN, OBS_MEAN) > keys_refill);
	double q_before = rate(&o, "mysql.query.count", NULL, 10 * MIN, 60 * MIN);
	double q_peak = rate(&o, "mysql.query.count", NULL, 60 * MIN, 64 * MIN);
	double q_after = rate(&o, "mysql.query.count", NULL, 75 * MIN, 90 * MIN);
	assert_true(q_peak > 10 * q_before);
	assert_true(q_after < 2 * q_before);
	assert_true(metric(&o, "mysql.threads", "kind=running", 60 * MIN, 64 * MIN, OBS_MAX) >
		    2 * metric(&o, "mysql.threads", "kind=running", 10 * MIN, 60 * MIN, OBS_MAX));
	/* the measured answer key sees the spike and the recovery */
	assert_true(obs_figure(&o, "p95", k, "during") > 4 * obs_figure(&o, "p95", k, "before"));
	assert_true(obs_figure(&o, "p95", k, "after") < 1.2 * obs_figure(&o, "p95", k, "before"));
	/* red herrings: pricing's CPU blip at 1:02, the stale feature store warnings */
	double cpu_before = metric(&o, "process.cpu.utilization", "pricing", 10 * MIN, 60 * MIN, OBS_MEAN);
	double cpu_blip = metric(&o, "process.cpu.utilization", "pricing", 62 * MIN, 65 * MIN, OBS_MEAN);
	assert_true(cpu_blip > 2 * cpu_before);
	assert_true(logs(&o, "recommendations", "feature store stale", 0, 60 * MIN) > 100);
	obs_free(&o);
}

/* ---- memory-leak-oom ----------------------------------------------------------- */

static void memory_leak_oom(void **state)
{
	(void)state;
	static const char *const m[] = {"process.memory.usage", "process.restart.count",
					"jvm.gc.duration", "k8s.container.restarts", NULL};
	struct obs o;
	run(&o, "memory-leak-oom", 0, m);
	const char *k = "gateway POST /cart/items";
	/* memory: flat before, a saw-tooth up to the 1 GiB limit during */
	double mib = 1048576.0;
	double base = metric(&o, "process.memory.usage", "cart", 0, 30 * MIN, OBS_MAX) / 3;
	assert_true(base < 400 * mib);
	/* summed over the 3 instances: at its peak one of them is near its
	 * 1 GiB limit while the others are part-way up their own tooth */
	double high = metric(&o, "process.memory.usage", "cart", 40 * MIN, 90 * MIN, OBS_MAX);
	assert_true(high > 3 * base + 900 * mib);
	double after = metric(&o, "process.memory.usage", "cart", 95 * MIN, 110 * MIN, OBS_MAX) / 3;
	assert_true(after < 400 * mib);
	/* OOM kills: none before, several per instance during, none after */
	assert_true(metric(&o, "process.restart.count", "cart", 0, 30 * MIN, OBS_MAX) == 0);
	double r_mid = metric(&o, "process.restart.count", "cart", 60 * MIN, 62 * MIN, OBS_MAX);
	double r_end = metric(&o, "process.restart.count", "cart", 88 * MIN, 90 * MIN, OBS_MAX);
	double r_last = metric(&o, "process.restart.count", "cart", 105 * MIN, 110 * MIN, OBS_MAX);
	assert_true(r_mid >= 2 && r_end >= 6 && r_end > r_mid); /* a saw-tooth, again and again */
	/* the rollback's pods are new ones (a pod's count starts at 0), and
	 * none of them is killed */
	assert_true(r_last == 0);
	size_t kills = logs(&o, "cart", "OOMKilled", 30 * MIN, 95 * MIN);
	assert_true(kills >= 6 && kills <= 15);
	assert_true(logs(&o, "cart", "OOMKilled", 95 * MIN, 110 * MIN) == 0);
	/* the cluster says so too: the kernel's OOMKilling on the node, the
	 * containers' restart counts going up (in the new ReplicaSet's pods) */
	size_t oom_events = logs(&o, NULL, "Memory cgroup out of memory: Killed process", 30 * MIN, 95 * MIN);
	assert_true(oom_events == kills);
	assert_true(logs(&o, NULL, "Memory cgroup out of memory", 0, 30 * MIN) == 0);
	assert_true(metric(&o, "k8s.container.restarts", "cart-", 5 * MIN, 30 * MIN, OBS_MAX) == 0);
	assert_true(metric(&o, "k8s.container.restarts", "cart-", 86 * MIN, 90 * MIN, OBS_MAX) >= 3);
	/* the deploy is marked: a new ReplicaSet scaled up, the old one down */
	assert_true(logs(&o, NULL, "Scaled up replica set cart-", 29.9 * MIN, 37 * MIN) == 3);
	assert_true(logs(&o, NULL, "Scaled down replica set cart-", 29.9 * MIN, 37 * MIN) == 3);
	assert_true(logs(&o, NULL, "Scaled up replica set cart-", 0, 29.9 * MIN) == 0);
	/* GC and latency creep up as the heap fills */
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats during = window(&o, k, 40 * MIN, 90 * MIN);
	struct obs_stats recovered = window(&o, k, 95 * MIN, 110 * MIN);
	assert_true(during.p99 > 1.8 * before.p99);
	assert_true(during.error_rate > 0 && before.error_rate == 0); /* killed in flight: 502 */
	assert_true(recovered.p99 < 1.3 * before.p99);
	/* red herring: the cleanup cron runs on schedule */
	assert_true(logs(&o, "cart", "cron job abandoned-cart-cleanup started", 0, 110 * MIN) == 2);
	obs_free(&o);
}

/* ---- queue-backlog ------------------------------------------------------------- */

static void queue_backlog(void **state)
{
	(void)state;
	static const char *const m[] = {"messaging.kafka.consumer.lag", "process.cpu.utilization",
					"kafka.consumer_group.lag_sum", "kafka.consumer_group.lag", NULL};
	struct obs o;
	run(&o, "queue-backlog", 0, m);
	const char *lag = "messaging.kafka.consumer.lag";
	assert_true(metric(&o, lag, "order-events", 0, 40 * MIN, OBS_MAX) < 100);
	double at60 = metric(&o, lag, "order-events", 58 * MIN, 60 * MIN, OBS_MEAN);
	double at85 = metric(&o, lag, "order-events", 83 * MIN, 85 * MIN, OBS_MEAN);
	double peak = metric(&o, lag, "order-events", 40 * MIN, 120 * MIN, OBS_MAX);
	/* ~10 messages/s of backlog: grows steadily until the scale-out */
	assert_true(at60 > 8000 && at85 > at60 + 10000);
	assert_true(peak > 20000);
	/* drains after the scale out at 1:30 */
	assert_true(metric(&o, lag, "order-events", 110 * MIN, 120 * MIN, OBS_MAX) < 100);
	assert_true(logs(&o, "fulfillment", "is behind", 60 * MIN, 90 * MIN) > 100);
	assert_true(logs(&o, "fulfillment", "is behind", 0, 40 * MIN) == 0);
	/* the broker's side (kafkametrics): the group's lag, summed and per
	 * partition, grows and drains with the client's */
	const char *grp = "group=fulfillment,topic=order-events";
	assert_true(metric(&o, "kafka.consumer_group.lag_sum", grp, 0, 40 * MIN, OBS_MAX) < 200);
	double b60 = metric(&o, "kafka.consumer_group.lag_sum", grp, 58 * MIN, 60 * MIN, OBS_MEAN);
	assert_true(b60 > 0.8 * at60 && b60 < 1.2 * at60);
	assert_true(metric(&o, "kafka.consumer_group.lag_sum", grp, 110 * MIN, 120 * MIN, OBS_MAX) < 200);
	assert_true(fabs(metric(&o, "kafka.consumer_group.lag", grp, 58 * MIN, 60 * MIN, OBS_MEAN) - b60) < 0.01 * b60 + 10);
	/* the API looks healthy throughout */
	struct obs_stats before = window(&o, "gateway POST /checkout", 5 * MIN, 40 * MIN);
	struct obs_stats during = window(&o, "gateway POST /checkout", 45 * MIN, 90 * MIN);
	assert_true(fabs(during.p95 - before.p95) < 0.15 * before.p95);
	assert_true(during.error_rate < 0.001);
	/* red herring: search reindex CPU blip at 0:50 */
	double cpu_b = metric(&o, "process.cpu.utilization", "search", 5 * MIN, 40 * MIN, OBS_MEAN);
	double cpu_h = metric(&o, "process.cpu.utilization", "search", 51 * MIN, 55 * MIN, OBS_MEAN);
	assert_true(cpu_h > 2 * cpu_b);
	obs_free(&o);
}

/* ---- dependency-outage -------------------------------------------------------- */

static void dependency_outage(void **state)
{
	(void)state;
	struct obs o;
	run(&o, "dependency-outage", 95 * MIN, NULL);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 5 * MIN, 60 * MIN);
	struct obs_stats during = window(&o, k, 61 * MIN, 85 * MIN);
	struct obs_stats after = window(&o, k, 87 * MIN, 95 * MIN);
	assert_true(before.p95 < 0.3 && before.error_rate < 0.005);
	assert_true(during.p50 > 5.5 && during.p50 < 7.0); /* 2 x 3 s timeouts + backoff */
	assert_true(during.error_rate > 0.9);
	assert_true(after.p95 < 0.3 && after.error_rate < 0.005); /* the provider recovered */
	/* only the callers of the dependency suffer */
	struct obs_stats sb = window(&o, "gateway GET /search", 5 * MIN, 60 * MIN);
	struct obs_stats sd = window(&o, "gateway GET /search", 61 * MIN, 85 * MIN);
	assert_true(fabs(sd.p95 - sb.p95) < 0.2 * sb.p95 && sd.error_rate == 0);
	assert_true(logs(&o, "payments", "api.cardprocessor.example/v1/charges failed (timeout), retrying", 61 * MIN, 85 * MIN) > 10000);
	assert_true(logs(&o, "payments", "failed (timeout), retrying", 0, 60 * MIN) == 0);
	/* the measured answer key: after is measured past the outage's end */
	assert_true(obs_figure(&o, "error_rate", k, "during") > 0.9);
	assert_true(obs_figure(&o, "error_rate", k, "after") < 0.005);
	/* red herring */
	assert_true(logs(&o, "notifier", "429 Too Many Requests", 0, 60 * MIN) > 100);
	/* nothing below the application: no restarts, evictions or probe
	 * failures while the provider is down */
	assert_true(logs(&o, NULL, "Back-off restarting", 0, 95 * MIN) == 0);
	assert_true(logs(&o, NULL, "Readiness probe failed", 0, 95 * MIN) == 0);
	assert_true(logs(&o, NULL, "Evicted", 0, 95 * MIN) + logs(&o, NULL, "Memory cgroup out of memory", 0, 95 * MIN) == 0);
	obs_free(&o);
}

/* ---- dependency-outage-breaker ------------------------------------------------ */

static void dependency_outage_breaker(void **state)
{
	(void)state;
	struct obs o;
	run(&o, "dependency-outage-breaker", 95 * MIN, NULL);
	/* nothing below the application while the provider is down */
	assert_true(logs(&o, NULL, "Back-off restarting", 0, 95 * MIN) == 0);
	assert_true(logs(&o, NULL, "Readiness probe failed", 0, 95 * MIN) == 0);
	assert_true(logs(&o, NULL, "Evicted", 0, 95 * MIN) + logs(&o, NULL, "Memory cgroup out of memory", 0, 95 * MIN) == 0);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 5 * MIN, 60 * MIN);
	struct obs_stats during = window(&o, k, 61 * MIN, 85 * MIN);
	struct obs_stats after = window(&o, k, 87 * MIN, 95 * MIN);
	assert_true(before.p95 < 0.3 && before.error_rate < 0.005);
	/* as many failures as without the breaker, but fast: most charges are
	 * refused in payments at once; only trial calls (and the calls
	 * already in flight when it opened) wait out the 3 s timeout */
	assert_true(during.error_rate > 0.9);
	assert_true(during.p50 < 0.3 && during.p95 < 0.3); /* vs ~6 s without the breaker */
	assert_true(after.p95 < 0.3 && after.error_rate < 0.005);
	const char *cb = "circuit breaker for api.cardprocessor.example (POST /v1/charges)";
	char opened[160], retrial[160], closed[160];
	snprintf(opened, sizeof(opened), "%s opened", cb);
	snprintf(retrial, sizeof(retrial), "%s: trial call failed, open again", cb);
	snprintf(closed, sizeof(closed), "%s closed: trial call succeeded", cb);
	/* each payments instance (2) opens its own breaker within seconds */
	assert_int_equal(logs(&o, "payments", opened, 60 * MIN, 61 * MIN), 2);
	assert_int_equal(logs(&o, "payments", opened, 0, 60 * MIN), 0);
	/* a trial about every 23 s (20 s open + 3 s timeout) per instance */
	size_t trials = logs(&o, "payments", retrial, 60 * MIN, 85 * MIN);
	assert_true(trials > 2 * 55 && trials < 2 * 70);
	assert_int_equal(logs(&o, "payments", closed, 85 * MIN, 86 * MIN), 2);
	assert_int_equal(logs(&o, "payments", closed, 0, 85 * MIN), 0);
	/* the breaker replaces most of the timeouts and retries */
	assert_true(logs(&o, "payments", "failed (timeout), retrying", 61 * MIN, 85 * MIN) < 1000);
	/* red herring */
	assert_true(logs(&o, "notifier", "429 Too Many Requests", 0, 60 * MIN) > 100);
	obs_free(&o);
}

/* ---- traffic-spike ------------------------------------------------------------- */

static void traffic_spike(void **state)
{
	(void)state;
	static const char *const m[] = {"process.cpu.utilization", "k8s.pod.cpu.usage", NULL};
	struct obs o;
	run(&o, "traffic-spike", 0, m);
	/* the catalog pods' CPU as the kubelet sees it follows the load */
	double pods_before = metric(&o, "k8s.pod.cpu.usage", "catalog-", 5 * MIN, 30 * MIN, OBS_MEAN);
	double pods_late = metric(&o, "k8s.pod.cpu.usage", "catalog-", 45 * MIN, 60 * MIN, OBS_MEAN);
	assert_true(pods_late > 2.5 * pods_before);
	const char *k = "gateway GET /products/{id}";
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats early = window(&o, k, 34 * MIN, 37 * MIN);
	struct obs_stats late = window(&o, k, 45 * MIN, 60 * MIN);
	struct obs_stats after = window(&o, k, 65 * MIN, 80 * MIN);
	/* the load itself: ~5x the requests per minute once ramped */
	assert_true(late.n / 15.0 > 4 * before.n / 25.0);
	/* only the tail at first: catalog at 60-75% busy */
	assert_true(early.p99 > 2 * before.p99);
	assert_true(early.p50 < 1.3 * before.p50);
	/* then everything: saturated, the median is many times normal */
	assert_true(late.p50 > 5 * before.p50);
	assert_true(late.p99 > 10 * before.p99);
	assert_true(late.error_rate < 0.01); /* slow, not failing */
	/* the scale-out brings it back at the new rate */
	assert_true(after.n / 15.0 > 4 * before.n / 25.0);
	assert_true(after.p99 < 1.3 * before.p99 && after.p50 < 1.1 * before.p50);
	/* the control group stays put */
	struct obs_stats sb = window(&o, "gateway GET /search", 5 * MIN, 30 * MIN);
	struct obs_stats sl = window(&o, "gateway GET /search", 45 * MIN, 60 * MIN);
	assert_true(fabs(sl.p95 - sb.p95) < 0.15 * sb.p95);
	/* saturation: catalog's 3 instances go from ~25% to 100% CPU, then
	 * 8 instances at ~50% */
	const char *cpu = "process.cpu.utilization";
	assert_true(metric(&o, cpu, "catalog", 5 * MIN, 30 * MIN, OBS_MAX) < 3 * 0.35);
	assert_true(metric(&o, cpu, "catalog", 45 * MIN, 60 * MIN, OBS_MEAN) > 3 * 0.97);
	double after_cpu = metric(&o, cpu, "catalog", 65 * MIN, 80 * MIN, OBS_MEAN) / 8;
	assert_true(after_cpu > 0.35 && after_cpu < 0.6);
	/* the added time is catalog's own (the render), per the answer key */
	assert_true(obs_figure(&o, "added_time", "catalog GET /products/{id} (own time)", "during") > 0.2);
	/* red herring: search's reindex CPU spike at 0:32 */
	double sc_b = metric(&o, cpu, "search", 5 * MIN, 30 * MIN, OBS_MEAN);
	double sc_h = metric(&o, cpu, "search", 33 * MIN, 36 * MIN, OBS_MEAN);
	assert_true(sc_h > 2.5 * sc_b);
	assert_true(logs(&o, "recommendations", "model cache miss", 0, 30 * MIN) > 100);
	obs_free(&o);
}

/* ---- noisy-neighbor ------------------------------------------------------------ */

static void noisy_neighbor(void **state)
{
	(void)state;
	static const char *const m[] = {"process.cpu.utilization", "k8s.node.cpu.usage", "k8s.pod.cpu.usage",
					"container.cpu.throttling_data.throttled_periods", NULL};
	struct obs o;
	run(&o, "noisy-neighbor", 0, m);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 5 * MIN, 40 * MIN);
	struct obs_stats during = window(&o, k, 41 * MIN, 75 * MIN);
	struct obs_stats after = window(&o, k, 76 * MIN, 90 * MIN);
	/* aggregate: the tail moves, the median hardly */
	assert_true(during.p99 > 4 * before.p99);
	assert_true(during.p95 > 2 * before.p95);
	assert_true(during.p50 < 1.15 * before.p50);
	assert_true(during.error_rate < 0.005);
	assert_true(after.p99 < 1.2 * before.p99);
	/* per instance: exactly one checkout pod is slow and busy, the five
	 * others look as they did before; the slow one's replacement (a new
	 * pod, on another node) is healthy */
	const char *bad = "ip-10-0-7-42";
	int slow = 0, seen = 0, moved = 0;
	char slow_pod[128] = "";
	for (size_t i = 0; i < o.n_res; i++) {
		const struct obs_res *r = &o.res[i];
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || !strcmp(o.res[j].instance, r->instance);
		if (dup || strcmp(r->service, "checkout"))
			continue;
		struct obs_stats ib = obs_window(&o, "checkout POST /checkout", 5 * MIN, 40 * MIN, r->instance);
		struct obs_stats id = obs_window(&o, "checkout POST /checkout", 41 * MIN, 75 * MIN, r->instance);
		if (ib.n == 0) { /* the replacement pod, from 1:15 */
			struct obs_stats ia = obs_window(&o, "checkout POST /checkout", 77 * MIN, 90 * MIN, r->instance);
			fprintf(stderr, "  %-40s (new, on %s) p95 %6.1f ms n %5zu\n", r->instance, r->node,
				ia.p95 * 1e3, ia.n);
			assert_true(ia.n > 1000 && ia.p95 < 1.2 * before.p95);
			assert_null(strstr(r->node, bad));
			moved++;
			continue;
		}
		seen++;
		double cb = obs_metric(&o, "process.cpu.utilization", r->instance, 5 * MIN, 40 * MIN, OBS_MEAN);
		double cd = obs_metric(&o, "process.cpu.utilization", r->instance, 41 * MIN, 75 * MIN, OBS_MEAN);
		fprintf(stderr, "  %-40s p95 %6.1f -> %6.1f ms, n %5zu -> %5zu, cpu %.2f -> %.2f on %s\n",
			r->instance, ib.p95 * 1e3, id.p95 * 1e3, ib.n, id.n, cb, cd, r->node);
		assert_true(cb < 0.35);
		if (id.p95 > 3 * ib.p95) {
			slow++;
			assert_true(cd > 0.7); /* its own metrics say it is busy */
			assert_non_null(strstr(r->node, bad)); /* and where it runs */
			snprintf(slow_pod, sizeof(slow_pod), "%s", r->instance);
		} else {
			assert_true(id.p95 < 1.2 * ib.p95);
			assert_true(fabs(cd - cb) < 0.05);
		}
		/* the same share of requests everywhere: not a balancing problem */
		assert_true(id.n > 0.8 * ib.n * 34.0 / 35.0);
	}
	assert_int_equal(seen, 6);
	assert_int_equal(slow, 1);
	assert_int_equal(moved, 1);
	/* below the application: that node's CPU jumps, the others stay flat */
	double nb = metric(&o, "k8s.node.cpu.usage", bad, 5 * MIN, 40 * MIN, OBS_MEAN);
	double nd = metric(&o, "k8s.node.cpu.usage", bad, 45 * MIN, 75 * MIN, OBS_MEAN);
	assert_true(nd > 1.5 * nb);
	static const char *const others[] = {"ip-10-0-3-17", "ip-10-0-11-208", "ip-10-0-5-93", "ip-10-0-9-154",
					     "ip-10-0-14-61"};
	for (size_t i = 0; i < 5; i++) {
		double ob = metric(&o, "k8s.node.cpu.usage", others[i], 5 * MIN, 40 * MIN, OBS_MEAN);
		double od = metric(&o, "k8s.node.cpu.usage", others[i], 45 * MIN, 75 * MIN, OBS_MEAN);
		assert_true(od < 1.25 * ob && od > 0.8 * ob);
	}
	/* a pod there that is not a service is busy from the onset, and the
	 * scheduler said when it put it there */
	char filter[160];
	snprintf(filter, sizeof(filter), "ml-training-nightly");
	assert_true(isnan(obs_metric(&o, "k8s.pod.cpu.usage", filter, 0, 40 * MIN, OBS_MAX)));
	double job = metric(&o, "k8s.pod.cpu.usage", filter, 42 * MIN, 75 * MIN, OBS_MEAN);
	assert_true(job > 4);
	assert_true(metric(&o, "k8s.pod.cpu.usage", "node=ip-10-0-7-42", 42 * MIN, 75 * MIN, OBS_MEAN) > 4);
	assert_true(logs(&o, bad, "Successfully assigned ml-platform/ml-training-nightly-", 40 * MIN, 41 * MIN) == 1);
	assert_true(logs(&o, bad, "Started container trainer", 40 * MIN, 41 * MIN) == 1);
	/* the slow pod is throttled at its CPU limit while the job runs */
	double tb = metric(&o, "container.cpu.throttling_data.throttled_periods", slow_pod, 35 * MIN, 40 * MIN, OBS_MAX);
	double t1 = metric(&o, "container.cpu.throttling_data.throttled_periods", slow_pod, 44 * MIN, 46 * MIN, OBS_MAX);
	double t2 = metric(&o, "container.cpu.throttling_data.throttled_periods", slow_pod, 70 * MIN, 72 * MIN, OBS_MAX);
	assert_true(t2 - t1 > 26 * 60 * 10 * 0.2); /* over 20% of its 100 ms periods */
	assert_true(tb < 100);

	/* its readiness probe times out now and then (Unhealthy events); no
	 * other pod's does, and it did not before */
	const char *probe = "Readiness probe failed: Get \"http://10.0.7.";
	assert_true(logs(&o, slow_pod, probe, 0, 40 * MIN) == 0);
	size_t probes = logs(&o, slow_pod, probe, 40 * MIN, 75 * MIN);
	assert_true(probes > 10);
	assert_true(logs(&o, bad, "context deadline exceeded", 0, 90 * MIN) == probes);
	assert_true(logs(&o, NULL, "context deadline exceeded", 0, 90 * MIN) == probes);
	/* the mitigation: cordoned, and the pod replaced */
	assert_true(logs(&o, bad, "status is now: NodeNotSchedulable", 74 * MIN, 76 * MIN) == 1);
	assert_true(logs(&o, slow_pod, "Stopping container checkout", 74 * MIN, 76 * MIN) == 1);
	/* red herrings: search instance #1's CPU spike, the archive cron */
	double sb = metric(&o, "process.cpu.utilization", "search", 5 * MIN, 40 * MIN, OBS_MEAN);
	double sh = metric(&o, "process.cpu.utilization", "search", 43 * MIN, 46 * MIN, OBS_MEAN);
	assert_true(sh > 1.5 * sb);
	assert_true(logs(&o, "orders", "cron job orders-archive started", 44 * MIN, 46 * MIN) == 1);
	obs_free(&o);
}

/* noisy-neighbor as a live drill: the candidate's actions at 1:05, and what
 * the telemetry shows after each, above and below the application. */

/* Checkout pods (by k8s.pod.name) serving in [t0, t1): how many, and how
 * many of them run on the node with the job; *slowest gets the highest p95. */
static int checkout_pods(const struct obs *o, double t0, double t1, const char *bad, int *on_bad, double *slowest)
{
	int n = 0;
	*on_bad = 0;
	*slowest = 0;
	for (size_t i = 0; i < o->n_res; i++) {
		const struct obs_res *r = &o->res[i];
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || !strcmp(o->res[j].instance, r->instance);
		if (dup || strcmp(r->service, "checkout"))
			continue;
		struct obs_stats s = obs_window(o, "checkout POST /checkout", t0, t1, r->instance);
		if (s.n < 100)
			continue;
		fprintf(stderr, "  %-40s on %-44s p95 %6.1f ms n %5zu\n", r->instance, r->node, s.p95 * 1e3, s.n);
		n++;
		*on_bad += strstr(r->node, bad) != NULL;
		if (s.p95 > *slowest)
			*slowest = s.p95;
	}
	return n;
}

static void noisy_neighbor_actions(void **state)
{
	(void)state;
	static const char *const m[] = {"k8s.pod.cpu.usage", NULL};
	const char *k = "gateway POST /checkout", *bad = "ip-10-0-7-42";
	int on_bad;
	double slowest;
	struct obs o;

	/* the fix: cordon and drain the node; checkout #4 starts elsewhere */
	fprintf(stderr, "noisy-neighbor, reschedule-checkout-4 at 1:05:\n");
	assert_int_equal(obs_run_drill(&o, "noisy-neighbor", m, "reschedule-checkout-4", 65 * MIN * 1000000000LL), 0);
	struct obs_stats before = window(&o, k, 5 * MIN, 40 * MIN);
	struct obs_stats during = window(&o, k, 45 * MIN, 65 * MIN);
	struct obs_stats after = window(&o, k, 70 * MIN, 90 * MIN);
	assert_true(during.p99 > 4 * before.p99);
	assert_true(after.p99 < 1.2 * before.p99);
	assert_int_equal(checkout_pods(&o, 45 * MIN, 65 * MIN, bad, &on_bad, &slowest), 6);
	assert_int_equal(on_bad, 1);
	assert_int_equal(checkout_pods(&o, 70 * MIN, 90 * MIN, bad, &on_bad, &slowest), 6);
	assert_int_equal(on_bad, 0);
	assert_true(slowest < 2 * obs_window(&o, "checkout POST /checkout", 5 * MIN, 40 * MIN, NULL).p95);
	assert_true(logs(&o, bad, "status is now: NodeNotSchedulable", 65 * MIN, 66 * MIN) == 1);
	assert_true(logs(&o, bad, "Stopping container checkout", 65 * MIN, 67 * MIN) == 1);
	/* the job goes on: the node stays busy, only no service runs there */
	assert_true(metric(&o, "k8s.pod.cpu.usage", "ml-training-nightly", 70 * MIN, 90 * MIN, OBS_MEAN) > 4);
	obs_free(&o);

	/* no effect: a rollout restart puts #4 back on the same node */
	fprintf(stderr, "noisy-neighbor, restart-checkout at 1:05:\n");
	assert_int_equal(obs_run_drill(&o, "noisy-neighbor", m, "restart-checkout", 65 * MIN * 1000000000LL), 0);
	after = window(&o, k, 72 * MIN, 90 * MIN);
	assert_true(after.p99 > 4 * before.p99);
	assert_int_equal(checkout_pods(&o, 72 * MIN, 90 * MIN, bad, &on_bad, &slowest), 6);
	assert_int_equal(on_bad, 1);
	assert_true(logs(&o, NULL, "Scaled up replica set checkout-", 65 * MIN, 69 * MIN) >= 6);
	obs_free(&o);

	/* helps: three more pods spread the load, #4 still serves */
	fprintf(stderr, "noisy-neighbor, scale-checkout at 1:05:\n");
	assert_int_equal(obs_run_drill(&o, "noisy-neighbor", m, "scale-checkout", 65 * MIN * 1000000000LL), 0);
	after = window(&o, k, 70 * MIN, 90 * MIN);
	assert_true(after.p95 < 0.7 * during.p95);
	assert_true(after.p99 > 1.1 * before.p99);
	assert_int_equal(checkout_pods(&o, 70 * MIN, 90 * MIN, bad, &on_bad, &slowest), 9);
	assert_int_equal(on_bad, 1);
	/* the pod there no longer queues, but its work is still slow */
	assert_true(slowest > 2 * obs_window(&o, "checkout POST /checkout", 5 * MIN, 40 * MIN, NULL).p95);
	obs_free(&o);
}

/* ---- an oversubscribed node ------------------------------------------------ */

/* A job that wants more CPU than its node has left: every pod there gets
 * less than it wants, so a Java pod's collections take longer too (the
 * same work, a longer stop-the-world pause), its twin elsewhere not. */
static void oversubscribed_gc(void **state)
{
	(void)state;
	static const char text[] =
		"name: crowded\n"
		"duration: 40m\n"
		"traffic:\n"
		"  - {entry: api \"GET /x\", rate: 40/s}\n"
		"cluster:\n"
		"  nodes:\n"
		"    - {name: node-a, cores: 2}\n"
		"    - {name: node-b, cores: 2}\n"
		"  system_workloads: false\n"
		"  workloads:\n"
		"    batch: {kind: job, cpu: 3, memory: 2GiB, requests: {cpu: 0.5, memory: 1GiB}}\n"
		"services:\n"
		"  api:\n"
		"    runtime: java\n"
		"    instances: 2\n"
		"    placement: {0: node-a, 1: node-b}\n"
		"    endpoints: {\"GET /x\": {self: {p50: 8ms, p95: 20ms}}}\n"
		"timeline:\n"
		"  - at: 20m\n"
		"    co_tenant: {node: node-a, workload: batch}\n";
	static const char *const m[] = {"jvm.gc.duration", "k8s.node.cpu.usage", NULL};
	struct obs o;
	fprintf(stderr, "crowded:\n");
	assert_int_equal(obs_run_text(&o, "crowded", text, sizeof(text) - 1, 0, m), 0);
	char pod[2][128] = {"", ""};
	for (size_t i = 0; i < o.n_res; i++)
		if (!strcmp(o.res[i].service, "api"))
			snprintf(pod[strstr(o.res[i].node, "node-a") ? 0 : 1], sizeof(pod[0]), "%s", o.res[i].instance);
	assert_true(pod[0][0] && pod[1][0]);
	double ratio[2];
	for (int i = 0; i < 2; i++) {
		double before = rate(&o, "jvm.gc.duration", pod[i], 5 * MIN, 19 * MIN);
		double during = rate(&o, "jvm.gc.duration", pod[i], 24 * MIN, 39 * MIN);
		ratio[i] = during / before;
	}
	fprintf(stderr, "  GC time during / before: node-a %.2f, node-b %.2f\n", ratio[0], ratio[1]);
	/* both see the traffic's own drift; node-a's pauses stretch by its
	 * oversubscription (~1.5x here; without it 1.11 vs 1.13) */
	assert_true(ratio[0] > 1.3 * ratio[1] && ratio[1] < 1.3 && ratio[1] > 0.8);
	obs_free(&o);
}

/* ---- latency-after-release (its request story is test_generator's) ------------ */

/* The "pod-template-hash" part of a pod's name, DEPLOYMENT-HASH-XXXXX. */
static void rs_hash(const char *pod, char *out, size_t n)
{
	const char *a = strchr(pod, '-'), *b = strrchr(pod, '-');
	snprintf(out, n, "%.*s", a && b > a ? (int)(b - a - 1) : 0, a ? a + 1 : "");
}

static void latency_after_release(void **state)
{
	(void)state;
	static const char *const m[] = {"postgresql.database.locks", NULL};
	struct obs o;
	run(&o, "latency-after-release", 80 * MIN, m);
	/* the deploy as the cluster tells it: a new ReplicaSet scaled up step
	 * by step over the 5-minute rollout, the old one down */
	assert_true(logs(&o, NULL, "Scaled up replica set orders-", 0, 60 * MIN) == 0);
	assert_true(logs(&o, NULL, "Scaled up replica set orders-", 60 * MIN, 66 * MIN) == 3);
	assert_true(logs(&o, NULL, "Scaled down replica set orders-", 60 * MIN, 66 * MIN) == 3);
	/* the new version runs in new pods, all of one new ReplicaSet */
	char old_hash[32] = "", new_hash[32] = "";
	for (size_t i = 0; i < o.n_res; i++) {
		const struct obs_res *r = &o.res[i];
		if (strcmp(r->service, "orders") || !r->pod[0])
			continue;
		char h[32];
		rs_hash(r->pod, h, sizeof(h));
		char *slot = !strcmp(r->version, "v1.15.0") ? new_hash : old_hash;
		if (!slot[0])
			snprintf(slot, sizeof(old_hash), "%s", h);
		assert_string_equal(slot, h);
	}
	fprintf(stderr, "  orders ReplicaSets: %s (v1.14.2), %s (v1.15.0)\n", old_hash, new_hash);
	assert_true(old_hash[0] && new_hash[0] && strcmp(old_hash, new_hash) != 0);
	/* the slow query server-side: orders-db's transactions in flight */
	const char *active = "orders-db:5432@|lock_type=transactionid,mode=ExclusiveLock";
	double a_before = metric(&o, "postgresql.database.locks", active, 30 * MIN, 60 * MIN, OBS_MEAN);
	double a_after = metric(&o, "postgresql.database.locks", active, 66 * MIN, 80 * MIN, OBS_MEAN);
	assert_true(a_after > 5 * fmax(a_before, 1));
	obs_free(&o);
}

/* ---- lock-contention ----------------------------------------------------------- */

/* As a live drill: pausing the backfill at 0:47 releases its locks, and the
 * database stops showing waits; smaller batches only thin them out. */
static void lock_contention_actions(void **state)
{
	(void)state;
	static const char *const m[] = {"postgresql.database.locks", NULL};
	const char *k = "gateway POST /checkout";
	const char *waits = "inventory-db:5432@|lock_type=transactionid,mode=ShareLock";
	struct obs o;
	fprintf(stderr, "lock-contention, pause-backfill at 0:47:\n");
	assert_int_equal(obs_run_drill(&o, "lock-contention", m, "pause-backfill", 47 * MIN * 1000000000LL), 0);
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats after = window(&o, k, 49 * MIN, 60 * MIN);
	assert_true(after.p99 < 1.2 * before.p99);
	assert_true(metric(&o, "postgresql.database.locks", waits, 31 * MIN, 47 * MIN, OBS_MEAN) >= 1);
	assert_true(metric(&o, "postgresql.database.locks", waits, 49 * MIN, 60 * MIN, OBS_MAX) == 0);
	obs_free(&o);
	fprintf(stderr, "lock-contention, smaller-batches at 0:47:\n");
	assert_int_equal(obs_run_drill(&o, "lock-contention", m, "smaller-batches", 47 * MIN * 1000000000LL), 0);
	after = window(&o, k, 49 * MIN, 60 * MIN);
	assert_true(after.p99 > 2 * before.p99);
	assert_true(metric(&o, "postgresql.database.locks", waits, 49 * MIN, 60 * MIN, OBS_MAX) >= 1);
	assert_true(metric(&o, "postgresql.database.locks", waits, 62 * MIN, 80 * MIN, OBS_MAX) == 0);
	obs_free(&o);
}

static void lock_contention(void **state)
{
	(void)state;
	static const char *const m[] = {"process.cpu.utilization", "postgresql.database.locks",
					"postgresql.deadlocks", NULL};
	struct obs o;
	run(&o, "lock-contention", 0, m);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats during = window(&o, k, 31 * MIN, 60 * MIN);
	struct obs_stats after = window(&o, k, 62 * MIN, 80 * MIN);
	/* only some requests wait: p99 far worse than p50 */
	assert_true(during.p99 > 5 * before.p99);
	assert_true(during.p99 > 15 * during.p50);
	assert_true(during.p50 < 1.1 * before.p50);
	assert_true(during.error_rate < 0.005);
	/* the backfill ends at 1:00: back to normal */
	assert_true(after.p99 < 1.2 * before.p99);
	/* the time is in the UPDATE stock statement, by the answer key */
	assert_true(obs_figure(&o, "added_time", "inventory-db query: UPDATE stock", "during") > 0.05);
	assert_true(obs_figure(&o, "p99", k, "during") > 5 * obs_figure(&o, "p99", k, "before"));
	/* slow-query warnings: only while the locks are held */
	assert_true(logs(&o, "inventory", "slow query on inventory-db", 0, 30 * MIN) == 0);
	assert_true(logs(&o, "inventory", "slow query on inventory-db", 31 * MIN, 60 * MIN) > 1000);
	assert_true(logs(&o, "inventory", "slow query on inventory-db", 62 * MIN, 80 * MIN) == 0);
	/* the database sees the waits: transactions waiting for a row lock
	 * (ShareLock on a transaction id) only while the backfill runs */
	const char *waits = "inventory-db:5432@|lock_type=transactionid,mode=ShareLock";
	assert_true(metric(&o, "postgresql.database.locks", waits, 5 * MIN, 30 * MIN, OBS_MAX) == 0);
	assert_true(metric(&o, "postgresql.database.locks", waits, 31 * MIN, 60 * MIN, OBS_MEAN) >= 1);
	assert_true(metric(&o, "postgresql.database.locks", waits, 62 * MIN, 80 * MIN, OBS_MAX) == 0);
	assert_true(metric(&o, "postgresql.database.locks", "orders-db:5432@|lock_type=transactionid,mode=ShareLock",
			   31 * MIN, 60 * MIN, OBS_MAX) == 0);
	/* control group */
	struct obs_stats sb = window(&o, "gateway GET /search", 5 * MIN, 30 * MIN);
	struct obs_stats sd = window(&o, "gateway GET /search", 31 * MIN, 60 * MIN);
	assert_true(fabs(sd.p99 - sb.p99) < 0.2 * sb.p99);
	/* red herrings: orders CPU spike at 0:35, the vacuum cron at 0:40 */
	double ob = metric(&o, "process.cpu.utilization", "orders", 5 * MIN, 30 * MIN, OBS_MEAN);
	double oh = metric(&o, "process.cpu.utilization", "orders", 36 * MIN, 39 * MIN, OBS_MEAN);
	assert_true(oh > 2 * ob);
	assert_true(logs(&o, "orders", "cron job orders-vacuum started", 39 * MIN, 41 * MIN) == 1);
	obs_free(&o);
}

/* ---- bad-deploy-errors --------------------------------------------------------- */

static void bad_deploy_errors(void **state)
{
	(void)state;
	static const char *const m[] = {"process.restart.count", "service.version.info", NULL};
	struct obs o;
	run(&o, "bad-deploy-errors", 0, m);
	const char *k = "gateway POST /checkout";
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	assert_true(before.error_rate < 0.005);
	/* one instance of four crash-loops every 2 minutes: 5xx in steps */
	static const double expect[] = {0.25, 0.5, 0.75};
	for (int i = 0; i < 3; i++) {
		struct obs_stats w = window(&o, k, (32.3 + 2 * i) * MIN, (33.9 + 2 * i) * MIN);
		assert_true(fabs(w.error_rate - expect[i]) < 0.06);
	}
	struct obs_stats all = window(&o, k, 39 * MIN, 45 * MIN);
	assert_true(all.error_rate > 0.95);
	/* the rollback at 0:45 (2 minutes) restores it */
	struct obs_stats after = window(&o, k, 48 * MIN, 60 * MIN);
	assert_true(after.error_rate < 0.005);
	assert_true(logs(&o, "checkout", "upstream connect error", 0, 30 * MIN) == 0);
	assert_true(logs(&o, "checkout", "upstream connect error", 32 * MIN, 45 * MIN) > 5000);
	/* the crash loop: fatal config errors with a growing back-off */
	assert_true(logs(&o, "payments", "FATAL: config: PAYMENTS_PROVIDER_URL", 0, 30 * MIN) == 0);
	size_t fatal = logs(&o, "payments", "FATAL: config: PAYMENTS_PROVIDER_URL", 30 * MIN, 47 * MIN);
	/* 10 s, 20 s, 40 s, 80 s, 160 s...: ~6 per instance in 13 minutes, not 78 */
	assert_true(fatal >= 12 && fatal <= 30);
	assert_true(logs(&o, "payments", "CrashLoopBackOff", 30 * MIN, 47 * MIN) == fatal);
	assert_true(logs(&o, "payments", "FATAL", 48 * MIN, 60 * MIN) == 0);
	const char *rc = "process.restart.count";
	assert_true(metric(&o, rc, "payments", 0, 30 * MIN, OBS_MAX) == 0);
	double r40 = metric(&o, rc, "payments", 40 * MIN, 41 * MIN, OBS_MAX);
	double r44 = metric(&o, rc, "payments", 44 * MIN, 45 * MIN, OBS_MAX);
	assert_true(r40 >= 8 && r44 > r40);
	assert_true(metric(&o, rc, "payments", 50 * MIN, 60 * MIN, OBS_MAX) ==
		    metric(&o, rc, "payments", 50 * MIN, 60 * MIN, OBS_MIN)); /* climbs no more */
	/* below the application: the deploy and the rollback as ReplicaSet
	 * steps, and the kubelet backing off the crashing containers */
	assert_true(logs(&o, NULL, "Scaled up replica set payments-", 0, 30 * MIN) == 0);
	/* the first new pod replaces an old one ~2 min in, give or take */
	assert_true(logs(&o, NULL, "Scaled up replica set payments-", 30 * MIN, 33 * MIN) >= 1);
	assert_true(logs(&o, NULL, "Scaled up replica set payments-", 45 * MIN, 48 * MIN) >= 1);
	const char *backoff = "Back-off restarting failed container payments";
	assert_true(logs(&o, "payments-", backoff, 0, 30 * MIN) == 0);
	assert_true(logs(&o, "payments-", backoff, 30 * MIN, 47 * MIN) >= 8);
	assert_true(logs(&o, "payments-", backoff, 48 * MIN, 60 * MIN) == 0);
	/* the version shows the rollout and the rollback */
	assert_true(metric(&o, "service.version.info", "service.version=v4.2.0", 41 * MIN, 44 * MIN, OBS_MIN) == 4);
	assert_true(isnan(obs_metric(&o, "service.version.info", "service.version=v4.2.0", 50 * MIN, 60 * MIN, OBS_MAX)));
	/* the answer key measures the rollout's damage and the recovery */
	assert_true(obs_figure(&o, "error_rate", k, "during") > 0.95);
	assert_true(obs_figure(&o, "error_rate", k, "after") < 0.005);
	/* control group and red herrings */
	struct obs_stats sd = window(&o, "gateway GET /search", 39 * MIN, 45 * MIN);
	assert_true(sd.error_rate == 0);
	assert_true(logs(&o, "notifier", "429 Too Many Requests", 0, 30 * MIN) > 100);
	obs_free(&o);
}

/* ---- pipeline-stall ------------------------------------------------------------ */

static void pipeline_stall(void **state)
{
	(void)state;
	static const char *const m[] = {"messaging.client.consumed.messages", "messaging.kafka.consumer.lag",
					"kafka.consumer_group.lag_sum", NULL};
	struct obs o;
	run(&o, "pipeline-stall", 0, m);
	const char *consumed = "messaging.client.consumed.messages", *lag = "messaging.kafka.consumer.lag";
	/* consumption: ~20 messages/s before, a flat line during */
	double c5 = metric(&o, consumed, "order-events", 5 * MIN, 6 * MIN, OBS_MIN);
	double c29 = metric(&o, consumed, "order-events", 29 * MIN, 30 * MIN, OBS_MAX);
	assert_true((c29 - c5) / (24 * MIN) > 15);
	double d0 = metric(&o, consumed, "order-events", 31 * MIN, 60 * MIN, OBS_MIN);
	double d1 = metric(&o, consumed, "order-events", 31 * MIN, 60 * MIN, OBS_MAX);
	assert_true(d1 == d0);
	/* resumes after the restart, and catches up */
	assert_true(metric(&o, consumed, "order-events", 75 * MIN, 80 * MIN, OBS_MAX) > d1 + 30000);
	assert_true(metric(&o, lag, "order-events", 0, 30 * MIN, OBS_MAX) < 100);
	double l45 = metric(&o, lag, "order-events", 44 * MIN, 45 * MIN, OBS_MEAN);
	double l59 = metric(&o, lag, "order-events", 58 * MIN, 59 * MIN, OBS_MEAN);
	assert_true(l45 > 15000 && l59 > l45 + 14000); /* ~20/s */
	assert_true(metric(&o, lag, "order-events", 68 * MIN, 80 * MIN, OBS_MAX) < 100);
	/* the broker's side (kafkametrics) says the same of the group */
	const char *grp = "group=revenue-aggregator,topic=order-events";
	assert_true(metric(&o, "kafka.consumer_group.lag_sum", grp, 0, 30 * MIN, OBS_MAX) < 200);
	double b59 = metric(&o, "kafka.consumer_group.lag_sum", grp, 58 * MIN, 59 * MIN, OBS_MEAN);
	assert_true(fabs(b59 - l59) < 0.05 * l59);
	assert_true(metric(&o, "kafka.consumer_group.lag_sum", grp, 70 * MIN, 80 * MIN, OBS_MAX) < 200);
	/* its logs stop: not an error, not a word, from the aggregator */
	assert_true(logs(&o, "revenue-aggregator", "processed batch", 0, 30 * MIN) > 1500);
	assert_true(logs(&o, "revenue-aggregator", "", 30.1 * MIN, 60 * MIN) == 0);
	assert_true(logs(&o, "revenue-aggregator", "processed batch", 62 * MIN, 80 * MIN) > 1000);
	/* nothing errors: the shop is healthy throughout */
	struct obs_stats before = window(&o, "gateway POST /checkout", 5 * MIN, 30 * MIN);
	struct obs_stats during = window(&o, "gateway POST /checkout", 31 * MIN, 60 * MIN);
	assert_true(during.error_rate < 0.002 && fabs(during.p95 - before.p95) < 0.1 * before.p95);
	/* the other consumer carries on; red herrings */
	assert_true(logs(&o, "notifier", "processed batch", 31 * MIN, 60 * MIN) > 1500);
	assert_true(logs(&o, "notifier", "429 Too Many Requests", 0, 30 * MIN) > 100);
	obs_free(&o);
}

/* ---- retry-storm --------------------------------------------------------------- */

static void retry_storm(void **state)
{
	(void)state;
	static const char *const m[] = {"db.client.connection.pending_requests", "postgresql.commits",
					"postgresql.blks_read", "postgresql.backends", NULL};
	struct obs o;
	run(&o, "retry-storm", 0, m);
	const char *k = "gateway GET /products/{id}", *p = "pricing GET /prices/{sku}";
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats blip = window(&o, k, 30.2 * MIN, 32 * MIN);
	struct obs_stats storm = window(&o, k, 35 * MIN, 60 * MIN);
	struct obs_stats after = window(&o, k, 63 * MIN, 75 * MIN);
	assert_true(before.error_rate < 0.002 && before.p95 < 0.2);
	assert_true(blip.error_rate > 0.9);
	/* the database is fast again from 0:32, the outage goes on: the load
	 * is the retries (a few attempts find a free connection: the
	 * balancer's shares differ and wander, so one pricing pod is at times
	 * less loaded and some pages get through) */
	assert_true(storm.error_rate > 0.6);
	assert_true(storm.p50 > 1.2); /* 5 attempts of ~300 ms */
	struct obs_stats pb = window(&o, p, 5 * MIN, 30 * MIN);
	struct obs_stats ps = window(&o, p, 35 * MIN, 60 * MIN);
	assert_true(ps.n > 4 * pb.n && ps.n < 5.2 * pb.n); /* 5x the calls, same user traffic */
	assert_true(storm.n < 1.1 * before.n);
	assert_true(logs(&o, "product-api", "failed (timeout), retrying", 0, 30 * MIN) < 10);
	assert_true(logs(&o, "product-api", "failed (timeout), retrying", 35 * MIN, 60 * MIN) > 100000);
	/* pricing's pool: a rare short wait before (~40% busy, random
	 * arrivals, uneven shares), a queue during the storm */
	const char *pend = "db.client.connection.pending_requests";
	assert_true(metric(&o, pend, "pricing-db", 5 * MIN, 30 * MIN, OBS_MEAN) < 0.3);
	assert_true(metric(&o, pend, "pricing-db", 35 * MIN, 60 * MIN, OBS_MEAN) > 50);
	/* the blip's cause on the database's side (postgresql receiver): the
	 * new primary's counters start from zero at 0:30, its cold cache reads
	 * from disk for two minutes, then it is fine */
	const char *db = "pricing-db:5432";
	assert_true(metric(&o, "postgresql.commits", db, 29 * MIN, 30 * MIN, OBS_MIN) > 1e6);
	assert_true(metric(&o, "postgresql.commits", db, 30.3 * MIN, 31 * MIN, OBS_MAX) < 1e5);
	double rb = metric(&o, "postgresql.blks_read", db, 20 * MIN, 21.5 * MIN, OBS_MAX) -
		    metric(&o, "postgresql.blks_read", db, 20 * MIN, 21.5 * MIN, OBS_MIN);
	double rc = metric(&o, "postgresql.blks_read", db, 30.5 * MIN, 32 * MIN, OBS_MAX) -
		    metric(&o, "postgresql.blks_read", db, 30.5 * MIN, 32 * MIN, OBS_MIN);
	double rw = metric(&o, "postgresql.blks_read", db, 40 * MIN, 41.5 * MIN, OBS_MAX) -
		    metric(&o, "postgresql.blks_read", db, 40 * MIN, 41.5 * MIN, OBS_MIN);
	fprintf(stderr, "  blocks read per 1.5 min: %.0f before, %.0f cold, %.0f after\n", rb, rc, rw);
	assert_true(rc > 10 * rb && rw < 0.5 * rc);
	assert_true(metric(&o, "postgresql.backends", db, 5 * MIN, 30 * MIN, OBS_MIN) >= 8);
	/* the scale-out at 1:00 breaks the loop: back to 1x load and no errors */
	assert_true(after.error_rate < 0.002 && after.p95 < 1.2 * before.p95);
	struct obs_stats pa = window(&o, p, 63 * MIN, 75 * MIN);
	assert_true(pa.n < 1.1 * pb.n * 12.0 / 25.0);
	assert_true(logs(&o, "product-api", "retrying", 63 * MIN, 75 * MIN) < 10);
	assert_true(obs_figure(&o, "error_rate", k, "during") > 0.6);
	/* red herring: the reviews release at 0:31 */
	assert_true(logs(&o, "reviews", "deploy of reviews started", 30 * MIN, 32 * MIN) == 1);
	assert_true(logs(&o, "pricing", "currency rates cache refresh", 0, 30 * MIN) > 10);
	struct obs_stats search = window(&o, "gateway GET /search", 35 * MIN, 60 * MIN);
	assert_true(search.error_rate == 0);
	obs_free(&o);
}

/* ---- red-herring --------------------------------------------------------------- */

static void red_herring(void **state)
{
	(void)state;
	static const char *const m[] = {"process.cpu.utilization", "db.client.connection.count",
					"redis.keyspace.misses", NULL};
	struct obs o;
	run(&o, "red-herring", 0, m);
	/* below the application: the loud deploy is there (search's ReplicaSet
	 * steps at 0:30), and so is the quiet cause, on the cache server: its
	 * misses (summed over both redis servers) jump with the flag */
	assert_true(logs(&o, NULL, "Scaled up replica set search-", 29 * MIN, 34 * MIN) >= 1);
	double rb = rate(&o, "redis.keyspace.misses", NULL, 5 * MIN, 30 * MIN);
	double rd = rate(&o, "redis.keyspace.misses", NULL, 32 * MIN, 60 * MIN);
	double ra = rate(&o, "redis.keyspace.misses", NULL, 65 * MIN, 75 * MIN);
	assert_true(rd > 5 * rb && ra < 2 * rb);
	const char *k = "gateway GET /products/{id}", *sk = "gateway GET /search";
	struct obs_stats before = window(&o, k, 5 * MIN, 30 * MIN);
	struct obs_stats during = window(&o, k, 32 * MIN, 60 * MIN);
	struct obs_stats after = window(&o, k, 62 * MIN, 75 * MIN);
	/* the real cause: product pages ~3x slower, no errors, back after
	 * the flag goes off */
	assert_true(during.p95 > 2.5 * before.p95);
	assert_true(during.error_rate < 0.001);
	assert_true(after.p95 < 1.15 * before.p95);
	/* catalog-db does the cache's work: connections in use ~10x */
	const char *used = "catalog-db,db.client.connection.state=used";
	double ub = metric(&o, "db.client.connection.count", used, 5 * MIN, 30 * MIN, OBS_MEAN);
	double ud = metric(&o, "db.client.connection.count", used, 32 * MIN, 60 * MIN, OBS_MEAN);
	double ua = metric(&o, "db.client.connection.count", used, 62 * MIN, 75 * MIN, OBS_MEAN);
	assert_true(ud > 8 * ub && ua < 1.3 * ub);
	assert_true(obs_figure(&o, "added_time", "catalog-db query", "during") > 0.02);
	/* the loud one, in the same minute: an ERROR flood and a CPU spike on
	 * search... */
	assert_true(logs(&o, "search", "index_not_found_exception", 0, 30 * MIN) == 0);
	assert_true(logs(&o, "search", "index_not_found_exception", 30 * MIN, 50 * MIN) > 3000);
	assert_true(logs(&o, "search", "index_not_found_exception", 50.1 * MIN, 75 * MIN) == 0);
	assert_true(logs(&o, "search", "deploy of search started", 29.9 * MIN, 30.1 * MIN) == 1);
	double cb = metric(&o, "process.cpu.utilization", "search", 5 * MIN, 30 * MIN, OBS_MEAN);
	double cs = metric(&o, "process.cpu.utilization", "search", 31 * MIN, 40 * MIN, OBS_MEAN);
	assert_true(cs > 3 * cb);
	/* ...which is harmless: search answers as before */
	struct obs_stats sb = window(&o, sk, 5 * MIN, 30 * MIN);
	struct obs_stats sd = window(&o, sk, 32 * MIN, 60 * MIN);
	assert_true(fabs(sd.p95 - sb.p95) < 0.1 * sb.p95 && sd.error_rate == 0);
	obs_free(&o);
}

int main(int argc, char **argv)
{
	/* test_fixtures NAME runs the stories whose name matches (a glob) */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_fixture_has_a_brief),
		cmocka_unit_test(pool_exhaustion),
		cmocka_unit_test(cache_stampede),
		cmocka_unit_test(memory_leak_oom),
		cmocka_unit_test(queue_backlog),
		cmocka_unit_test(dependency_outage),
		cmocka_unit_test(dependency_outage_breaker),
		cmocka_unit_test(traffic_spike),
		cmocka_unit_test(noisy_neighbor),
		cmocka_unit_test(noisy_neighbor_actions),
		cmocka_unit_test(oversubscribed_gc),
		cmocka_unit_test(latency_after_release),
		cmocka_unit_test(lock_contention_actions),
		cmocka_unit_test(lock_contention),
		cmocka_unit_test(bad_deploy_errors),
		cmocka_unit_test(pipeline_stall),
		cmocka_unit_test(retry_storm),
		cmocka_unit_test(red_herring),
	};
	/* FIXTURE=memory_leak_oom runs the tests matching that pattern only */
	if (getenv("FIXTURE"))
		cmocka_set_test_filter(getenv("FIXTURE"));
	return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
