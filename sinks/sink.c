#include "sinks/sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redact.h"
#include "common/suggest.h"
#include "common/uri_options.h"

void fd_sink_notice(void (*notice)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
{
	if (!notice)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	notice(ctx, msg);
}

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

const struct fd_sink_descriptor *fd_sink_descriptor_find(const char *scheme)
{
	for (const struct fd_sink_descriptor *const *d = fd_sink_descriptors; *d; d++)
		if (strcmp((*d)->scheme, scheme) == 0)
			return *d;
	return NULL;
}

/* "file, dir, kafka, ..." from the descriptors, for messages. */
static void known_schemes(char *buf, size_t n, const char **names, size_t *count)
{
	size_t off = 0;
	*count = 0;
	buf[0] = '\0';
	for (const struct fd_sink_descriptor *const *d = fd_sink_descriptors; *d; d++) {
		if (off < n)
			off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "", (*d)->scheme);
		if (*count < 64)
			names[(*count)++] = (*d)->scheme;
	}
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
	/* Sinks see the URI with its secrets hidden, for their messages,
	 * their report and the summary; only rest is the real thing. */
	const char *real = uri;
	char shown[2048];
	fd_redact_uri(real, shown, sizeof(shown));
	uri = shown;
	char scheme[64];
	const char *rest = fd_uri_scheme(real, scheme, sizeof(scheme));
	const struct fd_sink_descriptor *d = rest ? fd_sink_descriptor_find(scheme) : NULL;
	if (d && !d->open)
		return fd_error_set(err, FD_EINPUT, "sink '%s': the %s sink is not implemented yet (%s)",
				    uri, d->scheme, d->summary);
	if (d)
		return d->open(uri, rest, ctx, out, err);
	const char *colon = strchr(real, ':');
	size_t n = colon ? (size_t)(colon - real) : 0;
	size_t len = strlen(real);
	if ((!colon || n == 0) && len > 4 && strcmp(real + len - 4, ".fdr") == 0 &&
	    (d = fd_sink_descriptor_find("file")))
		return d->open(uri, real, ctx, out, err);
	char known[256];
	const char *names[64];
	size_t count;
	known_schemes(known, sizeof(known), names, &count);
	if (!colon || n == 0)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': expected SCHEME:... (known: %s), e.g. file:out.fdr, "
				    "dir:PATH, kafka://HOST:PORT, stdout:",
				    uri, known);
	const char *best = rest ? fd_suggest(scheme, names, count) : NULL;
	return fd_error_set(err, FD_EINPUT, "sink '%s': unknown scheme '%.*s'%s%s%s (known: %s)", uri,
			    (int)n, uri, best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "", known);
}
