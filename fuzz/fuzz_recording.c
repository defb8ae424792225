/* Recording reader: any bytes read as a recording never crash, hang or read
 * out of bounds; every record read is inside its block. Reads the stream,
 * then seeks back into the middle and reads again. */
#include "fuzz/fuzz.h"
#include "fuzz/read_recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read_recording(data, size);
	return 0;
}
