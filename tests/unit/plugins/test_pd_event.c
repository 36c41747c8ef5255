/*
 * streamspace-pagerduty's events against PagerDuty's Events API v2
 * (openapiv3 of PagerDuty/api-schema, events-v2): routing_key, event_action
 * trigger|resolve, dedup_key (<= 255), client, client_url and payload
 * {summary (<= 1024), source, severity (critical|error|warning|info),
 * timestamp (ISO 8601), component, group, class, custom_details}; a resolve
 * needs only routing_key, event_action and dedup_key.
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

#include "../../../plugins/streamspace-pagerduty/pd_event.h"

/* 2026-12-01T18:00:00Z */
#define NOW ((time_t)1796148000)
#define KEY "0123456789abcdef0123456789ABCDEF"

static json_object *event(const char *config, const char *name, const char *data)
{
	json_object *c = parse(config), *d = parse(data);
	json_object *m = pd_event(c, name, d, NOW);
	json_object_put(c);
	json_object_put(d);
	return m;
}

static void test_trigger(void **state)
{
	(void)state;
	json_object *m =
	    event("{\"routingKey\":\"" KEY "\"}", "session.hibernated",
		  "{\"id\":\"s1\",\"user\":\"alice\",\"cpu\":2,\"labels\":{\"a\":\"b\"}}");
	assert_non_null(m);
	assert_int_equal(json_object_object_length(m), 5);
	assert_string_equal(str_at(m, "routing_key"), KEY);
	assert_string_equal(str_at(m, "event_action"), "trigger");
	assert_string_equal(str_at(m, "dedup_key"), "streamspace/session/s1");
	assert_string_equal(str_at(m, "client"), "StreamSpace");
	assert_null(at(m, "client_url"));
	json_object *p = at(m, "payload");
	assert_int_equal(json_object_object_length(p), 7);
	assert_string_equal(str_at(p, "summary"), "Session s1 of alice was hibernated.");
	assert_string_equal(str_at(p, "source"), "streamspace");
	assert_string_equal(str_at(p, "severity"), "warning");
	assert_string_equal(str_at(p, "timestamp"), "2026-12-01T18:00:00.000Z");
	assert_string_equal(str_at(p, "component"), "session");
	assert_string_equal(str_at(p, "class"), "session.hibernated");
	assert_null(at(p, "group"));
	/* The data as it is (objects too), with the event's name. */
	assert_string_equal(str_at(p, "custom_details/id"), "s1");
	assert_int_equal(json_object_get_int(at(p, "custom_details/cpu")), 2);
	assert_string_equal(str_at(p, "custom_details/labels/a"), "b");
	assert_string_equal(str_at(p, "custom_details/event"), "session.hibernated");
	json_object_put(m);
}

static void test_resolve_same_key(void **state)
{
	(void)state;
	const char *cfg = "{\"routingKey\":\"" KEY "\"}";
	json_object *t = event(cfg, "session.hibernated", "{\"id\":\"s7\"}");
	json_object *r = event(cfg, "session.woken", "{\"id\":\"s7\",\"user\":\"x\"}");
	json_object *r2 = event(cfg, "session.deleted", "{\"id\":\"s7\"}");
	assert_non_null(t);
	assert_non_null(r);
	assert_non_null(r2);
	assert_string_equal(str_at(r, "dedup_key"), str_at(t, "dedup_key"));
	assert_string_equal(str_at(r2, "dedup_key"), str_at(t, "dedup_key"));
	/* A resolve: exactly routing_key, event_action and dedup_key. */
	assert_int_equal(json_object_object_length(r), 3);
	assert_string_equal(str_at(r, "event_action"), "resolve");
	assert_string_equal(str_at(r, "routing_key"), KEY);
	json_object_put(t);
	json_object_put(r);
	json_object_put(r2);
	/* Not configured: nothing. */
	assert_null(event(cfg, "session.created", "{\"id\":\"s7\"}"));
	assert_null(event(cfg, "plugin.x.y", "{\"id\":\"s7\"}"));
	/* No routing key: nothing (the schema requires one). */
	assert_null(event("{}", "session.hibernated", "{\"id\":\"s7\"}"));
}

static void test_configured(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"routingKey\":\"" KEY "\",\"triggerEvents\":[\"session.created\",\"user.created\","
	    "\"session.stopped\"],\"resolveEvents\":[\"session.stopped\",\"session.deleted\"],"
	    "\"severity\":\"info\",\"severityByEvent\":{\"user.created\":\"critical\"},"
	    "\"summaryTemplate\":\"{{user}} on {{node}}\",\"source\":\"{{node}}\","
	    "\"component\":\"desktop\",\"group\":\"prod\",\"dedupKeyPrefix\":\"ss-eu\","
	    "\"clientUrl\":\"https://ss.example/admin/\",\"includeDetails\":false}";
	json_object *m =
	    event(cfg, "session.created", "{\"id\":\"s1\",\"user\":\"a\",\"node\":\"n1\"}");
	assert_non_null(m);
	assert_string_equal(str_at(m, "dedup_key"), "ss-eu/session/s1");
	assert_string_equal(str_at(m, "client_url"), "https://ss.example/admin/");
	assert_string_equal(str_at(m, "payload/summary"), "a on n1");
	assert_string_equal(str_at(m, "payload/source"), "n1");
	assert_string_equal(str_at(m, "payload/severity"), "info");
	assert_string_equal(str_at(m, "payload/component"), "desktop");
	assert_string_equal(str_at(m, "payload/group"), "prod");
	assert_null(at(m, "payload/custom_details"));
	json_object_put(m);
	/* A user's alert is keyed by the user; its own severity; a numeric id. */
	m = event(cfg, "user.created", "{\"id\":42}");
	assert_non_null(m);
	assert_string_equal(str_at(m, "dedup_key"), "ss-eu/user/42");
	assert_string_equal(str_at(m, "payload/severity"), "critical");
	/* Empty expansions fall back: summary and source are required. */
	assert_string_equal(str_at(m, "payload/summary"), " on ");
	assert_string_equal(str_at(m, "payload/source"), "streamspace");
	json_object_put(m);
	/* In both lists: triggers. Listed lists replace the defaults. */
	m = event(cfg, "session.stopped", "{\"id\":\"s1\"}");
	assert_string_equal(str_at(m, "event_action"), "trigger");
	json_object_put(m);
	assert_null(event(cfg, "session.hibernated", "{\"id\":\"s1\"}"));
	m = event(cfg, "session.deleted", "{\"id\":\"s1\"}");
	assert_string_equal(str_at(m, "event_action"), "resolve");
	json_object_put(m);
}

static void test_keys_and_limits(void **state)
{
	(void)state;
	json_object *c = parse("{}");
	char key[PD_DEDUP_KEY_MAX + 1], id[300];
	json_object *d = parse("{\"user\":\"x\"}");
	assert_false(pd_dedup_key(c, "session.created", d, key, sizeof key));
	json_object_put(d);
	d = parse("{\"id\":\"\"}");
	assert_false(pd_dedup_key(c, "session.created", d, key, sizeof key));
	json_object_put(d);
	d = parse("{\"id\":{\"a\":1}}");
	assert_false(pd_dedup_key(c, "session.created", d, key, sizeof key));
	json_object_put(d);
	/* A key is never cut: 255 bytes fit, 256 do not. */
	size_t fixed = strlen("streamspace/session/");
	memset(id, 'i', sizeof id);
	id[PD_DEDUP_KEY_MAX - fixed] = '\0';
	d = json_object_new_object();
	json_object_object_add(d, "id", json_object_new_string(id));
	assert_true(pd_dedup_key(c, "session.created", d, key, sizeof key));
	assert_int_equal(strlen(key), PD_DEDUP_KEY_MAX);
	id[PD_DEDUP_KEY_MAX - fixed] = 'i';
	id[PD_DEDUP_KEY_MAX - fixed + 1] = '\0';
	json_object_object_add(d, "id", json_object_new_string(id));
	assert_false(pd_dedup_key(c, "session.created", d, key, sizeof key));
	json_object_put(d);
	json_object_put(c);
	assert_int_equal(pd_action_of(NULL, NULL), PD_NONE);

	/* The summary is cut to 1024 bytes at a UTF-8 boundary; huge data is not sent as details.
	 */
	static char data[400 * 1024];
	int n = snprintf(data, sizeof data, "{\"id\":\"s1\",\"big\":\"");
	for (int i = 0; i < 140 * 1024; i++)
		n += snprintf(data + n, sizeof data - (size_t)n, "\xc3\xa9");
	snprintf(data + n, sizeof data - (size_t)n, "\"}");
	json_object *m = event("{\"routingKey\":\"" KEY "\",\"summaryTemplate\":\"x{{big}}\"}",
			       "session.hibernated", data);
	assert_non_null(m);
	assert_int_equal(strlen(str_at(m, "payload/summary")), 1023);
	assert_true(json_object_get_boolean(at(m, "payload/custom_details/truncated")));
	assert_null(at(m, "payload/custom_details/big"));
	assert_string_equal(str_at(m, "payload/custom_details/event"), "session.hibernated");
	json_object_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trigger),
	    cmocka_unit_test(test_resolve_same_key),
	    cmocka_unit_test(test_configured),
	    cmocka_unit_test(test_keys_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
