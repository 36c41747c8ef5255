/*
 * The plugin directory on disk. A scan reads at most one manifest per
 * subdirectory (bounded in size), so it is cheap enough to repeat whenever
 * the catalog is listed or a plugin installed: a plugin dropped into the
 * directory shows up without a restart.
 */
#define _GNU_SOURCE
#include "discovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "xmalloc.h"

/* Reads a regular file of at most max bytes; NULL with a message. */
static char *read_small_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: read failed", path);
			goto fail;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int cmp_discovered(const void *a, const void *b)
{
	const struct discovered *x = a, *y = b;

	return strcmp(x->manifest->name, y->manifest->name);
}

/* Looks at one <dir>/<name>; fills d and returns 0, or -1 with a message. */
static int scan_one(const char *base, const char *name, struct discovered *d, char *err,
		    size_t errlen)
{
	char *dir = xasprintf("%s/%s", base, name), *path = NULL, *text = NULL;
	struct manifest *m = NULL;
	struct stat st;
	size_t len = 0;

	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "not a directory");
		goto fail;
	}
	path = xasprintf("%s/manifest.json", dir);
	text = read_small_file(path, MANIFEST_MAX_BYTES, &len, err, errlen);
	if (text == NULL)
		goto fail;
	m = manifest_parse(text, len, err, errlen);
	if (m == NULL)
		goto fail;
	if (strcmp(m->name, name) != 0) {
		snprintf(err, errlen, "manifest names \"%s\", the directory \"%s\"", m->name, name);
		goto fail;
	}
	free(path);
	path = xasprintf("%s/%s", dir, m->entry_main);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: the shared object is missing", path);
		goto fail;
	}
	d->dir = dir;
	d->so_path = path;
	d->manifest = m;
	free(text);
	return 0;
fail:
	manifest_free(m);
	free(text);
	free(path);
	free(dir);
	return -1;
}

void discovery_scan(const char *dir, struct discovery *out)
{
	char abs[PATH_MAX], err[512];
	DIR *dp;
	struct dirent *de;
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	if (dir == NULL || *dir == '\0')
		return;
	if (realpath(dir, abs) == NULL || (dp = opendir(abs)) == NULL) {
		log_warn("discovery", "plugin directory %s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		struct discovered d;

		/* Hidden entries (".", "..", ".installed") are never plugins. */
		if (de->d_name[0] == '.')
			continue;
		if (!name_plugin_valid(de->d_name)) {
			log_debug("discovery", "%s/%s: not a plugin name, skipped", abs,
				  de->d_name);
			continue;
		}
		if (scan_one(abs, de->d_name, &d, err, sizeof err) < 0) {
			log_warn("discovery", "%s/%s: skipped: %s", abs, de->d_name, err);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		out->v[out->n++] = d;
	}
	closedir(dp);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_discovered);
}

void discovery_clear(struct discovery *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].dir);
		free(d->v[i].so_path);
		manifest_free(d->v[i].manifest);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

bool discovery_is_builtin(const struct discovered *d)
{
	return d->dir == NULL;
}

/* Reads all of fd (at most max bytes) into a new string; NULL when longer. */
static char *read_all(int fd, size_t max)
{
	char *buf = xmalloc(max + 1);
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return NULL;
		}
	}
	buf[len] = '\0';
	return buf;
}

void discovery_builtins(const char *host_path, struct discovery *out)
{
	int pipefd[2] = {-1, -1}, status = 0;
	char *text = NULL, err[512];
	json_object *all = NULL;
	pid_t pid;

	out->v = NULL;
	out->n = 0;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		log_warn("discovery", "built-in plugins: pipe: %s", strerror(errno));
		return;
	}
	/* Start-up only: one short exec of the host, which lists and exits. */
	pid = fork();
	if (pid == 0) {
		char *const argv[] = {"streamspace-plugin-host", "--list-builtins", NULL};
		static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
		int null = open("/dev/null", O_RDWR);
		dup2(pipefd[1], 1);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		execve(host_path, argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		log_warn("discovery", "built-in plugins: fork: %s", strerror(errno));
		close(pipefd[0]);
		return;
	}
	text = read_all(pipefd[0], MANIFEST_MAX_BYTES);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (text == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warn("discovery", "%s --list-builtins failed: no built-in plugins", host_path);
		goto out;
	}
	all = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);
	if (all == NULL || !json_object_is_type(all, json_type_array)) {
		log_warn("discovery", "%s --list-builtins: not a JSON array%s%s", host_path,
			 err[0] ? ": " : "", err);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *mj = json_object_array_get_idx(all, i);
		struct manifest *m = manifest_from_json(mj, err, sizeof err);
		if (m == NULL) {
			log_warn("discovery", "built-in plugin %zu: %s", i, err);
			continue;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n].dir = NULL;
		out->v[out->n].so_path = xasprintf("builtin:%s", m->name);
		out->v[out->n].manifest = m;
		out->n++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_discovered);
out:
	json_object_put(all);
	free(text);
}

void discovery_merge(struct discovery *d, const struct discovery *extra)
{
	char err[256];

	for (size_t i = 0; i < extra->n; i++) {
		const struct discovered *e = &extra->v[i];
		struct manifest *m;

		for (size_t j = 0; j < d->n; j++) {
			if (strcmp(d->v[j].manifest->name, e->manifest->name) != 0)
				continue;
			log_warn("discovery", "%s: the name of a built-in plugin; %s skipped",
				 e->manifest->name, d->v[j].dir ? d->v[j].dir : "duplicate");
			free(d->v[j].dir);
			free(d->v[j].so_path);
			manifest_free(d->v[j].manifest);
			d->v[j] = d->v[--d->n];
			break;
		}
		m = manifest_from_json(e->manifest->json, err, sizeof err);
		if (m == NULL)
			continue; /* it parsed once; it parses again */
		d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
		d->v[d->n].dir = e->dir ? xstrdup(e->dir) : NULL;
		d->v[d->n].so_path = xstrdup(e->so_path);
		d->v[d->n].manifest = m;
		d->n++;
	}
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, cmp_discovered);
}

const struct discovered *discovery_find(const struct discovery *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].manifest->name, name) == 0)
			return &d->v[i];
	return NULL;
}

int discovery_same(const struct discovery *a, const struct discovery *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const char *ja =
		    json_object_to_json_string_ext(a->v[i].manifest->json, JSON_C_TO_STRING_PLAIN);
		char *sa = xstrdup(ja);
		int same = strcmp(sa, json_object_to_json_string_ext(
					  b->v[i].manifest->json, JSON_C_TO_STRING_PLAIN)) == 0 &&
			   strcmp(a->v[i].so_path, b->v[i].so_path) == 0;

		free(sa);
		if (!same)
			return 0;
	}
	return 1;
}

const char discovery_sync_sql[] =
    "WITH repo AS ("
    " INSERT INTO catalog_repositories (name, url, type, last_synced_at, plugin_count)"
    " VALUES ('local', $1, 'local', NOW(), jsonb_array_length($2::jsonb))"
    " ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, last_synced_at = NOW(),"
    "  plugin_count = EXCLUDED.plugin_count, updated_at = NOW()"
    " RETURNING id),"
    " src AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(name text, version text,"
    "  display_name text, description text, category text, plugin_type text, icon_url text,"
    "  manifest jsonb, tags jsonb, author text, license text, homepage text)),"
    " up AS (INSERT INTO catalog_plugins (repository_id, name, version, display_name,"
    "  description, category, plugin_type, icon_url, manifest, tags, author, license,"
    "  homepage, avg_rating, rating_count)"
    " SELECT repo.id, src.name, src.version, src.display_name, src.description, src.category,"
    "  src.plugin_type, src.icon_url, src.manifest,"
    "  ARRAY(SELECT jsonb_array_elements_text(COALESCE(src.tags, '[]'::jsonb))),"
    "  src.author, src.license, src.homepage,"
    "  (SELECT avg(rating)::numeric(3,2) FROM plugin_ratings r WHERE r.plugin_name = src.name),"
    "  (SELECT count(*) FROM plugin_ratings r WHERE r.plugin_name = src.name)"
    " FROM repo, src"
    " ON CONFLICT (repository_id, name, version) DO UPDATE SET"
    "  display_name = EXCLUDED.display_name, description = EXCLUDED.description,"
    "  category = EXCLUDED.category, plugin_type = EXCLUDED.plugin_type,"
    "  icon_url = EXCLUDED.icon_url, manifest = EXCLUDED.manifest, tags = EXCLUDED.tags,"
    "  author = EXCLUDED.author, license = EXCLUDED.license, homepage = EXCLUDED.homepage"
    "  WHERE catalog_plugins.manifest IS DISTINCT FROM EXCLUDED.manifest"
    " RETURNING id)"
    " DELETE FROM catalog_plugins c USING repo"
    " WHERE c.repository_id = repo.id"
    "  AND NOT EXISTS (SELECT 1 FROM src WHERE src.name = c.name AND src.version = c.version)"
    "  AND NOT EXISTS (SELECT 1 FROM installed_plugins i WHERE i.catalog_plugin_id = c.id)";

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

char *discovery_catalog_json(const struct discovery *d)
{
	json_object *arr = json_object_new_array();
	char *out;

	for (size_t i = 0; i < d->n; i++) {
		const struct manifest *m = d->v[i].manifest;
		json_object *o = json_object_new_object();

		add_str(o, "name", m->name);
		add_str(o, "version", m->version);
		add_str(o, "display_name", m->display_name ? m->display_name : m->name);
		add_str(o, "description", m->description);
		add_str(o, "category", m->category);
		add_str(o, "plugin_type", m->type);
		add_str(o, "icon_url", m->icon);
		json_object_object_add(o, "manifest", json_object_get(m->json));
		json_object_object_add(o, "tags", json_object_get(m->tags));
		add_str(o, "author", m->author);
		add_str(o, "license", m->license);
		add_str(o, "homepage", m->homepage);
		json_object_array_add(arr, o);
	}
	out = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return out;
}

int discovery_remove_tree(const char *path)
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
		if (discovery_remove_tree(child) < 0)
			rc = -1;
		free(child);
	}
	closedir(dp);
	if (rmdir(path) < 0)
		rc = -1;
	return rc;
}

/* Copies one regular file, keeping its mode. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, rc = -1;

	if (in < 0)
		return -1;
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
		/* Keep the mtime: the registry compares it to notice a rebuilt plugin. */
		struct stat st;
		struct timespec ts[2];

		if (fstat(in, &st) == 0) {
			ts[0] = st.st_atim;
			ts[1] = st.st_mtim;
			futimens(out, ts);
		}
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
static int copy_tree(const char *src, const char *dst, int depth)
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
				rc = copy_tree(s, d, depth + 1);
		}
		free(s);
		free(d);
	}
	closedir(dp);
	return rc;
}

int discovery_copy_dir(const char *src, const char *parent, const char *name, char *err,
		       size_t errlen)
{
	char *tmp = xasprintf("%s/.%s.tmp-%ld", parent, name, (long)getpid());
	char *dest = xasprintf("%s/%s", parent, name);
	int rc = -1;

	discovery_remove_tree(tmp);
	if (copy_tree(src, tmp, 0) < 0) {
		snprintf(err, errlen, "copying %s to %s: %s", src, tmp, strerror(errno));
		discovery_remove_tree(tmp);
		goto out;
	}
	if (discovery_remove_tree(dest) < 0 || rename(tmp, dest) < 0) {
		snprintf(err, errlen, "installing %s: %s", dest, strerror(errno));
		discovery_remove_tree(tmp);
		goto out;
	}
	rc = 0;
out:
	free(dest);
	free(tmp);
	return rc;
}

/* ---- watching the plugin directory ---- */

struct discovery_watch {
	char *dir;
	int fd;
	struct event *ev;
	struct event *debounce; /* one callback after a burst of changes */
	void (*fn)(void *arg);
	void *arg;
};

/* Watches the directory and each plugin's own directory (manifest edits, rebuilds). */
static void watch_dirs(struct discovery_watch *w)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
			      IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR;
	DIR *dp;
	struct dirent *de;

	inotify_add_watch(w->fd, w->dir, mask);
	dp = opendir(w->dir);
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		char *sub;

		if (de->d_name[0] == '.' || !name_plugin_valid(de->d_name))
			continue;
		sub = xasprintf("%s/%s", w->dir, de->d_name);
		/* Adding a watch twice returns the same one; a non-directory fails. */
		inotify_add_watch(w->fd, sub, mask);
		free(sub);
	}
	closedir(dp);
}

static void debounce_cb(evutil_socket_t fd, short what, void *arg)
{
	struct discovery_watch *w = arg;

	watch_dirs(w);
	w->fn(w->arg);
}

static void inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct discovery_watch *w = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct timeval tv = {0, 200 * 1000};

	/* What changed does not matter: the rescan compares the whole directory. */
	while (read(fd, buf, sizeof buf) > 0)
		;
	evtimer_add(w->debounce, &tv);
}

struct discovery_watch *discovery_watch_new(struct event_base *base, const char *dir,
					    void (*fn)(void *arg), void *arg)
{
	struct discovery_watch *w;
	int fd;

	if (dir == NULL)
		return NULL;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		log_warn("discovery", "inotify: %s; %s is rescanned on catalog listings only",
			 strerror(errno), dir);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->dir = xstrdup(dir);
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	w->ev = event_new(base, fd, EV_READ | EV_PERSIST, inotify_cb, w);
	w->debounce = evtimer_new(base, debounce_cb, w);
	event_add(w->ev, NULL);
	watch_dirs(w);
	return w;
}

void discovery_watch_free(struct discovery_watch *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	event_free(w->debounce);
	close(w->fd);
	free(w->dir);
	free(w);
}
