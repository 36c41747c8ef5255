/*
 * The bus's own types, shared by its files: bus.c (events, queues, windows,
 * accounts), bus_pressure.c (the pressure on the ingress) and bus_suspect.c
 * (the suspects of a crash with several events in flight). Nothing
 * outside the bus includes this; include bus.h first (its types are used
 * here, and including it from here would make bus and bus_int a cycle).
 */
#ifndef SS_BUS_INT_H
#define SS_BUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "ring.h"

#define BUS_POISON_KEEP 16
#define BUS_PATTERNS_MAX 64

/* One accepted event: its frame, shared by every queue that holds it. */
struct bus_event {
	struct bus *bus; /* whose byte count holds it */
	unsigned refs;
	int64_t id;
	size_t len;
	size_t data_off, data_len; /* where the data's serialisation sits in frame */
	bool platform;		   /* a platform event: for subscribers that take them */
	unsigned char *frame;	   /* header + body, sent as is */
	char type[];
};

struct bus_slot {
	struct bus_event *ev;
	unsigned attempts; /* crashes this event was being handled at */
	int64_t since_ms;  /* when it became the oldest in flight */
};

/* A FIFO of slots with a fixed capacity (ring.h does the arithmetic). */
struct bus_ring {
	struct bus_slot *slots;
	size_t bytes; /* of the slots' mapping */
	struct ring r;
};

/* A plugin's counts, kept by name for as long as the bus lives. */
struct bus_account {
	char *name;
	struct bus_sub_stats st;
	bool live; /* a subscriber holds it */
	TAILQ_ENTRY(bus_account) entry;
};

/*
 * The suspects of a crash (bus_suspect.c): the events a host had in flight,
 * unanswered, when it crashed or missed its deadline with more than one of
 * them. Any of them could have done it (a protocol-4 host may hold the acks
 * of events it handled while it runs the next ones' callbacks), so none is
 * charged with that crash; instead the subscriber's window is one until
 * each has been answered, set aside or gone, or has crashed a host alone,
 * when the crash names its event without doubt.
 */
struct bus_suspects {
	int64_t *ids;  /* in the order they were in flight */
	size_t n, cap; /* cap: the window (no crash has more in flight) */
};

struct bus_sub {
	struct bus *bus;
	struct bus_account *acct;
	size_t bytes;
	char *name;
	char **patterns;
	size_t npatterns;
	bool attached;
	bool platform; /* takes platform events (the plugin has admin) */
	bool declared; /* a ready host set the patterns */
	bool pressing; /* behind while serving: the ingress holds (bus_set_pressure) */
	bool slow;     /* pressed for a whole hold: not again until caught up */
	/*
	 * Fed from the outbox (bus_sub_push): a full queue is read again from
	 * the database later, so it never holds the ingress (a plugin behind
	 * must not slow the others' intake; the backlog bound sheds instead).
	 */
	bool durable;
	bus_ready_fn ready;
	void *ready_arg;
	struct bus_ring queue;
	struct bus_ring inflight;
	struct bus_suspects suspects; /* while any: a window of one */
	int64_t poison[BUS_POISON_KEEP];
	size_t npoison;
	TAILQ_ENTRY(bus_sub) entry;
};

struct bus {
	struct bus_options opts;
	int64_t next_id;	 /* of the next event this bus numbers itself */
	int64_t next_request_id; /* of the next other daemon -> host request */
	uint64_t accepted, shed;
	size_t bytes; /* of every live event */
	struct bus_hooks hooks;
	size_t pressing; /* subscribers pressing */
	uint64_t holds, holds_expired;
	void (*pressure)(bool on, void *arg);
	void *pressure_arg;
	TAILQ_HEAD(, bus_account) accounts;
	TAILQ_HEAD(, bus_sub) subs;
};

/* After a subscriber's queue, bytes or state changed: it starts or stops pressing. */
void bus_pressure_update(struct bus_sub *sub);
/* The subscriber stops pressing (it is going away). */
void bus_press_stop(struct bus_sub *sub);

/* Room for cap suspects; freed with bus_suspects_free. */
void bus_suspects_init(struct bus_suspects *s, size_t cap);
void bus_suspects_free(struct bus_suspects *s);

/*
 * A host crashed or hung with sub's in-flight events unanswered (at least
 * one). With exactly one, that one is charged: it is returned (and is no
 * suspect any more). With several, none is: they become the suspects (in
 * place of any left) and NULL is returned.
 */
struct bus_slot *bus_suspects_blame(struct bus_sub *sub);

/* Event id left the subscriber for good (answered, set aside, handed over). */
void bus_suspects_gone(struct bus_suspects *s, int64_t id);

/* How many events may be in flight: one while suspects are left, else cap. */
static inline size_t bus_suspects_window(const struct bus_suspects *s, size_t cap)
{
	return s->n > 0 ? 1 : cap;
}

#endif
