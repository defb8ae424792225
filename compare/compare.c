#include "compare/compare.h"

#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/hash.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

/*
 * A record's comparable content is a list of fields: a key id (from the
 * table of field names) and a 32-bit hash of the value as protobuf-c packs
 * it, which normalizes encodings (field order, defaults) a pipeline may
 * change without changing the value. Resource fields are kept once per
 * distinct resource; a record keeps its own fields only.
 */
struct field {
	uint32_t key;
	uint32_t value;
};

struct fieldvec {
	struct field *v;
	size_t n, cap;
};

struct i64s {
	int64_t *v;
	size_t n, cap;
};

/* One sent identity. */
struct entry {
	uint64_t id;
	uint64_t content; /* hash of the resource's and the record's fields */
	int64_t time;
	int64_t capture; /* the sent record's capture time; 0: none */
	uint32_t resource; /* index into the sent side's resources */
	uint32_t service;
	uint32_t fields_off, n_fields;
	uint32_t sent_n, received_n;
	uint8_t signal;
};

/* A distinct resource of one side, by its blob id in that recording. */
struct resource_info {
	bool known;
	uint32_t service;
	char instance[128];
	uint32_t fields_off, n_fields;
	uint64_t content;
};

struct side {
	struct resource_info *res;
	size_t n_res;
	struct fieldvec fields; /* resource fields of this side */
};

struct compare {
	struct entry *entries;
	size_t n, cap;
	uint32_t *slots; /* entry index + 1, 0 = empty */
	size_t nslots;
	struct fieldvec fields; /* the sent records' own fields */
	char **keys;         /* field names by key id */
	size_t n_keys, cap_keys;
	uint32_t *key_slots; /* key id + 1 */
	size_t n_key_slots;
	struct side sent, received;
	struct fd_compare_result *res;
	struct fieldvec scratch;
	/* Per service and signal (service * FD_SIGNAL_COUNT + signal), grown
	 * as matched records come. */
	struct per_key {
		/* the tails of the longest non-decreasing run of sent times in
		 * received order (patience sorting): the records outside it are
		 * the fewest that arrived out of order */
		struct i64s tails;
		struct i64s delays; /* of the timed matched records, ns */
	} *per_key;
	size_t n_per_key;
};

static uint32_t hash32(const void *p, size_t n)
{
	return (uint32_t)(fd_hash64(p, n) >> 32);
}

static int push_field(struct fieldvec *fv, uint32_t key, uint32_t value)
{
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 64;
		struct field *v = realloc(fv->v, cap * sizeof(*v));
		if (!v)
			return -1;
		fv->v = v;
		fv->cap = cap;
	}
	fv->v[fv->n++] = (struct field){key, value};
	return 0;
}

static int key_id(struct compare *c, const char *prefix, const char *name, uint32_t *out)
{
	char buf[512];
	size_t pl = strlen(prefix), nl = strlen(name);
	if (pl + nl >= sizeof(buf))
		nl = sizeof(buf) - pl - 1;
	memcpy(buf, prefix, pl);
	memcpy(buf + pl, name, nl);
	buf[pl + nl] = 0;
	if (c->n_keys * 2 >= c->n_key_slots) {
		size_t ns = c->n_key_slots ? c->n_key_slots * 2 : 256;
		uint32_t *slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; i < c->n_keys; i++) {
			size_t s = fd_hash64(c->keys[i], strlen(c->keys[i])) & (ns - 1);
			while (slots[s])
				s = (s + 1) & (ns - 1);
			slots[s] = (uint32_t)i + 1;
		}
		free(c->key_slots);
		c->key_slots = slots;
		c->n_key_slots = ns;
	}
	size_t s = fd_hash64(buf, pl + nl) & (c->n_key_slots - 1);
	while (c->key_slots[s]) {
		uint32_t k = c->key_slots[s] - 1;
		if (strcmp(c->keys[k], buf) == 0) {
			*out = k;
			return 0;
		}
		s = (s + 1) & (c->n_key_slots - 1);
	}
	if (c->n_keys == c->cap_keys) {
		size_t cap = c->cap_keys ? c->cap_keys * 2 : 64;
		char **keys = realloc(c->keys, cap * sizeof(*keys));
		if (!keys)
			return -1;
		c->keys = keys;
		c->cap_keys = cap;
	}
	char *copy = strdup(buf);
	if (!copy)
		return -1;
	c->keys[c->n_keys] = copy;
	c->key_slots[s] = (uint32_t)c->n_keys + 1;
	*out = (uint32_t)c->n_keys++;
	return 0;
}

/* The hash of a message as protobuf-c packs it (NULL hashes as empty). */
static uint32_t message_hash(const ProtobufCMessage *m)
{
	if (!m)
		return hash32("", 0);
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t stack[1024];
	uint8_t *buf = n <= sizeof(stack) ? stack : malloc(n);
	if (!buf)
		return 0;
	protobuf_c_message_pack(m, buf);
	uint32_t h = hash32(buf, n);
	if (buf != stack)
		free(buf);
	return h;
}

static int add(struct compare *c, struct fieldvec *fv, const char *name, uint32_t value)
{
	uint32_t k;
	if (key_id(c, "", name, &k) < 0 || push_field(fv, k, value) < 0)
		return -1;
	return 0;
}

static int add_u64(struct compare *c, struct fieldvec *fv, const char *name, uint64_t v)
{
	return add(c, fv, name, hash32(&v, sizeof(v)));
}

static int add_str(struct compare *c, struct fieldvec *fv, const char *name, const char *s)
{
	return add(c, fv, name, s ? hash32(s, strlen(s)) : hash32("", 0));
}

static int add_bytes(struct compare *c, struct fieldvec *fv, const char *name,
		     ProtobufCBinaryData b)
{
	return add(c, fv, name, hash32(b.data, b.len));
}

static int add_attributes(struct compare *c, struct fieldvec *fv, const char *prefix,
			  KeyValue **kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t k;
		if (key_id(c, prefix, kv[i]->key ? kv[i]->key : "", &k) < 0 ||
		    push_field(fv, k, message_hash(&kv[i]->value->base)) < 0)
			return -1;
	}
	return 0;
}

static int cmp_field(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* Data points of any metric type, as (attributes, the point itself). */
struct point {
	size_t *n_attributes;
	KeyValue ***attributes;
	ProtobufCMessage *msg;
};

static size_t metric_points(Opentelemetry__Proto__Metrics__V1__Metric *m, struct point **out)
{
	size_t n = 0;
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		n = m->gauge->n_data_points;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
		n = m->sum->n_data_points;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		n = m->histogram->n_data_points;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
		n = m->exponential_histogram->n_data_points;
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
		n = m->summary->n_data_points;
		break;
	default:
		break;
	}
	*out = NULL;
	if (n == 0)
		return 0;
	struct point *p = calloc(n, sizeof(*p));
	if (!p)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		switch (m->data_case) {
		case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM: {
			Opentelemetry__Proto__Metrics__V1__NumberDataPoint *d =
				m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
					? m->gauge->data_points[i]
					: m->sum->data_points[i];
			p[i] = (struct point){&d->n_attributes, &d->attributes, &d->base};
			break;
		}
		case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM: {
			Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *d = m->histogram->data_points[i];
			p[i] = (struct point){&d->n_attributes, &d->attributes, &d->base};
			break;
		}
		case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM: {
			Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *d =
				m->exponential_histogram->data_points[i];
			p[i] = (struct point){&d->n_attributes, &d->attributes, &d->base};
			break;
		}
		default: {
			Opentelemetry__Proto__Metrics__V1__SummaryDataPoint *d = m->summary->data_points[i];
			p[i] = (struct point){&d->n_attributes, &d->attributes, &d->base};
			break;
		}
		}
	}
	*out = p;
	return n;
}

/*
 * A metric's fields: its own ("name", "unit", "description", "type", which
 * carries temporality and monotonicity), "points" (every point's values and
 * times, attributes left out), and per data point attribute key the values
 * of that key across the points in order, so that one rewritten label shows
 * as one rewritten field rather than as changed points.
 */
static int metric_fields(struct compare *c, Opentelemetry__Proto__Metrics__V1__Metric *m,
			 struct fieldvec *fv)
{
	if (add_str(c, fv, "name", m->name) < 0 || add_str(c, fv, "unit", m->unit) < 0 ||
	    add_str(c, fv, "description", m->description) < 0)
		return -1;
	uint32_t type[3] = {(uint32_t)m->data_case, 0, 0};
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) {
		type[1] = (uint32_t)m->sum->aggregation_temporality;
		type[2] = (uint32_t)m->sum->is_monotonic;
	} else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM) {
		type[1] = (uint32_t)m->histogram->aggregation_temporality;
	}
	if (add(c, fv, "type", hash32(type, sizeof(type))) < 0)
		return -1;
	struct point *p;
	size_t n = metric_points(m, &p);
	if (n == (size_t)-1)
		return -1;
	int rc = 0;
	uint64_t values = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		size_t na = *p[i].n_attributes;
		*p[i].n_attributes = 0;
		values = (values ^ message_hash(p[i].msg)) * 0x100000001b3ULL;
		*p[i].n_attributes = na;
	}
	if (add(c, fv, "points", (uint32_t)(values ^ (values >> 32) ^ n)) < 0)
		rc = -1;
	/* Per attribute key: the values across points, in point order. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t a = 0; a < *p[i].n_attributes && rc == 0; a++) {
			KeyValue *kv = (*p[i].attributes)[a];
			const char *key = kv->key ? kv->key : "";
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				for (size_t b = 0; b < *p[j].n_attributes && !seen; b++)
					seen = strcmp((*p[j].attributes)[b]->key, key) == 0;
			if (seen)
				continue;
			uint64_t h = 0xcbf29ce484222325ULL;
			for (size_t j = i; j < n; j++) {
				uint32_t v = hash32("", 0) ^ 0x5bd1e995u; /* absent */
				for (size_t b = 0; b < *p[j].n_attributes; b++)
					if (strcmp((*p[j].attributes)[b]->key, key) == 0)
						v = message_hash(&(*p[j].attributes)[b]->value->base);
				h = (h ^ v ^ j) * 0x100000001b3ULL;
			}
			uint32_t k;
			if (key_id(c, "points.attributes.", key, &k) < 0 ||
			    push_field(fv, k, (uint32_t)(h ^ (h >> 32))) < 0)
				rc = -1;
		}
	}
	free(p);
	return rc;
}

/*
 * Decodes one record into its identity and own fields (appended to fv,
 * sorted). Returns 0, 1 when the payload does not decode (then it is
 * compared by its bytes alone), -1 when out of memory.
 */
static int record_fields(struct compare *c, const struct fd_record *rec, const char *service,
			 const char *instance, uint64_t *id, struct fieldvec *fv)
{
	size_t start = fv->n;
	int rc = 0;
	uint64_t h[8] = {(uint64_t)rec->signal};
	switch (rec->signal) {
	case FD_SIGNAL_TRACES: {
		Opentelemetry__Proto__Trace__V1__Span *s =
			opentelemetry__proto__trace__v1__span__unpack(NULL, rec->payload_len, rec->payload);
		if (!s)
			return 1;
		uint8_t ids[25] = {0};
		memcpy(ids, s->trace_id.data, s->trace_id.len < 16 ? s->trace_id.len : 16);
		memcpy(ids + 16, s->span_id.data, s->span_id.len < 8 ? s->span_id.len : 8);
		ids[24] = (uint8_t)rec->signal;
		*id = fd_hash64(ids, sizeof(ids));
		if (add_str(c, fv, "name", s->name) < 0 || add_u64(c, fv, "kind", (uint64_t)s->kind) < 0 ||
		    add_u64(c, fv, "start_time", s->start_time_unix_nano) < 0 ||
		    add_u64(c, fv, "end_time", s->end_time_unix_nano) < 0 ||
		    add_bytes(c, fv, "parent_span_id", s->parent_span_id) < 0 ||
		    add_u64(c, fv, "flags", s->flags) < 0 ||
		    add(c, fv, "status", message_hash(s->status ? &s->status->base : NULL)) < 0 ||
		    add_attributes(c, fv, "attributes.", s->attributes, s->n_attributes) < 0)
			rc = -1;
		for (size_t i = 0; i < s->n_events && rc == 0; i++)
			if (add(c, fv, "events", message_hash(&s->events[i]->base) ^ (uint32_t)i) < 0)
				rc = -1;
		for (size_t i = 0; i < s->n_links && rc == 0; i++)
			if (add(c, fv, "links", message_hash(&s->links[i]->base) ^ (uint32_t)i) < 0)
				rc = -1;
		opentelemetry__proto__trace__v1__span__free_unpacked(s, NULL);
		break;
	}
	case FD_SIGNAL_LOGS: {
		Opentelemetry__Proto__Logs__V1__LogRecord *l =
			opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec->payload_len,
									  rec->payload);
		if (!l)
			return 1;
		uint32_t body = message_hash(l->body ? &l->body->base : NULL);
		h[1] = fd_hash64(service, strlen(service));
		h[2] = l->time_unix_nano ? l->time_unix_nano : l->observed_time_unix_nano;
		h[3] = (uint64_t)l->severity_number;
		h[4] = fd_hash64(l->trace_id.data, l->trace_id.len);
		h[5] = fd_hash64(l->span_id.data, l->span_id.len);
		h[6] = body;
		*id = fd_hash64(h, sizeof(h));
		if (add_u64(c, fv, "time", l->time_unix_nano) < 0 ||
		    add_u64(c, fv, "observed_time", l->observed_time_unix_nano) < 0 ||
		    add_u64(c, fv, "severity_number", (uint64_t)l->severity_number) < 0 ||
		    add_str(c, fv, "severity_text", l->severity_text) < 0 || add(c, fv, "body", body) < 0 ||
		    add_bytes(c, fv, "trace_id", l->trace_id) < 0 ||
		    add_bytes(c, fv, "span_id", l->span_id) < 0 || add_u64(c, fv, "flags", l->flags) < 0 ||
		    add_str(c, fv, "event_name", l->event_name) < 0 ||
		    add_attributes(c, fv, "attributes.", l->attributes, l->n_attributes) < 0)
			rc = -1;
		opentelemetry__proto__logs__v1__log_record__free_unpacked(l, NULL);
		break;
	}
	default: {
		Opentelemetry__Proto__Metrics__V1__Metric *m =
			opentelemetry__proto__metrics__v1__metric__unpack(NULL, rec->payload_len,
									  rec->payload);
		if (!m)
			return 1;
		h[1] = fd_hash64(service, strlen(service));
		h[2] = fd_hash64(instance, strlen(instance));
		h[3] = fd_hash64(m->name, strlen(m->name));
		h[4] = (uint64_t)rec->time_ns;
		*id = fd_hash64(h, sizeof(h));
		rc = metric_fields(c, m, fv);
		opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
		break;
	}
	}
	if (rc == 0)
		if (fv->n - start > 1)
			qsort(fv->v + start, fv->n - start, sizeof(struct field), cmp_field);
	return rc;
}

static int service_index(struct compare *c, const char *name, uint32_t *out)
{
	struct fd_compare_result *r = c->res;
	for (size_t i = 0; i < r->n_services; i++)
		if (strcmp(r->services[i].name, name) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
	struct fd_compare_service *s = realloc(r->services, (r->n_services + 1) * sizeof(*s));
	if (!s)
		return -1;
	r->services = s;
	memset(&s[r->n_services], 0, sizeof(*s));
	if (!(s[r->n_services].name = strdup(name)))
		return -1;
	*out = (uint32_t)r->n_services++;
	return 0;
}

static uint64_t fields_hash(const struct field *f, size_t n)
{
	return n ? fd_hash64(f, n * sizeof(*f)) : 0;
}

/* The resource of rec on one side, decoded once per blob id. */
static int resource_of(struct compare *c, struct side *sd, const struct fd_record *rec,
		       struct resource_info **out)
{
	static const struct fd_blob empty = {0, 0, NULL};
	const struct fd_blob *b = rec->resource ? rec->resource : &empty;
	if (b->id >= sd->n_res) {
		size_t n = (size_t)b->id + 1;
		struct resource_info *ri = realloc(sd->res, n * sizeof(*ri));
		if (!ri)
			return -1;
		memset(ri + sd->n_res, 0, (n - sd->n_res) * sizeof(*ri));
		sd->res = ri;
		sd->n_res = n;
	}
	struct resource_info *ri = &sd->res[b->id];
	if (!ri->known) {
		const char *service = "";
		Opentelemetry__Proto__Resource__V1__Resource *res =
			b->len ? opentelemetry__proto__resource__v1__resource__unpack(NULL, b->len, b->data)
			       : NULL;
		ri->fields_off = (uint32_t)sd->fields.n;
		if (res) {
			for (size_t i = 0; i < res->n_attributes; i++) {
				KeyValue *kv = res->attributes[i];
				Opentelemetry__Proto__Common__V1__AnyValue *v = kv->value;
				bool str = v && v->value_case ==
							OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
				if (str && strcmp(kv->key, "service.name") == 0)
					service = v->string_value;
				if (str && strcmp(kv->key, "service.instance.id") == 0)
					snprintf(ri->instance, sizeof(ri->instance), "%s", v->string_value);
			}
			/* Without a service (the collector's infrastructure
			 * receivers: a node, a pod, a database), the resource's
			 * attributes are what tells its records apart: their
			 * hash, in any order, stands for the instance. */
			if (!*service && !ri->instance[0]) {
				uint64_t h = 0;
				for (size_t i = 0; i < res->n_attributes; i++) {
					KeyValue *kv = res->attributes[i];
					uint64_t kh = fd_hash64(kv->key, strlen(kv->key));
					h ^= kh * 0x9e3779b97f4a7c15ULL ^
					     (kv->value ? message_hash(&kv->value->base) : 0);
				}
				snprintf(ri->instance, sizeof(ri->instance), "resource:%016llx",
					 (unsigned long long)h);
			}
			if (add_attributes(c, &sd->fields, "resource.", res->attributes,
					   res->n_attributes) < 0) {
				opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
				return -1;
			}
		} else if (b->len) {
			if (add(c, &sd->fields, "resource", hash32(b->data, b->len)) < 0)
				return -1;
		}
		int rc = service_index(c, service, &ri->service);
		if (res)
			opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
		if (rc < 0)
			return -1;
		ri->n_fields = (uint32_t)(sd->fields.n - ri->fields_off);
		if (ri->n_fields > 1)
			qsort(sd->fields.v + ri->fields_off, ri->n_fields, sizeof(struct field), cmp_field);
		ri->content = fields_hash(sd->fields.v + ri->fields_off, ri->n_fields);
		ri->known = true;
	}
	*out = ri;
	return 0;
}

static int grow_slots(struct compare *c)
{
	size_t ns = c->nslots ? c->nslots * 2 : 1024;
	uint32_t *slots = calloc(ns, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		size_t s = c->entries[i].id & (ns - 1);
		while (slots[s])
			s = (s + 1) & (ns - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = ns;
	return 0;
}

static struct entry *lookup(struct compare *c, uint64_t id, size_t *slot)
{
	if (!c->nslots)
		return NULL;
	size_t s = id & (c->nslots - 1);
	while (c->slots[s]) {
		struct entry *e = &c->entries[c->slots[s] - 1];
		if (e->id == id)
			return e;
		s = (s + 1) & (c->nslots - 1);
	}
	if (slot)
		*slot = s;
	return NULL;
}

static int add_sent(struct compare *c, const struct fd_record *rec)
{
	struct resource_info *ri;
	if (resource_of(c, &c->sent, rec, &ri) < 0)
		return -1;
	struct fd_compare_service *svc = &c->res->services[ri->service];
	svc->by_signal[rec->signal].sent++;
	c->res->total[rec->signal].sent++;
	uint64_t id;
	size_t start = c->fields.n;
	int rc = record_fields(c, rec, svc->name, ri->instance, &id, &c->fields);
	if (rc < 0)
		return -1;
	if (rc == 1) { /* undecodable: identity and content are its bytes */
		id = fd_hash64(rec->payload, rec->payload_len) ^ (uint64_t)rec->signal;
		if (add(c, &c->fields, "payload", hash32(rec->payload, rec->payload_len)) < 0)
			return -1;
	}
	if ((c->n + 1) * 2 > c->nslots && grow_slots(c) < 0)
		return -1;
	size_t slot = 0;
	struct entry *e = lookup(c, id, &slot);
	if (e) { /* the same identity again: one more copy, keep the first's content */
		e->sent_n++;
		c->fields.n = start;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		struct entry *v = realloc(c->entries, cap * sizeof(*v));
		if (!v)
			return -1;
		c->entries = v;
		c->cap = cap;
	}
	e = &c->entries[c->n];
	*e = (struct entry){
		.id = id,
		.time = rec->time_ns,
		.capture = rec->capture_ns,
		.resource = (uint32_t)(ri - c->sent.res),
		.service = ri->service,
		.fields_off = (uint32_t)start,
		.n_fields = (uint32_t)(c->fields.n - start),
		.sent_n = 1,
		.signal = (uint8_t)rec->signal,
	};
	e->content = ri->content ^ fields_hash(c->fields.v + start, e->n_fields);
	c->slots[slot] = (uint32_t)++c->n;
	return 0;
}

static int field_fate(struct compare *c, enum fd_signal sig, uint32_t key, int what)
{
	struct fd_compare_result *r = c->res;
	const char *name = c->keys[key];
	size_t i = 0;
	while (i < r->n_fields && !(r->fields[i].signal == sig && strcmp(r->fields[i].key, name) == 0))
		i++;
	if (i == r->n_fields) {
		struct fd_compare_field *f = realloc(r->fields, (r->n_fields + 1) * sizeof(*f));
		if (!f)
			return -1;
		r->fields = f;
		memset(&f[i], 0, sizeof(f[i]));
		f[i].signal = sig;
		if (!(f[i].key = strdup(name)))
			return -1;
		r->n_fields++;
	}
	if (what < 0)
		r->fields[i].dropped++;
	else if (what == 0)
		r->fields[i].rewritten++;
	else
		r->fields[i].added++;
	return 0;
}

/* Walks two sorted field lists: each key dropped, rewritten or added. A key
 * may repeat (a span's events): repeated values are compared as multisets. */
static int diff_fields(struct compare *c, enum fd_signal sig, const struct field *a, size_t na,
		       const struct field *b, size_t nb)
{
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		uint32_t key = i < na && (j >= nb || a[i].key <= b[j].key) ? a[i].key : b[j].key;
		size_t ei = i, ej = j;
		while (ei < na && a[ei].key == key)
			ei++;
		while (ej < nb && b[ej].key == key)
			ej++;
		int what = 2; /* same */
		if (ei == i)
			what = 1;
		else if (ej == j)
			what = -1;
		else if (ei - i != ej - j || memcmp(a + i, b + j, (ei - i) * sizeof(*a)) != 0)
			what = 0;
		if (what != 2 && field_fate(c, sig, key, what) < 0)
			return -1;
		i = ei;
		j = ej;
	}
	return 0;
}

static int push_i64(struct i64s *a, int64_t v)
{
	if (!fd_grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)))
		return -1;
	a->v[a->n++] = v;
	return 0;
}

/* e's service and signal's; NULL when out of memory. */
static struct per_key *per_key_of(struct compare *c, const struct entry *e)
{
	size_t k = (size_t)e->service * FD_SIGNAL_COUNT + e->signal;
	if (k >= c->n_per_key) {
		size_t n = k + 1;
		struct per_key *pk = realloc(c->per_key, n * sizeof(*pk));
		if (!pk)
			return NULL;
		memset(pk + c->n_per_key, 0, (n - c->n_per_key) * sizeof(*pk));
		c->per_key = pk;
		c->n_per_key = n;
	}
	return &c->per_key[k];
}

/* Extends the run of sent times in tails with time: the first tail greater
 * than it is replaced, or it is appended (O(log n) per record). */
static int in_order(struct i64s *tails, int64_t time)
{
	size_t lo = 0, hi = tails->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tails->v[mid] <= time)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < tails->n) {
		tails->v[lo] = time;
		return 0;
	}
	return push_i64(tails, time);
}

/* The delays of signal s over every service together. -1 when out of
 * memory. */
static int signal_delay(const struct compare *c, int s, struct fd_compare_delay *out)
{
	size_t n = 0;
	for (size_t k = (size_t)s; k < c->n_per_key; k += FD_SIGNAL_COUNT)
		n += c->per_key[k].delays.n;
	int64_t *all = NULL;
	if (n && !(all = malloc(n * sizeof(*all))))
		return -1;
	size_t i = 0;
	for (size_t k = (size_t)s; k < c->n_per_key; k += FD_SIGNAL_COUNT) {
		const struct i64s *d = &c->per_key[k].delays;
		if (d->n) /* an empty one may have no array */
			memcpy(all + i, d->v, d->n * sizeof(*all));
		i += d->n;
	}
	fd_compare_delay_of(all, n, out);
	free(all);
	return 0;
}

static int add_received(struct compare *c, const struct fd_record *rec)
{
	struct resource_info *ri;
	if (resource_of(c, &c->received, rec, &ri) < 0)
		return -1;
	struct fd_compare_result *r = c->res;
	r->total[rec->signal].received++;
	r->services[ri->service].by_signal[rec->signal].received++;
	uint64_t id;
	c->scratch.n = 0;
	int rc = record_fields(c, rec, r->services[ri->service].name, ri->instance, &id, &c->scratch);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		id = fd_hash64(rec->payload, rec->payload_len) ^ (uint64_t)rec->signal;
		if (add(c, &c->scratch, "payload", hash32(rec->payload, rec->payload_len)) < 0)
			return -1;
	}
	struct entry *e = lookup(c, id, NULL);
	if (!e) {
		r->total[rec->signal].unexpected++;
		r->services[ri->service].by_signal[rec->signal].unexpected++;
		return 0;
	}
	struct fd_compare_counts *sc = &r->services[e->service].by_signal[e->signal];
	struct fd_compare_counts *tc = &r->total[e->signal];
	if (++e->received_n > e->sent_n) {
		sc->duplicated++;
		tc->duplicated++;
		return 0;
	}
	sc->matched++;
	tc->matched++;
	struct per_key *pk = per_key_of(c, e);
	if (!pk || in_order(&pk->tails, e->time) < 0)
		return -1;
	if (rec->capture_ns) {
		int64_t from = e->capture ? e->capture : e->time;
		if (e->capture)
			r->delay_from_capture++;
		else
			r->delay_from_time++;
		if (push_i64(&pk->delays, (int64_t)((uint64_t)rec->capture_ns - (uint64_t)from)) < 0)
			return -1;
	}
	uint64_t content = ri->content ^ fields_hash(c->scratch.v, c->scratch.n);
	if (content == e->content)
		return 0;
	sc->changed++;
	tc->changed++;
	const struct resource_info *sr = &c->sent.res[e->resource];
	if (diff_fields(c, (enum fd_signal)e->signal, c->sent.fields.v + sr->fields_off,
			sr->n_fields, c->received.fields.v + ri->fields_off, ri->n_fields) < 0)
		return -1;
	return diff_fields(c, (enum fd_signal)e->signal, c->fields.v + e->fields_off, e->n_fields,
			   c->scratch.v, c->scratch.n);
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct fd_compare_service *)a)->name,
		      ((const struct fd_compare_service *)b)->name);
}

static int cmp_fate(const void *a, const void *b)
{
	const struct fd_compare_field *x = a, *y = b;
	uint64_t nx = x->dropped + x->rewritten + x->added, ny = y->dropped + y->rewritten + y->added;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	if (x->signal != y->signal)
		return x->signal < y->signal ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int read_all(struct compare *c, struct fd_recording_reader *rd, bool sent,
		    struct fd_error *err)
{
	struct fd_record rec;
	int rc;
	while ((rc = fd_recording_reader_next(rd, &rec, err)) == 1) {
		if ((unsigned)rec.signal >= FD_SIGNAL_COUNT)
			continue;
		if ((sent ? add_sent(c, &rec) : add_received(c, &rec)) < 0)
			return fd_error_set(err, FD_ERUNTIME, "out of memory comparing recordings");
	}
	return rc;
}

int fd_compare_run(struct fd_recording_reader *sent, struct fd_recording_reader *received,
		   struct fd_compare_result *res, struct fd_error *err)
{
	memset(res, 0, sizeof(*res));
	struct compare c = {.res = res};
	int rc = read_all(&c, sent, true, err);
	if (rc < 0) {
		fd_error_prefix(err, "sent recording");
		goto out;
	}
	rc = read_all(&c, received, false, err);
	if (rc < 0) {
		fd_error_prefix(err, "received recording");
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct entry *e = &c.entries[i];
		if (e->received_n < e->sent_n) {
			uint64_t lost = e->sent_n - e->received_n;
			res->total[e->signal].lost += lost;
			res->services[e->service].by_signal[e->signal].lost += lost;
		}
	}
	for (size_t k = 0; k < c.n_per_key; k++) {
		struct fd_compare_service *svc = &res->services[k / FD_SIGNAL_COUNT];
		struct fd_compare_counts *sc = &svc->by_signal[k % FD_SIGNAL_COUNT];
		sc->reordered = sc->matched - c.per_key[k].tails.n;
		res->total[k % FD_SIGNAL_COUNT].reordered += sc->reordered;
		fd_compare_delay_of(c.per_key[k].delays.v, c.per_key[k].delays.n,
				    &svc->delay[k % FD_SIGNAL_COUNT]);
	}
	for (int s = 0; s < FD_SIGNAL_COUNT; s++)
		if (signal_delay(&c, s, &res->delay[s]) < 0) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory comparing recordings");
			goto out;
		}
	if (res->n_fields > 1)
		qsort(res->fields, res->n_fields, sizeof(*res->fields), cmp_fate);
	if (res->n_services > 1)
		qsort(res->services, res->n_services, sizeof(*res->services), cmp_service);
	rc = 0;
out:
	for (size_t k = 0; k < c.n_per_key; k++) {
		free(c.per_key[k].tails.v);
		free(c.per_key[k].delays.v);
	}
	free(c.per_key);
	free(c.entries);
	free(c.slots);
	free(c.fields.v);
	free(c.scratch.v);
	for (size_t i = 0; i < c.n_keys; i++)
		free(c.keys[i]);
	free(c.keys);
	free(c.key_slots);
	free(c.sent.res);
	free(c.sent.fields.v);
	free(c.received.res);
	free(c.received.fields.v);
	return rc;
}

bool fd_compare_clean(const struct fd_compare_result *res)
{
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		const struct fd_compare_counts *t = &res->total[s];
		if (t->lost || t->duplicated || t->unexpected || t->changed)
			return false;
	}
	return true;
}

void fd_compare_result_finish(struct fd_compare_result *res)
{
	for (size_t i = 0; i < res->n_services; i++)
		free(res->services[i].name);
	free(res->services);
	for (size_t i = 0; i < res->n_fields; i++)
		free(res->fields[i].key);
	free(res->fields);
	memset(res, 0, sizeof(*res));
}
