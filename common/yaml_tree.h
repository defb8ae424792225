/*
 * A YAML document as a small tree of scalars, sequences and mappings, each
 * node marked with its line and column, plus the bump allocator the scenario
 * parser builds its model in. Shared by every YAML input: scenarios, rewrite
 * rules, briefs.
 *
 * libyaml's own document API would do, but it gives no control over alias
 * expansion (a "billion laughs" file would make every later walk
 * exponential) and keeps scalars without their quoting style, which we need
 * to tell `null` from "null". So the tree is built from parser events.
 */
#ifndef FD_YAML_TREE_H
#define FD_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct fd_error;

/* ---- arena ---------------------------------------------------------------- */

/* Everything a scenario owns lives in one arena, freed at once: the model
 * has many small interlinked pieces and no piece is ever freed alone. */
struct fd_arena;

struct fd_arena *fd_arena_create(void);
void fd_arena_destroy(struct fd_arena *a);
/* Zeroed, aligned for any type; NULL when out of memory or n overflows. */
void *fd_arena_alloc(struct fd_arena *a, size_t size);
void *fd_arena_array(struct fd_arena *a, size_t n, size_t size);
/* Copies len bytes and adds a NUL. */
char *fd_arena_strndup(struct fd_arena *a, const char *s, size_t len);
char *fd_arena_strdup(struct fd_arena *a, const char *s);

/* ---- tree ----------------------------------------------------------------- */

enum yt_kind { YT_SCALAR, YT_SEQ, YT_MAP };

struct yt_node {
	enum yt_kind kind;
	struct fd_pos pos;
	/* SCALAR: NUL-terminated value (never contains a NUL itself) */
	const char *str;
	size_t len;
	bool plain;     /* written without quotes: may be null / true / ... */
	bool multiline; /* spans lines: offsets in str are not columns */
	size_t weight;  /* nodes in the subtree, aliases expanded */
	/* SEQ: n items; MAP: n pairs, items[2i] the key, items[2i+1] the value */
	struct yt_node **items;
	size_t n;
};

/* Parses one YAML document from text (need not be NUL-terminated) into a
 * tree allocated in arena. An empty stream, or a document that is only a
 * null, gives *root == NULL and 0. Errors are FD_EINPUT "name:line:col:
 * ..." (syntax, several documents, unknown aliases, duplicate keys, keys
 * that are not scalars, nesting too deep) or FD_ERUNTIME (out of memory). */
int yt_load(struct fd_arena *arena, const char *name, const char *text,
	    size_t len, struct yt_node **root, struct fd_error *err);

/* A plain scalar that YAML reads as null: empty, "~", "null". */
bool yt_is_null(const struct yt_node *n);

/* "a mapping", "a list", "null", "a string": for "expected X, got Y". */
const char *yt_kind_name(const struct yt_node *n);

/* The value of key in a mapping, or NULL when absent (or map is not a
 * mapping); yt_get_key gives the key node instead, for messages about the
 * key itself. */
const struct yt_node *yt_get(const struct yt_node *map, const char *key);
const struct yt_node *yt_get_key(const struct yt_node *map, const char *key);

#endif
