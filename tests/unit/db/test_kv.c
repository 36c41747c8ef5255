/* Storage keys (kv_key_check): what PROTOCOL.md, "Storage", allows and why it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kv.h"

static int check(const char *key, size_t len, char *why)
{
	return kv_key_check(key, len, why, 128);
}

static void test_valid(void **state)
{
	char why[128], k256[KV_KEY_MAX];

	(void)state;
	memset(k256, 'k', sizeof k256);
	assert_int_equal(check("a", 1, why), 0);
	assert_int_equal(check("caf\xc3\xa9/\xf0\x9f\x98\x80", 10, why), 0);
	assert_int_equal(check(k256, sizeof k256, why), 0);
}

static void test_refused(void **state)
{
	char why[128], k257[KV_KEY_MAX + 1];

	(void)state;
	memset(k257, 'k', sizeof k257);
	assert_int_equal(check("", 0, why), -1);
	assert_string_equal(why, "key is empty");
	assert_int_equal(check(k257, sizeof k257, why), -1);
	assert_string_equal(why, "key is 257 bytes, at most 256");
	assert_int_equal(check("a\0b", 3, why), -1);
	assert_string_equal(why, "key holds a NUL byte");
	assert_int_equal(check("\xc0\xaf", 2, why), -1); /* overlong '/' */
	assert_string_equal(why, "key is not valid UTF-8");
	assert_int_equal(check("\xed\xa0\x80", 3, why), -1); /* a surrogate */
	assert_int_equal(check("\xff", 1, why), -1);
	/* Multi-byte characters count in bytes: 129 two-byte characters are 258 bytes. */
	char wide[258];
	for (size_t i = 0; i < sizeof wide; i += 2)
		memcpy(wide + i, "\xc3\xa9", 2);
	assert_int_equal(check(wide, sizeof wide, why), -1);
	assert_string_equal(why, "key is 258 bytes, at most 256");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
