/*
 * Scenario parsing, part 2: the timeline. Each entry is one event (a kind
 * key with its parameters, plus `at`, `name`, `description`, `effects`);
 * shorthand kinds (traffic_spike, outage...) become ordinary effects here so
 * the simulation sees one mechanism. Cross-event links (what a rollback
 * undoes, versions along the timeline) are resolved in scenario_resolve.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/scenario_internal.h"
#include "common/suggest.h"

/* ---- targets ------------------------------------------------------------------ */

static const char *target_kind_name(enum fd_target_kind k)
{
	switch (k) {
	case FD_TARGET_SERVICE:
		return "a service";
	case FD_TARGET_ENDPOINT:
		return "an endpoint";
	case FD_TARGET_DATABASE:
		return "a database";
	case FD_TARGET_QUERY:
		return "a query";
	case FD_TARGET_CACHE:
		return "a cache";
	case FD_TARGET_QUEUE:
		return "a queue";
	case FD_TARGET_DEPENDENCY:
		return "a dependency";
	case FD_TARGET_TRAFFIC:
		return "traffic";
	case FD_TARGET_NODE:
		return "a node";
	}
	return "?";
}

static int find_query(struct sp *p, struct fd_database *db, const char *text, struct fd_pos pos,
		      struct fd_query **out)
{
	for (size_t i = 0; i < db->n_queries; i++)
		if (strcmp(db->queries[i].text, text) == 0) {
			*out = &db->queries[i];
			return 0;
		}
	if (db->n_queries == 0)
		return sp_fail(p, pos, "no call runs a query on database '%s'", db->name);
	return sp_fail(p, pos,
		       "no call runs this query on database '%s' (it runs %zu: the first is \"%s\" at %d:%d)",
		       db->name, db->n_queries, db->queries[0].text, db->queries[0].pos.line,
		       db->queries[0].pos.col);
}

/* Every name a bare target could mean, for did-you-mean. */
static int unknown_target(struct sp *p, const char *name, struct fd_pos pos)
{
	struct fd_scenario *s = p->s;
	size_t n = s->n_services + s->n_databases + s->n_caches + s->n_queues + s->n_dependencies;
	const char **names = malloc((n ? n : 1) * sizeof(*names));
	if (!names)
		return sp_oom(p);
	size_t k = 0;
	for (size_t i = 0; i < s->n_services; i++)
		names[k++] = s->services[i].name;
	for (size_t i = 0; i < s->n_databases; i++)
		names[k++] = s->databases[i].name;
	for (size_t i = 0; i < s->n_caches; i++)
		names[k++] = s->caches[i].name;
	for (size_t i = 0; i < s->n_queues; i++)
		names[k++] = s->queues[i].name;
	for (size_t i = 0; i < s->n_dependencies; i++)
		names[k++] = s->dependencies[i].name;
	const char *best = fd_suggest(name, names, n);
	free(names);
	if (best)
		return sp_fail(p, pos, "target: nothing is named '%s' (did you mean '%s'?)", name, best);
	return sp_fail(p, pos, "target: nothing is named '%s' (no service, database, cache, queue or dependency)",
		       name);
}

static int traffic_for(struct sp *p, const struct yt_node *v, struct fd_traffic **out)
{
	struct fd_endpoint *ep;
	int rc;
	if (v->kind == YT_SCALAR && strcmp(v->str, "all") == 0) {
		*out = NULL;
		return 0;
	}
	if ((rc = sp_endpoint_ref(p, v, "traffic", &ep)) < 0)
		return rc;
	for (size_t i = 0; i < p->s->n_traffic; i++)
		if (p->s->traffic[i].entry == ep) {
			*out = &p->s->traffic[i];
			return 0;
		}
	return sp_fail(p, v->pos, "no traffic entry enters at %s \"%s\"", ep->service->name, ep->key);
}

/* A bare name, `name "quoted"`, or {service|endpoint|db|query|cache|queue|
 * dependency|traffic: ...}. */
static int parse_target(struct sp *p, const struct yt_node *node, struct fd_target *t)
{
	static const char *const keys[] = {"service", "endpoint", "db", "query", "cache",
					   "queue", "dependency", "traffic", "node", NULL};
	struct fd_scenario *s = p->s;
	const struct yt_node *v;
	const char *name;
	int rc;
	memset(t, 0, sizeof(*t));
	t->pos = node->pos;
	if (node->kind == YT_MAP) {
		if ((rc = sp_map(p, node, "target", keys)) < 0)
			return rc;
		if (node->n == 0)
			return sp_fail(p, node->pos, "target: empty");
		const char *first = node->items[0]->str;
		bool svc_ep = yt_get(node, "service") && yt_get(node, "endpoint") && node->n == 2;
		bool db_q = yt_get(node, "db") && yt_get(node, "query") && node->n == 2;
		if (node->n > 1 && !svc_ep && !db_q)
			return sp_fail(p, node->items[2]->pos,
				       "target: give one thing (service with endpoint, or db with query are the pairs allowed)");
		if ((v = yt_get(node, "traffic"))) {
			t->kind = FD_TARGET_TRAFFIC;
			return traffic_for(p, v, &t->traffic);
		}
		if ((v = yt_get(node, "node"))) {
			t->kind = FD_TARGET_NODE;
			if ((rc = sp_name(p, v, "node", &name)) < 0)
				return rc;
			if (s->cluster.n_nodes == 0)
				return sp_fail(p, v->pos, "node: the cluster declares no nodes (give cluster.nodes)");
			return sp_find_node(p, name, v->pos, &t->node);
		}
		if (strcmp(first, "query") == 0 || (strcmp(first, "endpoint") == 0 && !svc_ep))
			return sp_fail(p, node->items[0]->pos, "target: '%s' needs '%s' beside it",
				       first, first[0] == 'q' ? "db" : "service");
		if ((v = yt_get(node, "service"))) {
			if ((rc = sp_name(p, v, "service", &name)) < 0 ||
			    (rc = sp_find_service(p, name, v->pos, &t->service)) < 0)
				return rc;
			t->kind = FD_TARGET_SERVICE;
			if ((v = yt_get(node, "endpoint"))) {
				if ((rc = sp_string(p, v, "endpoint", &name)) < 0 ||
				    (rc = sp_find_endpoint(p, t->service, name, v->pos, &t->endpoint)) < 0)
					return rc;
				t->kind = FD_TARGET_ENDPOINT;
			}
			return 0;
		}
		if ((v = yt_get(node, "db"))) {
			if ((rc = sp_name(p, v, "db", &name)) < 0 ||
			    (rc = sp_find_database(p, name, v->pos, &t->database)) < 0)
				return rc;
			t->kind = FD_TARGET_DATABASE;
			if ((v = yt_get(node, "query"))) {
				if ((rc = sp_string(p, v, "query", &name)) < 0 ||
				    (rc = find_query(p, t->database, name, v->pos, &t->query)) < 0)
					return rc;
				t->kind = FD_TARGET_QUERY;
			}
			return 0;
		}
		if ((v = yt_get(node, "cache"))) {
			t->kind = FD_TARGET_CACHE;
			if ((rc = sp_name(p, v, "cache", &name)) < 0)
				return rc;
			return sp_find_cache(p, name, v->pos, &t->cache);
		}
		if ((v = yt_get(node, "queue"))) {
			t->kind = FD_TARGET_QUEUE;
			if ((rc = sp_name(p, v, "queue", &name)) < 0)
				return rc;
			return sp_find_queue(p, name, v->pos, &t->queue);
		}
		v = yt_get(node, "dependency");
		t->kind = FD_TARGET_DEPENDENCY;
		if ((rc = sp_name(p, v, "dependency", &name)) < 0)
			return rc;
		return sp_find_dependency(p, name, v->pos, &t->dependency);
	}

	struct sp_ref r;
	if ((rc = sp_split_ref(p, node, "target", &r)) < 0)
		return rc;
	struct fd_service *svc = fd_scenario_find_service(s, r.name);
	struct fd_database *db = NULL;
	struct fd_cache *cache = NULL;
	struct fd_queue *queue = NULL;
	struct fd_dependency *dep = NULL;
	for (size_t i = 0; i < s->n_databases; i++)
		if (strcmp(s->databases[i].name, r.name) == 0)
			db = &s->databases[i];
	for (size_t i = 0; i < s->n_caches; i++)
		if (strcmp(s->caches[i].name, r.name) == 0)
			cache = &s->caches[i];
	for (size_t i = 0; i < s->n_queues; i++)
		if (strcmp(s->queues[i].name, r.name) == 0)
			queue = &s->queues[i];
	for (size_t i = 0; i < s->n_dependencies; i++)
		if (strcmp(s->dependencies[i].name, r.name) == 0)
			dep = &s->dependencies[i];
	if (r.quoted) {
		/* only services (endpoints) and databases (queries) have parts */
		if (svc && db)
			return sp_fail(p, r.name_pos,
				       "target: '%s' is both a service and a database; write {service: %s, endpoint: ...} or {db: %s, query: ...}",
				       r.name, r.name, r.name);
		if (svc) {
			t->kind = FD_TARGET_ENDPOINT;
			t->service = svc;
			return sp_find_endpoint(p, svc, r.quoted, r.quoted_pos, &t->endpoint);
		}
		if (db) {
			t->kind = FD_TARGET_QUERY;
			t->database = db;
			return find_query(p, db, r.quoted, r.quoted_pos, &t->query);
		}
		if (cache || queue || dep)
			return sp_fail(p, r.quoted_pos,
				       "target: '%s' is not a service or a database, so it has no \"...\" part",
				       r.name);
		return unknown_target(p, r.name, r.name_pos);
	}
	int found = (svc != NULL) + (db != NULL) + (cache != NULL) + (queue != NULL) + (dep != NULL);
	if (found == 0)
		return unknown_target(p, r.name, r.name_pos);
	if (found > 1)
		return sp_fail(p, r.name_pos,
			       "target: '%s' is ambiguous (several kinds of things have that name); write {service: %s}, {db: %s}, {cache: %s}, {queue: %s} or {dependency: %s}",
			       r.name, r.name, r.name, r.name, r.name, r.name);
	t->service = svc;
	t->database = db;
	t->cache = cache;
	t->queue = queue;
	t->dependency = dep;
	t->kind = svc ? FD_TARGET_SERVICE
		: db ? FD_TARGET_DATABASE
		: cache ? FD_TARGET_CACHE
		: queue ? FD_TARGET_QUEUE
			: FD_TARGET_DEPENDENCY;
	return 0;
}

/* ---- effects ------------------------------------------------------------------ */

#define ALL_BUT_TRAFFIC                                                                      \
	((1u << FD_TARGET_SERVICE) | (1u << FD_TARGET_ENDPOINT) | (1u << FD_TARGET_DATABASE) |  \
	 (1u << FD_TARGET_QUERY) | (1u << FD_TARGET_CACHE) | (1u << FD_TARGET_QUEUE) |          \
	 (1u << FD_TARGET_DEPENDENCY))

/* Which changes make sense on which targets (bit per fd_target_kind). */
static const struct {
	const char *key;
	unsigned change;
	unsigned targets;
	const char *needs;
} change_targets[] = {
	{"latency", FD_CHANGE_LATENCY_MULT | FD_CHANGE_LATENCY_ADD, ALL_BUT_TRAFFIC | (1u << FD_TARGET_NODE),
	 "anything but traffic"},
	{"tail", FD_CHANGE_TAIL, ALL_BUT_TRAFFIC | (1u << FD_TARGET_NODE), "anything but traffic"},
	{"errors", FD_CHANGE_ERRORS, ALL_BUT_TRAFFIC, "anything but traffic"},
	{"hit_ratio", FD_CHANGE_HIT_RATIO, 1u << FD_TARGET_CACHE, "a cache"},
	{"throughput", FD_CHANGE_THROUGHPUT, 1u << FD_TARGET_QUEUE, "a queue (its consumers)"},
	{"pool", FD_CHANGE_POOL, 1u << FD_TARGET_DATABASE, "a database"},
	{"rate", FD_CHANGE_RATE, 1u << FD_TARGET_TRAFFIC, "traffic"},
	{"cpu", FD_CHANGE_CPU, (1u << FD_TARGET_SERVICE) | (1u << FD_TARGET_NODE), "a service or a node"},
	{"memory_leak", FD_CHANGE_MEMORY_LEAK, 1u << FD_TARGET_SERVICE, "a service"},
	{"timeout", FD_CHANGE_TIMEOUT, (1u << FD_TARGET_SERVICE) | (1u << FD_TARGET_ENDPOINT),
	 "a service or an endpoint"},
	{"retries", FD_CHANGE_RETRIES, 1u << FD_TARGET_SERVICE, "a service (the caller)"},
};

static int check_change(struct sp *p, const struct fd_effect *e, const char *key,
			struct fd_pos pos)
{
	for (size_t i = 0; i < sizeof(change_targets) / sizeof(change_targets[0]); i++)
		if (strcmp(change_targets[i].key, key) == 0 &&
		    !(change_targets[i].targets & (1u << e->target.kind)))
			return sp_fail(p, pos, "'%s' applies to %s, not to %s", key,
				       change_targets[i].needs, target_kind_name(e->target.kind));
	return 0;
}

static void effect_defaults(struct fd_effect *e, struct fd_event *ev)
{
	e->event = ev;
	e->latency_mult = 1;
	e->error_status = 500;
	e->throughput_mult = 1;
	e->rate_mult = 1;
	e->cpu_mult = 1;
	e->tail_mult = 1;
	e->hit_ratio = -1;
	e->scope.instance = -1;
	/* a change shipped by a deploy runs only on the new version's
	 * instances: it spreads with the rollout, leaves with a rollback */
	e->scope.version = ev->kind == FD_EVENT_DEPLOY ? FD_VERSION_NEW : FD_VERSION_ANY;
	e->start_ns = ev->at_ns;
	e->ramp_ns = ev->kind == FD_EVENT_DEPLOY || ev->kind == FD_EVENT_ROLLBACK ? ev->rollout_ns : 0;
	e->end_ns = FD_FOREVER;
}

/* latency: x10 (multiplier) or +2s (added) */
int sp_latency_change(struct sp *p, const struct yt_node *v, const char *key, struct fd_effect *e)
{
	int rc;
	if (v->kind == YT_SCALAR && v->str[0] == '+') {
		struct yt_node tmp = *v;
		tmp.str = v->str + 1;
		tmp.len = v->len - 1;
		if ((rc = sp_duration(p, &tmp, key, &e->latency_add_ns)) < 0)
			return rc;
		e->changes |= FD_CHANGE_LATENCY_ADD;
		return 0;
	}
	if (v->kind == YT_SCALAR && !yt_is_null(v) && v->str[0] != 'x' && v->str[0] != 'X' &&
	    v->str[v->len - 1] != 'x')
		return sp_fail(p, v->pos, "%s: '%s': expected a multiplier such as x10 or an addition such as +2s",
			       key, v->str);
	if ((rc = sp_mult(p, v, key, &e->latency_mult)) < 0)
		return rc;
	e->changes |= FD_CHANGE_LATENCY_MULT;
	return 0;
}

static int parse_scope(struct sp *p, const struct yt_node *node, struct fd_effect *e)
{
	struct fd_scenario *s = p->s;
	int rc;
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "scope: expected a mapping such as {region: eu}, got %s",
			       yt_kind_name(node));
	e->scope.dims = fd_arena_array(p->arena, node->n, sizeof(*e->scope.dims));
	if (node->n && !e->scope.dims)
		return sp_oom(p);
	for (size_t i = 0; i < node->n; i++) {
		const struct yt_node *k = node->items[2 * i], *v = node->items[2 * i + 1];
		if (strcmp(k->str, "instance") == 0) {
			if ((rc = sp_int(p, v, "instance", 0, 999, &e->scope.instance)) < 0)
				return rc;
			const struct fd_service *svc = e->target.service;
			if (svc && e->scope.instance >= svc->instances)
				return sp_fail(p, v->pos, "instance: %d, but service '%s' has %d instance%s",
					       e->scope.instance, svc->name, svc->instances,
					       svc->instances == 1 ? "" : "s");
			continue;
		}
		if (strcmp(k->str, "version") == 0) {
			const char *name;
			if ((rc = sp_name(p, v, "version", &name)) < 0)
				return rc;
			if (strcmp(name, "any") == 0)
				e->scope.version = FD_VERSION_ANY;
			else if (strcmp(name, "new") == 0)
				e->scope.version = FD_VERSION_NEW;
			else if (strcmp(name, "old") == 0)
				e->scope.version = FD_VERSION_OLD;
			else
				return sp_fail(p, v->pos, "version: '%s': expected new, old or any", name);
			if (e->scope.version != FD_VERSION_ANY && e->event->kind != FD_EVENT_DEPLOY &&
			    e->event->kind != FD_EVENT_ROLLBACK)
				return sp_fail(p, v->pos, "version: only effects of a deploy or rollback can be scoped to a version");
			continue;
		}
		if (strcmp(k->str, "payload_min") == 0) {
			if ((rc = sp_size(p, v, "payload_min", &e->scope.payload_min)) < 0)
				return rc;
			continue;
		}
		/* anything else is a request dimension of some traffic entry */
		const struct fd_dimension *dim = NULL;
		for (size_t t = 0; t < s->n_traffic && !dim; t++)
			for (size_t d = 0; d < s->traffic[t].n_dimensions && !dim; d++)
				if (strcmp(s->traffic[t].dimensions[d].name, k->str) == 0)
					dim = &s->traffic[t].dimensions[d];
		if (!dim) {
			const char *cands[3 + 64] = {"instance", "version", "payload_min"};
			size_t n = 3;
			for (size_t t = 0; t < s->n_traffic; t++)
				for (size_t d = 0; d < s->traffic[t].n_dimensions && n < 67; d++)
					cands[n++] = s->traffic[t].dimensions[d].name;
			const char *best = fd_suggest(k->str, cands, n);
			return sp_fail(p, k->pos, "scope: '%s' is not a request dimension nor instance, version or payload_min%s%s%s",
				       k->str, best ? " (did you mean '" : "", best ? best : "",
				       best ? "'?)" : "");
		}
		struct fd_scope_dim *sd = &e->scope.dims[e->scope.n_dims];
		sd->dimension = dim->name;
		if ((rc = sp_string(p, v, k->str, &sd->value)) < 0)
			return rc;
		/* the value must exist in some entry with that dimension */
		bool known = false;
		for (size_t t = 0; t < s->n_traffic && !known; t++)
			for (size_t d = 0; d < s->traffic[t].n_dimensions && !known; d++)
				if (strcmp(s->traffic[t].dimensions[d].name, k->str) == 0)
					for (size_t j = 0; j < s->traffic[t].dimensions[d].n_values; j++)
						known = known || strcmp(s->traffic[t].dimensions[d].values[j].name,
									sd->value) == 0;
		if (!known) {
			const char *cands[64];
			size_t n = 0;
			for (size_t j = 0; j < dim->n_values && n < 64; j++)
				cands[n++] = dim->values[j].name;
			const char *best = fd_suggest(sd->value, cands, n);
			return sp_fail(p, v->pos, "scope: dimension '%s' has no value '%s'%s%s%s", dim->name,
				       sd->value, best ? " (did you mean '" : "", best ? best : "",
				       best ? "'?)" : "");
		}
		e->scope.n_dims++;
	}
	return 0;
}

int sp_effect_timing(struct sp *p, const struct yt_node *node, struct fd_effect *e)
{
	const struct yt_node *v, *dur = yt_get(node, "duration"), *until = yt_get(node, "until");
	int64_t d;
	char a[32], b[32];
	int rc;
	if ((v = yt_get(node, "delay"))) {
		if ((rc = sp_duration(p, v, "delay", &d)) < 0)
			return rc;
		if (d > p->s->duration_ns - e->start_ns - 1)
			return sp_fail(p, v->pos, "delay: the effect would start at %s, after the end of the scenario (%s)",
				       sp_fmt_offset(e->start_ns + (d < p->s->duration_ns ? d : 0), a, sizeof(a)),
				       sp_fmt_offset(p->s->duration_ns, b, sizeof(b)));
		e->start_ns += d;
	}
	if ((v = yt_get(node, "ramp")) && (rc = sp_duration(p, v, "ramp", &e->ramp_ns)) < 0)
		return rc;
	if (dur && until)
		return sp_fail(p, until->pos, "until: give either duration or until, not both");
	if (dur) {
		if ((rc = sp_duration(p, dur, "duration", &d)) < 0)
			return rc;
		if (d == 0)
			return sp_fail(p, dur->pos, "duration: must be greater than 0");
		e->end_ns = d > INT64_MAX - e->start_ns ? FD_FOREVER : e->start_ns + d;
	}
	if (until && p->in_action)
		return sp_fail(p, until->pos, "until: an action's effect starts when the action is taken; give its duration instead");
	if (until) {
		if ((rc = sp_offset(p, until, "until", &d)) < 0)
			return rc;
		if (d <= e->start_ns)
			return sp_fail(p, until->pos, "until: %s is not after the effect starts (%s)",
				       sp_fmt_offset(d, a, sizeof(a)), sp_fmt_offset(e->start_ns, b, sizeof(b)));
		e->end_ns = d;
	}
	return 0;
}

static int parse_effect(struct sp *p, const struct yt_node *node, struct fd_effect *e)
{
	static const char *const keys[] = {"target", "latency", "tail", "errors", "hit_ratio",
					   "throughput", "pool", "rate", "cpu", "memory_leak",
					   "timeout", "retries", "scope", "delay", "ramp", "duration",
					   "until", NULL};
	const struct yt_node *v;
	int rc;
	e->pos = node->pos;
	if ((rc = sp_map(p, node, "effect", keys)) < 0 ||
	    (rc = sp_need(p, node, "target", "effect", &v)) < 0 ||
	    (rc = parse_target(p, v, &e->target)) < 0)
		return rc;
	for (size_t i = 0; i < node->n; i++)
		if ((rc = check_change(p, e, node->items[2 * i]->str, node->items[2 * i]->pos)) < 0)
			return rc;
	if ((v = yt_get(node, "latency")) && (rc = sp_latency_change(p, v, "latency", e)) < 0)
		return rc;
	if ((v = yt_get(node, "tail"))) {
		if ((rc = sp_mult(p, v, "tail", &e->tail_mult)) < 0)
			return rc;
		e->changes |= FD_CHANGE_TAIL;
	}
	if ((v = yt_get(node, "errors"))) {
		if ((rc = sp_errors(p, v, "errors", &e->error_probability, &e->error_status)) < 0)
			return rc;
		e->changes |= FD_CHANGE_ERRORS;
	}
	if ((v = yt_get(node, "hit_ratio"))) {
		if ((rc = sp_fraction(p, v, "hit_ratio", &e->hit_ratio)) < 0)
			return rc;
		e->changes |= FD_CHANGE_HIT_RATIO;
	}
	if ((v = yt_get(node, "throughput"))) {
		/* x0 is meaningful here: a consumer that stops consuming (a
		 * stalled pipeline); other multipliers must be > 0. */
		if (v->kind == YT_SCALAR && (!strcmp(v->str, "x0") || !strcmp(v->str, "0x")))
			e->throughput_mult = 0;
		else if ((rc = sp_mult(p, v, "throughput", &e->throughput_mult)) < 0)
			return rc;
		e->changes |= FD_CHANGE_THROUGHPUT;
	}
	if ((v = yt_get(node, "pool"))) {
		if ((rc = sp_int(p, v, "pool", 1, 100000, &e->pool)) < 0)
			return rc;
		e->changes |= FD_CHANGE_POOL;
	}
	if ((v = yt_get(node, "rate"))) {
		if ((rc = sp_mult(p, v, "rate", &e->rate_mult)) < 0)
			return rc;
		e->changes |= FD_CHANGE_RATE;
	}
	if ((v = yt_get(node, "cpu"))) {
		if ((rc = sp_mult(p, v, "cpu", &e->cpu_mult)) < 0)
			return rc;
		e->changes |= FD_CHANGE_CPU;
	}
	if ((v = yt_get(node, "memory_leak"))) {
		if ((rc = sp_size_rate(p, v, "memory_leak", &e->memory_leak_per_s)) < 0)
			return rc;
		e->changes |= FD_CHANGE_MEMORY_LEAK;
	}
	if ((v = yt_get(node, "timeout"))) {
		if ((rc = sp_duration(p, v, "timeout", &e->timeout_ns)) < 0)
			return rc;
		e->changes |= FD_CHANGE_TIMEOUT;
	}
	if ((v = yt_get(node, "retries"))) {
		/* the target's own outgoing calls retry at most this often
		 * (0: a retry storm switched off) */
		if ((rc = sp_int(p, v, "retries", 0, 10, &e->retries)) < 0)
			return rc;
		e->changes |= FD_CHANGE_RETRIES;
	}
	if (!e->changes)
		return sp_fail(p, node->pos,
			       "effect: changes nothing (give latency, errors, hit_ratio, throughput, pool, rate, cpu, memory_leak, timeout, retries or tail)");
	if ((v = yt_get(node, "scope")) && !yt_is_null(v) && (rc = parse_scope(p, v, e)) < 0)
		return rc;
	return sp_effect_timing(p, node, e);
}

/* ---- events ------------------------------------------------------------------- */

static const char *const k_deploy[] = {"service", "version", "rollout", "crash_on_start",
				       "crash_error", NULL};
static const char *const k_config[] = {"service", "key", "value", NULL};
static const char *const k_flag[] = {"flag", "on", "service", NULL};
static const char *const k_spike[] = {"multiplier", "entry", "duration", "ramp", NULL};
static const char *const k_slow[] = {"target", "latency", "duration", "ramp", NULL};
static const char *const k_outage[] = {"target", "error_rate", "status", "hang", "duration",
				       "ramp", NULL};
static const char *const k_index[] = {"target", "latency", "duration", "ramp", NULL};
static const char *const k_leak[] = {"service", "rate", "duration", NULL};
static const char *const k_flush[] = {"cache", NULL};
static const char *const k_cert[] = {"target", "status", "duration", NULL};
static const char *const k_loss[] = {"service", "instance", NULL};
static const char *const k_rollback[] = {"service", "version", "rollout", "undoes", "damping",
					 NULL};
static const char *const k_flag_off[] = {"flag", "undoes", "damping", NULL};
static const char *const k_scale[] = {"service", "instances", "version", "undoes", "damping",
				      NULL};
static const char *const k_restart[] = {"service", "instance", "rollout", "undoes", "damping",
					NULL};

static const struct {
	enum fd_event_kind kind;
	bool mitigation;
	const char *const *params;
} kinds[] = {
	{FD_EVENT_DEPLOY, false, k_deploy},
	{FD_EVENT_CONFIG_CHANGE, false, k_config},
	{FD_EVENT_FEATURE_FLAG, false, k_flag},
	{FD_EVENT_TRAFFIC_SPIKE, false, k_spike},
	{FD_EVENT_DEPENDENCY_SLOWDOWN, false, k_slow},
	{FD_EVENT_OUTAGE, false, k_outage},
	{FD_EVENT_INDEX_DROPPED, false, k_index},
	{FD_EVENT_LOCK_CONTENTION, false, k_index},
	{FD_EVENT_MEMORY_LEAK, false, k_leak},
	{FD_EVENT_CACHE_FLUSH, false, k_flush},
	{FD_EVENT_CERTIFICATE_EXPIRY, false, k_cert},
	{FD_EVENT_INSTANCE_LOSS, false, k_loss},
	{FD_EVENT_ROLLBACK, true, k_rollback},
	{FD_EVENT_FLAG_OFF, true, k_flag_off},
	{FD_EVENT_SCALE_OUT, true, k_scale},
	{FD_EVENT_RESTART, true, k_restart},
	{FD_EVENT_CO_TENANT, false, sp_k_co_tenant},
	{FD_EVENT_NODE_NOT_READY, false, sp_k_not_ready},
	{FD_EVENT_DB_FAILOVER, false, sp_k_failover},
	{FD_EVENT_AUTOVACUUM, false, sp_k_autovacuum},
	{FD_EVENT_CHECKPOINT, false, sp_k_checkpoint},
	{FD_EVENT_LOCK_HOLDER, false, sp_k_lock_holder},
	{FD_EVENT_LEADER_CHANGE, false, sp_k_leader},
	{FD_EVENT_EVICTION_STORM, false, sp_k_eviction},
	{FD_EVENT_CORDON, true, sp_k_cordon},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static int event_service(struct sp *p, const struct yt_node *params, const char *what,
			 bool required, struct fd_service **out)
{
	const struct yt_node *v = yt_get(params, "service");
	const char *name;
	int rc;
	if (!v) {
		if (required)
			return sp_fail(p, params->pos, "%s: missing 'service'", what);
		return 0;
	}
	if ((rc = sp_name(p, v, "service", &name)) < 0)
		return rc;
	return sp_find_service(p, name, v->pos, out);
}

/* The target of a shorthand event, restricted to the kinds that make sense. */
int sp_shorthand_target(struct sp *p, const struct yt_node *params, const char *what,
			    unsigned allowed, const char *allowed_text, struct fd_effect *e)
{
	const struct yt_node *v;
	int rc;
	if ((rc = sp_need(p, params, "target", what, &v)) < 0 || (rc = parse_target(p, v, &e->target)) < 0)
		return rc;
	if (!(allowed & (1u << e->target.kind)))
		return sp_fail(p, v->pos, "target: %s needs %s, not %s", what, allowed_text,
			       target_kind_name(e->target.kind));
	return 0;
}

int sp_mitigation_params(struct sp *p, const struct yt_node *params, struct fd_event *ev,
			 const struct yt_node **undoes)
{
	const struct yt_node *v;
	int rc;
	if ((v = yt_get(params, "undoes"))) {
		const char *name;
		if ((rc = sp_name(p, v, "undoes", &name)) < 0)
			return rc;
		*undoes = v;
	}
	if ((v = yt_get(params, "damping")) && (rc = sp_fraction(p, v, "damping", &ev->damping)) < 0)
		return rc;
	return 0;
}

/* The kind's own parameters; a shorthand kind fills *sh and sets *has_sh. */
static int parse_kind(struct sp *p, const struct yt_node *params, struct fd_event *ev,
		      const struct yt_node **undoes, struct fd_effect *sh, bool *has_sh)
{
	const struct yt_node *v;
	const char *what = ev->kind_name;
	int rc;
	effect_defaults(sh, ev);
	sh->pos = params->pos;
	sh->target.pos = params->pos;
	switch (ev->kind) {
	case FD_EVENT_DEPLOY:
		ev->rollout_ns = 2 * 60 * SP_NS;
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0 ||
		    (rc = sp_need(p, params, "version", what, &v)) < 0 ||
		    (rc = sp_name(p, v, "version", &ev->version)) < 0)
			return rc;
		if ((v = yt_get(params, "rollout")) && (rc = sp_duration(p, v, "rollout", &ev->rollout_ns)) < 0)
			return rc;
		if ((v = yt_get(params, "crash_on_start")) &&
		    (rc = sp_bool(p, v, "crash_on_start", &ev->crash_on_start)) < 0)
			return rc;
		if ((v = yt_get(params, "crash_error"))) {
			if (!ev->crash_on_start)
				return sp_fail(p, v->pos, "crash_error: only with crash_on_start: true");
			if ((rc = sp_string(p, v, "crash_error", &ev->crash_error)) < 0)
				return rc;
		}
		return 0;
	case FD_EVENT_CONFIG_CHANGE:
		if ((rc = event_service(p, params, what, false, &ev->service)) < 0)
			return rc;
		if ((v = yt_get(params, "key")) && (rc = sp_string(p, v, "key", &ev->config_key)) < 0)
			return rc;
		if ((v = yt_get(params, "value")) && (rc = sp_string(p, v, "value", &ev->config_value)) < 0)
			return rc;
		return 0;
	case FD_EVENT_FEATURE_FLAG:
		ev->flag_on = true;
		if ((rc = event_service(p, params, what, false, &ev->service)) < 0 ||
		    (rc = sp_need(p, params, "flag", what, &v)) < 0 ||
		    (rc = sp_name(p, v, "flag", &ev->flag)) < 0)
			return rc;
		if ((v = yt_get(params, "on")) && (rc = sp_bool(p, v, "on", &ev->flag_on)) < 0)
			return rc;
		return 0;
	case FD_EVENT_TRAFFIC_SPIKE:
		sh->target.kind = FD_TARGET_TRAFFIC;
		sh->changes = FD_CHANGE_RATE;
		if ((rc = sp_need(p, params, "multiplier", what, &v)) < 0 ||
		    (rc = sp_mult(p, v, "multiplier", &sh->rate_mult)) < 0)
			return rc;
		if ((v = yt_get(params, "entry"))) {
			sh->target.pos = v->pos;
			if ((rc = traffic_for(p, v, &sh->target.traffic)) < 0)
				return rc;
		}
		break;
	case FD_EVENT_DEPENDENCY_SLOWDOWN:
		if ((rc = sp_shorthand_target(p, params, what, ALL_BUT_TRAFFIC, "a dependency, service, endpoint, database, query, cache or queue", sh)) < 0 ||
		    (rc = sp_need(p, params, "latency", what, &v)) < 0 ||
		    (rc = sp_latency_change(p, v, "latency", sh)) < 0)
			return rc;
		break;
	case FD_EVENT_OUTAGE:
		sh->error_probability = 1;
		sh->error_status = 503;
		sh->changes = FD_CHANGE_ERRORS;
		if ((rc = sp_shorthand_target(p, params, what, ALL_BUT_TRAFFIC, "a dependency, service, endpoint, database, query, cache or queue", sh)) < 0)
			return rc;
		if ((v = yt_get(params, "error_rate")) &&
		    (rc = sp_fraction(p, v, "error_rate", &sh->error_probability)) < 0)
			return rc;
		if ((v = yt_get(params, "status")) && (rc = sp_int(p, v, "status", 400, 599, &sh->error_status)) < 0)
			return rc;
		if ((v = yt_get(params, "hang"))) {
			/* a black hole: calls hang, so callers time out */
			if ((rc = sp_duration(p, v, "hang", &sh->latency_add_ns)) < 0)
				return rc;
			sh->changes |= FD_CHANGE_LATENCY_ADD;
		}
		break;
	case FD_EVENT_INDEX_DROPPED:
	case FD_EVENT_LOCK_CONTENTION:
		sh->latency_mult = ev->kind == FD_EVENT_INDEX_DROPPED ? 50 : 20;
		sh->changes = FD_CHANGE_LATENCY_MULT;
		if ((rc = sp_shorthand_target(p, params, what,
					   (1u << FD_TARGET_DATABASE) | (1u << FD_TARGET_QUERY),
					   "a database or a query", sh)) < 0)
			return rc;
		if ((v = yt_get(params, "latency"))) {
			sh->changes = 0;
			if ((rc = sp_latency_change(p, v, "latency", sh)) < 0)
				return rc;
		}
		break;
	case FD_EVENT_MEMORY_LEAK:
		sh->target.kind = FD_TARGET_SERVICE;
		sh->changes = FD_CHANGE_MEMORY_LEAK;
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0 ||
		    (rc = sp_need(p, params, "rate", what, &v)) < 0 ||
		    (rc = sp_size_rate(p, v, "rate", &sh->memory_leak_per_s)) < 0)
			return rc;
		sh->target.service = ev->service;
		sh->target.pos = yt_get(params, "service")->pos;
		break;
	case FD_EVENT_CACHE_FLUSH: {
		const char *name;
		if ((rc = sp_need(p, params, "cache", what, &v)) < 0 ||
		    (rc = sp_name(p, v, "cache", &name)) < 0)
			return rc;
		return sp_find_cache(p, name, v->pos, &ev->cache);
	}
	case FD_EVENT_CERTIFICATE_EXPIRY:
		sh->error_probability = 1;
		sh->changes = FD_CHANGE_ERRORS;
		if ((rc = sp_shorthand_target(p, params, what,
					   (1u << FD_TARGET_DEPENDENCY) | (1u << FD_TARGET_SERVICE) |
						   (1u << FD_TARGET_ENDPOINT),
					   "a dependency, a service or an endpoint", sh)) < 0)
			return rc;
		/* callers of an external API see it unavailable; clients of
		 * our own service get nginx's "SSL certificate error" */
		sh->error_status = sh->target.kind == FD_TARGET_DEPENDENCY ? 503 : 495;
		if ((v = yt_get(params, "status")) && (rc = sp_int(p, v, "status", 400, 599, &sh->error_status)) < 0)
			return rc;
		break;
	case FD_EVENT_INSTANCE_LOSS:
		ev->instance = 0;
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0)
			return rc;
		if ((v = yt_get(params, "instance")) && (rc = sp_int(p, v, "instance", 0, 999, &ev->instance)) < 0)
			return rc;
		return 0;
	case FD_EVENT_ROLLBACK:
		ev->rollout_ns = 2 * 60 * SP_NS;
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0)
			return rc;
		if ((v = yt_get(params, "version")) && (rc = sp_name(p, v, "version", &ev->version)) < 0)
			return rc;
		if ((v = yt_get(params, "rollout")) && (rc = sp_duration(p, v, "rollout", &ev->rollout_ns)) < 0)
			return rc;
		return sp_mitigation_params(p, params, ev, undoes);
	case FD_EVENT_FLAG_OFF:
		if ((rc = sp_need(p, params, "flag", what, &v)) < 0 || (rc = sp_name(p, v, "flag", &ev->flag)) < 0)
			return rc;
		return sp_mitigation_params(p, params, ev, undoes);
	case FD_EVENT_SCALE_OUT:
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0 ||
		    (rc = sp_need(p, params, "instances", what, &v)) < 0 ||
		    (rc = sp_int(p, v, "instances", 1, 1000, &ev->instances)) < 0)
			return rc;
		if ((v = yt_get(params, "version")) && (rc = sp_name(p, v, "version", &ev->scale_version)) < 0)
			return rc;
		return sp_mitigation_params(p, params, ev, undoes);
	case FD_EVENT_RESTART:
		if ((rc = event_service(p, params, what, true, &ev->service)) < 0)
			return rc;
		if ((v = yt_get(params, "instance")) && (rc = sp_int(p, v, "instance", 0, 999, &ev->instance)) < 0)
			return rc;
		/* restarting everything at once would be an outage of its own */
		ev->rollout_ns = ev->instance < 0 ? 2 * 60 * SP_NS : 0;
		if ((v = yt_get(params, "rollout")) && (rc = sp_duration(p, v, "rollout", &ev->rollout_ns)) < 0)
			return rc;
		return sp_mitigation_params(p, params, ev, undoes);
	default:
		return sp_parse_infra_kind(p, params, ev, undoes, sh, has_sh);
	}
	*has_sh = true;
	return sp_effect_timing(p, params, sh);
}

int sp_parse_event(struct sp *p, const struct yt_node *node, struct fd_event *ev,
		   const char *const *extra, const struct yt_node **undoes)
{
	static const char *const common[] = {"at", "name", "description", "effects", "mitigation"};
	const struct yt_node *kind_key = NULL, *params = NULL, *v;
	int rc;
	ev->pos = node->pos;
	ev->instance = -1;
	ev->damping = 1;
	for (size_t i = 0; i < node->n; i++) {
		const struct yt_node *k = node->items[2 * i];
		bool is_common = false;
		for (size_t j = 0; j < 5; j++)
			is_common = is_common || strcmp(k->str, common[j]) == 0;
		for (size_t j = 0; extra && extra[j]; j++)
			is_common = is_common || strcmp(k->str, extra[j]) == 0;
		if (is_common)
			continue;
		size_t j;
		for (j = 0; j < N_KINDS && strcmp(fd_event_kind_name(kinds[j].kind), k->str) != 0; j++)
			;
		if (j == N_KINDS) {
			const char *cands[5 + N_KINDS];
			for (size_t c = 0; c < 5; c++)
				cands[c] = common[c];
			for (size_t c = 0; c < N_KINDS; c++)
				cands[5 + c] = fd_event_kind_name(kinds[c].kind);
			const char *best = fd_suggest(k->str, cands, 5 + N_KINDS);
			if (best)
				return sp_fail(p, k->pos, "unknown key '%s' in event (did you mean '%s'?)",
					       k->str, best);
			return sp_fail(p, k->pos, "unknown key '%s' in event (an event has at, name, description, effects, mitigation and one kind: deploy, config_change, feature_flag, traffic_spike, dependency_slowdown, outage, index_dropped, lock_contention, memory_leak, cache_flush, certificate_expiry, instance_loss, co_tenant, node_not_ready, db_failover, autovacuum, checkpoint, lock_holder, partition_leader_change, cache_eviction_storm, rollback, flag_off, scale_out, restart or cordon)",
				       k->str);
		}
		if (kind_key)
			return sp_fail(p, k->pos, "event: one kind per event, but both '%s' and '%s' are given (make two events)",
				       kind_key->str, k->str);
		kind_key = k;
		params = node->items[2 * i + 1];
		ev->kind = kinds[j].kind;
		ev->mitigation = kinds[j].mitigation;
		ev->kind_name = fd_event_kind_name(kinds[j].kind);
	}
	if (!kind_key)
		return sp_fail(p, node->pos, "event: missing its kind (deploy, config_change, feature_flag, traffic_spike, outage, rollback, ...)");
	if ((v = yt_get(node, "name")) && (rc = sp_name(p, v, "name", &ev->name)) < 0)
		return rc;
	if ((v = yt_get(node, "description")) && (rc = sp_string(p, v, "description", &ev->description)) < 0)
		return rc;
	/* mitigation: true marks a change that mitigates (a config change
	 * raising a pool), so a live drill leaves it out like a rollback */
	if ((v = yt_get(node, "mitigation"))) {
		bool m;
		if ((rc = sp_bool(p, v, "mitigation", &m)) < 0)
			return rc;
		if (!m && ev->mitigation)
			return sp_fail(p, v->pos, "mitigation: a %s is always a mitigation", ev->kind_name);
		ev->mitigation = m;
	}

	/* parameters: a mapping, or nothing for a kind without required ones */
	struct yt_node empty = {.kind = YT_MAP, .pos = params->pos};
	if (yt_is_null(params))
		params = &empty;
	size_t j;
	for (j = 0; kinds[j].kind != ev->kind; j++)
		;
	char what[64];
	snprintf(what, sizeof(what), "%s", ev->kind_name);
	if ((rc = sp_map(p, params, what, kinds[j].params)) < 0)
		return rc;
	struct fd_effect sh = {0};
	bool has_sh = false;
	if ((rc = parse_kind(p, params, ev, undoes, &sh, &has_sh)) < 0)
		return rc;

	const struct yt_node *effects = yt_get(node, "effects");
	size_t n = 0;
	if (effects && !yt_is_null(effects)) {
		if ((rc = sp_seq(p, effects, "effects")) < 0)
			return rc;
		n = effects->n;
	}
	ev->n_effects = n + (has_sh ? 1 : 0);
	ev->effects = fd_arena_array(p->arena, ev->n_effects, sizeof(*ev->effects));
	if (ev->n_effects && !ev->effects)
		return sp_oom(p);
	if (has_sh)
		ev->effects[0] = sh;
	for (size_t i = 0; i < n; i++) {
		struct fd_effect *e = &ev->effects[i + (has_sh ? 1 : 0)];
		effect_defaults(e, ev);
		if ((rc = parse_effect(p, effects->items[i], e)) < 0)
			return rc;
	}
	return 0;
}

struct at_index {
	int64_t at;
	size_t i;
};

static int cmp_at(const void *pa, const void *pb)
{
	const struct at_index *a = pa, *b = pb;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	/* equal times keep the file's order */
	return a->i < b->i ? -1 : a->i > b->i;
}

int sp_parse_timeline(struct sp *p, const struct yt_node *node)
{
	struct fd_scenario *s = p->s;
	struct at_index *order = NULL;
	int rc;
	if ((rc = sp_seq(p, node, "timeline")) < 0)
		return rc;
	if (node->n == 0)
		return 0;
	order = malloc(node->n * sizeof(*order));
	p->event_nodes = calloc(node->n, sizeof(*p->event_nodes));
	p->undoes_nodes = calloc(node->n, sizeof(*p->undoes_nodes));
	s->events = fd_arena_array(p->arena, node->n, sizeof(*s->events));
	if (!order || !p->event_nodes || !p->undoes_nodes || !s->events) {
		rc = sp_oom(p);
		goto out;
	}
	/* Times first, so events are built in time order and effects can
	 * point at their event's final place. */
	for (size_t i = 0; i < node->n; i++) {
		const struct yt_node *item = node->items[i], *v;
		if (item->kind != YT_MAP) {
			rc = sp_fail(p, item->pos, "timeline: each event is a mapping with 'at' and a kind, got %s",
				     yt_kind_name(item));
			goto out;
		}
		if ((rc = sp_need(p, item, "at", "event", &v)) < 0 ||
		    (rc = sp_offset(p, v, "at", &order[i].at)) < 0)
			goto out;
		if (order[i].at >= s->duration_ns) {
			char a[32], d[32];
			rc = sp_fail(p, v->pos, "at: %s is not before the end of the scenario (duration %s)",
				     sp_fmt_offset(order[i].at, a, sizeof(a)),
				     sp_fmt_offset(s->duration_ns, d, sizeof(d)));
			goto out;
		}
		order[i].i = i;
	}
	qsort(order, node->n, sizeof(*order), cmp_at);
	s->n_events = node->n;
	for (size_t k = 0; k < node->n; k++) {
		struct fd_event *ev = &s->events[k];
		ev->id = (int)k;
		ev->at_ns = order[k].at;
		p->event_nodes[k] = node->items[order[k].i];
		if ((rc = sp_parse_event(p, p->event_nodes[k], ev, NULL, &p->undoes_nodes[k])) < 0)
			goto out;
	}
	rc = 0;
out:
	free(order);
	return rc;
}
