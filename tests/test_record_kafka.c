/* sources/source_kafka: a recording replayed into librdkafka's mock cluster
 * (both encodings) with malformed messages produced among the requests,
 * recorded back: the same set of records, every malformed message counted
 * with its topic/partition@offset, the header naming brokers, topics and
 * the offset range read from each partition; a consumer group; --start end
 * and a --start-time after the last message read nothing; bad --topics
 * fail cleanly; each record's capture time is its message's Kafka
 * timestamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sources/capture.h"
#include "recording/reader.h"
#include "tests/support/recset.h"
#include "sinks/sink.h"
#include "sources/source.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"
#include "common/timefmt.h"

#define N_RECORDS 6000
#define PARTITIONS 4

static const char *const topics[3] = {"otlp_spans", "otlp_metrics", "otlp_logs"};

static void no_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

struct fixture {
	rd_kafka_t *rk; /* the client that owns the mock cluster */
	rd_kafka_t *producer; /* injects malformed messages */
	rd_kafka_mock_cluster_t *mc;
	char addr[256];
	char *dir, *orig;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, no_log);
	f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!f->rk)
		return -1;
	f->mc = rd_kafka_mock_cluster_new(f->rk, 1);
	if (!f->mc)
		return -1;
	snprintf(f->addr, sizeof(f->addr), "%s", rd_kafka_mock_cluster_bootstraps(f->mc));
	rd_kafka_conf_t *pc = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(pc, no_log);
	if (rd_kafka_conf_set(pc, "bootstrap.servers", f->addr, errstr, sizeof(errstr)))
		return -1;
	f->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof(errstr));
	if (!f->producer)
		return -1;
	for (int i = 0; i < 3; i++)
		if (rd_kafka_mock_topic_create(f->mc, topics[i], PARTITIONS, 1))
			return -1;
	f->dir = tu_mkdtemp();
	f->orig = tu_path(f->dir, "orig.fdr");
	struct fd_synth_options so = {.seed = 3, .services = 3, .step_ns = 5000000};
	struct fd_synth_result res;
	struct fd_error err = {0};
	if (fd_synth_write_recording(f->orig, N_RECORDS, &so, NULL, &res, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	rd_kafka_destroy(f->producer);
	rd_kafka_mock_cluster_destroy(f->mc);
	rd_kafka_destroy(f->rk);
	free(f->dir);
	free(f->orig);
	free(f);
	return 0;
}

/* Fresh topics for each test: the mock cluster has no topic deletion, so
 * each test uses its own names (prefix_otlp_spans...). */
static void make_topics(struct fixture *f, const char *prefix, char names[3][64])
{
	for (int i = 0; i < 3; i++) {
		snprintf(names[i], 64, "%s_%s", prefix, topics[i]);
		assert_int_equal(rd_kafka_mock_topic_create(f->mc, names[i], PARTITIONS, 1), 0);
	}
}

static void replay_into(const char *fdr, const char *uri)
{
	assert_int_equal(recset_replay(fdr, uri), 0);
}

static void produce(struct fixture *f, const char *topic, int32_t partition, const void *v,
		    size_t len)
{
	rd_kafka_resp_err_t e = rd_kafka_producev(
		f->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)v, len),
		RD_KAFKA_V_END);
	assert_int_equal(e, 0);
	assert_int_equal(rd_kafka_flush(f->producer, 10000), 0);
}

struct seen {
	char text[16][300];
	size_t n;
};

static void on_malformed(void *ctx, const char *where, const char *why)
{
	struct seen *s = ctx;
	if (s->n < 16)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s: %s", where, why);
}

static bool any_contains(const struct seen *s, const char *needle)
{
	for (size_t i = 0; i < s->n; i++)
		if (strstr(s->text[i], needle))
			return true;
	return false;
}

/* query: the source URI's options, k=v&k=v */
static int record(struct fixture *f, const char *query, const char *out,
		  struct fd_capture_options *o, struct fd_capture_stats *st, struct fd_error *err)
{
	char uri[1024];
	snprintf(uri, sizeof(uri), "kafka://%s?%s", f->addr, query);
	struct fd_source *src;
	int rc = fd_source_open(uri, NULL, &src, err);
	if (rc < 0)
		return rc;
	rc = fd_capture_run(src, out, o, st, err);
	fd_source_destroy(src);
	return rc;
}

static void roundtrip(void **state, const char *format, const char *prefix)
{
	struct fixture *f = *state;
	char names[3][64], uri[1024], topics_opt[256];
	make_topics(f, prefix, names);
	snprintf(uri, sizeof(uri),
		 "kafka://%s?format=%s&topic_traces=%s&topic_metrics=%s&topic_logs=%s&batch_records=97",
		 f->addr, format, names[0], names[1], names[2]);
	/* malformed messages before, among and after the requests */
	static const char json_metrics[] = "{\"resourceMetrics\":[]}";
	produce(f, names[0], 2, "garbage that is no request", 26);
	replay_into(f->orig, uri);
	produce(f, names[1], 1, "\x0a\x7f\x0a", 3);                         /* cut short */
	produce(f, names[0], 3, json_metrics, sizeof(json_metrics) - 1);    /* wrong signal */
	static const char bad_time[] =
		"{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":[]}]}]}]}";
	produce(f, names[2], 0, bad_time, sizeof(bad_time) - 1);
	produce(f, names[2], 3, NULL, 0);                                   /* no value */
	snprintf(topics_opt, sizeof(topics_opt), "topics=traces=%s,metrics=%s,logs=%s", names[0],
		 names[1], names[2]);

	char *out = tu_path(f->dir, prefix);
	struct seen seen = {0};
	struct fd_capture_options o = {.window_ns = 2000000000LL, .idle_ns = 3000000000LL,
				       .malformed = on_malformed, .ctx = &seen};
	struct fd_capture_stats st;
	struct fd_error err = {0};
	if (record(f, topics_opt, out, &o, &st, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < seen.n; i++)
		fprintf(stderr, "  malformed: %s\n", seen.text[i]);
	assert_int_equal(st.end, FD_CAPTURE_IDLE);
	assert_int_equal(st.malformed, 5);
	char where[128];
	snprintf(where, sizeof(where), "%s/2@0: ", names[0]);
	assert_true(any_contains(&seen, where));
	assert_true(any_contains(&seen, "a metrics request where traces were expected"));
	assert_true(any_contains(&seen, "timeUnixNano: expected an integer"));
	assert_true(any_contains(&seen, "empty message"));
	assert_int_equal(st.records[0] + st.records[1] + st.records[2], N_RECORDS);
	assert_int_equal(st.late, 0);

	struct recset a, b;
	assert_int_equal(recset_load(f->orig, !strcmp(format, "otlp_json"), &a), 0);
	assert_int_equal(recset_load(out, !strcmp(format, "otlp_json"), &b), 0);
	assert_int_equal(recset_compare(&a, &b), 0);
	recset_free(&a);
	recset_free(&b);

	/* the header: brokers, topics and signals, offsets per partition */
	struct fd_recording_reader *r;
	assert_int_equal(fd_recording_reader_open(out, &r, &err), 0);
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	assert_string_equal(h->source_kind, "kafka");
	assert_non_null(h->source);
	assert_int_equal(h->source->n_brokers, 1);
	assert_string_equal(h->source->brokers[0], f->addr);
	assert_int_equal(h->source->n_topics, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(h->source->topics[i]->topic, names[i]);
		assert_int_equal(h->source->topics[i]->signal, i);
	}
	assert_string_equal(h->source->start, "beginning");
	assert_int_equal(h->source->malformed, 5);
	assert_int_equal(h->source->n_partitions, 3 * PARTITIONS);
	uint64_t msgs = 0;
	for (size_t i = 0; i < h->source->n_partitions; i++) {
		const Firedrill__V1__PartitionRange *p = h->source->partitions[i];
		msgs += p->messages;
		if (p->messages) {
			/* everything was read from offset 0, without gaps */
			assert_int_equal(p->first_offset, 0);
			assert_int_equal(p->last_offset, (int64_t)p->messages - 1);
		}
	}
	assert_int_equal(msgs, st.messages);
	assert_int_equal(h->source->messages, st.messages);
	fd_recording_reader_destroy(r);
	free(out);
}

static void test_roundtrip_proto(void **state)
{
	roundtrip(state, "otlp_proto", "p");
}

static void test_roundtrip_json(void **state)
{
	roundtrip(state, "otlp_json", "j");
}

/* A consumer group gets the partitions from the broker's coordinator. */
static void test_group(void **state)
{
	struct fixture *f = *state;
	char names[3][64], uri[1024], topics_opt[256];
	make_topics(f, "g", names);
	snprintf(uri, sizeof(uri), "kafka://%s?topic_traces=%s&topic_metrics=%s&topic_logs=%s",
		 f->addr, names[0], names[1], names[2]);
	replay_into(f->orig, uri);
	snprintf(topics_opt, sizeof(topics_opt), "topics=traces=%s,metrics=%s,logs=%s&group=firedrill-test",
		 names[0], names[1], names[2]);
	char *out = tu_path(f->dir, "group.fdr");
	struct fd_capture_options o = {.window_ns = 2000000000LL, .idle_ns = 6000000000LL};
	struct fd_capture_stats st;
	struct fd_error err = {0};
	if (record(f, topics_opt, out, &o, &st, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.records[0] + st.records[1] + st.records[2], N_RECORDS);
	struct recset a, b;
	assert_int_equal(recset_load(f->orig, false, &a), 0);
	assert_int_equal(recset_load(out, false, &b), 0);
	assert_int_equal(recset_compare(&a, &b), 0);
	recset_free(&a);
	recset_free(&b);
	struct fd_recording_reader *r;
	assert_int_equal(fd_recording_reader_open(out, &r, &err), 0);
	const Firedrill__V1__RecordSource *src = fd_recording_reader_header(r)->source;
	assert_string_equal(src->group, "firedrill-test");
	assert_int_equal(src->n_partitions, 3 * PARTITIONS);
	uint64_t msgs = 0;
	for (size_t i = 0; i < src->n_partitions; i++)
		msgs += src->partitions[i]->messages;
	assert_int_equal(msgs, st.messages);
	fd_recording_reader_destroy(r);
	free(out);
}

/* Starting at the end, or at a time after every message: nothing is read
 * of what is already there, and the recording is valid and empty. */
static void test_start_end_and_time(void **state)
{
	struct fixture *f = *state;
	char names[3][64], uri[1024], topics_opt[256];
	make_topics(f, "e", names);
	snprintf(uri, sizeof(uri), "kafka://%s?topic_traces=%s&topic_metrics=%s&topic_logs=%s",
		 f->addr, names[0], names[1], names[2]);
	replay_into(f->orig, uri);
	snprintf(topics_opt, sizeof(topics_opt), "traces=%s,metrics=%s,logs=%s", names[0], names[1],
		 names[2]);
	for (int i = 0; i < 2; i++) {
		char *out = tu_path(f->dir, i ? "time.fdr" : "end.fdr");
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		/* an hour from now: no message is that late */
		char query[512], when[64];
		fd_format_time(when, sizeof(when), ((int64_t)now.tv_sec + 3600) * 1000000000);
		snprintf(query, sizeof(query), "topics=%s&%s%s", topics_opt, i ? "start_time=" : "start=end",
			 i ? when : "");
		struct fd_capture_options o = {.idle_ns = 1500000000LL};
		struct fd_capture_stats st;
		struct fd_error err = {0};
		if (record(f, query, out, &o, &st, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(st.messages, 0);
		struct fd_recording_reader *r;
		assert_int_equal(fd_recording_reader_open(out, &r, &err), 0);
		const char *start = fd_recording_reader_header(r)->source->start;
		if (i)
			assert_int_equal(strncmp(start, "20", 2), 0); /* RFC 3339 */
		else
			assert_string_equal(start, "end");
		fd_recording_reader_destroy(r);
		free(out);
	}
}

static void test_bad_topics(void **state)
{
	struct fixture *f = *state;
	char *out = tu_path(f->dir, "bad.fdr");
	struct fd_capture_options o = {.idle_ns = 1000000000LL};
	struct fd_capture_stats st;
	struct fd_error err = {0};
	assert_int_equal(record(f, "topics=spans_topic", out, &o, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "traces=spans_topic"));
	assert_int_equal(record(f, "topics=otlp_spnas", out, &o, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "did you mean 'otlp_spans'"));
	assert_int_equal(record(f, "topics=traces=a,logs=a", out, &o, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "given twice"));
	assert_int_equal(record(f, "topics=events=x", out, &o, &st, &err), -FD_EINPUT);
	/* options in the URI follow the rules of every URI */
	assert_int_equal(record(f, "topic=otlp_spans", out, &o, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "did you mean 'topics'"));
	assert_int_equal(record(f, "start=end&start_time=1h", out, &o, &st, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "one of start and start_time"));
	/* the flags are the same options: given in both, they are given twice */
	const char *flag[] = {"group=x"};
	struct fd_source_context ctx = {.options = flag, .n_options = 1};
	struct fd_source *src = NULL;
	char uri[300];
	snprintf(uri, sizeof(uri), "kafka://%s?group=y", f->addr);
	assert_int_equal(fd_source_open(uri, &ctx, &src, &err), -FD_EINPUT);
	assert_null(src);
	assert_non_null(strstr(err.msg, "option 'group' given twice"));
	assert_false(tu_exists(out));
	free(out);
}

/* Every record's capture time is the Kafka timestamp of the message it
 * came in, to the nanosecond: two requests produced with timestamps of
 * their own, recorded a while later; the file says version 1.1. */
static void test_capture_time_from_kafka(void **state)
{
	struct fixture *f = *state;
	char names[3][64], topics_opt[256];
	make_topics(f, "c", names);
	const int64_t ts[2] = {1700000000123LL, 1700000005456LL}; /* ms */
	for (int m = 0; m < 2; m++) {
		char req[600];
		int n = snprintf(req, sizeof(req),
				 "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
				 "\"service.name\",\"value\":{\"stringValue\":\"cap\"}}]},"
				 "\"scopeSpans\":[{\"spans\":["
				 "{\"traceId\":\"0102030405060708090a0b0c0d0e0f1%d\",\"spanId\":"
				 "\"010203040506070%d\",\"name\":\"a\",\"startTimeUnixNano\":\"%d\","
				 "\"endTimeUnixNano\":\"%d\"},"
				 "{\"traceId\":\"0102030405060708090a0b0c0d0e0f1%d\",\"spanId\":"
				 "\"010203040506070%d\",\"name\":\"b\",\"startTimeUnixNano\":\"%d\","
				 "\"endTimeUnixNano\":\"%d\"}]}]}]}",
				 m, 2 * m, 1000 + m, 2000 + m, m, 2 * m + 1, 1000 + m, 3000 + m);
		rd_kafka_resp_err_t e = rd_kafka_producev(
			f->producer, RD_KAFKA_V_TOPIC(names[0]), RD_KAFKA_V_PARTITION(m),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(req, (size_t)n),
			RD_KAFKA_V_TIMESTAMP(ts[m]), RD_KAFKA_V_END);
		assert_int_equal(e, 0);
	}
	assert_int_equal(rd_kafka_flush(f->producer, 10000), 0);
	snprintf(topics_opt, sizeof(topics_opt), "topics=traces=%s", names[0]);
	char *out = tu_path(f->dir, "captured.fdr");
	struct fd_capture_options o = {.idle_ns = 2000000000LL};
	struct fd_capture_stats st;
	struct fd_error err = {0};
	if (record(f, topics_opt, out, &o, &st, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(st.records[0], 4);
	struct fd_recording_reader *r;
	assert_int_equal(fd_recording_reader_open(out, &r, &err), 0);
	unsigned major, minor;
	fd_recording_reader_version(r, &major, &minor);
	assert_int_equal(minor, 1);
	struct fd_record rec;
	int seen[2] = {0};
	while (fd_recording_reader_next(r, &rec, &err) == 1) {
		int m = (int)(rec.time_ns % 1000); /* end times 2000+m, 3000+m */
		assert_true(m == 0 || m == 1);
		assert_true(rec.capture_ns == ts[m] * 1000000);
		seen[m]++;
	}
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	fd_recording_reader_destroy(r);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_proto),
		cmocka_unit_test(test_roundtrip_json),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_start_end_and_time),
		cmocka_unit_test(test_bad_topics),
		cmocka_unit_test(test_capture_time_from_kafka),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
