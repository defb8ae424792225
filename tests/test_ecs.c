/* sinks/ecs: the document of a hand-built record (mapped fields, the first
 * of two attributes mapping to one field, labels sanitized with the
 * record's winning over the resource's, a body that is not a string, ids,
 * the level from the text), the same document whatever shape protobuf
 * allows the bytes to come in, and malformed parts refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/timefmt.h"
#include "otlp/pbwrite.h"
#include "sinks/ecs.h"
#include "stream/intern.h"

static char *doc(struct fd_ecs *e, const struct fd_record *rec, int *rc, struct fd_error *err)
{
	struct pbw o = {0};
	*rc = fd_ecs_encode(e, rec, &o, err);
	char *s = malloc(o.len + 1);
	assert_non_null(s);
	if (o.len)
		memcpy(s, o.buf, o.len);
	s[o.len] = '\0';
	pbw_finish(&o);
	return s;
}

static void resource(struct pbw *w)
{
	otlp_attr_str(w, 1, "service.name", "checkout");
	otlp_attr_str(w, 1, "deployment.environment.name", "prod");
	otlp_attr_str(w, 1, "deployment.environment", "staging"); /* maps to the same field */
	otlp_attr_str(w, 1, "region", "eu");
	otlp_attr_str(w, 1, "team.name", "pay");
}

static void log_record(struct pbw *w, int shape)
{
	static const uint8_t trace[16] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xcd};
	static const uint8_t span[8] = {1, 2, 3, 4, 5, 6, 7, 0xef};
	if (shape == 1) /* attributes first, severity text twice (the last wins) */
		otlp_attr_str(w, 6, "http.request.method", "POST");
	pbw_fixed64(w, 1, 1700000000123456789ULL);
	pbw_varint(w, 2, 17);
	if (shape == 1)
		pbw_string(w, 3, "ignored");
	pbw_string(w, 3, "ERROR");
	size_t b = pbw_begin(w, 5); /* body: a kvlist */
	size_t kl = pbw_begin(w, 6);
	otlp_attr_int(w, 1, "n", 3);
	otlp_attr_str(w, 1, "q", "a\"b");
	pbw_end(w, kl);
	pbw_end(w, b);
	if (shape != 1)
		otlp_attr_str(w, 6, "http.request.method", "POST");
	otlp_attr_int(w, 6, "http.response.status_code", 503);
	otlp_attr_str(w, 6, "region", "us"); /* the record's label wins */
	otlp_attr_double(w, 6, "retry.delay", 0.25);
	if (shape == 2)
		pbw_varint(w, 99, 1); /* unknown */
	pbw_bytes(w, 9, trace, 16);
	pbw_bytes(w, 10, span, 8);
}

static const char expected[] =
	"{\"@timestamp\":\"2023-11-14T22:13:20.123Z\",\"log.level\":\"error\","
	"\"message\":\"{\\\"n\\\":3,\\\"q\\\":\\\"a\\\\\\\"b\\\"}\",\"ecs.version\":\"8.11.0\","
	"\"service.name\":\"checkout\",\"service.environment\":\"prod\","
	"\"event.dataset\":\"checkout.log\",\"log.logger\":\"lib\",\"event.severity\":17,"
	"\"trace.id\":\"ab0102030405060708090a0b0c0d0ecd\",\"span.id\":\"01020304050607ef\","
	"\"http.request.method\":\"POST\",\"http.response.status_code\":503,"
	"\"labels\":{\"region\":\"us\",\"retry_delay\":\"0.25\",\"team_name\":\"pay\"}}";

static void test_document(void **state)
{
	(void)state;
	struct fd_intern *t = fd_intern_create();
	struct pbw res = {0}, scope = {0}, lr = {0};
	resource(&res);
	pbw_string(&scope, 1, "lib");
	const struct fd_blob *rb = fd_intern_add(t, res.buf, res.len);
	const struct fd_blob *sb = fd_intern_add(t, scope.buf, scope.len);
	struct fd_ecs *e = fd_ecs_create();
	for (int shape = 0; shape < 3; shape++) {
		pbw_reset(&lr);
		log_record(&lr, shape);
		struct fd_record rec = {.time_ns = 5, .signal = FD_SIGNAL_LOGS, .resource = rb,
					.scope = sb, .payload = lr.buf, .payload_len = lr.len};
		struct fd_error err = {0};
		int rc;
		for (int twice = 0; twice < 2; twice++) { /* the second from what was kept */
			char *d = doc(e, &rec, &rc, &err);
			print_message("shape %d\n", shape);
			assert_int_equal(rc, 0);
			assert_string_equal(d, expected);
			free(d);
		}
	}
	fd_ecs_destroy(e);
	pbw_finish(&res);
	pbw_finish(&scope);
	pbw_finish(&lr);
	fd_intern_destroy(t);
}

/* Labels of each kind of value, short and long, escaped, in the usual
 * shape and not: the first of two keys that sanitize alike wins; a key
 * that looks like one of the resource's to ecs.c's quick look (its length
 * and first, middle and last bytes) but is another is no clash. */
static void test_labels(void **state)
{
	(void)state;
	struct fd_intern *t = fd_intern_create();
	struct pbw res = {0}, lr = {0};
	otlp_attr_str(&res, 1, "abcdef", "r1");
	otlp_attr_str(&res, 1, "team", "t");
	const struct fd_blob *rb = fd_intern_add(t, res.buf, res.len);
	pbw_fixed64(&lr, 1, 1700000000000000000ULL);
	otlp_attr_str(&lr, 6, "a.b", "1");
	otlp_attr_str(&lr, 6, "a_b", "2");
	otlp_attr_str(&lr, 6, "axcdef", "x");
	otlp_attr_bool(&lr, 6, "flag", true);
	otlp_attr_int(&lr, 6, "neg", -5);
	char long_val[201];
	memset(long_val, 'v', 200);
	long_val[200] = '\0';
	otlp_attr_str(&lr, 6, "long", long_val);
	otlp_attr_str(&lr, 6, "esc", "q\"\n");
	/* an array value [1,"s"]; a key twice (the last wins) */
	size_t kv = pbw_begin(&lr, 6), v, arr, item;
	pbw_string(&lr, 1, "list");
	v = pbw_begin(&lr, 2);
	arr = pbw_begin(&lr, 5);
	item = pbw_begin(&lr, 1);
	pbw_varint(&lr, 3, 1);
	pbw_end(&lr, item);
	item = pbw_begin(&lr, 1);
	pbw_string(&lr, 1, "s");
	pbw_end(&lr, item);
	pbw_end(&lr, arr);
	pbw_end(&lr, v);
	pbw_end(&lr, kv);
	kv = pbw_begin(&lr, 6);
	pbw_string(&lr, 1, "x");
	pbw_string(&lr, 1, "url.path");
	v = pbw_begin(&lr, 2);
	pbw_string(&lr, 1, "/p");
	pbw_end(&lr, v);
	pbw_end(&lr, kv);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\"@timestamp\":\"2023-11-14T22:13:20.000Z\",\"message\":\"\",\"ecs.version\":\"8.11.0\","
		 "\"url.path\":\"/p\",\"labels\":{\"a_b\":\"1\",\"axcdef\":\"x\",\"flag\":\"true\","
		 "\"neg\":\"-5\",\"long\":\"%s\",\"esc\":\"q\\\"\\n\",\"list\":\"[1,\\\"s\\\"]\","
		 "\"abcdef\":\"r1\",\"team\":\"t\"}}",
		 long_val);
	struct fd_ecs *e = fd_ecs_create();
	struct fd_record rec = {.signal = FD_SIGNAL_LOGS, .resource = rb, .payload = lr.buf,
				.payload_len = lr.len};
	for (int twice = 0; twice < 2; twice++) {
		struct fd_error err = {0};
		int rc;
		char *d = doc(e, &rec, &rc, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(d, want);
		free(d);
	}
	fd_ecs_destroy(e);
	pbw_finish(&res);
	pbw_finish(&lr);
	fd_intern_destroy(t);
}

/* @timestamp is fd_format_time's, record after record: within a second,
 * into the next and back, before 1970, the ends of int64_t. */
static void test_timestamps(void **state)
{
	(void)state;
	static const int64_t times[] = {1700000000123456789, 1700000000999999999, 1700000001000000000,
					1700000000000000001, -1, -999999999, -1000000000, -1000000001,
					INT64_MIN, INT64_MAX, 1};
	struct fd_ecs *e = fd_ecs_create();
	struct pbw lr = {0};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		pbw_reset(&lr);
		pbw_fixed64(&lr, 1, (uint64_t)times[i]);
		struct fd_record rec = {.signal = FD_SIGNAL_LOGS, .payload = lr.buf, .payload_len = lr.len};
		struct fd_error err = {0};
		int rc;
		char *d = doc(e, &rec, &rc, &err), t[64], want[128];
		assert_int_equal(rc, 0);
		snprintf(want, sizeof(want), "{\"@timestamp\":\"%s\",",
			 fd_format_time(t, sizeof(t), times[i]));
		print_message("%lld\n", (long long)times[i]);
		assert_memory_equal(d, want, strlen(want));
		free(d);
	}
	fd_ecs_destroy(e);
	pbw_finish(&lr);
}

/* An attribute in kvlists nested as deep as the shape check follows (an
 * attribute at depth 22 of the LogRecord) is written; one level more is
 * refused, plain as the innermost attribute is. */
static void test_nesting(void **state)
{
	(void)state;
	struct fd_ecs *e = fd_ecs_create();
	struct pbw lr = {0};
	for (int levels = 7; levels <= 8; levels++) {
		pbw_reset(&lr);
		size_t mark[3 * 8 + 1];
		int n = 0;
		mark[n++] = pbw_begin(&lr, 6); /* LogRecord.attributes */
		for (int i = 0; i < levels; i++) {
			pbw_string(&lr, 1, "kv");
			mark[n++] = pbw_begin(&lr, 2); /* KeyValue.value */
			mark[n++] = pbw_begin(&lr, 6); /* AnyValue.kvlist_value */
			mark[n++] = pbw_begin(&lr, 1); /* KeyValueList.values */
		}
		pbw_string(&lr, 1, "k");
		size_t v = pbw_begin(&lr, 2);
		pbw_string(&lr, 1, "v");
		pbw_end(&lr, v);
		while (n)
			pbw_end(&lr, mark[--n]);
		struct fd_record rec = {.time_ns = 5, .signal = FD_SIGNAL_LOGS, .payload = lr.buf,
					.payload_len = lr.len};
		struct fd_error err = {0};
		int rc;
		char *d = doc(e, &rec, &rc, &err);
		print_message("%d levels: %s%s\n", levels, d, err.msg);
		if (levels == 7) {
			assert_int_equal(rc, 0);
			assert_non_null(strstr(d, "{\\\"k\\\":\\\"v\\\"}}}}}}}\"}}"));
		} else {
			assert_int_equal(rc, -FD_EINPUT);
		}
		free(d);
	}
	fd_ecs_destroy(e);
	pbw_finish(&lr);
}

static void test_malformed(void **state)
{
	(void)state;
	struct fd_intern *t = fd_intern_create();
	static const uint8_t bad[] = {0x0a, 0x05, 'x'}; /* a length past the end */
	static const uint8_t good_lr[] = {0x09, 1, 0, 0, 0, 0, 0, 0, 0};
	const struct fd_blob *badb = fd_intern_add(t, bad, sizeof(bad));
	struct fd_ecs *e = fd_ecs_create();
	struct {
		const struct fd_blob *res, *scope;
		const uint8_t *payload;
		size_t len;
		const char *msg;
	} cases[] = {
		{NULL, NULL, bad, sizeof(bad), "malformed LogRecord payload"},
		{badb, NULL, good_lr, sizeof(good_lr), "malformed resource"},
		{NULL, badb, good_lr, sizeof(good_lr), "malformed scope"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fd_record rec = {.signal = FD_SIGNAL_LOGS, .resource = cases[i].res,
					.scope = cases[i].scope, .payload = cases[i].payload,
					.payload_len = cases[i].len};
		struct fd_error err = {0};
		int rc;
		char *d = doc(e, &rec, &rc, &err);
		assert_int_equal(rc, -FD_EINPUT);
		assert_string_equal(d, "");
		assert_non_null(strstr(err.msg, cases[i].msg));
		free(d);
	}
	struct fd_record span = {.signal = FD_SIGNAL_TRACES};
	struct fd_error err = {0};
	int rc;
	free(doc(e, &span, &rc, &err));
	assert_int_equal(rc, -FD_EINPUT);
	fd_ecs_destroy(e);
	fd_intern_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
