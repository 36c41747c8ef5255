#include "notify.h"

#include "isotime.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct notify_buf {
	char *s;
	size_t len, cap, max;
	bool full; /* max reached: the rest is cut */
};

static bool buf_put(struct notify_buf *b, const char *s, size_t n)
{
	if (b->full)
		return false;
	if (b->len + n > b->max) {
		n = b->max - b->len;
		/* Cut before a whole sequence: s[n], the first byte left out, starts one. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		b->full = true;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return false;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return !b->full;
}

bool notify_escape_mrkdwn(struct notify_buf *out, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&'	? "&amp;"
				  : s[i] == '<' ? "&lt;"
				  : s[i] == '>' ? "&gt;"
						: NULL;
		if (!rep)
			continue;
		if (!buf_put(out, s + from, i - from) || !buf_put(out, rep, strlen(rep)))
			return false;
		from = i + 1;
	}
	return buf_put(out, s + from, n - from);
}

void notify_truncate_utf8(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	/* Back off continuation bytes (10xxxxxx) so no sequence is split. */
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

/* data's field at a dotted path, or NULL. */
static json_object *field_at(json_object *data, const char *name, size_t n)
{
	json_object *cur = data;
	if (n == 0)
		return NULL;
	while (cur && n > 0) {
		const char *dot = memchr(name, '.', n);
		size_t part = dot ? (size_t)(dot - name) : n;
		char key[128];
		if (part == 0 || part >= sizeof key || !json_object_is_type(cur, json_type_object))
			return NULL;
		memcpy(key, name, part);
		key[part] = '\0';
		if (!json_object_object_get_ex(cur, key, &cur))
			return NULL;
		name += part + (dot ? 1 : 0);
		n -= part + (dot ? 1 : 0);
	}
	return cur;
}

static bool put_value(struct notify_buf *b, const char *v, notify_escape_fn esc)
{
	return esc ? esc(b, v, strlen(v)) : buf_put(b, v, strlen(v));
}

char *notify_expand(const char *tmpl, const char *event, json_object *data, notify_escape_fn esc,
		    size_t max)
{
	struct notify_buf b = {.max = max};
	const char *p = tmpl;

	if (!buf_put(&b, "", 0) && !b.full)
		return NULL;
	while (*p && !b.full) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (!close) {
			buf_put(&b, p, strlen(p));
			break;
		}
		buf_put(&b, p, (size_t)(open - p));
		const char *name = open + 2;
		while (*name == ' ')
			name++;
		size_t n = (size_t)(close - name);
		while (n > 0 && name[n - 1] == ' ')
			n--;
		if (n == 5 && memcmp(name, "event", 5) == 0) {
			put_value(&b, event ? event : "", esc);
		} else {
			json_object *v = field_at(data, name, n);
			if (v && json_object_is_type(v, json_type_string))
				put_value(&b, json_object_get_string(v), esc);
			else if (v)
				put_value(&b,
					  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
					  esc);
		}
		p = close + 2;
	}
	if (!b.s)
		return NULL;
	notify_truncate_utf8(b.s, max);
	return b.s;
}

char *notify_escaped(const char *s, notify_escape_fn esc, size_t max)
{
	struct notify_buf b = {.max = max};
	buf_put(&b, "", 0);
	if (b.s)
		put_value(&b, s, esc);
	if (b.s)
		notify_truncate_utf8(b.s, max);
	return b.s;
}

bool notify_rate_allow(struct notify_rate *r, int64_t now_s, int64_t per_hour)
{
	if (per_hour <= 0)
		return true;
	if (!r->open || now_s - r->window_start_s >= 3600 || now_s < r->window_start_s) {
		r->open = true;
		r->window_start_s = now_s;
		r->sent = 0;
	}
	if (r->sent >= per_hour) {
		r->dropped++;
		return false;
	}
	r->sent++;
	return true;
}

int64_t notify_retry_delay_ms(int status, int attempt, int max_attempts, int64_t retry_after_ms,
			      int64_t base_ms, int64_t budget_ms)
{
	bool retryable = status == 0 || status == 429 || (status >= 500 && status <= 599);
	if (!retryable || attempt >= max_attempts)
		return -1;
	int64_t wait = retry_after_ms;
	if (wait < 0) {
		wait = base_ms;
		for (int i = 1; i < attempt && wait < budget_ms; i++)
			wait *= 2;
	}
	return wait > budget_ms ? -1 : wait;
}

int64_t notify_retry_after_ms(const char *value)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	char *end;
	double secs = strtod(value, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || !isfinite(secs) || secs < 0 || secs > 86400.0)
		return -1;
	return (int64_t)ceil(secs * 1000.0);
}

/*
 * The default wording of each event (mrkdwn-like: *x* is bold in Slack,
 * italic in Discord); a config's templates replace the text.
 */
static const struct notify_kind kinds[] = {
    {"session.created", "notifyOnSessionCreated", "Session created",
     "Session *{{id}}* was created for {{user}}.", true, 0x2ECC71},
    {"session.started", "notifyOnSessionStarted", "Session started",
     "Session *{{id}}* of {{user}} started.", false, 0x3498DB},
    {"session.hibernated", "notifyOnSessionHibernated", "Session hibernated",
     "Session *{{id}}* of {{user}} was hibernated.", true, 0x95A5A6},
    {"session.woken", "notifyOnSessionWoken", "Session woken",
     "Session *{{id}}* of {{user}} woke up.", false, 0x1ABC9C},
    {"session.stopped", "notifyOnSessionStopped", "Session stopped",
     "Session *{{id}}* of {{user}} stopped.", false, 0xE67E22},
    {"session.deleted", "notifyOnSessionDeleted", "Session deleted",
     "Session *{{id}}* of {{user}} was deleted.", false, 0xE74C3C},
    {"user.created", "notifyOnUserCreated", "User created", "User *{{id}}* was created.", true,
     0x9B59B6},
    {"user.updated", "notifyOnUserUpdated", "User updated", "User *{{id}}* was updated.", false,
     0x5865F2},
    {"user.deleted", "notifyOnUserDeleted", "User deleted", "User *{{id}}* was deleted.", false,
     0x992D22},
};

const struct notify_kind *notify_kind_of(const char *event)
{
	for (size_t i = 0; event && i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kinds[i].event, event) == 0)
			return &kinds[i];
	return NULL;
}

bool notify_wants(json_object *config, const char *event)
{
	const struct notify_kind *k = notify_kind_of(event);
	return k && notify_cfg_bool(config, k->toggle, k->on_by_default);
}

const char *notify_cfg_str(json_object *config, const char *key)
{
	json_object *v;
	if (json_object_object_get_ex(config, key, &v) &&
	    json_object_is_type(v, json_type_string) && *json_object_get_string(v))
		return json_object_get_string(v);
	return NULL;
}

bool notify_cfg_bool(json_object *config, const char *key, bool def)
{
	json_object *v;
	if (json_object_object_get_ex(config, key, &v) && json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return def;
}

char *notify_unstar(const char *tmpl)
{
	char *out = malloc(strlen(tmpl) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *tmpl; tmpl++)
		if (*tmpl != '*')
			*o++ = *tmpl;
	*o = '\0';
	return out;
}

bool notify_add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = s ? json_object_new_string(s) : NULL;
	if (!v || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

bool notify_add_obj(json_object *o, const char *key, json_object *v)
{
	if (!v || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

bool notify_push(json_object *arr, json_object *v)
{
	if (!v || json_object_array_add(arr, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

void notify_iso8601(int64_t t, char out[25])
{
	isotime_format(t * 1000, out);
}

json_object *notify_detail_fields(json_object *data, int max, notify_field_fn field)
{
	json_object *fields = json_object_new_array();
	int n = 0;
	if (!fields || !json_object_is_type(data, json_type_object))
		return fields;
	json_object_object_foreach(data, key, val)
	{
		if (n == max)
			break;
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			continue;
		const char *v = json_object_is_type(val, json_type_string)
				    ? json_object_get_string(val)
				    : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
		if (!notify_push(fields, field(key, v))) {
			json_object_put(fields);
			return NULL;
		}
		n++;
	}
	return fields;
}

int64_t notify_answer_retry_after_ms(const char *body, const char *retry_after_header)
{
	json_object *o = body && *body == '{' ? json_tokener_parse(body) : NULL;
	json_object *v;
	int64_t ms = -1;
	if (o && json_object_object_get_ex(o, "retry_after", &v) &&
	    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
		double secs = json_object_get_double(v);
		if (isfinite(secs) && secs >= 0 && secs <= 86400.0)
			ms = (int64_t)ceil(secs * 1000.0);
	}
	json_object_put(o);
	return ms >= 0 ? ms : notify_retry_after_ms(retry_after_header);
}
