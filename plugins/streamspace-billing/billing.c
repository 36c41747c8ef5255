/*
 * streamspace-billing: usage per user and session from session events
 * (usage.c has the rules), kept in the plugin's storage: a record per
 * session, a total per user and UTC day (what reports read), a total per
 * user and month (what the quota is checked against), and an index of the
 * sessions whose stretch is open. A user crossing alertThreshold percent of
 * their monthly quota is announced once a month as
 * plugin.streamspace-billing.quota-exceeded.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <streamspace/plugin.h>

#include "../common/isotime.h"
#include "usage.h"

#define KEY_MAX 256
#define PIECES_MAX 64 /* days one stretch may span; the hourly checkpoint keeps them few */

/* The value of key, or a new empty object when there is none; NULL (logged) on failure. */
static json_object *load(ss_plugin *p, const char *key)
{
	json_object *v = NULL;
	int r = ss_storage_get(p, key, &v);
	if (r == SS_ERR_NOT_FOUND)
		return json_object_new_object();
	if (r != SS_OK || !json_object_is_type(v, json_type_object)) {
		ss_log(p, SS_ERROR, "storage: reading %s: %s %s", key,
		       r == SS_OK ? "not an object" : ss_error_code(p), ss_error_message(p));
		json_object_put(v);
		return NULL;
	}
	return v;
}

static int store(ss_plugin *p, const char *key, json_object *v)
{
	if (ss_storage_set(p, key, v) == SS_OK)
		return 0;
	ss_log(p, SS_ERROR, "storage: writing %s: %s %s", key, ss_error_code(p),
	       ss_error_message(p));
	return -1;
}

/* Adds one day's piece to the user's day and month totals; announces a quota crossing. */
static int account_piece(ss_plugin *p, const char *user, const char *session,
			 const struct usage_piece *pc)
{
	char u[128], key[KEY_MAX], month[8];
	if (!usage_key_part(user, u, sizeof u)) {
		ss_log(p, SS_WARN, "usage of a user name over %zu bytes not kept", sizeof u - 1);
		return 0;
	}
	snprintf(key, sizeof key, "day/%s/%s", u, pc->day);
	json_object *day = load(p, key);
	if (!day)
		return -1;
	usage_day_add(day, user, session, pc);
	int rc = store(p, key, day);
	json_object_put(day);
	if (rc != 0)
		return -1;

	snprintf(month, sizeof month, "%.7s", pc->day);
	snprintf(key, sizeof key, "month/%s/%s", u, month);
	json_object *m = load(p, key);
	if (!m)
		return -1;
	double quota = usage_quota_of(ss_config(p), user);
	double threshold = (double)ss_config_int(p, "alertThreshold", 80);
	bool crossed = usage_month_add(m, user, month, pc->cost, quota, threshold);
	rc = store(p, key, m);
	if (rc == 0 && crossed) {
		json_object *ev = json_object_new_object(), *cost = NULL;
		json_object_object_get_ex(m, "cost", &cost);
		json_object_object_add(ev, "user", json_object_new_string(user));
		json_object_object_add(ev, "month", json_object_new_string(month));
		json_object_object_add(ev, "cost", json_object_get(cost));
		json_object_object_add(ev, "quota", json_object_new_double(quota));
		json_object_object_add(ev, "threshold", json_object_new_double(threshold));
		if (ss_emit(p, "quota-exceeded", ev) != SS_OK)
			ss_log(p, SS_WARN, "quota-exceeded for %s not emitted: %s", user,
			       ss_error_code(p));
		else
			ss_log(p, SS_INFO, "quota-exceeded: %s at %.0f%% of %.2f in %s", user,
			       threshold, quota, month);
		json_object_put(ev);
	}
	json_object_put(m);
	return rc;
}

/* Bills the stretch span of the session in rec into rec and the day and month totals. */
static int account(ss_plugin *p, json_object *rec, const char *session,
		   const struct usage_span *span)
{
	struct usage_rates rates;
	struct usage_piece pieces[PIECES_MAX];
	json_object *u = NULL;
	usage_rates_of(ss_config(p), &rates);
	json_object_object_get_ex(rec, "user", &u);
	int n = usage_split(span, &rates, pieces, PIECES_MAX);
	for (int i = 0; i < n; i++) {
		if (account_piece(p, json_object_get_string(u), session, &pieces[i]) != 0)
			return -1;
		usage_rec_add(rec, &pieces[i]);
	}
	return 0;
}

/* Stores rec as session/<s>, and open/<s> while its stretch is open (the hourly job's list). */
static int save_session(ss_plugin *p, const char *s, json_object *rec)
{
	char key[KEY_MAX];
	snprintf(key, sizeof key, "session/%s", s);
	if (store(p, key, rec) != 0)
		return -1;
	snprintf(key, sizeof key, "open/%s", s);
	if (usage_open(rec)) {
		json_object *t = json_object_new_boolean(1);
		int rc = store(p, key, t);
		json_object_put(t);
		return rc;
	}
	int r = ss_storage_delete(p, key);
	return r == SS_OK || r == SS_ERR_NOT_FOUND ? 0 : -1;
}

/* When the event happened: data.timestamp (ISO 8601) when the sender says, else the bus's time. */
static int64_t event_time(const ss_event *ev)
{
	const char *ts = ss_event_str(ev, "timestamp");
	int64_t ms;
	if (ts && isotime_parse(ts, &ms))
		return ms;
	if (ss_event_ts(ev) > 0)
		return ss_event_ts(ev);
	return (int64_t)time(NULL) * 1000;
}

static int on_session(ss_plugin *p, const ss_event *ev)
{
	const char *id = ss_event_str(ev, "id");
	char s[128], key[KEY_MAX];
	struct usage_span span;
	if (!id || !usage_key_part(id, s, sizeof s)) {
		ss_log(p, SS_WARN, "%s: no session id (a string of at most %zu bytes): not billed",
		       ss_event_type(ev), sizeof s - 1);
		return 0;
	}
	snprintf(key, sizeof key, "session/%s", s);
	json_object *rec = load(p, key);
	if (!rec)
		return -1;
	int rc = 0;
	switch (usage_apply(rec, ss_config(p), ss_event_type(ev), ss_event_data(ev), event_time(ev),
			    ss_event_id(ev), &span)) {
	case USAGE_DUPLICATE:
		ss_log(p, SS_INFO, "%s of %s: already counted (event %lld)", ss_event_type(ev), id,
		       (long long)ss_event_id(ev));
		break;
	case USAGE_IGNORED:
		break;
	case USAGE_APPLIED:
		rc = account(p, rec, id, &span);
		if (rc == 0)
			rc = save_session(p, s, rec);
		break;
	}
	json_object_put(rec);
	return rc;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "session.*", on_session);
}

/* Rates, quotas and thresholds are read at each event: a change needs nothing redone. */
static int on_config(ss_plugin *p, json_object *config)
{
	(void)config;
	ss_log(p, SS_INFO, "configuration changed");
	return 0;
}

SS_PLUGIN(.name = "streamspace-billing", .version = "1.0.0", .on_load = on_load,
	  .on_config = on_config);
