#include "tests/support/recset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "recording/reader.h"
#include "sinks/sink.h"

static const ProtobufCMessageDescriptor *payload_desc(int sig)
{
	return sig == 0 ? &opentelemetry__proto__trace__v1__span__descriptor
	       : sig == 1 ? &opentelemetry__proto__metrics__v1__metric__descriptor
			  : &opentelemetry__proto__logs__v1__log_record__descriptor;
}

/* OTLP/JSON writes an absent resource, scope, span status or attribute
 * value as {} (as the collector does), so after a trip through JSON an
 * empty one and an absent one are the same thing: both become absent. */
static void normalize(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		char *base = (char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);
			ProtobufCMessage **v = *(ProtobufCMessage ***)base;
			for (size_t k = 0; k < n; k++)
				normalize(v[k]);
			continue;
		}
		/* oneof members share storage: only the set one is a message */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
			continue;
		ProtobufCMessage **sub = (ProtobufCMessage **)base;
		if (!*sub)
			continue;
		normalize(*sub);
		bool named = !strcmp(f->name, "resource") || !strcmp(f->name, "scope") ||
			     !strcmp(f->name, "status") || !strcmp(f->name, "value");
		if (named && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    protobuf_c_message_get_packed_size(*sub) == 0) {
			protobuf_c_message_free_unpacked(*sub, NULL);
			*sub = NULL;
		}
	}
}

/* Appends len + bytes (canonicalized through desc when given). */
static int put(uint8_t **buf, size_t *n, size_t *cap, const ProtobufCMessageDescriptor *desc,
	       const uint8_t *p, size_t len)
{
	uint8_t *tmp = NULL;
	if (desc) {
		ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, p);
		if (!m)
			return -1;
		normalize(m);
		len = protobuf_c_message_get_packed_size(m);
		tmp = malloc(len ? len : 1);
		protobuf_c_message_pack(m, tmp);
		protobuf_c_message_free_unpacked(m, NULL);
		p = tmp;
	}
	while (*cap - *n < len + 8) {
		*cap = *cap ? *cap * 2 : 256;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *n, &len, sizeof(len));
	*n += sizeof(len);
	if (len)
		memcpy(*buf + *n, p, len);
	*n += len;
	free(tmp);
	return 0;
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct recset_item *a = pa, *b = pb;
	if (a->signal != b->signal)
		return a->signal - b->signal;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

int recset_add(struct recset *s, bool canonical, int signal, int64_t time, const uint8_t *resource,
	       size_t resource_len, const uint8_t *scope, size_t scope_len, const uint8_t *payload,
	       size_t payload_len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->items = realloc(s->items, s->cap * sizeof(*s->items));
	}
	struct recset_item *it = &s->items[s->n++];
	memset(it, 0, sizeof(*it));
	it->signal = signal;
	it->time = time;
	size_t kcap = 0;
	if (put(&it->key, &it->key_len, &kcap,
		canonical ? &opentelemetry__proto__resource__v1__resource__descriptor : NULL,
		resource, resource_len) < 0 ||
	    put(&it->key, &it->key_len, &kcap,
		canonical ? &opentelemetry__proto__common__v1__instrumentation_scope__descriptor : NULL,
		scope, scope_len) < 0 ||
	    put(&it->key, &it->key_len, &kcap, canonical ? payload_desc(signal) : NULL, payload,
		payload_len) < 0)
		return -1;
	return 0;
}

void recset_sort(struct recset *s)
{
	if (s->n)
		qsort(s->items, s->n, sizeof(*s->items), cmp_item);
}

int recset_load(const char *path, bool canonical, struct recset *out)
{
	memset(out, 0, sizeof(*out));
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(path, &r, &err) < 0) {
		fprintf(stderr, "recset: %s\n", err.msg);
		return -1;
	}
	struct fd_record rec;
	int rc;
	while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0) {
		if (recset_add(out, canonical, rec.signal, rec.time_ns, rec.resource->data,
			       rec.resource->len, rec.scope->data, rec.scope->len, rec.payload,
			       rec.payload_len) < 0) {
			fprintf(stderr, "recset: %s: record %zu does not decode\n", path, out->n);
			rc = -1;
			break;
		}
	}
	if (rc < 0 && err.msg[0])
		fprintf(stderr, "recset: %s: %s\n", path, err.msg);
	fd_recording_reader_destroy(r);
	if (rc < 0) {
		recset_free(out);
		return -1;
	}
	recset_sort(out);
	return 0;
}

void recset_free(struct recset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].key);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

int recset_compare(const struct recset *a, const struct recset *b)
{
	if (a->n != b->n) {
		fprintf(stderr, "recset: %zu records vs %zu\n", a->n, b->n);
		return -1;
	}
	for (size_t i = 0; i < a->n; i++)
		if (cmp_item(&a->items[i], &b->items[i])) {
			fprintf(stderr, "recset: sorted record %zu differs (signal %d/%d, time %lld/%lld)\n",
				i, a->items[i].signal, b->items[i].signal, (long long)a->items[i].time,
				(long long)b->items[i].time);
			return -1;
		}
	return 0;
}

int recset_replay(const char *fdr, const char *uri)
{
	struct fd_error err = {0};
	struct fd_recording_reader *r = NULL;
	struct fd_sink *s = NULL;
	struct fd_sink_context ctx = {0};
	int rc = fd_recording_reader_open(fdr, &r, &err);
	if (rc == 0)
		rc = fd_sink_open(uri, &ctx, &s, &err);
	struct fd_record rec;
	while (rc == 0 && (rc = fd_recording_reader_next(r, &rec, &err)) > 0)
		rc = fd_sink_write(s, &rec, &err) < 0 ? -1 : 0;
	if (rc == 0)
		rc = fd_sink_close(s, &err);
	if (rc < 0)
		fprintf(stderr, "recset_replay %s -> %s: %s\n", fdr, uri, err.msg);
	fd_sink_destroy(s);
	fd_recording_reader_destroy(r);
	return rc < 0 ? -1 : 0;
}
