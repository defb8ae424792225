/*
 * fdr-cat: writes the uncompressed record stream of a recording to stdout,
 * one record after another as signal (u8), time (u64 LE), resource id (u32
 * LE), payload length (u32 LE) and the OTLP payload. The benchmarks time
 * `zstd -1` on this stream to compare generation with compression alone.
 */
#include <stdio.h>
#include <string.h>

#include "recording/reader.h"

static void put_le(unsigned char *p, unsigned long long v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "Usage: fdr-cat FILE.fdr > records.bin\n");
		return 2;
	}
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(argv[1], &r, &err) < 0) {
		fprintf(stderr, "fdr-cat: %s\n", err.msg);
		return 2;
	}
	struct fd_record rec;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		unsigned char h[17];
		h[0] = (unsigned char)rec.signal;
		put_le(h + 1, (unsigned long long)rec.time_ns, 8);
		put_le(h + 9, rec.resource->id, 4);
		put_le(h + 13, rec.payload_len, 4);
		if (fwrite(h, 1, sizeof(h), stdout) != sizeof(h) ||
		    fwrite(rec.payload, 1, rec.payload_len, stdout) != rec.payload_len) {
			perror("fdr-cat: write");
			rc = -1;
			break;
		}
	}
	if (rc < 0 && err.msg[0])
		fprintf(stderr, "fdr-cat: %s\n", err.msg);
	fd_recording_reader_destroy(r);
	return rc < 0 ? 1 : 0;
}
