/*
 * Safe extraction of a plugin package (pkg_archive.h). Every name is checked
 * as a whole before anything is created for it, every directory is walked
 * with openat(O_NOFOLLOW) from the temporary directory's descriptor, and
 * every failure leaves through one path that removes the temporary directory.
 */
#define _GNU_SOURCE
#include "pkg_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "utf8.h"
#include "xmalloc.h"

#define NAME_MAX_BYTES 1024
#define COMPONENT_MAX 255
#define BLOCK 65536

struct extract {
	struct archive *a;
	int root; /* the temporary directory */
	const struct pkg_archive_limits *lim;
	char **seen; /* names of files extracted so far */
	size_t n_seen;
	uint64_t total;
	unsigned char *buf;
	struct pkg_error *err;
};

/*
 * Normalises an archive name into out: strips leading "./" and one trailing
 * "/", then refuses what pkg_archive.h lists. Returns 0, 1 for the archive's
 * own root ("." or "./"), -1 with err.
 */
static int check_name(const char *raw, char *out, size_t outlen,
		      const struct pkg_archive_limits *lim, struct pkg_error *err)
{
	size_t n, depth = 1, comp = 0;
	const char *s = raw;

	if (raw == NULL) {
		pkg_error_set(err, "name", NULL, "an entry has no readable name");
		return -1;
	}
	n = strnlen(raw, NAME_MAX_BYTES + 1);
	if (n > NAME_MAX_BYTES || n >= outlen) {
		pkg_error_set(err, "name", raw, "name longer than %d bytes", NAME_MAX_BYTES);
		return -1;
	}
	if (!utf8_valid((const unsigned char *)raw, n)) {
		pkg_error_set(err, "name", raw, "name is not UTF-8");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f) {
			pkg_error_set(err, "name", raw, "name holds a control character");
			return -1;
		}
	}
	if (raw[0] == '/') {
		pkg_error_set(err, "absolute-path", raw, "absolute paths are refused");
		return -1;
	}
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	if (s[0] == '\0' || strcmp(s, ".") == 0)
		return 1;
	n = strlen(s);
	memcpy(out, s, n + 1);
	if (out[n - 1] == '/')
		out[--n] = '\0';
	for (size_t i = 0; i <= n; i++) {
		if (out[i] != '/' && out[i] != '\0') {
			comp++;
			continue;
		}
		if (comp == 0 || (comp == 1 && out[i - 1] == '.') ||
		    (comp == 2 && out[i - 1] == '.' && out[i - 2] == '.')) {
			pkg_error_set(err, "dotdot", raw, "a component is empty, \".\" or \"..\"");
			return -1;
		}
		if (comp > COMPONENT_MAX) {
			pkg_error_set(err, "name", raw, "a component is longer than %d bytes",
				      COMPONENT_MAX);
			return -1;
		}
		if (out[i] == '/')
			depth++;
		comp = 0;
	}
	if (depth > lim->max_depth) {
		pkg_error_set(err, "depth", raw, "nested deeper than %u levels", lim->max_depth);
		return -1;
	}
	return 0;
}

/* Refuses every entry that is not a plain regular file or directory. */
static int check_kind(struct archive_entry *e, const char *name, struct pkg_error *err)
{
	mode_t mode = archive_entry_mode(e);

	if (archive_entry_hardlink(e) != NULL) {
		pkg_error_set(err, "hardlink", name, "hard links are refused");
		return -1;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case AE_IFDIR:
		break;
	case AE_IFLNK:
		pkg_error_set(err, "symlink", name, "symbolic links are refused");
		return -1;
	case AE_IFCHR:
	case AE_IFBLK:
		pkg_error_set(err, "device", name, "device files are refused");
		return -1;
	case AE_IFIFO:
		pkg_error_set(err, "fifo", name, "FIFOs are refused");
		return -1;
	case AE_IFSOCK:
		pkg_error_set(err, "socket", name, "sockets are refused");
		return -1;
	default:
		pkg_error_set(err, "type", name, "an entry of unknown type is refused");
		return -1;
	}
	if (mode & (S_ISUID | S_ISGID | S_ISVTX)) {
		pkg_error_set(err, "mode", name, "setuid, setgid and sticky bits are refused");
		return -1;
	}
	return 0;
}

/*
 * Opens (creating when missing) the directories of name's first `parts`
 * components below the root, never following a link. Returns a directory
 * fd, or -1 with err.
 */
static int open_dirs(struct extract *x, char *name, const char *raw, size_t parts)
{
	int fd = dup(x->root);
	char *comp = name;

	if (fd < 0) {
		pkg_error_set(x->err, "io", raw, "dup: %s", strerror(errno));
		return -1;
	}
	for (size_t k = 0; k < parts; k++) {
		char *slash = strchr(comp, '/');
		int next;

		if (slash != NULL)
			*slash = '\0';
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			pkg_error_set(x->err, "io", raw, "mkdir: %s", strerror(errno));
			goto fail_restore;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			/* Only this extraction writes here: what is not a directory came earlier.
			 */
			if (errno == ENOTDIR || errno == ELOOP)
				pkg_error_set(x->err, "duplicate", raw,
					      "a component is already a file in the archive");
			else
				pkg_error_set(x->err, "io", raw, "open: %s", strerror(errno));
			goto fail_restore;
		}
		close(fd);
		fd = next;
		if (slash != NULL) {
			*slash = '/';
			comp = slash + 1;
		}
		continue;
	fail_restore:
		if (slash != NULL)
			*slash = '/';
		close(fd);
		return -1;
	}
	return fd;
}

static size_t components(const char *name)
{
	size_t n = 1;

	for (; *name; name++)
		n += *name == '/';
	return n;
}

static bool seen_before(struct extract *x, const char *name)
{
	for (size_t i = 0; i < x->n_seen; i++)
		if (strcmp(x->seen[i], name) == 0)
			return true;
	return false;
}

/* Writes the entry's data into a new file, counting every byte. */
static int write_file(struct extract *x, struct archive_entry *e, char *name, const char *raw)
{
	mode_t mode = (archive_entry_mode(e) & 0111) ? 0755 : 0644;
	size_t parts = components(name);
	const char *base = strrchr(name, '/');
	uint64_t size = 0;
	int dfd, fd = -1, rc = -1;

	if (seen_before(x, name)) {
		pkg_error_set(x->err, "duplicate", raw, "the name appears twice");
		return -1;
	}
	/* A header that admits too much is refused at once; the bytes are still counted below. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
	    (uint64_t)archive_entry_size(e) > x->lim->max_file) {
		pkg_error_set(x->err, "file-size", raw, "larger than %llu bytes",
			      (unsigned long long)x->lim->max_file);
		return -1;
	}
	dfd = open_dirs(x, name, raw, parts - 1);
	if (dfd < 0)
		return -1;
	base = base ? base + 1 : name;
	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		pkg_error_set(x->err, errno == EEXIST ? "duplicate" : "io", raw, "create: %s",
			      strerror(errno));
		goto out;
	}
	x->seen[x->n_seen++] = xstrdup(name);
	for (;;) {
		la_ssize_t n = archive_read_data(x->a, x->buf, BLOCK);

		if (n == 0)
			break;
		if (n < 0) {
			pkg_error_set(x->err, "corrupt", raw, "the archive is damaged: %s",
				      archive_error_string(x->a));
			goto out;
		}
		size += (uint64_t)n;
		x->total += (uint64_t)n;
		if (size > x->lim->max_file) {
			pkg_error_set(x->err, "file-size", raw, "larger than %llu bytes",
				      (unsigned long long)x->lim->max_file);
			goto out;
		}
		if (x->total > x->lim->max_total) {
			pkg_error_set(x->err, "archive-bomb", raw,
				      "the archive unpacks to more than %llu bytes",
				      (unsigned long long)x->lim->max_total);
			goto out;
		}
		for (la_ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, x->buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				pkg_error_set(x->err, "io", raw, "write: %s", strerror(errno));
				goto out;
			}
			off += w;
		}
	}
	if (fchmod(fd, mode) < 0) {
		pkg_error_set(x->err, "io", raw, "chmod: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return rc;
}

/* A directory entry: created unless an earlier entry already made it. */
static int make_dir(struct extract *x, char *name, const char *raw)
{
	int fd = open_dirs(x, name, raw, components(name));

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int extract_entries(struct extract *x)
{
	struct archive_entry *e;
	size_t count = 0;
	int r;

	while ((r = archive_read_next_header(x->a, &e)) == ARCHIVE_OK) {
		const char *raw = archive_entry_pathname(e);
		char name[NAME_MAX_BYTES + 1];
		int c;

		if (count == 0 &&
		    (archive_filter_code(x->a, 0) != ARCHIVE_FILTER_GZIP ||
		     (archive_format(x->a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR)) {
			pkg_error_set(x->err, "format", NULL,
				      "a package must be a gzip-compressed tar (plugin.tar.gz)");
			return -1;
		}
		if (++count > x->lim->max_entries) {
			pkg_error_set(x->err, "entries", raw, "more than %zu entries",
				      x->lim->max_entries);
			return -1;
		}
		c = check_name(raw, name, sizeof name, x->lim, x->err);
		if (c < 0 || check_kind(e, raw, x->err) < 0)
			return -1;
		if (c == 1) {
			if (archive_entry_filetype(e) != AE_IFDIR) {
				pkg_error_set(x->err, "name", raw, "the root must be a directory");
				return -1;
			}
			continue;
		}
		if (archive_entry_filetype(e) == AE_IFDIR)
			r = make_dir(x, name, raw);
		else
			r = write_file(x, e, name, raw);
		if (r < 0)
			return -1;
	}
	if (r != ARCHIVE_EOF) {
		bool gz = archive_filter_code(x->a, 0) == ARCHIVE_FILTER_GZIP;

		pkg_error_set(x->err, count == 0 && !gz ? "format" : "corrupt", NULL,
			      "the archive is damaged or not a gzip-compressed tar: %s",
			      archive_error_string(x->a));
		return -1;
	}
	if (count == 0) {
		pkg_error_set(x->err, "format", NULL, "the archive is empty");
		return -1;
	}
	return 0;
}

/*
 * The whole gzip stream, inflated and thrown away, so its CRC-32 and length
 * are checked: libarchive stops at the tar's end and never reads the
 * trailer, so a damaged one would pass. Exactly one member, nothing after it,
 * and at most max_out bytes inflated: zeros hidden after the tar's end are a
 * bomb too.
 */
static int gzip_check(int fd, unsigned char *buf, uint64_t max_out, struct pkg_error *err)
{
	unsigned char out[BLOCK];
	z_stream z = {0};
	off_t off = 0;
	int zr = Z_OK, rc = -1;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		pkg_error_set(err, "internal", NULL, "zlib failed to initialise");
		return -1;
	}
	while (zr != Z_STREAM_END) {
		ssize_t n = pread(fd, buf, BLOCK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pkg_error_set(err, n == 0 ? "corrupt" : "io", NULL,
				      n == 0 ? "the gzip data is truncated" : "read: %s",
				      strerror(errno));
			goto out;
		}
		off += n;
		z.next_in = buf;
		z.avail_in = (uInt)n;
		do {
			z.next_out = out;
			z.avail_out = sizeof out;
			zr = inflate(&z, Z_NO_FLUSH);
			if (z.total_out > max_out) {
				pkg_error_set(err, "archive-bomb", NULL,
					      "the gzip data inflates to more than %llu bytes",
					      (unsigned long long)max_out);
				goto out;
			}
		} while (zr == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			pkg_error_set(err, "corrupt", NULL, "the gzip data is damaged: %s",
				      z.msg ? z.msg : "inflate failed");
			goto out;
		}
	}
	if (z.avail_in > 0 || pread(fd, buf, 1, off) != 0) {
		pkg_error_set(err, "corrupt", NULL, "data follows the gzip stream");
		goto out;
	}
	rc = 0;
out:
	inflateEnd(&z);
	return rc;
}

/* Removes everything below the directory fd (which it closes). */
static int remove_below(int fd, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			rc = -1;
			continue;
		}
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || depth == 0 || remove_below(sub, depth - 1) < 0 ||
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
			if (sub >= 0 && depth == 0)
				close(sub);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int pkg_tree_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	/* Deeper than any extraction makes; bounded so a loop cannot recurse forever. */
	if (remove_below(fd, 64) < 0)
		return -1;
	return rmdir(path);
}

char *pkg_archive_extract(const char *path, const char *parent,
			  const struct pkg_archive_limits *limits, struct pkg_error *err)
{
	struct pkg_archive_limits lim = {PKG_ARCHIVE_MAX_ENTRIES, PKG_ARCHIVE_MAX_TOTAL,
					 PKG_ARCHIVE_MAX_FILE, PKG_ARCHIVE_MAX_DEPTH};
	struct extract x = {0};
	char *dir = NULL;
	int afd = -1;
	bool ok = false;

	pkg_error_clear(err);
	if (limits != NULL) {
		if (limits->max_entries)
			lim.max_entries = limits->max_entries;
		if (limits->max_total)
			lim.max_total = limits->max_total;
		if (limits->max_file)
			lim.max_file = limits->max_file;
		if (limits->max_depth)
			lim.max_depth = limits->max_depth;
	}
	x.lim = &lim;
	x.err = err;
	x.root = -1;
	afd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (afd < 0) {
		pkg_error_set(err, "io", path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	dir = xasprintf("%s/.pkg-XXXXXX", parent);
	if (mkdtemp(dir) == NULL) {
		pkg_error_set(err, "io", parent, "cannot make a temporary directory: %s",
			      strerror(errno));
		free(dir);
		close(afd);
		return NULL;
	}
	x.root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x.root < 0) {
		pkg_error_set(err, "io", dir, "open: %s", strerror(errno));
		goto out;
	}
	x.seen = xcalloc(lim.max_entries, sizeof *x.seen);
	x.buf = xmalloc(BLOCK);
	x.a = archive_read_new();
	if (archive_read_support_filter_gzip(x.a) < ARCHIVE_WARN ||
	    archive_read_support_format_tar(x.a) != ARCHIVE_OK ||
	    archive_read_open_fd(x.a, afd, BLOCK) != ARCHIVE_OK) {
		/* libarchive reads ahead when opening: a short gzip fails here. */
		unsigned char magic[2] = {0};
		bool gz = pread(afd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;

		pkg_error_set(err, gz ? "corrupt" : "format", NULL,
			      gz ? "gzip data that is damaged, truncated or not a tar: %s"
				 : "not a gzip-compressed tar: %s",
			      archive_error_string(x.a));
		goto out;
	}
	/* Headers (and long names) of every entry and the tar's padding beyond the data. */
	if (extract_entries(&x) < 0 ||
	    gzip_check(afd, x.buf, lim.max_total + (lim.max_entries + 4) * 4096 + (1 << 20), err) <
		0)
		goto out;
	if (fchmod(x.root, 0755) < 0) {
		pkg_error_set(err, "io", dir, "chmod: %s", strerror(errno));
		goto out;
	}
	ok = true;
out:
	if (x.a != NULL)
		archive_read_free(x.a);
	for (size_t i = 0; i < x.n_seen; i++)
		free(x.seen[i]);
	free(x.seen);
	free(x.buf);
	if (x.root >= 0)
		close(x.root);
	close(afd);
	if (!ok) {
		pkg_tree_remove(dir);
		free(dir);
		return NULL;
	}
	return dir;
}
