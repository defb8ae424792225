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

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "otlp/pbwrite.h"

/* Sets *out, *out_n to msg itself when it has the shape, else to its
 * re-encoding in scratch (reset first). Returns 0, or -1 when the bytes are
 * not a well-formed d (or memory runs out: scratch->oom). */
int fd_otlp_canonical(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t n,
		      struct pbw *scratch, const uint8_t **out, size_t *out_n);

#endif
