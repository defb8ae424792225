/*
 * The servers' metrics as the collector's receivers scrape them
 * (receiver/postgresqlreceiver, mysqlreceiver, redisreceiver,
 * kafkametricsreceiver): each scrape reads the state datastore.c keeps,
 * at the receiver's own collection time a few seconds after the interval.
 */
#include "generator/datastore_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C(name, desc, unit, v) stores_emit(st, ts, res, sc, name, desc, unit, INFRA_COUNTER, true, v, start, NULL, 0)
#define U(name, desc, unit, v) stores_emit(st, ts, res, sc, name, desc, unit, INFRA_SUM, true, v, start, NULL, 0)
#define G(name, desc, unit, v) stores_emit(st, ts, res, sc, name, desc, unit, INFRA_GAUGE, true, v, 0, NULL, 0)

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
	stores_emit_by(st, ts, res, sc, "postgresql.bgwriter.checkpoint.count", "The number of checkpoints performed.",
		"{checkpoints}", INFRA_COUNTER, true, start, "type", ckpt, (double[]){d->ckpt_req, d->ckpt_timed}, 2);
	static const char *const src[] = {"backend", "bgwriter", "checkpoints"};
	stores_emit_by(st, ts, res, sc, "postgresql.bgwriter.buffers.writes", "Number of buffers written.", "{buffers}",
		INFRA_COUNTER, true, start, "source", src, (double[]){d->buf_backend, d->buf_clean, d->buf_ckpt}, 3);
	stores_emit(st, ts, res, sc, "postgresql.bgwriter.buffers.allocated", "Number of buffers allocated.", "{buffers}",
	     INFRA_COUNTER, true, d->buf_alloc, start, NULL, 0);
	static const char *const dur[] = {"sync", "write"};
	stores_emit_by(st, ts, res, sc, "postgresql.bgwriter.duration",
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
			double v[] = {round(held - writes), round(writes + (stores_locked(d, (int)t, ts) ? 1 : 0))};
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
		stores_emit_points(st, ts, res, sc, "postgresql.database.locks", "The number of database locks.", "{lock}",
			    INFRA_GAUGE, true, 0, lp, np);
	}
	free(la);
	free(lp);
	for (size_t t = 0; t < d->n_tables; t++) {
		struct table *tb = &d->tables[t];
		res = tb->res;
		static const char *const ops[] = {"del", "hot_upd", "ins", "upd"};
		stores_emit_by(st, ts, res, sc, "postgresql.operations", "The number of db row operations.", "1",
			INFRA_COUNTER, true, start, "operation", ops, (double[]){tb->del, tb->hot_upd, tb->ins, tb->upd}, 4);
		static const char *const states[] = {"dead", "live"};
		stores_emit_by(st, ts, res, sc, "postgresql.rows", "The number of rows in the database.", "1", INFRA_SUM, true,
			start, "state", states, (double[]){tb->dead, tb->live}, 2);
		static const char *const srcs[] = {"heap_hit", "heap_read", "idx_hit", "idx_read"};
		stores_emit_by(st, ts, res, sc, "postgresql.blocks_read", "The number of blocks read.", "1", INFRA_COUNTER, true,
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
	stores_emit_by(st, ts, res, sc, "mysql.threads", "The state of MySQL threads.", "1", INFRA_SUM, true, start, "kind",
		kinds, (double[]){conns + 2, ceil(running) + 1, 8, conns + 40}, 4);
	static const char *const rops[] = {"deleted", "inserted", "read", "updated"};
	stores_emit_by(st, ts, res, sc, "mysql.row_operations", "The number of InnoDB row operations.", "1", INFRA_COUNTER,
		true, start, "operation", rops,
		(double[]){d->tup_deleted, d->tup_inserted, d->tup_returned, d->tup_updated}, 4);
	static const char *const rl[] = {"waits", "time"};
	stores_emit_by(st, ts, res, sc, "mysql.row_locks", "The number of InnoDB row locks.", "1", INFRA_COUNTER, true, start,
		"kind", rl, (double[]){d->lock_waits, d->lock_wait_ms}, 2);
	static const char *const lk[] = {"immediate", "waited"};
	stores_emit_by(st, ts, res, sc, "mysql.locks", "The number of MySQL locks.", "1", INFRA_COUNTER, true, start, "kind",
		lk, (double[]){d->commits + d->rollbacks, d->lock_waits}, 2);
	static const char *const bp[] = {"read_requests", "reads"};
	stores_emit_by(st, ts, res, sc, "mysql.buffer_pool.operations", "The number of operations on the InnoDB buffer pool.",
		"1", INFRA_COUNTER, true, start, "operation", bp, (double[]){d->blks_hit + d->blks_read, d->blks_read}, 2);
	static const char *const hk[] = {"commit", "rollback", "read_key", "read_rnd_next", "write"};
	stores_emit_by(st, ts, res, sc, "mysql.handlers", "The number of requests to various MySQL handlers.", "1",
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
	stores_emit_by(st, ts, res, sc, "redis.cpu.time", "System CPU consumed by the Redis server in seconds since server start",
		"s", INFRA_COUNTER, false, start, "state", states, (double[]){k->cpu_sys, k->cpu_user}, 2);
	U("redis.clients.connected", "Number of client connections (excluding connections from replicas)", "{clients}",
	  clients + 1);
	U("redis.clients.blocked", "Number of clients pending on a blocking call", "{clients}", 0);
	G("redis.memory.used", "Total number of bytes allocated by Redis using its allocator", "By", used);
	G("redis.memory.peak", "Peak memory consumed by Redis (in bytes)", "By", k->mem_peak);
	G("redis.memory.rss", "Number of bytes that Redis allocated as seen by the operating system", "By",
	  used * 1.12);
	stores_emit(st, ts, res, sc, "redis.memory.fragmentation_ratio", "Ratio between used_memory_rss and used_memory",
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
	stores_emit(st, ts, res, sc, "redis.db.keys", "Number of keyspace keys", "{keys}", INFRA_GAUGE, true, k->keys, 0, &db, 1);
	stores_emit(st, ts, res, sc, "redis.db.expires", "Number of keyspace keys with an expiration", "{keys}", INFRA_GAUGE,
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
		stores_emit_points(st, ts, st->res_kafka, st->scope_kafka, m[k].name, m[k].desc, m[k].unit, m[k].type, true,
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
			stores_apply_due(st, st->due[i].ev, st->due[i].at);
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
