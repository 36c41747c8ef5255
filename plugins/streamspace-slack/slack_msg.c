#include "slack_msg.h"

#include "../common/notify.h"

#include <stdlib.h>
#include <string.h>

/* Slack's documented limits: header plain_text 150, section text 3000, a field 2000, 10 fields. */
enum { HEADER_MAX = 150, SECTION_MAX = 3000, FIELD_MAX = 2000, FIELDS_MAX = 10, TEXT_MAX = 3000 };

const char *slack_toggle_for(const char *event)
{
	const struct notify_kind *k = notify_kind_of(event);
	return k ? k->toggle : NULL;
}

bool slack_wants(json_object *config, const char *event)
{
	return notify_wants(config, event);
}

/* {"type": type, "text": text} (a text object of Block Kit). */
static json_object *text_obj(const char *type, const char *text)
{
	json_object *t = json_object_new_object();
	if (!t || !notify_add_str(t, "type", type) || !notify_add_str(t, "text", text)) {
		json_object_put(t);
		return NULL;
	}
	return t;
}

static json_object *block(const char *type, const char *key, json_object *value)
{
	json_object *b = json_object_new_object();
	if (!b || !notify_add_str(b, "type", type) || !notify_add_obj(b, key, value)) {
		json_object_put(b);
		json_object_put(value);
		return NULL;
	}
	return b;
}

/* One "*Name*\nvalue" mrkdwn field of includeDetails; both parts are event text: escaped. */
static json_object *detail_field(const char *key, const char *value)
{
	char *k = notify_escaped(key, notify_escape_mrkdwn, 200);
	char *v = notify_escaped(value, notify_escape_mrkdwn, FIELD_MAX);
	char *text = k && v ? malloc(strlen(k) + strlen(v) + 4) : NULL;
	json_object *f = NULL;
	if (text) {
		strcpy(text, "*");
		strcat(text, k);
		strcat(text, "*\n");
		strcat(text, v);
		notify_truncate_utf8(text, FIELD_MAX);
		f = text_obj("mrkdwn", text);
	}
	free(k);
	free(v);
	free(text);
	return f;
}

json_object *slack_message(json_object *config, const char *event, json_object *data)
{
	const struct notify_kind *k = notify_kind_of(event);
	if (!k || !notify_wants(config, event))
		return NULL;

	/* Templates: messageTemplate (mrkdwn, values escaped) and titleTemplate (plain text). */
	const char *tmpl = notify_cfg_str(config, "messageTemplate");
	const char *ttmpl = notify_cfg_str(config, "titleTemplate");
	char *title = notify_expand(ttmpl ? ttmpl : k->title, event, data, NULL, HEADER_MAX);
	char *body =
	    notify_expand(tmpl ? tmpl : k->text, event, data, notify_escape_mrkdwn, SECTION_MAX);
	/* The fallback text (notifications, clients without blocks): mrkdwn too, one line. */
	char *fallback = NULL;
	json_object *msg = json_object_new_object();
	json_object *blocks = json_object_new_array();
	bool ok = title && body && msg && blocks;

	if (ok) {
		/* The title is plain text: escaped for the mrkdwn fallback. */
		char *et = notify_escaped(title, notify_escape_mrkdwn, TEXT_MAX);
		fallback = et ? malloc(strlen(et) + strlen(body) + 3) : NULL;
		if (fallback) {
			strcpy(fallback, et);
			strcat(fallback, ": ");
			strcat(fallback, body);
			notify_truncate_utf8(fallback, TEXT_MAX);
		}
		free(et);
		ok = fallback != NULL;
	}
	ok = ok && notify_add_str(msg, "text", fallback);
	const char *channel = notify_cfg_str(config, "channel");
	const char *username = notify_cfg_str(config, "username");
	const char *icon = notify_cfg_str(config, "iconEmoji");
	ok = ok && (!channel || notify_add_str(msg, "channel", channel));
	ok = ok && (!username || notify_add_str(msg, "username", username));
	ok = ok && (!icon || notify_add_str(msg, "icon_emoji", icon));

	json_object *header = ok ? text_obj("plain_text", title) : NULL;
	if (header && json_object_object_add(header, "emoji", json_object_new_boolean(1)) != 0) {
		json_object_put(header);
		header = NULL;
	}
	ok = ok && notify_push(blocks, header ? block("header", "text", header) : NULL);
	ok = ok && notify_push(blocks, block("section", "text", text_obj("mrkdwn", body)));
	if (ok && notify_cfg_bool(config, "includeDetails", true)) {
		json_object *fields = notify_detail_fields(data, FIELDS_MAX, detail_field);
		ok = fields != NULL;
		if (ok && json_object_array_length(fields) > 0)
			ok = notify_push(blocks, block("section", "fields", fields));
		else
			json_object_put(fields);
	}
	if (ok) {
		json_object *els = json_object_new_array();
		char *ctx = notify_expand("StreamSpace · `{{event}}`", event, NULL,
					  notify_escape_mrkdwn, FIELD_MAX);
		ok = els && ctx && notify_push(els, text_obj("mrkdwn", ctx));
		free(ctx);
		if (ok)
			ok = notify_push(blocks, block("context", "elements",
						       els)); /* block puts els on failure */
		else
			json_object_put(els);
	}
	ok = ok && notify_add_obj(msg, "blocks", json_object_get(blocks));

	json_object_put(blocks);
	free(title);
	free(body);
	free(fallback);
	if (!ok) {
		json_object_put(msg);
		return NULL;
	}
	return msg;
}
