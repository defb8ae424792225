/*
 * Records waiting for their time. A request is simulated whole at its
 * arrival, so its spans and log lines are produced ahead of the loop's
 * clock; they wait in a heap ordered by (time, sequence) until the loop
 * has passed their time, then leave in order (see sim.c on time order).
 *
 * With fd_sim_options.emit_thread the heap and the emit callback live on a
 * second thread: the simulation hands over, in batches, exactly the calls
 * it would have made here (add this record, emit what is older than t), and
 * that thread replays them in the same order, so the records and their
 * order are the same whatever the timing. It takes the heap's work, the
 * sinks' (generate's recording writer copies every payload) and the frees
 * off the simulation's core (perf, generate retry-storm: heap_pop 5%,
 * the writer's copy 7%, free 2%).
 *
 * Payloads are packed into chunks of 64 KiB rather than allocated one by
 * one: a chunk is freed when every record in it has been emitted (or
 * dropped), which saves a malloc and a free per record, and the emit
 * thread frees a chunk at a time instead of every record the simulation
 * allocated (malloc and free were 9% of the simulation's thread with
 * one allocation per record and the frees on the other thread).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

static bool pending_less(const struct pending *a, const struct pending *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(struct heap *h, struct pending p)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		struct pending *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pending_less(&p, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = p;
	return 0;
}

static struct pending heap_pop(struct heap *h)
{
	struct pending top = h->v[0];
	struct pending last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct pending *best = &last;
		if (l < h->n && pending_less(&h->v[l], best)) {
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && pending_less(&h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- payload chunks ------------------------------------------------------- */

#define CHUNK_BYTES (64u << 10)

struct pchunk {
	size_t used, cap;
	uint32_t placed;   /* records in it: the simulation's, until sealed */
	uint32_t released; /* records emitted or dropped: whoever holds the heap */
	bool sealed;       /* no more records go in: set by whoever holds the heap */
	uint8_t data[];
};

static void chunk_release(struct pchunk *c)
{
	c->released++;
	if (c->sealed && c->released == c->placed)
		free(c);
}

static void chunk_seal(struct pchunk *c)
{
	c->sealed = true;
	if (c->released == c->placed)
		free(c);
}

/* Emits every record of h older than t; after an error (*rc < 0) the
 * records are only freed. */
static void heap_emit_until(struct heap *h, int64_t t, fd_sim_emit_fn emit, void *ctx, int *rc,
			    struct fd_error *err)
{
	while (h->n && h->v[0].time < t) {
		struct pending p = heap_pop(h);
		if (*rc == 0) {
			struct fd_record rec = {
				.time_ns = p.time,
				.signal = (enum fd_signal)p.signal,
				.resource = p.res,
				.scope = p.scope,
				.payload = p.payload,
				.payload_len = p.len,
			};
			int e = emit(ctx, &rec, err);
			if (e < 0)
				*rc = e;
		}
		chunk_release(p.chunk);
	}
}

static void heap_free(struct heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		chunk_release(h->v[i].chunk);
	free(h->v);
	*h = (struct heap){0};
}

/* ---- the emit thread ------------------------------------------------------ */

/* In flight at most PIPE_BATCHES batches of BATCH_ITEMS entries or
 * BATCH_BYTES of payload: memory stays bounded however far the simulation
 * gets ahead of the sinks. */
#define PIPE_BATCHES 4
#define BATCH_ITEMS 1024
#define BATCH_BYTES (256u << 10)

/* What an entry handed to the thread says. */
enum { CMD_ADD, CMD_DRAIN /* emit what is older than time */, CMD_SEAL /* chunk */ };

struct batch {
	struct pending v[BATCH_ITEMS];
	size_t n, bytes;
	fd_sim_emit_fn emit;
	void *ctx;
};

struct sim_pipe {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[PIPE_BATCHES];
	/* batches handed over / done: the simulation fills b[head % N], the
	 * thread works on b[tail % N]; each touches only its own. */
	uint64_t head, tail;
	bool quit;
	int rc; /* the first emit error, or out of memory (under mu) */
	struct fd_error err;
	/* the thread's own: its heap and its error until it publishes it */
	struct heap heap;
	int trc;
	struct fd_error terr;
};

static void run_batch(struct sim_pipe *p, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct pending *e = &b->v[i];
		if (e->cmd == CMD_DRAIN) {
			heap_emit_until(&p->heap, e->time, b->emit, b->ctx, &p->trc, &p->terr);
		} else if (e->cmd == CMD_SEAL) {
			chunk_seal(e->chunk);
		} else if (p->trc < 0 || heap_push(&p->heap, *e) < 0) {
			if (p->trc == 0)
				p->trc = fd_error_set(&p->terr, FD_ERUNTIME, "out of memory while simulating");
			chunk_release(e->chunk);
		}
	}
	b->n = 0;
	b->bytes = 0;
}

static void *pipe_main(void *arg)
{
	struct sim_pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->tail == p->head && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->tail == p->head)
			break;
		struct batch *b = &p->b[p->tail % PIPE_BATCHES];
		if (p->quit && p->trc == 0)
			p->trc = -FD_ERUNTIME; /* stopping: no more emits, only frees */
		pthread_mutex_unlock(&p->mu);
		run_batch(p, b);
		pthread_mutex_lock(&p->mu);
		if (p->trc < 0 && p->rc == 0) {
			p->rc = p->trc;
			p->err = p->terr;
		}
		p->tail++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Hands the batch being filled to the thread and waits for a free one.
 * Returns the thread's error, if any (copied to *err). */
static int pipe_submit(struct sim_pipe *p, fd_sim_emit_fn emit, void *ctx, struct fd_error *err)
{
	struct batch *b = &p->b[p->head % PIPE_BATCHES];
	pthread_mutex_lock(&p->mu);
	if (b->n) {
		b->emit = emit;
		b->ctx = ctx;
		p->head++;
		pthread_cond_broadcast(&p->cv);
	}
	while (p->head - p->tail >= PIPE_BATCHES)
		pthread_cond_wait(&p->cv, &p->mu);
	int rc = p->rc;
	if (rc < 0 && err)
		*err = p->err;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void pipe_put(struct fd_sim *s, struct pending e)
{
	struct sim_pipe *p = s->pipe;
	struct batch *b = &p->b[p->head % PIPE_BATCHES];
	if (e.cmd == CMD_DRAIN && b->n && b->v[b->n - 1].cmd == CMD_DRAIN) {
		/* two drains with nothing added between them: the later one
		 * alone does the same */
		if (e.time > b->v[b->n - 1].time)
			b->v[b->n - 1].time = e.time;
		return;
	}
	b->v[b->n++] = e;
	b->bytes += e.len;
	if (b->n == BATCH_ITEMS || b->bytes >= BATCH_BYTES) {
		int rc = pipe_submit(p, s->emit, s->emit_ctx, s->err);
		if (rc < 0 && !s->failed)
			s->failed = rc;
	}
}

int sim_pipe_start(struct fd_sim *s)
{
	struct sim_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* Signals stay with the caller's thread (generate's Ctrl-C flag). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&p->thread, NULL, pipe_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return -1;
	}
	s->pipe = p;
	return 0;
}

int sim_pipe_sync(struct fd_sim *s)
{
	struct sim_pipe *p = s->pipe;
	if (!p)
		return s->failed;
	struct fd_error *err = s->failed ? NULL : s->err; /* the first error is the one told */
	int rc = pipe_submit(p, s->emit, s->emit_ctx, err);
	pthread_mutex_lock(&p->mu);
	while (p->tail != p->head)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->rc < 0 && rc == 0) {
		rc = p->rc;
		if (err)
			*err = p->err;
	}
	pthread_mutex_unlock(&p->mu);
	if (rc < 0 && !s->failed)
		s->failed = rc;
	return s->failed;
}

static void sim_pipe_stop(struct fd_sim *s)
{
	struct sim_pipe *p = s->pipe;
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	/* what was never handed over is only freed, here */
	if (p->trc == 0)
		p->trc = -FD_ERUNTIME;
	run_batch(p, &p->b[p->head % PIPE_BATCHES]);
	heap_free(&p->heap);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	s->pipe = NULL;
}

/* ---- the simulation's side ---------------------------------------------- */

int sim_oom(struct fd_sim *s)
{
	if (!s->failed)
		s->failed = fd_error_set(s->err, FD_ERUNTIME, "out of memory while simulating");
	return s->failed;
}

/* Queues a record whose payload is in w. */
void sim_push_record(struct fd_sim *s, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		     const struct fd_blob *scope, struct pbw *w)
{
	if (s->failed)
		return;
	if (w->oom) {
		sim_oom(s);
		return;
	}
	struct pchunk *c = s->chunk;
	if (!c || c->cap - c->used < w->len || c->placed == UINT32_MAX) {
		size_t cap = w->len > CHUNK_BYTES ? w->len : CHUNK_BYTES;
		struct pchunk *n = malloc(sizeof(*n) + cap);
		if (!n) {
			sim_oom(s);
			return;
		}
		*n = (struct pchunk){.cap = cap};
		if (c) {
			if (s->pipe)
				pipe_put(s, (struct pending){.cmd = CMD_SEAL, .chunk = c});
			else
				chunk_seal(c);
		}
		s->chunk = c = n;
	}
	uint8_t *p = c->data + c->used;
	if (w->len)
		memcpy(p, w->buf, w->len);
	c->used += w->len;
	c->placed++;
	struct pending rec = {
		.time = t, .seq = s->seq++, .res = res, .scope = scope, .payload = p, .chunk = c,
		.len = (uint32_t)w->len, .signal = (uint8_t)sig, .cmd = CMD_ADD,
	};
	if (s->pipe) {
		pipe_put(s, rec);
	} else if (heap_push(&s->heap, rec) < 0) {
		chunk_release(c);
		sim_oom(s);
	}
}

/* Emits every queued record older than t. */
void sim_drain(struct fd_sim *s, int64_t t)
{
	if (s->failed)
		return;
	if (s->pipe) {
		pipe_put(s, (struct pending){.time = t, .cmd = CMD_DRAIN});
		return;
	}
	int rc = 0;
	heap_emit_until(&s->heap, t, s->emit, s->emit_ctx, &rc, s->err);
	if (rc < 0)
		s->failed = rc;
}

void sim_pending_free(struct fd_sim *s)
{
	sim_pipe_stop(s);
	heap_free(&s->heap);
	if (s->chunk)
		chunk_seal(s->chunk);
	s->chunk = NULL;
}
