#include "rewrite/rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "common/yaml_tree.h"
#include "stream/record.h"

#define RULES_MAX_BYTES (4 << 20)

static int oom(struct fd_error *err)
{
	return fd_error_set(err, FD_ERUNTIME, "out of memory reading rewrite rules");
}

__attribute__((format(printf, 2, 3))) static int push_name(struct fd_rewrite_rules *r, const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < r->n_names; i++)
		if (strcmp(r->names[i], buf) == 0)
			return 0;
	char **v = realloc(r->names, (r->n_names + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->names = v;
	if (!(v[r->n_names] = strdup(buf)))
		return -1;
	r->n_names++;
	return 0;
}

static int add_rename(struct fd_rewrite_rules *r, const char *from, const char *to)
{
	struct fd_rewrite_rename *v = realloc(r->renames, (r->n_renames + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->renames = v;
	struct fd_rewrite_rename *n = &v[r->n_renames];
	n->from = strdup(from);
	n->to = strdup(to);
	if (!n->from || !n->to) {
		free(n->from);
		free(n->to);
		return -1;
	}
	n->from_len = strlen(from);
	n->to_len = strlen(to);
	r->n_renames++;
	return 0;
}

static int add_attr(struct fd_rewrite_rules *r, const char *glob, enum fd_rewrite_action a,
		    const char *with)
{
	struct fd_rewrite_attr_rule *v = realloc(r->attrs, (r->n_attrs + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->attrs = v;
	struct fd_rewrite_attr_rule *n = &v[r->n_attrs];
	n->glob = strdup(glob);
	n->with = with ? strdup(with) : NULL;
	n->action = a;
	if (!n->glob || (with && !n->with)) {
		free(n->glob);
		free(n->with);
		return -1;
	}
	r->n_attrs++;
	return 0;
}

/* Adds a value rule; *out points at it. For a regex, re_text is compiled;
 * a bad one is an error naming it. */
static int add_value(struct fd_rewrite_rules *r, const char *name, enum fd_scrub_kind kind,
		     const char *re_text, struct fd_rewrite_value_rule **out, struct fd_error *err,
		     const char *place)
{
	struct fd_rewrite_value_rule *v = realloc(r->values, (r->n_values + 1) * sizeof(*v));
	if (!v)
		return oom(err);
	r->values = v;
	struct fd_rewrite_value_rule *n = &v[r->n_values];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->action = FD_REWRITE_HASH;
	n->where = FD_WHERE_ALL;
	if (kind == FD_SCRUB_REGEX) {
		int rc = regcomp(&n->re, re_text, REG_EXTENDED);
		if (rc != 0) {
			char why[128];
			regerror(rc, &n->re, why, sizeof(why));
			return fd_error_set(err, FD_EINPUT, "%s: bad regular expression '%s': %s", place,
					    re_text, why);
		}
	}
	if (!(n->name = strdup(name))) {
		if (kind == FD_SCRUB_REGEX)
			regfree(&n->re);
		return oom(err);
	}
	r->n_values++;
	*out = n;
	return 0;
}

bool fd_rewrite_rules_have_key(struct fd_rewrite_rules *r)
{
	if (r->key_len)
		return true;
	const char *k = getenv("FIREDRILL_REWRITE_KEY");
	if (!k || !*k)
		return false;
	r->key_len = strlen(k) < sizeof(r->key) ? strlen(k) : sizeof(r->key);
	memcpy(r->key, k, r->key_len);
	return true;
}

bool fd_rewrite_rules_touch_strings(const struct fd_rewrite_rules *r)
{
	return r->n_renames || r->n_attrs || r->n_values;
}

int fd_rewrite_rules_add(struct fd_rewrite_rules *r, const char *rule, struct fd_error *err)
{
	char place[200];
	snprintf(place, sizeof(place), "--rule '%.150s'", rule);
	const char *colon = strchr(rule, ':');
	enum fd_scrub_kind kind;
	struct fd_rewrite_value_rule *vr;
	if (strcmp(rule, "builtin") == 0) {
		for (int k = 0; k < FD_SCRUB_BUILTIN_COUNT; k++) {
			char name[64];
			snprintf(name, sizeof(name), "values.%s", fd_scrub_kind_name((enum fd_scrub_kind)k));
			if (add_value(r, name, (enum fd_scrub_kind)k, NULL, &vr, err, place) < 0)
				return -FD_EINPUT;
			if (push_name(r, "%s", name) < 0)
				return oom(err);
		}
		return 0;
	}
	if (fd_scrub_kind_parse(rule, &kind) == 0) {
		char name[64];
		snprintf(name, sizeof(name), "values.%s", rule);
		if (add_value(r, name, kind, NULL, &vr, err, place) < 0)
			return -FD_EINPUT;
		return push_name(r, "%s", name) < 0 ? oom(err) : 0;
	}
	if (!colon || colon == rule || !colon[1])
		return fd_error_set(err, FD_EINPUT,
				    "%s: expected builtin, a kind (email, ipv4, ipv6, card, jwt, bearer, "
				    "uuid), rename:OLD=NEW, hash:KEY, drop:KEY, replace:KEY=VALUE, "
				    "drop-service:NAME, drop-signal:SIGNAL or regex:ERE",
				    place);
	size_t verb_len = (size_t)(colon - rule);
	const char *arg = colon + 1, *eq = strchr(arg, '=');
#define VERB(s) (verb_len == strlen(s) && strncmp(rule, s, verb_len) == 0)
	if (VERB("rename") || VERB("replace")) {
		if (!eq || eq == arg)
			return fd_error_set(err, FD_EINPUT, "%s: expected %s:OLD=NEW", place,
					    VERB("rename") ? "rename" : "replace");
		char *left = strndup(arg, (size_t)(eq - arg));
		if (!left)
			return oom(err);
		int rc = VERB("rename") ? add_rename(r, left, eq + 1)
					: add_attr(r, left, FD_REWRITE_REPLACE, eq + 1);
		free(left);
		if (rc < 0 || push_name(r, "%s", VERB("rename") ? "rename" : "attributes.replace") < 0)
			return oom(err);
		return 0;
	}
	if (VERB("hash") || VERB("drop")) {
		if (add_attr(r, arg, VERB("hash") ? FD_REWRITE_HASH : FD_REWRITE_DROP, NULL) < 0 ||
		    push_name(r, "%s", VERB("hash") ? "attributes.hash" : "attributes.drop") < 0)
			return oom(err);
		return 0;
	}
	if (VERB("drop-service")) {
		char **v = realloc(r->drop_services, (r->n_drop_services + 1) * sizeof(*v));
		if (!v)
			return oom(err);
		r->drop_services = v;
		if (!(v[r->n_drop_services] = strdup(arg)))
			return oom(err);
		r->n_drop_services++;
		return push_name(r, "%s", "drop.services") < 0 ? oom(err) : 0;
	}
	if (VERB("drop-signal")) {
		enum fd_signal s;
		if (fd_signal_parse(arg, &s) < 0)
			return fd_error_set(err, FD_EINPUT, "%s: unknown signal (traces, metrics, logs)", place);
		r->drop_signals |= 1u << s;
		return push_name(r, "%s", "drop.signals") < 0 ? oom(err) : 0;
	}
	if (VERB("shift")) {
		const char *why = NULL;
		bool neg = arg[0] == '-';
		int64_t d;
		if (fd_units_duration(arg + (neg || arg[0] == '+'), &d, &why) < 0)
			return fd_error_set(err, FD_EINPUT, "%s: %s", place,
					    why ? why : "expected a duration such as -30d");
		r->shift_ns = neg ? -d : d;
		return push_name(r, "%s", "time.shift") < 0 ? oom(err) : 0;
	}
	if (VERB("from") || VERB("until")) {
		char **slot = VERB("from") ? &r->from : &r->until;
		free(*slot);
		if (!(*slot = strdup(arg)))
			return oom(err);
		return push_name(r, "%s", "time.window") < 0 ? oom(err) : 0;
	}
	if (VERB("regex")) {
		if (add_value(r, "values.regex", FD_SCRUB_REGEX, arg, &vr, err, place) < 0)
			return -FD_EINPUT;
		return push_name(r, "%s", "values.regex") < 0 ? oom(err) : 0;
	}
#undef VERB
	return fd_error_set(err, FD_EINPUT, "%s: unknown rule '%.*s'", place, (int)verb_len, rule);
}

/* ---- the YAML file ---------------------------------------------------- */

struct loader {
	const char *name;
	struct fd_rewrite_rules *r;
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

static int want(struct loader *l, const struct yt_node *n, enum yt_kind k, const char *what)
{
	if (!n || n->kind != k)
		return bad(l, n, "expected %s", what);
	return 0;
}

static int check_keys(struct loader *l, const struct yt_node *map, const char *const *known)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct yt_node *k = map->items[2 * i];
		bool ok = false;
		for (const char *const *p = known; *p && !ok; p++)
			ok = strcmp(k->str, *p) == 0;
		if (!ok)
			return bad(l, k, "unknown key '%s'", k->str);
	}
	return 0;
}

static int load_renames(struct loader *l, const struct yt_node *n)
{
	static const char *const kinds[] = {"services", "namespaces", "hosts", "pods", "clusters",
					    "strings", NULL};
	if (want(l, n, YT_MAP, "a mapping of services, namespaces, hosts, pods, clusters, strings") < 0 ||
	    check_keys(l, n, kinds) < 0)
		return -FD_EINPUT;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (want(l, v, YT_MAP, "a mapping OLD: NEW") < 0)
			return -FD_EINPUT;
		for (size_t j = 0; j < v->n; j++) {
			const struct yt_node *from = v->items[2 * j], *to = v->items[2 * j + 1];
			if (want(l, to, YT_SCALAR, "the new name") < 0)
				return -FD_EINPUT;
			if (!from->len || !to->len)
				return bad(l, from, "%s", "a rename needs a name on both sides");
			if (add_rename(l->r, from->str, to->str) < 0)
				return oom(l->err);
		}
		if (push_name(l->r, "rename.%s", k->str) < 0)
			return oom(l->err);
	}
	return 0;
}

static int action_of(struct loader *l, const struct yt_node *n, bool drop_ok,
		     enum fd_rewrite_action *out)
{
	if (want(l, n, YT_SCALAR, "an action") < 0)
		return -FD_EINPUT;
	if (strcmp(n->str, "hash") == 0)
		*out = FD_REWRITE_HASH;
	else if (strcmp(n->str, "replace") == 0)
		*out = FD_REWRITE_REPLACE;
	else if (drop_ok && strcmp(n->str, "drop") == 0)
		*out = FD_REWRITE_DROP;
	else
		return bad(l, n, drop_ok ? "unknown action '%s' (hash, drop, replace)"
					 : "unknown action '%s' (hash, replace)",
			   n->str);
	return 0;
}

static int load_attributes(struct loader *l, const struct yt_node *n)
{
	static const char *const keys[] = {"match", "action", "with", NULL};
	if (want(l, n, YT_SEQ, "a list of {match, action, with}") < 0)
		return -FD_EINPUT;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *it = n->items[i];
		if (want(l, it, YT_MAP, "{match: KEY-GLOB, action: hash|drop|replace}") < 0 ||
		    check_keys(l, it, keys) < 0)
			return -FD_EINPUT;
		const struct yt_node *m = yt_get(it, "match"), *a = yt_get(it, "action"), *w = yt_get(it, "with");
		if (!m || want(l, m, YT_SCALAR, "a key glob") < 0)
			return m ? -FD_EINPUT : bad(l, it, "%s", "missing match: KEY-GLOB");
		enum fd_rewrite_action act = FD_REWRITE_HASH;
		if (a && action_of(l, a, true, &act) < 0)
			return -FD_EINPUT;
		if (act == FD_REWRITE_REPLACE && (!w || w->kind != YT_SCALAR))
			return bad(l, it, "%s", "action replace needs with: VALUE");
		if (add_attr(l->r, m->str, act, act == FD_REWRITE_REPLACE ? w->str : NULL) < 0)
			return oom(l->err);
		static const char *const act_names[] = {"attributes.hash", "attributes.drop",
							"attributes.replace"};
		if (push_name(l->r, "%s", act_names[act]) < 0)
			return oom(l->err);
	}
	return 0;
}

static int load_values(struct loader *l, const struct yt_node *n)
{
	static const char *const keys[] = {"name", "pattern", "regex", "action", "with", "in", "keys", NULL};
	if (want(l, n, YT_SEQ, "a list of {pattern|regex, action, with, in, keys}") < 0)
		return -FD_EINPUT;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *it = n->items[i];
		if (want(l, it, YT_MAP, "{pattern: KIND | regex: ERE, ...}") < 0 || check_keys(l, it, keys) < 0)
			return -FD_EINPUT;
		const struct yt_node *p = yt_get(it, "pattern"), *re = yt_get(it, "regex");
		if (!!p == !!re)
			return bad(l, it, "%s", "give one of pattern: KIND or regex: ERE");
		enum fd_scrub_kind kind = FD_SCRUB_REGEX;
		if (p && (want(l, p, YT_SCALAR, "a kind") < 0 || fd_scrub_kind_parse(p->str, &kind) < 0))
			return p->kind == YT_SCALAR
				       ? bad(l, p, "unknown pattern '%s' (email, ipv4, ipv6, card, jwt, bearer, uuid)",
					     p->str)
				       : -FD_EINPUT;
		if (re && want(l, re, YT_SCALAR, "a regular expression") < 0)
			return -FD_EINPUT;
		const struct yt_node *nm = yt_get(it, "name");
		char name[160], place[256];
		snprintf(name, sizeof(name), "values.%s", nm && nm->kind == YT_SCALAR ? nm->str
						 : p ? p->str : "regex");
		snprintf(place, sizeof(place), "%s:%d:%d", l->name, it->pos.line, it->pos.col);
		struct fd_rewrite_value_rule *vr;
		int rc = add_value(l->r, name, kind, re ? re->str : NULL, &vr, l->err, place);
		if (rc < 0)
			return rc;
		const struct yt_node *a = yt_get(it, "action"), *w = yt_get(it, "with");
		if (a && action_of(l, a, false, &vr->action) < 0)
			return -FD_EINPUT;
		if (vr->action == FD_REWRITE_REPLACE) {
			if (!w || w->kind != YT_SCALAR)
				return bad(l, it, "%s", "action replace needs with: VALUE");
			if (!(vr->with = strdup(w->str)))
				return oom(l->err);
		}
		const struct yt_node *in = yt_get(it, "in");
		if (in) {
			if (want(l, in, YT_SEQ, "a list of attributes, resource, body, names") < 0)
				return -FD_EINPUT;
			vr->where = 0;
			for (size_t j = 0; j < in->n; j++) {
				const char *s = in->items[j]->kind == YT_SCALAR ? in->items[j]->str : "";
				if (strcmp(s, "attributes") == 0)
					vr->where |= FD_WHERE_ATTRIBUTES;
				else if (strcmp(s, "resource") == 0)
					vr->where |= FD_WHERE_RESOURCE;
				else if (strcmp(s, "body") == 0 || strcmp(s, "bodies") == 0)
					vr->where |= FD_WHERE_BODY;
				else if (strcmp(s, "names") == 0)
					vr->where |= FD_WHERE_NAMES;
				else
					return bad(l, in->items[j], "unknown place '%s' (attributes, resource, body, names)", s);
			}
		}
		const struct yt_node *ks = yt_get(it, "keys");
		if (ks) {
			if (want(l, ks, YT_SEQ, "a list of attribute key globs") < 0)
				return -FD_EINPUT;
			if (!(vr->keys = calloc(ks->n ? ks->n : 1, sizeof(char *))))
				return oom(l->err);
			for (size_t j = 0; j < ks->n; j++) {
				if (want(l, ks->items[j], YT_SCALAR, "a key glob") < 0)
					return -FD_EINPUT;
				if (!(vr->keys[vr->n_keys] = strdup(ks->items[j]->str)))
					return oom(l->err);
				vr->n_keys++;
			}
		}
		if (push_name(l->r, "%s", name) < 0)
			return oom(l->err);
	}
	return 0;
}

static int load_time(struct loader *l, const struct yt_node *n)
{
	static const char *const keys[] = {"shift", "from", "until", NULL};
	if (want(l, n, YT_MAP, "{shift, from, until}") < 0 || check_keys(l, n, keys) < 0)
		return -FD_EINPUT;
	const struct yt_node *s = yt_get(n, "shift"), *f = yt_get(n, "from"), *u = yt_get(n, "until");
	if (s) {
		const char *why = NULL;
		if (want(l, s, YT_SCALAR, "a duration such as -30d or 2h") < 0)
			return -FD_EINPUT;
		bool neg = s->str[0] == '-';
		int64_t d;
		if (fd_units_duration(s->str + (neg || s->str[0] == '+'), &d, &why) < 0)
			return bad(l, s, "bad shift: %s", why ? why : "expected a duration such as -30d");
		l->r->shift_ns = neg ? -d : d;
		if (push_name(l->r, "%s", "time.shift") < 0)
			return oom(l->err);
	}
	if (f && (want(l, f, YT_SCALAR, "a time or an offset") < 0 || !(l->r->from = strdup(f->str))))
		return f->kind == YT_SCALAR ? oom(l->err) : -FD_EINPUT;
	if (u && (want(l, u, YT_SCALAR, "a time or an offset") < 0 || !(l->r->until = strdup(u->str))))
		return u->kind == YT_SCALAR ? oom(l->err) : -FD_EINPUT;
	if ((f || u) && push_name(l->r, "%s", "time.window") < 0)
		return oom(l->err);
	return 0;
}

static int load_drop(struct loader *l, const struct yt_node *n)
{
	static const char *const keys[] = {"services", "signals", NULL};
	if (want(l, n, YT_MAP, "{services, signals}") < 0 || check_keys(l, n, keys) < 0)
		return -FD_EINPUT;
	const struct yt_node *sv = yt_get(n, "services"), *sg = yt_get(n, "signals");
	char rule[300];
	if (sv) {
		if (want(l, sv, YT_SEQ, "a list of service names") < 0)
			return -FD_EINPUT;
		for (size_t i = 0; i < sv->n; i++) {
			if (want(l, sv->items[i], YT_SCALAR, "a service name") < 0)
				return -FD_EINPUT;
			snprintf(rule, sizeof(rule), "drop-service:%s", sv->items[i]->str);
			if (fd_rewrite_rules_add(l->r, rule, l->err) < 0)
				return -FD_ERUNTIME;
		}
	}
	if (sg) {
		if (want(l, sg, YT_SEQ, "a list of signals") < 0)
			return -FD_EINPUT;
		for (size_t i = 0; i < sg->n; i++) {
			enum fd_signal s;
			if (want(l, sg->items[i], YT_SCALAR, "a signal") < 0)
				return -FD_EINPUT;
			if (fd_signal_parse(sg->items[i]->str, &s) < 0)
				return bad(l, sg->items[i], "unknown signal '%s' (traces, metrics, logs)",
					   sg->items[i]->str);
			l->r->drop_signals |= 1u << s;
		}
		if (push_name(l->r, "%s", "drop.signals") < 0)
			return oom(l->err);
	}
	return 0;
}

static int load_key(struct loader *l, const struct yt_node *root)
{
	const struct yt_node *env = yt_get(root, "key_env"), *file = yt_get(root, "key_file");
	if (env && file)
		return bad(l, file, "%s", "give one of key_env and key_file");
	if (env) {
		if (want(l, env, YT_SCALAR, "a variable name") < 0)
			return -FD_EINPUT;
		const char *k = getenv(env->str);
		if (!k || !*k)
			return bad(l, env, "the hashing key variable %s is not set", env->str);
		l->r->key_len = strlen(k) < sizeof(l->r->key) ? strlen(k) : sizeof(l->r->key);
		memcpy(l->r->key, k, l->r->key_len);
	}
	if (file) {
		if (want(l, file, YT_SCALAR, "a file name") < 0)
			return -FD_EINPUT;
		FILE *f = fopen(file->str, "rb");
		if (!f)
			return bad(l, file, "cannot read the key file: %s", strerror(errno));
		size_t n = fread(l->r->key, 1, sizeof(l->r->key), f);
		bool failed = ferror(f);
		fclose(f);
		while (n && (l->r->key[n - 1] == '\n' || l->r->key[n - 1] == '\r'))
			n--;
		if (failed || !n)
			return bad(l, file, "%s", "the key file is empty or unreadable");
		l->r->key_len = n;
	}
	return 0;
}

int fd_rewrite_rules_load(struct fd_rewrite_rules *r, const char *path, struct fd_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fd_error_set(err, FD_EINPUT, "%s: %s", path, strerror(errno));
	char *text = malloc(RULES_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		return oom(err);
	}
	size_t len = fread(text, 1, RULES_MAX_BYTES + 1, f);
	bool failed = ferror(f);
	int saved = errno;
	fclose(f);
	if (failed) {
		free(text);
		return fd_error_set(err, FD_EINPUT, "%s: %s", path, strerror(saved));
	}
	if (len > RULES_MAX_BYTES) {
		free(text);
		return fd_error_set(err, FD_EINPUT, "%s: larger than %d MiB", path, RULES_MAX_BYTES >> 20);
	}
	struct fd_arena *arena = fd_arena_create();
	struct yt_node *root = NULL;
	int rc = arena ? yt_load(arena, path, text, len, &root, err) : oom(err);
	free(text);
	struct loader l = {path, r, err};
	static const char *const top[] = {"key_env", "key_file", "rename", "attributes", "values",
					  "time", "drop", NULL};
	if (rc == 0 && !root)
		rc = fd_error_set(err, FD_EINPUT, "%s: no rules", path);
	if (rc == 0 && (rc = want(&l, root, YT_MAP, "a mapping of rules")) == 0 &&
	    (rc = check_keys(&l, root, top)) == 0) {
		const struct yt_node *n;
		if (rc == 0 && (n = yt_get(root, "rename")))
			rc = load_renames(&l, n);
		if (rc == 0 && (n = yt_get(root, "attributes")))
			rc = load_attributes(&l, n);
		if (rc == 0 && (n = yt_get(root, "values")))
			rc = load_values(&l, n);
		if (rc == 0 && (n = yt_get(root, "time")))
			rc = load_time(&l, n);
		if (rc == 0 && (n = yt_get(root, "drop")))
			rc = load_drop(&l, n);
		if (rc == 0)
			rc = load_key(&l, root);
	}
	fd_arena_destroy(arena);
	return rc < 0 ? rc : 0;
}

void fd_rewrite_rules_finish(struct fd_rewrite_rules *r)
{
	for (size_t i = 0; i < r->n_renames; i++) {
		free(r->renames[i].from);
		free(r->renames[i].to);
	}
	free(r->renames);
	for (size_t i = 0; i < r->n_attrs; i++) {
		free(r->attrs[i].glob);
		free(r->attrs[i].with);
	}
	free(r->attrs);
	for (size_t i = 0; i < r->n_values; i++) {
		struct fd_rewrite_value_rule *v = &r->values[i];
		free(v->name);
		free(v->with);
		if (v->kind == FD_SCRUB_REGEX)
			regfree(&v->re);
		for (size_t j = 0; j < v->n_keys; j++)
			free(v->keys[j]);
		free(v->keys);
	}
	free(r->values);
	free(r->from);
	free(r->until);
	for (size_t i = 0; i < r->n_drop_services; i++)
		free(r->drop_services[i]);
	free(r->drop_services);
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof(*r));
}
