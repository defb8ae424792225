/*
 * An output file that appears whole or not at all: written under a
 * temporary name next to its final path (PATH.tmp- and six random characters) and renamed into
 * place by commit, so that a reader never sees half of it and a failed run
 * leaves nothing behind. Every file firedrill writes (recordings, dir:
 * outputs, metrics.om) goes through here, so they all get:
 *   - the mode any new file gets: 0666 less the umask (a temporary file
 *     from mkstemp would keep 0600);
 *   - on commit, fsync of the file, then the rename, then fsync of the
 *     directory, so that after commit returns the file is on disk under its
 *     name.
 * An existing device or FIFO (-o /dev/null, a named pipe) is written as it
 * is, with no rename and no fsync: renaming a temporary file onto it would
 * replace the node (as root, /dev/null itself) with a regular file.
 *
 *   struct fd_outfile o;
 *   if (fd_outfile_init(&o, path, err) < 0) ...   // o.f is the stream
 *   fwrite(..., o.f) ...
 *   rc = fd_outfile_commit(&o, err);
 *   fd_outfile_finish(&o);                         // always
 */
#ifndef FD_OUTFILE_H
#define FD_OUTFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

struct fd_outfile {
	FILE *f;     /* write here; NULL after commit */
	char *path;  /* the final path; owned */
	char *tmp;   /* the temporary one; owned; NULL when direct or committed */
	bool direct; /* writing path itself (a device or FIFO) */
	char *buf;   /* f's buffer (regular files); owned */
	uint64_t written, handed; /* bytes told by fd_outfile_wrote; handed to the disk */
};

/* The stdio buffer of a regular file: 256 KiB. */
#define FD_OUTFILE_BUFFER (256 * 1024)

/* Creates the temporary file (or opens the device) for writing. On failure
 * (FD_ERUNTIME, "cannot create 'PATH.tmp-...': why") nothing is left on
 * disk and o needs no finish, though finish is harmless. */
int fd_outfile_init(struct fd_outfile *o, const char *path, struct fd_error *err);

/* Tells o that n more bytes went to o->f. Every FD_OUTFILE_STEP bytes of a
 * regular file, the bytes before are handed to the disk (writeback started,
 * not waited for) and the pages already written dropped from the cache: a
 * replay writing gigabytes otherwise leaves them all for the fsync at
 * close, which then waits for the disk with nothing else to do. */
void fd_outfile_wrote(struct fd_outfile *o, size_t n);
#define FD_OUTFILE_STEP (32u << 20)

/* Flushes, fsyncs and closes the file: what can fail for want of disk.
 * A caller committing several files closes them all first, so that a full
 * disk leaves none of them in place. Errors: FD_ERUNTIME, "writing 'PATH':
 * why" (the final path: that is the name the user knows). */
int fd_outfile_close(struct fd_outfile *o, struct fd_error *err);

/* Closes the file if still open, renames it into place, then fsyncs the
 * directory. On failure (FD_ERUNTIME, naming the file and the step) the
 * temporary file stays until finish removes it. */
int fd_outfile_commit(struct fd_outfile *o, struct fd_error *err);

/* Closes what is open and removes the temporary file unless committed;
 * frees the names. Accepts an o that init failed on, or a zeroed one. */
void fd_outfile_finish(struct fd_outfile *o);

#endif
