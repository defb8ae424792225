/*
 * The recording header of a scenario (header.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fd_config.h"
#include "generator/header.h"

int fd_scenario_header_init(struct fd_scenario_header *h, const struct fd_scenario *sc,
			    uint64_t seed, int64_t start, int64_t end, const char *text)
{
	memset(h, 0, sizeof(*h));
	firedrill__v1__recording_header__init(&h->header);
	firedrill__v1__answer_key__init(&h->key);
	h->header.generator = "firedrill " FD_VERSION;
	h->header.source_kind = "scenario";
	h->header.scenario_name = (char *)sc->name;
	h->header.scenario_title = (char *)(sc->title ? sc->title : "");
	h->header.seed = seed;
	h->header.start_time_unix_nano = (uint64_t)start;
	h->header.end_time_unix_nano = (uint64_t)end;
	h->header.scenario_source = (char *)(text ? text : "");
	const struct fd_answer *a = &sc->answer;
	Firedrill__V1__AnswerKey *k = &h->key;
	k->prompt = (char *)(a->prompt ? a->prompt : "");
	k->root_cause = (char *)(a->root_cause ? a->root_cause : "");
	k->trigger = (char *)(a->trigger ? a->trigger : "");
	k->mitigation = (char *)(a->mitigation ? a->mitigation : "");
	k->verification = (char *)(a->verification ? a->verification : "");
	k->n_investigation = a->n_investigation;
	k->investigation = (char **)a->investigation;
	k->n_red_herrings = a->n_red_herrings;
	k->red_herrings = (char **)a->red_herrings;
	k->n_evidence = a->n_evidence;
	k->evidence = (char **)a->evidence;
	k->n_hints = sc->n_hints;
	k->hints = (char **)sc->hints;
	if (sc->n_actions) {
		h->actions = calloc(sc->n_actions, sizeof(*h->actions));
		h->action_ptrs = calloc(sc->n_actions, sizeof(*h->action_ptrs));
		if (!h->actions || !h->action_ptrs) {
			fd_scenario_header_finish(h);
			return -1;
		}
		for (size_t i = 0; i < sc->n_actions; i++) {
			const struct fd_action *x = &sc->actions[i];
			Firedrill__V1__DrillAction *p = &h->actions[i];
			firedrill__v1__drill_action__init(p);
			p->name = (char *)x->name;
			p->title = (char *)x->title;
			p->kind = (char *)x->event.kind_name;
			p->verdict = (char *)fd_verdict_name(x->verdict);
			p->why = (char *)(x->why ? x->why : "");
			h->action_ptrs[i] = p;
		}
		k->n_actions = sc->n_actions;
		k->actions = h->action_ptrs;
	}
	h->header.answer_key = k;
	return 0;
}

void fd_scenario_header_set_scale(struct fd_scenario_header *h, const struct fd_scenario_scale *over)
{
	if (!fd_scenario_scale_any(over))
		return;
	Firedrill__V1__ScenarioScale *m = &h->scale;
	firedrill__v1__scenario_scale__init(m);
	m->services = (uint32_t)over->services;
	m->instances = (uint32_t)over->instances;
	m->rate = over->rate;
	m->users = over->users;
	m->paths = over->paths;
	m->customers = (uint32_t)over->customers;
	m->churn = over->churn;
	if (over->ramp_ns > 0) {
		m->rate_from = over->rate_from;
		m->ramp_nano = (uint64_t)over->ramp_ns;
	}
	h->header.scale = m;
}

void fd_scenario_header_scale(const Firedrill__V1__RecordingHeader *hdr, struct fd_scenario_scale *out)
{
	memset(out, 0, sizeof(*out));
	const Firedrill__V1__ScenarioScale *m = hdr->scale;
	if (!m)
		return;
	/* kept within int; the parser checks each knob against its bounds
	 * (fd_scenario_parse_scaled), as it does the command line's */
	out->services = m->services <= INT_MAX ? (int)m->services : INT_MAX;
	out->instances = m->instances <= INT_MAX ? (int)m->instances : INT_MAX;
	out->rate = m->rate;
	out->users = m->users;
	out->paths = m->paths;
	out->customers = m->customers <= INT_MAX ? (int)m->customers : INT_MAX;
	out->churn = m->churn;
	/* a ramp too long for int64 is refused by the parser as negative */
	out->rate_from = m->rate_from;
	out->ramp_ns = m->ramp_nano <= INT64_MAX ? (int64_t)m->ramp_nano : -1;
}

int fd_scenario_header_set_log(struct fd_scenario_header *h, const struct fd_action *const *actions,
			       const int64_t *at, const int64_t *done, size_t n)
{
	free(h->taken);
	free(h->taken_ptrs);
	h->taken = calloc(n ? n : 1, sizeof(*h->taken));
	h->taken_ptrs = calloc(n ? n : 1, sizeof(*h->taken_ptrs));
	if (!h->taken || !h->taken_ptrs)
		return -1;
	firedrill__v1__drill_log__init(&h->log);
	for (size_t i = 0; i < n; i++) {
		Firedrill__V1__ActionTaken *t = &h->taken[i];
		firedrill__v1__action_taken__init(t);
		t->name = (char *)actions[i]->name;
		t->time_unix_nano = (uint64_t)at[i];
		t->done_time_unix_nano = (uint64_t)done[i];
		h->taken_ptrs[i] = t;
	}
	h->log.n_taken = n;
	h->log.taken = h->taken_ptrs;
	h->header.drill = &h->log;
	return 0;
}

void fd_scenario_header_finish(struct fd_scenario_header *h)
{
	free(h->actions);
	free(h->action_ptrs);
	free(h->taken);
	free(h->taken_ptrs);
	h->actions = NULL;
	h->action_ptrs = NULL;
	h->taken = NULL;
	h->taken_ptrs = NULL;
}
