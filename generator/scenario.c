/*
 * Scenario loading: the public entry points, and the helpers every pass of
 * the parser shares (messages, did-you-mean, typed values, references).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "generator/scenario_internal.h"
#include "common/suggest.h"
#include "common/units.h"

/* A scenario is a few hundred lines; anything this big is a mistake (or an
 * attempt to exhaust memory). */
#define MAX_FILE_SIZE (16u << 20)

/* ---- errors ------------------------------------------------------------------- */

int sp_fail(struct sp *p, struct fd_pos pos, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fd_error_set(p->err, FD_EINPUT, "%s:%d:%d: %s", p->file, pos.line, pos.col, msg);
}

int sp_oom(struct sp *p)
{
	return fd_error_set(p->err, FD_ERUNTIME, "%s: out of memory", p->file);
}

/* "a, b, c" into buf, cut short with "..." when long. */
static void join(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= size - off) {
			if (size > 4)
				memcpy(buf + size - 4, "...", 4);
			return;
		}
		off += (size_t)w;
	}
}

/* "unknown service 'x' (did you mean 'y'?)", or the list of known names. */
static int unknown(struct sp *p, struct fd_pos pos, const char *what, const char *name,
		   const char *const *names, size_t n, const char *context)
{
	const char *s = fd_suggest(name, names, n);
	const char *ctx = context ? context : "";
	if (s)
		return sp_fail(p, pos, "unknown %s '%s'%s (did you mean '%s'?)", what, name, ctx, s);
	if (n == 0)
		return sp_fail(p, pos, "unknown %s '%s'%s (none is defined)", what, name, ctx);
	char list[400];
	join(list, sizeof(list), names, n);
	return sp_fail(p, pos, "unknown %s '%s'%s (known: %s)", what, name, ctx, list);
}

/* Names of n structs of the given size whose name field is at offset. */
static const char **collect(const void *base, size_t n, size_t stride, size_t offset)
{
	const char **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = *(const char *const *)((const char *)base + i * stride + offset);
	return v;
}

/* ---- shapes ------------------------------------------------------------------- */

int sp_map(struct sp *p, const struct yt_node *node, const char *what,
	   const char *const *allowed)
{
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "%s: expected a mapping, got %s", what,
			       yt_kind_name(node));
	size_t n_allowed = 0;
	while (allowed[n_allowed])
		n_allowed++;
	for (size_t i = 0; i < node->n; i++) {
		const struct yt_node *k = node->items[2 * i];
		bool ok = false;
		for (size_t j = 0; j < n_allowed && !ok; j++)
			ok = strcmp(k->str, allowed[j]) == 0;
		if (!ok) {
			char ctx[300];
			snprintf(ctx, sizeof(ctx), " in %s", what);
			return unknown(p, k->pos, "key", k->str, allowed, n_allowed, ctx);
		}
	}
	return 0;
}

int sp_seq(struct sp *p, const struct yt_node *node, const char *key)
{
	if (node->kind != YT_SEQ)
		return sp_fail(p, node->pos, "%s: expected a list, got %s", key, yt_kind_name(node));
	return 0;
}

int sp_need(struct sp *p, const struct yt_node *map, const char *key, const char *what,
	    const struct yt_node **out)
{
	*out = yt_get(map, key);
	if (!*out)
		return sp_fail(p, map->pos, "%s: missing '%s'", what, key);
	return 0;
}

/* ---- values ------------------------------------------------------------------- */

static int scalar(struct sp *p, const struct yt_node *node, const char *key, const char *expected)
{
	if (node->kind != YT_SCALAR || yt_is_null(node))
		return sp_fail(p, node->pos, "%s: expected %s, got %s", key, expected,
			       yt_kind_name(node));
	return 0;
}

static int bad_value(struct sp *p, const struct yt_node *node, const char *key, const char *why)
{
	return sp_fail(p, node->pos, "%s: '%s': %s", key, node->str, why);
}

int sp_string(struct sp *p, const struct yt_node *node, const char *key, const char **out)
{
	int rc = scalar(p, node, key, "a string");
	if (rc < 0)
		return rc;
	/* The tree is freed after the parse; the model keeps its own copy. */
	*out = fd_arena_strndup(p->arena, node->str, node->len);
	return *out ? 0 : sp_oom(p);
}

int sp_name(struct sp *p, const struct yt_node *node, const char *key, const char **out)
{
	int rc = scalar(p, node, key, "a name");
	if (rc < 0)
		return rc;
	if (node->len > 128)
		return sp_fail(p, node->pos, "%s: name longer than 128 characters", key);
	for (const char *c = node->str; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '"' || *c == '\n' || *c == '\r')
			return bad_value(p, node, key,
					 "a name must not contain spaces or quotes");
	return sp_string(p, node, key, out);
}

int sp_duration(struct sp *p, const struct yt_node *node, const char *key, int64_t *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a duration such as 90s, 15m or 2h");
	if (rc < 0)
		return rc;
	if (fd_units_duration(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_offset(struct sp *p, const struct yt_node *node, const char *key, int64_t *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a time offset such as 1h5m or 1:05");
	if (rc < 0)
		return rc;
	if (strchr(node->str, ':')) {
		if (fd_units_clock(node->str, out, &why) < 0)
			return bad_value(p, node, key, why);
		return 0;
	}
	if (fd_units_duration(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_rate(struct sp *p, const struct yt_node *node, const char *key, double *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a rate such as 40/s");
	if (rc < 0)
		return rc;
	if (fd_units_rate(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_mult(struct sp *p, const struct yt_node *node, const char *key, double *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a multiplier such as x3");
	if (rc < 0)
		return rc;
	if (fd_units_multiplier(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_fraction(struct sp *p, const struct yt_node *node, const char *key, double *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a probability such as 0.05 or 5%");
	if (rc < 0)
		return rc;
	if (fd_units_fraction(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_number(struct sp *p, const struct yt_node *node, const char *key, double *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a number");
	if (rc < 0)
		return rc;
	if (node->str[0] == '-')
		return bad_value(p, node, key, "must not be negative");
	if (fd_units_number(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_size(struct sp *p, const struct yt_node *node, const char *key, int64_t *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a size such as 512KiB");
	if (rc < 0)
		return rc;
	if (fd_units_size(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	return 0;
}

int sp_size_rate(struct sp *p, const struct yt_node *node, const char *key, double *out)
{
	const char *why;
	int rc = scalar(p, node, key, "a size per time such as 40MiB/h");
	if (rc < 0)
		return rc;
	if (fd_units_size_rate(node->str, out, &why) < 0)
		return bad_value(p, node, key, why);
	if (!(*out > 0))
		return bad_value(p, node, key, "must be greater than 0");
	return 0;
}

int sp_int(struct sp *p, const struct yt_node *node, const char *key, long long min,
	   long long max, int *out)
{
	const char *why;
	long long v;
	int rc = scalar(p, node, key, "an integer");
	if (rc < 0)
		return rc;
	if (fd_units_integer(node->str, LLONG_MIN, LLONG_MAX, &v, &why) < 0)
		return bad_value(p, node, key, why);
	if (v < min || v > max)
		return sp_fail(p, node->pos, "%s: %lld is out of range (%lld to %lld)", key, v, min,
			       max);
	*out = (int)v;
	return 0;
}

int sp_bool(struct sp *p, const struct yt_node *node, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off"};
	int rc = scalar(p, node, key, "true or false");
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < 5; i++) {
		if (strcmp(node->str, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(node->str, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return bad_value(p, node, key, "expected true or false");
}

void sp_dist_fit(struct fd_dist *d)
{
	/* p50 == 0 is "nothing" (no payload, no added network time) */
	if (d->p50 <= 0) {
		d->mu = d->sigma = d->sigma_tail = 0;
		return;
	}
	d->mu = log((double)d->p50);
	d->sigma = d->p95 > d->p50 ? (log((double)d->p95) - d->mu) / 1.6449 : 0.0;
	d->sigma_tail = d->p99 > 0 ? (log((double)d->p99) - log((double)d->p95)) / 0.6815
				   : d->sigma;
}

static int dist_value(struct sp *p, const struct yt_node *node, const char *key, bool sizes,
		      int64_t *out)
{
	return sizes ? sp_size(p, node, key, out) : sp_duration(p, node, key, out);
}

int sp_dist(struct sp *p, const struct yt_node *node, const char *key, bool sizes,
	    struct fd_dist *out)
{
	static const char *const keys[] = {"p50", "p95", "p99", NULL};
	struct fd_dist d = {0};
	int rc;
	if (node->kind == YT_SCALAR && !yt_is_null(node)) {
		/* one value: a constant */
		if ((rc = dist_value(p, node, key, sizes, &d.p50)) < 0)
			return rc;
		d.p95 = d.p50;
		sp_dist_fit(&d);
		*out = d;
		return 0;
	}
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "%s: expected %s or {p50: ..., p95: ...}, got %s", key,
			       sizes ? "a size" : "a duration", yt_kind_name(node));
	if ((rc = sp_map(p, node, key, keys)) < 0)
		return rc;
	const struct yt_node *v50 = yt_get(node, "p50"), *v95 = yt_get(node, "p95"),
			     *v99 = yt_get(node, "p99");
	if (!v50)
		return sp_fail(p, node->pos, "%s: missing 'p50'", key);
	if ((rc = dist_value(p, v50, "p50", sizes, &d.p50)) < 0)
		return rc;
	d.p95 = d.p50;
	if (v95 && (rc = dist_value(p, v95, "p95", sizes, &d.p95)) < 0)
		return rc;
	if (v99 && (rc = dist_value(p, v99, "p99", sizes, &d.p99)) < 0)
		return rc;
	if (d.p95 < d.p50)
		return sp_fail(p, v95->pos, "%s: p95 (%s) is below p50 (%s)", key, v95->str,
			       v50->str);
	if (v99 && d.p99 < d.p95)
		return sp_fail(p, v99->pos, "%s: p99 (%s) is below p95 (%s)", key, v99->str,
			       v95 ? v95->str : v50->str);
	if (d.p50 == 0 && (d.p95 > 0 || d.p99 > 0))
		return sp_fail(p, v50->pos, "%s: p50 must be above 0 when p95 or p99 is", key);
	sp_dist_fit(&d);
	*out = d;
	return 0;
}

int sp_errors(struct sp *p, const struct yt_node *node, const char *key, double *prob,
	      int *status)
{
	static const char *const keys[] = {"rate", "status", NULL};
	int rc;
	if (node->kind == YT_SCALAR)
		return sp_fraction(p, node, key, prob);
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "%s: expected a probability or {rate, status}, got %s",
			       key, yt_kind_name(node));
	if ((rc = sp_map(p, node, key, keys)) < 0)
		return rc;
	const struct yt_node *v;
	if ((rc = sp_need(p, node, "rate", key, &v)) < 0 || (rc = sp_fraction(p, v, "rate", prob)) < 0)
		return rc;
	if ((v = yt_get(node, "status")) && (rc = sp_int(p, v, "status", 400, 599, status)) < 0)
		return rc;
	return 0;
}

int sp_retry(struct sp *p, const struct yt_node *node, const char *key, struct fd_retry *out)
{
	static const char *const keys[] = {"max", "backoff", "multiplier", "max_backoff", NULL};
	struct fd_retry r = {.max = 0, .backoff_ns = 100 * SP_MS, .multiplier = 2,
			     .max_backoff_ns = 10 * SP_NS};
	const struct yt_node *v;
	int rc;
	if (node->kind == YT_SCALAR) {
		/* retry: 2 */
		if ((rc = sp_int(p, node, key, 0, 10, &r.max)) < 0)
			return rc;
		*out = r;
		return 0;
	}
	if ((rc = sp_map(p, node, key, keys)) < 0)
		return rc;
	if ((rc = sp_need(p, node, "max", key, &v)) < 0 || (rc = sp_int(p, v, "max", 0, 10, &r.max)) < 0)
		return rc;
	if ((v = yt_get(node, "backoff")) && (rc = sp_duration(p, v, "backoff", &r.backoff_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "multiplier"))) {
		if ((rc = sp_number(p, v, "multiplier", &r.multiplier)) < 0)
			return rc;
		if (r.multiplier < 1 || r.multiplier > 100)
			return bad_value(p, v, "multiplier", "must be between 1 and 100");
	}
	if ((v = yt_get(node, "max_backoff")) &&
	    (rc = sp_duration(p, v, "max_backoff", &r.max_backoff_ns)) < 0)
		return rc;
	if (r.max_backoff_ns < r.backoff_ns)
		return sp_fail(p, node->pos, "%s: max_backoff is below backoff", key);
	*out = r;
	return 0;
}

int sp_breaker(struct sp *p, const struct yt_node *node, const char *key, struct fd_breaker *out)
{
	static const char *const keys[] = {"failure_ratio", "window", "min_calls", "open_for", NULL};
	struct fd_breaker b = {.failure_ratio = 0.5, .window_ns = 10 * SP_NS, .min_calls = 20,
			       .open_ns = 30 * SP_NS};
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, key, keys)) < 0)
		return rc;
	if ((v = yt_get(node, "failure_ratio"))) {
		if ((rc = sp_fraction(p, v, "failure_ratio", &b.failure_ratio)) < 0)
			return rc;
		if (b.failure_ratio <= 0)
			return bad_value(p, v, "failure_ratio", "must be above 0");
	}
	if ((v = yt_get(node, "window")) && (rc = sp_duration(p, v, "window", &b.window_ns)) < 0)
		return rc;
	if ((v = yt_get(node, "min_calls")) &&
	    (rc = sp_int(p, v, "min_calls", 1, 10000, &b.min_calls)) < 0)
		return rc;
	if ((v = yt_get(node, "open_for")) && (rc = sp_duration(p, v, "open_for", &b.open_ns)) < 0)
		return rc;
	b.id = (int)p->s->n_breakers++;
	*out = b;
	return 0;
}

/* ---- references --------------------------------------------------------------- */

static struct fd_pos pos_in(const struct yt_node *node, size_t off)
{
	struct fd_pos pos = node->pos;
	/* Columns inside a scalar are exact only for a one-line scalar; a
	 * quoted one starts one column after its quote. */
	if (!node->multiline) {
		size_t col = (size_t)pos.col + off + (node->plain ? 0 : 1);
		if (col < 1000000)
			pos.col = (int)col;
	}
	return pos;
}

int sp_split_ref(struct sp *p, const struct yt_node *node, const char *key, struct sp_ref *out)
{
	int rc = scalar(p, node, key, "a reference such as svc \"GET /route\"");
	if (rc < 0)
		return rc;
	const char *s = node->str;
	size_t i = 0;
	while (s[i] && s[i] != ' ' && s[i] != '\t' && s[i] != '"')
		i++;
	if (i == 0)
		return sp_fail(p, node->pos, "%s: expected a name first, as in svc \"GET /route\"", key);
	memset(out, 0, sizeof(*out));
	out->name = fd_arena_strndup(p->arena, s, i);
	if (!out->name)
		return sp_oom(p);
	out->name_pos = pos_in(node, 0);
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (!s[i])
		return 0;
	size_t q = i;
	if (s[q] != '"' || node->len < q + 2 || s[node->len - 1] != '"')
		return sp_fail(p, pos_in(node, q),
			       "%s: after '%s' expected a double-quoted part, as in %s \"GET /route\"",
			       key, out->name, out->name);
	size_t inner = node->len - q - 2;
	if (inner == 0)
		return sp_fail(p, pos_in(node, q), "%s: empty quoted part", key);
	out->quoted = fd_arena_strndup(p->arena, s + q + 1, inner);
	if (!out->quoted)
		return sp_oom(p);
	out->quoted_pos = pos_in(node, q);
	return 0;
}

#define FIND(fn, type, arr, count, what)                                               \
	int fn(struct sp *p, const char *name, struct fd_pos pos, type **out)          \
	{                                                                              \
		struct fd_scenario *s = p->s;                                          \
		for (size_t i = 0; i < s->count; i++)                                  \
			if (strcmp(s->arr[i].name, name) == 0) {                       \
				*out = &s->arr[i];                                     \
				return 0;                                              \
			}                                                              \
		const char **names = collect(s->arr, s->count, sizeof(type),           \
					     offsetof(type, name));                    \
		if (!names)                                                            \
			return sp_oom(p);                                              \
		int rc = unknown(p, pos, what, name, names, s->count, NULL);           \
		free(names);                                                           \
		return rc;                                                             \
	}

FIND(sp_find_service, struct fd_service, services, n_services, "service")
FIND(sp_find_database, struct fd_database, databases, n_databases, "database")
FIND(sp_find_cache, struct fd_cache, caches, n_caches, "cache")
FIND(sp_find_queue, struct fd_queue, queues, n_queues, "queue")
FIND(sp_find_dependency, struct fd_dependency, dependencies, n_dependencies, "dependency")
FIND(sp_find_node, struct fd_node, cluster.nodes, cluster.n_nodes, "node")
FIND(sp_find_workload, struct fd_workload, cluster.workloads, cluster.n_workloads, "workload")

int sp_find_endpoint(struct sp *p, struct fd_service *svc, const char *key, struct fd_pos pos,
		     struct fd_endpoint **out)
{
	struct fd_endpoint *ep = fd_service_find_endpoint(svc, key);
	if (ep) {
		*out = ep;
		return 0;
	}
	const char **names = collect(svc->endpoints, svc->n_endpoints, sizeof(struct fd_endpoint),
				     offsetof(struct fd_endpoint, key));
	if (!names)
		return sp_oom(p);
	char ctx[200];
	snprintf(ctx, sizeof(ctx), " in service '%s'", svc->name);
	int rc = unknown(p, pos, "endpoint", key, names, svc->n_endpoints, ctx);
	free(names);
	return rc;
}

int sp_endpoint_ref(struct sp *p, const struct yt_node *node, const char *key,
		    struct fd_endpoint **out)
{
	struct sp_ref r;
	struct fd_service *svc;
	int rc = sp_split_ref(p, node, key, &r);
	if (rc < 0)
		return rc;
	if ((rc = sp_find_service(p, r.name, r.name_pos, &svc)) < 0)
		return rc;
	if (!r.quoted)
		return sp_fail(p, node->pos, "%s: expected %s \"METHOD /route\", naming an endpoint",
			       key, r.name);
	return sp_find_endpoint(p, svc, r.quoted, r.quoted_pos, out);
}

const char *sp_fmt_offset(int64_t ns, char *buf, size_t size)
{
	int64_t h = ns / (3600 * SP_NS), m = ns / (60 * SP_NS) % 60, sec = ns / SP_NS % 60;
	int64_t ms = ns / SP_MS % 1000;
	size_t off = 0;
	buf[0] = '\0';
	if (h)
		off += (size_t)snprintf(buf + off, size - off, "%" PRId64 "h", h);
	if (m && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%" PRId64 "m", m);
	if (sec && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%" PRId64 "s", sec);
	if (ms && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%" PRId64 "ms", ms);
	if (off == 0)
		snprintf(buf, size, "0s");
	return buf;
}

/* ---- public API --------------------------------------------------------------- */

static const char *const kind_names[] = {
	[FD_EVENT_DEPLOY] = "deploy",
	[FD_EVENT_CONFIG_CHANGE] = "config_change",
	[FD_EVENT_FEATURE_FLAG] = "feature_flag",
	[FD_EVENT_TRAFFIC_SPIKE] = "traffic_spike",
	[FD_EVENT_DEPENDENCY_SLOWDOWN] = "dependency_slowdown",
	[FD_EVENT_OUTAGE] = "outage",
	[FD_EVENT_INDEX_DROPPED] = "index_dropped",
	[FD_EVENT_LOCK_CONTENTION] = "lock_contention",
	[FD_EVENT_MEMORY_LEAK] = "memory_leak",
	[FD_EVENT_CACHE_FLUSH] = "cache_flush",
	[FD_EVENT_CERTIFICATE_EXPIRY] = "certificate_expiry",
	[FD_EVENT_INSTANCE_LOSS] = "instance_loss",
	[FD_EVENT_ROLLBACK] = "rollback",
	[FD_EVENT_FLAG_OFF] = "flag_off",
	[FD_EVENT_SCALE_OUT] = "scale_out",
	[FD_EVENT_RESTART] = "restart",
	[FD_EVENT_CO_TENANT] = "co_tenant",
	[FD_EVENT_NODE_NOT_READY] = "node_not_ready",
	[FD_EVENT_DB_FAILOVER] = "db_failover",
	[FD_EVENT_AUTOVACUUM] = "autovacuum",
	[FD_EVENT_CHECKPOINT] = "checkpoint",
	[FD_EVENT_LOCK_HOLDER] = "lock_holder",
	[FD_EVENT_LEADER_CHANGE] = "partition_leader_change",
	[FD_EVENT_EVICTION_STORM] = "cache_eviction_storm",
	[FD_EVENT_CORDON] = "cordon",
};

const char *fd_event_kind_name(enum fd_event_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[k];
}

const char *fd_verdict_name(enum fd_verdict v)
{
	static const char *const names[] = {
		[FD_VERDICT_FIXES] = "fixes",
		[FD_VERDICT_HELPS] = "helps",
		[FD_VERDICT_NOTHING] = "no_effect",
		[FD_VERDICT_WORSENS] = "worsens",
	};
	if ((unsigned)v >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[v];
}

const struct fd_action *fd_scenario_find_action(const struct fd_scenario *s, const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n_actions; i++)
		if (strcmp(s->actions[i].name, name) == 0)
			return &s->actions[i];
	return NULL;
}

int fd_scenario_max_instances(const struct fd_scenario *s, const struct fd_service *svc)
{
	int n = svc->instances > 0 ? svc->instances : 1;
	for (size_t i = 0; i < s->n_events + s->n_actions; i++) {
		const struct fd_event *ev = i < s->n_events ? &s->events[i] : &s->actions[i - s->n_events].event;
		if (ev->kind == FD_EVENT_SCALE_OUT && ev->service == svc && ev->instances > n)
			n = ev->instances;
	}
	return n;
}

struct fd_service *fd_scenario_find_service(const struct fd_scenario *s, const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n_services; i++)
		if (strcmp(s->services[i].name, name) == 0)
			return &s->services[i];
	return NULL;
}

struct fd_node *fd_scenario_find_node(const struct fd_scenario *s, const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->cluster.n_nodes; i++)
		if (strcmp(s->cluster.nodes[i].name, name) == 0)
			return &s->cluster.nodes[i];
	return NULL;
}

struct fd_endpoint *fd_service_find_endpoint(const struct fd_service *svc, const char *key)
{
	if (!svc || !key)
		return NULL;
	for (size_t i = 0; i < svc->n_endpoints; i++)
		if (strcmp(svc->endpoints[i].key, key) == 0)
			return &svc->endpoints[i];
	return NULL;
}

void fd_scenario_destroy(struct fd_scenario *s)
{
	/* The scenario itself lives in its arena. */
	if (s)
		fd_arena_destroy(s->internal_);
}

int fd_scenario_parse(const char *name, const char *text, size_t len, struct fd_scenario **out,
		      struct fd_error *err)
{
	return fd_scenario_parse_scaled(name, text, len, NULL, out, err);
}

int fd_scenario_parse_scaled(const char *name, const char *text, size_t len,
			     const struct fd_scenario_scale *over, struct fd_scenario **out,
			     struct fd_error *err)
{
	struct sp p = {.file = name ? name : "<scenario>", .err = err, .over = over};
	struct fd_arena *tree = NULL;
	struct yt_node *root = NULL;
	int rc;
	*out = NULL;
	p.arena = fd_arena_create();
	tree = fd_arena_create();
	if (!p.arena || !tree) {
		rc = sp_oom(&p);
		goto out;
	}
	p.s = fd_arena_alloc(p.arena, sizeof(*p.s));
	if (!p.s || !(p.s->file = fd_arena_strdup(p.arena, p.file))) {
		rc = sp_oom(&p);
		goto out;
	}
	p.s->internal_ = p.arena;
	p.file = p.s->file;
	if (len > MAX_FILE_SIZE) {
		rc = fd_error_set(err, FD_EINPUT, "%s: too large for a scenario (%zu bytes, at most %u)",
				  p.file, len, MAX_FILE_SIZE);
		goto out;
	}
	if (!text)
		text = "";
	if ((rc = yt_load(tree, p.file, text, len, &root, err)) < 0)
		goto out;
	if (!root) {
		rc = sp_fail(&p, (struct fd_pos){1, 1},
			     "empty scenario: expected a mapping with name, duration, services and traffic");
		goto out;
	}
	if ((rc = sp_scale_prepare(&p, tree, root)) < 0 || (rc = sp_parse_root(&p, root)) < 0 ||
	    (rc = sp_resolve(&p)) < 0)
		goto out;
	rc = sp_scale_apply(&p);
out:
	if (p.queries) {
		for (size_t i = 0; i < p.s->n_databases; i++)
			free(p.queries[i].v);
		free(p.queries);
	}
	free(p.event_nodes);
	free(p.undoes_nodes);
	free(p.action_nodes);
	free(p.action_undoes);
	fd_arena_destroy(tree);
	if (rc < 0) {
		fd_arena_destroy(p.arena);
		return rc;
	}
	*out = p.s;
	return 0;
}

int fd_scenario_read(const char *path, char **text, size_t *len_out, struct fd_error *err)
{
	*text = NULL;
	*len_out = 0;
	/* Non-blocking open, so that a FIFO with no writer does not hang it
	 * (a pipe from the shell, <(...), still works: blocking reads below). */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		/* what the user named is wrong, as for a recording (exit 2) */
		return fd_error_set(err, e == ENOENT || e == ENOTDIR ? FD_EINPUT : FD_ERUNTIME,
				    "%s: cannot open: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return fd_error_set(err, FD_EINPUT, "%s: cannot read: %s", path, strerror(EISDIR));
	}
	int flags = fcntl(fd, F_GETFL);
	FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
	if (!f) {
		int e = errno;
		close(fd);
		return fd_error_set(err, FD_ERUNTIME, "%s: cannot open: %s", path, strerror(e));
	}
	/* Read one byte past the limit to tell "too large" from "exactly". */
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	int rc = 0;
	if (!buf) {
		rc = fd_error_set(err, FD_ERUNTIME, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > MAX_FILE_SIZE) {
				rc = fd_error_set(err, FD_EINPUT,
						  "%s: too large for a scenario (more than %u bytes)",
						  path, MAX_FILE_SIZE);
				goto out;
			}
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				rc = fd_error_set(err, FD_ERUNTIME, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				rc = fd_error_set(err, FD_ERUNTIME, "%s: cannot read: %s", path,
						  strerror(errno ? errno : EIO));
			break;
		}
	}
	if (rc == 0 && len == 0 && S_ISFIFO(st.st_mode))
		rc = fd_error_set(err, FD_EINPUT,
				  "%s: nothing to read (a FIFO or pipe that no program writes to)", path);
out:
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*text = buf;
	*len_out = len;
	return 0;
}

int fd_scenario_load(const char *path, struct fd_scenario **out, struct fd_error *err)
{
	*out = NULL;
	char *text;
	size_t len;
	int rc = fd_scenario_read(path, &text, &len, err);
	if (rc == 0)
		rc = fd_scenario_parse(path, text, len, out, err);
	free(text);
	return rc;
}
