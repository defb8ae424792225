/*
 * firedrill inspect: what a recording holds, from its index when it has one
 * (instant, whatever the size), by reading every block otherwise.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "drill/report.h"
#include "common/json.h"
#include "recording/reader.h"
#include "generator/header.h"
#include "generator/scenario.h"
#include "common/timefmt.h"
#include "common/timemath.h"

struct facts {
	uint64_t records[FD_SIGNAL_COUNT], payload[FD_SIGNAL_COUNT];
	uint64_t blocks, record_blocks, dict_blocks;
	uint64_t raw_bytes, stored_bytes;
	uint64_t resources, scopes;
	int64_t first, last;
	bool have_range;
	const Firedrill__V1__RecordingSummary *summary; /* NULL without an index */
};

static uint64_t total(const uint64_t v[FD_SIGNAL_COUNT])
{
	return v[0] + v[1] + v[2];
}

static void facts_from_index(struct facts *x, const Firedrill__V1__BlockIndex *ix)
{
	const Firedrill__V1__RecordingSummary *s = ix->summary;
	x->summary = s;
	for (size_t i = 0; i < s->n_signals; i++) {
		uint32_t sig = s->signals[i]->signal;
		if (sig < FD_SIGNAL_COUNT) {
			x->records[sig] = s->signals[i]->records;
			x->payload[sig] = s->signals[i]->payload_bytes;
		}
	}
	x->blocks = ix->n_blocks + 1; /* and the index block itself */
	for (size_t i = 0; i < ix->n_blocks; i++) {
		const Firedrill__V1__BlockRef *b = ix->blocks[i];
		if (b->type == 2) {
			x->record_blocks++;
			x->raw_bytes += b->raw_len;
			x->stored_bytes += b->stored_len;
		} else {
			x->dict_blocks++;
		}
	}
	x->resources = s->resource_count;
	x->scopes = s->scope_count;
	x->first = (int64_t)s->first_time_unix_nano;
	x->last = (int64_t)s->last_time_unix_nano;
	x->have_range = total(x->records) > 0;
}

static void facts_from_scan(struct facts *x, const struct fd_recording_stats *st)
{
	for (int i = 0; i < FD_SIGNAL_COUNT; i++) {
		x->records[i] = st->records[i];
		x->payload[i] = st->payload_bytes[i];
	}
	x->blocks = st->blocks;
	x->record_blocks = st->record_blocks;
	x->dict_blocks = st->blocks - st->record_blocks;
	x->raw_bytes = st->raw_bytes;
	x->stored_bytes = st->stored_bytes;
	x->first = st->first_time;
	x->last = st->last_time;
	x->have_range = total(x->records) > 0;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Where a captured recording came from (firedrill record). Partitions
 * that delivered nothing are left out of the text; --json has them all. */
static void print_capture_text(const Firedrill__V1__RecordSource *src)
{
	char a[64];
	printf("from         %s (format %s", or_dash(src->uri), or_dash(src->format));
	if (src->n_brokers)
		printf(", start %s, %s%s", or_dash(src->start),
		       src->group && *src->group ? "group " : "no group",
		       src->group && *src->group ? src->group : "");
	printf(")\n");
	for (size_t i = 0; i < src->n_topics; i++)
		printf("%-12s %s -> %s\n", i ? "" : "topics", src->topics[i]->topic,
		       or_dash(fd_signal_name((enum fd_signal)src->topics[i]->signal)));
	size_t shown = 0;
	for (size_t i = 0; i < src->n_partitions; i++) {
		const Firedrill__V1__PartitionRange *p = src->partitions[i];
		if (!p->messages)
			continue;
		printf("%-12s %s/%" PRId32 " offsets %" PRId64 "..%" PRId64 " (%" PRIu64 " messages)\n",
		       shown++ ? "" : "partitions", p->topic, p->partition, p->first_offset,
		       p->last_offset, p->messages);
	}
	for (size_t i = 0; i < src->n_files; i++) {
		const Firedrill__V1__SourceFile *f = src->files[i];
		printf("%-12s %s (%s, %" PRIu64 " messages, %" PRIu64 " malformed)\n", i ? "" : "files",
		       f->path, or_dash(f->format), f->messages, f->malformed);
	}
	printf("captured     %" PRIu64 " messages, %" PRIu64 " malformed skipped, %" PRIu64
	       " records later than the %s reorder window\n",
	       src->messages, src->malformed, src->late,
	       fd_format_duration(a, sizeof(a), (int64_t)src->reorder_window_nano));
}

static void json_str_or_null(struct fd_json *j, const char *s)
{
	if (s)
		fd_json_string(j, s);
	else
		fd_json_null(j);
}

static void print_capture_json(struct fd_json *j, const Firedrill__V1__RecordSource *src)
{
	char a[64];
	fd_json_object_begin(j);
	fd_json_key(j, "uri");
	json_str_or_null(j, src->uri);
	fd_json_key(j, "format");
	json_str_or_null(j, src->format);
	fd_json_key(j, "brokers");
	fd_json_array_begin(j);
	for (size_t i = 0; i < src->n_brokers; i++)
		fd_json_string(j, src->brokers[i]);
	fd_json_array_end(j);
	fd_json_key(j, "group");
	json_str_or_null(j, src->group);
	fd_json_key(j, "start");
	json_str_or_null(j, src->start);
	fd_json_key(j, "topics");
	fd_json_array_begin(j);
	for (size_t i = 0; i < src->n_topics; i++) {
		fd_json_object_begin(j);
		fd_json_key(j, "topic");
		fd_json_string(j, src->topics[i]->topic);
		fd_json_key(j, "signal");
		json_str_or_null(j, fd_signal_name((enum fd_signal)src->topics[i]->signal));
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_key(j, "partitions");
	fd_json_array_begin(j);
	for (size_t i = 0; i < src->n_partitions; i++) {
		const Firedrill__V1__PartitionRange *p = src->partitions[i];
		fd_json_object_begin(j);
		fd_json_key(j, "topic");
		fd_json_string(j, p->topic);
		fd_json_key(j, "partition");
		fd_json_int(j, p->partition);
		fd_json_key(j, "first_offset");
		fd_json_int(j, p->first_offset);
		fd_json_key(j, "last_offset");
		fd_json_int(j, p->last_offset);
		fd_json_key(j, "messages");
		fd_json_uint(j, p->messages);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_key(j, "files");
	fd_json_array_begin(j);
	for (size_t i = 0; i < src->n_files; i++) {
		const Firedrill__V1__SourceFile *f = src->files[i];
		fd_json_object_begin(j);
		fd_json_key(j, "path");
		fd_json_string(j, f->path);
		fd_json_key(j, "format");
		json_str_or_null(j, f->format);
		fd_json_key(j, "messages");
		fd_json_uint(j, f->messages);
		fd_json_key(j, "malformed");
		fd_json_uint(j, f->malformed);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
	fd_json_key(j, "messages");
	fd_json_uint(j, src->messages);
	fd_json_key(j, "malformed");
	fd_json_uint(j, src->malformed);
	fd_json_key(j, "late_records");
	fd_json_uint(j, src->late);
	fd_json_key(j, "reorder_window");
	fd_json_string(j, fd_format_duration(a, sizeof(a), (int64_t)src->reorder_window_nano));
	fd_json_object_end(j);
}

static void print_text(const char *path, const struct fd_recording_reader *r, const struct facts *x)
{
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	unsigned major, minor;
	char a[64], b[64], c[64];
	fd_recording_reader_version(r, &major, &minor);
	uint64_t size = fd_recording_reader_file_size(r);
	uint64_t n = total(x->records);

	printf("recording    %s (%s, format %u.%u)\n", path, fd_format_bytes(a, sizeof(a), size), major,
	       minor);
	printf("generator    %s\n", or_dash(h->generator));
	printf("source       %s\n", or_dash(h->source_kind));
	printf("scenario     %s\n", or_dash(h->scenario_name));
	if (h->scenario_title && *h->scenario_title)
		printf("title        %s\n", h->scenario_title);
	printf("seed         %" PRIu64 "\n", h->seed);
	if (h->start_time_unix_nano || h->end_time_unix_nano)
		printf("declared     %s .. %s (%s)\n",
		       fd_format_time(a, sizeof(a), (int64_t)h->start_time_unix_nano),
		       fd_format_time(b, sizeof(b), (int64_t)h->end_time_unix_nano),
		       fd_format_duration(c, sizeof(c),
					  (int64_t)(h->end_time_unix_nano - h->start_time_unix_nano)));
	for (size_t i = 0; i < h->n_properties; i++)
		printf("%-12s %s\n", h->properties[i]->key, h->properties[i]->value);
	if (h->scale) {
		struct fd_scenario_scale k;
		char buf[256];
		fd_scenario_header_scale(h, &k);
		printf("scale        %s (given on the command line, over the scenario's)\n",
		       fd_scenario_scale_format(&k, buf, sizeof(buf)));
	}
	if (h->source)
		print_capture_text(h->source);
	printf("records      %" PRIu64 " (traces %" PRIu64 ", metrics %" PRIu64 ", logs %" PRIu64 ")\n",
	       n, x->records[0], x->records[1], x->records[2]);
	if (x->have_range)
		printf("time range   %s .. %s (%s)\n", fd_format_time(a, sizeof(a), x->first),
		       fd_format_time(b, sizeof(b), x->last),
		       fd_format_duration(c, sizeof(c), fd_time_sub_sat(x->last, x->first)));
	else
		printf("time range   - (no records)\n");
	printf("blocks       %" PRIu64 " (%" PRIu64 " record, %" PRIu64 " dictionary%s)\n", x->blocks,
	       x->record_blocks, x->dict_blocks, x->summary ? ", 1 index" : ", no index");
	if (x->summary)
		printf("dictionary   %" PRIu64 " resources, %" PRIu64 " scopes\n", x->resources, x->scopes);
	printf("payload      %s (traces %s, metrics %s, logs %s)\n",
	       fd_format_bytes(a, sizeof(a), total(x->payload)),
	       fd_format_bytes(b, sizeof(b), x->payload[0]), fd_format_bytes(c, sizeof(c), x->payload[1]),
	       fd_format_bytes((char[64]){0}, 64, x->payload[2]));
	if (n)
		printf("per record   %.1f bytes in the file, %.1f bytes of payload\n",
		       (double)size / (double)n, (double)total(x->payload) / (double)n);
	if (x->stored_bytes)
		printf("compression  %.2fx (%s of records in %s of blocks)\n",
		       (double)x->raw_bytes / (double)x->stored_bytes,
		       fd_format_bytes(a, sizeof(a), x->raw_bytes),
		       fd_format_bytes(b, sizeof(b), x->stored_bytes));
	const Firedrill__V1__AnswerKey *k = h->answer_key;
	if (k && (k->root_cause && *k->root_cause))
		printf("answer key   present (firedrill inspect --answer-key)\n");
}

static void json_strings(struct fd_json *j, const char *key, char **v, size_t n)
{
	fd_json_key(j, key);
	fd_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		fd_json_string(j, v[i]);
	fd_json_array_end(j);
}

static void json_figures(struct fd_json *j, const char *key, Firedrill__V1__Figure **f, size_t n)
{
	fd_json_key(j, key);
	fd_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		fd_json_object_begin(j);
		fd_json_key(j, "name");
		fd_json_string(j, f[i]->name);
		fd_json_key(j, "subject");
		fd_json_string(j, f[i]->subject);
		fd_json_key(j, "phase");
		fd_json_string(j, f[i]->phase);
		fd_json_key(j, "value");
		fd_json_double(j, f[i]->value);
		fd_json_key(j, "unit");
		fd_json_string(j, f[i]->unit);
		fd_json_object_end(j);
	}
	fd_json_array_end(j);
}

static void json_answer_key(struct fd_json *j, const Firedrill__V1__AnswerKey *k,
			    const struct facts *x)
{
	fd_json_key(j, "answer_key");
	if (!k) {
		fd_json_null(j);
		return;
	}
	fd_json_object_begin(j);
	fd_json_key(j, "prompt");
	fd_json_string(j, k->prompt);
	fd_json_key(j, "root_cause");
	fd_json_string(j, k->root_cause);
	fd_json_key(j, "trigger");
	fd_json_string(j, k->trigger);
	fd_json_key(j, "mitigation");
	fd_json_string(j, k->mitigation);
	fd_json_key(j, "verification");
	fd_json_string(j, k->verification);
	json_strings(j, "investigation", k->investigation, k->n_investigation);
	json_strings(j, "red_herrings", k->red_herrings, k->n_red_herrings);
	json_strings(j, "evidence", k->evidence, k->n_evidence);
	json_figures(j, "figures", k->figures, k->n_figures);
	if (x->summary)
		json_figures(j, "measured", x->summary->measured, x->summary->n_measured);
	fd_json_object_end(j);
}

static int print_json(const char *path, const struct fd_recording_reader *r, const struct facts *x,
		      const struct fd_recording_stats *st)
{
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	unsigned major, minor;
	char t[64];
	fd_recording_reader_version(r, &major, &minor);
	uint64_t size = fd_recording_reader_file_size(r), n = total(x->records);
	struct fd_json j;
	fd_json_init(&j, stdout, true);
	fd_json_object_begin(&j);
	fd_json_key(&j, "file");
	fd_json_string(&j, path);
	fd_json_key(&j, "file_bytes");
	fd_json_uint(&j, size);
	fd_json_key(&j, "format_version");
	snprintf(t, sizeof(t), "%u.%u", major, minor);
	fd_json_string(&j, t);
	fd_json_key(&j, "generator");
	fd_json_string(&j, h->generator);
	fd_json_key(&j, "source");
	fd_json_string(&j, h->source_kind);
	fd_json_key(&j, "scenario");
	fd_json_string(&j, h->scenario_name);
	fd_json_key(&j, "title");
	fd_json_string(&j, h->scenario_title);
	fd_json_key(&j, "seed");
	fd_json_uint(&j, h->seed);
	fd_json_key(&j, "declared_start");
	fd_json_string(&j, fd_format_time(t, sizeof(t), (int64_t)h->start_time_unix_nano));
	fd_json_key(&j, "declared_end");
	fd_json_string(&j, fd_format_time(t, sizeof(t), (int64_t)h->end_time_unix_nano));
	fd_json_key(&j, "properties");
	fd_json_object_begin(&j);
	for (size_t i = 0; i < h->n_properties; i++) {
		fd_json_key(&j, h->properties[i]->key);
		fd_json_string(&j, h->properties[i]->value);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "scale");
	if (h->scale) {
		struct fd_scenario_scale k;
		fd_scenario_header_scale(h, &k);
		fd_json_object_begin(&j);
		fd_json_key(&j, "services");
		fd_json_int(&j, k.services);
		fd_json_key(&j, "instances");
		fd_json_int(&j, k.instances);
		fd_json_key(&j, "rate");
		fd_json_double(&j, k.rate);
		fd_json_key(&j, "users");
		fd_json_uint(&j, k.users);
		fd_json_key(&j, "paths");
		fd_json_uint(&j, k.paths);
		fd_json_key(&j, "customers");
		fd_json_int(&j, k.customers);
		fd_json_key(&j, "churn_per_hour");
		fd_json_double(&j, k.churn);
		/* --rate A..B --ramp D: A, and D in ns; null without a ramp */
		fd_json_key(&j, "rate_from");
		if (k.ramp_ns > 0)
			fd_json_double(&j, k.rate_from);
		else
			fd_json_null(&j);
		fd_json_key(&j, "ramp_nano");
		if (k.ramp_ns > 0)
			fd_json_int(&j, k.ramp_ns);
		else
			fd_json_null(&j);
		fd_json_object_end(&j);
	} else {
		fd_json_null(&j);
	}
	fd_json_key(&j, "capture");
	if (h->source)
		print_capture_json(&j, h->source);
	else
		fd_json_null(&j);
	fd_json_key(&j, "records");
	fd_json_object_begin(&j);
	fd_json_key(&j, "total");
	fd_json_uint(&j, n);
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		fd_json_key(&j, fd_signal_name((enum fd_signal)s));
		fd_json_uint(&j, x->records[s]);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "payload_bytes");
	fd_json_object_begin(&j);
	fd_json_key(&j, "total");
	fd_json_uint(&j, total(x->payload));
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		fd_json_key(&j, fd_signal_name((enum fd_signal)s));
		fd_json_uint(&j, x->payload[s]);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "first_time");
	if (x->have_range)
		fd_json_string(&j, fd_format_time(t, sizeof(t), x->first));
	else
		fd_json_null(&j);
	fd_json_key(&j, "last_time");
	if (x->have_range)
		fd_json_string(&j, fd_format_time(t, sizeof(t), x->last));
	else
		fd_json_null(&j);
	fd_json_key(&j, "first_time_unix_nano");
	fd_json_int(&j, x->have_range ? x->first : 0);
	fd_json_key(&j, "last_time_unix_nano");
	fd_json_int(&j, x->have_range ? x->last : 0);
	fd_json_key(&j, "blocks");
	fd_json_uint(&j, x->blocks);
	fd_json_key(&j, "record_blocks");
	fd_json_uint(&j, x->record_blocks);
	fd_json_key(&j, "dictionary_blocks");
	fd_json_uint(&j, x->dict_blocks);
	fd_json_key(&j, "has_index");
	fd_json_bool(&j, x->summary != NULL);
	fd_json_key(&j, "resources");
	fd_json_uint(&j, x->resources);
	fd_json_key(&j, "scopes");
	fd_json_uint(&j, x->scopes);
	fd_json_key(&j, "bytes_per_record");
	fd_json_double(&j, n ? (double)size / (double)n : 0.0);
	fd_json_key(&j, "raw_record_bytes");
	fd_json_uint(&j, x->raw_bytes);
	fd_json_key(&j, "stored_record_bytes");
	fd_json_uint(&j, x->stored_bytes);
	fd_json_key(&j, "compression_ratio");
	fd_json_double(&j, x->stored_bytes ? (double)x->raw_bytes / (double)x->stored_bytes : 0.0);
	fd_json_key(&j, "cut_short");
	fd_json_bool(&j, st->cut_short);
	if (st->cut_short) {
		fd_json_key(&j, "cut_offset");
		fd_json_uint(&j, st->cut_offset);
		fd_json_key(&j, "cut_reason");
		fd_json_string(&j, st->cut_reason);
	}
	json_answer_key(&j, h->answer_key, x);
	fd_json_object_end(&j);
	return j.error ? -1 : 0;
}

static void print_lines(const char *title, char **v, size_t n)
{
	if (!n)
		return;
	printf("%s\n", title);
	for (size_t i = 0; i < n; i++)
		printf("  %zu. %s\n", i + 1, v[i]);
}

static const char *format_value(char *buf, size_t n, double v, const char *unit)
{
	char d[32];
	if (!strcmp(unit, "s")) {
		if (v < 1e-3)
			snprintf(buf, n, "%.0f us", v * 1e6);
		else if (v < 1)
			snprintf(buf, n, "%.1f ms", v * 1e3);
		else
			snprintf(buf, n, "%.2f s", v);
	} else if (!strcmp(unit, "ratio")) {
		snprintf(buf, n, "%.2f%%", v * 100);
	} else if (!strcmp(unit, "1")) {
		snprintf(buf, n, "%.0f", v);
	} else if (!strcmp(unit, "1/s")) {
		snprintf(buf, n, "%.1f/s", v);
	} else {
		snprintf(buf, n, "%s %s", fd_format_double(d, v), unit);
	}
	return buf;
}

static const Firedrill__V1__Figure *find_fig(Firedrill__V1__Figure **f, size_t n, const char *name,
					     const char *subject, const char *phase)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i]->name, name) && !strcmp(f[i]->subject, subject) &&
		    !strcmp(f[i]->phase, phase))
			return f[i];
	return NULL;
}

/* Percentiles and error rates as a table per endpoint and phase; where the
 * added time went; anything else one per line. */
static void print_figures(const char *title, Firedrill__V1__Figure **f, size_t n)
{
	static const char *const phases[] = {"before", "during", "after"};
	static const char *const rows[] = {"requests", "p50", "p95", "p99", "error_rate"};
	if (!n)
		return;
	printf("%s\n", title);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i]->name, "trigger_at")) {
			char d[32];
			printf("  trigger: %s, at +%s\n", f[i]->subject,
			       fd_format_duration(d, sizeof(d), (int64_t)(f[i]->value * 1e9)));
		}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i]->name, "requests") != 0)
			continue;
		bool first = true;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(f[k]->name, "requests") && !strcmp(f[k]->subject, f[i]->subject))
				first = false;
		if (!first)
			continue;
		printf("  %-30s %12s %12s %12s\n", f[i]->subject, "before", "during", "after");
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
			printf("    %-28s", !strcmp(rows[r], "error_rate") ? "error rate" : rows[r]);
			for (size_t p = 0; p < 3; p++) {
				const Firedrill__V1__Figure *x = find_fig(f, n, rows[r], f[i]->subject, phases[p]);
				char v[48];
				printf(" %12s", x ? format_value(v, sizeof(v), x->value, x->unit) : "-");
			}
			printf("\n");
		}
	}
	bool any = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i]->name, "added_time")) {
			char v[48];
			if (!any)
				printf("  where the added time went (per request of the slowest endpoint, "
				       "during vs before):\n");
			any = true;
			printf("    +%-10s %s\n", format_value(v, sizeof(v), f[i]->value, f[i]->unit),
			       f[i]->subject);
		}
	for (size_t i = 0; i < n; i++) {
		const char *nm = f[i]->name;
		/* "before ACTION" / "after ACTION": the drill log shows them */
		bool known = !strcmp(nm, "trigger_at") || !strcmp(nm, "added_time") ||
			     strchr(f[i]->phase, ' ');
		/* table rows were printed only for subjects that have a table */
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
			known = known || (!strcmp(nm, rows[r]) &&
					  (find_fig(f, n, "requests", f[i]->subject, "before") ||
					   find_fig(f, n, "requests", f[i]->subject, "during") ||
					   find_fig(f, n, "requests", f[i]->subject, "after")));
		if (known)
			continue;
		char v[48];
		printf("  %s %s%s%s: %s\n", f[i]->subject, nm, f[i]->phase[0] ? " " : "", f[i]->phase,
		       format_value(v, sizeof(v), f[i]->value, f[i]->unit));
	}
}

/* What the candidate did, and what each action changed: the key figures in
 * the minutes before it and after its rollout. */
static void print_drill_log(const Firedrill__V1__RecordingHeader *h,
			    const Firedrill__V1__RecordingSummary *sum)
{
	static const char *const rows[] = {"p50", "p95", "error_rate", "throughput"};
	const Firedrill__V1__DrillLog *log = h->drill;
	int64_t start = (int64_t)h->start_time_unix_nano;
	char d[32], t[40], e[32];
	printf("drill log (stopped at +%s)\n",
	       fd_format_duration(e, sizeof(e), (int64_t)h->end_time_unix_nano - start));
	if (!log->n_taken)
		printf("  no action was taken\n");
	for (size_t i = 0; i < log->n_taken; i++) {
		const Firedrill__V1__ActionTaken *a = log->taken[i];
		const char *verdict = "";
		for (size_t k = 0; h->answer_key && k < h->answer_key->n_actions; k++)
			if (!strcmp(h->answer_key->actions[k]->name, a->name))
				verdict = h->answer_key->actions[k]->verdict;
		printf("  %s (+%s)  %s  [%s]  rolled out by +%s\n",
		       fd_format_time(t, sizeof(t), (int64_t)a->time_unix_nano),
		       fd_format_duration(d, sizeof(d), (int64_t)a->time_unix_nano - start), a->name, verdict,
		       fd_format_duration(e, sizeof(e), (int64_t)a->done_time_unix_nano - start));
		if (!sum)
			continue;
		char before[200], after[200];
		snprintf(before, sizeof(before), "before %s", a->name);
		snprintf(after, sizeof(after), "after %s", a->name);
		bool any = false;
		for (size_t f = 0; f < sum->n_measured; f++) {
			const Firedrill__V1__Figure *x = sum->measured[f];
			if (strcmp(x->name, "requests") || strcmp(x->phase, before))
				continue;
			any = true;
			printf("    %-28s %12s %12s\n", x->subject, "before", "after");
			for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
				const Firedrill__V1__Figure *b = find_fig(sum->measured, sum->n_measured, rows[r],
									  x->subject, before);
				const Firedrill__V1__Figure *c = find_fig(sum->measured, sum->n_measured, rows[r],
									  x->subject, after);
				char vb[48], vc[48];
				printf("      %-26s %12s %12s\n", !strcmp(rows[r], "error_rate") ? "error rate" : rows[r],
				       b ? format_value(vb, sizeof(vb), b->value, b->unit) : "-",
				       c ? format_value(vc, sizeof(vc), c->value, c->unit) : "-");
			}
		}
		bool after_any = false;
		for (size_t f = 0; f < sum->n_measured; f++)
			after_any = after_any || !strcmp(sum->measured[f]->phase, after);
		if (!any)
			printf("    (not measured)\n");
		else if (!after_any)
			printf("    (the drill stopped before the action's effect could be measured)\n");
	}
}

static int print_answer_key(const struct fd_recording_reader *r, const struct facts *x)
{
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	const Firedrill__V1__AnswerKey *k = h->answer_key;
	if (!k) {
		fprintf(stderr, "firedrill inspect: this recording has no answer key (source: %s)\n",
			or_dash(h->source_kind));
		return EXIT_USAGE;
	}
	printf("scenario       %s\n", or_dash(h->scenario_name));
	if (h->scale) {
		/* the figures below are of the scaled system */
		struct fd_scenario_scale sk;
		char buf[256];
		fd_scenario_header_scale(h, &sk);
		printf("scaled         %s\n", fd_scenario_scale_format(&sk, buf, sizeof(buf)));
	}
	printf("prompt         %s\n", or_dash(k->prompt));
	printf("root cause     %s\n", or_dash(k->root_cause));
	printf("trigger        %s\n", or_dash(k->trigger));
	printf("mitigation     %s\n", or_dash(k->mitigation));
	printf("verification   %s\n", or_dash(k->verification));
	if (k->trigger_time_unix_nano) {
		char t[64];
		fd_format_time(t, sizeof(t), (int64_t)k->trigger_time_unix_nano);
		printf("trigger at     %s\n", t);
	}
	if (k->mitigation_time_unix_nano) {
		char t[64];
		fd_format_time(t, sizeof(t), (int64_t)k->mitigation_time_unix_nano);
		printf("mitigated at   %s\n", t);
	}
	print_lines("endpoints", k->endpoints, k->n_endpoints);
	print_lines("investigation", k->investigation, k->n_investigation);
	print_lines("red herrings", k->red_herrings, k->n_red_herrings);
	print_lines("evidence", k->evidence, k->n_evidence);
	print_lines("hints", k->hints, k->n_hints);
	if (k->n_actions) {
		printf("actions\n");
		for (size_t i = 0; i < k->n_actions; i++) {
			const Firedrill__V1__DrillAction *a = k->actions[i];
			printf("  %-9s %-24s %s%s%s\n", a->verdict, a->name, a->title, a->why[0] ? ": " : "",
			       a->why);
		}
	}
	print_figures("figures", k->figures, k->n_figures);
	if (x->summary)
		print_figures("measured from the data", x->summary->measured, x->summary->n_measured);
	if (h->drill)
		print_drill_log(h, x->summary);
	return 0;
}

static void describe_target(const struct fd_target *t, char *buf, size_t n)
{
	switch (t->kind) {
	case FD_TARGET_SERVICE: snprintf(buf, n, "service %s", t->service->name); break;
	case FD_TARGET_ENDPOINT:
		snprintf(buf, n, "%s %s", t->endpoint->service->name, t->endpoint->key);
		break;
	case FD_TARGET_DATABASE: snprintf(buf, n, "database %s", t->database->name); break;
	case FD_TARGET_QUERY:
		snprintf(buf, n, "%s query \"%s\"", t->query->database->name, t->query->text);
		break;
	case FD_TARGET_CACHE: snprintf(buf, n, "cache %s", t->cache->name); break;
	case FD_TARGET_QUEUE: snprintf(buf, n, "queue %s", t->queue->name); break;
	case FD_TARGET_DEPENDENCY: snprintf(buf, n, "dependency %s", t->dependency->name); break;
	case FD_TARGET_TRAFFIC:
		if (t->traffic)
			snprintf(buf, n, "traffic to %s %s", t->traffic->entry->service->name,
				 t->traffic->entry->key);
		else
			snprintf(buf, n, "all traffic");
		break;
	case FD_TARGET_NODE: snprintf(buf, n, "node %s", t->node->name); break;
	}
}

/* The scenario's timeline, from the scenario text the recording carries. */
static int print_timeline(const Firedrill__V1__RecordingHeader *h)
{
	if (!h->scenario_source || !*h->scenario_source) {
		fprintf(stderr, "firedrill inspect: this recording carries no scenario (source: %s), so no "
				"timeline\n",
			or_dash(h->source_kind));
		return EXIT_USAGE;
	}
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	char name[256];
	snprintf(name, sizeof(name), "%s (embedded scenario)", or_dash(h->scenario_name));
	/* with the command line's scale knobs, as it was simulated */
	struct fd_scenario_scale over;
	fd_scenario_header_scale(h, &over);
	if (fd_scenario_parse_scaled(name, h->scenario_source, strlen(h->scenario_source), &over, &sc, &err) < 0)
		return cli_fail(&err);
	int64_t start = (int64_t)h->start_time_unix_nano;
	size_t shown = 0;
	if (fd_scenario_scale_any(&over)) {
		char buf[256];
		printf("scaled: %s (given on the command line)\n", fd_scenario_scale_format(&over, buf, sizeof(buf)));
	}
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct fd_event *e = &sc->events[i];
		int64_t t;
		if (!fd_time_add(start, e->at_ns, &t) || t > (int64_t)h->end_time_unix_nano)
			break; /* generated with a shorter --duration (or a header out of range) */
		shown++;
		char at[32], when[40], what[256] = "";
		fd_format_duration(at, sizeof(at), e->at_ns);
		fd_format_time(when, sizeof(when), t);
		if (e->service && e->version)
			snprintf(what, sizeof(what), " %s %s -> %s", e->service->name,
				 e->previous_version ? e->previous_version : "?", e->version);
		else if (e->service && e->kind == FD_EVENT_SCALE_OUT)
			snprintf(what, sizeof(what), " %s -> %d instances", e->service->name, e->instances);
		else if (e->service)
			snprintf(what, sizeof(what), " %s", e->service->name);
		printf("+%-8s %s  %s%s %s%s%s\n", at, when, e->mitigation ? "mitigation " : "", e->kind_name,
		       e->name, what, e->description ? "" : "");
		if (e->description)
			printf("           %s\n", e->description);
		if (e->rollout_ns) {
			char r[32];
			printf("           rollout over %s\n", fd_format_duration(r, sizeof(r), e->rollout_ns));
		}
		for (size_t k = 0; k < e->n_effects; k++) {
			const struct fd_effect *x = &e->effects[k];
			char tgt[320], change[160] = "", d[48];
			describe_target(&x->target, tgt, sizeof(tgt));
			size_t used = 0;
#define ADD(...) used += (size_t)snprintf(change + used, used < sizeof(change) ? sizeof(change) - used : 0, __VA_ARGS__)
			if (x->changes & FD_CHANGE_LATENCY_MULT) ADD(" latency x%s", fd_format_double(d, x->latency_mult));
			if (x->changes & FD_CHANGE_LATENCY_ADD) ADD(" latency +%s", fd_format_duration(d, sizeof(d), x->latency_add_ns));
			if (x->changes & FD_CHANGE_ERRORS) ADD(" errors %s%% (%d)", fd_format_double(d, x->error_probability * 100), x->error_status);
			if (x->changes & FD_CHANGE_HIT_RATIO) ADD(" hit ratio %s", fd_format_double(d, x->hit_ratio));
			if (x->changes & FD_CHANGE_THROUGHPUT) ADD(" throughput x%s", fd_format_double(d, x->throughput_mult));
			if (x->changes & FD_CHANGE_POOL) ADD(" pool %d", x->pool);
			if (x->changes & FD_CHANGE_RATE) ADD(" rate x%s", fd_format_double(d, x->rate_mult));
			if (x->changes & FD_CHANGE_CPU) ADD(" cpu x%s", fd_format_double(d, x->cpu_mult));
			if (x->changes & FD_CHANGE_MEMORY_LEAK) ADD(" memory leak %s MiB/h", fd_format_double(d, x->memory_leak_per_s * 3600 / 1048576));
			if (x->changes & FD_CHANGE_TIMEOUT) ADD(" timeout %s", fd_format_duration(d, sizeof(d), x->timeout_ns));
#undef ADD
			printf("           effect:%s on %s%s\n", change, tgt,
			       x->scope.version == FD_VERSION_NEW ? " (instances on the new version)" : "");
		}
	}
	if (!shown) {
		char d[32];
		printf("no events in the recorded %s (the scenario has %zu)\n",
		       fd_format_duration(d, sizeof(d),
					  (int64_t)(h->end_time_unix_nano - h->start_time_unix_nano)),
		       sc->n_events);
	}
	fd_scenario_destroy(sc);
	return 0;
}

/* Text from the recording (its title, answer key, the embedded scenario's
 * names) goes to a terminal, where control characters would act: an ESC
 * sequence can move the cursor, rewrite lines or retitle the window. So the
 * text output is assembled in memory and written once, every control
 * character but newline and tab shown as a visible escape (our own
 * formatting uses none). JSON escapes them itself. stdout is a plain
 * variable in the GNU C library, which documents assigning it. */
struct shield {
	FILE *real;
	char *buf;
	size_t len;
};

static int shield_begin(struct shield *sh)
{
	sh->real = stdout;
	sh->buf = NULL;
	FILE *m = open_memstream(&sh->buf, &sh->len);
	if (!m)
		return -1;
	stdout = m;
	return 0;
}

static int shield_end(struct shield *sh)
{
	int rc = fclose(stdout);
	stdout = sh->real;
	const unsigned char *p = (const unsigned char *)sh->buf;
	for (size_t i = 0; rc == 0 && i < sh->len; i++) {
		unsigned c = p[i];
		if (c < 0x20 && c != '\n' && c != '\t')
			printf("\\x%02x", c);
		else if (c == 0x7f)
			fputs("\\x7f", stdout);
		else if (c == 0xc2 && i + 1 < sh->len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			printf("\\u%04x", p[++i]); /* a C1 control in UTF-8 */
		else
			putchar((int)c);
	}
	free(sh->buf);
	return rc == 0 && fflush(stdout) == 0 ? 0 : -1;
}

int cmd_inspect(const struct verb *v, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_ANSWER, OPT_VERIFY, OPT_TIMELINE, OPT_HTML };
	static const struct option options[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"answer-key", no_argument, NULL, OPT_ANSWER},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"timeline", no_argument, NULL, OPT_TIMELINE},
		{"html", no_argument, NULL, OPT_HTML},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, answer = false, verify = false, timeline = false, html = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case OPT_ANSWER: answer = true; break;
		case OPT_VERIFY: verify = true; break;
		case OPT_TIMELINE: timeline = true; break;
		case OPT_HTML: html = true; break;
		case 'h': fputs(v->usage, stdout); return 0;
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(v, optind >= argc ? "missing FILE.fdr" : "expected one FILE.fdr");
	const char *path = argv[optind];
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(path, &r, &err) < 0)
		return cli_fail(&err);

	struct facts x = {0};
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	int status = 0;
	if (html) {
		/* the page goes to stdout: a write error is a failure */
		if (fd_report_html(r, stdout, &err) < 0)
			status = cli_fail(&err);
		else if (fflush(stdout) != 0 || ferror(stdout))
			status = cli_fail(&(struct fd_error){.code = FD_ERUNTIME, .msg = "cannot write the page"});
		goto out;
	}
	if (!ix || verify) {
		struct fd_record rec;
		int rc;
		while ((rc = fd_recording_reader_next(r, &rec, &err)) > 0)
			;
		if (rc < 0) {
			status = cli_fail(&err);
			goto out;
		}
	}
	const struct fd_recording_stats *st = fd_recording_reader_stats(r);
	if (ix && !verify)
		facts_from_index(&x, ix);
	else
		facts_from_scan(&x, st);
	if (ix && verify) {
		x.summary = ix->summary;
		x.blocks++; /* the index */
		x.resources = ix->summary->resource_count;
		x.scopes = ix->summary->scope_count;
	}
	if (st->cut_short)
		fprintf(stderr,
			"firedrill: warning: %s is cut short at byte %" PRIu64 " (%s): recovered %" PRIu64
			" records in %" PRIu64 " complete blocks\n",
			path, st->cut_offset, st->cut_reason, total(st->records), st->blocks);
	if (json && !timeline) {
		status = print_json(path, r, &x, st) < 0 ? EXIT_RUNTIME : 0;
		goto out;
	}
	struct shield sh;
	if (shield_begin(&sh) < 0) {
		status = EXIT_RUNTIME;
		goto out;
	}
	if (timeline)
		status = print_timeline(fd_recording_reader_header(r));
	else if (answer)
		status = print_answer_key(r, &x);
	else
		print_text(path, r, &x);
	if (shield_end(&sh) < 0 && !status)
		status = EXIT_RUNTIME;
out:
	fd_recording_reader_destroy(r);
	return status;
}
