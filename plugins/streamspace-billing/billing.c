/*
 * streamspace-billing: usage per user and session from session events
 * (usage.c has the rules), kept in the plugin's storage: a record per
 * session, a total per user and UTC day (what reports read), a total per
 * user and month (what the quota is checked against), and an index of the
 * sessions whose stretch is open. A user crossing alertThreshold percent of
 * their monthly quota is announced once a month as
 * plugin.streamspace-billing.quota-exceeded. GET /usage and /usage.csv
 * report the day totals over a range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <streamspace/plugin.h>

#include "../common/answer.h"

#include "../common/evtime.h"
#include "../common/isotime.h"
#include "../common/schedule.h"
#include "../common/store.h"
#include "../common/walk.h"
#include "usage.h"

#define KEY_MAX 256
#define PIECES_MAX 64	     /* days one stretch may span; the hourly checkpoint keeps them few */
#define REPORT_DAYS_MAX 5000 /* user-days one report reads (each a storage call) */

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

/*
 * Adds one day's piece of span to the user's day and month totals, each
 * only the part it has not counted yet (usage_unbilled: a redelivery after
 * a crash between these writes counts nothing twice); announces a quota
 * crossing.
 */
static int account_piece(ss_plugin *p, const char *user, const char *session,
			 const struct usage_span *span, const struct usage_rates *rates,
			 const struct usage_piece *pc)
{
	struct usage_piece part;
	char u[128], key[KEY_MAX], month[8];
	if (!usage_key_part(user, u, sizeof u)) {
		ss_log(p, SS_WARN, "usage of a user name over %zu bytes not kept", sizeof u - 1);
		return 0;
	}
	snprintf(key, sizeof key, "day/%s/%.10s", u, pc->day);
	json_object *day = load(p, key);
	if (!day)
		return -1;
	int rc = 0;
	if (usage_unbilled(day, session, span, rates, pc, &part)) {
		usage_day_add(day, user, session, &part);
		rc = store_set(p, key, day);
	}
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
	bool crossed = false;
	if (usage_unbilled(m, session, span, rates, pc, &part)) {
		crossed = usage_month_add(m, user, month, part.cost, quota, threshold);
		rc = store_set(p, key, m);
	}
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
		if (account_piece(p, json_object_get_string(u), session, span, &rates,
				  &pieces[i]) != 0)
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
	if (store_set(p, key, rec) != 0)
		return -1;
	snprintf(key, sizeof key, "open/%s", s);
	if (usage_open(rec)) {
		json_object *t = json_object_new_boolean(1);
		int rc = store_set(p, key, t);
		json_object_put(t);
		return rc;
	}
	int r = ss_storage_delete(p, key);
	return r == SS_OK || r == SS_ERR_NOT_FOUND ? 0 : -1;
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
	switch (usage_apply(rec, ss_config(p), ss_event_type(ev), ss_event_data(ev), evtime_of(ev),
			    ss_event_id(ev), &span)) {
	case USAGE_DUPLICATE:
		ss_log(p, SS_INFO, "%s of %s: already counted (event %lld)", ss_event_type(ev), id,
		       (long long)ss_event_id(ev));
		break;
	case USAGE_IGNORED:
		break;
	case USAGE_APPLIED:
		json_object_object_add(rec, "id", json_object_new_string(id));
		rc = account(p, rec, id, &span);
		if (rc == 0)
			rc = save_session(p, s, rec);
		break;
	}
	json_object_put(rec);
	return rc;
}

/* The day of query parameter name (a date, or a time whose UTC day is taken) into out. */
static bool day_param(const ss_request *req, const char *name, char out[11], const char **day)
{
	const char *v = ss_req_query(req, name);
	int64_t ms;
	*day = NULL;
	if (!v || !*v)
		return true;
	if (!isotime_parse(v, &ms))
		return false;
	isotime_day(ms, out);
	*day = out;
	return true;
}

/*
 * The day records a report covers into days: those of ?user= (all users
 * without it) whose day is within ?from= and ?to= (inclusive, UTC days).
 * Answers the caller itself and returns false on a bad request or a
 * storage failure.
 */
static bool gather(ss_plugin *p, const ss_request *req, ss_response *res, json_object *days,
		   char from[11], char to[11], const char **fromp, const char **top)
{
	const char *user = ss_req_query(req, "user");
	char prefix[KEY_MAX] = "day/", u[128], *cursor = NULL;
	if (!day_param(req, "from", from, fromp) || !day_param(req, "to", to, top)) {
		answer_error(
		    res, 400, "bad_request",
		    "from and to are ISO 8601 dates or times (2026-12-01, 2026-12-01T18:00Z)");
		return false;
	}
	if (*fromp && *top && strcmp(*fromp, *top) > 0) {
		answer_error(res, 400, "bad_request", "from is after to");
		return false;
	}
	if (user && *user) {
		if (!usage_key_part(user, u, sizeof u)) {
			answer_error(res, 400, "bad_request", "user: at most 127 bytes");
			return false;
		}
		snprintf(prefix, sizeof prefix, "day/%s/", u);
	}
	for (;;) {
		json_object *page = NULL, *keys, *next;
		if (ss_storage_list(p, prefix, cursor, 1000, &page) != SS_OK) {
			ss_log(p, SS_ERROR, "storage: listing %s: %s", prefix, ss_error_code(p));
			free(cursor);
			answer_error(res, 503, "unavailable", "usage records cannot be read now");
			return false;
		}
		free(cursor);
		cursor = NULL;
		json_object_object_get_ex(page, "keys", &keys);
		for (size_t i = 0; i < json_object_array_length(keys); i++) {
			const char *key =
			    json_object_get_string(json_object_array_get_idx(keys, i));
			const char *day = strrchr(key, '/');
			day = day ? day + 1 : key;
			/* Filter by the key's day before reading the value. */
			if ((*fromp && strcmp(day, *fromp) < 0) || (*top && strcmp(day, *top) > 0))
				continue;
			if (json_object_array_length(days) == REPORT_DAYS_MAX) {
				json_object_put(page);
				answer_error(
				    res, 400, "too_many_records",
				    "more than 5000 user-days in the range: narrow from/to "
				    "or name a user");
				return false;
			}
			json_object *v = load(p, key);
			if (!v) {
				json_object_put(page);
				answer_error(res, 503, "unavailable",
					     "usage records cannot be read now");
				return false;
			}
			json_object_array_add(days, v);
		}
		if (json_object_object_get_ex(page, "next", &next) &&
		    json_object_is_type(next, json_type_string))
			cursor = strdup(json_object_get_string(next));
		json_object_put(page);
		if (!cursor)
			return true;
	}
}

/* GET /usage?user=&from=&to=: usage_report's JSON, with the currency. */
static int on_usage(ss_plugin *p, const ss_request *req, ss_response *res)
{
	char from[11], to[11];
	const char *f, *t;
	json_object *days = json_object_new_array();
	if (gather(p, req, res, days, from, to, &f, &t)) {
		json_object *rep = usage_report(days, f, t);
		json_object_object_add(rep, "currency",
				       json_object_new_string(ss_config_str(p, "currency", "USD")));
		ss_res_json(res, 200, rep);
		json_object_put(rep);
	}
	json_object_put(days);
	return 0;
}

/* GET /usage.csv?user=&from=&to=: a row per day, user and session. */
static int on_usage_csv(ss_plugin *p, const ss_request *req, ss_response *res)
{
	char from[11], to[11];
	const char *f, *t;
	json_object *days = json_object_new_array();
	if (gather(p, req, res, days, from, to, &f, &t)) {
		char *csv = usage_csv(days, f, t);
		ss_res_status(res, 200);
		ss_res_header(res, "Content-Type", "text/csv; charset=utf-8");
		ss_res_header(res, "Content-Disposition", "attachment; filename=\"usage.csv\"");
		ss_res_body(res, csv, strlen(csv));
		free(csv);
	}
	json_object_put(days);
	return 0;
}

/* What one usage run carries. */
struct calc {
	int64_t now;
	int done;
};

static int calculate_one(ss_plugin *p, const char *open_key, void *arg)
{
	struct calc *c = arg;
	const char *s = open_key + strlen("open/");
	char key[KEY_MAX];
	struct usage_span span;
	int rc = 0;
	snprintf(key, sizeof key, "session/%s", s);
	json_object *rec = load(p, key), *id = NULL;
	if (!rec)
		return -1;
	/* The session's own id (keys have '/' and '%' encoded) names it in the day record. */
	if (usage_checkpoint(rec, c->now, &span)) {
		json_object_object_get_ex(rec, "id", &id);
		rc = account(p, rec, id ? json_object_get_string(id) : s, &span);
		if (rc == 0)
			rc = save_session(p, s, rec);
		c->done++;
	}
	json_object_put(rec);
	return rc == 0 ? 1 : -1;
}

/*
 * The usage job: bills the open stretch of every running or hibernated
 * session up to now (the open/ index), so that reports and quotas see
 * sessions that run for days, not only when they stop.
 */
static int on_calculate(ss_plugin *p, const char *job)
{
	struct calc c = {.now = (int64_t)time(NULL) * 1000};
	int rc = walk_keys(p, "open/", NULL, calculate_one, &c);
	ss_log(p, SS_INFO, "%s: %d open session%s billed to now", job, c.done,
	       c.done == 1 ? "" : "s");
	return rc;
}

static int on_load(ss_plugin *p)
{
	/* The manifest's hourly job, or the operator's own schedule. */
	if (schedule_bind(p, "usageCalculationInterval", "calculate-usage", "usage",
			  on_calculate) != 0)
		return -1;
	if (ss_route(p, "GET", "/usage", SS_ROUTE_SERVICE, on_usage) != SS_OK ||
	    ss_route(p, "GET", "/usage.csv", SS_ROUTE_SERVICE, on_usage_csv) != SS_OK) {
		ss_log(p, SS_ERROR, "routes: %s", ss_error_message(p));
		return -1;
	}
	return ss_subscribe(p, "session.*", on_session);
}

/*
 * No on_config: jobs are declared in on_load only, so a new configuration
 * restarts the host (the records are in storage; nothing is lost) and a new
 * usageCalculationInterval takes effect.
 */
SS_PLUGIN(.name = "streamspace-billing", .version = "1.0.0", .on_load = on_load);
