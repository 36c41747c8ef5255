#include "usage.h"

#include "../common/isotime.h"
#include "../common/quantity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS 3600000.0
#define MONTH_HOURS 730.0
#define SESSIONS_MAX 1000 /* per day record; the rest are summed under "(other)" */
#define BILLED_MAX 1000	  /* billedTo marks per day or month record (usage_unbilled) */

static double num(json_object *o, const char *key, double def)
{
	json_object *v;
	if (json_object_object_get_ex(o, key, &v) &&
	    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return json_object_get_double(v);
	return def;
}

static int64_t i64(json_object *o, const char *key, int64_t def)
{
	json_object *v;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return def;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) &&
	    *json_object_get_string(v))
		return json_object_get_string(v);
	return NULL;
}

/* Setters: json-c's allocation failures abort here, as xmalloc does in the daemon. */
static void put(json_object *o, const char *key, json_object *v)
{
	if (!v || json_object_object_add(o, key, v) != 0)
		abort();
}

static void set_num(json_object *o, const char *key, double v)
{
	put(o, key, json_object_new_double(v));
}

static void set_i64(json_object *o, const char *key, int64_t v)
{
	put(o, key, json_object_new_int64(v));
}

static void set_str(json_object *o, const char *key, const char *v)
{
	put(o, key, json_object_new_string(v));
}

void usage_rates_of(json_object *config, struct usage_rates *r)
{
	json_object *cr = NULL;
	json_object_object_get_ex(config, "computeRates", &cr);
	r->cpu_per_core_hour = num(cr, "cpu_per_core_hour", 0.05);
	r->memory_per_gb_hour = num(cr, "memory_per_gb_hour", 0.01);
	r->storage_per_gb_month = num(cr, "storage_per_gb_month", 0.10);
}

/*
 * A resource of data (top level or under "resources"): a number as it is
 * (cores, GiB), a quantity string in base units scaled by unit (1 for cores,
 * a GiB in bytes for memory and storage). False when absent or unreadable.
 */
static bool resource(json_object *data, const char *key, double unit, double *out)
{
	json_object *v = NULL, *res;
	if (!json_object_object_get_ex(data, key, &v) &&
	    json_object_object_get_ex(data, "resources", &res))
		json_object_object_get_ex(res, key, &v);
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		*out = json_object_get_double(v);
		return isfinite(*out) && *out >= 0;
	}
	double q;
	if (json_object_is_type(v, json_type_string) &&
	    quantity_parse(json_object_get_string(v), &q) && q >= 0) {
		*out = q / unit;
		return true;
	}
	return false;
}

/* rec's key from data, else kept, else from config.defaultResources, else 0. */
static void take_resource(json_object *rec, json_object *config, json_object *data, const char *key,
			  const char *rec_key, double unit)
{
	json_object *defs = NULL;
	double v;
	if (resource(data, key, unit, &v)) {
		set_num(rec, rec_key, v);
		return;
	}
	if (json_object_object_get_ex(rec, rec_key, NULL))
		return;
	json_object_object_get_ex(config, "defaultResources", &defs);
	set_num(rec, rec_key, resource(defs, key, unit, &v) ? v : 0);
}

bool usage_open(json_object *rec)
{
	const char *s = str(rec, "state");
	return s && (strcmp(s, "running") == 0 || strcmp(s, "hibernated") == 0);
}

/* Closes rec's open stretch at t_ms into *span (empty when none or t_ms is not later). */
static void close_open(json_object *rec, int64_t t_ms, struct usage_span *span)
{
	int64_t since = i64(rec, "since", t_ms);
	memset(span, 0, sizeof *span);
	if (!usage_open(rec) || t_ms <= since)
		return;
	span->any = true;
	span->running = strcmp(str(rec, "state"), "running") == 0;
	span->start_ms = since;
	span->end_ms = t_ms;
	span->cpu = num(rec, "cpu", 0);
	span->memory_gi = num(rec, "memoryGi", 0);
	span->storage_gi = num(rec, "storageGi", 0);
}

/* The state an event moves a session to, or NULL for an event that is no transition. */
static const char *target_of(const char *event)
{
	static const char *const map[][2] = {
	    {"session.created", "created"}, {"session.started", "running"},
	    {"session.woken", "running"},   {"session.hibernated", "hibernated"},
	    {"session.stopped", "stopped"}, {"session.deleted", "deleted"},
	};
	for (size_t i = 0; event && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i][0], event) == 0)
			return map[i][1];
	return NULL;
}

enum usage_result usage_apply(json_object *rec, json_object *config, const char *event,
			      json_object *data, int64_t t_ms, int64_t ev_id,
			      struct usage_span *span)
{
	const char *target = target_of(event);
	const char *state = str(rec, "state");
	memset(span, 0, sizeof *span);
	if (ev_id > 0 && ev_id <= i64(rec, "lastEventId", 0))
		return USAGE_DUPLICATE;
	if (!target || (state && strcmp(state, "deleted") == 0))
		return USAGE_IGNORED;
	if (ev_id > 0)
		set_i64(rec, "lastEventId", ev_id);

	/* Who and what: the event says, else what was recorded. */
	const char *user = str(data, "user");
	if (!user)
		user = str(data, "userId");
	if (user)
		set_str(rec, "user", user);
	else if (!str(rec, "user"))
		set_str(rec, "user", "unknown");
	if (str(data, "template"))
		set_str(rec, "template", str(data, "template"));

	if (!json_object_object_get_ex(rec, "runningMs", NULL)) {
		set_i64(rec, "runningMs", 0);
		set_i64(rec, "hibernatedMs", 0);
		set_num(rec, "cost", 0);
	}
	/* No transition: started while running, created after the fact. */
	if ((state && strcmp(state, target) == 0) || (state && strcmp(target, "created") == 0))
		return USAGE_APPLIED;
	/* The stretch before this event is billed at the resources it ran with. */
	close_open(rec, t_ms, span);
	take_resource(rec, config, data, "cpu", "cpu", 1.0);
	take_resource(rec, config, data, "memory", "memoryGi", QUANTITY_GIB);
	take_resource(rec, config, data, "storage", "storageGi", QUANTITY_GIB);
	set_str(rec, "state", target);
	/* A late event (t before since) moves the state, never the clock back. */
	int64_t since = i64(rec, "since", t_ms);
	set_i64(rec, "since", t_ms > since ? t_ms : since);
	return USAGE_APPLIED;
}

bool usage_checkpoint(json_object *rec, int64_t t_ms, struct usage_span *span)
{
	close_open(rec, t_ms, span);
	if (span->any)
		set_i64(rec, "since", t_ms);
	return span->any;
}

int usage_split(const struct usage_span *span, const struct usage_rates *r, struct usage_piece *out,
		int max)
{
	int n = 0;
	for (int64_t t = span->start_ms; span->any && t < span->end_ms && n < max; n++) {
		int64_t next = isotime_day_start(t) + ISOTIME_DAY_MS;
		int64_t end = next < span->end_ms && n + 1 < max ? next : span->end_ms;
		struct usage_piece *p = &out[n];
		memset(p, 0, sizeof *p);
		isotime_day(t, p->day);
		p->start_ms = t;
		p->end_ms = end;
		double hours = (double)(end - t) / HOUR_MS;
		if (span->running) {
			p->running_ms = end - t;
			p->cpu_core_hours = hours * span->cpu;
			p->memory_gb_hours = hours * span->memory_gi;
		} else {
			p->hibernated_ms = end - t;
		}
		/* A volume costs while the session exists, hibernated or not. */
		p->storage_gb_hours = hours * span->storage_gi;
		p->cost = p->cpu_core_hours * r->cpu_per_core_hour +
			  p->memory_gb_hours * r->memory_per_gb_hour +
			  p->storage_gb_hours * r->storage_per_gb_month / MONTH_HOURS;
		t = end;
	}
	return n;
}

/*
 * A record's marks stay at BILLED_MAX: past it the session counted up to the
 * earliest time is forgotten (never keep, the one just marked). A mark is
 * only needed while that session's last event could come again (a crash
 * between its writes, its redelivery soon after) or its next checkpoint
 * could bill a stretch again: the session marked earliest is the one done
 * longest ago. A month of many short sessions no longer grows its record
 * past the storage value limit.
 */
static void forget_oldest(json_object *marks, const char *keep)
{
	const char *oldest = NULL;
	int64_t min = INT64_MAX;

	if (json_object_object_length(marks) <= BILLED_MAX)
		return;
	json_object_object_foreach(marks, k, v)
	{
		int64_t m = json_object_get_int64(v);

		if (strcmp(k, keep) != 0 && (oldest == NULL || m < min)) {
			oldest = k;
			min = m;
		}
	}
	if (oldest != NULL)
		json_object_object_del(marks, oldest);
}

bool usage_unbilled(json_object *record, const char *session, const struct usage_span *span,
		    const struct usage_rates *r, const struct usage_piece *piece,
		    struct usage_piece *out)
{
	json_object *marks = NULL;
	if (!json_object_object_get_ex(record, "billedTo", &marks) ||
	    !json_object_is_type(marks, json_type_object)) {
		marks = json_object_new_object();
		json_object_object_add(record, "billedTo", marks);
	}
	int64_t mark = i64(marks, session, 0);
	if (mark >= piece->end_ms)
		return false;
	struct usage_span rest = *span;
	rest.start_ms = mark > piece->start_ms ? mark : piece->start_ms;
	rest.end_ms = piece->end_ms;
	if (usage_split(&rest, r, out, 1) != 1)
		return false;
	set_i64(marks, session, piece->end_ms);
	forget_oldest(marks, session);
	return true;
}

/* Adds the piece's times and cost to o's runningMs, hibernatedMs and cost. */
static void add_times(json_object *o, const struct usage_piece *p)
{
	set_i64(o, "runningMs", i64(o, "runningMs", 0) + p->running_ms);
	set_i64(o, "hibernatedMs", i64(o, "hibernatedMs", 0) + p->hibernated_ms);
	set_num(o, "cost", num(o, "cost", 0) + p->cost);
}

void usage_rec_add(json_object *rec, const struct usage_piece *piece)
{
	add_times(rec, piece);
}

void usage_day_add(json_object *day, const char *user, const char *session,
		   const struct usage_piece *p)
{
	json_object *sessions, *s;
	if (!str(day, "user")) {
		set_str(day, "user", user);
		set_str(day, "day", p->day);
	}
	add_times(day, p);
	set_num(day, "cpuCoreHours", num(day, "cpuCoreHours", 0) + p->cpu_core_hours);
	set_num(day, "memoryGbHours", num(day, "memoryGbHours", 0) + p->memory_gb_hours);
	set_num(day, "storageGbHours", num(day, "storageGbHours", 0) + p->storage_gb_hours);
	if (!json_object_object_get_ex(day, "sessions", &sessions) ||
	    !json_object_is_type(sessions, json_type_object)) {
		sessions = json_object_new_object();
		put(day, "sessions", sessions);
	}
	if (!json_object_object_get_ex(sessions, session, &s)) {
		/* A bounded record: past SESSIONS_MAX the sessions of a day are summed as one. */
		if (json_object_object_length(sessions) >= SESSIONS_MAX)
			session = "(other)";
		if (!json_object_object_get_ex(sessions, session, &s)) {
			s = json_object_new_object();
			put(sessions, session, s);
		}
	}
	add_times(s, p);
}

bool usage_month_add(json_object *month, const char *user, const char *month_name, double cost,
		     double quota, double threshold_pct)
{
	if (!str(month, "user")) {
		set_str(month, "user", user);
		set_str(month, "month", month_name);
	}
	double total = num(month, "cost", 0) + cost;
	set_num(month, "cost", total);
	if (quota <= 0 || total < quota * threshold_pct / 100.0 || num(month, "alerted", -1) >= 0)
		return false;
	set_num(month, "alerted", threshold_pct);
	return true;
}

double usage_quota_of(json_object *config, const char *user)
{
	json_object *uq;
	if (json_object_object_get_ex(config, "userQuotas", &uq)) {
		double q = num(uq, user, -1);
		if (q >= 0)
			return q;
	}
	return num(config, "monthlyQuota", 0);
}

bool usage_key_part(const char *user, char *out, size_t outlen)
{
	size_t n = 0;
	for (const char *c = user; *c; c++) {
		if (*c == '%' || *c == '/') {
			if (n + 3 >= outlen)
				return false;
			n += (size_t)snprintf(out + n, outlen - n, "%%%02X", (unsigned char)*c);
		} else {
			if (n + 1 >= outlen)
				return false;
			out[n++] = *c;
		}
	}
	if (n >= outlen)
		return false;
	out[n] = '\0';
	return n > 0;
}

/* Whether a day record is inside [from, to] (day names compare as text). */
static bool in_range(json_object *day, const char *from, const char *to)
{
	const char *d = str(day, "day");
	return d && (!from || strcmp(d, from) >= 0) && (!to || strcmp(d, to) <= 0);
}

/* The entry of name in arr (objects with key = name), made when missing. */
static json_object *entry(json_object *arr, const char *key, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		if (strcmp(str(e, key), name) == 0)
			return e;
	}
	json_object *e = json_object_new_object();
	if (!e || json_object_array_add(arr, e) != 0)
		abort();
	set_str(e, key, name);
	return e;
}

static void add_hours(json_object *o, const char *key, double v)
{
	set_num(o, key, num(o, key, 0) + v);
}

/* Adds a day record's (or a day's session's) times and cost to a report entry. */
static void add_to(json_object *e, json_object *src, bool resources)
{
	add_hours(e, "runningHours", (double)i64(src, "runningMs", 0) / HOUR_MS);
	add_hours(e, "hibernatedHours", (double)i64(src, "hibernatedMs", 0) / HOUR_MS);
	if (resources) {
		add_hours(e, "cpuCoreHours", num(src, "cpuCoreHours", 0));
		add_hours(e, "memoryGbHours", num(src, "memoryGbHours", 0));
		add_hours(e, "storageGbHours", num(src, "storageGbHours", 0));
	}
	add_hours(e, "cost", num(src, "cost", 0));
}

static int by_name(const void *a, const void *b, const char *key)
{
	return strcmp(str(*(json_object *const *)a, key), str(*(json_object *const *)b, key));
}

static int by_user(const void *a, const void *b)
{
	return by_name(a, b, "user");
}

static int by_session(const void *a, const void *b)
{
	return by_name(a, b, "session");
}

static int by_day(const void *a, const void *b)
{
	return by_name(a, b, "day");
}

json_object *usage_report(json_object *days, const char *from, const char *to)
{
	json_object *r = json_object_new_object(), *users = json_object_new_array();
	json_object *total = json_object_new_object();
	if (!r || !users || !total)
		abort();
	/* null when open-ended */
	json_object_object_add(r, "from", from ? json_object_new_string(from) : NULL);
	json_object_object_add(r, "to", to ? json_object_new_string(to) : NULL);
	for (size_t i = 0; i < json_object_array_length(days); i++) {
		json_object *d = json_object_array_get_idx(days, i), *sessions;
		if (!in_range(d, from, to) || !str(d, "user"))
			continue;
		json_object *u = entry(users, "user", str(d, "user"));
		add_to(u, d, true);
		add_to(total, d, true);
		json_object *ud, *us;
		if (!json_object_object_get_ex(u, "days", &ud)) {
			ud = json_object_new_array();
			put(u, "days", ud);
			us = json_object_new_array();
			put(u, "sessions", us);
		}
		json_object_object_get_ex(u, "sessions", &us);
		json_object *de = entry(ud, "day", str(d, "day"));
		add_to(de, d, false);
		if (!json_object_object_get_ex(d, "sessions", &sessions))
			continue;
		json_object_object_foreach(sessions, sid, sv)
		{
			add_to(entry(us, "session", sid), sv, false);
		}
	}
	json_object_array_sort(users, by_user);
	for (size_t i = 0; i < json_object_array_length(users); i++) {
		json_object *u = json_object_array_get_idx(users, i), *a;
		if (json_object_object_get_ex(u, "sessions", &a))
			json_object_array_sort(a, by_session);
		if (json_object_object_get_ex(u, "days", &a))
			json_object_array_sort(a, by_day);
	}
	put(r, "users", users);
	if (!json_object_object_get_ex(total, "cost", NULL))
		add_to(total, NULL, true);
	put(r, "total", total);
	return r;
}

/* Appends one CSV field: quoted (and its quotes doubled) when it holds , " or a line end. */
static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

char *usage_csv(json_object *days, const char *from, const char *to)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	fputs("day,user,session,running_hours,hibernated_hours,cost\r\n", f);
	json_object *sorted = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(days); i++) {
		json_object *d = json_object_array_get_idx(days, i);
		if (in_range(d, from, to) && str(d, "user"))
			json_object_array_add(sorted, json_object_get(d));
	}
	json_object_array_sort(sorted, by_day);
	for (size_t i = 0; i < json_object_array_length(sorted); i++) {
		json_object *d = json_object_array_get_idx(sorted, i), *sessions;
		if (!json_object_object_get_ex(d, "sessions", &sessions))
			continue;
		json_object_object_foreach(sessions, sid, sv)
		{
			fprintf(f, "%s,", str(d, "day"));
			csv_field(f, str(d, "user"));
			fputc(',', f);
			csv_field(f, sid);
			fprintf(f, ",%.4f,%.4f,%.6f\r\n", (double)i64(sv, "runningMs", 0) / HOUR_MS,
				(double)i64(sv, "hibernatedMs", 0) / HOUR_MS, num(sv, "cost", 0));
		}
	}
	json_object_put(sorted);
	if (fclose(f) != 0)
		abort();
	return buf;
}
