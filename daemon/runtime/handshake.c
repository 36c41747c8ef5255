#include "handshake.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "grants.h"
#include "hostlog.h"
#include "msg.h"

static void refuse(struct handshake_outcome *o, enum handshake_verdict v, enum exit_cause cause,
		   const char *code)
{
	o->verdict = v;
	o->cause = cause;
	o->code = code;
}

static json_object *init_new(const struct handshake_expect *e, int64_t proto)
{
	json_object *init = msg_new(MSG_INIT), *limits = json_object_new_object();

	msg_add_int(init, "protocol", proto);
	json_object_object_add(init, "config", json_object_get(e->config));
	json_object_object_add(init, "permissions", json_object_get(e->permissions));
	msg_add_int(limits, "max_frame", (int64_t)e->max_frame);
	msg_add_int(limits, "event_timeout_ms", e->event_timeout_ms);
	msg_add_int(limits, "ping_interval_ms", e->ping_interval_ms);
	msg_add_int(limits, "log_line_max", HOSTLOG_LINE_MAX);
	json_object_object_add(init, "limits", limits);
	return init;
}

void handshake_hello(const struct handshake_expect *e, json_object *m, struct handshake_outcome *o)
{
	json_object *plugin = msg_get_obj(m, "plugin"), *sandbox = msg_get_obj(m, "sandbox");
	const char *name = msg_get_str(plugin, "name"), *version = msg_get_str(plugin, "version");
	int64_t proto = 0, abi = 0;

	memset(o, 0, sizeof *o);
	if (!msg_get_int(m, "protocol", &proto) || !msg_get_int(m, "sdk_abi", &abi) ||
	    name == NULL || version == NULL) {
		refuse(o, HS_FAULT, CAUSE_PROTOCOL, NULL);
		snprintf(o->message, sizeof o->message,
			 "hello without protocol, sdk_abi or plugin name/version");
		return;
	}
	if (proto < SS_PROTOCOL_MIN || proto > SS_PROTOCOL_MAX) {
		refuse(o, HS_REJECT, CAUSE_LOAD, ERR_VERSION);
		snprintf(o->message, sizeof o->message,
			 "host speaks protocol %" PRId64 ", this daemon speaks %d to %d", proto,
			 SS_PROTOCOL_MIN, SS_PROTOCOL_MAX);
		return;
	}
	if (strcmp(name, e->name) != 0) {
		refuse(o, HS_REJECT, CAUSE_LOAD, ERR_LOAD);
		snprintf(o->message, sizeof o->message,
			 "the .so declares plugin \"%.64s\", expected \"%s\"", name, e->name);
		return;
	}
	if (e->strict) {
		json_object *missing = msg_get_array(sandbox, "missing");
		if (sandbox == NULL || (missing != NULL && json_object_array_length(missing) > 0)) {
			refuse(o, HS_REJECT, CAUSE_SETUP, "sandbox");
			snprintf(o->message, sizeof o->message,
				 "strict sandbox: layers missing: %.400s",
				 missing ? json_object_to_json_string(missing) : "unknown");
			return;
		}
	}
	o->verdict = HS_ACCEPT;
	o->protocol = (int)proto;
	o->version = version;
	o->sandbox = sandbox ? json_object_get(sandbox) : json_object_new_object();
	o->init = init_new(e, proto);
}

int handshake_ready(json_object *permissions, json_object *m, json_object **subs,
		    enum exit_cause *cause, char *why, size_t len)
{
	json_object *a = msg_get_array(m, "subscriptions");
	size_t n;

	*cause = CAUSE_PROTOCOL;
	if (a == NULL) {
		snprintf(why, len, "ready without subscriptions");
		return -1;
	}
	n = json_object_array_length(a);
	if (n > SUBSCRIPTIONS_MAX) {
		snprintf(why, len, "more than %d subscriptions", SUBSCRIPTIONS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_string)) {
			snprintf(why, len, "subscription is not a string");
			return -1;
		}
		if (grants_subscribe(permissions, json_object_get_string(s), why, len) < 0) {
			*cause = CAUSE_LOAD;
			return -1;
		}
	}
	*subs = a;
	return 0;
}
