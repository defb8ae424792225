/*
 * Scenario parser tests: the seed fixture parsed into the expected model,
 * defaults and shorthands from small inline scenarios, and every file in
 * tests/scenario/bad/ rejected with the message its first line announces:
 *
 *   # expect: LINE:COL: substring
 *
 * Paths are relative to the source root (meson runs the test there), or to
 * $FD_SOURCE_ROOT when set.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "generator/scenario.h"

#define NS 1000000000LL
#define MS 1000000LL

static char root_dir[1024] = ".";

static void path_of(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", root_dir, rel);
}

static struct fd_scenario *load_fixture(const char *rel)
{
	char path[2048];
	struct fd_error err = {0};
	struct fd_scenario *s = NULL;
	path_of(path, sizeof(path), rel);
	int rc = fd_scenario_load(path, &s, &err);
	if (rc != 0)
		fail_msg("%s: %s", rel, err.msg);
	assert_non_null(s);
	return s;
}

static struct fd_scenario *parse_ok(const char *text)
{
	struct fd_error err = {0};
	struct fd_scenario *s = NULL;
	int rc = fd_scenario_parse("inline.yaml", text, strlen(text), &s, &err);
	if (rc != 0)
		fail_msg("unexpected error: %s", err.msg);
	return s;
}

static void parse_bad(const char *text, const char *where, const char *substring)
{
	struct fd_error err = {0};
	struct fd_scenario *s = NULL;
	int rc = fd_scenario_parse("inline.yaml", text, strlen(text), &s, &err);
	assert_int_equal(rc, -FD_EINPUT);
	assert_null(s);
	char want[128];
	snprintf(want, sizeof(want), "inline.yaml:%s: ", where);
	if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, substring))
		fail_msg("expected \"%s ... %s\", got \"%s\"", want, substring, err.msg);
}

static const struct fd_database *db_named(const struct fd_scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_databases; i++)
		if (strcmp(s->databases[i].name, name) == 0)
			return &s->databases[i];
	return NULL;
}

static const struct fd_event *event_named(const struct fd_scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_events; i++)
		if (strcmp(s->events[i].name, name) == 0)
			return &s->events[i];
	return NULL;
}

/* ---- the seed fixture ----------------------------------------------------------- */

static void test_fixture_header(void **state)
{
	(void)state;
	struct fd_scenario *s = load_fixture("scenarios/latency-after-release.yaml");
	assert_string_equal(s->name, "latency-after-release");
	assert_non_null(strstr(s->title, "p95 200 ms"));
	assert_non_null(s->description);
	assert_int_equal(s->start_ns, 1768482000LL * NS);
	assert_int_equal(s->duration_ns, 2 * 3600 * NS);
	assert_int_equal(s->seed, 1);
	assert_string_equal(s->environment, "production");
	assert_true(s->trace_sampling > 0.0999 && s->trace_sampling < 0.1001);
	assert_true(s->access_log_sampling == 1.0);
	assert_int_equal(s->scrape_interval_ns, 15 * NS);
	fd_scenario_destroy(s);
}

static void test_fixture_services(void **state)
{
	(void)state;
	struct fd_scenario *s = load_fixture("scenarios/latency-after-release.yaml");
	assert_int_equal(s->n_services, 6);
	struct fd_service *gw = fd_scenario_find_service(s, "gateway");
	struct fd_service *co = fd_scenario_find_service(s, "checkout");
	struct fd_service *orders = fd_scenario_find_service(s, "orders");
	struct fd_service *pay = fd_scenario_find_service(s, "payments");
	struct fd_service *inv = fd_scenario_find_service(s, "inventory");
	assert_non_null(gw);
	assert_non_null(co);
	assert_non_null(orders);
	assert_non_null(pay);
	assert_non_null(inv);
	assert_null(fd_scenario_find_service(s, "nope"));
	assert_int_equal(gw->instances, 2);
	assert_int_equal(co->instances, 3);
	assert_string_equal(orders->version, "v1.14.2");
	assert_int_equal(orders->runtime, FD_RUNTIME_JAVA);
	assert_string_equal(orders->runtime_name, "java");
	assert_int_equal(gw->runtime, FD_RUNTIME_GO);

	/* dense ids */
	for (size_t i = 0; i < s->n_services; i++)
		assert_int_equal(s->services[i].id, (int)i);
	size_t total = 0;
	for (size_t i = 0; i < s->n_services; i++)
		total += s->services[i].n_endpoints;
	assert_int_equal(s->n_endpoints, total);

	struct fd_endpoint *checkout = fd_service_find_endpoint(gw, "POST /checkout");
	assert_non_null(checkout);
	assert_string_equal(checkout->method, "POST");
	assert_string_equal(checkout->route, "/checkout");
	assert_ptr_equal(checkout->service, gw);
	assert_int_equal(checkout->timeout_ns, 30 * NS);
	assert_int_equal(checkout->n_calls, 1);
	struct fd_endpoint *co_orders = fd_service_find_endpoint(co, "POST /orders");
	assert_ptr_equal(checkout->calls[0].endpoint, co_orders);
	assert_int_equal(checkout->calls[0].kind, FD_CALL_ENDPOINT);
	assert_true(checkout->calls[0].probability == 1.0);
	assert_int_equal(checkout->calls[0].repeat, 1);
	assert_false(checkout->calls[0].has_retry);
	assert_false(checkout->calls[0].has_latency);

	/* checkout's calls: orders with a 5 s timeout, payments with a retry */
	assert_int_equal(co_orders->n_calls, 3);
	assert_int_equal(co_orders->self.p50, 8 * MS);
	assert_int_equal(co_orders->self.p95, 20 * MS);
	assert_true(co_orders->error_probability > 0.00049 && co_orders->error_probability < 0.00051);
	assert_int_equal(co_orders->error_status, 500);
	assert_ptr_equal(co_orders->calls[0].endpoint, fd_service_find_endpoint(orders, "POST /orders"));
	assert_int_equal(co_orders->calls[0].timeout_ns, 5 * NS);
	assert_ptr_equal(co_orders->calls[1].endpoint, fd_service_find_endpoint(pay, "POST /charge"));
	assert_true(co_orders->calls[1].has_retry);
	assert_int_equal(co_orders->calls[1].retry.max, 1);
	assert_int_equal(co_orders->calls[1].retry.backoff_ns, 200 * MS);
	assert_true(co_orders->calls[1].retry.multiplier == 2.0);
	assert_ptr_equal(co_orders->calls[2].endpoint, fd_service_find_endpoint(inv, "GET /stock"));

	/* payments -> the external dependency */
	struct fd_endpoint *charge = fd_service_find_endpoint(pay, "POST /charge");
	assert_int_equal(charge->calls[0].kind, FD_CALL_DEPENDENCY);
	assert_string_equal(charge->calls[0].dependency->name, "card-processor");
	assert_string_equal(charge->calls[0].dependency->host, "api.cardprocessor.example");
	assert_string_equal(charge->calls[0].method, "POST");
	assert_string_equal(charge->calls[0].route, "/v1/charges");

	/* inventory: cache get with on_miss db + cache set */
	struct fd_endpoint *stock = fd_service_find_endpoint(inv, "GET /stock");
	const struct fd_call *get = &stock->calls[0];
	assert_int_equal(get->kind, FD_CALL_CACHE);
	assert_int_equal(get->cache_op, FD_CACHE_GET);
	assert_string_equal(get->cache_key, "stock:{sku}");
	assert_true(get->hit_ratio < 0);
	assert_true(get->cache->hit_ratio > 0.949 && get->cache->hit_ratio < 0.951);
	assert_int_equal(get->n_on_miss, 2);
	assert_int_equal(get->on_miss[0].kind, FD_CALL_DB);
	assert_int_equal(get->on_miss[1].cache_op, FD_CACHE_SET);

	/* java defaults, python defaults */
	assert_int_equal(orders->resources.memory_baseline, 300LL << 20);
	assert_int_equal(orders->resources.memory_limit, 1LL << 30);
	assert_int_equal(orders->resources.gc_interval_ns, 2 * NS);
	assert_int_equal(orders->resources.gc_pause.p50, 5 * MS);
	assert_int_equal(orders->resources.gc_pause.p95, 30 * MS);
	assert_true(orders->resources.cpu_cores == 1.0);
	assert_int_equal(orders->resources.cpu_per_request_ns, 2 * MS);
	assert_int_equal(gw->resources.memory_baseline, 50LL << 20);

	/* queue */
	assert_int_equal(s->n_queues, 1);
	assert_string_equal(s->queues[0].consumer->name, "notifier");
	assert_string_equal(s->queues[0].handler->key, "CONSUME order-events");
	assert_string_equal(s->queues[0].handler->method, "CONSUME");
	assert_int_equal(s->queues[0].partitions, 6);
	assert_true(s->queues[0].throughput == 200.0);
	fd_scenario_destroy(s);
}

static void test_fixture_queries(void **state)
{
	(void)state;
	struct fd_scenario *s = load_fixture("scenarios/latency-after-release.yaml");
	const struct fd_database *db = db_named(s, "orders-db");
	assert_non_null(db);
	assert_string_equal(db->system, "postgresql");
	assert_true(db->pool >= 20);
	assert_int_equal(db->pool_timeout_ns, 30 * NS);
	assert_int_equal(db->n_queries, 3);
	const struct fd_query *q = &db->queries[0];
	assert_string_equal(q->text, "SELECT * FROM orders WHERE customer_id = $1");
	assert_string_equal(q->operation, "SELECT");
	assert_ptr_equal(q->database, db);
	assert_string_equal(db->queries[1].operation, "INSERT");
	for (size_t i = 0; i < db->n_queries; i++)
		assert_int_equal(db->queries[i].id, (int)i);

	/* calls point into the database's array */
	struct fd_service *orders = fd_scenario_find_service(s, "orders");
	struct fd_endpoint *ep = fd_service_find_endpoint(orders, "POST /orders");
	assert_ptr_equal(ep->calls[0].query, &db->queries[0]);
	assert_true(ep->calls[0].has_latency);
	/* the fixture is tuned against the simulation: check the fit, not the
	 * exact figures */
	const struct fd_dist *l = &ep->calls[0].latency;
	assert_int_equal(l->p50, 4 * MS);
	assert_true(l->p95 > l->p50 && l->p99 > l->p95);
	assert_true(fabs(l->mu - log((double)l->p50)) < 1e-9);
	assert_true(fabs(l->sigma - (log((double)l->p95) - log((double)l->p50)) / 1.6449) < 1e-9);
	assert_true(fabs(l->sigma_tail - (log((double)l->p99) - log((double)l->p95)) / 0.6815) < 1e-9);
	assert_ptr_equal(ep->calls[1].query, &db->queries[1]);
	assert_int_equal(ep->calls[2].kind, FD_CALL_QUEUE);
	assert_int_equal(ep->calls[2].queue_op, FD_QUEUE_PRODUCE);

	/* the cron job's query lives on inventory-db too */
	const struct fd_database *idb = db_named(s, "inventory-db");
	assert_int_equal(idb->n_queries, 2);
	assert_int_equal(s->n_noise_crons, 1);
	assert_ptr_equal(s->noise_crons[0].calls[0].query, &idb->queries[1]);
	struct fd_service *inv = fd_scenario_find_service(s, "inventory");
	struct fd_endpoint *stock = fd_service_find_endpoint(inv, "GET /stock");
	assert_ptr_equal(stock->calls[0].on_miss[0].query, &idb->queries[0]);
	fd_scenario_destroy(s);
}

static void test_fixture_timeline(void **state)
{
	(void)state;
	struct fd_scenario *s = load_fixture("scenarios/latency-after-release.yaml");
	assert_int_equal(s->n_events, 2);
	/* time order, not file order */
	assert_string_equal(s->events[0].name, "payments-log-level");
	assert_int_equal(s->events[0].kind, FD_EVENT_CONFIG_CHANGE);
	assert_int_equal(s->events[0].at_ns, 40 * 60 * NS);
	const struct fd_event *d = event_named(s, "orders-release");
	assert_ptr_equal(d, &s->events[1]);
	assert_int_equal(d->id, 1);
	assert_int_equal(d->kind, FD_EVENT_DEPLOY);
	assert_string_equal(d->kind_name, "deploy");
	assert_false(d->mitigation);
	assert_int_equal(d->at_ns, 3600 * NS);
	assert_string_equal(d->service->name, "orders");
	assert_string_equal(d->version, "v1.15.0");
	assert_string_equal(d->previous_version, "v1.14.2");
	assert_int_equal(d->rollout_ns, 5 * 60 * NS);
	assert_int_equal(d->n_effects, 1);
	const struct fd_effect *e = &d->effects[0];
	assert_ptr_equal(e->event, d);
	assert_int_equal(e->target.kind, FD_TARGET_QUERY);
	assert_ptr_equal(e->target.database, db_named(s, "orders-db"));
	assert_ptr_equal(e->target.query, &db_named(s, "orders-db")->queries[0]);
	assert_int_equal(e->changes, FD_CHANGE_LATENCY_MULT);
	assert_true(e->latency_mult == 180.0);
	assert_int_equal(e->scope.version, FD_VERSION_NEW);
	assert_int_equal(e->scope.instance, -1);
	assert_int_equal(e->scope.n_dims, 0);
	assert_int_equal(e->start_ns, 3600 * NS);
	assert_int_equal(e->ramp_ns, 5 * 60 * NS);
	assert_true(e->end_ns == FD_FOREVER);

	/* a non-deploy effect applies to any version */
	assert_int_equal(s->events[0].effects[0].scope.version, FD_VERSION_ANY);
	assert_int_equal(s->events[0].effects[0].target.kind, FD_TARGET_SERVICE);
	assert_int_equal(s->events[0].effects[0].ramp_ns, 0);

	assert_ptr_equal(s->answer.trigger_event, d);
	assert_non_null(strstr(s->answer.mitigation, "v1.14.2"));
	assert_true(s->answer.n_investigation >= 4);
	assert_true(s->answer.n_red_herrings >= 2);
	assert_true(s->answer.n_evidence >= 3);
	assert_non_null(s->answer.prompt);
	fd_scenario_destroy(s);
}

static void test_fixture_traffic_noise(void **state)
{
	(void)state;
	struct fd_scenario *s = load_fixture("scenarios/latency-after-release.yaml");
	assert_true(s->n_traffic >= 1);
	const struct fd_traffic *t = &s->traffic[0];
	assert_string_equal(t->entry->key, "POST /checkout");
	assert_string_equal(t->entry->service->name, "gateway");
	assert_true(t->rate == 40.0);
	assert_int_equal(t->shape, FD_SHAPE_DAILY);
	assert_int_equal(t->peak_ns, 15 * 3600 * NS);
	assert_int_equal(t->n_dimensions, 2);
	assert_string_equal(t->dimensions[0].name, "region");
	assert_string_equal(t->dimensions[0].values[0].name, "eu");
	assert_true(t->dimensions[0].values[0].weight > 0.599 && t->dimensions[0].values[0].weight < 0.601);
	assert_string_equal(t->dimensions[1].values[2].name, "enterprise");
	double sum = 0;
	for (size_t i = 0; i < t->dimensions[1].n_values; i++)
		sum += t->dimensions[1].values[i].weight;
	assert_true(sum > 0.9999 && sum < 1.0001);
	assert_int_equal(t->payload.p50, 2048);

	assert_true(s->n_noise_logs >= 1);
	assert_int_equal(s->noise_logs[0].severity, FD_SEV_WARN);
	assert_string_equal(s->noise_logs[0].service->name, "inventory");
	assert_true(s->noise_logs[0].rate > 0.199 && s->noise_logs[0].rate < 0.201);
	assert_int_equal(s->n_noise_blips, 1);
	assert_int_equal(s->noise_blips[0].at_ns, 65 * 60 * NS);
	assert_int_equal(s->noise_blips[0].instance, 1);
	assert_true(s->noise_blips[0].cpu_mult == 4.0);
	assert_int_equal(s->noise_crons[0].first_ns, 10 * 60 * NS);
	assert_int_equal(s->noise_crons[0].every_ns, 30 * 60 * NS);
	fd_scenario_destroy(s);
}

/* ---- inline scenarios --------------------------------------------------------- */

#define BASE                                                                              \
	"name: t\n"                                                                       \
	"duration: 1h\n"                                                                  \
	"services:\n"                                                                     \
	"  api:\n"                                                                        \
	"    instances: 2\n"                                                                \
	"    endpoints:\n"                                                                \
	"      \"GET /a\": {calls: [{dependency: ext}, {db: db1, query: \"SELECT 1\"}]}\n" \
	"  web: {endpoints: {\"GET /\": {calls: [api \"GET /a\"]}}}\n"                    \
	"databases: {db1: ~}\n"                                                           \
	"caches: {c1: {}}\n"                                                              \
	"dependencies: {ext: {}}\n"                                                       \
	"traffic:\n"                                                                      \
	"  - {entry: web \"GET /\", rate: 10/s, dimensions: {region: {eu: 3, us: 1}}}\n"

static void test_defaults(void **state)
{
	(void)state;
	struct fd_scenario *s = parse_ok(BASE);
	assert_string_equal(s->file, "inline.yaml");
	assert_string_equal(s->title, "t");
	assert_null(s->description);
	assert_int_equal(s->start_ns, 1768482000LL * NS);
	assert_int_equal(s->seed, 1);
	assert_string_equal(s->environment, "production");
	assert_int_equal(s->scrape_interval_ns, 15 * NS);
	struct fd_service *api = fd_scenario_find_service(s, "api");
	assert_string_equal(api->runtime_name, "go");
	assert_string_equal(api->version, "1.0.0");
	struct fd_service *web = fd_scenario_find_service(s, "web");
	assert_int_equal(web->instances, 1);
	struct fd_endpoint *a = fd_service_find_endpoint(api, "GET /a");
	assert_int_equal(a->timeout_ns, 0);
	assert_int_equal(a->retry.max, 0);
	assert_int_equal(a->error_status, 500);
	assert_true(a->error_probability == 0.0);
	assert_string_equal(a->calls[0].method, "GET");
	assert_string_equal(a->calls[0].route, "/");
	const struct fd_database *db = db_named(s, "db1");
	assert_int_equal(db->pool, 10);
	assert_int_equal(db->pool_timeout_ns, 30 * NS);
	assert_string_equal(db->queries[0].operation, "SELECT");
	assert_true(s->caches[0].hit_ratio == 0.9);
	assert_true(s->traffic[0].dimensions[0].values[0].weight == 0.75);
	assert_int_equal(s->traffic[0].shape, FD_SHAPE_FLAT);
	assert_int_equal(s->traffic[0].payload.p50, 0);
	assert_int_equal(s->n_events, 0);
	assert_null(s->answer.trigger_event);
	assert_null(s->answer.prompt);
	assert_string_equal(s->answer.root_cause, "");
	fd_scenario_destroy(s);
}

static void test_rollback_and_shorthands(void **state)
{
	(void)state;
	struct fd_scenario *s = parse_ok(BASE
		"timeline:\n"
		"  - {at: 50m, rollback: {service: api}}\n"
		"  - {at: 10m, name: rel, deploy: {service: api, version: v2}, effects: [{target: ext, latency: +2s, scope: {version: any, region: eu}}]}\n"
		"  - {at: 20m, traffic_spike: {multiplier: x3, duration: 5m}}\n"
		"  - {at: 21m, outage: {target: ext, hang: 10s}}\n"
		"  - {at: 22m, memory_leak: {service: api, rate: 36MiB/h}}\n"
		"  - {at: 23m, certificate_expiry: {target: api}}\n"
		"  - {at: '0:30', dependency_slowdown: {target: ext, latency: x10, ramp: 1m}}\n"
		"  - {at: 31m, index_dropped: {target: db1}}\n"
		"  - {at: 32m, cache_flush: {cache: c1}}\n"
		"  - {at: 33m, feature_flag: {flag: new-ui}}\n"
		"  - {at: 34m, flag_off: {flag: new-ui, damping: 0.5}}\n"
		"  - {at: 35m, scale_out: {service: api, instances: 4}}\n"
		"  - {at: 36m, instance_loss: {service: api, instance: 3}}\n"
		"  - {at: 37m, restart: {service: api}}\n"
		"  - {at: 38m, config_change: ~, effects: [{target: {traffic: all}, rate: x2, delay: 1m, duration: 2m}]}\n");
	assert_int_equal(s->n_events, 15);
	const struct fd_event *rel = &s->events[0];
	assert_string_equal(rel->name, "rel");
	assert_int_equal(rel->rollout_ns, 120 * NS);
	assert_int_equal(rel->effects[0].changes, FD_CHANGE_LATENCY_ADD);
	assert_int_equal(rel->effects[0].latency_add_ns, 2 * NS);
	assert_int_equal(rel->effects[0].scope.version, FD_VERSION_ANY);
	assert_int_equal(rel->effects[0].scope.n_dims, 1);
	assert_string_equal(rel->effects[0].scope.dims[0].value, "eu");

	const struct fd_event *spike = &s->events[1];
	assert_int_equal(spike->kind, FD_EVENT_TRAFFIC_SPIKE);
	assert_int_equal(spike->n_effects, 1);
	assert_int_equal(spike->effects[0].target.kind, FD_TARGET_TRAFFIC);
	assert_null(spike->effects[0].target.traffic);
	assert_true(spike->effects[0].rate_mult == 3.0);
	assert_int_equal(spike->effects[0].end_ns, 25 * 60 * NS);
	assert_string_equal(spike->name, "traffic_spike-1");

	const struct fd_effect *out = &s->events[2].effects[0];
	assert_int_equal(out->changes, FD_CHANGE_ERRORS | FD_CHANGE_LATENCY_ADD);
	assert_true(out->error_probability == 1.0);
	assert_int_equal(out->error_status, 503);
	assert_int_equal(out->target.kind, FD_TARGET_DEPENDENCY);

	const struct fd_effect *leak = &s->events[3].effects[0];
	assert_int_equal(leak->changes, FD_CHANGE_MEMORY_LEAK);
	assert_int_equal(leak->target.kind, FD_TARGET_SERVICE);
	assert_true(leak->memory_leak_per_s > 10485.7 && leak->memory_leak_per_s < 10485.8);
	assert_string_equal(s->events[3].service->name, "api");

	assert_int_equal(s->events[4].effects[0].error_status, 495);
	assert_int_equal(s->events[5].at_ns, 30 * 60 * NS);
	assert_int_equal(s->events[5].effects[0].ramp_ns, 60 * NS);
	assert_true(s->events[5].effects[0].latency_mult == 10.0);
	assert_true(s->events[6].effects[0].latency_mult == 50.0);
	assert_int_equal(s->events[6].effects[0].target.kind, FD_TARGET_DATABASE);
	assert_string_equal(s->events[7].cache->name, "c1");
	assert_int_equal(s->events[7].n_effects, 0);
	assert_true(s->events[8].flag_on);
	assert_ptr_equal(s->events[9].undoes, &s->events[8]);
	assert_true(s->events[9].damping == 0.5);
	assert_true(s->events[9].mitigation);
	assert_int_equal(s->events[10].instances, 4);
	assert_int_equal(s->events[11].instance, 3);
	assert_int_equal(s->events[12].instance, -1);
	assert_null(s->events[12].undoes);
	const struct fd_effect *cfg = &s->events[13].effects[0];
	assert_int_equal(cfg->start_ns, 39 * 60 * NS);
	assert_int_equal(cfg->end_ns, 41 * 60 * NS);

	const struct fd_event *rb = &s->events[14];
	assert_int_equal(rb->kind, FD_EVENT_ROLLBACK);
	assert_ptr_equal(rb->undoes, rel);
	assert_string_equal(rb->version, "1.0.0");
	assert_string_equal(rb->previous_version, "v2");
	assert_int_equal(rb->rollout_ns, 120 * NS);
	assert_true(rb->damping == 1.0);
	/* the first change is the trigger by default */
	assert_ptr_equal(s->answer.trigger_event, rel);
	fd_scenario_destroy(s);
}

static void test_misc(void **state)
{
	(void)state;
	assert_string_equal(fd_event_kind_name(FD_EVENT_DEPLOY), "deploy");
	assert_string_equal(fd_event_kind_name(FD_EVENT_RESTART), "restart");
	assert_null(fd_event_kind_name((enum fd_event_kind)99));
	fd_scenario_destroy(NULL);
	assert_null(fd_scenario_find_service(NULL, "x"));
	assert_null(fd_service_find_endpoint(NULL, "x"));

	/* anchors and aliases share a definition */
	struct fd_scenario *s = parse_ok(
		"name: t\nduration: 1h\n"
		"services:\n"
		"  a: {endpoints: {\"GET /\": &ep {self: {p50: 7ms, p95: 9ms}}}}\n"
		"  b: {endpoints: {\"GET /\": *ep}}\n"
		"traffic: [{entry: a \"GET /\", rate: 1/s}]\n");
	assert_int_equal(s->services[1].endpoints[0].self.p50, 7 * MS);
	assert_int_equal(s->services[1].endpoints[0].id, 1);
	fd_scenario_destroy(s);

	/* a single latency is a constant */
	s = parse_ok("name: t\nduration: 1h\n"
		     "services: {a: {endpoints: {\"GET /\": {self: 5ms}}}}\n"
		     "traffic: [{entry: a \"GET /\", rate: 1/s}]\n");
	assert_int_equal(s->services[0].endpoints[0].self.p95, 5 * MS);
	assert_true(s->services[0].endpoints[0].self.sigma == 0.0);
	fd_scenario_destroy(s);

	/* not NUL-terminated input */
	const char text[] = "name: t\nduration: 1h\nservices: {a: {endpoints: {\"GET /\": {}}}}\n"
			    "traffic: [{entry: a \"GET /\", rate: 1/s}]\nXXXX";
	struct fd_error err = {0};
	s = NULL;
	assert_int_equal(fd_scenario_parse("x", text, sizeof(text) - 5, &s, &err), 0);
	fd_scenario_destroy(s);

	/* a missing file is the user's mistake, an input error (exit 2), as
	 * for a recording (issue 20 item 11: validate exited 1, replay 2) */
	assert_int_equal(fd_scenario_load("/nonexistent/x.yaml", &s, &err), -FD_EINPUT);
	assert_null(s);
}

static void test_inline_errors(void **state)
{
	(void)state;
	parse_bad("", "1:1", "empty scenario");
	parse_bad("# only a comment\n", "1:1", "empty scenario");
	parse_bad(BASE "timeline: [{at: 2h, scale_out: {service: api, instances: 3}}]\n", "14:17",
		  "not before the end");
	parse_bad(BASE "timeline: [{at: 10m, deploy: {service: api, version: 1.0.0}}]\n", "14:54",
		  "already runs 1.0.0");
	parse_bad(BASE "timeline: [{at: 10m, rollback: {service: api}}]\n", "14:12",
		  "no deploy of 'api'");
	parse_bad(BASE "timeline: [{at: 10m, flag_off: {flag: x}}]\n", "14:12", "no feature_flag 'x'");
	parse_bad(BASE "timeline: [{at: 10m, scale_out: {service: api, instances: 2}}]\n", "14:59",
		  "already has 2");
	parse_bad(BASE "answer: {trigger_event: nope}\n", "14:25", "no event is named 'nope'");
	parse_bad(BASE "timeline: [{at: 1m, name: x, cache_flush: {cache: c1}}, {at: 2m, name: x, cache_flush: {cache: c1}}]\n",
		  "14:72", "two events are named 'x'");
	parse_bad(BASE "timeline: [{at: 1m, deploy: {service: web, version: v2}, effects: [{target: api, pool: 3}]}]\n",
		  "14:82", "'pool' applies to a database");
	parse_bad(BASE "timeline: [{at: 1m, outage: {target: ext}, effects: [{target: ext, latency: x2, scope: {regoin: eu}}]}]\n",
		  "14:89", "did you mean 'region'");
	parse_bad(BASE "timeline: [{at: 1m, outage: {target: ext}, effects: [{target: ext, latency: x2, scope: {region: asia}}]}]\n",
		  "14:97", "no value 'asia'");
}


/* actions: events without a time, checked against the whole timeline */
static void test_actions(void **state)
{
	(void)state;
	struct fd_scenario *s = parse_ok(BASE
		"timeline:\n"
		"  - {at: 10m, name: rel, deploy: {service: api, version: v2}, effects: [{target: db1, latency: x50}]}\n"
		"  - {at: 20m, name: fix, mitigation: true, config_change: {service: api}, effects: [{target: db1, pool: 40}]}\n"
		"  - {at: 30m, rollback: {service: api}}\n"
		"drill: {join_at: 15m, hints: [look at the database, then at versions]}\n"
		"actions:\n"
		"  - name: rollback-api\n"
		"    title: Roll api back\n"
		"    rollback: {service: api, rollout: 1m}\n"
		"    verdict: fixes\n"
		"    why: the release is the cause\n"
		"  - name: raise-pool\n"
		"    title: Raise the db1 pool to 40\n"
		"    config_change: {service: api, key: pool.size, value: '40'}\n"
		"    effects: [{target: db1, pool: 40, delay: 30s, duration: 10m}]\n"
		"    verdict: helps\n"
		"  - name: scale-api\n"
		"    title: Scale api out to 5\n"
		"    scale_out: {service: api, instances: 5}\n"
		"    verdict: worsens\n"
		"  - {name: restart-api, title: Restart api, restart: {service: api, instance: 1}, verdict: no_effect}\n");
	assert_int_equal(s->n_events, 3);
	assert_true(s->events[1].mitigation);
	assert_false(s->events[0].mitigation);
	assert_int_equal(s->n_actions, 4);
	assert_int_equal(s->join_at_ns, 15 * 60 * NS);
	assert_int_equal(s->n_hints, 2);
	assert_string_equal(s->hints[1], "then at versions");
	const struct fd_action *rb = fd_scenario_find_action(s, "rollback-api");
	assert_ptr_equal(rb, &s->actions[0]);
	assert_string_equal(rb->title, "Roll api back");
	assert_int_equal(rb->verdict, FD_VERDICT_FIXES);
	assert_string_equal(rb->why, "the release is the cause");
	assert_int_equal(rb->event.kind, FD_EVENT_ROLLBACK);
	assert_int_equal(rb->event.id, 3);
	assert_int_equal(rb->event.at_ns, 0);
	assert_true(rb->event.mitigation);
	assert_string_equal(rb->event.name, "rollback-api");
	assert_ptr_equal(rb->event.undoes, event_named(s, "rel"));
	assert_string_equal(rb->event.version, "1.0.0");
	assert_string_equal(rb->event.previous_version, "v2");
	assert_int_equal(rb->event.rollout_ns, 60 * NS);
	const struct fd_action *pool = &s->actions[1];
	assert_int_equal(pool->verdict, FD_VERDICT_HELPS);
	assert_null(pool->why);
	assert_int_equal(pool->event.id, 4);
	assert_int_equal(pool->event.n_effects, 1);
	assert_int_equal(pool->event.effects[0].start_ns, 30 * NS);
	assert_int_equal(pool->event.effects[0].end_ns, 630 * NS);
	assert_int_equal(pool->event.effects[0].pool, 40);
	assert_ptr_equal(pool->event.effects[0].event, &pool->event);
	assert_int_equal(s->actions[2].event.instances, 5);
	assert_int_equal(s->actions[2].verdict, FD_VERDICT_WORSENS);
	assert_int_equal(s->actions[3].verdict, FD_VERDICT_NOTHING);
	assert_int_equal(s->actions[3].event.instance, 1);
	assert_null(fd_scenario_find_action(s, "nope"));
	assert_string_equal(fd_verdict_name(FD_VERDICT_NOTHING), "no_effect");
	assert_null(fd_verdict_name((enum fd_verdict)9));
	fd_scenario_destroy(s);

	/* hints default to the investigation steps */
	s = parse_ok(BASE "answer: {investigation: [one, two]}\n");
	assert_int_equal(s->n_hints, 2);
	assert_int_equal(s->n_actions, 0);
	assert_int_equal(s->join_at_ns, 0);
	fd_scenario_destroy(s);

	parse_bad(BASE "actions: [{name: a, title: A, verdict: fixes, at: 1m, restart: {service: api}}]\n",
		  "14:51", "an action has no time");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: fixed, restart: {service: api}}]\n",
		  "14:40", "did you mean 'fixes'");
	parse_bad(BASE "actions: [{name: a, verdict: fixes, restart: {service: api}}]\n",
		  "14:11", "missing 'title'");
	parse_bad(BASE "actions: [{name: a/b, title: A, verdict: fixes, restart: {service: api}}]\n",
		  "14:18", "letters, digits");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: fixes, rollback: {service: api}}]\n",
		  "14:11", "no deploy of 'api' to roll back");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: fixes, scale_out: {service: api, instances: 2}}]\n",
		  "14:84", "starts with 2");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: fixes, restart: {service: api}},"
		  " {name: a, title: B, verdict: helps, restart: {service: web}}]\n",
		  "14:80", "two actions are named 'a'");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: helps, config_change: ~, effects: [{target: db1, pool: 3, until: 10m}]}]\n",
		  "14:105", "give its duration");
	parse_bad(BASE "actions: [{name: a, title: A, verdict: helps, config_change: ~, mitigation: true}]\n",
		  "14:77", "every action is an intervention");
	parse_bad(BASE "timeline: [{at: 1m, rollback: {service: api}, mitigation: false}]\n",
		  "14:59", "always a mitigation");
	parse_bad(BASE "drill: {join_at: 2h}\n", "14:18", "not before the end");
	parse_bad(BASE "drill: {joint_at: 2m}\n", "14:9", "did you mean 'join_at'");
}

/* ---- bad files ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_files(void **state)
{
	(void)state;
	char dir[2048];
	path_of(dir, sizeof(dir), "tests/scenario/bad");
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s", dir);
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 512) {
		size_t len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	assert_true(n >= 40);
	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096], line[512], rel[600];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(rel, sizeof(rel), "tests/scenario/bad/%s", names[i]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		/* "# expect: LINE:COL: substring" */
		int l = 0, c = 0, off = 0;
		if (sscanf(line, "# expect: %d:%d: %n", &l, &c, &off) != 2 || off == 0) {
			print_error("%s: no '# expect: LINE:COL: substring' first line\n", names[i]);
			failures++;
			free(names[i]);
			continue;
		}
		char *sub = line + off;
		sub[strcspn(sub, "\r\n")] = '\0';
		struct fd_error err = {0};
		struct fd_scenario *s = NULL;
		int rc = fd_scenario_load(path, &s, &err);
		char want[4200];
		snprintf(want, sizeof(want), "%s:%d:%d: ", path, l, c);
		if (rc != -FD_EINPUT || s || strncmp(err.msg, want, strlen(want)) != 0 ||
		    !strstr(err.msg, sub)) {
			print_error("%s: expected %d:%d: \"%s\"\n   got (rc %d) %s\n", rel, l, c, sub,
				    rc, err.msg);
			failures++;
		}
		fd_scenario_destroy(s);
		free(names[i]);
	}
	assert_int_equal(failures, 0);
}

/* Issue 20: a UTF-16 scenario passed validate and generate (libyaml reads
 * UTF-16), then broke inspect --timeline, which reads the text back from the
 * recording as a C string. Refused, with the way to convert it. */
static void test_not_utf8(void **state)
{
	(void)state;
	static const char text[] = "name: x\nduration: 1h\n";
	char u16[2 + 2 * sizeof(text)];
	size_t n = 0;
	u16[n++] = (char)0xff; /* little-endian byte order mark */
	u16[n++] = (char)0xfe;
	for (size_t i = 0; i + 1 < sizeof(text); i++) {
		u16[n++] = text[i];
		u16[n++] = '\0';
	}
	struct fd_error err = {0};
	struct fd_scenario *s = NULL;
	assert_int_equal(fd_scenario_parse("u16.yaml", u16, n, &s, &err), -FD_EINPUT);
	assert_null(s);
	if (!strstr(err.msg, "u16.yaml:1:1: not a UTF-8 text file: it starts with a UTF-16 byte order mark"))
		fail_msg("%s", err.msg);
	/* big-endian */
	u16[0] = (char)0xfe;
	u16[1] = (char)0xff;
	assert_int_equal(fd_scenario_parse("u16be.yaml", u16, n, &s, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "UTF-16 byte order mark"));
	/* without the mark: its first NUL byte, where it is */
	assert_int_equal(fd_scenario_parse("u16le.yaml", u16 + 2, n - 2, &s, &err), -FD_EINPUT);
	if (!strstr(err.msg, "u16le.yaml:1:2: not a UTF-8 text file: control characters"))
		fail_msg("%s", err.msg);
}

/* Runs fn in a child limited to cpu_s seconds of CPU time (not wall time:
 * the machine's load does not matter); fails the test when the child does
 * not finish within it or fails. */
static void within_cpu(void (*fn)(void), unsigned cpu_s, const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {cpu_s, cpu_s + 1};
		setrlimit(RLIMIT_CPU, &rl);
		fn();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (SIGXCPU: over %u s of CPU)", what, WTERMSIG(status),
			 cpu_s);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: failed (status %#x)", what, status);
}

static void parse_many_events(void)
{
	enum { N = 190000 }; /* about what the 1M-node limit of a document allows */
	static const char head[] = "name: many\nduration: 2h\nservices:\n  web:\n    endpoints:\n"
				   "      \"GET /\": {self: {p50: 5ms, p95: 20ms}}\n"
				   "traffic:\n  - {entry: web \"GET /\", rate: 1/s}\ntimeline:\n";
	size_t cap = sizeof(head) + (size_t)N * 48, len = 0;
	char *text = malloc(cap);
	if (!text)
		_exit(3);
	len += (size_t)snprintf(text, cap, "%s", head);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "  - {at: %dms, config_change: {}}\n", i);
	struct fd_error err = {0};
	struct fd_scenario *s = NULL;
	int rc = fd_scenario_parse("many.yaml", text, len, &s, &err);
	if (rc != 0 || s->n_events != N) {
		fprintf(stderr, "many events: %s\n", err.msg);
		_exit(1);
	}
	fd_scenario_destroy(s);
	free(text);
}

/* Issue 20: 100k timeline events took 23 s to validate, every pair of
 * names compared. 190k now take about half a second of CPU; quadratic,
 * over a minute. */
static void test_many_events(void **state)
{
	(void)state;
	within_cpu(parse_many_events, 15, "190k timeline events");
}

int main(void)
{
	const char *r = getenv("FD_SOURCE_ROOT");
	if (r && *r)
		snprintf(root_dir, sizeof(root_dir), "%s", r);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_header),
		cmocka_unit_test(test_fixture_services),
		cmocka_unit_test(test_fixture_queries),
		cmocka_unit_test(test_fixture_timeline),
		cmocka_unit_test(test_fixture_traffic_noise),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rollback_and_shorthands),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_inline_errors),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_many_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
