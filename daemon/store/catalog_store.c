/* The catalog tables' statements (see catalog_store.h). */
#include "catalog_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "xmalloc.h"

/* Whether $1 names a plugin of the catalog or an installed one. */
#define KNOWN                                                                                      \
	"(EXISTS (SELECT 1 FROM catalog_plugins WHERE name = $1) OR"                               \
	" EXISTS (SELECT 1 FROM installed_plugins WHERE name = $1))"

static const char sync_sql[] =
    "WITH repo AS ("
    " INSERT INTO catalog_repositories (name, url, type, last_synced_at, plugin_count)"
    " VALUES ('local', $1, 'local', NOW(), jsonb_array_length($2::jsonb))"
    " ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, last_synced_at = NOW(),"
    "  plugin_count = EXCLUDED.plugin_count, updated_at = NOW()"
    " RETURNING id),"
    " src AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(name text, version text,"
    "  display_name text, description text, category text, plugin_type text, icon_url text,"
    "  manifest jsonb, tags jsonb, author text, license text, homepage text)),"
    " up AS (INSERT INTO catalog_plugins (repository_id, name, version, display_name,"
    "  description, category, plugin_type, icon_url, manifest, tags, author, license,"
    "  homepage, avg_rating, rating_count)"
    " SELECT repo.id, src.name, src.version, src.display_name, src.description, src.category,"
    "  src.plugin_type, src.icon_url, src.manifest,"
    "  ARRAY(SELECT jsonb_array_elements_text(COALESCE(src.tags, '[]'::jsonb))),"
    "  src.author, src.license, src.homepage,"
    "  (SELECT avg(rating)::numeric(3,2) FROM plugin_ratings r WHERE r.plugin_name = src.name),"
    "  (SELECT count(*) FROM plugin_ratings r WHERE r.plugin_name = src.name)"
    " FROM repo, src"
    " ON CONFLICT (repository_id, name, version) DO UPDATE SET"
    "  display_name = EXCLUDED.display_name, description = EXCLUDED.description,"
    "  category = EXCLUDED.category, plugin_type = EXCLUDED.plugin_type,"
    "  icon_url = EXCLUDED.icon_url, manifest = EXCLUDED.manifest, tags = EXCLUDED.tags,"
    "  author = EXCLUDED.author, license = EXCLUDED.license, homepage = EXCLUDED.homepage"
    "  WHERE catalog_plugins.manifest IS DISTINCT FROM EXCLUDED.manifest"
    " RETURNING id)"
    " DELETE FROM catalog_plugins c USING repo"
    " WHERE c.repository_id = repo.id"
    "  AND NOT EXISTS (SELECT 1 FROM src WHERE src.name = c.name AND src.version = c.version)"
    "  AND NOT EXISTS (SELECT 1 FROM installed_plugins i WHERE i.catalog_plugin_id = c.id)";

/*
 * A version's precedence as PostgreSQL can sort it: the numbers of its core
 * (major.minor.patch, a non-numeric part as 0, at most 18 digits each), then
 * release before pre-release. Finer pre-release order is semver.c's business.
 */
#define SEMVER_CORE(t)                                                                             \
	"ARRAY(SELECT COALESCE(substring(u.x FROM '^[0-9]{1,18}'), '0')::bigint FROM"              \
	" unnest(string_to_array(split_part(split_part(" t ".version, '+', 1), '-', 1), '.'))"     \
	" WITH ORDINALITY AS u(x, n) ORDER BY u.n)"
#define SEMVER_RELEASE(t) "(strpos(split_part(" t ".version, '+', 1), '-') = 0)"

/*
 * The guide's fields first (name ... manifest), then ours. Not formatted:
 * clang-format splits the macros inside the concatenated SQL unreadably.
 */
/* clang-format off */
static const char list_sql[] =
    "SELECT COALESCE(json_agg(p ORDER BY %s), '[]')::text FROM ("
    " SELECT DISTINCT ON (c.name) c.name, c.version, c.display_name AS \"displayName\","
    "  c.description, c.author, c.category, c.plugin_type AS type,"
    "  COALESCE(to_json(c.tags), '[]'::json) AS tags, c.icon_url AS \"iconUrl\","
    "  c.download_url AS \"downloadUrl\", c.manifest, c.license, c.homepage,"
    "  r.name AS repository,"
    "  (SELECT COALESCE(sum(v.install_count), 0) FROM catalog_plugins v WHERE v.name = c.name)"
    "   ::int AS \"installCount\","
    "  c.avg_rating AS \"avgRating\", c.rating_count AS \"ratingCount\","
    "  c.created_at AS \"createdAt\", c.updated_at AS \"updatedAt\","
    "  (i.id IS NOT NULL) AS installed, COALESCE(i.enabled, false) AS enabled,"
    "  i.version AS \"installedVersion\","
    "  COALESCE(c.manifest->'permissions', '[]'::jsonb) AS permissions,"
    "  c.manifest->'configSchema' AS \"configSchema\","
    "  c.manifest->'defaultConfig' AS \"defaultConfig\","
    "  (SELECT json_agg(x.version ORDER BY x.core, x.rel) FROM (SELECT DISTINCT ON"
    "   (v.version) v.version, " SEMVER_CORE("v") " AS core,"
    "   " SEMVER_RELEASE("v") " AS rel"
    "   FROM catalog_plugins v JOIN catalog_repositories vr ON vr.id = v.repository_id"
    "   WHERE v.name = c.name AND vr.enabled) x) AS versions"
    " FROM catalog_plugins c JOIN catalog_repositories r ON r.id = c.repository_id"
    " LEFT JOIN installed_plugins i ON i.name = c.name"
    " WHERE r.enabled"
    "  AND ($1::text IS NULL OR strpos(lower(c.name || ' ' || COALESCE(c.display_name, '')"
    "   || ' ' || COALESCE(c.description, '') || ' ' || COALESCE(array_to_string(c.tags, ' '),"
    "   '')), lower($1)) > 0)"
    "  AND ($2::text IS NULL OR lower(c.category) = lower($2))"
    "  AND ($3::text IS NULL OR lower(c.plugin_type) = lower($3))"
    /*
     * The plugin directory's entry first: it is the one an install takes.
     * Among a repository's versions, the newest by precedence, not by sync order.
     */
    " ORDER BY c.name, (r.type = 'local') DESC, " SEMVER_CORE("c") " DESC,"
    "  " SEMVER_RELEASE("c") " DESC, c.created_at DESC, c.id DESC) p";
/* clang-format on */

/* The ORDER BY of each sort, indexed by enum catalog_sort. */
static const char *const list_orders[] = {
    [CATALOG_SORT_NAME] = "p.name",
    [CATALOG_SORT_POPULAR] = "p.\"installCount\" DESC, p.name",
    [CATALOG_SORT_RATING] = "p.\"avgRating\" DESC NULLS LAST, p.\"ratingCount\" DESC, p.name",
    [CATALOG_SORT_NEWEST] = "p.\"createdAt\" DESC, p.name",
};

static const char rate_sql[] =
    "WITH p AS (SELECT 1 WHERE " KNOWN "),"
    " r AS (INSERT INTO plugin_ratings (plugin_name, user_name, rating, review)"
    "  SELECT $1, $2, $3::smallint, $4 FROM p"
    "  ON CONFLICT (plugin_name, user_name) DO UPDATE SET rating = EXCLUDED.rating,"
    "  review = EXCLUDED.review"
    "  RETURNING plugin_name AS plugin, user_name AS \"user\", rating, review,"
    "  created_at AS \"createdAt\", updated_at AS \"updatedAt\")"
    " SELECT row_to_json(r)::text FROM r";

static const char ratings_sql[] =
    "SELECT " KNOWN ","
    " COALESCE((SELECT json_agg(t ORDER BY t.\"updatedAt\" DESC) FROM (SELECT user_name AS"
    "  \"user\", rating, review, created_at AS \"createdAt\", updated_at AS \"updatedAt\""
    "  FROM plugin_ratings WHERE plugin_name = $1) t), '[]'::json)::text,"
    " (SELECT round(avg(rating), 2) FROM plugin_ratings WHERE plugin_name = $1)::text,"
    " (SELECT count(*) FROM plugin_ratings WHERE plugin_name = $1)::text";

/* K_ROW: one JSON text or no row (rate, and catalog_store_json). */
enum kind { K_SYNC, K_LIST, K_ROW, K_RATINGS };

struct pending {
	enum kind kind;
	catalog_store_fn fn;
	void *arg;
};

/* JSON PostgreSQL built (json_agg, row_to_json): it parses, or the daemon has a bug. */
static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

json_object *catalog_row_json(const struct catalog_row *r)
{
	json_object *o = json_object_new_object();

	add_str(o, "name", r->name);
	add_str(o, "version", r->version);
	add_str(o, "display_name", r->display_name ? r->display_name : r->name);
	add_str(o, "description", r->description);
	add_str(o, "category", r->category);
	add_str(o, "plugin_type", r->plugin_type);
	add_str(o, "icon_url", r->icon_url);
	json_object_object_add(o, "manifest", json_object_get(r->manifest));
	json_object_object_add(o, "tags", json_object_get(r->tags));
	add_str(o, "author", r->author);
	return o;
}

static json_object *parse(const char *text)
{
	return text && *text ? json_read(text, strlen(text), JSON_MAX_DEPTH, NULL, 0) : NULL;
}

static void done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct pending *p = arg;
	struct store_status s = {.st = st, .err = err, .sqlstate = db_sqlstate(res)};
	json_object *out = NULL;
	bool found = true;

	if (st == DB_OK) {
		switch (p->kind) {
		case K_SYNC:
			break;
		case K_LIST:
			out = parse(PQgetvalue(res, 0, 0));
			break;
		case K_ROW:
			found = PQntuples(res) > 0;
			out = found ? parse(PQgetvalue(res, 0, 0)) : NULL;
			break;
		case K_RATINGS:
			found = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ||
				strcmp(PQgetvalue(res, 0, 3), "0") != 0;
			out = json_object_new_object();
			json_object_object_add(out, "ratings", parse(PQgetvalue(res, 0, 1)));
			json_object_object_add(out, "count",
					       json_object_new_int(atoi(PQgetvalue(res, 0, 3))));
			json_object_object_add(
			    out, "average",
			    PQgetisnull(res, 0, 2)
				? NULL
				: json_object_new_double(strtod(PQgetvalue(res, 0, 2), NULL)));
			break;
		}
		if (p->kind != K_SYNC && found && out == NULL) {
			s.st = DB_ERROR;
			s.err = "the database answered something that is not JSON";
		}
	}
	if (p->fn)
		p->fn(&s, s.st == DB_OK ? out : NULL, found, p->arg);
	json_object_put(out);
	free(p);
}

static int run(struct db *db, enum kind kind, const char *sql, int n, const char *const *params,
	       catalog_store_fn fn, void *arg)
{
	struct pending *p = xmalloc(sizeof *p);

	p->kind = kind;
	p->fn = fn;
	p->arg = arg;
	return db_query_ctx(db, sql, n, params, done, p);
}

int catalog_store_sync_local(struct db *db, const char *repo_url, const char *entries,
			     catalog_store_fn fn, void *arg)
{
	const char *params[2] = {repo_url, entries};

	return run(db, K_SYNC, sync_sql, 2, params, fn, arg);
}

int catalog_store_sync_local_sync(PGconn *conn, const char *repo_url, const char *entries,
				  char *err, size_t errlen)
{
	const char *params[2] = {repo_url, entries};
	PGresult *res = PQexecParams(conn, sync_sql, 2, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error_line(err, errlen, "updating the local catalog", PQresultErrorMessage(res));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

int catalog_store_json(struct db *db, const char *sql, int n, const char *const *params,
		       catalog_store_fn fn, void *arg)
{
	return run(db, K_ROW, sql, n, params, fn, arg);
}

int catalog_store_list(struct db *db, const struct catalog_filter *f, catalog_store_fn fn,
		       void *arg)
{
	const char *params[3] = {f->q, f->category, f->type};
	unsigned sort = (unsigned)f->sort < sizeof list_orders / sizeof *list_orders
			    ? (unsigned)f->sort
			    : CATALOG_SORT_NAME;
	char *sql = xasprintf(list_sql, list_orders[sort]);
	int rc = run(db, K_LIST, sql, 3, params, fn, arg);

	free(sql);
	return rc;
}

int catalog_store_rate(struct db *db, const char *name, const char *user, int rating,
		       const char *review, catalog_store_fn fn, void *arg)
{
	char r[8];
	const char *params[4] = {name, user, r, review};

	snprintf(r, sizeof r, "%d", rating);
	return run(db, K_ROW, rate_sql, 4, params, fn, arg);
}

int catalog_store_ratings(struct db *db, const char *name, catalog_store_fn fn, void *arg)
{
	const char *params[1] = {name};

	return run(db, K_RATINGS, ratings_sql, 1, params, fn, arg);
}
