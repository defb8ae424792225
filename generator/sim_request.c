/*
 * The request path. A request is simulated whole at its arrival: the
 * entry endpoint serves it on an instance picked round-robin, its own time
 * is drawn under the effects active then (and slowed by CPU saturation and
 * GC), and its calls play out one after another — HTTP calls to other
 * endpoints and external dependencies with timeouts, retries and circuit
 * breakers, database queries through a connection pool, cache lookups
 * with their misses, messages produced to queues. Every hop writes its
 * span (when the trace is sampled), its log lines and its observations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

struct access_ctx {
	const struct fd_endpoint *ep;
	int status;
	int64_t dur;
	const struct req *rq;
};

static void access_attrs(struct pbw *w, const void *p)
{
	const struct access_ctx *a = p;
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "http.request.method", a->ep->method);
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "http.route", a->ep->route);
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "url.path", a->ep->route);
	otlp_attr_int(w, OTLP_LOG_ATTRIBUTES, "http.response.status_code", a->status);
	otlp_attr_double(w, OTLP_LOG_ATTRIBUTES, "http.server.request.duration", (double)a->dur / (double)NS);
	if (a->rq && a->rq->payload > 0)
		otlp_attr_int(w, OTLP_LOG_ATTRIBUTES, "http.request.body.size", a->rq->payload);
	sim_dims_attrs(w, OTLP_LOG_ATTRIBUTES, a->rq);
	otlp_attr_str(w, OTLP_LOG_ATTRIBUTES, "log.type", "access");
}

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

/* "POST /orders 200 OK 12.3ms", without printf: one per request, and the
 * formatted-output machinery was a tenth of generation time. */
static void access_body(char *buf, size_t n, const struct fd_endpoint *ep, int status, int64_t dur)
{
	char tmp[32];
	size_t len = 0;
	const char *parts[] = {ep->key, " ", NULL, " ", status_text(status), " "};
	int k = 0;
	for (int i = 0; i < 6; i++) {
		const char *p = parts[i];
		if (!p) {
			/* status code: three digits */
			tmp[0] = (char)('0' + status / 100 % 10);
			tmp[1] = (char)('0' + status / 10 % 10);
			tmp[2] = (char)('0' + status % 10);
			tmp[3] = '\0';
			p = tmp;
		}
		size_t m = strlen(p);
		if (len + m >= n)
			m = n - len - 1;
		memcpy(buf + len, p, m);
		len += m;
		k++;
	}
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
	(void)k;
}

struct outcome sim_serve(struct fd_sim *s, struct req *rq, const struct fd_endpoint *ep,
			    int64_t t, const uint8_t *parent, int depth, const struct span *consumer)
{
	struct svc *sv = &s->svcs[ep->service->id];
	struct inst *in = sim_pick_instance(s, sv, t);
	if (!in)
		return (struct outcome){.end = t + MS, .status = 503, .error = "no_healthy_upstream"};
	int inc_idx = 0;
	struct incarnation *inc = sim_inc_at(in, t, &inc_idx);
	/* A crash-looping instance between attempts: nothing listens, the
	 * caller's sidecar answers 503 itself. */
	if (!inc)
		return (struct outcome){.end = t + MS, .status = 503, .error = "upstream_connect_error"};

	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_endpoint[ep->id], rq, in, t, &m);
	sim_apply_effects(s, &s->by_service[sv->def->id], rq, in, t, &m);

	const struct fd_resources *r = &sv->def->resources;
	int64_t self = sim_modify_latency(s, sim_sample_dist(s, &ep->self), &m);
	self = (int64_t)((double)self * sim_cpu_factor(s, in));
	/* GC: pauses get more frequent as the heap fills. */
	if (r->gc_interval_ns > 0) {
		double limit = r->memory_limit > 0 ? (double)r->memory_limit : 0;
		double pressure = limit > 0 ? ((double)r->memory_baseline + in->leaked) / limit : 0.3;
		if (pressure > 0.98)
			pressure = 0.98;
		double interval = (double)r->gc_interval_ns * pow(1 - pressure, 2) / 0.49;
		if (interval < 50 * MS)
			interval = 50 * MS;
		if (fd_rng_chance(&s->rng, (double)self / interval * 4)) {
			int64_t pause = (int64_t)((double)sim_sample_dist(s, &r->gc_pause) * (1 + 2 * pressure));
			self += pause;
		}
	}
	sim_hop_add(s, rq, (size_t)ep->id, self);
	sim_account_cpu(s, in, t, (double)(r->cpu_per_request_ns > 0 ? r->cpu_per_request_ns : self / 2) * m.cpu);

	struct span sp = {.trace_id = rq->trace_id, .parent = parent,
			  .kind = consumer ? SPAN_CONSUMER : SPAN_SERVER, .start = t};
	if (rq->sampled)
		sim_random_id(s, sp.id, 8);
	if (consumer) {
		sp.link_trace = consumer->link_trace;
		sp.link_span = consumer->link_span;
	}

	int64_t pre = self * 6 / 10;
	struct outcome res = {.status = 200};
	struct outcome c = sim_run_calls(s, rq, in, ep, ep->calls, ep->n_calls, t + pre, sp.id, depth);
	int64_t cur = c.end;
	if (c.status >= 500) {
		/* A sidecar's own answers (nothing to connect to) pass through
		 * as 503, as Envoy's do; an application error becomes a 500. */
		bool mesh = c.error && (!strcmp(c.error, "upstream_connect_error") ||
					!strcmp(c.error, "no_healthy_upstream"));
		res.status = c.timeout ? 504 : mesh ? 503 : 500;
		sp.exception_type = c.timeout ? "UpstreamTimeoutError" : "UpstreamError";
		sp.exception_msg = mesh && !strcmp(c.error, "no_healthy_upstream") ? "no healthy upstream"
				   : mesh ? "upstream connect error or disconnect/reset before headers. "
					    "reset reason: connection failure"
				   : c.error;
		res.error = c.timeout ? "upstream_timeout" : "upstream_error";
	}
	double err_p = sim_mix(ep->error_probability, m.err_level, m.err_p);
	if (res.status < 500 && fd_rng_chance(&s->rng, err_p)) {
		res.status = m.err_level > 0 && m.err_status ? m.err_status
			     : ep->error_status ? ep->error_status : 500;
		sp.exception_type = "InternalError";
		sp.exception_msg = "request failed";
		res.error = "internal_error";
	}
	int64_t end = cur + (self - pre);
	if (depth == 0 && ep->timeout_ns > 0 && end - t > ep->timeout_ns) {
		end = t + ep->timeout_ns;
		res.status = 504;
		res.timeout = true;
		sp.exception_type = "DeadlineExceeded";
		sp.exception_msg = "request deadline exceeded at the edge";
		res.error = "deadline_exceeded";
	}
	if (end - t > HORIZON_NS)
		end = t + HORIZON_NS;
	/* Killed while serving: the process dies before answering or
	 * exporting anything; the caller sees the connection drop. */
	if (inc && inc->killed && inc->end < end) {
		return (struct outcome){.end = inc->end, .status = 502, .error = "connection_reset"};
	}
	res.end = end;
	int64_t dur = end - t;
	in->slots[sim_slot_of(s, end)].busy_ns += (double)dur;

	const struct fd_blob *res_blob = inc ? inc->res : sim_current_inc(in)->res;
	if (rq->sampled) {
		sp.end = end;
		sp.error = res.status >= 500;
		char name[160];
		if (consumer)
			snprintf(name, sizeof(name), "process %s", ep->route);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, consumer ? name : ep->key); /* "POST /orders" */
		if (consumer) {
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.type", "process");
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.destination.name", ep->route);
		} else {
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.request.method", ep->method);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.route", ep->route);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.path", ep->route);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.scheme", "http");
			otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.response.status_code", res.status);
			if (rq->payload > 0)
				otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.request.body.size", rq->payload);
		}
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", sv->def->name);
		sim_dims_attrs(w, OTLP_SPAN_ATTRIBUTES, rq);
		if (res.error)
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", res.status == 504 ? "504" : res.error);
		char frame[160] = "";
		if (sp.exception_type)
			snprintf(frame, sizeof(frame), "%s.handle%s", sv->def->name, ep->route);
		sim_span_finish(s, w, &sp, res_blob, frame);
	}
	if (!consumer) {
		sim_observe(s, in, SERIES_HTTP, inc_idx, ep->id, res.status, rq, end, dur);
		if (fd_rng_chance(&s->rng, s->sc->access_log_sampling) || res.status >= 500) {
			struct access_ctx a = {.ep = ep, .status = res.status, .dur = dur, .rq = rq};
			char body[256];
			access_body(body, sizeof(body), ep, res.status, dur);
			sim_log_line(s, in, end, res.status >= 500 ? SEV_ERROR : SEV_INFO, body,
				 rq->sampled ? rq->trace_id : NULL, rq->sampled ? sp.id : NULL, access_attrs, &a);
		}
		if (res.status >= 500 && sp.exception_type)
			sim_logf_line(s, in, end, SEV_ERROR, rq->sampled ? rq->trace_id : NULL,
				  rq->sampled ? sp.id : NULL, "%s: %s (%s %s)", sp.exception_type,
				  sp.exception_msg ? sp.exception_msg : "", ep->method, ep->route);
	}
	return res;
}

static int64_t backoff_for(const struct fd_retry *r, int attempt)
{
	double b = (double)r->backoff_ns * pow(r->multiplier > 0 ? r->multiplier : 2, attempt);
	if (r->max_backoff_ns > 0 && b > (double)r->max_backoff_ns)
		b = (double)r->max_backoff_ns;
	return (int64_t)b;
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
			sim_logf_line(s, in, b->probe_end, SEV_WARN, NULL, NULL,
				  "circuit breaker for %s: trial call failed, open again for %.0fs", target,
				  (double)def->open_ns / 1e9);
		} else {
			b->state = BR_CLOSED;
			b->n = b->head = 0;
			sim_logf_line(s, in, b->probe_end, SEV_INFO, NULL, NULL,
				  "circuit breaker for %s closed: trial call succeeded", target);
		}
	}
	if (b->state == BR_OPEN) {
		if (t < b->open_until)
			return false;
		b->state = BR_HALF_OPEN;
		b->probe_end = INT64_MAX; /* until breaker_record */
		*probe = true;
		sim_logf_line(s, in, t, SEV_INFO, NULL, NULL,
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
		sim_logf_line(s, in, t, SEV_WARN, NULL, NULL,
			  "circuit breaker for %s opened: %d of %d calls failed in the last %.0fs; "
			  "failing fast for %.0fs",
			  target, failures, calls, (double)def->window_ns / 1e9,
			  (double)def->open_ns / 1e9);
		return false;
	}
	return true;
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

struct client_ctx {
	const char *method, *route, *peer, *url;
	int status;
	int attempt;
	bool timeout;
};

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
	struct incarnation *inc = sim_inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	int64_t cur = t;
	struct outcome last = {0};
	struct breaker *br = call->has_breaker ? &in->breakers[call->breaker.id] : NULL;
	char target[256] = "";
	if (br)
		snprintf(target, sizeof(target), "%s (%s %s)", peer, method, route);

	for (int attempt = 0;; attempt++) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = cur};
		if (rq->sampled)
			sim_random_id(s, sp.id, 8);
		bool probe = false;
		if (br && !breaker_allows(s, in, &call->breaker, br, target, cur, &probe)) {
			/* refused in the client: no request, no retry, ~20 us */
			int64_t end = cur + 20000;
			if (rq->sampled) {
				char name[160];
				if (!callee)
					snprintf(name, sizeof(name), "%s %s", method, route);
				struct pbw *w = &s->w;
				sp.end = end;
				sp.error = true;
				sim_span_begin(w, &sp, callee ? callee->key : name);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.request.method", method);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", peer);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.template", route);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", "circuit_open");
				sp.status_msg = "circuit breaker open";
				sp.exception_type = "CircuitBreakerOpenException";
				sp.exception_msg = "circuit breaker is open: call not permitted";
				sim_span_finish(s, w, &sp, res, "http.client.do");
			}
			return (struct outcome){.end = end, .status = 503, .error = "circuit_open"};
		}
		struct mods m;
		sim_mods_init(&m);
		int64_t net = call->has_latency ? sim_sample_dist(s, &call->latency) : 400000;
		int64_t resp;
		struct outcome r;
		if (callee) {
			r = sim_serve(s, rq, callee, cur + net / 2, sp.id, depth + 1, NULL);
			resp = r.end + net / 2;
		} else {
			sim_apply_effects(s, &s->by_dependency[dep->id], rq, in, cur, &m);
			int64_t lat = sim_modify_latency(s, call->has_latency ? net : sim_sample_dist(s, &dep->latency), &m);
			double p = sim_mix(dep->error_probability, m.err_level, m.err_p);
			r.status = 200;
			r.timeout = false;
			r.error = NULL;
			if (fd_rng_chance(&s->rng, p)) {
				r.status = m.err_level > 0 && m.err_status ? m.err_status
					   : dep->error_status ? dep->error_status : 503;
				r.error = "dependency_error";
			}
			resp = cur + lat;
			r.end = resp;
		}
		bool failed = r.status >= 500, timed_out = false;
		int64_t eff_timeout = m.timeout ? m.timeout : timeout;
		if (eff_timeout > 0 && resp - cur > eff_timeout) {
			resp = cur + eff_timeout;
			failed = timed_out = true;
		}
		if (br)
			breaker_record(br, probe, resp, failed);
		if (dep)
			sim_hop_add(s, rq, sim_hop_dependency(s, dep), resp - cur);
		if (dep) {
			int inc_idx = 0;
			if (sim_inc_at(in, cur, &inc_idx))
				sim_observe(s, in, SERIES_HTTP_CLIENT, inc_idx, dep->id, timed_out ? 0 : r.status,
					NULL, resp, resp - cur);
		}
		if (rq->sampled) {
			sp.end = resp;
			sp.error = failed;
			char name[160];
			if (!callee)
				snprintf(name, sizeof(name), "%s %s", method, route);
			struct pbw *w = &s->w;
			sim_span_begin(w, &sp, callee ? callee->key : name);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "http.request.method", method);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", peer);
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.template", route);
			if (dep) {
				char url[256];
				snprintf(url, sizeof(url), "https://%s%s", peer, route);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "url.full", url);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "peer.service", dep->name);
			}
			if (!timed_out)
				otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.response.status_code", r.status);
			if (attempt > 0)
				otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "http.request.resend_count", attempt);
			if (failed) {
				char code[16];
				snprintf(code, sizeof(code), "%d", r.status);
				otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", timed_out ? "timeout" : code);
				sp.status_msg = timed_out ? "deadline exceeded" : status_text(r.status);
				if (timed_out) {
					sp.exception_type = "TimeoutError";
					sp.exception_msg = "request timed out";
				}
			}
			sim_span_finish(s, w, &sp, res, "http.client.do");
		}
		cur = resp;
		last = (struct outcome){.end = cur, .status = timed_out ? 504 : r.status,
					.timeout = timed_out, .error = timed_out ? "timeout" : r.error};
		if (!failed)
			return last;
		if (attempt >= retry->max)
			break;
		int64_t wait = backoff_for(retry, attempt);
		sim_logf_line(s, in, cur, SEV_WARN, rq->sampled ? rq->trace_id : NULL, rq->sampled ? sp.id : NULL,
			  "%s %s%s failed (%s), retrying in %.0fms (attempt %d of %d)", method, peer, route,
			  timed_out ? "timeout" : status_text(r.status), (double)wait / 1e6, attempt + 2,
			  retry->max + 1);
		cur += wait;
	}
	last.end = cur;
	return last;
}

static struct pool *pool_for(struct fd_sim *s, struct inst *in, const struct fd_database *db, int size)
{
	struct pool *p = &in->pools[db->id];
	if (p->size < size) {
		struct conn *v = realloc(p->conns, (size_t)size * sizeof(*v));
		if (!v)
			return NULL;
		for (int i = p->size; i < size; i++)
			v[i].n = 0;
		p->conns = v;
		p->size = size;
	}
	if (!p->slots) {
		p->slots = calloc(s->nslots, sizeof(*p->slots));
		if (!p->slots)
			return NULL;
		p->last_warn = INT64_MIN / 2;
	}
	return p;
}

/* Earliest start >= t at which the connection is free for len. */
static int64_t conn_fit(struct conn *c, int64_t t, int64_t len, int64_t now)
{
	int keep = 0;
	for (int i = 0; i < c->n; i++) /* forget what ended before the present */
		if (c->end[i] > now) {
			c->start[keep] = c->start[i];
			c->end[keep++] = c->end[i];
		}
	c->n = keep;
	int64_t at = t;
	for (int i = 0; i < c->n; i++) {
		if (c->end[i] <= at)
			continue;
		if (c->start[i] >= at + len)
			break;
		at = c->end[i];
	}
	if (c->n == CONN_SLOTS && at < c->end[c->n - 1])
		at = c->end[c->n - 1]; /* no room to book a gap: after the last */
	return at;
}

static void conn_book(struct conn *c, int64_t start, int64_t end)
{
	if (c->n == CONN_SLOTS) { /* full: merge into the last booking */
		if (end > c->end[c->n - 1])
			c->end[c->n - 1] = end;
		return;
	}
	int i = c->n;
	while (i > 0 && c->start[i - 1] > start) {
		c->start[i] = c->start[i - 1];
		c->end[i] = c->end[i - 1];
		i--;
	}
	c->start[i] = start;
	c->end[i] = end;
	c->n++;
}

const char *sim_db_summary(const struct fd_query *q, char *buf, size_t n)
{
	/* "SELECT orders": the operation and the first table, like
	 * db.query.summary, low-cardinality enough for metrics. */
	const char *t = q->text, *kw[] = {" FROM ", " INTO ", "UPDATE ", " from ", " into ", "update "};
	const char *table = NULL;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]) && !table; i++) {
		const char *p = strstr(t, kw[i]);
		if (p)
			table = p + strlen(kw[i]);
	}
	if (!table) {
		snprintf(buf, n, "%s %s", q->operation, q->database->name);
		return buf;
	}
	size_t len = strcspn(table, " ;(),\n\t");
	snprintf(buf, n, "%s %.*s", q->operation, (int)len, table);
	return buf;
}

static struct outcome call_db(struct fd_sim *s, struct req *rq, struct inst *in,
			      const struct fd_call *call, int64_t t, const uint8_t *parent)
{
	const struct fd_query *q = call->query;
	const struct fd_database *db = q->database;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_query[s->query_base[db->id] + q->id], rq, in, t, &m);
	sim_apply_effects(s, &s->by_database[db->id], rq, in, t, &m);
	int size = db->pool > 0 ? db->pool : 10;
	if (m.pool_level > 0)
		size = (int)lround(sim_mix(size, m.pool_level, m.pool));
	if (size < 1)
		size = 1;
	struct pool *p = pool_for(s, in, db, size);
	if (!p) {
		sim_oom(s);
		return (struct outcome){.end = t};
	}
	p->max = size;
	/* The query's duration is drawn first: which connection frees up in
	 * time depends on how long it will be held. */
	int64_t lat = sim_modify_latency(s, call->has_latency ? sim_sample_dist(s, &call->latency)
					       : sim_sample_dist(s, &db->latency), &m);
	struct outcome out = {.status = 200};
	int64_t timeout = m.timeout ? m.timeout : call->timeout_ns;
	if (timeout > 0 && lat > timeout) {
		lat = timeout;
		out.status = 504;
		out.timeout = true;
		out.error = "query_timeout";
	} else if (fd_rng_chance(&s->rng, sim_mix(0, m.err_level, m.err_p))) {
		out.status = 500;
		out.error = "db_error";
	}
	int c = 0;
	int64_t best = INT64_MAX;
	for (int i = 0; i < size; i++) {
		int64_t at = conn_fit(&p->conns[i], t, lat, s->now);
		if (at < best) {
			best = at;
			c = i;
			if (at == t)
				break;
		}
	}
	int64_t wait = best - t;
	struct incarnation *inc = sim_inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	int64_t qstart = t + wait;
	bool pool_timeout = db->pool_timeout_ns > 0 && wait > db->pool_timeout_ns;
	if (pool_timeout) {
		wait = db->pool_timeout_ns;
		qstart = t + wait;
		lat = 0;
		out = (struct outcome){.end = qstart, .status = 500, .error = "pool_timeout"};
	} else {
		conn_book(&p->conns[c], qstart, qstart + lat);
		out.end = qstart + lat;
	}
	struct pool_slot *ps = &p->slots[sim_slot_of(s, out.end)];
	ps->used_ns += (double)lat;
	ps->wait_ns += (double)wait;
	sim_hop_add(s, rq, sim_hop_pool(s, db), wait);
	sim_hop_add(s, rq, sim_hop_query(s, q), lat);

	uint8_t acquire_id[8];
	if (rq->sampled && wait >= MS) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_INTERNAL,
				  .start = t, .end = t + wait, .error = pool_timeout};
		sim_random_id(s, sp.id, 8);
		memcpy(acquire_id, sp.id, 8);
		if (pool_timeout) {
			sp.status_msg = "timed out waiting for a connection";
			sp.exception_type = "PoolTimeoutError";
			sp.exception_msg = "timed out waiting for a connection";
		}
		char name[160];
		snprintf(name, sizeof(name), "pool.acquire %s", db->name);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.pool.name", db->name);
		otlp_attr_double(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.wait_time", (double)wait / (double)NS);
		otlp_attr_int(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.max", size);
		sim_span_finish(s, w, &sp, res, "pool.acquire");
	}
	if (wait >= 100 * MS && t - p->last_warn >= 10 * NS) {
		p->last_warn = t;
		sim_logf_line(s, in, t + wait, SEV_WARN, rq->sampled ? rq->trace_id : NULL,
			  rq->sampled && wait >= MS ? acquire_id : NULL,
			  "connection pool %s exhausted: waited %.0fms for a connection (%d/%d in use)",
			  db->name, (double)wait / 1e6, size, size);
	}
	if (pool_timeout) {
		sim_logf_line(s, in, out.end, SEV_ERROR, rq->sampled ? rq->trace_id : NULL,
			  rq->sampled ? acquire_id : NULL,
			  "PoolTimeoutError: could not acquire a connection to %s within %.1fs", db->name,
			  (double)db->pool_timeout_ns / 1e9);
		return out;
	}
	int inc_idx = 0;
	if (sim_inc_at(in, t, &inc_idx))
		sim_observe(s, in, SERIES_DB, inc_idx, s->query_series[s->query_base[db->id] + q->id], 0,
			NULL, out.end, lat);
	uint8_t qspan[8] = {0};
	if (rq->sampled) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = qstart, .end = out.end, .error = out.status >= 500};
		sim_random_id(s, sp.id, 8);
		memcpy(qspan, sp.id, 8);
		if (out.timeout) {
			sp.status_msg = "canceling statement due to statement timeout";
			sp.exception_type = "QueryCanceledError";
			sp.exception_msg = "canceling statement due to statement timeout";
		} else if (out.status >= 500) {
			sp.status_msg = "database error";
			sp.exception_type = "DatabaseError";
			sp.exception_msg = "could not serialize access due to concurrent update";
		}
		const char *summary = s->query_summary[s->query_base[db->id] + q->id];
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, summary);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system", db->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system.name", db->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.namespace", db->name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.operation.name", q->operation);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.summary", summary);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.text", q->text);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", db->name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.pool.name", db->name);
		if (wait > 0)
			otlp_attr_double(w, OTLP_SPAN_ATTRIBUTES, "db.client.connection.wait_time", (double)wait / (double)NS);
		if (out.error)
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "error.type", out.error);
		sim_span_finish(s, w, &sp, res, "db.query");
	}
	if (lat >= SLOW_QUERY_NS)
		sim_logf_line(s, in, out.end, SEV_WARN, rq->sampled ? rq->trace_id : NULL,
			  rq->sampled ? qspan : NULL, "slow query on %s (%.0fms): %s", db->name,
			  (double)lat / 1e6, q->text);
	return out;
}

static struct outcome call_cache(struct fd_sim *s, struct req *rq, struct inst *in,
				 const struct fd_endpoint *ep, const struct fd_call *call, int64_t t,
				 const uint8_t *parent, int depth)
{
	const struct fd_cache *cache = call->cache;
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_cache[cache->id], rq, in, t, &m);
	double hit = call->hit_ratio >= 0 ? call->hit_ratio : cache->hit_ratio;
	int64_t flushed = s->cache_flushed_at[cache->id];
	if (flushed != INT64_MIN && t >= flushed) {
		double warm = cache->warmup_ns > 0 ? (double)(t - flushed) / (double)cache->warmup_ns : 1;
		hit *= fmin(1.0, warm);
	}
	hit = sim_mix(hit, m.hit_level, m.hit);
	int64_t lat = sim_modify_latency(s, call->has_latency ? sim_sample_dist(s, &call->latency)
					       : sim_sample_dist(s, &cache->latency), &m);
	bool is_get = call->cache_op == FD_CACHE_GET;
	bool is_hit = is_get && fd_rng_chance(&s->rng, hit);
	sim_hop_add(s, rq, sim_hop_cache(s, cache), lat);
	struct incarnation *inc = sim_inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : sim_current_inc(in)->res;
	if (rq->sampled) {
		static const char *const ops[] = {"GET", "SET", "DEL"};
		const char *op = ops[call->cache_op <= FD_CACHE_DELETE ? call->cache_op : 0];
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = t, .end = t + lat};
		sim_random_id(s, sp.id, 8);
		char name[160];
		snprintf(name, sizeof(name), "%s %s", op, cache->name);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system", cache->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.system.name", cache->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.operation.name", op);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "server.address", cache->name);
		if (call->cache_key)
			otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "db.query.text", call->cache_key);
		if (is_get)
			otlp_attr_bool(w, OTLP_SPAN_ATTRIBUTES, "cache.hit", is_hit);
		sim_span_finish(s, w, &sp, res, "cache.client");
	}
	struct outcome out = {.end = t + lat, .status = 200};
	if (is_get && !is_hit && call->n_on_miss)
		out = sim_run_calls(s, rq, in, ep, call->on_miss, call->n_on_miss, t + lat, parent, depth);
	return out;
}

static struct outcome call_queue(struct fd_sim *s, struct req *rq, struct inst *in,
				 const struct fd_call *call, int64_t t, const uint8_t *parent)
{
	const struct fd_queue *q = call->queue;
	struct queue_state *qs = &s->queues[q->id];
	if (call->queue_op != FD_QUEUE_PRODUCE)
		return (struct outcome){.end = t, .status = 200};
	struct mods m;
	sim_mods_init(&m);
	sim_apply_effects(s, &s->by_queue[q->id], rq, in, t, &m);
	int64_t lat = sim_modify_latency(s, call->has_latency ? sim_sample_dist(s, &call->latency)
					       : sim_sample_dist(s, &q->latency), &m);
	sim_hop_add(s, rq, sim_hop_queue(s, q), lat);
	struct qmsg msg = {.time = t + lat, .sampled = rq->sampled};
	memcpy(msg.trace_id, rq->trace_id, 16);
	if (rq->sampled) {
		struct incarnation *inc = sim_inc_at(in, t, NULL);
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_PRODUCER,
				  .start = t, .end = t + lat};
		sim_random_id(s, sp.id, 8);
		memcpy(msg.span_id, sp.id, 8);
		char name[160];
		snprintf(name, sizeof(name), "send %s", q->name);
		struct pbw *w = &s->w;
		sim_span_begin(w, &sp, name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.system", q->system);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.destination.name", q->name);
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.type", "send");
		otlp_attr_str(w, OTLP_SPAN_ATTRIBUTES, "messaging.operation.name", "send");
		sim_span_finish(s, w, &sp, inc ? inc->res : sim_current_inc(in)->res, "producer.send");
	}
	qs->depth += 1;
	qs->produced++;
	if (qs->n < QUEUE_CTX_MAX) {
		if (qs->n == qs->cap) {
			size_t cap = qs->cap ? qs->cap * 2 : 1024;
			struct qmsg *v = malloc(cap * sizeof(*v));
			if (!v) {
				sim_oom(s);
				return (struct outcome){.end = t + lat, .status = 200};
			}
			for (size_t i = 0; i < qs->n; i++)
				v[i] = qs->ring[(qs->head + i) % qs->cap];
			free(qs->ring);
			qs->ring = v;
			qs->head = 0;
			qs->cap = cap;
		}
		qs->ring[(qs->head + qs->n) % qs->cap] = msg;
		qs->n++;
	}
	return (struct outcome){.end = t + lat, .status = 200};
}

struct outcome sim_run_calls(struct fd_sim *s, struct req *rq, struct inst *in,
				const struct fd_endpoint *ep, const struct fd_call *calls, size_t n,
				int64_t t, const uint8_t *parent, int depth)
{
	struct outcome out = {.end = t, .status = 200};
	if (depth >= MAX_DEPTH)
		return out;
	for (size_t i = 0; i < n; i++) {
		const struct fd_call *call = &calls[i];
		if (call->probability < 1 && !fd_rng_chance(&s->rng, call->probability))
			continue;
		int repeat = call->repeat > 0 ? call->repeat : 1;
		for (int k = 0; k < repeat; k++) {
			struct outcome r;
			switch (call->kind) {
			case FD_CALL_ENDPOINT:
			case FD_CALL_DEPENDENCY:
				r = call_http(s, rq, in, call, out.end, parent, depth);
				break;
			case FD_CALL_DB:
				r = call_db(s, rq, in, call, out.end, parent);
				break;
			case FD_CALL_CACHE:
				r = call_cache(s, rq, in, ep, call, out.end, parent, depth);
				break;
			case FD_CALL_QUEUE:
			default:
				r = call_queue(s, rq, in, call, out.end, parent);
				break;
			}
			out.end = r.end;
			if (r.status >= 500 && !call->optional) {
				out.status = r.status;
				out.timeout = r.timeout;
				out.error = r.error;
				return out;
			}
		}
	}
	return out;
}

