/*
 * A bump allocator for protobuf-c unpacking: encoders that decode one record
 * after another (text, ECS, OTLP JSON) unpack into it and reset it per record,
 * instead of a malloc and a free for every field, string and repeated entry
 * (which cost more than the decoding itself). Memory stays at the largest
 * record seen; fd_pb_arena_free releases it.
 */
#ifndef FD_PB_ARENA_H
#define FD_PB_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct fd_pb_chunk;

struct fd_pb_arena {
	struct fd_pb_chunk *chunks, *cur, *last; /* in allocation order */
	ProtobufCAllocator allocator;
};

void fd_pb_arena_init(struct fd_pb_arena *a);
/* Forgets everything unpacked into it; keeps the memory. */
void fd_pb_arena_reset(struct fd_pb_arena *a);
void fd_pb_arena_free(struct fd_pb_arena *a);

#endif
