/*
 * dir:PATH?format=openmetrics and stdout:openmetrics — the metrics of the
 * stream as one OpenMetrics text file (PATH/metrics.om) for
 * `promtool tsdb create-blocks-from openmetrics`. Spans and logs are
 * counted and skipped.
 *
 * OpenMetrics wants each metric family in one piece, each metric (label
 * set) of it in one piece with its points in time order, the samples of a
 * histogram point together (buckets by bound, _count, _sum) and "# EOF"
 * last. The stream brings every scrape of every series interleaved in time,
 * so nothing can be written before the end: the sink keeps
 *   - a table of the series seen (their text, `name{labels}`, and the
 *     metric and family they belong to): a few hundred bytes per series;
 *   - the samples as 24-byte (series, time, value) tuples, in a run buffer
 *     that with the merge sort's scratch takes buffer= bytes (default
 *     64 MiB: 1.4M samples). A full run is sorted and appended to a spill
 *     file (created unlinked next to the output, so it never outlives the
 *     process); close merges the sorted runs.
 * So memory is the series table plus buffer= plus 96 KiB per spilled run
 * while merging, whatever the length of the recording; disk is 24 bytes per
 * sample for the spill plus the output.
 *
 * Order: families by name; within a family, metrics by their label text;
 * within a metric, by time, then the sample's place in its point. promtool
 * 2.42 drops out-of-order samples without a word and rejects a duplicate
 * timestamp with another value, so a second sample of a series at a time
 * already written is dropped here and counted in the report. Timestamps are
 * seconds with millisecond decimals, as OpenMetrics specifies (promtool
 * would read milliseconds as seconds and still exit 0).
 *
 * The file is written as metrics.om.tmp-RANDOM and renamed by close
 * (common/outfile.h: the umask's mode, fsync of file and directory); no
 * partial output on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/grow.h"
#include "common/outfile.h"
#include "stream/intern.h"
#include "common/json.h"
#include "sinks/prom_series.h"
#include "sinks/files.h"
#include "sinks/options.h"
#include "common/suggest.h"
#include "common/units.h"

#define OM_FILE "metrics.om"
#define MERGE_CHUNK 4096 /* tuples read at a time per run while merging */

/* Families, metrics and series are interned (the name; the family, \x01
 * and the label text, which sorts families, then label sets; the series
 * text name{labels}, the line's start); these arrays hold the rest by id. */
struct family {
	const char *name;
	char *help, *unit;
	enum fd_prom_type type;
};

struct metric {
	uint32_t family;
	const char *key;
};

struct series {
	uint32_t metric;
	uint32_t sub;
	const char *text;
};

struct tuple {
	uint32_t series;
	int64_t t_ms;
	double v;
};

struct run {
	off_t off;
	size_t n;
};

struct om_sink {
	struct fd_sink base;
	char *dir; /* NULL: standard output */
	struct fd_outfile file; /* dir/metrics.om, dir: only */
	FILE *out;              /* file.f or stdout */
	struct fd_prom_conv *conv;

	struct family *fam;
	size_t n_fam, cap_fam;
	struct metric *met;
	size_t n_met, cap_met;
	struct series *ser;
	size_t n_ser, cap_ser;
	struct fd_intern *fam_names, *met_keys, *ser_texts;
	uint32_t *rank; /* by metric, valid after compute_ranks */

	struct tuple *buf;
	size_t n_buf, cap_buf;
	int spill; /* fd, -1 until the first spill */
	off_t spill_len;
	struct run *runs;
	size_t n_runs;

	char *text;
	size_t text_cap;
	uint64_t written, duplicates, skipped_other[FD_SIGNAL_COUNT];
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* ---- tables ---- */

/* The id of text in table t, and whether it was new. -1: out of memory. */
static long intern(struct fd_intern *t, const char *text, bool *added)
{
	uint32_t before = fd_intern_count(t);
	const struct fd_blob *b = fd_intern_add(t, (const uint8_t *)text, strlen(text) + 1);
	if (!b)
		return -1;
	*added = fd_intern_count(t) != before;
	return (long)b->id;
}

static const char *type_name(enum fd_prom_type t)
{
	static const char *const names[] = {"gauge", "counter", "histogram", "info"};
	return names[t];
}

/* The family id of s, added when new. -1: out of memory; -2: the family
 * exists with another type. */
static long family_of(struct om_sink *o, const struct fd_prom_sample *s)
{
	bool added;
	long id = intern(o->fam_names, s->family, &added);
	if (id < 0)
		return -1;
	if (!added)
		return o->fam[id].type == s->type ? id : -2;
	if (!fd_grow((void **)&o->fam, &o->cap_fam, o->n_fam, sizeof(*o->fam)))
		return -1; /* the table stays one ahead: out of memory is final */
	struct family *f = &o->fam[o->n_fam];
	f->name = (const char *)fd_intern_get(o->fam_names, (uint32_t)id)->data;
	f->help = strdup(s->help);
	f->unit = strdup(s->unit);
	f->type = s->type;
	o->n_fam++;
	return f->help && f->unit ? id : -1;
}

/* The metric key of s: the family, \x01, then the labels without le. */
static char *metric_key(const struct fd_prom_sample *s)
{
	struct fd_prom_sample m = *s;
	m.name = "";
	m.le = NULL;
	size_t n = fd_prom_series_text(&m, NULL, 0);
	size_t f = strlen(s->family);
	char *k = malloc(f + n + 2);
	if (!k)
		return NULL;
	memcpy(k, s->family, f);
	k[f] = '\x01';
	fd_prom_series_text(&m, k + f + 1, n + 1);
	return k;
}

static long metric_of(struct om_sink *o, const struct fd_prom_sample *s, uint32_t fam)
{
	char *k = metric_key(s);
	bool added;
	long id = k ? intern(o->met_keys, k, &added) : -1;
	free(k);
	if (id < 0 || !added)
		return id;
	if (!fd_grow((void **)&o->met, &o->cap_met, o->n_met, sizeof(*o->met)))
		return -1;
	o->met[o->n_met++] =
		(struct metric){fam, (const char *)fd_intern_get(o->met_keys, (uint32_t)id)->data};
	return id;
}

/* The series id of s, added when new. -1: out of memory; -2: type clash. */
static long series_of(struct om_sink *o, const struct fd_prom_sample *s)
{
	bool added;
	long id = !fd_prom_series_render(s, &o->text, &o->text_cap) ? -1
								 : intern(o->ser_texts, o->text, &added);
	if (id < 0 || !added)
		return id;
	long fam = family_of(o, s);
	if (fam < 0)
		return fam;
	long met = metric_of(o, s, (uint32_t)fam);
	if (met < 0 || !fd_grow((void **)&o->ser, &o->cap_ser, o->n_ser, sizeof(*o->ser)))
		return -1;
	o->ser[o->n_ser++] = (struct series){(uint32_t)met, s->sub,
					     (const char *)fd_intern_get(o->ser_texts, (uint32_t)id)->data};
	return id;
}

/* ---- sorting ---- */

typedef int (*cmp_fn)(const void *a, const void *b, const struct om_sink *o);

/* A stable merge sort with a context (qsort has none in C11). */
static void msort(void *base, size_t n, size_t size, void *tmp, cmp_fn cmp,
		  const struct om_sink *o)
{
	if (n < 2)
		return;
	char *a = base, *t = tmp;
	size_t h = n / 2;
	msort(a, h, size, t, cmp, o);
	msort(a + h * size, n - h, size, t, cmp, o);
	if (cmp(a + (h - 1) * size, a + h * size, o) <= 0)
		return; /* already in order: the common case for time-ordered input */
	memcpy(t, a, n * size);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		if (cmp(t + j * size, t + i * size, o) < 0)
			memcpy(a + k++ * size, t + j++ * size, size);
		else
			memcpy(a + k++ * size, t + i++ * size, size);
	}
	memcpy(a + k * size, t + i * size, (h - i) * size);
	k += h - i;
	memcpy(a + k * size, t + j * size, (n - j) * size);
}

static int metric_id_cmp(const void *a, const void *b, const struct om_sink *o)
{
	return strcmp(o->met[*(const uint32_t *)a].key, o->met[*(const uint32_t *)b].key);
}

/* rank[metric]: its place in key order. Relative order never changes as
 * metrics are added, so runs sorted with earlier ranks merge with later. */
static int compute_ranks(struct om_sink *o)
{
	uint32_t *ids = malloc((o->n_met + 1) * sizeof(*ids));
	uint32_t *tmp = malloc((o->n_met + 1) * sizeof(*tmp));
	uint32_t *rank = realloc(o->rank, (o->n_met + 1) * sizeof(*rank));
	if (!ids || !tmp || !rank) {
		free(ids);
		free(tmp);
		if (rank)
			o->rank = rank;
		return -1;
	}
	o->rank = rank;
	for (size_t i = 0; i < o->n_met; i++)
		ids[i] = (uint32_t)i;
	msort(ids, o->n_met, sizeof(*ids), tmp, metric_id_cmp, o);
	for (size_t i = 0; i < o->n_met; i++)
		rank[ids[i]] = (uint32_t)i;
	free(ids);
	free(tmp);
	return 0;
}

static int tuple_cmp(const void *a, const void *b, const struct om_sink *o)
{
	const struct tuple *x = a, *y = b;
	const struct series *sx = &o->ser[x->series], *sy = &o->ser[y->series];
	uint32_t rx = o->rank[sx->metric], ry = o->rank[sy->metric];
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->t_ms != y->t_ms)
		return x->t_ms < y->t_ms ? -1 : 1;
	return sx->sub < sy->sub ? -1 : sx->sub > sy->sub;
}

static int sort_buffer(struct om_sink *o)
{
	struct tuple *tmp = malloc((o->n_buf + 1) * sizeof(*tmp));
	if (!tmp || compute_ranks(o) < 0) {
		free(tmp);
		return -1;
	}
	msort(o->buf, o->n_buf, sizeof(*o->buf), tmp, tuple_cmp, o);
	free(tmp);
	return 0;
}

static int open_spill(struct om_sink *o, struct fd_error *err)
{
	const char *d = o->dir ? o->dir : getenv("TMPDIR");
	if (!d || !*d)
		d = "/tmp";
	size_t n = strlen(d) + 32;
	char *path = malloc(n);
	if (!path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	snprintf(path, n, "%s/.metrics.om.spill-XXXXXX", d);
	o->spill = mkstemp(path);
	int e = errno;
	if (o->spill >= 0)
		unlink(path); /* gone with the process, whatever happens */
	int rc = o->spill < 0 ? fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot create %s: %s",
					     o->base.uri, path, strerror(e))
			      : 0;
	free(path);
	return rc;
}

/* Sorts the run buffer and appends it to the spill file. */
static int spill_run(struct om_sink *o, struct fd_error *err)
{
	if (o->spill < 0 && open_spill(o, err) < 0)
		return -err->code;
	if (sort_buffer(o) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct run *r = realloc(o->runs, (o->n_runs + 1) * sizeof(*r));
	if (!r)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	o->runs = r;
	size_t bytes = o->n_buf * sizeof(*o->buf);
	for (size_t done = 0; done < bytes;) {
		ssize_t k = pwrite(o->spill, (char *)o->buf + done, bytes - done,
				   o->spill_len + (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing the spill file: %s",
					    o->base.uri, k < 0 ? strerror(errno) : "no space");
		done += (size_t)k;
	}
	o->runs[o->n_runs++] = (struct run){o->spill_len, o->n_buf};
	o->spill_len += (off_t)bytes;
	o->n_buf = 0;
	return 0;
}

/* ---- the sink ---- */

static int on_sample(void *ctx, const struct fd_prom_sample *s, struct fd_error *err)
{
	struct om_sink *o = ctx;
	long id = series_of(o, s);
	if (id == -2)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': metric family '%s' is both a %s and a %s", o->base.uri,
				    s->family, type_name(s->type),
				    type_name(o->fam[fd_intern_add(o->fam_names, (const uint8_t *)s->family,
								   strlen(s->family) + 1)->id].type));
	if (id < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (o->n_buf == o->cap_buf) {
		int rc = spill_run(o, err);
		if (rc < 0)
			return rc;
	}
	o->buf[o->n_buf++] = (struct tuple){(uint32_t)id, s->time_ms, s->value};
	return 0;
}

static int om_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct om_sink *o = (struct om_sink *)sink;
	if (rec->signal != FD_SIGNAL_METRICS) {
		if ((unsigned)rec->signal < FD_SIGNAL_COUNT)
			o->skipped_other[rec->signal]++;
		return 0;
	}
	int rc = fd_prom_conv_record(o->conv, rec, on_sample, o, err);
	if (rc < 0 && err->code == FD_EINPUT && !strstr(err->msg, sink->uri))
		fd_error_prefix(err, "sink '%s'", sink->uri);
	return rc;
}

/* Seconds with millisecond decimals; exact, no floating point. */
static void put_time(FILE *f, int64_t ms)
{
	const char *sign = ms < 0 ? "-" : "";
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	fprintf(f, "%s%llu.%03u", sign, (unsigned long long)(a / 1000), (unsigned)(a % 1000));
}

static bool ends_with_word(const char *name, const char *word)
{
	size_t n = strlen(name), w = strlen(word);
	return w && n > w && name[n - w - 1] == '_' && strcmp(name + n - w, word) == 0;
}

struct writer {
	struct om_sink *o;
	long family;
	bool have_last;
	struct tuple last;
};

static void put_tuple(struct writer *w, const struct tuple *t)
{
	struct om_sink *o = w->o;
	FILE *f = o->out;
	if (w->have_last && w->last.series == t->series && w->last.t_ms == t->t_ms) {
		o->duplicates++;
		return;
	}
	w->have_last = true;
	w->last = *t;
	const struct series *s = &o->ser[t->series];
	long fam = (long)o->met[s->metric].family;
	if (fam != w->family) {
		const struct family *fm = &o->fam[fam];
		w->family = fam;
		fprintf(f, "# TYPE %s %s\n", fm->name, type_name(fm->type));
		/* OpenMetrics requires the family name to end with its unit. */
		if (ends_with_word(fm->name, fm->unit))
			fprintf(f, "# UNIT %s %s\n", fm->name, fm->unit);
		if (fm->help[0]) {
			fprintf(f, "# HELP %s ", fm->name);
			fd_prom_write_escaped(f, fm->help, 1);
			fputc('\n', f);
		}
	}
	char v[32];
	fputs(s->text, f);
	fputc(' ', f);
	fputs(fd_format_double(v, t->v), f);
	fputc(' ', f);
	put_time(f, t->t_ms);
	fputc('\n', f);
	o->written++;
}

struct cursor {
	struct tuple *buf;
	size_t n, i;       /* buffered tuples, next one */
	off_t off;         /* next to read */
	size_t left;       /* tuples of the run not yet read */
};

static int cursor_fill(struct om_sink *o, struct cursor *c)
{
	size_t want = c->left < MERGE_CHUNK ? c->left : MERGE_CHUNK;
	size_t bytes = want * sizeof(struct tuple);
	for (size_t done = 0; done < bytes;) {
		ssize_t k = pread(o->spill, (char *)c->buf + done, bytes - done, c->off + (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	c->off += (off_t)bytes;
	c->left -= want;
	c->n = want;
	c->i = 0;
	return 0;
}

static bool cursor_less(struct om_sink *o, const struct cursor *a, const struct cursor *b)
{
	return tuple_cmp(&a->buf[a->i], &b->buf[b->i], o) < 0;
}

static void heap_down(struct om_sink *o, struct cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && cursor_less(o, h[l], h[m]))
			m = l;
		if (l + 1 < n && cursor_less(o, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct cursor *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Merges the spilled runs into the output. */
static int merge_runs(struct om_sink *o, struct writer *w, struct fd_error *err)
{
	struct cursor *cs = calloc(o->n_runs, sizeof(*cs));
	struct cursor **heap = calloc(o->n_runs, sizeof(*heap));
	int rc = cs && heap ? 0 : fd_error_set(err, FD_ERUNTIME, "out of memory");
	size_t n = 0;
	for (size_t i = 0; rc == 0 && i < o->n_runs; i++) {
		cs[i] = (struct cursor){.off = o->runs[i].off, .left = o->runs[i].n};
		if (!(cs[i].buf = malloc(MERGE_CHUNK * sizeof(struct tuple))))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		else if (cursor_fill(o, &cs[i]) < 0)
			rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': reading the spill file: %s",
					  o->base.uri, strerror(errno));
		else if (cs[i].n)
			heap[n++] = &cs[i];
	}
	for (size_t i = n; rc == 0 && i-- > 0;)
		heap_down(o, heap, n, i);
	while (rc == 0 && n) {
		struct cursor *c = heap[0];
		put_tuple(w, &c->buf[c->i++]);
		if (c->i == c->n) {
			if (c->left && cursor_fill(o, c) < 0)
				rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': reading the spill file: %s",
						  o->base.uri, strerror(errno));
			else if (!c->left && c->i == c->n)
				heap[0] = heap[--n];
		}
		heap_down(o, heap, n, 0);
	}
	for (size_t i = 0; cs && i < o->n_runs; i++)
		free(cs[i].buf);
	free(cs);
	free(heap);
	return rc;
}

static int open_output(struct om_sink *o, struct fd_error *err)
{
	if (!o->dir) {
		o->out = stdout;
		return 0;
	}
	size_t n = strlen(o->dir) + sizeof("/" OM_FILE);
	char *path = malloc(n);
	if (!path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	snprintf(path, n, "%s/" OM_FILE, o->dir);
	int rc = fd_outfile_init(&o->file, path, err);
	free(path);
	if (rc < 0)
		return fd_error_prefix(err, "sink '%s'", o->base.uri);
	o->out = o->file.f;
	return 0;
}

static void report_skipped(struct om_sink *o)
{
	uint64_t other = o->skipped_other[FD_SIGNAL_TRACES] + o->skipped_other[FD_SIGNAL_LOGS];
	uint64_t points = fd_prom_conv_skipped(o->conv);
	if (!o->notice || !(other || points || o->duplicates))
		return;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "sink '%s': format=openmetrics writes metrics only: skipped %llu spans and %llu "
		 "logs; %llu data points without a Prometheus form; %llu duplicate samples",
		 o->base.uri, (unsigned long long)o->skipped_other[FD_SIGNAL_TRACES],
		 (unsigned long long)o->skipped_other[FD_SIGNAL_LOGS], (unsigned long long)points,
		 (unsigned long long)o->duplicates);
	o->notice(o->notice_ctx, msg);
}

static int om_close(struct fd_sink *sink, struct fd_error *err)
{
	struct om_sink *o = (struct om_sink *)sink;
	int rc = open_output(o, err);
	struct writer w = {.o = o, .family = -1};
	if (rc == 0 && o->n_runs) {
		if (o->n_buf)
			rc = spill_run(o, err);
		if (rc == 0 && compute_ranks(o) < 0)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		if (rc == 0)
			rc = merge_runs(o, &w, err);
	} else if (rc == 0) {
		if (sort_buffer(o) < 0)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		for (size_t i = 0; rc == 0 && i < o->n_buf; i++)
			put_tuple(&w, &o->buf[i]);
	}
	if (rc == 0) {
		fputs("# EOF\n", o->out);
		if (o->dir) {
			o->out = NULL;
			if (fd_outfile_commit(&o->file, err) < 0)
				return fd_error_prefix(err, "sink '%s'", sink->uri);
		} else if (fflush(o->out) != 0 || ferror(o->out)) {
			return fd_error_set(err, FD_ERUNTIME, "sink '%s': writing standard output: %s",
					    sink->uri, strerror(errno ? errno : EIO));
		}
		report_skipped(o);
	}
	return rc;
}

static void om_destroy(struct fd_sink *sink)
{
	struct om_sink *o = (struct om_sink *)sink;
	fd_outfile_finish(&o->file); /* not committed: no partial output */
	if (o->spill >= 0)
		close(o->spill);
	for (size_t i = 0; i < o->n_fam; i++) {
		free(o->fam[i].help);
		free(o->fam[i].unit);
	}
	fd_intern_destroy(o->fam_names);
	fd_intern_destroy(o->met_keys);
	fd_intern_destroy(o->ser_texts);
	free(o->fam);
	free(o->met);
	free(o->ser);
	free(o->rank);
	free(o->buf);
	free(o->runs);
	free(o->text);
	fd_prom_conv_destroy(o->conv);
	free(o->dir);
	free(o);
}

static void om_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct om_sink *o = (struct om_sink *)sink;
	snprintf(buf, n, "%llu samples of %zu series in %zu families%s%s",
		 (unsigned long long)o->written, o->n_ser, o->n_fam, o->n_runs ? ", merged from " : "",
		 o->n_runs ? "spilled runs" : "");
}

static const struct fd_sink_impl om_impl = {
	.name = "openmetrics",
	.write = om_write,
	.close = om_close,
	.destroy = om_destroy,
	.report = om_report,
};

struct om_options {
	const char *uri;
	size_t *buffer;
};

static int om_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	struct om_options *o = ctx;
	const char *why = NULL;
	int64_t bytes;
	(void)key;
	if (idx == 0) /* format: this sink exists because it said openmetrics */
		return strcmp(val, "openmetrics") == 0
			       ? 0
			       : fd_error_set(err, FD_EINPUT, "sink '%s': option 'format' given twice",
					      o->uri);
	if (fd_units_size(val, &bytes, &why) < 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': option 'buffer': '%s': %s", o->uri, val,
				    why);
	if (bytes < 4096)
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': option 'buffer': '%s': must be at least 4KiB", o->uri,
				    val);
	*o->buffer = (size_t)bytes;
	return 0;
}

static int parse_options(const char *uri, const char *query, bool format_given, size_t *buffer,
			 const struct fd_sink_context *ctx, struct fd_error *err)
{
	static const char *const names[] = {"format", "buffer"};
	bool seen[2] = {format_given, false};
	struct om_options o = {uri, buffer};
	return fd_sink_options(uri, query, names, 2, seen, " for format=openmetrics", om_option, &o,
			       ctx, err);
}

int fd_om_sink_open(const char *uri, const char *dir, bool format_given, const char *query,
		    const struct fd_sink_context *ctx, struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	struct om_sink *o = calloc(1, sizeof(*o));
	if (!o || fd_sink_init(&o->base, &om_impl, uri) < 0) {
		free(o);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	o->spill = -1;
	if (ctx) {
		o->notice = ctx->notice;
		o->notice_ctx = ctx->notice_ctx;
	}
	size_t buffer = 64u << 20;
	int rc = parse_options(uri, query, format_given, &buffer, ctx, err);
	if (rc == 0) {
		/* the merge sort needs as much scratch as the run it sorts */
		o->cap_buf = buffer / (2 * sizeof(struct tuple));
		o->buf = malloc(o->cap_buf * sizeof(struct tuple));
		o->conv = fd_prom_conv_create();
		o->fam_names = fd_intern_create();
		o->met_keys = fd_intern_create();
		o->ser_texts = fd_intern_create();
		if (dir)
			o->dir = strdup(dir);
		if (!o->buf || !o->conv || !o->fam_names || !o->met_keys || !o->ser_texts ||
		    (dir && !o->dir))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc == 0 && dir)
		rc = fd_files_make_dirs(uri, dir, err);
	if (rc < 0) {
		fd_sink_destroy(&o->base);
		return rc;
	}
	*out = &o->base;
	return 0;
}

bool fd_om_requested(const char *format, const char *query)
{
	if (format && strcmp(format, "openmetrics") == 0)
		return true;
	for (const char *q = query; q && *q;) {
		size_t n = strcspn(q, "&");
		if (n == sizeof("format=openmetrics") - 1 && strncmp(q, "format=openmetrics", n) == 0)
			return true;
		q += n + (q[n] == '&');
	}
	return false;
}
