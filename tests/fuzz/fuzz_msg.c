/*
 * libFuzzer target for message decoding: the input is a frame body, decoded
 * as the daemon decodes a host's frame, then typed (msg_type_of), checked
 * field by field the way PROTOCOL.md describes each message, and its names
 * and patterns run through proto/names.c. The checks are invariants that
 * hold for every input; a violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "msg.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_msg: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Whether a JSON string holds a NUL, which a C-string check would not see. */
static int has_nul(json_object *s)
{
	return strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s);
}

/* The typed getters agree with json-c's idea of the value's type. */
static void check_getters(json_object *m, const char *key, json_object *v)
{
	json_type t = json_object_get_type(v);
	int64_t i = 0;
	bool b = false;

	CHECK(msg_get_int(m, key, &i) == (t == json_type_int));
	CHECK(msg_get_bool(m, key, &b) == (t == json_type_boolean));
	CHECK((msg_get_str(m, key) != NULL) == (t == json_type_string && !has_nul(v)));
	CHECK((msg_get_obj(m, key) != NULL) == (t == json_type_object));
	CHECK((msg_get_array(m, key) != NULL) == (t == json_type_array));
	if (t == json_type_int)
		CHECK(i == json_object_get_int64(v));
}

/* The rules of PROTOCOL.md "Names", as relations between the checks. */
static void check_names(const char *s)
{
	bool plugin = name_plugin_valid(s);
	bool event = name_event_valid(s);
	bool core = name_event_is_core(s);
	bool platform = name_event_is_platform(s);
	bool pattern = name_pattern_valid(s);
	size_t n = strlen(s);

	if (plugin) {
		char ev[128];
		CHECK(n >= 1 && n <= SS_NAME_MAX);
		CHECK(strcmp(s, "marketplace") != 0);
		for (size_t i = 0; i < n; i++)
			CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			      (i > 0 && s[i] == '-'));
		snprintf(ev, sizeof ev, "plugin.%s.x", s);
		CHECK(name_event_valid(ev));
		snprintf(ev, sizeof ev, "plugin.%s.*", s);
		CHECK(name_pattern_valid(ev));
	}
	if (core)
		CHECK(event);
	if (event) {
		CHECK(n >= 1 && n <= SS_EVENT_NAME_MAX);
		CHECK(core || strncmp(s, "plugin.", 7) == 0);
		CHECK(pattern);
		CHECK(name_pattern_match(s, s));
		CHECK(name_pattern_match("*", s));
		CHECK(strchr(s, '*') == NULL);
	}
	if (platform) {
		/*
		 * A platform event is a name only the daemon sends: never a name anyone
		 * may send, yet a pattern (PROTOCOL.md "Names") matching itself,
		 * matched by "*" and by its namespace's prefix.
		 */
		CHECK(!event && !core);
		CHECK(pattern);
		CHECK(name_pattern_match(s, s));
		CHECK(name_pattern_match("*", s));
		CHECK(strchr(s, '*') == NULL);
		CHECK(strncmp(s, "plugin.", 7) == 0 || strncmp(s, "system.", 7) == 0);
		CHECK(name_pattern_match(s[0] == 'p' ? "plugin.*" : "system.*", s));
	}
	if (pattern) {
		CHECK(n >= 1 && n <= SS_EVENT_NAME_MAX);
		if (strcmp(s, "*") != 0 && !event && !platform) {
			/* A prefix pattern: it matches the names that start with the prefix. */
			char name[SS_EVENT_NAME_MAX + 8];
			CHECK(n > 2 && s[n - 2] == '.' && s[n - 1] == '*');
			snprintf(name, sizeof name, "%.*sx", (int)(n - 1), s);
			CHECK(name_pattern_match(s, name));
			name[n - 1] = '\0';
			CHECK(!name_pattern_match(s, name));
		}
	}
}

/* Patterns from a subscriptions array against the message's event type. */
static void check_patterns(json_object *arr, const char *type)
{
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n && i < 64; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		const char *ps;
		if (!json_object_is_type(p, json_type_string))
			continue;
		ps = json_object_get_string(p);
		check_names(ps);
		if (type != NULL && name_pattern_valid(ps) && name_event_valid(type)) {
			bool m = name_pattern_match(ps, type);
			if (strcmp(ps, "*") == 0 || strcmp(ps, type) == 0)
				CHECK(m);
			else if (m)
				CHECK(strncmp(ps, type, strlen(ps) - 1) == 0);
		}
	}
}

/* Field checks per type, as the receiving side does before using a message. */
static void check_fields(json_object *m, enum msg_type t)
{
	int64_t v;
	json_object *o;
	const char *s;

	switch (t) {
	case MSG_HELLO:
		(void)msg_get_int(m, "protocol", &v);
		(void)msg_get_int(m, "sdk_abi", &v);
		if ((o = msg_get_obj(m, "plugin")) != NULL) {
			if ((s = msg_get_str(o, "name")) != NULL)
				check_names(s);
			(void)msg_get_str(o, "version");
		}
		if ((o = msg_get_array(m, "subscriptions")) != NULL)
			check_patterns(o, NULL);
		(void)msg_get_array(m, "routes");
		break;
	case MSG_READY:
	case MSG_SUBSCRIBE:
		if ((o = msg_get_array(m, "subscriptions")) != NULL)
			check_patterns(o, msg_get_str(m, "type"));
		if ((s = msg_get_str(m, "pattern")) != NULL)
			check_names(s);
		break;
	case MSG_EVENT:
		(void)msg_get_int(m, "id", &v);
		(void)msg_get_int(m, "ts", &v);
		(void)msg_get_obj(m, "data");
		if ((s = msg_get_str(m, "type")) != NULL)
			check_names(s);
		break;
	case MSG_REPLY:
	case MSG_FAIL:
	case MSG_REJECT:
		(void)msg_get_int(m, "id", &v);
		if ((o = msg_get_obj(m, "error")) != NULL) {
			(void)msg_get_str(o, "code");
			(void)msg_get_str(o, "message");
		}
		break;
	case MSG_ACK: {
		/* What msg_ack_get takes is in range, and re-encodes to itself. */
		int64_t n = 0, id = 0, n2 = 0, id2 = 0;
		if (msg_ack_get(m, &n, &id)) {
			char buf[MSG_ACK_TEXT_MAX];
			size_t len = msg_ack_encode(buf, sizeof buf, n, id), used = 0;
			unsigned char fr[FRAME_HEADER_LEN + MSG_ACK_TEXT_MAX];
			json_object *back = NULL;

			CHECK(n >= 1 && n <= MSG_ACK_N_MAX);
			CHECK(msg_get_int(m, "n", &n2) && n2 == n && msg_get_int(m, "id", &id2) &&
			      id2 == id);
			CHECK(len > 0);
			frame_header(fr, (uint32_t)len);
			memcpy(fr + FRAME_HEADER_LEN, buf, len);
			CHECK(frame_parse(fr, FRAME_HEADER_LEN + len, FRAME_MAX_DEFAULT, &used,
					  &back, NULL, 0) == FRAME_OK);
			CHECK(msg_ack_get(back, &n2, &id2) && n2 == n && id2 == id);
			json_object_put(back);
		} else {
			CHECK(!msg_get_int(m, "n", &n2) || !msg_get_int(m, "id", &id2) || n2 < 1 ||
			      n2 > MSG_ACK_N_MAX);
		}
		break;
	}
	case MSG_LOG:
		(void)msg_get_str(m, "level");
		(void)msg_get_str(m, "msg");
		(void)msg_get_obj(m, "fields");
		break;
	default:
		(void)msg_get_int(m, "id", &v);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *frame;
	json_object *m = NULL, *tv = NULL;
	size_t consumed = 0;
	enum msg_type t;

	if (size == 0 || size > FRAME_MAX_DEFAULT)
		return 0;
	frame = malloc(FRAME_HEADER_LEN + size);
	CHECK(frame != NULL);
	frame_header(frame, (uint32_t)size);
	memcpy(frame + FRAME_HEADER_LEN, data, size);
	if (frame_parse(frame, FRAME_HEADER_LEN + size, FRAME_MAX_DEFAULT, &consumed, &m, NULL,
			0) != FRAME_OK) {
		free(frame);
		return 0;
	}
	free(frame);

	/* The type is "t" exactly: a known name, as a string, with nothing after a NUL. */
	t = msg_type_of(m);
	if (t != MSG_UNKNOWN) {
		CHECK(json_object_object_get_ex(m, "t", &tv));
		CHECK(json_object_is_type(tv, json_type_string));
		CHECK(!has_nul(tv));
		CHECK(strcmp(msg_type_name(t), json_object_get_string(tv)) == 0);
		CHECK(msg_type_dir(t) >= MSG_FROM_HOST && msg_type_dir(t) <= MSG_BOTH);
		check_fields(m, t);
	} else {
		CHECK(strcmp(msg_type_name(t), "unknown") == 0);
		CHECK(msg_type_dir(t) == 0);
	}

	/* The iterator API, not json_object_object_foreach: that macro is a GNU extension. */
	for (struct json_object_iterator it = json_object_iter_begin(m),
					 end = json_object_iter_end(m);
	     !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		check_getters(m, key, val);
		if (json_object_is_type(val, json_type_string))
			check_names(json_object_get_string(val));
		else if (json_object_is_type(val, json_type_array))
			check_patterns(val, msg_get_str(m, "type"));
	}

	/* A request of the same type survives encode and decode with its id. */
	if (t != MSG_UNKNOWN) {
		int64_t id = 0, back = -1;
		json_object *req, *again = NULL;
		unsigned char *enc;
		size_t len = 0;
		(void)msg_get_int(m, "id", &id);
		req = msg_new_request(t, id);
		enc = frame_encode(req, FRAME_MAX_DEFAULT, &len);
		CHECK(enc != NULL);
		CHECK(frame_parse(enc, len, FRAME_MAX_DEFAULT, &consumed, &again, NULL, 0) ==
		      FRAME_OK);
		CHECK(msg_type_of(again) == t);
		CHECK(msg_get_int(again, "id", &back) && back == id);
		json_object_put(again);
		json_object_put(req);
		free(enc);
	}
	json_object_put(m);
	return 0;
}
