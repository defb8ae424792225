#include "sources/registry.h"

#include <stddef.h>

const struct fd_source_descriptor *const fd_source_descriptors[] = {
	&fd_source_kafka_descriptor,
	&fd_source_dir_descriptor,
	&fd_source_file_descriptor,
	&fd_source_otlp_http_descriptor,
	&fd_source_otlp_grpc_descriptor,
	NULL,
};
