#include "sinks/registry.h"

const struct fd_sink_scheme fd_sink_schemes[] = {
	{"file", fd_sink_file_open, NULL},
	{"dir", fd_sink_dir_open, NULL},
	{"kafka", fd_sink_kafka_open, NULL},
	{"stdout", fd_sink_stdout_open, NULL},
	{"prom-rw", fd_sink_prom_rw_open, NULL},
	{"otlp-http", fd_sink_otlp_http_open, NULL},
	{"otlp-https", fd_sink_otlp_https_open, NULL},
	{"scrape", fd_sink_scrape_open, NULL},
	{"es", fd_sink_es_open, NULL},
	{"es+https", fd_sink_es_https_open, NULL},
	{"loki", fd_sink_loki_open, NULL},
	{"loki+https", fd_sink_loki_https_open, NULL},
	{"otlp-grpc", fd_sink_otlp_grpc_open, NULL},
	{"otlp-grpcs", fd_sink_otlp_grpcs_open, NULL},
	{NULL, NULL, NULL},
};
