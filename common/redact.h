/*
 * Secrets never shown: one redaction for every sink and source, for what
 * goes into messages, summaries and recording headers.
 *
 * What counts as a secret:
 *   - the value of a key that looks like one: a part of the key (between
 *     '.', '_' and '-') that is, or is one typo away from, password,
 *     passwd, secret, token, credential(s), authorization, or the key holds
 *     sasl.jaas, oauthbearer.config, ssl.key or api key; -X
 *     sasl.pasword=... is a secret too, although librdkafka knows no such
 *     property;
 *   - the password of a URL's user info (http://user:PASS@host, also
 *     inside a sink URI: prom-rw:http://user:PASS@host/...);
 *   - the value of a header option (header=Authorization: Bearer x): the
 *     header's name stays, its value goes.
 * A redacted value reads "***".
 */
#ifndef FD_REDACT_H
#define FD_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* True when key's value must never be shown (see above). A prefix "X."
 * (a librdkafka property in a URI) is looked through. */
bool fd_redact_secret_key(const char *key);

/* uri as it may be shown: the password of every user info and the values
 * of secret and header options of its query replaced by "***". Into out
 * (n bytes, always terminated; cut short when it does not fit). */
void fd_redact_uri(const char *uri, char *out, size_t n);

/* Blanks out, in text (in place), every occurrence of each of the n
 * values with '*' (values shorter than 3 characters are left: they would
 * blank out common words, and are no secret anyway). For texts others
 * wrote that may quote a value (librdkafka's error strings). */
void fd_redact_values(char *text, const char *const *values, size_t n);

#endif
