#include "recording/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "recording/crc32c.h"
#include "otlp/pbread.h"
#include "recording/format.h"
#include "stream/intern.h"

struct buf {
	uint8_t *data;
	size_t cap;
};

/* protobuf-c allocates one struct per repeated element it meets, so a few
 * bytes on the wire (an empty BlockRef is 2) can cost a hundred in memory,
 * and a zstd-compressed index turns a small file into gigabytes. Every
 * unpack of file data therefore goes through an allocator with a budget
 * fixed beforehand from what the file can legitimately hold; past it the
 * allocation fails and the message does not decode. */
struct pb_budget {
	ProtobufCAllocator alloc;
	size_t used, limit;
	bool exceeded;
};

union pb_chunk {
	size_t size;
	max_align_t align;
};

static void *pb_budget_alloc(void *data, size_t size)
{
	struct pb_budget *b = data;
	/* what malloc really takes: our prefix and its own bookkeeping */
	size_t cost = size + sizeof(union pb_chunk) + 16;
	if (cost < size || cost > b->limit - b->used) {
		b->exceeded = true;
		return NULL;
	}
	union pb_chunk *c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = cost;
	b->used += cost;
	return c + 1;
}

static void pb_budget_free(void *data, void *p)
{
	struct pb_budget *b = data;
	if (!p)
		return;
	union pb_chunk *c = (union pb_chunk *)p - 1;
	b->used -= c->size;
	free(c);
}

static void pb_budget_init(struct pb_budget *b, size_t limit)
{
	b->alloc.alloc = pb_budget_alloc;
	b->alloc.free = pb_budget_free;
	b->alloc.allocator_data = b;
	b->used = 0;
	b->limit = limit;
	b->exceeded = false;
}

struct fd_recording_reader {
	FILE *f;
	char *name;
	uint64_t size;
	unsigned major, minor;
	Firedrill__V1__RecordingHeader *header;
	Firedrill__V1__BlockIndex *index; /* NULL when the footer is missing */
	struct pb_budget header_mem, index_mem; /* allocators of the two above */

	uint64_t data_start; /* first block */
	uint64_t data_end;   /* the index block, or the end of the file */
	uint64_t pos;        /* next block header to read */
	uint64_t block_no;   /* number of the block at pos, counted from 0 */
	bool at_end;

	ZSTD_DCtx *dctx;
	struct buf stored, raw;

	/* the record block being yielded */
	uint32_t raw_len, remaining;
	size_t raw_pos;
	int64_t prev_time;

	/* Dictionary blocks are loaded in file order, each exactly once; every
	 * dictionary block before dict_until has been loaded. */
	struct fd_intern *resources, *scopes;
	uint64_t dict_until;
	uint64_t dict_bytes; /* charged against FDR_MAX_DICT_BYTES */

	bool seeking;
	int64_t seek_time;
	/* The index is trusted only as far as it was checked against the
	 * blocks: entries below verified_until matched their block headers.
	 * whole: read from the start without a seek, so the summary's figures
	 * can be checked at the end. */
	size_t verified_until;
	bool whole;

	struct fd_error sticky;
	struct fd_recording_stats stats;
};

static int buf_reserve(struct buf *b, size_t n)
{
	if (b->cap >= n)
		return 0;
	uint8_t *p = realloc(b->data, n);
	if (!p)
		return -1;
	b->data = p;
	b->cap = n;
	return 0;
}

static int read_at(struct fd_recording_reader *r, uint64_t off, void *dst, size_t n,
		   struct fd_error *err)
{
	if (off > INT64_MAX || fseeko(r->f, (off_t)off, SEEK_SET) != 0)
		return fd_error_set(err, FD_ERUNTIME, "%s: cannot seek to byte %llu: %s", r->name,
				    (unsigned long long)off, strerror(errno));
	if (n && fread(dst, 1, n, r->f) != n)
		return fd_error_set(err, FD_ERUNTIME, "%s: read error at byte %llu%s%s", r->name,
				    (unsigned long long)off, ferror(r->f) ? ": " : "",
				    ferror(r->f) ? strerror(errno) : " (file shrank while reading?)");
	return 0;
}

static int corrupt(struct fd_recording_reader *r, struct fd_error *err, uint64_t block_no,
		   uint64_t off, const char *what)
{
	return fd_error_set(err, FD_EINPUT, "%s: block %llu at byte offset %llu: %s", r->name,
			    (unsigned long long)block_no, (unsigned long long)off, what);
}

static void cut_short(struct fd_recording_reader *r, uint64_t off, const char *reason)
{
	r->stats.cut_short = true;
	r->stats.cut_offset = off;
	snprintf(r->stats.cut_reason, sizeof(r->stats.cut_reason), "%s", reason);
}

/* Reads a block's stored bytes at off (header already decoded), checks the
 * checksum and decompresses into r->raw. */
static int load_block_data(struct fd_recording_reader *r, uint64_t block_no, uint64_t off,
			   const struct fdr_block_header *h, struct fd_error *err)
{
	/* stored_len was checked against the file by the caller; raw_len is
	 * allocated only once the checksum and the frame's own size agree. */
	if (buf_reserve(&r->stored, h->stored_len ? h->stored_len : 1) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = read_at(r, off + FDR_BLOCK_HEADER_LEN, r->stored.data, h->stored_len, err);
	if (rc < 0)
		return rc;
	if (fd_crc32c(0, r->stored.data, h->stored_len) != h->data_crc)
		return corrupt(r, err, block_no, off, "data checksum mismatch");
	unsigned long long content = 0;
	if (h->compression != FDR_COMPRESSION_NONE) {
		content = ZSTD_getFrameContentSize(r->stored.data, h->stored_len);
		if (content == ZSTD_CONTENTSIZE_ERROR ||
		    (content != ZSTD_CONTENTSIZE_UNKNOWN && content != h->raw_len))
			return corrupt(r, err, block_no, off,
				       "compressed data does not match the block's size");
	}
	if (buf_reserve(&r->raw, h->raw_len ? h->raw_len : 1) < 0)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	if (h->compression == FDR_COMPRESSION_NONE) {
		if (h->raw_len)
			memcpy(r->raw.data, r->stored.data, h->raw_len);
		return 0;
	}
	size_t n = ZSTD_decompressDCtx(r->dctx, r->raw.data, h->raw_len, r->stored.data, h->stored_len);
	if (ZSTD_isError(n)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot decompress: %s", ZSTD_getErrorName(n));
		return corrupt(r, err, block_no, off, msg);
	}
	if (n != h->raw_len)
		return corrupt(r, err, block_no, off, "decompressed size differs from the block header");
	return 0;
}

static int load_dictionary(struct fd_recording_reader *r, uint64_t block_no, uint64_t off,
			   const struct fdr_block_header *h, struct fd_error *err)
{
	const uint8_t *p = r->raw.data;
	size_t len = h->raw_len, i = 0;
	for (uint32_t e = 0; e < h->count; e++) {
		uint64_t id, n;
		size_t k;
		if (i >= len)
			return corrupt(r, err, block_no, off, "dictionary ends before its last entry");
		uint8_t kind = p[i++];
		if (kind != FDR_DICT_RESOURCE && kind != FDR_DICT_SCOPE)
			return corrupt(r, err, block_no, off, "dictionary entry of unknown kind");
		if (!(k = fd_pb_varint(p + i, len - i, &id)))
			return corrupt(r, err, block_no, off, "bad dictionary entry id");
		i += k;
		if (!(k = fd_pb_varint(p + i, len - i, &n)) || n > len - i - k)
			return corrupt(r, err, block_no, off, "bad dictionary entry length");
		i += k;
		struct fd_intern *t = kind == FDR_DICT_RESOURCE ? r->resources : r->scopes;
		if (id != fd_intern_count(t))
			return corrupt(r, err, block_no, off, "dictionary entry id out of sequence");
		/* Entries are held until the end: their total is bounded by
		 * the format, not by what a compressed block can unfold to. */
		r->dict_bytes += FDR_DICT_ENTRY_COST(n);
		if (r->dict_bytes > FDR_MAX_DICT_BYTES) {
			char msg[128];
			snprintf(msg, sizeof(msg), "the dictionary grows past the format's limit of %u MiB",
				 FDR_MAX_DICT_BYTES >> 20);
			return corrupt(r, err, block_no, off, msg);
		}
		if (!fd_intern_add_with_id(t, (uint32_t)id, p + i, (size_t)n))
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		i += (size_t)n;
	}
	if (i != len)
		return corrupt(r, err, block_no, off, "trailing bytes after the dictionary entries");
	return 0;
}

/* Decodes one record at raw[*pos]. Returns 0 or a static reason. */
static const char *decode_record(struct fd_recording_reader *r, size_t *pos, int64_t *prev,
				 struct fd_record *rec)
{
	const uint8_t *p = r->raw.data;
	size_t len = r->raw_len, i = *pos, k;
	uint64_t delta, res, scope, n;
	if (i >= len)
		return "records end before the block's record count";
	uint8_t sig = p[i++];
	bool captured = sig & FDR_RECORD_CAPTURE;
	sig &= (uint8_t)~FDR_RECORD_CAPTURE;
	if (sig >= FD_SIGNAL_COUNT)
		return "record of unknown signal";
	if (captured && r->minor < FDR_VERSION_MINOR_CAPTURE)
		return "record with a capture time in a version 1.0 recording";
	if (!(k = fd_pb_varint(p + i, len - i, &delta)))
		return "bad record time";
	i += k;
	uint64_t cdelta = 0;
	if (captured) {
		if (!(k = fd_pb_varint(p + i, len - i, &cdelta)))
			return "bad record capture time";
		i += k;
	}
	if (!(k = fd_pb_varint(p + i, len - i, &res)))
		return "bad record resource";
	i += k;
	if (!(k = fd_pb_varint(p + i, len - i, &scope)))
		return "bad record scope";
	i += k;
	if (!(k = fd_pb_varint(p + i, len - i, &n)) || n > len - i - k)
		return "bad record length";
	i += k;
	const struct fd_blob *rb = res <= UINT32_MAX ? fd_intern_get(r->resources, (uint32_t)res) : NULL;
	const struct fd_blob *sb = scope <= UINT32_MAX ? fd_intern_get(r->scopes, (uint32_t)scope) : NULL;
	if (!rb)
		return "record refers to an undefined resource";
	if (!sb)
		return "record refers to an undefined scope";
	int64_t t = (int64_t)((uint64_t)*prev + (uint64_t)fdr_unzigzag(delta));
	rec->time_ns = t;
	rec->capture_ns = captured ? (int64_t)((uint64_t)t + (uint64_t)fdr_unzigzag(cdelta)) : 0;
	rec->signal = (enum fd_signal)sig;
	rec->resource = rb;
	rec->scope = sb;
	rec->payload = p + i;
	rec->payload_len = (size_t)n;
	*prev = t;
	*pos = i + (size_t)n;
	return NULL;
}

/* Checks every record of a freshly loaded block before yielding any, so a
 * damaged block is reported whole rather than half-yielded. */
static int validate_records(struct fd_recording_reader *r, uint64_t block_no, uint64_t off,
			    const struct fdr_block_header *h, struct fd_error *err)
{
	size_t pos = 0;
	int64_t prev = h->min_time;
	struct fd_record rec;
	r->raw_len = h->raw_len; /* decode_record reads up to r->raw_len */
	for (uint32_t i = 0; i < h->count; i++) {
		const char *why = decode_record(r, &pos, &prev, &rec);
		if (!why && (rec.time_ns < h->min_time || rec.time_ns > h->max_time))
			why = "record time outside the block's time range";
		if (why) {
			char msg[160];
			snprintf(msg, sizeof(msg), "record %u: %s", i, why);
			return corrupt(r, err, block_no, off, msg);
		}
	}
	if (pos != h->raw_len)
		return corrupt(r, err, block_no, off, "trailing bytes after the last record");
	return 0;
}

/* The index entry of block no must describe the block whose header is h at
 * off, field by field: a seek jumps by these entries, inspect reports them. */
static int check_entry(struct fd_recording_reader *r, uint64_t no, uint64_t off,
		       const struct fdr_block_header *h, struct fd_error *err)
{
	if (!r->index)
		return 0;
	if (no >= r->index->n_blocks)
		return corrupt(r, err, no, off, "block missing from the index");
	const Firedrill__V1__BlockRef *e = r->index->blocks[no];
	const char *field = NULL;
	long long want = 0, got = 0;
#define CMP(name, a, b)                                              \
	if (!field && (long long)(a) != (long long)(b)) {            \
		field = name;                                        \
		want = (long long)(a);                               \
		got = (long long)(b);                                \
	}
	CMP("offset", e->offset, off);
	CMP("type", e->type, h->type);
	CMP("stored length", e->stored_len, h->stored_len);
	CMP("raw length", e->raw_len, h->raw_len);
	CMP("count", e->record_count, h->count);
	CMP("min time", e->min_time_unix_nano, h->min_time);
	CMP("max time", e->max_time_unix_nano, h->max_time);
#undef CMP
	if (field) {
		char msg[160];
		snprintf(msg, sizeof(msg), "differs from its index entry (%s: index %lld, block %lld)",
			 field, want, got);
		return corrupt(r, err, no, off, msg);
	}
	if (no + 1 > r->verified_until)
		r->verified_until = (size_t)no + 1;
	return 0;
}

/* Reads and decodes the header of block no at off, and checks it against
 * the block's index entry. */
static int read_header(struct fd_recording_reader *r, uint64_t no, uint64_t off,
		       struct fdr_block_header *h, struct fd_error *err)
{
	uint8_t hb[FDR_BLOCK_HEADER_LEN];
	int rc = read_at(r, off, hb, sizeof(hb), err);
	if (rc < 0)
		return rc;
	switch (fdr_block_header_decode(hb, h)) {
	case 0:
		break;
	case -1:
		return corrupt(r, err, no, off, "bad block magic");
	case -2:
		return corrupt(r, err, no, off, "block header checksum mismatch");
	default:
		return corrupt(r, err, no, off, "invalid block header");
	}
	return check_entry(r, no, off, h, err);
}

/* After a whole read from the start: the index's summary must say what the
 * blocks held. */
static int check_summary(struct fd_recording_reader *r, struct fd_error *err)
{
	const Firedrill__V1__RecordingSummary *s = r->index->summary;
	uint64_t records[FD_SIGNAL_COUNT] = {0}, bytes[FD_SIGNAL_COUNT] = {0};
	for (size_t i = 0; i < s->n_signals; i++)
		if (s->signals[i]->signal < FD_SIGNAL_COUNT) {
			records[s->signals[i]->signal] += s->signals[i]->records;
			bytes[s->signals[i]->signal] += s->signals[i]->payload_bytes;
		}
	const char *what = NULL;
	unsigned long long want = 0, got = 0;
	for (int i = 0; i < FD_SIGNAL_COUNT && !what; i++) {
		if (records[i] != r->stats.records[i]) {
			what = "records";
			want = records[i];
			got = r->stats.records[i];
		} else if (bytes[i] != r->stats.payload_bytes[i]) {
			what = "payload bytes";
			want = bytes[i];
			got = r->stats.payload_bytes[i];
		}
		if (what) {
			char msg[200];
			snprintf(msg, sizeof(msg), "summary says %llu %s %s, the blocks hold %llu", want,
				 fd_signal_name((enum fd_signal)i), what, got);
			return corrupt(r, err, r->index->n_blocks, r->data_end, msg);
		}
	}
	if (s->resource_count != fd_intern_count(r->resources) ||
	    s->scope_count != fd_intern_count(r->scopes)) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "summary says %llu resources and %llu scopes, the dictionaries define %u and %u",
			 (unsigned long long)s->resource_count, (unsigned long long)s->scope_count,
			 fd_intern_count(r->resources), fd_intern_count(r->scopes));
		return corrupt(r, err, r->index->n_blocks, r->data_end, msg);
	}
	return 0;
}

/* Reads the block at r->pos. Returns 1 when a record block is ready to
 * yield, 2 when a block without records was consumed, 0 at the end, or an
 * error. */
static int read_block(struct fd_recording_reader *r, struct fd_error *err)
{
	uint64_t off = r->pos, no = r->block_no;
	if (off >= r->data_end) {
		if (!r->index && !r->stats.cut_short)
			cut_short(r, off, "the file ends without its footer index (not closed cleanly)");
		r->at_end = true;
		if (r->index && r->whole) {
			r->whole = false; /* checked once */
			int rc = check_summary(r, err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (r->data_end - off < FDR_BLOCK_HEADER_LEN) {
		cut_short(r, off, "the file ends inside a block header");
		r->at_end = true;
		return 0;
	}
	struct fdr_block_header h;
	int rc = read_header(r, no, off, &h, err);
	if (rc < 0)
		return rc;
	uint64_t end = off + FDR_BLOCK_HEADER_LEN + h.stored_len;
	if (end > r->data_end) {
		if (r->index)
			return corrupt(r, err, no, off, "block overlaps the footer index");
		cut_short(r, off, "the file ends inside a block");
		r->at_end = true;
		return 0;
	}
	if (h.type == FDR_BLOCK_INDEX) {
		/* Only reachable without a valid tail. A complete index block
		 * followed by a partial tail is a cut; one followed by a whole
		 * but damaged tail is corruption. */
		if (r->size - end >= FDR_TAIL_LEN)
			return corrupt(r, err, no, off, "index block not referenced by a valid file tail");
		cut_short(r, end, "the file ends inside its footer tail");
		r->at_end = true;
		return 0;
	}
	r->pos = end;
	r->block_no++;
	if (h.type == FDR_BLOCK_DICTIONARY && off < r->dict_until)
		return 2; /* already loaded by a seek */
	if (h.type == FDR_BLOCK_RECORDS && r->seeking && h.max_time < r->seek_time)
		return 2; /* skipped without decompressing */
	rc = load_block_data(r, no, off, &h, err);
	if (rc < 0)
		return rc;
	r->stats.blocks++;
	if (h.type == FDR_BLOCK_DICTIONARY) {
		rc = load_dictionary(r, no, off, &h, err);
		if (rc < 0)
			return rc;
		r->dict_until = end;
		return 2;
	}
	rc = validate_records(r, no, off, &h, err);
	if (rc < 0)
		return rc;
	if (r->seeking && h.min_time >= r->seek_time)
		r->seeking = false;
	r->stats.record_blocks++;
	r->stats.raw_bytes += h.raw_len;
	r->stats.stored_bytes += h.stored_len;
	r->raw_len = h.raw_len;
	r->raw_pos = 0;
	r->remaining = h.count;
	r->prev_time = h.min_time;
	return 1;
}

int fd_recording_reader_next(struct fd_recording_reader *r, struct fd_record *rec,
			     struct fd_error *err)
{
	if (r->sticky.code) {
		if (err)
			*err = r->sticky;
		return -r->sticky.code;
	}
	for (;;) {
		while (r->remaining > 0) {
			r->remaining--;
			/* Cannot fail: validate_records checked this block. */
			decode_record(r, &r->raw_pos, &r->prev_time, rec);
			if (r->seeking && rec->time_ns < r->seek_time)
				continue;
			struct fd_recording_stats *s = &r->stats;
			bool first = s->records[0] + s->records[1] + s->records[2] == 0;
			if (first || rec->time_ns < s->first_time)
				s->first_time = rec->time_ns;
			if (first || rec->time_ns > s->last_time)
				s->last_time = rec->time_ns;
			s->records[rec->signal]++;
			s->payload_bytes[rec->signal] += rec->payload_len;
			return 1;
		}
		if (r->at_end)
			return 0;
		struct fd_error local;
		if (!err)
			err = &local;
		int rc = read_block(r, err);
		if (rc < 0) {
			r->sticky = *err;
			return rc;
		}
		if (rc == 0)
			return 0;
	}
}

/* The summary's figures that the entries also give must agree with them
 * (replay takes its window from the summary's time range). The entries
 * themselves are checked against the blocks as they are read or skipped. */
static const char *summary_agrees(const Firedrill__V1__BlockIndex *ix,
				  const struct fdr_block_header *h)
{
	const Firedrill__V1__RecordingSummary *s = ix->summary;
	uint64_t records = 0, in_blocks = 0;
	int64_t lo = 0, hi = 0;
	for (size_t i = 0; i < s->n_signals; i++)
		records += s->signals[i]->records;
	for (size_t i = 0; i < ix->n_blocks; i++) {
		const Firedrill__V1__BlockRef *b = ix->blocks[i];
		if (b->type != FDR_BLOCK_RECORDS || !b->record_count)
			continue;
		if (!in_blocks || b->min_time_unix_nano < lo)
			lo = b->min_time_unix_nano;
		if (!in_blocks || b->max_time_unix_nano > hi)
			hi = b->max_time_unix_nano;
		in_blocks += b->record_count;
	}
	if (records != in_blocks)
		return "the summary's record count differs from the entries'";
	if (in_blocks && ((int64_t)s->first_time_unix_nano != lo || (int64_t)s->last_time_unix_nano != hi))
		return "the summary's time range differs from the entries'";
	if (in_blocks && (h->min_time != lo || h->max_time != hi))
		return "the index block's time range differs from its entries'";
	return NULL;
}

static int load_index(struct fd_recording_reader *r, struct fd_error *err)
{
	if (r->size < r->data_start + FDR_BLOCK_HEADER_LEN + FDR_TAIL_LEN)
		return 0;
	uint8_t tail[FDR_TAIL_LEN];
	int rc = read_at(r, r->size - FDR_TAIL_LEN, tail, sizeof(tail), err);
	if (rc < 0)
		return rc;
	if (memcmp(tail + 12, FDR_TAIL_MAGIC, 4) != 0 || fdr_get_u32(tail + 8) != fd_crc32c(0, tail, 8))
		return 0; /* no tail: cut short, found while reading */
	uint64_t off = fdr_get_u64(tail);
	/* Number the index block as the block after the last indexed one once
	 * we know it; until then report it by offset alone. */
	if (off < r->data_start || off > r->size - FDR_TAIL_LEN - FDR_BLOCK_HEADER_LEN)
		return fd_error_set(err, FD_EINPUT, "%s: file tail points to byte %llu, outside the file",
				    r->name, (unsigned long long)off);
	uint8_t hb[FDR_BLOCK_HEADER_LEN];
	if ((rc = read_at(r, off, hb, sizeof(hb), err)) < 0)
		return rc;
	struct fdr_block_header h;
	if (fdr_block_header_decode(hb, &h) != 0 || h.type != FDR_BLOCK_INDEX ||
	    off + FDR_BLOCK_HEADER_LEN + h.stored_len != r->size - FDR_TAIL_LEN)
		return fd_error_set(err, FD_EINPUT, "%s: index block at byte offset %llu: invalid header",
				    r->name, (unsigned long long)off);
	/* Every entry stands for a block of at least a header before the
	 * index: that bounds the count, and the count bounds the memory the
	 * unpacked index may take (the summary's figures get a fixed share). */
	uint64_t most = (off - r->data_start) / FDR_BLOCK_HEADER_LEN;
	if (h.count > most) {
		char msg[160];
		snprintf(msg, sizeof(msg), "index claims %u entries where the file has room for %llu blocks",
			 h.count, (unsigned long long)most);
		return corrupt(r, err, h.count, off, msg);
	}
	if ((rc = load_block_data(r, h.count, off, &h, err)) < 0)
		return rc;
	pb_budget_init(&r->index_mem, FDR_INDEX_MEM_BASE + (size_t)h.count * FDR_INDEX_MEM_PER_ENTRY);
	Firedrill__V1__BlockIndex *ix =
		firedrill__v1__block_index__unpack(&r->index_mem.alloc, h.raw_len, r->raw.data);
	if (!ix)
		return corrupt(r, err, h.count, off,
			       r->index_mem.exceeded ? "index needs more memory than its entry count allows"
						     : "index does not decode");
	const char *why = NULL;
	uint64_t prev_end = r->data_start;
	if (ix->n_blocks != h.count)
		why = "index entry count differs from its block header";
	for (size_t i = 0; !why && i < ix->n_blocks; i++) {
		const Firedrill__V1__BlockRef *b = ix->blocks[i];
		if (b->offset != prev_end)
			why = "index entries are not contiguous";
		else if (b->type != FDR_BLOCK_DICTIONARY && b->type != FDR_BLOCK_RECORDS)
			why = "index entry of unknown block type";
		else if (b->min_time_unix_nano > b->max_time_unix_nano)
			why = "index entry with an inverted time range";
		else if (b->stored_len > off || b->offset > off - FDR_BLOCK_HEADER_LEN - b->stored_len)
			why = "index entry past the end of the data";
		else
			prev_end = b->offset + FDR_BLOCK_HEADER_LEN + b->stored_len;
	}
	if (!why && prev_end != off)
		why = "index does not cover every block";
	if (!why && !ix->summary)
		why = "index has no summary";
	if (!why)
		why = summary_agrees(ix, &h);
	if (why) {
		firedrill__v1__block_index__free_unpacked(ix, &r->index_mem.alloc);
		return corrupt(r, err, h.count, off, why);
	}
	r->index = ix;
	r->data_end = off;
	return 0;
}

int fd_recording_reader_open_file(FILE *f, const char *name, struct fd_recording_reader **out,
				  struct fd_error *err)
{
	int rc;
	*out = NULL;
	struct fd_recording_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		fclose(f);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	r->f = f;
	r->name = strdup(name);
	r->dctx = ZSTD_createDCtx();
	r->resources = fd_intern_create();
	r->scopes = fd_intern_create();
	if (!r->name || !r->dctx || !r->resources || !r->scopes) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	if (fseeko(f, 0, SEEK_END) != 0) {
		rc = fd_error_set(err, FD_EINPUT, "%s: not a seekable file", name);
		goto fail;
	}
	off_t size = ftello(f);
	if (size < 0) {
		rc = fd_error_set(err, FD_EINPUT, "%s: not a seekable file", name);
		goto fail;
	}
	r->size = (uint64_t)size;
	uint8_t fh[FDR_FILE_HEADER_LEN];
	if (r->size < FDR_MAGIC_LEN || (rc = read_at(r, 0, fh, FDR_MAGIC_LEN, err)) < 0 ||
	    memcmp(fh, FDR_MAGIC, FDR_MAGIC_LEN) != 0) {
		rc = fd_error_set(err, FD_EINPUT, "%s: not a firedrill recording (bad magic)", name);
		goto fail;
	}
	if (r->size < FDR_FILE_HEADER_LEN) {
		rc = fd_error_set(err, FD_EINPUT, "%s: file cut short inside its header (%llu bytes)",
				  name, (unsigned long long)r->size);
		goto fail;
	}
	if ((rc = read_at(r, 0, fh, FDR_FILE_HEADER_LEN, err)) < 0)
		goto fail;
	r->major = fdr_get_u16(fh + 8);
	r->minor = fdr_get_u16(fh + 10);
	if (r->major != FDR_VERSION_MAJOR) {
		rc = fd_error_set(err, FD_EINPUT,
				  "%s: recording format version %u.%u is not supported (this firedrill "
				  "reads %u.x)",
				  name, r->major, r->minor, FDR_VERSION_MAJOR);
		goto fail;
	}
	uint32_t hlen = fdr_get_u32(fh + 12);
	if (hlen > FDR_MAX_HEADER_LEN) {
		rc = fd_error_set(err, FD_EINPUT, "%s: header length %u is invalid", name, hlen);
		goto fail;
	}
	if (r->size - FDR_FILE_HEADER_LEN < hlen) {
		rc = fd_error_set(err, FD_EINPUT, "%s: file cut short inside its header (%llu bytes)",
				  name, (unsigned long long)r->size);
		goto fail;
	}
	if (buf_reserve(&r->raw, hlen ? hlen : 1) < 0) {
		rc = fd_error_set(err, FD_ERUNTIME, "out of memory");
		goto fail;
	}
	if ((rc = read_at(r, FDR_FILE_HEADER_LEN, r->raw.data, hlen, err)) < 0)
		goto fail;
	if (fd_crc32c(0, r->raw.data, hlen) != fdr_get_u32(fh + 16)) {
		rc = fd_error_set(err, FD_EINPUT, "%s: header checksum mismatch (byte offset 0)", name);
		goto fail;
	}
	pb_budget_init(&r->header_mem, FDR_HEADER_MEM_BASE + (size_t)hlen * FDR_HEADER_MEM_PER_BYTE);
	r->header = firedrill__v1__recording_header__unpack(&r->header_mem.alloc, hlen, r->raw.data);
	if (!r->header) {
		rc = fd_error_set(err, FD_EINPUT, "%s: header metadata does not decode%s", name,
				  r->header_mem.exceeded ? " in the memory its size allows" : "");
		goto fail;
	}
	r->data_start = FDR_FILE_HEADER_LEN + (uint64_t)hlen;
	r->data_end = r->size;
	r->pos = r->dict_until = r->data_start;
	r->whole = true;
	if ((rc = load_index(r, err)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	fd_recording_reader_destroy(r);
	return rc;
}

int fd_recording_reader_open(const char *path, struct fd_recording_reader **out,
			     struct fd_error *err)
{
	*out = NULL;
	/* Non-blocking, so that a FIFO does not hang the open waiting for a
	 * writer: a recording is read by seeking, and only a regular file (or
	 * a disk) can be. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fd_error_set(err, errno == ENOENT || errno == EISDIR ? FD_EINPUT : FD_ERUNTIME,
				    "cannot open '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fd_error_set(err, FD_ERUNTIME, "cannot open '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return fd_error_set(err, FD_EINPUT,
				    "cannot read '%s': not a regular file (a recording is read by "
				    "seeking; a pipe or a character device cannot be)",
				    path);
	}
	int flags = fcntl(fd, F_GETFL);
	FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
	if (!f) {
		int e = errno;
		close(fd);
		return fd_error_set(err, FD_ERUNTIME, "cannot open '%s': %s", path, strerror(e));
	}
	return fd_recording_reader_open_file(f, path, out, err);
}

int fd_recording_reader_seek(struct fd_recording_reader *r, int64_t time_ns, struct fd_error *err)
{
	if (r->sticky.code) {
		if (err)
			*err = r->sticky;
		return -r->sticky.code;
	}
	r->remaining = 0;
	r->seeking = true;
	r->seek_time = time_ns;
	r->at_end = false;
	if (!r->index) {
		/* No index: read forward from the start; record blocks that end
		 * before the target are skipped without decompressing. */
		r->pos = r->data_start;
		r->block_no = 0;
		return 0;
	}
	r->whole = false;
	size_t target = r->index->n_blocks;
	for (size_t i = 0; i < r->index->n_blocks; i++) {
		const Firedrill__V1__BlockRef *b = r->index->blocks[i];
		if (b->type != FDR_BLOCK_RECORDS)
			continue; /* dictionaries are checked as they are loaded */
		/* A block is skipped on its entry's word: check that word
		 * against the block's header first (44 bytes, once). */
		if (i >= r->verified_until) {
			struct fdr_block_header h;
			int rc = read_header(r, i, b->offset, &h, err);
			if (rc < 0) {
				r->sticky = *err;
				return rc;
			}
		}
		if (b->max_time_unix_nano >= time_ns) {
			target = i;
			break;
		}
	}
	/* Load the dictionary blocks the skipped part defined. */
	for (size_t i = 0; i < target; i++) {
		const Firedrill__V1__BlockRef *b = r->index->blocks[i];
		if (b->type != FDR_BLOCK_DICTIONARY || b->offset < r->dict_until)
			continue;
		r->pos = b->offset;
		r->block_no = i;
		int rc = read_block(r, err);
		if (rc < 0) {
			r->sticky = *err;
			return rc;
		}
	}
	if (target == r->index->n_blocks) {
		r->pos = r->data_end;
		r->block_no = target;
		r->at_end = true;
		return 0;
	}
	r->pos = r->index->blocks[target]->offset;
	r->block_no = target;
	return 0;
}

const Firedrill__V1__RecordingHeader *fd_recording_reader_header(const struct fd_recording_reader *r)
{
	return r->header;
}

void fd_recording_reader_version(const struct fd_recording_reader *r, unsigned *major,
				 unsigned *minor)
{
	*major = r->major;
	*minor = r->minor;
}

bool fd_recording_reader_capture_times(const struct fd_recording_reader *r)
{
	return r->minor >= FDR_VERSION_MINOR_CAPTURE;
}

uint64_t fd_recording_reader_file_size(const struct fd_recording_reader *r)
{
	return r->size;
}

const Firedrill__V1__BlockIndex *fd_recording_reader_index(const struct fd_recording_reader *r)
{
	return r->index;
}

const struct fd_recording_stats *fd_recording_reader_stats(const struct fd_recording_reader *r)
{
	return &r->stats;
}

void fd_recording_reader_destroy(struct fd_recording_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	if (r->header)
		firedrill__v1__recording_header__free_unpacked(r->header, &r->header_mem.alloc);
	if (r->index)
		firedrill__v1__block_index__free_unpacked(r->index, &r->index_mem.alloc);
	ZSTD_freeDCtx(r->dctx);
	fd_intern_destroy(r->resources);
	fd_intern_destroy(r->scopes);
	free(r->stored.data);
	free(r->raw.data);
	free(r->name);
	free(r);
}
