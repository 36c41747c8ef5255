/*
 * Convergence (see converge.h). Holds are the names the registry is doing
 * something with outside the applier: an install running, a fetch in flight.
 */
#include "converge.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "apply.h"
#include "market.h"
#include "db.h"
#include "discovery.h"
#include "installdir.h"
#include "log.h"
#include "names.h"
#include "plugin_store.h"
#include "token.h"
#include "xmalloc.h"

#define CHANNEL_PLUGINS "ss_installed_plugins"
#define CHANNEL_TOKENS "ss_api_tokens"

/* A name the registry is doing something with outside the applier. */
struct hold {
	char *name;
	bool installing; /* an install runs: leave it alone */
	bool fetching;	 /* a NOTIFY-driven fetch is in flight */
	bool refetch;	 /* another NOTIFY came meanwhile */
	/*
	 * When the answer applied last for this name was asked for: an answer
	 * asked for earlier (a resync overtaken by a fetch, or the reverse)
	 * must not undo it.
	 */
	uint64_t applied_seq;
	LIST_ENTRY(hold) entry;
};

struct converge {
	struct db *db;
	struct applier *ap;
	struct installdir *dir;
	struct token_cache *tokens;
	struct market *cat;
	struct discovery_cache *cache;
	bool resyncing, resync_again;
	uint64_t seq;	     /* statements asked, in order */
	uint64_t resync_seq; /* the resync in flight */
	LIST_HEAD(, hold) holds;
};

/* ---- holds ---- */

static struct hold *hold_find(struct converge *cv, const char *name)
{
	struct hold *h;

	LIST_FOREACH(h, &cv->holds, entry)
	if (strcmp(h->name, name) == 0)
		return h;
	return NULL;
}

static struct hold *hold_get(struct converge *cv, const char *name)
{
	struct hold *h = hold_find(cv, name);

	if (h == NULL) {
		h = xcalloc(1, sizeof *h);
		h->name = xstrdup(name);
		LIST_INSERT_HEAD(&cv->holds, h, entry);
	}
	return h;
}

/* Drops h when nothing holds it any more and nothing was applied for it. */
static void hold_put(struct hold *h)
{
	if (h->installing || h->fetching || h->applied_seq != 0)
		return;
	LIST_REMOVE(h, entry);
	free(h->name);
	free(h);
}

static bool installing(struct converge *cv, const char *name)
{
	struct hold *h = hold_find(cv, name);

	return h && h->installing;
}

/* Whether an answer asked for at seq may be applied to name now; if so, it is recorded. */
static bool may_apply(struct converge *cv, const char *name, uint64_t seq)
{
	struct hold *h = hold_find(cv, name);

	if (h && (h->installing || h->fetching || h->applied_seq > seq))
		return false;
	hold_get(cv, name)->applied_seq = seq;
	return true;
}

/* ---- converging ---- */

struct sweep_ctx {
	const char **keep;
	size_t n, cap;
};

static void keep_name(struct sweep_ctx *s, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->keep = xrealloc(s->keep, s->cap * sizeof *s->keep);
	}
	s->keep[s->n++] = name;
}

struct absent_ctx {
	struct converge *cv;
	const struct plugin_rows *rows;
	uint64_t seq;
	char **gone;
	size_t n;
};

static void collect_absent(const char *name, void *arg)
{
	struct absent_ctx *c = arg;

	if (plugin_rows_find(c->rows, name) == NULL && may_apply(c->cv, name, c->seq)) {
		c->gone = xrealloc(c->gone, (c->n + 1) * sizeof *c->gone);
		c->gone[c->n++] = xstrdup(name);
	}
}

/* Applies every row, uninstalls what the applier holds that rows lack, sweeps the rest. */
/* Applies rows, asked for at seq, where nothing newer was applied. */
static void rows_apply(struct converge *cv, const struct plugin_rows *rows, uint64_t seq)
{
	struct absent_ctx absent = {.cv = cv, .rows = rows, .seq = seq};
	struct sweep_ctx sweep = {0};
	struct hold *h;

	for (size_t i = 0; i < rows->n; i++) {
		if (may_apply(cv, rows->v[i].name, seq))
			applier_apply(cv->ap, rows->v[i].name, &rows->v[i], 0, NULL, NULL);
		keep_name(&sweep, rows->v[i].name);
	}
	applier_foreach(cv->ap, collect_absent, &absent);
	for (size_t i = 0; i < absent.n; i++) {
		applier_apply(cv->ap, absent.gone[i], NULL, 0, NULL, NULL);
		free(absent.gone[i]);
	}
	free(absent.gone);
	/* An install in progress may have copied its files before its row exists. */
	LIST_FOREACH(h, &cv->holds, entry)
	if (h->installing)
		keep_name(&sweep, h->name);
	installdir_sweep(cv->dir, sweep.keep, sweep.n);
	free(sweep.keep);
}

void converge_rows(struct converge *cv, const struct plugin_rows *rows)
{
	rows_apply(cv, rows, ++cv->seq);
}

static void resync(struct converge *cv);

static void resync_done(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct converge *cv = arg;

	cv->resyncing = false;
	if (s->st == DB_OK)
		rows_apply(cv, rows, cv->resync_seq);
	else
		log_warn("registry", "resynchronising failed: %s", s->err);
	if (cv->resync_again) {
		cv->resync_again = false;
		resync(cv);
	}
}

/* Reads the whole desired state and converges on it. */
static void resync(struct converge *cv)
{
	if (cv->resyncing) {
		cv->resync_again = true;
		return;
	}
	if (plugin_store_get(cv->db, NULL, resync_done, cv) == 0) {
		cv->resyncing = true;
		cv->resync_seq = ++cv->seq;
	}
}

static void fetch_one(struct converge *cv, const char *name);

struct fetch {
	struct converge *cv;
	char *name;
	uint64_t seq;
};

static void fetch_done(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct fetch *f = arg;
	struct converge *cv = f->cv;
	struct hold *h = hold_get(cv, f->name);
	bool again = h->refetch;

	h->fetching = false;
	h->refetch = false;
	if (s->st != DB_OK) {
		/* Down: the resync after the database returns covers this change. */
		log_msg(s->st == DB_DOWN ? LOG_LVL_DEBUG : LOG_LVL_WARN, "registry",
			"%s: reading the desired state failed: %s", f->name, s->err);
	} else if (may_apply(cv, f->name, f->seq)) {
		/* No row is the only "uninstalled"; an unreadable row is an error, never that. */
		applier_apply(cv->ap, f->name, plugin_rows_find(rows, f->name), 0, NULL, NULL);
	}
	hold_put(h);
	/* A change announced while this fetch ran may not be in its answer. */
	if (again)
		fetch_one(cv, f->name);
	free(f->name);
	free(f);
}

/*
 * Reads one plugin's desired state and applies it. Fetches of one plugin
 * are serialised, so an older answer never overtakes a newer one.
 */
static void fetch_one(struct converge *cv, const char *name)
{
	struct hold *h = hold_get(cv, name);
	struct fetch *f;

	if (h->fetching) {
		h->refetch = true;
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->cv = cv;
	f->name = xstrdup(name);
	f->seq = ++cv->seq;
	h->fetching = true;
	if (plugin_store_get(cv->db, name, fetch_done, f) < 0) {
		/* The database is away; the resync after it comes back covers this. */
		h->fetching = false;
		hold_put(h);
		free(f->name);
		free(f);
	}
}

static void on_notify(const char *channel, const char *payload, void *arg)
{
	struct converge *cv = arg;

	if (strcmp(channel, CHANNEL_TOKENS) == 0) {
		token_cache_reload(cv->tokens);
		return;
	}
	log_debug("registry", "notified: %s", payload);
	if (!name_plugin_valid(payload))
		resync(cv);
	else if (!installing(cv, payload))
		fetch_one(cv, payload);
}

static void on_db_state(bool up, void *arg)
{
	struct converge *cv = arg;

	if (!up)
		return;
	/* Notifications may have been missed while the listener was away. */
	token_cache_reload(cv->tokens);
	market_sync_local(cv->cat, discovery_cache_list(cv->cache));
	resync(cv);
}

struct converge *converge_new(struct db *db, struct applier *ap, struct installdir *dir,
			      struct token_cache *tokens, struct market *cat,
			      struct discovery_cache *cache)
{
	struct converge *c = xcalloc(1, sizeof *c);

	c->db = db;
	c->ap = ap;
	c->dir = dir;
	c->tokens = tokens;
	c->cat = cat;
	c->cache = cache;
	LIST_INIT(&c->holds);
	return c;
}

void converge_free(struct converge *c)
{
	struct hold *h;

	if (c == NULL)
		return;
	while ((h = LIST_FIRST(&c->holds)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h->name);
		free(h);
	}
	free(c);
}

void converge_listen(struct converge *c)
{
	db_listen(c->db, CHANNEL_PLUGINS, on_notify, c);
	db_listen(c->db, CHANNEL_TOKENS, on_notify, c);
	db_on_state(c->db, on_db_state, c);
}

void converge_resync(struct converge *c)
{
	resync(c);
}

void converge_hold(struct converge *c, const char *name)
{
	hold_get(c, name)->installing = true;
}

void converge_release(struct converge *c, const char *name)
{
	struct hold *h = hold_find(c, name);

	if (h == NULL)
		return;
	h->installing = false;
	hold_put(h);
	fetch_one(c, name);
}
