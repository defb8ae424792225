#include <stdlib.h>
#include <string.h>

#include "sources/source.h"

int fd_source_open(const char *uri, const struct fd_source_options *o, struct fd_source **out,
		   struct fd_error *err)
{
	*out = NULL;
	if (!strncmp(uri, "kafka://", 8))
		return fd_source_kafka_open(uri, uri + 8, o, out, err);
	if (!strncmp(uri, "dir:", 4))
		return fd_source_file_open(uri, uri + 4, true, o, out, err);
	if (!strncmp(uri, "file:", 5))
		return fd_source_file_open(uri, uri + 5, false, o, out, err);
	if (!strncmp(uri, "otlp-http:", 10))
		return fd_source_otlp_http_open(uri, uri + 10, o, out, err);
	return fd_error_set(err, FD_EINPUT,
			    "source '%s': expected kafka://HOST:PORT[,HOST:PORT...], dir:PATH, file:PATH "
			    "or otlp-http://HOST:PORT",
			    uri);
}

void fd_source_destroy(struct fd_source *s)
{
	if (s)
		s->impl->destroy(s);
}
