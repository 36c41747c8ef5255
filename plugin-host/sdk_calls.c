/*
 * The SDK's calls to the daemon (plugin.h, "calls to the daemon"): storage
 * and emit. Each builds one request of PROTOCOL.md, "Calls", and goes through
 * call_request. The daemon checks every argument (it is the only authority
 * on keys, sizes, quotas and permissions); the host refuses only what it
 * cannot put on the wire: a NULL pointer, or a string that is not UTF-8
 * (a frame must be valid UTF-8, and the daemon ends a host that sends one
 * that is not).
 */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "json.h"
#include "msg.h"
#include "utf8.h"

static bool valid_plugin(const ss_plugin *p)
{
	return p != NULL && sdk_is_plugin(p);
}

const char *ss_error_code(const ss_plugin *p)
{
	return valid_plugin(p) ? p->err_code : "";
}

const char *ss_error_message(const ss_plugin *p)
{
	return valid_plugin(p) ? p->err_msg : "";
}

/* Whether s can travel in a frame. */
static bool wire_str(const char *s)
{
	return utf8_valid((const unsigned char *)s, strlen(s));
}

/* A request of type t for key, or NULL with the error recorded. */
static json_object *key_request(ss_plugin *p, enum msg_type t, const char *key)
{
	json_object *m;

	if (key == NULL || !wire_str(key)) {
		call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST, "%s: key is %s", msg_type_name(t),
			  key ? "not valid UTF-8" : "NULL");
		return NULL;
	}
	m = msg_new(t);
	msg_add_str(m, "key", key);
	return m;
}

/* Sends m and drops the reply: for calls whose answer is only ok or an error. */
static int call_plain(ss_plugin *p, json_object *m)
{
	json_object *reply = NULL;
	int r = call_request(p, m, &reply);

	json_object_put(reply);
	return r;
}

/*
 * Whether v can go in a request the daemon will read (json_read: finite
 * numbers, UTF-8, one level under the frame's depth limit); a value that
 * cannot is the plugin's error, not a frame that ends its host.
 */
static bool sendable(ss_plugin *p, const char *what, json_object *v, int flags)
{
	char why[160];

	if (json_check(v, JSON_MAX_DEPTH - 1, flags, why, sizeof why) == 0)
		return true;
	call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST, "%s: %s", what, why);
	return false;
}

/* A copy of a borrowed value, so the plugin's object is never linked into ours. */
static json_object *copy_value(json_object *v)
{
	json_object *c = NULL;

	if (v == NULL)
		return NULL;
	if (json_object_deep_copy(v, &c, NULL) != 0)
		return NULL;
	return c;
}

int ss_storage_get(ss_plugin *p, const char *key, json_object **value)
{
	json_object *m, *reply = NULL, *v = NULL;
	int r;

	if (!valid_plugin(p) || value == NULL)
		return SS_ERR_INVALID;
	*value = NULL;
	if ((m = key_request(p, MSG_STORAGE_GET, key)) == NULL)
		return SS_ERR_INVALID;
	r = call_request(p, m, &reply);
	if (r != SS_OK)
		return r;
	if (!json_object_object_get_ex(reply, "value", &v))
		host_protocol_error(ERR_BAD_MESSAGE, "storage.get reply without value", reply);
	*value = json_object_get(v);
	json_object_put(reply);
	return SS_OK;
}

/* storage.set with its optional parts: ttl_ms > 0, and a compare (cas). */
static int storage_set(ss_plugin *p, const char *key, json_object *value, int64_t ttl_ms, bool cas,
		       json_object *expected)
{
	json_object *m;

	if (!valid_plugin(p))
		return SS_ERR_INVALID;
	/* json-c's NULL is JSON null, a value like any other. */
	if ((value != NULL && !sendable(p, "storage.set: value", value, JSON_CHECK_NO_NUL)) ||
	    (cas && expected != NULL &&
	     !sendable(p, "storage.set: expected", expected, JSON_CHECK_NO_NUL)))
		return SS_ERR_INVALID;
	if ((m = key_request(p, MSG_STORAGE_SET, key)) == NULL)
		return SS_ERR_INVALID;
	json_object_object_add(m, "value", copy_value(value));
	if (ttl_ms != 0)
		msg_add_int(m, "ttl_ms", ttl_ms);
	if (cas && expected != NULL)
		json_object_object_add(m, "expect", copy_value(expected));
	else if (cas)
		msg_add_bool(m, "absent", true);
	return call_plain(p, m);
}

int ss_storage_set(ss_plugin *p, const char *key, json_object *value)
{
	return storage_set(p, key, value, 0, false, NULL);
}

int ss_storage_set_ttl(ss_plugin *p, const char *key, json_object *value, int64_t ttl_ms)
{
	if (valid_plugin(p) && ttl_ms <= 0)
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "storage.set: ttl_ms must be > 0");
	return storage_set(p, key, value, ttl_ms, false, NULL);
}

int ss_storage_cas(ss_plugin *p, const char *key, json_object *expected, json_object *value)
{
	return storage_set(p, key, value, 0, true, expected);
}

int ss_storage_delete(ss_plugin *p, const char *key)
{
	json_object *m;

	if (!valid_plugin(p))
		return SS_ERR_INVALID;
	if ((m = key_request(p, MSG_STORAGE_DELETE, key)) == NULL)
		return SS_ERR_INVALID;
	return call_plain(p, m);
}

int ss_storage_clear(ss_plugin *p, int64_t *deleted)
{
	json_object *m, *reply = NULL;
	int64_t n = 0;
	int r;

	if (!valid_plugin(p))
		return SS_ERR_INVALID;
	m = msg_new(MSG_STORAGE_DELETE);
	msg_add_bool(m, "all", true);
	r = call_request(p, m, &reply);
	if (r != SS_OK)
		return r;
	if (!msg_get_int(reply, "deleted", &n))
		host_protocol_error(ERR_BAD_MESSAGE, "storage.delete all reply without deleted",
				    reply);
	if (deleted != NULL)
		*deleted = n;
	json_object_put(reply);
	return SS_OK;
}

int ss_storage_list(ss_plugin *p, const char *prefix, const char *cursor, int limit,
		    json_object **page)
{
	json_object *m, *reply = NULL, *keys, *next = NULL, *out;
	int r;

	if (!valid_plugin(p) || page == NULL)
		return SS_ERR_INVALID;
	*page = NULL;
	if ((prefix != NULL && !wire_str(prefix)) || (cursor != NULL && !wire_str(cursor)))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "storage.list: prefix or cursor is not valid UTF-8");
	m = msg_new(MSG_STORAGE_LIST);
	msg_add_str(m, "prefix", prefix != NULL ? prefix : "");
	if (cursor != NULL)
		msg_add_str(m, "cursor", cursor);
	msg_add_int(m, "limit", limit);
	r = call_request(p, m, &reply);
	if (r != SS_OK)
		return r;
	keys = msg_get_array(reply, "keys");
	if (keys == NULL || !json_object_object_get_ex(reply, "next", &next) ||
	    !(next == NULL || json_object_is_type(next, json_type_string)))
		host_protocol_error(ERR_BAD_MESSAGE, "storage.list reply without keys or next",
				    reply);
	out = json_object_new_object();
	json_object_object_add(out, "keys", json_object_get(keys));
	json_object_object_add(out, "next", json_object_get(next));
	json_object_put(reply);
	*page = out;
	return SS_OK;
}

int ss_emit(ss_plugin *p, const char *event, json_object *data)
{
	json_object *m;

	if (!valid_plugin(p))
		return SS_ERR_INVALID;
	if (event == NULL || !wire_str(event))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST, "emit: event is %s",
				 event ? "not valid UTF-8" : "NULL");
	if (data != NULL && !json_object_is_type(data, json_type_object))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "emit: data must be an object");
	if (data != NULL && !sendable(p, "emit: data", data, 0))
		return SS_ERR_INVALID;
	m = msg_new(MSG_EMIT);
	msg_add_str(m, "event", event);
	json_object_object_add(m, "data", data ? copy_value(data) : json_object_new_object());
	return call_plain(p, m);
}

void ss_http_response_free(ss_http_response *res)
{
	if (res == NULL)
		return;
	json_object_put(res->headers);
	free(res->body);
	memset(res, 0, sizeof *res);
}

int ss_http_request(ss_plugin *p, const char *method, const char *url, json_object *headers,
		    const char *body, ss_http_response *res)
{
	return ss_http_request_opt(p, method, url, headers, body, NULL, res);
}

int ss_http_request_opt(ss_plugin *p, const char *method, const char *url, json_object *headers,
			const char *body, const ss_http_options *opt, ss_http_response *res)
{
	json_object *m, *reply = NULL, *h = NULL, *b = NULL;
	int64_t status = 0;
	int r;

	if (res != NULL)
		memset(res, 0, sizeof *res);
	if (!valid_plugin(p) || res == NULL)
		return SS_ERR_INVALID;
	if (url == NULL || !wire_str(url) || (method != NULL && !wire_str(method)) ||
	    (body != NULL && !wire_str(body)) ||
	    (opt != NULL && opt->ca_pem != NULL && !wire_str(opt->ca_pem)))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "egress.request: url is NULL, or a string is not valid UTF-8");
	if (opt != NULL && opt->timeout_ms < 0)
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "egress.request: timeout_ms is negative");
	if (headers != NULL && !json_object_is_type(headers, json_type_object))
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "egress.request: headers must be an object");
	if (headers != NULL && !sendable(p, "egress.request: headers", headers, JSON_CHECK_NO_NUL))
		return SS_ERR_INVALID;
	m = msg_new(MSG_EGRESS_REQUEST);
	msg_add_str(m, "method", method != NULL ? method : "GET");
	msg_add_str(m, "url", url);
	if (headers != NULL)
		json_object_object_add(m, "headers", copy_value(headers));
	if (body != NULL)
		msg_add_str(m, "body", body);
	if (opt != NULL && opt->ca_pem != NULL)
		msg_add_str(m, "ca", opt->ca_pem);
	if (opt != NULL && opt->timeout_ms > 0)
		msg_add_int(m, "timeout_ms", opt->timeout_ms);
	r = call_request(p, m, &reply);
	if (r != SS_OK)
		return r;
	if (!json_object_object_get_ex(reply, "headers", &h) ||
	    !json_object_is_type(h, json_type_object))
		h = NULL;
	if (!msg_get_int(reply, "status", &status) || h == NULL ||
	    !json_object_object_get_ex(reply, "body", &b) ||
	    !json_object_is_type(b, json_type_string))
		host_protocol_error(ERR_BAD_MESSAGE,
				    "egress.request reply without status, "
				    "headers or body",
				    reply);
	res->status = (int)status;
	res->headers = json_object_get(h);
	res->body_len = (size_t)json_object_get_string_len(b);
	res->body = malloc(res->body_len + 1);
	if (res->body == NULL) {
		json_object_put(reply);
		ss_http_response_free(res);
		return call_fail(p, SS_ERR_INTERNAL, ERR_INTERNAL, "out of memory");
	}
	memcpy(res->body, json_object_get_string(b), res->body_len + 1);
	json_object_put(reply);
	return SS_OK;
}
