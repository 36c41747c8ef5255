/*
 * One host's conversation (PROTOCOL.md). The shape follows tmux's proc.c and
 * OpenSSH's monitor.c: what may arrive in which state is a table, anything
 * else ends the peer, and every ending goes through lose(), which reports it
 * to the owner once, from the loop.
 */
#define _GNU_SOURCE
#include "peer.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "call.h"
#include "clock.h"
#include "frame.h"
#include "grants.h"
#include "handshake.h"
#include "hostlog.h"
#include "log.h"
#include "msg.h"
#include "pending.h"
#include "route_add.h"
#include "proute.h"
#include "xmalloc.h"

#define READ_BUDGET 256	 /* frames handled per host per loop turn */
#define READ_CHUNK 16384 /* bytes read from one host per loop turn */
#define TICK_MS 100	 /* how often outstanding requests are checked against their deadline */

/* Where the conversation stands. */
enum peer_state {
	PS_HELLO,    /* waiting for hello */
	PS_INIT,     /* init sent, waiting for ready or fail */
	PS_SERVING,  /* events, requests, pings */
	PS_STOPPING, /* shutdown sent: answers and logs still welcome, nothing new sent */
	PS_LOST,     /* over: lost is reported (or about to be) */
};
#define IN(s) (1u << (s))

struct peer {
	struct event_base *base;
	struct bus *bus;
	struct bus_sub *sub;
	struct hostlog *out;
	struct peer_owner owner;
	char *name;
	json_object *config, *permissions;
	size_t max_frame;
	int handshake_timeout_ms, event_timeout_ms, ping_interval_ms, ping_timeout_ms;
	bool strict;

	enum peer_state state;
	struct bufferevent *chan;
	struct pending *requests;
	struct calls *calls;	       /* the host's call to a service, at most one */
	struct proutes *routes;	       /* its HTTP routes (route.add, route_add.c) */
	struct jobs *jobs;	       /* its scheduled jobs (jobs.h), or NULL */
	struct event *handshake_timer; /* hello and ready within handshake_timeout_ms */
	struct event *ping_timer;      /* sends a ping every ping_interval_ms */
	struct event *deadline_timer;  /* outstanding requests and events answered in time */
	struct event *kick;	       /* deferred flush of events (host priority) */
	struct event *more;	       /* reading past the budget (HTTP's priority) */
	int prio;		       /* the channel's priority now (set_priority) */
	struct event *end;	       /* reports the loss from the loop */

	/* What the host declared. */
	int protocol; /* negotiated in hello/init */
	char *version;
	json_object *sandbox, *subscriptions;

	/* Why it ended. */
	enum exit_cause cause;
	char *reason;
	bool told;
};

/* ---- sending ---- */

void peer_send(struct peer *peer, json_object *m)
{
	if (peer->chan != NULL &&
	    frame_append_obj(bufferevent_get_output(peer->chan), m, peer->max_frame) < 0)
		log_error(peer->name, "message over the frame limit not sent");
	json_object_put(m);
}

/* ---- the end ---- */

static void close_chan(struct peer *peer)
{
	if (peer->chan != NULL) {
		bufferevent_free(peer->chan);
		peer->chan = NULL;
	}
}

/* A rejected host has read why (or cannot): our end closes. */
static void reject_drained(struct bufferevent *bev, void *arg)
{
	struct peer *peer = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		close_chan(peer);
}

static void reject_chan_event(struct bufferevent *bev, short what, void *arg)
{
	close_chan(arg);
}

/*
 * The one way a conversation ends: stops every timer, closes the channel
 * (after the last words when the host is being told why) and reports the
 * loss from the loop, so no caller up the stack sees a freed peer.
 */
static void lose(struct peer *peer, enum exit_cause cause, bool told, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lose(struct peer *peer, enum exit_cause cause, bool told, const char *fmt, ...)
{
	va_list ap;

	if (peer->state == PS_LOST)
		return;
	peer->state = PS_LOST;
	peer->cause = cause;
	peer->told = told;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&peer->reason, fmt, ap) < 0)
			peer->reason = NULL;
		va_end(ap);
	}
	evtimer_del(peer->handshake_timer);
	evtimer_del(peer->ping_timer);
	evtimer_del(peer->deadline_timer);
	event_del(peer->kick);
	event_del(peer->more);
	jobs_host_stop(peer->jobs, peer);
	if (told && peer->chan != NULL) {
		bufferevent_disable(peer->chan, EV_READ);
		bufferevent_setcb(peer->chan, NULL, reject_drained, reject_chan_event, peer);
		reject_drained(peer->chan, peer);
	} else {
		close_chan(peer);
	}
	event_active(peer->end, EV_TIMEOUT, 0);
}

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;

	/* Whoever waits for an answer from the host learns there will be none. */
	pending_abandon_all(peer->requests);
	peer->owner.lost(peer, peer->cause, peer->reason, peer->told, peer->owner.arg);
}

void peer_end(struct peer *peer, enum exit_cause cause, const char *fmt, ...)
{
	va_list ap;
	char *reason = NULL;

	if (peer->state == PS_LOST)
		return;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	lose(peer, cause, false, "%s", reason ? reason : exit_cause_name(cause));
	free(reason);
}

/* A fault of the host's: the conversation ends, and the host is to be ended at once. */
#define fault(peer, cause, ...) lose((peer), (cause), false, __VA_ARGS__)

/*
 * Turns a host away with reject {error} (PROTOCOL.md, handshake) and lets it
 * read why before the channel closes.
 */
static void reject(struct peer *peer, enum exit_cause cause, const char *code, const char *message)
{
	json_object *r = msg_new(MSG_REJECT);

	json_object_object_add(r, "error", msg_error_obj(code, message));
	peer_send(peer, r);
	log_warn(peer->name, "rejecting host: %s", message);
	lose(peer, cause, true, "%s", message);
}

/* ---- outstanding requests (pending.h) ---- */

/*
 * The kinds this file sends or takes; the daemon's other requests (config,
 * and routes and jobs next) are defined by their senders, beside their verb,
 * and go through peer_request. An event is a daemon request too, but its
 * window lives in the bus (which redelivers it after a crash), so a reply
 * that matches no entry in the table goes to the bus.
 */
static const struct pending_kind ping_kind = {.name = "ping", .answer = MSG_PONG, .missed = "pong"};
static const struct pending_kind host_kind = {.name = "host request", .from_host = true};

/*
 * A request from the host: its id must be present and not outstanding
 * already (ids are unique per direction). NULL when the peer was ended.
 */
static struct pending_req *host_request(struct peer *peer, json_object *m, enum msg_type t)
{
	int64_t id;

	if (!msg_get_int(m, "id", &id)) {
		fault(peer, CAUSE_PROTOCOL, "%s without id", msg_type_name(t));
		return NULL;
	}
	if (pending_find(peer->requests, id, true) != NULL) {
		fault(peer, CAUSE_PROTOCOL, "%s reuses id %" PRId64 ", still outstanding",
		      msg_type_name(t), id);
		return NULL;
	}
	return pending_add(peer->requests, id, &host_kind, 0, NULL);
}

/* Answers a host's request (reply consumed) and forgets it. */
static void host_answer(struct peer *peer, struct pending_req *r, json_object *reply)
{
	peer_send(peer, reply);
	pending_remove(peer->requests, r);
}

/* Sends a daemon request of kind: "t", "id", then body's fields (consumed, may be NULL). */
static void request_send(struct peer *peer, const struct pending_kind *kind, enum msg_type t,
			 json_object *body, int timeout_ms, void *ctx)
{
	int64_t id = bus_next_id(peer->bus);
	json_object *m = msg_new_request(t, id);

	if (body != NULL) {
		json_object_object_foreach(body, k, v)
		{
			json_object_object_add(m, k, json_object_get(v));
		}
		json_object_put(body);
	}
	pending_add(peer->requests, id, kind, timeout_ms, ctx);
	peer_send(peer, m);
}

int peer_request(struct peer *peer, const struct pending_kind *kind, enum msg_type t,
		 json_object *body, int timeout_ms, void *ctx)
{
	if (peer->state != PS_SERVING) {
		json_object_put(body);
		return -1;
	}
	request_send(peer, kind, t, body, timeout_ms > 0 ? timeout_ms : peer->event_timeout_ms,
		     ctx);
	return 0;
}

/*
 * Host I/O comes before HTTP work (PEER_PRIO_HOST) while the host has
 * events to answer, so the answers that open its window are read before
 * more events are accepted; a host with nothing in flight speaks at HTTP's
 * priority, so one that floods cannot starve the API. Set only on a change:
 * this runs for every flush and every answer.
 */
static void set_priority(struct peer *peer)
{
	int want = bus_sub_inflight(peer->sub) > 0 ? PEER_PRIO_HOST : PEER_PRIO_HOST + 1;
	if (want != peer->prio && bufferevent_priority_set(peer->chan, want) == 0)
		peer->prio = want;
}

/* ---- handlers, one per message type the host may send ---- */

static void on_hello(struct peer *peer, json_object *m)
{
	struct handshake_outcome o;

	handshake_hello(&(struct handshake_expect){.name = peer->name,
						   .strict = peer->strict,
						   .config = peer->config,
						   .permissions = peer->permissions,
						   .max_frame = peer->max_frame,
						   .event_timeout_ms = peer->event_timeout_ms,
						   .ping_interval_ms = peer->ping_interval_ms},
			m, &o);
	if (o.verdict == HS_FAULT) {
		fault(peer, o.cause, "%s", o.message);
		return;
	}
	if (o.verdict == HS_REJECT) {
		reject(peer, o.cause, o.code, o.message);
		return;
	}
	json_object_put(peer->sandbox);
	peer->sandbox = o.sandbox;
	free(peer->version);
	peer->version = xstrdup(o.version);
	peer->protocol = o.protocol;
	peer_send(peer, o.init);
	peer->state = PS_INIT;
}

/* How the jobs service runs a job of this host (peer_job.c). */
static const struct jobs_host_ops job_ops = {.run = peer_job};

static void on_ready(struct peer *peer, json_object *m)
{
	struct timeval ping = clock_tv(peer->ping_interval_ms), tick = clock_tv(TICK_MS);
	json_object *subs;
	enum exit_cause cause;
	char why[256];

	if (handshake_ready(peer->permissions, m, &subs, &cause, why, sizeof why) < 0) {
		fault(peer, cause, "%s", why);
		return;
	}
	json_object_put(peer->subscriptions);
	peer->subscriptions = json_object_get(subs);
	bus_sub_set_patterns_json(peer->sub, peer->subscriptions);
	/* Platform events go to admin plugins only, whatever their patterns say. */
	bus_sub_set_platform(peer->sub, grants_has(peer->permissions, "admin"));
	evtimer_del(peer->handshake_timer);
	peer->state = PS_SERVING;
	evtimer_add(peer->ping_timer, &ping);
	evtimer_add(peer->deadline_timer, &tick);
	if (peer->jobs != NULL)
		jobs_host_ready(peer->jobs, peer, peer->name, &job_ops);
	peer->owner.ready(peer, peer->owner.arg);
}

static void on_fail(struct peer *peer, json_object *m)
{
	const char *text = msg_get_str(msg_get_obj(m, "error"), "message");
	fault(peer, CAUSE_LOAD, "on_load failed: %.200s", text ? text : "");
}

/* A host's log record: "<level> <plugin>: <msg> key=value ...". */
static void on_log(struct peer *peer, json_object *m)
{
	if (hostlog_record(peer->out, m) < 0)
		fault(peer, CAUSE_PROTOCOL, "log message without a valid level or msg");
}

/* A reply answers an outstanding request of ours: one in the table, else an event. */
static void on_reply(struct peer *peer, json_object *m)
{
	json_object *error = msg_get_obj(m, "error");
	struct pending_req *r;
	int64_t id;

	if (!msg_get_int(m, "id", &id)) {
		fault(peer, CAUSE_PROTOCOL, "reply without id");
		return;
	}
	if ((r = pending_find(peer->requests, id, false)) != NULL) {
		if (r->kind->answer != MSG_REPLY) {
			fault(peer, CAUSE_PROTOCOL, "reply to a %s", r->kind->name);
			return;
		}
		pending_answer(peer->requests, r, m);
		return;
	}
	if (bus_sub_ack(peer->sub, id, error == NULL) < 0) {
		fault(peer, CAUSE_PROTOCOL, "reply to id %" PRId64 " that is not outstanding", id);
		return;
	}
	set_priority(peer);
	if (error != NULL) {
		const char *text = msg_get_str(error, "message");
		log_warn(peer->name, "handler failed on event %" PRId64 ": %.200s", id,
			 text ? text : "");
	}
}

/*
 * A cumulative acknowledgement (protocol 4): one frame for the n oldest
 * events in flight, all handled. The bus checks n and the last id against
 * its window before it counts anything; a host that acks what it was not
 * sent, or goes back, breaks the protocol.
 */
static void on_ack(struct peer *peer, json_object *m)
{
	int64_t n = 0, last = 0;

	if (peer->protocol < 4) {
		fault(peer, CAUSE_PROTOCOL, "ack on protocol %d (acks are protocol 4)",
		      peer->protocol);
		return;
	}
	if (!msg_ack_get(m, &n, &last)) {
		fault(peer, CAUSE_PROTOCOL, "ack without integer n (1 to %d) and id",
		      MSG_ACK_N_MAX);
		return;
	}
	if (bus_sub_ack_n(peer->sub, n, last) < 0) {
		fault(peer, CAUSE_PROTOCOL,
		      "ack of %" PRId64 " events up to id %" PRId64
		      " does not match the %zu in flight",
		      n, last, bus_sub_inflight(peer->sub));
		return;
	}
	set_priority(peer);
}

static void on_pong(struct peer *peer, json_object *m)
{
	struct pending_req *r;
	int64_t id;

	if (!msg_get_int(m, "id", &id) || (r = pending_find(peer->requests, id, false)) == NULL ||
	    r->kind->answer != MSG_PONG) {
		fault(peer, CAUSE_PROTOCOL, "pong to no ping");
		return;
	}
	pending_answer(peer->requests, r, m);
}

static void on_subscribe(struct peer *peer, json_object *m)
{
	struct pending_req *r = host_request(peer, m, MSG_SUBSCRIBE);
	const char *pat = msg_get_str(m, "pattern");
	char why[256];

	if (r == NULL)
		return;
	if (pat == NULL) {
		fault(peer, CAUSE_PROTOCOL, "subscribe without pattern");
		return;
	}
	if (grants_subscribe(peer->permissions, pat, why, sizeof why) < 0) {
		host_answer(peer, r, msg_reply_error(r->id, ERR_PERMISSION, why));
		return;
	}
	if (json_object_array_length(peer->subscriptions) >= SUBSCRIPTIONS_MAX) {
		host_answer(peer, r,
			    msg_reply_error(r->id, ERR_TOO_LARGE, "at most 64 subscriptions"));
		return;
	}
	json_object_array_add(peer->subscriptions, json_object_new_string(pat));
	bus_sub_set_patterns_json(peer->sub, peer->subscriptions);
	host_answer(peer, r, msg_reply_ok(r->id));
}

/* A call to a service (call.c): storage, emit, and what comes next. */
static void on_call(struct peer *peer, json_object *m)
{
	calls_arrive(peer->calls, m);
}

/* A route declaration (route_add.c), answered at once. */
static void on_route_add(struct peer *peer, json_object *m)
{
	struct pending_req *r = host_request(peer, m, MSG_ROUTE_ADD);

	if (r != NULL)
		host_answer(
		    peer, r,
		    route_add_answer(peer->routes, peer->permissions, peer->name, m, r->id));
}

static void calls_paused(struct peer *peer, int64_t ms)
{
	pending_shift(peer->requests, ms);
}

/*
 * What the host may send, and when (OpenSSH's MON_PERMIT as data). A type
 * without a row, or a row whose states exclude the current one, ends the peer.
 */
#define AFTER_READY (IN(PS_SERVING) | IN(PS_STOPPING))
static const struct handler {
	unsigned states;
	void (*fn)(struct peer *, json_object *);
} handlers[MSG_TYPE_COUNT] = {
    [MSG_HELLO] = {IN(PS_HELLO), on_hello},
    [MSG_READY] = {IN(PS_INIT), on_ready},
    [MSG_FAIL] = {IN(PS_INIT), on_fail},
    [MSG_LOG] = {IN(PS_INIT) | AFTER_READY, on_log},
    [MSG_REPLY] = {AFTER_READY, on_reply},
    [MSG_PONG] = {AFTER_READY, on_pong},
    [MSG_ACK] = {AFTER_READY, on_ack},
    [MSG_SUBSCRIBE] = {IN(PS_SERVING), on_subscribe},
    [MSG_EMIT] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_STORAGE_GET] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_STORAGE_SET] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_STORAGE_DELETE] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_STORAGE_LIST] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_EGRESS_REQUEST] = {IN(PS_INIT) | AFTER_READY, on_call},
    [MSG_ROUTE_ADD] = {IN(PS_INIT) | IN(PS_SERVING), on_route_add},
    /* Jobs are declared in on_load: a host's set is fixed once it is ready. */
    [MSG_JOB_ADD] = {IN(PS_INIT), on_call},
};

static void dispatch(struct peer *peer, json_object *m)
{
	enum msg_type t = msg_type_of(m);
	const struct handler *h = &handlers[t];

	if (t == MSG_UNKNOWN || !(msg_type_dir(t) & MSG_FROM_HOST) || h->fn == NULL) {
		const char *name = msg_get_str(m, "t");
		fault(peer, CAUSE_PROTOCOL, "unknown message type \"%.64s\"",
		      name ? name : "(none)");
		return;
	}
	if (!(h->states & IN(peer->state))) {
		fault(peer, CAUSE_PROTOCOL, "message \"%s\" out of state", msg_type_name(t));
		return;
	}
	h->fn(peer, m);
}

/* ---- I/O ---- */

/*
 * Reads at most READ_BUDGET frames per turn, so a host that sends as fast as
 * it can still leaves the loop to other hosts and to HTTP.
 */
static void chan_process(struct peer *peer)
{
	char err[160];

	for (int i = 0; i < READ_BUDGET && peer->state != PS_LOST; i++) {
		json_object *m = NULL;
		enum frame_result r = frame_pull(bufferevent_get_input(peer->chan), peer->max_frame,
						 &m, err, sizeof err);
		if (r == FRAME_NEED_MORE)
			return;
		if (r == FRAME_ERROR) {
			fault(peer, CAUSE_PROTOCOL, "bad frame: %s", err);
			return;
		}
		dispatch(peer, m);
		json_object_put(m);
	}
	/* Budget spent with frames left: continue next turn, after everyone else. */
	if (peer->state != PS_LOST && evbuffer_get_length(bufferevent_get_input(peer->chan)) > 0)
		event_active(peer->more, EV_READ, 0);
}

static void more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;
	if (peer->state != PS_LOST)
		chan_process(peer);
}

static void chan_read(struct bufferevent *bev, void *arg)
{
	chan_process(arg);
}

/* End of stream or a socket error: what is already read still counts. */
static void chan_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer *peer = arg;

	chan_process(peer);
	lose(peer, CAUSE_NONE, false, NULL);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;

	if (peer->state == PS_LOST)
		return;
	if (peer->state == PS_SERVING &&
	    bus_sub_flush(peer->sub, bufferevent_get_output(peer->chan)))
		set_priority(peer);
}

void peer_kick(struct peer *peer)
{
	if (peer->state == PS_SERVING)
		event_active(peer->kick, EV_WRITE, 0);
}

/* ---- timers ---- */

static void handshake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;
	fault(peer, CAUSE_DEADLINE, "no %s within %d ms",
	      peer->state == PS_HELLO ? "hello" : "ready", peer->handshake_timeout_ms);
}

static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;

	/* Still waiting for the last pong: the deadline timer decides. */
	if (peer->state != PS_SERVING || pending_has_kind(peer->requests, &ping_kind))
		return;
	request_send(peer, &ping_kind, MSG_PING, NULL, peer->ping_timeout_ms, NULL);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;
	int64_t now = clock_mono_ms(), age = bus_sub_oldest_age_ms(peer->sub, now);
	struct pending_req *r;

	/* The plugin waits on the daemon's work: its event's clock is stopped (call.c). */
	if (age > peer->event_timeout_ms && !calls_busy(peer->calls)) {
		fault(peer, CAUSE_DEADLINE, "event not handled within %d ms",
		      peer->event_timeout_ms);
		return;
	}
	/* A route's handler waiting on a call is paused too (pending_shift, calls_paused). */
	if ((r = pending_overdue(peer->requests, now, calls_busy(peer->calls))) != NULL) {
		const char *missed = r->kind->missed;
		int ms = r->timeout_ms;
		pending_expire(peer->requests, r); /* a route's caller hears 504 */
		fault(peer, CAUSE_DEADLINE, "no %s within %d ms", missed, ms);
	}
}

/* ---- the owner's verbs ---- */

struct peer *peer_new(struct event_base *base, struct bus *bus, struct bus_sub *sub,
		      struct hostlog *out, int sock, const struct peer_params *params,
		      const struct peer_owner *owner)
{
	struct peer *peer = xcalloc(1, sizeof *peer);
	struct timeval hs = clock_tv(params->handshake_timeout_ms);

	peer->base = base;
	peer->bus = bus;
	peer->sub = sub;
	peer->out = out;
	peer->owner = *owner;
	peer->name = xstrdup(params->name);
	peer->config = params->config ? json_object_get(params->config) : json_object_new_object();
	peer->permissions =
	    params->permissions ? json_object_get(params->permissions) : json_object_new_array();
	peer->max_frame = params->max_frame ? params->max_frame : FRAME_MAX_DEFAULT;
	peer->handshake_timeout_ms = params->handshake_timeout_ms;
	peer->event_timeout_ms = params->event_timeout_ms;
	peer->ping_interval_ms = params->ping_interval_ms;
	peer->ping_timeout_ms = params->ping_timeout_ms;
	peer->strict = params->strict;
	peer->state = PS_HELLO;
	peer->sandbox = json_object_new_object();
	peer->subscriptions = json_object_new_array();
	peer->requests = pending_new();
	peer->routes = proutes_new();
	peer->calls =
	    calls_new(base, &(struct calls_owner){peer_send, peer_end, calls_paused, peer}, sub,
		      params->name, peer->permissions, params->services);
	peer->jobs = params->services != NULL ? params->services->jobs : NULL;

	peer->handshake_timer = evtimer_new(base, handshake_cb, peer);
	peer->ping_timer = event_new(base, -1, EV_PERSIST, ping_cb, peer);
	peer->deadline_timer = event_new(base, -1, EV_PERSIST, deadline_cb, peer);
	peer->kick = event_new(base, -1, 0, kick_cb, peer);
	peer->more = event_new(base, -1, 0, more_cb, peer);
	peer->end = event_new(base, -1, 0, end_cb, peer);
	peer->chan = bufferevent_socket_new(base, sock, BEV_OPT_CLOSE_ON_FREE);
	if (peer->handshake_timer == NULL || peer->ping_timer == NULL ||
	    peer->deadline_timer == NULL || peer->kick == NULL || peer->more == NULL ||
	    peer->end == NULL || peer->chan == NULL)
		fatal("peer_new: out of memory");
	bufferevent_set_max_single_read(peer->chan, READ_CHUNK);
	/* Bounded memory per host: stop reading a host whose input piles up. */
	bufferevent_setwatermark(peer->chan, EV_READ, 0,
				 peer->max_frame + FRAME_HEADER_LEN + READ_CHUNK);
	bufferevent_setcb(peer->chan, chan_read, NULL, chan_event, peer);
	/* One priority below the host's for what may wait (fails harmlessly on a one-priority
	 * base). */
	event_priority_set(peer->kick, PEER_PRIO_HOST);
	event_priority_set(peer->more, PEER_PRIO_HOST + 1);
	set_priority(peer);
	bufferevent_enable(peer->chan, EV_READ | EV_WRITE);
	evtimer_add(peer->handshake_timer, &hs);
	return peer;
}

void peer_free(struct peer *peer)
{
	if (peer == NULL)
		return;
	close_chan(peer);
	pending_abandon_all(peer->requests);
	pending_free(peer->requests);
	/* After the abandons: every run's done has been called. */
	if (peer->jobs != NULL) {
		jobs_host_stop(peer->jobs, peer);
		jobs_host_gone(peer->jobs, peer);
	}
	calls_free(peer->calls);
	proutes_free(peer->routes);
	event_free(peer->handshake_timer);
	event_free(peer->ping_timer);
	event_free(peer->deadline_timer);
	event_free(peer->kick);
	event_free(peer->more);
	event_free(peer->end);
	json_object_put(peer->config);
	json_object_put(peer->permissions);
	json_object_put(peer->sandbox);
	json_object_put(peer->subscriptions);
	free(peer->version);
	free(peer->reason);
	free(peer->name);
	free(peer);
}

bool peer_serving(const struct peer *peer)
{
	return peer->state == PS_SERVING;
}

void peer_shutdown(struct peer *peer)
{
	if (peer->state != PS_SERVING)
		return;
	peer_send(peer, msg_new(MSG_SHUTDOWN));
	peer->state = PS_STOPPING;
	jobs_host_stop(peer->jobs, peer);
	evtimer_del(peer->ping_timer);
	evtimer_del(peer->deadline_timer);
}

void peer_declared(const struct peer *peer, const char **version, json_object **sandbox,
		   json_object **subscriptions)
{
	*version = peer->version;
	*sandbox = peer->sandbox;
	*subscriptions = peer->subscriptions;
}

const struct proutes *peer_routes(const struct peer *peer)
{
	return peer->routes;
}

size_t peer_outstanding(const struct peer *peer, const struct pending_kind *kind)
{
	return pending_count_kind(peer->requests, kind);
}
