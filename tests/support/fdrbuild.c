/* Byte-by-byte .fdr building for tests: see fdrbuild.h. */
#include "tests/support/fdrbuild.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "otlp/pbread.h"
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

/* The raw data of the block whose header is h at p (malloc'd). */
static uint8_t *block_raw(const uint8_t *p, const struct fdr_block_header *h)
{
	uint8_t *raw = malloc(h->raw_len ? h->raw_len : 1);
	if (!raw)
		abort();
	const uint8_t *data = p + FDR_BLOCK_HEADER_LEN;
	if (h->compression == FDR_COMPRESSION_NONE) {
		memcpy(raw, data, h->raw_len);
	} else if (ZSTD_decompress(raw, h->raw_len, data, h->stored_len) != h->raw_len) {
		abort();
	}
	return raw;
}

uint64_t bb_index(struct bb *b, void (*tamper)(Firedrill__V1__BlockIndex *ix, void *ctx),
		  void *ctx)
{
	Firedrill__V1__BlockRef **refs = NULL;
	size_t n = 0;
	uint64_t records[3] = {0}, bytes[3] = {0}, resources = 0, scopes = 0, any = 0;
	int64_t first = 0, last = 0;
	uint64_t off = FDR_FILE_HEADER_LEN + fdr_get_u32(b->p + 12);
	while (off < b->n) {
		struct fdr_block_header h;
		if (fdr_block_header_decode(b->p + off, &h) != 0)
			abort();
		Firedrill__V1__BlockRef *ref = malloc(sizeof(*ref));
		refs = realloc(refs, (n + 1) * sizeof(*refs));
		if (!ref || !refs)
			abort();
		firedrill__v1__block_ref__init(ref);
		ref->offset = off;
		ref->type = h.type;
		ref->min_time_unix_nano = h.min_time;
		ref->max_time_unix_nano = h.max_time;
		ref->record_count = h.count;
		ref->stored_len = h.stored_len;
		ref->raw_len = h.raw_len;
		refs[n++] = ref;
		uint8_t *raw = block_raw(b->p + off, &h);
		size_t i = 0;
		uint64_t v = 0;
		for (uint32_t k = 0; k < h.count; k++) {
			uint8_t tag = raw[i++];
			if (h.type == FDR_BLOCK_DICTIONARY) {
				*(tag == FDR_DICT_RESOURCE ? &resources : &scopes) += 1;
				i += fd_pb_varint(raw + i, h.raw_len - i, &v);
			} else {
				for (int f = 0; f < 3; f++)
					i += fd_pb_varint(raw + i, h.raw_len - i, &v);
				records[tag]++;
			}
			i += fd_pb_varint(raw + i, h.raw_len - i, &v);
			if (h.type == FDR_BLOCK_RECORDS)
				bytes[tag] += v;
			i += (size_t)v;
		}
		free(raw);
		if (h.type == FDR_BLOCK_RECORDS && h.count) {
			if (!any || h.min_time < first)
				first = h.min_time;
			if (!any || h.max_time > last)
				last = h.max_time;
			any = 1;
		}
		off += FDR_BLOCK_HEADER_LEN + h.stored_len;
	}
	Firedrill__V1__SignalStats sig[3], *sigp[3];
	for (int i = 0; i < 3; i++) {
		firedrill__v1__signal_stats__init(&sig[i]);
		sig[i].signal = (uint32_t)i;
		sig[i].records = records[i];
		sig[i].payload_bytes = bytes[i];
		sigp[i] = &sig[i];
	}
	Firedrill__V1__RecordingSummary sum = FIREDRILL__V1__RECORDING_SUMMARY__INIT;
	sum.first_time_unix_nano = (uint64_t)first;
	sum.last_time_unix_nano = (uint64_t)last;
	sum.n_signals = 3;
	sum.signals = sigp;
	sum.resource_count = resources;
	sum.scope_count = scopes;
	Firedrill__V1__BlockIndex ix = FIREDRILL__V1__BLOCK_INDEX__INIT;
	ix.n_blocks = n;
	ix.blocks = refs;
	ix.summary = &sum;
	if (tamper)
		tamper(&ix, ctx);
	struct bb raw = {0};
	raw.cap = firedrill__v1__block_index__get_packed_size(&ix) + 1;
	raw.p = malloc(raw.cap);
	if (!raw.p)
		abort();
	raw.n = firedrill__v1__block_index__pack(&ix, raw.p);
	uint64_t io = bb_block(b, FDR_BLOCK_INDEX, &raw, (uint32_t)n, first, last, false);
	bb_tail(b, io);
	for (size_t i = 0; i < n; i++)
		free(refs[i]);
	free(refs);
	free(raw.p);
	return io;
}
