/*
 * Scenario parsing, part 3: the infrastructure under the services — the
 * `cluster` block (nodes, namespace, workloads that are not services), a
 * service's `placement`, and the parameters of the event kinds below the
 * application (co_tenant, node_not_ready, cordon, db_failover, autovacuum,
 * checkpoint, lock_holder, partition_leader_change, cache_eviction_storm).
 * The data-store kinds are shorthands: their effect on the callers is an
 * ordinary effect, like outage's; what the servers show comes from the
 * simulation's cluster and data-store models.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/scenario_internal.h"

#define GIB (1024LL * 1024 * 1024)
#define MIB (1024LL * 1024)

/* ---- cluster ------------------------------------------------------------------ */

static int parse_node(struct sp *p, struct fd_node *n, const struct yt_node *node, size_t i)
{
	static const char *const keys[] = {"name", "cores", "memory", "zone", NULL};
	const struct yt_node *v;
	int rc;
	n->id = (int)i;
	n->pos = node->pos;
	n->cores = 8;
	n->memory = 32 * GIB;
	if ((rc = sp_map(p, node, "node", keys)) < 0 || (rc = sp_need(p, node, "name", "node", &v)) < 0 ||
	    (rc = sp_name(p, v, "name", &n->name)) < 0)
		return rc;
	n->pos = v->pos;
	for (size_t k = 0; k < i; k++)
		if (strcmp(p->s->cluster.nodes[k].name, n->name) == 0)
			return sp_fail(p, v->pos, "node '%s' is declared twice (first at %d:%d)", n->name,
				       p->s->cluster.nodes[k].pos.line, p->s->cluster.nodes[k].pos.col);
	if ((v = yt_get(node, "cores"))) {
		if ((rc = sp_number(p, v, "cores", &n->cores)) < 0)
			return rc;
		if (!(n->cores >= 0.5 && n->cores <= 1024))
			return sp_fail(p, v->pos, "cores: '%s': must be between 0.5 and 1024", v->str);
	}
	if ((v = yt_get(node, "memory"))) {
		if ((rc = sp_size(p, v, "memory", &n->memory)) < 0)
			return rc;
		if (n->memory < 512 * MIB)
			return sp_fail(p, v->pos, "memory: '%s': a node needs at least 512MiB", v->str);
	}
	if ((v = yt_get(node, "zone")) && (rc = sp_name(p, v, "zone", &n->zone)) < 0)
		return rc;
	return 0;
}

/* {cpu: 0.5, memory: 1GiB}: cores and bytes, each optional */
static int cpu_memory(struct sp *p, const struct yt_node *node, const char *what, double *cpu,
		      int64_t *mem)
{
	static const char *const keys[] = {"cpu", "memory", NULL};
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "cpu"))) {
		if ((rc = sp_number(p, v, "cpu", cpu)) < 0)
			return rc;
		if (*cpu > 1024)
			return sp_fail(p, v->pos, "cpu: '%s': at most 1024 cores", v->str);
	}
	if ((v = yt_get(node, "memory")) && (rc = sp_size(p, v, "memory", mem)) < 0)
		return rc;
	return 0;
}

static int parse_workload(struct sp *p, struct fd_workload *w, const struct yt_node *node)
{
	static const char *const keys[] = {"kind", "namespace", "container", "image", "replicas",
					   "node", "cpu", "memory", "requests", "limits", "start",
					   "duration", NULL};
	struct fd_cluster *c = &p->s->cluster;
	const struct yt_node *v;
	int rc;
	char what[200];
	snprintf(what, sizeof(what), "workload '%s'", w->name);
	if ((rc = sp_map(p, node, what, keys)) < 0)
		return rc;
	w->kind = FD_WORKLOAD_DEPLOYMENT;
	w->namespace = "default";
	w->container = w->name;
	w->replicas = 1;
	w->cpu = 0.1;
	w->memory = 256 * MIB;
	w->start_ns = 0;
	if ((v = yt_get(node, "kind"))) {
		const char *k;
		if ((rc = sp_name(p, v, "kind", &k)) < 0)
			return rc;
		if (strcmp(k, "deployment") == 0)
			w->kind = FD_WORKLOAD_DEPLOYMENT;
		else if (strcmp(k, "daemonset") == 0)
			w->kind = FD_WORKLOAD_DAEMONSET;
		else if (strcmp(k, "job") == 0)
			w->kind = FD_WORKLOAD_JOB;
		else
			return sp_fail(p, v->pos, "kind: '%s': expected deployment, daemonset or job", k);
	}
	if ((v = yt_get(node, "namespace")) && (rc = sp_name(p, v, "namespace", &w->namespace)) < 0)
		return rc;
	if ((v = yt_get(node, "container")) && (rc = sp_name(p, v, "container", &w->container)) < 0)
		return rc;
	if ((v = yt_get(node, "image")) && (rc = sp_name(p, v, "image", &w->image)) < 0)
		return rc;
	if ((v = yt_get(node, "replicas"))) {
		if (w->kind != FD_WORKLOAD_DEPLOYMENT)
			return sp_fail(p, v->pos, "replicas: only a deployment has replicas (a daemonset runs on every node, a job once)");
		if ((rc = sp_int(p, v, "replicas", 1, 1000, &w->replicas)) < 0)
			return rc;
	}
	if ((v = yt_get(node, "node"))) {
		const char *name;
		if (w->kind == FD_WORKLOAD_DAEMONSET)
			return sp_fail(p, v->pos, "node: a daemonset runs on every node");
		if ((rc = sp_name(p, v, "node", &name)) < 0 || (rc = sp_find_node(p, name, v->pos, &w->node)) < 0)
			return rc;
	}
	if ((v = yt_get(node, "cpu"))) {
		if ((rc = sp_number(p, v, "cpu", &w->cpu)) < 0)
			return rc;
		if (w->cpu > 1024)
			return sp_fail(p, v->pos, "cpu: '%s': at most 1024 cores", v->str);
	}
	if ((v = yt_get(node, "memory")) && (rc = sp_size(p, v, "memory", &w->memory)) < 0)
		return rc;
	w->cpu_request = w->cpu;
	w->memory_request = w->memory;
	if ((v = yt_get(node, "requests")) &&
	    (rc = cpu_memory(p, v, "requests", &w->cpu_request, &w->memory_request)) < 0)
		return rc;
	if ((v = yt_get(node, "limits")) &&
	    (rc = cpu_memory(p, v, "limits", &w->cpu_limit, &w->memory_limit)) < 0)
		return rc;
	if (w->memory_limit > 0 && w->memory > w->memory_limit)
		return sp_fail(p, yt_get(node, "limits")->pos,
			       "limits: memory %lld bytes is below what the workload uses (%lld): it would be OOM-killed at once",
			       (long long)w->memory_limit, (long long)w->memory);
	const struct yt_node *start = yt_get(node, "start"), *dur = yt_get(node, "duration");
	if (w->kind != FD_WORKLOAD_JOB && (start || dur))
		return sp_fail(p, (start ? start : dur)->pos, "%s: only a job starts and ends; a %s runs all along",
			       start ? "start" : "duration",
			       w->kind == FD_WORKLOAD_DAEMONSET ? "daemonset" : "deployment");
	if (w->kind == FD_WORKLOAD_JOB) {
		/* a job without a start runs only when a co_tenant event
		 * schedules it */
		w->start_ns = FD_FOREVER;
		if (start) {
			if ((rc = sp_offset(p, start, "start", &w->start_ns)) < 0)
				return rc;
			if (w->start_ns >= p->s->duration_ns)
				return sp_fail(p, start->pos, "start: not before the end of the scenario");
		}
		if (dur && (rc = sp_duration(p, dur, "duration", &w->duration_ns)) < 0)
			return rc;
	}
	(void)c;
	return 0;
}

int sp_parse_cluster(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"name", "namespace", "nodes", "node_pool", "system",
					   "system_workloads", "workloads", "telemetry", NULL};
	static const char *const pool_keys[] = {"count", "cores", "memory", NULL};
	struct fd_cluster *c = &p->s->cluster;
	const struct yt_node *v;
	int rc;
	c->namespace = NULL; /* the services' namespace (scenario `namespace`) */
	c->pool_cores = 8;
	c->pool_memory = 32 * GIB;
	c->system_cpu = 0.15;
	c->system_memory = 1229 * MIB;
	c->system_workloads = true;
	c->telemetry = true;
	if (!node || yt_is_null(node))
		return 0;
	if ((rc = sp_map(p, node, "cluster", keys)) < 0)
		return rc;
	if ((v = yt_get(node, "name")) && (rc = sp_name(p, v, "name", &c->name)) < 0)
		return rc;
	if ((v = yt_get(node, "namespace")) && (rc = sp_name(p, v, "namespace", &c->namespace)) < 0)
		return rc;
	if ((v = yt_get(node, "telemetry")) && (rc = sp_bool(p, v, "telemetry", &c->telemetry)) < 0)
		return rc;
	if ((v = yt_get(node, "system_workloads")) &&
	    (rc = sp_bool(p, v, "system_workloads", &c->system_workloads)) < 0)
		return rc;
	if ((v = yt_get(node, "system")) && (rc = cpu_memory(p, v, "system", &c->system_cpu, &c->system_memory)) < 0)
		return rc;
	const struct yt_node *nodes = yt_get(node, "nodes"), *pool = yt_get(node, "node_pool");
	if (nodes && pool)
		return sp_fail(p, pool->pos, "node_pool: give either nodes (named) or node_pool (made up), not both");
	if (nodes && !yt_is_null(nodes)) {
		if ((rc = sp_seq(p, nodes, "nodes")) < 0)
			return rc;
		if (nodes->n == 0)
			return sp_fail(p, nodes->pos, "nodes: at least one node (or leave nodes out for a made-up pool)");
		if (nodes->n > 1000)
			return sp_fail(p, nodes->pos, "nodes: at most 1000");
		c->nodes = fd_arena_array(p->arena, nodes->n, sizeof(*c->nodes));
		if (!c->nodes)
			return sp_oom(p);
		for (size_t i = 0; i < nodes->n; i++) {
			c->n_nodes = i + 1;
			if ((rc = parse_node(p, &c->nodes[i], nodes->items[i], i)) < 0)
				return rc;
		}
	}
	if (pool && !yt_is_null(pool)) {
		if ((rc = sp_map(p, pool, "node_pool", pool_keys)) < 0)
			return rc;
		if ((v = yt_get(pool, "count")) && (rc = sp_int(p, v, "count", 1, 1000, &c->pool_nodes)) < 0)
			return rc;
		if ((v = yt_get(pool, "cores"))) {
			if ((rc = sp_number(p, v, "cores", &c->pool_cores)) < 0)
				return rc;
			if (!(c->pool_cores >= 0.5 && c->pool_cores <= 1024))
				return sp_fail(p, v->pos, "cores: '%s': must be between 0.5 and 1024", v->str);
		}
		if ((v = yt_get(pool, "memory"))) {
			if ((rc = sp_size(p, v, "memory", &c->pool_memory)) < 0)
				return rc;
			if (c->pool_memory < 512 * MIB)
				return sp_fail(p, v->pos, "memory: '%s': a node needs at least 512MiB", v->str);
		}
	}
	const struct yt_node *wl = yt_get(node, "workloads");
	if (wl && !yt_is_null(wl)) {
		if (wl->kind != YT_MAP)
			return sp_fail(p, wl->pos, "workloads: expected a mapping of names, got %s", yt_kind_name(wl));
		if (wl->n > 1000)
			return sp_fail(p, wl->pos, "workloads: at most 1000");
		c->workloads = fd_arena_array(p->arena, wl->n, sizeof(*c->workloads));
		if (wl->n && !c->workloads)
			return sp_oom(p);
		for (size_t i = 0; i < wl->n; i++) {
			struct fd_workload *w = &c->workloads[i];
			const struct yt_node *k = wl->items[2 * i];
			w->id = (int)i;
			w->pos = k->pos;
			if ((rc = sp_name(p, k, "workloads", &w->name)) < 0)
				return rc;
			c->n_workloads = i + 1;
			if ((rc = parse_workload(p, w, wl->items[2 * i + 1])) < 0)
				return rc;
		}
	}
	return 0;
}

/* placement: {4: ip-10-0-7-42, 0: ip-10-0-1-17} */
int sp_parse_placement(struct sp *p, struct fd_service *svc, const struct yt_node *node)
{
	int rc;
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "placement: expected a mapping of instance index to node, such as {4: ip-10-0-7-42}, got %s",
			       yt_kind_name(node));
	if (p->s->cluster.n_nodes == 0)
		return sp_fail(p, node->pos, "placement: the cluster declares no nodes (give cluster.nodes)");
	int max = -1;
	for (size_t i = 0; i < node->n; i++) {
		int idx;
		if ((rc = sp_int(p, node->items[2 * i], "placement", 0, 999, &idx)) < 0)
			return rc;
		if (idx > max)
			max = idx;
	}
	svc->n_placement = (size_t)(max + 1);
	svc->placement = fd_arena_array(p->arena, svc->n_placement ? svc->n_placement : 1,
					sizeof(*svc->placement));
	if (!svc->placement)
		return sp_oom(p);
	for (size_t i = 0; i < node->n; i++) {
		int idx;
		const char *name;
		const struct yt_node *v = node->items[2 * i + 1];
		sp_int(p, node->items[2 * i], "placement", 0, 999, &idx);
		if ((rc = sp_name(p, v, "placement", &name)) < 0 ||
		    (rc = sp_find_node(p, name, v->pos, &svc->placement[idx])) < 0)
			return rc;
	}
	return 0;
}

/* ---- events below the application --------------------------------------------- */

const char *const sp_k_co_tenant[] = {"node", "workload", "cpu", "memory", "duration", NULL};
const char *const sp_k_not_ready[] = {"node", "duration", NULL};
const char *const sp_k_cordon[] = {"node", "drain", "undoes", "damping", NULL};
const char *const sp_k_failover[] = {"target", "latency", "duration", "ramp", NULL};
const char *const sp_k_autovacuum[] = {"target", "table", "latency", "duration", "ramp", NULL};
const char *const sp_k_checkpoint[] = {"target", "latency", "duration", "ramp", NULL};
const char *const sp_k_lock_holder[] = {"target", "table", "latency", "tail", "duration", "ramp",
					NULL};
const char *const sp_k_leader[] = {"queue", "partition", "latency", "duration", NULL};
const char *const sp_k_eviction[] = {"cache", "hit_ratio", "duration", "ramp", NULL};

static int event_node(struct sp *p, const struct yt_node *params, const char *what,
		      struct fd_node **out)
{
	const struct yt_node *v;
	const char *name;
	int rc;
	if ((rc = sp_need(p, params, "node", what, &v)) < 0 || (rc = sp_name(p, v, "node", &name)) < 0)
		return rc;
	if (p->s->cluster.n_nodes == 0)
		return sp_fail(p, v->pos, "node: the cluster declares no nodes (give cluster.nodes)");
	return sp_find_node(p, name, v->pos, out);
}

/* The table a query works on: the word after FROM / INTO / UPDATE, with
 * the schema ("public.stock"), as pg_stat_user_tables names it. */
const char *sp_query_table(struct sp *p, const struct fd_query *q)
{
	static const char *const kw[] = {" FROM ", " INTO ", "UPDATE ", " from ", " into ", "update ",
					 "VACUUM ANALYZE ", "VACUUM "};
	const char *t = NULL;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]) && !t; i++) {
		const char *at = strstr(q->text, kw[i]);
		if (at)
			t = at + strlen(kw[i]);
	}
	if (!t)
		return NULL;
	size_t len = strcspn(t, " ;(),\n\t");
	if (len == 0)
		return NULL;
	char buf[160];
	if (memchr(t, '.', len))
		snprintf(buf, sizeof(buf), "%.*s", (int)len, t);
	else
		snprintf(buf, sizeof(buf), "public.%.*s", (int)len, t);
	return fd_arena_strdup(p->arena, buf);
}

/* target (a database or one of its queries) and table of the data-store
 * kinds; the table comes from the query when not given. */
static int store_target(struct sp *p, const struct yt_node *params, struct fd_event *ev,
			struct fd_effect *sh, bool needs_table)
{
	const struct yt_node *v;
	int rc;
	if ((rc = sp_shorthand_target(p, params, ev->kind_name,
				      (1u << FD_TARGET_DATABASE) | (1u << FD_TARGET_QUERY),
				      "a database or a query", sh)) < 0)
		return rc;
	ev->database = sh->target.database;
	if ((v = yt_get(params, "table"))) {
		if ((rc = sp_name(p, v, "table", &ev->table)) < 0)
			return rc;
		if (!strchr(ev->table, '.')) {
			char buf[160];
			snprintf(buf, sizeof(buf), "public.%s", ev->table);
			if (!(ev->table = fd_arena_strdup(p->arena, buf)))
				return sp_oom(p);
		}
	} else if (sh->target.query) {
		ev->table = sp_query_table(p, sh->target.query);
	}
	if (needs_table && !ev->table)
		return sp_fail(p, params->pos, "%s: give a table, or a query target that names one", ev->kind_name);
	return 0;
}

static int latency_or(struct sp *p, const struct yt_node *params, struct fd_effect *sh,
		      double mult)
{
	const struct yt_node *v = yt_get(params, "latency");
	sh->latency_mult = mult;
	sh->changes |= FD_CHANGE_LATENCY_MULT;
	if (!v)
		return 0;
	sh->changes &= ~(unsigned)FD_CHANGE_LATENCY_MULT;
	return sp_latency_change(p, v, "latency", sh);
}

/* A default duration unless the scenario gives duration (or until). */
static void default_end(const struct yt_node *params, struct fd_effect *sh, int64_t d)
{
	if (!yt_get(params, "duration") && !yt_get(params, "until"))
		sh->end_ns = sh->start_ns + d;
}

/* What the server models show lasts as long as the callers' effect. */
static int store_duration(struct fd_event *ev, const struct fd_effect *sh)
{
	ev->duration_ns = sh->end_ns == FD_FOREVER ? FD_FOREVER : sh->end_ns - ev->at_ns;
	return 0;
}

int sp_parse_infra_kind(struct sp *p, const struct yt_node *params, struct fd_event *ev,
			const struct yt_node **undoes, struct fd_effect *sh, bool *has_sh)
{
	const struct yt_node *v;
	const char *what = ev->kind_name, *name;
	int rc;
	ev->duration_ns = FD_FOREVER;
	switch (ev->kind) {
	case FD_EVENT_CO_TENANT:
		if ((rc = event_node(p, params, what, &ev->node)) < 0 ||
		    (rc = sp_need(p, params, "workload", what, &v)) < 0 ||
		    (rc = sp_name(p, v, "workload", &name)) < 0 ||
		    (rc = sp_find_workload(p, name, v->pos, &ev->workload)) < 0)
			return rc;
		if (ev->workload->kind != FD_WORKLOAD_JOB)
			return sp_fail(p, v->pos, "workload: '%s' is a %s; a co_tenant starts a job (kind: job)",
				       name, ev->workload->kind == FD_WORKLOAD_DAEMONSET ? "daemonset" : "deployment");
		if (ev->workload->start_ns != FD_FOREVER)
			return sp_fail(p, v->pos, "workload: job '%s' already starts at its own `start`; leave that out to start it here",
				       name);
		if ((v = yt_get(params, "cpu")) && (rc = sp_number(p, v, "cpu", &ev->workload_cpu)) < 0)
			return rc;
		if ((v = yt_get(params, "memory")) && (rc = sp_size(p, v, "memory", &ev->workload_memory)) < 0)
			return rc;
		if ((v = yt_get(params, "duration")) && (rc = sp_duration(p, v, "duration", &ev->duration_ns)) < 0)
			return rc;
		if (ev->duration_ns == FD_FOREVER && ev->workload->duration_ns > 0)
			ev->duration_ns = ev->workload->duration_ns;
		return 0;
	case FD_EVENT_NODE_NOT_READY:
		if ((rc = event_node(p, params, what, &ev->node)) < 0)
			return rc;
		if ((v = yt_get(params, "duration")) && (rc = sp_duration(p, v, "duration", &ev->duration_ns)) < 0)
			return rc;
		return 0;
	case FD_EVENT_CORDON:
		ev->drain = true;
		if ((rc = event_node(p, params, what, &ev->node)) < 0)
			return rc;
		if ((v = yt_get(params, "drain")) && (rc = sp_bool(p, v, "drain", &ev->drain)) < 0)
			return rc;
		/* draining moves pods one by one, as kubectl drain does */
		ev->rollout_ns = ev->drain ? 60 * SP_NS : 0;
		return sp_mitigation_params(p, params, ev, undoes);
	case FD_EVENT_DB_FAILOVER:
		/* a cold replica: every query reads from disk for a while */
		if ((rc = store_target(p, params, ev, sh, false)) < 0 || (rc = latency_or(p, params, sh, 8)) < 0)
			return rc;
		if (sh->target.kind != FD_TARGET_DATABASE)
			return sp_fail(p, sh->target.pos, "target: a failover happens to a whole database, not to one query");
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 2 * 60 * SP_NS);
		return store_duration(ev, sh);
	case FD_EVENT_AUTOVACUUM:
		if ((rc = store_target(p, params, ev, sh, true)) < 0 || (rc = latency_or(p, params, sh, 1.5)) < 0)
			return rc;
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 10 * 60 * SP_NS);
		return store_duration(ev, sh);
	case FD_EVENT_CHECKPOINT:
		if ((rc = store_target(p, params, ev, sh, false)) < 0 || (rc = latency_or(p, params, sh, 2)) < 0)
			return rc;
		if (sh->target.kind != FD_TARGET_DATABASE)
			return sp_fail(p, sh->target.pos, "target: a checkpoint is the whole database's, not one query's");
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 60 * SP_NS);
		return store_duration(ev, sh);
	case FD_EVENT_LOCK_HOLDER:
		if ((rc = store_target(p, params, ev, sh, true)) < 0)
			return rc;
		/* waits hit the statements that touch a locked row: the tail */
		sh->tail_mult = 50;
		sh->changes = FD_CHANGE_TAIL;
		if ((v = yt_get(params, "tail")) && (rc = sp_mult(p, v, "tail", &sh->tail_mult)) < 0)
			return rc;
		if ((v = yt_get(params, "latency")) && (rc = sp_latency_change(p, v, "latency", sh)) < 0)
			return rc;
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 5 * 60 * SP_NS);
		return store_duration(ev, sh);
	case FD_EVENT_LEADER_CHANGE:
		if ((rc = sp_need(p, params, "queue", what, &v)) < 0 || (rc = sp_name(p, v, "queue", &name)) < 0 ||
		    (rc = sp_find_queue(p, name, v->pos, &ev->queue)) < 0)
			return rc;
		sh->target.kind = FD_TARGET_QUEUE;
		sh->target.queue = ev->queue;
		sh->target.pos = v->pos;
		if ((v = yt_get(params, "partition")) &&
		    (rc = sp_int(p, v, "partition", 0, ev->queue->partitions - 1, &ev->partition)) < 0)
			return rc;
		/* producers to that partition wait for the new leader; its
		 * consumer pauses while the group rebalances */
		sh->latency_add_ns = 400 * SP_MS;
		sh->changes = FD_CHANGE_LATENCY_ADD | FD_CHANGE_THROUGHPUT;
		sh->throughput_mult = ev->queue->partitions > 1 ? 1.0 - 1.0 / ev->queue->partitions : 0.5;
		if ((v = yt_get(params, "latency"))) {
			sh->changes &= ~(unsigned)FD_CHANGE_LATENCY_ADD;
			if ((rc = sp_latency_change(p, v, "latency", sh)) < 0)
				return rc;
		}
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 30 * SP_NS);
		return store_duration(ev, sh);
	case FD_EVENT_EVICTION_STORM:
		if ((rc = sp_need(p, params, "cache", what, &v)) < 0 || (rc = sp_name(p, v, "cache", &name)) < 0 ||
		    (rc = sp_find_cache(p, name, v->pos, &ev->cache)) < 0)
			return rc;
		sh->target.kind = FD_TARGET_CACHE;
		sh->target.cache = ev->cache;
		sh->target.pos = v->pos;
		sh->hit_ratio = ev->cache->hit_ratio * 0.6;
		sh->changes = FD_CHANGE_HIT_RATIO;
		if ((v = yt_get(params, "hit_ratio")) && (rc = sp_fraction(p, v, "hit_ratio", &sh->hit_ratio)) < 0)
			return rc;
		*has_sh = true;
		if ((rc = sp_effect_timing(p, params, sh)) < 0)
			return rc;
		default_end(params, sh, 10 * 60 * SP_NS);
		return store_duration(ev, sh);
	default:
		return sp_fail(p, params->pos, "%s: not a kind below the application", what);
	}
}
