/* Bounded, chunked reading of a downloaded file (pkg_file.h). */
#define _GNU_SOURCE
#include "pkg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileread.h"
#include "xmalloc.h"

int pkg_file_stream(const char *path, uint64_t max, pkg_chunk_fn fn, void *ctx,
		    struct pkg_error *err)
{
	unsigned char *buf = NULL;
	uint64_t total = 0;
	struct stat st;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		pkg_error_set(err, "io", path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pkg_error_set(err, "io", path, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		pkg_error_set(err, "file-size", path, "larger than %llu bytes",
			      (unsigned long long)max);
		goto out;
	}
	buf = xmalloc(PKG_FILE_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, PKG_FILE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pkg_error_set(err, "io", path, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > max) {
			pkg_error_set(err, "file-size", path, "larger than %llu bytes",
				      (unsigned long long)max);
			goto out;
		}
		if (fn(ctx, buf, (size_t)n) != 0) {
			pkg_error_set(err, "internal", path, "digest failed");
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

char *pkg_file_read_at(int dirfd, const char *name, uint64_t max, size_t *len, const char *check,
		       struct pkg_error *err)
{
	char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		pkg_error_set(err, check, name, "missing from the package (%s)", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pkg_error_set(err, check, name, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		pkg_error_set(err, check, name, "larger than %llu bytes", (unsigned long long)max);
		goto fail;
	}
	buf = file_read_fd(fd, (size_t)st.st_size, &got);
	if (buf == NULL || got != (size_t)st.st_size) {
		pkg_error_set(err, check, name, "read failed");
		goto fail;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}
