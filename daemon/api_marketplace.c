/*
 * The marketplace routes. Each handler checks everything it can without the
 * database (name, body, fields: a 400 never costs a query), then runs one
 * statement whose answer decides the status, applies the change through the
 * registry at once, and replies. A database that is away is a 503 with
 * Retry-After; nothing is queued behind the user's back.
 */
#include "api_marketplace.h"

#include <event2/http.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "discovery.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "registry.h"
#include "supervisor.h"
#include "token.h"
#include "xmalloc.h"

#define PREFIX "/api/plugins/marketplace/"
#define REVIEW_MAX 4096

/* The columns of a row as registry_rows_sql has them, from an alias u. */
#define ROW_OF(u)                                                                                  \
	"SELECT row_to_json(t)::text FROM (SELECT " u ".name, " u ".version, COALESCE(" u          \
	".enabled, false) AS enabled, COALESCE(" u ".config, '{}'::jsonb) AS config, " u           \
	".installed_by AS \"installedBy\", " u ".installed_at AS \"installedAt\", " u              \
	".updated_at AS \"updatedAt\", c.manifest->'configSchema' AS schema FROM " u               \
	" LEFT JOIN catalog_plugins c ON c.id = " u ".catalog_plugin_id) t"

#define KNOWN_SQL                                                                                  \
	"(EXISTS (SELECT 1 FROM catalog_plugins WHERE name = $1) OR"                               \
	" EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1))"

/* One request in flight: what its database callbacks need. */
struct call {
	struct registry *reg;
	struct evhttp_request *req;
	char name[SS_NAME_MAX + 1];
	json_object *body;
	json_object *config;
	bool enable;
	char *version;
};

static struct call *call_new(struct registry *reg, struct evhttp_request *req, const char *name)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->reg = reg;
	c->req = req;
	if (name)
		snprintf(c->name, sizeof c->name, "%s", name);
	return c;
}

static void call_free(struct call *c)
{
	json_object_put(c->body);
	json_object_put(c->config);
	free(c->version);
	free(c);
}

static void reply_unavailable(struct evhttp_request *req)
{
	api_reply_error(req, 503, "unavailable", "the database is unavailable; try again shortly");
}

/* The answer to a failed statement: 503 when the database went away, else a bug. */
static void reply_db_failure(struct call *c, enum db_status st, const char *err)
{
	if (st == DB_DOWN) {
		reply_unavailable(c->req);
	} else {
		log_error("marketplace", "%s %s: %s", evhttp_request_get_uri(c->req), c->name, err);
		api_reply_error(c->req, 500, "internal", "the request failed inside the daemon");
	}
}

/* Queues a statement for c; on -1 it has answered 503 and freed c. */
static int run(struct call *c, const char *sql, int n, const char *const *params, db_result_fn fn)
{
	if (db_query(registry_db(c->reg), sql, n, params, fn, c) < 0) {
		reply_unavailable(c->req);
		call_free(c);
		return -1;
	}
	return 0;
}

/* The plugin name in the path: 0, or -1 after answering 400. */
static int take_name(struct evhttp_request *req, const char *rest, char out[SS_NAME_MAX + 1])
{
	if (rest == NULL || !name_plugin_valid(rest)) {
		api_reply_error(req, 400, "bad_name",
				"plugin names match ^[a-z0-9][a-z0-9-]{0,62}$ and \"marketplace\" "
				"is reserved");
		return -1;
	}
	snprintf(out, SS_NAME_MAX + 1, "%s", rest);
	return 0;
}

/* 404 for a name nobody knows, 409 for a known plugin that is not installed. */
static void reply_not_installed(struct call *c, bool known)
{
	if (known || registry_discovered(c->reg, c->name))
		api_reply_error(c->req, 409, "not_installed", "plugin %s is not installed",
				c->name);
	else
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
}

static json_object *parse_text(const char *text)
{
	return text && *text ? json_tokener_parse(text) : NULL;
}

/* The user a request acts as: its token's name. */
static const char *request_user(struct registry *reg, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	const char *name = NULL;

	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		name = token_cache_name(registry_tokens(reg), h);
	}
	return name ? name : "anonymous";
}

/* {"message": msg, "plugin": view of row} after applying row; status as given. */
static void reply_applied(struct call *c, int status, const char *msg, json_object *row,
			  bool restart_failed)
{
	json_object *out = json_object_new_object();
	char err[512];

	if (registry_apply(c->reg, c->name, row, restart_failed, err, sizeof err) < 0)
		json_object_object_add(out, "message", json_object_new_string(err));
	else
		json_object_object_add(out, "message", json_object_new_string(msg));
	json_object_object_add(out, "plugin", registry_view(c->reg, row));
	api_reply_json(c->req, status, out);
}

/* ---- GET catalog ---- */

const char *api_marketplace_order(const char *sort, const char *q, const char *category,
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

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	list = parse_text(PQgetvalue(res, 0, 0));
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		reply_db_failure(c, DB_ERROR, "catalog: not a JSON array");
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "plugins", list);
	api_reply_json(c->req, 200, out);
out:
	call_free(c);
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
	run(cc->c, cc->sql, 3, params, catalog_done);
	free(cc->sql);
	free(cc->q);
	free(cc->category);
	free(cc->type);
	free(cc);
}

static void h_catalog(struct evhttp_request *req, const char *rest, void *arg)
{
	struct registry *reg = arg;
	struct catalog_call *cc;
	char *q = api_query_param(req, "q"), *category = api_query_param(req, "category");
	char *type = api_query_param(req, "type"), *sort = api_query_param(req, "sort");
	char err[256];
	const char *order = api_marketplace_order(sort, q, category, type, err, sizeof err);

	free(sort);
	if (order == NULL) {
		api_reply_error(req, 400, "bad_field", "%s", err);
		goto fail;
	}
	cc = xcalloc(1, sizeof *cc);
	cc->c = call_new(reg, req, NULL);
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

/* ---- POST install/{name} ---- */

static const char install_sql[] =
    "WITH cat AS (SELECT c.id FROM catalog_plugins c JOIN catalog_repositories r"
    "  ON r.id = c.repository_id WHERE r.name = 'local' AND c.name = $1 AND c.version = $2),"
    " ins AS (INSERT INTO installed_plugins (catalog_plugin_id, name, version, enabled, config,"
    "  installed_by) VALUES ((SELECT id FROM cat), $1, $2, true, $3::jsonb, $4)"
    "  ON CONFLICT (name) DO NOTHING RETURNING *),"
    " cnt AS (UPDATE catalog_plugins SET install_count = install_count + 1"
    "  WHERE id IN (SELECT catalog_plugin_id FROM ins))" ROW_OF("ins");

static void install_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (PQntuples(res) == 0) {
		api_reply_error(c->req, 409, "already_installed", "plugin %s is already installed",
				c->name);
		goto out;
	}
	row = parse_text(PQgetvalue(res, 0, 0));
	log_info("marketplace", "%s %s installed by %s", c->name, c->version,
		 request_user(c->reg, c->req));
	reply_applied(c, 201, "Plugin installed and activated successfully", row, true);
	json_object_put(row);
out:
	call_free(c);
}

static void exists_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;

	if (st != DB_OK)
		reply_db_failure(c, st, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		api_reply_error(c->req, 409, "already_installed", "plugin %s is already installed",
				c->name);
	else
		api_reply_error(c->req, 404, "not_found", "no plugin named %s in the catalog",
				c->name);
	call_free(c);
}

static void install_refreshed(bool ok, void *arg)
{
	struct call *c = arg;
	const struct discovered *d = registry_discovered(c->reg, c->name);
	json_object *config;
	const char *params[4];

	if (d == NULL) {
		params[0] = c->name;
		run(c, "SELECT EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1)", 1, params,
		    exists_done);
		return;
	}
	if (c->version && strcmp(c->version, d->manifest->version) != 0) {
		api_reply_error(c->req, 404, "not_found",
				"version %s of %s is not available (the catalog has %s)",
				c->version, c->name, d->manifest->version);
		call_free(c);
		return;
	}
	free(c->version);
	c->version = xstrdup(d->manifest->version);
	config = manifest_merge_config(d->manifest->default_config, c->config);
	params[0] = c->name;
	params[1] = c->version;
	params[2] = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN);
	params[3] = request_user(c->reg, c->req);
	run(c, install_sql, 4, params, install_done);
	json_object_put(config);
}

/*
 * Checks a request body against the fields allowed: each key must be in
 * allowed; 0, or -1 after answering 400.
 */
static int only_fields(struct evhttp_request *req, json_object *body, const char *const *allowed)
{
	json_object_object_foreach(body, key, val)
	{
		bool ok = false;

		(void)val;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			api_reply_error(req, 400, "bad_field", "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

static void h_install(struct evhttp_request *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"config", "version", NULL};
	struct registry *reg = arg;
	struct call *c;
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *v;

	if (take_name(req, rest, name) < 0 || api_read_json(req, true, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		goto fail;
	}
	if (only_fields(req, body, allowed) < 0)
		goto fail;
	c = call_new(reg, req, name);
	c->body = body;
	if (json_object_object_get_ex(body, "config", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			call_free(c);
			return;
		}
		c->config = json_object_get(v);
	}
	if (json_object_object_get_ex(body, "version", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    !manifest_version_valid(json_object_get_string(v))) {
			api_reply_error(req, 400, "bad_field", "version must be a version string");
			call_free(c);
			return;
		}
		c->version = xstrdup(json_object_get_string(v));
	}
	registry_refresh_catalog(reg, install_refreshed, c);
	return;
fail:
	json_object_put(body);
}

/* ---- POST enable/{name}, POST disable/{name} ---- */

static const char enable_sql[] =
    "WITH u AS (UPDATE installed_plugins SET enabled = $2::boolean WHERE name = $1 RETURNING *)"
    " SELECT (" ROW_OF("u") "), " KNOWN_SQL;

static void enable_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		reply_not_installed(c, strcmp(PQgetvalue(res, 0, 1), "t") == 0);
		goto out;
	}
	row = parse_text(PQgetvalue(res, 0, 0));
	reply_applied(c, 200, c->enable ? "Plugin enabled" : "Plugin disabled", row, c->enable);
	json_object_put(row);
out:
	call_free(c);
}

static void set_enabled(struct evhttp_request *req, const char *rest, struct registry *reg,
			bool enable)
{
	char name[SS_NAME_MAX + 1];
	const char *params[2];
	struct call *c;

	if (take_name(req, rest, name) < 0)
		return;
	c = call_new(reg, req, name);
	c->enable = enable;
	params[0] = c->name;
	params[1] = enable ? "true" : "false";
	run(c, enable_sql, 2, params, enable_done);
}

static void h_enable(struct evhttp_request *req, const char *rest, void *arg)
{
	set_enabled(req, rest, arg, true);
}

static void h_disable(struct evhttp_request *req, const char *rest, void *arg)
{
	set_enabled(req, rest, arg, false);
}

/* ---- DELETE uninstall/{name} ---- */

static const char uninstall_sql[] =
    "WITH d AS (DELETE FROM installed_plugins WHERE name = $1 RETURNING name, version),"
    " s AS (DELETE FROM plugin_storage WHERE plugin_name = $1 AND EXISTS (SELECT 1 FROM d))"
    " SELECT (SELECT row_to_json(d)::text FROM d), " KNOWN_SQL;

static void uninstall_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *out;
	char msg[512];

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		reply_not_installed(c, strcmp(PQgetvalue(res, 0, 1), "t") == 0);
		goto out;
	}
	registry_apply(c->reg, c->name, NULL, false, msg, sizeof msg);
	log_info("marketplace", "%s uninstalled by %s", c->name, request_user(c->reg, c->req));
	out = json_object_new_object();
	json_object_object_add(out, "message",
			       json_object_new_string("Plugin uninstalled successfully"));
	json_object_object_add(out, "plugin", parse_text(PQgetvalue(res, 0, 0)));
	api_reply_json(c->req, 200, out);
out:
	call_free(c);
}

static void h_uninstall(struct evhttp_request *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];
	const char *params[1];
	struct call *c;

	if (take_name(req, rest, name) < 0)
		return;
	c = call_new(arg, req, name);
	params[0] = c->name;
	run(c, uninstall_sql, 1, params, uninstall_done);
}

/* ---- GET installed, GET installed/{name} ---- */

/*
 * A plugin the supervisor runs that the database does not list (started
 * with --plugin for development): shown as such, never hidden. Takes rt.
 */
static json_object *unmanaged_view(json_object *rt)
{
	json_object *o = json_object_new_object(), *v;

	json_object_object_get_ex(rt, "name", &v);
	json_object_object_add(o, "name", json_object_get(v));
	json_object_object_get_ex(rt, "version", &v);
	json_object_object_add(o, "version", json_object_get(v));
	json_object_object_add(o, "enabled", json_object_new_boolean(1));
	json_object_object_add(o, "managed", json_object_new_boolean(0));
	json_object_object_add(o, "runtime", rt);
	return o;
}

/* Appends to list every plugin the supervisor runs that list does not have. */
static void add_unmanaged(struct registry *reg, json_object *list)
{
	json_object *all = supervisor_status_all(registry_supervisor(reg));
	size_t n = json_object_array_length(list);

	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *rt = json_object_array_get_idx(all, i), *v;
		const char *name;
		bool found = false;

		if (!json_object_object_get_ex(rt, "name", &v))
			continue;
		name = json_object_get_string(v);
		for (size_t j = 0; j < n && !found; j++) {
			json_object *row = json_object_array_get_idx(list, j), *rn;

			found = json_object_object_get_ex(row, "name", &rn) &&
				strcmp(json_object_get_string(rn), name) == 0;
		}
		if (!found)
			json_object_array_add(list, unmanaged_view(json_object_get(rt)));
	}
	json_object_put(all);
}

static void installed_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *list, *out;

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (c->name[0] != '\0') {
		json_object *row;

		if (PQntuples(res) == 0) {
			json_object *rt = supervisor_status(registry_supervisor(c->reg), c->name);

			if (rt) {
				api_reply_json(c->req, 200, unmanaged_view(rt));
				goto out;
			}
			api_reply_error(c->req, 404, "not_installed", "plugin %s is not installed",
					c->name);
			goto out;
		}
		row = parse_text(PQgetvalue(res, 0, 0));
		api_reply_json(c->req, 200, registry_view(c->reg, row));
		json_object_put(row);
		goto out;
	}
	list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_object *row = parse_text(PQgetvalue(res, i, 0));

		if (row)
			json_object_array_add(list, registry_view(c->reg, row));
		json_object_put(row);
	}
	add_unmanaged(c->reg, list);
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "plugins", list);
	api_reply_json(c->req, 200, out);
out:
	call_free(c);
}

static void h_installed(struct evhttp_request *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1] = "";
	const char *params[1] = {NULL};
	struct call *c;

	if (rest && *rest && take_name(req, rest, name) < 0)
		return;
	c = call_new(arg, req, name[0] ? name : NULL);
	if (c->name[0])
		params[0] = c->name;
	run(c, registry_rows_sql, 1, params, installed_done);
}

/* ---- PUT config/{name} ---- */

static const char config_sql[] =
    "WITH u AS (UPDATE installed_plugins SET config = $2::jsonb WHERE name = $1 RETURNING *)"
    " " ROW_OF("u");

static void config_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (PQntuples(res) == 0) {
		reply_not_installed(c, false);
		goto out;
	}
	row = parse_text(PQgetvalue(res, 0, 0));
	reply_applied(c, 200, "Configuration updated", row, false);
	json_object_put(row);
out:
	call_free(c);
}

/* The current row came back: restore masked secrets, then store the new configuration. */
static void config_current(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row, *old = NULL, *schema = NULL, *merged;
	const struct discovered *d;
	const char *params[2];

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		call_free(c);
		return;
	}
	if (PQntuples(res) == 0) {
		reply_not_installed(c, false);
		call_free(c);
		return;
	}
	row = parse_text(PQgetvalue(res, 0, 0));
	json_object_object_get_ex(row, "config", &old);
	json_object_object_get_ex(row, "schema", &schema);
	if (!json_object_is_type(schema, json_type_object) &&
	    (d = registry_discovered(c->reg, c->name)) != NULL)
		schema = d->manifest->config_schema;
	merged = manifest_unmask_config(c->config, old, schema);
	params[0] = c->name;
	params[1] = json_object_to_json_string_ext(merged, JSON_C_TO_STRING_PLAIN);
	run(c, config_sql, 2, params, config_done);
	json_object_put(merged);
	json_object_put(row);
}

static void h_config(struct evhttp_request *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];
	const char *params[1];
	json_object *body = NULL, *v;
	struct call *c;

	if (take_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		json_object_put(body);
		return;
	}
	c = call_new(arg, req, name);
	c->body = body;
	/* {"config": {...}} as for install; a bare object is the configuration itself. */
	if (json_object_object_get_ex(body, "config", &v) && json_object_object_length(body) == 1) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			call_free(c);
			return;
		}
		c->config = json_object_get(v);
	} else {
		c->config = json_object_get(body);
	}
	params[0] = c->name;
	run(c, registry_rows_sql, 1, params, config_current);
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

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (PQntuples(res) == 0) {
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "message", json_object_new_string("Rating saved"));
	json_object_object_add(out, "rating", parse_text(PQgetvalue(res, 0, 0)));
	api_reply_json(c->req, 200, out);
out:
	call_free(c);
}

static void h_rate(struct evhttp_request *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"rating", "review", NULL};
	char name[SS_NAME_MAX + 1], rating[8];
	const char *params[4];
	json_object *body = NULL, *v, *review = NULL;
	struct call *c;
	int64_t r;

	if (take_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		goto fail;
	}
	if (only_fields(req, body, allowed) < 0)
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
	c = call_new(arg, req, name);
	c->body = body;
	snprintf(rating, sizeof rating, "%d", (int)r);
	params[0] = c->name;
	params[1] = request_user(c->reg, req);
	params[2] = rating;
	params[3] = review ? json_object_get_string(review) : NULL;
	run(c, rate_sql, 4, params, rate_done);
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

	if (st != DB_OK) {
		reply_db_failure(c, st, err);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0 && strcmp(PQgetvalue(res, 0, 3), "0") == 0) {
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "plugin", json_object_new_string(c->name));
	json_object_object_add(out, "ratings", parse_text(PQgetvalue(res, 0, 1)));
	json_object_object_add(out, "count", json_object_new_int(atoi(PQgetvalue(res, 0, 3))));
	json_object_object_add(out, "average",
			       PQgetisnull(res, 0, 2)
				   ? NULL
				   : json_object_new_double(strtod(PQgetvalue(res, 0, 2), NULL)));
	api_reply_json(c->req, 200, out);
out:
	call_free(c);
}

static void h_ratings(struct evhttp_request *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];
	const char *params[1];
	struct call *c;

	if (take_name(req, rest, name) < 0)
		return;
	c = call_new(arg, req, name);
	params[0] = c->name;
	run(c, ratings_sql, 1, params, ratings_done);
}

void api_marketplace_register(struct api *api, struct registry *reg)
{
	api_route(api, "GET", PREFIX "catalog", false, API_ROLE_VIEWER, h_catalog, reg);
	api_route(api, "POST", PREFIX "install/", true, API_ROLE_ADMIN, h_install, reg);
	api_route(api, "POST", PREFIX "enable/", true, API_ROLE_ADMIN, h_enable, reg);
	api_route(api, "POST", PREFIX "disable/", true, API_ROLE_ADMIN, h_disable, reg);
	api_route(api, "DELETE", PREFIX "uninstall/", true, API_ROLE_ADMIN, h_uninstall, reg);
	api_route(api, "GET", PREFIX "installed", false, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "GET", PREFIX "installed/", true, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "PUT", PREFIX "config/", true, API_ROLE_ADMIN, h_config, reg);
	api_route(api, "POST", PREFIX "rate/", true, API_ROLE_VIEWER, h_rate, reg);
	api_route(api, "GET", PREFIX "ratings/", true, API_ROLE_VIEWER, h_ratings, reg);
}
