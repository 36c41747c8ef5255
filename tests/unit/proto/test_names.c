/*
 * Unit tests of proto/names.c: plugin names, event names and subscription
 * patterns as PROTOCOL.md ("Names") defines them, at every boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

static const char *const core[] = {
    "session.created", "session.started", "session.stopped", "session.hibernated",
    "session.woken",   "session.deleted", "user.created",    "user.updated",
    "user.deleted",    "user.login",	  "user.logout",
};

/* A string of n copies of c (static buffer, one at a time). */
static const char *rep(char c, size_t n)
{
	static char buf[512];
	assert_true(n < sizeof buf);
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_plugin_names(void **state)
{
	static const char *const good[] = {
	    "a",   "0",	   "hello",  "slack-notify", "a-",
	    "0-0", "a1b2", "9lives", "marketplace2", "my-marketplace",
	};
	static const char *const bad[] = {
	    "",	  "-a",	 "A",	 "Hello", "a_b",      "a.b",	     "a b",	    " a",
	    "a ", "a/b", "../a", "a\n",	  "\xc3\xa9", "caf\xc3\xa9", "marketplace", "a*",
	    "*",  ".",	 "a:b",
	};
	char buf[600];
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!name_plugin_valid(good[i]))
			fail_msg("refused plugin name \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (name_plugin_valid(bad[i]))
			fail_msg("accepted plugin name \"%s\"", bad[i]);
	assert_false(name_plugin_valid(NULL));
	/* 63 characters is the longest name. */
	assert_true(name_plugin_valid(rep('a', 63)));
	assert_false(name_plugin_valid(rep('a', 64)));
	snprintf(buf, sizeof buf, "a%s", rep('-', 62));
	assert_true(name_plugin_valid(buf));
	snprintf(buf, sizeof buf, "a%s", rep('-', 63));
	assert_false(name_plugin_valid(buf));
}

static void test_core_events(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
		assert_true(name_event_is_core(core[i]));
		assert_true(name_event_valid(core[i]));
		assert_true(name_pattern_valid(core[i]));
	}
	assert_false(name_event_is_core("session.exploded"));
	assert_false(name_event_is_core("session"));
	assert_false(name_event_is_core("session."));
	assert_false(name_event_is_core("Session.created"));
	assert_false(name_event_is_core("session.created "));
	assert_false(name_event_is_core("session.createdx"));
	assert_false(name_event_is_core("user.login.x"));
	assert_false(name_event_is_core("plugin.x.y"));
	assert_false(name_event_is_core(""));
}

/*
 * Platform events are names to subscribe to, never names anyone may send:
 * POST /api/events and emits check name_event_valid, which refuses them.
 */
static void test_platform_events(void **state)
{
	static const char *const platform[] = {
	    "plugin.installed",	  "plugin.upgraded", "plugin.enabled", "plugin.disabled",
	    "plugin.uninstalled", "plugin.crashed",  "system.startup", "system.shutdown",
	};
	(void)state;
	for (size_t i = 0; i < sizeof platform / sizeof platform[0]; i++) {
		assert_true(name_event_is_platform(platform[i]));
		assert_false(name_event_valid(platform[i]));
		assert_false(name_event_is_core(platform[i]));
		assert_true(name_pattern_valid(platform[i]));
		assert_true(name_pattern_match(platform[i], platform[i]));
	}
	assert_true(name_pattern_match("plugin.*", "plugin.crashed"));
	assert_true(name_pattern_match("system.*", "system.startup"));
	/* A plugin named "crashed" has its own events; they are not the platform's. */
	assert_false(name_event_is_platform("plugin.crashed.x"));
	assert_true(name_event_valid("plugin.crashed.x"));
	assert_false(name_pattern_match("plugin.crashed.*", "plugin.crashed"));
	assert_false(name_event_is_platform("system.reboot"));
	assert_false(name_pattern_valid("system.reboot"));
	assert_false(name_event_is_platform(NULL));
}

static void test_event_names(void **state)
{
	static const char *const good[] = {
	    "plugin.slack.sent", "plugin.a.b",		 "plugin.0.x",
	    "plugin.slack.a.b",	 "plugin.slack.a_b-c.d", "plugin.my-plugin.done",
	    "plugin.slack.0",	 "plugin.slack..",	 "plugin.slack._",
	};
	static const char *const bad[] = {
	    "",
	    "session",
	    "session.",
	    "session.exploded",
	    "session.*",
	    "user",
	    "user.created.x",
	    "users.created",
	    "Session.created",
	    "plugin",
	    "plugin.",
	    "plugin.slack",
	    "plugin.slack.",
	    "plugin..x",
	    "plugin.-a.x",
	    "plugin.Slack.x",
	    "plugin.slack.X",
	    "plugin.slack.a b",
	    "plugin.slack.a/b",
	    "plugin.slack.*",
	    "plugin.sl_ack.x",
	    "plugin.slack.\xc3\xa9",
	    "plugins.slack.x",
	    "xplugin.slack.x",
	    "*",
	    ".session.created",
	};
	char buf[600];
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!name_event_valid(good[i]))
			fail_msg("refused event name \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (name_event_valid(bad[i]))
			fail_msg("accepted event name \"%s\"", bad[i]);
	assert_false(name_event_valid(NULL));

	/* The plugin part is a plugin name: 63 characters at most. */
	snprintf(buf, sizeof buf, "plugin.%s.x", rep('p', 63));
	assert_true(name_event_valid(buf));
	snprintf(buf, sizeof buf, "plugin.%s.x", rep('p', 64));
	assert_false(name_event_valid(buf));

	/* 128 bytes at most: "plugin.a." is 9, so 119 more make 128. */
	snprintf(buf, sizeof buf, "plugin.a.%s", rep('e', 119));
	assert_int_equal(strlen(buf), SS_EVENT_NAME_MAX);
	assert_true(name_event_valid(buf));
	snprintf(buf, sizeof buf, "plugin.a.%s", rep('e', 120));
	assert_false(name_event_valid(buf));
	snprintf(buf, sizeof buf, "plugin.a.%s", rep('e', 250));
	assert_false(name_event_valid(buf));
}

static void test_patterns(void **state)
{
	static const char *const good[] = {
	    "*",
	    "session.*",
	    "user.*",
	    "plugin.*",
	    "plugin.slack.*",
	    "plugin.slack.sent",
	    "session.created",
	    "plugin.a.b.*",
	    "a.*",
	    "plugin.my-plugin.*",
	};
	static const char *const bad[] = {
	    "",
	    ".*",
	    "*.*",
	    "**",
	    "session*",
	    "session.**",
	    "session.*.created",
	    "*.created",
	    "session..*",
	    ".session.*",
	    "Session.*",
	    "sess ion.*",
	    "session.exploded",
	    "plugin.slack",
	    "session.",
	    "plugin.slack.",
	    "session.c*",
	    "?",
	    "session.*x",
	    "session/*",
	};
	char buf[600];
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!name_pattern_valid(good[i]))
			fail_msg("refused pattern \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (name_pattern_valid(bad[i]))
			fail_msg("accepted pattern \"%s\"", bad[i]);
	assert_false(name_pattern_valid(NULL));

	/* 128 bytes at most, prefix patterns included. */
	snprintf(buf, sizeof buf, "%s.*", rep('a', 126));
	assert_int_equal(strlen(buf), SS_EVENT_NAME_MAX);
	assert_true(name_pattern_valid(buf));
	snprintf(buf, sizeof buf, "%s.*", rep('a', 127));
	assert_false(name_pattern_valid(buf));
}

static void test_pattern_match(void **state)
{
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
	    {"*", "session.created", true},
	    {"*", "plugin.slack.sent", true},
	    {"session.*", "session.created", true},
	    {"session.*", "session.deleted", true},
	    {"session.*", "user.created", false},
	    {"session.*", "sessions.created", false},
	    {"session.*", "sessionx.created", false},
	    {"session.*", "session", false},
	    {"session.*", "session.", false},
	    {"user.*", "user.login", true},
	    {"user.*", "users.login", false},
	    {"plugin.*", "plugin.slack.sent", true},
	    {"plugin.slack.*", "plugin.slack.sent", true},
	    {"plugin.slack.*", "plugin.slack.a.b", true},
	    {"plugin.slack.*", "plugin.slacker.sent", false},
	    {"plugin.slack.*", "plugin.slac.sent", false},
	    {"plugin.slack.*", "plugin.slack", false},
	    {"plugin.a.b.*", "plugin.a.b.c", true},
	    {"plugin.a.b.*", "plugin.a.b", false},
	    {"session.created", "session.created", true},
	    {"session.created", "session.created2", false},
	    {"session.created", "session.create", false},
	    {"session.created", "session.started", false},
	    {"plugin.slack.sent", "plugin.slack.sent", true},
	    {"plugin.slack.sent", "plugin.slack.sent.x", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = name_pattern_match(cases[i].pattern, cases[i].name);
		if (got != cases[i].match)
			fail_msg("match(\"%s\", \"%s\") = %d, want %d", cases[i].pattern,
				 cases[i].name, got, cases[i].match);
	}
	/* Every valid name matches itself and "*". */
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
		assert_true(name_pattern_match(core[i], core[i]));
		assert_true(name_pattern_match("*", core[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plugin_names),  cmocka_unit_test(test_core_events),
	    cmocka_unit_test(test_event_names),	  cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_pattern_match), cmocka_unit_test(test_platform_events),
	};
	return cmocka_run_group_tests_name("proto/names", tests, NULL, NULL);
}
