/* sinks/prom_series and the sinks built on it, which share this file's
 * OTLP metric builder: OTLP metric -> Prometheus names and labels (units,
 * _total, _ratio, le, job/instance, target_info, colliding labels); the
 * OpenMetrics file (family/series order from interleaved input, spilled
 * runs equal to the in-memory sort, # EOF last, no partial output); the
 * scrape endpoint (the page, staleness in stream time, 404, bad URIs). The
 * end-to-end checks against promtool and a real Prometheus are in
 * tests/prom/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "common/json.h"
#include "otlp/pbwrite.h"
#include "sinks/prom_series.h"
#include "sinks/sink.h"
#include "tests/support/testutil.h"

#define T0 1768482000000000000LL /* 2026-01-15T13:00:00Z */
#define S 1000000000LL

/* a fresh temporary directory per test: tu_dir_setup / tu_dir_teardown */

/* ---- building OTLP metrics ---- */

static struct fd_blob resource_blob(struct pbw *w, const char *svc, const char *inst,
				    const char *version)
{
	pbw_reset(w);
	otlp_attr_str(w, 1, "service.name", svc);
	otlp_attr_str(w, 1, "service.namespace", "shop");
	otlp_attr_str(w, 1, "service.instance.id", inst);
	otlp_attr_str(w, 1, "service.version", version);
	otlp_attr_str(w, 1, "host.name", inst);
	uint8_t *p = malloc(w->len);
	memcpy(p, w->buf, w->len);
	static uint32_t next_id;
	return (struct fd_blob){next_id++, (uint32_t)w->len, p};
}

enum kind { GAUGE = 5, SUM = 7, HIST = 9 };

struct point {
	const char *k1, *v1; /* one string attribute, or NULL */
	const char *k2;      /* an int attribute, or NULL */
	int64_t i2;
	int64_t t_ns;
	double v;              /* gauge / sum value */
	const uint64_t *counts; /* histogram: n_bounds + 1 counts */
	const double *bounds;
	size_t n_bounds;
	double sum;
	uint64_t count;
};

static void attrs(struct pbw *w, unsigned field, const struct point *p)
{
	if (p->k1)
		otlp_attr_str(w, field, p->k1, p->v1);
	if (p->k2)
		otlp_attr_int(w, field, p->k2, p->i2);
}

/* A serialized Metric (cumulative; sums monotonic unless non_monotonic). */
static void metric(struct pbw *w, const char *name, const char *unit, enum kind kind,
		   bool non_monotonic, bool delta, const struct point *pts, size_t n)
{
	pbw_reset(w);
	pbw_string(w, 1, name);
	pbw_string(w, 2, "what it measures");
	pbw_string(w, 3, unit);
	size_t m = pbw_begin(w, kind);
	for (size_t i = 0; i < n; i++) {
		const struct point *p = &pts[i];
		size_t dp = pbw_begin(w, 1);
		if (kind == HIST) {
			attrs(w, 9, p);
			pbw_fixed64(w, 2, (uint64_t)T0);
			pbw_fixed64(w, 3, (uint64_t)p->t_ns);
			pbw_fixed64(w, 4, p->count);
			pbw_double(w, 5, p->sum);
			size_t b = pbw_begin(w, 6);
			for (size_t k = 0; k <= p->n_bounds; k++)
				for (int j = 0; j < 8; j++)
					if (pbw_room(w, 1))
						w->buf[w->len++] = (uint8_t)(p->counts[k] >> (8 * j));
			pbw_end(w, b);
			b = pbw_begin(w, 7);
			for (size_t k = 0; k < p->n_bounds; k++) {
				uint64_t bits;
				memcpy(&bits, &p->bounds[k], 8);
				for (int j = 0; j < 8; j++)
					if (pbw_room(w, 1))
						w->buf[w->len++] = (uint8_t)(bits >> (8 * j));
			}
			pbw_end(w, b);
		} else {
			attrs(w, 7, p);
			pbw_fixed64(w, 2, (uint64_t)T0);
			pbw_fixed64(w, 3, (uint64_t)p->t_ns);
			pbw_double(w, 4, p->v);
		}
		pbw_end(w, dp);
	}
	if (kind != GAUGE)
		pbw_varint(w, 2, delta ? 1 : 2); /* aggregation temporality */
	if (kind == SUM && !non_monotonic)
		pbw_varint(w, 3, 1);
	pbw_end(w, m);
	assert_false(w->oom);
}

/* ---- collecting converted samples as text ---- */

struct collected {
	char text[32768];
	size_t len;
};

static int collect(void *ctx, const struct fd_prom_sample *s, struct fd_error *err)
{
	(void)err;
	struct collected *c = ctx;
	char series[1024], v[32], fam[256];
	fd_prom_series_text(s, series, sizeof(series));
	static const char *const types[] = {"gauge", "counter", "histogram", "info"};
	c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len,
				   "%s|%s|%s|%s %s %lld\n", s->family,
				   fd_prom_text_family(s, fam, sizeof(fam)), types[s->type], series,
				   fd_format_double(v, s->value), (long long)s->time_ms);
	return 0;
}

static void convert(struct fd_prom_conv *c, const struct fd_blob *res, struct pbw *w,
		    struct collected *out)
{
	struct fd_record rec = {T0, FD_SIGNAL_METRICS, res, NULL, w->buf, w->len};
	struct fd_error err = {0};
	if (fd_prom_conv_record(c, &rec, collect, out, &err) < 0)
		fail_msg("%s", err.msg);
}

static void expect_has(const char *text, const char *line)
{
	if (!text || !strstr(text, line))
		fail_msg("expected\n  %s\nin\n%s", line, text ? text : "(nothing)");
}

static void test_names_and_labels(void **state)
{
	(void)state;
	struct pbw w = {0};
	struct fd_blob res = resource_blob(&w, "checkout", "checkout-1", "v2");
	struct fd_prom_conv *c = fd_prom_conv_create();
	struct collected out = {.len = 0};
	const int64_t t = T0 + 15 * S;
	struct point p = {.k1 = "db.system", .v1 = "postgres\"ql\n", .t_ns = t, .v = 2.5};
	metric(&w, "process.cpu.time", "s", SUM, false, false, &p, 1);
	convert(c, &res, &w, &out);
	p.k1 = NULL;
	metric(&w, "process.cpu.utilization", "1", GAUGE, false, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "process.memory.usage", "By", GAUGE, false, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "db.client.connection.pending_requests", "{request}", GAUGE, false, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "requests.total", "{request}", SUM, false, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "net.io", "By/s", SUM, true, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "duration.seconds", "s", GAUGE, false, false, &p, 1);
	convert(c, &res, &w, &out);
	metric(&w, "2xx.responses", "", GAUGE, false, false, &p, 1);
	convert(c, &res, &w, &out);
	/* attribute keys that need cleaning, and two that collide */
	struct point q[] = {
		{.k1 = "1st.key", .v1 = "x", .k2 = "http.response.status_code", .i2 = 200, .t_ns = t, .v = 1},
	};
	metric(&w, "q", "", GAUGE, false, false, q, 1);
	convert(c, &res, &w, &out);
	struct point col = {.k1 = "a.b", .v1 = "one", .k2 = "a_b", .i2 = 2, .t_ns = t, .v = 1};
	metric(&w, "collide", "", GAUGE, false, false, &col, 1);
	convert(c, &res, &w, &out);
	struct point reserved = {.k1 = "__name__", .v1 = "x", .k2 = "..le", .i2 = 1, .t_ns = t, .v = 1};
	metric(&w, "reserved", "", GAUGE, false, false, &reserved, 1);
	convert(c, &res, &w, &out);
	struct point empty = {.k1 = "nothing", .v1 = "", .t_ns = t, .v = 1};
	metric(&w, "empty", "", GAUGE, false, false, &empty, 1);
	convert(c, &res, &w, &out);

	const char *text = out.text;
	const char *const want[] = {
		"target|target_info|info|target_info{host_name=\"checkout-1\",instance=\"checkout-1\","
		"job=\"shop/checkout\",service_version=\"v2\"} 1 1768482000000\n",
		"process_cpu_time_seconds|process_cpu_time_seconds_total|counter|"
		"process_cpu_time_seconds_total{db_system=\"postgres\\\"ql\\n\",instance=\"checkout-1\","
		"job=\"shop/checkout\"} 2.5 1768482015000\n",
		"process_cpu_utilization_ratio|process_cpu_utilization_ratio|gauge|"
		"process_cpu_utilization_ratio{instance=\"checkout-1\",job=\"shop/checkout\"} 2.5",
		"|gauge|process_memory_usage_bytes{",
		"|gauge|db_client_connection_pending_requests{",
		"requests|requests_total|counter|requests_total{",
		"|gauge|net_io_bytes_per_second{",
		"|gauge|duration_seconds{",
		"|gauge|_2xx_responses{",
		"q{http_response_status_code=\"200\",instance=\"checkout-1\",job=\"shop/checkout\","
		"key_1st_key=\"x\"} 1",
		"collide{a_b=\"one;2\",instance=",
		"|empty{instance=\"checkout-1\",job=\"shop/checkout\"} 1",
		"reserved{instance=\"checkout-1\",job=\"shop/checkout\",key__le=\"1\",key__name__=\"x\"} 1",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_has(text, want[i]);
	/* target_info once per resource and time */
	assert_int_equal(tu_memcount((const uint8_t *)text, out.len, (const uint8_t *)"target_info{", 12), 1);
	fd_prom_conv_destroy(c);
	pbw_finish(&w);
	free((void *)res.data);
}

/* Resources without service.name (the collector's infrastructure
 * receivers) label their points with their attributes: two nodes are two
 * series, not one gauge overwritten. */
static void test_resource_labels(void **state)
{
	(void)state;
	struct pbw w = {0};
	struct fd_blob nodes[2];
	const char *names[2] = {"ip-10-0-7-42", "ip-10-0-3-17"};
	for (int i = 0; i < 2; i++) {
		pbw_reset(&w);
		otlp_attr_str(&w, 1, "k8s.node.name", names[i]);
		uint8_t *p = malloc(w.len);
		memcpy(p, w.buf, w.len);
		nodes[i] = (struct fd_blob){1000u + (uint32_t)i, (uint32_t)w.len, p};
	}
	pbw_reset(&w);
	otlp_attr_str(&w, 1, "postgresql.database.name", "orders-db");
	otlp_attr_str(&w, 1, "service.instance.id", "orders-db:5432");
	uint8_t *p = malloc(w.len);
	memcpy(p, w.buf, w.len);
	struct fd_blob db = {1002u, (uint32_t)w.len, p};
	struct fd_prom_conv *c = fd_prom_conv_create();
	struct collected out = {.len = 0};
	struct point pt = {.t_ns = T0 + 15 * S, .v = 6.5};
	metric(&w, "k8s.node.cpu.usage", "{cpu}", GAUGE, false, false, &pt, 1);
	convert(c, &nodes[0], &w, &out);
	pt.v = 0.5;
	metric(&w, "k8s.node.cpu.usage", "{cpu}", GAUGE, false, false, &pt, 1);
	convert(c, &nodes[1], &w, &out);
	struct point lk = {.k1 = "mode", .v1 = "ShareLock", .t_ns = T0 + 15 * S, .v = 3};
	metric(&w, "postgresql.database.locks", "{lock}", GAUGE, false, false, &lk, 1);
	convert(c, &db, &w, &out);
	expect_has(out.text, "|k8s_node_cpu_usage{k8s_node_name=\"ip-10-0-7-42\"} 6.5");
	expect_has(out.text, "|k8s_node_cpu_usage{k8s_node_name=\"ip-10-0-3-17\"} 0.5");
	/* instance once, from service.instance.id */
	expect_has(out.text, "|postgresql_database_locks{instance=\"orders-db:5432\",mode=\"ShareLock\","
			     "postgresql_database_name=\"orders-db\"} 3");
	fd_prom_conv_destroy(c);
	pbw_finish(&w);
	for (int i = 0; i < 2; i++)
		free((void *)nodes[i].data);
	free((void *)db.data);
}

static const double bounds[] = {0.005, 0.1, 1, 2.5, 1e6};

static void test_histogram(void **state)
{
	(void)state;
	struct pbw w = {0};
	struct fd_blob res = resource_blob(&w, "gateway", "gw-1", "v1");
	struct fd_prom_conv *c = fd_prom_conv_create();
	struct collected out = {.len = 0};
	const uint64_t counts[] = {1, 2, 3, 4, 5, 6};
	const uint64_t other[] = {10, 0, 0, 0, 0, 0};
	struct point p[] = {
		{.k1 = "http.route", .v1 = "/checkout", .t_ns = T0 + S, .counts = counts,
		 .bounds = bounds, .n_bounds = 5, .sum = 9.5, .count = 21},
		/* the same label set again: added up */
		{.k1 = "http.route", .v1 = "/checkout", .t_ns = T0 + S, .counts = other,
		 .bounds = bounds, .n_bounds = 5, .sum = 0.5, .count = 10},
		/* other bounds cannot join: skipped */
		{.k1 = "http.route", .v1 = "/checkout", .t_ns = T0 + S, .counts = other,
		 .bounds = bounds + 1, .n_bounds = 4, .sum = 0.5, .count = 10},
	};
	metric(&w, "http.server.request.duration", "s", HIST, false, false, p, 3);
	convert(c, &res, &w, &out);
	const char *lab = "http_route=\"/checkout\",instance=\"gw-1\",job=\"shop/gateway\"";
	char line[512];
	static const char *const le[] = {"0.005", "0.1", "1", "2.5", "1000000", "+Inf"};
	static const char *const cum[] = {"11", "13", "16", "20", "25", "31"};
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line),
			 "http_server_request_duration_seconds|http_server_request_duration_seconds|"
			 "histogram|http_server_request_duration_seconds_bucket{%s,le=\"%s\"} %s 1768482001000\n",
			 lab, le[i], cum[i]);
		expect_has(out.text, line);
	}
	snprintf(line, sizeof(line), "_count{%s} 31 ", lab);
	expect_has(out.text, line);
	snprintf(line, sizeof(line), "_sum{%s} 10 ", lab);
	expect_has(out.text, line);
	assert_int_equal(fd_prom_conv_skipped(c), 1);

	/* delta temporality has no cumulative form: skipped and counted */
	metric(&w, "http.server.request.duration", "s", HIST, false, true, p, 1);
	size_t before = out.len;
	convert(c, &res, &w, &out);
	assert_int_equal(out.len, before);
	assert_int_equal(fd_prom_conv_skipped(c), 2);
	fd_prom_conv_destroy(c);
	pbw_finish(&w);
	free((void *)res.data);
}

/* ---- the OpenMetrics file ---- */

/* Writes an interleaved stream — n scrapes of two services, a counter, a
 * gauge and a histogram each — into uri; returns the records written. */
static void write_stream(const char *uri, int n, bool close)
{
	struct pbw w = {0}, rw = {0};
	struct fd_blob res[2] = {resource_blob(&rw, "b-svc", "b-1", "v1"),
				 resource_blob(&rw, "a-svc", "a-1", "v1")};
	struct fd_sink *s;
	struct fd_error err = {0};
	if (fd_sink_open(uri, NULL, &s, &err) < 0)
		fail_msg("%s", err.msg);
	for (int k = 0; k < n; k++) {
		int64_t t = T0 + k * 15 * S;
		for (int r = 0; r < 2; r++) {
			const uint64_t counts[] = {(uint64_t)k, (uint64_t)k, 0, 0, 0, (uint64_t)k};
			struct point hp = {.k1 = "http.route", .v1 = "/x", .t_ns = t, .counts = counts,
					   .bounds = bounds, .n_bounds = 5, .sum = k * 0.5,
					   .count = 3 * (uint64_t)k};
			struct point pts[2] = {{.k1 = "state", .v1 = "idle", .t_ns = t, .v = k},
					       {.k1 = "state", .v1 = "used", .t_ns = t, .v = 2.0 * k}};
			for (int m = 0; m < 3; m++) {
				if (m == 0)
					metric(&w, "zz.count", "", SUM, false, false, pts, 2);
				else if (m == 1)
					metric(&w, "aa.gauge", "By", GAUGE, false, false, pts, 2);
				else
					metric(&w, "mm.duration", "s", HIST, false, false, &hp, 1);
				struct fd_record rec = {t, FD_SIGNAL_METRICS, &res[r], NULL, w.buf, w.len};
				if (fd_sink_write(s, &rec, &err) < 0)
					fail_msg("%s", err.msg);
			}
			/* spans are not metrics: skipped */
			struct fd_record span = {t, FD_SIGNAL_TRACES, &res[r], NULL, (const uint8_t *)"", 0};
			assert_int_equal(fd_sink_write(s, &span, &err), 0);
		}
	}
	if (close && fd_sink_close(s, &err) < 0)
		fail_msg("%s", err.msg);
	fd_sink_destroy(s);
	pbw_finish(&w);
	pbw_finish(&rw);
	free((void *)res[0].data);
	free((void *)res[1].data);
}

/* Every metric (label set without le) of a family in one piece, in time
 * order, each family once; the file ends with # EOF. Returns the number
 * of samples. */
static size_t check_order(const char *text)
{
	const char *eof = strstr(text, "# EOF\n");
	assert_non_null(eof);
	assert_string_equal(eof, "# EOF\n");
	char families[64][128];
	size_t n_fam = 0, samples = 0;
	char metric[1024] = "", seen[256][1200];
	size_t n_seen = 0;
	double last_t = -1;
	for (const char *l = text; l < eof; l = strchr(l, '\n') + 1) {
		if (strncmp(l, "# TYPE ", 7) == 0) {
			char fam[128];
			sscanf(l + 7, "%127s", fam);
			for (size_t i = 0; i < n_fam; i++)
				if (strcmp(families[i], fam) == 0)
					fail_msg("family %s appears twice", fam);
			snprintf(families[n_fam++], sizeof(families[0]), "%s", fam);
			continue;
		}
		if (l[0] == '#')
			continue;
		samples++;
		/* metric key: the labels without le */
		char key[1024];
		const char *brace = strchr(l, '{'), *sp = strchr(l, ' ');
		key[0] = '\0';
		if (brace && brace < sp)
			snprintf(key, sizeof(key), "%.*s", (int)(strchr(l, '}') - brace - 1), brace + 1);
		char *le = strstr(key, "le=\"");
		if (le)
			*(le > key ? le - 1 : le) = '\0';
		double t = atof(strrchr(l, ' ') + 1);
		if (strcmp(key, metric) != 0 || strncmp(l, families[n_fam - 1], strlen(families[n_fam - 1])) != 0) {
			char full[1200];
			snprintf(full, sizeof(full), "%s %s", families[n_fam - 1], key);
			for (size_t i = 0; i < n_seen; i++)
				if (strcmp(seen[i], full) == 0)
					fail_msg("metric %s is not contiguous", full);
			assert_true(n_seen < sizeof(seen) / sizeof(seen[0]));
			memcpy(seen[n_seen++], full, sizeof(full));
			snprintf(metric, sizeof(metric), "%s", key);
			last_t = -1;
		}
		if (t < last_t)
			fail_msg("time goes back at: %.200s", l);
		last_t = t;
	}
	return samples;
}

static char *read_om(const char *dir)
{
	char *p = tu_path(dir, "metrics.om");
	size_t len;
	char *text = (char *)tu_read_file(p, &len);
	free(p);
	assert_non_null(text);
	text = realloc(text, len + 1);
	text[len] = '\0';
	return text;
}

static void test_openmetrics_file(void **state)
{
	struct tu_dir_fixture *f = *state;
	char uri[600];
	char *d1 = tu_path(f->dir, "mem"), *d2 = tu_path(f->dir, "spill");
	snprintf(uri, sizeof(uri), "dir:%s?format=openmetrics", d1);
	write_stream(uri, 200, true);
	/* 4 KiB is 85 samples and their sort scratch: the same stream spills
	 * ~60 runs */
	snprintf(uri, sizeof(uri), "dir:%s?format=openmetrics&buffer=4KiB", d2);
	write_stream(uri, 200, true);
	char *a = read_om(d1), *b = read_om(d2);
	assert_string_equal(a, b);
	/* per scrape: 2 resources x (1 target_info + 2 counter + 2 gauge +
	 * 8 histogram samples) */
	assert_int_equal(check_order(a), 200 * 2 * 13);
	expect_has(a, "# TYPE aa_gauge_bytes gauge\n# UNIT aa_gauge_bytes bytes\n"
		      "# HELP aa_gauge_bytes what it measures\n"
		      "aa_gauge_bytes{instance=\"a-1\",job=\"shop/a-svc\",state=\"idle\"} 0 1768482000.000\n"
		      "aa_gauge_bytes{instance=\"a-1\",job=\"shop/a-svc\",state=\"idle\"} 1 1768482015.000\n");
	expect_has(a, "# TYPE zz_count counter\n");
	expect_has(a, "zz_count_total{instance=\"b-1\",job=\"shop/b-svc\",state=\"used\"} 398 1768484985.000\n");
	expect_has(a, "mm_duration_seconds_bucket{http_route=\"/x\",instance=\"a-1\",job=\"shop/a-svc\",le=\"+Inf\"} 3 1768482015.000\n"
		      "mm_duration_seconds_count{http_route=\"/x\",instance=\"a-1\",job=\"shop/a-svc\"} 3 1768482015.000\n"
		      "mm_duration_seconds_sum{http_route=\"/x\",instance=\"a-1\",job=\"shop/a-svc\"} 0.5 1768482015.000\n"
		      "mm_duration_seconds_bucket{http_route=\"/x\",instance=\"a-1\",job=\"shop/a-svc\",le=\"0.005\"} 2 1768482030.000\n");
	expect_has(a, "# TYPE target info\n");
	/* only the file: no temporary or spill file left behind */
	assert_int_equal(tu_count_entries(d2, ""), 1);
	free(a);
	free(b);

	/* destroyed without close: no output at all */
	char *d3 = tu_path(f->dir, "aborted");
	snprintf(uri, sizeof(uri), "dir:%s?format=openmetrics&buffer=4KiB", d3);
	write_stream(uri, 50, false);
	assert_int_equal(tu_count_entries(d3, ""), 0);
	tu_rmtree(d1);
	tu_rmtree(d2);
	tu_rmtree(d3);
	free(d1);
	free(d2);
	free(d3);
}

static void test_bad_payload(void **state)
{
	struct tu_dir_fixture *f = *state;
	char uri[600];
	char *d = tu_path(f->dir, "bad");
	snprintf(uri, sizeof(uri), "dir:%s?format=openmetrics", d);
	struct fd_sink *s;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open(uri, NULL, &s, &err), 0);
	static const uint8_t junk[] = {0x0a, 0x7f, 'x'};
	struct fd_record rec = {T0, FD_SIGNAL_METRICS, NULL, NULL, junk, sizeof(junk)};
	assert_int_equal(fd_sink_write(s, &rec, &err), -FD_EINPUT);
	char quoted[700];
	snprintf(quoted, sizeof(quoted), "sink '%s'", uri);
	if (!strstr(err.msg, quoted) || !strstr(err.msg, "does not decode as OTLP"))
		fail_msg("message: %s", err.msg);
	fd_sink_destroy(s);
	assert_int_equal(tu_count_entries(d, ""), 0);
	tu_rmtree(d);
	free(d);
}

/* ---- the scrape endpoint ---- */

static void save_notice(void *ctx, const char *msg)
{
	snprintf(ctx, 512, "%s", msg);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct collected *c = ctx;
	size_t k = size * n, room = sizeof(c->text) - 1 - c->len;
	memcpy(c->text + c->len, p, k < room ? k : room);
	c->len += k < room ? k : room;
	c->text[c->len] = '\0';
	return k;
}

/* GET url; returns the status, the body in *out. */
static long get(const char *url, struct collected *out)
{
	out->len = 0;
	out->text[0] = '\0';
	CURL *c = curl_easy_init();
	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	long status = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static void scrape_put(struct fd_sink *s, struct pbw *w, const struct fd_blob *res, int64_t t,
		       double v)
{
	struct point p = {.k1 = "state", .v1 = "used", .t_ns = t, .v = v};
	struct fd_error err = {0};
	metric(w, "pool.usage", "{connection}", GAUGE, false, false, &p, 1);
	struct fd_record rec = {t, FD_SIGNAL_METRICS, res, NULL, w->buf, w->len};
	assert_int_equal(fd_sink_write(s, &rec, &err), 0);
	metric(w, "requests", "{request}", SUM, false, false, &p, 1);
	rec.payload = w->buf;
	rec.payload_len = w->len;
	assert_int_equal(fd_sink_write(s, &rec, &err), 0);
}

static void test_scrape(void **state)
{
	(void)state;
	char notice[512] = "";
	struct fd_sink_context ctx = {.notice = save_notice, .notice_ctx = notice};
	struct fd_sink *s;
	struct fd_error err = {0};
	if (fd_sink_open("scrape:127.0.0.1:0?stale=30s", &ctx, &s, &err) < 0)
		fail_msg("%s", err.msg);
	const char *at = strstr(notice, "http://127.0.0.1:");
	if (!at)
		fail_msg("notice: %s", notice);
	char url[128];
	snprintf(url, sizeof(url), "%.*s", (int)strcspn(at, " \n"), at);
	struct collected page;
	assert_int_equal(get(url, &page), 200);
	assert_string_equal(page.text, ""); /* nothing reported yet */

	struct pbw w = {0}, rw = {0};
	struct fd_blob a = resource_blob(&rw, "a-svc", "a-1", "v1");
	struct fd_blob b = resource_blob(&rw, "b-svc", "b-1", "v1");
	scrape_put(s, &w, &a, T0, 1);
	scrape_put(s, &w, &b, T0, 2);
	assert_int_equal(get(url, &page), 200);
	expect_has(page.text, "# HELP pool_usage what it measures\n# TYPE pool_usage gauge\n"
			      "pool_usage{instance=\"a-1\",job=\"shop/a-svc\",state=\"used\"} 1\n"
			      "pool_usage{instance=\"b-1\",job=\"shop/b-svc\",state=\"used\"} 2\n");
	expect_has(page.text, "# TYPE requests_total counter\n"
			      "requests_total{instance=\"a-1\",job=\"shop/a-svc\",state=\"used\"} 1\n");
	expect_has(page.text, "# TYPE target_info gauge\n");
	assert_null(strstr(page.text, " 1768482")); /* no timestamps */

	/* 20 s on only a reports: both still there; 40 s on, b is stale */
	scrape_put(s, &w, &a, T0 + 20 * S, 5);
	assert_int_equal(get(url, &page), 200);
	expect_has(page.text, "pool_usage{instance=\"b-1\"");
	expect_has(page.text, "requests_total{instance=\"a-1\",job=\"shop/a-svc\",state=\"used\"} 5\n");
	scrape_put(s, &w, &a, T0 + 40 * S, 7);
	assert_int_equal(get(url, &page), 200);
	expect_has(page.text, "pool_usage{instance=\"a-1\",job=\"shop/a-svc\",state=\"used\"} 7\n");
	if (strstr(page.text, "b-1"))
		fail_msg("series of b should have gone stale:\n%s", page.text);
	/* b reports again: back */
	scrape_put(s, &w, &b, T0 + 45 * S, 3);
	assert_int_equal(get(url, &page), 200);
	expect_has(page.text, "pool_usage{instance=\"b-1\",job=\"shop/b-svc\",state=\"used\"} 3\n");

	snprintf(url + strlen(url) - strlen("metrics"), 16, "other");
	assert_int_equal(get(url, &page), 404);
	assert_int_equal(fd_sink_close(s, &err), 0);
	fd_sink_destroy(s);
	pbw_finish(&w);
	pbw_finish(&rw);
	free((void *)a.data);
	free((void *)b.data);
}

static void expect_open_error(const char *uri, const char *why)
{
	struct fd_error err = {0};
	struct fd_sink *s = (struct fd_sink *)1;
	assert_int_equal(fd_sink_open(uri, NULL, &s, &err), -FD_EINPUT);
	assert_null(s);
	char quoted[512];
	snprintf(quoted, sizeof(quoted), "'%s'", uri);
	if (!strstr(err.msg, quoted) || !strstr(err.msg, why))
		fail_msg("opening '%s': message \"%s\" should name the URI and say \"%s\"", uri,
			 err.msg, why);
}

static void test_scrape_bad_uris(void **state)
{
	(void)state;
	expect_open_error("scrape:", "needs [HOST]:PORT");
	expect_open_error("scrape:9464", "needs [HOST]:PORT");
	expect_open_error("scrape::", "needs [HOST]:PORT");
	expect_open_error("scrape::70000", "port '70000'");
	expect_open_error("scrape::http", "port 'http'");
	expect_open_error("scrape:example.com:9464", "host 'example.com' is not an IPv4 address");
	expect_open_error("scrape::9464?stal=1m", "unknown option 'stal' (did you mean 'stale'?)");
	expect_open_error("scrape::9464?stale=0s", "option 'stale': '0s'");
	expect_open_error("scrape::9464?stale", "option 'stale' needs KEY=VALUE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_labels),
		cmocka_unit_test(test_resource_labels),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test_setup_teardown(test_openmetrics_file, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test(test_scrape),
		cmocka_unit_test(test_scrape_bad_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
