/* Byte-by-byte .fdr building for tests: see fdrbuild.h. */
#include "tests/support/fdrbuild.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "recording/crc32c.h"
#include "recording/format.h"

void bb_put(struct bb *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

void bb_u8(struct bb *b, uint8_t v)
{
	bb_put(b, &v, 1);
}

void bb_varint(struct bb *b, uint64_t v)
{
	uint8_t t[10];
	bb_put(b, t, fdr_put_varint(t, v));
}

/* A file header with empty metadata: the data starts at byte 20. */
void bb_file_header(struct bb *b, uint16_t major)
{
	uint8_t h[FDR_FILE_HEADER_LEN];
	memcpy(h, FDR_MAGIC, 8);
	fdr_put_u16(h + 8, major);
	fdr_put_u16(h + 10, 0);
	fdr_put_u32(h + 12, 0);
	fdr_put_u32(h + 16, fd_crc32c(0, "", 0));
	bb_put(b, h, sizeof(h));
}

/* Appends a block; returns its offset. zstd compresses the data when asked. */
uint64_t bb_block(struct bb *b, uint8_t type, const struct bb *raw, uint32_t count,
			 int64_t min, int64_t max, bool zstd)
{
	uint64_t off = b->n;
	struct fdr_block_header h = {
		.type = type, .compression = FDR_COMPRESSION_NONE, .stored_len = (uint32_t)raw->n,
		.raw_len = (uint32_t)raw->n, .count = count, .min_time = min, .max_time = max,
	};
	const uint8_t *data = raw->p;
	uint8_t *z = NULL;
	if (zstd) {
		size_t bound = ZSTD_compressBound(raw->n);
		z = malloc(bound);
		if (!z)
			abort();
		size_t zn = ZSTD_compress(z, bound, raw->p, raw->n, 1);
		if (ZSTD_isError(zn))
			abort();
		h.compression = FDR_COMPRESSION_ZSTD;
		h.stored_len = (uint32_t)zn;
		data = z;
	}
	h.data_crc = fd_crc32c(0, data, h.stored_len);
	uint8_t hb[FDR_BLOCK_HEADER_LEN];
	fdr_block_header_encode(hb, &h);
	bb_put(b, hb, sizeof(hb));
	bb_put(b, data, h.stored_len);
	free(z);
	return off;
}

void raw_entry(struct bb *raw, uint8_t kind, uint64_t id, const char *s)
{
	bb_u8(raw, kind);
	bb_varint(raw, id);
	bb_varint(raw, strlen(s));
	bb_put(raw, s, strlen(s));
}

void raw_record(struct bb *raw, uint8_t sig, int64_t delta, uint64_t res, uint64_t scope,
		       const char *payload)
{
	bb_u8(raw, sig);
	bb_varint(raw, fdr_zigzag(delta));
	bb_varint(raw, res);
	bb_varint(raw, scope);
	bb_varint(raw, strlen(payload));
	bb_put(raw, payload, strlen(payload));
}

/* A dictionary block with resource 0 and scope 0. */
uint64_t bb_dict(struct bb *b)
{
	struct bb raw = {0};
	raw_entry(&raw, FDR_DICT_RESOURCE, 0, "res");
	raw_entry(&raw, FDR_DICT_SCOPE, 0, "scope");
	uint64_t off = bb_block(b, FDR_BLOCK_DICTIONARY, &raw, 2, 0, 0, false);
	free(raw.p);
	return off;
}

/* A good record block of 2 records at times 100 and 150. */
uint64_t bb_good_records(struct bb *b)
{
	struct bb raw = {0};
	raw_record(&raw, 0, 0, 0, 0, "span");
	raw_record(&raw, 2, 50, 0, 0, "log");
	uint64_t off = bb_block(b, FDR_BLOCK_RECORDS, &raw, 2, 100, 150, true);
	free(raw.p);
	return off;
}

void bb_tail(struct bb *b, uint64_t index_off)
{
	uint8_t tail[FDR_TAIL_LEN];
	fdr_put_u64(tail, index_off);
	fdr_put_u32(tail + 8, fd_crc32c(0, tail, 8));
	memcpy(tail + 12, FDR_TAIL_MAGIC, 4);
	bb_put(b, tail, sizeof(tail));
}
