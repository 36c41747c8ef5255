#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>

#include "startq.h"

/* A plugin as the queue sees it: how often its turn came, and what it does then. */
struct fake {
	struct startq_ticket *t;
	int went;
	bool release_at_once; /* its spawn fails: the turn comes back in the same call */
};

static void go(void *arg)
{
	struct fake *f = arg;

	f->went++;
	if (f->release_at_once)
		startq_release(f->t);
}

static void run_loop(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Up to the limit start at once; the rest wait, and start in order as turns come back. */
static void bounded_in_order(void **state)
{
	struct event_base *base = event_base_new();
	struct startq *q = startq_new(base, 2);
	struct fake f[5] = {0};

	for (int i = 0; i < 5; i++)
		f[i].t = startq_ticket_new(q, go, &f[i]);
	assert_true(startq_take(f[0].t));
	assert_true(startq_take(f[1].t));
	for (int i = 2; i < 5; i++) {
		assert_false(startq_take(f[i].t));
		assert_true(startq_waiting(f[i].t));
	}
	assert_int_equal(startq_starting(q), 2);
	assert_int_equal(startq_queued(q), 3);
	/* Asking again keeps the turn held, or the place in the queue. */
	assert_true(startq_take(f[0].t));
	assert_false(startq_take(f[2].t));
	assert_int_equal(startq_queued(q), 3);

	/* A turn given back goes to the first waiting, from the loop, not in the release. */
	startq_release(f[1].t);
	assert_int_equal(f[2].went, 0);
	run_loop(base);
	assert_int_equal(f[2].went, 1);
	assert_int_equal(f[3].went, 0);
	assert_false(startq_waiting(f[2].t));
	assert_int_equal(startq_starting(q), 2);
	assert_int_equal(startq_queued(q), 2);

	/* Releasing what holds nothing changes nothing. */
	startq_release(f[1].t);
	run_loop(base);
	assert_int_equal(startq_starting(q), 2);
	assert_int_equal(f[3].went, 0);

	startq_release(f[0].t);
	startq_release(f[2].t);
	run_loop(base);
	assert_int_equal(f[3].went, 1);
	assert_int_equal(f[4].went, 1);
	assert_int_equal(startq_queued(q), 0);
	for (int i = 0; i < 5; i++)
		startq_ticket_free(f[i].t);
	assert_int_equal(startq_starting(q), 0);
	startq_free(q);
	event_base_free(base);
}

/* A waiting ticket that leaves (stopped, removed) is skipped; nothing is started for it. */
static void leaving_the_queue(void **state)
{
	struct event_base *base = event_base_new();
	struct startq *q = startq_new(base, 1);
	struct fake a = {0}, b = {0}, c = {0};

	a.t = startq_ticket_new(q, go, &a);
	b.t = startq_ticket_new(q, go, &b);
	c.t = startq_ticket_new(q, go, &c);
	assert_true(startq_take(a.t));
	assert_false(startq_take(b.t));
	assert_false(startq_take(c.t));
	startq_release(b.t); /* b leaves the queue */
	assert_false(startq_waiting(b.t));
	assert_int_equal(startq_queued(q), 1);
	startq_ticket_free(a.t); /* a's turn comes back as it is freed */
	run_loop(base);
	assert_int_equal(b.went, 0);
	assert_int_equal(c.went, 1);
	/* A ticket that left may ask again: it waits behind nobody once c is done. */
	assert_false(startq_take(b.t));
	startq_release(c.t);
	run_loop(base);
	assert_int_equal(b.went, 1);
	startq_ticket_free(b.t);
	startq_ticket_free(c.t);
	startq_free(q);
	event_base_free(base);
}

/*
 * A turn that comes back inside go (the spawn failed) goes on to the next
 * waiting in the same pass: a failing plugin does not stall those behind it.
 */
static void failing_start_passes_on(void **state)
{
	struct event_base *base = event_base_new();
	struct startq *q = startq_new(base, 1);
	struct fake first = {0}, bad[3] = {0}, good = {0};

	first.t = startq_ticket_new(q, go, &first);
	good.t = startq_ticket_new(q, go, &good);
	assert_true(startq_take(first.t));
	for (int i = 0; i < 3; i++) {
		bad[i].release_at_once = true;
		bad[i].t = startq_ticket_new(q, go, &bad[i]);
		assert_false(startq_take(bad[i].t));
	}
	assert_false(startq_take(good.t));
	startq_release(first.t);
	run_loop(base);
	for (int i = 0; i < 3; i++)
		assert_int_equal(bad[i].went, 1);
	assert_int_equal(good.went, 1);
	assert_int_equal(startq_starting(q), 1);
	assert_int_equal(startq_queued(q), 0);
	startq_ticket_free(good.t);
	for (int i = 0; i < 3; i++)
		startq_ticket_free(bad[i].t);
	startq_ticket_free(first.t);
	startq_free(q);
	event_base_free(base);
}

/* With a free turn but others waiting, a new ticket queues behind them (no overtaking). */
static void no_overtaking(void **state)
{
	struct event_base *base = event_base_new();
	struct startq *q = startq_new(base, 1);
	struct fake a = {0}, b = {0}, c = {0};

	a.t = startq_ticket_new(q, go, &a);
	b.t = startq_ticket_new(q, go, &b);
	c.t = startq_ticket_new(q, go, &c);
	assert_true(startq_take(a.t));
	assert_false(startq_take(b.t));
	startq_release(a.t); /* the turn is free until the loop hands it to b */
	assert_false(startq_take(c.t));
	run_loop(base);
	assert_int_equal(b.went, 1);
	assert_int_equal(c.went, 0);
	startq_ticket_free(a.t);
	startq_ticket_free(b.t);
	run_loop(base);
	assert_int_equal(c.went, 1);
	startq_ticket_free(c.t);
	startq_free(q);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bounded_in_order),
	    cmocka_unit_test(leaving_the_queue),
	    cmocka_unit_test(failing_start_passes_on),
	    cmocka_unit_test(no_overtaking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
