#include "otlp/attr_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/json.h"

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

