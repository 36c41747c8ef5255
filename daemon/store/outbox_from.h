/*
 * The events the daemon itself puts into the durable outbox (ss_events):
 * plugins' emits and platform events, each with its origin (the plugin that
 * emitted it, or that a platform event is about) and whether it is a
 * platform event (migration 0008). Group-committed like POST /api/events
 * (every append of one loop turn, or made while the previous commit is in
 * flight, is one INSERT ... unnest), in a statement of its own beside
 * outbox.c's: the reader (outbox.c) hands these rows on like any other.
 */
#ifndef SS_OUTBOX_FROM_H
#define SS_OUTBOX_FROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db;
struct outbox_from;

/* An append's result: the event's id once committed, or id -1 and err. */
typedef void (*outbox_from_done_fn)(int64_t id, const char *err, void *arg);

struct outbox_from *outbox_from_new(struct event_base *base, struct db *db);
/* Appends not yet sent are answered with an error. NULL is fine. */
void outbox_from_free(struct outbox_from *of);

/*
 * Queues one event (data: JSON text of len bytes; everything copied;
 * origin may be NULL) for the next group commit; done (may be NULL) is
 * called exactly once, with an error when the database cannot take it.
 */
void outbox_from_append(struct outbox_from *of, const char *type, const char *data, size_t len,
			const char *origin, bool platform, outbox_from_done_fn done, void *arg);

/* Events appended and not yet committed (for the intake's bound). */
size_t outbox_from_pending(const struct outbox_from *of);

#endif
