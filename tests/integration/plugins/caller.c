/*
 * caller: makes one call to the daemon (ss_storage_get) from inside every
 * event callback and logs what it got, with the event's id, so a test can
 * tell that events which arrive while a call waits are delivered after it,
 * once each and in order (plugin-host/call.c), and what the call returned.
 */
#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *v = NULL;
	int r = ss_storage_get(p, "k", &v);

	ss_log(p, SS_INFO, "event %lld get=%d code=%s msg=%s", (long long)ss_event_id(ev), r,
	       ss_error_code(p), ss_error_message(p));
	json_object_put(v);
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "session.*", on_event);
}

SS_PLUGIN(.name = "caller", .version = "1.0.0", .on_load = on_load);
