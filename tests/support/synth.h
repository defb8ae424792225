/*
 * Synthetic telemetry for tests and benchmarks: a deterministic stream of
 * records with real OTLP protobuf payloads (spans, metrics, log records),
 * K services x a few instances as resources, one instrumentation scope.
 *
 * The same options give the same records, byte for byte, on every machine:
 * tests regenerate a stream instead of keeping it, and bench/fdr-synth writes
 * recordings of any size from it.
 */
#ifndef FD_TEST_SYNTH_H
#define FD_TEST_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "firedrill/v1/firedrill.pb-c.h"
#include "stream/record.h"
#include "recording/writer.h"

#define FD_SYNTH_DEFAULT_START 1768482000000000000LL /* 2026-01-15T13:00:00Z */

struct fd_synth_options {
	uint64_t seed;
	unsigned services;  /* K; 0 = 3 */
	unsigned instances; /* per service; 0 = 2 */
	int64_t start_ns;   /* first record time; 0 = FD_SYNTH_DEFAULT_START */
	int64_t step_ns;    /* mean gap between records; 0 = 1 ms */
};

struct fd_synth;

/* NULL when out of memory. opts may be NULL (all defaults, seed 0). */
struct fd_synth *fd_synth_create(const struct fd_synth_options *opts);
void fd_synth_destroy(struct fd_synth *s);

/* The next record, in non-decreasing time order (about 1 gap in 20 is zero,
 * so equal times occur). rec->payload is valid until the next call;
 * rec->resource and rec->scope until destroy. Returns 0, or -1 when out of
 * memory. */
int fd_synth_next(struct fd_synth *s, struct fd_record *rec);

/* Distinct resources (services x instances) and scopes (1). */
unsigned fd_synth_resource_count(const struct fd_synth *s);
const struct fd_blob *fd_synth_resource(const struct fd_synth *s, unsigned i);
const struct fd_blob *fd_synth_scope(const struct fd_synth *s);

/* Spans generated so far with status ERROR. */
uint64_t fd_synth_error_spans(const struct fd_synth *s);

/* The recording header fdr-synth writes: source_kind and scenario_name
 * "synthetic", the seed, the declared time range, a short answer key.
 * Everything points into *h, which must stay in place while used. */
struct fd_synth_header {
	Firedrill__V1__RecordingHeader header;
	Firedrill__V1__AnswerKey key;
	Firedrill__V1__Property props[1], *props_p[1];
	Firedrill__V1__Figure figure, *figure_p[1];
	char *investigation[3];
	char *evidence[2];
	char title[96], prompt[160], services[48];
};

void fd_synth_header_init(struct fd_synth_header *h, const struct fd_synth_options *opts,
			  uint64_t n);

struct fd_synth_result {
	uint64_t records[FD_SIGNAL_COUNT];
	uint64_t payload_bytes[FD_SIGNAL_COUNT];
	int64_t first_time, last_time; /* valid when n > 0 */
	uint64_t error_spans;
};

/* Writes a whole recording of n records: the header above, the records, and
 * a measured figure (the span error ratio). wopts may be NULL. On failure no
 * file is left at path. */
int fd_synth_write_recording(const char *path, uint64_t n, const struct fd_synth_options *opts,
			     const struct fd_recording_writer_options *wopts,
			     struct fd_synth_result *res, struct fd_error *err);

#endif
