/*
 * The install directory's file work. Each verb is a job for the worker
 * thread holding copies of everything it needs; its work function only
 * touches the file system and fills the job's result, which the done
 * function hands to the caller on the reactor.
 */
#define _GNU_SOURCE
#include "installdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discovery.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "worker.h"
#include "xmalloc.h"

struct installdir {
	struct worker *worker;
	char *path;
};

int installdir_remove_tree(const char *path)
{
	struct stat st;
	DIR *dp;
	struct dirent *de;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	dp = opendir(path);
	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		char *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = xasprintf("%s/%s", path, de->d_name);
		if (installdir_remove_tree(child) < 0)
			rc = -1;
		free(child);
	}
	closedir(dp);
	if (rmdir(path) < 0)
		rc = -1;
	return rc;
}

/* Copies one regular file, keeping its mode and mtime. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	/* O_NONBLOCK: lstat said regular, but the name may have been swapped for a FIFO since. */
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), out = -1, rc = -1;
	struct stat st;

	if (in < 0)
		return -1;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto done;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0755);
	if (out < 0)
		goto done;
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf), w = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto done;
		if (r == 0)
			break;
		while (w < r) {
			ssize_t k = write(out, buf + w, (size_t)(r - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				goto done;
			w += k;
		}
	}
	{
		/* Keep the mtime: ensure compares it to notice a rebuilt plugin. */
		struct timespec ts[2] = {st.st_atim, st.st_mtim};

		futimens(out, ts);
	}
	rc = 0;
done:
	if (out >= 0 && close(out) < 0)
		rc = -1;
	close(in);
	return rc;
}

/* meson's per-target object directories ("hello.so.p") in a build tree's plugin directory. */
static bool build_objects(const char *name)
{
	size_t n = strlen(name);

	return n > 2 && strcmp(name + n - 2, ".p") == 0;
}

/* Copies regular files and directories below src; symlinks and the rest are skipped. */
static int copy_dir(const char *src, const char *dst, int depth)
{
	DIR *dp;
	struct dirent *de;
	int rc = 0;

	if (depth > 8 || mkdir(dst, 0755) < 0)
		return -1;
	dp = opendir(src);
	if (dp == NULL)
		return -1;
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		char *s, *d;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = xasprintf("%s/%s", src, de->d_name);
		d = xasprintf("%s/%s", dst, de->d_name);
		if (lstat(s, &st) == 0) {
			if (S_ISREG(st.st_mode))
				rc = copy_file(s, d, st.st_mode);
			else if (S_ISDIR(st.st_mode) && !build_objects(de->d_name))
				rc = copy_dir(s, d, depth + 1);
		}
		free(s);
		free(d);
	}
	closedir(dp);
	return rc;
}

int installdir_copy_tree(const char *src, const char *parent, const char *name, char *err,
			 size_t errlen)
{
	char *tmp = xasprintf("%s/.%s.tmp-%ld", parent, name, (long)getpid());
	char *dest = xasprintf("%s/%s", parent, name);
	int rc = -1;

	installdir_remove_tree(tmp);
	if (copy_dir(src, tmp, 0) < 0) {
		snprintf(err, errlen, "copying %s to %s: %s", src, tmp, strerror(errno));
		installdir_remove_tree(tmp);
		goto out;
	}
	if (installdir_remove_tree(dest) < 0 || rename(tmp, dest) < 0) {
		snprintf(err, errlen, "installing %s: %s", dest, strerror(errno));
		installdir_remove_tree(tmp);
		goto out;
	}
	rc = 0;
out:
	free(dest);
	free(tmp);
	return rc;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct installdir *installdir_open(struct worker *worker, const char *path, const char *plugin_dir,
				   char *err, size_t errlen)
{
	const char *env = getenv("STREAMSPACE_INSTALL_DIR");
	char abs[PATH_MAX], *want;
	struct installdir *d;

	if (path)
		want = xstrdup(path);
	else if (env && *env)
		want = xstrdup(env);
	else if (plugin_dir)
		want = xasprintf("%s/.installed", plugin_dir);
	else
		want = xstrdup("/var/lib/streamspace/plugins");
	/* The operator's directory, at start-up: not a plugin-controlled path. */
	if (make_dir(want, err, errlen) < 0)
		goto fail;
	if (realpath(want, abs) == NULL) {
		snprintf(err, errlen, "install directory %s: %s", want, strerror(errno));
		goto fail;
	}
	if (plugin_dir && strcmp(abs, plugin_dir) == 0) {
		snprintf(err, errlen, "the install directory (%s) must not be the plugin directory",
			 abs);
		goto fail;
	}
	free(want);
	d = xcalloc(1, sizeof *d);
	d->worker = worker;
	d->path = xstrdup(abs);
	return d;
fail:
	free(want);
	return NULL;
}

void installdir_free(struct installdir *d)
{
	if (d == NULL)
		return;
	free(d->path);
	free(d);
}

const char *installdir_path(const struct installdir *d)
{
	return d->path;
}

/* ---- jobs ---- */

struct job {
	char *dir; /* <install dir>/<name> */
	char *parent, *name, *version;
	char *src_dir, *src_so, *src_version; /* the plugin directory's entry, or NULL */
	char **keep;			      /* sweep */
	size_t nkeep;
	char **removed; /* sweep: what went, logged on the reactor */
	size_t nremoved;
	installdir_fn fn;
	void *arg;
	struct installdir_result r;
};

static void job_free(struct job *j)
{
	free(j->dir);
	free(j->parent);
	free(j->name);
	free(j->version);
	free(j->src_dir);
	free(j->src_so);
	free(j->src_version);
	for (size_t i = 0; i < j->nkeep; i++)
		free(j->keep[i]);
	free(j->keep);
	for (size_t i = 0; i < j->nremoved; i++)
		free(j->removed[i]);
	free(j->removed);
	manifest_free(j->r.manifest);
	free(j);
}

static struct job *job_new(struct installdir *d, const char *name, installdir_fn fn, void *arg)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->parent = xstrdup(d->path);
	j->name = name ? xstrdup(name) : NULL;
	j->dir = name ? xasprintf("%s/%s", d->path, name) : NULL;
	j->fn = fn;
	j->arg = arg;
	return j;
}

static void job_done(void *arg, bool cancelled)
{
	struct job *j = arg;

	for (size_t i = 0; i < j->nremoved; i++)
		log_info("installdir", "removed files of a plugin that is not installed: %s",
			 j->removed[i]);
	if (cancelled) {
		j->r.rc = -1;
		snprintf(j->r.err, sizeof j->r.err, "the daemon is stopping");
	}
	if (j->fn)
		j->fn(&j->r, j->arg);
	job_free(j);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static struct manifest *read_installed(const char *dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/manifest.json", dir);
	struct manifest *m = manifest_read_file(path, err, errlen);

	free(path);
	return m;
}

/* On the worker: is the copy there the one wanted, else copy it. */
static void ensure_work(void *arg)
{
	struct job *j = arg;
	struct installdir_result *r = &j->r;
	struct manifest *m = read_installed(j->dir, r->err, sizeof r->err);
	struct stat src, dst;

	if (m && strcmp(m->version, j->version) == 0) {
		char *so = xasprintf("%s/%s", j->dir, m->entry_main);
		bool fresh = lstat(so, &dst) == 0 && S_ISREG(dst.st_mode) &&
			     (j->src_dir == NULL || strcmp(j->src_version, j->version) != 0 ||
			      (lstat(j->src_so, &src) == 0 && same_file(&src, &dst)));

		free(so);
		if (fresh) {
			r->manifest = m;
			return;
		}
	}
	manifest_free(m);
	if (j->src_dir == NULL || strcmp(j->src_version, j->version) != 0) {
		r->rc = -1;
		snprintf(r->err, sizeof r->err, "version %s of %s is not in the plugin directory",
			 j->version, j->name);
		return;
	}
	if (installdir_copy_tree(j->src_dir, j->parent, j->name, r->err, sizeof r->err) < 0) {
		r->rc = -1;
		return;
	}
	r->changed = true;
	r->manifest = read_installed(j->dir, r->err, sizeof r->err);
	r->rc = r->manifest ? 0 : -1;
}

void installdir_ensure(struct installdir *d, const char *name, const char *version,
		       const struct discovered *src, installdir_fn fn, void *arg)
{
	struct job *j = job_new(d, name, fn, arg);

	j->version = xstrdup(version);
	if (src != NULL && !discovery_is_builtin(src)) {
		j->src_dir = xstrdup(src->dir);
		j->src_so = xstrdup(src->so_path);
		j->src_version = xstrdup(src->manifest->version);
	}
	worker_submit(d->worker, ensure_work, job_done, j);
}

static void remove_work(void *arg)
{
	struct job *j = arg;

	if (installdir_remove_tree(j->dir) < 0) {
		j->r.rc = -1;
		snprintf(j->r.err, sizeof j->r.err, "removing %s: %s", j->dir, strerror(errno));
	}
}

void installdir_remove(struct installdir *d, const char *name, installdir_fn fn, void *arg)
{
	worker_submit(d->worker, remove_work, job_done, job_new(d, name, fn, arg));
}

static bool is_plugin_copy(const char *dir)
{
	char *manifest = xasprintf("%s/manifest.json", dir);
	struct stat st;
	bool yes = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(manifest, &st) == 0 &&
		   S_ISREG(st.st_mode);

	free(manifest);
	return yes;
}

static void sweep_work(void *arg)
{
	struct job *j = arg;
	DIR *dp = opendir(j->parent);
	struct dirent *de;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		bool keep = false;
		char *path;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* Leftover temporary copies are ours to remove; other names are not. */
		if (de->d_name[0] != '.' && !name_plugin_valid(de->d_name))
			continue;
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp-") == NULL)
			continue;
		for (size_t i = 0; i < j->nkeep && !keep; i++)
			keep = strcmp(j->keep[i], de->d_name) == 0;
		if (keep)
			continue;
		path = xasprintf("%s/%s", j->parent, de->d_name);
		/* Only what looks like a copy made by install: a directory with a manifest. */
		if (de->d_name[0] == '.' || is_plugin_copy(path)) {
			installdir_remove_tree(path);
			j->removed = xrealloc(j->removed, (j->nremoved + 1) * sizeof *j->removed);
			j->removed[j->nremoved++] = path;
		} else {
			free(path);
		}
	}
	closedir(dp);
}

void installdir_sweep(struct installdir *d, const char *const *keep, size_t nkeep)
{
	struct job *j = job_new(d, NULL, NULL, NULL);

	j->keep = xcalloc(nkeep + 1, sizeof *j->keep);
	for (size_t i = 0; i < nkeep; i++)
		j->keep[i] = xstrdup(keep[i]);
	j->nkeep = nkeep;
	worker_submit(d->worker, sweep_work, job_done, j);
}
