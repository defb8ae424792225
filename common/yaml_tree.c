#include "common/yaml_tree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/error.h"

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_BLOCK (64 * 1024)
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	/* data follows, aligned */
};

struct fd_arena {
	struct arena_block *head;
};

#define BLOCK_HDR ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct fd_arena *fd_arena_create(void)
{
	return calloc(1, sizeof(struct fd_arena));
}

void fd_arena_destroy(struct fd_arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

void *fd_arena_alloc(struct fd_arena *a, size_t size)
{
	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		/* A big request gets a block of its own, placed behind the current
		 * one so the current block's free space is not wasted. */
		size_t cap = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
		struct arena_block *nb = malloc(BLOCK_HDR + cap);
		if (!nb)
			return NULL;
		nb->used = 0;
		nb->cap = cap;
		if (b && cap != ARENA_BLOCK) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = (char *)b + BLOCK_HDR + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

void *fd_arena_array(struct fd_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / 2 / size)
		return NULL;
	return fd_arena_alloc(a, n * size);
}

char *fd_arena_strndup(struct fd_arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *d = fd_arena_alloc(a, len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *fd_arena_strdup(struct fd_arena *a, const char *s)
{
	return fd_arena_strndup(a, s, strlen(s));
}

/* ---- tree ----------------------------------------------------------------- */

/* Far beyond any real scenario; bounds the recursion of later walks. */
#define MAX_DEPTH 64
/* Aliases may share a subtree, but the expanded document must stay small:
 * every later walk visits shared nodes once per reference. */
#define MAX_WEIGHT 1000000

struct frame {
	struct yt_node *node;
	struct yt_node **v;
	size_t n, cap;
	char *anchor; /* registered when the collection is complete */
};

struct anchor {
	char *name;
	struct yt_node *node;
};

struct builder {
	struct fd_arena *arena;
	const char *name;
	const char *text;
	size_t len;
	struct fd_error *err;
	struct frame stack[MAX_DEPTH];
	int depth;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct yt_node *root;
};

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fd_error_set(b->err, FD_EINPUT, "%s:%d:%d: %s", b->name, line, col, msg);
}

static int oom(struct builder *b)
{
	return fd_error_set(b->err, FD_ERUNTIME, "%s: out of memory", b->name);
}

static struct fd_pos mark_pos(yaml_mark_t m)
{
	struct fd_pos p = {(int)(m.line + 1), (int)(m.column + 1)};
	return p;
}

static int anchor_add(struct builder *b, char *name, struct yt_node *node)
{
	if (b->n_anchors == b->cap_anchors) {
		size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 16;
		struct anchor *v = realloc(b->anchors, cap * sizeof(*v));
		if (!v)
			return oom(b);
		b->anchors = v;
		b->cap_anchors = cap;
	}
	b->anchors[b->n_anchors].name = name;
	b->anchors[b->n_anchors].node = node;
	b->n_anchors++;
	return 0;
}

static struct yt_node *anchor_find(const struct builder *b, const char *name)
{
	/* The latest definition wins: YAML allows redefining an anchor. */
	for (size_t i = b->n_anchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0)
			return b->anchors[i].node;
	return NULL;
}

static int cmp_keys(const void *pa, const void *pb)
{
	const struct yt_node *a = *(const struct yt_node *const *)pa;
	const struct yt_node *b = *(const struct yt_node *const *)pb;
	int c = strcmp(a->str, b->str);
	if (c)
		return c;
	if (a->pos.line != b->pos.line)
		return a->pos.line < b->pos.line ? -1 : 1;
	return a->pos.col < b->pos.col ? -1 : a->pos.col > b->pos.col;
}

/* Sorting finds duplicates in n log n: a generated file may have many keys. */
static int check_duplicates(struct builder *b, const struct yt_node *map)
{
	if (map->n < 2)
		return 0;
	const struct yt_node **keys = malloc(map->n * sizeof(*keys));
	if (!keys)
		return oom(b);
	for (size_t i = 0; i < map->n; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, map->n, sizeof(*keys), cmp_keys);
	int rc = 0;
	const struct yt_node *first = NULL, *dup = NULL;
	for (size_t i = 1; i < map->n; i++) {
		if (strcmp(keys[i - 1]->str, keys[i]->str) != 0)
			continue;
		/* report the duplicate that comes first in the file */
		if (!dup || keys[i]->pos.line < dup->pos.line ||
		    (keys[i]->pos.line == dup->pos.line && keys[i]->pos.col < dup->pos.col)) {
			size_t j = i - 1;
			while (j > 0 && strcmp(keys[j - 1]->str, keys[i]->str) == 0)
				j--;
			first = keys[j];
			dup = keys[i];
		}
	}
	if (dup)
		rc = fail_at(b, dup->pos.line, dup->pos.col,
			     "duplicate key '%s' (first given at %d:%d)", dup->str,
			     first->pos.line, first->pos.col);
	free(keys);
	return rc;
}

static size_t add_weight(size_t a, size_t w)
{
	return a > SIZE_MAX - w ? SIZE_MAX : a + w;
}

/* Attaches a finished node to the collection being built, or makes it the
 * root. */
static int attach(struct builder *b, struct yt_node *node, int line, int col)
{
	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == YT_MAP && f->n % 2 == 0 && node->kind != YT_SCALAR)
		return fail_at(b, node->pos.line, node->pos.col,
			       "a mapping key must be a plain string, not %s",
			       yt_kind_name(node));
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct yt_node **v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return oom(b);
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = node;
	f->node->weight = add_weight(f->node->weight, node->weight);
	if (f->node->weight > MAX_WEIGHT)
		return fail_at(b, line, col,
			       "document too large once aliases are expanded (over %d nodes)",
			       MAX_WEIGHT);
	return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *val = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct fd_pos pos = mark_pos(ev->start_mark);
	/* "\0" in a double-quoted scalar: would truncate every later use. */
	if (memchr(val, '\0', len))
		return fail_at(b, pos.line, pos.col, "a NUL character is not allowed in a string");
	struct yt_node *n = fd_arena_alloc(b->arena, sizeof(*n));
	if (!n)
		return oom(b);
	n->kind = YT_SCALAR;
	n->pos = pos;
	n->str = fd_arena_strndup(b->arena, val, len);
	if (!n->str)
		return oom(b);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	n->multiline = ev->start_mark.line != ev->end_mark.line ||
		       ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		       ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
	n->weight = 1;
	if (ev->data.scalar.anchor) {
		char *a = fd_arena_strdup(b->arena, (const char *)ev->data.scalar.anchor);
		if (!a)
			return oom(b);
		int rc = anchor_add(b, a, n);
		if (rc < 0)
			return rc;
	}
	return attach(b, n, pos.line, pos.col);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum yt_kind kind,
		    const yaml_char_t *anchor)
{
	struct fd_pos pos = mark_pos(ev->start_mark);
	if (b->depth == MAX_DEPTH)
		return fail_at(b, pos.line, pos.col, "nested too deeply (more than %d levels)",
			       MAX_DEPTH);
	struct yt_node *n = fd_arena_alloc(b->arena, sizeof(*n));
	if (!n)
		return oom(b);
	n->kind = kind;
	n->pos = pos;
	n->weight = 1;
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	if (anchor) {
		f->anchor = fd_arena_strdup(b->arena, (const char *)anchor);
		if (!f->anchor)
			return oom(b);
	}
	return 0;
}

static int on_end(struct builder *b, const yaml_event_t *ev)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct yt_node *n = f->node;
	n->n = n->kind == YT_MAP ? f->n / 2 : f->n;
	if (f->n) {
		n->items = fd_arena_array(b->arena, f->n, sizeof(*n->items));
		if (!n->items)
			return oom(b);
		memcpy(n->items, f->v, f->n * sizeof(*n->items));
	}
	free(f->v);
	f->v = NULL;
	b->depth--;
	int rc = 0;
	if (n->kind == YT_MAP)
		rc = check_duplicates(b, n);
	/* Registered only now, so an alias inside its own anchor's node is
	 * unknown instead of making the tree cyclic. */
	if (rc == 0 && f->anchor)
		rc = anchor_add(b, f->anchor, n);
	if (rc == 0) {
		struct fd_pos p = mark_pos(ev->start_mark);
		rc = attach(b, n, p.line, p.col);
	}
	return rc;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	struct fd_pos pos = mark_pos(ev->start_mark);
	const char *name = (const char *)ev->data.alias.anchor;
	struct yt_node *n = anchor_find(b, name);
	if (!n)
		return fail_at(b, pos.line, pos.col, "unknown alias '*%s' (no anchor '&%s' before it)",
			       name, name);
	return attach(b, n, pos.line, pos.col);
}

/* Line and column of a byte offset, for reader errors (bad UTF-8, control
 * characters), which libyaml reports by offset only. */
static struct fd_pos offset_pos(const char *text, size_t len, size_t off)
{
	struct fd_pos p = {1, 1};
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			p.line++;
			p.col = 1;
		} else if ((c & 0xC0) != 0x80) {
			p.col++;
		}
	}
	return p;
}

static int parser_error(struct builder *b, const yaml_parser_t *ps)
{
	if (ps->error == YAML_MEMORY_ERROR)
		return oom(b);
	const char *problem = ps->problem ? ps->problem : "malformed YAML";
	if (ps->error == YAML_READER_ERROR) {
		struct fd_pos p = offset_pos(b->text, b->len, ps->problem_offset);
		if (ps->problem_value >= 0)
			return fail_at(b, p.line, p.col,
				       "not a UTF-8 text file: %s (byte 0x%02X)", problem,
				       (unsigned)ps->problem_value & 0xFFu);
		return fail_at(b, p.line, p.col, "not a UTF-8 text file: %s", problem);
	}
	struct fd_pos p = mark_pos(ps->problem_mark);
	if (ps->context)
		return fail_at(b, p.line, p.col, "YAML syntax error: %s (%s started at %d:%d)",
			       problem, ps->context + (strncmp(ps->context, "while ", 6) ? 0 : 6),
			       (int)ps->context_mark.line + 1, (int)ps->context_mark.column + 1);
	return fail_at(b, p.line, p.col, "YAML syntax error: %s", problem);
}

int yt_load(struct fd_arena *arena, const char *name, const char *text, size_t len,
	    struct yt_node **root, struct fd_error *err)
{
	struct builder b = {.arena = arena, .name = name, .text = text, .len = len, .err = err};
	yaml_parser_t ps;
	int rc = 0;
	bool done = false, have_doc = false;
	*root = NULL;
	/* UTF-8 only: libyaml would read UTF-16 after a byte order mark, but
	 * the text travels on as a C string (a scenario is kept in its
	 * recording's header, for inspect --timeline), where UTF-16's NUL
	 * bytes cut it short. */
	const unsigned char *u = (const unsigned char *)text;
	if (len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE)))
		return fail_at(&b, 1, 1,
			       "not a UTF-8 text file: it starts with a UTF-16 byte order mark "
			       "(convert it, e.g. iconv -f UTF-16 -t UTF-8)");
	if (!yaml_parser_initialize(&ps))
		return oom(&b);
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&ps, &ev)) {
			rc = parser_error(&b, &ps);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (have_doc) {
				struct fd_pos p = mark_pos(ev.start_mark);
				rc = fail_at(&b, p.line, p.col,
					     "a scenario is one YAML document; found a second one here");
			}
			have_doc = true;
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(&b, &ev, YT_SEQ, ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(&b, &ev, YT_MAP, ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&b, &ev);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	for (int i = 0; i < b.depth; i++)
		free(b.stack[i].v);
	free(b.anchors);
	yaml_parser_delete(&ps);
	if (rc == 0 && b.root && !yt_is_null(b.root))
		*root = b.root;
	return rc;
}

bool yt_is_null(const struct yt_node *n)
{
	if (!n || n->kind != YT_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const char *yt_kind_name(const struct yt_node *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case YT_MAP:
		return "a mapping";
	case YT_SEQ:
		return "a list";
	case YT_SCALAR:
		break;
	}
	return yt_is_null(n) ? "null" : "a string";
}

const struct yt_node *yt_get_key(const struct yt_node *map, const char *key)
{
	if (!map || map->kind != YT_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->items[2 * i]->str, key) == 0)
			return map->items[2 * i];
	return NULL;
}

const struct yt_node *yt_get(const struct yt_node *map, const char *key)
{
	if (!map || map->kind != YT_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->items[2 * i]->str, key) == 0)
			return map->items[2 * i + 1];
	return NULL;
}
