/*
 * The durable event outbox (table ss_events). Appends are group-committed:
 * every append made in one loop turn, or while the previous commit is in
 * flight, goes to the database as one INSERT ... SELECT FROM unnest(...), so
 * durability costs a round trip per batch, not a commit per event. The
 * reader hands every committed row to a callback once, in id order. A
 * committed batch whose ids follow the reader's position is handed on from
 * memory (the common case with one daemon); everything else, other daemons'
 * and services' rows included, is read from the table (woken by NOTIFY
 * ss_events, whoever inserted, and by a poll).
 */
#ifndef SS_OUTBOX_H
#define SS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbox_row.h"
#include "recent.h"

struct event_base;
struct db;
struct outbox;

/*
 * An append's result: ids[0..n) (the database's, in the order appended) on
 * success, or ids NULL and err set (the database is down or refused).
 */
typedef void (*outbox_done_fn)(const int64_t *ids, size_t n, const char *err, void *arg);
/* A committed row (struct outbox_row, in outbox_row.h), in id order. */
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
 * Queues n events (types[i], data[i] JSON text of len[i] bytes, as the bus
 * serialised them when it accepted them: bus_event_data; copied) for
 * the next group commit; done is called exactly once, with an error when the
 * database cannot be reached (queries wait while it is being connected to).
 * Returns 0, or -1 (done not called) when n is 0.
 */
int outbox_append(struct outbox *ob, size_t n, const char *const *types, const char *const *data,
		  const size_t *len, outbox_done_fn done, void *arg);

/*
 * Group commits made (statements that succeeded), the events they stored,
 * and of those the ones handed on from memory (not read back).
 */
struct outbox_stats {
	uint64_t commits, events, failed, handed;
};
void outbox_stats(const struct outbox *ob, struct outbox_stats *out);

/*
 * The reader's position: every committed row up to this id was handed to
 * the row callback (holes below it waited for or stepped over), or -1
 * before the first read.
 */
int64_t outbox_hwm(const struct outbox *ob);

/*
 * The rows after < id <= upto (upto at most outbox_hwm) from the rows kept
 * in memory, in id order, to fn until it returns false: a catch-up without
 * a read. -1 (fn not called) when they are no longer all kept (read them
 * from ss_events).
 */
int outbox_recent(const struct outbox *ob, int64_t after, int64_t upto, recent_fn fn, void *arg);

/* Events appended and not yet committed (for the intake's bound). */
size_t outbox_pending(const struct outbox *ob);

#endif
