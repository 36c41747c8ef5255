/* UTF-8 repair and truncation of plugin strings (plugin-host/repair.c) and the UTF-8 check they use
 * (proto/utf8.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "repair.h"
#include "utf8.h"

static void check(const char *in, size_t max, const char *want)
{
	char *out = utf8_sanitize(in, max);
	assert_string_equal(out, want);
	free(out);
}

static void test_valid_passes(void **state)
{
	(void)state;
	check("plain ascii", 100, "plain ascii");
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check("", 10, "");
}

static void test_invalid_replaced(void **state)
{
	(void)state;
	check("a\xff"
	      "b",
	      100, "a?b");
	check("\xc3(", 100, "?(");		/* truncated 2-byte sequence */
	check("\xc0\xaf", 100, "??");		/* overlong */
	check("\xed\xa0\x80", 100, "???");	/* UTF-16 surrogate */
	check("\xf4\x90\x80\x80", 100, "????"); /* above U+10FFFF */
	check("\xe0\x80\xaf", 100, "???");	/* overlong 3-byte */
	check("x\x80y", 100, "x?y");		/* stray continuation */
}

static void test_truncation_never_splits(void **state)
{
	(void)state;
	check("abcdef", 3, "abc");
	/* The euro sign is 3 bytes: cutting it leaves replacement marks, never half a sequence. */
	check("ab\xe2\x82\xac", 4, "ab??");
	check("ab\xe2\x82\xac", 5, "ab\xe2\x82\xac");
	check("\xf0\x9f\x98\x80", 2, "??");
}

static void test_seq_len(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xef\xbf\xbd", 3), 3);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x90\x80\x80", 4), 4);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"", 0), 0);
}

static void test_json_sanitize(void **state)
{
	json_object *in = json_object_new_object();
	json_object *deep = json_object_new_array();
	json_object *out, *v;
	(void)state;

	json_object_object_add(in, "ok", json_object_new_string("fine \xc3\xa9"));
	json_object_object_add(in, "bad", json_object_new_string("x\xff\xfey"));
	json_object_object_add(in,
			       "k\xc0"
			       "ey",
			       json_object_new_int(7));
	json_object_object_add(in, "nan", json_object_new_double(NAN));
	json_object_object_add(in, "inf", json_object_new_double(-INFINITY));
	json_object_object_add(in, "pi", json_object_new_double(3.5));
	json_object_object_add(in, "yes", json_object_new_boolean(1));
	json_object_object_add(in, "nothing", NULL);
	for (int i = 0; i < 50; i++) {
		json_object *a = json_object_new_array();
		json_object_array_add(a, deep);
		deep = a;
	}
	json_object_object_add(in, "deep", deep);

	out = utf8_json_sanitize(in, 10);
	assert_true(json_object_object_get_ex(out, "ok", &v));
	assert_string_equal(json_object_get_string(v), "fine \xc3\xa9");
	assert_true(json_object_object_get_ex(out, "bad", &v));
	assert_string_equal(json_object_get_string(v), "x??y");
	assert_true(json_object_object_get_ex(out, "k?ey", &v));
	assert_int_equal(json_object_get_int(v), 7);
	/* Present, but null: JSON has no NaN or infinity. */
	assert_true(json_object_object_get_ex(out, "nan", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(out, "inf", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(out, "pi", &v));
	assert_true(json_object_get_double(v) == 3.5);
	assert_true(json_object_object_get_ex(out, "yes", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(out, "nothing", &v));
	assert_null(v);
	/* 10 containers at most, and the scalar (or marker) inside them: json_depth 11. */
	assert_true(json_depth(out) <= 11);
	/* The serialised copy is strict JSON: no NaN, no Infinity. */
	assert_null(strstr(json_object_to_json_string(out), "NaN"));
	assert_null(strstr(json_object_to_json_string(out), "Infinity"));
	json_object_put(out);
	json_object_put(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_passes),
	    cmocka_unit_test(test_invalid_replaced),
	    cmocka_unit_test(test_truncation_never_splits),
	    cmocka_unit_test(test_seq_len),
	    cmocka_unit_test(test_json_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
