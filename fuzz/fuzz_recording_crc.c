/* Recording reader past the checksums: random mutations almost always break
 * a CRC, so the plain recording target stops at the first block. This one
 * repairs every checksum of the input first — the file header's, each
 * block header's and block data's (walking the blocks by their stored
 * lengths), the tail's — and then reads it as fuzz_recording does, so the
 * damage reaches the decoders: sizes, counts, varints, dictionary ids, the
 * index and its summary (issue 20). */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "fuzz/read_recording.h"
#include "recording/crc32c.h"
#include "recording/format.h"

static void repair(uint8_t *p, size_t size)
{
	if (size < FDR_FILE_HEADER_LEN || memcmp(p, FDR_MAGIC, FDR_MAGIC_LEN) != 0)
		return;
	uint64_t hlen = fdr_get_u32(p + 12);
	if (FDR_FILE_HEADER_LEN + hlen > size)
		return;
	fdr_put_u32(p + 16, fd_crc32c(0, p + FDR_FILE_HEADER_LEN, (size_t)hlen));
	uint64_t off = FDR_FILE_HEADER_LEN + hlen;
	while (off + FDR_BLOCK_HEADER_LEN <= size && memcmp(p + off, FDR_BLOCK_MAGIC, 4) == 0) {
		uint64_t stored = fdr_get_u32(p + off + 8);
		uint64_t end = off + FDR_BLOCK_HEADER_LEN + stored;
		if (end <= size)
			fdr_put_u32(p + off + 20, fd_crc32c(0, p + off + FDR_BLOCK_HEADER_LEN, (size_t)stored));
		fdr_put_u32(p + off + 40, fd_crc32c(0, p + off, 40));
		if (end > size)
			break;
		off = end;
	}
	if (size >= FDR_TAIL_LEN && memcmp(p + size - 4, FDR_TAIL_MAGIC, 4) == 0)
		fdr_put_u32(p + size - 8, fd_crc32c(0, p + size - FDR_TAIL_LEN, 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	repair(copy, size);
	fuzz_read_recording(copy, size);
	free(copy);
	return 0;
}
