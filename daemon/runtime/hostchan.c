/*
 * The protocol conversation with one plugin host (PROTOCOL.md): the
 * handshake, the table of what each state allows, replies, logs,
 * subscriptions with their permissions, event flow and the deadlines of a
 * serving host. Anything the host gets wrong ends it here, with the cause.
 */
#define _GNU_SOURCE
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "frame.h"
#include "hostlog.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "supervisor_int.h"
#include "xmalloc.h"

static void host_chan_event(struct bufferevent *bev, short what, void *arg);
static void host_chan_read(struct bufferevent *bev, void *arg);

/* ---- sending ---- */

void host_send(struct plugin *p, json_object *m)
{
	if (p->chan != NULL &&
	    frame_append_obj(bufferevent_get_output(p->chan), m, p->sup->o.max_frame) < 0)
		log_error(p->name, "message over the frame limit not sent");
	json_object_put(m);
}

void host_bus_ready(struct bus_sub *sub, void *arg)
{
	struct plugin *p = arg;
	(void)sub;
	if (p->kick != NULL)
		event_active(p->kick, EV_WRITE, 0);
}

/* ---- host teardown ---- */

void host_close_io(struct plugin *p)
{
	if (p->chan != NULL) {
		bufferevent_free(p->chan);
		p->chan = NULL;
	}
	if (p->tick != NULL)
		evtimer_del(p->tick);
	if (p->deadline != NULL)
		evtimer_del(p->deadline);
}

void host_kill(struct plugin *p, enum exit_cause cause, const char *fmt, ...)
{
	va_list ap;
	char *reason = NULL;

	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (p->pending_cause == CAUSE_NONE) {
		p->pending_cause = cause;
		free(p->pending_reason);
		p->pending_reason = reason ? reason : xstrdup(exit_cause_name(cause));
		reason = NULL;
		log_warn(p->name, "killing host (pid %d): %s", (int)p->pid, p->pending_reason);
	}
	free(reason);
	host_close_io(p);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
}

/* Once the reject has been written, close our end: the host reads it, then EOF. */
static void chan_drained(struct bufferevent *bev, void *arg)
{
	struct plugin *p = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 && p->chan != NULL) {
		bufferevent_free(p->chan);
		p->chan = NULL;
	}
}

/*
 * Turns a host away with reject {error} (PROTOCOL.md, handshake) and lets it
 * read why before the channel closes; a host that lingers is killed at the
 * stop deadline. The cause is decided now, whatever the host's exit says.
 */
static void plugin_reject(struct plugin *p, enum exit_cause cause, const char *code,
			  const char *message)
{
	struct timeval tv = {p->sup->o.stop_timeout_ms / 1000,
			     (p->sup->o.stop_timeout_ms % 1000) * 1000};
	json_object *r = msg_new(MSG_REJECT);

	json_object_object_add(r, "error", msg_error_obj(code, message));
	host_send(p, r);
	p->pending_cause = cause;
	free(p->pending_reason);
	p->pending_reason = xstrdup(message);
	log_warn(p->name, "rejecting host (pid %d): %s", (int)p->pid, message);
	if (p->chan != NULL) {
		bufferevent_disable(p->chan, EV_READ);
		bufferevent_setcb(p->chan, NULL, chan_drained, host_chan_event, p);
		chan_drained(p->chan, p);
	}
	evtimer_del(p->deadline);
	evtimer_add(p->deadline, &tv);
}

/* ---- handshake and serving ---- */

/* The permission a subscription pattern needs, or NULL. */
static const char *pattern_permission(const char *pattern)
{
	if (strncmp(pattern, "session.", 8) == 0)
		return "read:sessions";
	if (strncmp(pattern, "user.", 5) == 0)
		return "read:users";
	return NULL;
}

static bool has_permission(struct plugin *p, const char *perm)
{
	size_t n = json_object_array_length(p->permissions);
	for (size_t i = 0; i < n; i++) {
		const char *s =
		    json_object_get_string(json_object_array_get_idx(p->permissions, i));
		if (s != NULL && (strcmp(s, perm) == 0 || strcmp(s, "admin") == 0))
			return true;
	}
	return false;
}

/* 0 when the plugin may subscribe to pattern, else -1 with why. */
static int check_pattern(struct plugin *p, const char *pattern, char *why, size_t len)
{
	const char *need;

	if (!name_pattern_valid(pattern)) {
		snprintf(why, len, "invalid subscription pattern \"%.128s\"", pattern);
		return -1;
	}
	if (strcmp(pattern, "*") == 0) {
		if (has_permission(p, "read:sessions") && has_permission(p, "read:users"))
			return 0;
		snprintf(why, len, "subscribing to \"*\" needs read:sessions and read:users");
		return -1;
	}
	need = pattern_permission(pattern);
	if (need != NULL && !has_permission(p, need)) {
		snprintf(why, len, "subscribing to \"%.128s\" needs %s", pattern, need);
		return -1;
	}
	return 0;
}

static void on_hello(struct plugin *p, json_object *m)
{
	json_object *plugin = msg_get_obj(m, "plugin"), *sandbox = msg_get_obj(m, "sandbox");
	json_object *init, *limits;
	const char *name = msg_get_str(plugin, "name"), *version = msg_get_str(plugin, "version");
	int64_t proto = 0, abi = 0;

	if (!msg_get_int(m, "protocol", &proto) || !msg_get_int(m, "sdk_abi", &abi) ||
	    name == NULL || version == NULL) {
		host_kill(p, CAUSE_PROTOCOL,
			  "hello without protocol, sdk_abi or plugin name/version");
		return;
	}
	if (proto < SS_PROTOCOL_MIN || proto > SS_PROTOCOL_MAX) {
		char msg[160];
		snprintf(msg, sizeof msg,
			 "host speaks protocol %" PRId64 ", this daemon speaks %d to %d", proto,
			 SS_PROTOCOL_MIN, SS_PROTOCOL_MAX);
		plugin_reject(p, CAUSE_LOAD, ERR_VERSION, msg);
		return;
	}
	if (strcmp(name, p->name) != 0) {
		char msg[200];
		snprintf(msg, sizeof msg, "the .so declares plugin \"%.64s\", expected \"%s\"",
			 name, p->name);
		plugin_reject(p, CAUSE_LOAD, ERR_LOAD, msg);
		return;
	}
	json_object_put(p->sandbox);
	p->sandbox = sandbox ? json_object_get(sandbox) : json_object_new_object();
	if (p->sup->o.strict) {
		json_object *missing = msg_get_array(sandbox, "missing");
		if (sandbox == NULL || (missing != NULL && json_object_array_length(missing) > 0)) {
			char msg[512];
			snprintf(msg, sizeof msg, "strict sandbox: layers missing: %.400s",
				 missing ? json_object_to_json_string(missing) : "unknown");
			plugin_reject(p, CAUSE_SETUP, "sandbox", msg);
			return;
		}
	}
	free(p->version);
	p->version = xstrdup(version);

	init = msg_new(MSG_INIT);
	msg_add_int(init, "protocol", proto);
	json_object_object_add(init, "config", json_object_get(p->config));
	json_object_object_add(init, "permissions", json_object_get(p->permissions));
	limits = json_object_new_object();
	msg_add_int(limits, "max_frame", (int64_t)p->sup->o.max_frame);
	msg_add_int(limits, "event_timeout_ms", p->event_timeout_ms);
	msg_add_int(limits, "ping_interval_ms", p->sup->o.ping_interval_ms);
	msg_add_int(limits, "log_line_max", HOSTLOG_LINE_MAX);
	json_object_object_add(init, "limits", limits);
	host_send(p, init);
	p->hs = HS_READY;
}

static void on_ready(struct plugin *p, json_object *m)
{
	json_object *subs = msg_get_array(m, "subscriptions");
	const char **pats;
	size_t n;
	char why[256];

	if (subs == NULL) {
		host_kill(p, CAUSE_PROTOCOL, "ready without subscriptions");
		return;
	}
	n = json_object_array_length(subs);
	if (n > 64) {
		host_kill(p, CAUSE_PROTOCOL, "more than 64 subscriptions");
		return;
	}
	pats = xcalloc(n ? n : 1, sizeof *pats);
	for (size_t i = 0; i < n; i++) {
		pats[i] = json_object_get_string(json_object_array_get_idx(subs, i));
		if (!json_object_is_type(json_object_array_get_idx(subs, i), json_type_string)) {
			free(pats);
			host_kill(p, CAUSE_PROTOCOL, "subscription is not a string");
			return;
		}
		if (check_pattern(p, pats[i], why, sizeof why) < 0) {
			free(pats);
			host_kill(p, CAUSE_LOAD, "%s", why);
			return;
		}
	}
	bus_sub_set_patterns(p->sub, pats, n);
	free(pats);
	json_object_put(p->subscriptions);
	p->subscriptions = json_object_get(subs);

	evtimer_del(p->deadline);
	p->hs = HS_SERVING;
	p->ready_ms = bus_now_ms();
	p->last_ping_ms = p->ready_ms;
	plugin_set_state(p, ST_RUNNING);
	log_info(p->name, "ready: pid %d, version %s, start %" PRId64 " ms", (int)p->pid,
		 p->version, p->ready_ms - p->started_ms);
	bus_sub_attach(p->sub);
	struct timeval tv = {0, TICK_MS * 1000};
	evtimer_add(p->tick, &tv);
}

/* A host's log record: "<level> <plugin>: <msg> key=value ...". */
static void on_log(struct plugin *p, json_object *m)
{
	const char *lvl = msg_get_str(m, "level"), *text = msg_get_str(m, "msg");
	json_object *fields = NULL;
	int level;
	char *line = NULL;
	size_t size = 0;
	FILE *f;

	if (lvl == NULL || text == NULL || (level = log_level_parse(lvl)) < 0 ||
	    (json_object_object_get_ex(m, "fields", &fields) &&
	     !json_object_is_type(fields, json_type_object))) {
		host_kill(p, CAUSE_PROTOCOL, "log message without a valid level or msg");
		return;
	}
	if ((enum log_level)level < log_get_level() || !hostlog_allow(p->out))
		return;
	f = open_memstream(&line, &size);
	if (f == NULL)
		return;
	fprintf(f, "%.*s", HOSTLOG_LINE_MAX, text);
	if (fields != NULL) {
		struct json_object_iter it;
		json_object_object_foreachC(fields, it)
		{
			if (json_object_is_type(it.val, json_type_string))
				fprintf(f, " %s=%s", it.key, json_object_get_string(it.val));
			else
				fprintf(
				    f, " %s=%s", it.key,
				    json_object_to_json_string_ext(it.val, JSON_C_TO_STRING_PLAIN));
		}
	}
	fclose(f);
	if (size > HOSTLOG_LINE_MAX) {
		line[HOSTLOG_LINE_MAX] = '\0';
		hostlog_count_truncated(p->out);
	}
	hostlog_write(p->out, (enum log_level)level, line);
	free(line);
}

static void on_reply(struct plugin *p, json_object *m)
{
	int64_t id;
	json_object *error = msg_get_obj(m, "error");
	int r;

	if (!msg_get_int(m, "id", &id)) {
		host_kill(p, CAUSE_PROTOCOL, "reply without id");
		return;
	}
	if (id == p->config_id && id != 0) {
		p->config_id = 0;
		free(p->config_error);
		p->config_error = NULL;
		if (error == NULL) {
			plugin_config_answer(p, true, false, NULL);
			return;
		}
		const char *code = msg_get_str(error, "code");
		if (code != NULL && strcmp(code, ERR_UNIMPLEMENTED) == 0) {
			/* No on_config hook: restart the host with the new configuration. */
			log_info(p->name, "restarting to apply the new configuration");
			plugin_config_answer(p, true, true, NULL);
			return;
		}
		const char *text = msg_get_str(error, "message");
		p->config_error = xstrdup(text ? text : "rejected");
		log_warn(p->name, "plugin rejected the new configuration: %s", p->config_error);
		plugin_config_answer(p, false, false, p->config_error);
		return;
	}
	r = bus_sub_ack(p->sub, id, error == NULL);
	if (r < 0) {
		host_kill(p, CAUSE_PROTOCOL, "reply to id %" PRId64 " that is not outstanding", id);
		return;
	}
	if (error != NULL) {
		const char *text = msg_get_str(error, "message");
		log_warn(p->name, "handler failed on event %" PRId64 ": %.200s", id,
			 text ? text : "");
	}
}

static void on_request_unserved(struct plugin *p, json_object *m, enum msg_type t)
{
	int64_t id;
	char msg[96];

	if (!msg_get_int(m, "id", &id)) {
		host_kill(p, CAUSE_PROTOCOL, "%s without id", msg_type_name(t));
		return;
	}
	snprintf(msg, sizeof msg, "%s is not served by this daemon yet", msg_type_name(t));
	host_send(p, msg_reply_error(id, ERR_UNIMPLEMENTED, msg));
}

static void on_subscribe(struct plugin *p, json_object *m)
{
	int64_t id;
	const char *pat = msg_get_str(m, "pattern");
	char why[256];
	size_t n;

	if (!msg_get_int(m, "id", &id) || pat == NULL) {
		host_kill(p, CAUSE_PROTOCOL, "subscribe without id or pattern");
		return;
	}
	if (check_pattern(p, pat, why, sizeof why) < 0) {
		host_send(p, msg_reply_error(id, ERR_PERMISSION, why));
		return;
	}
	n = json_object_array_length(p->subscriptions);
	if (n >= 64) {
		host_send(p, msg_reply_error(id, ERR_TOO_LARGE, "at most 64 subscriptions"));
		return;
	}
	json_object_array_add(p->subscriptions, json_object_new_string(pat));
	const char **pats = xcalloc(n + 1, sizeof *pats);
	for (size_t i = 0; i <= n; i++)
		pats[i] = json_object_get_string(json_object_array_get_idx(p->subscriptions, i));
	bus_sub_set_patterns(p->sub, pats, n + 1);
	free(pats);
	host_send(p, msg_reply_ok(id));
}

/* Dispatches one message; the table of what each handshake state allows. */
static void dispatch(struct plugin *p, json_object *m)
{
	enum msg_type t = msg_type_of(m);
	int64_t id;

	if (t == MSG_UNKNOWN || !(msg_type_dir(t) & MSG_FROM_HOST)) {
		const char *name = msg_get_str(m, "t");
		host_kill(p, CAUSE_PROTOCOL, "unknown message type \"%.64s\"",
			  name ? name : "(none)");
		return;
	}
	switch (p->hs) {
	case HS_HELLO:
		if (t == MSG_HELLO) {
			on_hello(p, m);
			return;
		}
		break;
	case HS_READY:
		if (t == MSG_READY) {
			on_ready(p, m);
			return;
		}
		if (t == MSG_LOG) {
			on_log(p, m);
			return;
		}
		if (t == MSG_FAIL) {
			json_object *e = msg_get_obj(m, "error");
			const char *text = msg_get_str(e, "message");
			host_kill(p, CAUSE_LOAD, "on_load failed: %.200s", text ? text : "");
			return;
		}
		break;
	case HS_SERVING:
		switch (t) {
		case MSG_REPLY: {
			on_reply(p, m);
			return;
		}
		case MSG_LOG: {
			on_log(p, m);
			return;
		}
		case MSG_PONG:
			if (!msg_get_int(m, "id", &id) || id != p->ping_id || id == 0) {
				host_kill(p, CAUSE_PROTOCOL, "pong to no ping");
				return;
			}
			p->ping_id = 0;
			return;
		case MSG_SUBSCRIBE: {
			on_subscribe(p, m);
			return;
		}
		case MSG_EMIT:
		case MSG_STORAGE_GET:
		case MSG_STORAGE_SET:
		case MSG_STORAGE_DELETE:
		case MSG_STORAGE_LIST:
		case MSG_EGRESS_REQUEST: {
			on_request_unserved(p, m, t);
			return;
		}
		default:
			break;
		}
		break;
	}
	host_kill(p, CAUSE_PROTOCOL, "message \"%s\" out of state", msg_type_name(t));
}

/*
 * Reads at most READ_BUDGET frames per turn, so a host that sends as fast as
 * it can still leaves the loop to other hosts and to HTTP.
 */
static void chan_process(struct plugin *p)
{
	char err[160];

	for (int i = 0; i < READ_BUDGET && p->chan != NULL && p->pending_cause == CAUSE_NONE; i++) {
		json_object *m = NULL;
		enum frame_result r = frame_pull(bufferevent_get_input(p->chan),
						 p->sup->o.max_frame, &m, err, sizeof err);
		if (r == FRAME_NEED_MORE)
			return;
		if (r == FRAME_ERROR) {
			host_kill(p, CAUSE_PROTOCOL, "bad frame: %s", err);
			return;
		}
		dispatch(p, m);
		json_object_put(m);
	}
	/* Budget spent with frames left: continue next turn, after everyone else. */
	if (p->chan != NULL && p->pending_cause == CAUSE_NONE &&
	    evbuffer_get_length(bufferevent_get_input(p->chan)) > 0)
		event_active(p->kick, EV_READ, 0);
}

static void host_chan_read(struct bufferevent *bev, void *arg)
{
	chan_process(arg);
}

static void host_chan_event(struct bufferevent *bev, short what, void *arg)
{
	struct plugin *p = arg;
	struct timeval tv = {p->sup->o.stop_timeout_ms / 1000,
			     (p->sup->o.stop_timeout_ms % 1000) * 1000};

	/* EOF or error: the exit status (SIGCHLD) says why; stop reading now. */
	chan_process(p);
	if (p->chan != NULL) {
		bufferevent_free(p->chan);
		p->chan = NULL;
	}
	/* A host that closed its channel but lingers is stopped at the deadline. */
	if (p->pid > 0 && p->pending_cause == CAUSE_NONE && !evtimer_pending(p->deadline, NULL))
		evtimer_add(p->deadline, &tv);
}

void host_kick_cb(int fd, short what, void *arg)
{
	struct plugin *p = arg;
	if (p->chan == NULL)
		return;
	if (what & EV_READ)
		chan_process(p);
	if (p->chan != NULL && p->hs == HS_SERVING)
		bus_sub_flush(p->sub, bufferevent_get_output(p->chan));
}

void host_tick_cb(int fd, short what, void *arg)
{
	struct plugin *p = arg;
	int64_t now = bus_now_ms(), age = bus_sub_oldest_age_ms(p->sub, now);
	struct timeval tv = {0, TICK_MS * 1000};

	if (p->hs != HS_SERVING || p->chan == NULL)
		return;
	if (age > p->event_timeout_ms) {
		host_kill(p, CAUSE_DEADLINE, "event not handled within %d ms", p->event_timeout_ms);
		return;
	}
	if (p->ping_id != 0 && now - p->ping_sent_ms > p->sup->o.ping_timeout_ms) {
		host_kill(p, CAUSE_DEADLINE, "no pong within %d ms", p->sup->o.ping_timeout_ms);
		return;
	}
	if (p->ping_id == 0 && now - p->last_ping_ms >= p->sup->o.ping_interval_ms) {
		p->ping_id = bus_next_id(p->sup->bus);
		p->ping_sent_ms = p->last_ping_ms = now;
		host_send(p, msg_new_request(MSG_PING, p->ping_id));
	}
	evtimer_add(p->tick, &tv);
}

void host_open(struct plugin *p, int sock)
{
	struct supervisor *sup = p->sup;

	p->chan = bufferevent_socket_new(sup->base, sock, BEV_OPT_CLOSE_ON_FREE);
	if (p->chan == NULL)
		fatal("bufferevent_socket_new failed");
	bufferevent_set_max_single_read(p->chan, READ_CHUNK);
	/* Bounded memory per host: stop reading a host whose input piles up. */
	bufferevent_setwatermark(p->chan, EV_READ, 0,
				 sup->o.max_frame + FRAME_HEADER_LEN + READ_CHUNK);
	bufferevent_setcb(p->chan, host_chan_read, NULL, host_chan_event, p);
	bufferevent_enable(p->chan, EV_READ | EV_WRITE);
}
