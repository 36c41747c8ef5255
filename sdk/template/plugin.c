/*
 * myplugin: a StreamSpace plugin to copy. Rename it (here, in manifest.json,
 * meson.build and Makefile), then replace the handlers with your own.
 *
 * It runs in its own sandboxed host process: no files, no sockets, no
 * processes or threads of its own. Everything outside goes through the
 * daemon: ss_log for logs, ss_subscribe for events, ss_config for settings,
 * ss_route for HTTP routes under /api/plugins/myplugin/.
 */
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

/* The plugin's own state, kept with ss_set_userdata. */
struct state {
	long long sessions; /* session.created events seen */
	int verbose;	    /* config "verbose" */
};

/* Reads the settings this plugin understands from a configuration object. */
static void apply_config(struct state *st, json_object *config)
{
	json_object *v = NULL;

	st->verbose = json_object_object_get_ex(config, "verbose", &v) &&
		      json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static int on_session_created(ss_plugin *p, const ss_event *ev)
{
	struct state *st = ss_userdata(p);
	const char *id = ss_event_str(ev, "id");

	st->sessions++;
	ss_log(p, SS_INFO, "session %s created (%lld so far)", id ? id : "?", st->sessions);
	return 0;
}

static int on_user_event(ss_plugin *p, const ss_event *ev)
{
	struct state *st = ss_userdata(p);

	if (st->verbose)
		/* Structured fields travel with the log line. */
		ss_log_fields(p, SS_DEBUG, ss_event_data(ev), ss_event_type(ev));
	return 0;
}

/* GET /api/plugins/myplugin/hello: a greeting and the sessions seen (any valid token). */
static int on_hello(ss_plugin *p, const ss_request *req, ss_response *res)
{
	struct state *st = ss_userdata(p);
	json_object *o = json_object_new_object();
	int r;

	(void)req;
	json_object_object_add(o, "message",
			       json_object_new_string(ss_config_str(p, "greeting", "hello")));
	json_object_object_add(o, "sessions", json_object_new_int64(st->sessions));
	r = ss_res_json(res, 200, o); /* o is borrowed */
	json_object_put(o);
	return r;
}

/* Called once, after the sandbox is up and the configuration has arrived. */
static int on_load(ss_plugin *p)
{
	struct state *st = calloc(1, sizeof *st);

	if (st == NULL)
		return -1; /* non-zero fails the load */
	apply_config(st, ss_config(p));
	ss_set_userdata(p, st);
	ss_log(p, SS_INFO, "%s %s loaded (greeting: %s)", ss_plugin_name(p), ss_plugin_version(p),
	       ss_config_str(p, "greeting", "hello"));
	/* Subscriptions need the matching permission in manifest.json. */
	if (ss_subscribe(p, "session.created", on_session_created) < 0 ||
	    ss_subscribe(p, "user.*", on_user_event) < 0)
		return -1;
	/*
	 * Routes need "routes" in manifest.json's permissions (and a daemon that
	 * speaks protocol 3); without them the plugin still serves its events.
	 */
	if (ss_route(p, "GET", "/hello", SS_ROUTE_VIEWER, on_hello) != SS_OK)
		ss_log(p, SS_WARN, "GET /hello not served: %s", ss_error_message(p));
	return 0;
}

/* Called when an administrator changes the configuration; non-zero keeps the old one. */
static int on_config(ss_plugin *p, json_object *config)
{
	apply_config(ss_userdata(p), config);
	ss_log(p, SS_INFO, "configuration updated");
	return 0;
}

/* Called before a clean shutdown (not after a crash). */
static void on_unload(ss_plugin *p)
{
	free(ss_userdata(p));
	ss_set_userdata(p, NULL);
}

SS_PLUGIN(.name = "myplugin", .version = "0.1.0", .on_load = on_load, .on_config = on_config,
	  .on_unload = on_unload);
