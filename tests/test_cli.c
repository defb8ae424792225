/*
 * The firedrill binary (env FIREDRILL): help texts, usage errors and exit
 * statuses, and `inspect` on good, truncated, corrupt and foreign files.
 * Recordings are written with the synthetic stream of tests/support.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd_config.h"
#include "recording/format.h"
#include "recording/reader.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"
#include "recording/writer.h"
#include "sinks/sink.h"
#include "sources/source.h"

static const char *const verbs[] = {"list", "validate", "generate", "inspect",
				    "replay", "record", "help", "version"};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

struct fixture {
	char *dir;
	char *good;    /* a synthetic recording */
	struct fd_synth_result res;
	uint64_t seed;
};

struct out {
	int status;
	char *out, *err;
};

static void out_free(struct out *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

static const char *joined(char *const argv[])
{
	static char buf[2048];
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; argv[i] && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", argv[i]);
	return buf;
}

/* Runs firedrill with the arguments (NULL-terminated), stdin from in. The
 * child must not report sanitizer findings, whatever its exit status. */
static struct out run_in(const char *in, ...)
{
	const char *exe = getenv("FIREDRILL");
	if (!exe || !*exe)
		fail_msg("FIREDRILL is not set (run through meson test)");
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)exe;
	va_list ap;
	va_start(ap, in);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	struct out o;
	o.status = tu_run(argv, in, &o.out, &o.err);
	if (o.status < 0)
		fail_msg("cannot run %s", exe);
	if (strstr(o.err, "runtime error:") || strstr(o.err, "Sanitizer"))
		fail_msg("%s: sanitizer report:\n%s", joined(argv), o.err);
	return o;
}

#define run(...) run_in(NULL, __VA_ARGS__, (const char *)NULL)

static void assert_has(const char *text, const char *needle, const char *what)
{
	if (!text || !strstr(text, needle))
		fail_msg("%s: expected \"%s\" in:\n%s", what, needle, text ? text : "(nothing)");
}

static void assert_lines_fit(const char *text, const char *what)
{
	int line = 1;
	size_t col = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			col = 0;
			continue;
		}
		if (*p == '\t')
			fail_msg("%s: line %d has a tab", what, line);
		if (((unsigned char)*p & 0xc0) != 0x80) /* count UTF-8 characters */
			col++;
		if (col > 80)
			fail_msg("%s: line %d is longer than 80 columns", what, line);
	}
}

/* Writes a synthetic recording to dir/name. */
static char *synth_file(const char *dir, const char *name, uint64_t n, uint64_t seed,
			size_t block_size, struct fd_synth_result *res)
{
	char *path = tu_path(dir, name);
	struct fd_synth_options so = {.seed = seed, .services = 4};
	struct fd_recording_writer_options wo = {.block_size = block_size};
	struct fd_error err = {0};
	if (fd_synth_write_recording(path, n, &so, &wo, res, &err) != 0)
		fail_msg("writing %s: %s", path, err.msg);
	return path;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || !(f->dir = tu_mkdtemp()))
		return -1;
	f->seed = 7;
	f->good = synth_file(f->dir, "good.fdr", 3000, f->seed, 8192, &f->res);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->good);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ help */

static void test_main_help(void **state)
{
	(void)state;
	struct out o = run("--help");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
	assert_has(o.out, "Usage: firedrill COMMAND", "--help");
	for (size_t i = 0; i < NVERBS; i++) {
		char line[32];
		snprintf(line, sizeof(line), "\n  %s ", verbs[i]);
		assert_has(o.out, line, "--help lists every command");
	}
	assert_has(o.out, "Exit status", "--help");
	assert_lines_fit(o.out, "firedrill --help");
	struct out h = run("-h"), help = run("help");
	assert_int_equal(h.status, 0);
	assert_int_equal(help.status, 0);
	assert_string_equal(h.out, o.out);
	assert_string_equal(help.out, o.out);
	out_free(&o);
	out_free(&h);
	out_free(&help);
}

static void test_verb_help(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVERBS; i++) {
		char what[64], usage[64];
		snprintf(what, sizeof(what), "firedrill %s --help", verbs[i]);
		snprintf(usage, sizeof(usage), "Usage: firedrill %s", verbs[i]);
		struct out o = run(verbs[i], "--help");
		if (o.status != 0)
			fail_msg("%s: exit status %d, stderr: %s", what, o.status, o.err);
		assert_string_equal(o.err, "");
		if (strncmp(o.out, usage, strlen(usage)) != 0)
			fail_msg("%s: should start with \"%s\":\n%s", what, usage, o.out);
		assert_lines_fit(o.out, what);
		/* -h and `help VERB` print the same */
		struct out h = run(verbs[i], "-h"), help = run("help", verbs[i]);
		assert_int_equal(h.status, 0);
		assert_int_equal(help.status, 0);
		assert_string_equal(h.out, o.out);
		assert_string_equal(help.out, o.out);
		out_free(&o);
		out_free(&h);
		out_free(&help);
	}
	/* the sinks and sources come from their descriptors */
	struct out r = run("replay", "--help");
	for (const struct fd_sink_descriptor *const *d = fd_sink_descriptors; *d; d++)
		if ((*d)->open)
			assert_has(r.out, (*d)->synopsis, "replay --help");
	out_free(&r);
	r = run("record", "--help");
	for (const struct fd_source_descriptor *const *d = fd_source_descriptors; *d; d++)
		assert_has(r.out, (*d)->synopsis, "record --help");
	out_free(&r);
	/* every option inspect has is described */
	struct out o = run("inspect", "--help");
	assert_has(o.out, "--json", "inspect --help");
	assert_has(o.out, "--timeline", "inspect --help");
	assert_has(o.out, "--answer-key", "inspect --help");
	out_free(&o);
}

static void expect_usage_error(const char *what, struct out o, const char *msg)
{
	if (o.status != 2)
		fail_msg("%s: exit status %d, expected 2; stderr: %s", what, o.status, o.err);
	assert_string_equal(o.out, "");
	assert_has(o.err, msg, what);
	out_free(&o);
}

static void test_usage_errors(void **state)
{
	(void)state;
	struct out o = run_in(NULL, (const char *)NULL);
	expect_usage_error("no arguments", o, "Usage: firedrill");
	expect_usage_error("unknown command", run("frobnicate"), "unknown command 'frobnicate'");
	expect_usage_error("unknown top-level option", run("--bogus"), "'--bogus'");
	expect_usage_error("unknown inspect option", run("inspect", "--bogus", "x.fdr"),
			   "unknown option '--bogus'");
	expect_usage_error("unknown short option", run("inspect", "-z", "x.fdr"), "unknown option");
	expect_usage_error("inspect without a file", run("inspect"), "missing FILE.fdr");
	expect_usage_error("inspect with two files", run("inspect", "a.fdr", "b.fdr"),
			   "expected one FILE.fdr");
	expect_usage_error("version with an argument", run("version", "extra"),
			   "unexpected argument 'extra'");
	expect_usage_error("help for an unknown command", run("help", "frobnicate"),
			   "unknown command 'frobnicate'");
	/* a flag for an option no sink or source takes */
	expect_usage_error("-X without a kafka:// sink", run("replay", "x.fdr", "--to", "dir:o", "-X", "acks=1"),
			   "-X applies to kafka:// sinks only");
	expect_usage_error("--group with a file source",
			   run("record", "--from", "dir:o", "-o", "x.fdr", "--group", "g"),
			   "--group applies to kafka:// sources only");
	/* a usage error points at the help */
	o = run("inspect", "--bogus", "x.fdr");
	assert_has(o.err, "firedrill inspect --help", "usage error");
	out_free(&o);
}

/* Verbs of later issues say so and print nothing else: no fake output. */
static void test_planned_verbs(void **state)
{
	(void)state;
	static const char *const planned[] = {"list", "validate", "generate", "replay", "record"};
	for (size_t i = 0; i < sizeof(planned) / sizeof(planned[0]); i++) {
		struct out o = run(planned[i], "x");
		if (o.status == 2 && strstr(o.err, "not implemented yet"))
			assert_string_equal(o.out, "");
		else
			assert_int_not_equal(o.status, 0); /* implemented: "x" is bad input */
		out_free(&o);
	}
}

static void test_version(void **state)
{
	(void)state;
	struct out o = run("version");
	assert_int_equal(o.status, 0);
	assert_has(o.out, "firedrill " FD_VERSION, "version");
	struct out v = run("--version");
	assert_int_equal(v.status, 0);
	assert_string_equal(v.out, o.out);
	out_free(&o);
	out_free(&v);
}

/* --------------------------------------------------------------- inspect */

struct shape {
	uint64_t record_blocks, dict_blocks, first, last;
};

static struct shape shape_of(const char *path)
{
	struct fd_recording_reader *r;
	struct fd_error err = {0};
	if (fd_recording_reader_open(path, &r, &err) != 0)
		fail_msg("%s", err.msg);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	assert_non_null(ix);
	struct shape s = {0};
	for (size_t i = 0; i < ix->n_blocks; i++) {
		if (ix->blocks[i]->type == FDR_BLOCK_RECORDS)
			s.record_blocks++;
		else
			s.dict_blocks++;
	}
	s.first = ix->summary->first_time_unix_nano;
	s.last = ix->summary->last_time_unix_nano;
	fd_recording_reader_destroy(r);
	return s;
}

static void test_inspect_text(void **state)
{
	struct fixture *f = *state;
	const struct fd_synth_result *res = &f->res;
	char line[256];
	struct shape s = shape_of(f->good);
	const char *modes[] = {NULL, "--verify"};
	for (int m = 0; m < 2; m++) {
		struct out o = modes[m] ? run("inspect", modes[m], f->good) : run("inspect", f->good);
		if (o.status != 0)
			fail_msg("inspect %s: exit %d: %s", modes[m] ? modes[m] : "", o.status, o.err);
		assert_string_equal(o.err, "");
		snprintf(line, sizeof(line),
			 "\nrecords      %llu (traces %llu, metrics %llu, logs %llu)\n",
			 (unsigned long long)(res->records[0] + res->records[1] + res->records[2]),
			 (unsigned long long)res->records[0], (unsigned long long)res->records[1],
			 (unsigned long long)res->records[2]);
		assert_has(o.out, line, "inspect: the counts fdr-synth wrote");
		assert_has(o.out, "\nsource       synthetic\n", "inspect");
		assert_has(o.out, "\nscenario     synthetic\n", "inspect");
		assert_has(o.out, "\nseed         7\n", "inspect");
		assert_has(o.out, "\ntime range   2026-01-15T13:00:00.000Z .. ", "inspect");
		assert_has(o.out, ", format 1.0)\n", "inspect");
		snprintf(line, sizeof(line), "\nblocks       %llu (%llu record, %llu dictionary, 1 index)\n",
			 (unsigned long long)(s.record_blocks + s.dict_blocks + 1),
			 (unsigned long long)s.record_blocks, (unsigned long long)s.dict_blocks);
		assert_has(o.out, line, "inspect: blocks");
		assert_has(o.out, "\ndictionary   8 resources, 1 scopes\n", "inspect");
		assert_has(o.out, "\ncompression  ", "inspect");
		assert_has(o.out, "\nper record   ", "inspect");
		out_free(&o);
	}
	struct out o = run("inspect", "--answer-key", f->good);
	assert_int_equal(o.status, 0);
	assert_has(o.out, "root cause     none: synthetic load without an incident", "--answer-key");
	assert_has(o.out, "measured from the data", "--answer-key");
	assert_has(o.out, "error_rate", "--answer-key");
	out_free(&o);
}

/* Parses inspect --json with Python's json module and returns the fields
 * the tests look at, one per line. */
static char *json_fields(const char *dir, const char *json_text)
{
	char *path = tu_path(dir, "inspect.json");
	assert_int_equal(tu_write_file(path, json_text, strlen(json_text)), 0);
	char *argv[] = {
		(char *)"python3", (char *)"-c",
		(char *)"import json,sys\n"
			"d = json.load(sys.stdin)\n"
			"r = d['records']\n"
			"for v in (r['total'], r['traces'], r['metrics'], r['logs'],\n"
			"          d['has_index'], d['resources'], d['scopes'], d['seed'],\n"
			"          d['source'], d['scenario'], d['cut_short'], d['blocks'],\n"
			"          d['first_time_unix_nano'], d['last_time_unix_nano'],\n"
			"          d['first_time'], d['format_version'],\n"
			"          d['payload_bytes']['total']):\n"
			"    print(v)\n",
		NULL,
	};
	char *out = NULL, *err = NULL;
	int st = tu_run(argv, path, &out, &err);
	if (st < 0) {
		free(path);
		skip(); /* no python3 here */
	}
	if (st != 0)
		fail_msg("inspect --json is not valid JSON (%s):\n%s", err, json_text);
	free(err);
	free(path);
	return out;
}

static void test_inspect_json(void **state)
{
	struct fixture *f = *state;
	const struct fd_synth_result *res = &f->res;
	struct shape s = shape_of(f->good);
	uint64_t payload = res->payload_bytes[0] + res->payload_bytes[1] + res->payload_bytes[2];
	char want[1024];
	snprintf(want, sizeof(want),
		 "%llu\n%llu\n%llu\n%llu\nTrue\n8\n1\n7\nsynthetic\nsynthetic\nFalse\n%llu\n%lld\n%lld\n"
		 "2026-01-15T13:00:00.000Z\n1.0\n%llu\n",
		 (unsigned long long)(res->records[0] + res->records[1] + res->records[2]),
		 (unsigned long long)res->records[0], (unsigned long long)res->records[1],
		 (unsigned long long)res->records[2],
		 (unsigned long long)(s.record_blocks + s.dict_blocks + 1), (long long)res->first_time,
		 (long long)res->last_time, (unsigned long long)payload);
	const char *modes[] = {NULL, "--verify"};
	for (int m = 0; m < 2; m++) {
		struct out o = modes[m] ? run("inspect", "--json", modes[m], f->good)
					: run("inspect", "--json", f->good);
		assert_int_equal(o.status, 0);
		assert_string_equal(o.err, "");
		char *fields = json_fields(f->dir, o.out);
		if (strcmp(fields, want) != 0)
			fail_msg("inspect --json %s: fields\n%s\nexpected\n%s", modes[m] ? modes[m] : "",
				 fields, want);
		free(fields);
		out_free(&o);
	}
	/* an empty recording: no time range */
	char *empty = synth_file(f->dir, "empty.fdr", 0, 1, 0, NULL);
	struct out o = run("inspect", "--json", empty);
	assert_int_equal(o.status, 0);
	char *fields = json_fields(f->dir, o.out);
	assert_has(fields, "0\n0\n0\n0\nTrue\n0\n0\n1\nsynthetic\nsynthetic\nFalse\n1\n0\n0\nNone\n",
		   "empty recording");
	free(fields);
	out_free(&o);
	o = run("inspect", empty);
	assert_int_equal(o.status, 0);
	assert_has(o.out, "records      0 (traces 0, metrics 0, logs 0)", "empty recording");
	out_free(&o);
	free(empty);
}

/* Records at the ends of time and nasty strings in the header: inspect
 * must neither overflow nor print invalid JSON. */
static void test_inspect_extremes(void **state)
{
	struct fixture *f = *state;
	char *path = tu_path(f->dir, "extreme.fdr");
	Firedrill__V1__RecordingHeader h = FIREDRILL__V1__RECORDING_HEADER__INIT;
	Firedrill__V1__Property p = FIREDRILL__V1__PROPERTY__INIT, *pp = &p;
	h.scenario_name = (char *)"quote\" backslash\\ newline\n tab\t bad\xff utf8 \xe2\x82\xac";
	h.source_kind = (char *)"test";
	h.start_time_unix_nano = 0;
	h.end_time_unix_nano = UINT64_MAX; /* a declared range of over 2^63 ns */
	p.key = (char *)"k\"ey";
	p.value = (char *)"\x01\x02";
	h.n_properties = 1;
	h.properties = &pp;
	struct fd_recording_writer *w;
	struct fd_error err = {0};
	assert_int_equal(fd_recording_writer_create(path, &h, NULL, &w, &err), 0);
	struct fd_blob b = {0, 1, (const uint8_t *)"r"};
	struct fd_record recs[] = {
		{INT64_MIN, FD_SIGNAL_TRACES, &b, &b, (const uint8_t *)"a", 1},
		{INT64_MAX, FD_SIGNAL_LOGS, &b, &b, (const uint8_t *)"b", 1},
	};
	for (int i = 0; i < 2; i++)
		assert_int_equal(fd_recording_writer_add(w, &recs[i], &err), 0);
	assert_int_equal(fd_recording_writer_finish(w, &err), 0);
	fd_recording_writer_destroy(w);
	const char *modes[][2] = {{NULL, NULL}, {"--verify", NULL}, {"--json", NULL},
				  {"--json", "--verify"}};
	for (int m = 0; m < 4; m++) {
		struct out o;
		if (!modes[m][0])
			o = run("inspect", path);
		else if (!modes[m][1])
			o = run("inspect", modes[m][0], path);
		else
			o = run("inspect", modes[m][0], modes[m][1], path);
		if (o.status != 0)
			fail_msg("inspect mode %d: exit %d: %s", m, o.status, o.err);
		if (modes[m][0] && !strcmp(modes[m][0], "--json")) {
			char *fields = json_fields(f->dir, o.out);
			assert_has(fields, "2\n1\n0\n1\n", "extremes --json");
			assert_has(fields, "\n-9223372036854775808\n9223372036854775807\n",
				   "extremes --json");
			free(fields);
		} else {
			assert_has(o.out, "records      2 (traces 1, metrics 0, logs 1)", "extremes");
		}
		out_free(&o);
	}
	free(path);
}

static uint8_t *load(const char *path, size_t *len)
{
	uint8_t *p = tu_read_file(path, len);
	assert_non_null(p);
	return p;
}

struct blocks {
	size_t n;
	uint64_t off[1024], end[1024];
	uint8_t type[1024];
	uint32_t count[1024];
	uint64_t index_off;
};

static void blocks_of(const uint8_t *p, size_t len, struct blocks *b)
{
	memset(b, 0, sizeof(*b));
	uint64_t off = FDR_FILE_HEADER_LEN + fdr_get_u32(p + 12);
	b->index_off = fdr_get_u64(p + len - FDR_TAIL_LEN);
	while (off < b->index_off) {
		struct fdr_block_header h;
		assert_int_equal(fdr_block_header_decode(p + off, &h), 0);
		assert_true(b->n < 1024);
		b->off[b->n] = off;
		b->end[b->n] = off + FDR_BLOCK_HEADER_LEN + h.stored_len;
		b->type[b->n] = h.type;
		b->count[b->n] = h.count;
		off = b->end[b->n++];
	}
}

static void test_inspect_truncated(void **state)
{
	struct fixture *f = *state;
	size_t len;
	uint8_t *p = load(f->good, &len);
	struct blocks *b = malloc(sizeof(*b));
	blocks_of(p, len, b);
	assert_true(b->n > 6);
	/* cut 30 bytes into the 6th block */
	size_t k = 5, cut = b->off[k] + 30;
	uint64_t recovered = 0, complete = 0;
	for (size_t i = 0; i < k; i++) {
		complete++;
		if (b->type[i] == FDR_BLOCK_RECORDS)
			recovered += b->count[i];
	}
	char *path = tu_path(f->dir, "cut.fdr");
	assert_int_equal(tu_write_file(path, p, cut), 0);
	struct out o = run("inspect", path);
	if (o.status != 0)
		fail_msg("inspect of a truncated file: exit %d: %s", o.status, o.err);
	char msg[256];
	snprintf(msg, sizeof(msg), "cut short at byte %llu", (unsigned long long)b->off[k]);
	assert_has(o.err, "warning", "truncated");
	assert_has(o.err, msg, "truncated");
	snprintf(msg, sizeof(msg), "recovered %llu records in %llu complete blocks",
		 (unsigned long long)recovered, (unsigned long long)complete);
	assert_has(o.err, msg, "truncated");
	snprintf(msg, sizeof(msg), "\nrecords      %llu (", (unsigned long long)recovered);
	assert_has(o.out, msg, "truncated");
	assert_has(o.out, "no index", "truncated");
	out_free(&o);

	o = run("inspect", "--json", path);
	assert_int_equal(o.status, 0);
	assert_has(o.err, "recovered", "truncated --json");
	char *fields = json_fields(f->dir, o.out);
	snprintf(msg, sizeof(msg), "%llu\n", (unsigned long long)recovered);
	assert_int_equal(strncmp(fields, msg, strlen(msg)), 0);
	assert_has(fields, "\nFalse\n", "has_index false");
	assert_has(fields, "\nTrue\n", "cut_short true");
	free(fields);
	out_free(&o);
	free(path);
	free(b);
	free(p);
}

static void test_inspect_corrupt(void **state)
{
	struct fixture *f = *state;
	size_t len;
	uint8_t *p = load(f->good, &len);
	struct blocks *b = malloc(sizeof(*b));
	blocks_of(p, len, b);
	char *path = tu_path(f->dir, "bad.fdr");
	char where[128];

	/* a flipped byte in the index: inspect reads it, exit 2 */
	p[b->index_off + FDR_BLOCK_HEADER_LEN + 3] ^= 0x40;
	assert_int_equal(tu_write_file(path, p, len), 0);
	struct out o = run("inspect", path);
	snprintf(where, sizeof(where), "block %zu at byte offset %llu", b->n,
		 (unsigned long long)b->index_off);
	expect_usage_error("corrupt index", o, where);
	p[b->index_off + FDR_BLOCK_HEADER_LEN + 3] ^= 0x40;

	/* a flipped byte in a record block: --verify reads every block */
	size_t k = 4;
	while (b->type[k] != FDR_BLOCK_RECORDS)
		k++;
	p[b->off[k] + FDR_BLOCK_HEADER_LEN + 10] ^= 0x01;
	assert_int_equal(tu_write_file(path, p, len), 0);
	snprintf(where, sizeof(where), "block %zu at byte offset %llu: data checksum mismatch", k,
		 (unsigned long long)b->off[k]);
	expect_usage_error("corrupt block, --verify", run("inspect", "--verify", path), where);
	expect_usage_error("corrupt block, --json --verify", run("inspect", "--json", "--verify", path),
			   where);
	/* ... and without a footer every block is read anyway */
	assert_int_equal(tu_write_file(path, p, b->index_off), 0);
	expect_usage_error("corrupt block, no index", run("inspect", path), where);
	/* a damaged block header */
	p[b->off[k] + FDR_BLOCK_HEADER_LEN + 10] ^= 0x01;
	p[b->off[k] + 9] ^= 0x10;
	assert_int_equal(tu_write_file(path, p, len), 0);
	snprintf(where, sizeof(where), "block %zu at byte offset %llu: block header checksum mismatch",
		 k, (unsigned long long)b->off[k]);
	expect_usage_error("corrupt block header", run("inspect", "--verify", path), where);
	free(path);
	free(b);
	free(p);
}

/* Records in the recording at path (every one, or fails the test). */
static uint64_t count_records(const char *path)
{
	struct fd_recording_reader *r = NULL;
	struct fd_error err = {0};
	if (fd_recording_reader_open(path, &r, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	struct fd_record rec;
	uint64_t n = 0;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0)
		n++;
	if (rc < 0)
		fail_msg("%s: %s", path, err.msg);
	fd_recording_reader_destroy(r);
	return n;
}

/* issue 20 item 8: replay of a recording cut short warns as inspect does;
 * replay of one with a damaged block keeps what the sinks were given
 * before it (dir: and file: commit their files, as Kafka and stdout have
 * sent theirs) and says what was lost, exit 2. */
static void test_replay_damaged(void **state)
{
	struct fixture *f = *state;
	size_t len;
	uint8_t *p = load(f->good, &len);
	struct blocks *b = malloc(sizeof(*b));
	blocks_of(p, len, b);
	assert_true(b->n > 8);
	size_t k = 6;
	while (b->type[k] != FDR_BLOCK_RECORDS)
		k++;
	uint64_t before = 0;
	for (size_t i = 0; i < k; i++)
		if (b->type[i] == FDR_BLOCK_RECORDS)
			before += b->count[i];
	char *path = tu_path(f->dir, "damaged.fdr");
	char *out_dir = tu_path(f->dir, "out");
	char *out_fdr = tu_path(f->dir, "out.fdr");
	char to_dir[600], to_fdr[600], msg[256];
	snprintf(to_dir, sizeof(to_dir), "dir:%s", out_dir);
	snprintf(to_fdr, sizeof(to_fdr), "file:%s", out_fdr);

	/* cut 30 bytes into block k */
	assert_int_equal(tu_write_file(path, p, b->off[k] + 30), 0);
	struct out o = run("replay", path, "--to", to_fdr, "--speed", "max", "--rebase", "none");
	if (o.status != 0)
		fail_msg("replay of a cut file: exit %d: %s", o.status, o.err);
	snprintf(msg, sizeof(msg), "warning: %s is cut short at byte %llu", path,
		 (unsigned long long)b->off[k]);
	assert_has(o.err, msg, "replay cut short");
	snprintf(msg, sizeof(msg), "replayed the %llu records before it", (unsigned long long)before);
	assert_has(o.err, msg, "replay cut short");
	assert_int_equal(count_records(out_fdr), before);
	out_free(&o);
	assert_int_equal(unlink(out_fdr), 0);

	/* a flipped byte in block k, with blocks after it */
	p[b->off[k] + FDR_BLOCK_HEADER_LEN + 10] ^= 0x01;
	assert_int_equal(tu_write_file(path, p, len), 0);
	o = run("replay", path, "--to", to_fdr, "--to", to_dir, "--speed", "max", "--rebase",
		"none");
	if (o.status != 2)
		fail_msg("replay of a damaged file: exit %d, expected 2: %s", o.status, o.err);
	snprintf(msg, sizeof(msg), "block %zu at byte offset %llu: data checksum mismatch", k,
		 (unsigned long long)b->off[k]);
	assert_has(o.err, msg, "replay damaged");
	snprintf(msg, sizeof(msg), "the sinks kept the %llu records replayed before it",
		 (unsigned long long)before);
	assert_has(o.err, msg, "replay damaged");
	snprintf(msg, sizeof(msg), "replayed %llu records", (unsigned long long)before);
	assert_has(o.err, msg, "replay damaged");
	assert_int_equal(count_records(out_fdr), before);
	/* the three files under their names, no temporary ones */
	assert_int_equal(tu_count_entries(out_dir, ""), 3);
	const char *names[] = {"traces.jsonl", "metrics.jsonl", "logs.jsonl"};
	for (int i = 0; i < 3; i++) {
		char *q = tu_path(out_dir, names[i]);
		assert_true(tu_exists(q));
		free(q);
	}
	out_free(&o);

	/* damaged before any record was sent: nothing is written */
	tu_rmtree(out_dir);
	assert_int_equal(unlink(out_fdr), 0);
	p[b->off[k] + FDR_BLOCK_HEADER_LEN + 10] ^= 0x01;
	size_t first = 0;
	while (b->type[first] != FDR_BLOCK_RECORDS)
		first++;
	p[b->off[first] + FDR_BLOCK_HEADER_LEN + 10] ^= 0x01;
	assert_int_equal(tu_write_file(path, p, len), 0);
	o = run("replay", path, "--to", to_fdr, "--to", to_dir, "--speed", "max");
	assert_int_equal(o.status, 2);
	assert_false(tu_exists(out_fdr));
	assert_int_equal(tu_count_entries(out_dir, ""), 0);
	out_free(&o);
	free(out_dir);
	free(out_fdr);
	free(path);
	free(b);
	free(p);
}

static void test_inspect_bad_files(void **state)
{
	struct fixture *f = *state;
	char *missing = tu_path(f->dir, "missing.fdr");
	expect_usage_error("missing file", run("inspect", missing), "cannot open");
	char *text = tu_path(f->dir, "notes.txt");
	const char *t = "this is not a recording\nat all\n";
	assert_int_equal(tu_write_file(text, t, strlen(t)), 0);
	expect_usage_error("text file", run("inspect", text), "not a firedrill recording");
	char *empty = tu_path(f->dir, "empty.bin");
	assert_int_equal(tu_write_file(empty, "", 0), 0);
	expect_usage_error("empty file", run("inspect", empty), "not a firedrill recording");
	expect_usage_error("directory", run("inspect", f->dir), "");
	/* cut inside the file header */
	size_t len;
	uint8_t *p = load(f->good, &len);
	char *head = tu_path(f->dir, "head.fdr");
	assert_int_equal(tu_write_file(head, p, 30), 0);
	expect_usage_error("cut header", run("inspect", head), "cut short inside its header");
	/* a future major version */
	p[8] = 2;
	assert_int_equal(tu_write_file(head, p, len), 0);
	expect_usage_error("major 2", run("inspect", head), "not supported");
	free(p);
	free(head);
	free(empty);
	free(text);
	free(missing);
}

/* generate and validate read a scenario file through one loader: the same
 * message and status for a directory, and the same size cap (generate once
 * had its own reader, which took a directory for an empty scenario). */
static void test_scenario_bad_files(void **state)
{
	struct fixture *f = *state;
	char *big = tu_path(f->dir, "big.yaml");
	FILE *fp = fopen(big, "w");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 17L << 20, SEEK_SET), 0); /* sparse: 17 MiB of zeros */
	assert_int_equal(fputc('\n', fp), '\n');
	assert_int_equal(fclose(fp), 0);
	char *out = tu_path(f->dir, "g.fdr");
	static const struct {
		const char *name;
		int status;
		const char *msg;
	} cases[] = {
		{"directory", 2, "Is a directory"},
		{"big.yaml", 2, "too large for a scenario"},
		/* a FIFO no program writes to: read at once, not waited on */
		{"fifo.yaml", 2, "nothing to read (a FIFO or pipe that no program writes to)"},
	};
	char *fifo = tu_path(f->dir, "fifo.yaml");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = strcmp(cases[i].name, "directory") ? tu_path(f->dir, cases[i].name)
								 : strdup(f->dir);
		struct out g = run("generate", path, "-o", out, "-q");
		struct out v = run("validate", path);
		if (g.status != cases[i].status || v.status != cases[i].status)
			fail_msg("%s: generate exit %d, validate exit %d, expected %d; stderr:\n%s%s",
				 cases[i].name, g.status, v.status, cases[i].status, g.err, v.err);
		assert_has(g.err, cases[i].msg, "generate");
		assert_has(v.err, cases[i].msg, "validate");
		assert_false(tu_exists(out));
		assert_int_equal(tu_count_entries(f->dir, "g.fdr"), 0);
		out_free(&g);
		out_free(&v);
		free(path);
	}
	/* a missing file is the user's mistake, as for replay (exit 2) */
	char *missing = tu_path(f->dir, "missing.yaml");
	struct out v = run("validate", missing);
	if (v.status != 2)
		fail_msg("validate of a missing file: exit %d, expected 2: %s", v.status, v.err);
	assert_has(v.err, "No such file or directory", "validate missing");
	out_free(&v);
	/* -o naming a directory is refused before anything is simulated */
	struct out g = run("generate", "latency-after-release", "-o", f->dir, "-q");
	if (g.status != 2)
		fail_msg("generate -o DIR: exit %d, expected 2: %s", g.status, g.err);
	assert_has(g.err, "it is a directory", "generate -o DIR");
	out_free(&g);
	/* a scenario under a directory we may not search: not "neither a
	 * scenario file nor a built-in" (root may search anything) */
	if (geteuid() != 0) {
		char *locked = tu_path(f->dir, "locked");
		char *inside = tu_path(locked, "s.yaml");
		assert_int_equal(mkdir(locked, 0700), 0);
		assert_int_equal(tu_write_file(inside, "x", 1), 0);
		assert_int_equal(chmod(locked, 0), 0);
		g = run("generate", inside, "-o", out, "-q");
		chmod(locked, 0700);
		assert_int_equal(g.status, 1);
		assert_has(g.err, "Permission denied", "generate locked");
		out_free(&g);
		free(inside);
		free(locked);
	}
	free(missing);
	free(fifo);
	free(out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_help),
		cmocka_unit_test(test_verb_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_planned_verbs),
		cmocka_unit_test(test_version),
		cmocka_unit_test_setup_teardown(test_inspect_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_extremes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scenario_bad_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
