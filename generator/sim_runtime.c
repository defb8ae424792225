/*
 * What a service of each runtime looks like from the outside: the SDK and
 * runtime it reports in its resource, the instrumentation scopes its spans,
 * logs and metrics come from (a Java service's HTTP server spans and its
 * JDBC spans come from different instrumentation libraries), the exception
 * classes its failures raise and the shape of its stack traces.
 *
 * Everything here is a pure function of the runtime, the service's name and
 * the scenario's namespace and seed, so two services on the same runtime may
 * run different SDK releases, as real fleets do, and the same scenario gives
 * the same bytes. What generated the data (firedrill) is in the recording's
 * header only, never in the telemetry.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "generator/sim_internal.h"

/* ---- releases ------------------------------------------------------------ */

/* A combination of SDK, instrumentation and runtime versions a service of
 * the runtime plausibly runs; one of three per service. */
struct release {
	const char *sdk;     /* telemetry.sdk.version */
	const char *instr;   /* instrumentation libraries (contrib, agent) */
	const char *runtime; /* process.runtime.version */
};

static const struct release releases[][3] = {
	[FD_RUNTIME_GO] = {{"1.31.0", "0.56.0", "go1.22.9"},
			   {"1.32.0", "0.57.0", "go1.23.3"},
			   {"1.33.0", "0.58.0", "go1.23.4"}},
	[FD_RUNTIME_JAVA] = {{"1.43.0", "2.9.0", "17.0.13+11"},
			     {"1.44.1", "2.10.0", "21.0.5+11-LTS"},
			     {"1.45.0", "2.11.0", "21.0.5+11-LTS"}},
	[FD_RUNTIME_PYTHON] = {{"1.27.0", "0.48b0", "3.11.10"},
			       {"1.28.2", "0.49b2", "3.12.7"},
			       {"1.29.0", "0.50b0", "3.12.8"}},
	[FD_RUNTIME_NODE] = {{"1.27.0", "0.54.0", "18.20.4"},
			     {"1.28.0", "0.55.0", "20.18.0"},
			     {"1.29.0", "0.56.0", "20.18.1"}},
	[FD_RUNTIME_DOTNET] = {{"1.9.0", "1.9.0", "8.0.10"},
			       {"1.10.0", "1.10.0", "8.0.11"},
			       {"1.10.0", "1.10.1", "9.0.0"}},
	[FD_RUNTIME_RUBY] = {{"1.4.0", "0.24.0", "3.2.6"},
			     {"1.5.0", "0.25.0", "3.3.5"},
			     {"1.5.0", "0.25.0", "3.3.6"}},
	[FD_RUNTIME_RUST] = {{"0.25.0", "0.25.0", "1.82.0"},
			     {"0.26.0", "0.26.0", "1.83.0"},
			     {"0.27.1", "0.27.0", "1.83.0"}},
};

enum fd_runtime sim_runtime_of(const struct svc *sv)
{
	enum fd_runtime rt = sv->def->runtime;
	return (size_t)rt < sizeof(releases) / sizeof(releases[0]) ? rt : FD_RUNTIME_GO;
}

static const struct release *release_of(const struct fd_sim *s, const struct svc *sv)
{
	uint64_t h = fd_hash64(sv->def->name, strlen(sv->def->name)) ^ (s->seed * 0x9e3779b97f4a7c15ULL);
	return &releases[sim_runtime_of(sv)][(h >> 17) % 3];
}

/* The service's name as an identifier of its language: "order-api" is
 * "orderapi" in a Java package, "order_api" in Python, "OrderApi" in C#. */
void sim_ident(char *out, size_t n, const char *name, int style)
{
	size_t k = 0;
	bool up = style == 'P';
	for (const char *p = name; *p && k + 1 < n; p++) {
		unsigned char c = (unsigned char)*p;
		if (!isalnum(c)) {
			if (style == '_')
				out[k++] = '_';
			up = style == 'P';
			continue;
		}
		out[k++] = (char)(up ? toupper(c) : style == 'P' ? c : tolower(c));
		up = false;
	}
	out[k] = '\0';
}

void sim_runtime_resource(struct fd_sim *s, struct pbw *w, const struct svc *sv)
{
	static const char *const language[] = {
		[FD_RUNTIME_GO] = "go", [FD_RUNTIME_JAVA] = "java", [FD_RUNTIME_PYTHON] = "python",
		[FD_RUNTIME_NODE] = "nodejs", [FD_RUNTIME_DOTNET] = "dotnet", [FD_RUNTIME_RUBY] = "ruby",
		[FD_RUNTIME_RUST] = "rust",
	};
	static const char *const runtime_name[] = {
		[FD_RUNTIME_GO] = "go", [FD_RUNTIME_JAVA] = "OpenJDK Runtime Environment",
		[FD_RUNTIME_PYTHON] = "cpython", [FD_RUNTIME_NODE] = "nodejs",
		[FD_RUNTIME_DOTNET] = ".NET", [FD_RUNTIME_RUBY] = "ruby", [FD_RUNTIME_RUST] = NULL,
	};
	enum fd_runtime rt = sim_runtime_of(sv);
	const struct release *r = release_of(s, sv);
	const unsigned f = OTLP_RESOURCE_ATTRIBUTES;
	if (runtime_name[rt]) {
		otlp_attr_str(w, f, "process.runtime.name", runtime_name[rt]);
		otlp_attr_str(w, f, "process.runtime.version", r->runtime);
	}
	if (rt == FD_RUNTIME_JAVA) {
		char d[96];
		snprintf(d, sizeof(d), "Eclipse Adoptium OpenJDK 64-Bit Server VM %s", r->runtime);
		otlp_attr_str(w, f, "process.runtime.description", d);
	}
	otlp_attr_str(w, f, "telemetry.sdk.name", "opentelemetry");
	otlp_attr_str(w, f, "telemetry.sdk.language", language[rt]);
	otlp_attr_str(w, f, "telemetry.sdk.version", r->sdk);
	if (rt == FD_RUNTIME_JAVA) {
		otlp_attr_str(w, f, "telemetry.distro.name", "opentelemetry-java-instrumentation");
		otlp_attr_str(w, f, "telemetry.distro.version", r->instr);
	}
}

/* ---- the memory manager ------------------------------------------------------ */

const struct rt_model *sim_rt_model(const struct svc *sv)
{
	static const struct rt_model models[] = {
		[FD_RUNTIME_GO] = {.alloc_per_cpu_s = 250e6, .bg_cores = 0.004, .rss_follow = 0.8},
		[FD_RUNTIME_JAVA] = {.alloc_per_cpu_s = 500e6, .bg_cores = 0.015, .rss_follow = 0.25},
		[FD_RUNTIME_PYTHON] = {.alloc_per_cpu_s = 80e6, .bg_cores = 0.006, .rss_follow = 0.9},
		[FD_RUNTIME_NODE] = {.alloc_per_cpu_s = 200e6, .bg_cores = 0.008, .rss_follow = 0.7},
		[FD_RUNTIME_DOTNET] = {.alloc_per_cpu_s = 300e6, .bg_cores = 0.01, .rss_follow = 0.4},
		[FD_RUNTIME_RUBY] = {.alloc_per_cpu_s = 200e6, .bg_cores = 0.008, .rss_follow = 0.9},
		[FD_RUNTIME_RUST] = {.alloc_per_cpu_s = 0, .bg_cores = 0.002, .rss_follow = 0},
	};
	return &models[sim_runtime_of(sv)];
}

static const double gc_bounds[GC_NBOUNDS] = {0.01, 0.1, 1, 10};

int sim_gc_bucket(int64_t pause_ns)
{
	double v = (double)pause_ns / 1e9;
	int b = 0;
	while (b < GC_NBOUNDS && v > gc_bounds[b])
		b++;
	return b;
}

static void gc_histogram(struct fd_sim *s, const struct inst *in, int64_t start, int64_t t,
			 const char *name, const char *desc, const char *k1, const char *v1,
			 const char *k2, const char *v2, const struct fd_blob *res,
			 const struct fd_blob *scope)
{
	struct pbw *w = &s->w;
	size_t m = sim_metric_begin(w, name, desc, "s", OTLP_METRIC_HISTOGRAM);
	size_t dp = pbw_begin(w, OTLP_DATA_POINTS);
	otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, k1, v1);
	if (k2)
		otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, k2, v2);
	sim_histogram_values(w, start, t, in->gc_rep_ns / 1e9, in->gc_rep_counts, gc_bounds, GC_NBOUNDS);
	pbw_end(w, dp);
	sim_metric_end(s, w, m, OTLP_METRIC_HISTOGRAM, false, t, res, scope);
}

/* Each runtime's instrumentation reports its collector its own way: the
 * JVM's and V8's as pause histograms, .NET's as a pause-time counter, Go's
 * (runtime/metrics) as allocation and the heap goal rather than pauses;
 * Python's, Ruby's and Rust's report none worth a chart. */
void sim_runtime_gc_metric(struct fd_sim *s, const struct inst *in, int64_t start, int64_t t,
			   const struct fd_blob *res, const struct fd_blob *scope)
{
	struct pbw *w = &s->w;
	uint64_t collections = 0;
	for (int b = 0; b <= GC_NBOUNDS; b++)
		collections += in->gc_rep_counts[b];
	size_t m;
	switch (sim_runtime_of(in->svc)) {
	case FD_RUNTIME_JAVA:
		gc_histogram(s, in, start, t, "jvm.gc.duration", "Duration of JVM garbage collection actions.",
			     "jvm.gc.action", "end of minor GC", "jvm.gc.name", "G1 Young Generation", res, scope);
		break;
	case FD_RUNTIME_NODE:
		gc_histogram(s, in, start, t, "v8js.gc.duration", "Garbage collection duration.",
			     "v8js.gc.type", "minor", NULL, NULL, res, scope);
		break;
	case FD_RUNTIME_DOTNET:
		m = sim_metric_begin(w, "dotnet.gc.pause.time",
				     "The total amount of time paused in GC since the process has started.", "s",
				     OTLP_METRIC_SUM);
		sim_number_point(w, start, t, in->gc_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, res, scope);
		m = sim_metric_begin(w, "dotnet.gc.collections",
				     "The number of garbage collections that have occurred since the process has started.",
				     "{collection}", OTLP_METRIC_SUM);
		sim_number_point(w, start, t, (double)collections, true, "dotnet.gc.heap.generation", "gen0",
				 NULL, NULL);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, res, scope);
		break;
	case FD_RUNTIME_GO: {
		const struct rt_model *rt = sim_rt_model(in->svc);
		const struct fd_resources *r = &in->svc->def->resources;
		m = sim_metric_begin(w, "go.memory.allocated", "Memory allocated to the heap by the application.",
				     "By", OTLP_METRIC_SUM);
		sim_number_point(w, start, t, in->cpu_rep_ns / 1e9 * rt->alloc_per_cpu_s, true, NULL, NULL,
				 NULL, NULL);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, res, scope);
		/* GOGC=100: the next collection when the heap doubles what
		 * survived the last one */
		double live = (double)r->memory_baseline * in->mem_factor + in->leaked;
		m = sim_metric_begin(w, "go.memory.gc.goal", "Heap size target for the end of the GC cycle.",
				     "By", OTLP_METRIC_SUM);
		sim_number_point(w, start, t, 2 * live, true, NULL, NULL, NULL, NULL);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, false, t, res, scope);
		break;
	}
	default:
		break;
	}
}

/* ---- instrumentation scopes ----------------------------------------------- */

static bool is(const char *system, const char *name)
{
	return system && strcmp(system, name) == 0;
}

/* The scope's name and version for kind on the service's runtime. */
static void scope_of(const struct fd_sim *s, const struct svc *sv, enum sim_scope_kind kind,
		     const char *system, char *name, size_t n, char *version, size_t vn)
{
	const struct release *r = release_of(s, sv);
	char id[64], pkg[160];
	const char *ns = s->sc->service_namespace;
	snprintf(version, vn, "%s", r->instr);
	switch (sim_runtime_of(sv)) {
	case FD_RUNTIME_JAVA: {
		sim_ident(id, sizeof(id), sv->def->name, 'l');
		char nsid[64];
		sim_ident(nsid, sizeof(nsid), ns, 'l');
		snprintf(pkg, sizeof(pkg), "com.%s.%s", nsid, id);
		const char *lib = NULL;
		bool alpha = true;
		switch (kind) {
		case SCOPE_HTTP_SERVER: lib = "tomcat-10.0"; break;
		case SCOPE_HTTP_CLIENT: lib = "java-http-client"; break;
		case SCOPE_DB: lib = "jdbc"; break;
		case SCOPE_POOL: lib = "hikaricp-3.0"; break;
		case SCOPE_CACHE: lib = is(system, "memcached") ? "spymemcached-2.12" : "lettuce-5.1"; break;
		case SCOPE_MESSAGING:
			lib = is(system, "rabbitmq") ? "rabbitmq-2.7" : is(system, "sqs") ? "aws-sdk-2.2"
			      : "kafka-clients-0.11";
			break;
		case SCOPE_RUNTIME: lib = "runtime-telemetry-java17"; break;
		case SCOPE_APP: snprintf(name, n, "%s.jobs", pkg); *version = '\0'; return;
		/* log records carry their logger's name (the Logback appender) */
		case SCOPE_LOG_ACCESS: snprintf(name, n, "%s.web.AccessLogFilter", pkg); *version = '\0'; return;
		case SCOPE_LOG_APP: snprintf(name, n, "%s.web.GlobalExceptionHandler", pkg); *version = '\0'; return;
		case SCOPE_LOG_CLIENT:
			snprintf(name, n, "%s", "io.github.resilience4j.retry.internal.RetryImpl");
			*version = '\0';
			return;
		case SCOPE_LOG_BREAKER:
			snprintf(name, n, "%s", "io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine");
			*version = '\0';
			return;
		case SCOPE_LOG_DB: snprintf(name, n, "%s", "com.zaxxer.hikari.pool.HikariPool"); *version = '\0'; return;
		case SCOPE_LOG_MESSAGING: snprintf(name, n, "%s.messaging.EventConsumer", pkg); *version = '\0'; return;
		case SCOPE_LOG_LIFECYCLE: snprintf(name, n, "%s.Application", pkg); *version = '\0'; return;
		default: lib = "opentelemetry-api-1.27"; break;
		}
		(void)alpha;
		snprintf(name, n, "io.opentelemetry.%s", lib);
		snprintf(version, vn, "%s-alpha", r->instr);
		return;
	}
	case FD_RUNTIME_GO: {
		char nsid[64];
		sim_ident(nsid, sizeof(nsid), ns, 'l');
		snprintf(pkg, sizeof(pkg), "github.com/%s/%s", nsid, sv->def->name);
		const char *contrib = "go.opentelemetry.io/contrib/instrumentation/";
		switch (kind) {
		case SCOPE_HTTP_SERVER:
		case SCOPE_HTTP_CLIENT:
			snprintf(name, n, "%snet/http/otelhttp", contrib);
			return;
		case SCOPE_DB:
		case SCOPE_POOL:
			snprintf(name, n, "%s", "github.com/XSAM/otelsql");
			snprintf(version, vn, "%s", "0.35.0");
			return;
		case SCOPE_CACHE:
			snprintf(name, n, "%s", "github.com/redis/go-redis/extra/redisotel");
			snprintf(version, vn, "%s", "9.7.0");
			return;
		case SCOPE_MESSAGING:
			if (is(system, "sqs"))
				snprintf(name, n, "%sgithub.com/aws/aws-sdk-go-v2/otelaws", contrib);
			else if (is(system, "rabbitmq"))
				snprintf(name, n, "%s/internal/amqp", pkg);
			else
				snprintf(name, n, "%sgithub.com/IBM/sarama/otelsarama", contrib);
			return;
		case SCOPE_RUNTIME:
			snprintf(name, n, "%sruntime", contrib);
			return;
		case SCOPE_APP:
			snprintf(name, n, "%s/internal/jobs", pkg);
			*version = '\0';
			return;
		default: /* logs: the slog bridge, named after the module */
			snprintf(name, n, "%s", pkg);
			*version = '\0';
			return;
		}
	}
	case FD_RUNTIME_PYTHON: {
		sim_ident(id, sizeof(id), sv->def->name, '_');
		const char *lib = NULL;
		switch (kind) {
		case SCOPE_HTTP_SERVER: lib = "flask"; break;
		case SCOPE_HTTP_CLIENT: lib = "requests"; break;
		case SCOPE_DB:
		case SCOPE_POOL:
			lib = is(system, "mysql") ? "pymysql" : is(system, "mongodb") ? "pymongo" : "psycopg2";
			break;
		case SCOPE_CACHE: lib = is(system, "memcached") ? "pymemcache" : "redis"; break;
		case SCOPE_MESSAGING:
			lib = is(system, "rabbitmq") ? "pika" : is(system, "sqs") ? "botocore" : "confluent_kafka";
			break;
		case SCOPE_RUNTIME: lib = "system_metrics"; break;
		/* log records carry their logger's name (the logging handler) */
		case SCOPE_LOG_ACCESS: snprintf(name, n, "%s", "gunicorn.access"); *version = '\0'; return;
		case SCOPE_LOG_DB: snprintf(name, n, "%s", "sqlalchemy.pool.impl.QueuePool"); *version = '\0'; return;
		case SCOPE_LOG_CLIENT: snprintf(name, n, "%s", "urllib3.connectionpool"); *version = '\0'; return;
		case SCOPE_LOG_LIFECYCLE: snprintf(name, n, "%s", "gunicorn.error"); *version = '\0'; return;
		case SCOPE_APP: snprintf(name, n, "%s.jobs", id); *version = '\0'; return;
		default: snprintf(name, n, "%s.app", id); *version = '\0'; return;
		}
		snprintf(name, n, "opentelemetry.instrumentation.%s", lib);
		return;
	}
	case FD_RUNTIME_NODE: {
		const char *lib = NULL, *v = r->instr;
		switch (kind) {
		case SCOPE_HTTP_SERVER:
		case SCOPE_HTTP_CLIENT: lib = "http"; break;
		case SCOPE_DB:
		case SCOPE_POOL:
			lib = is(system, "mysql") ? "mysql2" : is(system, "mongodb") ? "mongodb" : "pg";
			v = "0.49.0";
			break;
		case SCOPE_CACHE: lib = "ioredis"; v = "0.46.0"; break;
		case SCOPE_MESSAGING:
			lib = is(system, "rabbitmq") ? "amqplib" : is(system, "sqs") ? "aws-sdk" : "kafkajs";
			v = is(system, "kafka") || !system ? "0.6.0" : "0.45.0";
			break;
		case SCOPE_RUNTIME: lib = "runtime-node"; v = "0.11.0"; break;
		case SCOPE_APP: snprintf(name, n, "%s", sv->def->name); *version = '\0'; return;
		default: lib = "pino"; v = "0.45.0"; break;
		}
		snprintf(name, n, "@opentelemetry/instrumentation-%s", lib);
		snprintf(version, vn, "%s", v);
		return;
	}
	case FD_RUNTIME_DOTNET: {
		char nsid[64];
		sim_ident(id, sizeof(id), sv->def->name, 'P');
		sim_ident(nsid, sizeof(nsid), ns, 'P');
		*version = '\0';
		switch (kind) {
		case SCOPE_HTTP_SERVER: snprintf(name, n, "%s", "Microsoft.AspNetCore"); return;
		case SCOPE_HTTP_CLIENT: snprintf(name, n, "%s", "System.Net.Http"); return;
		case SCOPE_DB:
		case SCOPE_POOL:
			snprintf(name, n, "%s", is(system, "mysql") ? "MySqlConnector" : "Npgsql");
			snprintf(version, vn, "%s", "8.0.6");
			return;
		case SCOPE_CACHE:
			snprintf(name, n, "%s", "OpenTelemetry.Instrumentation.StackExchangeRedis");
			snprintf(version, vn, "%s-beta.1", r->instr);
			return;
		case SCOPE_MESSAGING: snprintf(name, n, "%s", "Confluent.Kafka.Extensions.Diagnostics"); return;
		case SCOPE_RUNTIME:
			snprintf(name, n, "%s", "OpenTelemetry.Instrumentation.Runtime");
			snprintf(version, vn, "%s", r->instr);
			return;
		case SCOPE_LOG_ACCESS: snprintf(name, n, "%s", "Microsoft.AspNetCore.Hosting.Diagnostics"); return;
		case SCOPE_LOG_LIFECYCLE: snprintf(name, n, "%s", "Microsoft.Hosting.Lifetime"); return;
		default: snprintf(name, n, "%s.%s.Controllers", nsid, id); return;
		}
	}
	case FD_RUNTIME_RUBY: {
		const char *lib;
		switch (kind) {
		case SCOPE_HTTP_SERVER: lib = "Rack"; break;
		case SCOPE_HTTP_CLIENT: lib = "Net::HTTP"; break;
		case SCOPE_DB:
		case SCOPE_POOL: lib = is(system, "mysql") ? "Mysql2" : "PG"; break;
		case SCOPE_CACHE: lib = "Redis"; break;
		case SCOPE_MESSAGING: lib = is(system, "rabbitmq") ? "Bunny" : "RubyKafka"; break;
		case SCOPE_RUNTIME: lib = "Rails"; break;
		default: snprintf(name, n, "%s", "Rails"); *version = '\0'; return;
		}
		snprintf(name, n, "OpenTelemetry::Instrumentation::%s", lib);
		return;
	}
	case FD_RUNTIME_RUST:
	default:
		sim_ident(id, sizeof(id), sv->def->name, '_');
		switch (kind) {
		case SCOPE_HTTP_SERVER: snprintf(name, n, "%s", "tower-http"); snprintf(version, vn, "0.6.2"); return;
		case SCOPE_HTTP_CLIENT: snprintf(name, n, "%s", "reqwest-tracing"); snprintf(version, vn, "0.5.5"); return;
		case SCOPE_DB:
		case SCOPE_POOL: snprintf(name, n, "%s", "sqlx"); snprintf(version, vn, "0.8.2"); return;
		default:
			if (kind >= SCOPE_LOG_ACCESS) {
				snprintf(name, n, "%s", "opentelemetry-appender-tracing");
				return;
			}
			snprintf(name, n, "%s", id);
			*version = '\0';
			return;
		}
	}
}

const struct fd_blob *sim_scope(struct fd_sim *s, struct svc *sv, enum sim_scope_kind kind,
				const char *system)
{
	if (!system && sv->scope_of_kind[kind])
		return sv->scope_of_kind[kind];
	for (int i = 0; i < sv->n_scopes; i++)
		if (sv->scopes[i].kind == (int)kind && sv->scopes[i].system == system)
			return sv->scopes[i].blob;
	char name[192], version[32];
	scope_of(s, sv, kind, system, name, sizeof(name), version, sizeof(version));
	struct pbw *w = &s->aux;
	pbw_reset(w);
	pbw_string(w, OTLP_SCOPE_NAME, name);
	if (*version)
		pbw_string(w, OTLP_SCOPE_VERSION, version);
	const struct fd_blob *b = w->oom ? NULL : fd_intern_add(s->blobs, w->buf, w->len);
	if (!b) {
		sim_oom(s);
		return NULL;
	}
	if (!system)
		sv->scope_of_kind[kind] = b;
	else if (sv->n_scopes < SIM_SCOPE_CACHE) {
		sv->scopes[sv->n_scopes++] = (struct scope_entry){.kind = kind, .system = system, .blob = b};
	}
	return b;
}

/* ---- exceptions ------------------------------------------------------------ */

/* [runtime][error]: the exception class a failure of that kind raises. */
static const char *const exc_types[][ERR_N] = {
	[FD_RUNTIME_JAVA] = {
		[ERR_INTERNAL] = "java.lang.IllegalStateException",
		[ERR_UPSTREAM] = "org.springframework.web.client.HttpServerErrorException",
		[ERR_TIMEOUT] = "java.net.http.HttpTimeoutException",
		[ERR_CONNECT] = "java.net.ConnectException",
		[ERR_RESET] = "java.io.IOException",
		[ERR_DEADLINE] = "org.springframework.web.context.request.async.AsyncRequestTimeoutException",
		[ERR_POOL_TIMEOUT] = "java.sql.SQLTransientConnectionException",
		[ERR_CIRCUIT_OPEN] = "io.github.resilience4j.circuitbreaker.CallNotPermittedException",
		[ERR_DB_CANCELED] = "org.postgresql.util.PSQLException",
		[ERR_DB_CONFLICT] = "org.postgresql.util.PSQLException",
	},
	[FD_RUNTIME_GO] = {
		[ERR_INTERNAL] = "*errors.errorString",
		[ERR_UPSTREAM] = "*errors.errorString",
		[ERR_TIMEOUT] = "*url.Error",
		[ERR_CONNECT] = "*url.Error",
		[ERR_RESET] = "*url.Error",
		[ERR_DEADLINE] = "context.deadlineExceededError",
		[ERR_POOL_TIMEOUT] = "context.deadlineExceededError",
		[ERR_CIRCUIT_OPEN] = "*errors.errorString",
		[ERR_DB_CANCELED] = "*pgconn.PgError",
		[ERR_DB_CONFLICT] = "*pgconn.PgError",
	},
	[FD_RUNTIME_PYTHON] = {
		[ERR_INTERNAL] = "RuntimeError",
		[ERR_UPSTREAM] = "requests.exceptions.HTTPError",
		[ERR_TIMEOUT] = "requests.exceptions.ReadTimeout",
		[ERR_CONNECT] = "requests.exceptions.ConnectionError",
		[ERR_RESET] = "requests.exceptions.ConnectionError",
		[ERR_DEADLINE] = "TimeoutError",
		[ERR_POOL_TIMEOUT] = "sqlalchemy.exc.TimeoutError",
		[ERR_CIRCUIT_OPEN] = "pybreaker.CircuitBreakerError",
		[ERR_DB_CANCELED] = "psycopg2.errors.QueryCanceled",
		[ERR_DB_CONFLICT] = "psycopg2.errors.SerializationFailure",
	},
	[FD_RUNTIME_NODE] = {
		[ERR_INTERNAL] = "TypeError",
		[ERR_UPSTREAM] = "AxiosError",
		[ERR_TIMEOUT] = "AxiosError",
		[ERR_CONNECT] = "Error",
		[ERR_RESET] = "Error",
		[ERR_DEADLINE] = "TimeoutError",
		[ERR_POOL_TIMEOUT] = "Error",
		[ERR_CIRCUIT_OPEN] = "OpenCircuitError",
		[ERR_DB_CANCELED] = "DatabaseError",
		[ERR_DB_CONFLICT] = "DatabaseError",
	},
	[FD_RUNTIME_DOTNET] = {
		[ERR_INTERNAL] = "System.InvalidOperationException",
		[ERR_UPSTREAM] = "System.Net.Http.HttpRequestException",
		[ERR_TIMEOUT] = "System.Threading.Tasks.TaskCanceledException",
		[ERR_CONNECT] = "System.Net.Http.HttpRequestException",
		[ERR_RESET] = "System.Net.Http.HttpRequestException",
		[ERR_DEADLINE] = "System.OperationCanceledException",
		[ERR_POOL_TIMEOUT] = "System.InvalidOperationException",
		[ERR_CIRCUIT_OPEN] = "Polly.CircuitBreaker.BrokenCircuitException",
		[ERR_DB_CANCELED] = "Npgsql.PostgresException",
		[ERR_DB_CONFLICT] = "Npgsql.PostgresException",
	},
	[FD_RUNTIME_RUBY] = {
		[ERR_INTERNAL] = "NoMethodError",
		[ERR_UPSTREAM] = "Faraday::ServerError",
		[ERR_TIMEOUT] = "Net::ReadTimeout",
		[ERR_CONNECT] = "Errno::ECONNREFUSED",
		[ERR_RESET] = "Errno::ECONNRESET",
		[ERR_DEADLINE] = "Rack::Timeout::RequestTimeoutException",
		[ERR_POOL_TIMEOUT] = "ActiveRecord::ConnectionTimeoutError",
		[ERR_CIRCUIT_OPEN] = "Circuitbox::OpenCircuitError",
		[ERR_DB_CANCELED] = "PG::QueryCanceled",
		[ERR_DB_CONFLICT] = "PG::TRSerializationFailure",
	},
	[FD_RUNTIME_RUST] = {
		[ERR_INTERNAL] = "anyhow::Error",
		[ERR_UPSTREAM] = "reqwest::Error",
		[ERR_TIMEOUT] = "reqwest::Error",
		[ERR_CONNECT] = "reqwest::Error",
		[ERR_RESET] = "reqwest::Error",
		[ERR_DEADLINE] = "tokio::time::error::Elapsed",
		[ERR_POOL_TIMEOUT] = "sqlx::Error",
		[ERR_CIRCUIT_OPEN] = "failsafe::Error",
		[ERR_DB_CANCELED] = "sqlx::Error",
		[ERR_DB_CONFLICT] = "sqlx::Error",
	},
};

const char *sim_exception_type(const struct svc *sv, enum sim_err e)
{
	if (e <= ERR_NONE || e >= ERR_N)
		return NULL;
	const char *t = exc_types[sim_runtime_of(sv)][e];
	return t ? t : exc_types[FD_RUNTIME_JAVA][e];
}

/* The message the runtime's libraries write for the failure, with the
 * figures of this occurrence (x: the timeout or the wait, status, peer). */
void sim_exception_message(char *buf, size_t n, const struct svc *sv, enum sim_err e,
			   const struct err_info *x)
{
	double ms = (double)x->ns / 1e6;
	const char *peer = x->peer ? x->peer : "";
	const char *path = x->path ? x->path : "/";
	enum fd_runtime rt = sim_runtime_of(sv);
	switch (e) {
	case ERR_INTERNAL:
		switch (rt) {
		case FD_RUNTIME_GO: snprintf(buf, n, "%s", "invalid order state: missing line items"); break;
		case FD_RUNTIME_PYTHON: snprintf(buf, n, "%s", "unexpected state: basket is empty"); break;
		case FD_RUNTIME_NODE: snprintf(buf, n, "%s", "Cannot read properties of undefined (reading 'id')"); break;
		case FD_RUNTIME_RUBY: snprintf(buf, n, "%s", "undefined method `id' for nil"); break;
		default: snprintf(buf, n, "%s", "Unexpected state: order has no line items"); break;
		}
		break;
	case ERR_UPSTREAM:
		switch (rt) {
		case FD_RUNTIME_JAVA: snprintf(buf, n, "%d %s from %s %s", x->status, x->status_text, x->method, path); break;
		case FD_RUNTIME_GO: snprintf(buf, n, "%s %s: unexpected status %d", x->method, path, x->status); break;
		case FD_RUNTIME_PYTHON:
			snprintf(buf, n, "%d Server Error: %s for url: http://%s%s", x->status, x->status_text, peer, path);
			break;
		case FD_RUNTIME_NODE: snprintf(buf, n, "Request failed with status code %d", x->status); break;
		case FD_RUNTIME_DOTNET:
			snprintf(buf, n, "Response status code does not indicate success: %d (%s).", x->status, x->status_text);
			break;
		default: snprintf(buf, n, "the server responded with status %d", x->status); break;
		}
		break;
	case ERR_TIMEOUT:
		switch (rt) {
		case FD_RUNTIME_JAVA: snprintf(buf, n, "%s", "request timed out"); break;
		case FD_RUNTIME_GO:
			snprintf(buf, n, "%s \"http://%s%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
				 x->method && !strcmp(x->method, "GET") ? "Get" : "Post", peer, path);
			break;
		case FD_RUNTIME_PYTHON:
			snprintf(buf, n, "HTTPConnectionPool(host='%s', port=80): Read timed out. (read timeout=%g)", peer, ms / 1000);
			break;
		case FD_RUNTIME_NODE: snprintf(buf, n, "timeout of %.0fms exceeded", ms); break;
		case FD_RUNTIME_DOTNET:
			snprintf(buf, n, "The request was canceled due to the configured HttpClient.Timeout of %g seconds elapsing.", ms / 1000);
			break;
		default: snprintf(buf, n, "%s", "Net::ReadTimeout"); break;
		}
		break;
	case ERR_CONNECT:
	case ERR_RESET:
		if (rt == FD_RUNTIME_GO)
			snprintf(buf, n, "Post \"http://%s%s\": %s", peer, path,
				 e == ERR_RESET ? "read: connection reset by peer" : "dial tcp: connect: connection refused");
		else if (rt == FD_RUNTIME_NODE)
			snprintf(buf, n, "%s", e == ERR_RESET ? "socket hang up" : "connect ECONNREFUSED");
		else
			snprintf(buf, n, "%s", e == ERR_RESET ? "Connection reset" : "Connection refused");
		break;
	case ERR_DEADLINE:
		snprintf(buf, n, "request deadline of %.0fms exceeded", ms);
		break;
	case ERR_POOL_TIMEOUT:
		switch (rt) {
		case FD_RUNTIME_JAVA:
			snprintf(buf, n, "HikariPool-1 - Connection is not available, request timed out after %.0fms (total=%d, active=%d, idle=0, waiting=%d)",
				 ms, x->pool, x->pool, x->waiting);
			break;
		case FD_RUNTIME_PYTHON:
			snprintf(buf, n, "QueuePool limit of size %d overflow 0 reached, connection timed out, timeout %.2f",
				 x->pool, ms / 1000);
			break;
		case FD_RUNTIME_NODE: snprintf(buf, n, "%s", "timeout exceeded when trying to connect"); break;
		case FD_RUNTIME_DOTNET:
			snprintf(buf, n, "%s", "Timeout expired. The timeout period elapsed prior to obtaining a connection from the pool.");
			break;
		case FD_RUNTIME_RUBY:
			snprintf(buf, n, "could not obtain a connection from the pool within %.3f seconds; all pooled connections were in use",
				 ms / 1000);
			break;
		default: snprintf(buf, n, "%s", "context deadline exceeded"); break;
		}
		break;
	case ERR_CIRCUIT_OPEN:
		if (rt == FD_RUNTIME_JAVA)
			snprintf(buf, n, "CircuitBreaker '%s' is OPEN and does not permit further calls", peer);
		else
			snprintf(buf, n, "circuit breaker '%s' is open", peer);
		break;
	case ERR_DB_CANCELED:
		snprintf(buf, n, "%s", "ERROR: canceling statement due to statement timeout");
		break;
	case ERR_DB_CONFLICT:
		snprintf(buf, n, "%s", "ERROR: could not serialize access due to concurrent update");
		break;
	default:
		snprintf(buf, n, "%s", "error");
		break;
	}
}
