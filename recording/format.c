#include "recording/format.h"

#include "recording/crc32c.h"

void fdr_block_header_encode(uint8_t out[FDR_BLOCK_HEADER_LEN], const struct fdr_block_header *h)
{
	memcpy(out, FDR_BLOCK_MAGIC, 4);
	out[4] = h->type;
	out[5] = h->compression;
	out[6] = 0;
	out[7] = 0;
	fdr_put_u32(out + 8, h->stored_len);
	fdr_put_u32(out + 12, h->raw_len);
	fdr_put_u32(out + 16, h->count);
	fdr_put_u32(out + 20, h->data_crc);
	fdr_put_u64(out + 24, (uint64_t)h->min_time);
	fdr_put_u64(out + 32, (uint64_t)h->max_time);
	fdr_put_u32(out + 40, fd_crc32c(0, out, 40));
}

int fdr_block_header_decode(const uint8_t in[FDR_BLOCK_HEADER_LEN], struct fdr_block_header *h)
{
	if (memcmp(in, FDR_BLOCK_MAGIC, 4) != 0)
		return -1;
	if (fdr_get_u32(in + 40) != fd_crc32c(0, in, 40))
		return -2;
	h->type = in[4];
	h->compression = in[5];
	h->stored_len = fdr_get_u32(in + 8);
	h->raw_len = fdr_get_u32(in + 12);
	h->count = fdr_get_u32(in + 16);
	h->data_crc = fdr_get_u32(in + 20);
	h->min_time = (int64_t)fdr_get_u64(in + 24);
	h->max_time = (int64_t)fdr_get_u64(in + 32);
	if (in[6] || in[7])
		return -3;
	if (h->type < FDR_BLOCK_DICTIONARY || h->type > FDR_BLOCK_INDEX)
		return -3;
	if (h->compression > FDR_COMPRESSION_ZSTD)
		return -3;
	if (h->raw_len > FDR_MAX_RAW_LEN || h->stored_len > FDR_MAX_RAW_LEN + (FDR_MAX_RAW_LEN >> 7) + 4096)
		return -3;
	if (h->compression == FDR_COMPRESSION_NONE && h->stored_len != h->raw_len)
		return -3;
	if (h->min_time > h->max_time)
		return -3;
	return 0;
}
