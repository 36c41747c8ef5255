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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "discovery.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "worker.h"
#include "xmalloc.h"

/* What the last job that looked found kept of one plugin: its version directories. */
struct kept {
	char *name;
	char **v;
	size_t n;
};

struct installdir {
	struct worker *worker;
	char *path;
	struct kept *kept;
	size_t nkept;
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

/*
 * src copied to a hidden temporary directory in parent, then renamed to
 * parent/name. With version set, the copy's manifest.json must name that
 * version before it replaces anything: the plugin directory may change
 * while it is copied (a deploy writes the .so, then the manifest), and a
 * copy filed under the wrong version would be run as it.
 */
static int copy_tree(const char *src, const char *parent, const char *name, const char *version,
		     char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/.%s.tmp-%ld", parent, name, (long)getpid());
	char *dest = xasprintf("%s/%s", parent, name), *mpath = NULL;
	struct manifest *m = NULL;
	int rc = -1;

	installdir_remove_tree(tmp);
	if (copy_dir(src, tmp, 0) < 0) {
		snprintf(err, errlen, "copying %s to %s: %s", src, tmp, strerror(errno));
		installdir_remove_tree(tmp);
		goto out;
	}
	if (version != NULL) {
		mpath = xasprintf("%s/manifest.json", tmp);
		m = manifest_read_file(mpath, err, errlen);
		if (m == NULL || strcmp(m->version, version) != 0) {
			if (m != NULL)
				snprintf(err, errlen,
					 "%s changed while it was copied (version %s, not %s)", src,
					 m->version, version);
			installdir_remove_tree(tmp);
			goto out;
		}
	}
	if (installdir_remove_tree(dest) < 0 || rename(tmp, dest) < 0) {
		snprintf(err, errlen, "installing %s: %s", dest, strerror(errno));
		installdir_remove_tree(tmp);
		goto out;
	}
	rc = 0;
out:
	manifest_free(m);
	free(mpath);
	free(dest);
	free(tmp);
	return rc;
}

int installdir_copy_tree(const char *src, const char *parent, const char *name, char *err,
			 size_t errlen)
{
	return copy_tree(src, parent, name, NULL, err, errlen);
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

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void installdir_free(struct installdir *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nkept; i++) {
		free(d->kept[i].name);
		strv_free(d->kept[i].v, d->kept[i].n);
	}
	free(d->kept);
	free(d->path);
	free(d);
}

static struct kept *kept_find(const struct installdir *d, const char *name)
{
	for (size_t i = 0; i < d->nkept; i++)
		if (strcmp(d->kept[i].name, name) == 0)
			return &d->kept[i];
	return NULL;
}

/* Takes v: what a job found in <dir>/<name> (none: the entry goes). */
static void kept_set(struct installdir *d, const char *name, char **v, size_t n)
{
	struct kept *k = kept_find(d, name);

	if (k == NULL && n == 0) {
		free(v);
		return;
	}
	if (k == NULL) {
		d->kept = xrealloc(d->kept, (d->nkept + 1) * sizeof *d->kept);
		k = &d->kept[d->nkept++];
		k->name = xstrdup(name);
	} else {
		strv_free(k->v, k->n);
	}
	k->v = v;
	k->n = n;
	if (n == 0) {
		free(k->name);
		*k = d->kept[--d->nkept];
	}
}

json_object *installdir_kept(const struct installdir *d, const char *name)
{
	const struct kept *k = kept_find(d, name);
	json_object *a = json_object_new_array();

	for (size_t i = 0; k != NULL && i < k->n; i++)
		json_object_array_add(a, json_object_new_string(k->v[i]));
	return a;
}

char *installdir_version_path(const struct installdir *d, const char *name, const char *version)
{
	return xasprintf("%s/%s/%s", d->path, name, version);
}

const char *installdir_path(const struct installdir *d)
{
	return d->path;
}

/* ---- jobs ---- */

struct job {
	struct installdir *d;
	char *dir; /* <install dir>/<name> */
	char *parent, *name, *version;
	char *protect[2]; /* prune: the active and the previous version */
	size_t keep_n;	  /* prune: how many versions stay */
	bool scanned;	  /* kept holds what <dir> has now */
	char **kept;
	size_t nkept;
	bool pruning;			      /* removed lists pruned versions */
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
	free(j->protect[0]);
	free(j->protect[1]);
	strv_free(j->kept, j->nkept);
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

	j->d = d;
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
		log_info("installdir", "%s: %s",
			 j->pruning ? "removed a version beyond --keep-versions"
				    : "removed files of a plugin that is not installed",
			 j->removed[i]);
	if (j->scanned && !cancelled) {
		kept_set(j->d, j->name, j->kept, j->nkept);
		j->kept = NULL;
		j->nkept = 0;
	}
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

/* A version directory's name: a manifest's version (no '/', never "." or ".."). */
static bool version_name(const char *v)
{
	return v[0] != '.' && manifest_version_valid(v);
}

static int by_version(const void *a, const void *b)
{
	/* Newest first, 1.10.0 after 1.9.0. */
	return strverscmp(*(char *const *)b, *(char *const *)a);
}

/* On the worker: the version directories <dir> holds (each with a manifest), newest first. */
static void scan(struct job *j)
{
	DIR *dp = opendir(j->dir);
	struct dirent *de;

	j->scanned = true;
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		char *path;
		bool yes;

		if (!version_name(de->d_name))
			continue;
		path = xasprintf("%s/%s/manifest.json", j->dir, de->d_name);
		{
			struct stat st;

			yes = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
		}
		free(path);
		if (!yes)
			continue;
		j->kept = xrealloc(j->kept, (j->nkept + 1) * sizeof *j->kept);
		j->kept[j->nkept++] = xstrdup(de->d_name);
	}
	closedir(dp);
	if (j->nkept > 1)
		qsort(j->kept, j->nkept, sizeof *j->kept, by_version);
}

/*
 * On the worker: a copy in the layout before per-version directories
 * (<dir>/manifest.json) moves to <dir>/<its version>/, so an upgraded daemon
 * keeps running what it ran.
 */
static void migrate_flat(struct job *j)
{
	char *mpath = xasprintf("%s/manifest.json", j->dir), *tmp = NULL, *dst = NULL, why[256];
	struct manifest *m = NULL;
	struct stat st;

	if (lstat(mpath, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	m = manifest_read_file(mpath, why, sizeof why);
	if (m == NULL || !version_name(m->version))
		goto out;
	tmp = xasprintf("%s/.%s.tmp-flat-%ld", j->parent, j->name, (long)getpid());
	dst = xasprintf("%s/%s", j->dir, m->version);
	installdir_remove_tree(tmp);
	if (rename(j->dir, tmp) == 0 && mkdir(j->dir, 0755) == 0)
		rename(tmp, dst);
out:
	manifest_free(m);
	free(mpath);
	free(tmp);
	free(dst);
}

/* On the worker: is the copy of the version there the one wanted, else copy it. */
static void ensure_work(void *arg)
{
	struct job *j = arg;
	struct installdir_result *r = &j->r;
	char *vdir = xasprintf("%s/%s", j->dir, j->version);
	struct manifest *m;
	struct stat src, dst;

	migrate_flat(j);
	if (mkdir(j->dir, 0755) < 0 && errno != EEXIST) {
		r->rc = -1;
		snprintf(r->err, sizeof r->err, "creating %s: %s", j->dir, strerror(errno));
		goto out;
	}
	m = read_installed(vdir, r->err, sizeof r->err);
	if (m && strcmp(m->version, j->version) != 0) {
		manifest_free(m);
		m = NULL;
	}
	if (m) {
		char *so = xasprintf("%s/%s", vdir, m->entry_main);
		bool there = lstat(so, &dst) == 0 && S_ISREG(dst.st_mode);

		free(so);
		if (!there) {
			manifest_free(m);
			m = NULL;
		} else if (j->src_dir == NULL || strcmp(j->src_version, j->version) != 0 ||
			   (lstat(j->src_so, &src) == 0 && same_file(&src, &dst))) {
			/* Its mtime says when a version last ran: pruning keeps the recent ones. */
			utimensat(AT_FDCWD, vdir, NULL, 0);
			r->manifest = m;
			goto out;
		}
	}
	if (j->src_dir == NULL || strcmp(j->src_version, j->version) != 0) {
		r->rc = -1;
		r->missing = true;
		snprintf(r->err, sizeof r->err,
			 "version %s of %s is neither kept in %s nor in the plugin directory",
			 j->version, j->name, j->dir);
		goto out;
	}
	if (copy_tree(j->src_dir, j->dir, j->version, j->version, r->err, sizeof r->err) < 0) {
		/*
		 * A refresh that failed (the plugin directory changing under the
		 * copy) leaves the kept copy, which still is this version: it
		 * serves; the change that is under way is applied when it settles.
		 */
		if (m != NULL) {
			r->err[0] = '\0';
			r->manifest = m;
		} else {
			r->rc = -1;
		}
		goto out;
	}
	manifest_free(m);
	r->changed = true;
	r->manifest = read_installed(vdir, r->err, sizeof r->err);
	r->rc = r->manifest ? 0 : -1;
out:
	free(vdir);
	scan(j);
	/* Nothing of a plugin that has no version here (a failed first copy included). */
	if (j->nkept == 0)
		rmdir(j->dir);
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

	char *path = j->version ? xasprintf("%s/%s", j->dir, j->version) : xstrdup(j->dir);

	if (installdir_remove_tree(path) < 0) {
		j->r.rc = -1;
		snprintf(j->r.err, sizeof j->r.err, "removing %s: %s", path, strerror(errno));
	}
	free(path);
	scan(j);
	if (j->nkept == 0)
		rmdir(j->dir);
}

void installdir_remove(struct installdir *d, const char *name, installdir_fn fn, void *arg)
{
	worker_submit(d->worker, remove_work, job_done, job_new(d, name, fn, arg));
}

void installdir_remove_version(struct installdir *d, const char *name, const char *version,
			       installdir_fn fn, void *arg)
{
	struct job *j = job_new(d, name, fn, arg);

	j->version = xstrdup(version);
	worker_submit(d->worker, remove_work, job_done, j);
}

static time_t dir_mtime(const char *dir, const char *v)
{
	char *path = xasprintf("%s/%s", dir, v);
	struct stat st;
	time_t t = lstat(path, &st) == 0 ? st.st_mtime : 0;

	free(path);
	return t;
}

/*
 * On the worker: keeps the active version, then the previous one, then the
 * most recently run (directory mtime), keep_n in all; removes the rest.
 */
static void prune_work(void *arg)
{
	struct job *j = arg;
	size_t n;
	char **order;
	time_t *when;

	scan(j);
	n = j->nkept;
	order = xcalloc(n + 1, sizeof *order);
	when = xcalloc(n + 1, sizeof *when);
	for (size_t i = 0; i < n; i++) {
		order[i] = j->kept[i];
		when[i] = dir_mtime(j->dir, order[i]);
		for (size_t p = 0; p < 2; p++)
			if (j->protect[p] && strcmp(order[i], j->protect[p]) == 0)
				when[i] = (time_t)(INT64_MAX - (int64_t)p);
	}
	/* Insertion sort by rank, highest first (a handful of versions). */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && when[k] > when[k - 1]; k--) {
			time_t t = when[k];
			char *o = order[k];

			when[k] = when[k - 1], order[k] = order[k - 1];
			when[k - 1] = t, order[k - 1] = o;
		}
	for (size_t i = j->keep_n; i < n; i++) {
		char *path = xasprintf("%s/%s", j->dir, order[i]);

		if (installdir_remove_tree(path) < 0 && j->r.rc == 0) {
			j->r.rc = -1;
			snprintf(j->r.err, sizeof j->r.err, "removing %s: %s", path,
				 strerror(errno));
		}
		j->removed = xrealloc(j->removed, (j->nremoved + 1) * sizeof *j->removed);
		j->removed[j->nremoved++] = path;
	}
	free(order);
	free(when);
	strv_free(j->kept, j->nkept);
	j->kept = NULL;
	j->nkept = 0;
	scan(j);
}

void installdir_prune(struct installdir *d, const char *name, size_t keep_n, const char *active,
		      const char *previous, installdir_fn fn, void *arg)
{
	struct job *j = job_new(d, name, fn, arg);

	j->keep_n = keep_n ? keep_n : 1;
	j->protect[0] = active ? xstrdup(active) : NULL;
	j->protect[1] = previous ? xstrdup(previous) : NULL;
	j->pruning = true;
	worker_submit(d->worker, prune_work, job_done, j);
}

static bool has_manifest(const char *dir)
{
	char *manifest = xasprintf("%s/manifest.json", dir);
	struct stat st;
	bool yes = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(manifest, &st) == 0 &&
		   S_ISREG(st.st_mode);

	free(manifest);
	return yes;
}

/* A copy made by install: <dir>/<version>/manifest.json (or <dir>/manifest.json, the old layout).
 */
static bool is_plugin_copy(const char *dir)
{
	DIR *dp;
	struct dirent *de;
	bool yes = has_manifest(dir);

	if (yes || (dp = opendir(dir)) == NULL)
		return yes;
	while (!yes && (de = readdir(dp)) != NULL) {
		char *v;

		if (!version_name(de->d_name))
			continue;
		v = xasprintf("%s/%s", dir, de->d_name);
		yes = has_manifest(v);
		free(v);
	}
	closedir(dp);
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
