/*
 * prom-rw:URL[?options] — the metrics of the stream sent to a Prometheus
 * remote write 1.0 receiver (Prometheus with
 * --web.enable-remote-write-receiver at /api/v1/write, Mimir, Thanos
 * receive, VictoriaMetrics...). Spans and logs are counted and skipped.
 *
 * The protocol (prometheus/prompb, remote write spec 1.0): an HTTP POST of
 * a protobuf WriteRequest { repeated TimeSeries timeseries = 1; } where
 * TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; },
 * Label { string name = 1; string value = 2; } and Sample { double value =
 * 1; int64 timestamp = 2; } (milliseconds), compressed with snappy's block
 * format (not the framed one), with Content-Encoding: snappy,
 * Content-Type: application/x-protobuf and
 * X-Prometheus-Remote-Write-Version: 0.1.0. The message is small enough to
 * encode by hand (pbwrite.h): each series' labels, __name__ included and
 * sorted by name as the spec requires, are encoded once and reused.
 *
 * Batching: samples wait in a batch until it holds max_samples (2000),
 * until max_delay (1s) of wall-clock time has passed since its first
 * sample, or until flush and close. A batch is encoded, grouped by series
 * with each series' samples in time order (the stream is in time order and
 * the grouping is stable), compressed and handed to the pool the HTTP
 * sinks share (sinks/http.h): its thread posts it while the writer goes on
 * encoding the next batch, so encoding overlaps sending. One request is
 * outstanding at a time (concurrency 1): batches go out in order, retries
 * included, so a receiver sees every series move forward in time; a writer
 * waits only when a second batch is ready before the first is answered.
 * A timer thread cuts a batch that has waited max_delay, so that a live
 * replay's last scrape does not wait for the next record; it never waits
 * for the pool with the batch's lock held, and a failure it meets is
 * returned by the next call.
 *
 * Answers: 2xx is delivered. 5xx and 429 are retried with exponential
 * backoff and jitter (100 ms doubling to 5 s, retries= times, default
 * 10), honouring Retry-After, and so are connection failures. Once the
 * context's stop flag is set (SIGINT), a failed attempt is not retried and
 * a wait for a retry ends at once. Prometheus rejects a whole request for one
 * sample it cannot take — "out of order sample", "out of bounds" (older
 * than its head allows, without an out-of-order window), "duplicate sample
 * for timestamp" (400) and, with a window, "too old sample" beyond it
 * (500) — and retrying cannot change that: such a
 * request's samples are dropped and counted, and close fails with the
 * count (exit status 1). Any other 4xx is an error naming the status and
 * the body, and so is giving up.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stream/intern.h"
#include "otlp/pbwrite.h"
#include "sinks/prom_series.h"
#include "sinks/http_sink.h"
#include "sinks/options.h"
#include "sinks/registry.h"
#include "common/redact.h"
#include "common/suggest.h"
#include "common/units.h"

struct rw_series {
	uint8_t *labels; /* encoded repeated Label (field 1 of TimeSeries) */
	size_t len;
};

struct rw_sample {
	uint32_t series;
	int64_t t_ms;
	double v;
};

struct rw_sink {
	struct fd_http_sink hs; /* first: the interface casts between them */
	char *url;
	char url_shown[1024]; /* for messages: user info's password hidden */
	size_t max_samples;
	int64_t max_delay_ns;

	struct fd_prom_conv *conv;
	struct fd_intern *texts; /* series text -> dense id */
	struct rw_series *ser;
	size_t n_ser, cap_ser;

	struct rw_sample *batch, *sorted;
	size_t n_batch;
	uint32_t *counts; /* by series, for grouping a batch */
	size_t cap_counts;
	int64_t batch_start; /* monotonic ns of the batch's first sample */

	struct pbw pb;
	char *text;
	size_t text_cap;
	uint64_t skipped_other;

	/* Written by on_done on the pool's thread; read after the drain. */
	uint64_t sent, dropped, requests, bytes;
	char first_drop[700];

	pthread_mutex_t lock; /* the batch and the series, once the timer runs */
	pthread_cond_t wake;
	pthread_t timer;
	bool timer_running, stopping;
	struct fd_error timer_err; /* the timer's failure, for the next call */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- series ---- */

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fd_prom_label *)a)->name, ((const struct fd_prom_label *)b)->name);
}

/* The series id of s; a new series gets its labels encoded. -1: OOM. */
static long series_of(struct rw_sink *r, const struct fd_prom_sample *s)
{
	if (!fd_prom_series_render(s, &r->text, &r->text_cap))
		return -1;
	uint32_t before = fd_intern_count(r->texts);
	const struct fd_blob *b =
		fd_intern_add(r->texts, (const uint8_t *)r->text, strlen(r->text) + 1);
	if (!b)
		return -1;
	if (fd_intern_count(r->texts) == before)
		return (long)b->id;
	if (r->n_ser == r->cap_ser) {
		size_t cap = r->cap_ser ? r->cap_ser * 2 : 256;
		struct rw_series *v = realloc(r->ser, cap * sizeof(*v));
		if (!v)
			return -1;
		r->ser = v;
		r->cap_ser = cap;
	}
	struct fd_prom_label *l = malloc((s->n_labels + 2) * sizeof(*l));
	if (!l)
		return -1;
	size_t n = 0;
	l[n++] = (struct fd_prom_label){"__name__", s->name};
	memcpy(l + n, s->labels, s->n_labels * sizeof(*l));
	n += s->n_labels;
	if (s->le)
		l[n++] = (struct fd_prom_label){"le", s->le};
	qsort(l, n, sizeof(*l), label_cmp);
	struct pbw w = {0};
	for (size_t i = 0; i < n; i++) {
		size_t m = pbw_begin(&w, 1);
		pbw_string(&w, 1, l[i].name);
		pbw_string(&w, 2, l[i].value);
		pbw_end(&w, m);
	}
	free(l);
	if (w.oom) {
		pbw_finish(&w);
		return -1;
	}
	r->ser[r->n_ser++] = (struct rw_series){w.buf, w.len};
	return (long)b->id;
}

/* ---- sending ---- */

/* Prometheus' answers for a request it will never take as it is. */
static bool permanent_rejection(const char *body)
{
	return strstr(body, "too old sample") || strstr(body, "out of bounds") ||
	       strstr(body, "out of order sample") || strstr(body, "duplicate sample for timestamp");
}

/* The pool's verdict on an answer (sinks/http.h): Prometheus's permanent
 * rejections are final whatever their status. */
static enum fd_http_verdict classify(const struct fd_http_answer *a, int64_t *delay_ns, char *why,
				     size_t n)
{
	(void)delay_ns; /* Retry-After, when there is one */
	if (a->status >= 200 && a->status < 300)
		return FD_HTTP_ACCEPTED;
	size_t k = strcspn(a->body, "\r\n");
	snprintf(why, n, "HTTP %ld: %.*s", a->status, (int)(k > 400 ? 400 : k),
		 k ? a->body : "(empty body)");
	if (permanent_rejection(a->body))
		return FD_HTTP_REFUSED;
	return a->status >= 500 || a->status == 429 ? FD_HTTP_RETRY : FD_HTTP_REFUSED;
}

/* A request's tag: its samples (max_samples <= 1000000 < 2^24) and its
 * size. */
static uint64_t tag_of(size_t samples, size_t len)
{
	return (uint64_t)len << 24 | samples;
}

/* The outcome of a request, on the pool's thread. A rejection Prometheus
 * will never take back is counted and the stream goes on; any other
 * failure stops it (every later request would fail the same way, or the
 * user asked to stop). */
static int on_done(void *ctx, uint64_t tag, const struct fd_http_outcome *o, struct fd_error *err)
{
	struct rw_sink *r = ctx;
	uint64_t samples = tag & 0xffffff;
	if (!o->why) {
		r->sent += samples;
		r->requests++;
		r->bytes += tag >> 24;
		return 0;
	}
	if (o->cancelled)
		return 0; /* the sink is going away, or already failed */
	if (!o->interrupted && permanent_rejection(o->body)) {
		if (!r->dropped)
			snprintf(r->first_drop, sizeof(r->first_drop), "%s", o->why);
		r->dropped += samples;
		r->requests++;
		return 0;
	}
	if (!strncmp(o->why, "HTTP ", 5))
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': %s rejected the request: %s",
				    r->hs.base.uri, r->url_shown, o->why);
	return fd_error_set(err, FD_ERUNTIME, "sink '%s': %s: %s (%llu samples not sent)",
			    r->hs.base.uri, r->url_shown, o->why, (unsigned long long)samples);
}

/* Encodes the batch as a WriteRequest, grouped by series. */
static int encode(struct rw_sink *r)
{
	if (r->cap_counts < r->n_ser + 1) {
		uint32_t *c = realloc(r->counts, (r->n_ser + 1) * sizeof(*c));
		if (!c)
			return -1;
		r->counts = c;
		r->cap_counts = r->n_ser + 1;
	}
	/* a counting sort by series: stable, so each series keeps time order */
	memset(r->counts, 0, (r->n_ser + 1) * sizeof(*r->counts));
	for (size_t i = 0; i < r->n_batch; i++)
		r->counts[r->batch[i].series + 1]++;
	for (size_t i = 1; i <= r->n_ser; i++)
		r->counts[i] += r->counts[i - 1];
	for (size_t i = 0; i < r->n_batch; i++)
		r->sorted[r->counts[r->batch[i].series]++] = r->batch[i];
	pbw_reset(&r->pb);
	for (size_t i = 0; i < r->n_batch;) {
		uint32_t id = r->sorted[i].series;
		size_t ts = pbw_begin(&r->pb, 1);
		if (pbw_room(&r->pb, r->ser[id].len)) {
			memcpy(r->pb.buf + r->pb.len, r->ser[id].labels, r->ser[id].len);
			r->pb.len += r->ser[id].len;
		}
		for (; i < r->n_batch && r->sorted[i].series == id; i++) {
			size_t m = pbw_begin(&r->pb, 2);
			pbw_double(&r->pb, 1, r->sorted[i].v);
			pbw_varint(&r->pb, 2, (uint64_t)r->sorted[i].t_ms);
			pbw_end(&r->pb, m);
		}
		pbw_end(&r->pb, ts);
	}
	return r->pb.oom ? -1 : 0;
}

/* Hands the batch to the pool; waits while a request is outstanding. */
static int send_batch(struct rw_sink *r, struct fd_error *err)
{
	if (r->n_batch == 0)
		return 0;
	if (encode(r) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	size_t clen = snappy_max_compressed_length(r->pb.len);
	char *body = malloc(clen);
	if (!body)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (snappy_compress((const char *)r->pb.buf, r->pb.len, body, &clen) != SNAPPY_OK) {
		free(body);
		return fd_error_set(err, FD_ERUNTIME, "sink '%s': snappy compression failed",
				    r->hs.base.uri);
	}
	int rc = fd_http_pool_submit(r->hs.pool, r->url, r->hs.headers, (uint8_t *)body, clen,
				     tag_of(r->n_batch, clen), err);
	if (rc == 0)
		r->n_batch = 0;
	return rc;
}

/* ---- the sink ---- */

static int on_sample(void *ctx, const struct fd_prom_sample *s, struct fd_error *err)
{
	struct rw_sink *r = ctx;
	long id = series_of(r, s);
	if (id < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (r->n_batch == r->max_samples) {
		int rc = send_batch(r, err);
		if (rc < 0)
			return rc;
	}
	if (r->n_batch == 0)
		r->batch_start = mono_ns();
	r->batch[r->n_batch++] = (struct rw_sample){(uint32_t)id, s->time_ms, s->value};
	return 0;
}

static bool batch_due(const struct rw_sink *r)
{
	return r->n_batch && mono_ns() - r->batch_start >= r->max_delay_ns;
}

/* Sends the batch once it is max_delay old, between records. Only holders
 * of the lock submit, so a pool that is not full now takes the batch
 * without waiting: the timer never sits on the lock while a request is
 * retried, and stop_timer never waits for one. */
static void *timer_main(void *arg)
{
	struct rw_sink *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
		if (!r->stopping && !r->timer_err.code && batch_due(r) &&
		    !fd_http_pool_full(r->hs.pool))
			send_batch(r, &r->timer_err);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void stop_timer(struct rw_sink *r)
{
	if (!r->timer_running)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->timer, NULL);
	r->timer_running = false;
}

/* The timer's failure, if any; call with the lock held. */
static int timer_failed(struct rw_sink *r, struct fd_error *err)
{
	if (!r->timer_err.code)
		return 0;
	if (err)
		*err = r->timer_err;
	return -r->timer_err.code;
}

static int rw_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct rw_sink *r = (struct rw_sink *)sink;
	if (rec->signal != FD_SIGNAL_METRICS) {
		r->skipped_other++; /* only this thread touches it */
		return 0;
	}
	pthread_mutex_lock(&r->lock);
	int rc = timer_failed(r, err);
	if (rc == 0 && batch_due(r))
		rc = send_batch(r, err);
	if (rc == 0)
		rc = fd_prom_conv_record(r->conv, rec, on_sample, r, err);
	pthread_mutex_unlock(&r->lock);
	if (rc < 0 && err->code == FD_EINPUT && !strstr(err->msg, sink->uri))
		fd_error_prefix(err, "sink '%s'", sink->uri);
	return rc;
}

static int rw_flush(struct fd_sink *sink, struct fd_error *err)
{
	struct rw_sink *r = (struct rw_sink *)sink;
	pthread_mutex_lock(&r->lock);
	int rc = timer_failed(r, err);
	if (rc == 0)
		rc = send_batch(r, err);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static int rw_close(struct fd_sink *sink, struct fd_error *err)
{
	struct rw_sink *r = (struct rw_sink *)sink;
	stop_timer(r);
	int rc = timer_failed(r, err);
	if (rc == 0)
		rc = send_batch(r, err);
	rc = fd_http_sink_drain(&r->hs, rc, err);
	if (rc < 0)
		return rc;
	if (r->dropped)
		return fd_error_set(err, FD_ERUNTIME,
				    "sink '%s': %llu of %llu samples rejected by %s and dropped (first: "
				    "%s)",
				    sink->uri, (unsigned long long)r->dropped,
				    (unsigned long long)(r->dropped + r->sent), r->url_shown, r->first_drop);
	return 0;
}

static void rw_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct rw_sink *r = (struct rw_sink *)sink;
	snprintf(buf, n, "%llu samples of %zu series sent in %llu requests (%llu bytes), %llu rejected",
		 (unsigned long long)r->sent, r->n_ser, (unsigned long long)r->requests,
		 (unsigned long long)r->bytes, (unsigned long long)r->dropped);
}

static void rw_destroy(struct fd_sink *sink)
{
	struct rw_sink *r = (struct rw_sink *)sink;
	stop_timer(r);
	/* then the pool, whose callbacks use the rest: a request in flight
	 * is aborted, one waiting for a retry cancelled */
	fd_http_sink_stop(&r->hs);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	fd_prom_conv_destroy(r->conv);
	if (r->texts)
		fd_intern_destroy(r->texts);
	for (size_t i = 0; i < r->n_ser; i++)
		free(r->ser[i].labels);
	free(r->ser);
	free(r->batch);
	free(r->sorted);
	free(r->counts);
	pbw_finish(&r->pb);
	free(r->text);
	free(r->url);
	fd_http_sink_finish(&r->hs);
	free(r);
}

static const struct fd_sink_impl rw_impl = {
	.name = "prom-rw",
	.write = rw_write,
	.flush = rw_flush,
	.close = rw_close,
	.destroy = rw_destroy,
	.report = rw_report,
};

/* Ours, then the connection options shared with the other HTTP sinks
 * (sinks/http.h) that apply to one request at a time, in order: not
 * concurrency, and retries= in place of the retry_* durations. */
static const char *const option_names[] = {"max_samples", "max_delay", "retries", "timeout",
					   "header", "user", "password", "ca", "cert", "key",
					   "insecure", NULL};
#define N_OWN 3 /* timeout is the shared one, with our default */
#define N_OPTIONS (sizeof(option_names) / sizeof(option_names[0]) - 1)

static int set_option(void *sink, const char *key, const char *val, struct fd_error *err)
{
	struct rw_sink *r = sink;
	const char *why = NULL;
	long long n;
	if (strcmp(key, "max_samples") == 0) {
		if (fd_units_integer(val, 1, 1000000, &n, &why) < 0)
			goto bad;
		r->max_samples = (size_t)n;
	} else if (strcmp(key, "retries") == 0) {
		if (fd_units_integer(val, 0, 1000, &n, &why) < 0)
			goto bad;
		r->hs.http.max_retries = (long)n;
	} else if (strcmp(key, "max_delay") == 0) {
		if (fd_units_duration(val, &r->max_delay_ns, &why) < 0)
			goto bad;
	}
	return 0;
bad:
	return fd_http_bad_value(r->hs.base.uri, key, val, why, err);
}

/* A URL may have a query string of its own (a tenant, a token); the query
 * after prom-rw:URL holds both. Entries named as our options, or so close
 * to one that they are surely a typo, are ours; the others stay in the
 * URL. Fills *url (malloc'd) and *ours (malloc'd, "" when none). */
static int split_query(const char *base, size_t base_len, const char *query, char **url,
		       char **ours)
{
	size_t qn = query ? strlen(query) : 0;
	*url = malloc(base_len + qn + 2);
	*ours = malloc(qn + 1);
	if (!*url || !*ours)
		return -1;
	memcpy(*url, base, base_len);
	size_t u = base_len, o = 0;
	char *copy = strndup(query ? query : "", qn);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		size_t kn = strcspn(kv, "=");
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)(kn < 63 ? kn : 63), kv);
		bool mine = kn < sizeof(key) && (fd_suggest(key, option_names, N_OPTIONS) ||
						 kv[kn] == '\0');
		for (size_t i = 0; i < N_OPTIONS && !mine; i++)
			mine = kn == strlen(option_names[i]) && !strncmp(kv, option_names[i], kn);
		size_t len = strlen(kv);
		if (mine) {
			if (o)
				(*ours)[o++] = '&';
			memcpy(*ours + o, kv, len);
			o += len;
		} else {
			char sep = u == base_len ? '?' : '&';
			(*url)[u++] = sep;
			memcpy(*url + u, kv, len);
			u += len;
		}
	}
	free(copy);
	(*url)[u] = '\0';
	(*ours)[o] = '\0';
	return 0;
}

static int parse(struct rw_sink *r, const char *uri, const char *rest,
		 const struct fd_sink_context *ctx, struct fd_error *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	if (!((n > 7 && strncmp(rest, "http://", 7) == 0) || (n > 8 && strncmp(rest, "https://", 8) == 0)))
		return fd_error_set(err, FD_EINPUT,
				    "sink '%s': prom-rw: needs an http:// or https:// URL, e.g. "
				    "prom-rw:http://localhost:9090/api/v1/write",
				    uri);
	char *ours = NULL;
	if (split_query(rest, n, q ? q + 1 : NULL, &r->url, &ours) < 0) {
		free(ours);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	fd_redact_uri(r->url, r->url_shown, sizeof(r->url_shown));
	int rc = fd_http_sink_options(uri, ours, option_names, N_OWN, &r->hs.http, set_option, r, ctx,
				      err);
	free(ours);
	return rc;
}

static int prom_rw_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
			struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	struct rw_sink *r;
	int rc = fd_http_sink_alloc(&r, sizeof(*r), &rw_impl, uri, ctx, err);
	if (rc < 0)
		return rc;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	r->max_samples = 2000;
	r->max_delay_ns = 1000000000;
	/* one request at a time, so that batches arrive in order; retried
	 * retries= times (10) from 100 ms doubling to 5 s, as long as that
	 * takes; 30s for an attempt */
	struct fd_http_options *h = &r->hs.http;
	h->concurrency = 1;
	h->max_retries = 10;
	h->retry_initial_ns = 100000000;
	h->retry_max_ns = 5000000000;
	h->retry_elapsed_ns = INT64_MAX / 2;
	h->timeout_ns = 30000000000;
	rc = parse(r, uri, rest, ctx, err);
	if (rc == 0) {
		r->batch = malloc(r->max_samples * sizeof(*r->batch));
		r->sorted = malloc(r->max_samples * sizeof(*r->sorted));
		r->conv = fd_prom_conv_create();
		r->texts = fd_intern_create();
		if (!r->batch || !r->sorted || !r->conv || !r->texts)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	static const char *const headers[] = {
		"Content-Encoding: snappy",
		"Content-Type: application/x-protobuf",
		"X-Prometheus-Remote-Write-Version: 0.1.0",
		"Expect:", /* no 100-continue round trip before a large body */
	};
	if (rc == 0)
		rc = fd_http_sink_start(&r->hs, headers, 4, 511, on_done, err);
	if (rc == 0) {
		fd_http_pool_classify(r->hs.pool, classify);
		if (pthread_create(&r->timer, NULL, timer_main, r) != 0)
			rc = fd_error_set(err, FD_ERUNTIME, "sink '%s': cannot start a thread",
					  r->hs.base.uri);
		else
			r->timer_running = true;
	}
	if (rc < 0) {
		fd_sink_destroy(&r->hs.base);
		return rc;
	}
	*out = &r->hs.base;
	return 0;
}

const struct fd_sink_descriptor fd_sink_prom_rw_descriptor = {
	.scheme = "prom-rw",
	.synopsis = "prom-rw:URL[?options]",
	.summary = "Prometheus remote write (docs/prometheus-grafana.md)",
	.options = option_names,
	.help = "      max_samples=N (2000), max_delay=D (1s), retries=N (10),\n"
		"      timeout=D (30s); header=, user=, password=, ca=, cert=, key=,\n"
		"      insecure= as for otlp-http; other query entries stay in the URL\n",
	.open = prom_rw_open,
};
