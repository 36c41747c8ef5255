#include "discord_msg.h"

#include "../common/notify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Discord's documented limits (characters; bounded here in bytes, which is
 * never more): content 2000, embed title 256, description 4096, 25 fields,
 * field name 256, value 1024.
 */
enum {
	CONTENT_MAX = 2000,
	TITLE_MAX = 256,
	DESC_MAX = 4096,
	FIELDS_MAX = 25,
	NAME_MAX = 256,
	VALUE_MAX = 1024
};

int32_t discord_color_for(const char *event)
{
	const struct notify_kind *k = notify_kind_of(event);
	return k ? k->color : 0;
}

/* One embed field {name, value, inline: true}; Discord refuses an empty name or value. */
static json_object *embed_field(const char *key, const char *value)
{
	char *name = notify_escaped(*key ? key : "-", NULL, NAME_MAX);
	char *v = notify_escaped(*value ? value : "-", NULL, VALUE_MAX);
	json_object *f = json_object_new_object();
	bool ok = name && v && f && notify_add_str(f, "name", name) &&
		  notify_add_str(f, "value", v) &&
		  notify_add_obj(f, "inline", json_object_new_boolean(1));
	free(name);
	free(v);
	if (!ok) {
		json_object_put(f);
		return NULL;
	}
	return f;
}

json_object *discord_message(json_object *config, const char *event, json_object *data, time_t now)
{
	const struct notify_kind *k = notify_kind_of(event);
	if (!k || !notify_wants(config, event))
		return NULL;

	const char *ttmpl = notify_cfg_str(config, "titleTemplate");
	const char *dtmpl = notify_cfg_str(config, "messageTemplate");
	const char *ctmpl = notify_cfg_str(config, "contentTemplate");
	char *title = notify_expand(ttmpl ? ttmpl : k->title, event, data, NULL, TITLE_MAX);
	char *desc = notify_expand(dtmpl ? dtmpl : k->text, event, data, NULL, DESC_MAX);
	char *content = ctmpl ? notify_expand(ctmpl, event, data, NULL, CONTENT_MAX) : NULL;
	char stamp[25];
	json_object *msg = json_object_new_object();
	json_object *embeds = json_object_new_array();
	json_object *embed = json_object_new_object();
	bool ok = title && desc && (!ctmpl || content) && msg && embeds && embed;
	notify_iso8601((int64_t)now, stamp);

	const char *username = notify_cfg_str(config, "username");
	const char *avatar = notify_cfg_str(config, "avatarUrl");
	ok = ok && (!content || notify_add_str(msg, "content", content));
	ok = ok && (!username || notify_add_str(msg, "username", username));
	ok = ok && (!avatar || notify_add_str(msg, "avatar_url", avatar));
	ok = ok && notify_add_str(embed, "title", title) &&
	     notify_add_str(embed, "description", desc) &&
	     notify_add_obj(embed, "color", json_object_new_int(discord_color_for(event))) &&
	     notify_add_str(embed, "timestamp", stamp);
	if (ok && notify_cfg_bool(config, "includeDetails", true)) {
		json_object *fields = notify_detail_fields(data, FIELDS_MAX, embed_field);
		ok = fields != NULL;
		if (ok && json_object_array_length(fields) > 0)
			ok = notify_add_obj(embed, "fields", fields);
		else
			json_object_put(fields);
	}
	if (ok) {
		json_object *footer = json_object_new_object();
		ok = footer && notify_add_str(footer, "text", event);
		ok =
		    ok ? notify_add_obj(embed, "footer", footer) : (json_object_put(footer), false);
	}
	/* Event text must not ping: no @everyone, @here, user or role mentions are parsed. */
	if (ok) {
		json_object *am = json_object_new_object();
		ok = am && notify_add_obj(am, "parse", json_object_new_array());
		ok =
		    ok ? notify_add_obj(msg, "allowed_mentions", am) : (json_object_put(am), false);
	}
	if (ok) {
		ok = notify_push(embeds, json_object_get(embed)) &&
		     notify_add_obj(msg, "embeds", json_object_get(embeds));
	}
	json_object_put(embed);
	json_object_put(embeds);
	free(title);
	free(desc);
	free(content);
	if (!ok) {
		json_object_put(msg);
		return NULL;
	}
	return msg;
}

int64_t discord_retry_after_ms(const char *body, const char *retry_after_header)
{
	return notify_answer_retry_after_ms(body, retry_after_header);
}
