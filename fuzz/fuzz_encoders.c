/* Every encoder on one record built from the input (issue 20): the record
 * reaches the sinks' formats straight, without the recording reader's
 * checksums and limits in front of it, as a record received over OTLP or
 * read from a damaged recording would.
 *
 * Input: [signal][resource length, u16 LE][scope length, u16 LE] resource
 * scope payload. The record goes through the OTLP batch (protobuf request),
 * OTLP JSON, ECS (plain and data-stream), text and the Prometheus
 * conversion with its renderings. One property is checked besides memory
 * safety: a request the JSON encoder wrote must read back through the OTLP
 * JSON reader as the same signal, since record --from otlp-http takes what
 * our own otlp-http sink sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "fuzz/fuzz.h"
#include "otlp/batch.h"
#include "otlp/json.h"
#include "otlp/json_read.h"
#include "otlp/pbwrite.h"
#include "sinks/ecs.h"
#include "sinks/prom_series.h"
#include "sinks/text.h"

struct rendering {
	char *buf;
	size_t cap;
};

static int render_sample(void *ctx, const struct fd_prom_sample *s, struct fd_error *err)
{
	(void)err;
	char line[512], family[256];
	fd_prom_series_text(s, line, sizeof(line));
	fd_prom_text_family(s, family, sizeof(family));
	struct rendering *r = ctx;
	fd_prom_series_render(s, &r->buf, &r->cap);
	return 0;
}

static void json_round_trip(enum fd_signal sig, const struct pbw *request)
{
	struct pbw json = {0}, back = {0};
	struct fd_error err = {0};
	if (fd_otlp_json_encode(sig, request->buf, request->len, &json, &err) == 0) {
		enum fd_signal read_sig;
		if (fd_otlp_json_read((const char *)json.buf, json.len, (int)sig, &read_sig, &back,
				      &err) < 0 && !back.oom) {
			fprintf(stderr, "our OTLP JSON does not read back: %s\n%.*s\n", err.msg,
				(int)(json.len < 4096 ? json.len : 4096), (const char *)json.buf);
			abort();
		}
	}
	pbw_finish(&json);
	pbw_finish(&back);
}

static void encode_all(const struct fd_record *rec)
{
	struct fd_error err = {0};
	struct fd_otlp_batch *batch = fd_otlp_batch_create();
	struct pbw request = {0};
	if (batch && fd_otlp_batch_add(batch, rec) == 0 && fd_otlp_batch_encode(batch, &request) == 0)
		json_round_trip(rec->signal, &request);
	pbw_finish(&request);
	fd_otlp_batch_destroy(batch);

	struct pbw out = {0}, work[2] = {{0}, {0}};
	fd_text_record(rec, &out, work);
	pbw_finish(&work[0]);
	pbw_finish(&work[1]);

	struct fd_ecs *ecs[2] = {fd_ecs_create(), fd_ecs_create_stream("checkout", "prod")};
	for (int i = 0; i < 2; i++) {
		if (!ecs[i])
			continue;
		/* twice: the second document comes from what the encoder kept */
		for (int k = 0; k < 2; k++) {
			pbw_reset(&out);
			fd_ecs_encode(ecs[i], rec, &out, &err);
		}
		fd_ecs_destroy(ecs[i]);
	}
	pbw_finish(&out);

	struct fd_prom_conv *conv = fd_prom_conv_create();
	struct rendering rendered = {0};
	if (conv)
		fd_prom_conv_record(conv, rec, render_sample, &rendered, &err);
	free(rendered.buf);
	fd_prom_conv_destroy(conv);
}

static uint32_t get_u16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	size_t res_len = get_u16(data + 1), scope_len = get_u16(data + 3);
	if (5 + res_len + scope_len > size)
		return 0;
	/* copies, so ASan sees a read past any part's end */
	uint8_t *res = malloc(res_len ? res_len : 1), *scope = malloc(scope_len ? scope_len : 1);
	size_t payload_len = size - 5 - res_len - scope_len;
	uint8_t *payload = malloc(payload_len ? payload_len : 1);
	if (res && scope && payload) {
		memcpy(res, data + 5, res_len);
		memcpy(scope, data + 5 + res_len, scope_len);
		memcpy(payload, data + 5 + res_len + scope_len, payload_len);
		struct fd_blob res_blob = {.id = 1, .len = (uint32_t)res_len, .data = res};
		struct fd_blob scope_blob = {.id = 1, .len = (uint32_t)scope_len, .data = scope};
		struct fd_record rec = {
			.time_ns = 1700000000000000000 + (int64_t)size,
			.signal = (enum fd_signal)(data[0] % FD_SIGNAL_COUNT),
			.resource = &res_blob,
			.scope = &scope_blob,
			.payload = payload,
			.payload_len = payload_len,
		};
		encode_all(&rec);
	}
	free(res);
	free(scope);
	free(payload);
	return 0;
}
