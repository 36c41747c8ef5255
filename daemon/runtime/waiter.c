#include "waiter.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "log.h"
#include "xmalloc.h"

struct waiter {
	TAILQ_ENTRY(waiter) entry;
	struct waitlist *list; /* NULL when in none */
	uint64_t from;
	waiter_fn done;
	void *arg;
	bool ok;
	char *reason;
	struct event *ev;
};

struct waitlist {
	TAILQ_HEAD(, waiter) waiting;
};

static void waiter_free(struct waiter *w)
{
	event_free(w->ev);
	free(w->reason);
	free(w);
}

static void waiter_fire(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	if (w->done != NULL)
		w->done(w->arg, w->ok, w->reason);
	waiter_free(w);
}

struct waiter *waiter_new(struct event_base *base, waiter_fn done, void *arg)
{
	struct waiter *w = xcalloc(1, sizeof *w);

	w->done = done;
	w->arg = arg;
	w->ev = event_new(base, -1, 0, waiter_fire, w);
	if (w->ev == NULL)
		fatal("waiter_new: out of memory");
	return w;
}

void waiter_answer(struct waiter *w, bool ok, const char *reason)
{
	if (w->list != NULL) {
		TAILQ_REMOVE(&w->list->waiting, w, entry);
		w->list = NULL;
	}
	w->ok = ok;
	w->reason = reason ? xstrdup(reason) : NULL;
	event_active(w->ev, EV_TIMEOUT, 0);
}

struct waitlist *waitlist_new(void)
{
	struct waitlist *wl = xcalloc(1, sizeof *wl);
	TAILQ_INIT(&wl->waiting);
	return wl;
}

void waitlist_free(struct waitlist *wl)
{
	struct waiter *w;

	if (wl == NULL)
		return;
	while ((w = TAILQ_FIRST(&wl->waiting)) != NULL) {
		TAILQ_REMOVE(&wl->waiting, w, entry);
		waiter_free(w);
	}
	free(wl);
}

void waitlist_add(struct waitlist *wl, struct waiter *w, uint64_t from)
{
	w->list = wl;
	w->from = from;
	TAILQ_INSERT_TAIL(&wl->waiting, w, entry);
}

void waitlist_answer_upto(struct waitlist *wl, uint64_t n, bool ok, const char *reason)
{
	struct waiter *w, *next;

	for (w = TAILQ_FIRST(&wl->waiting); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->from <= n)
			waiter_answer(w, ok, reason);
	}
}

void waitlist_answer_all(struct waitlist *wl, bool ok, const char *reason)
{
	while (!TAILQ_EMPTY(&wl->waiting))
		waiter_answer(TAILQ_FIRST(&wl->waiting), ok, reason);
}
