/*
 * The durable event outbox (table ss_events). Appends are group-committed:
 * every append made in one loop turn, or while the previous commit is in
 * flight, goes to the database as one INSERT ... SELECT FROM unnest(...), so
 * durability costs a round trip per batch, not a commit per event. The
 * reader follows the table in id order (woken by NOTIFY ss_events, whoever
 * inserted) and hands every committed row to a callback once, in id order:
 * this daemon's own rows too (nothing is handed on at the commit).
 */
#ifndef SS_OUTBOX_H
#define SS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db;
struct outbox;

/*
 * An append's result: ids[0..n) (the database's, in the order appended) on
 * success, or ids NULL and err set (the database is down or refused).
 */
typedef void (*outbox_done_fn)(const int64_t *ids, size_t n, const char *err, void *arg);
/*
 * A committed row, in id order; every field borrowed. origin: the plugin
 * that emitted it or that a platform event is about (NULL: a core event);
 * platform: one of the daemon's own events (admin subscribers only).
 */
struct outbox_row {
	int64_t id;
	const char *type, *data, *origin; /* data: JSON text of len bytes */
	size_t len;
	bool platform;
};
typedef void (*outbox_row_fn)(const struct outbox_row *row, void *arg);
/* The columns a reader of ss_events takes, in outbox_row_read's order. */
#define OUTBOX_ROW_COLS "id, type, data::text, origin, platform"
/* Row i of a result selecting OUTBOX_ROW_COLS (false when it has other columns). */
struct pg_result;
bool outbox_row_read(const struct pg_result *res, int i, struct outbox_row *out);

struct outbox *outbox_new(struct event_base *base, struct db *db, outbox_row_fn row, void *arg);
/* Pending appends are answered with an error. NULL is fine. */
void outbox_free(struct outbox *ob);

/*
 * Queues n events (types[i], data[i] JSON text of len[i] bytes; copied) for
 * the next group commit; done is called exactly once, with an error when the
 * database cannot be reached (queries wait while it is being connected to).
 * Returns 0, or -1 (done not called) when n is 0.
 */
int outbox_append(struct outbox *ob, size_t n, const char *const *types, const char *const *data,
		  const size_t *len, outbox_done_fn done, void *arg);

/* Group commits made (statements that succeeded) and the events they stored. */
struct outbox_stats {
	uint64_t commits, events, failed;
};
void outbox_stats(const struct outbox *ob, struct outbox_stats *out);

/*
 * The reader's position: every committed row up to this id was handed to
 * the row callback (holes below it waited for or stepped over), or -1
 * before the first read.
 */
int64_t outbox_hwm(const struct outbox *ob);

/* Events appended and not yet committed (for the intake's bound). */
size_t outbox_pending(const struct outbox *ob);

#endif
