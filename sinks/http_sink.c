#include "sinks/http_sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/options.h"

int fd_http_bad_value(const char *uri, const char *key, const char *val, const char *why,
		      struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

int fd_http_compression_option(const char *uri, const char *val, bool *gzip,
			       struct fd_error *err)
{
	if (!strcmp(val, "gzip"))
		*gzip = true;
	else if (!strcmp(val, "none"))
		*gzip = false;
	else
		return fd_http_bad_value(uri, "compression", val, "expected gzip or none", err);
	return 0;
}

int fd_http_encoding_option(const char *uri, const char *val, bool *json, struct fd_error *err)
{
	if (!strcmp(val, "proto") || !strcmp(val, "protobuf"))
		*json = false;
	else if (!strcmp(val, "json"))
		*json = true;
	else
		return fd_http_bad_value(uri, "encoding", val, "expected proto or json", err);
	return 0;
}

/* HOST:PORT[/PREFIX]: a host (name, IPv4, or [IPv6]) and a port, then an
 * optional path prefix; nothing libcurl would read as something else. */
static int check_address(const char *uri, const struct fd_http_sink_kind *k, const char *rest,
			 size_t *len, struct fd_error *err)
{
	bool slashes = strncmp(rest, "//", 2) == 0;
	const char *a = slashes ? rest + 2 : rest;
	size_t n = strcspn(a, "?"), i = 0;
	for (; slashes && i < n && a[i] != '/'; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= ' ' || c >= 0x7f || c == '@' || c == '#' || c == '\\')
			return fd_error_set(err, FD_EINPUT, "sink '%s': unexpected '%c' in the address",
					    uri, c > ' ' && c < 0x7f ? c : '?');
	}
	if (!slashes || i == 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': expected %s://HOST:PORT%s, e.g. %s://%s",
				    uri, k->scheme, k->path ? "[/PREFIX]" : "", k->scheme, k->example);
	/* trailing slashes of the prefix go: PREFIX/v1/traces, never //v1 */
	while (n > i && a[n - 1] == '/')
		n--;
	if (!k->path && n > i)
		return fd_error_set(err, FD_EINPUT, "sink '%s': a %s address takes no path", uri,
				    k->scheme);
	for (; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= ' ' || c >= 0x7f || c == '#' || c == '\\')
			return fd_error_set(err, FD_EINPUT, "sink '%s': unexpected character in the path",
					    uri);
	}
	*len = n;
	return 0;
}

int fd_http_sink_alloc(void *out, size_t size, const struct fd_sink_impl *impl, const char *uri,
		       const struct fd_sink_context *ctx, struct fd_error *err)
{
	*(void **)out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot initialize libcurl", uri);
	struct fd_http_sink *hs = calloc(1, size);
	if (!hs || fd_sink_init(&hs->base, impl, uri) < 0) {
		if (hs)
			free(hs->base.uri);
		free(hs);
		curl_global_cleanup();
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	fd_http_options_init(&hs->http);
	hs->http.stop = ctx ? ctx->stop : NULL;
	hs->notice = ctx ? ctx->notice : NULL;
	hs->notice_ctx = ctx ? ctx->notice_ctx : NULL;
	*(void **)out = hs;
	return 0;
}

int fd_http_sink_new(void *out, size_t size, const struct fd_sink_impl *impl,
		     const struct fd_http_sink_kind *k, const char *uri, const char *rest,
		     const struct fd_sink_context *ctx, struct fd_error *err)
{
	size_t n = 0;
	*(void **)out = NULL;
	int rc = check_address(uri, k, rest, &n, err);
	if (rc < 0)
		return rc;
	struct fd_http_sink *hs;
	if ((rc = fd_http_sink_alloc(&hs, size, impl, uri, ctx, err)) < 0)
		return rc;
	size_t len = n + 16;
	if ((hs->origin = malloc(len)) != NULL)
		snprintf(hs->origin, len, "%s://%.*s", k->tls ? "https" : "http", (int)n, rest + 2);
	if (!hs->origin) {
		fd_sink_destroy(&hs->base);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	*(void **)out = hs;
	return 0;
}

const char *fd_http_query(const char *rest)
{
	const char *q = strchr(rest, '?');
	return q ? q + 1 : NULL;
}

struct walk {
	const char *uri;
	size_t n_own;
	bool *seen;
	struct fd_http_options *http;
	fd_http_own_option_fn own;
	void *sink;
};

static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	struct walk *w = ctx;
	/* every option once, except the repeatable header= */
	if (strcmp(key, "header") != 0) {
		if (w->seen[idx])
			return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s' given twice", w->uri,
					    key);
		w->seen[idx] = true;
	}
	if (idx < w->n_own)
		return w->own(w->sink, key, val, err);
	int rc = fd_http_option(w->http, w->uri, key, val, err);
	return rc < 0 ? rc : 0;
}

int fd_http_sink_options(const char *uri, const char *query, const char *const *names,
			 size_t n_own, struct fd_http_options *http, fd_http_own_option_fn own,
			 void *sink, const struct fd_sink_context *ctx, struct fd_error *err)
{
	size_t n = 0;
	while (names[n])
		n++;
	struct walk w = {uri, n_own, calloc(n, sizeof(bool)), http, own, sink};
	if (!w.seen)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = fd_sink_options(uri, query, names, n, NULL, NULL, on_option, &w, ctx,
				 err);
	free(w.seen);
	return rc;
}

struct curl_slist *fd_http_header_list(const char *const *fixed, size_t n,
				       const struct fd_http_options *o)
{
	struct curl_slist *list = NULL, *next;
	for (size_t i = 0; i < n; i++) {
		if (!fixed[i])
			continue;
		if (!(next = curl_slist_append(list, fixed[i])))
			goto oom;
		list = next;
	}
	for (const struct curl_slist *u = o->headers; u; u = u->next) {
		if (!(next = curl_slist_append(list, u->data)))
			goto oom;
		list = next;
	}
	return list;
oom:
	curl_slist_free_all(list);
	return NULL;
}

int fd_http_sink_start(struct fd_http_sink *hs, const char *const *fixed, size_t n,
		       size_t max_answer, fd_http_done_fn done, struct fd_error *err)
{
	if (!(hs->headers = fd_http_header_list(fixed, n, &hs->http)) ||
	    !(hs->pool = fd_http_pool_create(&hs->http, max_answer, done, hs, &hs->base)))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	return 0;
}

void fd_http_sink_stop(struct fd_http_sink *hs)
{
	fd_http_pool_destroy(hs->pool);
	hs->pool = NULL;
}

int fd_http_sink_drain(struct fd_http_sink *hs, int send_rc, struct fd_error *err)
{
	struct fd_error derr = {0};
	int drc = fd_http_pool_drain(hs->pool, &derr);
	if (send_rc < 0)
		return send_rc;
	if (drc < 0) {
		*err = derr;
		return drc;
	}
	return 0;
}

void fd_http_sink_skipped_notice(struct fd_http_sink *hs, const char *backend,
				 const uint64_t skipped[FD_SIGNAL_COUNT])
{
	if (!(skipped[FD_SIGNAL_TRACES] || skipped[FD_SIGNAL_METRICS]) || !hs->notice)
		return;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "sink '%s': %s gets logs only: skipped %" PRIu64 " spans and %" PRIu64 " metrics",
		 hs->base.uri, backend, skipped[FD_SIGNAL_TRACES], skipped[FD_SIGNAL_METRICS]);
	hs->notice(hs->notice_ctx, msg);
}

void fd_http_sink_finish(struct fd_http_sink *hs)
{
	fd_http_sink_stop(hs);
	curl_slist_free_all(hs->headers);
	fd_http_options_finish(&hs->http);
	free(hs->origin);
	curl_global_cleanup();
}
