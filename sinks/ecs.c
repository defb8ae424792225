#include "sinks/ecs.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/attr_text.h"
#include "otlp/json.h"
#include "otlp/pbread.h"
#include "otlp/shape.h"
#include "common/timefmt.h"


struct mapping {
	const char *otel, *ecs;
};

/* Semantic-convention attributes of a log record with an ECS field of the
 * same meaning (ECS field reference: http, url, user_agent, client, server,
 * error). http.route has none in ECS, so it stays a label. */
static const struct mapping record_map[] = {
	{"http.request.method", "http.request.method"},
	{"http.response.status_code", "http.response.status_code"},
	{"url.full", "url.full"},
	{"url.path", "url.path"},
	{"url.query", "url.query"},
	{"url.scheme", "url.scheme"},
	{"user_agent.original", "user_agent.original"},
	{"client.address", "client.address"},
	{"client.port", "client.port"},
	{"server.address", "server.address"},
	{"server.port", "server.port"},
	{"exception.type", "error.type"},
	{"exception.message", "error.message"},
	{"exception.stacktrace", "error.stack_trace"},
};

/* Resource attributes: the service, where it runs. */
static const struct mapping resource_map[] = {
	{"service.name", "service.name"},
	{"service.version", "service.version"},
	{"service.instance.id", "service.node.name"},
	{"deployment.environment.name", "service.environment"},
	{"deployment.environment", "service.environment"},
	{"host.name", "host.name"},
	{"host.arch", "host.architecture"},
	{"container.id", "container.id"},
	{"container.name", "container.name"},
	{"process.pid", "process.pid"},
	{"cloud.provider", "cloud.provider"},
	{"cloud.region", "cloud.region"},
	{"k8s.namespace.name", "kubernetes.namespace"},
	{"k8s.pod.name", "kubernetes.pod.name"},
	{"k8s.node.name", "kubernetes.node.name"},
};

#define N_MAP(t) (sizeof(t) / sizeof((t)[0]))

static const char *lookup(const struct mapping *map, size_t n, const uint8_t *key, size_t len)
{
	/* first characters first: every attribute of every record comes here */
	for (size_t i = 0; i < n; i++)
		if (len && map[i].otel[0] == key[0] && strlen(map[i].otel) == len &&
		    memcmp(map[i].otel, key, len) == 0)
			return map[i].ecs;
	return NULL;
}

const char *fd_ecs_level(int severity_number, const char *text, char buf[32])
{
	static const char *const ranges[] = {"trace", "debug", "info", "warn", "error", "fatal"};
	if (text && *text) {
		size_t i = 0;
		for (; text[i] && i < 31; i++)
			buf[i] = (char)tolower((unsigned char)text[i]);
		buf[i] = '\0';
		return buf;
	}
	if (severity_number >= 1 && severity_number <= 24)
		return ranges[(severity_number - 1) / 4];
	return "";
}

/*
 * The document is written straight from the wire bytes (no protobuf-c
 * unpacking), and what comes from the resource and the scope is worked out
 * once per resource and scope and kept:
 *
 *   {"@timestamp":..,"log.level":..,"message":..,"ecs.version":..
 *    <resource: its mapped fields, event.dataset>
 *    <scope: log.logger>
 *    ,"event.severity":..,"trace.id":..,"span.id":..
 *    <the record's mapped fields>
 *    ,"labels":{<the record's>,<the resource's not set by the record>}}
 */

/* The ECS keys written so far in one part of the document: a field is
 * written once (first wins). The fixed keys never collide with mapped ones. */
struct claims {
	const char *keys[N_MAP(record_map) + N_MAP(resource_map)];
	size_t n;
};

static bool claim(struct claims *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return false;
	if (c->n < sizeof(c->keys) / sizeof(c->keys[0]))
		c->keys[c->n++] = key;
	return true;
}

/* ,"key": — the keys are this file's own ECS names, plain ASCII that
 * quoting leaves as it is. */
static void out_key(struct pbw *o, const char *key)
{
	size_t n = strlen(key);
	if (pbw_room(o, n + 4)) {
		char *w = (char *)o->buf + o->len;
		w[0] = ',';
		w[1] = '"';
		memcpy(w + 2, key, n);
		w[n + 2] = '"';
		w[n + 3] = ':';
		o->len += n + 4;
	}
}

/* Labels: sanitized key and text, one after the other in a buffer as
 * u32 length + bytes each. */
static void label_put(struct pbw *o, const uint8_t *p, size_t n)
{
	uint32_t len = (uint32_t)n;
	pbw_raw(o, (const char *)&len, 4);
	pbw_raw(o, (const char *)p, n);
}

static const uint8_t *label_get(const uint8_t *at, const uint8_t **p, size_t *n)
{
	uint32_t len;
	memcpy(&len, at, 4);
	*p = at + 4;
	*n = len;
	return at + 4 + len;
}

/* ECS label keys may not contain '.', '*' or '\' (ecs-logging spec). */
static void sanitize(uint8_t *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (k[i] == '.' || k[i] == '*' || k[i] == '\\')
			k[i] = '_';
}

/* Does a label of this (sanitized) key exist in the n_labels bytes of labels?
 * Lengths, not an end pointer: an empty buffer's NULL takes no offset. */
static bool has_label(const uint8_t *labels, size_t n_labels, const uint8_t *key, size_t n)
{
	if (n_labels == 0)
		return false;
	const uint8_t *end = labels + n_labels;
	while (labels < end) {
		const uint8_t *k, *v;
		size_t kn, vn;
		labels = label_get(labels, &k, &kn);
		labels = label_get(labels, &v, &vn);
		if (kn == n && memcmp(k, key, n) == 0)
			return true;
	}
	return false;
}

/* Adds the attribute as a label unless one of its key is there already. */
static void add_label(struct pbw *labels, size_t from, struct pbw *tmp, const uint8_t *key,
		      size_t key_n, const uint8_t *val, size_t val_n)
{
	pbw_reset(tmp);
	pbw_raw(tmp, (const char *)key, key_n);
	if (tmp->oom) {
		labels->oom = true;
		return;
	}
	sanitize(tmp->buf, key_n);
	if (labels->len > from && has_label(labels->buf + from, labels->len - from, tmp->buf, key_n))
		return;
	fd_otlp_attr_text_wire(tmp, val, val_n, val != NULL);
	if (tmp->oom) {
		labels->oom = true;
		return;
	}
	label_put(labels, tmp->buf, key_n);
	label_put(labels, tmp->buf + key_n, tmp->len - key_n);
}

/* A mapped attribute becomes its ECS field; with labels set, any other
 * attribute a label. */
static void attributes(struct pbw *frag, struct pbw *labels, struct pbw *tmp,
		       const uint8_t *msg, size_t n, uint32_t field, const struct mapping *map,
		       size_t n_map, bool fields)
{
	struct claims c = {.n = 0};
	size_t from = labels ? labels->len : 0;
	struct fd_pb_reader r = fd_pb_reader(msg, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.num != field || f.type != PB_LEN)
			continue;
		const uint8_t *key, *val;
		size_t key_n, val_n;
		fd_otlp_keyvalue(f.p, f.n, &key, &key_n, &val, &val_n);
		const char *ecs = lookup(map, n_map, key, key_n);
		if (ecs && fields && claim(&c, ecs)) {
			out_key(frag, ecs);
			fd_otlp_attr_json_wire(frag, val, val_n, val != NULL);
		} else if (!ecs && labels) {
			add_label(labels, from, tmp, key, key_n, val, val_n);
		}
	}
}

/* What a resource or scope contributes, kept by blob id. */
struct part {
	uint8_t *copy; /* the blob it was made for */
	uint32_t len;
	bool made, bad;
	struct pbw frag, labels;
	/* the labels as they are written when a record sets none of the same
	 * keys: "k":"v",... (quoting them for every document was a tenth of
	 * the time) */
	struct pbw labels_json;
};

struct fd_ecs {
	struct part *res, *scope;
	size_t n_res, n_scope;
	struct part none; /* no resource or scope */
	struct pbw canon, canon2, tmp, labels;
	/* for a data stream: event.dataset and data_stream.*, written after the
	 * resource's fields instead of "<service.name>.log" */
	struct pbw stream;
	bool has_stream;
};

struct fd_ecs *fd_ecs_create(void)
{
	return calloc(1, sizeof(struct fd_ecs));
}

static void out_str_field(struct pbw *o, const char *key, const char *val)
{
	out_key(o, key);
	fd_otlp_out_quoted(o, (const uint8_t *)val, strlen(val));
}

struct fd_ecs *fd_ecs_create_stream(const char *dataset, const char *ns)
{
	struct fd_ecs *e = fd_ecs_create();
	if (!e || !dataset)
		return e;
	e->has_stream = true;
	out_str_field(&e->stream, "event.dataset", dataset);
	out_str_field(&e->stream, "data_stream.type", "logs");
	out_str_field(&e->stream, "data_stream.dataset", dataset);
	out_str_field(&e->stream, "data_stream.namespace", ns);
	if (e->stream.oom) {
		fd_ecs_destroy(e);
		return NULL;
	}
	return e;
}

static void part_free(struct part *p)
{
	free(p->copy);
	pbw_finish(&p->frag);
	pbw_finish(&p->labels);
	pbw_finish(&p->labels_json);
}

void fd_ecs_destroy(struct fd_ecs *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_res; i++)
		part_free(&e->res[i]);
	for (size_t i = 0; i < e->n_scope; i++)
		part_free(&e->scope[i]);
	free(e->res);
	free(e->scope);
	part_free(&e->none);
	pbw_finish(&e->canon);
	pbw_finish(&e->canon2);
	pbw_finish(&e->tmp);
	pbw_finish(&e->labels);
	pbw_finish(&e->stream);
	free(e);
}

static void make_resource(struct fd_ecs *e, struct part *p, const uint8_t *data, size_t len)
{
	const uint8_t *res;
	size_t n;
	if (fd_otlp_canonical(&opentelemetry__proto__resource__v1__resource__descriptor, data, len,
			      &e->canon2, &res, &n) < 0) {
		p->bad = true;
		return;
	}
	attributes(&p->frag, &p->labels, &e->tmp, res, n, 1, resource_map, N_MAP(resource_map), true);
	if (e->has_stream)
		return;
	/* event.dataset: the first service.name attribute with a string value */
	struct fd_pb_reader r = fd_pb_reader(res, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.num != 1 || f.type != PB_LEN)
			continue;
		const uint8_t *key, *val;
		size_t key_n, val_n;
		fd_otlp_keyvalue(f.p, f.n, &key, &key_n, &val, &val_n);
		const uint8_t *s;
		size_t s_n;
		if (!val || key_n != 12 || memcmp(key, "service.name", 12) != 0 ||
		    fd_pb_find(val, val_n, 1, &s, &s_n) < 0 || !s)
			continue;
		s_n = fd_otlp_cstr_len(s, s_n);
		if (s_n) {
			pbw_reset(&e->tmp);
			pbw_raw(&e->tmp, (const char *)s, s_n);
			pbw_raw(&e->tmp, ".log", 4);
			out_key(&p->frag, "event.dataset");
			if (!e->tmp.oom)
				fd_otlp_out_quoted(&p->frag, e->tmp.buf, e->tmp.len);
			p->frag.oom |= e->tmp.oom;
		}
		break;
	}
}

static void make_scope(struct fd_ecs *e, struct part *p, const uint8_t *data, size_t len)
{
	const uint8_t *sc, *name;
	size_t n, name_n;
	if (fd_otlp_canonical(&opentelemetry__proto__common__v1__instrumentation_scope__descriptor,
			      data, len, &e->canon2, &sc, &n) < 0) {
		p->bad = true;
		return;
	}
	fd_pb_find(sc, n, 1, &name, &name_n);
	name_n = name ? fd_otlp_cstr_len(name, name_n) : 0;
	if (name_n) {
		out_key(&p->frag, "log.logger");
		fd_otlp_out_quoted(&p->frag, name, name_n);
	}
}

/* "k":"v",... of labels[0..n) (key, value, key, value...). */
static void labels_json(struct pbw *o, const uint8_t *at, size_t n)
{
	const uint8_t *end = at ? at + n : at;
	bool first = true;
	while (at < end) {
		const uint8_t *k, *v;
		size_t kn, vn;
		at = label_get(at, &k, &kn);
		at = label_get(at, &v, &vn);
		if (!first)
			pbw_raw(o, ",", 1);
		first = false;
		fd_otlp_out_quoted(o, k, kn);
		pbw_raw(o, ":", 1);
		fd_otlp_out_quoted(o, v, fd_otlp_cstr_len(v, vn));
	}
}

/* The part of blob b (NULL: none), made when new. NULL when out of memory. */
static struct part *part_of(struct fd_ecs *e, const struct fd_blob *b, bool resource)
{
	struct part **v = resource ? &e->res : &e->scope;
	size_t *n = resource ? &e->n_res : &e->n_scope;
	struct part *p = &e->none;
	if (b) {
		if (b->id >= *n) {
			size_t m = (size_t)b->id + 64;
			struct part *grown = realloc(*v, m * sizeof(*grown));
			if (!grown)
				return NULL;
			memset(grown + *n, 0, (m - *n) * sizeof(*grown));
			*v = grown;
			*n = m;
		}
		p = &(*v)[b->id];
		/* blob ids are dense per source: the bytes say whether it is
		 * the same blob */
		if (p->made && p->len == b->len && (b->len == 0 || memcmp(p->copy, b->data, b->len) == 0))
			return p;
		free(p->copy);
		p->copy = b->len ? malloc(b->len) : NULL;
		if (b->len && !p->copy)
			return NULL;
		if (b->len)
			memcpy(p->copy, b->data, b->len);
		p->len = b->len;
	} else if (p->made) {
		return p;
	}
	pbw_reset(&p->frag);
	pbw_reset(&p->labels);
	pbw_reset(&p->labels_json);
	p->bad = false;
	if (b && resource)
		make_resource(e, p, b->data, b->len);
	else if (b)
		make_scope(e, p, b->data, b->len);
	labels_json(&p->labels_json, p->labels.buf, p->labels.len);
	if (p->frag.oom || p->labels.oom || p->labels_json.oom)
		return NULL;
	p->made = true;
	return p;
}

/* The fields of a LogRecord the document uses. */
struct log {
	uint64_t time, observed;
	int32_t severity;
	const uint8_t *sev_text, *body, *trace, *span;
	size_t sev_text_n, body_n, trace_n, span_n;
};

static void log_read(const uint8_t *p, size_t n, struct log *l)
{
	memset(l, 0, sizeof(*l));
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0) {
		switch (f.num) {
		case 1:
			l->time = f.v;
			break;
		case 11:
			l->observed = f.v;
			break;
		case 2:
			l->severity = (int32_t)(uint32_t)f.v;
			break;
		case 3:
			l->sev_text = f.p;
			l->sev_text_n = fd_otlp_cstr_len(f.p, f.n);
			break;
		case 5:
			l->body = f.p ? f.p : (const uint8_t *)"";
			l->body_n = f.n;
			break;
		case 9:
			l->trace = f.p;
			l->trace_n = f.n;
			break;
		case 10:
			l->span = f.p;
			l->span_n = f.n;
			break;
		}
	}
}

static void out_hex_field(struct pbw *o, const char *key, const uint8_t *p, size_t n)
{
	char hex[65];
	if (n && n <= 32) {
		out_key(o, key);
		fd_otlp_out_quoted(o, (const uint8_t *)fd_otlp_hex(hex, p, n), 2 * n);
	}
}

int fd_ecs_encode(struct fd_ecs *e, const struct fd_record *rec, struct pbw *o,
		  struct fd_error *err)
{
	if (rec->signal != FD_SIGNAL_LOGS)
		return fd_error_set(err, FD_EINPUT, "ecs: only log records have an ECS form, not %s",
				    fd_signal_name(rec->signal) ? fd_signal_name(rec->signal) : "?");
	const uint8_t *lr;
	size_t lr_n;
	if (fd_otlp_canonical(&opentelemetry__proto__logs__v1__log_record__descriptor, rec->payload,
			      rec->payload_len, &e->canon, &lr, &lr_n) < 0)
		return e->canon.oom ? fd_error_set(err, FD_ERUNTIME, "ecs: out of memory")
				    : fd_error_set(err, FD_EINPUT, "ecs: malformed LogRecord payload in a log record");
	struct part *res = part_of(e, rec->resource, true);
	struct part *scope = res ? part_of(e, rec->scope, false) : NULL;
	if (!res || !scope)
		return fd_error_set(err, FD_ERUNTIME, "ecs: out of memory");
	if (res->bad || scope->bad)
		return fd_error_set(err, FD_EINPUT, "ecs: malformed %s in a log record",
				    res->bad ? "resource" : "scope");
	struct log l;
	log_read(lr, lr_n, &l);
	size_t mark = o->len;
	char buf[64], sev[32];
	int64_t t = l.time ? (int64_t)l.time : l.observed ? (int64_t)l.observed : rec->time_ns;
	/* Elasticsearch's logs templates map @timestamp as date, which keeps
	 * milliseconds: more digits would be dropped on ingest anyway. */
	pbw_raw(o, "{\"@timestamp\":", 14);
	fd_format_time(buf, sizeof(buf), t);
	fd_otlp_out_quoted(o, (const uint8_t *)buf, strlen(buf));
	memcpy(sev, l.sev_text ? (const char *)l.sev_text : "", l.sev_text_n < 31 ? l.sev_text_n : 31);
	sev[l.sev_text_n < 31 ? l.sev_text_n : 31] = '\0';
	const char *level = fd_ecs_level(l.severity, sev, buf);
	if (*level) {
		out_key(o, "log.level");
		fd_otlp_out_quoted(o, (const uint8_t *)level, strlen(level));
	}
	out_key(o, "message");
	const uint8_t *s = NULL;
	size_t s_n = 0;
	if (l.body) {
		/* a body that is not a string is written as text */
		struct fd_pb_reader r = fd_pb_reader(l.body, l.body_n);
		struct fd_pb_field f;
		bool is_string = false;
		while (fd_pb_next(&r, &f) > 0)
			if (f.num >= 1 && f.num <= 7)
				is_string = f.num == 1;
		if (is_string) {
			fd_pb_find(l.body, l.body_n, 1, &s, &s_n);
			fd_otlp_out_quoted(o, s, fd_otlp_cstr_len(s, s_n));
		} else {
			pbw_reset(&e->tmp);
			fd_otlp_attr_text_wire(&e->tmp, l.body, l.body_n, true);
			fd_otlp_out_quoted(o, e->tmp.buf, e->tmp.len);
			o->oom |= e->tmp.oom;
		}
	} else {
		pbw_raw(o, "\"\"", 2);
	}
	pbw_raw(o, ",\"ecs.version\":\"" FD_ECS_VERSION "\"", 16 + strlen(FD_ECS_VERSION) + 1);
	pbw_raw(o, (const char *)res->frag.buf, res->frag.len);
	if (e->has_stream)
		pbw_raw(o, (const char *)e->stream.buf, e->stream.len);
	pbw_raw(o, (const char *)scope->frag.buf, scope->frag.len);
	if (l.severity) {
		char num[16];
		out_key(o, "event.severity");
		pbw_raw(o, num, (size_t)snprintf(num, sizeof(num), "%d", (int)l.severity));
	}
	out_hex_field(o, "trace.id", l.trace, l.trace_n);
	out_hex_field(o, "span.id", l.span, l.span_n);
	/* The record's labels first: a label it sets itself wins over the
	 * resource's of the same name. */
	pbw_reset(&e->labels);
	attributes(o, &e->labels, &e->tmp, lr, lr_n, 6, record_map, N_MAP(record_map), true);
	const uint8_t *rl = res->labels.buf;
	const uint8_t *rl_end = res->labels.len ? rl + res->labels.len : rl;
	size_t own = e->labels.len;
	/* Does the record set a label the resource has? Rarely: then the
	 * resource's labels go out as made, after the record's. */
	bool clash = false;
	for (const uint8_t *at = e->labels.buf, *end = at ? at + own : at; at < end && !clash;) {
		const uint8_t *k, *v;
		size_t kn, vn;
		at = label_get(at, &k, &kn);
		at = label_get(at, &v, &vn);
		clash = has_label(rl, res->labels.len, k, kn);
	}
	if (clash) {
		while (rl < rl_end) {
			const uint8_t *k, *v;
			size_t kn, vn;
			rl = label_get(rl, &k, &kn);
			rl = label_get(rl, &v, &vn);
			if (!has_label(e->labels.buf, own, k, kn)) {
				label_put(&e->labels, k, kn);
				label_put(&e->labels, v, vn);
			}
		}
	}
	if (e->labels.len || (!clash && res->labels_json.len)) {
		out_key(o, "labels");
		pbw_raw(o, "{", 1);
		labels_json(o, e->labels.buf, e->labels.len);
		if (!clash && res->labels_json.len) {
			if (e->labels.len)
				pbw_raw(o, ",", 1);
			pbw_raw(o, (const char *)res->labels_json.buf, res->labels_json.len);
		}
		pbw_raw(o, "}", 1);
	}
	pbw_raw(o, "}", 1);
	if (o->oom || e->labels.oom || e->tmp.oom) {
		o->len = mark;
		return fd_error_set(err, FD_ERUNTIME, "ecs: out of memory");
	}
	return 0;
}

int fd_ecs_log(const struct fd_record *rec, struct fd_pb_arena *scratch, struct fd_json *out,
	       struct fd_error *err)
{
	(void)scratch;
	struct fd_ecs *e = fd_ecs_create();
	struct pbw doc = {0};
	int rc = e ? fd_ecs_encode(e, rec, &doc, err) : fd_error_set(err, FD_ERUNTIME, "ecs: out of memory");
	if (rc == 0) {
		fd_json_raw(out, (const char *)doc.buf, doc.len);
		if (out->error)
			rc = fd_error_set(err, FD_ERUNTIME, "ecs: writing: %s", strerror(out->error));
	}
	pbw_finish(&doc);
	fd_ecs_destroy(e);
	return rc;
}
