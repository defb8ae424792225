#include "rewrite/annotate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/units.h"
#include "common/yaml_tree.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "otlp/wire.h"
#include "recording/writer.h"

#define BRIEF_MAX_BYTES (1 << 20)
#define MAX_ENDPOINTS 16
#define ADDED_TOP 3

struct fd_brief {
	struct fd_arena *arena; /* every string below */
	const char *title, *prompt, *root_cause, *trigger, *mitigation, *verification;
	char **investigation, **red_herrings, **evidence, **endpoints;
	size_t n_investigation, n_red_herrings, n_evidence, n_endpoints;
	int64_t origin, trigger_at, mitigation_at;
	bool has_mitigation_at;
};

struct loader {
	const char *name;
	struct fd_brief *b;
	struct fd_error *err;
};

__attribute__((format(printf, 3, 4))) static int bad(struct loader *l, const struct yt_node *n,
						     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fd_error_set(l->err, FD_EINPUT, "%s:%d:%d: %s", l->name, n->pos.line, n->pos.col, msg);
}

static int text(struct loader *l, const struct yt_node *root, const char *key, const char **out)
{
	const struct yt_node *n = yt_get(root, key);
	if (!n)
		return 0;
	if (n->kind != YT_SCALAR)
		return bad(l, n, "%s: expected text", key);
	*out = n->str;
	return 0;
}

static int lines(struct loader *l, const struct yt_node *root, const char *key, char ***out,
		 size_t *n_out)
{
	const struct yt_node *n = yt_get(root, key);
	if (!n)
		return 0;
	if (n->kind != YT_SEQ)
		return bad(l, n, "%s: expected a list", key);
	char **v = fd_arena_array(l->b->arena, n->n ? n->n : 1, sizeof(char *));
	if (!v)
		return fd_error_set(l->err, FD_ERUNTIME, "out of memory");
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i]->kind != YT_SCALAR)
			return bad(l, n->items[i], "%s: expected text", key);
		v[i] = (char *)n->items[i]->str;
	}
	*out = v;
	*n_out = n->n;
	return 0;
}

/* what: TEXT, at: TIME | OFFSET */
static int moment(struct loader *l, const struct yt_node *root, const char *key, const char **what,
		  int64_t *at, bool *has_at)
{
	const struct yt_node *n = yt_get(root, key);
	if (!n)
		return 0;
	if (n->kind == YT_SCALAR) {
		*what = n->str;
		return 0;
	}
	if (n->kind != YT_MAP)
		return bad(l, n, "%s: expected text or {what: TEXT, at: TIME}", key);
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->items[2 * i]->str;
		if (strcmp(k, "what") != 0 && strcmp(k, "at") != 0)
			return bad(l, n->items[2 * i], "%s: unknown key '%s' (what, at)", key, k);
	}
	if (text(l, n, "what", what) < 0)
		return -FD_EINPUT;
	const struct yt_node *a = yt_get(n, "at");
	if (a) {
		const char *why = NULL;
		int64_t d;
		if (a->kind != YT_SCALAR)
			return bad(l, a, "%s.at: expected a time", key);
		if (fd_units_timestamp(a->str, at, &why) < 0) {
			if (fd_units_duration(a->str, &d, &why) < 0)
				return bad(l, a, "%s.at: '%s' is neither an RFC 3339 time nor an offset like 1h",
					   key, a->str);
			*at = l->b->origin + d;
		}
		*has_at = true;
	}
	return 0;
}

int fd_brief_load(const char *path, int64_t origin_ns, struct fd_brief **out, struct fd_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fd_error_set(err, FD_EINPUT, "%s: %s", path, strerror(errno));
	char *buf = malloc(BRIEF_MAX_BYTES + 1);
	size_t len = buf ? fread(buf, 1, BRIEF_MAX_BYTES + 1, f) : 0;
	bool failed = !buf || ferror(f);
	fclose(f);
	if (failed || len > BRIEF_MAX_BYTES) {
		free(buf);
		return fd_error_set(err, FD_EINPUT, "%s: %s", path,
				    len > BRIEF_MAX_BYTES ? "larger than 1 MiB" : "cannot be read");
	}
	struct fd_brief *b = calloc(1, sizeof(*b));
	if (!b || !(b->arena = fd_arena_create())) {
		free(b);
		free(buf);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	b->origin = origin_ns;
	struct yt_node *root = NULL;
	int rc = yt_load(b->arena, path, buf, len, &root, err);
	free(buf);
	struct loader l = {path, b, err};
	static const char *const keys[] = {"title", "prompt", "root_cause", "trigger", "mitigation",
					   "verification", "investigation", "red_herrings", "evidence",
					   "endpoints", NULL};
	if (rc == 0 && (!root || root->kind != YT_MAP))
		rc = root ? bad(&l, root, "%s", "expected a mapping (title, prompt, root_cause, trigger, ...)")
			  : fd_error_set(err, FD_EINPUT, "%s: empty brief", path);
	for (size_t i = 0; rc == 0 && i < root->n; i++) {
		const struct yt_node *k = root->items[2 * i];
		bool known = false;
		for (const char *const *p = keys; *p && !known; p++)
			known = strcmp(k->str, *p) == 0;
		if (!known)
			rc = bad(&l, k, "unknown key '%s'", k->str);
	}
	bool has_trigger_at = false;
	if (rc == 0)
		rc = text(&l, root, "title", &b->title);
	if (rc == 0)
		rc = text(&l, root, "prompt", &b->prompt);
	if (rc == 0)
		rc = text(&l, root, "root_cause", &b->root_cause);
	if (rc == 0)
		rc = text(&l, root, "verification", &b->verification);
	if (rc == 0)
		rc = moment(&l, root, "trigger", &b->trigger, &b->trigger_at, &has_trigger_at);
	if (rc == 0)
		rc = moment(&l, root, "mitigation", &b->mitigation, &b->mitigation_at, &b->has_mitigation_at);
	if (rc == 0)
		rc = lines(&l, root, "investigation", &b->investigation, &b->n_investigation);
	if (rc == 0)
		rc = lines(&l, root, "red_herrings", &b->red_herrings, &b->n_red_herrings);
	if (rc == 0)
		rc = lines(&l, root, "evidence", &b->evidence, &b->n_evidence);
	if (rc == 0)
		rc = lines(&l, root, "endpoints", &b->endpoints, &b->n_endpoints);
	if (rc == 0 && !has_trigger_at)
		rc = fd_error_set(err, FD_EINPUT, "%s: the brief needs trigger: {what: ..., at: TIME}: "
						  "the figures are measured before and after it", path);
	if (rc == 0 && !b->n_endpoints)
		rc = fd_error_set(err, FD_EINPUT, "%s: the brief needs endpoints: [\"SERVICE SPAN-NAME\"]",
				  path);
	if (rc == 0 && b->n_endpoints > MAX_ENDPOINTS)
		rc = fd_error_set(err, FD_EINPUT, "%s: at most %d endpoints", path, MAX_ENDPOINTS);
	for (size_t i = 0; rc == 0 && i < b->n_endpoints; i++)
		if (!strchr(b->endpoints[i], ' '))
			rc = fd_error_set(err, FD_EINPUT,
					  "%s: endpoint '%s': expected \"SERVICE SPAN-NAME\", such as "
					  "\"gateway POST /checkout\"", path, b->endpoints[i]);
	if (rc == 0 && b->has_mitigation_at && b->mitigation_at <= b->trigger_at)
		rc = fd_error_set(err, FD_EINPUT, "%s: the mitigation comes before the trigger", path);
	if (rc < 0) {
		fd_brief_destroy(b);
		return rc;
	}
	*out = b;
	return 0;
}

void fd_brief_destroy(struct fd_brief *b)
{
	if (!b)
		return;
	fd_arena_destroy(b->arena);
	free(b);
}

/* ---- measuring -------------------------------------------------------- */

enum { BEFORE, DURING, AFTER, PHASES };
static const char *const phase_names[PHASES] = {"before", "during", "after"};

struct samples {
	double *v;
	size_t n, cap;
	uint64_t errors;
};

/* Mean durations of one operation ("SERVICE SPAN-NAME"), for added time. */
struct op {
	char *name;
	double sum[2];
	uint64_t n[2];
};

struct measure {
	const struct fd_brief *b;
	struct samples ep[MAX_ENDPOINTS][PHASES];
	char ep_service[MAX_ENDPOINTS][128];
	const char *ep_name[MAX_ENDPOINTS];
	struct op *ops;
	size_t n_ops;
	uint32_t *op_slots;
	size_t n_op_slots;
	char (*services)[128]; /* by resource blob id */
	bool *known;
	size_t n_services;
};

static int sample_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *p = realloc(s->v, cap * sizeof(*p));
		if (!p)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the samples at or
 * below it. */
static double quantile(const struct samples *s, double q)
{
	size_t rank = (size_t)ceil(q * (double)s->n);
	return s->v[rank ? rank - 1 : 0];
}

static struct op *op_of(struct measure *m, const char *name)
{
	if ((m->n_ops + 1) * 2 > m->n_op_slots) {
		size_t ns = m->n_op_slots ? m->n_op_slots * 2 : 256;
		uint32_t *slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return NULL;
		for (size_t i = 0; i < m->n_ops; i++) {
			size_t s = fd_hash64(m->ops[i].name, strlen(m->ops[i].name)) & (ns - 1);
			while (slots[s])
				s = (s + 1) & (ns - 1);
			slots[s] = (uint32_t)i + 1;
		}
		free(m->op_slots);
		m->op_slots = slots;
		m->n_op_slots = ns;
	}
	size_t s = fd_hash64(name, strlen(name)) & (m->n_op_slots - 1);
	while (m->op_slots[s]) {
		struct op *o = &m->ops[m->op_slots[s] - 1];
		if (strcmp(o->name, name) == 0)
			return o;
		s = (s + 1) & (m->n_op_slots - 1);
	}
	struct op *v = realloc(m->ops, (m->n_ops + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->ops = v;
	memset(&v[m->n_ops], 0, sizeof(v[0]));
	if (!(v[m->n_ops].name = strdup(name)))
		return NULL;
	m->op_slots[s] = (uint32_t)++m->n_ops;
	return &v[m->n_ops - 1];
}

static const char *service_of(struct measure *m, const struct fd_blob *res)
{
	if (!res)
		return "";
	if (res->id >= m->n_services) {
		size_t n = (size_t)res->id + 1 > m->n_services * 2 ? (size_t)res->id + 1 : m->n_services * 2;
		char(*s)[128] = realloc(m->services, n * sizeof(*s));
		if (!s)
			return NULL;
		m->services = s;
		bool *k = realloc(m->known, n * sizeof(*k));
		if (!k)
			return NULL;
		m->known = k;
		memset(k + m->n_services, 0, (n - m->n_services) * sizeof(*k));
		m->n_services = n;
	}
	if (!m->known[res->id]) {
		m->services[res->id][0] = 0;
		fd_otlp_resource_service(res->data, res->len, m->services[res->id], 128);
		m->known[res->id] = true;
	}
	return m->services[res->id];
}

static bool span_failed(const Opentelemetry__Proto__Trace__V1__Span *s)
{
	if (s->status && s->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR)
		return true;
	for (size_t i = 0; i < s->n_attributes; i++) {
		const Opentelemetry__Proto__Common__V1__AnyValue *v = s->attributes[i]->value;
		if (v && strcmp(s->attributes[i]->key, "http.response.status_code") == 0 &&
		    v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			return v->int_value >= 500;
	}
	return false;
}

static int measure_span(struct measure *m, const struct fd_record *rec, struct fd_annotate_stats *st)
{
	Opentelemetry__Proto__Trace__V1__Span *s =
		opentelemetry__proto__trace__v1__span__unpack(NULL, rec->payload_len, rec->payload);
	if (!s)
		return 0; /* not a span we can read: left out of the figures */
	const char *svc = service_of(m, rec->resource);
	int rc = 0;
	if (!svc) {
		rc = -1;
		goto out;
	}
	int64_t start = (int64_t)s->start_time_unix_nano;
	double dur = (double)(int64_t)(s->end_time_unix_nano - s->start_time_unix_nano) / 1e9;
	int phase = start < m->b->trigger_at ? BEFORE
		    : m->b->has_mitigation_at && start >= m->b->mitigation_at ? AFTER
		    : DURING;
	bool endpoint = false;
	if (s->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER)
		for (size_t e = 0; e < m->b->n_endpoints; e++)
			if (strcmp(svc, m->ep_service[e]) == 0 && strcmp(s->name, m->ep_name[e]) == 0) {
				if (sample_add(&m->ep[e][phase], dur) < 0) {
					rc = -1;
					goto out;
				}
				m->ep[e][phase].errors += span_failed(s);
				st->endpoint_spans++;
				endpoint = true;
			}
	if (!endpoint && phase != AFTER) {
		char name[512];
		snprintf(name, sizeof(name), "%s %s", svc, s->name);
		struct op *o = op_of(m, name);
		if (!o) {
			rc = -1;
			goto out;
		}
		o->sum[phase] += dur;
		o->n[phase]++;
	}
out:
	opentelemetry__proto__trace__v1__span__free_unpacked(s, NULL);
	return rc;
}

static int figure(struct fd_recording_writer *w, const char *name, const char *subject,
		  const char *phase, double value, const char *unit, struct fd_annotate_stats *st,
		  struct fd_error *err)
{
	Firedrill__V1__Figure f = FIREDRILL__V1__FIGURE__INIT;
	f.name = (char *)name;
	f.subject = (char *)subject;
	f.phase = (char *)phase;
	f.value = value;
	f.unit = (char *)unit;
	st->figures++;
	return fd_recording_writer_add_figure(w, &f, err);
}

static int add_figures(struct measure *m, struct fd_recording_writer *w, int64_t first,
		       struct fd_annotate_stats *st, struct fd_error *err)
{
	const struct fd_brief *b = m->b;
	int rc = figure(w, "trigger_at", b->trigger ? b->trigger : "the trigger", "",
			(double)(b->trigger_at - first) / 1e9, "s", st, err);
	for (size_t e = 0; rc == 0 && e < b->n_endpoints; e++) {
		for (int p = 0; rc == 0 && p < PHASES; p++) {
			struct samples *s = &m->ep[e][p];
			if (!s->n)
				continue;
			if (s->n > 1)
				qsort(s->v, s->n, sizeof(double), cmp_double);
			const char *ep = b->endpoints[e], *ph = phase_names[p];
			rc = figure(w, "requests", ep, ph, (double)s->n, "1", st, err);
			if (rc == 0)
				rc = figure(w, "p50", ep, ph, quantile(s, 0.50), "s", st, err);
			if (rc == 0)
				rc = figure(w, "p95", ep, ph, quantile(s, 0.95), "s", st, err);
			if (rc == 0)
				rc = figure(w, "p99", ep, ph, quantile(s, 0.99), "s", st, err);
			if (rc == 0)
				rc = figure(w, "error_rate", ep, ph, (double)s->errors / (double)s->n, "ratio",
					    st, err);
		}
	}
	/* Where the added time went, per request of the first endpoint. */
	uint64_t reqs = m->ep[0][DURING].n;
	struct {
		double added;
		size_t op;
	} top[ADDED_TOP] = {{0, 0}};
	for (size_t i = 0; reqs && i < m->n_ops; i++) {
		const struct op *o = &m->ops[i];
		if (o->n[BEFORE] < 5 || o->n[DURING] < 5)
			continue;
		double delta = o->sum[DURING] / (double)o->n[DURING] - o->sum[BEFORE] / (double)o->n[BEFORE];
		double added = delta * (double)o->n[DURING] / (double)reqs;
		for (int k = 0; k < ADDED_TOP; k++)
			if (added > top[k].added) {
				memmove(&top[k + 1], &top[k], (size_t)(ADDED_TOP - 1 - k) * sizeof(top[0]));
				top[k].added = added;
				top[k].op = i;
				break;
			}
	}
	for (int k = 0; rc == 0 && k < ADDED_TOP && top[k].added > 0; k++)
		rc = figure(w, "added_time", m->ops[top[k].op].name, "during", top[k].added, "s", st, err);
	return rc;
}

static void fill_key(Firedrill__V1__AnswerKey *k, const struct fd_brief *b)
{
	firedrill__v1__answer_key__init(k);
	k->prompt = (char *)(b->prompt ? b->prompt : "");
	k->root_cause = (char *)(b->root_cause ? b->root_cause : "");
	k->trigger = (char *)(b->trigger ? b->trigger : "");
	k->mitigation = (char *)(b->mitigation ? b->mitigation : "");
	k->verification = (char *)(b->verification ? b->verification : "");
	k->investigation = b->investigation;
	k->n_investigation = b->n_investigation;
	k->red_herrings = b->red_herrings;
	k->n_red_herrings = b->n_red_herrings;
	k->evidence = b->evidence;
	k->n_evidence = b->n_evidence;
	k->endpoints = b->endpoints;
	k->n_endpoints = b->n_endpoints;
	k->trigger_time_unix_nano = (uint64_t)b->trigger_at;
	k->mitigation_time_unix_nano = b->has_mitigation_at ? (uint64_t)b->mitigation_at : 0;
}

int fd_annotate_run(struct fd_recording_reader *in, const struct fd_brief *b, const char *out_path,
		    struct fd_annotate_stats *st, struct fd_error *err)
{
	memset(st, 0, sizeof(*st));
	struct measure *m = calloc(1, sizeof(*m));
	if (!m)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	m->b = b;
	for (size_t e = 0; e < b->n_endpoints; e++) {
		const char *sp = strchr(b->endpoints[e], ' ');
		size_t n = (size_t)(sp - b->endpoints[e]);
		snprintf(m->ep_service[e], sizeof(m->ep_service[e]), "%.*s", (int)n, b->endpoints[e]);
		m->ep_name[e] = sp + 1;
	}
	/* The header: the input's, with the brief as its answer key. */
	const Firedrill__V1__RecordingHeader *hin = fd_recording_reader_header(in);
	Firedrill__V1__RecordingHeader h = *hin;
	Firedrill__V1__AnswerKey key;
	fill_key(&key, b);
	h.answer_key = &key;
	if (b->title)
		h.scenario_title = (char *)b->title;
	h.padding.len = 0;
	h.padding.data = NULL;
	struct fd_recording_writer *w = NULL;
	struct fd_recording_writer_options wo = {.capture_times = fd_recording_reader_capture_times(in)};
	int rc = fd_recording_writer_create(out_path, &h, &wo, &w, err);
	struct fd_record rec;
	int64_t first = 0;
	bool any = false;
	while (rc == 0 && (rc = fd_recording_reader_next(in, &rec, err)) == 1) {
		rc = 0;
		if (!any)
			first = rec.time_ns, any = true;
		st->records++;
		if (rec.signal == FD_SIGNAL_TRACES && measure_span(m, &rec, st) < 0)
			rc = fd_error_set(err, FD_ERUNTIME, "out of memory measuring the recording");
		if (rc == 0)
			rc = fd_recording_writer_add(w, &rec, err);
	}
	if (rc == 0 && !st->endpoint_spans)
		rc = fd_error_set(err, FD_EINPUT,
				  "no server span of the brief's endpoints (%s%s) in the recording: "
				  "endpoints are \"SERVICE SPAN-NAME\" as the spans name them",
				  b->endpoints[0], b->n_endpoints > 1 ? ", ..." : "");
	if (rc == 0)
		rc = add_figures(m, w, any ? first : b->origin, st, err);
	if (rc == 0)
		rc = fd_recording_writer_finish(w, err);
	fd_recording_writer_destroy(w);
	for (size_t e = 0; e < MAX_ENDPOINTS; e++)
		for (int p = 0; p < PHASES; p++)
			free(m->ep[e][p].v);
	for (size_t i = 0; i < m->n_ops; i++)
		free(m->ops[i].name);
	free(m->ops);
	free(m->op_slots);
	free(m->services);
	free(m->known);
	free(m);
	return rc < 0 ? rc : 0;
}
