/*
 * secrets (daemon/control/secrets.c): every schema marker honoured at every
 * depth, the key-name fallback, masked values sent back keeping the stored
 * ones, and the strings the log redaction blanks out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "secrets.h"

static json_object *parse(const char *text)
{
	char err[JSON_ERR_MAX];
	json_object *v = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);
	if (v == NULL)
		fail_msg("test JSON %s: %s", text, err);
	return v;
}

/* Masks config under schema and compares the result's text with want. */
static void masks_to(const char *schema, const char *config, const char *want)
{
	json_object *s = schema ? parse(schema) : NULL, *c = parse(config);
	json_object *m = secrets_mask(c, s);
	const char *got = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);

	if (strcmp(got, want) != 0)
		fail_msg("schema %s\nconfig %s\n  got %s\n want %s", schema ? schema : "(none)",
			 config, got, want);
	json_object_put(m);
	json_object_put(c);
	json_object_put(s);
}

#define M "\"" SECRETS_MASK "\""

static void test_properties_markers(void **state)
{
	(void)state;
	masks_to("{\"properties\":{\"k\":{\"sensitive\":true},\"h\":{\"format\":\"password\"},"
		 "\"w\":{\"writeOnly\":true},\"c\":{\"type\":\"string\"},"
		 "\"n\":{\"properties\":{\"pin\":{\"writeOnly\":true}}}}}",
		 "{\"k\":\"a\",\"h\":\"b\",\"w\":[1],\"c\":\"#a\",\"n\":{\"pin\":1234,\"x\":1},"
		 "\"unset\":null}",
		 "{\"k\":" M ",\"h\":" M ",\"w\":" M ",\"c\":\"#a\",\"n\":{\"pin\":" M
		 ",\"x\":1},\"unset\":null}");
	/* A secret object is masked whole. */
	masks_to("{\"properties\":{\"o\":{\"type\":\"object\",\"sensitive\":true}}}",
		 "{\"o\":{\"a\":1}}", "{\"o\":" M "}");
}

static void test_items(void **state)
{
	(void)state;
	/* The review's case: endpoints[].auth marked sensitive under items. */
	masks_to(
	    "{\"properties\":{\"endpoints\":{\"type\":\"array\",\"items\":{\"properties\":"
	    "{\"url\":{},\"auth\":{\"sensitive\":true}}}}}}",
	    "{\"endpoints\":[{\"url\":\"u1\",\"auth\":\"s1\"},{\"url\":\"u2\",\"auth\":\"s2\"}]}",
	    "{\"endpoints\":[{\"url\":\"u1\",\"auth\":" M "},{\"url\":\"u2\",\"auth\":" M "}]}");
	/* Tuple form, then additionalItems. */
	masks_to("{\"properties\":{\"t\":{\"items\":[{},{\"sensitive\":true}],"
		 "\"additionalItems\":{\"format\":\"password\"}}}}",
		 "{\"t\":[\"a\",\"b\",\"c\",\"d\"]}", "{\"t\":[\"a\"," M "," M "," M "]}");
	/* 2020-12: prefixItems, then items. */
	masks_to("{\"properties\":{\"t\":{\"prefixItems\":[{\"writeOnly\":true}],\"items\":{}}}}",
		 "{\"t\":[\"a\",\"b\"]}", "{\"t\":[" M ",\"b\"]}");
	/* Arrays of arrays. */
	masks_to("{\"properties\":{\"m\":{\"items\":{\"items\":{\"sensitive\":true}}}}}",
		 "{\"m\":[[\"a\"],[\"b\",\"c\"]]}", "{\"m\":[[" M "],[" M "," M "]]}");
}

static void test_additional_and_pattern_properties(void **state)
{
	(void)state;
	masks_to("{\"properties\":{\"name\":{}},\"additionalProperties\":{\"sensitive\":true}}",
		 "{\"name\":\"n\",\"other\":\"o\"}", "{\"name\":\"n\",\"other\":" M "}");
	masks_to("{\"patternProperties\":{\"^key_[0-9]+$\":{\"sensitive\":true}},"
		 "\"additionalProperties\":{}}",
		 "{\"key_1\":\"a\",\"key_x\":\"b\",\"keys\":{\"key_2\":\"c\"}}",
		 "{\"key_1\":" M ",\"key_x\":\"b\",\"keys\":{\"key_2\":\"c\"}}");
	/* Nested: a map of accounts, each with a secret field. */
	masks_to("{\"properties\":{\"accounts\":{\"additionalProperties\":{\"properties\":"
		 "{\"pin\":{\"sensitive\":true}}}}}}",
		 "{\"accounts\":{\"a\":{\"pin\":\"1\",\"id\":2},\"b\":{\"pin\":\"3\"}}}",
		 "{\"accounts\":{\"a\":{\"pin\":" M ",\"id\":2},\"b\":{\"pin\":" M "}}}");
	/* A pattern matched by the key: additionalProperties does not apply. */
	masks_to(
	    "{\"patternProperties\":{\"^p\":{}},\"additionalProperties\":{\"sensitive\":true}}",
	    "{\"pa\":\"x\",\"q\":\"y\"}", "{\"pa\":\"x\",\"q\":" M "}");
}

static void test_combinators_and_refs(void **state)
{
	(void)state;
	masks_to("{\"allOf\":[{\"properties\":{\"a\":{\"sensitive\":true}}}],"
		 "\"anyOf\":[{\"properties\":{\"b\":{\"format\":\"password\"}}}],"
		 "\"oneOf\":[{},{\"properties\":{\"c\":{\"writeOnly\":true}}}]}",
		 "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}",
		 "{\"a\":" M ",\"b\":" M ",\"c\":" M ",\"d\":\"4\"}");
	masks_to("{\"if\":{\"properties\":{\"mode\":{\"const\":\"x\"}}},"
		 "\"then\":{\"properties\":{\"k\":{\"sensitive\":true}}},"
		 "\"else\":{\"properties\":{\"j\":{\"sensitive\":true}}}}",
		 "{\"mode\":\"y\",\"k\":\"1\",\"j\":\"2\"}",
		 "{\"mode\":\"y\",\"k\":" M ",\"j\":" M "}");
	masks_to(
	    "{\"$defs\":{\"secret\":{\"type\":\"string\",\"sensitive\":true}},"
	    "\"definitions\":{\"ep\":{\"properties\":{\"key\":{\"$ref\":\"#/$defs/secret\"}}}},"
	    "\"properties\":{\"eps\":{\"items\":{\"$ref\":\"#/definitions/ep\"}},"
	    "\"x\":{\"$ref\":\"#/$defs/secret\"}}}",
	    "{\"eps\":[{\"key\":\"k\",\"url\":\"u\"}],\"x\":\"s\"}",
	    "{\"eps\":[{\"key\":" M ",\"url\":\"u\"}],\"x\":" M "}");
	/* A $ref cycle ends; a recursive schema still describes every depth. */
	masks_to("{\"$ref\":\"#\",\"properties\":{\"next\":{\"$ref\":\"#\"},"
		 "\"s\":{\"sensitive\":true}}}",
		 "{\"s\":\"1\",\"next\":{\"s\":\"2\",\"next\":{\"s\":\"3\",\"v\":4}}}",
		 "{\"s\":" M ",\"next\":{\"s\":" M ",\"next\":{\"s\":" M ",\"v\":4}}}");
	/* ~1 is "/" in a pointer. */
	masks_to("{\"$defs\":{\"a/b\":{\"sensitive\":true}},\"properties\":"
		 "{\"z\":{\"$ref\":\"#/$defs/a~1b\"}}}",
		 "{\"z\":\"1\"}", "{\"z\":" M "}");
}

static void test_names(void **state)
{
	static const char *const secret[] = {
	    "password",		"dbPassword", "passwd",	       "pwd",	      "DB_PWD",
	    "passphrase",	"secret",     "client_secret", "token",	      "accessToken",
	    "apikey",		"api_key",    "api-key",       "API_KEY",     "xApiKey",
	    "Authorization",	"auth",	      "basicAuth",     "credentials", "private_key",
	    "privateKey",	"access_key", "webhookUrl",    "webhook_url", "dsn",
	    "connectionString", "signingKey", "cookie"};
	static const char *const plain[] = {"author", "channel",  "greeting", "authority",
					    "url",    "keyboard", "name",     "passenger"};
	(void)state;
	for (size_t i = 0; i < sizeof secret / sizeof *secret; i++)
		if (!secrets_name(secret[i]))
			fail_msg("%s not taken for a secret", secret[i]);
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
		if (secrets_name(plain[i]))
			fail_msg("%s taken for a secret", plain[i]);
	/* Objects under such names, not described by the schema, are masked whole. */
	masks_to(NULL,
		 "{\"credentials\":{\"pass\":\"p\",\"user\":\"u\"},\"Authorization\":\"B x\"}",
		 "{\"credentials\":" M ",\"Authorization\":" M "}");
	masks_to("{\"properties\":{\"greeting\":{}}}",
		 "{\"nested\":{\"deeper\":[{\"passphrase\":\"p\",\"ok\":1}]}}",
		 "{\"nested\":{\"deeper\":[{\"passphrase\":" M ",\"ok\":1}]}}");
	/* A flag hides nothing: a boolean is not a secret by its name (but by a marker). */
	masks_to("{\"properties\":{\"b\":{\"sensitive\":true}}}",
		 "{\"requireAuth\":true,\"token\":false,\"b\":true}",
		 "{\"requireAuth\":true,\"token\":false,\"b\":" M "}");
	/* Described as a plain string, still a secret by its name; unless the schema says not. */
	masks_to("{\"properties\":{\"token\":{\"type\":\"string\"},"
		 "\"tokenLimit\":{\"type\":\"integer\",\"sensitive\":false}}}",
		 "{\"token\":\"t\",\"tokenLimit\":5}", "{\"token\":" M ",\"tokenLimit\":5}");
}

static void test_unmask(void **state)
{
	const char *schema = "{\"properties\":{\"endpoints\":{\"items\":{\"properties\":"
			     "{\"auth\":{\"sensitive\":true}}}},\"channel\":{}}}";
	json_object *s = parse(schema);
	json_object *stored =
	    parse("{\"apiKey\":\"k-123\",\"channel\":\"#a\",\"credentials\":{\"pass\":\"p\"},"
		  "\"endpoints\":[{\"url\":\"u\",\"auth\":\"s1\"},{\"auth\":\"s2\"}]}");
	json_object *sent =
	    parse("{\"apiKey\":" M ",\"channel\":" M ",\"credentials\":" M ",\"endpoints\":"
		  "[{\"url\":\"u2\",\"auth\":" M "},{\"auth\":\"new\"},{\"auth\":" M "}],"
		  "\"fresh_token\":" M "}");
	json_object *out = secrets_unmask(sent, stored, s);
	(void)state;
	assert_string_equal(
	    json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
	    /* Masks where a stored value exists come back as it; the rest are literal. */
	    "{\"apiKey\":\"k-123\",\"channel\":" M ",\"credentials\":{\"pass\":\"p\"},"
	    "\"endpoints\":[{\"url\":\"u2\",\"auth\":\"s1\"},{\"auth\":\"new\"},{\"auth\":" M
	    "}],\"fresh_token\":" M "}");
	json_object_put(out);
	json_object_put(sent);
	json_object_put(stored);
	json_object_put(s);
}

static void test_values(void **state)
{
	json_object *s = parse("{\"properties\":{\"eps\":{\"items\":{\"properties\":"
			       "{\"auth\":{\"sensitive\":true}}}},\"pin\":{\"sensitive\":true}}}");
	json_object *c =
	    parse("{\"eps\":[{\"auth\":\"first-secret\"},{\"auth\":\"first-secret\"}],"
		  "\"pin\":12345678,\"credentials\":{\"user\":\"admin-user\","
		  "\"list\":[\"in-a-list\"]},\"apiKey\":\"abc\",\"greeting\":\"hello\"}");
	json_object *v = secrets_values(c, s);
	(void)state;
	/* Once each; numbers as written; "abc" is below SECRETS_REDACT_MIN; greeting is not secret.
	 */
	assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			    "[\"first-secret\",\"admin-user\",\"in-a-list\",\"12345678\"]");
	json_object_put(v);
	json_object_put(c);
	json_object_put(s);
}

/* At most SECRETS_VALUES_MAX, the longest: what the log redaction can afford per line. */
static void test_values_bounded(void **state)
{
	json_object *c = json_object_new_object(), *v;
	char key[32], val[32];
	(void)state;
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof key, "password%d", i);
		snprintf(val, sizeof val, "%s%d", i >= 1000 ? "secret-" : "s-", i);
		json_object_object_add(c, key, json_object_new_string(val));
	}
	v = secrets_values(c, NULL);
	assert_int_equal(json_object_array_length(v), SECRETS_VALUES_MAX);
	/* The 2000 of "secret-<i>" are the longer ones: they come first. */
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "secret-1000");
	for (size_t i = 0; i < json_object_array_length(v); i++)
		assert_true(strncmp(json_object_get_string(json_object_array_get_idx(v, i)),
				    "secret-", 7) == 0);
	json_object_put(v);
	json_object_put(c);
}

static void test_not_an_object(void **state)
{
	json_object *m = secrets_mask(NULL, NULL), *a = json_object_new_array();
	(void)state;
	assert_string_equal(json_object_to_json_string(m), "{ }");
	json_object_put(m);
	m = secrets_unmask(a, NULL, NULL);
	assert_true(json_object_is_type(m, json_type_object));
	json_object_put(m);
	json_object_put(a);
	/* A pattern that does not compile counts as matching: its markers apply. */
	masks_to("{\"patternProperties\":{\"([\":{\"sensitive\":true}}}", "{\"a\":\"1\"}",
		 "{\"a\":" M "}");
}

/*
 * A manifest's schema is the plugin author's: past 128 distinct patterns
 * each further one counts as matching, so its markers apply (masked), and
 * the walk's cost stays bounded.
 */
static void test_many_patterns(void **state)
{
	char *schema = malloc(200 * 48 + 64), *p = schema;
	(void)state;
	p += sprintf(p, "{\"patternProperties\":{");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "%s\"^never-%d$\":{\"sensitive\":true}", i ? "," : "", i);
	sprintf(p, "}}");
	masks_to(schema, "{\"visible\":\"v\"}", "{\"visible\":" M "}");
	/* Within the limit, a pattern that does not match leaves the value alone. */
	masks_to("{\"patternProperties\":{\"^never$\":{\"sensitive\":true}}}",
		 "{\"visible\":\"v\"}", "{\"visible\":\"v\"}");
	free(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_properties_markers),
	    cmocka_unit_test(test_items),
	    cmocka_unit_test(test_additional_and_pattern_properties),
	    cmocka_unit_test(test_combinators_and_refs),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_unmask),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_values_bounded),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_many_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
