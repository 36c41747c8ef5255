#include "msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum msg_dir dir;
} msg_types[MSG_TYPE_COUNT] = {
    [MSG_UNKNOWN] = {"", 0},
    [MSG_HELLO] = {"hello", MSG_FROM_HOST},
    [MSG_READY] = {"ready", MSG_FROM_HOST},
    [MSG_FAIL] = {"fail", MSG_FROM_HOST},
    [MSG_LOG] = {"log", MSG_FROM_HOST},
    [MSG_EMIT] = {"emit", MSG_FROM_HOST},
    [MSG_SUBSCRIBE] = {"subscribe", MSG_FROM_HOST},
    [MSG_STORAGE_GET] = {"storage.get", MSG_FROM_HOST},
    [MSG_STORAGE_SET] = {"storage.set", MSG_FROM_HOST},
    [MSG_STORAGE_DELETE] = {"storage.delete", MSG_FROM_HOST},
    [MSG_STORAGE_LIST] = {"storage.list", MSG_FROM_HOST},
    [MSG_EGRESS_REQUEST] = {"egress.request", MSG_FROM_HOST},
    [MSG_ROUTE_ADD] = {"route.add", MSG_FROM_HOST},
    [MSG_JOB_ADD] = {"job.add", MSG_FROM_HOST},
    [MSG_PONG] = {"pong", MSG_FROM_HOST},
    [MSG_ACK] = {"ack", MSG_FROM_HOST},
    [MSG_INIT] = {"init", MSG_FROM_DAEMON},
    [MSG_REJECT] = {"reject", MSG_FROM_DAEMON},
    [MSG_EVENT] = {"event", MSG_FROM_DAEMON},
    [MSG_HTTP_REQUEST] = {"http.request", MSG_FROM_DAEMON},
    [MSG_CONFIG] = {"config", MSG_FROM_DAEMON},
    [MSG_PING] = {"ping", MSG_FROM_DAEMON},
    [MSG_SHUTDOWN] = {"shutdown", MSG_FROM_DAEMON},
    [MSG_JOB] = {"job", MSG_FROM_DAEMON},
    [MSG_REPLY] = {"reply", MSG_BOTH},
};

enum msg_type msg_type_of(json_object *m)
{
	const char *t = msg_get_str(m, "t");
	if (t == NULL)
		return MSG_UNKNOWN;
	/* The first byte first: this runs for every frame, on both sides, more than once. */
	for (int i = 1; i < MSG_TYPE_COUNT; i++)
		if (t[0] == msg_types[i].name[0] && strcmp(t, msg_types[i].name) == 0)
			return (enum msg_type)i;
	return MSG_UNKNOWN;
}

const char *msg_type_name(enum msg_type t)
{
	if ((int)t <= 0 || t >= MSG_TYPE_COUNT)
		return "unknown";
	return msg_types[t].name;
}

enum msg_dir msg_type_dir(enum msg_type t)
{
	if ((int)t <= 0 || t >= MSG_TYPE_COUNT)
		return 0;
	return msg_types[t].dir;
}

json_object *msg_new(enum msg_type t)
{
	json_object *m = json_object_new_object();
	json_object_object_add(m, "t", json_object_new_string(msg_type_name(t)));
	return m;
}

json_object *msg_new_request(enum msg_type t, int64_t id)
{
	json_object *m = msg_new(t);
	json_object_object_add(m, "id", json_object_new_int64(id));
	return m;
}

json_object *msg_reply_ok(int64_t id)
{
	json_object *m = msg_new_request(MSG_REPLY, id);
	json_object_object_add(m, "ok", json_object_new_boolean(1));
	return m;
}

json_object *msg_error_obj(const char *code, const char *message)
{
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	return e;
}

json_object *msg_reply_error(int64_t id, const char *code, const char *message)
{
	json_object *m = msg_new_request(MSG_REPLY, id);
	json_object_object_add(m, "error", msg_error_obj(code, message));
	return m;
}

static json_object *get_typed(json_object *m, const char *key, json_type type)
{
	json_object *v = NULL;
	if (m == NULL || !json_object_object_get_ex(m, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

bool msg_get_int(json_object *m, const char *key, int64_t *out)
{
	json_object *v = get_typed(m, key, json_type_int);
	if (v == NULL)
		return false;
	*out = json_object_get_int64(v);
	return true;
}

bool msg_get_bool(json_object *m, const char *key, bool *out)
{
	json_object *v = get_typed(m, key, json_type_boolean);
	if (v == NULL)
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

const char *msg_get_str(json_object *m, const char *key)
{
	json_object *v = get_typed(m, key, json_type_string);
	const char *s;

	if (v == NULL)
		return NULL;
	/* A "\u0000" inside would make every C-string check see only its head. */
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

json_object *msg_get_obj(json_object *m, const char *key)
{
	return get_typed(m, key, json_type_object);
}

json_object *msg_get_array(json_object *m, const char *key)
{
	return get_typed(m, key, json_type_array);
}

void msg_add_str(json_object *m, const char *key, const char *value)
{
	json_object_object_add(m, key, json_object_new_string(value ? value : ""));
}

void msg_add_int(json_object *m, const char *key, int64_t value)
{
	json_object_object_add(m, key, json_object_new_int64(value));
}

void msg_add_bool(json_object *m, const char *key, bool value)
{
	json_object_object_add(m, key, json_object_new_boolean(value));
}

size_t msg_ack_encode(char *buf, size_t cap, int64_t n, int64_t id)
{
	int len = snprintf(buf, cap, "{\"t\":\"ack\",\"n\":%" PRId64 ",\"id\":%" PRId64 "}", n, id);

	return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

bool msg_ack_get(json_object *m, int64_t *n, int64_t *id)
{
	return msg_type_of(m) == MSG_ACK && msg_get_int(m, "n", n) && msg_get_int(m, "id", id) &&
	       *n >= 1 && *n <= MSG_ACK_N_MAX;
}
