#include "replay/replay.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timemath.h"
#include "stream/intern.h"
#include "otlp/wire.h"
#include "replay/readahead.h"

unsigned fd_replay_shard_of(const struct fd_record *rec, unsigned n)
{
	if (n <= 1)
		return 0;
	const uint8_t *id;
	if (rec->signal == FD_SIGNAL_TRACES &&
	    fd_otlp_span_trace_id(rec->payload, rec->payload_len, &id) == 0)
		return (unsigned)(fd_hash64(id, 16) % n);
	return rec->resource ? (unsigned)(fd_hash64(rec->resource->data, rec->resource->len) % n) : 0;
}

static int64_t wall_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int out_of_range(struct fd_error *err, int64_t t)
{
	return fd_error_set(err, FD_EINPUT,
			    "cannot rebase the record time %lld: it would leave the range of "
			    "nanosecond times (years 1677 to 2262)",
			    (long long)t);
}

/* The window's bounds in recording time: --from/--until when given, else
 * the declared range of a generated recording (so loops tile exactly), else
 * the records' own range from the index. */
static void window(struct fd_recording_reader *r, const struct fd_replay_options *o, int64_t *lo,
		   int64_t *hi)
{
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	int64_t first = 0, last = 0;
	if (h->start_time_unix_nano && h->end_time_unix_nano > h->start_time_unix_nano) {
		first = (int64_t)h->start_time_unix_nano;
		last = (int64_t)h->end_time_unix_nano;
	} else if (ix && ix->summary) {
		first = (int64_t)ix->summary->first_time_unix_nano;
		last = fd_time_add_sat((int64_t)ix->summary->last_time_unix_nano, 1);
	}
	*lo = o->has_from ? o->from : first;
	*hi = o->has_until ? o->until : last;
}

/* Per-resource service.name match, computed once per resource. */
struct service_cache {
	signed char *match; /* by blob id: -1 unknown, 0 no, 1 yes */
	size_t n;
};

/* 1 when the resource's service.name is want, 0 when not, -1 when out of
 * memory (which must fail the run, not filter the record out). */
static int service_matches(struct service_cache *c, const struct fd_blob *res, const char *want)
{
	if (!res)
		return 0;
	if (res->id >= c->n) {
		size_t n = res->id + 64;
		signed char *v = realloc(c->match, n);
		if (!v)
			return -1;
		memset(v + c->n, -1, n - c->n);
		c->match = v;
		c->n = n;
	}
	if (c->match[res->id] < 0) {
		char name[256];
		c->match[res->id] = (signed char)(fd_otlp_resource_service(res->data, res->len, name,
									   sizeof(name)) == 0 &&
						  strcmp(name, want) == 0);
	}
	return c->match[res->id] == 1;
}

int fd_replay_run(struct fd_recording_reader *r, struct fd_sink **sinks, size_t n_sinks,
		  const struct fd_replay_options *o, struct fd_replay_stats *st,
		  struct fd_error *err)
{
	memset(st, 0, sizeof(*st));
	const struct fd_clock *clock = o->clock ? o->clock : &fd_clock_monotonic;
	if (o->rate.rate > 0)
		fd_pacer_init_rate(&st->pacer, clock, &o->rate);
	else
		fd_pacer_init(&st->pacer, clock, o->speed);
	int64_t lo, hi;
	window(r, o, &lo, &hi);
	st->first_time = lo;
	st->last_time = hi;
	unsigned loops = o->loops ? o->loops : 1;
	/* Times come from the file and the options, so every sum below is
	 * checked: a shift that would carry a time out of int64 is refused. */
	bool fits = hi <= lo || fd_time_sub(hi, lo, &st->length);
	if (!fits)
		st->length = 0;
	if (loops > 1 && st->length <= 0)
		return fd_error_set(err, FD_EINPUT, "--loop needs a recording with a time range%s",
				    fits ? "" : " of at most 292 years");
	int64_t now = o->wall_now ? o->wall_now : wall_clock_ns(), all;
	bool ok = true;
	switch (o->rebase) {
	case FD_REBASE_START_NOW: ok = fd_time_sub(now, lo, &st->shift); break;
	case FD_REBASE_END_NOW:
		ok = !__builtin_mul_overflow((int64_t)(loops - 1), st->length, &all) &&
		     fd_time_sub(now, hi, &st->shift) && fd_time_sub(st->shift, all, &st->shift);
		break;
	case FD_REBASE_AT: ok = fd_time_sub(o->rebase_at, lo, &st->shift); break;
	case FD_REBASE_NONE: st->shift = 0; break;
	}
	if (!ok)
		return out_of_range(err, lo);

	struct service_cache svc = {0};
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	uint64_t sent = 0, sent_bytes = 0;
	int64_t last_progress = 0;
	bool paced = o->speed > 0 || o->rate.rate > 0;
	struct fd_scale *scale = NULL; /* made at the first record: churn counts from it */
	struct fd_readahead *ra = NULL;
	unsigned copies = o->scale ? o->scale->copies : 1;
	for (unsigned loop = 0; loop < loops && rc == 0; loop++) {
		int64_t shift, step;
		if (__builtin_mul_overflow((int64_t)loop, st->length, &step) ||
		    !fd_time_add(st->shift, step, &shift)) {
			rc = out_of_range(err, lo);
			break;
		}
		/* The reading (file, checksums, decompression) runs on a
		 * thread of its own, a few chunks ahead of the sinks. */
		struct fd_readahead_filter keep = {
			.signals = o->signals, .has_until = o->has_until, .until = hi};
		if ((rc = fd_readahead_start(r, lo, &keep, &ra, err)) < 0)
			break;
		struct fd_record rec;
		for (;;) {
			if ((rc = fd_readahead_next(ra, &rec, err)) <= 0) {
				st->read_error = rc < 0;
				break;
			}
			if (o->stop && *o->stop) {
				st->stopped = true;
				break;
			}
			if (o->has_until && rec.time_ns >= hi)
				break;
			int svc_match = o->service ? service_matches(&svc, rec.resource, o->service) : 1;
			if (svc_match < 0) {
				rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
				break;
			}
			if ((o->signals && !(o->signals & (1u << rec.signal))) || !svc_match ||
			    (o->shards > 1 && fd_replay_shard_of(&rec, o->shards) != o->shard)) {
				st->filtered++;
				continue;
			}
			const uint8_t *payload = rec.payload;
			/* rebasing rewrites times in place: the read-ahead's copy
			 * is not ours to change */
			if (shift && rec.payload_len > cap) {
				size_t c = rec.payload_len * 2;
				uint8_t *p = realloc(buf, c);
				if (!p) {
					rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
					break;
				}
				buf = p;
				cap = c;
			}
			if (shift && rec.payload_len) {
				memcpy(buf, rec.payload, rec.payload_len);
				payload = buf;
			}
			if (shift && fd_otlp_rebase(rec.signal, buf, rec.payload_len, shift) < 0) {
				rc = fd_error_set(err, FD_EINPUT,
						  "a %s record at %lld does not decode as OTLP; cannot rebase it",
						  fd_signal_name(rec.signal), (long long)rec.time_ns);
				break;
			}
			struct fd_record out = rec;
			out.payload = payload;
			if (!fd_time_add(rec.time_ns, shift, &out.time_ns)) {
				rc = out_of_range(err, rec.time_ns);
				break;
			}
			if (o->scale && !scale &&
			    (rc = fd_scale_create(o->scale, out.time_ns, &scale, err)) < 0)
				break;
			int wrc = 0;
			for (unsigned k = 0; k < copies && wrc == 0; k++) {
				struct fd_record c = out;
				if (scale && (wrc = fd_scale_copy(scale, &out, k, &c, err)) < 0)
					break;
				if (fd_pacer_wait(&st->pacer, c.time_ns, o->stop) < 0) {
					st->stopped = true;
					break;
				}
				for (size_t i = 0; i < n_sinks && wrc == 0; i++)
					wrc = fd_sink_write(sinks[i], &c, err);
				if (wrc == 0) {
					st->records[rec.signal]++;
					st->bytes[rec.signal] += rec.payload_len;
					sent++;
					sent_bytes += rec.payload_len;
				}
			}
			if (wrc < 0) {
				rc = wrc;
				break;
			}
			if (st->stopped)
				break;
			/* paced, records may be seconds apart: look at the clock
			 * every record; at full speed, every 1024 */
			if (o->progress && (paced || (sent & 1023) == 0)) {
				int64_t t = st->pacer.clock->now(st->pacer.clock->ctx);
				if (t - last_progress > 500000000) {
					last_progress = t;
					o->progress(o->progress_ctx, &st->pacer, rec.time_ns, sent, sent_bytes);
				}
			}
		}
		st->filtered += fd_readahead_dropped(ra);
		fd_readahead_stop(ra);
		ra = NULL;
		if (rc > 0)
			rc = 0;
		if (st->stopped)
			break;
	}
	for (size_t i = 0; i < n_sinks && rc == 0; i++)
		rc = fd_sink_flush(sinks[i], err);
	fd_scale_destroy(scale);
	free(buf);
	free(svc.match);
	return rc < 0 ? rc : 0;
}
