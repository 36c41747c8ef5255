/*
 * The clock the log's rate limit counts seconds by (log.c), replaceable so
 * that a test can say which second each record falls in instead of hoping a
 * loop ends within one second on a loaded machine. The daemon never sets it.
 */
#ifndef SS_LOG_CLOCK_H
#define SS_LOG_CLOCK_H

#include <stdint.h>

/* now returns the current second; NULL: CLOCK_MONOTONIC's again. */
void log_set_clock(int64_t (*now)(void));

#endif
