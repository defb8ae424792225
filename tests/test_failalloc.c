/*
 * Allocation failures, in the manner of SQLite's malloc tests
 * (tests/support/failalloc.h): open, write and close of each sink, the
 * recording reader, and a filtered replay, run once per N with the Nth
 * allocation failing (then the Nth and every later one). Every run must
 * return an error with a message, free everything, and leave no partial
 * output; under ASan a crash or a use after free shows as well.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
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
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "recording/reader.h"
#include "replay/replay.h"
#include "sinks/sink.h"
#include "tests/support/failalloc.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

#define N_RECORDS 100

/* The OpenMetrics sink allocates its sort buffer (64 MiB by default) at
 * open; meson test sets MALLOC_PERTURB_, so glibc filled 32 MiB on every
 * malloc and free of it: with ~800 runs per sweep the suite spent minutes
 * of CPU in memset. The smallest buffer also sends the sink down its
 * spill path (sorted runs in a temporary file, merged at close), which
 * the default never reached with 100 records. */
#define OM_BUFFER "buffer=4KiB"

struct fixture {
	char *dir;
	struct fd_synth *syn;
	struct fd_record recs[N_RECORDS];
	struct fd_synth_header hdr;
	char *recording; /* a recording of the records, for the reader */
	/* the current sweep */
	const char *uri;
	char *out; /* where its output goes */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct fd_synth_options so = {.seed = 3, .services = 3};
	if (!f || !(f->dir = tu_mkdtemp()) || !(f->syn = fd_synth_create(&so)))
		return -1;
	for (size_t i = 0; i < N_RECORDS; i++) {
		struct fd_record r;
		if (fd_synth_next(f->syn, &r) < 0)
			return -1;
		uint8_t *p = malloc(r.payload_len ? r.payload_len : 1);
		if (!p)
			return -1;
		memcpy(p, r.payload, r.payload_len);
		r.payload = p;
		f->recs[i] = r;
	}
	fd_synth_header_init(&f->hdr, &so, N_RECORDS);
	f->recording = tu_path(f->dir, "in.fdr");
	f->out = tu_path(f->dir, "out");
	if (mkdir(f->out, 0777) < 0)
		return -1;
	struct fd_recording_writer_options wo = {.block_size = 4096};
	struct fd_error err = {0};
	if (fd_synth_write_recording(f->recording, N_RECORDS, &so, &wo, NULL, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < N_RECORDS; i++)
		free((void *)f->recs[i].payload);
	fd_synth_destroy(f->syn);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->recording);
	free(f->out);
	free(f);
	return 0;
}

/* After a failed run nothing is left in the output directory; after a good
 * one, it is emptied for the next run. */
static void no_partial_output(void *ctx, int rc)
{
	struct fixture *f = ctx;
	if (rc < 0 && tu_count_entries(f->out, "") > 0)
		fail_msg("%s: a failed run left %d files in %s", f->uri, tu_count_entries(f->out, ""),
			 f->out);
	tu_rmtree(f->out);
	assert_int_equal(mkdir(f->out, 0777), 0);
}

/* ---- sinks ---- */

static int sink_run(void *ctx, struct fd_error *err)
{
	struct fixture *f = ctx;
	struct fd_sink_context sc = {.header = &f->hdr.header};
	struct fd_sink *s = NULL;
	int rc = fd_sink_open(f->uri, &sc, &s, err);
	for (size_t i = 0; rc == 0 && i < N_RECORDS; i++) {
		rc = fd_sink_write(s, &f->recs[i], err);
		if (rc == 0 && i == N_RECORDS / 2)
			rc = fd_sink_flush(s, err);
	}
	if (rc == 0)
		rc = fd_sink_add_figure(s, &f->hdr.figure, err);
	if (rc == 0)
		rc = fd_sink_close(s, err);
	if (rc == 0) {
		char line[512];
		fd_sink_report(s, line, sizeof(line));
	}
	fd_sink_destroy(s);
	return rc;
}

/* uri: the sink's URI, where %OUT stands for the output's path. */
static void sweep_sink(struct fixture *f, const char *uri_in)
{
	char uri[1024];
	const char *at = strstr(uri_in, "%OUT");
	if (at)
		snprintf(uri, sizeof(uri), "%.*s%s%s", (int)(at - uri_in), uri_in, f->out, at + 4);
	else
		snprintf(uri, sizeof(uri), "%s", uri_in);
	f->uri = uri;
	struct fa_sweep_result r;
	fa_sweep(uri, sink_run, f, no_partial_output, &r);
	print_message("%-60s %5lu allocations, %5lu runs failed\n", uri, r.allocations, r.runs);
}

static void test_file_sink(void **state)
{
	sweep_sink(*state, "file:%OUT/x.fdr");
}

static void test_dir_sink(void **state)
{
	static const char *const formats[] = {
		"otlp_json", "otlp_proto", "ecs", "bulk", "text", "openmetrics",
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char fmt[256];
		snprintf(fmt, sizeof(fmt), "dir:%%OUT?format=%s%s", formats[i],
			 strcmp(formats[i], "openmetrics") ? "&batch_records=8" : "&" OM_BUFFER);
		sweep_sink(*state, fmt);
	}
}

static void test_stdout_sink(void **state)
{
	/* the output goes to /dev/null; cmocka reports failures on stderr */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	dup2(null, 1);
	close(null);
	static const char *const uris[] = {
		"stdout:", "stdout:otlp_proto", "stdout:ecs", "stdout:text", ("stdout:openmetrics?" OM_BUFFER),
	};
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		sweep_sink(*state, uris[i]);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
}

static void test_scrape_sink(void **state)
{
	sweep_sink(*state, "scrape:127.0.0.1:0");
}

/* kafka://embedded: the sink with its in-process broker (librdkafka's mock
 * cluster). librdkafka allocates inside the shared library, where the
 * hooks do not reach; what is swept is ours: options and -X properties,
 * batching and encoding, the embedded broker's setup, close's accounting
 * (issue 12).
 *
 * The sink hands each message's payload to librdkafka with
 * RD_KAFKA_MSG_F_FREE, and librdkafka frees it with libc's free, unseen by
 * the hooks: the sink's calls to rd_kafka_producev are wrapped (ld --wrap,
 * this executable only) to forget a payload once librdkafka has taken it,
 * passing the call on as rd_kafka_produceva (the same call with an array;
 * a variadic call cannot be forwarded as it is). */
rd_kafka_resp_err_t __wrap_rd_kafka_producev(rd_kafka_t *rk, ...);

rd_kafka_resp_err_t __wrap_rd_kafka_producev(rd_kafka_t *rk, ...)
{
	rd_kafka_vu_t vus[16];
	size_t n = 0;
	void *value = NULL;
	int flags = 0;
	va_list ap;
	va_start(ap, rk);
	for (rd_kafka_vtype_t t; (t = va_arg(ap, rd_kafka_vtype_t)) != RD_KAFKA_VTYPE_END;) {
		assert_true(n < 16);
		rd_kafka_vu_t *u = &vus[n++];
		u->vtype = t;
		switch (t) {
		case RD_KAFKA_VTYPE_TOPIC: u->u.cstr = va_arg(ap, const char *); break;
		case RD_KAFKA_VTYPE_MSGFLAGS: flags = u->u.i = va_arg(ap, int); break;
		case RD_KAFKA_VTYPE_VALUE:
		case RD_KAFKA_VTYPE_KEY:
			u->u.mem.ptr = va_arg(ap, void *);
			u->u.mem.size = va_arg(ap, size_t);
			if (t == RD_KAFKA_VTYPE_VALUE)
				value = u->u.mem.ptr;
			break;
		case RD_KAFKA_VTYPE_TIMESTAMP: u->u.i64 = va_arg(ap, int64_t); break;
		case RD_KAFKA_VTYPE_OPAQUE: u->u.ptr = va_arg(ap, void *); break;
		default: fail_msg("rd_kafka_producev: vtype %d not handled by the test", (int)t);
		}
	}
	va_end(ap);
	rd_kafka_error_t *e = rd_kafka_produceva(rk, vus, n);
	rd_kafka_resp_err_t rc = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_error_destroy(e);
	if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && (flags & RD_KAFKA_MSG_F_FREE))
		fa_forget(value);
	return rc;
}

static void no_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

/* The embedded broker is swept with the default encoding. The other
 * encodings and the message keys go to a mock cluster made once here: the
 * mock takes a second to shut down after a client connected (librdkafka
 * 2.0.2), which per run of a sweep of hundreds of allocations would be
 * minutes. */
static void test_kafka_sink(void **state)
{
	sweep_sink(*state, "kafka://embedded?partitions=1");
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, no_log);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	assert_non_null(rk);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
	assert_non_null(mc);
	static const char *const opts[] = {
		"format=otlp_json&partition=trace_id,resource",
		"format=ecs&partition=resource",
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char uri[512];
		snprintf(uri, sizeof(uri), "kafka://%s?%s", rd_kafka_mock_cluster_bootstraps(mc),
			 opts[i]);
		sweep_sink(*state, uri);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
}

/* prom-rw: into a receiver that takes everything and allocates nothing of
 * ours (libmicrohttpd's own allocations are not counted). max_delay=1h:
 * only the writer queues batches, so the sweep is the same every time. */
static enum MHD_Result accept_all(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)method, (void)version, (void)upload;
	static int started;
	static char empty[1];
	if (!*con_cls) {
		*con_cls = &started;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	enum MHD_Result rc = MHD_queue_response(c, 204, r);
	MHD_destroy_response(r);
	return rc;
}

static void test_prom_rw_sink(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
						accept_all, NULL, MHD_OPTION_SOCK_ADDR,
						(struct sockaddr *)&sa, MHD_OPTION_END);
	assert_non_null(d);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(di);
	char uri[256];
	snprintf(uri, sizeof(uri),
		 "prom-rw:http://127.0.0.1:%u/api/v1/write?max_samples=50&max_delay=1h&retries=0",
		 (unsigned)di->port);
	sweep_sink(*state, uri);
	MHD_stop_daemon(d);
}

/* ---- the reader ---- */

static int read_run(void *ctx, struct fd_error *err)
{
	struct fixture *f = ctx;
	struct fd_recording_reader *r = NULL;
	int rc = fd_recording_reader_open(f->recording, &r, err);
	struct fd_record rec;
	size_t n = 0;
	int got = 0;
	while (rc == 0 && (got = fd_recording_reader_next(r, &rec, err)) > 0)
		n++;
	if (rc == 0 && got < 0)
		rc = got;
	if (rc == 0 && n != N_RECORDS)
		rc = fd_error_set(err, FD_ERUNTIME, "read %zu records of %d", n, N_RECORDS);
	if (rc == 0)
		rc = fd_recording_reader_seek(r, f->recs[N_RECORDS / 2].time_ns, err);
	while (rc == 0 && (got = fd_recording_reader_next(r, &rec, err)) > 0)
		;
	if (rc == 0 && got < 0)
		rc = got;
	fd_recording_reader_destroy(r);
	return rc;
}

static void test_reader(void **state)
{
	struct fixture *f = *state;
	struct fa_sweep_result r;
	fa_sweep("reader", read_run, f, NULL, &r);
	print_message("%-60s %5lu allocations, %5lu runs failed\n", "reader", r.allocations, r.runs);
}

/* ---- replay with a filter ---- */

static int replay_run(void *ctx, struct fd_error *err)
{
	struct fixture *f = ctx;
	struct fd_recording_reader *r = NULL;
	struct fd_sink *s = NULL;
	char uri[1024];
	snprintf(uri, sizeof(uri), "dir:%s?format=otlp_proto", f->out);
	int rc = fd_recording_reader_open(f->recording, &r, err);
	if (rc == 0)
		rc = fd_sink_open(uri, NULL, &s, err);
	struct fd_replay_options o = {.speed = 0, .rebase = FD_REBASE_NONE, .service = "checkout"};
	struct fd_replay_stats st;
	if (rc == 0)
		rc = fd_replay_run(r, &s, 1, &o, &st, err);
	if (rc == 0)
		rc = fd_sink_close(s, err);
	fd_sink_destroy(s);
	fd_recording_reader_destroy(r);
	return rc;
}

static void test_replay_filtered(void **state)
{
	struct fixture *f = *state;
	f->uri = "replay --service";
	struct fa_sweep_result r;
	fa_sweep("replay --service", replay_run, f, no_partial_output, &r);
	print_message("%-60s %5lu allocations, %5lu runs failed\n", "replay --service",
		      r.allocations, r.runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scrape_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kafka_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prom_rw_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_sink, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
