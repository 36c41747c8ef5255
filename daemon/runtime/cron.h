/*
 * cron: the schedules of plugin jobs (ss_cron, the manifest's
 * scheduler.jobs), parsed once and asked for their next firing time, with no
 * timer or plugin in sight so that both rules have unit tests.
 *
 * A schedule is either a 5-field cron expression (minute hour day-of-month
 * month day-of-week, as crontab(5)) or "@every N" seconds. Cron expressions
 * are evaluated in UTC: a daemon's jobs fire at the same instants whatever
 * the machine's time zone, and no DST change skips or repeats an hour.
 *
 * Each field is a list of items separated by commas; an item is "*", a value,
 * or a range "a-b", any of them optionally followed by a step "/n" ("a/n"
 * means a to the field's maximum). Months and days of the week may be
 * written by their English three-letter names, in any case ("jan", "Mon");
 * day of week 0 and 7 are both Sunday. The day rule is crontab's: when both
 * day of month and day of week are restricted (neither starts with "*"), a
 * day matches when either does; otherwise both must.
 */
#ifndef SS_CRON_H
#define SS_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRON_EVERY_MAX_S (366 * 86400) /* "@every" at most a year */

struct cron {
	uint64_t minutes; /* bit m: minute m (0-59) */
	uint32_t hours;	  /* bit h (0-23) */
	uint32_t mdays;	  /* bit d (1-31) */
	uint16_t months;  /* bit m (1-12) */
	uint8_t wdays;	  /* bit d (0-6, 0 Sunday) */
	bool mday_star, wday_star;
	int64_t every_s; /* > 0: "@every N", the fields are unused */
};

/*
 * Parses text into c. Returns 0, or -1 with a sentence in err that names the
 * field and what is wrong with it. An expression that can never fire (the
 * 30th of February) is refused too.
 */
int cron_parse(const char *text, struct cron *c, char *err, size_t errlen);

/*
 * The first time strictly after `after` (seconds since the epoch) at which c
 * fires; for "@every N", after + N. Returns -1 when there is none within 8
 * years (cron_parse refuses such expressions).
 */
int64_t cron_next(const struct cron *c, int64_t after);

#endif
