/*
 * The bus as durable delivery sees a subscriber (bus.h, "Durable delivery"):
 * finding it by name and reading its state; the verbs that move events
 * (push, handover) stay in bus.c with the queues' helpers.
 */
#include "bus.h"

#include <string.h>
#include <sys/queue.h>

#include "bus_int.h"

struct bus_sub *bus_sub_find(struct bus *bus, const char *name)
{
	struct bus_sub *sub;

	TAILQ_FOREACH(sub, &bus->subs, entry)
	{
		if (strcmp(sub->name, name) == 0)
			return sub;
	}
	return NULL;
}

const char *bus_sub_name(const struct bus_sub *sub)
{
	return sub->name;
}

bool bus_sub_declared(const struct bus_sub *sub)
{
	return sub->declared;
}

bool bus_sub_attached(const struct bus_sub *sub)
{
	return sub->attached;
}

size_t bus_sub_room(const struct bus_sub *sub)
{
	size_t max = sub->bus->opts.queue_max;

	if (sub->bytes >= sub->bus->opts.queue_bytes_max)
		return 0;
	return sub->queue.r.len < max ? max - sub->queue.r.len : 0;
}

size_t bus_sub_queued(const struct bus_sub *sub)
{
	return sub->queue.r.len;
}

int64_t bus_sub_oldest_id(const struct bus_sub *sub, int64_t below)
{
	/* Both rings are in the order delivered: the first id below the bound is the oldest. */
	for (size_t i = 0; i < sub->inflight.r.len; i++) {
		int64_t id = sub->inflight.slots[ring_at(&sub->inflight.r, i)].ev->id;
		if (id < below)
			return id;
	}
	for (size_t i = 0; i < sub->queue.r.len; i++) {
		int64_t id = sub->queue.slots[ring_at(&sub->queue.r, i)].ev->id;
		if (id < below)
			return id;
	}
	return -1;
}
