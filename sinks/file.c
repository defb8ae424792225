/*
 * file:OUT.fdr — the recording writer behind the sink interface.
 */
#include <stdlib.h>
#include <string.h>

#include "sinks/registry.h"
#include "recording/writer.h"

struct file_sink {
	struct fd_sink base; /* first: the interface casts between them */
	struct fd_recording_writer *writer;
};

static int file_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct file_sink *s = (struct file_sink *)sink;
	return fd_recording_writer_add(s->writer, rec, err);
}

static int file_add_figure(struct fd_sink *sink, const Firedrill__V1__Figure *fig,
			   struct fd_error *err)
{
	struct file_sink *s = (struct file_sink *)sink;
	return fd_recording_writer_add_figure(s->writer, fig, err);
}

static int file_close(struct fd_sink *sink, struct fd_error *err)
{
	struct file_sink *s = (struct file_sink *)sink;
	return fd_recording_writer_finish(s->writer, err);
}

static void file_destroy(struct fd_sink *sink)
{
	struct file_sink *s = (struct file_sink *)sink;
	fd_recording_writer_destroy(s->writer);
	free(s);
}

static const struct fd_sink_impl file_impl = {
	.name = "file",
	.write = file_write,
	.add_figure = file_add_figure,
	.close = file_close,
	.destroy = file_destroy,
};

static int file_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	if (rest[0] == '\0')
		return fd_error_set(err, FD_EINPUT, "sink '%s': file: needs a path, e.g. file:out.fdr", uri);
	if (strchr(rest, '?'))
		return fd_error_set(err, FD_EINPUT, "sink '%s': file: takes no options", uri);
	struct file_sink *s = calloc(1, sizeof(*s));
	if (!s || fd_sink_init(&s->base, &file_impl, uri) < 0) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	int rc = fd_recording_writer_create(rest, ctx->header, NULL, &s->writer, err);
	if (rc < 0) {
		fd_sink_destroy(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static const char *const option_names[] = {NULL};

const struct fd_sink_descriptor fd_sink_file_descriptor = {
	.scheme = "file",
	.synopsis = "file:OUT.fdr",
	.summary = "a recording (a bare path ending in .fdr is one too)",
	.options = option_names,
	.open = file_open,
};
