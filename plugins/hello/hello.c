/*
 * hello: the smallest useful plugin. It subscribes to every event it may
 * see and logs each one with its data, which makes it the first thing to
 * enable when checking that events flow, and serves GET
 * /api/plugins/hello/hello as the integration guide's example plugin does.
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

/* GET /api/plugins/hello/hello: {"message": "Hello from plugin!"}. */
static int on_hello(ss_plugin *p, const ss_request *req, ss_response *res)
{
	json_object *body = json_object_new_object();
	int r;

	(void)p;
	(void)req;
	json_object_object_add(body, "message", json_object_new_string("Hello from plugin!"));
	r = ss_res_json(res, 200, body);
	json_object_put(body);
	return r;
}

static int on_load(ss_plugin *p)
{
	const char *greeting = ss_config_str(p, "greeting", "hello");

	ss_log(p, SS_INFO, "%s from %s %s", greeting, ss_plugin_name(p), ss_plugin_version(p));
	/* Without the "routes" permission (an older manifest) hello still logs events. */
	if (ss_route(p, "GET", "/hello", SS_ROUTE_VIEWER, on_hello) != SS_OK)
		ss_log(p, SS_WARN, "GET /hello not served: %s", ss_error_message(p));
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
