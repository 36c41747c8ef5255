/*
 * Platform events (PROTOCOL.md, "Platform events"): the daemon's own
 * transitions published on the bus for plugins with the admin permission
 * (bus_publish_platform, or the outbox with a database): plugin.crashed
 * when a host crashed (seen through a supervisor watcher), system.startup
 * once the plugins started at boot have finished starting, system.shutdown
 * when the daemon is asked to stop. The plugin.installed|upgraded|enabled|
 * disabled|uninstalled events of the registry are the database's own
 * (ss_plugin_announce, migration 0008), not this module's.
 * A platform event about a plugin never reaches that plugin, so no plugin
 * can loop on its own crash.
 */
#ifndef SS_PLATFORM_H
#define SS_PLATFORM_H

#include <json-c/json.h>
#include <stdbool.h>

struct bus;
struct event_base;
struct event_sink;
struct platform;
struct supervisor;

/* Watches sup for crashes (supervisor_watch) and publishes on bus; all borrowed. */
struct platform *platform_new(struct event_base *base, struct bus *bus, struct supervisor *sup,
			      const char *daemon_version);
/* Stops watching. NULL is fine. */
void platform_free(struct platform *pl);

/*
 * With a database, platform events go to sink (borrowed; NULL: the bus
 * again): into the outbox, so one reaches each admin plugin once, through
 * the daemon delivering it, whichever daemon saw it.
 */
void platform_set_sink(struct platform *pl, const struct event_sink *sink);

/*
 * The daemon serves: system.startup is published once no plugin is
 * starting any more (every plugin started at boot is ready, crashed or
 * failed), and at the latest settle_ms from now.
 */
void platform_startup(struct platform *pl, int settle_ms);
/* The daemon is asked to stop (signal: "SIGTERM", "SIGINT"): system.shutdown, once. */
void platform_shutdown(struct platform *pl, const char *signal);

#endif
