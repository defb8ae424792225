/*
 * Stack traces from the failure sites' templates (generator/sim_stack.c) are
 * byte for byte what formatting each dump whole gives, for every runtime,
 * every kind of failure, handlers with and without a route or method, with
 * and without a trace id (Go's goroutine and pointers come from it), long
 * messages, buffers that truncate, and a service whose name carries the
 * template's marker bytes.
 *
 * It reaches into the simulation (generator/sim_internal.h) because the
 * templates are an internal cache: the output of a run cannot tell a wrong
 * template from a right one unless the old bytes are at hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "generator/scenario.h"
#include "generator/sim.h"
#include "generator/sim_internal.h"

static const char runtimes[] =
	"name: stacks\n"
	"title: one service per runtime\n"
	"duration: 1m\n"
	"seed: 5\n"
	"namespace: web-shop\n"
	"traffic:\n"
	"  - entry: order-api \"GET /orders/{id}\"\n"
	"    rate: 1/s\n"
	"services:\n"
	"  order-api:\n"
	"    runtime: go\n"
	"    endpoints:\n"
	"      \"GET /orders/{id}\":\n"
	"        self: {p50: 1ms, p95: 2ms}\n"
	"        calls:\n"
	"          - {service: java-svc, endpoint: \"POST /pay\"}\n"
	"          - {service: py_svc, endpoint: \"GET /\"}\n"
	"          - {service: node-svc, endpoint: \"PUT /carts/{cartId}/items\"}\n"
	"          - {service: dotnet-svc, endpoint: \"DELETE /sessions/{id}\"}\n"
	"          - {service: ruby-svc, endpoint: \"GET /x\"}\n"
	"          - {service: rust-svc, endpoint: \"PATCH /stock\"}\n"
	"  java-svc: {runtime: java, endpoints: {\"POST /pay\": {self: {p50: 1ms, p95: 2ms}}}}\n"
	"  py_svc: {runtime: python, endpoints: {\"GET /\": {self: {p50: 1ms, p95: 2ms}}}}\n"
	"  node-svc: {runtime: node, endpoints: {\"PUT /carts/{cartId}/items\": {self: {p50: 1ms, p95: 2ms}}}}\n"
	"  dotnet-svc: {runtime: dotnet, endpoints: {\"DELETE /sessions/{id}\": {self: {p50: 1ms, p95: 2ms}}}}\n"
	"  ruby-svc: {runtime: ruby, endpoints: {\"GET /x\": {self: {p50: 1ms, p95: 2ms}}}}\n"
	"  rust-svc: {runtime: rust, endpoints: {\"PATCH /stock\": {self: {p50: 1ms, p95: 2ms}}}}\n";

static void check_one(struct fd_sim *s, const struct svc *sv, const char *method, const char *route,
		      enum sim_err e, const char *msg, const uint8_t *trace_id, size_t n)
{
	char got[4096], want[4096];
	memset(got, 'G', sizeof(got));
	memset(want, 'G', sizeof(want));
	const char *type = sim_exception_type(sv, e);
	sim_stacktrace(got, n, s, sv, method, route, e, type, msg, trace_id);
	sim_stack_format(want, n, s, sv, method, route, e, type, msg, trace_id);
	if (memcmp(got, want, sizeof(got)) != 0)
		fail_msg("%s %s %s err %d msg %zu bytes, n %zu, trace id %s:\n--- template:\n%.*s\n--- whole:\n%.*s",
			 sv->def->name, method ? method : "(none)", route ? route : "(none)", (int)e,
			 strlen(msg), n, trace_id ? "yes" : "no", (int)(n ? n : 1) - 1, got,
			 (int)(n ? n : 1) - 1, want);
}

static void templates_equal_whole_dumps(void **state)
{
	(void)state;
	struct fd_scenario *sc = NULL;
	struct fd_error err = {0};
	if (fd_scenario_parse("stacks", runtimes, sizeof(runtimes) - 1, &sc, &err) != 0)
		fail_msg("%s", err.msg);
	struct fd_sim *s = NULL;
	if (fd_sim_create(sc, NULL, &s, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal((int)sc->n_services, 7);

	char long_msg[400];
	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	const char *msgs[] = {"", "boom", "HikariPool-1 - Connection is not available (100%)", long_msg};
	const char *routes[][2] = {
		{"GET", "/orders/{id}"}, {"POST", "/pay"}, {NULL, NULL}, {"DELETE", "/"},
		{"GET", "/a\001b\003c/{id}"},
		{"PUT", "/" "very-long-route-segment-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on"
			"/and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on/{id}"},
	};
	const size_t sizes[] = {2048, 4096, 1, 2, 40, 333, 900};
	uint8_t trace_id[16];
	int checked = 0;
	/* twice over: the first pass builds the templates, the second uses
	 * them; sizes and messages vary at every call of a site */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sc->n_services; i++) {
			const struct svc *sv = &s->svcs[i];
			for (enum sim_err e = ERR_INTERNAL; e < ERR_N; e++) {
				for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
					for (int k = 0; k < 6; k++) {
						for (int b = 0; b < 16; b++)
							trace_id[b] = (uint8_t)(k * 37 + b * 11 + (int)e + pass);
						size_t n = sizes[(size_t)(k + pass + (int)r) % (sizeof(sizes) / sizeof(sizes[0]))];
						check_one(s, sv, routes[r][0], routes[r][1], e, msgs[(size_t)k % 4],
							  k == 5 ? NULL : trace_id, n);
						checked++;
					}
				}
			}
		}
	}
	assert_int_equal(checked, 2 * 7 * (ERR_N - 1) * 6 * 6);
	/* A name carrying the template's marker bytes (Go prints the service's
	 * name as it is): that site is formatted whole, the same bytes. */
	for (size_t i = 0; i < sc->n_services; i++) {
		struct fd_service def = *s->svcs[i].def;
		struct svc odd = s->svcs[i];
		def.name = "odd\001name\002with\003markers";
		odd.def = &def;
		for (int pass = 0; pass < 2; pass++)
			for (enum sim_err e = ERR_INTERNAL; e < ERR_N; e++)
				check_one(s, &odd, "GET", "/orders/{id}", e, msgs[pass + 1], trace_id, 2048);
	}
	assert_non_null(s->stacks); /* the templates were used */
	fd_sim_destroy(s);
	fd_scenario_destroy(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(templates_equal_whole_dumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
