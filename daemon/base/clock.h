/*
 * Time as the daemon uses it: a monotonic clock in milliseconds for
 * deadlines and ages, the wall clock for timestamps that leave the process,
 * a millisecond count as the struct timeval libevent wants, and the one
 * doubling delay every retry loop (host restarts, database reconnects) uses.
 */
#ifndef SS_CLOCK_H
#define SS_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

/* Milliseconds on CLOCK_MONOTONIC: for deadlines, never for timestamps. */
int64_t clock_mono_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME): for timestamps sent to others. */
int64_t clock_real_ms(void);
/* ms (>= 0) as a struct timeval, for evtimer_add and friends. */
struct timeval clock_tv(int64_t ms);

/*
 * The delay after cur_ms in a doubling sequence: initial_ms first (cur_ms
 * 0), then twice the previous one, never more than max_ms.
 */
int clock_double_delay(int cur_ms, int initial_ms, int max_ms);

#endif
