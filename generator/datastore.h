/*
 * The servers behind the services' calls — databases, caches, brokers — and
 * the metrics their OpenTelemetry collector receivers report, following the
 * simulated load: every query, cache command and message the services make
 * is counted on the server too, so a slow query shows up server-side (rows
 * examined, blocks read, lock waits) as well as in the client's spans.
 *
 *   PostgreSQL  postgresql receiver: backends, commits, rollbacks, deadlocks,
 *               locks, blocks, rows and row operations per table, tuples,
 *               sequential and index scans, checkpoints, database size
 *   MySQL       mysql receiver: threads, handlers, row operations, row locks,
 *               table locks, buffer pool, commands, slow queries
 *   Redis       redis receiver: keyspace hits and misses, evicted and expired
 *               keys, memory, clients, commands processed
 *   Kafka       kafkametrics receiver: partition offsets, consumer group
 *               offsets and lag, members, replicas in sync
 * Other systems (mongodb, memcached, rabbitmq...) have no server metrics.
 * docs/infrastructure.md lists every name with its unit and attributes.
 *
 * The triggers below the application act here too: db_failover (counters
 * start again on the new primary, a cold buffer cache, backends reconnect),
 * autovacuum, checkpoint, lock_holder and lock_contention (lock waits,
 * deadlocks), partition_leader_change (a partition's replicas out of sync),
 * cache_eviction_storm and cache_flush (evictions, keys, memory).
 *
 * Records go out through out->push (only that member of fd_kube_out is
 * used), stamped at or after the time of the call that makes them. Its own
 * random stream: the services' draws do not depend on it.
 */
#ifndef FD_DATASTORE_H
#define FD_DATASTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/intern.h"
#include "generator/cluster.h"
#include "generator/scenario.h"

struct fd_stores;

int fd_stores_create(const struct fd_scenario *sc, uint64_t seed, int64_t start, int64_t end,
		     struct fd_intern *blobs, const struct fd_kube_out *out, struct fd_stores **sp,
		     struct fd_error *err);
void fd_stores_destroy(struct fd_stores *st);

/* A query of instance idx of service svc ran on its database and ended at
 * end after lat_ns, of which base_ns is what it takes without the
 * timeline's effects (the rest is lock waits, a cold cache, a missing
 * index...); failed: it was rolled back. pool: the client's pool size. */
void fd_stores_query(struct fd_stores *st, const struct fd_query *q, int svc, int idx, int pool,
		     int64_t end, int64_t base_ns, int64_t lat_ns, bool failed);
/* A cache command (GET with hit or miss, SET, DEL) at t. */
void fd_stores_cache(struct fd_stores *st, const struct fd_cache *c, int svc, int idx,
		     enum fd_cache_op op, bool hit, int64_t t);
/* A queue's totals so far and its consumer group's members; call for every
 * queue before fd_stores_scrape. */
void fd_stores_queue(struct fd_stores *st, const struct fd_queue *q, uint64_t produced,
		     uint64_t consumed, int members);
/* A timeline event at t (the kinds below the application, lock_contention,
 * cache_flush, index_dropped; others are ignored). */
void fd_stores_event(struct fd_stores *st, const struct fd_event *ev, int64_t t);
/* A mitigation undid ev (fully) from t: the lock it held is released, the
 * cold cache, checkpoint, leader move or eviction storm is over. */
void fd_stores_undo(struct fd_stores *st, const struct fd_event *ev, int64_t t);
/* The servers' metrics of the interval ending at t. */
void fd_stores_scrape(struct fd_stores *st, int64_t t, int64_t interval);

#endif
