/*
 * kafka://embedded: an in-process Kafka broker for the kafka:// sink
 * (librdkafka's mock cluster, rdkafka_mock.h). Internal to sinks/.
 *
 * One broker on 127.0.0.1, the topics created with `partitions` partitions
 * each. The mock keeps only the newest 5 MiB of message sets (and at most
 * 100000 of them) per partition (rdkafka_mock.c: mpart->max_size = 5 MiB,
 * max_cnt = 100000), dropping older ones: fd_kafka_embedded_retention
 * says when that happened.
 */
#ifndef FD_SINK_KAFKA_EMBEDDED_H
#define FD_SINK_KAFKA_EMBEDDED_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "common/error.h"

struct fd_kafka_embedded;

/* What the broker reports: its address, dropped messages, the linger. */
typedef void (*fd_kafka_notice_fn)(void *ctx, const char *msg);

/* Starts the broker with n topics, announced through notice (may be
 * NULL). FD_ERUNTIME when the mock cluster cannot start. */
int fd_kafka_embedded_start(const char *const *topics, int n, int partitions,
			    fd_kafka_notice_fn notice, void *notice_ctx,
			    struct fd_kafka_embedded **out, struct fd_error *err);

/* "127.0.0.1:PORT": the bootstrap address, valid until destroy. */
const char *fd_kafka_embedded_address(const struct fd_kafka_embedded *e);

/* Messages the mock already dropped (a low watermark above 0: every topic
 * started empty), per topic, with the advice that would have kept them;
 * asked through rk, a client of the broker. */
void fd_kafka_embedded_retention(struct fd_kafka_embedded *e, rd_kafka_t *rk);

/* Keeps the broker up for ns so that consumers can attach; a signal
 * (SIGINT) ends the wait early. */
void fd_kafka_embedded_linger(struct fd_kafka_embedded *e, int64_t ns);

void fd_kafka_embedded_destroy(struct fd_kafka_embedded *e); /* accepts NULL */

#endif
