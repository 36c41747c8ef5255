#include "evtime.h"

#include <time.h>

#include "isotime.h"

int64_t evtime_of(const ss_event *ev)
{
	const char *ts = ss_event_str(ev, "timestamp");
	int64_t ms;
	if (ts && isotime_parse(ts, &ms))
		return ms;
	if (ss_event_ts(ev) > 0)
		return ss_event_ts(ev);
	return (int64_t)time(NULL) * 1000;
}
