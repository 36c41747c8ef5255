#include "jobtimer.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "cron.h"
#include "log.h"
#include "xmalloc.h"

struct jobtimer {
	char *owner, *name;
	struct cron cron;
	struct event *timer;
	jobtimer_fire_fn fire;
	void *arg;
	int64_t due_s;	     /* cron: the wall-clock due time */
	int64_t due_mono_ms; /* @every: the monotonic due time */
	uint64_t fired, skipped;
	bool running;
};

/* Arms the timer for the due time computed last. */
static void arm(struct jobtimer *j)
{
	int64_t ms;

	if (j->cron.every_s > 0)
		ms = j->due_mono_ms - clock_mono_ms();
	else
		ms = j->due_s * 1000 - clock_real_ms();
	struct timeval tv = clock_tv(ms > 0 ? ms : 0);
	evtimer_add(j->timer, &tv);
}

/* The next due time after now. */
static void schedule_next(struct jobtimer *j)
{
	if (j->cron.every_s > 0)
		j->due_mono_ms = clock_mono_ms() + j->cron.every_s * 1000;
	else
		j->due_s = cron_next(&j->cron, clock_real_ms() / 1000);
	/* cron_parse refuses what never fires; should the search still find nothing, stay idle. */
	if (j->cron.every_s == 0 && j->due_s < 0) {
		log_warn(j->owner, "job %s has no next due time; not scheduled again", j->name);
		return;
	}
	arm(j);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jobtimer *j = arg;

	(void)fd;
	(void)what;
	/* The wall clock went back since the timer was set: wait for the real due time. */
	if (j->cron.every_s == 0 && clock_real_ms() < j->due_s * 1000) {
		arm(j);
		return;
	}
	schedule_next(j);
	if (j->running) {
		j->skipped++;
		log_warn(j->owner, "job %s skipped: the previous run is still going (%llu skipped)",
			 j->name, (unsigned long long)j->skipped);
		return;
	}
	j->running = true;
	j->fired++;
	/* Last: fire may free the job. */
	j->fire(j, j->arg);
}

struct jobtimer *jobtimer_new(struct event_base *base, const char *owner, const char *name,
			      const char *schedule, jobtimer_fire_fn fire, void *arg, char *err,
			      size_t errlen)
{
	struct jobtimer *j = xcalloc(1, sizeof *j);

	if (cron_parse(schedule, &j->cron, err, errlen) < 0) {
		free(j);
		return NULL;
	}
	j->owner = xstrdup(owner);
	j->name = xstrdup(name);
	j->fire = fire;
	j->arg = arg;
	j->timer = evtimer_new(base, timer_cb, j);
	if (j->timer == NULL)
		fatal("jobtimer_new: out of memory");
	schedule_next(j);
	return j;
}

void jobtimer_free(struct jobtimer *j)
{
	if (j == NULL)
		return;
	event_free(j->timer);
	free(j->owner);
	free(j->name);
	free(j);
}

void jobtimer_finished(struct jobtimer *j)
{
	j->running = false;
}

void jobtimer_stats(const struct jobtimer *j, struct jobtimer_stats *st)
{
	st->name = j->name;
	st->fired = j->fired;
	st->skipped = j->skipped;
	st->running = j->running;
	st->next_s = j->cron.every_s > 0
			 ? clock_real_ms() / 1000 + (j->due_mono_ms - clock_mono_ms() + 999) / 1000
			 : j->due_s;
}
