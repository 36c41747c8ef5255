/*
 * usage: what a session costs, as pure functions over JSON records so that
 * every rule has a unit test: the session's state machine over session.*
 * events (only running time is billed for compute; hibernated time is not),
 * the stretch each transition closes, its split into UTC days and its cost
 * under the configured rates, the day and month totals it adds to, the
 * quota check, and the usage report (JSON and CSV) over day totals.
 *
 * Records (billing.c stores them; README lists the keys):
 *   session  {"user","template","state","since","cpu","memoryGi","storageGi",
 *             "runningMs","hibernatedMs","cost","lastEventId"}
 *   day      {"user","day","runningMs","hibernatedMs","cpuCoreHours",
 *             "memoryGbHours","storageGbHours","cost","sessions":{id:{...}},
 *             "billedTo":{id:ms}}
 *   month    {"user","month","cost","alerted","billedTo":{id:ms}}
 */
#ifndef SS_BILLING_USAGE_H
#define SS_BILLING_USAGE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* computeRates, in the currency's units: per core-hour, per GiB-hour, per GiB-month. */
struct usage_rates {
	double cpu_per_core_hour;
	double memory_per_gb_hour;
	double storage_per_gb_month;
};

/* config.computeRates over the defaults (0.05, 0.01, 0.10); a month is 730 hours. */
void usage_rates_of(json_object *config, struct usage_rates *r);

/* A stretch a transition closed: [start_ms, end_ms) running or hibernated, at these resources. */
struct usage_span {
	bool any;
	bool running;
	int64_t start_ms, end_ms;
	double cpu, memory_gi, storage_gi;
};

enum usage_result {
	USAGE_APPLIED,	 /* rec changed (span may say what it closed) */
	USAGE_DUPLICATE, /* an event already applied (its id is not past lastEventId) */
	USAGE_IGNORED,	 /* not a transition of this session (a deleted one, or unknown) */
};

/*
 * Applies event (session.created|started|hibernated|woken|stopped|deleted)
 * with data at t_ms, event id ev_id (> 0; 0 = not checked) to rec, a
 * session record (an empty object for a session not seen yet), in place.
 * Resources come from data ("cpu", "memory", "storage", at the top or under
 * "resources": Kubernetes quantities or numbers of cores / GiB), else stay
 * as they were, else config.defaultResources. *span is the stretch closed.
 */
enum usage_result usage_apply(json_object *rec, json_object *config, const char *event,
			      json_object *data, int64_t t_ms, int64_t ev_id,
			      struct usage_span *span);

/* The hourly job: closes the open stretch of a running or hibernated rec at t_ms. */
bool usage_checkpoint(json_object *rec, int64_t t_ms, struct usage_span *span);

/* Whether rec is running or hibernated (a stretch is open). */
bool usage_open(json_object *rec);

/* One UTC day's part of a span, and what it costs. */
struct usage_piece {
	char day[11]; /* "2026-12-01" */
	int64_t running_ms, hibernated_ms;
	double cpu_core_hours, memory_gb_hours, storage_gb_hours, cost;
	int64_t start_ms, end_ms; /* the part of the span it is */
};

/*
 * Splits span at UTC midnights into at most max pieces (a longer span's
 * last piece runs to its end: callers checkpoint hourly), each costed
 * under r. Returns the number of pieces.
 */
int usage_split(const struct usage_span *span, const struct usage_rates *r, struct usage_piece *out,
		int max);

/*
 * The part of piece (of span, costed under r) that record, a day or month
 * total, has not counted for session yet, into out; false when it has
 * counted all of it. Marks record as counted up to the piece's end
 * (billedTo[session]), so that adding out and storing record is one write:
 * a crash between the day, month and session writes and the redelivered
 * event (or the next checkpoint) then adds to each total only what it lacks.
 */
bool usage_unbilled(json_object *record, const char *session, const struct usage_span *span,
		    const struct usage_rates *r, const struct usage_piece *piece,
		    struct usage_piece *out);

/* Adds piece to rec's totals (runningMs, hibernatedMs, cost). */
void usage_rec_add(json_object *rec, const struct usage_piece *piece);

/* Adds piece of session to a day record (made complete if empty: user, day). */
void usage_day_add(json_object *day, const char *user, const char *session,
		   const struct usage_piece *piece);

/*
 * Adds cost to a month record (user, month "2026-12"); true when this makes
 * the month cross threshold_pct of quota for the first time (the record
 * remembers it: one quota-exceeded per user, month and threshold).
 */
bool usage_month_add(json_object *month, const char *user, const char *month_name, double cost,
		     double quota, double threshold_pct);

/* The user's monthly quota: config.userQuotas[user], else config.monthlyQuota; 0 = none. */
double usage_quota_of(json_object *config, const char *user);

/*
 * A storage key part for a user name: '%' and '/' percent-encoded, so
 * "day/<user>/" lists one user's days and no other's. Into out; false when
 * it does not fit.
 */
bool usage_key_part(const char *user, char *out, size_t outlen);

/*
 * The report over day records (an array; those outside [from, to] days,
 * inclusive, are left out): {"from","to","users":[{"user", "runningHours",
 * "hibernatedHours", "cpuCoreHours", "memoryGbHours", "storageGbHours",
 * "cost", "sessions":[{"session","runningHours","hibernatedHours","cost"}],
 * "days":[{"day","runningHours","cost"}]}], "total":{...}}, users and
 * sessions by name. A new object.
 */
json_object *usage_report(json_object *days, const char *from, const char *to);

/* The same as CSV: day,user,session,running_hours,hibernated_hours,cost (malloc'd). */
char *usage_csv(json_object *days, const char *from, const char *to);

#endif
