/*
 * The daemon's end of one plugin host's channel (proto/PROTOCOL.md): the
 * socket, the handshake, the table of which message is allowed in which
 * state, the requests outstanding in both directions, pings and the
 * deadlines of a conversation. A peer knows nothing of processes: the
 * supervisor owns the host's pid and decides what an ending means.
 *
 * Every way a conversation ends - end of stream, a bad frame, a protocol
 * error, a missed deadline, a rejected hello, or peer_end() from the owner -
 * reaches the lost callback exactly once, from the event loop (never from
 * inside a peer_* call), so the owner may free the peer there.
 */
#ifndef SS_PEER_H
#define SS_PEER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcause.h"
#include "jobs.h"
#include "msg.h"

/*
 * Event priorities (event_base_priority_init with PEER_PRIORITIES): a host
 * with events in flight is served at PEER_PRIO_HOST, before the default
 * priority of everything else (HTTP); see peer.c, set_priority.
 */
#define PEER_PRIORITIES 2
#define PEER_PRIO_HOST 0

struct bus;
struct bus_sub;
struct call_services;
struct event_base;
struct hostlog;
struct peer;
struct pending_kind;

/* What the conversation needs to know. Strings and objects are borrowed for the call. */
struct peer_params {
	const char *name;	  /* the plugin the host was started for */
	json_object *config;	  /* sent in init (a reference is kept) */
	json_object *permissions; /* array of strings (a reference is kept) */
	size_t max_frame;
	int handshake_timeout_ms; /* hello, then ready, each within this */
	int event_timeout_ms;	  /* the oldest event and a config answered within this */
	int ping_interval_ms;
	int ping_timeout_ms;
	bool strict; /* reject a host that reports a missing sandbox layer */
	const struct call_services *services; /* who answers the host's calls (borrowed) */
};

/*
 * The owner's callbacks. ready: the handshake is done and events flow.
 * lost: the conversation is over; cause is CAUSE_NONE when the host closed
 * the channel (its exit status says why), else what the peer decided, with
 * a sentence in reason. told is true when the host was sent why (reject)
 * and may be given time to exit on its own; otherwise the host should be
 * ended now.
 */
struct peer_owner {
	void (*ready)(struct peer *peer, void *arg);
	void (*lost)(struct peer *peer, enum exit_cause cause, const char *reason, bool told,
		     void *arg);
	void *arg;
};

/*
 * A new peer over sock (the daemon's end of the socketpair, consumed),
 * waiting for hello. sub (the plugin's bus subscriber) and out (its log) are
 * borrowed and must outlive the peer.
 */
struct peer *peer_new(struct event_base *base, struct bus *bus, struct bus_sub *sub,
		      struct hostlog *out, int sock, const struct peer_params *params,
		      const struct peer_owner *owner);
/*
 * Frees the peer and closes its socket. Requests still outstanding get
 * their done callback ("lost") now; lost itself is not called. NULL is fine.
 */
void peer_free(struct peer *peer);

/* Ends the conversation now for the owner's reason: lost follows with it. */
void peer_end(struct peer *peer, enum exit_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queues one message (consumed) to the host; dropped once the channel is closed. */
void peer_send(struct peer *peer, json_object *m);

/* The bus has events for this host (call from the subscriber's ready callback). */
void peer_kick(struct peer *peer);

/* Whether the handshake is done and the host has not been asked to stop. */
bool peer_serving(const struct peer *peer);

/* Sends shutdown: no more events or pings; the host is expected to exit. */
void peer_shutdown(struct peer *peer);

/*
 * Sends a daemon request of type t to a serving host: "t", a fresh "id",
 * then body's fields (consumed, may be NULL). kind (pending.h, static data
 * of the caller) says how the host answers and what its answer or its
 * absence does with ctx: answered or abandoned is called exactly once, from
 * the loop, or abandoned from peer_free. The host must answer within
 * timeout_ms (0: the event timeout), or the peer ends (deadline). -1 when
 * the peer is not serving: nothing sent, body freed, no callback.
 * Each kind of request lives beside its verb, in its own file
 * (peer_config.c).
 */
int peer_request(struct peer *peer, const struct pending_kind *kind, enum msg_type t,
		 json_object *body, int timeout_ms, void *ctx);

/*
 * The host's answer to a config request: ok, or rejected with the code and
 * message it gave, or (code "lost") the conversation ended first.
 */
typedef void (*peer_config_fn)(void *arg, bool ok, const char *code, const char *message);

/*
 * Sends config (borrowed) to a serving host (peer_config.c); done is called exactly once:
 * from the event loop, or from peer_free if the peer is freed first. -1 when the peer is not
 * serving (nothing sent, done not called).
 */
int peer_configure(struct peer *peer, json_object *config, peer_config_fn done, void *arg);

/* The plugin's HTTP routes as its host declared them (route.add; borrowed). */
struct proutes;
const struct proutes *peer_routes(const struct peer *peer);

/* How many daemon requests of kind are outstanding (a kind's window). */
size_t peer_outstanding(const struct peer *peer, const struct pending_kind *kind);
/*
 * Asks a serving host to run its job now (peer_job.c): a job request due
 * within timeout_ms, the host's time in calls not counted; done is called
 * exactly once, with the host's answer or "lost" (from the loop, or from
 * peer_free). -1 when the peer is not serving (nothing sent, no callback).
 * A run that misses its deadline ends the peer (deadline). The run of
 * jobs_host_ops.
 */
int peer_job(struct peer *peer, const char *job, int timeout_ms, jobs_done_fn done, void *arg);

/* What the host declared (borrowed): version (NULL before hello), sandbox, subscriptions. */
void peer_declared(const struct peer *peer, const char **version, json_object **sandbox,
		   json_object **subscriptions);

#endif
