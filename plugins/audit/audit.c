/*
 * audit: a built-in plugin (compiled into the plugin host, see
 * plugin-host/builtin.h). It writes one structured audit record per session
 * and user event to the daemon's log, where journald or a log shipper takes
 * it for compliance: who did what, to which session, when.
 */
#include <streamspace/plugin.h>

#include "builtin.h"

static const char audit_manifest[] =
    "{\"name\": \"audit\", \"version\": \"1.0.0\", \"displayName\": \"Audit log\","
    " \"description\": \"Writes one structured audit record per session and user event to the"
    " daemon's log, for compliance and forensics.\","
    " \"author\": \"StreamSpace\", \"license\": \"Apache-2.0\", \"type\": \"extension\","
    " \"category\": \"Compliance\", \"tags\": [\"audit\", \"compliance\", \"security\"],"
    " \"permissions\": [\"read:sessions\", \"read:users\"],"
    " \"configSchema\": {\"type\": \"object\", \"properties\": {"
    "  \"includeData\": {\"type\": \"boolean\", \"title\": \"Include event data\","
    "   \"description\": \"Add the whole event data to each record\", \"default\": false}}},"
    " \"defaultConfig\": {\"includeData\": false}}";

/* The first of the keys that names who acted, or NULL. */
static const char *actor(const ss_event *ev)
{
	static const char *const keys[] = {"user", "userId", "username", "email"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = ss_event_str(ev, keys[i]);
		if (v != NULL)
			return v;
	}
	return NULL;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *fields = json_object_new_object();
	const char *who = actor(ev), *session = ss_event_str(ev, "sessionId");

	if (session == NULL && ss_event_type(ev)[0] == 's')
		session = ss_event_str(ev, "id");
	json_object_object_add(fields, "event", json_object_new_string(ss_event_type(ev)));
	json_object_object_add(fields, "event_id", json_object_new_int64(ss_event_id(ev)));
	if (who != NULL)
		json_object_object_add(fields, "actor", json_object_new_string(who));
	if (session != NULL)
		json_object_object_add(fields, "session", json_object_new_string(session));
	if (ss_config_bool(p, "includeData", 0))
		json_object_object_add(fields, "data", json_object_get(ss_event_data(ev)));
	ss_log_fields(p, SS_INFO, fields, "audit");
	json_object_put(fields);
	return 0;
}

static int on_load(ss_plugin *p)
{
	if (ss_subscribe(p, "session.*", on_event) < 0 || ss_subscribe(p, "user.*", on_event) < 0)
		return -1;
	return 0;
}

/* Takes a new configuration live: includeData is read per event. */
static int on_config(ss_plugin *p, json_object *config)
{
	(void)p;
	(void)config;
	return 0;
}

static const struct ss_plugin_def audit_def = {
    .abi = SS_SDK_ABI,
    .size = sizeof(struct ss_plugin_def),
    .name = "audit",
    .version = "1.0.0",
    .on_load = on_load,
    .on_config = on_config,
};

SS_BUILTIN(audit_def, audit_manifest)
