/*
 * Names the daemon and the host agree on: plugin names, event names and
 * subscription patterns (PROTOCOL.md, "Names").
 */
#ifndef SS_NAMES_H
#define SS_NAMES_H

#include <stdbool.h>

#define SS_NAME_MAX 63
#define SS_EVENT_NAME_MAX 128

/* The plugin path that names a plugin compiled into the host: "builtin:<name>". */
#define SS_BUILTIN_PREFIX "builtin:"

/* The name after SS_BUILTIN_PREFIX when path has it (maybe ""), else NULL. */
const char *name_builtin(const char *path);

/* ^[a-z0-9][a-z0-9-]{0,62}$ and not a reserved word ("marketplace"). */
bool name_plugin_valid(const char *name);

/*
 * A core event (session.created, user.login, ...) or a custom event
 * plugin.<plugin-name>.<event> where <event> is [a-z0-9_.-]+.
 */
bool name_event_valid(const char *name);

/* True when name is one of the core events of the guide. */
bool name_event_is_core(const char *name);

/*
 * A platform event: plugin.installed|enabled|disabled|uninstalled|crashed,
 * system.startup|shutdown. Only the daemon emits them (they are not event
 * names anyone may send), and only plugins with the admin permission
 * receive them.
 */
bool name_event_is_platform(const char *name);

/*
 * A subscription pattern: an event name or a platform event name, or a prefix ending in ".*"
 * (session.*, plugin.slack.*), or "*" for everything.
 */
bool name_pattern_valid(const char *pattern);

/* Whether event name matches pattern (both assumed valid). */
bool name_pattern_match(const char *pattern, const char *name);

#endif
