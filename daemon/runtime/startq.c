#include "startq.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "log.h"
#include "xmalloc.h"

struct startq_ticket {
	struct startq *q;
	startq_go_fn go;
	void *arg;
	bool waiting, holding;
	TAILQ_ENTRY(startq_ticket) entry; /* in q->wait while waiting */
};

struct startq {
	size_t limit, starting, queued;
	TAILQ_HEAD(startq_list, startq_ticket) wait;
	struct event *grant; /* hands free turns out, from the loop */
};

/*
 * Hands the free turns to the tickets waiting longest. From the loop, never
 * from inside a release: a release comes from a host's ready or end, and
 * what the next start does (a spawn that fails, a state change) is better
 * not nested in another plugin's callback.
 */
static void grant_cb(evutil_socket_t fd, short what, void *arg)
{
	struct startq *q = arg;
	struct startq_ticket *t;

	while (q->starting < q->limit && (t = TAILQ_FIRST(&q->wait)) != NULL) {
		TAILQ_REMOVE(&q->wait, t, entry);
		q->queued--;
		t->waiting = false;
		t->holding = true;
		q->starting++;
		t->go(t->arg); /* may release at once (the spawn failed): the loop goes on */
	}
}

static void schedule(struct startq *q)
{
	if (q->starting < q->limit && !TAILQ_EMPTY(&q->wait))
		event_active(q->grant, 0, 0);
}

struct startq *startq_new(struct event_base *base, size_t limit)
{
	struct startq *q = xcalloc(1, sizeof *q);

	if (limit == 0)
		fatal("startq_new: a limit of 0 would start nothing");
	q->limit = limit;
	TAILQ_INIT(&q->wait);
	q->grant = event_new(base, -1, 0, grant_cb, q);
	if (q->grant == NULL)
		fatal("startq_new: out of memory");
	return q;
}

void startq_free(struct startq *q)
{
	if (q == NULL)
		return;
	if (!TAILQ_EMPTY(&q->wait) || q->starting > 0)
		fatal("startq_free: tickets still in use");
	event_free(q->grant);
	free(q);
}

struct startq_ticket *startq_ticket_new(struct startq *q, startq_go_fn go, void *arg)
{
	struct startq_ticket *t = xcalloc(1, sizeof *t);

	t->q = q;
	t->go = go;
	t->arg = arg;
	return t;
}

void startq_ticket_free(struct startq_ticket *t)
{
	if (t == NULL)
		return;
	startq_release(t);
	free(t);
}

bool startq_take(struct startq_ticket *t)
{
	struct startq *q = t->q;

	if (t->holding)
		return true;
	if (t->waiting)
		return false;
	/* Nobody before it and a turn free: now, as if there were no queue. */
	if (TAILQ_EMPTY(&q->wait) && q->starting < q->limit) {
		t->holding = true;
		q->starting++;
		return true;
	}
	t->waiting = true;
	TAILQ_INSERT_TAIL(&q->wait, t, entry);
	q->queued++;
	return false;
}

void startq_release(struct startq_ticket *t)
{
	struct startq *q = t->q;

	if (t->holding) {
		t->holding = false;
		q->starting--;
		schedule(q);
	} else if (t->waiting) {
		TAILQ_REMOVE(&q->wait, t, entry);
		t->waiting = false;
		q->queued--;
	}
}

bool startq_waiting(const struct startq_ticket *t)
{
	return t->waiting;
}

size_t startq_starting(const struct startq *q)
{
	return q->starting;
}

size_t startq_queued(const struct startq *q)
{
	return q->queued;
}

size_t startq_limit(const struct startq *q)
{
	return q->limit;
}
