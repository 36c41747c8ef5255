/*
 * pd_event: an event -> a PagerDuty Events API v2 event (POST
 * https://events.pagerduty.com/v2/enqueue), as pure functions of the
 * configuration: whether the event triggers or resolves an alert, the
 * alert's stable dedup_key (one per session or user, so that the resolve of
 * a session names the alert its trigger opened), and the body.
 */
#ifndef SS_PD_EVENT_H
#define SS_PD_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* PagerDuty's documented limits, in bytes: dedup_key 255, summary 1024. */
#define PD_DEDUP_KEY_MAX 255
#define PD_SUMMARY_MAX 1024

enum pd_action { PD_NONE, PD_TRIGGER, PD_RESOLVE };

/*
 * What config does with event: its triggerEvents or resolveEvents list (an
 * event in both triggers), else nothing. Without the lists, the defaults:
 * session.hibernated triggers, session.woken and session.deleted resolve.
 */
enum pd_action pd_action_of(json_object *config, const char *event);

/*
 * The alert's key into out: "<dedupKeyPrefix>/<session|user>/<data.id>"
 * (prefix "streamspace" by default), the same for every event of one
 * session. False when the event has no id (a string, or a number's JSON
 * text) or the key would pass PD_DEDUP_KEY_MAX (cutting it could make two
 * sessions share an alert).
 */
bool pd_dedup_key(json_object *config, const char *event, json_object *data, char *out,
		  size_t outlen);

/*
 * The enqueue body for event under config at time now: a new object the
 * caller puts, or NULL when config does nothing with the event, it has no
 * usable key, or out of memory. A trigger carries routing_key, event_action,
 * dedup_key, client, client_url (when configured) and payload {summary,
 * source, severity, timestamp, component, group (when configured), class,
 * custom_details}; a resolve only routing_key, event_action and dedup_key.
 */
json_object *pd_event(json_object *config, const char *event, json_object *data, time_t now);

#endif
