#include "otlp/wire.h"

#include <string.h>

/* A cursor over one message's fields. */
struct field {
	unsigned num, type;
	uint64_t v;          /* varint value */
	uint8_t *p;          /* fixed64/fixed32 position, or LEN payload */
	size_t len;          /* LEN payload length */
};

static int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	const uint8_t *p = *pp;
	for (int i = 0; i < 10; i++) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Reads the next field at *pp; returns 1, 0 at the end, -1 when malformed. */
static int next_field(uint8_t **pp, uint8_t *end, struct field *f)
{
	if (*pp == end)
		return 0;
	const uint8_t *p = *pp;
	uint64_t key;
	if (get_varint(&p, end, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -1;
	f->num = (unsigned)(key >> 3);
	f->type = (unsigned)(key & 7);
	switch (f->type) {
	case 0:
		if (get_varint(&p, end, &f->v) < 0)
			return -1;
		break;
	case 1:
		if (end - p < 8)
			return -1;
		f->p = (uint8_t *)p;
		p += 8;
		break;
	case 2: {
		uint64_t n;
		if (get_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
			return -1;
		f->p = (uint8_t *)p;
		f->len = (size_t)n;
		p += n;
		break;
	}
	case 5:
		if (end - p < 4)
			return -1;
		f->p = (uint8_t *)p;
		p += 4;
		break;
	default:
		return -1; /* groups (3, 4) do not occur in OTLP */
	}
	*pp = (uint8_t *)p;
	return 1;
}

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
	uint8_t *end = p + len;
	struct field f = {0};
	int rc;
	while ((rc = next_field(&p, end, &f)) > 0) {
		if (f.type == 1) {
			for (int i = 0; i < 3 && s->times[i]; i++)
				if (f.num == s->times[i])
					shift64(f.p, delta);
		} else if (f.type == 2) {
			for (int i = 0; i < 6 && s->kids[i].field; i++)
				if (f.num == s->kids[i].field &&
				    walk(f.p, f.len, s->kids[i].shape, delta, depth + 1) < 0)
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
	uint8_t *p = (uint8_t *)payload, *end = p + len;
	struct field f = {0};
	int rc;
	while ((rc = next_field(&p, end, &f)) > 0)
		if (f.num == 1 && f.type == 2 && f.len == 16) {
			*id = f.p;
			return 0;
		}
	return -1;
}

int fd_otlp_resource_service(const uint8_t *res, size_t len, char *out, size_t n)
{
	uint8_t *p = (uint8_t *)res, *end = p + len;
	struct field kv = {0};
	while (next_field(&p, end, &kv) > 0) {
		if (kv.num != 1 || kv.type != 2) /* Resource.attributes */
			continue;
		uint8_t *q = kv.p, *qend = kv.p + kv.len;
		struct field f = {0};
		const uint8_t *key = NULL, *val = NULL;
		size_t key_len = 0, val_len = 0;
		while (next_field(&q, qend, &f) > 0) {
			if (f.num == 1 && f.type == 2) {
				key = f.p;
				key_len = f.len;
			} else if (f.num == 2 && f.type == 2) { /* AnyValue */
				uint8_t *a = f.p, *aend = f.p + f.len;
				struct field g = {0};
				while (next_field(&a, aend, &g) > 0)
					if (g.num == 1 && g.type == 2) {
						val = g.p;
						val_len = g.len;
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
