/*
 * policy: streamspace-compliance's rules as pure functions over JSON, so
 * that each has a unit test: an event's class and whether it counts as data
 * access or a login, the storage key of a record (class, time, event id) and
 * its retention under the configured days, the allowed login hours in a
 * fixed UTC offset, the longest session, and the report over records.
 *
 * Records (compliance.c stores them; README lists the keys):
 *   rec/<class>/<ts, 13 digits>/<event id, 20 digits>
 *     {"kind":"access"|"violation","type","class","ts","at","eventId",
 *      "user","session", and for a violation "rule","detail"}
 *   open/<session> {"start","user"}   a session running since start
 */
#ifndef SS_COMPLIANCE_POLICY_H
#define SS_COMPLIANCE_POLICY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define POLICY_KEY_MAX 64
#define POLICY_DEFAULT_RETENTION_DAYS 90

/* The class of an event type: "session", "user", "plugin" or "other". */
const char *policy_class(const char *type);

/*
 * Whether type matches one of patterns (a JSON array of strings: an exact
 * name, a prefix wildcard "session.file.*", or "*"); false when patterns is
 * not an array.
 */
bool policy_matches(json_object *patterns, const char *type);

/* config.retentionDays[class] (0 = kept forever), else POLICY_DEFAULT_RETENTION_DAYS. */
int64_t policy_retention_days(json_object *config, const char *class_name);

/* The record key of an event into out (POLICY_KEY_MAX bytes); false for an unknown class or ts < 0.
 */
bool policy_key(const char *class_name, int64_t ts_ms, int64_t event_id, char out[POLICY_KEY_MAX]);

/* Splits a record key into its class (into cls, 16 bytes) and ts; false for another key. */
bool policy_key_parse(const char *key, char cls[16], int64_t *ts_ms);

/* Whether the record under key is past its class's retention at now_ms. */
bool policy_expired(json_object *config, const char *key, int64_t now_ms);

/*
 * Checks a login at ts_ms against config.allowedLoginHours {"start":"08:00",
 * "end":"18:00","utcOffset":"+02:00"} (a window across midnight when start
 * is after end; no rule without start and end, or when they are equal).
 * True when allowed; else false with the local time ("21:30") in local.
 */
bool policy_login_allowed(json_object *config, int64_t ts_ms, char local[6]);

/* "HH:MM" (00:00-24:00) into minutes; false for anything else. */
bool policy_parse_hm(const char *s, int *minutes);

/* "+hh:mm" / "-hh:mm" / "Z" into minutes east of UTC; false for anything else. */
bool policy_parse_offset(const char *s, int *minutes);

/* config.maxSessionHours in ms; 0 when there is no rule. */
int64_t policy_max_session_ms(json_object *config);

/* Whether a session from start_ms to end_ms is over config.maxSessionHours (0 or none = no rule).
 */
bool policy_session_too_long(json_object *config, int64_t start_ms, int64_t end_ms);

/* The user an event's data names: user, userId, user_id, username or email; NULL if none. */
const char *policy_actor(json_object *data);

/* The session an event's data names: id, sessionId or session_id; NULL if none. */
const char *policy_session(json_object *data);

/* Whether s is a session id that can be a key part: [A-Za-z0-9._:-], 1-127 bytes. */
bool policy_session_key_ok(const char *s);

/* A key part for a name (FNV-1a, 63 bits): the job's findings, which have no event id. */
int64_t policy_id_hash(const char *s);

/* A new report object for [from_ms, to_ms) (-1 = open end), to add records to. */
json_object *policy_report_new(int64_t from_ms, int64_t to_ms);

/*
 * Adds a record to the report: an access counts in "access" (total, byType,
 * byUser) and a violation in "violations" (total, byRule, and the list,
 * at most list_max of them; "truncated" says when more were left out).
 */
void policy_report_add(json_object *report, json_object *rec, int list_max);

#endif
