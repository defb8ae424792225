/*
 * Private to the servers' model: datastore.c (their state, fed by the
 * simulation's calls and the scenario's triggers) and datastore_metrics.c
 * (what the collector's receivers scrape of that state). Not for the
 * simulation, which uses generator/datastore.h.
 */
#ifndef FD_DATASTORE_INTERNAL_H
#define FD_DATASTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "generator/datastore.h"
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

/* datastore.c, for datastore_metrics.c: one metric of one or more points
 * (dropped once out of memory) */
void stores_emit_points(struct fd_stores *st, int64_t t, const struct fd_blob *res,
			const struct fd_blob *sc, const char *name, const char *desc, const char *unit,
			enum infra_mtype type, bool is_int, int64_t start, const struct infra_point *pts,
			size_t n);
void stores_emit(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
		 const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		 double v, int64_t start, const struct infra_attr *a, size_t n);
/* One metric whose points differ by one attribute (key = vals[i]: v[i]). */
#define MAX_BY 8
void stores_emit_by(struct fd_stores *st, int64_t t, const struct fd_blob *res, const struct fd_blob *sc,
		    const char *name, const char *desc, const char *unit, enum infra_mtype type, bool is_int,
		    int64_t start, const char *key, const char *const *vals, const double *v, size_t n);
/* Is the table (-1: any) of the database locked by an event at t? */
bool stores_locked(const struct db *d, int table, int64_t t);
/* What an event changes at once on a server, once the scrapes reach it. */
void stores_apply_due(struct fd_stores *st, const struct fd_event *ev, int64_t t);

#endif
