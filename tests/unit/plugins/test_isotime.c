/* plugins/common/isotime: ISO 8601 UTC out and back without libc's time zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/common/isotime.h"

static void test_format(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1796148000250, "2026-12-01T18:00:00.250Z"},
	    {951782400000, "2000-02-29T00:00:00.000Z"},
	    {-1, "1969-12-31T23:59:59.999Z"},
	    {4107542400000, "2100-03-01T00:00:00.000Z"},
	    {253402300799999, "9999-12-31T23:59:59.999Z"},
	};
	char out[25], day[11];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		isotime_format(cases[i].ms, out);
		assert_string_equal(out, cases[i].want);
		int64_t back = 0;
		assert_true(isotime_parse(out, &back));
		assert_int_equal(back, cases[i].ms);
	}
	isotime_day(1796148000250, day);
	assert_string_equal(day, "2026-12-01");
	assert_int_equal(isotime_day_start(1796148000250), 1796083200000);
	assert_int_equal(isotime_day_start(-1), -ISOTIME_DAY_MS);
	assert_int_equal(isotime_day_start(0), 0);
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
	    {"2026-12-01", 1796083200000},
	    {"2026-12-01T18:00", 1796148000000},
	    {"2026-12-01T18:00:05Z", 1796148005000},
	    {"2026-12-01t18:00:05z", 1796148005000},
	    {"2026-12-01 18:00:05.5Z", 1796148005500},
	    {"2026-12-01T18:00:05.123456Z", 1796148005123},
	    {"2026-12-01T19:30:00+01:30", 1796148000000},
	    {"2026-12-01T16:00:00-02:00", 1796148000000},
	    {"2024-02-29T00:00:00Z", 1709164800000},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t ms = -7;
		assert_true(isotime_parse(ok[i].s, &ms));
		assert_int_equal(ms, ok[i].ms);
	}
	static const char *bad[] = {
	    "",
	    "2026",
	    "2026-13-01",
	    "2026-02-29",
	    "2026-04-31",
	    "2026-12-01T24:00",
	    "2026-12-01T18:60",
	    "2026-12-01T18:00:05.",
	    "2026-12-01X",
	    "2026-12-01T18:00+1:00",
	    "2026-12-01T18:00:00Zjunk",
	    "26-12-01",
	    "2026-1-01",
	    "1796148000",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = -7;
		assert_false(isotime_parse(bad[i], &ms));
		assert_int_equal(ms, -7);
	}
	assert_false(isotime_parse(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
