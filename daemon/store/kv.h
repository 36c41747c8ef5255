/*
 * Plugin storage in PostgreSQL (table plugin_storage, migration 0003): the
 * statements of PROTOCOL.md, "Storage", each parameterised and each bound to
 * one plugin's name, which the caller takes from the peer the request came
 * on. Every call is asynchronous (db_query) and answers once through its
 * done callback. Quota, compare and write are one call of ss_storage_set().
 */
#ifndef SS_KV_H
#define SS_KV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct kv;

#define KV_KEY_MAX 256		   /* bytes */
#define KV_VALUE_MAX (1024 * 1024) /* bytes, serialised */
#define KV_LIST_MAX 1000	   /* keys per page */

struct kv_limits {
	int64_t max_keys;  /* live keys per plugin (--storage-max-keys) */
	int64_t max_bytes; /* key + value bytes per plugin (--storage-max-bytes) */
};

enum kv_status {
	KV_OK,
	KV_NOT_FOUND,
	KV_CONFLICT,
	KV_QUOTA_KEYS,
	KV_QUOTA_BYTES,
	KV_DOWN,  /* no database connection now */
	KV_ERROR, /* the statement failed: err says why */
};

/* What a call found. Everything is borrowed for the callback. */
struct kv_result {
	enum kv_status status;
	const char *value; /* get: the value as JSON text */
	int64_t count;	   /* delete: rows deleted (live ones); sweep: rows deleted */
	json_object *keys; /* list: array of strings */
	const char *next;  /* list: cursor of the next page, NULL on the last */
	const char *err;   /* KV_ERROR / KV_DOWN: a sentence */
};

typedef void (*kv_done_fn)(void *arg, const struct kv_result *r);

enum kv_cas { KV_CAS_NONE = 0, KV_CAS_EXPECT = 1, KV_CAS_ABSENT = 2 };

struct kv *kv_new(struct db *db, const struct kv_limits *limits);
void kv_free(struct kv *kv);

/*
 * 0 when key is a valid storage key (1..KV_KEY_MAX bytes, valid UTF-8, no
 * NUL: the caller passes its length, so an embedded NUL is seen), else -1
 * with why in a sentence.
 */
int kv_key_check(const char *key, size_t len, char *why, size_t whylen);

/*
 * The calls. Each returns 0 and calls done later, exactly once; or -1 without
 * calling it when no database connection is up (answer unavailable).
 * Strings are copied.
 */
int kv_get(struct kv *kv, const char *plugin, const char *key, kv_done_fn done, void *arg);
/* value: JSON text; ttl_ms 0 for none; expect: JSON text for KV_CAS_EXPECT. */
int kv_set(struct kv *kv, const char *plugin, const char *key, const char *value, int64_t ttl_ms,
	   enum kv_cas cas, const char *expect, kv_done_fn done, void *arg);
/* key NULL: every key of the plugin. */
int kv_delete(struct kv *kv, const char *plugin, const char *key, kv_done_fn done, void *arg);
/* The keys after cursor (NULL: from the start) that start with prefix, at most limit. */
int kv_list(struct kv *kv, const char *plugin, const char *prefix, const char *cursor, int limit,
	    kv_done_fn done, void *arg);
/* Deletes every expired row (all plugins). */
int kv_sweep(struct kv *kv, kv_done_fn done, void *arg);

#endif
