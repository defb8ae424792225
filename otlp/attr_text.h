/*
 * Attribute values (OTLP AnyValue) as people and other systems read them:
 * the text of a Prometheus label, a Kafka partition key, an ECS label, a
 * human-readable log line; and as plain JSON (not OTLP/JSON's
 * {"stringValue":...} wrapping) for ECS fields.
 *
 * The one rendering every sink shares:
 *   string          as it is
 *   int             decimal
 *   double          the shortest text that reads back as the value
 *                   (fd_format_double); NaN and the infinities "null"
 *   bool            true / false
 *   bytes           lowercase hex of at most the first 64 bytes
 *   array, kvlist   compact JSON of the plain values
 *   no value        null
 */
#ifndef FD_OTLP_ATTR_TEXT_H
#define FD_OTLP_ATTR_TEXT_H

#include "common/json.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* The value as text. malloc'd; NULL when out of memory. */
char *fd_otlp_attr_text(const Opentelemetry__Proto__Common__V1__AnyValue *v);

/* The value as plain JSON (strings as strings, numbers as numbers, arrays
 * and kvlists as arrays and objects; NULL or no value as null). */
void fd_otlp_attr_json(struct fd_json *j, const Opentelemetry__Proto__Common__V1__AnyValue *v);

#endif
