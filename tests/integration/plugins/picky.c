/*
 * picky: a plugin whose on_config refuses any configuration with
 * "accept": false, and logs every configuration it takes ("config now
 * <json>"), so a test can tell which one is in force. For the registry's
 * rule that a refused configuration is not stored (issue 8, item 13).
 */
#include <streamspace/plugin.h>

static int on_event(ss_plugin *p, const ss_event *ev)
{
	(void)p;
	(void)ev;
	return 0;
}

static int on_load(ss_plugin *p)
{
	ss_log(p, SS_INFO, "config now %s",
	       json_object_to_json_string_ext(ss_config(p), JSON_C_TO_STRING_PLAIN));
	return ss_subscribe(p, "session.*", on_event);
}

static int on_config(ss_plugin *p, json_object *config)
{
	json_object *v;

	if (json_object_object_get_ex(config, "accept", &v) && !json_object_get_boolean(v))
		return -1;
	ss_log(p, SS_INFO, "config now %s",
	       json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
	return 0;
}

SS_PLUGIN(.name = "picky", .version = "1.0.0", .on_load = on_load, .on_config = on_config);
