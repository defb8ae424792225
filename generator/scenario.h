/*
 * Scenarios: the causal model of an incident, read from YAML.
 *
 * fd_scenario_load / fd_scenario_parse read a scenario file (the format is
 * specified in docs/scenario-format.md), check it completely and return an
 * immutable in-memory model that the simulation walks. Every problem is
 * reported as "file:line:col: message" (1-based) in the caller's fd_error with
 * code FD_EINPUT; running out of memory or failing to read the file is
 * FD_ERUNTIME. Nothing is printed.
 *
 * The model is plain data: arrays with counts, and references already
 * resolved to pointers into those arrays (a call points at the endpoint it
 * calls, an effect at what it changes, a rollback at the deploy it undoes).
 * Every entity carries a dense `id` (0..n-1 within its kind) so the
 * simulation can keep its own per-entity state in parallel arrays, and the
 * position of its definition for later messages.
 *
 * Units: times and durations are int64 nanoseconds; offsets on the timeline
 * (`at_ns`, `start_ns` of an effect...) are relative to the scenario start;
 * rates are per second; probabilities and ratios are in [0, 1]; sizes are
 * bytes. All strings are NUL-terminated and owned by the scenario.
 */
#ifndef FD_SCENARIO_H
#define FD_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct fd_error;

/* "Never ends": the end of an effect that lasts until the scenario ends or a
 * mitigation undoes it. */
#define FD_FOREVER INT64_MAX

/* The work one request may cause, checked by the parser over the call graph
 * (worst case: every probability 1, every retry taken): spans, and
 * endpoints down the longest chain of calls (the simulation makes no calls
 * below that depth). */
#define FD_SCENARIO_MAX_SPANS 10000
#define FD_SCENARIO_MAX_DEPTH 16


/* A log-normal distribution fitted to percentiles. Latencies are in ns,
 * payload sizes in bytes.
 * Sample with z ~ N(0,1): value = exp(mu + sigma * z) for z <= 1.6449 (the
 * p95 quantile); above it exp(mu + sigma * 1.6449 + sigma_tail * (z - 1.6449))
 * so that a given p99 is honoured too. sigma == 0 is a constant value. */
struct fd_dist {
	int64_t p50;
	int64_t p95;
	int64_t p99;       /* 0 when not given */
	double mu;         /* ln(p50) */
	double sigma;      /* (ln p95 - ln p50) / 1.6449 */
	double sigma_tail; /* (ln p99 - ln p95) / 0.6815; == sigma without p99 */
};

/* How a caller retries a failed or timed-out call: attempt k (k = 1..max)
 * waits backoff_ns * multiplier^(k-1), capped at max_backoff_ns. */
struct fd_retry {
	int max;            /* retries after the first attempt; 0 = none */
	int64_t backoff_ns;
	double multiplier;  /* default 2 */
	int64_t max_backoff_ns;
};

/* A client-side circuit breaker on an HTTP call (Resilience4j-style, count
 * based over a time window): once at least min_calls calls ended in the
 * last window_ns and failure_ratio of them failed, calls are refused at once
 * (fail fast, no network) for open_ns; then one probe call goes through and
 * its outcome closes the breaker or opens it again. Per caller instance. */
struct fd_breaker {
	int id;               /* dense across the scenario */
	double failure_ratio; /* 0.5 */
	int64_t window_ns;    /* 10 s */
	int min_calls;        /* 20 */
	int64_t open_ns;      /* 30 s */
};

enum fd_runtime {
	FD_RUNTIME_GO,
	FD_RUNTIME_JAVA,
	FD_RUNTIME_PYTHON,
	FD_RUNTIME_NODE,
	FD_RUNTIME_DOTNET,
	FD_RUNTIME_RUBY,
	FD_RUNTIME_RUST,
};

/* Per instance. Defaults depend on the runtime (see the format document). */
struct fd_resources {
	double cpu_cores;            /* CPU limit; utilisation = busy / cores */
	int64_t cpu_per_request_ns;  /* CPU time one request costs */
	int64_t memory_baseline;     /* bytes right after start */
	int64_t memory_limit;        /* OOM kill when reached; 0 = no limit */
	int64_t memory_per_request;  /* bytes held per in-flight request */
	int64_t gc_interval_ns;      /* mean time between GC pauses; 0 = no GC */
	struct fd_dist gc_pause;     /* ns */
	int64_t startup_ns;          /* restart time after an OOM kill / restart */
};

/* ---- the cluster under the services (docs/scenario-format.md, Cluster) ------ */

/* A Kubernetes node. Declared in `cluster.nodes`, or made up by the
 * simulation (names from the seed) when the scenario declares none. */
struct fd_node {
	int id;
	const char *name;            /* k8s.node.name */
	double cores;                /* allocatable CPU */
	int64_t memory;              /* allocatable bytes */
	const char *zone;            /* topology.kubernetes.io/zone; may be NULL */
	struct fd_pos pos;
};

enum fd_workload_kind {
	FD_WORKLOAD_DEPLOYMENT, /* another team's service: replicas, scheduled */
	FD_WORKLOAD_DAEMONSET,  /* one pod on every node */
	FD_WORKLOAD_JOB,        /* a batch job: runs from `start` for `duration` */
};

/* Pods that are not one of the services: they take CPU and memory on their
 * nodes and show in the node, pod and container metrics and events, never
 * in traces. */
struct fd_workload {
	int id;
	const char *name;            /* k8s.deployment/daemonset/job.name */
	enum fd_workload_kind kind;
	const char *namespace;       /* k8s.namespace.name */
	const char *container;       /* k8s.container.name (the name) */
	const char *image;           /* container.image.name:tag */
	int replicas;                /* deployment (1) */
	struct fd_node *node;        /* pinned there; NULL: scheduled */
	double cpu;                  /* cores in use on average */
	int64_t memory;              /* bytes in use */
	double cpu_request, cpu_limit;       /* cores; limit 0 = none */
	int64_t memory_request, memory_limit; /* bytes; limit 0 = none */
	/* job: runs from start_ns for duration_ns (0: to the end);
	 * start_ns == FD_FOREVER: only when a co_tenant event starts it */
	int64_t start_ns;
	int64_t duration_ns;
	struct fd_pos pos;
};

/* The `cluster` block; every field has a default (a cluster always exists:
 * the simulation adds nodes and the usual DaemonSets when none are given). */
struct fd_cluster {
	const char *name;            /* k8s.cluster.name; NULL: made up */
	const char *namespace;       /* k8s.namespace.name of the services (NULL: service_namespace) */
	struct fd_node *nodes;       /* none: the simulation makes a pool */
	size_t n_nodes;
	int pool_nodes;              /* made-up pool: node count (0: sized to fit) */
	double pool_cores;           /* made-up pool: cores per node (8) */
	int64_t pool_memory;         /* made-up pool: bytes per node (32 GiB) */
	double system_cpu;           /* per node: kubelet, runtime, OS (0.15 core) */
	int64_t system_memory;       /* per node (1.2 GiB) */
	struct fd_workload *workloads;
	size_t n_workloads;
	bool system_workloads;       /* add kube-proxy, the collector agent, coredns (true) */
	bool telemetry;              /* emit the infrastructure signals (true) */
};

struct fd_service;
struct fd_endpoint;
struct fd_database;
struct fd_cache;
struct fd_queue;
struct fd_dependency;
struct fd_traffic;
struct fd_event;

/* A distinct query text run against a database by at least one call. Effects
 * can target one query ("orders-db \"SELECT ...\""). */
struct fd_query {
	int id;                      /* dense within its database */
	struct fd_database *database;
	const char *text;            /* db.query.text */
	const char *operation;       /* first word, upper case: SELECT, INSERT... */
	struct fd_pos pos;           /* first call that runs it */
};

enum fd_call_kind {
	FD_CALL_ENDPOINT,   /* another service's endpoint */
	FD_CALL_DEPENDENCY, /* an external HTTP dependency */
	FD_CALL_DB,
	FD_CALL_CACHE,
	FD_CALL_QUEUE,
};

enum fd_cache_op { FD_CACHE_GET, FD_CACHE_SET, FD_CACHE_DELETE };
enum fd_queue_op { FD_QUEUE_PRODUCE, FD_QUEUE_CONSUME };

/* One outgoing call an endpoint makes while handling a request. Calls run one
 * after another, in order, after the endpoint's own (self) time. */
struct fd_call {
	enum fd_call_kind kind;
	struct fd_pos pos;
	double probability;   /* share of requests that make the call (1) */
	int repeat;           /* times it is made per request, N+1 style (1) */
	bool optional;        /* a failure is swallowed (fail open) */
	int64_t timeout_ns;   /* 0 = the callee's / the database's default */
	bool has_retry;       /* else the callee endpoint's policy, or none */
	struct fd_retry retry;
	bool has_latency;     /* else the target's default latency */
	struct fd_dist latency; /* ns; for ENDPOINT calls: network time only */
	bool has_breaker;     /* ENDPOINT and DEPENDENCY calls only */
	struct fd_breaker breaker;

	/* FD_CALL_ENDPOINT */
	struct fd_endpoint *endpoint;
	/* FD_CALL_DEPENDENCY: method and route name the HTTP request */
	struct fd_dependency *dependency;
	const char *method;
	const char *route;
	/* FD_CALL_DB */
	struct fd_query *query;      /* query->database is the database */
	/* FD_CALL_CACHE */
	struct fd_cache *cache;
	enum fd_cache_op cache_op;
	const char *cache_key;       /* key pattern, e.g. "stock:{sku}"; may be NULL */
	double hit_ratio;            /* < 0: the cache's */
	struct fd_call *on_miss;     /* calls made on a miss (GET only) */
	size_t n_on_miss;
	/* FD_CALL_QUEUE */
	struct fd_queue *queue;
	enum fd_queue_op queue_op;
};

struct fd_endpoint {
	int id;                      /* dense across the whole scenario */
	struct fd_service *service;
	const char *key;             /* "POST /orders" */
	const char *method;          /* "POST" */
	const char *route;           /* "/orders" (http.route) */
	struct fd_dist self;         /* ns spent in the handler itself */
	double error_probability;    /* spontaneous errors */
	int error_status;            /* their status code (500) */
	/* Policy callers apply to this endpoint (like a service mesh route):
	 * give up after timeout_ns (0 = never) and retry. For an entry
	 * endpoint the timeout is the edge's deadline (answers 504). */
	int64_t timeout_ns;
	struct fd_retry retry;
	struct fd_call *calls;
	size_t n_calls;
	struct fd_pos pos;
};

struct fd_service {
	int id;
	const char *name;            /* service.name */
	const char *version;         /* at start; deploys change it */
	enum fd_runtime runtime;
	const char *runtime_name;    /* "go", "java"... */
	int instances;               /* at start; scale_out changes it */
	struct fd_resources resources;
	struct fd_endpoint *endpoints;
	size_t n_endpoints;
	/* Set by scale (0 when not scaled): the share of its capacity each
	 * instance has against the scenario as written, so that every
	 * instance is as busy as the story has it. CPU cores, the throughput
	 * of the queues it consumes and its breakers' min_calls are already
	 * multiplied by it; the simulation multiplies the connections each
	 * instance opens to a database. */
	double capacity;
	/* `placement`: instance i runs on placement[i] when i < n_placement
	 * and it is not NULL; otherwise the scheduler decides */
	struct fd_node **placement;
	size_t n_placement;
	const char *image;           /* container.image.name; NULL: made up */
	struct fd_pos pos;
};

struct fd_database {
	int id;
	const char *name;
	const char *system;          /* db.system: postgresql, mysql, redis... */
	int pool;                    /* connections per client instance */
	int64_t pool_timeout_ns;     /* wait for a connection before failing */
	struct fd_dist latency;      /* default query latency, ns */
	struct fd_query *queries;
	size_t n_queries;
	struct fd_pos pos;
};

struct fd_cache {
	int id;
	const char *name;
	const char *system;          /* redis, memcached */
	double hit_ratio;            /* steady state */
	int64_t warmup_ns;           /* back to hit_ratio after a flush */
	struct fd_dist latency;      /* ns */
	struct fd_pos pos;
};

struct fd_queue {
	int id;
	const char *name;
	const char *system;          /* kafka, rabbitmq, sqs */
	int partitions;
	struct fd_service *consumer;       /* may be NULL: nobody consumes */
	struct fd_endpoint *handler;       /* run per message; may be NULL */
	double throughput;           /* messages/s per consumer instance */
	struct fd_dist latency;      /* produce latency, ns */
	struct fd_pos pos;
};

/* An external HTTP API (a payment provider): no telemetry of its own, only
 * the caller's client spans. */
struct fd_dependency {
	int id;
	const char *name;
	const char *host;            /* server.address */
	struct fd_dist latency;      /* ns */
	double error_probability;
	int error_status;
	struct fd_pos pos;
};

struct fd_dim_value {
	const char *name;
	double weight;               /* normalised: a dimension's weights sum to 1 */
	double cum;                  /* the weights up to this one, summed in order:
	                                a draw u in [0, 1) picks the first value
	                                with u < cum */
};

/* A request attribute an investigator slices by (region, tier...). */
struct fd_dimension {
	const char *name;
	struct fd_dim_value *values;
	size_t n_values;
};

struct fd_burst {
	int64_t at_ns;
	int64_t duration_ns;
	double multiplier;
};

enum fd_shape { FD_SHAPE_FLAT, FD_SHAPE_DAILY };

struct fd_traffic {
	int id;
	struct fd_endpoint *entry;
	double rate;                 /* mean requests/s */
	enum fd_shape shape;
	/* daily: rate * (1 + amplitude * cos(2 pi (t - peak) / 24 h)), t the
	 * UTC time of day */
	double amplitude;
	int64_t peak_ns;             /* UTC time of day of the peak */
	double noise;                /* relative random variation of the rate */
	struct fd_burst *bursts;
	size_t n_bursts;
	struct fd_dimension *dimensions;
	size_t n_dimensions;
	struct fd_dist payload;      /* request body bytes; p50 == 0: none */
	/* Added by scale.services: the entry of a background service. Not in
	 * the answer key's figures; effects on all traffic leave it alone. */
	bool background;
	struct fd_pos pos;
};

enum fd_target_kind {
	FD_TARGET_SERVICE,     /* all its endpoints, its resources */
	FD_TARGET_ENDPOINT,
	FD_TARGET_DATABASE,    /* every query */
	FD_TARGET_QUERY,
	FD_TARGET_CACHE,
	FD_TARGET_QUEUE,       /* its consumer */
	FD_TARGET_DEPENDENCY,
	FD_TARGET_TRAFFIC,     /* one traffic entry, or all when traffic == NULL */
	FD_TARGET_NODE,        /* every service pod running on the node */
};

struct fd_target {
	enum fd_target_kind kind;
	struct fd_service *service;     /* SERVICE, ENDPOINT (its owner) */
	struct fd_endpoint *endpoint;
	struct fd_database *database;   /* DATABASE, QUERY */
	struct fd_query *query;
	struct fd_cache *cache;
	struct fd_queue *queue;
	struct fd_dependency *dependency;
	struct fd_traffic *traffic;
	struct fd_node *node;
	struct fd_pos pos;
};

/* Which requests an effect applies to; everything unset matches all. */
struct fd_scope_dim {
	const char *dimension;
	const char *value;
};

enum fd_version_scope {
	FD_VERSION_ANY,
	FD_VERSION_NEW,  /* instances running the deploy's new version */
	FD_VERSION_OLD,
};

struct fd_scope {
	struct fd_scope_dim *dims;   /* all must match */
	size_t n_dims;
	int instance;                /* -1: any; else instance index of the
	                                service handling the request */
	enum fd_version_scope version;
	int64_t payload_min;         /* bytes; 0 = any */
};

/* Bits of fd_effect.changes. */
enum fd_change {
	FD_CHANGE_LATENCY_MULT = 1u << 0,
	FD_CHANGE_LATENCY_ADD = 1u << 1,
	FD_CHANGE_ERRORS = 1u << 2,
	FD_CHANGE_HIT_RATIO = 1u << 3,
	FD_CHANGE_THROUGHPUT = 1u << 4,
	FD_CHANGE_POOL = 1u << 5,
	FD_CHANGE_RATE = 1u << 6,
	FD_CHANGE_CPU = 1u << 7,
	FD_CHANGE_MEMORY_LEAK = 1u << 8,
	FD_CHANGE_TIMEOUT = 1u << 9,
	FD_CHANGE_TAIL = 1u << 10,
	FD_CHANGE_RETRIES = 1u << 11,
};

/* A change of model parameters. Between start_ns and start_ns + ramp_ns it
 * moves linearly from the unchanged value to the new one (a multiplier m
 * ramps as 1 + (m - 1) * f); it holds until end_ns, or until a mitigation
 * undoes the event (then it ramps back over the mitigation's ramp). */
struct fd_effect {
	struct fd_event *event;
	struct fd_target target;
	unsigned changes;            /* enum fd_change bits */
	double latency_mult;
	int64_t latency_add_ns;
	/* multiplies only draws above the distribution's p95 (lock waits hit
	 * a few requests hard): p99 grows, p50 does not */
	double tail_mult;
	double error_probability;    /* replaces the target's */
	int error_status;
	double hit_ratio;
	double throughput_mult;
	int pool;
	double rate_mult;
	double cpu_mult;
	double memory_leak_per_s;    /* bytes/s of growth */
	int64_t timeout_ns;
	int retries;                 /* caps the retries of the target's own calls */
	struct fd_scope scope;
	int64_t start_ns;
	int64_t ramp_ns;
	int64_t end_ns;              /* FD_FOREVER */
	struct fd_pos pos;
};

enum fd_event_kind {
	FD_EVENT_DEPLOY,
	FD_EVENT_CONFIG_CHANGE,
	FD_EVENT_FEATURE_FLAG,
	FD_EVENT_TRAFFIC_SPIKE,
	FD_EVENT_DEPENDENCY_SLOWDOWN,
	FD_EVENT_OUTAGE,
	FD_EVENT_INDEX_DROPPED,
	FD_EVENT_LOCK_CONTENTION,
	FD_EVENT_MEMORY_LEAK,
	FD_EVENT_CACHE_FLUSH,
	FD_EVENT_CERTIFICATE_EXPIRY,
	FD_EVENT_INSTANCE_LOSS,
	/* mitigations */
	FD_EVENT_ROLLBACK,
	FD_EVENT_FLAG_OFF,
	FD_EVENT_SCALE_OUT,
	FD_EVENT_RESTART,
	/* below the application (docs/scenario-format.md); their effects are
	 * ordinary effects, their server-side signals come from the cluster
	 * and data-store models */
	FD_EVENT_CO_TENANT,        /* a workload starts on a node */
	FD_EVENT_NODE_NOT_READY,   /* a node stops answering */
	FD_EVENT_DB_FAILOVER,      /* the primary fails over to a cold replica */
	FD_EVENT_AUTOVACUUM,       /* autovacuum on one table */
	FD_EVENT_CHECKPOINT,       /* a forced checkpoint floods the disk */
	FD_EVENT_LOCK_HOLDER,      /* one transaction holds a table lock */
	FD_EVENT_LEADER_CHANGE,    /* a broker partition's leader moves */
	FD_EVENT_EVICTION_STORM,   /* a cache at maxmemory evicts hot keys */
	FD_EVENT_CORDON,           /* mitigation: cordon (and drain) a node */
};

/* One entry of the timeline; events are in time order. The kind's own
 * parameters are the fields named for it; the parser turns the shorthand
 * parameters of traffic_spike, dependency_slowdown, outage, lock_contention,
 * memory_leak and certificate_expiry into ordinary effects, so the
 * simulation needs to special-case only what changes instance state: deploy
 * and rollback (versions, rolling restart), scale_out, restart,
 * instance_loss and cache_flush. */
struct fd_event {
	int id;
	const char *name;            /* unique; default "<kind>-<id>" */
	enum fd_event_kind kind;
	const char *kind_name;       /* "deploy", "rollback"... */
	bool mitigation;
	int64_t at_ns;
	const char *description;     /* may be NULL */
	struct fd_service *service;  /* deploy, rollback, config_change (may be
	                                NULL), feature_flag (may be NULL),
	                                memory_leak, instance_loss, scale_out,
	                                restart */
	const char *version;         /* deploy: new; rollback: restored */
	const char *previous_version;/* deploy, rollback: the one replaced */
	int64_t rollout_ns;          /* deploy, rollback, restart: spread over */
	/* deploy: the new version fails at startup (a config error); its
	 * instances crash-loop with a growing backoff until rolled back */
	bool crash_on_start;
	const char *crash_error;     /* the fatal log line; may be NULL */
	const char *flag;            /* feature_flag, flag_off */
	bool flag_on;                /* feature_flag */
	const char *config_key;      /* config_change; may be NULL */
	const char *config_value;
	int instance;                /* instance_loss, restart: -1 = all */
	int instances;               /* scale_out: new instance count */
	/* scale_out: the version the new instances run (a previous
	 * ReplicaSet scaled back up); NULL = the service's current one.
	 * (`version` above is deploy's and rollback's.) */
	const char *scale_version;
	struct fd_cache *cache;      /* cache_flush, eviction_storm */
	/* below the application */
	struct fd_node *node;        /* co_tenant, node_not_ready, cordon */
	struct fd_workload *workload;/* co_tenant */
	double workload_cpu;         /* co_tenant: cores (0: the workload's) */
	int64_t workload_memory;     /* co_tenant: bytes (0: the workload's) */
	int64_t duration_ns;         /* co_tenant, node_not_ready, and the data-store
	                                kinds: how long (FD_FOREVER: to the end) */
	bool drain;                  /* cordon: evict the node's pods (true) */
	struct fd_database *database;/* db_failover, autovacuum, checkpoint, lock_holder */
	const char *table;           /* autovacuum, lock_holder ("public.stock") */
	struct fd_queue *queue;      /* leader_change */
	int partition;               /* leader_change */
	/* mitigations: the event undone or damped (rollback: the last deploy of
	 * the service; flag_off: the last feature_flag of the flag); may be
	 * NULL for scale_out / restart */
	struct fd_event *undoes;
	double damping;              /* 1 = fully undone */
	struct fd_effect *effects;
	size_t n_effects;
	struct fd_pos pos;
};

enum fd_severity { FD_SEV_DEBUG, FD_SEV_INFO, FD_SEV_WARN, FD_SEV_ERROR };

/* Unrelated log lines, all the time. */
struct fd_noise_log {
	struct fd_service *service;
	enum fd_severity severity;
	const char *message;
	double rate;                 /* lines/s across the service */
	int64_t at_ns;               /* first line not before (0) */
	int64_t duration_ns;         /* lines only for this long; 0 = to the end */
	struct fd_pos pos;
};

/* A harmless CPU spike. */
struct fd_noise_blip {
	struct fd_service *service;
	int instance;                /* -1: all */
	int64_t at_ns;
	int64_t duration_ns;
	double cpu_mult;
	struct fd_pos pos;
};

/* A periodic job: a trace of its own per run, CPU while it runs. */
struct fd_noise_cron {
	const char *name;
	struct fd_service *service;
	int64_t first_ns;            /* first run */
	int64_t every_ns;
	int64_t duration_ns;
	double cpu_mult;
	struct fd_call *calls;
	size_t n_calls;
	struct fd_pos pos;
};

struct fd_answer {
	const char *prompt;          /* what the candidate is told; may be NULL */
	const char *root_cause;
	const char *trigger;
	const char *mitigation;
	const char *verification;
	struct fd_event *trigger_event; /* may be NULL */
	const char **investigation;  /* steps, in order */
	size_t n_investigation;
	const char **red_herrings;
	size_t n_red_herrings;
	const char **evidence;
	size_t n_evidence;
};

/* What taking an action does to the incident, per the answer key. */
enum fd_verdict {
	FD_VERDICT_FIXES,     /* the mitigation */
	FD_VERDICT_HELPS,     /* only partly */
	FD_VERDICT_NOTHING,   /* plausible, changes nothing that matters */
	FD_VERDICT_WORSENS,
};

/* A named intervention a drill's candidate can ask for (actions:). Its event
 * is an ordinary event of a mitigation kind (or config_change,
 * feature_flag...) whose time is not known in advance: event.at_ns is 0 and
 * the effects' start_ns / end_ns are relative to the moment the action is
 * taken. event.id is n_events + the action's id, so a simulation can keep
 * per-event state for timeline events and actions in one array. */
struct fd_action {
	int id;                      /* dense, in file order */
	const char *name;            /* unique; [A-Za-z0-9._-] (it goes in URLs) */
	const char *title;           /* the button's text */
	enum fd_verdict verdict;
	const char *why;             /* the answer key's explanation; may be NULL */
	struct fd_event event;
	struct fd_pos pos;
};

/* Scale knobs for load tests (`scale:` in the file, overridden by generate's
 * --scale and --rate; docs/scenario-format.md, "Scale"). 0 everywhere means
 * "as written". The story stays: the scenario's own services, timeline and
 * answer key are kept, and each instance stays as busy as written. */
struct fd_scenario_scale {
	int services;       /* total services: background ones are added */
	int instances;      /* every service's instances at the start */
	double rate;        /* mean requests/s over all entries */
	uint64_t users;     /* distinct user.id values on server spans and access
	                       logs; 0: no user.id */
	uint64_t paths;     /* distinct values per route parameter in url.path;
	                       0: the built-in id spaces */
	int customers;      /* values of a `customer` dimension added to every
	                       traffic entry (a metric label); 0: none */
	double churn;       /* pods replaced per hour, a fraction of the
	                       instances (0.05 = 5%/h); 0: none */
	/* A ramp (command line only: --rate A..B --ramp D): the traffic's
	 * mean rate goes linearly from rate_from to rate over the first
	 * ramp_ns of the run, then holds rate. ramp_ns 0: no ramp (rate_from
	 * unused); a ramp needs rate > 0. */
	double rate_from;
	int64_t ramp_ns;
};

struct fd_scenario {
	const char *file;            /* name used in messages */
	const char *name;
	const char *title;
	const char *description;     /* may be NULL */
	int64_t start_ns;            /* unix ns; 2026-01-15T13:00:00Z by default */
	int64_t duration_ns;
	uint64_t seed;
	const char *environment;     /* deployment.environment ("production") */
	const char *service_namespace; /* service.namespace ("shop"), never the name */
	double trace_sampling;       /* 0.1 */
	double access_log_sampling;  /* 1 */
	int64_t scrape_interval_ns;  /* 15 s */

	struct fd_service *services;
	size_t n_services;
	size_t n_endpoints;          /* total, across services */
	struct fd_database *databases;
	size_t n_databases;
	struct fd_cache *caches;
	size_t n_caches;
	struct fd_queue *queues;
	size_t n_queues;
	struct fd_dependency *dependencies;
	size_t n_dependencies;
	size_t n_breakers;           /* calls with a circuit breaker */
	struct fd_traffic *traffic;
	size_t n_traffic;
	struct fd_event *events;     /* time order */
	size_t n_events;
	struct fd_noise_log *noise_logs;
	size_t n_noise_logs;
	struct fd_noise_blip *noise_blips;
	size_t n_noise_blips;
	struct fd_noise_cron *noise_crons;
	size_t n_noise_crons;
	struct fd_cluster cluster;
	struct fd_answer answer;
	/* Live drills (drill:, actions:). */
	struct fd_action *actions;
	size_t n_actions;
	int64_t join_at_ns;          /* drill.join_at: the default history; 0 */
	const char **hints;          /* drill.hints; default: answer.investigation */
	size_t n_hints;
	struct fd_scenario_scale scale; /* as applied */
	size_t n_own_services;       /* the scenario's own: services[0..n) */

	void *internal_;             /* owns the memory; not for callers */
};

/* Reads and parses the file at path. On success returns 0 and sets *out (free
 * with fd_scenario_destroy). On failure returns -FD_EINPUT (the message is
 * "path:line:col: ...") or -FD_ERUNTIME and leaves *out NULL. */
int fd_scenario_load(const char *path, struct fd_scenario **out,
		     struct fd_error *err);

/* The reading half of fd_scenario_load, for callers that keep the text (a
 * recording stores its scenario's source): the whole file at path into a
 * malloc'd, NUL-terminated *text of *len bytes (the caller frees it).
 * Errors: -FD_ERUNTIME when the file cannot be opened or read (a directory:
 * "Is a directory"), -FD_EINPUT when it is larger than a scenario may be.
 * *text is NULL on failure. */
int fd_scenario_read(const char *path, char **text, size_t *len, struct fd_error *err);

/* Same, from memory: name stands for the file in messages. text need not be
 * NUL-terminated. */
int fd_scenario_parse(const char *name, const char *text, size_t len,
		      struct fd_scenario **out, struct fd_error *err);

/* fd_scenario_parse with scale knobs that override the file's `scale:`
 * (over may be NULL; its zero fields leave the file's). An override out of
 * range or at odds with the scenario is FD_EINPUT naming the knob
 * ("services=3 (given on the command line): ..."). */
int fd_scenario_parse_scaled(const char *name, const char *text, size_t len,
			     const struct fd_scenario_scale *over, struct fd_scenario **out,
			     struct fd_error *err);

/* One knob from "KEY=VALUE" (services, instances, users, paths, customers;
 * counts take k and M suffixes: 100k, 2M; churn=5%/h) into *sc. Returns 0,
 * or -1 with *why. */
int fd_scenario_scale_set(struct fd_scenario_scale *sc, const char *kv, const char **why);

/* The knobs set in sc as --scale takes them, then the rate:
 * "services=40,instances=20,churn=5%/h,rate=2000/s" ("" when none); a
 * ramp: "rate=100/s..2000/s,ramp=10m". */
char *fd_scenario_scale_format(const struct fd_scenario_scale *sc, char *buf, size_t n);

/* Whether any knob of sc is set (sc may be NULL). */
bool fd_scenario_scale_any(const struct fd_scenario_scale *sc);

/* Accepts NULL. */
void fd_scenario_destroy(struct fd_scenario *s);

/* "deploy", "rollback"... ; NULL when out of range. */
const char *fd_event_kind_name(enum fd_event_kind k);

/* "fixes", "helps", "no_effect", "worsens"; NULL when out of range. */
const char *fd_verdict_name(enum fd_verdict v);

/* The action with this name, or NULL. */
const struct fd_action *fd_scenario_find_action(const struct fd_scenario *s, const char *name);
/* Looks a node up by name in the declared nodes; NULL when absent. */
struct fd_node *fd_scenario_find_node(const struct fd_scenario *s, const char *name);

/* The most instances the service can have: its own, or what a scale_out
 * in the timeline or among the actions takes it to. */
int fd_scenario_max_instances(const struct fd_scenario *s, const struct fd_service *svc);

/* Looks a service / endpoint up by name; NULL when absent. */
struct fd_service *fd_scenario_find_service(const struct fd_scenario *s,
					    const char *name);
struct fd_endpoint *fd_service_find_endpoint(const struct fd_service *svc,
					     const char *key);

#endif
