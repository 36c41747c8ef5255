/*
 * json_read (proto/json.c): strict JSON, one depth limit, numbers as written,
 * keys json-c can hold, and a reason with a byte offset for every refusal.
 * Each case below is one json-c's tokener gets wrong in strict mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Reads text and returns what it serialises to (a static copy), failing the test on refusal. */
static const char *round_trip(const char *text)
{
	static char out[4096];
	char err[JSON_ERR_MAX];
	json_object *v = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);

	if (v == NULL)
		fail_msg("refused %s: %s", text, err);
	snprintf(out, sizeof out, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_put(v);
	return out;
}

/* Asserts text is refused with a reason that contains want and names offset at. */
static void refused(const char *text, const char *want, size_t at)
{
	char err[JSON_ERR_MAX], where[48];
	json_object *v = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);

	if (v != NULL)
		fail_msg("accepted %s as %s", text, json_object_to_json_string(v));
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" for %s does not say \"%s\"", err, text, want);
	snprintf(where, sizeof where, "at byte %zu:", at);
	if (strstr(err, where) == NULL)
		fail_msg("error \"%s\" for %s is not %s", err, text, where);
}

static void test_numbers_kept_as_written(void **state)
{
	(void)state;
	/* json-c gives back 18446744073709551615 and INT64_MIN for these. */
	assert_string_equal(round_trip("{\"a\":1e308}"), "{\"a\":1e308}");
	assert_string_equal(round_trip("{\"a\":1e30}"), "{\"a\":1e30}");
	assert_string_equal(round_trip("{\"a\":-9223372036854775809}"),
			    "{\"a\":-9223372036854775809}");
	assert_string_equal(round_trip("{\"a\":18446744073709551616}"),
			    "{\"a\":18446744073709551616}");
	/* PostgreSQL's jsonb gives 1e30 back spelled out; that must survive too. */
	assert_string_equal(round_trip("[1000000000000000000000000000000]"),
			    "[1000000000000000000000000000000]");
	assert_string_equal(round_trip("[1.0,1E2,-0.5e-3,0,-1]"), "[1.0,1E2,-0.5e-3,0,-1]");
}

static void test_ints_are_exact_int64(void **state)
{
	char err[JSON_ERR_MAX];
	const char *text = "[9223372036854775807,-9223372036854775808,9223372036854775808]";
	json_object *v = json_read(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);
	(void)state;
	assert_non_null(v);
	assert_true(json_object_is_type(json_object_array_get_idx(v, 0), json_type_int));
	assert_true(json_object_get_int64(json_object_array_get_idx(v, 0)) == INT64_MAX);
	assert_true(json_object_get_int64(json_object_array_get_idx(v, 1)) == INT64_MIN);
	/*
	 * Past int64 it is a number, not an int: code that asks for an int64
	 * (json_object_is_type(v, json_type_int)) never sees a clamped one.
	 */
	assert_true(json_object_is_type(json_object_array_get_idx(v, 2), json_type_double));
	assert_string_equal(json_object_to_json_string_ext(json_object_array_get_idx(v, 2), 0),
			    "9223372036854775808");
	json_object_put(v);
}

static void test_numbers_refused(void **state)
{
	(void)state;
	refused("{\"a\":1e400}", "out of range", 5);
	refused("[-1e400]", "out of range", 1);
	refused("[01]", "',' or ']'", 2);
	refused("[.5]", "unexpected character", 1);
	refused("[1.]", "digit after '.'", 3);
	refused("[1e]", "exponent", 3);
	refused("[-]", "digit", 2);
	refused("[+1]", "unexpected character", 1);
	refused("[NaN]", "unexpected character", 1);
	refused("[Infinity]", "unexpected character", 1);
}

static void test_keys(void **state)
{
	(void)state;
	/* json-c keeps this as key "a". */
	refused("{\"a\\u0000b\":1}", "U+0000", 1);
	/* json-c takes single-quoted keys even in strict mode. */
	refused("{'a':1}", "key in double quotes", 1);
	refused("{\"a\":'x'}", "single quotes", 5);
	refused("{a:1}", "key in double quotes", 1);
	refused("{\"a\":1,\"a\":2}", "duplicate key \"a\"", 7);
	/* A NUL in a string value is data (json-c holds it with its length). */
	assert_string_equal(round_trip("{\"a\":\"x\\u0000y\"}"), "{\"a\":\"x\\u0000y\"}");
}

static void test_strict_grammar(void **state)
{
	(void)state;
	refused("{\"a\":1}//c", "trailing", 7);
	refused("{\"a\":1} x", "trailing", 8);
	refused("/*c*/{}", "comments", 0);
	refused("{\"a\":1,}", "key in double quotes", 7);
	refused("[1,]", "unexpected character", 3);
	refused("[1 2]", "',' or ']'", 3);
	refused("{\"a\" 1}", "':'", 5);
	refused("[tru]", "unexpected character", 1);
	refused("[True]", "unexpected character", 1);
	refused("", "end of input", 0);
	refused("  ", "end of input", 2);
	refused("{\"a\":", "end of input", 5);
	refused("[\"abc", "end of input", 5);
	refused("[\"a\tb\"]", "control character", 3);
	refused("[\"\\x41\"]", "unknown escape", 3);
	refused("[\"\\u12\"]", "hex digits", 6);
	refused("[\"\\ud800\"]", "unpaired surrogate", 2);
	refused("[\"\\udc00\"]", "unpaired surrogate", 2);
	refused("[\"\\ud800\\u0041\"]", "unpaired surrogate", 2);
	refused("[\"\xc0\xaf\"]", "invalid utf-8", 2);
	refused("[\"\xed\xa0\x80\"]", "invalid utf-8", 2);
	refused("[\xc3\xa9]", "unexpected character", 1);
	assert_string_equal(round_trip(" \t\r\n[\"\\ud83d\\ude00\",\"\xc3\xa9\"] \n"),
			    "[\"\xf0\x9f\x98\x80\",\"\xc3\xa9\"]");
	assert_string_equal(round_trip("[true,false,null,{},[]]"), "[true,false,null,{},[]]");
}

static void test_depth(void **state)
{
	char buf[512], err[JSON_ERR_MAX];
	json_object *v;
	(void)state;
	/* JSON_MAX_DEPTH arrays pass; one more is refused, at the byte that opens it. */
	for (int d = JSON_MAX_DEPTH; d <= JSON_MAX_DEPTH + 1; d++) {
		memset(buf, '[', (size_t)d);
		memset(buf + d, ']', (size_t)d);
		v = json_read(buf, 2 * (size_t)d, JSON_MAX_DEPTH, err, sizeof err);
		if (d == JSON_MAX_DEPTH) {
			assert_non_null(v);
			assert_int_equal(json_depth(v), JSON_MAX_DEPTH);
		} else {
			char want[96];
			assert_null(v);
			snprintf(want, sizeof want, "at byte %d: nesting deeper than %d levels",
				 JSON_MAX_DEPTH, JSON_MAX_DEPTH);
			assert_non_null(strstr(err, want));
		}
		json_object_put(v);
	}
	/* A scalar is a level: {"a":1} is 2 deep. */
	v = json_read("{\"a\":1}", 7, 1, err, sizeof err);
	assert_null(v);
	assert_non_null(strstr(err, "deeper than 1"));
	v = json_read("{\"a\":1}", 7, 2, err, sizeof err);
	assert_int_equal(json_depth(v), 2);
	json_object_put(v);
	/* The input limit leaves room for our envelopes. */
	assert_int_equal(JSON_INPUT_DEPTH + JSON_WRAP_DEPTH, JSON_MAX_DEPTH);
}

static void test_null_and_object(void **state)
{
	char err[JSON_ERR_MAX];
	(void)state;
	/* A lone null is NULL with no error. */
	assert_null(json_read("null", 4, JSON_MAX_DEPTH, err, sizeof err));
	assert_string_equal(err, "");
	assert_null(json_read_object("[1]", 3, JSON_MAX_DEPTH, err, sizeof err));
	assert_string_equal(err, "not a JSON object");
	assert_null(json_read_object("null", 4, JSON_MAX_DEPTH, err, sizeof err));
	assert_string_equal(err, "not a JSON object");
	assert_null(json_read_object("{", 1, JSON_MAX_DEPTH, err, sizeof err));
	assert_non_null(strstr(err, "end of input"));
	/* Not NUL-terminated: only len bytes are read. */
	json_object *v = json_read_object("{}garbage", 2, JSON_MAX_DEPTH, NULL, 0);
	assert_non_null(v);
	json_object_put(v);
}

/* json_check: what we build in memory must be what json_read reads back. */
static void test_check(void **state)
{
	char err[160], deep[512];
	json_object *v = json_object_new_object(), *a = json_object_new_array();
	size_t n = 0;
	(void)state;
	json_object_object_add(v, "ok", json_object_new_string("caf\xc3\xa9"));
	json_object_object_add(v, "list", a);
	json_object_array_add(a, json_object_new_int(1));
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, 0, err, sizeof err), 0);
	assert_string_equal(err, "");
	/* json-c writes NaN, which no reader takes. */
	json_object_array_add(a, json_object_new_double(NAN));
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, 0, err, sizeof err), -1);
	assert_string_equal(err, "/list/1: NaN or Infinity is not JSON");
	json_object_array_del_idx(a, 1, 1);
	json_object_object_add(v, "a/b~", json_object_new_string("\xff"));
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, 0, err, sizeof err), -1);
	assert_string_equal(err, "/a~1b~0: a string that is not UTF-8");
	json_object_object_del(v, "a/b~");
	json_object_object_add(v, "nul", json_object_new_string_len("a\0b", 3));
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, 0, err, sizeof err), 0);
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, JSON_CHECK_NO_NUL, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nul: a string holding U+0000"));
	json_object_put(v);
	/* Depth as json_read counts it: the limit passes, one more does not. */
	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	n = 2 * JSON_MAX_DEPTH;
	v = json_read(deep, n, JSON_MAX_DEPTH, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(json_check(v, JSON_MAX_DEPTH, 0, err, sizeof err), 0);
	assert_int_equal(json_check(v, JSON_MAX_DEPTH - 1, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "nests deeper than 63 levels"));
	json_object_put(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers_kept_as_written),
	    cmocka_unit_test(test_ints_are_exact_int64),
	    cmocka_unit_test(test_numbers_refused),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_strict_grammar),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_null_and_object),
	    cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
