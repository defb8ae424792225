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

/* One entry of a broker list: host, [v6], host:port or [v6]:port. */
static const char *broker_problem(const char *e, size_t m)
{
	const char *colon = NULL;
	size_t host_len = m;
	if (e[0] == '[') {
		const char *close = memchr(e, ']', m);
		if (!close || close == e + 1)
			return "an IPv6 address goes in brackets: [::1]:9092";
		if (close + 1 < e + m) {
			if (close[1] != ':')
				return "expected ':PORT' after the bracketed address";
			colon = close + 1;
		}
	} else {
		colon = memchr(e, ':', m);
		if (colon && memchr(colon + 1, ':', m - (size_t)(colon + 1 - e)))
			return "an IPv6 address goes in brackets: [::1]:9092";
		host_len = colon ? (size_t)(colon - e) : m;
		if (host_len == 0)
			return "no host before the port";
	}
	if (!colon)
		return NULL;
	size_t plen = m - (size_t)(colon + 1 - e);
	unsigned long port = 0;
	for (size_t i = 0; i < plen; i++) {
		char c = colon[1 + i];
		if (c < '0' || c > '9')
			return "the port is not a number";
		port = port * 10 + (unsigned long)(c - '0');
		if (port > 65535)
			break;
	}
	if (plen == 0 || port < 1 || port > 65535)
		return "the port must be from 1 to 65535";
	return NULL;
}

int fd_kafka_brokers_check(const char *what, const char *b, size_t n, struct fd_error *err)
{
	if (n == 0)
		return fd_error_set(err, FD_EINPUT,
				    "%s: kafka: needs brokers, e.g. kafka://localhost:9092 or "
				    "kafka://embedded",
				    what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c <= ' ' || c == '/' || c == '@' || c == 0x7f)
			return fd_error_set(err, FD_EINPUT, "%s: kafka: broker list '%.*s': unexpected '%c'",
					    what, (int)n, b, c > ' ' ? c : '?');
		if (c == ',' && (i == 0 || i + 1 == n || b[i + 1] == ','))
			return fd_error_set(err, FD_EINPUT, "%s: kafka: broker list '%.*s' has an empty entry",
					    what, (int)n, b);
	}
	for (size_t i = 0; i < n;) {
		const char *comma = memchr(b + i, ',', n - i);
		size_t m = comma ? (size_t)(comma - (b + i)) : n - i;
		const char *why = broker_problem(b + i, m);
		if (why)
			return fd_error_set(err, FD_EINPUT, "%s: kafka: broker '%.*s': %s", what, (int)m,
					    b + i, why);
		i += m + 1;
	}
	return 0;
}
