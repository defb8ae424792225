#include "kafka/conf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redact.h"
#include "common/suggest.h"

int fd_kafka_props_add(struct fd_kafka_props *p, const char *key, const char *value,
		       struct fd_error *err)
{
	size_t kn = strlen(key), vn = strlen(value);
	char **v = realloc(p->kv, (p->n + 1) * sizeof(*v));
	if (!v)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	p->kv = v;
	char *kv = malloc(kn + vn + 2);
	if (!kv)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	memcpy(kv, key, kn);
	kv[kn] = '=';
	memcpy(kv + kn + 1, value, vn + 1);
	p->kv[p->n++] = kv;
	return 0;
}

void fd_kafka_props_finish(struct fd_kafka_props *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->kv[i]);
	free(p->kv);
	p->kv = NULL;
	p->n = 0;
}

rd_kafka_conf_t *fd_kafka_conf_new(void (*log_cb)(const rd_kafka_t *rk, int level,
						  const char *fac, const char *buf))
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (conf)
		rd_kafka_conf_set_log_cb(conf, log_cb);
	return conf;
}

int fd_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
		      struct fd_error *err)
{
	char why[512];
	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
		return fd_error_set(err, FD_ERUNTIME, "librdkafka: %s=%s: %s", key, value, why);
	return 0;
}

/* The property of librdkafka's closest to name, for a did-you-mean: its
 * names from its own table (rd_kafka_conf_properties_show), only on this
 * error path. Into best (n bytes); "" when none is close. */
static void closest_property(const char *name, char *best, size_t n)
{
	best[0] = '\0';
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	rd_kafka_conf_properties_show(f);
	if (fclose(f) != 0 || !text) {
		free(text);
		return;
	}
	const char *names[1024];
	size_t count = 0;
	/* "name    |  *  | range | default | importance | description" */
	for (char *line = text; line && *line && count < 1024;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t w = strcspn(line, " |");
		if (w > 0 && line[w] == ' ' && strchr(line + w, '|') && strncmp(line, "Property", w)) {
			line[w] = '\0';
			names[count++] = line;
		}
		line = nl ? nl + 1 : NULL;
	}
	const char *b = fd_suggest(name, names, count);
	if (b)
		snprintf(best, n, "%s", b);
	free(text);
}

/* One property. librdkafka's reason may quote the value: a secret's is
 * blanked out of it, or, too short to find, the reason is left out. */
static int apply_one(rd_kafka_conf_t *conf, const char *what, const char *kv, struct fd_error *err)
{
	const char *eq = strchr(kv, '=');
	char key[256];
	size_t kn = eq ? (size_t)(eq - kv) : 0;
	if (!eq || kn == 0 || kn >= sizeof(key))
		return fd_error_set(err, FD_EINPUT, "%s: -X: expected KEY=VALUE with a short KEY", what);
	memcpy(key, kv, kn);
	key[kn] = '\0';
	const char *value = eq + 1;
	char why[512];
	rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, key, value, why, sizeof(why));
	if (r == RD_KAFKA_CONF_OK)
		return 0;
	if (r == RD_KAFKA_CONF_UNKNOWN) {
		char best[128];
		closest_property(key, best, sizeof(best));
		return fd_error_set(err, FD_EINPUT, "%s: -X %s: no such librdkafka property%s%s%s", what,
				    key, best[0] ? " (did you mean '" : "", best, best[0] ? "'?)" : "");
	}
	if (fd_redact_secret_key(key)) {
		if (strlen(value) < 3)
			return fd_error_set(err, FD_EINPUT, "%s: -X %s: librdkafka refused the value "
							    "(not shown)",
					    what, key);
		fd_redact_values(why, &value, 1);
	}
	return fd_error_set(err, FD_EINPUT, "%s: -X %s: %s", what, key, why);
}

int fd_kafka_conf_apply(rd_kafka_conf_t *conf, const char *what, const struct fd_kafka_props *p,
			struct fd_error *err)
{
	for (size_t i = 0; i < p->n; i++) {
		int rc = apply_one(conf, what, p->kv[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void fd_kafka_redact(char *text, const struct fd_kafka_props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *eq = strchr(p->kv[i], '=');
		char key[256];
		if (!eq || (size_t)(eq - p->kv[i]) >= sizeof(key))
			continue;
		memcpy(key, p->kv[i], (size_t)(eq - p->kv[i]));
		key[eq - p->kv[i]] = '\0';
		const char *value = eq + 1;
		if (fd_redact_secret_key(key))
			fd_redact_values(text, &value, 1);
	}
}

rd_kafka_t *fd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
			 const struct fd_kafka_props *p, struct fd_error *err)
{
	char why[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
	if (!rk) {
		fd_kafka_redact(why, p);
		fd_error_set(err, FD_EINPUT, "%s: Kafka %s: %s", what,
			     type == RD_KAFKA_PRODUCER ? "producer" : "consumer", why);
	}
	return rk;
}
