#include "sink_registry.h"

const struct fd_sink_scheme fd_sink_schemes[] = {
	{"file", fd_sink_file_open, NULL},
	{"dir", NULL, "planned: issue #5, Replay"},
	{"kafka", NULL, "planned: issue #5, Replay"},
	{"stdout", NULL, "planned: issue #5, Replay"},
	{"prom-rw", NULL, "planned: issue #6, Metrics backends"},
	{"otlp-http", NULL, "planned: issue #6"},
	{"scrape", NULL, "planned: issue #6, Metrics backends"},
	{NULL, NULL, NULL},
};
