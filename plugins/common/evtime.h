/*
 * evtime: when an event happened, for the shipped plugins that keep records
 * over time (billing, compliance): the sender's data.timestamp (ISO 8601)
 * when it says, else the bus's time (ss_event_ts), else the clock.
 */
#ifndef SS_PLUGINS_EVTIME_H
#define SS_PLUGINS_EVTIME_H

#include <stdint.h>

#include <streamspace/plugin.h>

/* The event's time in ms since the epoch (UTC). */
int64_t evtime_of(const ss_event *ev);

#endif
