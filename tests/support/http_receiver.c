#include "tests/support/http_receiver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define MAX_SCRIPT 256
#define MAX_BODY (256u << 20)

struct hrcv {
	struct MHD_Daemon *d;
	unsigned port;
	hrcv_fn fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a request arrived, was held or released */
	bool released;
	int held;
	struct rcv_answer script[MAX_SCRIPT];
	int n_script, next_script;
	uint64_t requests;
};

struct upload {
	uint8_t *data;
	size_t len, cap;
};

static uint8_t *gunzip(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return NULL;
	size_t cap = n * 4 + 1024;
	uint8_t *out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	int rc;
	do {
		if (cap - z.total_out < 65536) {
			cap *= 2;
			out = realloc(out, cap);
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	} while (rc == Z_OK);
	*out_len = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
			      const void *body, size_t len, int retry_after)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type ? type : "text/plain");
	if (retry_after > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%d", retry_after);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

const char *hrcv_header(const struct hrcv_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	(void)version;
	struct hrcv *r = cls;
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = calloc(1, sizeof(struct upload));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		if (u->len + *data_size <= MAX_BODY) {
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
	pthread_mutex_lock(&r->lock);
	r->requests++;
	struct rcv_answer a = {0};
	if (r->next_script < r->n_script)
		a = r->script[r->next_script++];
	if (a.hold && !r->released) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		r->held++;
		pthread_cond_broadcast(&r->changed);
		while (!r->released && pthread_cond_timedwait(&r->changed, &r->lock, &until) == 0)
			;
		r->held--;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	if (a.delay_ms)
		sleep_ms(a.delay_ms);
	if (a.reset)
		return MHD_NO; /* libmicrohttpd closes the connection, no answer */
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	struct hrcv_request req = {.url = url, .method = method, .body = u->data, .len = u->len,
				   .body_ok = true, .rejected = a.rejected, .conn = c};
	req.keep = a.status == 0 || (a.status >= 200 && a.status < 300);
	uint8_t *plain = NULL;
	if (enc && !strcmp(enc, "gzip")) {
		req.gzip = true;
		plain = gunzip(u->data, u->len, &req.len);
		req.body = plain;
		req.body_ok = plain != NULL;
		if (!plain)
			req.len = 0;
	}
	if (!req.body)
		req.body = (const uint8_t *)"";
	struct hrcv_response *resp = calloc(1, sizeof(*resp));
	pthread_mutex_lock(&r->lock);
	r->fn(r->ctx, &req, resp);
	pthread_mutex_unlock(&r->lock);
	free(plain);
	enum MHD_Result rc;
	if (!req.keep) {
		const char *b = a.body ? a.body : "scripted failure";
		rc = answer(c, (unsigned)a.status, "text/plain", b, strlen(b), a.retry_after);
	} else {
		rc = answer(c, (unsigned)(resp->status ? resp->status : 200), resp->type, resp->body,
			    resp->len, a.retry_after);
	}
	free(resp);
	return rc;
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

struct hrcv *hrcv_start(hrcv_fn fn, void *ctx)
{
	struct hrcv *r = calloc(1, sizeof(*r));
	r->fn = fn;
	r->ctx = ctx;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
				NULL, NULL, on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, r, MHD_OPTION_END);
	if (!r->d) {
		pthread_cond_destroy(&r->changed);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = di ? di->port : 0;
	return r;
}

unsigned hrcv_port(const struct hrcv *r)
{
	return r->port;
}

void hrcv_script(struct hrcv *r, const struct rcv_answer *a, int n)
{
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < n && r->n_script < MAX_SCRIPT; i++)
		r->script[r->n_script++] = a[i];
	pthread_mutex_unlock(&r->lock);
}

uint64_t hrcv_requests(struct hrcv *r)
{
	pthread_mutex_lock(&r->lock);
	uint64_t n = r->requests;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void hrcv_locked(struct hrcv *r, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&r->lock);
	fn(ctx);
	pthread_mutex_unlock(&r->lock);
}

/* Waits (the lock held) until done(r, arg) or 60 s have passed. */
static bool wait_for(struct hrcv *r, bool (*done)(struct hrcv *, uint64_t), uint64_t arg)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	int e = 0;
	while (!done(r, arg) && e == 0)
		e = pthread_cond_timedwait(&r->changed, &r->lock, &until);
	return done(r, arg);
}

static bool some_held(struct hrcv *r, uint64_t n)
{
	(void)n;
	return r->held > 0;
}

static bool arrived(struct hrcv *r, uint64_t n)
{
	return r->requests >= n;
}

bool hrcv_wait_held(struct hrcv *r)
{
	pthread_mutex_lock(&r->lock);
	bool ok = wait_for(r, some_held, 0);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

bool hrcv_held(struct hrcv *r)
{
	pthread_mutex_lock(&r->lock);
	bool held = r->held > 0;
	pthread_mutex_unlock(&r->lock);
	return held;
}

void hrcv_release(struct hrcv *r)
{
	pthread_mutex_lock(&r->lock);
	r->released = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

bool hrcv_wait_requests(struct hrcv *r, uint64_t n)
{
	pthread_mutex_lock(&r->lock);
	bool ok = wait_for(r, arrived, n);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

void hrcv_stop(struct hrcv *r)
{
	if (!r)
		return;
	hrcv_release(r);
	MHD_stop_daemon(r->d);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
