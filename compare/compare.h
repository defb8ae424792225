/*
 * What a pipeline did to the telemetry it carried: a recording of what was
 * sent (the replayed .fdr) against a recording of what came out at the other
 * end (`firedrill record` behind the pipeline).
 *
 * Records are matched by identity, which a pipeline does not change:
 *   spans    trace id + span id;
 *   logs     service.name, time, severity, trace and span id, body;
 *   metrics  service.name, service.instance.id, metric name, record time.
 * Every identity is counted with its multiplicity, so a record sent twice
 * and received once is one lost copy. A matched record whose content
 * differs is "changed", and its fields are compared one by one: resource
 * attributes ("resource.KEY"), record attributes ("attributes.KEY"), data
 * point attributes of metrics ("points.attributes.KEY") and the record's own
 * fields ("name", "status", "body", "points", ...), each dropped, rewritten
 * or added. "Reordered" counts, per service and signal, the fewest matched
 * records that arrived out of their sent time order: those outside the
 * longest run in order (equal times are in order).
 *
 * "Delay" (compare/delay.h) is each matched received record's capture
 * time (kept by `firedrill record`) minus the sent record's capture time
 * when it has one, else minus the sent record's own time.
 *
 * Memory: one entry per sent record (64 bytes plus 8 per own field, 8 per
 * matched record for the order, 8 per timed one for the delay); the
 * received recording is streamed.
 */
#ifndef FD_COMPARE_H
#define FD_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "compare/delay.h"
#include "recording/reader.h"
#include "stream/record.h"

struct fd_compare_counts {
	uint64_t sent, received;
	uint64_t matched;    /* received copies that match a sent copy */
	uint64_t lost;       /* sent copies never received */
	uint64_t duplicated; /* received copies beyond the number sent */
	uint64_t unexpected; /* received records that match nothing sent */
	uint64_t reordered;  /* fewest matched records that arrived out of order */
	uint64_t changed;    /* matched, with different content */
};

/* One field's fate over the changed records of one signal. */
struct fd_compare_field {
	char *key; /* "resource.k8s.pod.name", "attributes.http.route", "body" */
	enum fd_signal signal;
	uint64_t dropped, rewritten, added;
};

struct fd_compare_service {
	char *name; /* service.name, or "" when a resource has none */
	struct fd_compare_counts by_signal[FD_SIGNAL_COUNT];
	struct fd_compare_delay delay[FD_SIGNAL_COUNT];
};

struct fd_compare_result {
	struct fd_compare_counts total[FD_SIGNAL_COUNT];
	struct fd_compare_delay delay[FD_SIGNAL_COUNT];
	/* What the delays were measured from: how many matched records were
	 * timed against the sent capture time, how many against the sent
	 * record's own time (the sent recording has no capture times). */
	uint64_t delay_from_capture, delay_from_time;
	struct fd_compare_service *services; /* sorted by name */
	size_t n_services;
	struct fd_compare_field *fields; /* most affected first */
	size_t n_fields;
};

/* Reads both recordings to the end and fills *res (which the caller
 * finishes with fd_compare_result_finish, also after an error). Errors: a
 * reader's (FD_EINPUT for a corrupt recording, with its block), FD_ENOMEM. */
int fd_compare_run(struct fd_recording_reader *sent, struct fd_recording_reader *received,
		   struct fd_compare_result *res, struct fd_error *err);

/* True when every sent record arrived once and unchanged and nothing else
 * arrived (reordering alone is allowed). */
bool fd_compare_clean(const struct fd_compare_result *res);

void fd_compare_result_finish(struct fd_compare_result *res);

#endif
