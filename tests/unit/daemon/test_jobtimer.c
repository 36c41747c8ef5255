/*
 * jobtimer on a real event loop: "@every 1" jobs fire, a job still running
 * when it comes due again is skipped and counted, and cron jobs are armed
 * for the due time cron_next gives. Outcomes are decided by counts; the
 * time limit of each loop only stops a test that would otherwise hang.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cron.h"
#include "jobtimer.h"

struct watch {
	struct event_base *base;
	int fires;
	int stop_at_fires;     /* break the loop after this many fires */
	uint64_t stop_at_skip; /* or once this many are skipped */
	bool finish;	       /* end each run at once */
	struct jobtimer *j;
};

static void on_fire(struct jobtimer *j, void *arg)
{
	struct watch *w = arg;
	struct jobtimer_stats st;

	w->fires++;
	if (w->finish)
		jobtimer_finished(j);
	jobtimer_stats(j, &st);
	if (w->fires >= w->stop_at_fires)
		event_base_loopbreak(w->base);
}

static void poll_skips(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	struct jobtimer_stats st;

	jobtimer_stats(w->j, &st);
	if (w->stop_at_skip && st.skipped >= w->stop_at_skip)
		event_base_loopbreak(w->base);
}

static void loop(struct watch *w)
{
	struct timeval limit = {20, 0}, tick = {0, 50000};
	struct event *poll = event_new(w->base, -1, EV_PERSIST, poll_skips, w);

	event_add(poll, &tick);
	event_base_loopexit(w->base, &limit);
	event_base_dispatch(w->base);
	event_free(poll);
}

static void fires_repeatedly(void **state)
{
	struct watch w = {.base = event_base_new(), .stop_at_fires = 3, .finish = true};
	struct jobtimer_stats st;
	char err[128];

	w.j = jobtimer_new(w.base, "test", "t", "@every 1", on_fire, &w, err, sizeof err);
	assert_non_null(w.j);
	loop(&w);
	jobtimer_stats(w.j, &st);
	assert_int_equal(w.fires, 3);
	assert_int_equal(st.fired, 3);
	assert_int_equal(st.skipped, 0);
	assert_false(st.running);
	assert_string_equal(st.name, "t");
	jobtimer_free(w.j);
	event_base_free(w.base);
}

/* A run that does not finish: the next due times are skipped, counted, not queued. */
static void overlapping_skipped(void **state)
{
	struct watch w = {.base = event_base_new(), .stop_at_fires = 100, .stop_at_skip = 2};
	struct jobtimer_stats st;
	char err[128];

	w.j = jobtimer_new(w.base, "test", "slow", "@every 1", on_fire, &w, err, sizeof err);
	loop(&w);
	jobtimer_stats(w.j, &st);
	assert_int_equal(w.fires, 1);
	assert_int_equal(st.fired, 1);
	assert_int_equal(st.skipped, 2);
	assert_true(st.running);
	/* Once the run is over, the next due time starts a run again. */
	jobtimer_finished(w.j);
	w.stop_at_fires = 2;
	w.stop_at_skip = 0;
	w.finish = true;
	loop(&w);
	jobtimer_stats(w.j, &st);
	assert_int_equal(st.fired, 2);
	assert_int_equal(st.skipped, 2);
	jobtimer_free(w.j);
	event_base_free(w.base);
}

static void cron_armed(void **state)
{
	struct event_base *base = event_base_new();
	struct jobtimer_stats st;
	struct cron c;
	char err[128];
	struct jobtimer *j =
	    jobtimer_new(base, "test", "hourly", "7 * * * *", on_fire, NULL, err, sizeof err);
	int64_t now = (int64_t)time(NULL);

	assert_non_null(j);
	assert_int_equal(cron_parse("7 * * * *", &c, err, sizeof err), 0);
	jobtimer_stats(j, &st);
	/* Computed from the wall clock at creation: this second or the one before. */
	assert_true(st.next_s == cron_next(&c, now) || st.next_s == cron_next(&c, now - 1));
	assert_int_equal(st.next_s % 3600, 7 * 60);
	assert_int_equal(st.fired, 0);
	jobtimer_free(j);
	jobtimer_free(NULL);
	event_base_free(base);
}

static void refused_schedule(void **state)
{
	struct event_base *base = event_base_new();
	char err[128] = "";

	assert_null(jobtimer_new(base, "test", "x", "61 * * * *", on_fire, NULL, err, sizeof err));
	assert_non_null(strstr(err, "minute: 61 is out of range"));
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fires_repeatedly),
	    cmocka_unit_test(overlapping_skipped),
	    cmocka_unit_test(cron_armed),
	    cmocka_unit_test(refused_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
