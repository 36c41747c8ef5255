/*
 * The records of durable delivery, shared by deliver.c (feeding the hosts,
 * writing cursors) and deliver_lease.c (the heartbeat: leases, the daemons
 * table, status, retention, the stop) only.
 */
#ifndef SS_DELIVER_INT_H
#define SS_DELIVER_INT_H

#include <event2/util.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "db.h"

/* deliver.h comes first in both files (its options and stats are embedded here). */

/* One plugin this daemon has a subscriber for, and its delivery state. */
struct feed {
	char *name;
	bool owned;	     /* our lease (as of the last heartbeat) */
	bool live;	     /* follows the reader: every row up to its position is considered */
	bool catching;	     /* a catch-up read is in flight */
	bool seen;	     /* a subscriber existed at the last heartbeat */
	int64_t fed;	     /* every row up to this id was queued or did not match */
	int64_t acked_db;    /* the cursor as written (or read at the claim) */
	int64_t attached_ms; /* when its host was last seen attached (monotonic) */
	unsigned gen;	     /* ownerships so far: a catch-up read answers the one it was for */
	int64_t try_id;	     /* the event its hosts crashed on (the cursor row's), or -1 */
	unsigned tries;	     /* how many crashed on it, all daemons together */
	int64_t replay_seq;  /* the replay request carried out (its row's replay_seq), or -1 */
	int64_t replay_due;  /* its cursor, to clear in the row once no older write is out; -1 */
	bool replay_reset;   /* it moved the feed back (the crash count goes with it) */
	TAILQ_ENTRY(feed) entry;
};

struct deliver {
	struct event_base *base;
	struct db *db;
	struct bus *bus;
	struct outbox *ob;
	struct deliver_options o;
	char id[128], host[64];
	TAILQ_HEAD(, feed) feeds;
	struct event *tick, *pump, *flush;
	bool beating, beat_again, flushing, dirty, quiet, stopping, status_q;
	unsigned beats;
	bool retaining;
	int64_t backlog;
	json_object *status; /* {daemons: [...], cursors: {...}} of the last heartbeat */
	struct deliver_stats st;
	char **starts; /* --plugin plugins whose cursor is made at the head if missing */
	size_t nstarts;
	void (*stop_done)(void *arg);
	void *stop_arg;
	unsigned pending; /* queries in flight (deliver_free waits for none: see orphan) */
	bool dead;
};

/* A text array literal of names (validated plugin names: no quoting needed) and ids. */
struct arrays {
	char *names, *ids;
	size_t n, nl, il, ncap, icap;
};

struct feed *deliver_feed(struct deliver *dl, const char *name);
/* Counts a query's answer; false when the deliver is gone (then it frees itself last). */
bool deliver_answered(struct deliver *dl);
/* db_query with dl as the arg, counted; -1 when it cannot be queued. */
int deliver_query(struct deliver *dl, const char *sql, int n, const char *const *params,
		  db_result_fn fn);
/* The cursor a feed's acknowledgements allow: before the oldest event it still holds. */
int64_t deliver_cursor(struct deliver *dl, struct feed *f);
void deliver_arr_add(struct arrays *a, const char *name, int64_t id);
/* Queues event id (prepared as ev) to the feed's subscriber, with its crashes carried over. */
struct bus_sub;
struct bus_event;
bool deliver_push(struct deliver *dl, struct feed *f, struct bus_sub *sub, int64_t id,
		  struct bus_event *ev);
void deliver_arr_close(struct arrays *a);
void deliver_arr_free(struct arrays *a);
/* The plugin is no longer delivered here: its queue handed over. */
void deliver_lose(struct deliver *dl, struct feed *f, const char *why);
/*
 * A held cursor row's replay request (replay_from or -1, replay_seq), from
 * the heartbeat's answer: an owned feed moves back to it once
 * (deliver_replay.c).
 */
void deliver_replay_seen(struct deliver *dl, struct feed *f, int64_t from, int64_t seq);
/* The heartbeat timer's callback (deliver_lease.c). */
void deliver_tick(evutil_socket_t fd, short what, void *arg);

#endif
