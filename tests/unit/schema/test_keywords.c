/* One test per draft-07 keyword: what passes, what fails, and the exact errors. */
#include <stdlib.h>

#include "schema_int.h"
#include "schema_ref.h"
#include "schema_test.h"

static void type_names(void **state)
{
	assert_valid("{\"type\":\"string\"}", "\"x\"");
	assert_valid("{\"type\":\"integer\"}", "3");
	assert_valid("{\"type\":\"integer\"}", "3.0"); /* draft-07: 3.0 is an integer */
	assert_errors("{\"type\":\"integer\"}", "3.5", " type");
	assert_valid("{\"type\":\"number\"}", "3");
	assert_valid("{\"type\":\"null\"}", "null");
	assert_errors("{\"type\":\"object\"}", "[]", " type");
	assert_valid("{\"type\":[\"string\",\"null\"]}", "null");
	assert_errors("{\"type\":[\"string\",\"null\"]}", "1", " type");
	assert_errors("{\"type\":\"boolean\"}", "0", " type");
}

static void type_message(void **state)
{
	struct schema *s = compile_text("{\"type\":[\"string\",\"null\"]}");
	json_object *i = json_object_new_int(1);
	struct schema_errors *e = schema_validate(s, i);
	assert_int_equal(schema_errors_count(e), 1);
	assert_string_equal(schema_errors_message(e, 0), "must be null or string, not integer");
	schema_errors_free(e);
	json_object_put(i);
	schema_free(s);
}

static void properties_and_paths(void **state)
{
	const char *s = "{\"properties\":{\"a\":{\"type\":\"string\"},"
			"\"b\":{\"properties\":{\"c/d~e\":{\"type\":\"integer\"}}}}}";
	assert_valid(s, "{\"a\":\"x\",\"b\":{\"c/d~e\":1}}");
	assert_errors(s, "{\"a\":1,\"b\":{\"c/d~e\":\"no\"}}", "/a type;/b/c~1d~0e type");
	assert_valid(s, "[1]"); /* properties applies to objects only */
}

static void required(void **state)
{
	const char *s = "{\"required\":[\"url\",\"channel\"]}";
	assert_valid(s, "{\"url\":1,\"channel\":2}");
	assert_errors(s, "{}", "/url required;/channel required");
	assert_valid(s, "\"not an object\"");
}

static void additional_properties(void **state)
{
	const char *s = "{\"properties\":{\"a\":{}},\"patternProperties\":{\"^x-\":{}},"
			"\"additionalProperties\":false}";
	assert_valid(s, "{\"a\":1,\"x-y\":2}");
	assert_errors(s, "{\"a\":1,\"b\":2,\"c\":3}",
		      "/b additionalProperties;/c additionalProperties");
	assert_errors("{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":1,\"b\":\"s\"}",
		      "/b type");
}

static void pattern_properties(void **state)
{
	const char *s = "{\"patternProperties\":{\"^n_\":{\"type\":\"number\"},"
			"\"_s$\":{\"type\":\"string\"}}}";
	assert_valid(s, "{\"n_1\":1,\"a_s\":\"x\",\"other\":null}");
	/* Both patterns apply to n_s: a value cannot satisfy both. */
	assert_errors(s, "{\"n_s\":1}", "/n_s type");
	assert_errors(s, "{\"n_s\":true}", "/n_s type;/n_s type");
}

static void enum_and_const(void **state)
{
	const char *e = "{\"enum\":[\"debug\",\"info\",1,{\"a\":[1,2]},null]}";
	assert_valid(e, "\"info\"");
	assert_valid(e, "1.0");
	assert_valid(e, "{\"a\":[1.0,2]}");
	assert_valid(e, "null");
	assert_errors(e, "\"warn\"", " enum");
	assert_errors(e, "{\"a\":[2,1]}", " enum");
	assert_valid("{\"const\":{\"x\":1,\"y\":2}}", "{\"y\":2,\"x\":1}");
	assert_errors("{\"const\":{\"x\":1}}", "{\"x\":1,\"y\":2}", " const");
	assert_errors("{\"const\":false}", "0", " const");
	assert_valid("{\"const\":null}", "null");
}

static void numeric_bounds(void **state)
{
	const char *s = "{\"minimum\":1,\"maximum\":10,\"exclusiveMinimum\":0,\"exclusiveMaximum\":"
			"9.5}";
	assert_valid(s, "1");
	assert_valid(s, "9.25");
	assert_errors(s, "0", " minimum; exclusiveMinimum");
	assert_errors(s, "10", " exclusiveMaximum");
	assert_errors(s, "11", " maximum; exclusiveMaximum");
	assert_valid(s, "\"strings are not numbers\"");
	/* Beyond 2^63: json-c keeps these as unsigned, compared exactly. */
	assert_errors("{\"maximum\":9223372036854775808}", "9223372036854775809", " maximum");
	assert_valid("{\"minimum\":-9223372036854775808}", "-9223372036854775807");
}

static void multiple_of(void **state)
{
	assert_valid("{\"multipleOf\":5}", "25");
	assert_errors("{\"multipleOf\":5}", "26", " multipleOf");
	assert_valid("{\"multipleOf\":0.01}", "19.99");
	assert_errors("{\"multipleOf\":0.01}", "19.995", " multipleOf");
	assert_valid("{\"multipleOf\":1.5}", "4.5");
	assert_valid("{\"multipleOf\":2}", "0");
	assert_compile_error("{\"multipleOf\":0}", "multipleOf must be a number greater than 0");
}

static void string_length_code_points(void **state)
{
	/* "héllo" is 6 bytes and 5 code points; "😀" is 4 bytes and 1. */
	assert_valid("{\"maxLength\":5}", "\"h\\u00e9llo\"");
	assert_valid("{\"maxLength\":1,\"minLength\":1}", "\"\\ud83d\\ude00\"");
	assert_errors("{\"minLength\":2}", "\"\\ud83d\\ude00\"", " minLength");
	assert_errors("{\"maxLength\":2}", "\"abc\"", " maxLength");
	assert_valid("{\"maxLength\":2}", "12345");
	assert_compile_error("{\"minLength\":-1}", "minLength must be a non-negative integer");
	assert_valid("{\"minLength\":2.0}", "\"ab\""); /* 2.0 is an integer */
	/* 1e999 parses as infinity: refused, not converted. */
	assert_compile_error("{\"maxLength\":1e999}", "maxLength must be a non-negative integer");
}

static void pattern_is_ecma(void **state)
{
	const char *s = "{\"pattern\":\"^https://hooks\\\\.slack\\\\.com/\"}";
	assert_valid(s, "\"https://hooks.slack.com/services/T0\"");
	assert_errors(s, "\"http://hooks.slack.com/\"", " pattern");
	/* Unanchored search, as ECMA-262's RegExp.test. */
	assert_valid("{\"pattern\":\"b+\"}", "\"abbbc\"");
	/* $ is the end, not "before a final newline". */
	assert_errors("{\"pattern\":\"^a$\"}", "\"a\\n\"", " pattern");
	/* . stops at every line terminator, U+2028 included. */
	assert_errors("{\"pattern\":\"^a.b$\"}", "\"a\\u2028b\"", " pattern");
	assert_valid("{\"pattern\":\"^a.b$\"}", "\"a\\u00e9b\"");
	/* \s covers Unicode spaces; \d stays ASCII. */
	assert_valid("{\"pattern\":\"^\\\\s$\"}", "\"\\u00a0\"");
	assert_errors("{\"pattern\":\"^\\\\d$\"}", "\"\\u0661\"", " pattern");
	/* \u escapes and [^] as ECMA-262 spells them. */
	assert_valid("{\"pattern\":\"^\\\\u00e9[^]$\"}", "\"\\u00e9\\n\"");
	assert_compile_error("{\"pattern\":\"^a\\\\Z\"}", "\\Z is not an ECMA-262 escape");
	assert_compile_error("{\"pattern\":\"(?i)a\"}", "is not ECMA-262 group syntax");
	assert_compile_error("{\"pattern\":\"(unclosed\"}", "invalid pattern");
	assert_valid("{\"pattern\":\"x\"}", "1");
}

static void items_forms(void **state)
{
	assert_valid("{\"items\":{\"type\":\"integer\"}}", "[1,2,3]");
	assert_errors("{\"items\":{\"type\":\"integer\"}}", "[1,\"a\",3,\"b\"]", "/1 type;/3 type");
	const char *t = "{\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
			"\"additionalItems\":{\"type\":\"boolean\"}}";
	assert_valid(t, "[\"a\",1,true,false]");
	assert_valid(t, "[\"a\"]");
	assert_errors(t, "[1,\"a\",null]", "/0 type;/1 type;/2 type");
	/* additionalItems is ignored unless items is a tuple. */
	assert_valid("{\"items\":{},\"additionalItems\":false}", "[1,2]");
	assert_errors("{\"items\":[{}],\"additionalItems\":false}", "[1,2]", "/1 false");
}

static void item_counts_and_unique(void **state)
{
	assert_errors("{\"minItems\":2}", "[1]", " minItems");
	assert_errors("{\"maxItems\":1}", "[1,2]", " maxItems");
	assert_valid("{\"minItems\":1}", "{}");
	const char *u = "{\"uniqueItems\":true}";
	assert_valid(u, "[1,\"1\",[1],{\"a\":1},true]");
	assert_errors(u, "[1,2,1.0]", " uniqueItems");
	assert_errors(u, "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", " uniqueItems");
	assert_valid(u, "[[1,2],[2,1]]");
	assert_valid("{\"uniqueItems\":false}", "[1,1]");
}

static void contains(void **state)
{
	const char *s = "{\"contains\":{\"const\":\"admin\"}}";
	assert_valid(s, "[\"user\",\"admin\"]");
	assert_errors(s, "[\"user\"]", " contains");
	assert_errors(s, "[]", " contains");
	assert_valid(s, "{}");
}

static void property_counts_and_names(void **state)
{
	assert_errors("{\"minProperties\":1}", "{}", " minProperties");
	assert_errors("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", " maxProperties");
	const char *s = "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\",\"maxLength\":5}}";
	assert_valid(s, "{\"abc\":1}");
	assert_errors(s, "{\"abc\":1,\"ABC\":2,\"toolong\":3}",
		      "/ABC propertyNames;/toolong propertyNames");
}

static void dependencies(void **state)
{
	const char *s = "{\"dependencies\":{\"cert\":[\"key\",\"ca\"],"
			"\"proxy\":{\"required\":[\"proxyPort\"]}}}";
	assert_valid(s, "{}");
	assert_valid(s, "{\"cert\":1,\"key\":2,\"ca\":3}");
	assert_errors(s, "{\"cert\":1}", "/key dependencies;/ca dependencies");
	assert_errors(s, "{\"proxy\":\"p\"}", "/proxyPort required");
}

static void combinators(void **state)
{
	const char *all = "{\"allOf\":[{\"type\":\"string\"},{\"minLength\":3}]}";
	assert_valid(all, "\"abc\"");
	assert_errors(all, "\"ab\"", " minLength");
	assert_errors(all, "1", " type");
	const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}";
	assert_valid(any, "1");
	assert_errors(any, "1.5", " anyOf");
	const char *one = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}";
	assert_valid(one, "1");
	assert_valid(one, "2.5");
	assert_errors(one, "3", " oneOf");
	assert_errors(one, "1.5", " oneOf");
	assert_errors("{\"not\":{\"type\":\"null\"}}", "null", " not");
	assert_valid("{\"not\":{\"type\":\"null\"}}", "0");
	assert_compile_error("{\"anyOf\":[]}", "anyOf must be a non-empty array of schemas");
}

static void if_then_else(void **state)
{
	const char *s = "{\"if\":{\"properties\":{\"mode\":{\"const\":\"webhook\"}}},"
			"\"then\":{\"required\":[\"url\"]},\"else\":{\"required\":[\"token\"]}}";
	assert_valid(s, "{\"mode\":\"webhook\",\"url\":\"u\"}");
	assert_errors(s, "{\"mode\":\"webhook\"}", "/url required");
	assert_errors(s, "{\"mode\":\"bot\"}", "/token required");
	/* if alone asserts nothing. */
	assert_valid("{\"if\":false}", "1");
	assert_valid("{\"then\":false}", "1");
}

static void boolean_schemas(void **state)
{
	assert_valid("true", "{\"anything\":[1]}");
	assert_errors("false", "1", " false");
	assert_errors("{\"properties\":{\"never\":false}}", "{\"never\":1}", "/never false");
}

static void default_is_annotation(void **state)
{
	assert_valid("{\"properties\":{\"a\":{\"type\":\"integer\",\"default\":\"not an int\"}}}",
		     "{}");
}

static void refs(void **state)
{
	const char *s = "{\"definitions\":{\"port\":{\"type\":\"integer\",\"maximum\":65535}},"
			"\"properties\":{\"a\":{\"$ref\":\"#/definitions/port\"},"
			"\"b\":{\"$ref\":\"#/properties/a\"},\"c\":{\"$ref\":\"#/x~1y~0z%25\"}},"
			"\"x/y~z%\":{\"type\":\"string\"}}";
	assert_valid(s, "{\"a\":80,\"b\":443,\"c\":\"s\"}");
	assert_errors(s, "{\"a\":70000,\"b\":\"x\",\"c\":1}", "/a maximum;/b type;/c type");
	/* A recursive schema: a tree of any depth, each level checked. */
	const char *tree = "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
			   "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";
	assert_valid(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}");
	assert_errors(tree, "{\"kids\":[{\"kids\":[{\"v\":\"x\"}]}]}", "/kids/0/kids/0/v type");
	/* $ref replaces its siblings in draft-07. */
	assert_valid(
	    "{\"definitions\":{\"a\":{}},\"properties\":{\"p\":{\"$ref\":\"#/definitions/a\","
	    "\"type\":\"string\"}}}",
	    "{\"p\":1}");
	/* Through an array index. */
	assert_errors("{\"items\":[{\"type\":\"integer\"},{\"$ref\":\"#/items/0\"}]}", "[1,\"x\"]",
		      "/1 type");
}

/* "$id" sets the base URI a "$ref" is resolved against; nothing is fetched. */
static void ids(void **state)
{
	const char *s = "{\"$id\":\"http://example.com/root.json\",\"properties\":{"
			"\"a\":{\"$ref\":\"item.json\"},\"b\":{\"$ref\":\"#/definitions/n\"},"
			"\"c\":{\"$ref\":\"http://example.com/dir/leaf.json#/definitions/s\"},"
			"\"d\":{\"$ref\":\"#anchor\"}},"
			"\"definitions\":{\"n\":{\"type\":\"null\"},"
			"\"i\":{\"$id\":\"item.json\",\"type\":\"integer\"},"
			"\"x\":{\"$id\":\"#anchor\",\"type\":\"boolean\"},"
			"\"l\":{\"$id\":\"dir/leaf.json\",\"definitions\":{\"s\":"
			"{\"$ref\":\"../item.json\"}}}}}";
	assert_valid(s, "{\"a\":1,\"b\":null,\"c\":2,\"d\":true}");
	assert_errors(s, "{\"a\":\"x\",\"b\":0,\"c\":\"y\",\"d\":1}",
		      "/a type;/b type;/c type;/d type");
	/* Inside a subschema with its own "$id", "#/..." is relative to that subschema. */
	const char *inner =
	    "{\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":{"
	    "\"p\":{\"$id\":\"http://x.example/p\",\"definitions\":{\"s\":"
	    "{\"type\":\"integer\"}},\"$ref\":\"#/definitions/s\"},"
	    "\"q\":{\"$id\":\"http://x.example/q\",\"definitions\":{\"s\":"
	    "{\"type\":\"integer\"}},\"properties\":{\"r\":{\"$ref\":\"#/definitions/s\"}}}}}";
	/* p: "$ref" replaces its siblings, "$id" included, so the root's string applies. */
	assert_valid(inner, "{\"p\":\"s\",\"q\":{\"r\":1}}");
	assert_errors(inner, "{\"p\":1,\"q\":{\"r\":\"s\"}}", "/p type;/q/r type");
	assert_compile_error("{\"$id\":\"http://a.example/\",\"$ref\":\"other.json\"}",
			     "only local references");
	assert_compile_error("{\"definitions\":{\"a\":{\"$id\":\"x.json\"},\"b\":{\"$id\":"
			     "\"x.json\"}}}",
			     "names two different schemas");
	assert_compile_error("{\"$id\":1}", "$id must be a string");
}

/* RFC 3986 5.4's examples, against its base URI. */
static void uri_resolution(void **state)
{
	static const char *cases[][2] = {
	    {"g:h", "g:h"},
	    {"g", "http://a/b/c/g"},
	    {"./g", "http://a/b/c/g"},
	    {"g/", "http://a/b/c/g/"},
	    {"/g", "http://a/g"},
	    {"//g", "http://g"},
	    {"?y", "http://a/b/c/d;p?y"},
	    {"g?y", "http://a/b/c/g?y"},
	    {"#s", "http://a/b/c/d;p?q#s"},
	    {"g#s", "http://a/b/c/g#s"},
	    {";x", "http://a/b/c/;x"},
	    {"", "http://a/b/c/d;p?q"},
	    {".", "http://a/b/c/"},
	    {"./", "http://a/b/c/"},
	    {"..", "http://a/b/"},
	    {"../g", "http://a/b/g"},
	    {"../..", "http://a/"},
	    {"../../g", "http://a/g"},
	    {"../../../g", "http://a/g"},
	    {"/./g", "http://a/g"},
	    {"/../g", "http://a/g"},
	    {"g.", "http://a/b/c/g."},
	    {"..g", "http://a/b/c/..g"},
	    {"./../g", "http://a/b/g"},
	    {"./g/.", "http://a/b/c/g/"},
	    {"g/./h", "http://a/b/c/g/h"},
	    {"g/../h", "http://a/b/c/h"},
	    {"g;x=1/../y", "http://a/b/c/y"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = schema_uri_resolve("http://a/b/c/d;p?q", cases[i][0]);
		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i][0], got, cases[i][1]);
		free(got);
	}
	char *got = schema_uri_resolve("", "#/definitions/a");
	assert_string_equal(got, "#/definitions/a");
	free(got);
}

static void ref_errors(void **state)
{
	assert_compile_error("{\"$ref\":\"#/definitions/missing\"}", "does not resolve");
	assert_compile_error("{\"$ref\":\"http://example.com/s.json\"}", "only local references");
	assert_compile_error("{\"$ref\":\"#foo\"}", "not a JSON Pointer");
	assert_compile_error("{\"$ref\":\"#/a~2\",\"a~2\":{}}", "bad ~ escape");
	assert_compile_error("{\"$ref\":\"#/a%zz\"}", "bad percent-encoding");
	assert_compile_error("{\"$ref\":\"#\"}", "cycle of references");
	assert_compile_error("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},"
			     "\"b\":{\"$ref\":\"#/definitions/a\"}},\"$ref\":\"#/definitions/a\"}",
			     "cycle of references");
	assert_compile_error("{\"$ref\":\"#/definitions/n\",\"definitions\":{\"n\":3}}",
			     "a schema must be an object or a boolean");
	assert_compile_error("{\"$ref\":1}", "$ref must be a string");
}

static void bad_keywords(void **state)
{
	assert_compile_error("{\"type\":\"str\"}", "type must be a type name");
	assert_compile_error("{\"type\":[\"string\",\"string\"]}", "distinct type names");
	assert_compile_error("{\"required\":[\"a\",\"a\"]}", "required has \"a\" twice");
	assert_compile_error("{\"required\":\"a\"}", "required must be an array of strings");
	assert_compile_error("{\"properties\":[]}", "properties must be an object");
	assert_compile_error("{\"properties\":{\"a\":{\"items\":3}}}",
			     "schema at \"#/properties/a/items\"");
	assert_compile_error("{\"enum\":1}", "enum must be an array");
	assert_compile_error("{\"uniqueItems\":1}", "uniqueItems must be a boolean");
	assert_compile_error("{\"patternProperties\":{\"[\":{}}}", "invalid pattern");
	assert_compile_error("{\"dependencies\":{\"a\":[1]}}", "must be an array of strings");
	assert_compile_error("3", "a schema must be an object or a boolean");
	/* Unknown keywords are annotations, as the specification says. */
	assert_valid("{\"x-ui\":{\"widget\":\"password\"},\"title\":\"t\"}", "1");
}

/* Every failure is listed, in keyword order then member order. */
static void every_error_in_stable_order(void **state)
{
	const char *s =
	    "{\"type\":\"object\",\"required\":[\"url\"],\"properties\":{"
	    "\"level\":{\"enum\":[\"a\",\"b\"]},\"n\":{\"type\":\"integer\",\"minimum\":1},"
	    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":2}},"
	    "\"additionalProperties\":false}";
	const char *inst = "{\"tags\":[1,\"x\",2],\"n\":0.5,\"level\":\"c\",\"zz\":1}";
	const char *want = "/url required;/tags maxItems;/tags/0 type;/tags/2 type;/n type;"
			   "/n minimum;/level enum;/zz additionalProperties";
	for (int i = 0; i < 3; i++)
		assert_errors(s, inst, want);
	struct schema *sc = compile_text(s);
	json_object *in = parse_or_die(inst);
	struct schema_errors *e = schema_validate(sc, in);
	json_object *arr = schema_errors_to_json(e);
	assert_int_equal(json_object_array_length(arr), 8);
	json_object *first = json_object_array_get_idx(arr, 0), *v;
	assert_true(json_object_object_get_ex(first, "path", &v));
	assert_string_equal(json_object_get_string(v), "/url");
	assert_true(json_object_object_get_ex(first, "keyword", &v));
	assert_string_equal(json_object_get_string(v), "required");
	assert_true(json_object_object_get_ex(first, "message", &v));
	assert_string_equal(json_object_get_string(v), "is required");
	json_object_put(arr);
	schema_errors_free(e);
	json_object_put(in);
	schema_free(sc);
}

/* One compiled schema serves many validations, each independent. */
static void compiled_once_reused(void **state)
{
	struct schema *s = compile_text("{\"properties\":{\"a\":{\"pattern\":\"^x+$\"}}}");
	for (int i = 0; i < 100; i++) {
		json_object *in = json_object_new_object();
		json_object_object_add(in, "a", json_object_new_string(i % 2 ? "xxx" : "y"));
		struct schema_errors *e = schema_validate(s, in);
		assert_int_equal(schema_errors_count(e), i % 2 ? 0 : 1);
		schema_errors_free(e);
		json_object_put(in);
	}
	schema_free(s);
	schema_free(NULL);
	schema_errors_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(type_names),
	    cmocka_unit_test(type_message),
	    cmocka_unit_test(properties_and_paths),
	    cmocka_unit_test(required),
	    cmocka_unit_test(additional_properties),
	    cmocka_unit_test(pattern_properties),
	    cmocka_unit_test(enum_and_const),
	    cmocka_unit_test(numeric_bounds),
	    cmocka_unit_test(multiple_of),
	    cmocka_unit_test(string_length_code_points),
	    cmocka_unit_test(pattern_is_ecma),
	    cmocka_unit_test(items_forms),
	    cmocka_unit_test(item_counts_and_unique),
	    cmocka_unit_test(contains),
	    cmocka_unit_test(property_counts_and_names),
	    cmocka_unit_test(dependencies),
	    cmocka_unit_test(combinators),
	    cmocka_unit_test(if_then_else),
	    cmocka_unit_test(boolean_schemas),
	    cmocka_unit_test(default_is_annotation),
	    cmocka_unit_test(refs),
	    cmocka_unit_test(ids),
	    cmocka_unit_test(uri_resolution),
	    cmocka_unit_test(ref_errors),
	    cmocka_unit_test(bad_keywords),
	    cmocka_unit_test(every_error_in_stable_order),
	    cmocka_unit_test(compiled_once_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
