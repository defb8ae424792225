#include "tests/support/otlp_receiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/json_read.h"
#include "otlp/pbwrite.h"

struct rcv {
	struct hrcv *http;
	struct rcv_stats st;
	struct recset set;
	bool sorted;
	char auth[256], tenant[256], agent[256];
};

static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
	*len = m ? protobuf_c_message_get_packed_size(m) : 0;
	uint8_t *p = malloc(*len ? *len : 1);
	if (m)
		protobuf_c_message_pack(m, p);
	return p;
}

static void keep(struct rcv *r, int sig, const ProtobufCMessage *res, const ProtobufCMessage *scope,
		 const ProtobufCMessage *item)
{
	size_t rl, sl, pl;
	uint8_t *rb = packed(res, &rl), *sb = packed(scope, &sl), *pb = packed(item, &pl);
	recset_add(&r->set, true, sig, 0, rb, rl, sb, sl, pb, pl);
	r->st.records[sig]++;
	r->sorted = false;
	free(rb);
	free(sb);
	free(pb);
}

#define KEEP_ALL(q, res_f, n_res_f, scope_f, n_scope_f, item_f, n_item_f, sig)                  \
	for (size_t i = 0; keep_it && i < q->n_res_f; i++)                                        \
		for (size_t j = 0; j < q->res_f[i]->n_scope_f; j++)                               \
			for (size_t k = 0; k < q->res_f[i]->scope_f[j]->n_item_f; k++)            \
				keep(r, sig, (ProtobufCMessage *)q->res_f[i]->resource,           \
				     (ProtobufCMessage *)q->res_f[i]->scope_f[j]->scope,          \
				     &q->res_f[i]->scope_f[j]->item_f[k]->base)

/* Decodes and, when keep_it, keeps the records. Returns -1 when malformed. */
static int decode(struct rcv *r, int sig, const uint8_t *p, size_t n, bool keep_it)
{
	if (sig == 0) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *q =
			opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		KEEP_ALL(q, resource_spans, n_resource_spans, scope_spans, n_scope_spans, spans,
			 n_spans, 0);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	} else if (sig == 1) {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		KEEP_ALL(q, resource_metrics, n_resource_metrics, scope_metrics, n_scope_metrics,
			 metrics, n_metrics, 1);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	} else {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *q =
			opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		KEEP_ALL(q, resource_logs, n_resource_logs, scope_logs, n_scope_logs, log_records,
			 n_log_records, 2);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	}
	return 0;
}

/* The answer body of a partial success, in the request's encoding. */
static size_t partial(int sig, bool json, int64_t rejected, char *out, size_t n)
{
	static const char *const keys[3] = {"rejectedSpans", "rejectedDataPoints",
					    "rejectedLogRecords"};
	if (json)
		return (size_t)snprintf(out, n,
					"{\"partialSuccess\":{\"%s\":\"%lld\",\"errorMessage\":"
					"\"test rejection\"}}",
					keys[sig], (long long)rejected);
	/* Export*ServiceResponse { partial_success = 1 { rejected = 1; error_message = 2 } }:
	 * the same shape for the three signals */
	struct pbw w = {0};
	size_t m = pbw_begin(&w, 1);
	pbw_varint(&w, 1, (uint64_t)rejected);
	pbw_string(&w, 2, "test rejection");
	pbw_end(&w, m);
	size_t len = w.len < n ? w.len : n;
	memcpy(out, w.buf, len);
	pbw_finish(&w);
	return len;
}

static void copy_header(const struct hrcv_request *req, const char *name, char *out, size_t n)
{
	const char *v = hrcv_header(req, name);
	snprintf(out, n, "%s", v ? v : "");
}

static void on_request(void *ctx, const struct hrcv_request *req, struct hrcv_response *resp)
{
	struct rcv *r = ctx;
	int sig = -1;
	size_t ul = strlen(req->url);
	static const char *const paths[3] = {"/v1/traces", "/v1/metrics", "/v1/logs"};
	for (int i = 0; i < 3; i++)
		if (ul >= strlen(paths[i]) && !strcmp(req->url + ul - strlen(paths[i]), paths[i]))
			sig = i;
	if (strcmp(req->method, "POST") || sig < 0) {
		resp->status = 404;
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body), "not found");
		return;
	}
	copy_header(req, "Authorization", r->auth, sizeof(r->auth));
	copy_header(req, "X-Scope-OrgID", r->tenant, sizeof(r->tenant));
	copy_header(req, "User-Agent", r->agent, sizeof(r->agent));
	const char *type = hrcv_header(req, "Content-Type");
	bool json = type && !strncmp(type, "application/json", 16);
	r->st.gzip += req->gzip;
	r->st.json += json;
	r->st.proto += !json;
	if (req->body_ok && req->len > r->st.max_len)
		r->st.max_len = req->len;
	struct pbw pb = {0};
	const uint8_t *body = req->body_ok ? req->body : NULL;
	size_t len = req->len;
	if (body && json) {
		enum fd_signal found;
		struct fd_error e = {0};
		if (fd_otlp_json_read((const char *)body, len, sig, &found, &pb, &e) < 0 ||
		    (int)found != sig) {
			body = NULL;
		} else {
			body = pb.buf ? pb.buf : (const uint8_t *)"";
			len = pb.len;
		}
	}
	int rc = body ? decode(r, sig, body, len, req->keep) : -1;
	pbw_finish(&pb);
	if (rc < 0) {
		r->st.malformed++;
		resp->status = 400;
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body), "malformed request");
		return;
	}
	if (!req->keep)
		return;
	r->st.accepted++;
	resp->type = json ? "application/json" : "application/x-protobuf";
	if (req->rejected)
		resp->len = partial(sig, json, req->rejected, resp->body, sizeof(resp->body));
	else if (json)
		resp->len = (size_t)snprintf(resp->body, sizeof(resp->body), "{}");
}

struct rcv *rcv_start(void)
{
	struct rcv *r = calloc(1, sizeof(*r));
	if (!r || !(r->http = hrcv_start(on_request, r))) {
		free(r);
		return NULL;
	}
	return r;
}

unsigned rcv_port(const struct rcv *r)
{
	return hrcv_port(r->http);
}

void rcv_script(struct rcv *r, const struct rcv_answer *a, int n)
{
	hrcv_script(r->http, a, n);
}

struct copy_ctx {
	struct rcv *r;
	void *out;
	const char *name;
	size_t n;
};

static void copy_stats(void *ctx)
{
	struct copy_ctx *c = ctx;
	*(struct rcv_stats *)c->out = c->r->st;
	((struct rcv_stats *)c->out)->requests = 0;
}

void rcv_stats(struct rcv *r, struct rcv_stats *out)
{
	struct copy_ctx c = {r, out, NULL, 0};
	hrcv_locked(r->http, copy_stats, &c);
	out->requests = hrcv_requests(r->http);
}

static void copy_header_value(void *ctx)
{
	struct copy_ctx *c = ctx;
	const char *v = !strcmp(c->name, "Authorization") ? c->r->auth
			: !strcmp(c->name, "X-Scope-OrgID") ? c->r->tenant
							    : c->r->agent;
	snprintf(c->out, c->n, "%s", v);
}

void rcv_last_header(struct rcv *r, const char *name, char *out, size_t n)
{
	struct copy_ctx c = {r, out, name, n};
	hrcv_locked(r->http, copy_header_value, &c);
}

static void sort_set(void *ctx)
{
	struct rcv *r = ctx;
	if (!r->sorted)
		recset_sort(&r->set);
	r->sorted = true;
}

const struct recset *rcv_records(struct rcv *r)
{
	hrcv_locked(r->http, sort_set, r);
	return &r->set;
}

void rcv_stop(struct rcv *r)
{
	if (!r)
		return;
	hrcv_stop(r->http);
	recset_free(&r->set);
	free(r);
}
