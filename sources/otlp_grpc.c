/*
 * otlp-grpc://HOST:PORT — firedrill as an OTLP/gRPC receiver: an SDK or a
 * collector's otlp exporter calls the collector services' unary Export
 * (/opentelemetry.proto.collector.{trace,metrics,logs}.v1.*Service/Export)
 * and the capture records the requests. HOST is an IPv4 address,
 * localhost, or empty for every interface; port 0 picks a free port,
 * announced through the notice callback.
 *
 * HTTP/2 is libnghttp2's (the library libcurl's HTTP/2 uses, for the
 * otlp-grpc:// sink), in cleartext with prior knowledge, as gRPC's
 * insecure channels speak it. One thread accepts, one thread serves each
 * connection (as sources/otlp_http.c's libmicrohttpd does), and after it
 * waits IDLE_MS for another one before it ends: a client that opens a
 * connection per call (firedrill's own otlp-grpc:// sink on libcurl
 * before 8.0) finds a thread waiting instead of waiting for a new one,
 * which on a busy machine the scheduler starts a whole period late (a new
 * task starts behind the running ones; a woken one does not). It reads
 * frames, and when a call's request has ended it checks it (the path,
 * Content-Type application/grpc, grpc-encoding identity, gzip or deflate,
 * one length-prefixed message of at most FD_RX_MAX_BODY bytes) and hands
 * it to the capture through the queue every receiver shares
 * (sources/receive.h), waiting for the verdict: the call is answered OK
 * with an empty Export*ServiceResponse when the capture decoded it,
 * INVALID_ARGUMENT when it was malformed, UNAVAILABLE (which exporters
 * retry) when the queue stayed full or the capture ended first. Wrong
 * paths get UNIMPLEMENTED, a body too large RESOURCE_EXHAUSTED. The calls
 * of one connection are judged one after the other; each connection has
 * its own thread, so a slow capture holds back only the calls waiting for
 * it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sources/receive.h"
#include "sources/registry.h"
#include "sources/source.h"

#define MAX_CONNECTIONS 256
#define POLL_MS 200 /* how soon a connection thread sees the source closing */
#define IDLE_MS 2000 /* how long a connection thread waits for the next connection */

static const char *const methods[FD_SIGNAL_COUNT] = {
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

/* gRPC status codes */
enum {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_UNAVAILABLE = 14,
};

struct grpc_source;

/* One call: its request as it comes, then its answer. */
struct call {
	int32_t id;
	int signal; /* -1: not one of the Export methods */
	bool post, grpc_type, ended;
	int encoding; /* 0 identity, 1 gzip or deflate, -1 another */
	uint8_t *body;
	size_t len, cap;
	bool too_large;
	uint8_t reply[5]; /* the empty response message, framed */
	size_t reply_off;
	int status;
	const char *message;
};

struct conn {
	struct grpc_source *s;
	int fd;
	char peer[64];
	nghttp2_session *h2;
	int32_t *ended; /* ids of the calls whose request ended, to answer */
	size_t n_ended, cap_ended;
	pthread_t thread;
	bool idle; /* between connections: fd is -1, the acceptor may hand one over */
	bool done; /* the thread has finished: it can be joined */
	struct conn *next;
};

struct grpc_source {
	struct fd_source base; /* first: the interface casts between them */
	struct fd_rx_queue q;
	int listen_fd;
	unsigned port;
	char *uri;
	pthread_t acceptor;
	bool acceptor_running;
	pthread_mutex_t conns_lock;
	pthread_cond_t handed; /* a connection was handed to an idle thread, or stop */
	struct conn *conns;
	size_t n_conns;
	int stop; /* read by the server threads between polls */
	Firedrill__V1__RecordSource meta;
};

static bool stopping(struct grpc_source *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) != 0;
}

/* ---- HTTP/2 callbacks ---- */

static ssize_t on_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *ud)
{
	(void)h2, (void)flags;
	struct conn *c = ud;
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		off += (size_t)n;
	}
	return (ssize_t)len;
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct call *k = calloc(1, sizeof(*k));
	if (!k)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	k->id = f->hd.stream_id;
	k->signal = -1;
	nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, k);
	return 0;
}

static bool is(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	(void)flags, (void)ud;
	struct call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!k || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (is(name, namelen, ":method")) {
		k->post = is(value, valuelen, "POST");
	} else if (is(name, namelen, ":path")) {
		for (int i = 0; i < FD_SIGNAL_COUNT; i++)
			if (is(value, valuelen, methods[i]))
				k->signal = i;
	} else if (is(name, namelen, "content-type")) {
		/* application/grpc, application/grpc+proto, application/grpc;... */
		k->grpc_type = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
			       (valuelen == 16 || value[16] == '+' || value[16] == ';');
	} else if (is(name, namelen, "grpc-encoding")) {
		k->encoding = is(value, valuelen, "identity") ? 0
			      : is(value, valuelen, "gzip") || is(value, valuelen, "deflate") ? 1
											     : -1;
	}
	return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *ud)
{
	(void)flags, (void)ud;
	struct call *k = nghttp2_session_get_stream_user_data(h2, id);
	if (!k || k->too_large)
		return 0;
	if (len > FD_RX_MAX_BODY + 5 - k->len) {
		/* kept reading, not kept */
		k->too_large = true;
		free(k->body);
		k->body = NULL;
		k->len = k->cap = 0;
		return 0;
	}
	if (k->cap - k->len < len) {
		size_t cap = (k->len + len) * 2;
		uint8_t *p = realloc(k->body, cap);
		if (!p)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		k->body = p;
		k->cap = cap;
	}
	memcpy(k->body + k->len, data, len);
	k->len += len;
	return 0;
}

static int on_frame(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	struct conn *c = ud;
	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	struct call *k = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!k || k->ended)
		return 0;
	k->ended = true;
	if (c->n_ended == c->cap_ended) {
		size_t cap = c->cap_ended ? 2 * c->cap_ended : 16;
		int32_t *v = realloc(c->ended, cap * sizeof(*v));
		if (!v)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->ended = v;
		c->cap_ended = cap;
	}
	c->ended[c->n_ended++] = k->id;
	return 0;
}

static int on_close(nghttp2_session *h2, int32_t id, uint32_t code, void *ud)
{
	(void)code, (void)ud;
	struct call *k = nghttp2_session_get_stream_user_data(h2, id);
	if (k) {
		nghttp2_session_set_stream_user_data(h2, id, NULL);
		free(k->body);
		free(k);
	}
	return 0;
}

/* ---- answers ---- */

static ssize_t read_reply(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len,
			  uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	(void)ud;
	struct call *k = src->ptr;
	size_t n = sizeof(k->reply) - k->reply_off;
	if (n > len)
		n = len;
	memcpy(buf, k->reply + k->reply_off, n);
	k->reply_off += n;
	if (k->reply_off == sizeof(k->reply)) {
		/* the status goes in trailers, which end the stream */
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		const nghttp2_nv trailer[] = {
			{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE},
		};
		if (nghttp2_submit_trailer(h2, id, trailer, 1) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

/* The answer to k: OK with the empty response message, or a trailers-only
 * error (one HEADERS frame that ends the stream). */
static void reply(struct conn *c, struct call *k)
{
	if (k->status == GRPC_OK) {
		const nghttp2_nv hd[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
		memset(k->reply, 0, sizeof(k->reply));
		nghttp2_data_provider dp = {.source.ptr = k, .read_callback = read_reply};
		nghttp2_submit_response(c->h2, k->id, hd, 2, &dp);
		return;
	}
	char code[16];
	snprintf(code, sizeof(code), "%d", k->status);
	/* grpc-message is percent-encoded: ours are printable ASCII without '%' */
	const nghttp2_nv hd[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
				 NV("grpc-status", code), NV("grpc-message", k->message)};
	nghttp2_submit_response(c->h2, k->id, hd, 4, NULL);
}

static int fail(struct call *k, int status, const char *message)
{
	k->status = status;
	k->message = message;
	return 0;
}

/* A call whose request has ended: checked, handed to the capture, judged. */
static int serve(struct conn *c, struct call *k)
{
	if (!k->post || k->signal < 0)
		return fail(k, GRPC_UNIMPLEMENTED,
			    "not an OTLP method: call the collector services' Export");
	if (!k->grpc_type) {
		/* as gRPC's spec says: HTTP 415 for a request that is not gRPC */
		const nghttp2_nv hd[] = {NV(":status", "415"), NV("content-type", "text/plain")};
		k->status = -1;
		nghttp2_submit_response(c->h2, k->id, hd, 2, NULL);
		return 0;
	}
	if (k->encoding < 0)
		return fail(k, GRPC_UNIMPLEMENTED, "grpc-encoding must be identity, gzip or deflate");
	if (k->too_large)
		return fail(k, GRPC_RESOURCE_EXHAUSTED, "request message over 64 MiB");
	/* one length-prefixed message: a compressed flag, 4 bytes of length */
	size_t n = k->len >= 5 ? (size_t)k->body[1] << 24 | (size_t)k->body[2] << 16 |
					 (size_t)k->body[3] << 8 | k->body[4]
			       : 0;
	if (k->len < 5 || n != k->len - 5 || k->body[0] > 1 || (k->body[0] == 1 && !k->encoding))
		return fail(k, GRPC_INVALID_ARGUMENT,
			    "expected one length-prefixed message (a compressed one only with "
			    "grpc-encoding)");
	struct fd_rx_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return fail(k, GRPC_UNAVAILABLE, "out of memory; retry");
	e->signal = k->signal;
	memcpy(e->peer, c->peer, sizeof(e->peer));
	if (k->body[0] == 1) {
		bool big;
		e->data = fd_rx_inflate(k->body + 5, n, &e->len, &big);
		if (!e->data) {
			free(e);
			return big ? fail(k, GRPC_RESOURCE_EXHAUSTED,
					  "request message over 64 MiB once decompressed")
				   : fail(k, GRPC_INVALID_ARGUMENT, "the message does not decompress");
		}
	} else {
		/* the message, without its prefix, is the request */
		memmove(k->body, k->body + 5, n);
		e->data = k->body;
		e->len = n;
		k->body = NULL;
		k->len = k->cap = 0;
	}
	if (fd_rx_hand_over(&c->s->q, e) < 0)
		fail(k, GRPC_UNAVAILABLE, "the recorder is busy or stopping; retry");
	else if (e->malformed)
		fail(k, GRPC_INVALID_ARGUMENT, "malformed export request");
	else
		k->status = GRPC_OK;
	free(e->data);
	free(e);
	return 0;
}

static void answer_ended(struct conn *c)
{
	for (size_t i = 0; i < c->n_ended; i++) {
		struct call *k = nghttp2_session_get_stream_user_data(c->h2, c->ended[i]);
		if (!k)
			continue; /* reset by the client meanwhile */
		serve(c, k);
		if (k->status >= 0)
			reply(c, k);
		/* the reply goes out now, not after the next call's verdict */
		if (nghttp2_session_send(c->h2) != 0)
			break;
	}
	c->n_ended = 0;
}

/* ---- connections ---- */

/* One connection, from its preface until it closes or the source stops;
 * closes c->fd. */
static void serve_connection(struct conn *c)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) == 0) {
		nghttp2_session_callbacks_set_send_callback(cb, on_send);
		nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
		if (nghttp2_session_server_new(&c->h2, cb, c) != 0)
			c->h2 = NULL;
		nghttp2_session_callbacks_del(cb);
	}
	/* windows large enough that a request of a few MB does not wait for
	 * a WINDOW_UPDATE round trip per 64 KiB */
	const nghttp2_settings_entry iv[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 24},
	};
	if (c->h2 && (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
		      nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 1 << 26) != 0 ||
		      nghttp2_session_send(c->h2) != 0)) {
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
	}
	uint8_t buf[65536];
	while (c->h2 && !stopping(c->s) &&
	       (nghttp2_session_want_read(c->h2) || nghttp2_session_want_write(c->h2))) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0)
			break;
		answer_ended(c);
		if (nghttp2_session_send(c->h2) != 0)
			break;
	}
	if (c->h2) {
		/* calls still open are refused, so that their exporter retries
		 * elsewhere or later */
		nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
				      NULL, 0);
		nghttp2_session_send(c->h2);
		nghttp2_session_del(c->h2); /* closes the streams: on_close frees the calls */
	}
	close(c->fd);
	c->fd = -1;
	c->h2 = NULL;
	c->n_ended = 0;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct grpc_source *s = c->s;
	pthread_mutex_lock(&s->conns_lock);
	while (c->fd >= 0) {
		pthread_mutex_unlock(&s->conns_lock);
		serve_connection(c);
		/* wait for the acceptor to hand over the next connection */
		pthread_mutex_lock(&s->conns_lock);
		c->idle = true;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += IDLE_MS / 1000;
		while (c->fd < 0 && !stopping(s) &&
		       pthread_cond_timedwait(&s->handed, &s->conns_lock, &until) == 0)
			;
		c->idle = false;
	}
	c->done = true;
	pthread_mutex_unlock(&s->conns_lock);
	free(c->ended);
	return NULL;
}

/* Joins the finished connection threads (all, when every is true:
 * after stop is set they finish within POLL_MS, or a verdict's wait). */
static void reap(struct grpc_source *s, bool every)
{
	pthread_mutex_lock(&s->conns_lock);
	struct conn **p = &s->conns;
	while (*p) {
		struct conn *c = *p;
		if (!c->done && !every) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		s->n_conns--;
		pthread_mutex_unlock(&s->conns_lock);
		pthread_join(c->thread, NULL);
		free(c);
		pthread_mutex_lock(&s->conns_lock);
	}
	pthread_mutex_unlock(&s->conns_lock);
}

static void *accept_main(void *arg)
{
	struct grpc_source *s = arg;
	while (!stopping(s)) {
		struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept(s->listen_fd, (struct sockaddr *)&sa, &sl);
		if (fd < 0)
			continue;
		/* answers are small: no waiting for more to fill a segment */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		reap(s, false);
		/* a thread waiting between connections takes it */
		pthread_mutex_lock(&s->conns_lock);
		struct conn *c = s->conns;
		while (c && !(c->idle && c->fd < 0))
			c = c->next;
		if (c) {
			c->fd = fd;
			fd_rx_peer_name((struct sockaddr *)&sa, c->peer, sizeof(c->peer));
			pthread_cond_broadcast(&s->handed);
			pthread_mutex_unlock(&s->conns_lock);
			continue;
		}
		pthread_mutex_unlock(&s->conns_lock);
		c = s->n_conns < MAX_CONNECTIONS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		fd_rx_peer_name((struct sockaddr *)&sa, c->peer, sizeof(c->peer));
		pthread_mutex_lock(&s->conns_lock);
		if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
			pthread_mutex_unlock(&s->conns_lock);
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
		pthread_mutex_unlock(&s->conns_lock);
	}
	return NULL;
}

/* ---- the source interface ---- */

static int gs_next(struct fd_source *src, struct fd_source_msg *msg, int timeout_ms,
		   struct fd_error *err)
{
	(void)err;
	struct grpc_source *s = (struct grpc_source *)src;
	struct fd_rx_entry *e = fd_rx_next(&s->q, timeout_ms);
	if (!e)
		return FD_SOURCE_IDLE;
	msg->data = e->data;
	msg->len = e->len;
	msg->signal = e->signal;
	msg->format = FD_OTLP_PROTO;
	msg->time_ns = 0;
	msg->capture_ns = e->received_ns;
	const char *m = methods[e->signal] + 1;
	const char *svc = strrchr(m, '.');
	snprintf(msg->where, sizeof(msg->where), "call %llu (%s from %s)", (unsigned long long)e->seq,
		 svc ? svc + 1 : m, e->peer[0] ? e->peer : "?");
	return 1;
}

static void gs_done(struct fd_source *src, const struct fd_source_msg *msg, int records,
		    int64_t max_time, bool malformed)
{
	(void)msg, (void)max_time;
	fd_rx_done(&((struct grpc_source *)src)->q, records, malformed);
}

static const Firedrill__V1__RecordSource *gs_metadata(struct fd_source *src)
{
	return &((struct grpc_source *)src)->meta;
}

static void gs_destroy(struct fd_source *src)
{
	struct grpc_source *s = (struct grpc_source *)src;
	/* calls waiting for a verdict are refused (UNAVAILABLE), then the
	 * threads end */
	fd_rx_close(&s->q);
	pthread_mutex_lock(&s->conns_lock);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->handed); /* threads between connections end */
	pthread_mutex_unlock(&s->conns_lock);
	if (s->acceptor_running)
		pthread_join(s->acceptor, NULL);
	reap(s, true);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	fd_rx_queue_finish(&s->q);
	pthread_cond_destroy(&s->handed);
	pthread_mutex_destroy(&s->conns_lock);
	free(s->uri);
	free(s);
}

static const struct fd_source_impl grpc_impl = {
	.name = "otlp-grpc",
	.next = gs_next,
	.done = gs_done,
	.metadata = gs_metadata,
	.destroy = gs_destroy,
};

static int grpc_open(const char *uri, const char *rest, const struct fd_source_context *o,
		     struct fd_source **out, struct fd_error *err)
{
	*out = NULL;
	struct sockaddr_in sa;
	int rc = fd_rx_address(uri, rest, "otlp-grpc", "4317", &sa, err);
	if (rc < 0)
		return rc;
	struct grpc_source *s = calloc(1, sizeof(*s));
	if (!s || !(s->uri = strdup(uri))) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->base.impl = &grpc_impl;
	s->listen_fd = -1;
	fd_rx_queue_init(&s->q);
	pthread_mutex_init(&s->conns_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->handed, &ca);
	pthread_condattr_destroy(&ca);
	firedrill__v1__record_source__init(&s->meta);
	s->meta.uri = s->uri;
	s->meta.format = (char *)"otlp_grpc";
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
	int one = 1;
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->listen_fd, 64) < 0) {
		rc = fd_error_set(err, FD_ERUNTIME,
				  "source '%s': cannot listen on %s:%u (in use, or not an address "
				  "of this machine?)",
				  uri, a, (unsigned)ntohs(sa.sin_port));
		gs_destroy(&s->base);
		return rc;
	}
	struct sockaddr_in bound;
	socklen_t bl = sizeof(bound);
	s->port = getsockname(s->listen_fd, (struct sockaddr *)&bound, &bl) == 0
			  ? ntohs(bound.sin_port)
			  : ntohs(sa.sin_port);
	if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
		rc = fd_error_set(err, FD_ERUNTIME, "source '%s': cannot start a thread", uri);
		gs_destroy(&s->base);
		return rc;
	}
	s->acceptor_running = true;
	if (o && o->notice) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "receiving OTLP/gRPC on %s:%u (the collector services' Export, h2c)", a,
			 s->port);
		o->notice(o->notice_ctx, msg);
	}
	*out = &s->base;
	return 0;
}

static const char *const no_options[] = {NULL};

const struct fd_source_descriptor fd_source_otlp_grpc_descriptor = {
	.scheme = "otlp-grpc",
	.synopsis = "otlp-grpc://HOST:PORT",
	.summary = "listen as an OTLP/gRPC receiver (HOST empty: every interface; PORT 0: any)",
	.options = no_options,
	.help = "      the collector services' Export over cleartext HTTP/2; gzip;\n"
		"      without a stop option, records until Ctrl-C\n",
	.open = grpc_open,
};
