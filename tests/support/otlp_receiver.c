#include "tests/support/otlp_receiver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp/json_read.h"
#include "otlp/pbwrite.h"

#define MAX_SCRIPT 256
#define MAX_BODY (256u << 20)

struct rcv {
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t lock;
	struct rcv_answer script[MAX_SCRIPT];
	int n_script, next_script;
	struct rcv_stats st;
	struct recset set;
	bool sorted;
	char auth[256], tenant[256], agent[256];
};

struct upload {
	uint8_t *data;
	size_t len, cap;
	bool too_large;
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

/* Decodes and, when keep_it, keeps the records. Returns -1 when malformed. */
static int decode(struct rcv *r, int sig, const uint8_t *p, size_t n, bool keep_it)
{
	if (sig == 0) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *q =
			opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		for (size_t i = 0; keep_it && i < q->n_resource_spans; i++)
			for (size_t j = 0; j < q->resource_spans[i]->n_scope_spans; j++)
				for (size_t k = 0; k < q->resource_spans[i]->scope_spans[j]->n_spans; k++)
					keep(r, 0, (ProtobufCMessage *)q->resource_spans[i]->resource,
					     (ProtobufCMessage *)q->resource_spans[i]->scope_spans[j]->scope,
					     &q->resource_spans[i]->scope_spans[j]->spans[k]->base);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	} else if (sig == 1) {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		for (size_t i = 0; keep_it && i < q->n_resource_metrics; i++)
			for (size_t j = 0; j < q->resource_metrics[i]->n_scope_metrics; j++)
				for (size_t k = 0; k < q->resource_metrics[i]->scope_metrics[j]->n_metrics; k++)
					keep(r, 1, (ProtobufCMessage *)q->resource_metrics[i]->resource,
					     (ProtobufCMessage *)q->resource_metrics[i]->scope_metrics[j]->scope,
					     &q->resource_metrics[i]->scope_metrics[j]->metrics[k]->base);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	} else {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *q =
			opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
				NULL, n, p);
		if (!q)
			return -1;
		for (size_t i = 0; keep_it && i < q->n_resource_logs; i++)
			for (size_t j = 0; j < q->resource_logs[i]->n_scope_logs; j++)
				for (size_t k = 0; k < q->resource_logs[i]->scope_logs[j]->n_log_records; k++)
					keep(r, 2, (ProtobufCMessage *)q->resource_logs[i]->resource,
					     (ProtobufCMessage *)q->resource_logs[i]->scope_logs[j]->scope,
					     &q->resource_logs[i]->scope_logs[j]->log_records[k]->base);
		protobuf_c_message_free_unpacked(&q->base, NULL);
	}
	return 0;
}

static uint8_t *gunzip(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return NULL;
	size_t cap = n * 4 + 1024, len = 0;
	uint8_t *out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	int rc;
	do {
		if (cap - len < 65536) {
			cap *= 2;
			out = realloc(out, cap);
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		rc = inflate(&z, Z_NO_FLUSH);
		len = z.total_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = len;
	return out;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
			      const void *body, size_t len, int retry_after)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	if (retry_after > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%d", retry_after);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v ? v : "");
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

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	(void)version;
	struct rcv *r = cls;
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = calloc(1, sizeof(struct upload));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		if (u->len + *data_size > MAX_BODY) {
			u->too_large = true;
		} else {
			if (u->cap - u->len < *data_size) {
				u->cap = (u->len + *data_size) * 2;
				u->data = realloc(u->data, u->cap);
			}
			memcpy(u->data + u->len, data, *data_size);
			u->len += *data_size;
		}
		*data_size = 0;
		return MHD_YES;
	}
	int sig = -1;
	size_t ul = strlen(url);
	static const char *const paths[3] = {"/v1/traces", "/v1/metrics", "/v1/logs"};
	for (int i = 0; i < 3; i++)
		if (ul >= strlen(paths[i]) && !strcmp(url + ul - strlen(paths[i]), paths[i]))
			sig = i;
	if (strcmp(method, "POST") || sig < 0)
		return answer(c, 404, "text/plain", "not found", 9, 0);
	pthread_mutex_lock(&r->lock);
	r->st.requests++;
	struct rcv_answer a = {0};
	if (r->next_script < r->n_script)
		a = r->script[r->next_script++];
	copy_header(c, "Authorization", r->auth, sizeof(r->auth));
	copy_header(c, "X-Scope-OrgID", r->tenant, sizeof(r->tenant));
	copy_header(c, "User-Agent", r->agent, sizeof(r->agent));
	pthread_mutex_unlock(&r->lock);
	if (a.delay_ms)
		sleep_ms(a.delay_ms);
	if (a.reset)
		return MHD_NO; /* libmicrohttpd closes the connection, no answer */

	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	bool gz = enc && !strcmp(enc, "gzip");
	bool json = type && !strncmp(type, "application/json", 16);
	uint8_t *body = u->data, *plain = NULL;
	size_t len = u->len;
	if (gz && !(plain = gunzip(u->data, u->len, &len)))
		body = NULL;
	else if (gz)
		body = plain;
	size_t sent_len = body ? len : 0;
	struct pbw pb = {0};
	if (body && json) {
		enum fd_signal found;
		struct fd_error e = {0};
		if (fd_otlp_json_read((const char *)body, len, sig, &found, &pb, &e) < 0 ||
		    (int)found != sig)
			body = NULL;
		else {
			body = pb.buf;
			len = pb.len;
		}
	}
	bool ok2xx = a.status == 0 || (a.status >= 200 && a.status < 300);
	pthread_mutex_lock(&r->lock);
	r->st.gzip += gz;
	r->st.json += json;
	r->st.proto += !json;
	if (sent_len > r->st.max_len)
		r->st.max_len = sent_len;
	int rc = body && !u->too_large ? decode(r, sig, body ? body : (const uint8_t *)"", len, ok2xx)
				       : -1;
	if (rc < 0)
		r->st.malformed++;
	else if (ok2xx)
		r->st.accepted++;
	pthread_mutex_unlock(&r->lock);
	free(plain);
	pbw_finish(&pb);
	if (rc < 0)
		return answer(c, 400, "text/plain", "malformed request", 17, 0);
	if (!ok2xx) {
		const char *b = a.body ? a.body : "scripted failure";
		return answer(c, (unsigned)a.status, "text/plain", b, strlen(b), a.retry_after);
	}
	char resp[256];
	size_t n = a.rejected ? partial(sig, json, a.rejected, resp, sizeof(resp)) : 0;
	if (!a.rejected && json)
		n = (size_t)snprintf(resp, sizeof(resp), "{}");
	return answer(c, a.status ? (unsigned)a.status : 200,
		      json ? "application/json" : "application/x-protobuf", resp, n, 0);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct upload *u = *con_cls;
	if (u) {
		free(u->data);
		free(u);
		*con_cls = NULL;
	}
}

struct rcv *rcv_start(void)
{
	struct rcv *r = calloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
				NULL, NULL, on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, r, MHD_OPTION_END);
	if (!r->d) {
		free(r);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = di ? di->port : 0;
	return r;
}

unsigned rcv_port(const struct rcv *r)
{
	return r->port;
}

void rcv_script(struct rcv *r, const struct rcv_answer *a, int n)
{
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < n && r->n_script < MAX_SCRIPT; i++)
		r->script[r->n_script++] = a[i];
	pthread_mutex_unlock(&r->lock);
}

void rcv_stats(struct rcv *r, struct rcv_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

void rcv_last_header(struct rcv *r, const char *name, char *out, size_t n)
{
	pthread_mutex_lock(&r->lock);
	const char *v = !strcmp(name, "Authorization") ? r->auth
			: !strcmp(name, "X-Scope-OrgID") ? r->tenant
							 : r->agent;
	snprintf(out, n, "%s", v);
	pthread_mutex_unlock(&r->lock);
}

const struct recset *rcv_records(struct rcv *r)
{
	pthread_mutex_lock(&r->lock);
	if (!r->sorted)
		recset_sort(&r->set);
	r->sorted = true;
	pthread_mutex_unlock(&r->lock);
	return &r->set;
}

void rcv_stop(struct rcv *r)
{
	if (!r)
		return;
	MHD_stop_daemon(r->d);
	recset_free(&r->set);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
