#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

/* Delays double from the initial value while crashes stay in the window. */
static void doubles_then_fails(void **state)
{
	struct backoff b;
	backoff_init(&b, 100, 30000, 5, 60000);
	assert_int_equal(backoff_crash(&b, 1000), 100);
	assert_int_equal(backoff_crash(&b, 1100), 200);
	assert_int_equal(backoff_crash(&b, 1300), 400);
	assert_int_equal(backoff_crash(&b, 1700), 800);
	/* The fifth crash within a minute is a crash loop. */
	assert_int_equal(backoff_crash(&b, 2500), -1);
	assert_int_equal(backoff_recent(&b, 2500), 5);
}

/* Crashes older than the window are forgotten: a rare crash restarts fast. */
static void window_forgets(void **state)
{
	struct backoff b;
	backoff_init(&b, 100, 30000, 3, 10000);
	assert_int_equal(backoff_crash(&b, 0), 100);
	assert_int_equal(backoff_crash(&b, 5000), 200);
	assert_int_equal(backoff_crash(&b, 20000), 100);
	assert_int_equal(backoff_crash(&b, 21000), 200);
	assert_int_equal(backoff_recent(&b, 21000), 2);
	assert_int_equal(backoff_recent(&b, 40000), 0);
}

static void capped(void **state)
{
	struct backoff b;
	int last = 0;
	backoff_init(&b, 1000, 3000, 30, 1000000);
	for (int i = 0; i < 10; i++)
		last = backoff_crash(&b, i);
	assert_int_equal(last, 3000);
}

static void reset_clears(void **state)
{
	struct backoff b;
	backoff_init(&b, 50, 1000, 2, 60000);
	assert_int_equal(backoff_crash(&b, 0), 50);
	assert_int_equal(backoff_crash(&b, 1), -1);
	backoff_reset(&b);
	assert_int_equal(backoff_recent(&b, 2), 0);
	assert_int_equal(backoff_crash(&b, 3), 50);
}

/* A limit beyond the history size is clamped, never overflows the ring. */
static void limit_clamped(void **state)
{
	struct backoff b;
	int r = 0, i;
	backoff_init(&b, 1, 2, 1000, 1000000);
	for (i = 0; i < 100 && r >= 0; i++)
		r = backoff_crash(&b, i);
	assert_int_equal(r, -1);
	assert_int_equal(i, BACKOFF_HISTORY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(doubles_then_fails),
	    cmocka_unit_test(window_forgets),
	    cmocka_unit_test(capped),
	    cmocka_unit_test(reset_clears),
	    cmocka_unit_test(limit_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
