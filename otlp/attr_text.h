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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "otlp/pbread.h"
#include "otlp/pbwrite.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* The value as text. malloc'd; NULL when out of memory. */
char *fd_otlp_attr_text(const Opentelemetry__Proto__Common__V1__AnyValue *v);

/* The value as plain JSON (strings as strings, numbers as numbers, arrays
 * and kvlists as arrays and objects; NULL or no value as null). */
void fd_otlp_attr_json(struct fd_json *j, const Opentelemetry__Proto__Common__V1__AnyValue *v);

/* The same renderings from a serialized AnyValue in the shape
 * fd_otlp_canonical gives, appended to out (out->oom when memory runs out).
 * present false: a KeyValue without a value (null). */
void fd_otlp_attr_text_wire(struct pbw *out, const uint8_t *p, size_t n, bool present);
void fd_otlp_attr_json_wire(struct pbw *out, const uint8_t *p, size_t n, bool present);

/* fd_otlp_attr_json_wire of an AnyValue that holds the one member, as
 * fd_otlp_plain_attribute (otlp/shape.h) gives it. */
void fd_otlp_member_json(struct pbw *out, const struct fd_pb_field *member);

/* A serialized KeyValue's key (cut at a NUL, as protobuf-c's C strings
 * are; "" when absent) and value (NULL when absent). */
void fd_otlp_keyvalue(const uint8_t *p, size_t n, const uint8_t **key, size_t *key_n,
		      const uint8_t **val, size_t *val_n);

/* The length of a protobuf string up to its first NUL. */
size_t fd_otlp_cstr_len(const uint8_t *p, size_t n);

/* The JSON string of s[0..n) appended to out. */
void fd_otlp_out_quoted(struct pbw *out, const uint8_t *s, size_t n);

#endif
