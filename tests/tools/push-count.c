/*
 * push-count OTLP_URI: a receiver that only counts, for bench/push-speed.
 * OTLP_URI is otlp-http://127.0.0.1:0 or otlp-grpc://127.0.0.1:0:
 * firedrill's own receivers (sources/otlp_http.c, sources/otlp_grpc.c),
 * whose requests are answered as soon as they are taken, without being
 * decoded. Prints the port on the first line of standard output, runs
 * until SIGTERM or SIGINT, then prints "REQUESTS requests, BYTES bytes".
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sources/source.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	const char *p = strrchr(msg, ':');
	unsigned port;
	if (p && sscanf(p + 1, "%u", &port) == 1) {
		printf("%u\n", port);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: push-count otlp-http://HOST:PORT|otlp-grpc://HOST:PORT\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct fd_source_context ctx = {.notice = on_notice};
	struct fd_source *src;
	struct fd_error err = {0};
	if (fd_source_open(argv[1], &ctx, &src, &err) < 0) {
		fprintf(stderr, "push-count: %s\n", err.msg);
		return 2;
	}
	unsigned long long requests = 0, bytes = 0;
	while (!stop) {
		struct fd_source_msg msg;
		int rc = fd_source_next(src, &msg, 100, &err);
		if (rc < 0) {
			fprintf(stderr, "push-count: %s\n", err.msg);
			break;
		}
		if (rc != 1)
			continue;
		requests++;
		bytes += msg.len;
		fd_source_done(src, &msg, 0, 0, false);
	}
	fd_source_destroy(src);
	printf("%llu requests, %llu bytes\n", requests, bytes);
	return 0;
}
