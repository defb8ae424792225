#include "sinks/kafka_embedded.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka_mock.h>

#include "kafka/conf.h"
#include "sinks/sink.h"

#define MAX_TOPICS 8

struct fd_kafka_embedded {
	rd_kafka_t *rk; /* the handle the mock cluster lives on; never connects */
	rd_kafka_mock_cluster_t *mock;
	char *bootstrap;
	char *topics[MAX_TOPICS];
	int n_topics, partitions;
	fd_kafka_notice_fn notice;
	void *notice_ctx;
};

#define notice(e, ...) fd_sink_notice((e)->notice, (e)->notice_ctx, __VA_ARGS__)

int fd_kafka_embedded_start(const char *const *topics, int n, int partitions,
			    fd_kafka_notice_fn notice_fn, void *notice_ctx,
			    struct fd_kafka_embedded **out, struct fd_error *err)
{
	*out = NULL;
	if (n > MAX_TOPICS)
		return fd_error_set(err, FD_ERUNTIME, "embedded broker: at most %d topics", MAX_TOPICS);
	struct fd_kafka_embedded *e = calloc(1, sizeof(*e));
	rd_kafka_conf_t *conf = e ? fd_kafka_conf_new(NULL) : NULL;
	if (!conf) {
		free(e);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	e->partitions = partitions;
	e->notice = notice_fn;
	e->notice_ctx = notice_ctx;
	char errstr[512];
	int rc = 0;
	/* rd_kafka_new owns conf only when it succeeds */
	if (!(e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		rd_kafka_conf_destroy(conf);
		rc = fd_error_set(err, FD_ERUNTIME, "embedded broker: %s", errstr);
	} else if (!(e->mock = rd_kafka_mock_cluster_new(e->rk, 1))) {
		rc = fd_error_set(err, FD_ERUNTIME, "embedded broker: cannot start the mock cluster");
	} else if (!(e->bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(e->mock)))) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	for (int i = 0; i < n && rc == 0; i++) {
		if (!(e->topics[i] = strdup(topics[i]))) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			break;
		}
		e->n_topics++;
		rd_kafka_resp_err_t r = rd_kafka_mock_topic_create(e->mock, topics[i], partitions, 1);
		if (r)
			rc = fd_error_set(err, FD_ERUNTIME, "embedded broker: creating topic %s: %s",
					  topics[i], rd_kafka_err2str(r));
	}
	if (rc < 0) {
		fd_kafka_embedded_destroy(e);
		return rc;
	}
	char list[512];
	size_t off = 0;
	list[0] = '\0';
	for (int i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", topics[i]);
	notice(e,
	       "embedded Kafka broker listening on %s (topics %s; %d partition%s each; each partition "
	       "keeps only its newest 5 MiB)",
	       e->bootstrap, list, partitions, partitions == 1 ? "" : "s");
	*out = e;
	return 0;
}

const char *fd_kafka_embedded_address(const struct fd_kafka_embedded *e)
{
	return e->bootstrap;
}

void fd_kafka_embedded_retention(struct fd_kafka_embedded *e, rd_kafka_t *rk)
{
	for (int i = 0; i < e->n_topics; i++) {
		int64_t dropped = 0, total = 0;
		int parts_hit = 0;
		for (int p = 0; p < e->partitions; p++) {
			int64_t lo = 0, hi = 0;
			if (rd_kafka_query_watermark_offsets(rk, e->topics[i], p, &lo, &hi, 5000))
				continue;
			dropped += lo;
			total += hi;
			parts_hit += lo > 0;
		}
		if (dropped == 0)
			continue;
		notice(e,
		       "embedded broker: %" PRId64 " of %" PRId64 " messages in %s are no longer "
		       "readable: each partition keeps only its newest 5 MiB and %d of %d partitions "
		       "received more; use more partitions (partitions=N) or a real broker",
		       dropped, total, e->topics[i], parts_hit, e->partitions);
	}
}

/* nanosleep is never restarted after a signal handler, whatever
 * SA_RESTART says: a signal ends the wait, and the CLI needs no hook. */
void fd_kafka_embedded_linger(struct fd_kafka_embedded *e, int64_t ns)
{
	if (ns <= 0)
		return;
	notice(e, "embedded Kafka broker stays up on %s for %.0f s (interrupt to stop)", e->bootstrap,
	       (double)ns / 1e9);
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
	if (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		notice(e, "embedded Kafka broker: linger interrupted");
}

void fd_kafka_embedded_destroy(struct fd_kafka_embedded *e)
{
	if (!e)
		return;
	if (e->mock)
		rd_kafka_mock_cluster_destroy(e->mock);
	if (e->rk)
		rd_kafka_destroy(e->rk);
	for (int i = 0; i < e->n_topics; i++)
		free(e->topics[i]);
	free(e->bootstrap);
	free(e);
}
