/*
 * Kafka message keys for the kafka:// sink's partition= option, the way
 * the collector's Kafka exporter keys (partition_key.go). Internal to
 * sinks/.
 *
 *   FD_KAFKA_KEY_TRACE_ID: spans are keyed by their trace id (16 bytes;
 *     the sink writes it as 32 hex digits). A span without one gets none.
 *   FD_KAFKA_KEY_RESOURCE: metrics and logs are keyed by a hash of their
 *     resource's attributes sorted by key: fd_hash64 of the sorted
 *     "key\0value\0" pairs (values as fd_otlp_attr_text renders them), 8
 *     bytes. The same resource always gets the same key and partition;
 *     the key is not byte-equal to the collector's (pdatautil.MapHash).
 */
#ifndef FD_SINK_KAFKA_KEYS_H
#define FD_SINK_KAFKA_KEYS_H

#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

enum { FD_KAFKA_KEY_TRACE_ID = 1, FD_KAFKA_KEY_RESOURCE = 2 };

struct fd_kafka_keys;

/* which: FD_KAFKA_KEY_* bits. NULL when out of memory. */
struct fd_kafka_keys *fd_kafka_keys_create(unsigned which);
void fd_kafka_keys_destroy(struct fd_kafka_keys *k); /* accepts NULL */

/* rec's key into key (*keylen 0: none). A resource's key is computed once
 * per interned resource. FD_EINPUT for a resource that does not decode. */
int fd_kafka_keys_of(struct fd_kafka_keys *k, const struct fd_record *rec, uint8_t key[16],
		     uint8_t *keylen, struct fd_error *err);

#endif
