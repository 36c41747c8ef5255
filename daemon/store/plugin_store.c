/*
 * installed_plugins' statements. Every one of them answers with the same
 * columns (COLS below), so one reader turns any of their results into
 * struct plugin_row; the statements that change one plugin add a last
 * column, whether the name is known at all.
 */
#include "plugin_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "xmalloc.h"

/* The columns of a row of alias u, with the catalog entry as c. */
#define COLS(u)                                                                                    \
	u ".name, " u ".version, COALESCE(" u ".enabled, false), COALESCE(" u                      \
	  ".config, '{}'::jsonb)::text, " u ".installed_by, to_json(" u                            \
	  ".installed_at) #>> '{}', to_json(" u ".updated_at) #>> '{}',"                           \
	  " (c.manifest -> 'configSchema')::text, " u ".previous_version"
#define NCOLS 9
#define FROM(t, u) " FROM " t " " u " LEFT JOIN catalog_plugins c ON c.id = " u ".catalog_plugin_id"
/* Whether $1 names a plugin of the catalog or an installed one. */
#define KNOWN                                                                                      \
	"(EXISTS (SELECT 1 FROM catalog_plugins WHERE name = $1) OR"                               \
	" EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1))"
/* The local catalog's entry of $1 at version $2. */
/*
 * The catalog entry of $1 at $2: the local repository's, else the first
 * remote repository's (an install from a repository counts there).
 */
#define LOCAL_ENTRY                                                                                \
	"cat AS (SELECT c.id FROM catalog_plugins c JOIN catalog_repositories r"                   \
	" ON r.id = c.repository_id WHERE c.name = $1 AND c.version = $2"                          \
	" ORDER BY (r.type = 'local') DESC, c.id LIMIT 1)"

static const char get_sql[] = "SELECT " COLS("i")
    FROM("installed_plugins", "i") " WHERE $1::text IS NULL OR i.name = $1 ORDER BY i.name";

static const char insert_sql[] =
    "WITH " LOCAL_ENTRY ","
    " ins AS (INSERT INTO installed_plugins (catalog_plugin_id, name, version, enabled, config,"
    "  installed_by) VALUES ((SELECT id FROM cat), $1, $2, true, $3::jsonb, $4)"
    "  ON CONFLICT (name) DO NOTHING RETURNING *),"
    " cnt AS (UPDATE catalog_plugins SET install_count = install_count + 1"
    "  WHERE id IN (SELECT catalog_plugin_id FROM ins))"
    " SELECT " COLS("ins") FROM("ins", "ins");

static const char uninsert_sql[] =
    "WITH d AS (DELETE FROM installed_plugins WHERE name = $1 AND version = $2 RETURNING *),"
    " cnt AS (UPDATE catalog_plugins SET install_count = install_count - 1"
    "  WHERE id IN (SELECT catalog_plugin_id FROM d) AND install_count > 0),"
    " s AS (DELETE FROM plugin_storage WHERE plugin_name = $1 AND EXISTS (SELECT 1 FROM d)),"
    " a AS (UPDATE ss_plugin_announced SET purged = true WHERE plugin = $1"
    "  AND EXISTS (SELECT 1 FROM d))"
    " SELECT " COLS("d") FROM("d", "d");

/*
 * Another version in place (upgrade, downgrade, rollback, or taking one of
 * those back): only while the row is still at $2, so two changes racing
 * never both apply; the catalog entry follows the version, previous_version
 * is $4, the configuration $5 (NULL keeps it); storage is kept.
 */
static const char set_version_sql[] =
    "WITH cat AS (SELECT c.id FROM catalog_plugins c JOIN catalog_repositories r"
    "  ON r.id = c.repository_id WHERE c.name = $1 AND c.version = $3"
    "  ORDER BY (r.type = 'local') DESC, c.id LIMIT 1),"
    " u AS (UPDATE installed_plugins SET version = $3, catalog_plugin_id = (SELECT id FROM cat),"
    "  previous_version = $4, config = COALESCE($5::jsonb, config)"
    "  WHERE name = $1 AND version = $2 RETURNING *)"
    " SELECT " COLS("u") FROM("u", "u");

static const char enable_sql[] =
    "WITH u AS (UPDATE installed_plugins SET enabled = $2::boolean WHERE name = $1 RETURNING *)"
    " SELECT " COLS("u") ", k.known FROM (SELECT " KNOWN " AS known) k LEFT JOIN"
			 " (u LEFT JOIN catalog_plugins c ON c.id = u.catalog_plugin_id) ON true";

static const char config_sql[] =
    "WITH u AS (UPDATE installed_plugins SET config = $2::jsonb WHERE name = $1 RETURNING *)"
    " SELECT " COLS("u") ", k.known FROM (SELECT " KNOWN " AS known) k LEFT JOIN"
			 " (u LEFT JOIN catalog_plugins c ON c.id = u.catalog_plugin_id) ON true";

/* The announcement of the uninstall says whether the storage went with it (0008). */
static const char delete_sql[] =
    "WITH u AS (DELETE FROM installed_plugins WHERE name = $1 RETURNING *),"
    " s AS (DELETE FROM plugin_storage WHERE plugin_name = $1 AND $2::boolean"
    "  AND EXISTS (SELECT 1 FROM u)),"
    " a AS (UPDATE ss_plugin_announced SET purged = $2::boolean WHERE plugin = $1"
    "  AND EXISTS (SELECT 1 FROM u))"
    " SELECT " COLS("u") ", k.known FROM (SELECT " KNOWN " AS known) k LEFT JOIN"
			 " (u LEFT JOIN catalog_plugins c ON c.id = u.catalog_plugin_id) ON true";

static char *dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

/*
 * A JSON column into *out: NULL text is NULL; anything that does not parse
 * (within the one depth limit), or is not an object when object is
 * required, is -1 with why.
 */
static int parse_column(const char *text, bool object, json_object **out, char *why, size_t len)
{
	json_object *o;

	*out = NULL;
	if (text == NULL)
		return 0;
	/* What the API accepted fits JSON_MAX_DEPTH; plain SQL may have written anything. */
	o = json_read(text, strlen(text), JSON_MAX_DEPTH, why, len);
	if (o == NULL && why[0] != '\0')
		return -1;
	if (object && !json_object_is_type(o, json_type_object)) {
		snprintf(why, len, "not a JSON object");
		json_object_put(o);
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		/* A schema that is not an object (JSON null, a string) describes nothing. */
		json_object_put(o);
		o = NULL;
	}
	*out = o;
	return 0;
}

static void row_read(const PGresult *res, int i, struct plugin_row *r)
{
	char why[JSON_ERR_MAX];

	memset(r, 0, sizeof *r);
	r->name = xstrdup(PQgetvalue(res, i, 0));
	r->version = dup_or_null(res, i, 1);
	r->enabled = strcmp(PQgetvalue(res, i, 2), "t") == 0;
	r->installed_by = dup_or_null(res, i, 4);
	r->installed_at = dup_or_null(res, i, 5);
	r->updated_at = dup_or_null(res, i, 6);
	r->previous_version = dup_or_null(res, i, 8);
	if (parse_column(PQgetisnull(res, i, 3) ? "{}" : PQgetvalue(res, i, 3), true, &r->config,
			 why, sizeof why) < 0) {
		r->error = xasprintf("the stored configuration does not read back: %s", why);
		return;
	}
	if (parse_column(PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7), false, &r->schema,
			 why, sizeof why) < 0) {
		/* Without its schema, secrets could not be masked: the row is unusable. */
		r->error = xasprintf("the catalog's configSchema does not read back: %s", why);
		json_object_put(r->config);
		r->config = NULL;
		return;
	}
	if (r->version == NULL)
		r->error = xstrdup("the row has no version");
}

void plugin_rows_from_result(const PGresult *res, struct plugin_rows *out)
{
	int n = PQntuples(res);

	memset(out, 0, sizeof *out);
	out->v = xcalloc((size_t)n + 1, sizeof *out->v);
	for (int i = 0; i < n; i++) {
		if (PQnfields(res) > NCOLS && strcmp(PQgetvalue(res, i, NCOLS), "t") == 0)
			out->known = true;
		/* The change statements answer one row of NULLs when nothing matched. */
		if (PQgetisnull(res, i, 0))
			continue;
		row_read(res, i, &out->v[out->n++]);
	}
	if (out->n > 0)
		out->known = true;
}

void plugin_row_clear(struct plugin_row *r)
{
	free(r->name);
	free(r->version);
	json_object_put(r->config);
	json_object_put(r->schema);
	free(r->installed_by);
	free(r->installed_at);
	free(r->updated_at);
	free(r->previous_version);
	free(r->error);
	memset(r, 0, sizeof *r);
}

void plugin_rows_clear(struct plugin_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		plugin_row_clear(&rows->v[i]);
	free(rows->v);
	memset(rows, 0, sizeof *rows);
}

const struct plugin_row *plugin_rows_find(const struct plugin_rows *rows, const char *name)
{
	for (size_t i = 0; i < rows->n; i++)
		if (strcmp(rows->v[i].name, name) == 0)
			return &rows->v[i];
	return NULL;
}

static char *dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A deep copy of a JSON value (rows outlive the result they came from). */
static json_object *json_copy(json_object *o)
{
	json_object *c = NULL;

	if (o != NULL && json_object_deep_copy(o, &c, NULL) < 0)
		fatal("plugin_row_copy: json_object_deep_copy failed");
	return c;
}

void plugin_row_copy(struct plugin_row *out, const struct plugin_row *r)
{
	out->name = dup(r->name);
	out->version = dup(r->version);
	out->enabled = r->enabled;
	out->config = json_copy(r->config);
	out->schema = json_copy(r->schema);
	out->installed_by = dup(r->installed_by);
	out->installed_at = dup(r->installed_at);
	out->updated_at = dup(r->updated_at);
	out->previous_version = dup(r->previous_version);
	out->error = dup(r->error);
}

/* ---- running statements ---- */

struct pending {
	plugin_store_fn fn;
	void *arg;
};

static void done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct pending *p = arg;
	struct store_status s = {.st = st, .err = err, .sqlstate = db_sqlstate(res)};
	struct plugin_rows rows = {0};

	if (st == DB_OK)
		plugin_rows_from_result(res, &rows);
	p->fn(&s, &rows, p->arg);
	plugin_rows_clear(&rows);
	free(p);
}

static int run(struct db *db, const char *sql, int n, const char *const *params, plugin_store_fn fn,
	       void *arg)
{
	struct pending *p = xmalloc(sizeof *p);

	p->fn = fn;
	p->arg = arg;
	return db_query_ctx(db, sql, n, params, done, p);
}

int plugin_store_get(struct db *db, const char *name, plugin_store_fn fn, void *arg)
{
	const char *params[1] = {name};

	return run(db, get_sql, 1, params, fn, arg);
}

int plugin_store_insert(struct db *db, const char *name, const char *version,
			const char *config_text, const char *user, plugin_store_fn fn, void *arg)
{
	const char *params[4] = {name, version, config_text, user};

	return run(db, insert_sql, 4, params, fn, arg);
}

int plugin_store_uninsert(struct db *db, const char *name, const char *version, plugin_store_fn fn,
			  void *arg)
{
	const char *params[2] = {name, version};

	return run(db, uninsert_sql, 2, params, fn, arg);
}

int plugin_store_set_version(struct db *db, const char *name, const char *from, const char *to,
			     const char *previous, const char *config_text, plugin_store_fn fn,
			     void *arg)
{
	const char *params[5] = {name, from, to, previous, config_text};

	return run(db, set_version_sql, 5, params, fn, arg);
}

int plugin_store_set_enabled(struct db *db, const char *name, bool enabled, plugin_store_fn fn,
			     void *arg)
{
	const char *params[2] = {name, enabled ? "true" : "false"};

	return run(db, enable_sql, 2, params, fn, arg);
}

int plugin_store_set_config(struct db *db, const char *name, const char *config_text,
			    plugin_store_fn fn, void *arg)
{
	const char *params[2] = {name, config_text};

	return run(db, config_sql, 2, params, fn, arg);
}

int plugin_store_delete(struct db *db, const char *name, bool purge, plugin_store_fn fn, void *arg)
{
	const char *params[2] = {name, purge ? "true" : "false"};

	return run(db, delete_sql, 2, params, fn, arg);
}

static void announced(enum db_status st, PGresult *res, const char *err, void *arg)
{
	char *name = arg;

	if (st != DB_OK)
		log_warn("registry",
			 "%s: announcing its change: %s (the next apply or start-up "
			 "announces it)",
			 name, err ? err : "database down");
	else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		log_info("registry", "%s: %s platform event%s announced", name,
			 PQgetvalue(res, 0, 0), strcmp(PQgetvalue(res, 0, 0), "1") ? "s" : "");
	free(name);
}

int plugin_store_announce(struct db *db, const char *name)
{
	const char *params[1] = {name};
	char *arg = xstrdup(name);

	if (db_query(db, "SELECT ss_plugin_announce($1)", 1, params, announced, arg) < 0) {
		free(arg);
		return -1;
	}
	return 0;
}

int plugin_store_announce_sync(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, "SELECT ss_plugin_announce_all()");
	int n = -1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		db_error_line(err, errlen, "announcing plugin changes", PQresultErrorMessage(res));
	else
		n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

int plugin_store_get_sync(PGconn *conn, struct plugin_rows *out, char *err, size_t errlen)
{
	const char *params[1] = {NULL};
	PGresult *res = PQexecParams(conn, get_sql, 1, NULL, params, NULL, NULL, 0);

	memset(out, 0, sizeof *out);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error_line(err, errlen, "reading installed plugins", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	plugin_rows_from_result(res, out);
	PQclear(res);
	return 0;
}
