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
#include "common/timefmt.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;

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

static const char *lookup(const struct mapping *map, size_t n, const char *key)
{
	/* first characters first: every attribute of every record comes here */
	for (size_t i = 0; i < n; i++)
		if (map[i].otel[0] == key[0] && strcmp(map[i].otel, key) == 0)
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

struct label {
	char *key, *val;
};

/* One document being written: the top-level keys so far (so a field is
 * never written twice) and the labels, written last as one object. */
struct doc {
	struct fd_json *j;
	const char *keys[N_MAP(record_map) + N_MAP(resource_map) + 16];
	size_t n_keys;
	struct label *labels;
	size_t n_labels, cap_labels;
	bool oom;
};

static bool claim(struct doc *d, const char *key)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (d->keys[i][0] == key[0] && strcmp(d->keys[i], key) == 0)
			return false;
	if (d->n_keys < sizeof(d->keys) / sizeof(d->keys[0]))
		d->keys[d->n_keys++] = key;
	fd_json_key(d->j, key);
	return true;
}

static void field_str(struct doc *d, const char *key, const char *s)
{
	if (s && *s && claim(d, key))
		fd_json_string(d->j, s);
}

/* ECS label keys may not contain '.', '*' or '\' (ecs-logging spec). */
static void add_label(struct doc *d, const char *key, const AnyValue *v)
{
	char *k = strdup(key ? key : "");
	if (!k) {
		d->oom = true;
		return;
	}
	for (char *p = k; *p; p++)
		if (*p == '.' || *p == '*' || *p == '\\')
			*p = '_';
	for (size_t i = 0; i < d->n_labels; i++)
		if (strcmp(d->labels[i].key, k) == 0) {
			free(k);
			return;
		}
	if (d->n_labels == d->cap_labels) {
		size_t cap = d->cap_labels ? 2 * d->cap_labels : 16;
		struct label *l = realloc(d->labels, cap * sizeof(*l));
		if (!l) {
			free(k);
			d->oom = true;
			return;
		}
		d->labels = l;
		d->cap_labels = cap;
	}
	char *val = fd_otlp_attr_text(v);
	if (!val) {
		free(k);
		d->oom = true;
		return;
	}
	d->labels[d->n_labels++] = (struct label){k, val};
}

/* Attributes with an ECS field become that field... */
static void mapped_fields(struct doc *d, KeyValue *const *kv, size_t n, const struct mapping *map,
			  size_t n_map)
{
	for (size_t i = 0; i < n; i++) {
		const char *ecs = lookup(map, n_map, kv[i]->key);
		if (ecs && claim(d, ecs))
			fd_otlp_attr_json(d->j, kv[i]->value);
	}
}

/* ...and the others labels. */
static void unmapped_labels(struct doc *d, KeyValue *const *kv, size_t n,
			    const struct mapping *map, size_t n_map)
{
	for (size_t i = 0; i < n; i++)
		if (!lookup(map, n_map, kv[i]->key))
			add_label(d, kv[i]->key, kv[i]->value);
}

static const char *resource_string(const Resource *r, const char *key)
{
	for (size_t i = 0; r && i < r->n_attributes; i++) {
		const AnyValue *v = r->attributes[i]->value;
		if (strcmp(r->attributes[i]->key, key) == 0 && v &&
		    v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return v->string_value;
	}
	return NULL;
}

static void put_ids(struct doc *d, const LogRecord *lr)
{
	char hex[65];
	if (lr->trace_id.len && lr->trace_id.len <= 32)
		field_str(d, "trace.id", fd_otlp_hex(hex, lr->trace_id.data, lr->trace_id.len));
	if (lr->span_id.len && lr->span_id.len <= 32)
		field_str(d, "span.id", fd_otlp_hex(hex, lr->span_id.data, lr->span_id.len));
}

static void write_doc(struct doc *d, const struct fd_record *rec, const LogRecord *lr,
		      const Resource *res, const Scope *scope)
{
	struct fd_json *j = d->j;
	char buf[64];
	int64_t t = lr->time_unix_nano           ? (int64_t)lr->time_unix_nano
		    : lr->observed_time_unix_nano ? (int64_t)lr->observed_time_unix_nano
						  : rec->time_ns;
	fd_json_object_begin(j);
	/* Elasticsearch's logs templates map @timestamp as date, which keeps
	 * milliseconds: more digits would be dropped on ingest anyway. */
	field_str(d, "@timestamp", fd_format_time(buf, sizeof(buf), t));
	field_str(d, "log.level", fd_ecs_level(lr->severity_number, lr->severity_text, buf));
	if (claim(d, "message")) {
		if (lr->body && lr->body->value_case !=
				       OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE) {
			char *text = fd_otlp_attr_text(lr->body);
			d->oom |= !text;
			fd_json_string(j, text ? text : "");
			free(text);
		} else {
			fd_json_string(j, lr->body && lr->body->string_value ? lr->body->string_value : "");
		}
	}
	field_str(d, "ecs.version", FD_ECS_VERSION);
	if (res)
		mapped_fields(d, res->attributes, res->n_attributes, resource_map, N_MAP(resource_map));
	const char *service = resource_string(res, "service.name");
	if (service && *service) {
		char *dataset = malloc(strlen(service) + 5);
		d->oom |= !dataset;
		if (dataset) {
			strcpy(dataset, service);
			strcat(dataset, ".log");
			field_str(d, "event.dataset", dataset);
			free(dataset);
		}
	}
	if (scope)
		field_str(d, "log.logger", scope->name);
	if (lr->severity_number && claim(d, "event.severity"))
		fd_json_int(j, lr->severity_number);
	put_ids(d, lr);
	mapped_fields(d, lr->attributes, lr->n_attributes, record_map, N_MAP(record_map));
	/* The record's labels first: a label it sets itself wins over the
	 * resource's of the same name. */
	unmapped_labels(d, lr->attributes, lr->n_attributes, record_map, N_MAP(record_map));
	if (res)
		unmapped_labels(d, res->attributes, res->n_attributes, resource_map,
				N_MAP(resource_map));
	if (d->n_labels && claim(d, "labels")) {
		fd_json_object_begin(j);
		for (size_t i = 0; i < d->n_labels; i++) {
			fd_json_key(j, d->labels[i].key);
			fd_json_string(j, d->labels[i].val);
		}
		fd_json_object_end(j);
	}
	fd_json_object_end(j);
}

int fd_ecs_log(const struct fd_record *rec, struct fd_pb_arena *scratch, struct fd_json *out,
	       struct fd_error *err)
{
	if (rec->signal != FD_SIGNAL_LOGS)
		return fd_error_set(err, FD_EINPUT, "ecs: only log records have an ECS form, not %s",
				    fd_signal_name(rec->signal) ? fd_signal_name(rec->signal) : "?");
	if (scratch)
		fd_pb_arena_reset(scratch);
	LogRecord *lr = (LogRecord *)fd_otlp_json_unpack(
		&opentelemetry__proto__logs__v1__log_record__descriptor, rec->payload, rec->payload_len,
		scratch);
	Resource *res = rec->resource
				? (Resource *)fd_otlp_json_unpack(
					  &opentelemetry__proto__resource__v1__resource__descriptor,
					  rec->resource->data, rec->resource->len, scratch)
				: NULL;
	Scope *scope = rec->scope
			       ? (Scope *)fd_otlp_json_unpack(
					 &opentelemetry__proto__common__v1__instrumentation_scope__descriptor,
					 rec->scope->data, rec->scope->len, scratch)
			       : NULL;
	int rc = 0;
	if (!lr || (rec->resource && !res) || (rec->scope && !scope)) {
		rc = fd_error_set(err, FD_EINPUT, "ecs: malformed %s in a log record",
				  !lr ? "LogRecord payload" : !res && rec->resource ? "resource" : "scope");
	} else {
		struct doc d = {.j = out};
		write_doc(&d, rec, lr, res, scope);
		for (size_t i = 0; i < d.n_labels; i++) {
			free(d.labels[i].key);
			free(d.labels[i].val);
		}
		free(d.labels);
		if (d.oom)
			rc = fd_error_set(err, FD_ERUNTIME, "ecs: out of memory");
		else if (out->error)
			rc = fd_error_set(err, FD_ERUNTIME, "ecs: writing: %s", strerror(out->error));
	}
	if (lr)
		fd_otlp_json_unpacked_free(&lr->base, scratch);
	if (res)
		fd_otlp_json_unpacked_free(&res->base, scratch);
	if (scope)
		fd_otlp_json_unpacked_free(&scope->base, scratch);
	return rc;
}
