#include "sources/receive.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

void fd_rx_queue_init(struct fd_rx_queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->changed, &ca);
	pthread_condattr_destroy(&ca);
}

void fd_rx_queue_finish(struct fd_rx_queue *q)
{
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
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

int fd_rx_hand_over(struct fd_rx_queue *q, struct fd_rx_entry *e)
{
	pthread_mutex_lock(&q->lock);
	struct timespec until = deadline_in(FD_RX_QUEUE_WAIT_MS);
	while (!q->closing && q->queued >= FD_RX_QUEUE_LEN)
		if (pthread_cond_timedwait(&q->changed, &q->lock, &until) != 0)
			break;
	if (q->closing || q->queued >= FD_RX_QUEUE_LEN) {
		q->refused++;
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	e->seq = ++q->seq;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	e->received_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	e->next = NULL;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->queued++;
	pthread_cond_broadcast(&q->changed);
	/* the capture answers in its own time; while the request is queued
	 * (not yet handed out), closing takes it back */
	while (!e->answered && !(q->closing && q->current != e))
		pthread_cond_wait(&q->changed, &q->lock);
	int rc = e->answered ? 0 : -1;
	if (!e->answered) {
		/* still queued: unlink it */
		for (struct fd_rx_entry **p = &q->head; *p; p = &(*p)->next)
			if (*p == e) {
				*p = e->next;
				q->queued--;
				break;
			}
		q->tail = NULL;
		for (struct fd_rx_entry *x = q->head; x; x = x->next)
			q->tail = x;
		q->refused++;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

struct fd_rx_entry *fd_rx_next(struct fd_rx_queue *q, int timeout_ms)
{
	pthread_mutex_lock(&q->lock);
	struct timespec until = deadline_in(timeout_ms);
	while (!q->head)
		if (pthread_cond_timedwait(&q->changed, &q->lock, &until) != 0)
			break;
	struct fd_rx_entry *e = q->head;
	if (e) {
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		q->queued--;
		q->current = e;
		pthread_cond_broadcast(&q->changed); /* room in the queue */
	}
	pthread_mutex_unlock(&q->lock);
	return e;
}

void fd_rx_done(struct fd_rx_queue *q, int records, bool malformed)
{
	pthread_mutex_lock(&q->lock);
	struct fd_rx_entry *e = q->current;
	if (e) {
		e->records = records;
		e->malformed = malformed;
		e->answered = true;
		q->current = NULL;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
}

void fd_rx_close(struct fd_rx_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closing = true;
	if (q->current) {
		q->current->answered = true; /* handed out: its records were taken */
		q->current = NULL;
	}
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

/* inflateInit2's 15 + 32 detects gzip or zlib. */
uint8_t *fd_rx_inflate(const uint8_t *in, size_t n, size_t *out_len, bool *too_large)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	*too_large = false;
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return NULL;
	size_t cap = n * 4 + 4096 < FD_RX_MAX_BODY ? n * 4 + 4096 : FD_RX_MAX_BODY;
	uint8_t *out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	int rc = Z_OK;
	while (out && rc == Z_OK) {
		if (z.total_out == cap) {
			if (cap == FD_RX_MAX_BODY) {
				*too_large = true;
				break;
			}
			cap = cap * 2 < FD_RX_MAX_BODY ? cap * 2 : FD_RX_MAX_BODY;
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

void fd_rx_peer_name(const struct sockaddr *sa, char *out, size_t n)
{
	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		char a[INET_ADDRSTRLEN];
		snprintf(out, n, "%s:%u", inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)),
			 (unsigned)ntohs(in->sin_port));
	}
}

int fd_rx_address(const char *uri, const char *rest, const char *scheme, const char *port_eg,
		  struct sockaddr_in *sa, struct fd_error *err)
{
	char usage[256];
	snprintf(usage, sizeof(usage),
		 "expected %s://HOST:PORT, e.g. %s://127.0.0.1:%s (HOST empty: every interface; "
		 "PORT 0: any free port)",
		 scheme, scheme, port_eg);
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
		return fd_error_set(err, FD_EINPUT,
				    "source '%s': port '%s' is not a number from 0 to 65535", uri, port);
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
