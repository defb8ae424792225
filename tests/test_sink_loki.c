/* sinks/loki: against an in-process push receiver (tests/support/
 * http_receiver.c) that decodes every request with the schema
 * (schemas/loki/push.proto after snappy, or the JSON form) and checks it:
 * labels in Prometheus syntax, sorted, low cardinality (service_name,
 * level and the like; never an id), trace_id and span_id as structured
 * metadata. Every log record arrives exactly once as the entry expected
 * from it, in protobuf and JSON; 429 is retried without loss or
 * duplicates; a 400 "total ignored: N out of M" counts N rejected and
 * fails close; the tenant header; 401 stops; bad URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <snappy-c.h>

#include "loki/push.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/json.h"
#include "sinks/ecs.h"
#include "sinks/sink.h"
#include "tests/support/http_receiver.h"
#include "tests/support/synth.h"

/* ---- entries as text, the same on both sides ---- */

struct strs {
	char **v;
	size_t n, cap;
};

static void strs_add(struct strs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strs_add(struct strs *s, const char *fmt, ...)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->v[s->n++] = strdup(buf);
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the receiver ---- */

struct loki {
	struct hrcv *http;
	struct strs got;
	size_t bad, pushes;
	char why[256], tenant[128];
};

static void problem(struct loki *l, const char *what)
{
	l->bad++;
	if (!l->why[0])
		snprintf(l->why, sizeof(l->why), "%s", what);
}

/* Labels in Prometheus syntax with names sorted and none an id; returns
 * them canonical (the same text) or NULL. */
static bool labels_ok(struct loki *l, const char *t)
{
	size_t n = strlen(t);
	if (n < 2 || t[0] != '{' || t[n - 1] != '}') {
		problem(l, "labels syntax");
		return false;
	}
	if (!strstr(t, "service_name=\"") || !strstr(t, "level=\"")) {
		problem(l, "service_name or level missing");
		return false;
	}
	if (strstr(t, "trace") || strstr(t, "span") || strstr(t, "instance")) {
		problem(l, "a high-cardinality label");
		return false;
	}
	char prev[64] = "";
	for (const char *p = t + 1; *p && *p != '}';) {
		size_t k = strcspn(p, "=");
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)k, p);
		if (strcmp(prev, name) >= 0) {
			problem(l, "labels not sorted");
			return false;
		}
		snprintf(prev, sizeof(prev), "%s", name);
		p = strchr(p + k + 2, '"'); /* values here have no quotes */
		if (!p)
			break;
		p++;
		if (*p == ',')
			p += 2;
	}
	return true;
}

static void keep_entry(struct loki *l, const char *labels, int64_t ts, const char *line,
		       size_t line_len, const char *trace, const char *span)
{
	strs_add(&l->got, "%s %lld %.*s trace=%s span=%s", labels, (long long)ts, (int)line_len, line,
		 trace ? trace : "-", span ? span : "-");
}

static size_t decode_proto(struct loki *l, const uint8_t *p, size_t n, bool keep, int64_t skip)
{
	size_t plain_len;
	if (snappy_uncompressed_length((const char *)p, n, &plain_len) != SNAPPY_OK) {
		problem(l, "not snappy");
		return 0;
	}
	char *plain = malloc(plain_len + 1);
	snappy_uncompress((const char *)p, n, plain, &plain_len);
	Loki__PushRequest *r = loki__push_request__unpack(NULL, plain_len, (uint8_t *)plain);
	free(plain);
	if (!r) {
		problem(l, "PushRequest does not decode");
		return 0;
	}
	size_t count = 0;
	for (size_t i = 0; i < r->n_streams; i++) {
		const Loki__StreamAdapter *st = r->streams[i];
		if (!labels_ok(l, st->labels))
			continue;
		for (size_t k = 0; k < st->n_entries; k++, count++) {
			const Loki__EntryAdapter *e = st->entries[k];
			const char *trace = NULL, *span = NULL;
			for (size_t m = 0; m < e->n_structuredmetadata; m++) {
				const Loki__LabelPairAdapter *lp = e->structuredmetadata[m];
				if (!strcmp(lp->name, "trace_id"))
					trace = lp->value;
				else if (!strcmp(lp->name, "span_id"))
					span = lp->value;
			}
			int64_t ts = e->timestamp ? e->timestamp->seconds * 1000000000LL + e->timestamp->nanos
						  : 0;
			if (keep && (int64_t)count >= skip)
				keep_entry(l, st->labels, ts, e->line, strlen(e->line), trace, span);
		}
	}
	loki__push_request__free_unpacked(r, NULL);
	return count;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t decode_json(struct loki *l, const uint8_t *p, size_t n, bool keep, int64_t skip)
{
	json_t *root = json_loadb((const char *)p, n, 0, NULL);
	json_t *streams = root ? json_object_get(root, "streams") : NULL;
	if (!json_is_array(streams)) {
		problem(l, "JSON push");
		json_decref(root);
		return 0;
	}
	size_t i, count = 0;
	json_t *st;
	json_array_foreach(streams, i, st)
	{
		/* the stream's labels as the protobuf form writes them */
		json_t *labels = json_object_get(st, "stream");
		const char *names[8];
		size_t nn = 0;
		const char *key;
		json_t *v;
		json_object_foreach(labels, key, v) if (nn < 8) names[nn++] = key;
		qsort(names, nn, sizeof(*names), label_cmp);
		char text[1024];
		size_t o = 0;
		text[o++] = '{';
		for (size_t k = 0; k < nn; k++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s=\"%s\"", k ? ", " : "",
					      names[k], json_string_value(json_object_get(labels, names[k])));
		snprintf(text + o, sizeof(text) - o, "}");
		if (!labels_ok(l, text))
			continue;
		size_t k;
		json_t *val;
		json_array_foreach(json_object_get(st, "values"), k, val)
		{
			const char *ts = json_string_value(json_array_get(val, 0));
			json_t *line = json_array_get(val, 1);
			json_t *md = json_array_get(val, 2);
			if (!ts || !json_is_string(line)) {
				problem(l, "a value");
				continue;
			}
			if (keep && (int64_t)count >= skip)
				keep_entry(l, text, strtoll(ts, NULL, 10), json_string_value(line),
					   json_string_length(line),
					   json_string_value(json_object_get(md, "trace_id")),
					   json_string_value(json_object_get(md, "span_id")));
			count++;
		}
	}
	json_decref(root);
	return count;
}

static void on_push(void *ctx, const struct hrcv_request *req, struct hrcv_response *resp)
{
	struct loki *l = ctx;
	const char *type = hrcv_header(req, "Content-Type");
	const char *tenant = hrcv_header(req, "X-Scope-OrgID");
	snprintf(l->tenant, sizeof(l->tenant), "%s", tenant ? tenant : "");
	if (strcmp(req->url, "/loki/api/v1/push") || strcmp(req->method, "POST") || !type)
		problem(l, "path, method or type");
	bool json = type && !strcmp(type, "application/json");
	/* a partial rejection: the first `rejected` entries are not kept */
	bool keep = req->keep;
	size_t n = json ? decode_json(l, req->body, req->len, keep, req->rejected)
			: decode_proto(l, req->body, req->len, keep, req->rejected);
	if (!keep)
		return;
	l->pushes++;
	if (req->rejected) {
		resp->status = 400;
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body),
					     "entry with timestamp 2026-01-15 13:00:00 +0000 UTC "
					     "ignored, reason: 'entry too far behind'\n"
					     "total ignored: %lld out of %zu\n",
					     (long long)req->rejected, n);
	} else {
		resp->status = 204;
	}
}

static struct loki *loki_start(void)
{
	struct loki *l = calloc(1, sizeof(*l));
	l->http = hrcv_start(on_push, l);
	assert_non_null(l->http);
	return l;
}

static void loki_stop(struct loki *l)
{
	hrcv_stop(l->http);
	strs_free(&l->got);
	free(l);
}

/* ---- the sender's side ---- */

static const char *res_attr(const Opentelemetry__Proto__Resource__V1__Resource *r, const char *k)
{
	for (size_t i = 0; r && i < r->n_attributes; i++)
		if (!strcmp(r->attributes[i]->key, k) && r->attributes[i]->value &&
		    r->attributes[i]->value->value_case ==
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return r->attributes[i]->value->string_value;
	return NULL;
}

/* The entry a log record should become, written independently of the
 * sink: labels from the resource's attributes and the severity. */
static void expected(struct strs *want, const struct fd_record *rec)
{
	Opentelemetry__Proto__Logs__V1__LogRecord *lr =
		opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec->payload_len,
								   rec->payload);
	Opentelemetry__Proto__Resource__V1__Resource *r =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, rec->resource->len,
								     rec->resource->data);
	assert_non_null(lr);
	assert_non_null(r);
	char buf[32], labels[512], trace[33], span[17];
	const char *env = res_attr(r, "deployment.environment");
	if (!env)
		env = res_attr(r, "deployment.environment.name");
	const char *ns = res_attr(r, "service.namespace");
	snprintf(labels, sizeof(labels), "{%s%s%slevel=\"%s\", service_name=\"%s\"%s%s%s}",
		 env ? "deployment_environment=\"" : "", env ? env : "", env ? "\", " : "",
		 fd_ecs_level(lr->severity_number, lr->severity_text, buf), res_attr(r, "service.name"),
		 ns ? ", service_namespace=\"" : "", ns ? ns : "", ns ? "\"" : "");
	strs_add(want, "%s %lld %s trace=%s span=%s", labels, (long long)lr->time_unix_nano,
		 lr->body ? lr->body->string_value : "",
		 lr->trace_id.len ? fd_otlp_hex(trace, lr->trace_id.data, 16) : "-",
		 lr->span_id.len ? fd_otlp_hex(span, lr->span_id.data, 8) : "-");
	opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
}

static int push(const char *uri, size_t n, struct strs *want, struct fd_sink **out,
		struct fd_error *err)
{
	struct fd_synth_options so = {.seed = 5, .services = 3};
	struct fd_synth *syn = fd_synth_create(&so);
	struct fd_sink *s = NULL;
	memset(want, 0, sizeof(*want));
	int rc = fd_sink_open(uri, NULL, &s, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		if (rec.signal == FD_SIGNAL_LOGS)
			expected(want, &rec);
		rc = fd_sink_write(s, &rec, err);
	}
	if (rc == 0)
		rc = fd_sink_close(s, err);
	fd_synth_destroy(syn);
	if (out)
		*out = s;
	else
		fd_sink_destroy(s);
	return rc;
}

/* Every entry the receiver kept was expected, once; missing of them were
 * not kept. */
static void expect_entries(struct loki *l, struct strs *want, size_t missing)
{
	if (l->bad)
		fail_msg("receiver: %zu problems, first: %s", l->bad, l->why);
	assert_int_equal(l->got.n + missing, want->n);
	qsort(l->got.v, l->got.n, sizeof(char *), cmp_str);
	qsort(want->v, want->n, sizeof(char *), cmp_str);
	size_t j = 0;
	for (size_t i = 0; i < l->got.n; i++) {
		if (i && !strcmp(l->got.v[i], l->got.v[i - 1]))
			fail_msg("entry arrived twice: %s", l->got.v[i]);
		while (j < want->n && strcmp(want->v[j], l->got.v[i]))
			j++;
		if (j == want->n)
			fail_msg("entry not expected: %s", l->got.v[i]);
		j++;
	}
}

static char *uri_for(struct loki *l, const char *rest)
{
	static char buf[512];
	snprintf(buf, sizeof(buf), "loki://127.0.0.1:%u%s", hrcv_port(l->http), rest);
	return buf;
}

static void entries_exactly_once(void **state)
{
	(void)state;
	static const char *const opts[] = {"?batch_records=300", "?encoding=json&batch_bytes=30KB",
					   "?encoding=json&compression=gzip&concurrency=1"};
	for (size_t i = 0; i < 3; i++) {
		struct loki *l = loki_start();
		struct strs want;
		struct fd_error err = {0};
		struct fd_sink *s = NULL;
		int rc = push(uri_for(l, opts[i]), 5000, &want, &s, &err);
		if (rc)
			fprintf(stderr, "%s\n", err.msg);
		assert_int_equal(rc, 0);
		expect_entries(l, &want, 0);
		assert_true(want.n > 500);
		char line[512], exp[128];
		fd_sink_report(s, line, sizeof(line));
		snprintf(exp, sizeof(exp), "%zu entries accepted, 0 rejected, 0 failed", want.n);
		assert_non_null(strstr(line, exp));
		fd_sink_destroy(s);
		strs_free(&want);
		loki_stop(l);
	}
}

static void rate_limit_retried(void **state)
{
	(void)state;
	struct loki *l = loki_start();
	const struct rcv_answer a[] = {{.status = 429, .body = "Ingestion rate limit exceeded"},
				       {.status = 429, .retry_after = 1}};
	hrcv_script(l->http, a, 2);
	struct strs want;
	struct fd_error err = {0};
	assert_int_equal(push(uri_for(l, "?batch_records=200&retry_initial=1ms&tenant=drills"), 3000,
			      &want, NULL, &err),
			 0);
	expect_entries(l, &want, 0);
	assert_string_equal(l->tenant, "drills");
	strs_free(&want);
	loki_stop(l);
}

static void ignored_entries_counted(void **state)
{
	(void)state;
	struct loki *l = loki_start();
	const struct rcv_answer a[] = {{.rejected = 2}};
	hrcv_script(l->http, a, 1);
	struct strs want;
	struct fd_error err = {0};
	int rc = push(uri_for(l, "?batch_records=100&concurrency=1"), 3000, &want, NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "2 rejected (first: entry with timestamp"));
	assert_non_null(strstr(err.msg, "entry too far behind"));
	expect_entries(l, &want, 2);
	strs_free(&want);
	loki_stop(l);
}

static void unauthorized_stops(void **state)
{
	(void)state;
	struct loki *l = loki_start();
	struct rcv_answer a[32];
	for (int i = 0; i < 32; i++)
		a[i] = (struct rcv_answer){.status = 401, .body = "no org id"};
	hrcv_script(l->http, a, 32);
	struct strs want;
	struct fd_error err = {0};
	int rc = push(uri_for(l, "?batch_records=10&concurrency=1"), 3000, &want, NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "HTTP 401: no org id"));
	assert_true(hrcv_requests(l->http) < 32);
	strs_free(&want);
	loki_stop(l);
}

static void bad_uris(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"loki:h:3100", "loki://", "loki://h:1?encoding=snappy", "loki://h:1?compression=gzip",
		"loki://h:1?bogus=1", "loki://h:1?batch_records=0", "loki+https://h:1?insecure=x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fd_sink *s = NULL;
		struct fd_error err = {0};
		if (fd_sink_open(bad[i], NULL, &s, &err) != -FD_EINPUT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(s);
	}
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open("loki+https://h:1/p?tenant=t&encoding=json&compression=gzip&"
				      "header=Authorization:Bearer x",
				      NULL, &s, &err),
			 0);
	assert_null(strstr(s->uri, "Bearer"));
	fd_sink_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_exactly_once),
		cmocka_unit_test(rate_limit_retried),
		cmocka_unit_test(ignored_entries_counted),
		cmocka_unit_test(unauthorized_stops),
		cmocka_unit_test(bad_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
