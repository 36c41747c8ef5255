/*
 * The requests outstanding on one host channel, in both directions
 * (PROTOCOL.md: ids are unique per direction, a reply names one of ours).
 * The table records and finds them; each request points at its kind, a
 * row its sender defines once: how the host answers it, what its deadline
 * is called, and what the answer or its absence does with the request's ctx.
 */
#ifndef SS_PENDING_H
#define SS_PENDING_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

struct pending;

/* A kind of request (static data of its sender). */
struct pending_kind {
	const char *name;   /* "config", "ping": for protocol errors */
	bool from_host;	    /* the host asked and waits for the daemon's answer */
	int answer;	    /* a daemon request: the enum msg_type the host answers with */
	const char *missed; /* "no <missed> within N ms" when its deadline passes */
	/* The host answered with m (borrowed); the request is already forgotten. */
	void (*answered)(void *ctx, json_object *m);
	/* No answer will come (the channel ended, or it is being freed). May be NULL. */
	void (*abandoned)(void *ctx);
	/* The deadline passed and the peer ends for it (NULL: abandoned is called). */
	void (*overdue)(void *ctx);
	/* Its deadline stops while the host waits on a call of its own, as an event's does. */
	bool pauses;
};

/* One outstanding request. The fields are the owner's to read; the table links them. */
struct pending_req {
	int64_t id;
	const struct pending_kind *kind;
	int64_t deadline_ms;		/* monotonic; 0: none */
	int timeout_ms;			/* what the deadline was set from (for the message) */
	void *ctx;			/* the sender's: who waits for the answer */
	TAILQ_ENTRY(pending_req) entry; /* the table's */
};

struct pending *pending_new(void);
/* Frees the table and every request still in it, answering none. NULL is fine. */
void pending_free(struct pending *t);

/*
 * Records a request (the caller has checked its id is free in its
 * direction), due within timeout_ms from now (0: no deadline).
 */
struct pending_req *pending_add(struct pending *t, int64_t id, const struct pending_kind *kind,
				int timeout_ms, void *ctx);
/* Forgets r (freed) without a word to its ctx. */
void pending_remove(struct pending *t, struct pending_req *r);
/* Forgets r and hands m to its kind's answered. */
void pending_answer(struct pending *t, struct pending_req *r, json_object *m);
/* Forgets r, whose deadline passed, through its kind's overdue (or abandoned). */
void pending_expire(struct pending *t, struct pending_req *r);
/* Moves the deadline of every request whose kind pauses ms later (a call took ms). */
void pending_shift(struct pending *t, int64_t ms);
/* How many requests of this kind are outstanding. */
size_t pending_count_kind(const struct pending *t, const struct pending_kind *kind);

/* Forgets every request, oldest first, each through its kind's abandoned. */
void pending_abandon_all(struct pending *t);

/* The request with this id in one direction, or NULL. */
struct pending_req *pending_find(const struct pending *t, int64_t id, bool from_host);
/* The oldest request still outstanding, or NULL when there is none. */
struct pending_req *pending_first(const struct pending *t);
/* Whether a request of this kind is outstanding. */
bool pending_has_kind(const struct pending *t, const struct pending_kind *kind);
/*
 * The oldest request whose deadline is before now_ms, or NULL; while paused
 * (the host waits on a call), requests of kinds that pause are not overdue.
 */
struct pending_req *pending_overdue(const struct pending *t, int64_t now_ms, bool paused);

#endif
