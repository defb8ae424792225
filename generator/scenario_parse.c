/*
 * Scenario parsing, part 1: the top level, the system (services, endpoints,
 * calls, databases, caches, queues, dependencies) and the answer key.
 * Traffic and noise are in scenario_load.c, the timeline in
 * scenario_timeline.c.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/scenario_internal.h"
#include "common/suggest.h"
#include "common/units.h"

/* Deeper chains of cache misses calling caches are surely a mistake, and
 * the recursion of the parse stays bounded. */
#define MAX_CALL_NESTING 8

static int key_name(struct sp *p, const struct yt_node *k, const char *what, const char **out)
{
	return sp_name(p, k, what, out);
}

/* ---- names pass --------------------------------------------------------------- */

/* "POST /orders" -> method, route. Methods are upper-case words (HTTP ones,
 * or CONSUME for a queue handler); routes have no spaces. */
static int endpoint_key(struct sp *p, const struct yt_node *k, struct fd_endpoint *ep)
{
	const char *s = k->str;
	size_t m = 0;
	while (s[m] >= 'A' && s[m] <= 'Z')
		m++;
	const char *route = s + m + 1;
	bool ok = k->kind == YT_SCALAR && m > 0 && m <= 16 && s[m] == ' ' && *route &&
		  !strpbrk(route, " \t\r\n\"");
	if (!ok)
		return sp_fail(p, k->pos,
			       "endpoint '%s': expected \"METHOD /route\" such as \"POST /orders\"", s);
	ep->key = fd_arena_strdup(p->arena, s);
	ep->method = fd_arena_strndup(p->arena, s, m);
	ep->route = fd_arena_strdup(p->arena, route);
	if (!ep->key || !ep->method || !ep->route)
		return sp_oom(p);
	ep->pos = k->pos;
	return 0;
}

static int names_services(struct sp *p, const struct yt_node *node)
{
	struct fd_scenario *s = p->s;
	int rc;
	if (node->kind != YT_MAP || node->n == 0)
		return sp_fail(p, node->pos, "services: expected a mapping of service names, got %s",
			       node->kind == YT_MAP ? "an empty one" : yt_kind_name(node));
	s->services = fd_arena_array(p->arena, node->n, sizeof(*s->services));
	if (!s->services)
		return sp_oom(p);
	s->n_services = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_service *svc = &s->services[i];
		const struct yt_node *k = node->items[2 * i], *v = node->items[2 * i + 1];
		svc->id = (int)i;
		svc->pos = k->pos;
		if ((rc = key_name(p, k, "service name", &svc->name)) < 0)
			return rc;
		if (v->kind != YT_MAP)
			return sp_fail(p, v->pos, "service '%s': expected a mapping, got %s", svc->name,
				       yt_kind_name(v));
		const struct yt_node *eps = yt_get(v, "endpoints");
		if (!eps || yt_is_null(eps))
			continue;
		if (eps->kind != YT_MAP)
			return sp_fail(p, eps->pos, "endpoints: expected a mapping of \"METHOD /route\" keys, got %s",
				       yt_kind_name(eps));
		svc->endpoints = fd_arena_array(p->arena, eps->n, sizeof(*svc->endpoints));
		if (eps->n && !svc->endpoints)
			return sp_oom(p);
		svc->n_endpoints = eps->n;
		for (size_t j = 0; j < eps->n; j++) {
			struct fd_endpoint *ep = &svc->endpoints[j];
			ep->id = (int)s->n_endpoints++;
			ep->service = svc;
			if ((rc = endpoint_key(p, eps->items[2 * j], ep)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Allocates the array of a named kind; *n = entries; names in their
 * structs via the offsets given. */
static int names_of(struct sp *p, const struct yt_node *node, const char *key, size_t size,
		    size_t name_off, size_t pos_off, size_t id_off, void **arr, size_t *n)
{
	int rc;
	if (!node || yt_is_null(node))
		return 0;
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "%s: expected a mapping of names, got %s", key,
			       yt_kind_name(node));
	*arr = fd_arena_array(p->arena, node->n, size);
	if (node->n && !*arr)
		return sp_oom(p);
	*n = node->n;
	for (size_t i = 0; i < node->n; i++) {
		char *e = (char *)*arr + i * size;
		const struct yt_node *k = node->items[2 * i];
		if ((rc = key_name(p, k, key, (const char **)(void *)(e + name_off))) < 0)
			return rc;
		memcpy(e + pos_off, &k->pos, sizeof(k->pos));
		int id = (int)i;
		memcpy(e + id_off, &id, sizeof(id));
	}
	return 0;
}

#define NAMES(p, root, key, type, arr, count)                                               \
	names_of(p, yt_get(root, key) ? yt_get(root, key) : NULL, key, sizeof(type),         \
		 offsetof(type, name), offsetof(type, pos), offsetof(type, id),               \
		 (void **)(void *)&(p)->s->arr, &(p)->s->count)

/* ---- calls -------------------------------------------------------------------- */

static int add_query(struct sp *p, struct fd_database *db, const struct yt_node *qnode,
		     struct fd_pos call_pos, struct fd_query **out)
{
	struct sp_queries *qs = &p->queries[db->id];
	const char *text;
	int rc;
	if ((rc = sp_string(p, qnode, "query", &text)) < 0)
		return rc;
	for (size_t i = 0; i < qs->n; i++)
		if (strcmp(qs->v[i]->text, text) == 0) {
			*out = qs->v[i];
			return 0;
		}
	if (qs->n == qs->cap) {
		size_t cap = qs->cap ? qs->cap * 2 : 8;
		struct fd_query **v = realloc(qs->v, cap * sizeof(*v));
		if (!v)
			return sp_oom(p);
		qs->v = v;
		qs->cap = cap;
	}
	struct fd_query *q = fd_arena_alloc(p->arena, sizeof(*q));
	if (!q)
		return sp_oom(p);
	q->id = (int)qs->n;
	q->database = db;
	q->text = text;
	q->pos = call_pos;
	/* db.operation.name: the statement's first word */
	const char *w = text;
	while (*w == ' ' || *w == '\t' || *w == '\n' || *w == '(')
		w++;
	size_t n = 0;
	char op[17];
	while (n < 16 && ((w[n] >= 'a' && w[n] <= 'z') || (w[n] >= 'A' && w[n] <= 'Z'))) {
		op[n] = (char)(w[n] >= 'a' ? w[n] - 'a' + 'A' : w[n]);
		n++;
	}
	op[n] = '\0';
	q->operation = fd_arena_strdup(p->arena, n ? op : "QUERY");
	if (!q->operation)
		return sp_oom(p);
	qs->v[qs->n++] = q;
	*out = q;
	return 0;
}

static int call_kind(struct sp *p, const struct yt_node *item, enum fd_call_kind *kind)
{
	static const struct {
		const char *key;
		enum fd_call_kind kind;
	} kinds[] = {
		{"service", FD_CALL_ENDPOINT}, {"db", FD_CALL_DB},       {"cache", FD_CALL_CACHE},
		{"queue", FD_CALL_QUEUE},      {"dependency", FD_CALL_DEPENDENCY},
	};
	const struct yt_node *found = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct yt_node *k = yt_get_key(item, kinds[i].key);
		if (!k)
			continue;
		if (found)
			return sp_fail(p, k->pos, "call: give one of service, db, cache, queue or dependency, not both '%s' and '%s'",
				       found->str, k->str);
		found = k;
		*kind = kinds[i].kind;
	}
	if (!found) {
		/* maybe a typo of one of them: let sp_map say so */
		static const char *const all[] = {"service", "endpoint", "db", "query", "cache",
						  "queue", "dependency", "probability", "repeat",
						  "optional", "timeout", "retry", "latency",
						  "circuit_breaker", NULL};
		int rc = sp_map(p, item, "call", all);
		if (rc < 0)
			return rc;
		return sp_fail(p, item->pos,
			       "call: expected svc \"METHOD /route\" or a mapping with service, db, cache, queue or dependency");
	}
	return 0;
}

static int parse_call(struct sp *p, const struct yt_node *item, struct fd_service *caller,
		      int depth, struct fd_call *c);

int sp_parse_calls(struct sp *p, const struct yt_node *node, const char *key,
		   struct fd_service *caller, int depth, struct fd_call **out, size_t *n)
{
	int rc;
	*out = NULL;
	*n = 0;
	if (yt_is_null(node))
		return 0;
	if ((rc = sp_seq(p, node, key)) < 0)
		return rc;
	if (depth > MAX_CALL_NESTING)
		return sp_fail(p, node->pos, "%s: nested more than %d levels deep", key,
			       MAX_CALL_NESTING);
	struct fd_call *calls = fd_arena_array(p->arena, node->n, sizeof(*calls));
	if (node->n && !calls)
		return sp_oom(p);
	for (size_t i = 0; i < node->n; i++)
		if ((rc = parse_call(p, node->items[i], caller, depth, &calls[i])) < 0)
			return rc;
	*out = calls;
	*n = node->n;
	return 0;
}

static int parse_call(struct sp *p, const struct yt_node *item, struct fd_service *caller,
		      int depth, struct fd_call *c)
{
	static const char *const k_endpoint[] = {"service", "endpoint", "probability", "repeat",
						 "optional", "timeout", "retry", "latency",
						 "circuit_breaker", NULL};
	static const char *const k_db[] = {"db", "query", "probability", "repeat", "optional",
					   "timeout", "retry", "latency", NULL};
	static const char *const k_cache[] = {"cache", "op", "key", "hit_ratio", "on_miss",
					      "probability", "repeat", "optional", "timeout",
					      "retry", "latency", NULL};
	static const char *const k_queue[] = {"queue", "op", "probability", "repeat", "optional",
					      "timeout", "retry", "latency", NULL};
	static const char *const k_dep[] = {"dependency", "method", "route", "probability",
					    "repeat", "optional", "timeout", "retry", "latency",
					    "circuit_breaker", NULL};
	const struct yt_node *v;
	int rc;
	(void)caller;
	c->pos = item->pos;
	c->probability = 1;
	c->repeat = 1;
	c->hit_ratio = -1;
	if (item->kind == YT_SCALAR) {
		c->kind = FD_CALL_ENDPOINT;
		return sp_endpoint_ref(p, item, "call", &c->endpoint);
	}
	if (item->kind != YT_MAP)
		return sp_fail(p, item->pos, "call: expected svc \"METHOD /route\" or a mapping, got %s",
			       yt_kind_name(item));
	if ((rc = call_kind(p, item, &c->kind)) < 0)
		return rc;
	switch (c->kind) {
	case FD_CALL_ENDPOINT: {
		struct fd_service *svc;
		const struct yt_node *sv = yt_get(item, "service");
		const char *name;
		if ((rc = sp_map(p, item, "call", k_endpoint)) < 0 ||
		    (rc = sp_name(p, sv, "service", &name)) < 0 ||
		    (rc = sp_find_service(p, name, sv->pos, &svc)) < 0 ||
		    (rc = sp_need(p, item, "endpoint", "call", &v)) < 0 ||
		    (rc = (v->kind == YT_SCALAR && !yt_is_null(v))
				  ? sp_find_endpoint(p, svc, v->str, v->pos, &c->endpoint)
				  : sp_fail(p, v->pos, "endpoint: expected \"METHOD /route\", got %s",
					    yt_kind_name(v))) < 0)
			return rc;
		break;
	}
	case FD_CALL_DB: {
		struct fd_database *db;
		const struct yt_node *dv = yt_get(item, "db");
		const char *name;
		if ((rc = sp_map(p, item, "database call", k_db)) < 0 ||
		    (rc = sp_name(p, dv, "db", &name)) < 0 ||
		    (rc = sp_find_database(p, name, dv->pos, &db)) < 0 ||
		    (rc = sp_need(p, item, "query", "database call", &v)) < 0 ||
		    (rc = add_query(p, db, v, item->pos, &c->query)) < 0)
			return rc;
		break;
	}
	case FD_CALL_CACHE: {
		const struct yt_node *cv = yt_get(item, "cache");
		const char *name;
		if ((rc = sp_map(p, item, "cache call", k_cache)) < 0 ||
		    (rc = sp_name(p, cv, "cache", &name)) < 0 ||
		    (rc = sp_find_cache(p, name, cv->pos, &c->cache)) < 0)
			return rc;
		c->cache_op = FD_CACHE_GET;
		if ((v = yt_get(item, "op"))) {
			if ((rc = sp_name(p, v, "op", &name)) < 0)
				return rc;
			if (strcmp(name, "get") == 0)
				c->cache_op = FD_CACHE_GET;
			else if (strcmp(name, "set") == 0)
				c->cache_op = FD_CACHE_SET;
			else if (strcmp(name, "delete") == 0)
				c->cache_op = FD_CACHE_DELETE;
			else
				return sp_fail(p, v->pos, "op: '%s': expected get, set or delete", name);
		}
		if ((v = yt_get(item, "key")) && (rc = sp_string(p, v, "key", &c->cache_key)) < 0)
			return rc;
		if ((v = yt_get(item, "hit_ratio")) &&
		    (rc = sp_fraction(p, v, "hit_ratio", &c->hit_ratio)) < 0)
			return rc;
		if ((v = yt_get(item, "on_miss"))) {
			if (c->cache_op != FD_CACHE_GET)
				return sp_fail(p, v->pos, "on_miss: only a cache get can miss");
			if ((rc = sp_parse_calls(p, v, "on_miss", caller, depth + 1, &c->on_miss,
						 &c->n_on_miss)) < 0)
				return rc;
		}
		break;
	}
	case FD_CALL_QUEUE: {
		const struct yt_node *qv = yt_get(item, "queue");
		const char *name;
		if ((rc = sp_map(p, item, "queue call", k_queue)) < 0 ||
		    (rc = sp_name(p, qv, "queue", &name)) < 0 ||
		    (rc = sp_find_queue(p, name, qv->pos, &c->queue)) < 0)
			return rc;
		c->queue_op = FD_QUEUE_PRODUCE;
		if ((v = yt_get(item, "op"))) {
			if ((rc = sp_name(p, v, "op", &name)) < 0)
				return rc;
			if (strcmp(name, "produce") == 0)
				c->queue_op = FD_QUEUE_PRODUCE;
			else if (strcmp(name, "consume") == 0)
				c->queue_op = FD_QUEUE_CONSUME;
			else
				return sp_fail(p, v->pos, "op: '%s': expected produce or consume", name);
		}
		break;
	}
	case FD_CALL_DEPENDENCY: {
		const struct yt_node *dv = yt_get(item, "dependency");
		const char *name;
		if ((rc = sp_map(p, item, "dependency call", k_dep)) < 0 ||
		    (rc = sp_name(p, dv, "dependency", &name)) < 0 ||
		    (rc = sp_find_dependency(p, name, dv->pos, &c->dependency)) < 0)
			return rc;
		c->method = "GET";
		c->route = "/";
		if ((v = yt_get(item, "method"))) {
			if ((rc = sp_name(p, v, "method", &c->method)) < 0)
				return rc;
			for (const char *m = c->method; *m; m++)
				if (*m < 'A' || *m > 'Z')
					return sp_fail(p, v->pos, "method: '%s': expected an upper-case HTTP method such as POST",
						       c->method);
		}
		if ((v = yt_get(item, "route"))) {
			if ((rc = sp_name(p, v, "route", &c->route)) < 0)
				return rc;
		}
		break;
	}
	}
	if ((v = yt_get(item, "probability")) &&
	    (rc = sp_fraction(p, v, "probability", &c->probability)) < 0)
		return rc;
	if ((v = yt_get(item, "repeat")) && (rc = sp_int(p, v, "repeat", 1, 1000, &c->repeat)) < 0)
		return rc;
	if ((v = yt_get(item, "optional")) && (rc = sp_bool(p, v, "optional", &c->optional)) < 0)
		return rc;
	if ((v = yt_get(item, "timeout")) && (rc = sp_duration(p, v, "timeout", &c->timeout_ns)) < 0)
		return rc;
	if ((v = yt_get(item, "retry"))) {
		if ((rc = sp_retry(p, v, "retry", &c->retry)) < 0)
			return rc;
		c->has_retry = true;
	}
	if ((v = yt_get(item, "latency"))) {
		if ((rc = sp_dist(p, v, "latency", false, &c->latency)) < 0)
			return rc;
		c->has_latency = true;
	}
	if ((v = yt_get(item, "circuit_breaker"))) {
		if ((rc = sp_breaker(p, v, "circuit_breaker", &c->breaker)) < 0)
			return rc;
		c->has_breaker = true;
	}
	return 0;
}

/* ---- services ----------------------------------------------------------------- */

struct runtime_defaults {
	const char *name;
	enum fd_runtime rt;
	int64_t baseline, limit, per_request;
	int64_t gc_interval_ms;
	int64_t gc_p50_us, gc_p95_us;
	int64_t startup_s;
};

#define MIB (1LL << 20)
#define KIB (1LL << 10)

/* Rough figures of a small service on each runtime; documented in
 * docs/scenario-format.md. */
static const struct runtime_defaults runtimes[] = {
	{"go", FD_RUNTIME_GO, 50 * MIB, 256 * MIB, 64 * KIB, 1000, 300, 1000, 5},
	{"java", FD_RUNTIME_JAVA, 300 * MIB, 1024 * MIB, 256 * KIB, 2000, 5000, 30000, 20},
	{"python", FD_RUNTIME_PYTHON, 80 * MIB, 512 * MIB, 128 * KIB, 5000, 1000, 5000, 10},
	{"node", FD_RUNTIME_NODE, 60 * MIB, 512 * MIB, 128 * KIB, 1000, 1000, 8000, 5},
	{"dotnet", FD_RUNTIME_DOTNET, 120 * MIB, 512 * MIB, 128 * KIB, 2000, 2000, 15000, 10},
	{"ruby", FD_RUNTIME_RUBY, 150 * MIB, 512 * MIB, 256 * KIB, 3000, 2000, 10000, 15},
	{"rust", FD_RUNTIME_RUST, 20 * MIB, 128 * MIB, 32 * KIB, 0, 0, 0, 2},
};

static int parse_resources(struct sp *p, struct fd_service *svc, const struct yt_node *node)
{
	static const char *const keys[] = {"cpu_cores", "cpu_per_request", "memory_baseline",
					   "memory_limit", "memory_per_request", "gc_interval",
					   "gc_pause", "startup", NULL};
	struct fd_resources *r = &svc->resources;
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, "resources", keys)) < 0)
		return rc;
	if ((v = yt_get(node, "cpu_cores"))) {
		if ((rc = sp_number(p, v, "cpu_cores", &r->cpu_cores)) < 0)
			return rc;
		if (!(r->cpu_cores >= 0.01 && r->cpu_cores <= 1024))
			return sp_fail(p, v->pos, "cpu_cores: '%s': must be between 0.01 and 1024", v->str);
	}
	if ((v = yt_get(node, "cpu_per_request")) &&
	    (rc = sp_duration(p, v, "cpu_per_request", &r->cpu_per_request_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "memory_baseline")) &&
	    (rc = sp_size(p, v, "memory_baseline", &r->memory_baseline)) < 0)
		return rc;
	const struct yt_node *limit = yt_get(node, "memory_limit");
	if (limit) {
		if (limit->kind == YT_SCALAR && strcmp(limit->str, "none") == 0)
			r->memory_limit = 0;
		else if ((rc = sp_size(p, limit, "memory_limit", &r->memory_limit)) < 0)
			return rc;
	}
	if ((v = yt_get(node, "memory_per_request")) &&
	    (rc = sp_size(p, v, "memory_per_request", &r->memory_per_request)) < 0)
		return rc;
	if ((v = yt_get(node, "gc_interval")) &&
	    (rc = sp_duration(p, v, "gc_interval", &r->gc_interval_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "gc_pause")) && (rc = sp_dist(p, v, "gc_pause", false, &r->gc_pause)) < 0)
		return rc;
	if ((v = yt_get(node, "startup")) && (rc = sp_duration(p, v, "startup", &r->startup_ns)) < 0)
		return rc;
	if (r->memory_limit > 0 && r->memory_limit <= r->memory_baseline)
		return sp_fail(p, limit ? limit->pos : node->pos,
			       "memory_limit must be above memory_baseline (the service would be killed at start)");
	return 0;
}

static int parse_endpoint(struct sp *p, struct fd_endpoint *ep, const struct yt_node *node)
{
	static const char *const keys[] = {"self", "errors", "timeout", "retry", "calls", NULL};
	const struct yt_node *v;
	int rc;
	char what[300];
	ep->self.p50 = 1 * SP_MS;
	ep->self.p95 = 5 * SP_MS;
	sp_dist_fit(&ep->self);
	ep->error_status = 500;
	if (yt_is_null(node))
		return 0;
	snprintf(what, sizeof(what), "endpoint '%s'", ep->key);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "self")) && (rc = sp_dist(p, v, "self", false, &ep->self)) < 0)
		return rc;
	if ((v = yt_get(node, "errors")) &&
	    (rc = sp_errors(p, v, "errors", &ep->error_probability, &ep->error_status)) < 0)
		return rc;
	if ((v = yt_get(node, "timeout")) && (rc = sp_duration(p, v, "timeout", &ep->timeout_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "retry")) && (rc = sp_retry(p, v, "retry", &ep->retry)) < 0)
		return rc;
	if ((v = yt_get(node, "calls")) &&
	    (rc = sp_parse_calls(p, v, "calls", ep->service, 0, &ep->calls, &ep->n_calls)) < 0)
		return rc;
	return 0;
}

static int parse_service(struct sp *p, struct fd_service *svc, const struct yt_node *node)
{
	static const char *const keys[] = {"version", "runtime", "instances", "resources",
					   "endpoints", "placement", "image", NULL};
	const struct yt_node *v;
	int rc;
	char what[200];
	snprintf(what, sizeof(what), "service '%s'", svc->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	svc->version = "1.0.0";
	svc->instances = 1;
	const struct runtime_defaults *rt = &runtimes[0];
	if ((v = yt_get(node, "version")) && (rc = sp_name(p, v, "version", &svc->version)) < 0)
		return rc;
	if ((v = yt_get(node, "instances")) && (rc = sp_int(p, v, "instances", 1, 1000, &svc->instances)) < 0)
		return rc;
	if ((v = yt_get(node, "runtime"))) {
		const char *names[sizeof(runtimes) / sizeof(runtimes[0])];
		size_t n = sizeof(runtimes) / sizeof(runtimes[0]);
		rt = NULL;
		if ((rc = sp_name(p, v, "runtime", &svc->runtime_name)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			names[i] = runtimes[i].name;
			if (strcmp(runtimes[i].name, v->str) == 0)
				rt = &runtimes[i];
		}
		if (!rt) {
			const char *s = fd_suggest(v->str, names, n);
			if (s)
				return sp_fail(p, v->pos, "runtime: unknown runtime '%s' (did you mean '%s'?)",
					       v->str, s);
			return sp_fail(p, v->pos, "runtime: unknown runtime '%s' (expected go, java, python, node, dotnet, ruby or rust)",
				       v->str);
		}
	}
	svc->runtime = rt->rt;
	svc->runtime_name = rt->name;
	struct fd_resources *r = &svc->resources;
	r->cpu_cores = 1;
	r->cpu_per_request_ns = 2 * SP_MS;
	r->memory_baseline = rt->baseline;
	r->memory_limit = rt->limit;
	r->memory_per_request = rt->per_request;
	r->gc_interval_ns = rt->gc_interval_ms * SP_MS;
	r->gc_pause.p50 = rt->gc_p50_us * 1000;
	r->gc_pause.p95 = rt->gc_p95_us * 1000;
	sp_dist_fit(&r->gc_pause);
	r->startup_ns = rt->startup_s * SP_NS;
	if ((v = yt_get(node, "resources")) && (rc = parse_resources(p, svc, v)) < 0)
		return rc;
	if ((v = yt_get(node, "placement")) && (rc = sp_parse_placement(p, svc, v)) < 0)
		return rc;
	if ((v = yt_get(node, "image")) && (rc = sp_name(p, v, "image", &svc->image)) < 0)
		return rc;
	const struct yt_node *eps = yt_get(node, "endpoints");
	for (size_t j = 0; j < svc->n_endpoints; j++)
		if ((rc = parse_endpoint(p, &svc->endpoints[j], eps->items[2 * j + 1])) < 0)
			return rc;
	return 0;
}

/* ---- databases, caches, queues, dependencies ------------------------------------ */

static int parse_database(struct sp *p, struct fd_database *db, const struct yt_node *node)
{
	static const char *const keys[] = {"system", "pool", "pool_timeout", "latency", NULL};
	const struct yt_node *v;
	int rc;
	char what[200];
	db->system = "postgresql";
	db->pool = 10;
	db->pool_timeout_ns = 30 * SP_NS;
	db->latency.p50 = 2 * SP_MS;
	db->latency.p95 = 10 * SP_MS;
	sp_dist_fit(&db->latency);
	if (yt_is_null(node))
		return 0;
	snprintf(what, sizeof(what), "database '%s'", db->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "system")) && (rc = sp_name(p, v, "system", &db->system)) < 0)
		return rc;
	if ((v = yt_get(node, "pool")) && (rc = sp_int(p, v, "pool", 1, 100000, &db->pool)) < 0)
		return rc;
	if ((v = yt_get(node, "pool_timeout")) &&
	    (rc = sp_duration(p, v, "pool_timeout", &db->pool_timeout_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "latency")) && (rc = sp_dist(p, v, "latency", false, &db->latency)) < 0)
		return rc;
	return 0;
}

static int parse_cache(struct sp *p, struct fd_cache *c, const struct yt_node *node)
{
	static const char *const keys[] = {"system", "hit_ratio", "warmup", "latency", NULL};
	const struct yt_node *v;
	int rc;
	char what[200];
	c->system = "redis";
	c->hit_ratio = 0.9;
	c->warmup_ns = 5 * 60 * SP_NS;
	c->latency.p50 = SP_MS / 2;
	c->latency.p95 = 2 * SP_MS;
	sp_dist_fit(&c->latency);
	if (yt_is_null(node))
		return 0;
	snprintf(what, sizeof(what), "cache '%s'", c->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "system")) && (rc = sp_name(p, v, "system", &c->system)) < 0)
		return rc;
	if ((v = yt_get(node, "hit_ratio")) && (rc = sp_fraction(p, v, "hit_ratio", &c->hit_ratio)) < 0)
		return rc;
	if ((v = yt_get(node, "warmup")) && (rc = sp_duration(p, v, "warmup", &c->warmup_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "latency")) && (rc = sp_dist(p, v, "latency", false, &c->latency)) < 0)
		return rc;
	return 0;
}

static int parse_consumer(struct sp *p, struct fd_queue *q, const struct yt_node *node)
{
	static const char *const keys[] = {"service", "handler", NULL};
	const struct yt_node *v;
	int rc;
	if (node->kind == YT_SCALAR) {
		/* consumer: worker, or worker "CONSUME orders" */
		struct sp_ref r;
		if ((rc = sp_split_ref(p, node, "consumer", &r)) < 0 ||
		    (rc = sp_find_service(p, r.name, r.name_pos, &q->consumer)) < 0)
			return rc;
		if (r.quoted)
			return sp_find_endpoint(p, q->consumer, r.quoted, r.quoted_pos, &q->handler);
		return 0;
	}
	const char *name;
	if ((rc = sp_map(p, node, "consumer", keys)) < 0 ||
	    (rc = sp_need(p, node, "service", "consumer", &v)) < 0 ||
	    (rc = sp_name(p, v, "service", &name)) < 0 ||
	    (rc = sp_find_service(p, name, v->pos, &q->consumer)) < 0)
		return rc;
	if ((v = yt_get(node, "handler"))) {
		const char *h;
		if ((rc = sp_string(p, v, "handler", &h)) < 0)
			return rc;
		return sp_find_endpoint(p, q->consumer, h, v->pos, &q->handler);
	}
	return 0;
}

static int parse_queue(struct sp *p, struct fd_queue *q, const struct yt_node *node)
{
	static const char *const keys[] = {"system", "partitions", "consumer", "throughput",
					   "latency", NULL};
	const struct yt_node *v;
	int rc;
	char what[200];
	q->system = "kafka";
	q->partitions = 1;
	q->throughput = 100;
	q->latency.p50 = 2 * SP_MS;
	q->latency.p95 = 10 * SP_MS;
	sp_dist_fit(&q->latency);
	if (yt_is_null(node))
		return 0;
	snprintf(what, sizeof(what), "queue '%s'", q->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "system")) && (rc = sp_name(p, v, "system", &q->system)) < 0)
		return rc;
	if ((v = yt_get(node, "partitions")) &&
	    (rc = sp_int(p, v, "partitions", 1, 100000, &q->partitions)) < 0)
		return rc;
	if ((v = yt_get(node, "throughput")) && (rc = sp_rate(p, v, "throughput", &q->throughput)) < 0)
		return rc;
	if ((v = yt_get(node, "latency")) && (rc = sp_dist(p, v, "latency", false, &q->latency)) < 0)
		return rc;
	if ((v = yt_get(node, "consumer")) && !yt_is_null(v) && (rc = parse_consumer(p, q, v)) < 0)
		return rc;
	return 0;
}

static int parse_dependency(struct sp *p, struct fd_dependency *d, const struct yt_node *node)
{
	static const char *const keys[] = {"host", "latency", "errors", NULL};
	const struct yt_node *v;
	int rc;
	char what[200];
	d->host = d->name;
	d->latency.p50 = 80 * SP_MS;
	d->latency.p95 = 300 * SP_MS;
	sp_dist_fit(&d->latency);
	d->error_status = 502;
	if (yt_is_null(node))
		return 0;
	snprintf(what, sizeof(what), "dependency '%s'", d->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "host")) && (rc = sp_name(p, v, "host", &d->host)) < 0)
		return rc;
	if ((v = yt_get(node, "latency")) && (rc = sp_dist(p, v, "latency", false, &d->latency)) < 0)
		return rc;
	if ((v = yt_get(node, "errors")) &&
	    (rc = sp_errors(p, v, "errors", &d->error_probability, &d->error_status)) < 0)
		return rc;
	return 0;
}

/* ---- answer ------------------------------------------------------------------- */

int sp_string_list(struct sp *p, const struct yt_node *node, const char *key,
		       const char ***out, size_t *n)
{
	int rc;
	if (node->kind == YT_SCALAR && !yt_is_null(node)) {
		/* one item may be written without the list */
		const char **v = fd_arena_array(p->arena, 1, sizeof(*v));
		if (!v)
			return sp_oom(p);
		*out = v;
		*n = 1;
		return sp_string(p, node, key, &v[0]);
	}
	if ((rc = sp_seq(p, node, key)) < 0)
		return rc;
	const char **v = fd_arena_array(p->arena, node->n, sizeof(*v));
	if (node->n && !v)
		return sp_oom(p);
	for (size_t i = 0; i < node->n; i++)
		if ((rc = sp_string(p, node->items[i], key, &v[i])) < 0)
			return rc;
	*out = v;
	*n = node->n;
	return 0;
}

static int parse_answer(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"prompt", "root_cause", "trigger", "trigger_event",
					   "mitigation", "verification", "investigation",
					   "red_herrings", "evidence", NULL};
	struct fd_answer *a = &p->s->answer;
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, "answer", keys)) < 0)
		return rc;
	static const struct {
		const char *key;
		size_t off;
	} strings[] = {
		{"prompt", offsetof(struct fd_answer, prompt)},
		{"root_cause", offsetof(struct fd_answer, root_cause)},
		{"trigger", offsetof(struct fd_answer, trigger)},
		{"mitigation", offsetof(struct fd_answer, mitigation)},
		{"verification", offsetof(struct fd_answer, verification)},
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if ((v = yt_get(node, strings[i].key)) &&
		    (rc = sp_string(p, v, strings[i].key,
				    (const char **)(void *)((char *)a + strings[i].off))) < 0)
			return rc;
	if ((v = yt_get(node, "investigation")) &&
	    (rc = sp_string_list(p, v, "investigation", &a->investigation, &a->n_investigation)) < 0)
		return rc;
	if ((v = yt_get(node, "red_herrings")) &&
	    (rc = sp_string_list(p, v, "red_herrings", &a->red_herrings, &a->n_red_herrings)) < 0)
		return rc;
	if ((v = yt_get(node, "evidence")) &&
	    (rc = sp_string_list(p, v, "evidence", &a->evidence, &a->n_evidence)) < 0)
		return rc;
	/* resolved once the events have their names (scenario_resolve.c) */
	p->trigger_node = yt_get(node, "trigger_event");
	return 0;
}

/* ---- top level ---------------------------------------------------------------- */

static int parse_header(struct sp *p, const struct yt_node *root)
{
	struct fd_scenario *s = p->s;
	const struct yt_node *v;
	int rc;
	s->start_ns = 1768482000LL * SP_NS; /* 2026-01-15T13:00:00Z */
	s->seed = 1;
	s->environment = "production";
	/* neutral: a namespace named after the incident would give it away */
	s->service_namespace = "shop";
	s->trace_sampling = 0.1;
	s->access_log_sampling = 1;
	s->scrape_interval_ns = 15 * SP_NS;
	/* the answer's texts are never NULL but the prompt */
	s->answer.root_cause = s->answer.trigger = "";
	s->answer.mitigation = s->answer.verification = "";
	if ((rc = sp_need(p, root, "name", "scenario", &v)) < 0 ||
	    (rc = sp_name(p, v, "name", &s->name)) < 0)
		return rc;
	s->title = s->name;
	if ((v = yt_get(root, "title")) && (rc = sp_string(p, v, "title", &s->title)) < 0)
		return rc;
	if ((v = yt_get(root, "description")) && (rc = sp_string(p, v, "description", &s->description)) < 0)
		return rc;
	if ((v = yt_get(root, "start"))) {
		const char *why;
		if ((rc = sp_string(p, v, "start", &(const char *){NULL})) < 0)
			return rc;
		if (fd_units_timestamp(v->str, &s->start_ns, &why) < 0)
			return sp_fail(p, v->pos, "start: '%s': %s", v->str, why);
	}
	if ((rc = sp_need(p, root, "duration", "scenario", &v)) < 0 ||
	    (rc = sp_duration(p, v, "duration", &s->duration_ns)) < 0)
		return rc;
	if (s->duration_ns < SP_NS || s->duration_ns > 366 * 86400 * SP_NS)
		return sp_fail(p, v->pos, "duration: '%s': must be between 1s and 366d", v->str);
	if ((v = yt_get(root, "seed"))) {
		long long seed;
		const char *why;
		if ((rc = sp_string(p, v, "seed", &(const char *){NULL})) < 0)
			return rc;
		if (fd_units_integer(v->str, 0, LLONG_MAX, &seed, &why) < 0)
			return sp_fail(p, v->pos, "seed: '%s': %s (a non-negative integer)", v->str, why);
		s->seed = (uint64_t)seed;
	}
	if ((v = yt_get(root, "environment")) && (rc = sp_name(p, v, "environment", &s->environment)) < 0)
		return rc;
	if ((v = yt_get(root, "namespace")) && (rc = sp_name(p, v, "namespace", &s->service_namespace)) < 0)
		return rc;
	if ((v = yt_get(root, "trace_sampling")) &&
	    (rc = sp_fraction(p, v, "trace_sampling", &s->trace_sampling)) < 0)
		return rc;
	if ((v = yt_get(root, "access_log_sampling")) &&
	    (rc = sp_fraction(p, v, "access_log_sampling", &s->access_log_sampling)) < 0)
		return rc;
	if ((v = yt_get(root, "scrape_interval"))) {
		if ((rc = sp_duration(p, v, "scrape_interval", &s->scrape_interval_ns)) < 0)
			return rc;
		if (s->scrape_interval_ns < SP_NS)
			return sp_fail(p, v->pos, "scrape_interval: '%s': must be at least 1s", v->str);
	}
	return 0;
}

int sp_parse_root(struct sp *p, const struct yt_node *root)
{
	static const char *const keys[] = {"name", "title", "description", "start", "duration",
					   "seed", "environment", "namespace", "trace_sampling",
					   "access_log_sampling", "scrape_interval", "services",
					   "databases", "caches", "queues", "dependencies",
					   "traffic", "timeline", "noise", "answer", "actions",
					   "drill", "scale", "cluster", NULL};
	struct fd_scenario *s = p->s;
	const struct yt_node *v, *sv;
	int rc;
	if ((rc = sp_map(p, root, "the scenario", keys)) < 0 || (rc = parse_header(p, root)) < 0)
		return rc;

	/* names first: calls may refer to anything defined anywhere */
	if ((rc = sp_need(p, root, "services", "scenario", &sv)) < 0 ||
	    (rc = names_services(p, sv)) < 0 ||
	    (rc = NAMES(p, root, "databases", struct fd_database, databases, n_databases)) < 0 ||
	    (rc = NAMES(p, root, "caches", struct fd_cache, caches, n_caches)) < 0 ||
	    (rc = NAMES(p, root, "queues", struct fd_queue, queues, n_queues)) < 0 ||
	    (rc = NAMES(p, root, "dependencies", struct fd_dependency, dependencies, n_dependencies)) < 0)
		return rc;
	/* the cluster before the services: placement names its nodes */
	if ((rc = sp_parse_cluster(p, yt_get(root, "cluster"))) < 0)
		return rc;
	p->queries = calloc(s->n_databases ? s->n_databases : 1, sizeof(*p->queries));
	if (!p->queries)
		return sp_oom(p);

	if ((v = yt_get(root, "databases")))
		for (size_t i = 0; i < s->n_databases; i++)
			if ((rc = parse_database(p, &s->databases[i], v->items[2 * i + 1])) < 0)
				return rc;
	if ((v = yt_get(root, "caches")))
		for (size_t i = 0; i < s->n_caches; i++)
			if ((rc = parse_cache(p, &s->caches[i], v->items[2 * i + 1])) < 0)
				return rc;
	if ((v = yt_get(root, "dependencies")))
		for (size_t i = 0; i < s->n_dependencies; i++)
			if ((rc = parse_dependency(p, &s->dependencies[i], v->items[2 * i + 1])) < 0)
				return rc;
	if ((v = yt_get(root, "queues")))
		for (size_t i = 0; i < s->n_queues; i++)
			if ((rc = parse_queue(p, &s->queues[i], v->items[2 * i + 1])) < 0)
				return rc;
	for (size_t i = 0; i < s->n_services; i++)
		if ((rc = parse_service(p, &s->services[i], sv->items[2 * i + 1])) < 0)
			return rc;

	if ((rc = sp_need(p, root, "traffic", "scenario", &v)) < 0 || (rc = sp_seq(p, v, "traffic")) < 0)
		return rc;
	if (v->n == 0)
		return sp_fail(p, v->pos, "traffic: at least one entry is needed");
	s->traffic = fd_arena_array(p->arena, v->n, sizeof(*s->traffic));
	if (!s->traffic)
		return sp_oom(p);
	s->n_traffic = v->n;
	for (size_t i = 0; i < v->n; i++) {
		s->traffic[i].id = (int)i;
		if ((rc = sp_parse_traffic(p, &s->traffic[i], v->items[i])) < 0)
			return rc;
	}

	if ((v = yt_get(root, "noise")) && !yt_is_null(v) && (rc = sp_parse_noise(p, v)) < 0)
		return rc;
	/* every call is parsed: queries get their final place */
	if ((rc = sp_finish_queries(p)) < 0)
		return rc;
	if ((v = yt_get(root, "timeline")) && !yt_is_null(v) && (rc = sp_parse_timeline(p, v)) < 0)
		return rc;
	if ((v = yt_get(root, "answer")) && !yt_is_null(v) && (rc = parse_answer(p, v)) < 0)
		return rc;
	if ((v = yt_get(root, "actions")) && !yt_is_null(v) && (rc = sp_parse_actions(p, v)) < 0)
		return rc;
	if ((v = yt_get(root, "drill")) && !yt_is_null(v) && (rc = sp_parse_drill(p, v)) < 0)
		return rc;
	return 0;
}
