/*
 * What the OTLP receivers (otlp-http://, otlp-grpc://) share: the queue
 * between the server threads that take requests and the capture that
 * decodes them, and the verdict that goes back, so that each request is
 * answered with what became of it. Internal to sources/.
 *
 * A server thread hands a request over (fd_rx_hand_over) and waits: until
 * the capture has taken it (fd_rx_next) and judged it (fd_rx_done:
 * decoded, or malformed), or until it is refused: the queue full
 * (FD_RX_QUEUE_LEN requests) for FD_RX_QUEUE_WAIT_MS, or the capture
 * ending (fd_rx_close) before it was taken. A refused request is answered
 * "retry later" (HTTP 503, gRPC UNAVAILABLE), which a compliant exporter
 * retries: nothing is lost silently.
 */
#ifndef FD_SOURCES_RECEIVE_H
#define FD_SOURCES_RECEIVE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"

#define FD_RX_MAX_BODY (64u << 20) /* a request, before and after decompression */
#define FD_RX_QUEUE_LEN 16
#define FD_RX_QUEUE_WAIT_MS 5000

/* One request from its arrival to its answer; owned by its server thread. */
struct fd_rx_entry {
	uint8_t *data;
	size_t len;
	int signal;
	bool json;
	uint64_t seq; /* set by hand_over: 1, 2, ... */
	int64_t received_ns; /* set by hand_over: wall-clock time, the request's capture time */
	char peer[64];
	/* set by fd_rx_done */
	bool answered, malformed;
	int records;
	struct fd_rx_entry *next;
};

struct fd_rx_queue {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* queue, verdicts, closing */
	struct fd_rx_entry *head, *tail;
	size_t queued;
	struct fd_rx_entry *current; /* handed out by next, waiting for done */
	bool closing;
	uint64_t seq;
	uint64_t refused; /* queue full, or the capture ending */
};

void fd_rx_queue_init(struct fd_rx_queue *q);
void fd_rx_queue_finish(struct fd_rx_queue *q);

/* Queues e and waits for its verdict. Returns 0 when judged (e->malformed
 * says how), -1 when refused. */
int fd_rx_hand_over(struct fd_rx_queue *q, struct fd_rx_entry *e);

/* The oldest queued request, now the current one; NULL when none came
 * within timeout_ms. Its data stay valid until fd_rx_done. */
struct fd_rx_entry *fd_rx_next(struct fd_rx_queue *q, int timeout_ms);

/* The verdict on the current request. */
void fd_rx_done(struct fd_rx_queue *q, int records, bool malformed);

/* The capture ends: requests still queued are refused, the current one
 * counts as taken. Server threads waiting return from hand_over. */
void fd_rx_close(struct fd_rx_queue *q);

/* gzip or zlib-wrapped deflate of in[0..n), malloc'd. NULL when it does
 * not decompress, with *too_large set when the result would pass
 * FD_RX_MAX_BODY. */
uint8_t *fd_rx_inflate(const uint8_t *in, size_t n, size_t *out_len, bool *too_large);

/* "ADDR:PORT" of a connected IPv4 peer into out ("" when not IPv4). */
void fd_rx_peer_name(const struct sockaddr *sa, char *out, size_t n);

/* rest = //HOST:PORT, HOST an IPv4 address, localhost or empty (every
 * interface), PORT 0 for any free port; a path after it is allowed and
 * ignored. scheme and port make the example in the message. */
int fd_rx_address(const char *uri, const char *rest, const char *scheme, const char *port,
		  struct sockaddr_in *sa, struct fd_error *err);

#endif
