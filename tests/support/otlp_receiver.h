/*
 * An OTLP/HTTP receiver for tests, in process (tests/support/http_receiver.h:
 * libmicrohttpd on 127.0.0.1, scripted faults). Every request to /v1/traces,
 * /v1/metrics or /v1/logs is decoded with the schema (gunzip when
 * Content-Encoding says gzip; protobuf-c for application/x-protobuf,
 * fd_otlp_json_read then protobuf-c for application/json), and the records
 * of each accepted request are kept, canonical, in a recset (times 0).
 * A request a scripted fault refuses is not kept; rcv_answer.rejected
 * answers 200 with a partial success of that many.
 */
#ifndef FD_TEST_OTLP_RECEIVER_H
#define FD_TEST_OTLP_RECEIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/support/http_receiver.h"
#include "tests/support/recset.h"

struct rcv_stats {
	uint64_t requests;  /* every request that arrived whole */
	uint64_t accepted;  /* answered 2xx, records kept */
	uint64_t malformed; /* could not be decoded (answered 400) */
	uint64_t records[3];
	uint64_t gzip, json, proto; /* requests by Content-Encoding / Content-Type */
	size_t max_len; /* the largest request, decompressed, as sent (JSON text or protobuf) */
};

struct rcv;

/* NULL when the daemon cannot start. */
struct rcv *rcv_start(void);
unsigned rcv_port(const struct rcv *r);
/* Appends answers to the script. */
void rcv_script(struct rcv *r, const struct rcv_answer *a, int n);
void rcv_stats(struct rcv *r, struct rcv_stats *out);
/* The value of header name in the last request ("" when it had none);
 * name is one of Authorization, X-Scope-OrgID, User-Agent. */
void rcv_last_header(struct rcv *r, const char *name, char *out, size_t n);
/* The records kept so far, sorted. Call when no request is in flight. */
const struct recset *rcv_records(struct rcv *r);
void rcv_stop(struct rcv *r); /* accepts NULL */

#endif
