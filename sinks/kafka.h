/*
 * kafka:// — what the replay summary and the CLI need to know about a Kafka
 * sink beyond the generic sink interface (sink.h). The sink itself is opened
 * through fd_sink_open("kafka://...") like every other; its options are
 * documented at the top of sink_kafka.c.
 */
#ifndef FD_SINK_KAFKA_H
#define FD_SINK_KAFKA_H

#include <stdint.h>

#include "sinks/sink.h"

/* Message and record accounting. messages/records/bytes count what the sink
 * handed to librdkafka (bytes: message values); delivered and failed count
 * messages by their delivery report (a message librdkafka refused outright,
 * e.g. over message.max.bytes, counts as failed). After a successful close,
 * delivered == messages; after a failed one, failed_records is the exact
 * number of records not delivered. */
struct fd_kafka_stats {
	uint64_t messages, records, bytes;
	uint64_t delivered, failed;
	uint64_t delivered_records, failed_records;
};

/* Fills *out for a kafka:// sink; all zeros for any other sink. */
void fd_sink_kafka_stats(const struct fd_sink *s, struct fd_kafka_stats *out);

/* kafka://embedded: the embedded broker's bootstrap address
 * ("127.0.0.1:PORT"), valid until the sink is destroyed (the broker runs
 * until then, also after close). NULL for any other sink. */
const char *fd_sink_kafka_embedded_address(const struct fd_sink *s);

#endif
