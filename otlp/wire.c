#include "otlp/wire.h"

#include <string.h>

#include "otlp/pbread.h"

static void shift64(uint8_t *p, int64_t delta)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (v == 0)
		return;
	v += (uint64_t)delta;
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Shifts the fixed64 fields numbered in times[] and recurses into the
 * nested messages described by kids. */
struct shape {
	unsigned times[3];
	struct {
		unsigned field;
		const struct shape *shape;
	} kids[6];
};

static int walk(uint8_t *p, size_t len, const struct shape *s, int64_t delta, int depth)
{
	if (depth > 8)
		return -1;
	/* the reader's pointers are const; the field's place in p is not */
	struct fd_pb_reader r = fd_pb_reader(p, len);
	struct fd_pb_field f;
	int rc;
	while ((rc = fd_pb_next(&r, &f)) > 0) {
		uint8_t *at = p + (f.p - (const uint8_t *)p);
		if (f.type == PB_FIXED64) {
			for (int i = 0; i < 3 && s->times[i]; i++)
				if (f.num == s->times[i])
					shift64(at, delta);
		} else if (f.type == PB_LEN) {
			for (int i = 0; i < 6 && s->kids[i].field; i++)
				if (f.num == s->kids[i].field &&
				    walk(at, f.n, s->kids[i].shape, delta, depth + 1) < 0)
					return -1;
		}
	}
	return rc;
}

/* opentelemetry.proto field numbers */
static const struct shape exemplar = {{2}, {{0, NULL}}};
static const struct shape number_point = {{2, 3}, {{5, &exemplar}}};
static const struct shape histogram_point = {{2, 3}, {{8, &exemplar}}};
static const struct shape exp_histogram_point = {{2, 3}, {{11, &exemplar}}};
static const struct shape summary_point = {{2, 3}, {{0, NULL}}};
static const struct shape gauge_or_sum = {{0}, {{1, &number_point}}};
static const struct shape histogram = {{0}, {{1, &histogram_point}}};
static const struct shape exp_histogram = {{0}, {{1, &exp_histogram_point}}};
static const struct shape summary = {{0}, {{1, &summary_point}}};
static const struct shape metric = {
	{0}, {{5, &gauge_or_sum}, {7, &gauge_or_sum}, {9, &histogram}, {10, &exp_histogram}, {11, &summary}}};
static const struct shape span_event = {{1}, {{0, NULL}}};
static const struct shape span = {{7, 8}, {{11, &span_event}}};
static const struct shape log_record = {{1, 11}, {{0, NULL}}};

int fd_otlp_rebase(enum fd_signal sig, uint8_t *payload, size_t len, int64_t delta)
{
	const struct shape *s = sig == FD_SIGNAL_TRACES ? &span
			      : sig == FD_SIGNAL_METRICS ? &metric : &log_record;
	return walk(payload, len, s, delta, 0) < 0 ? -1 : 0;
}

int fd_otlp_span_trace_id(const uint8_t *payload, size_t len, const uint8_t **id)
{
	struct fd_pb_reader r = fd_pb_reader(payload, len);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0)
		if (f.num == 1 && f.type == PB_LEN && f.n == 16) {
			*id = f.p;
			return 0;
		}
	return -1;
}

int fd_otlp_resource_service(const uint8_t *res, size_t len, char *out, size_t n)
{
	struct fd_pb_reader r = fd_pb_reader(res, len);
	struct fd_pb_field kv;
	while (fd_pb_next(&r, &kv) > 0) {
		if (kv.num != 1 || kv.type != PB_LEN) /* Resource.attributes */
			continue;
		struct fd_pb_reader q = fd_pb_reader(kv.p, kv.n);
		struct fd_pb_field f;
		const uint8_t *key = NULL, *val = NULL;
		size_t key_len = 0, val_len = 0;
		while (fd_pb_next(&q, &f) > 0) {
			if (f.num == 1 && f.type == PB_LEN) {
				key = f.p;
				key_len = f.n;
			} else if (f.num == 2 && f.type == PB_LEN) { /* AnyValue */
				struct fd_pb_reader a = fd_pb_reader(f.p, f.n);
				struct fd_pb_field g;
				while (fd_pb_next(&a, &g) > 0)
					if (g.num == 1 && g.type == PB_LEN) {
						val = g.p;
						val_len = g.n;
					}
			}
		}
		if (key && val && key_len == 12 && memcmp(key, "service.name", 12) == 0) {
			size_t m = val_len < n - 1 ? val_len : n - 1;
			memcpy(out, val, m);
			out[m] = '\0';
			return 0;
		}
	}
	return -1;
}
