/*
 * Metrics: histogram series per instance incarnation (server, database
 * client and HTTP client durations), filed by end time into per-interval
 * slots, and the scrape that folds a slot into the cumulative series and
 * writes every metric of every instance at the scrape time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator/sim_internal.h"

/* OpenTelemetry's recommended boundaries for http.server.request.duration
 * and db.client.operation.duration, in seconds. */
static const double bounds[NBOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				       0.5,   0.75, 1,     2.5,  5,     7.5, 10};

/* ---- series -------------------------------------------------------------- */

static struct series *find_series(struct fd_sim *s, struct inst *in, enum series_kind kind, int inc,
				  int sub, int status, const struct req *rq)
{
	const struct fd_traffic *tr = rq ? rq->tr : NULL;
	int combo = rq ? rq->combo : 0;
	for (size_t i = in->n_series; i-- > 0;) {
		struct series *x = &in->series[i];
		if (x->inc == inc && x->sub == sub && x->status == status && x->kind == kind &&
		    x->tr == tr && x->combo == combo)
			return x;
	}
	if (in->n_series == in->cap_series) {
		size_t cap = in->cap_series ? in->cap_series * 2 : 16;
		struct series *v = realloc(in->series, cap * sizeof(*v));
		if (!v)
			return NULL;
		in->series = v;
		in->cap_series = cap;
	}
	struct hist *slots = calloc(s->nslots, sizeof(*slots));
	if (!slots)
		return NULL;
	struct series *x = &in->series[in->n_series++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->inc = inc;
	x->sub = sub;
	x->status = status;
	x->tr = tr;
	x->combo = combo;
	x->slots = slots;
	return x;
}

void sim_observe(struct fd_sim *s, struct inst *in, enum series_kind kind, int inc, int sub,
		    int status, const struct req *rq, int64_t end, int64_t dur_ns)
{
	struct series *x = find_series(s, in, kind, inc, sub, status, rq);
	if (!x) {
		sim_oom(s);
		return;
	}
	double v = (double)dur_ns / (double)NS;
	struct hist *h = &x->slots[sim_slot_of(s, end)];
	size_t b = 0;
	while (b < NBOUNDS && v > bounds[b])
		b++;
	h->counts[b]++;
	h->count++;
	h->sum += v;
}

static void series_attrs(struct fd_sim *s, struct pbw *w, const struct series *x)
{
	const struct fd_scenario *sc = s->sc;
	char code[16];
	if (x->kind == SERIES_HTTP) {
		const struct fd_endpoint *ep = NULL;
		for (size_t i = 0; i < sc->n_services && !ep; i++)
			for (size_t j = 0; j < sc->services[i].n_endpoints; j++)
				if (sc->services[i].endpoints[j].id == x->sub)
					ep = &sc->services[i].endpoints[j];
		if (ep) {
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.request.method", ep->method);
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.route", ep->route);
		}
		snprintf(code, sizeof(code), "%d", x->status);
		otlp_attr_int(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.response.status_code", x->status);
		if (x->status >= 500)
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "error.type", code);
		if (x->tr) {
			int combo = x->combo;
			for (size_t d = 0; d < x->tr->n_dimensions && d < MAX_DIMS; d++) {
				const struct fd_dimension *dim = &x->tr->dimensions[d];
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, dim->name, dim->values[combo % (int)dim->n_values].name);
				combo /= (int)dim->n_values;
			}
		}
	} else if (x->kind == SERIES_HTTP_CLIENT) {
		const struct fd_dependency *dep = &sc->dependencies[x->sub];
		otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "server.address", dep->host ? dep->host : dep->name);
		otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "peer.service", dep->name);
		if (x->status)
			otlp_attr_int(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.response.status_code", x->status);
		else
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "error.type", "timeout");
	} else {
		for (size_t i = 0; i < sc->n_databases; i++) {
			const struct fd_database *db = &sc->databases[i];
			int base = s->query_base[i];
			if (x->sub >= base && x->sub < base + (int)db->n_queries) {
				const struct fd_query *q = &db->queries[x->sub - base];
				char summary[128];
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "db.system", db->system);
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "db.namespace", db->name);
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "db.operation.name", q->operation);
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "db.query.summary", sim_db_summary(q, summary, sizeof(summary)));
				break;
			}
		}
	}
}

static void histogram_metric(struct fd_sim *s, struct inst *in, int inc_idx, enum series_kind kind,
			     const char *name, const char *desc, int64_t t)
{
	struct incarnation *c = &in->incs[inc_idx];
	struct pbw *w = &s->w;
	size_t mark = 0;
	bool any = false;
	for (size_t i = 0; i < in->n_series; i++) {
		struct series *x = &in->series[i];
		if (x->inc != inc_idx || x->kind != kind || x->cum.count == 0)
			continue;
		if (!any) {
			mark = sim_metric_begin(w, name, desc, "s", OTLP_METRIC_HISTOGRAM);
			any = true;
		}
		size_t dp = pbw_begin(w, OTLP_DATA_POINTS);
		series_attrs(s, w, x);
		pbw_fixed64(w, OTLP_HISTOGRAM_START_TIME, (uint64_t)c->start);
		pbw_fixed64(w, OTLP_HISTOGRAM_TIME, (uint64_t)t);
		pbw_fixed64(w, OTLP_HISTOGRAM_COUNT, x->cum.count);
		pbw_double(w, OTLP_HISTOGRAM_SUM, x->cum.sum);
		/* packed fixed64 */
		size_t b = pbw_begin(w, OTLP_HISTOGRAM_BUCKET_COUNTS);
		for (int k = 0; k < NBUCKETS; k++)
			for (int j = 0; j < 8; j++)
				if (pbw_room(w, 1))
					w->buf[w->len++] = (uint8_t)(x->cum.counts[k] >> (8 * j));
		pbw_end(w, b);
		b = pbw_begin(w, OTLP_HISTOGRAM_EXPLICIT_BOUNDS); /* packed double */
		for (int k = 0; k < NBOUNDS; k++) {
			uint64_t bits;
			memcpy(&bits, &bounds[k], 8);
			for (int j = 0; j < 8; j++)
				if (pbw_room(w, 1))
					w->buf[w->len++] = (uint8_t)(bits >> (8 * j));
		}
		pbw_end(w, b);
		pbw_end(w, dp);
	}
	if (any)
		sim_metric_end(s, w, mark, OTLP_METRIC_HISTOGRAM, false, t, c->res);
}

/* Assembles the scrape at t = start + k * interval. */
void sim_scrape(struct fd_sim *s, int64_t t)
{
	size_t slot = sim_slot_of(s, t);
	double interval = (double)s->scrape;
	struct pbw *w = &s->w;
	for (size_t i = 0; i < s->sc->n_services; i++) {
		struct svc *sv = &s->svcs[i];
		const struct fd_resources *r = &sv->def->resources;
		for (int k = 0; k < sv->n_inst; k++) {
			struct inst *in = &sv->inst[k];
			for (size_t j = 0; j < in->n_series; j++) {
				struct series *x = &in->series[j];
				struct hist *h = &x->slots[slot];
				for (int b = 0; b < NBUCKETS; b++)
					x->cum.counts[b] += h->counts[b];
				x->cum.count += h->count;
				x->cum.sum += h->sum;
				memset(h, 0, sizeof(*h));
			}
			struct slot sl = in->slots[slot];
			memset(&in->slots[slot], 0, sizeof(in->slots[slot]));
			int idx = 0;
			struct incarnation *c = sim_inc_at(in, t, &idx);
			if (!c && in->crashing && in->exists && in->n_incs) {
				/* Between attempts the platform still reports the
				 * container: its version and its restarts. */
				const struct fd_blob *last = sim_current_inc(in)->res;
				uint64_t restarts = 0;
				for (size_t n = 0; n < in->n_incs; n++)
					restarts += in->incs[n].killed && in->incs[n].end <= t;
				size_t m = sim_metric_begin(w, "process.restart.count",
							"Times the instance was killed and restarted (OOM kills, crashes).",
							"{restart}", OTLP_METRIC_SUM);
				sim_number_point(w, s->start, t, (double)restarts, true, NULL, NULL, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, last);
				m = sim_metric_begin(w, "service.version.info",
						 "1 for the version the instance runs; deploys show as a change.", "1", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, t, 1, true, "service.version", sim_current_inc(in)->version, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, last);
				continue;
			}
			if (!c || !in->exists)
				continue;
			histogram_metric(s, in, idx, SERIES_HTTP, "http.server.request.duration",
					 "Duration of HTTP server requests.", t);
			histogram_metric(s, in, idx, SERIES_DB, "db.client.operation.duration",
					 "Duration of database client operations.", t);
			histogram_metric(s, in, idx, SERIES_HTTP_CLIENT, "http.client.request.duration",
					 "Duration of HTTP client requests.", t);

			double leaked = sl.leaked_set ? sl.leaked : in->leaked;
			double concurrency = sl.busy_ns / interval;
			double mem = (double)r->memory_baseline + leaked + concurrency * (double)r->memory_per_request;
			size_t m = sim_metric_begin(w, "process.memory.usage", "The amount of physical memory in use.", "By", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, t, mem, true, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);

			double cores = r->cpu_cores > 0 ? r->cpu_cores : 1;
			double cpu_mult = 1;
			for (size_t b = 0; b < s->sc->n_noise_blips; b++) {
				const struct fd_noise_blip *bl = &s->sc->noise_blips[b];
				int64_t rel = t - s->start;
				if (bl->service == sv->def && (bl->instance < 0 || bl->instance == k) &&
				    rel >= bl->at_ns && rel < bl->at_ns + bl->duration_ns)
					cpu_mult *= bl->cpu_mult;
			}
			for (size_t b = 0; b < s->sc->n_noise_crons; b++) {
				const struct fd_noise_cron *cr = &s->sc->noise_crons[b];
				int64_t rel = t - s->start;
				if (cr->service == sv->def && k == 0 && cr->every_ns > 0 && rel >= cr->first_ns &&
				    (rel - cr->first_ns) % cr->every_ns < cr->duration_ns)
					cpu_mult *= cr->cpu_mult;
			}
			/* An idle process still burns a little CPU. */
			double util = (sl.cpu_ns + 0.02 * interval * cores) * cpu_mult / (interval * cores);
			if (util > 1)
				util = 1;
			m = sim_metric_begin(w, "process.cpu.utilization",
					 "CPU time used by the process divided by the CPU available.", "1", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, t, util, false, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);

			if (in->rep_inc != idx) {
				in->rep_inc = idx;
				in->cpu_rep_ns = in->gc_rep_ns = 0;
			}
			in->cpu_rep_ns += sl.cpu_ns;
			in->gc_rep_ns += sl.gc_ns;
			uint64_t restarts = 0;
			for (size_t n = 0; n < in->n_incs; n++)
				restarts += in->incs[n].killed && in->incs[n].end <= t;
			m = sim_metric_begin(w, "process.cpu.time", "Total CPU seconds used by the process.", "s", OTLP_METRIC_SUM);
			sim_number_point(w, c->start, t, in->cpu_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, c->res);

			if (r->gc_interval_ns > 0) {
				m = sim_metric_begin(w, "process.runtime.gc.pause.time",
						 "Total time the runtime paused the process for garbage collection.",
						 "s", OTLP_METRIC_SUM);
				sim_number_point(w, c->start, t, in->gc_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, c->res);
			}

			m = sim_metric_begin(w, "process.restart.count",
					 "Times the instance was killed and restarted (OOM kills, crashes).", "{restart}", OTLP_METRIC_SUM);
			sim_number_point(w, s->start, t, (double)restarts, true, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, c->res);

			m = sim_metric_begin(w, "service.version.info",
					 "1 for the version the instance runs; deploys show as a change.", "1", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, t, 1, true, "service.version", c->version, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);

			for (size_t d = 0; d < s->sc->n_databases; d++) {
				struct pool *p = &in->pools[d];
				if (!p->slots)
					continue;
				const struct fd_database *db = &s->sc->databases[d];
				struct pool_slot ps = p->slots[slot];
				memset(&p->slots[slot], 0, sizeof(p->slots[slot]));
				int size = p->max > 0 ? p->max : db->pool > 0 ? db->pool : 10;
				double used = fmin((double)size, ps.used_ns / interval);
				m = sim_metric_begin(w, "db.client.connection.count",
						 "Connections in use and idle (average over the interval).",
						 "{connection}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, t, used, false, "db.client.connection.pool.name", db->name,
					     "db.client.connection.state", "used");
				sim_number_point(w, 0, t, (double)size - used, false, "db.client.connection.pool.name",
					     db->name, "db.client.connection.state", "idle");
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);
				m = sim_metric_begin(w, "db.client.connection.max", "Maximum connections allowed.",
						 "{connection}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, t, size, true, "db.client.connection.pool.name", db->name,
					     NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);
				m = sim_metric_begin(w, "db.client.connection.pending_requests",
						 "Requests waiting for a connection (average over the interval).",
						 "{request}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, t, ps.wait_ns / interval, false,
					     "db.client.connection.pool.name", db->name, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);
			}
		}
	}
	for (size_t i = 0; i < s->sc->n_queues; i++) {
		struct queue_state *qs = &s->queues[i];
		const struct fd_queue *q = qs->def;
		double depth = qs->depth_slots[slot];
		struct svc *sv = q->consumer ? &s->svcs[q->consumer->id] : NULL;
		struct inst *in = sv && sv->n_inst ? &sv->inst[0] : NULL;
		struct incarnation *c = in ? sim_inc_at(in, t, NULL) : NULL;
		if (!c)
			continue;
		size_t m = sim_metric_begin(w, "messaging.kafka.consumer.lag",
					"Messages produced but not yet consumed.", "{message}", OTLP_METRIC_GAUGE);
		sim_number_point(w, 0, t, depth, true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, t, c->res);
		m = sim_metric_begin(w, "messaging.client.consumed.messages", "Messages consumed.", "{message}", OTLP_METRIC_SUM);
		sim_number_point(w, s->start, t, (double)qs->consumed_slots[slot], true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, t, c->res);
	}
}

