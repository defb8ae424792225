/*
 * Layout constants and little helpers shared by the recording writer and
 * reader. docs/recording-format.md is the specification; this header must
 * agree with it byte for byte.
 */
#ifndef FD_RECORDING_FORMAT_H
#define FD_RECORDING_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* PNG-style magic: a non-ASCII first byte, CR LF and ^Z catch files mangled
 * by text-mode transfers. */
#define FDR_MAGIC "\x89" "FDR\r\n\x1a\n"
#define FDR_MAGIC_LEN 8
#define FDR_VERSION_MAJOR 1
#define FDR_VERSION_MINOR 0
/* 1.1: records may carry a capture time (the signal byte's high bit). Only
 * files that hold capture times say 1.1, so every other file stays 1.0 and
 * byte for byte what it was. */
#define FDR_VERSION_MINOR_CAPTURE 1
#define FDR_RECORD_CAPTURE 0x80
#define FDR_FILE_HEADER_LEN 20      /* magic, major, minor, header_len, header_crc */
#define FDR_MAX_HEADER_LEN (16u << 20)

#define FDR_BLOCK_MAGIC "FDBK"
#define FDR_BLOCK_HEADER_LEN 44
#define FDR_MAX_RAW_LEN (64u << 20) /* a reader never allocates more per block */

/* The dictionary is held whole while reading, so its size is bounded too:
 * the sum over entries of their length plus a fixed charge for the entry
 * itself (what the intern table spends on it), whatever the compression. */
#define FDR_MAX_DICT_BYTES (256u << 20)
#define FDR_DICT_ENTRY_COST(len) ((uint64_t)(len) + 128)

/* Memory a reader grants protobuf-c to unpack the header metadata (per byte
 * of it) and the footer index (per entry, plus a share for the summary). */
#define FDR_HEADER_MEM_BASE (1u << 20)
#define FDR_HEADER_MEM_PER_BYTE 8
#define FDR_INDEX_MEM_BASE (4u << 20)
#define FDR_INDEX_MEM_PER_ENTRY 256

enum fdr_block_type {
	FDR_BLOCK_DICTIONARY = 1,
	FDR_BLOCK_RECORDS = 2,
	FDR_BLOCK_INDEX = 3,
};

enum fdr_compression {
	FDR_COMPRESSION_NONE = 0,
	FDR_COMPRESSION_ZSTD = 1,
};

enum fdr_dict_kind {
	FDR_DICT_RESOURCE = 1,
	FDR_DICT_SCOPE = 2,
};

#define FDR_TAIL_MAGIC "FDRE"
#define FDR_TAIL_LEN 16 /* index offset u64, crc32c of it, magic */

struct fdr_block_header {
	uint8_t type;
	uint8_t compression;
	uint32_t stored_len;
	uint32_t raw_len;
	uint32_t count;
	uint32_t data_crc;
	int64_t min_time;
	int64_t max_time;
};

static inline void fdr_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fdr_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void fdr_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t fdr_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fdr_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fdr_get_u64(const uint8_t *p)
{
	return (uint64_t)fdr_get_u32(p) | (uint64_t)fdr_get_u32(p + 4) << 32;
}

/* Varints are protobuf's: 7 bits per byte, little-endian groups, at most 10
 * bytes; they are read with the OTLP layer's wire reader (fd_pb_varint in
 * otlp/pbread.h), so a recording and an OTLP payload follow one set of edge
 * rules. Signed values are zigzag-encoded. */
static inline size_t fdr_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline uint64_t fdr_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t fdr_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void fdr_block_header_encode(uint8_t out[FDR_BLOCK_HEADER_LEN], const struct fdr_block_header *h);
/* Returns 0, -1 for a bad magic, -2 for a header checksum mismatch, -3 for
 * reserved bits set or an unknown type / compression or impossible sizes. */
int fdr_block_header_decode(const uint8_t in[FDR_BLOCK_HEADER_LEN], struct fdr_block_header *h);

#endif
