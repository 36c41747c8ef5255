/*
 * myplugin: a StreamSpace plugin to copy, the integration guide's example in
 * C. Rename it (here, in manifest.json, meson.build and Makefile), then
 * replace the handlers with your own. It shows every part of the API:
 *
 *   - events:   counts session.created events (ss_subscribe)
 *   - storage:  keeps the count in the plugin's storage, so it survives
 *               restarts and upgrades (ss_storage_get/set)
 *   - config:   reads its validated configuration (ss_config_*, on_config)
 *   - routes:   serves GET /api/plugins/myplugin/hello (ss_route)
 *   - jobs:     a "report" job every reportEverySeconds (ss_every) that
 *   - emits:    publishes plugin.myplugin.report for other plugins (ss_emit)
 *   - egress:   and posts it to the configured webhook (ss_http_request)
 *
 * It runs in its own sandboxed host process: no files, no sockets, no
 * processes or threads of its own. Everything outside goes through the
 * daemon, which checks the manifest's permissions on every call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

/* The plugin's own state, kept with ss_set_userdata. */
struct state {
	long long sessions; /* session.created events seen (stored as "sessions") */
	int verbose;	    /* config "verbose" */
};

/* Reads the settings this plugin understands from a configuration object. */
static void apply_config(struct state *st, json_object *config)
{
	json_object *v = NULL;

	st->verbose = json_object_object_get_ex(config, "verbose", &v) &&
		      json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/*
 * The count from storage, if there is one. Without a database (a daemon run
 * with --plugin) storage answers SS_ERR_UNAVAILABLE: the count is then this
 * host's only.
 */
static void load_count(ss_plugin *p, struct state *st)
{
	json_object *v = NULL;
	int r = ss_storage_get(p, "sessions", &v);

	if (r == SS_OK && json_object_is_type(v, json_type_int))
		st->sessions = json_object_get_int64(v);
	else if (r != SS_ERR_NOT_FOUND)
		ss_log(p, SS_INFO, "storage: %s", ss_error_message(p));
	json_object_put(v);
}

static int on_session_created(ss_plugin *p, const ss_event *ev)
{
	struct state *st = ss_userdata(p);
	const char *id = ss_event_str(ev, "id");
	json_object *v;

	st->sessions++;
	v = json_object_new_int64(st->sessions);
	if (ss_storage_set(p, "sessions", v) != SS_OK && strcmp(ss_error_code(p), "unavailable"))
		ss_log(p, SS_WARN, "storage: %s", ss_error_message(p));
	json_object_put(v);
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

/*
 * The scheduled job: publishes plugin.myplugin.report {"sessions": N} and,
 * when webhookUrl is set, posts {"text": "..."} to it through the daemon.
 */
static int report(ss_plugin *p, const char *job)
{
	struct state *st = ss_userdata(p);
	const char *url = ss_config_str(p, "webhookUrl", "");
	json_object *d = json_object_new_object(), *body;
	ss_http_response res;
	char text[128];
	int r;

	(void)job;
	json_object_object_add(d, "sessions", json_object_new_int64(st->sessions));
	if (ss_emit(p, "report", d) != SS_OK)
		ss_log(p, SS_WARN, "emit: %s", ss_error_message(p));
	json_object_put(d);
	if (url[0] == '\0')
		return 0;
	snprintf(text, sizeof text, "%lld sessions so far", st->sessions);
	body = json_object_new_object();
	json_object_object_add(body, "text", json_object_new_string(text));
	r = ss_http_request(p, "POST", url, NULL, json_object_to_json_string(body), &res);
	json_object_put(body);
	if (r != SS_OK) {
		ss_log(p, SS_WARN, "webhook: %s", ss_error_message(p));
		return 1; /* counted as a failed run */
	}
	ss_log(p, SS_INFO, "webhook answered %d", res.status);
	r = res.status >= 200 && res.status < 300 ? 0 : 1;
	ss_http_response_free(&res);
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
	load_count(p, st);
	ss_log(p, SS_INFO, "%s %s loaded (greeting: %s)", ss_plugin_name(p), ss_plugin_version(p),
	       ss_config_str(p, "greeting", "hello"));
	/* Subscriptions need the matching permission in manifest.json. */
	if (ss_subscribe(p, "session.created", on_session_created) < 0 ||
	    ss_subscribe(p, "user.*", on_user_event) < 0)
		return -1;
	/*
	 * The route needs "routes", the job "scheduler" (and a daemon that speaks
	 * protocol 3); without them the plugin still serves its events, and the
	 * log line says why (the daemon's reason, e.g. the missing permission).
	 */
	if (ss_route(p, "GET", "/hello", SS_ROUTE_VIEWER, on_hello) != SS_OK)
		ss_log(p, SS_WARN, "GET /hello not served: %s", ss_error_message(p));
	if (ss_every(p, "report", ss_config_int(p, "reportEverySeconds", 60), report) != SS_OK)
		ss_log(p, SS_WARN, "no report job: %s", ss_error_message(p));
	return 0;
}

/*
 * Called when an administrator changes the configuration (already checked
 * against manifest.json's configSchema); non-zero keeps the old one.
 * greeting and webhookUrl are read when used; reportEverySeconds is the
 * job's schedule, declared in on_load, so it applies from the next start.
 */
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
