/*
 * The --plugin plugins (config.h): whether the hosts' user can read them,
 * and starting them (at start-up and on SIGHUP).
 */
#ifndef SS_DEVPLUGINS_H
#define SS_DEVPLUGINS_H

struct config;
struct discovery;
struct egress;
struct jobs;
struct supervisor;

/*
 * Starts (or, on SIGHUP, restarts) every --plugin: name, permissions,
 * default config and limits from the manifest.json beside the .so when
 * there is one (a built-in's from the host's list, builtins), else the file
 * name and the read permissions a developer's plugin expects. A plugin
 * that cannot be run is logged and skipped; started (may be NULL) is told
 * the name of each one the supervisor runs (main.c: its durable cursor).
 */
void devplugins_run(const struct config *cfg, const struct discovery *builtins,
		    struct egress *egress, struct jobs *jobs, struct supervisor *sup,
		    void (*started)(const char *name, void *arg), void *started_arg);

/*
 * Refuses (-1, each problem logged) when the hosts' user cannot read the
 * plugin directory (with a database) or a --plugin's directory or file;
 * 0 when it can. Blocks for one fork as root: call it before the reactor.
 */
int devplugins_readable(const struct config *cfg);

#endif
