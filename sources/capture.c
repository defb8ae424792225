/*
 * The capture loop: source -> decoder -> reorder window -> recording writer.
 * Single-threaded: the Kafka consumer has its own threads, the writer
 * compresses on its own; this loop only moves records between them.
 */
#include "sources/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sources/reorder.h"
#include "recording/writer.h"

/* Poll interval: how quickly SIGINT, --duration and --until-idle are seen. */
#define POLL_MS 100

/* Room reserved in the header for what is learnt during the capture:
 * per-partition offsets (about 40 bytes each) and counts. */
#define HEADER_RESERVE_BASE 4096
#define HEADER_RESERVE_PER_ENTRY 64

struct run {
	const struct fd_capture_options *o;
	struct fd_capture_stats *st;
	struct fd_recording_writer *w;
	struct fd_reorder *reorder;
	uint64_t decoded;   /* records decoded (held ones included) */
	int64_t last_time;  /* the latest record time: fallback for untimed records */
	int64_t msg_time;   /* the latest record time of the current message */
	int64_t msg_capture; /* the current message's capture time (0: none) */
	bool full;          /* max_records reached */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int write_record(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	struct run *r = ctx;
	int rc = fd_recording_writer_add(r->w, rec, err);
	if (rc == 0) {
		r->st->records[rec->signal]++;
		r->st->payload_bytes[rec->signal] += rec->payload_len;
	}
	return rc;
}

static int on_record(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	struct run *r = ctx;
	if (r->o->max_records && r->decoded >= r->o->max_records) {
		r->full = true; /* the rest of the last message is not taken */
		return 0;
	}
	r->decoded++;
	if (r->o->max_records && r->decoded >= r->o->max_records)
		r->full = true;
	if (rec->time_ns > r->last_time)
		r->last_time = rec->time_ns;
	if (rec->time_ns > r->msg_time)
		r->msg_time = rec->time_ns;
	struct fd_record timed = *rec;
	timed.capture_ns = r->msg_capture;
	return fd_reorder_add(r->reorder, &timed, write_record, r, err);
}

static void malformed(struct run *r, const char *where, const char *why)
{
	r->st->malformed++;
	if (r->o->malformed)
		r->o->malformed(r->o->ctx, where, why);
}

/* The header: the source's metadata as of now, plus the capture's counts
 * (zero at the start). h points into meta. */
static void fill_header(const struct run *r, struct fd_source *src,
			Firedrill__V1__RecordingHeader *h, Firedrill__V1__RecordSource *meta)
{
	firedrill__v1__recording_header__init(h);
	*meta = *fd_source_metadata(src);
	h->generator = (char *)(r->o->generator ? r->o->generator : "firedrill");
	h->source_kind = (char *)fd_source_kind(src);
	meta->messages = r->st->messages;
	meta->malformed = r->st->malformed;
	meta->late = r->st->late;
	meta->reorder_window_nano = (uint64_t)r->o->window_ns;
	h->source = meta;
}

static int create_writer(struct run *r, struct fd_source *src, const char *path,
			 struct fd_error *err)
{
	Firedrill__V1__RecordingHeader h;
	Firedrill__V1__RecordSource meta;
	fill_header(r, src, &h, &meta);
	size_t entries = meta.n_partitions + meta.n_files + meta.n_topics;
	struct fd_recording_writer_options wo = {
		.header_reserve = HEADER_RESERVE_BASE + HEADER_RESERVE_PER_ENTRY * entries,
		/* files keep no arrival time: their recordings stay 1.0 */
		.capture_times = strcmp(fd_source_kind(src), "file") != 0,
	};
	return fd_recording_writer_create(path, &h, &wo, &r->w, err);
}

static int final_header(struct run *r, struct fd_source *src, struct fd_error *err)
{
	Firedrill__V1__RecordingHeader h;
	Firedrill__V1__RecordSource meta;
	fill_header(r, src, &h, &meta);
	int rc = fd_recording_writer_set_header(r->w, &h, err);
	if (rc == -FD_EINPUT) {
		/* more partitions (a group's rebalance added some) than the room
		 * reserved: keep the totals, drop the per-partition detail */
		meta.n_partitions = 0;
		meta.n_files = 0;
		rc = fd_recording_writer_set_header(r->w, &h, err);
	}
	return rc;
}

int fd_capture_run(struct fd_source *src, const char *path, const struct fd_capture_options *o,
		   struct fd_capture_stats *st, struct fd_error *err)
{
	memset(st, 0, sizeof(*st));
	struct run r = {.o = o, .st = st};
	struct fd_otlp_decoder *dec = fd_otlp_decoder_create();
	r.reorder = fd_reorder_create(o->window_ns, 0);
	int rc = 0;
	if (!dec || !r.reorder) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto out;
	}
	if ((rc = create_writer(&r, src, path, err)) < 0)
		goto out;
	int64_t start = now_ns(), last_msg = start, last_progress = start;
	for (;;) {
		int64_t now = now_ns();
		if (o->stop && *o->stop) {
			st->end = FD_CAPTURE_STOPPED;
			break;
		}
		if (r.full) {
			st->end = FD_CAPTURE_MAX_RECORDS;
			break;
		}
		if (o->duration_ns && now - start >= o->duration_ns) {
			st->end = FD_CAPTURE_DURATION;
			break;
		}
		if (o->idle_ns && now - last_msg >= o->idle_ns) {
			st->end = FD_CAPTURE_IDLE;
			break;
		}
		if (o->progress && now - last_progress >= 500000000) {
			last_progress = now;
			const struct fd_reorder_stats *rs = fd_reorder_stats(r.reorder);
			st->late = rs->late;
			st->max_late = rs->max_late;
			o->progress(o->ctx, st);
		}
		struct fd_source_msg m;
		memset(&m, 0, sizeof(m));
		rc = fd_source_next(src, &m, POLL_MS, err);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			st->end = FD_CAPTURE_END_OF_INPUT;
			break;
		}
		if (rc == FD_SOURCE_IDLE)
			continue;
		last_msg = now_ns();
		st->messages++;
		st->bytes += m.len;
		int n = 0;
		bool bad = false;
		r.msg_time = INT64_MIN;
		r.msg_capture = m.capture_ns;
		if (m.broken) {
			malformed(&r, m.where, m.broken);
			bad = true;
		} else {
			struct fd_error e = {0};
			n = fd_otlp_decode(dec, m.data, m.len, m.format, m.signal,
					   m.time_ns > 0 ? m.time_ns : r.last_time, NULL, on_record, &r, &e);
			if (n == -FD_EINPUT && e.code == FD_EINPUT) {
				malformed(&r, m.where, e.msg);
				bad = true;
			} else if (n < 0) {
				/* the writer failed (a full disk): that ends the capture */
				*err = e;
				rc = n;
				goto out;
			}
		}
		fd_source_done(src, &m, n, r.msg_time, bad);
		fd_reorder_set_watermark(r.reorder, fd_source_watermark(src));
	}
	if ((rc = fd_reorder_flush(r.reorder, write_record, &r, err)) < 0)
		goto out;
	const struct fd_reorder_stats *rs = fd_reorder_stats(r.reorder);
	st->late = rs->late;
	st->max_late = rs->max_late;
	st->resources = fd_otlp_decoder_resources(dec);
	if ((rc = final_header(&r, src, err)) < 0)
		goto out;
	rc = fd_recording_writer_finish(r.w, err);
out:
	if (rc > 0)
		rc = 0;
	fd_recording_writer_destroy(r.w);
	fd_reorder_destroy(r.reorder);
	fd_otlp_decoder_destroy(dec);
	return rc;
}
