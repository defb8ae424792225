#include "sinks/encoders.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A job goes to a worker at this many units or bytes of payload: large
 * enough that a hand-off (a lock and a wake-up, some microseconds) is small
 * beside its encoding, small enough that the workers start early and the
 * jobs in flight stay a few MiB. */
#define JOB_UNITS 512
#define JOB_BYTES (256 * 1024)

enum job_state { JOB_FREE, JOB_QUEUED, JOB_BUSY, JOB_DONE };

struct job_record {
	int64_t time_ns, capture_ns;
	const struct fd_blob *resource, *scope;
	size_t off, len; /* in payload */
	enum fd_signal signal;
};

struct job {
	enum job_state state; /* under the lock once queued */
	struct pbw payload;
	struct job_record *recs;
	size_t n_recs, cap_recs;
	size_t *unit_end; /* record index after each unit */
	size_t n_units, cap_units;
	size_t unit_start; /* the record where the unit being gathered starts */
	struct fd_encoded out;
	int rc;
	struct fd_error err;
};

struct worker {
	pthread_t thread;
	bool started;
	void *state;
	struct fd_encoders *pool;
	struct fd_record *recs; /* one unit, rebuilt from a job */
	size_t cap;
};

struct fd_encoders {
	struct fd_encoders_config c;
	struct job *jobs;
	size_t n_jobs;
	/* Counters of jobs, never wrapping in practice; a job's slot is its
	 * number modulo n_jobs. head: the oldest not committed; tail: the one
	 * being gathered (the sink's); taken: the next a worker takes. */
	uint64_t head, tail, taken;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job was finished */
	bool stop;
	struct worker *workers;
	struct fd_error sticky;
};

int fd_encoded_line(struct fd_encoded *out, enum fd_signal sig)
{
	if (out->n_lines == out->cap_lines) {
		size_t cap = out->cap_lines ? out->cap_lines * 2 : 256;
		struct fd_encoded_line *l = realloc(out->lines, cap * sizeof(*l));
		if (!l)
			return -1;
		out->lines = l;
		out->cap_lines = cap;
	}
	out->lines[out->n_lines++] = (struct fd_encoded_line){out->bytes.len, sig};
	return 0;
}

unsigned fd_encoders_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		return 0;
	return n > 4 ? 4 : (unsigned)n;
}

static struct job *slot(struct fd_encoders *e, uint64_t n)
{
	return &e->jobs[n % e->n_jobs];
}

static int encode_job(struct worker *w, struct job *j)
{
	struct fd_encoders *e = w->pool;
	size_t from = 0;
	for (size_t u = 0; u < j->n_units; u++) {
		size_t n = j->unit_end[u] - from;
		if (n > w->cap) {
			size_t cap = n < 64 ? 64 : n;
			struct fd_record *r = realloc(w->recs, cap * sizeof(*r));
			if (!r)
				return fd_error_set(&j->err, FD_ERUNTIME, "out of memory");
			w->recs = r;
			w->cap = cap;
		}
		for (size_t i = 0; i < n; i++) {
			const struct job_record *jr = &j->recs[from + i];
			w->recs[i] = (struct fd_record){
				.time_ns = jr->time_ns,
				.signal = jr->signal,
				.resource = jr->resource,
				.scope = jr->scope,
				.payload = jr->len ? j->payload.buf + jr->off : NULL,
				.payload_len = jr->len,
				.capture_ns = jr->capture_ns,
			};
		}
		int rc = e->c.encode(w->state, w->recs, n, &j->out, &j->err);
		if (rc < 0)
			return rc;
		from = j->unit_end[u];
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct fd_encoders *e = w->pool;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		while (!e->stop && e->taken == e->tail)
			pthread_cond_wait(&e->work, &e->lock);
		if (e->stop)
			break;
		struct job *j = slot(e, e->taken++);
		j->state = JOB_BUSY;
		pthread_mutex_unlock(&e->lock);
		j->rc = encode_job(w, j);
		pthread_mutex_lock(&e->lock);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&e->done);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void job_clear(struct job *j)
{
	j->state = JOB_FREE;
	j->payload.len = 0;
	j->n_recs = j->n_units = j->unit_start = 0;
	j->out.bytes.len = 0;
	j->out.n_lines = 0;
	j->rc = 0;
}

static void job_free(struct job *j)
{
	pbw_finish(&j->payload);
	free(j->recs);
	free(j->unit_end);
	pbw_finish(&j->out.bytes);
	free(j->out.lines);
}

struct fd_encoders *fd_encoders_create(const struct fd_encoders_config *c)
{
	if (c->threads < 1)
		return NULL;
	struct fd_encoders *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->c = *c;
	/* two jobs per worker keep each busy while the sink commits and
	 * gathers; one more is being gathered */
	e->n_jobs = 2 * (size_t)c->threads + 1;
	e->jobs = calloc(e->n_jobs, sizeof(*e->jobs));
	e->workers = calloc(c->threads, sizeof(*e->workers));
	bool ok = e->jobs && e->workers && pthread_mutex_init(&e->lock, NULL) == 0;
	if (!ok) {
		free(e->jobs);
		free(e->workers);
		free(e);
		return NULL;
	}
	pthread_cond_init(&e->work, NULL);
	pthread_cond_init(&e->done, NULL);
	for (unsigned i = 0; i < c->threads && ok; i++) {
		struct worker *w = &e->workers[i];
		w->pool = e;
		ok = (w->state = c->worker_create(c->ctx)) != NULL &&
		     pthread_create(&w->thread, NULL, work, w) == 0;
		w->started = ok;
	}
	if (!ok) {
		fd_encoders_destroy(e);
		return NULL;
	}
	return e;
}

void fd_encoders_destroy(struct fd_encoders *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (unsigned i = 0; i < e->c.threads; i++) {
		struct worker *w = &e->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->state)
			e->c.worker_destroy(w->state);
		free(w->recs);
	}
	for (size_t i = 0; i < e->n_jobs; i++)
		job_free(&e->jobs[i]);
	pthread_cond_destroy(&e->work);
	pthread_cond_destroy(&e->done);
	pthread_mutex_destroy(&e->lock);
	free(e->workers);
	free(e->jobs);
	free(e);
}

static int fail(struct fd_encoders *e, struct fd_error *err)
{
	if (err)
		*err = e->sticky;
	return -e->sticky.code;
}

/* Commits the oldest job, waiting for it when wait is set. Returns 1 when
 * one was committed, 0 when none was ready, or an error. */
static int commit_head(struct fd_encoders *e, bool wait, struct fd_error *err)
{
	if (e->head == e->tail)
		return 0;
	struct job *j = slot(e, e->head);
	pthread_mutex_lock(&e->lock);
	while (wait && j->state != JOB_DONE)
		pthread_cond_wait(&e->done, &e->lock);
	bool ready = j->state == JOB_DONE;
	pthread_mutex_unlock(&e->lock);
	if (!ready)
		return 0;
	size_t from = 0;
	for (size_t i = 0; i < j->out.n_lines;) {
		const struct fd_encoded_line *l = &j->out.lines[i++];
		size_t end = l->end;
		while (e->c.runs && i < j->out.n_lines && j->out.lines[i].signal == l->signal)
			end = j->out.lines[i++].end;
		if (e->c.commit(e->c.ctx, l->signal, j->out.bytes.buf + from, end - from, &e->sticky) < 0)
			return fail(e, err);
		from = end;
	}
	if (j->rc < 0) {
		e->sticky = j->err;
		return fail(e, err);
	}
	job_clear(j);
	e->head++;
	return 1;
}

/* Commits the finished jobs at the head: all of them, waiting for each,
 * when wait is set; else those finished now. */
static int commit_jobs(struct fd_encoders *e, bool wait, struct fd_error *err)
{
	int rc;
	while ((rc = commit_head(e, wait, err)) == 1)
		;
	return rc;
}

/* The job being gathered to the workers. */
static int submit(struct fd_encoders *e, struct fd_error *err)
{
	struct job *j = slot(e, e->tail);
	if (j->n_units == 0)
		return 0;
	pthread_mutex_lock(&e->lock);
	j->state = JOB_QUEUED;
	e->tail++;
	pthread_cond_signal(&e->work);
	pthread_mutex_unlock(&e->lock);
	/* the next slot must be free to gather into */
	if (e->tail - e->head == e->n_jobs) {
		int rc = commit_head(e, true, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int fd_encoders_record(struct fd_encoders *e, const struct fd_record *rec, struct fd_error *err)
{
	if (e->sticky.code)
		return fail(e, err);
	struct job *j = slot(e, e->tail);
	if (j->n_recs == j->cap_recs) {
		size_t cap = j->cap_recs ? j->cap_recs * 2 : 1024;
		struct job_record *r = realloc(j->recs, cap * sizeof(*r));
		if (!r)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		j->recs = r;
		j->cap_recs = cap;
	}
	size_t off = j->payload.len;
	pbw_raw(&j->payload, rec->payload, rec->payload_len);
	if (j->payload.oom) {
		j->payload.oom = false;
		j->payload.len = off;
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	j->recs[j->n_recs++] = (struct job_record){
		.time_ns = rec->time_ns,
		.capture_ns = rec->capture_ns,
		.resource = rec->resource,
		.scope = rec->scope,
		.off = off,
		.len = rec->payload_len,
		.signal = rec->signal,
	};
	return 0;
}

int fd_encoders_unit_end(struct fd_encoders *e, struct fd_error *err)
{
	if (e->sticky.code)
		return fail(e, err);
	struct job *j = slot(e, e->tail);
	if (j->n_recs == j->unit_start)
		return 0;
	if (j->n_units == j->cap_units) {
		size_t cap = j->cap_units ? j->cap_units * 2 : 64;
		size_t *u = realloc(j->unit_end, cap * sizeof(*u));
		if (!u)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		j->unit_end = u;
		j->cap_units = cap;
	}
	j->unit_end[j->n_units++] = j->n_recs;
	j->unit_start = j->n_recs;
	if (j->n_units < JOB_UNITS && j->payload.len < JOB_BYTES)
		return 0;
	/* what is finished goes out now, as each job is handed on: no lock
	 * is taken per record */
	int rc = submit(e, err);
	return rc < 0 ? rc : commit_jobs(e, false, err);
}

int fd_encoders_drain(struct fd_encoders *e, struct fd_error *err)
{
	if (e->sticky.code)
		return fail(e, err);
	int rc = fd_encoders_unit_end(e, err);
	if (rc == 0)
		rc = submit(e, err);
	return rc < 0 ? rc : commit_jobs(e, true, err);
}
