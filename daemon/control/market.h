/*
 * The marketplace as users see it: the local repository (the plugin
 * directory and the built-ins, kept in catalog_plugins), the catalog listing
 * with its filters, and ratings. Verbs complete through verb_done_fn; the
 * SQL is catalog_store.c's.
 */
#ifndef SS_MARKET_H
#define SS_MARKET_H

#include <libpq-fe.h>
#include <stddef.h>

#include "catalog_store.h"
#include "verb.h"

struct db;
struct discovery;
struct market;

/* repo_url: the local repository's URL (file://<plugin dir>). db is borrowed. */
struct market *market_new(struct db *db, const char *repo_url);
void market_free(struct market *cat);

/* The local repository's rows as a JSON array text for catalog_store (caller frees). */
char *market_local_entries(const struct discovery *d);
/* Makes the local repository's rows match d: now on conn (start-up), or queued. */
int market_sync_local_now(struct market *cat, PGconn *conn, const struct discovery *d, char *err,
			  size_t errlen);
void market_sync_local(struct market *cat, const struct discovery *d);

/* body: {"count", "plugins": [...]}. */
void market_list(struct market *cat, const struct catalog_filter *f, verb_done_fn done, void *arg);
/* body: {"message", "rating": {...}}; VERB_NOT_FOUND for an unknown plugin. */
void market_rate(struct market *cat, const char *name, const char *user, int rating,
		 const char *review, verb_done_fn done, void *arg);
/* body: {"plugin", "ratings", "count", "average"}. */
void market_ratings(struct market *cat, const char *name, verb_done_fn done, void *arg);

/* Completes done with what a failed statement means (shared with the registry). */
void market_failure(const struct store_status *s, const char *what, verb_done_fn done, void *arg);

#endif
