#include "sinks/sink.h"

#include <math.h>
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

/* Only the writing thread adds: a relaxed load and store is enough and
 * costs what a plain increment does (no locked instruction). */
static void count(_Atomic uint64_t *c, uint64_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

int fd_sink_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	if (sink->sticky.code)
		return replay_sticky(sink, err);
	int rc = sink->impl->write(sink, rec, err);
	if (rc < 0)
		return sticky(sink, rc, err);
	if ((unsigned)rec->signal < FD_SIGNAL_COUNT) {
		count(&sink->stats.records[rec->signal], 1);
		count(&sink->stats.bytes[rec->signal], rec->payload_len);
	}
	return 0;
}

/* 100 µs to 60 s in 1-2.5-5 steps: a local file write lands in the first
 * buckets, a remote acknowledgement in the middle, a stalled pipeline at
 * the end. */
const double fd_sink_latency_bounds[FD_SINK_LATENCY_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60,
};

double fd_sink_latency_quantile(const uint64_t n[FD_SINK_LATENCY_BUCKETS], double q)
{
	uint64_t total = 0;
	for (size_t i = 0; i < FD_SINK_LATENCY_BUCKETS; i++)
		total += n[i];
	if (total == 0)
		return -1;
	double rank = q * (double)total, below = 0;
	for (size_t i = 0; i < FD_SINK_LATENCY_BUCKETS; i++) {
		if (n[i] && below + (double)n[i] >= rank) {
			if (i == FD_SINK_LATENCY_BUCKETS - 1)
				return INFINITY;
			double lo = i ? fd_sink_latency_bounds[i - 1] : 0, hi = fd_sink_latency_bounds[i];
			return lo + (hi - lo) * (rank - below) / (double)n[i];
		}
		below += (double)n[i];
	}
	return INFINITY; /* not reached: rank <= total */
}

void fd_sink_live_send(struct fd_sink *sink, int64_t duration_ns)
{
	if (duration_ns < 0)
		duration_ns = 0;
	double s = (double)duration_ns / 1e9;
	size_t b = 0;
	while (b < FD_SINK_LATENCY_BUCKETS - 1 && s > fd_sink_latency_bounds[b])
		b++;
	atomic_fetch_add_explicit(&sink->live.latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sink->live.latency_sum_ns, (uint64_t)duration_ns,
				  memory_order_relaxed);
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
