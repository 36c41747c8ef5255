/*
 * A plugin from a catalog repository into the install directory: choose the
 * version (catalog_select: newest compatible, ABI and architecture checked),
 * download the archive to a hidden file in <install-dir> (fetch.h, on the
 * reactor, bounded by PACKAGE_MAX_ARCHIVE_DEFAULT), then on the worker thread
 * verify and unpack it (package_prepare: sha256, signature, safe extraction,
 * manifest and .so checks), read its manifest and rename it to
 * <install-dir>/<name>/<version>. The download is removed whatever happens; on any
 * failure nothing is left and the answer names the check that failed.
 */
#ifndef SS_PKGFETCH_H
#define SS_PKGFETCH_H

#include <json-c/json.h>

#include "package.h"

struct fetch;
struct worker;
struct manifest;

struct pkgfetch_result {
	int rc;		      /* 0: <install-dir>/<name>/<version> holds it */
	struct pkg_error err; /* when rc < 0 ("not-found" when no entry will do) */
	char version[65];
	struct manifest *manifest; /* rc 0: the installed manifest (the callee may take it) */
};
typedef void (*pkgfetch_fn)(struct pkgfetch_result *r, void *arg);

/*
 * candidates: a JSON array of {"entry", "url", "repo"} (repo_store_entries:
 * each catalog entry, its absolute download URL and its repository's URL).
 * version NULL: the newest compatible. trust is copied by reference (it
 * must outlive the call). fn runs once, on the reactor, never inside this
 * call.
 */
void pkgfetch_install(struct fetch *f, struct worker *w, const char *install_dir,
		      const struct package_trust *trust, json_object *candidates, const char *name,
		      const char *version, pkgfetch_fn fn, void *arg);

#endif
