#include "notifier.h"

#include <time.h>

static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * POSTs msg to the configured webhookUrl through the daemon's egress, with
 * the bounded retry of notify_retry_delay_ms: 429, 5xx and network failures
 * again after Retry-After (or Discord's retry_after) or a doubling backoff
 * from 500 ms, at most maxAttempts times and retryBudgetMs of waiting in all.
 * A timeout is not retried: a hanging webhook costs one egress timeout.
 * Logs the event, status and attempt, never the URL.
 */
static int deliver(ss_plugin *p, const char *event, const char *url, json_object *msg)
{
	int max_attempts = (int)ss_config_int(p, "maxAttempts", 3);
	int64_t budget = ss_config_int(p, "retryBudgetMs", 10000);
	const char *body = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	json_object *headers = json_object_new_object();
	if (!url || !*url) {
		ss_log(p, SS_WARN, "%s: not sent: no endpoint configured", event);
		json_object_put(headers);
		return 0;
	}
	if (!headers || json_object_object_add(headers, "Content-Type",
					       json_object_new_string("application/json")) != 0) {
		json_object_put(headers);
		return -1;
	}
	for (int attempt = 1;; attempt++) {
		ss_http_response res = {0};
		int r = ss_http_request(p, "POST", url, headers, body, &res);
		int status = r == SS_OK ? res.status : 0;
		if (r == SS_OK && status >= 200 && status < 300) {
			ss_log(p, SS_INFO, "%s: delivered (status %d, attempt %d)", event, status,
			       attempt);
			ss_http_response_free(&res);
			break;
		}
		int64_t wait = -1;
		if (r == SS_OK || r == SS_ERR_UNAVAILABLE) {
			json_object *ra = NULL;
			if (res.headers)
				json_object_object_get_ex(res.headers, "retry-after", &ra);
			wait = notify_retry_delay_ms(
			    status, attempt, max_attempts,
			    notify_answer_retry_after_ms(res.body,
							 ra ? json_object_get_string(ra) : NULL),
			    500, budget);
		}
		if (r == SS_OK)
			ss_log(p, SS_WARN, "%s: webhook answered %d (attempt %d)%s", event, status,
			       attempt, wait >= 0 ? ", retrying" : "");
		else
			ss_log(p, SS_WARN, "%s: not delivered: %s (attempt %d)%s", event,
			       ss_error_code(p), attempt, wait >= 0 ? ", retrying" : "");
		ss_http_response_free(&res);
		if (wait < 0) {
			ss_log(p, SS_WARN, "%s: dropped after %d attempt%s", event, attempt,
			       attempt == 1 ? "" : "s");
			break;
		}
		budget -= wait;
		sleep_ms(wait);
	}
	json_object_put(headers);
	return 0; /* a failed delivery is logged, not a handler failure */
}

int notifier_on_event(ss_plugin *p, const ss_event *ev, notifier_build_fn build,
		      struct notify_rate *rate)
{
	return notifier_on_event_to(p, ev, build, rate, ss_config_str(p, "webhookUrl", NULL));
}

int notifier_on_event_to(ss_plugin *p, const ss_event *ev, notifier_build_fn build,
			 struct notify_rate *rate, const char *url)
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
		rc = deliver(p, event, url, msg);
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
