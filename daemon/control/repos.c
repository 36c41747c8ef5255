/*
 * Repositories and their sync (see repos.h). A sync is a round: claim the
 * repositories (one statement), then for each one independently fetch,
 * parse on the worker, apply (one statement); the round answers when its
 * last repository is done. A round outlives repos_free only as an orphan
 * that frees itself when its pending callback (a query, a job) completes.
 */
#include "repos.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "catalog_entry.h"
#include "catalog_store.h"
#include "db.h"
#include "fetch.h"
#include "log.h"
#include "market.h"
#include "names.h"
#include "repo_store.h"
#include "worker.h"
#include "xmalloc.h"

#define LEASE_S 120
#define URL_MAX 2048
#define NAME_MAX_LEN 64

struct round;

/* One repository of a round: fetched, parsed, applied. */
struct item {
	struct round *rd;
	char id[16], name[NAME_MAX_LEN + 1];
	char *url, *etag;
	struct fetch_xfer *x;
	/* The job (worker thread): bytes in, rows and problems out. */
	char *bytes;
	size_t len;
	char *rows, *problems_text;
	json_object *problems;
	char err[1024];
	bool parse_failed;
	LIST_ENTRY(item) entry;
};

struct round {
	struct repos *r; /* NULL: orphaned by repos_free */
	verb_done_fn done;
	void *arg;
	json_object *results;
	size_t outstanding;
	LIST_HEAD(, item) items;
	LIST_ENTRY(round) entry;
};

struct repos {
	struct db *db;
	struct worker *w;
	struct fetch *f;
	char *default_name, *default_url;
	int interval_s;
	long fetch_timeout_ms;
	struct event *timer;
	LIST_HEAD(, round) rounds;
};

static void round_item_done(struct item *it, json_object *result);

static void item_free(struct item *it)
{
	LIST_REMOVE(it, entry);
	free(it->url);
	free(it->etag);
	free(it->bytes);
	free(it->rows);
	free(it->problems_text);
	json_object_put(it->problems);
	free(it);
}

static void round_finish(struct round *rd)
{
	if (rd->r != NULL && rd->done != NULL) {
		json_object *body = json_object_new_object();
		struct verb_result res = {.code = VERB_OK, .message = "", .body = body};

		json_object_object_add(body, "repositories", json_object_get(rd->results));
		rd->done(&res, rd->arg);
		json_object_put(body);
	}
	if (rd->r != NULL)
		LIST_REMOVE(rd, entry);
	json_object_put(rd->results);
	free(rd);
}

static json_object *result_new(const struct item *it, const char *status)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int(atoi(it->id)));
	json_object_object_add(o, "name", json_object_new_string(it->name));
	json_object_object_add(o, "status", json_object_new_string(status));
	return o;
}

/* The repository is done, with what it says in result (taken). */
static void round_item_done(struct item *it, json_object *result)
{
	struct round *rd = it->rd;

	if (result != NULL)
		json_object_array_add(rd->results, result);
	item_free(it);
	if (--rd->outstanding == 0)
		round_finish(rd);
}

static void recorded(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct item *it = arg;
	json_object *res;

	if (it->rd->r == NULL) {
		round_item_done(it, NULL);
		return;
	}
	if (s->st != DB_OK || !found) {
		log_warn("catalog", "repository %s: recording its sync failed: %s", it->name,
			 s->st != DB_OK ? s->err : "the repository is gone");
		res = result_new(it, "error");
		json_object_object_add(
		    res, "error",
		    json_object_new_string(s->st != DB_OK ? s->err : "the repository is gone"));
		round_item_done(it, res);
		return;
	}
	/* out: {added, updated, removed} (apply, unchanged) or {id} (failed). */
	if (json_object_object_get_ex(out, "added", NULL)) {
		res = result_new(it, it->bytes ? "synced" : "unchanged");
		json_object_object_foreach(out, k, v)
		    json_object_object_add(res, k, json_object_get(v));
		json_object_object_add(res, "problems",
				       it->problems ? json_object_get(it->problems)
						    : json_object_new_array());
	} else {
		res = result_new(it, "error");
		json_object_object_add(res, "error", json_object_new_string(it->err));
	}
	round_item_done(it, res);
}

/* A failure of the sync itself (fetch, parse): recorded in the row, the old entries kept. */
static void item_failed(struct item *it)
{
	log_warn("catalog", "repository %s: sync failed: %s", it->name, it->err);
	if (repo_store_failed(it->rd->r->db, it->id, it->err, recorded, it) < 0) {
		json_object *res = result_new(it, "error");

		json_object_object_add(res, "error", json_object_new_string(it->err));
		round_item_done(it, res);
	}
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Worker thread: parse the document and build the rows text for repo_store_apply. */
static void parse_work(void *job)
{
	struct item *it = job;
	struct pkg_error pe = {0};
	struct catalog *c = catalog_parse(it->bytes, it->len, NULL, &pe);
	json_object *rows, *probs;
	char *summary = NULL;

	if (c == NULL) {
		snprintf(it->err, sizeof it->err, "catalog.json refused: %s", pe.message);
		it->parse_failed = true;
		return;
	}
	rows = json_object_new_array();
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct catalog_entry *e = &c->entries[i];
		json_object *o =
		    catalog_row_json(&(struct catalog_row){.name = e->name,
							   .version = e->version,
							   .display_name = e->display_name,
							   .description = e->description,
							   .category = e->category,
							   .plugin_type = e->type,
							   .icon_url = e->icon_url,
							   .author = e->author,
							   .manifest = e->manifest,
							   .tags = e->tags});
		char *dl = e->download_url ? catalog_resolve_url(it->url, e->download_url) : NULL;

		add_str(o, "download_url", dl);
		add_str(o, "sha256", e->sha256);
		json_object_object_add(o, "abi", e->abi ? json_object_new_int(e->abi) : NULL);
		add_str(o, "arch", e->arch);
		add_str(o, "signature", e->signature);
		json_object_object_add(o, "entry", json_object_get(e->json));
		json_object_array_add(rows, o);
		free(dl);
	}
	probs = json_object_new_array();
	for (size_t i = 0; i < c->n_problems; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index",
				       json_object_new_int64((int64_t)c->problems[i].index));
		add_str(o, "name", c->problems[i].name[0] ? c->problems[i].name : NULL);
		add_str(o, "message", c->problems[i].message);
		json_object_array_add(probs, o);
	}
	if (c->n_skipped > 0)
		summary = xasprintf("%zu entr%s skipped; the first: #%zu: %s", c->n_skipped,
				    c->n_skipped == 1 ? "y" : "ies", c->problems[0].index,
				    c->problems[0].message);
	it->rows = xstrdup(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN));
	it->problems_text = summary;
	it->problems = probs;
	json_object_put(rows);
	catalog_free(c);
}

static void parse_done(void *job, bool cancelled)
{
	struct item *it = job;
	struct repos *r = it->rd->r;

	if (cancelled || r == NULL) {
		round_item_done(it, NULL);
		return;
	}
	if (it->parse_failed) {
		item_failed(it);
		return;
	}
	if (repo_store_apply(r->db, it->id, it->etag, it->rows, it->problems_text, recorded, it) <
	    0) {
		snprintf(it->err, sizeof it->err, "the database is unavailable");
		round_item_done(it, result_new(it, "error"));
	}
}

static void fetched(const struct fetch_result *fr, void *arg)
{
	struct item *it = arg;
	struct repos *r = it->rd->r;

	it->x = NULL;
	if (!fr->ok) {
		snprintf(it->err, sizeof it->err, "fetching catalog.json: %s (%s)", fr->error,
			 fr->check);
		item_failed(it);
		return;
	}
	if (fr->not_modified) {
		if (repo_store_unchanged(r->db, it->id, recorded, it) < 0)
			round_item_done(it, result_new(it, "error"));
		return;
	}
	free(it->etag);
	it->etag = fr->etag ? xstrdup(fr->etag) : NULL;
	it->len = fr->len;
	it->bytes = xmalloc(fr->len + 1);
	memcpy(it->bytes, fr->body, fr->len);
	it->bytes[fr->len] = '\0';
	worker_submit(r->w, parse_work, parse_done, it);
}

static void item_start(struct round *rd, json_object *claim)
{
	struct repos *r = rd->r;
	struct item *it = xcalloc(1, sizeof *it);
	json_object *v;
	char *url, err[256];

	it->rd = rd;
	LIST_INSERT_HEAD(&rd->items, it, entry);
	rd->outstanding++;
	if (json_object_object_get_ex(claim, "id", &v))
		snprintf(it->id, sizeof it->id, "%d", json_object_get_int(v));
	if (json_object_object_get_ex(claim, "name", &v))
		snprintf(it->name, sizeof it->name, "%s", json_object_get_string(v));
	it->url =
	    xstrdup(json_object_object_get_ex(claim, "url", &v) ? json_object_get_string(v) : "");
	if (json_object_object_get_ex(claim, "etag", &v) && v != NULL)
		it->etag = xstrdup(json_object_get_string(v));
	if (!json_object_object_get_ex(claim, "won", &v) || !json_object_get_boolean(v)) {
		json_object *res = result_new(it, "busy");

		json_object_object_add(
		    res, "error",
		    json_object_new_string("another sync of this repository is in progress (this "
					   "daemon's or another's); its result appears when done"));
		round_item_done(it, res);
		return;
	}
	url = catalog_resolve_url(it->url, "catalog.json");
	it->x = fetch_start(r->f,
			    &(struct fetch_opts){.url = url,
						 .protocols = "http,https,file",
						 .total_timeout_ms = r->fetch_timeout_ms,
						 .low_speed_s = 10,
						 .max_bytes = CATALOG_MAX_BYTES_DEFAULT,
						 .max_redirects = 3,
						 .if_none_match = it->etag,
						 .fd = -1},
			    fetched, it, err, sizeof err);
	free(url);
	if (it->x == NULL) {
		snprintf(it->err, sizeof it->err, "%s", err);
		item_failed(it);
	}
}

static void claimed(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct round *rd = arg;
	size_t n;

	(void)found;
	if (rd->r == NULL) {
		round_finish(rd);
		return;
	}
	if (s->st != DB_OK) {
		if (rd->done)
			market_failure(s, "claiming repositories", rd->done, rd->arg);
		rd->done = NULL;
		round_finish(rd);
		return;
	}
	n = json_object_array_length(out);
	/* Held while the items start, so that one finishing at once cannot finish the round. */
	rd->outstanding = 1;
	for (size_t i = 0; i < n; i++)
		item_start(rd, json_object_array_get_idx(out, i));
	if (--rd->outstanding == 0)
		round_finish(rd);
}

static void claim(struct round *rd, const char *id)
{
	struct store_status down = {.st = DB_DOWN, .err = "the database is unavailable"};

	if (repo_store_claim(rd->r->db, id, LEASE_S, claimed, rd) < 0)
		claimed(&down, NULL, false, rd);
}

static struct round *round_new(struct repos *r, verb_done_fn done, void *arg)
{
	struct round *rd = xcalloc(1, sizeof *rd);

	rd->r = r;
	rd->done = done;
	rd->arg = arg;
	rd->results = json_object_new_array();
	LIST_INIT(&rd->items);
	LIST_INSERT_HEAD(&r->rounds, rd, entry);
	return rd;
}

static void sync_round(struct repos *r, const char *id, verb_done_fn done, void *arg)
{
	claim(round_new(r, done, arg), id);
}

static void logged(const struct verb_result *res, void *arg)
{
	json_object *list, *v;

	(void)arg;
	if (res->code != VERB_OK) {
		log_warn("catalog", "scheduled sync: %s", res->message);
		return;
	}
	json_object_object_get_ex(res->body, "repositories", &list);
	log_info("catalog", "scheduled sync done: %zu repositories",
		 json_object_array_length(list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i), *a, *u, *d;

		if (json_object_object_get_ex(o, "added", &a) &&
		    json_object_object_get_ex(o, "updated", &u) &&
		    json_object_object_get_ex(o, "removed", &d) &&
		    json_object_object_get_ex(o, "name", &v))
			log_info("catalog",
				 "repository %s synced: %zu added, %zu updated, %zu removed",
				 json_object_get_string(v), json_object_array_length(a),
				 json_object_array_length(u), json_object_array_length(d));
	}
}

static void ensured(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct round *rd = arg;
	struct repos *r = rd->r;

	(void)out;
	if (r == NULL) {
		round_finish(rd);
		return;
	}
	if (s->st != DB_OK)
		log_warn("catalog", "registering repository %s: %s", r->default_name, s->err);
	else if (found)
		log_info("catalog", "repository %s registered at %s", r->default_name,
			 r->default_url);
	claim(rd, NULL);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct repos *r = arg;
	struct timeval tv = {.tv_sec = r->interval_s > 0 ? r->interval_s : 0};
	struct round *rd = round_new(r, logged, NULL);

	(void)fd;
	(void)what;
	/* The default repository first (its row may be missing after a restore), then the sync. */
	if (r->default_name == NULL ||
	    repo_store_ensure(r->db, r->default_name, r->default_url, ensured, rd) < 0)
		claim(rd, NULL);
	if (r->interval_s > 0)
		evtimer_add(r->timer, &tv);
}

struct repos *repos_new(struct event_base *base, struct db *db, struct worker *w, struct fetch *f,
			const struct repos_options *opts)
{
	struct repos *r = xcalloc(1, sizeof *r);
	struct timeval now = {0, 0};

	r->db = db;
	r->w = w;
	r->f = f;
	if (opts->default_name && opts->default_url) {
		r->default_name = xstrdup(opts->default_name);
		r->default_url = xstrdup(opts->default_url);
	}
	r->interval_s = opts->interval_s;
	r->fetch_timeout_ms = opts->fetch_timeout_ms > 0 ? opts->fetch_timeout_ms : 30000;
	LIST_INIT(&r->rounds);
	r->timer = evtimer_new(base, tick, r);
	evtimer_add(r->timer, &now);
	return r;
}

void repos_free(struct repos *r)
{
	struct round *rd;

	if (r == NULL)
		return;
	/* Transfers end here; items waiting for a query or a job free themselves later. */
	while ((rd = LIST_FIRST(&r->rounds)) != NULL) {
		struct item *it, *next;

		LIST_REMOVE(rd, entry);
		rd->r = NULL;
		/* The last item's done frees rd; next is read before, and is NULL then. */
		for (it = LIST_FIRST(&rd->items); it != NULL; it = next) {
			next = LIST_NEXT(it, entry);
			if (it->x != NULL) {
				fetch_cancel(it->x);
				it->x = NULL;
				round_item_done(it, NULL);
			}
		}
	}
	event_free(r->timer);
	free(r->default_name);
	free(r->default_url);
	free(r);
}

/* ---- the verbs ---- */

struct call {
	verb_done_fn done;
	void *arg;
	enum verb_code missing; /* what found == false means */
	const char *missing_msg;
	const char *what;
	bool wrap_list;
};

static void answered(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;
	struct verb_result res = {.code = VERB_OK, .message = ""};
	json_object *body = NULL;

	if (s->st != DB_OK) {
		market_failure(s, c->what, c->done, c->arg);
		free(c);
		return;
	}
	if (!found) {
		res.code = c->missing;
		res.message = c->missing_msg;
	} else if (c->wrap_list) {
		body = json_object_new_object();
		json_object_object_add(body, "count",
				       json_object_new_int((int)json_object_array_length(out)));
		json_object_object_add(body, "repositories", json_object_get(out));
		res.body = body;
	} else {
		res.body = out;
		res.created = true;
	}
	c->done(&res, c->arg);
	json_object_put(body);
	free(c);
}

static void call_run(struct call *c, int rc)
{
	if (rc < 0) {
		market_failure(NULL, c->what, c->done, c->arg);
		free(c);
	}
}

static struct call *call_new(const char *what, verb_done_fn done, void *arg)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->what = what;
	c->done = done;
	c->arg = arg;
	c->missing = VERB_NOT_FOUND;
	c->missing_msg = "";
	return c;
}

void repos_list(struct repos *r, verb_done_fn done, void *arg)
{
	struct call *c = call_new("listing repositories", done, arg);

	c->wrap_list = true;
	call_run(c, repo_store_list(r->db, answered, c));
}

int repos_check(const char *name, const char *url, char *why, size_t whylen)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > NAME_MAX_LEN) {
		snprintf(why, whylen, "name must be 1 to %d bytes", NAME_MAX_LEN);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			snprintf(why, whylen, "name must not hold control characters");
			return -1;
		}
	if (url == NULL || strlen(url) > URL_MAX ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0 &&
	     strncmp(url, "file:///", 8) != 0)) {
		snprintf(why, whylen,
			 "url must start with https://, http:// or file:/// (at most %d bytes)",
			 URL_MAX);
		return -1;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "url must not hold spaces or control characters");
			return -1;
		}
	return 0;
}

void repos_add(struct repos *r, const char *name, const char *url, bool enabled, verb_done_fn done,
	       void *arg)
{
	struct call *c = call_new("adding a repository", done, arg);

	c->missing = VERB_ALREADY;
	c->missing_msg = "a repository of that name exists";
	call_run(c, repo_store_add(r->db, name, url, enabled, answered, c));
}

void repos_delete(struct repos *r, const char *id, verb_done_fn done, void *arg)
{
	struct call *c = call_new("deleting a repository", done, arg);

	c->missing_msg = "no remote repository has that id";
	call_run(c, repo_store_delete(r->db, id, answered, c));
}

void repos_sync(struct repos *r, const char *id, verb_done_fn done, void *arg)
{
	sync_round(r, id, done, arg);
}
