/*
 * The request path's calls to stores: database queries through the
 * caller's connection pool (a connection's bookings are kept as intervals,
 * since requests are simulated whole and book ahead), cache lookups with
 * the calls their misses make, and messages produced to queues (with the
 * producer's trace context, for the consumer's link).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

static struct pool *pool_for(struct fd_sim *s, struct inst *in, const struct fd_database *db, int size)
{
	struct pool *p = &in->pools[db->id];
	if (p->size < size) {
		struct conn *v = realloc(p->conns, (size_t)size * sizeof(*v));
		if (!v)
			return NULL;
		for (int i = p->size; i < size; i++)
			v[i].n = 0;
		p->conns = v;
		p->size = size;
	}
	if (!p->slots) {
		p->slots = calloc(s->nslots, sizeof(*p->slots));
		if (!p->slots)
			return NULL;
		p->last_warn = INT64_MIN / 2;
		p->warn_gap = 10 * NS;
	}
	return p;
}

/* Earliest start >= t at which the connection is free for len. */
static int64_t conn_fit(struct conn *c, int64_t t, int64_t len, int64_t now)
{
	int keep = 0;
	for (int i = 0; i < c->n; i++) /* forget what ended before the present */
		if (c->end[i] > now) {
			c->start[keep] = c->start[i];
			c->end[keep++] = c->end[i];
		}
	c->n = keep;
	int64_t at = t;
	for (int i = 0; i < c->n; i++) {
		if (c->end[i] <= at)
			continue;
		if (c->start[i] >= at + len)
			break;
		at = c->end[i];
	}
	if (c->n == CONN_SLOTS && at < c->end[c->n - 1])
		at = c->end[c->n - 1]; /* no room to book a gap: after the last */
	return at;
}

static void conn_book(struct conn *c, int64_t start, int64_t end)
{
	if (c->n == CONN_SLOTS) { /* full: merge into the last booking */
		if (end > c->end[c->n - 1])
			c->end[c->n - 1] = end;
		return;
	}
	int i = c->n;
	while (i > 0 && c->start[i - 1] > start) {
		c->start[i] = c->start[i - 1];
		c->end[i] = c->end[i - 1];
		i--;
	}
	c->start[i] = start;
	c->end[i] = end;
	c->n++;
}

const char *sim_db_summary(const struct fd_query *q, char *buf, size_t n)
{
	/* "SELECT orders": the operation and the first table, like
	 * db.query.summary, low-cardinality enough for metrics. */
	const char *t = q->text, *kw[] = {" FROM ", " INTO ", "UPDATE ", " from ", " into ", "update "};
	const char *table = NULL;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]) && !table; i++) {
		const char *p = strstr(t, kw[i]);
		if (p)
			table = p + strlen(kw[i]);
	}
	if (!table) {
		snprintf(buf, n, "%s %s", q->operation, q->database->name);
		return buf;
	}
	size_t len = strcspn(table, " ;(),\n\t");
	snprintf(buf, n, "%s %.*s", q->operation, (int)len, table);
	return buf;
}


/* ---- database queries ---------------------------------------------------------- */

/* Requests booked on the pool's connections that have not started by t:
 * the ones waiting for a connection at t. */
static int pool_waiting(const struct pool *p, int size, int64_t t)
{
	int n = 0;
	for (int i = 0; i < size && i < p->size; i++)
		for (int k = 0; k < p->conns[i].n; k++)
			n += p->conns[i].start[k] > t;
	return n;
}

struct outcome sim_call_db(struct fd_sim *s, struct req *rq, struct inst *in,
			      const struct fd_call *call, int64_t t, const uint8_t *parent)
{
	const struct fd_query *q = call->query;
	const struct fd_database *db = q->database;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_query[s->query_base[db->id] + q->id], rq, in, t, &m);
	sim_apply_effects(s, &s->by_database[db->id], rq, in, t, &m);
	int size = db->pool > 0 ? db->pool : 10;
	if (m.pool_level > 0)
		size = (int)lround(sim_mix(size, m.pool_level, m.pool));
	/* scaled: each instance opens its share of the connections */
	double cap = in->svc->def->capacity;
	if (cap > 0 && cap != 1)
		size = (int)fmax(1, fmin(1e6, round(size * cap)));
	if (size < 1)
		size = 1;
	struct pool *p = pool_for(s, in, db, size);
	if (!p) {
		sim_oom(s);
		return (struct outcome){.end = t};
	}
	p->max = size;
	bool pg = !strcmp(db->system, "postgresql");
	/* The query's duration is drawn first: which connection frees up in
	 * time depends on how long it will be held. */
	int64_t base = call->has_latency ? sim_sample_dist(s, &call->latency) : sim_sample_dist(s, &db->latency);
	int64_t lat = sim_modify_latency(s, base, &m);
	struct outcome out = {.status = 200};
	int64_t timeout = m.timeout ? m.timeout : call->timeout_ns;
	const char *db_code = NULL; /* db.response.status_code */
	if (timeout > 0 && lat > timeout) {
		lat = timeout;
		out.status = 504;
		out.timeout = true;
		out.err = ERR_DB_CANCELED;
		db_code = pg ? "57014" : "3024";
	} else if (fd_rng_chance(&s->rng, sim_mix(0, m.err_level, m.err_p))) {
		out.status = 500;
		out.err = ERR_DB_CONFLICT;
		db_code = pg ? "40001" : "1213";
	}
	int c = 0;
	int64_t best = INT64_MAX;
	for (int i = 0; i < size; i++) {
		int64_t at = conn_fit(&p->conns[i], t, lat, s->now);
		if (at < best) {
			best = at;
			c = i;
			if (at == t)
				break;
		}
	}
	int64_t wait = best - t;
	struct incarnation *inc = sim_inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	int64_t qstart = t + wait;
	bool pool_timeout = db->pool_timeout_ns > 0 && wait > db->pool_timeout_ns;
	int waiting = wait >= 100 * MS || pool_timeout ? pool_waiting(p, size, t) + 1 : 0;
	if (pool_timeout) {
		wait = db->pool_timeout_ns;
		qstart = t + wait;
		lat = 0;
		out = (struct outcome){.end = qstart, .status = 500, .err = ERR_POOL_TIMEOUT,
				       .ns = db->pool_timeout_ns, .pool = size, .waiting = waiting,
				       .peer = db->name};
	} else {
		conn_book(&p->conns[c], qstart, qstart + lat);
		out.end = qstart + lat;
		sim_infra_query(s, in, q, size, out.end, base, lat, out.status >= 500);
	}
	struct pool_slot *ps = &p->slots[sim_slot_of(s, out.end)];
	ps->used_ns += (double)lat;
	ps->wait_ns += (double)wait;
	sim_hop_add(s, rq, sim_hop_pool(s, db), wait);
	sim_hop_add(s, rq, sim_hop_query(s, q), lat);

	uint8_t acquire_id[8] = {0};
	bool acquire = wait >= MS;
	struct exc e;
	if (pool_timeout) {
		struct err_info xi = {.ns = db->pool_timeout_ns, .pool = size, .waiting = waiting, .peer = db->name};
		sim_exc_make(&e, s, in->svc, ERR_POOL_TIMEOUT, &xi, NULL, NULL, false, NULL);
	}
	if (acquire) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_INTERNAL,
				  .start = t, .end = t + wait, .error = pool_timeout};
		sim_random_id(s, sp.id, 8);
		memcpy(acquire_id, sp.id, 8);
		if (rq->sampled) {
			if (pool_timeout) {
				sim_exc_on_span(&sp, &e);
				sp.status_msg = e.msg;
			}
			char name[160];
			snprintf(name, sizeof(name), "pool.acquire %s", db->name);
			struct pbw *w = &s->w;
			sim_span_begin(w, &sp, in, name);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.pool.name", db->name);
			otlp_attr_double(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.wait_time", (double)wait / (double)NS);
			otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.max", size);
			if (pool_timeout)
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", e.type);
			sim_span_finish(s, w, &sp, in, res, SCOPE_POOL, db->system);
		}
	}
	struct logctx actx = sim_ctx(rq, acquire ? acquire_id : NULL);
	if (wait >= 100 * MS && t - p->last_warn >= p->warn_gap) {
		p->last_warn = t;
		/* a pool logs its saturation now and then, not on a timer */
		p->warn_gap = (int64_t)(8 * NS + fd_rng_exp(&s->rng, 6.0 * NS));
		sim_logf_line(s, in, t + wait, SEV_WARN, SCOPE_LOG_DB, &actx,
			      "connection pool %s exhausted: waited %.0fms for a connection (%d/%d in use, %d waiting)",
			      db->name, (double)wait / 1e6, size, size, waiting);
	}
	if (pool_timeout) {
		sim_exc_log(s, in, out.end, &actx, &e, NULL);
		return out;
	}
	int inc_idx = 0;
	if (sim_inc_at(in, t, &inc_idx))
		sim_observe(s, in, SERIES_DB, inc_idx, s->query_series[s->query_base[db->id] + q->id], 0,
			NULL, out.end, lat);
	struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
			  .start = qstart, .end = out.end, .error = out.status >= 500};
	sim_random_id(s, sp.id, 8);
	if (out.err != ERR_NONE) {
		struct err_info xi = {.ns = lat, .peer = db->name};
		sim_exc_make(&e, s, in->svc, out.err, &xi, NULL, NULL, false, NULL);
		out.method = q->operation;
		out.peer = db->name;
		out.ns = lat;
	}
	if (rq->sampled) {
		if (out.err != ERR_NONE) {
			sim_exc_on_span(&sp, &e);
			sp.status_msg = e.msg;
		}
		const char *summary = s->query_summary[s->query_base[db->id] + q->id];
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, in, summary);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system", db->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system.name", db->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.namespace", db->name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.operation.name", q->operation);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.summary", summary);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.text", q->text);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", db->name);
		otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "server.port", pg ? 5432 : !strcmp(db->system, "mysql") ? 3306 : 27017);
		if (db_code) {
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.response.status_code", db_code);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", db_code);
		}
		sim_span_finish(s, w, &sp, in, res, SCOPE_DB, db->system);
	}
	if (lat >= SLOW_QUERY_NS) {
		struct logctx qctx = sim_ctx(rq, sp.id);
		sim_logf_line(s, in, out.end, SEV_WARN, SCOPE_LOG_DB, &qctx, "slow query on %s (%.0fms): %s",
			      db->name, (double)lat / 1e6, q->text);
	}
	return out;
}

/* ---- caches and queues ----------------------------------------------------------- */

struct outcome sim_call_cache(struct fd_sim *s, struct req *rq, struct inst *in,
				 const struct fd_endpoint *ep, const struct fd_call *call, int64_t t,
				 const uint8_t *parent, int depth)
{
	const struct fd_cache *cache = call->cache;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_cache[cache->id], rq, in, t, &m);
	double hit = call->hit_ratio >= 0 ? call->hit_ratio : cache->hit_ratio;
	int64_t flushed = s->cache_flushed_at[cache->id];
	if (flushed != INT64_MIN && t >= flushed) {
		double warm = cache->warmup_ns > 0 ? (double)(t - flushed) / (double)cache->warmup_ns : 1;
		hit *= fmin(1.0, warm);
	}
	hit = sim_mix(hit, m.hit_level, m.hit);
	int64_t lat = sim_modify_latency(s, call->has_latency ? sim_sample_dist(s, &call->latency)
					       : sim_sample_dist(s, &cache->latency), &m);
	bool is_get = call->cache_op == FD_CACHE_GET;
	bool is_hit = is_get && fd_rng_chance(&s->rng, hit);
	sim_infra_cache(s, in, cache, call->cache_op, is_hit, t + lat);
	sim_hop_add(s, rq, sim_hop_cache(s, cache), lat);
	struct incarnation *inc = sim_inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	if (rq->sampled) {
		static const char *const ops[] = {"GET", "SET", "DEL"};
		const char *op = ops[call->cache_op <= FD_CACHE_DELETE ? call->cache_op : 0];
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = t, .end = t + lat};
		sim_random_id(s, sp.id, 8);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, in, op);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system", cache->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system.name", cache->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.operation.name", op);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", cache->name);
		otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "server.port", !strcmp(cache->system, "memcached") ? 11211 : 6379);
		if (call->cache_key) {
			char key[200], text[220];
			sim_url_path(s, key, sizeof(key), call->cache_key, rq);
			snprintf(text, sizeof(text), "%s %s", op, key);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.text", text);
		}
		if (is_get)
			otlp_attr_bool(w, OTLP_SPAN_ATTRIBUTES, "cache.hit", is_hit);
		sim_span_finish(s, w, &sp, in, res, SCOPE_CACHE, cache->system);
	}
	struct outcome out = {.end = t + lat, .status = 200};
	if (is_get && !is_hit && call->n_on_miss)
		out = sim_run_calls(s, rq, in, ep, call->on_miss, call->n_on_miss, t + lat, parent, depth, NULL);
	return out;
}

struct outcome sim_call_queue(struct fd_sim *s, struct req *rq, struct inst *in,
				 const struct fd_call *call, int64_t t, const uint8_t *parent)
{
	const struct fd_queue *q = call->queue;
	struct queue_state *qs = &s->queues[q->id];
	if (call->queue_op != FD_QUEUE_PRODUCE)
		return (struct outcome){.end = t, .status = 200};
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_queue[q->id], rq, in, t, &m);
	int64_t lat = sim_modify_latency(s, call->has_latency ? sim_sample_dist(s, &call->latency)
					       : sim_sample_dist(s, &q->latency), &m);
	sim_hop_add(s, rq, sim_hop_queue(s, q), lat);
	/* The message carries the producer's context whether or not the
	 * trace is sampled: its consumer links to it. */
	struct qmsg msg = {.time = t + lat, .sampled = rq->sampled};
	memcpy(msg.trace_id, rq->trace_id, 16);
	struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_PRODUCER,
			  .start = t, .end = t + lat};
	sim_random_id(s, sp.id, 8);
	memcpy(msg.span_id, sp.id, 8);
	if (rq->sampled) {
		struct incarnation *inc = sim_inc_at(in, t, NULL);
		char name[160];
		snprintf(name, sizeof(name), "send %s", q->name);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, in, name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.system", q->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.destination.name", q->name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.type", "send");
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.name", "send");
		if (q->partitions > 0) {
			char part[16];
			snprintf(part, sizeof(part), "%u", (unsigned)(sp.id[0] | sp.id[1] << 8) % (unsigned)q->partitions);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.destination.partition.id", part);
		}
		sim_span_finish(s, w, &sp, in, inc ? inc->res : sim_current_inc(in)->res, SCOPE_MESSAGING,
				q->system);
	}
	qs->depth += 1;
	qs->produced++;
	if (qs->n < QUEUE_CTX_MAX) {
		if (qs->n == qs->cap) {
			size_t cap = qs->cap ? qs->cap * 2 : 1024;
			struct qmsg *v = malloc(cap * sizeof(*v));
			if (!v) {
				sim_oom(s);
				return (struct outcome){.end = t + lat, .status = 200};
			}
			for (size_t i = 0; i < qs->n; i++)
				v[i] = qs->ring[(qs->head + i) % qs->cap];
			free(qs->ring);
			qs->ring = v;
			qs->head = 0;
			qs->cap = cap;
		}
		qs->ring[(qs->head + qs->n) % qs->cap] = msg;
		qs->n++;
	}
	return (struct outcome){.end = t + lat, .status = 200};
}

