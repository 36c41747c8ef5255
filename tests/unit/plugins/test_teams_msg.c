/*
 * streamspace-teams' webhook bodies against Microsoft's documented formats:
 * the message envelope of an Adaptive Card ({"type":"message","attachments":
 * [{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
 * "content":{AdaptiveCard}}]}) with TextBlocks and a FactSet, and the legacy
 * connector's MessageCard (@type, @context, summary, themeColor, title,
 * text, sections with facts {name, value}); Teams' 28 KB message limit.
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

#include "../../../plugins/streamspace-teams/teams_msg.h"

/* 2026-12-01T18:00:00Z */
#define NOW ((time_t)1796148000)

static json_object *message(const char *config, const char *event, const char *data)
{
	json_object *c = parse(config), *d = parse(data);
	json_object *m = teams_message(c, event, d, NOW);
	json_object_put(c);
	json_object_put(d);
	return m;
}

static void test_adaptive_card(void **state)
{
	(void)state;
	json_object *m = message("{}", "session.created",
				 "{\"id\":\"s1\",\"user\":\"alice\",\"cpu\":2,\"tags\":[1]}");
	assert_non_null(m);
	/* The envelope, member by member: nothing more. */
	assert_int_equal(json_object_object_length(m), 2);
	assert_string_equal(str_at(m, "type"), "message");
	assert_int_equal(json_object_array_length(at(m, "attachments")), 1);
	json_object *att = at(m, "attachments/0");
	assert_int_equal(json_object_object_length(att), 3);
	assert_string_equal(str_at(att, "contentType"), "application/vnd.microsoft.card.adaptive");
	json_object *url = (json_object *)1;
	assert_true(json_object_object_get_ex(att, "contentUrl", &url));
	assert_null(url); /* JSON null */
	json_object *card = at(att, "content");
	assert_string_equal(str_at(card, "type"), "AdaptiveCard");
	assert_string_equal(str_at(card, "version"), "1.4");
	assert_string_equal(str_at(card, "$schema"),
			    "http://adaptivecards.io/schemas/adaptive-card.json");
	assert_string_equal(str_at(card, "msteams/width"), "Full");
	json_object *body = at(card, "body");
	assert_int_equal(json_object_array_length(body), 4);
	assert_string_equal(str_at(body, "0/type"), "TextBlock");
	assert_string_equal(str_at(body, "0/text"), "Session created");
	assert_string_equal(str_at(body, "0/size"), "Large");
	assert_string_equal(str_at(body, "0/weight"), "Bolder");
	assert_true(json_object_get_boolean(at(body, "0/wrap")));
	assert_string_equal(str_at(body, "1/type"), "TextBlock");
	assert_string_equal(str_at(body, "1/text"), "Session *s1* was created for alice.");
	assert_string_equal(str_at(body, "2/type"), "FactSet");
	/* Scalars only, in order, as {title, value}; the array is left out. */
	assert_int_equal(json_object_array_length(at(body, "2/facts")), 3);
	assert_string_equal(str_at(body, "2/facts/0/title"), "id");
	assert_string_equal(str_at(body, "2/facts/0/value"), "s1");
	assert_string_equal(str_at(body, "2/facts/2/title"), "cpu");
	assert_string_equal(str_at(body, "2/facts/2/value"), "2");
	assert_int_equal(json_object_object_length(at(body, "2/facts/0")), 2);
	assert_string_equal(
	    str_at(body, "3/text"),
	    "StreamSpace \xc2\xb7 session.created \xc2\xb7 2026-12-01T18:00:00.000Z");
	assert_true(json_object_get_boolean(at(body, "3/isSubtle")));
	assert_string_equal(str_at(body, "3/size"), "Small");
	json_object_put(m);
}

static void test_message_card(void **state)
{
	(void)state;
	json_object *m =
	    message("{\"format\":\"messageCard\",\"titleTemplate\":\"{{user}} asleep\"}",
		    "session.hibernated", "{\"id\":\"s2\",\"user\":\"bob\"}");
	assert_non_null(m);
	assert_string_equal(str_at(m, "@type"), "MessageCard");
	assert_string_equal(str_at(m, "@context"), "https://schema.org/extensions");
	assert_string_equal(str_at(m, "summary"), "bob asleep");
	assert_string_equal(str_at(m, "title"), "bob asleep");
	assert_string_equal(str_at(m, "themeColor"), "95A5A6");
	assert_string_equal(str_at(m, "text"), "Session *s2* of bob was hibernated.");
	assert_null(at(m, "attachments"));
	assert_int_equal(json_object_array_length(at(m, "sections")), 1);
	assert_string_equal(
	    str_at(m, "sections/0/activitySubtitle"),
	    "StreamSpace \xc2\xb7 session.hibernated \xc2\xb7 2026-12-01T18:00:00.000Z");
	assert_true(json_object_get_boolean(at(m, "sections/0/markdown")));
	assert_string_equal(str_at(m, "sections/0/facts/0/name"), "id");
	assert_string_equal(str_at(m, "sections/0/facts/0/value"), "s2");
	assert_string_equal(str_at(m, "sections/0/facts/1/name"), "user");
	assert_null(at(m, "sections/0/facts/0/title"));
	json_object_put(m);
}

static void test_toggles_and_no_details(void **state)
{
	(void)state;
	assert_null(message("{}", "session.stopped", "{}"));
	assert_null(message("{}", "plugin.x.y", "{}"));
	assert_null(message("{\"notifyOnUserCreated\":false}", "user.created", "{}"));
	json_object *m = message("{\"notifyOnSessionDeleted\":true,\"includeDetails\":false,"
				 "\"messageTemplate\":\"gone: {{id}} ({{missing}})\"}",
				 "session.deleted", "{\"id\":\"s9\"}");
	assert_non_null(m);
	json_object *body = at(m, "attachments/0/content/body");
	assert_int_equal(json_object_array_length(body), 3); /* no FactSet */
	assert_string_equal(str_at(body, "1/text"), "gone: s9 ()");
	assert_string_equal(str_at(body, "2/type"), "TextBlock");
	json_object_put(m);
	m = message("{\"format\":\"messageCard\",\"includeDetails\":false}", "user.created",
		    "{\"id\":\"u1\"}");
	assert_non_null(m);
	assert_null(at(m, "sections/0/facts"));
	assert_string_equal(str_at(m, "themeColor"), "9B59B6");
	json_object_put(m);
}

/* A message over Teams' 28 KB loses its details, not its text; bounds hold in bytes. */
static void test_limits(void **state)
{
	(void)state;
	static char data[64 * 1024];
	char big[1301];
	memset(big, 'x', 1300);
	big[1300] = '\0';
	int n = snprintf(data, sizeof data, "{\"id\":\"q\\\"1\",\"big\":\"%s\"", big);
	for (int i = 0; i < 40; i++)
		n += snprintf(data + n, sizeof data - (size_t)n, ",\"f%d\":\"%s\"", i, big);
	snprintf(data + n, sizeof data - (size_t)n, "}");
	const char *formats[] = {
	    "{\"messageTemplate\":\"{{big}}{{big}}{{big}}\",\"titleTemplate\":\"{{big}}\"}",
	    "{\"format\":\"messageCard\",\"messageTemplate\":\"{{big}}{{big}}{{big}}\","
	    "\"titleTemplate\":\"{{big}}\"}"};
	for (int f = 0; f < 2; f++) {
		json_object *m = message(formats[f], "session.created", data);
		assert_non_null(m);
		assert_true(strlen(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN)) <=
			    TEAMS_MESSAGE_MAX);
		const char *text = str_at(m, f ? "text" : "attachments/0/content/body/1/text");
		const char *title = str_at(m, f ? "title" : "attachments/0/content/body/0/text");
		assert_int_equal(strlen(text), 3000);
		assert_int_equal(strlen(title), 256);
		/* 25 facts of 1024 bytes would pass 28 KB: left out. */
		assert_null(at(m, f ? "sections/0/facts" : "attachments/0/content/body/2/facts"));
		json_object_put(m);
	}
	/* Small enough: 25 facts at most, each value cut to 1024 bytes. */
	json_object *m = message("{}", "session.created",
				 "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
				 "\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,"
				 "\"p\":16,\"q\":17,\"r\":18,\"s\":19,\"t\":20,\"u\":21,\"v\":22,"
				 "\"w\":23,\"x\":24,\"y\":25,\"z\":26,\"zz\":27}");
	assert_non_null(m);
	assert_int_equal(json_object_array_length(at(m, "attachments/0/content/body/2/facts")), 25);
	json_object_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_adaptive_card),
	    cmocka_unit_test(test_message_card),
	    cmocka_unit_test(test_toggles_and_no_details),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
