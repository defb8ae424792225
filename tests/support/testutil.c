#include "tests/support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + sizeof("/fdtest-XXXXXX");
	char *p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/fdtest-XXXXXX", base);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

void tu_rmtree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = tu_path(path, e->d_name);
		if (p)
			tu_rmtree(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

int tu_dir_setup(void **state)
{
	struct tu_dir_fixture *f = calloc(1, sizeof(*f));
	if (!f || !(f->dir = tu_mkdtemp())) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int tu_dir_teardown(void **state)
{
	struct tu_dir_fixture *f = *state;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int tu_count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

bool tu_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *p = malloc(cap);
	while (p) {
		if (n == cap) {
			uint8_t *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				p = NULL;
				break;
			}
			p = q;
			cap *= 2;
		}
		size_t k = fread(p + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (p && ferror(f)) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p)
		*len = n;
	return p;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t k = len ? fwrite(data, 1, len, f) : 0;
	int rc = fclose(f);
	return k == len && rc == 0 ? 0 : -1;
}

FILE *tu_memfile(const uint8_t *data, size_t len)
{
	FILE *f = len ? fmemopen((void *)data, len, "rb") : NULL;
	if (f)
		return f;
	f = tmpfile();
	if (!f)
		return NULL;
	if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0) {
		fclose(f);
		return NULL;
	}
	rewind(f);
	return f;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

void tu_recs_add(struct tu_recs *rs, const struct fd_record *rec)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		if (!rs->v)
			abort();
	}
	struct tu_rec *r = &rs->v[rs->n++];
	r->time_ns = rec->time_ns;
	r->signal = rec->signal;
	r->resource_len = rec->resource ? rec->resource->len : 0;
	r->resource = dup_bytes(rec->resource ? rec->resource->data : NULL, r->resource_len);
	r->scope_len = rec->scope ? rec->scope->len : 0;
	r->scope = dup_bytes(rec->scope ? rec->scope->data : NULL, r->scope_len);
	r->payload_len = rec->payload_len;
	r->payload = dup_bytes(rec->payload, rec->payload_len);
	if (!r->resource || !r->scope || !r->payload)
		abort();
}

void tu_recs_free(struct tu_recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].resource);
		free(rs->v[i].scope);
		free(rs->v[i].payload);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

const char *tu_rec_diff(const struct tu_rec *want, const struct fd_record *got)
{
	if (want->time_ns != got->time_ns)
		return "time differs";
	if (want->signal != got->signal)
		return "signal differs";
	if (!got->resource || !bytes_eq(want->resource, want->resource_len, got->resource->data,
					got->resource->len))
		return "resource differs";
	if (!got->scope ||
	    !bytes_eq(want->scope, want->scope_len, got->scope->data, got->scope->len))
		return "scope differs";
	if (!bytes_eq(want->payload, want->payload_len, got->payload, got->payload_len))
		return "payload differs";
	return NULL;
}

const char *tu_rec_diff2(const struct tu_rec *want, const struct tu_rec *got)
{
	struct fd_blob res = {0, (uint32_t)got->resource_len, got->resource};
	struct fd_blob scope = {0, (uint32_t)got->scope_len, got->scope};
	struct fd_record r = {got->time_ns, got->signal, &res, &scope, got->payload, got->payload_len};
	return tu_rec_diff(want, &r);
}

static char *slurp_fd(int fd)
{
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	if (!p)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (cap - n < 2) {
			char *q = realloc(p, cap * 2);
			if (!q)
				break;
			p = q;
			cap *= 2;
		}
		ssize_t k = read(fd, p + n, cap - n - 1);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	p[n] = '\0';
	return p;
}

static int scratch_fd(void)
{
	FILE *f = tmpfile();
	if (!f)
		return -1;
	int fd = dup(fileno(f));
	fclose(f);
	return fd;
}

int tu_run(char *const argv[], const char *in_path, char **out, char **err)
{
	int ofd = scratch_fd(), efd = scratch_fd();
	int ifd = open(in_path ? in_path : "/dev/null", O_RDONLY);
	int status = -1;
	if (ofd < 0 || efd < 0 || ifd < 0)
		goto done;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ifd, 0);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		goto done;
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			goto done;
	}
	status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (out)
		*out = slurp_fd(ofd);
	if (err)
		*err = slurp_fd(efd);
done:
	if (status < 0) {
		if (out)
			*out = NULL;
		if (err)
			*err = NULL;
	}
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	if (ifd >= 0)
		close(ifd);
	return status;
}

size_t tu_memcount(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n)
{
	size_t count = 0;
	if (n == 0 || hay_len < n)
		return 0;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			count++;
	return count;
}

int64_t tu_clock_now(void *ctx)
{
	struct tu_clock *c = ctx;
	c->now += c->extra;
	return c->now;
}

void tu_clock_sleep_until(void *ctx, int64_t t)
{
	struct tu_clock *c = ctx;
	c->sleeps++;
	if (t > c->now)
		c->now = t;
}
