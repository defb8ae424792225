/* Allocation-failure injection through ld --wrap (failalloc.h). */
#include "tests/support/failalloc.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
FILE *__real_open_memstream(char **buf, size_t *len);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);
FILE *__wrap_open_memstream(char **buf, size_t *len);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool active, persist, fired;
static unsigned long count, fail_at;

/* The blocks allocated while active and not freed: an open-addressing set
 * of pointers (linear probing, 0 = empty), in memory of the real
 * allocator so that it does not see itself. */
static uintptr_t *set;
static size_t set_cap, set_n;

static size_t slot_of(uintptr_t p)
{
	uint64_t h = (uint64_t)p * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 17) & (set_cap - 1);
}

static void set_put(uintptr_t p);

static void set_grow(void)
{
	uintptr_t *old = set;
	size_t old_cap = set_cap;
	set_cap = set_cap ? set_cap * 2 : 4096;
	set = __real_calloc(set_cap, sizeof(*set));
	if (!set)
		abort(); /* the harness itself cannot go on */
	set_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			set_put(old[i]);
	__real_free(old);
}

static void set_put(uintptr_t p)
{
	if ((set_n + 1) * 2 > set_cap)
		set_grow();
	size_t i = slot_of(p);
	while (set[i] && set[i] != p)
		i = (i + 1) & (set_cap - 1);
	if (!set[i])
		set_n++;
	set[i] = p;
}

/* Deletion by backward shift, so that lookups need no tombstones. */
static void set_del(uintptr_t p)
{
	if (!set_cap)
		return;
	size_t i = slot_of(p);
	while (set[i] && set[i] != p)
		i = (i + 1) & (set_cap - 1);
	if (!set[i])
		return;
	set_n--;
	size_t j = i;
	for (;;) {
		set[i] = 0;
		for (;;) {
			j = (j + 1) & (set_cap - 1);
			if (!set[j])
				return;
			size_t k = slot_of(set[j]);
			/* move set[j] back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		set[i] = set[j];
		i = j;
	}
}

/* Counts one allocation; true when it is to fail. */
static bool failing(void)
{
	pthread_mutex_lock(&lock);
	bool f = false;
	if (active) {
		count++;
		f = fail_at && (count == fail_at || (persist && count > fail_at));
		if (f)
			fired = true;
	}
	pthread_mutex_unlock(&lock);
	if (f)
		errno = ENOMEM;
	return f;
}

static void track(void *old, void *p)
{
	pthread_mutex_lock(&lock);
	if (old)
		set_del((uintptr_t)old);
	if (p && active)
		set_put((uintptr_t)p);
	pthread_mutex_unlock(&lock);
}

void *__wrap_malloc(size_t n)
{
	if (failing())
		return NULL;
	void *p = __real_malloc(n);
	track(NULL, p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (failing())
		return NULL;
	void *p = __real_calloc(n, size);
	track(NULL, p);
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (failing())
		return NULL;
	void *q = __real_realloc(p, n);
	if (q || n == 0)
		track(p, q);
	return q;
}

char *__wrap_strdup(const char *s)
{
	if (failing())
		return NULL;
	char *p = __real_strdup(s);
	track(NULL, p);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (failing())
		return NULL;
	char *p = __real_strndup(s, n);
	track(NULL, p);
	return p;
}

void __wrap_free(void *p)
{
	if (p)
		track(p, NULL);
	__real_free(p);
}

/* The stream's buffer is libc's (not tracked); failing the call stands for
 * failing its first allocation. */
FILE *__wrap_open_memstream(char **buf, size_t *len)
{
	if (failing())
		return NULL;
	return __real_open_memstream(buf, len);
}

void fa_forget(void *p)
{
	if (p)
		track(p, NULL);
}

void fa_arm(unsigned long n, bool persist_)
{
	pthread_mutex_lock(&lock);
	active = true;
	fail_at = n;
	persist = persist_;
	fired = false;
	count = 0;
	if (set)
		memset(set, 0, set_cap * sizeof(*set));
	set_n = 0;
	pthread_mutex_unlock(&lock);
}

unsigned long fa_disarm(void)
{
	pthread_mutex_lock(&lock);
	active = false;
	fail_at = 0;
	unsigned long n = count;
	pthread_mutex_unlock(&lock);
	return n;
}

bool fa_fired(void)
{
	pthread_mutex_lock(&lock);
	bool f = fired;
	pthread_mutex_unlock(&lock);
	return f;
}

size_t fa_live(void)
{
	pthread_mutex_lock(&lock);
	size_t n = set_n;
	pthread_mutex_unlock(&lock);
	return n;
}

void fa_sweep(const char *what, fa_op op, void *ctx, void (*check)(void *ctx, int rc),
	      struct fa_sweep_result *res)
{
	struct fa_sweep_result r = {0};
	/* A first run without failures: it must succeed, and anything our code
	 * sets up once per process is set up before the counting starts. */
	struct fd_error err = {0};
	fa_arm(0, false);
	int rc = op(ctx, &err);
	size_t live = fa_live();
	r.allocations = fa_disarm();
	if (check)
		check(ctx, rc);
	if (rc != 0)
		fail_msg("%s: fails without an allocation failure: %s", what, err.msg);
	(void)live; /* a process-wide cache may stay from the first run */
	for (int p = 0; p < 2; p++) {
		for (unsigned long n = 1;; n++) {
			fd_error_clear(&err);
			fa_arm(n, p == 1);
			rc = op(ctx, &err);
			bool f = fa_fired();
			live = fa_live();
			unsigned long made = fa_disarm();
			if (check)
				check(ctx, rc);
			const char *mode = p ? " and every later one" : "";
			if (live)
				fail_msg("%s: allocation %lu%s failing: %zu block%s leaked (rc %d: %s)",
					 what, n, mode, live, live == 1 ? "" : "s", rc, err.msg);
			if (!f) {
				if (rc != 0)
					fail_msg("%s: %lu allocations, none failed, and yet: %s", what,
						 made, err.msg);
				break;
			}
			if (rc == 0)
				fail_msg("%s: allocation %lu%s failed and no error was returned", what,
					 n, mode);
			if (!err.msg[0])
				fail_msg("%s: allocation %lu%s failed: an error without a message", what,
					 n, mode);
			r.runs++;
		}
	}
	if (res)
		*res = r;
}
