/*
 * notifier: the event handler every shipped notifier runs, around its own
 * message builder: the builder decides (toggles, format), the hourly limit
 * drops and counts the excess, and the message is POSTed to the config's
 * webhookUrl through the daemon's egress (ss_http_request) with bounded
 * retries. The webhook URL is a secret and never appears in a log line, nor
 * does a body (PagerDuty's routing_key is one).
 */
#ifndef SS_PLUGINS_NOTIFIER_H
#define SS_PLUGINS_NOTIFIER_H

#include <json-c/json.h>
#include <streamspace/plugin.h>

#include "notify.h"

/* The webhook body for an event, or NULL when the config does not post it. */
typedef json_object *(*notifier_build_fn)(json_object *config, const char *event,
					  json_object *data);

/* Handles ev for plugin p: build, rate-limit (config "rateLimit", default 60/hour), deliver. */
int notifier_on_event(ss_plugin *p, const ss_event *ev, notifier_build_fn build,
		      struct notify_rate *rate);

/*
 * The same to a fixed endpoint (PagerDuty's /v2/enqueue, whose credential is
 * in the body) instead of the config's webhookUrl.
 */
int notifier_on_event_to(ss_plugin *p, const ss_event *ev, notifier_build_fn build,
			 struct notify_rate *rate, const char *url);

/* Subscribes fn to session.* and user.* and logs the plugin's limit. */
int notifier_load(ss_plugin *p, ss_event_fn fn);

/* The configuration is read at each event: a change needs nothing redone (logged). */
int notifier_on_config(ss_plugin *p, json_object *config);

#endif
