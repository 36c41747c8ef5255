/*
 * base/worker: jobs run on one thread other than the reactor's, one at a
 * time in the order submitted; done runs on the reactor afterwards;
 * worker_drain completes them without the loop; worker_free waits for the
 * running job and cancels the queued ones.
 */
#include <event2/event.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "worker.h"

#define N 32

struct job {
	int index;
	pthread_t ran_on;
	int order; /* position among the works that ran */
	bool done, cancelled, on_thread;
	sem_t *started; /* work posts this first, when set */
	sem_t *gate;	/* then waits here, when set */
};

static int ran;		  /* written by the worker thread only, read after it finished */
static int dones;	  /* the reactor's */
static pthread_t reactor; /* the test's thread */

static void work(void *arg)
{
	struct job *j = arg;

	if (j->started)
		sem_post(j->started);
	if (j->gate)
		sem_wait(j->gate);
	j->ran_on = pthread_self();
	j->on_thread = !pthread_equal(j->ran_on, reactor);
	j->order = ran++;
}

static void done(void *arg, bool cancelled)
{
	struct job *j = arg;

	/* Always on the reactor's thread. */
	assert_true(pthread_equal(pthread_self(), reactor));
	j->done = true;
	j->cancelled = cancelled;
	dones++;
}

static void stop_when_all_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (dones == N)
		event_base_loopbreak(arg);
}

static void test_order_thread_and_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job jobs[N] = {0};
	struct timeval tick = {0, 1000};
	struct event *ev = event_new(base, -1, EV_PERSIST, stop_when_all_done, base);

	(void)state;
	reactor = pthread_self();
	ran = dones = 0;
	for (int i = 0; i < N; i++) {
		jobs[i].index = i;
		worker_submit(w, work, done, &jobs[i]);
	}
	/* Nothing completes before the loop runs: done never runs inside submit. */
	assert_int_equal(dones, 0);
	event_add(ev, &tick);
	event_base_dispatch(base);
	for (int i = 0; i < N; i++) {
		assert_true(jobs[i].done);
		assert_false(jobs[i].cancelled);
		assert_true(jobs[i].on_thread);
		assert_int_equal(jobs[i].order, i);
		assert_true(pthread_equal(jobs[i].ran_on, jobs[0].ran_on));
	}
	event_free(ev);
	worker_free(w);
	event_base_free(base);
}

static void test_drain(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job jobs[4] = {0};

	(void)state;
	reactor = pthread_self();
	ran = dones = 0;
	for (int i = 0; i < 4; i++)
		worker_submit(w, work, done, &jobs[i]);
	worker_drain(w);
	assert_int_equal(dones, 4);
	for (int i = 0; i < 4; i++)
		assert_true(jobs[i].done && !jobs[i].cancelled);
	worker_drain(w); /* nothing outstanding: returns at once */
	worker_free(w);
	event_base_free(base);
}

static void *open_gate_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
	sem_post(arg);
	return NULL;
}

/*
 * A job running when the worker is freed finishes; the queued ones never
 * run. Every done is called once, cancelled (the owner only releases).
 */
static void test_free_cancels_queued(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job first = {0}, queued[3] = {0};
	pthread_t opener;
	sem_t gate, started;

	(void)state;
	reactor = pthread_self();
	ran = dones = 0;
	sem_init(&gate, 0, 0);
	sem_init(&started, 0, 0);
	first.gate = &gate;
	first.started = &started;
	worker_submit(w, work, done, &first);
	for (int i = 0; i < 3; i++)
		worker_submit(w, work, done, &queued[i]);
	/* The first job runs, and is held until worker_free has asked the thread to stop. */
	sem_wait(&started);
	pthread_create(&opener, NULL, open_gate_later, &gate);
	worker_free(w);
	pthread_join(opener, NULL);
	assert_int_equal(ran, 1);
	assert_int_equal(dones, 4);
	assert_true(first.done && first.cancelled && first.on_thread);
	for (int i = 0; i < 3; i++)
		assert_true(queued[i].done && queued[i].cancelled && !queued[i].on_thread);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
	worker_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_thread_and_loop),
	    cmocka_unit_test(test_drain),
	    cmocka_unit_test(test_free_cancels_queued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
