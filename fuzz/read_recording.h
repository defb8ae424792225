/* What the recording fuzz targets do with a file once they have it: read
 * the stream, then seek back into the middle and read again. Every record
 * read must lie inside the input's bytes (ASan checks it). */
#ifndef FD_FUZZ_READ_RECORDING_H
#define FD_FUZZ_READ_RECORDING_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "recording/reader.h"

static inline void fuzz_read_recording(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
	if (!f)
		return;
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open_file(f, "fuzz.fdr", &r, &err) < 0)
		return;
	struct fd_record rec;
	int64_t mid = 0;
	uint64_t n = 0;
	while (fd_recording_reader_next(r, &rec, &err) > 0 && n < 1000000) {
		if (n++ == 3)
			mid = rec.time_ns;
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < rec.payload_len; i++)
			sink ^= rec.payload[i];
		(void)sink;
	}
	if (fd_recording_reader_seek(r, mid, &err) == 0)
		while (fd_recording_reader_next(r, &rec, &err) > 0 && n++ < 2000000)
			;
	fd_recording_reader_destroy(r);
}

#endif
