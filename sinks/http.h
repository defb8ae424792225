/*
 * What the sinks that POST to a receiver share (otlp-http://, es://,
 * loki://, prom-rw:): their connection options, and a pool of requests in
 * flight with the retry policy of the OTLP specification.
 *
 * Options (URI query; each sink lists fd_http_option_names among its own):
 *   header=NAME:VALUE   an extra request header; repeatable (Authorization,
 *                       X-Scope-OrgID, API keys). Values never appear in
 *                       messages: fd_sink_open hands sinks their URI
 *                       redacted (common/redact.h).
 *   user= password=     HTTP basic authentication.
 *   ca=PATH             CA bundle to verify the server with.
 *   cert=PATH key=PATH  client certificate and key (PEM).
 *   insecure=true       do not verify the server's certificate or name.
 *   timeout=D           one attempt's limit, connection included (10s).
 *   concurrency=N       requests in flight at once (4), so that a remote
 *                       receiver's round trip does not bound throughput.
 *   retry_initial=D retry_max=D retry_elapsed=D   backoff: the first wait
 *                       (1s), the longest (30s), and how long a request may
 *                       be retried in all (5m; 0 = never retried), as the
 *                       collector's retry_on_failure.
 * (prom-rw: also bounds the number of retries, its retries=.)
 *
 * The pool (fd_http_pool): the caller thread hands over request bodies;
 * one I/O thread drives libcurl's multi interface, at most `concurrency`
 * requests outstanding (in flight or waiting to be retried; a further
 * submit waits for one to end, which bounds memory). Connection failures,
 * timeouts and HTTP 429, 502, 503 and 504 are retried after an exponential
 * backoff with jitter (the wait doubles from retry_initial up to
 * retry_max, each wait drawn between half and all of it), or after the
 * answer's Retry-After when it has one; any other answer is final. Once
 * the stop flag (the context's: SIGINT) is set nothing is retried and the
 * requests waiting for a retry are given up at once, while a request never
 * sent still gets its one attempt: a user who asks to stop does not wait
 * out minutes of backoff for a receiver that is down. Every request gets
 * exactly one outcome through the done callback: its final answer, or
 * that it was given up, interrupted or cancelled. The pool publishes the
 * sink's live statistics (sinks/sink.h): bytes in flight, each answered
 * attempt's duration, retries, and requests lost for good.
 */
#ifndef FD_SINK_HTTP_H
#define FD_SINK_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/error.h"
#include "sinks/sink.h"

struct fd_http_options {
	struct curl_slist *headers; /* header= values, "NAME: VALUE" */
	char *user, *password;
	char *ca, *cert, *key;
	bool insecure;
	int64_t timeout_ns;
	unsigned concurrency;
	int64_t retry_initial_ns, retry_max_ns, retry_elapsed_ns;
	long max_retries; /* -1 (the default): only retry_elapsed bounds them */
	/* The context's stop flag (fd_sink_context.stop); NULL: never set. */
	const volatile sig_atomic_t *stop;
};

/* The names above, for a sink's list of option names (its descriptor's). */
#define FD_HTTP_OPTION_NAMES                                                                    \
	"header", "user", "password", "ca", "cert", "key", "insecure", "timeout", "concurrency", \
		"retry_initial", "retry_max", "retry_elapsed"
#define FD_HTTP_OPTION_COUNT 12

/* Defaults as above. */
void fd_http_options_init(struct fd_http_options *o);
void fd_http_options_finish(struct fd_http_options *o);

/* Applies key=val when key is one of fd_http_option_names: returns 1, or
 * -FD_EINPUT for a bad value (the message names uri, which should be the
 * redacted URI, and never quotes a header's or password's value). Returns
 * 0 for a key that is not ours. */
int fd_http_option(struct fd_http_options *o, const char *uri, const char *key, const char *val,
		   struct fd_error *err);

/* Sets TLS, authentication and the timeout on an easy handle. */
void fd_http_apply(const struct fd_http_options *o, CURL *h);

/* gzip (RFC 1952) of in[0..len) into a malloc'd *out. Returns 0, or -1
 * when out of memory. */
int fd_http_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* ---- the pool ---- */

struct fd_http_outcome {
	long status;      /* HTTP status of the last answer; 0 when there was none */
	int grpc_status;  /* its grpc-status; -1 when it had none */
	const char *body; /* its body, the first max_body bytes, NUL-terminated */
	size_t body_len;
	/* Why the request did not succeed: "HTTP 400: <body's first line>",
	 * a connection error, "gave up after 5 attempts in 5m0s: ...",
	 * "interrupted: not retried: ...", "cancelled: ..."; NULL for an
	 * accepted answer. */
	const char *why;
	unsigned attempts;
	bool cancelled; /* never finished: the pool stopped first */
	bool interrupted; /* not retried: the stop flag was set */
};

/* The final outcome of the request submitted with tag. Called from the I/O
 * thread with the pool's lock held (or from fd_http_pool_destroy), one
 * request at a time. A negative return (err set) stops the pool: the
 * requests still outstanding are cancelled and submit and drain return
 * the error (a receiver answering 401 will answer every request so). */
typedef int (*fd_http_done_fn)(void *ctx, uint64_t tag, const struct fd_http_outcome *o,
			       struct fd_error *err);

struct fd_http_pool_stats {
	uint64_t requests; /* submitted */
	uint64_t attempts; /* requests sent, retries included */
	uint64_t retries;
	uint64_t bytes; /* request bodies sent, retries included */
};

struct fd_http_pool;

/* o is borrowed and must outlive the pool. max_body: how much of each
 * answer's body to keep for done. live: the sink whose live statistics
 * the pool keeps (NULL: none). Returns NULL when out of memory. */
struct fd_http_pool *fd_http_pool_create(const struct fd_http_options *o, size_t max_body,
					 fd_http_done_fn done, void *ctx, struct fd_sink *live);

/* ---- gRPC: HTTP/2 and answers judged by their trailers ---- */

/* What an answer said, for a classify callback. */
struct fd_http_answer {
	long status;
	const char *body;
	size_t body_len;
	int grpc_status;          /* -1: no grpc-status header or trailer */
	const char *grpc_message; /* percent-decoded; "" when absent */
	const uint8_t *grpc_details; /* grpc-status-details-bin, base64-decoded */
	size_t grpc_details_len;
};

enum fd_http_verdict { FD_HTTP_ACCEPTED, FD_HTTP_RETRY, FD_HTTP_REFUSED };

/* Judges an answer in place of the HTTP rules above. For FD_HTTP_RETRY,
 * *delay_ns may be set to the server's wish (-1: the backoff's); for
 * RETRY and REFUSED, why gets the reason. Called on the I/O thread. */
typedef enum fd_http_verdict (*fd_http_classify_fn)(const struct fd_http_answer *a,
						    int64_t *delay_ns, char *why, size_t n);

/* Before the first submit: judge answers with classify instead of by
 * their HTTP status alone (prom-rw: Prometheus's permanent rejections). */
void fd_http_pool_classify(struct fd_http_pool *p, fd_http_classify_fn classify);

/* Before the first submit: speak HTTP/2 (prior knowledge over http://,
 * ALPN h2 over https://, as gRPC does) and judge answers with classify. */
void fd_http_pool_grpc(struct fd_http_pool *p, fd_http_classify_fn classify);

/* Queues a POST of body[0..len) to url with headers (both borrowed: they
 * must outlive the pool). body is malloc'd and owned by the pool from the
 * call on, also when it fails. Waits while `concurrency` requests are
 * outstanding. Returns 0, or the error that stopped the pool (then the
 * request was not taken and done is not called for it). */
int fd_http_pool_submit(struct fd_http_pool *p, const char *url, const struct curl_slist *headers,
			uint8_t *body, size_t len, uint64_t tag, struct fd_error *err);

/* True when a submit would wait (`concurrency` requests outstanding). A
 * caller that alone submits may test this and then submit without
 * waiting. */
bool fd_http_pool_full(struct fd_http_pool *p);

/* Waits until every submitted request has had its outcome. Returns 0, or
 * the error that stopped the pool. */
int fd_http_pool_drain(struct fd_http_pool *p, struct fd_error *err);

/* Counters so far (consistent after drain). */
void fd_http_pool_stats(struct fd_http_pool *p, struct fd_http_pool_stats *out);

/* Cancels what is outstanding (done is called for each, cancelled) and
 * frees the pool. Accepts NULL. */
void fd_http_pool_destroy(struct fd_http_pool *p);

#endif
