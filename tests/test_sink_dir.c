/* sinks/sink_dir + sink_stdout: every format writes the expected files;
 * OTLP requests respect batch_records, batch_bytes and batch_window (read
 * back from the otlp_proto framing) and hold every record once (otlp_json
 * read back by Python); ecs, bulk and text line counts; bad URIs and
 * options; destroy without close leaves nothing; stdout in record order;
 * threads=N writes the same bytes as one thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "sinks/sink.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

/* a fresh temporary directory per test: tu_dir_setup / tu_dir_teardown */

static struct fd_sink *open_ok(const char *uri, const struct fd_sink_context *ctx)
{
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	if (fd_sink_open(uri, ctx, &s, &err) != 0)
		fail_msg("opening %s: %s", uri, err.msg);
	return s;
}

/* Writes n synthetic records. The sink may keep the records' resource and
 * scope pointers until close, so the source outlives it: close_ok
 * destroys both. */
static struct fd_synth *write_synth(struct fd_sink *s, int n, uint64_t seed, uint64_t counts[3])
{
	struct fd_synth_options so = {.seed = seed};
	struct fd_synth *syn = fd_synth_create(&so);
	for (int i = 0; i < n; i++) {
		struct fd_record rec;
		struct fd_error err = {0};
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		if (fd_sink_write(s, &rec, &err) != 0)
			fail_msg("record %d: %s", i, err.msg);
		counts[rec.signal]++;
	}
	return syn;
}

static void close_ok(struct fd_sink *s, struct fd_synth *syn)
{
	struct fd_error err = {0};
	if (fd_sink_close(s, &err) != 0)
		fail_msg("close: %s", err.msg);
	fd_sink_destroy(s);
	fd_synth_destroy(syn);
}

/* Lines in a file, and the longest one's length (without its newline). */
static size_t count_lines_max(const char *path, size_t *longest)
{
	size_t len, n = 0, start = 0, max = 0;
	uint8_t *data = tu_read_file(path, &len);
	if (!data)
		fail_msg("cannot read %s", path);
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n') {
			n++;
			if (i - start > max)
				max = i - start;
			start = i + 1;
		}
	if (len)
		assert_int_equal(data[len - 1], '\n');
	free(data);
	if (longest)
		*longest = max;
	return n;
}

static size_t count_lines(const char *path)
{
	return count_lines_max(path, NULL);
}

/* ---- reading requests back ---- */

struct frame_stats {
	size_t records;
	int64_t tmin, tmax; /* of the records' own times */
};

static void note_time(struct frame_stats *st, uint64_t t)
{
	if (st->records == 0 || (int64_t)t < st->tmin)
		st->tmin = (int64_t)t;
	if (st->records == 0 || (int64_t)t > st->tmax)
		st->tmax = (int64_t)t;
	st->records++;
}

/* Records in one export request and the spread of their times (span end,
 * metric point, log record: the record time the sink batches by). */
static struct frame_stats frame_stats(enum fd_signal sig, const uint8_t *p, size_t len)
{
	struct frame_stats st = {0};
	if (sig == FD_SIGNAL_TRACES) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r =
			opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, p);
		assert_non_null(r);
		for (size_t i = 0; i < r->n_resource_spans; i++)
			for (size_t k = 0; k < r->resource_spans[i]->n_scope_spans; k++)
				for (size_t s = 0; s < r->resource_spans[i]->scope_spans[k]->n_spans; s++)
					note_time(&st, r->resource_spans[i]->scope_spans[k]->spans[s]->end_time_unix_nano);
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL);
	} else if (sig == FD_SIGNAL_METRICS) {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, len, p);
		assert_non_null(r);
		for (size_t i = 0; i < r->n_resource_metrics; i++)
			for (size_t k = 0; k < r->resource_metrics[i]->n_scope_metrics; k++)
				for (size_t m = 0; m < r->resource_metrics[i]->scope_metrics[k]->n_metrics; m++) {
					const Opentelemetry__Proto__Metrics__V1__Metric *x =
						r->resource_metrics[i]->scope_metrics[k]->metrics[m];
					uint64_t t = x->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
							     ? x->histogram->data_points[0]->time_unix_nano
						     : x->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM
							     ? x->sum->data_points[0]->time_unix_nano
							     : x->gauge->data_points[0]->time_unix_nano;
					note_time(&st, t);
				}
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
	} else {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r =
			opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL, len, p);
		assert_non_null(r);
		for (size_t i = 0; i < r->n_resource_logs; i++)
			for (size_t k = 0; k < r->resource_logs[i]->n_scope_logs; k++)
				for (size_t l = 0; l < r->resource_logs[i]->scope_logs[k]->n_log_records; l++)
					note_time(&st, r->resource_logs[i]->scope_logs[k]->log_records[l]->time_unix_nano);
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	}
	return st;
}

/* Reads an otlp_proto file: 4-byte big-endian length, request, ... Checks
 * every request against the limits; returns the number of requests and
 * adds up the records. */
static size_t check_proto_file(const char *path, enum fd_signal sig, size_t max_records,
			       size_t max_bytes, int64_t window, uint64_t *records)
{
	size_t len, off = 0, frames = 0;
	uint8_t *data = tu_read_file(path, &len);
	assert_non_null(data);
	*records = 0;
	while (off < len) {
		assert_true(len - off >= 4);
		size_t n = (size_t)data[off] << 24 | (size_t)data[off + 1] << 16 |
			   (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		assert_true(n <= len - off);
		struct frame_stats st = frame_stats(sig, data + off, n);
		assert_true(st.records >= 1);
		assert_true(st.records <= max_records);
		if (n > max_bytes && st.records != 1)
			fail_msg("%s: request %zu is %zu bytes with %zu records, over batch_bytes=%zu",
				 path, frames, n, st.records, max_bytes);
		if (st.tmax - st.tmin > window)
			fail_msg("%s: request %zu spans %lld ns of record time, over the window",
				 path, frames, (long long)(st.tmax - st.tmin));
		*records += st.records;
		off += n;
		frames++;
	}
	free(data);
	return frames;
}

/* Python reads the JSON (any JSON parser must accept it) and checks the
 * shapes; prints one number: requests (otlp), documents (ecs, bulk). */
static const char py_check[] =
	"import json, re, sys\n"
	"mode = sys.argv[1]\n"
	"lines = open(sys.argv[2], encoding='utf-8').read().split('\\n')\n"
	"assert lines[-1] == ''\n"
	"lines = lines[:-1]\n"
	"HEX32 = re.compile('^[0-9a-f]{32}$')\n"
	"TS = re.compile('^\\\\d{4}-\\\\d\\\\d-\\\\d\\\\dT\\\\d\\\\d:\\\\d\\\\d:\\\\d\\\\d\\\\.\\\\d{3}Z$')\n"
	"def ecs(d, dataset=None):\n"
	"    assert list(d)[:4] == ['@timestamp', 'log.level', 'message', 'ecs.version'], list(d)\n"
	"    assert TS.match(d['@timestamp']), d['@timestamp']\n"
	"    assert d['log.level'] in ('info', 'warn', 'error'), d\n"
	"    assert d['event.dataset'] == (dataset or d['service.name'] + '.log')\n"
	"    if dataset: assert d['data_stream.dataset'] == dataset and d['data_stream.namespace'] == 'default'\n"
	"    assert HEX32.match(d['trace.id']) and len(d['span.id']) == 16\n"
	"    assert d['service.environment'] == 'production' and d['service.node.name']\n"
	"    assert all(isinstance(v, str) and '.' not in k for k, v in d['labels'].items())\n"
	"if mode == 'otlp':\n"
	"    n = 0\n"
	"    for l in lines:\n"
	"        req = json.loads(l)\n"
	"        for rs in list(req.values())[0]:\n"
	"            for ss in [v for k, v in rs.items() if k.startswith('scope')][0]:\n"
	"                for k, v in ss.items():\n"
	"                    if k != 'scope' and k != 'schemaUrl': n += len(v)\n"
	"    print(len(lines), n)\n"
	"elif mode == 'ecs':\n"
	"    for l in lines: ecs(json.loads(l))\n"
	"    print(len(lines))\n"
	"else:\n"
	"    assert len(lines) % 2 == 0\n"
	"    for i in range(0, len(lines), 2):\n"
	"        assert json.loads(lines[i]) == {'create': {'_index': 'logs-firedrill-default'}}\n"
	"        ecs(json.loads(lines[i + 1]), 'firedrill')\n"
	"    print(len(lines) // 2)\n";

/* Runs py_check; false when there is no python3 (the caller skips). */
static bool python_check(const char *mode, const char *path, char out[64])
{
	char *o = NULL, *e = NULL;
	char *argv[] = {(char *)"python3", (char *)"-c", (char *)py_check, (char *)mode,
			(char *)path, NULL};
	int rc = tu_run(argv, NULL, &o, &e);
	if (rc < 0 || rc == 127) {
		free(o);
		free(e);
		return false;
	}
	if (rc != 0)
		fail_msg("python %s %s: exit %d: %s", mode, path, rc, e);
	snprintf(out, 64, "%s", o);
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	free(o);
	free(e);
	return true;
}

static void test_otlp_batching(void **state)
{
	struct tu_dir_fixture *f = *state;
	const char *opts = "batch_records=100&batch_bytes=20000&batch_window=50ms";
	char uri_json[600], uri_proto[600];
	char *dj = tu_path(f->dir, "json"), *dp = tu_path(f->dir, "a/b/proto"); /* mkdir -p */
	snprintf(uri_json, sizeof(uri_json), "dir:%s?%s", dj, opts);
	snprintf(uri_proto, sizeof(uri_proto), "dir:%s?format=otlp_proto&%s", dp, opts);
	struct fd_sink *sj = open_ok(uri_json, NULL), *sp = open_ok(uri_proto, NULL);
	assert_string_equal(sj->impl->name, "dir");
	uint64_t counts[3] = {0}, counts2[3] = {0};
	struct fd_synth *yj = write_synth(sj, 6000, 5, counts);
	struct fd_synth *yp = write_synth(sp, 6000, 5, counts2);
	assert_int_equal(tu_count_entries(dj, "traces.jsonl.tmp-"), 1); /* not yet in place */
	char *final = tu_path(dj, "traces.jsonl");
	assert_false(tu_exists(final));
	free(final);
	close_ok(sj, yj);
	close_ok(sp, yp);
	assert_int_equal(tu_count_entries(dj, ""), 3);
	assert_int_equal(tu_count_entries(dp, ""), 3);
	static const char *const json_files[] = {"traces.jsonl", "metrics.jsonl", "logs.jsonl"};
	static const char *const proto_files[] = {"traces.pb", "metrics.pb", "logs.pb"};
	bool have_python = true;
	for (int s = 0; s < 3; s++) {
		char *pj = tu_path(dj, json_files[s]), *pp = tu_path(dp, proto_files[s]);
		uint64_t records;
		size_t frames = check_proto_file(pp, (enum fd_signal)s, 100, 20000, 50000000, &records);
		assert_int_equal(records, counts[s]);
		/* the limits did cut: more requests than records / 100 */
		assert_true(frames >= (counts[s] + 99) / 100);
		/* batch_bytes limits each format's own encoding: a JSON line may
		 * be cut further than its protobuf (test_json_batch_bytes) */
		size_t longest, lines = count_lines_max(pj, &longest);
		assert_true(lines >= frames);
		assert_true(longest <= 20000);
		char out[64], want[64];
		if (have_python && python_check("otlp", pj, out)) {
			snprintf(want, sizeof(want), "%zu %llu", lines, (unsigned long long)counts[s]);
			assert_string_equal(out, want);
		} else {
			have_python = false;
		}
		free(pj);
		free(pp);
	}
	free(dj);
	free(dp);
}

/* otlp_json: batch_bytes limits the JSON line, not the protobuf it comes
 * from (which is two to three times smaller). */
static void test_json_batch_bytes(void **state)
{
	struct tu_dir_fixture *f = *state;
	const char *opts = "batch_records=100000&batch_bytes=64KiB&batch_window=1h";
	char uri_json[600], uri_proto[600];
	char *dj = tu_path(f->dir, "json"), *dp = tu_path(f->dir, "proto");
	snprintf(uri_json, sizeof(uri_json), "dir:%s?%s", dj, opts);
	snprintf(uri_proto, sizeof(uri_proto), "dir:%s?format=otlp_proto&%s", dp, opts);
	struct fd_sink *sj = open_ok(uri_json, NULL), *sp = open_ok(uri_proto, NULL);
	uint64_t counts[3] = {0}, counts2[3] = {0};
	struct fd_synth *yj = write_synth(sj, 20000, 5, counts);
	struct fd_synth *yp = write_synth(sp, 20000, 5, counts2);
	close_ok(sj, yj);
	close_ok(sp, yp);
	static const char *const json_files[] = {"traces.jsonl", "metrics.jsonl", "logs.jsonl"};
	static const char *const proto_files[] = {"traces.pb", "metrics.pb", "logs.pb"};
	for (int s = 0; s < 3; s++) {
		char *pj = tu_path(dj, json_files[s]), *pp = tu_path(dp, proto_files[s]);
		uint64_t records;
		size_t frames = check_proto_file(pp, (enum fd_signal)s, 100000, 65536, INT64_MAX,
						 &records);
		size_t longest, lines = count_lines_max(pj, &longest);
		assert_true(longest <= 65536);
		assert_true(longest > 32768);
		assert_true(lines > frames);
		char out[64], want[64];
		if (python_check("otlp", pj, out)) {
			snprintf(want, sizeof(want), "%zu %llu", lines, (unsigned long long)counts[s]);
			assert_string_equal(out, want);
		}
		free(pj);
		free(pp);
	}
	free(dj);
	free(dp);
}

static void test_batch_bytes_tight(void **state)
{
	struct tu_dir_fixture *f = *state;
	/* so small that most requests hold a single record, some alone over it */
	char *d = tu_path(f->dir, "tight");
	char uri[600];
	snprintf(uri, sizeof(uri), "dir:%s?format=otlp_proto&batch_bytes=700&batch_window=1h", d);
	struct fd_sink *s = open_ok(uri, NULL);
	uint64_t counts[3] = {0};
	close_ok(s, write_synth(s, 2000, 9, counts));
	for (int i = 0; i < 3; i++) {
		static const char *const files[] = {"traces.pb", "metrics.pb", "logs.pb"};
		char *p = tu_path(d, files[i]);
		uint64_t records;
		check_proto_file(p, (enum fd_signal)i, 512, 700, 3600000000000LL, &records);
		assert_int_equal(records, counts[i]);
		free(p);
	}
	free(d);
}

static void test_default_options(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *d = tu_path(f->dir, "default");
	char uri[600];
	snprintf(uri, sizeof(uri), "dir:%s", d);
	struct fd_sink *s = open_ok(uri, NULL);
	uint64_t counts[3] = {0};
	close_ok(s, write_synth(s, 3000, 2, counts));
	assert_int_equal(tu_count_entries(d, ""), 3);
	char *p = tu_path(d, "traces.jsonl");
	char out[64], want[64];
	/* 3000 records a millisecond apart: the 1 s window cuts, not the 512 */
	size_t lines = count_lines(p);
	assert_true(lines >= 3 && lines <= 5);
	if (python_check("otlp", p, out)) {
		snprintf(want, sizeof(want), "%zu %llu", lines, (unsigned long long)counts[0]);
		assert_string_equal(out, want);
	}
	free(p);
	free(d);
}

struct notices {
	int n;
	char last[512];
};

static void on_notice(void *ctx, const char *msg)
{
	struct notices *n = ctx;
	n->n++;
	snprintf(n->last, sizeof(n->last), "%s", msg);
}

static void test_log_formats(void **state)
{
	struct tu_dir_fixture *f = *state;
	static const struct {
		const char *format, *file, *mode;
	} cases[] = {{"ecs", "logs.ndjson", "ecs"}, {"bulk", "logs.bulk.000001.ndjson", "bulk"}};
	for (size_t c = 0; c < 2; c++) {
		char *d = tu_path(f->dir, cases[c].format);
		char uri[600];
		snprintf(uri, sizeof(uri), "dir:%s?format=%s", d, cases[c].format);
		struct notices nt = {0};
		struct fd_sink_context ctx = {.notice = on_notice, .notice_ctx = &nt};
		struct fd_sink *s = open_ok(uri, &ctx);
		uint64_t counts[3] = {0};
		close_ok(s, write_synth(s, 2000, 4, counts));
		assert_int_equal(tu_count_entries(d, ""), 1); /* logs only */
		char *p = tu_path(d, cases[c].file);
		assert_int_equal(count_lines(p), counts[2] * (c == 1 ? 2 : 1));
		char out[64], want[64], msg[256];
		if (python_check(cases[c].mode, p, out)) {
			snprintf(want, sizeof(want), "%llu", (unsigned long long)counts[2]);
			assert_string_equal(out, want);
		}
		assert_int_equal(nt.n, 1);
		snprintf(msg, sizeof(msg), "skipped %llu spans and %llu metrics",
			 (unsigned long long)counts[0], (unsigned long long)counts[1]);
		if (!strstr(nt.last, msg) || !strstr(nt.last, uri))
			fail_msg("notice \"%s\" should name the sink and say \"%s\"", nt.last, msg);
		free(p);
		free(d);
	}
}

/* format=bulk honours batch_bytes: numbered files, each a whole _bulk body
 * within the limit, all the logs among them. */
static void test_bulk_files(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *d = tu_path(f->dir, "bulk");
	char uri[600];
	snprintf(uri, sizeof(uri), "dir:%s?format=bulk&batch_bytes=100KB", d);
	struct fd_sink *s = open_ok(uri, NULL);
	uint64_t counts[3] = {0};
	close_ok(s, write_synth(s, 20000, 4, counts));
	int files = tu_count_entries(d, "logs.bulk.");
	assert_int_equal(tu_count_entries(d, ""), files);
	assert_true(files > 3);
	uint64_t docs = 0;
	for (int i = 1; i <= files; i++) {
		char name[64];
		snprintf(name, sizeof(name), "logs.bulk.%06d.ndjson", i);
		char *p = tu_path(d, name);
		size_t len;
		uint8_t *data = tu_read_file(p, &len);
		assert_non_null(data);
		assert_true(len <= 100000);
		assert_true(len > 90000 || i == files);
		size_t lines = count_lines(p);
		assert_int_equal(lines % 2, 0);
		docs += lines / 2;
		char out[64], want[64];
		if (python_check("bulk", p, out)) {
			snprintf(want, sizeof(want), "%zu", lines / 2);
			assert_string_equal(out, want);
		}
		free(data);
		free(p);
	}
	assert_int_equal(docs, counts[2]);
	free(d);
}

static void test_text(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *d = tu_path(f->dir, "text");
	char uri[600];
	snprintf(uri, sizeof(uri), "dir:%s?format=text", d);
	struct fd_sink *s = open_ok(uri, NULL);
	uint64_t counts[3] = {0};
	close_ok(s, write_synth(s, 2000, 4, counts));
	static const char *const files[] = {"traces.log", "metrics.log", "logs.log"};
	for (int i = 0; i < 3; i++) {
		char *p = tu_path(d, files[i]);
		/* one line per record (synthetic metrics have one data point) */
		assert_int_equal(count_lines(p), counts[i]);
		free(p);
	}
	char *p = tu_path(d, "logs.log");
	size_t len;
	char *text = (char *)tu_read_file(p, &len);
	/* 2026-01-15T13:00:00.123Z INFO  svc [trace=<32> span=<16>] message k=v */
	char ts[32], level[8], svc[64], trace[64], span[64];
	assert_int_equal(sscanf(text, "%24s %7s %63s [trace=%63s span=%63[^]]", ts, level, svc,
				trace, span),
			 5);
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(strncmp(ts, "2026-01-15T13:00:", 17), 0);
	assert_true(strcmp(level, "INFO") == 0 || strcmp(level, "WARN") == 0 ||
		    strcmp(level, "ERROR") == 0);
	assert_int_equal(strlen(trace), 32);
	assert_int_equal(strlen(span), 16);
	assert_non_null(strstr(text, " order.id="));
	free(text);
	free(p);
	free(d);
}

/* Opening uri fails with code, and the message names the URI and says why. */
static void expect_open_error(const char *uri, int code, const char *why)
{
	struct fd_error err = {0};
	struct fd_sink *s = (struct fd_sink *)1;
	assert_int_equal(fd_sink_open(uri, NULL, &s, &err), -code);
	assert_null(s);
	assert_int_equal(err.code, code);
	char quoted[700];
	snprintf(quoted, sizeof(quoted), "'%s'", uri);
	if (!strstr(err.msg, quoted) || !strstr(err.msg, why))
		fail_msg("opening '%s': message \"%s\" should name the URI and say \"%s\"", uri,
			 err.msg, why);
}

static void test_bad_uris(void **state)
{
	struct tu_dir_fixture *f = *state;
	char uri[700];
	static const struct {
		const char *query, *why;
	} cases[] = {
		{"formt=ecs", "unknown option 'formt' (did you mean 'format'?)"},
		{"batch_record=5", "unknown option 'batch_record' (did you mean 'batch_records'?)"},
		{"colour=red", "unknown option 'colour'"},
		{"format=openmetrics&buffer=1", "option 'buffer': '1': must be at least 4KiB"},
		{"format=openmetrics&buffer=lots", "option 'buffer': 'lots'"},
		{"format=openmetrics&batch_records=5",
		 "unknown option 'batch_records' for format=openmetrics"},
		{"format=openmetrics&bufer=1MiB", "(did you mean 'buffer'?)"},
		{"format=openmetrics&format=openmetrics", "option 'format' given twice"},
		{"format=otlp-json", "unknown format 'otlp-json' (did you mean 'otlp_json'?)"},
		{"format=xml", "unknown format 'xml'"},
		{"format", "option 'format' needs KEY=VALUE"},
		{"format=", "option 'format' needs KEY=VALUE"},
		{"format=ecs&format=text", "option 'format' given twice"},
		{"batch_records=0", "option 'batch_records': '0'"},
		{"batch_records=ten", "option 'batch_records': 'ten'"},
		{"batch_bytes=0", "option 'batch_bytes': '0'"},
		{"batch_bytes=lots", "option 'batch_bytes': 'lots'"},
		{"batch_bytes=8GiB", "option 'batch_bytes': '8GiB'"},
		{"batch_window=5parsecs", "option 'batch_window': '5parsecs'"},
		{"batch_window=-1s", "option 'batch_window': '-1s'"},
	};
	char *d = tu_path(f->dir, "never");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(uri, sizeof(uri), "dir:%s?%s", d, cases[i].query);
		expect_open_error(uri, FD_EINPUT, cases[i].why);
		snprintf(uri, sizeof(uri), "stdout:?%s", cases[i].query);
		expect_open_error(uri, FD_EINPUT, cases[i].why);
	}
	assert_false(tu_exists(d)); /* bad options: nothing created */
	expect_open_error("dir:", FD_EINPUT, "needs a path");
	expect_open_error("dir:?format=ecs", FD_EINPUT, "needs a path");
	expect_open_error("stdout:bogus", FD_EINPUT, "unknown format 'bogus'");
	expect_open_error("stdout:openmetrics?format=openmetrics", FD_EINPUT,
			  "option 'format' given twice");
	expect_open_error("stdout:text?format=ecs", FD_EINPUT, "option 'format' given twice");
	expect_open_error("stdout:text?batch_records=x", FD_EINPUT, "option 'batch_records'");

	/* a path that cannot be a directory: a runtime failure */
	char *file = tu_path(f->dir, "plainfile");
	assert_int_equal(tu_write_file(file, "x", 1), 0);
	snprintf(uri, sizeof(uri), "dir:%s/sub", file);
	expect_open_error(uri, FD_ERUNTIME, "plainfile");
	snprintf(uri, sizeof(uri), "dir:%s", file);
	expect_open_error(uri, FD_ERUNTIME, "not a directory");
	free(file);
	free(d);
}

/* Every file in a and b (the same names) has the same bytes; returns how
 * many files there were. */
static int same_files(const char *a, const char *b)
{
	DIR *d = opendir(a);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *pa = tu_path(a, e->d_name), *pb = tu_path(b, e->d_name);
		size_t la, lb;
		uint8_t *x = tu_read_file(pa, &la), *y = tu_read_file(pb, &lb);
		if (!x || !y)
			fail_msg("%s or %s cannot be read", pa, pb);
		if (la != lb || memcmp(x, y, la) != 0)
			fail_msg("%s (%zu bytes) and %s (%zu bytes) differ", pa, la, pb, lb);
		free(x);
		free(y);
		free(pa);
		free(pb);
		n++;
	}
	closedir(d);
	assert_int_equal(tu_count_entries(b, ""), n);
	return n;
}

/* threads=N: the workers' output is byte for byte the one thread's, in
 * every format they encode, with requests split for batch_bytes (JSON
 * lines longer than the protobuf counted) and bulk files cut at it. */
static void test_threads_same_bytes(void **state)
{
	struct tu_dir_fixture *f = *state;
	static const struct {
		const char *query;
		int files;
	} cases[] = {
		{"format=otlp_json", 3},
		{"format=otlp_json&batch_bytes=24KiB&batch_window=1h", 3},
		{"format=otlp_json&batch_records=1", 3},
		{"format=ecs", 1},
		{"format=bulk&batch_bytes=64KiB", 0},
		{"format=text", 3},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *dirs[3];
		static const unsigned threads[3] = {0, 1, 3};
		for (int t = 0; t < 3; t++) {
			char name[32], uri[700];
			snprintf(name, sizeof(name), "c%zu-t%u", c, threads[t]);
			dirs[t] = tu_path(f->dir, name);
			snprintf(uri, sizeof(uri), "dir:%s?%s&threads=%u", dirs[t], cases[c].query,
				 threads[t]);
			struct fd_sink *s = open_ok(uri, NULL);
			uint64_t counts[3] = {0};
			close_ok(s, write_synth(s, 12000, 21, counts));
		}
		int n = same_files(dirs[0], dirs[1]);
		assert_int_equal(same_files(dirs[0], dirs[2]), n);
		if (cases[c].files)
			assert_int_equal(n, cases[c].files);
		else
			assert_true(n > 3); /* bulk: several files of 64 KiB */
		for (int t = 0; t < 3; t++)
			free(dirs[t]);
	}
}

static void test_destroy_without_close(void **state)
{
	struct tu_dir_fixture *f = *state;
	static const char *const formats[] = {"otlp_json", "otlp_proto", "ecs", "bulk", "text"};
	for (size_t i = 0; i < 5; i++) {
		char *d = tu_path(f->dir, formats[i]);
		char uri[600];
		snprintf(uri, sizeof(uri), "dir:%s?format=%s&batch_records=10", d, formats[i]);
		struct fd_sink *s = open_ok(uri, NULL);
		uint64_t counts[3] = {0};
		struct fd_synth *syn = write_synth(s, 1500, 1, counts);
		struct fd_error err = {0};
		assert_int_equal(fd_sink_flush(s, &err), 0);
		assert_int_equal(tu_count_entries(d, "logs."), 1); /* a temporary file */
		fd_sink_destroy(s);
		fd_synth_destroy(syn);
		assert_int_equal(tu_count_entries(d, ""), 0);
		free(d);
	}
}

static void test_bad_records(void **state)
{
	struct tu_dir_fixture *f = *state;
	char *d = tu_path(f->dir, "bad");
	char uri[600];
	static const char *const formats[] = {"otlp_json", "ecs", "text"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(uri, sizeof(uri), "dir:%s?format=%s&batch_records=1", d, formats[i]);
		struct fd_sink *s = open_ok(uri, NULL);
		struct fd_blob b = {0, 1, (const uint8_t *)"\x0a"}; /* truncated */
		struct fd_record bad = {1, (enum fd_signal)7, &b, &b, (const uint8_t *)"p", 1};
		struct fd_error err = {0};
		assert_int_equal(fd_sink_write(s, &bad, &err), -FD_EINPUT);
		assert_non_null(strstr(err.msg, "unknown signal"));
		fd_sink_destroy(s);
		struct fd_record garbage = {1, FD_SIGNAL_LOGS, NULL, NULL, (const uint8_t *)"\x0a\x05", 2};
		/* on this thread the write fails; with workers the write or the
		 * close does, with the same message */
		for (int threads = 0; threads <= 2; threads += 2) {
			char turi[700];
			snprintf(turi, sizeof(turi), "%s&threads=%d", uri, threads);
			s = open_ok(turi, NULL);
			int rc = fd_sink_write(s, &garbage, &err);
			if (threads == 0)
				assert_int_equal(rc, -FD_EINPUT);
			else if (rc == 0)
				rc = fd_sink_close(s, &err);
			assert_int_equal(rc, -FD_EINPUT);
			if (!strstr(err.msg, turi))
				fail_msg("\"%s\" should name the sink", err.msg);
			if (strstr(strstr(err.msg, turi) + 1, turi))
				fail_msg("\"%s\" names the sink twice", err.msg);
			fd_sink_destroy(s);
			assert_int_equal(tu_count_entries(d, ""), 0);
		}
	}
	free(d);
}

/* Runs fn with standard output going to a file; returns what it wrote. */
static char *capture_stdout(void (*fn)(void *), void *arg, size_t *len)
{
	char *dir = tu_mkdtemp();
	char *path = tu_path(dir, "out");
	assert_non_null(dir);
	fflush(stdout);
	int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	char *data = (char *)tu_read_file(path, len);
	tu_rmtree(dir);
	free(path);
	free(dir);
	return data;
}

struct stdout_run {
	const char *uri;
	uint64_t counts[3];
	bool streaks;
};

static void run_stdout(void *arg)
{
	struct stdout_run *r = arg;
	struct fd_sink *s = open_ok(r->uri, NULL);
	if (!r->streaks) {
		close_ok(s, write_synth(s, 1500, 8, r->counts));
		return;
	}
	/* 5 spans or metrics, then 700 logs, four times: in a job of lines
	 * a few lines, then a run of many of another signal */
	struct fd_synth_options so = {.seed = 8};
	struct fd_synth *syn = fd_synth_create(&so);
	for (int streak = 0; streak < 8; streak++) {
		for (int n = 0; n < (streak % 2 ? 700 : 5);) {
			struct fd_record rec;
			struct fd_error err = {0};
			assert_int_equal(fd_synth_next(syn, &rec), 0);
			if ((rec.signal == FD_SIGNAL_LOGS) != (streak % 2))
				continue;
			if (fd_sink_write(s, &rec, &err) != 0)
				fail_msg("%s", err.msg);
			r->counts[rec.signal]++;
			n++;
		}
	}
	close_ok(s, syn);
}

static void test_stdout(void **state)
{
	(void)state;
	struct stdout_run r = {.uri = "stdout:text"};
	size_t len;
	char *out = capture_stdout(run_stdout, &r, &len);
	size_t lines = 0;
	char prev[32] = "";
	for (char *line = out; line < out + len;) {
		char *nl = memchr(line, '\n', (size_t)(out + len - line));
		assert_non_null(nl);
		/* record order: the RFC 3339 times sort as strings */
		assert_true(strncmp(prev, line, 24) <= 0);
		memcpy(prev, line, 24);
		lines++;
		line = nl + 1;
	}
	assert_int_equal(lines, r.counts[0] + r.counts[1] + r.counts[2]);
	free(out);

	/* the default, otlp_json: one request per record, so one line each */
	struct stdout_run r2 = {.uri = "stdout:"};
	out = capture_stdout(run_stdout, &r2, &len);
	assert_int_equal(tu_memcount((uint8_t *)out, len, (const uint8_t *)"\n", 1),
			 r2.counts[0] + r2.counts[1] + r2.counts[2]);
	assert_int_equal(tu_memcount((uint8_t *)out, len, (const uint8_t *)"{\"resourceLogs\":", 16),
			 r2.counts[2]);
	free(out);

	struct stdout_run r3 = {.uri = "stdout:?format=ecs&batch_records=7"};
	out = capture_stdout(run_stdout, &r3, &len);
	assert_int_equal(tu_memcount((uint8_t *)out, len, (const uint8_t *)"{\"@timestamp\":", 14),
			 r3.counts[2]);
	free(out);

	/* the workers' runs of lines, gathered when short and written from
	 * where they are when long, come out as one thread's lines */
	static const char *const formats[] = {"text", "otlp_json"};
	for (size_t i = 0; i < 2; i++) {
		char uri[2][64];
		char *outs[2];
		size_t lens[2];
		for (int t = 0; t < 2; t++) {
			snprintf(uri[t], sizeof(uri[t]), "stdout:%s?threads=%d", formats[i], 2 * t);
			struct stdout_run rt = {.uri = uri[t], .streaks = true};
			outs[t] = capture_stdout(run_stdout, &rt, &lens[t]);
		}
		print_message("%s: %zu bytes\n", formats[i], lens[0]);
		assert_true(lens[0] > 4 * 65536);
		assert_int_equal(lens[0], lens[1]);
		assert_memory_equal(outs[0], outs[1], lens[0]);
		free(outs[0]);
		free(outs[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_otlp_batching, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_batch_bytes_tight, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_default_options, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_log_formats, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_bulk_files, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_json_batch_bytes, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_text, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_uris, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_threads_same_bytes, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_without_close, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_records, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test(test_stdout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
