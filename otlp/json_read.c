/*
 * OTLP/JSON -> protobuf, by walking protobuf-c descriptors (see the header
 * for the rules). The JSON tree comes from jansson; this file only maps it
 * onto the schema. Fields are visited in the descriptor's order, which
 * protoc-c sorts by field number, so the output is canonical whatever the
 * key order of the input.
 */
#include "otlp/json_read.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "otlp/json.h"

/* Message nesting we follow. The same bound as the encoder's wire check
 * (sinks/otlp_json.c): anything deeper would be refused there, and a
 * nested AnyValue chain must not recurse without limit here either. */
#define MAX_NEST 24

/* The path to the value being read, kept as a stack of keys and indices
 * and rendered only for an error message ("resourceSpans[0].scopeSpans[1]
 * .spans[3].endTimeUnixNano"): formatting it for every value would cost
 * more than the conversion. */
#define MAX_PATH (2 * MAX_NEST + 8)

struct step {
	const char *key; /* NULL: an array index */
	size_t index;
};

struct ctx {
	struct pbw *w;
	struct fd_error *err;
	struct step path[MAX_PATH];
	size_t depth;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[400], where[512];
	size_t n = 0;
	where[0] = '\0';
	for (size_t i = 0; i < c->depth && i < MAX_PATH && n < sizeof(where) - 1; i++) {
		int k = c->path[i].key
				? snprintf(where + n, sizeof(where) - n, "%s%s", i ? "." : "", c->path[i].key)
				: snprintf(where + n, sizeof(where) - n, "[%zu]", c->path[i].index);
		if (k > 0)
			n += (size_t)k < sizeof(where) - n ? (size_t)k : sizeof(where) - n - 1;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fd_error_set(c->err, FD_EINPUT, "%s: %s", n ? where : "(top level)", msg);
}

/* Steps deeper than MAX_PATH are counted, not stored: the message then
 * shows the first MAX_PATH steps. */
static void push_key(struct ctx *c, const char *key)
{
	if (c->depth < MAX_PATH)
		c->path[c->depth] = (struct step){.key = key};
	c->depth++;
}

static void push_index(struct ctx *c, size_t i)
{
	if (c->depth < MAX_PATH)
		c->path[c->depth] = (struct step){.index = i};
	c->depth++;
}

static void pop(struct ctx *c)
{
	c->depth--;
}

/* ---- scalars ---- */

static bool is_packable(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
	       t != PROTOBUF_C_TYPE_MESSAGE;
}

/* Decimal integer text, whole string, no spaces. */
static bool parse_int_text(const char *s, bool is_signed, int64_t *i, uint64_t *u)
{
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	char *end;
	errno = 0;
	if (is_signed) {
		long long v = strtoll(s, &end, 10);
		if (errno || *end)
			return false;
		*i = v;
	} else {
		if (*s == '-')
			return false;
		unsigned long long v = strtoull(s, &end, 10);
		if (errno || *end)
			return false;
		*u = v;
	}
	return true;
}

/* An integer field's value, as 64 bits: signed types sign-extended. */
static int read_integer(struct ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
			uint64_t *bits)
{
	bool is_signed = f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 ||
			 f->type == PROTOBUF_C_TYPE_SFIXED32 || f->type == PROTOBUF_C_TYPE_INT64 ||
			 f->type == PROTOBUF_C_TYPE_SINT64 || f->type == PROTOBUF_C_TYPE_SFIXED64;
	bool wide = f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_SINT64 ||
		    f->type == PROTOBUF_C_TYPE_SFIXED64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
		    f->type == PROTOBUF_C_TYPE_FIXED64;
	int64_t i = 0;
	uint64_t u = 0;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (!is_signed && n < 0)
			return fail(c, "%" JSON_INTEGER_FORMAT " is negative", n);
		i = n;
		u = (uint64_t)n;
	} else if (json_is_real(v)) {
		/* proto3 JSON accepts 1e3 for an integer when it is exact */
		double d = json_real_value(v);
		if (d != floor(d) || d < -9.2e18 || d > 1.8e19 || (!is_signed && d < 0))
			return fail(c, "%g is not an integer in range", d);
		if (is_signed) {
			if (d > 9.2e18)
				return fail(c, "%g is out of range", d);
			i = (int64_t)d;
		} else {
			u = (uint64_t)d;
		}
	} else if (json_is_string(v)) {
		if (!parse_int_text(json_string_value(v), is_signed, &i, &u))
			return fail(c, "'%.40s' is not a decimal %sinteger in range", json_string_value(v),
				    is_signed ? "" : "non-negative ");
	} else {
		return fail(c, "expected an integer (a number or a decimal string)");
	}
	if (!wide) {
		if (is_signed && (i < INT32_MIN || i > INT32_MAX))
			return fail(c, "%" PRId64 " does not fit in 32 bits", i);
		if (!is_signed && u > UINT32_MAX)
			return fail(c, "%" PRIu64 " does not fit in 32 bits", u);
	}
	*bits = is_signed ? (uint64_t)i : u;
	return 0;
}

static int read_double(struct ctx *c, const json_t *v, double *d)
{
	if (json_is_number(v)) {
		*d = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "NaN"))
			*d = NAN;
		else if (!strcmp(s, "Infinity"))
			*d = INFINITY;
		else if (!strcmp(s, "-Infinity"))
			*d = -INFINITY;
		else {
			char *end;
			errno = 0;
			*d = strtod(s, &end);
			if (!*s || *end || errno || !isfinite(*d))
				return fail(c, "'%.40s' is not a number", s);
		}
		return 0;
	}
	return fail(c, "expected a number");
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decodes a bytes value into a malloc'd buffer (*out, NULL when empty). */
static int read_bytes(struct ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
		      uint8_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!json_is_string(v))
		return fail(c, "expected a %s string", fd_otlp_json_is_hex(f) ? "hex" : "base64");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0)
		return 0;
	uint8_t *p = malloc(len); /* at least as long as the decoded bytes */
	if (!p)
		return fd_error_set(c->err, FD_ERUNTIME, "out of memory");
	size_t o = 0;
	bool hex = fd_otlp_json_is_hex(f) && len % 2 == 0;
	for (size_t i = 0; hex && i < len; i++)
		hex = hexval((unsigned char)s[i]) >= 0;
	if (hex) {
		for (size_t i = 0; i < len; i += 2)
			p[o++] = (uint8_t)(hexval((unsigned char)s[i]) << 4 | hexval((unsigned char)s[i + 1]));
	} else {
		/* ids are hex in OTLP/JSON, but some exporters follow protobuf's
		 * plain JSON mapping (base64): accepted when it gives a trace or
		 * span id's length */
		while (len && s[len - 1] == '=')
			len--;
		uint32_t acc = 0;
		int bits = 0;
		for (size_t i = 0; i < len; i++) {
			int x = b64val((unsigned char)s[i]);
			if (x < 0) {
				free(p);
				if (fd_otlp_json_is_hex(f))
					return fail(c, "'%.40s' is not a hex id", s);
				return fail(c, "not base64 (character %zu)", i + 1);
			}
			acc = acc << 6 | (uint32_t)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				p[o++] = (uint8_t)(acc >> bits);
			}
		}
		if (bits >= 6) {
			free(p);
			return fail(c, "base64 of impossible length");
		}
		if (fd_otlp_json_is_hex(f) && o != 16 && o != 8) {
			free(p);
			return fail(c, "'%.40s' is not a hex id", s);
		}
	}
	*out = p;
	*n = o;
	return 0;
}

/* ---- writing ---- */

static void raw_fixed(struct pbw *w, uint64_t v, int n)
{
	if (!pbw_room(w, (size_t)n))
		return;
	for (int i = 0; i < n; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

/* Reads a non-message, non-string value as the bits it is encoded with.
 * *zero tells whether it is the proto3 default (omitted unless present). */
static int read_number(struct ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
		       uint64_t *bits, bool *zero)
{
	double d;
	int rc = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_DOUBLE:
		if ((rc = read_double(c, v, &d)) < 0)
			return rc;
		memcpy(bits, &d, 8);
		break;
	case PROTOBUF_C_TYPE_FLOAT: {
		if ((rc = read_double(c, v, &d)) < 0)
			return rc;
		float x = (float)d;
		uint32_t b;
		memcpy(&b, &x, 4);
		*bits = b;
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(c, "expected true or false");
		*bits = json_is_true(v);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		if (json_is_string(v)) {
			const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value_by_name(
				f->descriptor, json_string_value(v));
			if (!e)
				return fail(c, "unknown value '%.40s'", json_string_value(v));
			*bits = (uint64_t)(int64_t)e->value;
		} else if (json_is_integer(v)) {
			json_int_t n = json_integer_value(v);
			if (n < INT32_MIN || n > INT32_MAX)
				return fail(c, "enum value %" JSON_INTEGER_FORMAT " out of range", n);
			*bits = (uint64_t)(int64_t)n;
		} else {
			return fail(c, "expected an enum number or name");
		}
		break;
	default:
		if ((rc = read_integer(c, f, v, bits)) < 0)
			return rc;
		break;
	}
	*zero = *bits == 0;
	return 0;
}

/* The encoding of a number's bits on the wire, without its tag. */
static void put_number(struct pbw *w, ProtobufCType t, uint64_t bits)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SINT32: {
		int32_t v = (int32_t)(int64_t)bits;
		pbw_raw_varint(w, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
		break;
	}
	case PROTOBUF_C_TYPE_SINT64: {
		int64_t v = (int64_t)bits;
		pbw_raw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
		break;
	}
	default:
		switch (fd_otlp_wire_type(t)) {
		case PB_FIXED64: raw_fixed(w, bits, 8); break;
		case PB_FIXED32: raw_fixed(w, bits, 4); break;
		default: pbw_raw_varint(w, bits); break;
		}
	}
}

static int put_message(struct ctx *c, const ProtobufCMessageDescriptor *d, json_t *obj,
		       int depth);

/* Fields the collector's marshaler writes as {} when absent (the encoder's
 * always_written list): an empty object there means "absent". */
static bool empty_means_absent(const ProtobufCFieldDescriptor *f, const json_t *v)
{
	static const char *const names[] = {"resource", "scope", "status", "value"};
	if (!json_is_object(v) || json_object_size(v) != 0)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(f->name, names[i]))
			return true;
	return false;
}

/* One value of field f (an element, for repeated fields). always: write it
 * even when it holds the default (oneof members, repeated elements,
 * proto3 optional). */
static int put_value(struct ctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
		     bool always, int depth)
{
	struct pbw *w = c->w;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (!always && empty_means_absent(f, v))
			return 0;
		size_t m = pbw_begin(w, f->id);
		int rc = put_message(c, f->descriptor, v, depth + 1);
		pbw_end(w, m);
		return rc;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		if (!json_is_string(v))
			return fail(c, "expected a string");
		size_t n = json_string_length(v);
		if (n || always)
			pbw_bytes(w, f->id, json_string_value(v), n);
		return 0;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		uint8_t *p;
		size_t n;
		int rc = read_bytes(c, f, v, &p, &n);
		if (rc < 0)
			return rc;
		if (n || always)
			pbw_bytes(w, f->id, p, n);
		free(p);
		return 0;
	}
	uint64_t bits;
	bool zero;
	int rc = read_number(c, f, v, &bits, &zero);
	if (rc < 0)
		return rc;
	if (zero && !always)
		return 0;
	pbw_tag(w, f->id, fd_otlp_wire_type(f->type));
	put_number(w, f->type, bits);
	return 0;
}

/* "startTimeUnixNano" -> "start_time_unix_nano": the proto name a
 * lowerCamelCase JSON key stands for. False when it does not fit. */
static bool snake(const char *key, char *out, size_t n)
{
	size_t o = 0;
	for (; *key; key++) {
		if (o + 2 >= n)
			return false;
		if (*key >= 'A' && *key <= 'Z') {
			out[o++] = '_';
			out[o++] = (char)(*key - 'A' + 'a');
		} else {
			out[o++] = *key;
		}
	}
	out[o] = '\0';
	return true;
}

/* The values of an object's known fields, by field index. Keys are mapped
 * onto fields (not fields looked up as keys) so that the cost follows the
 * keys present; the fields are then written in descriptor order. */
#define MAX_FIELDS 32

static int collect_fields(struct ctx *c, const ProtobufCMessageDescriptor *d, json_t *obj,
			  json_t *vals[MAX_FIELDS], const char *keys[MAX_FIELDS])
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		char name[64];
		if (!snake(key, name, sizeof(name)))
			continue;
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
		if (!f)
			continue; /* unknown: ignored, as OTLP/JSON requires */
		size_t i = (size_t)(f - d->fields);
		if (i >= MAX_FIELDS)
			continue;
		if (vals[i])
			return fail(c, "both '%s' and '%s' are given", keys[i], key);
		if (json_is_null(v))
			continue; /* proto3 JSON: null means the default */
		vals[i] = v;
		keys[i] = key;
	}
	return 0;
}

static int put_message(struct ctx *c, const ProtobufCMessageDescriptor *d, json_t *obj,
		       int depth)
{
	if (depth > MAX_NEST)
		return fail(c, "nested deeper than %d messages", MAX_NEST);
	if (!json_is_object(obj))
		return fail(c, "expected an object (%s)", d->short_name);
	if (d->n_fields > MAX_FIELDS) /* not in OTLP v1: a newer schema needs a larger table */
		return fd_error_set(c->err, FD_ERUNTIME, "otlp_json: %s has more than %d fields",
				    d->name, MAX_FIELDS);
	json_t *vals[MAX_FIELDS] = {0};
	const char *keys[MAX_FIELDS] = {0};
	int rc = collect_fields(c, d, obj, vals, keys);
	if (rc < 0)
		return rc;
	/* oneof members share a quantifier offset: at most one may be set */
	unsigned oneof_seen[8];
	size_t n_oneof = 0;
	for (unsigned i = 0; i < d->n_fields && i < MAX_FIELDS; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v = vals[i];
		if (!v)
			continue;
		push_key(c, keys[i]);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (!json_is_array(v)) {
				rc = fail(c, "expected an array");
			} else if (is_packable(f->type)) {
				/* proto3 packs repeated numbers: one length-delimited field */
				size_t m = json_array_size(v) ? pbw_begin(c->w, f->id) : 0;
				for (size_t k = 0; rc == 0 && k < json_array_size(v); k++) {
					uint64_t bits;
					bool zero;
					push_index(c, k);
					rc = read_number(c, f, json_array_get(v, k), &bits, &zero);
					pop(c);
					if (rc == 0)
						put_number(c->w, f->type, bits);
				}
				if (json_array_size(v))
					pbw_end(c->w, m);
			} else {
				for (size_t k = 0; rc == 0 && k < json_array_size(v); k++) {
					push_index(c, k);
					rc = put_value(c, f, json_array_get(v, k), true, depth);
					pop(c);
				}
			}
		} else {
			bool oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;
			if (oneof) {
				for (size_t k = 0; k < n_oneof; k++)
					if (oneof_seen[k] == f->quantifier_offset)
						rc = fail(c, "a second member of the same oneof");
				if (n_oneof < sizeof(oneof_seen) / sizeof(oneof_seen[0]))
					oneof_seen[n_oneof++] = f->quantifier_offset;
			}
			if (rc == 0)
				rc = put_value(c, f, v, oneof || f->label == PROTOBUF_C_LABEL_OPTIONAL,
					       depth);
		}
		pop(c);
		if (rc < 0)
			return rc;
	}
	if (c->w->oom)
		return fd_error_set(c->err, FD_ERUNTIME, "out of memory");
	return 0;
}

/* The top-level key of each request type, in both spellings. */
static const struct {
	const char *camel, *proto;
} requests[FD_SIGNAL_COUNT] = {
	[FD_SIGNAL_TRACES] = {"resourceSpans", "resource_spans"},
	[FD_SIGNAL_METRICS] = {"resourceMetrics", "resource_metrics"},
	[FD_SIGNAL_LOGS] = {"resourceLogs", "resource_logs"},
};

int fd_otlp_json_read(const char *text, size_t len, int expect, enum fd_signal *sig,
		      struct pbw *out, struct fd_error *err)
{
	pbw_reset(out);
	json_error_t jerr;
	/* Duplicate keys are rejected: which one would count is not defined. */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return fd_error_set(err, FD_EINPUT, "not JSON: %s (column %d)", jerr.text, jerr.column);
	struct ctx c = {.w = out, .err = err};
	int rc, found = -1;
	if (!json_is_object(root)) {
		rc = fail(&c, "expected an export request object");
		goto out;
	}
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		if (!json_object_get(root, requests[s].camel) && !json_object_get(root, requests[s].proto))
			continue;
		if (found >= 0) {
			rc = fail(&c, "both %s and %s", requests[found].camel, requests[s].camel);
			goto out;
		}
		found = s;
	}
	if (found < 0) {
		if (json_object_size(root) != 0 || expect < 0 || expect >= FD_SIGNAL_COUNT) {
			rc = fail(&c, "no resourceSpans, resourceMetrics or resourceLogs");
			goto out;
		}
		found = expect;
	}
	*sig = (enum fd_signal)found;
	rc = put_message(&c, fd_otlp_request_descriptor((enum fd_signal)found), root, 0);
out:
	json_decref(root);
	return rc;
}
