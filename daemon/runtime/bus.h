/*
 * The event bus. An accepted event is serialised once into a frame, and the
 * same refcounted bytes are queued to every plugin subscribed to it. Each
 * plugin has a bounded queue and an in-flight window; a full queue drops and
 * counts, and never blocks the reactor or another plugin.
 */
#ifndef SS_BUS_H
#define SS_BUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct bus;
struct bus_event;
struct bus_sub;

struct bus_options {
	size_t queue_max; /* events waiting per plugin (default 4096) */
	size_t
	    queue_bytes_max; /* bytes of events queued or in flight per plugin (default 64 MiB) */
	size_t bytes_max;    /* bytes of events the whole bus holds (default 256 MiB) */
	size_t window;	     /* events in flight per plugin (default 32) */
	size_t max_frame;    /* frame limit (default 1 MiB) */
};

/* Why an accepted event did not reach a plugin (each counted per plugin). */
enum bus_drop {
	BUS_DROP_OVERFLOW,    /* its queue was full (count or bytes) */
	BUS_DROP_DISABLED,    /* queued when the plugin was disabled or stopped */
	BUS_DROP_UNINSTALLED, /* queued when the plugin was uninstalled */
	BUS_DROP_SHUTDOWN,    /* still queued when the daemon stopped */
	BUS_DROP_HANDOVER,    /* durable: queued when another daemon took the plugin's delivery */
	BUS_DROP_COUNT
};
/* "overflow", "disabled", "uninstalled", "shutdown", "handover". */
const char *bus_drop_name(enum bus_drop why);

/* Called when a subscriber's queue has something to send (see bus_sub_flush). */
typedef void (*bus_ready_fn)(struct bus_sub *sub, void *arg);

struct bus *bus_new(const struct bus_options *opts);
void bus_free(struct bus *bus);

/*
 * Allocates the id of a daemon -> host request other than an event (config,
 * ping, http.request, job): from 3 * 2^61 up, a counter of its own, so the
 * events' ids stay consecutive (a ping between two POSTs takes none) and the
 * two never meet, with or without a database.
 */
int64_t bus_next_id(struct bus *bus);

/*
 * An accepted event is made in two steps, so that a batch is all or none by
 * construction. bus_prepare checks it (a valid name, an object as data,
 * nothing a host would refuse, a frame within the limit) and serialises it,
 * once: the frame built here is the bytes every host receives. It returns
 * NULL with a message in err, or the prepared event, which the caller owns
 * until it passes it to bus_commit or bus_discard. data is borrowed.
 */
struct bus_event *bus_prepare(struct bus *bus, const char *type, json_object *data, char *err,
			      size_t errlen);

/*
 * With a database, events carry the outbox's ids: bus_prepare_id takes the
 * id given (already unique; platform: an outbox row of the daemon's own,
 * checked as a platform event's name), and bus_use_external_ids moves the counter of
 * the events the bus still numbers itself to BUS_REQUEST_ID_BASE and up, far
 * above any outbox id (and below the requests' 3 * 2^61), so none meet in one
 * direction.
 */
#define BUS_REQUEST_ID_BASE ((int64_t)1 << 62)
struct bus_event *bus_prepare_id(struct bus *bus, int64_t id, const char *type, json_object *data,
				 bool platform, char *err, size_t errlen);
/*
 * bus_prepare_id for data this bus serialised itself when it accepted the
 * event (bus_event_data of a prepared event, stored and handed back by the
 * outbox): framed as it is, not parsed and checked again. A core event's
 * type only.
 */
struct bus_event *bus_prepare_serialised(struct bus *bus, int64_t id, const char *type,
					 const char *data, size_t len, char *err, size_t errlen);
/* Whether ev is a platform event (bus_publish_platform's, or an outbox row marked so). */
bool bus_event_platform(const struct bus_event *ev);
void bus_use_external_ids(struct bus *bus);
/* The prepared event's data as serialised (borrowed: len bytes, not terminated) and type. */
const char *bus_event_data(const struct bus_event *ev, size_t *len);
const char *bus_event_type(const struct bus_event *ev);

/*
 * Whether the bus holds bytes_max or more (events prepared, queued or in
 * flight anywhere): then new events are to be refused at the door (503),
 * not accepted and dropped. Counts the n events refused.
 */
bool bus_full(struct bus *bus, size_t n);
/*
 * Accepts a prepared event (consumed): queues it to each matching
 * subscriber. Cannot fail; returns the event's id.
 */
int64_t bus_commit(struct bus *bus, struct bus_event *ev);
/*
 * bus_commit for an event a plugin emitted: the subscriber named origin gets
 * it only through a pattern of its own namespace (PROTOCOL.md, "Emit").
 */
int64_t bus_commit_from(struct bus *bus, struct bus_event *ev, const char *origin);
/* Drops a prepared event that will not be committed (consumed; NULL is fine). */
void bus_discard(struct bus_event *ev);

/* bus_prepare then bus_commit: the event's id, or -1 when it is refused. */
int64_t bus_publish(struct bus *bus, const char *type, json_object *data);

/*
 * Publishes a platform event (names.h, name_event_is_platform; the one way
 * to make one) with data (an object, borrowed) to the subscribers that take
 * platform events (bus_sub_set_platform) and match it. about names the
 * plugin the event is about (NULL for system.*): it does not receive it, so
 * no plugin hears of its own crash and none can loop on it. The id, or -1
 * (logged: the daemon's own data should never be refused).
 */
int64_t bus_publish_platform(struct bus *bus, const char *type, const char *about,
			     json_object *data);

/*
 * A subscriber: one per running plugin, outliving its host's restarts. Its
 * counts live in the bus under its name and outlive it: a subscriber made
 * again for that name carries on with them.
 */
struct bus_sub *bus_sub_new(struct bus *bus, const char *name, bus_ready_fn ready, void *arg);
/* Frees the subscriber; what it still held is counted dropped for why. NULL is fine. */
void bus_sub_free(struct bus_sub *sub, enum bus_drop why);
/* Replaces the subscriber's patterns (from the host's ready message). */
void bus_sub_set_patterns(struct bus_sub *sub, const char *const *patterns, size_t n);
/* The same from a JSON array of strings (what a host declared; non-strings are skipped). */
void bus_sub_set_patterns_json(struct bus_sub *sub, json_object *patterns);
/*
 * Whether the subscriber takes platform events (its plugin has the admin
 * permission); false until set. Patterns still decide which.
 */
void bus_sub_set_platform(struct bus_sub *sub, bool platform);
/* Whether the subscriber takes events of this type. */
bool bus_sub_matches(const struct bus_sub *sub, const char *type);
/*
 * Whether it takes this event: its type matches, a platform event only if
 * it takes those, and the event's origin (the plugin that emitted it, or
 * that a platform event is about; NULL: none) only through a pattern of
 * its own namespace (bus_commit_from's rule, for durable delivery).
 */
bool bus_sub_takes(const struct bus_sub *sub, const char *type, bool platform, const char *origin);

/* Starts delivery (host ready) or pauses it (host gone). */
void bus_sub_attach(struct bus_sub *sub);
/*
 * The host went away: the events in flight go back to the front of the
 * queue. When crashed (or hung) with one event in flight, that one counts
 * an attempt; at two it is set aside as poison. With several in flight
 * none counts (a host may hold acks: any could have done it): they become
 * suspects and the window is one until each is answered, set aside or has
 * crashed a host alone (runtime/bus_suspect.c). Returns the number set
 * aside.
 */
size_t bus_sub_detach(struct bus_sub *sub, bool crashed);
/*
 * Holds delivery without touching the window: the events in flight stay
 * there, for the host that has them to answer (a blue/green switch: the old
 * host drains while the new one waits). bus_sub_attach resumes.
 */
void bus_sub_hold(struct bus_sub *sub);
/* Gives the wake-up callback to a new owner (the successor of an upgrade). */
void bus_sub_set_ready(struct bus_sub *sub, bus_ready_fn ready, void *arg);

/*
 * Moves queued events into the window and appends their frames to out.
 * Returns the number added.
 */
size_t bus_sub_flush(struct bus_sub *sub, struct evbuffer *out);

/*
 * The host answered event id. Returns 1 when it was the oldest in flight,
 * 0 when it was in flight out of order, -1 when no such event is in flight
 * (a protocol error). ok false counts a handler failure.
 */
int bus_sub_ack(struct bus_sub *sub, int64_t id, bool ok);

/*
 * A cumulative acknowledgement (protocol 4, "ack"): the n oldest events in
 * flight were handled, the last of them has id last. Each is counted
 * delivered. Returns 0, or -1 with nothing changed when n is below 1, more
 * than are in flight, or the n-th oldest is not last (a protocol error: an
 * ack beyond what was sent, going backwards, or of another event).
 */
int bus_sub_ack_n(struct bus_sub *sub, int64_t n, int64_t last);

/*
 * Durable delivery (runtime/deliver.c) feeds each subscriber on its own from
 * the outbox instead of bus_commit's broadcast: a plugin's queue holds the
 * next events after its cursor, and one that is full is read again from the
 * database later (nothing is dropped for being behind).
 */
/* The live subscriber of that name, or NULL. */
struct bus_sub *bus_sub_find(struct bus *bus, const char *name);
const char *bus_sub_name(const struct bus_sub *sub);
/* Whether a ready host declared its patterns (until then it matches nothing). */
bool bus_sub_declared(const struct bus_sub *sub);
/* Whether delivery is on (a host is ready and not held). */
bool bus_sub_attached(const struct bus_sub *sub);
/* Events the queue takes before it is full, and events waiting in it. */
size_t bus_sub_room(const struct bus_sub *sub);
size_t bus_sub_queued(const struct bus_sub *sub);
/*
 * Queues ev (not consumed: the caller still discards its reference) to this
 * subscriber alone, counted accepted; false, counting nothing, when its
 * queue is full by count or bytes.
 */
bool bus_sub_push(struct bus_sub *sub, struct bus_event *ev);
/* bus_sub_push of an event hosts already crashed on attempts times (another daemon's). */
bool bus_sub_push_tried(struct bus_sub *sub, struct bus_event *ev, unsigned attempts);
/* The oldest id below `below` the subscriber holds (in flight or queued), or -1. */
int64_t bus_sub_oldest_id(const struct bus_sub *sub, int64_t below);
/*
 * Drops the queued (not the in-flight) events, counted dropped for
 * BUS_DROP_HANDOVER: another daemon delivers them now. Returns how many.
 */
size_t bus_sub_handover(struct bus_sub *sub);
/*
 * Durable delivery's hooks: release whenever an event leaves a subscriber
 * for good (acknowledged or poison), attach when a subscriber's delivery
 * starts or resumes (a host ready). NULL hooks are fine.
 */
struct bus_hooks {
	void (*release)(struct bus_sub *sub, void *arg);
	void (*attach)(struct bus_sub *sub, void *arg);
	/* A host crashed handling event id: its attempts so far (2: set aside as poison). */
	void (*crashed)(struct bus_sub *sub, int64_t id, unsigned attempts, void *arg);
	/* The subscriber is about to be freed (disabled, uninstalled), its events still held. */
	void (*freed)(struct bus_sub *sub, void *arg);
	void *arg;
};
void bus_set_hooks(struct bus *bus, const struct bus_hooks *hooks);

/* Events sent to the host and not yet answered. */
size_t bus_sub_inflight(const struct bus_sub *sub);

/*
 * The host spent ms waiting on the daemon (a call): the oldest in-flight
 * event's deadline moves by as much.
 */
void bus_sub_pause(struct bus_sub *sub, int64_t ms);

/* Milliseconds (monotonic) since the oldest in-flight event was sent, or -1. */
int64_t bus_sub_oldest_age_ms(const struct bus_sub *sub, int64_t now_ms);

/*
 * Every event accepted for a plugin is in exactly one of: delivered,
 * failed, poisoned, dropped (by reason), queued or in flight, so
 *   accepted == delivered + failed + poisoned + dropped + queued + inflight.
 */
struct bus_sub_stats {
	uint64_t accepted;  /* accepted events that matched its subscriptions */
	uint64_t delivered; /* acknowledged */
	uint64_t failed;    /* acknowledged with handler_failed */
	uint64_t dropped;   /* the sum of dropped_by */
	uint64_t dropped_by[BUS_DROP_COUNT];
	uint64_t poisoned; /* set aside after two crashes */
	uint64_t redelivered;
	size_t queued;	 /* waiting */
	size_t inflight; /* sent, not yet answered */
	size_t bytes;	 /* of the events queued and in flight */
};
void bus_sub_stats(const struct bus_sub *sub, struct bus_sub_stats *out);
/* Ids of the poison events kept for status (most recent last), as a JSON array. */
json_object *bus_sub_poison_json(const struct bus_sub *sub);

/* The counts of every plugin that ever subscribed, present or not, by name. */
void bus_foreach(const struct bus *bus,
		 void (*fn)(const char *name, const struct bus_sub_stats *st, void *arg),
		 void *arg);

/*
 * Pressure on the ingress (issue 8, item 6). A plugin whose host is serving
 * and whose queue reaches half of queue_max (or of queue_bytes_max) presses;
 * it stops 1,024 events (4 MiB) below, or at a quarter if that is nearer
 * (bus_pressure.c). fn(true) is called when the first subscriber starts
 * pressing, fn(false) when the last stops: the HTTP front end holds new
 * requests meanwhile, so the hosts get the loop (main.c wires it).
 */
void bus_set_pressure(struct bus *bus, void (*fn)(bool on, void *arg), void *arg);
/*
 * A hold ran its time out: the subscribers pressing now did not catch up
 * while they had the loop, so they are slower than the ingress. They stop
 * pressing (fn(false) follows) until their queue is down to a quarter; in
 * the meantime their overflow is dropped, as for any plugin too slow.
 */
void bus_pressure_expired(struct bus *bus);
/* How often the ingress was held (fn(true)), and how many holds ran their time out. */
void bus_pressure_counts(const struct bus *bus, uint64_t *holds, uint64_t *expired);

/*
 * Total events accepted since start (POST /api/events, the outbox, plugins'
 * emits); platform events are the daemon's own and not counted here (each
 * subscriber's accepted counts them).
 */
uint64_t bus_accepted(const struct bus *bus);
/* Events refused at the door because the bus was full (bus_full). */
uint64_t bus_shed(const struct bus *bus);
/* Whether any subscriber still has queued or in-flight events (for draining). */
bool bus_busy(const struct bus *bus);

#endif
