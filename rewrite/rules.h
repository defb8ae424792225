/*
 * Rewrite rules: what `firedrill rewrite` renames, scrubs, shifts and drops
 * in a recording, read from a YAML file (docs/rewrite.md) or from --rule
 * flags.
 *
 * Rules carry a name each ("rename.services", "values.emails", ...): the
 * rewritten recording's header lists the names of the rules applied, never
 * their secrets or what they matched. The hashing key comes from the
 * environment or a file, never from the rules text.
 */
#ifndef FD_REWRITE_RULES_H
#define FD_REWRITE_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "rewrite/scrub.h"

enum fd_rewrite_action { FD_REWRITE_HASH, FD_REWRITE_DROP, FD_REWRITE_REPLACE };

/* Where a string sits in a record. */
enum {
	FD_WHERE_ATTRIBUTES = 1, /* attribute values: span, log, data point, event, link */
	FD_WHERE_RESOURCE = 2,   /* resource attribute values */
	FD_WHERE_BODY = 4,       /* log bodies */
	FD_WHERE_NAMES = 8,      /* span names, status messages, event names */
	FD_WHERE_ALL = 15,
};

struct fd_rewrite_rename {
	char *from, *to;
	size_t from_len, to_len;
};

struct fd_rewrite_attr_rule {
	char *glob; /* over attribute keys, fnmatch(3) */
	enum fd_rewrite_action action;
	char *with; /* FD_REWRITE_REPLACE */
};

struct fd_rewrite_value_rule {
	char *name;
	enum fd_scrub_kind kind; /* FD_SCRUB_REGEX: re */
	regex_t re;
	enum fd_rewrite_action action; /* HASH or REPLACE */
	char *with;
	unsigned where;     /* FD_WHERE_* bits */
	char **keys;        /* attribute key globs it is limited to; none = every key */
	size_t n_keys;
};

struct fd_rewrite_rules {
	struct fd_rewrite_rename *renames;
	size_t n_renames;
	struct fd_rewrite_attr_rule *attrs;
	size_t n_attrs;
	struct fd_rewrite_value_rule *values;
	size_t n_values;
	int64_t shift_ns;
	char *from, *until;  /* RFC 3339 or an offset from the recording's start */
	char **drop_services;
	size_t n_drop_services;
	unsigned drop_signals; /* bit per enum fd_signal */
	uint8_t key[256];      /* for hashing; never written anywhere */
	size_t key_len;
	char **names;          /* rule names, for the header */
	size_t n_names;
};

/* Reads a rules file (name for messages). Errors: FD_EINPUT
 * "file:line:col: ...", FD_ERUNTIME. The key is read from the variable
 * named by `key_env:` or the file named by `key_file:`. */
int fd_rewrite_rules_load(struct fd_rewrite_rules *r, const char *path, struct fd_error *err);

/* Adds one --rule: "builtin" (every built-in kind hashed), a kind name
 * ("email": that kind hashed), "rename:OLD=NEW", "hash:KEYGLOB",
 * "drop:KEYGLOB", "replace:KEYGLOB=VALUE", "drop-service:NAME",
 * "drop-signal:SIGNAL", "regex:ERE" (matches hashed), "shift:D" (D may be
 * negative), "from:T", "until:T". */
int fd_rewrite_rules_add(struct fd_rewrite_rules *r, const char *rule, struct fd_error *err);

/* The hashing key from the environment variable FIREDRILL_REWRITE_KEY when
 * no rule set one. Returns false when there is none. */
bool fd_rewrite_rules_have_key(struct fd_rewrite_rules *r);

/* True when the rules rewrite strings (renames, attribute or value rules). */
bool fd_rewrite_rules_touch_strings(const struct fd_rewrite_rules *r);

void fd_rewrite_rules_finish(struct fd_rewrite_rules *r);

#endif
