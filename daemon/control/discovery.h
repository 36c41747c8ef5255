/*
 * Discovery: which plugins exist to be installed. Two sources: the plugin
 * directory (<dir>/<name>/manifest.json and the shared object its
 * entrypoints.main names) and the host's built-in plugins. The directory's
 * scan is cached (struct discovery_cache) and refreshed when inotify reports
 * a change, on the worker thread: never per request, never on the reactor.
 */
#ifndef SS_DISCOVERY_H
#define SS_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

struct manifest;
struct event_base;
struct worker;

struct discovered {
	char *dir;     /* absolute path of <plugin_dir>/<name>; NULL for a built-in */
	char *so_path; /* absolute path of the shared object; SS_BUILTIN_PREFIX<name> for a built-in
			*/
	struct manifest *manifest;
	/*
	 * The shared object as last scanned (0 for a built-in): a change is a
	 * new .so in place, to be hot-reloaded (registry.c), not only a new list.
	 */
	struct {
		unsigned long long dev, ino, size, mtime_ns;
	} so_id;
};

struct discovery {
	struct discovered *v; /* sorted by name */
	size_t n;
	char **issues; /* entries that are not usable plugins, "<entry>: why", sorted */
	size_t nissues;
};

/*
 * Scans dir (a NULL dir yields nothing) into out. Entries that are not
 * plugins, or whose manifest is invalid, are left out and listed in
 * out->issues. Logs nothing and touches nothing shared: it runs on the
 * worker thread. Never blocks on what an entry is (FIFOs, devices).
 */
void discovery_scan(const char *dir, struct discovery *out);
void discovery_clear(struct discovery *d);
const struct discovered *discovery_find(const struct discovery *d, const char *name);
/*
 * Why the plugin directory's entry name is not a usable plugin (its
 * manifest's error, e.g. a scheduler.jobs schedule that does not parse), or
 * NULL when it has no such issue (borrowed, valid as d).
 */
const char *discovery_issue(const struct discovery *d, const char *name);
/* Whether d is a built-in plugin. */
bool discovery_is_builtin(const struct discovered *d);

/*
 * The built-in plugins of the host at host_path (compiled into it): runs
 * `host_path --list-builtins` once and reads their manifests. Start-up only
 * (it waits for the host). A host that cannot list them yields none, logged.
 */
void discovery_builtins(const char *host_path, struct discovery *out);

/*
 * The plugin directory's scan, merged with the built-ins (a built-in's name
 * is taken: a directory entry of the same name is an issue). The first scan
 * completes before discovery_cache_new returns (start-up); later ones run on
 * worker when inotify reports a change, and changed(arg) is called on the
 * reactor when the list differs. An issue is logged when it first appears,
 * not again while it stays. Without inotify the directory is rescanned
 * every few seconds instead.
 */
struct discovery_cache;
struct discovery_cache *discovery_cache_new(struct event_base *base, struct worker *worker,
					    const char *dir, const struct discovery *builtins,
					    void (*changed)(void *arg), void *arg);
void discovery_cache_free(struct discovery_cache *c);
/* The current list (valid until the next change is applied on the reactor). */
const struct discovery *discovery_cache_list(const struct discovery_cache *c);
/*
 * Calls done once every change already reported for the directory has been
 * scanned: at once when there is none. For a lookup that missed (a plugin
 * dropped into the directory a moment ago is then found).
 */
void discovery_cache_settle(struct discovery_cache *c, void (*done)(void *arg), void *arg);

#endif
