/*
 * streamspace-pagerduty: triggers and resolves PagerDuty alerts from session
 * and user events through the Events API v2 (pd_event.c builds each event;
 * common/notifier.c limits and delivers it to /v2/enqueue, where the
 * credential, routing_key, travels in the body).
 */
#include "../common/notifier.h"
#include "pd_event.h"

#include <stdio.h>
#include <string.h>

static struct notify_rate rate;

static json_object *build(json_object *config, const char *event, json_object *data)
{
	return pd_event(config, event, data, time(NULL));
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	const char *event = ss_event_type(ev);
	char key[PD_DEDUP_KEY_MAX + 1], url[64];
	if (pd_action_of(ss_config(p), event) == PD_NONE)
		return 0;
	/* Without a stable key a resolve could never find its alert: said, not sent. */
	if (!pd_dedup_key(ss_config(p), event, ss_event_data(ev), key, sizeof key)) {
		ss_log(p, SS_WARN, "%s: not sent: no id to key the alert by (at most %d bytes)",
		       event, PD_DEDUP_KEY_MAX);
		return 0;
	}
	/* eventsHost is one of the schema's enum (the US or EU service). */
	snprintf(url, sizeof url, "https://%s/v2/enqueue",
		 ss_config_str(p, "eventsHost", "events.pagerduty.com"));
	return notifier_on_event_to(p, ev, build, &rate, url);
}

static int on_load(ss_plugin *p)
{
	return notifier_load(p, on_event);
}

SS_PLUGIN(.name = "streamspace-pagerduty", .version = "1.0.0", .on_load = on_load,
	  .on_config = notifier_on_config);
