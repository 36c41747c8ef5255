/*
 * Internal to the supervisor module (supervisor.c, hostchan.c): a plugin's
 * record and the supervisor's. Nothing outside those two files includes it.
 */
#ifndef SS_SUPERVISOR_INT_H
#define SS_SUPERVISOR_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "backoff.h"
#include "exitcause.h"
#include "supervisor.h"

struct bufferevent;
struct bus_sub;
struct event;

#define READ_BUDGET 256	 /* frames handled per host per loop turn */
#define READ_CHUNK 16384 /* bytes read from one host per loop turn */
#define TICK_MS 100	 /* deadline checks */

enum pstate { ST_STARTING, ST_RUNNING, ST_STOPPING, ST_CRASHED, ST_FAILED, ST_STOPPED };

/* Where the handshake stands with the current host. */
enum hstate { HS_HELLO, HS_READY, HS_SERVING };

struct plugin {
	struct supervisor *sup;
	TAILQ_ENTRY(plugin) entry;

	/* What to run. */
	char *name;
	char *path;
	json_object *config;
	json_object *permissions;
	uint64_t mem_limit;
	int handshake_timeout_ms;
	int event_timeout_ms;

	/* The current host, if any. */
	enum pstate state;
	enum hstate hs;
	pid_t pid;
	struct bufferevent *chan; /* protocol socket */
	struct bufferevent *logp; /* stdout/stderr pipe */
	struct event *deadline;	  /* handshake, stop timeout or restart delay */
	struct event *tick;	  /* event and ping deadlines while serving */
	struct event *kick;	  /* deferred flush and read continuation */
	int64_t started_ms, state_since_ms, ready_ms;
	char *version;
	json_object *sandbox;
	json_object *subscriptions;
	int64_t ping_id, ping_sent_ms, last_ping_ms;
	int64_t config_id;

	/* What ended the host, decided before the kill when we killed it. */
	enum exit_cause pending_cause;
	char *pending_reason;
	bool stop_requested; /* graceful stop: no crash, no restart */
	bool restart_after;  /* graceful restart (upgrade, new config) */
	bool remove_after;   /* forget the plugin once its host is gone */

	/* Accounting. */
	struct bus_sub *sub;
	struct backoff backoff;
	uint64_t restarts, crashes, causes[CAUSE_COUNT];
	int next_delay_ms;
	struct {
		enum exit_cause cause;
		int code, sig;
		char *description;
		json_object *stderr_tail; /* the host's last output lines */
	} last_exit;
	struct hostlog *out;
	char *config_error;

	/* Waiting for the first host of a run to be ready, and for a config reply. */
	supervisor_done_fn run_done, cfg_done;
	void *run_arg, *cfg_arg;
	json_object *cfg_pending; /* in force once the plugin accepts it */
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
};

/* supervisor.c */
void plugin_set_state(struct plugin *p, enum pstate st);
/* Stops the host gracefully and starts it again (new files, new configuration). */
void plugin_restart(struct plugin *p);
/*
 * The plugin answered the configuration sent last: accepted (ok), refused
 * with msg, or it has no on_config hook (unimplemented: restart with it).
 */
void plugin_config_answer(struct plugin *p, bool ok, bool unimplemented, const char *msg);

/* hostchan.c: the protocol conversation with the current host. */
/* Sets up the channel on sock (the daemon's end of the socketpair). */
void host_open(struct plugin *p, int sock);
/* Queues one message (consumed) to the host. */
void host_send(struct plugin *p, json_object *m);
/* Ends the host now, recording why unless a reason was already decided. */
void host_kill(struct plugin *p, enum exit_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stops reading and writing, and the channel's timers. */
void host_close_io(struct plugin *p);
/* The bus has events for this plugin (bus_ready_fn). */
void host_bus_ready(struct bus_sub *sub, void *arg);
/* The plugin's kick and tick events. */
void host_kick_cb(int fd, short what, void *arg);
void host_tick_cb(int fd, short what, void *arg);

#endif
