/*
 * Scale knobs for load tests: "this incident, but with 40 services x 20
 * instances and 100k user ids" (`scale:` in the file, generate's --scale and
 * --rate over it; docs/scenario-format.md, "Scale").
 *
 * The story must stay what the file says, so the knobs only ever add to it
 * or spread it:
 *   - services: background services are added to the YAML tree before the
 *     model is built, as if the author had written them (so the ordinary
 *     parser checks them and gives them their defaults): each has a
 *     database, an entry endpoint with traffic of its own and a second
 *     endpoint the previous one of its group of four calls now and then.
 *     Nothing of the scenario calls them and no effect targets them.
 *   - instances and rate change the load per instance, which is what the
 *     story's saturation, pool waits and consumer lag follow. So every
 *     instance keeps its load against its capacity: with k times the
 *     instances and r times the traffic, each instance gets r / k of its
 *     CPU, connections per database, consumer throughput and breaker
 *     min_calls (fd_service.capacity). Timeline instance counts
 *     (scale_out) grow in proportion; instance indexes stay.
 *   - users, paths and customers widen attribute cardinality: user.id on
 *     server spans and access logs, ids in url.path (the simulation reads
 *     both from scenario->scale), and a `customer` dimension with
 *     Zipf-weighted values on every traffic entry, which is a label on the
 *     request metrics and so multiplies their series.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/units.h"
#include "generator/scenario_internal.h"

#define MAX_DIMENSIONS 8
/* a traffic entry's combinations of dimension values, which the simulation
 * indexes with an int */
#define MAX_COMBOS 1000000000.0

struct knob {
	const char *name;
	uint64_t max;
};

static const struct knob knobs[] = {
	{"services", 2000}, {"instances", 1000}, {"users", 1000000000ULL},
	{"paths", 1000000000000ULL}, {"customers", 1000000},
};
enum { K_SERVICES, K_INSTANCES, K_USERS, K_PATHS, K_CUSTOMERS, K_N };
/* the knobs that are not counts, after them in scale_pos and scale_from_cli */
enum { K_RATE = K_N, K_CHURN };

static uint64_t get_knob(const struct fd_scenario_scale *sc, int k)
{
	switch (k) {
	case K_SERVICES: return (uint64_t)sc->services;
	case K_INSTANCES: return (uint64_t)sc->instances;
	case K_USERS: return sc->users;
	case K_PATHS: return sc->paths;
	default: return (uint64_t)sc->customers;
	}
}

static void set_knob(struct fd_scenario_scale *sc, int k, uint64_t v)
{
	switch (k) {
	case K_SERVICES: sc->services = (int)v; break;
	case K_INSTANCES: sc->instances = (int)v; break;
	case K_USERS: sc->users = v; break;
	case K_PATHS: sc->paths = v; break;
	default: sc->customers = (int)v; break;
	}
}

/* "40", "100k", "2M", "1.5k": a count from 1 to max. */
static int parse_count(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	char num[32];
	size_t n = strlen(s);
	double mult = 1;
	if (n && (s[n - 1] == 'k' || s[n - 1] == 'K'))
		mult = 1e3, n--;
	else if (n && s[n - 1] == 'M')
		mult = 1e6, n--;
	double v;
	if (n == 0 || n >= sizeof(num)) {
		*why = "expected a count such as 40, 100k or 2M";
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (fd_units_number(num, &v, why) < 0) {
		*why = "expected a count such as 40, 100k or 2M";
		return -1;
	}
	v *= mult;
	if (v != floor(v) || v < 1) {
		*why = "must be a whole number, at least 1";
		return -1;
	}
	if (v > (double)max) {
		static char msg[64];
		snprintf(msg, sizeof(msg), "at most %llu", (unsigned long long)max);
		*why = msg;
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int fd_scenario_scale_set(struct fd_scenario_scale *sc, const char *kv, const char **why)
{
	const char *eq = strchr(kv, '=');
	if (!eq) {
		*why = "expected KEY=VALUE (services, instances, users, paths, customers or churn)";
		return -1;
	}
	if (eq - kv == 5 && !strncmp(kv, "churn", 5))
		return fd_units_churn(eq + 1, &sc->churn, why);
	for (int k = 0; k < K_N; k++)
		if (strlen(knobs[k].name) == (size_t)(eq - kv) && !strncmp(kv, knobs[k].name, (size_t)(eq - kv))) {
			uint64_t v;
			if (parse_count(eq + 1, knobs[k].max, &v, why) < 0)
				return -1;
			set_knob(sc, k, v);
			return 0;
		}
	*why = "unknown knob (expected services, instances, users, paths, customers or churn)";
	return -1;
}

char *fd_scenario_scale_format(const struct fd_scenario_scale *sc, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
#define PUT(...) used += (size_t)snprintf(buf + used, used < n ? n - used : 0, __VA_ARGS__)
	for (int k = 0; k < K_N; k++)
		if (get_knob(sc, k))
			PUT("%s%s=%llu", used ? "," : "", knobs[k].name, (unsigned long long)get_knob(sc, k));
	if (sc->churn > 0)
		PUT("%schurn=%g%%/h", used ? "," : "", sc->churn * 100);
	if (sc->rate > 0 && sc->ramp_ns > 0) {
		char d[32];
		PUT("%srate=%g/s..%g/s,ramp=%s", used ? "," : "", sc->rate_from, sc->rate,
		    fd_format_duration(d, sizeof(d), sc->ramp_ns));
	} else if (sc->rate > 0) {
		PUT("%srate=%g/s", used ? "," : "", sc->rate);
	}
#undef PUT
	return buf;
}

bool fd_scenario_scale_any(const struct fd_scenario_scale *sc)
{
	return sc && (sc->services || sc->instances || sc->rate > 0 || sc->users || sc->paths ||
		      sc->customers || sc->churn > 0);
}

/* ---- where a knob came from, for messages ------------------------------------- */

/* A problem with knob k: at its place in the file, or naming it as given
 * on the command line. */
static int knob_fail(struct sp *p, int k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int knob_fail(struct sp *p, int k, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *name = k < K_N ? knobs[k].name : k == K_RATE ? "rate" : "churn";
	if (p->scale_from_cli & (1u << k)) {
		char val[48];
		if (k < K_N)
			snprintf(val, sizeof(val), "%llu", (unsigned long long)get_knob(&p->scale, k));
		else if (k == K_RATE)
			snprintf(val, sizeof(val), "%g/s", p->scale.rate);
		else
			snprintf(val, sizeof(val), "%g%%/h", p->scale.churn * 100);
		return fd_error_set(p->err, FD_EINPUT, "%s=%s (given on the command line): %s", name, val, msg);
	}
	return sp_fail(p, p->scale_pos[k], "scale.%s: %s", name, msg);
}

/* ---- background services ------------------------------------------------------ */

static const char *const bg_names[] = {
	"search",   "reviews",  "recommendations", "notifications", "accounts", "auth",
	"profiles", "wishlist", "pricing",         "promotions",    "shipping", "tax",
	"fraud",    "loyalty",  "media",           "analytics",     "sessions", "geo",
	"ads",      "feed",     "audit",           "invoices",      "returns",  "coupons",
	"ratings",  "subscriptions", "messaging",  "support",       "content",  "sellers",
	"warehouse", "tracking", "identity",       "consent",       "billing",  "ledger",
	"rewards",  "locale",   "experiments",     "banners",
};
static const char *const bg_runtimes[] = {"go", "java", "node", "python", "dotnet"};

static bool taken(const struct yt_node *root, const char *name)
{
	static const char *const kinds[] = {"services", "databases", "caches", "queues", "dependencies"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (yt_get(yt_get(root, kinds[i]), name))
			return true;
	return false;
}

/* The j-th free name (and its database's, NAME-db), in buf. */
static void bg_name(const struct yt_node *root, size_t *next, char *buf, size_t n)
{
	size_t nn = sizeof(bg_names) / sizeof(bg_names[0]);
	for (;; (*next)++) {
		size_t round = *next / nn;
		if (round)
			snprintf(buf, n, "%s-%zu", bg_names[*next % nn], round + 1);
		else
			snprintf(buf, n, "%s", bg_names[*next % nn]);
		char db[160];
		snprintf(db, sizeof(db), "%s-db", buf);
		if (!taken(root, buf) && !taken(root, db)) {
			(*next)++;
			return;
		}
	}
}

/* The mean entry rate of the file's traffic, for the background entries:
 * each is as busy as an average entry of the scenario. Unreadable rates
 * count as 1/s (the parser reports them). */
static double mean_rate(const struct yt_node *traffic)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; traffic && traffic->kind == YT_SEQ && i < traffic->n; i++) {
		const struct yt_node *r = yt_get(traffic->items[i], "rate");
		double v = 1;
		const char *why;
		if (!r || r->kind != YT_SCALAR || fd_units_rate(r->str, &v, &why) < 0)
			v = 1;
		sum += v;
		n++;
	}
	return n ? sum / (double)n : 1;
}

static struct yt_node *scalar_node(struct fd_arena *a, const char *s)
{
	struct yt_node *n = fd_arena_alloc(a, sizeof(*n));
	if (!n || !(n->str = fd_arena_strdup(a, s)))
		return NULL;
	n->kind = YT_SCALAR;
	n->len = strlen(s);
	n->plain = true;
	n->weight = 1;
	return n;
}

/* Appends the items of `add` (a mapping or sequence) to the node of key in
 * root, or adds the key when root has none. */
static int splice(struct fd_arena *a, struct yt_node *root, const char *key, const struct yt_node *add)
{
	struct yt_node *have = (struct yt_node *)yt_get(root, key);
	size_t per = add->kind == YT_MAP ? 2 : 1;
	if (!have || yt_is_null(have)) {
		if (have) {
			*have = *add;
			return 0;
		}
		struct yt_node **items = fd_arena_array(a, 2 * (root->n + 1), sizeof(*items));
		struct yt_node *k = scalar_node(a, key);
		if (!items || !k)
			return -1;
		memcpy(items, root->items, 2 * root->n * sizeof(*items));
		items[2 * root->n] = k;
		items[2 * root->n + 1] = (struct yt_node *)add;
		root->items = items;
		root->n++;
		return 0;
	}
	if (have->kind != add->kind)
		return 0; /* the parser reports the file's mistake */
	struct yt_node **items = fd_arena_array(a, per * (have->n + add->n), sizeof(*items));
	if (!items)
		return -1;
	memcpy(items, have->items, per * have->n * sizeof(*items));
	memcpy(items + per * have->n, add->items, per * add->n * sizeof(*items));
	have->items = items;
	have->n += add->n;
	return 0;
}

/* The background services as YAML, loaded into the tree and spliced into
 * root's services, databases and traffic. Their traffic takes the first
 * entry's shape, noise and dimensions, so a dashboard slices them alike. */
static int add_background(struct sp *p, struct fd_arena *tree, struct yt_node *root, size_t n_bg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return sp_oom(p);
	char (*names)[160] = calloc(n_bg, sizeof(*names));
	if (!names) {
		fclose(f);
		free(text);
		return sp_oom(p);
	}
	size_t next = 0;
	for (size_t j = 0; j < n_bg; j++)
		bg_name(root, &next, names[j], sizeof(names[j]));
	const struct yt_node *traffic = yt_get(root, "traffic");
	double rate = mean_rate(traffic);
	fputs("services:\n", f);
	for (size_t j = 0; j < n_bg; j++) {
		const char *nm = names[j];
		char table[160];
		snprintf(table, sizeof(table), "%s", nm);
		for (char *c = table; *c; c++)
			if (*c == '-')
				*c = '_';
		fprintf(f,
			"  %s:\n    version: \"%zu.%zu.%zu\"\n    runtime: %s\n    instances: 2\n"
			"    endpoints:\n"
			"      \"GET /%s/{id}\":\n        self: {p50: 3ms, p95: 12ms}\n        errors: 0.1%%\n"
			"        calls:\n          - {db: %s-db, query: \"SELECT * FROM %s WHERE id = $1\"}\n",
			nm, 1 + j % 3, j % 17, j % 5, bg_runtimes[j % 5], nm, nm, table);
		/* groups of four: each calls the next one's writes now and then */
		if (j % 4 != 3 && j + 1 < n_bg)
			fprintf(f, "          - {service: %s, endpoint: \"POST /%s\", probability: 0.3}\n",
				names[j + 1], names[j + 1]);
		fprintf(f,
			"      \"POST /%s\":\n        self: {p50: 5ms, p95: 20ms}\n"
			"        calls:\n          - {db: %s-db, query: \"INSERT INTO %s (id, payload) VALUES ($1, $2)\"}\n",
			nm, nm, table);
	}
	fputs("databases:\n", f);
	for (size_t j = 0; j < n_bg; j++)
		fprintf(f, "  %s-db: {system: postgresql, pool: 10}\n", names[j]);
	fputs("traffic:\n", f);
	for (size_t j = 0; j < n_bg; j++)
		fprintf(f, "  - entry: %s \"GET /%s/{id}\"\n    rate: %.3f/s\n", names[j], names[j],
			rate < 0.001 ? 0.001 : rate);
	free(names);
	if (fclose(f) != 0) {
		free(text);
		return sp_oom(p);
	}
	struct yt_node *gen = NULL;
	char where[300];
	snprintf(where, sizeof(where), "%s (scale.services)", p->file);
	int rc = yt_load(tree, where, text, len, &gen, p->err);
	free(text);
	if (rc < 0)
		return rc;
	/* the first entry's look */
	const struct yt_node *first = traffic && traffic->kind == YT_SEQ && traffic->n ? traffic->items[0] : NULL;
	static const char *const copied[] = {"shape", "amplitude", "peak", "noise", "dimensions"};
	struct yt_node *gt = (struct yt_node *)yt_get(gen, "traffic");
	for (size_t j = 0; first && first->kind == YT_MAP && j < gt->n; j++) {
		struct yt_node *item = gt->items[j];
		for (size_t c = 0; c < sizeof(copied) / sizeof(copied[0]); c++) {
			const struct yt_node *k = yt_get_key(first, copied[c]);
			if (!k)
				continue;
			struct yt_node **items = fd_arena_array(tree, 2 * (item->n + 1), sizeof(*items));
			if (!items)
				return sp_oom(p);
			memcpy(items, item->items, 2 * item->n * sizeof(*items));
			items[2 * item->n] = (struct yt_node *)k;
			items[2 * item->n + 1] = (struct yt_node *)yt_get(first, copied[c]);
			item->items = items;
			item->n++;
		}
	}
	if (splice(tree, root, "services", yt_get(gen, "services")) < 0 ||
	    splice(tree, root, "databases", yt_get(gen, "databases")) < 0 ||
	    splice(tree, root, "traffic", gt) < 0)
		return sp_oom(p);
	return 0;
}

int sp_scale_prepare(struct sp *p, struct fd_arena *tree, struct yt_node *root)
{
	static const char *const keys[] = {"services", "instances", "rate", "users", "paths", "customers",
					   "churn", NULL};
	const struct yt_node *node = yt_get(root, "scale");
	int rc;
	if (node && !yt_is_null(node)) {
		if ((rc = sp_map(p, node, "scale", keys)) < 0)
			return rc;
		for (int k = 0; k < K_N; k++) {
			const struct yt_node *v = yt_get(node, knobs[k].name);
			const char *str, *why;
			uint64_t n;
			if (!v)
				continue;
			if ((rc = sp_string(p, v, knobs[k].name, &str)) < 0)
				return rc;
			if (parse_count(str, knobs[k].max, &n, &why) < 0)
				return sp_fail(p, v->pos, "scale.%s: '%s': %s", knobs[k].name, str, why);
			set_knob(&p->scale, k, n);
			p->scale_pos[k] = v->pos;
		}
		const struct yt_node *v = yt_get(node, "rate");
		if (v) {
			if ((rc = sp_rate(p, v, "rate", &p->scale.rate)) < 0)
				return rc;
			p->scale_pos[K_RATE] = v->pos;
		}
		if ((v = yt_get(node, "churn"))) {
			const char *str, *why;
			if ((rc = sp_string(p, v, "churn", &str)) < 0)
				return rc;
			if (fd_units_churn(str, &p->scale.churn, &why) < 0)
				return sp_fail(p, v->pos, "scale.churn: '%s': %s", str, why);
			p->scale_pos[K_CHURN] = v->pos;
		}
	}
	if (p->over) {
		/* the command line's knobs were checked as they were parsed;
		 * these checks are for knobs a recording's header gives back */
		for (int k = 0; k < K_N; k++)
			if (get_knob(p->over, k)) {
				set_knob(&p->scale, k, get_knob(p->over, k));
				p->scale_from_cli |= 1u << k;
				if (get_knob(p->over, k) > knobs[k].max)
					return knob_fail(p, k, "at most %llu", (unsigned long long)knobs[k].max);
			}
		if (p->over->rate > 0 && !isfinite(p->over->rate))
			return fd_error_set(p->err, FD_EINPUT, "rate (given on the command line): not a finite rate");
		if (p->over->churn > 3600)
			return fd_error_set(p->err, FD_EINPUT,
					    "churn (given on the command line): at most 360000%%/h");
		if (p->over->ramp_ns < 0 ||
		    (p->over->ramp_ns > 0 && !(p->over->rate > 0 && p->over->rate_from > 0 &&
					       isfinite(p->over->rate_from))))
			return fd_error_set(p->err, FD_EINPUT, "rate ramp (given on the command line): "
							       "needs a duration and two rates above 0");
		if (p->over->rate > 0) {
			p->scale.rate = p->over->rate;
			p->scale_from_cli |= 1u << K_RATE;
		}
		if (p->over->ramp_ns > 0) {
			p->scale.rate_from = p->over->rate_from;
			p->scale.ramp_ns = p->over->ramp_ns;
		}
		if (p->over->churn > 0) {
			p->scale.churn = p->over->churn;
			p->scale_from_cli |= 1u << K_CHURN;
		}
	}
	const struct yt_node *svcs = yt_get(root, "services");
	const struct yt_node *traffic = yt_get(root, "traffic");
	p->own_services = svcs && svcs->kind == YT_MAP ? svcs->n : 0;
	p->own_traffic = traffic && traffic->kind == YT_SEQ ? traffic->n : 0;
	if (!p->scale.services || !svcs || svcs->kind != YT_MAP || !p->own_traffic)
		return 0; /* nothing to add to, or the parser reports what is missing */
	if ((size_t)p->scale.services < p->own_services)
		return knob_fail(p, K_SERVICES, "the scenario has %zu services already (scale adds background "
						 "services; it removes none)",
				 p->own_services);
	if ((size_t)p->scale.services == p->own_services)
		return 0;
	return add_background(p, tree, root, (size_t)p->scale.services - p->own_services);
}

/* ---- the model, once resolved -------------------------------------------------- */

static void scale_breakers(struct fd_call *calls, size_t n, double c)
{
	for (size_t i = 0; i < n; i++) {
		if (calls[i].has_breaker) {
			long m = lround(calls[i].breaker.min_calls * c);
			calls[i].breaker.min_calls = m < 1 ? 1 : m > 1000000 ? 1000000 : (int)m;
		}
		scale_breakers(calls[i].on_miss, calls[i].n_on_miss, c);
	}
}

/* An instance index (of an event, an effect's scope, a blip) must exist
 * with the scaled instance count. */
static int check_index(struct sp *p, const struct fd_service *svc, int idx, struct fd_pos pos)
{
	if (!svc || idx < 0 || idx < svc->instances)
		return 0;
	char at[80];
	snprintf(at, sizeof(at), " (at %d:%d)", pos.line, pos.col);
	return knob_fail(p, K_INSTANCES, "the scenario names instance %d of '%s'%s, which %d instances do not have",
			 idx, svc->name, at, svc->instances);
}

static int check_event(struct sp *p, const struct fd_event *ev)
{
	int rc;
	if ((ev->kind == FD_EVENT_INSTANCE_LOSS || ev->kind == FD_EVENT_RESTART) &&
	    (rc = check_index(p, ev->service, ev->instance, ev->pos)) < 0)
		return rc;
	for (size_t i = 0; i < ev->n_effects; i++) {
		const struct fd_effect *x = &ev->effects[i];
		if (x->scope.instance >= 0 && (rc = check_index(p, x->target.service, x->scope.instance, x->pos)) < 0)
			return rc;
	}
	return 0;
}

/* The customer dimension every entry gets: values "cust-000001"..., weights
 * Zipf-like (1 / rank), so a few customers make most of the traffic. */
static int add_customers(struct sp *p, int n)
{
	struct fd_scenario *s = p->s;
	struct fd_dim_value *vals = fd_arena_array(p->arena, (size_t)n, sizeof(*vals));
	if (!vals)
		return sp_oom(p);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += 1.0 / (i + 1);
	double acc = 0;
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cust-%06d", i + 1);
		if (!(vals[i].name = fd_arena_strdup(p->arena, name)))
			return sp_oom(p);
		vals[i].weight = 1.0 / (i + 1) / sum;
		acc += vals[i].weight;
		vals[i].cum = acc;
	}
	for (size_t t = 0; t < s->n_traffic; t++) {
		struct fd_traffic *tr = &s->traffic[t];
		double combos = n;
		for (size_t d = 0; d < tr->n_dimensions; d++) {
			combos *= (double)tr->dimensions[d].n_values;
			if (!strcmp(tr->dimensions[d].name, "customer"))
				return knob_fail(p, K_CUSTOMERS, "the traffic entry at %d:%d has a 'customer' dimension already",
						 tr->pos.line, tr->pos.col);
		}
		if (tr->n_dimensions >= MAX_DIMENSIONS)
			return knob_fail(p, K_CUSTOMERS, "the traffic entry at %d:%d has %d dimensions already, the most "
							  "an entry may have",
					 tr->pos.line, tr->pos.col, MAX_DIMENSIONS);
		if (combos > MAX_COMBOS)
			return knob_fail(p, K_CUSTOMERS, "with the dimensions of the traffic entry at %d:%d that makes "
							  "%.0f combinations, more than %.0f",
					 tr->pos.line, tr->pos.col, combos, MAX_COMBOS);
		struct fd_dimension *dims = fd_arena_array(p->arena, tr->n_dimensions + 1, sizeof(*dims));
		if (!dims)
			return sp_oom(p);
		if (tr->n_dimensions)
			memcpy(dims, tr->dimensions, tr->n_dimensions * sizeof(*dims));
		dims[tr->n_dimensions] = (struct fd_dimension){.name = "customer", .values = vals, .n_values = (size_t)n};
		tr->dimensions = dims;
		tr->n_dimensions++;
	}
	return 0;
}

/* Instance counts, and each instance's share of capacity (the file's
 * header comment); r is the traffic's factor. */
static int scale_capacity(struct sp *p, double r)
{
	struct fd_scenario *s = p->s;
	const struct fd_scenario_scale *k = &p->scale;
	int rc;
	/* instance counts, then what names instances */
	int *orig = calloc(s->n_services ? s->n_services : 1, sizeof(int));
	if (!orig)
		return sp_oom(p);
	for (size_t i = 0; i < s->n_services; i++) {
		struct fd_service *svc = &s->services[i];
		orig[i] = svc->instances > 0 ? svc->instances : 1;
		if (k->instances)
			svc->instances = k->instances;
		double c = r * orig[i] / svc->instances;
		svc->capacity = c;
		svc->resources.cpu_cores = fmax(0.01, svc->resources.cpu_cores * c);
		for (size_t e = 0; e < svc->n_endpoints; e++)
			scale_breakers(svc->endpoints[e].calls, svc->endpoints[e].n_calls, c);
	}
	for (size_t i = 0; i < s->n_noise_crons; i++)
		scale_breakers(s->noise_crons[i].calls, s->noise_crons[i].n_calls, s->noise_crons[i].service->capacity);
	for (size_t q = 0; q < s->n_queues; q++)
		if (s->queues[q].consumer)
			s->queues[q].throughput *= s->queues[q].consumer->capacity;
	/* scale_out counts in proportion, in time order; each still adds */
	int *cur = calloc(s->n_services ? s->n_services : 1, sizeof(int));
	if (!cur) {
		free(orig);
		return sp_oom(p);
	}
	for (size_t i = 0; i < s->n_services; i++)
		cur[i] = s->services[i].instances;
	for (size_t e = 0; e < s->n_events; e++) {
		struct fd_event *ev = &s->events[e];
		if (ev->kind != FD_EVENT_SCALE_OUT || !ev->service)
			continue;
		int id = ev->service->id;
		long n = lround(ceil((double)ev->instances * ev->service->instances / orig[id]));
		ev->instances = n > cur[id] ? (int)n : cur[id] + 1;
		cur[id] = ev->instances;
	}
	for (size_t a = 0; a < s->n_actions; a++) {
		struct fd_event *ev = &s->actions[a].event;
		if (ev->kind != FD_EVENT_SCALE_OUT || !ev->service)
			continue;
		int id = ev->service->id;
		long n = lround(ceil((double)ev->instances * ev->service->instances / orig[id]));
		ev->instances = n > ev->service->instances ? (int)n : ev->service->instances + 1;
	}
	free(cur);
	free(orig);
	if (k->instances) {
		for (size_t e = 0; e < s->n_events; e++)
			if ((rc = check_event(p, &s->events[e])) < 0)
				return rc;
		for (size_t a = 0; a < s->n_actions; a++)
			if ((rc = check_event(p, &s->actions[a].event)) < 0)
				return rc;
		for (size_t b = 0; b < s->n_noise_blips; b++)
			if ((rc = check_index(p, s->noise_blips[b].service, s->noise_blips[b].instance,
					      s->noise_blips[b].pos)) < 0)
				return rc;
	}
	return 0;
}

int sp_scale_apply(struct sp *p)
{
	struct fd_scenario *s = p->s;
	const struct fd_scenario_scale *k = &p->scale;
	int rc;
	s->scale = *k;
	s->n_own_services = p->own_services && p->own_services <= s->n_services ? p->own_services : s->n_services;
	for (size_t t = p->own_traffic; t < s->n_traffic; t++)
		s->traffic[t].background = true;

	double r = 1, cap = 1;
	if (k->rate > 0) {
		double total = 0;
		for (size_t t = 0; t < s->n_traffic; t++)
			total += s->traffic[t].rate;
		r = k->rate / total;
		for (size_t t = 0; t < s->n_traffic; t++)
			s->traffic[t].rate *= r;
		/* the entries hold the rate after the ramp (the simulation
		 * scales them along it); the instances are sized for the
		 * ramp's highest rate, so that none is busier than written
		 * anywhere on it */
		cap = k->ramp_ns > 0 && k->rate_from > k->rate ? k->rate_from / total : r;
	}
	if ((k->rate > 0 || k->instances) && (rc = scale_capacity(p, cap)) < 0)
		return rc;
	if (k->customers && (rc = add_customers(p, k->customers)) < 0)
		return rc;
	return 0;
}
