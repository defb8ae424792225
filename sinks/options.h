/*
 * The ?k=v&k=v options of a sink URI: common/uri_options.h's rules with
 * messages that say "sink 'URI'". The sink only interprets values.
 */
#ifndef FD_SINK_OPTIONS_H
#define FD_SINK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/uri_options.h"

struct fd_sink_context;

typedef fd_uri_option_fn fd_sink_option_fn;

/* Walks query (the text after '?'; NULL or "" is no options). names has n
 * entries; seen, if not NULL, has n flags, set for options given before
 * (e.g. a format named in the URI itself) and updated here. what is added
 * after the key in the unknown-option message (" for format=openmetrics")
 * or NULL. Then, when ctx is not NULL, applies ctx->options (from
 * command-line flags) whose keys are among names. Stops at the first
 * error; messages name uri. */
int fd_sink_options(const char *uri, const char *query, const char *const *names, size_t n,
		    bool *seen, const char *what, fd_sink_option_fn fn, void *fn_ctx,
		    const struct fd_sink_context *ctx, struct fd_error *err);

#endif
