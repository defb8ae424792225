/*
 * otlp-http://HOST:PORT — firedrill as an OTLP/HTTP receiver: an SDK or a
 * collector's otlphttp exporter POSTs export requests to /v1/traces,
 * /v1/metrics and /v1/logs (under any path prefix) and the capture records
 * them. HOST is an IPv4 address, localhost, or empty for every interface;
 * port 0 picks a free port, announced through the notice callback.
 *
 * The server is libmicrohttpd with a thread per connection. A handler
 * reads the whole body (at most MAX_BODY bytes, 413 past it), undoes its
 * Content-Encoding (gzip or deflate; identity), checks the method (405),
 * the path (404) and the Content-Type (application/x-protobuf or
 * application/json, else 415), and hands the request to the capture
 * through a queue of QUEUE_LEN entries. It then waits for the capture's
 * verdict (done()), so that the answer says what became of the request:
 * 200 with an empty Export*ServiceResponse when it was decoded, 400 with a
 * google.rpc.Status naming the problem when it was malformed, as the
 * specification asks. A request that finds the queue full for
 * QUEUE_WAIT_MS, or arrives while the capture ends, is answered 503 with
 * Retry-After: 1, which a compliant exporter retries: nothing is lost
 * silently. Answers are in the request's encoding.
 *
 * next() hands out the queued requests in arrival order; a message's data
 * stay valid until done() is called for it (the capture calls done() once
 * per message, right after decoding it).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "otlp/pbwrite.h"
#include "sources/registry.h"
#include "sources/source.h"

#define MAX_BODY (64u << 20) /* before and after decompression */
#define QUEUE_LEN 16
#define QUEUE_WAIT_MS 5000

static const char *const paths[FD_SIGNAL_COUNT] = {"/v1/traces", "/v1/metrics", "/v1/logs"};

/* One request from its arrival to its answer; owned by its handler. */
struct entry {
	uint8_t *data;
	size_t len;
	int signal;
	bool json;
	uint64_t seq;
	char peer[64];
	/* set by done() */
	bool answered, malformed;
	int records;
	struct entry *next;
};

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

	pthread_mutex_t lock;
	pthread_cond_t changed; /* queue, verdicts, closing */
	struct entry *head, *tail;
	size_t queued;
	struct entry *current; /* handed out by next(), waiting for done() */
	bool closing;
	uint64_t seq;
	uint64_t refused; /* answered 503: queue full or closing */

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

/* gzip or zlib-wrapped deflate (inflateInit2's 15 + 32 detects either).
 * NULL with *too_large set when the result would pass MAX_BODY. */
static uint8_t *inflate_body(const uint8_t *in, size_t n, size_t *out_len, bool *too_large)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	*too_large = false;
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return NULL;
	size_t cap = n * 4 + 4096 < MAX_BODY ? n * 4 + 4096 : MAX_BODY;
	uint8_t *out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	int rc = Z_OK;
	while (out && rc == Z_OK) {
		if (z.total_out == cap) {
			if (cap == MAX_BODY) {
				*too_large = true;
				break;
			}
			cap = cap * 2 < MAX_BODY ? cap * 2 : MAX_BODY;
			uint8_t *p = realloc(out, cap);
			if (!p)
				break;
			out = p;
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_BUF_ERROR && z.avail_out)
			break; /* input ended before the stream did */
		if (rc == Z_BUF_ERROR)
			rc = Z_OK;
	}
	*out_len = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

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
	out[0] = '\0';
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)ci->client_addr;
		char a[INET_ADDRSTRLEN];
		snprintf(out, n, "%s:%u", inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a)),
			 (unsigned)ntohs(sa->sin_port));
	}
}

static struct timespec deadline_in(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Queues e for the capture and waits for its verdict. Returns 0 when
 * decided, -1 when refused (queue full, or the capture ending). */
static int hand_over(struct http_source *s, struct entry *e)
{
	pthread_mutex_lock(&s->lock);
	struct timespec until = deadline_in(QUEUE_WAIT_MS);
	while (!s->closing && s->queued >= QUEUE_LEN)
		if (pthread_cond_timedwait(&s->changed, &s->lock, &until) != 0)
			break;
	if (s->closing || s->queued >= QUEUE_LEN) {
		s->refused++;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	e->seq = ++s->seq;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->queued++;
	pthread_cond_broadcast(&s->changed);
	/* the capture answers in its own time; while the request is queued
	 * (not yet handed out), closing takes it back */
	while (!e->answered && !(s->closing && s->current != e))
		pthread_cond_wait(&s->changed, &s->lock);
	int rc = e->answered ? 0 : -1;
	if (!e->answered) {
		/* still queued: unlink it */
		for (struct entry **p = &s->head; *p; p = &(*p)->next)
			if (*p == e) {
				*p = e->next;
				s->queued--;
				break;
			}
		s->tail = NULL;
		for (struct entry *q = s->head; q; q = q->next)
			s->tail = q;
		s->refused++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
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
		if (u->too_large || u->len + *data_size > MAX_BODY) {
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
	struct entry *e = calloc(1, sizeof(*e));
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
		e->data = inflate_body(u->data, u->len, &e->len, &big);
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
	if (hand_over(s, e) < 0)
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
	pthread_mutex_lock(&s->lock);
	struct timespec until = deadline_in(timeout_ms);
	while (!s->head)
		if (pthread_cond_timedwait(&s->changed, &s->lock, &until) != 0)
			break;
	struct entry *e = s->head;
	if (e) {
		s->head = e->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		s->current = e;
		pthread_cond_broadcast(&s->changed); /* room in the queue */
	}
	pthread_mutex_unlock(&s->lock);
	if (!e)
		return FD_SOURCE_IDLE;
	msg->data = e->data;
	msg->len = e->len;
	msg->signal = e->signal;
	msg->format = e->json ? FD_OTLP_JSON : FD_OTLP_PROTO;
	msg->time_ns = 0;
	snprintf(msg->where, sizeof(msg->where), "request %llu (POST %s from %s)",
		 (unsigned long long)e->seq, paths[e->signal], e->peer[0] ? e->peer : "?");
	return 1;
}

static void hs_done(struct fd_source *src, const struct fd_source_msg *msg, int records,
		    int64_t max_time, bool malformed)
{
	(void)msg, (void)max_time;
	struct http_source *s = (struct http_source *)src;
	pthread_mutex_lock(&s->lock);
	struct entry *e = s->current;
	if (e) {
		e->records = records;
		e->malformed = malformed;
		e->answered = true;
		s->current = NULL;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
}

static const Firedrill__V1__RecordSource *hs_metadata(struct fd_source *src)
{
	struct http_source *s = (struct http_source *)src;
	return &s->meta;
}

static void hs_destroy(struct fd_source *src)
{
	struct http_source *s = (struct http_source *)src;
	if (s->d) {
		/* handlers waiting in the queue are answered 503, then the
		 * daemon's threads end */
		pthread_mutex_lock(&s->lock);
		s->closing = true;
		if (s->current) {
			s->current->answered = true; /* handed out: its records were taken */
			s->current = NULL;
		}
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		MHD_stop_daemon(s->d);
	}
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
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

/* HOST:PORT with HOST an IPv4 address, localhost or empty (every
 * interface); a path after it is allowed and ignored (requests are routed
 * by their path's end). */
static int parse_address(const char *uri, const char *rest, struct sockaddr_in *sa,
			 struct fd_error *err)
{
	static const char usage[] = "expected otlp-http://HOST:PORT, e.g. otlp-http://127.0.0.1:4318 "
				    "(HOST empty: every interface; PORT 0: any free port)";
	if (strncmp(rest, "//", 2) != 0)
		return fd_error_set(err, FD_EINPUT, "source '%s': %s", uri, usage);
	const char *a = rest + 2, *colon = strrchr(a, ':');
	const char *slash = strchr(a, '/');
	if (!colon || (slash && slash < colon) || strchr(a, '?'))
		return fd_error_set(err, FD_EINPUT, "source '%s': %s", uri, usage);
	size_t hn = (size_t)(colon - a);
	char host[64], port[16];
	size_t pn = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
	if (hn >= sizeof(host) || pn == 0 || pn >= sizeof(port))
		return fd_error_set(err, FD_EINPUT, "source '%s': %s", uri, usage);
	memcpy(host, a, hn);
	host[hn] = '\0';
	memcpy(port, colon + 1, pn);
	port[pn] = '\0';
	char *end;
	long p = strtol(port, &end, 10);
	if (*end || p < 0 || p > 65535 || strspn(port, "0123456789") != pn)
		return fd_error_set(err, FD_EINPUT, "source '%s': port '%s' is not a number from 0 to 65535",
				    uri, port);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)p);
	if (!*host)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return fd_error_set(err, FD_EINPUT,
				    "source '%s': host '%s' is not an IPv4 address (or localhost; "
				    "leave it empty for every interface)",
				    uri, host);
	return 0;
}

static int http_open(const char *uri, const char *rest, const struct fd_source_context *o,
		     struct fd_source **out, struct fd_error *err)
{
	*out = NULL;
	struct sockaddr_in sa;
	if (parse_address(uri, rest, &sa, err) < 0)
		return -FD_EINPUT;
	struct http_source *s = calloc(1, sizeof(*s));
	if (!s || !(s->uri = strdup(uri))) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->base.impl = &http_impl;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
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
		int rc = fd_error_set(err, FD_ERUNTIME,
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
