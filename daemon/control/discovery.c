/*
 * The plugin directory on disk and the built-in plugins. A scan opens at
 * most one manifest per subdirectory through manifest_read_file (bounded,
 * never blocking on a FIFO), on the worker thread; the reactor only swaps
 * the finished list in. inotify says when to scan again.
 */
#define _GNU_SOURCE
#include "discovery.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "clock.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "spawn.h"
#include "worker.h"
#include "xmalloc.h"

/* A change is scanned this long after the first event of a burst (a copy is many events). */
#define DEBOUNCE_MS 200
/* Without inotify, the directory is rescanned this often. */
#define POLL_MS 5000

static int cmp_discovered(const void *a, const void *b)
{
	const struct discovered *x = a, *y = b;

	return strcmp(x->manifest->name, y->manifest->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_issue(struct discovery *d, char *issue)
{
	d->issues = xrealloc(d->issues, (d->nissues + 1) * sizeof *d->issues);
	d->issues[d->nissues++] = issue;
}

static void add_entry(struct discovery *d, char *dir, char *so_path, struct manifest *m,
		      const struct stat *st)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
	memset(&d->v[d->n], 0, sizeof d->v[d->n]);
	if (st != NULL) {
		d->v[d->n].so_id.dev = st->st_dev;
		d->v[d->n].so_id.ino = st->st_ino;
		d->v[d->n].so_id.size = (unsigned long long)st->st_size;
		d->v[d->n].so_id.mtime_ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
					    (unsigned long long)st->st_mtim.tv_nsec;
	}
	d->v[d->n].dir = dir;
	d->v[d->n].so_path = so_path;
	d->v[d->n].manifest = m;
	d->n++;
}

/* Looks at one <dir>/<name>; adds it to out, or its issue. */
static void scan_one(const char *base, const char *name, struct discovery *out)
{
	char *dir = xasprintf("%s/%s", base, name), *path = NULL, err[512];
	struct manifest *m = NULL;
	struct stat st;

	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, sizeof err, "not a directory");
		goto fail;
	}
	path = xasprintf("%s/manifest.json", dir);
	m = manifest_read_file(path, err, sizeof err);
	if (m == NULL)
		goto fail;
	if (strcmp(m->name, name) != 0) {
		snprintf(err, sizeof err, "manifest names \"%s\", the directory \"%s\"", m->name,
			 name);
		goto fail;
	}
	free(path);
	path = xasprintf("%s/%s", dir, m->entry_main);
	/* lstat: a symlink or a FIFO in the name of the shared object is not one. */
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, sizeof err, "%s: the shared object is missing", path);
		goto fail;
	}
	add_entry(out, dir, path, m, &st);
	return;
fail:
	add_issue(out, xasprintf("%s/%s: skipped: %s", base, name, err));
	manifest_free(m);
	free(path);
	free(dir);
}

void discovery_scan(const char *dir, struct discovery *out)
{
	char abs[PATH_MAX];
	DIR *dp;
	struct dirent *de;

	memset(out, 0, sizeof *out);
	if (dir == NULL || *dir == '\0')
		return;
	if (realpath(dir, abs) == NULL || (dp = opendir(abs)) == NULL) {
		add_issue(out, xasprintf("plugin directory %s: %s", dir, strerror(errno)));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		/* Hidden entries (".", "..", ".installed") and other names are never plugins. */
		if (de->d_name[0] == '.' || !name_plugin_valid(de->d_name))
			continue;
		scan_one(abs, de->d_name, out);
	}
	closedir(dp);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_discovered);
	if (out->nissues > 1)
		qsort(out->issues, out->nissues, sizeof *out->issues, cmp_str);
}

void discovery_clear(struct discovery *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].dir);
		free(d->v[i].so_path);
		manifest_free(d->v[i].manifest);
	}
	for (size_t i = 0; i < d->nissues; i++)
		free(d->issues[i]);
	free(d->v);
	free(d->issues);
	memset(d, 0, sizeof *d);
}

bool discovery_is_builtin(const struct discovered *d)
{
	return d->dir == NULL;
}

/* Entries' issues read "<dir>/<name>: skipped: <why>" (scan_entry). */
const char *discovery_issue(const struct discovery *d, const char *name)
{
	static const char sep[] = ": skipped: ";
	size_t n = strlen(name);

	for (size_t i = 0; i < d->nissues; i++) {
		const char *s = d->issues[i], *at = strstr(s, sep);

		if (at != NULL && (size_t)(at - s) > n && at[-(ptrdiff_t)n - 1] == '/' &&
		    strncmp(at - n, name, n) == 0)
			return at + sizeof sep - 1;
	}
	return NULL;
}

const struct discovered *discovery_find(const struct discovery *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].manifest->name, name) == 0)
			return &d->v[i];
	return NULL;
}

/* The host has this long to list its built-ins (start-up waits for it). */
#define LIST_TIMEOUT_MS 10000

/*
 * Reads all of the non-blocking fd (at most max bytes) into a new string
 * until EOF; NULL when longer, or when it takes over LIST_TIMEOUT_MS.
 */
static char *read_all(int fd, size_t max)
{
	char *buf = xmalloc(max + 1);
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r = poll(&pfd, 1, LIST_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			goto fail;
	}
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

void discovery_builtins(const char *host_path, struct discovery *out)
{
	char *const argv[] = {"streamspace-plugin-host", "--list-builtins", NULL};
	struct spawn_child child;
	char *text = NULL, err[512];
	json_object *all = NULL;
	int status = 0;

	memset(out, 0, sizeof *out);
	/* Start-up only: one short run of the host, started as every host is, which lists and
	 * exits. */
	if (spawn_host(host_path, argv, &child, err, sizeof err) < 0) {
		log_warn("discovery", "built-in plugins: %s", err);
		return;
	}
	close(child.sock);
	text = read_all(child.logfd, MANIFEST_MAX_BYTES);
	close(child.logfd);
	if (text == NULL)
		kill(child.pid, SIGKILL);
	while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR)
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
		add_entry(out, NULL, xasprintf(SS_BUILTIN_PREFIX "%s", m->name), m, NULL);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_discovered);
out:
	json_object_put(all);
	free(text);
}

/*
 * Adds copies of the built-ins to d (on the reactor: the manifests' JSON is
 * shared by reference). A directory entry with a built-in's name is dropped
 * and becomes an issue.
 */
static void merge_builtins(struct discovery *d, const struct discovery *builtins)
{
	char err[256];

	for (size_t i = 0; i < builtins->n; i++) {
		const struct discovered *e = &builtins->v[i];
		struct manifest *m;

		for (size_t j = 0; j < d->n; j++) {
			if (strcmp(d->v[j].manifest->name, e->manifest->name) != 0)
				continue;
			add_issue(d, xasprintf("%s: skipped: the name of a built-in plugin",
					       d->v[j].dir));
			free(d->v[j].dir);
			free(d->v[j].so_path);
			manifest_free(d->v[j].manifest);
			d->v[j] = d->v[--d->n];
			break;
		}
		m = manifest_from_json(e->manifest->json, err, sizeof err);
		if (m == NULL)
			continue; /* it parsed once; it parses again */
		add_entry(d, NULL, xstrdup(e->so_path), m, NULL);
	}
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, cmp_discovered);
	if (d->nissues > 1)
		qsort(d->issues, d->nissues, sizeof *d->issues, cmp_str);
}

/* Whether a and b list the same plugins at the same versions and paths. */
static bool same_list(const struct discovery *a, const struct discovery *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		char *sa = xstrdup(
		    json_object_to_json_string_ext(a->v[i].manifest->json, JSON_C_TO_STRING_PLAIN));
		bool same = strcmp(sa, json_object_to_json_string_ext(
					   b->v[i].manifest->json, JSON_C_TO_STRING_PLAIN)) == 0 &&
			    strcmp(a->v[i].so_path, b->v[i].so_path) == 0 &&
			    memcmp(&a->v[i].so_id, &b->v[i].so_id, sizeof a->v[i].so_id) == 0;

		free(sa);
		if (!same)
			return false;
	}
	return true;
}

static bool has_issue(const struct discovery *d, const char *issue)
{
	if (d->nissues == 0)
		return false;
	return bsearch(&issue, d->issues, d->nissues, sizeof *d->issues, cmp_str) != NULL;
}

/* ---- the cache ---- */

struct settle_waiter {
	void (*done)(void *arg);
	void *arg;
	SLIST_ENTRY(settle_waiter) entry;
};
SLIST_HEAD(settle_list, settle_waiter);

struct discovery_cache {
	struct event_base *base;
	struct worker *worker;
	char *dir;
	const struct discovery *builtins;
	struct discovery cur;
	void (*changed)(void *arg);
	void *arg;
	int fd; /* inotify, or -1 */
	struct event *ev, *debounce;
	bool scanning; /* a scan job is on the worker */
	bool dirty;    /* a change came after the running scan began, or is debouncing */
	struct settle_list waiters; /* the latest first */
	struct scan_job *job;	    /* the one in flight, to detach on free */
};

struct scan_job {
	struct discovery_cache *c; /* NULL once the cache was freed */
	char *dir;
	int fd;
	struct discovery found;
};

/* Watches the directory and each plugin's own directory (manifest edits, rebuilds). */
static void watch_dirs(int fd, const char *dir)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
			      IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR;
	DIR *dp;
	struct dirent *de;

	inotify_add_watch(fd, dir, mask);
	dp = opendir(dir);
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		char *sub;

		if (de->d_name[0] == '.' || !name_plugin_valid(de->d_name))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		/* Adding a watch twice returns the same one; IN_ONLYDIR refuses the rest. */
		inotify_add_watch(fd, sub, mask);
		free(sub);
	}
	closedir(dp);
}

/* On the worker thread. */
static void scan_work(void *arg)
{
	struct scan_job *j = arg;

	if (j->fd >= 0)
		watch_dirs(j->fd, j->dir);
	discovery_scan(j->dir, &j->found);
}

static void start_scan(struct discovery_cache *c);

static void run_waiters(struct discovery_cache *c)
{
	struct settle_list run = c->waiters;
	struct settle_waiter *w;

	/* Those who come while these are answered wait for the next scan. */
	SLIST_INIT(&c->waiters);
	while ((w = SLIST_FIRST(&run)) != NULL) {
		SLIST_REMOVE_HEAD(&run, entry);
		w->done(w->arg);
		free(w);
	}
}

/* On the reactor: the scan is in. */
static void scan_done(void *arg, bool cancelled)
{
	struct scan_job *j = arg;
	struct discovery_cache *c = j->c;
	bool differs;

	if (c != NULL) {
		c->job = NULL;
		c->scanning = false;
	}
	if (cancelled || c == NULL)
		goto out;
	merge_builtins(&j->found, c->builtins);
	/* Once per change: what was already reported stays quiet. */
	for (size_t i = 0; i < j->found.nissues; i++)
		if (!has_issue(&c->cur, j->found.issues[i]))
			log_warn("discovery", "%s", j->found.issues[i]);
	differs = !same_list(&j->found, &c->cur);
	discovery_clear(&c->cur);
	c->cur = j->found;
	memset(&j->found, 0, sizeof j->found);
	if (differs) {
		log_info("discovery", "plugin directory changed: %zu plugins", c->cur.n);
		if (c->changed)
			c->changed(c->arg);
	}
	if (c->dirty && !evtimer_pending(c->debounce, NULL))
		start_scan(c);
	else if (!c->dirty)
		run_waiters(c);
out:
	discovery_clear(&j->found);
	free(j->dir);
	free(j);
}

static void start_scan(struct discovery_cache *c)
{
	struct scan_job *j;

	if (c->scanning)
		return; /* scan_done starts the next one: dirty is set */
	j = xcalloc(1, sizeof *j);
	j->c = c;
	j->dir = c->dir ? xstrdup(c->dir) : NULL;
	j->fd = c->fd;
	c->job = j;
	c->scanning = true;
	c->dirty = false;
	worker_submit(c->worker, scan_work, scan_done, j);
}

static void debounce_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_scan(arg);
}

/* Reads what inotify has; whether there was anything. Never blocks (IN_NONBLOCK). */
static bool drain_events(struct discovery_cache *c)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;

	/* What changed does not matter: the scan compares the whole directory. */
	while (read(c->fd, buf, sizeof buf) > 0)
		any = true;
	return any;
}

static void inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct discovery_cache *c = arg;
	struct timeval tv = clock_tv(DEBOUNCE_MS);

	(void)fd;
	(void)what;
	if (!drain_events(c))
		return;
	c->dirty = true;
	if (!evtimer_pending(c->debounce, NULL))
		evtimer_add(c->debounce, &tv);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct discovery_cache *c = arg;

	(void)fd;
	(void)what;
	c->dirty = true;
	start_scan(c);
}

struct discovery_cache *discovery_cache_new(struct event_base *base, struct worker *worker,
					    const char *dir, const struct discovery *builtins,
					    void (*changed)(void *arg), void *arg)
{
	struct discovery_cache *c = xcalloc(1, sizeof *c);

	SLIST_INIT(&c->waiters);
	c->base = base;
	c->worker = worker;
	c->dir = dir ? xstrdup(dir) : NULL;
	c->builtins = builtins;
	c->fd = -1;
	if (c->dir != NULL) {
		c->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (c->fd < 0) {
			struct timeval tv = clock_tv(POLL_MS);

			log_warn("discovery", "inotify: %s; %s is rescanned every %d s",
				 strerror(errno), c->dir, POLL_MS / 1000);
			c->ev = event_new(base, -1, EV_PERSIST, poll_cb, c);
			event_add(c->ev, &tv);
		} else {
			c->ev = event_new(base, c->fd, EV_READ | EV_PERSIST, inotify_cb, c);
			event_add(c->ev, NULL);
		}
	}
	c->debounce = evtimer_new(base, debounce_cb, c);
	/* Start-up: the first scan is in before anything is served or installed. */
	c->changed = NULL;
	start_scan(c);
	worker_drain(worker);
	c->changed = changed;
	c->arg = arg;
	return c;
}

void discovery_cache_free(struct discovery_cache *c)
{
	struct settle_waiter *w;

	if (c == NULL)
		return;
	if (c->job)
		c->job->c = NULL; /* the worker's done frees it */
	while ((w = SLIST_FIRST(&c->waiters)) != NULL) {
		SLIST_REMOVE_HEAD(&c->waiters, entry);
		free(w);
	}
	if (c->ev)
		event_free(c->ev);
	event_free(c->debounce);
	if (c->fd >= 0)
		close(c->fd);
	discovery_clear(&c->cur);
	free(c->dir);
	free(c);
}

const struct discovery *discovery_cache_list(const struct discovery_cache *c)
{
	return &c->cur;
}

void discovery_cache_settle(struct discovery_cache *c, void (*done)(void *arg), void *arg)
{
	struct settle_waiter *w;

	/* Events the loop has not read yet count too: a copy that just finished. */
	if (c->fd >= 0 && drain_events(c))
		c->dirty = true;
	if (c->fd < 0 && c->dir != NULL)
		c->dirty = true; /* no inotify: only a scan can tell */
	if (!c->dirty && !c->scanning) {
		done(arg);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->done = done;
	w->arg = arg;
	SLIST_INSERT_HEAD(&c->waiters, w, entry);
	/* Waiting for the debounce would only add latency to a request. */
	evtimer_del(c->debounce);
	if (c->dirty)
		start_scan(c);
}
