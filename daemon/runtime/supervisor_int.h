/*
 * The supervisor's records, shared by its files (supervisor.c: processes and
 * verbs; supervisor_status.c: the stats and their JSON view). Not for other
 * modules: they use supervisor.h.
 */
#ifndef SS_SUPERVISOR_INT_H
#define SS_SUPERVISOR_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "backoff.h"
#include "bus.h"
#include "exitcause.h"
/*
 * supervisor.h comes first in both users (enum supervisor_state): not
 * included here, so the pair is no include cycle for check-structure.
 */

struct plugin {
	struct supervisor *sup;
	TAILQ_ENTRY(plugin) entry;

	/* What to run. */
	char *name, *path;
	json_object *config, *permissions;
	uint64_t mem_limit;
	int handshake_timeout_ms, event_timeout_ms;

	/* The current host: its process, its conversation, its two deaths. */
	enum supervisor_state state;
	int64_t state_since_ms, started_ms;
	uint64_t host_no; /* hosts started so far; the current one's number */
	pid_t pid;
	struct peer *peer;
	bool lost, reaped;
	int status;
	enum exit_cause cause; /* decided before the end completes, else from the status */
	char *reason;
	bool stop_requested, restart_after, remove_after;
	enum bus_drop remove_why;    /* what the queue's events are counted as when forgotten */
	struct event *stop_timer;    /* a host that does not exit in time is killed */
	struct event *restart_timer; /* the backoff delay after a crash */

	/* What the last host declared. */
	char *version;
	json_object *sandbox, *subscriptions;

	/* Accounting. */
	struct bus_sub *sub;
	struct hostlog *out;
	struct backoff backoff;
	uint64_t restarts, crashes, causes[CAUSE_COUNT];
	int next_delay_ms;
	struct {
		bool ended;
		enum exit_cause cause;
		int code, sig;
		char *description;
		json_object *stderr_tail;
	} last_exit;
	char *config_error;
	struct waitlist *waiters; /* runs waiting for a host's ready, by host number */

	/*
	 * Blue/green upgrade (supervisor_upgrade): the old record points at its
	 * successor (next_ver), which points back (prev_ver) and borrows the old
	 * one's bus subscriber until it is promoted into the list. switching: the
	 * successor is ready, delivery is paused, the old host is being stopped.
	 */
	struct plugin *next_ver, *prev_ver;
	bool switching;
};

/* A configuration sent to a serving host, waiting for its answer. */
struct config_wait {
	struct plugin *p;
	struct waiter *w;
	json_object *config;
};

struct supervisor {
	struct event_base *base;
	struct bus *bus;
	struct supervisor_options o;
	TAILQ_HEAD(, plugin) plugins;
	struct event *shutdown_timer;
	int64_t shutdown_deadline_ms;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	bool shutting_down;
	bool freeing; /* supervisor_free: no callback follows */
	struct {
		void (*fn)(void *arg, const char *name);
		void *arg;
	} watch[SUPERVISOR_WATCH_MAX]; /* supervisor_watch */
};

/*
 * What p's state shows changed (state, pid, counts, last exit), or p was
 * forgotten: tells the watcher (supervisor_status.c). Not for a successor
 * being started beside a serving host: the plugin's state is the serving
 * one's until the successor takes its place (and the old record goes).
 */
void supervisor_changed(struct plugin *p);

/* The plugin of this name in the list (a successor being started is not in it), or NULL. */
struct plugin *supervisor_find(struct supervisor *sup, const char *name);

#endif
