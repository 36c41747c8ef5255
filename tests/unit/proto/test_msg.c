/*
 * Unit tests of proto/msg.c: every message type maps to its name and
 * direction and back, constructors build the shapes PROTOCOL.md gives, and the
 * typed getters refuse a field of the wrong type instead of coercing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "msg.h"

/* The wire name and sender of every type, from PROTOCOL.md. */
static const struct {
	enum msg_type type;
	const char *name;
	enum msg_dir dir;
} expected[] = {
    {MSG_HELLO, "hello", MSG_FROM_HOST},
    {MSG_READY, "ready", MSG_FROM_HOST},
    {MSG_FAIL, "fail", MSG_FROM_HOST},
    {MSG_LOG, "log", MSG_FROM_HOST},
    {MSG_EMIT, "emit", MSG_FROM_HOST},
    {MSG_SUBSCRIBE, "subscribe", MSG_FROM_HOST},
    {MSG_STORAGE_GET, "storage.get", MSG_FROM_HOST},
    {MSG_STORAGE_SET, "storage.set", MSG_FROM_HOST},
    {MSG_STORAGE_DELETE, "storage.delete", MSG_FROM_HOST},
    {MSG_STORAGE_LIST, "storage.list", MSG_FROM_HOST},
    {MSG_EGRESS_REQUEST, "egress.request", MSG_FROM_HOST},
    {MSG_ROUTE_ADD, "route.add", MSG_FROM_HOST},
    {MSG_JOB_ADD, "job.add", MSG_FROM_HOST},
    {MSG_PONG, "pong", MSG_FROM_HOST},
    {MSG_ACK, "ack", MSG_FROM_HOST},
    {MSG_INIT, "init", MSG_FROM_DAEMON},
    {MSG_REJECT, "reject", MSG_FROM_DAEMON},
    {MSG_EVENT, "event", MSG_FROM_DAEMON},
    {MSG_HTTP_REQUEST, "http.request", MSG_FROM_DAEMON},
    {MSG_CONFIG, "config", MSG_FROM_DAEMON},
    {MSG_PING, "ping", MSG_FROM_DAEMON},
    {MSG_SHUTDOWN, "shutdown", MSG_FROM_DAEMON},
    {MSG_JOB, "job", MSG_FROM_DAEMON},
    {MSG_REPLY, "reply", MSG_BOTH},
};

#define N_EXPECTED (sizeof expected / sizeof expected[0])

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);
	assert_non_null(o);
	return o;
}

static void test_every_type_named_and_directed(void **state)
{
	(void)state;
	/* The table covers every type the enum has. */
	assert_int_equal(N_EXPECTED, MSG_TYPE_COUNT - 1);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		json_object *m = msg_new(expected[i].type);
		assert_string_equal(msg_type_name(expected[i].type), expected[i].name);
		assert_int_equal(msg_type_dir(expected[i].type), expected[i].dir);
		assert_int_equal(msg_type_of(m), expected[i].type);
		assert_string_equal(msg_get_str(m, "t"), expected[i].name);
		assert_int_equal(json_object_object_length(m), 1);
		json_object_put(m);
	}
}

static void test_unknown_types(void **state)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"t\":null}",
	    "{\"t\":1}",
	    "{\"t\":true}",
	    "{\"t\":[\"hello\"]}",
	    "{\"t\":{\"hello\":1}}",
	    "{\"t\":\"\"}",
	    "{\"t\":\"HELLO\"}",
	    "{\"t\":\"hello \"}",
	    "{\"t\":\" hello\"}",
	    "{\"t\":\"hell\"}",
	    "{\"t\":\"helloo\"}",
	    "{\"t\":\"storage\"}",
	    "{\"t\":\"storage.\"}",
	    "{\"t\":\"unknown\"}",
	    "{\"t\":\"reply\\u0000x\"}",
	    "{\"type\":\"hello\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_object *m = parse(bad[i]);
		enum msg_type t = msg_type_of(m);
		json_object_put(m);
		if (t != MSG_UNKNOWN)
			fail_msg("%s was given type %s", bad[i], msg_type_name(t));
	}
	/* A NULL message or a non-object has no type either. */
	assert_int_equal(msg_type_of(NULL), MSG_UNKNOWN);
	{
		json_object *a = parse("[\"hello\"]");
		assert_int_equal(msg_type_of(a), MSG_UNKNOWN);
		json_object_put(a);
	}
}

static void test_out_of_range_names(void **state)
{
	(void)state;
	assert_string_equal(msg_type_name(MSG_UNKNOWN), "unknown");
	assert_string_equal(msg_type_name(MSG_TYPE_COUNT), "unknown");
	assert_string_equal(msg_type_name((enum msg_type) - 1), "unknown");
	assert_string_equal(msg_type_name((enum msg_type)1000), "unknown");
	assert_int_equal(msg_type_dir(MSG_UNKNOWN), 0);
	assert_int_equal(msg_type_dir(MSG_TYPE_COUNT), 0);
	assert_int_equal(msg_type_dir((enum msg_type) - 5), 0);
}

static void test_request_and_replies(void **state)
{
	json_object *m, *e;
	int64_t id = 0;
	bool ok = false;
	(void)state;

	m = msg_new_request(MSG_PING, 42);
	assert_int_equal(msg_type_of(m), MSG_PING);
	assert_true(msg_get_int(m, "id", &id));
	assert_int_equal(id, 42);
	json_object_put(m);

	/* Ids use the whole int64 range. */
	m = msg_new_request(MSG_EVENT, INT64_MAX);
	assert_true(msg_get_int(m, "id", &id));
	assert_true(id == INT64_MAX);
	json_object_put(m);

	m = msg_reply_ok(7);
	assert_string_equal(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
			    "{\"t\":\"reply\",\"id\":7,\"ok\":true}");
	assert_true(msg_get_bool(m, "ok", &ok));
	assert_true(ok);
	json_object_put(m);

	m = msg_reply_error(9, ERR_HANDLER, "it broke");
	assert_int_equal(msg_type_of(m), MSG_REPLY);
	assert_true(msg_get_int(m, "id", &id));
	assert_int_equal(id, 9);
	assert_null(json_object_object_get(m, "ok"));
	e = msg_get_obj(m, "error");
	assert_non_null(e);
	assert_string_equal(msg_get_str(e, "code"), "handler_failed");
	assert_string_equal(msg_get_str(e, "message"), "it broke");
	assert_int_equal(json_object_object_length(e), 2);
	json_object_put(m);

	/* A NULL message becomes "", never a missing field. */
	e = msg_error_obj(ERR_TIMEOUT, NULL);
	assert_string_equal(msg_get_str(e, "code"), "timeout");
	assert_string_equal(msg_get_str(e, "message"), "");
	json_object_put(e);
}

static void test_error_codes_match_protocol(void **state)
{
	(void)state;
	assert_string_equal(ERR_BAD_FRAME, "bad_frame");
	assert_string_equal(ERR_BAD_MESSAGE, "bad_message");
	assert_string_equal(ERR_UNKNOWN_TYPE, "unknown_type");
	assert_string_equal(ERR_OUT_OF_STATE, "out_of_state");
	assert_string_equal(ERR_VERSION, "version_mismatch");
	assert_string_equal(ERR_PERMISSION, "permission_denied");
	assert_string_equal(ERR_HANDLER, "handler_failed");
	assert_string_equal(ERR_UNIMPLEMENTED, "unimplemented");
	assert_string_equal(ERR_TIMEOUT, "timeout");
	assert_string_equal(ERR_TOO_LARGE, "too_large");
	assert_string_equal(ERR_LOAD, "load_failed");
	assert_true(SS_PROTOCOL_MIN <= SS_PROTOCOL_VERSION);
	assert_true(SS_PROTOCOL_VERSION <= SS_PROTOCOL_MAX);
}

static void test_getters_refuse_other_types(void **state)
{
	json_object *m = parse("{\"i\":5,\"neg\":-9223372036854775808,\"d\":5.0,\"s\":\"5\","
			       "\"b\":true,\"n\":null,\"o\":{\"x\":1},\"a\":[1],\"e\":\"\"}");
	int64_t i = 123;
	bool b = false;
	(void)state;

	assert_true(msg_get_int(m, "i", &i));
	assert_int_equal(i, 5);
	assert_true(msg_get_int(m, "neg", &i));
	assert_true(i == INT64_MIN);
	i = 123;
	/* No coercion: 5.0, "5", true, null and containers are not integers. */
	assert_false(msg_get_int(m, "d", &i));
	assert_false(msg_get_int(m, "s", &i));
	assert_false(msg_get_int(m, "b", &i));
	assert_false(msg_get_int(m, "n", &i));
	assert_false(msg_get_int(m, "o", &i));
	assert_false(msg_get_int(m, "a", &i));
	assert_false(msg_get_int(m, "missing", &i));
	assert_int_equal(i, 123); /* untouched on failure */

	assert_true(msg_get_bool(m, "b", &b));
	assert_true(b);
	b = false;
	assert_false(msg_get_bool(m, "i", &b));
	assert_false(msg_get_bool(m, "s", &b));
	assert_false(msg_get_bool(m, "n", &b));
	assert_false(b);

	assert_string_equal(msg_get_str(m, "s"), "5");
	assert_string_equal(msg_get_str(m, "e"), "");
	assert_null(msg_get_str(m, "i"));
	assert_null(msg_get_str(m, "n"));
	assert_null(msg_get_str(m, "o"));
	assert_null(msg_get_str(m, "missing"));

	assert_non_null(msg_get_obj(m, "o"));
	assert_null(msg_get_obj(m, "a"));
	assert_null(msg_get_obj(m, "n"));
	assert_null(msg_get_obj(m, "s"));
	assert_non_null(msg_get_array(m, "a"));
	assert_null(msg_get_array(m, "o"));
	assert_null(msg_get_array(m, "n"));

	/* NULL message: every getter says missing. */
	assert_false(msg_get_int(NULL, "i", &i));
	assert_false(msg_get_bool(NULL, "b", &b));
	assert_null(msg_get_str(NULL, "s"));
	assert_null(msg_get_obj(NULL, "o"));
	assert_null(msg_get_array(NULL, "a"));
	json_object_put(m);
}

/* A string holding a NUL is refused: C code would see only the part before it. */
static void test_str_with_nul_refused(void **state)
{
	json_object *m = parse("{\"t\":\"reply\\u0000x\",\"name\":\"echo\\u0000evil\","
			       "\"tail\":\"echo\\u0000\",\"ok\":\"\\u0001\"}");
	(void)state;
	assert_null(msg_get_str(m, "name"));
	assert_null(msg_get_str(m, "tail"));
	assert_int_equal(msg_type_of(m), MSG_UNKNOWN);
	/* Other control characters are ordinary string content. */
	assert_string_equal(msg_get_str(m, "ok"), "\x01");
	json_object_put(m);
}

static void test_getters_on_non_object(void **state)
{
	json_object *a = parse("[{\"i\":1}]");
	json_object *s = json_object_new_string("i");
	int64_t i = 0;
	(void)state;
	assert_false(msg_get_int(a, "i", &i));
	assert_null(msg_get_str(s, "i"));
	json_object_put(a);
	json_object_put(s);
}

static void test_adders(void **state)
{
	json_object *m = msg_new(MSG_LOG);
	int64_t i = 0;
	bool b = true;
	(void)state;
	msg_add_str(m, "msg", "hi");
	msg_add_str(m, "empty", NULL);
	msg_add_int(m, "n", -3);
	msg_add_bool(m, "f", false);
	assert_string_equal(msg_get_str(m, "msg"), "hi");
	assert_string_equal(msg_get_str(m, "empty"), "");
	assert_true(msg_get_int(m, "n", &i));
	assert_int_equal(i, -3);
	assert_true(msg_get_bool(m, "f", &b));
	assert_false(b);
	/* Adding a key again replaces it. */
	msg_add_int(m, "n", 4);
	assert_true(msg_get_int(m, "n", &i));
	assert_int_equal(i, 4);
	assert_int_equal(json_object_object_length(m), 5);
	json_object_put(m);
}

static void test_parsed_messages(void **state)
{
	/* Messages as they arrive off the wire. */
	json_object *m = parse("{\"t\":\"hello\",\"protocol\":1,\"sdk_abi\":1,"
			       "\"plugin\":{\"name\":\"echo\",\"version\":\"1.0\"},"
			       "\"subscriptions\":[\"session.*\"],\"routes\":[]}");
	json_object *p;
	int64_t v = 0;
	(void)state;
	assert_int_equal(msg_type_of(m), MSG_HELLO);
	assert_int_equal(msg_type_dir(msg_type_of(m)), MSG_FROM_HOST);
	assert_true(msg_get_int(m, "protocol", &v));
	assert_int_equal(v, 1);
	p = msg_get_obj(m, "plugin");
	assert_non_null(p);
	assert_string_equal(msg_get_str(p, "name"), "echo");
	assert_int_equal(json_object_array_length(msg_get_array(m, "subscriptions")), 1);
	assert_null(msg_get_array(m, "plugin"));
	json_object_put(m);

	/* A duplicated "t": json-c keeps the last one; the type follows it. */
	m = parse("{\"t\":\"hello\",\"t\":\"ready\"}");
	assert_int_equal(msg_type_of(m), MSG_READY);
	json_object_put(m);
}

/* The ack a host writes reads back exactly, through the frame codec the daemon uses. */
static void test_ack_round_trip(void **state)
{
	char buf[MSG_ACK_TEXT_MAX];
	unsigned char frame[FRAME_HEADER_LEN + MSG_ACK_TEXT_MAX];
	size_t len, used = 0;
	json_object *m = NULL;
	int64_t n = 0, id = 0;
	char err[128];

	(void)state;
	len = msg_ack_encode(buf, sizeof buf, 32, INT64_MAX);
	assert_true(len > 0 && len < sizeof buf);
	assert_string_equal(buf, "{\"t\":\"ack\",\"n\":32,\"id\":9223372036854775807}");
	frame_header(frame, (uint32_t)len);
	memcpy(frame + FRAME_HEADER_LEN, buf, len);
	assert_int_equal(frame_parse(frame, FRAME_HEADER_LEN + len, FRAME_MAX_DEFAULT, &used, &m,
				     err, sizeof err),
			 FRAME_OK);
	assert_int_equal(used, FRAME_HEADER_LEN + len);
	assert_int_equal(msg_type_of(m), MSG_ACK);
	assert_true(msg_ack_get(m, &n, &id));
	assert_int_equal(n, 32);
	assert_true(id == INT64_MAX);
	json_object_put(m);
	/* The largest n and the most negative id still fit the text bound. */
	assert_true(msg_ack_encode(buf, sizeof buf, MSG_ACK_N_MAX, INT64_MIN) > 0);
	/* Too small a buffer: nothing claimed written. */
	assert_int_equal(msg_ack_encode(buf, 10, 1, 1), 0);
}

/* Hostile acks: counts out of range, wrong types, missing fields, another type. */
static void test_ack_hostile(void **state)
{
	static const char *const bad[] = {
	    "{\"t\":\"ack\",\"n\":0,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":-1,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":65537,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":9223372036854775807,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":18446744073709551616,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":1.0,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":\"3\",\"id\":5}",
	    "{\"t\":\"ack\",\"n\":true,\"id\":5}",
	    "{\"t\":\"ack\",\"n\":3,\"id\":\"5\"}",
	    "{\"t\":\"ack\",\"n\":3,\"id\":null}",
	    "{\"t\":\"ack\",\"n\":3,\"id\":1e3}",
	    "{\"t\":\"ack\",\"n\":3}",
	    "{\"t\":\"ack\",\"id\":3}",
	    "{\"t\":\"reply\",\"n\":3,\"id\":3}",
	};
	int64_t n, id;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_object *m = parse(bad[i]);
		n = id = 0;
		if (msg_ack_get(m, &n, &id))
			fail_msg("accepted %s", bad[i]);
		json_object_put(m);
	}
	json_object *m = parse("{\"t\":\"ack\",\"n\":65536,\"id\":-7}");
	assert_true(msg_ack_get(m, &n, &id));
	assert_int_equal(n, 65536);
	assert_int_equal(id, -7);
	json_object_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_type_named_and_directed),
	    cmocka_unit_test(test_unknown_types),
	    cmocka_unit_test(test_out_of_range_names),
	    cmocka_unit_test(test_request_and_replies),
	    cmocka_unit_test(test_error_codes_match_protocol),
	    cmocka_unit_test(test_getters_refuse_other_types),
	    cmocka_unit_test(test_str_with_nul_refused),
	    cmocka_unit_test(test_getters_on_non_object),
	    cmocka_unit_test(test_adders),
	    cmocka_unit_test(test_parsed_messages),
	    cmocka_unit_test(test_ack_round_trip),
	    cmocka_unit_test(test_ack_hostile),
	};
	return cmocka_run_group_tests_name("proto/msg", tests, NULL, NULL);
}
