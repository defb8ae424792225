/*
 * The request path. A request is simulated whole at its arrival: the
 * entry endpoint serves it on an instance picked by the balancer, its own
 * time is drawn under the effects active then (and slowed by CPU saturation
 * and GC), and its calls play out one after another — HTTP calls to other
 * endpoints and external dependencies with timeouts, retries and circuit
 * breakers, database queries through a connection pool, cache lookups with
 * their misses, messages produced to queues. Every hop writes its span (when
 * the trace is sampled), its log lines (in the request's trace context,
 * sampled or not) and its observations.
 *
 * Errors follow one taxonomy (enum sim_err): a failure is raised by the
 * client library of the service that sees it, as its runtime's exception
 * class; error.type is the HTTP status code when there was a response, the
 * exception class when there was none. Statuses travel as a real system
 * passes them: the edge service passes its upstream's status on, as a
 * gateway does; an inner service answers 500 for a failed call, 504 when its
 * own timeout fired and 503 when its sidecar had nothing to connect to.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

static const char *status_text(int status)
{
	switch (status) {
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 429: return "Too Many Requests";
	default: return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "OK";
	}
}

/* ---- paths with real ids ----------------------------------------------------- */

/* Decimal digits of v, at least min wide, at buf[k]; the new length. */
static size_t put_u64(char *buf, size_t k, size_t n, uint64_t v, int min)
{
	char d[24];
	int m = 0;
	do {
		d[m++] = (char)('0' + v % 10);
		v /= 10;
	} while ((v || m < min) && m < 20);
	while (m && k + 1 < n)
		buf[k++] = d[--m];
	return k;
}

/* An index in [0, n) from the hash h, skewed as real traffic is: a quarter
 * of the draws go to the hottest hundredth of the values. */
static uint64_t skewed(uint64_t h, uint64_t n)
{
	uint64_t hot = n / 100 ? n / 100 : 1;
	return h % 4 ? (h >> 2) % n : (h >> 8) % hot;
}

/* scale.users: the request's user, the same at every hop (from the trace
 * id), as a decimal user.id. */
static void user_id(const struct fd_sim *s, const struct req *rq, char *buf, size_t n)
{
	uint64_t x = 0x75736572ULL; /* "user" */
	for (int i = 0; i < 16; i++)
		x = (x ^ rq->trace_id[i]) * 0x100000001b3ULL;
	uint64_t h = fd_splitmix64(&x);
	size_t k = put_u64(buf, 0, n, 100000 + skewed(h, s->sc->scale.users), 1);
	buf[k] = '\0';
}

/* A route template with its parameters filled in for this request:
 * "/orders/{id}" -> "/orders/48213377". The value depends on the request's
 * trace id and the parameter's name, so every hop of a request names the
 * same order, and different requests different ones; with
 * scale.paths, one of that many values per parameter. */
void sim_url_path(const struct fd_sim *s, char *buf, size_t n, const char *route, const struct req *rq)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (const char *p = route; *p && k + 1 < n;) {
		if (*p != '{') {
			buf[k++] = *p++;
			continue;
		}
		const char *close = strchr(p, '}');
		if (!close)
			break;
		uint64_t x = 0;
		memcpy(&x, rq->trace_id + 4, 8);
		for (const char *q = p + 1; q < close; q++)
			x = (x ^ (uint8_t)*q) * 0x100000001b3ULL;
		uint64_t h = fd_splitmix64(&x), *state = &x, y = 0;
		size_t name_len = (size_t)(close - p - 1);
		uint64_t paths = s->sc->scale.paths;
		if (paths) {
			/* scale.paths: this many values per parameter, skewed */
			uint64_t v = skewed(h, paths);
			if (name_len >= 2 && (!strncmp(close - 2, "id", 2) || !strncmp(close - 2, "Id", 2)) &&
			    !(name_len >= 4 && !strncmp(p + 1, "uuid", 4))) {
				k = put_u64(buf, k, n, 1000 + v, 1);
				p = close + 1;
				continue;
			}
			/* the value's look from v and the parameter's name only */
			y = 0xcbf29ce484222325ULL;
			for (const char *q = p + 1; q < close; q++)
				y = (y ^ (uint8_t)*q) * 0x100000001b3ULL;
			y ^= v * 0x9e3779b97f4a7c15ULL;
			h = fd_splitmix64(&y);
			state = &y;
		}
		if (name_len >= 3 && !strncmp(close - 3, "sku", 3)) {
			if (k + 4 < n) {
				buf[k++] = (char)('A' + (int)(h % 26));
				buf[k++] = (char)('A' + (int)(h / 26 % 26));
				buf[k++] = '-';
			}
			k = put_u64(buf, k, n, (h >> 20) % 100000, 5);
		} else if (name_len >= 4 && !strncmp(p + 1, "uuid", 4)) {
			uint64_t h2 = fd_splitmix64(state);
			for (int i = 0; i < 32 && k + 2 < n; i++) {
				if (i == 8 || i == 12 || i == 16 || i == 20)
					buf[k++] = '-';
				uint64_t src = i < 16 ? h : h2;
				int nib = (int)(src >> (4 * (i % 16))) & 15;
				buf[k++] = i == 12 ? '4' : i == 16 ? hex[8 | (nib & 3)] : hex[nib];
			}
		} else if (name_len >= 2 && (!strncmp(close - 2, "id", 2) || !strncmp(close - 2, "Id", 2))) {
			/* ids are skewed: a few hot entities, a long tail */
			k = put_u64(buf, k, n, h % 4 ? 100000 + h % 9000000 : 1000 + (h >> 8) % 200, 1);
		} else {
			for (int i = 0; i < 8 && k + 1 < n; i++)
				buf[k++] = hex[(h >> (4 * i)) & 15];
		}
		p = close + 1;
	}
	buf[k] = '\0';
}

/* ---- access logs ---------------------------------------------------------------- */

struct access_ctx {
	struct fd_sim *s;
	const struct fd_endpoint *ep;
	const char *path;
	int status;
	int64_t dur;
	const struct req *rq;
};

/* The attributes every access log of the endpoint has, encoded once: one
 * per request, and encoding them was a tenth of generation time. */
static const struct sim_bytes *access_const(struct fd_sim *s, const struct fd_endpoint *ep)
{
	struct sim_bytes *b = &s->access_attrs[ep->id];
	if (!b->buf) {
		struct pbw tmp = {0};
		otlp_attr_str(&tmp, OTLP_LOG_ATTRIBUTES, "log.type", "access");
		otlp_attr_str(&tmp, OTLP_LOG_ATTRIBUTES, "http.request.method", ep->method);
		otlp_attr_str(&tmp, OTLP_LOG_ATTRIBUTES, "http.route", ep->route);
		if (tmp.oom) {
			pbw_finish(&tmp);
			sim_oom(s);
			return NULL;
		}
		b->buf = tmp.buf;
		b->len = tmp.len;
	}
	return b;
}

static void access_attrs(struct pbw *w, const void *p)
{
	const struct access_ctx *a = p;
	const struct sim_bytes *c = access_const(a->s, a->ep);
	if (c && pbw_room(w, c->len)) {
		memcpy(w->buf + w->len, c->buf, c->len);
		w->len += c->len;
	}
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "url.path", a->path);
	otlp_attr_int(w, OTLP_LOG_ATTRIBUTES, "http.response.status_code", a->status);
	otlp_attr_double(w, OTLP_LOG_ATTRIBUTES, "http.server.request.duration", (double)a->dur / (double)NS);
	if (a->rq && a->rq->payload > 0)
		otlp_attr_int(w, OTLP_LOG_ATTRIBUTES, "http.request.body.size", a->rq->payload);
	sim_dims_attrs(a->s, w, OTLP_LOG_ATTRIBUTES, a->rq);
	if (a->s->sc->scale.users && a->rq) {
		char user[24];
		user_id(a->s, a->rq, user, sizeof(user));
		otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "user.id", user);
	}
}

static size_t put(char *buf, size_t len, size_t n, const char *p)
{
	size_t m = strlen(p);
	if (len + m >= n)
		m = n - len - 1;
	memcpy(buf + len, p, m);
	return len + m;
}

/* "POST /orders/48213377 200 OK 12.3ms", without printf: one per request,
 * and the formatted-output machinery was a tenth of generation time. */
static void access_body(char *buf, size_t n, const char *method, const char *path, int status,
			int64_t dur)
{
	char code[5] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
			(char)('0' + status % 10), ' ', '\0'};
	size_t len = put(buf, 0, n, method);
	len = put(buf, len, n, " ");
	len = put(buf, len, n, path);
	len = put(buf, len, n, " ");
	len = put(buf, len, n, code);
	len = put(buf, len, n, status_text(status));
	len = put(buf, len, n, " ");
	/* milliseconds with one decimal, rounded */
	uint64_t tenths = (uint64_t)((dur + 50000) / 100000);
	char digits[24];
	int d = 0;
	uint64_t whole = tenths / 10;
	do {
		digits[d++] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole && d < 20);
	while (d && len + 1 < n)
		buf[len++] = digits[--d];
	if (len + 5 < n) {
		buf[len++] = '.';
		buf[len++] = (char)('0' + tenths % 10);
		buf[len++] = 'm';
		buf[len++] = 's';
	}
	buf[len] = '\0';
}

/* "POST payments/charge failed (timeout), retrying in 20ms (attempt 2 of
 * 3)" without printf, the same bytes as the format in the comment below:
 * in a retry storm every failed attempt logs one, and vsnprintf was 3% of
 * generate retry-storm's samples. */
static void retry_line(struct fd_sim *s, struct inst *in, int64_t t, const struct logctx *ctx,
		       const char *method, const char *peer, const char *path, const char *why,
		       int64_t wait, int attempt, int attempts)
{
	/* "%s %s%s failed (%s), retrying in %.0fms (attempt %d of %d)" */
	double ms = nearbyint((double)wait / 1e6); /* %.0f: to nearest, ties to even */
	if (!(ms >= 0 && ms < 1e15) || attempt < 0 || attempts < 0) {
		sim_logf_line(s, in, t, SEV_WARN, SCOPE_LOG_CLIENT, ctx,
			      "%s %s%s failed (%s), retrying in %.0fms (attempt %d of %d)", method, peer, path,
			      why, (double)wait / 1e6, attempt, attempts);
		return;
	}
	char body[512];
	size_t n = sizeof(body), k = put(body, 0, n, method);
	k = put(body, k, n, " ");
	k = put(body, k, n, peer);
	k = put(body, k, n, path);
	k = put(body, k, n, " failed (");
	k = put(body, k, n, why);
	k = put(body, k, n, "), retrying in ");
	k = put_u64(body, k, n, (uint64_t)ms, 1);
	k = put(body, k, n, "ms (attempt ");
	k = put_u64(body, k, n, (uint64_t)attempt, 1);
	k = put(body, k, n, " of ");
	k = put_u64(body, k, n, (uint64_t)attempts, 1);
	k = put(body, k, n, ")");
	body[k] = '\0';
	sim_log_line(s, in, t, SEV_WARN, SCOPE_LOG_CLIENT, body, ctx, NULL, NULL);
}

/* ---- exceptions --------------------------------------------------------------- */

/* An exception raised in sv: its class, message and (only for sampled
 * spans and error lines, which show it) stack. */
void sim_exc_make(struct exc *e, struct fd_sim *s, const struct svc *sv, enum sim_err err,
		     const struct err_info *x, const char *method, const char *route, bool stack,
		     const uint8_t *trace_id)
{
	e->err = err;
	e->type = sim_exception_type(sv, err);
	sim_exception_message(e->msg, sizeof(e->msg), sv, err, x);
	e->stack[0] = '\0';
	if (stack)
		sim_stacktrace(e->stack, sizeof(e->stack), s, sv, method, route, err, e->type, e->msg,
			       trace_id);
}

void sim_exc_on_span(struct span *sp, const struct exc *e)
{
	sp->exception_type = e->type;
	sp->exception_msg = e->msg;
	sp->stack = e->stack[0] ? e->stack : NULL;
}

struct exc_log {
	const struct exc *e;
};

static void exc_attrs(struct pbw *w, const void *p)
{
	const struct exc *e = ((const struct exc_log *)p)->e;
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "exception.type", e->type);
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "exception.message", e->msg);
	if (e->stack[0])
		otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "exception.stacktrace", e->stack);
}

void sim_exc_log(struct fd_sim *s, struct inst *in, int64_t t, const struct logctx *ctx,
		    const struct exc *e, const char *what)
{
	char body[512];
	snprintf(body, sizeof(body), "%s%s%s: %s", what ? what : "", what ? ": " : "", e->type, e->msg);
	struct exc_log x = {.e = e};
	sim_log_line(s, in, t, SEV_ERROR, SCOPE_LOG_APP, body, ctx, exc_attrs, &x);
}

static int64_t backoff_for(const struct fd_retry *r, int attempt)
{
	double b = (double)r->backoff_ns * pow(r->multiplier > 0 ? r->multiplier : 2, attempt);
	if (r->max_backoff_ns > 0 && b > (double)r->max_backoff_ns)
		b = (double)r->max_backoff_ns;
	return (int64_t)b;
}

static void breaker_record(struct breaker *b, bool probe, int64_t end, bool failed)
{
	if (probe) {
		b->probe_end = end;
		b->probe_failed = failed;
		return;
	}
	if (b->state != BR_CLOSED)
		return; /* a call let through before it opened: the window restarts */
	b->end[b->head] = end;
	b->failed[b->head] = failed;
	b->head = (b->head + 1) % BREAKER_RING;
	if (b->n < BREAKER_RING)
		b->n++;
}

/* ---- HTTP calls ---------------------------------------------------------------- */

/* One way across the network from a caller to a callee's service: a
 * log-normal whose median and spread belong to the pair (their nodes,
 * their sidecars), and now and then a lost packet that waits out TCP's
 * 200 ms retransmission timeout. */
static int64_t edge_net(struct fd_sim *s, const struct svc *from, const struct fd_service *to)
{
	uint64_t x = (uint64_t)from->def->id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(to->id + 1) * 0xc2b2ae3d27d4eb4fULL;
	uint64_t h = fd_splitmix64(&x);
	double median = 180e3 + (double)(h % 700) * 1e3;
	double sigma = 0.3 + (double)((h >> 16) % 35) / 100;
	double v = median * exp(sigma * fd_rng_normal(&s->rng));
	if (fd_rng_chance(&s->rng, 0.0002))
		v += 200 * MS;
	return (int64_t)v;
}

/* Whether a call through breaker b may go out at t; false: refuse it. A
 * call let through while half-open is the probe (*probe). */
static bool breaker_allows(struct fd_sim *s, struct inst *in, const struct fd_breaker *def,
			   struct breaker *b, const char *target, int64_t t, bool *probe)
{
	*probe = false;
	if (b->state == BR_HALF_OPEN) {
		if (t < b->probe_end)
			return false; /* one probe at a time */
		if (b->probe_failed) {
			b->state = BR_OPEN;
			b->open_until = b->probe_end + def->open_ns;
			sim_logf_line(s, in, b->probe_end, SEV_WARN, SCOPE_LOG_BREAKER, NULL,
				      "circuit breaker for %s: trial call failed, open again for %.0fs", target,
				      (double)def->open_ns / 1e9);
		} else {
			b->state = BR_CLOSED;
			b->n = b->head = 0;
			sim_logf_line(s, in, b->probe_end, SEV_INFO, SCOPE_LOG_BREAKER, NULL,
				      "circuit breaker for %s closed: trial call succeeded", target);
		}
	}
	if (b->state == BR_OPEN) {
		if (t < b->open_until)
			return false;
		b->state = BR_HALF_OPEN;
		b->probe_end = INT64_MAX; /* until breaker_record */
		*probe = true;
		sim_logf_line(s, in, t, SEV_INFO, SCOPE_LOG_BREAKER, NULL,
			      "circuit breaker for %s half-open: letting one trial call through", target);
		return true;
	}
	int calls = 0, failures = 0;
	for (int i = 0; i < b->n; i++) {
		int64_t e = b->end[i];
		if (e <= t && e > t - def->window_ns) {
			calls++;
			failures += b->failed[i];
		}
	}
	if (calls >= def->min_calls && failures >= def->failure_ratio * calls) {
		b->state = BR_OPEN;
		b->open_until = t + def->open_ns;
		sim_logf_line(s, in, t, SEV_WARN, SCOPE_LOG_BREAKER, NULL,
			      "circuit breaker for %s opened: %d of %d calls failed in the last %.0fs; "
			      "failing fast for %.0fs",
			      target, failures, calls, (double)def->window_ns / 1e9,
			      (double)def->open_ns / 1e9);
		return false;
	}
	return true;
}

/* The client span of one attempt. */
static void client_span(struct fd_sim *s, struct inst *in, const struct fd_blob *res,
			struct span *sp, const struct fd_endpoint *callee, const struct fd_dependency *dep,
			const char *method, const char *route, const char *peer, const char *path,
			int attempt, int status, const char *error_type)
{
	char name[160], url[320];
	snprintf(url, sizeof(url), dep ? "https://%s%s" : "http://%s:8080%s", peer, path);
	if (!callee)
		snprintf(name, sizeof(name), "%s %s", method, route);
	struct pbw *w = &s->w;
	sim_span_begin(w, sp, in, callee ? callee->key : name);
	otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.request.method", method);
	otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", peer);
	otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "server.port", dep ? 443 : 8080);
	otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.full", url);
	otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.template", route);
	if (dep)
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "peer.service", dep->name);
	if (status > 0)
		otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.response.status_code", status);
	if (attempt > 0)
		otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.request.resend_count", attempt);
	if (error_type)
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", error_type);
	sim_span_finish(s, w, sp, in, res, SCOPE_HTTP_CLIENT, NULL);
}

static struct outcome call_http(struct fd_sim *s, struct req *rq, struct inst *in,
				const struct fd_call *call, int64_t t, const uint8_t *parent, int depth)
{
	const struct fd_endpoint *callee = call->endpoint;
	const struct fd_dependency *dep = call->dependency;
	int64_t timeout = call->timeout_ns ? call->timeout_ns : callee ? callee->timeout_ns : 0;
	const struct fd_retry *retry = call->has_retry ? &call->retry
				       : callee ? &callee->retry : &(struct fd_retry){0};
	/* a `retries` effect on the calling service caps its retries (a
	 * drill's "disable retries") */
	struct mods cm;
	sim_mods_init(&cm);
	sim_apply_effects(s, &s->by_service[in->svc->def->id], rq, in, t, &cm);
	struct fd_retry capped;
	if (cm.retries >= 0 && cm.retries < retry->max) {
		capped = *retry;
		capped.max = cm.retries;
		retry = &capped;
	}
	const char *method = callee ? callee->method : call->method ? call->method : "GET";
	const char *route = callee ? callee->route : call->route ? call->route : "/";
	const char *peer = callee ? callee->service->name : dep->host ? dep->host : dep->name;
	/* client metrics: dependencies first, then endpoints (see series_attrs) */
	int series = dep ? dep->id : (int)s->sc->n_dependencies + callee->id;
	int inc_idx = 0;
	struct incarnation *inc = sim_inc_at(in, t, &inc_idx);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	int64_t cur = t;
	struct outcome last = {0};
	struct breaker *br = call->has_breaker ? &in->breakers[call->breaker.id] : NULL;
	/* the path with its ids, made only when something shows it */
	char target[256] = "", pathbuf[256] = "";
#define PATH() (pathbuf[0] ? pathbuf : (sim_url_path(s, pathbuf, sizeof(pathbuf), route, rq), pathbuf))
	if (br)
		snprintf(target, sizeof(target), "%s (%s %s)", peer, method, route);

	for (int attempt = 0;; attempt++) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = cur};
		sim_random_id(s, sp.id, 8);
		struct logctx ctx = sim_ctx(rq, sp.id);
		bool probe = false;
		if (br && !breaker_allows(s, in, &call->breaker, br, target, cur, &probe)) {
			/* refused in the client: no request, no retry, ~20 us */
			int64_t end = cur + 20000;
			/* the exception shows only on a sampled span */
			if (rq->sampled) {
				struct exc e;
				struct err_info xi = {.peer = peer, .method = method, .path = PATH()};
				sim_exc_make(&e, s, in->svc, ERR_CIRCUIT_OPEN, &xi, method, route, true,
					     rq->trace_id);
				sp.end = end;
				sp.error = true;
				sim_exc_on_span(&sp, &e);
				sp.status_msg = e.msg;
				client_span(s, in, res, &sp, callee, dep, method, route, peer, PATH(), attempt, 0, e.type);
			}
			if (inc)
				sim_observe(s, in, SERIES_HTTP_CLIENT, inc_idx, series, -ERR_CIRCUIT_OPEN, NULL, end,
					    end - cur);
			return (struct outcome){.end = end, .status = 503, .err = ERR_CIRCUIT_OPEN, .method = method,
						.peer = peer, .route = route};
		}
		struct mods m;
		sim_mods_init(&m);
		int64_t net = call->has_latency ? sim_sample_dist(s, &call->latency) : 0;
		int64_t resp;
		struct outcome r;
		if (callee) {
			/* the scenario's network time for the call, else the edge's */
			int64_t there = call->has_latency ? net / 2 : edge_net(s, in->svc, callee->service);
			int64_t back = call->has_latency ? net - net / 2 : edge_net(s, in->svc, callee->service);
			r = sim_serve(s, rq, callee, cur + there, sp.id, depth + 1, NULL);
			resp = r.end + back;
		} else {
			sim_apply_effects(s, &s->by_dependency[dep->id], rq, in, cur, &m);
			int64_t lat = sim_modify_latency(s, call->has_latency ? net : sim_sample_dist(s, &dep->latency), &m);
			double p = sim_mix(dep->error_probability, m.err_level, m.err_p);
			r = (struct outcome){.status = 200};
			if (fd_rng_chance(&s->rng, p))
				r.status = m.err_level > 0 && m.err_status ? m.err_status
					   : dep->error_status ? dep->error_status : 503;
			resp = cur + lat;
			r.end = resp;
		}
		/* A response the caller sees (possibly an error status), or none:
		 * its own timeout fired, or the callee died mid-request. */
		bool failed = r.status >= 500, timed_out = false, reset = r.err == ERR_RESET;
		int64_t eff_timeout = m.timeout ? m.timeout : timeout;
		if (eff_timeout > 0 && resp - cur > eff_timeout) {
			resp = cur + eff_timeout;
			failed = timed_out = true;
			reset = false;
		}
		enum sim_err err = !failed ? ERR_NONE : timed_out ? ERR_TIMEOUT : reset ? ERR_RESET : ERR_UPSTREAM;
		int status = timed_out || reset ? 0 : r.status;
		if (br)
			breaker_record(br, probe, resp, failed);
		if (dep)
			sim_hop_add(s, rq, sim_hop_dependency(s, dep), resp - cur);
		if (sim_inc_at(in, cur, &inc_idx))
			sim_observe(s, in, SERIES_HTTP_CLIENT, inc_idx, series, status ? status : -(int)err, NULL, resp,
				    resp - cur);
		struct exc e;
		e.type = NULL;
		e.msg[0] = e.stack[0] = '\0';
		/* the exception shows only on a sampled span (formatting it for
		 * every failed call was 1% of generate retry-storm) */
		if ((err == ERR_TIMEOUT || err == ERR_RESET) && rq->sampled) {
			struct err_info xi = {.ns = eff_timeout, .peer = peer, .method = method, .path = PATH()};
			sim_exc_make(&e, s, in->svc, err, &xi, method, route, true, rq->trace_id);
		}
		if (rq->sampled) {
			sp.end = resp;
			sp.error = failed;
			char code[16];
			snprintf(code, sizeof(code), "%d", status);
			if (status == 0 && failed) {
				sim_exc_on_span(&sp, &e);
				sp.status_msg = e.msg;
			}
			client_span(s, in, res, &sp, callee, dep, method, route, peer, PATH(), attempt, status,
				    !failed ? NULL : status ? code : e.type);
		}
		cur = resp;
		last = (struct outcome){.end = cur, .status = timed_out ? 504 : reset ? 502 : r.status,
					.timeout = timed_out, .err = err, .body = r.mesh ? r.body : NULL,
					.mesh = r.mesh, .method = method, .peer = peer, .route = route,
					.ns = eff_timeout};
		if (!failed)
			return last;
		if (attempt >= retry->max)
			break;
		int64_t wait = backoff_for(retry, attempt);
		retry_line(s, in, cur, &ctx, method, peer, PATH(),
			   timed_out ? "timeout" : reset ? "connection reset" : status_text(r.status), wait,
			   attempt + 2, retry->max + 1);
		cur += wait;
	}
	last.end = cur;
	return last;
}
#undef PATH

/* ---- serving a request ---------------------------------------------------------- */

/* The queue whose handler ep is (a consumer endpoint), for its attributes. */
static const struct fd_queue *queue_of_handler(const struct fd_sim *s, const struct fd_endpoint *ep)
{
	for (size_t i = 0; i < s->sc->n_queues; i++)
		if (s->sc->queues[i].handler == ep)
			return &s->sc->queues[i];
	return NULL;
}

struct outcome sim_serve(struct fd_sim *s, struct req *rq, const struct fd_endpoint *ep,
			 int64_t t, const uint8_t *parent, int depth, const struct span *consumer)
{
	struct svc *sv = &s->svcs[ep->service->id];
	struct inst *in = sim_pick_instance(s, sv, t);
	/* Nothing to send it to: the caller's sidecar answers 503 itself. */
	if (!in)
		return (struct outcome){.end = t + MS, .status = 503, .mesh = true, .err = ERR_UPSTREAM,
					.body = "no healthy upstream"};
	int inc_idx = 0;
	struct incarnation *inc = sim_inc_at(in, t, &inc_idx);
	/* A crash-looping instance between attempts: nothing listens. */
	if (!inc)
		return (struct outcome){.end = t + MS, .status = 503, .mesh = true, .err = ERR_UPSTREAM,
					.body = "upstream connect error or disconnect/reset before headers. "
						"reset reason: connection failure"};

	if (t > in->last_work)
		in->last_work = t;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_endpoint[ep->id], rq, in, t, &m);
	sim_apply_effects(s, &s->by_service[sv->def->id], rq, in, t, &m);
	sim_infra_node_effects(s, rq, in, t, &m);

	const struct fd_resources *r = &sv->def->resources;
	int64_t self = sim_modify_latency(s, sim_sample_dist(s, &ep->self), &m);
	self = (int64_t)((double)self * sim_cpu_factor(s, in, t));
	/* The request's CPU: the configured cost (else half its own time),
	 * varying by request and by replica. Its allocation fills the heap; a
	 * collection in progress, or the one it triggers, pauses it. */
	double cpu = (double)(r->cpu_per_request_ns > 0 ? r->cpu_per_request_ns : self / 2) * m.cpu *
		     in->cpu_eff * fmax(0.4, 1 + 0.25 * fd_rng_normal(&s->rng));
	/* its node's CPU oversubscribed: the same work takes longer */
	double crowded = sim_infra_slowdown(s, in);
	if (crowded > 1)
		self = (int64_t)((double)self * crowded);
	self += sim_heap_work(s, in, t, cpu);
	sim_hop_add(s, rq, (size_t)ep->id, self);
	sim_account_cpu(s, in, t, cpu);

	struct span sp = {.trace_id = rq->trace_id, .parent = parent, .remote_parent = parent != NULL,
			  .kind = consumer ? SPAN_CONSUMER : SPAN_SERVER, .start = t};
	sim_random_id(s, sp.id, 8);
	if (consumer) {
		sp.link_trace = consumer->link_trace;
		sp.link_span = consumer->link_span;
		sp.link_sampled = consumer->link_sampled;
	}
	struct logctx ctx = sim_ctx(rq, sp.id);

	/* The handler's own time: some before its first call, some between
	 * its calls (sim_run_calls spends it), the rest after the last. */
	int64_t pre = (int64_t)((double)self * (0.25 + 0.4 * fd_rng_uniform(&s->rng)));
	int64_t work = self - pre;
	struct outcome res = {.status = 200};
	struct outcome c = sim_run_calls(s, rq, in, ep, ep->calls, ep->n_calls, t + pre, sp.id, depth, &work);
	int64_t cur = c.end;
	enum sim_err raised = ERR_NONE; /* the exception this handler ends with */
	struct err_info xi = {.method = ep->method};
	int64_t failed_at = 0;
	char st[160];
	if (c.status >= 500) {
		raised = c.err != ERR_NONE ? c.err : ERR_UPSTREAM;
		if (depth == 0 && !consumer)
			res.status = c.timeout ? 504 : c.status; /* the edge passes its upstream's status on */
		else
			res.status = c.timeout ? 504 : c.mesh ? 503 : 500;
		res.err = ERR_UPSTREAM;
		if (c.body)
			snprintf(st, sizeof(st), "%s: \"%s\"", status_text(c.status), c.body);
		xi = (struct err_info){.ns = c.ns, .status = c.status, .status_text = c.body ? st : status_text(c.status),
				       .method = c.method, .peer = c.peer, .path = c.route, .pool = c.pool,
				       .waiting = c.waiting};
		failed_at = cur;
	}
	double err_p = sim_mix(ep->error_probability, m.err_level, m.err_p);
	if (res.status < 500 && fd_rng_chance(&s->rng, err_p)) {
		res.status = m.err_level > 0 && m.err_status ? m.err_status
			     : ep->error_status ? ep->error_status : 500;
		res.err = ERR_UPSTREAM;
		raised = ERR_INTERNAL;
		failed_at = cur + work / 2;
	}
	int64_t end = cur + work;
	if (depth == 0 && ep->timeout_ns > 0 && end - t > ep->timeout_ns) {
		end = t + ep->timeout_ns;
		res.status = 504;
		res.timeout = false;
		res.err = ERR_UPSTREAM;
		raised = ERR_DEADLINE;
		xi = (struct err_info){.ns = ep->timeout_ns};
		failed_at = end;
	}
	if (end - t > HORIZON_NS)
		end = t + HORIZON_NS;
	if (failed_at > end)
		failed_at = end;
	/* Killed while serving: the process dies before answering or
	 * exporting anything; the caller sees the connection drop. */
	if (inc && inc->killed && inc->end < end)
		return (struct outcome){.end = inc->end, .status = 502, .err = ERR_RESET};
	res.end = end;
	int64_t dur = end - t;
	in->slots[sim_slot_of(s, end)].busy_ns += (double)dur;

	const struct fd_blob *res_blob = inc ? inc->res : sim_current_inc(in)->res;
	char path[256];
	sim_url_path(s, path, sizeof(path), ep->route, rq);
	struct exc e;
	bool error_line = !consumer && res.status >= 500 && raised != ERR_NONE;
	if (raised != ERR_NONE && (rq->sampled || error_line))
		sim_exc_make(&e, s, sv, raised, &xi, ep->method, ep->route, true, rq->trace_id);
	if (rq->sampled) {
		sp.end = end;
		sp.error = res.status >= 500;
		if (raised != ERR_NONE)
			sim_exc_on_span(&sp, &e);
		char name[160];
		const struct fd_queue *q = consumer ? queue_of_handler(s, ep) : NULL;
		if (consumer)
			snprintf(name, sizeof(name), "process %s", ep->route);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, in, consumer ? name : ep->key); /* "POST /orders/{id}" */
		if (consumer) {
			if (q)
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.system", q->system);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.type", "process");
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.name", "process");
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.destination.name", ep->route);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.consumer.group.name", sv->def->name);
		} else {
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.request.method", ep->method);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.route", ep->route);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.path", path);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.scheme", "http");
			otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.response.status_code", res.status);
			if (rq->payload > 0)
				otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.request.body.size", rq->payload);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", sv->def->name);
			otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "server.port", 8080);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "network.protocol.version", "1.1");
			if (s->sc->scale.users) {
				char user[24];
				user_id(s, rq, user, sizeof(user));
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "user.id", user);
			}
		}
		sim_dims_attrs(s, w, OTLP_SPAN_ATTRIBUTES, rq);
		if (res.status >= 500) {
			char code[16];
			snprintf(code, sizeof(code), "%d", res.status);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", code);
		} else if (consumer && raised != ERR_NONE) {
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", e.type);
		}
		sim_span_finish(s, w, &sp, in, res_blob, consumer ? SCOPE_MESSAGING : SCOPE_HTTP_SERVER,
				q ? q->system : NULL);
	}
	if (!consumer) {
		sim_observe(s, in, SERIES_HTTP, inc_idx, ep->id, res.status, rq, end, dur);
		if (error_line)
			sim_exc_log(s, in, failed_at, &ctx, &e,
				raised == ERR_INTERNAL || raised == ERR_DEADLINE ? NULL : "request failed");
		if (fd_rng_chance(&s->rng, s->sc->access_log_sampling) || res.status >= 500) {
			struct access_ctx a = {.s = s, .ep = ep, .path = path, .status = res.status, .dur = dur,
					       .rq = rq};
			char body[320];
			access_body(body, sizeof(body), ep->method, path, res.status, dur);
			/* written once the response is out */
			double u = fd_rng_uniform(&s->rng);
			int64_t logged = end + (int64_t)(15e3 + 120e3 * u * u * u);
			sim_log_line(s, in, logged, res.status >= 500 ? SEV_ERROR : SEV_INFO, SCOPE_LOG_ACCESS, body,
				     &ctx, access_attrs, &a);
		}
	}
	return res;
}

struct outcome sim_run_calls(struct fd_sim *s, struct req *rq, struct inst *in,
			     const struct fd_endpoint *ep, const struct fd_call *calls, size_t n,
			     int64_t t, const uint8_t *parent, int depth, int64_t *work)
{
	struct outcome out = {.end = t, .status = 200};
	if (depth >= MAX_DEPTH)
		return out;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct fd_call *call = &calls[i];
		if (call->probability < 1 && !fd_rng_chance(&s->rng, call->probability))
			continue;
		int repeat = call->repeat > 0 ? call->repeat : 1;
		for (int k = 0; k < repeat; k++) {
			struct outcome r;
			/* the handler works on the last answer before the next call */
			if (!first && work && *work > 0) {
				int64_t gap = (int64_t)((double)*work * 0.45 * fd_rng_uniform(&s->rng));
				out.end += gap;
				*work -= gap;
			}
			first = false;
			switch (call->kind) {
			case FD_CALL_ENDPOINT:
			case FD_CALL_DEPENDENCY:
				r = call_http(s, rq, in, call, out.end, parent, depth);
				break;
			case FD_CALL_DB:
				r = sim_call_db(s, rq, in, call, out.end, parent);
				break;
			case FD_CALL_CACHE:
				r = sim_call_cache(s, rq, in, ep, call, out.end, parent, depth);
				break;
			case FD_CALL_QUEUE:
			default:
				r = sim_call_queue(s, rq, in, call, out.end, parent);
				break;
			}
			out.end = r.end;
			if (r.status >= 500 && !call->optional) {
				r.end = out.end;
				return r;
			}
		}
	}
	return out;
}

