/*
 * The sinks: one descriptor per sink module (sink.h), listed in
 * fd_sink_descriptors (registry.c) in the order help shows them. A new sink
 * defines its descriptor in its own file and adds it here and to that list,
 * nowhere else: fd_sink_open, `replay --help` and the did-you-mean of an
 * unknown scheme all read the list.
 */
#ifndef FD_SINK_REGISTRY_H
#define FD_SINK_REGISTRY_H

#include "sinks/sink.h"

extern const struct fd_sink_descriptor fd_sink_file_descriptor;    /* sinks/file.c */
extern const struct fd_sink_descriptor fd_sink_dir_descriptor;     /* sinks/dir.c */
extern const struct fd_sink_descriptor fd_sink_stdout_descriptor;  /* sinks/stdout.c */
extern const struct fd_sink_descriptor fd_sink_kafka_descriptor;   /* sinks/kafka.c */
extern const struct fd_sink_descriptor fd_sink_prom_rw_descriptor; /* sinks/prom_rw.c */
extern const struct fd_sink_descriptor fd_sink_scrape_descriptor;  /* sinks/scrape.c */

extern const struct fd_sink_descriptor fd_sink_otlp_http_descriptor;  /* sinks/otlp_http.c */
extern const struct fd_sink_descriptor fd_sink_otlp_https_descriptor; /* sinks/otlp_http.c */
extern const struct fd_sink_descriptor fd_sink_otlp_grpc_descriptor;  /* sinks/otlp_http.c */
extern const struct fd_sink_descriptor fd_sink_otlp_grpcs_descriptor; /* sinks/otlp_http.c */
extern const struct fd_sink_descriptor fd_sink_es_descriptor;         /* sinks/es.c */
extern const struct fd_sink_descriptor fd_sink_es_https_descriptor;   /* sinks/es.c */
extern const struct fd_sink_descriptor fd_sink_loki_descriptor;       /* sinks/loki.c */
extern const struct fd_sink_descriptor fd_sink_loki_https_descriptor; /* sinks/loki.c */

#endif
