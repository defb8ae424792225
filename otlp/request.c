#include "otlp/request.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/json.h"
#include "otlp/arena.h"
#include "otlp/json.h"
#include "otlp/pbwrite.h"

/* Halving a request n times needs n pairs of batches; they are kept for
 * the next request. 2^40 records never fit in memory, so 40 levels do. */
#define MAX_DEPTH 40

struct fd_otlp_encoder {
	struct pbw pb;
	struct fd_pb_arena scratch;
	struct fd_json json;
	struct fd_otlp_batch *half[MAX_DEPTH][2];
};

struct fd_otlp_encoder *fd_otlp_encoder_create(void)
{
	struct fd_otlp_encoder *e = calloc(1, sizeof(*e));
	if (e)
		fd_pb_arena_init(&e->scratch);
	return e;
}

void fd_otlp_encoder_destroy(struct fd_otlp_encoder *e)
{
	if (!e)
		return;
	pbw_finish(&e->pb);
	fd_pb_arena_free(&e->scratch);
	for (int i = 0; i < MAX_DEPTH; i++) {
		fd_otlp_batch_destroy(e->half[i][0]);
		fd_otlp_batch_destroy(e->half[i][1]);
	}
	free(e);
}

static int oom(struct fd_error *err)
{
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

static int emit(struct fd_otlp_encoder *e, const struct fd_otlp_batch *b, int depth,
		enum fd_otlp_encoding enc, size_t limit, fd_otlp_request_fn fn, void *ctx,
		struct fd_error *err)
{
	size_t n = fd_otlp_batch_count(b);
	if (n == 0)
		return 0;
	enum fd_signal sig = fd_otlp_batch_signal(b);
	int64_t first = fd_otlp_batch_first_time(b);
	/* the exact size is known: one allocation, no regrowth while encoding */
	pbw_reset(&e->pb);
	if (!pbw_room(&e->pb, fd_otlp_batch_size(b)) || fd_otlp_batch_encode(b, &e->pb) < 0)
		return oom(err);
	if (enc == FD_OTLP_ENCODING_PROTO) {
		/* the buffer goes to fn as it is; the pbw starts a new one */
		uint8_t *body = e->pb.buf;
		size_t len = e->pb.len;
		e->pb = (struct pbw){0};
		return fn(ctx, sig, body, len, n, first, err);
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return oom(err);
	fd_json_init(&e->json, f, false);
	int rc = fd_otlp_json_export(sig, e->pb.buf, e->pb.len, &e->scratch, &e->json, err);
	if (fclose(f) != 0 && rc == 0)
		rc = oom(err);
	if (rc < 0) {
		free(text);
		return rc;
	}
	if (len <= limit || n == 1 || depth == MAX_DEPTH)
		return fn(ctx, sig, (uint8_t *)text, len, n, first, err);
	free(text);
	struct fd_otlp_batch **h = e->half[depth];
	for (int i = 0; i < 2; i++)
		if (!h[i] && !(h[i] = fd_otlp_batch_create()))
			return oom(err);
	if (fd_otlp_batch_split(b, n / 2, h[0], h[1]) < 0)
		return oom(err);
	rc = emit(e, h[0], depth + 1, enc, limit, fn, ctx, err);
	return rc < 0 ? rc : emit(e, h[1], depth + 1, enc, limit, fn, ctx, err);
}

int fd_otlp_encoder_emit(struct fd_otlp_encoder *e, const struct fd_otlp_batch *b,
			 enum fd_otlp_encoding enc, size_t json_limit, fd_otlp_request_fn fn,
			 void *ctx, struct fd_error *err)
{
	return emit(e, b, 0, enc, json_limit, fn, ctx, err);
}
