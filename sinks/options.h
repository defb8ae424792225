/*
 * The ?k=v&k=v options of a sink URI, the same rules for every sink: each
 * entry is KEY=VALUE, each key one of the sink's names (else an error with
 * a did-you-mean and the list of known ones), none given twice. The sink
 * only interprets values.
 */
#ifndef FD_SINK_OPTIONS_H
#define FD_SINK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Called for each option in order, with the index of its name in names. */
typedef int (*fd_sink_option_fn)(void *ctx, size_t idx, const char *key, const char *value,
				 struct fd_error *err);

/* Walks query (the text after '?'; NULL or "" is no options). names has n
 * entries; seen, if not NULL, has n flags, set for options given before
 * (e.g. a format named in the URI itself) and updated here. what is added
 * after the key in the unknown-option message (" for format=openmetrics")
 * or NULL. Stops at the first error; messages name uri. */
int fd_sink_options(const char *uri, const char *query, const char *const *names, size_t n,
		    bool *seen, const char *what, fd_sink_option_fn fn, void *ctx,
		    struct fd_error *err);

#endif
