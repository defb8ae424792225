/*
 * The live drill (drill.h): the simulation stepped against a clock, records
 * fanned out to the recording (scenario time) and the sinks (shifted to
 * now), actions taken from the control API's thread, and the figures the
 * console charts.
 *
 * Locking: `lock` guards what the control API reads or writes — the clock
 * (processed, inflight), the action log, the figures, the stop flag. The
 * simulation, the recording and the sinks belong to the thread in
 * fd_drill_run alone; an action taken from the API is queued under the lock
 * and handed to the simulation by that thread before its next step.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "drill/drill.h"
#include "replay/replay.h"
#include "drill/figures.h"
#include "drill/views.h"
#include "generator/header.h"
#include "generator/sim.h"
#include "otlp/wire.h"
#include "recording/writer.h"

#define NS 1000000000LL
#define WINDOW_NS (10 * NS)
#define KEEP_WINDOWS 2160          /* 6 h of 10 s windows for the charts */
#define TICK_NS (100 * 1000000LL)  /* how often the real-time loop steps */
#define BACKFILL_STEP_NS (60 * NS)
#define MAX_STEP_NS (60 * NS)      /* at high speed, never step further at once */
#define FLUSH_EVERY_NS NS          /* sinks flushed once a second of wall time */
#define BEFORE_NS (5 * 60 * NS)    /* an action's "before": the 5 min before it */
#define SETTLE_NS (2 * 60 * NS)    /* its "after" starts this long after its rollout */
#define AFTER_NS (5 * 60 * NS)     /* and lasts this long (less if cut short) */
#define FOREVER_NS (100LL * 365 * 86400 * NS)
#define HEADER_RESERVE 16384

struct taken {
	const struct fd_action *a;
	int64_t at, done;        /* scenario offsets, ns */
	bool handed;             /* given to the simulation */
	int before, after;       /* figure ranges */
};

struct fd_drill {
	const struct fd_scenario *sc;
	struct fd_drill_options o;
	struct fd_sim *sim;
	struct fd_recording_writer *rec;
	struct fd_scenario_header hdr;
	int64_t start;           /* unix ns of offset 0 */
	int64_t history;
	int64_t shift;           /* added to every time sent to the sinks */
	double speed;

	/* figures: one subject per entry endpoint */
	size_t n_subjects;
	size_t *subject_of;      /* [n_traffic] */
	char **subject_names;    /* [n_subjects] */

	pthread_mutex_t lock;
	pthread_cond_t wake;
	int64_t processed;       /* offset simulated up to (exclusive) */
	int64_t inflight;        /* the step under way ends here (>= processed) */
	int64_t behind, max_behind; /* wall ns the real-time part trails the clock by */
	struct taken taken[64];
	size_t n_taken;
	struct fd_figures *fig;
	bool stop, running, over;

	uint8_t *buf;            /* a record's payload, rebased */
	size_t cap;
	uint64_t records[FD_SIGNAL_COUNT], bytes[FD_SIGNAL_COUNT];
};

static int64_t wall_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* ---- the record fan-out -------------------------------------------------- */

static int emit(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	struct fd_drill *d = ctx;
	if (d->o.shards > 1 && fd_replay_shard_of(rec, d->o.shards) != d->o.shard)
		return 0; /* another process's part */
	if ((unsigned)rec->signal < FD_SIGNAL_COUNT) {
		d->records[rec->signal]++;
		d->bytes[rec->signal] += rec->payload_len;
	}
	if (d->rec && fd_recording_writer_add(d->rec, rec, err) < 0)
		return -err->code;
	if (!d->o.n_sinks)
		return 0;
	if (rec->payload_len > d->cap) {
		size_t cap = rec->payload_len * 2;
		uint8_t *b = realloc(d->buf, cap);
		if (!b)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf, rec->payload, rec->payload_len);
	if (fd_otlp_rebase(rec->signal, d->buf, rec->payload_len, d->shift) < 0)
		return fd_error_set(err, FD_ERUNTIME, "a simulated %s record does not decode as OTLP",
				    fd_signal_name(rec->signal));
	struct fd_record out = *rec;
	out.payload = d->buf;
	out.time_ns = rec->time_ns + d->shift;
	for (size_t i = 0; i < d->o.n_sinks; i++)
		if (fd_sink_write(d->o.sinks[i], &out, err) < 0)
			return -err->code;
	return 0;
}

/* The simulation's entry requests, into the figures. Called on the run
 * thread while it steps, which holds the lock then. */
static void observe(void *ctx, const struct fd_traffic *entry, int64_t start, int64_t duration_ns,
		    int status)
{
	struct fd_drill *d = ctx;
	fd_figures_add(d->fig, d->subject_of[entry->id], start, duration_ns, status >= 500);
}

/* ---- create / destroy --------------------------------------------------------- */

static int subjects(struct fd_drill *d)
{
	const struct fd_scenario *sc = d->sc;
	d->subject_of = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*d->subject_of));
	d->subject_names = calloc(sc->n_traffic ? sc->n_traffic : 1, sizeof(*d->subject_names));
	if (!d->subject_of || !d->subject_names)
		return -1;
	for (size_t i = 0; i < sc->n_traffic; i++) {
		const struct fd_endpoint *ep = sc->traffic[i].entry;
		size_t k;
		for (k = 0; k < i && sc->traffic[k].entry != ep; k++)
			;
		if (k < i) {
			d->subject_of[i] = d->subject_of[k];
			continue;
		}
		size_t n = strlen(ep->service->name) + strlen(ep->key) + 2;
		char *name = malloc(n);
		if (!name)
			return -1;
		snprintf(name, n, "%s %s", ep->service->name, ep->key);
		d->subject_of[i] = d->n_subjects;
		d->subject_names[d->n_subjects++] = name;
	}
	return 0;
}

int fd_drill_create(const struct fd_scenario *sc, const struct fd_drill_options *o,
		    struct fd_drill **out, struct fd_error *err)
{
	*out = NULL;
	if (o->speed < 0 || !(o->speed <= 1e6))
		return fd_error_set(err, FD_EINPUT, "--speed must be between 0 (max) and 1000000x");
	int64_t history = o->history_set ? o->history_ns : sc->join_at_ns;
	if (history < 0 || history > FOREVER_NS / 2)
		return fd_error_set(err, FD_EINPUT, "--history must be between 0 and 50 years");
	if (o->until_ns < 0 || o->until_ns > FOREVER_NS / 2)
		return fd_error_set(err, FD_EINPUT, "--until must be between 0 and 50 years");
	struct fd_drill *d = calloc(1, sizeof(*d));
	if (!d)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	d->sc = sc;
	d->o = *o;
	if (!d->o.clock)
		d->o.clock = &fd_clock_monotonic;
	d->history = history;
	d->speed = o->speed;
	d->running = true;

	struct fd_sim_options so = {
		.seed_set = o->seed_set, .seed = o->seed, .duration_ns = FOREVER_NS, .live = !o->scripted,
	};
	int rc;
	if ((rc = fd_sim_create(sc, &so, &d->sim, err)) < 0)
		goto fail;
	d->start = fd_sim_start(d->sim);
	if (subjects(d) < 0 || !(d->fig = fd_figures_create(d->n_subjects ? d->n_subjects : 1, WINDOW_NS,
							    KEEP_WINDOWS))) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	fd_sim_set_observer(d->sim, observe, d);
	int64_t wall = o->wall_now ? o->wall_now : wall_clock_ns();
	d->shift = wall - (d->start + history);

	/* The header says it is a drill from the start; fd_drill_run rewrites
	 * it in place at the end with the action log. */
	if ((rc = fd_scenario_header_init(&d->hdr, sc, fd_sim_seed(d->sim), d->start, d->start,
					  o->scenario_text)) < 0) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	d->hdr.header.source_kind = "drill";
	fd_scenario_header_set_scale(&d->hdr, o->scale);
	if (o->output) {
		struct fd_recording_writer_options wo = {.header_reserve = HEADER_RESERVE};
		if ((rc = fd_recording_writer_create(o->output, &d->hdr.header, &wo, &d->rec, err)) < 0)
			goto fail;
	}
	*out = d;
	return 0;
fail:
	fd_drill_destroy(d);
	return rc;
}

void fd_drill_destroy(struct fd_drill *d)
{
	if (!d)
		return;
	fd_recording_writer_destroy(d->rec);
	fd_sim_destroy(d->sim);
	fd_figures_destroy(d->fig);
	for (size_t i = 0; d->subject_names && i < d->n_subjects; i++)
		free(d->subject_names[i]);
	free(d->subject_names);
	free(d->subject_of);
	fd_scenario_header_finish(&d->hdr);
	free(d->buf);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* ---- actions ------------------------------------------------------------------------ */

/* When the action's change has fully arrived: its rollout, its effects'
 * delays and ramps, new instances' start-up. */
static int64_t done_after(const struct fd_action *a)
{
	const struct fd_event *ev = &a->event;
	int64_t d = ev->rollout_ns;
	for (size_t i = 0; i < ev->n_effects; i++) {
		int64_t e = ev->effects[i].start_ns + ev->effects[i].ramp_ns;
		if (e > d)
			d = e;
	}
	if ((ev->kind == FD_EVENT_SCALE_OUT || ev->kind == FD_EVENT_RESTART) && ev->service)
		d += ev->service->resources.startup_ns;
	return d;
}

/* Logs an action at offset at. Called with the lock held. */
static int log_action(struct fd_drill *d, const struct fd_action *a, int64_t at, struct fd_error *err)
{
	if (d->n_taken == sizeof(d->taken) / sizeof(d->taken[0]))
		return fd_error_set(err, FD_ERUNTIME, "too many actions");
	struct taken *t = &d->taken[d->n_taken];
	t->a = a;
	t->at = at;
	t->done = at + done_after(a);
	t->handed = false;
	t->before = fd_figures_range_open(d->fig, d->start + at - BEFORE_NS, d->start + at);
	t->after = fd_figures_range_open(d->fig, d->start + t->done + SETTLE_NS,
					 d->start + t->done + SETTLE_NS + AFTER_NS);
	if (t->before < 0 || t->after < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	d->n_taken++;
	return 0;
}

static const struct taken *find_taken(const struct fd_drill *d, const struct fd_action *a)
{
	for (size_t i = 0; i < d->n_taken; i++)
		if (d->taken[i].a == a)
			return &d->taken[i];
	return NULL;
}

int fd_drill_plan(struct fd_drill *d, const char *name, int64_t at_ns, struct fd_error *err)
{
	const struct fd_action *a = fd_scenario_find_action(d->sc, name);
	if (!a)
		return fd_error_set(err, FD_EINPUT, "action '%s': the scenario has no such action", name);
	if (find_taken(d, a))
		return fd_error_set(err, FD_EINPUT, "action '%s': planned twice", name);
	if (d->n_taken && at_ns < d->taken[d->n_taken - 1].at)
		return fd_error_set(err, FD_EINPUT, "action '%s': the log must be in time order", name);
	if (at_ns < FD_SIM_ACTION_LEAD_NS)
		return fd_error_set(err, FD_EINPUT, "action '%s': cannot take effect before offset %llds",
				    name, (long long)(FD_SIM_ACTION_LEAD_NS / NS));
	pthread_mutex_lock(&d->lock);
	int rc = log_action(d, a, at_ns, err);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int fd_drill_take(struct fd_drill *d, const char *name, int64_t *at_ns, struct fd_error *err)
{
	const struct fd_action *a = fd_scenario_find_action(d->sc, name);
	if (!a)
		return fd_error_set(err, FD_DRILL_UNKNOWN, "no action is named '%s'", name);
	pthread_mutex_lock(&d->lock);
	int rc = 0;
	if (d->over || d->stop) {
		rc = fd_error_set(err, FD_DRILL_OVER, "the drill is over");
	} else if (find_taken(d, a)) {
		rc = fd_error_set(err, FD_DRILL_TAKEN, "action '%s' was already taken", name);
	} else {
		/* the first moment the simulation can still change, to the
		 * second; never before an action already logged */
		/* during the backfill, the drill has not begun yet: an
		 * action counts from where the candidate joins */
		int64_t base = d->inflight > d->history ? d->inflight : d->history;
		int64_t at = base + FD_SIM_ACTION_LEAD_NS;
		at = (at + NS - 1) / NS * NS;
		if (d->n_taken && at < d->taken[d->n_taken - 1].at)
			at = d->taken[d->n_taken - 1].at;
		if ((rc = log_action(d, a, at, err)) == 0) {
			*at_ns = at;
			pthread_cond_signal(&d->wake);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void fd_drill_stop(struct fd_drill *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

bool fd_drill_running(struct fd_drill *d)
{
	pthread_mutex_lock(&d->lock);
	bool r = d->running;
	pthread_mutex_unlock(&d->lock);
	return r;
}

int64_t fd_drill_start(struct fd_drill *d)
{
	return d->start;
}

int64_t fd_drill_offset(struct fd_drill *d)
{
	pthread_mutex_lock(&d->lock);
	int64_t t = d->processed;
	pthread_mutex_unlock(&d->lock);
	return t;
}

int64_t fd_drill_behind(struct fd_drill *d, int64_t *max_ns)
{
	pthread_mutex_lock(&d->lock);
	int64_t b = d->behind;
	if (max_ns)
		*max_ns = d->max_behind;
	pthread_mutex_unlock(&d->lock);
	return b;
}

void fd_drill_counts(struct fd_drill *d, uint64_t records[FD_SIGNAL_COUNT], uint64_t bytes[FD_SIGNAL_COUNT])
{
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		records[i] = d->records[i];
		bytes[i] = d->bytes[i];
	}
}

/* ---- the run --------------------------------------------------------------------- */

static bool stop_asked(struct fd_drill *d)
{
	return d->stop || (d->o.stop && *d->o.stop);
}

/* Simulates up to offset `until`: hands new actions to the simulation,
 * steps it, closes the figures' windows. */
static int step(struct fd_drill *d, int64_t until, struct fd_error *err)
{
	pthread_mutex_lock(&d->lock);
	d->inflight = until;
	int rc = 0;
	for (size_t i = 0; i < d->n_taken && rc == 0; i++) {
		struct taken *t = &d->taken[i];
		if (!t->handed) {
			rc = fd_sim_take(d->sim, t->a, d->start + t->at, err);
			t->handed = true;
		}
	}
	/* the observer adds to the figures as the simulation steps */
	if (rc == 0)
		rc = fd_sim_advance(d->sim, d->start + until, emit, d, err);
	if (rc == 0) {
		d->processed = until;
		fd_figures_close_until(d->fig, d->start + until);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* How far the real-time part trails the clock, in wall time: a step that
 * ends short of real time by more than the tick means the simulation or a
 * sink did not keep up, which a soak test must be told (the stamps are
 * still "now", but fewer records per second go out than the rate says). */
static void note_behind(struct fd_drill *d, int64_t behind_scenario_ns)
{
	int64_t wall = (int64_t)((double)behind_scenario_ns / d->speed);
	if (wall <= TICK_NS)
		wall = 0;
	pthread_mutex_lock(&d->lock);
	d->behind = wall;
	if (wall > d->max_behind)
		d->max_behind = wall;
	pthread_mutex_unlock(&d->lock);
}

/* Waits until the monotonic time t, a stop or an action. */
static void wait_until(struct fd_drill *d, int64_t t)
{
	int64_t now = d->o.clock->now(d->o.clock->ctx);
	if (now >= t)
		return;
	if (d->o.clock != &fd_clock_monotonic) {
		d->o.clock->sleep_until(d->o.clock->ctx, t);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t abs = (int64_t)ts.tv_sec * NS + ts.tv_nsec + (t - now);
	ts.tv_sec = (time_t)(abs / NS);
	ts.tv_nsec = (long)(abs % NS);
	pthread_mutex_lock(&d->lock);
	if (!stop_asked(d))
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
}

static int flush_sinks(struct fd_drill *d, struct fd_error *err)
{
	for (size_t i = 0; i < d->o.n_sinks; i++)
		if (fd_sink_flush(d->o.sinks[i], err) < 0)
			return -err->code;
	return 0;
}

static int add_figure(struct fd_drill *d, const char *name, const char *subject, const char *phase,
		      double value, const char *unit, struct fd_error *err)
{
	Firedrill__V1__Figure f = FIREDRILL__V1__FIGURE__INIT;
	f.name = (char *)name;
	f.subject = (char *)subject;
	f.phase = (char *)phase;
	f.value = value;
	f.unit = (char *)unit;
	return fd_recording_writer_add_figure(d->rec, &f, err);
}

/* The recording's end: the simulation's answer-key figures, each action's
 * before and after, and the header again with the action log. */
static int finish_recording(struct fd_drill *d, int64_t end, struct fd_error *err)
{
	const struct fd_sim_figure *figs;
	size_t n = fd_sim_figures(d->sim, &figs);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_figure(d, figs[i].name, figs[i].subject, figs[i].phase, figs[i].value, figs[i].unit,
				err);
	for (size_t i = 0; i < d->n_taken && rc == 0; i++) {
		const struct taken *t = &d->taken[i];
		for (int k = 0; k < 2 && rc == 0; k++) {
			char phase[200];
			snprintf(phase, sizeof(phase), "%s %s", k ? "after" : "before", t->a->name);
			for (size_t s = 0; s < d->n_subjects && rc == 0; s++) {
				struct fd_range_figures r;
				fd_figures_range_result(d->fig, k ? t->after : t->before, s, &r);
				/* cut short by the next action: what follows is its */
				if (r.to <= r.from || !r.requests)
					continue;
				rc = add_figure(d, "requests", d->subject_names[s], phase, (double)r.requests, "1", err);
				if (rc == 0)
					rc = add_figure(d, "p50", d->subject_names[s], phase, r.p50, "s", err);
				if (rc == 0)
					rc = add_figure(d, "p95", d->subject_names[s], phase, r.p95, "s", err);
				if (rc == 0)
					rc = add_figure(d, "error_rate", d->subject_names[s], phase, r.error_rate,
							"ratio", err);
				if (rc == 0)
					rc = add_figure(d, "throughput", d->subject_names[s], phase, r.throughput,
							"1/s", err);
			}
		}
	}
	if (rc < 0)
		return rc;
	const struct fd_action *acts[64];
	int64_t at[64], done[64];
	for (size_t i = 0; i < d->n_taken; i++) {
		acts[i] = d->taken[i].a;
		at[i] = d->start + d->taken[i].at;
		done[i] = d->start + d->taken[i].done;
	}
	if (fd_scenario_header_set_log(&d->hdr, acts, at, done, d->n_taken) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	d->hdr.header.end_time_unix_nano = (uint64_t)(d->start + end);
	if ((rc = fd_recording_writer_set_header(d->rec, &d->hdr.header, err)) < 0)
		return rc;
	(void)end;
	return fd_recording_writer_finish(d->rec, err);
}

int fd_drill_run(struct fd_drill *d, struct fd_error *err)
{
	int rc = 0;
	int64_t until = d->o.until_ns;
	/* backfill: as fast as it goes, in steps, so a stop is heard */
	int64_t t = 0;
	while (rc == 0 && t < d->history && !stop_asked(d) && !(until && t >= until)) {
		int64_t next = t + BACKFILL_STEP_NS < d->history ? t + BACKFILL_STEP_NS : d->history;
		if (until && next > until)
			next = until;
		rc = step(d, next, err);
		t = next;
	}
	int64_t wall0 = d->o.clock->now(d->o.clock->ctx);
	int64_t last_flush = wall0;
	if (rc == 0)
		rc = flush_sinks(d, err);
	while (rc == 0 && !stop_asked(d) && !(until && t >= until)) {
		int64_t now = d->o.clock->now(d->o.clock->ctx);
		int64_t target;
		if (d->speed > 0)
			target = d->history + (int64_t)((double)(now - wall0) * d->speed);
		else
			target = t + MAX_STEP_NS;
		if (target > t + MAX_STEP_NS)
			target = t + MAX_STEP_NS;
		if (until && target > until)
			target = until;
		if (target > t) {
			rc = step(d, target, err);
			t = target;
		}
		if (rc == 0 && now - last_flush >= FLUSH_EVERY_NS) {
			rc = flush_sinks(d, err);
			last_flush = now;
		}
		if (rc == 0 && d->speed > 0) {
			/* the next tick, or sooner when this step was short of real time */
			int64_t behind = d->history + (int64_t)((double)(d->o.clock->now(d->o.clock->ctx) - wall0) * d->speed) - t;
			note_behind(d, behind);
			if (behind < (int64_t)(TICK_NS * d->speed))
				wait_until(d, now + TICK_NS);
		}
	}
	pthread_mutex_lock(&d->lock);
	d->over = true;
	pthread_mutex_unlock(&d->lock);
	/* the end: what is left of the requests under way, the last scrape */
	if (rc == 0)
		rc = fd_sim_finish(d->sim, d->start + t, emit, d, err);
	if (rc == 0)
		rc = flush_sinks(d, err);
	if (rc == 0 && d->rec)
		rc = finish_recording(d, t, err);
	pthread_mutex_lock(&d->lock);
	d->running = false;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* ---- JSON views (views.h) --------------------------------------------------------- */

void fd_drill_scenario_json(struct fd_drill *d, FILE *out)
{
	struct fd_json j;
	fd_json_init(&j, out, false);
	fd_view_scenario(&j, &d->hdr.header, d->history, (const char *const *)d->subject_names,
			 d->n_subjects, WINDOW_NS);
	fd_json_flush(&j);
}

static void taken_event(struct fd_json *j, const struct fd_drill *d, const struct taken *t)
{
	fd_view_event(j, d->start, t->at, t->a->name, t->a->event.kind_name, t->a->title, true);
}

void fd_drill_state_json(struct fd_drill *d, double since_s, FILE *out)
{
	const struct fd_scenario *sc = d->sc;
	struct fd_json j;
	fd_json_init(&j, out, false);
	pthread_mutex_lock(&d->lock);
	int64_t now = d->processed;
	fd_json_object_begin(&j);
	fd_json_key(&j, "scenario");
	fd_json_string(&j, sc->name);
	fd_json_key(&j, "title");
	fd_json_string(&j, sc->title);
	fd_json_key(&j, "offset_s");
	fd_json_double(&j, (double)now / 1e9);
	fd_view_time(&j, "sim_time", d->start + now);
	fd_json_key(&j, "speed");
	fd_json_double(&j, d->speed);
	fd_json_key(&j, "running");
	fd_json_bool(&j, !d->over);
	/* backfilling the history, live, or over */
	fd_json_key(&j, "phase");
	fd_json_string(&j, d->over ? "over" : now < d->history ? "backfill" : "live");
	fd_json_key(&j, "history_s");
	fd_json_double(&j, (double)d->history / 1e9);
	/* what the sinks stamp this moment with ("now" in the candidate's dashboards) */
	fd_view_time(&j, "sink_time", d->start + now + d->shift);

	fd_json_key(&j, "actions");
	fd_json_array_begin(&j);
	for (size_t i = 0; i < sc->n_actions; i++) {
		const struct fd_action *a = &sc->actions[i];
		const struct taken *t = find_taken(d, a);
		fd_view_action(&j, d->start, a->name, a->title, t ? t->at : -1, t ? t->done : -1);
	}
	fd_json_array_end(&j);

	/* the events so far, timeline and actions merged in time order; an
	 * action shows as soon as it is taken, though it acts a minute later */
	fd_json_key(&j, "events");
	fd_json_array_begin(&j);
	size_t k = 0;
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *ev = &sc->events[i];
		if (ev->at_ns > now)
			break;
		for (; k < d->n_taken && d->taken[k].at <= ev->at_ns; k++)
			taken_event(&j, d, &d->taken[k]);
		if (ev->mitigation)
			continue; /* left out of a live drill */
		fd_view_event(&j, d->start, ev->at_ns, ev->name, ev->kind_name, ev->description, false);
	}
	for (; k < d->n_taken; k++)
		taken_event(&j, d, &d->taken[k]);
	fd_json_array_end(&j);

	fd_json_key(&j, "figures");
	fd_view_figures(&j, d->fig, (const char *const *)d->subject_names, d->n_subjects, d->start, since_s, 1);
	fd_json_object_end(&j);
	pthread_mutex_unlock(&d->lock);
	fd_json_flush(&j);
}
