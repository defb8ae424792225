/*
 * dir:PATH and file:PATH — OTLP files as the collector's file exporter
 * writes them, and as firedrill's dir: sink writes them:
 *   - JSON lines: one export request per line (format: json);
 *   - length-delimited protobuf: each request preceded by its length as a
 *     4-byte big-endian integer (format: proto).
 * A file's first byte tells which: '{' starts a JSON line, while a
 * protobuf frame starts with the high byte of its length, which is '{'
 * (0x7b) only for a frame of 2 GB or more. Files may mix signals (the
 * collector writes every signal to one file): each message's signal is
 * read from it, unless the file name says (traces*, spans*, metrics*,
 * logs*, as the dir: sink names its files).
 *
 * dir:PATH reads the directory's regular files whose names end in .jsonl,
 * .json, .ndjson or .pb, in name order; others are skipped. A malformed
 * JSON line is reported with file:line and skipped; a protobuf frame that
 * cannot be framed (a length over 64 MiB, a file cut short) ends that file,
 * since nothing after it can be trusted to start a frame.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sources/registry.h"
#include "sources/source.h"

#define MAX_FRAME (64u << 20)

/* Files are read side by side, not one after the other: a directory of
 * traces.jsonl, metrics.jsonl and logs.jsonl holds three streams over the
 * same time range. next() takes the next message from the file whose last
 * message was the oldest (the capture reports message times back through
 * done()), a merge that keeps the reorder window small. Past MAX_MERGE
 * files (a directory of rotated files) they are read one after the other. */
#define MAX_MERGE 64

struct file {
	char *path;
	int signal; /* from the name, or -1 */
	FILE *f;
	bool opened, done, json;
	uint64_t line, frame, offset;
	int64_t time; /* the latest record time of its last message */
	Firedrill__V1__SourceFile meta;
};

struct file_source {
	struct fd_source base; /* first: the interface casts between them */
	struct file *files;
	size_t n_files;
	size_t cur; /* the file of the message last handed out */
	char *buf;
	size_t cap;
	Firedrill__V1__RecordSource meta;
	Firedrill__V1__SourceFile **file_ptrs;
};

static int name_signal(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strncmp(base, "traces", 6) || !strncmp(base, "spans", 5))
		return FD_SIGNAL_TRACES;
	if (!strncmp(base, "metrics", 7))
		return FD_SIGNAL_METRICS;
	if (!strncmp(base, "logs", 4))
		return FD_SIGNAL_LOGS;
	return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int add_file(struct file_source *s, const char *path, struct fd_error *err)
{
	struct file *v = realloc(s->files, (s->n_files + 1) * sizeof(*v));
	if (!v)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->files = v;
	struct file *f = &s->files[s->n_files];
	firedrill__v1__source_file__init(&f->meta);
	f->path = strdup(path);
	if (!f->path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	f->meta.path = f->path;
	f->signal = name_signal(path);
	f->f = NULL;
	f->opened = f->done = f->json = false;
	f->line = f->frame = f->offset = 0;
	f->time = INT64_MIN;
	s->n_files++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(struct file_source *s, const char *dir, struct fd_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return fd_error_set(err, errno == ENOENT || errno == ENOTDIR ? FD_EINPUT : FD_ERUNTIME,
				    "cannot read directory '%s': %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *nm = e->d_name;
		if (nm[0] == '.' || !(ends_with(nm, ".jsonl") || ends_with(nm, ".json") ||
				      ends_with(nm, ".ndjson") || ends_with(nm, ".pb")))
			continue;
		size_t len = strlen(dir) + strlen(nm) + 2;
		char *path = malloc(len);
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!path || !v) {
			free(path);
			if (v)
				names = v;
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
			break;
		}
		names = v;
		snprintf(path, len, "%s/%s", dir, nm);
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		names[n++] = path;
	}
	closedir(d);
	if (rc == 0 && n > 1) /* names is NULL when the directory is empty */
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = add_file(s, names[i], err);
		free(names[i]);
	}
	free(names);
	if (rc == 0 && s->n_files == 0)
		rc = fd_error_set(err, FD_EINPUT,
				  "directory '%s' has no .jsonl, .json, .ndjson or .pb files", dir);
	return rc;
}

static bool reserve(struct file_source *s, size_t n)
{
	if (n <= s->cap)
		return true;
	char *p = realloc(s->buf, n);
	if (!p)
		return false;
	s->buf = p;
	s->cap = n;
	return true;
}

static int open_file(struct file *f, struct fd_error *err)
{
	f->opened = true;
	f->f = fopen(f->path, "rb");
	if (!f->f)
		return fd_error_set(err, FD_ERUNTIME, "cannot open '%s': %s", f->path, strerror(errno));
	int c;
	do
		c = getc(f->f);
	while (c == ' ' || c == '\t' || c == '\r' || c == '\n');
	f->json = c == '{' || c == EOF;
	f->meta.format = f->json ? "otlp_json" : "otlp_proto";
	rewind(f->f);
	return 0;
}

static void close_file(struct file *f)
{
	if (f->f)
		fclose(f->f);
	f->f = NULL;
	f->done = true;
}

/* The file to read next: the open one with the oldest last message; with
 * many files, the first not finished. -1 when all are done. */
static ssize_t pick(const struct file_source *s)
{
	ssize_t best = -1;
	for (size_t i = 0; i < s->n_files; i++) {
		const struct file *f = &s->files[i];
		if (f->done)
			continue;
		if (s->n_files > MAX_MERGE)
			return (ssize_t)i;
		if (best < 0 || f->time < s->files[best].time)
			best = (ssize_t)i;
	}
	return best;
}

static int next_json(struct file_source *s, struct file *f, struct fd_source_msg *m,
		     struct fd_error *err)
{
	for (;;) {
		errno = 0;
		ssize_t n = getline(&s->buf, &s->cap, f->f);
		if (n < 0) {
			if (ferror(f->f))
				return fd_error_set(err, FD_ERUNTIME, "reading '%s': %s", f->path,
						    strerror(errno));
			return 0;
		}
		f->line++;
		size_t len = (size_t)n;
		while (len && (s->buf[len - 1] == '\n' || s->buf[len - 1] == '\r'))
			len--;
		size_t i = 0;
		while (i < len && (s->buf[i] == ' ' || s->buf[i] == '\t'))
			i++;
		if (i == len)
			continue; /* blank line */
		m->data = (const uint8_t *)s->buf;
		m->len = len;
		m->format = FD_OTLP_JSON;
		snprintf(m->where, sizeof(m->where), "%s:%llu", f->path, (unsigned long long)f->line);
		return 1;
	}
}

static int next_proto(struct file_source *s, struct file *f, struct fd_source_msg *m,
		      struct fd_error *err)
{
	uint8_t h[4];
	size_t got = fread(h, 1, 4, f->f);
	if (got == 0 && !ferror(f->f))
		return 0;
	snprintf(m->where, sizeof(m->where), "%s: frame %llu at byte offset %llu", f->path,
		 (unsigned long long)f->frame + 1, (unsigned long long)f->offset);
	if (ferror(f->f))
		return fd_error_set(err, FD_ERUNTIME, "reading '%s': %s", f->path, strerror(errno));
	uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	m->format = FD_OTLP_PROTO;
	if (got < 4 || n > MAX_FRAME) {
		/* no way to find the next frame: report this one, end the file */
		m->data = NULL;
		m->len = 0;
		return got < 4 ? -1 : -2;
	}
	if (!reserve(s, n ? n : 1))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	size_t r = fread(s->buf, 1, n, f->f);
	if (r < n) {
		if (ferror(f->f))
			return fd_error_set(err, FD_ERUNTIME, "reading '%s': %s", f->path, strerror(errno));
		return -1;
	}
	f->frame++;
	f->offset += 4 + (uint64_t)n;
	m->data = (const uint8_t *)s->buf;
	m->len = n;
	return 1;
}

static int file_next(struct fd_source *base, struct fd_source_msg *m, int timeout_ms,
		     struct fd_error *err)
{
	struct file_source *s = (struct file_source *)base;
	(void)timeout_ms;
	for (;;) {
		ssize_t i = pick(s);
		if (i < 0)
			return 0;
		struct file *f = &s->files[i];
		if (!f->opened && open_file(f, err) < 0)
			return -FD_ERUNTIME;
		s->cur = (size_t)i;
		m->signal = f->signal;
		m->time_ns = 0;
		m->broken = NULL;
		int rc = f->json ? next_json(s, f, m, err) : next_proto(s, f, m, err);
		if (rc == 1)
			return 1;
		if (rc == -1 || rc == -2) {
			/* A framing error: reported and counted like any malformed
			 * message, then on with the other files. */
			m->broken = rc == -1 ? "file cut short inside this frame; rest of file skipped"
					     : "frame length over 64 MiB; rest of file skipped";
			m->data = NULL;
			m->len = 0;
			close_file(f);
			return 1;
		}
		if (rc < 0)
			return rc;
		close_file(f);
	}
}

static void file_done(struct fd_source *base, const struct fd_source_msg *m, int records,
		      int64_t max_time, bool malformed)
{
	struct file_source *s = (struct file_source *)base;
	(void)m;
	struct file *f = &s->files[s->cur];
	f->meta.messages++;
	if (malformed)
		f->meta.malformed++;
	if (records > 0 && max_time > f->time)
		f->time = max_time;
}

static int64_t file_watermark(struct fd_source *base)
{
	struct file_source *s = (struct file_source *)base;
	int64_t wm = INT64_MAX;
	for (size_t i = 0; i < s->n_files; i++) {
		if (s->files[i].done)
			continue;
		if (s->n_files > MAX_MERGE) /* one after the other: only this one */
			return s->files[i].time;
		if (s->files[i].time < wm)
			wm = s->files[i].time;
	}
	return wm;
}

static const Firedrill__V1__RecordSource *file_metadata(struct fd_source *base)
{
	struct file_source *s = (struct file_source *)base;
	for (size_t i = 0; i < s->n_files; i++)
		s->file_ptrs[i] = &s->files[i].meta;
	s->meta.n_files = s->n_files;
	s->meta.files = s->file_ptrs;
	return &s->meta;
}

static void file_destroy(struct fd_source *base)
{
	struct file_source *s = (struct file_source *)base;
	for (size_t i = 0; i < s->n_files; i++) {
		if (s->files[i].f)
			fclose(s->files[i].f);
		free(s->files[i].path);
	}
	free(s->files);
	free(s->file_ptrs);
	free(s->buf);
	free(s->meta.uri);
	free(s);
}

static const struct fd_source_impl file_impl = {
	.name = "file",
	.next = file_next,
	.done = file_done,
	.watermark = file_watermark,
	.metadata = file_metadata,
	.destroy = file_destroy,
};

static int open_files(const char *uri, const char *path, bool is_dir, struct fd_source **out,
		      struct fd_error *err)
{
	*out = NULL;
	if (!*path)
		return fd_error_set(err, FD_EINPUT, "source '%s': no path", uri);
	struct file_source *s = calloc(1, sizeof(*s));
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->base.impl = &file_impl;
	firedrill__v1__record_source__init(&s->meta);
	s->meta.uri = strdup(uri);
	s->meta.format = "detect";
	int rc = s->meta.uri ? 0 : fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0 && is_dir) {
		rc = list_dir(s, path, err);
	} else if (rc == 0) {
		struct stat st;
		if (stat(path, &st) != 0)
			rc = fd_error_set(err, errno == ENOENT ? FD_EINPUT : FD_ERUNTIME,
					  "source '%s': %s", uri, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = fd_error_set(err, FD_EINPUT, "source '%s' is a directory: use dir:%s", uri,
					  path);
		else
			rc = add_file(s, path, err);
	}
	if (rc == 0 && !(s->file_ptrs = calloc(s->n_files ? s->n_files : 1, sizeof(*s->file_ptrs))))
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc < 0) {
		file_destroy(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* Files say their format by their first byte and their signal by their
 * name or content (docs/record.md): no options. A path may hold a '?'. */
static int dir_open(const char *uri, const char *rest, const struct fd_source_context *ctx,
		    struct fd_source **out, struct fd_error *err)
{
	(void)ctx;
	return open_files(uri, rest, true, out, err);
}

static int file_open(const char *uri, const char *rest, const struct fd_source_context *ctx,
		     struct fd_source **out, struct fd_error *err)
{
	(void)ctx;
	return open_files(uri, rest, false, out, err);
}

static const char *const no_options[] = {NULL};

const struct fd_source_descriptor fd_source_dir_descriptor = {
	.scheme = "dir",
	.synopsis = "dir:PATH",
	.summary = "its *.jsonl, *.json, *.ndjson and *.pb files, by name",
	.options = no_options,
	.open = dir_open,
};

const struct fd_source_descriptor fd_source_file_descriptor = {
	.scheme = "file",
	.synopsis = "file:PATH",
	.summary = "one file",
	.options = no_options,
	.open = file_open,
};
