/* The notifiers' shared pieces: templates, mrkdwn escaping, the hourly limiter, retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/common/notify.h"

static char *expand(const char *tmpl, const char *data, notify_escape_fn esc, size_t max)
{
	json_object *d = json_tokener_parse(data);
	assert_non_null(d);
	char *s = notify_expand(tmpl, "session.created", d, esc, max);
	json_object_put(d);
	assert_non_null(s);
	return s;
}

static void test_expand_fields(void **state)
{
	(void)state;
	char *s = expand("{{event}}: {{ id }} by {{user.name}} ({{n}}, {{missing}}) {{flag}}",
			 "{\"id\":\"s1\",\"user\":{\"name\":\"alice\"},\"n\":3,\"flag\":true}",
			 NULL, 1000);
	assert_string_equal(s, "session.created: s1 by alice (3, ) true");
	free(s);
	/* Text without placeholders, an unclosed one, and an empty template stay as they are. */
	s = expand("plain {{ open", "{}", NULL, 1000);
	assert_string_equal(s, "plain {{ open");
	free(s);
	s = expand("", "{}", NULL, 1000);
	assert_string_equal(s, "");
	free(s);
	/* A dotted path through a non-object is missing, not a crash. */
	s = expand("[{{id.x}}][{{.}}][{{}}]", "{\"id\":\"s1\"}", NULL, 1000);
	assert_string_equal(s, "[][][]");
	free(s);
}

static void test_expand_escapes_values_only(void **state)
{
	(void)state;
	/* The template's own mrkdwn (<!here>, *bold*) stays; the event's text is escaped. */
	char *s = expand("<!here> *{{id}}*", "{\"id\":\"<@U1> & <https://x|y>\"}",
			 notify_escape_mrkdwn, 1000);
	assert_string_equal(s, "<!here> *&lt;@U1&gt; &amp; &lt;https://x|y&gt;*");
	free(s);
	/* A value that is JSON (an object) is escaped too. */
	s = expand("{{o}}", "{\"o\":{\"a\":\"<b>\"}}", notify_escape_mrkdwn, 1000);
	assert_string_equal(s, "{\"a\":\"&lt;b&gt;\"}");
	free(s);
}

static void test_expand_bounded_utf8(void **state)
{
	(void)state;
	/* "é" is 2 bytes: a cut at 4 bytes of "aéé" must not split the second. */
	char *s = expand("{{v}}", "{\"v\":\"a\xc3\xa9\xc3\xa9\"}", NULL, 4);
	assert_string_equal(s, "a\xc3\xa9");
	free(s);
	s = expand("0123456789", "{}", NULL, 5);
	assert_string_equal(s, "01234");
	free(s);
	char *e = notify_escaped("a<b", notify_escape_mrkdwn, 100);
	assert_string_equal(e, "a&lt;b");
	free(e);
}

static void test_rate(void **state)
{
	(void)state;
	struct notify_rate r = {0};
	for (int i = 0; i < 3; i++)
		assert_true(notify_rate_allow(&r, 1000 + i, 3));
	assert_false(notify_rate_allow(&r, 1010, 3));
	assert_false(notify_rate_allow(&r, 4599, 3));
	assert_int_equal(r.dropped, 2);
	/* An hour after the window opened, a new one opens. */
	assert_true(notify_rate_allow(&r, 4600, 3));
	assert_int_equal(r.sent, 1);
	/* 0 = no limit, nothing counted. */
	struct notify_rate u = {0};
	for (int i = 0; i < 1000; i++)
		assert_true(notify_rate_allow(&u, 5, 0));
	assert_int_equal(u.dropped, 0);
}

static void test_retry(void **state)
{
	(void)state;
	/* 429 and 5xx retried, Retry-After honoured; other 4xx and 2xx never. */
	assert_int_equal(notify_retry_delay_ms(429, 1, 3, 2000, 500, 10000), 2000);
	assert_int_equal(notify_retry_delay_ms(500, 1, 3, -1, 500, 10000), 500);
	assert_int_equal(notify_retry_delay_ms(503, 2, 3, -1, 500, 10000), 1000);
	assert_int_equal(notify_retry_delay_ms(0, 1, 3, -1, 500, 10000), 500);
	assert_int_equal(notify_retry_delay_ms(400, 1, 3, -1, 500, 10000), -1);
	assert_int_equal(notify_retry_delay_ms(404, 1, 3, 1000, 500, 10000), -1);
	assert_int_equal(notify_retry_delay_ms(200, 1, 3, -1, 500, 10000), -1);
	/* Bounded: the last attempt is the last, and a wait beyond the budget ends it. */
	assert_int_equal(notify_retry_delay_ms(500, 3, 3, -1, 500, 10000), -1);
	assert_int_equal(notify_retry_delay_ms(429, 1, 3, 60000, 500, 10000), -1);
	assert_int_equal(notify_retry_delay_ms(500, 30, 40, -1, 500, 10000), -1);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(notify_retry_after_ms("2"), 2000);
	assert_int_equal(notify_retry_after_ms(" 0 "), 0);
	assert_int_equal(notify_retry_after_ms("0.25"), 250);
	assert_int_equal(notify_retry_after_ms("1.0001"), 1001);
	assert_int_equal(notify_retry_after_ms(NULL), -1);
	assert_int_equal(notify_retry_after_ms(""), -1);
	assert_int_equal(notify_retry_after_ms("-1"), -1);
	assert_int_equal(notify_retry_after_ms("1e999"), -1);
	assert_int_equal(notify_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
	assert_int_equal(notify_retry_after_ms("5s"), -1);
	assert_int_equal(notify_retry_after_ms("nan"), -1);
}

static void test_iso8601(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},	      {1796148000, "2026-12-01T18:00:00.000Z"},
	    {951782400, "2000-02-29T00:00:00.000Z"},  {951868799, "2000-02-29T23:59:59.000Z"},
	    {4107542400, "2100-03-01T00:00:00.000Z"}, {-1, "1969-12-31T23:59:59.000Z"},
	    {1709251199, "2024-02-29T23:59:59.000Z"}, {253402300799, "9999-12-31T23:59:59.000Z"},
	};
	char out[25];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		notify_iso8601(cases[i].t, out);
		assert_string_equal(out, cases[i].want);
	}
}

/* Config getters: a boolean only when it is one; the kinds' wording without its marks. */
static void test_config_and_plain(void **state)
{
	(void)state;
	json_object *c = json_tokener_parse("{\"t\":true,\"f\":false,\"s\":\"true\",\"e\":\"\"}");
	assert_non_null(c);
	assert_true(notify_cfg_bool(c, "t", false));
	assert_false(notify_cfg_bool(c, "f", true));
	assert_true(notify_cfg_bool(c, "s", true));
	assert_false(notify_cfg_bool(c, "missing", false));
	assert_null(notify_cfg_str(c, "e"));
	assert_null(notify_cfg_str(c, "t"));
	assert_string_equal(notify_cfg_str(c, "s"), "true");
	/* The toggles default as each kind says; a boolean overrides. */
	assert_true(notify_wants(c, "session.created"));
	assert_false(notify_wants(c, "session.stopped"));
	assert_false(notify_wants(c, "user.login"));
	json_object_put(c);
	char *plain = notify_unstar(notify_kind_of("session.hibernated")->text);
	assert_string_equal(plain, "Session {{id}} of {{user}} was hibernated.");
	free(plain);
	plain = notify_unstar("");
	assert_string_equal(plain, "");
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand_fields),
	    cmocka_unit_test(test_expand_escapes_values_only),
	    cmocka_unit_test(test_expand_bounded_utf8),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_retry),
	    cmocka_unit_test(test_iso8601),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_config_and_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
