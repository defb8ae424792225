/*
 * A scripted HTTP receiver for the push sinks' tests, in process:
 * libmicrohttpd on 127.0.0.1 at a free port, a thread per connection.
 * It reads each request whole, undoes a gzip Content-Encoding, applies the
 * next scripted answer (in order of arrival; when the script is used up,
 * requests are accepted) and hands the request to a protocol handler (OTLP,
 * _bulk, Loki push) that decodes it and writes the answer.
 *
 * A request answered with anything but 2xx, or whose connection is reset,
 * must not be kept by the handler (req->keep is false), as a receiver that
 * refused it would not have it.
 */
#ifndef FD_TEST_HTTP_RECEIVER_H
#define FD_TEST_HTTP_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rcv_answer {
	int status;       /* 0: the handler's answer */
	int retry_after;  /* seconds, sent as Retry-After when > 0 */
	int delay_ms;     /* wait before answering */
	bool reset;       /* close the connection without answering */
	bool hold;        /* wait before answering until hrcv_release (a guard: 60 s) */
	int64_t rejected; /* for the handler: a partial success (OTLP), refused documents (_bulk) */
	const char *body; /* the body of a non-2xx answer (NULL: a short text) */
};

struct hrcv_request {
	const char *url, *method;
	const uint8_t *body; /* gunzipped when it came with Content-Encoding: gzip */
	size_t len;
	bool gzip, body_ok; /* body_ok false: a gzip body that did not inflate */
	bool keep;          /* false: a scripted failure answers; decode, keep nothing */
	int64_t rejected;   /* from the script */
	void *conn;         /* for hrcv_header */
};

struct hrcv_response {
	int status;         /* 200 when left 0 */
	const char *type;   /* Content-Type (NULL: text/plain) */
	char body[4096];
	size_t len;
};

/* Called with the receiver's lock held, one request at a time. When
 * req->keep is false the response is replaced by the scripted one. */
typedef void (*hrcv_fn)(void *ctx, const struct hrcv_request *req, struct hrcv_response *resp);

struct hrcv;

/* NULL when the daemon cannot start. */
struct hrcv *hrcv_start(hrcv_fn fn, void *ctx);
unsigned hrcv_port(const struct hrcv *r);
void hrcv_script(struct hrcv *r, const struct rcv_answer *a, int n);
/* A request header's value; NULL when absent. */
const char *hrcv_header(const struct hrcv_request *req, const char *name);
/* Requests that arrived whole (every one, faults included). */
uint64_t hrcv_requests(struct hrcv *r);
/* Runs fn(ctx) with the receiver's lock held (to read the handler's state). */
void hrcv_locked(struct hrcv *r, void (*fn)(void *ctx), void *ctx);
/* Waits until a request is held (a guard: 60 s); false if none came. */
bool hrcv_wait_held(struct hrcv *r);
/* Whether a request is held now. */
bool hrcv_held(struct hrcv *r);
/* Lets held requests, and every later one, be answered. */
void hrcv_release(struct hrcv *r);
/* Waits until n requests have arrived (a guard: 60 s); false if not. */
bool hrcv_wait_requests(struct hrcv *r, uint64_t n);
void hrcv_stop(struct hrcv *r); /* accepts NULL */

#endif
