/* UTF-8 repair and truncation of plugin strings (plugin-host/utf8.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_passes),
	    cmocka_unit_test(test_invalid_replaced),
	    cmocka_unit_test(test_truncation_never_splits),
	    cmocka_unit_test(test_seq_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
