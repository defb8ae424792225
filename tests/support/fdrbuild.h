/*
 * Building .fdr files byte by byte, from docs/recording-format.md alone, for
 * tests that need files the writer never makes: broken rules with valid
 * checksums, crafted counts and sizes. Failures abort (test code).
 */
#ifndef FD_TEST_FDRBUILD_H
#define FD_TEST_FDRBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firedrill/v1/firedrill.pb-c.h"

/* A growing byte buffer; zero-initialize, free(b.p) at the end. */
struct bb {
	uint8_t *p;
	size_t n, cap;
};

void bb_put(struct bb *b, const void *data, size_t n);
void bb_u8(struct bb *b, uint8_t v);
void bb_varint(struct bb *b, uint64_t v);

/* A file header with empty metadata: the data starts at byte 20. */
void bb_file_header(struct bb *b, uint16_t major);

/* Appends a block whose data is raw (zstd-compressed when asked); returns
 * its offset. */
uint64_t bb_block(struct bb *b, uint8_t type, const struct bb *raw, uint32_t count, int64_t min,
		  int64_t max, bool zstd);

/* Appends the 16-byte tail pointing at the index block at index_off. */
void bb_tail(struct bb *b, uint64_t index_off);

/* Appends a footer index describing every block of b after its file header,
 * with a summary that agrees with them (records and bytes per signal, time
 * range, dictionary sizes), then the tail. tamper, when not NULL, may change
 * the index before it is packed. Returns the index block's offset. */
uint64_t bb_index(struct bb *b, void (*tamper)(Firedrill__V1__BlockIndex *ix, void *ctx),
		  void *ctx);

/* One dictionary entry / one record, appended to a block's raw data. */
void raw_entry(struct bb *raw, uint8_t kind, uint64_t id, const char *s);
void raw_record(struct bb *raw, uint8_t sig, int64_t delta, uint64_t res, uint64_t scope,
		const char *payload);

/* A dictionary block with resource 0 ("res") and scope 0 ("scope"). */
uint64_t bb_dict(struct bb *b);

/* A good record block of 2 records at times 100 and 150. */
uint64_t bb_good_records(struct bb *b);

#endif
