#include "teams_msg.h"

#include "../common/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bounds in bytes. Teams documents only the message's 28 KB; these keep the
 * title and text within it even when every byte is JSON-escaped six-fold
 * (\u00XX), so that only the details ever have to give way.
 */
enum {
	TITLE_MAX = 256,
	TEXT_MAX = 3000,
	FACTS_MAX = 25,
	FACT_NAME_MAX = 128,
	FACT_VALUE_MAX = 1024
};

/* {name_key: key, "value": value}: a fact of a FactSet ("title") or of a MessageCard ("name"). */
static json_object *fact(const char *name_key, const char *key, const char *value)
{
	char *n = notify_escaped(key, NULL, FACT_NAME_MAX);
	char *v = notify_escaped(value, NULL, FACT_VALUE_MAX);
	json_object *f = json_object_new_object();
	bool ok = n && v && f && notify_add_str(f, name_key, n) && notify_add_str(f, "value", v);
	free(n);
	free(v);
	if (!ok) {
		json_object_put(f);
		return NULL;
	}
	return f;
}

static json_object *adaptive_fact(const char *key, const char *value)
{
	return fact("title", key, value);
}

static json_object *card_fact(const char *key, const char *value)
{
	return fact("name", key, value);
}

/* A TextBlock that wraps; size and weight when not NULL, isSubtle when subtle. */
static json_object *text_block(const char *text, const char *size, const char *weight, bool subtle)
{
	json_object *b = json_object_new_object();
	bool ok = b && notify_add_str(b, "type", "TextBlock") && notify_add_str(b, "text", text) &&
		  (!size || notify_add_str(b, "size", size)) &&
		  (!weight || notify_add_str(b, "weight", weight)) &&
		  (!subtle || notify_add_obj(b, "isSubtle", json_object_new_boolean(1))) &&
		  notify_add_obj(b, "wrap", json_object_new_boolean(1));
	if (!ok) {
		json_object_put(b);
		return NULL;
	}
	return b;
}

/*
 * {"type":"message","attachments":[{"contentType":
 * "application/vnd.microsoft.card.adaptive","contentUrl":null,"content":card}]}
 * around an AdaptiveCard 1.4 (what Teams renders on every client) of a
 * heading, the text, the facts (taken: NULL or empty = none) and a footer.
 */
static json_object *adaptive_message(const char *title, const char *text, json_object *facts,
				     const char *footer)
{
	json_object *msg = json_object_new_object(), *atts = json_object_new_array();
	json_object *att = json_object_new_object(), *card = json_object_new_object();
	json_object *body = json_object_new_array(), *msteams = json_object_new_object();
	bool ok = msg && atts && att && card && body && msteams;

	ok =
	    ok &&
	    notify_add_str(card, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json") &&
	    notify_add_str(card, "type", "AdaptiveCard") && notify_add_str(card, "version", "1.4");
	ok = ok && notify_push(body, text_block(title, "Large", "Bolder", false)) &&
	     notify_push(body, text_block(text, NULL, NULL, false));
	if (ok && facts && json_object_array_length(facts) > 0) {
		json_object *set = json_object_new_object();
		ok = set && notify_add_str(set, "type", "FactSet") &&
		     notify_add_obj(set, "facts", json_object_get(facts));
		ok = ok ? notify_push(body, set) : (json_object_put(set), false);
	}
	ok = ok && notify_push(body, text_block(footer, "Small", NULL, true));
	ok = ok && notify_add_obj(card, "body", json_object_get(body));
	/* Full width: the card is a notification to read, not a chat bubble. */
	ok = ok && notify_add_str(msteams, "width", "Full") &&
	     notify_add_obj(card, "msteams", json_object_get(msteams));
	/* contentUrl is JSON null, as the envelope has it (notify_add_obj refuses NULL). */
	ok = ok && notify_add_str(att, "contentType", "application/vnd.microsoft.card.adaptive") &&
	     json_object_object_add(att, "contentUrl", NULL) == 0 &&
	     notify_add_obj(att, "content", json_object_get(card));
	ok = ok && notify_push(atts, json_object_get(att)) &&
	     notify_add_str(msg, "type", "message") &&
	     notify_add_obj(msg, "attachments", json_object_get(atts));
	json_object_put(facts);
	json_object_put(atts);
	json_object_put(att);
	json_object_put(card);
	json_object_put(body);
	json_object_put(msteams);
	if (!ok) {
		json_object_put(msg);
		return NULL;
	}
	return msg;
}

/*
 * The legacy connector's MessageCard: summary (required without text, and
 * what notifications show), themeColor as hex without '#', title, text, and
 * one markdown section with the footer and the facts (taken).
 */
static json_object *message_card(const char *title, const char *text, json_object *facts,
				 const char *footer, int32_t color)
{
	char hex[8];
	json_object *msg = json_object_new_object(), *sections = json_object_new_array();
	json_object *section = json_object_new_object();
	bool ok = msg && sections && section;
	snprintf(hex, sizeof hex, "%06X", (unsigned)color & 0xFFFFFFu);

	ok = ok && notify_add_str(msg, "@type", "MessageCard") &&
	     notify_add_str(msg, "@context", "https://schema.org/extensions") &&
	     notify_add_str(msg, "summary", title) && notify_add_str(msg, "themeColor", hex) &&
	     notify_add_str(msg, "title", title) && notify_add_str(msg, "text", text);
	ok = ok && notify_add_str(section, "activitySubtitle", footer);
	if (ok && facts && json_object_array_length(facts) > 0)
		ok = notify_add_obj(section, "facts", json_object_get(facts));
	ok = ok && notify_add_obj(section, "markdown", json_object_new_boolean(1)) &&
	     notify_push(sections, json_object_get(section)) &&
	     notify_add_obj(msg, "sections", json_object_get(sections));
	json_object_put(facts);
	json_object_put(section);
	json_object_put(sections);
	if (!ok) {
		json_object_put(msg);
		return NULL;
	}
	return msg;
}

json_object *teams_message(json_object *config, const char *event, json_object *data, time_t now)
{
	const struct notify_kind *k = notify_kind_of(event);
	if (!k || !notify_wants(config, event))
		return NULL;

	const char *format = notify_cfg_str(config, "format");
	bool legacy = format && strcmp(format, "messageCard") == 0;
	const char *ttmpl = notify_cfg_str(config, "titleTemplate");
	const char *mtmpl = notify_cfg_str(config, "messageTemplate");
	char *title = notify_expand(ttmpl ? ttmpl : k->title, event, data, NULL, TITLE_MAX);
	char *text = notify_expand(mtmpl ? mtmpl : k->text, event, data, NULL, TEXT_MAX);
	char stamp[25], footer[128];
	json_object *msg = NULL;
	notify_iso8601((int64_t)now, stamp);
	snprintf(footer, sizeof footer, "StreamSpace \xc2\xb7 %s \xc2\xb7 %s", event, stamp);

	/* With the details first; without them when that message would exceed Teams' limit. */
	bool details = notify_cfg_bool(config, "includeDetails", true);
	for (int pass = details ? 0 : 1; title && text && pass < 2; pass++) {
		json_object *facts = NULL;
		if (pass == 0) {
			facts = notify_detail_fields(data, FACTS_MAX,
						     legacy ? card_fact : adaptive_fact);
			if (!facts)
				break;
		}
		msg = legacy ? message_card(title, text, facts, footer, k->color)
			     : adaptive_message(title, text, facts, footer);
		if (!msg || strlen(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN)) <=
				TEAMS_MESSAGE_MAX)
			break;
		json_object_put(msg);
		msg = NULL;
	}
	free(title);
	free(text);
	return msg;
}
