/*
 * The supervisor: makes the set of running plugin hosts match what it is
 * told to run. It owns each host's process (spawn, pid, state, backoff, how
 * it last ended); the conversation over the host's socket is a peer
 * (peer.h). This is the set of plugins and the verbs by name; one plugin's
 * record is a runner (runner.h, where the types of this API are defined),
 * one host a host (host.h). A host's end completes when both have happened,
 * in either order: its peer reported the channel lost, and its pid was reaped. Then
 * the supervisor decides: a stop, a restart with exponential backoff after a
 * crash, or "failed" after too many crashes in a window or at once when the
 * plugin cannot be loaded (a deterministic failure no retry fixes).
 */
#ifndef SS_SUPERVISOR_H
#define SS_SUPERVISOR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner.h"

struct event_base;
struct bus;
struct supervisor;

/*
 * Hosts starting at once by default (--max-starting): a host's start is
 * CPU work (exec, every sandbox layer, dlopen, the handshake), so more at
 * once than a few per core only makes each one slower; 16 keeps a machine
 * with a few cores busy and leaves room for hosts that hang in their
 * handshake (each holds one turn until its deadline).
 */
#define SUPERVISOR_MAX_STARTING 16

struct supervisor *supervisor_new(struct event_base *base, struct bus *bus,
				  const struct supervisor_options *opts);
/* Kills every host still running and waits for it; no callback follows. */
void supervisor_free(struct supervisor *sup);

/*
 * Starts a plugin, or gives it a new spec when it is known. A serving
 * plugin is upgraded blue/green: a host with the new spec starts beside the
 * old one; once it is ready, delivery pauses, the old host answers the
 * events it has and stops (what it leaves unanswered is requeued), and the
 * new one takes over the same queue, so every event is handled once; done
 * is called then. If the new host ends before it is ready, the old one
 * serves on untouched and done says why. Otherwise (stopped, crashed,
 * failed) the plugin restarts with the new spec (a fresh crash history).
 * Returns -1 with a message in err when
 * the spec is refused (done is not called); else 0, and done (may be NULL)
 * says how the first host of this run did: ok when it is ready, or why it
 * could not start (the host binary failed to start, the plugin cannot be
 * loaded, the host ended before ready, or the plugin was stopped first).
 * A host ending before ready is still retried by the restart policy when it
 * crashed; done reports only the first host.
 */
int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, supervisor_done_fn done,
		   void *arg, char *err, size_t errlen);

/*
 * Stops a plugin gracefully and forgets it; the events still queued for it
 * are counted dropped for why (disabled, uninstalled). -1 when unknown.
 */
int supervisor_stop(struct supervisor *sup, const char *name, enum bus_drop why);

/*
 * Gives a plugin a new configuration (an object, borrowed). -1 when the
 * plugin is unknown or config not an object (done is not called). Else done
 * (may be NULL) gets the plugin's answer: a serving host is sent config and
 * its reply decides (rejected: reason is the plugin's message, and the old
 * configuration stays in force, also for later restarts); a plugin without
 * an on_config hook is restarted with it (done waits for that host's
 * ready); a plugin with no serving host takes it at its next start (ok at
 * once).
 */
int supervisor_configure(struct supervisor *sup, const char *name, json_object *config,
			 supervisor_done_fn done, void *arg);

/* Replaces the strings blanked out of a plugin's log lines (a new config's). -1 when unknown. */
int supervisor_set_secrets(struct supervisor *sup, const char *name, json_object *secrets);

/* Whether the supervisor knows this plugin. */
bool supervisor_has(struct supervisor *sup, const char *name);

const char *supervisor_state_name(enum supervisor_state st);

/* Fills out for name; -1 when unknown. */
int supervisor_stats(struct supervisor *sup, const char *name, struct supervisor_stats *out);
/* Calls fn for every plugin in the order they were first run. */
void supervisor_foreach(struct supervisor *sup,
			void (*fn)(const struct supervisor_stats *st, void *arg), void *arg);

/* Runtime status of one plugin (new reference, built from the stats), or NULL when unknown. */
json_object *supervisor_status(struct supervisor *sup, const char *name);
/* Runtime status of every plugin, as an array (new reference). */
json_object *supervisor_status_all(struct supervisor *sup);

/*
 * Watchers of what plugins' states show (at most SUPERVISOR_WATCH_MAX):
 * fn(arg, name) is called, from inside the supervisor, right after a
 * plugin's state, pid, restarts, crashes or last exit changed, or after it
 * was forgotten (supervisor_live is NULL then). It may read
 * (supervisor_live, supervisor_stats) and must not call a verb.
 */
typedef void (*supervisor_watch_fn)(void *arg, const char *name);
void supervisor_watch(struct supervisor *sup, supervisor_watch_fn fn, void *arg);
void supervisor_unwatch(struct supervisor *sup, supervisor_watch_fn fn, void *arg);
/*
 * The small view of a plugin's state a live client needs (new reference):
 * name, version, state, pid, restarts, crashes, restart_in_ms when crashed,
 * last_exit without its output lines; NULL when unknown.
 */
json_object *supervisor_live(struct supervisor *sup, const char *name);
/* The plugin's last max log lines (hostlog_recent; new reference), or NULL when unknown. */
json_object *supervisor_logs(struct supervisor *sup, const char *name, size_t max);

/*
 * The peer of name's serving host, for a call of one of its HTTP routes
 * (borrowed: valid until the loop runs again). -1 when the supervisor does
 * not know name; else 0 with *state, and *peer NULL unless the plugin is
 * running and its host serves (starting, restarting, stopping: no peer).
 */
struct peer;
int supervisor_serving_peer(struct supervisor *sup, const char *name, struct peer **peer,
			    enum supervisor_state *state);

/* Delivers what is queued (up to timeout_ms), stops every host, then calls done. */
void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg),
			 void *arg);

/*
 * Forwards SIGCHLD: reaps every host that exited, by pid (waitpid(pid,
 * WNOHANG) for each host it started; other children are their owners' to reap).
 */
void supervisor_reap(struct supervisor *sup);

#endif
