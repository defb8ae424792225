#include "recording/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/outfile.h"
#include "recording/crc32c.h"
#include "recording/format.h"
#include "stream/intern.h"

#define DEFAULT_BLOCK_SIZE (1u << 20)
/* Level 1, not 3: generate's zstd thread was 37% of its CPU at level 3 and
 * compresses twice as fast at 1, for files 8-11% larger (docs/benchmarks.md,
 * "zstd level"). Any level reads the same. */
#define DEFAULT_ZSTD_LEVEL 1
#define JOBS 4

struct buf {
	uint8_t *data;
	size_t len, cap;
};

struct block_ref {
	uint64_t offset;
	uint8_t type;
	int64_t min_time, max_time;
	uint32_t count, stored_len, raw_len;
};

/* A filled block handed to the compression thread. */
struct job {
	struct buf raw, dict;
	uint32_t count, dict_entries;
	int64_t min_time, max_time;
};

/* Source blob pointer -> the writer's own blob, open addressing. */
#define BLOB_CACHE_SLOTS 4096u
struct blob_cache {
	uint32_t used;
	struct blob_slot {
		const struct fd_blob *in, *out;
	} slot[BLOB_CACHE_SLOTS];
};

struct fd_recording_writer {
	char *path; /* for messages */
	struct fd_outfile out; /* PATH.tmp-RANDOM until finish renames it */
	uint64_t offset;
	bool finished, failed;
	bool capture_times; /* a 1.1 file: records keep their capture_ns */

	ZSTD_CCtx *cctx;
	int level;
	size_t block_size;
	struct buf raw, stored, dict;

	/* the block being filled */
	uint32_t count;
	int64_t min_time, max_time, prev_time;

	/* Resources and scopes are defined once in the file, in dictionary
	 * blocks written just before the first record block that uses them. */
	struct fd_intern *resources, *scopes;
	uint32_t resources_written, scopes_written;
	uint64_t dict_bytes; /* readers refuse more than FDR_MAX_DICT_BYTES */
	struct blob_cache res_cache, scope_cache;

	struct block_ref *blocks;
	size_t nblocks, blocks_cap;

	bool any;
	int64_t first_time, last_time;
	uint64_t records[FD_SIGNAL_COUNT], payload_bytes[FD_SIGNAL_COUNT];
	Firedrill__V1__Figure **figures;
	size_t nfigures;

	/* The header as it is in the file (padding included), and its
	 * replacement for finish to write over it; NULL when none. */
	size_t header_len;
	uint8_t *new_header;

	/* Compression runs on a second thread, up to JOBS blocks behind the
	 * caller: generation and zstd overlap on two cores. The worker alone
	 * touches the file, cctx, stored buffer, offset and block list until
	 * it is joined; the caller alone touches everything else. Jobs form a
	 * ring: the caller hands jobs[handed % JOBS] over by handed++, the
	 * worker writes jobs[written % JOBS] and returns it by written++.
	 * With a single job the caller stopped whenever zstd was one block
	 * behind, and generate's three threads took turns on two cores. */
	bool threaded, thread_started;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool quit;
	struct job jobs[JOBS];
	unsigned long handed, written;
	int worker_rc;
	struct fd_error worker_err;
};

static int buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static int io_error(struct fd_recording_writer *w, struct fd_error *err, const char *what)
{
	return fd_error_set(err, FD_ERUNTIME, "%s '%s': %s", what, w->path,
			    errno ? strerror(errno) : "I/O error");
}

static int write_all(struct fd_recording_writer *w, const void *p, size_t n, struct fd_error *err)
{
	errno = 0;
	if (n && fwrite(p, 1, n, w->out.f) != n)
		return io_error(w, err, "writing");
	w->offset += n;
	return 0;
}

static int write_block(struct fd_recording_writer *w, uint8_t type, const uint8_t *raw,
		       size_t raw_len, uint32_t count, int64_t min_time, int64_t max_time,
		       bool in_index, struct fd_error *err)
{
	if (raw_len > FDR_MAX_RAW_LEN)
		return fd_error_set(err, FD_EINPUT, "a block of %zu bytes exceeds the format's limit of %u",
				    raw_len, FDR_MAX_RAW_LEN);
	size_t bound = ZSTD_compressBound(raw_len);
	w->stored.len = 0;
	if (buf_reserve(&w->stored, bound) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	size_t n = ZSTD_compressCCtx(w->cctx, w->stored.data, bound, raw, raw_len, w->level);
	if (ZSTD_isError(n))
		return fd_error_set(err, FD_ERUNTIME, "zstd: %s", ZSTD_getErrorName(n));
	struct fdr_block_header h = {
		.type = type,
		.compression = FDR_COMPRESSION_ZSTD,
		.stored_len = (uint32_t)n,
		.raw_len = (uint32_t)raw_len,
		.count = count,
		.min_time = min_time,
		.max_time = max_time,
	};
	const uint8_t *stored = w->stored.data;
	if (n >= raw_len) { /* incompressible: store as is */
		h.compression = FDR_COMPRESSION_NONE;
		h.stored_len = (uint32_t)raw_len;
		stored = raw;
	}
	h.data_crc = fd_crc32c(0, stored, h.stored_len);
	uint8_t hdr[FDR_BLOCK_HEADER_LEN];
	fdr_block_header_encode(hdr, &h);

	if (in_index) {
		if (w->nblocks == w->blocks_cap) {
			size_t cap = w->blocks_cap ? w->blocks_cap * 2 : 64;
			struct block_ref *b = realloc(w->blocks, cap * sizeof(*b));
			if (!b)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
			w->blocks = b;
			w->blocks_cap = cap;
		}
		w->blocks[w->nblocks++] = (struct block_ref){
			.offset = w->offset,
			.type = type,
			.min_time = min_time,
			.max_time = max_time,
			.count = count,
			.stored_len = h.stored_len,
			.raw_len = h.raw_len,
		};
	}
	int rc = write_all(w, hdr, sizeof(hdr), err);
	if (rc == 0)
		rc = write_all(w, stored, h.stored_len, err);
	return rc;
}

static int dict_append(struct buf *d, uint8_t kind, const struct fd_blob *b)
{
	if (buf_reserve(d, 1 + 10 + 10 + b->len) < 0)
		return -1;
	d->data[d->len++] = kind;
	d->len += fdr_put_varint(d->data + d->len, b->id);
	d->len += fdr_put_varint(d->data + d->len, b->len);
	memcpy(d->data + d->len, b->data, b->len);
	d->len += b->len;
	return 0;
}

static int write_job(struct fd_recording_writer *w, const struct job *j, struct fd_error *err)
{
	if (j->dict_entries) {
		int rc = write_block(w, FDR_BLOCK_DICTIONARY, j->dict.data, j->dict.len, j->dict_entries,
				     0, 0, true, err);
		if (rc < 0)
			return rc;
	}
	return write_block(w, FDR_BLOCK_RECORDS, j->raw.data, j->raw.len, j->count, j->min_time,
			   j->max_time, true, err);
}

static void *worker(void *arg)
{
	struct fd_recording_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->written == w->handed && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->written == w->handed)
			break;
		const struct job *j = &w->jobs[w->written % JOBS];
		bool failed = w->worker_rc < 0;
		pthread_mutex_unlock(&w->mu);
		struct fd_error e = {0};
		int rc = failed ? 0 : write_job(w, j, &e);
		pthread_mutex_lock(&w->mu);
		if (rc < 0 && !w->worker_rc) {
			w->worker_rc = rc;
			w->worker_err = e;
		}
		w->written++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until the worker has written everything handed to it; returns its
 * first error. */
static int wait_idle(struct fd_recording_writer *w, struct fd_error *err)
{
	if (!w->thread_started)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->written != w->handed)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = w->worker_rc;
	if (rc < 0 && err)
		*err = w->worker_err;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void stop_worker(struct fd_recording_writer *w)
{
	if (!w->thread_started)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->thread_started = false;
}

static int flush_block(struct fd_recording_writer *w, struct fd_error *err)
{
	if (w->count == 0)
		return 0;
	uint32_t nres = fd_intern_count(w->resources), nscope = fd_intern_count(w->scopes);
	uint32_t entries = 0;
	w->dict.len = 0;
	if (nres > w->resources_written || nscope > w->scopes_written) {
		for (uint32_t i = w->resources_written; i < nres; i++, entries++)
			if (dict_append(&w->dict, FDR_DICT_RESOURCE, fd_intern_get(w->resources, i)) < 0)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
		for (uint32_t i = w->scopes_written; i < nscope; i++, entries++)
			if (dict_append(&w->dict, FDR_DICT_SCOPE, fd_intern_get(w->scopes, i)) < 0)
				return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	struct job j = {.raw = w->raw, .dict = w->dict, .count = w->count, .dict_entries = entries,
			.min_time = w->min_time, .max_time = w->max_time};
	int rc;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		while (w->handed - w->written >= JOBS)
			pthread_cond_wait(&w->cv, &w->mu);
		rc = w->worker_rc;
		if (rc < 0) {
			if (err)
				*err = w->worker_err;
			pthread_mutex_unlock(&w->mu);
			return rc;
		}
		/* Swap buffers: the worker takes the filled ones, the caller
		 * goes on with those of a job the worker finished. */
		struct job *slot = &w->jobs[w->handed % JOBS];
		struct buf raw = slot->raw, dict = slot->dict;
		*slot = j;
		w->raw = raw;
		w->dict = dict;
		w->handed++;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		rc = 0;
	} else {
		rc = write_job(w, &j, err);
	}
	if (rc < 0)
		return rc;
	w->resources_written = nres;
	w->scopes_written = nscope;
	w->raw.len = 0;
	w->count = 0;
	return 0;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Packs header into exactly len bytes: the message, then zero-filled
 * `padding` fields (field 15) making up the rest. One field of k bytes
 * costs 1 + varint_len(k) + k; some totals (1, 130...) have no such k, so
 * the first field may be an empty one (2 bytes). A header that sets padding
 * itself has it replaced. Returns -1 when out of memory or when len is too
 * small. */
static int pack_padded(const Firedrill__V1__RecordingHeader *header, uint8_t *out, size_t len)
{
	Firedrill__V1__RecordingHeader h = *header;
	h.padding.len = 0;
	h.padding.data = NULL;
	size_t n = firedrill__v1__recording_header__get_packed_size(&h);
	if (n > len)
		return -1;
	firedrill__v1__recording_header__pack(&h, out);
	size_t need = len - n;
	uint8_t *p = out + n;
	while (need > 0) {
		size_t k = need >= 2 ? need - 2 : 0;
		while (k > 0 && 1 + varint_len(k) + k > need)
			k--;
		if (1 + varint_len(k) + k != need && need - (1 + varint_len(k) + k) < 2)
			k = 0; /* an empty field first, then the rest */
		if (need < 2)
			return -1;
		*p++ = 15 << 3 | 2;
		size_t v = k;
		while (v >= 0x80) {
			*p++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*p++ = (uint8_t)v;
		memset(p, 0, k);
		p += k;
		need -= 1 + varint_len(k) + k;
	}
	return 0;
}

int fd_recording_writer_set_header(struct fd_recording_writer *w,
				   const Firedrill__V1__RecordingHeader *header, struct fd_error *err)
{
	Firedrill__V1__RecordingHeader h = *header;
	h.padding.len = 0;
	h.padding.data = NULL;
	size_t n = firedrill__v1__recording_header__get_packed_size(&h);
	if (n > w->header_len || n + 1 == w->header_len) /* 1 byte cannot be padding */
		return fd_error_set(err, FD_EINPUT,
				    "the new header of '%s' needs %zu bytes; %zu were reserved", w->path, n,
				    w->header_len);
	uint8_t *p = malloc(w->header_len ? w->header_len : 1);
	if (!p || pack_padded(&h, p, w->header_len) < 0) {
		free(p);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	free(w->new_header);
	w->new_header = p;
	return 0;
}

/* Writes the replacement header over the old one (same length). */
static int rewrite_header(struct fd_recording_writer *w, struct fd_error *err)
{
	uint8_t crc[4];
	fdr_put_u32(crc, fd_crc32c(0, w->new_header, w->header_len));
	errno = 0;
	if (fflush(w->out.f) != 0 ||
	    pwrite(fileno(w->out.f), crc, 4, 16) != 4 ||
	    pwrite(fileno(w->out.f), w->new_header, w->header_len, FDR_FILE_HEADER_LEN) !=
		    (ssize_t)w->header_len)
		return io_error(w, err, "writing");
	return 0;
}

int fd_recording_writer_create(const char *path, const Firedrill__V1__RecordingHeader *header,
			       const struct fd_recording_writer_options *opts,
			       struct fd_recording_writer **out, struct fd_error *err)
{
	int rc = -FD_ERUNTIME;
	*out = NULL;
	struct fd_recording_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	w->level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
	w->block_size = opts && opts->block_size ? opts->block_size : DEFAULT_BLOCK_SIZE;
	w->capture_times = opts && opts->capture_times;
	if (w->block_size > FDR_MAX_RAW_LEN / 2)
		w->block_size = FDR_MAX_RAW_LEN / 2;
	w->path = strdup(path);
	w->cctx = ZSTD_createCCtx();
	w->resources = fd_intern_create();
	w->scopes = fd_intern_create();
	if (!w->path || !w->cctx || !w->resources || !w->scopes) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	if ((rc = fd_outfile_init(&w->out, path, err)) < 0)
		goto fail;

	static const Firedrill__V1__RecordingHeader empty = FIREDRILL__V1__RECORDING_HEADER__INIT;
	if (!header)
		header = &empty;
	size_t hlen = firedrill__v1__recording_header__get_packed_size(header);
	size_t reserve = opts ? opts->header_reserve : 0;
	if (hlen > FDR_MAX_HEADER_LEN || reserve > FDR_MAX_HEADER_LEN - hlen) {
		rc = fd_error_set(err, FD_EINPUT, "recording header of %zu bytes exceeds the limit of %u",
				  hlen + reserve, FDR_MAX_HEADER_LEN);
		goto fail;
	}
	w->header_len = hlen + reserve;
	uint8_t *hbuf = malloc(FDR_FILE_HEADER_LEN + w->header_len);
	if (!hbuf) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	memcpy(hbuf, FDR_MAGIC, FDR_MAGIC_LEN);
	fdr_put_u16(hbuf + 8, FDR_VERSION_MAJOR);
	fdr_put_u16(hbuf + 10, w->capture_times ? FDR_VERSION_MINOR_CAPTURE : FDR_VERSION_MINOR);
	fdr_put_u32(hbuf + 12, (uint32_t)w->header_len);
	if (pack_padded(header, hbuf + FDR_FILE_HEADER_LEN, w->header_len) < 0) {
		free(hbuf);
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	fdr_put_u32(hbuf + 16, fd_crc32c(0, hbuf + FDR_FILE_HEADER_LEN, w->header_len));
	rc = write_all(w, hbuf, FDR_FILE_HEADER_LEN + w->header_len, err);
	free(hbuf);
	if (rc < 0)
		goto fail;
	w->threaded = !(opts && opts->single_thread);
	if (w->threaded) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thread, NULL, worker, w) != 0) {
			/* no thread to be had: compress inline, same bytes */
			pthread_mutex_destroy(&w->mu);
			pthread_cond_destroy(&w->cv);
			w->threaded = false;
		} else {
			w->thread_started = true;
		}
	}
	*out = w;
	return 0;
fail:
	fd_recording_writer_destroy(w);
	return rc;
}

static const struct fd_blob *map_blob(struct fd_intern *t, const struct fd_blob *in,
				      struct blob_cache *c)
{
	/* Sources hand out one pointer per distinct blob, so a table by
	 * pointer saves hashing every record's resource (a few hundred bytes
	 * through fd_hash64: 7% of generate's time with the 256-entry
	 * direct-mapped cache this replaces, which a simulation's 209
	 * resources kept evicting). A hit is checked against the bytes, so a
	 * pointer that a source freed and reused for other bytes cannot map
	 * to the wrong blob; the content hash stays the fallback. */
	if (!in)
		return fd_intern_add(t, NULL, 0);
	uint32_t mask = BLOB_CACHE_SLOTS - 1;
	uint32_t home = (uint32_t)(((uint64_t)(uintptr_t)in * 0x9e3779b97f4a7c15ULL) >> 40) & mask;
	uint32_t i = home;
	while (c->slot[i].in && c->slot[i].in != in)
		i = (i + 1) & mask;
	const struct fd_blob *b = c->slot[i].out;
	if (c->slot[i].in && b->len == in->len && (in->len == 0 || memcmp(b->data, in->data, in->len) == 0))
		return b;
	/* a new pointer, or one whose bytes changed */
	b = fd_intern_add(t, in->data, in->len);
	if (!b)
		return NULL;
	if (!c->slot[i].in) {
		if (c->used >= BLOB_CACHE_SLOTS / 2) { /* a source with ever new pointers: start over */
			memset(c, 0, sizeof(*c));
			i = home;
		}
		c->used++;
	}
	c->slot[i] = (struct blob_slot){in, b};
	return b;
}

int fd_recording_writer_add(struct fd_recording_writer *w, const struct fd_record *rec,
			    struct fd_error *err)
{
	if (w->finished || w->failed)
		return fd_error_set(err, FD_ERUNTIME, "recording '%s' is no longer writable", w->path);
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "record has an unknown signal %d", (int)rec->signal);
	if (rec->payload_len > FDR_MAX_RAW_LEN / 2)
		return fd_error_set(err, FD_EINPUT, "record of %zu bytes is larger than a block may be",
				    rec->payload_len);
	uint32_t nres = fd_intern_count(w->resources), nscopes = fd_intern_count(w->scopes);
	const struct fd_blob *res = map_blob(w->resources, rec->resource, &w->res_cache);
	const struct fd_blob *scope = map_blob(w->scopes, rec->scope, &w->scope_cache);
	if (!res || !scope)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (fd_intern_count(w->resources) != nres)
		w->dict_bytes += FDR_DICT_ENTRY_COST(res->len);
	if (fd_intern_count(w->scopes) != nscopes)
		w->dict_bytes += FDR_DICT_ENTRY_COST(scope->len);
	if (w->dict_bytes > FDR_MAX_DICT_BYTES) {
		/* what was added stays in the table: no record may use it */
		w->failed = true;
		return fd_error_set(err, FD_EINPUT,
				    "recording '%s': %u resources and %u scopes exceed the format's "
				    "dictionary limit of %u MiB",
				    w->path, fd_intern_count(w->resources), fd_intern_count(w->scopes),
				    FDR_MAX_DICT_BYTES >> 20);
	}

	/* A block's first record must be its earliest: readers decode the first
	 * time delta from the block's min_time. A record older than the block
	 * so far therefore starts a new block. */
	if (w->count > 0 &&
	    (w->raw.len + rec->payload_len + 32 > w->block_size || rec->time_ns < w->min_time)) {
		int rc = flush_block(w, err);
		if (rc < 0)
			return rc;
	}
	if (buf_reserve(&w->raw, 1 + 5 * 10 + rec->payload_len) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (w->count == 0) {
		w->min_time = w->max_time = w->prev_time = rec->time_ns;
	}
	uint8_t *p = w->raw.data + w->raw.len;
	size_t n = 0;
	bool captured = w->capture_times && rec->capture_ns;
	p[n++] = (uint8_t)rec->signal | (captured ? FDR_RECORD_CAPTURE : 0);
	/* Deltas from the previous record keep times to a byte or two; the
	 * subtraction is done unsigned so that no input can overflow. */
	n += fdr_put_varint(p + n, fdr_zigzag((int64_t)((uint64_t)rec->time_ns - (uint64_t)w->prev_time)));
	/* The capture time from the record's own: how late it came, which
	 * stays small whatever order the records are written in. */
	if (captured)
		n += fdr_put_varint(p + n, fdr_zigzag((int64_t)((uint64_t)rec->capture_ns -
								 (uint64_t)rec->time_ns)));
	n += fdr_put_varint(p + n, res->id);
	n += fdr_put_varint(p + n, scope->id);
	n += fdr_put_varint(p + n, rec->payload_len);
	if (rec->payload_len)
		memcpy(p + n, rec->payload, rec->payload_len);
	n += rec->payload_len;
	w->raw.len += n;
	w->count++;
	w->prev_time = rec->time_ns;
	if (rec->time_ns < w->min_time)
		w->min_time = rec->time_ns;
	if (rec->time_ns > w->max_time)
		w->max_time = rec->time_ns;

	if (!w->any || rec->time_ns < w->first_time)
		w->first_time = rec->time_ns;
	if (!w->any || rec->time_ns > w->last_time)
		w->last_time = rec->time_ns;
	w->any = true;
	w->records[rec->signal]++;
	w->payload_bytes[rec->signal] += rec->payload_len;
	return 0;
}

int fd_recording_writer_add_figure(struct fd_recording_writer *w, const Firedrill__V1__Figure *fig,
				   struct fd_error *err)
{
	Firedrill__V1__Figure **figs = realloc(w->figures, (w->nfigures + 1) * sizeof(*figs));
	if (!figs)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	w->figures = figs;
	Firedrill__V1__Figure *f = malloc(sizeof(*f));
	if (!f)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	firedrill__v1__figure__init(f);
	f->value = fig->value;
	f->name = strdup(fig->name ? fig->name : "");
	f->subject = strdup(fig->subject ? fig->subject : "");
	f->phase = strdup(fig->phase ? fig->phase : "");
	f->unit = strdup(fig->unit ? fig->unit : "");
	figs[w->nfigures++] = f;
	if (!f->name || !f->subject || !f->phase || !f->unit)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	return 0;
}

static int write_footer(struct fd_recording_writer *w, struct fd_error *err)
{
	int rc = -FD_ERUNTIME;
	Firedrill__V1__BlockIndex index = FIREDRILL__V1__BLOCK_INDEX__INIT;
	Firedrill__V1__RecordingSummary summary = FIREDRILL__V1__RECORDING_SUMMARY__INIT;
	Firedrill__V1__SignalStats stats[FD_SIGNAL_COUNT];
	Firedrill__V1__SignalStats *stats_p[FD_SIGNAL_COUNT];
	Firedrill__V1__BlockRef *refs = calloc(w->nblocks ? w->nblocks : 1, sizeof(*refs));
	Firedrill__V1__BlockRef **refs_p = calloc(w->nblocks ? w->nblocks : 1, sizeof(*refs_p));
	uint8_t *packed = NULL;
	if (!refs || !refs_p) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w->nblocks; i++) {
		firedrill__v1__block_ref__init(&refs[i]);
		refs[i].offset = w->blocks[i].offset;
		refs[i].type = w->blocks[i].type;
		refs[i].min_time_unix_nano = w->blocks[i].min_time;
		refs[i].max_time_unix_nano = w->blocks[i].max_time;
		refs[i].record_count = w->blocks[i].count;
		refs[i].stored_len = w->blocks[i].stored_len;
		refs[i].raw_len = w->blocks[i].raw_len;
		refs_p[i] = &refs[i];
	}
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		firedrill__v1__signal_stats__init(&stats[s]);
		stats[s].signal = (uint32_t)s;
		stats[s].records = w->records[s];
		stats[s].payload_bytes = w->payload_bytes[s];
		stats_p[s] = &stats[s];
	}
	summary.first_time_unix_nano = (uint64_t)w->first_time;
	summary.last_time_unix_nano = (uint64_t)w->last_time;
	summary.n_signals = FD_SIGNAL_COUNT;
	summary.signals = stats_p;
	summary.resource_count = fd_intern_count(w->resources);
	summary.scope_count = fd_intern_count(w->scopes);
	summary.n_measured = w->nfigures;
	summary.measured = w->figures;
	index.n_blocks = w->nblocks;
	index.blocks = refs_p;
	index.summary = &summary;

	size_t len = firedrill__v1__block_index__get_packed_size(&index);
	packed = malloc(len ? len : 1);
	if (!packed) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	firedrill__v1__block_index__pack(&index, packed);
	uint64_t index_offset = w->offset;
	rc = write_block(w, FDR_BLOCK_INDEX, packed, len, (uint32_t)w->nblocks, w->first_time,
			 w->last_time, false, err);
	if (rc < 0)
		goto out;
	uint8_t tail[FDR_TAIL_LEN];
	fdr_put_u64(tail, index_offset);
	fdr_put_u32(tail + 8, fd_crc32c(0, tail, 8));
	memcpy(tail + 12, FDR_TAIL_MAGIC, 4);
	rc = write_all(w, tail, sizeof(tail), err);
out:
	free(packed);
	free(refs_p);
	free(refs);
	return rc;
}

int fd_recording_writer_finish(struct fd_recording_writer *w, struct fd_error *err)
{
	if (w->finished || w->failed)
		return fd_error_set(err, FD_ERUNTIME, "recording '%s' was already closed", w->path);
	int rc = flush_block(w, err);
	if (rc == 0)
		rc = wait_idle(w, err);
	stop_worker(w);
	if (rc == 0)
		rc = write_footer(w, err);
	if (rc == 0 && w->new_header)
		rc = rewrite_header(w, err);
	if (rc == 0)
		rc = fd_outfile_commit(&w->out, err);
	if (rc < 0) {
		w->failed = true;
		return rc;
	}
	w->finished = true;
	return 0;
}

void fd_recording_writer_destroy(struct fd_recording_writer *w)
{
	if (!w)
		return;
	stop_worker(w);
	if (w->threaded) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	for (int i = 0; i < JOBS; i++) {
		free(w->jobs[i].raw.data);
		free(w->jobs[i].dict.data);
	}
	fd_outfile_finish(&w->out); /* removes the file unless finished */
	for (size_t i = 0; i < w->nfigures; i++) {
		Firedrill__V1__Figure *f = w->figures[i];
		if (!f)
			continue;
		free(f->name);
		free(f->subject);
		free(f->phase);
		free(f->unit);
		free(f);
	}
	free(w->figures);
	free(w->new_header);
	free(w->blocks);
	fd_intern_destroy(w->resources);
	fd_intern_destroy(w->scopes);
	ZSTD_freeCCtx(w->cctx);
	free(w->raw.data);
	free(w->stored.data);
	free(w->dict.data);
	free(w->path);
	free(w);
}

uint64_t fd_recording_writer_records(const struct fd_recording_writer *w, enum fd_signal s)
{
	return (unsigned)s < FD_SIGNAL_COUNT ? w->records[s] : 0;
}
