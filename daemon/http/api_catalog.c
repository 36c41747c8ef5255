/*
 * The catalog side of the marketplace API: GET catalog (filters and sort
 * over the newest version of each plugin, with installed/enabled flags) and
 * the ratings (POST rate/{name}, GET ratings/{name}; one per user and plugin).
 */
#include "api_catalog.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "db.h"
#include "registry.h"
#include "utf8.h"
#include "xmalloc.h"

#define PREFIX API_MARKETPLACE_PREFIX
#define REVIEW_MAX 4096
#define KNOWN_SQL API_CALL_KNOWN_SQL

/* ---- GET catalog ---- */

const char *api_catalog_order(const char *sort, const char *q, const char *category,
			      const char *type, char *err, size_t errlen)
{
	static const struct {
		const char *sort, *order;
	} orders[] = {
	    {"name", "p.name"},
	    {"popular", "p.\"installCount\" DESC, p.name"},
	    {"rating", "p.\"avgRating\" DESC NULLS LAST, p.\"ratingCount\" DESC, p.name"},
	    {"newest", "p.\"createdAt\" DESC, p.name"},
	};

	if ((q && strlen(q) > 256) || (category && strlen(category) > 128) ||
	    (type && strlen(type) > 128)) {
		snprintf(err, errlen, "q is limited to 256 bytes, category and type to 128");
		return NULL;
	}
	if ((q && !utf8_valid((const unsigned char *)q, strlen(q))) ||
	    (category && !utf8_valid((const unsigned char *)category, strlen(category))) ||
	    (type && !utf8_valid((const unsigned char *)type, strlen(type)))) {
		snprintf(err, errlen, "q, category and type must be UTF-8");
		return NULL;
	}
	if (sort == NULL || *sort == '\0')
		return orders[0].order;
	for (size_t i = 0; i < sizeof orders / sizeof *orders; i++)
		if (strcmp(sort, orders[i].sort) == 0)
			return orders[i].order;
	snprintf(err, errlen, "sort must be one of popular, rating, newest, name");
	return NULL;
}

static const char catalog_sql[] =
    "SELECT COALESCE(json_agg(p ORDER BY %s), '[]')::text FROM ("
    " SELECT DISTINCT ON (c.name) c.name, c.version, c.display_name AS \"displayName\","
    "  c.description, c.category, c.plugin_type AS type, c.icon_url AS \"iconUrl\","
    "  COALESCE(to_json(c.tags), '[]'::json) AS tags, c.author, c.license, c.homepage,"
    "  r.name AS repository, c.install_count AS \"installCount\","
    "  c.avg_rating AS \"avgRating\", c.rating_count AS \"ratingCount\","
    "  c.created_at AS \"createdAt\", c.updated_at AS \"updatedAt\","
    "  (i.id IS NOT NULL) AS installed, COALESCE(i.enabled, false) AS enabled,"
    "  i.version AS \"installedVersion\","
    "  COALESCE(c.manifest->'permissions', '[]'::jsonb) AS permissions,"
    "  c.manifest->'configSchema' AS \"configSchema\","
    "  c.manifest->'defaultConfig' AS \"defaultConfig\","
    "  (SELECT json_agg(v.version ORDER BY v.created_at, v.id) FROM catalog_plugins v"
    "   WHERE v.name = c.name) AS versions"
    " FROM catalog_plugins c JOIN catalog_repositories r ON r.id = c.repository_id"
    " LEFT JOIN installed_plugins i ON i.name = c.name"
    " WHERE r.enabled"
    "  AND ($1::text IS NULL OR strpos(lower(c.name || ' ' || COALESCE(c.display_name, '')"
    "   || ' ' || COALESCE(c.description, '') || ' ' || COALESCE(array_to_string(c.tags, ' '),"
    "   '')), lower($1)) > 0)"
    "  AND ($2::text IS NULL OR lower(c.category) = lower($2))"
    "  AND ($3::text IS NULL OR lower(c.plugin_type) = lower($3))"
    " ORDER BY c.name, c.created_at DESC, c.id DESC) p";

static void catalog_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *list, *out;

	if (!api_call_ok(c, st, res, err))
		goto out;
	list = api_call_parse(PQgetvalue(res, 0, 0));
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		api_call_db_failure(c, DB_ERROR, NULL, "catalog: not a JSON array");
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "plugins", list);
	api_reply_json(c->req, 200, out);
out:
	api_call_free(c);
}

struct catalog_call {
	struct call *c;
	char *sql;
	char *q, *category, *type;
};

static void catalog_refreshed(bool ok, void *arg)
{
	struct catalog_call *cc = arg;
	const char *params[3] = {cc->q, cc->category, cc->type};

	/* A failed refresh still lists what the catalog holds. */
	api_call_run(cc->c, cc->sql, 3, params, catalog_done);
	free(cc->sql);
	free(cc->q);
	free(cc->category);
	free(cc->type);
	free(cc);
}

static void h_catalog(struct api_req *req, const char *rest, void *arg)
{
	struct registry *reg = arg;
	struct catalog_call *cc;
	char *q = api_query_param(req, "q"), *category = api_query_param(req, "category");
	char *type = api_query_param(req, "type"), *sort = api_query_param(req, "sort");
	char err[256];
	const char *order = api_catalog_order(sort, q, category, type, err, sizeof err);

	free(sort);
	if (order == NULL) {
		api_reply_error(req, 400, "bad_field", "%s", err);
		goto fail;
	}
	cc = xcalloc(1, sizeof *cc);
	cc->c = api_call_new(reg, req, NULL);
	cc->sql = xasprintf(catalog_sql, order);
	/* Empty filters are no filters. */
	cc->q = q && *q ? q : (free(q), NULL);
	cc->category = category && *category ? category : (free(category), NULL);
	cc->type = type && *type ? type : (free(type), NULL);
	registry_refresh_catalog(reg, catalog_refreshed, cc);
	return;
fail:
	free(q);
	free(category);
	free(type);
}

/* ---- POST rate/{name}, GET ratings/{name} ---- */

static const char rate_sql[] =
    "WITH p AS (SELECT 1 WHERE " KNOWN_SQL "),"
    " r AS (INSERT INTO plugin_ratings (plugin_name, user_name, rating, review)"
    "  SELECT $1, $2, $3::smallint, $4 FROM p"
    "  ON CONFLICT (plugin_name, user_name) DO UPDATE SET rating = EXCLUDED.rating,"
    "  review = EXCLUDED.review"
    "  RETURNING plugin_name AS plugin, user_name AS \"user\", rating, review,"
    "  created_at AS \"createdAt\", updated_at AS \"updatedAt\")"
    " SELECT row_to_json(r)::text FROM r";

static void rate_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *out;

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQntuples(res) == 0) {
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "message", json_object_new_string("Rating saved"));
	json_object_object_add(out, "rating", api_call_parse(PQgetvalue(res, 0, 0)));
	api_reply_json(c->req, 200, out);
out:
	api_call_free(c);
}

static void h_rate(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"rating", "review", NULL};
	char name[SS_NAME_MAX + 1], rating[8];
	const char *params[4];
	json_object *body = NULL, *v, *review = NULL;
	struct call *c;
	int64_t r;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		goto fail;
	}
	if (api_call_only_fields(req, body, allowed) < 0)
		goto fail;
	if (!json_object_object_get_ex(body, "rating", &v) ||
	    !json_object_is_type(v, json_type_int) || (r = json_object_get_int64(v)) < 1 || r > 5) {
		api_reply_error(req, 400, "bad_field", "rating must be an integer from 1 to 5");
		goto fail;
	}
	if (json_object_object_get_ex(body, "review", &review) && review != NULL &&
	    (!json_object_is_type(review, json_type_string) ||
	     json_object_get_string_len(review) > REVIEW_MAX)) {
		api_reply_error(req, 400, "bad_field",
				"review must be a string of at most %d bytes", REVIEW_MAX);
		goto fail;
	}
	if (review != NULL && api_call_storable(req, "review", review) < 0)
		goto fail;
	c = api_call_new(arg, req, name);
	c->body = body;
	snprintf(rating, sizeof rating, "%d", (int)r);
	params[0] = c->name;
	params[1] = api_req_user(req);
	params[2] = rating;
	params[3] = review ? json_object_get_string(review) : NULL;
	api_call_run(c, rate_sql, 4, params, rate_done);
	return;
fail:
	json_object_put(body);
}

static const char ratings_sql[] =
    "SELECT " KNOWN_SQL ","
    " COALESCE((SELECT json_agg(t ORDER BY t.\"updatedAt\" DESC) FROM (SELECT user_name AS"
    "  \"user\", rating, review, created_at AS \"createdAt\", updated_at AS \"updatedAt\""
    "  FROM plugin_ratings WHERE plugin_name = $1) t), '[]'::json)::text,"
    " (SELECT round(avg(rating), 2) FROM plugin_ratings WHERE plugin_name = $1)::text,"
    " (SELECT count(*) FROM plugin_ratings WHERE plugin_name = $1)::text";

static void ratings_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *out;

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0 && strcmp(PQgetvalue(res, 0, 3), "0") == 0) {
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "plugin", json_object_new_string(c->name));
	json_object_object_add(out, "ratings", api_call_parse(PQgetvalue(res, 0, 1)));
	json_object_object_add(out, "count", json_object_new_int(atoi(PQgetvalue(res, 0, 3))));
	json_object_object_add(out, "average",
			       PQgetisnull(res, 0, 2)
				   ? NULL
				   : json_object_new_double(strtod(PQgetvalue(res, 0, 2), NULL)));
	api_reply_json(c->req, 200, out);
out:
	api_call_free(c);
}

static void h_ratings(struct api_req *req, const char *rest, void *arg)
{
	api_call_by_name(req, rest, arg, ratings_sql, ratings_done);
}

void api_catalog_register(struct api *api, struct registry *reg)
{
	api_route(api, "GET", PREFIX "catalog", false, API_ROLE_VIEWER, h_catalog, reg);
	api_route(api, "POST", PREFIX "rate/", true, API_ROLE_VIEWER, h_rate, reg);
	api_route(api, "GET", PREFIX "ratings/", true, API_ROLE_VIEWER, h_ratings, reg);
}
