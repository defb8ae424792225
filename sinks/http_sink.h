/*
 * The base the push sinks over the shared pool share (otlp-http/-https,
 * otlp-grpc/-grpcs, es, loki): the address, the options walk, the header
 * list, the pool and their teardown. Internal to sinks/.
 *
 * A sink's struct begins with struct fd_http_sink, and its open goes:
 *   s = fd_http_sink_new(sizeof(*s), ...)  the address checked, the base set up
 *   (its defaults)
 *   fd_http_sink_options(...)              the URI's options: its own through
 *                                          kind->option, the connection ones
 *                                          (sinks/http.h) here
 *   (checks across options, URLs from hs->origin)
 *   fd_http_sink_start(...)                headers and the pool
 * and on any error fd_sink_destroy(&s->hs.base). Its destroy calls
 * fd_http_sink_stop first (the pool's callbacks use the rest of the sink)
 * and fd_http_sink_finish last.
 *
 * prom-rw: takes a whole URL, not HOST:PORT: it starts with
 * fd_http_sink_alloc and keeps its URL itself (origin stays NULL).
 */
#ifndef FD_SINK_HTTP_SINK_H
#define FD_SINK_HTTP_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "sinks/http.h"
#include "sinks/sink.h"

struct fd_http_sink {
	struct fd_sink base; /* first: the sink interface casts between them */
	struct fd_http_options http;
	/* http(s)://HOST:PORT[/PREFIX] without trailing slashes */
	char *origin;
	struct curl_slist *headers; /* the sink's own, then header= */
	struct fd_http_pool *pool;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* A sink's own option, key one of its names: returns 0 or an error (a
 * value fd_http_bad_value describes). */
typedef int (*fd_http_own_option_fn)(void *sink, const char *key, const char *val,
				     struct fd_error *err);

struct fd_http_sink_kind {
	const char *scheme;  /* as the user wrote it: "otlp-grpcs" */
	const char *example; /* a typical address: "localhost:4318" */
	bool tls;
	bool path; /* a /PREFIX after HOST:PORT is allowed */
};

/* Checks rest (//HOST:PORT[/PREFIX][?options]) and allocates a sink of
 * size bytes into *(T **)out, zeroed but for the base: uri as messages
 * show it, the connection options' defaults, origin, the context's
 * notice. Returns 0, -FD_EINPUT for a malformed address, -FD_ERUNTIME
 * (*out NULL). */
int fd_http_sink_new(void *out, size_t size, const struct fd_sink_impl *impl,
		     const struct fd_http_sink_kind *k, const char *uri, const char *rest,
		     const struct fd_sink_context *ctx, struct fd_error *err);

/* fd_http_sink_new without an address: the base, uri, the connection
 * options' defaults, the context's notice and stop flag. */
int fd_http_sink_alloc(void *out, size_t size, const struct fd_sink_impl *impl, const char *uri,
		       const struct fd_sink_context *ctx, struct fd_error *err);

/* The text after rest's '?', or NULL. */
const char *fd_http_query(const char *rest);

/* Walks query (the text after the URI's '?'; NULL: none) and ctx's options
 * by the rules of every sink (sinks/options.h), each given once but the
 * repeatable header=:
 * names lists the sink's own n_own first, then connection options of
 * sinks/http.h, NULL-terminated. own gets the sink's own ones. */
int fd_http_sink_options(const char *uri, const char *query, const char *const *names,
			 size_t n_own, struct fd_http_options *http, fd_http_own_option_fn own,
			 void *sink, const struct fd_sink_context *ctx, struct fd_error *err);

/* The header list: fixed (n entries; NULL ones left out), then the
 * header= ones. NULL when out of memory. */
struct curl_slist *fd_http_header_list(const char *const *fixed, size_t n,
				       const struct fd_http_options *o);

/* The --help lines of the options every HTTP sink takes (http.c parses them). */
#define FD_HTTP_SINK_HELP \
	"      header=NAME:VALUE (repeatable; never printed), user= password=,\n" \
	"      ca= cert= key= insecure=true, timeout=D (10s), concurrency=N (4),\n" \
	"      retry_initial=D (1s) retry_max=D (30s) retry_elapsed=D (5m)\n"

/* hs->headers from fixed and header=, and the pool. */
int fd_http_sink_start(struct fd_http_sink *hs, const char *const *fixed, size_t n,
		       size_t max_answer, fd_http_done_fn done, struct fd_error *err);

/* Cancels what is outstanding and frees the pool (first in destroy). */
void fd_http_sink_stop(struct fd_http_sink *hs);

/* For close: waits for every request under way (fd_http_pool_drain).
 * Returns send_rc when it failed (the last batch's send, already in
 * *err), else the drain's error, else 0. */
int fd_http_sink_drain(struct fd_http_sink *hs, int send_rc, struct fd_error *err);

/* For a logs-only backend's close: a notice of the spans and metrics it
 * skipped (skipped[signal]), when any. */
void fd_http_sink_skipped_notice(struct fd_http_sink *hs, const char *backend,
				 const uint64_t skipped[FD_SIGNAL_COUNT]);

/* Frees the rest of the base, not the sink itself (last in destroy). */
void fd_http_sink_finish(struct fd_http_sink *hs);

/* "sink 'URI': option 'KEY': 'VAL': WHY", FD_EINPUT. */
int fd_http_bad_value(const char *uri, const char *key, const char *val, const char *why,
		      struct fd_error *err);

/* compression=gzip|none. */
int fd_http_compression_option(const char *uri, const char *val, bool *gzip,
			       struct fd_error *err);

/* encoding=proto|protobuf|json. */
int fd_http_encoding_option(const char *uri, const char *val, bool *json, struct fd_error *err);

#endif
