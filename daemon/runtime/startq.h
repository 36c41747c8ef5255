/*
 * The start queue: at most a bound of plugin hosts starting at once
 * (spawned and not yet ready or ended), the others waiting their turn in
 * the order they asked. Many plugins started together (the daemon's start,
 * a SIGHUP, a registry that enables hundreds) then share the CPUs in
 * turns instead of all at once: a host's handshake deadline runs from its
 * spawn, so a host that waits for a turn is not timed out by the hundreds
 * in front of it, and a host that hangs in its handshake holds one turn
 * (until its deadline), never the rest.
 */
#ifndef SS_STARTQ_H
#define SS_STARTQ_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct startq;
struct startq_ticket;

/* A turn came for a ticket that waited: start its host now (from the event loop). */
typedef void (*startq_go_fn)(void *arg);

/* A queue allowing limit (at least 1) starts at once. */
struct startq *startq_new(struct event_base *base, size_t limit);
/* Frees the queue; its tickets must be freed first. NULL is fine. */
void startq_free(struct startq *q);

/* One plugin's place in the queue, reused for each of its starts. */
struct startq_ticket *startq_ticket_new(struct startq *q, startq_go_fn go, void *arg);
/* Gives back the turn it holds, or leaves the queue. NULL is fine. */
void startq_ticket_free(struct startq_ticket *t);

/*
 * Asks for a turn. true: the turn is taken now (also when the ticket held
 * one already): start the host. false: the ticket waits (or already
 * waited), and go(arg) is called from the loop when its turn comes.
 */
bool startq_take(struct startq_ticket *t);
/* The host started is ready or ended: gives the turn back; or leaves the queue. Else nothing. */
void startq_release(struct startq_ticket *t);
/* Whether the ticket waits for a turn. */
bool startq_waiting(const struct startq_ticket *t);

size_t startq_starting(const struct startq *q); /* turns taken */
size_t startq_queued(const struct startq *q);	/* tickets waiting */
size_t startq_limit(const struct startq *q);

#endif
