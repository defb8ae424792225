/*
 * The table of sink schemes, one line per sink module. Internal to
 * fd_sink_open; a new sink adds its open function here and nowhere else.
 */
#ifndef FD_SINK_REGISTRY_H
#define FD_SINK_REGISTRY_H

#include "sinks/sink.h"

/* rest: the URI after "scheme:" (for kafka://, it starts with "//"). */
typedef int (*fd_sink_open_fn)(const char *uri, const char *rest,
			       const struct fd_sink_context *ctx, struct fd_sink **out,
			       struct fd_error *err);

struct fd_sink_scheme {
	const char *scheme;
	fd_sink_open_fn open; /* NULL: planned, not built yet */
	const char *note;
};

extern const struct fd_sink_scheme fd_sink_schemes[];

/* sinks/sink_file.c: the .fdr recording writer as a sink. */
int fd_sink_file_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err);

/* sinks/sink_dir.c: dir:PATH[?format=...], one file per signal. */
int fd_sink_dir_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err);

/* sinks/sink_stdout.c: stdout:[FORMAT][?options]. */
int fd_sink_stdout_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			struct fd_sink **out, struct fd_error *err);

/* sinks/sink_kafka.c: kafka://HOST:PORT[,...][?options], kafka://embedded. */
int fd_sink_kafka_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		       struct fd_sink **out, struct fd_error *err);

/* sinks/sink_prom_rw.c: prom-rw:URL[?options], Prometheus remote write. */
int fd_sink_prom_rw_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			 struct fd_sink **out, struct fd_error *err);

/* sinks/sink_scrape.c: scrape:[HOST]:PORT[?stale=D], a /metrics endpoint. */
int fd_sink_scrape_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			struct fd_sink **out, struct fd_error *err);

/* sinks/otlp_http.c: otlp-http://HOST:PORT[/PREFIX][?options], OTLP/HTTP
 * export; otlp-https:// over TLS. */
int fd_sink_otlp_http_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			   struct fd_sink **out, struct fd_error *err);
int fd_sink_otlp_https_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			    struct fd_sink **out, struct fd_error *err);
/* the same module: otlp-grpc://HOST:PORT[?options], OTLP/gRPC export;
 * otlp-grpcs:// over TLS. */
int fd_sink_otlp_grpc_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			   struct fd_sink **out, struct fd_error *err);
int fd_sink_otlp_grpcs_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			    struct fd_sink **out, struct fd_error *err);

/* sinks/es.c: es://HOST:PORT[/PREFIX][?options], logs as ECS documents
 * through Elasticsearch's _bulk API; es+https:// over TLS. */
int fd_sink_es_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		    struct fd_sink **out, struct fd_error *err);
int fd_sink_es_https_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			  struct fd_sink **out, struct fd_error *err);

/* sinks/loki.c: loki://HOST:PORT[/PREFIX][?options], logs through Loki's
 * push API; loki+https:// over TLS. */
int fd_sink_loki_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err);
int fd_sink_loki_https_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			    struct fd_sink **out, struct fd_error *err);

#endif
