/*
 * The simulation's private header: the state the modules of the engine
 * share. Only generator/sim*.c include it; the public interface is
 * generator/sim.h.
 *
 * The modules, in the order a request meets them:
 *   sim.c           create, the run loop, destroy
 *   sim_traffic.c   arrivals (rate, daily shape, bursts, noise), noise lines, cron jobs
 *   sim_request.c   the request path: serve, HTTP calls, retries, breakers, errors
 *   sim_store.c     calls to stores: queries through connection pools, caches, queues
 *   sim_effects.c   what the timeline's effects do to a draw, and the index of effects by target
 *   sim_instance.c  instances: incarnations, rollouts, crash loops, restarts, queue
 *                   consumers, the balancer, the heap and its collections
 *   sim_runtime.c   what a runtime looks like: SDK, scopes, exceptions, stack traces
 *   sim_metrics.c   histogram series per instance and the scrapes
 *   sim_otlp.c      OTLP encoding of resources, spans, log records and metrics
 *   sim_pending.c   the heap of records waiting for their time, and the drain
 *   sim_answer.c    the answer key: measured figures per phase and the hops that gained time
 *   sim_drill.c     actions taken during a live drill
 */
#ifndef FD_SIM_INTERNAL_H
#define FD_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "otlp/fields.h"
#include "otlp/pbwrite.h"
#include "stream/intern.h"
#include "stream/record.h"
#include "generator/cluster.h"
#include "generator/datastore.h"
#include "generator/rng.h"
#include "generator/scenario.h"
#include "generator/sim.h"

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
/* A host's clock is at most this far off (sim_clock: offset + wander). */
#define CLOCK_SKEW_MAX_NS (3 * MS / 2)
/* Each instance's metric reader collects at its own phase of the scrape
 * interval (below COLLECT_PHASE_MAX_NS), a few ms late each time; a
 * collection counts every request that ended by then (sim_collect_at). */
#define COLLECT_PHASE_MAX_NS (4 * NS)
#define COLLECT_JITTER_NS (5 * MS)
#define COLLECT_LAG_NS (COLLECT_PHASE_MAX_NS + COLLECT_JITTER_NS)
/* The scrape for T is assembled once the loop passes T + COLLECT_LAG_NS;
 * the drain holds records back longer than that plus the clock skew, so
 * the points of a collection and the records of a host whose clock is
 * behind are never older than what has been emitted. */
#define DRAIN_LAG_NS (COLLECT_LAG_NS + CLOCK_SKEW_MAX_NS + 50 * MS)
/* seconds of CPU accounting kept per instance: more than a request can run
 * ahead of the loop (HORIZON_NS) */
#define CPU_RING 256
#define SERIES_HINT_BITS 7

enum {
	SPAN_INTERNAL = OTLP_SPAN_KIND_INTERNAL,
	SPAN_SERVER = OTLP_SPAN_KIND_SERVER,
	SPAN_CLIENT = OTLP_SPAN_KIND_CLIENT,
	SPAN_PRODUCER = OTLP_SPAN_KIND_PRODUCER,
	SPAN_CONSUMER = OTLP_SPAN_KIND_CONSUMER,
};
enum {
	SEV_DEBUG = OTLP_SEVERITY_DEBUG,
	SEV_INFO = OTLP_SEVERITY_INFO,
	SEV_WARN = OTLP_SEVERITY_WARN,
	SEV_ERROR = OTLP_SEVERITY_ERROR,
};

/* ---- runtimes (sim_runtime.c) ------------------------------------------ */

/* What a record is about, for the instrumentation scope it comes from. */
enum sim_scope_kind {
	SCOPE_HTTP_SERVER,
	SCOPE_HTTP_CLIENT,
	SCOPE_DB,
	SCOPE_POOL,
	SCOPE_CACHE,
	SCOPE_MESSAGING,
	SCOPE_RUNTIME,
	SCOPE_APP,
	/* loggers */
	SCOPE_LOG_ACCESS,
	SCOPE_LOG_APP,
	SCOPE_LOG_CLIENT,
	SCOPE_LOG_BREAKER,
	SCOPE_LOG_DB,
	SCOPE_LOG_MESSAGING,
	SCOPE_LOG_LIFECYCLE,
	SCOPE_KINDS
};

#define SIM_SCOPE_CACHE 24
struct scope_entry {
	int kind;
	const char *system;
	const struct fd_blob *blob;
};

/* One error taxonomy: what failed. The exception class and message come
 * from the runtime of the service that raises it; error.type is the HTTP
 * status code when there was a response, else that class. */
enum sim_err {
	ERR_NONE,
	ERR_INTERNAL,     /* the handler's own bug */
	ERR_UPSTREAM,     /* a call answered >= 500 */
	ERR_TIMEOUT,      /* a call timed out in the caller */
	ERR_CONNECT,      /* nothing listening */
	ERR_RESET,        /* the callee died mid-request */
	ERR_DEADLINE,     /* the edge's deadline */
	ERR_POOL_TIMEOUT, /* no database connection in time */
	ERR_CIRCUIT_OPEN, /* refused by the caller's circuit breaker */
	ERR_DB_CANCELED,  /* statement timeout */
	ERR_DB_CONFLICT,  /* serialization failure */
	ERR_N,
};

/* The figures of one failure, for its message. */
struct err_info {
	int64_t ns; /* the timeout or the wait */
	int status;
	const char *status_text, *method, *peer, *path;
	int pool, waiting;
};

/* ---- pending records ------------------------------------------------- */

/* Payloads are packed into chunks, freed when the last record in them
 * has left (sim_pending.c). */
struct pchunk;

struct pending {
	int64_t time;
	uint64_t seq;
	const struct fd_blob *res, *scope;
	uint8_t *payload;
	struct pchunk *chunk;
	uint32_t len;
	uint8_t signal;
	uint8_t cmd; /* for the emit thread (sim_pending.c) */
};

struct heap {
	struct pending *v;
	size_t n, cap;
};
/* ---- metric series ----------------------------------------------------- */

struct hist {
	uint64_t counts[NBUCKETS];
	uint64_t count;
	double sum;
};

/* One scrape interval's share of a series: what sim_observe writes, once
 * per HTTP server, HTTP client and database call. The series of all the
 * instances do not fit in the cache, so each write is a miss: with the sum
 * first, no separate count (the counts add up to it) and 64-byte aligned
 * slots of 128 bytes, a duration up to 250 ms (counts[0..6]) touches one
 * cache line, not two or three (sim_observe was 14% of generate
 * day-20-services, most of it waiting on these lines). */
struct hist_slot {
	double sum;
	uint64_t counts[NBUCKETS];
};
#define HIST_SLOT_ALIGN 64
_Static_assert(sizeof(struct hist_slot) % HIST_SLOT_ALIGN == 0, "hist_slot: whole cache lines");

enum series_kind { SERIES_HTTP, SERIES_DB, SERIES_HTTP_CLIENT };

/* One histogram series of one instance incarnation. */
struct series {
	enum series_kind kind;
	int inc;
	int sub;    /* endpoint id, query global index or dependency id */
	int status; /* HTTP status; 0 for db */
	const struct fd_traffic *tr; /* request dimensions: traffic entry and */
	int combo;                   /* mixed-radix index of its values */
	/* next to the key that find_series compares: one line for both */
	struct hist_slot *slots; /* per pending scrape interval */
	struct hist cum;
};

/* Per-instance accounting of one scrape interval. */
/* GC pause histograms: the boundaries the JVM's and V8's runtime
 * instrumentation use for jvm.gc.duration and v8js.gc.duration. */
#define GC_NBOUNDS 4
struct slot {
	double busy_ns; /* integral of in-flight requests */
	double cpu_ns;
	double gc_ns;
	uint32_t gc_counts[GC_NBOUNDS + 1]; /* collections by pause length */
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
	int64_t last_warn, warn_gap; /* saturation warnings: the last, the pause before the next */
	struct pool_slot *slots;
};

struct incarnation {
	int64_t start, end; /* end = INT64_MAX while alive */
	bool killed;        /* ended by a kill, not gracefully */
	int pod;            /* the cluster's pod it ran in: a container
	                       restarted in place keeps its pod */
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
	char id[96];        /* service.instance.id: its pod's name */
	int pod;            /* the cluster's pod of the current incarnation */
	const char *version;
	struct incarnation *incs;
	size_t n_incs, cap_incs;
	bool exists;        /* within the service's current instance count */
	bool lost;
	bool pinned;        /* scaled out with its own version: another ReplicaSet,
	                       left alone by the service's rollouts */
	int64_t last_work;  /* the last request or message it served */
	double leaked;      /* bytes, current incarnation, at the last step */
	uint64_t restarts;
	double cpu_cum_ns, gc_cum_ns;
	struct cpu_sec {
		int64_t sec; /* seconds from the start */
		double ns;
	} cpu_ring[CPU_RING]; /* CPU spent, by second (sim_account_cpu) */
	struct slot *slots;
	struct series *series;
	size_t n_series, cap_series;
	int32_t series_hint[1 << SERIES_HINT_BITS]; /* find_series' cache: index + 1 */
	uint32_t *series_ix;  /* find_series' table: index + 1, 0 = empty */
	size_t series_ix_cap; /* a power of two */
	struct pool *pools; /* by database id */
	struct breaker *breakers; /* by fd_breaker id, allocated on first use */
	int64_t restart_pending_at; /* scheduled restart (mitigation) or 0 */
	/* Its host's clock: a fixed offset from true time plus a slow
	 * triangular wander (NTP keeps it within a few milliseconds). */
	int64_t skew_ns, wander_ns, wander_period_ns;
	int64_t export_phase_ns; /* when in each interval its metrics are collected */
	/* The runtime (sim_instance.c): the heap above the live set grows with
	 * allocation and drops at each collection, which pauses the process
	 * until gc_until. headroom is the growth that triggers a collection,
	 * learned from the first minute's allocation rate so that collections
	 * come about every gc_interval at the scenario's usual load. */
	double heap, headroom, alloc_first;
	int64_t heap_t, gc_start, gc_until;
	uint64_t gcs;
	/* replicas differ: CPU per unit of work, memory, background CPU (cores),
	 * share of the balancer's picks */
	double cpu_eff, mem_factor, bg_cores, lb_weight;
	double lb_drift; /* AR(1) around 0, sd ~4%, ~5 min memory (sim_state_step) */
	bool restart_rollout;       /* that restart is a rollout restart (all) */
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
	uint64_t gc_rep_counts[GC_NBOUNDS + 1];
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
	/* sim_scope's cache: by kind without a system, else a short list */
	const struct fd_blob *scope_of_kind[SCOPE_KINDS];
	struct scope_entry scopes[SIM_SCOPE_CACHE];
	int n_scopes;
};

/* A message waiting in a queue, with its producer's trace context. */
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

struct hop {
	char *name;
	double *ns; /* [n_traffic][NPHASES]: time per traffic entry and phase */
};

/* ---- the simulation ---------------------------------------------------- */

/* Bytes encoded once and appended as they are. */
struct sim_bytes {
	uint8_t *buf;
	size_t len;
};

struct elist {
	const struct fd_effect **v;
	size_t n;
};

struct event_state {
	int64_t undo_at;   /* INT64_MAX: never undone */
	int64_t undo_ramp;
	double damping;
	/* The timeline says when an event was meant to happen; the world acts
	 * a few seconds late (a pipeline, a person at a keyboard). */
	int64_t delay;
};

struct fd_sim {
	const struct fd_scenario *sc;
	struct fd_rng rng;
	uint64_t id_state; /* sim_random_id */
	uint64_t seed;
	int64_t start, end, offset; /* offset: our start - the scenario's */
	int64_t scrape;
	size_t nslots;

	struct fd_intern *blobs;
	struct svc *svcs;
	struct queue_state *queues;
	struct event_state *evs;

	/* effects by what they target */
	struct elist *by_endpoint, *by_service, *by_query, *by_database, *by_cache,
		*by_dependency, *by_traffic, *by_queue;
	struct elist traffic_all;
	struct elist *by_node; /* by declared node id */
	size_t n_queries; /* across databases */
	int *query_base;   /* per database: global index of its first query */
	char **query_summary; /* by global query index: "SELECT orders" */
	/* by global query index: the first query of its database with the same
	 * summary. Metrics are per summary, as OpenTelemetry's are: two
	 * statements on one table make one series, not two points with the
	 * same attributes (which a backend would reject or merge). */
	int *query_series;
	int64_t *cache_flushed_at;
	struct sim_bytes *access_attrs; /* by endpoint id: constant access-log attributes */
	struct sim_bytes **dims_attrs;  /* by traffic id and combination: its dimensions' */
	int *n_combos;                  /* by traffic id */

	struct fd_kube *kube;     /* the cluster under the services (sim_infra.c) */
	struct fd_stores *stores; /* the servers behind their calls */

	struct heap heap;
	struct pchunk *chunk;  /* where payloads go */
	struct sim_pipe *pipe; /* NULL: records are emitted on the caller's thread */
	struct sim_stacks *stacks; /* sim_stack.c's templates, made on first use */
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
	struct fd_sim_figure *figs;
	char **fig_text; /* per figure: its four strings in one block */
	size_t n_figs;

	/* stepping and live drills (sim.c, sim_drill.c) */
	bool live;                /* timeline mitigations left out */
	struct sim_loop *loop;    /* the run loop's state between steps */
	int64_t advanced;         /* the last until */
	struct sim_action **acts; /* actions taken, in time order */
	size_t n_acts, n_registered, n_applied;
	fd_sim_request_fn observe;
	void *observe_ctx;
};

/* ---- one request ------------------------------------------------------- */

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
	int retries; /* caps the retries of the service's own calls; -1: no cap */
};

/* ---- spans and outcomes ------------------------------------------------ */

struct span {
	const uint8_t *trace_id;
	uint8_t id[8];
	const uint8_t *parent; /* NULL for a root */
	bool remote_parent;    /* the parent is in another process */
	const uint8_t *link_trace, *link_span; /* a link (consumer to producer) */
	bool link_sampled;
	int kind;
	int64_t start, end;
	bool error;
	const char *status_msg;
	const char *exception_type, *exception_msg; /* an exception event */
	const char *stack;     /* its exception.stacktrace */
};

/* How a call or a request ended, as its caller sees it. */
struct outcome {
	int64_t end;
	int status;       /* HTTP-like; >= 500 failed */
	bool timeout;     /* the caller's own timeout fired (no response) */
	bool mesh;        /* a 503 the caller's sidecar made up (nothing to connect to) */
	enum sim_err err; /* what failed, as the caller's client library reports it */
	/* the failed call, for the message of the exception it raises */
	const char *body; /* the sidecar's response body */
	const char *method, *peer, *route;
	int64_t ns;       /* the timeout that fired, the wait */
	int pool, waiting;
};

/* The trace context a log line is written in (an SDK's log bridge adds it
 * to every line written inside a request, sampled or not). */
struct logctx {
	const uint8_t *trace_id, *span_id;
	bool sampled;
};

static inline struct logctx sim_ctx(const struct req *rq, const uint8_t *span_id)
{
	return (struct logctx){.trace_id = rq->trace_id, .span_id = span_id, .sampled = rq->sampled};
}

struct traffic_state {
	int64_t next;
	double noise;       /* current multiplicative noise factor */
	int64_t noise_until;
	double drift;       /* log of the slow random factor (AR(1)) */
	double shape;       /* the daily shape's factor as of shape_t */
	int64_t shape_t;
	/* unplanned bursts: a newsletter, a crawler, a retrying client */
	int64_t burst_at, burst_until;
	double burst_mult;
};

/* ---- small helpers ------------------------------------------------------ */

/* A trace or span id: splitmix64 over a stream of its own, so ids cost no
 * draw of the model's generator and every span (sampled or not) has one
 * for the log lines written inside it. */
static inline void sim_random_id(struct fd_sim *s, uint8_t *out, size_t n)
{
	do {
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = fd_splitmix64(&s->id_state);
			for (size_t k = 0; k < 8 && i + k < n; k++)
				out[i + k] = (uint8_t)(v >> (8 * k));
		}
	} while (out[0] == 0 && out[n - 1] == 0); /* never all-zero (invalid) */
}

/* What in's host clock reads at true time t. */
static inline int64_t sim_clock(const struct inst *in, int64_t t)
{
	int64_t p = in->wander_period_ns;
	int64_t x = p > 0 ? t % p : 0; /* triangle: 0 .. wander .. 0 over a period */
	int64_t w = p > 0 ? (x < p / 2 ? x : p - x) * 2 / (p / in->wander_ns > 0 ? p / in->wander_ns : 1) : 0;
	return t + in->skew_ns + w;
}

/* When in's metric reader collects the scrape of time t (true time). */
static inline int64_t sim_collect_at(const struct fd_sim *s, const struct inst *in, int64_t t)
{
	uint64_t jx = (uint64_t)t ^ ((uint64_t)in->svc->def->id << 40) ^ ((uint64_t)in->idx << 52);
	(void)s;
	return t + in->export_phase_ns + (int64_t)(fd_splitmix64(&jx) % COLLECT_JITTER_NS);
}

/* The scrape interval a time falls in, as an index into the per-interval
 * slots (a ring of nslots). */
static inline size_t sim_slot_of(const struct fd_sim *s, int64_t t)
{
	int64_t rel = t - s->start;
	if (rel <= 0)
		return 1 % s->nslots;
	int64_t k = (rel + s->scrape - 1) / s->scrape;
	return (size_t)(k % (int64_t)s->nslots);
}

/* sim_traffic.c */
double sim_traffic_rate(struct fd_sim *s, const struct fd_traffic *tr, struct traffic_state *ts,
			   int64_t t);
void sim_arrival(struct fd_sim *s, const struct fd_traffic *tr, int64_t t);
void sim_noise_line(struct fd_sim *s, const struct fd_noise_log *nl, int64_t t);
void sim_cron_run(struct fd_sim *s, const struct fd_noise_cron *cr, int64_t t);

/* sim_otlp.c */
const struct fd_blob *sim_make_resource(struct fd_sim *s, const struct inst *in,
					   const char *version);
/* A log record of in at t from the logger of kind (a SCOPE_LOG_*), in the
 * trace context ctx (NULL: none); attrs appends attributes. */
void sim_log_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		  enum sim_scope_kind kind, const char *body, const struct logctx *ctx,
		  void (*attrs)(struct pbw *w, const void *ctx), const void *actx);
void sim_logf_line(struct fd_sim *s, struct inst *in, int64_t t, int severity,
		   enum sim_scope_kind kind, const struct logctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void sim_span_begin(struct pbw *w, const struct span *sp, const struct inst *in, const char *name);
/* Appends the span's events, links, status and flags and queues it, under
 * the instrumentation scope of kind (a SCOPE_*) for system. */
void sim_span_finish(struct fd_sim *s, struct pbw *w, const struct span *sp, struct inst *in,
		     const struct fd_blob *res, enum sim_scope_kind kind, const char *system);
void sim_dims_attrs(struct fd_sim *s, struct pbw *w, unsigned field, const struct req *rq);
size_t sim_metric_begin(struct pbw *w, const char *name, const char *desc, const char *unit,
			   unsigned data_field);
void sim_metric_end(struct fd_sim *s, struct pbw *w, size_t mark, unsigned data_field,
		    bool monotonic, int64_t t, const struct fd_blob *res, const struct fd_blob *scope);
void sim_number_point(struct pbw *w, int64_t start, int64_t t, double v, bool is_int,
			 const char *k1, const char *v1, const char *k2, const char *v2);
/* A histogram data point's values, after its attributes: counts[] has
 * n_bounds + 1 buckets. */
void sim_histogram_values(struct pbw *w, int64_t start, int64_t t, double sum, const uint64_t *counts,
			  const double *bounds, size_t n_bounds);

/* An exception raised in a service: its class, message and (for the spans
 * and error lines that show it) stack. */
struct exc {
	enum sim_err err;
	const char *type;
	char msg[320];
	char stack[2048];
};

/* sim_request.c */
/* A route template with its parameters filled in for this request. */
void sim_url_path(const struct fd_sim *s, char *buf, size_t n, const char *route, const struct req *rq);
void sim_exc_make(struct exc *e, struct fd_sim *s, const struct svc *sv, enum sim_err err,
		  const struct err_info *x, const char *method, const char *route, bool stack,
		  const uint8_t *trace_id);
void sim_exc_on_span(struct span *sp, const struct exc *e);
/* An ERROR line for the exception (what: a prefix, may be NULL). */
void sim_exc_log(struct fd_sim *s, struct inst *in, int64_t t, const struct logctx *ctx,
		 const struct exc *e, const char *what);
struct outcome sim_serve(struct fd_sim *s, struct req *rq, const struct fd_endpoint *ep,
			    int64_t t, const uint8_t *parent, int depth, const struct span *consumer);
/* sim_store.c */
const char *sim_db_summary(const struct fd_query *q, char *buf, size_t n);
struct outcome sim_call_db(struct fd_sim *s, struct req *rq, struct inst *in,
			   const struct fd_call *call, int64_t t, const uint8_t *parent);
struct outcome sim_call_cache(struct fd_sim *s, struct req *rq, struct inst *in,
			      const struct fd_endpoint *ep, const struct fd_call *call, int64_t t,
			      const uint8_t *parent, int depth);
struct outcome sim_call_queue(struct fd_sim *s, struct req *rq, struct inst *in,
			      const struct fd_call *call, int64_t t, const uint8_t *parent);
/* Makes calls one after another from t; *work (may be NULL) is the
 * handler's own time still to spend: some of it goes between the calls,
 * the rest is left for after them. */
struct outcome sim_run_calls(struct fd_sim *s, struct req *rq, struct inst *in,
			     const struct fd_endpoint *ep, const struct fd_call *calls, size_t n,
			     int64_t t, const uint8_t *parent, int depth, int64_t *work);

/* sim_drill.c: brings in the actions due by work at t (before it is
 * simulated); applies the registered actions due at state step t. */
void sim_actions_register(struct fd_sim *s, int64_t t);
void sim_actions_apply(struct fd_sim *s, int64_t t);
void sim_actions_free(struct fd_sim *s);

/* sim_effects.c */
int64_t sim_sample_dist(struct fd_sim *s, const struct fd_dist *d);
void sim_mods_init(struct mods *m);
void sim_apply_effects(const struct fd_sim *s, const struct elist *l, const struct req *rq,
			  struct inst *in, int64_t t, struct mods *m);
double sim_mix(double base, double level, double target);
int64_t sim_modify_latency(const struct fd_sim *s, int64_t v, const struct mods *m);
/* Files every effect of the timeline under what it targets (s->by_*). */
int sim_effects_index(struct fd_sim *s);
/* Files one more effect (an action's, taken during a drill). */
int sim_effects_add(struct fd_sim *s, const struct fd_effect *e);
void sim_effects_free(struct fd_sim *s);

/* sim_metrics.c */
void sim_observe(struct fd_sim *s, struct inst *in, enum series_kind kind, int inc, int sub,
		    int status, const struct req *rq, int64_t end, int64_t dur_ns);
void sim_scrape(struct fd_sim *s, int64_t t);

/* sim_answer.c */
int sim_phase_of(const struct fd_sim *s, int64_t t);
void sim_logh_add(struct logh *h, int64_t ns, bool error);
void sim_hop_add(struct fd_sim *s, const struct req *rq, size_t hop, int64_t ns);
size_t sim_hop_query(const struct fd_sim *s, const struct fd_query *q);
size_t sim_hop_pool(const struct fd_sim *s, const struct fd_database *d);
size_t sim_hop_dependency(const struct fd_sim *s, const struct fd_dependency *d);
size_t sim_hop_cache(const struct fd_sim *s, const struct fd_cache *c);
size_t sim_hop_queue(const struct fd_sim *s, const struct fd_queue *q);
/* Finds the trigger and the phases, names the hops; before the run. */
int sim_answer_init(struct fd_sim *s);
/* After the run: the figures (s->figs). */
int sim_answer_measure(struct fd_sim *s);
void sim_answer_free(struct fd_sim *s);

/* sim_instance.c */
struct incarnation *sim_inc_at(struct inst *in, int64_t t, int *idx);
struct incarnation *sim_current_inc(struct inst *in);
int sim_add_inc(struct fd_sim *s, struct inst *in, int64_t start, const char *version);
void sim_end_inc(struct inst *in, int64_t t, bool killed);
struct inst *sim_pick_instance(struct fd_sim *s, struct svc *sv, int64_t t);
double sim_cpu_factor(struct fd_sim *s, const struct inst *in, int64_t t);
void sim_account_cpu(struct fd_sim *s, struct inst *in, int64_t t, double cpu_ns);
/* The work of a request allocates; the heap may fill and collect. Returns
 * how long a request arriving at t waits for a collection in progress. */
int64_t sim_heap_work(struct fd_sim *s, struct inst *in, int64_t t, double cpu_ns);
/* Brings the heap to t (background allocation); for the scrape. */
void sim_heap_advance(struct fd_sim *s, struct inst *in, int64_t t);
void sim_queue_step(struct fd_sim *s, int64_t t);
void sim_lifecycle(struct fd_sim *s, struct inst *in, int64_t t, int sev, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sim_state_step(struct fd_sim *s, int64_t t, size_t *next_event);
void sim_apply_event(struct fd_sim *s, const struct fd_event *ev, int64_t t);

/* sim_runtime.c */
/* What a runtime's memory manager does with work (sim_instance.c). */
struct rt_model {
	double alloc_per_cpu_s; /* bytes allocated per CPU-second of work; 0: no GC */
	double bg_cores;        /* background threads, JIT, timers: cores when idle */
	double rss_follow;      /* share of the heap's saw-tooth the RSS shows */
};
const struct rt_model *sim_rt_model(const struct svc *sv);
/* The bucket of a collection pausing pause_ns in the GC histograms. */
int sim_gc_bucket(int64_t pause_ns);
/* The garbage collector's metric as the runtime's own instrumentation
 * reports it (none for a runtime without one): collections and pause time
 * of the incarnation so far, at t. */
void sim_runtime_gc_metric(struct fd_sim *s, const struct inst *in, int64_t start, int64_t t,
			   const struct fd_blob *res, const struct fd_blob *scope);
/* telemetry.sdk.*, process.runtime.* of the service's runtime and release. */
void sim_runtime_resource(struct fd_sim *s, struct pbw *w, const struct svc *sv);
const struct fd_blob *sim_scope(struct fd_sim *s, struct svc *sv, enum sim_scope_kind kind,
				const char *system);
const char *sim_exception_type(const struct svc *sv, enum sim_err e);
void sim_exception_message(char *buf, size_t n, const struct svc *sv, enum sim_err e,
			   const struct err_info *x);
enum fd_runtime sim_runtime_of(const struct svc *sv);
/* name as an identifier of a language: style 'l' lower, '_' snake, 'P' Pascal */
void sim_ident(char *out, size_t n, const char *name, int style);

/* sim_stack.c: the exception's stack trace as sv's runtime prints it, at the
 * failure site (sv, method, route, e); each site's text is formatted once
 * (s->stacks) and its varying parts filled in per call. */
void sim_stacktrace(char *buf, size_t n, struct fd_sim *s, const struct svc *sv, const char *method,
		    const char *route, enum sim_err e, const char *type, const char *msg,
		    const uint8_t *trace_id);
void sim_stacks_free(struct fd_sim *s);
/* The same dump formatted whole, without the templates (what they must equal). */
void sim_stack_format(char *buf, size_t n, const struct fd_sim *s, const struct svc *sv,
		      const char *method, const char *route, enum sim_err e, const char *type,
		      const char *msg, const uint8_t *trace_id);

/* sim_infra.c: the cluster and the data stores */
int sim_infra_create(struct fd_sim *s, struct fd_error *err);
void sim_infra_free(struct fd_sim *s);
int sim_infra_initial_pod(struct fd_sim *s, struct inst *in);
/* A new pod for the instance, asked for at floor, that takes over at take
 * (the old one, if any, stops at stop). */
void sim_infra_new_pod(struct fd_sim *s, struct inst *in, int64_t floor, int64_t stop, int64_t take,
		       enum fd_pod_why why, const char *version);
void sim_infra_container_died(struct fd_sim *s, struct inst *in, int64_t t, bool oom, bool crash_loop,
			      int64_t restart_at);
void sim_infra_event(struct fd_sim *s, const struct fd_event *ev, int64_t t);
void sim_infra_step(struct fd_sim *s, int64_t t);
/* Effects on the instance's node ({node: N} targets). */
void sim_infra_node_effects(const struct fd_sim *s, const struct req *rq, struct inst *in, int64_t t,
			    struct mods *m);
double sim_infra_slowdown(const struct fd_sim *s, const struct inst *in);
void sim_infra_query(struct fd_sim *s, const struct inst *in, const struct fd_query *q, int pool,
		     int64_t end, int64_t base_ns, int64_t lat_ns, bool failed);
void sim_infra_cache(struct fd_sim *s, const struct inst *in, const struct fd_cache *c,
		     enum fd_cache_op op, bool hit, int64_t t);
void sim_infra_usage(struct fd_sim *s, const struct inst *in, double cores, double memory);
void sim_infra_scrape(struct fd_sim *s, int64_t t);

/* sim_pending.c */
int sim_oom(struct fd_sim *s);
void sim_push_record(struct fd_sim *s, int64_t t, enum fd_signal sig, const struct fd_blob *res,
		     const struct fd_blob *scope, struct pbw *w);
void sim_drain(struct fd_sim *s, int64_t t);
/* Frees the records still waiting (a run that stopped early) and stops
 * the emit thread. */
void sim_pending_free(struct fd_sim *s);
/* fd_sim_options.emit_thread: starts the thread that emits (-1: none to
 * be had; the caller's thread emits, with the same records). */
int sim_pipe_start(struct fd_sim *s);
/* Waits until everything handed to the emit thread is done; returns
 * s->failed, with the thread's error if it had one. */
int sim_pipe_sync(struct fd_sim *s);

#endif
