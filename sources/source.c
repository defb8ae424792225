#include "sources/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redact.h"
#include "common/suggest.h"
#include "common/uri_options.h"

const struct fd_source_descriptor *fd_source_descriptor_find(const char *scheme)
{
	for (const struct fd_source_descriptor *const *d = fd_source_descriptors; *d; d++)
		if (strcmp((*d)->scheme, scheme) == 0)
			return *d;
	return NULL;
}

int fd_source_open(const char *uri, const struct fd_source_context *ctx, struct fd_source **out,
		   struct fd_error *err)
{
	static const struct fd_source_context no_context = {0};
	if (!ctx)
		ctx = &no_context;
	*out = NULL;
	/* Sources see the URI with its secrets hidden, for their messages and
	 * the recording header; only rest is the real thing. */
	const char *real = uri;
	char shown[2048];
	fd_redact_uri(real, shown, sizeof(shown));
	uri = shown;
	char scheme[64];
	const char *rest = fd_uri_scheme(real, scheme, sizeof(scheme));
	const struct fd_source_descriptor *d = rest ? fd_source_descriptor_find(scheme) : NULL;
	if (d)
		return d->open(uri, rest, ctx, out, err);
	char known[256];
	const char *names[32];
	size_t count = 0, off = 0;
	known[0] = '\0';
	for (const struct fd_source_descriptor *const *e = fd_source_descriptors; *e; e++) {
		if (off < sizeof(known))
			off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
						off ? ", " : "", (*e)->synopsis);
		if (count < 32)
			names[count++] = (*e)->scheme;
	}
	const char *best = rest ? fd_suggest(scheme, names, count) : NULL;
	return fd_error_set(err, FD_EINPUT, "source '%s': expected %s%s%s%s", uri, known,
			    best ? " (did you mean '" : "", best ? best : "", best ? ":'?)" : "");
}

int fd_source_next(struct fd_source *s, struct fd_source_msg *msg, int timeout_ms,
		   struct fd_error *err)
{
	return s->impl->next(s, msg, timeout_ms, err);
}

void fd_source_done(struct fd_source *s, const struct fd_source_msg *msg, int records,
		    int64_t max_time, bool malformed)
{
	if (s->impl->done)
		s->impl->done(s, msg, records, max_time, malformed);
}

int64_t fd_source_watermark(struct fd_source *s)
{
	return s->impl->watermark ? s->impl->watermark(s) : INT64_MAX;
}

const Firedrill__V1__RecordSource *fd_source_metadata(struct fd_source *s)
{
	return s->impl->metadata(s);
}

const char *fd_source_kind(const struct fd_source *s)
{
	return s->impl->name;
}

void fd_source_destroy(struct fd_source *s)
{
	if (s)
		s->impl->destroy(s);
}
