/*
 * kafka-mock: librdkafka's mock cluster as a standalone broker for the
 * benchmarks, so firedrill and kcat produce to the same broker in one run.
 * Prints the bootstrap address on stdout, then serves until SIGTERM or
 * SIGINT.
 *
 * Usage: kafka-mock [BROKERS] [PARTITIONS] [RTT_MS]
 * (default 1 broker, 12 partitions, no added delay). RTT_MS delays every
 * answer of every broker by that long, as a broker across a network would
 * (bench/kafka-memory: a broker slower than the replay reads).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	int brokers = argc > 1 ? atoi(argv[1]) : 1;
	int partitions = argc > 2 ? atoi(argv[2]) : 12;
	int rtt_ms = argc > 3 ? atoi(argv[3]) : 0;
	if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 1024 || rtt_ms < 0 ||
	    rtt_ms > 60000) {
		fprintf(stderr,
			"usage: kafka-mock [BROKERS 1..16] [PARTITIONS 1..1024] [RTT_MS 0..60000]\n");
		return 2;
	}
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* no "bootstrap.servers not configured" warning: it is the cluster */
	rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "kafka-mock: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	if (rtt_ms)
		rd_kafka_mock_broker_set_rtt(mc, -1, rtt_ms);
	static const char *const topics[] = {"otlp_spans", "otlp_metrics", "otlp_logs", "kcat_bench"};
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		rd_kafka_mock_topic_create(mc, topics[i], partitions, brokers < 3 ? brokers : 3);
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop)
		pause();
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
