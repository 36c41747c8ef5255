/*
 * Local discovery: the plugin directory (<dir>/<name>/manifest.json and the
 * shared object its entrypoints.main names) listed as catalog entries of the
 * built-in "local" repository, so plugins are installable before any remote
 * marketplace exists.
 */
#ifndef SS_DISCOVERY_H
#define SS_DISCOVERY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct manifest;

struct discovered {
	char *dir;     /* absolute path of <plugin_dir>/<name>; NULL for a built-in */
	char *so_path; /* absolute path of the shared object; "builtin:<name>" for a built-in */
	struct manifest *manifest;
};

struct discovery {
	struct discovered *v; /* sorted by name */
	size_t n;
};

/*
 * Scans dir (a NULL dir yields nothing). Entries that are not plugins, or
 * whose manifest is invalid, are skipped and logged once per scan.
 */
void discovery_scan(const char *dir, struct discovery *out);
void discovery_clear(struct discovery *d);

/*
 * The built-in plugins of the host at host_path (compiled into it): runs
 * `host_path --list-builtins` once and reads their manifests. Each entry has
 * dir NULL and so_path "builtin:<name>". A host that cannot list them yields
 * none, logged.
 */
void discovery_builtins(const char *host_path, struct discovery *out);
/*
 * Adds copies of the entries of extra to d, keeping d sorted. A built-in's
 * name is taken: a plugin directory entry of the same name is dropped, logged.
 */
void discovery_merge(struct discovery *d, const struct discovery *extra);
/* Whether d is a built-in plugin. */
bool discovery_is_builtin(const struct discovered *d);
const struct discovered *discovery_find(const struct discovery *d, const char *name);
/* Whether a and b list the same plugins at the same versions and paths. */
int discovery_same(const struct discovery *a, const struct discovery *b);

/*
 * The statement that makes the "local" repository's catalog rows match a
 * scan: $1 the repository URL, $2 discovery_catalog_json(). Rows of versions
 * no longer on disk go, unless an installed plugin still refers to them.
 */
extern const char discovery_sync_sql[];
/* The scan as the JSON array text $2 of discovery_sync_sql (caller frees). */
char *discovery_catalog_json(const struct discovery *d);

/*
 * Copies a plugin's directory src to <parent>/<name>, atomically: into a
 * hidden temporary directory first, then renamed into place. 0 or -1.
 */
int discovery_copy_dir(const char *src, const char *parent, const char *name, char *err,
		       size_t errlen);
/* Removes a directory tree (no symlinks followed). 0, or -1 with errno. */
int discovery_remove_tree(const char *path);

/*
 * Calls fn (on the reactor, once per burst of changes) whenever something in
 * dir or in one of its plugins' directories changes. NULL when dir is NULL
 * or inotify is unavailable (then the catalog is rescanned when listed).
 */
struct event_base;
struct discovery_watch;
struct discovery_watch *discovery_watch_new(struct event_base *base, const char *dir,
					    void (*fn)(void *arg), void *arg);
void discovery_watch_free(struct discovery_watch *w);

#endif
