/*
 * poisoner: logs "got <id>" for every event and aborts the host on one whose
 * data holds "crash": true, for test_poison_attribution.py: with several
 * events in flight, the crash must be blamed on that event, not on one the
 * host had already handled.
 */
#include <stdlib.h>

#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *v;

	if (json_object_object_get_ex(ss_event_data(ev), "crash", &v) && json_object_get_boolean(v))
		abort();
	ss_log(p, SS_INFO, "got %lld", (long long)ss_event_id(ev));
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "session.*", on_event);
}

SS_PLUGIN(.name = "poisoner", .version = "1.0.0", .on_load = on_load);
