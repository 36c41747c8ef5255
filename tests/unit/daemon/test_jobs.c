/*
 * jobs: the wiring between a host's declarations, their timers and the
 * host's runs, with a fake host (struct jobs_host_ops) on a real event loop.
 * What is declared is refused or accepted with the right code; a ready host's
 * jobs fire and their answers are counted; a run the host does not answer
 * makes the next due times skips; a host that stops runs nothing more and its
 * counts carry over to the next host. Outcomes are decided by counts; the
 * loop's time limit only stops a test that would otherwise hang.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jobs.h"
#include "msg.h"

/* The fake host: records runs, answers them (or not) as told. */
struct host {
	struct event_base *base;
	int runs, refuse; /* refuse: run returns -1 (not serving) */
	bool answer;	  /* answer each run at once (from the loop) */
	bool ok;	  /* with ok, else handler_failed */
	int stop_at;	  /* break the loop after this many runs */
	char last[64];
	jobs_done_fn pending;
	void *pending_arg;
	struct event *reply;
};

static struct host *the_host;

static void reply_cb(evutil_socket_t fd, short what, void *arg)
{
	struct host *h = arg;
	jobs_done_fn done = h->pending;

	h->pending = NULL;
	if (done != NULL)
		done(h->pending_arg, h->ok, h->ok ? NULL : ERR_HANDLER, "it returned 1");
	if (h->runs >= h->stop_at)
		event_base_loopbreak(h->base);
}

static int fake_run(struct peer *peer, const char *job, int timeout_ms, jobs_done_fn done,
		    void *arg)
{
	struct host *h = the_host;

	(void)peer;
	assert_true(timeout_ms > 0);
	if (h->refuse) {
		h->refuse--;
		return -1;
	}
	h->runs++;
	snprintf(h->last, sizeof h->last, "%s", job);
	/* At most one run at a time reaches a host per job: the timer skips meanwhile. */
	assert_null(h->pending);
	h->pending = done;
	h->pending_arg = arg;
	if (h->answer)
		event_active(h->reply, EV_TIMEOUT, 0);
	else if (h->runs >= h->stop_at)
		event_base_loopbreak(h->base);
	return 0;
}

static const struct jobs_host_ops ops = {fake_run};

/* Peers are keys only: any distinct addresses do. */
static char peer_a, peer_b;
#define PEER_A ((struct peer *)&peer_a)
#define PEER_B ((struct peer *)&peer_b)

static void host_init(struct host *h)
{
	memset(h, 0, sizeof *h);
	h->base = event_base_new();
	h->reply = event_new(h->base, -1, 0, reply_cb, h);
	h->answer = true;
	h->ok = true;
	h->stop_at = 1000;
	the_host = h;
}

static void host_fini(struct host *h)
{
	event_free(h->reply);
	event_base_free(h->base);
}

static void loop(struct host *h, int seconds)
{
	struct timeval limit = {seconds, 0};

	event_base_loopexit(h->base, &limit);
	event_base_dispatch(h->base);
}

/* The status object of job name of plugin (a new reference), or NULL. */
static json_object *status_of(struct jobs *js, const char *plugin, const char *name)
{
	json_object *arr = jobs_status(js, plugin), *found = NULL;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		if (strcmp(msg_get_str(o, "name"), name) == 0)
			found = json_object_get(o);
	}
	json_object_put(arr);
	return found;
}

static int64_t field(json_object *o, const char *k)
{
	int64_t v = -1;
	assert_true(msg_get_int(o, k, &v));
	return v;
}

static void names(void **state)
{
	(void)state;
	assert_true(jobs_name_valid("cleanup"));
	assert_true(jobs_name_valid("a"));
	assert_true(jobs_name_valid("0-retention_run.v2"));
	assert_false(jobs_name_valid(""));
	assert_false(jobs_name_valid(NULL));
	assert_false(jobs_name_valid("-x"));
	assert_false(jobs_name_valid("_x"));
	assert_false(jobs_name_valid("Upper"));
	assert_false(jobs_name_valid("sp ace"));
	assert_false(jobs_name_valid("a/b"));
	char longname[JOB_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(jobs_name_valid(longname));
	longname[JOB_NAME_MAX] = '\0';
	assert_true(jobs_name_valid(longname));
}

/* What job.add refuses, each with its code and a sentence that says why. */
static void declarations(void **state)
{
	struct host h;
	struct jobs *js;
	json_object *mj;
	char err[384], name[16];

	(void)state;
	host_init(&h);
	js = jobs_new(h.base, 0);
	mj = json_tokener_parse("[{\"name\":\"nightly\",\"schedule\":\"0 3 * * *\","
				"\"description\":\"clean up\"}]");
	jobs_set_manifest(js, "p", mj);
	json_object_put(mj);

	assert_string_equal(jobs_add(js, PEER_A, "p", "Bad", "@every 1", err, sizeof err),
			    ERR_BAD_REQUEST);
	assert_non_null(strstr(err, "Bad"));
	assert_string_equal(jobs_add(js, PEER_A, "p", "x", "61 * * * *", err, sizeof err),
			    ERR_BAD_REQUEST);
	assert_non_null(strstr(err, "minute"));
	assert_string_equal(jobs_add(js, PEER_A, "p", "x", "@every 0", err, sizeof err),
			    ERR_BAD_REQUEST);
	assert_string_equal(jobs_add(js, PEER_A, "p", "x", "0 0 30 2 *", err, sizeof err),
			    ERR_BAD_REQUEST);
	/* A manifest job: bound by name only, on the manifest's schedule. */
	assert_string_equal(jobs_add(js, PEER_A, "p", "other", NULL, err, sizeof err),
			    ERR_NOT_FOUND);
	assert_non_null(strstr(err, "scheduler.jobs"));
	assert_string_equal(jobs_add(js, PEER_A, "p", "nightly", "@every 5", err, sizeof err),
			    ERR_CONFLICT);
	assert_null(jobs_add(js, PEER_A, "p", "nightly", NULL, err, sizeof err));
	assert_null(jobs_add(js, PEER_A, "p", "tick", "*/5 * * * *", err, sizeof err));
	assert_string_equal(jobs_add(js, PEER_A, "p", "tick", "@every 9", err, sizeof err),
			    ERR_CONFLICT);
	assert_non_null(strstr(err, "twice"));
	for (int i = 2; i < JOBS_MAX; i++) {
		snprintf(name, sizeof name, "j%d", i);
		assert_null(jobs_add(js, PEER_A, "p", name, "@every 60", err, sizeof err));
	}
	assert_string_equal(jobs_add(js, PEER_A, "p", "one-more", "@every 60", err, sizeof err),
			    ERR_TOO_LARGE);
	/* Another host of the same plugin (an upgrade's successor) has its own set. */
	assert_null(jobs_add(js, PEER_B, "p", "tick", "*/5 * * * *", err, sizeof err));

	json_object *st = status_of(js, "p", "nightly");
	assert_non_null(st);
	assert_string_equal(msg_get_str(st, "schedule"), "0 3 * * *");
	assert_string_equal(msg_get_str(st, "source"), "manifest");
	assert_string_equal(msg_get_str(st, "description"), "clean up");
	json_object_put(st);
	st = status_of(js, "p", "tick");
	assert_string_equal(msg_get_str(st, "source"), "sdk");
	/* Declared, not armed: the host is not ready yet. */
	assert_false(json_object_get_boolean(json_object_object_get(st, "scheduled")));
	json_object_put(st);

	jobs_host_gone(js, PEER_A);
	jobs_host_gone(js, PEER_B);
	jobs_free(js);
	host_fini(&h);
}

/* A ready host's job fires; ok and failed answers are counted. */
static void runs_counted(void **state)
{
	struct host h;
	struct jobs *js;
	json_object *st;
	char err[256];

	(void)state;
	host_init(&h);
	h.stop_at = 3;
	js = jobs_new(h.base, 0);
	assert_null(jobs_add(js, PEER_A, "p", "tick", "@every 1", err, sizeof err));
	jobs_host_ready(js, PEER_A, "p", &ops);
	st = status_of(js, "p", "tick");
	assert_true(json_object_get_boolean(json_object_object_get(st, "scheduled")));
	assert_true(field(st, "next_run_s") > 0);
	json_object_put(st);

	loop(&h, 20);
	assert_int_equal(h.runs, 3);
	assert_string_equal(h.last, "tick");
	st = status_of(js, "p", "tick");
	assert_int_equal(field(st, "runs"), 3);
	assert_int_equal(field(st, "failed"), 0);
	assert_int_equal(field(st, "skipped"), 0);
	assert_true(field(st, "last_run_ms") > 0);
	assert_true(field(st, "last_duration_ms") >= 0);
	assert_null(json_object_object_get(st, "last_error"));
	json_object_put(st);

	h.ok = false;
	h.stop_at = 4;
	loop(&h, 20);
	st = status_of(js, "p", "tick");
	assert_int_equal(field(st, "runs"), 4);
	assert_int_equal(field(st, "failed"), 1);
	assert_non_null(strstr(msg_get_str(st, "last_error"), "handler_failed"));
	json_object_put(st);

	jobs_host_stop(js, PEER_A);
	jobs_host_gone(js, PEER_A);
	jobs_free(js);
	host_fini(&h);
}

/* A run that is not answered: the next due times are skipped, never sent. */
static void slow_run_skipped(void **state)
{
	struct host h;
	struct jobs *js;
	json_object *st;
	char err[256];

	(void)state;
	host_init(&h);
	h.answer = false;
	js = jobs_new(h.base, 0);
	assert_null(jobs_add(js, PEER_A, "p", "slow", "@every 1", err, sizeof err));
	jobs_host_ready(js, PEER_A, "p", &ops);
	/* The first run starts and hangs; 3 s later at least two due times went by. */
	loop(&h, 4);
	assert_int_equal(h.runs, 1);
	st = status_of(js, "p", "slow");
	assert_true(json_object_get_boolean(json_object_object_get(st, "running")));
	assert_true(field(st, "skipped") >= 2);
	json_object_put(st);

	/* The run ends: the job runs again at its next due time. */
	h.pending(h.pending_arg, true, NULL, NULL);
	h.pending = NULL;
	h.answer = true;
	h.stop_at = 2;
	loop(&h, 20);
	assert_int_equal(h.runs, 2);
	st = status_of(js, "p", "slow");
	assert_false(json_object_get_boolean(json_object_object_get(st, "running")));
	json_object_put(st);

	jobs_host_stop(js, PEER_A);
	jobs_host_gone(js, PEER_A);
	jobs_free(js);
	host_fini(&h);
}

/*
 * A host that does not serve any more runs nothing (its run is refused); a
 * stopped host's jobs are disarmed, a run in flight still ends, and the
 * next host's jobs carry the counts on.
 */
static void hosts_come_and_go(void **state)
{
	struct host h;
	struct jobs *js;
	json_object *st;
	char err[256];

	(void)state;
	host_init(&h);
	js = jobs_new(h.base, 0);
	assert_null(jobs_add(js, PEER_A, "p", "tick", "@every 1", err, sizeof err));
	jobs_host_ready(js, PEER_A, "p", &ops);
	h.refuse = 1; /* the first due time finds the host not serving */
	h.stop_at = 1;
	loop(&h, 20);
	assert_int_equal(h.runs, 1);
	assert_int_equal(h.refuse, 0);
	st = status_of(js, "p", "tick");
	assert_int_equal(field(st, "runs"), 1);
	json_object_put(st);

	/* A run in flight when the host stops serving: it still ends, into the counts. */
	h.answer = false;
	h.stop_at = 2;
	loop(&h, 20);
	assert_int_equal(h.runs, 2);
	jobs_host_stop(js, PEER_A);
	st = status_of(js, "p", "tick");
	assert_false(json_object_get_boolean(json_object_object_get(st, "scheduled")));
	assert_true(json_object_get_boolean(json_object_object_get(st, "running")));
	json_object_put(st);
	h.pending(h.pending_arg, false, "lost", "the host ended before answering");
	h.pending = NULL;
	jobs_host_gone(js, PEER_A);
	st = status_of(js, "p", "tick");
	assert_int_equal(field(st, "failed"), 1);
	assert_non_null(strstr(msg_get_str(st, "last_error"), "lost"));
	assert_false(json_object_get_boolean(json_object_object_get(st, "running")));
	json_object_put(st);

	/* Nothing fires for a host that is gone. */
	loop(&h, 2);
	assert_int_equal(h.runs, 2);

	/* The restarted host declares it again: the counts go on. */
	h.answer = true;
	h.stop_at = 3;
	assert_null(jobs_add(js, PEER_B, "p", "tick", "@every 1", err, sizeof err));
	jobs_host_ready(js, PEER_B, "p", &ops);
	loop(&h, 20);
	st = status_of(js, "p", "tick");
	assert_int_equal(field(st, "runs"), 3);
	assert_true(json_object_get_boolean(json_object_object_get(st, "scheduled")));
	json_object_put(st);

	jobs_host_stop(js, PEER_B);
	jobs_host_gone(js, PEER_B);
	jobs_free(js);
	host_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(declarations),
	    cmocka_unit_test(runs_counted),
	    cmocka_unit_test(slow_run_skipped),
	    cmocka_unit_test(hosts_come_and_go),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
