/*
 * Decodes a simulation's record stream back into what the consistency tests
 * compare: server spans, access logs and the last value of every
 * http.server.request.duration series, keyed the same way.
 */
#ifndef FD_TEST_COLLECT_H
#define FD_TEST_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

#define KEY_LEN 256

struct counter {
	char key[KEY_LEN];
	uint64_t n;
	int64_t last_time;   /* histogram: time of the last point */
	uint64_t buckets[16];
	int nbuckets;
};

struct counters {
	struct counter *v;
	size_t n, cap;
};

struct collect {
	uint64_t records[FD_SIGNAL_COUNT];
	int64_t last_time;
	bool out_of_order;
	uint64_t hash; /* of the whole stream, for determinism checks */
	/* server spans by "instance|route|status" with end time */
	struct {
		char key[KEY_LEN];
		int64_t end, dur;
		uint8_t trace_id[16];
	} *spans;
	size_t n_spans, cap_spans;
	uint8_t (*log_traces)[16]; /* trace ids on log lines */
	size_t n_log_traces, cap_log_traces;
	struct counters access;      /* access logs by instance|route|status */
	struct counters hist;        /* last http.server.request.duration count per series */
	uint64_t error_access_logs;  /* status >= 500 */
	uint64_t server_spans_5xx;
	int decode_errors;
	/* data points of one Metric record with the same attributes: one
	 * stream reported twice, which backends reject or silently merge */
	uint64_t duplicate_points;
	char duplicate_example[KEY_LEN];
	uint8_t (*sorted)[16]; /* span trace ids, sorted on first lookup */
	size_t n_sorted;
};

void collect_init(struct collect *c);
void collect_finish(struct collect *c);
int collect_emit(void *ctx, const struct fd_record *rec, struct fd_error *err);

/* Does some span carry this trace id? */
bool collect_has_trace(struct collect *c, const uint8_t id[16]);

struct counter *counters_get(struct counters *c, const char *key);

#endif
