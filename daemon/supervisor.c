#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "exitcause.h"
#include "hostlog.h"
#include "bus.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "spawn.h"
#include "xmalloc.h"

#define READ_BUDGET 256	 /* frames handled per host per loop turn */
#define READ_CHUNK 16384 /* bytes read from one host per loop turn */
#define TICK_MS 100	 /* deadline checks */
#define DEFAULT_MEM_LIMIT (256ull << 20)

enum pstate { ST_STARTING, ST_RUNNING, ST_STOPPING, ST_CRASHED, ST_FAILED, ST_STOPPED };
static const char *const state_names[] = {"starting", "running", "stopping",
					  "crashed",  "failed",	 "stopped"};

/* Where the handshake stands with the current host. */
enum hstate { HS_HELLO, HS_READY, HS_SERVING };

struct plugin {
	struct supervisor *sup;
	TAILQ_ENTRY(plugin) entry;

	/* What to run. */
	char *name;
	char *path;
	json_object *config;
	json_object *permissions;
	uint64_t mem_limit;
	int handshake_timeout_ms;
	int event_timeout_ms;

	/* The current host, if any. */
	enum pstate state;
	enum hstate hs;
	pid_t pid;
	struct bufferevent *chan; /* protocol socket */
	struct bufferevent *logp; /* stdout/stderr pipe */
	struct event *deadline;	  /* handshake, stop timeout or restart delay */
	struct event *tick;	  /* event and ping deadlines while serving */
	struct event *kick;	  /* deferred flush and read continuation */
	int64_t started_ms, state_since_ms, ready_ms;
	char *version;
	json_object *sandbox;
	json_object *subscriptions;
	int64_t ping_id, ping_sent_ms, last_ping_ms;
	int64_t config_id;

	/* What ended the host, decided before the kill when we killed it. */
	enum exit_cause pending_cause;
	char *pending_reason;
	bool stop_requested; /* graceful stop: no crash, no restart */
	bool restart_after;  /* graceful restart (upgrade, new config) */
	bool remove_after;   /* forget the plugin once its host is gone */

	/* Accounting. */
	struct bus_sub *sub;
	struct backoff backoff;
	uint64_t restarts, crashes, causes[CAUSE_COUNT];
	int next_delay_ms;
	struct {
		enum exit_cause cause;
		int code, sig;
		char *description;
		json_object *stderr_tail; /* the host's last output lines */
	} last_exit;
	struct hostlog *out;
	char *config_error;
};

struct supervisor {
	struct event_base *base;
	struct bus *bus;
	struct supervisor_options o;
	TAILQ_HEAD(, plugin) plugins;
	struct event *shutdown_timer;
	int64_t shutdown_deadline_ms;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	bool shutting_down;
};

static void plugin_start(struct plugin *p);
static void chan_event(struct bufferevent *bev, short what, void *arg);
static void plugin_kill(struct plugin *p, enum exit_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_state(struct plugin *p, enum pstate st)
{
	p->state = st;
	p->state_since_ms = bus_now_ms();
}

static int opt_or(int v, int def)
{
	return v > 0 ? v : def;
}

struct supervisor *supervisor_new(struct event_base *base, struct bus *bus,
				  const struct supervisor_options *opts)
{
	struct supervisor *sup = xcalloc(1, sizeof *sup);
	sup->base = base;
	sup->bus = bus;
	sup->o = *opts;
	sup->o.max_frame = sup->o.max_frame ? sup->o.max_frame : FRAME_MAX_DEFAULT;
	sup->o.handshake_timeout_ms = opt_or(opts->handshake_timeout_ms, 5000);
	sup->o.event_timeout_ms = opt_or(opts->event_timeout_ms, 5000);
	sup->o.ping_interval_ms = opt_or(opts->ping_interval_ms, 10000);
	sup->o.ping_timeout_ms = opt_or(opts->ping_timeout_ms, 5000);
	sup->o.stop_timeout_ms = opt_or(opts->stop_timeout_ms, 3000);
	sup->o.backoff_initial_ms = opt_or(opts->backoff_initial_ms, 100);
	sup->o.backoff_max_ms = opt_or(opts->backoff_max_ms, 30000);
	sup->o.crash_limit = opt_or(opts->crash_limit, 5);
	sup->o.crash_window_ms = opt_or(opts->crash_window_ms, 60000);
	sup->o.host_path = xstrdup(opts->host_path);
	TAILQ_INIT(&sup->plugins);
	return sup;
}

static struct plugin *find(struct supervisor *sup, const char *name)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static struct plugin *find_pid(struct supervisor *sup, pid_t pid)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

/* ---- output of the host ---- */

static void logp_read(struct bufferevent *bev, void *arg)
{
	hostlog_drain(((struct plugin *)arg)->out, bufferevent_get_input(bev), false);
}

static void logp_event(struct bufferevent *bev, short what, void *arg)
{
	struct plugin *p = arg;
	hostlog_drain(p->out, bufferevent_get_input(bev), true);
	bufferevent_free(p->logp);
	p->logp = NULL;
}

/* ---- sending ---- */

static void send_msg(struct plugin *p, json_object *m)
{
	if (p->chan != NULL &&
	    frame_append_obj(bufferevent_get_output(p->chan), m, p->sup->o.max_frame) < 0)
		log_error(p->name, "message over the frame limit not sent");
	json_object_put(m);
}

static void bus_ready(struct bus_sub *sub, void *arg)
{
	struct plugin *p = arg;
	(void)sub;
	if (p->kick != NULL)
		event_active(p->kick, EV_WRITE, 0);
}

/* ---- host teardown ---- */

static void close_host_io(struct plugin *p)
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

static void plugin_kill(struct plugin *p, enum exit_cause cause, const char *fmt, ...)
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
	close_host_io(p);
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
	send_msg(p, r);
	p->pending_cause = cause;
	free(p->pending_reason);
	p->pending_reason = xstrdup(message);
	log_warn(p->name, "rejecting host (pid %d): %s", (int)p->pid, message);
	if (p->chan != NULL) {
		bufferevent_disable(p->chan, EV_READ);
		bufferevent_setcb(p->chan, NULL, chan_drained, chan_event, p);
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
		plugin_kill(p, CAUSE_PROTOCOL,
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
	send_msg(p, init);
	p->hs = HS_READY;
}

static void on_ready(struct plugin *p, json_object *m)
{
	json_object *subs = msg_get_array(m, "subscriptions");
	const char **pats;
	size_t n;
	char why[256];

	if (subs == NULL) {
		plugin_kill(p, CAUSE_PROTOCOL, "ready without subscriptions");
		return;
	}
	n = json_object_array_length(subs);
	if (n > 64) {
		plugin_kill(p, CAUSE_PROTOCOL, "more than 64 subscriptions");
		return;
	}
	pats = xcalloc(n ? n : 1, sizeof *pats);
	for (size_t i = 0; i < n; i++) {
		pats[i] = json_object_get_string(json_object_array_get_idx(subs, i));
		if (!json_object_is_type(json_object_array_get_idx(subs, i), json_type_string)) {
			free(pats);
			plugin_kill(p, CAUSE_PROTOCOL, "subscription is not a string");
			return;
		}
		if (check_pattern(p, pats[i], why, sizeof why) < 0) {
			free(pats);
			plugin_kill(p, CAUSE_LOAD, "%s", why);
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
	set_state(p, ST_RUNNING);
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
		plugin_kill(p, CAUSE_PROTOCOL, "log message without a valid level or msg");
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
	log_sanitize(line);
	log_msg((enum log_level)level, p->name, "%s", line);
	free(line);
}

static void on_reply(struct plugin *p, json_object *m)
{
	int64_t id;
	json_object *error = msg_get_obj(m, "error");
	int r;

	if (!msg_get_int(m, "id", &id)) {
		plugin_kill(p, CAUSE_PROTOCOL, "reply without id");
		return;
	}
	if (id == p->config_id && id != 0) {
		p->config_id = 0;
		free(p->config_error);
		p->config_error = NULL;
		if (error == NULL)
			return;
		const char *code = msg_get_str(error, "code");
		if (code != NULL && strcmp(code, ERR_UNIMPLEMENTED) == 0) {
			/* No on_config hook: restart the host with the new configuration. */
			log_info(p->name, "restarting to apply the new configuration");
			p->restart_after = true;
			p->stop_requested = true;
			send_msg(p, msg_new(MSG_SHUTDOWN));
			struct timeval tv = {p->sup->o.stop_timeout_ms / 1000,
					     (p->sup->o.stop_timeout_ms % 1000) * 1000};
			evtimer_add(p->deadline, &tv);
			return;
		}
		const char *text = msg_get_str(error, "message");
		p->config_error = xstrdup(text ? text : "rejected");
		log_warn(p->name, "plugin rejected the new configuration: %s", p->config_error);
		return;
	}
	r = bus_sub_ack(p->sub, id, error == NULL);
	if (r < 0) {
		plugin_kill(p, CAUSE_PROTOCOL, "reply to id %" PRId64 " that is not outstanding",
			    id);
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
		plugin_kill(p, CAUSE_PROTOCOL, "%s without id", msg_type_name(t));
		return;
	}
	snprintf(msg, sizeof msg, "%s is not served by this daemon yet", msg_type_name(t));
	send_msg(p, msg_reply_error(id, ERR_UNIMPLEMENTED, msg));
}

static void on_subscribe(struct plugin *p, json_object *m)
{
	int64_t id;
	const char *pat = msg_get_str(m, "pattern");
	char why[256];
	size_t n;

	if (!msg_get_int(m, "id", &id) || pat == NULL) {
		plugin_kill(p, CAUSE_PROTOCOL, "subscribe without id or pattern");
		return;
	}
	if (check_pattern(p, pat, why, sizeof why) < 0) {
		send_msg(p, msg_reply_error(id, ERR_PERMISSION, why));
		return;
	}
	n = json_object_array_length(p->subscriptions);
	if (n >= 64) {
		send_msg(p, msg_reply_error(id, ERR_TOO_LARGE, "at most 64 subscriptions"));
		return;
	}
	json_object_array_add(p->subscriptions, json_object_new_string(pat));
	const char **pats = xcalloc(n + 1, sizeof *pats);
	for (size_t i = 0; i <= n; i++)
		pats[i] = json_object_get_string(json_object_array_get_idx(p->subscriptions, i));
	bus_sub_set_patterns(p->sub, pats, n + 1);
	free(pats);
	send_msg(p, msg_reply_ok(id));
}

/* Dispatches one message; the table of what each handshake state allows. */
static void dispatch(struct plugin *p, json_object *m)
{
	enum msg_type t = msg_type_of(m);
	int64_t id;

	if (t == MSG_UNKNOWN || !(msg_type_dir(t) & MSG_FROM_HOST)) {
		const char *name = msg_get_str(m, "t");
		plugin_kill(p, CAUSE_PROTOCOL, "unknown message type \"%.64s\"",
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
			plugin_kill(p, CAUSE_LOAD, "on_load failed: %.200s", text ? text : "");
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
				plugin_kill(p, CAUSE_PROTOCOL, "pong to no ping");
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
	plugin_kill(p, CAUSE_PROTOCOL, "message \"%s\" out of state", msg_type_name(t));
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
			plugin_kill(p, CAUSE_PROTOCOL, "bad frame: %s", err);
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

static void chan_read(struct bufferevent *bev, void *arg)
{
	chan_process(arg);
}

static void chan_event(struct bufferevent *bev, short what, void *arg)
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

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;
	if (p->chan == NULL)
		return;
	if (what & EV_READ)
		chan_process(p);
	if (p->chan != NULL && p->hs == HS_SERVING)
		bus_sub_flush(p->sub, bufferevent_get_output(p->chan));
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;
	int64_t now = bus_now_ms(), age = bus_sub_oldest_age_ms(p->sub, now);
	struct timeval tv = {0, TICK_MS * 1000};

	if (p->hs != HS_SERVING || p->chan == NULL)
		return;
	if (age > p->event_timeout_ms) {
		plugin_kill(p, CAUSE_DEADLINE, "event not handled within %d ms",
			    p->event_timeout_ms);
		return;
	}
	if (p->ping_id != 0 && now - p->ping_sent_ms > p->sup->o.ping_timeout_ms) {
		plugin_kill(p, CAUSE_DEADLINE, "no pong within %d ms", p->sup->o.ping_timeout_ms);
		return;
	}
	if (p->ping_id == 0 && now - p->last_ping_ms >= p->sup->o.ping_interval_ms) {
		p->ping_id = bus_next_id(p->sup->bus);
		p->ping_sent_ms = p->last_ping_ms = now;
		send_msg(p, msg_new_request(MSG_PING, p->ping_id));
	}
	evtimer_add(p->tick, &tv);
}

/* One timer, three uses: handshake deadline, stop timeout, restart delay. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin *p = arg;

	switch (p->state) {
	case ST_STARTING:
		plugin_kill(p, CAUSE_DEADLINE, "no %s within %d ms",
			    p->hs == HS_HELLO ? "hello" : "ready", p->handshake_timeout_ms);
		break;
	case ST_RUNNING:
	case ST_STOPPING:
		if (p->pid > 0) {
			log_warn(p->name, "host did not stop within %d ms: SIGKILL",
				 p->sup->o.stop_timeout_ms);
			kill(p->pid, SIGKILL);
		}
		break;
	case ST_CRASHED:
		p->restarts++;
		plugin_start(p);
		break;
	default:
		break;
	}
}

static char *mem_arg(uint64_t v)
{
	return xasprintf("%" PRIu64, v);
}

static void plugin_start(struct plugin *p)
{
	struct supervisor *sup = p->sup;
	struct spawn_child c;
	char err[256];
	char *mem = mem_arg(p->mem_limit);
	char *argv[12];
	int n = 0;
	struct timeval tv = {p->handshake_timeout_ms / 1000,
			     (p->handshake_timeout_ms % 1000) * 1000};

	argv[n++] = "streamspace-plugin-host";
	argv[n++] = "--name";
	argv[n++] = p->name;
	argv[n++] = "--plugin";
	argv[n++] = p->path;
	argv[n++] = "--mem-limit";
	argv[n++] = mem;
	if (sup->o.strict)
		argv[n++] = "--strict";
	if (sup->o.sandbox_debug)
		argv[n++] = "--sandbox-debug";
	argv[n] = NULL;

	p->pending_cause = CAUSE_NONE;
	p->stop_requested = p->restart_after = false;
	p->hs = HS_HELLO;
	p->ping_id = 0;
	p->config_id = 0;
	p->started_ms = bus_now_ms();
	set_state(p, ST_STARTING);
	if (spawn_host(sup->o.host_path, argv, &c, err, sizeof err) < 0) {
		free(mem);
		/* The host binary itself is missing or broken: no use retrying. */
		log_error(p->name, "cannot start host: %s", err);
		free(p->last_exit.description);
		p->last_exit.description = xstrdup(err);
		p->last_exit.cause = CAUSE_SETUP;
		set_state(p, ST_FAILED);
		return;
	}
	free(mem);
	p->pid = c.pid;
	p->chan = bufferevent_socket_new(sup->base, c.sock, BEV_OPT_CLOSE_ON_FREE);
	p->logp = bufferevent_socket_new(sup->base, c.logfd, BEV_OPT_CLOSE_ON_FREE);
	if (p->chan == NULL || p->logp == NULL)
		fatal("bufferevent_socket_new failed");
	bufferevent_set_max_single_read(p->chan, READ_CHUNK);
	/* Bounded memory per host: stop reading a host whose input piles up. */
	bufferevent_setwatermark(p->chan, EV_READ, 0,
				 sup->o.max_frame + FRAME_HEADER_LEN + READ_CHUNK);
	bufferevent_setwatermark(p->logp, EV_READ, 0, HOSTLOG_LINE_MAX * 4);
	bufferevent_setcb(p->chan, chan_read, NULL, chan_event, p);
	bufferevent_setcb(p->logp, logp_read, NULL, logp_event, p);
	bufferevent_enable(p->chan, EV_READ | EV_WRITE);
	bufferevent_enable(p->logp, EV_READ);
	evtimer_add(p->deadline, &tv);
	log_debug(p->name, "host started (pid %d)", (int)p->pid);
}

/* Why the host ended: what we decided before killing it, else its wait status. */
static enum exit_cause classify(struct plugin *p, int status, char *desc, size_t len)
{
	if (p->pending_cause != CAUSE_NONE) {
		snprintf(desc, len, "%s", p->pending_reason ? p->pending_reason : "killed");
		return p->pending_cause;
	}
	return exit_classify(status, desc, len);
}

static void record_exit(struct plugin *p, enum exit_cause cause, int status, const char *desc)
{
	p->last_exit.cause = cause;
	p->last_exit.sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	p->last_exit.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	free(p->last_exit.description);
	p->last_exit.description = xstrdup(desc);
	json_object_put(p->last_exit.stderr_tail);
	p->last_exit.stderr_tail = hostlog_take_tail(p->out);
}

static void plugin_destroy(struct plugin *p);

/* The host is gone (reaped): account for it and decide what comes next. */
static void host_exited(struct plugin *p, int status)
{
	char desc[256];
	enum exit_cause cause;
	bool clean = p->stop_requested && p->pending_cause == CAUSE_NONE;
	size_t poisoned;

	/* Whatever the host wrote last is part of the report. */
	if (p->logp != NULL) {
		struct evbuffer *in = bufferevent_get_input(p->logp);
		evbuffer_read(in, bufferevent_getfd(p->logp), HOSTLOG_LINE_MAX * 4);
		hostlog_drain(p->out, in, true);
		bufferevent_free(p->logp);
		p->logp = NULL;
	}
	close_host_io(p);
	p->pid = 0;
	p->hs = HS_HELLO;

	if (clean) {
		/* Stopped on purpose: events in flight go back to the queue. */
		bus_sub_detach(p->sub, false);
		record_exit(p, CAUSE_NONE, status, "stopped");
		if (p->remove_after) {
			plugin_destroy(p);
			return;
		}
		if (p->restart_after) {
			plugin_start(p);
			return;
		}
		set_state(p, ST_STOPPED);
		return;
	}
	cause = classify(p, status, desc, sizeof desc);
	if (cause == CAUSE_SIGNAL && p->pending_cause == CAUSE_NONE) {
		/* A host at its address-space limit dies in malloc; say so when it said so. */
		const char *last = hostlog_last(p->out);
		if (last != NULL && strstr(last, "out of memory") != NULL)
			cause = CAUSE_MEMORY;
	}
	record_exit(p, cause, status, desc);
	p->crashes++;
	p->causes[cause]++;
	poisoned = bus_sub_detach(p->sub, true);
	if (poisoned > 0)
		log_error(p->name,
			  "event set aside as poison: it was being handled at two crashes");
	log_warn(p->name, "host crashed (%s): %s", exit_cause_name(cause), desc);
	if (p->remove_after) {
		plugin_destroy(p);
		return;
	}
	if (p->sup->shutting_down) {
		set_state(p, ST_STOPPED);
		return;
	}
	p->next_delay_ms = backoff_crash(&p->backoff, bus_now_ms());
	if (p->next_delay_ms < 0) {
		log_error(p->name,
			  "crashed %d times within %d s: marked failed until it is enabled again",
			  p->sup->o.crash_limit, p->sup->o.crash_window_ms / 1000);
		set_state(p, ST_FAILED);
		return;
	}
	set_state(p, ST_CRASHED);
	struct timeval tv = {p->next_delay_ms / 1000, (p->next_delay_ms % 1000) * 1000};
	evtimer_add(p->deadline, &tv);
}

void supervisor_reap(struct supervisor *sup)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct plugin *p = find_pid(sup, pid);
		if (p != NULL)
			host_exited(p, status);
	}
}

/* ---- public verbs ---- */

static void plugin_set_spec(struct plugin *p, const struct plugin_spec *spec)
{
	free(p->path);
	p->path = xstrdup(spec->path);
	json_object_put(p->config);
	p->config = spec->config ? json_object_get(spec->config) : json_object_new_object();
	json_object_put(p->permissions);
	p->permissions =
	    spec->permissions ? json_object_get(spec->permissions) : json_object_new_array();
	p->mem_limit = spec->mem_limit ? spec->mem_limit : DEFAULT_MEM_LIMIT;
	p->handshake_timeout_ms = spec->handshake_timeout_ms > 0 ? spec->handshake_timeout_ms
								 : p->sup->o.handshake_timeout_ms;
	p->event_timeout_ms =
	    spec->event_timeout_ms > 0 ? spec->event_timeout_ms : p->sup->o.event_timeout_ms;
}

/* Asks the host to stop; the deadline timer escalates to SIGKILL. */
static void plugin_request_stop(struct plugin *p)
{
	struct timeval tv = {p->sup->o.stop_timeout_ms / 1000,
			     (p->sup->o.stop_timeout_ms % 1000) * 1000};
	p->stop_requested = true;
	if (p->pid <= 0)
		return;
	set_state(p, ST_STOPPING);
	if (p->chan != NULL && p->hs == HS_SERVING) {
		send_msg(p, msg_new(MSG_SHUTDOWN));
		evtimer_del(p->tick);
		evtimer_add(p->deadline, &tv);
	} else {
		kill(p->pid, SIGKILL);
	}
}

int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, char *err, size_t errlen)
{
	struct plugin *p;

	if (!name_plugin_valid(spec->name)) {
		snprintf(err, errlen, "invalid plugin name");
		return -1;
	}
	if (spec->path == NULL || spec->path[0] != '/') {
		snprintf(err, errlen, "plugin path must be absolute");
		return -1;
	}
	if (access(spec->path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s", spec->path, strerror(errno));
		return -1;
	}
	if (spec->permissions != NULL && !json_object_is_type(spec->permissions, json_type_array)) {
		snprintf(err, errlen, "permissions must be an array");
		return -1;
	}
	p = find(sup, spec->name);
	if (p != NULL) {
		/* Upgrade or re-enable: new spec, fresh crash history. */
		plugin_set_spec(p, spec);
		backoff_reset(&p->backoff);
		p->remove_after = false;
		if (p->pid > 0) {
			plugin_request_stop(p);
			p->restart_after = true;
		} else {
			evtimer_del(p->deadline);
			plugin_start(p);
		}
		return 0;
	}
	p = xcalloc(1, sizeof *p);
	p->sup = sup;
	p->name = xstrdup(spec->name);
	plugin_set_spec(p, spec);
	p->subscriptions = json_object_new_array();
	p->sandbox = json_object_new_object();
	p->out = hostlog_new(p->name);
	p->deadline = evtimer_new(sup->base, deadline_cb, p);
	p->tick = evtimer_new(sup->base, tick_cb, p);
	p->kick = event_new(sup->base, -1, 0, kick_cb, p);
	p->sub = bus_sub_new(sup->bus, p->name, bus_ready, p);
	backoff_init(&p->backoff, sup->o.backoff_initial_ms, sup->o.backoff_max_ms,
		     sup->o.crash_limit, sup->o.crash_window_ms);
	TAILQ_INSERT_TAIL(&sup->plugins, p, entry);
	plugin_start(p);
	return 0;
}

static void plugin_destroy(struct plugin *p)
{
	TAILQ_REMOVE(&p->sup->plugins, p, entry);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	close_host_io(p);
	if (p->logp != NULL)
		bufferevent_free(p->logp);
	event_free(p->deadline);
	event_free(p->tick);
	event_free(p->kick);
	bus_sub_free(p->sub);
	json_object_put(p->config);
	json_object_put(p->permissions);
	json_object_put(p->sandbox);
	json_object_put(p->subscriptions);
	hostlog_free(p->out);
	json_object_put(p->last_exit.stderr_tail);
	free(p->last_exit.description);
	free(p->pending_reason);
	free(p->config_error);
	free(p->version);
	free(p->path);
	free(p->name);
	free(p);
}

int supervisor_stop(struct supervisor *sup, const char *name)
{
	struct plugin *p = find(sup, name);
	if (p == NULL)
		return -1;
	if (p->pid <= 0) {
		plugin_destroy(p);
		return 0;
	}
	p->remove_after = true;
	plugin_request_stop(p);
	return 0;
}

int supervisor_configure(struct supervisor *sup, const char *name, json_object *config)
{
	struct plugin *p = find(sup, name);
	json_object *m;

	if (p == NULL || config == NULL || !json_object_is_type(config, json_type_object))
		return -1;
	json_object_put(p->config);
	p->config = json_object_get(config);
	if (p->hs != HS_SERVING || p->chan == NULL)
		return 0; /* the next start takes the new configuration */
	p->config_id = bus_next_id(sup->bus);
	m = msg_new_request(MSG_CONFIG, p->config_id);
	json_object_object_add(m, "config", json_object_get(config));
	send_msg(p, m);
	return 0;
}

bool supervisor_has(struct supervisor *sup, const char *name)
{
	return find(sup, name) != NULL;
}

static json_object *plugin_status(struct plugin *p)
{
	json_object *o = json_object_new_object(), *le, *causes;
	struct bus_sub_stats st;
	int64_t now = bus_now_ms();

	bus_sub_stats(p->sub, &st);
	msg_add_str(o, "name", p->name);
	if (p->version)
		msg_add_str(o, "version", p->version);
	else
		json_object_object_add(o, "version", NULL);
	msg_add_str(o, "state", state_names[p->state]);
	msg_add_int(o, "state_for_ms", now - p->state_since_ms);
	if (p->pid > 0)
		msg_add_int(o, "pid", p->pid);
	else
		json_object_object_add(o, "pid", NULL);
	msg_add_str(o, "path", p->path);
	msg_add_int(o, "restarts", (int64_t)p->restarts);
	msg_add_int(o, "crashes", (int64_t)p->crashes);
	causes = json_object_new_object();
	for (int i = 1; i < CAUSE_COUNT; i++)
		msg_add_int(causes, exit_cause_name(i), (int64_t)p->causes[i]);
	json_object_object_add(o, "crash_causes", causes);
	if (p->state == ST_CRASHED)
		msg_add_int(o, "restart_in_ms", p->next_delay_ms);
	msg_add_int(o, "queue_depth", (int64_t)st.queued);
	msg_add_int(o, "inflight", (int64_t)st.inflight);
	msg_add_int(o, "delivered", (int64_t)st.delivered);
	msg_add_int(o, "failed", (int64_t)st.failed);
	msg_add_int(o, "dropped", (int64_t)st.dropped);
	msg_add_int(o, "redelivered", (int64_t)st.redelivered);
	msg_add_int(o, "poisoned", (int64_t)st.poisoned);
	json_object_object_add(o, "poison_events", bus_sub_poison_json(p->sub));
	msg_add_int(o, "log_dropped", (int64_t)hostlog_dropped(p->out));
	msg_add_int(o, "log_truncated", (int64_t)hostlog_truncated(p->out));
	json_object_object_add(o, "subscriptions", json_object_get(p->subscriptions));
	json_object_object_add(o, "sandbox", json_object_get(p->sandbox));
	if (p->config_error)
		msg_add_str(o, "config_error", p->config_error);
	if (p->last_exit.description != NULL) {
		le = json_object_new_object();
		msg_add_str(le, "reason", exit_cause_name(p->last_exit.cause));
		msg_add_str(le, "description", p->last_exit.description);
		msg_add_bool(le, "sandbox_violation", p->last_exit.cause == CAUSE_SANDBOX);
		if (p->last_exit.sig > 0) {
			msg_add_int(le, "signal", p->last_exit.sig);
			json_object *sn =
			    json_object_new_string(exit_signal_abbrev(p->last_exit.sig));
			char buf[32];
			snprintf(buf, sizeof buf, "SIG%s", json_object_get_string(sn));
			json_object_put(sn);
			msg_add_str(le, "signal_name", buf);
		}
		if (p->last_exit.code >= 0)
			msg_add_int(le, "exit_code", p->last_exit.code);
		json_object_object_add(le, "stderr",
				       p->last_exit.stderr_tail
					   ? json_object_get(p->last_exit.stderr_tail)
					   : json_object_new_array());
		json_object_object_add(o, "last_exit", le);
	} else {
		json_object_object_add(o, "last_exit", NULL);
	}
	return o;
}

json_object *supervisor_status(struct supervisor *sup, const char *name)
{
	struct plugin *p = find(sup, name);
	return p ? plugin_status(p) : NULL;
}

json_object *supervisor_status_all(struct supervisor *sup)
{
	json_object *a = json_object_new_array();
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	json_object_array_add(a, plugin_status(p));
	return a;
}

/* ---- shutdown: drain, then stop every host ---- */

static bool any_host(struct supervisor *sup)
{
	struct plugin *p;
	TAILQ_FOREACH(p, &sup->plugins, entry)
	{
		if (p->pid > 0)
			return true;
	}
	return false;
}

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct plugin *p;
	struct timeval tv = {0, 20 * 1000};
	int64_t now = bus_now_ms();
	bool draining = bus_busy(sup->bus) && now < sup->shutdown_deadline_ms;

	if (!draining) {
		TAILQ_FOREACH(p, &sup->plugins, entry)
		{
			if (p->pid > 0 && !p->stop_requested)
				plugin_request_stop(p);
			if (p->state == ST_CRASHED) {
				evtimer_del(p->deadline);
				set_state(p, ST_STOPPED);
			}
		}
		if (!any_host(sup)) {
			if (sup->shutdown_done)
				sup->shutdown_done(sup->shutdown_arg);
			return;
		}
	}
	evtimer_add(sup->shutdown_timer, &tv);
}

void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg), void *arg)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = true;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup->shutdown_deadline_ms = bus_now_ms() + timeout_ms;
	sup->shutdown_timer = evtimer_new(sup->base, shutdown_tick, sup);
	shutdown_tick(-1, 0, sup);
}

void supervisor_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	while (!TAILQ_EMPTY(&sup->plugins))
		plugin_destroy(TAILQ_FIRST(&sup->plugins));
	if (sup->shutdown_timer)
		event_free(sup->shutdown_timer);
	free((char *)sup->o.host_path);
	free(sup);
}
