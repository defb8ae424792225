/*
 * Internal to sinks/: what dir: and stdout: share. Both write the same
 * formats and take the same options; sink_dir.c implements them, writing
 * one file per signal into a directory or everything to standard output.
 */
#ifndef FD_SINK_FILES_H
#define FD_SINK_FILES_H

#include <stdbool.h>

#include "sinks/registry.h"

/* Opens a dir: sink writing into dir, or, when dir is NULL, a stdout: sink.
 * format: the format named outside the query (stdout:text), or NULL; query:
 * "format=ecs&batch_records=100" (NULL or "" for none). Errors name the
 * URI and the option. */
int fd_files_sink_open(const char *uri, const char *dir, const char *format, const char *query,
		       const struct fd_sink_context *ctx, struct fd_sink **out,
		       struct fd_error *err);

/* The options dir: and stdout: take, NULL-terminated: the batch options
 * and, for format=openmetrics, buffer=. */
extern const char *const fd_files_option_names[];

/* mkdir -p path, for the sink named uri (in messages). */
int fd_files_make_dirs(const char *uri, const char *path, struct fd_error *err);

/* sink_openmetrics.c: format=openmetrics of dir: (into dir, created when missing)
 * and stdout: (dir NULL). format_given: the format was named outside the
 * query (stdout:openmetrics), so the query may not name it again. */
int fd_om_sink_open(const char *uri, const char *dir, bool format_given, const char *query,
		    const struct fd_sink_context *ctx, struct fd_sink **out, struct fd_error *err);

/* True when format (outside the query) or the query's format= option names
 * openmetrics. */
bool fd_om_requested(const char *format, const char *query);

#endif
