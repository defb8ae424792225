/*
 * Scenario parsing, the load on the system: traffic (entry endpoints,
 * rates, dimensions, bursts) and the background noise (periodic logs,
 * blips, cron jobs) that every production system has.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/suggest.h"
#include "common/units.h"
#include "generator/scenario_internal.h"

#define MAX_DIMENSIONS 8

/* ---- traffic ------------------------------------------------------------------ */

static int parse_dimensions(struct sp *p, struct fd_traffic *tr, const struct yt_node *node)
{
	int rc;
	if (node->kind != YT_MAP)
		return sp_fail(p, node->pos, "dimensions: expected a mapping such as {region: {eu: 0.6, us: 0.4}}, got %s",
			       yt_kind_name(node));
	if (node->n > MAX_DIMENSIONS)
		return sp_fail(p, node->items[2 * MAX_DIMENSIONS]->pos,
			       "dimensions: at most %d per traffic entry", MAX_DIMENSIONS);
	tr->dimensions = fd_arena_array(p->arena, node->n, sizeof(*tr->dimensions));
	if (node->n && !tr->dimensions)
		return sp_oom(p);
	tr->n_dimensions = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_dimension *d = &tr->dimensions[i];
		const struct yt_node *k = node->items[2 * i], *vals = node->items[2 * i + 1];
		if ((rc = sp_name(p, k, "dimension", &d->name)) < 0)
			return rc;
		if (vals->kind != YT_MAP || vals->n == 0)
			return sp_fail(p, vals->pos, "dimension '%s': expected a mapping of values to weights such as {eu: 0.6, us: 0.4}",
				       d->name);
		d->values = fd_arena_array(p->arena, vals->n, sizeof(*d->values));
		if (!d->values)
			return sp_oom(p);
		d->n_values = vals->n;
		double sum = 0;
		for (size_t j = 0; j < vals->n; j++) {
			const struct yt_node *vk = vals->items[2 * j], *w = vals->items[2 * j + 1];
			if ((rc = sp_name(p, vk, "dimension value", &d->values[j].name)) < 0 ||
			    (rc = sp_number(p, w, d->values[j].name, &d->values[j].weight)) < 0)
				return rc;
			sum += d->values[j].weight;
		}
		if (!(sum > 0))
			return sp_fail(p, vals->pos, "dimension '%s': the weights add up to 0", d->name);
		/* weights are relative: {a: 3, b: 1} means 75% / 25% */
		double acc = 0;
		for (size_t j = 0; j < vals->n; j++) {
			d->values[j].weight /= sum;
			acc += d->values[j].weight;
			d->values[j].cum = acc;
		}
	}
	return 0;
}

static int parse_bursts(struct sp *p, struct fd_traffic *tr, const struct yt_node *node)
{
	static const char *const keys[] = {"at", "duration", "multiplier", NULL};
	int rc;
	if ((rc = sp_seq(p, node, "bursts")) < 0)
		return rc;
	tr->bursts = fd_arena_array(p->arena, node->n, sizeof(*tr->bursts));
	if (node->n && !tr->bursts)
		return sp_oom(p);
	tr->n_bursts = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_burst *b = &tr->bursts[i];
		const struct yt_node *item = node->items[i], *v;
		b->duration_ns = 60 * SP_NS;
		if ((rc = sp_map(p, item, "burst", keys)) < 0 ||
		    (rc = sp_need(p, item, "at", "burst", &v)) < 0 ||
		    (rc = sp_offset(p, v, "at", &b->at_ns)) < 0)
			return rc;
		if (b->at_ns >= p->s->duration_ns) {
			char a[32], d[32];
			return sp_fail(p, v->pos, "at: %s is not before the end of the scenario (%s)",
				       sp_fmt_offset(b->at_ns, a, sizeof(a)),
				       sp_fmt_offset(p->s->duration_ns, d, sizeof(d)));
		}
		if ((rc = sp_need(p, item, "multiplier", "burst", &v)) < 0 ||
		    (rc = sp_mult(p, v, "multiplier", &b->multiplier)) < 0)
			return rc;
		if ((v = yt_get(item, "duration"))) {
			if ((rc = sp_duration(p, v, "duration", &b->duration_ns)) < 0)
				return rc;
			if (b->duration_ns == 0)
				return sp_fail(p, v->pos, "duration: must be greater than 0");
		}
	}
	return 0;
}

int sp_parse_traffic(struct sp *p, struct fd_traffic *tr, const struct yt_node *node)
{
	static const char *const keys[] = {"entry", "rate", "shape", "amplitude", "peak",
					   "noise", "bursts", "dimensions", "payload", NULL};
	const struct yt_node *v;
	int rc;
	tr->pos = node->pos;
	tr->shape = FD_SHAPE_FLAT;
	tr->amplitude = 0.3;
	tr->peak_ns = 15 * 3600 * SP_NS;
	tr->noise = 0.05;
	if ((rc = sp_map(p, node, "traffic entry", keys)) < 0 ||
	    (rc = sp_need(p, node, "entry", "traffic entry", &v)) < 0 ||
	    (rc = sp_endpoint_ref(p, v, "entry", &tr->entry)) < 0 ||
	    (rc = sp_need(p, node, "rate", "traffic entry", &v)) < 0 ||
	    (rc = sp_rate(p, v, "rate", &tr->rate)) < 0)
		return rc;
	if ((v = yt_get(node, "shape"))) {
		const char *shape;
		if ((rc = sp_name(p, v, "shape", &shape)) < 0)
			return rc;
		if (strcmp(shape, "flat") == 0)
			tr->shape = FD_SHAPE_FLAT;
		else if (strcmp(shape, "daily") == 0)
			tr->shape = FD_SHAPE_DAILY;
		else
			return sp_fail(p, v->pos, "shape: '%s': expected flat or daily", shape);
	}
	const struct yt_node *amp = yt_get(node, "amplitude"), *peak = yt_get(node, "peak");
	if (tr->shape != FD_SHAPE_DAILY && (amp || peak))
		return sp_fail(p, (amp ? amp : peak)->pos, "%s: applies only to shape: daily",
			       amp ? "amplitude" : "peak");
	if (amp && (rc = sp_fraction(p, amp, "amplitude", &tr->amplitude)) < 0)
		return rc;
	if (peak) {
		if ((rc = sp_offset(p, peak, "peak", &tr->peak_ns)) < 0)
			return rc;
		if (tr->peak_ns >= 24 * 3600 * SP_NS)
			return sp_fail(p, peak->pos, "peak: '%s': a time of day is below 24:00", peak->str);
	}
	if ((v = yt_get(node, "noise")) && (rc = sp_fraction(p, v, "noise", &tr->noise)) < 0)
		return rc;
	if ((v = yt_get(node, "bursts")) && !yt_is_null(v) && (rc = parse_bursts(p, tr, v)) < 0)
		return rc;
	if ((v = yt_get(node, "dimensions")) && !yt_is_null(v) && (rc = parse_dimensions(p, tr, v)) < 0)
		return rc;
	if ((v = yt_get(node, "payload")) && (rc = sp_dist(p, v, "payload", true, &tr->payload)) < 0)
		return rc;
	return 0;
}

/* ---- noise -------------------------------------------------------------------- */

static int service_key(struct sp *p, const struct yt_node *map, const char *what,
		       struct fd_service **out)
{
	const struct yt_node *v;
	const char *name;
	int rc;
	if ((rc = sp_need(p, map, "service", what, &v)) < 0 ||
	    (rc = sp_name(p, v, "service", &name)) < 0)
		return rc;
	return sp_find_service(p, name, v->pos, out);
}

static int parse_noise_logs(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"service", "severity", "message", "rate", "at", "duration",
					   NULL};
	static const char *const sev[] = {"debug", "info", "warn", "error"};
	struct fd_scenario *s = p->s;
	int rc;
	if ((rc = sp_seq(p, node, "logs")) < 0)
		return rc;
	s->noise_logs = fd_arena_array(p->arena, node->n, sizeof(*s->noise_logs));
	if (node->n && !s->noise_logs)
		return sp_oom(p);
	s->n_noise_logs = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_noise_log *l = &s->noise_logs[i];
		const struct yt_node *item = node->items[i], *v;
		l->pos = item->pos;
		l->severity = FD_SEV_WARN;
		if ((rc = sp_map(p, item, "noise log", keys)) < 0 ||
		    (rc = service_key(p, item, "noise log", &l->service)) < 0 ||
		    (rc = sp_need(p, item, "message", "noise log", &v)) < 0 ||
		    (rc = sp_string(p, v, "message", &l->message)) < 0 ||
		    (rc = sp_need(p, item, "rate", "noise log", &v)) < 0 ||
		    (rc = sp_rate(p, v, "rate", &l->rate)) < 0)
			return rc;
		if ((v = yt_get(item, "severity"))) {
			const char *name;
			size_t j;
			if ((rc = sp_name(p, v, "severity", &name)) < 0)
				return rc;
			for (j = 0; j < 4 && strcmp(name, sev[j]) != 0; j++)
				;
			if (j == 4)
				return sp_fail(p, v->pos, "severity: '%s': expected debug, info, warn or error",
					       name);
			l->severity = (enum fd_severity)j;
		}
		/* A burst of lines (a log flood) rather than all day. */
		if ((v = yt_get(item, "at"))) {
			char a[32], d[32];
			if ((rc = sp_offset(p, v, "at", &l->at_ns)) < 0)
				return rc;
			if (l->at_ns >= s->duration_ns)
				return sp_fail(p, v->pos, "%s is not before the end of the scenario (%s)",
					       sp_fmt_offset(l->at_ns, a, sizeof(a)),
					       sp_fmt_offset(s->duration_ns, d, sizeof(d)));
		}
		if ((v = yt_get(item, "duration"))) {
			if ((rc = sp_duration(p, v, "duration", &l->duration_ns)) < 0)
				return rc;
			if (l->duration_ns == 0)
				return sp_fail(p, v->pos, "duration: must be greater than 0");
		}
	}
	return 0;
}

static int instance_index(struct sp *p, const struct yt_node *v, const struct fd_service *svc,
			  int *out)
{
	int rc = sp_int(p, v, "instance", 0, 999, out);
	if (rc == 0 && *out >= svc->instances)
		return sp_fail(p, v->pos, "instance: %d, but service '%s' has %d instance%s (0 to %d)",
			       *out, svc->name, svc->instances, svc->instances == 1 ? "" : "s",
			       svc->instances - 1);
	return rc;
}

static int check_in_time(struct sp *p, const struct yt_node *v, int64_t at)
{
	char a[32], d[32];
	if (at < p->s->duration_ns)
		return 0;
	return sp_fail(p, v->pos, "%s is not before the end of the scenario (%s)",
		       sp_fmt_offset(at, a, sizeof(a)), sp_fmt_offset(p->s->duration_ns, d, sizeof(d)));
}

static int parse_noise_blips(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"service", "instance", "at", "duration", "cpu", NULL};
	struct fd_scenario *s = p->s;
	int rc;
	if ((rc = sp_seq(p, node, "blips")) < 0)
		return rc;
	s->noise_blips = fd_arena_array(p->arena, node->n, sizeof(*s->noise_blips));
	if (node->n && !s->noise_blips)
		return sp_oom(p);
	s->n_noise_blips = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_noise_blip *b = &s->noise_blips[i];
		const struct yt_node *item = node->items[i], *v;
		b->pos = item->pos;
		b->instance = -1;
		b->duration_ns = 2 * 60 * SP_NS;
		b->cpu_mult = 3;
		if ((rc = sp_map(p, item, "blip", keys)) < 0 ||
		    (rc = service_key(p, item, "blip", &b->service)) < 0 ||
		    (rc = sp_need(p, item, "at", "blip", &v)) < 0 ||
		    (rc = sp_offset(p, v, "at", &b->at_ns)) < 0 || (rc = check_in_time(p, v, b->at_ns)) < 0)
			return rc;
		if ((v = yt_get(item, "instance")) && (rc = instance_index(p, v, b->service, &b->instance)) < 0)
			return rc;
		if ((v = yt_get(item, "duration")) && (rc = sp_duration(p, v, "duration", &b->duration_ns)) < 0)
			return rc;
		if ((v = yt_get(item, "cpu")) && (rc = sp_mult(p, v, "cpu", &b->cpu_mult)) < 0)
			return rc;
	}
	return 0;
}

static int parse_noise_crons(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"name", "service", "first", "every", "duration",
					   "cpu", "calls", NULL};
	struct fd_scenario *s = p->s;
	int rc;
	if ((rc = sp_seq(p, node, "cron")) < 0)
		return rc;
	s->noise_crons = fd_arena_array(p->arena, node->n, sizeof(*s->noise_crons));
	if (node->n && !s->noise_crons)
		return sp_oom(p);
	s->n_noise_crons = node->n;
	for (size_t i = 0; i < node->n; i++) {
		struct fd_noise_cron *c = &s->noise_crons[i];
		const struct yt_node *item = node->items[i], *v, *nm;
		c->pos = item->pos;
		c->duration_ns = 30 * SP_NS;
		c->cpu_mult = 2;
		if ((rc = sp_map(p, item, "cron job", keys)) < 0 ||
		    (rc = sp_need(p, item, "name", "cron job", &nm)) < 0 ||
		    (rc = sp_name(p, nm, "name", &c->name)) < 0 ||
		    (rc = service_key(p, item, "cron job", &c->service)) < 0 ||
		    (rc = sp_need(p, item, "every", "cron job", &v)) < 0 ||
		    (rc = sp_duration(p, v, "every", &c->every_ns)) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->noise_crons[j].name, c->name) == 0)
				return sp_fail(p, nm->pos, "name: a cron job '%s' is already defined at %d:%d",
					       c->name, s->noise_crons[j].pos.line,
					       s->noise_crons[j].pos.col);
		if (c->every_ns < SP_NS)
			return sp_fail(p, v->pos, "every: '%s': must be at least 1s", v->str);
		if ((v = yt_get(item, "first")) &&
		    ((rc = sp_offset(p, v, "first", &c->first_ns)) < 0 ||
		     (rc = check_in_time(p, v, c->first_ns)) < 0))
			return rc;
		if ((v = yt_get(item, "duration")) && (rc = sp_duration(p, v, "duration", &c->duration_ns)) < 0)
			return rc;
		if ((v = yt_get(item, "cpu")) && (rc = sp_mult(p, v, "cpu", &c->cpu_mult)) < 0)
			return rc;
		if ((v = yt_get(item, "calls")) &&
		    (rc = sp_parse_calls(p, v, "calls", c->service, 0, &c->calls, &c->n_calls)) < 0)
			return rc;
	}
	return 0;
}

int sp_parse_noise(struct sp *p, const struct yt_node *node)
{
	static const char *const keys[] = {"logs", "blips", "cron", NULL};
	const struct yt_node *v;
	int rc;
	if ((rc = sp_map(p, node, "noise", keys)) < 0)
		return rc;
	if ((v = yt_get(node, "logs")) && !yt_is_null(v) && (rc = parse_noise_logs(p, v)) < 0)
		return rc;
	if ((v = yt_get(node, "blips")) && !yt_is_null(v) && (rc = parse_noise_blips(p, v)) < 0)
		return rc;
	if ((v = yt_get(node, "cron")) && !yt_is_null(v) && (rc = parse_noise_crons(p, v)) < 0)
		return rc;
	return 0;
}
