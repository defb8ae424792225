/*
 * es://HOST:PORT[/PREFIX][?options] and es+https://: the stream's logs as
 * Elastic Common Schema documents (sinks/ecs.h) through Elasticsearch's
 * _bulk API, into a data stream: POST PREFIX/INDEX/_bulk with
 * Content-Type application/x-ndjson and, per document, a {"create":{}}
 * line (a data stream takes only create) and the document's line. Spans
 * and metrics have no ECS form here: they are counted and skipped, and
 * close says so.
 *
 * Options (besides the connection options of sinks/http.h):
 *   index=NAME       the data stream (default logs-firedrill-default). For
 *                    a name logs-DATASET-NAMESPACE each document gets
 *                    event.dataset DATASET and the data_stream.* fields, as
 *                    the ECS reference asks; for any other index the
 *                    documents keep event.dataset <service.name>.log.
 *   batch_bytes=N    a _bulk body's largest size (5MB, Elastic's advice;
 *                    http.max_content_length is 100MB); a single larger
 *                    document goes alone.
 *   batch_docs=N     documents per _bulk request (10000).
 *   api_key=KEY      Authorization: ApiKey KEY (never printed); header=,
 *                    user= and password= work as for every HTTP sink.
 *   compression=gzip|none   the request body (none: Elasticsearch takes
 *                    gzip bodies only with http.compression on).
 *
 * Answers: the pool (sinks/http.h) retries 429, 502, 503 and 504 and
 * connection failures with backoff; 401 and 403 stop the stream; any other
 * non-2xx answer fails that request's documents. A 2xx answer is read for
 * item-level errors (the request asks for filter_path=errors,
 * items.*.error, so only failed items come back): each counts as refused,
 * by error type, with the first reason kept, and close fails (exit status
 * 1) when any document was refused or failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/units.h"
#include "otlp/pbwrite.h"
#include "sinks/ecs.h"
#include "sinks/http_sink.h"
#include "sinks/options.h"
#include "sinks/registry.h"

#define DEFAULT_INDEX "logs-firedrill-default"
#define DEFAULT_BATCH_BYTES 5000000
#define DEFAULT_BATCH_DOCS 10000
#define MAX_ANSWER (4u << 20) /* item errors of a whole request */
#define MAX_ERROR_TYPES 8

static const char action_line[] = "{\"create\":{}}\n";

struct es_sink {
	struct fd_http_sink hs; /* first: the interface casts between them */
	char *index, *dataset, *ns; /* dataset NULL: not a logs-*-* data stream */
	size_t batch_bytes, batch_docs;
	bool gzip;
	char *url;
	struct fd_ecs *ecs;

	char *body; /* the _bulk body being filled */
	size_t len, cap, docs;
	struct pbw doc; /* one document, reused */

	uint64_t skipped[FD_SIGNAL_COUNT];
	uint64_t sent_docs, body_bytes;

	/* Written by done() on the pool's thread under its lock; read after
	 * fd_http_pool_drain. */
	uint64_t indexed, refused, failed;
	struct {
		char type[64];
		uint64_t n;
	} types[MAX_ERROR_TYPES];
	char first_refusal[512], first_failure[700];
};

/* ---- answers ---- */

/* Counts the item errors of a _bulk answer; returns how many there were. */
static uint64_t item_errors(struct es_sink *s, const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *items = root ? json_object_get(root, "items") : NULL;
	uint64_t n = 0;
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
	{
		const char *op;
		json_t *res;
		json_object_foreach(item, op, res)
		{
			json_t *e = json_object_get(res, "error");
			if (!e)
				continue;
			n++;
			const char *type = json_string_value(json_object_get(e, "type"));
			const char *reason = json_string_value(json_object_get(e, "reason"));
			type = type ? type : "error";
			size_t k = 0;
			while (k < MAX_ERROR_TYPES && s->types[k].n && strcmp(s->types[k].type, type))
				k++;
			if (k < MAX_ERROR_TYPES) {
				snprintf(s->types[k].type, sizeof(s->types[k].type), "%s", type);
				s->types[k].n++;
			}
			if (!s->first_refusal[0])
				snprintf(s->first_refusal, sizeof(s->first_refusal), "%s: %.400s", type,
					 reason ? reason : "(no reason)");
		}
	}
	json_decref(root);
	return n;
}

static int on_done(void *ctx, uint64_t docs, const struct fd_http_outcome *o, struct fd_error *err)
{
	struct es_sink *s = ctx;
	if (o->why) {
		s->failed += docs;
		if (!s->first_failure[0])
			snprintf(s->first_failure, sizeof(s->first_failure), "%s", o->why);
		if (!o->cancelled && (o->status == 401 || o->status == 403))
			return fd_error_set(err, FD_ERUNTIME,
					    "sink '%s': %s refused the request: %s (stopped: every "
					    "request would be refused; check api_key=, header= or "
					    "user=/password=)",
					    s->hs.base.uri, s->url, o->why);
		return 0;
	}
	uint64_t bad = item_errors(s, o->body, o->body_len);
	if (bad > docs)
		bad = docs;
	s->refused += bad;
	s->indexed += docs - bad;
	return 0;
}

/* ---- bulk bodies ---- */

static int send_body(struct es_sink *s, struct fd_error *err)
{
	if (!s->docs)
		return 0;
	uint8_t *body = (uint8_t *)s->body;
	size_t len = s->len;
	uint64_t docs = s->docs;
	s->body = NULL;
	s->len = s->cap = s->docs = 0;
	s->body_bytes += len;
	if (s->gzip) {
		uint8_t *z;
		size_t zlen;
		int rc = fd_http_gzip(body, len, &z, &zlen);
		free(body);
		if (rc < 0)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		body = z;
		len = zlen;
	}
	int rc = fd_http_pool_submit(s->hs.pool, s->url, s->hs.headers, body, len, docs, err);
	if (rc == 0)
		s->sent_docs += docs;
	return rc;
}

static int append(struct es_sink *s, const char *p, size_t n)
{
	if (s->cap - s->len < n) {
		size_t cap = s->cap ? s->cap : 65536;
		while (cap - s->len < n)
			cap *= 2;
		char *b = realloc(s->body, cap);
		if (!b)
			return -1;
		s->body = b;
		s->cap = cap;
	}
	memcpy(s->body + s->len, p, n);
	s->len += n;
	return 0;
}

static int es_write(struct fd_sink *sink, const struct fd_record *rec, struct fd_error *err)
{
	struct es_sink *s = (struct es_sink *)sink;
	if ((unsigned)rec->signal >= FD_SIGNAL_COUNT)
		return fd_error_set(err, FD_EINPUT, "sink '%s': unknown signal %d", sink->uri,
				    (int)rec->signal);
	if (rec->signal != FD_SIGNAL_LOGS) {
		s->skipped[rec->signal]++;
		return 0;
	}
	if (!s->ecs && !(s->ecs = fd_ecs_create_stream(s->dataset, s->ns)))
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	pbw_reset(&s->doc);
	int rc = fd_ecs_encode(s->ecs, rec, &s->doc, err);
	if (rc < 0)
		return fd_error_prefix(err, "sink '%s'", sink->uri);
	size_t n = sizeof(action_line) - 1 + s->doc.len + 1;
	if (s->docs && s->len + n > s->batch_bytes)
		rc = send_body(s, err);
	if (rc == 0 && (append(s, action_line, sizeof(action_line) - 1) < 0 ||
			append(s, (const char *)s->doc.buf, s->doc.len) < 0 || append(s, "\n", 1) < 0))
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc < 0)
		return rc;
	if (++s->docs >= s->batch_docs || s->len >= s->batch_bytes)
		return send_body(s, err);
	return 0;
}

static int es_flush(struct fd_sink *sink, struct fd_error *err)
{
	return send_body((struct es_sink *)sink, err);
}

static int es_close(struct fd_sink *sink, struct fd_error *err)
{
	struct es_sink *s = (struct es_sink *)sink;
	int rc = fd_http_sink_drain(&s->hs, send_body(s, err), err);
	if (rc < 0)
		return rc;
	fd_http_sink_skipped_notice(&s->hs, "Elasticsearch", s->skipped);
	if (!s->refused && !s->failed)
		return 0;
	char types[400] = "";
	size_t o = 0;
	for (size_t k = 0; k < MAX_ERROR_TYPES && s->types[k].n && o < sizeof(types); k++)
		o += (size_t)snprintf(types + o, sizeof(types) - o, "%s%s %" PRIu64, k ? ", " : "",
				      s->types[k].type, s->types[k].n);
	char refused[700] = "", failed[800] = "";
	if (s->refused)
		snprintf(refused, sizeof(refused), "; %" PRIu64 " refused (%s; first: %.300s)",
			 s->refused, types, s->first_refusal);
	if (s->failed)
		snprintf(failed, sizeof(failed), "; %" PRIu64 " failed (first: %.400s)", s->failed,
			 s->first_failure);
	return fd_error_set(err, FD_ERUNTIME,
			    "sink '%s': not every document was indexed: of %" PRIu64 ", %" PRIu64
			    " indexed%.420s%.420s",
			    sink->uri, s->sent_docs, s->indexed, refused, failed);
}

static void es_report(struct fd_sink *sink, char *buf, size_t n)
{
	struct es_sink *s = (struct es_sink *)sink;
	struct fd_http_pool_stats ps;
	fd_http_pool_stats(s->hs.pool, &ps);
	snprintf(buf, n,
		 "%" PRIu64 " _bulk requests (%.1f MB), %" PRIu64 " documents indexed, %" PRIu64
		 " refused, %" PRIu64 " failed, %" PRIu64 " retries",
		 ps.requests, (double)s->body_bytes / 1e6, s->indexed, s->refused, s->failed,
		 ps.retries);
}

static void es_destroy(struct fd_sink *sink)
{
	struct es_sink *s = (struct es_sink *)sink;
	fd_http_sink_stop(&s->hs); /* first: its callbacks use the rest */
	fd_ecs_destroy(s->ecs);
	free(s->body);
	pbw_finish(&s->doc);
	free(s->url);
	free(s->index);
	free(s->dataset);
	free(s->ns);
	fd_http_sink_finish(&s->hs);
	free(s);
}

static const struct fd_sink_impl es_impl = {
	.name = "es",
	.write = es_write,
	.flush = es_flush,
	.close = es_close,
	.destroy = es_destroy,
	.report = es_report,
};

/* ---- options ---- */

/* ours, then the connection options */
static const char *const all_options[] = {"index", "batch_bytes", "batch_docs", "api_key",
					  "compression", FD_HTTP_OPTION_NAMES, NULL};
#define N_OWN 5

/* Elasticsearch's index name rules: lowercase, no \ / * ? " < > | space ,
 * #, not starting with - _ +, not . or .., at most 255 bytes. */
static bool index_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || n > 255 || strchr("-_+", v[0]) || !strcmp(v, ".") || !strcmp(v, ".."))
		return false;
	for (const char *p = v; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || strchr("\\/*?\"<>| ,#:", *p) || (unsigned char)*p < ' ')
			return false;
	return true;
}

static int on_option(void *sink, const char *key, const char *val, struct fd_error *err)
{
	struct es_sink *s = sink;
	const char *uri = s->hs.base.uri, *why = NULL;
	if (!strcmp(key, "index")) {
		if (!index_ok(val))
			return fd_http_bad_value(uri, key, val,
						 "an index or data stream name is lowercase, without \\ / * ? "
						 "\" < > | , # : or spaces, and does not start with - _ +",
						 err);
		free(s->index);
		if (!(s->index = strdup(val)))
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
	} else if (!strcmp(key, "batch_bytes")) {
		int64_t n;
		if (fd_units_size(val, &n, &why) < 0)
			return fd_http_bad_value(uri, key, val, why, err);
		if (n < 1 || n > 1000000000)
			return fd_http_bad_value(uri, key, val, "must be between 1 and 1000000000 bytes",
						 err);
		s->batch_bytes = (size_t)n;
	} else if (!strcmp(key, "batch_docs")) {
		long long n;
		if (fd_units_integer(val, 1, 10000000, &n, &why) < 0)
			return fd_http_bad_value(uri, key, val, why, err);
		s->batch_docs = (size_t)n;
	} else if (!strcmp(key, "api_key")) {
		/* through header=, so that it is sent and redacted the same way */
		char h[1024];
		if (strlen(val) > sizeof(h) - 32)
			return fd_error_set(err, FD_EINPUT, "sink '%s': option 'api_key' too long", uri);
		snprintf(h, sizeof(h), "Authorization:ApiKey %s", val);
		int rc = fd_http_option(&s->hs.http, uri, "header", h, err);
		return rc < 0 ? rc : 0;
	} else if (!strcmp(key, "compression")) {
		return fd_http_compression_option(uri, val, &s->gzip, err);
	}
	return 0;
}

/* logs-DATASET-NAMESPACE: the data stream naming scheme. */
static int split_stream(struct es_sink *s)
{
	const char *i = s->index;
	const char *last = strrchr(i, '-');
	if (strncmp(i, "logs-", 5) != 0 || !last || last <= i + 5 || !last[1])
		return 0;
	s->dataset = strndup(i + 5, (size_t)(last - (i + 5)));
	s->ns = strdup(last + 1);
	return s->dataset && s->ns ? 0 : -1;
}

static int open_sink(const char *uri, const char *rest, bool tls, const struct fd_sink_context *ctx,
		     struct fd_sink **out, struct fd_error *err)
{
	*out = NULL;
	const struct fd_http_sink_kind kind = {tls ? "es+https" : "es", "localhost:9200", tls, true};
	struct es_sink *s;
	int rc = fd_http_sink_new(&s, sizeof(*s), &es_impl, &kind, uri, rest, ctx, err);
	if (rc < 0)
		return rc;
	s->batch_bytes = DEFAULT_BATCH_BYTES;
	s->batch_docs = DEFAULT_BATCH_DOCS;
	if (!(s->index = strdup(DEFAULT_INDEX)))
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0)
		rc = fd_http_sink_options(s->hs.base.uri, fd_http_query(rest), all_options, N_OWN,
					  &s->hs.http, on_option, s, ctx, err);
	if (rc == 0 && split_stream(s) < 0)
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (rc == 0) {
		/* only the failed items come back: a 5 MB request's answer
		 * stays small when everything went in */
		size_t len = strlen(s->hs.origin) + strlen(s->index) + 80;
		if (!(s->url = malloc(len)))
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		else
			snprintf(s->url, len, "%s/%s/_bulk?filter_path=errors,items.*.error", s->hs.origin,
				 s->index);
	}
	const char *fixed[] = {"Content-Type: application/x-ndjson",
			       s->gzip ? "Content-Encoding: gzip" : NULL,
			       "Expect:"}; /* no 100-continue round trip before large bodies */
	if (rc == 0)
		rc = fd_http_sink_start(&s->hs, fixed, 3, MAX_ANSWER, on_done, err);
	if (rc < 0) {
		fd_sink_destroy(&s->hs.base);
		return rc;
	}
	*out = &s->hs.base;
	return 0;
}

static int plain_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		      struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, false, ctx, out, err);
}

static int tls_open(const char *uri, const char *rest, const struct fd_sink_context *ctx,
		    struct fd_sink **out, struct fd_error *err)
{
	return open_sink(uri, rest, true, ctx, out, err);
}

const struct fd_sink_descriptor fd_sink_es_descriptor = {
	.scheme = "es",
	.synopsis = "es://HOST:PORT[/PREFIX][?options]",
	.summary = "logs as ECS documents through Elasticsearch _bulk into a data stream",
	.options = all_options,
	.help = "      index=NAME (logs-firedrill-default), batch_bytes=N (5MB),\n"
		"      batch_docs=N (10000), api_key=KEY, compression=gzip|none (none),\n"
		"      and as every HTTP sink (docs/backends.md):\n"
		FD_HTTP_SINK_HELP,
	.open = plain_open,
};

const struct fd_sink_descriptor fd_sink_es_https_descriptor = {
	.scheme = "es+https",
	.synopsis = "es+https://HOST:PORT[/PREFIX][?options]",
	.summary = "the same over TLS (options as es)",
	.options = all_options,
	.open = tls_open,
};
