/*
 * Safe extraction of a plugin package (plugin.tar.gz) with libarchive.
 *
 * The archive is untrusted: it is extracted into a fresh directory made
 * inside a parent the caller names (the install directory, so that the
 * final rename into <install-dir>/<name>/<version>/ stays on one filesystem
 * and is atomic), and only regular files and directories with plain names
 * come out of it. Refused, each with its check name in pkg_error.check:
 *
 *   format        not a gzip-compressed tar
 *   corrupt       damaged or truncated data: a truncated gzip, a bad CRC-32
 *                 or length in its trailer (checked with zlib over the whole
 *                 stream), data after it
 *   name          a name that is empty, not UTF-8, or holds control characters
 *   absolute-path a name starting with "/"
 *   dotdot        a ".." (or ".") component, or an empty one ("a//b")
 *   depth         more than max_depth components
 *   symlink       a symbolic link (every one: a package needs none)
 *   hardlink      a hard link
 *   device        a character or block device
 *   fifo, socket  a FIFO or a socket
 *   type          any other kind of entry
 *   mode          setuid, setgid or sticky bits
 *   duplicate     a name that came before (files; a directory may repeat)
 *   entries       more than max_entries entries
 *   file-size     a file larger than max_file bytes
 *   archive-bomb  more than max_total bytes in all
 *
 * Sizes are counted on the bytes written, not trusted from the headers.
 * Files are created with openat(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC) below
 * directory descriptors opened with O_NOFOLLOW, so nothing the archive made
 * is ever followed. On any failure the directory is removed completely and
 * the parent is as it was. Owners are never applied; files get 0644 (0755
 * when any execute bit was set), directories 0755.
 *
 * No global state, no logging: safe on a worker thread (see pkg_error.h).
 */
#ifndef SS_PKG_ARCHIVE_H
#define SS_PKG_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "pkg_error.h"

#define PKG_ARCHIVE_MAX_ENTRIES 256u
#define PKG_ARCHIVE_MAX_TOTAL (256ull * 1024 * 1024)
#define PKG_ARCHIVE_MAX_FILE (128ull * 1024 * 1024)
#define PKG_ARCHIVE_MAX_DEPTH 8u

/* Each 0 means the default above. */
struct pkg_archive_limits {
	size_t max_entries; /* entries of every kind */
	uint64_t max_total; /* bytes of all files */
	uint64_t max_file;  /* bytes of one file */
	unsigned max_depth; /* components of a name */
};

/*
 * Extracts the archive at path into a new directory "<parent>/.pkg-XXXXXX"
 * and returns its path (the caller owns it and frees it), or NULL with err
 * filled and nothing left behind. limits may be NULL for the defaults.
 */
char *pkg_archive_extract(const char *path, const char *parent,
			  const struct pkg_archive_limits *limits, struct pkg_error *err);

/*
 * Removes the directory tree at path without following any symbolic link
 * in it; 0, or -1 with errno. For a directory pkg_archive_extract made.
 */
int pkg_tree_remove(const char *path);

#endif
