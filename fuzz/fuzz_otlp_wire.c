/* Wire-level OTLP walkers (replay's rebase and routing) on any bytes: the
 * first byte picks the signal, the rest is the payload. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "otlp/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum fd_signal sig = (enum fd_signal)(data[0] % FD_SIGNAL_COUNT);
	size_t n = size - 1;
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, n);
	fd_otlp_rebase(sig, p, n, 123456789);
	const uint8_t *id;
	fd_otlp_span_trace_id(p, n, &id);
	char name[64];
	fd_otlp_resource_service(p, n, name, sizeof(name));
	free(p);
	return 0;
}
