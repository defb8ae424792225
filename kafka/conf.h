/*
 * Kafka client configuration, shared by the kafka:// sink (a producer)
 * and the kafka:// source (a consumer): librdkafka properties the user
 * gives (X.KEY=VALUE in the URI, -X KEY=VALUE on the command line) are
 * applied after our defaults, so that they override them, and no message
 * ever shows a secret one's value — not when librdkafka refuses it, not
 * when its name is a typo (sasl.pasword is a secret too, see
 * common/redact.h), not in librdkafka's own error texts.
 */
#ifndef FD_KAFKA_CONF_H
#define FD_KAFKA_CONF_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "common/error.h"

/* The user's properties, in the order given. */
struct fd_kafka_props {
	char **kv; /* "KEY=VALUE" each; owned */
	size_t n;
};

/* Adds KEY=VALUE (for an X.KEY option: key without "X."). FD_ERUNTIME
 * when out of memory. */
int fd_kafka_props_add(struct fd_kafka_props *p, const char *key, const char *value,
		       struct fd_error *err);
void fd_kafka_props_finish(struct fd_kafka_props *p); /* frees; p may be reused */

/* A configuration whose log goes to log_cb (NULL: nowhere; modules never
 * print). NULL when out of memory. */
rd_kafka_conf_t *fd_kafka_conf_new(void (*log_cb)(const rd_kafka_t *rk, int level,
						  const char *fac, const char *buf));

/* One of our own settings. FD_ERUNTIME when librdkafka refuses it. */
int fd_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
		      struct fd_error *err);

/* The user's properties, in order. FD_EINPUT for one librdkafka does not
 * know (with a did-you-mean among its property names) or refuses; the
 * message starts with what ("sink 'kafka://...'"), names the property as
 * "-X KEY" and shows no secret value. */
int fd_kafka_conf_apply(rd_kafka_conf_t *conf, const char *what, const struct fd_kafka_props *p,
			struct fd_error *err);

/* rd_kafka_new, with its error text scrubbed of p's secret values: NULL
 * and err set (FD_EINPUT: librdkafka checks some properties only
 * together, here) on failure. Owns conf when it succeeds; conf is still
 * the caller's when it fails. */
rd_kafka_t *fd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
			 const struct fd_kafka_props *p, struct fd_error *err);

/* A broker list "HOST:PORT[,HOST:PORT...]" as a URI gives it (b[0..n)),
 * checked before librdkafka sees it (it would retry a bad one for half a
 * minute): FD_EINPUT, the message starting with what ("sink
 * 'kafka://...'"), for an empty list or entry, a character that is not
 * part of an address, an empty host, a port that is not a number from 1 to
 * 65535, or an IPv6 address without brackets ([::1]:9092). A missing port
 * is librdkafka's default, 9092. */
int fd_kafka_brokers_check(const char *what, const char *b, size_t n, struct fd_error *err);

/* Blanks out, in text, the value of each of p's secret properties: for
 * texts librdkafka writes (error callbacks, logs) before they are kept or
 * shown. */
void fd_kafka_redact(char *text, const struct fd_kafka_props *p);

#endif
