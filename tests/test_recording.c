/*
 * recording/: the .fdr writer and reader.
 *
 * Round trips (records, header, summary, figures, extremes), seeking by time
 * with and without the footer index, truncation at every byte offset,
 * corruption of every byte and random damage, hand-made files that break
 * each rule of docs/recording-format.md with valid checksums, resource
 * de-duplication, temporary files and renaming, large headers, determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "recording/crc32c.h"
#include "recording/format.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "recording/reader.h"
#include "tests/support/fdrbuild.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"
#include "recording/writer.h"

/* ---------------------------------------------------------------- helpers */

/* a fresh temporary directory per test: tu_dir_setup / tu_dir_teardown */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Writes n synthetic records to path at zstd level (0: the default) and
 * keeps copies of them in *want. */
static void write_synth_level(const char *path, uint64_t n, uint64_t seed, size_t block_size,
			      int level, struct tu_recs *want)
{
	struct fd_synth_options so = {.seed = seed};
	struct fd_synth_header h;
	fd_synth_header_init(&h, &so, n);
	struct fd_recording_writer_options wo = {.block_size = block_size, .zstd_level = level};
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	if (fd_recording_writer_create(path, &h.header, &wo, &w, &err) != 0)
		fail_msg("create %s: %s", path, err.msg);
	struct fd_synth *s = fd_synth_create(&so);
	assert_non_null(s);
	for (uint64_t i = 0; i < n; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(s, &rec), 0);
		if (fd_recording_writer_add(w, &rec, &err) != 0)
			fail_msg("add: %s", err.msg);
		if (want)
			tu_recs_add(want, &rec);
	}
	if (fd_recording_writer_finish(w, &err) != 0)
		fail_msg("finish: %s", err.msg);
	fd_recording_writer_destroy(w);
	fd_synth_destroy(s);
}

static void write_synth(const char *path, uint64_t n, uint64_t seed, size_t block_size,
			struct tu_recs *want)
{
	write_synth_level(path, n, seed, block_size, 0, want);
}

static void write_records(const char *path, const struct fd_record *recs, size_t n,
			  size_t block_size)
{
	struct fd_recording_writer_options wo = {.block_size = block_size};
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	if (fd_recording_writer_create(path, NULL, &wo, &w, &err) != 0)
		fail_msg("create %s: %s", path, err.msg);
	for (size_t i = 0; i < n; i++)
		if (fd_recording_writer_add(w, &recs[i], &err) != 0)
			fail_msg("add %zu: %s", i, err.msg);
	if (fd_recording_writer_finish(w, &err) != 0)
		fail_msg("finish: %s", err.msg);
	fd_recording_writer_destroy(w);
}

static struct fd_recording_reader *open_path(const char *path)
{
	struct fd_recording_reader *r = NULL;
	struct fd_error err = {0};
	if (fd_recording_reader_open(path, &r, &err) != 0)
		fail_msg("open %s: %s", path, err.msg);
	return r;
}

/* Reads to the end or the first error, copying what was yielded. */
static int read_all(struct fd_recording_reader *r, struct tu_recs *got, struct fd_error *err)
{
	struct fd_record rec;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, err)) > 0)
		tu_recs_add(got, &rec);
	return rc;
}

/* got must equal want[from .. to). */
static void assert_same(const struct tu_recs *want, size_t from, size_t to,
			const struct tu_recs *got, const char *what)
{
	if (got->n != to - from)
		fail_msg("%s: %zu records read, expected %zu", what, got->n, to - from);
	for (size_t i = 0; i < got->n; i++) {
		const char *why = tu_rec_diff2(&want->v[from + i], &got->v[i]);
		if (why)
			fail_msg("%s: record %zu: %s", what, from + i, why);
	}
}

/* First index in want with time >= t (want is in time order). */
static size_t lower_bound(const struct tu_recs *want, int64_t t)
{
	size_t i = 0;
	while (i < want->n && want->v[i].time_ns < t)
		i++;
	return i;
}

static void assert_contains(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("message \"%s\" does not contain \"%s\"", msg, needle);
}

/* The block layout of a complete recording, from its bytes alone. */
struct layout {
	uint64_t size, data_start, index_off, index_end;
	size_t nblocks; /* excluding the index block */
	struct {
		uint64_t off, end;
		uint8_t type;
		uint32_t count;
	} b[4096];
};

static void parse_layout(const uint8_t *p, size_t len, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	l->size = len;
	l->data_start = FDR_FILE_HEADER_LEN + fdr_get_u32(p + 12);
	l->index_off = fdr_get_u64(p + len - FDR_TAIL_LEN);
	l->index_end = len - FDR_TAIL_LEN;
	uint64_t off = l->data_start;
	while (off < l->index_off) {
		struct fdr_block_header h;
		assert_int_equal(fdr_block_header_decode(p + off, &h), 0);
		assert_true(l->nblocks < sizeof(l->b) / sizeof(l->b[0]));
		l->b[l->nblocks].off = off;
		l->b[l->nblocks].end = off + FDR_BLOCK_HEADER_LEN + h.stored_len;
		l->b[l->nblocks].type = h.type;
		l->b[l->nblocks].count = h.count;
		off = l->b[l->nblocks].end;
		l->nblocks++;
	}
	assert_true(off == l->index_off);
	struct fdr_block_header h;
	assert_int_equal(fdr_block_header_decode(p + l->index_off, &h), 0);
	assert_int_equal(h.type, FDR_BLOCK_INDEX);
	assert_true(l->index_off + FDR_BLOCK_HEADER_LEN + h.stored_len == l->index_end);
}

/* Records in the record blocks that end at or before offset `end`. */
static size_t records_before(const struct layout *l, uint64_t end)
{
	size_t n = 0;
	for (size_t i = 0; i < l->nblocks; i++)
		if (l->b[i].type == FDR_BLOCK_RECORDS && l->b[i].end <= end)
			n += l->b[i].count;
	return n;
}

static uint8_t *copy_bytes(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* ------------------------------------------------------------ round trips */

static void test_roundtrip(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "rt.fdr");
	struct tu_recs want = {0}, got = {0};
	write_synth(path, 5000, 11, 4096, &want);

	struct fd_recording_reader *r = open_path(path);
	unsigned major, minor;
	fd_recording_reader_version(r, &major, &minor);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 0);
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	assert_string_equal(h->source_kind, "synthetic");
	assert_string_equal(h->scenario_name, "synthetic");
	assert_int_equal(h->seed, 11);
	assert_true(h->start_time_unix_nano == (uint64_t)FD_SYNTH_DEFAULT_START);
	assert_true(h->end_time_unix_nano == (uint64_t)FD_SYNTH_DEFAULT_START + 5000 * 1000000ULL);
	assert_non_null(h->answer_key);
	assert_string_equal(h->answer_key->root_cause, "none: synthetic load without an incident");
	assert_int_equal(h->answer_key->n_investigation, 3);
	assert_int_equal(h->answer_key->n_figures, 1);

	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	assert_non_null(ix);
	size_t record_blocks = 0, dict_blocks = 0;
	for (size_t i = 0; i < ix->n_blocks; i++) {
		if (ix->blocks[i]->type == FDR_BLOCK_RECORDS)
			record_blocks++;
		else
			dict_blocks++;
	}
	assert_true(record_blocks >= 100); /* many blocks */
	assert_true(dict_blocks >= 1);

	/* every record, identical; the resource pointers are the dictionary's */
	struct fd_record rec;
	struct fd_error err = {0};
	const struct fd_blob *res_seen[16];
	size_t nres = 0;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		size_t k = 0;
		while (k < nres && res_seen[k] != rec.resource)
			k++;
		if (k == nres) {
			assert_true(nres < 16);
			res_seen[nres++] = rec.resource;
		}
		tu_recs_add(&got, &rec);
	}
	if (rc != 0)
		fail_msg("read: %s", err.msg);
	assert_same(&want, 0, want.n, &got, "round trip");
	assert_int_equal(nres, 6); /* 3 services x 2 instances, one pointer each */
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0); /* the end stays the end */

	uint64_t counts[3] = {0}, bytes[3] = {0};
	for (size_t i = 0; i < want.n; i++) {
		counts[want.v[i].signal]++;
		bytes[want.v[i].signal] += want.v[i].payload_len;
	}
	assert_true(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
	const struct fd_recording_stats *st = fd_recording_reader_stats(r);
	for (int s = 0; s < 3; s++) {
		assert_int_equal(st->records[s], counts[s]);
		assert_int_equal(st->payload_bytes[s], bytes[s]);
	}
	assert_false(st->cut_short);
	assert_int_equal(st->record_blocks, record_blocks);
	assert_int_equal(st->blocks, ix->n_blocks);
	assert_true(st->first_time == want.v[0].time_ns);
	assert_true(st->last_time == want.v[want.n - 1].time_ns);

	const Firedrill__V1__RecordingSummary *sum = ix->summary;
	assert_int_equal(sum->n_signals, 3);
	for (size_t i = 0; i < sum->n_signals; i++) {
		uint32_t s = sum->signals[i]->signal;
		assert_true(s < 3);
		assert_int_equal(sum->signals[i]->records, counts[s]);
		assert_int_equal(sum->signals[i]->payload_bytes, bytes[s]);
	}
	assert_true(sum->first_time_unix_nano == (uint64_t)want.v[0].time_ns);
	assert_true(sum->last_time_unix_nano == (uint64_t)want.v[want.n - 1].time_ns);
	assert_int_equal(sum->resource_count, 6);
	assert_int_equal(sum->scope_count, 1);
	assert_int_equal(sum->n_measured, 0); /* write_synth adds no figure */

	/* the index agrees with the blocks */
	uint64_t total = 0;
	for (size_t i = 0; i < ix->n_blocks; i++)
		if (ix->blocks[i]->type == FDR_BLOCK_RECORDS)
			total += ix->blocks[i]->record_count;
	assert_int_equal(total, want.n);
	fd_recording_reader_destroy(r);
	tu_recs_free(&want);
	tu_recs_free(&got);
	free(path);
}

static void test_synth_recording_figures(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "fig.fdr");
	struct fd_synth_options so = {.seed = 4, .services = 5, .instances = 3};
	struct fd_synth_result res;
	struct fd_error err = {0};
	assert_int_equal(fd_synth_write_recording(path, 3000, &so, NULL, &res, &err), 0);
	assert_int_equal(res.records[0] + res.records[1] + res.records[2], 3000);
	struct fd_recording_reader *r = open_path(path);
	const Firedrill__V1__RecordingSummary *sum = fd_recording_reader_index(r)->summary;
	assert_int_equal(sum->resource_count, 15);
	assert_int_equal(sum->n_measured, 1);
	assert_string_equal(sum->measured[0]->name, "error_rate");
	assert_string_equal(sum->measured[0]->unit, "ratio");
	assert_true(sum->measured[0]->value ==
		    (double)res.error_spans / (double)res.records[FD_SIGNAL_TRACES]);
	assert_true(res.error_spans > 0);
	for (size_t i = 0; i < sum->n_signals; i++)
		assert_int_equal(sum->signals[i]->records, res.records[sum->signals[i]->signal]);
	assert_true(sum->first_time_unix_nano == (uint64_t)res.first_time);
	assert_true(sum->last_time_unix_nano == (uint64_t)res.last_time);
	fd_recording_reader_destroy(r);
	free(path);
}

static void test_empty(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "empty.fdr");
	write_synth(path, 0, 1, 0, NULL);
	struct fd_recording_reader *r = open_path(path);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	assert_non_null(ix);
	assert_int_equal(ix->n_blocks, 0);
	assert_int_equal(ix->summary->resource_count, 0);
	for (size_t i = 0; i < ix->summary->n_signals; i++)
		assert_int_equal(ix->summary->signals[i]->records, 0);
	assert_string_equal(fd_recording_reader_header(r)->source_kind, "synthetic");
	struct fd_record rec;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
	assert_int_equal(fd_recording_reader_seek(r, 0, &err), 0);
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
	const struct fd_recording_stats *st = fd_recording_reader_stats(r);
	assert_false(st->cut_short);
	assert_int_equal(st->blocks, 0);
	assert_int_equal(st->records[0] + st->records[1] + st->records[2], 0);
	fd_recording_reader_destroy(r);

	/* no header at all: an empty RecordingHeader */
	char *p2 = tu_path(f->dir, "empty2.fdr");
	write_records(p2, NULL, 0, 0);
	size_t len;
	uint8_t *bytes = tu_read_file(p2, &len);
	assert_non_null(bytes);
	/* file header, no metadata, an index block of an empty BlockIndex
	 * (summary only) and the tail */
	assert_int_equal(fdr_get_u32(bytes + 12), 0);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(bytes, len, l);
	assert_int_equal(l->nblocks, 0);
	assert_int_equal(l->index_off, FDR_FILE_HEADER_LEN);
	r = open_path(p2);
	assert_string_equal(fd_recording_reader_header(r)->scenario_name, "");
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
	fd_recording_reader_destroy(r);
	free(l);
	free(bytes);
	free(p2);
	free(path);
}

/* Records a source could hand over but that stretch the format: extreme
 * and out-of-order times, empty payloads, empty and large blobs, a record
 * larger than a block, resources given by different pointers. */
static void test_extremes(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "extreme.fdr");
	static uint8_t big[300000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)rnd();
	struct fd_blob empty = {0, 0, (const uint8_t *)""};
	struct fd_blob r1 = {0, 5, (const uint8_t *)"res-1"};
	struct fd_blob r1copy = {7, 5, (const uint8_t *)"res-1"}; /* same bytes, other pointer */
	struct fd_blob bigres = {0, 70000, big + 1000};
	struct fd_blob scope = {0, 3, (const uint8_t *)"scp"};
	const struct fd_record recs[] = {
		{INT64_MIN, FD_SIGNAL_TRACES, &r1, &scope, (const uint8_t *)"a", 1},
		{INT64_MIN, FD_SIGNAL_LOGS, &empty, &empty, (const uint8_t *)"", 0},
		{-1, FD_SIGNAL_METRICS, &r1copy, &scope, big, 10},
		{0, FD_SIGNAL_TRACES, &bigres, &scope, big, 200000}, /* > block size */
		{5, FD_SIGNAL_LOGS, &r1, &empty, big + 7, 3},
		{3, FD_SIGNAL_LOGS, &r1, &scope, big + 9, 4}, /* out of order */
		{INT64_MAX, FD_SIGNAL_METRICS, &bigres, &scope, NULL, 0},
		{INT64_MIN + 1, FD_SIGNAL_TRACES, &r1copy, &scope, big, 1}, /* far back */
		{INT64_MAX, FD_SIGNAL_LOGS, &empty, &scope, big + 100, 100},
	};
	size_t n = sizeof(recs) / sizeof(recs[0]);
	write_records(path, recs, n, 1024);
	struct tu_recs want = {0}, got = {0};
	for (size_t i = 0; i < n; i++)
		tu_recs_add(&want, &recs[i]);
	struct fd_recording_reader *r = open_path(path);
	struct fd_error err = {0};
	if (read_all(r, &got, &err) != 0)
		fail_msg("%s", err.msg);
	assert_same(&want, 0, n, &got, "extremes");
	const Firedrill__V1__RecordingSummary *sum = fd_recording_reader_index(r)->summary;
	assert_int_equal(sum->resource_count, 3); /* r1 (twice by content), empty, bigres */
	assert_int_equal(sum->scope_count, 2);
	assert_true((int64_t)sum->first_time_unix_nano == INT64_MIN);
	assert_true((int64_t)sum->last_time_unix_nano == INT64_MAX);
	fd_recording_reader_destroy(r);
	/* and with the footer cut off, the same records */
	size_t len;
	uint8_t *bytes = tu_read_file(path, &len);
	assert_non_null(bytes);
	uint64_t index_off = fdr_get_u64(bytes + len - FDR_TAIL_LEN);
	FILE *mf = tu_memfile(bytes, index_off);
	assert_int_equal(fd_recording_reader_open_file(mf, "cut", &r, &err), 0);
	assert_null(fd_recording_reader_index(r));
	tu_recs_free(&got);
	assert_int_equal(read_all(r, &got, &err), 0);
	assert_same(&want, 0, n, &got, "extremes, no index");
	assert_true(fd_recording_reader_stats(r)->cut_short);
	fd_recording_reader_destroy(r);
	free(bytes);

	/* what the writer refuses, as input errors, without failing the file */
	struct fd_recording_writer *w;
	assert_int_equal(fd_recording_writer_create(path, NULL, NULL, &w, &err), 0);
	struct fd_record bad = recs[0];
	bad.signal = (enum fd_signal)3;
	assert_int_equal(fd_recording_writer_add(w, &bad, &err), -FD_EINPUT);
	assert_contains(err.msg, "unknown signal");
	bad = recs[0];
	bad.payload_len = FDR_MAX_RAW_LEN / 2 + 1;
	assert_int_equal(fd_recording_writer_add(w, &bad, &err), -FD_EINPUT);
	assert_int_equal(fd_recording_writer_add(w, &recs[0], &err), 0);
	assert_int_equal(fd_recording_writer_records(w, FD_SIGNAL_TRACES), 1);
	assert_int_equal(fd_recording_writer_records(w, FD_SIGNAL_LOGS), 0);
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	/* after finish only destroy may be called */
	assert_int_not_equal(fd_recording_writer_add(w, &recs[0], &err), 0);
	assert_int_not_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
	assert_true(tu_exists(path));
	tu_recs_free(&want);
	tu_recs_free(&got);
	free(path);
}

/* ---------------------------------------------------------------- seeking */

/* Seeks to each target on one reader (forward and backward, after partial
 * reads) and checks that exactly the records with time >= T follow. */
static void check_seeks(struct fd_recording_reader *r, const struct tu_recs *want,
			const int64_t *targets, size_t nt, const char *what)
{
	struct fd_error err = {0};
	for (size_t i = 0; i < nt; i++) {
		int64_t t = targets[i];
		if (fd_recording_reader_seek(r, t, &err) != 0)
			fail_msg("%s: seek %lld: %s", what, (long long)t, err.msg);
		size_t from = lower_bound(want, t);
		struct tu_recs got = {0};
		if (i % 3 == 2) {
			/* read a few, then seek again to the same place */
			struct fd_record rec;
			for (int k = 0; k < 3 && fd_recording_reader_next(r, &rec, &err) > 0; k++)
				;
			assert_int_equal(fd_recording_reader_seek(r, t, &err), 0);
		}
		if (read_all(r, &got, &err) != 0)
			fail_msg("%s: after seek %lld: %s", what, (long long)t, err.msg);
		char label[128];
		snprintf(label, sizeof(label), "%s: seek to %lld (target %zu)", what, (long long)t, i);
		assert_same(want, from, want->n, &got, label);
		tu_recs_free(&got);
	}
}

static void seek_suite(const char *path, const struct tu_recs *want)
{
	size_t len;
	uint8_t *bytes = tu_read_file(path, &len);
	assert_non_null(bytes);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(bytes, len, l);

	/* targets: the start, before the first, after the last, every block's
	 * boundaries, the middle of every block, and times between records */
	size_t cap = 16 + l->nblocks * 6 + want->n / 50, nt = 0;
	int64_t *t = malloc(cap * sizeof(*t));
	int64_t first = want->v[0].time_ns, last = want->v[want->n - 1].time_ns;
	t[nt++] = first;
	t[nt++] = first - 1;
	t[nt++] = INT64_MIN;
	t[nt++] = last;
	t[nt++] = last + 1;
	t[nt++] = INT64_MAX;
	t[nt++] = first;
	for (size_t i = 0; i < l->nblocks; i++) {
		if (l->b[i].type != FDR_BLOCK_RECORDS)
			continue;
		struct fdr_block_header h;
		assert_int_equal(fdr_block_header_decode(bytes + l->b[i].off, &h), 0);
		t[nt++] = h.min_time;     /* exactly a block boundary */
		t[nt++] = h.max_time;
		t[nt++] = h.min_time - 1;
		t[nt++] = h.max_time + 1;
		t[nt++] = h.min_time + (h.max_time - h.min_time) / 2; /* inside a block */
	}
	for (size_t i = 0; i < want->n; i += 50)
		t[nt++] = want->v[i].time_ns + 1;
	/* a second pass in reverse order: seeking backwards */
	struct fd_recording_reader *r = open_path(path);
	assert_non_null(fd_recording_reader_index(r));
	check_seeks(r, want, t, nt, "indexed");
	for (size_t i = 0; i < nt / 2; i++) {
		int64_t x = t[i];
		t[i] = t[nt - 1 - i];
		t[nt - 1 - i] = x;
	}
	check_seeks(r, want, t, nt, "indexed, reversed");
	assert_false(fd_recording_reader_stats(r)->cut_short);
	fd_recording_reader_destroy(r);

	/* the same file with its footer cut off: no index, same answers */
	FILE *mf = tu_memfile(bytes, l->index_off);
	struct fd_error err = {0};
	assert_int_equal(fd_recording_reader_open_file(mf, "noindex", &r, &err), 0);
	assert_null(fd_recording_reader_index(r));
	check_seeks(r, want, t, nt, "no index");
	assert_true(fd_recording_reader_stats(r)->cut_short);
	assert_true(fd_recording_reader_stats(r)->cut_offset == l->index_off);
	fd_recording_reader_destroy(r);
	/* a fresh reader seeking before reading anything */
	for (size_t i = 0; i < nt; i += 7) {
		mf = tu_memfile(bytes, (i / 7) % 2 ? l->index_off : len);
		assert_int_equal(fd_recording_reader_open_file(mf, "fresh", &r, &err), 0);
		check_seeks(r, want, &t[i], 1, "fresh reader");
		fd_recording_reader_destroy(r);
	}
	free(t);
	free(l);
	free(bytes);
}

static void test_seek(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "seek.fdr");
	struct tu_recs want = {0};
	write_synth(path, 2000, 5, 4096, &want);
	/* the synthetic stream has equal times, some across block boundaries */
	size_t dups = 0;
	for (size_t i = 1; i < want.n; i++)
		dups += want.v[i].time_ns == want.v[i - 1].time_ns;
	assert_true(dups > 20);
	seek_suite(path, &want);
	tu_recs_free(&want);
	free(path);
}

/* Resources that first appear late in the file: seeking must load the
 * dictionary blocks it jumps over. Runs of equal times span blocks. */
static void test_seek_dictionary(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "dict.fdr");
	enum { N = 2400, NRES = 12 };
	char resname[NRES][64];
	struct fd_blob res[NRES], scopes[2];
	for (int i = 0; i < NRES; i++) {
		snprintf(resname[i], sizeof(resname[i]), "resource number %d with some padding", i);
		res[i] = (struct fd_blob){0, (uint32_t)strlen(resname[i]), (const uint8_t *)resname[i]};
	}
	scopes[0] = (struct fd_blob){0, 7, (const uint8_t *)"scope-a"};
	scopes[1] = (struct fd_blob){0, 7, (const uint8_t *)"scope-b"};
	struct fd_record *recs = calloc(N, sizeof(*recs));
	uint8_t *payloads = malloc(N * 40);
	for (int i = 0; i < N; i++) {
		uint8_t *p = payloads + i * 40;
		for (int k = 0; k < 40; k++)
			p[k] = (uint8_t)rnd();
		recs[i].time_ns = 1000000LL * (i / 7); /* runs of 7 equal times */
		recs[i].signal = (enum fd_signal)(i % 3);
		recs[i].resource = &res[(i / (N / NRES)) % NRES];
		recs[i].scope = &scopes[(i / 500) % 2];
		recs[i].payload = p;
		recs[i].payload_len = 10 + (size_t)(i % 31);
	}
	write_records(path, recs, N, 600);
	struct tu_recs want = {0};
	for (int i = 0; i < N; i++)
		tu_recs_add(&want, &recs[i]);
	/* dictionary blocks are spread over the file */
	size_t len;
	uint8_t *bytes = tu_read_file(path, &len);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(bytes, len, l);
	size_t ndict = 0;
	for (size_t i = 0; i < l->nblocks; i++)
		ndict += l->b[i].type == FDR_BLOCK_DICTIONARY;
	assert_true(ndict >= NRES);
	seek_suite(path, &want);
	free(l);
	free(bytes);
	tu_recs_free(&want);
	free(payloads);
	free(recs);
	free(path);
}

/* ------------------------------------------------------------- truncation */

static void test_truncation_every_byte(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "trunc.fdr");
	struct tu_recs want = {0};
	write_synth(path, 40, 9, 1024, &want);
	size_t len;
	uint8_t *full = tu_read_file(path, &len);
	assert_non_null(full);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(full, len, l);
	assert_true(l->nblocks >= 8); /* a few blocks */
	assert_true(len < 16384);
	int64_t mid = want.v[want.n / 2].time_ns;

	for (size_t c = 0; c <= len; c++) {
		uint8_t *cut = copy_bytes(full, c); /* exact size: ASan sees overreads */
		FILE *mf = tu_memfile(cut, c);
		assert_non_null(mf);
		struct fd_recording_reader *r = (struct fd_recording_reader *)1;
		struct fd_error err = {0};
		int rc = fd_recording_reader_open_file(mf, "cut.fdr", &r, &err);
		if (c < l->data_start) {
			/* the file header itself is cut: a clean input error */
			if (rc != -FD_EINPUT)
				fail_msg("cut at %zu: open returned %d (%s)", c, rc, err.msg);
			assert_null(r);
			assert_int_equal(err.code, FD_EINPUT);
			assert_contains(err.msg, "cut.fdr");
			assert_contains(err.msg, c < FDR_MAGIC_LEN ? "bad magic" : "cut short inside its header");
			free(cut);
			continue;
		}
		if (rc != 0)
			fail_msg("cut at %zu: open failed: %s", c, err.msg);
		if (c == len)
			assert_non_null(fd_recording_reader_index(r));
		else
			assert_null(fd_recording_reader_index(r));
		struct tu_recs got = {0};
		rc = read_all(r, &got, &err);
		if (rc != 0)
			fail_msg("cut at %zu: %s", c, err.msg);
		size_t expect = c == len ? want.n : records_before(l, c);
		char label[64];
		snprintf(label, sizeof(label), "cut at %zu", c);
		assert_same(&want, 0, expect, &got, label);

		const struct fd_recording_stats *st = fd_recording_reader_stats(r);
		assert_int_equal(st->records[0] + st->records[1] + st->records[2], expect);
		uint64_t complete = 0, good_end = l->data_start;
		for (size_t i = 0; i < l->nblocks; i++) {
			if (l->b[i].end <= c) {
				complete++;
				good_end = l->b[i].end;
			}
		}
		if (c >= l->index_end)
			good_end = l->index_end;
		if (c == len) {
			assert_false(st->cut_short);
		} else {
			assert_true(st->cut_short);
			if (st->cut_offset != good_end)
				fail_msg("cut at %zu: cut_offset %llu, expected %llu (%s)", c,
					 (unsigned long long)st->cut_offset,
					 (unsigned long long)good_end, st->cut_reason);
			assert_true(st->cut_reason[0] != '\0');
		}
		assert_int_equal(st->blocks, complete);
		struct fd_record rec;
		assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);

		/* seeking into what is left gives the matching part of it */
		assert_int_equal(fd_recording_reader_seek(r, mid, &err), 0);
		tu_recs_free(&got);
		assert_int_equal(read_all(r, &got, &err), 0);
		size_t from = lower_bound(&want, mid);
		assert_same(&want, from < expect ? from : expect, expect, &got, label);
		tu_recs_free(&got);
		fd_recording_reader_destroy(r);
		free(cut);
	}
	free(l);
	free(full);
	tu_recs_free(&want);
	free(path);
}

/* ------------------------------------------------------------- corruption */

/* What damage at a set of byte positions must do, from the layout alone:
 * every byte is covered by a checksum except the minor version (which a
 * reader accepts whatever it is). */
struct expect {
	bool open_fails;
	const char *open_msg;   /* for a single damaged byte; NULL: any */
	bool read_fails;
	size_t records;         /* yielded before the failure (or all) */
	uint64_t block_no, block_off;
};

static bool in(uint64_t p, uint64_t lo, uint64_t hi)
{
	return p >= lo && p < hi;
}

static void expected_damage(const struct layout *l, const size_t *pos, size_t npos, size_t total,
			    struct expect *e, char *msgbuf, size_t msglen)
{
	memset(e, 0, sizeof(*e));
	bool tail_bad = false, index_hdr_bad = false, index_data_bad = false;
	uint64_t first_block = UINT64_MAX;
	for (size_t i = 0; i < npos; i++) {
		uint64_t p = pos[i];
		if (in(p, 10, 12))
			continue; /* the minor version */
		if (p < l->data_start) {
			e->open_fails = true;
			if (npos == 1)
				e->open_msg = p < 8 ? "bad magic" : p < 10 ? "is not supported"
						: p < 16 ? NULL : "header checksum mismatch";
		} else if (p >= l->index_end) {
			tail_bad = true;
		} else if (p >= l->index_off) {
			if (p < l->index_off + FDR_BLOCK_HEADER_LEN)
				index_hdr_bad = true;
			else
				index_data_bad = true;
		} else {
			for (size_t b = 0; b < l->nblocks; b++)
				if (in(p, l->b[b].off, l->b[b].end) && b < first_block)
					first_block = b;
		}
	}
	if (e->open_fails)
		return;
	if (!tail_bad && (index_hdr_bad || index_data_bad)) {
		/* the footer is read at open */
		e->open_fails = true;
		if (npos == 1) {
			if (index_hdr_bad)
				snprintf(msgbuf, msglen, "index block at byte offset %llu",
					 (unsigned long long)l->index_off);
			else
				snprintf(msgbuf, msglen, "block %zu at byte offset %llu", l->nblocks,
					 (unsigned long long)l->index_off);
			e->open_msg = msgbuf;
		}
		return;
	}
	if (first_block != UINT64_MAX) {
		e->read_fails = true;
		e->block_no = first_block;
		e->block_off = l->b[first_block].off;
		e->records = records_before(l, l->b[first_block].off);
	} else if (tail_bad) {
		/* no index: read to the index block, which nothing points at */
		e->read_fails = true;
		e->block_no = l->nblocks;
		e->block_off = l->index_off;
		e->records = total;
	} else {
		e->records = total;
	}
}

static void check_damaged(const uint8_t *bytes, size_t len, const struct layout *l,
			  const size_t *pos, size_t npos, const struct tu_recs *want,
			  const char *label)
{
	struct expect e;
	char msgbuf[128];
	expected_damage(l, pos, npos, want->n, &e, msgbuf, sizeof(msgbuf));
	FILE *mf = tu_memfile(bytes, len);
	struct fd_recording_reader *r = NULL;
	struct fd_error err = {0};
	int rc = fd_recording_reader_open_file(mf, "x.fdr", &r, &err);
	if (e.open_fails) {
		if (rc != -FD_EINPUT || err.code != FD_EINPUT)
			fail_msg("%s: open should fail with an input error, got %d (%s)", label, rc,
				 err.msg);
		assert_null(r);
		assert_contains(err.msg, "x.fdr");
		if (e.open_msg)
			assert_contains(err.msg, e.open_msg);
		return;
	}
	if (rc != 0)
		fail_msg("%s: open failed: %s", label, err.msg);
	struct tu_recs got = {0};
	rc = read_all(r, &got, &err);
	assert_same(want, 0, e.records, &got, label);
	if (e.read_fails) {
		if (rc != -FD_EINPUT || err.code != FD_EINPUT)
			fail_msg("%s: reading should fail with an input error, got %d (%s)", label, rc,
				 err.msg);
		char where[96];
		snprintf(where, sizeof(where), "x.fdr: block %llu at byte offset %llu: ",
			 (unsigned long long)e.block_no, (unsigned long long)e.block_off);
		if (!strstr(err.msg, where))
			fail_msg("%s: message \"%s\" should name \"%s\"", label, err.msg, where);
		/* the failure is sticky */
		struct fd_record rec;
		struct fd_error err2 = {0};
		assert_int_equal(fd_recording_reader_next(r, &rec, &err2), -FD_EINPUT);
		assert_string_equal(err2.msg, err.msg);
		assert_int_equal(fd_recording_reader_seek(r, 0, &err2), -FD_EINPUT);
	} else {
		if (rc != 0)
			fail_msg("%s: %s", label, err.msg);
		assert_false(fd_recording_reader_stats(r)->cut_short);
	}
	tu_recs_free(&got);
	fd_recording_reader_destroy(r);
}

static void test_corruption_every_byte(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "flip.fdr");
	struct tu_recs want = {0};
	write_synth(path, 40, 21, 1024, &want);
	size_t len;
	uint8_t *orig = tu_read_file(path, &len);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(orig, len, l);
	assert_true(l->nblocks >= 8);
	uint8_t *bytes = copy_bytes(orig, len);
	rng_state = 2024;
	for (size_t p = 0; p < len; p++) {
		uint8_t mask = (uint8_t)(1 + rnd() % 255);
		bytes[p] ^= mask;
		char label[64];
		snprintf(label, sizeof(label), "byte %zu ^ 0x%02x", p, mask);
		check_damaged(bytes, len, l, &p, 1, &want, label);
		if (p == 10 || p == 11) {
			/* the minor version is not checksummed: read as the new value */
			FILE *mf = tu_memfile(bytes, len);
			struct fd_recording_reader *r;
			struct fd_error err = {0};
			assert_int_equal(fd_recording_reader_open_file(mf, "x.fdr", &r, &err), 0);
			unsigned major, minor;
			fd_recording_reader_version(r, &major, &minor);
			assert_int_equal(minor, (unsigned)(p == 10 ? mask : mask << 8));
			fd_recording_reader_destroy(r);
		}
		bytes[p] = orig[p];
	}
	free(bytes);
	free(l);
	free(orig);
	tu_recs_free(&want);
	free(path);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void test_corruption_random(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "rand.fdr");
	struct tu_recs want = {0};
	write_synth(path, 150, 33, 2048, &want);
	size_t len;
	uint8_t *orig = tu_read_file(path, &len);
	struct layout *l = malloc(sizeof(*l));
	parse_layout(orig, len, l);
	uint8_t *bytes = copy_bytes(orig, len);
	rng_state = 77;
	size_t pos[64];
	for (int trial = 0; trial < 2000; trial++) {
		memcpy(bytes, orig, len);
		if (trial % 2) {
			/* flip 1..8 random bytes */
			int k = 1 + (int)(rnd() % 8);
			for (int i = 0; i < k; i++)
				bytes[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
		} else {
			/* overwrite a burst of 1..48 bytes with garbage */
			size_t n = 1 + rnd() % 48, at = rnd() % len;
			for (size_t i = 0; i < n && at + i < len; i++)
				bytes[at + i] = (uint8_t)rnd();
		}
		size_t npos = 0;
		for (size_t p = 0; p < len && npos < 64; p++)
			if (bytes[p] != orig[p])
				pos[npos++] = p;
		qsort(pos, npos, sizeof(pos[0]), cmp_size);
		char label[64];
		snprintf(label, sizeof(label), "trial %d (%zu bytes changed)", trial, npos);
		check_damaged(bytes, len, l, pos, npos, &want, label);
	}
	free(bytes);
	free(l);
	free(orig);
	tu_recs_free(&want);
	free(path);
}

/* ------------------------------------------------ hand-made broken files */

/* Opens b and reads it: expects `ok` records, then an input error whose
 * message contains `where` and `why`. where NULL: open itself must fail. */
static void expect_broken(const struct bb *b, size_t ok, const char *where, const char *why,
			  const char *label)
{
	FILE *mf = tu_memfile(b->p, b->n);
	struct fd_recording_reader *r = NULL;
	struct fd_error err = {0};
	int rc = fd_recording_reader_open_file(mf, "made.fdr", &r, &err);
	if (!where) {
		if (rc != -FD_EINPUT)
			fail_msg("%s: open should fail, got %d (%s)", label, rc, err.msg);
		if (!strstr(err.msg, why))
			fail_msg("%s: message \"%s\" should say \"%s\"", label, err.msg, why);
		return;
	}
	if (rc != 0)
		fail_msg("%s: open failed: %s", label, err.msg);
	struct tu_recs got = {0};
	rc = read_all(r, &got, &err);
	if (got.n != ok)
		fail_msg("%s: %zu records before the error, expected %zu", label, got.n, ok);
	if (rc != -FD_EINPUT || err.code != FD_EINPUT)
		fail_msg("%s: expected an input error, got %d (%s)", label, rc, err.msg);
	if (!strstr(err.msg, where) || !strstr(err.msg, why))
		fail_msg("%s: message \"%s\" should name \"%s\" and say \"%s\"", label, err.msg, where,
			 why);
	tu_recs_free(&got);
	fd_recording_reader_destroy(r);
}

static void test_made_by_hand(void **state)
{
	(void)state;
	struct bb b = {0}, raw = {0};
	char where[64];
#define RESET()                                 \
	do {                                    \
		b.n = 0;                        \
		raw.n = 0;                      \
		bb_file_header(&b, 1);          \
	} while (0)
#define WHERE(no, off) (snprintf(where, sizeof(where), "block %d at byte offset %llu: ", (no), \
				 (unsigned long long)(off)), where)

	/* a file made from the document alone reads back */
	RESET();
	bb_dict(&b);
	bb_good_records(&b);
	{
		FILE *mf = tu_memfile(b.p, b.n);
		struct fd_recording_reader *r;
		struct fd_error err = {0};
		assert_int_equal(fd_recording_reader_open_file(mf, "made.fdr", &r, &err), 0);
		struct fd_record rec;
		assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
		assert_true(rec.time_ns == 100);
		assert_int_equal(rec.signal, FD_SIGNAL_TRACES);
		assert_int_equal(rec.resource->len, 3);
		assert_memory_equal(rec.resource->data, "res", 3);
		assert_memory_equal(rec.scope->data, "scope", 5);
		assert_int_equal(rec.payload_len, 4);
		assert_memory_equal(rec.payload, "span", 4);
		assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
		assert_true(rec.time_ns == 150);
		assert_int_equal(rec.signal, FD_SIGNAL_LOGS);
		assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
		assert_true(fd_recording_reader_stats(r)->cut_short); /* no footer */
		fd_recording_reader_destroy(r);
	}

	/* records refer to ids no dictionary defined */
	RESET();
	raw_record(&raw, 0, 0, 0, 0, "x");
	bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "record 0: record refers to an undefined resource",
		      "no dictionary");
	RESET();
	bb_dict(&b);
	raw_record(&raw, 0, 0, 0, 1, "x");
	uint64_t off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "undefined scope", "undefined scope");

	/* a bad record after good ones: the block is rejected whole */
	RESET();
	bb_dict(&b);
	bb_good_records(&b);
	raw_record(&raw, 1, 0, 0, 0, "ok");
	raw_record(&raw, 1, 500, 0, 0, "late");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 2, 200, 300, false);
	expect_broken(&b, 2, WHERE(2, off), "record 1: record time outside the block's time range",
		      "time range");
	RESET();
	bb_dict(&b);
	raw_record(&raw, 1, -1, 0, 0, "early");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 200, 300, false);
	expect_broken(&b, 0, WHERE(1, off), "record time outside", "before min_time");

	/* counts and lengths */
	RESET();
	bb_dict(&b);
	raw_record(&raw, 0, 0, 0, 0, "a");
	raw_record(&raw, 0, 0, 0, 0, "b");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "trailing bytes after the last record", "trailing");
	RESET();
	bb_dict(&b);
	raw_record(&raw, 0, 0, 0, 0, "a");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 2, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "record 1: records end before the block's record count",
		      "count");
	RESET();
	bb_dict(&b);
	raw_record(&raw, 3, 0, 0, 0, "a");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "record of unknown signal", "signal");
	RESET();
	bb_dict(&b);
	bb_u8(&raw, 0);
	for (int i = 0; i < 9; i++)
		bb_u8(&raw, 0xff);
	bb_u8(&raw, 0x02); /* a varint over 64 bits */
	bb_put(&raw, "\0\0\0", 3);
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "bad record time", "varint");
	RESET();
	bb_dict(&b);
	bb_u8(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 5); /* payload of 5, only 2 there */
	bb_put(&raw, "ab", 2);
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "bad record length", "payload length");
	RESET();
	bb_dict(&b);
	bb_u8(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, UINT64_MAX); /* a length that overflows any pointer */
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "bad record length", "huge payload length");

	/* dictionaries */
	RESET();
	raw_entry(&raw, 3, 0, "x");
	bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "dictionary entry of unknown kind", "kind");
	RESET();
	raw_entry(&raw, FDR_DICT_RESOURCE, 1, "x");
	bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "dictionary entry id out of sequence", "sequence");
	RESET();
	bb_dict(&b);
	raw_entry(&raw, FDR_DICT_RESOURCE, 0, "redefined"); /* id 0 again */
	off = bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(1, off), "out of sequence", "redefinition");
	RESET();
	bb_u8(&raw, FDR_DICT_RESOURCE);
	bb_varint(&raw, 0);
	bb_varint(&raw, 10);
	bb_put(&raw, "short", 5);
	bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "bad dictionary entry length", "entry length");
	RESET();
	raw_entry(&raw, FDR_DICT_RESOURCE, 0, "x");
	bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 2, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "dictionary ends before its last entry", "entry count");
	RESET();
	raw_entry(&raw, FDR_DICT_RESOURCE, 0, "x");
	bb_u8(&raw, 0);
	bb_block(&b, FDR_BLOCK_DICTIONARY, &raw, 1, 0, 0, false);
	expect_broken(&b, 0, WHERE(0, 20), "trailing bytes after the dictionary", "dict trailing");

	/* compressed data that is not what the header says */
	RESET();
	bb_dict(&b);
	raw_record(&raw, 0, 0, 0, 0, "hello hello hello hello");
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, true);
	{
		/* claim one more raw byte, and re-seal the header */
		struct fdr_block_header h;
		assert_int_equal(fdr_block_header_decode(b.p + off, &h), 0);
		h.raw_len++;
		fdr_block_header_encode(b.p + off, &h);
	}
	expect_broken(&b, 0, WHERE(1, off), "compressed data does not match the block's size",
		      "zstd size");
	RESET();
	bb_dict(&b);
	for (int i = 0; i < 64; i++)
		bb_u8(&raw, (uint8_t)rnd());
	off = bb_block(&b, FDR_BLOCK_RECORDS, &raw, 1, 0, 0, false);
	b.p[off + 5] = FDR_COMPRESSION_ZSTD; /* garbage as a zstd frame */
	{
		struct fdr_block_header h;
		memcpy(b.p + off + 40, "\0\0\0\0", 4);
		fdr_put_u32(b.p + off + 40, fd_crc32c(0, b.p + off, 40));
		assert_int_equal(fdr_block_header_decode(b.p + off, &h), 0);
	}
	expect_broken(&b, 0, WHERE(1, off), "", "zstd garbage");

	/* block headers */
	RESET();
	bb_dict(&b);
	off = bb_good_records(&b);
	b.p[off + 6] = 1; /* reserved */
	fdr_put_u32(b.p + off + 40, fd_crc32c(0, b.p + off, 40));
	expect_broken(&b, 0, WHERE(1, off), "invalid block header", "reserved");
	RESET();
	bb_dict(&b);
	off = bb_good_records(&b);
	b.p[off + 4] = 9; /* type */
	fdr_put_u32(b.p + off + 40, fd_crc32c(0, b.p + off, 40));
	expect_broken(&b, 0, WHERE(1, off), "invalid block header", "type");
	RESET();
	bb_dict(&b);
	bb_good_records(&b);
	off = b.n;
	bb_put(&b, "FDBX", 4);
	for (int i = 0; i < 60; i++)
		bb_u8(&b, 0);
	expect_broken(&b, 2, WHERE(2, off), "bad block magic", "magic");

	/* an index block that no tail points at, with data after it */
	RESET();
	bb_dict(&b);
	bb_good_records(&b);
	raw.n = 0;
	off = bb_block(&b, FDR_BLOCK_INDEX, &raw, 0, 0, 0, false);
	for (int i = 0; i < 20; i++)
		bb_u8(&b, 0);
	expect_broken(&b, 2, WHERE(2, off), "index block not referenced by a valid file tail",
		      "stray index");

	/* tails and indexes */
	{
		uint8_t tail[FDR_TAIL_LEN];
		RESET();
		bb_dict(&b);
		bb_good_records(&b);
		fdr_put_u64(tail, 1u << 30);
		fdr_put_u32(tail + 8, fd_crc32c(0, tail, 8));
		memcpy(tail + 12, FDR_TAIL_MAGIC, 4);
		bb_put(&b, tail, sizeof(tail));
		expect_broken(&b, 0, NULL, "outside the file", "tail outside");

		RESET();
		bb_dict(&b);
		off = bb_good_records(&b);
		fdr_put_u64(tail, off); /* points at a record block */
		fdr_put_u32(tail + 8, fd_crc32c(0, tail, 8));
		bb_put(&b, tail, sizeof(tail));
		expect_broken(&b, 0, NULL, "invalid header", "tail at a record block");

		/* a well-formed index, then broken variants of it */
		for (int variant = 0; variant < 5; variant++) {
			RESET();
			uint64_t d = bb_dict(&b);
			uint64_t rb = bb_good_records(&b);
			uint64_t end = b.n;
			Firedrill__V1__BlockRef refs[2], *refp[2] = {&refs[0], &refs[1]};
			for (int i = 0; i < 2; i++)
				firedrill__v1__block_ref__init(&refs[i]);
			/* entries that say what the block headers say */
			struct fdr_block_header dh, rh;
			assert_int_equal(fdr_block_header_decode(b.p + d, &dh), 0);
			assert_int_equal(fdr_block_header_decode(b.p + rb, &rh), 0);
			refs[0].offset = d;
			refs[0].type = FDR_BLOCK_DICTIONARY;
			refs[0].stored_len = (uint32_t)(rb - d - FDR_BLOCK_HEADER_LEN);
			refs[0].raw_len = dh.raw_len;
			refs[0].record_count = dh.count;
			refs[1].offset = rb;
			refs[1].type = FDR_BLOCK_RECORDS;
			refs[1].min_time_unix_nano = 100;
			refs[1].max_time_unix_nano = 150;
			refs[1].record_count = 2;
			refs[1].stored_len = (uint32_t)(end - rb - FDR_BLOCK_HEADER_LEN);
			refs[1].raw_len = rh.raw_len;
			/* and a summary that agrees with them (the reader checks) */
			Firedrill__V1__SignalStats spans = FIREDRILL__V1__SIGNAL_STATS__INIT;
			Firedrill__V1__SignalStats logs = FIREDRILL__V1__SIGNAL_STATS__INIT;
			Firedrill__V1__SignalStats *sigs[2] = {&spans, &logs};
			spans.signal = FD_SIGNAL_TRACES;
			spans.records = 1;
			spans.payload_bytes = 4;
			logs.signal = FD_SIGNAL_LOGS;
			logs.records = 1;
			logs.payload_bytes = 3;
			Firedrill__V1__RecordingSummary sum = FIREDRILL__V1__RECORDING_SUMMARY__INIT;
			sum.first_time_unix_nano = 100;
			sum.last_time_unix_nano = 150;
			sum.n_signals = 2;
			sum.signals = sigs;
			sum.resource_count = 1;
			sum.scope_count = 1;
			Firedrill__V1__BlockIndex ix = FIREDRILL__V1__BLOCK_INDEX__INIT;
			ix.n_blocks = 2;
			ix.blocks = refp;
			ix.summary = &sum;
			uint32_t count = 2;
			const char *why = NULL;
			switch (variant) {
			case 1: refs[1].offset += 1; why = "index entries are not contiguous"; break;
			case 2: count = 1; why = "index entry count differs from its block header"; break;
			case 3: ix.summary = NULL; why = "index has no summary"; break;
			case 4: refs[1].type = 7; why = "index entry of unknown block type"; break;
			}
			raw.n = 0;
			raw.p = realloc(raw.p, firedrill__v1__block_index__get_packed_size(&ix) + 1);
			raw.cap = firedrill__v1__block_index__get_packed_size(&ix) + 1;
			raw.n = firedrill__v1__block_index__pack(&ix, raw.p);
			uint64_t io = bb_block(&b, FDR_BLOCK_INDEX, &raw, count, 100, 150, variant % 2);
			fdr_put_u64(tail, io);
			fdr_put_u32(tail + 8, fd_crc32c(0, tail, 8));
			bb_put(&b, tail, sizeof(tail));
			if (!why) {
				FILE *mf = tu_memfile(b.p, b.n);
				struct fd_recording_reader *r;
				struct fd_error err = {0};
				if (fd_recording_reader_open_file(mf, "made.fdr", &r, &err) != 0)
					fail_msg("hand-made index: %s", err.msg);
				assert_non_null(fd_recording_reader_index(r));
				assert_int_equal(fd_recording_reader_seek(r, 120, &err), 0);
				struct fd_record rec;
				assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
				assert_true(rec.time_ns == 150);
				assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
				assert_false(fd_recording_reader_stats(r)->cut_short);
				fd_recording_reader_destroy(r);
			} else {
				char label[32];
				snprintf(label, sizeof(label), "index variant %d", variant);
				/* variant 2's header miscounts, so its number is
				 * not checked */
				if (variant != 2)
					expect_broken(&b, 0, NULL, WHERE(2, io), label);
				expect_broken(&b, 0, NULL, why, label);
			}
		}
	}

	/* file headers */
	RESET();
	b.n = 0;
	bb_file_header(&b, 2);
	expect_broken(&b, 0, NULL, "format version 2.0 is not supported", "major 2");
	b.n = 0;
	bb_file_header(&b, 1);
	fdr_put_u32(b.p + 12, FDR_MAX_HEADER_LEN + 1);
	expect_broken(&b, 0, NULL, "header length 16777217 is invalid", "huge header");
	b.n = 0;
	bb_file_header(&b, 1);
	bb_put(&b, "\xff\xff\xff", 3); /* metadata that is not protobuf */
	fdr_put_u32(b.p + 12, 3);
	fdr_put_u32(b.p + 16, fd_crc32c(0, b.p + 20, 3));
	expect_broken(&b, 0, NULL, "header metadata does not decode", "metadata");
	b.n = 0;
	bb_put(&b, "hello, world\n", 13);
	for (int i = 0; i < 100; i++)
		bb_put(&b, "not a recording ", 16);
	expect_broken(&b, 0, NULL, "not a firedrill recording", "text");
	free(b.p);
	free(raw.p);
#undef RESET
#undef WHERE
}

/* ------------------------------------------------------- de-duplication */

static void test_resources_deduplicated(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "dedup.fdr");
	enum { N = 10000, NRES = 5, RES_LEN = 2000, PAYLOAD = 40 };
	/* five large, incompressible resources, each also handed out through a
	 * second pointer to the same bytes */
	uint8_t *resbytes = malloc(NRES * RES_LEN);
	for (int i = 0; i < NRES * RES_LEN; i++)
		resbytes[i] = (uint8_t)rnd();
	struct fd_blob res[NRES], res_alias[NRES];
	uint8_t *alias_bytes = copy_bytes(resbytes, NRES * RES_LEN);
	for (int i = 0; i < NRES; i++) {
		res[i] = (struct fd_blob){(uint32_t)i, RES_LEN, resbytes + i * RES_LEN};
		res_alias[i] = (struct fd_blob){(uint32_t)i, RES_LEN, alias_bytes + i * RES_LEN};
	}
	struct fd_blob scope = {0, 5, (const uint8_t *)"scope"};
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	struct fd_recording_writer_options wo = {.block_size = 64 * 1024};
	assert_int_equal(fd_recording_writer_create(path, NULL, &wo, &w, &err), 0);
	uint8_t payload[PAYLOAD];
	uint64_t payload_total = 0;
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < PAYLOAD; k++)
			payload[k] = (uint8_t)rnd();
		struct fd_record rec = {
			.time_ns = 1000LL * i,
			.signal = (enum fd_signal)(i % 3),
			.resource = (i / 2) % 2 ? &res_alias[(i * 7) % NRES] : &res[(i * 7) % NRES],
			.scope = &scope,
			.payload = payload,
			.payload_len = PAYLOAD,
		};
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
		payload_total += PAYLOAD;
	}
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);

	size_t len;
	uint8_t *bytes = tu_read_file(path, &len);
	assert_non_null(bytes);
	/* each resource's bytes are in the file exactly once */
	for (int i = 0; i < NRES; i++)
		assert_int_equal(tu_memcount(bytes, len, res[i].data, RES_LEN), 1);
	/* repeated per record they would be 20 MB; stored once, the file is
	 * the payloads plus the five resources plus little overhead */
	assert_true(len < payload_total + NRES * RES_LEN + 64 * 1024);
	assert_true(len < (size_t)N * RES_LEN / 20);

	struct fd_recording_reader *r = open_path(path);
	const Firedrill__V1__RecordingSummary *sum = fd_recording_reader_index(r)->summary;
	assert_int_equal(sum->resource_count, NRES);
	assert_int_equal(sum->scope_count, 1);
	const struct fd_blob *seen[NRES] = {0};
	struct fd_record rec;
	int i = 0, rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		int k = (i * 7) % NRES;
		assert_int_equal(rec.resource->len, RES_LEN);
		assert_memory_equal(rec.resource->data, res[k].data, RES_LEN);
		/* one pointer per distinct resource, whichever the writer got */
		if (!seen[k])
			seen[k] = rec.resource;
		assert_ptr_equal(rec.resource, seen[k]);
		i++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, N);
	for (int a = 0; a < NRES; a++)
		for (int c = a + 1; c < NRES; c++)
			assert_ptr_not_equal(seen[a], seen[c]);
	fd_recording_reader_destroy(r);
	free(bytes);
	free(alias_bytes);
	free(resbytes);
	free(path);
}

/* A source that frees a resource and gets the same pointer back for other
 * bytes, and one that hands out thousands of pointers: each record still
 * gets its own bytes back (the writer's pointer cache checks what it hits
 * and starts over when full: NPTR is more than its 4096 slots, so a table
 * that never started over would probe forever). */
static void test_resource_pointer_reused(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "reuse.fdr");
	enum { N = 10000, NPTR = 5000, LEN = 24 };
	struct fd_blob *blobs = calloc(NPTR, sizeof(*blobs));
	uint8_t *bytes = calloc(NPTR, LEN);
	struct fd_blob scope = {0, 5, (const uint8_t *)"scope"};
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(path, NULL, NULL, &w, &err), 0);
	/* record i uses pointer i % NPTR; in the second pass its bytes differ */
	for (int i = 0; i < N; i++) {
		int k = i % NPTR;
		snprintf((char *)bytes + k * LEN, LEN, "res-%d-pass-%d", k, i / NPTR);
		blobs[k] = (struct fd_blob){(uint32_t)k, (uint32_t)strlen((char *)bytes + k * LEN),
					    bytes + k * LEN};
		/* the first records hit pointer 0 again, rewritten in between */
		if (i < 4) {
			snprintf((char *)bytes, LEN, i % 2 ? "res-0-odd-%d" : "res-0-pass-0", i);
			blobs[0].len = (uint32_t)strlen((char *)bytes);
		}
		struct fd_record rec = {.time_ns = i, .signal = FD_SIGNAL_LOGS,
					.resource = &blobs[i < 4 ? 0 : k], .scope = &scope,
					.payload = (const uint8_t *)&i, .payload_len = sizeof(i)};
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	}
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);

	struct fd_recording_reader *r = open_path(path);
	struct fd_record rec;
	int i = 0, rc;
	char want[LEN + 16];
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		if (i < 4)
			snprintf(want, sizeof(want), i % 2 ? "res-0-odd-%d" : "res-0-pass-0", i);
		else
			snprintf(want, sizeof(want), "res-%d-pass-%d", i % NPTR, i / NPTR);
		assert_int_equal(rec.resource->len, strlen(want));
		assert_memory_equal(rec.resource->data, want, strlen(want));
		i++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, N);
	fd_recording_reader_destroy(r);
	free(bytes);
	free(blobs);
	free(path);
}

/* ------------------------------------------------------ temporary files */

static void test_no_partial_file(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "out.fdr");
	struct fd_synth *s = fd_synth_create(NULL);
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	struct fd_recording_writer_options wo = {.block_size = 2048};

	/* destroyed without finish: the temporary file goes, nothing appears */
	assert_int_equal(fd_recording_writer_create(path, NULL, &wo, &w, &err), 0);
	for (int i = 0; i < 500; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(s, &rec), 0);
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	}
	assert_int_equal(tu_count_entries(f->dir, "out.fdr.tmp-"), 1);
	assert_int_equal(tu_count_entries(f->dir, ""), 1);
	assert_false(tu_exists(path));
	fd_recording_writer_destroy(w);
	assert_int_equal(tu_count_entries(f->dir, ""), 0);

	/* finished: renamed into place, no temporary left */
	assert_int_equal(fd_recording_writer_create(path, NULL, &wo, &w, &err), 0);
	for (int i = 0; i < 500; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(s, &rec), 0);
		assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	}
	assert_false(tu_exists(path));
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	assert_true(tu_exists(path));
	assert_int_equal(tu_count_entries(f->dir, ""), 1);
	fd_recording_writer_destroy(w);
	assert_true(tu_exists(path)); /* destroy after finish keeps it */
	assert_int_equal(tu_count_entries(f->dir, ""), 1);

	/* an existing recording is replaced only on success */
	size_t before_len;
	uint8_t *before = tu_read_file(path, &before_len);
	assert_int_equal(fd_recording_writer_create(path, NULL, &wo, &w, &err), 0);
	struct fd_record rec;
	assert_int_equal(fd_synth_next(s, &rec), 0);
	assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	fd_recording_writer_destroy(w);
	size_t after_len;
	uint8_t *after = tu_read_file(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	assert_int_equal(tu_count_entries(f->dir, ""), 1);
	free(before);
	free(after);

	/* a directory that does not exist: a runtime error naming the path */
	char *bad = tu_path(f->dir, "nowhere/out.fdr");
	w = (struct fd_recording_writer *)1;
	assert_int_equal(fd_recording_writer_create(bad, NULL, NULL, &w, &err), -FD_ERUNTIME);
	assert_null(w);
	assert_int_equal(err.code, FD_ERUNTIME);
	assert_contains(err.msg, "nowhere/out.fdr");
	free(bad);
	fd_recording_writer_destroy(NULL);
	fd_synth_destroy(s);
	free(path);
}

/* ---------------------------------------------------------------- headers */

static void test_large_answer_key(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "key.fdr");
	enum { LINES = 3000, FIGS = 200, PROPS = 100 };
	Firedrill__V1__RecordingHeader h = FIREDRILL__V1__RECORDING_HEADER__INIT;
	Firedrill__V1__AnswerKey k = FIREDRILL__V1__ANSWER_KEY__INIT;
	char **lines = calloc(LINES, sizeof(*lines));
	for (int i = 0; i < LINES; i++) {
		lines[i] = malloc(200);
		snprintf(lines[i], 200,
			 "step %d: check the p95 of POST /checkout per instance, then the pool wait "
			 "time of orders-db, and compare with the deploy at 13:05 (\"v1.4.2\") \xe2\x80\x94 ok",
			 i);
	}
	Firedrill__V1__Figure figs[FIGS], *figp[FIGS];
	char subj[FIGS][40];
	for (int i = 0; i < FIGS; i++) {
		firedrill__v1__figure__init(&figs[i]);
		snprintf(subj[i], sizeof(subj[i]), "gateway route %d", i);
		figs[i].name = (char *)"p95";
		figs[i].subject = subj[i];
		figs[i].phase = (char *)(i % 2 ? "before" : "during");
		figs[i].value = 0.2 + i / 7.0;
		figs[i].unit = (char *)"s";
		figp[i] = &figs[i];
	}
	Firedrill__V1__Property props[PROPS], *propp[PROPS];
	char keys[PROPS][24];
	for (int i = 0; i < PROPS; i++) {
		firedrill__v1__property__init(&props[i]);
		snprintf(keys[i], sizeof(keys[i]), "kafka.offset.%d", i);
		props[i].key = keys[i];
		props[i].value = lines[i];
		propp[i] = &props[i];
	}
	size_t srclen = 300000;
	char *source = malloc(srclen + 1);
	for (size_t i = 0; i < srclen; i++)
		source[i] = "services:\n  - name: gateway\n"[i % 28];
	source[srclen] = '\0';
	h.generator = (char *)"test";
	h.source_kind = (char *)"scenario";
	h.scenario_name = (char *)"checkout-latency";
	h.scenario_title = (char *)"p95 of POST /checkout from 200 ms to 4 s";
	h.seed = UINT64_MAX;
	h.start_time_unix_nano = 1768482000000000000ULL;
	h.end_time_unix_nano = 1768489200000000000ULL;
	h.created_time_unix_nano = 1;
	h.scenario_source = source;
	h.n_properties = PROPS;
	h.properties = propp;
	k.prompt = lines[1];
	k.root_cause = (char *)"missing index on orders.customer_id after migration 42";
	k.trigger = (char *)"deploy orders v1.4.2";
	k.mitigation = (char *)"roll back";
	k.verification = (char *)"p95 back under 250 ms";
	k.n_investigation = LINES;
	k.investigation = lines;
	k.n_red_herrings = 2;
	k.red_herrings = lines + 5;
	k.n_evidence = 100;
	k.evidence = lines + 10;
	k.n_figures = FIGS;
	k.figures = figp;
	h.answer_key = &k;
	size_t packed = firedrill__v1__recording_header__get_packed_size(&h);
	if (packed < 700000) /* a large header */
		fail_msg("header of %zu bytes", packed);

	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(path, &h, NULL, &w, &err), 0);
	struct fd_blob b = {0, 1, (const uint8_t *)"r"};
	struct fd_record rec = {5, FD_SIGNAL_LOGS, &b, &b, (const uint8_t *)"x", 1};
	assert_int_equal(fd_recording_writer_add(w, &rec, &err), 0);
	Firedrill__V1__Figure m = FIREDRILL__V1__FIGURE__INIT;
	m.name = (char *)"p95";
	m.subject = (char *)"gateway POST /checkout";
	m.phase = (char *)"during";
	m.value = 4.25;
	m.unit = (char *)"s";
	assert_int_equal(fd_recording_writer_add_figure(w, &m, &err), 0);
	m.phase = NULL; /* NULL strings are stored as empty */
	m.value = -0.5;
	assert_int_equal(fd_recording_writer_add_figure(w, &m, &err), 0);
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);

	struct fd_recording_reader *r = open_path(path);
	const Firedrill__V1__RecordingHeader *g = fd_recording_reader_header(r);
	assert_string_equal(g->generator, "test");
	assert_string_equal(g->source_kind, "scenario");
	assert_string_equal(g->scenario_name, h.scenario_name);
	assert_string_equal(g->scenario_title, h.scenario_title);
	assert_true(g->seed == UINT64_MAX);
	assert_true(g->start_time_unix_nano == h.start_time_unix_nano);
	assert_true(g->end_time_unix_nano == h.end_time_unix_nano);
	assert_true(g->created_time_unix_nano == 1);
	assert_string_equal(g->scenario_source, source);
	assert_int_equal(g->n_properties, PROPS);
	for (int i = 0; i < PROPS; i++) {
		assert_string_equal(g->properties[i]->key, keys[i]);
		assert_string_equal(g->properties[i]->value, lines[i]);
	}
	const Firedrill__V1__AnswerKey *gk = g->answer_key;
	assert_non_null(gk);
	assert_string_equal(gk->prompt, k.prompt);
	assert_string_equal(gk->root_cause, k.root_cause);
	assert_string_equal(gk->trigger, k.trigger);
	assert_string_equal(gk->mitigation, k.mitigation);
	assert_string_equal(gk->verification, k.verification);
	assert_int_equal(gk->n_investigation, LINES);
	for (int i = 0; i < LINES; i++)
		assert_string_equal(gk->investigation[i], lines[i]);
	assert_int_equal(gk->n_red_herrings, 2);
	assert_string_equal(gk->red_herrings[1], lines[6]);
	assert_int_equal(gk->n_evidence, 100);
	assert_string_equal(gk->evidence[99], lines[109]);
	assert_int_equal(gk->n_figures, FIGS);
	for (int i = 0; i < FIGS; i++) {
		assert_string_equal(gk->figures[i]->subject, subj[i]);
		assert_string_equal(gk->figures[i]->phase, figs[i].phase);
		assert_true(gk->figures[i]->value == figs[i].value);
	}
	const Firedrill__V1__RecordingSummary *sum = fd_recording_reader_index(r)->summary;
	assert_int_equal(sum->n_measured, 2);
	assert_true(sum->measured[0]->value == 4.25);
	assert_string_equal(sum->measured[0]->phase, "during");
	assert_string_equal(sum->measured[1]->phase, "");
	assert_true(sum->measured[1]->value == -0.5);
	struct tu_recs got = {0};
	assert_int_equal(read_all(r, &got, &err), 0);
	assert_int_equal(got.n, 1);
	tu_recs_free(&got);
	fd_recording_reader_destroy(r);

	/* over the format's 16 MiB limit: refused, nothing left behind */
	size_t hugelen = FDR_MAX_HEADER_LEN + 10;
	char *huge = malloc(hugelen + 1);
	memset(huge, 'y', hugelen);
	huge[hugelen] = '\0';
	h.scenario_source = huge;
	char *p2 = tu_path(f->dir, "huge.fdr");
	w = (struct fd_recording_writer *)1;
	assert_int_equal(fd_recording_writer_create(p2, &h, NULL, &w, &err), -FD_EINPUT);
	assert_null(w);
	assert_contains(err.msg, "exceeds the limit");
	assert_false(tu_exists(p2));
	assert_int_equal(tu_count_entries(f->dir, "huge.fdr"), 0);
	free(p2);
	free(huge);
	free(source);
	for (int i = 0; i < LINES; i++)
		free(lines[i]);
	free(lines);
	free(path);
}

/* ------------------------------------------------------- OTLP payloads */

static const char *attr_str(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n,
			    const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key) && kv[i]->value &&
		    kv[i]->value->value_case ==
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return kv[i]->value->string_value;
	return NULL;
}

/* What fdr-synth writes, read back from a recording, is OTLP that a stock
 * decoder reads: resources with service attributes, spans, metrics and
 * logs whose times are the record times, logs carrying real trace ids. */
static void test_synth_payloads_are_otlp(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *path = tu_path(f->dir, "otlp.fdr");
	write_synth(path, 3000, 8, 0, NULL);
	struct fd_recording_reader *r = open_path(path);
	struct fd_record rec;
	struct fd_error err = {0};
	uint64_t n[3] = {0}, hist = 0, sums = 0, gauges = 0, errors = 0, linked = 0, server = 0;
	uint8_t (*traces)[16] = malloc(3000 * 16);
	size_t ntraces = 0;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		n[rec.signal]++;
		Opentelemetry__Proto__Resource__V1__Resource *res =
			opentelemetry__proto__resource__v1__resource__unpack(NULL, rec.resource->len,
									     rec.resource->data);
		assert_non_null(res);
		static const char *const keys[] = {"service.name", "service.version",
						   "service.instance.id", "deployment.environment"};
		for (int k = 0; k < 4; k++)
			assert_non_null(attr_str(res->attributes, res->n_attributes, keys[k]));
		opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
		Opentelemetry__Proto__Common__V1__InstrumentationScope *sc =
			opentelemetry__proto__common__v1__instrumentation_scope__unpack(
				NULL, rec.scope->len, rec.scope->data);
		assert_non_null(sc);
		assert_string_equal(sc->name, "firedrill/synth");
		opentelemetry__proto__common__v1__instrumentation_scope__free_unpacked(sc, NULL);

		if (rec.signal == FD_SIGNAL_TRACES) {
			Opentelemetry__Proto__Trace__V1__Span *sp =
				opentelemetry__proto__trace__v1__span__unpack(NULL, rec.payload_len,
									      rec.payload);
			assert_non_null(sp);
			assert_int_equal(sp->trace_id.len, 16);
			assert_int_equal(sp->span_id.len, 8);
			assert_true(sp->end_time_unix_nano == (uint64_t)rec.time_ns);
			assert_true(sp->start_time_unix_nano < sp->end_time_unix_nano);
			assert_non_null(sp->status);
			errors += sp->status->code ==
				  OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
			if (sp->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER) {
				server++;
				const char *route = attr_str(sp->attributes, sp->n_attributes, "http.route");
				assert_non_null(route);
				assert_non_null(strstr(sp->name, route)); /* "POST /checkout" */
			} else {
				assert_int_equal(sp->kind,
						 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
				assert_int_equal(sp->parent_span_id.len, 8);
				assert_non_null(attr_str(sp->attributes, sp->n_attributes, "db.system"));
			}
			memcpy(traces[ntraces++], sp->trace_id.data, 16);
			opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
		} else if (rec.signal == FD_SIGNAL_METRICS) {
			Opentelemetry__Proto__Metrics__V1__Metric *m =
				opentelemetry__proto__metrics__v1__metric__unpack(NULL, rec.payload_len,
										  rec.payload);
			assert_non_null(m);
			assert_true(m->name[0] != '\0');
			switch (m->data_case) {
			case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM: {
				hist++;
				assert_int_equal(m->histogram->n_data_points, 1);
				Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dp =
					m->histogram->data_points[0];
				assert_int_equal(dp->n_bucket_counts, dp->n_explicit_bounds + 1);
				uint64_t count = 0;
				for (size_t i = 0; i < dp->n_bucket_counts; i++)
					count += dp->bucket_counts[i];
				assert_int_equal(count, dp->count);
				assert_int_equal(dp->sum__case,
						 OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM__SUM);
				assert_true(dp->time_unix_nano == (uint64_t)rec.time_ns);
				break;
			}
			case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
				sums++;
				assert_true(m->sum->is_monotonic);
				assert_true(m->sum->data_points[0]->time_unix_nano == (uint64_t)rec.time_ns);
				break;
			case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
				gauges++;
				assert_true(m->gauge->data_points[0]->time_unix_nano == (uint64_t)rec.time_ns);
				break;
			default:
				fail_msg("metric %s of unexpected type %d", m->name, (int)m->data_case);
			}
			opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
		} else {
			Opentelemetry__Proto__Logs__V1__LogRecord *lr =
				opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec.payload_len,
										   rec.payload);
			assert_non_null(lr);
			assert_true(lr->time_unix_nano == (uint64_t)rec.time_ns);
			assert_true(lr->severity_number > 0);
			assert_non_null(lr->body);
			assert_int_equal(lr->trace_id.len, 16);
			for (size_t i = 0; i < ntraces; i++)
				if (!memcmp(traces[i], lr->trace_id.data, 16)) {
					linked++;
					break;
				}
			opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
		}
	}
	assert_int_equal(rc, 0);
	assert_true(n[0] > 1000 && n[1] > 200 && n[2] > 500);
	assert_true(hist > 50 && sums > 50 && gauges > 50);
	assert_true(errors > 10 && errors < n[0] / 10);
	assert_true(server > n[0] / 2);
	assert_true(linked > n[2] * 9 / 10); /* logs carry the trace ids of spans */
	fd_recording_reader_destroy(r);
	free(traces);
	free(path);
}

/* ------------------------------------------------------------ determinism */

static void test_deterministic(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *a = tu_path(f->dir, "a.fdr"), *b = tu_path(f->dir, "b.fdr"), *c = tu_path(f->dir, "c.fdr");
	write_synth(a, 3000, 42, 8192, NULL);
	write_synth(b, 3000, 42, 8192, NULL);
	write_synth(c, 3000, 43, 8192, NULL);
	size_t la, lb, lc;
	uint8_t *pa = tu_read_file(a, &la), *pb = tu_read_file(b, &lb), *pc = tu_read_file(c, &lc);
	assert_non_null(pa);
	assert_non_null(pb);
	assert_non_null(pc);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	assert_true(la != lc || memcmp(pa, pc, la) != 0); /* the seed matters */
	/* and through fd_synth_write_recording, with the figure; compressing
	 * on a second thread or inline gives the same bytes */
	struct fd_synth_options so = {.seed = 42};
	struct fd_error err = {0};
	struct fd_recording_writer_options inline_opts = {.block_size = 4096, .single_thread = true};
	struct fd_recording_writer_options thread_opts = {.block_size = 4096};
	assert_int_equal(fd_synth_write_recording(a, 3000, &so, &thread_opts, NULL, &err), 0);
	assert_int_equal(fd_synth_write_recording(b, 3000, &so, &inline_opts, NULL, &err), 0);
	free(pa);
	free(pb);
	pa = tu_read_file(a, &la);
	pb = tu_read_file(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
	free(pc);
	free(a);
	free(b);
	free(c);
}

/* The default level changed from 3 to 1: files written at 3 (every
 * recording made before) and at any other level read back the same
 * records, and the level asked for is the one used (the files differ). */
static void test_any_level_reads(void **state)
{
	struct tu_dir_fixture *f = *state;
	static const int levels[] = {0, 1, 3, 19};
	enum { NL = sizeof(levels) / sizeof(levels[0]) };
	uint8_t *bytes[NL];
	size_t len[NL];
	struct tu_recs want = {0};
	for (int i = 0; i < NL; i++) {
		char name[32];
		snprintf(name, sizeof(name), "l%d.fdr", levels[i]);
		char *path = tu_path(f->dir, name);
		struct tu_recs wrote = {0};
		write_synth_level(path, 20000, 7, 65536, levels[i], i ? &wrote : &want);
		struct fd_recording_reader *r = open_path(path);
		struct tu_recs got = {0};
		struct fd_error err = {0};
		if (read_all(r, &got, &err) < 0)
			fail_msg("level %d: %s", levels[i], err.msg);
		assert_same(&want, 0, want.n, &got, name);
		fd_recording_reader_destroy(r);
		bytes[i] = tu_read_file(path, &len[i]);
		assert_non_null(bytes[i]);
		tu_recs_free(&got);
		tu_recs_free(&wrote);
		free(path);
	}
	/* 0 is 1; 3 and 19 compress otherwise */
	assert_true(len[0] == len[1] && !memcmp(bytes[0], bytes[1], len[0]));
	for (int i = 1; i < NL; i++)
		for (int j = i + 1; j < NL; j++)
			if (len[i] == len[j] && !memcmp(bytes[i], bytes[j], len[i]))
				fail_msg("levels %d and %d wrote the same file", levels[i], levels[j]);
	assert_true(len[3] < len[1]);
	for (int i = 0; i < NL; i++)
		free(bytes[i]);
	tu_recs_free(&want);
}

/* Writes recs (capture times kept when asked) and returns the file's bytes. */
static uint8_t *write_timed(const char *path, const struct fd_record *recs, size_t n, bool keep,
			    size_t *len)
{
	struct fd_recording_writer_options wo = {.block_size = 4096, .capture_times = keep};
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(path, NULL, &wo, &w, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fd_recording_writer_add(w, &recs[i], &err), 0);
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
	uint8_t *p = tu_read_file(path, len);
	assert_non_null(p);
	return p;
}

/*
 * Capture times (format 1.1): kept exactly, before and after the record's
 * time, across blocks; a record without one reads 0. A writer not asked to
 * keep them writes a 1.0 file byte for byte as before, whatever capture_ns
 * says. A 1.0 file with a captured record is corrupt; a 1.1 file built
 * from the document alone reads back.
 */
static void test_capture_times(void **state)
{
	struct tu_dir_fixture *f = *state;
	enum { N = 3000 };
	static struct fd_record recs[N], bare[N];
	struct fd_synth_options so = {.seed = 5};
	struct fd_synth *sy = fd_synth_create(&so);
	static uint8_t *payloads[N];
	for (size_t i = 0; i < N; i++) {
		struct fd_record r;
		assert_int_equal(fd_synth_next(sy, &r), 0);
		payloads[i] = malloc(r.payload_len + 1);
		memcpy(payloads[i], r.payload, r.payload_len);
		r.payload = payloads[i];
		bare[i] = r;
		/* late by i ms, except every 7th (none) and every 11th (early:
		 * a clock behind the sender's) */
		r.capture_ns = i % 7 == 0 ? 0 : r.time_ns + (i % 11 == 0 ? -1 : 1) * (int64_t)i * 1000000;
		recs[i] = r;
	}
	char *a = tu_path(f->dir, "timed.fdr"), *b = tu_path(f->dir, "untimed.fdr"),
	     *c = tu_path(f->dir, "bare.fdr");
	size_t la, lb, lc;
	uint8_t *pa = write_timed(a, recs, N, true, &la);
	uint8_t *pb = write_timed(b, recs, N, false, &lb);
	uint8_t *pc = write_timed(c, bare, N, false, &lc);
	assert_int_equal(lb, lc);
	assert_memory_equal(pb, pc, lb);
	assert_int_equal(pa[10], 1); /* minor */
	assert_int_equal(pb[10], 0);

	struct fd_recording_reader *r = open_path(a);
	unsigned major, minor;
	fd_recording_reader_version(r, &major, &minor);
	assert_int_equal(minor, 1);
	struct fd_record rec;
	struct fd_error err = {0};
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
		assert_true(rec.time_ns == recs[i].time_ns);
		assert_true(rec.capture_ns == recs[i].capture_ns);
		assert_int_equal(rec.payload_len, recs[i].payload_len);
		assert_memory_equal(rec.payload, recs[i].payload, rec.payload_len);
	}
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 0);
	fd_recording_reader_destroy(r);
	r = open_path(b);
	while (fd_recording_reader_next(r, &rec, &err) == 1)
		assert_true(rec.capture_ns == 0);
	fd_recording_reader_destroy(r);

	/* by hand: record at 100 captured at 130, record at 150 without */
	struct bb hb = {0}, raw = {0};
	bb_file_header(&hb, 1);
	hb.p[10] = 1;
	bb_dict(&hb);
	bb_u8(&raw, FD_SIGNAL_TRACES | 0x80);
	bb_varint(&raw, fdr_zigzag(0));
	bb_varint(&raw, fdr_zigzag(30));
	bb_varint(&raw, 0);
	bb_varint(&raw, 0);
	bb_varint(&raw, 4);
	bb_put(&raw, "span", 4);
	raw_record(&raw, FD_SIGNAL_LOGS, 50, 0, 0, "log");
	bb_block(&hb, FDR_BLOCK_RECORDS, &raw, 2, 100, 150, false);
	FILE *mf = tu_memfile(hb.p, hb.n);
	assert_int_equal(fd_recording_reader_open_file(mf, "made.fdr", &r, &err), 0);
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
	assert_true(rec.time_ns == 100 && rec.capture_ns == 130);
	assert_memory_equal(rec.payload, "span", 4);
	assert_int_equal(fd_recording_reader_next(r, &rec, &err), 1);
	assert_true(rec.time_ns == 150 && rec.capture_ns == 0);
	fd_recording_reader_destroy(r);
	/* the same bytes said to be 1.0 */
	hb.p[10] = 0;
	expect_broken(&hb, 0, "block 1 at byte offset", "record 0: record with a capture time in a version 1.0 recording",
		      "capture time in 1.0");

	free(hb.p);
	free(raw.p);
	for (size_t i = 0; i < N; i++)
		free(payloads[i]);
	fd_synth_destroy(sy);
	free(pa);
	free(pb);
	free(pc);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_dir_setup, tu_dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_roundtrip),
		T(test_synth_recording_figures),
		T(test_empty),
		T(test_extremes),
		T(test_seek),
		T(test_seek_dictionary),
		T(test_truncation_every_byte),
		T(test_corruption_every_byte),
		T(test_corruption_random),
		T(test_made_by_hand),
		T(test_resources_deduplicated),
		T(test_resource_pointer_reused),
		T(test_no_partial_file),
		T(test_large_answer_key),
		T(test_synth_payloads_are_otlp),
		T(test_deterministic),
		T(test_any_level_reads),
		T(test_capture_times),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
