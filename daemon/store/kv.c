/*
 * Plugin storage statements. Every one filters on plugin_name = $1, which the
 * caller binds from the peer; no statement takes a plugin's name from
 * anything a plugin sent. Listing compares keys COLLATE "C" (byte order,
 * the index of migration 0003). Deletes lock the plugin's usage row first,
 * as ss_storage_set() and ss_storage_sweep() do, so none can deadlock
 * another.
 */
#include "kv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "utf8.h"
#include "xmalloc.h"

#define LIVE "(expires_at IS NULL OR expires_at > now())"

static const char get_sql[] = "SELECT value::text FROM plugin_storage"
			      " WHERE plugin_name = $1 AND key = $2 AND " LIVE;

static const char set_sql[] =
    "SELECT ss_storage_set($1, $2, $3::jsonb, $4::bigint, $5::integer, $6::jsonb,"
    " $7::bigint, $8::bigint)";

/* How many live rows went (an expired one is gone, but was not there to delete). */
static const char delete_sql[] =
    "WITH l AS (SELECT 1 FROM plugin_storage_usage WHERE plugin_name = $1 FOR UPDATE),"
    " d AS (DELETE FROM plugin_storage WHERE plugin_name = $1 AND key = $2"
    "  AND EXISTS (SELECT 1 FROM l) RETURNING expires_at)"
    " SELECT count(*) FILTER (WHERE " LIVE ") FROM d";

static const char delete_all_sql[] =
    "WITH l AS (SELECT 1 FROM plugin_storage_usage WHERE plugin_name = $1 FOR UPDATE),"
    " d AS (DELETE FROM plugin_storage WHERE plugin_name = $1"
    "  AND EXISTS (SELECT 1 FROM l) RETURNING expires_at)"
    " SELECT count(*) FILTER (WHERE " LIVE ") FROM d";

/* One more than the page, to know whether another follows. */
static const char list_sql[] =
    "SELECT key FROM plugin_storage WHERE plugin_name = $1"
    " AND key COLLATE \"C\" >= $2 AND ($3::text IS NULL OR key COLLATE \"C\" > $3)"
    " AND starts_with(key, $2) AND " LIVE " ORDER BY key COLLATE \"C\" LIMIT $4::integer + 1";

static const char sweep_sql[] = "SELECT ss_storage_sweep()";

struct kv {
	struct db *db;
	struct kv_limits limits;
};

enum op_kind { OP_GET, OP_SET, OP_DELETE, OP_DELETE_ALL, OP_LIST, OP_SWEEP };

/* One statement in flight. */
struct op {
	enum op_kind kind;
	int limit; /* list */
	kv_done_fn done;
	void *arg;
};

struct kv *kv_new(struct db *db, const struct kv_limits *limits)
{
	struct kv *kv = xcalloc(1, sizeof *kv);

	kv->db = db;
	kv->limits = *limits;
	return kv;
}

void kv_free(struct kv *kv)
{
	free(kv);
}

int kv_key_check(const char *key, size_t len, char *why, size_t whylen)
{
	if (len == 0) {
		snprintf(why, whylen, "key is empty");
		return -1;
	}
	if (len > KV_KEY_MAX) {
		snprintf(why, whylen, "key is %zu bytes, at most %d", len, KV_KEY_MAX);
		return -1;
	}
	if (memchr(key, '\0', len) != NULL) {
		snprintf(why, whylen, "key holds a NUL byte");
		return -1;
	}
	if (!utf8_valid((const unsigned char *)key, len)) {
		snprintf(why, whylen, "key is not valid UTF-8");
		return -1;
	}
	return 0;
}

/* The statement's answer, decoded by the kind of call. */
static void op_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct op *op = arg;
	struct kv_result r = {.status = KV_OK};
	char line[512];
	int n;

	if (st == DB_DOWN) {
		r.status = KV_DOWN;
		r.err = err ? err : "the database is down";
		goto out;
	}
	if (st != DB_OK) {
		db_error_line(line, sizeof line, "storage", err ? err : "");
		r.status = KV_ERROR;
		r.err = line;
		goto out;
	}
	n = PQntuples(res);
	switch (op->kind) {
	case OP_GET:
		if (n == 0)
			r.status = KV_NOT_FOUND;
		else
			r.value = PQgetvalue(res, 0, 0);
		break;
	case OP_SET: {
		const char *s = n == 1 ? PQgetvalue(res, 0, 0) : "";
		if (strcmp(s, "ok") == 0)
			r.status = KV_OK;
		else if (strcmp(s, "conflict") == 0)
			r.status = KV_CONFLICT;
		else if (strcmp(s, "quota_keys") == 0)
			r.status = KV_QUOTA_KEYS;
		else if (strcmp(s, "quota_bytes") == 0)
			r.status = KV_QUOTA_BYTES;
		else {
			r.status = KV_ERROR;
			r.err = "storage: ss_storage_set() answered something unknown";
		}
		break;
	}
	case OP_DELETE:
	case OP_DELETE_ALL:
	case OP_SWEEP:
		r.count = n == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		if (op->kind == OP_DELETE && r.count == 0)
			r.status = KV_NOT_FOUND;
		break;
	case OP_LIST:
		r.keys = json_object_new_array();
		for (int i = 0; i < n && i < op->limit; i++)
			json_object_array_add(r.keys,
					      json_object_new_string(PQgetvalue(res, i, 0)));
		if (n > op->limit)
			r.next = PQgetvalue(res, op->limit - 1, 0);
		break;
	}
out:
	op->done(op->arg, &r);
	json_object_put(r.keys);
	free(op);
}

static int run(struct kv *kv, enum op_kind kind, const char *sql, int nparams,
	       const char *const *params, kv_done_fn done, void *arg, int limit)
{
	struct op *op = xcalloc(1, sizeof *op);

	op->kind = kind;
	op->done = done;
	op->arg = arg;
	op->limit = limit;
	return db_query_ctx(kv->db, sql, nparams, params, op_done, op);
}

int kv_get(struct kv *kv, const char *plugin, const char *key, kv_done_fn done, void *arg)
{
	const char *params[] = {plugin, key};
	return run(kv, OP_GET, get_sql, 2, params, done, arg, 0);
}

int kv_set(struct kv *kv, const char *plugin, const char *key, const char *value, int64_t ttl_ms,
	   enum kv_cas cas, const char *expect, kv_done_fn done, void *arg)
{
	char ttl[24], mode[4], maxk[24], maxb[24];
	const char *params[] = {
	    plugin, key, value, ttl_ms > 0 ? ttl : NULL, mode, cas == KV_CAS_EXPECT ? expect : NULL,
	    maxk,   maxb};

	snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
	snprintf(mode, sizeof mode, "%d", (int)cas);
	snprintf(maxk, sizeof maxk, "%" PRId64, kv->limits.max_keys);
	snprintf(maxb, sizeof maxb, "%" PRId64, kv->limits.max_bytes);
	return run(kv, OP_SET, set_sql, 8, params, done, arg, 0);
}

int kv_delete(struct kv *kv, const char *plugin, const char *key, kv_done_fn done, void *arg)
{
	const char *params[] = {plugin, key};

	if (key == NULL)
		return run(kv, OP_DELETE_ALL, delete_all_sql, 1, params, done, arg, 0);
	return run(kv, OP_DELETE, delete_sql, 2, params, done, arg, 0);
}

int kv_list(struct kv *kv, const char *plugin, const char *prefix, const char *cursor, int limit,
	    kv_done_fn done, void *arg)
{
	char lim[16];
	const char *params[] = {plugin, prefix, cursor, lim};

	snprintf(lim, sizeof lim, "%d", limit);
	return run(kv, OP_LIST, list_sql, 4, params, done, arg, limit);
}

int kv_sweep(struct kv *kv, kv_done_fn done, void *arg)
{
	return run(kv, OP_SWEEP, sweep_sql, 0, NULL, done, arg, 0);
}
