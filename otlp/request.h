/*
 * Export requests as a sink sends them: a batch (otlp/batch.h) encoded in
 * protobuf or in OTLP/JSON, each request within a byte limit in the
 * encoding actually sent.
 *
 * The batch tracks its exact protobuf size, so a sink cuts protobuf
 * requests below its limit as records come. The JSON text of the same
 * request is two to three times larger and its size is known only once
 * written: a JSON request over the limit is split into two halves (in the
 * order records came), each encoded again and split further if needed; a
 * single record goes alone even when larger than the limit.
 */
#ifndef FD_OTLP_REQUEST_H
#define FD_OTLP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/batch.h"
#include "stream/record.h"

enum fd_otlp_encoding {
	FD_OTLP_ENCODING_PROTO,
	FD_OTLP_ENCODING_JSON,
};

struct fd_otlp_encoder;

/* NULL when out of memory. */
struct fd_otlp_encoder *fd_otlp_encoder_create(void);
void fd_otlp_encoder_destroy(struct fd_otlp_encoder *e); /* accepts NULL */

/* One request: body is malloc'd and owned by the callee from the call on
 * (it frees it, or keeps it), also when it returns an error. records:
 * how many records it carries; first_time: the oldest one's time. */
typedef int (*fd_otlp_request_fn)(void *ctx, enum fd_signal sig, uint8_t *body, size_t len,
				  size_t records, int64_t first_time, struct fd_error *err);

/* Encodes the records of b (not emptied) as one request, or, in JSON over
 * json_limit bytes, as several, calling fn for each in record order.
 * Returns 0, the first error fn returned, -FD_EINPUT when a record cannot
 * be encoded in JSON (a malformed payload), or -FD_ERUNTIME when out of
 * memory. */
int fd_otlp_encoder_emit(struct fd_otlp_encoder *e, const struct fd_otlp_batch *b,
			 enum fd_otlp_encoding enc, size_t json_limit, fd_otlp_request_fn fn,
			 void *ctx, struct fd_error *err);

#endif
