/*
 * The install directory: one copy per installed plugin, <dir>/<name>/, made
 * from the plugin directory so that what runs does not change under a host
 * when a developer rebuilds. Every file operation here runs on the worker
 * thread (a copy of a large .so, or a path a plugin's author controls, never
 * stalls the reactor); results come back on the reactor.
 */
#ifndef SS_INSTALLDIR_H
#define SS_INSTALLDIR_H

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
};
/* On the reactor; r is the callee's for the call (take r->manifest and set it NULL to keep it). */
typedef void (*installdir_fn)(struct installdir_result *r, void *arg);

/*
 * Makes <dir>/<name> hold version: keeps the copy there when it is that
 * version and its shared object matches src's (size and mtime), copies from
 * src (atomically: a hidden temporary directory, then rename) otherwise.
 * src may be NULL (the plugin directory no longer has it): only a copy
 * already there will do. src is copied before this returns.
 */
void installdir_ensure(struct installdir *d, const char *name, const char *version,
		       const struct discovered *src, installdir_fn fn, void *arg);
/* Removes <dir>/<name>. fn may be NULL. */
void installdir_remove(struct installdir *d, const char *name, installdir_fn fn, void *arg);
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
