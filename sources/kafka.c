/*
 * kafka://HOST:PORT[,HOST:PORT...] — a librdkafka consumer.
 *
 * Topics and signals: each topic carries one signal, as with the
 * collector's Kafka receiver (otlp_spans, otlp_metrics, otlp_logs). A
 * message of another signal on a topic is malformed, never guessed at.
 *
 * Two ways to get partitions:
 *   - no group (the default): every partition of every topic is assigned
 *     directly (rd_kafka_assign), starting at the beginning, the end, or
 *     the first offset at or after a time (rd_kafka_offsets_for_times).
 *     Nothing is committed: a capture does not disturb anybody's group.
 *   - --group NAME: subscribe as a member of the group; the broker shares
 *     partitions between members; the start applies to partitions the group
 *     has no committed offset for (auto.offset.reset), and with a start time
 *     every assigned partition is moved to that time in the rebalance
 *     callback. Offsets are committed as librdkafka does by default.
 * The offsets read are kept per partition for the recording header.
 *
 * Options (URI query, k=v&k=v; `record`'s flags --topics, --format,
 * --group, --start, --start-time and -X K=V are the same options):
 *   topics=LIST       NAME (otlp_spans, otlp_metrics, otlp_logs) or
 *                     SIGNAL=NAME, comma-separated (default: the three)
 *   format=otlp_proto|otlp_json|detect   (detect: per message)
 *   group=NAME        join consumer group NAME
 *   start=beginning|end, or start_time=T (RFC 3339, or a duration ago)
 *   X.KEY=VALUE       librdkafka consumer property KEY
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "common/uri_options.h"
#include "kafka/conf.h"
#include "common/units.h"
#include "sources/registry.h"
#include "sources/source.h"
#include "common/suggest.h"
#include "common/timefmt.h"

#define METADATA_TIMEOUT_MS 10000

enum start { FD_START_BEGINNING, FD_START_END, FD_START_TIME };
#define MAX_TOPICS 16

/* One partition: the offsets read, and for the reorder watermark the
 * latest record time it has delivered and whether it is at its end (a
 * partition with nothing more to read must not hold the others back). */
struct part {
	char *topic;
	int32_t partition;
	int64_t time;
	bool idle;
	Firedrill__V1__PartitionRange meta;
};

struct kafka_source {
	struct fd_source base; /* first: the interface casts between them */
	rd_kafka_t *rk;
	rd_kafka_message_t *msg; /* the message last handed out; freed on the next call */
	struct {
		char *name;
		enum fd_signal signal;
	} topics[MAX_TOPICS];
	size_t n_topics;
	enum fd_otlp_format format;
	int start;
	int64_t start_time_ns;
	struct part *parts;
	size_t n_parts, cap_parts;
	size_t cur; /* the partition of the message last handed out */
	struct fd_error async_err; /* a fatal error seen in a callback */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;

	Firedrill__V1__RecordSource meta;
	char *brokers_buf;
	char **brokers;
	Firedrill__V1__TopicSignal topic_meta[MAX_TOPICS], *topic_ptrs[MAX_TOPICS];
	Firedrill__V1__PartitionRange **part_ptrs;
	struct fd_kafka_props props; /* X.KEY=VALUE; kept to redact librdkafka's logs */
};

static const char *const default_topics[FD_SIGNAL_COUNT] = {"otlp_spans", "otlp_metrics",
							     "otlp_logs"};

/* What the URI and the flags ask for, before the consumer exists. */
struct options {
	const char *uri;
	char *topics, *group; /* owned; NULL: not given */
	enum fd_otlp_format format;
	enum start start;
	int64_t start_time_ns;
	bool start_given; /* start or start_time */
	struct fd_kafka_props props; /* X.KEY=VALUE */
};

/* "otlp_spans,metrics=my_metrics" -> topic/signal pairs. */
static int parse_topics(struct kafka_source *s, const char *uri, const char *list,
			struct fd_error *err)
{
	char *copy = strdup(list ? list : "otlp_spans,otlp_metrics,otlp_logs"), *save = NULL;
	if (!copy)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		enum fd_signal sig;
		const char *name = tok;
		if (eq) {
			*eq = '\0';
			name = eq + 1;
			if (fd_signal_parse(tok, &sig) < 0 || !*name) {
				rc = fd_error_set(err, FD_EINPUT,
						  "source '%s': topics: '%s=%s': expected SIGNAL=TOPIC "
						  "with SIGNAL traces, metrics or logs",
						  uri, tok, name);
				break;
			}
		} else {
			int found = -1;
			for (int i = 0; i < FD_SIGNAL_COUNT; i++)
				if (!strcmp(tok, default_topics[i]))
					found = i;
			if (found < 0) {
				const char *best = fd_suggest(tok, default_topics, FD_SIGNAL_COUNT);
				rc = fd_error_set(err, FD_EINPUT,
						  "source '%s': topics: which signal does topic '%s' "
						  "carry? Write traces=%s, metrics=%s or logs=%s%s%s%s",
						  uri, tok, tok, tok, tok, best ? " (or did you mean '" : "",
						  best ? best : "", best ? "'?)" : "");
				break;
			}
			sig = (enum fd_signal)found;
		}
		for (size_t i = 0; i < s->n_topics; i++)
			if (!strcmp(s->topics[i].name, name))
				rc = fd_error_set(err, FD_EINPUT,
						  "source '%s': topics: topic '%s' is given twice", uri,
						  name);
		if (rc == 0 && s->n_topics == MAX_TOPICS)
			rc = fd_error_set(err, FD_EINPUT, "source '%s': topics: at most %d topics", uri,
					  MAX_TOPICS);
		if (rc == 0) {
			s->topics[s->n_topics].name = strdup(name);
			s->topics[s->n_topics].signal = sig;
			if (!s->topics[s->n_topics++].name)
				rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		}
	}
	if (rc == 0 && s->n_topics == 0)
		rc = fd_error_set(err, FD_EINPUT, "source '%s': no topics", uri);
	free(copy);
	return rc;
}

static struct part *find_part(struct kafka_source *s, const char *topic, int32_t partition,
			      bool add)
{
	for (size_t i = 0; i < s->n_parts; i++)
		if (s->parts[i].partition == partition && !strcmp(s->parts[i].topic, topic))
			return &s->parts[i];
	if (!add)
		return NULL;
	if (s->n_parts == s->cap_parts) {
		size_t cap = s->cap_parts ? 2 * s->cap_parts : 32;
		struct part *v = realloc(s->parts, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->parts = v;
		s->cap_parts = cap;
	}
	struct part *p = &s->parts[s->n_parts];
	p->topic = strdup(topic);
	if (!p->topic)
		return NULL;
	p->partition = partition;
	p->time = INT64_MIN;
	p->idle = false;
	firedrill__v1__partition_range__init(&p->meta);
	p->meta.topic = p->topic;
	p->meta.partition = partition;
	p->meta.first_offset = -1;
	p->meta.last_offset = -1;
	s->n_parts++;
	return p;
}

static int signal_of(const struct kafka_source *s, const char *topic)
{
	for (size_t i = 0; i < s->n_topics; i++)
		if (!strcmp(s->topics[i].name, topic))
			return (int)s->topics[i].signal;
	return -1;
}

/* Moves every partition of the list to the start the user asked for. */
static rd_kafka_resp_err_t set_start(struct kafka_source *s, rd_kafka_topic_partition_list_t *l)
{
	if (s->start != FD_START_TIME) {
		for (int i = 0; i < l->cnt; i++)
			l->elems[i].offset = s->start == FD_START_END ? RD_KAFKA_OFFSET_END
								      : RD_KAFKA_OFFSET_BEGINNING;
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	}
	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = s->start_time_ns / 1000000; /* the query is in ms */
	rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(s->rk, l, METADATA_TIMEOUT_MS);
	if (e)
		return e;
	for (int i = 0; i < l->cnt; i++)
		/* -1: no message at or after the time: start at the end */
		if (l->elems[i].err || l->elems[i].offset < 0)
			l->elems[i].offset = RD_KAFKA_OFFSET_END;
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l,
		      void *opaque)
{
	struct kafka_source *s = opaque;
	bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (s->start == FD_START_TIME) {
			rd_kafka_resp_err_t r = set_start(s, l);
			if (r && !s->async_err.code)
				fd_error_set(&s->async_err, FD_ERUNTIME,
					     "looking up offsets for --start-time: %s", rd_kafka_err2str(r));
		}
		for (int i = 0; i < l->cnt; i++) {
			struct part *p = find_part(s, l->elems[i].topic, l->elems[i].partition, true);
			if (p)
				p->idle = false; /* ours now: the watermark waits for it */
		}
		if (cooperative)
			rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, l));
		else
			rd_kafka_assign(rk, l);
	} else {
		for (int i = 0; i < l->cnt; i++) {
			struct part *p = find_part(s, l->elems[i].topic, l->elems[i].partition, false);
			if (p)
				p->idle = true; /* another member's now */
		}
		if (cooperative)
			rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, l));
		else
			rd_kafka_assign(rk, NULL);
	}
}

/* Every partition of every topic, from the cluster's metadata, into l and
 * the partition table. */
static int list_partitions(struct kafka_source *s, const char *uri,
			   rd_kafka_topic_partition_list_t *l, struct fd_error *err)
{
	int rc = 0;
	for (size_t t = 0; t < s->n_topics && rc == 0; t++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->topics[t].name, NULL);
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e =
			rkt ? rd_kafka_metadata(s->rk, 0, rkt, &md, METADATA_TIMEOUT_MS)
			    : rd_kafka_last_error();
		if (e)
			rc = fd_error_set(err, FD_ERUNTIME, "source '%s': metadata of topic '%s': %s", uri,
					  s->topics[t].name, rd_kafka_err2str(e));
		else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
			rc = fd_error_set(err, FD_ERUNTIME, "source '%s': topic '%s': %s", uri,
					  s->topics[t].name,
					  md->topic_cnt == 1 && md->topics[0].err
						  ? rd_kafka_err2str(md->topics[0].err)
						  : "no partitions");
		else
			for (int p = 0; p < md->topics[0].partition_cnt; p++) {
				int32_t id = md->topics[0].partitions[p].id;
				rd_kafka_topic_partition_list_add(l, s->topics[t].name, id);
				if (!find_part(s, s->topics[t].name, id, true))
					rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			}
		if (md)
			rd_kafka_metadata_destroy(md);
		if (rkt)
			rd_kafka_topic_destroy(rkt);
	}
	return rc;
}

static int assign_all(struct kafka_source *s, const char *uri, struct fd_error *err)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(32);
	int rc = list_partitions(s, uri, l, err);
	if (rc == 0) {
		rd_kafka_resp_err_t e = set_start(s, l);
		if (e)
			rc = fd_error_set(err, FD_ERUNTIME, "source '%s': looking up offsets for --start-time: %s",
					  uri, rd_kafka_err2str(e));
	}
	if (rc == 0) {
		rd_kafka_resp_err_t e = rd_kafka_assign(s->rk, l);
		if (e)
			rc = fd_error_set(err, FD_ERUNTIME, "source '%s': assigning partitions: %s", uri,
					  rd_kafka_err2str(e));
	}
	rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

static int kafka_next(struct fd_source *base, struct fd_source_msg *m, int timeout_ms,
		      struct fd_error *err)
{
	struct kafka_source *s = (struct kafka_source *)base;
	if (s->msg) {
		rd_kafka_message_destroy(s->msg);
		s->msg = NULL;
	}
	if (s->async_err.code) {
		*err = s->async_err;
		return -s->async_err.code;
	}
	rd_kafka_message_t *msg = rd_kafka_consumer_poll(s->rk, timeout_ms);
	if (!msg)
		return FD_SOURCE_IDLE;
	const char *topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?";
	if (msg->err) {
		rd_kafka_resp_err_t e = msg->err;
		int32_t partition = msg->partition;
		char name[256]; /* the message holds the topic: copy before freeing it */
		snprintf(name, sizeof(name), "%s", topic);
		topic = name;
		if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF && msg->rkt) {
			struct part *p = find_part(s, topic, partition, true);
			if (p)
				p->idle = true;
		}
		rd_kafka_message_destroy(msg);
		if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			return FD_SOURCE_IDLE;
		char reason[256];
		rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(s->rk, reason, sizeof(reason));
		if (fatal)
			return fd_error_set(err, FD_ERUNTIME, "kafka: %s", reason);
		if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
			return fd_error_set(err, FD_ERUNTIME, "kafka: %s/%" PRId32 ": %s", topic, partition,
					    rd_kafka_err2str(e));
		/* transport hiccups: librdkafka retries by itself */
		return FD_SOURCE_IDLE;
	}
	s->msg = msg;
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(msg, &tt);
	m->data = msg->payload;
	m->len = msg->len;
	m->signal = signal_of(s, topic);
	m->format = s->format;
	m->time_ns = ts > 0 && ts < INT64_MAX / 1000000 ? ts * 1000000 : 0;
	/* When the message entered the topic (the producer's CreateTime or the
	 * broker's LogAppendTime): the capture time whenever `record` reads
	 * it, so a topic can be recorded after the fact. */
	m->capture_ns = m->time_ns;
	m->broken = NULL;
	snprintf(m->where, sizeof(m->where), "%s/%" PRId32 "@%" PRId64, topic, msg->partition,
		 msg->offset);
	if (!msg->payload)
		m->broken = "empty message (no value)";
	if (m->signal < 0)
		m->broken = "topic not asked for";
	struct part *p = find_part(s, topic, msg->partition, true);
	if (p) {
		p->idle = false;
		s->cur = (size_t)(p - s->parts);
		if (p->meta.first_offset < 0 || msg->offset < p->meta.first_offset)
			p->meta.first_offset = msg->offset;
		if (msg->offset > p->meta.last_offset)
			p->meta.last_offset = msg->offset;
		p->meta.messages++;
	}
	return 1;
}

static void kafka_done(struct fd_source *base, const struct fd_source_msg *m, int records,
		       int64_t max_time, bool malformed)
{
	struct kafka_source *s = (struct kafka_source *)base;
	(void)m;
	(void)malformed;
	if (s->cur < s->n_parts && records > 0 && max_time > s->parts[s->cur].time)
		s->parts[s->cur].time = max_time;
}

static int64_t kafka_watermark(struct fd_source *base)
{
	struct kafka_source *s = (struct kafka_source *)base;
	int64_t wm = INT64_MAX;
	for (size_t i = 0; i < s->n_parts; i++)
		if (!s->parts[i].idle && s->parts[i].time < wm)
			wm = s->parts[i].time;
	return wm;
}

static const Firedrill__V1__RecordSource *kafka_metadata(struct fd_source *base)
{
	struct kafka_source *s = (struct kafka_source *)base;
	Firedrill__V1__PartitionRange **v = realloc(s->part_ptrs, (s->n_parts + 1) * sizeof(*v));
	if (v) {
		s->part_ptrs = v;
		for (size_t i = 0; i < s->n_parts; i++)
			v[i] = &s->parts[i].meta;
		s->meta.partitions = v;
		s->meta.n_partitions = s->n_parts;
	}
	return &s->meta;
}

static void kafka_destroy(struct fd_source *base)
{
	struct kafka_source *s = (struct kafka_source *)base;
	if (s->msg)
		rd_kafka_message_destroy(s->msg);
	if (s->rk) {
		rd_kafka_consumer_close(s->rk);
		rd_kafka_destroy(s->rk);
	}
	for (size_t i = 0; i < s->n_topics; i++)
		free(s->topics[i].name);
	for (size_t i = 0; i < s->n_parts; i++)
		free(s->parts[i].topic);
	free(s->parts);
	free(s->part_ptrs);
	free(s->brokers_buf);
	free(s->brokers);
	free(s->meta.uri);
	free(s->meta.group);
	free(s->meta.start);
	fd_kafka_props_finish(&s->props);
	free(s);
}

static const struct fd_source_impl kafka_impl = {
	.name = "kafka",
	.next = kafka_next,
	.done = kafka_done,
	.watermark = kafka_watermark,
	.metadata = kafka_metadata,
	.destroy = kafka_destroy,
};

/* librdkafka's own log: warnings and worse become notices; the rest
 * (connection chatter at debug levels) is dropped. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)fac;
	struct kafka_source *s = rd_kafka_opaque(rk);
	if (level > 4 || !s || !s->notice)
		return;
	char msg[600];
	snprintf(msg, sizeof(msg), "kafka: %s", buf);
	fd_kafka_redact(msg, &s->props);
	s->notice(s->notice_ctx, msg);
}

static const char *const option_names[] = {"topics", "format",	   "group",
					   "start",  "start_time", "X.*", NULL};
enum { O_TOPICS, O_FORMAT, O_GROUP, O_START, O_START_TIME, O_PROP, N_OPTIONS };

static int bad_value(const char *uri, const char *key, const char *val, const char *why,
		     struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "source '%s': option '%s': '%s': %s", uri, key, val, why);
}

static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	struct options *o = ctx;
	const char *why = NULL;
	switch (idx) {
	case O_TOPICS:
		return (o->topics = strdup(val)) ? 0 : fd_error_set(err, FD_ERUNTIME, "out of memory");
	case O_FORMAT:
		if (fd_otlp_format_parse(val, &o->format) < 0)
			return bad_value(o->uri, key, val, "expected otlp_proto, otlp_json or detect", err);
		return 0;
	case O_GROUP:
		return (o->group = strdup(val)) ? 0 : fd_error_set(err, FD_ERUNTIME, "out of memory");
	case O_START:
		if (o->start_given)
			break;
		o->start_given = true;
		if (!strcmp(val, "beginning"))
			o->start = FD_START_BEGINNING;
		else if (!strcmp(val, "end"))
			o->start = FD_START_END;
		else
			return bad_value(o->uri, key, val,
					 "expected beginning or end (or start_time=TIME)", err);
		return 0;
	case O_START_TIME: {
		int64_t t, ago;
		if (o->start_given)
			break;
		o->start_given = true;
		if (fd_units_timestamp(val, &t, &why) == 0) {
			o->start_time_ns = t;
		} else if (fd_units_duration(val, &ago, &why) == 0) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			o->start_time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - ago;
		} else {
			return bad_value(o->uri, key, val,
					 "expected an RFC 3339 time (2026-01-15T13:00:00Z) or a "
					 "duration ago (10m)",
					 err);
		}
		o->start = FD_START_TIME;
		return 0;
	}
	default: /* X.KEY */
		return fd_kafka_props_add(&o->props, key + 2, val, err);
	}
	return fd_error_set(err, FD_EINPUT, "source '%s': give one of start and start_time", o->uri);
}

static void options_free(struct options *o)
{
	free(o->topics);
	free(o->group);
	fd_kafka_props_finish(&o->props);
}

static int fill_meta(struct kafka_source *s, const char *uri, const char *brokers,
		     const struct options *o, struct fd_error *err)
{
	firedrill__v1__record_source__init(&s->meta);
	s->meta.uri = strdup(uri);
	s->brokers_buf = strdup(brokers);
	s->brokers = calloc(strlen(brokers) / 2 + 2, sizeof(*s->brokers));
	s->meta.group = strdup(o->group ? o->group : "");
	char start[64] = "beginning";
	if (o->start == FD_START_END)
		snprintf(start, sizeof(start), "end");
	else if (o->start == FD_START_TIME)
		fd_format_time(start, sizeof(start), o->start_time_ns);
	s->meta.start = strdup(start);
	if (!s->meta.uri || !s->brokers_buf || !s->brokers || !s->meta.group || !s->meta.start)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	char *save = NULL;
	for (char *b = strtok_r(s->brokers_buf, ",", &save); b; b = strtok_r(NULL, ",", &save))
		s->brokers[s->meta.n_brokers++] = b;
	s->meta.brokers = s->brokers;
	for (size_t i = 0; i < s->n_topics; i++) {
		firedrill__v1__topic_signal__init(&s->topic_meta[i]);
		s->topic_meta[i].topic = s->topics[i].name;
		s->topic_meta[i].signal = (uint32_t)s->topics[i].signal;
		s->topic_ptrs[i] = &s->topic_meta[i];
	}
	s->meta.n_topics = s->n_topics;
	s->meta.topics = s->topic_ptrs;
	s->meta.format = (char *)fd_otlp_format_name(o->format);
	return 0;
}

/* The consumer for brokers, as o asks. */
static int consumer_open(const char *uri, const char *brokers, struct options *o,
			 const struct fd_source_context *ctx, struct fd_source **out,
			 struct fd_error *err)
{
	struct kafka_source *s = calloc(1, sizeof(*s));
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->base.impl = &kafka_impl;
	s->format = o->format;
	s->start = o->start;
	s->start_time_ns = o->start_time_ns;
	s->notice = ctx->notice;
	s->notice_ctx = ctx->notice_ctx;
	/* the properties move to the source, to redact librdkafka's logs */
	s->props = o->props;
	o->props = (struct fd_kafka_props){0};
	rd_kafka_conf_t *conf = NULL;
	int rc = parse_topics(s, uri, o->topics, err);
	if (rc == 0)
		rc = fill_meta(s, uri, brokers, o, err);
	if (rc == 0 && !(conf = fd_kafka_conf_new(on_log)))
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc < 0)
		goto fail;
	/* Without a group, a group.id is still set (librdkafka wants one for
	 * a consumer) but nothing is committed and no group is joined:
	 * rd_kafka_assign never talks to the coordinator. */
	rc = fd_kafka_conf_set(conf, "bootstrap.servers", brokers, err);
	if (rc == 0)
		rc = fd_kafka_conf_set(conf, "group.id", o->group ? o->group : "firedrill-record", err);
	if (rc == 0 && !o->group)
		rc = fd_kafka_conf_set(conf, "enable.auto.commit", "false", err);
	if (rc == 0)
		rc = fd_kafka_conf_set(conf, "auto.offset.reset",
			      o->start == FD_START_END ? "latest" : "earliest", err);
	if (rc == 0)
		rc = fd_kafka_conf_set(conf, "enable.partition.eof", "true", err);
	char what[600];
	snprintf(what, sizeof(what), "source '%s'", uri);
	if (rc == 0)
		rc = fd_kafka_conf_apply(conf, what, &s->props, err);
	if (rc < 0)
		goto fail;
	rd_kafka_conf_set_opaque(conf, s);
	if (o->group)
		rd_kafka_conf_set_rebalance_cb(conf, rebalance);
	if (!(s->rk = fd_kafka_new(RD_KAFKA_CONSUMER, conf, what, &s->props, err))) {
		rc = -FD_EINPUT;
		goto fail;
	}
	conf = NULL; /* owned by rk now */
	rd_kafka_poll_set_consumer(s->rk);
	if (o->group) {
		/* The partitions are listed although the group assigns them: so
		 * the topics are known to exist, and the header gets room for
		 * all of them. None counts for the watermark until assigned. */
		rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(32);
		rc = list_partitions(s, uri, all, err);
		rd_kafka_topic_partition_list_destroy(all);
		if (rc < 0)
			goto fail;
		for (size_t i = 0; i < s->n_parts; i++)
			s->parts[i].idle = true;
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->n_topics);
		for (size_t i = 0; i < s->n_topics; i++)
			rd_kafka_topic_partition_list_add(l, s->topics[i].name, RD_KAFKA_PARTITION_UA);
		rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, l);
		rd_kafka_topic_partition_list_destroy(l);
		if (e) {
			rc = fd_error_set(err, FD_ERUNTIME, "source '%s': subscribing: %s", uri,
					  rd_kafka_err2str(e));
			goto fail;
		}
	} else if ((rc = assign_all(s, uri, err)) < 0) {
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	kafka_destroy(&s->base);
	return rc;
}

static int kafka_open(const char *uri, const char *rest, const struct fd_source_context *ctx,
		      struct fd_source **out, struct fd_error *err)
{
	*out = NULL;
	const char *q = strchr(rest, '?');
	size_t bn = q ? (size_t)(q - rest) : strlen(rest);
	if (strncmp(rest, "//", 2) != 0 || bn == 2 || memchr(rest + 2, '/', bn - 2))
		return fd_error_set(err, FD_EINPUT,
				    "source '%s': expected kafka://HOST:PORT[,HOST:PORT...][?options]",
				    uri);
	struct options o = {.uri = uri, .format = FD_OTLP_DETECT, .start = FD_START_BEGINNING};
	bool seen[N_OPTIONS] = {false};
	struct fd_uri_options spec = {"source", uri, option_names, N_OPTIONS, seen, NULL, on_option, &o};
	int rc = fd_uri_options_parse(&spec, q ? q + 1 : NULL, err);
	if (rc == 0)
		rc = fd_uri_options_extra(&spec, ctx->options, ctx->n_options, err);
	if (rc == 0) {
		char what[300];
		snprintf(what, sizeof(what), "source '%s'", uri);
		rc = fd_kafka_brokers_check(what, rest + 2, bn - 2, err);
	}
	char *brokers = rc == 0 ? strndup(rest + 2, bn - 2) : NULL;
	if (rc == 0 && !brokers)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0)
		rc = consumer_open(uri, brokers, &o, ctx, out, err);
	free(brokers);
	options_free(&o);
	return rc;
}

const struct fd_source_descriptor fd_source_kafka_descriptor = {
	.scheme = "kafka",
	.synopsis = "kafka://HOST:PORT[,HOST:PORT...][?options]",
	.summary = "a Kafka consumer; without a stop option it records until Ctrl-C",
	.options = option_names,
	.help = "      topics=LIST   topics and their signals, comma-separated: otlp_spans,\n"
		"                    otlp_metrics, otlp_logs (the default three) or\n"
		"                    SIGNAL=TOPIC, e.g. traces=my_spans\n"
		"      format=F      otlp_proto, otlp_json or detect (default: per\n"
		"                    message, by its first byte)\n"
		"      group=NAME    join consumer group NAME (default: read every\n"
		"                    partition directly, commit nothing)\n"
		"      start=beginning|end   where to start (beginning)\n"
		"      start_time=T  start at the first message at or after T (RFC\n"
		"                    3339, or a duration ago such as 10m)\n"
		"      X.KEY=VALUE   librdkafka consumer property KEY\n",
	.open = kafka_open,
};
