/*
 * Fairness between HTTP and plugin hosts (see gate.h).
 *
 * Why a budget per turn: a loop turn runs every ready callback, and with C
 * connections each with a request ready a turn handed C requests to the API
 * while a plugin host was served once (its answers read, one window of
 * events sent). At 1000 connections the bus filled thirty times faster than
 * a host was given events, and a fast plugin lost most of them to overflow.
 * With at most per_turn (a window's worth) requests a turn, a host that keeps
 * up gets every event. The connections past the budget wait with reading off,
 * so epoll stops reporting them instead of re-polling them every turn.
 *
 * Why a hold as well: a turn's share is no promise that a host runs; on a
 * busy machine it may wait for a CPU while the loop goes on accepting. The
 * bus asks for a hold when a plugin that keeps up falls half a queue behind,
 * and lifts it once that plugin has caught up by a band (1,024 events,
 * bus_pressure.c). A hold is bounded in
 * time: a plugin that cannot catch up in hold_max_ms is slower than the
 * ingress, and must not stall the API for everyone (expired tells the bus,
 * which then stops asking for that plugin until it has caught up).
 *
 * Why a hold keeps only the requests that add events: those are what the
 * plugin is behind on. Holding every request answered /healthz, /metrics,
 * the admin API and the web UI up to hold_max_ms late whenever a plugin was
 * behind: a probe took a daemon that was fine for a hung one, and the
 * operator looking at why waited with it. The caller (httpd.c) parses a
 * request before it asks, so it can tell.
 */
#include "gate.h"

#include <event2/event.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

struct gate {
	struct gate_params p;
	int budget;				 /* requests left in this turn */
	bool held;				 /* the bus asked for a hold */
	struct gate_waiter *serving;		 /* the waiter whose turn it is (in turn_cb) */
	struct event *turn;			 /* zero timeout: the next loop turn */
	struct event *hold_timer;		 /* a hold's hold_max_ms */
	TAILQ_HEAD(, gate_waiter) waiting;	 /* for a turn */
	TAILQ_HEAD(gate_kept, gate_waiter) kept; /* for the hold to lift (gate_wait_hold) */
};

/* The next turn comes: a zero timeout runs after the I/O callbacks of the next loop turn. */
static void turn_arm(struct gate *g)
{
	static const struct timeval now = {0, 0};

	if (!evtimer_pending(g->turn, NULL))
		evtimer_add(g->turn, &now);
}

/* A new turn: a new budget, spent first on the waiters, oldest first. */
static void turn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;
	struct gate_waiter *w;

	(void)fd;
	(void)what;
	g->budget = g->p.per_turn;
	while (g->budget > 0 && (w = TAILQ_FIRST(&g->waiting)) != NULL) {
		gate_unwait(g, w);
		g->serving = w;
		g->p.serve(w, g->p.arg);
		g->serving = NULL;
	}
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;

	(void)fd;
	(void)what;
	log_debug("httpd", "a hold ran its %d ms out: requests go on", g->p.hold_max_ms);
	gate_hold(g, false);
	if (g->p.expired != NULL)
		g->p.expired(g->p.arg);
}

struct gate *gate_new(struct event_base *base, const struct gate_params *p)
{
	struct gate *g = xcalloc(1, sizeof *g);

	if (p->per_turn <= 0 || p->hold_max_ms <= 0 || p->serve == NULL)
		fatal("gate_new: per_turn %d, hold_max_ms %d", p->per_turn, p->hold_max_ms);
	g->p = *p;
	g->budget = p->per_turn;
	TAILQ_INIT(&g->waiting);
	TAILQ_INIT(&g->kept);
	g->turn = evtimer_new(base, turn_cb, g);
	g->hold_timer = evtimer_new(base, hold_cb, g);
	if (g->turn == NULL || g->hold_timer == NULL)
		fatal("gate_new: out of memory");
	return g;
}

void gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	if (!TAILQ_EMPTY(&g->waiting) || !TAILQ_EMPTY(&g->kept))
		fatal("gate_free: connections still waiting");
	event_free(g->turn);
	event_free(g->hold_timer);
	free(g);
}

bool gate_open(const struct gate *g, const struct gate_waiter *w)
{
	return g->budget > 0 && (w == g->serving || TAILQ_EMPTY(&g->waiting));
}

bool gate_held(const struct gate *g)
{
	return g->held;
}

void gate_spend(struct gate *g)
{
	g->budget--;
	turn_arm(g);
}

void gate_wait(struct gate *g, struct gate_waiter *w)
{
	if (w->waiting)
		return;
	w->waiting = true;
	TAILQ_INSERT_TAIL(&g->waiting, w, entry);
	turn_arm(g);
}

void gate_wait_hold(struct gate *g, struct gate_waiter *w)
{
	if (w->waiting)
		return;
	if (!g->held)
		fatal("gate_wait_hold: no hold");
	w->waiting = w->held = true;
	TAILQ_INSERT_TAIL(&g->kept, w, entry);
}

void gate_unwait(struct gate *g, struct gate_waiter *w)
{
	if (!w->waiting)
		return;
	if (w->held)
		TAILQ_REMOVE(&g->kept, w, entry);
	else
		TAILQ_REMOVE(&g->waiting, w, entry);
	w->waiting = w->held = false;
}

void gate_hold(struct gate *g, bool on)
{
	struct gate_waiter *w;

	if (on == g->held)
		return;
	g->held = on;
	if (on) {
		struct timeval tv = clock_tv(g->p.hold_max_ms);
		evtimer_add(g->hold_timer, &tv);
		return;
	}
	evtimer_del(g->hold_timer);
	/* A kept request was parsed before the hold kept it: it goes ahead of those waiting for a
	 * turn. */
	while ((w = TAILQ_LAST(&g->kept, gate_kept)) != NULL) {
		TAILQ_REMOVE(&g->kept, w, entry);
		w->held = false;
		TAILQ_INSERT_HEAD(&g->waiting, w, entry);
	}
	if (!TAILQ_EMPTY(&g->waiting))
		turn_arm(g);
}
