/*
 * streamspace-compliance: a record of data-access events and of policy
 * violations in the plugin's storage, each kept for its event class's
 * retention (policy.c has the rules). Every event the plugin may read comes
 * in ("*": session.*, user.*, plugin.*); those matching dataAccessEvents are
 * recorded; a login (loginEvents) outside allowedLoginHours and a session
 * that ran longer than maxSessionHours are recorded as violations and
 * announced as plugin.streamspace-compliance.violation. The retention job
 * deletes what is past its class's retentionDays; GET /report summarises a
 * range.
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
#include "policy.h"

#define NAME "streamspace-compliance"
#define REPORT_READ_MAX 10000 /* records one report reads (each a storage call) */
#define REPORT_LIST_MAX 1000  /* records one report lists per section */

static const char *const report_classes[] = {"session", "user", "plugin", "other", "violation"};

/* A record's common fields: what happened, when, to whom. A new object. */
static json_object *record_new(const char *kind, const char *type, int64_t t, int64_t ev_id,
			       const char *user, const char *session)
{
	char at[25];
	json_object *r = json_object_new_object();
	isotime_format(t, at);
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "type", json_object_new_string(type));
	json_object_object_add(r, "class", json_object_new_string(policy_class(type)));
	json_object_object_add(r, "ts", json_object_new_int64(t));
	json_object_object_add(r, "at", json_object_new_string(at));
	json_object_object_add(r, "eventId", json_object_new_int64(ev_id));
	json_object_object_add(r, "user", user ? json_object_new_string(user) : NULL);
	json_object_object_add(r, "session", session ? json_object_new_string(session) : NULL);
	return r;
}

/*
 * Records a violation of rule by the event (type, ev_id at t) under
 * rec/violation/<t>/<key_id> and announces it, once: a redelivered event
 * finds its record and is not announced again.
 */
static int violation(ss_plugin *p, const char *rule, const char *detail, const char *type,
		     int64_t t, int64_t ev_id, int64_t key_id, const char *user,
		     const char *session)
{
	char key[POLICY_KEY_MAX];
	json_object *old = NULL;
	if (!policy_key("violation", t, key_id, key)) {
		ss_log(p, SS_WARN, "%s violation at %lld not kept: time out of range", rule,
		       (long long)t);
		return 0;
	}
	int r = ss_storage_get(p, key, &old);
	json_object_put(old);
	if (r == SS_OK)
		return 0;
	if (r != SS_ERR_NOT_FOUND) {
		ss_log(p, SS_ERROR, "storage: reading %s: %s", key, ss_error_code(p));
		return -1;
	}
	json_object *rec = record_new("violation", type, t, ev_id, user, session);
	json_object_object_add(rec, "rule", json_object_new_string(rule));
	json_object_object_add(rec, "detail", json_object_new_string(detail));
	int rc = store_set(p, key, rec);
	if (rc == 0) {
		if (ss_emit(p, "violation", rec) != SS_OK)
			ss_log(p, SS_WARN, "violation %s not announced: %s", rule,
			       ss_error_code(p));
		ss_log(p, SS_INFO, "violation %s: %s", rule, detail);
	}
	json_object_put(rec);
	return rc;
}

/* A data-access event: its record, under its class (the same key again on redelivery). */
static int record_access(ss_plugin *p, const char *type, int64_t t, int64_t ev_id, const char *user,
			 const char *session)
{
	char key[POLICY_KEY_MAX];
	if (!policy_key(policy_class(type), t, ev_id, key)) {
		ss_log(p, SS_WARN, "%s at %lld not recorded: time out of range", type,
		       (long long)t);
		return 0;
	}
	json_object *rec = record_new("access", type, t, ev_id, user, session);
	int rc = store_set(p, key, rec);
	json_object_put(rec);
	return rc;
}

/*
 * The session rule: session.started opens open/<id> (kept from the first
 * start: a session's length runs from it, hibernation included), and
 * session.stopped or .deleted closes it, a violation when it was longer
 * than maxSessionHours and the retention job has not flagged it already.
 */
static int track_session(ss_plugin *p, const char *type, int64_t t, int64_t ev_id, const char *user,
			 const char *session)
{
	bool start = strcmp(type, "session.started") == 0;
	bool end = strcmp(type, "session.stopped") == 0 || strcmp(type, "session.deleted") == 0;
	char key[160];
	json_object *open = NULL, *v = NULL;
	if (!start && !end)
		return 0;
	if (!policy_session_key_ok(session)) {
		ss_log(p, SS_WARN, "%s: no session id ([A-Za-z0-9._:-], 1-127 bytes): not tracked",
		       type);
		return 0;
	}
	snprintf(key, sizeof key, "open/%s", session);
	int r = ss_storage_get(p, key, &open);
	if (r != SS_OK && r != SS_ERR_NOT_FOUND) {
		ss_log(p, SS_ERROR, "storage: reading %s: %s", key, ss_error_code(p));
		return -1;
	}
	int rc = 0;
	if (start && r == SS_ERR_NOT_FOUND) {
		open = json_object_new_object();
		json_object_object_add(open, "start", json_object_new_int64(t));
		json_object_object_add(open, "user", user ? json_object_new_string(user) : NULL);
		rc = store_set(p, key, open);
	} else if (end && r == SS_OK) {
		int64_t from =
		    json_object_object_get_ex(open, "start", &v) ? json_object_get_int64(v) : t;
		bool flagged =
		    json_object_object_get_ex(open, "flagged", &v) && json_object_get_boolean(v);
		if (!user && json_object_object_get_ex(open, "user", &v) &&
		    json_object_is_type(v, json_type_string))
			user = json_object_get_string(v);
		if (!flagged && policy_session_too_long(ss_config(p), from, t)) {
			char detail[256];
			snprintf(detail, sizeof detail,
				 "session %s of %s ran %.2f h, over maxSessionHours", session,
				 user ? user : "(unknown)", (double)(t - from) / 3600000.0);
			rc = violation(p, "session-too-long", detail, type, t, ev_id, ev_id, user,
				       session);
		}
		if (rc == 0) {
			r = ss_storage_delete(p, key);
			rc = r == SS_OK || r == SS_ERR_NOT_FOUND ? 0 : -1;
		}
	}
	json_object_put(open);
	return rc;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	const char *type = ss_event_type(ev);
	json_object *cfg = ss_config(p), *data = ss_event_data(ev), *v = NULL;
	if (strncmp(type, "plugin." NAME ".", strlen("plugin." NAME ".")) == 0)
		return 0; /* our own announcements are not data access */
	int64_t t = evtime_of(ev), id = ss_event_id(ev);
	const char *user = policy_actor(data), *session = policy_session(data);
	if (strncmp(type, "session.", 8) != 0)
		session = NULL; /* "id" names a session in session events only */
	int rc = 0;
	if (json_object_object_get_ex(cfg, "dataAccessEvents", &v) && policy_matches(v, type))
		rc = record_access(p, type, t, id, user, session);
	char local[6];
	if (rc == 0 && json_object_object_get_ex(cfg, "loginEvents", &v) &&
	    policy_matches(v, type) && !policy_login_allowed(cfg, t, local)) {
		json_object *w = NULL, *s = NULL, *e = NULL;
		char detail[256];
		json_object_object_get_ex(cfg, "allowedLoginHours", &w);
		json_object_object_get_ex(w, "start", &s);
		json_object_object_get_ex(w, "end", &e);
		snprintf(detail, sizeof detail, "login of %s at %s local time, outside %s-%s",
			 user ? user : "(unknown)", local, json_object_get_string(s),
			 json_object_get_string(e));
		rc = violation(p, "login-outside-hours", detail, type, t, id, id, user, NULL);
	}
	if (rc == 0 && strncmp(type, "session.", 8) == 0)
		rc = track_session(p, type, t, id, user, session);
	return rc;
}

struct sweep {
	int64_t now, deleted, read, flagged;
};

/*
 * A class's records list oldest first: those past retention are a prefix,
 * and the walk stops at the first one still kept.
 */
static int expire(ss_plugin *p, const char *key, void *arg)
{
	struct sweep *sw = arg;
	char cls[16];
	int64_t ts;
	sw->read++;
	if (!policy_key_parse(key, cls, &ts))
		return 1; /* not a record key: not in the order, passed over */
	if (!policy_expired(ss_config(p), key, sw->now))
		return 0;
	int r = ss_storage_delete(p, key);
	if (r != SS_OK && r != SS_ERR_NOT_FOUND) {
		ss_log(p, SS_ERROR, "storage: deleting %s: %s", key, ss_error_code(p));
		return -1;
	}
	sw->deleted++;
	return 1;
}

/* A session still running past maxSessionHours is a violation now, once (flagged). */
static int check_open(ss_plugin *p, const char *key, void *arg)
{
	struct sweep *sw = arg;
	json_object *open = NULL, *v = NULL;
	if (ss_storage_get(p, key, &open) != SS_OK)
		return 1; /* gone since the listing */
	int64_t start =
	    json_object_object_get_ex(open, "start", &v) ? json_object_get_int64(v) : sw->now;
	bool flagged = json_object_object_get_ex(open, "flagged", &v) && json_object_get_boolean(v);
	int rc = 1;
	if (!flagged && policy_session_too_long(ss_config(p), start, sw->now)) {
		const char *session = key + strlen("open/"), *user = NULL;
		char detail[256];
		if (json_object_object_get_ex(open, "user", &v) &&
		    json_object_is_type(v, json_type_string))
			user = json_object_get_string(v);
		snprintf(detail, sizeof detail,
			 "session %s of %s running for %.2f h, over maxSessionHours", session,
			 user ? user : "(unknown)", (double)(sw->now - start) / 3600000.0);
		/*
		 * No event: the job's finding (eventId 0), at the moment the session
		 * passed the limit, keyed by its session (sessions started together
		 * cross together).
		 */
		int64_t crossed = start + policy_max_session_ms(ss_config(p));
		if (violation(p, "session-too-long", detail, "session.running", crossed, 0,
			      policy_id_hash(session), user, session) != 0)
			rc = -1;
		json_object_object_add(open, "flagged", json_object_new_boolean(1));
		if (rc == 1 && store_set(p, key, open) != 0)
			rc = -1;
		sw->flagged++;
	}
	json_object_put(open);
	return rc;
}

/*
 * The retention job: deletes every record past its class's retentionDays,
 * class by class from the oldest up to the first one still kept (the
 * records in retention, nearly all of them, are not read; a class kept
 * forever not at all), and flags the sessions running past
 * maxSessionHours; announced as plugin.streamspace-compliance.retention-run
 * {deleted, read, flagged, ok} (read: the record keys listed).
 */
static int on_retention(ss_plugin *p, const char *job)
{
	struct sweep sw = {.now = (int64_t)time(NULL) * 1000};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof report_classes / sizeof report_classes[0]; i++) {
		char prefix[32];
		if (policy_retention_days(ss_config(p), report_classes[i]) == 0)
			continue;
		snprintf(prefix, sizeof prefix, "rec/%s/", report_classes[i]);
		rc = walk_keys(p, prefix, NULL, expire, &sw);
	}
	if (rc == 0)
		rc = walk_keys(p, "open/", NULL, check_open, &sw);
	json_object *d = json_object_new_object();
	json_object_object_add(d, "deleted", json_object_new_int64(sw.deleted));
	json_object_object_add(d, "read", json_object_new_int64(sw.read));
	json_object_object_add(d, "flagged", json_object_new_int64(sw.flagged));
	json_object_object_add(d, "ok", json_object_new_boolean(rc == 0));
	if (ss_emit(p, "retention-run", d) != SS_OK)
		ss_log(p, SS_WARN, "retention-run not announced: %s", ss_error_code(p));
	json_object_put(d);
	ss_log(p, SS_INFO, "%s: %lld deleted (%lld records read), %lld long sessions flagged%s",
	       job, (long long)sw.deleted, (long long)sw.read, (long long)sw.flagged,
	       rc == 0 ? "" : " (stopped by a storage failure)");
	return rc;
}

/* What a report walk carries. */
struct gather {
	int64_t from, to; /* to exclusive; -1 = open */
	json_object *report;
	int read;
	bool too_many;
};

static int gather_one(ss_plugin *p, const char *key, void *arg)
{
	struct gather *g = arg;
	char cls[16];
	int64_t ts;
	json_object *rec = NULL;
	if (!policy_key_parse(key, cls, &ts) || ts < g->from)
		return 1;
	if (g->to >= 0 && ts >= g->to)
		return 0; /* keys are in time order within a class */
	if (g->read == REPORT_READ_MAX) {
		g->too_many = true;
		return 0;
	}
	if (ss_storage_get(p, key, &rec) != SS_OK)
		return 1; /* deleted since the listing (retention) */
	g->read++;
	policy_report_add(g->report, rec, REPORT_LIST_MAX);
	json_object_put(rec);
	return 1;
}

/* Query parameter name as a time into *ms (-1 when absent); a bare date's end for "to". */
static bool time_param(const ss_request *req, const char *name, bool end, int64_t *ms)
{
	const char *v = ss_req_query(req, name);
	*ms = -1;
	if (!v || !*v)
		return true;
	if (!isotime_parse(v, ms))
		return false;
	if (end && strlen(v) == 10)
		*ms += ISOTIME_DAY_MS; /* to=2026-12-01 takes that whole day */
	return true;
}

/* GET /report?from=&to=: data access and violations in [from, to). */
static int on_report(ss_plugin *p, const ss_request *req, ss_response *res)
{
	struct gather g = {0};
	if (!time_param(req, "from", false, &g.from) || !time_param(req, "to", true, &g.to))
		return answer_error(res, 400, "bad_request",
				    "from and to are ISO 8601 dates or times (2026-12-01, "
				    "2026-12-01T18:00Z)");
	if (g.from >= 0 && g.to >= 0 && g.from >= g.to)
		return answer_error(res, 400, "bad_request", "from is not before to");
	if (g.from < 0)
		g.from = 0;
	g.report = policy_report_new(g.from > 0 ? g.from : -1, g.to);
	int rc = 0;
	for (size_t i = 0; rc == 0 && !g.too_many && i < 5; i++) {
		char prefix[32], start[POLICY_KEY_MAX];
		snprintf(prefix, sizeof prefix, "rec/%s/", report_classes[i]);
		/* Listing starts at from: the keys before it are not read at all. */
		snprintf(start, sizeof start, "rec/%s/%013lld", report_classes[i],
			 (long long)g.from);
		rc = walk_keys(p, prefix, start, gather_one, &g);
	}
	if (rc != 0)
		answer_error(res, 503, "unavailable", "compliance records cannot be read now");
	else if (g.too_many)
		answer_error(res, 400, "too_many_records",
			     "more than 10000 records in the range: narrow from/to");
	else
		ss_res_json(res, 200, g.report);
	json_object_put(g.report);
	return 0;
}

static int on_load(ss_plugin *p)
{
	/* The manifest's daily job, or the operator's own schedule. */
	if (schedule_bind(p, "retentionSchedule", "retention", "retention", on_retention) != 0)
		return -1;
	if (ss_route(p, "GET", "/report", SS_ROUTE_SERVICE, on_report) != SS_OK) {
		ss_log(p, SS_ERROR, "routes: %s", ss_error_message(p));
		return -1;
	}
	return ss_subscribe(p, "*", on_event);
}

/*
 * No on_config: the job is declared in on_load only, so a new configuration
 * restarts the host (the records are in storage) and a new
 * retentionSchedule takes effect; the rules read the configuration per event.
 */
SS_PLUGIN(.name = NAME, .version = "1.0.0", .on_load = on_load);
