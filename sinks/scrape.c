/*
 * scrape:[HOST]:PORT[?stale=D] — during a replay, an HTTP endpoint at
 * /metrics serving the current value of every series of the stream in the
 * Prometheus text format (0.0.4), so that a stock scrape job watches the
 * incident unfold. scrape::9464 listens on every interface,
 * scrape:127.0.0.1:9464 on loopback only; port 0 takes a free port, which
 * the context's notice reports. Spans and logs are counted and skipped.
 *
 * Each sample overwrites its series' value: counters and histograms stay
 * cumulative because the stream's are; a restart shows as the counter
 * reset it is. No timestamps are exposed: the scraper stamps the values
 * with its scrape time, as with any live target.
 *
 * Staleness: a series that has not been reported for stale= of stream time
 * (default 1m, four scrape intervals of the seed scenario) is left out of
 * the page, so Prometheus marks it stale on its next scrape — the old
 * version's target_info after a deploy, the series of an instance that
 * died. Stream time, not wall time, so that the rule holds at any --speed.
 *
 * The HTTP server is libmicrohttpd with its own thread; the table of
 * series is shared with it under a mutex. The server keeps serving the
 * last values after close, until destroy: a CLI that wants the endpoint up
 * after the run (replay --linger) waits between the two.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/listen_addr.h"
#include "stream/intern.h"
#include "common/json.h"
#include "sinks/prom_series.h"
#include "sinks/options.h"
#include "sinks/registry.h"
#include "common/suggest.h"
#include "common/timemath.h"
#include "common/units.h"

struct family {
	const char *name; /* the text format's: x_total for counters */
	char *help;
	enum fd_prom_type type;
};

struct series {
	uint32_t family;
	const char *text;
	double value;
	int64_t updated_ns; /* stream time of the last sample */
};

struct scrape_sink {
	struct fd_sink base;
	int64_t stale_ns;
	struct MHD_Daemon *httpd;
	uint16_t port;

	pthread_mutex_t lock; /* guards everything below */
	struct fd_prom_conv *conv;
	struct fd_intern *fam_names, *ser_texts;
	struct family *fam;
	size_t n_fam, cap_fam;
	struct series *ser;
	size_t n_ser, cap_ser;
	int64_t now_ns; /* newest stream time seen */
	int64_t rec_ns; /* the record being converted */
	char *text;
	size_t text_cap;
	uint64_t scrapes, skipped_other;
};

static const char *type_name(enum fd_prom_type t)
{
	/* the 0.0.4 text format has no info type: target_info is a gauge */
	static const char *const names[] = {"gauge", "counter", "histogram", "gauge"};
	return names[t];
}

/* ---- the table ---- */

static long family_of(struct scrape_sink *s, const struct fd_prom_sample *x)
{
	char name[600];
	fd_prom_text_family(x, name, sizeof(name));
	uint32_t before = fd_intern_count(s->fam_names);
	const struct fd_blob *b = fd_intern_add(s->fam_names, (const uint8_t *)name, strlen(name) + 1);
	if (!b)
		return -1;
	if (fd_intern_count(s->fam_names) == before)
		return (long)b->id;
	if (!fd_grow((void **)&s->fam, &s->cap_fam, s->n_fam, sizeof(*s->fam)))
		return -1;
	s->fam[s->n_fam++] = (struct family){(const char *)b->data, strdup(x->help), x->type};
	return s->fam[s->n_fam - 1].help ? (long)b->id : -1;
}

static int on_sample(void *ctx, const struct fd_prom_sample *x, struct fd_error *err)
{
	struct scrape_sink *s = ctx;
	if (!fd_prom_series_render(x, &s->text, &s->text_cap))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	uint32_t before = fd_intern_count(s->ser_texts);
	const struct fd_blob *b =
		fd_intern_add(s->ser_texts, (const uint8_t *)s->text, strlen(s->text) + 1);
	if (!b)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (fd_intern_count(s->ser_texts) != before) {
		long fam = family_of(s, x);
		if (fam < 0 || !fd_grow((void **)&s->ser, &s->cap_ser, s->n_ser, sizeof(*s->ser)))
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		s->ser[s->n_ser++] = (struct series){(uint32_t)fam, (const char *)b->data, 0, 0};
	}
	struct series *se = &s->ser[b->id];
	se->value = x->value;
	se->updated_ns = s->rec_ns;
	return 0;
}

static int scrape_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct scrape_sink *s = (struct scrape_sink *)sink;
	if (rec->signal != FD_SIGNAL_METRICS) {
		s->skipped_other++;
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	s->rec_ns = rec->time_ns;
	if (rec->time_ns > s->now_ns)
		s->now_ns = rec->time_ns;
	int rc = fd_prom_conv_record(s->conv, rec, on_sample, s, err);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0 && err->code == FD_EINPUT && !strstr(err->msg, sink->uri))
		fd_error_prefix(err, "sink '%s'", sink->uri);
	return rc;
}

/* ---- the page ---- */

struct entry {
	const struct family *fam;
	const struct series *ser;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->fam->name, y->fam->name);
	return c ? c : strcmp(x->ser->text, y->ser->text);
}

/* The exposition, families sorted by name, each in one piece. malloc'd;
 * NULL when out of memory. */
static char *render(struct scrape_sink *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	pthread_mutex_lock(&s->lock);
	s->scrapes++;
	struct entry *e = malloc((s->n_ser ? s->n_ser : 1) * sizeof(*e));
	size_t n = 0;
	for (size_t i = 0; e && i < s->n_ser; i++)
		if (fd_time_sub_sat(s->now_ns, s->ser[i].updated_ns) <= s->stale_ns)
			e[n++] = (struct entry){&s->fam[s->ser[i].family], &s->ser[i]};
	if (e)
		qsort(e, n, sizeof(*e), entry_cmp);
	const struct family *cur = NULL;
	char v[32];
	for (size_t i = 0; i < n; i++) {
		if (e[i].fam != cur) {
			cur = e[i].fam;
			if (cur->help[0]) {
				fprintf(f, "# HELP %s ", cur->name);
				fd_prom_write_escaped(f, cur->help, 0);
				fputc('\n', f);
			}
			fprintf(f, "# TYPE %s %s\n", cur->name, type_name(cur->type));
		}
		fprintf(f, "%s %s\n", e[i].ser->text, fd_format_double(v, e[i].ser->value));
	}
	pthread_mutex_unlock(&s->lock);
	bool failed = !e || ferror(f);
	free(e);
	if (fclose(f) != 0 || failed) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	static char oom[] = "out of memory\n";
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			       sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return respond(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1,
			       MHD_RESPMEM_PERSISTENT);
	size_t len = 0;
	char *body = render(cls, &len);
	if (!body)
		return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", oom, sizeof(oom) - 1,
			       MHD_RESPMEM_PERSISTENT);
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		       MHD_RESPMEM_MUST_FREE);
}

/* ---- the sink ---- */

static void stop(struct scrape_sink *s)
{
	if (s->httpd)
		MHD_stop_daemon(s->httpd);
	s->httpd = NULL;
}

/* Nothing to commit: the page is always current. */
static int scrape_close(struct fd_sink *sink, struct fd_error *err)
{
	(void)sink;
	(void)err;
	return 0;
}

static void scrape_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct scrape_sink *s = (struct scrape_sink *)sink;
	snprintf(buf, n, "%zu series served on port %u, scraped %llu times", s->n_ser,
		 (unsigned)s->port, (unsigned long long)s->scrapes);
}

static void scrape_destroy(struct fd_sink *sink)
{
	struct scrape_sink *s = (struct scrape_sink *)sink;
	stop(s);
	fd_prom_conv_destroy(s->conv);
	if (s->fam_names)
		fd_intern_destroy(s->fam_names);
	if (s->ser_texts)
		fd_intern_destroy(s->ser_texts);
	for (size_t i = 0; i < s->n_fam; i++)
		free(s->fam[i].help);
	free(s->fam);
	free(s->ser);
	free(s->text);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct fd_sink_impl scrape_impl = {
	.name = "scrape",
	.write = scrape_write,
	.close = scrape_close,
	.destroy = scrape_destroy,
	.report = scrape_report,
};

/* [HOST]:PORT?stale=D */
/* stale=D: how long a series stays on the page after its last report */
static int on_option(void *ctx, size_t idx, const char *key, const char *val, struct fd_error *err)
{
	(void)idx, (void)key;
	struct scrape_sink *s = ctx;
	const char *why = NULL;
	if (fd_units_duration(val, &s->stale_ns, &why) < 0 || s->stale_ns == 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': option 'stale': '%s': %s", s->base.uri,
				    val, why ? why : "must be more than 0");
	return 0;
}

static const char *const option_names[] = {"stale", NULL};

static int parse(struct scrape_sink *s, const char *uri, const char *rest, struct sockaddr_in *sa,
		 const struct fd_sink_context *ctx, struct fd_error *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	char why[160];
	if (fd_listen_addr_parse(rest, n, sa, why, sizeof(why)) < 0)
		return fd_error_set(err, FD_EINPUT, "sink '%s': scrape: %s", uri, why);
	bool seen[1] = {false};
	return fd_sink_options(uri, q ? q + 1 : NULL, option_names, 1, seen, NULL, on_option, s, ctx,
			       err);
}

static int scrape_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		       struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	struct scrape_sink *s = calloc(1, sizeof(*s));
	if (!s || fd_sink_init(&s->base, &scrape_impl, uri) < 0) {
		free(s);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	pthread_mutex_init(&s->lock, NULL);
	s->stale_ns = 60000000000;
	s->now_ns = INT64_MIN;
	struct sockaddr_in sa;
	int rc = parse(s, uri, rest, &sa, ctx, err);
	if (rc == 0) {
		s->conv = fd_prom_conv_create();
		s->fam_names = fd_intern_create();
		s->ser_texts = fd_intern_create();
		if (!s->conv || !s->fam_names || !s->ser_texts)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	if (rc == 0) {
		/* MHD reads the port from the address; the port argument is
		 * for when none is given. */
		s->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL,
					    NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
					    (struct sockaddr *)&sa, MHD_OPTION_END);
		if (!s->httpd) {
			char a[INET_ADDRSTRLEN];
			rc = fd_error_set(err, FD_ERUNTIME,
					  "sink '%s': cannot listen on %s:%u (in use, or not an address "
					  "of this machine?)",
					  uri, inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)),
					  (unsigned)ntohs(sa.sin_port));
		}
	}
	if (rc == 0) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_BIND_PORT);
		s->port = di ? di->port : ntohs(sa.sin_port);
		if (ctx && ctx->notice) {
			char a[INET_ADDRSTRLEN], msg[256];
			snprintf(msg, sizeof(msg), "sink '%s': serving /metrics on http://%s:%u/metrics",
				 uri, inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)), (unsigned)s->port);
			ctx->notice(ctx->notice_ctx, msg);
		}
	}
	if (rc < 0) {
		fd_sink_destroy(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

const struct fd_sink_descriptor fd_sink_scrape_descriptor = {
	.scheme = "scrape",
	.synopsis = "scrape:[HOST]:PORT[?stale=D]",
	.summary = "a /metrics endpoint for a Prometheus scrape job (port 0: any)",
	.options = option_names,
	.help = "      stale=D    series unreported for D of stream time go stale (1m)\n",
	.open = scrape_open,
};
