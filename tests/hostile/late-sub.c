/*
 * Subscribes to session.* on load, then to user.* from inside its first
 * event: after ready, a subscription is a subscribe request the daemon may
 * refuse.
 */
#include <streamspace/plugin.h>

static int on_user(ss_plugin *p, const ss_event *ev)
{
	ss_log(p, SS_INFO, "late %s", ss_event_type(ev));
	return 0;
}

static int on_session(ss_plugin *p, const ss_event *ev)
{
	ss_log(p, SS_INFO, "early %s", ss_event_type(ev));
	return ss_subscribe(p, "user.*", on_user);
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "session.*", on_session);
}

SS_PLUGIN(.name = "late-sub", .version = "0.0.1", .on_load = on_load);
