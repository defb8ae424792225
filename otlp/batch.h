/*
 * Batching records into OTLP export requests.
 *
 * A batch collects records of one signal and encodes them as one
 * Export{Trace,Metrics,Logs}ServiceRequest, grouped by resource and then by
 * instrumentation scope, as an OpenTelemetry SDK or collector would send
 * them. The three request types share one shape on the wire:
 *
 *   Export*ServiceRequest { repeated Resource* resource_* = 1; }
 *   Resource*            { Resource resource = 1; repeated Scope* scope_* = 2; }
 *   Scope*               { InstrumentationScope scope = 1; repeated <payload> = 2; }
 *
 * so one encoder serves all three. The batch tracks the exact encoded size,
 * so a sink can cut requests below a broker's message size limit.
 */
#ifndef FD_OTLP_BATCH_H
#define FD_OTLP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp/pbwrite.h"
#include "stream/record.h"

struct fd_otlp_batch;

struct fd_otlp_batch *fd_otlp_batch_create(void);
void fd_otlp_batch_destroy(struct fd_otlp_batch *b); /* accepts NULL */

/* Adds a copy of the record. Returns 0, or -1 when out of memory. Records of
 * different signals must not be mixed in one batch. */
int fd_otlp_batch_add(struct fd_otlp_batch *b, const struct fd_record *rec);

/* The exact size of the request the batch would encode to now, and what it
 * would be with rec added: a sink calls this before add to keep requests
 * under a limit. */
size_t fd_otlp_batch_size(const struct fd_otlp_batch *b);
size_t fd_otlp_batch_size_with(const struct fd_otlp_batch *b, const struct fd_record *rec);

size_t fd_otlp_batch_count(const struct fd_otlp_batch *b);
int64_t fd_otlp_batch_first_time(const struct fd_otlp_batch *b); /* of the oldest record */
enum fd_signal fd_otlp_batch_signal(const struct fd_otlp_batch *b); /* of the first record */

/* The first record's resource (for keying a message by resource). NULL when
 * empty. */
const struct fd_blob *fd_otlp_batch_resource(const struct fd_otlp_batch *b);

/* The i-th record added (i < fd_otlp_batch_count), as it was added; its
 * payload points into the batch, valid until the next add, reset or
 * destroy. For a sink that re-batches records it holds here. */
void fd_otlp_batch_get(const struct fd_otlp_batch *b, size_t i, struct fd_record *out);

/* Encodes the export request into out (which is reset first). Returns 0, or
 * -1 when out of memory. */
int fd_otlp_batch_encode(const struct fd_otlp_batch *b, struct pbw *out);

/* Empties the batch, keeping its memory for the next one. */
void fd_otlp_batch_reset(struct fd_otlp_batch *b);

#endif
