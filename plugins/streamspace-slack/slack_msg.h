/*
 * slack_msg: an event -> a Slack incoming-webhook message (Block Kit blocks
 * with a plain `text` fallback), as a pure function of the configuration.
 */
#ifndef SS_SLACK_MSG_H
#define SS_SLACK_MSG_H

#include <json-c/json.h>
#include <stdbool.h>

/* The config toggle that enables event type ("notifyOnSessionCreated"), or NULL. */
const char *slack_toggle_for(const char *event);

/* Whether config enables event (its toggle true; an unknown event: false). */
bool slack_wants(json_object *config, const char *event);

/*
 * The webhook body for event with data under config: a new object the caller
 * puts, or NULL when config does not enable the event (or out of memory).
 */
json_object *slack_message(json_object *config, const char *event, json_object *data);

#endif
