#include "tests/support/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_config.h"
#include "stream/intern.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

/* ---- deterministic randomness: splitmix64 seeding xoshiro256** ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0; /* the bias is irrelevant here */
}

static double rng_double(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static void rng_bytes(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

/* ---- attribute lists on the stack ---- */

#define MAX_KV 10

struct kvs {
	KeyValue kv[MAX_KV];
	AnyValue av[MAX_KV];
	KeyValue *p[MAX_KV];
	size_t n;
};

static void kvs_init(struct kvs *k)
{
	k->n = 0;
}

static AnyValue *kvs_add(struct kvs *k, const char *key)
{
	size_t i = k->n++;
	opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
	opentelemetry__proto__common__v1__any_value__init(&k->av[i]);
	k->kv[i].key = (char *)key;
	k->kv[i].value = &k->av[i];
	k->p[i] = &k->kv[i];
	return &k->av[i];
}

static void kv_str(struct kvs *k, const char *key, const char *v)
{
	AnyValue *a = kvs_add(k, key);
	a->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = (char *)v;
}

static void kv_int(struct kvs *k, const char *key, int64_t v)
{
	AnyValue *a = kvs_add(k, key);
	a->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	a->int_value = v;
}

/* ---- the model: services, endpoints ---- */

static const char *const service_names[] = {
	"gateway", "checkout", "payments", "inventory", "orders", "users", "catalog", "shipping",
};
#define NAMED_SERVICES (sizeof(service_names) / sizeof(service_names[0]))

struct endpoint {
	const char *method, *route, *name;
};

static const struct endpoint endpoints[] = {
	{"POST", "/checkout", "POST /checkout"},
	{"GET", "/cart", "GET /cart"},
	{"GET", "/product/{id}", "GET /product/{id}"},
	{"POST", "/payment", "POST /payment"},
	{"GET", "/orders/{id}", "GET /orders/{id}"},
	{"PUT", "/cart/items", "PUT /cart/items"},
};
#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

static const char *const db_statements[] = {
	"SELECT * FROM orders WHERE customer_id = $1",
	"INSERT INTO orders (id, customer_id, total) VALUES ($1, $2, $3)",
	"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2",
};
#define N_STATEMENTS (sizeof(db_statements) / sizeof(db_statements[0]))

/* OpenTelemetry's default explicit bounds for http.server.request.duration. */
static const double duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					 0.5,   0.75, 1,     2.5,  5,     7.5, 10};
#define N_BOUNDS (sizeof(duration_bounds) / sizeof(duration_bounds[0]))

struct fd_synth {
	struct rng rng;
	int64_t time, step;
	uint64_t n;
	unsigned services, instances, nres;
	struct fd_intern *blobs; /* resources, then the scope */
	const struct fd_blob **res;
	const struct fd_blob *scope;

	uint8_t *buf;
	size_t cap;

	uint8_t last_trace[16], last_span[8];
	bool have_span;
	uint64_t error_spans, metric_seq;
	int64_t orders_total[NAMED_SERVICES + 1];
	char text[256];
};

static int reserve(struct fd_synth *s, size_t n)
{
	if (n <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 1024;
	while (cap < n)
		cap *= 2;
	uint8_t *p = realloc(s->buf, cap);
	if (!p)
		return -1;
	s->buf = p;
	s->cap = cap;
	return 0;
}

static void service_name(unsigned i, char *out, size_t n)
{
	if (i < NAMED_SERVICES)
		snprintf(out, n, "%s", service_names[i]);
	else
		snprintf(out, n, "service-%u", i);
}

static int build_resources(struct fd_synth *s)
{
	for (unsigned svc = 0; svc < s->services; svc++) {
		for (unsigned inst = 0; inst < s->instances; inst++) {
			char name[32], version[32], id[64];
			service_name(svc, name, sizeof(name));
			snprintf(version, sizeof(version), "1.%u.%u", 4 + svc % 3, svc * 7 % 10);
			snprintf(id, sizeof(id), "%s-%04x-%u", name,
				 (unsigned)(fd_hash64(name, strlen(name)) & 0xffff), inst);
			struct kvs k;
			kvs_init(&k);
			kv_str(&k, "service.name", name);
			kv_str(&k, "service.version", version);
			kv_str(&k, "service.instance.id", id);
			kv_str(&k, "deployment.environment", "production");
			kv_str(&k, "telemetry.sdk.language", "go");
			Opentelemetry__Proto__Resource__V1__Resource r =
				OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
			r.n_attributes = k.n;
			r.attributes = k.p;
			size_t len = opentelemetry__proto__resource__v1__resource__get_packed_size(&r);
			if (reserve(s, len) < 0)
				return -1;
			opentelemetry__proto__resource__v1__resource__pack(&r, s->buf);
			const struct fd_blob *b = fd_intern_add(s->blobs, s->buf, len);
			if (!b)
				return -1;
			s->res[svc * s->instances + inst] = b;
		}
	}
	Opentelemetry__Proto__Common__V1__InstrumentationScope sc =
		OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	sc.name = (char *)"firedrill/synth";
	sc.version = (char *)FD_VERSION;
	size_t len = opentelemetry__proto__common__v1__instrumentation_scope__get_packed_size(&sc);
	if (reserve(s, len) < 0)
		return -1;
	opentelemetry__proto__common__v1__instrumentation_scope__pack(&sc, s->buf);
	s->scope = fd_intern_add(s->blobs, s->buf, len);
	return s->scope ? 0 : -1;
}

struct fd_synth *fd_synth_create(const struct fd_synth_options *opts)
{
	static const struct fd_synth_options defaults = {0};
	if (!opts)
		opts = &defaults;
	struct fd_synth *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	rng_seed(&s->rng, opts->seed);
	s->services = opts->services ? opts->services : 3;
	s->instances = opts->instances ? opts->instances : 2;
	s->time = opts->start_ns ? opts->start_ns : FD_SYNTH_DEFAULT_START;
	s->step = opts->step_ns > 0 ? opts->step_ns : 1000000;
	s->nres = s->services * s->instances;
	s->res = calloc(s->nres, sizeof(*s->res));
	s->blobs = fd_intern_create();
	if (!s->res || !s->blobs || build_resources(s) < 0) {
		fd_synth_destroy(s);
		return NULL;
	}
	return s;
}

void fd_synth_destroy(struct fd_synth *s)
{
	if (!s)
		return;
	fd_intern_destroy(s->blobs);
	free(s->res);
	free(s->buf);
	free(s);
}

unsigned fd_synth_resource_count(const struct fd_synth *s)
{
	return s->nres;
}

const struct fd_blob *fd_synth_resource(const struct fd_synth *s, unsigned i)
{
	return i < s->nres ? s->res[i] : NULL;
}

const struct fd_blob *fd_synth_scope(const struct fd_synth *s)
{
	return s->scope;
}

uint64_t fd_synth_error_spans(const struct fd_synth *s)
{
	return s->error_spans;
}

/* A latency in seconds: spread around a median with a long tail. Only
 * + - * / on doubles, which IEEE 754 makes exact everywhere, so the bytes do
 * not depend on the machine's libm. */
static double latency(struct fd_synth *s, double median)
{
	double u = rng_double(&s->rng);
	double v = 0.5 + u; /* 0.5 .. 1.5 */
	if (rng_below(&s->rng, 20) == 0)
		v *= 2.0 + 8.0 * rng_double(&s->rng); /* the tail: 1 in 20 slow */
	return median * v;
}

static size_t build_span(struct fd_synth *s, int64_t t)
{
	Opentelemetry__Proto__Trace__V1__Span span = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
	Opentelemetry__Proto__Trace__V1__Status status = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
	uint8_t trace_id[16], span_id[8], parent_id[8];
	struct kvs k;
	kvs_init(&k);

	bool child = s->have_span && rng_below(&s->rng, 3) == 0;
	if (child) {
		memcpy(trace_id, s->last_trace, 16);
		memcpy(parent_id, s->last_span, 8);
	} else {
		rng_bytes(&s->rng, trace_id, 16);
	}
	rng_bytes(&s->rng, span_id, 8);
	span.trace_id = (ProtobufCBinaryData){16, trace_id};
	span.span_id = (ProtobufCBinaryData){8, span_id};
	span.flags = 0x101; /* sampled, has is_remote */
	if (child)
		span.parent_span_id = (ProtobufCBinaryData){8, parent_id};

	int status_code = 200;
	bool error = rng_below(&s->rng, 100) < 3;
	double seconds;
	if (child && rng_below(&s->rng, 2) == 0) {
		/* a database call */
		const char *stmt = db_statements[rng_below(&s->rng, N_STATEMENTS)];
		span.name = (char *)(stmt[0] == 'S' ? "SELECT orders" : stmt[0] == 'I' ? "INSERT orders"
										   : "UPDATE inventory");
		span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
		kv_str(&k, "db.system", "postgresql");
		kv_str(&k, "db.namespace", "shop");
		kv_str(&k, "db.query.text", stmt);
		kv_str(&k, "server.address", "orders-db.internal");
		kv_int(&k, "server.port", 5432);
		seconds = latency(s, 0.004);
	} else {
		const struct endpoint *e = &endpoints[rng_below(&s->rng, N_ENDPOINTS)];
		span.name = (char *)e->name;
		span.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
		if (error)
			status_code = rng_below(&s->rng, 4) ? 500 : 503;
		else if (rng_below(&s->rng, 50) == 0)
			status_code = 404;
		kv_str(&k, "http.request.method", e->method);
		kv_str(&k, "http.route", e->route);
		kv_int(&k, "http.response.status_code", status_code);
		kv_str(&k, "url.scheme", "https");
		kv_str(&k, "network.protocol.version", "1.1");
		kv_str(&k, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) synth/1.0");
		seconds = latency(s, e->name[0] == 'P' ? 0.180 : 0.040);
	}
	int64_t dur = (int64_t)(seconds * 1e9);
	if (dur < 1000)
		dur = 1000;
	span.start_time_unix_nano = (uint64_t)(t - dur);
	span.end_time_unix_nano = (uint64_t)t;
	span.n_attributes = k.n;
	span.attributes = k.p;
	if (error) {
		status.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
		snprintf(s->text, sizeof(s->text), "HTTP %d", status_code);
		status.message = s->text;
		s->error_spans++;
	}
	span.status = &status;

	memcpy(s->last_trace, trace_id, 16);
	memcpy(s->last_span, span_id, 8);
	s->have_span = true;

	size_t len = opentelemetry__proto__trace__v1__span__get_packed_size(&span);
	if (reserve(s, len) < 0)
		return SIZE_MAX;
	return opentelemetry__proto__trace__v1__span__pack(&span, s->buf);
}

static size_t build_metric(struct fd_synth *s, int64_t t, unsigned res)
{
	Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
	struct kvs k;
	kvs_init(&k);
	uint64_t start = (uint64_t)(FD_SYNTH_DEFAULT_START - 60000000000LL);

	Opentelemetry__Proto__Metrics__V1__Histogram hist = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint hdp =
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hdp_p[1] = {&hdp};
	uint64_t buckets[N_BOUNDS + 1];

	Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
	Opentelemetry__Proto__Metrics__V1__Gauge gauge = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint ndp =
		OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint *ndp_p[1] = {&ndp};

	switch (s->metric_seq++ % 3) {
	case 0: {
		const struct endpoint *e = &endpoints[rng_below(&s->rng, N_ENDPOINTS)];
		m.name = (char *)"http.server.request.duration";
		m.description = (char *)"Duration of HTTP server requests.";
		m.unit = (char *)"s";
		kv_str(&k, "http.request.method", e->method);
		kv_str(&k, "http.route", e->route);
		kv_int(&k, "http.response.status_code", 200);
		uint64_t count = 0;
		double total = 0;
		for (size_t i = 0; i <= N_BOUNDS; i++) {
			buckets[i] = rng_below(&s->rng, i < 8 ? 400 : 20);
			count += buckets[i];
			double mid = i == 0 ? duration_bounds[0] / 2
				     : i < N_BOUNDS ? (duration_bounds[i - 1] + duration_bounds[i]) / 2
						    : duration_bounds[N_BOUNDS - 1] * 1.2;
			total += (double)buckets[i] * mid;
		}
		hdp.attributes = k.p;
		hdp.n_attributes = k.n;
		hdp.start_time_unix_nano = start;
		hdp.time_unix_nano = (uint64_t)t;
		hdp.count = count;
		hdp.sum__case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM__SUM;
		hdp.sum = total;
		hdp.min__case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN__MIN;
		hdp.min = 0.0008;
		hdp.max__case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX__MAX;
		hdp.max = 11.5;
		hdp.n_bucket_counts = N_BOUNDS + 1;
		hdp.bucket_counts = buckets;
		hdp.n_explicit_bounds = N_BOUNDS;
		hdp.explicit_bounds = (double *)duration_bounds;
		hist.n_data_points = 1;
		hist.data_points = hdp_p;
		hist.aggregation_temporality =
			OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m.histogram = &hist;
		break;
	}
	case 1: {
		unsigned svc = res / s->instances;
		unsigned slot = svc < NAMED_SERVICES ? svc : NAMED_SERVICES;
		s->orders_total[slot] += (int64_t)rng_below(&s->rng, 40);
		m.name = (char *)"app.orders.placed";
		m.description = (char *)"Orders placed since start.";
		m.unit = (char *)"{order}";
		kv_str(&k, "payment.method", rng_below(&s->rng, 2) ? "card" : "wallet");
		ndp.attributes = k.p;
		ndp.n_attributes = k.n;
		ndp.start_time_unix_nano = start;
		ndp.time_unix_nano = (uint64_t)t;
		ndp.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
		ndp.as_int = s->orders_total[slot];
		sum.n_data_points = 1;
		sum.data_points = ndp_p;
		sum.aggregation_temporality =
			OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		sum.is_monotonic = 1;
		m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m.sum = &sum;
		break;
	}
	default:
		m.name = (char *)"system.cpu.utilization";
		m.description = (char *)"CPU utilization of the instance.";
		m.unit = (char *)"1";
		kv_str(&k, "cpu.mode", "user");
		ndp.attributes = k.p;
		ndp.n_attributes = k.n;
		ndp.time_unix_nano = (uint64_t)t;
		ndp.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
		ndp.as_double = 0.15 + 0.5 * rng_double(&s->rng);
		gauge.n_data_points = 1;
		gauge.data_points = ndp_p;
		m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		m.gauge = &gauge;
		break;
	}
	size_t len = opentelemetry__proto__metrics__v1__metric__get_packed_size(&m);
	if (reserve(s, len) < 0)
		return SIZE_MAX;
	return opentelemetry__proto__metrics__v1__metric__pack(&m, s->buf);
}

static size_t build_log(struct fd_synth *s, int64_t t)
{
	Opentelemetry__Proto__Logs__V1__LogRecord lr = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	struct kvs k;
	kvs_init(&k);
	uint8_t trace_id[16], span_id[8];
	if (s->have_span) {
		memcpy(trace_id, s->last_trace, 16);
		memcpy(span_id, s->last_span, 8);
	} else {
		rng_bytes(&s->rng, trace_id, 16);
		rng_bytes(&s->rng, span_id, 8);
	}
	unsigned roll = (unsigned)rng_below(&s->rng, 100);
	uint64_t order = 100000 + rng_below(&s->rng, 900000);
	if (roll < 3) {
		lr.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR;
		lr.severity_text = (char *)"ERROR";
		snprintf(s->text, sizeof(s->text),
			 "checkout failed for order %llu: payment provider returned 502",
			 (unsigned long long)order);
	} else if (roll < 10) {
		lr.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN;
		lr.severity_text = (char *)"WARN";
		snprintf(s->text, sizeof(s->text), "slow query: %llu ms waiting for a pool connection",
			 (unsigned long long)(50 + rng_below(&s->rng, 400)));
	} else {
		lr.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
		lr.severity_text = (char *)"INFO";
		snprintf(s->text, sizeof(s->text), "order %llu placed: %u items, total %u.%02u EUR",
			 (unsigned long long)order, 1 + (unsigned)rng_below(&s->rng, 6),
			 5 + (unsigned)rng_below(&s->rng, 300), (unsigned)rng_below(&s->rng, 100));
	}
	body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	body.string_value = s->text;
	kv_str(&k, "logger.name", "shop.checkout");
	kv_int(&k, "order.id", (int64_t)order);
	lr.time_unix_nano = (uint64_t)t;
	lr.observed_time_unix_nano = (uint64_t)t;
	lr.body = &body;
	lr.n_attributes = k.n;
	lr.attributes = k.p;
	lr.flags = 1;
	lr.trace_id = (ProtobufCBinaryData){16, trace_id};
	lr.span_id = (ProtobufCBinaryData){8, span_id};
	size_t len = opentelemetry__proto__logs__v1__log_record__get_packed_size(&lr);
	if (reserve(s, len) < 0)
		return SIZE_MAX;
	return opentelemetry__proto__logs__v1__log_record__pack(&lr, s->buf);
}

int fd_synth_next(struct fd_synth *s, struct fd_record *rec)
{
	if (s->n > 0) {
		/* Gaps of 0.5..1.5 steps; one in twenty is zero (equal times). */
		int64_t gap = rng_below(&s->rng, 20) == 0
				      ? 0
				      : s->step / 2 + (int64_t)rng_below(&s->rng, (uint64_t)s->step);
		s->time += gap;
	}
	s->n++;
	unsigned res = (unsigned)rng_below(&s->rng, s->nres);
	unsigned roll = (unsigned)rng_below(&s->rng, 100);
	size_t len;
	if (roll < 55) {
		rec->signal = FD_SIGNAL_TRACES;
		len = build_span(s, s->time);
	} else if (roll < 70) {
		rec->signal = FD_SIGNAL_METRICS;
		len = build_metric(s, s->time, res);
	} else {
		rec->signal = FD_SIGNAL_LOGS;
		len = build_log(s, s->time);
	}
	if (len == SIZE_MAX)
		return -1;
	rec->time_ns = s->time;
	rec->resource = s->res[res];
	rec->scope = s->scope;
	rec->payload = s->buf;
	rec->payload_len = len;
	return 0;
}

void fd_synth_header_init(struct fd_synth_header *h, const struct fd_synth_options *opts,
			  uint64_t n)
{
	static const struct fd_synth_options defaults = {0};
	if (!opts)
		opts = &defaults;
	unsigned services = opts->services ? opts->services : 3;
	unsigned instances = opts->instances ? opts->instances : 2;
	int64_t start = opts->start_ns ? opts->start_ns : FD_SYNTH_DEFAULT_START;
	int64_t step = opts->step_ns > 0 ? opts->step_ns : 1000000;

	memset(h, 0, sizeof(*h));
	firedrill__v1__recording_header__init(&h->header);
	firedrill__v1__answer_key__init(&h->key);
	snprintf(h->title, sizeof(h->title), "Synthetic telemetry: %u services x %u instances",
		 services, instances);
	snprintf(h->prompt, sizeof(h->prompt),
		 "%llu synthetic records with steady noise; there is no incident to find.",
		 (unsigned long long)n);
	snprintf(h->services, sizeof(h->services), "%u x %u instances", services, instances);

	h->header.generator = (char *)"firedrill " FD_VERSION " (fdr-synth)";
	h->header.source_kind = (char *)"synthetic";
	h->header.scenario_name = (char *)"synthetic";
	h->header.scenario_title = h->title;
	h->header.seed = opts->seed;
	h->header.start_time_unix_nano = (uint64_t)start;
	h->header.end_time_unix_nano = (uint64_t)(start + (int64_t)n * step);

	firedrill__v1__property__init(&h->props[0]);
	h->props[0].key = (char *)"services";
	h->props[0].value = h->services;
	h->props_p[0] = &h->props[0];
	h->header.n_properties = 1;
	h->header.properties = h->props_p;

	h->key.prompt = h->prompt;
	h->key.root_cause = (char *)"none: synthetic load without an incident";
	h->key.trigger = (char *)"none";
	h->key.mitigation = (char *)"none needed";
	h->key.verification = (char *)"error rate stays near 3% throughout";
	h->investigation[0] = (char *)"Look at the request rate and p95 latency per route.";
	h->investigation[1] = (char *)"Compare error rates across services and instances.";
	h->investigation[2] = (char *)"Confirm that nothing changes over the time range.";
	h->key.n_investigation = 3;
	h->key.investigation = h->investigation;
	h->evidence[0] = (char *)"http.server.request.duration is stationary";
	h->evidence[1] = (char *)"ERROR logs carry the trace ids of failed spans";
	h->key.n_evidence = 2;
	h->key.evidence = h->evidence;
	firedrill__v1__figure__init(&h->figure);
	h->figure.name = (char *)"error_rate";
	h->figure.subject = (char *)"all server spans";
	h->figure.phase = (char *)"";
	h->figure.value = 0.03;
	h->figure.unit = (char *)"ratio";
	h->figure_p[0] = &h->figure;
	h->key.n_figures = 1;
	h->key.figures = h->figure_p;
	h->header.answer_key = &h->key;
}

int fd_synth_write_recording(const char *path, uint64_t n, const struct fd_synth_options *opts,
			     const struct fd_recording_writer_options *wopts,
			     struct fd_synth_result *res, struct fd_error *err)
{
	struct fd_synth_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	struct fd_synth *s = fd_synth_create(opts);
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct fd_synth_header *h = malloc(sizeof(*h));
	if (!h) {
		fd_synth_destroy(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	fd_synth_header_init(h, opts, n);
	struct fd_recording_writer *w = NULL;
	int rc = fd_recording_writer_create(path, &h->header, wopts, &w, err);
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		struct fd_record rec;
		if (fd_synth_next(s, &rec) < 0) {
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			break;
		}
		rc = fd_recording_writer_add(w, &rec, err);
		if (rc == 0) {
			if (i == 0)
				res->first_time = rec.time_ns;
			res->last_time = rec.time_ns;
			res->records[rec.signal]++;
			res->payload_bytes[rec.signal] += rec.payload_len;
		}
	}
	res->error_spans = fd_synth_error_spans(s);
	if (rc == 0) {
		Firedrill__V1__Figure fig = FIREDRILL__V1__FIGURE__INIT;
		fig.name = (char *)"error_rate";
		fig.subject = (char *)"all spans";
		fig.phase = (char *)"";
		fig.unit = (char *)"ratio";
		uint64_t spans = res->records[FD_SIGNAL_TRACES];
		fig.value = spans ? (double)res->error_spans / (double)spans : 0.0;
		rc = fd_recording_writer_add_figure(w, &fig, err);
	}
	if (rc == 0)
		rc = fd_recording_writer_finish(w, err);
	fd_recording_writer_destroy(w);
	fd_synth_destroy(s);
	free(h);
	return rc;
}
