/*
 * Internal to sinks/: what dir: and stdout: share. Both write the same
 * formats and take the same options; sink_dir.c implements them, writing
 * one file per signal into a directory or everything to standard output.
 */
#ifndef FD_SINK_FILES_H
#define FD_SINK_FILES_H

#include "sink_registry.h"

/* Opens a dir: sink writing into dir, or, when dir is NULL, a stdout: sink.
 * format: the format named outside the query (stdout:text), or NULL; query:
 * "format=ecs&batch_records=100" (NULL or "" for none). Errors name the
 * URI and the option. */
int fd_files_sink_open(const char *uri, const char *dir, const char *format, const char *query,
		       const struct fd_sink_context *ctx, struct fd_sink **out,
		       struct fd_error *err);

#endif
