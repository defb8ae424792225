/*
 * Stack traces as each runtime prints them (Java frames, Go panics' goroutine
 * dumps, Python tracebacks...), with the service's own names.
 *
 * A failure site — the service, its handler (method and route), the kind of
 * failure — prints the same frames and line numbers every time; only the
 * message differs per occurrence, and in a Go dump what shows the running
 * process: the goroutine's number and the heap pointers passed as
 * arguments, from the request's trace id. So a site's dump is formatted
 * once, with holes where those go, and each later occurrence copies it and
 * fills the holes: formatting every dump with snprintf was about 7% of
 * `generate retry-storm`'s CPU (perf), where every failing request logs one.
 * The bytes are the same as formatting each dump whole.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "generator/sim_internal.h"

/* The handler's names from its route: "POST /orders/{id}" on checkout is
 * OrdersController.createOrder in Java, (*OrdersHandler).Create in Go... */
struct names {
	char res[48];    /* "orders" */
	char Res[48];    /* "Orders" */
	char verb[16];   /* "create" */
	char Verb[16];
};

static void handler_names(struct names *nm, const char *method, const char *route)
{
	const char *p = route ? route : "/";
	while (*p == '/')
		p++;
	size_t k = 0;
	for (; *p && *p != '/' && *p != '{' && k + 1 < sizeof(nm->res); p++)
		if (isalnum((unsigned char)*p))
			nm->res[k++] = *p;
	if (!k)
		nm->res[k++] = 'x';
	nm->res[k] = '\0';
	snprintf(nm->Res, sizeof(nm->Res), "%s", nm->res);
	nm->Res[0] = (char)toupper((unsigned char)nm->Res[0]);
	const char *v = !method ? "handle" : !strcmp(method, "GET") ? "get" : !strcmp(method, "POST") ? "create"
			: !strcmp(method, "PUT") ? "update" : !strcmp(method, "DELETE") ? "delete" : "handle";
	snprintf(nm->verb, sizeof(nm->verb), "%s", v);
	snprintf(nm->Verb, sizeof(nm->Verb), "%s", v);
	nm->Verb[0] = (char)toupper((unsigned char)nm->Verb[0]);
}

/* What differs per occurrence, as text: the message, and in Go the
 * goroutine's number and GO_PTRS heap pointers (6 hex digits each, after
 * "0xc000"). In a template each is a one-byte hole marker. */
#define GO_PTRS 11
enum { HOLE_MSG = 1, HOLE_GOROUTINE, HOLE_PTR };
struct occurrence {
	const char *msg, *goroutine, *ptr[GO_PTRS];
};

/* The pointers' bits of r, in the order the dump shows them. */
static const unsigned char go_ptr_shift[GO_PTRS] = {0, 24, 8, 32, 12, 4, 28, 16, 40, 36, 20};

static void go_values(uint64_t r, char goroutine[12], char ptr[GO_PTRS][7])
{
	static const char hex[] = "0123456789abcdef";
	/* "%d" of 1000 + r % 400000: 4 to 6 digits */
	unsigned g = 1000 + (unsigned)(r % 400000), w = g >= 100000 ? 6 : g >= 10000 ? 5 : 4;
	for (int d = (int)w - 1; d >= 0; d--, g /= 10)
		goroutine[d] = (char)('0' + g % 10);
	goroutine[w] = '\0';
	for (int i = 0; i < GO_PTRS; i++) {
		unsigned v = (unsigned)((r >> go_ptr_shift[i]) & 0xfffff0);
		for (int d = 5; d >= 0; d--, v >>= 4)
			ptr[i][d] = hex[v & 15];
		ptr[i][6] = '\0';
	}
}

/* The same failure site has the same line numbers every time. */
static uint64_t site_hash(const struct svc *sv, const char *route, enum sim_err e)
{
	return fd_hash64(route ? route : "", route ? strlen(route) : 0) ^
	       fd_hash64(sv->def->name, strlen(sv->def->name)) ^ (uint64_t)e * 0x2545f4914f6cdd1dULL;
}

/* Formats the dump with o's texts into buf (snprintf's truncation and
 * return value). */
static int format_dump(char *buf, size_t n, const struct fd_sim *s, const struct svc *sv,
		       const char *method, const char *route, enum sim_err e, const char *type,
		       const struct occurrence *o)
{
	struct names nm;
	handler_names(&nm, method, route);
	char id[64], nsid[64];
	uint64_t h = site_hash(sv, route, e);
	int line = 30 + (int)(h % 280), line2 = 12 + (int)((h >> 20) % 120);
	const char *msg = o->msg;
	const char *const *p = o->ptr;
	const char *lib = e == ERR_POOL_TIMEOUT || e == ERR_DB_CANCELED || e == ERR_DB_CONFLICT ? "db"
			  : e == ERR_INTERNAL || e == ERR_DEADLINE ? NULL : "http";
	switch (sim_runtime_of(sv)) {
	case FD_RUNTIME_JAVA:
		sim_ident(id, sizeof(id), sv->def->name, 'l');
		sim_ident(nsid, sizeof(nsid), s->sc->service_namespace, 'l');
		return snprintf(buf, n,
			 "%s: %s\n"
			 "%s"
			 "\tat com.%s.%s.service.%sService.%s%s(%sService.java:%d)\n"
			 "\tat com.%s.%s.web.%sController.%s%s(%sController.java:%d)\n"
			 "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n"
			 "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n"
			 "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:138)\n"
			 "\tat org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1769)\n"
			 "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
			 type, msg,
			 !lib ? "" : !strcmp(lib, "db")
			 ? "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)\n"
			   "\tat org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:376)\n"
			 : "\tat java.net.http/jdk.internal.net.http.HttpClientImpl.send(HttpClientImpl.java:951)\n"
			   "\tat org.springframework.web.client.RestClient$DefaultRequestBodyUriSpec.exchange(RestClient.java:719)\n",
			 nsid, id, nm.Res, nm.verb, nm.Res, nm.Res, line, nsid, id, nm.Res, nm.verb, nm.Res,
			 nm.Res, line2);
	case FD_RUNTIME_GO:
		sim_ident(nsid, sizeof(nsid), s->sc->service_namespace, 'l');
		return snprintf(buf, n,
			 "%s: %s\n"
			 "goroutine %s [running]:\n"
			 "github.com/%s/%s/internal/%s.(*Service).%s(0xc000%s, {0x%x, 0xc000%s})\n"
			 "\t/src/internal/%s/service.go:%d +0x%x\n"
			 "github.com/%s/%s/internal/%s.(*Handler).%s(0xc000%s, {0x%x, 0xc000%s}, 0xc000%s)\n"
			 "\t/src/internal/%s/handler.go:%d +0x%x\n"
			 "net/http.HandlerFunc.ServeHTTP(0xc000%s, {0x%x, 0xc000%s}, 0xc000%s)\n"
			 "\t/usr/local/go/src/net/http/server.go:2220 +0x29\n"
			 "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.(*middleware).serveHTTP(...)\n"
			 "\t/go/pkg/mod/go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.58.0/handler.go:179 +0xe4f\n"
			 "net/http.serverHandler.ServeHTTP({0xc000%s}, {0x%x, 0xc000%s}, 0xc000%s)\n"
			 "\t/usr/local/go/src/net/http/server.go:3210 +0x8e",
			 type, msg, o->goroutine, nsid, sv->def->name, nm.res, nm.Verb,
			 p[0], 0x1c4a3e0 + (unsigned)(h % 4096) * 16, p[1], nm.res, line,
			 0x40 + (unsigned)(h % 0x300),
			 nsid, sv->def->name, nm.res, nm.Verb, p[2], 0x1c4a3e0 + (unsigned)(h % 4096) * 16, p[3],
			 p[4], nm.res, line2, 0x20 + (unsigned)((h >> 9) % 0x400),
			 p[5], 0x1c4a3e0 + (unsigned)(h % 4096) * 16, p[6], p[7],
			 p[8], 0x1c4a3e0 + (unsigned)(h % 4096) * 16, p[9], p[10]);
	case FD_RUNTIME_PYTHON:
		sim_ident(id, sizeof(id), sv->def->name, '_');
		return snprintf(buf, n,
			 "Traceback (most recent call last):\n"
			 "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 880, in full_dispatch_request\n"
			 "    rv = self.dispatch_request()\n"
			 "  File \"/app/%s/views/%s.py\", line %d, in %s_%s\n"
			 "    result = service.%s_%s(request)\n"
			 "  File \"/app/%s/services/%s.py\", line %d, in %s_%s\n"
			 "    %s\n"
			 "%s: %s",
			 id, nm.res, line2, nm.verb, nm.res, nm.verb, nm.res, id, nm.res, line, nm.verb, nm.res,
			 !lib ? "raise RuntimeError(\"unexpected state\")"
			 : !strcmp(lib, "db") ? "with engine.connect() as conn:" : "resp.raise_for_status()",
			 type, msg);
	case FD_RUNTIME_NODE:
		return snprintf(buf, n,
			 "%s: %s\n"
			 "    at %sService.%s (/app/dist/services/%s.service.js:%d:%d)\n"
			 "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
			 "    at async %sController.%s (/app/dist/controllers/%s.controller.js:%d:%d)",
			 type, msg, nm.Res, nm.verb, nm.res, line, 5 + (int)(h % 40), nm.Res, nm.verb, nm.res,
			 line2, 9 + (int)((h >> 7) % 30));
	case FD_RUNTIME_DOTNET:
		sim_ident(id, sizeof(id), sv->def->name, 'P');
		sim_ident(nsid, sizeof(nsid), s->sc->service_namespace, 'P');
		return snprintf(buf, n,
			 "%s: %s\n"
			 "   at %s.%s.Services.%sService.%sAsync(CancellationToken ct) in /src/%s/Services/%sService.cs:line %d\n"
			 "   at %s.%s.Controllers.%sController.%s() in /src/%s/Controllers/%sController.cs:line %d\n"
			 "   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.TaskOfIActionResultExecutor.Execute(ActionContext actionContext, IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)",
			 type, msg, nsid, id, nm.Res, nm.Verb, id, nm.Res, line, nsid, id, nm.Res, nm.Verb, id,
			 nm.Res, line2);
	case FD_RUNTIME_RUBY:
		(void)type;
		(void)msg;
		return snprintf(buf, n,
			 "/app/app/services/%s_service.rb:%d:in `%s'\n"
			 "/app/app/controllers/%s_controller.rb:%d:in `%s'\n"
			 "/usr/local/bundle/gems/actionpack-7.1.3/lib/action_controller/metal/basic_implicit_render.rb:6:in `send_action'\n"
			 "/usr/local/bundle/gems/actionpack-7.1.3/lib/abstract_controller/base.rb:224:in `process_action'",
			 nm.res, line, nm.verb, nm.res, line2, nm.verb);
	case FD_RUNTIME_RUST:
	default:
		sim_ident(id, sizeof(id), sv->def->name, '_');
		return snprintf(buf, n,
			 "%s: %s\n"
			 "   0: %s::services::%s::%s\n"
			 "             at ./src/services/%s.rs:%d:%d\n"
			 "   1: %s::handlers::%s::%s::{{closure}}\n"
			 "             at ./src/handlers/%s.rs:%d:%d\n"
			 "   2: <axum::handler::HandlerService<H,T,S> as tower_service::Service<http::request::Request<B>>>::call::{{closure}}\n"
			 "             at /usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/axum-0.7.9/src/handler/service.rs:179:52",
			 type, msg, id, nm.res, nm.verb, nm.res, line, 9 + (int)(h % 30), id, nm.res, nm.verb,
			 nm.res, line2, 5 + (int)((h >> 5) % 30));
	}
}

/* ---- the sites' templates ------------------------------------------------------ */

#define STACK_SLOTS 256u   /* direct-mapped by site */
#define TEMPLATE_MAX 4096u /* longer dumps are formatted each time */
#define HOLES_MAX (2 + GO_PTRS)

struct stack_site {
	/* the key: what the dump is made of, by value */
	enum fd_runtime rt;
	enum sim_err e;
	char *service, *type, *method, *route;
	char *text; /* the dump without its holes */
	size_t len;
	int n_holes;
	struct hole {
		size_t at; /* offset in text */
		unsigned char kind;
	} holes[HOLES_MAX];
};

struct sim_stacks {
	struct stack_site slot[STACK_SLOTS];
};

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void site_clear(struct stack_site *st)
{
	free(st->service);
	free(st->type);
	free(st->method);
	free(st->route);
	free(st->text);
	*st = (struct stack_site){0};
}

static char *dup_or_null(const char *p, bool *oom)
{
	if (!p)
		return NULL;
	char *d = strdup(p);
	if (!d)
		*oom = true;
	return d;
}

/* Formats the site's template into st; false when it cannot be one (too
 * long, a name carrying a marker byte, out of memory): then each dump is
 * formatted whole. */
static bool site_build(struct stack_site *st, const struct fd_sim *s, const struct svc *sv,
		       const char *method, const char *route, enum sim_err e, const char *type)
{
	static const char m_msg[] = {HOLE_MSG, 0}, m_gor[] = {HOLE_GOROUTINE, 0}, m_ptr[] = {HOLE_PTR, 0};
	struct occurrence o = {.msg = m_msg, .goroutine = m_gor};
	for (int i = 0; i < GO_PTRS; i++)
		o.ptr[i] = m_ptr;
	char tmp[TEMPLATE_MAX];
	int len = format_dump(tmp, sizeof(tmp), s, sv, method, route, e, type, &o);
	if (len < 0 || (size_t)len >= sizeof(tmp))
		return false;
	/* every marker byte must be one this call put there: count them
	 * against what the runtime's dump shows */
	int want = sim_runtime_of(sv) == FD_RUNTIME_RUBY ? 0 : sim_runtime_of(sv) == FD_RUNTIME_GO ? 2 + GO_PTRS : 1;
	site_clear(st);
	st->text = malloc((size_t)len + 1);
	if (!st->text)
		return false;
	size_t k = 0;
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tmp[i];
		if (c >= HOLE_MSG && c <= HOLE_PTR) {
			if (st->n_holes == HOLES_MAX) {
				site_clear(st);
				return false;
			}
			st->holes[st->n_holes++] = (struct hole){.at = k, .kind = c};
			continue;
		}
		st->text[k++] = (char)c;
	}
	st->text[k] = '\0';
	st->len = k;
	bool oom = false;
	st->service = dup_or_null(sv->def->name, &oom);
	st->type = dup_or_null(type, &oom);
	st->method = dup_or_null(method, &oom);
	st->route = dup_or_null(route, &oom);
	if (st->n_holes != want || oom) {
		site_clear(st);
		return false;
	}
	st->rt = sim_runtime_of(sv);
	st->e = e;
	return true;
}

/* Appends m bytes of p to buf (capacity n, holding *k), truncating as
 * snprintf does. */
static void put(char *buf, size_t n, size_t *k, const char *p, size_t m)
{
	if (*k + 1 >= n)
		return;
	if (m > n - 1 - *k)
		m = n - 1 - *k;
	memcpy(buf + *k, p, m);
	*k += m;
}

/* This occurrence's texts. */
struct values {
	char goroutine[12], ptr[GO_PTRS][7];
	struct occurrence o;
};

static void values_of(struct values *v, uint64_t h, const char *msg, const uint8_t *trace_id)
{
	/* what a dump shows of the running process — the goroutine's
	 * number, the heap pointers passed as arguments — differs per request */
	go_values(trace_id ? fd_hash64(trace_id, 16) : h, v->goroutine, v->ptr);
	v->o.msg = msg;
	v->o.goroutine = v->goroutine;
	for (int i = 0; i < GO_PTRS; i++)
		v->o.ptr[i] = v->ptr[i];
}

void sim_stack_format(char *buf, size_t n, const struct fd_sim *s, const struct svc *sv,
		      const char *method, const char *route, enum sim_err e, const char *type,
		      const char *msg, const uint8_t *trace_id)
{
	struct values v;
	values_of(&v, site_hash(sv, route, e), msg, trace_id);
	format_dump(buf, n, s, sv, method, route, e, type, &v.o);
}

void sim_stacktrace(char *buf, size_t n, struct fd_sim *s, const struct svc *sv, const char *method,
		    const char *route, enum sim_err e, const char *type, const char *msg,
		    const uint8_t *trace_id)
{
	if (!s->stacks)
		s->stacks = calloc(1, sizeof(*s->stacks)); /* NULL: formatted whole, the same bytes */
	if (!s->stacks || !n) {
		sim_stack_format(buf, n, s, sv, method, route, e, type, msg, trace_id);
		return;
	}
	uint64_t h = site_hash(sv, route, e);
	struct stack_site *st =
		&s->stacks->slot[(h ^ (method ? fd_hash64(method, strlen(method)) : 0)) % STACK_SLOTS];
	if (!(st->text && st->e == e && st->rt == sim_runtime_of(sv) && same_text(st->service, sv->def->name) &&
	      same_text(st->type, type) && same_text(st->method, method) && same_text(st->route, route)) &&
	    !site_build(st, s, sv, method, route, e, type)) {
		sim_stack_format(buf, n, s, sv, method, route, e, type, msg, trace_id);
		return;
	}
	struct values v;
	values_of(&v, h, msg, trace_id);
	size_t k = 0, from = 0;
	int next_ptr = 0;
	for (int i = 0; i < st->n_holes; i++) {
		put(buf, n, &k, st->text + from, st->holes[i].at - from);
		from = st->holes[i].at;
		const char *x = st->holes[i].kind == HOLE_MSG	      ? msg
				: st->holes[i].kind == HOLE_GOROUTINE ? v.goroutine
								      : v.ptr[next_ptr++];
		put(buf, n, &k, x, strlen(x));
	}
	put(buf, n, &k, st->text + from, st->len - from);
	buf[k] = '\0';
}

void sim_stacks_free(struct fd_sim *s)
{
	if (!s->stacks)
		return;
	for (unsigned i = 0; i < STACK_SLOTS; i++)
		site_clear(&s->stacks->slot[i]);
	free(s->stacks);
	s->stacks = NULL;
}
