/*
 * History on request (durable delivery, issue 14): a plugin is given again
 * the events retention still holds from an id or a time on. The request is
 * recorded in the plugin's cursor row (replay_from, replay_seq: migration
 * 0011) and carried out by whichever daemon holds the plugin's lease at its
 * next heartbeat (or by the next one to claim it), never by moving acked_id
 * under the owner's feet: the owner's batched cursor writes would move it
 * forward again.
 */
#ifndef SS_DELIVER_REPLAY_H
#define SS_DELIVER_REPLAY_H

#include <stdint.h>

struct deliver;

enum deliver_replay_code {
	DELIVER_REPLAY_OK,	  /* recorded (or nothing to replay: events == 0) */
	DELIVER_REPLAY_NOT_FOUND, /* no cursor: not installed, never delivered */
	DELIVER_REPLAY_FUTURE,	  /* fromId past the head + 1, or since after now */
	DELIVER_REPLAY_DOWN,	  /* the database did not answer */
};

struct deliver_replay_answer {
	enum deliver_replay_code code;
	int64_t from_id; /* the first id given again: the one asked for, or the oldest retained */
	int64_t head;	 /* the newest event id */
	int64_t events;	 /* retained events from from_id to the head (all types) */
	const char *message; /* DOWN: why */
};

typedef void (*deliver_replay_fn)(const struct deliver_replay_answer *a, void *arg);

/*
 * Records a replay of plugin's events from id from_id on (since NULL) or
 * from the first event created at or after since (an RFC 3339 time, checked
 * by the caller; from_id ignored). A pending replay is never narrowed: the
 * lowest request wins. Returns 0 and calls fn once (also at shutdown, with
 * DOWN), or -1 when the query cannot be queued (fn not called).
 */
int deliver_replay(struct deliver *dl, const char *plugin, int64_t from_id, const char *since,
		   deliver_replay_fn fn, void *arg);

#endif
