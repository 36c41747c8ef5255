/*
 * isotime: UTC times as ISO 8601 text and back, in ms since the epoch, for
 * the shipped plugins (message timestamps, usage days, report ranges).
 * Computed here, not with gmtime_r/strftime/timegm: those may load
 * time-zone files, which the sandbox forbids (SIGSYS).
 */
#ifndef SS_PLUGINS_ISOTIME_H
#define SS_PLUGINS_ISOTIME_H

#include <stdbool.h>
#include <stdint.h>

#define ISOTIME_DAY_MS 86400000LL

/* ms as "2026-12-01T18:00:00.250Z" into out (at least 25 bytes); years outside 0-9999 clamp. */
void isotime_format(int64_t ms, char out[25]);

/* The UTC day of ms as "2026-12-01" into out (at least 11 bytes). */
void isotime_day(int64_t ms, char out[11]);

/* The start (00:00:00.000Z) of the UTC day holding ms. */
int64_t isotime_day_start(int64_t ms);

/*
 * Parses s into *ms: a date "2026-12-01" (its midnight, UTC), or a date and
 * time "2026-12-01T18:00", ":05", ".123" (any number of fraction digits,
 * kept to ms), with "Z", "+hh:mm", "-hh:mm" or nothing (UTC); 't', 'z' and a
 * space for 'T' are accepted (RFC 3339). False for anything else,
 * including out-of-range fields ("2026-02-30").
 */
bool isotime_parse(const char *s, int64_t *ms);

#endif
