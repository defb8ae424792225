/*
 * plant-pii OUT.fdr: a small recording with personal data and secrets
 * planted in every place they hide in real telemetry — resource
 * attributes, span attributes (URLs, headers, SQL), span names and status
 * messages, log bodies and attributes, metric data point labels — for the
 * rewrite tests. It prints each planted literal on a line of its own, so a
 * test can look for them in every output format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "recording/writer.h"
#include "stream/intern.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

static const char *const planted[] = {
	"jane.doe@example.com",                                      /* email in a URL */
	"bob@corp.example.org",                                      /* email in SQL */
	"alice@example.net",                                         /* email in a status message */
	"203.0.113.7",                                               /* IPv4 in the resource */
	"198.51.100.23",                                             /* IPv4 in a log attribute */
	"2001:db8::1",                                               /* IPv6 in a log body */
	"4111 1111 1111 1111",                                       /* card in a log body */
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",     /* JWT in a URL */
	"abcdefgh12345678",                                          /* bearer token in a header */
	"123e4567-e89b-12d3-a456-426614174000",                      /* UUID in a log body */
	"c3c0a1f2-1234-4abc-9def-0123456789ab",                      /* UUID as a metric label */
	"5500000000000004",                                          /* card in a span name */
};

static KeyValue *kv(const char *key, const char *value)
{
	KeyValue *k = malloc(sizeof(*k));
	AnyValue *v = malloc(sizeof(*v));
	opentelemetry__proto__common__v1__key_value__init(k);
	opentelemetry__proto__common__v1__any_value__init(v);
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)value;
	k->key = (char *)key;
	k->value = v;
	return k;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *n)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*n ? *n : 1);
	protobuf_c_message_pack(m, b);
	return b;
}

static void free_kvs(KeyValue **k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(k[i]->value);
		free(k[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: plant-pii OUT.fdr\n");
		return 2;
	}
	struct fd_error err = {0};
	struct fd_intern *t = fd_intern_create();
	const int64_t t0 = 1768482000000000000LL;

	KeyValue *rk[] = {kv("service.name", "checkout"), kv("host.ip", "203.0.113.7"),
			  kv("host.name", "ip-203-0-113-7")};
	Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	res.attributes = rk;
	res.n_attributes = 3;
	size_t n;
	uint8_t *b = pack(&res.base, &n);
	const struct fd_blob *resource = fd_intern_add(t, b, n);
	free(b);
	Opentelemetry__Proto__Common__V1__InstrumentationScope sc =
		OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	sc.name = "io.opentelemetry.tomcat-10.0";
	b = pack(&sc.base, &n);
	const struct fd_blob *scope = fd_intern_add(t, b, n);
	free(b);

	Firedrill__V1__RecordingHeader h = FIREDRILL__V1__RECORDING_HEADER__INIT;
	h.source_kind = "kafka";
	h.scenario_name = "captured";
	struct fd_recording_writer *w;
	if (fd_recording_writer_create(argv[1], &h, NULL, &w, &err) < 0)
		goto fail;

	uint8_t trace[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t span[8] = {1, 1, 1, 1, 1, 1, 1, 1}, child[8] = {2, 2, 2, 2, 2, 2, 2, 2};
	for (int i = 0; i < 3; i++) {
		/* a server span with a URL, a header and a card in its name */
		KeyValue *sk[] = {
			kv("url.full", "https://shop.example.com/account?email=jane.doe@example.com"
				       "&token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"),
			kv("http.request.header.authorization", "Bearer abcdefgh12345678"),
			kv("http.route", "/account"),
		};
		Opentelemetry__Proto__Trace__V1__Status st = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
		st.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
		st.message = "user alice@example.net not found";
		Opentelemetry__Proto__Trace__V1__Span s = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
		trace[15] = (uint8_t)i;
		s.trace_id = (ProtobufCBinaryData){16, trace};
		s.span_id = (ProtobufCBinaryData){8, span};
		s.name = "GET /cards/5500000000000004";
		s.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
		s.start_time_unix_nano = (uint64_t)(t0 + i * 1000000000LL);
		s.end_time_unix_nano = s.start_time_unix_nano + 5000000;
		s.attributes = sk;
		s.n_attributes = 3;
		s.status = &st;
		b = pack(&s.base, &n);
		/* its database call, with SQL naming a customer */
		KeyValue *dk[] = {kv("db.system", "postgresql"),
				  kv("db.query.text", "SELECT * FROM users WHERE email = 'bob@corp.example.org'")};
		Opentelemetry__Proto__Trace__V1__Span d = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
		d.trace_id = s.trace_id;
		d.span_id = (ProtobufCBinaryData){8, child};
		d.parent_span_id = s.span_id;
		d.name = "SELECT users";
		d.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
		d.start_time_unix_nano = s.start_time_unix_nano + 1000000;
		d.end_time_unix_nano = d.start_time_unix_nano + 2000000;
		d.attributes = dk;
		d.n_attributes = 2;
		size_t dn;
		uint8_t *db = pack(&d.base, &dn);
		/* a log inside the request */
		KeyValue *lk[] = {kv("client.address", "198.51.100.23")};
		AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
		body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		body.string_value = "payment failed for card 4111 1111 1111 1111 from 2001:db8::1 "
				    "session 123e4567-e89b-12d3-a456-426614174000";
		Opentelemetry__Proto__Logs__V1__LogRecord l = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
		l.time_unix_nano = d.end_time_unix_nano;
		l.observed_time_unix_nano = l.time_unix_nano + 3000000;
		l.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR;
		l.severity_text = "ERROR";
		l.body = &body;
		l.attributes = lk;
		l.n_attributes = 1;
		l.trace_id = s.trace_id;
		l.span_id = s.span_id;
		size_t ln;
		uint8_t *lb = pack(&l.base, &ln);
		/* a metric labelled with a customer id */
		KeyValue *mk[] = {kv("customer.id", "c3c0a1f2-1234-4abc-9def-0123456789ab")};
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint p =
			OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
		Opentelemetry__Proto__Metrics__V1__NumberDataPoint *pp = &p;
		p.attributes = mk;
		p.n_attributes = 1;
		p.time_unix_nano = s.end_time_unix_nano + 1;
		p.start_time_unix_nano = (uint64_t)t0;
		p.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
		p.as_int = i + 1;
		Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
		sum.data_points = &pp;
		sum.n_data_points = 1;
		sum.is_monotonic = 1;
		sum.aggregation_temporality =
			OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
		m.name = "orders.placed";
		m.unit = "{order}";
		m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m.sum = &sum;
		size_t mn;
		uint8_t *mb = pack(&m.base, &mn);

		struct fd_record recs[4] = {
			{(int64_t)d.end_time_unix_nano, FD_SIGNAL_TRACES, resource, scope, db, dn},
			{(int64_t)l.time_unix_nano, FD_SIGNAL_LOGS, resource, scope, lb, ln},
			{(int64_t)s.end_time_unix_nano, FD_SIGNAL_TRACES, resource, scope, b, n},
			{(int64_t)p.time_unix_nano, FD_SIGNAL_METRICS, resource, scope, mb, mn},
		};
		int rc = 0;
		for (int k = 0; k < 4 && rc == 0; k++)
			rc = fd_recording_writer_add(w, &recs[k], &err);
		free(b);
		free(db);
		free(lb);
		free(mb);
		free_kvs(sk, 3);
		free_kvs(dk, 2);
		free_kvs(lk, 1);
		free_kvs(mk, 1);
		if (rc < 0)
			goto fail;
	}
	if (fd_recording_writer_finish(w, &err) < 0)
		goto fail;
	fd_recording_writer_destroy(w);
	free_kvs(rk, 3);
	fd_intern_destroy(t);
	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++)
		printf("%s\n", planted[i]);
	return 0;
fail:
	fprintf(stderr, "plant-pii: %s\n", err.msg);
	return 1;
}
