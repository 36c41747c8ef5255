/*
 * Where the events the daemon makes itself go when it has a database
 * (issue 14): plugins' emits (emit.c) and platform events (platform.c) are
 * appended to the durable outbox, so they are committed before they count
 * as accepted and are delivered like any POSTed event (per plugin, in id
 * order, at least once, by the lease holder). main.c wires the store's
 * outbox_from and the intake's bounds behind it; without a database there
 * is no sink and the in-memory bus takes them.
 */
#ifndef SS_SINK_H
#define SS_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The append's result: the event's id once committed, or -1 and why. */
typedef void (*event_sink_done_fn)(int64_t id, const char *err, void *arg);

struct event_sink {
	/*
	 * Queues one event (data: JSON text of len bytes, copied; origin: the
	 * plugin that emitted it or that a platform event is about, or NULL);
	 * done (may be NULL) is called exactly once, later.
	 */
	void (*append)(void *ctx, const char *type, const char *data, size_t len,
		       const char *origin, bool platform, event_sink_done_fn done, void *arg);
	/*
	 * Whether events from plugins are to be refused now (the outbox's
	 * backlog past --event-backlog-max, or too many waiting for a commit):
	 * true with the reason in why.
	 */
	bool (*full)(void *ctx, char *why, size_t len);
	void *ctx;
};

#endif
