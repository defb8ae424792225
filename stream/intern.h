/*
 * Interning of byte strings (serialized resources and scopes).
 *
 * A source builds each distinct resource once and hands out the same
 * struct fd_blob pointer for every record of it; sinks and the recording
 * writer can then de-duplicate by pointer or by dense id. The table owns
 * every blob; they live until fd_intern_destroy.
 */
#ifndef FD_INTERN_H
#define FD_INTERN_H

#include "common/hash.h"
#include "stream/record.h"

struct fd_intern;

struct fd_intern *fd_intern_create(void);
void fd_intern_destroy(struct fd_intern *t);

/* Returns the blob equal to data[0..len), adding a copy when it is new;
 * NULL only when out of memory or when the table already holds
 * UINT32_MAX entries. */
const struct fd_blob *fd_intern_add(struct fd_intern *t, const uint8_t *data, size_t len);

/* Adds a blob with a caller-chosen id (a recording's dictionary entry).
 * Returns the blob, or NULL when the id is already taken, is not the next
 * dense id, or memory runs out. */
const struct fd_blob *fd_intern_add_with_id(struct fd_intern *t, uint32_t id,
					    const uint8_t *data, size_t len);

/* The blob with this id, or NULL. */
const struct fd_blob *fd_intern_get(const struct fd_intern *t, uint32_t id);

uint32_t fd_intern_count(const struct fd_intern *t);


#endif
