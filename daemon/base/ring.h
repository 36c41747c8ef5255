/*
 * The index arithmetic of a fixed-capacity FIFO, for rings whose storage is
 * a typed array the caller owns (the bus's queues, the backoff's crash
 * times, a host's last log lines): one copy of the modular arithmetic, no
 * void pointers on the hot path. Each function returns the array index to
 * read or write.
 */
#ifndef SS_RING_H
#define SS_RING_H

#include <stdbool.h>
#include <stddef.h>

struct ring {
	size_t cap, head, len;
};

static inline void ring_init(struct ring *r, size_t cap)
{
	r->cap = cap;
	r->head = r->len = 0;
}

static inline bool ring_full(const struct ring *r)
{
	return r->len == r->cap;
}

/* Index of the i-th element from the front (i < len). */
static inline size_t ring_at(const struct ring *r, size_t i)
{
	return (r->head + i) % r->cap;
}

/* Index of a new last element; the ring must not be full. */
static inline size_t ring_push_back(struct ring *r)
{
	return ring_at(r, r->len++);
}

/* Index of a new first element; the ring must not be full. */
static inline size_t ring_push_front(struct ring *r)
{
	r->head = (r->head + r->cap - 1) % r->cap;
	r->len++;
	return r->head;
}

/* Index of the first element, which leaves the ring (len > 0). */
static inline size_t ring_pop_front(struct ring *r)
{
	size_t at = r->head;
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return at;
}

/* Index of the last element, which leaves the ring (len > 0). */
static inline size_t ring_pop_back(struct ring *r)
{
	return ring_at(r, --r->len);
}

/*
 * Index for a new last element when the ring keeps only the most recent
 * cap: when full, the oldest is overwritten (the caller releases what was
 * there first if it owns something).
 */
static inline size_t ring_push_overwrite(struct ring *r)
{
	if (r->len < r->cap)
		return ring_push_back(r);
	size_t at = r->head;
	r->head = (r->head + 1) % r->cap;
	return at;
}

#endif
