/* manifest.json validation and the configuration helpers that use its schema. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "manifest.h"
#include "names.h"
#include "schema.h"

static struct manifest *parse(const char *text, char *err, size_t errlen)
{
	return manifest_parse(text, strlen(text), err, errlen);
}

/* A manifest is input: at most JSON_INPUT_DEPTH deep, so its defaultConfig fits a frame. */
static void test_depth(void **state)
{
	char text[512], err[256];
	struct manifest *m;
	size_t n = 0;
	(void)state;
	for (int depth = JSON_INPUT_DEPTH; depth <= JSON_INPUT_DEPTH + 1; depth++) {
		/* {"name":"a","version":"1.0.0","defaultConfig":{"a":[[...]]}}: depth-3 arrays. */
		n = (size_t)snprintf(
		    text, sizeof text,
		    "{\"name\":\"a\",\"version\":\"1.0.0\",\"defaultConfig\":{\"a\":");
		for (int i = 0; i < depth - 2; i++)
			text[n++] = '[';
		for (int i = 0; i < depth - 2; i++)
			text[n++] = ']';
		text[n++] = '}';
		text[n++] = '}';
		text[n] = '\0';
		err[0] = '\0';
		m = parse(text, err, sizeof err);
		if (depth == JSON_INPUT_DEPTH) {
			if (m == NULL)
				fail_msg("depth %d refused: %s", depth, err);
		} else {
			assert_null(m);
			assert_non_null(strstr(err, "nesting deeper than"));
		}
		manifest_free(m);
	}
}

static void test_full_manifest(void **state)
{
	const char *text =
	    "{\"name\": \"streamspace-slack\", \"version\": \"1.2.0\","
	    " \"displayName\": \"Slack Integration\", \"description\": \"Send notifications\","
	    " \"author\": \"StreamSpace\", \"license\": \"MIT\", \"homepage\": \"https://x\","
	    " \"icon\": \"icon.png\", \"type\": \"extension\", \"category\": \"Integrations\","
	    " \"tags\": [\"chat\", \"notifications\"], \"requirements\": {\"streamspace\": "
	    "\">=1\"},"
	    " \"permissions\": [\"network\", \"read:sessions\"],"
	    " \"configSchema\": {\"type\": \"object\", \"properties\": {\"webhookUrl\":"
	    "  {\"type\": \"string\", \"sensitive\": true}}},"
	    " \"defaultConfig\": {\"channel\": \"#general\"},"
	    " \"entrypoints\": {\"main\": \"slack.so\"}, \"screenshots\": []}\n";
	char err[256] = "";
	struct manifest *m = parse(text, err, sizeof err);

	(void)state;
	assert_non_null(m);
	assert_string_equal(m->name, "streamspace-slack");
	assert_string_equal(m->version, "1.2.0");
	assert_string_equal(m->display_name, "Slack Integration");
	assert_string_equal(m->category, "Integrations");
	assert_string_equal(m->type, "extension");
	assert_string_equal(m->entry_main, "slack.so");
	assert_int_equal(json_object_array_length(m->tags), 2);
	assert_int_equal(json_object_array_length(m->permissions), 2);
	assert_non_null(m->config_schema);
	assert_non_null(m->requirements);
	manifest_free(m);
}

static void test_defaults(void **state)
{
	char err[256] = "";
	struct manifest *m =
	    parse("{\"name\": \"hello\", \"version\": \"0.1.0\"}", err, sizeof err);

	(void)state;
	assert_non_null(m);
	assert_string_equal(m->entry_main, "hello.so");
	assert_null(m->display_name);
	assert_int_equal(json_object_array_length(m->tags), 0);
	assert_int_equal(json_object_array_length(m->permissions), 0);
	assert_true(json_object_is_type(m->default_config, json_type_object));
	manifest_free(m);
}

/* Each of these must be refused, with a message naming the problem. */
static void test_rejects(void **state)
{
	static const struct {
		const char *text, *needle;
	} bad[] = {
	    {"[]", "object"},
	    {"{\"version\": \"1.0.0\"}", "name"},
	    {"{\"name\": \"Hello\", \"version\": \"1.0.0\"}", "name"},
	    {"{\"name\": \"marketplace\", \"version\": \"1.0.0\"}", "name"},
	    {"{\"name\": \"-x\", \"version\": \"1.0.0\"}", "name"},
	    {"{\"name\": \"hello\"}", "version"},
	    {"{\"name\": \"hello\", \"version\": \"v1\"}", "version"},
	    {"{\"name\": \"hello\", \"version\": 1}", "version"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"tags\": \"x\"}", "tags"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"tags\": [1]}", "tags"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"permissions\": [\"root\"]}",
	     "permissions"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"displayName\": 3}", "displayName"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"configSchema\": []}", "configSchema"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"configSchema\": {\"type\": \"array\"}}",
	     "configSchema"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"defaultConfig\": 1}", "defaultConfig"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"entrypoints\": {\"main\": "
	     "\"../evil.so\"}}",
	     "entrypoints"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\", \"entrypoints\": {\"main\": "
	     "\"hello.dll\"}}",
	     "entrypoints"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\"} x", "JSON"},
	    {"{\"name\": \"hello\", \"version\": \"1.0\",}", "JSON"},
	    {"", "JSON"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char err[256] = "";
		struct manifest *m = parse(bad[i].text, err, sizeof err);

		if (m != NULL)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("%s: message \"%s\" does not mention %s", bad[i].text, err,
				 bad[i].needle);
	}
}

static void test_too_large(void **state)
{
	size_t n = MANIFEST_MAX_BYTES + 2;
	char *big = test_malloc(n);
	char err[256] = "";

	(void)state;
	memset(big, ' ', n);
	assert_null(manifest_parse(big, n, err, sizeof err));
	assert_non_null(strstr(err, "larger"));
	test_free(big);
}

static void test_versions_permissions(void **state)
{
	(void)state;
	assert_true(manifest_version_valid("1.0.0"));
	assert_true(manifest_version_valid("2.1.0-beta.1+build.5"));
	assert_false(manifest_version_valid(""));
	assert_false(manifest_version_valid("v1"));
	assert_false(manifest_version_valid("1.0 beta"));
	assert_false(manifest_version_valid(NULL));
	assert_true(manifest_permission_valid("network"));
	assert_true(manifest_permission_valid("read:sessions"));
	assert_true(manifest_permission_valid("write:users"));
	assert_false(manifest_permission_valid("read:"));
	assert_false(manifest_permission_valid("read:Sessions"));
	assert_false(manifest_permission_valid("sudo"));
	/* A closed list: the shape of a permission is not enough. */
	assert_true(manifest_permission_valid("storage"));
	assert_true(manifest_permission_valid("routes"));
	assert_true(manifest_permission_valid("scheduler"));
	assert_true(manifest_permission_valid("admin"));
	assert_true(manifest_permission_valid("write:sessions"));
	assert_false(manifest_permission_valid("read:nodes"));
	assert_false(manifest_permission_valid("write:billing"));
	assert_false(manifest_permission_valid("Storage"));
}

/* Plugin names as the API checks them (proto/names.c). */
static void test_names(void **state)
{
	char long_name[70];

	(void)state;
	assert_true(name_plugin_valid("hello"));
	assert_true(name_plugin_valid("streamspace-slack"));
	assert_true(name_plugin_valid("0x"));
	assert_false(name_plugin_valid("marketplace"));
	assert_false(name_plugin_valid(""));
	assert_false(name_plugin_valid("-a"));
	assert_false(name_plugin_valid("A"));
	assert_false(name_plugin_valid("a_b"));
	assert_false(name_plugin_valid("a/b"));
	assert_false(name_plugin_valid("../x"));
	memset(long_name, 'a', 63);
	long_name[63] = '\0';
	assert_true(name_plugin_valid(long_name));
	long_name[63] = 'a';
	long_name[64] = '\0';
	assert_false(name_plugin_valid(long_name));
}

static void test_limits(void **state)
{
	char err[256];
	struct manifest *m;
	static const char *const bad[] = {
	    "{\"memoryMB\": 8}",
	    "{\"memoryMB\": 99999}",
	    "{\"memoryMB\": \"64\"}",
	    "{\"eventTimeoutMs\": 1}",
	    "{\"handshakeTimeoutMs\": 1e3}",
	    "{\"cpu\": 1}",
	    "[]",
	};

	m = parse("{\"name\": \"a\", \"version\": \"1.0.0\", \"limits\": {\"memoryMB\": 64, "
		  "\"eventTimeoutMs\": 250, \"handshakeTimeoutMs\": 900}}",
		  err, sizeof err);
	assert_non_null(m);
	assert_int_equal(m->mem_limit, 64ull << 20);
	assert_int_equal(m->event_timeout_ms, 250);
	assert_int_equal(m->handshake_timeout_ms, 900);
	manifest_free(m);

	m = parse("{\"name\": \"a\", \"version\": \"1.0.0\"}", err, sizeof err);
	assert_non_null(m);
	assert_int_equal(m->mem_limit, 0);
	assert_int_equal(m->event_timeout_ms, 0);
	manifest_free(m);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *text = NULL;
		assert_true(asprintf(&text,
				     "{\"name\": \"a\", \"version\": \"1.0.0\", \"limits\": %s}",
				     bad[i]) > 0);
		err[0] = '\0';
		assert_null(parse(text, err, sizeof err));
		assert_non_null(strstr(err, "limit"));
		free(text);
	}
}

/* configSchema is compiled with the manifest: one that does not compile refuses it. */
static void test_config_schema_compiled(void **state)
{
	char err[512] = "";
	struct manifest *m = parse("{\"name\": \"p\", \"version\": \"1.0.0\", \"configSchema\": "
				   "{\"type\": \"object\", \"required\": [\"url\"], "
				   "\"properties\": {\"url\": {\"format\": \"uri\"}}}}",
				   err, sizeof err);
	json_object *cfg = json_object_new_object();
	struct schema_errors *e;

	(void)state;
	assert_non_null(m);
	assert_non_null(m->schema);
	e = schema_validate(m->schema, cfg);
	assert_int_equal(schema_errors_count(e), 1);
	assert_string_equal(schema_errors_path(e, 0), "/url");
	schema_errors_free(e);
	json_object_put(cfg);
	manifest_free(m);
	/* No configSchema, no compiled schema. */
	m = parse("{\"name\": \"p\", \"version\": \"1.0.0\"}", err, sizeof err);
	assert_non_null(m);
	assert_null(m->schema);
	manifest_free(m);
	assert_null(parse("{\"name\": \"p\", \"version\": \"1.0.0\", \"configSchema\": "
			  "{\"properties\": {\"a\": {\"$ref\": \"#/definitions/x\"}}}}",
			  err, sizeof err));
	assert_non_null(strstr(err, "manifest: configSchema: schema at \"#/properties/a\""));
	assert_non_null(strstr(err, "does not resolve"));
	assert_null(parse("{\"name\": \"p\", \"version\": \"1.0.0\", \"configSchema\": "
			  "{\"properties\": {\"a\": {\"pattern\": \"(\"}}}}",
			  err, sizeof err));
	assert_non_null(strstr(err, "invalid pattern"));
}

/* scheduler.jobs: valid jobs are kept; each refusal names the job and what is wrong. */
static void test_scheduler(void **state)
{
	char err[512];
	struct manifest *m;
	static const struct {
		const char *perms, *sched, *says;
	} bad[] = {
	    {"[\"scheduler\"]", "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"61 * * * *\"}]}",
	     "scheduler.jobs[0] \"c\": schedule \"61 * * * *\": minute: 61 is out of range 0-59"},
	    {"[\"scheduler\"]", "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"0 0 30 2 *\"}]}",
	     "never fires"},
	    {"[\"scheduler\"]", "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"* * *\"}]}",
	     "schedule \"* * *\""},
	    {"[\"scheduler\"]", "{\"jobs\": [{\"name\": \"c\"}]}", "schedule is missing"},
	    {"[\"scheduler\"]", "{\"jobs\": [{\"name\": \"C\", \"schedule\": \"@every 5\"}]}",
	     "scheduler.jobs[0].name"},
	    {"[\"scheduler\"]",
	     "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"@every 5\"}, {\"name\": \"c\", "
	     "\"schedule\": \"@every 6\"}]}",
	     "\"c\" is declared twice"},
	    {"[\"scheduler\"]",
	     "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"@every 5\", \"timeout\": 3}]}",
	     "unknown field \"timeout\""},
	    {"[\"scheduler\"]", "{\"cron\": []}", "unknown scheduler field \"cron\""},
	    {"[\"scheduler\"]", "{\"jobs\": {}}", "scheduler.jobs must be an array"},
	    {"[\"scheduler\"]", "{\"jobs\": [3]}", "scheduler.jobs[0] must be an object"},
	    {"[\"storage\"]", "{\"jobs\": [{\"name\": \"c\", \"schedule\": \"@every 5\"}]}",
	     "needs the \"scheduler\" permission"},
	    {"[]", "[]", "\"scheduler\" must be an object"},
	};

	(void)state;
	m = parse(
	    "{\"name\": \"a\", \"version\": \"1.0.0\", \"permissions\": [\"scheduler\"], "
	    "\"scheduler\": {\"jobs\": [{\"name\": \"cleanup-old\", \"schedule\": \"*/5 * * * *\", "
	    "\"description\": \"Cleans up\"}, {\"name\": \"tick\", \"schedule\": \"@every 1\"}]}}",
	    err, sizeof err);
	assert_non_null(m);
	assert_int_equal(json_object_array_length(m->jobs), 2);
	manifest_free(m);
	/* admin holds scheduler too; no jobs, no permission needed. */
	m = parse("{\"name\": \"a\", \"version\": \"1.0.0\", \"permissions\": [\"admin\"], "
		  "\"scheduler\": {\"jobs\": [{\"name\": \"t\", \"schedule\": \"@every 1\"}]}}",
		  err, sizeof err);
	assert_non_null(m);
	manifest_free(m);
	m = parse("{\"name\": \"a\", \"version\": \"1.0.0\", \"scheduler\": {\"jobs\": []}}", err,
		  sizeof err);
	assert_non_null(m);
	manifest_free(m);
	m = parse("{\"name\": \"a\", \"version\": \"1.0.0\"}", err, sizeof err);
	assert_null(m->jobs);
	manifest_free(m);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *text = NULL;
		assert_true(
		    asprintf(&text,
			     "{\"name\": \"a\", \"version\": \"1.0.0\", \"permissions\": %s, "
			     "\"scheduler\": %s}",
			     bad[i].perms, bad[i].sched) > 0);
		err[0] = '\0';
		assert_null(parse(text, err, sizeof err));
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].says);
		free(text);
	}
}

static void test_merge(void **state)
{
	json_object *defs = json_tokener_parse("{\"a\": 1, \"b\": 2}");
	json_object *cfg = json_tokener_parse("{\"b\": 3, \"c\": 4}");
	json_object *merged = manifest_merge_config(defs, cfg), *v;

	(void)state;
	json_object_object_get_ex(merged, "a", &v);
	assert_int_equal(json_object_get_int(v), 1);
	json_object_object_get_ex(merged, "b", &v);
	assert_int_equal(json_object_get_int(v), 3);
	json_object_object_get_ex(merged, "c", &v);
	assert_int_equal(json_object_get_int(v), 4);
	json_object_put(merged);
	json_object_put(cfg);
	json_object_put(defs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_manifest), cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_defaults),	  cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_too_large),	  cmocka_unit_test(test_versions_permissions),
	    cmocka_unit_test(test_names),	  cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_limits),	  cmocka_unit_test(test_config_schema_compiled),
	    cmocka_unit_test(test_scheduler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
