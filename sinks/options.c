#include "sinks/options.h"

#include "sinks/sink.h"

int fd_sink_options(const char *uri, const char *query, const char *const *names, size_t n,
		    bool *seen, const char *what, fd_sink_option_fn fn, void *fn_ctx,
		    const struct fd_sink_context *ctx, struct fd_error *err)
{
	struct fd_uri_options o = {"sink", uri, names, n, seen, what, fn, fn_ctx};
	int rc = fd_uri_options_parse(&o, query, err);
	if (rc == 0 && ctx && ctx->n_options)
		rc = fd_uri_options_extra(&o, ctx->options, ctx->n_options, err);
	return rc;
}
