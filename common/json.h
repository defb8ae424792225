/*
 * A small streaming JSON writer: enough for inspect --json and the OTLP/JSON
 * and ECS encoders, with correct string escaping (control characters and
 * invalid UTF-8 never leak into the output) and shortest round-trip numbers.
 *
 * Output goes to a FILE through a buffer of its own (one fwrite per token
 * cost a third of a JSON replay); the buffer is flushed whenever a top-level
 * value is complete, so text written to the FILE between values stays in
 * order. The first write error is sticky in fd_json.error.
 */
#ifndef FD_JSON_H
#define FD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FD_JSON_MAX_DEPTH 64

struct fd_json {
	FILE *f;
	int depth;
	bool need_comma[FD_JSON_MAX_DEPTH];
	bool after_key;
	bool pretty;
	int error; /* errno of the first failed write, 0 when fine */
	size_t blen;
	char buf[16384];
};

/* Writes out what is buffered (done automatically after each top-level
 * value). */
void fd_json_flush(struct fd_json *j);

void fd_json_init(struct fd_json *j, FILE *f, bool pretty);
void fd_json_object_begin(struct fd_json *j);
void fd_json_object_end(struct fd_json *j);
void fd_json_array_begin(struct fd_json *j);
void fd_json_array_end(struct fd_json *j);
void fd_json_key(struct fd_json *j, const char *key);
/* A key of n bytes that needs no escaping (an identifier): written as is. */
void fd_json_key_plain(struct fd_json *j, const char *key, size_t n);
void fd_json_string(struct fd_json *j, const char *s);
void fd_json_string_n(struct fd_json *j, const char *s, size_t n);
/* The JSON string literal of s[0..n), quotes included, into out, which has
 * room for FD_JSON_QUOTED_MAX(n) bytes: the escaping every string written
 * here gets (control characters escaped, invalid UTF-8 as U+FFFD). Returns
 * the bytes written. For encoders that build JSON in memory of their own. */
#define FD_JSON_QUOTED_MAX(n) (6 * (size_t)(n) + 2)
size_t fd_json_quote(char *out, const char *s, size_t n);
/* A value already encoded as JSON, written as it is. */
void fd_json_raw(struct fd_json *j, const char *s, size_t n);
void fd_json_int(struct fd_json *j, int64_t v);
/* v in decimal as %lld writes it, without printf (encoders write one or
 * more per record): into buf, which has room for 20 bytes; no NUL.
 * Returns the length. */
size_t fd_format_int(char *buf, int64_t v);
void fd_json_uint(struct fd_json *j, uint64_t v);
void fd_json_double(struct fd_json *j, double v); /* NaN and infinities become null */
void fd_json_bool(struct fd_json *j, bool v);
void fd_json_null(struct fd_json *j);

/* Shortest text that reads back as exactly v ("0.1", "1e-05", "1"); buf
 * needs 32 bytes. Returns buf. */
char *fd_format_double(char buf[32], double v);

#endif
