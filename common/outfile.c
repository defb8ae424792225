#include "common/outfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"

#define RANDOM_LEN 6 /* characters of the temporary name's random part */

/* Opens a new PATH.tmp-RRRRRR (RANDOM_LEN random characters written at
 * suffix_at) with open(O_CREAT | O_EXCL, 0666), which is
 * what mkstemp does except for the mode: the kernel applies the umask, as
 * for any file a program creates, instead of mkstemp's fixed 0600. (umask()
 * cannot be read without setting it, which would race with other threads
 * creating files.) O_EXCL refuses an existing name, a symlink included. */
static int create_tmp(char *tmp, size_t suffix_at)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static unsigned counter;
	for (int attempt = 0; attempt < 100; attempt++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t seed[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(),
				    (uint64_t)__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)};
		uint64_t h = fd_hash64(seed, sizeof(seed));
		for (int i = 0; i < RANDOM_LEN; i++, h /= 62)
			tmp[suffix_at + (size_t)i] = alphabet[h % 62];
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

int fd_outfile_init(struct fd_outfile *o, const char *path, struct fd_error *err)
{
	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	struct stat st;
	int fd;
	bool exists = stat(path, &st) == 0;
	/* refused now, not by the rename after all the work (generate -o DIR
	 * used to simulate everything first) */
	if (exists && S_ISDIR(st.st_mode)) {
		fd_outfile_finish(o);
		return fd_error_set(err, FD_EINPUT, "cannot write '%s': it is a directory", path);
	}
	if (exists && !S_ISREG(st.st_mode)) {
		o->direct = true;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int rc = fd_error_set(err, FD_ERUNTIME, "cannot open '%s': %s", path,
					      strerror(errno));
			fd_outfile_finish(o);
			return rc;
		}
	} else {
		size_t n = strlen(path) + sizeof(".tmp-") + RANDOM_LEN;
		o->tmp = malloc(n);
		if (!o->tmp) {
			fd_outfile_finish(o);
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		}
		snprintf(o->tmp, n, "%s.tmp-%0*d", path, RANDOM_LEN, 0); /* create_tmp fills the digits */
		fd = create_tmp(o->tmp, n - 1 - RANDOM_LEN);
		if (fd < 0) {
			int rc = fd_error_set(err, FD_ERUNTIME, "cannot create '%s': %s", o->tmp,
					      strerror(errno));
			free(o->tmp); /* nothing to remove */
			o->tmp = NULL;
			fd_outfile_finish(o);
			return rc;
		}
	}
	/* A regular file is read only once renamed into place: it gets a
	 * larger buffer than stdio's 4 KiB (a write(2) per 4 KiB was a fifth
	 * of an ECS replay's time). A device or FIFO keeps stdio's, so that a
	 * reader at its other end sees lines as soon as before. */
	if (!o->direct && !(o->buf = malloc(FD_OUTFILE_BUFFER))) {
		close(fd);
		fd_outfile_finish(o);
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	}
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		int rc = fd_error_set(err, FD_ERUNTIME, "cannot open '%s': %s",
				      o->tmp ? o->tmp : path, strerror(errno));
		close(fd);
		fd_outfile_finish(o);
		return rc;
	}
	if (o->buf)
		setvbuf(o->f, o->buf, _IOFBF, FD_OUTFILE_BUFFER);
	return 0;
}

/* The directory's entry for the new name is on disk only once the
 * directory itself is synced. No allocation here: the file is already in
 * place, and running out of memory now would report a failure for a
 * recording that exists. */
static int sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;
	if (n >= sizeof(dir))
		return 0; /* longer than any path the kernel takes */
	memcpy(dir, slash ? path : ".", n);
	dir[n] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES ? 0 : -1; /* a directory we may write but not read */
	int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

void fd_outfile_wrote(struct fd_outfile *o, size_t n)
{
	o->written += n;
	if (o->direct || !o->f || o->written - o->handed < FD_OUTFILE_STEP)
		return;
	/* A failed flush leaves the error on the stream, for close to report;
	 * the advice is only advice. DONTNEED starts the writeback of dirty
	 * pages in the range (Linux) and drops the clean ones: those of the
	 * step before, written back meanwhile. */
	if (fflush(o->f) != 0)
		return;
	uint64_t from = o->handed >= FD_OUTFILE_STEP ? o->handed - FD_OUTFILE_STEP : 0;
	posix_fadvise(fileno(o->f), (off_t)from, (off_t)(o->written - from), POSIX_FADV_DONTNEED);
	o->handed = o->written;
}

int fd_outfile_close(struct fd_outfile *o, struct fd_error *err)
{
	if (!o->f)
		return 0;
	errno = 0;
	/* fsync has no meaning for a device or a pipe (EINVAL) */
	int rc = fflush(o->f) != 0 || ferror(o->f) || (!o->direct && fsync(fileno(o->f)) != 0);
	int e = errno ? errno : EIO;
	if (fclose(o->f) != 0 && !rc) {
		rc = 1;
		e = errno;
	}
	o->f = NULL;
	free(o->buf);
	o->buf = NULL;
	if (rc)
		return fd_error_set(err, FD_ERUNTIME, "writing '%s': %s", o->path, strerror(e));
	return 0;
}

int fd_outfile_commit(struct fd_outfile *o, struct fd_error *err)
{
	int rc = fd_outfile_close(o, err);
	if (rc < 0 || o->direct)
		return rc;
	if (rename(o->tmp, o->path) != 0)
		return fd_error_set(err, FD_ERUNTIME, "cannot rename '%s' to '%s': %s", o->tmp,
				    o->path, strerror(errno));
	free(o->tmp);
	o->tmp = NULL;
	if (sync_dir(o->path) < 0)
		return fd_error_set(err, FD_ERUNTIME, "syncing the directory of '%s': %s", o->path,
				    strerror(errno));
	return 0;
}

void fd_outfile_finish(struct fd_outfile *o)
{
	if (o->f)
		fclose(o->f);
	free(o->buf); /* after the fclose that used it */
	if (o->tmp)
		unlink(o->tmp); /* not committed: no partial output */
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
