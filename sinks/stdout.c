/*
 * stdout:[FORMAT][?options] — the dir: formats on standard output, all
 * signals interleaved (sink_dir.c does the work).
 *
 * stdout:text is the one for people; stdout:otlp_json (the default) and
 * stdout:ecs feed a pipe (jq, a collector's stdin, Filebeat). To keep the
 * lines in record order, batch_records defaults to 1 here: each record is
 * its own export request. With larger batches, requests come out when a
 * batch fills (oldest first on flush and close), so signals may interleave
 * out of time order by up to one batch.
 */
#include <string.h>

#include "sinks/files.h"
#include "sinks/registry.h"

static int stdout_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		       struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	char format[32];
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (n >= sizeof(format))
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown format '%.*s'", uri, (int)n,
				    rest);
	memcpy(format, rest, n);
	format[n] = '\0';
	return fd_files_sink_open(uri, NULL, format, q ? q + 1 : NULL, ctx, out, err);
}

const struct fd_sink_descriptor fd_sink_stdout_descriptor = {
	.scheme = "stdout",
	.synopsis = "stdout:[FORMAT][?options]",
	.summary = "the dir: formats on standard output; stdout:text is for people",
	.options = fd_files_option_names,
	.help = "      the dir: options; batch_records=1 by default, so that records come\n"
		"      out in order\n",
	.open = stdout_open,
};
