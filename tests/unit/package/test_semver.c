/* Semantic Versioning 2.0.0: what is a version, and which comes first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "semver.h"

static void test_valid(void **state)
{
	static const char *good[] = {"0.0.0",
				     "1.2.3",
				     "10.20.30",
				     "1.0.0-alpha",
				     "1.0.0-alpha.1",
				     "1.0.0-0.3.7",
				     "1.0.0-x.7.z.92",
				     "1.0.0-x-y-z.--",
				     "1.0.0+20130313144700",
				     "1.0.0-beta+exp.sha.5114f85",
				     "1.0.0+21AF26D3----117B344092BD",
				     "1.0.0+001",
				     "99999999999999999999999.0.0"};
	static const char *bad[] = {
	    "",		  "1",	    "1.2",	     "1.2.3.4",	 "01.2.3",     "1.02.3",
	    "1.2.03",	  "1.2.3-", "1.2.3+",	     "1.2.3-01", "1.2.3-a..b", "1.2.3-a.",
	    "1.2.3+a..b", "v1.2.3", "1.2.3 ",	     " 1.2.3",	 "1.2.-3",     "1.2.3-a_b",
	    "1.2.3+a/b",  "-1.2.3", "1.2.3-\xc3\xa9"};
	char longest[SEMVER_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_true(semver_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (semver_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(semver_valid(NULL));
	/* SEMVER_MAX bytes are fine, one more is not. */
	memset(longest, 'a', sizeof longest);
	memcpy(longest, "1.2.3-", 6);
	longest[SEMVER_MAX] = '\0';
	assert_true(semver_valid(longest));
	longest[SEMVER_MAX] = 'a';
	longest[SEMVER_MAX + 1] = '\0';
	assert_false(semver_valid(longest));
}

/* semver.org, item 11: each sorts before the next. */
static void test_order(void **state)
{
	static const char *chain[] = {"1.0.0-alpha",
				      "1.0.0-alpha.1",
				      "1.0.0-alpha.beta",
				      "1.0.0-beta",
				      "1.0.0-beta.2",
				      "1.0.0-beta.11",
				      "1.0.0-rc.1",
				      "1.0.0",
				      "1.0.1",
				      "1.1.0",
				      "1.10.0",
				      "2.0.0",
				      "10.0.0",
				      "99999999999999999999.0.0"};
	size_t n = sizeof chain / sizeof *chain;

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = semver_compare(chain[i], chain[j]);
			int want = (i > j) - (i < j);

			if (c != want)
				fail_msg("compare(%s, %s) = %d, want %d", chain[i], chain[j], c,
					 want);
		}
}

static void test_build_and_invalid(void **state)
{
	(void)state;
	assert_int_equal(semver_compare("1.0.0+a", "1.0.0+b"), 0);
	assert_int_equal(semver_compare("1.0.0-rc.1+x", "1.0.0-rc.1"), 0);
	assert_true(semver_compare("1.0.0-rc.1+zzz", "1.0.0") < 0);
	/* Numbers before words, and numbers numerically (no overflow). */
	assert_true(semver_compare("1.0.0-2", "1.0.0-10") < 0);
	assert_true(semver_compare("1.0.0-99", "1.0.0-a") < 0);
	assert_true(semver_compare("1.0.0-123456789012345678901", "1.0.0-99999999999999999999") >
		    0);
	assert_true(semver_compare("1.0.0-B", "1.0.0-a") < 0); /* ASCII */
	/* Invalid sorts first, and two invalid ones are equal. */
	assert_true(semver_compare("junk", "0.0.0") < 0);
	assert_true(semver_compare("0.0.0-0", "junk") > 0);
	assert_int_equal(semver_compare("junk", "01.0.0"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_build_and_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
