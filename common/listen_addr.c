#include "common/listen_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"

int fd_listen_addr_parse(const char *text, size_t len, struct sockaddr_in *sa, char *whybuf,
			 size_t n)
{
	const char *colon = NULL;
	for (size_t i = len; i > 0; i--)
		if (text[i - 1] == ':') {
			colon = text + i - 1;
			break;
		}
	char host[64], port[16];
	size_t hn = colon ? (size_t)(colon - text) : 0, pn = colon ? len - hn - 1 : 0;
	if (!colon || pn == 0) {
		snprintf(whybuf, n, "needs [HOST]:PORT, e.g. :9464 or 127.0.0.1:9464");
		return -1;
	}
	if (hn >= sizeof(host) || pn >= sizeof(port)) {
		snprintf(whybuf, n, "'%.*s' is not HOST:PORT", (int)len, text);
		return -1;
	}
	memcpy(host, text, hn);
	host[hn] = '\0';
	memcpy(port, colon + 1, pn);
	port[pn] = '\0';
	long long p;
	const char *why = NULL;
	if (fd_units_integer(port, 0, 65535, &p, &why) < 0) {
		snprintf(whybuf, n, "port '%s': %s", port, why);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)p);
	if (hn == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		snprintf(whybuf, n,
			 "host '%s' is not an IPv4 address (or localhost; leave it empty for every "
			 "interface)",
			 host);
		return -1;
	}
	return 0;
}

void fd_listen_addr_format(const struct sockaddr_in *sa, unsigned port, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN] = "127.0.0.1";
	if (sa->sin_addr.s_addr != htonl(INADDR_ANY))
		inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a));
	snprintf(buf, n, "%s:%u", a, port);
}
