/*
 * The capture sources: one descriptor per source (source.h), listed in
 * fd_source_descriptors (registry.c) in the order help shows them. A new
 * source defines its descriptor in its own file and adds it here and to
 * that list: fd_source_open, `record --help` and the did-you-mean of an
 * unknown scheme all read the list.
 */
#ifndef FD_SOURCE_REGISTRY_H
#define FD_SOURCE_REGISTRY_H

#include "sources/source.h"

extern const struct fd_source_descriptor fd_source_kafka_descriptor; /* sources/kafka.c */
extern const struct fd_source_descriptor fd_source_dir_descriptor;   /* sources/file.c */
extern const struct fd_source_descriptor fd_source_file_descriptor;  /* sources/file.c */
extern const struct fd_source_descriptor fd_source_otlp_http_descriptor; /* sources/otlp_http.c */
extern const struct fd_source_descriptor fd_source_otlp_grpc_descriptor; /* sources/otlp_grpc.c */

#endif
