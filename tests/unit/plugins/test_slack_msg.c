/*
 * streamspace-slack's messages against Slack's documented format: a `text`
 * fallback, `blocks` of header (plain_text, <= 150), section (mrkdwn text),
 * section fields (mrkdwn, <= 10) and context; channel/username/icon_emoji.
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

#include "../../../plugins/streamspace-slack/slack_msg.h"

static json_object *message(const char *config, const char *event, const char *data)
{
	json_object *c = parse(config), *d = parse(data);
	json_object *m = slack_message(c, event, d);
	json_object_put(c);
	json_object_put(d);
	return m;
}

static void test_session_created(void **state)
{
	(void)state;
	json_object *m = message("{\"channel\":\"#ops\",\"username\":\"StreamSpace\","
				 "\"iconEmoji\":\":computer:\"}",
				 "session.created",
				 "{\"id\":\"s1\",\"user\":\"alice\",\"template\":\"firefox\"}");
	assert_non_null(m);
	assert_string_equal(str_at(m, "text"),
			    "Session created: Session *s1* was created for alice.");
	assert_string_equal(str_at(m, "channel"), "#ops");
	assert_string_equal(str_at(m, "username"), "StreamSpace");
	assert_string_equal(str_at(m, "icon_emoji"), ":computer:");
	json_object *blocks;
	assert_true(json_object_object_get_ex(m, "blocks", &blocks));
	assert_int_equal(json_object_array_length(blocks), 4);
	assert_string_equal(str_at(m, "blocks/0/type"), "header");
	assert_string_equal(str_at(m, "blocks/0/text/type"), "plain_text");
	assert_string_equal(str_at(m, "blocks/0/text/text"), "Session created");
	assert_string_equal(str_at(m, "blocks/1/type"), "section");
	assert_string_equal(str_at(m, "blocks/1/text/type"), "mrkdwn");
	assert_string_equal(str_at(m, "blocks/1/text/text"), "Session *s1* was created for alice.");
	assert_string_equal(str_at(m, "blocks/2/type"), "section");
	assert_string_equal(str_at(m, "blocks/2/fields/0/type"), "mrkdwn");
	assert_string_equal(str_at(m, "blocks/2/fields/0/text"), "*id*\ns1");
	assert_string_equal(str_at(m, "blocks/2/fields/1/text"), "*user*\nalice");
	assert_string_equal(str_at(m, "blocks/2/fields/2/text"), "*template*\nfirefox");
	assert_string_equal(str_at(m, "blocks/3/type"), "context");
	assert_string_equal(str_at(m, "blocks/3/elements/0/type"), "mrkdwn");
	assert_string_equal(str_at(m, "blocks/3/elements/0/text"),
			    "StreamSpace \xc2\xb7 `session.created`");
	json_object_put(m);
}

static void test_toggles(void **state)
{
	(void)state;
	/* Defaults: created/hibernated/user.created on, stopped off; the config decides. */
	assert_null(message("{}", "session.stopped", "{\"id\":\"s1\"}"));
	json_object *m = message("{\"notifyOnSessionStopped\":true}", "session.stopped", "{}");
	assert_non_null(m);
	json_object_put(m);
	assert_null(message("{\"notifyOnSessionCreated\":false}", "session.created", "{}"));
	assert_null(message("{}", "plugin.x.y", "{}"));
	assert_string_equal(slack_toggle_for("session.hibernated"), "notifyOnSessionHibernated");
	assert_string_equal(slack_toggle_for("user.created"), "notifyOnUserCreated");
	assert_null(slack_toggle_for("session.nope"));
}

static void test_no_details_no_overrides(void **state)
{
	(void)state;
	json_object *m = message("{\"includeDetails\":false,\"channel\":\"\"}", "user.created",
				 "{\"id\":\"bob\"}");
	assert_non_null(m);
	json_object *blocks, *v;
	assert_true(json_object_object_get_ex(m, "blocks", &blocks));
	assert_int_equal(json_object_array_length(blocks), 3);
	assert_string_equal(str_at(m, "blocks/2/type"), "context");
	assert_false(json_object_object_get_ex(m, "channel", &v));
	assert_false(json_object_object_get_ex(m, "username", &v));
	assert_false(json_object_object_get_ex(m, "icon_emoji", &v));
	json_object_put(m);
}

static void test_templates_escape(void **state)
{
	(void)state;
	json_object *m =
	    message("{\"titleTemplate\":\"{{user}} <new>\",\"messageTemplate\":\"<!here> {{id}} & "
		    "{{user}}\",\"includeDetails\":true}",
		    "session.created", "{\"id\":\"<@U1>\",\"user\":\"a&b\"}");
	assert_non_null(m);
	/* Header is plain text: nothing escaped. Section mrkdwn: values escaped, template not. */
	assert_string_equal(str_at(m, "blocks/0/text/text"), "a&b <new>");
	assert_string_equal(str_at(m, "blocks/1/text/text"), "<!here> &lt;@U1&gt; & a&amp;b");
	assert_string_equal(str_at(m, "blocks/2/fields/0/text"), "*id*\n&lt;@U1&gt;");
	/* The fallback is mrkdwn: the plain title escaped, then the section. */
	assert_string_equal(str_at(m, "text"),
			    "a&amp;b &lt;new&gt;: <!here> &lt;@U1&gt; & a&amp;b");
	json_object_put(m);
}

static void test_limits(void **state)
{
	(void)state;
	/* A 400-byte user: the header is cut to 150 bytes; 12 fields become 10; nested skipped. */
	char data[2048], user[401];
	memset(user, 'u', 400);
	user[400] = '\0';
	snprintf(data, sizeof data,
		 "{\"user\":\"%s\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
		 "\"o\":{\"x\":1},\"i\":9,\"j\":10,\"k\":11}",
		 user);
	json_object *m = message("{\"titleTemplate\":\"{{user}}\"}", "session.created", data);
	assert_non_null(m);
	assert_int_equal(strlen(str_at(m, "blocks/0/text/text")), 150);
	json_object *fields = json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(m, "blocks"), 2), "fields");
	assert_int_equal(json_object_array_length(fields), 10);
	assert_string_equal(str_at(m, "blocks/2/fields/9/text"), "*i*\n9");
	json_object_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_created),
	    cmocka_unit_test(test_toggles),
	    cmocka_unit_test(test_no_details_no_overrides),
	    cmocka_unit_test(test_templates_escape),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
