/*
 * discord_msg: an event -> a Discord webhook body (content, username,
 * avatar_url, one embed with title, description, color, fields, ISO 8601
 * timestamp), and the wait a 429 answer asks for.
 */
#ifndef SS_DISCORD_MSG_H
#define SS_DISCORD_MSG_H

#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

/* The embed colour of event (0xRRGGBB as Discord's integer); 0 for an unknown event. */
int32_t discord_color_for(const char *event);

/*
 * The webhook body for event with data under config at time now: a new
 * object the caller puts, or NULL when config does not enable the event.
 */
json_object *discord_message(json_object *config, const char *event, json_object *data, time_t now);

/*
 * The wait in ms a 429 asks for: the JSON body's retry_after (seconds, a
 * float) when present, else the Retry-After header's, else -1.
 */
int64_t discord_retry_after_ms(const char *body, const char *retry_after_header);

#endif
