/* The statements of remote catalog repositories (see repo_store.h). */
#include "repo_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "catalog_store.h"

#define REPO_COLUMNS                                                                               \
	"id, name, url, type, enabled, last_synced_at AS \"lastSyncedAt\", etag, status,"          \
	" last_error AS \"lastError\", plugin_count AS \"pluginCount\""

static const char list_sql[] = "SELECT COALESCE(json_agg(r ORDER BY r.id), '[]')::text FROM"
			       " (SELECT " REPO_COLUMNS " FROM catalog_repositories) r";

static const char add_sql[] =
    "WITH r AS (INSERT INTO catalog_repositories (name, url, type, enabled)"
    " VALUES ($1, $2, 'remote', $3::boolean) ON CONFLICT (name) DO NOTHING RETURNING *)"
    " SELECT row_to_json(x)::text FROM (SELECT " REPO_COLUMNS " FROM r) x";

static const char ensure_sql[] = "INSERT INTO catalog_repositories (name, url, type)"
				 " VALUES ($1, $2, 'remote') ON CONFLICT (name) DO NOTHING"
				 " RETURNING json_build_object('id', id)::text";

static const char delete_sql[] =
    "DELETE FROM catalog_repositories WHERE id = $1::int AND type = 'remote'"
    " RETURNING json_build_object('id', id, 'name', name)::text";

static const char claim_sql[] =
    "WITH c AS (UPDATE catalog_repositories"
    " SET sync_lease_until = NOW() + make_interval(secs => $2::int)"
    " WHERE type = 'remote' AND enabled AND ($1::int IS NULL OR id = $1::int)"
    "  AND (sync_lease_until IS NULL OR sync_lease_until < NOW())"
    " RETURNING id)"
    " SELECT COALESCE(json_agg(json_build_object('id', r.id, 'name', r.name, 'url', r.url,"
    "  'etag', r.etag, 'won', c.id IS NOT NULL) ORDER BY r.id), '[]')::text"
    " FROM catalog_repositories r LEFT JOIN c ON c.id = r.id"
    " WHERE r.type = 'remote' AND r.enabled AND ($1::int IS NULL OR r.id = $1::int)";

/*
 * One statement, so that a sync is applied whole or not at all. The rating
 * totals of a new row come from plugin_ratings (0002 keeps them afterwards).
 */
static const char apply_sql[] =
    "WITH src AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(name text, version text,"
    "  display_name text, description text, category text, plugin_type text, icon_url text,"
    "  manifest jsonb, tags jsonb, author text, download_url text, sha256 text, abi int,"
    "  arch text, signature text, entry jsonb)),"
    " up AS (INSERT INTO catalog_plugins (repository_id, name, version, display_name,"
    "  description, category, plugin_type, icon_url, manifest, tags, author, license, homepage,"
    "  download_url, sha256, abi, arch, signature, entry, avg_rating, rating_count)"
    " SELECT $1::int, s.name, s.version, s.display_name, s.description, s.category,"
    "  s.plugin_type, s.icon_url, s.manifest,"
    "  ARRAY(SELECT jsonb_array_elements_text(COALESCE(s.tags, '[]'::jsonb))), s.author,"
    "  s.manifest->>'license', s.manifest->>'homepage', s.download_url, s.sha256, s.abi,"
    "  s.arch, s.signature, s.entry,"
    "  (SELECT avg(rating)::numeric(3,2) FROM plugin_ratings r WHERE r.plugin_name = s.name),"
    "  (SELECT count(*) FROM plugin_ratings r WHERE r.plugin_name = s.name)"
    " FROM src s"
    " ON CONFLICT (repository_id, name, version) DO UPDATE SET"
    "  display_name = EXCLUDED.display_name, description = EXCLUDED.description,"
    "  category = EXCLUDED.category, plugin_type = EXCLUDED.plugin_type,"
    "  icon_url = EXCLUDED.icon_url, manifest = EXCLUDED.manifest, tags = EXCLUDED.tags,"
    "  author = EXCLUDED.author, license = EXCLUDED.license, homepage = EXCLUDED.homepage,"
    "  download_url = EXCLUDED.download_url, sha256 = EXCLUDED.sha256, abi = EXCLUDED.abi,"
    "  arch = EXCLUDED.arch, signature = EXCLUDED.signature, entry = EXCLUDED.entry"
    "  WHERE catalog_plugins.entry IS DISTINCT FROM EXCLUDED.entry"
    " RETURNING name || '@' || version AS nv, (xmax = 0) AS inserted),"
    " del AS (DELETE FROM catalog_plugins c WHERE c.repository_id = $1::int"
    "  AND NOT EXISTS (SELECT 1 FROM src WHERE src.name = c.name AND src.version = c.version)"
    "  AND NOT EXISTS (SELECT 1 FROM installed_plugins i WHERE i.catalog_plugin_id = c.id)"
    "  RETURNING c.name || '@' || c.version AS nv),"
    " repo AS (UPDATE catalog_repositories SET etag = $2, status = 'ok', last_error = $4,"
    "  last_synced_at = NOW(), sync_lease_until = NULL,"
    "  plugin_count = (SELECT count(DISTINCT name) FROM src) WHERE id = $1::int RETURNING id)"
    " SELECT json_build_object("
    "  'added', COALESCE((SELECT json_agg(nv ORDER BY nv) FROM up WHERE inserted), '[]'),"
    "  'updated', COALESCE((SELECT json_agg(nv ORDER BY nv) FROM up WHERE NOT inserted), '[]'),"
    "  'removed', COALESCE((SELECT json_agg(nv ORDER BY nv) FROM del), '[]'))::text"
    " FROM repo";

static const char entries_sql[] =
    "SELECT COALESCE(json_agg(json_build_object('entry', c.entry, 'url', c.download_url,"
    " 'repo', r.url) ORDER BY c.id), '[]')::text"
    " FROM catalog_plugins c JOIN catalog_repositories r ON r.id = c.repository_id"
    " WHERE r.type = 'remote' AND r.enabled AND c.name = $1 AND c.entry IS NOT NULL";

static const char unchanged_sql[] =
    "UPDATE catalog_repositories SET status = 'ok', last_error = NULL, last_synced_at = NOW(),"
    " sync_lease_until = NULL WHERE id = $1::int"
    " RETURNING json_build_object('added', '[]'::json, 'updated', '[]'::json,"
    " 'removed', '[]'::json)::text";

static const char failed_sql[] =
    "UPDATE catalog_repositories SET status = 'error', last_error = $2, sync_lease_until = NULL"
    " WHERE id = $1::int RETURNING json_build_object('id', id)::text";

int repo_store_list(struct db *db, repo_store_fn fn, void *arg)
{
	return catalog_store_json(db, list_sql, 0, NULL, fn, arg);
}

int repo_store_add(struct db *db, const char *name, const char *url, bool enabled, repo_store_fn fn,
		   void *arg)
{
	const char *params[3] = {name, url, enabled ? "true" : "false"};

	return catalog_store_json(db, add_sql, 3, params, fn, arg);
}

int repo_store_ensure(struct db *db, const char *name, const char *url, repo_store_fn fn, void *arg)
{
	const char *params[2] = {name, url};

	return catalog_store_json(db, ensure_sql, 2, params, fn, arg);
}

int repo_store_delete(struct db *db, const char *id, repo_store_fn fn, void *arg)
{
	const char *params[1] = {id};

	return catalog_store_json(db, delete_sql, 1, params, fn, arg);
}

int repo_store_claim(struct db *db, const char *id, int lease_s, repo_store_fn fn, void *arg)
{
	char s[16];
	const char *params[2] = {id, s};

	snprintf(s, sizeof s, "%d", lease_s);
	return catalog_store_json(db, claim_sql, 2, params, fn, arg);
}

int repo_store_apply(struct db *db, const char *id, const char *etag, const char *entries,
		     const char *problems, repo_store_fn fn, void *arg)
{
	const char *params[4] = {id, etag, entries, problems};

	return catalog_store_json(db, apply_sql, 4, params, fn, arg);
}

int repo_store_entries(struct db *db, const char *name, repo_store_fn fn, void *arg)
{
	const char *params[1] = {name};

	return catalog_store_json(db, entries_sql, 1, params, fn, arg);
}

int repo_store_unchanged(struct db *db, const char *id, repo_store_fn fn, void *arg)
{
	const char *params[1] = {id};

	return catalog_store_json(db, unchanged_sql, 1, params, fn, arg);
}

int repo_store_failed(struct db *db, const char *id, const char *why, repo_store_fn fn, void *arg)
{
	const char *params[2] = {id, why};

	return catalog_store_json(db, failed_sql, 2, params, fn, arg);
}
