#include "sinks/registry.h"

#include <stddef.h>

static const char *const no_options[] = {NULL};

static const struct fd_sink_descriptor otlp_http_planned = {
	.scheme = "otlp-http",
	.synopsis = "otlp-http:URL",
	.summary = "planned: OTLP/HTTP export, not scheduled yet",
	.options = no_options,
};

const struct fd_sink_descriptor *const fd_sink_descriptors[] = {
	&fd_sink_file_descriptor,
	&fd_sink_dir_descriptor,
	&fd_sink_stdout_descriptor,
	&fd_sink_kafka_descriptor,
	&fd_sink_prom_rw_descriptor,
	&fd_sink_scrape_descriptor,
	&otlp_http_planned,
	NULL,
};
