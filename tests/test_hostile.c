/*
 * recording/: crafted recordings (issue 20). Every count and length a file
 * gives is checked against what the file can hold before memory is spent on
 * it, so reading stays in bounded memory for any input; repeated dictionary
 * entries cost O(1) each.
 *
 * The crafted files are made here from docs/recording-format.md, with valid
 * checksums so that the damage reaches the parser. `test_hostile --write DIR`
 * writes small versions of them (the fuzz corpus in fuzz/corpus/recording/
 * holds them) and extreme-*.fdr, which tests/cli/hostile.sh uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "recording/crc32c.h"
#include "recording/format.h"
#include "recording/reader.h"
#include "recording/writer.h"
#include "tests/support/fdrbuild.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

/* ---------------------------------------------------------- crafted files */

/* A dictionary, two records, and a compressed footer index whose raw data is
 * `entries` empty BlockRefs (2 bytes each: 64 MiB of them unpacked naively is
 * 4 GB) while its block header says `count`. */
static void craft_index_bomb(struct bb *b, uint32_t entries, uint32_t count)
{
	bb_file_header(b, 1);
	bb_dict(b);
	bb_good_records(b);
	struct bb raw = {0};
	for (uint32_t i = 0; i < entries; i++)
		bb_put(&raw, "\x0a\x00", 2); /* field 1 (blocks), length 0 */
	uint64_t io = bb_block(b, FDR_BLOCK_INDEX, &raw, count, 100, 150, true);
	bb_tail(b, io);
	free(raw.p);
}

/* One dictionary block defining the same resource n times (ids 0..n-1), a
 * scope, then a record that uses the last id. No footer. */
static void craft_dict_repeats(struct bb *b, uint32_t n)
{
	bb_file_header(b, 1);
	struct bb raw = {0};
	for (uint32_t i = 0; i < n; i++)
		raw_entry(&raw, FDR_DICT_RESOURCE, i, "service.name=checkout");
	raw_entry(&raw, FDR_DICT_SCOPE, 0, "scope");
	bb_block(b, FDR_BLOCK_DICTIONARY, &raw, n + 1, 0, 0, true);
	raw.n = 0;
	raw_record(&raw, 0, 0, n - 1, 0, "span");
	bb_block(b, FDR_BLOCK_RECORDS, &raw, 1, 100, 100, false);
	free(raw.p);
}

/* Dictionary blocks of `per_block` resources of `len` zero bytes each,
 * `blocks` of them: small compressed, gigabytes held if nothing bounds them. */
static void craft_dict_bomb(struct bb *b, uint32_t per_block, uint32_t blocks, size_t len)
{
	bb_file_header(b, 1);
	struct bb raw = {0};
	uint32_t id = 0;
	uint8_t *zeros = calloc(1, len + 1);
	assert_non_null(zeros);
	for (uint32_t k = 0; k < blocks; k++) {
		raw.n = 0;
		for (uint32_t i = 0; i < per_block; i++) {
			bb_u8(&raw, FDR_DICT_RESOURCE);
			bb_varint(&raw, id++);
			bb_varint(&raw, len);
			bb_put(&raw, zeros, len);
		}
		bb_block(b, FDR_BLOCK_DICTIONARY, &raw, per_block, 0, 0, true);
	}
	free(zeros);
	free(raw.p);
}

/* A file header whose metadata is `props` empty properties (2 bytes each). */
static void craft_header_bomb(struct bb *b, uint32_t props)
{
	uint8_t h[FDR_FILE_HEADER_LEN];
	struct bb meta = {0};
	for (uint32_t i = 0; i < props; i++)
		bb_put(&meta, "\x52\x00", 2); /* field 10 (properties), length 0 */
	memcpy(h, FDR_MAGIC, 8);
	fdr_put_u16(h + 8, 1);
	fdr_put_u16(h + 10, 0);
	fdr_put_u32(h + 12, (uint32_t)meta.n);
	fdr_put_u32(h + 16, fd_crc32c(0, meta.p, meta.n));
	bb_put(b, h, sizeof(h));
	bb_put(b, meta.p, meta.n);
	bb_dict(b);
	bb_good_records(b);
	free(meta.p);
}

/* ---------------------------------------------------------------- helpers */

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* What reading a crafted file gave: the first error (or 0) with its
 * message, the records read, and how far the peak RSS grew meanwhile. */
struct outcome {
	int rc;
	uint64_t records;
	long grown_kb;
	struct fd_error err;
};

/* Opens b from memory and reads it to the end, in a child process: the peak
 * RSS is per process, so each file is measured on its own. */
static struct outcome read_crafted(const struct bb *b)
{
	struct outcome o = {0};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		long before = peak_rss_kb();
		FILE *mf = tu_memfile(b->p, b->n);
		struct fd_recording_reader *r = NULL;
		o.rc = mf ? fd_recording_reader_open_file(mf, "crafted.fdr", &r, &o.err) : -FD_ERUNTIME;
		if (o.rc == 0) {
			struct fd_record rec;
			while ((o.rc = fd_recording_reader_next(r, &rec, &o.err)) > 0)
				o.records++;
			fd_recording_reader_destroy(r);
		}
		o.grown_kb = peak_rss_kb() - before;
		_exit(write(fds[1], &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], &o, sizeof(o));
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (got != (ssize_t)sizeof(o) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the reading process died (status %#x)", status);
	return o;
}

/* Peak RSS may grow by at most this while reading a crafted file: a block
 * (64 MiB), what protobuf-c is granted, and a little. Without the bounds
 * each file here costs gigabytes. */
#define BOUNDED_KB_PLAIN (160 * 1024)
#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer freed blocks wait in a 256 MiB quarantine and every
 * block carries redzones, so peak RSS says little; the bound still tells a
 * bounded read from the gigabytes of an unbounded one, and the plain build
 * (tests run in CI both ways) holds the real bound. */
#define BOUNDED_KB (2 * BOUNDED_KB_PLAIN + 256 * 1024)
#else
#define BOUNDED_KB BOUNDED_KB_PLAIN
#endif

static void assert_outcome(const struct outcome *o, long bound_kb, const char *needle,
			   const char *what)
{
	if (o->grown_kb > bound_kb)
		fail_msg("%s: peak RSS grew by %ld MB", what, o->grown_kb / 1024);
	if (needle && (o->rc != -FD_EINPUT || !strstr(o->err.msg, needle)))
		fail_msg("%s: expected an input error saying \"%s\", got %d: %s", what, needle, o->rc,
			 o->err.msg);
	if (!needle && o->rc != 0)
		fail_msg("%s: %s", what, o->err.msg);
}

/* ------------------------------------------------------------------ tests */

/* The 397 KB file of issue 20: an index of 32 Mi empty entries. */
static void test_index_bomb(void **state)
{
	(void)state;
	struct bb b = {0};
	craft_index_bomb(&b, 32u << 20, 2);
	struct outcome o = read_crafted(&b);
	assert_outcome(&o, BOUNDED_KB, "index needs more memory than its entry count allows",
		       "index bomb");
	/* a block header claiming them all is refused before decompressing */
	b.n = 0;
	craft_index_bomb(&b, 1u << 20, 1u << 20);
	o = read_crafted(&b);
	assert_outcome(&o, BOUNDED_KB,
		       "index claims 1048576 entries where the file has room for 2 blocks",
		       "index bomb with its count");
	free(b.p);
}

static void test_header_bomb(void **state)
{
	(void)state;
	struct bb b = {0};
	craft_header_bomb(&b, FDR_MAX_HEADER_LEN / 2); /* 8 Mi properties */
	struct outcome o = read_crafted(&b);
	/* the 16 MiB file itself is in the reading process twice */
	assert_outcome(&o, BOUNDED_KB + 32 * 1024,
		       "header metadata does not decode in the memory its size allows", "header bomb");
	/* a header of a few properties still reads */
	b.n = 0;
	craft_header_bomb(&b, 1000);
	o = read_crafted(&b);
	assert_outcome(&o, BOUNDED_KB, NULL, "small header");
	assert_int_equal(o.records, 2);
	free(b.p);
}

static void test_dictionary_bomb(void **state)
{
	(void)state;
	struct bb b = {0};
	/* empty entries charged 128 bytes each: over the 256 MiB limit in the
	 * third block (unbounded, every further block would add 100 MB) */
	craft_dict_bomb(&b, 1u << 20, 12, 0);
	struct outcome o = read_crafted(&b);
	assert_outcome(&o, 2 * BOUNDED_KB, "the dictionary grows past the format's limit of 256 MiB",
		       "dictionary bomb");
	assert_non_null(strstr(o.err.msg, "block 2 at byte offset"));
	/* few big entries: the bytes count (300 MiB from a few kilobytes) */
	b.n = 0;
	craft_dict_bomb(&b, 60, 5, 1u << 20);
	o = read_crafted(&b);
	assert_outcome(&o, 256 * 1024 + BOUNDED_KB,
		       "the dictionary grows past the format's limit of 256 MiB", "big entries");
	assert_non_null(strstr(o.err.msg, "block 4 at byte offset"));
	free(b.p);
}

/* Issue 20: 400k repeats of one entry took 70 s (quadratic); now O(1)
 * each, and every id still resolves. Slow without the fix: meson's timeout
 * fails it. */
static void test_dictionary_repeats(void **state)
{
	(void)state;
	struct bb b = {0};
	craft_dict_repeats(&b, 400000);
	struct outcome o = read_crafted(&b);
	assert_outcome(&o, BOUNDED_KB, NULL, "repeated entries");
	assert_int_equal(o.records, 1);
	free(b.p);
}

/* ------------------------------------------- the index against the blocks */

/* A dictionary (block 0), then three record blocks of the same size with
 * records at 100 and 150, 200 and 250, 300 and 350 (blocks 1, 2, 3). */
static void craft_three_blocks(struct bb *b, uint64_t off[4])
{
	bb_file_header(b, 1);
	off[0] = bb_dict(b);
	struct bb raw = {0};
	for (int k = 1; k <= 3; k++) {
		raw.n = 0;
		raw_record(&raw, 0, 0, 0, 0, "span");
		raw_record(&raw, 2, 50, 0, 0, "logs");
		off[k] = bb_block(b, FDR_BLOCK_RECORDS, &raw, 2, 100 * k, 100 * k + 50, false);
	}
	free(raw.p);
}

/* Opens b (it must open), optionally seeks, reads to the end; returns the
 * times read in t[] (at most 8) and the final status. */
static int read_times(const struct bb *b, bool seek, int64_t at, int64_t t[8], size_t *n,
		      struct fd_error *err)
{
	FILE *mf = tu_memfile(b->p, b->n);
	struct fd_recording_reader *r = NULL;
	*n = 0;
	if (fd_recording_reader_open_file(mf, "crafted.fdr", &r, err) != 0)
		fail_msg("open: %s", err->msg);
	assert_non_null(fd_recording_reader_index(r));
	int rc = seek ? fd_recording_reader_seek(r, at, err) : 0;
	struct fd_record rec;
	if (rc == 0)
		while ((rc = fd_recording_reader_next(r, &rec, err)) > 0)
			if (*n < 8)
				t[(*n)++] = rec.time_ns;
	fd_recording_reader_destroy(r);
	return rc;
}

static void test_index_intact(void **state)
{
	(void)state;
	struct bb b = {0};
	uint64_t off[4];
	craft_three_blocks(&b, off);
	bb_index(&b, NULL, NULL);
	struct fd_error err = {0};
	int64_t t[8];
	size_t n;
	if (read_times(&b, false, 0, t, &n, &err) != 0)
		fail_msg("whole read: %s", err.msg);
	assert_int_equal(n, 6);
	assert_int_equal(read_times(&b, true, 220, t, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(t[0] == 250 && t[1] == 300 && t[2] == 350);
	free(b.p);
}

/* Issue 20: two blocks swapped in the file, the index left as it was:
 * verify passed, and a window returned records outside it. */
static void test_swapped_blocks(void **state)
{
	(void)state;
	struct bb b = {0};
	uint64_t off[4];
	craft_three_blocks(&b, off);
	bb_index(&b, NULL, NULL);
	size_t len = off[3] - off[2];
	uint8_t *tmp = malloc(len);
	assert_non_null(tmp);
	memcpy(tmp, b.p + off[2], len);
	memmove(b.p + off[2], b.p + off[3], len);
	memcpy(b.p + off[3], tmp, len);
	free(tmp);
	struct fd_error err = {0};
	int64_t t[8];
	size_t n;
	char where[64];
	snprintf(where, sizeof(where), "block 2 at byte offset %llu", (unsigned long long)off[2]);
	/* a whole read (inspect --verify) names the first block out of place */
	assert_int_equal(read_times(&b, false, 0, t, &n, &err), -FD_EINPUT);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, where));
	assert_non_null(strstr(err.msg, "differs from its index entry (min time: index 200, block 300)"));
	/* a seek (replay --from) does not jump on the word of the index */
	assert_int_equal(read_times(&b, true, 300, t, &n, &err), -FD_EINPUT);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, where));
	free(b.p);
}

static void shrink_max_time(Firedrill__V1__BlockIndex *ix, void *ctx)
{
	(void)ctx;
	ix->blocks[2]->max_time_unix_nano = 210; /* the block's records go to 250 */
}

/* Issue 20: an index whose max time is too small made a window skip the
 * records past it, silently. */
static void test_index_max_time_too_small(void **state)
{
	(void)state;
	struct bb b = {0};
	uint64_t off[4];
	craft_three_blocks(&b, off);
	bb_index(&b, shrink_max_time, NULL);
	struct fd_error err = {0};
	int64_t t[8];
	size_t n;
	assert_int_equal(read_times(&b, true, 220, t, &n, &err), -FD_EINPUT);
	assert_int_equal(n, 0); /* not 300 and 350 without 250 */
	assert_non_null(strstr(err.msg, "block 2 at byte offset"));
	assert_non_null(strstr(err.msg, "(max time: index 210, block 250)"));
	assert_int_equal(read_times(&b, false, 0, t, &n, &err), -FD_EINPUT);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, "(max time: index 210, block 250)"));
	free(b.p);
}

static void tamper_summary(Firedrill__V1__BlockIndex *ix, void *ctx)
{
	switch (*(int *)ctx) {
	case 0: ix->summary->signals[2]->payload_bytes += 1; break;
	case 1: ix->summary->signals[0]->records += 1; ix->summary->signals[2]->records -= 1; break;
	case 2: ix->summary->resource_count = 7; break;
	case 3: ix->summary->last_time_unix_nano = 300; break;
	case 4: ix->summary->signals[0]->records += 1; break;
	}
}

/* The summary (what inspect prints from the index) must be what the blocks
 * hold: checked at the end of a whole read, or at open for what the entries
 * also say. */
static void test_summary_checked(void **state)
{
	(void)state;
	static const char *const want[] = {
		"summary says 13 logs payload bytes, the blocks hold 12",
		"summary says 4 traces records, the blocks hold 3",
		"summary says 7 resources and 1 scopes, the dictionaries define 1 and 1",
		"the summary's time range differs from the entries'",
		"the summary's record count differs from the entries'",
	};
	for (int v = 0; v < 5; v++) {
		struct bb b = {0};
		uint64_t off[4];
		craft_three_blocks(&b, off);
		uint64_t io = bb_index(&b, tamper_summary, &v);
		FILE *mf = tu_memfile(b.p, b.n);
		struct fd_recording_reader *r = NULL;
		struct fd_error err = {0};
		int rc = fd_recording_reader_open_file(mf, "crafted.fdr", &r, &err);
		struct fd_record rec;
		uint64_t records = 0;
		if (rc == 0)
			while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0)
				records++;
		fd_recording_reader_destroy(r);
		char where[64];
		snprintf(where, sizeof(where), "block 4 at byte offset %llu", (unsigned long long)io);
		if (rc != -FD_EINPUT || !strstr(err.msg, want[v]) || !strstr(err.msg, where))
			fail_msg("variant %d: got %d: %s", v, rc, err.msg);
		assert_int_equal(records, v < 3 ? 6 : 0);
		free(b.p);
	}
}

/* ------------------------------------------------------------------- main */

/* Records at the ends of int64 time (real OTLP payloads from synth); with
 * `declared`, a header carrying a scenario whose timeline starts 5 ns before
 * the end of time. Every sum of times in inspect and replay must be checked. */
static const char extreme_scenario[] =
	"name: extreme\n"
	"duration: 1h\n"
	"services:\n"
	"  web:\n"
	"    endpoints:\n"
	"      \"GET /\": {self: {p50: 5ms, p95: 20ms}}\n"
	"traffic:\n"
	"  - {entry: web \"GET /\", rate: 1/s}\n"
	"timeline:\n"
	"  - {at: 10m, deploy: {service: web, version: v2}}\n";

static int write_extreme_times(const char *path, bool declared)
{
	Firedrill__V1__RecordingHeader h = FIREDRILL__V1__RECORDING_HEADER__INIT;
	h.source_kind = "synthetic";
	if (declared) {
		h.source_kind = "scenario";
		h.scenario_name = "extreme";
		h.scenario_source = (char *)extreme_scenario;
		h.start_time_unix_nano = (uint64_t)INT64_MAX - 5;
		h.end_time_unix_nano = (uint64_t)INT64_MAX;
	}
	struct fd_synth_options so = {.seed = 9};
	struct fd_synth *syn = fd_synth_create(&so);
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	if (!syn || fd_recording_writer_create(path, &h, NULL, &w, &err) != 0)
		return -1;
	static const int64_t times[] = {INT64_MIN + 1, 0, INT64_MAX};
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		struct fd_record rec;
		rc = fd_synth_next(syn, &rec);
		rec.time_ns = times[i];
		if (rc == 0)
			rc = fd_recording_writer_add(w, &rec, &err);
	}
	if (rc == 0)
		rc = fd_recording_writer_finish(w, &err);
	fd_recording_writer_destroy(w);
	fd_synth_destroy(syn);
	return rc;
}

static int write_corpus(const char *dir)
{
	struct {
		const char *name;
		struct bb b;
	} files[] = {{"index-bomb.fdr", {0}}, {"dict-repeats.fdr", {0}}, {"dict-bomb.fdr", {0}},
		     {"header-bomb.fdr", {0}}};
	/* small versions: the fuzzers take at most 64 KB */
	craft_index_bomb(&files[0].b, 8u << 20, 2);
	craft_dict_repeats(&files[1].b, 20000);
	craft_dict_bomb(&files[2].b, 60, 5, 1u << 20);
	craft_header_bomb(&files[3].b, 20000);
	int status = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = tu_path(dir, files[i].name);
		if (!p || tu_write_file(p, files[i].b.p, files[i].b.n) != 0) {
			fprintf(stderr, "cannot write %s\n", p ? p : files[i].name);
			status = 1;
		} else {
			printf("%s: %zu bytes\n", p, files[i].b.n);
		}
		free(p);
		free(files[i].b.p);
	}
	for (int declared = 0; declared < 2; declared++) {
		const char *name = declared ? "extreme-start.fdr" : "extreme-times.fdr";
		char *p = tu_path(dir, name);
		if (!p || write_extreme_times(p, declared) != 0) {
			fprintf(stderr, "cannot write %s\n", name);
			status = 1;
		}
		free(p);
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write"))
		return write_corpus(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_bomb),
		cmocka_unit_test(test_header_bomb),
		cmocka_unit_test(test_dictionary_bomb),
		cmocka_unit_test(test_dictionary_repeats),
		cmocka_unit_test(test_index_intact),
		cmocka_unit_test(test_swapped_blocks),
		cmocka_unit_test(test_index_max_time_too_small),
		cmocka_unit_test(test_summary_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
