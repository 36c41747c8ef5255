/*
 * One plugin the supervisor runs (supervisor.h): its record, at most one
 * current host (host.h), its state, crash history and backoff, the callers
 * waiting on it, the blue/green upgrade, and what a host's end means for
 * it. The types of the supervisor's API are defined here, below it; the
 * runner_* functions are the supervisor's alone.
 */
#ifndef SS_RUNNER_H
#define SS_RUNNER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "bus.h"
#include "exitcause.h"

struct call_services;
struct jobs;
struct cgroup;
struct event_base;
struct peer;
struct runner;
struct startq;

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
	int max_starting;    /* hosts starting at once, the others wait their turn (startq.h; 16) */
	const struct call_services *services; /* who answers hosts' calls (borrowed) */
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

/* A plugin's state, as status shows it ("starting", "running", ...). */
enum supervisor_state {
	SUP_STARTING,
	SUP_RUNNING,
	SUP_STOPPING,
	SUP_CRASHED,
	SUP_FAILED,
	SUP_STOPPED,
	SUP_STATE_COUNT
};
/* Typed runtime figures of one plugin; strings point into the supervisor (valid until it changes).
 */
struct supervisor_stats {
	const char *name;
	const char *version; /* NULL before the first hello */
	const char *path;
	enum supervisor_state state;
	int64_t state_for_ms;
	pid_t pid; /* 0 when no host runs */
	uint64_t restarts, crashes;
	uint64_t causes[CAUSE_COUNT]; /* crashes by cause (index CAUSE_NONE unused) */
	int restart_in_ms;	      /* when crashed: delay before the next start */
	struct bus_sub_stats events;
	uint64_t log_dropped, log_truncated;
	uint64_t mem_limit;
	int event_timeout_ms, handshake_timeout_ms;
	bool cgroup;			      /* the host runs in its own cgroup with limits */
	json_object *subscriptions, *sandbox; /* as the last host declared them (borrowed) */
	const char *config_error;	      /* the plugin's last refusal of a config, or NULL */
	const struct bus_sub *sub;	      /* its bus subscriber (poison list) */
	const struct jobs
	    *jobs; /* the scheduled jobs service (this plugin's: jobs_status), or NULL */
	struct {
		bool ended;	       /* a host of this plugin has ended before */
		enum exit_cause cause; /* CAUSE_NONE: stopped on purpose */
		int code, sig;	       /* exit status, or the signal (0: none) */
		const char *description;
		json_object *stderr_tail; /* its last output lines (borrowed) */
	} last_exit;
};

/*
 * Completion of a verb: ok, or the start or the configuration failed with
 * a sentence in reason (borrowed for the call). Always called from the event
 * loop, never before the verb returns, and exactly once per accepted call.
 */
typedef void (*supervisor_done_fn)(void *arg, bool ok, const char *reason);

#define SUPERVISOR_WATCH_MAX 4 /* supervisor_watch */

/* What the runners of one supervisor share (the supervisor's). */
struct runner_set {
	struct event_base *base;
	struct bus *bus;
	struct supervisor_options o;	      /* defaults filled in */
	struct startq *startq;		      /* the turns to start a host (o.max_starting) */
	TAILQ_HEAD(runner_list, runner) list; /* in the order first run */
	bool shutting_down;		      /* no restarts */
	bool freeing;			      /* supervisor_free: no callback follows */
	struct {
		void (*fn)(void *arg, const char *name);
		void *arg;
	} watch[SUPERVISOR_WATCH_MAX]; /* supervisor_watch */
};

/* The plugin of this name in the list (a successor being started is not in it), or NULL. */
struct runner *runner_find(struct runner_set *set, const char *name);
struct runner *runner_first(struct runner_set *set);
struct runner *runner_next(struct runner *p);

/* supervisor_run after the spec's checks: starts, upgrades or restarts the plugin. */
void runner_run(struct runner_set *set, const struct plugin_spec *spec, supervisor_done_fn done,
		void *arg);
/* supervisor_stop: stops the plugin and forgets it. */
void runner_stop(struct runner *p, enum bus_drop why);
/* supervisor_configure with config (an object). */
void runner_configure(struct runner *p, json_object *config, supervisor_done_fn done, void *arg);
void runner_set_secrets(struct runner *p, json_object *secrets);
/* Reaps the plugin's hosts that exited (its successor's first). */
void runner_reap(struct runner *p);
/* One shutdown step: stops the host (and no restart follows). Whether a host still runs. */
bool runner_shutdown_step(struct runner *p);
void runner_stats(const struct runner *p, struct supervisor_stats *st);
/* The plugin's last max log lines (hostlog_recent; new reference). */
json_object *runner_logs(const struct runner *p, size_t max);
/* The peer of the plugin's serving host (borrowed), or NULL when it is not running; *state. */
struct peer *runner_serving_peer(const struct runner *p, enum supervisor_state *state);
/* Forgets the plugin now; a host still running is killed and waited for (teardown). */
void runner_destroy(struct runner *p);

#endif
