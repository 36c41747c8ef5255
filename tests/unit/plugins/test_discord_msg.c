/*
 * streamspace-discord's webhook bodies against Discord's documented format
 * (Execute Webhook: content, username, avatar_url, embeds with title,
 * description, color as an integer, fields {name, value, inline}, an ISO 8601
 * timestamp; allowed_mentions) and the wait a 429 asks for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpath.h"

#include "../../../plugins/streamspace-discord/discord_msg.h"

/* 2026-12-01T18:00:00Z */
#define NOW ((time_t)1796148000)

static json_object *message(const char *config, const char *event, const char *data)
{
	json_object *c = parse(config), *d = parse(data);
	json_object *m = discord_message(c, event, d, NOW);
	json_object_put(c);
	json_object_put(d);
	return m;
}

static void test_session_created(void **state)
{
	(void)state;
	json_object *m =
	    message("{\"username\":\"StreamSpace\",\"avatarUrl\":\"https://x.example/a.png\","
		    "\"contentTemplate\":\"New session for {{user}}\"}",
		    "session.created", "{\"id\":\"s1\",\"user\":\"alice\",\"cpu\":2}");
	assert_non_null(m);
	assert_string_equal(str_at(m, "content"), "New session for alice");
	assert_string_equal(str_at(m, "username"), "StreamSpace");
	assert_string_equal(str_at(m, "avatar_url"), "https://x.example/a.png");
	assert_int_equal(json_object_array_length(at(m, "embeds")), 1);
	assert_string_equal(str_at(m, "embeds/0/title"), "Session created");
	assert_string_equal(str_at(m, "embeds/0/description"),
			    "Session *s1* was created for alice.");
	json_object *color = at(m, "embeds/0/color");
	assert_true(json_object_is_type(color, json_type_int));
	assert_int_equal(json_object_get_int(color), 0x2ECC71);
	assert_string_equal(str_at(m, "embeds/0/timestamp"), "2026-12-01T18:00:00.000Z");
	assert_string_equal(str_at(m, "embeds/0/footer/text"), "session.created");
	assert_int_equal(json_object_array_length(at(m, "embeds/0/fields")), 3);
	assert_string_equal(str_at(m, "embeds/0/fields/0/name"), "id");
	assert_string_equal(str_at(m, "embeds/0/fields/0/value"), "s1");
	assert_true(json_object_get_boolean(at(m, "embeds/0/fields/0/inline")));
	assert_string_equal(str_at(m, "embeds/0/fields/2/name"), "cpu");
	assert_string_equal(str_at(m, "embeds/0/fields/2/value"), "2");
	/* Mentions are never parsed from event text: an empty parse list. */
	assert_int_equal(json_object_array_length(at(m, "allowed_mentions/parse")), 0);
	json_object_put(m);
}

static void test_colors_and_toggles(void **state)
{
	(void)state;
	/* Each event its own colour, within 0..0xFFFFFF. */
	const char *ev[] = {"session.created", "session.started", "session.hibernated",
			    "session.woken",   "session.stopped", "session.deleted",
			    "user.created",    "user.updated",	  "user.deleted"};
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		int32_t c = discord_color_for(ev[i]);
		assert_true(c > 0 && c <= 0xFFFFFF);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(c, discord_color_for(ev[j]));
	}
	assert_int_equal(discord_color_for("plugin.x"), 0);
	assert_null(message("{}", "session.stopped", "{}"));
	assert_null(message("{\"notifyOnUserCreated\":false}", "user.created", "{}"));
	json_object *m = message("{\"notifyOnSessionDeleted\":true,\"includeDetails\":false,"
				 "\"username\":\"\"}",
				 "session.deleted", "{\"id\":\"s9\"}");
	assert_non_null(m);
	assert_null(at(m, "embeds/0/fields"));
	assert_null(at(m, "content"));
	assert_null(at(m, "username"));
	assert_null(at(m, "avatar_url"));
	assert_int_equal(json_object_get_int(at(m, "embeds/0/color")), 0xE74C3C);
	json_object_put(m);
}

static void test_limits_and_json_escaping(void **state)
{
	(void)state;
	char data[8192], big[5001];
	memset(big, 'x', 5000);
	big[5000] = '\0';
	int n = snprintf(data, sizeof data,
			 "{\"id\":\"q\\\"<@&1> @everyone\",\"e\":\"\",\"big\":\"%s\"", big);
	for (int i = 0; i < 30; i++)
		n += snprintf(data + n, sizeof data - (size_t)n, ",\"f%d\":%d", i, i);
	snprintf(data + n, sizeof data - (size_t)n, "}");
	json_object *m = message("{\"titleTemplate\":\"{{big}}\",\"messageTemplate\":\"{{big}}\"}",
				 "session.created", data);
	assert_non_null(m);
	assert_int_equal(strlen(str_at(m, "embeds/0/title")), 256);
	assert_int_equal(strlen(str_at(m, "embeds/0/description")), 4096);
	assert_int_equal(json_object_array_length(at(m, "embeds/0/fields")), 25);
	/* A quote survives as JSON (json-c escapes it); an empty value becomes "-". */
	assert_string_equal(str_at(m, "embeds/0/fields/0/value"), "q\"<@&1> @everyone");
	assert_string_equal(str_at(m, "embeds/0/fields/1/value"), "-");
	assert_int_equal(strlen(str_at(m, "embeds/0/fields/2/value")), 1024);
	json_object *back = json_tokener_parse(json_object_to_json_string(m));
	assert_non_null(back);
	assert_string_equal(str_at(back, "embeds/0/fields/0/value"), "q\"<@&1> @everyone");
	json_object_put(back);
	json_object_put(m);
}

static void test_retry_after(void **state)
{
	(void)state;
	/* The body's float wins over the header; either alone is used; neither = -1. */
	assert_int_equal(discord_retry_after_ms("{\"message\":\"You are being rate limited.\","
						"\"retry_after\":0.347,\"global\":false}",
						"1"),
			 347);
	assert_int_equal(discord_retry_after_ms("{\"retry_after\":2}", NULL), 2000);
	assert_int_equal(discord_retry_after_ms("not json", "3"), 3000);
	assert_int_equal(discord_retry_after_ms("{\"retry_after\":\"x\"}", "0.5"), 500);
	assert_int_equal(discord_retry_after_ms("{\"retry_after\":-1}", NULL), -1);
	assert_int_equal(discord_retry_after_ms(NULL, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_created),
	    cmocka_unit_test(test_colors_and_toggles),
	    cmocka_unit_test(test_limits_and_json_escaping),
	    cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
