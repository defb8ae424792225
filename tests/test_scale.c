/* replay/scale: copies of the system and churn. Decoded with protobuf-c
 * (the schema), independently of the wire walk under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/units.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "replay/scale.h"
#include "tests/support/synth.h"

#define HOUR 3600000000000LL

/* The string value of key in a serialized Resource, copied into buf; ""
 * when absent. */
static const char *attr(const struct fd_blob *res, const char *key, char *buf, size_t n)
{
	Opentelemetry__Proto__Resource__V1__Resource *r =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, res->len, res->data);
	assert_non_null(r);
	buf[0] = '\0';
	for (size_t i = 0; i < r->n_attributes; i++)
		if (!strcmp(r->attributes[i]->key, key) && r->attributes[i]->value->string_value)
			snprintf(buf, n, "%s", r->attributes[i]->value->string_value);
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
	return buf;
}

static size_t n_attrs(const struct fd_blob *res)
{
	Opentelemetry__Proto__Resource__V1__Resource *r =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, res->len, res->data);
	assert_non_null(r);
	size_t n = r->n_attributes;
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
	return n;
}

/* Copy 0 is the record; copy k has the same attributes with the instance
 * suffixed -cK, and the same payload for metrics. */
static void copies_of_resources(void **state)
{
	(void)state;
	struct fd_scale_options o = {.copies = 3};
	struct fd_scale *s;
	struct fd_error err = {0};
	struct fd_synth *syn = fd_synth_create(NULL);
	struct fd_record rec;
	assert_int_equal(fd_synth_next(syn, &rec), 0);
	assert_int_equal(fd_scale_create(&o, rec.time_ns, &s, &err), 0);
	const struct fd_blob *seen[3] = {0};
	for (int i = 0; i < 300; i++, fd_synth_next(syn, &rec)) {
		for (unsigned k = 0; k < 3; k++) {
			struct fd_record c;
			assert_int_equal(fd_scale_copy(s, &rec, k, &c, &err), 0);
			assert_int_equal(c.time_ns, rec.time_ns);
			assert_int_equal(c.payload_len, rec.payload_len);
			char a[128], b[128];
			attr(rec.resource, "service.instance.id", a, sizeof(a));
			attr(c.resource, "service.instance.id", b, sizeof(b));
			assert_int_equal(n_attrs(c.resource), n_attrs(rec.resource));
			if (k == 0) {
				assert_int_equal(c.resource->len, rec.resource->len);
				assert_memory_equal(c.resource->data, rec.resource->data, rec.resource->len);
				assert_memory_equal(c.payload, rec.payload, rec.payload_len);
			} else {
				char want[160];
				snprintf(want, sizeof(want), "%s-c%u", a, k);
				assert_string_equal(b, want);
				attr(rec.resource, "service.name", a, sizeof(a));
				attr(c.resource, "service.name", b, sizeof(b));
				assert_string_equal(a, b);
				if (rec.signal == FD_SIGNAL_METRICS)
					assert_memory_equal(c.payload, rec.payload, rec.payload_len);
			}
			/* the same instance is the same blob: interned once */
			struct fd_record again;
			assert_int_equal(fd_scale_copy(s, &rec, k, &again, &err), 0);
			assert_ptr_equal(again.resource, c.resource);
			if (i == 0)
				seen[k] = c.resource;
		}
	}
	/* all resources from one table: dense ids, so copies never share one */
	assert_true(seen[0] != seen[1] && seen[1] != seen[2] && seen[0]->id != seen[1]->id);
	fd_scale_destroy(s);
	fd_synth_destroy(syn);
}

/* Traces stay whole within a copy (parents found among the copy's own
 * spans), ids never collide across copies, and logs follow their spans. */
static void ids_per_copy(void **state)
{
	(void)state;
	struct fd_scale_options o = {.copies = 4};
	struct fd_scale *s;
	struct fd_error err = {0};
	struct fd_synth *syn = fd_synth_create(NULL);
	struct fd_record rec;
	fd_synth_next(syn, &rec);
	assert_int_equal(fd_scale_create(&o, rec.time_ns, &s, &err), 0);
	size_t spans = 0, logs = 0;
	for (int i = 0; i < 2000; i++, fd_synth_next(syn, &rec)) {
		if (rec.signal == FD_SIGNAL_METRICS)
			continue;
		uint8_t tid[4][16], sid[4][8], pid[4][8];
		size_t pn[4];
		for (unsigned k = 0; k < 4; k++) {
			struct fd_record c;
			assert_int_equal(fd_scale_copy(s, &rec, k, &c, &err), 0);
			if (rec.signal == FD_SIGNAL_TRACES) {
				Opentelemetry__Proto__Trace__V1__Span *sp =
					opentelemetry__proto__trace__v1__span__unpack(NULL, c.payload_len, c.payload);
				assert_non_null(sp);
				assert_int_equal(sp->trace_id.len, 16);
				memcpy(tid[k], sp->trace_id.data, 16);
				memcpy(sid[k], sp->span_id.data, 8);
				pn[k] = sp->parent_span_id.len;
				if (pn[k])
					memcpy(pid[k], sp->parent_span_id.data, 8);
				opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
			} else {
				Opentelemetry__Proto__Logs__V1__LogRecord *lr =
					opentelemetry__proto__logs__v1__log_record__unpack(NULL, c.payload_len, c.payload);
				assert_non_null(lr);
				pn[k] = 0;
				memset(tid[k], 0, 16);
				memset(sid[k], 0, 8);
				if (lr->trace_id.len == 16)
					memcpy(tid[k], lr->trace_id.data, 16);
				if (lr->span_id.len == 8)
					memcpy(sid[k], lr->span_id.data, 8);
				opentelemetry__proto__logs__v1__log_record__free_unpacked(lr, NULL);
			}
		}
		for (unsigned k = 1; k < 4; k++) {
			uint8_t z[16] = {0};
			if (memcmp(tid[0], z, 16)) /* a log without a trace stays without */
				assert_memory_not_equal(tid[0], tid[k], 16);
			for (unsigned j = 1; j < k; j++)
				if (memcmp(tid[0], z, 16))
					assert_memory_not_equal(tid[j], tid[k], 16);
			assert_int_equal(pn[k], pn[0]);
			/* one key per copy: a child's parent id maps as the parent's id */
			if (pn[0]) {
				uint8_t x[8], y[8];
				for (int b = 0; b < 8; b++) {
					x[b] = pid[0][b] ^ pid[k][b];
					y[b] = sid[0][b] ^ sid[k][b];
				}
				assert_memory_equal(x, y, 8);
			}
		}
		if (rec.signal == FD_SIGNAL_TRACES)
			spans++;
		else
			logs++;
	}
	assert_true(spans > 100 && logs > 100);
	fd_scale_destroy(s);
	fd_synth_destroy(syn);
}

/* 100%/h: every instance is replaced once an hour, at its own moment, so
 * about half are by the half hour and all by the hour. */
static void churn_is_staggered(void **state)
{
	(void)state;
	struct fd_scale_options o = {.copies = 1, .churn_per_hour = 1.0};
	struct fd_synth_options so = {.services = 8, .instances = 8};
	struct fd_synth *syn = fd_synth_create(&so);
	struct fd_record rec;
	fd_synth_next(syn, &rec);
	int64_t t0 = rec.time_ns;
	struct fd_scale *s;
	struct fd_error err = {0};
	assert_int_equal(fd_scale_create(&o, t0, &s, &err), 0);
	/* one record per resource */
	const struct fd_blob *res[64] = {0};
	struct fd_record per[64];
	unsigned n = 0;
	for (int i = 0; i < 100000 && n < 64; i++, fd_synth_next(syn, &rec)) {
		unsigned j = 0;
		while (j < n && res[j] != rec.resource)
			j++;
		if (j == n) {
			res[n] = rec.resource;
			per[n++] = rec;
		}
	}
	assert_int_equal(n, 64);
	int64_t at[] = {0, HOUR / 2, HOUR - 1, 2 * HOUR - 1};
	unsigned replaced[4] = {0};
	for (int a = 0; a < 4; a++)
		for (unsigned j = 0; j < n; j++) {
			struct fd_record r = per[j], c;
			r.time_ns = t0 + at[a];
			assert_int_equal(fd_scale_copy(s, &r, 0, &c, &err), 0);
			char id[160];
			attr(c.resource, "service.instance.id", id, sizeof(id));
			if (strstr(id, a == 3 ? "-g2" : "-g1"))
				replaced[a]++;
		}
	assert_int_equal(replaced[0], 0);
	assert_in_range(replaced[1], 16, 48);
	assert_int_equal(replaced[2], 64);
	assert_int_equal(replaced[3], 64);
	fd_scale_destroy(s);
	fd_synth_destroy(syn);
}

static void parse_and_bad_input(void **state)
{
	(void)state;
	double v;
	const char *why;
	assert_int_equal(fd_units_churn("5%/h", &v, &why), 0);
	assert_true(v > 0.0499 && v < 0.0501);
	assert_int_equal(fd_units_churn("5%", &v, &why), 0);
	assert_int_equal(fd_units_churn("5", &v, &why), -1);
	assert_int_equal(fd_units_churn("-1%/h", &v, &why), -1);
	assert_int_equal(fd_units_churn("5%/m", &v, &why), -1);
	struct fd_scale *s;
	struct fd_error err = {0};
	assert_int_equal(fd_scale_create(&(struct fd_scale_options){.copies = 0}, 0, &s, &err), -FD_EINPUT);
	assert_int_equal(fd_scale_create(&(struct fd_scale_options){.copies = 2}, 0, &s, &err), 0);
	/* a resource that is not protobuf: an error, not a crash */
	static const uint8_t junk[] = {0x0a, 0xff};
	struct fd_blob b = {0, sizeof(junk), junk};
	static const uint8_t span[] = {0x0a, 0x10};
	struct fd_record r = {.signal = FD_SIGNAL_TRACES, .resource = &b, .payload = span,
			      .payload_len = sizeof(span)};
	struct fd_record c;
	assert_int_equal(fd_scale_copy(s, &r, 1, &c, &err), -FD_EINPUT);
	r.resource = NULL;
	assert_int_equal(fd_scale_copy(s, &r, 1, &c, &err), -FD_EINPUT);
	fd_scale_destroy(s);
	fd_scale_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copies_of_resources),
		cmocka_unit_test(ids_per_copy),
		cmocka_unit_test(churn_is_staggered),
		cmocka_unit_test(parse_and_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
