/*
 * clock: logs the zone a plugin's localtime gives for each event ("zone
 * <localtime_r offset> <zone> <localtime offset> <zone>"), for
 * test_localtime.py: the operator's zone, not UTC, while serving.
 */
#include <time.h>

#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	time_t t = 1750000000; /* a fixed instant, in June: summer time where there is one */
	struct tm r, *l;

	(void)ev;
	if (localtime_r(&t, &r) == NULL || (l = localtime(&t)) == NULL)
		return -1;
	ss_log(p, SS_INFO, "zone %ld %s %ld %s", r.tm_gmtoff, r.tm_zone, l->tm_gmtoff, l->tm_zone);
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "session.*", on_event);
}

SS_PLUGIN(.name = "clock", .version = "1.0.0", .on_load = on_load);
