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


/* key: the ECS field as written, ,"name": */
struct mapping {
	const char *otel, *key;
	size_t otel_n, key_n;
};

#define MAP(otel, ecs) {otel, ",\"" ecs "\":", sizeof(otel) - 1, sizeof(ecs) + 3}

/* Semantic-convention attributes of a log record with an ECS field of the
 * same meaning (ECS field reference: http, url, user_agent, client, server,
 * error). http.route has none in ECS, so it stays a label. */
static const struct mapping record_map[] = {
	MAP("http.request.method", "http.request.method"),
	MAP("http.response.status_code", "http.response.status_code"),
	MAP("url.full", "url.full"),
	MAP("url.path", "url.path"),
	MAP("url.query", "url.query"),
	MAP("url.scheme", "url.scheme"),
	MAP("user_agent.original", "user_agent.original"),
	MAP("client.address", "client.address"),
	MAP("client.port", "client.port"),
	MAP("server.address", "server.address"),
	MAP("server.port", "server.port"),
	MAP("exception.type", "error.type"),
	MAP("exception.message", "error.message"),
	MAP("exception.stacktrace", "error.stack_trace"),
};

/* Resource attributes: the service, where it runs. */
static const struct mapping resource_map[] = {
	MAP("service.name", "service.name"),
	MAP("service.version", "service.version"),
	MAP("service.instance.id", "service.node.name"),
	MAP("deployment.environment.name", "service.environment"),
	MAP("deployment.environment", "service.environment"),
	MAP("host.name", "host.name"),
	MAP("host.arch", "host.architecture"),
	MAP("container.id", "container.id"),
	MAP("container.name", "container.name"),
	MAP("process.pid", "process.pid"),
	MAP("cloud.provider", "cloud.provider"),
	MAP("cloud.region", "cloud.region"),
	MAP("k8s.namespace.name", "kubernetes.namespace"),
	MAP("k8s.pod.name", "kubernetes.pod.name"),
	MAP("k8s.node.name", "kubernetes.node.name"),
};

#define N_MAP(t) (sizeof(t) / sizeof((t)[0]))

static const struct mapping *lookup(const struct mapping *map, size_t n, const uint8_t *key,
				    size_t len)
{
	/* lengths first: every attribute of every record comes here */
	for (size_t i = 0; i < n; i++)
		if (map[i].otel_n == len && memcmp(map[i].otel, key, len) == 0)
			return &map[i];
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
	const struct mapping *m[N_MAP(record_map) + N_MAP(resource_map)];
	size_t n;
};

static bool claim(struct claims *c, const struct mapping *m)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i]->key_n == m->key_n && memcmp(c->m[i]->key, m->key, m->key_n) == 0)
			return false;
	if (c->n < sizeof(c->m) / sizeof(c->m[0]))
		c->m[c->n++] = m;
	return true;
}

/* ,"key": — the keys are this file's own ECS names, plain ASCII that
 * quoting leaves as it is. */
static void out_key_n(struct pbw *o, const char *key, size_t n)
{
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

#define out_key(o, key) out_key_n(o, key, sizeof(key) - 1)

/* Labels: each one's sanitized key, to find it again, and its "key":"value"
 * as written, to write it again. The keys as u32 length + bytes, each
 * followed by where its pair is in json (u32 offset, u32 end); the pairs
 * joined by commas. bloom has key_bit of each key set: most keys looked for
 * are not there (a record's among its resource's), and a walk of the keys
 * is a chain of dependent loads. */
struct labels {
	struct pbw keys, json;
	uint64_t bloom[4];
};

static unsigned key_bit(const uint8_t *k, size_t n)
{
	return n ? (unsigned)(n * 31 + k[0] * 7 + k[n / 2] * 3 + k[n - 1]) & 255 : 0;
}

static const uint8_t *label_get(const uint8_t *at, const uint8_t **k, size_t *n,
				uint32_t span[2])
{
	uint32_t len;
	memcpy(&len, at, 4);
	*k = at + 4;
	*n = len;
	memcpy(span, at + 4 + len, 8);
	return at + 12 + len;
}

/* ECS label keys may not contain '.', '*' or '\' (ecs-logging spec).
 * Every byte stored again, without a branch: the compiler makes it
 * vector code. */
static void sanitize(uint8_t *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = k[i];
		k[i] = ((c == '.') | (c == '*') | (c == '\\')) ? '_' : c;
	}
}

/* Is a label of this (sanitized) key among the first n_keys bytes of
 * l->keys? Lengths, not an end pointer: an empty buffer's NULL takes no
 * offset. */
static bool has_label(const struct labels *l, size_t n_keys, const uint8_t *key, size_t n)
{
	unsigned b = key_bit(key, n);
	if (n_keys == 0 || !(l->bloom[b / 64] >> (b % 64) & 1))
		return false;
	const uint8_t *keys = l->keys.buf;
	const uint8_t *end = keys + n_keys;
	while (keys < end) {
		const uint8_t *k;
		size_t kn;
		uint32_t span[2];
		keys = label_get(keys, &k, &kn, span);
		if (kn == n && memcmp(k, key, n) == 0)
			return true;
	}
	return false;
}

/* Adds the attribute as a label unless one of its key is there already.
 * Its value is plain's member when plain is set, else the AnyValue
 * val[0..val_n) (val NULL: none). A label is text: a string as it is, any
 * other value as its JSON, then quoted. */
static void add_label(struct labels *l, struct pbw *tmp, const uint8_t *key, size_t key_n,
		      const struct fd_pb_field *plain, const uint8_t *val, size_t val_n)
{
	size_t mark = l->keys.len;
	uint32_t len = (uint32_t)key_n;
	pbw_raw(&l->keys, &len, 4);
	pbw_raw(&l->keys, key, key_n);
	if (l->keys.oom) { /* each entry whole, for has_label to walk */
		l->keys.len = mark;
		return;
	}
	uint8_t *k = l->keys.buf + mark + 4;
	sanitize(k, key_n);
	if (has_label(l, mark, k, key_n)) {
		l->keys.len = mark;
		return;
	}
	struct pbw *o = &l->json;
	if (o->len)
		pbw_raw(o, ",", 1);
	uint32_t span[2] = {(uint32_t)o->len, 0};
	fd_otlp_out_quoted(o, k, key_n);
	pbw_raw(o, ":", 1);
	if (plain && plain->num == 1) {
		fd_otlp_out_quoted(o, plain->p, fd_otlp_cstr_len(plain->p, plain->n));
	} else if (plain) {
		/* a number's or a bool's JSON needs no escaping */
		pbw_raw(o, "\"", 1);
		fd_otlp_member_json(o, plain);
		pbw_raw(o, "\"", 1);
	} else {
		pbw_reset(tmp);
		fd_otlp_attr_text_wire(tmp, val, val_n, val != NULL);
		fd_otlp_out_quoted(o, tmp->buf, tmp->len);
		o->oom |= tmp->oom;
	}
	span[1] = (uint32_t)o->len;
	pbw_raw(&l->keys, span, 8);
	if (l->keys.oom) {
		l->keys.len = mark;
		return;
	}
	unsigned b = key_bit(l->keys.buf + mark + 4, key_n);
	l->bloom[b / 64] |= 1ULL << (b % 64);
}

/* A mapped attribute becomes its ECS field; with labels set, any other
 * attribute a label. */
static void attributes(struct pbw *frag, struct labels *labels, struct pbw *tmp,
		       const uint8_t *msg, size_t n, uint32_t field, const struct mapping *map,
		       size_t n_map)
{
	struct claims c;
	c.n = 0; /* not the whole array: that was most of a record's memset */
	struct fd_pb_reader r = fd_pb_reader(msg, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.num != field || f.type != PB_LEN)
			continue;
		/* attributes come in the usual shape but for a few: their
		 * member is read once */
		struct fd_pb_field k, member, *plain = NULL;
		const uint8_t *key, *val = NULL;
		size_t key_n, val_n = 0;
		if (fd_otlp_plain_attribute(f.p, f.n, &k, &member)) {
			plain = &member;
			key = k.p;
			key_n = fd_otlp_cstr_len(k.p, k.n);
		} else {
			fd_otlp_keyvalue(f.p, f.n, &key, &key_n, &val, &val_n);
		}
		const struct mapping *m = lookup(map, n_map, key, key_n);
		if (m && claim(&c, m)) {
			pbw_raw(frag, m->key, m->key_n);
			if (plain)
				fd_otlp_member_json(frag, plain);
			else
				fd_otlp_attr_json_wire(frag, val, val_n, val != NULL);
		} else if (!m && labels) {
			add_label(labels, tmp, key, key_n, plain, val, val_n);
		}
	}
}

/* What a resource or scope contributes, kept by blob id. */
struct part {
	uint8_t *copy; /* the blob it was made for */
	uint32_t len;
	bool made, bad;
	struct pbw frag;
	struct labels labels;
};

struct fd_ecs {
	struct part *res, *scope;
	size_t n_res, n_scope;
	struct part none; /* no resource or scope */
	struct pbw canon, canon2, tmp;
	struct labels labels; /* the record's */
	/* for a data stream: event.dataset and data_stream.*, written after the
	 * resource's fields instead of "<service.name>.log" */
	struct pbw stream;
	bool has_stream;
	/* @timestamp up to the second and that second, kept from the last
	 * record: records come in time order, many a second */
	int64_t ts_sec;
	bool ts_made;
	char ts[32];
};

struct fd_ecs *fd_ecs_create(void)
{
	return calloc(1, sizeof(struct fd_ecs));
}

static void out_str_field(struct pbw *o, const char *key, const char *val)
{
	out_key_n(o, key, strlen(key));
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

static void labels_free(struct labels *l)
{
	pbw_finish(&l->keys);
	pbw_finish(&l->json);
}

static void labels_reset(struct labels *l)
{
	pbw_reset(&l->keys);
	pbw_reset(&l->json);
	memset(l->bloom, 0, sizeof(l->bloom));
}

static void part_free(struct part *p)
{
	free(p->copy);
	pbw_finish(&p->frag);
	labels_free(&p->labels);
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
	labels_free(&e->labels);
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
	attributes(&p->frag, &p->labels, &e->tmp, res, n, 1, resource_map, N_MAP(resource_map));
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
	labels_reset(&p->labels);
	p->bad = false;
	if (b && resource)
		make_resource(e, p, b->data, b->len);
	else if (b)
		make_scope(e, p, b->data, b->len);
	if (p->frag.oom || p->labels.keys.oom || p->labels.json.oom)
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

/* ,"key":"<hex>" (hex needs no escaping) */
static void out_hex_field(struct pbw *o, const char *key, size_t key_n, const uint8_t *p, size_t n)
{
	if (n && n <= 32) {
		out_key_n(o, key, key_n);
		if (pbw_room(o, 2 * n + 2)) {
			char *w = (char *)o->buf + o->len;
			w[0] = '"';
			fd_otlp_hex(w + 1, p, n);
			w[2 * n + 1] = '"';
			o->len += 2 * n + 2;
		}
	}
}

/* "@timestamp"'s value: fd_format_time's text, quoted (it needs no
 * escaping). When it is the usual 24 bytes, yyyy-mm-ddThh:mm:ss.mmmZ, all
 * but the milliseconds are kept for the next record of the same second. */
static void out_time(struct fd_ecs *e, struct pbw *o, int64_t t)
{
	int64_t sec = t / 1000000000, rem = t % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	if (!e->ts_made || e->ts_sec != sec) {
		fd_format_time(e->ts, sizeof(e->ts), t);
		e->ts_sec = sec;
		e->ts_made = strlen(e->ts) == 24;
		if (!e->ts_made) {
			fd_otlp_out_quoted(o, (const uint8_t *)e->ts, strlen(e->ts));
			return;
		}
	}
	if (pbw_room(o, 26)) {
		int ms = (int)(rem / 1000000);
		char *w = (char *)o->buf + o->len;
		w[0] = '"';
		memcpy(w + 1, e->ts, 20);
		w[21] = (char)('0' + ms / 100);
		w[22] = (char)('0' + ms / 10 % 10);
		w[23] = (char)('0' + ms % 10);
		w[24] = 'Z';
		w[25] = '"';
		o->len += 26;
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
	char buf[32], sev[32];
	int64_t t = l.time ? (int64_t)l.time : l.observed ? (int64_t)l.observed : rec->time_ns;
	/* Elasticsearch's logs templates map @timestamp as date, which keeps
	 * milliseconds: more digits would be dropped on ingest anyway. */
	pbw_raw(o, "{\"@timestamp\":", 14);
	out_time(e, o, t);
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
		char num[20];
		out_key(o, "event.severity");
		pbw_raw(o, num, fd_format_int(num, l.severity));
	}
	out_hex_field(o, "trace.id", 8, l.trace, l.trace_n);
	out_hex_field(o, "span.id", 7, l.span, l.span_n);
	/* The record's labels first: a label it sets itself wins over the
	 * resource's of the same name. */
	struct labels *own = &e->labels, *rl = &res->labels;
	labels_reset(own);
	attributes(o, own, &e->tmp, lr, lr_n, 6, record_map, N_MAP(record_map));
	/* Does the record set a label the resource has? Rarely: then the
	 * resource's labels go out one by one, those not set by the record.
	 * No key of one can be among the other's when no key_bit is in both. */
	bool clash = false;
	uint64_t both = 0;
	for (int i = 0; i < 4; i++)
		both |= own->bloom[i] & rl->bloom[i];
	const uint8_t *at = own->keys.buf, *end = at && both ? at + own->keys.len : at;
	while (at < end && !clash) {
		const uint8_t *k;
		size_t kn;
		uint32_t span[2];
		at = label_get(at, &k, &kn, span);
		clash = has_label(rl, rl->keys.len, k, kn);
	}
	if (own->json.len || (!clash && rl->json.len)) {
		out_key(o, "labels");
		pbw_raw(o, "{", 1);
		pbw_raw(o, own->json.buf, own->json.len);
		if (!clash && rl->json.len) {
			if (own->json.len)
				pbw_raw(o, ",", 1);
			pbw_raw(o, rl->json.buf, rl->json.len);
		}
		at = rl->keys.buf;
		end = at ? at + rl->keys.len : at;
		while (clash && at < end) {
			const uint8_t *k;
			size_t kn;
			uint32_t span[2];
			at = label_get(at, &k, &kn, span);
			if (!has_label(own, own->keys.len, k, kn)) {
				pbw_raw(o, ",", 1);
				pbw_raw(o, rl->json.buf + span[0], span[1] - span[0]);
			}
		}
		pbw_raw(o, "}", 1);
	}
	pbw_raw(o, "}", 1);
	if (o->oom || own->keys.oom || own->json.oom || e->tmp.oom) {
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
