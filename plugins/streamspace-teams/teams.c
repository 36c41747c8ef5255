/*
 * streamspace-teams: posts session and user events to a Microsoft Teams
 * channel through a Workflows webhook as an Adaptive Card, or through a
 * legacy Office 365 connector as a MessageCard (teams_msg.c builds them;
 * common/notifier.c limits and delivers them).
 */
#include "../common/notifier.h"
#include "teams_msg.h"

static struct notify_rate rate;

static json_object *build(json_object *config, const char *event, json_object *data)
{
	return teams_message(config, event, data, time(NULL));
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	return notifier_on_event(p, ev, build, &rate);
}

static int on_load(ss_plugin *p)
{
	return notifier_load(p, on_event);
}

SS_PLUGIN(.name = "streamspace-teams", .version = "1.0.0", .on_load = on_load,
	  .on_config = notifier_on_config);
