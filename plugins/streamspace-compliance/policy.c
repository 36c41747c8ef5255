#include "policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/isotime.h"

static const char *const classes[] = {"session", "user", "plugin", "other", "violation"};

const char *policy_class(const char *type)
{
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(classes[i]);
		if (strncmp(type, classes[i], n) == 0 && type[n] == '.')
			return classes[i];
	}
	return "other";
}

static bool known_class(const char *c)
{
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(c, classes[i]) == 0)
			return true;
	return false;
}

bool policy_matches(json_object *patterns, const char *type)
{
	if (!json_object_is_type(patterns, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(patterns); i++) {
		json_object *v = json_object_array_get_idx(patterns, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		const char *p = json_object_get_string(v);
		size_t n = strlen(p);
		if (strcmp(p, "*") == 0 || strcmp(p, type) == 0)
			return true;
		/* "a.b.*" matches "a.b.c" and deeper, not "a.b" itself. */
		if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '.' && strncmp(p, type, n - 1) == 0 &&
		    type[n - 1] != '\0')
			return true;
	}
	return false;
}

int64_t policy_retention_days(json_object *config, const char *class_name)
{
	json_object *days = NULL, *v = NULL;
	if (json_object_object_get_ex(config, "retentionDays", &days) &&
	    json_object_object_get_ex(days, class_name, &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
		return json_object_get_int64(v);
	return POLICY_DEFAULT_RETENTION_DAYS;
}

bool policy_key(const char *class_name, int64_t ts_ms, int64_t event_id, char out[POLICY_KEY_MAX])
{
	if (!known_class(class_name) || ts_ms < 0 || ts_ms > 9999999999999LL || event_id < 0)
		return false;
	/* Fixed-width numbers: the keys of a class list in time order. */
	snprintf(out, POLICY_KEY_MAX, "rec/%s/%013" PRId64 "/%020" PRId64, class_name, ts_ms,
		 event_id);
	return true;
}

bool policy_key_parse(const char *key, char cls[16], int64_t *ts_ms)
{
	if (strncmp(key, "rec/", 4) != 0)
		return false;
	const char *c = key + 4, *slash = strchr(c, '/');
	if (!slash || slash == c || (size_t)(slash - c) >= 16)
		return false;
	memcpy(cls, c, (size_t)(slash - c));
	cls[slash - c] = '\0';
	const char *t = slash + 1;
	int64_t v = 0;
	int digits = 0;
	for (; *t >= '0' && *t <= '9'; t++, digits++)
		v = v * 10 + (*t - '0');
	if (digits != 13 || *t != '/' || !known_class(cls))
		return false;
	*ts_ms = v;
	return true;
}

bool policy_expired(json_object *config, const char *key, int64_t now_ms)
{
	char cls[16];
	int64_t ts;
	if (!policy_key_parse(key, cls, &ts))
		return false;
	int64_t days = policy_retention_days(config, cls);
	return days > 0 && ts < now_ms - days * ISOTIME_DAY_MS;
}

bool policy_parse_hm(const char *s, int *minutes)
{
	if (!s || strlen(s) != 5 || s[2] != ':')
		return false;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return false;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	return true;
}

bool policy_parse_offset(const char *s, int *minutes)
{
	if (!s)
		return false;
	if (strcmp(s, "Z") == 0 || strcmp(s, "") == 0) {
		*minutes = 0;
		return true;
	}
	int hm;
	if ((s[0] != '+' && s[0] != '-') || !policy_parse_hm(s + 1, &hm) || hm > 14 * 60)
		return false;
	*minutes = s[0] == '-' ? -hm : hm;
	return true;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

bool policy_login_allowed(json_object *config, int64_t ts_ms, char local[6])
{
	json_object *w = NULL;
	int start, end, off = 0;
	if (!json_object_object_get_ex(config, "allowedLoginHours", &w) ||
	    !policy_parse_hm(str_of(w, "start"), &start) ||
	    !policy_parse_hm(str_of(w, "end"), &end) || start == end)
		return true;
	const char *o = str_of(w, "utcOffset");
	if (o && !policy_parse_offset(o, &off))
		return true; /* the schema refuses it; an unreadable rule flags nothing */
	int64_t lms = ts_ms + (int64_t)off * 60000;
	int64_t mod = lms % ISOTIME_DAY_MS;
	if (mod < 0)
		mod += ISOTIME_DAY_MS;
	int at = (int)(mod / 60000);
	bool ok = start < end ? (at >= start && at < end) : (at >= start || at < end);
	if (!ok)
		snprintf(local, 6, "%02d:%02d", at / 60 % 24, at % 60);
	return ok;
}

int64_t policy_max_session_ms(json_object *config)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(config, "maxSessionHours", &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return 0;
	double h = json_object_get_double(v);
	return h > 0 && h <= 8760 ? (int64_t)(h * 3600000.0) : 0;
}

bool policy_session_too_long(json_object *config, int64_t start_ms, int64_t end_ms)
{
	int64_t max = policy_max_session_ms(config);
	return max > 0 && end_ms - start_ms > max;
}

int64_t policy_id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (int64_t)(h & INT64_MAX);
}

static const char *first_str(json_object *data, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = str_of(data, keys[i]);
		if (s && *s)
			return s;
	}
	return NULL;
}

const char *policy_actor(json_object *data)
{
	static const char *const keys[] = {"user", "userId", "user_id", "username", "email"};
	return first_str(data, keys, sizeof keys / sizeof keys[0]);
}

const char *policy_session(json_object *data)
{
	static const char *const keys[] = {"id", "sessionId", "session_id"};
	return first_str(data, keys, sizeof keys / sizeof keys[0]);
}

bool policy_session_key_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 127)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

static json_object *time_or_null(int64_t ms)
{
	char buf[25];
	if (ms < 0)
		return NULL;
	isotime_format(ms, buf);
	return json_object_new_string(buf);
}

static json_object *section(void)
{
	json_object *s = json_object_new_object();
	json_object_object_add(s, "total", json_object_new_int64(0));
	json_object_object_add(s, "records", json_object_new_array());
	json_object_object_add(s, "truncated", json_object_new_boolean(0));
	return s;
}

json_object *policy_report_new(int64_t from_ms, int64_t to_ms)
{
	json_object *r = json_object_new_object(), *a = section(), *v = section();
	json_object_object_add(r, "from", time_or_null(from_ms));
	json_object_object_add(r, "to", time_or_null(to_ms));
	json_object_object_add(a, "byType", json_object_new_object());
	json_object_object_add(a, "byUser", json_object_new_object());
	json_object_object_add(v, "byRule", json_object_new_object());
	json_object_object_add(r, "access", a);
	json_object_object_add(r, "violations", v);
	return r;
}

static void count(json_object *obj, const char *field, const char *name)
{
	json_object *m = NULL, *n = NULL;
	json_object_object_get_ex(obj, field, &m);
	if (json_object_object_get_ex(m, name, &n))
		json_object_set_int64(n, json_object_get_int64(n) + 1);
	else
		json_object_object_add(m, name, json_object_new_int64(1));
}

void policy_report_add(json_object *report, json_object *rec, int list_max)
{
	const char *kind = str_of(rec, "kind");
	bool violation = kind && strcmp(kind, "violation") == 0;
	json_object *s = NULL, *total = NULL, *list = NULL;
	json_object_object_get_ex(report, violation ? "violations" : "access", &s);
	json_object_object_get_ex(s, "total", &total);
	json_object_set_int64(total, json_object_get_int64(total) + 1);
	if (violation) {
		const char *rule = str_of(rec, "rule");
		count(s, "byRule", rule ? rule : "unknown");
	} else {
		const char *type = str_of(rec, "type"), *user = str_of(rec, "user");
		count(s, "byType", type ? type : "unknown");
		count(s, "byUser", user ? user : "(none)");
	}
	json_object_object_get_ex(s, "records", &list);
	if (json_object_array_length(list) < (size_t)list_max)
		json_object_array_add(list, json_object_get(rec));
	else
		json_object_object_add(s, "truncated", json_object_new_boolean(1));
}
