/*
 * otlp-http://HOST:PORT — firedrill as an OTLP/HTTP receiver: an SDK or a
 * collector's otlphttp exporter POSTs export requests to /v1/traces,
 * /v1/metrics and /v1/logs (under any path prefix) and the capture records
 * them. HOST is an IPv4 address, localhost, or empty for every interface;
 * port 0 picks a free port, announced through the notice callback.
 *
 * The server is libmicrohttpd with a thread per connection. A handler
 * reads the whole body (at most FD_RX_MAX_BODY bytes, 413 past it), undoes its
 * Content-Encoding (gzip or deflate; identity), checks the method (405),
 * the path (404) and the Content-Type (application/x-protobuf or
 * application/json, else 415), and hands the request to the capture
 * through the queue every receiver shares (sources/receive.h), waiting for
 * the capture's verdict, so that the answer says what became of the
 * request: 200 with an empty Export*ServiceResponse when it was decoded,
 * 400 with a google.rpc.Status naming the problem when it was malformed,
 * as the specification asks, 503 with Retry-After: 1 when it was refused
 * (the queue full, or the capture ending), which a compliant exporter
 * retries: nothing is lost silently. Answers are in the request's
 * encoding.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/pbwrite.h"
#include "sources/receive.h"
#include "sources/registry.h"
#include "sources/source.h"

static const char *const paths[FD_SIGNAL_COUNT] = {"/v1/traces", "/v1/metrics", "/v1/logs"};

struct upload {
	uint8_t *data;
	size_t len, cap;
	bool too_large;
};

struct http_source {
	struct fd_source base; /* first: the interface casts between them */
	struct MHD_Daemon *d;
	unsigned port;
	char *uri;
	struct fd_rx_queue q;
	Firedrill__V1__RecordSource meta;
};

/* ---- answers ---- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
			      const void *body, size_t len, bool retry_later)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	if (retry_later)
		MHD_add_response_header(r, "Retry-After", "1");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* An error answer: google.rpc.Status { int32 code = 1; string message = 2; }
 * in protobuf, or its JSON form, as the specification says. grpc_code:
 * 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE... */
static enum MHD_Result fail(struct MHD_Connection *c, unsigned status, bool json, int grpc_code,
			    const char *msg)
{
	bool later = status == 503 || status == 429;
	if (json) {
		char buf[1024];
		char esc[700];
		size_t o = 0;
		for (const char *p = msg; *p && o < sizeof(esc) - 2; p++) {
			unsigned char ch = (unsigned char)*p;
			if (ch < ' ' || ch == '"' || ch == '\\')
				ch = ' ';
			esc[o++] = (char)ch;
		}
		esc[o] = '\0';
		int n = snprintf(buf, sizeof(buf), "{\"code\":%d,\"message\":\"%s\"}", grpc_code, esc);
		return answer(c, status, "application/json", buf, (size_t)n, later);
	}
	struct pbw w = {0};
	pbw_varint(&w, 1, (uint64_t)grpc_code);
	pbw_string(&w, 2, msg);
	enum MHD_Result rc =
		w.oom ? MHD_NO : answer(c, status, "application/x-protobuf", w.buf, w.len, later);
	pbw_finish(&w);
	return rc;
}

/* ---- bodies ---- */

static int path_signal(const char *url)
{
	size_t n = strlen(url);
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		size_t k = strlen(paths[i]);
		if (n >= k && !strcmp(url + n - k, paths[i]))
			return i;
	}
	return -1;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	fd_rx_peer_name(ci ? ci->client_addr : NULL, out, n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	(void)version;
	struct http_source *s = cls;
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = calloc(1, sizeof(struct upload));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		if (u->too_large || u->len + *data_size > FD_RX_MAX_BODY) {
			u->too_large = true;
		} else {
			if (u->cap - u->len < *data_size) {
				size_t cap = (u->len + *data_size) * 2;
				uint8_t *p = realloc(u->data, cap);
				if (!p)
					return MHD_NO;
				u->data = p;
				u->cap = cap;
			}
			memcpy(u->data + u->len, data, *data_size);
			u->len += *data_size;
		}
		*data_size = 0;
		return MHD_YES;
	}
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	bool json = type && !strncasecmp(type, "application/json", 16);
	int sig = path_signal(url);
	if (strcmp(method, "POST") != 0)
		return fail(c, 405, json, 12, "only POST is accepted");
	if (sig < 0)
		return fail(c, 404, json, 5, "not an OTLP path: POST to /v1/traces, /v1/metrics or /v1/logs");
	if (!json && !(type && !strncasecmp(type, "application/x-protobuf", 22)))
		return fail(c, 415, json, 3,
			    "Content-Type must be application/x-protobuf or application/json");
	if (u->too_large)
		return fail(c, 413, json, 8, "request body over 64 MiB");
	struct fd_rx_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return MHD_NO;
	e->signal = sig;
	e->json = json;
	peer_of(c, e->peer, sizeof(e->peer));
	if (enc && strcasecmp(enc, "identity") != 0) {
		if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "deflate") != 0) {
			free(e);
			return fail(c, 415, json, 3, "Content-Encoding must be gzip, deflate or identity");
		}
		bool big;
		e->data = fd_rx_inflate(u->data, u->len, &e->len, &big);
		if (!e->data) {
			free(e);
			return fail(c, big ? 413 : 400, json, big ? 8 : 3,
				    big ? "request body over 64 MiB once decompressed"
					: "the body does not decompress");
		}
	} else {
		/* the upload's buffer becomes the message */
		e->data = u->data;
		e->len = u->len;
		u->data = NULL;
		u->len = u->cap = 0;
	}
	enum MHD_Result rc;
	if (fd_rx_hand_over(&s->q, e) < 0)
		rc = fail(c, 503, json, 14, "the recorder is busy or stopping; retry");
	else if (e->malformed)
		rc = fail(c, 400, json, 3, "malformed export request");
	else if (json)
		rc = answer(c, 200, "application/json", "{}", 2, false);
	else
		rc = answer(c, 200, "application/x-protobuf", "", 0, false);
	free(e->data);
	free(e);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
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

/* ---- the source interface ---- */

static int hs_next(struct fd_source *src, struct fd_source_msg *msg, int timeout_ms,
		   struct fd_error *err)
{
	(void)err;
	struct http_source *s = (struct http_source *)src;
	struct fd_rx_entry *e = fd_rx_next(&s->q, timeout_ms);
	if (!e)
		return FD_SOURCE_IDLE;
	msg->data = e->data;
	msg->len = e->len;
	msg->signal = e->signal;
	msg->format = e->json ? FD_OTLP_JSON : FD_OTLP_PROTO;
	msg->time_ns = 0;
	msg->capture_ns = e->received_ns;
	snprintf(msg->where, sizeof(msg->where), "request %llu (POST %s from %s)",
		 (unsigned long long)e->seq, paths[e->signal], e->peer[0] ? e->peer : "?");
	return 1;
}

static void hs_done(struct fd_source *src, const struct fd_source_msg *msg, int records,
		    int64_t max_time, bool malformed)
{
	(void)msg, (void)max_time;
	fd_rx_done(&((struct http_source *)src)->q, records, malformed);
}

static const Firedrill__V1__RecordSource *hs_metadata(struct fd_source *src)
{
	struct http_source *s = (struct http_source *)src;
	return &s->meta;
}

static void hs_destroy(struct fd_source *src)
{
	struct http_source *s = (struct http_source *)src;
	/* handlers waiting in the queue are answered 503, then the daemon's
	 * threads end */
	fd_rx_close(&s->q);
	if (s->d)
		MHD_stop_daemon(s->d);
	fd_rx_queue_finish(&s->q);
	free(s->uri);
	free(s);
}

static const struct fd_source_impl http_impl = {
	.name = "otlp-http",
	.next = hs_next,
	.done = hs_done,
	.metadata = hs_metadata,
	.destroy = hs_destroy,
};

static int http_open(const char *uri, const char *rest, const struct fd_source_context *o,
		     struct fd_source **out, struct fd_error *err)
{
	*out = NULL;
	struct sockaddr_in sa;
	int rc = fd_rx_address(uri, rest, "otlp-http", "4318", &sa, err);
	if (rc < 0)
		return rc;
	struct http_source *s = calloc(1, sizeof(*s));
	if (!s || !(s->uri = strdup(uri))) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->base.impl = &http_impl;
	fd_rx_queue_init(&s->q);
	firedrill__v1__record_source__init(&s->meta);
	s->meta.uri = s->uri;
	s->meta.format = (char *)"otlp_http";
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				ntohs(sa.sin_port), NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!s->d) {
		char a[INET_ADDRSTRLEN];
		rc = fd_error_set(err, FD_ERUNTIME,
				      "source '%s': cannot listen on %s:%u (in use, or not an address "
				      "of this machine?)",
				      uri, inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)),
				      (unsigned)ntohs(sa.sin_port));
		hs_destroy(&s->base);
		return rc;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : ntohs(sa.sin_port);
	if (o && o->notice) {
		char a[INET_ADDRSTRLEN], msg[256];
		snprintf(msg, sizeof(msg),
			 "receiving OTLP/HTTP on http://%s:%u (POST /v1/traces, /v1/metrics, /v1/logs)",
			 inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)), s->port);
		o->notice(o->notice_ctx, msg);
	}
	*out = &s->base;
	return 0;
}

static const char *const no_options[] = {NULL};

const struct fd_source_descriptor fd_source_otlp_http_descriptor = {
	.scheme = "otlp-http",
	.synopsis = "otlp-http://HOST:PORT",
	.summary = "listen as an OTLP/HTTP receiver (HOST empty: every interface; PORT 0: any)",
	.options = no_options,
	.help = "      POST /v1/traces, /v1/metrics, /v1/logs; protobuf or JSON, gzip;\n"
		"      without a stop option, records until Ctrl-C\n",
	.open = http_open,
};
