/*
 * Tells: statistical properties by which an experienced SRE tells generated
 * telemetry from production (issue 13), checked over every built-in
 * scenario. Each one failed on the output of the simulation before the
 * realism work; each check says what a real system shows instead.
 *
 * One test per built-in scenario runs it (shortened to TELLS_WINDOW when it
 * is longer, but long enough to hold its incident), decodes every record
 * and checks every property, listing all that fail before failing.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "generator/builtin.h"
#include "generator/scenario.h"
#include "generator/sim.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

#define NS 1000000000LL
#define MAX_SPANS 400000
#define MAX_ACCESS 300000
#define MAX_LOGS 2000000

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;

/* ---- what is kept of a run ------------------------------------------------ */

struct res {
	const void *blob;
	char service[64], instance[96], version[32], sdk[32], language[16];
	int svc; /* index into services */
};

struct scope {
	const void *blob;
	char name[192];
};

struct span {
	uint8_t trace[16], id[8], parent[8];
	bool has_parent, has_link;
	bool db; /* a database, cache or messaging span */
	uint32_t flags, link_flags;
	int kind, res, scope;
	int64_t start, end;
	char route[96], path[160];
	int status;
	char error_type[96];
	char server_address[96];
};

struct logrec {
	int64_t time, observed;
	bool has_trace;
	uint8_t span[8];
	uint32_t flags;
	int res, severity;
	bool access;
	bool lifecycle; /* a deploy, restart... line */
	uint64_t shape; /* hash of the body without its digits */
	char body[96];
};

struct point {
	int res;
	int64_t time, start;
	double v;
};

/* Stack traces seen per service: how many, how many name the service. */
struct stacks {
	size_t n, named;
	uint64_t first; /* hash of the first one, the service's name taken out */
	/* Go dumps: goroutine number of the first, and whether another differed */
	size_t n_go;
	long goroutine;
	bool goroutine_moved;
};

struct run {
	const struct fd_scenario *sc;
	int64_t start;
	struct res *res;
	size_t n_res;
	char (*services)[64];
	size_t n_services;
	struct scope *scopes;
	size_t n_scopes;
	struct span *spans;
	size_t n_spans;
	struct logrec *logs;
	size_t n_logs, n_access;
	struct point *mem, *cpu, *gc, *cpu_time, *restarts;
	size_t n_mem, n_cpu, n_gc, n_cpu_time, n_restarts;
	struct stacks stacks[64]; /* by service index */
	/* client metric server.address values per calling service: "svc>addr" */
	char (*client_metric)[160];
	size_t n_client_metric;
	int name_found;     /* the scenario's name in some attribute or text */
	char gc_foreign[160]; /* a GC metric outside its runtime's namespace */
	char name_where[256];
	int decode_errors;
	/* failures of this run */
	int fails;
};

/* Room for element n of an array grown by doubling from 16. */
static void *grow(void *p, size_t n, size_t size)
{
	if (n && (n < 16 || (n & (n - 1))))
		return p;
	size_t cap = n ? n * 2 : 16;
	void *v = realloc(p, cap * size);
	if (!v)
		abort();
	return v;
}

static const char *str_of(const Opentelemetry__Proto__Common__V1__AnyValue *v)
{
	return v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
		       ? v->string_value : NULL;
}

static const KeyValue *attr(KeyValue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i];
	return NULL;
}

static void copy_str(char *out, size_t n, KeyValue **kv, size_t nkv, const char *key)
{
	const KeyValue *a = attr(kv, nkv, key);
	const char *s = a ? str_of(a->value) : NULL;
	snprintf(out, n, "%s", s ? s : "");
}

/* Letters and digits of s, lower-cased: "product-api" -> "productapi". */
static void squash(char *out, size_t n, const char *s, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len && s[i] && k + 1 < n; i++)
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			out[k++] = s[i];
		else if (s[i] >= 'A' && s[i] <= 'Z')
			out[k++] = (char)(s[i] - 'A' + 'a');
	out[k] = '\0';
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

/* A stack trace of service res: does it use the service's own names, and
 * what is it like with them taken out. */
static void on_stack(struct run *r, int res, const char *stack)
{
	int v = r->res[res].svc;
	if (!stack || v < 0 || v >= 64)
		return;
	char name[64], text[4096];
	squash(name, sizeof(name), r->res[res].service, strlen(r->res[res].service));
	squash(text, sizeof(text), stack, strlen(stack));
	struct stacks *x = &r->stacks[v];
	const char *g = strstr(stack, "goroutine ");
	long gid;
	if (g && sscanf(g, "goroutine %ld [", &gid) == 1) {
		if (x->n_go++ && gid != x->goroutine)
			x->goroutine_moved = true;
		x->goroutine = gid;
	}
	char *at = name[0] ? strstr(text, name) : NULL;
	x->named += at != NULL;
	while (at) {
		memset(at, '_', strlen(name));
		at = strstr(at, name);
	}
	if (!x->n++)
		x->first = fnv(1469598103934665603ULL, text);
}

/* The scenario's name must appear nowhere: not in a value, not in a name. */
static void look_for_name(struct run *r, const char *where, const char *text)
{
	if (r->name_found || !text || !strstr(text, r->sc->name))
		return;
	r->name_found = 1;
	snprintf(r->name_where, sizeof(r->name_where), "%s: %.200s", where, text);
}

static void look_in_attrs(struct run *r, const char *where, KeyValue **kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		look_for_name(r, where, kv[i]->key);
		look_for_name(r, where, str_of(kv[i]->value));
	}
}

static int res_of(struct run *r, const struct fd_blob *blob)
{
	for (size_t i = r->n_res; i-- > 0;)
		if (r->res[i].blob == blob)
			return (int)i;
	r->res = grow(r->res, r->n_res, sizeof(*r->res));
	struct res *x = &r->res[r->n_res];
	memset(x, 0, sizeof(*x));
	x->blob = blob;
	Opentelemetry__Proto__Resource__V1__Resource *res =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, blob->len, blob->data);
	if (!res) {
		r->decode_errors++;
		return (int)r->n_res++;
	}
	copy_str(x->service, sizeof(x->service), res->attributes, res->n_attributes, "service.name");
	copy_str(x->instance, sizeof(x->instance), res->attributes, res->n_attributes, "service.instance.id");
	copy_str(x->version, sizeof(x->version), res->attributes, res->n_attributes, "service.version");
	copy_str(x->sdk, sizeof(x->sdk), res->attributes, res->n_attributes, "telemetry.sdk.name");
	copy_str(x->language, sizeof(x->language), res->attributes, res->n_attributes, "telemetry.sdk.language");
	look_in_attrs(r, "resource", res->attributes, res->n_attributes);
	opentelemetry__proto__resource__v1__resource__free_unpacked(res, NULL);
	x->svc = -1;
	for (size_t i = 0; i < r->n_services; i++)
		if (!strcmp(r->services[i], x->service))
			x->svc = (int)i;
	if (x->svc < 0) {
		r->services = grow(r->services, r->n_services, sizeof(*r->services));
		snprintf(r->services[r->n_services], sizeof(r->services[0]), "%s", x->service);
		x->svc = (int)r->n_services++;
	}
	return (int)r->n_res++;
}

static int scope_of(struct run *r, const struct fd_blob *blob)
{
	for (size_t i = r->n_scopes; i-- > 0;)
		if (r->scopes[i].blob == blob)
			return (int)i;
	r->scopes = grow(r->scopes, r->n_scopes, sizeof(*r->scopes));
	struct scope *x = &r->scopes[r->n_scopes];
	memset(x, 0, sizeof(*x));
	x->blob = blob;
	Opentelemetry__Proto__Common__V1__InstrumentationScope *sc =
		opentelemetry__proto__common__v1__instrumentation_scope__unpack(NULL, blob->len, blob->data);
	if (sc) {
		snprintf(x->name, sizeof(x->name), "%s", sc->name ? sc->name : "");
		look_for_name(r, "scope", sc->name);
		opentelemetry__proto__common__v1__instrumentation_scope__free_unpacked(sc, NULL);
	} else {
		r->decode_errors++;
	}
	return (int)r->n_scopes++;
}

static void on_span(struct run *r, const struct fd_record *rec, int res, int scope)
{
	Span *sp = opentelemetry__proto__trace__v1__span__unpack(NULL, rec->payload_len, rec->payload);
	if (!sp) {
		r->decode_errors++;
		return;
	}
	look_for_name(r, "span name", sp->name);
	look_in_attrs(r, "span", sp->attributes, sp->n_attributes);
	if (r->n_spans < MAX_SPANS && sp->trace_id.len == 16 && sp->span_id.len == 8) {
		r->spans = grow(r->spans, r->n_spans, sizeof(*r->spans));
		struct span *x = &r->spans[r->n_spans++];
		memset(x, 0, sizeof(*x));
		memcpy(x->trace, sp->trace_id.data, 16);
		memcpy(x->id, sp->span_id.data, 8);
		if (sp->parent_span_id.len == 8) {
			x->has_parent = true;
			memcpy(x->parent, sp->parent_span_id.data, 8);
		}
		x->has_link = sp->n_links > 0;
		x->link_flags = sp->n_links ? sp->links[0]->flags : 0;
		x->flags = sp->flags;
		x->kind = sp->kind;
		x->res = res;
		x->scope = scope;
		x->start = (int64_t)sp->start_time_unix_nano;
		x->end = (int64_t)sp->end_time_unix_nano;
		x->db = attr(sp->attributes, sp->n_attributes, "db.system.name") ||
			attr(sp->attributes, sp->n_attributes, "messaging.system");
		copy_str(x->route, sizeof(x->route), sp->attributes, sp->n_attributes, "http.route");
		copy_str(x->path, sizeof(x->path), sp->attributes, sp->n_attributes, "url.path");
		copy_str(x->error_type, sizeof(x->error_type), sp->attributes, sp->n_attributes, "error.type");
		copy_str(x->server_address, sizeof(x->server_address), sp->attributes, sp->n_attributes,
			 "server.address");
		for (size_t e = 0; e < sp->n_events; e++) {
			const KeyValue *a = attr(sp->events[e]->attributes, sp->events[e]->n_attributes,
						 "exception.stacktrace");
			if (a)
				on_stack(r, res, str_of(a->value));
		}
		const KeyValue *st = attr(sp->attributes, sp->n_attributes, "http.response.status_code");
		if (st && st->value && st->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			x->status = (int)st->value->int_value;
	}
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
}

static void on_log(struct run *r, const struct fd_record *rec, int res)
{
	LogRecord *lr = opentelemetry__proto__logs__v1__log_record__unpack(NULL, rec->payload_len, rec->payload);
	if (!lr) {
		r->decode_errors++;
		return;
	}
	const char *body = str_of(lr->body);
	look_for_name(r, "log body", body);
	look_in_attrs(r, "log", lr->attributes, lr->n_attributes);
	const KeyValue *stack = attr(lr->attributes, lr->n_attributes, "exception.stacktrace");
	if (stack)
		on_stack(r, res, str_of(stack->value));
	const KeyValue *type = attr(lr->attributes, lr->n_attributes, "log.type");
	bool access = type && str_of(type->value) && !strcmp(str_of(type->value), "access");
	if (access ? r->n_access < MAX_ACCESS : r->n_logs < MAX_LOGS) {
		r->n_access += access;
		r->logs = grow(r->logs, r->n_logs, sizeof(*r->logs));
		struct logrec *x = &r->logs[r->n_logs++];
		memset(x, 0, sizeof(*x));
		x->time = (int64_t)lr->time_unix_nano;
		x->observed = (int64_t)lr->observed_time_unix_nano;
		x->has_trace = lr->trace_id.len == 16;
		if (lr->span_id.len == 8)
			memcpy(x->span, lr->span_id.data, 8);
		x->flags = lr->flags;
		x->res = res;
		x->severity = lr->severity_number;
		x->access = access;
		snprintf(x->body, sizeof(x->body), "%s", body ? body : "");
		x->shape = 1469598103934665603ULL;
		for (const char *c = body ? body : ""; *c; c++)
			if (*c < '0' || *c > '9')
				x->shape = (x->shape ^ (uint8_t)*c) * 1099511628211ULL;
		x->lifecycle = body && (strstr(body, "deploy of") || strstr(body, "rollback of") ||
					strstr(body, "started ") == body || strstr(body, "restarting ") == body);
	}
	opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
}

/* The namespace of a runtime's own metrics (its SDK's language). */
static const char *runtime_namespace(const char *language)
{
	static const char *const ns[][2] = {
		{"java", "jvm."}, {"nodejs", "v8js."}, {"go", "go."}, {"dotnet", "dotnet."},
		{"python", "cpython."}, {"ruby", "ruby."}, {"rust", "rust."},
	};
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (!strcmp(language, ns[i][0]))
			return ns[i][1];
	return NULL;
}

static void on_metric(struct run *r, const struct fd_record *rec, int res)
{
	Metric *m = opentelemetry__proto__metrics__v1__metric__unpack(NULL, rec->payload_len, rec->payload);
	if (!m) {
		r->decode_errors++;
		return;
	}
	/* the collector is the runtime's: a JVM's is jvm.gc.*, V8's v8js.gc.* */
	const char *ns = runtime_namespace(r->res[res].language);
	if (ns && strstr(m->name, "gc") && strncmp(m->name, ns, strlen(ns)) != 0 && !r->gc_foreign[0])
		snprintf(r->gc_foreign, sizeof(r->gc_foreign), "%s from %s (%s)", m->name,
			 r->res[res].service, r->res[res].language);
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM &&
	    m->histogram->n_data_points &&
	    (!strcmp(m->name, "jvm.gc.duration") || !strcmp(m->name, "v8js.gc.duration"))) {
		Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dp = m->histogram->data_points[0];
		r->gc = grow(r->gc, r->n_gc, sizeof(*r->gc));
		r->gc[r->n_gc++] = (struct point){.res = res, .time = (int64_t)dp->time_unix_nano,
						  .start = (int64_t)dp->start_time_unix_nano, .v = dp->sum};
	}
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE &&
	    m->gauge->n_data_points &&
	    (!strcmp(m->name, "process.memory.usage") || !strcmp(m->name, "process.cpu.utilization"))) {
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = m->gauge->data_points[0];
		double v = dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
				   ? (double)dp->as_int : dp->as_double;
		bool mem = !strcmp(m->name, "process.memory.usage");
		struct point **pv = mem ? &r->mem : &r->cpu;
		size_t *pn = mem ? &r->n_mem : &r->n_cpu;
		*pv = grow(*pv, *pn, sizeof(**pv));
		(*pv)[(*pn)++] = (struct point){.res = res, .time = (int64_t)dp->time_unix_nano, .v = v};
	}
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM && m->sum->n_data_points) {
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = m->sum->data_points[0];
		double v = dp->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
				   ? (double)dp->as_int : dp->as_double;
		struct point **pv = NULL;
		size_t *pn = NULL;
		if (!strcmp(m->name, "dotnet.gc.pause.time")) {
			pv = &r->gc;
			pn = &r->n_gc;
		} else if (!strcmp(m->name, "process.cpu.time")) {
			pv = &r->cpu_time;
			pn = &r->n_cpu_time;
		} else if (!strcmp(m->name, "process.restart.count")) {
			pv = &r->restarts;
			pn = &r->n_restarts;
		}
		if (pv) {
			*pv = grow(*pv, *pn, sizeof(**pv));
			(*pv)[(*pn)++] = (struct point){.res = res, .time = (int64_t)dp->time_unix_nano,
							.start = (int64_t)dp->start_time_unix_nano, .v = v};
		}
	}
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM &&
	    !strcmp(m->name, "http.client.request.duration")) {
		for (size_t i = 0; i < m->histogram->n_data_points; i++) {
			Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *dp = m->histogram->data_points[i];
			char addr[96], key[160];
			copy_str(addr, sizeof(addr), dp->attributes, dp->n_attributes, "server.address");
			snprintf(key, sizeof(key), "%s>%s", r->res[res].service, addr);
			bool have = false;
			for (size_t k = 0; k < r->n_client_metric && !have; k++)
				have = !strcmp(r->client_metric[k], key);
			if (!have) {
				r->client_metric = grow(r->client_metric, r->n_client_metric, sizeof(*r->client_metric));
				snprintf(r->client_metric[r->n_client_metric++], sizeof(r->client_metric[0]), "%s", key);
			}
		}
	}
	opentelemetry__proto__metrics__v1__metric__free_unpacked(m, NULL);
}

static int emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	(void)err;
	struct run *r = ctx;
	int res = res_of(r, rec->resource);
	int scope = scope_of(r, rec->scope);
	if (rec->signal == FD_SIGNAL_TRACES)
		on_span(r, rec, res, scope);
	else if (rec->signal == FD_SIGNAL_LOGS)
		on_log(r, rec, res);
	else
		on_metric(r, rec, res);
	return 0;
}

/* ---- checks -------------------------------------------------------------------- */

static void fail_tell(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_tell(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  TELL %s: ", r->sc->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	r->fails++;
}

static int cmp_span_id(const void *a, const void *b)
{
	return memcmp(((const struct span *)a)->id, ((const struct span *)b)->id, 8);
}

static const struct span *find_span(const struct span *sorted, size_t n, const uint8_t id[8])
{
	struct span key;
	memcpy(key.id, id, 8);
	return bsearch(&key, sorted, n, sizeof(*sorted), cmp_span_id);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Giveaways: the incident's name, the generator's name. */
static void check_giveaways(struct run *r)
{
	if (r->name_found)
		fail_tell(r, "the scenario's name appears in the telemetry (%s)", r->name_where);
	/* a service's resource comes from its SDK; the collector's receivers
	 * (kubeletstats, k8s_cluster, k8s events, postgresql...) make theirs
	 * without service.name or telemetry.sdk.* */
	for (size_t i = 0; i < r->n_res; i++)
		if (!strcmp(r->res[i].sdk, "firedrill") || (r->res[i].service[0] && !r->res[i].sdk[0])) {
			fail_tell(r, "telemetry.sdk.name is '%s' on %s", r->res[i].sdk, r->res[i].service);
			break;
		}
	for (size_t i = 0; i < r->n_scopes; i++)
		if (strstr(r->scopes[i].name, "firedrill")) {
			fail_tell(r, "instrumentation scope '%s'", r->scopes[i].name);
			break;
		}
	/* a service's HTTP server spans and its database or messaging spans
	 * come from different instrumentation libraries */
	for (size_t v = 0; v < r->n_services; v++) {
		int first = -1;
		bool server = false, client = false, several = false;
		for (size_t i = 0; i < r->n_spans; i++) {
			const struct span *x = &r->spans[i];
			if (r->res[x->res].svc != (int)v)
				continue;
			server |= x->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
			client |= x->db;
			if (first < 0)
				first = x->scope;
			several |= x->scope != first;
		}
		if (server && client && !several) {
			fail_tell(r, "every span of %s comes from one instrumentation scope", r->services[v]);
			break;
		}
	}
}

/* Span flags: the remote bit on spans whose parent is in another process. */
static void check_flags(struct run *r)
{
	size_t bad = 0, n = 0;
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		bool remote = x->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER && x->has_parent;
		uint32_t want = 0x100 | 0x1 | (remote ? 0x200 : 0);
		n++;
		bad += x->flags != want;
	}
	if (bad)
		fail_tell(r, "%zu of %zu spans have wrong flags (0x301 with a remote parent, else 0x101)", bad, n);
}

/* Messaging: a consumer starts its own trace and links to the producer. */
static void check_messaging(struct run *r)
{
	size_t consumers = 0, bad = 0;
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		if (x->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CONSUMER)
			continue;
		consumers++;
		bad += x->has_parent || !x->has_link || !(x->link_flags & 0x200);
	}
	if (bad)
		fail_tell(r, "%zu of %zu consumer spans are children of their producer or have no remote link",
			  bad, consumers);
}

/* url.path carries real ids; http.route is the template. */
static void check_paths(struct run *r)
{
	size_t templated = 0, same = 0, distinct = 0;
	const char *first = NULL;
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		if (!strchr(x->route, '{') || !x->path[0])
			continue;
		templated++;
		same += strchr(x->path, '{') != NULL;
		if (!first)
			first = x->path;
		else if (strcmp(first, x->path))
			distinct++;
	}
	if (templated && (same || !distinct))
		fail_tell(r, "url.path holds the route template (%zu of %zu server spans)", same, templated);
}

/* One error taxonomy: a server span's error.type is its status code. */
static void check_errors(struct run *r)
{
	size_t bad = 0, n = 0;
	char example[128] = "";
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		if (x->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER || x->status < 500)
			continue;
		n++;
		char code[16];
		snprintf(code, sizeof(code), "%d", x->status);
		if (strcmp(x->error_type, code)) {
			if (!bad++)
				snprintf(example, sizeof(example), "%d with error.type %s", x->status, x->error_type);
		}
	}
	if (bad)
		fail_tell(r, "%zu of %zu failed server spans have an error.type other than their status (%s)", bad, n,
			  example);
}

/* Every outbound HTTP call has its client metric. */
static void check_client_metrics(struct run *r)
{
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		/* HTTP client spans: a status code or an error.type */
		if (x->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT ||
		    !x->server_address[0] || (!x->status && !x->error_type[0]))
			continue;
		char key[160];
		snprintf(key, sizeof(key), "%s>%s", r->res[x->res].service, x->server_address);
		bool have = false;
		for (size_t k = 0; k < r->n_client_metric && !have; k++)
			have = !strcmp(r->client_metric[k], key);
		if (!have) {
			fail_tell(r, "calls %s have client spans but no http.client.request.duration", key);
			return;
		}
	}
}

/* Logs: trace context on every line written in a request, sampled or not;
 * observed later than written, by varying delays. */
static void check_logs(struct run *r)
{
	size_t access = 0, access_ctx = 0, unsampled = 0, not_after = 0, same_delay = 0;
	int64_t first_delay = -1;
	for (size_t i = 0; i < r->n_logs; i++) {
		const struct logrec *l = &r->logs[i];
		if (l->access) {
			access++;
			access_ctx += l->has_trace;
			unsampled += l->has_trace && !(l->flags & 1);
		}
		int64_t d = l->observed - l->time;
		not_after += d <= 0;
		if (first_delay < 0)
			first_delay = d;
		else
			same_delay += d == first_delay;
	}
	if (access && access_ctx < access)
		fail_tell(r, "%zu of %zu access logs carry no trace context", access - access_ctx, access);
	if (access > 1000 && !unsampled)
		fail_tell(r, "only sampled requests' logs carry a trace context");
	if (not_after)
		fail_tell(r, "%zu of %zu logs observed no later than written", not_after, r->n_logs);
	if (r->n_logs > 10 && same_delay + 1 == r->n_logs)
		fail_tell(r, "every log is observed the same delay after it is written");
}

/* Network time per hop varies, per edge and per host: client and server
 * span starts are not a constant apart. Hosts' clocks differ: on fast edges
 * a server span now and then starts before its client span, and on every
 * edge the way there and the way back differ, by host pair, by twice the
 * pair's clock offset (without skew both legs come from one distribution). */
#define PAIRS 4096
static void check_hops(struct run *r, const struct span *sorted)
{
	size_t pairs = 0, negative = 0;
	int64_t *gaps = malloc((r->n_spans ? r->n_spans : 1) * sizeof(*gaps));
	struct hostpair {
		int64_t key;
		double sum;
		size_t n;
	} *hp = calloc(PAIRS, sizeof(*hp));
	if (!gaps || !hp)
		abort();
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		if (x->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER || !x->has_parent)
			continue;
		const struct span *c = find_span(sorted, r->n_spans, x->parent);
		if (!c)
			continue;
		gaps[pairs++] = x->start - c->start;
		negative += x->start < c->start;
		/* there - back, by (client host, server host) */
		int64_t key = ((int64_t)c->res << 24) | x->res;
		size_t h = (size_t)((uint64_t)key * 0x9e3779b97f4a7c15ULL >> 52) % PAIRS;
		for (size_t probe = 0; probe < PAIRS && hp[h].n && hp[h].key != key; probe++)
			h = (h + 1) % PAIRS;
		hp[h].key = key;
		hp[h].sum += (double)((x->start - c->start) - (c->end - x->end));
		hp[h].n++;
	}
	if (pairs > 100) {
		qsort(gaps, pairs, sizeof(*gaps), cmp_i64);
		size_t distinct = 1;
		for (size_t i = 1; i < pairs; i++)
			distinct += gaps[i] != gaps[i - 1];
		if (distinct < pairs / 2)
			fail_tell(r, "client -> server gaps take %zu values over %zu calls (median %" PRId64 " ns)",
				  distinct, pairs, gaps[pairs / 2]);
		/* the spread of the host pairs' mean asymmetry */
		double s1 = 0, s2 = 0;
		size_t m = 0;
		for (size_t k = 0; k < PAIRS; k++)
			if (hp[k].n >= 30) {
				double mean = hp[k].sum / (double)hp[k].n;
				s1 += mean;
				s2 += mean * mean;
				m++;
			}
		double sd = m > 1 ? sqrt(fmax(0, (s2 - s1 * s1 / (double)m) / (double)(m - 1))) : 0;
		if (!negative && m > 1 && sd < 100e3)
			fail_tell(r, "no server span starts before its client span over %zu calls, and the way there "
				     "and back differ by %.0f ns (sd over %zu host pairs): no clock skew",
				  pairs, sd, m);
	}
	free(gaps);
	free(hp);
}

static int by_parent(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	int c = memcmp(a->parent, b->parent, 8);
	return c ? c : (a->start > b->start) - (a->start < b->start);
}

/* The edge passes its upstream's status on, as a proxy does: a root span
 * that failed after a call answered 5xx answers with that status (a 504
 * from upstream stays a 504). */
static void check_passthrough(struct run *r)
{
	struct span *v = malloc((r->n_spans ? r->n_spans : 1) * sizeof(*v));
	if (!v)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < r->n_spans; i++)
		if (r->spans[i].kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT &&
		    r->spans[i].has_parent && r->spans[i].status >= 500)
			v[n++] = r->spans[i];
	qsort(v, n, sizeof(*v), by_parent);
	size_t roots = 0, bad = 0;
	char example[96] = "";
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct span *x = &r->spans[i];
		if (x->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER || x->has_parent ||
		    x->status < 500)
			continue;
		struct span key;
		memcpy(key.parent, x->id, 8);
		key.start = INT64_MIN;
		size_t lo = 0, hi = n;
		while (lo < hi) { /* the first failed call of this root */
			size_t mid = (lo + hi) / 2;
			if (by_parent(&v[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		bool any = false, same = false;
		int upstream = 0;
		for (size_t k = lo; k < n && !memcmp(v[k].parent, x->id, 8); k++) {
			any = true;
			same |= v[k].status == x->status;
			upstream = v[k].status;
		}
		if (!any)
			continue;
		roots++;
		if (!same && !bad++)
			snprintf(example, sizeof(example), "upstream %d, answered %d", upstream, x->status);
	}
	if (bad)
		fail_tell(r, "%zu of %zu failed entry requests change their upstream's status (%s)", bad, roots, example);
	free(v);
}

/* Handlers work between their calls: siblings are not back to back. */
static void check_siblings(struct run *r)
{
	size_t pairs = 0, adjacent = 0;
	/* spans of one parent, in start order */
	struct span *v = malloc(r->n_spans * sizeof(*v));
	if (!v)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < r->n_spans; i++)
		if (r->spans[i].kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT &&
		    r->spans[i].has_parent)
			v[n++] = r->spans[i];
	qsort(v, n, sizeof(*v), by_parent);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(v[i].parent, v[i - 1].parent, 8) || v[i].start < v[i - 1].end)
			continue;
		pairs++;
		adjacent += v[i].start == v[i - 1].end;
	}
	if (pairs > 100 && adjacent * 2 > pairs)
		fail_tell(r, "%zu of %zu sibling calls start the nanosecond the previous one ends", adjacent, pairs);
	free(v);
}

/* Access logs are written after the response, not at the span's end. */
static void check_log_stamps(struct run *r, const struct span *sorted)
{
	size_t n = 0, at_end = 0;
	for (size_t i = 0; i < r->n_logs; i++) {
		const struct logrec *l = &r->logs[i];
		if (!l->access || !(l->flags & 1))
			continue;
		const struct span *x = find_span(sorted, r->n_spans, l->span);
		if (!x)
			continue;
		n++;
		at_end += x->end == l->time;
	}
	if (n > 100 && at_end * 2 > n)
		fail_tell(r, "%zu of %zu access logs are stamped at their span's end to the nanosecond", at_end, n);
}

/* The world acts late: lifecycle lines are not on whole seconds. */
static void check_events(struct run *r)
{
	size_t n = 0, round = 0;
	for (size_t i = 0; i < r->n_logs; i++) {
		if (!r->logs[i].lifecycle)
			continue;
		n++;
		round += r->logs[i].time % (NS / 10) == 0;
	}
	if (n >= 2 && round * 2 >= n)
		fail_tell(r, "%zu of %zu deploy/restart lines fall on round times", round, n);
}

/* Runtimes: memory moves (a heap's saw-tooth), replicas differ. */
static void check_runtime(struct run *r)
{
	for (size_t k = 0; k < r->n_res; k++) {
		double lo = INFINITY, hi = -INFINITY, sum = 0;
		size_t n = 0;
		for (size_t i = 0; i < r->n_mem; i++)
			if (r->mem[i].res == (int)k) {
				lo = fmin(lo, r->mem[i].v);
				hi = fmax(hi, r->mem[i].v);
				sum += r->mem[i].v;
				n++;
			}
		if (n >= 20 && (hi - lo) < 0.01 * sum / (double)n) {
			fail_tell(r, "memory of %s is flat: %.0f .. %.0f bytes over %zu scrapes", r->res[k].instance, lo,
				  hi, n);
			return;
		}
	}
	/* replicas of one service: their CPU differs */
	for (size_t v = 0; v < r->n_services; v++) {
		double first = NAN;
		size_t same = 0, n = 0;
		for (size_t i = 0; i < r->n_cpu; i++) {
			const struct point *p = &r->cpu[i];
			if (r->res[p->res].svc != (int)v)
				continue;
			if (isnan(first))
				first = p->v;
			n++;
			same += p->v == first;
		}
		if (n >= 20 && same == n) {
			fail_tell(r, "CPU of every %s replica is %.4f at every scrape", r->services[v], first);
			return;
		}
	}
}

static int by_res_time(const void *x, const void *y)
{
	const struct point *a = x, *b = y;
	if (a->res != b->res)
		return a->res < b->res ? -1 : 1;
	return (a->time > b->time) - (a->time < b->time);
}

/* Two metrics of one process's CPU agree: the utilization at a scrape is the
 * process.cpu.time it added since the last one, over the cores it has. So per
 * instance (cores fixed) the ratio of the two is the same at every scrape, and
 * an instance that used no CPU time reports no utilization. */
static void check_cpu_agrees(struct run *r)
{
	struct point *time = malloc((r->n_cpu_time + 1) * sizeof(*time));
	struct point *util = malloc((r->n_cpu + 1) * sizeof(*util));
	assert_true(time && util);
	memcpy(time, r->cpu_time, r->n_cpu_time * sizeof(*time));
	memcpy(util, r->cpu, r->n_cpu * sizeof(*util));
	qsort(time, r->n_cpu_time, sizeof(*time), by_res_time);
	qsort(util, r->n_cpu, sizeof(*util), by_res_time);
	size_t u = 0, pairs = 0;
	int bad_res = -1;
	double lo = INFINITY, hi = -INFINITY;
	char why[160] = "";
	for (size_t i = 1; i < r->n_cpu_time && bad_res < 0; i++) {
		const struct point *a = &time[i - 1], *b = &time[i];
		if (a->res != b->res) {
			lo = INFINITY;
			hi = -INFINITY;
			continue;
		}
		if (a->start != b->start || b->time <= a->time)
			continue; /* a new incarnation: the counter restarted */
		while (u < r->n_cpu && by_res_time(&util[u], b) < 0)
			u++;
		if (u == r->n_cpu || util[u].res != b->res || util[u].time != b->time)
			continue;
		double cores = (b->v - a->v) / ((double)(b->time - a->time) / 1e9);
		double used = util[u].v;
		pairs++;
		if ((cores <= 0) != (used <= 0)) {
			bad_res = b->res;
			snprintf(why, sizeof(why), "process.cpu.time grew by %.3f cores while utilization is %.4f",
				 cores, used);
		} else if (used > 0.01) {
			double ratio = cores / used;
			lo = fmin(lo, ratio);
			hi = fmax(hi, ratio);
			if (hi > lo * 1.02) {
				bad_res = b->res;
				snprintf(why, sizeof(why),
					 "process.cpu.time's rate over utilization varies from %.3f to %.3f cores", lo, hi);
			}
		}
	}
	if (bad_res >= 0)
		fail_tell(r, "CPU metrics of %s disagree: %s", r->res[bad_res].instance, why);
	else if (r->n_cpu_time && pairs == 0)
		fail_tell(r, "no scrape has both process.cpu.time and process.cpu.utilization");
	free(time);
	free(util);
}

/* Load balancing spreads load with variance. */
static void check_balance(struct run *r)
{
	for (size_t v = 0; v < r->n_services; v++) {
		uint64_t count[64] = {0};
		char ids[64][96];
		size_t ni = 0;
		for (size_t i = 0; i < r->n_logs; i++) {
			const struct logrec *l = &r->logs[i];
			if (!l->access || r->res[l->res].svc != (int)v)
				continue;
			const char *inst = r->res[l->res].instance;
			size_t k = 0;
			while (k < ni && strcmp(ids[k], inst))
				k++;
			if (k == ni) {
				if (ni == 64)
					continue;
				snprintf(ids[ni++], sizeof(ids[0]), "%s", inst);
			}
			count[k]++;
		}
		if (ni < 3)
			continue;
		uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
		for (size_t k = 0; k < ni; k++) {
			lo = count[k] < lo ? count[k] : lo;
			hi = count[k] > hi ? count[k] : hi;
			sum += count[k];
		}
		if (sum / ni > 2000 && (double)(hi - lo) < 0.01 * (double)sum / (double)ni) {
			fail_tell(r, "load on %s's %zu instances is even to 1%% (%" PRIu64 " .. %" PRIu64 ")",
				  r->services[v], ni, lo, hi);
			return;
		}
	}
}

/* GC follows allocation: its rate moves with load and differs between
 * services of one runtime; never a constant. Each runtime reports it
 * under its own instrumentation's name. */
static void check_gc(struct run *r)
{
	if (r->gc_foreign[0]) {
		fail_tell(r, "a GC metric not in its runtime's namespace: %s", r->gc_foreign);
		return;
	}
	double svc_gc[64] = {0}, svc_t[64] = {0};
	for (size_t k = 0; k < r->n_res; k++) {
		size_t n = 0, distinct = 0;
		double prev_rate = NAN;
		const struct point *last = NULL;
		for (size_t i = 0; i < r->n_gc; i++) {
			const struct point *p = &r->gc[i];
			if (p->res != (int)k)
				continue;
			if (last && last->start == p->start && p->time > last->time) {
				double rate = (p->v - last->v) / (double)(p->time - last->time) * 1e9;
				n++;
				distinct += isnan(prev_rate) || fabs(rate - prev_rate) > 1e-9;
				prev_rate = rate;
				int v = r->res[k].svc;
				if (v >= 0 && v < 64) {
					svc_gc[v] += p->v - last->v;
					svc_t[v] += (double)(p->time - last->time) / 1e9;
				}
			}
			last = p;
		}
		if (n >= 20 && distinct * 4 < n) {
			fail_tell(r, "GC pause rate of %s is constant (%zu values over %zu intervals)",
				  r->res[k].instance, distinct, n);
			return;
		}
	}
	for (size_t a = 0; a < r->n_services && a < 64; a++)
		for (size_t b = a + 1; b < r->n_services && b < 64; b++) {
			if (svc_t[a] < 600 || svc_t[b] < 600 || svc_gc[a] <= 0)
				continue;
			double ra = svc_gc[a] / svc_t[a], rb = svc_gc[b] / svc_t[b];
			if (fabs(ra - rb) < 1e-4 * ra) {
				fail_tell(r, "GC pause rate of %s and %s is the same: %.6f s/s", r->services[a],
					  r->services[b], ra);
				return;
			}
		}
}

/* Stack traces use the service's own names, and look like its runtime's:
 * two services of different runtimes never share one; a Go dump's goroutine
 * differs between requests. */
static void check_stacks(struct run *r)
{
	for (size_t v = 0; v < r->n_services && v < 64; v++) {
		const struct stacks *x = &r->stacks[v];
		if (x->n && x->named * 10 < x->n * 9) {
			fail_tell(r, "%zu of %zu stack traces of %s do not name it", x->n - x->named, x->n,
				  r->services[v]);
			return;
		}
		/* a live process runs each request on its own goroutine */
		if (x->n_go >= 3 && !x->goroutine_moved) {
			fail_tell(r, "%zu Go stack traces of %s all show goroutine %ld", x->n_go,
				  r->services[v], x->goroutine);
			return;
		}
	}
	for (size_t a = 0; a < r->n_services && a < 64; a++)
		for (size_t b = a + 1; b < r->n_services && b < 64; b++)
			if (r->stacks[a].n && r->stacks[b].n && r->stacks[a].first == r->stacks[b].first) {
				fail_tell(r, "%s and %s show the same stack trace", r->services[a], r->services[b]);
				return;
			}
}

static int by_shape(const void *x, const void *y)
{
	const struct logrec *a = *(const struct logrec *const *)x, *b = *(const struct logrec *const *)y;
	if (a->res != b->res)
		return a->res < b->res ? -1 : 1;
	if (a->shape != b->shape)
		return a->shape < b->shape ? -1 : 1;
	return (a->time > b->time) - (a->time < b->time);
}

/* Periodic lines (a batch consumer's, a reporter's) jitter: one instance's
 * lines of one kind are not exactly a period apart. */
static void check_periodic(struct run *r)
{
	const struct logrec **v = malloc((r->n_logs ? r->n_logs : 1) * sizeof(*v));
	int64_t *gaps = malloc((r->n_logs ? r->n_logs : 1) * sizeof(*gaps));
	if (!v || !gaps)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < r->n_logs; i++)
		if (!r->logs[i].access)
			v[n++] = &r->logs[i];
	qsort(v, n, sizeof(*v), by_shape);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && v[j]->res == v[i]->res && v[j]->shape == v[i]->shape)
			j++;
		size_t m = 0;
		for (size_t k = i + 1; k < j; k++)
			gaps[m++] = v[k]->time - v[k - 1]->time;
		if (m >= 30) {
			qsort(gaps, m, sizeof(*gaps), cmp_i64);
			int64_t med = gaps[m / 2];
			size_t exact = 0;
			for (size_t k = 0; k < m; k++)
				exact += llabs(gaps[k] - med) <= 1000000;
			if (med >= NS / 10 && exact * 10 >= m * 9) {
				fail_tell(r, "'%.60s' from %s comes every %.3f s to the millisecond (%zu of %zu)",
					  v[i]->body, r->res[v[i]->res].instance, (double)med / 1e9, exact, m);
				break;
			}
		}
		i = j;
	}
	free(v);
	free(gaps);
}

/* Where a noise message's first number with a unit is ("took 210ms",
 * "80%"); -1: none. */
static int number_at(const char *msg)
{
	for (const char *p = msg; *p; p++) {
		if (*p < '0' || *p > '9' || (p > msg && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
			continue;
		const char *q = p;
		while ((*q >= '0' && *q <= '9') || *q == '.')
			q++;
		if (!strncmp(q, "ms", 2) || *q == 's' || *q == '%')
			return (int)(p - msg);
	}
	return -1;
}

/* The numbers in warning texts come from the state they report: a noise
 * message with "210ms" in it does not say 210ms every time. */
static void check_noise_numbers(struct run *r)
{
	for (size_t i = 0; i < r->sc->n_noise_logs; i++) {
		const char *msg = r->sc->noise_logs[i].message;
		int at = number_at(msg);
		if (at < 0 || at > 80)
			continue;
		size_t n = 0, same = 0;
		const char *first = NULL;
		for (size_t k = 0; k < r->n_logs; k++) {
			const struct logrec *l = &r->logs[k];
			if (strncmp(l->body, msg, (size_t)at))
				continue;
			n++;
			if (!first)
				first = l->body;
			same += !strcmp(first, l->body);
		}
		if (n >= 20 && same == n) {
			fail_tell(r, "'%.60s' never changes over %zu lines", first, n);
			return;
		}
	}
}

/* A container restarted in place is counted: process.restart.count goes
 * up when an instance's counters start again on the same version. */
static void check_restarts(struct run *r)
{
	for (size_t k = 0; k < r->n_res; k++) {
		const char *inst = r->res[k].instance;
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= !strcmp(r->res[j].instance, inst);
		if (seen)
			continue;
		size_t in_place = 0;
		const struct point *last = NULL;
		for (size_t i = 0; i < r->n_cpu_time; i++) {
			const struct point *p = &r->cpu_time[i];
			if (strcmp(r->res[p->res].instance, inst))
				continue;
			if (last && p->start != last->start && !strcmp(r->res[p->res].version, r->res[last->res].version))
				in_place++;
			last = p;
		}
		double lo = INFINITY, hi = -INFINITY;
		for (size_t i = 0; i < r->n_restarts; i++)
			if (!strcmp(r->res[r->restarts[i].res].instance, inst)) {
				lo = fmin(lo, r->restarts[i].v);
				hi = fmax(hi, r->restarts[i].v);
			}
		if (in_place && !(hi - lo >= (double)in_place)) {
			fail_tell(r, "%s restarted %zu times on one version; process.restart.count went %.0f -> %.0f",
				  inst, in_place, lo, hi);
			return;
		}
	}
}

/* Behaviour that comes with a release shows only on pods running it: a
 * noise flood that starts with a deploy of its service comes from the new
 * version's pods. */
static void check_version_noise(struct run *r)
{
	const struct fd_scenario *sc = r->sc;
	for (size_t i = 0; i < sc->n_noise_logs; i++) {
		const struct fd_noise_log *nl = &sc->noise_logs[i];
		const char *v = NULL;
		for (size_t e = 0; nl->at_ns > 0 && e < sc->n_events; e++) {
			const struct fd_event *ev = &sc->events[e];
			if (ev->kind == FD_EVENT_DEPLOY && ev->service == nl->service && ev->version &&
			    ev->at_ns <= nl->at_ns && nl->at_ns <= ev->at_ns + ev->rollout_ns + 60 * NS)
				v = ev->version;
		}
		if (!v)
			continue;
		size_t n = 0, old = 0;
		for (size_t k = 0; k < r->n_logs; k++) {
			const struct logrec *l = &r->logs[k];
			if (strncmp(l->body, nl->message, 40))
				continue;
			n++;
			old += strcmp(r->res[l->res].version, v) != 0;
		}
		if (old)
			fail_tell(r, "%zu of %zu lines of '%.40s' come from pods not running %s", old, n, nl->message, v);
	}
}

/* ---- the runs -------------------------------------------------------------------- */

/* Long enough to hold every built-in incident's onset; the longest
 * scenarios are cut here to keep the suite quick. */
#define TELLS_WINDOW (75 * 60 * NS)

static void tells(const char *name)
{
	const struct fd_builtin *b = fd_builtin_find(name);
	assert_non_null(b);
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	assert_int_equal(fd_scenario_parse(b->file, b->text, b->len, &sc, &err), 0);
	struct fd_sim_options opt = {.duration_ns = sc->duration_ns > TELLS_WINDOW ? TELLS_WINDOW : 0};
	struct fd_sim *sim = NULL;
	assert_int_equal(fd_sim_create(sc, &opt, &sim, &err), 0);
	struct run r = {.sc = sc, .start = fd_sim_start(sim)};
	assert_int_equal(fd_sim_run(sim, emit, &r, &err), 0);
	assert_int_equal(r.decode_errors, 0);
	fprintf(stderr, "%s: %zu spans, %zu logs, %zu memory points kept\n", name, r.n_spans, r.n_logs, r.n_mem);

	struct span *sorted = malloc((r.n_spans ? r.n_spans : 1) * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, r.spans, r.n_spans * sizeof(*sorted));
	qsort(sorted, r.n_spans, sizeof(*sorted), cmp_span_id);

	check_giveaways(&r);
	check_flags(&r);
	check_messaging(&r);
	check_paths(&r);
	check_errors(&r);
	check_client_metrics(&r);
	check_logs(&r);
	check_hops(&r, sorted);
	check_siblings(&r);
	check_passthrough(&r);
	check_log_stamps(&r, sorted);
	check_events(&r);
	check_runtime(&r);
	check_cpu_agrees(&r);
	check_balance(&r);
	check_gc(&r);
	check_stacks(&r);
	check_periodic(&r);
	check_noise_numbers(&r);
	check_restarts(&r);
	check_version_noise(&r);

	int fails = r.fails;
	free(sorted);
	free(r.res);
	free(r.services);
	free(r.scopes);
	free(r.spans);
	free(r.logs);
	free(r.mem);
	free(r.cpu);
	free(r.gc);
	free(r.cpu_time);
	free(r.restarts);
	free(r.client_metric);
	fd_sim_destroy(sim);
	fd_scenario_destroy(sc);
	if (fails)
		fail_msg("%s: %d tells", name, fails);
}

#define TELLS(id, name)                     \
	static void id(void **state)        \
	{                                   \
		(void)state;                \
		tells(name);                \
	}
TELLS(bad_deploy_errors, "bad-deploy-errors")
TELLS(cache_stampede, "cache-stampede")
TELLS(dependency_outage_breaker, "dependency-outage-breaker")
TELLS(dependency_outage, "dependency-outage")
TELLS(latency_after_release, "latency-after-release")
TELLS(lock_contention, "lock-contention")
TELLS(memory_leak_oom, "memory-leak-oom")
TELLS(noisy_neighbor, "noisy-neighbor")
TELLS(pipeline_stall, "pipeline-stall")
TELLS(pool_exhaustion, "pool-exhaustion")
TELLS(queue_backlog, "queue-backlog")
TELLS(red_herring, "red-herring")
TELLS(retry_storm, "retry-storm")
TELLS(traffic_spike, "traffic-spike")

/* Every built-in has its test above. */
static void every_builtin_is_checked(void **state)
{
	(void)state;
	static const char *const names[] = {
		"bad-deploy-errors", "cache-stampede", "dependency-outage-breaker", "dependency-outage",
		"latency-after-release", "lock-contention", "memory-leak-oom", "noisy-neighbor",
		"pipeline-stall", "pool-exhaustion", "queue-backlog", "red-herring", "retry-storm",
		"traffic-spike"};
	size_t n = 0;
	for (const struct fd_builtin *b = fd_builtins; b->name; b++, n++) {
		bool found = false;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			found |= !strcmp(names[i], b->name);
		if (!found)
			fail_msg("built-in %s has no tells test", b->name);
	}
	assert_int_equal(n, sizeof(names) / sizeof(names[0]));
}

/* An argument names the tests to run (a glob), as `test_tells 'retry*'`. */
int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_builtin_is_checked),
		cmocka_unit_test(bad_deploy_errors),
		cmocka_unit_test(cache_stampede),
		cmocka_unit_test(dependency_outage_breaker),
		cmocka_unit_test(dependency_outage),
		cmocka_unit_test(latency_after_release),
		cmocka_unit_test(lock_contention),
		cmocka_unit_test(memory_leak_oom),
		cmocka_unit_test(noisy_neighbor),
		cmocka_unit_test(pipeline_stall),
		cmocka_unit_test(pool_exhaustion),
		cmocka_unit_test(queue_backlog),
		cmocka_unit_test(red_herring),
		cmocka_unit_test(retry_storm),
		cmocka_unit_test(traffic_spike),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
