/*
 * A stable 64-bit hash of a byte string: the intern table's buckets, replay's
 * shards and the Kafka sink's partition=resource keys. Stable across runs and
 * machines, because shard and partition assignment must not move.
 */
#ifndef FD_HASH_H
#define FD_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t fd_hash64(const void *data, size_t len);

#endif
