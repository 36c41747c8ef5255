/*
 * Message helpers shared by the daemon, the plugin host and the tests: the
 * table of message types with their direction, and typed field accessors that
 * refuse a field of the wrong type instead of coercing it.
 */
#ifndef SS_MSG_H
#define SS_MSG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol and SDK ABI versions this tree speaks (PROTOCOL.md, "Versions"). */
#define SS_PROTOCOL_VERSION 4
#define SS_PROTOCOL_MIN 1
#define SS_PROTOCOL_MAX 4

enum msg_type {
	MSG_UNKNOWN = 0,
	/* host -> daemon */
	MSG_HELLO,
	MSG_READY,
	MSG_FAIL,
	MSG_LOG,
	MSG_EMIT,
	MSG_SUBSCRIBE,
	MSG_STORAGE_GET,
	MSG_STORAGE_SET,
	MSG_STORAGE_DELETE,
	MSG_STORAGE_LIST,
	MSG_EGRESS_REQUEST,
	MSG_ROUTE_ADD, /* protocol 3 */
	MSG_JOB_ADD,   /* protocol 3 */
	MSG_PONG,
	MSG_ACK, /* protocol 4 */
	/* daemon -> host */
	MSG_INIT,
	MSG_REJECT,
	MSG_EVENT,
	MSG_HTTP_REQUEST,
	MSG_CONFIG,
	MSG_PING,
	MSG_SHUTDOWN,
	MSG_JOB, /* protocol 3 */
	/* both directions */
	MSG_REPLY,
	MSG_TYPE_COUNT
};

enum msg_dir { MSG_FROM_HOST = 1, MSG_FROM_DAEMON = 2, MSG_BOTH = 3 };

/* Error codes carried in "error": {"code", "message"} (PROTOCOL.md, "Errors"). */
#define ERR_BAD_FRAME "bad_frame"
#define ERR_BAD_MESSAGE "bad_message"
#define ERR_UNKNOWN_TYPE "unknown_type"
#define ERR_OUT_OF_STATE "out_of_state"
#define ERR_VERSION "version_mismatch"
#define ERR_PERMISSION "permission_denied"
#define ERR_HANDLER "handler_failed"
#define ERR_UNIMPLEMENTED "unimplemented"
#define ERR_TIMEOUT "timeout"
#define ERR_TOO_LARGE "too_large"
#define ERR_LOAD "load_failed"
/* Answers to a host's calls (protocol 2): the request was well formed, the call failed. */
#define ERR_BAD_REQUEST "bad_request"
#define ERR_NOT_FOUND "not_found"
#define ERR_CONFLICT "conflict"
#define ERR_QUOTA "quota_exceeded"
#define ERR_RATE "rate_limited"
#define ERR_UNAVAILABLE "unavailable"
#define ERR_INTERNAL "internal"

/* The type of m from its "t" field; MSG_UNKNOWN if absent, not a string or unknown. */
enum msg_type msg_type_of(json_object *m);
const char *msg_type_name(enum msg_type t);
/* Which side may send t. */
enum msg_dir msg_type_dir(enum msg_type t);

/* A new message object {"t": name}. */
json_object *msg_new(enum msg_type t);
/* A new message {"t": name, "id": id}. */
json_object *msg_new_request(enum msg_type t, int64_t id);
/* {"t":"reply","id":id,"ok":true} */
json_object *msg_reply_ok(int64_t id);
/* {"t":"reply","id":id,"error":{"code":code,"message":message}} */
json_object *msg_reply_error(int64_t id, const char *code, const char *message);
/* {"code":code,"message":message} */
json_object *msg_error_obj(const char *code, const char *message);

/*
 * A cumulative acknowledgement (protocol 4): {"t":"ack","n":N,"id":LAST}
 * says the N oldest events in flight were handled, the last of them LAST.
 * msg_ack_encode writes that frame body into buf (no json-c, it is on every
 * turn of a host's loop) and returns its length, or 0 when cap is too small.
 * msg_ack_get reads it: false unless n is an integer from 1 to
 * MSG_ACK_N_MAX and id an integer (the caller checks them against what is
 * in flight).
 */
#define MSG_ACK_N_MAX 65536
#define MSG_ACK_TEXT_MAX 64
size_t msg_ack_encode(char *buf, size_t cap, int64_t n, int64_t id);
bool msg_ack_get(json_object *m, int64_t *n, int64_t *id);

/* Typed getters: false when the field is missing or of another type. */
bool msg_get_int(json_object *m, const char *key, int64_t *out);
bool msg_get_bool(json_object *m, const char *key, bool *out);
/* Borrowed string, NULL when missing, not a string, or holding a NUL byte. */
const char *msg_get_str(json_object *m, const char *key);
/* Borrowed object / array, NULL when missing or of another type. */
json_object *msg_get_obj(json_object *m, const char *key);
json_object *msg_get_array(json_object *m, const char *key);

/* Adds key -> string / int / bool to m (helpers to keep call sites short). */
void msg_add_str(json_object *m, const char *key, const char *value);
void msg_add_int(json_object *m, const char *key, int64_t value);
void msg_add_bool(json_object *m, const char *key, bool value);

#endif
