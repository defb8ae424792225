#include "recording/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "recording/crc32c.h"

struct slot {
	struct fd_fetched pub;
	uint8_t *stored;
	size_t stored_cap;
	uint64_t next; /* the offset of the block after it */
};

/* A ring: the thread fills slots[head % N] and publishes it by head++; the
 * reader takes slots[tail % N] and returns it by tail++. A restart drops
 * what is published and bumps gen, so that a slot being filled for the
 * old position is discarded when it is done. */
struct fd_fetch {
	int fd;
	uint64_t data_end;
	ZSTD_DCtx *dctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot slots[FD_FETCH_SLOTS];
	unsigned long head, tail, gen;
	uint64_t next_off;
	bool active; /* reading from next_off on; false after giving up */
	bool stop;
};

static bool read_full(int fd, uint64_t off, uint8_t *dst, size_t n)
{
	while (n) {
		ssize_t k = pread(fd, dst, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		dst += k;
		off += (uint64_t)k;
		n -= (size_t)k;
	}
	return true;
}

static bool reserve(uint8_t **p, size_t *cap, size_t n)
{
	if (*cap >= n)
		return true;
	uint8_t *q = realloc(*p, n);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* Reads the block at off into s. false: the reader is to read it itself. */
static bool fill(struct fd_fetch *f, struct slot *s, uint64_t off)
{
	struct fd_fetched *b = &s->pub;
	b->off = off;
	b->data_ok = b->oom = false;
	struct fdr_block_header h;
	if (off >= f->data_end || f->data_end - off < FDR_BLOCK_HEADER_LEN || off > INT64_MAX ||
	    !read_full(f->fd, off, b->header, FDR_BLOCK_HEADER_LEN) ||
	    fdr_block_header_decode(b->header, &h) != 0 || h.type == FDR_BLOCK_INDEX ||
	    h.stored_len > f->data_end - off - FDR_BLOCK_HEADER_LEN ||
	    (size_t)h.stored_len + h.raw_len > FD_FETCH_MAX_BYTES)
		return false;
	s->next = off + FDR_BLOCK_HEADER_LEN + h.stored_len;
	if (!reserve(&s->stored, &s->stored_cap, h.stored_len ? h.stored_len : 1) ||
	    !reserve(&b->raw, &b->raw_cap, h.raw_len ? h.raw_len : 1)) {
		b->oom = true;
		return false;
	}
	if (!read_full(f->fd, off + FDR_BLOCK_HEADER_LEN, s->stored, h.stored_len))
		return false;
	if (fd_crc32c(0, s->stored, h.stored_len) != h.data_crc)
		return true; /* damaged: the reader says so */
	if (h.compression == FDR_COMPRESSION_NONE) {
		if (h.raw_len != h.stored_len)
			return true;
		if (h.raw_len)
			memcpy(b->raw, s->stored, h.raw_len);
		b->data_ok = true;
		return true;
	}
	unsigned long long content = ZSTD_getFrameContentSize(s->stored, h.stored_len);
	if (content == ZSTD_CONTENTSIZE_ERROR ||
	    (content != ZSTD_CONTENTSIZE_UNKNOWN && content != h.raw_len))
		return true;
	size_t n = ZSTD_decompressDCtx(f->dctx, b->raw, h.raw_len, s->stored, h.stored_len);
	b->data_ok = !ZSTD_isError(n) && n == h.raw_len;
	return true;
}

static void *run(void *arg)
{
	struct fd_fetch *f = arg;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && (!f->active || f->head - f->tail >= FD_FETCH_SLOTS))
			pthread_cond_wait(&f->cond, &f->lock);
		if (f->stop)
			break;
		unsigned long gen = f->gen;
		uint64_t off = f->next_off;
		struct slot *s = &f->slots[f->head % FD_FETCH_SLOTS];
		pthread_mutex_unlock(&f->lock);
		bool ok = fill(f, s, off);
		pthread_mutex_lock(&f->lock);
		if (gen != f->gen)
			continue; /* restarted elsewhere meanwhile */
		s->pub.gave_up = !ok;
		f->head++;
		if (ok)
			f->next_off = s->next;
		else
			f->active = false;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct fd_fetch *fd_fetch_create(int fd, uint64_t data_end)
{
	struct fd_fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->fd = fd;
	f->data_end = data_end;
	if (!(f->dctx = ZSTD_createDCtx())) {
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	/* Signals are for the caller's threads to see, as for the replay's
	 * read-ahead thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&f->thread, NULL, run, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_cond_destroy(&f->cond);
		pthread_mutex_destroy(&f->lock);
		ZSTD_freeDCtx(f->dctx);
		free(f);
		return NULL;
	}
	return f;
}

struct fd_fetched *fd_fetch_get(struct fd_fetch *f, uint64_t off)
{
	pthread_mutex_lock(&f->lock);
	for (;;) {
		if (f->head != f->tail) {
			struct slot *s = &f->slots[f->tail % FD_FETCH_SLOTS];
			if (s->pub.off == off)
				break;
		} else if (f->active && f->next_off == off) {
			pthread_cond_wait(&f->cond, &f->lock);
			continue;
		}
		/* elsewhere, or given up before off: start again at off */
		f->tail = f->head;
		f->gen++;
		f->next_off = off;
		f->active = true;
		pthread_cond_broadcast(&f->cond);
	}
	struct fd_fetched *b = &f->slots[f->tail % FD_FETCH_SLOTS].pub;
	pthread_mutex_unlock(&f->lock);
	return b;
}

void fd_fetch_release(struct fd_fetch *f)
{
	pthread_mutex_lock(&f->lock);
	f->tail++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void fd_fetch_destroy(struct fd_fetch *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	ZSTD_freeDCtx(f->dctx);
	for (int i = 0; i < FD_FETCH_SLOTS; i++) {
		free(f->slots[i].stored);
		free(f->slots[i].pub.raw);
	}
	free(f);
}
