/* record's message decoding on any bytes: OTLP/JSON (the jansson-based
 * reader, when the input starts with '{') or protobuf, any signal, split into
 * records with interned resources. Every record's bytes are read, so an
 * out-of-bounds payload shows under ASan. */
#include <stdint.h>

#include "fuzz/fuzz.h"
#include "otlp/decode.h"

static int touch(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	uint8_t *sum = ctx;
	for (size_t i = 0; i < rec->payload_len; i++)
		*sum ^= rec->payload[i];
	for (size_t i = 0; i < rec->resource->len; i++)
		*sum ^= rec->resource->data[i];
	for (size_t i = 0; i < rec->scope->len; i++)
		*sum ^= rec->scope->data[i];
	return 0;
}

static volatile uint8_t sink; /* keeps the reads from being optimized out */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_otlp_decoder *d = fd_otlp_decoder_create();
	if (!d)
		return 0;
	uint8_t sum = 0;
	struct fd_error err = {0};
	/* the signal left to detection, as for a file mixing signals */
	fd_otlp_decode(d, data, size, FD_OTLP_DETECT, -1, 1, NULL, touch, &sum, &err);
	/* and once with the signal a topic would give */
	fd_otlp_decode(d, data, size, FD_OTLP_DETECT, size % 3, 1, NULL, touch, &sum, &err);
	fd_otlp_decoder_destroy(d);
	sink = sum;
	return 0;
}
