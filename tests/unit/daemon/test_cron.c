#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cron.h"

/* Seconds since the epoch of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return (int64_t)timegm(&tm);
}

static struct cron parsed(const char *text)
{
	struct cron c;
	char err[160] = "";
	int r = cron_parse(text, &c, err, sizeof err);
	if (r != 0)
		fail_msg("\"%s\" refused: %s", text, err);
	return c;
}

/* Refused, with an error that contains want. */
static void refused(const char *text, const char *want)
{
	struct cron c;
	char err[160] = "";
	assert_int_equal(cron_parse(text, &c, err, sizeof err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": error \"%s\" does not say \"%s\"", text ? text : "(null)", err,
			 want);
}

static void every_minute(void **state)
{
	struct cron c = parsed("* * * * *");
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 10, 0)), utc(2026, 3, 1, 10, 1));
	/* Strictly after: from 10:00:30 the next is 10:01:00. */
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 10, 0) + 30), utc(2026, 3, 1, 10, 1));
	/* The end of a year rolls over. */
	assert_int_equal(cron_next(&c, utc(2026, 12, 31, 23, 59)), utc(2027, 1, 1, 0, 0));
}

static void steps(void **state)
{
	struct cron c = parsed("*/5 * * * *");
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 10, 0)), utc(2026, 3, 1, 10, 5));
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 10, 57)), utc(2026, 3, 1, 11, 0));
	/* A range with a step, and "a/n" meaning a to the end. */
	c = parsed("10-30/10 * * * *");
	assert_int_equal(c.minutes, (1ull << 10) | (1ull << 20) | (1ull << 30));
	c = parsed("50/4 * * * *");
	assert_int_equal(c.minutes, (1ull << 50) | (1ull << 54) | (1ull << 58));
	c = parsed("0 */6 * * *");
	assert_int_equal(c.hours, (1u << 0) | (1u << 6) | (1u << 12) | (1u << 18));
}

static void lists_and_ranges(void **state)
{
	struct cron c = parsed("0,15,45 9-17 * * *");
	assert_int_equal(c.minutes, (1ull << 0) | (1ull << 15) | (1ull << 45));
	assert_int_equal(c.hours, 0x3fe00u);
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 17, 45)), utc(2026, 3, 2, 9, 0));
	c = parsed("1,3-5,*/20 * * * *");
	assert_int_equal(c.minutes, (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4) |
					(1ull << 5) | (1ull << 20) | (1ull << 40));
}

static void names(void **state)
{
	struct cron c = parsed("0 8 * JAN,jul mon-fri");
	assert_int_equal(c.months, (1u << 1) | (1u << 7));
	assert_int_equal(c.wdays, 0x3eu);
	/* 2026-01-03 is a Saturday: the next weekday at 08:00 is Monday the 5th. */
	assert_int_equal(cron_next(&c, utc(2026, 1, 3, 9, 0)), utc(2026, 1, 5, 8, 0));
	/* 7 and sun are Sunday as 0 is. */
	assert_int_equal(parsed("0 0 * * 7").wdays, 1u);
	assert_int_equal(parsed("0 0 * * Sun").wdays, 1u);
	assert_int_equal(parsed("0 0 * * 5-7").wdays, (1u << 0) | (1u << 5) | (1u << 6));
}

/* Both day fields restricted: either matches (crontab's OR rule). */
static void day_or_rule(void **state)
{
	struct cron c = parsed("0 0 13 * fri");
	/* 2026-02-06 is a Friday, before the 13th. */
	assert_int_equal(cron_next(&c, utc(2026, 2, 1, 0, 0)), utc(2026, 2, 6, 0, 0));
	assert_int_equal(cron_next(&c, utc(2026, 2, 6, 0, 0)), utc(2026, 2, 13, 0, 0));
	/* One of them "*": both must match, so only the 1st of the month. */
	c = parsed("0 0 1 * *");
	assert_int_equal(cron_next(&c, utc(2026, 2, 1, 0, 0)), utc(2026, 3, 1, 0, 0));
	/* A starred day of month with a step is still a star for the rule. */
	c = parsed("0 0 */1 * mon");
	assert_int_equal(cron_next(&c, utc(2026, 2, 1, 0, 0)), utc(2026, 2, 2, 0, 0));
}

/* The 29th of February is found, years ahead; the 30th never is. */
static void leap_day(void **state)
{
	struct cron c = parsed("0 12 29 2 *");
	assert_int_equal(cron_next(&c, utc(2026, 3, 1, 0, 0)), utc(2028, 2, 29, 12, 0));
	refused("0 0 30 2 *", "never fires");
	refused("0 0 31 4,6,9,11 *", "never fires");
}

static void every_seconds(void **state)
{
	struct cron c = parsed("@every 7");
	assert_int_equal(c.every_s, 7);
	assert_int_equal(cron_next(&c, 1000), 1007);
	refused("@every 0", "whole number of seconds");
	refused("@every -3", "whole number of seconds");
	refused("@every 5s", "whole number of seconds");
	refused("@every 99999999999999999999", "whole number of seconds");
}

static void invalid(void **state)
{
	refused("", "has 5 fields");
	refused("* * * *", "this has 4");
	refused("* * * * * *", "more");
	refused("60 * * * *", "minute: 60 is out of range 0-59");
	refused("* 24 * * *", "hour: 24 is out of range 0-23");
	refused("* * 0 * *", "day of month: 0 is out of range 1-31");
	refused("* * * 13 *", "month: 13 is out of range 1-12");
	refused("* * * * 8", "day of week: 8 is out of range 0-7");
	refused("5-1 * * * *", "runs backwards");
	refused("*/0 * * * *", "step 0");
	refused("*/61 * * * *", "step 61");
	refused("*/ * * * *", "needs a number");
	refused("1,,2 * * * *", "\",2\" is not a number");
	refused("1, * * * *", "unexpected");
	refused("*-5 * * * *", "unexpected");
	refused("* * * foo *", "\"foo\" is not a number or a name");
	refused("* * * janu *", "not a number or a name");
	refused("mon * * * *", "minute: \"mon\" is not a number");
	refused("99999999999999999999 * * * *", "out of range");
	refused(NULL, "a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_minute),	cmocka_unit_test(steps),
	    cmocka_unit_test(lists_and_ranges), cmocka_unit_test(names),
	    cmocka_unit_test(day_or_rule),	cmocka_unit_test(leap_day),
	    cmocka_unit_test(every_seconds),	cmocka_unit_test(invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
