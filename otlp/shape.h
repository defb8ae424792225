/*
 * A serialized message in the one shape every protobuf encoder writes, for
 * the encoders that read OTLP straight from the wire (ECS, text): every
 * known field with its type's wire type (repeated scalars may be packed), a
 * singular field and a oneof at most once, nested no deeper than the JSON
 * encoder follows. Protobuf also allows other shapes (the last value of a
 * field wins, messages merge); such bytes are re-encoded by protobuf-c, so
 * that the readers see what protobuf-c would have unpacked.
 */
#ifndef FD_OTLP_SHAPE_H
#define FD_OTLP_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "otlp/pbread.h"
#include "otlp/pbwrite.h"

/* Sets *out, *out_n to msg itself when it has the shape, else to its
 * re-encoding in scratch (reset first). Returns 0, or -1 when the bytes are
 * not a well-formed d (or memory runs out: scratch->oom). */
int fd_otlp_canonical(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t n,
		      struct pbw *scratch, const uint8_t **out, size_t *out_n);

/* An attribute (KeyValue) in its usual shape, the message OTLP holds most
 * of: a key that is not empty and does not start with NUL, then a value
 * holding one string (1), bool (2), int (3) or double (4) in its wire type,
 * and nothing else. Sets *key and *member (member->num says which) and
 * returns true; false for any other shape, which the caller then walks the
 * general way. */
bool fd_otlp_plain_attribute(const uint8_t *p, size_t n, struct fd_pb_field *key,
			     struct fd_pb_field *member);

#endif
