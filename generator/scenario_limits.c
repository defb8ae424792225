/*
 * The work one request may cause, bounded before anything is simulated.
 *
 * A scenario with no cycle can still ask for unbounded work: a chain of
 * four services each calling the next with `repeat: 1000` makes 10^12 spans
 * per request, a fan-out of two calls per level thirty levels deep 2^31, and
 * generate would grow until memory runs out. So every endpoint's worst case
 * is computed over the call graph (which check_cycles has shown acyclic),
 * memoized per endpoint, counting what the simulation emits per call:
 *
 *   endpoint  1 server span + its calls
 *   call to an endpoint   (1 + retries) x (1 client span + the callee's)
 *   call to a dependency  (1 + retries) x 1 client span
 *   database call         2 spans (pool acquire and query)
 *   cache call            1 span + its on-miss calls
 *   queue call            1 producer span (the consumer's handler is a
 *                         request of its own, bounded the same way)
 *
 * each times its `repeat`, every probability taken as 1. Depth is the
 * number of endpoints down the longest chain: the simulation runs no calls
 * below FD_SCENARIO_MAX_DEPTH, so a deeper chain would be cut silently.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "generator/scenario_internal.h"

struct work {
	struct sp *p;
	uint64_t *spans;  /* per endpoint id; 0 = not computed yet */
	int *depth;       /* per endpoint id */
};

/* Sums that stop at a ceiling above the limit, so nothing overflows. */
#define CEIL ((uint64_t)FD_SCENARIO_MAX_SPANS * 1000)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b > CEIL || a + b < a ? CEIL : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > CEIL / b ? CEIL : a * b;
}

static int endpoint_work(struct work *w, const struct fd_endpoint *ep);

/* The spans and depth of a list of calls; *deepest gets the largest callee
 * depth. */
static int calls_work(struct work *w, const struct fd_call *calls, size_t n, uint64_t *spans,
		      int *deepest)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		const struct fd_call *c = &calls[i];
		uint64_t one = 0;
		const struct fd_retry *retry = c->has_retry ? &c->retry : NULL;
		switch (c->kind) {
		case FD_CALL_ENDPOINT:
			if ((rc = endpoint_work(w, c->endpoint)) < 0)
				return rc;
			if (!retry)
				retry = &c->endpoint->retry;
			one = sat_add(1, w->spans[c->endpoint->id]);
			if (w->depth[c->endpoint->id] > *deepest)
				*deepest = w->depth[c->endpoint->id];
			break;
		case FD_CALL_DEPENDENCY:
			one = 1;
			break;
		case FD_CALL_DB:
			one = 2;
			break;
		case FD_CALL_CACHE:
			one = 1;
			if (c->n_on_miss && (rc = calls_work(w, c->on_miss, c->n_on_miss, &one, deepest)) < 0)
				return rc;
			break;
		case FD_CALL_QUEUE:
			one = 1;
			break;
		}
		if (retry && retry->max > 0)
			one = sat_mul(one, (uint64_t)retry->max + 1);
		one = sat_mul(one, (uint64_t)(c->repeat > 0 ? c->repeat : 1));
		uint64_t before = *spans;
		*spans = sat_add(*spans, one);
		if (*spans > FD_SCENARIO_MAX_SPANS && before <= FD_SCENARIO_MAX_SPANS) {
			char many[32];
			if (*spans >= CEIL)
				snprintf(many, sizeof(many), "more than %llu", (unsigned long long)CEIL);
			else
				snprintf(many, sizeof(many), "up to %llu", (unsigned long long)*spans);
			return sp_fail(w->p, c->pos,
				       "this call brings one request to %s spans, over the limit of %d "
				       "(calls x repeat x retries down the call graph): lower repeat or "
				       "retries here or below",
				       many, FD_SCENARIO_MAX_SPANS);
		}
	}
	return 0;
}

static int endpoint_work(struct work *w, const struct fd_endpoint *ep)
{
	if (w->spans[ep->id])
		return 0;
	uint64_t spans = 1;
	int deepest = 0;
	int rc = calls_work(w, ep->calls, ep->n_calls, &spans, &deepest);
	if (rc < 0)
		return rc;
	/* An endpoint with calls needs room below it for them, even when none
	 * of them is to an endpoint (the simulation stops all calls at the
	 * limit). */
	int depth = 1 + (deepest ? deepest : ep->n_calls ? 1 : 0);
	if (depth > FD_SCENARIO_MAX_DEPTH)
		return sp_fail(w->p, ep->pos,
			       "%s \"%s\": its chain of calls is %d levels deep, over the limit of %d",
			       ep->service->name, ep->key, depth, FD_SCENARIO_MAX_DEPTH);
	w->spans[ep->id] = spans;
	w->depth[ep->id] = depth;
	return 0;
}

int sp_check_work(struct sp *p)
{
	struct fd_scenario *s = p->s;
	size_t n = s->n_endpoints ? s->n_endpoints : 1;
	struct work w = {.p = p, .spans = calloc(n, sizeof(*w.spans)), .depth = calloc(n, sizeof(*w.depth))};
	int rc = 0;
	if (!w.spans || !w.depth)
		rc = sp_oom(p);
	for (size_t i = 0; i < s->n_services && rc == 0; i++)
		for (size_t j = 0; j < s->services[i].n_endpoints && rc == 0; j++)
			rc = endpoint_work(&w, &s->services[i].endpoints[j]);
	free(w.spans);
	free(w.depth);
	return rc;
}
