/*
 * The suspects of a crash with several events in flight (bus_int.h).
 * The set is at most a window and only looked at while it is not empty, so
 * a linear scan is all it needs and the hot path pays one test.
 */
#include "bus.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bus_int.h"
#include "log.h"
#include "xmalloc.h"

void bus_suspects_init(struct bus_suspects *s, size_t cap)
{
	s->cap = cap ? cap : 1;
	s->ids = xcalloc(s->cap, sizeof *s->ids);
	s->n = 0;
}

void bus_suspects_free(struct bus_suspects *s)
{
	free(s->ids);
	s->ids = NULL;
	s->n = s->cap = 0;
}

struct bus_slot *bus_suspects_blame(struct bus_sub *sub)
{
	struct bus_suspects *s = &sub->suspects;
	struct bus_ring *q = &sub->inflight;

	if (q->r.len == 1) {
		struct bus_slot *only = &q->slots[ring_at(&q->r, 0)];
		bus_suspects_gone(s, only->ev->id);
		return only;
	}
	/*
	 * Several: the one whose callback was running may be any of them (the
	 * acks of those before it may have been held). A window of one from
	 * here on makes the next crash among them name its event.
	 */
	s->n = 0;
	for (size_t i = 0; i < q->r.len && s->n < s->cap; i++)
		s->ids[s->n++] = q->slots[ring_at(&q->r, i)].ev->id;
	log_warn(sub->name,
		 "host ended with %zu events unanswered: none is charged with it; they go one "
		 "at a time until each is answered or ends a host alone",
		 s->n);
	return NULL;
}

void bus_suspects_gone(struct bus_suspects *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->ids[i] != id)
			continue;
		memmove(s->ids + i, s->ids + i + 1, (s->n - i - 1) * sizeof *s->ids);
		s->n--;
		return;
	}
}
