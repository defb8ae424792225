/*
 * Logs as Elastic Common Schema documents, for Logstash and Elasticsearch.
 *
 * One OTLP LogRecord becomes one ECS JSON object in the shape ecs-logging
 * libraries write (github.com/elastic/ecs-logging spec/spec.json): dotted
 * top-level keys, "@timestamp", "log.level" and "message" first, then
 * "ecs.version". Then:
 *   service.name, service.version      resource service.name, service.version
 *   service.node.name                  resource service.instance.id
 *   service.environment                resource deployment.environment(.name)
 *   host.name, container.*, cloud.*,   resource attributes of the same
 *   process.pid, kubernetes.*          meaning (see the table in ecs.c)
 *   log.logger                         instrumentation scope name
 *   event.dataset                      "<service.name>.log" (ecs-logging)
 *   event.severity                     severity number
 *   trace.id, span.id                  lowercase hex
 *   http.request.method, http.response.status_code, url.*, user_agent.original,
 *   client.*, server.*, error.* (from exception.*): record attributes whose
 *   OpenTelemetry semantic convention has an ECS field
 *   labels                             every other attribute, record then
 *                                      resource, keys with '.', '*', '\'
 *                                      replaced by '_' (ECS labels are flat
 *                                      keyword values, so values are strings)
 * A field is written once: when two attributes map to it
 * (deployment.environment and deployment.environment.name) the first wins;
 * a label the record sets itself wins over the resource's of that name.
 */
#ifndef FD_ECS_H
#define FD_ECS_H

#include "common/error.h"
#include "common/json.h"
#include "stream/record.h"

#define FD_ECS_VERSION "8.11.0"

struct pbw;
struct fd_ecs;

/* An encoder: it keeps what each resource and scope contributes to the
 * documents (by blob id, checked against the blob's bytes). NULL when out
 * of memory; destroy accepts NULL. */
struct fd_ecs *fd_ecs_create(void);
void fd_ecs_destroy(struct fd_ecs *e);

/* An encoder for the documents of a data stream logs-DATASET-NAMESPACE:
 * event.dataset is DATASET (not "<service.name>.log": the ECS reference
 * asks that a document's event.dataset equal its data stream's dataset),
 * and data_stream.type, .dataset and .namespace are written. With dataset
 * NULL it is fd_ecs_create. */
struct fd_ecs *fd_ecs_create_stream(const char *dataset, const char *ns);

/* Appends the ECS document of one log record to out, without a newline.
 * Returns 0, -FD_EINPUT for a record that is not a log or a malformed
 * payload/resource/scope, -FD_ERUNTIME when memory runs out (out is as it
 * was then). */
int fd_ecs_encode(struct fd_ecs *e, const struct fd_record *rec, struct pbw *out,
		  struct fd_error *err);

/* Writes the ECS document of one log record (rec->signal must be
 * FD_SIGNAL_LOGS) to out, without a trailing newline. Returns 0,
 * -FD_EINPUT for a malformed payload/resource/scope (nothing written), or
 * -FD_ERUNTIME when out fails. */
struct fd_pb_arena;
/* The same without keeping anything between records (scratch is unused). */
int fd_ecs_log(const struct fd_record *rec, struct fd_pb_arena *scratch, struct fd_json *out,
	       struct fd_error *err);

/* The lowercase level for a severity: the text when given ("WARN" ->
 * "warn"), else the number's range (9..12 -> "info"); "" when neither. */
const char *fd_ecs_level(int severity_number, const char *text, char buf[32]);

#endif
