/*
 * Server-side state of the databases, caches and brokers (datastore.h);
 * datastore_metrics.c reports it as the collector's receivers do (names,
 * units, types and attributes of receiver/postgresqlreceiver,
 * mysqlreceiver, redisreceiver, kafkametricsreceiver in
 * opentelemetry-collector-contrib).
 *
 * The load model. Each statement a service runs is counted on its server:
 * a SELECT returns a few rows through an index scan, an INSERT adds a live
 * row, an UPDATE or DELETE leaves a dead one; each is its own transaction
 * (a commit, or a rollback when it failed). Time a statement spends beyond
 * its undisturbed draw (base_ns) is accounted by cause: lock waits while a
 * lock_contention or lock_holder event holds its table, reads from disk
 * otherwise (a slow SELECT examined many rows: a sequential scan when it is
 * more than 8x slower). Gauges are averages over the interval (Little's
 * law: concurrent statements = busy time / interval).
 */
#include "generator/datastore_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct fd_blob *intern(struct fd_stores *st, struct pbw *w)
{
	const struct fd_blob *b = w->oom ? NULL : fd_intern_add(st->blobs, w->buf, w->len);
	if (!b)
		st->oom = true;
	return b;
}

static const struct fd_blob *scope(struct fd_stores *st, const char *receiver)
{
	infra_scope_write(&st->aux, receiver);
	return intern(st, &st->aux);
}

void stores_emit_points(struct fd_stores *st, int64_t t, const struct fd_blob *res,
			const struct fd_blob *sc, const char *name, const char *desc, const char *unit,
			enum infra_mtype type, bool is_int, int64_t start, const struct infra_point *pts,
			size_t n)
{
	if (!res || st->oom || n == 0)
		return;
	infra_metric_points(&st->w, t, name, desc, unit, type, is_int, start, pts, n);
	if (st->w.oom) {
		st->oom = true;
		return;
	}
	st->out.push(st->out.ctx, t, FD_SIGNAL_METRICS, res, sc, &st->w);
}

void stores_emit(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
		 const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		 double v, int64_t start, const struct infra_attr *a, size_t n)
{
	struct infra_point p = {a, n, v};
	stores_emit_points(st, t, res, sc, name, desc, unit, type, is_int, start, &p, 1);
}

void stores_emit_by(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
		    const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		    int64_t start, const char *key, const char *const *vals, const double *v, size_t n)
{
	struct infra_attr a[MAX_BY];
	struct infra_point p[MAX_BY];
	assert(n <= MAX_BY);
	for (size_t i = 0; i < n; i++) {
		a[i] = (struct infra_attr){.k = key, .v = vals[i]};
		p[i] = (struct infra_point){&a[i], 1, v[i]};
	}
	stores_emit_points(st, t, res, sc, name, desc, unit, type, is_int, start, p, n);
}

/* "public.stock" from the statement's text, or "" */
static void query_table(const struct fd_query *q, char *out, size_t n)
{
	static const char *const kw[] = {" FROM ", " INTO ", "UPDATE ", " from ", " into ", "update ",
					 "VACUUM ANALYZE ", "VACUUM "};
	const char *t = NULL;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]) && !t; i++) {
		const char *at = strstr(q->text, kw[i]);
		if (at)
			t = at + strlen(kw[i]);
	}
	if (!t)
		return;
	size_t len = strcspn(t, " ;(),\n\t");
	if (!len)
		return;
	if (memchr(t, '.', len))
		snprintf(out, n, "%.*s", (int)len, t);
	else
		snprintf(out, n, "public.%.*s", (int)len, t);
}

static int table_index(struct db *d, const char *name)
{
	for (size_t i = 0; i < d->n_tables; i++)
		if (strcmp(d->tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int make_db(struct fd_stores *st, struct db *d, const struct fd_database *def)
{
	d->def = def;
	d->pg = strcmp(def->system, "postgresql") == 0 || strcmp(def->system, "postgres") == 0;
	d->mysql = strcmp(def->system, "mysql") == 0 || strcmp(def->system, "mariadb") == 0;
	snprintf(d->host, sizeof(d->host), "%s:%d", def->name, d->mysql ? 3306 : 5432);
	d->tables = calloc(def->n_queries ? def->n_queries : 1, sizeof(*d->tables));
	d->query_table = calloc(def->n_queries ? def->n_queries : 1, sizeof(int));
	d->client_pool = calloc((size_t)(st->n_clients ? st->n_clients : 1), sizeof(int));
	d->client_seen = calloc((size_t)(st->n_clients ? st->n_clients : 1), sizeof(int64_t));
	if (!d->tables || !d->query_table || !d->client_pool || !d->client_seen)
		return -1;
	for (size_t q = 0; q < def->n_queries; q++) {
		char name[128];
		query_table(&def->queries[q], name, sizeof(name));
		d->query_table[q] = -1;
		if (!name[0])
			continue;
		int t = table_index(d, name);
		if (t < 0) {
			t = (int)d->n_tables++;
			struct table *tb = &d->tables[t];
			snprintf(tb->name, sizeof(tb->name), "%s", name);
			/* a table that has been in use for a while */
			tb->live = 2e5 + fd_rng_uniform(&st->rng) * 2e7;
			tb->dead = tb->live * (0.002 + 0.02 * fd_rng_uniform(&st->rng));
			tb->size = (tb->live + tb->dead) * (120 + 200 * fd_rng_uniform(&st->rng));
			tb->seq_scans = floor(fd_rng_uniform(&st->rng) * 3000);
			tb->idx_scans = floor(tb->live * (5 + 50 * fd_rng_uniform(&st->rng)));
			tb->ins = floor(tb->live * 1.1);
			tb->upd = floor(tb->live * 0.6 * fd_rng_uniform(&st->rng));
			tb->hot_upd = floor(tb->upd * 0.4);
			tb->del = floor(tb->live * 0.1 * fd_rng_uniform(&st->rng));
			tb->vacuums = floor(fd_rng_uniform(&st->rng) * 40);
			tb->idx_hit = tb->idx_scans * 3;
			tb->idx_read = tb->idx_scans * 0.02;
			tb->heap_hit = tb->idx_scans * 2;
			tb->heap_read = tb->idx_scans * 0.05;
		}
		d->query_table[q] = t;
	}
	for (size_t t = 0; t < d->n_tables; t++)
		d->db_size += d->tables[t].size * 1.6; /* and its indexes */
	d->db_size += 8e6;
	d->stats_reset = st->start - (int64_t)((1 + fd_rng_uniform(&st->rng) * 30) * 86400 * D_NS);
	double days = (double)(st->start - d->stats_reset) / 1e9 / 86400;
	d->commits = floor(days * 2e6 * (0.5 + fd_rng_uniform(&st->rng)));
	d->rollbacks = floor(d->commits * 0.0004);
	d->deadlocks = floor(fd_rng_uniform(&st->rng) * 3);
	d->tup_returned = d->commits * 40;
	d->tup_fetched = d->commits * 6;
	d->tup_inserted = d->commits * 0.3;
	d->tup_updated = d->commits * 0.2;
	d->tup_deleted = d->commits * 0.02;
	d->blks_hit = d->commits * 25;
	d->blks_read = d->commits * 0.4;
	d->ckpt_timed = floor(days * 288);
	d->ckpt_req = floor(days * 2);
	d->buf_ckpt = d->ckpt_timed * 900;
	d->buf_clean = d->ckpt_timed * 300;
	d->buf_backend = d->ckpt_timed * 150;
	d->buf_alloc = d->blks_read * 1.02;
	d->ckpt_write_ms = d->ckpt_timed * 27000;
	d->ckpt_sync_ms = d->ckpt_timed * 40;
	d->maxwritten = floor(days * 3);
	d->queries = d->commits * 1.3;
	d->slow = floor(days * 20);
	d->next_ckpt = st->start + (int64_t)(fd_rng_uniform(&st->rng) * 300 * D_NS);
	d->ckpt_until = d->cold_until = d->failover_at = INT64_MIN;
	struct pbw *w = &st->aux;
	pbw_reset(w);
	if (d->mysql) {
		otlp_attr_str(w, 1, "mysql.instance.endpoint", d->host);
		d->res_inst = d->res_db = intern(st, w);
	} else {
		otlp_attr_str(w, 1, "service.instance.id", d->host);
		d->res_inst = intern(st, w);
		pbw_reset(w);
		otlp_attr_str(w, 1, "postgresql.database.name", def->name);
		otlp_attr_str(w, 1, "service.instance.id", d->host);
		d->res_db = intern(st, w);
		for (size_t t = 0; t < d->n_tables; t++) {
			pbw_reset(w);
			otlp_attr_str(w, 1, "postgresql.database.name", def->name);
			otlp_attr_str(w, 1, "postgresql.table.name", d->tables[t].name);
			otlp_attr_str(w, 1, "service.instance.id", d->host);
			d->tables[t].res = intern(st, w);
		}
	}
	return st->oom ? -1 : 0;
}

static int make_kv(struct fd_stores *st, struct kv *c, const struct fd_cache *def)
{
	c->def = def;
	c->redis = strcmp(def->system, "redis") == 0 || strcmp(def->system, "valkey") == 0;
	c->max_keys = 5e5 + fd_rng_uniform(&st->rng) * 4e6;
	c->keys = c->max_keys * (0.6 + 0.3 * fd_rng_uniform(&st->rng));
	c->started = st->start - (int64_t)((2 + fd_rng_uniform(&st->rng) * 60) * 86400 * D_NS);
	double days = (double)(st->start - c->started) / 1e9 / 86400;
	c->hits = floor(days * 4e6 * (0.5 + fd_rng_uniform(&st->rng)));
	c->misses = floor(c->hits * (1 - def->hit_ratio) / fmax(0.01, def->hit_ratio));
	c->cmds = floor((c->hits + c->misses) * 1.3);
	c->evicted = floor(days * 50);
	c->expired = floor(days * 2e4);
	c->conns = floor(days * 300);
	c->net_in = c->cmds * 60;
	c->net_out = c->cmds * 400;
	c->cpu_sys = days * 86400 * 0.01;
	c->cpu_user = days * 86400 * 0.02;
	c->storm_from = c->storm_to = INT64_MIN;
	c->client_seen = calloc((size_t)(st->n_clients ? st->n_clients : 1), sizeof(int));
	c->client_at = calloc((size_t)(st->n_clients ? st->n_clients : 1), sizeof(int64_t));
	if (!c->client_seen || !c->client_at)
		return -1;
	struct pbw *w = &st->aux;
	pbw_reset(w);
	otlp_attr_str(w, 1, "redis.version", "7.2.4");
	otlp_attr_str(w, 1, "server.address", def->name);
	otlp_attr_int(w, 1, "server.port", 6379);
	c->res = intern(st, w);
	return st->oom ? -1 : 0;
}

static int make_topic(struct fd_stores *st, struct topic *tp, const struct fd_queue *def)
{
	tp->def = def;
	tp->kafka = strcmp(def->system, "kafka") == 0;
	int n = def->partitions > 0 ? def->partitions : 1;
	tp->w = calloc((size_t)n, sizeof(double));
	tp->base = calloc((size_t)n, sizeof(double));
	if (!tp->w || !tp->base)
		return -1;
	double sum = 0;
	for (int p = 0; p < n; p++)
		sum += tp->w[p] = 0.85 + 0.3 * fd_rng_uniform(&st->rng);
	double base = 1e6 + fd_rng_uniform(&st->rng) * 5e7;
	for (int p = 0; p < n; p++) {
		tp->w[p] /= sum;
		tp->base[p] = floor(base * tp->w[p] * n * (0.95 + 0.1 * fd_rng_uniform(&st->rng)));
	}
	tp->leader_from = tp->leader_to = INT64_MIN;
	return 0;
}

int fd_stores_create(const struct fd_scenario *sc, uint64_t seed, int64_t start, int64_t end,
		     struct fd_intern *blobs, const struct fd_kube_out *out, struct fd_stores **sp,
		     struct fd_error *err)
{
	*sp = NULL;
	struct fd_stores *st = calloc(1, sizeof(*st));
	if (!st)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	st->sc = sc;
	st->start = start;
	st->end = end;
	st->blobs = blobs;
	st->out = *out;
	fd_rng_seed(&st->rng, seed ^ 0x6461746173746f72ULL);
	st->svc_base = calloc(sc->n_services ? sc->n_services : 1, sizeof(int));
	if (!st->svc_base)
		goto nomem;
	for (size_t i = 0; i < sc->n_services; i++) {
		int n = fd_scenario_max_instances(sc, &sc->services[i]);
		st->svc_base[i] = st->n_clients;
		st->n_clients += n;
	}
	st->scope_pg = scope(st, "postgresqlreceiver");
	st->scope_mysql = scope(st, "mysqlreceiver");
	st->scope_redis = scope(st, "redisreceiver");
	st->scope_kafka = scope(st, "kafkametricsreceiver");
	pbw_reset(&st->aux);
	char alias[96];
	snprintf(alias, sizeof(alias), "%s-kafka", sc->environment);
	otlp_attr_str(&st->aux, 1, "kafka.cluster.alias", alias);
	st->res_kafka = intern(st, &st->aux);
	st->dbs = calloc(sc->n_databases ? sc->n_databases : 1, sizeof(*st->dbs));
	st->kvs = calloc(sc->n_caches ? sc->n_caches : 1, sizeof(*st->kvs));
	st->topics = calloc(sc->n_queues ? sc->n_queues : 1, sizeof(*st->topics));
	if (st->oom || !st->dbs || !st->kvs || !st->topics)
		goto nomem;
	for (size_t i = 0; i < sc->n_databases; i++)
		if (make_db(st, &st->dbs[i], &sc->databases[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < sc->n_caches; i++)
		if (make_kv(st, &st->kvs[i], &sc->caches[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < sc->n_queues; i++)
		if (make_topic(st, &st->topics[i], &sc->queues[i]) < 0)
			goto nomem;
	*sp = st;
	return 0;
nomem:
	fd_stores_destroy(st);
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

void fd_stores_destroy(struct fd_stores *st)
{
	if (!st)
		return;
	for (size_t i = 0; st->dbs && i < st->sc->n_databases; i++) {
		free(st->dbs[i].tables);
		free(st->dbs[i].query_table);
		free(st->dbs[i].client_pool);
		free(st->dbs[i].client_seen);
	}
	for (size_t i = 0; st->kvs && i < st->sc->n_caches; i++) {
		free(st->kvs[i].client_seen);
		free(st->kvs[i].client_at);
	}
	for (size_t i = 0; st->topics && i < st->sc->n_queues; i++) {
		free(st->topics[i].w);
		free(st->topics[i].base);
	}
	free(st->dbs);
	free(st->kvs);
	free(st->topics);
	free(st->svc_base);
	pbw_finish(&st->w);
	pbw_finish(&st->aux);
	free(st);
}

static int client(const struct fd_stores *st, int svc, int idx)
{
	int c = st->svc_base[svc] + idx;
	return c >= 0 && c < st->n_clients ? c : 0;
}

bool stores_locked(const struct db *d, int table, int64_t t)
{
	for (size_t i = 0; i < d->n_locks; i++) {
		const struct lock_event *l = &d->locks[i];
		if (t >= l->from && t < l->to && (l->table < 0 || table < 0 || l->table == table))
			return true;
	}
	return false;
}

void fd_stores_query(struct fd_stores *st, const struct fd_query *q, int svc, int idx, int pool,
		     int64_t end, int64_t base_ns, int64_t lat_ns, bool failed)
{
	struct db *d = &st->dbs[q->database->id];
	int c = client(st, svc, idx);
	d->client_pool[c] = pool;
	d->client_seen[c] = end;
	int ti = d->query_table[q->id];
	struct table *tb = ti >= 0 ? &d->tables[ti] : NULL;
	double extra = lat_ns > base_ns ? (double)(lat_ns - base_ns) : 0;
	double ratio = base_ns > 0 ? (double)lat_ns / (double)base_ns : 1;
	bool lock = extra > 0 && stores_locked(d, ti, end);
	d->busy_ns += (double)lat_ns;
	d->queries++;
	if (lat_ns >= 1000 * D_MS)
		d->slow++; /* long_query_time 1 s */
	if (failed)
		d->rollbacks++;
	else
		d->commits++;
	if (lock) {
		d->wait_ns += extra;
		d->lock_waits++;
		d->lock_wait_ms += extra / 1e6;
		if (tb)
			tb->wait_ns += extra;
		/* a few of the longest waits end in a deadlock */
		if (extra > 900 * D_MS && fd_rng_chance(&st->rng, 0.01))
			d->deadlocks++;
	}
	const char *op = q->operation;
	bool cold = end < d->cold_until;
	/* rows examined: a few through an index; far more when the
	 * statement is slow for a reason that is not a lock */
	double rows = 1 + floor(fd_rng_uniform(&st->rng) * 8);
	double examined = rows * (!lock && ratio > 1.5 ? ratio : 1);
	bool seq = !lock && ratio > 8 && strcmp(op, "SELECT") == 0;
	double blocks = 2 + examined / 60;
	double miss = cold ? 0.35 : !lock && ratio > 1.5 ? fmin(0.5, 0.02 * ratio) : 0.004;
	d->blks_hit += blocks * (1 - miss);
	d->blks_read += blocks * miss;
	d->buf_alloc += blocks * miss;
	if (tb) {
		tb->busy_ns += (double)lat_ns;
		if (seq) {
			tb->seq_scans++;
			examined = tb->live;
			tb->heap_hit += tb->size / 8192 * (1 - miss);
			tb->heap_read += tb->size / 8192 * miss;
		} else {
			tb->idx_scans++;
			tb->idx_hit += 3 * (1 - miss);
			tb->idx_read += 3 * miss;
			tb->heap_hit += rows * (1 - miss);
			tb->heap_read += rows * miss;
		}
	}
	d->tup_returned += examined;
	if (strcmp(op, "SELECT") == 0) {
		d->tup_fetched += rows;
	} else if (strcmp(op, "INSERT") == 0 && !failed) {
		d->tup_inserted++;
		d->db_size += 180;
		if (tb) {
			tb->ins++;
			tb->live++;
			tb->size += 180;
			tb->write_busy_ns += (double)lat_ns;
		}
	} else if (strcmp(op, "UPDATE") == 0 && !failed) {
		d->tup_updated++;
		if (tb) {
			tb->upd++;
			bool hot = fd_rng_chance(&st->rng, 0.4);
			tb->hot_upd += hot;
			tb->dead++;
			tb->size += hot ? 0 : 180;
			tb->write_busy_ns += (double)lat_ns;
		}
	} else if (strcmp(op, "DELETE") == 0 && !failed) {
		double n = tb ? fmax(1, floor(tb->live * 1e-5)) : 1;
		d->tup_deleted += n;
		if (tb) {
			tb->del += n;
			tb->live = fmax(0, tb->live - n);
			tb->dead += n;
			tb->write_busy_ns += (double)lat_ns;
		}
	}
}

void fd_stores_cache(struct fd_stores *st, const struct fd_cache *c, int svc, int idx,
		     enum fd_cache_op op, bool hit, int64_t t)
{
	struct kv *k = &st->kvs[c->id];
	int cl = client(st, svc, idx);
	k->client_seen[cl] = 1;
	k->client_at[cl] = t;
	k->cmds++;
	k->cmds_interval++;
	k->net_in += op == FD_CACHE_SET ? 900 : 70;
	if (op == FD_CACHE_GET) {
		if (hit) {
			k->hits++;
			k->net_out += 1100;
		} else {
			k->misses++;
			k->net_out += 5;
		}
	} else if (op == FD_CACHE_SET) {
		k->net_out += 5;
		if (k->keys < k->max_keys)
			k->keys++;
		else
			k->evicted++; /* allkeys-lru at maxmemory */
	} else {
		k->keys = fmax(0, k->keys - 1);
	}
}

void fd_stores_queue(struct fd_stores *st, const struct fd_queue *q, uint64_t produced,
		     uint64_t consumed, int members)
{
	struct topic *tp = &st->topics[q->id];
	tp->produced = produced;
	tp->consumed = consumed;
	tp->members = members;
}

/* What an event changes at once on a server (counters, keys), applied
 * when the scrapes reach its time. */
void stores_apply_due(struct fd_stores *st, const struct fd_event *ev, int64_t t)
{
	switch (ev->kind) {
	case FD_EVENT_DB_FAILOVER:
		if (ev->database) {
			struct db *d = &st->dbs[ev->database->id];
			/* the replica's own statistics from now (its cold cache
			 * and the clients reconnecting: fd_stores_event) */
			d->stats_reset = t;
			d->commits = d->rollbacks = d->deadlocks = 0;
			d->tup_returned = d->tup_fetched = d->tup_inserted = d->tup_updated = d->tup_deleted = 0;
			d->blks_hit = d->blks_read = 0;
			d->temp_files = d->temp_bytes = 0;
		}
		break;
	case FD_EVENT_CHECKPOINT:
		if (ev->database)
			st->dbs[ev->database->id].ckpt_req++;
		break;
	case FD_EVENT_AUTOVACUUM:
		if (ev->database && ev->table) {
			struct db *d = &st->dbs[ev->database->id];
			int ti = table_index(d, ev->table);
			if (ti >= 0) {
				/* dead rows cleared, the heap read end to end */
				struct table *tb = &d->tables[ti];
				tb->heap_read += tb->size / 8192 * 0.6;
				tb->heap_hit += tb->size / 8192 * 0.4;
				d->blks_read += tb->size / 8192 * 0.6;
				tb->dead = tb->dead * 0.05;
			}
		}
		break;
	case FD_EVENT_CACHE_FLUSH:
		if (ev->cache) {
			struct kv *k = &st->kvs[ev->cache->id];
			k->keys = 0;
			k->expires = 0;
		}
		break;
	default:
		break;
	}
}

void fd_stores_event(struct fd_stores *st, const struct fd_event *ev, int64_t t)
{
	int64_t until = ev->duration_ns == FD_FOREVER ? INT64_MAX : t + ev->duration_ns;
	switch (ev->kind) {
	case FD_EVENT_DB_FAILOVER:
		if (ev->database) {
			struct db *d = &st->dbs[ev->database->id];
			d->failover_at = t;
			d->cold_until = until;
		}
		break;
	case FD_EVENT_CHECKPOINT:
		if (ev->database)
			st->dbs[ev->database->id].ckpt_until = until;
		break;
	case FD_EVENT_LOCK_HOLDER:
	case FD_EVENT_LOCK_CONTENTION:
		if (ev->database || (ev->n_effects && (ev->effects[0].target.database))) {
			const struct fd_database *dbd = ev->database ? ev->database : ev->effects[0].target.database;
			struct db *d = &st->dbs[dbd->id];
			if (d->n_locks == MAX_LOCK_EVENTS)
				break;
			int64_t to = until;
			const char *table = ev->table;
			char buf[128];
			if (!table && ev->n_effects && ev->effects[0].target.query) {
				query_table(ev->effects[0].target.query, buf, sizeof(buf));
				table = buf[0] ? buf : NULL;
			}
			if (ev->kind == FD_EVENT_LOCK_CONTENTION && ev->n_effects)
				to = ev->effects[0].end_ns == FD_FOREVER ? INT64_MAX : st->start + ev->effects[0].end_ns;
			d->locks[d->n_locks++] = (struct lock_event){
				.ev = ev, .from = t, .to = to, .table = table ? table_index(d, table) : -1,
				.holder = ev->kind == FD_EVENT_LOCK_HOLDER,
			};
		}
		break;
	case FD_EVENT_LEADER_CHANGE:
		if (ev->queue) {
			struct topic *tp = &st->topics[ev->queue->id];
			tp->leader_from = t;
			tp->leader_to = until;
			tp->leader_part = ev->partition;
		}
		break;
	case FD_EVENT_EVICTION_STORM:
		if (ev->cache) {
			struct kv *k = &st->kvs[ev->cache->id];
			k->storm_from = t;
			k->storm_to = until;
		}
		break;
	default:
		break;
	}
	if ((ev->kind == FD_EVENT_DB_FAILOVER || ev->kind == FD_EVENT_CHECKPOINT || ev->kind == FD_EVENT_AUTOVACUUM ||
	     ev->kind == FD_EVENT_CACHE_FLUSH) && st->n_due < MAX_DUE)
		st->due[st->n_due++] = (struct due){.ev = ev, .at = t};
}

static void end_by(int64_t *until, int64_t t)
{
	if (*until > t)
		*until = t;
}

void fd_stores_undo(struct fd_stores *st, const struct fd_event *ev, int64_t t)
{
	switch (ev->kind) {
	case FD_EVENT_LOCK_HOLDER:
	case FD_EVENT_LOCK_CONTENTION:
		for (size_t i = 0; i < st->sc->n_databases; i++)
			for (size_t l = 0; l < st->dbs[i].n_locks; l++)
				if (st->dbs[i].locks[l].ev == ev)
					end_by(&st->dbs[i].locks[l].to, t);
		break;
	case FD_EVENT_DB_FAILOVER:
		if (ev->database)
			end_by(&st->dbs[ev->database->id].cold_until, t);
		break;
	case FD_EVENT_CHECKPOINT:
		if (ev->database)
			end_by(&st->dbs[ev->database->id].ckpt_until, t);
		break;
	case FD_EVENT_LEADER_CHANGE:
		if (ev->queue)
			end_by(&st->topics[ev->queue->id].leader_to, t);
		break;
	case FD_EVENT_EVICTION_STORM:
		if (ev->cache)
			end_by(&st->kvs[ev->cache->id].storm_to, t);
		break;
	default:
		break;
	}
}
