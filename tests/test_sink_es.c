/* sinks/es: against an in-process _bulk receiver (tests/support/
 * http_receiver.c) that checks every request (path, Content-Type, each
 * action line {"create":{}} and each document's JSON, event.dataset equal
 * to the data stream's dataset) and answers as Elasticsearch does, item
 * errors included: every log arrives exactly once as the ECS document the
 * encoder makes, in requests within batch_bytes and batch_docs; spans and
 * metrics are skipped and said so; 429 and 503 are retried without loss or
 * duplicates; refused items are counted by type with a reason and fail
 * close; api_key= and basic auth are sent and never printed; 401 stops;
 * bad URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "otlp/pbwrite.h"
#include "sinks/ecs.h"
#include "sinks/sink.h"
#include "tests/support/http_receiver.h"
#include "tests/support/synth.h"

/* ---- the receiver ---- */

struct bulk {
	struct hrcv *http;
	char path[256];   /* expected request path */
	char dataset[64]; /* expected event.dataset; "" for none */
	char **docs;      /* kept documents, as sent */
	size_t n_docs, cap_docs;
	size_t max_body, requests_ok, bad;
	char auth[256];
	char why[256]; /* the first problem found */
};

static void problem(struct bulk *b, const char *what)
{
	b->bad++;
	if (!b->why[0])
		snprintf(b->why, sizeof(b->why), "%s", what);
}

static void on_bulk(void *ctx, const struct hrcv_request *req, struct hrcv_response *resp)
{
	struct bulk *b = ctx;
	const char *auth = hrcv_header(req, "Authorization");
	snprintf(b->auth, sizeof(b->auth), "%s", auth ? auth : "");
	const char *type = hrcv_header(req, "Content-Type");
	if (strcmp(req->url, b->path) || strcmp(req->method, "POST"))
		problem(b, "path or method");
	if (!type || strcmp(type, "application/x-ndjson"))
		problem(b, "Content-Type");
	if (req->len > b->max_body)
		b->max_body = req->len;
	/* pairs of lines: the action, the document */
	char *text = strndup((const char *)req->body, req->len);
	char *save = NULL;
	size_t line = 0, refused = 0;
	char items[4096];
	size_t o = (size_t)snprintf(items, sizeof(items), "{\"errors\":%s,\"items\":[",
				    req->rejected ? "true" : "false");
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
		if (line % 2 == 0) {
			if (strcmp(l, "{\"create\":{}}"))
				problem(b, "action line");
			continue;
		}
		json_t *doc = json_loads(l, 0, NULL);
		if (!doc) {
			problem(b, "document is not JSON");
			continue;
		}
		const char *ds = json_string_value(json_object_get(doc, "event.dataset"));
		const char *dsd = json_string_value(json_object_get(doc, "data_stream.dataset"));
		if (b->dataset[0] && (!ds || strcmp(ds, b->dataset) || !dsd || strcmp(dsd, b->dataset)))
			problem(b, "event.dataset or data_stream.dataset");
		if (!b->dataset[0] && (!ds || !strstr(ds, ".log") || dsd))
			problem(b, "event.dataset of a plain index");
		if (!json_object_get(doc, "@timestamp"))
			problem(b, "@timestamp");
		json_decref(doc);
		if (!req->keep)
			continue;
		if ((int64_t)refused < req->rejected) {
			refused++;
			if (o < sizeof(items) - 200)
				o += (size_t)snprintf(items + o, sizeof(items) - o,
						      "%s{\"create\":{\"error\":{\"type\":"
						      "\"mapper_parsing_exception\",\"reason\":"
						      "\"failed to parse field [x]\"}}}",
						      refused > 1 ? "," : "");
			continue;
		}
		if (b->n_docs == b->cap_docs) {
			b->cap_docs = b->cap_docs ? 2 * b->cap_docs : 1024;
			b->docs = realloc(b->docs, b->cap_docs * sizeof(*b->docs));
		}
		b->docs[b->n_docs++] = strdup(l);
	}
	if (line % 2)
		problem(b, "an action without its document");
	free(text);
	if (!req->keep)
		return;
	b->requests_ok++;
	resp->type = "application/json";
	if (req->rejected)
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body), "%s]}", items);
	else
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body), "{\"errors\":false}");
}

static struct bulk *bulk_start(const char *index, const char *dataset)
{
	struct bulk *b = calloc(1, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "/%s/_bulk", index);
	snprintf(b->dataset, sizeof(b->dataset), "%s", dataset);
	b->http = hrcv_start(on_bulk, b);
	assert_non_null(b->http);
	return b;
}

static void bulk_stop(struct bulk *b)
{
	hrcv_stop(b->http);
	for (size_t i = 0; i < b->n_docs; i++)
		free(b->docs[i]);
	free(b->docs);
	free(b);
}

/* ---- the sender's side ---- */

struct sent {
	char **docs;
	size_t n, cap;
	uint64_t other;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char notice_text[1024];

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(notice_text, sizeof(notice_text), "%s", msg);
}

/* Writes n records of the synthetic stream to uri; *sent gets the ECS
 * document of each log (dataset ds, namespace ns), as the encoder makes it.
 * Returns close's result. */
static int push(const char *uri, size_t n, const char *ds, const char *ns, struct sent *sent,
		struct fd_sink **out, struct fd_error *err)
{
	struct fd_synth_options so = {.seed = 11, .services = 3};
	struct fd_synth *syn = fd_synth_create(&so);
	struct fd_sink_context ctx = {.notice = on_notice};
	struct fd_sink *s = NULL;
	notice_text[0] = '\0';
	memset(sent, 0, sizeof(*sent));
	int rc = fd_sink_open(uri, &ctx, &s, err);
	struct fd_ecs *e = fd_ecs_create_stream(ds, ns);
	struct pbw doc = {0};
	assert_non_null(e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		if (rec.signal == FD_SIGNAL_LOGS) {
			pbw_reset(&doc);
			assert_int_equal(fd_ecs_encode(e, &rec, &doc, err), 0);
			char *buf = strndup((const char *)doc.buf, doc.len);
			assert_non_null(buf);
			if (sent->n == sent->cap) {
				sent->cap = sent->cap ? 2 * sent->cap : 1024;
				sent->docs = realloc(sent->docs, sent->cap * sizeof(*sent->docs));
			}
			sent->docs[sent->n++] = buf;
		} else {
			sent->other++;
		}
		rc = fd_sink_write(s, &rec, err);
	}
	if (rc == 0)
		rc = fd_sink_close(s, err);
	fd_ecs_destroy(e);
	pbw_finish(&doc);
	fd_synth_destroy(syn);
	if (out)
		*out = s;
	else
		fd_sink_destroy(s);
	return rc;
}

static void sent_free(struct sent *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->docs[i]);
	free(s->docs);
}

/* The receiver holds exactly the sent documents from index skip on
 * (refused ones are the first of their request), each once. */
static void expect_docs(struct bulk *b, struct sent *sent, size_t missing)
{
	assert_int_equal(b->bad, 0);
	assert_int_equal(b->n_docs + missing, sent->n);
	qsort(b->docs, b->n_docs, sizeof(char *), cmp_str);
	qsort(sent->docs, sent->n, sizeof(char *), cmp_str);
	size_t j = 0;
	for (size_t i = 0; i < b->n_docs; i++) {
		if (i && !strcmp(b->docs[i], b->docs[i - 1]))
			fail_msg("document %zu arrived twice", i);
		while (j < sent->n && strcmp(sent->docs[j], b->docs[i]))
			j++;
		if (j == sent->n)
			fail_msg("document %zu was not sent: %.200s", i, b->docs[i]);
		j++;
	}
}

static char *uri_for(struct bulk *b, const char *rest)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf), "es://127.0.0.1:%u%s", hrcv_port(b->http), rest);
	return buf;
}

static void logs_indexed_exactly_once(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	struct sent sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	int rc = push(uri_for(b, "?batch_docs=150"), 4000, "firedrill", "default", &sent, &s, &err);
	if (rc)
		fprintf(stderr, "%s / %s\n", err.msg, b->why);
	assert_int_equal(rc, 0);
	expect_docs(b, &sent, 0);
	assert_true(sent.n > 300);
	assert_true(b->requests_ok >= sent.n / 150);
	char line[512], want[128];
	fd_sink_report(s, line, sizeof(line));
	snprintf(want, sizeof(want), "%zu documents indexed, 0 refused, 0 failed", sent.n);
	assert_non_null(strstr(line, want));
	assert_non_null(strstr(notice_text, "Elasticsearch gets logs only: skipped"));
	fd_sink_destroy(s);
	sent_free(&sent);
	bulk_stop(b);
}

static void chunks_within_batch_bytes(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	struct sent sent;
	struct fd_error err = {0};
	assert_int_equal(push(uri_for(b, "?batch_bytes=20KB&compression=gzip&concurrency=2"), 4000,
			      "firedrill", "default", &sent, NULL, &err),
			 0);
	expect_docs(b, &sent, 0);
	assert_true(b->max_body <= 20000);
	assert_true(b->max_body > 15000);
	sent_free(&sent);
	bulk_stop(b);
}

static void other_indexes(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-checkout-prod", "checkout");
	struct sent sent;
	struct fd_error err = {0};
	assert_int_equal(push(uri_for(b, "/?index=logs-checkout-prod"), 1000, "checkout", "prod",
			      &sent, NULL, &err),
			 0);
	expect_docs(b, &sent, 0);
	sent_free(&sent);
	bulk_stop(b);
	/* a plain index: no data stream, the encoder's own event.dataset */
	b = bulk_start("prefix/drills", "");
	assert_int_equal(push(uri_for(b, "/prefix?index=drills"), 1000, NULL, NULL, &sent, NULL, &err),
			 0);
	expect_docs(b, &sent, 0);
	sent_free(&sent);
	bulk_stop(b);
}

static void retries_lose_nothing(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	const struct rcv_answer a[] = {{.status = 429}, {.status = 503, .retry_after = 1},
				       {.reset = true}};
	hrcv_script(b->http, a, 3);
	struct sent sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	assert_int_equal(push(uri_for(b, "?batch_docs=100&retry_initial=1ms"), 3000, "firedrill",
			      "default", &sent, &s, &err),
			 0);
	expect_docs(b, &sent, 0);
	char line[512];
	fd_sink_report(s, line, sizeof(line));
	/* 429 and 503 are always retries of ours; the reset is one too, unless
	 * it hit a reused connection before the request went out, which
	 * libcurl may retry by itself on a new one (2 retries in 1 run of 3 here) */
	const char *r = strstr(line, " retries");
	while (r && r > line && r[-1] >= '0' && r[-1] <= '9')
		r--;
	if (!r || (strncmp(r, "2 retries", 9) && strncmp(r, "3 retries", 9)))
		fail_msg("report: %s", line);
	fd_sink_destroy(s);
	sent_free(&sent);
	bulk_stop(b);
}

static void item_errors_counted(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	const struct rcv_answer a[] = {{.rejected = 3}};
	hrcv_script(b->http, a, 1);
	struct sent sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	int rc = push(uri_for(b, "?batch_docs=100&concurrency=1"), 3000, "firedrill", "default",
		      &sent, &s, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "3 refused (mapper_parsing_exception 3; first: "
					"mapper_parsing_exception: failed to parse field [x])"));
	expect_docs(b, &sent, 3);
	char line[512], want[128];
	fd_sink_report(s, line, sizeof(line));
	snprintf(want, sizeof(want), "%zu documents indexed, 3 refused, 0 failed", sent.n - 3);
	assert_non_null(strstr(line, want));
	fd_sink_destroy(s);
	sent_free(&sent);
	bulk_stop(b);
}

static void auth_sent_never_printed(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	struct sent sent;
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	assert_int_equal(push(uri_for(b, "?api_key=c2VjcmV0a2V5"), 500, "firedrill", "default",
			      &sent, &s, &err),
			 0);
	assert_string_equal(b->auth, "ApiKey c2VjcmV0a2V5");
	assert_null(strstr(s->uri, "c2VjcmV0a2V5"));
	fd_sink_destroy(s);
	sent_free(&sent);
	assert_int_equal(push(uri_for(b, "?user=elastic&password=changeme"), 500, "firedrill",
			      "default", &sent, &s, &err),
			 0);
	assert_string_equal(b->auth, "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
	assert_null(strstr(s->uri, "changeme"));
	fd_sink_destroy(s);
	sent_free(&sent);
	bulk_stop(b);
}

static void unauthorized_stops(void **state)
{
	(void)state;
	struct bulk *b = bulk_start("logs-firedrill-default", "firedrill");
	struct rcv_answer a[32];
	for (int i = 0; i < 32; i++)
		a[i] = (struct rcv_answer){.status = 401, .body = "missing authentication credentials"};
	hrcv_script(b->http, a, 32);
	struct sent sent;
	struct fd_error err = {0};
	int rc = push(uri_for(b, "?batch_docs=10&concurrency=1"), 3000, "firedrill", "default",
		      &sent, NULL, &err);
	assert_int_equal(rc, -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "HTTP 401: missing authentication credentials"));
	assert_true(hrcv_requests(b->http) < 32);
	sent_free(&sent);
	bulk_stop(b);
}

static void bad_uris(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"es:localhost:9200",  "es://",		       "es://?index=x",
		"es://h:1?index=Big", "es://h:1?index=_x",     "es://h:1?index=a b",
		"es://h:1?batch_bytes=0", "es://h:1?batch_docs=x", "es://h:1?compression=lz4",
		"es://h:1?bogus=1",   "es+https://h:1?insecure=1", "es://h 1:9200",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fd_sink *s = NULL;
		struct fd_error err = {0};
		int rc = fd_sink_open(bad[i], NULL, &s, &err);
		if (rc != -FD_EINPUT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(s);
	}
	struct fd_sink *s = NULL;
	struct fd_error err = {0};
	assert_int_equal(fd_sink_open("es://h:1?api_key=s3cret&index=Bad", NULL, &s, &err), -FD_EINPUT);
	assert_null(strstr(err.msg, "s3cret"));
	assert_int_equal(fd_sink_open("es+https://h:9200/x?index=logs-a-b&ca=/c&insecure=true", NULL,
				      &s, &err),
			 0);
	fd_sink_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logs_indexed_exactly_once),
		cmocka_unit_test(chunks_within_batch_bytes),
		cmocka_unit_test(other_indexes),
		cmocka_unit_test(retries_lose_nothing),
		cmocka_unit_test(item_errors_counted),
		cmocka_unit_test(auth_sent_never_printed),
		cmocka_unit_test(unauthorized_stops),
		cmocka_unit_test(bad_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
