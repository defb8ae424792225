/*
 * Server-side state and metrics of the databases, caches and brokers
 * (datastore.h). Names, units, types and attributes are the collector
 * receivers' (receiver/postgresqlreceiver, mysqlreceiver, redisreceiver,
 * kafkametricsreceiver in opentelemetry-collector-contrib).
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
#include "generator/datastore.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/infra_otlp.h"
#include "generator/rng.h"

#define D_NS 1000000000LL
#define D_MS 1000000LL
#define MAX_LOCK_EVENTS 16

struct table {
	char name[128];
	double live, dead, size;
	double seq_scans, idx_scans, ins, upd, hot_upd, del, vacuums;
	double heap_read, heap_hit, idx_read, idx_hit;
	double busy_ns, wait_ns, write_busy_ns; /* this interval */
	const struct fd_blob *res;
};

struct lock_event {
	const struct fd_event *ev;
	int64_t from, to;
	int table;  /* -1: the whole database */
	bool holder;
};

struct db {
	const struct fd_database *def;
	bool pg, mysql;
	char host[160];
	struct table *tables;
	size_t n_tables;
	int *query_table;       /* by query id: table index or -1 */
	/* pg_stat_database and friends, since stats_reset */
	double commits, rollbacks, deadlocks, temp_files, temp_bytes;
	double tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted;
	double blks_hit, blks_read;
	double ckpt_timed, ckpt_req, buf_ckpt, buf_clean, buf_backend, buf_alloc, ckpt_write_ms, ckpt_sync_ms;
	double maxwritten;
	double db_size;
	int64_t stats_reset, next_ckpt, ckpt_until, cold_until, failover_at;
	double busy_ns, wait_ns;      /* this interval */
	double slow, queries;         /* mysql counters */
	double lock_waits, lock_wait_ms;
	struct lock_event locks[MAX_LOCK_EVENTS];
	size_t n_locks;
	int *client_pool;             /* by client: pool size, 0 unseen */
	int64_t *client_seen;
	const struct fd_blob *res_inst, *res_db;
};

struct kv {
	const struct fd_cache *def;
	bool redis;
	double keys, max_keys, expires;
	double hits, misses, cmds, cmds_interval, evicted, expired, conns;
	double net_in, net_out, cpu_sys, cpu_user, mem_peak;
	int64_t started, storm_from, storm_to;
	int *client_seen;
	int64_t *client_at;
	const struct fd_blob *res;
};

struct topic {
	const struct fd_queue *def;
	bool kafka;
	uint64_t produced, consumed;
	int members;
	double *w;
	double *base;
	int64_t leader_from, leader_to;
	int leader_part;
};

/* A timeline event waiting for the scrapes to reach its time: the
 * simulation announces events ahead of the scrapes. */
struct due {
	const struct fd_event *ev;
	int64_t at;
};
#define MAX_DUE 64

struct fd_stores {
	const struct fd_scenario *sc;
	struct due due[MAX_DUE];
	size_t n_due;
	struct fd_rng rng;
	int64_t start, end;
	struct fd_intern *blobs;
	struct fd_kube_out out;
	const struct fd_blob *scope_pg, *scope_mysql, *scope_redis, *scope_kafka, *res_kafka;
	struct db *dbs;
	struct kv *kvs;
	struct topic *topics;
	int *svc_base;
	int n_clients;
	struct pbw w, aux;
	bool oom;
};

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

static void emit_points(struct fd_stores *st, int64_t t, const struct fd_blob *res,
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

static void emit(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
		 const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		 double v, int64_t start, const struct infra_attr *a, size_t n)
{
	struct infra_point p = {a, n, v};
	emit_points(st, t, res, sc, name, desc, unit, type, is_int, start, &p, 1);
}

/* One metric whose points differ by one attribute (key = vals[i]: v[i]). */
#define MAX_BY 8
static void emit_by(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
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
	emit_points(st, t, res, sc, name, desc, unit, type, is_int, start, p, n);
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

static bool locked(const struct db *d, int table, int64_t t)
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
	bool lock = extra > 0 && locked(d, ti, end);
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
static void apply_due(struct fd_stores *st, const struct fd_event *ev, int64_t t)
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

/* ---- scrapes ---------------------------------------------------------------- */

#define C(name, desc, unit, v) emit(st, ts, res, sc, name, desc, unit, INFRA_COUNTER, true, v, start, NULL, 0)
#define U(name, desc, unit, v) emit(st, ts, res, sc, name, desc, unit, INFRA_SUM, true, v, start, NULL, 0)
#define G(name, desc, unit, v) emit(st, ts, res, sc, name, desc, unit, INFRA_GAUGE, true, v, 0, NULL, 0)

static int backends(const struct fd_stores *st, const struct db *d, int64_t t)
{
	int n = 0;
	for (int c = 0; c < st->n_clients; c++)
		if (d->client_seen[c] > t - 120 * D_NS)
			n += d->client_pool[c];
	return n;
}

static void pg_scrape(struct fd_stores *st, struct db *d, int64_t ts, double secs)
{
	const struct fd_blob *res = d->res_inst, *sc = st->scope_pg;
	int64_t start = d->stats_reset;
	/* scheduled checkpoints every checkpoint_timeout (5 min); a requested
	 * one writes much more, for longer */
	while (d->next_ckpt <= ts) {
		d->ckpt_timed++;
		d->buf_ckpt += 600 + fd_rng_uniform(&st->rng) * 900;
		d->ckpt_write_ms += 25000 + fd_rng_uniform(&st->rng) * 8000;
		d->ckpt_sync_ms += 20 + fd_rng_uniform(&st->rng) * 80;
		d->next_ckpt += 300 * D_NS;
	}
	if (ts < d->ckpt_until) {
		d->buf_ckpt += secs * (3000 + fd_rng_uniform(&st->rng) * 2000);
		d->ckpt_write_ms += secs * 1000 * 0.9;
		d->ckpt_sync_ms += secs * 60;
		d->buf_backend += secs * 200;
	}
	d->buf_clean += secs * (1 + fd_rng_uniform(&st->rng) * 4);
	static const char *const ckpt[] = {"requested", "scheduled"};
	emit_by(st, ts, res, sc, "postgresql.bgwriter.checkpoint.count", "The number of checkpoints performed.",
		"{checkpoints}", INFRA_COUNTER, true, start, "type", ckpt, (double[]){d->ckpt_req, d->ckpt_timed}, 2);
	static const char *const src[] = {"backend", "bgwriter", "checkpoints"};
	emit_by(st, ts, res, sc, "postgresql.bgwriter.buffers.writes", "Number of buffers written.", "{buffers}",
		INFRA_COUNTER, true, start, "source", src, (double[]){d->buf_backend, d->buf_clean, d->buf_ckpt}, 3);
	emit(st, ts, res, sc, "postgresql.bgwriter.buffers.allocated", "Number of buffers allocated.", "{buffers}",
	     INFRA_COUNTER, true, d->buf_alloc, start, NULL, 0);
	static const char *const dur[] = {"sync", "write"};
	emit_by(st, ts, res, sc, "postgresql.bgwriter.duration",
		"Total time spent writing and syncing files to disk by checkpoints.", "ms", INFRA_COUNTER, false,
		start, "type", dur, (double[]){d->ckpt_sync_ms, d->ckpt_write_ms}, 2);
	G("postgresql.connection.max", "Configured maximum number of client connections allowed", "{connections}", 500);
	U("postgresql.database.count", "Number of user databases.", "{databases}", 1);

	res = d->res_db;
	int conns = backends(st, d, ts);
	/* after a failover the clients reconnect over a few seconds */
	if (d->failover_at != INT64_MIN && ts >= d->failover_at && ts - d->failover_at < 20 * D_NS)
		conns = (int)(conns * (double)(ts - d->failover_at) / (20.0 * D_NS));
	U("postgresql.backends",
	  "The number of backend processes associated with each database. Counts backends across all connection states (active, idle, idle-in-transaction) and all backend types, including non-client backends such as autovacuum and parallel workers.",
	  "1", conns + 3);
	C("postgresql.commits", "The number of commits.", "1", d->commits);
	C("postgresql.rollbacks", "The number of rollbacks.", "1", d->rollbacks);
	C("postgresql.deadlocks", "The number of deadlocks.", "{deadlock}", d->deadlocks);
	C("postgresql.blks_hit", "Number of times disk blocks were found already in the buffer cache.", "{blks_hit}",
	  d->blks_hit);
	C("postgresql.blks_read", "Number of disk blocks read in this database.", "{blks_read}", d->blks_read);
	C("postgresql.tup_returned", "Number of rows returned by queries in the database.", "{tup_returned}",
	  d->tup_returned);
	C("postgresql.tup_fetched", "Number of rows fetched by queries in the database.", "{tup_fetched}",
	  d->tup_fetched);
	C("postgresql.tup_inserted", "Number of rows inserted by queries in the database.", "{tup_inserted}",
	  d->tup_inserted);
	C("postgresql.tup_updated", "Number of rows updated by queries in the database.", "{tup_updated}",
	  d->tup_updated);
	C("postgresql.tup_deleted", "Number of rows deleted by queries in the database.", "{tup_deleted}",
	  d->tup_deleted);
	U("postgresql.db_size", "The database disk usage.", "By", d->db_size);
	U("postgresql.table.count", "Number of user tables in a database.", "{table}", (double)d->n_tables);
	/* locks held and awaited, from the statements in flight: one metric,
	 * a point per lock type, mode and relation */
	double active = d->busy_ns / (secs * 1e9), waiting = d->wait_ns / (secs * 1e9);
	size_t cap = 2 * d->n_tables + 2, np = 0;
	struct infra_attr *la = calloc(cap * 3, sizeof(*la));
	struct infra_point *lp = calloc(cap, sizeof(*lp));
	if (!la || !lp) {
		st->oom = true;
	} else {
		for (size_t t = 0; t < d->n_tables; t++) {
			struct table *tb = &d->tables[t];
			double held = tb->busy_ns / (secs * 1e9), writes = tb->write_busy_ns / (secs * 1e9);
			if (held < 0.5 && tb->wait_ns == 0)
				continue;
			const char *rel = tb->name + (strncmp(tb->name, "public.", 7) ? 0 : 7);
			static const char *const modes[] = {"AccessShareLock", "RowExclusiveLock"};
			double v[] = {round(held - writes), round(writes + (locked(d, (int)t, ts) ? 1 : 0))};
			for (int m = 0; m < 2; m++, np++) {
				struct infra_attr *x = &la[3 * np];
				x[0] = (struct infra_attr){.k = "lock_type", .v = "relation"};
				x[1] = (struct infra_attr){.k = "mode", .v = modes[m]};
				x[2] = (struct infra_attr){.k = "relation", .v = rel};
				lp[np] = (struct infra_point){x, 3, v[m]};
			}
		}
		/* transactions in flight hold their own id; those waiting for
		 * another's row lock wait on its id (ShareLock) */
		static const char *const tx[] = {"ExclusiveLock", "ShareLock"};
		double v[] = {round(active), round(waiting)};
		for (int m = 0; m < 2; m++, np++) {
			struct infra_attr *x = &la[3 * np];
			x[0] = (struct infra_attr){.k = "lock_type", .v = "transactionid"};
			x[1] = (struct infra_attr){.k = "mode", .v = tx[m]};
			x[2] = (struct infra_attr){.k = "relation", .v = ""};
			lp[np] = (struct infra_point){x, 3, v[m]};
		}
		emit_points(st, ts, res, sc, "postgresql.database.locks", "The number of database locks.", "{lock}",
			    INFRA_GAUGE, true, 0, lp, np);
	}
	free(la);
	free(lp);
	for (size_t t = 0; t < d->n_tables; t++) {
		struct table *tb = &d->tables[t];
		res = tb->res;
		static const char *const ops[] = {"del", "hot_upd", "ins", "upd"};
		emit_by(st, ts, res, sc, "postgresql.operations", "The number of db row operations.", "1",
			INFRA_COUNTER, true, start, "operation", ops, (double[]){tb->del, tb->hot_upd, tb->ins, tb->upd}, 4);
		static const char *const states[] = {"dead", "live"};
		emit_by(st, ts, res, sc, "postgresql.rows", "The number of rows in the database.", "1", INFRA_SUM, true,
			start, "state", states, (double[]){tb->dead, tb->live}, 2);
		static const char *const srcs[] = {"heap_hit", "heap_read", "idx_hit", "idx_read"};
		emit_by(st, ts, res, sc, "postgresql.blocks_read", "The number of blocks read.", "1", INFRA_COUNTER, true,
			start, "source", srcs, (double[]){tb->heap_hit, tb->heap_read, tb->idx_hit, tb->idx_read}, 4);
		C("postgresql.sequential_scans", "The number of sequential scans.", "{sequential_scan}", tb->seq_scans);
		U("postgresql.table.size", "Disk space used by a table.", "By", tb->size);
		C("postgresql.table.vacuum.count", "Number of times a table has manually been vacuumed.", "{vacuum}",
		  tb->vacuums);
		tb->busy_ns = tb->wait_ns = tb->write_busy_ns = 0;
	}
}

static void mysql_scrape(struct fd_stores *st, struct db *d, int64_t ts, double secs)
{
	const struct fd_blob *res = d->res_db, *sc = st->scope_mysql;
	int64_t start = d->stats_reset;
	int conns = backends(st, d, ts);
	double running = d->busy_ns / (secs * 1e9);
	static const char *const kinds[] = {"connected", "running", "cached", "created"};
	emit_by(st, ts, res, sc, "mysql.threads", "The state of MySQL threads.", "1", INFRA_SUM, true, start, "kind",
		kinds, (double[]){conns + 2, ceil(running) + 1, 8, conns + 40}, 4);
	static const char *const rops[] = {"deleted", "inserted", "read", "updated"};
	emit_by(st, ts, res, sc, "mysql.row_operations", "The number of InnoDB row operations.", "1", INFRA_COUNTER,
		true, start, "operation", rops,
		(double[]){d->tup_deleted, d->tup_inserted, d->tup_returned, d->tup_updated}, 4);
	static const char *const rl[] = {"waits", "time"};
	emit_by(st, ts, res, sc, "mysql.row_locks", "The number of InnoDB row locks.", "1", INFRA_COUNTER, true, start,
		"kind", rl, (double[]){d->lock_waits, d->lock_wait_ms}, 2);
	static const char *const lk[] = {"immediate", "waited"};
	emit_by(st, ts, res, sc, "mysql.locks", "The number of MySQL locks.", "1", INFRA_COUNTER, true, start, "kind",
		lk, (double[]){d->commits + d->rollbacks, d->lock_waits}, 2);
	static const char *const bp[] = {"read_requests", "reads"};
	emit_by(st, ts, res, sc, "mysql.buffer_pool.operations", "The number of operations on the InnoDB buffer pool.",
		"1", INFRA_COUNTER, true, start, "operation", bp, (double[]){d->blks_hit + d->blks_read, d->blks_read}, 2);
	static const char *const hk[] = {"commit", "rollback", "read_key", "read_rnd_next", "write"};
	emit_by(st, ts, res, sc, "mysql.handlers", "The number of requests to various MySQL handlers.", "1",
		INFRA_COUNTER, true, start, "kind", hk,
		(double[]){d->commits, d->rollbacks, d->tup_fetched, fmax(0, d->tup_returned - d->tup_fetched),
			   d->tup_inserted}, 5);
	C("mysql.query.count", "The number of statements executed by the server.", "1", d->queries);
	C("mysql.query.slow.count", "The number of slow queries.", "1", d->slow);
}

static void redis_scrape(struct fd_stores *st, struct kv *k, int64_t ts, double secs)
{
	const struct fd_blob *res = k->res, *sc = st->scope_redis;
	int64_t start = k->started;
	bool storm = ts >= k->storm_from && ts < k->storm_to;
	/* keys expire all the time; a storm evicts at maxmemory */
	double expire = secs * (0.5 + 2 * fd_rng_uniform(&st->rng));
	k->expired += floor(expire);
	if (storm) {
		double ev = secs * k->max_keys * (0.002 + 0.002 * fd_rng_uniform(&st->rng));
		k->evicted += floor(ev);
		k->keys = fmax(0, k->keys - ev * 0.5);
	}
	int clients = 0;
	for (int c = 0; c < st->n_clients; c++)
		clients += k->client_at[c] > ts - 120 * D_NS ? 8 : 0;
	double used = 4e6 + k->keys * 1400 * (storm ? 1.0 : 1.0);
	double maxmem = k->max_keys * 1400 + 4e6;
	if (storm)
		used = maxmem * (0.985 + 0.01 * fd_rng_uniform(&st->rng));
	if (used > k->mem_peak)
		k->mem_peak = used;
	k->cpu_sys += secs * (0.01 + k->cmds_interval / secs * 2e-6);
	k->cpu_user += secs * (0.02 + k->cmds_interval / secs * 5e-6);
	C("redis.uptime", "Number of seconds since Redis server start", "s", (double)(ts - k->started) / 1e9);
	static const char *const states[] = {"sys", "user"};
	emit_by(st, ts, res, sc, "redis.cpu.time", "System CPU consumed by the Redis server in seconds since server start",
		"s", INFRA_COUNTER, false, start, "state", states, (double[]){k->cpu_sys, k->cpu_user}, 2);
	U("redis.clients.connected", "Number of client connections (excluding connections from replicas)", "{clients}",
	  clients + 1);
	U("redis.clients.blocked", "Number of clients pending on a blocking call", "{clients}", 0);
	G("redis.memory.used", "Total number of bytes allocated by Redis using its allocator", "By", used);
	G("redis.memory.peak", "Peak memory consumed by Redis (in bytes)", "By", k->mem_peak);
	G("redis.memory.rss", "Number of bytes that Redis allocated as seen by the operating system", "By",
	  used * 1.12);
	emit(st, ts, res, sc, "redis.memory.fragmentation_ratio", "Ratio between used_memory_rss and used_memory",
	     "{ratio}", INFRA_GAUGE, false, 1.12, 0, NULL, 0);
	C("redis.keys.evicted", "Number of evicted keys due to maxmemory limit", "{keys}", k->evicted);
	C("redis.keys.expired", "Total number of key expiration events", "{events}", k->expired);
	G("redis.commands", "Number of commands processed per second", "{ops}/s", k->cmds_interval / secs);
	C("redis.commands.processed", "Total number of commands processed by the server", "{commands}", k->cmds);
	C("redis.keyspace.hits", "Number of successful lookup of keys in the main dictionary", "{hits}", k->hits);
	C("redis.keyspace.misses", "Number of failed lookup of keys in the main dictionary", "{misses}", k->misses);
	C("redis.net.input", "The total number of bytes read from the network", "By", k->net_in);
	C("redis.net.output", "The total number of bytes written to the network", "By", k->net_out);
	C("redis.connections.received", "Total number of connections accepted by the server", "{connections}", k->conns);
	struct infra_attr db = {.k = "db", .v = "0"};
	emit(st, ts, res, sc, "redis.db.keys", "Number of keyspace keys", "{keys}", INFRA_GAUGE, true, k->keys, 0, &db, 1);
	emit(st, ts, res, sc, "redis.db.expires", "Number of keyspace keys with an expiration", "{keys}", INFRA_GAUGE,
	     true, k->keys * 0.93, 0, &db, 1);
	k->cmds_interval = 0;
}

/* The brokers' metrics: one record per name, with a point per topic,
 * partition and consumer group, as the kafkametrics receiver emits them. */
enum { K_PARTS, K_CUR, K_OLD, K_REP, K_ISR, K_OFF, K_LAG, K_OFFSUM, K_LAGSUM, K_MEMBERS, K_N };

static void kafka_scrape(struct fd_stores *st, int64_t ts)
{
	static const struct {
		const char *name, *desc, *unit;
		enum infra_mtype type;
	} m[K_N] = {
		[K_PARTS] = {"kafka.topic.partitions", "Number of partitions in topic.", "{partitions}", INFRA_SUM},
		[K_CUR] = {"kafka.partition.current_offset", "Current offset of partition of topic.", "1", INFRA_GAUGE},
		[K_OLD] = {"kafka.partition.oldest_offset", "Oldest offset of partition of topic", "1", INFRA_GAUGE},
		[K_REP] = {"kafka.partition.replicas", "Number of replicas for partition of topic", "{replicas}", INFRA_SUM},
		[K_ISR] = {"kafka.partition.replicas_in_sync", "Number of synchronized replicas of partition",
			   "{replicas}", INFRA_SUM},
		[K_OFF] = {"kafka.consumer_group.offset", "Current offset of the consumer group at partition of topic", "1",
			   INFRA_GAUGE},
		[K_LAG] = {"kafka.consumer_group.lag", "Current approximate lag of consumer group at partition of topic", "1",
			   INFRA_GAUGE},
		[K_OFFSUM] = {"kafka.consumer_group.offset_sum", "Sum of consumer group offset across partitions of topic",
			      "1", INFRA_GAUGE},
		[K_LAGSUM] = {"kafka.consumer_group.lag_sum",
			      "Current approximate sum of consumer group lag across all partitions of topic", "1",
			      INFRA_GAUGE},
		[K_MEMBERS] = {"kafka.consumer_group.members", "Count of members in the consumer group", "{members}",
			       INFRA_SUM},
	};
	size_t total = 0, topics = 0;
	for (size_t i = 0; i < st->sc->n_queues; i++)
		if (st->topics[i].kafka) {
			total += st->sc->queues[i].partitions > 0 ? (size_t)st->sc->queues[i].partitions : 1;
			topics++;
		}
	if (!topics)
		return;
	struct infra_attr *attrs = calloc(total * 3 + topics * 2, sizeof(*attrs));
	struct infra_point *pts[K_N];
	size_t n[K_N] = {0};
	bool ok = attrs != NULL;
	for (int k = 0; k < K_N; k++)
		ok = (pts[k] = calloc(total, sizeof(struct infra_point))) != NULL && ok;
	if (!ok) {
		st->oom = true;
		goto out;
	}
	size_t na = 0;
	for (size_t i = 0; i < st->sc->n_queues; i++) {
		struct topic *tp = &st->topics[i];
		if (!tp->kafka)
			continue;
		const struct fd_queue *q = tp->def;
		size_t np = q->partitions > 0 ? (size_t)q->partitions : 1;
		const char *group = q->consumer ? q->consumer->name : NULL;
		struct infra_attr *ta = &attrs[na];
		ta[0] = (struct infra_attr){.k = "group", .v = group ? group : ""};
		ta[1] = (struct infra_attr){.k = "topic", .v = q->name};
		na += 2;
		pts[K_PARTS][n[K_PARTS]++] = (struct infra_point){&ta[1], 1, (double)np};
		double lag_sum = 0, off_sum = 0;
		for (size_t p = 0; p < np; p++) {
			double c = tp->base[p] + floor((double)tp->produced * tp->w[p]);
			double con = tp->base[p] + floor((double)tp->consumed * tp->w[p]);
			if (con > c)
				con = c;
			/* group, topic, partition: the partition's points use the
			 * last two */
			struct infra_attr *a = &attrs[na];
			a[0] = ta[0];
			a[1] = ta[1];
			a[2] = (struct infra_attr){.k = "partition", .i = (int64_t)p, .is_int = true};
			na += 3;
			bool moving = ts >= tp->leader_from && ts < tp->leader_to && (int)p == tp->leader_part;
			pts[K_CUR][n[K_CUR]++] = (struct infra_point){&a[1], 2, c};
			pts[K_OLD][n[K_OLD]++] = (struct infra_point){&a[1], 2, floor(tp->base[p] * 0.72)};
			pts[K_REP][n[K_REP]++] = (struct infra_point){&a[1], 2, 3};
			pts[K_ISR][n[K_ISR]++] = (struct infra_point){&a[1], 2, moving ? 2 : 3};
			if (group) {
				pts[K_OFF][n[K_OFF]++] = (struct infra_point){a, 3, con};
				pts[K_LAG][n[K_LAG]++] = (struct infra_point){a, 3, c - con};
			}
			lag_sum += c - con;
			off_sum += con;
		}
		if (group) {
			pts[K_OFFSUM][n[K_OFFSUM]++] = (struct infra_point){ta, 2, off_sum};
			pts[K_LAGSUM][n[K_LAGSUM]++] = (struct infra_point){ta, 2, lag_sum};
			pts[K_MEMBERS][n[K_MEMBERS]++] = (struct infra_point){ta, 1, tp->members};
		}
	}
	for (int k = 0; k < K_N; k++)
		emit_points(st, ts, st->res_kafka, st->scope_kafka, m[k].name, m[k].desc, m[k].unit, m[k].type, true,
			    0, pts[k], n[k]);
out:
	free(attrs);
	for (int k = 0; k < K_N; k++)
		free(pts[k]);
}

void fd_stores_scrape(struct fd_stores *st, int64_t t, int64_t interval)
{
	double secs = (double)interval / 1e9;
	bool on = st->sc->cluster.telemetry && t <= st->end;
	size_t keep = 0;
	for (size_t i = 0; i < st->n_due; i++) {
		if (st->due[i].at <= t)
			apply_due(st, st->due[i].ev, st->due[i].at);
		else
			st->due[keep++] = st->due[i];
	}
	st->n_due = keep;
	/* the receivers' own collection clocks, after the interval's end */
	int64_t db_ts = t + 2300 * D_MS + (int64_t)(fd_rng_uniform(&st->rng) * 500 * D_MS);
	for (size_t i = 0; i < st->sc->n_databases; i++) {
		struct db *d = &st->dbs[i];
		if (on && d->pg)
			pg_scrape(st, d, db_ts, secs);
		else if (on && d->mysql)
			mysql_scrape(st, d, db_ts, secs);
		d->busy_ns = d->wait_ns = 0;
		for (size_t tb = 0; tb < d->n_tables; tb++)
			d->tables[tb].busy_ns = d->tables[tb].wait_ns = d->tables[tb].write_busy_ns = 0;
	}
	int64_t kv_ts = t + 3100 * D_MS + (int64_t)(fd_rng_uniform(&st->rng) * 300 * D_MS);
	for (size_t i = 0; i < st->sc->n_caches; i++) {
		if (on && st->kvs[i].redis)
			redis_scrape(st, &st->kvs[i], kv_ts, secs);
		st->kvs[i].cmds_interval = 0;
	}
	int64_t k_ts = t + 5200 * D_MS + (int64_t)(fd_rng_uniform(&st->rng) * 600 * D_MS);
	if (on)
		kafka_scrape(st, k_ts);
}
