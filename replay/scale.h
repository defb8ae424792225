/*
 * Scale for load tests: one recording sent as N copies of the system it
 * shows, with instances that churn, so a test can say "10 M active series,
 * 5% churn an hour" from an incident of a few thousand series, as avalanche
 * does with synthetic series but with the incident's real shapes.
 *
 * Copy k of a record (k = 0 .. copies-1) keeps its payload and time; copy 0
 * is the record itself. The others differ where identity lives:
 *   - the resource's service.instance.id, k8s.pod.name and k8s.pod.uid get
 *     the suffix "-cK" (an instance of the k-th copy; the attribute
 *     service.instance.id is added when the resource has none, so that every
 *     copy is a series of its own for a metrics backend);
 *   - a span's trace id, span id, parent span id and its links' ids, and a
 *     log record's trace and span ids, are XORed with a key of copy k, so
 *     traces stay whole within a copy and never collide across copies.
 * Churn replaces instances over time: with churn P% an hour every
 * (resource, copy) lives 100/P hours, staggered by a hash of the two so that
 * P% of them are replaced each hour; generation g > 0 of an instance adds
 * "-gG" to the same attributes (a new pod, new series).
 */
#ifndef FD_REPLAY_SCALE_H
#define FD_REPLAY_SCALE_H

#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"

struct fd_scale_options {
	unsigned copies;       /* >= 1 */
	double churn_per_hour; /* instances replaced per hour, as a fraction (0.05 = 5%/h;
				* 12 = every 5 minutes); 0 = none */
};

struct fd_scale;

/* t0: the time churn counts from (the stream's first record). Errors:
 * FD_EINPUT for options out of range, FD_ERUNTIME out of memory. */
int fd_scale_create(const struct fd_scale_options *o, int64_t t0, struct fd_scale **out,
		    struct fd_error *err);

/* Copy k of rec into *out. out->payload and out->resource stay valid until
 * the next call and until fd_scale_destroy respectively. Errors:
 * FD_EINPUT for a payload or resource that does not decode as OTLP,
 * FD_ERUNTIME out of memory. */
int fd_scale_copy(struct fd_scale *s, const struct fd_record *rec, unsigned k,
		  struct fd_record *out, struct fd_error *err);

void fd_scale_destroy(struct fd_scale *s); /* accepts NULL */


#endif
