#include "common/redact.h"

#include <ctype.h>
#include <string.h>

#include "common/suggest.h"

/* Words a part of a secret key is, or is a typo of. */
static const char *const secret_words[] = {
	"password", "passwd", "pwd", "secret", "secrets", "token", "credential", "credentials",
	"authorization", "passphrase",
};

/* Secret wherever they appear in a key. */
static const char *const secret_parts[] = {
	"sasl.jaas", "oauthbearer.config", "ssl.key", "ssl_key", "apikey", "api_key", "api.key",
	"api-key", "header",
};

bool fd_redact_secret_key(const char *key)
{
	if (strncmp(key, "X.", 2) == 0)
		key += 2;
	char low[256];
	size_t n = strlen(key);
	if (n >= sizeof(low))
		return true; /* nobody's property name: safer hidden */
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		if (strstr(low, secret_parts[i]))
			return true;
	size_t nw = sizeof(secret_words) / sizeof(secret_words[0]);
	for (char *p = low; *p;) {
		size_t len = strcspn(p, "._-");
		char c = p[len];
		p[len] = '\0';
		bool hit = false;
		for (size_t i = 0; i < nw && !hit; i++)
			hit = strcmp(p, secret_words[i]) == 0;
		if (!hit && len >= 5)
			hit = fd_suggest(p, secret_words, nw) != NULL; /* sasl.pasword */
		if (hit)
			return true;
		p[len] = c;
		p += len + (c != '\0');
	}
	return false;
}

struct buf {
	char *out;
	size_t n, off;
};

static void put(struct buf *b, const char *s, size_t len)
{
	if (b->off + 1 >= b->n)
		return;
	size_t room = b->n - 1 - b->off;
	if (len > room)
		len = room;
	memcpy(b->out + b->off, s, len);
	b->off += len;
	b->out[b->off] = '\0';
}

/* s[0..len) with the password of each "://user:pass@" hidden. */
static void put_userinfo_hidden(struct buf *b, const char *s, size_t len)
{
	const char *end = s + len;
	while (s < end) {
		const char *sep = NULL;
		for (const char *p = s; p + 3 <= end && !sep; p++)
			if (memcmp(p, "://", 3) == 0)
				sep = p;
		if (!sep) {
			put(b, s, (size_t)(end - s));
			return;
		}
		const char *auth = sep + 3;
		const char *auth_end = auth;
		while (auth_end < end && !strchr("/?#", *auth_end))
			auth_end++;
		const char *at = NULL;
		for (const char *p = auth; p < auth_end; p++)
			if (*p == '@')
				at = p;
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			put(b, s, (size_t)(colon + 1 - s));
			put(b, "***", 3);
			s = at;
		} else {
			put(b, s, (size_t)(auth - s));
			s = auth;
		}
	}
}

void fd_redact_uri(const char *uri, char *out, size_t n)
{
	struct buf b = {out, n, 0};
	if (n)
		out[0] = '\0';
	/* the query starts at the first '?' after the last authority */
	const char *q = NULL;
	const char *last = uri;
	for (const char *p = strstr(uri, "://"); p; p = strstr(p + 3, "://"))
		last = p + 3;
	q = strchr(last, '?');
	size_t head = q ? (size_t)(q - uri) : strlen(uri);
	put_userinfo_hidden(&b, uri, head);
	if (!q)
		return;
	put(&b, "?", 1);
	for (const char *kv = q + 1; *kv;) {
		size_t len = strcspn(kv, "&");
		const char *eq = memchr(kv, '=', len);
		char key[256];
		size_t kn = eq ? (size_t)(eq - kv) : 0;
		if (eq && kn < sizeof(key)) {
			memcpy(key, kv, kn);
			key[kn] = '\0';
		}
		if (!eq || kn >= sizeof(key) || !fd_redact_secret_key(key)) {
			put_userinfo_hidden(&b, kv, len); /* a URL as a value */
		} else {
			/* header=NAME: VALUE keeps the name */
			const char *v = eq + 1, *colon = NULL;
			if (strstr(key, "header"))
				colon = memchr(v, ':', (size_t)(kv + len - v));
			put(&b, kv, (size_t)((colon ? colon + 1 : v) - kv));
			put(&b, "***", 3);
		}
		kv += len;
		if (*kv == '&') {
			put(&b, "&", 1);
			kv++;
		}
	}
}

void fd_redact_values(char *text, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t vl = values[i] ? strlen(values[i]) : 0;
		if (vl < 3)
			continue;
		for (char *p = strstr(text, values[i]); p; p = strstr(p + vl, values[i]))
			memset(p, '*', vl);
	}
}
