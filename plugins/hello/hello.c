/*
 * hello: the smallest useful plugin. It subscribes to every event it may
 * see and logs each one with its data, which makes it the first thing to
 * enable when checking that events flow.
 */
#include <streamspace/plugin.h>

/*
 * Logs one line per event: "event <type> id=<id> data=<json>" (the
 * integration tests read it back, so keep the shape).
 */
static int on_event(ss_plugin *p, const ss_event *ev)
{
	ss_log(p, SS_INFO, "event %s id=%lld data=%s", ss_event_type(ev),
	       (long long)ss_event_id(ev),
	       json_object_to_json_string_ext(ss_event_data(ev), JSON_C_TO_STRING_PLAIN));
	return 0;
}

static int on_load(ss_plugin *p)
{
	const char *greeting = ss_config_str(p, "greeting", "hello");

	ss_log(p, SS_INFO, "%s from %s %s", greeting, ss_plugin_name(p), ss_plugin_version(p));
	return ss_subscribe(p, "*", on_event);
}

static int on_config(ss_plugin *p, json_object *config)
{
	ss_log(p, SS_INFO, "new configuration: %s",
	       json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
	return 0;
}

static void on_unload(ss_plugin *p)
{
	ss_log(p, SS_INFO, "goodbye from %s", ss_plugin_name(p));
}

SS_PLUGIN(.name = "hello", .version = "1.0.0", .on_load = on_load, .on_unload = on_unload,
	  .on_config = on_config);
