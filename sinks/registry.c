#include "sinks/registry.h"

#include <stddef.h>

const struct fd_sink_descriptor *const fd_sink_descriptors[] = {
	&fd_sink_file_descriptor,
	&fd_sink_dir_descriptor,
	&fd_sink_stdout_descriptor,
	&fd_sink_kafka_descriptor,
	&fd_sink_prom_rw_descriptor,
	&fd_sink_scrape_descriptor,
	&fd_sink_otlp_http_descriptor,
	&fd_sink_otlp_https_descriptor,
	&fd_sink_otlp_grpc_descriptor,
	&fd_sink_otlp_grpcs_descriptor,
	&fd_sink_es_descriptor,
	&fd_sink_es_https_descriptor,
	&fd_sink_loki_descriptor,
	&fd_sink_loki_https_descriptor,
	NULL,
};
