/*
 * Callers waiting for the outcome of something that takes a while (a
 * plugin's first ready, a configuration's answer): each is answered exactly
 * once, always from the event loop, never from inside the call that
 * decides, so the caller's callback may start the next step safely.
 */
#ifndef SS_WAITER_H
#define SS_WAITER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct waiter;
struct waitlist;

/* ok, or why not in a sentence (borrowed for the call). */
typedef void (*waiter_fn)(void *arg, bool ok, const char *reason);

/* A waiter on its own (done may be NULL: the outcome is then only consumed). */
struct waiter *waiter_new(struct event_base *base, waiter_fn done, void *arg);
/* Answers it from the loop and frees it afterwards (also when it is in a list). */
void waiter_answer(struct waiter *w, bool ok, const char *reason);

/* Waiters for outcomes numbered from a given one on (host starts). */
struct waitlist *waitlist_new(void);
/* Frees the list and every waiter still in it, answering none. NULL is fine. */
void waitlist_free(struct waitlist *wl);
/* Puts w (not in a list) in wl, to be answered by outcome number from or later. */
void waitlist_add(struct waitlist *wl, struct waiter *w, uint64_t from);
/* Answers every waiter in wl waiting for outcome n or an earlier one. */
void waitlist_answer_upto(struct waitlist *wl, uint64_t n, bool ok, const char *reason);
/* Answers every waiter in wl. */
void waitlist_answer_all(struct waitlist *wl, bool ok, const char *reason);

#endif
