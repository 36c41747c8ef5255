/*
 * streamspace-slack: posts session and user events to a Slack incoming
 * webhook as Block Kit messages (slack_msg.c builds them; common/notifier.c
 * limits and delivers them).
 */
#include "../common/notifier.h"
#include "slack_msg.h"

static struct notify_rate rate;

static int on_event(ss_plugin *p, const ss_event *ev)
{
	return notifier_on_event(p, ev, slack_message, &rate);
}

static int on_load(ss_plugin *p)
{
	return notifier_load(p, on_event);
}

SS_PLUGIN(.name = "streamspace-slack", .version = "1.0.0", .on_load = on_load,
	  .on_config = notifier_on_config);
