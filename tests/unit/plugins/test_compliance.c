/*
 * streamspace-compliance's rules (plugins/streamspace-compliance/policy.c):
 * event classes and patterns, record keys in time order and their
 * retention per class, allowed login hours at a UTC offset (also across
 * midnight), the longest session, the actor and session of an event, and
 * the report's counts and truncation.
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

#include "../../../plugins/streamspace-compliance/policy.h"

#define H 3600000LL
#define D 86400000LL
/* 2026-12-01T00:00:00Z */
#define DAY0 1796083200000LL

static void test_class_and_patterns(void **state)
{
	(void)state;
	assert_string_equal(policy_class("session.connected"), "session");
	assert_string_equal(policy_class("user.login"), "user");
	assert_string_equal(policy_class("plugin.echo.x"), "plugin");
	assert_string_equal(policy_class("sessionx.y"), "other");
	assert_string_equal(policy_class("session"), "other");
	json_object *p = parse("[\"session.connected\", \"session.file.*\", 3]");
	assert_true(policy_matches(p, "session.connected"));
	assert_true(policy_matches(p, "session.file.read"));
	assert_true(policy_matches(p, "session.file.a.b"));
	assert_false(policy_matches(p, "session.file"));
	assert_false(policy_matches(p, "session.files"));
	assert_false(policy_matches(p, "session.connectedx"));
	assert_false(policy_matches(NULL, "session.connected"));
	json_object_put(p);
	p = parse("[\"*\"]");
	assert_true(policy_matches(p, "anything.at.all"));
	json_object_put(p);
}

static void test_keys_and_retention(void **state)
{
	(void)state;
	char k1[POLICY_KEY_MAX], k2[POLICY_KEY_MAX], cls[16];
	int64_t ts;
	assert_true(policy_key("session", 5, 7, k1));
	assert_string_equal(k1, "rec/session/0000000000005/00000000000000000007");
	assert_true(policy_key("session", DAY0, 1, k2));
	assert_true(strcmp(k1, k2) < 0); /* time order is byte order */
	assert_false(policy_key("bogus", DAY0, 1, k1));
	assert_false(policy_key("user", -1, 1, k1));
	assert_true(policy_key_parse(k2, cls, &ts));
	assert_string_equal(cls, "session");
	assert_int_equal(ts, DAY0);
	assert_false(policy_key_parse("open/s1", cls, &ts));
	assert_false(policy_key_parse("rec/session/12/1", cls, &ts));
	assert_false(policy_key_parse("rec/nope/0000000000005/1", cls, &ts));

	json_object *cfg = parse("{\"retentionDays\": {\"session\": 30, \"user\": 0}}");
	assert_int_equal(policy_retention_days(cfg, "session"), 30);
	assert_int_equal(policy_retention_days(cfg, "user"), 0);
	assert_int_equal(policy_retention_days(cfg, "plugin"), POLICY_DEFAULT_RETENTION_DAYS);
	int64_t now = DAY0 + 100 * D;
	assert_true(policy_key("session", now - 31 * D, 1, k1));
	assert_true(policy_expired(cfg, k1, now));
	assert_true(policy_key("session", now - 29 * D, 2, k1));
	assert_false(policy_expired(cfg, k1, now));
	assert_true(policy_key("user", 0, 3, k1)); /* 0 = kept forever */
	assert_false(policy_expired(cfg, k1, now));
	assert_true(policy_key("plugin", now - 91 * D, 4, k1));
	assert_true(policy_expired(cfg, k1, now));
	assert_false(policy_expired(cfg, "open/s1", now));
	json_object_put(cfg);
}

static void test_hours_and_offsets(void **state)
{
	(void)state;
	int m;
	assert_true(policy_parse_hm("08:30", &m) && m == 510);
	assert_true(policy_parse_hm("24:00", &m) && m == 1440);
	assert_false(policy_parse_hm("24:01", &m));
	assert_false(policy_parse_hm("8:30", &m));
	assert_false(policy_parse_hm("08:60", &m));
	assert_false(policy_parse_hm(NULL, &m));
	assert_true(policy_parse_offset("+02:00", &m) && m == 120);
	assert_true(policy_parse_offset("-05:30", &m) && m == -330);
	assert_true(policy_parse_offset("Z", &m) && m == 0);
	assert_false(policy_parse_offset("+15:00", &m));
	assert_false(policy_parse_offset("02:00", &m));
}

static void test_login_hours(void **state)
{
	(void)state;
	char local[6] = "";
	json_object *cfg = parse(
	    "{\"allowedLoginHours\": {\"start\": \"08:00\", \"end\": \"18:00\", \"utcOffset\": "
	    "\"+02:00\"}}");
	/* 06:00Z is 08:00 local: allowed; 15:59Z is 17:59; 16:00Z is 18:00: not. */
	assert_true(policy_login_allowed(cfg, DAY0 + 6 * H, local));
	assert_true(policy_login_allowed(cfg, DAY0 + 16 * H - 60000, local));
	assert_false(policy_login_allowed(cfg, DAY0 + 16 * H, local));
	assert_string_equal(local, "18:00");
	assert_false(policy_login_allowed(cfg, DAY0 + 5 * H + 59 * 60000, local));
	assert_string_equal(local, "07:59");
	/* 23:00Z is 01:00 local the next day. */
	assert_false(policy_login_allowed(cfg, DAY0 + 23 * H, local));
	assert_string_equal(local, "01:00");
	json_object_put(cfg);

	/* A night shift across midnight, at a negative offset. */
	cfg = parse("{\"allowedLoginHours\": {\"start\": \"22:00\", \"end\": \"06:00\", "
		    "\"utcOffset\": \"-05:00\"}}");
	assert_true(policy_login_allowed(cfg, DAY0 + 3 * H + 30 * 60000, local)); /* 22:30 */
	assert_true(policy_login_allowed(cfg, DAY0 + 10 * H, local));		  /* 05:00 */
	assert_false(policy_login_allowed(cfg, DAY0 + 17 * H, local));		  /* 12:00 */
	assert_string_equal(local, "12:00");
	json_object_put(cfg);

	/* No rule: no window, an empty one, or half of one. */
	cfg = parse("{}");
	assert_true(policy_login_allowed(cfg, DAY0, local));
	json_object_put(cfg);
	cfg = parse("{\"allowedLoginHours\": {\"start\": \"09:00\", \"end\": \"09:00\"}}");
	assert_true(policy_login_allowed(cfg, DAY0, local));
	json_object_put(cfg);
	cfg = parse("{\"allowedLoginHours\": {\"start\": \"09:00\"}}");
	assert_true(policy_login_allowed(cfg, DAY0, local));
	json_object_put(cfg);
	/* Without utcOffset: UTC. */
	cfg = parse("{\"allowedLoginHours\": {\"start\": \"09:00\", \"end\": \"17:00\"}}");
	assert_false(policy_login_allowed(cfg, DAY0 + 8 * H, local));
	assert_true(policy_login_allowed(cfg, DAY0 + 9 * H, local));
	json_object_put(cfg);
}

static void test_session_and_actor(void **state)
{
	(void)state;
	json_object *cfg = parse("{\"maxSessionHours\": 8}");
	assert_false(policy_session_too_long(cfg, DAY0, DAY0 + 8 * H));
	assert_true(policy_session_too_long(cfg, DAY0, DAY0 + 8 * H + 1));
	json_object_put(cfg);
	cfg = parse("{\"maxSessionHours\": 0.5}");
	assert_true(policy_session_too_long(cfg, DAY0, DAY0 + H));
	assert_int_equal(policy_max_session_ms(cfg), H / 2);
	json_object_put(cfg);
	cfg = parse("{\"maxSessionHours\": 0}");
	assert_false(policy_session_too_long(cfg, DAY0, DAY0 + 1000 * H));
	json_object_put(cfg);
	cfg = parse("{}");
	assert_false(policy_session_too_long(cfg, DAY0, DAY0 + 1000 * H));
	json_object_put(cfg);

	json_object *d = parse("{\"user_id\": \"u1\", \"session_id\": \"s1\", \"user\": \"\"}");
	assert_string_equal(policy_actor(d), "u1");
	assert_string_equal(policy_session(d), "s1");
	json_object_put(d);
	d = parse("{\"email\": \"a@b\", \"id\": 5}");
	assert_string_equal(policy_actor(d), "a@b");
	assert_null(policy_session(d));
	json_object_put(d);
	assert_true(policy_id_hash("s1") >= 0 && policy_id_hash("s2") >= 0);
	assert_true(policy_id_hash("s1") != policy_id_hash("s2"));
	assert_int_equal(policy_id_hash("s1"), policy_id_hash("s1"));
	assert_true(policy_session_key_ok("s-1.a_b:c"));
	assert_false(policy_session_key_ok("a/b"));
	assert_false(policy_session_key_ok(""));
	assert_false(policy_session_key_ok(NULL));
}

static void test_report(void **state)
{
	(void)state;
	json_object *r = policy_report_new(DAY0, DAY0 + D);
	assert_string_equal(str_at(r, "from"), "2026-12-01T00:00:00.000Z");
	assert_string_equal(str_at(r, "to"), "2026-12-02T00:00:00.000Z");
	json_object *a = parse("{\"kind\": \"access\", \"type\": \"session.connected\", \"user\": "
			       "\"alice\"}");
	json_object *b = parse("{\"kind\": \"access\", \"type\": \"user.data.exported\"}");
	json_object *v = parse("{\"kind\": \"violation\", \"rule\": \"session-too-long\"}");
	policy_report_add(r, a, 2);
	policy_report_add(r, a, 2);
	policy_report_add(r, b, 2);
	policy_report_add(r, v, 2);
	assert_int_equal(json_object_get_int(at(r, "access/total")), 3);
	assert_int_equal(json_object_get_int(at(r, "access/byType/session.connected")), 2);
	assert_int_equal(json_object_get_int(at(r, "access/byType/user.data.exported")), 1);
	assert_int_equal(json_object_get_int(at(r, "access/byUser/alice")), 2);
	assert_int_equal(json_object_get_int(at(r, "access/byUser/(none)")), 1);
	assert_int_equal(json_object_array_length(at(r, "access/records")), 2);
	assert_true(json_object_get_boolean(at(r, "access/truncated")));
	assert_int_equal(json_object_get_int(at(r, "violations/total")), 1);
	assert_int_equal(json_object_get_int(at(r, "violations/byRule/session-too-long")), 1);
	assert_false(json_object_get_boolean(at(r, "violations/truncated")));
	json_object_put(a);
	json_object_put(b);
	json_object_put(v);
	json_object_put(r);
	r = policy_report_new(-1, -1);
	assert_true(json_object_is_type(at(r, "from"), json_type_null));
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_class_and_patterns), cmocka_unit_test(test_keys_and_retention),
	    cmocka_unit_test(test_hours_and_offsets),  cmocka_unit_test(test_login_hours),
	    cmocka_unit_test(test_session_and_actor),  cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
