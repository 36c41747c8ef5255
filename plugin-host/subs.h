/*
 * The plugin's subscriptions: (pattern, callback) pairs in the order the
 * plugin made them, and the dispatch of one event name to every matching
 * callback. Pure logic, no I/O, so it is unit-tested on its own.
 */
#ifndef SS_HOST_SUBS_H
#define SS_HOST_SUBS_H

#include <json-c/json.h>
#include <stddef.h>
#include <streamspace/plugin.h>

/* More than this many subscriptions would not fit a sensible ready message. */
#define SUBS_MAX 256

struct subs;

struct subs *subs_new(void);
void subs_free(struct subs *s);

/*
 * Adds (pattern, fn). Returns 1 when added, 0 when that exact pair was already
 * there, -1 when the pattern is invalid, fn is NULL or the table is full.
 */
int subs_add(struct subs *s, const char *pattern, ss_event_fn fn);

/* Removes every pair with this pattern (the daemon refused it); returns how many. */
size_t subs_remove(struct subs *s, const char *pattern);

size_t subs_count(const struct subs *s);

/* Whether some pair already uses this pattern. */
int subs_has_pattern(const struct subs *s, const char *pattern);

/*
 * The index of the first pair at or after *pos whose pattern matches name, or
 * -1 when there is none; *pos is advanced past it. Start with *pos = 0.
 */
long subs_next_match(const struct subs *s, const char *name, size_t *pos);

ss_event_fn subs_fn(const struct subs *s, size_t i);
const char *subs_pattern(const struct subs *s, size_t i);

/* A new JSON array of the distinct patterns, in first-subscribed order. */
json_object *subs_patterns_json(const struct subs *s);

#endif
