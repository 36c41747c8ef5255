/*
 * jobtimer: the timer of one scheduled plugin job (ss_every, ss_cron, the
 * manifest's scheduler.jobs). The daemon owns the timers, not the host: a
 * job fires here and its owner sends the host a message; the owner tells the
 * job when that run is over. A job that comes due while its previous run is
 * still going is skipped and counted, never queued, so a slow job cannot pile
 * up runs. The owner frees its jobs when the plugin goes (they go with it).
 *
 * Cron schedules follow the wall clock in UTC (cron.h); the timer is on the
 * monotonic clock, so when it expires the due time is checked against the
 * wall clock again (a clock set back waits for the real due time; a clock
 * set forward fires once, not once per missed minute). "@every N" runs on
 * the monotonic clock alone.
 */
#ifndef SS_JOBTIMER_H
#define SS_JOBTIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct jobtimer;

/* The job came due and was not running: a run starts (jobtimer_finished ends it). */
typedef void (*jobtimer_fire_fn)(struct jobtimer *j, void *arg);

/*
 * A job on schedule (cron_parse's syntax), armed at once; owner (the
 * plugin) names its log lines. NULL with a sentence in err when the
 * schedule is refused.
 */
struct jobtimer *jobtimer_new(struct event_base *base, const char *owner, const char *name,
			      const char *schedule, jobtimer_fire_fn fire, void *arg, char *err,
			      size_t errlen);
/* Disarms and frees the job. NULL is fine. */
void jobtimer_free(struct jobtimer *j);
/* The run the last fire started is over (the host answered, or is gone). */
void jobtimer_finished(struct jobtimer *j);

struct jobtimer_stats {
	const char *name;
	uint64_t fired;	  /* runs started */
	uint64_t skipped; /* due while the previous run was still going */
	bool running;
	int64_t next_s; /* wall clock, seconds since the epoch, of the next due time */
};
void jobtimer_stats(const struct jobtimer *j, struct jobtimer_stats *st);

#endif
