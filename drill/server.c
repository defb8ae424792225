/*
 * The control API and console over libmicrohttpd (server.h).
 *
 * MHD calls the handler at least twice for a POST (headers, then the end of
 * the body); the first call only marks the connection, the answer comes on
 * the last. Bodies are built with open_memstream and handed to MHD, which
 * frees them.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/listen_addr.h"
#include "common/timefmt.h"
#include "common/units.h"
#include "drill/server.h"
#include "drill/web.h"

struct fd_drill_server {
	struct fd_drill *drill;
	struct MHD_Daemon *httpd;
	char url[64];
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	struct fd_json j;
	fd_json_init(&j, f, false);
	fd_json_object_begin(&j);
	fd_json_key(&j, "error");
	fd_json_string(&j, msg);
	fd_json_object_end(&j);
	fd_json_flush(&j);
	fclose(f);
	return respond(c, status, "application/json", body, len, MHD_RESPMEM_MUST_FREE);
}

/* A JSON body written by fn into a memory stream. */
static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status,
				    void (*fn)(struct fd_drill_server *s, FILE *f, const void *arg),
				    struct fd_drill_server *s, const void *arg)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	fn(s, f, arg);
	if (fclose(f) != 0) {
		free(body);
		return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	return respond(c, status, "application/json", body, len, MHD_RESPMEM_MUST_FREE);
}

static void write_scenario(struct fd_drill_server *s, FILE *f, const void *arg)
{
	(void)arg;
	fd_drill_scenario_json(s->drill, f);
}

static void write_state(struct fd_drill_server *s, FILE *f, const void *arg)
{
	fd_drill_state_json(s->drill, *(const double *)arg, f);
}

struct taken_reply {
	const char *name;
	int64_t at_ns;
	int64_t start_ns;
};

static void write_taken(struct fd_drill_server *s, FILE *f, const void *arg)
{
	(void)s;
	const struct taken_reply *t = arg;
	char b[40];
	struct fd_json j;
	fd_json_init(&j, f, false);
	fd_json_object_begin(&j);
	fd_json_key(&j, "name");
	fd_json_string(&j, t->name);
	fd_json_key(&j, "effective_at_s");
	fd_json_double(&j, (double)t->at_ns / 1e9);
	fd_json_key(&j, "effective_time");
	fd_json_string(&j, fd_format_time(b, sizeof(b), t->start_ns + t->at_ns));
	fd_json_object_end(&j);
	fd_json_flush(&j);
}

static void write_stopping(struct fd_drill_server *s, FILE *f, const void *arg)
{
	(void)s;
	(void)arg;
	fputs("{\"stopping\":true}", f);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload;
	struct fd_drill_server *s = cls;
	static int marker;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (post && !*con_cls) {
		*con_cls = &marker; /* headers only so far: wait for the body's end */
		return MHD_YES;
	}
	if (post && *upload_size) {
		*upload_size = 0; /* no body is needed: ignore it */
		return MHD_YES;
	}
	if (get && (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0))
		return respond(c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)fd_web_console_html,
			       fd_web_console_html_len, MHD_RESPMEM_PERSISTENT);
	if (get && strcmp(url, "/api/scenario") == 0)
		return respond_json(c, MHD_HTTP_OK, write_scenario, s, NULL);
	if (get && strcmp(url, "/api/state") == 0) {
		double since = -1;
		const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
		const char *why;
		if (q && *q && fd_units_number(q, &since, &why) < 0 && strcmp(q, "-1") != 0)
			return respond_error(c, MHD_HTTP_BAD_REQUEST, "since: expected a number of seconds");
		return respond_json(c, MHD_HTTP_OK, write_state, s, &since);
	}
	if (strncmp(url, "/api/actions/", 13) == 0) {
		if (!post)
			return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST to take an action");
		struct fd_error err = {0};
		struct taken_reply t = {.name = url + 13};
		int rc = fd_drill_take(s->drill, t.name, &t.at_ns, &err);
		if (rc == -FD_DRILL_UNKNOWN)
			return respond_error(c, MHD_HTTP_NOT_FOUND, err.msg);
		if (rc == -FD_DRILL_TAKEN)
			return respond_error(c, MHD_HTTP_CONFLICT, err.msg);
		if (rc == -FD_DRILL_OVER)
			return respond_error(c, MHD_HTTP_GONE, err.msg);
		if (rc < 0)
			return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, err.msg);
		t.start_ns = fd_drill_start(s->drill);
		return respond_json(c, MHD_HTTP_OK, write_taken, s, &t);
	}
	if (strcmp(url, "/api/stop") == 0) {
		if (!post)
			return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST to stop the drill");
		fd_drill_stop(s->drill);
		return respond_json(c, MHD_HTTP_ACCEPTED, write_stopping, s, NULL);
	}
	if (!get && !post)
		return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST");
	return respond_error(c, MHD_HTTP_NOT_FOUND, "no such page (the console is at /)");
}

static int parse_address(const char *address, struct sockaddr_in *sa, struct fd_error *err)
{
	char why[160];
	if (fd_listen_addr_parse(address, strlen(address), sa, why, sizeof(why)) < 0)
		return fd_error_set(err, FD_EINPUT, "--console '%s': %s", address, why);
	return 0;
}

int fd_drill_server_start(struct fd_drill *d, const char *address, struct fd_drill_server **out,
			  struct fd_error *err)
{
	*out = NULL;
	struct sockaddr_in sa;
	int rc;
	if ((rc = parse_address(address, &sa, err)) < 0)
		return rc;
	struct fd_drill_server *s = calloc(1, sizeof(*s));
	if (!s)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	s->drill = d;
	s->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL, NULL,
				    on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!s->httpd) {
		char a[INET_ADDRSTRLEN];
		free(s);
		return fd_error_set(err, FD_ERUNTIME,
				    "--console: cannot listen on %s:%u (in use, or not an address of this machine?)",
				    inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)), (unsigned)ntohs(sa.sin_port));
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : ntohs(sa.sin_port);
	char a[INET_ADDRSTRLEN];
	if (sa.sin_addr.s_addr == htonl(INADDR_ANY))
		snprintf(a, sizeof(a), "127.0.0.1");
	else
		inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
	snprintf(s->url, sizeof(s->url), "http://%s:%u/", a, port);
	*out = s;
	return 0;
}

const char *fd_drill_server_url(const struct fd_drill_server *s)
{
	return s->url;
}

void fd_drill_server_stop(struct fd_drill_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->httpd);
	free(s);
}
