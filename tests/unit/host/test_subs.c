/* Subscription table and dispatch order (plugin-host/subs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "subs.h"

static int fn_a(ss_plugin *p, const ss_event *ev)
{
	(void)p;
	(void)ev;
	return 0;
}

static int fn_b(ss_plugin *p, const ss_event *ev)
{
	(void)p;
	(void)ev;
	return 1;
}

/* Collects the indices of every pair matching name, in order. */
static size_t matches(struct subs *s, const char *name, long *out, size_t max)
{
	size_t pos = 0, n = 0;
	long i;

	while ((i = subs_next_match(s, name, &pos)) >= 0 && n < max)
		out[n++] = i;
	return n;
}

static void test_add_rejects_invalid(void **state)
{
	struct subs *s = subs_new();
	(void)state;

	assert_int_equal(subs_add(s, "session.created", fn_a), 1);
	assert_int_equal(subs_add(s, "session.created", fn_a), 0); /* same pair */
	assert_int_equal(subs_add(s, "session.created", fn_b), 1); /* same pattern, new fn */
	assert_int_equal(subs_add(s, "", fn_a), -1);
	assert_int_equal(subs_add(s, "Session.Created", fn_a), -1);
	assert_int_equal(subs_add(s, "session.*.*", fn_a), -1);
	assert_int_equal(subs_add(s, "*", NULL), -1);
	assert_int_equal(subs_add(s, NULL, fn_a), -1);
	assert_int_equal(subs_count(s), 2);
	subs_free(s);
}

static void test_dispatch_order_and_patterns(void **state)
{
	struct subs *s = subs_new();
	long idx[8];
	(void)state;

	assert_int_equal(subs_add(s, "session.*", fn_a), 1);	    /* 0 */
	assert_int_equal(subs_add(s, "user.login", fn_a), 1);	    /* 1 */
	assert_int_equal(subs_add(s, "*", fn_b), 1);		    /* 2 */
	assert_int_equal(subs_add(s, "session.created", fn_b), 1);  /* 3 */
	assert_int_equal(subs_add(s, "plugin.billing.*", fn_a), 1); /* 4 */

	assert_int_equal(matches(s, "session.created", idx, 8), 3);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 3);

	assert_int_equal(matches(s, "user.login", idx, 8), 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);

	assert_int_equal(matches(s, "user.logout", idx, 8), 1);
	assert_int_equal(idx[0], 2);

	assert_int_equal(matches(s, "plugin.billing.invoice.paid", idx, 8), 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 4);
	/* A prefix pattern needs something after its dot. */
	assert_int_equal(matches(s, "plugin.billingx.a", idx, 8), 1);

	assert_true(subs_fn(s, 2) == fn_b);
	assert_string_equal(subs_pattern(s, 4), "plugin.billing.*");
	assert_null(subs_pattern(s, 5));
	subs_free(s);
}

static void test_remove_and_patterns_json(void **state)
{
	struct subs *s = subs_new();
	long idx[8];
	json_object *a;
	(void)state;

	subs_add(s, "session.*", fn_a);
	subs_add(s, "*", fn_a);
	subs_add(s, "session.*", fn_b);
	a = subs_patterns_json(s);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "session.*");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "*");
	json_object_put(a);

	assert_true(subs_has_pattern(s, "session.*"));
	assert_int_equal(subs_remove(s, "session.*"), 2);
	assert_false(subs_has_pattern(s, "session.*"));
	assert_int_equal(subs_count(s), 1);
	assert_int_equal(matches(s, "session.created", idx, 8), 1);
	assert_string_equal(subs_pattern(s, (size_t)idx[0]), "*");
	assert_int_equal(subs_remove(s, "nothing"), 0);
	subs_free(s);
}

static void test_table_is_bounded(void **state)
{
	struct subs *s = subs_new();
	char pattern[64];
	(void)state;

	for (int i = 0; i < SUBS_MAX; i++) {
		snprintf(pattern, sizeof pattern, "plugin.p%d.*", i);
		assert_int_equal(subs_add(s, pattern, fn_a), 1);
	}
	assert_int_equal(subs_add(s, "*", fn_a), -1);
	assert_int_equal(subs_count(s), SUBS_MAX);
	subs_free(s);
	subs_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_rejects_invalid),
	    cmocka_unit_test(test_dispatch_order_and_patterns),
	    cmocka_unit_test(test_remove_and_patterns_json),
	    cmocka_unit_test(test_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
