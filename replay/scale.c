#include "replay/scale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "otlp/pbread.h"
#include "otlp/pbwrite.h"
#include "stream/intern.h"

#define HOUR_NS 3600000000000.0

/* (resource, copy, generation) -> the resource as that instance. */
struct slot {
	const struct fd_blob *from; /* NULL: empty */
	unsigned k;
	int64_t gen;
	const struct fd_blob *to;
};

struct fd_scale {
	struct fd_scale_options o;
	int64_t t0;
	double life_ns; /* an instance's lifetime under churn; 0 = forever */
	/* Every resource that goes out comes from this one table, copy 0's
	 * too: sinks keep per-resource state by blob id, dense per table. */
	struct fd_intern *resources;
	struct slot *slots;
	size_t cap, used;
	struct pbw res, payload;
	uint8_t key[16]; /* the XOR key of the copy last asked for */
	unsigned key_of;
};

int fd_scale_create(const struct fd_scale_options *o, int64_t t0, struct fd_scale **out,
		    struct fd_error *err)
{
	*out = NULL;
	if (o->copies < 1 || o->copies > 100000)
		return fd_error_set(err, FD_EINPUT, "copies must be between 1 and 100000");
	if (!(o->churn_per_hour >= 0 && o->churn_per_hour <= 3600))
		return fd_error_set(err, FD_EINPUT, "churn must be between 0%% and 360000%% an hour");
	struct fd_scale *s = calloc(1, sizeof(*s));
	if (!s || !(s->resources = fd_intern_create())) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->o = *o;
	s->t0 = t0;
	s->life_ns = o->churn_per_hour > 0 ? HOUR_NS / o->churn_per_hour : 0;
	s->key_of = UINT32_MAX;
	*out = s;
	return 0;
}

void fd_scale_destroy(struct fd_scale *s)
{
	if (!s)
		return;
	fd_intern_destroy(s->resources);
	free(s->slots);
	pbw_finish(&s->res);
	pbw_finish(&s->payload);
	free(s);
}

/* ---- the resource as an instance of copy k, generation gen ---- */

static bool is_identity(const uint8_t *key, size_t n)
{
	static const char *const names[] = {"service.instance.id", "k8s.pod.name", "k8s.pod.uid"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == strlen(names[i]) && !memcmp(key, names[i], n))
			return true;
	return false;
}

/* The KeyValue at kv with its string value suffixed; false when it is not
 * an identity attribute with a string value (then it is copied as it is). */
static bool put_suffixed(struct pbw *w, const uint8_t *kv, size_t n, const char *suffix,
			 bool *instance_id)
{
	const uint8_t *key = NULL, *val = NULL, *str = NULL;
	size_t kn = 0, vn = 0, sn = 0;
	if (fd_pb_find(kv, n, 1, &key, &kn) < 0 || !key || !is_identity(key, kn) ||
	    fd_pb_find(kv, n, 2, &val, &vn) < 0 || !val || fd_pb_find(val, vn, 1, &str, &sn) < 0 ||
	    !str)
		return false;
	if (kn == strlen("service.instance.id") && !memcmp(key, "service.instance.id", kn))
		*instance_id = true;
	size_t sl = strlen(suffix);
	size_t m = pbw_begin(w, 1);
	pbw_bytes(w, 1, key, kn);
	size_t a = pbw_begin(w, 2);
	size_t body = sn + sl;
	pbw_tag(w, 1, PB_LEN);
	pbw_raw_varint(w, body);
	if (pbw_room(w, body)) {
		memcpy(w->buf + w->len, str, sn);
		memcpy(w->buf + w->len + sn, suffix, sl);
		w->len += body;
	}
	pbw_end(w, a);
	pbw_end(w, m);
	return true;
}

static const struct fd_blob *make_resource(struct fd_scale *s, const struct fd_blob *from,
					   unsigned k, int64_t gen, struct fd_error *err)
{
	char suffix[48] = "";
	size_t sl = 0;
	if (k)
		sl += (size_t)snprintf(suffix + sl, sizeof(suffix) - sl, "-c%u", k);
	if (gen)
		snprintf(suffix + sl, sizeof(suffix) - sl, "-g%lld", (long long)gen);
	if (!suffix[0]) {
		const struct fd_blob *b = fd_intern_add(s->resources, from->data, from->len);
		if (!b)
			fd_error_set(err, FD_ERUNTIME, "out of memory");
		return b;
	}
	struct pbw *w = &s->res;
	pbw_reset(w);
	struct fd_pb_reader r = fd_pb_reader(from->data, from->len);
	struct fd_pb_field f;
	bool instance_id = false;
	const uint8_t *at = r.p;
	int rc;
	while ((rc = fd_pb_next(&r, &f)) > 0) {
		if (!(f.num == 1 && f.type == PB_LEN && put_suffixed(w, f.p, f.n, suffix, &instance_id)) &&
		    pbw_room(w, (size_t)(r.p - at))) {
			memcpy(w->buf + w->len, at, (size_t)(r.p - at)); /* the field as it was */
			w->len += (size_t)(r.p - at);
		}
		at = r.p;
	}
	if (rc < 0) {
		fd_error_set(err, FD_EINPUT, "a resource does not decode as OTLP; cannot scale it");
		return NULL;
	}
	if (!instance_id) {
		/* a series of its own per copy: an instance id where none was */
		char id[64];
		snprintf(id, sizeof(id), "%016llx%s", (unsigned long long)fd_hash64(from->data, from->len),
			 suffix);
		otlp_attr_str(w, 1, "service.instance.id", id);
	}
	if (w->oom) {
		fd_error_set(err, FD_ERUNTIME, "out of memory");
		return NULL;
	}
	const struct fd_blob *b = fd_intern_add(s->resources, w->buf, w->len);
	if (!b)
		fd_error_set(err, FD_ERUNTIME, "out of memory");
	return b;
}

static uint64_t slot_hash(const struct fd_blob *from, unsigned k, int64_t gen)
{
	uint64_t v[3] = {(uint64_t)(uintptr_t)from, k, (uint64_t)gen};
	return fd_hash64(v, sizeof(v));
}

static int grow_slots(struct fd_scale *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	struct slot *v = calloc(cap, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		struct slot *o = &s->slots[i];
		if (!o->from)
			continue;
		size_t j = slot_hash(o->from, o->k, o->gen) & (cap - 1);
		while (v[j].from)
			j = (j + 1) & (cap - 1);
		v[j] = *o;
	}
	free(s->slots);
	s->slots = v;
	s->cap = cap;
	return 0;
}

static const struct fd_blob *resource_of(struct fd_scale *s, const struct fd_blob *from,
					 unsigned k, int64_t t, struct fd_error *err)
{
	int64_t gen = 0;
	if (s->life_ns > 0) {
		/* staggered: each (resource, copy) starts its life at its own phase */
		uint64_t h = fd_hash64(from->data, from->len) ^ (0x9e3779b97f4a7c15ull * (k + 1));
		double phase = (double)(h % 1000003) / 1000003.0 * s->life_ns;
		gen = (int64_t)floor(((double)(t - s->t0) + phase) / s->life_ns);
	}
	if (2 * (s->used + 1) > s->cap && grow_slots(s) < 0) {
		fd_error_set(err, FD_ERUNTIME, "out of memory");
		return NULL;
	}
	size_t j = slot_hash(from, k, gen) & (s->cap - 1);
	for (; s->slots[j].from; j = (j + 1) & (s->cap - 1))
		if (s->slots[j].from == from && s->slots[j].k == k && s->slots[j].gen == gen)
			return s->slots[j].to;
	const struct fd_blob *to = make_resource(s, from, k, gen, err);
	if (!to)
		return NULL;
	s->slots[j] = (struct slot){from, k, gen, to};
	s->used++;
	return to;
}

/* ---- ids ---- */

static void set_key(struct fd_scale *s, unsigned k)
{
	if (s->key_of == k)
		return;
	uint64_t a[2] = {k, 0x7472616365ull}, b[2] = {k, 0x7370616eull};
	uint64_t h1 = fd_hash64(a, sizeof(a)), h2 = fd_hash64(b, sizeof(b));
	memcpy(s->key, &h1, 8);
	memcpy(s->key + 8, &h2, 8);
	s->key_of = k;
}

static void xor_id(uint8_t *p, size_t n, const uint8_t *key)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= key[i];
}

/* The ids among the fields of msg (in the writable copy): fields `trace`
 * (16 bytes) and `spans[]` (8 bytes); `nested` is a repeated message field
 * (span links) whose fields 1 and 2 are ids as well, or 0. */
static int remap_ids(uint8_t *msg, size_t n, uint32_t trace, const uint32_t *spans, size_t n_spans,
		     uint32_t nested, const uint8_t *key)
{
	struct fd_pb_reader r = fd_pb_reader(msg, n);
	struct fd_pb_field f;
	int rc;
	while ((rc = fd_pb_next(&r, &f)) > 0) {
		if (f.type != PB_LEN)
			continue;
		uint8_t *p = msg + (f.p - msg);
		if (f.num == trace && f.n == 16)
			xor_id(p, 16, key);
		for (size_t i = 0; i < n_spans; i++)
			if (f.num == spans[i] && f.n == 8)
				xor_id(p, 8, key + 8);
		if (nested && f.num == nested) {
			static const uint32_t link_span[] = {2};
			if (remap_ids(p, f.n, 1, link_span, 1, 0, key) < 0)
				return -1;
		}
	}
	return rc;
}

int fd_scale_copy(struct fd_scale *s, const struct fd_record *rec, unsigned k,
		  struct fd_record *out, struct fd_error *err)
{
	*out = *rec;
	if (rec->resource && !(out->resource = resource_of(s, rec->resource, k, rec->time_ns, err)))
		return -err->code;
	if (k == 0 || rec->signal == FD_SIGNAL_METRICS)
		return 0; /* metrics carry no ids (exemplars keep copy 0's) */
	struct pbw *w = &s->payload;
	pbw_reset(w);
	if (!pbw_room(w, rec->payload_len ? rec->payload_len : 1))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	memcpy(w->buf, rec->payload, rec->payload_len);
	set_key(s, k);
	/* Span: trace_id 1, span_id 2, parent_span_id 4, links 13; LogRecord:
	 * trace_id 9, span_id 10 */
	static const uint32_t span_ids[] = {2, 4}, log_ids[] = {10};
	int rc = rec->signal == FD_SIGNAL_TRACES
			 ? remap_ids(w->buf, rec->payload_len, 1, span_ids, 2, 13, s->key)
			 : remap_ids(w->buf, rec->payload_len, 9, log_ids, 1, 0, s->key);
	if (rc < 0)
		return fd_error_set(err, FD_EINPUT, "a %s record does not decode as OTLP; cannot scale it",
				    fd_signal_name(rec->signal));
	out->payload = w->buf;
	return 0;
}
