/*
 * The statements of remote catalog repositories (catalog_repositories of
 * type 'remote' and their catalog_plugins rows): listing, adding, deleting,
 * the sync lease and the sync's outcome. Answers are JSON texts built by
 * PostgreSQL, what the API shows.
 *
 * The lease is how several daemons sharing the database sync a repository
 * once: a sync claims it (sync_lease_until in the future) with one UPDATE,
 * which only one daemon can win; the others see the result in the tables.
 */
#ifndef SS_REPO_STORE_H
#define SS_REPO_STORE_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "catalog_store.h"

struct db;

/* out: the answer (borrowed), NULL unless s->st is DB_OK; found: a row matched. */
typedef catalog_store_fn repo_store_fn;

/* Every repository (the local one included): a JSON array. */
int repo_store_list(struct db *db, repo_store_fn fn, void *arg);
/* A new remote repository: the row; found false when the name is taken. */
int repo_store_add(struct db *db, const char *name, const char *url, bool enabled, repo_store_fn fn,
		   void *arg);
/* Registers remote name at url unless a repository of that name exists (found: it was added). */
int repo_store_ensure(struct db *db, const char *name, const char *url, repo_store_fn fn,
		      void *arg);
/* Deletes remote repository id and its catalog rows: {id, name}; found false if none. */
int repo_store_delete(struct db *db, const char *id, repo_store_fn fn, void *arg);
/*
 * Claims every enabled remote repository (id NULL) or one, for lease_s
 * seconds: a JSON array of {id, name, url, etag, won}, won false for one
 * whose lease another sync holds.
 */
int repo_store_claim(struct db *db, const char *id, int lease_s, repo_store_fn fn, void *arg);
/*
 * A sync of id fetched entries (a JSON array of rows: name, version,
 * display_name, description, category, plugin_type, icon_url, manifest,
 * tags, author, download_url, sha256, abi, arch, signature, entry): makes
 * the repository's rows match it (a version no longer listed goes unless an
 * installed plugin refers to it), records etag, status ok and problems (a
 * sentence or NULL) as last_error, and ends the lease.
 * {"added": [...], "updated": [...], "removed": [...]} as "name@version".
 */
int repo_store_apply(struct db *db, const char *id, const char *etag, const char *entries,
		     const char *problems, repo_store_fn fn, void *arg);
/*
 * Every catalog entry of name in enabled remote repositories: a JSON array
 * of {"entry", "url" (its absolute download URL), "repo" (the repository's URL)}.
 */
int repo_store_entries(struct db *db, const char *name, repo_store_fn fn, void *arg);
/* The answer was 304: status ok, last_synced_at now, the lease ended. */
int repo_store_unchanged(struct db *db, const char *id, repo_store_fn fn, void *arg);
/* The sync failed: status error, last_error why, the rows kept, the lease ended. */
int repo_store_failed(struct db *db, const char *id, const char *why, repo_store_fn fn, void *arg);

#endif
