/*
 * pending: the request table's verbs that route requests need beside
 * config's: a missed deadline told as such (overdue, else abandoned), the
 * deadlines of pausing kinds moved by a call's duration, counts per kind, and
 * pausing kinds not overdue while a call is outstanding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "pending.h"

static int answered, abandoned, overdue;

static void on_answered(void *ctx, json_object *m)
{
	(void)ctx;
	(void)m;
	answered++;
}

static void on_abandoned(void *ctx)
{
	(void)ctx;
	abandoned++;
}

static void on_overdue(void *ctx)
{
	(void)ctx;
	overdue++;
}

static const struct pending_kind plain = {
    .name = "plain", .answered = on_answered, .abandoned = on_abandoned};
static const struct pending_kind routeish = {.name = "route",
					     .answered = on_answered,
					     .abandoned = on_abandoned,
					     .overdue = on_overdue,
					     .pauses = true};

static int reset(void **state)
{
	(void)state;
	answered = abandoned = overdue = 0;
	return 0;
}

static void test_expire_says_overdue_or_abandoned(void **state)
{
	struct pending *t = pending_new();
	struct pending_req *a = pending_add(t, 1, &plain, 100, NULL);
	struct pending_req *b = pending_add(t, 2, &routeish, 100, NULL);

	(void)state;
	pending_expire(t, b);
	assert_int_equal(overdue, 1);
	assert_int_equal(abandoned, 0);
	pending_expire(t, a); /* no overdue: abandoned stands in */
	assert_int_equal(abandoned, 1);
	assert_null(pending_first(t));
	pending_free(t);
}

static void test_count_per_kind(void **state)
{
	struct pending *t = pending_new();

	(void)state;
	assert_int_equal(pending_count_kind(t, &routeish), 0);
	for (int i = 0; i < 5; i++)
		pending_add(t, 10 + i, &routeish, 1000, NULL);
	pending_add(t, 99, &plain, 1000, NULL);
	assert_int_equal(pending_count_kind(t, &routeish), 5);
	assert_int_equal(pending_count_kind(t, &plain), 1);
	pending_answer(t, pending_find(t, 12, false), NULL);
	assert_int_equal(pending_count_kind(t, &routeish), 4);
	assert_int_equal(answered, 1);
	pending_abandon_all(t);
	assert_int_equal(abandoned, 5);
	assert_int_equal(pending_count_kind(t, &routeish), 0);
	pending_free(t);
}

static void test_pausing_kinds_wait_for_calls(void **state)
{
	struct pending *t = pending_new();
	struct pending_req *r = pending_add(t, 1, &routeish, 100, NULL);
	struct pending_req *p = pending_add(t, 2, &plain, 100, NULL);
	int64_t due = r->deadline_ms, now = due + 1;

	(void)state;
	/* Past both deadlines: the oldest is overdue, unless a call is outstanding. */
	assert_ptr_equal(pending_overdue(t, now, false), r);
	assert_ptr_equal(pending_overdue(t, now, true), p);
	pending_remove(t, p);
	assert_null(pending_overdue(t, now, true));
	/* The call took 50 ms: the route's deadline moves by as much, a plain one would not. */
	pending_shift(t, 50);
	assert_int_equal(r->deadline_ms, due + 50);
	assert_null(pending_overdue(t, now, false));
	assert_ptr_equal(pending_overdue(t, due + 51, false), r);
	p = pending_add(t, 3, &plain, 100, NULL);
	due = p->deadline_ms;
	pending_shift(t, 1000);
	assert_int_equal(p->deadline_ms, due);
	pending_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_expire_says_overdue_or_abandoned, reset),
	    cmocka_unit_test_setup(test_count_per_kind, reset),
	    cmocka_unit_test_setup(test_pausing_kinds_wait_for_calls, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
