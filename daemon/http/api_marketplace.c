/*
 * The marketplace routes. Each handler checks everything it can without the
 * database (name, body, fields: a 400 never costs a query), then runs one
 * statement whose answer decides the status, applies the change through the
 * registry at once, and replies. A database that is away is a 503 with
 * Retry-After; nothing is queued behind the user's back.
 */
#include "api_marketplace.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "api_catalog.h"
#include "db.h"
#include "discovery.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "registry.h"
#include "secrets.h"
#include "supervisor.h"
#include "token.h"
#include "xmalloc.h"

#define PREFIX API_MARKETPLACE_PREFIX
#define KNOWN_SQL API_CALL_KNOWN_SQL

/* The columns of a row as registry_rows_sql has them, from an alias u. */
#define ROW_OF(u)                                                                                  \
	"SELECT row_to_json(t)::text FROM (SELECT " u ".name, " u ".version, COALESCE(" u          \
	".enabled, false) AS enabled, COALESCE(" u ".config, '{}'::jsonb) AS config, " u           \
	".installed_by AS \"installedBy\", " u ".installed_at AS \"installedAt\", " u              \
	".updated_at AS \"updatedAt\", c.manifest->'configSchema' AS schema FROM " u               \
	" LEFT JOIN catalog_plugins c ON c.id = " u ".catalog_plugin_id) t"

/* 404 for a name nobody knows, 409 for a known plugin that is not installed. */
static void reply_not_installed(struct call *c, bool known)
{
	if (known || registry_discovered(c->reg, c->name))
		api_reply_error(c->req, 409, "not_installed", "plugin %s is not installed",
				c->name);
	else
		api_reply_error(c->req, 404, "not_found", "no plugin named %s", c->name);
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

/* ---- POST install/{name} ---- */

static const char install_sql[] =
    "WITH cat AS (SELECT c.id FROM catalog_plugins c JOIN catalog_repositories r"
    "  ON r.id = c.repository_id WHERE r.name = 'local' AND c.name = $1 AND c.version = $2),"
    " ins AS (INSERT INTO installed_plugins (catalog_plugin_id, name, version, enabled, config,"
    "  installed_by) VALUES ((SELECT id FROM cat), $1, $2, true, $3::jsonb, $4)"
    "  ON CONFLICT (name) DO NOTHING RETURNING *),"
    " cnt AS (UPDATE catalog_plugins SET install_count = install_count + 1"
    "  WHERE id IN (SELECT catalog_plugin_id FROM ins))" ROW_OF("ins");

/*
 * Upgrade (or downgrade) in place: the version and catalog entry change,
 * the configuration stays unless the request gave one; storage is kept.
 */
static const char upgrade_sql[] =
    "WITH cat AS (SELECT c.id FROM catalog_plugins c JOIN catalog_repositories r"
    "  ON r.id = c.repository_id WHERE r.name = 'local' AND c.name = $1 AND c.version = $2),"
    " u AS (UPDATE installed_plugins SET version = $2, catalog_plugin_id = (SELECT id FROM cat),"
    "  config = COALESCE($3::jsonb, config) WHERE name = $1 AND version <> $2 RETURNING *)"
    " " ROW_OF("u");

static void upgrade_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;
	char msg[128];

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQntuples(res) == 0) {
		api_reply_error(c->req, 409, "already_installed",
				"plugin %s is already installed at version %s", c->name,
				c->version);
		goto out;
	}
	row = api_call_parse(PQgetvalue(res, 0, 0));
	log_info("marketplace", "%s changed to version %s by %s", c->name, c->version,
		 api_req_user(c->req));
	snprintf(msg, sizeof msg, "Plugin changed to version %s", c->version);
	reply_applied(c, 200, msg, row, true);
	json_object_put(row);
out:
	api_call_free(c);
}

static void install_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQntuples(res) == 0 && c->version_asked) {
		const char *params[3] = {c->name, c->version, c->config ? c->config_text : NULL};

		api_call_run(c, upgrade_sql, 3, params, upgrade_done);
		return;
	}
	if (PQntuples(res) == 0) {
		api_reply_error(c->req, 409, "already_installed", "plugin %s is already installed",
				c->name);
		goto out;
	}
	row = api_call_parse(PQgetvalue(res, 0, 0));
	log_info("marketplace", "%s %s installed by %s", c->name, c->version, api_req_user(c->req));
	reply_applied(c, 201, "Plugin installed and activated successfully", row, true);
	json_object_put(row);
out:
	api_call_free(c);
}

static void exists_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;

	if (st != DB_OK)
		api_call_db_failure(c, st, res, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		api_reply_error(c->req, 409, "already_installed", "plugin %s is already installed",
				c->name);
	else
		api_reply_error(c->req, 404, "not_found", "no plugin named %s in the catalog",
				c->name);
	api_call_free(c);
}

static void install_refreshed(bool ok, void *arg)
{
	struct call *c = arg;
	const struct discovered *d = registry_discovered(c->reg, c->name);
	json_object *config;
	const char *params[4];

	if (d == NULL) {
		params[0] = c->name;
		api_call_run(c, "SELECT EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1)",
			     1, params, exists_done);
		return;
	}
	if (c->version && strcmp(c->version, d->manifest->version) != 0) {
		api_reply_error(c->req, 404, "not_found",
				"version %s of %s is not available (the catalog has %s)",
				c->version, c->name, d->manifest->version);
		api_call_free(c);
		return;
	}
	free(c->version);
	c->version = xstrdup(d->manifest->version);
	config = manifest_merge_config(d->manifest->default_config, c->config);
	c->config_text = xstrdup(json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
	json_object_put(config);
	params[0] = c->name;
	params[1] = c->version;
	params[2] = c->config_text;
	params[3] = api_req_user(c->req);
	api_call_run(c, install_sql, 4, params, install_done);
}

static void h_install(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"config", "version", NULL};
	struct registry *reg = arg;
	struct call *c;
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *v;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, true, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		goto fail;
	}
	if (api_call_only_fields(req, body, allowed) < 0)
		goto fail;
	c = api_call_new(reg, req, name);
	c->body = body;
	if (json_object_object_get_ex(body, "config", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			api_call_free(c);
			return;
		}
		if (api_call_storable(req, "config", v) < 0) {
			api_call_free(c);
			return;
		}
		c->config = json_object_get(v);
	}
	if (json_object_object_get_ex(body, "version", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    !manifest_version_valid(json_object_get_string(v))) {
			api_reply_error(req, 400, "bad_field", "version must be a version string");
			api_call_free(c);
			return;
		}
		c->version = xstrdup(json_object_get_string(v));
		c->version_asked = true;
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

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		reply_not_installed(c, strcmp(PQgetvalue(res, 0, 1), "t") == 0);
		goto out;
	}
	row = api_call_parse(PQgetvalue(res, 0, 0));
	reply_applied(c, 200, c->enable ? "Plugin enabled" : "Plugin disabled", row, c->enable);
	json_object_put(row);
out:
	api_call_free(c);
}

static void set_enabled(struct api_req *req, const char *rest, struct registry *reg, bool enable)
{
	char name[SS_NAME_MAX + 1];
	const char *params[2];
	struct call *c;

	if (api_call_name(req, rest, name) < 0)
		return;
	c = api_call_new(reg, req, name);
	c->enable = enable;
	params[0] = c->name;
	params[1] = enable ? "true" : "false";
	api_call_run(c, enable_sql, 2, params, enable_done);
}

static void h_enable(struct api_req *req, const char *rest, void *arg)
{
	set_enabled(req, rest, arg, true);
}

static void h_disable(struct api_req *req, const char *rest, void *arg)
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

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		reply_not_installed(c, strcmp(PQgetvalue(res, 0, 1), "t") == 0);
		goto out;
	}
	registry_apply(c->reg, c->name, NULL, false, msg, sizeof msg);
	log_info("marketplace", "%s uninstalled by %s", c->name, api_req_user(c->req));
	out = json_object_new_object();
	json_object_object_add(out, "message",
			       json_object_new_string("Plugin uninstalled successfully"));
	json_object_object_add(out, "plugin", api_call_parse(PQgetvalue(res, 0, 0)));
	api_reply_json(c->req, 200, out);
out:
	api_call_free(c);
}

static void h_uninstall(struct api_req *req, const char *rest, void *arg)
{
	api_call_by_name(req, rest, arg, uninstall_sql, uninstall_done);
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

/*
 * Row i of a registry_rows_sql result; one that does not read back is shown
 * by its name (column 1) alone, with the registry's error for it.
 */
static json_object *installed_row(const PGresult *res, int i)
{
	json_object *row = api_call_parse(PQgetvalue(res, i, 0));

	if (row == NULL) {
		row = json_object_new_object();
		json_object_object_add(row, "name", json_object_new_string(PQgetvalue(res, i, 1)));
	}
	return row;
}

static void installed_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *list, *out;

	if (!api_call_ok(c, st, res, err))
		goto out;
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
		row = installed_row(res, 0);
		api_reply_json(c->req, 200, registry_view(c->reg, row));
		json_object_put(row);
		goto out;
	}
	list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_object *row = installed_row(res, i);

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
	api_call_free(c);
}

static void h_installed(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1] = "";
	const char *params[1] = {NULL};
	struct call *c;

	if (rest && *rest && api_call_name(req, rest, name) < 0)
		return;
	c = api_call_new(arg, req, name[0] ? name : NULL);
	if (c->name[0])
		params[0] = c->name;
	api_call_run(c, registry_rows_sql, 1, params, installed_done);
}

/* ---- PUT config/{name} ---- */

static const char config_sql[] =
    "WITH u AS (UPDATE installed_plugins SET config = $2::jsonb WHERE name = $1 RETURNING *)"
    " " ROW_OF("u");

static void config_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row;

	if (!api_call_ok(c, st, res, err))
		goto out;
	if (PQntuples(res) == 0) {
		reply_not_installed(c, false);
		goto out;
	}
	row = api_call_parse(PQgetvalue(res, 0, 0));
	reply_applied(c, 200, "Configuration updated", row, false);
	json_object_put(row);
out:
	api_call_free(c);
}

/* The current row came back: restore masked secrets, then store the new configuration. */
static void config_current(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	json_object *row, *old = NULL, *schema = NULL, *merged;
	const struct discovered *d;
	const char *params[2];

	if (st != DB_OK) {
		api_call_db_failure(c, st, res, err);
		api_call_free(c);
		return;
	}
	if (PQntuples(res) == 0) {
		reply_not_installed(c, false);
		api_call_free(c);
		return;
	}
	row = api_call_parse(PQgetvalue(res, 0, 0));
	json_object_object_get_ex(row, "config", &old);
	json_object_object_get_ex(row, "schema", &schema);
	if (!json_object_is_type(schema, json_type_object) &&
	    (d = registry_discovered(c->reg, c->name)) != NULL)
		schema = d->manifest->config_schema;
	merged = secrets_unmask(c->config, old, schema);
	params[0] = c->name;
	params[1] = json_object_to_json_string_ext(merged, JSON_C_TO_STRING_PLAIN);
	api_call_run(c, config_sql, 2, params, config_done);
	json_object_put(merged);
	json_object_put(row);
}

static void h_config(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];
	const char *params[1];
	json_object *body = NULL, *v;
	struct call *c;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		api_reply_error(req, 400, "bad_field", "the body must be a JSON object");
		json_object_put(body);
		return;
	}
	c = api_call_new(arg, req, name);
	c->body = body;
	/* {"config": {...}} as for install; a bare object is the configuration itself. */
	if (json_object_object_get_ex(body, "config", &v) && json_object_object_length(body) == 1) {
		if (!json_object_is_type(v, json_type_object)) {
			api_reply_error(req, 400, "bad_field", "config must be a JSON object");
			api_call_free(c);
			return;
		}
		c->config = json_object_get(v);
	} else {
		c->config = json_object_get(body);
	}
	if (api_call_storable(req, "config", c->config) < 0) {
		api_call_free(c);
		return;
	}
	params[0] = c->name;
	api_call_run(c, registry_rows_sql, 1, params, config_current);
}

void api_marketplace_register(struct api *api, struct registry *reg)
{
	api_catalog_register(api, reg);
	api_route(api, "POST", PREFIX "install/", true, API_ROLE_ADMIN, h_install, reg);
	api_route(api, "POST", PREFIX "enable/", true, API_ROLE_ADMIN, h_enable, reg);
	api_route(api, "POST", PREFIX "disable/", true, API_ROLE_ADMIN, h_disable, reg);
	api_route(api, "DELETE", PREFIX "uninstall/", true, API_ROLE_ADMIN, h_uninstall, reg);
	api_route(api, "GET", PREFIX "installed", false, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "GET", PREFIX "installed/", true, API_ROLE_VIEWER, h_installed, reg);
	api_route(api, "PUT", PREFIX "config/", true, API_ROLE_ADMIN, h_config, reg);
}
