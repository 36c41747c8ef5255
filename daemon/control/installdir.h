/*
 * The install directory: per installed plugin, one directory per kept
 * version, <dir>/<name>/<version>/, made from the plugin directory (so that
 * what runs does not change under a host when a developer rebuilds) or from
 * a catalog package (pkgfetch.h). The versions kept beside the running one
 * make a rollback need no download; installdir_prune bounds them. Every file operation here runs on
 * the worker thread (a copy of a large .so, or a path a plugin's author controls, never stalls the
 * reactor); results come back on the reactor.
 */
#ifndef SS_INSTALLDIR_H
#define SS_INSTALLDIR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct discovered;
struct manifest;
struct worker;
struct installdir;

/*
 * Opens the install directory: path, else $STREAMSPACE_INSTALL_DIR, else
 * <plugin_dir>/.installed, else /var/lib/streamspace/plugins; created when
 * missing, and never the plugin directory itself (uninstalling removes
 * copies there). NULL with a message.
 */
struct installdir *installdir_open(struct worker *worker, const char *path, const char *plugin_dir,
				   char *err, size_t errlen);
void installdir_free(struct installdir *d);
const char *installdir_path(const struct installdir *d);

struct installdir_result {
	int rc; /* 0, or -1 with err */
	char err[512];
	struct manifest
	    *manifest; /* ensure: the installed manifest (taken by the callee or freed) */
	bool changed;  /* ensure: files were copied */
	bool missing;  /* ensure: the version is neither kept nor in the plugin directory */
};
/* On the reactor; r is the callee's for the call (take r->manifest and set it NULL to keep it). */
typedef void (*installdir_fn)(struct installdir_result *r, void *arg);

/*
 * Makes <dir>/<name>/<version> hold version: keeps the copy there when its
 * shared object matches src's (size and mtime) or src is another version,
 * copies from src (atomically: a hidden temporary directory, then rename)
 * when src is that version. src may be NULL (the plugin directory does not
 * have it): only a kept copy will do (else missing). A copy of the layout
 * before versions (<dir>/<name>/manifest.json) is moved to
 * <dir>/<name>/<its version>/ first. The version's directory mtime is set
 * to now (pruning keeps the versions run last). src is copied before this
 * returns.
 */
void installdir_ensure(struct installdir *d, const char *name, const char *version,
		       const struct discovered *src, installdir_fn fn, void *arg);
/* Removes <dir>/<name>, every version. fn may be NULL. */
void installdir_remove(struct installdir *d, const char *name, installdir_fn fn, void *arg);
/* Removes <dir>/<name>/<version> (and <dir>/<name> once empty). fn may be NULL. */
void installdir_remove_version(struct installdir *d, const char *name, const char *version,
			       installdir_fn fn, void *arg);
/*
 * Keeps keep_n versions of name (at least 1): active, then previous (either
 * may be NULL), then the ones run most recently; removes the others. fn may
 * be NULL.
 */
void installdir_prune(struct installdir *d, const char *name, size_t keep_n, const char *active,
		      const char *previous, installdir_fn fn, void *arg);
/* <dir>/<name>/<version> (the caller frees it). */
char *installdir_version_path(const struct installdir *d, const char *name, const char *version);
/*
 * The versions of name kept on disk, newest first, as the last file job
 * that looked found them: a new JSON array of strings (the caller owns it).
 */
json_object *installdir_kept(const struct installdir *d, const char *name);
/*
 * Removes what looks like a copy made by install (a directory with a
 * manifest.json, or a leftover temporary copy) of every plugin not in keep.
 */
void installdir_sweep(struct installdir *d, const char *const *keep, size_t nkeep);

/* Helpers the worker uses, public for the unit tests. */
int installdir_copy_tree(const char *src, const char *parent, const char *name, char *err,
			 size_t errlen);
/* Removes a directory tree (no symlinks followed). 0, or -1 with errno. */
int installdir_remove_tree(const char *path);

#endif
