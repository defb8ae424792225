/*
 * inspect --html (report.h): one pass over the recording's spans into the
 * figures of drill/figures.h, then the console page with the data in place.
 *
 * The charted endpoints are the scenario's entries when the recording
 * carries its scenario; otherwise the four busiest root server spans (by
 * service and name), found by a first pass.
 */
#include <stdlib.h>
#include <string.h>

#include "drill/figures.h"
#include "drill/report.h"
#include "drill/views.h"
#include "drill/web.h"
#include "generator/header.h"
#include "generator/scenario.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/wire.h"

#define NS 1000000000LL
#define WINDOW_NS (10 * NS)
#define MAX_SUBJECTS 8
#define MAX_WINDOWS 200000       /* 23 days of 10 s windows */
#define SPAN_SLACK_NS (130 * NS) /* a span ends at most this long after it starts */

struct subject {
	char service[128];
	char name[256];
	char label[400];
	uint64_t count;
};

struct report {
	struct fd_recording_reader *r;
	struct subject subjects[MAX_SUBJECTS];
	size_t n_subjects;
	char **services;   /* by resource id: service.name */
	size_t n_services;
};

static const char *service_of(struct report *rp, const struct fd_blob *res)
{
	if (!res)
		return "";
	if (res->id >= rp->n_services) {
		size_t n = res->id + 64;
		char **v = realloc(rp->services, n * sizeof(*v));
		if (!v)
			return "";
		memset(v + rp->n_services, 0, (n - rp->n_services) * sizeof(*v));
		rp->services = v;
		rp->n_services = n;
	}
	if (!rp->services[res->id]) {
		char buf[128];
		if (fd_otlp_resource_service(res->data, res->len, buf, sizeof(buf)) < 0)
			buf[0] = '\0';
		rp->services[res->id] = strdup(buf);
	}
	return rp->services[res->id] ? rp->services[res->id] : "";
}

/* A root server span, decoded; NULL otherwise. Free with span__free_unpacked. */
static Opentelemetry__Proto__Trace__V1__Span *root_server_span(const struct fd_record *rec)
{
	if (rec->signal != FD_SIGNAL_TRACES)
		return NULL;
	Opentelemetry__Proto__Trace__V1__Span *sp =
		opentelemetry__proto__trace__v1__span__unpack(NULL, rec->payload_len, rec->payload);
	if (!sp)
		return NULL;
	if (sp->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER ||
	    sp->parent_span_id.len != 0 || !sp->name) {
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
		return NULL;
	}
	return sp;
}

static int find_subject(const struct report *rp, const char *service, const char *name)
{
	for (size_t i = 0; i < rp->n_subjects; i++)
		if (!strcmp(rp->subjects[i].service, service) && !strcmp(rp->subjects[i].name, name))
			return (int)i;
	return -1;
}

static void add_subject(struct report *rp, const char *service, const char *name)
{
	if (rp->n_subjects == MAX_SUBJECTS || find_subject(rp, service, name) >= 0)
		return;
	struct subject *s = &rp->subjects[rp->n_subjects++];
	snprintf(s->service, sizeof(s->service), "%s", service);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->label, sizeof(s->label), "%s %s", service, name);
}

static int cmp_count(const void *a, const void *b)
{
	const struct subject *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->label, y->label);
}

/* Without a scenario: the busiest root server spans. */
static int discover(struct report *rp, int64_t start, struct fd_error *err)
{
	struct subject all[256];
	size_t n = 0;
	struct fd_record rec;
	int rc;
	while ((rc = fd_recording_reader_next(rp->r, &rec, err)) == 1) {
		Opentelemetry__Proto__Trace__V1__Span *sp = root_server_span(&rec);
		if (!sp)
			continue;
		const char *svc = service_of(rp, rec.resource);
		size_t i;
		for (i = 0; i < n && (strcmp(all[i].service, svc) || strcmp(all[i].name, sp->name)); i++)
			;
		if (i == n && n < 256) {
			memset(&all[n], 0, sizeof(all[n]));
			snprintf(all[n].service, sizeof(all[n].service), "%s", svc);
			snprintf(all[n].name, sizeof(all[n].name), "%s", sp->name);
			snprintf(all[n].label, sizeof(all[n].label), "%s %s", svc, sp->name);
			n++;
		}
		if (i < n)
			all[i].count++;
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	}
	if (rc < 0)
		return rc;
	qsort(all, n, sizeof(all[0]), cmp_count);
	for (size_t i = 0; i < n && i < 4; i++)
		add_subject(rp, all[i].service, all[i].name);
	return fd_recording_reader_seek(rp->r, start, err);
}

/* The page's data: the scenario and state views plus what was measured. */
static void write_data(struct fd_json *j, const struct report *rp, const struct fd_scenario *sc,
		       const struct fd_figures *fig, int64_t start, int64_t end, double scale)
{
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(rp->r);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(rp->r);
	const Firedrill__V1__AnswerKey *a = h->answer_key;
	const Firedrill__V1__DrillLog *log = h->drill;
	bool drill = log != NULL;
	const char *labels[MAX_SUBJECTS];
	for (size_t i = 0; i < rp->n_subjects; i++)
		labels[i] = rp->subjects[i].label;

	fd_json_object_begin(j);
	fd_json_key(j, "scenario");
	fd_view_scenario(j, h, sc ? sc->join_at_ns : 0, labels, rp->n_subjects, WINDOW_NS);
	fd_json_key(j, "state");
	fd_json_object_begin(j);
	fd_json_key(j, "scenario");
	fd_json_string(j, h->scenario_name ? h->scenario_name : "");
	fd_json_key(j, "offset_s");
	fd_json_double(j, (double)(end - start) / 1e9);
	fd_view_time(j, "sim_time", end);
	fd_json_key(j, "speed");
	fd_json_double(j, 0);
	fd_json_key(j, "running");
	fd_json_bool(j, false);
	fd_json_key(j, "actions");
	fd_json_array_begin(j);
	for (size_t i = 0; a && i < a->n_actions; i++) {
		int64_t at = -1, done = -1;
		for (size_t k = 0; log && k < log->n_taken; k++)
			if (!strcmp(log->taken[k]->name, a->actions[i]->name)) {
				at = (int64_t)log->taken[k]->time_unix_nano - start;
				done = (int64_t)log->taken[k]->done_time_unix_nano - start;
			}
		fd_view_action(j, start, a->actions[i]->name, a->actions[i]->title, at, done);
	}
	fd_json_array_end(j);
	/* the timeline (a drill leaves its mitigations out) and the actions taken */
	fd_json_key(j, "events");
	fd_json_array_begin(j);
	size_t k = 0;
	for (size_t i = 0; sc && i < sc->n_events; i++) {
		const struct fd_event *ev = &sc->events[i];
		if (start + ev->at_ns > end)
			break;
		for (; log && k < log->n_taken && (int64_t)log->taken[k]->time_unix_nano <= start + ev->at_ns; k++) {
			const struct fd_action *x = fd_scenario_find_action(sc, log->taken[k]->name);
			fd_view_event(j, start, (int64_t)log->taken[k]->time_unix_nano - start, log->taken[k]->name,
				      x ? x->event.kind_name : "action", x ? x->title : NULL, true);
		}
		if (drill && ev->mitigation)
			continue;
		fd_view_event(j, start, ev->at_ns, ev->name, ev->kind_name, ev->description, false);
	}
	for (; log && k < log->n_taken; k++) {
		const struct fd_action *x = sc ? fd_scenario_find_action(sc, log->taken[k]->name) : NULL;
		fd_view_event(j, start, (int64_t)log->taken[k]->time_unix_nano - start, log->taken[k]->name,
			      x ? x->event.kind_name : "action", x ? x->title : NULL, true);
	}
	fd_json_array_end(j);
	fd_json_key(j, "figures");
	fd_view_figures(j, fig, labels, rp->n_subjects, start, -1e300, scale);
	fd_json_object_end(j);

	/* the answer key's figures, measured when the recording was made */
	fd_json_key(j, "measured");
	fd_json_array_begin(j);
	const Firedrill__V1__RecordingSummary *sum = ix ? ix->summary : NULL;
	for (size_t i = 0; sum && i < sum->n_measured; i++) {
		const Firedrill__V1__Figure *f = sum->measured[i];
		fd_json_object_begin(j);
		fd_json_key(j, "name");
		fd_json_string(j, f->name);
		fd_json_key(j, "subject");
		fd_json_string(j, f->subject);
		fd_json_key(j, "phase");
		fd_json_string(j, f->phase);
		fd_json_key(j, "value");
		fd_json_double(j, f->value);
		fd_json_key(j, "unit");
		fd_json_string(j, f->unit);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_key(j, "sampled");
	fd_json_double(j, scale > 0 ? 1 / scale : 1);
	fd_json_object_end(j);
}

/* Copies the JSON into a <script>: "</" must not end it early. */
static void put_script_safe(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '<' && i + 1 < n && s[i + 1] == '/')
			fputs("<\\", out);
		else
			fputc(s[i], out);
	}
}

int fd_report_html(struct fd_recording_reader *r, FILE *out, struct fd_error *err)
{
	struct report rp = {.r = r};
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	struct fd_scenario *sc = NULL;
	struct fd_figures *fig = NULL;
	char *json = NULL;
	size_t json_len = 0;
	int rc = 0;
	/* the scenario, when the recording carries it (an old one may not parse) */
	if (h->scenario_source && *h->scenario_source) {
		struct fd_error ignored = {0};
		struct fd_scenario_scale over; /* as it was simulated */
		fd_scenario_header_scale(h, &over);
		if (fd_scenario_parse_scaled(h->scenario_name, h->scenario_source, strlen(h->scenario_source),
					     &over, &sc, &ignored) < 0)
			sc = NULL;
	}
	int64_t start = (int64_t)h->start_time_unix_nano;
	int64_t end = (int64_t)h->end_time_unix_nano;
	if (ix && ix->summary) {
		if (!start)
			start = (int64_t)ix->summary->first_time_unix_nano;
		if (!end || (int64_t)ix->summary->last_time_unix_nano < end)
			end = (int64_t)ix->summary->last_time_unix_nano;
	}
	double scale = 1;
	if (sc) {
		for (size_t i = 0; i < sc->n_traffic; i++)
			add_subject(&rp, sc->traffic[i].entry->service->name, sc->traffic[i].entry->key);
		if (sc->trace_sampling > 0)
			scale = 1 / sc->trace_sampling;
	} else if ((rc = discover(&rp, start, err)) < 0) {
		goto out;
	}
	int64_t span = end > start ? end - start : 0;
	size_t keep = (size_t)(span / WINDOW_NS) + 2;
	if (keep > MAX_WINDOWS)
		keep = MAX_WINDOWS;
	if (!(fig = fd_figures_create(rp.n_subjects ? rp.n_subjects : 1, WINDOW_NS, keep))) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	fd_figures_close_until(fig, start);
	struct fd_record rec;
	while ((rc = fd_recording_reader_next(r, &rec, err)) == 1) {
		/* records come in end-time order; a span started at most
		 * SPAN_SLACK_NS before it ended */
		fd_figures_close_until(fig, rec.time_ns - SPAN_SLACK_NS);
		if (!rp.n_subjects)
			continue;
		Opentelemetry__Proto__Trace__V1__Span *sp = root_server_span(&rec);
		if (!sp)
			continue;
		int s = find_subject(&rp, service_of(&rp, rec.resource), sp->name);
		if (s >= 0) {
			bool error = sp->status &&
				     sp->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
			fd_figures_add(fig, (size_t)s, (int64_t)sp->start_time_unix_nano,
				       (int64_t)(sp->end_time_unix_nano - sp->start_time_unix_nano), error);
		}
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	}
	if (rc < 0)
		goto out;
	fd_figures_close_until(fig, end);

	FILE *mem = open_memstream(&json, &json_len);
	if (!mem) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	struct fd_json j;
	fd_json_init(&j, mem, false);
	write_data(&j, &rp, sc, fig, start, end, scale);
	fd_json_flush(&j);
	if (fclose(mem) != 0) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	const char *page = fd_web_console_html, *mark = strstr(page, FD_WEB_STATIC_MARK);
	if (!mark) {
		rc = fd_error_set(err, FD_ERUNTIME, "the console page has no place for data");
		goto out;
	}
	fwrite(page, 1, (size_t)(mark - page), out);
	fputs("window.FD_STATIC = ", out);
	put_script_safe(out, json, json_len);
	fputs(";", out);
	fputs(mark + strlen(FD_WEB_STATIC_MARK), out);
	rc = 0;
out:
	free(json);
	fd_figures_destroy(fig);
	fd_scenario_destroy(sc);
	for (size_t i = 0; i < rp.n_services; i++)
		free(rp.services[i]);
	free(rp.services);
	return rc;
}
