/*
 * Calls from a host (PROTOCOL.md, "Calls"): storage and emit now; egress,
 * routes' answers and jobs are more rows of the same table. One peer has at
 * most one call outstanding (the host is blocked in it): a second is a
 * protocol error that ends the peer. A call arrives from the peer, is checked
 * against the plugin's permissions, and goes to the service of its type,
 * which answers it - now or later, exactly once - with call_ok or
 * call_error. Each kind has its own timeout: past it the host is answered
 * timeout and the service's late answer is dropped. While a call is
 * outstanding the event deadline of the host is paused.
 *
 * A call outlives its peer: when the peer goes first, the call is orphaned
 * and freed when its service answers (which it always does: a database
 * statement always completes, with DB_DOWN at the latest).
 */
#ifndef SS_CALL_H
#define SS_CALL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcause.h"
#include "msg.h"

struct bus_sub;
struct call;
struct calls;
struct event_base;
struct jobs;
struct peer;

/* A service's handler: m is the request (borrowed for the call). */
typedef void (*call_fn)(void *arg, struct call *call, json_object *m);

struct call_service {
	enum msg_type type;
	const char *permission; /* needed for this type (admin holds all); NULL: none */
	int timeout_ms;		/* the daemon answers timeout past it */
	call_fn fn;
	void *arg;
};

/*
 * The rows a daemon serves (borrowed; must outlive every peer), and the
 * other services a host's conversation uses: its scheduled jobs.
 */
struct call_services {
	const struct call_service *rows;
	size_t n;
	struct jobs *jobs; /* jobs.h: armed when a host is ready; NULL: none */
};

/*
 * How a call table reaches its peer, which owns the channel: peer_send and
 * peer_end (peer.h), passed in so that this module does not depend on it.
 */
struct calls_owner {
	void (*send)(struct peer *peer, json_object *m); /* a reply to the host (consumed) */
	void (*end)(struct peer *peer, enum exit_cause cause, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/* The host waited ms on a call (its answer is being sent): pausing deadlines move. */
	void (*paused)(struct peer *peer, int64_t ms);
	struct peer *peer;
};

/* The call table of one peer. plugin and perms are copied / referenced. */
struct calls *calls_new(struct event_base *base, const struct calls_owner *owner,
			struct bus_sub *sub, const char *plugin, json_object *perms,
			const struct call_services *services);
/* Orphans the outstanding call, if any (its service still answers it). NULL is fine. */
void calls_free(struct calls *cs);

/* A call request from the host (a type of the table's rows or not: unimplemented). */
void calls_arrive(struct calls *cs, json_object *m);
/* Whether a call is outstanding (the event deadline is paused). */
bool calls_busy(const struct calls *cs);

/* Answers ok; fields (consumed, may be NULL) are added to the reply. Frees the call. */
void call_ok(struct call *call, json_object *fields);
/* Answers an error with code and a sentence. Frees the call. */
void call_error(struct call *call, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The plugin the call acts for: the peer's, never anything the host sent. */
const char *call_plugin(const struct call *call);
/* Its permissions as granted at install (an array of strings). */
json_object *call_permissions(const struct call *call);
enum msg_type call_type(const struct call *call);
/*
 * The peer the call came on while it is outstanding (a key for services
 * that keep per-host state, such as jobs), NULL once it is orphaned.
 */
struct peer *call_peer(const struct call *call);

#endif
