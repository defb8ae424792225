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

static bool same_series(const struct series *x, enum series_kind kind, int inc, int sub, int status,
			const struct fd_traffic *tr, int combo)
{
	return x->inc == inc && x->sub == sub && x->status == status && x->kind == kind && x->tr == tr &&
	       x->combo == combo;
}

static uint64_t series_hash(enum series_kind kind, int inc, int sub, int status, const struct fd_traffic *tr,
			    int combo)
{
	uint64_t v[] = {(uint64_t)kind, (uint64_t)(uint32_t)inc, (uint64_t)(uint32_t)sub,
			(uint64_t)(uint32_t)status, (uint64_t)(tr ? tr->id + 1 : 0), (uint64_t)(uint32_t)combo};
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		h = (h ^ v[i]) * 0xff51afd7ed558ccdULL, h ^= h >> 29;
	return h;
}

/* Series index + 1 into the instance's open-addressed table (grown at half
 * full); an instance has hundreds of series, and a scaled one (customers)
 * tens of thousands, too many to look through. */
static int series_index_add(struct inst *in, uint64_t h, size_t idx)
{
	if (2 * (in->n_series + 1) > in->series_ix_cap) {
		size_t cap = in->series_ix_cap ? 2 * in->series_ix_cap : 64;
		uint32_t *ix = calloc(cap, sizeof(*ix));
		if (!ix)
			return -1;
		for (size_t i = 0; i < in->n_series; i++) {
			const struct series *x = &in->series[i];
			size_t j = series_hash(x->kind, x->inc, x->sub, x->status, x->tr, x->combo) & (cap - 1);
			while (ix[j])
				j = (j + 1) & (cap - 1);
			ix[j] = (uint32_t)i + 1;
		}
		free(in->series_ix);
		in->series_ix = ix;
		in->series_ix_cap = cap;
	}
	size_t j = h & (in->series_ix_cap - 1);
	while (in->series_ix[j])
		j = (j + 1) & (in->series_ix_cap - 1);
	in->series_ix[j] = (uint32_t)idx + 1;
	return 0;
}

static struct series *find_series(struct fd_sim *s, struct inst *in, enum series_kind kind, int inc,
				  int sub, int status, const struct req *rq)
{
	const struct fd_traffic *tr = rq ? rq->tr : NULL;
	int combo = rq ? rq->combo : 0;
	uint64_t h = series_hash(kind, inc, sub, status, tr, combo);
	int32_t *hint = &in->series_hint[h >> (64 - SERIES_HINT_BITS)];
	if (*hint > 0 && (size_t)*hint <= in->n_series) {
		struct series *x = &in->series[*hint - 1];
		if (same_series(x, kind, inc, sub, status, tr, combo))
			return x;
	}
	for (size_t j = in->series_ix_cap ? h & (in->series_ix_cap - 1) : 0;
	     in->series_ix_cap && in->series_ix[j]; j = (j + 1) & (in->series_ix_cap - 1)) {
		struct series *x = &in->series[in->series_ix[j] - 1];
		if (same_series(x, kind, inc, sub, status, tr, combo)) {
			*hint = (int32_t)in->series_ix[j];
			return x;
		}
	}
	if (in->n_series == in->cap_series) {
		size_t cap = in->cap_series ? in->cap_series * 2 : 16;
		struct series *v = realloc(in->series, cap * sizeof(*v));
		if (!v)
			return NULL;
		in->series = v;
		in->cap_series = cap;
	}
	/* aligned_alloc: the size is a multiple of the alignment (C11) */
	struct hist_slot *slots = aligned_alloc(HIST_SLOT_ALIGN, s->nslots * sizeof(*slots));
	if (!slots || series_index_add(in, h, in->n_series) < 0) {
		free(slots);
		return NULL;
	}
	memset(slots, 0, s->nslots * sizeof(*slots));
	*hint = (int32_t)in->n_series + 1;
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

/* The slot of the collection that counts a request ending at end: the
 * scrape after it, unless the previous one's collection (late by the
 * instance's phase) came after the end. */
static size_t collect_slot(const struct fd_sim *s, const struct inst *in, int64_t end)
{
	int64_t rel = end - s->start;
	int64_t k = rel <= 0 ? 1 : (rel + s->scrape - 1) / s->scrape;
	if (k > 1 && end <= sim_collect_at(s, in, s->start + (k - 1) * s->scrape))
		k--;
	return (size_t)(k % (int64_t)s->nslots);
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
	struct hist_slot *h = &x->slots[collect_slot(s, in, end)];
	size_t b = 0;
	while (b < NBOUNDS && v > bounds[b])
		b++;
	h->counts[b]++;
	h->sum += v;
}

/* The database of a SERIES_DB series. */
static const struct fd_database *series_db(const struct fd_sim *s, const struct series *x)
{
	for (size_t i = 0; i < s->sc->n_databases; i++) {
		int base = s->query_base[i];
		if (x->sub >= base && x->sub < base + (int)s->sc->databases[i].n_queries)
			return &s->sc->databases[i];
	}
	return NULL;
}

static void series_attrs(struct fd_sim *s, const struct inst *in, struct pbw *w, const struct series *x)
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
		/* sub: a dependency, or n_dependencies + the callee endpoint */
		if (x->sub < (int)sc->n_dependencies) {
			const struct fd_dependency *dep = &sc->dependencies[x->sub];
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "server.address", dep->host ? dep->host : dep->name);
			otlp_attr_int(w, OTLP_HISTOGRAM_ATTRIBUTES, "server.port", 443);
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "peer.service", dep->name);
		} else {
			int id = x->sub - (int)sc->n_dependencies;
			const struct fd_endpoint *ep = NULL;
			for (size_t i = 0; i < sc->n_services && !ep; i++)
				for (size_t j = 0; j < sc->services[i].n_endpoints; j++)
					if (sc->services[i].endpoints[j].id == id)
						ep = &sc->services[i].endpoints[j];
			if (ep) {
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.request.method", ep->method);
				otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "server.address", ep->service->name);
				otlp_attr_int(w, OTLP_HISTOGRAM_ATTRIBUTES, "server.port", 8080);
			}
		}
		/* status <= 0: no response, -status the error (enum sim_err) */
		if (x->status > 0)
			otlp_attr_int(w, OTLP_HISTOGRAM_ATTRIBUTES, "http.response.status_code", x->status);
		if (x->status >= 500) {
			snprintf(code, sizeof(code), "%d", x->status);
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "error.type", code);
		} else if (x->status <= 0) {
			const char *type = sim_exception_type(in->svc, (enum sim_err)-x->status);
			otlp_attr_str(w, OTLP_HISTOGRAM_ATTRIBUTES, "error.type", type ? type : "_OTHER");
		}
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

/* One histogram metric of the instance's series of kind (for SERIES_DB,
 * of the databases of one system: each system has its instrumentation). */
static void histogram_metric(struct fd_sim *s, struct inst *in, int inc_idx, enum series_kind kind,
			     const char *system, const char *name, const char *desc, int64_t t)
{
	struct incarnation *c = &in->incs[inc_idx];
	struct pbw *w = &s->w;
	size_t mark = 0;
	bool any = false;
	for (size_t i = 0; i < in->n_series; i++) {
		struct series *x = &in->series[i];
		if (x->inc != inc_idx || x->kind != kind || x->cum.count == 0)
			continue;
		if (system) {
			const struct fd_database *db = series_db(s, x);
			if (!db || strcmp(db->system, system) != 0)
				continue;
		}
		if (!any) {
			mark = sim_metric_begin(w, name, desc, "s", OTLP_METRIC_HISTOGRAM);
			any = true;
		}
		size_t dp = pbw_begin(w, OTLP_DATA_POINTS);
		series_attrs(s, in, w, x);
		sim_histogram_values(w, c->start, t, x->cum.sum, x->cum.counts, bounds, NBOUNDS);
		pbw_end(w, dp);
	}
	if (any) {
		enum sim_scope_kind k = kind == SERIES_HTTP ? SCOPE_HTTP_SERVER
					: kind == SERIES_DB ? SCOPE_DB : SCOPE_HTTP_CLIENT;
		sim_metric_end(s, w, mark, OTLP_METRIC_HISTOGRAM, false, t, c->res,
			       sim_scope(s, in->svc, k, system));
	}
}

/* Restarts of the container in its pod by t, and when the pod's first
 * container started (the count's start): the kubelet restarts a killed
 * container in place; a pod that replaces another starts again at 0. */
static uint64_t pod_restarts(const struct inst *in, int pod, int64_t t, int64_t *since)
{
	uint64_t n = 0;
	bool first = true;
	for (size_t i = 0; i < in->n_incs; i++) {
		const struct incarnation *c = &in->incs[i];
		if (c->pod != pod)
			continue;
		if (first)
			*since = c->start;
		first = false;
		n += c->killed && c->end <= t;
	}
	return n;
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
				struct hist_slot *h = &x->slots[slot];
				for (int b = 0; b < NBUCKETS; b++) {
					x->cum.counts[b] += h->counts[b];
					x->cum.count += h->counts[b];
				}
				x->cum.sum += h->sum;
				memset(h, 0, sizeof(*h));
			}
			struct slot sl = in->slots[slot];
			memset(&in->slots[slot], 0, sizeof(in->slots[slot]));
			/* The instance's exporter collects at its own phase of the
			 * interval, a little late each time, by its host's clock. */
			int64_t ts = sim_clock(in, sim_collect_at(s, in, t));
			const struct fd_blob *rt_scope = sim_scope(s, sv, SCOPE_RUNTIME, NULL);
			const struct fd_blob *app_scope = sim_scope(s, sv, SCOPE_APP, NULL);
			int idx = 0;
			struct incarnation *c = sim_inc_at(in, t, &idx);
			if (!c && in->crashing && in->exists && in->n_incs) {
				/* Between attempts the platform still reports the
				 * container: its version and its restarts. */
				const struct fd_blob *last = sim_current_inc(in)->res;
				int64_t since = 0;
				uint64_t restarts = pod_restarts(in, sim_current_inc(in)->pod, t, &since);
				size_t m = sim_metric_begin(w, "process.restart.count",
							"Times the container was restarted in its pod (OOM kills, crashes).",
							"{restart}", OTLP_METRIC_SUM);
				sim_number_point(w, since, ts, (double)restarts, true, NULL, NULL, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, ts, last, rt_scope);
				m = sim_metric_begin(w, "service.version.info",
						 "1 for the version the instance runs; deploys show as a change.", "1", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, ts, 1, true, "service.version", sim_current_inc(in)->version, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, last, app_scope);
				continue;
			}
			if (!c || !in->exists)
				continue;
			histogram_metric(s, in, idx, SERIES_HTTP, NULL, "http.server.request.duration",
					 "Duration of HTTP server requests.", ts);
			for (size_t d = 0; d < s->sc->n_databases; d++) {
				const char *sys = s->sc->databases[d].system;
				bool seen = false;
				for (size_t e = 0; e < d && !seen; e++)
					seen = !strcmp(s->sc->databases[e].system, sys);
				if (!seen)
					histogram_metric(s, in, idx, SERIES_DB, sys, "db.client.operation.duration",
							 "Duration of database client operations.", ts);
			}
			histogram_metric(s, in, idx, SERIES_HTTP_CLIENT, NULL, "http.client.request.duration",
					 "Duration of HTTP client requests.", ts);

			/* Memory: the replica's baseline, the leak, the requests in
			 * flight, the heap's saw-tooth as far as the RSS follows it,
			 * and the allocator's small drift. */
			sim_heap_advance(s, in, t);
			double leaked = sl.leaked_set ? sl.leaked : in->leaked;
			double concurrency = sl.busy_ns / interval;
			double mem = (double)r->memory_baseline * in->mem_factor + leaked +
				     concurrency * (double)r->memory_per_request +
				     in->heap * sim_rt_model(sv)->rss_follow +
				     (double)r->memory_baseline * 0.004 * fd_rng_normal(&s->rng);
			size_t m = sim_metric_begin(w, "process.memory.usage", "The amount of physical memory in use.", "By", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, ts, mem, true, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, rt_scope);

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
			/* CPU: the instance's own work (requests, collections) and
			 * its background threads, which vary from scrape to scrape. */
			double bg = in->bg_cores * interval * fmax(0.2, 1 + 0.3 * fd_rng_normal(&s->rng));
			double busy = (sl.cpu_ns + bg) * cpu_mult;
			double util = busy / (interval * cores);
			if (util > 1)
				util = 1;
			sim_infra_usage(s, in, util * cores, mem);
			m = sim_metric_begin(w, "process.cpu.utilization",
					 "CPU time used by the process divided by the CPU available.", "1", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, ts, util, false, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, rt_scope);

			if (in->rep_inc != idx) {
				in->rep_inc = idx;
				in->cpu_rep_ns = in->gc_rep_ns = 0;
				memset(in->gc_rep_counts, 0, sizeof(in->gc_rep_counts));
			}
			in->cpu_rep_ns += fmin(busy, interval * cores);
			in->gc_rep_ns += sl.gc_ns;
			for (int b = 0; b <= GC_NBOUNDS; b++)
				in->gc_rep_counts[b] += sl.gc_counts[b];
			int64_t since = 0;
			uint64_t restarts = pod_restarts(in, c->pod, t, &since);
			m = sim_metric_begin(w, "process.cpu.time", "Total CPU seconds used by the process.", "s", OTLP_METRIC_SUM);
			sim_number_point(w, c->start, ts, in->cpu_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, ts, c->res, rt_scope);

			if (r->gc_interval_ns > 0)
				sim_runtime_gc_metric(s, in, c->start, ts, c->res, rt_scope);

			m = sim_metric_begin(w, "process.restart.count",
					 "Times the container was restarted in its pod (OOM kills, crashes).", "{restart}",
					 OTLP_METRIC_SUM);
			sim_number_point(w, since, ts, (double)restarts, true, NULL, NULL, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, ts, c->res, rt_scope);

			m = sim_metric_begin(w, "service.version.info",
					 "1 for the version the instance runs; deploys show as a change.", "1", OTLP_METRIC_GAUGE);
			sim_number_point(w, 0, ts, 1, true, "service.version", c->version, NULL, NULL);
			sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, app_scope);

			for (size_t d = 0; d < s->sc->n_databases; d++) {
				struct pool *p = &in->pools[d];
				if (!p->slots)
					continue;
				const struct fd_database *db = &s->sc->databases[d];
				const struct fd_blob *pool_scope = sim_scope(s, sv, SCOPE_POOL, db->system);
				struct pool_slot ps = p->slots[slot];
				memset(&p->slots[slot], 0, sizeof(p->slots[slot]));
				int size = p->max > 0 ? p->max : db->pool > 0 ? db->pool : 10;
				double used = fmin((double)size, ps.used_ns / interval);
				m = sim_metric_begin(w, "db.client.connection.count",
						 "Connections in use and idle (average over the interval).",
						 "{connection}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, ts, used, false, "db.client.connection.pool.name", db->name,
					     "db.client.connection.state", "used");
				sim_number_point(w, 0, ts, (double)size - used, false, "db.client.connection.pool.name",
					     db->name, "db.client.connection.state", "idle");
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, pool_scope);
				m = sim_metric_begin(w, "db.client.connection.max", "Maximum connections allowed.",
						 "{connection}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, ts, size, true, "db.client.connection.pool.name", db->name,
					     NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, pool_scope);
				m = sim_metric_begin(w, "db.client.connection.pending_requests",
						 "Requests waiting for a connection (average over the interval).",
						 "{request}", OTLP_METRIC_GAUGE);
				sim_number_point(w, 0, ts, ps.wait_ns / interval, false,
					     "db.client.connection.pool.name", db->name, NULL, NULL);
				sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, pool_scope);
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
		const struct fd_blob *mq_scope = sim_scope(s, sv, SCOPE_MESSAGING, q->system);
		int64_t ts = sim_clock(in, t + in->export_phase_ns);
		size_t m = sim_metric_begin(w, "messaging.kafka.consumer.lag",
					"Messages produced but not yet consumed.", "{message}", OTLP_METRIC_GAUGE);
		sim_number_point(w, 0, ts, depth, true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		sim_metric_end(s, w, m, OTLP_METRIC_GAUGE, false, ts, c->res, mq_scope);
		m = sim_metric_begin(w, "messaging.client.consumed.messages", "Messages consumed.", "{message}", OTLP_METRIC_SUM);
		sim_number_point(w, s->start, ts, (double)qs->consumed_slots[slot], true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		sim_metric_end(s, w, m, OTLP_METRIC_SUM, true, ts, c->res, mq_scope);
	}
	sim_infra_scrape(s, t);
}
