/*
 * The catalog tables (catalog_repositories, catalog_plugins, plugin_ratings):
 * the local repository's rows kept equal to a scan of the plugin directory,
 * the catalog listing and the ratings. The listing and the ratings also read
 * whether a plugin is installed, the only use of installed_plugins outside
 * plugin_store.c, and only of its name, version and enabled columns.
 *
 * Answers are JSON built by PostgreSQL (json_agg): they are what the API
 * shows, not an in-process interface.
 */
#ifndef SS_CATALOG_STORE_H
#define SS_CATALOG_STORE_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "plugin_store.h"

struct db;

enum catalog_sort {
	CATALOG_SORT_NAME = 0,
	CATALOG_SORT_POPULAR,
	CATALOG_SORT_RATING,
	CATALOG_SORT_NEWEST
};

struct catalog_filter {
	const char *q;	      /* substring of name, display name, description, tags; NULL: any */
	const char *category; /* NULL: any (case-insensitive otherwise) */
	const char *type;
	enum catalog_sort sort;
};

/*
 * Called once with the outcome; out is the answer (borrowed for the call),
 * NULL unless s->st is DB_OK. found is false when the plugin is unknown
 * (rate, ratings).
 */
typedef void (*catalog_store_fn)(const struct store_status *s, json_object *out, bool found,
				 void *arg);

/* The columns every catalog row has, local or from a repository (borrowed). */
struct catalog_row {
	const char *name, *version;
	const char *display_name;					      /* NULL: the name */
	const char *description, *category, *plugin_type, *icon_url, *author; /* NULL: null */
	json_object *manifest, *tags;
};
/*
 * An element of entries (below, and repo_store_apply's) with those columns
 * (new reference); the caller adds the columns of its kind of row.
 */
json_object *catalog_row_json(const struct catalog_row *r);

/*
 * Makes the "local" repository's rows match entries, a JSON array of
 * {name, version, display_name, description, category, plugin_type,
 * icon_url, manifest, tags, author, license, homepage}: rows of versions no
 * longer listed go, unless an installed plugin still refers to them.
 * fn may be NULL. -1 when the database is away.
 */
int catalog_store_sync_local(struct db *db, const char *repo_url, const char *entries,
			     catalog_store_fn fn, void *arg);
/* The same, synchronously on conn (start-up). 0, or -1 with a message. */
int catalog_store_sync_local_sync(PGconn *conn, const char *repo_url, const char *entries,
				  char *err, size_t errlen);
/*
 * Any statement answering one JSON text (row 0, column 0) or no row: out is
 * that JSON, found whether a row came. For the other catalog statements
 * (repo_store.c).
 */
int catalog_store_json(struct db *db, const char *sql, int n, const char *const *params,
		       catalog_store_fn fn, void *arg);
/* The newest version of each plugin matching f, with installed/enabled flags: a JSON array. */
int catalog_store_list(struct db *db, const struct catalog_filter *f, catalog_store_fn fn,
		       void *arg);
/* user's rating (1..5) and review (may be NULL) of name: the stored rating as an object. */
int catalog_store_rate(struct db *db, const char *name, const char *user, int rating,
		       const char *review, catalog_store_fn fn, void *arg);
/* {"ratings": [...], "count", "average"} of name. */
int catalog_store_ratings(struct db *db, const char *name, catalog_store_fn fn, void *arg);

#endif
