/*
 * The outbox's most recent committed rows, in id order, bounded in bytes:
 * what a plugin's catch-up reads when it fell a little behind (its queue
 * was full when the rows came), served from memory instead of read back
 * from ss_events. It covers a range of ids (low, high]: every committed row
 * in it is held (ids not held there are holes the reader stepped over);
 * the oldest rows go first when the bound is passed.
 */
#ifndef SS_RECENT_H
#define SS_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbox_row.h"

struct recent;

/* A row of a scan (borrowed); false stops the scan. */
typedef bool (*recent_fn)(const struct outbox_row *row, void *arg);

/* Covers (pos, pos] (nothing) until rows are added. */
struct recent *recent_new(size_t max_bytes, int64_t pos);
void recent_free(struct recent *r);
/* Forgets every row: covers (pos, pos]. */
void recent_reset(struct recent *r, int64_t pos);
/*
 * Adds the row after the last one: its id > the covered high end, and every
 * id between them is a hole. The row is copied.
 */
void recent_add(struct recent *r, const struct outbox_row *row);
/*
 * Calls fn for every held row with after < id <= upto, in id order, until
 * it returns false. Returns -1 (fn not called) unless (after, upto] is
 * covered.
 */
int recent_scan(const struct recent *r, int64_t after, int64_t upto, recent_fn fn, void *arg);

#endif
