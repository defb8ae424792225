#include "sinks/batcher.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timemath.h"
#include "common/units.h"

/* A held keyed record: its key and its index in the hold batch. */
struct keyed {
	uint8_t key[16];
	uint8_t keylen;
	size_t idx;
};

/* One signal's requests. */
struct lane {
	struct fd_otlp_batch *open; /* unkeyed: the request being filled */
	struct fd_otlp_batch *hold; /* keyed records, in arrival order */
	struct keyed *keys;         /* one per held record */
	size_t n_keys, cap_keys;
	size_t hold_wire;           /* held payload bytes, with their field prefixes */
	size_t open_bytes, hold_bytes; /* payload bytes in open and in hold */
};

struct fd_batcher {
	struct fd_batcher_limits l;
	fd_batcher_emit_fn emit;
	void *ctx;
	struct lane lane[FD_SIGNAL_COUNT];
	struct fd_otlp_batch *out; /* a request of one key, cut from a hold */
	_Atomic int64_t *queued;   /* NULL: not published */
};

int fd_batcher_option(struct fd_batcher_limits *l, const char *uri, const char *key,
		      const char *val, int64_t max_bytes, struct fd_error *err)
{
	const char *why = NULL;
	char range[64];
	if (!strcmp(key, "batch_records")) {
		long long n;
		if (fd_units_integer(val, 1, 10000000, &n, &why) < 0)
			goto bad;
		l->records = (size_t)n;
	} else if (!strcmp(key, "batch_bytes")) {
		int64_t n;
		if (fd_units_size(val, &n, &why) < 0)
			goto bad;
		if (n < 1 || n > max_bytes) {
			snprintf(range, sizeof(range), "must be between 1 and %lld bytes",
				 (long long)max_bytes);
			why = range;
			goto bad;
		}
		l->bytes = (size_t)n;
	} else if (!strcmp(key, "batch_window")) {
		if (fd_units_duration(val, &l->window, &why) < 0)
			goto bad;
	} else {
		return 0;
	}
	return 1;
bad:
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

static void publish(struct fd_batcher *b)
{
	if (!b->queued)
		return;
	size_t n = 0;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++)
		n += b->lane[i].open_bytes + b->lane[i].hold_bytes;
	atomic_store_explicit(b->queued, (int64_t)n, memory_order_relaxed);
}

void fd_batcher_publish(struct fd_batcher *b, _Atomic int64_t *queued)
{
	b->queued = queued;
	publish(b);
}

struct fd_batcher *fd_batcher_create(const struct fd_batcher_limits *limits,
				     fd_batcher_emit_fn emit, void *ctx)
{
	struct fd_batcher *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->l = *limits;
	b->emit = emit;
	b->ctx = ctx;
	return b;
}

void fd_batcher_destroy(struct fd_batcher *b)
{
	if (!b)
		return;
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		fd_otlp_batch_destroy(b->lane[i].open);
		fd_otlp_batch_destroy(b->lane[i].hold);
		free(b->lane[i].keys);
	}
	fd_otlp_batch_destroy(b->out);
	free(b);
}

static int oom(struct fd_error *err)
{
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

static int send(struct fd_batcher *b, enum fd_signal sig, const struct fd_otlp_batch *req,
		const uint8_t *key, size_t keylen, struct fd_error *err);

/* Records lo..hi of src as a request of their own. */
static int send_part(struct fd_batcher *b, enum fd_signal sig, const struct fd_otlp_batch *src,
		     size_t lo, size_t hi, const uint8_t *key, size_t keylen, struct fd_error *err)
{
	struct fd_otlp_batch *part = fd_otlp_batch_create();
	int rc = part ? 0 : oom(err);
	for (size_t i = lo; i < hi && rc == 0; i++) {
		struct fd_record r;
		fd_otlp_batch_get(src, i, &r);
		if (fd_otlp_batch_add(part, &r) < 0)
			rc = oom(err);
	}
	if (rc == 0)
		rc = send(b, sig, part, key, keylen, err);
	fd_otlp_batch_destroy(part);
	return rc;
}

/* One request to the sink; again in halves when it asks (FD_BATCHER_SPLIT). */
static int send(struct fd_batcher *b, enum fd_signal sig, const struct fd_otlp_batch *req,
		const uint8_t *key, size_t keylen, struct fd_error *err)
{
	size_t n = fd_otlp_batch_count(req);
	int rc = b->emit(b->ctx, sig, req, key, keylen, err);
	if (rc != FD_BATCHER_SPLIT || n < 2)
		return rc < 0 ? rc : 0;
	rc = send_part(b, sig, req, 0, n / 2, key, keylen, err);
	return rc < 0 ? rc : send_part(b, sig, req, n / 2, n, key, keylen, err);
}

static int send_open(struct fd_batcher *b, enum fd_signal sig, struct fd_error *err)
{
	struct fd_otlp_batch *open = b->lane[sig].open;
	if (!open || fd_otlp_batch_count(open) == 0)
		return 0;
	int rc = send(b, sig, open, NULL, 0, err);
	fd_otlp_batch_reset(open);
	b->lane[sig].open_bytes = 0;
	publish(b);
	return rc;
}

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	int c = memcmp(x->key, y->key, x->keylen);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool same_key(const struct keyed *x, const struct keyed *y)
{
	return x->keylen == y->keylen && memcmp(x->key, y->key, x->keylen) == 0;
}

/* Every held record, as requests of one key each. */
static int send_hold(struct fd_batcher *b, enum fd_signal sig, struct fd_error *err)
{
	struct lane *ln = &b->lane[sig];
	if (ln->n_keys == 0)
		return 0;
	if (!b->out && !(b->out = fd_otlp_batch_create()))
		return oom(err);
	qsort(ln->keys, ln->n_keys, sizeof(ln->keys[0]), cmp_keyed);
	int rc = 0;
	fd_otlp_batch_reset(b->out);
	for (size_t i = 0; i < ln->n_keys && rc == 0; i++) {
		const struct keyed *k = &ln->keys[i];
		struct fd_record r;
		fd_otlp_batch_get(ln->hold, k->idx, &r);
		size_t n = fd_otlp_batch_count(b->out);
		if (n && (n >= b->l.records || fd_otlp_batch_size_with(b->out, &r) > b->l.bytes)) {
			rc = send(b, sig, b->out, k->key, k->keylen, err);
			fd_otlp_batch_reset(b->out);
		}
		if (rc == 0 && fd_otlp_batch_add(b->out, &r) < 0)
			rc = oom(err);
		/* the key's last record: its request goes */
		if (rc == 0 && (i + 1 == ln->n_keys || !same_key(k, &ln->keys[i + 1]))) {
			rc = send(b, sig, b->out, k->key, k->keylen, err);
			fd_otlp_batch_reset(b->out);
		}
	}
	fd_otlp_batch_reset(ln->hold);
	ln->n_keys = 0;
	ln->hold_wire = 0;
	ln->hold_bytes = 0;
	publish(b);
	return rc;
}

static size_t field_len(size_t body)
{
	return 1 + pbw_varint_len(body) + body;
}

static int add_keyed(struct fd_batcher *b, const struct fd_record *rec, const uint8_t *key,
		     size_t keylen, struct fd_error *err)
{
	struct lane *ln = &b->lane[rec->signal];
	int rc;
	if (!ln->hold && !(ln->hold = fd_otlp_batch_create()))
		return oom(err);
	if (ln->n_keys &&
	    fd_time_sub_sat(rec->time_ns, fd_otlp_batch_first_time(ln->hold)) > b->l.window &&
	    (rc = send_hold(b, rec->signal, err)) < 0)
		return rc;
	if (ln->n_keys == ln->cap_keys) {
		size_t cap = ln->cap_keys ? 2 * ln->cap_keys : 256;
		struct keyed *v = realloc(ln->keys, cap * sizeof(*v));
		if (!v)
			return oom(err);
		ln->keys = v;
		ln->cap_keys = cap;
	}
	if (fd_otlp_batch_add(ln->hold, rec) < 0)
		return oom(err);
	struct keyed *k = &ln->keys[ln->n_keys];
	k->keylen = (uint8_t)(keylen > sizeof(k->key) ? sizeof(k->key) : keylen);
	memcpy(k->key, key, k->keylen);
	k->idx = ln->n_keys++;
	ln->hold_wire += field_len(rec->payload_len);
	ln->hold_bytes += rec->payload_len;
	publish(b);
	if (ln->n_keys >= b->l.records || ln->hold_wire >= b->l.bytes)
		return send_hold(b, rec->signal, err);
	return 0;
}

int fd_batcher_add(struct fd_batcher *b, const struct fd_record *rec, const uint8_t *key,
		   size_t keylen, struct fd_error *err)
{
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "unknown signal %d", (int)rec->signal);
	if (keylen)
		return add_keyed(b, rec, key, keylen, err);
	struct fd_otlp_batch **open = &b->lane[rec->signal].open;
	if (!*open && !(*open = fd_otlp_batch_create()))
		return oom(err);
	int rc;
	if (fd_otlp_batch_count(*open) &&
	    (fd_otlp_batch_size_with(*open, rec) > b->l.bytes ||
	     fd_time_sub_sat(rec->time_ns, fd_otlp_batch_first_time(*open)) > b->l.window) &&
	    (rc = send_open(b, rec->signal, err)) < 0)
		return rc;
	if (fd_otlp_batch_add(*open, rec) < 0)
		return oom(err);
	b->lane[rec->signal].open_bytes += rec->payload_len;
	publish(b);
	if (fd_otlp_batch_count(*open) >= b->l.records)
		return send_open(b, rec->signal, err);
	return 0;
}

int fd_batcher_flush(struct fd_batcher *b, struct fd_error *err)
{
	for (;;) {
		/* the oldest pending request first: an open one or a hold */
		const struct fd_otlp_batch *oldest = NULL;
		int sig = -1;
		bool hold = false;
		for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
			const struct fd_otlp_batch *c[2] = {b->lane[i].open, b->lane[i].hold};
			for (int h = 0; h < 2; h++)
				if (c[h] && fd_otlp_batch_count(c[h]) &&
				    (!oldest ||
				     fd_otlp_batch_first_time(c[h]) < fd_otlp_batch_first_time(oldest))) {
					oldest = c[h];
					sig = i;
					hold = h;
				}
		}
		if (sig < 0)
			return 0;
		int rc = hold ? send_hold(b, (enum fd_signal)sig, err)
			      : send_open(b, (enum fd_signal)sig, err);
		if (rc < 0)
			return rc;
	}
}
