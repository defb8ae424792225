#include "rewrite/rewrite.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/wire.h"
#include "recording/writer.h"
#include "stream/intern.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

/*
 * One walker serves rewrite and check: it visits every string of a decoded
 * message through the protobuf-c descriptors, knowing where the string sits
 * (an attribute value and its key, a body, a name). Rewriting replaces the
 * string in place: protobuf-c's default allocator is malloc, so a string
 * we malloc is freed by free_unpacked like its own.
 */
enum mode { REWRITE, CHECK };

struct walker {
	enum mode mode;
	const struct fd_rewrite_rules *rules;
	struct fd_rewrite_stats *st;
	struct fd_rewrite_findings *found;
	int failed; /* out of memory */
	char *buf;  /* scratch for building strings */
	size_t cap;
};

static bool is_word(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ensure(struct walker *w, size_t n)
{
	if (n <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < n)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b)
		return -1;
	w->buf = b;
	w->cap = cap;
	return 0;
}

/* Replaces every whole-word occurrence of each rename (a word ends where a
 * letter or digit does not follow: "checkout" renames "checkout-7f9c-x2" and
 * "http://checkout:8080", not "checkouts"). Returns a malloc'd string, or
 * NULL when nothing changed (or on failure, with w->failed set). */
static char *apply_renames(struct walker *w, const char *s, size_t n)
{
	const struct fd_rewrite_rules *r = w->rules;
	char *cur = NULL;
	size_t cur_n = n;
	for (size_t k = 0; k < r->n_renames; k++) {
		const struct fd_rewrite_rename *rn = &r->renames[k];
		const char *src = cur ? cur : s;
		size_t out = 0;
		bool changed = false;
		if (ensure(w, cur_n + 1) < 0)
			goto oom;
		for (size_t i = 0; i < cur_n;) {
			if (i + rn->from_len <= cur_n && memcmp(src + i, rn->from, rn->from_len) == 0 &&
			    (i == 0 || !is_word(src[i - 1])) &&
			    (i + rn->from_len == cur_n || !is_word(src[i + rn->from_len]))) {
				if (ensure(w, out + rn->to_len + (cur_n - i) + 1) < 0)
					goto oom;
				memcpy(w->buf + out, rn->to, rn->to_len);
				out += rn->to_len;
				i += rn->from_len;
				changed = true;
			} else {
				if (ensure(w, out + 2 + (cur_n - i)) < 0)
					goto oom;
				w->buf[out++] = src[i++];
			}
		}
		if (!changed)
			continue;
		char *next = malloc(out + 1);
		if (!next)
			goto oom;
		memcpy(next, w->buf, out);
		next[out] = 0;
		free(cur);
		cur = next;
		cur_n = out;
	}
	return cur;
oom:
	free(cur);
	w->failed = 1;
	return NULL;
}

static bool key_allowed(const struct fd_rewrite_value_rule *v, const char *key)
{
	if (!v->n_keys)
		return true;
	if (!key)
		return false;
	for (size_t i = 0; i < v->n_keys; i++)
		if (fnmatch(v->keys[i], key, 0) == 0)
			return true;
	return false;
}

/* The first match of rule v in s[from..n). */
static bool rule_find(const struct fd_rewrite_value_rule *v, const char *s, size_t n, size_t from,
		      size_t *start, size_t *len)
{
	if (v->kind != FD_SCRUB_REGEX)
		return fd_scrub_find(v->kind, s, n, from, start, len);
	/* regexec needs a NUL-terminated string; protobuf-c strings are. */
	regmatch_t m;
	if (from >= n || regexec(&v->re, s + from, 1, &m, from ? REG_NOTBOL : 0) != 0 ||
	    m.rm_eo <= m.rm_so)
		return false;
	*start = from + (size_t)m.rm_so;
	*len = (size_t)(m.rm_eo - m.rm_so);
	return true;
}

static void note_finding(struct walker *w, const char *place, const char *kind, const char *s,
			 size_t n)
{
	struct fd_rewrite_findings *f = w->found;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == kind && strcmp(f->v[i].place, place) == 0) {
			f->v[i].count++;
			return;
		}
	struct fd_rewrite_finding *v = realloc(f->v, (f->n + 1) * sizeof(*v));
	if (!v) {
		w->failed = 1;
		return;
	}
	f->v = v;
	v[f->n] = (struct fd_rewrite_finding){.kind = kind, .count = 1};
	if (!(v[f->n].place = strdup(place))) {
		w->failed = 1;
		return;
	}
	fd_scrub_mask(s, n, v[f->n].example);
	f->n++;
}

/* Rewrites or checks one string at *sp; place names it for --check and for
 * key-limited rules. */
static void visit_string(struct walker *w, char **sp, unsigned where, const char *key,
			 const char *place)
{
	char *s = *sp;
	if (!s || !*s)
		return;
	size_t n = strlen(s);
	if (w->mode == CHECK) {
		w->found->strings++;
		for (int k = 0; k < FD_SCRUB_BUILTIN_COUNT; k++) {
			size_t a, l;
			if (fd_scrub_find((enum fd_scrub_kind)k, s, n, 0, &a, &l))
				note_finding(w, place, fd_scrub_kind_name((enum fd_scrub_kind)k), s + a, l);
		}
		const struct fd_rewrite_rules *r = w->rules;
		for (size_t i = 0; r && i < r->n_values; i++) {
			size_t a, l;
			if (r->values[i].kind == FD_SCRUB_REGEX && key_allowed(&r->values[i], key) &&
			    rule_find(&r->values[i], s, n, 0, &a, &l))
				note_finding(w, place, r->values[i].name, s + a, l);
		}
		return;
	}
	char *cur = apply_renames(w, s, n);
	if (w->failed)
		return;
	size_t cur_n = cur ? strlen(cur) : n;
	for (size_t i = 0; i < w->rules->n_values; i++) {
		const struct fd_rewrite_value_rule *v = &w->rules->values[i];
		if (!(v->where & where) || !key_allowed(v, key))
			continue;
		const char *src = cur ? cur : s;
		size_t from = 0, a, l, out = 0;
		bool changed = false;
		while (rule_find(v, src, cur_n, from, &a, &l)) {
			char pseudo[64];
			const char *rep = v->with;
			if (v->action == FD_REWRITE_HASH) {
				fd_scrub_pseudonym(v->kind, w->rules->key, w->rules->key_len, src + a, l, pseudo);
				rep = pseudo;
				w->st->values_hashed++;
			} else {
				w->st->values_replaced++;
			}
			size_t rl = strlen(rep);
			if (ensure(w, out + (a - from) + rl + 1) < 0) {
				w->failed = 1;
				free(cur);
				return;
			}
			memcpy(w->buf + out, src + from, a - from);
			out += a - from;
			memcpy(w->buf + out, rep, rl);
			out += rl;
			from = a + l;
			changed = true;
		}
		if (!changed)
			continue;
		if (ensure(w, out + (cur_n - from) + 1) < 0) {
			w->failed = 1;
			free(cur);
			return;
		}
		memcpy(w->buf + out, src + from, cur_n - from);
		out += cur_n - from;
		char *next = malloc(out + 1);
		if (!next) {
			w->failed = 1;
			free(cur);
			return;
		}
		memcpy(next, w->buf, out);
		next[out] = 0;
		free(cur);
		cur = next;
		cur_n = out;
	}
	if (cur) {
		if (*sp != protobuf_c_empty_string)
			free(*sp);
		*sp = cur;
		w->st->strings_changed++;
	}
}

static void walk(struct walker *w, ProtobufCMessage *m, unsigned where, const char *key,
		 const char *place);

static void visit_any(struct walker *w, AnyValue *v, unsigned where, const char *key,
		      const char *place)
{
	if (!v)
		return;
	walk(w, &v->base, where, key, place);
}

static void set_string_value(KeyValue *kv, const char *s, struct walker *w)
{
	AnyValue *v = kv->value;
	if (!v) {
		if (!(v = malloc(sizeof(*v)))) {
			w->failed = 1;
			return;
		}
		opentelemetry__proto__common__v1__any_value__init(v);
		kv->value = v;
	}
	char *copy = strdup(s);
	if (!copy) {
		w->failed = 1;
		return;
	}
	/* free what the old value held, keep the AnyValue itself */
	AnyValue fresh = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	AnyValue *old = malloc(sizeof(*old));
	if (!old) {
		free(copy);
		w->failed = 1;
		return;
	}
	*old = *v;
	protobuf_c_message_free_unpacked(&old->base, NULL);
	*v = fresh;
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = copy;
}

/* Attribute rules (drop, hash, replace by key glob), then the value walk. */
static void visit_attributes(struct walker *w, KeyValue ***arr, size_t *n, unsigned where,
			     const char *prefix)
{
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		KeyValue *kv = (*arr)[i];
		const char *key = kv->key ? kv->key : "";
		char place[256];
		snprintf(place, sizeof(place), "%s%s", prefix, key);
		bool dropped = false;
		for (size_t r = 0; w->mode == REWRITE && r < w->rules->n_attrs && !dropped; r++) {
			const struct fd_rewrite_attr_rule *ar = &w->rules->attrs[r];
			if (fnmatch(ar->glob, key, 0) != 0)
				continue;
			if (ar->action == FD_REWRITE_DROP) {
				protobuf_c_message_free_unpacked(&kv->base, NULL);
				w->st->attrs_dropped++;
				dropped = true;
			} else if (ar->action == FD_REWRITE_REPLACE) {
				set_string_value(kv, ar->with, w);
				w->st->attrs_replaced++;
			} else {
				/* hash the value as packed, so any type hashes */
				char pseudo[64];
				size_t len = kv->value ? protobuf_c_message_get_packed_size(&kv->value->base) : 0;
				uint8_t *packed = malloc(len ? len : 1);
				if (!packed) {
					w->failed = 1;
					return;
				}
				if (len)
					protobuf_c_message_pack(&kv->value->base, packed);
				const char *text = kv->value && kv->value->value_case ==
									OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
							   ? kv->value->string_value
							   : (const char *)packed;
				size_t tl = text == (const char *)packed ? len : strlen(text);
				fd_scrub_pseudonym(FD_SCRUB_REGEX, w->rules->key, w->rules->key_len, text, tl, pseudo);
				free(packed);
				set_string_value(kv, pseudo, w);
				w->st->attrs_hashed++;
			}
		}
		if (dropped)
			continue;
		visit_any(w, kv->value, where, key, place);
		(*arr)[kept++] = kv;
	}
	*n = kept;
}

/* Strings that are not data: keys, metric names and units, scope names. */
static bool skip_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	if (d == &opentelemetry__proto__metrics__v1__metric__descriptor)
		return strcmp(f->name, "name") == 0 || strcmp(f->name, "unit") == 0;
	if (d == &opentelemetry__proto__common__v1__instrumentation_scope__descriptor)
		return true;
	if (d == &opentelemetry__proto__logs__v1__log_record__descriptor)
		return strcmp(f->name, "severity_text") == 0;
	return false;
}

static void walk(struct walker *w, ProtobufCMessage *m, unsigned where, const char *key,
		 const char *place)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields && !w->failed; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *p = (char *)m + f->offset;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
			continue;
		size_t count = 1;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(size_t *)((char *)m + f->quantifier_offset);
			p = *(char **)p;
		}
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			if (skip_field(d, f) || (d == &opentelemetry__proto__common__v1__key_value__descriptor))
				continue;
			/* strings outside attributes: names, messages, header text */
			unsigned wh = key ? where : (where == FD_WHERE_BODY ? where : FD_WHERE_NAMES);
			char field[128];
			snprintf(field, sizeof(field), "%s.%s", d->short_name, f->name);
			const char *pl = key || where == FD_WHERE_BODY ? place : field;
			for (size_t k = 0; k < count; k++)
				visit_string(w, &((char **)p)[k], wh, key, pl);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *sub = f->descriptor;
			if (sub == &opentelemetry__proto__common__v1__key_value__descriptor &&
			    f->label == PROTOBUF_C_LABEL_REPEATED) {
				size_t *np = (size_t *)((char *)m + f->quantifier_offset);
				const char *prefix = where == FD_WHERE_RESOURCE ? "resource." : "attributes.";
				visit_attributes(w, (KeyValue ***)((char *)m + f->offset), np,
						 where == FD_WHERE_RESOURCE ? FD_WHERE_RESOURCE : FD_WHERE_ATTRIBUTES,
						 key ? "attributes." : prefix);
				continue;
			}
			unsigned wh = where;
			const char *pl = place;
			if (d == &opentelemetry__proto__logs__v1__log_record__descriptor &&
			    strcmp(f->name, "body") == 0) {
				wh = FD_WHERE_BODY;
				pl = "body";
			}
			for (size_t k = 0; k < count; k++) {
				ProtobufCMessage *sm = f->label == PROTOBUF_C_LABEL_REPEATED
							       ? ((ProtobufCMessage **)p)[k]
							       : *(ProtobufCMessage **)p;
				if (sm)
					walk(w, sm, wh, wh == FD_WHERE_BODY ? NULL : key, pl);
			}
		}
	}
}

static const ProtobufCMessageDescriptor *payload_descriptor(enum fd_signal s)
{
	switch (s) {
	case FD_SIGNAL_TRACES: return &opentelemetry__proto__trace__v1__span__descriptor;
	case FD_SIGNAL_METRICS: return &opentelemetry__proto__metrics__v1__metric__descriptor;
	default: return &opentelemetry__proto__logs__v1__log_record__descriptor;
	}
}

/* Unpacks data as desc, walks it, and (rewriting) packs it into *out. */
static int rewrite_message(struct walker *w, const ProtobufCMessageDescriptor *desc,
			   const uint8_t *data, size_t len, unsigned where, uint8_t **out,
			   size_t *out_len, struct fd_error *err, const char *what)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
	if (!m)
		return fd_error_set(err, FD_EINPUT, "%s does not decode as %s", what, desc->name);
	walk(w, m, where, NULL, where == FD_WHERE_RESOURCE ? "resource" : "record");
	int rc = 0;
	if (w->failed) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory rewriting a record");
	} else if (out) {
		size_t n = protobuf_c_message_get_packed_size(m);
		uint8_t *b = malloc(n ? n : 1);
		if (!b)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory rewriting a record");
		else {
			protobuf_c_message_pack(m, b);
			*out = b;
			*out_len = n;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

/* ---- rewrite ------------------------------------------------------------ */

struct blob_map {
	const struct fd_blob **out; /* by input blob id */
	bool *dropped;              /* resources of a dropped service */
	size_t n;
};

static int map_grow(struct blob_map *m, uint32_t id)
{
	if (id < m->n)
		return 0;
	size_t n = (size_t)id + 1 > m->n * 2 ? (size_t)id + 1 : m->n * 2;
	const struct fd_blob **o = realloc(m->out, n * sizeof(*o));
	if (!o)
		return -1;
	m->out = o;
	bool *d = realloc(m->dropped, n * sizeof(*d));
	if (!d)
		return -1;
	m->dropped = d;
	memset(o + m->n, 0, (n - m->n) * sizeof(*o));
	memset(d + m->n, 0, (n - m->n) * sizeof(*d));
	m->n = n;
	return 0;
}

static int map_blob(struct walker *w, struct fd_intern *t, struct blob_map *m,
		    const struct fd_blob *b, bool resource, const struct fd_blob **out,
		    bool *dropped, struct fd_error *err)
{
	static const struct fd_blob empty = {0, 0, (const uint8_t *)""};
	if (!b)
		b = &empty;
	if (map_grow(m, b->id) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (!m->out[b->id]) {
		uint8_t *data = NULL;
		size_t len = 0;
		if (resource) {
			char service[256] = "";
			fd_otlp_resource_service(b->data, b->len, service, sizeof(service));
			for (size_t i = 0; i < w->rules->n_drop_services; i++)
				if (strcmp(service, w->rules->drop_services[i]) == 0)
					m->dropped[b->id] = true;
			int rc = rewrite_message(w, &opentelemetry__proto__resource__v1__resource__descriptor,
						 b->data, b->len, FD_WHERE_RESOURCE, &data, &len, err,
						 "a resource");
			if (rc < 0)
				return rc;
		}
		/* scopes are kept as they are: instrumentation names, no data */
		const struct fd_blob *nb = resource ? fd_intern_add(t, data, len)
						    : fd_intern_add(t, b->data, b->len);
		free(data);
		if (!nb)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		m->out[b->id] = nb;
	}
	*out = m->out[b->id];
	if (dropped)
		*dropped = m->dropped[b->id];
	return 0;
}

static int rewrite_header(struct walker *w, const Firedrill__V1__RecordingHeader *in,
			  const struct fd_rewrite_options *o, Firedrill__V1__RecordingHeader **out,
			  struct fd_error *err)
{
	size_t len = firedrill__v1__recording_header__get_packed_size(in);
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	firedrill__v1__recording_header__pack(in, b);
	Firedrill__V1__RecordingHeader *h = firedrill__v1__recording_header__unpack(NULL, len, b);
	free(b);
	if (!h)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	walk(w, &h->base, FD_WHERE_NAMES, NULL, "header");
	/* the answer key's times move with the data */
	if (h->answer_key && o->rules->shift_ns) {
		if (h->answer_key->trigger_time_unix_nano)
			h->answer_key->trigger_time_unix_nano += (uint64_t)o->rules->shift_ns;
		if (h->answer_key->mitigation_time_unix_nano)
			h->answer_key->mitigation_time_unix_nano += (uint64_t)o->rules->shift_ns;
	}
	if (h->start_time_unix_nano && o->rules->shift_ns) {
		h->start_time_unix_nano += (uint64_t)o->rules->shift_ns;
		h->end_time_unix_nano += (uint64_t)o->rules->shift_ns;
	}
	Firedrill__V1__RewriteNote **notes = realloc(h->rewrites, (h->n_rewrites + 1) * sizeof(*notes));
	Firedrill__V1__RewriteNote *note = malloc(sizeof(*note));
	if (notes)
		h->rewrites = notes;
	if (!notes || !note || w->failed) {
		free(note);
		firedrill__v1__recording_header__free_unpacked(h, NULL);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	firedrill__v1__rewrite_note__init(note);
	note->time_unix_nano = (uint64_t)o->now_ns;
	note->tool = strdup(o->tool ? o->tool : "firedrill");
	note->n_rules = o->rules->n_names;
	note->rules = calloc(note->n_rules ? note->n_rules : 1, sizeof(char *));
	for (size_t i = 0; note->rules && i < note->n_rules; i++)
		note->rules[i] = strdup(o->rules->names[i]);
	h->rewrites[h->n_rewrites++] = note;
	bool ok = note->tool && note->rules;
	for (size_t i = 0; ok && i < note->n_rules; i++)
		ok = note->rules[i];
	if (!ok) {
		firedrill__v1__recording_header__free_unpacked(h, NULL);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	*out = h;
	return 0;
}

int fd_rewrite_run(struct fd_recording_reader *in, const char *out_path,
		   const struct fd_rewrite_options *o, struct fd_rewrite_stats *st,
		   struct fd_error *err)
{
	memset(st, 0, sizeof(*st));
	struct walker w = {.mode = REWRITE, .rules = o->rules, .st = st};
	Firedrill__V1__RecordingHeader *h = NULL;
	struct fd_recording_writer *wr = NULL;
	struct fd_intern *res = fd_intern_create(), *scopes = fd_intern_create();
	struct blob_map rmap = {0}, smap = {0};
	uint8_t *payload = NULL;
	int rc;
	if (!res || !scopes) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	if ((rc = rewrite_header(&w, fd_recording_reader_header(in), o, &h, err)) < 0)
		goto out;
	struct fd_recording_writer_options wo = {.capture_times = fd_recording_reader_capture_times(in)};
	if ((rc = fd_recording_writer_create(out_path, h, &wo, &wr, err)) < 0)
		goto out;
	struct fd_record rec;
	while ((rc = fd_recording_reader_next(in, &rec, err)) == 1) {
		if ((unsigned)rec.signal >= FD_SIGNAL_COUNT)
			continue;
		st->in[rec.signal]++;
		if (o->rules->drop_signals & (1u << rec.signal)) {
			st->dropped_signal++;
			continue;
		}
		if ((o->has_from && rec.time_ns < o->from) || (o->has_until && rec.time_ns >= o->until)) {
			st->outside_window++;
			continue;
		}
		struct fd_record nr = rec;
		bool dropped = false;
		if ((rc = map_blob(&w, res, &rmap, rec.resource, true, &nr.resource, &dropped, err)) < 0 ||
		    (rc = map_blob(&w, scopes, &smap, rec.scope, false, &nr.scope, NULL, err)) < 0)
			goto out;
		if (dropped) {
			st->dropped_service++;
			continue;
		}
		free(payload);
		payload = NULL;
		if (fd_rewrite_rules_touch_strings(o->rules)) {
			rc = rewrite_message(&w, payload_descriptor(rec.signal), rec.payload, rec.payload_len,
					     FD_WHERE_ATTRIBUTES, &payload, &nr.payload_len, err, "a record");
			if (rc < 0)
				goto out;
		} else {
			if (!(payload = malloc(rec.payload_len ? rec.payload_len : 1))) {
				rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
				goto out;
			}
			memcpy(payload, rec.payload, rec.payload_len);
		}
		if (o->rules->shift_ns) {
			if (fd_otlp_rebase(rec.signal, payload, nr.payload_len, o->rules->shift_ns) < 0) {
				rc = fd_error_set(err, FD_EINPUT, "a %s record at %lld is not well-formed",
						  fd_signal_name(rec.signal), (long long)rec.time_ns);
				goto out;
			}
			nr.time_ns += o->rules->shift_ns;
			if (nr.capture_ns) /* the delay, capture minus time, stays as it was */
				nr.capture_ns += o->rules->shift_ns;
		}
		nr.payload = payload;
		if ((rc = fd_recording_writer_add(wr, &nr, err)) < 0)
			goto out;
		st->out[rec.signal]++;
	}
	if (rc < 0)
		goto out;
	rc = fd_recording_writer_finish(wr, err);
out:
	free(payload);
	fd_recording_writer_destroy(wr);
	if (h)
		firedrill__v1__recording_header__free_unpacked(h, NULL);
	free(rmap.out);
	free(rmap.dropped);
	free(smap.out);
	free(smap.dropped);
	fd_intern_destroy(res);
	fd_intern_destroy(scopes);
	free(w.buf);
	return rc < 0 ? rc : 0;
}

/* ---- check -------------------------------------------------------------- */

static int cmp_finding(const void *a, const void *b)
{
	const struct fd_rewrite_finding *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	int c = strcmp(x->place, y->place);
	return c ? c : strcmp(x->kind, y->kind);
}

int fd_rewrite_check(struct fd_recording_reader *in, const struct fd_rewrite_rules *extra,
		     struct fd_rewrite_findings *out, struct fd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct fd_rewrite_stats st;
	struct walker w = {.mode = CHECK, .rules = extra, .st = &st, .found = out};
	bool *seen = NULL;
	size_t n_seen = 0;
	int rc = 0;
	Firedrill__V1__RecordingHeader *h = NULL;
	{
		const Firedrill__V1__RecordingHeader *hin = fd_recording_reader_header(in);
		size_t len = firedrill__v1__recording_header__get_packed_size(hin);
		uint8_t *b = malloc(len ? len : 1);
		if (b) {
			firedrill__v1__recording_header__pack(hin, b);
			h = firedrill__v1__recording_header__unpack(NULL, len, b);
			free(b);
		}
		if (!h)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		walk(&w, &h->base, FD_WHERE_NAMES, NULL, "header");
		firedrill__v1__recording_header__free_unpacked(h, NULL);
	}
	struct fd_record rec;
	while (!w.failed && (rc = fd_recording_reader_next(in, &rec, err)) == 1) {
		if ((unsigned)rec.signal >= FD_SIGNAL_COUNT)
			continue;
		if (rec.resource && rec.resource->id >= n_seen) {
			size_t n = (size_t)rec.resource->id + 1 > n_seen * 2 ? (size_t)rec.resource->id + 1
									       : n_seen * 2;
			bool *s = realloc(seen, n);
			if (!s) {
				w.failed = 1;
				break;
			}
			memset(s + n_seen, 0, n - n_seen);
			seen = s;
			n_seen = n;
		}
		if (rec.resource && !seen[rec.resource->id]) {
			seen[rec.resource->id] = true;
			if ((rc = rewrite_message(&w, &opentelemetry__proto__resource__v1__resource__descriptor,
						  rec.resource->data, rec.resource->len, FD_WHERE_RESOURCE,
						  NULL, NULL, err, "a resource")) < 0)
				break;
		}
		if ((rc = rewrite_message(&w, payload_descriptor(rec.signal), rec.payload, rec.payload_len,
					  FD_WHERE_ATTRIBUTES, NULL, NULL, err, "a record")) < 0)
			break;
	}
	free(seen);
	free(w.buf);
	if (w.failed && rc >= 0)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory checking a recording");
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_finding);
	return rc < 0 ? rc : 0;
}

void fd_rewrite_findings_finish(struct fd_rewrite_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].place);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
