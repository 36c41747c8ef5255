/*
 * The catalog verbs: each runs one catalog_store statement and says what
 * happened. The local repository is rewritten whenever discovery reports a
 * change (and when the database comes back), never per request.
 */
#include "market.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_store.h"
#include "db.h"
#include "discovery.h"
#include "log.h"
#include "manifest.h"
#include "xmalloc.h"

struct market {
	struct db *db;
	char *repo_url;
};

struct market *market_new(struct db *db, const char *repo_url)
{
	struct market *cat = xcalloc(1, sizeof *cat);

	cat->db = db;
	cat->repo_url = xstrdup(repo_url);
	return cat;
}

void market_free(struct market *cat)
{
	if (cat == NULL)
		return;
	free(cat->repo_url);
	free(cat);
}

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

char *market_local_entries(const struct discovery *d)
{
	json_object *arr = json_object_new_array();
	char *out;

	for (size_t i = 0; i < d->n; i++) {
		const struct manifest *m = d->v[i].manifest;
		json_object *o =
		    catalog_row_json(&(struct catalog_row){.name = m->name,
							   .version = m->version,
							   .display_name = m->display_name,
							   .description = m->description,
							   .category = m->category,
							   .plugin_type = m->type,
							   .icon_url = m->icon,
							   .author = m->author,
							   .manifest = m->json,
							   .tags = m->tags});

		add_str(o, "license", m->license);
		add_str(o, "homepage", m->homepage);
		json_object_array_add(arr, o);
	}
	out = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return out;
}

int market_sync_local_now(struct market *cat, PGconn *conn, const struct discovery *d, char *err,
			  size_t errlen)
{
	char *json = market_local_entries(d);
	int rc = catalog_store_sync_local_sync(conn, cat->repo_url, json, err, errlen);

	free(json);
	return rc;
}

static void synced(const struct store_status *s, json_object *out, bool found, void *arg)
{
	(void)out;
	(void)found;
	(void)arg;
	if (s->st != DB_OK)
		log_warn("catalog", "updating the local catalog failed: %s", s->err);
}

void market_sync_local(struct market *cat, const struct discovery *d)
{
	char *json = market_local_entries(d);

	/* Away: the resynchronisation after the database returns does it. */
	catalog_store_sync_local(cat->db, cat->repo_url, json, synced, NULL);
	free(json);
}

void market_failure(const struct store_status *s, const char *what, verb_done_fn done, void *arg)
{
	struct verb_result r = {.code = VERB_INTERNAL, .message = ""};
	char msg[512];

	if (s == NULL || s->st == DB_DOWN) {
		r.code = VERB_UNAVAILABLE;
		r.message = "the database is unavailable; try again shortly";
	} else if (strncmp(s->sqlstate, "22", 2) == 0) {
		/* A data exception: a value the checks let through but PostgreSQL refuses. */
		snprintf(msg, sizeof msg, "a value was refused: %s", s->err);
		r.code = VERB_BAD_VALUE;
		r.message = msg;
	} else {
		log_error("catalog", "%s: %s", what, s->err);
		r.message = "the request failed inside the daemon";
	}
	done(&r, arg);
}

struct call {
	verb_done_fn done;
	void *arg;
	char name[64];
};

static struct call *call_new(const char *name, verb_done_fn done, void *arg)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->done = done;
	c->arg = arg;
	if (name)
		snprintf(c->name, sizeof c->name, "%s", name);
	return c;
}

/* Queued, or answered unavailable at once. */
static void call_queued(struct call *c, int rc)
{
	if (rc < 0) {
		market_failure(NULL, c->name, c->done, c->arg);
		free(c);
	}
}

static void reply(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct verb_result r = {.code = code, .message = msg, .body = body};

	c->done(&r, c->arg);
	json_object_put(body);
	free(c);
}

static void listed(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;
	json_object *body;

	(void)found;
	if (s->st != DB_OK || !json_object_is_type(out, json_type_array)) {
		market_failure(s, "catalog", c->done, c->arg);
		free(c);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "count",
			       json_object_new_int((int)json_object_array_length(out)));
	json_object_object_add(body, "plugins", json_object_get(out));
	reply(c, VERB_OK, "", body);
}

void market_list(struct market *cat, const struct catalog_filter *f, verb_done_fn done, void *arg)
{
	struct call *c = call_new(NULL, done, arg);

	call_queued(c, catalog_store_list(cat->db, f, listed, c));
}

/* Whether a statement about plugin c->name went well; if not, c is answered and gone. */
static bool found_ok(struct call *c, const struct store_status *s, bool found, const char *what)
{
	char msg[128];

	if (s->st != DB_OK) {
		market_failure(s, what, c->done, c->arg);
		free(c);
		return false;
	}
	if (!found) {
		snprintf(msg, sizeof msg, "no plugin named %s", c->name);
		reply(c, VERB_NOT_FOUND, msg, NULL);
		return false;
	}
	return true;
}

static void rated(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;
	json_object *body;

	if (!found_ok(c, s, found, "rate"))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "message", json_object_new_string("Rating saved"));
	json_object_object_add(body, "rating", json_object_get(out));
	reply(c, VERB_OK, "", body);
}

void market_rate(struct market *cat, const char *name, const char *user, int rating,
		 const char *review, verb_done_fn done, void *arg)
{
	struct call *c = call_new(name, done, arg);

	call_queued(c, catalog_store_rate(cat->db, name, user, rating, review, rated, c));
}

static void ratings_read(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;
	json_object *body, *v;

	if (!found_ok(c, s, found, "ratings"))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "plugin", json_object_new_string(c->name));
	json_object_object_foreach(out, key, val)
	{
		v = val;
		json_object_object_add(body, key, json_object_get(v));
	}
	reply(c, VERB_OK, "", body);
}

void market_ratings(struct market *cat, const char *name, verb_done_fn done, void *arg)
{
	struct call *c = call_new(name, done, arg);

	call_queued(c, catalog_store_ratings(cat->db, name, ratings_read, c));
}
