#include "stream/record.h"

#include <string.h>

static const char *const signal_names[FD_SIGNAL_COUNT] = {"traces", "metrics", "logs"};

const char *fd_signal_name(enum fd_signal s)
{
	if ((unsigned)s >= FD_SIGNAL_COUNT)
		return NULL;
	return signal_names[s];
}

int fd_signal_parse(const char *name, enum fd_signal *out)
{
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		if (strcmp(name, signal_names[i]) == 0) {
			*out = (enum fd_signal)i;
			return 0;
		}
	}
	/* The collector's topic names say "spans"; accept what users type. */
	if (strcmp(name, "spans") == 0 || strcmp(name, "trace") == 0) {
		*out = FD_SIGNAL_TRACES;
		return 0;
	}
	if (strcmp(name, "metric") == 0) {
		*out = FD_SIGNAL_METRICS;
		return 0;
	}
	if (strcmp(name, "log") == 0) {
		*out = FD_SIGNAL_LOGS;
		return 0;
	}
	return -1;
}
