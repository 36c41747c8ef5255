/*
 * echo: logs "echo <type> <id>" for every event it receives. A second
 * well-behaved plugin for tests that need two real plugins side by side.
 */
#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	ss_log(p, SS_INFO, "echo %s %lld", ss_event_type(ev), (long long)ss_event_id(ev));
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "*", on_event);
}

SS_PLUGIN(.name = "echo", .version = "1.0.0", .on_load = on_load);
