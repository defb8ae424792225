#include "cli/live_stats.h"

#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/listen_addr.h"
#include "common/monotime.h"
#include "common/timefmt.h"
#include "common/units.h"

/* One reading of a sink, for the differences over an interval. */
struct reading {
	uint64_t records, bytes;
	uint64_t latency[FD_SINK_LATENCY_BUCKETS];
	uint64_t retries, errors;
};

struct cli_live {
	struct cli_live_config c;
	struct fd_sink *const *sinks;
	size_t n;
	struct reading *last; /* per sink, at the previous line */
	int64_t t0, last_t;

	/* from the writing thread */
	_Atomic int64_t offset_ns, behind_ns;
	_Atomic int64_t target_milli; /* records/s x 1000: an integer atomic is lock-free everywhere */
	_Atomic bool positioned;

	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;

	struct MHD_Daemon *httpd;
	char address[64];
};

static uint64_t load(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void read_sink(struct fd_sink *s, struct reading *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		r->records += load(&s->stats.records[i]);
		r->bytes += load(&s->stats.bytes[i]);
	}
	for (size_t i = 0; i < FD_SINK_LATENCY_BUCKETS; i++)
		r->latency[i] = load(&s->live.latency[i]);
	r->retries = load(&s->live.retries);
	r->errors = load(&s->live.errors);
}

static char *format_latency(char *buf, size_t n, double s)
{
	if (s < 0)
		snprintf(buf, n, "-");
	else if (isinf(s))
		snprintf(buf, n, ">%gs", fd_sink_latency_bounds[FD_SINK_LATENCY_BUCKETS - 2]);
	else if (s < 0.001)
		snprintf(buf, n, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, n, "%.1fms", s * 1e3);
	else
		snprintf(buf, n, "%.2fs", s);
	return buf;
}

static void pull_position(struct cli_live *l)
{
	if (l->c.position) {
		int64_t behind = 0;
		int64_t at = l->c.position(l->c.position_ctx, &behind);
		cli_live_position(l, at, 0, behind);
	}
}

/* The lines of one interval: where the stream is, then one per sink. */
static void print_interval(struct cli_live *l, int64_t now)
{
	pull_position(l);
	double dt = (double)(now - l->last_t) / 1e9;
	if (dt <= 0)
		return;
	char el[32], pos[32], behind[32];
	/* whole seconds: the lines are read side by side */
	int64_t sec = 1000000000;
	fd_format_duration(el, sizeof(el), (now - l->t0 + sec / 2) / sec * sec);
	fprintf(stderr, "stats %s:", el);
	if (atomic_load(&l->positioned)) {
		int64_t target = atomic_load(&l->target_milli);
		fprintf(stderr, " at %s of the stream",
			fd_format_duration(pos, sizeof(pos), atomic_load(&l->offset_ns) / sec * sec));
		if (target > 0)
			fprintf(stderr, ", target %.0f records/s", (double)target / 1000);
		int64_t b = atomic_load(&l->behind_ns);
		if (b > 0)
			fprintf(stderr, ", behind by %s", fd_format_duration(behind, sizeof(behind), b));
	}
	fputc('\n', stderr);
	for (size_t i = 0; i < l->n; i++) {
		struct reading r;
		read_sink(l->sinks[i], &r);
		struct reading *p = &l->last[i];
		uint64_t d[FD_SINK_LATENCY_BUCKETS];
		for (size_t k = 0; k < FD_SINK_LATENCY_BUCKETS; k++)
			d[k] = r.latency[k] - p->latency[k];
		char p50[16], p99[16], fl[32], q[32];
		struct fd_sink *s = l->sinks[i];
		int64_t inflight = atomic_load_explicit(&s->live.inflight_bytes, memory_order_relaxed);
		int64_t queued = atomic_load_explicit(&s->live.queued_bytes, memory_order_relaxed);
		fprintf(stderr,
			"  %s: %.0f records/s, %.2f MB/s, send p50 %s p99 %s, in flight %s, queued %s, "
			"retries %" PRIu64 ", errors %" PRIu64 "\n",
			s->uri, (double)(r.records - p->records) / dt,
			(double)(r.bytes - p->bytes) / dt / 1e6,
			format_latency(p50, sizeof(p50), fd_sink_latency_quantile(d, 0.5)),
			format_latency(p99, sizeof(p99), fd_sink_latency_quantile(d, 0.99)),
			fd_format_bytes(fl, sizeof(fl), inflight > 0 ? (uint64_t)inflight : 0),
			fd_format_bytes(q, sizeof(q), queued > 0 ? (uint64_t)queued : 0), r.retries - p->retries,
			r.errors - p->errors);
		*p = r;
	}
	fflush(stderr);
	l->last_t = now;
}

static void *printer_main(void *arg)
{
	struct cli_live *l = arg;
	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		int64_t due = l->last_t + l->c.interval_ns;
		struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
		pthread_cond_timedwait(&l->wake, &l->lock, &ts);
		if (l->stopping)
			break;
		int64_t now = fd_mono_ns();
		if (now >= due)
			print_interval(l, now);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* ---- /metrics ---- */

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = t->cap - t->len;
		int k = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			t->oom = true;
			return;
		}
		if (t->buf && (size_t)k < room) {
			t->len += (size_t)k;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + (size_t)k + 1)
			cap *= 2;
		char *b = realloc(t->buf, cap);
		if (!b) {
			t->oom = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

/* A label value as the exposition format wants it: \, " and newline escaped. */
static void put_label(struct text *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(t, "\\%c", *v);
		else if (*v == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *v);
	}
}

static void put_head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_sink_value(struct text *t, const char *name, const struct fd_sink *s,
			   const char *extra, double v)
{
	put(t, "%s{sink=\"", name);
	put_label(t, s->uri);
	put(t, "\"%s} %.17g\n", extra ? extra : "", v);
}

static void render(struct cli_live *l, struct text *t)
{
	put_head(t, "firedrill_sink_records_total", "counter", "Records handed to the sink.");
	for (size_t i = 0; i < l->n; i++)
		for (int g = 0; g < FD_SIGNAL_COUNT; g++) {
			char extra[48];
			snprintf(extra, sizeof(extra), ",signal=\"%s\"", fd_signal_name((enum fd_signal)g));
			put_sink_value(t, "firedrill_sink_records_total", l->sinks[i], extra,
				       (double)load(&l->sinks[i]->stats.records[g]));
		}
	put_head(t, "firedrill_sink_bytes_total", "counter",
		 "Payload bytes (OTLP protobuf) handed to the sink.");
	for (size_t i = 0; i < l->n; i++)
		for (int g = 0; g < FD_SIGNAL_COUNT; g++) {
			char extra[48];
			snprintf(extra, sizeof(extra), ",signal=\"%s\"", fd_signal_name((enum fd_signal)g));
			put_sink_value(t, "firedrill_sink_bytes_total", l->sinks[i], extra,
				       (double)load(&l->sinks[i]->stats.bytes[g]));
		}
	put_head(t, "firedrill_sink_send_duration_seconds", "histogram",
		 "Duration of completed sends: a Kafka message until acknowledged, an HTTP "
		 "request until answered, a file request encoded and written.");
	for (size_t i = 0; i < l->n; i++) {
		struct fd_sink *s = l->sinks[i];
		uint64_t cum = 0;
		for (size_t k = 0; k < FD_SINK_LATENCY_BUCKETS; k++) {
			cum += load(&s->live.latency[k]);
			char extra[48];
			if (k + 1 < FD_SINK_LATENCY_BUCKETS)
				snprintf(extra, sizeof(extra), ",le=\"%g\"", fd_sink_latency_bounds[k]);
			else
				snprintf(extra, sizeof(extra), ",le=\"+Inf\"");
			put_sink_value(t, "firedrill_sink_send_duration_seconds_bucket", s, extra,
				       (double)cum);
		}
		put_sink_value(t, "firedrill_sink_send_duration_seconds_sum", s, NULL,
			       (double)load(&s->live.latency_sum_ns) / 1e9);
		put_sink_value(t, "firedrill_sink_send_duration_seconds_count", s, NULL, (double)cum);
	}
	put_head(t, "firedrill_sink_inflight_bytes", "gauge",
		 "Bytes handed to the transport and not yet acknowledged.");
	for (size_t i = 0; i < l->n; i++)
		put_sink_value(t, "firedrill_sink_inflight_bytes", l->sinks[i], NULL,
			       (double)atomic_load(&l->sinks[i]->live.inflight_bytes));
	put_head(t, "firedrill_sink_queued_bytes", "gauge",
		 "Payload bytes held in the sink's batches, not yet sent.");
	for (size_t i = 0; i < l->n; i++)
		put_sink_value(t, "firedrill_sink_queued_bytes", l->sinks[i], NULL,
			       (double)atomic_load(&l->sinks[i]->live.queued_bytes));
	put_head(t, "firedrill_sink_retries_total", "counter", "Sends tried again.");
	for (size_t i = 0; i < l->n; i++)
		put_sink_value(t, "firedrill_sink_retries_total", l->sinks[i], NULL,
			       (double)load(&l->sinks[i]->live.retries));
	put_head(t, "firedrill_sink_send_errors_total", "counter",
		 "Sends (messages, requests) lost for good.");
	for (size_t i = 0; i < l->n; i++)
		put_sink_value(t, "firedrill_sink_send_errors_total", l->sinks[i], NULL,
			       (double)load(&l->sinks[i]->live.errors));
	pull_position(l);
	if (atomic_load(&l->positioned)) {
		put_head(t, "firedrill_stream_position_seconds", "gauge",
			 "Record time of the stream since its start.");
		put(t, "firedrill_stream_position_seconds %.3f\n", (double)atomic_load(&l->offset_ns) / 1e9);
		put_head(t, "firedrill_target_records_per_second", "gauge",
			 "The rate asked for (--rate); 0 when not paced by rate.");
		put(t, "firedrill_target_records_per_second %.3f\n",
		    (double)atomic_load(&l->target_milli) / 1000);
		put_head(t, "firedrill_behind_schedule_seconds", "gauge",
			 "How far the stream is behind its pacing schedule.");
		put(t, "firedrill_behind_schedule_seconds %.3f\n", (double)atomic_load(&l->behind_ns) / 1e9);
	}
	put_head(t, "firedrill_run_seconds", "gauge", "Seconds since the run started.");
	put(t, "firedrill_run_seconds %.3f\n", (double)(fd_mono_ns() - l->t0) / 1e9);
	put_head(t, "firedrill_info", "gauge", "The command that runs.");
	put(t, "firedrill_info{command=\"%s\"} 1\n", l->c.command);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	(void)version, (void)upload, (void)upload_len, (void)con_cls;
	struct cli_live *l = cls;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	struct text t = {0};
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		put(&t, "GET /metrics\n");
	} else if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		put(&t, "firedrill's own metrics are at /metrics\n");
	} else {
		render(l, &t);
	}
	if (t.oom) {
		free(t.buf);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(t.len, t.buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(t.buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
						      : "text/plain; charset=utf-8");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static int parse(const char *a, struct sockaddr_in *sa, struct fd_error *err)
{
	char why[160];
	if (fd_listen_addr_parse(a, strlen(a), sa, why, sizeof(why)) < 0)
		return fd_error_set(err, FD_EINPUT, "--self-metrics '%s': %s", a, why);
	return 0;
}

int cli_live_check(const struct cli_live_config *c, struct fd_error *err)
{
	struct sockaddr_in sa;
	return c->self_metrics ? parse(c->self_metrics, &sa, err) : 0;
}

static int serve(struct cli_live *l, struct fd_error *err)
{
	struct sockaddr_in sa;
	const char *a = l->c.self_metrics;
	int rc = parse(a, &sa, err);
	if (rc < 0)
		return rc;
	l->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL, NULL,
				    on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!l->httpd)
		return fd_error_set(err, FD_ERUNTIME,
				    "--self-metrics '%s': cannot listen there (in use, or not an address "
				    "of this machine?)",
				    a);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->httpd, MHD_DAEMON_INFO_BIND_PORT);
	fd_listen_addr_format(&sa, di ? di->port : ntohs(sa.sin_port), l->address,
			      sizeof(l->address));
	/* the one line a person or a test needs: where to scrape */
	fprintf(stderr, "firedrill: own metrics at http://%s/metrics\n", l->address);
	return 0;
}

int cli_live_parse_interval(const char *arg, int64_t *interval_ns, const char **why)
{
	if (!arg) {
		*interval_ns = 1000000000;
		return 0;
	}
	if (fd_units_duration(arg, interval_ns, why) < 0)
		return -1;
	if (*interval_ns < 100000000) {
		*why = "at least 100ms";
		return -1;
	}
	return 0;
}

int cli_live_start(const struct cli_live_config *c, struct fd_sink *const *sinks, size_t n,
		   struct cli_live **out, struct fd_error *err)
{
	*out = NULL;
	struct cli_live *l = calloc(1, sizeof(*l));
	if (!l || !(l->last = calloc(n ? n : 1, sizeof(*l->last)))) {
		free(l);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	l->c = *c;
	l->sinks = sinks;
	l->n = n;
	l->t0 = l->last_t = fd_mono_ns();
	for (size_t i = 0; i < n; i++)
		read_sink(sinks[i], &l->last[i]);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = 0;
	if (c->self_metrics && (rc = serve(l, err)) < 0) {
		cli_live_stop(l);
		return rc;
	}
	if (c->interval_ns > 0) {
		if (pthread_create(&l->thread, NULL, printer_main, l) != 0) {
			cli_live_stop(l);
			return fd_error_set(err, FD_ERUNTIME, "cannot start the statistics thread");
		}
		l->running = true;
	}
	*out = l;
	return 0;
}

void cli_live_position(struct cli_live *l, int64_t offset_ns, double target_rate,
		       int64_t behind_ns)
{
	if (!l)
		return;
	atomic_store_explicit(&l->offset_ns, offset_ns, memory_order_relaxed);
	atomic_store_explicit(&l->target_milli, (int64_t)llround(target_rate * 1000),
			      memory_order_relaxed);
	atomic_store_explicit(&l->behind_ns, behind_ns, memory_order_relaxed);
	atomic_store_explicit(&l->positioned, true, memory_order_relaxed);
}

const char *cli_live_address(const struct cli_live *l)
{
	return l && l->httpd ? l->address : NULL;
}

void cli_live_stop(struct cli_live *l)
{
	if (!l)
		return;
	if (l->running) {
		pthread_mutex_lock(&l->lock);
		l->stopping = true;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
		/* the part of an interval since the last line: the lines add
		 * up to the run's totals */
		print_interval(l, fd_mono_ns());
	}
	if (l->httpd)
		MHD_stop_daemon(l->httpd);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l->last);
	free(l);
}
