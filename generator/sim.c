/*
 * The incident simulation engine.
 *
 * The loop. Sources of work — request arrivals per traffic entry (Poisson,
 * with a time-varying rate), timeline events, per-second state steps, queue
 * steps, cron runs, noise lines and metric scrapes — each know their next
 * time; the loop always runs the earliest. A request is simulated whole at
 * its arrival: every hop's latency is drawn under the effects active at that
 * moment, pools and queues add waits, timeouts and retries play out, and the
 * spans, log lines and metric observations it produces are queued in a heap
 * ordered by record time.
 *
 * Time order. Work that starts at t only produces records at times >= t, so
 * once the loop reaches t every queued record older than t is final and
 * leaves the heap in order; the heap holds only the requests in flight. A
 * scrape at T is assembled once the loop passes T: every request that ended
 * by T arrived before T and has been simulated. Observations are filed by
 * end time into per-interval slots, which is why a request may run ahead of
 * the scrapes by up to HORIZON (an edge gives up by then).
 *
 * Instance state that depends only on time (memory leaks, OOM kills,
 * restarts, version rollouts) is stepped LOOKAHEAD ahead of arrivals, so a
 * request knows whether its instance is killed while serving it.
 *
 * Metrics are cumulative per instance incarnation: an OOM kill or a
 * deploy restarts the process, its counters start again from zero with a
 * new start time, as a real exporter's would.
 */
#include "generator/sim.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/intern.h"
#include "otlp/pbwrite.h"
#include "fd_config.h"
#include "generator/rng.h"

#define NS 1000000000LL
#define MS 1000000LL
#define HORIZON_NS (120 * NS)
#define LOOKAHEAD_NS (60 * NS)
#define STEP_NS NS
#define MAX_DIMS 8
#define MAX_DEPTH 16
#define NBOUNDS 14
#define NBUCKETS (NBOUNDS + 1)
#define QUEUE_CTX_MAX (1u << 20)
#define SLOW_QUERY_NS (500 * MS)
/* A crash-looping process dies this long after each start (it reads its
 * configuration first), then waits 10 s, 20 s, 40 s... up to 5 min before
 * the next attempt, as Kubernetes' CrashLoopBackOff does. */
#define CRASH_UP_NS (2 * NS)
#define CRASH_BACKOFF_NS (10 * NS)
#define CRASH_BACKOFF_MAX_NS (300 * NS)

/* OpenTelemetry's recommended boundaries for http.server.request.duration
 * and db.client.operation.duration, in seconds. */
static const double bounds[NBOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				       0.5,   0.75, 1,     2.5,  5,     7.5, 10};

enum { SPAN_INTERNAL = 1, SPAN_SERVER = 2, SPAN_CLIENT = 3, SPAN_PRODUCER = 4, SPAN_CONSUMER = 5 };
enum { SEV_DEBUG = 5, SEV_INFO = 9, SEV_WARN = 13, SEV_ERROR = 17 };

/* ---- pending records ------------------------------------------------- */

struct pending {
	int64_t time;
	uint64_t seq;
	const struct fd_blob *res;
	uint8_t *payload;
	uint32_t len;
	uint8_t signal;
};

struct heap {
	struct pending *v;
	size_t n, cap;
};

static bool pending_less(const struct pending *a, const struct pending *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(struct heap *h, struct pending p)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		struct pending *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pending_less(&p, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = p;
	return 0;
}

static struct pending heap_pop(struct heap *h)
{
	struct pending top = h->v[0];
	struct pending last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct pending *best = &last;
		if (l < h->n && pending_less(&h->v[l], best)) {
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && pending_less(&h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- metric series ----------------------------------------------------- */

struct hist {
	uint64_t counts[NBUCKETS];
	uint64_t count;
	double sum;
};

enum series_kind { SERIES_HTTP, SERIES_DB, SERIES_HTTP_CLIENT };

/* One histogram series of one instance incarnation. */
struct series {
	enum series_kind kind;
	int inc;
	int sub;    /* endpoint id, query global index or dependency id */
	int status; /* HTTP status; 0 for db */
	const struct fd_traffic *tr; /* request dimensions: traffic entry and */
	int combo;                   /* mixed-radix index of its values */
	struct hist cum;
	struct hist *slots; /* per pending scrape interval */
};

/* Per-instance accounting of one scrape interval. */
struct slot {
	double busy_ns; /* integral of in-flight requests */
	double cpu_ns;
	double gc_ns;
	double leaked;  /* bytes leaked at the last state step in the slot */
	bool leaked_set;
};

struct pool_slot {
	double used_ns;
	double wait_ns;
};

/* A connection's reservations, in time order. Requests are simulated whole
 * at arrival, so a request can book a connection seconds ahead (its INSERT
 * after a slow SELECT) while the next arrival needs one now: keeping the
 * intervals, not just "free at", lets the next arrival use the gap. */
#define CONN_SLOTS 16
struct conn {
	int n;
	int64_t start[CONN_SLOTS], end[CONN_SLOTS];
};

struct pool {
	struct conn *conns;
	int size;          /* connections allocated */
	int max;           /* the pool size in force at the last query (a
	                      `pool` effect changes it), for the metrics */
	int64_t last_warn;
	struct pool_slot *slots;
};

struct incarnation {
	int64_t start, end; /* end = INT64_MAX while alive */
	bool killed;        /* ended by a kill, not gracefully */
	const char *version;
	const struct fd_blob *res;
};

struct svc;

/* A circuit breaker's state in one caller instance (fd_breaker). Calls are
 * simulated request by request, so outcomes arrive out of time order: the
 * ring keeps the ends of recent calls and every decision at time t counts
 * only those that had ended by t. */
#define BREAKER_RING 512
enum { BR_CLOSED, BR_OPEN, BR_HALF_OPEN };
struct breaker {
	int64_t end[BREAKER_RING];
	bool failed[BREAKER_RING];
	int n, head;
	int state;
	int64_t open_until; /* BR_OPEN */
	int64_t probe_end;  /* BR_HALF_OPEN: when the probe call ended */
	bool probe_failed;
};

struct inst {
	struct svc *svc;
	int idx;
	char id[96];
	const char *version;
	struct incarnation *incs;
	size_t n_incs, cap_incs;
	bool exists;        /* within the service's current instance count */
	bool lost;
	double leaked;      /* bytes, current incarnation, at the last step */
	uint64_t restarts;
	double cpu_cum_ns, gc_cum_ns;
	int64_t cpu_win_start;
	double cpu_win_ns, rho;
	struct slot *slots;
	struct series *series;
	size_t n_series, cap_series;
	struct pool *pools; /* by database id */
	struct breaker *breakers; /* by fd_breaker id, allocated on first use */
	int64_t restart_pending_at; /* scheduled restart (mitigation) or 0 */
	/* crash loop: a deploy whose version fails at startup (crash_ev). The
	 * instance stays in its callers' rotation, as one without a readiness
	 * probe does, so its share of calls is refused. */
	bool crashing;
	int crash_n;              /* attempts so far */
	int64_t crash_next;       /* next start attempt */
	const struct fd_event *crash_ev;
	/* cumulative values as of the last scrape, for the incarnation
	 * rep_inc: arrivals and state steps run ahead of scrapes */
	int rep_inc;
	double cpu_rep_ns, gc_rep_ns;
};

struct svc {
	const struct fd_service *def;
	struct inst *inst;
	int n_inst;   /* allocated */
	int count;    /* current instance count */
	unsigned rr;
	/* a rollout in progress: instance i switches at switch_at[i] */
	const char *target_version;
	int64_t rollout_start, rollout_ns;
	int rollout_done;
	const struct fd_event *rollout_event;
	int64_t rollout_finish_logged;
};

struct qmsg {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	int64_t time;
	bool sampled;
};

struct queue_state {
	const struct fd_queue *def;
	double depth;  /* messages waiting */
	uint64_t produced, consumed;
	struct qmsg *ring;
	size_t head, n, cap;
	double *depth_slots;
	uint64_t *consumed_slots; /* cumulative consumed at each queue step */
};

/* ---- answer-key measurement ------------------------------------------- */

#define LOGH_BUCKETS 2400 /* 1 us .. ~1000 s at 1% resolution */

struct logh {
	uint32_t *b;
	uint64_t n, errors;
};

enum { PHASE_BEFORE, PHASE_DURING, PHASE_AFTER, NPHASES };
static const char *const phase_names[NPHASES] = {"before", "during", "after"};

struct hop {
	char *name;
	double *ns; /* [n_traffic][NPHASES]: time per traffic entry and phase */
};

/* ---- the simulation ---------------------------------------------------- */

struct elist {
	const struct fd_effect **v;
	size_t n;
};

struct event_state {
	int64_t undo_at;   /* INT64_MAX: never undone */
	int64_t undo_ramp;
	double damping;
};

struct fd_sim {
	const struct fd_scenario *sc;
	struct fd_rng rng;
	uint64_t seed;
	int64_t start, end, offset; /* offset: our start - the scenario's */
	int64_t scrape;
	size_t nslots;

	struct fd_intern *blobs;
	const struct fd_blob *scope;
	struct svc *svcs;
	struct queue_state *queues;
	struct event_state *evs;

	/* effects by what they target */
	struct elist *by_endpoint, *by_service, *by_query, *by_database, *by_cache,
		*by_dependency, *by_traffic, *by_queue;
	struct elist traffic_all;
	size_t n_queries; /* across databases */
	int *query_base;   /* per database: global index of its first query */
	char **query_summary; /* by global query index: "SELECT orders" */
	/* by global query index: the first query of its database with the same
	 * summary. Metrics are per summary, as OpenTelemetry's are: two
	 * statements on one table make one series, not two points with the
	 * same attributes (which a backend would reject or merge). */
	int *query_series;
	int64_t *cache_flushed_at;

	struct heap heap;
	uint64_t seq;
	int64_t now; /* arrival time of the work being simulated */
	bool above_p95; /* the last sample_dist draw was in the tail (z > p95) */
	struct pbw w, aux;
	fd_sim_emit_fn emit;
	void *emit_ctx;
	struct fd_error *err;
	int failed;

	/* measurement */
	int64_t trigger_at, settle_at, mitigate_at, recovered_at;
	const struct fd_event *trigger;
	struct logh *meas; /* [n_traffic][NPHASES] */
	struct hop *hops;
	size_t n_hops;
	uint64_t entry_requests;
	Firedrill__V1__Figure **figs;
	size_t n_figs;
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t sample_dist(struct fd_sim *s, const struct fd_dist *d)
{
	s->above_p95 = false;
	if (d->p50 <= 0)
		return 0;
	if (d->sigma <= 0)
		return d->p50;
	double z = fd_rng_normal(&s->rng);
	s->above_p95 = z > 1.6449;
	double x;
	if (z <= 1.6449)
		x = d->mu + d->sigma * z;
	else
		x = d->mu + d->sigma * 1.6449 + d->sigma_tail * (z - 1.6449);
	double v = exp(x);
	/* A hop never takes longer than the edge's horizon. */
	if (!(v < (double)HORIZON_NS))
		v = (double)HORIZON_NS;
	return (int64_t)v;
}

static void random_id(struct fd_sim *s, uint8_t *out, size_t n)
{
	do {
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = fd_rng_u64(&s->rng);
			for (size_t k = 0; k < 8 && i + k < n; k++)
				out[i + k] = (uint8_t)(v >> (8 * k));
		}
	} while (out[0] == 0 && out[n - 1] == 0); /* never all-zero (invalid) */
}

static size_t slot_of(const struct fd_sim *s, int64_t t)
{
	int64_t rel = t - s->start;
	if (rel <= 0)
		return 1 % s->nslots;
	int64_t k = (rel + s->scrape - 1) / s->scrape;
	return (size_t)(k % (int64_t)s->nslots);
}

static int oom(struct fd_sim *s)
{
	if (!s->failed)
		s->failed = fd_error_set(s->err, FD_ERUNTIME, "out of memory while simulating");
	return s->failed;
}

/* Queues a record whose payload is in w. */
static void push_record(struct fd_sim *s, int64_t t, enum fd_signal sig, const struct fd_blob *res,
			struct pbw *w)
{
	if (s->failed)
		return;
	if (w->oom) {
		oom(s);
		return;
	}
	uint8_t *p = malloc(w->len ? w->len : 1);
	if (!p) {
		oom(s);
		return;
	}
	memcpy(p, w->buf, w->len);
	struct pending rec = {
		.time = t, .seq = s->seq++, .res = res, .payload = p, .len = (uint32_t)w->len,
		.signal = (uint8_t)sig,
	};
	if (heap_push(&s->heap, rec) < 0) {
		free(p);
		oom(s);
	}
}

/* Emits every queued record older than t. */
static void drain(struct fd_sim *s, int64_t t)
{
	while (!s->failed && s->heap.n && s->heap.v[0].time < t) {
		struct pending p = heap_pop(&s->heap);
		struct fd_record rec = {
			.time_ns = p.time,
			.signal = (enum fd_signal)p.signal,
			.resource = p.res,
			.scope = s->scope,
			.payload = p.payload,
			.payload_len = p.len,
		};
		int rc = s->emit(s->emit_ctx, &rec, s->err);
		free(p.payload);
		if (rc < 0)
			s->failed = rc;
	}
}

/* ---- resources and incarnations --------------------------------------- */

static const struct fd_blob *make_resource(struct fd_sim *s, const struct inst *in,
					   const char *version)
{
	struct pbw *w = &s->aux;
	pbw_reset(w);
	const struct fd_service *def = in->svc->def;
	otlp_attr_str(w, 1, "service.name", def->name);
	otlp_attr_str(w, 1, "service.version", version);
	otlp_attr_str(w, 1, "service.instance.id", in->id);
	otlp_attr_str(w, 1, "service.namespace", s->sc->name);
	otlp_attr_str(w, 1, "deployment.environment", s->sc->environment);
	otlp_attr_str(w, 1, "deployment.environment.name", s->sc->environment);
	otlp_attr_str(w, 1, "host.name", in->id);
	otlp_attr_str(w, 1, "process.runtime.name", def->runtime_name);
	otlp_attr_str(w, 1, "telemetry.sdk.name", "firedrill");
	otlp_attr_str(w, 1, "telemetry.sdk.language", def->runtime_name);
	if (w->oom)
		return NULL;
	return fd_intern_add(s->blobs, w->buf, w->len);
}

static struct incarnation *inc_at(struct inst *in, int64_t t, int *idx)
{
	for (size_t i = in->n_incs; i-- > 0;) {
		struct incarnation *c = &in->incs[i];
		if (c->start <= t) {
			if (t < c->end) {
				if (idx)
					*idx = (int)i;
				return c;
			}
			return NULL;
		}
	}
	return NULL;
}

static struct incarnation *current_inc(struct inst *in)
{
	return in->n_incs ? &in->incs[in->n_incs - 1] : NULL;
}

static int add_inc(struct fd_sim *s, struct inst *in, int64_t start, const char *version)
{
	if (in->n_incs == in->cap_incs) {
		size_t cap = in->cap_incs ? in->cap_incs * 2 : 4;
		struct incarnation *v = realloc(in->incs, cap * sizeof(*v));
		if (!v)
			return oom(s);
		in->incs = v;
		in->cap_incs = cap;
	}
	const struct fd_blob *res = make_resource(s, in, version);
	if (!res)
		return oom(s);
	in->incs[in->n_incs++] = (struct incarnation){
		.start = start, .end = INT64_MAX, .version = version, .res = res,
	};
	in->version = version;
	in->leaked = 0;
	in->cpu_cum_ns = in->gc_cum_ns = 0;
	return 0;
}

static void end_inc(struct inst *in, int64_t t, bool killed)
{
	struct incarnation *c = current_inc(in);
	if (c && c->end > t) {
		c->end = t;
		c->killed = killed;
	}
}

/* ---- logs -------------------------------------------------------------- */

static void log_line(struct fd_sim *s, struct inst *in, int64_t t, int severity, const char *body,
		     const uint8_t *trace_id, const uint8_t *span_id,
		     void (*attrs)(struct pbw *w, const void *ctx), const void *ctx)
{
	struct incarnation *c = inc_at(in, t, NULL);
	if (!c)
		c = current_inc(in);
	if (!c)
		return;
	struct pbw *w = &s->w;
	pbw_reset(w);
	pbw_fixed64(w, 1, (uint64_t)t);
	pbw_varint(w, 2, (uint64_t)severity);
	pbw_string(w, 3, severity >= SEV_ERROR ? "ERROR" : severity >= SEV_WARN ? "WARN"
			 : severity >= SEV_INFO ? "INFO" : "DEBUG");
	size_t b = pbw_begin(w, 5);
	pbw_string(w, 1, body);
	pbw_end(w, b);
	if (attrs)
		attrs(w, ctx);
	if (trace_id) {
		pbw_fixed32(w, 8, 1); /* sampled trace flag */
		pbw_bytes(w, 9, trace_id, 16);
		pbw_bytes(w, 10, span_id, 8);
	}
	pbw_fixed64(w, 11, (uint64_t)t);
	push_record(s, t, FD_SIGNAL_LOGS, c->res, w);
}

static void logf_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		      const uint8_t *trace_id, const uint8_t *span_id, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void logf_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		      const uint8_t *trace_id, const uint8_t *span_id, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	log_line(s, in, t, severity, body, trace_id, span_id, NULL, NULL);
}

/* ---- effects ------------------------------------------------------------ */

struct req {
	const struct fd_traffic *tr;
	int dims[MAX_DIMS];
	int combo; /* mixed-radix index of dims, for metric series */
	int64_t payload;
	uint8_t trace_id[16];
	bool sampled;
	int phase; /* measurement phase, -1 outside the windows */
};

struct mods {
	double mult;
	int64_t add;
	double err_level, err_p;
	int err_status;
	double hit_level, hit;
	double pool_level;
	int pool;
	double thr, rate, cpu, leak;
	double tail; /* multiplies draws above p95 only */
	int64_t timeout;
};

static void mods_init(struct mods *m)
{
	memset(m, 0, sizeof(*m));
	m->mult = m->thr = m->rate = m->cpu = m->tail = 1;
}

/* How strongly an effect acts at t (absolute): 0 before it starts, ramping
 * to 1, back to 0 as a mitigation undoes its event. */
static double effect_level(const struct fd_sim *s, const struct fd_effect *e, int64_t t)
{
	int64_t rel = t - s->start;
	if (rel < e->start_ns)
		return 0;
	if (e->end_ns != FD_FOREVER && rel >= e->end_ns)
		return 0;
	double f = e->ramp_ns > 0 ? fmin(1.0, (double)(rel - e->start_ns) / (double)e->ramp_ns) : 1.0;
	const struct event_state *es = &s->evs[e->event->id];
	if (rel >= es->undo_at) {
		double g = es->undo_ramp > 0 ? fmin(1.0, (double)(rel - es->undo_at) / (double)es->undo_ramp)
					     : 1.0;
		f *= 1.0 - es->damping * g;
	}
	return f;
}

static bool scope_match(const struct fd_effect *e, const struct req *rq, struct inst *in, int64_t t)
{
	const struct fd_scope *sc = &e->scope;
	for (size_t i = 0; i < sc->n_dims; i++) {
		if (!rq || !rq->tr)
			return false;
		bool ok = false;
		for (size_t d = 0; d < rq->tr->n_dimensions && d < MAX_DIMS; d++) {
			const struct fd_dimension *dim = &rq->tr->dimensions[d];
			if (strcmp(dim->name, sc->dims[i].dimension) == 0) {
				ok = strcmp(dim->values[rq->dims[d]].name, sc->dims[i].value) == 0;
				break;
			}
		}
		if (!ok)
			return false;
	}
	if (sc->instance >= 0 && (!in || in->idx != sc->instance))
		return false;
	if (sc->payload_min > 0 && (!rq || rq->payload < sc->payload_min))
		return false;
	if (sc->version != FD_VERSION_ANY) {
		const struct fd_event *ev = e->event;
		if (!in || !ev->version || (ev->service && in->svc->def != ev->service))
			return false;
		struct incarnation *c = inc_at(in, t, NULL);
		const char *v = c ? c->version : in->version;
		bool is_new = strcmp(v, ev->version) == 0;
		if ((sc->version == FD_VERSION_NEW) != is_new)
			return false;
	}
	return true;
}

static void apply_effects(const struct fd_sim *s, const struct elist *l, const struct req *rq,
			  struct inst *in, int64_t t, struct mods *m)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fd_effect *e = l->v[i];
		double f = effect_level(s, e, t);
		if (f <= 0 || !scope_match(e, rq, in, t))
			continue;
		if (e->changes & FD_CHANGE_LATENCY_MULT)
			m->mult *= 1 + (e->latency_mult - 1) * f;
		if (e->changes & FD_CHANGE_TAIL)
			m->tail *= 1 + (e->tail_mult - 1) * f;
		if (e->changes & FD_CHANGE_LATENCY_ADD)
			m->add += (int64_t)((double)e->latency_add_ns * f);
		if (e->changes & FD_CHANGE_ERRORS) {
			m->err_level = f;
			m->err_p = e->error_probability;
			m->err_status = e->error_status;
		}
		if (e->changes & FD_CHANGE_HIT_RATIO) {
			m->hit_level = f;
			m->hit = e->hit_ratio;
		}
		if (e->changes & FD_CHANGE_POOL) {
			m->pool_level = f;
			m->pool = e->pool;
		}
		if (e->changes & FD_CHANGE_THROUGHPUT)
			m->thr *= 1 + (e->throughput_mult - 1) * f;
		if (e->changes & FD_CHANGE_RATE)
			m->rate *= 1 + (e->rate_mult - 1) * f;
		if (e->changes & FD_CHANGE_CPU)
			m->cpu *= 1 + (e->cpu_mult - 1) * f;
		if (e->changes & FD_CHANGE_MEMORY_LEAK)
			m->leak += e->memory_leak_per_s * f;
		if ((e->changes & FD_CHANGE_TIMEOUT) && f >= 0.5)
			m->timeout = e->timeout_ns;
	}
}

static double mix(double base, double level, double target)
{
	return base + (target - base) * level;
}

/* v is the value just drawn by sample_dist: a tail effect applies only when
 * that draw was above the distribution's p95. */
static int64_t modify_latency(const struct fd_sim *s, int64_t v, const struct mods *m)
{
	double x = (double)v * m->mult * (s->above_p95 ? m->tail : 1) + (double)m->add;
	if (!(x < (double)HORIZON_NS))
		x = (double)HORIZON_NS;
	return x < 0 ? 0 : (int64_t)x;
}

/* ---- instances ------------------------------------------------------- */

static struct inst *pick_instance(struct fd_sim *s, struct svc *sv, int64_t t)
{
	for (int k = 0; k < sv->n_inst; k++) {
		struct inst *in = &sv->inst[(sv->rr + (unsigned)k) % (unsigned)sv->n_inst];
		if (inc_at(in, t, NULL) || (in->crashing && in->exists)) {
			sv->rr = (sv->rr + (unsigned)k + 1) % (unsigned)sv->n_inst;
			return in;
		}
	}
	(void)s;
	return NULL;
}

/* CPU saturation: below half load a request is not slowed. Above, the
 * mean slowdown is 0.5 / (1 - rho) (capped at 20x), but not every request
 * waits: a share 2 (rho - 0.5) of them queue, for an exponentially
 * distributed time, so that the tail moves first (p99 at 60-70% busy) and
 * the median only as the instance nears saturation. */
static double cpu_factor(struct fd_sim *s, const struct inst *in)
{
	double rho = in->rho;
	if (rho <= 0.5)
		return 1;
	if (rho > 0.975)
		rho = 0.975;
	double mean = 0.5 / (1 - rho);
	double q = fmin(1.0, 2 * (rho - 0.5));
	if (!fd_rng_chance(&s->rng, q))
		return 1;
	return 1 + (mean - 1) / q * fd_rng_exp(&s->rng, 1.0);
}

static void account_cpu(struct fd_sim *s, struct inst *in, int64_t t, double cpu_ns)
{
	if (t - in->cpu_win_start >= NS) {
		double cores = in->svc->def->resources.cpu_cores > 0 ? in->svc->def->resources.cpu_cores : 1;
		int64_t span = t - in->cpu_win_start;
		in->rho = span < 2 * NS ? in->cpu_win_ns / ((double)NS * cores) : 0;
		in->cpu_win_start = t - (t - s->start) % NS;
		in->cpu_win_ns = 0;
	}
	in->cpu_win_ns += cpu_ns;
	in->slots[slot_of(s, t)].cpu_ns += cpu_ns;
	in->cpu_cum_ns += cpu_ns;
}

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

static void observe(struct fd_sim *s, struct inst *in, enum series_kind kind, int inc, int sub,
		    int status, const struct req *rq, int64_t end, int64_t dur_ns)
{
	struct series *x = find_series(s, in, kind, inc, sub, status, rq);
	if (!x) {
		oom(s);
		return;
	}
	double v = (double)dur_ns / (double)NS;
	struct hist *h = &x->slots[slot_of(s, end)];
	size_t b = 0;
	while (b < NBOUNDS && v > bounds[b])
		b++;
	h->counts[b]++;
	h->count++;
	h->sum += v;
}

/* ---- measurement --------------------------------------------------------- */

static int phase_of(const struct fd_sim *s, int64_t t)
{
	if (!s->trigger)
		return PHASE_BEFORE;
	if (t < s->trigger_at)
		return PHASE_BEFORE;
	if (t >= s->settle_at && t < s->mitigate_at)
		return PHASE_DURING;
	if (t >= s->recovered_at)
		return PHASE_AFTER;
	return -1;
}

static void logh_add(struct logh *h, int64_t ns, bool error)
{
	double us = (double)ns / 1000.0;
	int b = us <= 1 ? 0 : (int)(log(us) / log(1.01)) + 1;
	if (b >= LOGH_BUCKETS)
		b = LOGH_BUCKETS - 1;
	h->b[b]++;
	h->n++;
	h->errors += error;
}

static double logh_quantile(const struct logh *h, double q)
{
	if (!h->n)
		return NAN;
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), acc = 0;
	if (rank == 0)
		rank = 1;
	for (int b = 0; b < LOGH_BUCKETS; b++) {
		acc += h->b[b];
		if (acc >= rank) {
			/* the geometric middle of the bucket, in seconds */
			double lo = b == 0 ? 0 : pow(1.01, b - 1), hi = pow(1.01, b);
			return (b == 0 ? 1.0 : sqrt(lo * hi)) / 1e6;
		}
	}
	return NAN;
}

static void hop_add(struct fd_sim *s, const struct req *rq, size_t hop, int64_t ns)
{
	if (rq && rq->tr && rq->phase >= 0 && hop < s->n_hops)
		s->hops[hop].ns[(size_t)rq->tr->id * NPHASES + (size_t)rq->phase] += (double)ns;
}

/* Hop numbering: endpoints' own time, then queries, pool waits per
 * database, dependencies, caches, queues. */
static size_t hop_query(const struct fd_sim *s, const struct fd_query *q)
{
	return s->sc->n_endpoints + (size_t)s->query_base[q->database->id] + (size_t)q->id;
}

static size_t hop_pool(const struct fd_sim *s, const struct fd_database *d)
{
	return s->sc->n_endpoints + s->n_queries + (size_t)d->id;
}

static size_t hop_dependency(const struct fd_sim *s, const struct fd_dependency *d)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + (size_t)d->id;
}

static size_t hop_cache(const struct fd_sim *s, const struct fd_cache *c)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + s->sc->n_dependencies +
	       (size_t)c->id;
}

static size_t hop_queue(const struct fd_sim *s, const struct fd_queue *q)
{
	return s->sc->n_endpoints + s->n_queries + s->sc->n_databases + s->sc->n_dependencies +
	       s->sc->n_caches + (size_t)q->id;
}

/* ---- spans ---------------------------------------------------------------- */

struct span {
	const uint8_t *trace_id;
	uint8_t id[8];
	const uint8_t *parent; /* NULL for a root */
	const uint8_t *link_trace, *link_span; /* a link (consumer to producer) */
	int kind;
	int64_t start, end;
	bool error;
	const char *status_msg;
	const char *exception_type, *exception_msg; /* an exception event */
};

/* Writes the span's leading fields; the caller appends attributes
 * (field 9) and then calls span_finish. */
static void span_begin(struct pbw *w, const struct span *sp, const char *name)
{
	pbw_reset(w);
	pbw_bytes(w, 1, sp->trace_id, 16);
	pbw_bytes(w, 2, sp->id, 8);
	if (sp->parent)
		pbw_bytes(w, 4, sp->parent, 8);
	pbw_string(w, 5, name);
	pbw_varint(w, 6, (uint64_t)sp->kind);
	pbw_fixed64(w, 7, (uint64_t)sp->start);
	pbw_fixed64(w, 8, (uint64_t)sp->end);
}

static void span_finish(struct fd_sim *s, struct pbw *w, const struct span *sp,
			const struct fd_blob *res, const char *stack_frame)
{
	if (sp->exception_type) {
		size_t ev = pbw_begin(w, 11);
		pbw_fixed64(w, 1, (uint64_t)sp->end);
		pbw_string(w, 2, "exception");
		otlp_attr_str(w, 3, "exception.type", sp->exception_type);
		otlp_attr_str(w, 3, "exception.message", sp->exception_msg ? sp->exception_msg : "");
		char stack[512];
		snprintf(stack, sizeof(stack),
			 "%s: %s\n\tat %s\n\tat server.handle(server:212)\n\tat runtime.main(main:1)",
			 sp->exception_type, sp->exception_msg ? sp->exception_msg : "",
			 stack_frame ? stack_frame : "handler");
		otlp_attr_str(w, 3, "exception.stacktrace", stack);
		pbw_end(w, ev);
	}
	if (sp->link_trace) {
		size_t l = pbw_begin(w, 13);
		pbw_bytes(w, 1, sp->link_trace, 16);
		pbw_bytes(w, 2, sp->link_span, 8);
		pbw_end(w, l);
	}
	if (sp->error) {
		size_t st = pbw_begin(w, 15);
		if (sp->status_msg)
			pbw_string(w, 2, sp->status_msg);
		pbw_varint(w, 3, 2); /* STATUS_CODE_ERROR */
		pbw_end(w, st);
	}
	pbw_fixed32(w, 16, 0x100 | 1); /* SpanFlags: parent-is-remote known; sampled */
	push_record(s, sp->end, FD_SIGNAL_TRACES, res, w);
}

static void dims_attrs(struct pbw *w, unsigned field, const struct req *rq)
{
	if (!rq || !rq->tr)
		return;
	for (size_t d = 0; d < rq->tr->n_dimensions && d < MAX_DIMS; d++)
		otlp_attr_str(w, field, rq->tr->dimensions[d].name,
			      rq->tr->dimensions[d].values[rq->dims[d]].name);
}

/* ---- requests ------------------------------------------------------------ */

struct outcome {
	int64_t end;
	int status;   /* HTTP-like; >= 500 failed */
	bool timeout;
	const char *error; /* short error.type */
};

static struct outcome serve(struct fd_sim *s, struct req *rq, const struct fd_endpoint *ep,
			    int64_t t, const uint8_t *parent, int depth, const struct span *consumer);

static struct outcome run_calls(struct fd_sim *s, struct req *rq, struct inst *in,
				const struct fd_endpoint *ep, const struct fd_call *calls, size_t n,
				int64_t t, const uint8_t *parent, int depth);

struct access_ctx {
	const struct fd_endpoint *ep;
	int status;
	int64_t dur;
	const struct req *rq;
};

static void access_attrs(struct pbw *w, const void *p)
{
	const struct access_ctx *a = p;
	otlp_attr_str(w, 6, "http.request.method", a->ep->method);
	otlp_attr_str(w, 6, "http.route", a->ep->route);
	otlp_attr_str(w, 6, "url.path", a->ep->route);
	otlp_attr_int(w, 6, "http.response.status_code", a->status);
	otlp_attr_double(w, 6, "http.server.request.duration", (double)a->dur / (double)NS);
	if (a->rq && a->rq->payload > 0)
		otlp_attr_int(w, 6, "http.request.body.size", a->rq->payload);
	dims_attrs(w, 6, a->rq);
	otlp_attr_str(w, 6, "log.type", "access");
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

static struct outcome serve(struct fd_sim *s, struct req *rq, const struct fd_endpoint *ep,
			    int64_t t, const uint8_t *parent, int depth, const struct span *consumer)
{
	struct svc *sv = &s->svcs[ep->service->id];
	struct inst *in = pick_instance(s, sv, t);
	if (!in)
		return (struct outcome){.end = t + MS, .status = 503, .error = "no_healthy_upstream"};
	int inc_idx = 0;
	struct incarnation *inc = inc_at(in, t, &inc_idx);
	/* A crash-looping instance between attempts: nothing listens, the
	 * caller's sidecar answers 503 itself. */
	if (!inc)
		return (struct outcome){.end = t + MS, .status = 503, .error = "upstream_connect_error"};

	struct mods m;
	mods_init(&m);
	apply_effects(s, &s->by_endpoint[ep->id], rq, in, t, &m);
	apply_effects(s, &s->by_service[sv->def->id], rq, in, t, &m);

	const struct fd_resources *r = &sv->def->resources;
	int64_t self = modify_latency(s, sample_dist(s, &ep->self), &m);
	self = (int64_t)((double)self * cpu_factor(s, in));
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
			int64_t pause = (int64_t)((double)sample_dist(s, &r->gc_pause) * (1 + 2 * pressure));
			self += pause;
		}
	}
	hop_add(s, rq, (size_t)ep->id, self);
	account_cpu(s, in, t, (double)(r->cpu_per_request_ns > 0 ? r->cpu_per_request_ns : self / 2) * m.cpu);

	struct span sp = {.trace_id = rq->trace_id, .parent = parent,
			  .kind = consumer ? SPAN_CONSUMER : SPAN_SERVER, .start = t};
	if (rq->sampled)
		random_id(s, sp.id, 8);
	if (consumer) {
		sp.link_trace = consumer->link_trace;
		sp.link_span = consumer->link_span;
	}

	int64_t pre = self * 6 / 10;
	struct outcome res = {.status = 200};
	struct outcome c = run_calls(s, rq, in, ep, ep->calls, ep->n_calls, t + pre, sp.id, depth);
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
	double err_p = mix(ep->error_probability, m.err_level, m.err_p);
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
	in->slots[slot_of(s, end)].busy_ns += (double)dur;

	const struct fd_blob *res_blob = inc ? inc->res : current_inc(in)->res;
	if (rq->sampled) {
		sp.end = end;
		sp.error = res.status >= 500;
		char name[160];
		if (consumer)
			snprintf(name, sizeof(name), "process %s", ep->route);
		struct pbw *w = &s->w;
		span_begin(w, &sp, consumer ? name : ep->key); /* "POST /orders" */
		if (consumer) {
			otlp_attr_str(w, 9, "messaging.operation.type", "process");
			otlp_attr_str(w, 9, "messaging.destination.name", ep->route);
		} else {
			otlp_attr_str(w, 9, "http.request.method", ep->method);
			otlp_attr_str(w, 9, "http.route", ep->route);
			otlp_attr_str(w, 9, "url.path", ep->route);
			otlp_attr_str(w, 9, "url.scheme", "http");
			otlp_attr_int(w, 9, "http.response.status_code", res.status);
			if (rq->payload > 0)
				otlp_attr_int(w, 9, "http.request.body.size", rq->payload);
		}
		otlp_attr_str(w, 9, "server.address", sv->def->name);
		dims_attrs(w, 9, rq);
		if (res.error)
			otlp_attr_str(w, 9, "error.type", res.status == 504 ? "504" : res.error);
		char frame[160] = "";
		if (sp.exception_type)
			snprintf(frame, sizeof(frame), "%s.handle%s", sv->def->name, ep->route);
		span_finish(s, w, &sp, res_blob, frame);
	}
	if (!consumer) {
		observe(s, in, SERIES_HTTP, inc_idx, ep->id, res.status, rq, end, dur);
		if (fd_rng_chance(&s->rng, s->sc->access_log_sampling) || res.status >= 500) {
			struct access_ctx a = {.ep = ep, .status = res.status, .dur = dur, .rq = rq};
			char body[256];
			access_body(body, sizeof(body), ep, res.status, dur);
			log_line(s, in, end, res.status >= 500 ? SEV_ERROR : SEV_INFO, body,
				 rq->sampled ? rq->trace_id : NULL, rq->sampled ? sp.id : NULL, access_attrs, &a);
		}
		if (res.status >= 500 && sp.exception_type)
			logf_line(s, in, end, SEV_ERROR, rq->sampled ? rq->trace_id : NULL,
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
			logf_line(s, in, b->probe_end, SEV_WARN, NULL, NULL,
				  "circuit breaker for %s: trial call failed, open again for %.0fs", target,
				  (double)def->open_ns / 1e9);
		} else {
			b->state = BR_CLOSED;
			b->n = b->head = 0;
			logf_line(s, in, b->probe_end, SEV_INFO, NULL, NULL,
				  "circuit breaker for %s closed: trial call succeeded", target);
		}
	}
	if (b->state == BR_OPEN) {
		if (t < b->open_until)
			return false;
		b->state = BR_HALF_OPEN;
		b->probe_end = INT64_MAX; /* until breaker_record */
		*probe = true;
		logf_line(s, in, t, SEV_INFO, NULL, NULL,
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
		logf_line(s, in, t, SEV_WARN, NULL, NULL,
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
	const char *method = callee ? callee->method : call->method ? call->method : "GET";
	const char *route = callee ? callee->route : call->route ? call->route : "/";
	const char *peer = callee ? callee->service->name : dep->host ? dep->host : dep->name;
	struct incarnation *inc = inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : current_inc(in)->res;
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
			random_id(s, sp.id, 8);
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
				span_begin(w, &sp, callee ? callee->key : name);
				otlp_attr_str(w, 9, "http.request.method", method);
				otlp_attr_str(w, 9, "server.address", peer);
				otlp_attr_str(w, 9, "url.template", route);
				otlp_attr_str(w, 9, "error.type", "circuit_open");
				sp.status_msg = "circuit breaker open";
				sp.exception_type = "CircuitBreakerOpenException";
				sp.exception_msg = "circuit breaker is open: call not permitted";
				span_finish(s, w, &sp, res, "http.client.do");
			}
			return (struct outcome){.end = end, .status = 503, .error = "circuit_open"};
		}
		struct mods m;
		mods_init(&m);
		int64_t net = call->has_latency ? sample_dist(s, &call->latency) : 400000;
		int64_t resp;
		struct outcome r;
		if (callee) {
			r = serve(s, rq, callee, cur + net / 2, sp.id, depth + 1, NULL);
			resp = r.end + net / 2;
		} else {
			apply_effects(s, &s->by_dependency[dep->id], rq, in, cur, &m);
			int64_t lat = modify_latency(s, call->has_latency ? net : sample_dist(s, &dep->latency), &m);
			double p = mix(dep->error_probability, m.err_level, m.err_p);
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
			hop_add(s, rq, hop_dependency(s, dep), resp - cur);
		if (dep) {
			int inc_idx = 0;
			if (inc_at(in, cur, &inc_idx))
				observe(s, in, SERIES_HTTP_CLIENT, inc_idx, dep->id, timed_out ? 0 : r.status,
					NULL, resp, resp - cur);
		}
		if (rq->sampled) {
			sp.end = resp;
			sp.error = failed;
			char name[160];
			if (!callee)
				snprintf(name, sizeof(name), "%s %s", method, route);
			struct pbw *w = &s->w;
			span_begin(w, &sp, callee ? callee->key : name);
			otlp_attr_str(w, 9, "http.request.method", method);
			otlp_attr_str(w, 9, "server.address", peer);
			otlp_attr_str(w, 9, "url.template", route);
			if (dep) {
				char url[256];
				snprintf(url, sizeof(url), "https://%s%s", peer, route);
				otlp_attr_str(w, 9, "url.full", url);
				otlp_attr_str(w, 9, "peer.service", dep->name);
			}
			if (!timed_out)
				otlp_attr_int(w, 9, "http.response.status_code", r.status);
			if (attempt > 0)
				otlp_attr_int(w, 9, "http.request.resend_count", attempt);
			if (failed) {
				char code[16];
				snprintf(code, sizeof(code), "%d", r.status);
				otlp_attr_str(w, 9, "error.type", timed_out ? "timeout" : code);
				sp.status_msg = timed_out ? "deadline exceeded" : status_text(r.status);
				if (timed_out) {
					sp.exception_type = "TimeoutError";
					sp.exception_msg = "request timed out";
				}
			}
			span_finish(s, w, &sp, res, "http.client.do");
		}
		cur = resp;
		last = (struct outcome){.end = cur, .status = timed_out ? 504 : r.status,
					.timeout = timed_out, .error = timed_out ? "timeout" : r.error};
		if (!failed)
			return last;
		if (attempt >= retry->max)
			break;
		int64_t wait = backoff_for(retry, attempt);
		logf_line(s, in, cur, SEV_WARN, rq->sampled ? rq->trace_id : NULL, rq->sampled ? sp.id : NULL,
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

static const char *db_summary(const struct fd_query *q, char *buf, size_t n)
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
	mods_init(&m);
	apply_effects(s, &s->by_query[s->query_base[db->id] + q->id], rq, in, t, &m);
	apply_effects(s, &s->by_database[db->id], rq, in, t, &m);
	int size = db->pool > 0 ? db->pool : 10;
	if (m.pool_level > 0)
		size = (int)lround(mix(size, m.pool_level, m.pool));
	if (size < 1)
		size = 1;
	struct pool *p = pool_for(s, in, db, size);
	if (!p) {
		oom(s);
		return (struct outcome){.end = t};
	}
	p->max = size;
	/* The query's duration is drawn first: which connection frees up in
	 * time depends on how long it will be held. */
	int64_t lat = modify_latency(s, call->has_latency ? sample_dist(s, &call->latency)
					       : sample_dist(s, &db->latency), &m);
	struct outcome out = {.status = 200};
	int64_t timeout = m.timeout ? m.timeout : call->timeout_ns;
	if (timeout > 0 && lat > timeout) {
		lat = timeout;
		out.status = 504;
		out.timeout = true;
		out.error = "query_timeout";
	} else if (fd_rng_chance(&s->rng, mix(0, m.err_level, m.err_p))) {
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
	struct incarnation *inc = inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : current_inc(in)->res;
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
	struct pool_slot *ps = &p->slots[slot_of(s, out.end)];
	ps->used_ns += (double)lat;
	ps->wait_ns += (double)wait;
	hop_add(s, rq, hop_pool(s, db), wait);
	hop_add(s, rq, hop_query(s, q), lat);

	uint8_t acquire_id[8];
	if (rq->sampled && wait >= MS) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_INTERNAL,
				  .start = t, .end = t + wait, .error = pool_timeout};
		random_id(s, sp.id, 8);
		memcpy(acquire_id, sp.id, 8);
		if (pool_timeout) {
			sp.status_msg = "timed out waiting for a connection";
			sp.exception_type = "PoolTimeoutError";
			sp.exception_msg = "timed out waiting for a connection";
		}
		char name[160];
		snprintf(name, sizeof(name), "pool.acquire %s", db->name);
		struct pbw *w = &s->w;
		span_begin(w, &sp, name);
		otlp_attr_str(w, 9, "db.client.connection.pool.name", db->name);
		otlp_attr_double(w, 9, "db.client.connection.wait_time", (double)wait / (double)NS);
		otlp_attr_int(w, 9, "db.client.connection.max", size);
		span_finish(s, w, &sp, res, "pool.acquire");
	}
	if (wait >= 100 * MS && t - p->last_warn >= 10 * NS) {
		p->last_warn = t;
		logf_line(s, in, t + wait, SEV_WARN, rq->sampled ? rq->trace_id : NULL,
			  rq->sampled && wait >= MS ? acquire_id : NULL,
			  "connection pool %s exhausted: waited %.0fms for a connection (%d/%d in use)",
			  db->name, (double)wait / 1e6, size, size);
	}
	if (pool_timeout) {
		logf_line(s, in, out.end, SEV_ERROR, rq->sampled ? rq->trace_id : NULL,
			  rq->sampled ? acquire_id : NULL,
			  "PoolTimeoutError: could not acquire a connection to %s within %.1fs", db->name,
			  (double)db->pool_timeout_ns / 1e9);
		return out;
	}
	int inc_idx = 0;
	if (inc_at(in, t, &inc_idx))
		observe(s, in, SERIES_DB, inc_idx, s->query_series[s->query_base[db->id] + q->id], 0,
			NULL, out.end, lat);
	uint8_t qspan[8] = {0};
	if (rq->sampled) {
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = qstart, .end = out.end, .error = out.status >= 500};
		random_id(s, sp.id, 8);
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
		span_begin(w, &sp, summary);
		otlp_attr_str(w, 9, "db.system", db->system);
		otlp_attr_str(w, 9, "db.system.name", db->system);
		otlp_attr_str(w, 9, "db.namespace", db->name);
		otlp_attr_str(w, 9, "db.operation.name", q->operation);
		otlp_attr_str(w, 9, "db.query.summary", summary);
		otlp_attr_str(w, 9, "db.query.text", q->text);
		otlp_attr_str(w, 9, "server.address", db->name);
		otlp_attr_str(w, 9, "db.client.connection.pool.name", db->name);
		if (wait > 0)
			otlp_attr_double(w, 9, "db.client.connection.wait_time", (double)wait / (double)NS);
		if (out.error)
			otlp_attr_str(w, 9, "error.type", out.error);
		span_finish(s, w, &sp, res, "db.query");
	}
	if (lat >= SLOW_QUERY_NS)
		logf_line(s, in, out.end, SEV_WARN, rq->sampled ? rq->trace_id : NULL,
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
	mods_init(&m);
	apply_effects(s, &s->by_cache[cache->id], rq, in, t, &m);
	double hit = call->hit_ratio >= 0 ? call->hit_ratio : cache->hit_ratio;
	int64_t flushed = s->cache_flushed_at[cache->id];
	if (flushed != INT64_MIN && t >= flushed) {
		double warm = cache->warmup_ns > 0 ? (double)(t - flushed) / (double)cache->warmup_ns : 1;
		hit *= fmin(1.0, warm);
	}
	hit = mix(hit, m.hit_level, m.hit);
	int64_t lat = modify_latency(s, call->has_latency ? sample_dist(s, &call->latency)
					       : sample_dist(s, &cache->latency), &m);
	bool is_get = call->cache_op == FD_CACHE_GET;
	bool is_hit = is_get && fd_rng_chance(&s->rng, hit);
	hop_add(s, rq, hop_cache(s, cache), lat);
	struct incarnation *inc = inc_at(in, t, NULL);
	const struct fd_blob *res = inc ? inc->res : current_inc(in)->res;
	if (rq->sampled) {
		static const char *const ops[] = {"GET", "SET", "DEL"};
		const char *op = ops[call->cache_op <= FD_CACHE_DELETE ? call->cache_op : 0];
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_CLIENT,
				  .start = t, .end = t + lat};
		random_id(s, sp.id, 8);
		char name[160];
		snprintf(name, sizeof(name), "%s %s", op, cache->name);
		struct pbw *w = &s->w;
		span_begin(w, &sp, name);
		otlp_attr_str(w, 9, "db.system", cache->system);
		otlp_attr_str(w, 9, "db.system.name", cache->system);
		otlp_attr_str(w, 9, "db.operation.name", op);
		otlp_attr_str(w, 9, "server.address", cache->name);
		if (call->cache_key)
			otlp_attr_str(w, 9, "db.query.text", call->cache_key);
		if (is_get)
			otlp_attr_bool(w, 9, "cache.hit", is_hit);
		span_finish(s, w, &sp, res, "cache.client");
	}
	struct outcome out = {.end = t + lat, .status = 200};
	if (is_get && !is_hit && call->n_on_miss)
		out = run_calls(s, rq, in, ep, call->on_miss, call->n_on_miss, t + lat, parent, depth);
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
	mods_init(&m);
	apply_effects(s, &s->by_queue[q->id], rq, in, t, &m);
	int64_t lat = modify_latency(s, call->has_latency ? sample_dist(s, &call->latency)
					       : sample_dist(s, &q->latency), &m);
	hop_add(s, rq, hop_queue(s, q), lat);
	struct qmsg msg = {.time = t + lat, .sampled = rq->sampled};
	memcpy(msg.trace_id, rq->trace_id, 16);
	if (rq->sampled) {
		struct incarnation *inc = inc_at(in, t, NULL);
		struct span sp = {.trace_id = rq->trace_id, .parent = parent, .kind = SPAN_PRODUCER,
				  .start = t, .end = t + lat};
		random_id(s, sp.id, 8);
		memcpy(msg.span_id, sp.id, 8);
		char name[160];
		snprintf(name, sizeof(name), "send %s", q->name);
		struct pbw *w = &s->w;
		span_begin(w, &sp, name);
		otlp_attr_str(w, 9, "messaging.system", q->system);
		otlp_attr_str(w, 9, "messaging.destination.name", q->name);
		otlp_attr_str(w, 9, "messaging.operation.type", "send");
		otlp_attr_str(w, 9, "messaging.operation.name", "send");
		span_finish(s, w, &sp, inc ? inc->res : current_inc(in)->res, "producer.send");
	}
	qs->depth += 1;
	qs->produced++;
	if (qs->n < QUEUE_CTX_MAX) {
		if (qs->n == qs->cap) {
			size_t cap = qs->cap ? qs->cap * 2 : 1024;
			struct qmsg *v = malloc(cap * sizeof(*v));
			if (!v) {
				oom(s);
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

static struct outcome run_calls(struct fd_sim *s, struct req *rq, struct inst *in,
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

/* ---- queues ---------------------------------------------------------------- */

static void queue_step(struct fd_sim *s, int64_t t)
{
	for (size_t i = 0; i < s->sc->n_queues; i++) {
		struct queue_state *qs = &s->queues[i];
		const struct fd_queue *q = qs->def;
		if (!q->consumer) {
			qs->depth_slots[slot_of(s, t)] = qs->depth;
			qs->consumed_slots[slot_of(s, t)] = qs->consumed;
			continue;
		}
		struct svc *sv = &s->svcs[q->consumer->id];
		int up = 0;
		for (int k = 0; k < sv->n_inst; k++)
			up += inc_at(&sv->inst[k], t, NULL) != NULL;
		struct mods m;
		mods_init(&m);
		apply_effects(s, &s->by_queue[i], NULL, NULL, t, &m);
		double capacity = (double)up * q->throughput * m.thr * (double)STEP_NS / (double)NS;
		double take = fmin(qs->depth, capacity);
		uint64_t n = (uint64_t)take;
		qs->depth -= (double)n;
		qs->consumed += n;
		/* Messages are handled one after another within the step. */
		for (uint64_t k = 0; k < n && !s->failed; k++) {
			int64_t at = t + (int64_t)((double)STEP_NS * (double)k / (double)(n ? n : 1));
			struct req rq = {.phase = -1};
			struct qmsg msg = {0};
			bool have = qs->n > 0;
			if (have) {
				msg = qs->ring[qs->head];
				qs->head = (qs->head + 1) % qs->cap;
				qs->n--;
			}
			if (have && msg.sampled) {
				memcpy(rq.trace_id, msg.trace_id, 16);
				rq.sampled = true;
			} else {
				random_id(s, rq.trace_id, 16);
				rq.sampled = fd_rng_chance(&s->rng, s->sc->trace_sampling);
			}
			if (q->handler) {
				struct span link = {0};
				if (have && msg.sampled) {
					link.link_trace = msg.trace_id;
					link.link_span = msg.span_id;
				}
				serve(s, &rq, q->handler, at, have && msg.sampled ? msg.span_id : NULL, 1, &link);
			}
			if (have && at - msg.time > 60 * NS && k == 0 && sv->n_inst > 0)
				logf_line(s, &sv->inst[0], at, SEV_WARN, NULL, NULL,
					  "consumer of %s is behind: processing a message produced %.0fs ago "
					  "(lag %.0f messages)",
					  q->name, (double)(at - msg.time) / 1e9, qs->depth);
		}
		/* The handler reports each batch (a step's messages), so a
		 * consumer that stops consuming goes quiet in its logs too. */
		if (n > 0 && sv->n_inst > 0) {
			int64_t done = t + STEP_NS - MS;
			for (int k = 0; k < sv->n_inst; k++) {
				struct inst *in = &sv->inst[((t - s->start) / STEP_NS + k) % sv->n_inst];
				if (in->exists && inc_at(in, done, NULL)) {
					logf_line(s, in, done, SEV_INFO, NULL, NULL,
						  "processed batch of %" PRIu64 " messages from %s (consumer group %s)",
						  n, q->name, sv->def->name);
					break;
				}
			}
		}
		qs->depth_slots[slot_of(s, t)] = qs->depth;
		qs->consumed_slots[slot_of(s, t)] = qs->consumed;
	}
}

/* ---- instance state (runs ahead of arrivals) -------------------------------- */

static void lifecycle(struct fd_sim *s, struct inst *in, int64_t t, int sev, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void lifecycle(struct fd_sim *s, struct inst *in, int64_t t, int sev, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	log_line(s, in, t, sev, body, NULL, NULL, NULL, NULL);
}

static void restart_instance(struct fd_sim *s, struct inst *in, int64_t t, bool killed,
			     const char *version, int64_t downtime)
{
	end_inc(in, t, killed);
	if (add_inc(s, in, t + downtime, version) < 0)
		return;
	lifecycle(s, in, t + downtime, SEV_INFO, "started %s %s on %s (%s runtime)", in->svc->def->name,
		  version, in->id, in->svc->def->runtime_name);
}

/* One start attempt of a crash-looping instance at `at`: the process comes
 * up, fails on its configuration CRASH_UP_NS later and is restarted after a
 * doubling backoff. Each attempt is a short incarnation ended by a kill, so
 * process.restart.count counts it. */
static void crash_attempt(struct fd_sim *s, struct inst *in, int64_t at)
{
	const struct fd_event *ev = in->crash_ev;
	if (add_inc(s, in, at, ev->version) < 0)
		return;
	int64_t die = at + CRASH_UP_NS;
	end_inc(in, die, true);
	in->crash_n++;
	int64_t backoff = CRASH_BACKOFF_NS;
	for (int i = 1; i < in->crash_n && backoff < CRASH_BACKOFF_MAX_NS; i++)
		backoff *= 2;
	if (backoff > CRASH_BACKOFF_MAX_NS)
		backoff = CRASH_BACKOFF_MAX_NS;
	in->crash_next = die + backoff;
	lifecycle(s, in, at, SEV_INFO, "starting %s %s on %s (%s runtime)", in->svc->def->name, ev->version,
		  in->id, in->svc->def->runtime_name);
	lifecycle(s, in, die, SEV_ERROR, "FATAL: %s; exiting with status 1",
		  ev->crash_error ? ev->crash_error : "invalid configuration");
	lifecycle(s, in, die, SEV_WARN,
		  "back-off restarting failed container %s (CrashLoopBackOff): restart #%d, next attempt in %.0fs",
		  in->id, in->crash_n, (double)backoff / 1e9);
}

static void apply_event(struct fd_sim *s, const struct fd_event *ev, int64_t t)
{
	struct svc *sv = ev->service ? &s->svcs[ev->service->id] : NULL;
	struct inst *first = sv && sv->n_inst ? &sv->inst[0] : NULL;
	switch (ev->kind) {
	case FD_EVENT_DEPLOY:
	case FD_EVENT_ROLLBACK:
		if (!sv || !ev->version)
			break;
		sv->target_version = ev->version;
		sv->rollout_start = t;
		sv->rollout_ns = ev->rollout_ns;
		sv->rollout_done = 0;
		sv->rollout_event = ev;
		lifecycle(s, first, t, SEV_INFO, "%s of %s started: %s -> %s, rolling over %d instances in %.0fs",
			  ev->kind == FD_EVENT_DEPLOY ? "deploy" : "rollback", sv->def->name,
			  ev->previous_version ? ev->previous_version : first->version, ev->version, sv->count,
			  (double)ev->rollout_ns / 1e9);
		break;
	case FD_EVENT_SCALE_OUT:
		if (!sv)
			break;
		for (int i = sv->count; i < ev->instances && i < sv->n_inst; i++) {
			struct inst *in = &sv->inst[i];
			in->exists = true;
			const char *v = sv->inst[0].version;
			if (add_inc(s, in, t + sv->def->resources.startup_ns, v) == 0)
				lifecycle(s, in, t + sv->def->resources.startup_ns, SEV_INFO,
					  "started %s %s on %s (scale out)", sv->def->name, v, in->id);
		}
		if (ev->instances > sv->count) {
			lifecycle(s, first, t, SEV_INFO, "scaling %s out from %d to %d instances",
				  sv->def->name, sv->count, ev->instances);
			sv->count = ev->instances < sv->n_inst ? ev->instances : sv->n_inst;
		}
		break;
	case FD_EVENT_RESTART:
		if (!sv)
			break;
		for (int i = 0; i < sv->count; i++) {
			if (ev->instance >= 0 && i != ev->instance)
				continue;
			struct inst *in = &sv->inst[i];
			if (in->lost)
				continue;
			in->restart_pending_at = t + (sv->count > 1 && ev->instance < 0
						      ? ev->rollout_ns * i / sv->count : 0);
		}
		break;
	case FD_EVENT_INSTANCE_LOSS:
		if (!sv)
			break;
		for (int i = 0; i < sv->count; i++) {
			if (ev->instance >= 0 && i != ev->instance)
				continue;
			struct inst *in = &sv->inst[i];
			end_inc(in, t, true);
			in->lost = true;
			lifecycle(s, in, t, SEV_ERROR, "node of %s became unreachable: instance lost",
				  in->id);
			if (ev->instance < 0)
				break; /* "an instance": the first */
		}
		break;
	case FD_EVENT_CACHE_FLUSH:
		if (ev->cache)
			s->cache_flushed_at[ev->cache->id] = t;
		if (s->sc->n_services)
			log_line(s, &s->svcs[0].inst[0], t, SEV_WARN, "cache flushed (FLUSHALL)", NULL,
				 NULL, NULL, NULL);
		break;
	case FD_EVENT_FEATURE_FLAG:
	case FD_EVENT_FLAG_OFF:
		if (first)
			lifecycle(s, first, t, SEV_INFO, "feature flag %s turned %s", ev->flag ? ev->flag : "?",
				  ev->kind == FD_EVENT_FEATURE_FLAG && ev->flag_on ? "on" : "off");
		break;
	case FD_EVENT_CONFIG_CHANGE:
		if (first)
			lifecycle(s, first, t, SEV_INFO, "configuration changed: %s = %s",
				  ev->config_key ? ev->config_key : "(config)",
				  ev->config_value ? ev->config_value : "");
		break;
	default:
		if (first && ev->description)
			lifecycle(s, first, t, SEV_INFO, "%s", ev->description);
		break;
	}
}

static void state_step(struct fd_sim *s, int64_t t, size_t *next_event)
{
	const struct fd_scenario *sc = s->sc;
	while (*next_event < sc->n_events && s->start + sc->events[*next_event].at_ns <= t) {
		apply_event(s, &sc->events[*next_event], s->start + sc->events[*next_event].at_ns);
		(*next_event)++;
	}
	for (size_t i = 0; i < sc->n_services; i++) {
		struct svc *sv = &s->svcs[i];
		const struct fd_resources *r = &sv->def->resources;
		/* rollouts: instance k switches at start + rollout * (k+1)/n */
		while (sv->target_version && sv->rollout_done < sv->count) {
			int k = sv->rollout_done;
			int64_t at = sv->rollout_start + sv->rollout_ns * (k + 1) / sv->count;
			if (at > t)
				break;
			struct inst *in = &sv->inst[k];
			const struct fd_event *rev = sv->rollout_event;
			if (!in->lost && strcmp(in->version, sv->target_version) != 0) {
				if (rev->kind == FD_EVENT_DEPLOY && rev->crash_on_start) {
					end_inc(in, at, false);
					in->crashing = true;
					in->crash_ev = rev;
					in->crash_n = 0;
					crash_attempt(s, in, at);
				} else {
					in->crashing = false;
					restart_instance(s, in, at, false, sv->target_version, 0);
				}
			}
			sv->rollout_done++;
			if (sv->rollout_done == sv->count)
				lifecycle(s, &sv->inst[0], at, SEV_INFO, "%s of %s %s finished",
					  sv->rollout_event->kind == FD_EVENT_DEPLOY ? "deploy" : "rollback",
					  sv->def->name, sv->target_version);
		}
		for (int k = 0; k < sv->n_inst; k++) {
			struct inst *in = &sv->inst[k];
			if (!in->exists || in->lost)
				continue;
			if (in->restart_pending_at && in->restart_pending_at <= t) {
				int64_t at = in->restart_pending_at;
				in->restart_pending_at = 0;
				lifecycle(s, in, at, SEV_INFO, "restarting %s (operator restart)", in->id);
				restart_instance(s, in, at, false, in->version, r->startup_ns);
			}
			if (in->crashing && in->crash_next <= t)
				crash_attempt(s, in, in->crash_next);
			struct incarnation *c = inc_at(in, t, NULL);
			if (!c)
				continue;
			struct mods m;
			mods_init(&m);
			apply_effects(s, &s->by_service[i], NULL, in, t, &m);
			in->leaked += m.leak * (double)STEP_NS / (double)NS;
			struct slot *sl = &in->slots[slot_of(s, t)];
			sl->leaked = in->leaked;
			sl->leaked_set = true;
			if (r->gc_interval_ns > 0 && r->memory_limit > 0) {
				double pressure = ((double)r->memory_baseline + in->leaked) / (double)r->memory_limit;
				if (pressure > 0.98)
					pressure = 0.98;
				double interval = (double)r->gc_interval_ns * pow(1 - pressure, 2) / 0.49;
				if (interval < 50 * MS)
					interval = 50 * MS;
				double pause = (double)r->gc_pause.p50 * (1 + 2 * pressure);
				sl->gc_ns += (double)STEP_NS / interval * pause;
				in->gc_cum_ns += (double)STEP_NS / interval * pause;
			}
			if (r->memory_limit > 0 && (double)r->memory_baseline + in->leaked >= (double)r->memory_limit) {
				in->restarts++;
				char lim[32];
				snprintf(lim, sizeof(lim), "%.0f MiB", (double)r->memory_limit / 1048576.0);
				lifecycle(s, in, t, SEV_ERROR,
					  "OOMKilled: %s exceeded its memory limit of %s; restarting (restart #%" PRIu64 ")",
					  in->id, lim, in->restarts);
				restart_instance(s, in, t, true, in->version, r->startup_ns);
			}
		}
	}
}

/* ---- metrics ---------------------------------------------------------------- */

/* Metric: name=1 description=2 unit=3 gauge=5 sum=7 histogram=9.
 * NumberDataPoint: attributes=7 start=2 time=3 as_double=4 as_int=6.
 * HistogramDataPoint: attributes=9 start=2 time=3 count=4 sum=5
 * bucket_counts=6 explicit_bounds=7. */

static size_t metric_begin(struct pbw *w, const char *name, const char *desc, const char *unit,
			   unsigned data_field)
{
	pbw_reset(w);
	pbw_string(w, 1, name);
	pbw_string(w, 2, desc);
	pbw_string(w, 3, unit);
	return pbw_begin(w, data_field);
}

static void metric_end(struct fd_sim *s, struct pbw *w, size_t mark, unsigned data_field,
		       bool monotonic, int64_t t, const struct fd_blob *res)
{
	if (data_field == 7 || data_field == 9)
		pbw_varint(w, 2, 2); /* AGGREGATION_TEMPORALITY_CUMULATIVE */
	if (data_field == 7 && monotonic)
		pbw_varint(w, 3, 1);
	pbw_end(w, mark);
	push_record(s, t, FD_SIGNAL_METRICS, res, w);
}

static void number_point(struct pbw *w, int64_t start, int64_t t, double v, bool is_int,
			 const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t dp = pbw_begin(w, 1);
	if (k1)
		otlp_attr_str(w, 7, k1, v1);
	if (k2)
		otlp_attr_str(w, 7, k2, v2);
	if (start)
		pbw_fixed64(w, 2, (uint64_t)start);
	pbw_fixed64(w, 3, (uint64_t)t);
	if (is_int)
		pbw_fixed64(w, 6, (uint64_t)(int64_t)llround(v));
	else
		pbw_double(w, 4, v);
	pbw_end(w, dp);
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
			otlp_attr_str(w, 9, "http.request.method", ep->method);
			otlp_attr_str(w, 9, "http.route", ep->route);
		}
		snprintf(code, sizeof(code), "%d", x->status);
		otlp_attr_int(w, 9, "http.response.status_code", x->status);
		if (x->status >= 500)
			otlp_attr_str(w, 9, "error.type", code);
		if (x->tr) {
			int combo = x->combo;
			for (size_t d = 0; d < x->tr->n_dimensions && d < MAX_DIMS; d++) {
				const struct fd_dimension *dim = &x->tr->dimensions[d];
				otlp_attr_str(w, 9, dim->name, dim->values[combo % (int)dim->n_values].name);
				combo /= (int)dim->n_values;
			}
		}
	} else if (x->kind == SERIES_HTTP_CLIENT) {
		const struct fd_dependency *dep = &sc->dependencies[x->sub];
		otlp_attr_str(w, 9, "server.address", dep->host ? dep->host : dep->name);
		otlp_attr_str(w, 9, "peer.service", dep->name);
		if (x->status)
			otlp_attr_int(w, 9, "http.response.status_code", x->status);
		else
			otlp_attr_str(w, 9, "error.type", "timeout");
	} else {
		for (size_t i = 0; i < sc->n_databases; i++) {
			const struct fd_database *db = &sc->databases[i];
			int base = s->query_base[i];
			if (x->sub >= base && x->sub < base + (int)db->n_queries) {
				const struct fd_query *q = &db->queries[x->sub - base];
				char summary[128];
				otlp_attr_str(w, 9, "db.system", db->system);
				otlp_attr_str(w, 9, "db.namespace", db->name);
				otlp_attr_str(w, 9, "db.operation.name", q->operation);
				otlp_attr_str(w, 9, "db.query.summary", db_summary(q, summary, sizeof(summary)));
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
			mark = metric_begin(w, name, desc, "s", 9);
			any = true;
		}
		size_t dp = pbw_begin(w, 1);
		series_attrs(s, w, x);
		pbw_fixed64(w, 2, (uint64_t)c->start);
		pbw_fixed64(w, 3, (uint64_t)t);
		pbw_fixed64(w, 4, x->cum.count);
		pbw_double(w, 5, x->cum.sum);
		size_t b = pbw_begin(w, 6);
		for (int k = 0; k < NBUCKETS; k++)
			for (int j = 0; j < 8; j++)
				if (pbw_room(w, 1))
					w->buf[w->len++] = (uint8_t)(x->cum.counts[k] >> (8 * j));
		pbw_end(w, b);
		b = pbw_begin(w, 7);
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
		metric_end(s, w, mark, 9, false, t, c->res);
}

/* Assembles the scrape at t = start + k * interval. */
static void scrape(struct fd_sim *s, int64_t t)
{
	size_t slot = slot_of(s, t);
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
			struct incarnation *c = inc_at(in, t, &idx);
			if (!c && in->crashing && in->exists && in->n_incs) {
				/* Between attempts the platform still reports the
				 * container: its version and its restarts. */
				const struct fd_blob *last = current_inc(in)->res;
				uint64_t restarts = 0;
				for (size_t n = 0; n < in->n_incs; n++)
					restarts += in->incs[n].killed && in->incs[n].end <= t;
				size_t m = metric_begin(w, "process.restart.count",
							"Times the instance was killed and restarted (OOM kills, crashes).",
							"{restart}", 7);
				number_point(w, s->start, t, (double)restarts, true, NULL, NULL, NULL, NULL);
				metric_end(s, w, m, 7, true, t, last);
				m = metric_begin(w, "service.version.info",
						 "1 for the version the instance runs; deploys show as a change.", "1", 5);
				number_point(w, 0, t, 1, true, "service.version", current_inc(in)->version, NULL, NULL);
				metric_end(s, w, m, 5, false, t, last);
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
			size_t m = metric_begin(w, "process.memory.usage", "The amount of physical memory in use.", "By", 5);
			number_point(w, 0, t, mem, true, NULL, NULL, NULL, NULL);
			metric_end(s, w, m, 5, false, t, c->res);

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
			m = metric_begin(w, "process.cpu.utilization",
					 "CPU time used by the process divided by the CPU available.", "1", 5);
			number_point(w, 0, t, util, false, NULL, NULL, NULL, NULL);
			metric_end(s, w, m, 5, false, t, c->res);

			if (in->rep_inc != idx) {
				in->rep_inc = idx;
				in->cpu_rep_ns = in->gc_rep_ns = 0;
			}
			in->cpu_rep_ns += sl.cpu_ns;
			in->gc_rep_ns += sl.gc_ns;
			uint64_t restarts = 0;
			for (size_t n = 0; n < in->n_incs; n++)
				restarts += in->incs[n].killed && in->incs[n].end <= t;
			m = metric_begin(w, "process.cpu.time", "Total CPU seconds used by the process.", "s", 7);
			number_point(w, c->start, t, in->cpu_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
			metric_end(s, w, m, 7, true, t, c->res);

			if (r->gc_interval_ns > 0) {
				m = metric_begin(w, "process.runtime.gc.pause.time",
						 "Total time the runtime paused the process for garbage collection.",
						 "s", 7);
				number_point(w, c->start, t, in->gc_rep_ns / 1e9, false, NULL, NULL, NULL, NULL);
				metric_end(s, w, m, 7, true, t, c->res);
			}

			m = metric_begin(w, "process.restart.count",
					 "Times the instance was killed and restarted (OOM kills, crashes).", "{restart}", 7);
			number_point(w, s->start, t, (double)restarts, true, NULL, NULL, NULL, NULL);
			metric_end(s, w, m, 7, true, t, c->res);

			m = metric_begin(w, "service.version.info",
					 "1 for the version the instance runs; deploys show as a change.", "1", 5);
			number_point(w, 0, t, 1, true, "service.version", c->version, NULL, NULL);
			metric_end(s, w, m, 5, false, t, c->res);

			for (size_t d = 0; d < s->sc->n_databases; d++) {
				struct pool *p = &in->pools[d];
				if (!p->slots)
					continue;
				const struct fd_database *db = &s->sc->databases[d];
				struct pool_slot ps = p->slots[slot];
				memset(&p->slots[slot], 0, sizeof(p->slots[slot]));
				int size = p->max > 0 ? p->max : db->pool > 0 ? db->pool : 10;
				double used = fmin((double)size, ps.used_ns / interval);
				m = metric_begin(w, "db.client.connection.count",
						 "Connections in use and idle (average over the interval).",
						 "{connection}", 5);
				number_point(w, 0, t, used, false, "db.client.connection.pool.name", db->name,
					     "db.client.connection.state", "used");
				number_point(w, 0, t, (double)size - used, false, "db.client.connection.pool.name",
					     db->name, "db.client.connection.state", "idle");
				metric_end(s, w, m, 5, false, t, c->res);
				m = metric_begin(w, "db.client.connection.max", "Maximum connections allowed.",
						 "{connection}", 5);
				number_point(w, 0, t, size, true, "db.client.connection.pool.name", db->name,
					     NULL, NULL);
				metric_end(s, w, m, 5, false, t, c->res);
				m = metric_begin(w, "db.client.connection.pending_requests",
						 "Requests waiting for a connection (average over the interval).",
						 "{request}", 5);
				number_point(w, 0, t, ps.wait_ns / interval, false,
					     "db.client.connection.pool.name", db->name, NULL, NULL);
				metric_end(s, w, m, 5, false, t, c->res);
			}
		}
	}
	for (size_t i = 0; i < s->sc->n_queues; i++) {
		struct queue_state *qs = &s->queues[i];
		const struct fd_queue *q = qs->def;
		double depth = qs->depth_slots[slot];
		struct svc *sv = q->consumer ? &s->svcs[q->consumer->id] : NULL;
		struct inst *in = sv && sv->n_inst ? &sv->inst[0] : NULL;
		struct incarnation *c = in ? inc_at(in, t, NULL) : NULL;
		if (!c)
			continue;
		size_t m = metric_begin(w, "messaging.kafka.consumer.lag",
					"Messages produced but not yet consumed.", "{message}", 5);
		number_point(w, 0, t, depth, true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		metric_end(s, w, m, 5, false, t, c->res);
		m = metric_begin(w, "messaging.client.consumed.messages", "Messages consumed.", "{message}", 7);
		number_point(w, s->start, t, (double)qs->consumed_slots[slot], true, "messaging.destination.name", q->name,
			     "messaging.consumer.group.name", sv->def->name);
		metric_end(s, w, m, 7, true, t, c->res);
	}
}

/* ---- traffic, noise, cron ---------------------------------------------------- */

struct traffic_state {
	int64_t next;
	double noise;       /* current multiplicative noise factor */
	int64_t noise_until;
};

static double traffic_rate(struct fd_sim *s, const struct fd_traffic *tr, struct traffic_state *ts,
			   int64_t t)
{
	double rate = tr->rate;
	if (tr->shape == FD_SHAPE_DAILY) {
		int64_t day = 86400 * NS;
		int64_t tod = ((t % day) + day) % day;
		rate *= 1 + tr->amplitude * cos(6.283185307179586 * (double)(tod - tr->peak_ns) / (double)day);
	}
	if (tr->noise > 0) {
		if (t >= ts->noise_until) {
			ts->noise = fmax(0.1, 1 + tr->noise * fd_rng_normal(&s->rng));
			ts->noise_until = t + 60 * NS;
		}
		rate *= ts->noise;
	}
	int64_t rel = t - s->start;
	for (size_t b = 0; b < tr->n_bursts; b++)
		if (rel >= tr->bursts[b].at_ns && rel < tr->bursts[b].at_ns + tr->bursts[b].duration_ns)
			rate *= tr->bursts[b].multiplier;
	struct mods m;
	mods_init(&m);
	apply_effects(s, &s->by_traffic[tr->id], NULL, NULL, t, &m);
	apply_effects(s, &s->traffic_all, NULL, NULL, t, &m);
	return rate * m.rate;
}

static void arrival(struct fd_sim *s, const struct fd_traffic *tr, int64_t t)
{
	struct req rq = {.tr = tr};
	int radix = 1;
	for (size_t d = 0; d < tr->n_dimensions && d < MAX_DIMS; d++) {
		const struct fd_dimension *dim = &tr->dimensions[d];
		double u = fd_rng_uniform(&s->rng), acc = 0;
		size_t v = dim->n_values - 1;
		for (size_t k = 0; k < dim->n_values; k++) {
			acc += dim->values[k].weight;
			if (u < acc) {
				v = k;
				break;
			}
		}
		rq.dims[d] = (int)v;
		rq.combo += (int)v * radix;
		radix *= (int)dim->n_values;
	}
	if (tr->payload.p50 > 0)
		rq.payload = sample_dist(s, &tr->payload);
	random_id(s, rq.trace_id, 16);
	rq.sampled = fd_rng_chance(&s->rng, s->sc->trace_sampling);
	rq.phase = phase_of(s, t);
	struct outcome o = serve(s, &rq, tr->entry, t, NULL, 0, NULL);
	s->entry_requests++;
	if (rq.phase >= 0) {
		struct logh *h = &s->meas[(size_t)tr->id * NPHASES + (size_t)rq.phase];
		logh_add(h, o.end - t, o.status >= 500);
	}
}

static void noise_line(struct fd_sim *s, const struct fd_noise_log *nl, int64_t t)
{
	/* A flood with a window: the schedule runs all along (the same draws
	 * either way), only lines inside the window are written. */
	int64_t rel = t - s->start;
	if (rel < nl->at_ns || (nl->duration_ns > 0 && rel >= nl->at_ns + nl->duration_ns))
		return;
	struct svc *sv = &s->svcs[nl->service->id];
	struct inst *in = pick_instance(s, sv, t);
	if (!in)
		return;
	static const int sev[] = {SEV_DEBUG, SEV_INFO, SEV_WARN, SEV_ERROR};
	log_line(s, in, t, sev[nl->severity <= FD_SEV_ERROR ? nl->severity : 1], nl->message, NULL, NULL,
		 NULL, NULL);
}

static void cron_run(struct fd_sim *s, const struct fd_noise_cron *cr, int64_t t)
{
	struct svc *sv = &s->svcs[cr->service->id];
	struct inst *in = &sv->inst[0];
	struct incarnation *c = inc_at(in, t, NULL);
	if (!c)
		return;
	struct req rq = {.phase = -1};
	random_id(s, rq.trace_id, 16);
	rq.sampled = true; /* batch jobs are always traced: rare and interesting */
	struct span sp = {.trace_id = rq.trace_id, .kind = SPAN_INTERNAL, .start = t};
	random_id(s, sp.id, 8);
	lifecycle(s, in, t, SEV_INFO, "cron job %s started", cr->name);
	struct outcome o = run_calls(s, &rq, in, NULL, cr->calls, cr->n_calls, t, sp.id, 1);
	int64_t end = o.end > t + cr->duration_ns ? o.end : t + cr->duration_ns;
	sp.end = end;
	sp.error = o.status >= 500;
	char name[160];
	snprintf(name, sizeof(name), "cron %s", cr->name);
	span_begin(&s->w, &sp, name);
	otlp_attr_str(&s->w, 9, "job.name", cr->name);
	span_finish(s, &s->w, &sp, c->res, "cron.run");
	lifecycle(s, in, end, SEV_INFO, "cron job %s finished in %.1fs", cr->name, (double)(end - t) / 1e9);
}

/* ---- setup ------------------------------------------------------------------- */

static int elist_add(struct elist *l, const struct fd_effect *e)
{
	const struct fd_effect **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	v[l->n++] = e;
	l->v = v;
	return 0;
}

static struct elist *target_list(struct fd_sim *s, const struct fd_target *tg)
{
	switch (tg->kind) {
	case FD_TARGET_SERVICE: return &s->by_service[tg->service->id];
	case FD_TARGET_ENDPOINT: return &s->by_endpoint[tg->endpoint->id];
	case FD_TARGET_DATABASE: return &s->by_database[tg->database->id];
	case FD_TARGET_QUERY: return &s->by_query[s->query_base[tg->query->database->id] + tg->query->id];
	case FD_TARGET_CACHE: return &s->by_cache[tg->cache->id];
	case FD_TARGET_QUEUE: return &s->by_queue[tg->queue->id];
	case FD_TARGET_DEPENDENCY: return &s->by_dependency[tg->dependency->id];
	case FD_TARGET_TRAFFIC: return tg->traffic ? &s->by_traffic[tg->traffic->id] : &s->traffic_all;
	}
	return NULL;
}

static char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xstrdup_printf(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

static int name_hops(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	s->n_hops = sc->n_endpoints + s->n_queries + sc->n_databases + sc->n_dependencies +
		    sc->n_caches + sc->n_queues;
	s->hops = calloc(s->n_hops ? s->n_hops : 1, sizeof(*s->hops));
	if (!s->hops)
		return -1;
	for (size_t i = 0; i < sc->n_services; i++)
		for (size_t j = 0; j < sc->services[i].n_endpoints; j++) {
			const struct fd_endpoint *ep = &sc->services[i].endpoints[j];
			s->hops[ep->id].name = xstrdup_printf("%s %s (own time)", sc->services[i].name, ep->key);
		}
	for (size_t d = 0; d < sc->n_databases; d++) {
		const struct fd_database *db = &sc->databases[d];
		for (size_t q = 0; q < db->n_queries; q++)
			s->hops[hop_query(s, &db->queries[q])].name =
				xstrdup_printf("%s query: %s", db->name, db->queries[q].text);
		s->hops[hop_pool(s, db)].name = xstrdup_printf("%s connection pool wait", db->name);
	}
	for (size_t d = 0; d < sc->n_dependencies; d++)
		s->hops[hop_dependency(s, &sc->dependencies[d])].name =
			xstrdup_printf("%s (external dependency)", sc->dependencies[d].name);
	for (size_t c = 0; c < sc->n_caches; c++)
		s->hops[hop_cache(s, &sc->caches[c])].name = xstrdup_printf("%s (cache)", sc->caches[c].name);
	for (size_t q = 0; q < sc->n_queues; q++)
		s->hops[hop_queue(s, &sc->queues[q])].name = xstrdup_printf("%s (produce)", sc->queues[q].name);
	for (size_t h = 0; h < s->n_hops; h++) {
		s->hops[h].ns = calloc((sc->n_traffic ? sc->n_traffic : 1) * NPHASES, sizeof(double));
		if (!s->hops[h].name || !s->hops[h].ns)
			return -1;
	}
	return 0;
}

static void find_trigger(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	const struct fd_event *trig = sc->answer.trigger_event;
	for (size_t i = 0; !trig && i < sc->n_events; i++)
		if (!sc->events[i].mitigation && (sc->events[i].n_effects || sc->events[i].kind == FD_EVENT_DEPLOY ||
						  sc->events[i].kind == FD_EVENT_CACHE_FLUSH ||
						  sc->events[i].kind == FD_EVENT_INSTANCE_LOSS))
			trig = &sc->events[i];
	s->trigger_at = s->settle_at = s->mitigate_at = s->recovered_at = INT64_MAX;
	if (!trig)
		return;
	s->trigger = trig;
	s->trigger_at = s->start + trig->at_ns;
	int64_t settle = trig->rollout_ns;
	for (size_t i = 0; i < trig->n_effects; i++) {
		const struct fd_effect *e = &trig->effects[i];
		/* A delayed effect is a later stage of the incident (a load that
		 * eases in steps), not part of its onset. */
		if (e->start_ns > trig->at_ns)
			continue;
		int64_t d = e->ramp_ns;
		if (d > settle)
			settle = d;
	}
	s->settle_at = s->trigger_at + settle;
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *e = &sc->events[i];
		if (e->mitigation && e->at_ns >= trig->at_ns) {
			s->mitigate_at = s->start + e->at_ns;
			s->recovered_at = s->mitigate_at + e->rollout_ns + 5 * 60 * NS;
			return;
		}
	}
	/* No mitigation, but an incident that ends by itself (an outage with a
	 * duration, a cache that warms up again): "after" is measured from
	 * when its last effect ends, so the answer key shows the recovery. */
	int64_t ends = trig->kind == FD_EVENT_CACHE_FLUSH && trig->cache
		       ? trig->at_ns + trig->cache->warmup_ns : 0;
	if (!trig->n_effects && trig->kind != FD_EVENT_CACHE_FLUSH)
		return;
	for (size_t i = 0; i < trig->n_effects; i++) {
		if (trig->effects[i].end_ns == FD_FOREVER)
			return;
		if (trig->effects[i].end_ns > ends)
			ends = trig->effects[i].end_ns;
	}
	s->mitigate_at = s->start + ends;
	s->recovered_at = s->mitigate_at + 5 * 60 * NS;
}

int fd_sim_create(const struct fd_scenario *sc, const struct fd_sim_options *opts,
		  struct fd_sim **out, struct fd_error *err)
{
	*out = NULL;
	struct fd_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->sc = sc;
	s->seed = opts && opts->seed_set ? opts->seed : sc->seed;
	s->start = opts && opts->start_set ? opts->start_ns : sc->start_ns;
	int64_t duration = opts && opts->duration_ns > 0 ? opts->duration_ns : sc->duration_ns;
	if (duration <= 0 || duration > INT64_MAX - s->start - 2 * HORIZON_NS) {
		free(s);
		return fd_error_set(err, FD_EINPUT, "duration must be positive and end before year 2262");
	}
	s->end = s->start + duration;
	s->scrape = sc->scrape_interval_ns >= NS ? sc->scrape_interval_ns : 15 * NS;
	s->nslots = (size_t)((HORIZON_NS + LOOKAHEAD_NS) / s->scrape) + 4;
	fd_rng_seed(&s->rng, s->seed);

	s->blobs = fd_intern_create();
	if (!s->blobs)
		goto nomem;
	pbw_reset(&s->aux);
	pbw_string(&s->aux, 1, "firedrill");
	pbw_string(&s->aux, 2, FD_VERSION);
	if (s->aux.oom || !(s->scope = fd_intern_add(s->blobs, s->aux.buf, s->aux.len)))
		goto nomem;

	/* effects by target */
	s->query_base = calloc(sc->n_databases + 1, sizeof(int));
	if (!s->query_base)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++) {
		s->query_base[d] = (int)s->n_queries;
		s->n_queries += sc->databases[d].n_queries;
	}
	s->query_summary = calloc(s->n_queries ? s->n_queries : 1, sizeof(char *));
	if (!s->query_summary)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++)
		for (size_t q = 0; q < sc->databases[d].n_queries; q++) {
			char buf[128];
			char **slot = &s->query_summary[(size_t)s->query_base[d] + q];
			if (!(*slot = strdup(db_summary(&sc->databases[d].queries[q], buf, sizeof(buf)))))
				goto nomem;
		}
	s->query_series = calloc(s->n_queries ? s->n_queries : 1, sizeof(int));
	if (!s->query_series)
		goto nomem;
	for (size_t d = 0; d < sc->n_databases; d++)
		for (size_t q = 0; q < sc->databases[d].n_queries; q++) {
			int g = s->query_base[d] + (int)q, first = g;
			for (int o = s->query_base[d]; o < g; o++)
				if (strcmp(s->query_summary[o], s->query_summary[g]) == 0) {
					first = o;
					break;
				}
			s->query_series[g] = first;
		}
#define ALLOC_LIST(field, n) \
	if (!(s->field = calloc((n) ? (n) : 1, sizeof(struct elist)))) \
		goto nomem;
	ALLOC_LIST(by_endpoint, sc->n_endpoints)
	ALLOC_LIST(by_service, sc->n_services)
	ALLOC_LIST(by_query, s->n_queries)
	ALLOC_LIST(by_database, sc->n_databases)
	ALLOC_LIST(by_cache, sc->n_caches)
	ALLOC_LIST(by_dependency, sc->n_dependencies)
	ALLOC_LIST(by_traffic, sc->n_traffic)
	ALLOC_LIST(by_queue, sc->n_queues)
#undef ALLOC_LIST
	s->evs = calloc(sc->n_events ? sc->n_events : 1, sizeof(*s->evs));
	if (!s->evs)
		goto nomem;
	for (size_t i = 0; i < sc->n_events; i++)
		s->evs[i].undo_at = INT64_MAX;
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *ev = &sc->events[i];
		if (ev->mitigation && ev->undoes) {
			struct event_state *es = &s->evs[ev->undoes->id];
			es->undo_at = ev->at_ns;
			es->undo_ramp = ev->rollout_ns;
			es->damping = ev->damping > 0 ? ev->damping : 1;
		}
		for (size_t k = 0; k < ev->n_effects; k++) {
			struct elist *l = target_list(s, &ev->effects[k].target);
			if (l && elist_add(l, &ev->effects[k]) < 0)
				goto nomem;
		}
	}
	s->cache_flushed_at = malloc((sc->n_caches ? sc->n_caches : 1) * sizeof(int64_t));
	if (!s->cache_flushed_at)
		goto nomem;
	for (size_t c = 0; c < sc->n_caches; c++)
		s->cache_flushed_at[c] = INT64_MIN;

	/* services and instances */
	s->svcs = calloc(sc->n_services ? sc->n_services : 1, sizeof(*s->svcs));
	if (!s->svcs)
		goto nomem;
	for (size_t i = 0; i < sc->n_services; i++) {
		struct svc *sv = &s->svcs[i];
		sv->def = &sc->services[i];
		sv->count = sv->def->instances > 0 ? sv->def->instances : 1;
		sv->n_inst = sv->count;
		for (size_t e = 0; e < sc->n_events; e++)
			if (sc->events[e].kind == FD_EVENT_SCALE_OUT && sc->events[e].service == sv->def &&
			    sc->events[e].instances > sv->n_inst)
				sv->n_inst = sc->events[e].instances;
		sv->inst = calloc((size_t)sv->n_inst, sizeof(*sv->inst));
		if (!sv->inst)
			goto nomem;
		uint64_t h = fd_hash64(sv->def->name, strlen(sv->def->name));
		for (int k = 0; k < sv->n_inst; k++) {
			struct inst *in = &sv->inst[k];
			in->svc = sv;
			in->idx = k;
			in->version = sv->def->version;
			in->cpu_win_start = s->start;
			/* Kubernetes-like pod names: stable per service and index. */
			uint64_t x = h ^ ((uint64_t)(k + 1) * 0x9e3779b97f4a7c15ULL);
			char suffix[6];
			for (int c = 0; c < 5; c++) {
				suffix[c] = "bcdfghjklmnpqrstvwxz2456789"[x % 27];
				x /= 27;
			}
			suffix[5] = '\0';
			snprintf(in->id, sizeof(in->id), "%s-%06" PRIx64 "-%s", sv->def->name, h & 0xffffff,
				 suffix);
			in->slots = calloc(s->nslots, sizeof(*in->slots));
			in->pools = calloc(sc->n_databases ? sc->n_databases : 1, sizeof(*in->pools));
			in->breakers = calloc(sc->n_breakers ? sc->n_breakers : 1, sizeof(*in->breakers));
			if (!in->slots || !in->pools || !in->breakers)
				goto nomem;
			in->exists = k < sv->count;
			if (in->exists && add_inc(s, in, s->start, sv->def->version) < 0)
				goto nomem;
		}
	}
	s->queues = calloc(sc->n_queues ? sc->n_queues : 1, sizeof(*s->queues));
	if (!s->queues)
		goto nomem;
	for (size_t q = 0; q < sc->n_queues; q++) {
		s->queues[q].def = &sc->queues[q];
		s->queues[q].depth_slots = calloc(s->nslots, sizeof(double));
		s->queues[q].consumed_slots = calloc(s->nslots, sizeof(uint64_t));
		if (!s->queues[q].depth_slots || !s->queues[q].consumed_slots)
			goto nomem;
	}
	s->meas = calloc((sc->n_traffic ? sc->n_traffic : 1) * NPHASES, sizeof(*s->meas));
	if (!s->meas)
		goto nomem;
	for (size_t i = 0; i < sc->n_traffic * NPHASES; i++)
		if (!(s->meas[i].b = calloc(LOGH_BUCKETS, sizeof(uint32_t))))
			goto nomem;
	if (name_hops(s) < 0)
		goto nomem;
	find_trigger(s);
	*out = s;
	return 0;
nomem:
	fd_sim_destroy(s);
	return fd_error_set(err, FD_ERUNTIME, "out of memory");
}

/* ---- the run ----------------------------------------------------------------- */

static int add_figure(struct fd_sim *s, const char *name, const char *subject, const char *phase,
		      double value, const char *unit)
{
	Firedrill__V1__Figure **v = realloc(s->figs, (s->n_figs + 1) * sizeof(*v));
	if (!v)
		return -1;
	s->figs = v;
	Firedrill__V1__Figure *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	firedrill__v1__figure__init(f);
	f->name = strdup(name);
	f->subject = strdup(subject);
	f->phase = strdup(phase);
	f->unit = strdup(unit);
	f->value = value;
	v[s->n_figs++] = f;
	return f->name && f->subject && f->phase && f->unit ? 0 : -1;
}

static int measure(struct fd_sim *s)
{
	const struct fd_scenario *sc = s->sc;
	int rc = 0;
	if (s->trigger) {
		char subject[256];
		snprintf(subject, sizeof(subject), "%s %s%s%s%s%s", s->trigger->kind_name, s->trigger->name,
			 s->trigger->service ? " of " : "", s->trigger->service ? s->trigger->service->name : "",
			 s->trigger->version ? " to " : "", s->trigger->version ? s->trigger->version : "");
		rc |= add_figure(s, "trigger_at", subject, "", (double)(s->trigger_at - s->start) / 1e9, "s");
	}
	/* The entry whose p95 grew the most is "the affected endpoint"; the
	 * hops that gained the added time are measured per request of it. */
	size_t worst = SIZE_MAX;
	double worst_growth = 0;
	for (size_t i = 0; i < sc->n_traffic; i++) {
		const struct fd_traffic *tr = &sc->traffic[i];
		char subject[256];
		snprintf(subject, sizeof(subject), "%s %s", tr->entry->service->name, tr->entry->key);
		for (int p = 0; p < NPHASES; p++) {
			const struct logh *h = &s->meas[i * NPHASES + (size_t)p];
			if (!h->n)
				continue;
			rc |= add_figure(s, "requests", subject, phase_names[p], (double)h->n, "1");
			rc |= add_figure(s, "p50", subject, phase_names[p], logh_quantile(h, 0.50), "s");
			rc |= add_figure(s, "p95", subject, phase_names[p], logh_quantile(h, 0.95), "s");
			rc |= add_figure(s, "p99", subject, phase_names[p], logh_quantile(h, 0.99), "s");
			rc |= add_figure(s, "error_rate", subject, phase_names[p],
					 (double)h->errors / (double)h->n, "ratio");
		}
		const struct logh *b = &s->meas[i * NPHASES + PHASE_BEFORE];
		const struct logh *d = &s->meas[i * NPHASES + PHASE_DURING];
		if (b->n && d->n) {
			double g = logh_quantile(d, 0.95) - logh_quantile(b, 0.95);
			if (g > worst_growth) {
				worst_growth = g;
				worst = i;
			}
		}
	}
	if (worst != SIZE_MAX) {
		double nb = (double)s->meas[worst * NPHASES + PHASE_BEFORE].n;
		double nd = (double)s->meas[worst * NPHASES + PHASE_DURING].n;
		for (int rank = 0; rank < 3; rank++) {
			size_t best = SIZE_MAX;
			double best_delta = 0;
			for (size_t h = 0; h < s->n_hops; h++) {
				const double *ns = &s->hops[h].ns[worst * NPHASES];
				double delta = ns[PHASE_DURING] / nd - ns[PHASE_BEFORE] / nb;
				bool taken = false;
				for (size_t f = 0; f < s->n_figs; f++)
					if (!strcmp(s->figs[f]->name, "added_time") &&
					    !strcmp(s->figs[f]->subject, s->hops[h].name))
						taken = true;
				if (!taken && delta > best_delta && delta > 1e6) {
					best_delta = delta;
					best = h;
				}
			}
			if (best == SIZE_MAX)
				break;
			rc |= add_figure(s, "added_time", s->hops[best].name, "during", best_delta / 1e9, "s");
		}
	}
	return rc ? -1 : 0;
}

enum work { W_NONE, W_ARRIVAL, W_NOISE, W_CRON, W_QUEUE };

int fd_sim_run(struct fd_sim *s, fd_sim_emit_fn emit, void *ctx, struct fd_error *err)
{
	const struct fd_scenario *sc = s->sc;
	s->emit = emit;
	s->emit_ctx = ctx;
	s->err = err;
	struct traffic_state *ts = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*ts));
	int64_t *noise_next = calloc(sc->n_noise_logs ? sc->n_noise_logs : 1, sizeof(int64_t));
	int64_t *cron_next = calloc(sc->n_noise_crons ? sc->n_noise_crons : 1, sizeof(int64_t));
	if (!ts || !noise_next || !cron_next) {
		free(ts);
		free(noise_next);
		free(cron_next);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	for (size_t i = 0; i < sc->n_traffic; i++) {
		double r = traffic_rate(s, &sc->traffic[i], &ts[i], s->start);
		ts[i].next = s->start + (r > 0 ? (int64_t)fd_rng_exp(&s->rng, 1e9 / r) : NS);
	}
	for (size_t i = 0; i < sc->n_noise_logs; i++)
		noise_next[i] = sc->noise_logs[i].rate > 0
				? s->start + (int64_t)fd_rng_exp(&s->rng, 1e9 / sc->noise_logs[i].rate)
				: INT64_MAX;
	for (size_t i = 0; i < sc->n_noise_crons; i++)
		cron_next[i] = s->start + sc->noise_crons[i].first_ns;
	int64_t next_queue = s->start + STEP_NS, next_state = s->start, next_scrape = s->start + s->scrape;
	size_t next_event = 0;

	while (!s->failed) {
		int64_t t = next_queue;
		enum work what = W_QUEUE;
		size_t which = 0;
		for (size_t i = 0; i < sc->n_traffic; i++)
			if (ts[i].next < t) {
				t = ts[i].next;
				what = W_ARRIVAL;
				which = i;
			}
		for (size_t i = 0; i < sc->n_noise_logs; i++)
			if (noise_next[i] < t) {
				t = noise_next[i];
				what = W_NOISE;
				which = i;
			}
		for (size_t i = 0; i < sc->n_noise_crons; i++)
			if (cron_next[i] < t) {
				t = cron_next[i];
				what = W_CRON;
				which = i;
			}
		if (t >= s->end)
			break;
		s->now = t;
		while (next_state <= t + LOOKAHEAD_NS && next_state < s->end) {
			state_step(s, next_state, &next_event);
			next_state += STEP_NS;
		}
		while (next_scrape < t && next_scrape <= s->end) {
			scrape(s, next_scrape);
			next_scrape += s->scrape;
		}
		drain(s, t);
		switch (what) {
		case W_ARRIVAL: {
			arrival(s, &sc->traffic[which], t);
			double r = traffic_rate(s, &sc->traffic[which], &ts[which], t);
			ts[which].next = t + (r > 1e-9 ? 1 + (int64_t)fd_rng_exp(&s->rng, 1e9 / r) : NS);
			break;
		}
		case W_NOISE:
			noise_line(s, &sc->noise_logs[which], t);
			noise_next[which] = t + 1 + (int64_t)fd_rng_exp(&s->rng, 1e9 / sc->noise_logs[which].rate);
			break;
		case W_CRON:
			cron_run(s, &sc->noise_crons[which], t);
			cron_next[which] = sc->noise_crons[which].every_ns > 0
					   ? t + sc->noise_crons[which].every_ns : INT64_MAX;
			break;
		case W_QUEUE:
		default:
			queue_step(s, t);
			next_queue += STEP_NS;
			break;
		}
	}
	while (!s->failed && next_state < s->end) {
		state_step(s, next_state, &next_event);
		next_state += STEP_NS;
	}
	while (!s->failed && next_scrape <= s->end) {
		scrape(s, next_scrape);
		next_scrape += s->scrape;
	}
	drain(s, INT64_MAX);
	free(ts);
	free(noise_next);
	free(cron_next);
	if (s->failed)
		return s->failed;
	if (measure(s) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	return 0;
}

size_t fd_sim_figures(const struct fd_sim *s, const Firedrill__V1__Figure *const **out)
{
	*out = (const Firedrill__V1__Figure *const *)s->figs;
	return s->n_figs;
}

int64_t fd_sim_start(const struct fd_sim *s) { return s->start; }
int64_t fd_sim_end(const struct fd_sim *s) { return s->end; }
uint64_t fd_sim_seed(const struct fd_sim *s) { return s->seed; }
uint64_t fd_sim_requests(const struct fd_sim *s) { return s->entry_requests; }

static void free_elists(struct elist *l, size_t n)
{
	if (!l)
		return;
	for (size_t i = 0; i < n; i++)
		free(l[i].v);
	free(l);
}

void fd_sim_destroy(struct fd_sim *s)
{
	if (!s)
		return;
	const struct fd_scenario *sc = s->sc;
	while (s->heap.n) {
		struct pending p = heap_pop(&s->heap);
		free(p.payload);
	}
	free(s->heap.v);
	if (s->svcs) {
		for (size_t i = 0; i < sc->n_services; i++) {
			struct svc *sv = &s->svcs[i];
			for (int k = 0; sv->inst && k < sv->n_inst; k++) {
				struct inst *in = &sv->inst[k];
				free(in->incs);
				free(in->slots);
				for (size_t j = 0; j < in->n_series; j++)
					free(in->series[j].slots);
				free(in->series);
				for (size_t d = 0; in->pools && d < sc->n_databases; d++) {
					free(in->pools[d].conns);
					free(in->pools[d].slots);
				}
				free(in->pools);
				free(in->breakers);
			}
			free(sv->inst);
		}
		free(s->svcs);
	}
	if (s->queues) {
		for (size_t q = 0; q < sc->n_queues; q++) {
			free(s->queues[q].ring);
			free(s->queues[q].depth_slots);
			free(s->queues[q].consumed_slots);
		}
		free(s->queues);
	}
	free_elists(s->by_endpoint, sc->n_endpoints);
	free_elists(s->by_service, sc->n_services);
	free_elists(s->by_query, s->n_queries);
	free_elists(s->by_database, sc->n_databases);
	free_elists(s->by_cache, sc->n_caches);
	free_elists(s->by_dependency, sc->n_dependencies);
	free_elists(s->by_traffic, sc->n_traffic);
	free_elists(s->by_queue, sc->n_queues);
	free(s->traffic_all.v);
	free(s->evs);
	for (size_t q = 0; s->query_summary && q < s->n_queries; q++)
		free(s->query_summary[q]);
	free(s->query_summary);
	free(s->query_series);
	free(s->query_base);
	free(s->cache_flushed_at);
	if (s->meas)
		for (size_t i = 0; i < sc->n_traffic * NPHASES; i++)
			free(s->meas[i].b);
	free(s->meas);
	for (size_t h = 0; s->hops && h < s->n_hops; h++) {
		free(s->hops[h].name);
		free(s->hops[h].ns);
	}
	free(s->hops);
	for (size_t f = 0; f < s->n_figs; f++) {
		Firedrill__V1__Figure *x = s->figs[f];
		if (!x)
			continue;
		free(x->name);
		free(x->subject);
		free(x->phase);
		free(x->unit);
		free(x);
	}
	free(s->figs);
	pbw_finish(&s->w);
	pbw_finish(&s->aux);
	fd_intern_destroy(s->blobs);
	free(s);
}
