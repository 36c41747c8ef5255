/*
 * Reading a downloaded file in bounded chunks, for the digests and
 * signatures of the marketplace. No global state, no logging: safe on a
 * worker thread (see pkg_error.h).
 */
#ifndef SS_PKG_FILE_H
#define SS_PKG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "pkg_error.h"

#define PKG_FILE_CHUNK ((size_t)64 * 1024)

/* Consumes one chunk; non-zero stops the stream (the function's own failure). */
typedef int (*pkg_chunk_fn)(void *ctx, const unsigned char *buf, size_t n);

/*
 * Opens path without following a symlink, requires a regular file of at
 * most max bytes, and hands its contents to fn in chunks of at most
 * PKG_FILE_CHUNK bytes. The size is checked on the bytes read, not only on
 * fstat, so a file that grows meanwhile is still refused. 0, or -1 with
 * err ("io", "file-size", or "internal" when fn stopped it).
 */
int pkg_file_stream(const char *path, uint64_t max, pkg_chunk_fn fn, void *ctx,
		    struct pkg_error *err);

/*
 * The whole regular file name below directory dirfd (not following a
 * symlink), at most max bytes, NUL-terminated; its length in *len. NULL with
 * err under the caller's check name: "missing", "not a regular file",
 * "larger than max bytes" or a read error, naming name as the subject.
 */
char *pkg_file_read_at(int dirfd, const char *name, uint64_t max, size_t *len, const char *check,
		       struct pkg_error *err);

#endif
