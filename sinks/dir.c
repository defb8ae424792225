/*
 * dir:PATH[?format=...] — one file per signal in a directory — and the
 * machinery stdout: shares (sink_files.h).
 *
 * Formats (format=):
 *   otlp_json   traces.jsonl, metrics.jsonl, logs.jsonl: one
 *               Export*ServiceRequest per line in OTLP/JSON, as the
 *               collector's file exporter writes with format: json. The
 *               default.
 *   otlp_proto  traces.pb, metrics.pb, logs.pb: export requests in
 *               protobuf, each preceded by its length as a 4-byte big-endian
 *               unsigned integer. That is the collector's file exporter
 *               framing for format: proto (exportMessageAsBuffer in
 *               exporter/fileexporter/file_writer.go of
 *               opentelemetry-collector-contrib), not protobuf's
 *               writeDelimitedTo (a varint prefix): we pick the collector's
 *               so that files from either tool read the same way.
 *   ecs         logs.ndjson: one Elastic Common Schema document per line
 *               (ecs.h), for Filebeat or Logstash.
 *   bulk        logs.bulk.000001.ndjson, logs.bulk.000002.ndjson...:
 *               Elasticsearch _bulk request bodies, each at most
 *               batch_bytes (default 5MB, Elastic's advice; its
 *               http.max_content_length is 100MB), of
 *               {"create":{"_index":"logs-firedrill-default"}} then the ECS
 *               document with event.dataset and data_stream.* of that data
 *               stream, ready for curl --data-binary @... to _bulk. create
 *               because the index is a data stream (logs-*-* matches the
 *               built-in logs template), whose only accepted op is create.
 *   text        logs.log (and traces.log, metrics.log): one human-readable
 *               line per record.
 *   openmetrics metrics.om: the metrics as OpenMetrics text for promtool's
 *               backfill; a sink of its own (sink_openmetrics.c), taking
 *               the option buffer= instead of the batch options.
 * ecs and bulk have no form for spans and metrics: those are counted and
 * skipped, and close says so through the context's notice.
 *
 * Batching (the OTLP formats, sinks/batcher.h, the same policy as
 * kafka://): each signal has its own requests, written out when one holds
 * batch_records records (default 512), when the next record would push it
 * over batch_bytes (default 1 MiB, in the format written: an otlp_json
 * request whose JSON line comes out longer is split in halves; a request is
 * larger only when one record alone is), when the next record's time is more than batch_window
 * (default 1s) after the request's oldest, on flush and on close.
 *
 * Files are written as NAME.tmp-RANDOM and renamed into place by close
 * (common/outfile.h: the umask's mode, fsync of file and directory; every
 * file is synced before any is renamed);
 * destroy without close removes them, so a failed run leaves no partial
 * output. A signal without records gets no file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"
#include "sinks/ecs.h"
#include "otlp/batch.h"
#include "common/monotime.h"
#include "sinks/batcher.h"
#include "sinks/encoders.h"
#include "otlp/json.h"
#include "sinks/files.h"
#include "sinks/options.h"
#include "sinks/registry.h"
#include "sinks/text.h"
#include "common/suggest.h"
#include "common/units.h"

enum format { F_OTLP_JSON, F_OTLP_PROTO, F_ECS, F_BULK, F_TEXT };

static const struct {
	const char *name;
	const char *file[FD_SIGNAL_COUNT]; /* NULL: the format has no form for the signal */
} formats[] = {
	[F_OTLP_JSON] = {"otlp_json", {"traces.jsonl", "metrics.jsonl", "logs.jsonl"}},
	[F_OTLP_PROTO] = {"otlp_proto", {"traces.pb", "metrics.pb", "logs.pb"}},
	[F_ECS] = {"ecs", {NULL, NULL, "logs.ndjson"}},
	[F_BULK] = {"bulk", {NULL, NULL, "logs.bulk.ndjson"}}, /* numbered: see output() */
	[F_TEXT] = {"text", {"traces.log", "metrics.log", "logs.log"}},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

#define BULK_INDEX "logs-firedrill-default"
#define BULK_DATASET "firedrill"
#define BULK_NAMESPACE "default"
#define BULK_BATCH_BYTES 5000000

struct output {
	FILE *f;                /* file.f, or stdout */
	struct fd_outfile file; /* dir: only: the file being written */
	uint64_t bytes;         /* in the file being written */
	unsigned seq;           /* numbered files: the current one's number */
	/* format=bulk writes several files per signal: those written and
	 * closed, waiting for close to rename them into place */
	struct fd_outfile *done;
	size_t n_done;
};

struct files_sink {
	struct fd_sink base; /* first: the interface casts between them */
	enum format format;
	size_t batch_records, batch_bytes;
	int64_t batch_window;
	char *dir; /* NULL: standard output */
	struct output out[FD_SIGNAL_COUNT];
	struct fd_batcher *batcher; /* the OTLP formats */
	bool batch_bytes_given;
	struct pbw pb;
	struct pbw line; /* one output line, reused */
	struct fd_ecs *ecs; /* format=ecs and bulk */
	struct pbw work[2]; /* format=text */
	struct fd_pb_arena scratch; /* decoding, reset per record or request */
	uint64_t skipped[FD_SIGNAL_COUNT];
	/* The line formats (ecs, bulk, text) write a line per record, which
	 * is too fine to be a send: with live statistics, their time in this
	 * sink (encoding and writing) is counted as one send per
	 * batch_records lines. */
	bool timed;
	size_t unit_n;
	int64_t unit_ns;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
	/* Standard output other than a terminal: lines gathered into chunks
	 * of about STDOUT_CHUNK, each one write(2) (stdio's 4 KiB writes were
	 * a sixth of a replay into a pipe); a chunk goes out once it is full
	 * or STDOUT_DELAY old at the next line, so a reader at the other end
	 * of a paced replay gets lines no later than with stdio's buffer. */
	bool chunked;
	struct pbw pend;
	int64_t pend_since;
	/* Worker threads encoding otlp_json, ecs, bulk and text (sinks/encoders.h);
	 * NULL: encoded here, as records come. */
	struct fd_encoders *enc;
	unsigned threads;
	bool paced;
};

#define STDOUT_CHUNK (64 * 1024)
#define STDOUT_DELAY_NS 100000000

/* ---- options ---- */

/* The OTLP and text formats' options: the first N_OPTIONS of these; buffer
 * is openmetrics.c's. */
const char *const fd_files_option_names[] = {"format", "batch_records", "batch_bytes",
					     "batch_window", "threads", "buffer", NULL};
#define option_names fd_files_option_names
#define N_OPTIONS 5

static int parse_format(const char *uri, const char *name, enum format *out, struct fd_error *err)
{
	const char *names[N_FORMATS];
	for (size_t i = 0; i < N_FORMATS; i++) {
		names[i] = formats[i].name;
		if (strcmp(name, formats[i].name) == 0) {
			*out = (enum format)i;
			return 0;
		}
	}
	const char *best = fd_suggest(name, names, N_FORMATS);
	return fd_error_set(err, FD_EINPUT,
			    "sink '%s': unknown format '%s'%s%s%s (known: otlp_json, otlp_proto, ecs, "
			    "bulk, text, openmetrics)",
			    uri, name, best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "");
}

static int bad_value(const char *uri, const char *key, const char *val, const char *why,
		     struct fd_error *err)
{
	return fd_error_set(err, FD_EINPUT, "sink '%s': option '%s': '%s': %s", uri, key, val, why);
}

static int set_option(struct files_sink *s, const char *uri, const char *key, const char *val,
		      struct fd_error *err)
{
	const char *why = NULL;
	if (strcmp(key, "format") == 0)
		return parse_format(uri, val, &s->format, err);
	if (strcmp(key, "batch_records") == 0) {
		long long n;
		if (fd_units_integer(val, 1, 100000000, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		s->batch_records = (size_t)n;
	} else if (strcmp(key, "batch_bytes") == 0) {
		int64_t n;
		if (fd_units_size(val, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		if (n < 1 || n > (int64_t)UINT32_MAX) /* the proto framing has 32 bits */
			return bad_value(uri, key, val, "must be between 1 and 4294967295 bytes", err);
		s->batch_bytes = (size_t)n;
		s->batch_bytes_given = true;
	} else if (strcmp(key, "batch_window") == 0) {
		if (fd_units_duration(val, &s->batch_window, &why) < 0)
			return bad_value(uri, key, val, why, err);
	} else if (strcmp(key, "threads") == 0) {
		long long n;
		if (fd_units_integer(val, 0, 64, &n, &why) < 0)
			return bad_value(uri, key, val, why, err);
		s->threads = (unsigned)n;
	}
	return 0;
}

struct option_ctx {
	struct files_sink *s;
	const char *uri;
};

static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	(void)idx;
	struct option_ctx *c = ctx;
	return set_option(c->s, c->uri, key, val, err);
}

/* ---- output files ---- */

/* mkdir -p: every missing component, as a directory the user can read. */
int fd_files_make_dirs(const char *uri, const char *path, struct fd_error *err)
{
	char *p = strdup(path);
	if (!p)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			int e = errno;
			int rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot create directory %s: %s",
					      uri, p, strerror(e));
			free(p);
			return rc;
		}
		*c = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': %s is not a directory", uri, path);
	return 0;
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* The signal's output, created on first use. */
static FILE *output(struct files_sink *s, enum fd_signal sig, struct fd_error *err)
{
	struct output *o = &s->out[sig];
	if (o->f)
		return o->f;
	if (!s->dir) {
		o->f = stdout;
		return o->f;
	}
	char name[64];
	o->seq++;
	if (s->format == F_BULK)
		snprintf(name, sizeof(name), "logs.bulk.%06u.ndjson", o->seq);
	else
		snprintf(name, sizeof(name), "%s", formats[s->format].file[sig]);
	char *path = join(s->dir, "/", name);
	if (!path) {
		fd_error_set(err, FD_ERUNTIME, "out of memory");
		return NULL;
	}
	o->bytes = 0;
	int rc = fd_outfile_init(&o->file, path, err);
	free(path);
	if (rc < 0) {
		fd_error_prefix(err, "sink '%s'", s->base.uri);
		return NULL;
	}
	o->f = o->file.f;
	return o->f;
}

/* Lines out to standard output, past stdio: its fwrite of a chunk larger
 * than its 4 KiB buffer made three write(2) (the first 4 KiB, the whole
 * blocks after them, the rest at the fflush). Whatever stdio holds goes
 * first, so that the order stays. */
static int write_stdout(struct files_sink *s, const uint8_t *p, size_t n, struct fd_error *err)
{
	bool ok = n == 0 || fflush(stdout) == 0;
	while (ok && n) {
		ssize_t k = write(STDOUT_FILENO, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		ok = k > 0;
		if (ok) {
			p += k;
			n -= (size_t)k;
		}
	}
	if (!ok)
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing standard output: %s",
				    s->base.uri, strerror(errno));
	return 0;
}

/* The gathered lines out. */
static int pend_flush(struct files_sink *s, struct fd_error *err)
{
	size_t n = s->pend.len;
	s->pend.len = 0;
	return write_stdout(s, s->pend.buf, n, err);
}

static int put_bytes(struct files_sink *s, enum fd_signal sig, const void *p, size_t n,
		     struct fd_error *err)
{
	FILE *f = output(s, sig, err);
	if (!f)
		return -err->code;
	if (s->chunked && n >= STDOUT_CHUNK) {
		/* a run of lines from the workers (sinks/encoders.h) as long as
		 * a chunk goes out from where it is, after what is gathered:
		 * copying it was a tenth of a replay's time */
		s->out[sig].bytes += n;
		int rc = pend_flush(s, err);
		return rc < 0 ? rc : write_stdout(s, p, n, err);
	}
	if (s->chunked) {
		/* the clock only where lines can come seconds apart: a call per
		 * line is a few percent of an unpaced replay's time */
		int64_t now = s->paced ? fd_mono_ns() : 0;
		if (s->pend.len == 0)
			s->pend_since = now;
		pbw_raw(&s->pend, p, n);
		if (s->pend.oom)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		s->out[sig].bytes += n;
		if (s->pend.len >= STDOUT_CHUNK || now - s->pend_since >= STDOUT_DELAY_NS)
			return pend_flush(s, err);
		return 0;
	}
	if (n && fwrite(p, 1, n, f) != n)
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing %s: %s", s->base.uri,
				    s->dir ? s->out[sig].file.path : "standard output", strerror(errno));
	s->out[sig].bytes += n;
	if (s->dir)
		fd_outfile_wrote(&s->out[sig].file, n);
	return 0;
}

/* format=bulk: the current file is done when the next unit would take it
 * past batch_bytes; it is closed now and renamed into place by close. */
static int rotate(struct files_sink *s, enum fd_signal sig, size_t next, struct fd_error *err)
{
	struct output *o = &s->out[sig];
	if (s->format != F_BULK || !s->dir || !o->f || !o->bytes || o->bytes + next <= s->batch_bytes)
		return 0;
	struct fd_outfile *d = realloc(o->done, (o->n_done + 1) * sizeof(*d));
	if (!d)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	o->done = d;
	d[o->n_done] = o->file; /* it moves to the list */
	o->file = (struct fd_outfile){0};
	o->f = NULL;
	if (fd_outfile_close(&d[o->n_done++], err) < 0)
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	return 0;
}

/* ---- encoding ---- */

static int oom(struct fd_error *err)
{
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

/* An export request's OTLP/JSON line, its '\n' included, appended to line
 * (pb: the request's protobuf, memory kept between calls). Returns 0,
 * FD_BATCHER_SPLIT when the line would be over batch_bytes and the request
 * has records to halve, or an error. */
static int json_line(const struct files_sink *s, enum fd_signal sig, const struct fd_otlp_batch *b,
		     struct pbw *pb, struct pbw *line, struct fd_error *err)
{
	if (fd_otlp_batch_encode(b, pb) < 0)
		return oom(err);
	size_t mark = line->len;
	int rc = fd_otlp_json_encode(sig, pb->buf, pb->len, line, err);
	if (rc < 0)
		return err->code == FD_EINPUT ? fd_error_prefix(err, "sink '%s'", s->base.uri) : rc;
	/* batch_bytes limits the line written, not the protobuf the batcher
	 * counts: a longer line goes again in halves */
	if (fd_otlp_batch_count(b) > 1 && line->len - mark + 1 > s->batch_bytes) {
		line->len = mark;
		return FD_BATCHER_SPLIT;
	}
	if (pbw_room(line, 1))
		line->buf[line->len++] = '\n';
	return line->oom ? oom(err) : 0;
}

/* One record's line in a line format (ecs, bulk, text), its '\n'
 * included, appended to line; *ecs is made at the first record. */
static int record_line(const struct files_sink *s, struct fd_ecs **ecs, struct pbw work[2],
		       const struct fd_record *rec, struct pbw *line, struct fd_error *err)
{
	static const char *const what[] = {"Span", "Metric", "LogRecord"};
	static const char action[] = "{\"create\":{\"_index\":\"" BULK_INDEX "\"}}\n";
	int rc;
	if (s->format == F_ECS || s->format == F_BULK) {
		if (!*ecs && !(*ecs = s->format == F_BULK ? fd_ecs_create_stream(BULK_DATASET, BULK_NAMESPACE)
							  : fd_ecs_create()))
			return oom(err);
		if (s->format == F_BULK)
			pbw_raw(line, action, sizeof(action) - 1);
		if ((rc = fd_ecs_encode(*ecs, rec, line, err)) < 0)
			return fd_error_prefix(err, "sink '%s'", s->base.uri);
	} else if (fd_text_record(rec, line, work) < 0) {
		fd_error_set(err, FD_EINPUT, "text: malformed %s payload (%zu bytes)", what[rec->signal],
			     rec->payload_len);
		return fd_error_prefix(err, "sink '%s'", s->base.uri);
	}
	if (pbw_room(line, 1))
		line->buf[line->len++] = '\n';
	return line->oom ? oom(err) : 0;
}

/* A line out to its signal's file; format=bulk starts the next file first
 * when this one is full. */
static int put_line(void *ctx, enum fd_signal sig, const uint8_t *p, size_t n, struct fd_error *err)
{
	struct files_sink *s = ctx;
	int rc = rotate(s, sig, n, err);
	return rc < 0 ? rc : put_bytes(s, sig, p, n, err);
}

/* ---- encoding on worker threads (sinks/encoders.h) ---- */

/* What a worker keeps: the sink's own encoding state, one per thread. */
struct worker {
	struct files_sink *s; /* read only, but for the atomic live statistics */
	struct fd_otlp_batch *batch, *part;
	struct pbw pb;
	struct fd_ecs *ecs;
	struct pbw work[2];
	size_t unit_n;
	int64_t unit_ns;
};

static void *worker_create(void *ctx)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (w && !(w->batch = fd_otlp_batch_create())) {
		free(w);
		return NULL;
	}
	if (w)
		w->s = ctx;
	return w;
}

static void worker_destroy(void *state)
{
	struct worker *w = state;
	fd_otlp_batch_destroy(w->batch);
	pbw_finish(&w->pb);
	fd_ecs_destroy(w->ecs);
	pbw_finish(&w->work[0]);
	pbw_finish(&w->work[1]);
	free(w);
}

/* A request's lines, halved as the batcher halves it (sinks/batcher.c)
 * while a line is too long, so that the lines are those one thread
 * writes. */
static int json_request(struct worker *w, enum fd_signal sig, const struct fd_otlp_batch *b,
			struct fd_encoded *out, struct fd_error *err)
{
	int rc = json_line(w->s, sig, b, &w->pb, &out->bytes, err);
	if (rc == 0)
		return fd_encoded_line(out, sig) < 0 ? oom(err) : 0;
	if (rc != FD_BATCHER_SPLIT)
		return rc;
	size_t n = fd_otlp_batch_count(b);
	size_t cut[3] = {0, n / 2, n};
	for (int h = 0; h < 2 && rc >= 0; h++) {
		struct fd_otlp_batch *part = fd_otlp_batch_create();
		rc = part ? 0 : oom(err);
		for (size_t i = cut[h]; i < cut[h + 1] && rc == 0; i++) {
			struct fd_record r;
			fd_otlp_batch_get(b, i, &r);
			if (fd_otlp_batch_add(part, &r) < 0)
				rc = oom(err);
		}
		if (rc == 0)
			rc = json_request(w, sig, part, out, err);
		fd_otlp_batch_destroy(part);
	}
	return rc < 0 ? rc : 0;
}

static int worker_encode(void *state, const struct fd_record *recs, size_t n, struct fd_encoded *out,
			 struct fd_error *err)
{
	struct worker *w = state;
	const struct files_sink *s = w->s;
	/* a unit is one record in the line formats: the clock only for live
	 * statistics */
	int64_t t0 = s->format == F_OTLP_JSON || s->timed ? fd_mono_ns() : 0;
	int rc = 0;
	if (s->format == F_OTLP_JSON) {
		fd_otlp_batch_reset(w->batch);
		for (size_t i = 0; i < n && rc == 0; i++)
			if (fd_otlp_batch_add(w->batch, &recs[i]) < 0)
				rc = oom(err);
		if (rc == 0)
			rc = json_request(w, recs[0].signal, w->batch, out, err);
		/* a file's "send" is encoding and writing one request */
		if (rc == 0)
			fd_sink_live_send(&w->s->base, fd_mono_ns() - t0);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = record_line(s, &w->ecs, w->work, &recs[i], &out->bytes, err)) == 0 &&
		    fd_encoded_line(out, recs[i].signal) < 0)
			rc = oom(err);
	if (rc == 0 && s->timed) {
		w->unit_ns += fd_mono_ns() - t0;
		if ((w->unit_n += n) >= s->batch_records) {
			fd_sink_live_send(&w->s->base, w->unit_ns);
			w->unit_n = 0;
			w->unit_ns = 0;
		}
	}
	return rc;
}

/* ---- OTLP batches ---- */

/* One request of the batcher (sinks/batcher.h): written out, or handed to
 * the workers. */
static int emit_request(void *ctx, enum fd_signal sig, const struct fd_otlp_batch *b,
			const uint8_t *key, size_t keylen, struct fd_error *err)
{
	(void)key, (void)keylen;
	struct files_sink *s = ctx;
	int rc = 0;
	if (s->enc) {
		size_t n = fd_otlp_batch_count(b);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct fd_record r;
			fd_otlp_batch_get(b, i, &r);
			rc = fd_encoders_record(s->enc, &r, err);
		}
		return rc < 0 ? rc : fd_encoders_unit_end(s->enc, err);
	}
	int64_t t0 = fd_mono_ns();
	if (s->format == F_OTLP_PROTO) {
		if (fd_otlp_batch_encode(b, &s->pb) < 0)
			return oom(err);
		uint32_t n = (uint32_t)s->pb.len;
		uint8_t prefix[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				     (uint8_t)n};
		rc = put_bytes(s, sig, prefix, 4, err);
		if (rc == 0)
			rc = put_bytes(s, sig, s->pb.buf, s->pb.len, err);
	} else {
		/* the line is made in memory of its own, kept from one request to
		 * the next, and written whole */
		pbw_reset(&s->line);
		rc = json_line(s, sig, b, &s->pb, &s->line, err);
		if (rc == FD_BATCHER_SPLIT)
			return rc;
		if (rc == 0)
			rc = put_bytes(s, sig, s->line.buf, s->line.len, err);
	}
	/* a file's "send" is encoding and writing one request */
	if (rc == 0)
		fd_sink_live_send(&s->base, fd_mono_ns() - t0);
	return rc;
}

/* ---- the sink ---- */

/* One line per record (per data point of a metric, in text), or a bulk
 * action line and a document. */
static int write_unit(struct files_sink *s, const struct fd_record *rec, struct fd_error *err)
{
	if (s->enc) {
		int rc = fd_encoders_record(s->enc, rec, err);
		return rc < 0 ? rc : fd_encoders_unit_end(s->enc, err);
	}
	pbw_reset(&s->line);
	int rc = record_line(s, &s->ecs, s->work, rec, &s->line, err);
	return rc < 0 ? rc : put_line(s, rec->signal, s->line.buf, s->line.len, err);
}

/* The lines written since the last send, as one send. */
static void unit_send(struct files_sink *s)
{
	if (s->unit_n)
		fd_sink_live_send(&s->base, s->unit_ns);
	s->unit_n = 0;
	s->unit_ns = 0;
}

static int files_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	if (!formats[s->format].file[rec->signal]) {
		s->skipped[rec->signal]++;
		return 0;
	}
	if (s->format == F_OTLP_JSON || s->format == F_OTLP_PROTO)
		return fd_batcher_add(s->batcher, rec, NULL, 0, err);
	/* the workers time their own encoding */
	if (!s->timed || s->enc)
		return write_unit(s, rec, err);
	int64_t t0 = fd_mono_ns();
	int rc = write_unit(s, rec, err);
	s->unit_ns += fd_mono_ns() - t0;
	if (rc == 0 && ++s->unit_n >= s->batch_records)
		unit_send(s);
	return rc;
}

static int files_flush(struct fd_sink *sink, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	int rc = s->batcher ? fd_batcher_flush(s->batcher, err) : 0;
	if (rc == 0 && s->enc)
		rc = fd_encoders_drain(s->enc, err);
	if (s->timed)
		unit_send(s);
	if (rc == 0)
		rc = pend_flush(s, err);
	for (int i = 0; rc == 0 && i < FD_SIGNAL_COUNT; i++)
		if (s->out[i].f && fflush(s->out[i].f) != 0)
			rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': writing: %s", sink->uri,
					  strerror(errno));
	return rc;
}

static void report_skipped(struct files_sink *s)
{
	if (!s->notice || !(s->skipped[0] || s->skipped[1] || s->skipped[2]))
		return;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "sink '%s': format=%s writes logs only: skipped %llu spans and %llu metrics",
		 s->base.uri, formats[s->format].name, (unsigned long long)s->skipped[0],
		 (unsigned long long)s->skipped[1]);
	s->notice(s->notice_ctx, msg);
}

static int files_close(struct fd_sink *sink, struct fd_error *err)
{
	struct fd_error local;
	if (!err)
		err = &local; /* the helpers read err->code */
	struct files_sink *s = (struct files_sink *)sink;
	int rc = files_flush(sink, err);
	if (rc < 0)
		return rc;
	for (int i = 0; s->dir && i < FD_SIGNAL_COUNT; i++) {
		s->out[i].f = NULL;
		if (fd_outfile_close(&s->out[i].file, err) < 0)
			return fd_error_prefix(err, "sink '%s'", sink->uri);
	}
	/* every file is on disk: only now does any of them take its name */
	for (int i = 0; s->dir && i < FD_SIGNAL_COUNT; i++) {
		struct output *o = &s->out[i];
		for (size_t k = 0; k < o->n_done; k++)
			if (o->done[k].tmp && fd_outfile_commit(&o->done[k], err) < 0)
				return fd_error_prefix(err, "sink '%s'", sink->uri);
		if (o->file.tmp && fd_outfile_commit(&o->file, err) < 0)
			return fd_error_prefix(err, "sink '%s'", sink->uri);
	}
	report_skipped(s);
	return 0;
}

static void files_destroy(struct fd_sink *sink)
{
	struct files_sink *s = (struct files_sink *)sink;
	fd_encoders_destroy(s->enc); /* first: its workers read the sink */
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		struct output *o = &s->out[i];
		/* not committed: no partial output */
		fd_outfile_finish(&o->file);
		for (size_t k = 0; k < o->n_done; k++)
			fd_outfile_finish(&o->done[k]);
		free(o->done);
	}
	fd_batcher_destroy(s->batcher);
	fd_pb_arena_free(&s->scratch);
	pbw_finish(&s->pb);
	pbw_finish(&s->line);
	pbw_finish(&s->pend);
	fd_ecs_destroy(s->ecs);
	pbw_finish(&s->work[0]);
	pbw_finish(&s->work[1]);
	free(s->dir);
	free(s);
}

static const struct fd_sink_impl dir_impl = {
	.name = "dir",
	.write = files_write,
	.flush = files_flush,
	.close = files_close,
	.destroy = files_destroy,
};

static const struct fd_sink_impl stdout_impl = {
	.name = "stdout",
	.write = files_write,
	.flush = files_flush,
	.close = files_close,
	.destroy = files_destroy,
};

int fd_files_sink_open(const char *uri, const char *dir, const char *format, const char *query,
		       const struct fd_sink_context *ctx, struct fd_sink **out,
		       struct fd_error *err)
{
	*out = NULL;
	if (fd_om_requested(format, query)) {
		return fd_om_sink_open(uri, dir, format && *format, query, ctx, out, err);
	}
	struct files_sink *s = calloc(1, sizeof(*s));
	if (!s || fd_sink_init(&s->base, dir ? &dir_impl : &stdout_impl, uri) < 0) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	s->format = F_OTLP_JSON;
	s->chunked = !dir && !isatty(STDOUT_FILENO);
	fd_pb_arena_init(&s->scratch);
	/* stdout: one record per request by default, so that the signals'
	 * lines come out in record order, as a person watching expects. */
	s->batch_records = dir ? 512 : 1;
	s->batch_bytes = 1048576;
	s->batch_window = 1000000000;
	if (ctx) {
		s->notice = ctx->notice;
		s->notice_ctx = ctx->notice_ctx;
		s->timed = ctx->live_stats;
	}
	/* paced records come seconds apart and must come out as they come:
	 * no jobs to fill */
	s->paced = ctx && ctx->paced;
	s->threads = s->paced ? 0 : fd_encoders_default_threads();
	int rc = 0;
	if (format && *format)
		rc = parse_format(uri, format, &s->format, err);
	if (rc == 0) {
		bool seen[N_OPTIONS] = {format && *format}; /* stdout:FORMAT names the format */
		struct option_ctx c = {s, uri};
		rc = fd_sink_options(uri, query, option_names, N_OPTIONS, seen, NULL, on_option, &c,
				     ctx, err);
	}
	if (rc == 0 && s->format == F_BULK && !s->batch_bytes_given)
		s->batch_bytes = BULK_BATCH_BYTES;
	if (rc == 0 && (s->format == F_OTLP_JSON || s->format == F_OTLP_PROTO)) {
		struct fd_batcher_limits l = {s->batch_records, s->batch_bytes, s->batch_window};
		if (!(s->batcher = fd_batcher_create(&l, emit_request, s)))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		else
			fd_batcher_publish(s->batcher, &s->base.live.queued_bytes);
	}
	if (rc == 0 && s->threads && s->format != F_OTLP_PROTO) {
		struct fd_encoders_config c = {
			.threads = s->threads,
			.worker_create = worker_create,
			.worker_destroy = worker_destroy,
			.encode = worker_encode,
			.commit = put_line,
			/* format=bulk in a directory starts a file between
			 * lines (rotate) */
			.runs = !(s->format == F_BULK && dir),
			.ctx = s,
		};
		if (!(s->enc = fd_encoders_create(&c)))
			rc = fd_error_set(err, FD_ERUNTIME, "cannot start %u encoding threads", s->threads);
	}
	if (rc == 0 && dir) {
		s->dir = strdup(dir);
		rc = s->dir ? fd_files_make_dirs(uri, dir, err) : fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc < 0) {
		fd_sink_destroy(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static int dir_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		    struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (n == 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': dir: needs a path, e.g. dir:out", uri);
	char *path = strndup(rest, n);
	if (!path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = fd_files_sink_open(uri, path, NULL, q ? q + 1 : NULL, ctx, out, err);
	free(path);
	return rc;
}

const struct fd_sink_descriptor fd_sink_dir_descriptor = {
	.scheme = "dir",
	.synopsis = "dir:PATH[?options]",
	.summary = "one file per signal in PATH, as the collector's file exporter",
	.options = fd_files_option_names,
	.help = "      format=otlp_json|otlp_proto|ecs|bulk|text|openmetrics (otlp_json)\n"
		"      batch_records=N (512), batch_bytes=SIZE (1MiB), batch_window=D (1s):\n"
		"                 the most records, bytes and record time per request\n"
		"      threads=N  threads encoding otlp_json, ecs, bulk and text (one per\n"
		"                 CPU, at most 4; 0, on this thread, in a paced replay):\n"
		"                 the output is the same bytes whatever N is\n"
		"      format=openmetrics: metrics.om for promtool's backfill;\n"
		"                 buffer=SIZE before spilling to disk (64MiB)\n",
	.open = dir_open,
};
