#include "otlp/attr_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/json.h"
#include "otlp/pbread.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

void fd_otlp_attr_json(struct fd_json *j, const AnyValue *v)
{
	char hex[129];
	switch (v ? v->value_case : OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		fd_json_string(j, v->string_value ? v->string_value : "");
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		fd_json_bool(j, v->bool_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		fd_json_int(j, v->int_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		fd_json_double(j, v->double_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
		size_t n = v->bytes_value.len < 64 ? v->bytes_value.len : 64; /* a label, not a dump */
		fd_json_string(j, fd_otlp_hex(hex, v->bytes_value.data, n));
		break;
	}
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		fd_json_array_begin(j);
		for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++)
			fd_otlp_attr_json(j, v->array_value->values[i]);
		fd_json_array_end(j);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		fd_json_object_begin(j);
		for (size_t i = 0; v->kvlist_value && i < v->kvlist_value->n_values; i++) {
			fd_json_key(j, v->kvlist_value->values[i]->key);
			fd_otlp_attr_json(j, v->kvlist_value->values[i]->value);
		}
		fd_json_object_end(j);
		break;
	default:
		fd_json_null(j);
		break;
	}
}

char *fd_otlp_attr_text(const AnyValue *v)
{
	char num[32];
	switch (v ? v->value_case : OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return strdup(v->string_value ? v->string_value : "");
	/* Scalars, the common case, as fd_otlp_attr_json writes them but without a
	 * memory stream per value. */
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		snprintf(num, sizeof(num), "%" PRId64, v->int_value);
		return strdup(num);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		return strdup(isfinite(v->double_value) ? fd_format_double(num, v->double_value)
							 : "null");
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		return strdup(v->bool_value ? "true" : "false");
	default:
		break;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct fd_json j;
	fd_json_init(&j, f, false);
	fd_otlp_attr_json(&j, v);
	if (fclose(f) != 0 || j.error) {
		free(buf);
		return NULL;
	}
	return buf;
}


/* ---- the same from the wire ----
 * For encoders that do not unpack records (ECS, text): the AnyValue bytes
 * are in the shape fd_otlp_canonical gives (one oneof member at most). */

struct any {
	uint32_t kind; /* the oneof member's field number; 0: no value */
	uint64_t v;
	const uint8_t *p;
	size_t n;
};

enum { ANY_STRING = 1, ANY_BOOL, ANY_INT, ANY_DOUBLE, ANY_ARRAY, ANY_KVLIST, ANY_BYTES };

static struct any any_read(const uint8_t *p, size_t n)
{
	struct any a = {0};
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	while (fd_pb_next(&r, &f) > 0)
		if (f.num >= ANY_STRING && f.num <= ANY_BYTES)
			a = (struct any){f.num, f.v, f.p, f.n};
	return a;
}

size_t fd_otlp_cstr_len(const uint8_t *p, size_t n)
{
	if (n > 64) {
		const uint8_t *nul = memchr(p, 0, n);
		return nul ? (size_t)(nul - p) : n;
	}
	/* keys and values are mostly short: eight bytes at a time, in line,
	 * cost less than a call of memchr (a few percent of an ECS replay) */
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		if ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL)
			break; /* a zero byte among these */
	}
	while (i < n && p[i])
		i++;
	return i;
}

void fd_otlp_out_quoted(struct pbw *o, const uint8_t *s, size_t n)
{
	if (pbw_room(o, FD_JSON_QUOTED_MAX(n)))
		o->len += fd_json_quote((char *)o->buf + o->len, (const char *)s, n);
}

static void out_int(struct pbw *o, int64_t v)
{
	char num[20];
	pbw_raw(o, num, fd_format_int(num, v));
}

static void out_double(struct pbw *o, uint64_t bits)
{
	double d;
	char num[32];
	memcpy(&d, &bits, 8);
	if (isfinite(d))
		pbw_raw(o, num, strlen(fd_format_double(num, d)));
	else
		pbw_raw(o, "null", 4);
}

static void any_json(struct pbw *o, struct any a)
{
	char hex[129];
	switch (a.kind) {
	case ANY_STRING:
		fd_otlp_out_quoted(o, a.p, fd_otlp_cstr_len(a.p, a.n));
		break;
	case ANY_BOOL:
		pbw_raw(o, a.v ? "true" : "false", a.v ? 4 : 5);
		break;
	case ANY_INT:
		out_int(o, (int64_t)a.v);
		break;
	case ANY_DOUBLE:
		out_double(o, a.v);
		break;
	case ANY_BYTES: {
		size_t k = a.n < 64 ? a.n : 64; /* a label, not a dump */
		fd_otlp_out_quoted(o, (const uint8_t *)fd_otlp_hex(hex, a.p, k), 2 * k);
		break;
	}
	case ANY_ARRAY:
	case ANY_KVLIST: {
		bool kv = a.kind == ANY_KVLIST, first = true;
		pbw_raw(o, kv ? "{" : "[", 1);
		struct fd_pb_reader r = fd_pb_reader(a.p, a.n);
		struct fd_pb_field f;
		while (fd_pb_next(&r, &f) > 0) {
			if (f.num != 1 || f.type != PB_LEN)
				continue;
			if (!first)
				pbw_raw(o, ",", 1);
			first = false;
			if (!kv) {
				fd_otlp_attr_json_wire(o, f.p, f.n, true);
				continue;
			}
			const uint8_t *key = (const uint8_t *)"", *val = NULL;
			size_t key_n = 0, val_n = 0;
			fd_otlp_keyvalue(f.p, f.n, &key, &key_n, &val, &val_n);
			fd_otlp_out_quoted(o, key, key_n);
			pbw_raw(o, ":", 1);
			fd_otlp_attr_json_wire(o, val, val_n, val != NULL);
		}
		pbw_raw(o, kv ? "}" : "]", 1);
		break;
	}
	default:
		pbw_raw(o, "null", 4);
		break;
	}
}

void fd_otlp_attr_json_wire(struct pbw *o, const uint8_t *p, size_t n, bool present)
{
	any_json(o, present ? any_read(p, n) : (struct any){0});
}

void fd_otlp_member_json(struct pbw *o, const struct fd_pb_field *member)
{
	any_json(o, (struct any){member->num, member->v, member->p, member->n});
}

void fd_otlp_attr_text_wire(struct pbw *o, const uint8_t *p, size_t n, bool present)
{
	struct any a = present ? any_read(p, n) : (struct any){0};
	switch (a.kind) {
	case ANY_STRING:
		pbw_raw(o, a.p, fd_otlp_cstr_len(a.p, a.n));
		break;
	case ANY_INT:
	case ANY_DOUBLE:
	case ANY_BOOL:
	default:
		/* scalars read the same as JSON; the rest is compact JSON */
		fd_otlp_attr_json_wire(o, p, n, present);
		break;
	}
}

void fd_otlp_keyvalue(const uint8_t *p, size_t n, const uint8_t **key, size_t *key_n,
		      const uint8_t **val, size_t *val_n)
{
	struct fd_pb_reader r = fd_pb_reader(p, n);
	struct fd_pb_field f;
	*key = (const uint8_t *)"";
	*key_n = 0;
	*val = NULL;
	*val_n = 0;
	while (fd_pb_next(&r, &f) > 0) {
		if (f.num == 1 && f.type == PB_LEN) {
			*key = f.p;
			*key_n = fd_otlp_cstr_len(f.p, f.n);
		} else if (f.num == 2 && f.type == PB_LEN) {
			*val = f.p ? f.p : (const uint8_t *)"";
			*val_n = f.n;
		}
	}
}
