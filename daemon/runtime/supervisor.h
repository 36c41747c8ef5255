/*
 * The supervisor: makes the set of running plugin hosts match what it is
 * told to run. It spawns each host (fork+exec of streamspace-plugin-host),
 * speaks the protocol with it, enforces deadlines, detects crashes through
 * SIGCHLD, restarts with exponential backoff and gives up (state "failed")
 * after too many crashes in a window. It records why each host ended.
 */
#ifndef SS_SUPERVISOR_H
#define SS_SUPERVISOR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bus;
struct supervisor;

struct supervisor_options {
	const char *host_path; /* streamspace-plugin-host executable */
	struct cgroup *cgroup; /* delegated cgroup v2 for per-plugin limits, or NULL (borrowed) */
	bool strict;	       /* refuse a plugin when a sandbox layer is missing */
	bool sandbox_debug;    /* trap instead of kill, log the syscall (development only) */
	size_t max_frame;
	int handshake_timeout_ms;
	int event_timeout_ms;
	int ping_interval_ms;
	int ping_timeout_ms;
	int stop_timeout_ms;
	int backoff_initial_ms; /* first restart delay (default 100) */
	int backoff_max_ms;	/* cap (default 30000) */
	int crash_limit; /* crashes in crash_window_ms that mark the plugin failed (default 5) */
	int crash_window_ms; /* default 60000 */
};

/* What to run. Strings and objects are copied. */
struct plugin_spec {
	const char *name;	  /* plugin name (validated) */
	const char *path;	  /* absolute path of the .so */
	json_object *config;	  /* may be NULL: {} */
	json_object *permissions; /* array of strings, may be NULL: [] */
	uint64_t mem_limit;	  /* bytes, 0: default 256 MiB */
	/* Per-plugin deadline overrides (manifest "limits"); 0: the daemon's default. */
	int handshake_timeout_ms;
	int event_timeout_ms;
	/* Strings blanked out of the plugin's log lines (JSON array, may be NULL). */
	json_object *secrets;
};

struct supervisor *supervisor_new(struct event_base *base, struct bus *bus,
				  const struct supervisor_options *opts);
void supervisor_free(struct supervisor *sup);

/*
 * Starts a plugin, or restarts it with a new spec when it already runs
 * (upgrade). Returns 0, or -1 with a message in err.
 */
int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, char *err,
		   size_t errlen);

/*
 * Runs a plugin over a channel the caller already holds (its end of a
 * socketpair, consumed), with no process behind it: what the daemon does
 * with whatever a host sends, for the fuzz target and tests. -1 when the
 * name is invalid or taken.
 */
int supervisor_adopt(struct supervisor *sup, const struct plugin_spec *spec, int sock);

/* Stops a plugin gracefully and forgets it. Returns -1 when unknown. */
int supervisor_stop(struct supervisor *sup, const char *name);

/* Sends a new configuration to a running plugin (live, no restart when it can). */
int supervisor_configure(struct supervisor *sup, const char *name, json_object *config);

/* Replaces the strings blanked out of a plugin's log lines (a new config's). -1 when unknown. */
int supervisor_set_secrets(struct supervisor *sup, const char *name, json_object *secrets);

/* Whether the supervisor knows this plugin. */
bool supervisor_has(struct supervisor *sup, const char *name);

/* Runtime status of one plugin (new reference), or NULL when unknown. */
json_object *supervisor_status(struct supervisor *sup, const char *name);
/* Runtime status of every plugin, as an array (new reference). */
json_object *supervisor_status_all(struct supervisor *sup);

/* Delivers what is queued (up to timeout_ms), stops every host, then calls done. */
void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg),
			 void *arg);

/* Forwards SIGCHLD: reaps every exited host. Called from the daemon's signal event. */
void supervisor_reap(struct supervisor *sup);

#endif
