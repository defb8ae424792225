#include "sinks/text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/attr_text.h"
#include "otlp/json.h"
#include "otlp/pbread.h"
#include "otlp/shape.h"
#include "otlp/wire.h"
#include "sinks/ecs.h"

static void ch(struct pbw *o, char c)
{
	pbw_raw(o, &c, 1);
}

/* A value on a one-record line: control characters escaped so that a
 * record never spans two lines; quoted when it would not read as one word. */
static void text_put(struct pbw *o, const uint8_t *v, size_t n, bool quote_if_needed)
{
	bool quote = false;
	if (quote_if_needed) {
		quote = n == 0;
		for (size_t i = 0; i < n && !quote; i++)
			quote = v[i] == ' ' || v[i] == '"' || v[i] == '=' || v[i] == '\t';
	}
	if (quote)
		ch(o, '"');
	for (size_t i = 0; i < n;) {
		/* the plain run up to the next character to escape, in one copy */
		size_t run = 0;
		while (i + run < n && v[i + run] >= 0x20 && v[i + run] != 0x7f &&
		       !(quote && (v[i + run] == '"' || v[i + run] == '\\')))
			run++;
		if (run) {
			pbw_raw(o, v + i, run);
			i += run;
			continue;
		}
		uint8_t c = v[i++];
		char esc[8];
		if (c == '\n')
			pbw_raw(o, "\\n", 2);
		else if (c == '\r')
			pbw_raw(o, "\\r", 2);
		else if (c == '\t')
			pbw_raw(o, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			pbw_raw(o, esc, (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c));
		else
			pbw_raw(o, (char[2]){'\\', (char)c}, 2); /* quoted '"' or '\\' */
	}
	if (quote)
		ch(o, '"');
}

/* " key=value" for each KeyValue field num of msg. */
static void attrs(struct pbw *o, struct pbw *tmp, const uint8_t *msg, size_t n, uint32_t num)
{
	struct fd_pb_reader r = fd_pb_reader(msg, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.num != num || f.type != PB_LEN)
			continue;
		const uint8_t *key, *val;
		size_t key_n, val_n;
		fd_otlp_keyvalue(f.p, f.n, &key, &key_n, &val, &val_n);
		pbw_reset(tmp);
		fd_otlp_attr_text_wire(tmp, val, val_n, val != NULL);
		o->oom |= tmp->oom;
		ch(o, ' ');
		text_put(o, key, key_n, true);
		ch(o, '=');
		text_put(o, tmp->buf, tmp->len, true);
	}
}

static void ids(struct pbw *o, const uint8_t *trace, size_t trace_n, const uint8_t *span,
		size_t span_n)
{
	char a[65], b[65];
	if (trace_n && trace_n <= 32 && span_n <= 32) {
		pbw_raw(o, " [trace=", 8);
		pbw_raw(o, fd_otlp_hex(a, trace, trace_n), 2 * trace_n);
		pbw_raw(o, " span=", 6);
		pbw_raw(o, fd_otlp_hex(b, span ? span : (const uint8_t *)"", span_n), 2 * span_n);
		ch(o, ']');
	}
}

static void head(struct pbw *o, const struct fd_record *rec, const char *kind)
{
	char ts[64], svc[128] = "-";
	if (rec->resource)
		fd_otlp_resource_service(rec->resource->data, rec->resource->len, svc, sizeof(svc));
	fd_format_time(ts, sizeof(ts), rec->time_ns);
	pbw_raw(o, ts, strlen(ts));
	ch(o, ' ');
	size_t k = strlen(kind);
	pbw_raw(o, kind, k);
	pbw_raw(o, "      ", (k < 5 ? 5 - k : 0) + 1); /* %-5s and a space */
	text_put(o, (const uint8_t *)svc, strlen(svc), true);
}

/* The body of length-delimited field num, NULL when absent. */
static const uint8_t *sub(const uint8_t *p, size_t n, uint32_t num, size_t *out_n)
{
	const uint8_t *s;
	fd_pb_find(p, n, num, &s, out_n);
	return s;
}

/* The last value of scalar field num (0 when absent). */
static uint64_t value_of(const uint8_t *p, size_t n, uint32_t num)
{
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	uint64_t v = 0;
	while (fd_pb_next(&r, &f) > 0)
		if (f.num == num)
			v = f.v;
	return v;
}

static void text_log(struct pbw *o, struct pbw *tmp, const struct fd_record *rec,
		     const uint8_t *lr, size_t n)
{
	size_t text_n, body_n, trace_n, span_n;
	const uint8_t *text = sub(lr, n, 3, &text_n), *body = sub(lr, n, 5, &body_n);
	const uint8_t *trace = sub(lr, n, 9, &trace_n), *span = sub(lr, n, 10, &span_n);
	char sev[32], buf[32], up[32];
	text_n = text ? fd_otlp_cstr_len(text, text_n) : 0;
	if (text_n > 31)
		text_n = 31;
	memcpy(sev, text ? (const char *)text : "", text_n);
	sev[text_n] = '\0';
	const char *level = fd_ecs_level((int32_t)(uint32_t)value_of(lr, n, 2), sev, buf);
	size_t i = 0;
	for (; level[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)(level[i] >= 'a' && level[i] <= 'z' ? level[i] - 'a' + 'A' : level[i]);
	up[i] = '\0';
	head(o, rec, i ? up : "-");
	ids(o, trace, trace_n, span, span_n);
	ch(o, ' ');
	pbw_reset(tmp);
	if (body)
		fd_otlp_attr_text_wire(tmp, body, body_n, true);
	o->oom |= tmp->oom;
	text_put(o, tmp->buf, tmp->len, false);
	attrs(o, tmp, lr, n, 6);
}

static void text_span(struct pbw *o, struct pbw *tmp, const struct fd_record *rec,
		      const uint8_t *sp, size_t n)
{
	size_t name_n, trace_n, span_n, status_n;
	const uint8_t *name = sub(sp, n, 5, &name_n), *trace = sub(sp, n, 1, &trace_n);
	const uint8_t *span = sub(sp, n, 2, &span_n), *status = sub(sp, n, 15, &status_n);
	double ms = (double)(int64_t)(value_of(sp, n, 8) - value_of(sp, n, 7)) / 1e6;
	char line[64];
	head(o, rec, "SPAN");
	ch(o, ' ');
	text_put(o, name, name ? fd_otlp_cstr_len(name, name_n) : 0, true);
	pbw_raw(o, line, (size_t)snprintf(line, sizeof(line), " %.3fms", ms));
	ids(o, trace, trace_n, span, span_n);
	if (status && (uint32_t)value_of(status, status_n, 3) ==
			      OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR) {
		pbw_raw(o, " status=ERROR", 13);
		size_t msg_n;
		const uint8_t *msg = sub(status, status_n, 2, &msg_n);
		msg_n = msg ? fd_otlp_cstr_len(msg, msg_n) : 0;
		if (msg_n) {
			pbw_raw(o, " status.message=", 16);
			text_put(o, msg, msg_n, true);
		}
	}
	attrs(o, tmp, sp, n, 9);
}

/* One line per data point (a metric without points still gets one). */
static void text_metric(struct pbw *o, struct pbw *tmp, const struct fd_record *rec,
			const uint8_t *m, size_t n)
{
	size_t name_n, data_n = 0;
	const uint8_t *name = sub(m, n, 1, &name_n), *data = NULL;
	uint32_t kind = 0;
	struct fd_pb_reader r = fd_pb_reader(m, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0)
		if (f.type == PB_LEN &&
		    (f.num == 5 || f.num == 7 || f.num == 9 || f.num == 10 || f.num == 11)) {
			kind = f.num;
			data = f.p;
			data_n = f.n;
		}
	name_n = name ? fd_otlp_cstr_len(name, name_n) : 0;
	/* the attributes' field number in each kind of data point */
	uint32_t attr_num = kind == 9 ? 9 : kind == 10 ? 1 : 7;
	bool any = false;
	r = fd_pb_reader(data, data_n);
	while (kind && fd_pb_next(&r, &f) > 0) {
		if (f.num != 1 || f.type != PB_LEN)
			continue;
		char v[96], d[32];
		if (kind == 5 || kind == 7) {
			struct fd_pb_reader q = fd_pb_reader(f.p, f.n);
			struct fd_pb_field g;
			bool is_int = false;
			uint64_t bits = 0;
			while (fd_pb_next(&q, &g) > 0)
				if (g.num == 4 || g.num == 6) {
					is_int = g.num == 6;
					bits = g.v;
				}
			double x;
			memcpy(&x, &bits, 8);
			if (is_int)
				snprintf(v, sizeof(v), "%lld", (long long)(int64_t)bits);
			else
				snprintf(v, sizeof(v), "%s", fd_format_double(d, x));
		} else {
			uint64_t bits = value_of(f.p, f.n, 5);
			double sum;
			memcpy(&sum, &bits, 8);
			snprintf(v, sizeof(v), "count=%llu sum=%s",
				 (unsigned long long)value_of(f.p, f.n, 4), fd_format_double(d, sum));
		}
		if (any)
			ch(o, '\n');
		any = true;
		head(o, rec, "METRIC");
		ch(o, ' ');
		text_put(o, name, name_n, true);
		ch(o, ' ');
		pbw_raw(o, v, strlen(v));
		attrs(o, tmp, f.p, f.n, attr_num);
	}
	if (!any) {
		head(o, rec, "METRIC");
		ch(o, ' ');
		text_put(o, name, name_n, true);
	}
}

int fd_text_record(const struct fd_record *rec, struct pbw *out, struct pbw work[2])
{
	static const ProtobufCMessageDescriptor *const desc[FD_SIGNAL_COUNT] = {
		&opentelemetry__proto__trace__v1__span__descriptor,
		&opentelemetry__proto__metrics__v1__metric__descriptor,
		&opentelemetry__proto__logs__v1__log_record__descriptor,
	};
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return -1;
	const uint8_t *p;
	size_t n;
	if (fd_otlp_canonical(desc[rec->signal], rec->payload, rec->payload_len, &work[0], &p,
			      &n) < 0) {
		out->oom |= work[0].oom;
		return -1;
	}
	/* work[0] may hold p: the values are rendered in work[1] */
	if (rec->signal == FD_SIGNAL_TRACES)
		text_span(out, &work[1], rec, p, n);
	else if (rec->signal == FD_SIGNAL_METRICS)
		text_metric(out, &work[1], rec, p, n);
	else
		text_log(out, &work[1], rec, p, n);
	out->oom |= work[1].oom;
	return 0;
}
