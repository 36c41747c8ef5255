/*
 * Catalog repositories: the remote ones (http(s):// or file://) users add,
 * the shipped catalog registered by default, and their sync. A sync fetches
 * <url>/catalog.json (fetch.h, on the reactor, bounded), parses it on the
 * worker thread (catalog_parse: a bad entry is reported and skipped), and
 * makes the repository's catalog_plugins rows match it in one statement,
 * every version kept. It runs at start-up, every interval and on request;
 * of several daemons sharing the database one syncs a repository at a time
 * (a lease claimed in the database), the others read the result there.
 */
#ifndef SS_REPOS_H
#define SS_REPOS_H

#include <stdbool.h>

#include "verb.h"

struct event_base;
struct db;
struct worker;
struct fetch;
struct repos;

struct repos_options {
	/* The repository registered by default (NULL: none), as name and URL. */
	const char *default_name, *default_url;
	int interval_s;	       /* between syncs; 0: only at start-up and on request */
	long fetch_timeout_ms; /* of one catalog.json; 0: 30 s */
};

/* db, w and f are borrowed. The first sync is queued now. */
struct repos *repos_new(struct event_base *base, struct db *db, struct worker *w, struct fetch *f,
			const struct repos_options *opts);
/* Syncs in flight end without answer (their verbs are answered unavailable). NULL is fine. */
void repos_free(struct repos *r);

/* body {"count", "repositories": [...]}. */
void repos_list(struct repos *r, verb_done_fn done, void *arg);
/* name and url checked by the caller (repos_check); body: the row. VERB_ALREADY: name taken. */
void repos_add(struct repos *r, const char *name, const char *url, bool enabled, verb_done_fn done,
	       void *arg);
/* A sentence in why when name or url is not acceptable (0 otherwise). */
int repos_check(const char *name, const char *url, char *why, size_t whylen);
/* id: decimal; body {id, name}. VERB_NOT_FOUND: no such remote repository. */
void repos_delete(struct repos *r, const char *id, verb_done_fn done, void *arg);
/*
 * Syncs every enabled remote repository (id NULL) or one, now. body
 * {"repositories": [{id, name, status, added, updated, removed, problems,
 * error}]}; status "busy" for one whose sync is already running (here or in
 * another daemon: its result appears in the tables when it is done).
 */
void repos_sync(struct repos *r, const char *id, verb_done_fn done, void *arg);

#endif
