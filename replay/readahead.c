#include "replay/readahead.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ~1 MiB and a few thousand records (about 280 bytes each in the built-in
 * scenarios): large enough that the lock is taken once per thousands of
 * records, small enough that the thread starts handing records over soon. */
#define CHUNK_BYTES (1u << 20)
#define CHUNK_RECORDS 4096

struct chunk {
	struct fd_record *rec; /* payloads point into bytes */
	size_t n;
	uint64_t dropped; /* filtered out before the last of rec */
	uint8_t *bytes;
	size_t len, cap;
};

/* A ring of chunks: the thread fills chunks[head % N] and publishes it by
 * head++; the caller reads chunks[tail % N] and gives it back by tail++.
 * head - tail chunks are full (at most N). The lock orders each chunk's
 * contents before its publication and its reuse after its return. */
struct fd_readahead {
	struct fd_recording_reader *r;
	int64_t from;
	struct fd_readahead_filter filter;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk chunks[FD_READAHEAD_CHUNKS];
	unsigned long head, tail;
	bool done;  /* the thread has published its last chunk */
	int status; /* then: 0 at the end, or the error in err */
	struct fd_error err;
	bool stop;
	/* the caller's side */
	bool holding; /* chunks[tail % N] is being read */
	size_t pos;
	uint64_t dropped;
};

/* The next chunk to fill, emptied; NULL when stopped. */
static struct chunk *acquire(struct fd_readahead *ra)
{
	pthread_mutex_lock(&ra->lock);
	while (!ra->stop && ra->head - ra->tail >= FD_READAHEAD_CHUNKS)
		pthread_cond_wait(&ra->cond, &ra->lock);
	struct chunk *c = ra->stop ? NULL : &ra->chunks[ra->head % FD_READAHEAD_CHUNKS];
	pthread_mutex_unlock(&ra->lock);
	if (c) {
		c->n = c->len = 0;
		c->dropped = 0;
	}
	return c;
}

static void publish(struct fd_readahead *ra)
{
	pthread_mutex_lock(&ra->lock);
	ra->head++;
	pthread_cond_broadcast(&ra->cond);
	pthread_mutex_unlock(&ra->lock);
}

static void *run(void *arg)
{
	struct fd_readahead *ra = arg;
	struct fd_error err = {0};
	int rc = fd_recording_reader_seek(ra->r, ra->from, &err);
	struct chunk *c = rc == 0 ? acquire(ra) : NULL;
	struct fd_record rec;
	while (c) {
		if ((rc = fd_recording_reader_next(ra->r, &rec, &err)) <= 0)
			break;
		rc = 0;
		if (ra->filter.has_until && rec.time_ns >= ra->filter.until)
			break;
		if (ra->filter.signals && !(ra->filter.signals & (1u << rec.signal))) {
			c->dropped++;
			continue;
		}
		if (c->n == CHUNK_RECORDS || rec.payload_len > c->cap - c->len) {
			if (c->n) {
				publish(ra);
				if (!(c = acquire(ra)))
					break;
			}
			if (rec.payload_len > c->cap) {
				/* empty: no payload points into it yet */
				uint8_t *b = realloc(c->bytes, rec.payload_len);
				if (!b) {
					rc = fd_error_set(&err, FD_ERUNTIME, "out of memory");
					break;
				}
				c->bytes = b;
				c->cap = rec.payload_len;
			}
		}
		struct fd_record *out = &c->rec[c->n++];
		*out = rec;
		out->payload = c->bytes + c->len;
		if (rec.payload_len)
			memcpy(c->bytes + c->len, rec.payload, rec.payload_len);
		c->len += rec.payload_len;
	}
	pthread_mutex_lock(&ra->lock);
	if (c && (c->n || c->dropped))
		ra->head++;
	ra->done = true;
	ra->status = rc < 0 ? rc : 0;
	ra->err = err;
	pthread_cond_broadcast(&ra->cond);
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

static void chunks_free(struct fd_readahead *ra)
{
	for (int i = 0; i < FD_READAHEAD_CHUNKS; i++) {
		free(ra->chunks[i].rec);
		free(ra->chunks[i].bytes);
	}
}

int fd_readahead_start(struct fd_recording_reader *r, int64_t from,
		       const struct fd_readahead_filter *filter, struct fd_readahead **out,
		       struct fd_error *err)
{
	*out = NULL;
	struct fd_readahead *ra = calloc(1, sizeof(*ra));
	if (!ra)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	ra->r = r;
	ra->from = from;
	if (filter)
		ra->filter = *filter;
	for (int i = 0; i < FD_READAHEAD_CHUNKS; i++) {
		struct chunk *c = &ra->chunks[i];
		c->rec = malloc(CHUNK_RECORDS * sizeof(*c->rec));
		c->bytes = malloc(CHUNK_BYTES);
		c->cap = CHUNK_BYTES;
		if (!c->rec || !c->bytes) {
			chunks_free(ra);
			free(ra);
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		}
	}
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->cond, NULL);
	/* The thread blocks every signal: SIGINT is the caller's to see (a
	 * flag it checks), and a handler run on this thread would interrupt
	 * its reads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&ra->thread, NULL, run, ra);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_cond_destroy(&ra->cond);
		pthread_mutex_destroy(&ra->lock);
		chunks_free(ra);
		free(ra);
		return fd_error_set(err, FD_ERUNTIME, "cannot start the read-ahead thread: %s",
				    strerror(e));
	}
	*out = ra;
	return 0;
}

int fd_readahead_next(struct fd_readahead *ra, struct fd_record *rec, struct fd_error *err)
{
	for (;;) {
		if (ra->holding) {
			const struct chunk *c = &ra->chunks[ra->tail % FD_READAHEAD_CHUNKS];
			if (ra->pos < c->n) {
				*rec = c->rec[ra->pos++];
				return 1;
			}
			pthread_mutex_lock(&ra->lock);
			ra->tail++;
			ra->holding = false;
			pthread_cond_broadcast(&ra->cond);
			pthread_mutex_unlock(&ra->lock);
		}
		pthread_mutex_lock(&ra->lock);
		while (ra->head == ra->tail && !ra->done)
			pthread_cond_wait(&ra->cond, &ra->lock);
		if (ra->head != ra->tail) {
			ra->holding = true;
			ra->pos = 0;
			ra->dropped += ra->chunks[ra->tail % FD_READAHEAD_CHUNKS].dropped;
			pthread_mutex_unlock(&ra->lock);
			continue;
		}
		int rc = ra->status;
		if (rc < 0 && err)
			*err = ra->err;
		pthread_mutex_unlock(&ra->lock);
		return rc;
	}
}

uint64_t fd_readahead_dropped(const struct fd_readahead *ra)
{
	return ra->dropped;
}

void fd_readahead_stop(struct fd_readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_broadcast(&ra->cond);
	pthread_mutex_unlock(&ra->lock);
	pthread_join(ra->thread, NULL);
	pthread_cond_destroy(&ra->cond);
	pthread_mutex_destroy(&ra->lock);
	chunks_free(ra);
	free(ra);
}
