/*
 * gate: which HTTP connections may hand a request on to the API now. Fairness
 * between HTTP and plugin hosts on one loop (issue 8, item 6): a loop turn
 * hands on at most per_turn requests, and while the bus asks for it (a
 * plugin that keeps up has fallen a queue's half behind) no request that
 * adds events, for at most hold_max_ms; every other request (health,
 * metrics, the admin API, the web UI) goes on during a hold. A connection
 * that may not go on waits, in a FIFO served oldest first from the next
 * turns; one whose request the hold keeps waits in a second FIFO, put ahead
 * of the first when the hold lifts. The gate knows nothing of HTTP: a
 * waiter is a struct gate_waiter embedded in the caller's connection, and
 * the caller says which requests the hold keeps.
 */
#ifndef SS_GATE_H
#define SS_GATE_H

#include <stdbool.h>
#include <sys/queue.h>

struct event_base;
struct gate;

struct gate_waiter {
	TAILQ_ENTRY(gate_waiter) entry;
	bool waiting;
	bool held; /* waiting for the hold to lift, not for a turn */
};

struct gate_params {
	int per_turn;	 /* requests handed on per loop turn (> 0) */
	int hold_max_ms; /* the longest a hold lasts (> 0) */
	/* A waiter's turn has come (it is no longer waiting): it goes on or waits again. */
	void (*serve)(struct gate_waiter *w, void *arg);
	/* A hold ran its hold_max_ms out and was lifted by the gate. May be NULL. */
	void (*expired)(void *arg);
	void *arg;
};

struct gate *gate_new(struct event_base *base, const struct gate_params *p);
/* Frees the gate; the waiters must have been taken out (gate_unwait). NULL is fine. */
void gate_free(struct gate *g);

/* Whether one more request may be handed on now (nobody waits ahead, budget left). */
bool gate_open(const struct gate *g, const struct gate_waiter *w);
/* Whether a hold is on: a request that adds events waits (gate_wait_hold). */
bool gate_held(const struct gate *g);
/* One request was handed on: it counts against this turn. */
void gate_spend(struct gate *g);
/* w waits for its turn (at the back; a no-op if it already waits). */
void gate_wait(struct gate *g, struct gate_waiter *w);
/*
 * w's request is one the hold keeps (a no-op if w already waits): it waits
 * until the hold lifts, then its turn comes before the turn waiters'.
 */
void gate_wait_hold(struct gate *g, struct gate_waiter *w);
/* w no longer waits, for a turn or the hold (its connection is gone). */
void gate_unwait(struct gate *g, struct gate_waiter *w);

/* Holds (on) or lifts (off) the requests that add events, those not yet handed on. */
void gate_hold(struct gate *g, bool on);

#endif
