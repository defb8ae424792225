#include "sinks/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "common/timefmt.h"
#include "common/units.h"
#include "fd_config.h"

/* ---- options ---- */


void fd_http_options_init(struct fd_http_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ns = 10000000000LL;
	o->concurrency = 4;
	o->retry_initial_ns = 1000000000LL;
	o->retry_max_ns = 30000000000LL;
	o->retry_elapsed_ns = 300000000000LL;
	o->max_retries = -1;
}

void fd_http_options_finish(struct fd_http_options *o)
{
	curl_slist_free_all(o->headers);
	free(o->user);
	free(o->password);
	free(o->ca);
	free(o->cert);
	free(o->key);
	memset(o, 0, sizeof(*o));
}

static int bad(const char *uri, const char *key, const char *val, const char *why,
	       struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

static int set_string(char **dst, const char *val, struct fd_error *err)
{
	char *s = strdup(val);
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	free(*dst);
	*dst = s;
	return 1;
}

/* NAME:VALUE with NAME an HTTP token; the value is never quoted back. */
static int add_header(struct fd_http_options *o, const char *uri, const char *val,
		      struct fd_error *err)
{
	const char *colon = strchr(val, ':');
	size_t n = colon ? (size_t)(colon - val) : 0;
	static const char token[] = "!#$%&'*+-.^_`|~0123456789"
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	if (!colon || n == 0 || strspn(val, token) != n)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': option 'header': expected NAME:VALUE with NAME a "
				    "header name, e.g. header=X-Scope-OrgID:tenant1",
				    uri);
	for (const char *p = colon + 1; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return fd_error_set(err, FD_EINPUT,
					    "sink '%s': option 'header': the value of %.*s has a "
					    "control character",
					    uri, (int)n, val);
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	size_t len = n + 2 + strlen(v) + 1;
	char *line = malloc(len);
	if (!line)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	/* "Name;" is libcurl's way to send a header with an empty value */
	if (*v)
		snprintf(line, len, "%.*s: %s", (int)n, val, v);
	else
		snprintf(line, len, "%.*s;", (int)n, val);
	struct curl_slist *h = curl_slist_append(o->headers, line);
	free(line);
	if (!h)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	o->headers = h;
	return 1;
}

static int set_duration(int64_t *dst, const char *uri, const char *key, const char *val,
			int64_t min, struct fd_error *err)
{
	const char *why = NULL;
	int64_t ns;
	if (fd_units_duration(val, &ns, &why) < 0)
		return bad(uri, key, val, why, err);
	if (ns < min)
		return bad(uri, key, val, min >= 1000000 ? "must be at least 1ms" : "must not be negative",
			   err);
	*dst = ns;
	return 1;
}

int fd_http_option(struct fd_http_options *o, const char *uri, const char *key, const char *val,
		   struct fd_error *err)
{
	if (!strcmp(key, "header"))
		return add_header(o, uri, val, err);
	if (!strcmp(key, "user"))
		return set_string(&o->user, val, err);
	if (!strcmp(key, "password"))
		return set_string(&o->password, val, err);
	if (!strcmp(key, "ca"))
		return set_string(&o->ca, val, err);
	if (!strcmp(key, "cert"))
		return set_string(&o->cert, val, err);
	if (!strcmp(key, "key"))
		return set_string(&o->key, val, err);
	if (!strcmp(key, "insecure")) {
		if (!strcmp(val, "true"))
			o->insecure = true;
		else if (!strcmp(val, "false"))
			o->insecure = false;
		else
			return bad(uri, key, val, "expected true or false", err);
		return 1;
	}
	if (!strcmp(key, "timeout"))
		return set_duration(&o->timeout_ns, uri, key, val, 1000000, err);
	if (!strcmp(key, "concurrency")) {
		const char *why = NULL;
		long long n;
		if (fd_units_integer(val, 1, 256, &n, &why) < 0)
			return bad(uri, key, val, why, err);
		o->concurrency = (unsigned)n;
		return 1;
	}
	if (!strcmp(key, "retry_initial"))
		return set_duration(&o->retry_initial_ns, uri, key, val, 1000000, err);
	if (!strcmp(key, "retry_max"))
		return set_duration(&o->retry_max_ns, uri, key, val, 1000000, err);
	if (!strcmp(key, "retry_elapsed"))
		return set_duration(&o->retry_elapsed_ns, uri, key, val, 0, err);
	return 0;
}

void fd_http_apply(const struct fd_http_options *o, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_USERAGENT, "firedrill/" FD_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ns / 1000000));
	if (o->user || o->password) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, o->user ? o->user : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca);
	if (o->cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert);
	if (o->key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* ---- gzip ---- */

int fd_http_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper; level 1: the request is sent once, so the
	 * fastest level's ratio (about 8x on OTLP) is worth more than a few
	 * percent more at several times the CPU */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	uLong cap = deflateBound(&z, (uLong)len);
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END || len > UINT32_MAX) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = z.total_out;
	return 0;
}

/* ---- the pool ---- */

struct req {
	uint8_t *body;
	size_t len;
	const char *url;
	const struct curl_slist *headers;
	uint64_t tag;
	unsigned attempts;
	int64_t first_ns, next_ns, backoff_ns;
	int64_t attempt_ns; /* when the attempt in flight started */
	char why[600]; /* the last attempt's failure */
	struct req *next;
};

struct slot {
	CURL *h;
	struct req *r; /* NULL: free */
	char *resp;    /* max + 1 bytes */
	size_t resp_len, max;
	int64_t retry_after_ns; /* -1: none */
	char errbuf[CURL_ERROR_SIZE];
	/* gRPC's status, from the headers or the trailers (libcurl hands
	 * HTTP/2 trailers to the header callback) */
	int grpc_status;
	char grpc_message[512];
	uint8_t grpc_details[2048];
	size_t grpc_details_len;
	bool fresh; /* h2c: a new connection per request (fd_http_pool_grpc) */
};

struct fd_http_pool {
	const struct fd_http_options *o;
	fd_http_done_fn done;
	void *ctx;
	struct fd_sink *live; /* its live statistics; NULL: none */

	CURLM *multi;
	struct slot *slots;
	unsigned n_slots;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;  /* outstanding went down, or the pool stopped */
	struct req *queue, *queue_tail; /* submitted, not started */
	struct req *waiting;            /* to be retried at their next_ns */
	unsigned outstanding;
	bool stopping;            /* destroy: the thread ends */
	fd_http_classify_fn classify;
	struct fd_error stop_err; /* a done callback stopped the pool */
	struct fd_http_pool_stats stats;
	uint64_t rng;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Keeps the first max bytes of an answer; the rest is read and dropped. */
static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct slot *s = ctx;
	size_t k = size * n, room = s->max - s->resp_len;
	size_t take = k < room ? k : room;
	memcpy(s->resp + s->resp_len, data, take);
	s->resp_len += take;
	s->resp[s->resp_len] = '\0';
	return k;
}

/* A header's value without surrounding blanks, into out (truncated). */
static size_t header_value(const char *p, size_t k, size_t name_len, char *out, size_t n)
{
	size_t a = name_len, b = k;
	while (a < b && (p[a] == ' ' || p[a] == '\t'))
		a++;
	while (b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' '))
		b--;
	size_t len = b - a < n - 1 ? b - a : n - 1;
	memcpy(out, p + a, len);
	out[len] = '\0';
	return len;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* grpc-message is percent-encoded (gRPC over HTTP/2, "Responses"). */
static void percent_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
			*o++ = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* Base64 as gRPC's -bin headers carry it (padding optional). */
static size_t base64_decode(const char *in, uint8_t *out, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (const char *p = in; *p && o < n; p++) {
		const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *c = strchr(abc, *p);
		if (!c || *p == '\0') {
			if (*p == '-' || *p == '_')
				c = abc + (*p == '-' ? 62 : 63);
			else
				continue; /* '=' and anything else */
		}
		acc = acc << 6 | (uint32_t)(c - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

static void grpc_header(struct slot *s, const char *p, size_t k)
{
	char v[2800];
	if (k > 12 && !strncasecmp(p, "grpc-status:", 12)) {
		header_value(p, k, 12, v, sizeof(v));
		s->grpc_status = atoi(v);
	} else if (k > 13 && !strncasecmp(p, "grpc-message:", 13)) {
		header_value(p, k, 13, s->grpc_message, sizeof(s->grpc_message));
		percent_decode(s->grpc_message);
	} else if (k > 24 && !strncasecmp(p, "grpc-status-details-bin:", 24)) {
		header_value(p, k, 24, v, sizeof(v));
		s->grpc_details_len = base64_decode(v, s->grpc_details, sizeof(s->grpc_details));
	}
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct slot *s = ctx;
	size_t k = size * n;
	if (k > 5 && !strncasecmp(p, "grpc-", 5)) {
		grpc_header(s, p, k);
		return k;
	}
	if (k <= 12 || strncasecmp(p, "Retry-After:", 12) != 0)
		return k;
	char v[128];
	size_t vn = k - 12 < sizeof(v) - 1 ? k - 12 : sizeof(v) - 1;
	memcpy(v, p + 12, vn);
	v[vn] = '\0';
	char *b = v;
	while (*b == ' ' || *b == '\t')
		b++;
	for (char *e = b + strlen(b); e > b && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ');)
		*--e = '\0';
	long long sec = -1;
	if (*b && strspn(b, "0123456789") == strlen(b)) {
		sec = strlen(b) > 6 ? 86400 : strtoll(b, NULL, 10);
	} else {
		time_t t = curl_getdate(b, NULL);
		if (t != -1) {
			time_t now = time(NULL);
			sec = t > now ? (long long)(t - now) : 0;
		}
	}
	if (sec >= 0)
		s->retry_after_ns = (sec > 86400 ? 86400 : sec) * 1000000000LL;
	return k;
}

struct fd_http_pool *fd_http_pool_create(const struct fd_http_options *o, size_t max_body,
					 fd_http_done_fn done, void *ctx, struct fd_sink *live)
{
	struct fd_http_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->o = o;
	p->done = done;
	p->ctx = ctx;
	p->live = live;
	p->rng = (uint64_t)mono_ns() | 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->n_slots = o->concurrency ? o->concurrency : 1;
	p->slots = calloc(p->n_slots, sizeof(*p->slots));
	p->multi = curl_multi_init();
	if (!p->slots || !p->multi)
		goto fail;
	for (unsigned i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slots[i];
		s->max = max_body;
		if (!(s->resp = malloc(max_body + 1)) || !(s->h = curl_easy_init()))
			goto fail;
		fd_http_apply(o, s->h);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
		curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	}
	return p;
fail:
	fd_http_pool_destroy(p);
	return NULL;
}

static void start(struct fd_http_pool *p, struct slot *s, struct req *r)
{
	s->r = r;
	s->resp_len = 0;
	s->resp[0] = '\0';
	s->errbuf[0] = '\0';
	s->retry_after_ns = -1;
	s->grpc_status = -1;
	s->grpc_message[0] = '\0';
	s->grpc_details_len = 0;
	r->attempts++;
	r->attempt_ns = mono_ns();
	p->stats.attempts++;
	p->stats.bytes += r->len;
	if (r->attempts > 1)
		p->stats.retries++;
	if (p->live) {
		fd_sink_live_add(&p->live->live.inflight_bytes, (int64_t)r->len);
		if (r->attempts > 1)
			atomic_fetch_add_explicit(&p->live->live.retries, 1, memory_order_relaxed);
	}
	curl_easy_setopt(s->h, CURLOPT_URL, r->url);
	if (s->fresh)
		curl_easy_setopt(s->h, CURLOPT_FORBID_REUSE, (long)!strncmp(r->url, "http:", 5));
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	curl_multi_add_handle(p->multi, s->h);
}

/* An attempt in flight ended (answered or not). */
static void attempt_ended(struct fd_http_pool *p, const struct req *r)
{
	if (p->live)
		fd_sink_live_add(&p->live->live.inflight_bytes, -(int64_t)r->len);
}

/* The request's one outcome; frees it. Lock held. */
static void finish(struct fd_http_pool *p, struct req *r, long status, int grpc_status,
		   const char *body, size_t body_len, const char *why, bool cancelled)
{
	struct fd_http_outcome o = {.status = status, .grpc_status = grpc_status,
				    .body = body ? body : "",
				    .body_len = body ? body_len : 0, .why = why,
				    .attempts = r->attempts, .cancelled = cancelled,
				    .interrupted = why && !strncmp(why, "interrupted", 11)};
	if (p->live && why)
		atomic_fetch_add_explicit(&p->live->live.errors, 1, memory_order_relaxed);
	struct fd_error e = {0};
	if (p->done(p->ctx, r->tag, &o, &e) < 0 && !p->stop_err.code)
		p->stop_err = e.code ? e : (struct fd_error){.code = FD_ERUNTIME, .msg = "stopped"};
	free(r->body);
	free(r);
	p->outstanding--;
	pthread_cond_broadcast(&p->cond);
}

static void cancel_all(struct fd_http_pool *p, const char *reason)
{
	char why[700];
	snprintf(why, sizeof(why), "cancelled: %s", reason);
	for (unsigned i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slots[i];
		if (!s->r)
			continue;
		curl_multi_remove_handle(p->multi, s->h);
		struct req *r = s->r;
		s->r = NULL;
		attempt_ended(p, r);
		finish(p, r, 0, -1, NULL, 0, why, true);
	}
	for (struct req **list = &p->queue; list; list = list == &p->queue ? &p->waiting : NULL)
		while (*list) {
			struct req *r = *list;
			*list = r->next;
			finish(p, r, 0, -1, NULL, 0, why, true);
		}
	p->queue_tail = NULL;
}

static uint64_t next_random(struct fd_http_pool *p)
{
	uint64_t x = p->rng; /* xorshift64 */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return p->rng = x;
}

/* The first line of an answer's body, for messages. */
static void first_line(char *out, size_t n, const char *body)
{
	size_t k = strcspn(body, "\r\n");
	snprintf(out, n, "%.*s", (int)(k > 300 ? 300 : k), k ? body : "(empty body)");
}

static bool stop_requested(const struct fd_http_pool *p)
{
	return p->o->stop && *p->o->stop;
}

/* A transfer ended: done, or wait and retry, or give up. Lock held. */
static void ended(struct fd_http_pool *p, struct slot *s, CURLcode cc)
{
	struct req *r = s->r;
	s->r = NULL;
	curl_multi_remove_handle(p->multi, s->h);
	attempt_ended(p, r);
	int64_t attempt_took = mono_ns() - r->attempt_ns;
	long status = 0;
	bool retry;
	if (cc == CURLE_OK && p->classify) {
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
		struct fd_http_answer a = {.status = status, .body = s->resp, .body_len = s->resp_len,
					   .grpc_status = s->grpc_status,
					   .grpc_message = s->grpc_message,
					   .grpc_details = s->grpc_details,
					   .grpc_details_len = s->grpc_details_len};
		int64_t delay = -1;
		enum fd_http_verdict v = p->classify(&a, &delay, r->why, sizeof(r->why));
		if (cc == CURLE_OK && p->live)
			fd_sink_live_send(p->live, attempt_took);
		if (v == FD_HTTP_ACCEPTED) {
			finish(p, r, status, s->grpc_status, s->resp, s->resp_len, NULL, false);
			return;
		}
		retry = v == FD_HTTP_RETRY;
		if (retry && delay >= 0)
			s->retry_after_ns = delay;
	} else if (cc == CURLE_OK) {
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
		if (p->live)
			fd_sink_live_send(p->live, attempt_took);
		if (status >= 200 && status < 300) {
			finish(p, r, status, -1, s->resp, s->resp_len, NULL, false);
			return;
		}
		char line[320];
		first_line(line, sizeof(line), s->resp);
		snprintf(r->why, sizeof(r->why), "HTTP %ld: %s", status, line);
		retry = status == 429 || status == 502 || status == 503 || status == 504;
	} else {
		snprintf(r->why, sizeof(r->why), "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
		retry = true;
	}
	if (!retry) {
		finish(p, r, status, s->grpc_status, s->resp, s->resp_len, r->why, false);
		return;
	}
	if (stop_requested(p)) {
		char why[700];
		snprintf(why, sizeof(why), "interrupted: not retried: %s", r->why);
		finish(p, r, status, s->grpc_status, s->resp, s->resp_len, why, false);
		return;
	}
	int64_t now = mono_ns(), delay;
	if (s->retry_after_ns >= 0) {
		delay = s->retry_after_ns;
	} else {
		if (r->backoff_ns == 0)
			r->backoff_ns = p->o->retry_initial_ns;
		/* jitter: between half and all of the backoff, so that many
		 * clients turned away at once do not come back at once */
		uint64_t half = (uint64_t)r->backoff_ns / 2;
		delay = (int64_t)(half + (half ? next_random(p) % (half + 1) : 0));
		r->backoff_ns = r->backoff_ns > p->o->retry_max_ns / 2 ? p->o->retry_max_ns
								       : r->backoff_ns * 2;
	}
	if (now + delay - r->first_ns > p->o->retry_elapsed_ns ||
	    (p->o->max_retries >= 0 && r->attempts > (unsigned long)p->o->max_retries)) {
		char why[700], took[32];
		fd_format_duration(took, sizeof(took), now - r->first_ns);
		snprintf(why, sizeof(why), "gave up after %u attempt%s in %s: %s", r->attempts,
			 r->attempts == 1 ? "" : "s", took, r->why);
		finish(p, r, status, s->grpc_status, s->resp, s->resp_len, why, false);
		return;
	}
	r->next_ns = now + delay;
	r->next = p->waiting;
	p->waiting = r;
}

/* The stop flag is set: what waits for a retry is given up. Lock held. */
static void give_up_waiting(struct fd_http_pool *p)
{
	while (p->waiting) {
		struct req *r = p->waiting;
		p->waiting = r->next;
		char why[700];
		snprintf(why, sizeof(why), "interrupted: not retried: %s", r->why);
		finish(p, r, 0, -1, NULL, 0, why, false);
	}
}

/* Starts what can start: retries that are due first (they are older),
 * then new requests. Returns how long until the next retry is due (ns;
 * INT64_MAX: none waiting). Lock held. */
static int64_t schedule(struct fd_http_pool *p)
{
	int64_t now = mono_ns(), next = INT64_MAX;
	for (unsigned i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slots[i];
		if (s->r)
			continue;
		struct req **due = NULL;
		for (struct req **w = &p->waiting; *w; w = &(*w)->next)
			if ((*w)->next_ns <= now && (!due || (*w)->first_ns < (*due)->first_ns))
				due = w;
		struct req *r = NULL;
		if (due) {
			r = *due;
			*due = r->next;
		} else if (p->queue) {
			r = p->queue;
			p->queue = r->next;
			if (!p->queue)
				p->queue_tail = NULL;
			r->first_ns = now;
		}
		if (!r)
			break;
		r->next = NULL;
		start(p, s, r);
	}
	for (struct req *w = p->waiting; w; w = w->next)
		if (w->next_ns - now < next)
			next = w->next_ns - now;
	return next;
}

static void *io_main(void *arg)
{
	struct fd_http_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		if (stop_requested(p))
			give_up_waiting(p);
		int64_t wait = schedule(p);
		/* a signal handler cannot wake the poll: look at the flag often
		 * while requests wait for a retry */
		int64_t cap = p->o->stop && p->waiting ? 100000000 : 1000000000;
		pthread_mutex_unlock(&p->lock);
		int ms = wait == INT64_MAX || wait > cap ? (int)(cap / 1000000) : (int)(wait / 1000000) + 1;
		curl_multi_poll(p->multi, NULL, 0, ms, NULL);
		int running;
		curl_multi_perform(p->multi, &running);
		pthread_mutex_lock(&p->lock);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(p->multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				struct slot *s = NULL;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
				if (s && s->r)
					ended(p, s, m->data.result);
			}
		if (p->stop_err.code)
			cancel_all(p, p->stop_err.msg);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void fd_http_pool_classify(struct fd_http_pool *p, fd_http_classify_fn classify)
{
	p->classify = classify;
}

void fd_http_pool_grpc(struct fd_http_pool *p, fd_http_classify_fn classify)
{
	p->classify = classify;
	/* libcurl before 8.0 breaks a prior-knowledge HTTP/2 connection it
	 * reuses ("Error in the HTTP2 framing layer" on the second request:
	 * curl issue 10634, fixed by pull request 10643 after 7.88.1, which
	 * Debian 12 ships): with such a libcurl each call over plain http://
	 * gets a connection of its own, and calls are not multiplexed. */
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	bool old = v && v->version_num < 0x080000;
	if (old) /* nor may a call join a connection in use: no multiplexing */
		curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	for (unsigned i = 0; i < p->n_slots; i++) {
		curl_easy_setopt(p->slots[i].h, CURLOPT_HTTP_VERSION,
				 (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		p->slots[i].fresh = old;
	}
}

int fd_http_pool_submit(struct fd_http_pool *p, const char *url, const struct curl_slist *headers,
			uint8_t *body, size_t len, uint64_t tag, struct fd_error *err)
{
	struct req *r = calloc(1, sizeof(*r));
	if (!r) {
		free(body);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	*r = (struct req){.body = body, .len = len, .url = url, .headers = headers, .tag = tag};
	pthread_mutex_lock(&p->lock);
	if (!p->started && !p->stop_err.code) {
		/* the thread starts with the first request: a sink opened and
		 * never written to (a bad command line, the URI fuzzer) costs
		 * nothing */
		if (pthread_create(&p->thread, NULL, io_main, p) != 0)
			fd_error_set(&p->stop_err, FD_ERUNTIME, "cannot start a thread");
		else
			p->started = true;
	}
	while (!p->stop_err.code && p->outstanding >= p->n_slots)
		pthread_cond_wait(&p->cond, &p->lock);
	if (p->stop_err.code) {
		if (err)
			*err = p->stop_err;
		int rc = -p->stop_err.code;
		pthread_mutex_unlock(&p->lock);
		free(body);
		free(r);
		return rc;
	}
	if (p->queue_tail)
		p->queue_tail->next = r;
	else
		p->queue = r;
	p->queue_tail = r;
	p->outstanding++;
	p->stats.requests++;
	pthread_mutex_unlock(&p->lock);
	curl_multi_wakeup(p->multi);
	return 0;
}

bool fd_http_pool_full(struct fd_http_pool *p)
{
	pthread_mutex_lock(&p->lock);
	bool full = p->outstanding >= p->n_slots;
	pthread_mutex_unlock(&p->lock);
	return full;
}

int fd_http_pool_drain(struct fd_http_pool *p, struct fd_error *err)
{
	pthread_mutex_lock(&p->lock);
	while (p->outstanding > 0)
		pthread_cond_wait(&p->cond, &p->lock);
	int rc = 0;
	if (p->stop_err.code) {
		if (err)
			*err = p->stop_err;
		rc = -p->stop_err.code;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void fd_http_pool_stats(struct fd_http_pool *p, struct fd_http_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->stats;
	pthread_mutex_unlock(&p->lock);
}

void fd_http_pool_destroy(struct fd_http_pool *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stopping = true;
		pthread_mutex_unlock(&p->lock);
		curl_multi_wakeup(p->multi);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_lock(&p->lock);
	if (p->slots && p->multi)
		cancel_all(p, "the sink was closed before the request ended");
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; p->slots && i < p->n_slots; i++) {
		if (p->slots[i].h)
			curl_easy_cleanup(p->slots[i].h);
		free(p->slots[i].resp);
	}
	free(p->slots);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
