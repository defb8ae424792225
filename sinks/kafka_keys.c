#include "sinks/kafka_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "otlp/attr_text.h"

struct fd_kafka_keys {
	unsigned which; /* FD_KAFKA_KEY_* */
	/* FD_KAFKA_KEY_RESOURCE: the key of each resource blob id, once */
	uint8_t (*res_key)[8];
	bool *res_key_set;
	size_t n_res_key;
};

struct fd_kafka_keys *fd_kafka_keys_create(unsigned which)
{
	struct fd_kafka_keys *k = calloc(1, sizeof(*k));
	if (k)
		k->which = which;
	return k;
}

void fd_kafka_keys_destroy(struct fd_kafka_keys *k)
{
	if (!k)
		return;
	free(k->res_key);
	free(k->res_key_set);
	free(k);
}

/* partition=resource: fd_hash64 over the resource's attributes as sorted
 * "key\0value\0" pairs (values as fd_otlp_attr_text renders them), so
 * attribute order in the serialized resource does not matter. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int resource_key(struct fd_kafka_keys *s, const struct fd_blob *res, uint8_t key[8],
			struct fd_error *err)
{
	uint32_t id = res ? res->id : UINT32_MAX;
	if (res && id < s->n_res_key && s->res_key_set[id]) {
		memcpy(key, s->res_key[id], 8);
		return 0;
	}
	uint64_t h = fd_hash64("", 0);
	if (res && res->len) {
		Opentelemetry__Proto__Resource__V1__Resource *r = (void *)fd_otlp_json_unpack(
			&opentelemetry__proto__resource__v1__resource__descriptor, res->data, res->len,
			NULL);
		if (!r)
			return fd_error_set(err, FD_EINPUT, "malformed resource (%u bytes)", res->len);
		size_t n = r->n_attributes, total = 0;
		char **pairs = calloc(n ? n : 1, sizeof(*pairs));
		int rc = pairs ? 0 : -1;
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *v = fd_otlp_attr_text(r->attributes[i]->value);
			size_t kl = strlen(r->attributes[i]->key), vl = v ? strlen(v) : 0;
			pairs[i] = v ? malloc(kl + vl + 2) : NULL;
			if (pairs[i]) {
				memcpy(pairs[i], r->attributes[i]->key, kl + 1);
				memcpy(pairs[i] + kl + 1, v, vl + 1);
				total += kl + vl + 2;
			} else {
				rc = -1;
			}
			free(v);
		}
		uint8_t *buf = rc == 0 ? malloc(total ? total : 1) : NULL;
		if (buf) {
			/* sort by key then value: the key is a prefix ending in NUL */
			qsort(pairs, n, sizeof(*pairs), cmp_str);
			size_t off = 0;
			for (size_t i = 0; i < n; i++) {
				size_t kl = strlen(pairs[i]) + 1;
				size_t vl = strlen(pairs[i] + kl) + 1;
				memcpy(buf + off, pairs[i], kl + vl);
				off += kl + vl;
			}
			h = fd_hash64(buf, off);
		}
		free(buf);
		for (size_t i = 0; pairs && i < n; i++)
			free(pairs[i]);
		free(pairs);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (!buf)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(h >> (56 - 8 * i));
	if (!res)
		return 0;
	if (id >= s->n_res_key) {
		size_t n = s->n_res_key ? s->n_res_key : 64;
		while (n <= id)
			n *= 2;
		uint8_t(*k)[8] = realloc(s->res_key, n * sizeof(*k));
		if (k)
			s->res_key = k;
		bool *set = k ? realloc(s->res_key_set, n * sizeof(*set)) : NULL;
		if (!set) /* an error like any other: the allocation sweep
			   * (tests/test_failalloc.c) expects one */
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		memset(set + s->n_res_key, 0, (n - s->n_res_key) * sizeof(*set));
		s->res_key_set = set;
		s->n_res_key = n;
	}
	memcpy(s->res_key[id], key, 8);
	s->res_key_set[id] = true;
	return 0;
}

/* The record's message key: its trace id (spans, partition=trace_id), its
 * resource's hash (metrics and logs, partition=resource), or none. */
int fd_kafka_keys_of(struct fd_kafka_keys *s, const struct fd_record *rec, uint8_t key[16],
		     uint8_t *keylen, struct fd_error *err)
{
	*keylen = 0;
	if (rec->signal == FD_SIGNAL_TRACES && (s->which & FD_KAFKA_KEY_TRACE_ID)) {
		const uint8_t *id;
		if (fd_otlp_span_trace_id(rec->payload, rec->payload_len, &id) == 0) {
			memcpy(key, id, 16);
			*keylen = 16;
		}
		return 0;
	}
	if (rec->signal != FD_SIGNAL_TRACES && (s->which & FD_KAFKA_KEY_RESOURCE)) {
		*keylen = 8;
		return resource_key(s, rec->resource, key, err);
	}
	return 0;
}

