#include "otlp/pbwrite.h"

#include <stdlib.h>

bool pbw_grow(struct pbw *w, size_t n)
{
	if (w->oom)
		return false;
	size_t cap = w->cap ? w->cap : 1024;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->oom = true;
			return false;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(w->buf, cap);
	if (!p) {
		w->oom = true;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

void pbw_finish(struct pbw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	w->oom = false;
}

void pbw_end_slow(struct pbw *w, size_t mark, size_t body)
{
	size_t extra = pbw_varint_len(body) - 1;
	if (!pbw_room(w, extra))
		return;
	memmove(w->buf + mark + extra, w->buf + mark, body);
	uint8_t *p = w->buf + mark - 1;
	uint64_t v = body;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
	w->len += extra;
}
