/*
 * Durable delivery with a database (issue 14): which daemon delivers each
 * plugin's events, from where, and what the outbox keeps.
 *
 * Every daemon runs a host for every enabled plugin (routes are served by
 * any daemon), but a plugin's events are delivered by one daemon at a time:
 * the owner of its row in ss_event_cursors (a lease renewed by the owner's
 * heartbeat, taken over by another daemon once it lapses). The owner feeds
 * the plugin's queue in id order from its cursor, following the outbox
 * reader while it keeps up and reading the table on its own when it falls
 * behind (its queue full: nothing is dropped, and no other plugin waits
 * for it). What the host acknowledges moves the cursor, one UPDATE for
 * every plugin per round trip. A crash of the host or the daemon therefore
 * redelivers from the last acknowledgement, under the same ids.
 *
 * The heartbeat also keeps this daemon's row in ss_daemons (with its hosts'
 * states, for the API), measures the undelivered backlog (the intake's
 * bound) and deletes what retention no longer keeps, in bounded batches.
 */
#ifndef SS_DELIVER_H
#define SS_DELIVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db;
struct bus;
struct outbox;
struct deliver;

struct deliver_options {
	int lease_ms;	  /* a lease's length (default 5000) */
	int heartbeat_ms; /* renewal and claim interval (default 1000) */
	/* Events older than this are deleted, delivered or not (seconds; default 7 days). */
	int64_t retention_s;
	/* Events every cursor has passed are deleted once this old (seconds; default 60). */
	int64_t keep_delivered_s;
	/* This daemon's plugins' host states, {name: state} (new reference). */
	json_object *(*hosts)(void *arg);
	void *hosts_arg;
};

struct deliver *deliver_new(struct event_base *base, struct db *db, struct bus *bus,
			    const struct deliver_options *opts);
/* Leases are not released (deliver_stop does that). NULL is fine. */
void deliver_free(struct deliver *dl);

/* The outbox whose reader feeds deliver_row (its position bounds the catch-up reads). */
void deliver_set_outbox(struct deliver *dl, struct outbox *ob);

/* The outbox reader's row callback (outbox_row_fn, with dl as arg). */
struct outbox_row;
void deliver_row(const struct outbox_row *row, void *arg);

/*
 * A plugin started here that no install gives a cursor (--plugin): its
 * cursor is made at the outbox's head now (the next heartbeat, at once) if
 * it has none, not when a host of it is first ready, so the events
 * accepted from its start on are delivered to it (by whichever daemon
 * claims it). name is copied; a repeat is nothing.
 */
void deliver_start_cursor(struct deliver *dl, const char *name);

/* Stops feeding hosts (shutdown: what is queued still drains). */
void deliver_quiesce(struct deliver *dl);
/*
 * Writes every cursor, releases this daemon's leases and its ss_daemons row
 * (another daemon takes over at its next heartbeat), then calls done once.
 */
void deliver_stop(struct deliver *dl, void (*done)(void *arg), void *arg);

/* Undelivered events (head id - the lowest leased cursor, at the last heartbeat), or -1. */
int64_t deliver_backlog(const struct deliver *dl);

/*
 * What the API shows of a plugin's delivery: {owner, ackedId, leaseUntil,
 * daemons: [{id, host, pid, startedAt, lastSeen, alive, host_state}]}, as
 * of the last heartbeat (new reference), or NULL before the first one.
 */
json_object *deliver_view(const struct deliver *dl, const char *plugin);

struct deliver_stats {
	uint64_t cursor_writes; /* UPDATE statements that advanced cursors */
	uint64_t takeovers;	/* plugins this daemon started to deliver */
	uint64_t lost;		/* leases taken by another daemon while ours */
	uint64_t catchup_reads; /* reads of the table for a plugin behind */
	uint64_t catchup_mem;	/* catch-ups served from the outbox's recent rows */
	uint64_t retention_deleted;
	size_t owned;
};
void deliver_stats(const struct deliver *dl, struct deliver_stats *out);
const char *deliver_daemon_id(const struct deliver *dl);

#endif
