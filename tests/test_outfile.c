/*
 * common/outfile.c, and every writer of output files through it (file:,
 * dir:, dir:?format=openmetrics): the mode a new file gets under the umask,
 * fsync of the file and of its directory before close returns, nothing left
 * behind on failure. fsync is wrapped at link time (ld --wrap=fsync) to see
 * which files were synced. The writers once disagreed: recordings were
 * fsynced and left 0600, dir: and OpenMetrics outputs chmodded 0644 and not
 * fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/outfile.h"
#include "sinks/sink.h"
#include "tests/support/synth.h"
#include "tests/support/testutil.h"

/* ---- which files were fsynced ---- */

int __real_fsync(int fd);
int __wrap_fsync(int fd);

static struct synced {
	dev_t dev;
	ino_t ino;
} synced[64];
static size_t n_synced;

int __wrap_fsync(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && n_synced < sizeof(synced) / sizeof(synced[0]))
		synced[n_synced++] = (struct synced){st.st_dev, st.st_ino};
	return __real_fsync(fd);
}

static bool was_synced(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	for (size_t i = 0; i < n_synced; i++)
		if (synced[i].dev == st.st_dev && synced[i].ino == st.st_ino)
			return true;
	return false;
}

/* ---- what was handed to the disk ---- */

/* With 64-bit file offsets (meson.build), glibc's headers name it
 * posix_fadvise64. */
int __real_posix_fadvise64(int fd, off_t off, off_t len, int advice);
int __wrap_posix_fadvise64(int fd, off_t off, off_t len, int advice);

static struct advised {
	off_t off, len, size; /* size: the file's when advised */
	int advice;
} advised[16];
static size_t n_advised;

int __wrap_posix_fadvise64(int fd, off_t off, off_t len, int advice)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && n_advised < sizeof(advised) / sizeof(advised[0]))
		advised[n_advised++] = (struct advised){off, len, st.st_size, advice};
	return __real_posix_fadvise64(fd, off, len, advice);
}

/* ---- the writers ---- */

static void write_sink(const char *uri, unsigned n)
{
	struct fd_synth_options so = {.seed = 5};
	struct fd_synth_header h;
	fd_synth_header_init(&h, &so, n);
	struct fd_sink_context ctx = {.header = &h.header};
	struct fd_synth *syn = fd_synth_create(&so);
	assert_non_null(syn);
	struct fd_error err = {0};
	struct fd_sink *s = NULL;
	if (fd_sink_open(uri, &ctx, &s, &err) < 0)
		fail_msg("%s: %s", uri, err.msg);
	for (unsigned i = 0; i < n; i++) {
		struct fd_record rec;
		assert_int_equal(fd_synth_next(syn, &rec), 0);
		if (fd_sink_write(s, &rec, &err) < 0)
			fail_msg("%s: %s", uri, err.msg);
	}
	if (fd_sink_close(s, &err) < 0)
		fail_msg("%s: %s", uri, err.msg);
	fd_sink_destroy(s);
	fd_synth_destroy(syn);
}

struct writer {
	const char *scheme, *rest; /* the URI: SCHEME + the scratch directory + REST */
	const char *files[4];      /* what it writes, relative to the directory */
};

static const struct writer writers[] = {
	{"file:", "/r.fdr", {"r.fdr"}},
	{"dir:", "/d", {"d/traces.jsonl", "d/metrics.jsonl", "d/logs.jsonl"}},
	{"dir:", "/p?format=otlp_proto", {"p/traces.pb", "p/metrics.pb", "p/logs.pb"}},
	{"dir:", "/om?format=openmetrics", {"om/metrics.om"}},
};

static void test_mode_under_umask(void **state)
{
	struct tu_dir_fixture *fx = *state;
	static const mode_t masks[] = {022, 077, 0, 027};
	for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		mode_t old = umask(masks[m]);
		for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
			char uri[1024];
			snprintf(uri, sizeof(uri), "%s%s%s", writers[w].scheme, fx->dir, writers[w].rest);
			write_sink(uri, 300);
			for (size_t f = 0; writers[w].files[f]; f++) {
				char *path = tu_path(fx->dir, writers[w].files[f]);
				struct stat st;
				if (stat(path, &st) != 0)
					fail_msg("%s: no %s", uri, path);
				mode_t want = 0666 & ~masks[m];
				if ((st.st_mode & 07777) != want)
					fail_msg("%s: %s has mode %04o under umask %03o, want %04o", uri,
						 writers[w].files[f], (unsigned)(st.st_mode & 07777),
						 (unsigned)masks[m], (unsigned)want);
				unlink(path);
				free(path);
			}
		}
		umask(old);
	}
}

static void test_fsync(void **state)
{
	struct tu_dir_fixture *fx = *state;
	for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
		char uri[1024];
		snprintf(uri, sizeof(uri), "%s%s%s", writers[w].scheme, fx->dir, writers[w].rest);
		n_synced = 0;
		write_sink(uri, 300);
		for (size_t f = 0; writers[w].files[f]; f++) {
			char *path = tu_path(fx->dir, writers[w].files[f]);
			if (!was_synced(path))
				fail_msg("%s: %s was not fsynced", uri, writers[w].files[f]);
			/* and the directory that holds its name */
			*strrchr(path, '/') = '\0';
			if (!was_synced(path))
				fail_msg("%s: the directory of %s was not fsynced", uri,
					 writers[w].files[f]);
			free(path);
		}
	}
}

/* ---- the helper itself ---- */

static void test_commit(void **state)
{
	struct tu_dir_fixture *fx = *state;
	char *path = tu_path(fx->dir, "out.txt");
	struct fd_error err = {0};
	struct fd_outfile o;
	assert_int_equal(fd_outfile_init(&o, path, &err), 0);
	assert_false(tu_exists(path)); /* not under its name before commit */
	assert_int_equal(tu_count_entries(fx->dir, "out.txt.tmp-"), 1);
	fputs("hello\n", o.f);
	assert_int_equal(fd_outfile_commit(&o, &err), 0);
	fd_outfile_finish(&o);
	size_t len;
	uint8_t *got = tu_read_file(path, &len);
	assert_non_null(got);
	assert_int_equal(len, 6);
	assert_memory_equal(got, "hello\n", 6);
	free(got);
	assert_int_equal(tu_count_entries(fx->dir, ""), 1);

	/* not committed: nothing left, the old file untouched */
	assert_int_equal(fd_outfile_init(&o, path, &err), 0);
	fputs("half", o.f);
	fd_outfile_finish(&o);
	assert_int_equal(tu_count_entries(fx->dir, ""), 1);
	got = tu_read_file(path, &len);
	assert_int_equal(len, 6);
	free(got);
	free(path);
}

static void test_failures(void **state)
{
	struct tu_dir_fixture *fx = *state;
	struct fd_error err = {0};
	struct fd_outfile o;
	/* a directory that does not exist: the error names the file */
	char *missing = tu_path(fx->dir, "no/such/out.txt");
	assert_int_equal(fd_outfile_init(&o, missing, &err), -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "cannot create"));
	assert_non_null(strstr(err.msg, "no/such/out.txt.tmp-"));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
	fd_outfile_finish(&o);
	free(missing);

	/* the final name is a directory: refused at once, before any work
	 * is written (generate -o DIR used to simulate everything first) */
	char *dir = tu_path(fx->dir, "taken");
	assert_int_equal(mkdir(dir, 0777), 0);
	fd_error_clear(&err);
	assert_int_equal(fd_outfile_init(&o, dir, &err), -FD_EINPUT);
	assert_non_null(strstr(err.msg, "it is a directory"));
	fd_outfile_finish(&o);
	assert_int_equal(tu_count_entries(fx->dir, "taken.tmp-"), 0);
	assert_int_equal(rmdir(dir), 0);

	/* ... and one that appears there (with something in it) while the
	 * file is written: rename fails, finish removes the temporary file */
	assert_int_equal(fd_outfile_init(&o, dir, &err), 0);
	assert_int_equal(mkdir(dir, 0777), 0);
	char *inside = tu_path(dir, "x");
	assert_int_equal(tu_write_file(inside, "x", 1), 0);
	fputs("data", o.f);
	assert_int_equal(fd_outfile_commit(&o, &err), -FD_ERUNTIME);
	assert_non_null(strstr(err.msg, "cannot rename"));
	fd_outfile_finish(&o);
	assert_int_equal(tu_count_entries(fx->dir, "taken.tmp-"), 0);
	free(inside);
	free(dir);

	/* finish of a zeroed struct is harmless */
	struct fd_outfile z = {0};
	fd_outfile_finish(&z);
}

/* A device is written as it is: no rename onto it, no fsync (EINVAL). */
/* A large file is handed to the disk step by step as it is written: the
 * advice ranges start at 0, leave no gap, each ends at what was written so
 * far and comes once those bytes are in the file (flushed: pieces of an odd
 * size leave some in stdio's buffer otherwise); the file is whole after
 * commit. A device is written as it is, with no advice. */
static void test_written_in_steps(void **state)
{
	struct tu_dir_fixture *fx = *state;
	char *path = tu_path(fx->dir, "big.txt");
	struct fd_error err = {0};
	struct fd_outfile o;
	assert_int_equal(fd_outfile_init(&o, path, &err), 0);
	enum { PIECE = (1 << 20) + 4099, PIECES = 3 * (FD_OUTFILE_STEP >> 20) + 5 };
	uint8_t *piece = malloc(PIECE);
	assert_non_null(piece);
	n_advised = 0;
	for (int i = 0; i < PIECES; i++) {
		memset(piece, 'a' + i % 26, PIECE);
		assert_int_equal(fwrite(piece, 1, PIECE, o.f), PIECE);
		fd_outfile_wrote(&o, PIECE);
	}
	assert_int_equal(n_advised, 3);
	for (size_t k = 0; k < n_advised; k++) {
		off_t end = advised[k].off + advised[k].len;
		assert_int_equal(advised[k].advice, POSIX_FADV_DONTNEED);
		if (k == 0)
			assert_int_equal(advised[k].off, 0);
		else
			assert_true(advised[k].off <= advised[k - 1].off + advised[k - 1].len &&
				    end > advised[k - 1].off + advised[k - 1].len);
		assert_int_equal(end % PIECE, 0);
		assert_true(end >= (off_t)(k + 1) * FD_OUTFILE_STEP);
		assert_int_equal(advised[k].size, end);
	}
	assert_int_equal(fd_outfile_commit(&o, &err), 0);
	fd_outfile_finish(&o);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	for (int i = 0; i < PIECES; i++) {
		assert_int_equal(fread(piece, 1, PIECE, f), PIECE);
		for (size_t b = 0; b < PIECE; b += 4093)
			assert_int_equal(piece[b], 'a' + i % 26);
	}
	assert_int_equal(fgetc(f), EOF);
	fclose(f);

	n_advised = 0;
	assert_int_equal(fd_outfile_init(&o, "/dev/null", &err), 0);
	for (int i = 0; i < PIECES; i++) {
		assert_int_equal(fwrite(piece, 1, PIECE, o.f), PIECE);
		fd_outfile_wrote(&o, PIECE);
	}
	assert_int_equal(fd_outfile_commit(&o, &err), 0);
	fd_outfile_finish(&o);
	assert_int_equal(n_advised, 0);
	free(piece);
	free(path);
}

static void test_device(void **state)
{
	(void)state;
	struct fd_error err = {0};
	struct fd_outfile o;
	assert_int_equal(fd_outfile_init(&o, "/dev/null", &err), 0);
	assert_true(o.direct);
	assert_null(o.tmp);
	fputs("gone", o.f);
	assert_int_equal(fd_outfile_commit(&o, &err), 0);
	fd_outfile_finish(&o);
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_under_umask, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_fsync, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_commit, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_failures, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test_setup_teardown(test_written_in_steps, tu_dir_setup, tu_dir_teardown),
		cmocka_unit_test(test_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
