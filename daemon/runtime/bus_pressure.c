/*
 * The bus's pressure on the ingress (bus.h, bus_set_pressure): a plugin that
 * keeps up but fell behind asks the HTTP front end to hold new requests, so
 * its host gets the loop (issue 8, item 6; the hold itself is http/gate.c).
 */
#include "bus.h"

#include "bus_int.h"
#include "log.h"

static void press(struct bus_sub *sub, bool on)
{
	struct bus *bus = sub->bus;

	if (sub->pressing == on)
		return;
	sub->pressing = on;
	if ((on ? bus->pressing++ : --bus->pressing) != 0)
		return;
	bus->holds += on;
	if (bus->pressure != NULL)
		bus->pressure(on, bus->pressure_arg);
}

/*
 * After the subscriber's queue or state changed: it presses from half of its
 * queue's bounds, while its host is serving and it is not known to be slow,
 * and stops at a quarter; there a slow one is forgiven.
 */
void bus_pressure_update(struct bus_sub *sub)
{
	const struct bus_options *o = &sub->bus->opts;
	bool low = sub->queue.r.len <= o->queue_max / 4 && sub->bytes <= o->queue_bytes_max / 4;

	if (sub->durable)
		return;

	if (low)
		sub->slow = false;
	if (sub->pressing && (low || !sub->attached))
		press(sub, false);
	else if (!sub->pressing && !sub->slow && sub->attached &&
		 (sub->queue.r.len >= o->queue_max / 2 || sub->bytes >= o->queue_bytes_max / 2))
		press(sub, true);
}

void bus_set_pressure(struct bus *bus, void (*fn)(bool on, void *arg), void *arg)
{
	bus->pressure = fn;
	bus->pressure_arg = arg;
}

void bus_pressure_counts(const struct bus *bus, uint64_t *holds, uint64_t *expired)
{
	*holds = bus->holds;
	*expired = bus->holds_expired;
}

void bus_pressure_expired(struct bus *bus)
{
	struct bus_sub *sub;

	bus->holds_expired++;
	TAILQ_FOREACH(sub, &bus->subs, entry)
	{
		if (!sub->pressing)
			continue;
		log_warn(sub->name,
			 "%zu events queued after a hold of the ingress: slower than "
			 "the ingress, its overflow is dropped until it catches up",
			 sub->queue.r.len);
		sub->slow = true;
		press(sub, false);
	}
}

void bus_press_stop(struct bus_sub *sub)
{
	press(sub, false);
}
