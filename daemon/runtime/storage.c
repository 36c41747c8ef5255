/*
 * Storage calls: check the request's fields (every rule of PROTOCOL.md,
 * "Storage", is here or in kv.c: the host checks nothing), run one kv
 * statement, answer. The plugin is call_plugin(), the peer's name,
 * never a field of the message.
 */
#include "storage.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

struct storage {
	struct event_base *base;
	int sweep_ms;
	struct kv *kv; /* NULL: no database */
	struct event *sweep;
	bool sweeping;
};

/* A string field's bytes and length (json-c keeps embedded NULs), or NULL. */
static const char *field_str(json_object *m, const char *key, size_t *len)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(m, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* The request's key, checked; NULL after answering bad_request. */
static const char *request_key(struct call *call, json_object *m)
{
	char why[128];
	size_t len = 0;
	const char *key = field_str(m, "key", &len);

	if (key == NULL) {
		call_error(call, ERR_BAD_REQUEST, "key: a string is required");
		return NULL;
	}
	if (kv_key_check(key, len, why, sizeof why) < 0) {
		call_error(call, ERR_BAD_REQUEST, "%s", why);
		return NULL;
	}
	return key;
}

/*
 * What the database said, as the call's answer: ok with fields (consumed,
 * may be NULL; the status a call kind expects is ok), else the error.
 */
static void answer(struct call *call, const struct kv_result *r, json_object *fields)
{
	if (r->status != KV_OK)
		json_object_put(fields);
	switch (r->status) {
	case KV_OK:
		call_ok(call, fields);
		break;
	case KV_NOT_FOUND:
		call_error(call, ERR_NOT_FOUND, "no such key");
		break;
	case KV_CONFLICT:
		call_error(call, ERR_CONFLICT, "the current value is not the expected one");
		break;
	case KV_QUOTA_KEYS:
		call_error(call, ERR_QUOTA, "the plugin's storage holds its maximum of keys");
		break;
	case KV_QUOTA_BYTES:
		call_error(call, ERR_QUOTA, "the plugin's storage would pass its byte quota");
		break;
	case KV_DOWN:
		call_error(call, ERR_UNAVAILABLE, "the database is unreachable: %s", r->err);
		break;
	case KV_ERROR:
		log_warn(call_plugin(call), "%s", r->err);
		call_error(call, ERR_INTERNAL, "%s", r->err);
		break;
	}
}

static void get_done(void *arg, const struct kv_result *r)
{
	struct call *call = arg;
	json_object *fields, *v = NULL;

	if (r->status != KV_OK) {
		answer(call, r, NULL);
		return;
	}
	char err[160] = "";
	/* The one reader and depth limit every stored document is read with. */
	v = json_read(r->value, strlen(r->value), JSON_MAX_DEPTH, err, sizeof err);
	if (v == NULL && err[0] != '\0') {
		call_error(call, ERR_INTERNAL, "the stored value does not parse: %s", err);
		return;
	}
	fields = json_object_new_object();
	json_object_object_add(fields, "value", v);
	call_ok(call, fields);
}

static void delete_done(void *arg, const struct kv_result *r)
{
	json_object *fields = json_object_new_object();

	msg_add_int(fields, "deleted", r->count);
	answer(arg, r, fields);
}

static void list_done(void *arg, const struct kv_result *r)
{
	json_object *fields = json_object_new_object();

	json_object_object_add(fields, "keys", json_object_get(r->keys));
	json_object_object_add(fields, "next", r->next ? json_object_new_string(r->next) : NULL);
	answer(arg, r, fields);
}

static void set_done(void *arg, const struct kv_result *r)
{
	answer(arg, r, NULL);
}

static int do_get(struct storage *st, struct call *call, json_object *m)
{
	const char *key = request_key(call, m);
	return key == NULL ? 0 : kv_get(st->kv, call_plugin(call), key, get_done, call);
}

static int do_set(struct storage *st, struct call *call, json_object *m)
{
	const char *key = request_key(call, m);
	json_object *value = NULL, *expect = NULL, *ttl = NULL, *absent = NULL;
	enum kv_cas cas = KV_CAS_NONE;
	const char *text, *expect_text = NULL;
	int64_t ttl_ms = 0;
	size_t len;

	if (key == NULL)
		return 0;
	if (!json_object_object_get_ex(m, "value", &value)) {
		call_error(call, ERR_BAD_REQUEST, "value is required");
		return 0;
	}
	if (json_object_object_get_ex(m, "ttl_ms", &ttl) &&
	    (!msg_get_int(m, "ttl_ms", &ttl_ms) || ttl_ms <= 0)) {
		call_error(call, ERR_BAD_REQUEST, "ttl_ms must be an integer > 0");
		return 0;
	}
	if (json_object_object_get_ex(m, "absent", &absent)) {
		bool b = false;
		if (!msg_get_bool(m, "absent", &b) || !b) {
			call_error(call, ERR_BAD_REQUEST, "absent must be true when present");
			return 0;
		}
		cas = KV_CAS_ABSENT;
	}
	if (json_object_object_get_ex(m, "expect", &expect)) {
		if (cas == KV_CAS_ABSENT) {
			call_error(call, ERR_BAD_REQUEST, "expect and absent together");
			return 0;
		}
		cas = KV_CAS_EXPECT;
		expect_text = json_object_to_json_string_ext(expect, JSON_C_TO_STRING_PLAIN);
	}
	text = json_object_to_json_string_length(value, JSON_C_TO_STRING_PLAIN, &len);
	if (len > KV_VALUE_MAX) {
		call_error(call, ERR_TOO_LARGE, "value is %zu bytes serialised, at most %d", len,
			   KV_VALUE_MAX);
		return 0;
	}
	return kv_set(st->kv, call_plugin(call), key, text, ttl_ms, cas, expect_text, set_done,
		      call);
}

static int do_delete(struct storage *st, struct call *call, json_object *m)
{
	json_object *all = NULL;
	const char *key;
	bool b = false;

	if (json_object_object_get_ex(m, "all", &all)) {
		if (!msg_get_bool(m, "all", &b) || !b ||
		    json_object_object_get_ex(m, "key", NULL)) {
			call_error(call, ERR_BAD_REQUEST, "all must be true, without key");
			return 0;
		}
		return kv_delete(st->kv, call_plugin(call), NULL, delete_done, call);
	}
	key = request_key(call, m);
	return key == NULL ? 0 : kv_delete(st->kv, call_plugin(call), key, delete_done, call);
}

static int do_list(struct storage *st, struct call *call, json_object *m)
{
	const char *prefix, *cursor = NULL;
	char why[128];
	size_t plen = 0, clen = 0;
	int64_t limit = 0;

	prefix = field_str(m, "prefix", &plen);
	if (prefix == NULL) {
		call_error(call, ERR_BAD_REQUEST, "prefix: a string is required");
		return 0;
	}
	/* A prefix is a key's beginning: the same rules, but it may be empty. */
	if (plen > 0 && kv_key_check(prefix, plen, why, sizeof why) < 0) {
		call_error(call, ERR_BAD_REQUEST, "prefix: %s", why);
		return 0;
	}
	if (!msg_get_int(m, "limit", &limit) || limit < 1 || limit > KV_LIST_MAX) {
		call_error(call, ERR_BAD_REQUEST, "limit must be an integer from 1 to %d",
			   KV_LIST_MAX);
		return 0;
	}
	if (json_object_object_get_ex(m, "cursor", NULL)) {
		cursor = field_str(m, "cursor", &clen);
		if (cursor == NULL || kv_key_check(cursor, clen, why, sizeof why) < 0) {
			call_error(call, ERR_BAD_REQUEST, "cursor: not a cursor of this API");
			return 0;
		}
	}
	return kv_list(st->kv, call_plugin(call), prefix, cursor, (int)limit, list_done, call);
}

void storage_call(void *arg, struct call *call, json_object *m)
{
	struct storage *st = arg;

	if (st->kv == NULL) {
		call_error(call, ERR_UNAVAILABLE,
			   "storage needs a database: this daemon runs without --database");
		return;
	}
	int r;
	switch (call_type(call)) {
	case MSG_STORAGE_GET:
		r = do_get(st, call, m);
		break;
	case MSG_STORAGE_SET:
		r = do_set(st, call, m);
		break;
	case MSG_STORAGE_DELETE:
		r = do_delete(st, call, m);
		break;
	case MSG_STORAGE_LIST:
		r = do_list(st, call, m);
		break;
	default:
		fatal("storage_call: %s is not a storage call", msg_type_name(call_type(call)));
	}
	if (r < 0)
		call_error(call, ERR_UNAVAILABLE, "the database is unreachable");
}

static void sweep_done(void *arg, const struct kv_result *r)
{
	struct storage *st = arg;

	st->sweeping = false;
	if (r->status == KV_OK && r->count > 0)
		log_debug("storage", "swept %lld expired keys", (long long)r->count);
	else if (r->status == KV_ERROR)
		log_warn("storage", "sweep: %s", r->err);
}

/* One sweep at a time; a database that is down is tried at the next tick. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct storage *st = arg;

	if (st->sweeping)
		return;
	if (kv_sweep(st->kv, sweep_done, st) == 0)
		st->sweeping = true;
}

struct storage *storage_new(struct event_base *base, int sweep_ms)
{
	struct storage *st = xcalloc(1, sizeof *st);

	st->base = base;
	st->sweep_ms = sweep_ms;
	return st;
}

void storage_attach(struct storage *st, struct kv *kv)
{
	struct timeval tv = clock_tv(st->sweep_ms);

	st->kv = kv;
	st->sweep = event_new(st->base, -1, EV_PERSIST, sweep_cb, st);
	if (st->sweep == NULL)
		fatal("storage_attach: out of memory");
	evtimer_add(st->sweep, &tv);
}

void storage_free(struct storage *st)
{
	if (st == NULL)
		return;
	if (st->sweep != NULL)
		event_free(st->sweep);
	free(st);
}
