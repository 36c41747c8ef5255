/*
 * A hostile schema or instance ends in an error, in bounded time: nesting,
 * size, recursion without progress, exponential branching, catastrophic
 * regexes, floods of errors.
 */
#include <stdlib.h>
#include <time.h>

#include "schema_test.h"

/* Parses with a tokener deep enough for the nesting these tests build. */
static json_object *parse_deep(const char *text)
{
	struct json_tokener *t = json_tokener_new_ex(10000);
	json_object *j = json_tokener_parse_ex(t, text, (int)strlen(text));
	assert_int_equal(json_tokener_get_error(t), json_tokener_success);
	json_tokener_free(t);
	return j;
}

static char *nested(int depth)
{
	size_t cap = (size_t)depth * 10 + 16;
	char *s = malloc(cap), *p = s;
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "{\"not\":");
	p += sprintf(p, "{}");
	for (int i = 0; i < depth; i++)
		*p++ = '}';
	*p = '\0';
	return s;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Validates inst against schema and returns the last error's message. */
static char *last_message(struct schema *s, json_object *inst, size_t *count)
{
	struct schema_errors *e = schema_validate(s, inst);
	*count = schema_errors_count(e);
	char *m = strdup(*count ? schema_errors_message(e, *count - 1) : "");
	schema_errors_free(e);
	return m;
}

static void depth_limit(void **state)
{
	char err[256];
	char *ok = nested(SCHEMA_MAX_DEPTH), *deep = nested(SCHEMA_MAX_DEPTH + 1);
	json_object *j = parse_deep(ok);
	struct schema *s = schema_compile(j, err, sizeof(err));
	assert_non_null(s);
	schema_free(s);
	json_object_put(j);
	j = parse_deep(deep);
	assert_null(schema_compile(j, err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than 64 schemas"));
	json_object_put(j);
	free(ok);
	free(deep);
}

static void size_limit(void **state)
{
	char err[256];
	json_object *props = json_object_new_object();
	for (int i = 0; i < SCHEMA_MAX_NODES; i++) {
		char k[16];
		snprintf(k, sizeof(k), "p%d", i);
		json_object_object_add(props, k, json_object_new_object());
	}
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "properties", props);
	assert_null(schema_compile(doc, err, sizeof(err)));
	assert_non_null(strstr(err, "more than 10000 subschemas"));
	json_object_put(doc);
}

/* A schema that recurses into itself on the same instance never ends by itself. */
static void recursion_without_progress(void **state)
{
	struct schema *s = compile_text("{\"anyOf\":[{\"$ref\":\"#\"}]}");
	json_object *inst = json_object_new_int(1);
	size_t n;
	char *m = last_message(s, inst, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "validation stopped: subschemas nested deeper than 256"));
	free(m);
	json_object_put(inst);
	schema_free(s);
	/* Under "not" the stop still makes the value invalid. */
	s = compile_text("{\"not\":{\"$ref\":\"#\"}}");
	inst = json_object_new_int(1);
	m = last_message(s, inst, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "validation stopped"));
	free(m);
	json_object_put(inst);
	schema_free(s);
}

/* 2^40 paths through anyOf/allOf: the step budget ends it, quickly. */
static void exponential_branching(void **state)
{
	const char *kinds[] = {"anyOf", "allOf"};
	for (int k = 0; k < 2; k++) {
		char *text = malloc(64 * 200), *p = text;
		p += sprintf(p, "{\"$ref\":\"#/definitions/d0\",\"definitions\":{");
		for (int i = 0; i < 40; i++)
			p += sprintf(p,
				     "\"d%d\":{\"%s\":[{\"$ref\":\"#/definitions/d%d\"},"
				     "{\"$ref\":\"#/definitions/d%d\"}]},",
				     i, kinds[k], i + 1, i + 1);
		sprintf(p, "\"d40\":{\"type\":\"string\"}}}");
		struct schema *s = compile_text(text);
		json_object *inst = json_object_new_int(1);
		double t0 = now();
		size_t n;
		char *m = last_message(s, inst, &n);
		double dt = now() - t0;
		assert_true(n >= 1);
		assert_true(dt < 20.0); /* seconds, under ASan; ~0.1 s optimised */
		/* The step budget, or under a sanitizer on a busy machine the clock, first. */
		assert_true(strstr(m, "validation stopped: more than 4000000 steps") != NULL ||
			    strstr(m, "validation stopped: took longer than 500 ms") != NULL);
		free(m);
		json_object_put(inst);
		schema_free(s);
		free(text);
	}
}

/* (a+)+$ against a long non-match backtracks exponentially in any engine. */
static void catastrophic_regex(void **state)
{
	struct schema *s = compile_text("{\"pattern\":\"^(a+)+$\"}");
	json_object *inst =
	    json_object_new_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
	double t0 = now();
	size_t n;
	char *m = last_message(s, inst, &n);
	assert_true(now() - t0 < 20.0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "validation stopped: the pattern could not be matched"));
	free(m);
	json_object_put(inst);
	schema_free(s);
}

/*
 * Each search stays under the match limit (about 1 ms: "^(a|aa)+$" against
 * twenty a's and a b) but three thousand of them would take seconds: the
 * clock stops the validation at SCHEMA_MAX_MS.
 */
static void many_slow_searches(void **state)
{
	struct schema *s = compile_text("{\"items\":{\"pattern\":\"^(a|aa)+$\"}}");
	json_object *inst = json_object_new_array();
	for (int i = 0; i < 3000; i++)
		json_object_array_add(inst, json_object_new_string("aaaaaaaaaaaaaaaaaaaab"));
	double t0 = now();
	size_t n;
	char *m = last_message(s, inst, &n);
	double dt = now() - t0;
	assert_true(dt < 5.0);
	assert_string_equal(m, "validation stopped: took longer than 500 ms");
	assert_true(n >= 2); /* the items that failed before it, then the stop */
	free(m);
	json_object_put(inst);
	schema_free(s);
}

/* A string that is not UTF-8 cannot be matched: an error, not a crash. */
static void invalid_utf8_subject(void **state)
{
	struct schema *s = compile_text("{\"pattern\":\"^a\",\"maxLength\":10}");
	json_object *inst = json_object_new_string_len("a\xff\xfe", 3);
	size_t n;
	char *m = last_message(s, inst, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "not UTF-8"));
	free(m);
	json_object_put(inst);
	schema_free(s);
}

/* Ten thousand wrong items: the first SCHEMA_MAX_ERRORS and one line saying so. */
static void error_flood(void **state)
{
	struct schema *s = compile_text("{\"items\":{\"type\":\"string\"}}");
	json_object *inst = json_object_new_array();
	for (int i = 0; i < 10000; i++)
		json_object_array_add(inst, json_object_new_int(i));
	struct schema_errors *e = schema_validate(s, inst);
	assert_int_equal(schema_errors_count(e), SCHEMA_MAX_ERRORS + 1);
	assert_string_equal(schema_errors_path(e, 0), "/0");
	assert_string_equal(schema_errors_path(e, SCHEMA_MAX_ERRORS - 1), "/999");
	assert_string_equal(schema_errors_keyword(e, SCHEMA_MAX_ERRORS), "errors");
	assert_string_equal(schema_errors_message(e, SCHEMA_MAX_ERRORS),
			    "more than 1000 errors; the rest are not listed");
	schema_errors_free(e);
	json_object_put(inst);
	schema_free(s);
}

/* uniqueItems over a huge array is pairwise: past the budget it stops. */
static void unique_items_budget(void **state)
{
	struct schema *s = compile_text("{\"uniqueItems\":true}");
	json_object *inst = json_object_new_array();
	for (int i = 0; i < 5000; i++)
		json_object_array_add(inst, json_object_new_int(i));
	size_t n;
	char *m = last_message(s, inst, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "validation stopped"));
	free(m);
	/* A thousand distinct items is well within it. */
	json_object_put(inst);
	inst = json_object_new_array();
	for (int i = 0; i < 1000; i++)
		json_object_array_add(inst, json_object_new_int(i));
	m = last_message(s, inst, &n);
	assert_int_equal(n, 0);
	free(m);
	json_object_put(inst);
	schema_free(s);
}

/* Thousands of required names: duplicate detection is linear, not pairwise. */
static void huge_required(void **state)
{
	char err[256];
	json_object *req = json_object_new_array();
	for (int i = 0; i < 100000; i++) {
		char k[16];
		snprintf(k, sizeof(k), "r%d", i);
		json_object_array_add(req, json_object_new_string(k));
	}
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "required", req);
	double t0 = now();
	struct schema *s = schema_compile(doc, err, sizeof(err));
	assert_non_null(s);
	assert_true(now() - t0 < 10.0);
	schema_free(s);
	json_object_array_add(req, json_object_new_string("r5"));
	assert_null(schema_compile(doc, err, sizeof(err)));
	assert_non_null(strstr(err, "required has \"r5\" twice"));
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(depth_limit),
	    cmocka_unit_test(size_limit),
	    cmocka_unit_test(recursion_without_progress),
	    cmocka_unit_test(exponential_branching),
	    cmocka_unit_test(catastrophic_regex),
	    cmocka_unit_test(many_slow_searches),
	    cmocka_unit_test(invalid_utf8_subject),
	    cmocka_unit_test(error_flood),
	    cmocka_unit_test(unique_items_budget),
	    cmocka_unit_test(huge_required),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
