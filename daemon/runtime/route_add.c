#include "route_add.h"

#include <string.h>

#include "grants.h"
#include "log.h"
#include "msg.h"

json_object *route_add_answer(struct proutes *t, json_object *perms, const char *plugin,
			      json_object *m, int64_t id)
{
	json_object *decl, *reply;
	char why[256];

	if (!grants_has(perms, "routes")) {
		log_warn(plugin, "denied: route.add needs the \"routes\" permission");
		return msg_reply_error(id, ERR_PERMISSION,
				       "route.add needs the \"routes\" permission");
	}
	/* proutes_add refuses unknown fields: hand it the declaration without the envelope. */
	decl = json_object_new_object();
	json_object_object_foreach(m, k, v)
	{
		if (strcmp(k, "t") != 0 && strcmp(k, "id") != 0)
			json_object_object_add(decl, k, json_object_get(v));
	}
	if (proutes_add(t, decl, why, sizeof why) < 0) {
		json_object_put(decl);
		log_warn(plugin, "route.add refused: %s", why);
		return msg_reply_error(id, ERR_BAD_REQUEST, why);
	}
	json_object_put(decl);
	reply = msg_reply_ok(id);
	msg_add_int(reply, "route", (int64_t)proutes_count(t) - 1);
	return reply;
}
