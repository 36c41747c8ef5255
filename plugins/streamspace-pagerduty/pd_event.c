#include "pd_event.h"

#include "../common/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* custom_details beyond this (PagerDuty refuses an event over 512 KB) is replaced by a note. */
enum { DETAILS_MAX = 256 * 1024, SOURCE_MAX = 255 };

static const char *const default_triggers[] = {"session.hibernated", NULL};
static const char *const default_resolves[] = {"session.woken", "session.deleted", NULL};

/* Whether event is in config[key] (an array of names), or in defs when config has no such list. */
static bool listed(json_object *config, const char *key, const char *event, const char *const *defs)
{
	json_object *list;
	if (!json_object_object_get_ex(config, key, &list) ||
	    !json_object_is_type(list, json_type_array)) {
		for (; *defs; defs++)
			if (strcmp(*defs, event) == 0)
				return true;
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i);
		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), event) == 0)
			return true;
	}
	return false;
}

enum pd_action pd_action_of(json_object *config, const char *event)
{
	if (!event)
		return PD_NONE;
	if (listed(config, "triggerEvents", event, default_triggers))
		return PD_TRIGGER;
	if (listed(config, "resolveEvents", event, default_resolves))
		return PD_RESOLVE;
	return PD_NONE;
}

/* "session" for session.*, "user" for user.*, else the event's first word (bounded). */
static void class_word(const char *event, char out[32])
{
	size_t n = strcspn(event, ".");
	if (n >= 32)
		n = 31;
	memcpy(out, event, n);
	out[n] = '\0';
}

bool pd_dedup_key(json_object *config, const char *event, json_object *data, char *out,
		  size_t outlen)
{
	json_object *id;
	const char *prefix = notify_cfg_str(config, "dedupKeyPrefix");
	char word[32];
	if (!json_object_object_get_ex(data, "id", &id) ||
	    !(json_object_is_type(id, json_type_string) || json_object_is_type(id, json_type_int)))
		return false;
	const char *ids = json_object_is_type(id, json_type_string)
			      ? json_object_get_string(id)
			      : json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
	if (!*ids)
		return false;
	class_word(event, word);
	int n = snprintf(out, outlen, "%s/%s/%s", prefix ? prefix : "streamspace", word, ids);
	return n > 0 && (size_t)n < outlen && (size_t)n <= PD_DEDUP_KEY_MAX;
}

/* severityByEvent[event] when configured, else severity, else "warning". */
static const char *severity_of(json_object *config, const char *event)
{
	json_object *by;
	if (json_object_object_get_ex(config, "severityByEvent", &by)) {
		const char *s = notify_cfg_str(by, event);
		if (s)
			return s;
	}
	const char *s = notify_cfg_str(config, "severity");
	return s ? s : "warning";
}

/*
 * The event's data as custom_details, with "event" (the event's name) added
 * when the data has no such member; a note instead of data too large to send.
 */
static json_object *details_of(const char *event, json_object *data)
{
	json_object *d = NULL;
	if (json_object_is_type(data, json_type_object) &&
	    strlen(json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN)) <= DETAILS_MAX &&
	    json_object_deep_copy(data, &d, NULL) != 0)
		return NULL;
	if (!d) {
		d = json_object_new_object();
		if (d && json_object_is_type(data, json_type_object) &&
		    !notify_add_obj(d, "truncated", json_object_new_boolean(1))) {
			json_object_put(d);
			return NULL;
		}
	}
	if (d && !json_object_object_get_ex(d, "event", NULL) &&
	    !notify_add_str(d, "event", event)) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

/* The trigger's payload: summary, source, severity, timestamp, component, group, class, details. */
static json_object *payload_of(json_object *config, const char *event, json_object *data,
			       time_t now)
{
	const struct notify_kind *k = notify_kind_of(event);
	const char *stmpl = notify_cfg_str(config, "summaryTemplate");
	const char *srctmpl = notify_cfg_str(config, "source");
	char *plain = !stmpl && k ? notify_unstar(k->text) : NULL;
	char *summary = notify_expand(stmpl   ? stmpl
				      : plain ? plain
					      : "StreamSpace {{event}}",
				      event, data, NULL, PD_SUMMARY_MAX);
	char *source =
	    notify_expand(srctmpl ? srctmpl : "streamspace", event, data, NULL, SOURCE_MAX);
	const char *component = notify_cfg_str(config, "component");
	const char *group = notify_cfg_str(config, "group");
	char stamp[25], word[32];
	json_object *p = json_object_new_object();
	bool ok = summary && source && p && (stmpl || !k || plain);
	notify_iso8601((int64_t)now, stamp);
	class_word(event, word);

	/* Both are required: an empty expansion falls back to the defaults. */
	ok = ok && notify_add_str(p, "summary", *summary ? summary : event) &&
	     notify_add_str(p, "source", *source ? source : "streamspace") &&
	     notify_add_str(p, "severity", severity_of(config, event)) &&
	     notify_add_str(p, "timestamp", stamp) &&
	     notify_add_str(p, "component", component ? component : word) &&
	     (!group || notify_add_str(p, "group", group)) && notify_add_str(p, "class", event);
	if (ok && notify_cfg_bool(config, "includeDetails", true))
		ok = notify_add_obj(p, "custom_details", details_of(event, data));
	free(plain);
	free(summary);
	free(source);
	if (!ok) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

json_object *pd_event(json_object *config, const char *event, json_object *data, time_t now)
{
	enum pd_action action = pd_action_of(config, event);
	const char *key = notify_cfg_str(config, "routingKey");
	char dedup[PD_DEDUP_KEY_MAX + 1];
	if (action == PD_NONE || !key || !pd_dedup_key(config, event, data, dedup, sizeof dedup))
		return NULL;

	json_object *msg = json_object_new_object();
	bool ok =
	    msg && notify_add_str(msg, "routing_key", key) &&
	    notify_add_str(msg, "event_action", action == PD_TRIGGER ? "trigger" : "resolve") &&
	    notify_add_str(msg, "dedup_key", dedup);
	if (ok && action == PD_TRIGGER) {
		const char *client_url = notify_cfg_str(config, "clientUrl");
		ok = notify_add_str(msg, "client", "StreamSpace") &&
		     (!client_url || notify_add_str(msg, "client_url", client_url)) &&
		     notify_add_obj(msg, "payload", payload_of(config, event, data, now));
	}
	if (!ok) {
		json_object_put(msg);
		return NULL;
	}
	return msg;
}
