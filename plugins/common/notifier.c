#include "notifier.h"

#include <time.h>

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

int notifier_on_event(ss_plugin *p, const ss_event *ev, notifier_build_fn build,
		      struct notify_rate *rate)
{
	const char *event = ss_event_type(ev);
	json_object *msg = build(ss_config(p), event, ss_event_data(ev));
	if (!msg)
		return 0; /* not posted under this configuration */
	int rc = 0;
	if (!notify_rate_allow(rate, now_s(), ss_config_int(p, "rateLimit", 60)))
		ss_log(p, SS_WARN, "%s: dropped by rateLimit (%lld dropped so far)", event,
		       (long long)rate->dropped);
	else
		rc = deliver(p, event, msg);
	json_object_put(msg);
	return rc;
}

int notifier_load(ss_plugin *p, ss_event_fn fn)
{
	if (ss_subscribe(p, "session.*", fn) != 0 || ss_subscribe(p, "user.*", fn) != 0)
		return -1;
	ss_log(p, SS_INFO, "ready (rateLimit %lld/hour)",
	       (long long)ss_config_int(p, "rateLimit", 60));
	return 0;
}

int notifier_on_config(ss_plugin *p, json_object *config)
{
	(void)config;
	ss_log(p, SS_INFO, "configuration changed");
	return 0;
}
