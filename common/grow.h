/*
 * Room for one more element in a malloc'd array: the sinks' tables grow
 * as series appear.
 */
#ifndef FD_GROW_H
#define FD_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *v (with *cap elements of size bytes) hold at least n + 1,
 * doubling from 64. false, leaving *v as it was, when memory runs out. */
bool fd_grow(void **v, size_t *cap, size_t n, size_t size);

#endif
