/*
 * The SDK of streamspace/plugin.h, implemented inside the host executable.
 * The executable is linked with --export-dynamic, so a plugin's undefined
 * ss_* symbols resolve here when it is dlopen'ed. Every call arrives on the
 * host's one thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "host.h"
#include "msg.h"
#include "names.h"
#include "repair.h"
#include "xmalloc.h"

/* Nesting allowed inside a log record's fields: the frame allows 32 in all. */
#define FIELDS_DEPTH_MAX 24

static struct ss_plugin *the_plugin;
static const struct ss_event *current_event;

struct ss_plugin *sdk_plugin_new(const struct ss_plugin_def *def, struct channel *ch,
				 json_object *config)
{
	struct ss_plugin *p = xcalloc(1, sizeof *p);

	p->def = def;
	p->ch = ch;
	p->phase = PHASE_LOADING;
	p->config = config != NULL ? config : json_object_new_object();
	p->subs = subs_new();
	p->log_line_max = LOG_LINE_MAX_DEFAULT;
	p->next_id = 1;
	the_plugin = p;
	return p;
}

void sdk_set_current_event(const struct ss_event *ev)
{
	current_event = ev;
}

void sdk_set_config(struct ss_plugin *p, json_object *config)
{
	json_object_put(p->config);
	p->config = config;
}

int host_send(struct ss_plugin *p, json_object *msg)
{
	if (channel_send(p->ch, msg) == 0)
		return 0;
	if (errno == EMSGSIZE)
		return -1;
	die(HOST_EXIT_PROTOCOL, "daemon went away: %s", strerror(errno));
}

bool sdk_take_pending(struct ss_plugin *p, int64_t id, char **pattern)
{
	for (size_t i = 0; i < p->n_pending; i++) {
		if (p->pending[i].id != id)
			continue;
		*pattern = p->pending[i].pattern;
		p->pending[i] = p->pending[--p->n_pending];
		return true;
	}
	return false;
}

bool sdk_is_plugin(const struct ss_plugin *p)
{
	return p != NULL && p == the_plugin;
}

static bool valid_plugin(const ss_plugin *p)
{
	return sdk_is_plugin(p);
}

static bool valid_event(const ss_event *ev)
{
	return ev != NULL && ev == current_event;
}

/* ---- identity and configuration ---- */

const char *ss_plugin_name(const ss_plugin *p)
{
	return valid_plugin(p) ? p->def->name : NULL;
}

const char *ss_plugin_version(const ss_plugin *p)
{
	return valid_plugin(p) ? p->def->version : NULL;
}

json_object *ss_config(const ss_plugin *p)
{
	static json_object *empty;

	if (valid_plugin(p))
		return p->config;
	/* The header promises never NULL; a bad handle gets an empty object. */
	if (empty == NULL)
		empty = json_object_new_object();
	return empty;
}

/* The member key of the configuration if it has the given type, else NULL. */
static json_object *config_member(const ss_plugin *p, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!valid_plugin(p) || key == NULL)
		return NULL;
	if (!json_object_object_get_ex(p->config, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *ss_config_str(const ss_plugin *p, const char *key, const char *def)
{
	json_object *v = config_member(p, key, json_type_string);
	return v != NULL ? json_object_get_string(v) : def;
}

int64_t ss_config_int(const ss_plugin *p, const char *key, int64_t def)
{
	json_object *v = config_member(p, key, json_type_int);
	return v != NULL ? json_object_get_int64(v) : def;
}

int ss_config_bool(const ss_plugin *p, const char *key, int def)
{
	json_object *v = config_member(p, key, json_type_boolean);
	return v != NULL ? json_object_get_boolean(v) : def;
}

void ss_set_userdata(ss_plugin *p, void *data)
{
	if (valid_plugin(p))
		p->userdata = data;
}

void *ss_userdata(const ss_plugin *p)
{
	return valid_plugin(p) ? p->userdata : NULL;
}

/* ---- events ---- */

/*
 * During on_load a subscription is only recorded: ready carries them all.
 * Later it is also announced with a subscribe request, and taken back if the
 * daemon refuses it (see serve.c, replies).
 */
int ss_subscribe(ss_plugin *p, const char *pattern, ss_event_fn fn)
{
	bool known;
	int r;

	if (!valid_plugin(p) || p->phase == PHASE_UNLOADING)
		return -1;
	known = subs_has_pattern(p->subs, pattern);
	r = subs_add(p->subs, pattern, fn);
	if (r < 0)
		return -1;
	if (p->phase != PHASE_SERVING || known)
		return 0;

	json_object *m = msg_new_request(MSG_SUBSCRIBE, p->next_id);
	msg_add_str(m, "pattern", pattern);
	if (host_send(p, m) < 0) {
		json_object_put(m);
		subs_remove(p->subs, pattern);
		return -1;
	}
	json_object_put(m);
	if (p->n_pending == p->cap_pending) {
		p->cap_pending = p->cap_pending ? p->cap_pending * 2 : 4;
		p->pending = xrealloc(p->pending, p->cap_pending * sizeof *p->pending);
	}
	p->pending[p->n_pending].id = p->next_id++;
	p->pending[p->n_pending].pattern = xstrdup(pattern);
	p->n_pending++;
	return 0;
}

const char *ss_event_type(const ss_event *ev)
{
	return valid_event(ev) ? ev->type : NULL;
}

int64_t ss_event_id(const ss_event *ev)
{
	return valid_event(ev) ? ev->id : -1;
}

int64_t ss_event_ts(const ss_event *ev)
{
	return valid_event(ev) ? ev->ts : 0;
}

json_object *ss_event_data(const ss_event *ev)
{
	return valid_event(ev) ? ev->data : NULL;
}

const char *ss_event_str(const ss_event *ev, const char *key)
{
	json_object *v = NULL;

	if (!valid_event(ev) || key == NULL)
		return NULL;
	if (!json_object_object_get_ex(ev->data, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- logging ---- */

static const char *level_name(enum ss_log_level level)
{
	switch (level) {
	case SS_DEBUG:
		return "debug";
	case SS_INFO:
		return "info";
	case SS_WARN:
		return "warn";
	case SS_ERROR:
		return "error";
	}
	return "info";
}

/*
 * Sends one log message. msg is cut to log_line_max bytes and repaired to
 * valid UTF-8; fields, if any, are copied the same way. When the whole
 * message would not fit a frame, it goes without its fields.
 */
static void send_log(ss_plugin *p, enum ss_log_level level, const char *msg, json_object *fields)
{
	char *line = utf8_sanitize(msg, p->log_line_max);
	json_object *m = msg_new(MSG_LOG);

	msg_add_str(m, "level", level_name(level));
	msg_add_str(m, "msg", line);
	free(line);
	if (fields != NULL && json_object_is_type(fields, json_type_object))
		json_object_object_add(m, "fields", utf8_json_sanitize(fields, FIELDS_DEPTH_MAX));
	if (host_send(p, m) < 0 && fields != NULL) {
		json_object_object_del(m, "fields");
		msg_add_bool(m, "fields_dropped", true);
		if (host_send(p, m) < 0)
			diag("log line dropped: over max_frame");
	}
	json_object_put(m);
}

/* plugin.h declares ss_logv without a format attribute; adding it here lets fmt pass on. */
__attribute__((format(printf, 3, 0))) void ss_logv(ss_plugin *p, enum ss_log_level level,
						   const char *fmt, va_list ap);

void ss_logv(ss_plugin *p, enum ss_log_level level, const char *fmt, va_list ap)
{
	char *buf;
	int n;

	if (!valid_plugin(p) || fmt == NULL) {
		diag("ss_log called with an invalid plugin handle");
		return;
	}
	buf = xmalloc(p->log_line_max + 1);
	n = vsnprintf(buf, p->log_line_max + 1, fmt, ap);
	if (n < 0)
		snprintf(buf, p->log_line_max + 1, "(unformattable log line)");
	send_log(p, level, buf, NULL);
	free(buf);
}

void ss_log(ss_plugin *p, enum ss_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ss_logv(p, level, fmt, ap);
	va_end(ap);
}

void ss_log_fields(ss_plugin *p, enum ss_log_level level, json_object *fields, const char *msg)
{
	if (!valid_plugin(p) || msg == NULL) {
		diag("ss_log_fields called with an invalid plugin handle");
		return;
	}
	send_log(p, level, msg, fields);
}
