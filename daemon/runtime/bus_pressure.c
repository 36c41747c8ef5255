/*
 * The bus's pressure on the ingress (bus.h, bus_set_pressure): a plugin that
 * keeps up but fell behind asks the HTTP front end to hold new events, so
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
 * How far below half a pressing plugin must get before the hold lifts: a
 * quarter of the queue, but no more than this, so that what a hold asks of
 * a plugin does not grow with --queue-max. Draining 32,768 events of a
 * 65,536 queue took a fast plugin longer than a hold lasts on a busy
 * machine, and it was taken for slow; 1,024 events (or 4 MiB) is what any
 * plugin that keeps up drains well within a hold.
 */
#define BAND_EVENTS 1024
#define BAND_BYTES ((size_t)4 << 20)

static size_t band(size_t max, size_t cap)
{
	return max / 4 < cap ? max / 4 : cap;
}

/*
 * After the subscriber's queue or state changed: it presses from half of its
 * queue's bounds (in events or bytes) while its host is serving and it is not
 * known to be slow, and stops a band below (BAND_EVENTS); a slow one is
 * forgiven once it is down to a quarter, caught up on its own.
 */
void bus_pressure_update(struct bus_sub *sub)
{
	const struct bus_options *o = &sub->bus->opts;
	size_t n = sub->queue.r.len, b = sub->bytes;
	size_t half = o->queue_max / 2, bhalf = o->queue_bytes_max / 2;

	if (sub->durable)
		return;

	if (n <= o->queue_max / 4 && b <= o->queue_bytes_max / 4)
		sub->slow = false;
	if (sub->pressing &&
	    (!sub->attached || (n <= half - band(o->queue_max, BAND_EVENTS) &&
				b <= bhalf - band(o->queue_bytes_max, BAND_BYTES))))
		press(sub, false);
	else if (!sub->pressing && !sub->slow && sub->attached && (n >= half || b >= bhalf))
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
