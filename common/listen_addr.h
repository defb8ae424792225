/*
 * A local address to listen on, as [HOST]:PORT: an IPv4 address or
 * localhost, empty for every interface; port 0 lets the system choose.
 * Shared by everything that serves HTTP (scrape:, the drill console,
 * --self-metrics) so that they read the same way.
 */
#ifndef FD_COMMON_LISTEN_ADDR_H
#define FD_COMMON_LISTEN_ADDR_H

#include <netinet/in.h>
#include <stddef.h>

/* Parses text[0..len) into *sa. Returns 0, or -1 with *why set to a
 * message that names the part in error (written into whybuf, of n). */
int fd_listen_addr_parse(const char *text, size_t len, struct sockaddr_in *sa, char *whybuf,
			 size_t n);

/* "HOST:PORT" for a person to use: the bound port, and 127.0.0.1 for a
 * server on every interface. */
void fd_listen_addr_format(const struct sockaddr_in *sa, unsigned port, char *buf, size_t n);

#endif
