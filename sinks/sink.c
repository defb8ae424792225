#include "sinks/sink.h"

#include <stdlib.h>
#include <string.h>

#include "sinks/registry.h"

int fd_sink_init(struct fd_sink *sink, const struct fd_sink_impl *impl, const char *uri)
{
	memset(sink, 0, sizeof(*sink));
	sink->impl = impl;
	sink->uri = strdup(uri);
	return sink->uri ? 0 : -1;
}

static int sticky(struct fd_sink *sink, int rc, struct fd_error *err)
{
	if (rc < 0 && err && sink->sticky.code == 0)
		sink->sticky = *err;
	return rc;
}

static int replay_sticky(struct fd_sink *sink, struct fd_error *err)
{
	if (err)
		*err = sink->sticky;
	return -sink->sticky.code;
}

int fd_sink_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	if (sink->sticky.code)
		return replay_sticky(sink, err);
	int rc = sink->impl->write(sink, rec, err);
	if (rc < 0)
		return sticky(sink, rc, err);
	if ((unsigned)rec->signal < FD_SIGNAL_COUNT) {
		sink->stats.records[rec->signal]++;
		sink->stats.bytes[rec->signal] += rec->payload_len;
	}
	return 0;
}

int fd_sink_flush(struct fd_sink *sink, struct fd_error *err)
{
	if (sink->sticky.code)
		return replay_sticky(sink, err);
	if (!sink->impl->flush)
		return 0;
	return sticky(sink, sink->impl->flush(sink, err), err);
}

int fd_sink_add_figure(struct fd_sink *sink, const struct Firedrill__V1__Figure *fig,
		       struct fd_error *err)
{
	if (sink->sticky.code)
		return replay_sticky(sink, err);
	if (!sink->impl->add_figure)
		return 0;
	return sticky(sink, sink->impl->add_figure(sink, fig, err), err);
}

int fd_sink_close(struct fd_sink *sink, struct fd_error *err)
{
	if (sink->sticky.code)
		return replay_sticky(sink, err);
	if (sink->closed)
		return 0;
	int rc = sink->impl->close(sink, err);
	if (rc < 0)
		return sticky(sink, rc, err);
	sink->closed = true;
	return 0;
}

void fd_sink_report(struct fd_sink *sink, char *buf, size_t n)
{
	if (n)
		buf[0] = '\0';
	if (sink->impl->report && n)
		sink->impl->report(sink, buf, n);
}

void fd_sink_destroy(struct fd_sink *sink)
{
	if (!sink)
		return;
	char *uri = sink->uri;
	sink->impl->destroy(sink);
	free(uri);
}

/* A URI is SCHEME:REST. A bare path is taken as a recording when it ends in
 * .fdr, since that is what `-o out.fdr` users type; anything else must name
 * its scheme so that a typo never silently becomes a file. */
int fd_sink_open(const char *uri, const struct fd_sink_context *ctx, struct fd_sink **out,
		 struct fd_error *err)
{
	static const struct fd_sink_context no_context = {0};
	if (!ctx)
		ctx = &no_context;
	*out = NULL;
	const char *colon = strchr(uri, ':');
	size_t n = colon ? (size_t)(colon - uri) : 0;
	if (!colon || n == 0) {
		size_t len = strlen(uri);
		if (len > 4 && strcmp(uri + len - 4, ".fdr") == 0)
			return fd_sink_file_open(uri, uri, ctx, out, err);
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': expected SCHEME:..., e.g. file:out.fdr, dir:PATH, "
				    "kafka://HOST:PORT, stdout:",
				    uri);
	}
	for (const struct fd_sink_scheme *s = fd_sink_schemes; s->scheme; s++) {
		if (strlen(s->scheme) == n && strncmp(uri, s->scheme, n) == 0) {
			if (!s->open)
				return fd_error_set(err, FD_EINPUT,
						    "sink '%s': the %s sink is not implemented yet (%s)",
						    uri, s->scheme, s->note);
			return s->open(uri, colon + 1, ctx, out, err);
		}
	}
	return fd_error_set(err, FD_EINPUT,
			    "sink '%s': unknown scheme '%.*s' (known: file, dir, kafka, stdout, "
			    "prom-rw, otlp-http, otlp-https, scrape)",
			    uri, (int)n, uri);
}
