/*
 * walk: every storage key under a prefix, a page at a time, for the shipped
 * plugins' jobs and reports (compliance's retention run and report,
 * billing's usage job).
 */
#ifndef SS_PLUGINS_WALK_H
#define SS_PLUGINS_WALK_H

#include <streamspace/plugin.h>

/* Called per key: 1 to go on, 0 to stop, -1 on failure. */
typedef int (*walk_fn)(ss_plugin *p, const char *key, void *arg);

/*
 * Calls visit for every key under prefix in byte order, starting after
 * cursor (NULL: from the first). Returns 0, or -1 when storage fails
 * (logged) or visit does.
 */
int walk_keys(ss_plugin *p, const char *prefix, const char *cursor, walk_fn visit, void *arg);

#endif
