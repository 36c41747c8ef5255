#include "serve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "diag.h"
#include "frame.h"
#include "host.h"
#include "msg.h"
#include "repair.h"

/* What hello says about the plugin's version: bounded, valid UTF-8. */
#define VERSION_MAX 64

/*
 * How long and how many acks may wait for the next ones (protocol 4). The
 * daemon times the oldest event it has no answer for, so a held ack takes
 * from the deadline of the event handled while it waits: at most this much,
 * because held acks go out before a handler starts once they are this old.
 * The count keeps the daemon's window (32 by default) refilling while the
 * host works through it: holding a whole window's acks until the input is
 * drained stalls both sides for a round trip each window (64 measured
 * 155k events/s against 220k with 8 and with no holding, same run).
 */
#define ACK_HOLD_NS 1000000
#define ACK_HOLD_N 8

void host_protocol_error(const char *code, const char *what, json_object *m)
{
	const char *t = m != NULL ? msg_get_str(m, "t") : NULL;
	die(HOST_EXIT_PROTOCOL, "protocol error (%s): %s%s%s", code, what, t ? " in " : "",
	    t ? t : "");
}

json_object *host_recv(struct ss_plugin *p)
{
	char err[160] = "";
	json_object *m = NULL;
	int r = channel_recv(p->ch, &m, err, sizeof err);

	if (r == 0)
		die(HOST_EXIT_PROTOCOL, "daemon closed the connection");
	if (r < 0)
		die(HOST_EXIT_PROTOCOL, "protocol error (%s): %s", ERR_BAD_FRAME, err);
	enum msg_type t = msg_type_of(m);
	if (t == MSG_UNKNOWN || (msg_type_dir(t) & MSG_FROM_DAEMON) == 0)
		host_protocol_error(ERR_UNKNOWN_TYPE, "unknown or host-only message type", m);
	return m;
}

/* Sends a message the host built itself; one over max_frame is a host bug. */
static void send_or_die(struct ss_plugin *p, json_object *m)
{
	if (host_send(p, m) < 0)
		die(HOST_EXIT_INTERNAL, "message over max_frame: %s", msg_get_str(m, "t"));
	json_object_put(m);
}

static void send_hello(struct ss_plugin *p, json_object *sandbox)
{
	json_object *m = msg_new(MSG_HELLO);
	json_object *plugin = json_object_new_object();
	char *version = utf8_sanitize(p->def->version, VERSION_MAX);

	msg_add_int(m, "protocol", SS_PROTOCOL_VERSION);
	msg_add_int(m, "sdk_abi", p->def->abi);
	msg_add_str(plugin, "name", p->def->name);
	msg_add_str(plugin, "version", version);
	free(version);
	json_object_object_add(m, "plugin", plugin);
	json_object_object_add(m, "subscriptions", json_object_new_array());
	json_object_object_add(m, "routes", json_object_new_array());
	json_object_object_add(m, "sandbox", sandbox);
	send_or_die(p, m);
}

/* A positive integer member of limits, def when absent; mistyped is a protocol error. */
static int64_t limit(json_object *limits, const char *key, int64_t def, json_object *m)
{
	json_object *v = NULL;
	int64_t n;

	if (!json_object_object_get_ex(limits, key, &v))
		return def;
	if (!msg_get_int(limits, key, &n) || n <= 0)
		host_protocol_error(ERR_BAD_MESSAGE, key, m);
	return n;
}

/* Waits for init (or reject) and applies it. */
static void handshake(struct ss_plugin *p)
{
	json_object *m = host_recv(p);
	json_object *config, *limits, *perms, *err;
	int64_t protocol, max_frame, line_max;

	switch (msg_type_of(m)) {
	case MSG_INIT:
		break;
	case MSG_REJECT:
		err = msg_get_obj(m, "error");
		die(HOST_EXIT_PROTOCOL, "daemon rejected the plugin: %s: %s",
		    err && msg_get_str(err, "code") ? msg_get_str(err, "code") : "?",
		    err && msg_get_str(err, "message") ? msg_get_str(err, "message") : "?");
	default:
		host_protocol_error(ERR_OUT_OF_STATE, "expected init or reject", m);
	}
	if (!msg_get_int(m, "protocol", &protocol))
		host_protocol_error(ERR_BAD_MESSAGE, "protocol", m);
	/* The daemon chooses a version from 1 up to the one hello offered. */
	if (protocol < 1 || protocol > SS_PROTOCOL_VERSION)
		die(HOST_EXIT_PROTOCOL,
		    "protocol error (%s): daemon chose protocol %lld, host speaks 1 to %d",
		    ERR_VERSION, (long long)protocol, SS_PROTOCOL_VERSION);
	p->protocol = (int)protocol;
	config = msg_get_obj(m, "config");
	perms = msg_get_array(m, "permissions");
	limits = msg_get_obj(m, "limits");
	if (config == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "config", m);
	if (perms == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "permissions", m);
	if (limits == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "limits", m);
	max_frame = limit(limits, "max_frame", FRAME_MAX_DEFAULT, m);
	line_max = limit(limits, "log_line_max", LOG_LINE_MAX_DEFAULT, m);
	(void)limit(limits, "event_timeout_ms", 5000, m);
	(void)limit(limits, "ping_interval_ms", 10000, m);
	if (max_frame > UINT32_MAX)
		host_protocol_error(ERR_BAD_MESSAGE, "max_frame over 2^32-1", m);
	channel_set_max(p->ch, (size_t)max_frame);
	/* A log line must fit a frame with room for its envelope. */
	if (line_max > max_frame / 2)
		line_max = max_frame / 2;
	p->log_line_max = (size_t)line_max;
	sdk_set_config(p, json_object_get(config));
	json_object_put(m);
}

/* Calls on_load and reports the outcome: ready, or fail and exit 66. */
static void load(struct ss_plugin *p)
{
	int r = p->def->on_load != NULL ? p->def->on_load(p) : 0;
	json_object *m;

	if (r != 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "on_load returned %d", r);
		m = msg_new(MSG_FAIL);
		json_object_object_add(m, "error", msg_error_obj(ERR_LOAD, msg));
		send_or_die(p, m);
		die(HOST_EXIT_ON_LOAD, "plugin's on_load failed: %s", msg);
	}
	m = msg_new(MSG_READY);
	json_object_object_add(m, "subscriptions", subs_patterns_json(p->subs));
	send_or_die(p, m);
	p->phase = PHASE_SERVING;
}

/* Delivers one event to every matching callback and replies. */
static void on_event(struct ss_plugin *p, json_object *m)
{
	struct ss_event ev;
	size_t pos = 0, called = 0, failed = 0;
	long i;
	int64_t ts = 0;

	if (!msg_get_int(m, "id", &ev.id))
		host_protocol_error(ERR_BAD_MESSAGE, "id", m);
	ev.type = msg_get_str(m, "type");
	ev.data = msg_get_obj(m, "data");
	if (ev.type == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "type", m);
	if (ev.data == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "data", m);
	if (json_object_object_get_ex(m, "ts", NULL) && !msg_get_int(m, "ts", &ts))
		host_protocol_error(ERR_BAD_MESSAGE, "ts", m);
	ev.ts = ts;

	sdk_set_current_event(&ev);
	/* By index: a callback may subscribe, which grows the table under us. */
	while ((i = subs_next_match(p->subs, ev.type, &pos)) >= 0) {
		ss_event_fn fn = subs_fn(p->subs, (size_t)i);
		called++;
		if (fn(p, &ev) != 0)
			failed++;
	}
	sdk_set_current_event(NULL);

	if (failed == 0 && p->protocol >= 4) {
		channel_ack(p->ch,
			    ev.id); /* sent with the next frame, or when the loop would wait */
	} else if (failed == 0) {
		send_or_die(p, msg_reply_ok(ev.id));
	} else {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu of %zu handlers failed", failed, called);
		send_or_die(p, msg_reply_error(ev.id, ERR_HANDLER, msg));
	}
}

/*
 * Live reconfiguration. Without an on_config hook the plugin cannot take a
 * new configuration in place: the reply says so (unimplemented) and the
 * daemon restarts the host with it.
 */
static void on_config(struct ss_plugin *p, json_object *m)
{
	int64_t id;
	json_object *config = msg_get_obj(m, "config");

	if (!msg_get_int(m, "id", &id))
		host_protocol_error(ERR_BAD_MESSAGE, "id", m);
	if (config == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "config", m);
	if (p->def->on_config == NULL) {
		send_or_die(p, msg_reply_error(id, ERR_UNIMPLEMENTED,
					       "plugin has no on_config hook: restart it"));
		return;
	}
	if (p->def->on_config(p, config) != 0) {
		send_or_die(p,
			    msg_reply_error(id, ERR_HANDLER, "plugin rejected the configuration"));
		return;
	}
	sdk_set_config(p, json_object_get(config));
	send_or_die(p, msg_reply_ok(id));
}

/* A reply to one of our requests (subscribe); an unknown id is a protocol error. */
static void on_reply(struct ss_plugin *p, json_object *m)
{
	int64_t id;
	char *pattern = NULL;
	json_object *err;

	if (!msg_get_int(m, "id", &id))
		host_protocol_error(ERR_BAD_MESSAGE, "id", m);
	if (!sdk_take_pending(p, id, &pattern))
		host_protocol_error(ERR_BAD_MESSAGE, "reply to an id that is not outstanding", m);
	err = msg_get_obj(m, "error");
	if (err != NULL) {
		const char *msg = msg_get_str(err, "message");
		diag("subscription '%s' refused: %s", pattern, msg ? msg : "?");
		subs_remove(p->subs, pattern);
	}
	free(pattern);
}

/* Whether the held acks must go out before the next event's handler. */
static bool acks_due(const struct ss_plugin *p)
{
	int64_t age_ns;
	return channel_ack_held(p->ch, &age_ns) >= ACK_HOLD_N || age_ns >= ACK_HOLD_NS;
}

static void flush_acks(struct ss_plugin *p)
{
	if (channel_ack_flush(p->ch) < 0)
		die(HOST_EXIT_PROTOCOL, "daemon went away: %s", strerror(errno));
}

static void serve(struct ss_plugin *p)
{
	for (;;) {
		/* What came while the plugin waited on a call goes first, in order. */
		json_object *m = call_take_deferred(p);
		enum msg_type t;
		int64_t id;

		/*
		 * Acks are held while the host goes on to the next event already
		 * read (one frame answers the run). They go out before it would
		 * wait for the daemon, before a handler of anything but an event,
		 * and before an event's handler once ACK_HOLD_N are held or the
		 * oldest is ACK_HOLD_NS old. The daemon charges a crash only to
		 * an event alone in flight (PROTOCOL.md, "Acknowledgements"), so a
		 * held ack never gets a handled event set aside as poison.
		 */
		if (m == NULL) {
			if (!channel_has_frame(p->ch))
				flush_acks(p);
			m = host_recv(p);
		}
		t = msg_type_of(m);
		if (t != MSG_EVENT || acks_due(p))
			flush_acks(p);
		switch (t) {
		case MSG_EVENT:
			on_event(p, m);
			break;
		case MSG_CONFIG:
			on_config(p, m);
			break;
		case MSG_PING:
			if (!msg_get_int(m, "id", &id))
				host_protocol_error(ERR_BAD_MESSAGE, "id", m);
			{
				json_object *pong = msg_new_request(MSG_PONG, id);
				send_or_die(p, pong);
			}
			break;
		case MSG_REPLY:
			on_reply(p, m);
			break;
		case MSG_HTTP_REQUEST:
			route_serve(p, m);
			break;
		case MSG_JOB:
			job_serve(p, m);
			break;
		case MSG_SHUTDOWN:
			json_object_put(m);
			p->phase = PHASE_UNLOADING;
			if (p->def->on_unload != NULL)
				p->def->on_unload(p);
			host_exit(HOST_EXIT_OK);
		default:
			host_protocol_error(ERR_OUT_OF_STATE, "not allowed while serving", m);
		}
		json_object_put(m);
	}
}

void serve_run(const struct ss_plugin_def *def, struct channel *ch, json_object *sandbox)
{
	struct ss_plugin *p = sdk_plugin_new(def, ch, NULL);

	send_hello(p, sandbox);
	handshake(p);
	load(p);
	serve(p);
	host_exit(HOST_EXIT_INTERNAL);
}
