/*
 * notify: the pieces every shipped notifier (Slack, Discord, Teams,
 * PagerDuty) shares, as pure functions so they are tested without a daemon:
 * {{field}} templates over an event, the escaping each format needs, a
 * messages-per-hour limiter, and the retry decision after an HTTP answer.
 */
#ifndef SS_PLUGINS_NOTIFY_H
#define SS_PLUGINS_NOTIFY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Escapes one substituted value into out (appending); returns false when
 * out would exceed its bound. NULL escape = the value as it is.
 */
struct notify_buf;
typedef bool (*notify_escape_fn)(struct notify_buf *out, const char *s, size_t n);

/*
 * Expands tmpl: "{{name}}" becomes the event's field name ("{{event}}" the
 * event type, "{{id}}" data.id...; a dotted name walks objects, e.g.
 * {{user.email}}); a missing field becomes "" and a non-string field its JSON
 * text. Each substituted value goes through esc; the template's own text
 * does not. Returns a malloc'd string of at most max bytes (truncated at a
 * UTF-8 boundary), or NULL on allocation failure.
 */
char *notify_expand(const char *tmpl, const char *event, json_object *data, notify_escape_fn esc,
		    size_t max);

/* s escaped by esc, at most max bytes (cut at a UTF-8 boundary); malloc'd, NULL on failure. */
char *notify_escaped(const char *s, notify_escape_fn esc, size_t max);

/* Slack mrkdwn: & < > become &amp; &lt; &gt; (Slack's documented three). */
bool notify_escape_mrkdwn(struct notify_buf *out, const char *s, size_t n);

/* Truncates s in place to at most max bytes without splitting a UTF-8 sequence. */
void notify_truncate_utf8(char *s, size_t max);

/*
 * A fixed one-hour window: at most per_hour messages from the window's
 * start; the excess is dropped and counted. per_hour <= 0 = no limit.
 */
struct notify_rate {
	bool open; /* a window has started */
	int64_t window_start_s;
	int64_t sent;	 /* in the current window */
	int64_t dropped; /* since the plugin started */
};
bool notify_rate_allow(struct notify_rate *r, int64_t now_s, int64_t per_hour);

/*
 * After attempt number attempt (1-based) answered status: how long to wait
 * before the next attempt, in ms, or -1 for no retry. Retried: 429 and 5xx
 * (and status 0, a transport failure), while attempt < max_attempts and the
 * wait fits in budget_ms. The wait is retry_after_ms when the service said
 * (>= 0), else base_ms doubled per attempt.
 */
int64_t notify_retry_delay_ms(int status, int attempt, int max_attempts, int64_t retry_after_ms,
			      int64_t base_ms, int64_t budget_ms);

/*
 * A Retry-After value in ms: delta-seconds, a decimal number of seconds
 * (Discord's retry_after is a float), or -1 when absent/unparseable. An
 * HTTP-date is not honoured (-1: the caller backs off on its own).
 */
int64_t notify_retry_after_ms(const char *value);

/* t (seconds) as ISO 8601 UTC with milliseconds ("2026-12-01T18:00:00.000Z"), isotime's. */
void notify_iso8601(int64_t t, char out[25]);

/* The events the notifiers know: the config toggle that enables each, its default wording. */
struct notify_kind {
	const char *event;  /* "session.created" */
	const char *toggle; /* "notifyOnSessionCreated" */
	const char *title;  /* plain text */
	const char *text;   /* a template, *x* marking the subject */
	bool on_by_default;
	int32_t color; /* 0xRRGGBB: Discord's embed colour, Teams' themeColor */
};
/* The kind of event, or NULL for an event no notifier posts. */
const struct notify_kind *notify_kind_of(const char *event);
/* Whether config enables event: its toggle when a boolean, else the kind's default. */
bool notify_wants(json_object *config, const char *event);

/* config[key] when a non-empty string, else NULL (borrowed). */
const char *notify_cfg_str(json_object *config, const char *key);
/* config[key] when a boolean, else def. */
bool notify_cfg_bool(json_object *config, const char *key, bool def);

/*
 * tmpl without its '*' marks (malloc'd, NULL on failure): the default
 * wording of a kind as plain text, for services without markdown
 * (PagerDuty's summary). Only the template loses them, never a value.
 */
char *notify_unstar(const char *tmpl);
/* Adds to o / appends to arr; on failure the value is put and false returned (NULL: false). */
bool notify_add_str(json_object *o, const char *key, const char *s);
bool notify_add_obj(json_object *o, const char *key, json_object *v);
bool notify_push(json_object *arr, json_object *v);

/*
 * The includeDetails list of every notifier: field(key, value) for each
 * scalar member of data in order (a string as it is, a number or boolean
 * its JSON text; objects and arrays left out), at most max. A new array, or
 * NULL when field fails (returns NULL) or out of memory.
 */
typedef json_object *(*notify_field_fn)(const char *key, const char *value);
json_object *notify_detail_fields(json_object *data, int max, notify_field_fn field);

/*
 * The wait a 429/503 answer asks for, in ms: a JSON body's "retry_after"
 * (seconds, a float: Discord's) when present, else the Retry-After header's,
 * else -1.
 */
int64_t notify_answer_retry_after_ms(const char *body, const char *retry_after_header);

#endif
