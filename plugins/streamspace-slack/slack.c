/*
 * streamspace-slack: posts session and user events to a Slack incoming
 * webhook as Block Kit messages (slack_msg.c builds them), at most rateLimit
 * messages an hour (the excess is dropped and counted).
 *
 * Delivery needs the daemon's egress call (issue 10), which this SDK does
 * not offer yet: until it does, deliver() logs that the message was built
 * and not sent. The webhook URL is a secret and never appears in a log line.
 */
#include "../common/notify.h"
#include "slack_msg.h"

#include <stdlib.h>
#include <streamspace/plugin.h>
#include <time.h>

static struct notify_rate rate;

static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static int deliver(ss_plugin *p, const char *event, json_object *msg)
{
	size_t n = 0;
	json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &n);
	ss_log(p, SS_WARN,
	       "%s: message built (%zu bytes) but not sent: this daemon offers no egress call",
	       event, n);
	return 0;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	const char *event = ss_event_type(ev);
	json_object *msg = slack_message(ss_config(p), event, ss_event_data(ev));
	if (!msg)
		return 0; /* not enabled in the configuration */
	int rc = 0;
	if (!notify_rate_allow(&rate, now_s(), ss_config_int(p, "rateLimit", 60)))
		ss_log(p, SS_WARN, "%s: dropped by rateLimit (%lld dropped so far)", event,
		       (long long)rate.dropped);
	else
		rc = deliver(p, event, msg);
	json_object_put(msg);
	return rc;
}

static int on_load(ss_plugin *p)
{
	if (ss_subscribe(p, "session.*", on_event) != 0 || ss_subscribe(p, "user.*", on_event) != 0)
		return -1;
	ss_log(p, SS_INFO, "ready (rateLimit %lld/hour)",
	       (long long)ss_config_int(p, "rateLimit", 60));
	return 0;
}

static int on_config(ss_plugin *p, json_object *config)
{
	(void)config;
	ss_log(p, SS_INFO, "configuration changed");
	return 0;
}

SS_PLUGIN(.name = "streamspace-slack", .version = "1.0.0", .on_load = on_load,
	  .on_config = on_config);
