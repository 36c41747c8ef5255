/*
 * walk: every storage key under a prefix, a page at a time, for the shipped
 * plugins' jobs and reports (compliance's retention run and report,
 * billing's usage job, audit's listing and retention).
 */
#ifndef SS_PLUGINS_WALK_H
#define SS_PLUGINS_WALK_H

#include <streamspace/plugin.h>

/*
 * Hidden: the plugin host, which links this for the built-in audit plugin,
 * exports its symbols to the plugins it loads, and a plugin's own
 * walk_keys must stay its own.
 */
#define WALK_API __attribute__((visibility("hidden")))

/* Called per key: 1 to go on, 0 to stop, -1 on failure. */
typedef int (*walk_fn)(ss_plugin *p, const char *key, void *arg);

/*
 * Calls visit for every key under prefix in byte order, starting after
 * cursor (NULL: from the first). Returns 0, or -1 when storage fails
 * (logged) or visit does.
 */
WALK_API int walk_keys(ss_plugin *p, const char *prefix, const char *cursor, walk_fn visit,
		       void *arg);

/*
 * As walk_keys, in pages of page keys (1 to 1000), and at most max_pages
 * pages (0: no bound): a request's or a job's share of a large store.
 */
WALK_API int walk_keys_paged(ss_plugin *p, const char *prefix, const char *cursor, int page,
			     int max_pages, walk_fn visit, void *arg);

#endif
