/*
 * teams_msg: an event -> a Microsoft Teams webhook body, as a pure function
 * of the configuration: an Adaptive Card in the message envelope a Teams
 * Workflows webhook ("Post to a channel when a webhook request is
 * received") takes, or with format "messageCard" the legacy Office 365
 * connector MessageCard.
 */
#ifndef SS_TEAMS_MSG_H
#define SS_TEAMS_MSG_H

#include <json-c/json.h>
#include <time.h>

/* Teams' documented limit on a webhook message, in bytes. */
#define TEAMS_MESSAGE_MAX (28 * 1024)

/*
 * The webhook body for event with data under config at time now: a new
 * object the caller puts, or NULL when config does not enable the event (or
 * out of memory). Never larger than TEAMS_MESSAGE_MAX serialised: the
 * details are left out of a message that would be.
 */
json_object *teams_message(json_object *config, const char *event, json_object *data, time_t now);

#endif
